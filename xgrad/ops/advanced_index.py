"""Advanced indexing (integer-array and boolean-mask keys) that means the same on every backend.

A key is first analysed into an :class:`IndexPlan`, PyTorch's reading of it:

1. the *basic* part: integers (and 0-d integer tensors) select, slices slice,
   ``None`` adds an axis; index arrays and masks keep their axes (``slice(None)``).
   This is a view of ``x``, called ``y`` below;
2. the *advanced* part on ``y``: one entry per axis of ``y``, a full slice or an
   index array (a boolean mask spans as many axes as it has). The index arrays
   broadcast together; their result axes replace the indexed axes where those are
   adjacent, and go first otherwise (PyTorch and NumPy agree once the integers are
   gone; NumPy alone would also count the integers as index arrays).

A Python ``bool`` (or a 0-d boolean tensor) is an added axis indexed by ``[0]``
(``True``) or ``[]`` (``False``), as PyTorch does it.

The ops then run the plan three ways, chosen by the backend's ``fancy_indexing``:

* ``"native"`` (NumPy, CuPy): one fancy-indexing call on a view of ``x``;
* ``"hooks"`` (Dask): the backend's ``getitem``/``scatter_add`` hooks, which know
  the library's limits (boolean masks of unknown size stay lazy);
* ``"composed"`` (array-api-strict and any other standard library): only standard
  functions. The indexed axes are moved first and flattened into one axis of size
  ``M``, the broadcast index arrays into flat positions ``f`` (integer arithmetic),
  and reading is ``take(rows, f, axis=0)``; writing is the same in reverse:
  ``scatter_add`` (the backend's one scatter primitive, on one axis) for adding,
  and for assigning, "the last write wins" from a stable ``argsort`` of ``f`` and
  ``searchsorted`` (``where`` picks the written rows).

Three ops, each differentiable to any order through the others:
``index`` (``x[key]``, VJP: ``index_add`` into zeros), ``index_add``
(``x[key] += v`` with repeats adding up, VJPs: ``g`` and ``g[key]``) and
``index_put`` (``x[key] = v``, VJPs: ``g`` with the written places zeroed, and
``g[key]``; for repeated indices the values' gradient is ``g[key]``, PyTorch's rule).
"""

from __future__ import annotations

import math
import operator

from .._tensor import Tensor, apply, unary
from ._registry import LINEAR, call, defop, is_backend_namespace
from .._compile import _hooks as _compile_hooks

__all__ = ["IndexPlan", "analyze", "advanced_getitem", "index_put", "is_advanced",
           "write_raw", "INDEX", "INDEX_ADD", "INDEX_PUT"]

_FULL = slice(None)


def _is_array(k) -> bool:
    return hasattr(k, "shape") and hasattr(k, "dtype") and not isinstance(k, (int, bool, float))


