"""Making tensors: from data, filled, ranges, random; dtype and device parsing.

Both the array API's forms (``zeros(shape, dtype=, device=)``) and PyTorch's
(``zeros(2, 3)``, ``randn(size=(2, 3), requires_grad=True)``) are accepted.
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import _dtypes
from ._tensor import Tensor, _wrap
from .backends import BackendUnavailable, Device, device as parse_device, get_backend
from .backends._numpy import ignore_fp_errors, restore_fp_errors
from .config import get_default_device, get_default_dtype

__all__ = ["tensor", "asarray", "as_tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full",
           "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace",
           "eye", "rand", "randn", "randint", "randperm", "normal", "rand_like", "randn_like",
           "manual_seed", "seed", "meshgrid", "tril", "triu", "compute"]


# -- dtypes and devices ---------------------------------------------------------

def resolve_dtype(dtype):
    """An xgrad dtype from a dtype, a name, a Python type, or a NumPy/backend dtype."""
    if dtype is None or isinstance(dtype, _dtypes.DType):
        return dtype
    if dtype is builtins.float:
        return get_default_dtype()
    if dtype is builtins.int:
        return _dtypes.int64
    if dtype is builtins.bool:
        return _dtypes.bool_
    if dtype is builtins.complex:
        return _dtypes.COMPLEX_OF[get_default_dtype()]
    if isinstance(dtype, str):
        return _dtypes.from_name(dtype)
    name = getattr(dtype, "name", None) or str(dtype).rsplit(".", 1)[-1]
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    return _dtypes.from_name(str(name))


def native_dtype(dtype, device: Device):
    """The backend's own dtype object for ``dtype`` on ``device``."""
    dt = resolve_dtype(dtype)
    try:
        return device.backend.to_native[dt]
    except KeyError:
        raise TypeError(f"{dt} is not supported on the {device.type} device (its array library "
                        f"has no {dt.name}; float16 works on cpu and cuda)") from None


def _device(device) -> Device:
    return get_default_device() if device is None else parse_device(device)


def _finish(data, dev, requires_grad):
    t = _wrap(data, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor_arg(x) -> Tensor:
    """``x`` if it is a tensor, else ``asarray(x)`` (for functions given plain data)."""
    return x if isinstance(x, Tensor) else asarray(x)


# -- from data --------------------------------------------------------------------

def _owning_backend(obj):
    """The device of a backend array (NumPy, CuPy, array-api-strict, ...), or None."""
    if isinstance(obj, (np.ndarray, np.generic)):
        return parse_device("cpu")
    module = type(obj).__module__.split(".")[0]
    if module == "cupy":
        return parse_device(f"cuda:{obj.device.id}")
    if module == "array_api_strict":
        backend = get_backend("strict")
        for i in range(backend.device_count()):
            if backend.native_device(i) == obj.device:
                return parse_device(f"strict:{i}")
    if module == "dask" and hasattr(obj, "chunks"):
        return parse_device("dask")
    return None


def _chunked(obj, dt, device, chunks):
    """Host data or a Dask array as a Dask array with ``chunks`` (``asarray(..., chunks=)``)."""
    if device is not None and parse_device(device).type != "dask":
        raise ValueError(f"chunks= is for the dask device, not {device}")
    from .backends._dask import is_dask_array, with_chunks
    if not is_dask_array(obj) and not isinstance(obj, Tensor):
        obj = _host_array(obj, dt)
    return with_chunks(obj, chunks)


def _host_array(obj, dtype):
    """Python data (scalars, nested lists) as a NumPy array with PyTorch's dtype rules
    (a value that overflows the dtype, 1e300 as float32, is inf, silently as in PyTorch)."""
    fp = ignore_fp_errors()
    try:
        return _host_array_checked(obj, dtype)
    finally:
        restore_fp_errors(fp)


def _host_array_checked(obj, dtype):
    if isinstance(obj, (list, tuple)):
        obj = _detached(obj)
    if dtype is not None:
        return np.asarray(obj, dtype=np.dtype(dtype.name))
    host = np.asarray(obj)
    if host.dtype.kind in "uOf" and not _holds_numpy(obj):
        _check_python_ints(obj, host)
    if host.dtype == np.float64 and not _holds_numpy(obj):
        host = host.astype(np.dtype(get_default_dtype().name))
    elif host.dtype == np.complex128 and not _holds_numpy(obj):
        host = host.astype(np.dtype(_dtypes.COMPLEX_OF[get_default_dtype()].name))
    elif host.dtype.kind == "i" and not _holds_numpy(obj):
        host = host.astype(np.int64)
    elif host.dtype.kind not in "biufc":
        raise TypeError(f"cannot make a tensor from {type(obj).__name__} data of dtype {host.dtype}")
    return host


def _check_python_ints(obj, host):
    """PyTorch's ``ValueError`` for a Python int outside int64 (``tensor([2**63])``;
    NumPy would make it uint64, object or float64)."""
    if host.dtype.kind == "f" and not (host.size and float(np.max(np.abs(host))) >= 2.0 ** 63):
        return
    stack, too_big = [obj], False
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, (float, complex)):
            return  # the data is floating: ints become floats, as in PyTorch
        elif type(v) is int and not -(1 << 63) <= v < (1 << 63):
            too_big = True
    if too_big:
        raise ValueError("Overflow when unpacking long long: a Python int outside the int64 "
                         "range cannot become an integer tensor (give a float or dtype=)")


