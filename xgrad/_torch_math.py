"""PyTorch's pointwise, reduction and comparison functions beyond the array API
standard, with PyTorch's signatures (the PyTorch face).

Each public function is listed in ``__all__``; ``xgrad/__init__.py`` re-exports
them and this module attaches the matching ``Tensor`` methods at the bottom.
Everything here is a thin wrapper: the rules live in ``xgrad/ops`` (special
functions in ``ops/special.py``, scans in ``ops/scans.py``); the rest is
composed of differentiable ops, so gradients of every order and forward mode
come from their rules. Selections (``topk``, ``median``, ``cummax``, ...) are
``take_along_axis`` at positions computed without gradient, so their gradient
goes back to the selected positions, as in PyTorch.
"""

from __future__ import annotations

import builtins
import collections
import math
import warnings

from ._tensor import Tensor, _wrap, apply, binary
from ._creation import as_tensor_arg
from ._namespace import return_types  # (max, min, sort and aminmax's named tuples)
from .ops import elementwise as E
from .ops import nn as N
from .ops import reductions as R
from .ops import scans as SC
from .ops import special as S
from .ops.creation_ops import astype
from .ops.indexing import take_along_axis
from .ops.linalg import vector_norm
from .ops.manipulation import expand_dims, moveaxis, reshape, squeeze
from .ops.searching import clip, where
from .ops.sorting import argsort

__all__ = [
    # pointwise
    "erf", "erfc", "erfinv", "exp2", "rsqrt", "lerp", "logaddexp2", "xlogy", "logit", "sinc",
    "lgamma", "digamma", "polygamma", "mvlgamma", "igamma", "igammac", "i0", "sgn", "frac", "fmod", "heaviside",
    "nan_to_num", "clamp_min", "clamp_max", "deg2rad", "rad2deg", "float_power", "angle", "fix",
    "frexp", "ldexp", "conj_physical", "bitwise_not", "gradient", "arccosh", "arcsinh", "arctanh", "arctan2", "arccos",
    "arcsin", "arctan", "sigmoid", "softmax", "log_softmax", "logsumexp",
    # comparison
    "isclose", "allclose", "isin", "isreal", "isneginf", "isposinf", "fmax", "fmin", "eq", "ne",
    "lt", "le", "gt", "ge", "greater", "less", "topk", "kthvalue", "msort",
    # reductions and scans
    "cummax", "cummin", "logcumsumexp", "median", "nanmedian", "mode", "nansum", "nanmean",
    "std_mean", "var_mean", "aminmax", "quantile", "nanquantile", "dist", "unique_consecutive",
]

# PyTorch's named tuples (torch.return_types.*)
_topk = collections.namedtuple("topk", ["values", "indices"])
_kthvalue = collections.namedtuple("kthvalue", ["values", "indices"])
_median = collections.namedtuple("median", ["values", "indices"])
_nanmedian = collections.namedtuple("nanmedian", ["values", "indices"])
_mode = collections.namedtuple("mode", ["values", "indices"])
_cummax = collections.namedtuple("cummax", ["values", "indices"])
_cummin = collections.namedtuple("cummin", ["values", "indices"])
_aminmax = return_types.aminmax
_frexp = collections.namedtuple("frexp", ["mantissa", "exponent"])


# -- helpers ------------------------------------------------------------------------------------
def _t(x) -> Tensor:
    return as_tensor_arg(x)


def _float(x) -> Tensor:
    """``x`` as a tensor, integers and booleans promoted to the default float dtype."""
    x = _t(x)
    if x.dtype.is_inexact:
        return x
    from .config import get_default_dtype
    return astype(x, get_default_dtype())


def _const(x):
    """``x``'s data as a new tensor outside any graph (``detach`` without the view
    bookkeeping: used for values that only steer a computation)."""
    return _wrap(x._data, x._device) if isinstance(x, Tensor) else x


def _raw(x):
    """(backend namespace, raw array) of a tensor."""
    return x._device.xp, x._data


def _dims(dim):
    if isinstance(dim, list):
        return tuple(dim)
    return dim


def _one_dim(x, dim):
    """``dim`` as a non-negative int (a 0-d tensor has one implicit dim)."""
    n = builtins.max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _at_least_1d(x):
    return reshape(x, (1,)) if x.ndim == 0 else x


def _slice_raw(t, d, start, stop):
    """``t[..., start:stop, ...]`` along ``d`` for a tensor without gradient (indices)."""
    return _wrap(t._data[(slice(None),) * d + (slice(start, stop), Ellipsis)], t._device)


def _restore(v, x, keepdim):
    """A value reduced with keepdims from a 0-d input back to 0-d."""
    if x.ndim == 0:
        return reshape(v, ())
    return v


