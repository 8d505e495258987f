"""The ``strict`` devices: array-api-strict, for testing that rules use only the standard.

``strict:0`` is its CPU device; ``strict:1`` and ``strict:2`` are its extra
devices, so tests can exercise transfers and mixed-device errors without a GPU.
"""

import numpy as np

from . import Backend, BackendUnavailable
from ._numpy import host_random

_NATIVE_NAMES = ("CPU_DEVICE", "device1", "device2")


class StrictBackend(Backend):
    name = "strict"
    indexed = True

    def __init__(self):
        super().__init__()
        self._rng = np.random.default_rng()
        self._devices = [self.xp.Device(n) for n in _NATIVE_NAMES]

    def load_namespace(self):
        try:
            import array_api_strict
        except ImportError as exc:
            raise BackendUnavailable(
                "the 'strict' device needs array-api-strict: pip install array-api-strict") from exc
        return array_api_strict

    def device_count(self):
        return len(_NATIVE_NAMES)

    def native_device(self, index):
        return self._devices[index]

    def to_numpy(self, array):
        return np.array(np.from_dlpack(array))

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def rng(self, index):
        return self._rng

    def random(self, method, shape, dtype, index, **kwargs):
        host = host_random(self._rng, method, shape, np.dtype(dtype.name), **kwargs)
        return self.xp.asarray(host, device=self._devices[index])

    def scatter_add(self, target, key, values):
        # array-api-strict has no scatter-add: do it on the host, then write back in place
        host = self.to_numpy(target)
        np.add.at(host, _host_key(self, key), self.to_numpy(values))
        target[...] = self.xp.asarray(host, device=target.device)


def _host_key(backend, key):
    if isinstance(key, tuple):
        return tuple(_host_key(backend, k) for k in key)
    if hasattr(key, "__array_namespace__"):
        return backend.to_numpy(key)
    return key
