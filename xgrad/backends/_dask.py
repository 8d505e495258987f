"""The ``dask`` device: lazy, chunked arrays from ``dask.array`` (through array-api-compat).

Tensors on this device hold lazy Dask arrays: every operation, forward and
backward, only adds tasks to a graph, and nothing runs until values are asked
for (``t.compute()``, ``xgrad.compute(*tensors)``, ``float(t)``, ``t.numpy()``,
``repr(t)``). Chunking is the user's: ``xgrad.asarray(x, device="dask",
chunks=...)``, or wrap an existing ``dask.array`` with ``xgrad.asarray``.

Dask has no in-place writes into a computed buffer, so :meth:`DaskBackend.writable`
answers None and in-place operators rebind the tensor to a new lazy array.
Functions Dask lacks raise :class:`DaskUnsupported`, naming Dask and the function;
a few are composed or repaired here (see :data:`LIMITS`). Dask arrays get the
standard's ``x.device`` attribute ("cpu"), which rules use to place new arrays.
"""

from __future__ import annotations

import math
import types

import numpy as np

from . import Backend, BackendUnavailable

__all__ = ["DaskBackend", "DaskUnsupported", "DEFAULT_CHUNKS", "LIMITS", "is_dask_array",
           "with_chunks"]

DEFAULT_CHUNKS = "auto"  # chunks for host data given no chunks= (Dask's own choice)

# what the dask device cannot do, or does only in part (for docs and coverage tables)
LIMITS = {
    "linalg.det": "no: Dask has no det", "linalg.slogdet": "no: Dask has no slogdet",
    "linalg.eigh": "no: Dask has no eigh", "linalg.eigvalsh": "no: Dask has no eigvalsh",
    "linalg.pinv": "no: Dask has no pinv", "linalg.matrix_power": "no: Dask has no matrix_power",
    "linalg.inv": "one 2-D matrix (rechunked to one chunk); no batches",
    "linalg.solve": "one 2-D matrix (rechunked to one chunk); no batches",
    "linalg.cholesky": "one 2-D matrix (rechunked to one chunk); no batches",
    "linalg.qr": "one 2-D matrix, mode='reduced' only (Dask's tsqr)",
    "linalg.svd": "one 2-D matrix, full_matrices=False only (Dask's tsqr)",
    "linalg.svdvals": "one 2-D matrix", "linalg.cross": "composed (Dask has none)",
    "take_along_axis": "composed (Dask has none)",
    "searchsorted": "sorter= composed as searchsorted(take(x1, sorter), x2)",
    "boolean mask indexing": "forward only: the result has unknown (NaN) size",
    "indexing with several index arrays": "index arrays among full slices only: composed "
                                          "from flat positions",
    "in-place writes": "rebind the tensor: no aliasing between views or detached copies",
}

# array API functions Dask (through array-api-compat) does not have, or has only in part
_MISSING_LINALG = ("det", "eigh", "eigvalsh", "slogdet", "pinv", "matrix_power")


class DaskUnsupported(NotImplementedError):
    """Dask (dask.array) has no implementation of an array API function xgrad needs."""


def _unsupported(name):
    def missing(*args, **kwargs):
        raise DaskUnsupported(f"{name} is not available on the dask device: Dask (dask.array) "
                              f"has no {name}. Compute the tensor and move it to the cpu "
                              f"device first (t.to('cpu')), or compose {name} from other ops.")
    missing.__name__ = name.rsplit(".", 1)[-1]
    return missing


def is_dask_array(obj) -> bool:
    """Whether ``obj`` is a ``dask.array.Array`` (without importing Dask if it is not loaded)."""
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "chunks")


def with_chunks(obj, chunks):
    """``obj`` (host data or a Dask array) as a Dask array with the given ``chunks``."""
    import dask.array as da
    if is_dask_array(obj):
        return obj.rechunk(chunks)
    if hasattr(obj, "__array_namespace__") and not isinstance(obj, np.ndarray):
        raise TypeError("chunks= applies to host data (lists, NumPy arrays) or Dask arrays, "
                        "not tensors: chunk the data before making the tensor")
    return da.from_array(np.array(obj), chunks=chunks)