def _detached(obj):
    """Nested sequences with tensors replaced by their values (copied, as ``torch.tensor`` does)."""
    if isinstance(obj, Tensor):
        return obj._device.backend.to_numpy(obj._ensure_buffer())
    if isinstance(obj, (list, tuple)):
        return [_detached(o) for o in obj]
    return obj


def _holds_numpy(obj) -> bool:
    if isinstance(obj, (np.ndarray, np.generic)):
        return True
    if isinstance(obj, (list, tuple)) and obj:
        return _holds_numpy(obj[0])
    if isinstance(obj, Tensor):
        return True
    return False


def asarray(obj, /, *, dtype=None, device=None, copy=None, requires_grad=False,
            chunks=None) -> Tensor:
    """A tensor from ``obj`` (array API semantics: shares memory where it can
    unless ``copy=True``; ``copy=False`` raises if a copy is needed).

    Python floats become the default float dtype (float32 unless set); a
    backend array (NumPy, CuPy, Dask, ...) keeps its dtype and device.
    ``chunks`` (dask device only) chunks host data or rechunks a Dask array.
    """
    dt = resolve_dtype(dtype)
    if chunks is not None:
        obj = _chunked(obj, dt, device, chunks)
    if isinstance(obj, Tensor):
        t = obj
        if device is not None:
            target = parse_device(device)
            if target is not t._device:
                if copy is False:
                    raise ValueError("asarray(copy=False) cannot move data between devices")
                from .ops.creation_ops import to_device
                t = to_device(t, target)
        if dt is not None and dt is not t.dtype:
            if copy is False:
                raise ValueError("asarray(copy=False) cannot change the dtype")
            from .ops.creation_ops import astype
            t = astype(t, dt)
        elif copy:
            from .ops.creation_ops import clone
            t = clone(t)
        return t.requires_grad_(True) if requires_grad else t
    source = _owning_backend(obj)
    if source is not None and (device is None or parse_device(device) is source):
        native = None if dt is None else native_dtype(dt, source)
        data = source.backend.asarray(obj, native, source.index, copy=copy)
        return _finish(data, source, requires_grad)
    dev = _device(device)
    if source is not None:  # another backend's array: through the host
        if copy is False:
            raise ValueError("asarray(copy=False) cannot move data between devices")
        obj = source.backend.to_numpy(obj)
    host = _host_array(obj, dt)
    data = dev.backend.asarray(host, native_dtype(_dtypes.from_name(host.dtype.name), dev),
                               dev.index, copy=copy)
    return _finish(data, dev, requires_grad)


