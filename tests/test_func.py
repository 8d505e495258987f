"""xgrad.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, linearize.

Every op with samples: jacfwd == jacrev == finite differences, and the Hessian
(forward-over-reverse) is symmetric, equals reverse-over-reverse and finite
differences of the gradient. Plus composition and perturbation confusion."""

from __future__ import annotations

import numpy as np
import pytest

import xgrad
from xgrad import func
from xgrad.testing import assert_close

from _op_samples import cases, dask_refuses, instantiate, numeric_jacobian, numpy_of

CASES = list(cases())
IDS = [f"{n}-{k}" for n, k, _ in CASES]


def _first_output(f):
    def g(*xs):
        out = f(*xs)
        return out[0] if isinstance(out, tuple) else out
    return g


@pytest.mark.parametrize("name,k,sample", CASES, ids=IDS)
def test_jacfwd_equals_jacrev_equals_finite_differences(device, name, k, sample):
    if dask_refuses(device, name, sample):
        return
    fn, inputs, diff = instantiate(sample, device)
    f = _first_output(fn(name))
    if not f(*inputs).dtype.is_inexact:
        pytest.fail(f"{name}: sample output is not floating point")
    argnums = tuple(diff)
    rev = func.jacrev(f, argnums=argnums)(*inputs)
    fwd = func.jacfwd(f, argnums=argnums)(*inputs)
    for j, i in enumerate(diff):
        expected = numeric_jacobian(f, inputs, i)
        assert rev[j].shape == expected.shape
        assert_close(rev[j], expected, rtol=1e-4, atol=1e-6, msg=f"{name} jacrev")
        assert_close(fwd[j], rev[j], rtol=1e-9, atol=1e-12, msg=f"{name} jacfwd")
        assert rev[j].grad_fn is None and fwd[j].grad_fn is None


@pytest.mark.parametrize("name,k,sample", CASES, ids=IDS)
def test_hessian_forward_over_reverse(device, name, k, sample):
    if dask_refuses(device, name, sample):
        return
    fn, inputs, diff = instantiate(sample, device)
    f = _first_output(fn(name))
    i = diff[0]
    out = f(*inputs)
    rng = np.random.default_rng(5)
    w = xgrad.asarray(rng.standard_normal(out.shape), dtype=out.dtype, device=out.device)

    def scalar(*xs):
        return xgrad.sum(f(*xs) * w)
    h = func.hessian(scalar, argnums=i)(*inputs)
    h_rr = func.jacrev(func.jacrev(scalar, argnums=i), argnums=i)(*inputs)
    n = inputs[i].numel()
    hm = numpy_of(h).reshape(n, n)
    assert_close(hm, hm.T, rtol=1e-7, atol=1e-9, msg=f"{name}: Hessian not symmetric")
    assert_close(h, h_rr, rtol=1e-8, atol=1e-10, msg=name)
    grad_fn = func.grad(scalar, argnums=i)
    expected = numeric_jacobian(grad_fn, inputs, i)
    assert_close(h, expected, rtol=1e-4, atol=1e-5, msg=f"{name}: finite differences")


# -- the transforms' API --------------------------------------------------------------------
def _vec(device, values=(0.3, -1.2, 2.0)):
    return xgrad.asarray(list(values), dtype=xgrad.float64, device=device)


def test_done_means_jvp_without_backward(device):
    x, v = _vec(device), _vec(device, (1.0, 0.5, -2.0))
    from xgrad.autograd.graph import Node
    calls = []
    original = Node.apply
    Node.apply = lambda self, *a: calls.append(self) or original(self, *a)
    try:
        value, deriv = func.jvp(lambda t: (t * t).sum(), (x,), (v,))
    finally:
        Node.apply = original
    assert not calls, "jvp ran a backward pass"
    xn, vn = numpy_of(x), numpy_of(v)
    assert_close(value, (xn * xn).sum())
    assert_close(deriv, 2 * xn @ vn)


def test_grad_and_value_argnums_has_aux(device):
    x, y = _vec(device), _vec(device, (1.0, 2.0, 3.0))

    def f(a, b):
        return (a * b).sum(), a + 1
    (ga, gb), (value, aux) = func.grad_and_value(f, argnums=(0, 1), has_aux=True)(x, y)
    assert_close(ga, numpy_of(y))
    assert_close(gb, numpy_of(x))
    assert_close(value, (numpy_of(x) * numpy_of(y)).sum())
    assert_close(aux, numpy_of(x) + 1)
    g, aux2 = func.grad(f, argnums=1, has_aux=True)(x, y)
    assert_close(g, numpy_of(x))
    assert value.grad_fn is None and g.grad_fn is None


def test_grad_needs_a_scalar(device):
    with pytest.raises(RuntimeError, match="scalar"):
        func.grad(lambda t: t * 2)(_vec(device))


