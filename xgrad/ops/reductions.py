"""Reductions and statistics: sum, mean, max, min, prod, var, std.

Every reduction's gradient is the incoming gradient broadcast back over the
reduced axes (:func:`expand_reduced`), times the local derivative.
"""

from __future__ import annotations

import builtins

from .._tensor import unary
from ._registry import defop


_bmax = builtins.max  # this module defines its own max()


def normalize_axes(axis, ndim: int) -> tuple:
    """``axis`` (None, int or tuple, negatives allowed) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -_bmax(ndim, 1) <= a < _bmax(ndim, 1):
            raise IndexError(f"axis {a} is out of bounds for an array of dimension {ndim}")
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
    """A reduction's gradient (or result) broadcast back to the input's ``shape``."""
    if not keepdims:
        g = xp.reshape(g, kept_shape(shape, axis))
    return xp.broadcast_to(g, tuple(shape))


def _keep(xp, value, shape, axis, keepdims):
    return value if keepdims else xp.reshape(value, kept_shape(shape, axis))


# -- sum, mean -----------------------------------------------------------------------
SUM = defop("sum", lambda xp, x, *, axis=None, keepdims=False, dtype=None:
            xp.sum(x, axis=axis, keepdims=keepdims, dtype=dtype),
            (lambda xp, g, out, x, *, axis=None, keepdims=False, dtype=None:
             expand_reduced(xp, g, x.shape, axis, keepdims),), saves=())

MEAN = defop("mean", lambda xp, x, *, axis=None, keepdims=False: xp.mean(x, axis=axis, keepdims=keepdims),
             (lambda xp, g, out, x, *, axis=None, keepdims=False:
              expand_reduced(xp, g, x.shape, axis, keepdims) / _bmax(reduced_count(x.shape, axis), 1),),
             saves=())


# -- max, min: ties share the gradient equally (PyTorch's amax/amin convention) ---------
def _extreme_vjp(xp, g, out, x, *, axis=None, keepdims=False):
    hits = xp.astype(x == _keep(xp, out, x.shape, axis, keepdims), g.dtype)
    count = xp.sum(hits, axis=axis, keepdims=True)
    return expand_reduced(xp, g, x.shape, axis, keepdims) * hits / count


MAX = defop("max", lambda xp, x, *, axis=None, keepdims=False: xp.max(x, axis=axis, keepdims=keepdims),
            (_extreme_vjp,), saves=(0, "out"))
MIN = defop("min", lambda xp, x, *, axis=None, keepdims=False: xp.min(x, axis=axis, keepdims=keepdims),
            (_extreme_vjp,), saves=(0, "out"))


# -- prod: the product of the other elements, exact also where x has zeros -------------
def _prod_vjp(xp, g, out, x, *, axis=None, keepdims=False, dtype=None):
    is_zero = x == 0
    zeros = xp.sum(xp.astype(is_zero, x.dtype), axis=axis, keepdims=True)
    safe_x = xp.where(is_zero, 1.0, x)
    prod_nonzero = xp.prod(safe_x, axis=axis, keepdims=True)
    others = xp.where(zeros == 0, prod_nonzero / safe_x,
                      xp.where((zeros == 1) & is_zero, prod_nonzero, 0.0))
    return expand_reduced(xp, g, x.shape, axis, keepdims) * others


PROD = defop("prod", lambda xp, x, *, axis=None, keepdims=False, dtype=None:
             xp.prod(x, axis=axis, keepdims=keepdims, dtype=dtype), (_prod_vjp,))


# -- var, std ----------------------------------------------------------------------
def _centered(xp, x, axis):
    return x - xp.mean(x, axis=axis, keepdims=True)


def _var_vjp(xp, g, out, x, *, axis=None, correction=0.0, keepdims=False):
    dof = _bmax(reduced_count(x.shape, axis) - correction, 0)
    return expand_reduced(xp, g, x.shape, axis, keepdims) * (2.0 / dof) * _centered(xp, x, axis)


def _std_vjp(xp, g, out, x, *, axis=None, correction=0.0, keepdims=False):
    dof = _bmax(reduced_count(x.shape, axis) - correction, 0)
    scale = expand_reduced(xp, g / (dof * out), x.shape, axis, keepdims)
    return scale * _centered(xp, x, axis)


VAR = defop("var", lambda xp, x, *, axis=None, correction=0.0, keepdims=False:
            xp.var(x, axis=axis, correction=correction, keepdims=keepdims), (_var_vjp,), saves=(0,))
STD = defop("std", lambda xp, x, *, axis=None, correction=0.0, keepdims=False:
            xp.std(x, axis=axis, correction=correction, keepdims=keepdims), (_std_vjp,),
            saves=(0, "out"))


def _params(**kwargs):
    return {k: v for k, v in kwargs.items() if v is not None and v is not False} or None


def sum(x, /, *, axis=None, dtype=None, keepdims=False):
    """Sum of the elements over ``axis`` (all by default)."""
    return unary(SUM, x, _params(axis=axis, dtype=_native_dtype(x, dtype), keepdims=keepdims))


def mean(x, /, *, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    return unary(MEAN, x, _params(axis=axis, keepdims=keepdims))


def max(x, /, *, axis=None, keepdims=False):
    """Largest element over ``axis``; ties share the gradient equally."""
    return unary(MAX, x, _params(axis=axis, keepdims=keepdims))


def min(x, /, *, axis=None, keepdims=False):
    """Smallest element over ``axis``; ties share the gradient equally."""
    return unary(MIN, x, _params(axis=axis, keepdims=keepdims))


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    """Product of the elements over ``axis``."""
    return unary(PROD, x, _params(axis=axis, dtype=_native_dtype(x, dtype), keepdims=keepdims))


def var(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Variance over ``axis`` with ``correction`` degrees of freedom removed."""
    return unary(VAR, x, _params(axis=axis, correction=correction or None, keepdims=keepdims))


def std(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Standard deviation over ``axis`` with ``correction`` degrees of freedom removed."""
    return unary(STD, x, _params(axis=axis, correction=correction or None, keepdims=keepdims))


def _native_dtype(x, dtype):
    if dtype is None:
        return None
    from .._creation import native_dtype, as_tensor_arg
    return native_dtype(dtype, as_tensor_arg(x).device)
