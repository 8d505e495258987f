"""Forward mode (xgrad.autograd.forward_ad): every op's JVP against finite differences
and against reverse mode, the fallback against the hand-written rules, and the
semantics of levels (PyTorch's, plus nesting without perturbation confusion)."""

from __future__ import annotations

import numpy as np
import pytest

import xgrad
import xgrad.autograd.forward_ad as fwAD
from xgrad.ops import REGISTRY
from xgrad.testing import assert_close

from _op_samples import REQUIRED, cases, coverage_report, dask_refuses, instantiate, numpy_of

CASES = list(cases())
IDS = [f"{n}-{k}" for n, k, _ in CASES]


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def _tangents_for(inputs, diff, seed=1):
    rng = np.random.default_rng(seed)
    return {i: xgrad.asarray(rng.standard_normal(inputs[i].shape), dtype=xgrad.float64,
                             device=inputs[i].device) for i in diff}


def _shifted(inputs, tangents, eps):
    return [x + eps * tangents[i] if i in tangents else x for i, x in enumerate(inputs)]


def _forward_jvp(f, inputs, tangents):
    with fwAD.dual_level():
        args = [fwAD.make_dual(x, tangents[i]) if i in tangents else x
                for i, x in enumerate(inputs)]
        outs = _outputs(f(*args))
        result = [fwAD.unpack_dual(o) for o in outs]
    return [r.primal for r in result], [r.tangent for r in result]


def test_coverage_of_registry():
    covered, missing = coverage_report()
    print(f"\nforward-mode tests cover {len(covered)} differentiable ops; without samples: "
          f"{', '.join(missing) or 'none'}")
    assert REQUIRED <= set(covered), sorted(REQUIRED - set(covered))


@pytest.mark.parametrize("name,k,sample", CASES, ids=IDS)
def test_jvp_matches_finite_differences_and_reverse_mode(device, name, k, sample):
    if dask_refuses(device, name, sample):
        return
    fn, inputs, diff = instantiate(sample, device)
    f = fn(name)
    tangents = _tangents_for(inputs, diff)
    primals, jvps = _forward_jvp(f, inputs, tangents)
    eps = 1e-6
    with xgrad.no_grad():
        plus = _outputs(f(*_shifted(inputs, tangents, eps)))
        minus = _outputs(f(*_shifted(inputs, tangents, -eps)))
    expected = _outputs(f(*inputs))
    for p, t, hi, lo, e in zip(primals, jvps, plus, minus, expected):
        assert_close(p, e)
        if not e.dtype.is_inexact:
            continue
        assert t is not None, f"{name}: no tangent"
        assert t.shape == e.shape and t.dtype == e.dtype
        fd = (numpy_of(hi) - numpy_of(lo)) / (2 * eps)
        assert_close(t, fd, rtol=1e-4, atol=1e-6, msg=name)
    _check_against_reverse(f, inputs, tangents, jvps)


def _check_against_reverse(f, inputs, tangents, jvps):
    """<J t, v> == sum_i <J_i^T v, t_i>."""
    xs = [x.detach().requires_grad_() if i in tangents else x for i, x in enumerate(inputs)]
    outs = [o for o in _outputs(f(*xs)) if o.dtype.is_inexact]
    rng = np.random.default_rng(2)
    vs = [xgrad.asarray(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device) for o in outs]
    grads = xgrad.autograd.grad(outs, [xs[i] for i in tangents], vs, allow_unused=True)
    lhs = sum(float(numpy_of(t).ravel() @ numpy_of(v).ravel()) for t, v in zip(jvps, vs))
    rhs = sum(0.0 if g is None else float(numpy_of(g).ravel() @ numpy_of(tangents[i]).ravel())
              for g, i in zip(grads, tangents))
    assert abs(lhs - rhs) <= 1e-8 * (1 + abs(lhs))


HANDWRITTEN = [(n, k, s) for n, k, s in CASES if REGISTRY[n].jvp is not None]