class DaskBackend(Backend):
    """Dask arrays: lazy and chunked, computed by Dask's (possibly distributed) scheduler."""

    name = "dask"
    limits = LIMITS
    fancy_indexing = "hooks"    # boolean masks stay lazy (sizes unknown until computed)
    check_index_bounds = False  # checking would compute

    def __init__(self):
        super().__init__()
        # dask arrays report np.dtype objects, not NumPy's scalar types: key by np.dtype
        self.to_native = {dt: np.dtype(dt.name) for dt in self.to_native}
        self.from_native = {v: k for k, v in self.to_native.items()}
        self._seed = None
        self._rng = None

    def load_namespace(self):
        try:
            import array_api_compat.dask.array as compat
            import dask.array
        except ImportError as exc:
            raise BackendUnavailable("the 'dask' device needs Dask: pip install 'xgrad[dask]' "
                                     "(dask[array,distributed])") from exc
        _give_arrays_a_device(dask.array.Array)
        return _namespace_with_gaps(compat)

    def asarray(self, obj, dtype, index, copy=None):
        import dask.array as da
        if is_dask_array(obj):
            return obj if dtype is None or obj.dtype == dtype else obj.astype(dtype)
        # a copy unless told not to: a lazy array must not see later writes to the host data
        host = np.array(obj, dtype=dtype, copy=copy is not False)
        return da.from_array(host, chunks=DEFAULT_CHUNKS)

    def to_numpy(self, array):
        return np.asarray(array.compute())

    def move(self, array, index):
        return array

    def seed(self, seed):
        self._seed = seed
        self._rng = None

    def rng(self, index):
        """A ``dask.array.random.Generator`` (reseeded by ``xgrad.manual_seed``)."""
        if self._rng is None:
            import dask.array as da
            self._rng = da.random.default_rng(self._seed)
        return self._rng

    def random(self, method, shape, dtype, index, **kwargs):
        rng, native = self.rng(index), self.to_native[dtype]
        if method in ("random", "standard_normal") and dtype._kind == "f":
            return getattr(rng, method)(shape, dtype=native)
        return getattr(rng, method)(size=shape, **kwargs).astype(native)

    def ensure_buffer(self, array):
        return array

    def writable(self, array):
        return None  # never written in place: in-place ops rebind to a new lazy array

    def scatter_add(self, target, key, values):
        """``target[key] += values`` (repeats add up), lazily: a bincount over the flat
        positions ``key`` reads; ``target`` is rebound to the result, as Dask's own
        ``__setitem__`` does."""
        if math.prod(target.shape) == 0:
            return  # nothing to add into (Dask's bincount of nothing has an unknown size)
        added = _scatter_added(target, key, values)
        _rebind(target, target + added)

    def special_function(self, name):
        """SciPy's ufunc ``name``: Dask applies NumPy ufuncs blockwise and lazily (the
        portable versions' long chains of calls would make deep graphs)."""
        try:
            import scipy.special
        except ImportError:
            return None
        fn = getattr(scipy.special, name, None)
        if not isinstance(fn, np.ufunc):  # SCIPY_ARRAY_API=1 wraps the ufuncs in functions
            fn = getattr(getattr(scipy.special, "_ufuncs", None), name, None)
        # (multi-output ufuncs such as airy: Dask's __array_ufunc__ refuses them)
        return fn if isinstance(fn, np.ufunc) and fn.nout == 1 else None

    def getitem(self, array, key):
        """``array[key]``; a key of several integer index arrays among full slices,
        which Dask cannot index with, reads flat positions (NumPy's broadcast and
        placement of the indexed axes). Negative indices count from the end; indices
        out of range are not caught (that would need a compute)."""
        parts = key if isinstance(key, tuple) else (key,)
        arrays = [k for k in parts if hasattr(k, "dtype") and not isinstance(k, (int, bool))]
        if (len(arrays) < 2 or not all(np.issubdtype(k.dtype, np.integer) for k in arrays)
                or sum(k is Ellipsis for k in parts) > 1
                or not all(k is Ellipsis or k == slice(None) for k in parts
                           if not hasattr(k, "dtype"))):
            return array[key]
        import dask.array as da
        fill = array.ndim - len(parts) + sum(k is Ellipsis for k in parts)
        full = []
        for k in parts:
            full.extend([slice(None)] * fill if k is Ellipsis else [k])
        axes = [d for d, k in enumerate(full) if hasattr(k, "dtype")]
        others = [d for d in range(array.ndim) if d not in axes]
        lead = tuple(array.shape[d] for d in axes)
        rest = tuple(array.shape[d] for d in others)
        flat = _ravel_index(lead, tuple(da.asarray(full[d]) for d in axes))
        flat = da.broadcast_to(flat, np.broadcast_shapes(*(tuple(k.shape) for k in arrays)))
        rows = self.xp.reshape(self.xp.permute_dims(array, tuple(axes + others)),
                               (math.prod(lead),) + rest)
        out = self.xp.reshape(rows[flat.reshape(-1)], tuple(flat.shape) + rest)
        first, b = axes[0], flat.ndim
        if first and axes == list(range(first, first + len(axes))):  # NumPy keeps them in place
            order = list(range(b, b + first)) + list(range(b)) + list(range(b + first, out.ndim))
            out = self.xp.permute_dims(out, tuple(order))
        return out

    def materialize(self, arrays):
        """Compute ``arrays`` in one pass (shared work done once), keeping them on the
        device: chunks held in memory locally, or on the workers of a distributed Client."""
        import dask
        return list(dask.persist(*arrays))


