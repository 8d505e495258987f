"""Dtypes and type promotion: PyTorch's rules on every device, half precision,
gradients in each input's own dtype, PyTorch's errors, dtypes that NumPy-duck-typing
code does not mistake for NumPy's. PyTorch is the oracle."""

import itertools

import numpy as np
import pytest

import xgrad
from xgrad import _dtypes as D
from xgrad._promotion import PromotionError, promote_types
from xgrad.testing import assert_close

torch = pytest.importorskip("torch")

# dtypes both libraries have, by name
NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
         "float16", "bfloat16", "float32", "float64", "complex64", "complex128"]


def _x(name):
    return D.from_name(name)


def _t(name):
    return getattr(torch, name)


def _supported(device, name):
    return _x(name) in device.backend.to_native


def _make(values, name, device, requires_grad=False):
    return xgrad.asarray(np.asarray(values).astype(name), device=device,
                         requires_grad=requires_grad)


# -- the table -------------------------------------------------------------------------
@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(NAMES, 2)))
def test_promote_types_is_pytorchs(a, b):
    try:
        expected = str(torch.promote_types(_t(a), _t(b))).removeprefix("torch.")
    except RuntimeError:
        expected = None  # PyTorch has no answer (uint16/32/64 with signed ints or bool)
    try:
        got = promote_types(_x(a), _x(b)).name
    except PromotionError:
        got = None
    if expected is not None:
        assert got == expected
        assert promote_types(_x(b), _x(a)).name == expected
    elif got is None:  # only uint64 with a signed integer has no common dtype
        assert "uint64" in (a, b) and ({a, b} - {"uint64"}) <= {"int8", "int16", "int32", "int64"}
    elif _x(a).is_inexact or _x(b).is_inexact:  # PyTorch's rule for the other integers
        assert got == (a if _x(a).is_inexact else b)
    elif "bool" in (a, b):  # bool with an integer: the integer, as for PyTorch's others
        assert got == (b if a == "bool" else a)
    else:  # two integers: the array API standard's answer where PyTorch has none
        assert np.result_type(np.dtype(a), np.dtype(b)).name == got


def test_promotion_error_is_both_typeerror_and_runtimeerror():
    with pytest.raises(TypeError):
        promote_types(xgrad.uint64, xgrad.int64)
    with pytest.raises(RuntimeError):
        xgrad.result_type(xgrad.uint64, xgrad.int8)


# -- operators on every device, against PyTorch ------------------------------------------
KINDS = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64", "complex64"]
OPERANDS = {  # name -> (values for a 1-d tensor, the same for a 0-d tensor)
    "bool": ([True, False, True], True), "uint8": ([1, 2, 3], 2), "int8": ([1, -2, 3], -2),
    "int32": ([4, -5, 6], 3), "int64": ([7, 8, -9], -4), "float16": ([0.5, -1.5, 2.0], 1.5),
    "float32": ([0.25, 1.5, -2.0], -0.5), "float64": ([1.25, -0.5, 3.0], 2.5),
    "complex64": ([1 + 2j, -1j, 0.5], 1 - 1j),
}
OPS = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "truediv": lambda a, b: a / b,
       "lt": lambda a, b: a < b}


def _pair(device, left, right, zero_d):
    xs, ts = [], []
    for i, name in enumerate((left, right)):
        values = OPERANDS[name][1] if (zero_d and i == 1) else OPERANDS[name][0]
        xs.append(_make(values, name, device))
        ts.append(torch.tensor(np.asarray(values).astype(name)))
    return xs, ts


def _check(out, expected):
    expected = expected.detach()
    if expected.dtype == torch.complex32:  # float16 with complex: NumPy has no complex32
        expected = expected.to(torch.complex64)
    assert out.dtype.name == str(expected.dtype).removeprefix("torch."), (out.dtype, expected.dtype)
    assert_close(out.to(xgrad.complex128 if out.dtype.is_complex else
                        xgrad.float64 if out.dtype.is_inexact else out.dtype),
                 expected.to(torch.complex128 if expected.is_complex() else
                             torch.float64 if expected.is_floating_point() else
                             expected.dtype).numpy(), rtol=2e-3, atol=1e-3)


