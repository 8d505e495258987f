"""xgrad.utils.checkpoint: same values and gradients as without it; forward recomputed."""

import numpy as np

import xgrad
from xgrad import nn
from xgrad.testing import assert_close, gradcheck, to_numpy
from xgrad.utils import checkpoint


def test_same_gradients_as_plain_backward(device, rng):
    xgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).to(device)
    x = xgrad.asarray(rng.standard_normal((4, 3)).astype(np.float32), device=device,
                      requires_grad=True)
    model(x).square().sum().backward()
    expected = [to_numpy(p.grad) for p in model.parameters()] + [to_numpy(x.grad)]
    model.zero_grad()
    x.grad = None
    out = checkpoint(model, x)
    assert_close(out, model(x).detach(), rtol=1e-6)
    out.square().sum().backward()
    got = [to_numpy(p.grad) for p in model.parameters()] + [to_numpy(x.grad)]
    for g, e in zip(got, expected):
        assert_close(g, e, rtol=1e-5, atol=1e-6)


def test_forward_is_recomputed_and_inputs_need_no_grad(device):
    calls = []
    w = xgrad.asarray([2.0, 3.0], device=device, requires_grad=True)

    def fn(x):
        calls.append(1)
        return xgrad.exp(x * w)
    x = xgrad.asarray([0.5, -1.0], device=device)
    y = checkpoint(fn, x)
    assert len(calls) == 1 and y.requires_grad
    y.sum().backward()
    assert len(calls) == 2
    assert_close(w.grad, to_numpy(x) * np.exp(to_numpy(x) * to_numpy(w.detach())), rtol=1e-6)


def test_gradcheck_through_checkpoint(device, rng):
    x = xgrad.asarray(rng.standard_normal(3), dtype=xgrad.float64, device=device,
                      requires_grad=True)
    assert gradcheck(lambda t: checkpoint(lambda u: xgrad.sin(u) * u, t), (x,))


def test_no_grad_mode_just_calls(device):
    with xgrad.no_grad():
        y = checkpoint(lambda u: u * 2, xgrad.ones(2, device=device))
    assert not y.requires_grad


def test_graph_node_name(device):
    x = xgrad.ones(2, device=device, requires_grad=True)
    y = checkpoint(lambda u: u * 3, x)
    assert y.grad_fn.name() == "CheckpointFunctionBackward"
    y.sum().backward()
    assert_close(x.grad, [3.0, 3.0])
