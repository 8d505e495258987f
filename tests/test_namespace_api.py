"""xgrad as an array API namespace: every function of the standard present, data
type functions, the inspection namespace, constants, the array object's
attributes, and the coverage table."""

import math

import numpy as np
import pytest

import xgrad
from xgrad import array_api as xp
from xgrad import coverage
from xgrad.testing import assert_close

ARRAY_ATTRIBUTES = (
    "__abs__", "__add__", "__and__", "__array_namespace__", "__bool__", "__complex__", "__dlpack__",
    "__dlpack_device__", "__eq__", "__float__", "__floordiv__", "__ge__", "__getitem__", "__gt__",
    "__index__", "__int__", "__invert__", "__le__", "__lshift__", "__lt__", "__matmul__", "__mod__",
    "__mul__", "__ne__", "__neg__", "__or__", "__pos__", "__pow__", "__rshift__", "__setitem__",
    "__sub__", "__truediv__", "__xor__", "to_device", "dtype", "device", "mT", "ndim", "shape",
    "size", "T")


def test_every_standard_function_exists():
    missing = [n for names in coverage.STANDARD.values() for n in names if not hasattr(xgrad, n)]
    assert missing == []


def test_every_function_has_a_gradient_or_a_reason():
    rows = coverage.rows()
    assert [r[1] for r in rows if r[2] == "missing"] == []
    assert [r[1] for r in rows if r[3] == "unknown"] == []
    differentiable = {r[1] for r in rows if r[3] in ("yes", "composed")}
    assert {"exp", "sort", "cumulative_prod", "conj", "diff", "where", "take",
            "floor"} <= differentiable  # floor: a zero gradient, as PyTorch
    assert {r[1] for r in rows if r[3] == "n/a"} >= {"argsort", "isnan", "unique_values"}


def test_coverage_writes_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\nintro\n")
    coverage.write_readme(str(readme))
    coverage.write_readme(str(readme))  # idempotent
    text = readme.read_text()
    assert text.startswith("# title\n\nintro\n\n## Coverage\n")
    assert text.count(coverage.START) == 1 and text.count(coverage.END) == 1
    assert "| elementwise | exp | yes | yes |" in text


def test_constants_and_dtypes():
    assert xgrad.e == math.e and xgrad.pi == math.pi and math.isinf(xgrad.inf)
    assert math.isnan(xgrad.nan) and xgrad.newaxis is None
    for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float32", "float64", "complex64", "complex128"):
        assert getattr(xp, name).name == name


def test_isdtype():
    assert xp.isdtype(xgrad.float32, "real floating")
    assert xp.isdtype(xgrad.uint8, ("bool", "integral"))
    assert not xp.isdtype(xgrad.complex64, "real floating")
    assert xp.isdtype(xgrad.complex64, "numeric") and xp.isdtype(xgrad.int8, xgrad.int8)
    with pytest.raises(ValueError):
        xp.isdtype(xgrad.int8, "nonsense")


@pytest.mark.parametrize("a,b,expected", [
    ("int8", "uint8", "int16"), ("uint16", "uint32", "uint32"), ("int32", "int64", "int64"),
    ("float32", "float64", "float64"), ("float32", "complex64", "complex64"),
    ("float64", "complex64", "complex128"), ("bool", "bool", "bool"), ("uint8", "int64", "int64")])
def test_result_type(a, b, expected):
    assert xp.result_type(getattr(xp, a), getattr(xp, b)) is getattr(xp, expected)


def test_result_type_with_arrays_and_scalars(device):
    x = xp.ones(2, dtype=xgrad.float32, device=device)
    assert xp.result_type(x, 1.0) is xgrad.float32
    assert xp.result_type(xgrad.int16, 3) is xgrad.int16
    assert xp.result_type(x, 1j) is xgrad.complex64
    assert xp.result_type(xgrad.int8, x, xgrad.float64) is xgrad.float64


def test_can_cast():
    assert xp.can_cast(xgrad.int8, xgrad.int16) and xp.can_cast(xgrad.float32, xgrad.complex64)
    assert not xp.can_cast(xgrad.int16, xgrad.int8)
    assert not xp.can_cast(xgrad.float64, xgrad.float32)
    assert not xp.can_cast(xgrad.complex64, xgrad.float64)
    assert not xp.can_cast(xgrad.bool, xgrad.int8)


def test_finfo_iinfo():
    f = xp.finfo(xgrad.float32)
    assert f.bits == 32 and f.eps == float(np.finfo(np.float32).eps) and f.dtype is xgrad.float32
    c = xp.finfo(xgrad.complex128)
    assert c.bits == 64 and c.dtype is xgrad.float64
    assert xp.finfo(xp.ones(1, dtype=xgrad.float64)).max == np.finfo(np.float64).max
    i = xp.iinfo(xgrad.int8)
    assert (i.bits, i.min, i.max, i.dtype) == (8, -128, 127, xgrad.int8)
    with pytest.raises(ValueError):
        xp.iinfo(xgrad.float32)


def test_namespace_info(device):
    info = xp.__array_namespace_info__()
    assert info.capabilities()["boolean indexing"] is True
    assert info.default_device() == xgrad.get_default_device()
    assert device in info.devices()
    dts = info.default_dtypes(device=device)
    assert dts["real floating"] is xgrad.get_default_dtype() and dts["indexing"] is xgrad.int64
    assert set(info.dtypes(device=device, kind="real floating")) == {"float32", "float64"}
    assert "bool" in info.dtypes(device=device) and "int8" in info.dtypes(kind=("bool", "integral"))


def test_array_object_attributes(device):
    x = xgrad.asarray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    for name in ARRAY_ATTRIBUTES:
        assert hasattr(x, name), name
    assert x.__array_namespace__() is xp
    assert x.size == 6 and x.ndim == 2 and x.shape == (2, 3) and x.device == device
    assert_close(x.mT, np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]))
    assert_close(x.T, x.mT)
    assert x.to_device(device) is x
    assert int(x[0, 1]) == 2 and float(x[1, 2]) == 6.0 and complex(x[0, 0]) == 1
    i = xgrad.asarray([3, 5], device=device)
    assert_close(i << 1, [6, 10])
    assert_close(i >> 1, [1, 2])
    assert_close(~i, [-4, -6])
    assert_close(i % 2, [1, 1])
    assert_close(-(x @ x.mT), -(np.arange(1, 7.0).reshape(2, 3) @ np.arange(1, 7.0).reshape(2, 3).T))


def test_creation_signatures(device):
    assert xp.zeros((2, 3), device=device).shape == (2, 3)
    assert xp.ones(2, 3, device=device).shape == (2, 3)  # PyTorch style
    assert xp.empty(shape=(4,), device=device).shape == (4,)
    assert xp.full((2,), 7, device=device).dtype is xgrad.int64
    assert_close(xp.arange(1, 7, 2, device=device), [1, 3, 5])
    assert_close(xp.linspace(0, 1, 5, device=device, endpoint=False), np.linspace(0, 1, 5, endpoint=False))
    assert_close(xp.eye(2, 3, k=1, device=device), np.eye(2, 3, k=1))
    x = xgrad.asarray([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert_close(xp.tril(x), np.tril([[1.0, 2.0], [3.0, 4.0]]))
    assert xp.full_like(x, 2.5).dtype is x.dtype
    assert xp.zeros_like(x, dtype=xgrad.int8).dtype is xgrad.int8
