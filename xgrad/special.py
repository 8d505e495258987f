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
