"""Set functions: unique_all, unique_counts, unique_inverse, unique_values.

Not differentiable (as in PyTorch): their outputs never require grad. NaNs are
distinct from each other, as the standard requires.
"""

from __future__ import annotations

from collections import namedtuple

from .._tensor import _wrap, Tensor

UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def _run(name, x):
    if not isinstance(x, Tensor):
        from .._creation import asarray
        x = asarray(x)
    fn = getattr(x._device.xp, name, None)
    if fn is None:
        raise NotImplementedError(f"the {x._device.type} backend has no {name}")
    out = fn(x._data)
    if isinstance(out, tuple):
        return type(out)._fields, tuple(_wrap(o, x._device) for o in out)
    return None, _wrap(out, x._device)


def unique_all(x, /):
    """Unique values with first-occurrence indices, inverse indices (shape of
    ``x``) and counts."""
    return UniqueAllResult(*_run("unique_all", x)[1])


def unique_counts(x, /):
    """Unique values and how often each occurs."""
    return UniqueCountsResult(*_run("unique_counts", x)[1])


def unique_inverse(x, /):
    """Unique values and, for each element of ``x``, the index of its value."""
    return UniqueInverseResult(*_run("unique_inverse", x)[1])


def unique_values(x, /):
    """The unique values of ``x`` (1-D)."""
    return _run("unique_values", x)[1]
