"""The ``cpu`` device: NumPy."""

import functools
import types

import numpy as np

from . import Backend

# NumPy 2 already conforms for these; array_api_compat's wrappers only add call cost.
_NATIVE_WHERE_CONFORMING = ("matmul", "permute_dims", "astype", "asarray", "zeros", "ones",
                            "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like")


# -- NumPy's floating-point warnings ----------------------------------------------------
# NumPy warns on overflow, division by zero and invalid values (log(-1), a cast of 1e300
# to float32); PyTorch is silent, and under ``filterwarnings = error`` (which many
# projects set) such a warning is an exception. xgrad sets NumPy's error state to
# "ignore" around its own computations only (so the user's own NumPy code keeps its
# error state): the dispatcher around each op's forward, the engine once per backward
# pass, and the conversions to arrays. ``token = ignore_fp_errors()`` ...
# ``restore_fp_errors(token)`` is a context-variable set and reset (~0.1 us), not
# ``np.errstate`` (~1 us). (array-api-strict and Dask compute with NumPy too.)
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _ERRSTATE
    from numpy._core.umath import _make_extobj

    ignore_fp_errors = functools.partial(_ERRSTATE.set, _make_extobj(all="ignore"))
    restore_fp_errors = _ERRSTATE.reset
except ImportError:  # a NumPy without these internals: the public, slower context manager
    def ignore_fp_errors():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def restore_fp_errors(token):
        token.__exit__(None, None, None)


def numpy_namespace(compat_module, native_module):
    """compat's namespace with the conforming native functions put back in."""
    xp = types.ModuleType(compat_module.__name__ + "+native")
    xp.__dict__.update({k: v for k, v in vars(compat_module).items() if not k.startswith("__")})
    for name in _NATIVE_WHERE_CONFORMING:
        if hasattr(native_module, name):
            setattr(xp, name, getattr(native_module, name))
    return xp


class NumpyBackend(Backend):
    name = "cpu"
    fancy_indexing = "native"
    check_index_bounds = False  # NumPy raises IndexError itself

    def __init__(self):
        super().__init__()
        # numpy's scalar types (np.float32) are not dtypes: key by np.dtype
        self.to_native = {dt: np.dtype(dt.name) for dt in self.to_native}
        self.from_native = {v: k for k, v in self.to_native.items()}
        self._rng = np.random.default_rng()

    def load_namespace(self):
        if int(np.__version__.split(".")[0]) < 2:
            raise ImportError("xgrad needs NumPy 2 or newer")
        import array_api_compat.numpy as compat
        return numpy_namespace(compat, np)

    def native_device(self, index):
        return "cpu"

    def asarray(self, obj, dtype, index, copy=None):
        token = ignore_fp_errors()  # a cast that overflows (1e300 to float32) is inf, silently
        try:
            return np.asarray(obj, dtype=dtype) if copy is None else np.array(obj, dtype=dtype, copy=copy)
        finally:
            restore_fp_errors(token)

    def to_numpy(self, array):
        return np.asarray(array)

    def move(self, array, index):
        return array

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def rng(self, index):
        return self._rng

    def random(self, method, shape, dtype, index, **kwargs):
        return host_random(self._rng, method, shape, self.to_native[dtype], **kwargs)

    def ensure_buffer(self, array):
        return array if type(array) is np.ndarray else np.asarray(array)

    def writable(self, array):
        if type(array) is not np.ndarray:
            return None  # a NumPy scalar (a 0-d result): replaced, not written into
        return array.flags.writeable

    def owns(self, array):
        return type(array) is np.ndarray and array.base is None and array.flags.writeable

    def scatter_add(self, target, key, values):
        np.add.at(target, key, values)

    def linalg_eig(self, array):
        w, v = np.linalg.eig(array)  # real arrays where every eigenvalue is real: made complex
        complex_dtype = np.result_type(array.dtype, np.complex64)
        return w.astype(complex_dtype, copy=False), v.astype(complex_dtype, copy=False)

    def special_function(self, name):
        try:
            import scipy.special
        except ImportError:
            return None
        return getattr(scipy.special, name, None)


def host_random(rng, method, shape, dtype, **kwargs):
    """Draw from a NumPy Generator straight into ``dtype`` where it can."""
    if method in ("random", "standard_normal") and dtype in (np.float32, np.float64):
        return getattr(rng, method)(shape, dtype=dtype)
    return np.asarray(getattr(rng, method)(size=shape, **kwargs)).astype(dtype, copy=False)
