"""PyTorch's ``torch.special``: special functions with PyTorch's names and signatures.

The functions are written once against the array API standard
(``xgrad/ops/special.py``: series, Chebyshev and asymptotic expansions), so
they run on every device, and each is differentiable to any order where
PyTorch's is (``zeta`` in its second argument only, as in PyTorch).
"""

from __future__ import annotations

import math

from . import _torch_math as _m
from ._tensor import Tensor, apply, binary
from .ops import elementwise as _E
from .ops import nn as _N
from .ops import special as _S

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc",
           "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]

_f = _m._float

digamma = psi = _m.digamma
erf, erfc, erfinv, exp2 = _m.erf, _m.erfc, _m.erfinv, _m.exp2
gammaln = _m.lgamma
gammainc, gammaincc = _m.igamma, _m.igammac
i0 = _m.i0
logit = _m.logit
logsumexp = _m.logsumexp
multigammaln = _m.mvlgamma
polygamma = _m.polygamma
sinc = _m.sinc
xlogy = _m.xlogy


def erfcx(input):
    """The scaled complementary error function exp(x^2) erfc(x)."""
    return _S.erfcx(_f(input))


def expit(input):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    return _N.sigmoid(_f(input))


def expm1(input):
    """exp(x) - 1, accurate for small x."""
    return _E.expm1(_f(input))


def log1p(input):
    """log(1 + x), accurate for small x."""
    return _E.log1p(_f(input))


def i0e(input):
    """exp(-|x|) I_0(x)."""
    return _S.i0e(_f(input))


def i1(input):
    """The modified Bessel function of the first kind of order 1."""
    return _S.i1(_f(input))


def i1e(input):
    """exp(-|x|) I_1(x)."""
    return _S.i1e(_f(input))


def ndtr(input):
    """The standard normal CDF, 0.5 erfc(-x / sqrt(2))."""
    return 0.5 * _S.erfc(_f(input) * (-1.0 / math.sqrt(2.0)))


def ndtri(input):
    """The inverse of the standard normal CDF."""
    return _S.ndtri(_f(input))


def log_ndtr(input):
    """log of the standard normal CDF, accurate far into both tails."""
    return _S.log_ndtr(_f(input))


def entr(input):
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0."""
    return apply(_S.ENTR, (_f(input),))


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (unless other is nan)."""
    return binary(_S.XLOG1PY, *_m._float_pair(input, other))