def is_advanced(key) -> bool:
    """Whether ``key`` holds index arrays, masks, lists or bools (anything beyond basic slicing)."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (bool, list, Tensor)) or _is_array(k) for k in parts)


class IndexPlan:
    """A key analysed against a shape: see the module docstring.

    ``basic``: the key of the basic part (integers, slices, ``None``; one entry per
    axis of ``x``, no ``...``); ``trivial``: whether that part is the identity;
    ``y_shape``: the shape it gives; ``new_axes``: the axes of ``y`` that ``None``
    added; ``adv``: the advanced key on ``y`` (full slices and index arrays);
    ``shape``: the result's shape (None when unknown: masks on Dask). For the
    composed path also ``dims`` (the indexed axes of ``y``), ``rest``, ``adjacent``,
    ``bshape`` (the broadcast index shape), ``flat`` (flat positions, 1-D) and ``rows``
    (the size of the flattened indexed axes).
    """

    __slots__ = ("mode", "basic", "trivial", "x_shape", "y_shape", "new_axes", "origin", "adv",
                 "shape",
                 "dims", "rest", "adjacent", "bshape", "flat", "rows")

    def __repr__(self) -> str:
        return f"IndexPlan(basic={self.basic!r}, adv={self.adv!r}, shape={self.shape})"


# -- analysis ------------------------------------------------------------------------------

def _raw_index(k, device, xp, backend):
    """One key entry with tensors, lists and NumPy scalars made raw (arrays or ints)."""
    if isinstance(k, Tensor):
        if device is not None and k._device is not device:
            return indices_on(k, device)
        return k._data
    if isinstance(k, (list, tuple)):
        if device is not None:
            from .._creation import asarray
            try:
                arr = asarray(list(k), device=device)
            except (TypeError, ValueError):
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                                 "byte Variables are valid indices (got a sequence of other "
                                 "things)") from None
            if arr._data.ndim and 0 in tuple(arr._data.shape) and arr.dtype.is_floating_point:
                from .creation_ops import astype
                from .._dtypes import int64
                arr = astype(arr, int64)
            return arr._data
        k = xp.asarray(list(k))
        return xp.astype(k, xp.int64) if 0 in tuple(k.shape) else k
    if device is not None and _foreign(k, backend):  # NumPy's array as indices elsewhere
        from .._creation import asarray
        return asarray(k, device=device)._data
    return k


def _foreign(k, backend) -> bool:
    """A NumPy array (or scalar) used as an index on another backend."""
    return backend.name != "cpu" and type(k).__module__ == "numpy" and _is_array(k)


def indices_on(k: Tensor, device):
    """The raw data of index tensor ``k`` on ``device``: PyTorch accepts indices on
    the tensor's device or on the CPU (copied over); others are an error."""
    if k._device.type != "cpu":
        raise RuntimeError("indices should be either on cpu or on the same device as the "
                           f"indexed tensor ({device}); got indices on {k.device}")
    from .._creation import asarray
    return asarray(k.detach().numpy(), device=device)._data


def _kind(k, backend) -> str:
    """'b' for a boolean array, 'i' for an integer one; IndexError for others."""
    dt = backend.from_native.get(k.dtype)
    kind = getattr(dt, "_kind", None)
    if kind == "b":
        return "b"
    if kind in ("i", "u"):
        return "i"
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def analyze(key, shape, backend, xp, device=None, check=True) -> IndexPlan:
    """The :class:`IndexPlan` of ``key`` for an array of ``shape``.

    ``key`` may hold tensors (``device`` is then the tensor's device), lists, raw
    backend arrays, Python and NumPy integers, bools, slices, ``None`` and ``...``.
    With ``check``, integers and index arrays are checked against the sizes
    (PyTorch's IndexError) where the backend does not check them itself.
    """
    if type(key) is Tensor and key._device is device and shape and \
            backend.fancy_indexing == "native" and key._data.ndim:
        plan = _one_array_plan(key._data, shape, backend, xp, check)  # x[idx]: the common case
        if plan is not None:
            return plan
    parts = key if isinstance(key, tuple) else (key,)
    parts = [_raw_index(k, device, xp, backend) for k in parts]
    ndim = len(shape)
    consumed, ellipses = 0, 0
    for k in parts:
        if k is Ellipsis:
            ellipses += 1
        elif k is None or isinstance(k, bool):
            pass
        elif _is_array(k):
            consumed += len(k.shape) if _kind(k, backend) == "b" else 1
        else:
            consumed += 1
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv, new_axes = [], [], []
    d = 0  # axis of x
    y_shape, origin = [], []  # origin: the axis of x each axis of y comes from
    for k in parts:
        if k is Ellipsis:
            fill = ndim - consumed
            basic.extend([_FULL] * fill)
            adv.extend([_FULL] * fill)
            y_shape.extend(shape[d:d + fill])
            origin.extend(range(d, d + fill))
            d += fill
            continue
        if k is None:
            basic.append(None)
            adv.append(_FULL)
            new_axes.append(len(y_shape))
            y_shape.append(1)
            origin.append(None)
            continue
        if _is_array(k) and k.shape == ():  # 0-d: an integer or a bool, as PyTorch reads it
            k = bool(k) if _kind(k, backend) == "b" else int(k)
        if isinstance(k, bool):
            basic.append(None)
            new_axes.append(len(y_shape))
            y_shape.append(1)
            origin.append(None)
            adv.append(xp.arange(int(k), dtype=xp.int64, **_device_of(xp, backend, device)))
            continue
        if isinstance(k, slice):
            k = _clamped(k, shape[d])
            basic.append(k)
            adv.append(_FULL)
            y_shape.append(len(range(*k.indices(shape[d]))))
            origin.append(d)
            d += 1
            continue
        if _is_array(k):
            if _kind(k, backend) == "b":
                n = len(k.shape)
                if tuple(k.shape) != tuple(shape[d:d + n]):
                    for j, (m, s) in enumerate(zip(k.shape, shape[d:d + n])):
                        if m != s and m != 0:
                            raise IndexError(
                                f"The shape of the mask {list(k.shape)} at index {j} does not "
                                f"match the shape of the indexed tensor {list(shape)} at index "
                                f"{d + j}")
                    # a size-0 mask axis selects nothing from any axis (NumPy's and the
                    # standard's reading; PyTorch raises): an all-false mask of the right shape
                    k = xp.broadcast_to(xp.any(k), tuple(shape[d:d + n]))
                basic.extend([_FULL] * n)
                adv.append(k)
                y_shape.extend(shape[d:d + n])
                origin.extend(range(d, d + n))
                d += n
                continue
            basic.append(_FULL)
            adv.append(k)
            y_shape.append(shape[d])
            origin.append(d)
            d += 1
            continue
        try:
            i = operator.index(k)
        except TypeError:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(k).__name__})") from None
        if not -shape[d] <= i < shape[d]:
            raise IndexError(f"index {i} is out of bounds for dimension {d} with size {shape[d]}")
        basic.append(i)
        d += 1
    basic.extend([_FULL] * (ndim - d))
    adv.extend([_FULL] * (ndim - d))
    y_shape.extend(shape[d:])
    origin.extend(range(d, ndim))
    plan = _plan(tuple(shape), tuple(basic), tuple(adv), tuple(y_shape), tuple(new_axes),
                 tuple(origin), backend, xp, check)
    return plan


