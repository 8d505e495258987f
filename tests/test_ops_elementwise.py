"""Elementwise functions: forward values against NumPy, gradients (first and
second order) against finite differences, on every device."""

import math

import numpy as np
import pytest

import xgrad
from xgrad import array_api as xp
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

RNG = np.random.default_rng(0)


def _data(shape, lo, hi):
    return RNG.uniform(lo, hi, size=shape)


def _t(values, device, grad=True, dtype=None):
    return xgrad.asarray(np.asarray(values), dtype=dtype or xgrad.float64, device=device,
                         requires_grad=grad)


# name -> (numpy function, input range)
UNARY = {
    "exp": (np.exp, (-2, 2)), "expm1": (np.expm1, (-2, 2)), "log": (np.log, (0.5, 2)),
    "log1p": (np.log1p, (-0.5, 2)), "log2": (np.log2, (0.5, 2)), "log10": (np.log10, (0.5, 2)),
    "sqrt": (np.sqrt, (0.5, 2)), "square": (np.square, (-2, 2)),
    "reciprocal": (np.reciprocal, (0.5, 2)), "sin": (np.sin, (-2, 2)), "cos": (np.cos, (-2, 2)),
    "tan": (np.tan, (-1, 1)), "asin": (np.arcsin, (-0.8, 0.8)), "acos": (np.arccos, (-0.8, 0.8)),
    "atan": (np.arctan, (-2, 2)), "sinh": (np.sinh, (-2, 2)), "cosh": (np.cosh, (-2, 2)),
    "tanh": (np.tanh, (-2, 2)), "asinh": (np.arcsinh, (-2, 2)), "acosh": (np.arccosh, (1.5, 3)),
    "atanh": (np.arctanh, (-0.8, 0.8)), "abs": (np.abs, (0.2, 2)), "negative": (np.negative, (-2, 2)),
    "positive": (np.positive, (-2, 2)),
}