def _give_arrays_a_device(array_class):
    """The standard's ``x.device``, which Dask arrays lack (array-api-compat offers only
    the function ``array_api_compat.device(x)``, which answers "cpu" for them). Rules read
    ``x.device`` to make new arrays beside ``x``; added only where Dask has none."""
    if not hasattr(array_class, "device"):
        array_class.device = property(lambda self: "cpu", doc="Where the array's chunks "
                                      "live, for the array API: always 'cpu' (added by xgrad).")


def _namespace_with_gaps(compat):
    """compat's namespace, with clear errors for what Dask lacks."""
    xp = types.ModuleType(compat.__name__ + "+xgrad")
    xp.__dict__.update({k: v for k, v in vars(compat).items() if not k.startswith("__")})
    linalg = types.ModuleType(compat.linalg.__name__ + "+xgrad")
    linalg.__dict__.update({k: v for k, v in vars(compat.linalg).items() if not k.startswith("__")})
    for name in _MISSING_LINALG:
        if not hasattr(compat.linalg, name):
            setattr(linalg, name, _unsupported(f"linalg.{name}"))
    fixed = {"cholesky": _cholesky, "svdvals": _svdvals}
    for name in _MATRIX_ONLY:
        if hasattr(compat.linalg, name):
            setattr(linalg, name, _one_matrix(fixed.get(name, getattr(compat.linalg, name)), name))
    if not hasattr(compat.linalg, "cross"):
        linalg.cross = cross
    xp.linalg = linalg
    xp.fft = _fft_namespace(compat.fft)
    xp.reshape = _reshape(compat.reshape)
    xp.eye = _eye(compat.eye)
    xp.searchsorted = _searchsorted(compat.searchsorted)
    for name in _REDUCTIONS:
        setattr(xp, name, _reduction(getattr(compat, name), name))
    if not hasattr(compat, "take_along_axis"):
        xp.take_along_axis = take_along_axis
    return xp


def _reshape(reshape):
    """Dask's reshape, which refuses to split chunked axes unevenly; there it reshapes
    after merging the chunks of the input (one chunk: fine for modest sizes)."""
    def reshape_any(x, /, shape, *, copy=None):
        try:
            return reshape(x, shape, copy=copy)
        except NotImplementedError:
            whole = x.rechunk(dict.fromkeys(range(x.ndim), -1))
            return reshape(whole, shape, copy=copy)
    reshape_any.__doc__ = reshape.__doc__
    return reshape_any


def _searchsorted(searchsorted):
    """Dask's searchsorted, which refuses ``sorter``: searching ``take(x1, sorter)``
    (``x1`` in sorted order) gives the same indices."""
    def searchsorted_any(x1, x2, /, *, side="left", sorter=None):
        if sorter is not None:
            import dask.array as da
            x1, sorter = da.take(x1, sorter, axis=0), None
        return searchsorted(x1, x2, side=side, sorter=sorter)
    searchsorted_any.__doc__ = searchsorted.__doc__
    return searchsorted_any


