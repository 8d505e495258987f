"""The ``cuda`` devices: CuPy."""

from . import Backend, BackendUnavailable


class CupyBackend(Backend):
    name = "cuda"
    indexed = True
    fancy_indexing = "native"  # (CuPy wraps indices out of range: xgrad checks them)

    def __init__(self):
        super().__init__()
        import numpy as np
        self.to_native = {dt: np.dtype(dt.name) for dt in self.to_native}
        self.from_native = {v: k for k, v in self.to_native.items()}
        self._rngs = {}
        self._seed = None

    def load_namespace(self):
        try:
            import cupy
            import array_api_compat.cupy as compat
        except ImportError as exc:
            raise BackendUnavailable(
                "the 'cuda' device needs CuPy: pip install 'xgrad[cuda]' "
                "(cupy-cuda12x or cupy-cuda13x, matching your CUDA driver)") from exc
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no driver, no device
            raise BackendUnavailable(f"CuPy is installed but no CUDA device is usable: {exc}") from exc
        if count == 0:
            raise BackendUnavailable("CuPy is installed but no CUDA device was found")
        self._cupy = cupy
        return compat

    def device_count(self):
        return self._cupy.cuda.runtime.getDeviceCount()

    def native_device(self, index):
        return self._cupy.cuda.Device(index)

    def device_context(self, index):
        return self._cupy.cuda.Device(index)

    def asarray(self, obj, dtype, index, copy=None):
        with self._cupy.cuda.Device(index):
            if copy is None:
                return self._cupy.asarray(obj, dtype=dtype)
            return self._cupy.array(obj, dtype=dtype, copy=copy)

    def to_numpy(self, array):
        return self._cupy.asnumpy(array)

    def move(self, array, index):
        with self._cupy.cuda.Device(index):
            return self._cupy.asarray(array)

    def seed(self, seed):
        self._seed = seed
        self._rngs.clear()

    def rng(self, index):
        rng = self._rngs.get(index)
        if rng is None:
            seed = None if self._seed is None else self._seed + index
            with self._cupy.cuda.Device(index):
                rng = self._rngs[index] = self._cupy.random.default_rng(seed)
        return rng

    def random(self, method, shape, dtype, index, **kwargs):
        rng, native = self.rng(index), self.to_native[dtype]
        with self._cupy.cuda.Device(index):
            if method in ("random", "standard_normal") and dtype._kind == "f":
                return getattr(rng, method)(shape, dtype=native)
            return getattr(rng, method)(size=shape, **kwargs).astype(native, copy=False)

    def scatter_add(self, target, key, values):
        import cupyx
        cupyx.scatter_add(target, key, values)

    def special_function(self, name):
        try:
            import cupyx.scipy.special as special
        except ImportError:
            return None
        return getattr(special, name, None)

    def synchronize(self, index):
        with self._cupy.cuda.Device(index):
            self._cupy.cuda.get_current_stream().synchronize()