def test_grad_of_grad(device):
    x = _vec(device)
    d2 = func.grad(lambda t: func.grad(lambda u: (u ** 3).sum())(t).sum())(x)
    assert_close(d2, 6 * numpy_of(x))
    d3 = func.grad(lambda t: func.grad(lambda u: func.grad(lambda s: (s ** 4).sum())(u).sum())(t)
                   .sum())(x)
    assert_close(d3, 24 * numpy_of(x))


def test_no_perturbation_confusion_reverse(device):
    """d/dx [ d/dy (x * y) at y = x ] = d/dx x = 1; confusing the two variables gives 2."""
    x = _vec(device)
    outer = func.grad(lambda a: func.grad(lambda b: (a * b).sum())(a).sum())(x)
    assert_close(outer, np.ones(3))


def test_no_perturbation_confusion_forward(device):
    """The classic: d/dx [x * d/dy (x + y)] = 1 with nested jvp."""
    x = xgrad.asarray(2.0, dtype=xgrad.float64, device=device)
    one = xgrad.ones_like(x)

    def f(a):
        inner = func.jvp(lambda b: a + b, (a,), (one,))[1]
        return a * inner
    assert_close(func.jvp(f, (x,), (one,))[1], 1.0)
    assert_close(func.grad(f)(x), 1.0)


def test_nested_closure_mixed_modes(device):
    """jacfwd over grad of a function closing over the outer variable."""
    x = _vec(device)

    def g(a):
        return func.grad(lambda b: (xgrad.sin(a * b)).sum())(a)  # b-gradient at b = a
    xn = numpy_of(x)  # g(a) = a cos(a^2); treating b as a too would give 2 cos(a^2) - ...
    expected_diag = np.cos(xn ** 2) - 2 * xn ** 2 * np.sin(xn ** 2)
    for jac in (func.jacfwd(g)(x), func.jacrev(g)(x)):
        assert_close(jac, np.diag(expected_diag))


def test_vjp_and_pullback(device):
    x = _vec(device)
    out, pullback = func.vjp(lambda t: (xgrad.exp(t), t * 2), x)
    ct = (xgrad.ones_like(x), _vec(device, (1.0, 0.0, -1.0)))
    (g,) = pullback(ct)
    assert_close(g, np.exp(numpy_of(x)) + 2 * numpy_of(ct[1]))
    assert_close(out[0], np.exp(numpy_of(x)))
    (g2,) = pullback(*ct)  # the pullback can be called again
    assert_close(g2, g)


def test_jacrev_jacfwd_tuple_outputs_and_argnums(device):
    x, y = _vec(device), _vec(device, (1.0, 2.0))

    def f(a, b):
        return xgrad.expand_dims(xgrad.sin(a), axis=1) * b, (a ** 2).sum()
    for transform in (func.jacrev, func.jacfwd):
        (j00, j01), (j10, j11) = transform(f, argnums=(0, 1))(x, y)
        assert j00.shape == (3, 2, 3) and j01.shape == (3, 2, 2)
        assert j10.shape == (3,) and j11.shape == (2,)
        assert_close(j10, 2 * numpy_of(x))
        assert_close(j11, np.zeros(2))


def test_hessian_of_a_small_network(device):
    rng = np.random.default_rng(0)
    w = xgrad.asarray(rng.standard_normal((4, 3)), dtype=xgrad.float64, device=device)
    x = _vec(device)

    def f(t):
        return xgrad.sum(xgrad.tanh(w @ t) ** 2)
    h = func.hessian(f)(x)
    assert_close(h, func.jacfwd(func.jacfwd(f))(x), rtol=1e-9, atol=1e-12)
    assert_close(h, func.jacrev(func.jacfwd(f))(x), rtol=1e-9, atol=1e-12)
    assert_close(h, numeric_jacobian(func.grad(f), [x], 0), rtol=1e-5, atol=1e-6)


def test_linearize(device):
    x = _vec(device)
    out, jvp_fn = func.linearize(lambda t: xgrad.sin(t) * t, x)
    v = _vec(device, (1.0, 0.0, 2.0))
    xn = numpy_of(x)
    assert_close(out, np.sin(xn) * xn)
    assert_close(jvp_fn(v), (np.cos(xn) * xn + np.sin(xn)) * numpy_of(v))


def test_transforms_leave_no_state_behind(device):
    from xgrad.autograd.forward_state import STATE
    from xgrad.func import _NESTING
    x = _vec(device)
    with pytest.raises(ValueError):
        func.jvp(lambda t: t.reshape((5,)), (x,), (x,))
    with pytest.raises(RuntimeError):
        func.grad(lambda t: t)(x)
    assert STATE.depth == 0 and _NESTING[0] == 0
