"""Indexing: ``x[key]``, ``x[key] = v``, ``take``, ``take_along_axis``.

The gradient of reading ``x[key]`` is the incoming gradient added into zeros
at ``key`` (a scatter-add, so repeated integer indices add up). The scatter-add
itself is an op (:data:`INDEX_ADD`) whose gradient is indexing again, so
indexing is differentiable to any order.
"""

from __future__ import annotations

from numbers import Integral as _Integral

from .._tensor import Tensor, apply, unary
from ._registry import call, defop, is_backend_namespace, LINEAR


def normalize_key(key, device, ndim=None, *, shape=None):
    """``key`` with tensors replaced by raw arrays (and lists by index arrays).

    With ``ndim``, a key that indexes fewer axes than the array has gets a
    trailing ``...`` (the standard requires it; NumPy and PyTorch imply it).
    With ``shape`` too, slice bounds out of range are clamped on backends that
    refuse them (the standard does not specify them; Python and PyTorch clamp).
    Returns ``(raw_key, advanced, integer)``: whether the key holds arrays at
    all, and whether it holds integer arrays (whose repeats need a scatter-add).
    """
    parts = key if isinstance(key, tuple) else (key,)
    raw, advanced, integer = [], False, False
    consumed = 0
    for k in parts:
        if isinstance(k, Tensor):
            k = k._data if k._device is device else indices_on(k, device)  # (CPU indices: copied)
        elif isinstance(k, (list, tuple)):  # (a sequence inside a key: an index array)
            from .._creation import asarray
            k = asarray(k, device=device)._data
        elif isinstance(k, _Integral) and type(k) is not int and type(k) is not bool:
            k = k.__index__()  # a NumPy integer scalar indexes as an int, not as an array
        if isinstance(k, bool):  # PyTorch: a new axis indexed by [0] (True) or [] (False)
            advanced = True
        elif hasattr(k, "shape") and hasattr(k, "dtype") and not isinstance(k, (int, bool)):
            advanced = True
            if type(k).__module__ == "numpy" and device.backend.name != "cpu":
                from .._creation import asarray  # NumPy's array as indices on another backend
                k = asarray(k, device=device)._data
            is_int = device.backend.from_native.get(k.dtype)._kind != "b"
            integer = integer or is_int
            consumed += 1 if is_int else len(k.shape)
        elif k is not None and k is not Ellipsis:
            consumed += 1
        raw.append(k)
    if ndim is not None and consumed < ndim and not any(k is Ellipsis for k in raw):
        raw.append(Ellipsis)
        raw_key = tuple(raw)
    else:
        # (a lone None stays a tuple: the writes strip new axes from tuple keys only)
        raw_key = tuple(raw) if isinstance(key, tuple) or raw[0] is None else raw[0]
    if shape is not None and not advanced and device.backend.fancy_indexing == "composed":
        raw_key = clamp_slices(raw_key, shape)
    return raw_key, advanced, integer


def _copy(xp, x):
    return xp.asarray(x, copy=True)


# Integer-array and boolean-mask keys: xgrad/ops/advanced_index.py (its ops "index",
# "index_add", "index_put" and the functions below).
from .advanced_index import (INDEX, INDEX_ADD, INDEX_PUT, advanced_getitem,  # noqa: E402,F401
                             clamp_slices, index_put, indices_on, scatter_add_into_zeros)


def scatter_into_zeros(xp, shape, key, values, integer):
    """Zeros of ``shape`` with ``values`` added at ``key``, in either mode."""
    if integer:  # repeated indices add up
        return scatter_add_into_zeros(xp, shape, key, values)
    zeros = xp.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is None for k in key):  # new axes: not in the target
        key = tuple(k for k in key if k is not None)
        values = xp.reshape(values, tuple(zeros[key].shape))
    if is_backend_namespace(xp):  # raw arrays: write straight into the fresh zeros
        if 0 not in tuple(values.shape):  # (Dask's __setitem__ refuses empty writes)
            zeros[key] = values
        return zeros
    return call(xp, INDEX_ADD, zeros, values, key=key)


def _getitem_vjp(xp, g, out, x, *, key, integer=False):
    return scatter_into_zeros(xp, x.shape, key, g, integer)


GETITEM = defop("getitem", lambda xp, x, *, key: x[key], (_getitem_vjp,), saves=(), view=True,
                grad_name="SliceBackward0", jvp=LINEAR)


def _setitem_forward(xp, x, values, *, key):
    out = _copy(xp, x)
    if isinstance(key, tuple) and any(k is None for k in key):
        # new axes are not in x (array-api-strict refuses them in a write): the
        # values, broadcast to the region as read, lose those axes instead
        region = tuple(x[key].shape)
        key = tuple(k for k in key if k is not None)
        if hasattr(values, "shape"):
            values = xp.reshape(xp.broadcast_to(values, region), tuple(out[key].shape))
    region = tuple(out[key].shape)
    if 0 in region and _broadcasts_to(getattr(values, "shape", ()), region):
        return out  # an empty region: nothing to write (Dask refuses even that)
    out[key] = values
    return out


def _broadcasts_to(shape, target):
    shape = tuple(shape)
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(shape[::-1], target[::-1]))


def _setitem_vjps(xp, g, out, x, values, *, key):
    """The gradients of ``x[key] = values`` (a basic key): ``g`` with the region
    zeroed (for ``x``) and the region of ``g`` (for ``values``). On raw arrays the
    region is zeroed in ``g`` itself when the engine alone holds ``g`` (O(region),
    so a backward through N row writes stays linear in N), after its values were
    copied out."""
    if not is_backend_namespace(xp):
        return call(xp, SETITEM, g, 0.0, key=key), g[key]
    from .._views import _engine_owned
    if _engine_owned(g, xp):
        g_values = xp.asarray(g[key], copy=True)
        g[key] = 0
        return g, g_values
    return _setitem_forward(xp, g, 0.0, key=key), g[key]


SETITEM = defop("setitem", _setitem_forward, _setitem_vjps,
                saves=(), broadcasts=True, grad_name="CopySlices", jvp=LINEAR)


def getitem(x: Tensor, key):
    """``x[key]``: basic slicing (a view), integer-array or boolean-mask indexing."""
    if type(key) is Tensor:  # x[idx], x[mask]: straight to xgrad/ops/advanced_index.py
        return advanced_getitem(x, key)
    raw, advanced, integer = normalize_key(key, x._device, x._data.ndim, shape=x._data.shape)
    if advanced:  # integer arrays, masks, lists, bools: xgrad/ops/advanced_index.py
        return advanced_getitem(x, key)
    return unary(GETITEM, x, {"key": raw})


def setitem_result(x: Tensor, key, value) -> Tensor:
    """What ``x`` becomes after ``x[key] = value``, recorded (used when autograd records)."""
    raw, advanced, _ = normalize_key(key, x._device, x._data.ndim, shape=x._data.shape)
    if advanced:  # integer arrays, masks, lists, bools: xgrad/ops/advanced_index.py
        return index_put(x, key, value)
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
