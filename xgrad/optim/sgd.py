"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from .optimizer import Optimizer
from .._compile._hooks import host as _host

__all__ = ["SGD"]


def _lr(group):
    return group["lr"] * 1.0  # (a float object of its own: xgrad.compile tracks it by identity)


class SGD(Optimizer):
    """PyTorch's SGD: with momentum μ, dampening τ, weight decay λ:

        g ← g + λ p;  b ← μ b + (1 - τ) g  (b = g at the first step)
        p ← p - lr (g + μ b  if nesterov else  b)
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("lr, momentum and weight_decay must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    _compile_dynamic = frozenset({"lr"})

    def _update(self, group, p, g, state):
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.clone()
            else:
                buf.mul_(momentum).add_(g * (1 - group["dampening"]))
            g = g + momentum * buf if group["nesterov"] else buf
        p.sub_(g * _host(_lr, group))  # (a host step: xgrad.compile reads lr at every replay)