def _standard_family(name):
    if name in ("float16", "bfloat16"):
        return None
    return {"b": "bool", "i": "int", "u": "int"}.get(_x(name)._kind, "float")


@pytest.mark.parametrize("zero_d", [False, True], ids=["1d", "0d"])
@pytest.mark.parametrize("left,right", list(itertools.product(KINDS, KINDS)))
def test_tensor_operators_promote_as_pytorch(device, left, right, zero_d):
    if not (_supported(device, left) and _supported(device, right)):
        pytest.skip(f"the {device.type} device has no {left if not _supported(device, left) else right}")
    (a, b), (ta, tb) = _pair(device, left, right, zero_d)
    if zero_d and _standard_family(left) == _standard_family(right) is not None:
        # the array API standard defines these: a 0-d tensor counts in full (the one
        # deliberate difference from PyTorch, whose 0-d tensors are weak here too)
        common = torch.promote_types(ta.dtype, tb.dtype)
        ta, tb = ta.to(common), tb.to(common)
    for name, op in OPS.items():
        try:
            expected = op(ta, tb)
        except (RuntimeError, TypeError, NotImplementedError):
            continue  # PyTorch refuses (bool - bool, ...): not a promotion question
        if left == right == "bool" and name != "truediv" and device.type == "strict":
            with pytest.raises(TypeError):  # the standard has no bool arithmetic or order
                op(a, b)
            continue
        out = op(a, b)
        _check(out, expected)
        if name != "lt":
            assert xgrad.result_type(a, b) is out.dtype or name == "truediv"


@pytest.mark.parametrize("scalar", [True, 3, -1.5, 2j], ids=["bool", "int", "float", "complex"])
@pytest.mark.parametrize("name", KINDS)
def test_python_scalars_are_weak(device, name, scalar):
    if not _supported(device, name):
        pytest.skip(f"the {device.type} device has no {name}")
    a = _make(OPERANDS[name][0], name, device)
    ta = torch.tensor(np.asarray(OPERANDS[name][0]).astype(name))
    for op in (lambda x, s: x * s, lambda x, s: s + x, lambda x, s: x / s):
        try:
            expected = op(ta, scalar)
        except (RuntimeError, TypeError):
            continue
        if name == "bool" and type(scalar) is bool and device.type == "strict":
            continue  # bool arithmetic: the standard has none (known gap on strict)
        _check(op(a, scalar), expected)
        assert xgrad.result_type(a, scalar) is op(a, scalar).dtype or op(a, scalar).dtype.is_inexact


def test_zero_d_tensors(device):
    f32 = xgrad.asarray([1.0, 2.0], dtype=xgrad.float32, device=device)
    i32 = xgrad.asarray(np.array([1, 2], np.int32), device=device)
    f64_0d = xgrad.asarray(2.0, dtype=xgrad.float64, device=device)
    i64_0d = xgrad.asarray(3, device=device)
    assert (i32 * f64_0d).dtype is xgrad.float64           # a higher category: PyTorch's rule
    assert (i32 + i64_0d).dtype is xgrad.int64             # the standard's (PyTorch: int32)
    assert (f32 + f64_0d).dtype is xgrad.float64           # the standard's (PyTorch: float32)
    assert (f32 * xgrad.asarray(1j, device=device)).dtype is xgrad.complex64
    assert xgrad.result_type(f32, f64_0d) is (f32 + f64_0d).dtype
    if _supported(device, "float16"):  # float16 is no standard dtype: PyTorch's rule
        h = f32.half()
        assert (h * xgrad.asarray(0.5, device=device)).dtype is xgrad.float16
        assert (h * f64_0d).dtype is xgrad.float16


def test_the_issue_examples(device):
    i = xgrad.asarray([1, 2, 3], device=device)
    f = xgrad.asarray([1.0, 2.0, 3.0], dtype=xgrad.float32, device=device)
    assert (i * 0.1).dtype is xgrad.float32
    assert (f * i).dtype is xgrad.float32 and (i * f).dtype is xgrad.float32
    assert xgrad.result_type(f, i) is xgrad.float32
    assert xgrad.result_type(xgrad.float32, xgrad.int64) is xgrad.float32
    assert (xgrad.asarray([True], device=device) + 1).dtype is xgrad.int64
    u8 = xgrad.asarray(np.array([1, 2], np.uint8), device=device)
    i8 = xgrad.asarray(np.array([1, 2], np.int8), device=device)
    assert (u8 + i8).dtype is xgrad.int16
    with xgrad.default_dtype(xgrad.float64):
        assert (i * 0.1).dtype is xgrad.float64


