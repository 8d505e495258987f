"""Backend-independent data types.

An xgrad dtype names a type (``xgrad.float32``); each backend maps it to its own
native dtype object. Tensors report xgrad dtypes, so code compares dtypes the
same way whatever array library holds the data.
"""

from __future__ import annotations

__all__ = ["DType", "ALL_DTYPES", "from_name"]


class DType:
    """A data type, compared by identity (``x.dtype is xgrad.float32``).

    ``_kind`` is 'b' (bool), 'i', 'u', 'f' (real float) or 'c' (complex). It is
    private on purpose: an attribute named ``kind`` makes code that duck-types
    "is this a NumPy dtype?" (scikit-learn, pandas) hand xgrad dtypes to NumPy.
    Ask ``is_floating_point``, ``is_complex``, ``is_signed``, ``is_inexact`` or
    :func:`xgrad.isdtype` instead.
    """

    __slots__ = ("name", "_kind", "itemsize")

    def __init__(self, name: str, kind: str, itemsize: int):
        self.name = name
        self._kind = kind
        self.itemsize = itemsize

    def __repr__(self) -> str:
        return f"xgrad.{self.name}"

    __str__ = __repr__

    def __reduce__(self):  # dtypes are singletons, also after pickling
        return (from_name, (self.name,))

    @property
    def is_floating_point(self) -> bool:
        """True for real floating dtypes (PyTorch's ``dtype.is_floating_point``)."""
        return self._kind == "f"

    @property
    def bits(self) -> int:
        """Bits per element (``itemsize * 8``), as ``torch.dtype.itemsize * 8``."""
        return self.itemsize * 8

    @property
    def is_complex(self) -> bool:
        return self._kind == "c"

    @property
    def is_signed(self) -> bool:
        return self._kind in "ifc"

    @property
    def is_inexact(self) -> bool:
        """Floating or complex: the dtypes that can carry gradients."""
        return self._kind in "fc"


bool_ = DType("bool", "b", 1)
int8 = DType("int8", "i", 1)
int16 = DType("int16", "i", 2)
int32 = DType("int32", "i", 4)
int64 = DType("int64", "i", 8)
uint8 = DType("uint8", "u", 1)
uint16 = DType("uint16", "u", 2)
uint32 = DType("uint32", "u", 4)
uint64 = DType("uint64", "u", 8)
float16 = DType("float16", "f", 2)
bfloat16 = DType("bfloat16", "f", 2)
float32 = DType("float32", "f", 4)
float64 = DType("float64", "f", 8)
complex64 = DType("complex64", "c", 8)
complex128 = DType("complex128", "c", 16)

ALL_DTYPES = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
              float16, bfloat16, float32, float64, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
# PyTorch spellings accepted wherever a dtype is parsed from a string.
_BY_NAME.update({"float": float32, "double": float64, "long": int64, "int": int32,
                 "short": int16, "cfloat": complex64, "cdouble": complex128,
                 "half": float16})

# the complex dtype with the same precision as a real one, and back
# (float16/bfloat16 have no complex of their own here: PyTorch's complex32 is missing in
# NumPy, so they map to complex64)
COMPLEX_OF = {float16: complex64, bfloat16: complex64, float32: complex64, float64: complex128}
REAL_OF = {complex64: float32, complex128: float64}


def from_name(name: str) -> DType:
    """The dtype called ``name`` ('float32', 'float64', 'double', ...)."""
    name = name.removeprefix("xgrad.").removeprefix("torch.")
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; expected one of "
                         f"{sorted(d.name for d in ALL_DTYPES)}") from None
