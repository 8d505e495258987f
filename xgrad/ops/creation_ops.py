"""Differentiable conversions: dtype casts, copies, and transfers between devices."""

from __future__ import annotations

from .._tensor import Tensor, record, unary, _wrap
from ..autograd.grad_mode import STATE as _GRAD
from ..autograd.forward_state import STATE as _FW
from ._registry import defop, is_backend_namespace, LINEAR

# the engine casts a gradient back to its input's dtype, so the rule passes g on
ASTYPE = defop("astype", lambda xp, x, *, dtype, copy=True: xp.astype(x, dtype, copy=copy),
               (lambda xp, g, out, x, *, dtype, copy=True: g,), saves=(), grad_name="ToCopyBackward0",
               jvp=LINEAR)
CLONE = defop("clone", lambda xp, x: xp.asarray(x, copy=True), (lambda xp, g, out, x: g,), saves=(),
              jvp=LINEAR)


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` converted to ``dtype`` (and moved to ``device`` if given)."""
    from .._creation import as_tensor_arg, native_dtype, resolve_dtype
    x = as_tensor_arg(x)
    if device is not None:
        x = to_device(x, device)
    dt = resolve_dtype(dtype)
    if not copy and dt is x.dtype:
        return x
    out = unary(ASTYPE, x, {"dtype": native_dtype(dt, x._device), "copy": copy})
    if not dt.is_inexact and out._requires_grad:  # integer results carry no gradient
        out = out.detach()
    return out


def clone(x, /):
    """A copy of ``x`` with its own memory; gradients flow through it."""
    return unary(CLONE, x)


def _move(array, source, target):
    """``array`` from device ``source`` onto device ``target``."""
    if source.backend is target.backend:
        return source.backend.move(array, target.index)
    host = source.backend.to_numpy(array)
    return target.backend.asarray(host, None, target.index, copy=True)


def _to_device_forward(xp, x, *, source, target):
    return _move(x, source, target)


TO_DEVICE = defop("to_device", _to_device_forward,
                  (lambda xp, g, out, x, *, source, target:
                   _move(g, target, source) if is_backend_namespace(xp) else to_device(g, source),),
                  saves=(), grad_name="ToCopyBackward0",
                  jvp=lambda xp, ts, out, x, *, source, target: to_device(ts[0], target))


def to_device(x, device, /, *, stream=None) -> Tensor:
    """``x`` on ``device`` (a copy); differentiable, the gradient goes back."""
    from ..backends import device as parse_device
    target = parse_device(device)
    if not isinstance(x, Tensor):
        from .._creation import asarray
        return asarray(x, device=target)
    source = x._device
    if target is source:
        return x
    params = {"source": source, "target": target}
    out = _move(x._data, source, target)
    if x._requires_grad and _GRAD.enabled:
        result = record(TO_DEVICE, (x,), (x._data,), out, params, target)
    else:
        result = _wrap(out, target)
    if _FW.depth:  # forward mode: the tangent moves too
        return _FW.hook(TO_DEVICE, (x,), params, result)
    return result