def _one_array_plan(k, shape, backend, xp, check):
    """The plan of ``x[idx]`` for one integer index array (None for a mask)."""
    if _kind(k, backend) != "i":
        return None
    plan = IndexPlan()
    ndim = len(shape)
    plan.mode, plan.x_shape, plan.y_shape = "native", shape, shape
    plan.basic, plan.trivial, plan.new_axes = (_FULL,) * ndim, True, ()
    plan.origin, plan.adv, plan.dims = tuple(range(ndim)), (k,), (0,)
    plan.rest, plan.adjacent = tuple(range(1, ndim)), True
    plan.bshape = tuple(k.shape)
    plan.shape = plan.bshape + shape[1:]
    plan.flat = plan.rows = None
    if check and getattr(backend, "check_index_bounds", True):
        _check_bounds(xp, plan)
    return plan


def _clamped(s: slice, size: int) -> slice:
    """``s`` with its bounds inside ``0..size`` (Python and PyTorch clamp them; the
    standard, and so array-api-strict, refuses bounds out of range)."""
    if s == _FULL:
        return s
    start, stop, step = s.indices(size)
    if step < 0 and stop < 0:
        stop = None  # (-1 would mean the last element)
    return slice(start, stop, step)


def clamp_slices(raw, shape):
    """A basic key (no index arrays) with every slice clamped to its axis' size."""
    parts = raw if isinstance(raw, tuple) else (raw,)
    if not any(isinstance(k, slice) and k != _FULL for k in parts):
        return raw
    out, d = [], 0
    ndim = len(shape)
    consumed = sum(1 for k in parts if k is not None and k is not Ellipsis)
    for k in parts:
        if k is Ellipsis:
            d += ndim - consumed
        elif isinstance(k, slice):
            k = _clamped(k, shape[d])
            d += 1
        elif k is not None:
            d += 1
        out.append(k)
    return tuple(out) if isinstance(raw, tuple) else out[0]


