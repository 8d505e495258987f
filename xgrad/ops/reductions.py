"""Reductions and statistics: sum, mean, max, min, prod, var, std.

Every reduction's gradient is the incoming gradient broadcast back over the
reduced axes (:func:`expand_reduced`), times the local derivative.
"""

from __future__ import annotations

import builtins
import operator

from .._tensor import unary
from ._registry import defop, LINEAR, REDUCTION


_bmax = builtins.max  # this module defines its own max()


def normalize_axes(axis, ndim: int) -> tuple:
    """``axis`` (None, int or tuple, negatives allowed; any integer with ``__index__``,
    such as ``np.int64``) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(map(operator.index, axis))
    else:  # NumPy integers, 0-d integer tensors: anything with __index__
        axes = (operator.index(axis),)
    out = []
    for a in axes:
        if not -_bmax(ndim, 1) <= a < _bmax(ndim, 1):
            raise IndexError(f"axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def kept_shape(shape, axis) -> tuple:
    """``shape`` with the reduced axes set to 1 (the shape of a keepdims result)."""
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def reduced_count(shape, axis) -> int:
    n = 1
    for i in normalize_axes(axis, len(shape)):
        n *= shape[i]
    return n


def expand_reduced(xp, g, shape, axis, keepdims):
    """A reduction's gradient (or result) broadcast back to the input's ``shape``.

    Dimensions of ``g`` beyond the reduced result's are leading batch dimensions
    (batched backward, ``is_grads_batched``) and are kept."""
    kept = kept_shape(shape, axis)
    expected = len(shape) if keepdims else len(shape) - len(normalize_axes(axis, len(shape)))
    batch = tuple(g.shape[:g.ndim - expected]) if g.ndim > expected else ()
    if not keepdims or batch:
        g = xp.reshape(g, batch + kept)
    return xp.broadcast_to(g, batch + tuple(shape))


def _keep(xp, value, shape, axis, keepdims):
    return value if keepdims else xp.reshape(value, kept_shape(shape, axis))


# -- sum, mean -----------------------------------------------------------------------
SUM = defop("sum", lambda xp, x, *, axis=None, keepdims=False, dtype=None:
            xp.sum(x, axis=axis, keepdims=keepdims, dtype=dtype),
            (lambda xp, g, out, x, *, axis=None, keepdims=False, dtype=None:
             expand_reduced(xp, g, x.shape, axis, keepdims),), saves=(), jvp=LINEAR)

MEAN = defop("mean", lambda xp, x, *, axis=None, keepdims=False: xp.mean(x, axis=axis, keepdims=keepdims),
             (lambda xp, g, out, x, *, axis=None, keepdims=False:
              expand_reduced(xp, g, x.shape, axis, keepdims) / _bmax(reduced_count(x.shape, axis), 1),),
             saves=(), jvp=LINEAR)


# -- max, min: ties share the gradient equally (PyTorch's amax/amin convention) ---------
def _extreme_vjp(xp, g, out, x, *, axis=None, keepdims=False):
    hits = xp.astype(x == _keep(xp, out, x.shape, axis, keepdims), g.dtype)
    count = xp.sum(hits, axis=axis, keepdims=True)
    return expand_reduced(xp, g, x.shape, axis, keepdims) * hits / count


MAX = defop("max", lambda xp, x, *, axis=None, keepdims=False: xp.max(x, axis=axis, keepdims=keepdims),
            (_extreme_vjp,), saves=(0, "out"), jvp=REDUCTION)
MIN = defop("min", lambda xp, x, *, axis=None, keepdims=False: xp.min(x, axis=axis, keepdims=keepdims),
            (_extreme_vjp,), saves=(0, "out"), jvp=REDUCTION)


# -- prod: the product of the other elements, exact also where x has zeros -------------
def _prod_vjp(xp, g, out, x, *, axis=None, keepdims=False, dtype=None):
    from ._registry import is_backend_namespace
    from .elementwise import cj
    if is_backend_namespace(xp):  # first order: the cheap formula, exact in value
        is_zero = x == 0
        zeros = xp.sum(xp.astype(is_zero, x.dtype), axis=axis, keepdims=True)
        safe_x = xp.where(is_zero, 1.0, x)
        prod_nonzero = xp.prod(safe_x, axis=axis, keepdims=True)
        others = xp.where(zeros == 0, prod_nonzero / safe_x,
                          xp.where((zeros == 1) & is_zero, prod_nonzero, 0.0))
    else:  # recorded: a formula whose own derivatives are exact at zeros too
        others = _product_of_others(xp, x, axis)
    return expand_reduced(xp, g, x.shape, axis, keepdims) * cj(xp, others)


def _product_of_others(xp, x, axis):
    """``prod(x[i] for i != j)`` for every j over the reduced axes, without division:
    the exclusive running product from the left times the one from the right."""
    axes = normalize_axes(axis, x.ndim)
    if not axes or x.ndim == 0:  # (a 0-d x reduced over dim 0, as PyTorch allows)
        return xp.ones_like(x)
    kept = [i for i in range(x.ndim) if i not in axes]
    order = tuple(kept) + axes
    moved = xp.permute_dims(x, order)
    n = 1
    for a in axes:
        n *= x.shape[a]
    flat = xp.reshape(moved, tuple(moved.shape[:len(kept)]) + (n,))
    left = xp.cumulative_prod(flat, axis=-1, include_initial=True)[..., :-1]
    right = xp.flip(xp.cumulative_prod(xp.flip(flat, axis=-1), axis=-1, include_initial=True)[..., :-1],
                    axis=-1)
    others = xp.reshape(left * right, tuple(moved.shape))
    inverse = [0] * len(order)
    for i, a in enumerate(order):
        inverse[a] = i
    return xp.permute_dims(others, tuple(inverse))


PROD = defop("prod", lambda xp, x, *, axis=None, keepdims=False, dtype=None:
             xp.prod(x, axis=axis, keepdims=keepdims, dtype=dtype), (_prod_vjp,), jvp=REDUCTION)


# -- var, std ----------------------------------------------------------------------
def _centered(xp, x, axis):
    return x - xp.mean(x, axis=axis, keepdims=True)


def _var_vjp(xp, g, out, x, *, axis=None, correction=0.0, keepdims=False):
    dof = _bmax(reduced_count(x.shape, axis) - correction, 0)
    factor = 2.0 / dof if dof else float("inf")  # no degrees of freedom: nan/inf, as PyTorch
    return expand_reduced(xp, g, x.shape, axis, keepdims) * factor * _centered(xp, x, axis)


def _std_vjp(xp, g, out, x, *, axis=None, correction=0.0, keepdims=False):
    dof = _bmax(reduced_count(x.shape, axis) - correction, 0)
    # where std is 0 the gradient is taken as 0, as PyTorch's (no division by zero, also
    # in the recorded second order: the denominator is made safe first)
    safe = xp.where(out == 0, 1.0, out)
    scale = expand_reduced(xp, xp.where(out == 0, 0.0, g / (dof * safe)), x.shape, axis, keepdims)
    return scale * _centered(xp, x, axis)


VAR = defop("var", lambda xp, x, *, axis=None, correction=0.0, keepdims=False:
            xp.var(x, axis=axis, correction=correction, keepdims=keepdims), (_var_vjp,), saves=(0,),
            jvp=REDUCTION)
STD = defop("std", lambda xp, x, *, axis=None, correction=0.0, keepdims=False:
            xp.std(x, axis=axis, correction=correction, keepdims=keepdims), (_std_vjp,),
            saves=(0, "out"), jvp=REDUCTION)


def _params(**kwargs):
    return {k: v for k, v in kwargs.items() if v is not None and v is not False} or None


def sum(x, /, *, axis=None, dtype=None, keepdims=False):
    """Sum of the elements over ``axis`` (all by default)."""
    return _exact(unary(SUM, x, _params(axis=axis, dtype=_native_dtype(x, dtype), keepdims=keepdims)))


def _axis_of_0d(x, axis):
    """``axis`` for ``x``; for a 0-d ``x``, PyTorch's dim 0 / -1 become None (all of it)."""
    if axis is not None and getattr(x, "ndim", 1) == 0:
        normalize_axes(axis, 0)  # (validates: only 0 and -1 name the 0-d tensor itself)
        return None
    return axis


