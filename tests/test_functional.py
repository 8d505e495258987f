"""xgrad.autograd.functional: PyTorch's signatures, output structures and errors;
values against finite differences and across strategies."""

from __future__ import annotations

import numpy as np
import pytest

import xgrad
from xgrad.autograd import functional as F
from xgrad.testing import assert_close

from _op_samples import numeric_jacobian, numpy_of


def _t(device, values, requires_grad=False):
    return xgrad.asarray(np.asarray(values, dtype=float), dtype=xgrad.float64, device=device,
                         requires_grad=requires_grad)


def _pair(a, b):
    return xgrad.sin(a) * b.sum() + a * a, xgrad.reshape(a, (3, 1)) * b


@pytest.mark.parametrize("mode", [dict(), dict(vectorize=True),
                                  dict(strategy="forward-mode", vectorize=True)],
                         ids=["loop", "vectorize", "forward"])
def test_jacobian_structures_and_values(device, mode):
    a, b = _t(device, [0.2, -0.5, 1.0]), _t(device, [1.5, -2.0])
    single = F.jacobian(lambda x: xgrad.exp(x) * x.sum(), a, **mode)
    assert isinstance(single, xgrad.Tensor) and single.shape == (3, 3)
    assert_close(single, numeric_jacobian(lambda x: xgrad.exp(x) * x.sum(), [a], 0), rtol=1e-6)
    blocks = F.jacobian(_pair, (a, b), **mode)
    assert isinstance(blocks, tuple) and len(blocks) == 2
    shapes = [[tuple(j.shape) for j in row] for row in blocks]
    assert shapes == [[(3, 3), (3, 2)], [(3, 2, 3), (3, 2, 2)]]
    for k in range(2):
        for i in range(2):
            expected = numeric_jacobian(lambda x, y: _pair(x, y)[k], [a, b], i)
            assert_close(blocks[k][i], expected, rtol=1e-6, atol=1e-8)
    one_in_tuple = F.jacobian(lambda x, y: x * y.sum(), (a, b), **mode)
    assert isinstance(one_in_tuple, tuple) and [j.shape for j in one_in_tuple] == [(3, 3), (3, 2)]
    tuple_out = F.jacobian(lambda x: (x * 2, x.sum()), a, **mode)
    assert [j.shape for j in tuple_out] == [(3, 3), (3,)]
    assert all(j.grad_fn is None for j in tuple_out)


def test_jacobian_scalar_in_and_out(device):
    x = _t(device, 0.7)
    j = F.jacobian(lambda t: t * t * t, x)
    assert j.shape == () and abs(float(j) - 3 * 0.49) < 1e-12


