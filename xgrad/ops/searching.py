"""Searching and selection: where, clip, argmax/argmin, nonzero, count_nonzero."""

from __future__ import annotations

from .._tensor import apply, unary
from ._registry import defop, LINEAR, ELEMENTWISE

WHERE = defop("where", lambda xp, c, x, y: xp.where(c, x, y),
              (None,
               lambda xp, g, out, c, x, y: xp.where(c, g, 0.0),
               lambda xp, g, out, c, x, y: xp.where(c, 0.0, g)),
              saves=(0,), broadcasts=True, grad_name="WhereBackward0", jvp=LINEAR)


def where(condition, x1, x2, /):
    """Elements of ``x1`` where ``condition`` holds, else of ``x2`` (scalars allowed)."""
    return apply(WHERE, (condition, x1, x2))


def _inside(x, lo, hi):
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


CLIP = defop("clip", lambda xp, x, lo, hi: xp.clip(x, lo, hi),
             (lambda xp, g, out, x, lo, hi: xp.where(_inside(x, lo, hi), g, 0.0),
              lambda xp, g, out, x, lo, hi: xp.where(x < lo, g, 0.0),
              lambda xp, g, out, x, lo, hi: xp.where(x > hi, g, 0.0)),
             broadcasts=True, grad_name="ClampBackward1", jvp=ELEMENTWISE)


def clip(x, /, min=None, max=None):
    """``x`` limited to ``[min, max]`` (either may be None, a scalar or a tensor);
    the gradient flows where ``x`` is inside the bounds."""
    if min is None and max is None:
        from .creation_ops import clone
        return clone(x)
    return apply(CLIP, (x, min, max))


ARGMAX = defop("argmax", lambda xp, x, *, axis=None, keepdims=False: xp.argmax(x, axis=axis, keepdims=keepdims))
ARGMIN = defop("argmin", lambda xp, x, *, axis=None, keepdims=False: xp.argmin(x, axis=axis, keepdims=keepdims))
COUNT_NONZERO = defop("count_nonzero", lambda xp, x, *, axis=None, keepdims=False:
                      xp.count_nonzero(x, axis=axis, keepdims=keepdims))


def argmax(x, /, *, axis=None, keepdims=False):
    """Index of the largest element (over the flattened array when ``axis`` is None)."""
    return unary(ARGMAX, x, {"axis": axis, "keepdims": keepdims})


def argmin(x, /, *, axis=None, keepdims=False):
    """Index of the smallest element (over the flattened array when ``axis`` is None)."""
    return unary(ARGMIN, x, {"axis": axis, "keepdims": keepdims})


def count_nonzero(x, /, *, axis=None, keepdims=False):
    """Number of non-zero elements over ``axis``."""
    return unary(COUNT_NONZERO, x, {"axis": axis, "keepdims": keepdims})


def nonzero(x, /):
    """A tuple of index arrays, one per axis, of the non-zero elements."""
    from .._tensor import _wrap
    if x.ndim == 0:
        raise ValueError("nonzero is not defined for 0-d arrays")
    return tuple(_wrap(a, x._device) for a in x._device.xp.nonzero(x._data))

