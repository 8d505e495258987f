"""``xgrad.__array_namespace_info__()``: what this namespace supports, per device."""

from __future__ import annotations

from . import _dtypes as D

__all__ = ["__array_namespace_info__", "Info"]

_KIND_ORDER = {
    "bool": ("bool",),
    "signed integer": ("int8", "int16", "int32", "int64"),
    "unsigned integer": ("uint8", "uint16", "uint32", "uint64"),
    "real floating": ("float32", "float64"),
    "complex floating": ("complex64", "complex128"),
}
_KIND_ORDER["integral"] = _KIND_ORDER["signed integer"] + _KIND_ORDER["unsigned integer"]
_KIND_ORDER["numeric"] = (_KIND_ORDER["integral"] + _KIND_ORDER["real floating"]
                          + _KIND_ORDER["complex floating"])


class Info:
    """The array API inspection object (``capabilities``, ``default_device``,
    ``default_dtypes``, ``devices``, ``dtypes``)."""

    __module__ = "xgrad"

    def capabilities(self) -> dict:
        """Boolean indexing and data-dependent shapes are supported; 64 dimensions at most."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self):
        """The current default device (``XGRAD_DEVICE``, ``set_default_device``)."""
        from .config import get_default_device
        return get_default_device()

    def default_dtypes(self, *, device=None) -> dict:
        """The default dtypes: the default float (float32 unless set), int64 for
        integers and indices."""
        from .config import get_default_dtype
        real = get_default_dtype()
        return {"real floating": real, "complex floating": D.COMPLEX_OF[real],
                "integral": D.int64, "indexing": D.int64}

    def devices(self) -> list:
        """Every device usable here (backends that are not installed are left out)."""
        from .backends import backend_names, device, device_available, get_backend
        out = []
        for name in backend_names():
            if device_available(name) is not None:
                continue
            backend = get_backend(name)
            if backend.indexed:
                out.extend(device(f"{name}:{i}") for i in range(backend.device_count()))
            else:
                out.append(device(name))
        return out

    def dtypes(self, *, device=None, kind=None) -> dict:
        """The dtypes ``device`` supports, by name, optionally only those of ``kind``."""
        from .backends import device as parse_device
        dev = parse_device(device)
        names = _names(kind)
        return {n: D.from_name(n) for n in names if D.from_name(n) in dev.backend.to_native}


def _names(kind) -> tuple:
    if kind is None:
        return ("bool",) + _KIND_ORDER["numeric"]
    if isinstance(kind, tuple):
        seen = []
        for k in kind:
            seen.extend(n for n in _names(k) if n not in seen)
        return tuple(seen)
    if isinstance(kind, D.DType):
        return (kind.name,)
    try:
        return _KIND_ORDER[kind]
    except KeyError:
        raise ValueError(f"unknown dtype kind {kind!r}") from None


def __array_namespace_info__() -> Info:
    """The inspection namespace of the array API standard."""
    return Info()
