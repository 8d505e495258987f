"""Devices and the array libraries behind them.

A :class:`Device` names a backend and a device within it: ``"cpu"`` (NumPy),
``"cuda"`` / ``"cuda:1"`` (CuPy), ``"strict"`` / ``"strict:1"`` (array-api-strict,
whose devices 1 and 2 stand in for a second and third device in tests).
Other array API libraries join with :func:`register_backend`.

This package knows nothing of autograd. A backend is a few lines: its
namespace, its devices, transfers to and from the host, and a random generator.
"""

from __future__ import annotations

import functools
import importlib
import threading
import types

from .._dtypes import ALL_DTYPES, DType, float32 as _FLOAT32

__all__ = ["Device", "Backend", "device", "register_backend", "backend_names",
           "device_available", "BackendUnavailable"]


class BackendUnavailable(RuntimeError):
    """A backend's library is not installed, or the device asked for is not there."""


class Backend:
    """One array library. Subclasses fill in the hooks below; keep them short.

    ``xp`` is the array API namespace used by every rule. ``indexed`` says whether
    devices carry an index (``cuda:0``) or not (``cpu``).
    """

    name: str = ""
    indexed: bool = False
    # functions ("linalg.det") this backend lacks or limits -> a note; "no: ..." = unsupported
    limits: dict = {}
    # how advanced indexing runs (xgrad/ops/advanced_index.py): "native" (NumPy-style
    # fancy indexing, writes through views), "hooks" (the getitem/scatter_add hooks) or
    # "composed" (standard functions only: take, where, argsort, searchsorted)
    fancy_indexing: str = "composed"
    # whether xgrad checks index arrays against the sizes (False: the library raises
    # itself, or cannot know without computing)
    check_index_bounds: bool = True

    def __init__(self):
        self.xp = _own_namespace(self.load_namespace(), self)
        self.to_native: dict[DType, object] = {}
        self.from_native: dict[object, DType] = {}
        for dt in ALL_DTYPES:
            native = getattr(self.xp, dt.name, None)
            if native is not None:
                self.to_native[dt] = native
                self.from_native[native] = dt

    @functools.cached_property
    def inexact_natives(self) -> frozenset:
        """The native dtypes of this backend that are floating or complex (the
        dispatcher's cheap "no promotion needed" test)."""
        return frozenset(n for dt, n in self.to_native.items() if dt.is_inexact)

    # -- hooks -------------------------------------------------------------
    def load_namespace(self):
        raise NotImplementedError

    def device_count(self) -> int:
        return 1

    def native_device(self, index):
        """The library's own device object for ``index`` (None for unindexed backends)."""
        return None

    def device_context(self, index):
        """A context manager that makes ``index`` current (CuPy); a no-op elsewhere."""
        return _NULL_CONTEXT

    def asarray(self, obj, dtype, index, copy=None):
        """A backend array from host data (Python scalars, lists, NumPy arrays)."""
        with self.device_context(index):
            return self.xp.asarray(obj, dtype=dtype, device=self.native_device(index), copy=copy)

    def to_numpy(self, array):
        """A NumPy array with the same values (a copy where the data is elsewhere)."""
        raise NotImplementedError

    def move(self, array, index):
        """``array`` (of this backend) on device ``index`` of this backend."""
        return array.to_device(self.native_device(index))

    def rng(self, index):
        """The random generator of device ``index``: a NumPy-style ``Generator``."""
        raise NotImplementedError

    def seed(self, seed: int) -> None:
        """Reseed the generators of every device of this backend."""
        raise NotImplementedError

    def random(self, method: str, shape, dtype: DType, index, **kwargs):
        """Draw ``rng.method(size=shape, **kwargs)`` on device ``index`` as xgrad ``dtype``."""
        raise NotImplementedError

    def ensure_buffer(self, array):
        """``array`` as a real, mutable array object (NumPy turns 0-d results into scalars)."""
        return array

    def writable(self, array) -> bool:
        """Whether in-place operators may write into ``array``."""
        return True

    def owns(self, array) -> bool:
        """Whether ``array`` holds its own memory (it is no view of another array) and
        may be written: autograd then sums gradients into it in place when nothing
        else refers to it. False, the safe answer, where the backend cannot tell."""
        return False

    def scatter_add(self, target, key, values):
        """``target[key] += values`` with repeated indices adding up (in place).

        This default uses standard functions only, for the one form xgrad's composed
        indexing asks of a backend without a scatter of its own: ``key`` a 1-D integer
        array of rows of ``target`` (axis 0), ``values`` of shape
        ``key.shape + target.shape[1:]``. It adds with a one-hot matrix product, in
        blocks of indices (exact sums; work rows x indices: libraries with a scatter
        override it)."""
        xp = self.xp
        if isinstance(key, tuple) or getattr(key, "ndim", None) != 1:
            raise NotImplementedError(
                f"the {self.name} backend has no scatter-add for the key {key!r}: xgrad's "
                "standard-only default takes one 1-D index array on axis 0")
        m, n = int(target.shape[0]), int(key.shape[0])
        width = 1
        for s in target.shape[1:]:
            width *= int(s)
        if m == 0 or n == 0 or width == 0:
            return
        flat = xp.reshape(values, (n, width))
        rows = xp.arange(m, dtype=key.dtype, device=key.device)[:, None]
        total = None
        block = max(1, (1 << 22) // m)  # a one-hot block of at most ~4M entries
        for start in range(0, n, block):
            stop = min(n, start + block)  # (the standard leaves bounds out of range unspecified)
            onehot = xp.astype(rows == key[None, start:stop], values.dtype)
            part = xp.matmul(onehot, flat[start:stop, ...])
            total = part if total is None else total + part
        target[...] = target + xp.reshape(total, tuple(target.shape))

    def special_function(self, name):
        """A native elementwise special function of this backend's arrays under SciPy's
        name (``"erf"``, ``"gammaln"``, ...), or None: ``xgrad/ops/special.py`` then
        uses its portable version, written against the standard."""
        return None

    def linalg_eig(self, array):
        """``(eigenvalues, eigenvectors)`` of a (batch of) square matrix, both complex
        (eigenvectors of unit norm, as LAPACK's ``geev`` gives them), for
        ``xgrad.linalg.eig``: the array API standard has no general (non-symmetric)
        eigendecomposition, so a backend offers its library's own. This default (for
        libraries without one: array-api-strict, CuPy) raises, naming the device."""
        raise NotImplementedError(
            f"linalg.eig: the {self.name!r} device's array library has no general "
            "(non-symmetric) eigendecomposition (the array API standard has none); compute "
            "it on a device that has one (cpu: NumPy) and move the result back")

    def getitem(self, array, key):
        """``array[key]`` for an advanced (integer-array) key; backends whose arrays lack
        some of NumPy's indexing (Dask: several index arrays) override it."""
        return array[key]

    def synchronize(self, index) -> None:
        """Wait for the device's queued work (a no-op on synchronous backends)."""

    def materialize(self, arrays) -> list:
        """``arrays`` with their values computed, in one pass (lazy backends: Dask);
        eager backends hand them back unchanged."""
        return list(arrays)


def _own_namespace(namespace, backend):
    """A module object of our own with the namespace's functions, marked with its
    backend (rules tell raw-array mode from tensor mode by ``__xgrad_backend__``)."""
    own = types.ModuleType(f"xgrad.backends[{backend.name}]")
    own.__dict__.update({k: v for k, v in vars(namespace).items()
                         if not (k.startswith("__") and k.endswith("__"))})
    for extension in ("linalg", "fft"):  # extensions may be loaded lazily by __getattr__
        if extension not in own.__dict__:
            try:
                setattr(own, extension, getattr(namespace, extension))
            except AttributeError:
                pass
    own.__xgrad_backend__ = backend
    own.__getattr__ = _missing_function(backend.name)
    return own


def _missing_function(backend_name):
    """The namespace's ``__getattr__``: a clear error naming the backend and the function."""
    def __getattr__(name):
        raise AttributeError(f"the {backend_name!r} backend has no array API function {name!r}; "
                             f"xgrad cannot run this operation on {backend_name} devices")
    return __getattr__


class _NullContext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()

# name -> (module path, class name) or Backend subclass; loaded on first use
_BACKEND_SPECS: dict[str, object] = {
    "cpu": ("xgrad.backends._numpy", "NumpyBackend"),
    "cuda": ("xgrad.backends._cupy", "CupyBackend"),
    "strict": ("xgrad.backends._strict", "StrictBackend"),
    "dask": ("xgrad.backends._dask", "DaskBackend"),
}
_BACKENDS: dict[str, Backend] = {}
_LOCK = threading.Lock()
_SEED: list = [None]  # the seed of manual_seed, also for backends loaded later


def set_seed(seed: int) -> None:
    """Reseed every loaded backend, and remember the seed for those loaded later."""
    _SEED[0] = seed
    for backend in list(_BACKENDS.values()):
        backend.seed(seed)
    from .._compile import _hooks
    _hooks.side_effect(set_seed, seed)  # (xgrad.compile: a replay reseeds too)


def dtype_of_native(native) -> DType:
    """The xgrad dtype of any loaded backend's native dtype object."""
    for backend in list(_BACKENDS.values()):
        # compare only with dtypes of the same library (strict warns on cross-library ==)
        if _library_of(native) == _library_of(backend.to_native[_FLOAT32]):
            dt = backend.from_native.get(native)
            if dt is not None:
                return dt
    raise TypeError(f"{native!r} is not a dtype of any loaded backend")


def _library_of(obj) -> str:
    return type(obj).__module__.partition(".")[0]


def register_backend(name: str, backend_class: type[Backend]) -> None:
    """Make ``name`` a device type backed by ``backend_class`` (a :class:`Backend`)."""
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        raise TypeError("register_backend needs a subclass of xgrad.backends.Backend")
    with _LOCK:
        _BACKEND_SPECS[name] = backend_class
        _BACKENDS.pop(name, None)


def backend_names() -> list[str]:
    """Every device type xgrad knows of, installed or not."""
    return list(_BACKEND_SPECS)


def get_backend(name: str) -> Backend:
    """The loaded backend called ``name``; a clear error if its library is missing."""
    backend = _BACKENDS.get(name)
    if backend is not None:
        return backend
    with _LOCK:
        if name in _BACKENDS:
            return _BACKENDS[name]
        spec = _BACKEND_SPECS.get(name)
        if spec is None:
            raise ValueError(f"unknown device type {name!r}; known: {', '.join(_BACKEND_SPECS)}")
        if isinstance(spec, tuple):
            spec = getattr(importlib.import_module(spec[0]), spec[1])
        backend = spec()
        if _SEED[0] is not None:
            backend.seed(_SEED[0])
        _BACKENDS[name] = backend
        return backend


class Device:
    """A device: a backend type and, for indexed backends, a device number.

    Devices are interned: ``xgrad.device("cuda:0") is xgrad.device("cuda:0")``.
    A device compares equal to its string form (``t.device == "cpu"``).
    """

    __slots__ = ("type", "index", "backend", "xp", "inexact", "_str", "__weakref__")

    def __init__(self, type_: str, index: int | None, backend: Backend):
        self.type = type_
        self.index = index
        self.backend = backend
        self.xp = backend.xp
        self.inexact = backend.inexact_natives  # floating/complex native dtypes (promotion)
        self._str = type_ if index is None else f"{type_}:{index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self) -> str:
        return self._str

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, BackendUnavailable):
                return False
        return self is other

    def __hash__(self) -> int:
        return hash(self._str)

    def __reduce__(self):
        return (device, (self._str,))

    @property
    def native(self):
        """The backend library's own device object."""
        return self.backend.native_device(self.index)


