"""Indexing: ``x[key]``, ``x[key] = v``, ``take``, ``take_along_axis``.

The gradient of reading ``x[key]`` is the incoming gradient added into zeros
at ``key`` (a scatter-add, so repeated integer indices add up). The scatter-add
itself is an op (:data:`INDEX_ADD`) whose gradient is indexing again, so
indexing is differentiable to any order.
"""

from __future__ import annotations

from .._tensor import Tensor, apply, unary
from ._registry import call, defop, is_backend_namespace, LINEAR


def normalize_key(key, device, ndim=None):
    """``key`` with tensors replaced by raw arrays (and lists by index arrays).

    With ``ndim``, a key that indexes fewer axes than the array has gets a
    trailing ``...`` (the standard requires it; NumPy and PyTorch imply it).
    Returns ``(raw_key, advanced, integer)``: whether the key holds arrays at
    all, and whether it holds integer arrays (whose repeats need a scatter-add).
    """
    parts = key if isinstance(key, tuple) else (key,)
    raw, advanced, integer = [], False, False
    consumed = 0
    for k in parts:
        if isinstance(k, Tensor):
            if k._device is not device:
                raise RuntimeError(f"indices are on {k.device} but the tensor is on {device}")
            k = k._data
        elif isinstance(k, list):
            from .._creation import asarray
            k = asarray(k, device=device)._data
        if hasattr(k, "shape") and hasattr(k, "dtype") and not isinstance(k, (int, bool)):
            advanced = True
            is_int = device.backend.from_native.get(k.dtype).kind != "b"
            integer = integer or is_int
            consumed += 1 if is_int else len(k.shape)
        elif k is not None and k is not Ellipsis:
            consumed += 1
        raw.append(k)
    if ndim is not None and consumed < ndim and not any(k is Ellipsis for k in raw):
        raw.append(Ellipsis)
        return tuple(raw), advanced, integer
    raw_key = tuple(raw) if isinstance(key, tuple) else raw[0]
    return raw_key, advanced, integer


def _copy(xp, x):
    return xp.asarray(x, copy=True)


def _index_add_forward(xp, target, values, *, key, integer):
    out = _copy(xp, target)
    if integer:
        xp.__xgrad_backend__.scatter_add(out, key, values)
    elif 0 in tuple(getattr(values, "shape", ())) and 0 in tuple(out[key].shape):
        pass  # nothing to add (Dask's __setitem__ refuses size-0 writes)
    else:
        out[key] += values
    return out


def _gather(xp, g, key, integer):
    """``g[key]`` in either mode (raw integer-array keys go through ``take``)."""
    if not (integer and is_backend_namespace(xp)):
        return g[key]
    axis = _take_axis(key, g.ndim)
    if axis is None:
        return xp.__xgrad_backend__.getitem(g, key)
    indices = next(k for k in (key if isinstance(key, tuple) else (key,)) if hasattr(k, "dtype"))
    shape = tuple(indices.shape)
    taken = xp.take(g, xp.reshape(indices, (-1,)), axis=axis)
    return xp.reshape(taken, tuple(g.shape[:axis]) + shape + tuple(g.shape[axis + 1:]))


INDEX_ADD = defop("index_add", _index_add_forward,
                  (lambda xp, g, out, target, values, *, key, integer: g,
                   lambda xp, g, out, target, values, *, key, integer: _gather(xp, g, key, integer)),
                  saves=(), broadcasts=True, grad_name="IndexPutBackward0", jvp=LINEAR)


def scatter_into_zeros(xp, shape, key, values, integer):
    """Zeros of ``shape`` with ``values`` added at ``key``, in either mode."""
    zeros = xp.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    if isinstance(key, tuple) and any(k is None for k in key):  # new axes: not in the target
        key = tuple(k for k in key if k is not None)
        values = xp.reshape(values, tuple(zeros[key].shape))
    if is_backend_namespace(xp):  # raw arrays: write straight into the fresh zeros
        if integer:
            xp.__xgrad_backend__.scatter_add(zeros, key, values)
        else:
            zeros[key] = values
        return zeros
    raw_key, _, _ = normalize_key(key, values.device, len(shape))
    return call(xp, INDEX_ADD, zeros, values, key=raw_key, integer=integer)


def _getitem_vjp(xp, g, out, x, *, key, integer=False):
    return scatter_into_zeros(xp, x.shape, key, g, integer)


def _index_forward(xp, x, *, key, integer):
    """``x[key]`` for an advanced key (integer-array keys through the backend's hook)."""
    return xp.__xgrad_backend__.getitem(x, key) if integer else x[key]


GETITEM = defop("getitem", lambda xp, x, *, key: x[key], (_getitem_vjp,), saves=(), view=True,
                grad_name="SliceBackward0", jvp=LINEAR)