def zeta(input, other):
    """The Hurwitz zeta function sum_k (other + k) ** -input."""
    return binary(_S.ZETA, *_m._float_pair(input, other))


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    return _m.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(x)) along ``dim``."""
    return _m.log_softmax(input, dim, dtype)


def round(input, *, decimals=0):  # noqa: A001
    """Round half to even, to ``decimals`` decimal places."""
    x = input if isinstance(input, Tensor) else _m._t(input)
    if decimals == 0:
        return _E.round(x)
    scale = 10.0 ** decimals
    return _E.round(x * scale) / scale


def spherical_bessel_j0(input):
    """sin(x) / x, 1 at 0."""
    x = _f(input)
    zero = x == 0
    safe = _m.where(zero, 1.0, x)
    return _m.where(zero, 1.0, _E.sin(safe) / safe)


# -- orthogonal polynomials (not differentiable, as in PyTorch) -------------------------------------
def _polynomial(name, first, step, transform=None, doc=""):
    """``name(input, n)``: P_0 = 1, P_1 = first(x), P_{k+1} = step(k, x, P_k, P_{k-1}),
    evaluated by the three-term recurrence up to the largest degree in ``n`` (an int or
    an integer tensor broadcast against ``input``); negative degrees give 0."""
    def fn(input, n):
        from ._creation import as_tensor_arg
        from ._tensor import _wrap
        x = _f(input)
        xp, a = x._device.xp, x._data
        if transform is not None:
            a = transform(a)
        if isinstance(n, Tensor):
            nd = n._data
            top = int(xp.max(nd)) if n.numel() else 0  # the recurrence's length (one host sync)
        else:
            nd, top = n, int(n)
        a, nd = (xp.broadcast_arrays(a, xp.astype(nd, a.dtype)) if isinstance(n, Tensor)
                 else (a, nd))
        prev, cur = xp.ones_like(a), first(a)
        out = xp.where(nd == 0, prev, xp.zeros_like(a)) if isinstance(n, Tensor) else None
        if not isinstance(n, Tensor):
            if top < 0:
                return _wrap(xp.zeros_like(a), x._device)
            if top == 0:
                return _wrap(prev, x._device)
        else:
            out = xp.where(nd == 1, cur, out)
        for k in range(1, top):
            prev, cur = cur, step(k, a, cur, prev)
            if isinstance(n, Tensor):
                out = xp.where(nd == k + 1, cur, out)
        return _wrap(out if isinstance(n, Tensor) else cur, x._device)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _shift(a):
    return 2.0 * a - 1.0


_cheb_step = lambda k, x, p, q: 2.0 * x * p - q  # noqa: E731
chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", lambda x: x, _cheb_step,
                                     doc="Chebyshev polynomial of the first kind T_n(x).")
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", lambda x: 2.0 * x, _cheb_step,
                                     doc="Chebyshev polynomial of the second kind U_n(x).")
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", lambda x: 2.0 * x - 1.0, _cheb_step,
                                     doc="Chebyshev polynomial of the third kind V_n(x).")
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", lambda x: 2.0 * x + 1.0, _cheb_step,
                                     doc="Chebyshev polynomial of the fourth kind W_n(x).")
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", lambda x: x, _cheb_step,
                                             _shift, "T_n(2x - 1).")
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", lambda x: 2.0 * x,
                                             _cheb_step, _shift, "U_n(2x - 1).")
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", lambda x: 2.0 * x - 1.0,
                                             _cheb_step, _shift, "V_n(2x - 1).")
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", lambda x: 2.0 * x + 1.0,
                                             _cheb_step, _shift, "W_n(2x - 1).")
hermite_polynomial_h = _polynomial("hermite_polynomial_h", lambda x: 2.0 * x,
                                   lambda k, x, p, q: 2.0 * x * p - 2.0 * k * q,
                                   doc="Physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = _polynomial("hermite_polynomial_he", lambda x: x,
                                    lambda k, x, p, q: x * p - k * q,
                                    doc="Probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", lambda x: 1.0 - x,
                                    lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1),
                                    doc="Laguerre polynomial L_n(x).")
legendre_polynomial_p = _polynomial("legendre_polynomial_p", lambda x: x,
                                    lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1),
                                    doc="Legendre polynomial P_n(x).")
modified_bessel_i0, modified_bessel_i1 = i0, i1

__all__ += ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
            "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
            "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
            "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
            "laguerre_polynomial_l", "legendre_polynomial_p", "modified_bessel_i0",
            "modified_bessel_i1"]


def modified_bessel_k0(input):
    """The modified Bessel function of the second kind of order 0 (differentiable)."""
    return apply(_S.K0, (_f(input),))


def modified_bessel_k1(input):
    """The modified Bessel function of the second kind of order 1 (differentiable)."""
    return apply(_S.K1, (_f(input),))


def scaled_modified_bessel_k0(input):
    """exp(x) K_0(x), which does not underflow."""
    return apply(_S.K0E, (_f(input),))


def scaled_modified_bessel_k1(input):
    """exp(x) K_1(x), which does not underflow."""
    return apply(_S.K1E, (_f(input),))


__all__ += ["modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
            "scaled_modified_bessel_k1"]


def bessel_j0(input):
    """The Bessel function of the first kind of order 0 (differentiable)."""
    return apply(_S.J0, (_f(input),))


def bessel_j1(input):
    """The Bessel function of the first kind of order 1 (differentiable)."""
    return apply(_S.J1, (_f(input),))


def bessel_y0(input):
    """The Bessel function of the second kind of order 0 (differentiable; nan below 0)."""
    return apply(_S.Y0, (_f(input),))


def bessel_y1(input):
    """The Bessel function of the second kind of order 1 (differentiable; nan below 0)."""
    return apply(_S.Y1, (_f(input),))


__all__ += ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"]


def airy_ai(input):
    """The Airy function Ai(x) (not differentiable, as in PyTorch)."""
    return apply(_S.AIRY_AI, (_f(input),))


__all__ += ["airy_ai"]