def compute(*tensors) -> tuple:
    """The tensors with their values computed, all in one pass per device, so work
    they share is done once (``dask.persist`` on the dask device; eager devices
    have nothing to do). Returns new tensors, detached from the graph, on the same
    devices; on the dask device their chunks are held in memory (or on the workers
    of a distributed Client)."""
    out = list(tensors)
    groups: dict = {}
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"compute() takes tensors, not {type(t).__name__}")
        groups.setdefault(t._device, []).append(i)
    for dev, positions in groups.items():
        arrays = dev.backend.materialize([tensors[i]._data for i in positions])
        for i, array in zip(positions, arrays):
            out[i] = _wrap(array, dev)
    return tuple(out)


def tensor(data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (PyTorch's ``torch.tensor``): on
    ``device``, else on the default device (also for NumPy data, as PyTorch)."""
    if isinstance(data, Tensor):
        data = data.detach()
    elif device is None:
        device = get_default_device()
    t = asarray(data, dtype=dtype, device=device, copy=True)
    if t._grad_fn is not None:
        t = t.detach()
    return t.requires_grad_(True) if requires_grad else t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor sharing ``data``'s memory where possible (PyTorch's ``as_tensor``);
    data that is not a tensor goes to the default device unless ``device`` is given."""
    if device is None and not isinstance(data, Tensor):
        device = get_default_device()
    return asarray(data, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """A cpu tensor sharing a NumPy array's memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return asarray(array, device="cpu")


def from_dlpack(x, /, *, device=None, copy=None) -> Tensor:
    """A tensor from any object with ``__dlpack__``: an xgrad tensor or a backend array
    stays on its device; other CPU data comes to cpu, CUDA data to cuda."""
    source = x._device if isinstance(x, Tensor) else _owning_backend(x)
    if source is not None and source.type != "cpu":  # strict, cuda, ...: that backend's own
        raw = x._ensure_buffer() if isinstance(x, Tensor) else x
        with source.backend.device_context(source.index):
            t = _wrap(source.xp.from_dlpack(raw), source)
        if device is not None or copy:
            t = asarray(t, device=device, copy=copy)
        return t
    kind, index = x.__dlpack_device__()
    if kind == 1:  # kDLCPU
        data = np.from_dlpack(x)
        t = _wrap(data, parse_device("cpu"))
    elif kind == 2:  # kDLCUDA
        backend = get_backend("cuda")
        with backend.device_context(index):
            data = backend._cupy.from_dlpack(x)
        t = _wrap(data, parse_device(f"cuda:{index}"))
    else:
        raise BackendUnavailable(f"DLPack device type {kind} is not supported by xgrad")
    if device is not None or copy:
        t = asarray(t, device=device, copy=copy)
    return t


# -- shapes ---------------------------------------------------------------------

def _dims(shape, more) -> tuple:
    """The positional shape arguments: ``f(shape)`` (standard) or ``f(2, 3)`` (PyTorch)."""
    return () if shape is None else (shape,) + more


def _shape(args, size=None) -> tuple:
    """PyTorch's ``f(2, 3)`` / ``f((2, 3))`` / ``f(size=(2, 3))`` and the standard's ``f(shape)``."""
    if size is not None:
        if args:
            raise TypeError("give the shape either positionally or as size=, not both")
        args = (size,)
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        args = tuple(args[0])
    shape = tuple(int(s) for s in args)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"negative dimension in shape {shape}")
    return shape


def _filled(fn_name, shape, dtype, device, requires_grad):
    dev = _device(device)
    dt = resolve_dtype(dtype) or get_default_dtype()
    with dev.backend.device_context(dev.index):
        data = getattr(dev.xp, fn_name)(shape, dtype=native_dtype(dt, dev), device=dev.native)
    return _finish(data, dev, requires_grad)


def zeros(shape=None, *more, dtype=None, device=None, requires_grad=False, size=None) -> Tensor:
    """A tensor of zeros: ``zeros((2, 3))``, ``zeros(2, 3)`` or ``zeros(size=(2, 3))``."""
    return _filled("zeros", _shape(_dims(shape, more), size), dtype, device, requires_grad)


def ones(shape=None, *more, dtype=None, device=None, requires_grad=False, size=None) -> Tensor:
    """A tensor of ones."""
    return _filled("ones", _shape(_dims(shape, more), size), dtype, device, requires_grad)


def empty(shape=None, *more, dtype=None, device=None, requires_grad=False, size=None) -> Tensor:
    """An uninitialised tensor."""
    return _filled("empty", _shape(_dims(shape, more), size), dtype, device, requires_grad)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return _dtypes.bool_
    if isinstance(value, numbers.Integral):
        return _dtypes.int64
    if isinstance(value, complex):
        return _dtypes.COMPLEX_OF[get_default_dtype()]
    return get_default_dtype()


def full(shape, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``fill_value`` (its dtype from the value unless given)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dev = _device(device)
    dt = resolve_dtype(dtype) or _scalar_dtype(fill_value)
    shape = _shape((shape,) if isinstance(shape, numbers.Integral) else (tuple(shape),))
    with dev.backend.device_context(dev.index):
        data = dev.xp.full(shape, fill_value, dtype=native_dtype(dt, dev), device=dev.native)
    return _finish(data, dev, requires_grad)


def _like(fn, x, dtype, device, requires_grad, *args):
    dtype = dtype if dtype is not None else x.dtype
    device = device if device is not None else x.device
    return fn(*args, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros_like(x, /, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``x``."""
    return _like(zeros, x, dtype, device, requires_grad, x.shape)


def ones_like(x, /, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``x``."""
    return _like(ones, x, dtype, device, requires_grad, x.shape)


def empty_like(x, /, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor like ``x``."""
    return _like(empty, x, dtype, device, requires_grad, x.shape)


def full_like(x, /, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere, with the shape (and dtype, device) of ``x``."""
    return _like(full, x, dtype, device, requires_grad, x.shape, fill_value)


def arange(start, /, stop=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; floats give the default float dtype."""
    values = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        dtype = get_default_dtype() if any(isinstance(v, float) for v in values) else _dtypes.int64
    dev = _device(device)
    with dev.backend.device_context(dev.index):
        data = dev.xp.arange(start, stop, step, dtype=native_dtype(dtype, dev), device=dev.native)
    return _finish(data, dev, requires_grad)


def linspace(start, stop, /, num=None, *, dtype=None, device=None, endpoint=True,
             requires_grad=False, steps=None) -> Tensor:
    """``num`` (PyTorch: ``steps``) evenly spaced values from ``start`` to ``stop``."""
    num = steps if num is None else num
    if num is None:
        raise TypeError("linspace needs num (or steps)")
    dev = _device(device)
    dt = resolve_dtype(dtype) or get_default_dtype()
    with dev.backend.device_context(dev.index):
        data = dev.xp.linspace(start, stop, num, dtype=native_dtype(dt, dev), device=dev.native,
                               endpoint=endpoint)
    return _finish(data, dev, requires_grad)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones on the ``k``-th diagonal, zeros elsewhere."""
    dev = _device(device)
    dt = resolve_dtype(dtype) or get_default_dtype()
    with dev.backend.device_context(dev.index):
        data = dev.xp.eye(n_rows, n_cols, k=k, dtype=native_dtype(dt, dev), device=dev.native)
    return _finish(data, dev, requires_grad)


def meshgrid(*arrays, indexing="xy"):
    """Coordinate grids from 1-D tensors (differentiable)."""
    from .ops.manipulation import broadcast_to, reshape
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        arrays = tuple(arrays[0])
    n = len(arrays)
    sizes = [a.shape[0] for a in arrays]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, a in enumerate(arrays):
        axis = i
        if indexing == "xy" and n >= 2 and i < 2:
            axis = 1 - i
        shape = [1] * n
        shape[axis] = a.shape[0]
        out.append(broadcast_to(reshape(a, tuple(shape)), tuple(sizes)))
    return out


def _triangle(x, k, keep_lower):
    from .ops.searching import where
    rows, cols = x.shape[-2], x.shape[-1]
    r = arange(rows, device=x.device)
    c = arange(cols, device=x.device)
    from .ops.manipulation import expand_dims
    diff = expand_dims(c, axis=0) - expand_dims(r, axis=1)
    mask = diff <= k if keep_lower else diff >= k
    return where(mask, x, 0.0 if x.dtype.is_inexact else 0)


def tril(x, /, *, k=0) -> Tensor:
    """The lower triangle of the last two axes (zeros above diagonal ``k``)."""
    return _triangle(x, k, True)


def triu(x, /, *, k=0) -> Tensor:
    """The upper triangle of the last two axes (zeros below diagonal ``k``)."""
    return _triangle(x, k, False)


# -- random -------------------------------------------------------------------------

def manual_seed(seed: int):
    """Seed the random generators of every backend (loaded now or later)."""
    from . import backends
    backends.set_seed(int(seed))
    return seed


def seed() -> int:
    """Seed every backend from fresh entropy; returns the seed used."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    return manual_seed(s)


def _random(method, shape, dtype, device, requires_grad, **kwargs):
    dev = _device(device)
    dt = resolve_dtype(dtype) or get_default_dtype()
    data = dev.backend.random(method, shape, dt, dev.index, **kwargs)
    return _finish(data, dev, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False, size=None, generator=None) -> Tensor:
    """Uniform samples from [0, 1)."""
    return _random("random", _shape(shape, size), dtype, device, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False, size=None, generator=None) -> Tensor:
    """Standard normal samples."""
    return _random("standard_normal", _shape(shape, size), dtype, device, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers from ``[low, high)`` (``randint(high, size)`` as in PyTorch)."""
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint needs size")
    return _random("integers", _shape((), size), dtype or _dtypes.int64, device, requires_grad,
                   low=low, high=high)


def randperm(n, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    dev = _device(device)
    host = dev.backend.to_numpy(dev.backend.random("random", (n,), _dtypes.float64, dev.index))
    return asarray(np.argsort(host).astype(np.int64), dtype=dtype or _dtypes.int64, device=dev)


def normal(mean=0.0, std=1.0, size=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Normal samples with the given mean and standard deviation."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        z = randn(ref.shape if size is None else _shape((), size), dtype=dtype or ref.dtype,
                  device=device or ref.device)
        return mean + std * z
    z = randn(_shape((), size if size is not None else ()), dtype=dtype, device=device)
    out = z * std + mean
    return out.requires_grad_(True) if requires_grad else out


def rand_like(x, /, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(rand, x, dtype, device, requires_grad, x.shape)


def randn_like(x, /, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(randn, x, dtype, device, requires_grad, x.shape)


# -- Tensor.to(...) arguments -------------------------------------------------------

def parse_to_args(t, *args, device=None, dtype=None, copy=False, non_blocking=False):
    """PyTorch's ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``."""
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (_dtypes.DType, type)) or (isinstance(a, str) and _is_dtype_name(a)):
            dtype = a
        else:
            device = a
    return (None if device is None else parse_device(device),
            resolve_dtype(dtype), copy)


def _is_dtype_name(text: str) -> bool:
    try:
        _dtypes.from_name(text)
        return True
    except ValueError:
        return False
