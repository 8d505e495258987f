"""Sorting, and searching a sorted array: sort, argsort, searchsorted.

``sort`` is ``take_along_axis(x, argsort(x))``: its gradient goes back to the
positions the values came from, and is differentiable again.
"""

from __future__ import annotations

from .._tensor import apply, unary
from ._registry import defop
from .indexing import take_along_axis

ARGSORT = defop("argsort", lambda xp, x, *, axis=-1, descending=False, stable=True:
                xp.argsort(x, axis=axis, descending=descending, stable=stable))
SEARCHSORTED = defop("searchsorted", lambda xp, x1, x2, sorter, *, side="left":
                     xp.searchsorted(x1, x2, side=side, sorter=sorter))


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    """Indices that sort ``x`` along ``axis`` (ascending unless ``descending``)."""
    _check_sortable(x, axis)
    return unary(ARGSORT, x, {"axis": axis, "descending": descending, "stable": stable})


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """``x`` sorted along ``axis``; the gradient goes back to where each value came from."""
    _check_sortable(x, axis)
    return take_along_axis(x, argsort(x, axis=axis, descending=descending, stable=stable), axis=axis)


def _check_sortable(x, axis):
    if x.ndim == 0:
        raise ValueError("sort/argsort need an array of at least one dimension")
    if not -x.ndim <= axis < x.ndim:
        raise IndexError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    """Indices where ``x2``'s values would be inserted into the 1-D sorted ``x1``."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return apply(SEARCHSORTED, (x1, x2, sorter), {"side": side})