# -- pointwise ----------------------------------------------------------------------------------
def erf(input):
    """The error function."""
    return S.erf(_float(input))


def erfc(input):
    """1 - erf(input), accurate where erf is close to 1."""
    return S.erfc(_float(input))


def erfinv(input):
    """The inverse error function (nan outside [-1, 1])."""
    return S.erfinv(_float(input))


def exp2(input):
    """2 ** input."""
    return E.pow(2.0, _float(input))


def rsqrt(input):
    """1 / sqrt(input)."""
    return E.reciprocal(E.sqrt(_float(input)))


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)


_LN2 = math.log(2.0)


def logaddexp2(input, other):
    """log2(2 ** input + 2 ** other), without overflow."""
    return E.logaddexp(_float(input) * _LN2, _float(other) * _LN2) * (1.0 / _LN2)


def xlogy(input, other):
    """input * log(other), 0 where input is 0 (unless other is nan)."""
    return binary(S.XLOGY, *_float_pair(input, other))


def _float_pair(a, b):
    """Two operands as float tensors on one device (a Python number takes the
    other operand's dtype, as in PyTorch). Two tensors promote together first, then
    to a float: ``int64`` with ``float32`` is float32, as in PyTorch (not the default
    float dtype the integer alone would get)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return _float(a), _float(b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        from ._promotion import float_result, result_type
        dt = float_result(result_type(a, b))
        return (a if a.dtype == dt else astype(a, dt)), (b if b.dtype == dt else astype(b, dt))
    ref = _float(a if isinstance(a, Tensor) else b)
    def conv(v):
        if isinstance(v, Tensor):
            return _float(v)
        return _wrap(ref._device.xp.asarray(v, dtype=ref._data.dtype, device=ref._data.device),
                     ref._device)
    return conv(a), conv(b)


def logit(input, eps=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps]."""
    x = _float(input)
    if eps is not None:
        x = clip(x, eps, 1.0 - eps)
    return E.log(x / (1.0 - x))


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    x = _float(input)
    zero = x == 0
    safe = where(zero, 1.0, x) * math.pi
    return where(zero, 1.0, E.sin(safe) / safe)


def lgamma(input):
    """log |Gamma(input)|."""
    return S.lgamma(_float(input))


def digamma(input):
    """The logarithmic derivative of Gamma."""
    return S.digamma(_float(input))


def polygamma(n, input):
    """The n-th derivative of digamma."""
    return S.polygamma(n, _float(input))


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension ``p``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _float(input)
    out = S.lgamma(x)
    for j in range(1, p):
        out = out + S.lgamma(x - j / 2.0)
    return out + p * (p - 1) / 4.0 * math.log(math.pi)


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other) (differentiable in
    ``other``, as in PyTorch)."""
    return binary(S.GAMMAINC, *_float_pair(input, other))


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    return binary(S.GAMMAINCC, *_float_pair(input, other))


def i0(input):
    """The modified Bessel function of the first kind of order 0."""
    return S.i0(_float(input))


def sgn(input):
    """sign for real input; x / |x| (0 at 0) for complex input."""
    x = _t(input)
    if not x.dtype.is_complex:
        return E.sign(x)
    r = E.abs(x)
    zero = r == 0
    return where(zero, 0.0, x / where(zero, 1.0, r))


def frac(input):
    """The fractional part input - trunc(input) (sign of input)."""
    return input - E.trunc(input)


def fmod(input, other):
    """C's fmod: the remainder of the division, with the sign of ``input``."""
    return binary(S.FMOD, input, other)


