"""The array API's data type functions: ``can_cast``, ``finfo``, ``iinfo``,
``isdtype``, ``result_type`` (``astype`` lives with the differentiable ops).

Promotion is PyTorch's (:mod:`xgrad._promotion`), the same rule the operators
apply on every device: between dtypes it is the standard's table, and where the
standard leaves the answer to the implementation (integer with float) it is
PyTorch's (the float). 0-d tensors and Python scalars are weak, as in PyTorch.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import numpy as np

from . import _dtypes as D
from . import _promotion

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
            return dtype._kind in _KINDS[kind]
        except KeyError:
            raise ValueError(f"unknown dtype kind {kind!r}; expected one of {sorted(_KINDS)}") from None
    raise TypeError(f"kind must be a dtype, a string or a tuple, got {kind!r}")


def result_type(*arrays_and_dtypes) -> D.DType:
    """The dtype that tensors, dtypes and Python scalars promote to: PyTorch's rules
    (``torch.result_type``), which xgrad's operators follow on every device. Dtypes
    and tensors with dimensions decide; 0-d tensors and Python scalars only raise the
    category (bool < integer < float < complex): ``result_type(int_tensor, 0.5)`` is
    the default float dtype, ``result_type(float32_tensor, float64_0d)`` is float32.
    Between dtypes alone this is the array API standard's table, extended to mixed
    kinds as PyTorch does (integer with float: the float)."""
    return _promotion.result_type(*arrays_and_dtypes)


def can_cast(from_, to, /) -> bool:
    """Whether ``from_`` (a dtype or array) casts to ``to`` under the promotion rules."""
    src, dst = _dtype(from_), _dtype(to)
    if src is dst:
        return True
    sk, dk = src._kind, dst._kind
    if sk == "b" or dk == "b":
        return False
    if sk in "iu" and dk in "fc":
        return False
    if sk in "fc" and dk in "iu":
        return False
    if sk == "c" and dk == "f":
        return False
    try:
        return _promotion.promote_types(src, dst) is dst
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
    if dt._kind not in "fc":
        raise ValueError(f"finfo needs a floating-point dtype, got {dt}")
    real = D.REAL_OF.get(dt, dt)
    if real is D.bfloat16:  # NumPy has no bfloat16: its limits, as torch.finfo gives them
        return finfo_object(16, 2.0 ** -7, 3.3895313892515355e+38, -3.3895313892515355e+38,
                            2.0 ** -126, real)
    info = np.finfo(np.dtype(real.name))
    return finfo_object(int(info.bits), builtins.float(info.eps), builtins.float(info.max),
                        builtins.float(info.min), builtins.float(info.smallest_normal), real)


def iinfo(type, /) -> iinfo_object:
    """Limits of an integer dtype."""
    dt = _dtype(type)
    if dt._kind not in "iu":
        raise ValueError(f"iinfo needs an integer dtype, got {dt}")
    info = np.iinfo(np.dtype(dt.name))
    return iinfo_object(int(info.bits), int(info.max), int(info.min), dt)