BINARY = {
    "add": (np.add, (-2, 2), (-2, 2)), "subtract": (np.subtract, (-2, 2), (-2, 2)),
    "multiply": (np.multiply, (-2, 2), (-2, 2)), "divide": (np.divide, (-2, 2), (0.5, 2)),
    "pow": (np.power, (0.5, 2), (-2, 2)), "maximum": (np.maximum, (-2, 2), (-2, 2)),
    "minimum": (np.minimum, (-2, 2), (-2, 2)), "atan2": (np.arctan2, (-2, 2), (0.5, 2)),
    "hypot": (np.hypot, (0.5, 2), (-2, -0.5)), "logaddexp": (np.logaddexp, (-2, 2), (-2, 2)),
    "remainder": (np.remainder, (0.1, 0.9), (1.1, 2)), "copysign": (np.copysign, (0.5, 2), (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, device):
    ref, (lo, hi) = UNARY[name]
    fn = getattr(xgrad, name)
    x = _t(_data((2, 3), lo, hi), device)
    assert_close(fn(x.detach()), ref(to_numpy(x)), rtol=1e-12)
    gradcheck(fn, (x,))
    gradgradcheck(fn, (_t(_data((3,), lo, hi), device),))


@pytest.mark.parametrize("name", ["exp", "sin", "sqrt", "abs"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_unary_odd_shapes(name, shape, device):
    ref, (lo, hi) = UNARY[name]
    x = _t(_data(shape, lo, hi), device)
    y = getattr(xgrad, name)(x)
    assert y.shape == shape and y.requires_grad
    assert_close(y.detach(), ref(to_numpy(x)))
    y.sum().backward()
    assert x.grad.shape == shape
    if shape == ():
        gradgradcheck(getattr(xgrad, name), (x,))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting(name, device):
    ref, (lo1, hi1), (lo2, hi2) = BINARY[name]
    fn = getattr(xgrad, name)
    x, y = _t(_data((2, 3), lo1, hi1), device), _t(_data((3,), lo2, hi2), device)
    assert_close(fn(x.detach(), y.detach()), ref(to_numpy(x), to_numpy(y)), rtol=1e-12)
    gradcheck(fn, (x, y))
    gradgradcheck(fn, (_t(_data((2, 1), lo1, hi1), device), _t(_data((2,), lo2, hi2), device)))


@pytest.mark.parametrize("name", ["add", "multiply", "divide", "pow", "maximum"])
def test_binary_with_python_scalars(name, device):
    fn = getattr(xgrad, name)
    ref = BINARY[name][0]
    x = _t(_data((3,), 0.5, 2), device)
    assert_close(fn(x.detach(), 1.5), ref(to_numpy(x), 1.5))
    assert_close(fn(1.5, x.detach()), ref(1.5, to_numpy(x)))
    gradcheck(lambda t: fn(t, 1.5), (x,))
    gradcheck(lambda t: fn(1.5, t), (x,))
    gradgradcheck(lambda t: fn(1.5, t), (x,))


def test_scalar_promotion_keeps_dtype(device):
    x = xgrad.ones(3, dtype=xgrad.float32, device=device)
    for y in (x + 1, 2.5 * x, x / 2, x ** 2, 1 - x):
        assert y.dtype == xgrad.float32
    i = xgrad.ones(3, dtype=xgrad.int16, device=device)
    assert (i + 1).dtype == xgrad.int16 and (2 * i).dtype == xgrad.int16
    assert (x * 1j).dtype == xgrad.complex64


def test_subgradients_at_kinks(device):
    x = _t([0.0, 1.0, -1.0], device)
    xgrad.abs(x).sum().backward()
    assert_close(x.grad, [0.0, 1.0, -1.0])
    a, b = _t([1.0, 2.0, 3.0], device), _t([1.0, 0.0, 5.0], device)
    xgrad.maximum(a, b).sum().backward()  # a tie shares the gradient equally
    assert_close(a.grad, [0.5, 1.0, 0.0])
    assert_close(b.grad, [0.5, 0.0, 1.0])
    p = _t([0.0, 2.0], device)
    (p ** 2.0).sum().backward()
    assert_close(p.grad, [0.0, 4.0])
    base, ex = _t([0.0, 2.0], device), _t([2.0, 3.0], device)
    (base ** ex).sum().backward()  # d/dy 0**y is taken as 0, not nan
    assert_close(ex.grad, [0.0, 8 * math.log(2.0)])


NONDIFF_UNARY = ["isfinite", "isinf", "isnan", "signbit"]
PIECEWISE_CONSTANT = ["sign", "floor", "ceil", "round", "trunc"]


def test_piecewise_constant_functions_have_a_zero_gradient(device):
    """PyTorch records floor, ceil, round, trunc and sign with a zero gradient."""
    x = _t([-1.5, 0.25, 2.0], device)
    for name in PIECEWISE_CONSTANT:
        out = getattr(xp, name)(x)
        assert out.requires_grad and out.grad_fn.name() == name.capitalize() + "Backward0"
        assert_close(out, getattr(np, name)(to_numpy(x)))
        (g,) = xgrad.autograd.grad(out.sum(), x)
        assert_close(g, np.zeros(3))
NONDIFF_BINARY = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                  "floor_divide"]


def test_nextafter_has_pytorchs_gradient(device):
    # the step to the next float counts as 0: d/dx = 1, d/dy = 0 (PyTorch's derivatives.yaml)
    x = _t([-1.5, 0.25, 2.0], device)
    y = _t([3.0, 0.0, -1.0], device)
    out = xp.nextafter(x, y)
    assert_close(out, np.nextafter(to_numpy(x), to_numpy(y)))
    gx, gy = xgrad.autograd.grad((out * out).sum(), [x, y], allow_unused=True)
    assert_close(gx, 2 * to_numpy(out))
    assert gy is None


def test_non_differentiable_outputs_do_not_require_grad(device):
    x = _t([-1.5, 0.25, 2.0], device)
    for name in NONDIFF_UNARY:
        out = getattr(xp, name)(x)
        assert not out.requires_grad, name
        assert_close(out, getattr(np, name)(to_numpy(x)))
    for name in NONDIFF_BINARY:
        out = getattr(xp, name)(x, x * 2)
        assert not out.requires_grad, name
        assert_close(out, getattr(np, name)(to_numpy(x), to_numpy(x) * 2))


def test_integer_and_boolean_functions(device):
    a = xgrad.asarray([1, 6, 12], dtype=xgrad.int32, device=device)
    b = xgrad.asarray([3, 5, 2], dtype=xgrad.int32, device=device)
    n, m = to_numpy(a), to_numpy(b)
    for name, ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                      ("bitwise_xor", np.bitwise_xor), ("bitwise_left_shift", np.left_shift),
                      ("bitwise_right_shift", np.right_shift), ("floor_divide", np.floor_divide),
                      ("remainder", np.remainder)):
        assert_close(getattr(xgrad, name)(a, b), ref(n, m))
    assert_close(xgrad.bitwise_invert(a), np.invert(n))
    p, q = a > 4, b > 4
    for name, ref in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                      ("logical_xor", np.logical_xor)):
        assert_close(getattr(xgrad, name)(p, q), ref(to_numpy(p), to_numpy(q)))
    assert_close(xgrad.logical_not(p), ~to_numpy(p))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_floor_divide_special_cases(device):
    a = _t([math.inf, -math.inf, 1.0, -1.0, 7.0, -7.0], device, grad=False)
    b = _t([2.0, 2.0, -math.inf, math.inf, 2.0, 2.0], device, grad=False)
    expected = np.array([math.inf, -math.inf, -0.0, -0.0, 3.0, -4.0])
    for got in (a // b, xgrad.floor_divide(a, b)):
        assert_close(got, expected)
        assert np.array_equal(np.signbit(to_numpy(got)), np.signbit(expected))
    a //= b
    assert_close(a, expected)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "reciprocal"])
def test_float32_gradients_stay_float32(name, device):
    values = _data((4,), 0.5, 2.0)
    x32 = _t(values, device, dtype=xgrad.float32)
    x64 = _t(values, device)
    for x in (x32, x64):
        xgrad.sum(getattr(xgrad, name)(x)).backward()
    assert x32.grad.dtype is xgrad.float32
    assert_close(x32.grad, to_numpy(x64.grad), rtol=1e-5)