def heaviside(input, values):
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (not
    differentiable, as in PyTorch)."""
    x = _const(_t(input))
    v = _const(values) if isinstance(values, Tensor) else values
    return where(x == 0, v, astype(x > 0, x.dtype))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0
    and the largest/smallest finite value of the dtype); gradient 1 elsewhere, 0 there."""
    x = _t(input)
    if not x.dtype.is_inexact:
        return x
    if x.dtype.is_complex:
        from .ops.elementwise import imag, real
        re, im = nan_to_num(real(x), nan, posinf, neginf), nan_to_num(imag(x), nan, posinf, neginf)
        return re + im * 1j
    info = x._device.xp.finfo(x._data.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = where(E.isnan(x), nan, x)
    out = where(x == math.inf, posinf, out)
    return where(x == -math.inf, neginf, out)


def clamp_min(input, min):
    """max(input, min) elementwise (PyTorch's ``clamp(min=)``)."""
    return clip(input, min, None)


def clamp_max(input, max):
    """min(input, max) elementwise (PyTorch's ``clamp(max=)``)."""
    return clip(input, None, max)


def deg2rad(input):
    """Degrees to radians."""
    return _float(input) * (math.pi / 180.0)


def rad2deg(input):
    """Radians to degrees."""
    return _float(input) * (180.0 / math.pi)


def float_power(input, exponent):
    """input ** exponent in double precision (complex128 if either is complex)."""
    from ._dtypes import complex128, float64
    cplx = any(isinstance(v, complex) or (isinstance(v, Tensor) and v.dtype.is_complex)
               for v in (input, exponent))
    dt = complex128 if cplx else float64
    a = astype(_t(input), dt)
    b = astype(exponent, dt) if isinstance(exponent, Tensor) else exponent
    return E.pow(a, b)


def angle(input):
    """The argument of complex input; for real input 0 (pi where negative, nan at nan)."""
    x = _t(input)
    if x.dtype.is_complex:
        return E.atan2(E.imag(x), E.real(x))
    x = _float(x)
    out = astype(x < 0, x.dtype) * math.pi + _const(x) * 0.0
    return where(E.isnan(x), x, out)


def fix(input):
    """Round toward zero (``trunc``)."""
    return E.trunc(input)


def conj_physical(input):
    """The complex conjugate (a copy)."""
    return E.conj(input)


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, 0.5 <= |mantissa| < 1;
    the mantissa is differentiable as PyTorch's (d mantissa / dx = 2 ** -exponent)."""
    x = _const(_t(input))
    xp, a = _raw(x)
    mag = xp.abs(a)
    nonzero = (mag > 0) & xp.isfinite(a)
    safe = xp.where(nonzero, mag, 1.0)
    e = xp.floor(xp.log2(safe)) + 1
    # the log2 may round across a power of two: fix up by one
    low, high = _power_of_two_factors(xp, e, nonzero)
    m = a * low * high
    e = xp.where(xp.abs(m) >= 1, e + 1, xp.where(xp.abs(m) < 0.5, e - 1, e))
    e = xp.where(nonzero, e, 0.0)
    m = _t(input)  # times powers of two: exact
    for factor in _power_of_two_factors(xp, e, nonzero):
        m = m * astype(_wrap(factor, x._device), x.dtype)
    return _frexp(m, _wrap(xp.astype(e, xp.int32), x._device))


def _power_of_two_factors(xp, e, where):
    """2 ** -e as two factors (1 outside ``where``): 2 ** 1029 (for a subnormal) and
    2 ** -1024 (for the largest floats) are out of range as one."""
    half = xp.floor(e / 2)
    return tuple(xp.where(where, 2.0 ** -p, 1.0) for p in (half, e - half))


def ldexp(input, other):
    """input * 2 ** other."""
    other = _float(other) if isinstance(other, Tensor) else float(other)
    return _float(input) * E.pow(2.0, other)


bitwise_not = E.bitwise_invert


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Derivative estimates along ``dim`` (all dims by default): central differences
    inside, one-sided (``edge_order`` 1 or 2) at the ends. ``spacing``: a number, one
    number per dim, or one 1-D coordinate tensor per dim. Returns a tuple."""
    x = _float(input)
    if edge_order not in (1, 2):
        raise ValueError(f"torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(x.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [_one_dim(x, d) for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"a list of length {len(dims)} but got a list of length {len(spacing)}")
        spacings = list(spacing)
    else:
        spacings = [spacing] * len(dims)
    return tuple(_gradient_1d(x, d, h, edge_order) for d, h in zip(dims, spacings))


def _gradient_1d(x, d, h, edge_order):
    n = x.shape[d]
    if n < edge_order + 1:
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")

    def sl(start, stop=None):
        return x[(slice(None),) * d + (slice(start, stop), Ellipsis)]

    def shaped(v):  # a 1-D tensor of spacings along d, broadcast against x
        return reshape(v, (-1,) + (1,) * (x.ndim - d - 1))
    if isinstance(h, Tensor):  # coordinates
        c = _float(h)
        dx = c[1:] - c[:-1]
        hl, hr = shaped(dx[:-1]), shaped(dx[1:])
        inner = (hl * hl * sl(2) - hr * hr * sl(0, -2) + (hr * hr - hl * hl) * sl(1, -1)) / (hl * hr * (hl + hr))
        d0, d1 = c[1] - c[0], c[2] - c[1] if n > 2 else None
        e0, e1 = c[-2] - c[-3] if n > 2 else None, c[-1] - c[-2]
    else:
        inner = (sl(2) - sl(0, -2)) / (2.0 * h)
        d0 = d1 = e0 = e1 = h
    if edge_order == 1:
        first = (sl(1, 2) - sl(0, 1)) / d0
        last = (sl(-1) - sl(-2, -1)) / e1
    else:
        first = (-(2 * d0 + d1) / (d0 * (d0 + d1)) * sl(0, 1) + (d0 + d1) / (d0 * d1) * sl(1, 2)
                 - d0 / (d1 * (d0 + d1)) * sl(2, 3))
        last = (e1 / (e0 * (e0 + e1)) * sl(-3, -2) - (e1 + e0) / (e0 * e1) * sl(-2, -1)
                + (2 * e1 + e0) / (e1 * (e0 + e1)) * sl(-1))
    from .ops.manipulation import concat
    return concat([first, inner, last], axis=d)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The input with each run of equal consecutive elements (or slices along ``dim``)
    collapsed to one; optionally the run index of every element and the run lengths."""
    x = _t(input)
    xp, a = _raw(x)
    flat = dim is None
    if flat:
        a = xp.reshape(a, (-1,))
        d = 0
    else:
        if x.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _one_dim(x, dim)
    am = xp.moveaxis(a, d, 0)
    n = am.shape[0]
    if not flat and n and any(s == 0 for s in am.shape[1:]):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    if n == 0:
        change = xp.zeros((0,), dtype=xp.bool, device=a.device)
    else:
        diff = am[1:, ...] != am[:-1, ...]
        if diff.ndim > 1:
            m = 1
            for s in diff.shape[1:]:
                m *= s
            diff = xp.any(xp.reshape(diff, (n - 1, m)), axis=1)
        change = xp.concat([xp.ones((1,), dtype=xp.bool, device=a.device), diff])
    run = xp.cumulative_sum(xp.astype(change, xp.int64)) - 1
    starts = xp.nonzero(change)[0]
    if hasattr(starts, "compute_chunk_sizes"):  # Dask: the number of runs is data; learn it
        starts = starts.compute_chunk_sizes()
    out = xp.moveaxis(xp.take(am, starts, axis=0), 0, d)
    result = [_wrap(out, x._device)]
    if return_inverse:
        result.append(_wrap(xp.reshape(run, tuple(x.shape)) if flat else run, x._device))
    if return_counts:
        result.append(_wrap(_run_lengths(xp, starts, n, a.device), x._device))
    return result[0] if len(result) == 1 else tuple(result)


def _run_lengths(xp, starts, n, device):
    """The lengths of the runs that begin at ``starts`` in ``n`` sorted items (int64)."""
    if not n:
        return xp.zeros((0,), dtype=xp.int64, device=device)
    ends = xp.concat([starts[1:], xp.asarray([n], dtype=starts.dtype, device=device)])
    return xp.astype(ends - starts, xp.int64)


def unique_dim(input, dim, sorted=True, return_inverse=False, return_counts=False):  # noqa: A002
    """The distinct slices of ``input`` along ``dim``, sorted lexicographically (PyTorch
    sorts whatever ``sorted`` says); the inverse (the slice of the result each input slice
    equals, shape (size of dim,)) and the counts when asked for. No gradient (PyTorch's
    ``unique_dim`` has no derivative either)."""
    x = _t(input)
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _one_dim(x, dim)
    xp, a = _raw(x)
    am = xp.moveaxis(a, d, 0)
    n = am.shape[0]
    if n and any(s == 0 for s in am.shape[1:]):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    m = 1
    for s in am.shape[1:]:
        m *= s
    rows = xp.reshape(am, (n, m))
    keys = xp.astype(rows, xp.int64) if rows.dtype == xp.bool else rows
    order = xp.arange(n, dtype=xp.int64, device=a.device)
    for col in reversed(range(keys.shape[1])):  # stable sorts, last column first: lexicographic
        order = xp.take(order, xp.argsort(xp.take(keys[:, col], order, axis=0), stable=True),
                        axis=0)
    srt = xp.take(rows, order, axis=0)
    if n:
        diff = xp.any(srt[1:, ...] != srt[:-1, ...], axis=1)
        change = xp.concat([xp.ones((1,), dtype=xp.bool, device=a.device), diff])
    else:
        change = xp.zeros((0,), dtype=xp.bool, device=a.device)
    starts = xp.nonzero(change)[0]
    if hasattr(starts, "compute_chunk_sizes"):  # Dask: the number of slices is data
        starts = starts.compute_chunk_sizes()
    values = xp.moveaxis(xp.take(am, xp.take(order, starts, axis=0), axis=0), 0, d)
    result = [_wrap(values, x._device)]
    if return_inverse:
        group = xp.cumulative_sum(xp.astype(change, xp.int64)) - 1
        result.append(_wrap(xp.take(group, xp.argsort(order), axis=0), x._device))
    if return_counts:
        result.append(_wrap(_run_lengths(xp, starts, n, a.device), x._device))
    return result[0] if len(result) == 1 else tuple(result)


arccosh, arcsinh, arctanh = E.acosh, E.asinh, E.atanh
arccos, arcsin, arctan, arctan2 = E.acos, E.asin, E.atan, E.atan2
sigmoid = N.sigmoid


def _softmax_input(input, dtype):
    x = _t(input)
    if dtype is not None:
        return astype(x, dtype)
    return _float(x)


def softmax(input, dim, dtype=None):
    """exp(input) / sum(exp(input)) along ``dim``."""
    x = _softmax_input(input, dtype)
    return _softmax0(x, dim, N.softmax)


def log_softmax(input, dim, dtype=None):
    """log(softmax(input)) along ``dim``, computed stably."""
    x = _softmax_input(input, dtype)
    return _softmax0(x, dim, N.log_softmax)


def _softmax0(x, dim, fn):
    if x.ndim == 0:
        _one_dim(x, dim)
        return reshape(fn(reshape(x, (1,)), axis=0), ())
    return fn(x, axis=_one_dim(x, dim))


def logsumexp(input, dim=None, keepdim=False):
    """log(sum(exp(input))) over ``dim`` (an int or a tuple; all dims if None)."""
    x = _float(input)
    if x.ndim == 0:
        return x + 0.0
    dims = _dims(dim)
    if dims == ():
        dims = None
    return N.logsumexp(x, axis=dims, keepdims=keepdim)


# -- comparison -----------------------------------------------------------------------------------
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (inf equals inf)."""
    a, b = _const(_t(input)), _const(_t(other)) if isinstance(other, Tensor) else other
    close = E.abs(a - b) <= atol + rtol * E.abs(b)
    close = (a == b) | (close & E.isfinite(a) & E.isfinite(b) if isinstance(b, Tensor)
                        else close & E.isfinite(a))
    if equal_nan:
        close = close | (E.isnan(a) & E.isnan(b) if isinstance(b, Tensor) else E.isnan(a) & (b != b))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    c = isclose(input, other, rtol, atol, equal_nan)
    xp, raw = _raw(c)
    return bool(xp.all(raw))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements``."""
    if not isinstance(elements, Tensor):
        ref = test_elements if isinstance(test_elements, Tensor) else None
        elements = as_tensor_arg(elements) if ref is None else \
            _wrap(ref._device.xp.asarray(elements, device=ref._data.device), ref._device)
    e = _const(elements)
    xp, a = _raw(e)
    if isinstance(test_elements, Tensor):
        t = xp.reshape(_const(test_elements)._data, (-1,))
    else:
        t = xp.reshape(xp.asarray(test_elements, device=a.device), (-1,))
    hit = xp.any(xp.expand_dims(a, axis=-1) == t, axis=-1) if t.shape[0] else xp.zeros(a.shape, dtype=xp.bool, device=a.device)
    return _wrap(~hit if invert else hit, e._device)


def isreal(input):
    """True where the imaginary part is 0 (everywhere for real dtypes)."""
    x = _const(_t(input))
    xp, a = _raw(x)
    if x.dtype.is_complex:
        return _wrap(xp.imag(a) == 0, x._device)
    return _wrap(xp.ones(a.shape, dtype=xp.bool, device=a.device), x._device)


def isneginf(input):
    """True where ``input`` is -inf."""
    x = _t(input)
    return x == -math.inf if x.dtype.is_inexact else isreal(x) & False


def isposinf(input):
    """True where ``input`` is +inf."""
    x = _t(input)
    return x == math.inf if x.dtype.is_inexact else isreal(x) & False


def fmax(input, other):
    """maximum that ignores NaN (NaN only where both are NaN); ties send the
    gradient to ``input``, as PyTorch does."""
    a, b = _t(input), other
    take_a = (a >= b) | E.isnan(b) if isinstance(b, Tensor) else (a >= b) | (b != b)
    return where(take_a, a, b)


def fmin(input, other):
    """minimum that ignores NaN (NaN only where both are NaN)."""
    a, b = _t(input), other
    take_a = (a <= b) | E.isnan(b) if isinstance(b, Tensor) else (a <= b) | (b != b)
    return where(take_a, a, b)


eq, ne, lt, le, gt, ge = E.equal, E.not_equal, E.less, E.less_equal, E.greater, E.greater_equal
greater, less = E.greater, E.less


def _select(x, indices, dim, keepdim):
    """Values at ``indices`` (kept dim of size 1) along ``dim``, and the indices."""
    values = take_along_axis(x, indices, axis=dim)
    if not keepdim:
        values, indices = squeeze(values, axis=dim), squeeze(indices, axis=dim)
    return values, indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim``: (values, indices)."""
    x = _t(input)
    x1 = _at_least_1d(x)
    d = _one_dim(x, dim)
    n = x1.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size {n})")
    order = argsort(x1, axis=d, descending=largest, stable=True)
    idx = _slice_raw(order, d, 0, k)
    values = take_along_axis(x1, idx, axis=d)
    if x.ndim == 0:
        values, idx = reshape(values, ()), reshape(idx, ())
    return _topk(values, idx)


def _nonempty_dim(x, d, name):
    """PyTorch's IndexError for a reduction without identity over an empty ``dim``."""
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{name}: Expected reduction dim {d} to have non-zero size.")


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (k counts from 1): (values, indices)."""
    x = _t(input)
    x1 = _at_least_1d(x)
    d = _one_dim(x, dim)
    _nonempty_dim(x, d, "kthvalue()")
    n = x1.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    order = argsort(x1, axis=d, stable=True)
    idx = _slice_raw(order, d, k - 1, k)
    v, i = _select(x1, idx, d, keepdim or x.ndim == 0)
    return _kthvalue(_restore(v, x, keepdim), _restore(i, x, keepdim))


def msort(input):
    """``input`` sorted along dim 0."""
    x = _t(input)
    return take_along_axis(x, argsort(x, axis=0, stable=True), axis=0)


# -- scans ---------------------------------------------------------------------------------------
def _running(input, dim, largest, cls):
    x = _t(input)
    x1 = _at_least_1d(x)
    d = _one_dim(x, dim)
    idx = SC.running_extreme_indices(x1, d, largest)
    values = take_along_axis(x1, idx, axis=d)
    if x.ndim == 0:
        values, idx = reshape(values, ()), reshape(idx, ())
    return cls(values, idx)


def cummax(input, dim):
    """Running maximum along ``dim``: (values, indices); ties take the latest index,
    a NaN propagates."""
    return _running(input, dim, True, _cummax)


def cummin(input, dim):
    """Running minimum along ``dim``: (values, indices)."""
    return _running(input, dim, False, _cummin)


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along ``dim``, without overflow."""
    x = _float(input)
    if x.ndim == 0:
        _one_dim(x, dim)
        return x + 0.0
    return SC.logcumsumexp(x, _one_dim(x, dim))


# -- reductions -------------------------------------------------------------------------------------
def _count_valid(xp, a, axis):
    return xp.sum(xp.astype(~xp.isnan(a), xp.int64), axis=axis, keepdims=True)


def _median_positions(x1, d, ignore_nan):
    """(positions in sorted order, sort order) of the lower median along ``d``; a row
    with a NaN gives its first NaN (``median``), or is skipped (``nanmedian``)."""
    order = argsort(x1, axis=d, stable=True)
    xp, a = _raw(_const(x1))
    n = a.shape[d]
    valid = _count_valid(xp, a, d)
    if ignore_nan:
        pos = xp.where(valid > 0, (valid - 1) // 2, 0)
    else:
        pos = xp.where(valid < n, valid, xp.full_like(valid, (n - 1) // 2))
    return _wrap(pos, x1._device), order


def _median_impl(input, dim, keepdim, ignore_nan, cls):
    x = _t(input)
    if dim is None:
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            if not x.dtype.is_inexact:  # (PyTorch returns an arbitrary integer)
                raise IndexError("median() input tensor cannot be empty")
            return R.sum(x) * float("nan")  # PyTorch: nan, a gradient of zeros
        pos, order = _median_positions(flat, 0, ignore_nan)
        v = take_along_axis(flat, take_along_axis(order, pos, axis=0), axis=0)
        v = _const(reshape(v, ()))
        # PyTorch spreads the gradient evenly over the elements equal to the median
        same = (x == v) | (E.isnan(x) & E.isnan(v))
        count = R.sum(astype(same, x.dtype)) if x.dtype.is_inexact else None
        if count is None:
            return v
        return v + R.sum(where(same, x - where(same, _const(x), 0), 0.0)) / count
    x1 = _at_least_1d(x)
    d = _one_dim(x, dim)
    _nonempty_dim(x, d, "median()")
    pos, order = _median_positions(x1, d, ignore_nan)
    idx = take_along_axis(order, pos, axis=d)
    v, i = _select(x1, idx, d, keepdim or x.ndim == 0)
    return cls(_restore(v, x, keepdim), _restore(i, x, keepdim))


def median(input, dim=None, keepdim=False):
    """The lower median (of all elements, or along ``dim``: (values, indices)); NaN if
    there is a NaN."""
    return _median_impl(input, dim, keepdim, False, _median)


def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` ignoring NaNs."""
    return _median_impl(input, dim, keepdim, True, _nanmedian)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest among ties) and the last
    index where it occurs: (values, indices)."""
    x = _t(input)
    x1 = _at_least_1d(x)
    d = _one_dim(x, dim)
    _nonempty_dim(x, d, "mode()")
    xp, a = _raw(_const(x1))
    am = xp.moveaxis(a, d, -1)
    n = am.shape[-1]
    s = xp.sort(am, axis=-1)
    counts = xp.sum(xp.astype(xp.expand_dims(s, axis=-1) == xp.expand_dims(s, axis=-2), xp.int64),
                    axis=-1)
    best = xp.argmax(counts, axis=-1, keepdims=True)  # the first = the smallest value
    value = xp.take_along_axis(s, best, axis=-1)
    positions = xp.arange(n, device=a.device)
    last = xp.max(xp.where(am == value, positions, -1), axis=-1, keepdims=True)
    idx = _wrap(xp.moveaxis(xp.astype(last, xp.int64), -1, d), x._device)
    v, i = _select(x1, idx, d, keepdim or x.ndim == 0)
    return _mode(_restore(v, x, keepdim), _restore(i, x, keepdim))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as 0."""
    x = _t(input)
    if x.dtype.is_inexact:
        x = where(E.isnan(x), 0.0, x)
    return R.sum(x, axis=_dims(dim), keepdims=keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements."""
    x = _t(input)
    if dtype is not None:
        x = astype(x, dtype)
    if not x.dtype.is_inexact:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {x.dtype}")
    valid = ~E.isnan(x)
    total = R.sum(where(valid, x, 0.0), axis=_dims(dim), keepdims=keepdim)
    return total / R.sum(astype(valid, x.dtype), axis=_dims(dim), keepdims=keepdim)


def _correction(args, correction, unbiased):
    """PyTorch's std/var overloads: (dim, unbiased, keepdim) or (unbiased,)."""
    if correction is not None:
        return correction
    if unbiased is not None:
        return 1 if unbiased else 0
    return 1


def _stat_mean(fn, input, dim, unbiased, keepdim, correction):
    x = _float(input)
    if isinstance(dim, bool):  # std_mean(input, unbiased)
        dim, unbiased = None, dim
    c = _correction(None, correction, unbiased)
    d = _dims(dim)
    return fn(x, axis=d, correction=c, keepdims=keepdim), R.mean(x, axis=d, keepdims=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``; PyTorch's default correction is 1."""
    return _stat_mean(R.std, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``; PyTorch's default correction is 1."""
    return _stat_mean(R.var, input, dim, unbiased, keepdim, correction)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all elements if None)."""
    x = _t(input)
    if dim is None and x.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dim is not None:
        _nonempty_dim(x, _one_dim(x, dim), "aminmax")
    return _aminmax(R.min(x, axis=dim, keepdims=keepdim), R.max(x, axis=dim, keepdims=keepdim))


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    x = _t(input)
    if x.numel() == 0:  # (PyTorch: any empty input, whatever dim)
        raise RuntimeError("quantile() input tensor must be non-empty")
    if not x.dtype.is_floating_point:
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"quantile() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    qt = _wrap(x._device.xp.asarray(q, dtype=x._data.dtype, device=x._data.device), x._device) \
        if scalar_q else _const(q)
    if qt.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    xp, qa = _raw(qt)
    if bool(xp.any((qa < 0) | (qa > 1))):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    if dim is None:
        src = reshape(x, (-1,))
        d = 0
    else:
        d = _one_dim(x, dim)
        src = _at_least_1d(x)
    moved = moveaxis(src, d, -1)
    n = moved.shape[-1]
    order = argsort(moved, axis=-1, stable=True)
    srt = take_along_axis(moved, order, axis=-1)
    xp, a = _raw(_const(moved))
    valid = _count_valid(xp, a, -1)                              # (..., 1)
    qv = xp.reshape(qa, (-1,))                                   # (Q,)
    if ignore_nan:
        last = xp.astype(valid - 1, qv.dtype)
    else:
        last = xp.astype(xp.full_like(valid, n - 1), qv.dtype)
    rank = qv * last                                             # (..., Q)
    if not ignore_nan:  # PyTorch: a row with a NaN reads its last sorted element (a NaN)
        rank = xp.where(valid < n, xp.astype(xp.full_like(valid, n - 1), qv.dtype), rank)
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)
    below = xp.astype(xp.floor(rank), xp.int64)
    above = xp.astype(xp.ceil(rank), xp.int64)
    below = xp.where(below < 0, 0, below)
    above = xp.where(above < 0, 0, above)
    weight = rank - xp.floor(rank)
    if interpolation == "midpoint":
        weight = xp.astype(above > below, rank.dtype) * 0.5
    dev = x._device
    lo = take_along_axis(srt, _wrap(below, dev), axis=-1)
    hi = take_along_axis(srt, _wrap(above, dev), axis=-1)
    w = _wrap(xp.astype(weight, a.dtype), dev)
    out = where(w < 0.5, lo + w * (hi - lo), hi - (hi - lo) * (1.0 - w))
    out = moveaxis(out, -1, 0)                                   # (Q, ...)
    if keepdim:
        if dim is None:
            out = reshape(out, (out.shape[0],) + (1,) * x.ndim)
        elif x.ndim:
            out = expand_dims(out, axis=d + 1)
    if scalar_q or qt.ndim == 0:
        out = squeeze(out, axis=0)
    return out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles (q a float or 1-D tensor in [0, 1]) along ``dim``."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` ignoring NaNs."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    return vector_norm(_float(input) - other, ord=p)


# -- Tensor methods ----------------------------------------------------------------------------------
from ._torch_shape import _method  # noqa: E402  (one way to make a function a method)


for _name in ("erf", "erfc", "erfinv", "exp2", "lerp", "logaddexp2", "xlogy", "logit", "sinc",
              "lgamma", "digamma", "mvlgamma", "i0", "sgn", "frac", "fmod", "heaviside",
              "nan_to_num", "clamp_min", "clamp_max", "deg2rad", "rad2deg", "float_power",
              "angle", "fix", "frexp", "ldexp", "conj_physical", "arccosh", "arcsinh", "arctanh",
              "softmax", "log_softmax", "logsumexp", "isclose", "allclose", "isreal", "isneginf",
              "isposinf", "fmax", "fmin", "topk", "kthvalue", "msort", "cummax", "cummin",
              "logcumsumexp", "median", "nanmedian", "mode", "nansum", "nanmean", "aminmax",
              "quantile", "nanquantile", "dist", "greater", "less"):
    setattr(Tensor, _name, _method(globals()[_name]))
Tensor.logaddexp = lambda self, other: E.logaddexp(self, other)
Tensor.igamma = lambda self, other: igamma(self, other)
Tensor.igammac = lambda self, other: igammac(self, other)
Tensor.hypot = lambda self, other: E.hypot(self, other)
Tensor.remainder = lambda self, other: E.remainder(self, other)
Tensor.floor_divide = lambda self, other: E.floor_divide(self, other)
Tensor.signbit = lambda self: E.signbit(self)
Tensor.polygamma = lambda self, n: polygamma(n, self)
Tensor.greater_equal = lambda self, other: E.greater_equal(self, other)
Tensor.less_equal = lambda self, other: E.less_equal(self, other)
Tensor.not_equal = lambda self, other: E.not_equal(self, other)
Tensor.absolute = lambda self: E.abs(self)
Tensor.positive = lambda self: E.positive(self)
Tensor.subtract = lambda self, other, *, alpha=1: E.subtract(self, other if alpha == 1 else other * alpha)
Tensor.copysign = lambda self, other: E.copysign(self, other)
Tensor.nextafter = lambda self, other: E.nextafter(self, other)
Tensor.logical_xor = lambda self, other: E.logical_xor(self, other)
Tensor.bitwise_not = lambda self: E.bitwise_invert(self)
Tensor.bitwise_and = lambda self, other: E.bitwise_and(self, other)
Tensor.bitwise_or = lambda self, other: E.bitwise_or(self, other)
Tensor.bitwise_xor = lambda self, other: E.bitwise_xor(self, other)
Tensor.bitwise_left_shift = lambda self, other: E.bitwise_left_shift(self, other)
Tensor.bitwise_right_shift = lambda self, other: E.bitwise_right_shift(self, other)
Tensor.unique_consecutive = lambda self, return_inverse=False, return_counts=False, dim=None: \
    unique_consecutive(self, return_inverse, return_counts, dim)


def _inplace_method(name):
    """``x.name_(...)``: ``x.name(...)`` written into ``x`` (through ``copy_``, so views,
    version counters and autograd see an ordinary in-place write)."""
    def method(self, *args, **kwargs):
        return self.copy_(getattr(self, name)(*args, **kwargs))
    method.__name__ = name + "_"
    method.__doc__ = f"In-place :meth:`Tensor.{name}`."
    return method


for _name in ("erf", "erfc", "erfinv", "exp2", "lerp", "logit", "sinc", "lgamma", "digamma",
              "polygamma", "mvlgamma", "i0", "sgn", "frac", "fmod", "remainder", "hypot",
              "heaviside", "nan_to_num", "clamp_min", "clamp_max", "deg2rad", "rad2deg",
              "float_power", "fix", "ldexp", "xlogy", "copysign", "nextafter", "logical_xor",
              "arccosh", "arcsinh", "arctanh", "floor_divide", "true_divide", "subtract",
              "igamma", "igammac", "rsqrt"):
    if not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _inplace_method(_name))
del _name
