"""Scans along one axis: running max/min positions, log-cumsum-exp.

The standard has cumulative sums and products but no running maximum, so the
scans here are Hillis-Steele doublings: ``ceil(log2(n))`` steps, each one
standard elementwise call over the whole array (no Python branch on values).

* :func:`running_extreme_indices` returns where the running maximum (or
  minimum) of each prefix sits, with PyTorch's ties (the latest position) and
  NaN rule (a NaN wins and stays); ``cummax``'s values are then
  ``take_along_axis(x, indices)``, so their gradient goes back to those
  positions and is differentiable again.
* :func:`logcumsumexp` is the same doubling with ``logaddexp`` on tensors: a
  composition of differentiable ops, so every order of derivative and forward
  mode come from their rules.
"""

from __future__ import annotations

from .._tensor import apply
from ._registry import defop
from .elementwise import logaddexp
from .manipulation import concat, moveaxis


def _running_arg_forward(xp, x, *, axis, largest):
    xm = xp.moveaxis(x, axis, -1)
    n = xm.shape[-1]
    idx = xp.broadcast_to(xp.arange(n, dtype=xp.int64, device=x.device), xm.shape)
    v = xm
    k = 1
    while k < n:
        sv, si = v[..., :-k], idx[..., :-k]
        cv, ci = v[..., k:], idx[..., k:]
        better = (sv > cv) if largest else (sv < cv)
        better = better | (xp.isnan(sv) & ~xp.isnan(cv))
        v = xp.concat([v[..., :k], xp.where(better, sv, cv)], axis=-1)
        idx = xp.concat([idx[..., :k], xp.where(better, si, ci)], axis=-1)
        k *= 2
    return xp.moveaxis(idx, -1, axis)


RUNNING_ARG = defop("running_arg", _running_arg_forward)


def running_extreme_indices(x, axis, largest=True):
    """int64 positions (along ``axis``) of the maximum (``largest``) or minimum of
    every prefix ``x[..., :i+1, ...]``: ties go to the latest, a NaN wins."""
    return apply(RUNNING_ARG, (x,), {"axis": axis, "largest": bool(largest)})


def logcumsumexp(x, axis):
    """``log(cumsum(exp(x)))`` along ``axis`` without overflow: a doubling scan of
    ``logaddexp`` (pairwise, so also accurate)."""
    v = moveaxis(x, axis, -1)
    n = v.shape[-1]
    if n <= 1:  # a new tensor, as PyTorch's (moveaxis alone would give a view of x)
        from .creation_ops import clone
        return clone(x)
    k = 1
    while k < n:
        head, tail = v[..., :k], v[..., k:]
        v = concat([head, logaddexp(tail, v[..., :-k])], axis=-1)
        k *= 2
    from .._views import fresh  # a new tensor (contiguous, as PyTorch's), not a view of v
    out = moveaxis(v, -1, axis)
    v = head = tail = None
    return fresh(out)


__all__ = ["running_extreme_indices", "logcumsumexp", "RUNNING_ARG"]