@pytest.mark.parametrize("name,k,sample", HANDWRITTEN, ids=[f"{n}-{k}" for n, k, _ in HANDWRITTEN])
def test_handwritten_jvp_equals_fallback(device, name, k, sample):
    if dask_refuses(device, name, sample):
        return
    op = REGISTRY[name]
    fn, inputs, diff = instantiate(sample, device)
    tangents = _tangents_for(inputs, diff)
    ts = tuple(tangents.get(i) for i in range(len(inputs)))
    out = fn(name)(*inputs)
    bound = fn.params
    hand = fwAD.jvp_of(op, ts, out, inputs, bound)
    fallback = fwAD._jvp_by_transposition(op, ts, out, inputs, bound)
    for h, b, o in zip(_outputs(hand), _outputs(fallback), _outputs(out)):
        assert_close(fwAD._conform(h, o), fwAD._conform(b, o), rtol=1e-10, atol=1e-12, msg=name)


# -- semantics ------------------------------------------------------------------------------
def test_make_dual_needs_a_level(device):
    x = xgrad.ones(3, device=device)
    with pytest.raises(RuntimeError, match="dual_level"):
        fwAD.make_dual(x, x)


def test_make_dual_checks_shape(device):
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(xgrad.ones(3, device=device), xgrad.ones(2, device=device))


def test_unpack_without_tangent_and_outside_level(device):
    x = xgrad.ones(3, device=device)
    assert fwAD.unpack_dual(x).tangent is None
    with fwAD.dual_level():
        primal, tangent = fwAD.unpack_dual(x)
        assert tangent is None and primal is x


def test_tangents_are_dropped_when_the_level_ends(device):
    x = xgrad.asarray([1.0, 2.0], device=device)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, xgrad.ones_like(x))
        y = d * 3
        assert_close(fwAD.unpack_dual(y).tangent, [3.0, 3.0])
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y).tangent is None
    assert fwAD.unpack_dual(d).tangent is None


def test_dual_is_a_view_and_stays_reverse_differentiable(device):
    x = xgrad.asarray([1.0, 2.0], device=device, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, xgrad.asarray([1.0, 0.0], device=device))
        y = (d * d).sum()
        y.backward()
    assert_close(x.grad, [2.0, 4.0])


def test_forward_mode_under_no_grad(device):
    x = xgrad.asarray([0.5, 1.5], device=device)
    with xgrad.no_grad(), fwAD.dual_level():
        y = xgrad.exp(fwAD.make_dual(x, xgrad.ones_like(x)))
        t = fwAD.unpack_dual(y).tangent
    assert_close(t, np.exp([0.5, 1.5]))
    assert t.grad_fn is None


def test_reverse_over_forward_tangent_is_differentiable(device):
    """d/dx of the tangent (J v) is the Hessian-vector product."""
    x = xgrad.asarray([0.3, -0.7, 1.1], dtype=xgrad.float64, device=device, requires_grad=True)
    v = xgrad.asarray([1.0, 2.0, -1.0], dtype=xgrad.float64, device=device)
    with fwAD.dual_level():
        y = (xgrad.sin(fwAD.make_dual(x, v)) * 2).sum()
        (hv,) = xgrad.autograd.grad(fwAD.unpack_dual(y).tangent, x)
    assert_close(hv, -2 * np.sin(numpy_of(x.detach())) * numpy_of(v))


