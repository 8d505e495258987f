"""Reductions and statistics (sum, mean, max, min, prod, var, std, cumulative_sum,
cumulative_prod): values against NumPy, gradients to second order."""

import numpy as np
import pytest

import xgrad
from xgrad import array_api as xp
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

RNG = np.random.default_rng(1)


def _t(values, device, grad=True):
    return xgrad.asarray(np.asarray(values, dtype=np.float64), device=device, requires_grad=grad)


REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
              "var": np.var, "std": np.std}
AXES = [(None, False), (0, False), (-1, True), ((0, 1), False), ((-2,), True)]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis,keepdims", AXES)
def test_reduction(name, axis, keepdims, device):
    fn, ref = getattr(xp, name), REDUCTIONS[name]  # the standard's semantics
    x = _t(RNG.uniform(0.5, 2.0, (2, 3)), device)
    f = lambda t: fn(t, axis=axis, keepdims=keepdims)  # noqa: E731
    assert_close(f(x.detach()), ref(to_numpy(x), axis=axis, keepdims=keepdims), rtol=1e-12)
    gradcheck(f, (x,))
    gradgradcheck(f, (x,))


@pytest.mark.parametrize("name", ["var", "std"])
def test_correction(name, device):
    x = _t(RNG.normal(size=(4,)), device)
    f = lambda t: getattr(xp, name)(t, correction=1)  # noqa: E731
    assert_close(f(x.detach()), getattr(np, name)(to_numpy(x), ddof=1))
    gradcheck(f, (x,))
    gradgradcheck(f, (x,))


def test_zero_dim_and_empty(device):
    s = _t(3.0, device)
    for name in REDUCTIONS:
        if name in ("var", "std"):
            continue
        y = getattr(xgrad, name)(s)
        assert y.shape == () and float(y) == pytest.approx(3.0)
        gradcheck(getattr(xgrad, name), (s,))
    e = _t(np.zeros((0, 2)), device)
    y = xgrad.sum(e, axis=0)
    assert_close(y, np.zeros(2))
    y.sum().backward()
    assert e.grad.shape == (0, 2)


def test_max_ties_share_gradient(device):
    x = _t([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], device)
    xgrad.max(x).backward()
    assert_close(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])


@pytest.mark.parametrize("zeros", [(), (1,), (1, 3), (0,)])
def test_prod_gradient_with_zeros(zeros, device):
    v = RNG.uniform(0.5, 2.0, 4)
    v[list(zeros)] = 0.0
    x = _t(v, device)
    gradcheck(xgrad.prod, (x,))
    gradgradcheck(xgrad.prod, (x,))


@pytest.mark.parametrize("include_initial", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
def test_cumulative_sum(axis, include_initial, device):
    x = _t(RNG.normal(size=(2, 3)), device)
    f = lambda t: xgrad.cumulative_sum(t, axis=axis, include_initial=include_initial)  # noqa: E731
    expected = np.cumsum(to_numpy(x), axis=axis)
    if include_initial:
        pad = [(0, 0)] * 2
        pad[axis] = (1, 0)
        expected = np.pad(expected, pad)
    assert_close(f(x.detach()), expected, rtol=1e-12)
    gradcheck(f, (x,))
    gradgradcheck(f, (x,))


@pytest.mark.parametrize("zeros", [(), (0,), (2,), (1, 3), (4,)])
@pytest.mark.parametrize("include_initial", [False, True])
def test_cumulative_prod_with_zeros(zeros, include_initial, device):
    v = RNG.uniform(0.5, 2.0, 5)
    v[list(zeros)] = 0.0
    x = _t(v, device)
    f = lambda t: xgrad.cumulative_prod(t, include_initial=include_initial)  # noqa: E731
    expected = np.cumprod(v)
    if include_initial:
        expected = np.concatenate([[1.0], expected])
    assert_close(f(x.detach()), expected, rtol=1e-12)
    gradcheck(f, (x,))
    gradgradcheck(f, (x,))


def test_cumulative_prod_axis(device):
    x = _t(RNG.uniform(-2, 2, (3, 2)), device)
    f = lambda t: xgrad.cumulative_prod(t, axis=0)  # noqa: E731
    assert_close(f(x.detach()), np.cumprod(to_numpy(x), axis=0))
    gradcheck(f, (x,))


def test_cumulative_needs_axis_for_nd(device):
    with pytest.raises(ValueError):
        xgrad.cumulative_sum(_t(np.ones((2, 2)), device))


def test_torch_style_keywords(device):
    x = _t(RNG.normal(size=(2, 3)), device, grad=False)
    assert_close(xgrad.sum(x, dim=1, keepdim=True), to_numpy(x).sum(1, keepdims=True))
    assert_close(xgrad.mean(x, dim=[0, 1]), to_numpy(x).mean())
    assert_close(xgrad.cumsum(x, 1), np.cumsum(to_numpy(x), 1))
    assert_close(xgrad.cumprod(x, 0), np.cumprod(to_numpy(x), 0))
    assert_close(x.cumsum(dim=0), np.cumsum(to_numpy(x), 0))
    assert_close(x.var(dim=1), np.var(to_numpy(x), axis=1, ddof=1))  # PyTorch: unbiased


def test_integer_dtype_results_do_not_require_grad(device):
    x = _t([1.5, 2.5, -1.0], device)
    for out in (xgrad.sum(x, dtype=xgrad.int64), xgrad.prod(x, dtype=xgrad.int32),
                xgrad.cumulative_sum(x, dtype=xgrad.int64)):
        assert not out.requires_grad
    y = xgrad.sum(x, dtype=xgrad.float32)
    assert y.requires_grad and y.dtype is xgrad.float32
    y.backward()
    assert x.grad.dtype is xgrad.float64
    assert_close(x.grad, np.ones(3))