def test_integer_scalars_wrap_as_in_pytorch(device):
    i8 = xgrad.asarray(np.array([1, 100], np.int8), device=device)
    u8 = xgrad.asarray(np.array([1, 2], np.uint8), device=device)
    assert (i8 + 1000).tolist() == (torch.tensor([1, 100], dtype=torch.int8) + 1000).tolist()
    assert (u8 - 2).tolist() == (torch.tensor([1, 2], dtype=torch.uint8) - 2).tolist()


def test_int_to_float_ops(device):
    i = xgrad.asarray([1, 4], device=device)
    ti = torch.tensor([1, 4])
    for fn, tfn in ((xgrad.exp, torch.exp), (xgrad.sqrt, torch.sqrt), (xgrad.sin, torch.sin),
                    (lambda x: x / x, lambda x: x / x), (lambda x: xgrad.atan2(x, x), lambda x: torch.atan2(x, x))):
        _check(fn(i), tfn(ti))


def test_where_and_clip_promote(device):
    c = xgrad.asarray([True, False], device=device)
    i = xgrad.asarray([1, 5], device=device)
    f64 = xgrad.asarray([0.5, 0.25], dtype=xgrad.float64, device=device)
    tc, ti, tf64 = torch.tensor([True, False]), torch.tensor([1, 5]), torch.tensor([0.5, 0.25], dtype=torch.float64)
    _check(xgrad.where(c, i, 1.5), torch.where(tc, ti, 1.5))
    _check(xgrad.where(c, i, f64), torch.where(tc, ti, tf64))
    _check(xgrad.clip(i, 0.5, 2.5), torch.clamp(ti, 0.5, 2.5))


# -- gradients come back in each input's own dtype -----------------------------------------
def test_mixed_dtype_gradients(device):
    x = xgrad.asarray([1.5, -2.0], dtype=xgrad.float32, device=device, requires_grad=True)
    y = xgrad.asarray([0.5, 3.0], dtype=xgrad.float64, device=device, requires_grad=True)
    z = x * y + x / 2 + y ** 2
    assert z.dtype is xgrad.float64
    z.sum().backward()
    tx = torch.tensor([1.5, -2.0], dtype=torch.float32, requires_grad=True)
    ty = torch.tensor([0.5, 3.0], dtype=torch.float64, requires_grad=True)
    (tx * ty + tx / 2 + ty ** 2).sum().backward()
    assert x.grad.dtype is xgrad.float32 and y.grad.dtype is xgrad.float64
    assert_close(x.grad, tx.grad.numpy())
    assert_close(y.grad, ty.grad.numpy())


def test_mixed_dtype_second_order(device):
    x = xgrad.asarray([1.5, -2.0], dtype=xgrad.float32, device=device, requires_grad=True)
    y = xgrad.asarray(0.5, dtype=xgrad.float64, device=device, requires_grad=True)
    (gx,) = xgrad.autograd.grad((x * x * y).sum(), [x], create_graph=True)
    assert gx.dtype is xgrad.float32
    (gy,) = xgrad.autograd.grad(gx.sum(), [y])
    assert gy.dtype is xgrad.float64
    assert_close(gy, 2 * (1.5 - 2.0))


def test_int_tensor_with_float_leaf_gradient(device):
    x = xgrad.asarray([0.5, 2.0], device=device, requires_grad=True)
    n = xgrad.asarray([3, 4], device=device)
    (x * n).sum().backward()
    assert x.grad.dtype is xgrad.float32
    assert_close(x.grad, [3.0, 4.0])


