"""xgrad.optim: each update compared with its formula computed in NumPy."""

import math

import numpy as np
import pytest

import xgrad
from xgrad import nn, optim
from xgrad.testing import assert_close, to_numpy

STEPS = 4


def quadratic_setup(device, rng):
    """A parameter and the fixed targets of loss = sum(c * (p - t)²)/2 (grad = c (p - t))."""
    p0 = rng.standard_normal(5)
    c, t = rng.random(5) + 0.5, rng.standard_normal(5)
    p = nn.Parameter(xgrad.asarray(p0, dtype=xgrad.float64, device=device))
    ct = xgrad.asarray(c, dtype=xgrad.float64, device=device)
    tt = xgrad.asarray(t, dtype=xgrad.float64, device=device)
    return p, p0, (lambda: (ct * (p - tt) ** 2).sum() / 2), (lambda q: c * (q - t))


def run(opt, p, loss):
    for _ in range(STEPS):
        opt.zero_grad()
        loss().backward()
        opt.step()
    return to_numpy(p.detach())


@pytest.mark.parametrize("momentum,nesterov,dampening,wd", [
    (0.0, False, 0.0, 0.0), (0.9, False, 0.0, 0.0), (0.9, True, 0.0, 0.1),
    (0.8, False, 0.3, 0.05)])
def test_sgd_matches_formula(device, rng, momentum, nesterov, dampening, wd):
    p, q, loss, grad = quadratic_setup(device, rng)
    lr = 0.1
    opt = optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov, dampening=dampening,
                    weight_decay=wd)
    buf = None
    for _ in range(STEPS):
        g = grad(q) + wd * q
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        q = q - lr * g
    assert_close(run(opt, p, loss), q, rtol=1e-12)
    if momentum:
        state = opt.state[p]["momentum_buffer"]
        assert state.device == device
        assert_close(state, buf, rtol=1e-12)


@pytest.mark.parametrize("cls,wd,amsgrad", [(optim.Adam, 0.0, False), (optim.Adam, 0.1, False),
                                            (optim.Adam, 0.0, True), (optim.AdamW, 0.1, False)])
def test_adam_matches_formula(device, rng, cls, wd, amsgrad):
    p, q, loss, grad = quadratic_setup(device, rng)
    lr, (b1, b2), eps = 0.05, (0.9, 0.99), 1e-8
    opt = cls([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=amsgrad)
    m = v = vmax = np.zeros(5)
    for t in range(1, STEPS + 1):
        g = grad(q)
        if cls is optim.AdamW:
            q = q * (1 - lr * wd)
        else:
            g = g + wd * q
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        q = q - lr / (1 - b1 ** t) * m / (np.sqrt(vv / (1 - b2 ** t)) + eps)
    assert_close(run(opt, p, loss), q, rtol=1e-10)
    state = opt.state[p]
    assert state["step"] == STEPS
    assert state["exp_avg"].device == device
    assert_close(state["exp_avg_sq"], v, rtol=1e-10)


def test_parameter_groups_and_zero_grad(device):
    a = nn.Parameter(xgrad.ones(2, device=device))
    b = nn.Parameter(xgrad.ones(2, device=device))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[1]["momentum"] == 0.0
    (a.sum() + b.sum()).backward()
    opt.step()
    assert_close(a.detach(), [0.9, 0.9])
    assert_close(b.detach(), [0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert_close(a.grad, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.step()  # no gradients: nothing moves
    assert_close(a.detach(), [0.9, 0.9])
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([a * 2], lr=0.1)


def test_step_is_in_place_and_unrecorded(device):
    p = nn.Parameter(xgrad.ones(3, device=device))
    opt = optim.Adam([p], lr=0.1)
    before_id, version = id(p), p._version
    (p * p).sum().backward()
    opt.step()
    assert id(p) == before_id and p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p._version > version
    assert p.device == device


def test_closure(device):
    p = nn.Parameter(xgrad.asarray([2.0], device=device))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 4.0
    assert_close(p.detach(), [1.0])


def test_optimizer_state_dict_round_trip(device, rng):
    p, q, loss, _ = quadratic_setup(device, rng)
    opt = optim.Adam([p], lr=0.05)
    run(opt, p, loss)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    p2 = nn.Parameter(p.detach().clone())
    opt2 = optim.Adam([p2], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.05
    opt.zero_grad()
    opt2.zero_grad()
    loss().backward()
    p2.grad = p.grad.clone()
    opt.step()
    opt2.step()
    assert_close(p2.detach(), p.detach(), rtol=1e-12)
    assert opt2.state[p2]["exp_avg"] is not opt.state[p]["exp_avg"]


def test_schedulers():
    p = nn.Parameter(xgrad.ones(1))
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    opt = optim.SGD([p], lr=0.1)
    cos = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    lrs = []
    for _ in range(5):
        lrs.append(cos.get_last_lr()[0])
        cos.step()
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    assert np.allclose(lrs, expected)


def test_model_to_device_then_optimizer_state_on_device(device, rng):
    model = nn.Linear(3, 2).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = xgrad.asarray(rng.standard_normal((4, 3)).astype(np.float32), device=device)
    model(x).sum().backward()
    opt.step()
    assert all(s["momentum_buffer"].device == device for s in opt.state.values())
