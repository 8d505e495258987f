"""The array API's data type functions: ``can_cast``, ``finfo``, ``iinfo``,
``isdtype``, ``result_type`` (``astype`` lives with the differentiable ops).

Promotion follows the standard's table (integers of the same signedness widen,
mixed signedness goes to the next wider signed type, floats widen, real and
complex floats combine by precision). Python scalars are weak: they take the
array's dtype when their kind fits. Combinations the standard leaves undefined
(integer with float, ``uint64`` with a signed integer) follow NumPy, so the
answer is what the cpu device computes.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import numpy as np

from . import _dtypes as D

__all__ = ["can_cast", "finfo", "iinfo", "isdtype", "result_type", "finfo_object", "iinfo_object"]

_KINDS = {
    "bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
    "real floating": "f", "complex floating": "c", "numeric": "iufc",
}


def _dtype(x) -> D.DType:
    """The xgrad dtype of a dtype or of an array (tensor or backend array)."""
    if isinstance(x, D.DType):
        return x
    dt = getattr(x, "dtype", None)
    if isinstance(dt, D.DType):
        return dt
    from ._creation import resolve_dtype
    return resolve_dtype(x if dt is None else dt)


def isdtype(dtype, kind) -> bool:
    """Whether ``dtype`` is of ``kind``: a dtype, a kind name ('real floating',
    'integral', 'numeric', ...), or a tuple of these."""
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if not isinstance(dtype, D.DType):
        raise TypeError(f"isdtype expects an xgrad dtype, got {dtype!r}")
    if isinstance(kind, D.DType):
        return dtype is kind
    if isinstance(kind, str):
        try:
            return dtype.kind in _KINDS[kind]
        except KeyError:
            raise ValueError(f"unknown dtype kind {kind!r}; expected one of {sorted(_KINDS)}") from None
    raise TypeError(f"kind must be a dtype, a string or a tuple, got {kind!r}")


def _promote_pair(a: D.DType, b: D.DType) -> D.DType:
    if a is b:
        return a
    ka, kb = a.kind, b.kind
    if {ka, kb} <= {"f", "c"}:  # real and complex floats combine by precision
        bits = builtins.max(_float_bits(a), _float_bits(b))
        if "c" in (ka, kb):
            return D.complex128 if bits == 64 else D.complex64
        return D.float64 if bits == 64 else D.float32
    return D.from_name(np.result_type(np.dtype(a.name), np.dtype(b.name)).name)


def _float_bits(dt: D.DType) -> int:
    return dt.itemsize * 8 if dt.kind == "f" else dt.itemsize * 4


def _scalar_fits(value, dt: D.DType) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return dt.kind in "iufc"
    if isinstance(value, float):
        return dt.kind in "fc"
    return dt.kind == "c"


def _scalar_dtype(value) -> D.DType:
    from ._creation import _scalar_dtype as default_of
    return default_of(value)


def result_type(*arrays_and_dtypes) -> D.DType:
    """The dtype that arrays, dtypes and Python scalars promote to."""
    dtypes = [_dtype(x) for x in arrays_and_dtypes if not isinstance(x, (bool, int, float, complex))]
    scalars = [x for x in arrays_and_dtypes if isinstance(x, (bool, int, float, complex))]
    if not dtypes:
        if not scalars:
            raise ValueError("at least one array or dtype is required")
        dtypes = [_scalar_dtype(scalars.pop(0))]
    out = dtypes[0]
    for dt in dtypes[1:]:
        out = _promote_pair(out, dt)
    for s in scalars:
        if not _scalar_fits(s, out):
            out = D.from_name(np.result_type(np.dtype(out.name), s).name)
    return out


def can_cast(from_, to, /) -> bool:
    """Whether ``from_`` (a dtype or array) casts to ``to`` under the promotion rules."""
    src, dst = _dtype(from_), _dtype(to)
    if src is dst:
        return True
    if src.kind == "b" or dst.kind == "b":
        return False
    if src.kind in "iu" and dst.kind in "fc":
        return False
    if src.kind in "fc" and dst.kind in "iu":
        return False
    if src.kind == "c" and dst.kind == "f":
        return False
    try:
        return _promote_pair(src, dst) is dst
    except TypeError:
        return False


@dataclass(frozen=True)
class finfo_object:
    """Machine limits of a floating-point dtype (``xgrad.finfo``)."""
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: D.DType


@dataclass(frozen=True)
class iinfo_object:
    """Machine limits of an integer dtype (``xgrad.iinfo``)."""
    bits: int
    max: int
    min: int
    dtype: D.DType


def finfo(type, /) -> finfo_object:
    """Limits of a real or complex floating dtype (for complex: of its real part)."""
    dt = _dtype(type)
    if dt.kind not in "fc":
        raise ValueError(f"finfo needs a floating-point dtype, got {dt}")
    real = D.REAL_OF.get(dt, dt)
    info = np.finfo(np.dtype(real.name))
    return finfo_object(int(info.bits), builtins.float(info.eps), builtins.float(info.max),
                        builtins.float(info.min), builtins.float(info.smallest_normal), real)


def iinfo(type, /) -> iinfo_object:
    """Limits of an integer dtype."""
    dt = _dtype(type)
    if dt.kind not in "iu":
        raise ValueError(f"iinfo needs an integer dtype, got {dt}")
    info = np.iinfo(np.dtype(dt.name))
    return iinfo_object(int(info.bits), int(info.max), int(info.min), dt)