# -- half precision ----------------------------------------------------------------------
def test_float16_computes_promotes_and_differentiates(device):
    if not _supported(device, "float16"):
        with pytest.raises(TypeError, match="float16"):
            xgrad.asarray([1.0], dtype=xgrad.float16, device=device)
        with pytest.raises(TypeError, match="float16"):
            xgrad.asarray([1.0], device=device).half()
        return
    values = [0.5, -1.25, 2.0]
    x = xgrad.asarray(values, device=device).half().requires_grad_()
    tx = torch.tensor(values).half().requires_grad_()
    assert x.dtype is xgrad.float16 and xgrad.half is xgrad.float16
    y = (xgrad.sin(x) * x + 1.5) / (x * x + 1)
    ty = (torch.sin(tx) * tx + 1.5) / (tx * tx + 1)
    _check(y, ty)
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.dtype is xgrad.float16
    assert_close(x.grad.float(), tx.grad.float().numpy(), rtol=5e-3, atol=5e-3)
    # promotion: float16 with integers stays float16, with float32 becomes float32
    i = xgrad.asarray([1, 2, 3], device=device)
    assert (x * i).dtype is xgrad.float16
    assert (x.detach() + xgrad.asarray([1.0], device=device)).dtype is xgrad.float32
    assert (x.detach() * 2.5).dtype is xgrad.float16
    assert x.to(xgrad.float32).dtype is xgrad.float32


def test_finfo_half():
    for name in ("float16", "bfloat16"):
        got, expected = xgrad.finfo(_x(name)), torch.finfo(_t(name))
        assert (got.bits, got.eps, got.max, got.min, got.smallest_normal) == \
            (expected.bits, expected.eps, expected.max, expected.min, expected.smallest_normal)


def test_bfloat16_is_a_clear_error_where_the_backend_has_none(device):
    if _supported(device, "bfloat16"):
        pytest.skip("this backend has bfloat16")
    with pytest.raises(TypeError, match="bfloat16"):
        xgrad.asarray([1.0], device=device).bfloat16()


# -- dtypes are not NumPy dtypes by duck typing ---------------------------------------------
def test_dtypes_do_not_look_like_numpy_dtypes():
    for dt in D.ALL_DTYPES:
        assert not hasattr(dt, "kind")
        assert not hasattr(dt, "char") and not hasattr(dt, "type")
    assert repr(xgrad.float64) == "xgrad.float64"
    assert xgrad.float64 == xgrad.float64 and xgrad.float64 != xgrad.float32
    assert xgrad.float64.is_floating_point and xgrad.complex64.is_complex


def test_ridgecv_without_array_api_dispatch(device):
    """Issue 13: scikit-learn took xgrad.float64 for a NumPy dtype (it has ``.kind``)
    and handed it to NumPy: "Cannot interpret 'xgrad.float64' as a data type"."""
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import RidgeCV
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    with sklearn.config_context(array_api_dispatch=False):
        model = RidgeCV().fit(xgrad.asarray(X, device=device), xgrad.asarray(y, device=device))
        reference = RidgeCV().fit(X, y)
    np.testing.assert_allclose(np.asarray(model.coef_), reference.coef_, rtol=1e-6)


# -- errors as PyTorch raises them ------------------------------------------------------------
def _same_error(fn, tfn):
    with pytest.raises(Exception) as expected:
        tfn()
    with pytest.raises(expected.type) as got:
        fn()
    return got


@pytest.mark.parametrize("data", [[2 ** 63], 2 ** 63, [1, 2 ** 63], [[1], [-2 ** 63 - 1]], [True, 2 ** 64]])
def test_tensor_of_too_large_python_ints(device, data):
    _same_error(lambda: xgrad.tensor(data, device=device), lambda: torch.tensor(data))


def test_large_ints_with_floats_are_floats(device):
    assert xgrad.tensor([1.0, 2 ** 63], device=device).dtype is xgrad.float32
    assert xgrad.tensor([2 ** 63 - 1], device=device).tolist() == [2 ** 63 - 1]


@pytest.mark.parametrize("op", ["floordiv", "mod", "floordiv_scalar", "mod_scalar", "ifloordiv"])
def test_integer_division_by_zero(device, op):
    if device.type not in ("cpu", "strict"):
        pytest.skip("checked on the host devices only, as PyTorch checks on its CPU only "
                    "(docs/dtypes.md): on cuda/dask a check would force a synchronisation")
    def run(lib, make):
        a, b = make([5, 6]), make([1, 0])
        return {"floordiv": lambda: a // b, "mod": lambda: a % b, "floordiv_scalar": lambda: a // 0,
                "mod_scalar": lambda: lib.remainder(a, 0), "ifloordiv": lambda: a.__ifloordiv__(b)}[op]()
    got = _same_error(lambda: run(xgrad, lambda v: xgrad.asarray(v, device=device)),
                      lambda: run(torch, torch.tensor))
    assert "ZeroDivisionError" in str(got.value)