_DEVICES: dict[str, Device] = {}


def device(spec=None) -> Device:
    """Parse ``spec`` ("cpu", "cuda", "cuda:1", "strict:2", a Device; None: the default).

    Raises :class:`BackendUnavailable` when the backend is not installed or the
    device index does not exist, and ValueError for an unknown device type.
    """
    if isinstance(spec, Device):
        return spec
    if spec is None:
        from ..config import get_default_device
        return get_default_device()
    cached = _DEVICES.get(spec) if isinstance(spec, str) else None
    if cached is not None:
        return cached
    if not isinstance(spec, str):
        spec = _from_native_device(spec)
        if isinstance(spec, Device):
            return spec
    type_, _, index_text = spec.strip().partition(":")
    backend = get_backend(type_)
    if backend.indexed:
        index = int(index_text) if index_text else 0
        count = backend.device_count()
        if not 0 <= index < count:
            raise BackendUnavailable(
                f"device {type_}:{index} does not exist: {type_} has {count} device(s)")
    elif index_text not in ("", "0"):
        raise ValueError(f"device type {type_!r} has no device index; got {spec!r}")
    else:
        index = None
    key = type_ if index is None else f"{type_}:{index}"
    with _LOCK:
        dev = _DEVICES.get(key)
        if dev is None:
            dev = _DEVICES[key] = Device(type_, index, backend)
        _DEVICES[spec] = dev
    return dev


def _from_native_device(native):
    """Map a backend's own device object (or PyTorch-style object) to a device string."""
    for name, backend in list(_BACKENDS.items()):
        if backend.indexed:
            for i in range(backend.device_count()):
                if backend.native_device(i) == native:
                    return device(f"{name}:{i}")
    text = str(native)
    if text in ("cpu", "CPU"):
        return "cpu"
    raise ValueError(f"cannot interpret {native!r} as a device")


def device_available(spec: str) -> str | None:
    """None if ``spec`` can be used here, else the reason it cannot (for test skips)."""
    try:
        device(spec)
    except (BackendUnavailable, ImportError) as exc:
        return str(exc)
    return None