def test_jacobian_strict_and_independent_outputs(device):
    a, b = _t(device, [1.0, 2.0]), _t(device, [3.0])
    blocks = F.jacobian(lambda x, y: x * 2, (a, b))
    assert_close(blocks[1], np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.jacobian(lambda x, y: x * 2, (a, b), strict=True)
    with pytest.raises(RuntimeError, match="not supported together"):
        F.jacobian(lambda x: x, a, strict=True, vectorize=True)
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        F.jacobian(lambda x: x, [1.0, 2.0])
    with pytest.raises(ValueError, match="strategy"):
        F.jacobian(lambda x: x, a, strategy="sideways")


def test_jacobian_create_graph(device):
    x = _t(device, [0.3, 0.9], requires_grad=True)
    j = F.jacobian(lambda t: t ** 3, x, create_graph=True)
    assert j.requires_grad
    (g,) = xgrad.autograd.grad(j.sum(), x)
    assert_close(g, 6 * numpy_of(x.detach()))
    j2 = F.jacobian(lambda t: t ** 3, x, create_graph=True, vectorize=True)
    (g2,) = xgrad.autograd.grad(j2.sum(), x)
    assert_close(g2, g)


@pytest.mark.parametrize("kw", [dict(), dict(vectorize=True),
                                dict(outer_jacobian_strategy="forward-mode", vectorize=True)],
                         ids=["loop", "vectorize", "forward-over-reverse"])
def test_hessian(device, kw):
    a, b = _t(device, [0.2, -0.5, 1.0]), _t(device, [1.5, -2.0])

    def f(x, y):
        return (xgrad.exp(x) * x).sum() * (y ** 2).sum()
    h = F.hessian(f, (a, b), **kw)
    assert [[tuple(blk.shape) for blk in row] for row in h] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    full = np.block([[numpy_of(blk) for blk in row] for row in h])
    assert_close(full, full.T, rtol=1e-10, atol=1e-12)
    for i in range(2):
        def grad_i(x, y, i=i):
            return F.vjp(f, (x, y))[1][i]
        for j in range(2):
            assert_close(h[i][j], numeric_jacobian(grad_i, [a, b], j), rtol=1e-5, atol=1e-6)
    single = F.hessian(lambda x: (x ** 3).sum(), a, **kw)
    assert_close(single, np.diag(6 * numpy_of(a)))
    with pytest.raises(RuntimeError, match="single element"):
        F.hessian(lambda x: x * 2, a, **kw)


def test_vjp_and_jvp(device):
    a = _t(device, [0.2, -0.5, 1.0])
    v = _t(device, [1.0, 2.0, 3.0])
    out, g = F.vjp(lambda x: xgrad.sin(x) * 2, a, v)
    assert_close(out, 2 * np.sin(numpy_of(a)))
    assert_close(g, 2 * np.cos(numpy_of(a)) * numpy_of(v))
    out, t = F.jvp(lambda x: xgrad.sin(x) * 2, a, v)
    assert_close(t, 2 * np.cos(numpy_of(a)) * numpy_of(v))
    _, g_scalar = F.vjp(lambda x: (x * x).sum(), a)
    assert_close(g_scalar, 2 * numpy_of(a))
    with pytest.raises(RuntimeError, match="can only be None"):
        F.vjp(lambda x: x * 2, a)
    with pytest.raises(RuntimeError, match="can only be None"):
        F.jvp(lambda x: x * 2, a)
    with pytest.raises(RuntimeError, match="invalid size"):
        F.vjp(lambda x: x * 2, a, _t(device, [1.0]))
    (o1, o2), (t1, t2) = F.jvp(lambda x, y: (x * y, x.sum()), (a, a), (v, v))
    assert_close(t1, 2 * numpy_of(a) * numpy_of(v))
    assert_close(t2, numpy_of(v).sum())
    _, (ga, gb) = F.vjp(lambda x, y: x * 2, (a, a), v)
    assert_close(gb, np.zeros(3))
    with pytest.raises(RuntimeError, match="independent"):
        F.vjp(lambda x, y: x * 2, (a, a), v, strict=True)


def test_hvp_vhp_match_hessian(device):
    a, b = _t(device, [0.2, -0.5, 1.0]), _t(device, [1.5, -2.0])
    va, vb = _t(device, [1.0, 0.0, -1.0]), _t(device, [0.5, 2.0])

    def f(x, y):
        return (xgrad.exp(x) * x).sum() * (y ** 2).sum() + (x.sum() * y.sum()) ** 2
    h = F.hessian(f, (a, b))
    expected = [sum(numpy_of(h[i][j]) @ numpy_of(v) for j, v in enumerate((va, vb)))
                for i in range(2)]
    for fn in (F.hvp, F.vhp):
        value, (pa, pb) = fn(f, (a, b), (va, vb))
        assert_close(value, numpy_of(f(a, b)))
        assert_close(pa, expected[0], rtol=1e-10)
        assert_close(pb, expected[1], rtol=1e-10)
        assert pa.grad_fn is None
    _, single = F.hvp(lambda x: (x ** 3).sum(), a, va)
    assert_close(single, 6 * numpy_of(a) * numpy_of(va))


def test_hvp_create_graph_is_differentiable(device):
    a = _t(device, [0.2, -0.5, 1.0], requires_grad=True)
    v = _t(device, [1.0, 1.0, 1.0])
    for fn in (F.hvp, F.vhp):
        _, hv = fn(lambda x: (x ** 4).sum(), a, v, create_graph=True)
        (g,) = xgrad.autograd.grad(hv.sum(), a)
        assert_close(g, 24 * numpy_of(a.detach()))