def _device_of(xp, backend, device):
    if device is not None and backend.indexed:
        return {"device": backend.native_device(device.index)}
    return {}


def _plan(x_shape, basic, adv, y_shape, new_axes, origin, backend, xp, check) -> IndexPlan:
    plan = IndexPlan()
    plan.mode = getattr(backend, "fancy_indexing", "composed")
    plan.x_shape, plan.basic, plan.y_shape, plan.new_axes = x_shape, basic, y_shape, new_axes
    plan.origin = origin
    plan.trivial = all(k == _FULL and k is not None for k in basic)
    # trailing full slices of the advanced key are implied (and Dask's hook wants them gone)
    while adv and not _is_array(adv[-1]):
        adv = adv[:-1]
    plan.adv = adv
    dims, arrays, masks, d = [], [], False, 0
    for k in adv:
        if not _is_array(k):
            d += 1
            continue
        if _kind(k, backend) == "b":
            masks = True
            n = len(k.shape)
            dims.extend(range(d, d + n))
            arrays.append(k)
            d += n
        else:
            dims.append(d)
            arrays.append(k)
            d += 1
    plan.dims = tuple(dims)
    plan.flat = plan.rows = plan.bshape = None
    if not dims:  # only integers (0-d index tensors): basic indexing after all
        plan.bshape, plan.adjacent, plan.rest = (), True, tuple(range(len(y_shape)))
        plan.shape = y_shape
        return plan
    plan.rest = tuple(a for a in range(len(y_shape)) if a not in plan.dims)
    plan.adjacent = plan.dims == tuple(range(dims[0], dims[0] + len(dims)))
    if plan.mode == "hooks" and not masks:  # integer arrays on Dask: composed (lazy) too
        plan.mode = "composed"
    if plan.mode == "composed":
        _compose(plan, xp, backend, check)
    else:
        if check and getattr(backend, "check_index_bounds", True):
            _check_bounds(xp, plan)
        plan.bshape = _broadcast_shape(arrays, backend) if not (masks and plan.mode == "hooks") \
            else None
    plan.shape = None if plan.bshape is None else _result_shape(plan)
    return plan


def _broadcast_shape(arrays, backend):
    shapes = []
    for a in arrays:
        if _kind(a, backend) == "b":
            shapes.append((_count_true(a),))
        else:
            shapes.append(tuple(a.shape))
    return _broadcast_shapes(shapes)


def _count_true(mask) -> int:
    return int(mask.sum())  # (native backends only: NumPy, CuPy)


def _broadcast_shapes(shapes):
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        sizes = {s[len(s) - nd + i] for s in shapes if len(s) - nd + i >= 0} - {1}
        if len(sizes) > 1:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             f"with shapes {', '.join(str(list(s)) for s in shapes)}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _result_shape(plan):
    rest = tuple(plan.y_shape[a] for a in plan.rest)
    if plan.adjacent:
        first = plan.dims[0]
        return rest[:first] + plan.bshape + rest[first:]
    return plan.bshape + rest


def _check_bounds(xp, plan):
    """PyTorch's IndexError for an index out of range (one reduction per index array)."""
    d = 0
    for k in plan.adv:
        if not _is_array(k):
            d += 1
            continue
        if xp.isdtype(k.dtype, "bool"):
            d += len(k.shape)
            continue
        size = plan.y_shape[d]
        if math.prod(k.shape):
            axis = plan.origin[d]
            # (under xgrad.compile a step of the program: a replay checks its own indices)
            _compile_hooks.check(_check_index, k, size, d if axis is None else axis)
        d += 1