INDEX = defop("index", _index_forward, (_getitem_vjp,), saves=(),
              grad_name="IndexBackward0", jvp=LINEAR)


def _setitem_forward(xp, x, values, *, key):
    out = _copy(xp, x)
    out[key] = values
    return out


SETITEM = defop("setitem", _setitem_forward,
                (lambda xp, g, out, x, values, *, key: call(xp, SETITEM, g, 0.0, key=key),
                 lambda xp, g, out, x, values, *, key: g[key]),
                saves=(), broadcasts=True, grad_name="CopySlices", jvp=LINEAR)


def getitem(x: Tensor, key):
    """``x[key]``: basic slicing (a view), integer-array or boolean-mask indexing."""
    raw, advanced, integer = normalize_key(key, x._device, x._data.ndim)
    if advanced:
        axis = _take_axis(raw, x._data.ndim) if integer else None
        if axis is not None:
            return _take_nd(x, raw if not isinstance(raw, tuple) else
                            next(k for k in raw if k is not Ellipsis and not isinstance(k, slice)), axis)
        return unary(INDEX, x, {"key": raw, "integer": integer})
    return unary(GETITEM, x, {"key": raw})


def _take_axis(raw, ndim):
    """The axis of a key that is one integer array among full slices (``x[:, idx]``), else None.

    Such keys go through ``take``, which every backend has; the standard allows
    integer arrays beside other indices only partly.
    """
    parts = raw if isinstance(raw, tuple) else (raw,)
    arrays = [i for i, k in enumerate(parts) if hasattr(k, "dtype")]
    if len(arrays) != 1 or not all(k is Ellipsis or k == slice(None) for i, k in enumerate(parts)
                                   if i != arrays[0]):
        return None
    pos = arrays[0]
    ellipsis = [i for i, k in enumerate(parts) if k is Ellipsis]
    if ellipsis and ellipsis[0] < pos:
        return ndim - (len(parts) - pos)
    return pos


def _take_nd(x, indices, axis):
    """``take`` along ``axis`` with an index array of any shape."""
    from .manipulation import reshape
    shape = tuple(indices.shape)
    if len(shape) == 1:
        return apply(TAKE, (x, indices), {"axis": axis})
    flat = x._device.xp.reshape(indices, (-1,))
    taken = apply(TAKE, (x, flat), {"axis": axis})
    xs = tuple(x.shape)
    return reshape(taken, xs[:axis] + shape + xs[axis + 1:])


def setitem_result(x: Tensor, key, value) -> Tensor:
    """What ``x`` becomes after ``x[key] = value``, recorded (used when autograd records)."""
    raw, _, _ = normalize_key(key, x._device, x._data.ndim)
    return apply(SETITEM, (x, value), {"key": raw})


def _take_key(ndim, axis, indices):
    axis = axis % ndim
    return (slice(None),) * axis + (indices, Ellipsis)


def _take_forward(xp, x, indices, *, axis):
    return xp.take(x, indices, axis=axis)


TAKE = defop("take", _take_forward,
             (lambda xp, g, out, x, indices, *, axis:
              scatter_into_zeros(xp, x.shape, _take_key(len(x.shape), axis, indices), g, True), None),
             saves=(1,), jvp=LINEAR)


def take(x, indices, /, *, axis=None):
    """Elements of ``x`` at integer ``indices`` along ``axis``."""
    if axis is None:
        if x.ndim != 1:
            raise ValueError("take needs axis= for arrays of more than one dimension")
        axis = 0
    return apply(TAKE, (x, indices), {"axis": axis})


def _along_axis_key(xp, shape, indices, axis):
    """The full integer index that take_along_axis reads (for its scatter-add)."""
    ndim = len(shape)
    axis = axis % ndim
    key = []
    for d in range(ndim):
        if d == axis:
            key.append(indices)
        else:
            r = xp.arange(shape[d], device=indices.device)
            key.append(xp.reshape(r, tuple(shape[d] if i == d else 1 for i in range(ndim))))
    return tuple(key)


def _take_along_axis_vjp(xp, g, out, x, indices, *, axis):
    raw_indices = indices._data if isinstance(indices, Tensor) else indices
    backend_xp = indices._device.xp if isinstance(indices, Tensor) else xp
    key = _along_axis_key(backend_xp, tuple(g.shape), raw_indices, axis)
    return scatter_into_zeros(xp, x.shape, key, g, True)


TAKE_ALONG_AXIS = defop("take_along_axis", lambda xp, x, indices, *, axis: xp.take_along_axis(x, indices, axis=axis),
                        (_take_along_axis_vjp, None), saves=(1,), jvp=LINEAR)


def take_along_axis(x, indices, /, *, axis=-1):
    """Elements of ``x`` at ``indices`` (same rank as ``x``) along ``axis``."""
    return apply(TAKE_ALONG_AXIS, (x, indices), {"axis": axis})