def mean(x, /, *, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    return unary(MEAN, x, _params(axis=_axis_of_0d(x, axis), keepdims=keepdims))


def max(x, /, *, axis=None, keepdims=False):
    """Largest element over ``axis``; ties share the gradient equally."""
    return unary(MAX, x, _params(axis=axis, keepdims=keepdims))


def min(x, /, *, axis=None, keepdims=False):
    """Smallest element over ``axis``; ties share the gradient equally."""
    return unary(MIN, x, _params(axis=axis, keepdims=keepdims))


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    """Product of the elements over ``axis``."""
    return _exact(unary(PROD, x, _params(axis=axis, dtype=_native_dtype(x, dtype), keepdims=keepdims)))


def var(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Variance over ``axis`` with ``correction`` degrees of freedom removed."""
    return unary(VAR, x, _params(axis=_axis_of_0d(x, axis), correction=correction or None,
                                 keepdims=keepdims))


def std(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Standard deviation over ``axis`` with ``correction`` degrees of freedom removed."""
    return unary(STD, x, _params(axis=_axis_of_0d(x, axis), correction=correction or None,
                                 keepdims=keepdims))


def _exact(out):
    """``out`` detached when an integer ``dtype=`` made it non-differentiable."""
    if out._requires_grad and not out.dtype.is_inexact:
        return out.detach()
    return out


def _native_dtype(x, dtype):
    if dtype is None:
        return None
    from .._creation import native_dtype, as_tensor_arg
    return native_dtype(dtype, as_tensor_arg(x).device)


# -- cumulative_sum, cumulative_prod ----------------------------------------------------
def _cum_axis(x, axis):
    if axis is None:
        if x.ndim > 1:
            raise ValueError("cumulative functions need axis= for arrays of more than one dimension")
        return 0
    return normalize_axes(axis, x.ndim)[0]


def _drop_initial(xp, g, axis, include_initial):
    """``g`` without the slot that ``include_initial=True`` added at the start of ``axis``."""
    if not include_initial:
        return g
    return g[(slice(None),) * axis + (slice(1, None), Ellipsis)]


def _reverse_cumsum(xp, g, axis):
    """``out[j] = sum(g[j:])`` along ``axis``."""
    return xp.flip(xp.cumulative_sum(xp.flip(g, axis=axis), axis=axis), axis=axis)


def _cumsum_vjp(xp, g, out, x, *, axis, dtype=None, include_initial=False):
    return _reverse_cumsum(xp, _drop_initial(xp, g, axis, include_initial), axis)


def _cumprod_vjp(xp, g, out, x, *, axis, dtype=None, include_initial=False):
    """Exact also with zeros: before the first zero ``sum(g*out)[j:] / x[j]``; at the
    first zero the same sum with that zero taken as 1; after it, 0."""
    from ._registry import is_backend_namespace
    g = _drop_initial(xp, g, axis, include_initial)
    if not is_backend_namespace(xp):
        return _cumprod_vjp_recorded(xp, g, x, axis)
    out = _drop_initial(xp, out, axis, include_initial)
    is_zero = x == 0
    zeros_so_far = xp.cumulative_sum(xp.astype(is_zero, xp.int64), axis=axis)
    before = zeros_so_far == 0
    first_zero = is_zero & (zeros_so_far == 1)
    from .elementwise import cj
    regular = _reverse_cumsum(xp, g * cj(xp, out), axis) / cj(xp, xp.where(before, x, 1.0))
    out_without = xp.cumulative_prod(xp.where(first_zero, 1.0, x), axis=axis)
    at_zero = _reverse_cumsum(xp, g * cj(xp, out_without), axis)
    return xp.where(before, regular, xp.where(first_zero, at_zero, 0.0))


def _cumprod_vjp_recorded(xp, g, x, axis):
    """The cumprod gradient with no division and no value-dependent masks, so that
    its own derivatives are exact at zeros too (O(n^2) along ``axis``; used only
    when the backward pass is recorded)."""
    from .elementwise import cj
    xm, gm = xp.moveaxis(x, axis, -1), xp.moveaxis(g, axis, -1)
    n = xm.shape[-1]
    r = xp.arange(n, device=x.device)
    row, col = xp.reshape(r, (n, 1)), xp.reshape(r, (1, n))
    # after[..., j, k] = prod(x[i] for j < i <= k)
    after = xp.cumulative_prod(xp.where(col <= row, 1.0, xp.expand_dims(xm, axis=-2)), axis=-1)
    weighted = xp.sum(xp.where(col >= row, xp.expand_dims(gm, axis=-2) * cj(xp, after), 0.0), axis=-1)
    before = xp.cumulative_prod(xm, axis=-1, include_initial=True)[..., :-1]
    return xp.moveaxis(cj(xp, before) * weighted, -1, axis)


CUMULATIVE_SUM = defop("cumulative_sum", lambda xp, x, *, axis, dtype=None, include_initial=False:
                       xp.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial),
                       (_cumsum_vjp,), saves=(), grad_name="CumsumBackward0", jvp=LINEAR)
CUMULATIVE_PROD = defop("cumulative_prod", lambda xp, x, *, axis, dtype=None, include_initial=False:
                        xp.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial),
                        (_cumprod_vjp,), saves=(0, "out"), grad_name="CumprodBackward0")


def _cumulative_of_0d(fn, x, axis, dtype):
    from .manipulation import reshape
    _axis_of_0d(x, 0 if axis is None else axis)
    return reshape(fn(reshape(x, (1,)), axis=0, dtype=dtype), ())


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running sums along ``axis`` (with a leading 0 when ``include_initial``)."""
    if getattr(x, "ndim", 1) == 0 and not include_initial:  # PyTorch: a 0-d x, dim 0 or -1
        return _cumulative_of_0d(cumulative_sum, x, axis, dtype)
    return _exact(unary(CUMULATIVE_SUM, x, {"axis": _cum_axis(x, axis), "dtype": _native_dtype(x, dtype),
                                            "include_initial": include_initial}))


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running products along ``axis`` (with a leading 1 when ``include_initial``);
    the gradient is exact also where ``x`` has zeros."""
    if getattr(x, "ndim", 1) == 0 and not include_initial:
        return _cumulative_of_0d(cumulative_prod, x, axis, dtype)
    return _exact(unary(CUMULATIVE_PROD, x, {"axis": _cum_axis(x, axis), "dtype": _native_dtype(x, dtype),
                                             "include_initial": include_initial}))