def _check_index(k, size, dim):
    """PyTorch's IndexError where an integer index array has an entry outside the axis."""
    xp = k.__array_namespace__()
    low, high = int(xp.min(k)), int(xp.max(k))
    if high >= size or low < -size:
        bad = high if high >= size else low
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _compose(plan, xp, backend, check):
    """Flat positions of the index arrays, from standard functions only."""
    arrays, d = [], 0
    for k in plan.adv:
        if not _is_array(k):
            d += 1
            continue
        if xp.isdtype(k.dtype, "bool"):
            arrays.extend(xp.nonzero(k))
            d += len(k.shape)
            continue
        k = xp.astype(k, xp.int64)
        arrays.append(k)
        d += 1
    if check and getattr(backend, "check_index_bounds", True):
        _check_bounds(xp, plan)
    sizes = [plan.y_shape[a] for a in plan.dims]
    arrays = [xp.where(a < 0, a + s, a) for a, s in zip(arrays, sizes)]
    if len(arrays) > 1:
        _broadcast_shapes([tuple(a.shape) for a in arrays])  # PyTorch's IndexError, not the backend's
        arrays = list(xp.broadcast_arrays(*arrays))
    plan.bshape = tuple(arrays[0].shape)
    flat, stride = None, 1
    for a, s in zip(reversed(arrays), reversed(sizes)):
        term = a if stride == 1 else a * stride
        flat = term if flat is None else flat + term
        stride *= s
    plan.flat = xp.reshape(flat, (-1,))
    plan.rows = stride


# -- running a plan on raw arrays ----------------------------------------------------------

def _resolve(xp, x_shape, key) -> IndexPlan:
    """``key`` as a plan (keys given raw, as the op samples and older callers do)."""
    if isinstance(key, IndexPlan):
        return key
    return analyze(key, tuple(x_shape), xp.__xgrad_backend__, xp, check=False)


def _basic(xp, x, plan):
    return x if plan.trivial else x[plan.basic]


def _rows_of(xp, y, plan):
    """``y`` with the indexed axes first and flattened: shape ``(rows,) + rest``."""
    order = plan.dims + plan.rest
    if order != tuple(range(len(order))):
        y = xp.permute_dims(y, order)
    return xp.reshape(y, (plan.rows,) + tuple(plan.y_shape[a] for a in plan.rest))


def _from_rows(xp, rows, plan):
    """The inverse of :func:`_rows_of`."""
    order = plan.dims + plan.rest
    y = xp.reshape(rows, tuple(plan.y_shape[a] for a in order))
    if order != tuple(range(len(order))):
        inverse = [0] * len(order)
        for i, a in enumerate(order):
            inverse[a] = i
        y = xp.permute_dims(y, tuple(inverse))
    return y


def _lead_order(plan):
    """The permutation from (index axes, rest axes) to the result's axes (None: identity)."""
    nb = len(plan.bshape)
    if not plan.adjacent or plan.dims[0] == 0 or nb == 0:
        return None
    first = plan.dims[0]
    rest = list(range(nb, nb + len(plan.rest)))
    return tuple(rest[:first] + list(range(nb)) + rest[first:])


def _gather_composed(xp, y, plan):
    rest = tuple(plan.y_shape[a] for a in plan.rest)
    taken = xp.take(_rows_of(xp, y, plan), plan.flat, axis=0)
    out = xp.reshape(taken, plan.bshape + rest)
    order = _lead_order(plan)
    return out if order is None else xp.permute_dims(out, order)


def _values_rows(xp, v, plan):
    """Values (broadcast to the result's shape) as rows ``(n, ) + rest``."""
    v = xp.broadcast_to(v, plan.shape)
    order = _lead_order(plan)
    if order is not None:
        inverse = [0] * len(order)
        for i, a in enumerate(order):
            inverse[a] = i
        v = xp.permute_dims(v, tuple(inverse))
    rest = tuple(plan.y_shape[a] for a in plan.rest)
    return xp.reshape(v, (math.prod(plan.bshape),) + rest)