def _eye(eye):
    """Dask's eye, which loses blocks of wide matrices unless its (square) chunk
    size is the number of rows: non-square ones get that chunk size (and empty
    ones are zeros)."""
    def eye_any(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None, **kwargs):
        if n_rows == 0 or n_cols == 0:  # Dask's eye divides by zero for (0, m)
            import dask.array as da
            return da.zeros((n_rows, n_rows if n_cols is None else n_cols),
                            dtype=np.float64 if dtype is None else dtype)
        if n_cols is not None and n_cols != n_rows:
            kwargs.setdefault("chunks", max(n_rows, 1))
        return eye(n_rows, n_cols, k=k, dtype=dtype, device=device, **kwargs)
    eye_any.__doc__ = eye.__doc__
    return eye_any


_REDUCTIONS = ("sum", "prod", "mean", "max", "min", "var", "std", "argmax", "argmin",
               "all", "any", "count_nonzero")
_NO_IDENTITY = ("max", "min", "argmax", "argmin")


def _reduction(fn, name):
    """Dask's reduction with NumPy's checks made before any compute: an axis of a 0-d
    array is accepted where NumPy accepts it (then it means the whole array); the
    max/min of nothing is a ValueError at once."""
    def reduce(x, /, *, axis=None, **kwargs):
        if axis is not None and x.ndim == 0:
            getattr(np, name)(np.ones((), dtype=x.dtype), axis=axis)  # NumPy's verdict
            axis = None
        if name in _NO_IDENTITY and _reduces_empty(tuple(x.shape), axis):
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             f"identity")
        return fn(x, axis=axis, **kwargs)
    reduce.__name__ = name
    reduce.__doc__ = fn.__doc__
    return reduce


def _reduces_empty(shape, axis) -> bool:
    if axis is None:
        return 0 in shape
    axes = axis if isinstance(axis, tuple) else (axis,)
    return any(shape[a] == 0 for a in axes)


# Dask's linalg takes one 2-D matrix (no batches), with chunking rules of its own
_MATRIX_ONLY = ("inv", "solve", "cholesky", "qr", "svd", "svdvals", "matrix_rank", "lstsq")
_TALL_SKINNY = ("qr", "svd", "svdvals", "matrix_rank", "lstsq")


def _one_matrix(fn, name):
    """Dask's ``linalg.<name>``, given chunks it accepts, with its refusals (batches,
    complete modes) raised as DaskUnsupported naming Dask and the function."""
    def call(a, *args, **kwargs):
        if a.ndim != 2:
            raise DaskUnsupported(f"linalg.{name} on the dask device takes one 2-D matrix: "
                                  f"Dask (dask.array.linalg) has no batched {name} (got shape "
                                  f"{tuple(a.shape)})")
        a = _tall_skinny_chunks(a) if name in _TALL_SKINNY else a.rechunk(-1)
        args = tuple(b.rechunk({0: -1}) if hasattr(b, "rechunk") else b for b in args)
        try:
            return fn(a, *args, **kwargs)
        except (ValueError, NotImplementedError, TypeError) as exc:
            raise DaskUnsupported(f"linalg.{name} on the dask device: Dask "
                                  f"(dask.array.linalg) cannot do this: {exc}") from exc
    call.__name__ = name
    call.__doc__ = fn.__doc__
    return call


def _cholesky(x, /, *, upper=False):
    """The standard's cholesky (lower unless ``upper``): array-api-compat's dask
    wrapper hands back Dask's default, the upper factor."""
    import dask.array as da
    return da.linalg.cholesky(x, lower=not upper)


def _svdvals(x, /):
    """Singular values (array-api-compat's asks Dask for full matrices, which it refuses)."""
    import dask.array as da
    return da.linalg.svd(x)[1]


def _tall_skinny_chunks(a):
    """One chunk of columns, and row chunks at least as tall as the matrix is wide
    (what Dask's tsqr needs); otherwise a single chunk."""
    a = a.rechunk({1: -1})
    if any(c < a.shape[1] for c in a.chunks[0]):
        a = a.rechunk(-1)
    return a


_FFT_1D = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
_FFT_ND = ("fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2")


