"""Gather and scatter along a dimension (PyTorch's ``gather``, ``scatter*``,
``index_*``), built on the indexing ops so every result is differentiable to
any order.

* ``gather`` is ``take_along_axis`` (its VJP a scatter-add, whose VJP is a gather);
* ``scatter_add`` / ``index_add`` are one :data:`~xgrad.ops.indexing.INDEX_ADD`
  (VJPs: ``g`` for the target, ``g`` gathered at the key for the source);
* ``scatter`` / ``index_copy`` (replacing) are ``where(hit, placed, input)`` with
  ``placed`` a scatter-add divided by the number of writes per position (exact
  for the usual unique indices; PyTorch leaves duplicates unspecified);
* ``scatter_reduce`` with ``prod`` / ``amax`` / ``amin`` compares each index with
  every position along the dimension (memory: index size × dimension size) and
  reduces with the ordinary ``prod`` / ``max`` / ``min`` ops (ties share the
  gradient evenly, as in PyTorch).
"""

from __future__ import annotations

from .._tensor import Tensor, apply
from .indexing import INDEX_ADD, _along_axis_key


def raw(t):
    return t._data if isinstance(t, Tensor) else t


def along_key(shape, index: Tensor, dim):
    """The full integer key of positions ``index`` names along ``dim`` (other axes:
    their own coordinates), over the shape of ``index``."""
    return _along_axis_key(index._device.xp, tuple(index.shape), index._data, dim)


def index_key(ndim, dim, index: Tensor):
    """``(:, ..., index, ...)``: positions along ``dim`` for ``index_add``/``index_select``."""
    return (slice(None),) * dim + (index._data, Ellipsis)


def add_at(target: Tensor, key, values) -> Tensor:
    """``target`` with ``values`` added at integer ``key`` (repeats add up); differentiable
    in both."""
    return apply(INDEX_ADD, (target, values), {"key": key, "integer": True})