def _put_composed(xp, y, v, plan, accumulate):
    rows = _rows_of(xp, y, plan)
    vrows = _values_rows(xp, v, plan)
    if vrows.shape[0] == 0:
        return xp.asarray(y, copy=True)
    if accumulate:
        rows = xp.asarray(rows, copy=True)
        xp.__xgrad_backend__.scatter_add(rows, plan.flat, vrows)
        return _from_rows(xp, rows, plan)
    if getattr(xp.__xgrad_backend__, "fancy_indexing", "") == "hooks":
        # Dask (lazy, no sorting): written rows from two scatter-adds; a repeated row
        # gets the mean of its values (PyTorch leaves repeated assignment undefined)
        ones = xp.ones((vrows.shape[0],), dtype=rows.dtype, device=rows.device)
        count = xp.zeros((plan.rows,), dtype=rows.dtype, device=rows.device)
        total = xp.zeros(tuple(rows.shape), dtype=rows.dtype, device=rows.device)
        xp.__xgrad_backend__.scatter_add(count, plan.flat, ones)
        xp.__xgrad_backend__.scatter_add(total, plan.flat, vrows)
        count = xp.reshape(count, (plan.rows,) + (1,) * (rows.ndim - 1))
        written = count > 0
        mean = total / xp.where(written, count, 1)
        if mean.dtype != rows.dtype:  # integer tensors
            mean = xp.astype(mean, rows.dtype)
        return _from_rows(xp, xp.where(written, mean, rows), plan)
    # assignment, the last write of each row winning (as NumPy's sequential semantics)
    order = xp.argsort(plan.flat, stable=True)
    ordered = xp.take(plan.flat, order)
    targets = xp.arange(plan.rows, dtype=ordered.dtype, device=ordered.device)
    end = xp.searchsorted(ordered, targets, side="right")
    start = xp.searchsorted(ordered, targets, side="left")
    last = xp.take(order, xp.clip(end - 1, 0, None))
    written = xp.reshape(end > start, (plan.rows,) + (1,) * (rows.ndim - 1))
    return _from_rows(xp, xp.where(written, xp.take(vrows, last, axis=0), rows), plan)


def _gather(xp, x, plan):
    y = _basic(xp, x, plan)
    if not plan.dims:  # integers only: a copy of the basic part (the op owns its result)
        return xp.asarray(y, copy=True)
    if plan.mode == "composed":
        return _gather_composed(xp, y, plan)
    if plan.mode == "hooks":  # Dask with boolean masks
        try:
            return xp.__xgrad_backend__.getitem(y, plan.adv[0] if len(plan.adv) == 1 else plan.adv)
        except NotImplementedError as exc:
            from ..backends._dask import DaskUnsupported
            raise DaskUnsupported(
                f"Dask cannot index with this boolean-mask key ({exc}); on the dask device a "
                "mask must cover one axis or all of them, without other index arrays (or "
                "compute the mask first)") from None
    return xp.__xgrad_backend__.getitem(y, plan.adv)


def _as_values(xp, v, like):
    if not _is_array(v):
        return xp.asarray(v, dtype=like.dtype, device=like.device)
    return v if v.dtype == like.dtype else xp.astype(v, like.dtype)


def _embed(xp, x, plan, y_new):
    """``x`` with its basic part replaced by ``y_new`` (a copy)."""
    out = xp.asarray(x, copy=True)
    if plan.new_axes:
        keep = tuple(s for a, s in enumerate(plan.y_shape) if a not in plan.new_axes)
        y_new = xp.reshape(y_new, keep)
    key = tuple(k for k in plan.basic if k is not None)
    if key:
        if 0 not in tuple(y_new.shape):  # (an empty basic part: nothing; Dask refuses it)
            out[key] = y_new
    else:
        out = xp.reshape(y_new, plan.x_shape)
    return out