def test_float_division_by_zero_is_not_an_error(device):
    i = xgrad.asarray([1, 0], device=device)
    out = i / 0
    assert out.dtype is xgrad.float32
    assert np.isinf(out.numpy()[0]) and np.isnan(out.numpy()[1])
    assert np.isinf((i.float() // 0).numpy()[0])


IN_PLACE = {
    "int += 0.5": lambda m, d: m.tensor([1, 2], **d).__iadd__(0.5),
    "int += float tensor": lambda m, d: m.tensor([1, 2], **d).__iadd__(m.tensor([1.0, 2.0], **d)),
    "int /= 2": lambda m, d: m.tensor([1, 2], **d).__itruediv__(2),
    "bool += 1": lambda m, d: m.tensor([True], **d).__iadd__(1),
    "float += 1j": lambda m, d: m.tensor([1.0], **d).add_(1j),
    "float32 += float64": lambda m, d: m.tensor([1.0, 2.0], **d).__iadd__(
        m.tensor([1.0, 2.0], dtype=m.float64, **d)),
    "float32 *= int": lambda m, d: m.tensor([1.0, 2.0], **d).__imul__(m.tensor([3, 4], **d)),
    "int += 2": lambda m, d: m.tensor([1], **d).__iadd__(2),
    "complex += 1j": lambda m, d: m.tensor([1j], **d).add_(1j),
    "uint8 += int8": lambda m, d: m.tensor([200, 3], dtype=m.uint8, **d).__iadd__(
        m.tensor([-1, 2], dtype=m.int8, **d)),
    "uint8 //= int8": lambda m, d: m.tensor([200, 3], dtype=m.uint8, **d).__ifloordiv__(
        m.tensor([-1, 2], dtype=m.int8, **d)),
    "non-leaf float32 += float64": lambda m, d: (m.ones(2, requires_grad=True, **d) * 1).__iadd__(
        m.tensor([0.1, 1e-9], dtype=m.float64, **d)),
}


@pytest.mark.parametrize("case", list(IN_PLACE))
def test_in_place_results_keep_the_dtype_as_in_pytorch(device, case):
    fn = IN_PLACE[case]
    try:
        expected = fn(torch, {})
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type") as got:
            fn(xgrad, {"device": device})
        assert str(got.value) == str(e)
        return
    out = fn(xgrad, {"device": device})
    assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert out.tolist() == expected.tolist()


@pytest.mark.parametrize("a,b", [(2.0, 0.5), (2, 1), (2, 0.5), (True, False), (1j, 2)])
def test_where_with_two_scalars(device, a, b):
    got = xgrad.where(xgrad.asarray([True, False], device=device), a, b)
    expected = torch.where(torch.tensor([True, False]), a, b)
    assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert got.tolist() == expected.tolist()


def test_matmul_operator_refuses_mixed_dtypes_as_pytorch(device):
    """``@`` is the PyTorch face's (PyTorch refuses float32 @ float64); the standard's
    ``matmul`` (array API: promotion) promotes."""
    a = xgrad.ones(2, 2, device=device)
    b = xgrad.ones(2, 2, dtype=xgrad.float64, device=device)
    with pytest.raises(RuntimeError) as got:
        a @ b
    with pytest.raises(RuntimeError) as expected:
        torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)
    assert str(got.value) == str(expected.value)
    from xgrad import array_api
    assert array_api.matmul(a, b).dtype is xgrad.float64


def test_in_place_mixed_dtype_gradients(device):
    x = xgrad.ones(2, requires_grad=True, device=device)
    z = xgrad.asarray([2.0, 3.0], dtype=xgrad.float64, device=device, requires_grad=True)
    y = x * 1
    y += z * z
    assert y.dtype is xgrad.float32
    y.sum().backward()
    assert x.grad.dtype is xgrad.float32 and z.grad.dtype is xgrad.float64
    assert_close(x.grad, [1.0, 1.0])
    assert_close(z.grad, [4.0, 6.0])