def _fft_namespace(fft):
    """Dask's fft module, with the transformed axes rechunked to one chunk each
    (Dask transforms only along unchunked axes)."""
    own = types.ModuleType(fft.__name__ + "+xgrad")
    own.__dict__.update({k: v for k, v in vars(fft).items() if not k.startswith("__")})
    for name in _FFT_1D + _FFT_ND:
        if hasattr(fft, name):
            setattr(own, name, _whole_axes(getattr(fft, name), name in _FFT_1D))
    return own


def _whole_axes(transform, one_axis):
    def call(x, /, *args, **kwargs):
        if one_axis:
            axes = (kwargs.get("axis", -1) if kwargs.get("axis") is not None else -1,)
        else:
            axes = kwargs.get("axes")
            if axes is None:
                shape = kwargs.get("s")
                axes = range(x.ndim) if shape is None else range(x.ndim - len(shape), x.ndim)
        x = x.rechunk({a % x.ndim: -1 for a in axes}) if x.ndim else x
        return transform(x, *args, **kwargs)
    call.__name__ = transform.__name__
    call.__doc__ = transform.__doc__
    return call


def cross(x1, x2, /, *, axis=-1):
    """The standard's ``linalg.cross`` of 3-vectors along ``axis``, which Dask lacks."""
    import dask.array as da
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"cross needs vectors of size 3 along axis {axis}")
    a = [da.take(x1, i, axis=axis) for i in range(3)]
    b = [da.take(x2, i, axis=axis) for i in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return da.stack(parts, axis=axis)


def take_along_axis(x, indices, /, *, axis=-1):
    """The array API's ``take_along_axis``, which Dask lacks, from flat indexing."""
    import dask.array as da
    axis = axis % x.ndim
    indices = da.asarray(indices)
    key = []
    for d in range(x.ndim):
        if d == axis:
            key.append(indices)
        else:
            shape = tuple(indices.shape[d] if i == d else 1 for i in range(x.ndim))
            key.append(da.arange(indices.shape[d], dtype=np.int64).reshape(shape))
    flat = _ravel_index(tuple(x.shape), tuple(key))
    flat = da.broadcast_to(flat, tuple(indices.shape))
    return x.reshape(-1)[flat.reshape(-1)].reshape(flat.shape)


def _positions(shape, key):
    """The flat positions (into an array of ``shape``) that ``array[key]`` reads."""
    import dask.array as da
    parts = key if isinstance(key, tuple) else (key,)
    arrays = [k for k in parts if hasattr(k, "shape") and not isinstance(k, (int, bool))]
    if len(arrays) > 1:  # several index arrays: NumPy's broadcast, ravelled by hand
        return _ravel_index(shape, parts)
    n = math.prod(shape)
    return da.arange(n, dtype=np.int64).reshape(shape)[key]


def _ravel_index(shape, parts):
    """Flat positions for a key made of one integer index array per axis."""
    if len(parts) != len(shape) or any(not hasattr(k, "shape") for k in parts):
        raise DaskUnsupported("scatter-add on the dask device supports one index array, or "
                              "one index array per axis; Dask has no general fancy indexing")
    stride, flat = 1, 0
    for k, size in zip(reversed(parts), reversed(shape)):
        flat = flat + (k % size) * stride
        stride *= size
    return flat


def _scatter_added(target, key, values):
    """A lazy array of ``target``'s shape holding ``values`` summed at ``key``."""
    import dask.array as da
    positions = _positions(tuple(target.shape), key)
    positions = da.asarray(positions, dtype=np.int64)
    flat = positions.ravel()
    values = da.broadcast_to(da.asarray(values), positions.shape).ravel().rechunk(flat.chunks)
    n = math.prod(target.shape)
    if np.issubdtype(target.dtype, np.complexfloating):
        summed = (da.bincount(flat, weights=values.real, minlength=n)
                  + 1j * da.bincount(flat, weights=values.imag, minlength=n))
    else:
        summed = da.bincount(flat, weights=values, minlength=n)
    return summed.astype(target.dtype).reshape(target.shape)


def _rebind(target, result):
    """Make the Dask array object ``target`` stand for ``result`` (what Dask's
    ``Array.__setitem__`` does: Dask arrays are immutable graphs, but the Python
    object can be pointed at a new one)."""
    target._meta = result._meta
    target.dask = result.dask
    target._name = result.name
    target._chunks = result.chunks