def _put(xp, x, v, plan, accumulate):
    """``x`` with ``v`` assigned (or added) at the plan's places: a new array."""
    v = _as_values(xp, v, x)
    if 0 in tuple(getattr(v, "shape", ())) and plan.shape is not None and 0 in tuple(plan.shape):
        return xp.asarray(x, copy=True)  # nothing to write (Dask refuses empty writes)
    backend = xp.__xgrad_backend__
    if not plan.dims:  # integers only: the basic part replaced (or added to) as a whole
        y = _basic(xp, x, plan)
        y_new = y + v if accumulate else xp.broadcast_to(v, tuple(y.shape))
        return _embed(xp, x, plan, y_new)
    if plan.mode == "native":  # NumPy, CuPy: into a copy, through a view of it
        out = xp.asarray(x, copy=True)
        target = out if plan.trivial else out[plan.basic]
        if accumulate:
            backend.scatter_add(target, plan.adv, v)
        else:
            target[plan.adv] = v
        return out
    y = _basic(xp, x, plan)
    if plan.mode == "composed":
        y_new = _put_composed(xp, y, v, plan, accumulate)
    else:  # hooks (Dask)
        y_new = xp.asarray(y, copy=True)
        if getattr(v, "ndim", 0) and _unknown_size(plan, v, xp):
            from ..backends._dask import DaskUnsupported
            raise DaskUnsupported(
                "on the dask device a boolean mask selects a number of elements Dask knows only "
                "after computing, so values of that size (or the gradient of x[mask]) cannot be "
                "written back through the mask; write a scalar (x[mask] = 0.0), use "
                "xgrad.where(mask, value, x), or compute the mask first (x.compute())")
        key = plan.adv[0] if len(plan.adv) == 1 else plan.adv  # (Dask reads (mask,) otherwise)
        if accumulate:
            backend.scatter_add(y_new, key, v)
        elif 0 not in tuple(getattr(v, "shape", ())):
            y_new[key] = v
    return y_new if plan.trivial else _embed(xp, x, plan, y_new)


