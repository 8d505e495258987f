"""Batched backward (``autograd.grad(..., is_grads_batched=True)``): for every op of the
registry with samples, one batched pass equals the loop of single passes, with and
without ``create_graph``; plus the API's errors and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

import xgrad
from xgrad.autograd.batched import batch_support
from xgrad.ops import REGISTRY
from xgrad.testing import assert_close

from _op_samples import REQUIRED, cases, coverage_report, dask_refuses, instantiate, numpy_of

CASES = list(cases())
IDS = [f"{n}-{k}" for n, k, _ in CASES]
BATCH = 3


def _outs(out):
    return [o for o in (out if isinstance(out, tuple) else (out,)) if o.dtype.is_inexact]


def test_batch_support_report():
    covered, missing = coverage_report()
    kinds = {n: batch_support(REGISTRY[n]) for n in covered}
    rows = [n for n, k in kinds.items() if k == "rows"]
    print(f"\nbatched VJP: {len(covered) - len(rows)} ops vectorized, per-row fallback for "
          f"{', '.join(rows) or 'none'}; without samples: {', '.join(missing) or 'none'}")
    assert REQUIRED <= set(covered)
    for name in ("add", "exp", "matmul", "sum", "mean", "reshape", "permute_dims", "where", "getitem",
                 "concat", "stack", "roll", "cumulative_sum", "max", "var", "clip"):
        assert kinds[name] != "rows", name


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("name,k,sample", CASES, ids=IDS)
def test_batched_equals_looped(device, name, k, sample, create_graph):
    if dask_refuses(device, name, sample):
        return
    fn, inputs, diff = instantiate(sample, device)
    xs = [x.requires_grad_() if i in diff else x for i, x in enumerate(inputs)]
    outs = _outs(fn(name)(*xs))
    rng = np.random.default_rng(3)
    vs = [xgrad.asarray(rng.standard_normal((BATCH,) + tuple(o.shape)), dtype=o.dtype,
                        device=o.device) for o in outs]
    wrt = [xs[i] for i in diff]
    batched = xgrad.autograd.grad(outs, wrt, vs, retain_graph=True, create_graph=create_graph,
                                  allow_unused=True, is_grads_batched=True)
    for b in range(BATCH):
        single = xgrad.autograd.grad(outs, wrt, [v[b] for v in vs], retain_graph=True,
                                     allow_unused=True)
        for g_batched, g_single, x in zip(batched, single, wrt):
            if g_single is None:
                assert g_batched is None
                continue
            assert g_batched.shape == (BATCH,) + tuple(x.shape)
            assert_close(g_batched[b], g_single, rtol=1e-10, atol=1e-12, msg=name)


def test_batched_second_derivative(device):
    """create_graph=True: the batched gradient is differentiable again."""
    x = xgrad.asarray([0.5, -1.0, 2.0], dtype=xgrad.float64, device=device, requires_grad=True)
    y = xgrad.sin(x) * x
    eye = xgrad.eye(3, dtype=xgrad.float64, device=device)
    (jac,) = xgrad.autograd.grad(y, x, eye, create_graph=True, is_grads_batched=True)
    (g2,) = xgrad.autograd.grad(jac.sum(), x)
    xn = numpy_of(x.detach())
    assert_close(g2, 2 * np.cos(xn) - xn * np.sin(xn))


def test_custom_function_uses_rows(device):
    class Cube(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    x = xgrad.asarray([1.0, 2.0], dtype=xgrad.float64, device=device, requires_grad=True)
    y = Cube.apply(x).sum() * Cube.apply(x)
    vs = xgrad.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=xgrad.float64, device=device)
    (g,) = xgrad.autograd.grad(y, x, vs, retain_graph=True, is_grads_batched=True)
    for b in range(3):
        (single,) = xgrad.autograd.grad(y, x, vs[b], retain_graph=True)
        assert_close(g[b], single)


def test_errors_and_unused(device):
    x = xgrad.asarray([1.0, 2.0], device=device, requires_grad=True)
    z = xgrad.asarray([1.0], device=device, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="batch dimension"):
        xgrad.autograd.grad(y, x, xgrad.ones(2, device=device), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="not have been used"):
        xgrad.autograd.grad(y, [x, z], xgrad.ones((4, 2), device=device), retain_graph=True,
                            is_grads_batched=True)
    gx, gz = xgrad.autograd.grad(y, [x, z], xgrad.ones((4, 2), device=device), retain_graph=True,
                                 is_grads_batched=True, materialize_grads=True)
    assert gx.shape == (4, 2) and gz.shape == (4, 1)
    assert_close(gz, np.zeros((4, 1)))
    (empty,) = xgrad.autograd.grad(y, x, xgrad.ones((0, 2), device=device), is_grads_batched=True)
    assert empty.shape == (0, 2)


def test_normal_backward_unchanged_after_batched(device):
    from xgrad.autograd.graph import Node
    apply = Node.apply
    x = xgrad.asarray([1.0, 2.0], device=device, requires_grad=True)
    xgrad.autograd.grad((x * x).sum() * x, x, xgrad.ones((2, 2), device=device),
                        is_grads_batched=True)
    assert Node.apply is apply
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, 4.0])
