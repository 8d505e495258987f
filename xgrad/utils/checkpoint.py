"""Gradient checkpointing: keep a function's inputs, not its intermediates, and
recompute the forward pass during backward."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd import Function, enable_grad, is_grad_enabled

__all__ = ["checkpoint"]


class CheckpointFunction(Function):
    """Runs ``fn`` without recording; backward re-runs it with recording and
    backpropagates through that fresh graph (parameters used inside ``fn``
    get their ``.grad`` there, as with PyTorch's reentrant checkpoint)."""

    @staticmethod
    def forward(ctx, fn, anchor, *args):
        ctx.fn = fn
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        ctx.args = args
        return fn(*args)

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import backward as run_backward
        saved = iter(ctx.saved_tensors)
        inputs = []
        for a, needs in zip(ctx.args, ctx.needs_input_grad[2:]):
            if isinstance(a, Tensor):
                a = next(saved).detach().requires_grad_(needs)
            inputs.append(a)
        with enable_grad():
            outputs = ctx.fn(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            run_backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) and a.requires_grad else None
                                    for a in inputs)


def checkpoint(function, *args, use_reentrant=None, **kwargs):
    """``function(*args)``, saving memory: its intermediate values are not kept for
    backward but recomputed then. ``function`` must be deterministic (no dropout
    whose mask would differ between the two runs). As PyTorch's reentrant variant,
    the recomputed backward accumulates into the ``.grad`` of parameters used inside
    ``function``, so use it with ``backward()`` rather than ``autograd.grad``."""
    if kwargs:
        raise TypeError(f"checkpoint: unexpected keyword arguments {sorted(kwargs)}")
    if not is_grad_enabled():
        return function(*args)
    import xgrad
    device = next((a.device for a in args if isinstance(a, Tensor)), None)
    anchor = xgrad.zeros((), device=device, requires_grad=True)  # records the call even when no input needs grad
    return CheckpointFunction.apply(function, anchor, *args)