_TORCH_NAMES = {"bool": "Bool", "int8": "Char", "uint8": "Byte", "int16": "Short", "int32": "Int",
                "int64": "Long", "float32": "Float", "float64": "Double",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def check_value_dtype(plan: IndexPlan, dtype, values) -> None:
    """PyTorch's RuntimeError for a value tensor of another dtype than the written
    tensor. Cast instead, as PyTorch does: a one-element value (of any shape) written
    through a single boolean mask (PyTorch's index_put dispatches that to masked_fill),
    and a 0-d value written through boolean masks only."""
    if not isinstance(values, Tensor) or values.dtype == dtype:
        return
    arrays = [k for k in plan.adv if _is_array(k)]
    masks_only = all("bool" in str(k.dtype) for k in arrays)
    if plan.dims and masks_only and (values.ndim == 0 or (len(arrays) == 1 and values.numel() == 1)):
        return
    name = lambda d: _TORCH_NAMES.get(d.name, d.name)  # noqa: E731
    raise RuntimeError("Index put requires the source and destination dtypes match, got "
                       f"{name(dtype)} for the destination and {name(values.dtype)} for the source.")


def _unknown_size(plan, v, xp) -> bool:
    """Whether writing ``v`` through the plan's masks needs sizes Dask does not know."""
    shape = tuple(v.shape)
    return any(s != s for s in shape) or (plan.shape is None and math.prod(shape) != 1)


def write_raw(device, buffer, key, values):
    """``buffer[key] = values`` for a raw backend array, PyTorch's reading of ``key``;
    returns the array that holds the result (``buffer`` itself where the backend
    writes in place: NumPy, CuPy). For the unrecorded write path of ``__setitem__``."""
    xp = device.xp
    plan = key if isinstance(key, IndexPlan) else analyze(key, tuple(buffer.shape),
                                                          device.backend, xp, device)
    check_value_dtype(plan, device.backend.from_native.get(buffer.dtype), values)
    values = values._data if isinstance(values, Tensor) else values
    if plan.mode == "native":
        target = buffer if plan.trivial else buffer[plan.basic]
        target[plan.adv] = _as_values(xp, values, buffer)
        return buffer
    result = _put(xp, buffer, values, plan, False)
    try:
        buffer[...] = result
        return buffer
    except Exception:  # an immutable array (Dask rebinding aside): hand back the new one
        return result


# -- the ops -------------------------------------------------------------------------------

def _index_forward(xp, x, *, key, integer=None):
    return _gather(xp, x, _resolve(xp, x.shape, key))


def _index_vjp(xp, g, out, x, *, key, integer=None):
    zeros = xp.zeros(tuple(x.shape), dtype=g.dtype, device=g.device)
    if is_backend_namespace(xp):
        plan = _resolve(xp, x.shape, key)
        if plan.mode == "native" and plan.dims:  # straight into the fresh zeros (no copy)
            xp.__xgrad_backend__.scatter_add(zeros if plan.trivial else zeros[plan.basic],
                                             plan.adv, g)
            return zeros
        return _put(xp, zeros, g, plan, True)
    return call(xp, INDEX_ADD, zeros, g, key=key)


def _index_add_forward(xp, target, values, *, key, integer=None):
    return _put(xp, target, values, _resolve(xp, target.shape, key), True)


def _index_put_forward(xp, target, values, *, key):
    return _put(xp, target, values, _resolve(xp, target.shape, key), False)


INDEX = defop("index", _index_forward, (_index_vjp,), saves=(), grad_name="IndexBackward0",
              jvp=LINEAR, doc="x[key] for an advanced key (see xgrad.ops.advanced_index)")
INDEX_ADD = defop(
    "index_add", _index_add_forward,
    (lambda xp, g, out, target, values, *, key, integer=None: g,
     lambda xp, g, out, target, values, *, key, integer=None: call(xp, INDEX, g, key=key)),
    saves=(), broadcasts=True, grad_name="IndexPutBackward0", jvp=LINEAR,
    doc="target with values added at key, repeated indices adding up")
INDEX_PUT = defop(
    "index_put", _index_put_forward,
    (lambda xp, g, out, target, values, *, key: call(xp, INDEX_PUT, g, 0.0, key=key),
     lambda xp, g, out, target, values, *, key: call(xp, INDEX, g, key=key)),
    saves=(), broadcasts=True, grad_name="IndexPutBackward0", jvp=LINEAR,
    doc="target with values assigned at key")


# -- the tensor-level functions ------------------------------------------------------------

def plan_for(x: Tensor, key) -> IndexPlan:
    """The checked :class:`IndexPlan` of ``key`` for tensor ``x``."""
    dev = x._device
    return analyze(key, tuple(x._data.shape), dev.backend, dev.xp, dev)


def advanced_getitem(x: Tensor, key) -> Tensor:
    """``x[key]`` for a key with index arrays, masks, lists or bools: a new tensor
    (differentiable to any order; repeated indices add up in the gradient)."""
    plan = plan_for(x, key)
    if not plan.dims:  # 0-d integer tensors only: PyTorch reads them as integers (a view)
        from .indexing import getitem
        return getitem(x, plan.basic)
    return unary(INDEX, x, {"key": plan})


def index_put(x: Tensor, key, values, accumulate: bool = False) -> Tensor:
    """A new tensor: ``x`` with ``values`` written at ``key`` (PyTorch's
    ``index_put``, for any key ``x[key]`` accepts). ``accumulate=True`` adds,
    repeated indices adding up; otherwise it assigns (for repeated indices the last
    value is kept on every backend; PyTorch leaves that undefined). Differentiable
    in ``x`` and ``values``."""
    if isinstance(values, Tensor) and values._device is not x._device:
        from .._tensor import _device_mismatch
        raise _device_mismatch(x._device, values._device)
    plan = plan_for(x, key)
    check_value_dtype(plan, x.dtype, values)
    return apply(INDEX_ADD if accumulate else INDEX_PUT, (x, values), {"key": plan})


def scatter_add_into_zeros(xp, shape, key, values):
    """Zeros of ``shape`` with ``values`` added at the integer ``key``, in either mode."""
    zeros = xp.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    if is_backend_namespace(xp):
        return _put(xp, zeros, values, _resolve(xp, shape, key), True)
    return call(xp, INDEX_ADD, zeros, values, key=_resolve(xp_of(values), shape, key))


def xp_of(t):
    """The backend namespace of a tensor (raw keys are analysed there)."""
    return t._device.xp
