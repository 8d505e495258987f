"""Adam and AdamW."""

from __future__ import annotations

import math

import xgrad as _x
from .optimizer import Optimizer
from .._compile._hooks import host as _host

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's form: with t the step count,

        g ← g + λ p  (L2 weight decay; AdamW decays p directly instead)
        m ← β1 m + (1 - β1) g;  v ← β2 v + (1 - β2) g²
        p ← p - lr m / (1 - β1ᵗ) / (sqrt(v / (1 - β2ᵗ)) + ε)
    ``amsgrad`` uses the running maximum of v.
    """

    decoupled = False
    _compile_dynamic = frozenset({"lr"})

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError("invalid Adam hyperparameters")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, group, p, g, state):
        if group["maximize"]:
            g = -g
        wd = group["weight_decay"]
        beta1, beta2 = group["betas"]
        if wd:
            if self.decoupled:
                p.mul_(_host(_decay, group))
            else:
                g = g + wd * p
        if not state:
            state["step"] = 0
            state["exp_avg"] = _x.zeros_like(p)
            state["exp_avg_sq"] = _x.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _x.zeros_like(p)
        # (a host step: under xgrad.compile a replay advances the count and recomputes these)
        step_size, v_scale = _host(_bias_corrections, state, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_(g * (1 - beta1))
        v.mul_(beta2).add_(g * g * (1 - beta2))
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            vmax.copy_(_x.maximum(vmax, v))
            v = vmax
        denom = _x.sqrt(v) * v_scale + group["eps"]
        p.sub_(m / denom * step_size)


def _decay(group):
    """AdamW's factor 1 - lr λ."""
    return 1 - group["lr"] * group["weight_decay"]


def _bias_corrections(state, group):
    """Advance the step count; return Adam's step size lr / (1 - β1ᵗ) and the scale
    1 / sqrt(1 - β2ᵗ) of sqrt(v)."""
    state["step"] += 1
    t = state["step"]
    beta1, beta2 = group["betas"]
    return group["lr"] / (1 - beta1 ** t), 1 / math.sqrt(1 - beta2 ** t)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p ← p (1 - lr λ) before
    the Adam step. Default weight_decay 0.01."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