def test_forward_over_reverse(device):
    """The tangent of a gradient (create_graph backward inside a level) is H v."""
    x = xgrad.asarray([0.3, -0.7, 1.1], dtype=xgrad.float64, device=device)
    v = xgrad.asarray([1.0, 2.0, -1.0], dtype=xgrad.float64, device=device)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        leaf = xgrad.reshape(d, (3,))
        leaf.requires_grad_()
        y = (xgrad.exp(leaf) * leaf * leaf).sum()
        (g,) = xgrad.autograd.grad(y, leaf, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent
    xn = numpy_of(x)
    hess_diag = np.exp(xn) * (xn ** 2 + 4 * xn + 2)
    assert_close(hv, hess_diag * numpy_of(v))


def test_nested_levels_give_mixed_derivatives(device):
    x = xgrad.asarray(0.7, dtype=xgrad.float64, device=device)
    y = xgrad.asarray(-1.3, dtype=xgrad.float64, device=device)
    with fwAD.dual_level() as outer:
        dx = fwAD.make_dual(x, xgrad.ones_like(x), level=outer)
        with fwAD.dual_level() as inner:
            dy = fwAD.make_dual(y, xgrad.ones_like(y), level=inner)
            z = xgrad.sin(dx * dy)
            dz_dy = fwAD.unpack_dual(z, level=inner).tangent
        d2 = fwAD.unpack_dual(dz_dy, level=outer).tangent
    xv, yv = 0.7, -1.3
    assert_close(dz_dy, xv * np.cos(xv * yv))
    assert_close(d2, np.cos(xv * yv) - xv * yv * np.sin(xv * yv))


def test_no_perturbation_confusion_between_levels(device):
    """d/dx [x * (d/dy (x + y))] = d/dx [x * 1] = 1, not 2 (Siskind and Pearlmutter)."""
    x = xgrad.asarray(2.0, dtype=xgrad.float64, device=device)
    with fwAD.dual_level() as outer:
        dx = fwAD.make_dual(x, xgrad.ones_like(x), level=outer)
        with fwAD.dual_level() as inner:
            dy = fwAD.make_dual(x, xgrad.ones_like(x), level=inner)
            inner_t = fwAD.unpack_dual(dx + dy, level=inner).tangent
        out = dx * inner_t
        assert_close(fwAD.unpack_dual(out, level=outer).tangent, 1.0)


def test_exiting_a_level_out_of_order_is_an_error():
    a = fwAD.enter_dual_level()
    fwAD.enter_dual_level()
    try:
        with pytest.raises(RuntimeError, match="last one"):
            fwAD.exit_dual_level(level=a)
    finally:
        fwAD.exit_dual_level()
        fwAD.exit_dual_level()
    from xgrad.autograd.forward_state import STATE
    assert STATE.depth == 0


def test_inplace_ops_update_the_tangent(device):
    x = xgrad.asarray([1.0, 2.0], dtype=xgrad.float64, device=device)
    with fwAD.dual_level():
        d = fwAD.make_dual(xgrad.clone(x), xgrad.ones_like(x))
        d.mul_(3)
        d += d
        primal, tangent = fwAD.unpack_dual(d)
        assert_close(primal, [6.0, 12.0])
        assert_close(tangent, [6.0, 6.0])
        e = fwAD.make_dual(xgrad.zeros_like(x), xgrad.zeros_like(x))
        e[0] = d[1]
        assert_close(fwAD.unpack_dual(e).tangent, [6.0, 0.0])


def test_custom_function_outputs_keep_tangents(device):
    class Square(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * g * a

    x = xgrad.asarray([1.0, 2.0], dtype=xgrad.float64, device=device, requires_grad=True)
    with fwAD.dual_level():
        z = Square.apply(fwAD.make_dual(x, xgrad.ones_like(x.detach())))
        assert_close(fwAD.unpack_dual(z).tangent, [2.0, 4.0])


def test_to_device_carries_the_tangent(device):
    x = xgrad.asarray([1.0, 2.0], dtype=xgrad.float64, device="cpu")
    with fwAD.dual_level():
        y = fwAD.make_dual(x, xgrad.ones_like(x)).to(device) * 2
        primal, tangent = fwAD.unpack_dual(y)
    assert tangent.device == device
    assert_close(tangent, [2.0, 2.0])


def test_linear_jvp_of_a_constant_infinite_operand(device):
    """An input with no tangent contributes zeros, also where its value is infinite
    (``0 * inf`` would be NaN): ``cat([t, -inf])`` and ``where(m, t, -inf)``."""
    from xgrad import func
    x = xgrad.asarray(np.array([1.0, 2.0, 3.0]), device=device)
    c = xgrad.asarray(np.full(3, -np.inf), device=device)
    m = xgrad.asarray(np.array([True, False, True]), device=device)
    _, slope = func.jvp(lambda t: xgrad.cat([t, c]), (x,), (xgrad.ones_like(x),))
    np.testing.assert_array_equal(slope.numpy(), [1, 1, 1, 0, 0, 0])
    _, slope = func.jvp(lambda t: xgrad.where(m, t, c), (x,), (xgrad.ones_like(x),))
    np.testing.assert_array_equal(slope.numpy(), [1, 0, 1])
