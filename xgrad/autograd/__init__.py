"""Reverse-mode automatic differentiation with PyTorch's interface.

``backward`` accumulates gradients into leaves' ``.grad``; ``grad`` returns
them. ``Function`` defines custom differentiable operations. Grad modes
(``no_grad`` and friends) switch recording off and on.
"""

from __future__ import annotations

from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .engine import run_backward
from .function import Function, FunctionCtx
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled"]


def _as_sequence(x):
    if x is None:
        return None
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_gradients(outputs, grad_outputs, create_graph):
    """The gradients to start from: given ones checked, implicit ones for scalars."""
    from .._tensor import Tensor, _wrap
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got "
                           f"{len(grad_outputs)} gradients for {len(outputs)} outputs")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs: "
                                   f"output {i} has shape {out.shape}; pass a gradient "
                                   "(e.g. y.backward(xgrad.ones_like(y))) or reduce it first "
                                   "(y.sum().backward())")
            data = out._device.xp.ones_like(out._data)
        else:
            if not isinstance(g, Tensor):
                from .._creation import asarray
                g = asarray(g, dtype=out.dtype, device=out.device)
            if g.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
            if g._device is not out._device:
                raise RuntimeError(f"grad_output[{i}] is on {g.device} but output[{i}] is on "
                                   f"{out.device}")
            if create_graph and g._requires_grad:
                grads.append(g)
                continue
            data = g._data
            if data.dtype != out._data.dtype:
                data = out._device.xp.astype(data, out._data.dtype)
        grads.append(_wrap(data, out._device) if create_graph else data)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves.

    ``grad_tensors``: one gradient per tensor (None for a scalar tensor).
    ``retain_graph`` (default: ``create_graph``) keeps saved values for another
    backward; ``create_graph`` records the backward so it can be differentiated;
    ``inputs`` restricts accumulation to those tensors.
    """
    tensors = _as_sequence(tensors)
    grad_tensors = _as_sequence(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_sequence(inputs)
    if inputs is not None:
        _check_inputs(inputs)
    grads = _root_gradients(tensors, grad_tensors, create_graph)
    run_backward(tensors, grads, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs, accumulate=True)


def _check_inputs(inputs):
    from .._tensor import Tensor
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs must be Tensors, got {type(t).__name__} at position {i}")
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not "
                               f"require grad")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple.

    Nothing is accumulated into ``.grad``. An input the outputs do not depend on
    is an error unless ``allow_unused`` (then its gradient is None, or zeros
    with ``materialize_grads``). With ``create_graph`` the returned gradients are
    themselves differentiable.
    """
    outputs = _as_sequence(outputs)
    inputs = _as_sequence(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    _check_inputs(inputs)
    if is_grads_batched:
        from .batched import batched_grad
        return batched_grad(outputs, inputs, _as_sequence(grad_outputs), retain_graph,
                            create_graph, allow_unused, materialize_grads)
    grads = _root_gradients(outputs, _as_sequence(grad_outputs), create_graph)
    captured = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                            inputs=inputs, accumulate=False)
    zeros = (lambda t: t._device.xp.zeros_like(t._data)) if materialize_grads else None
    return captured_gradients(inputs, captured, allow_unused, zeros)


def captured_gradients(inputs, captured, allow_unused, zeros=None):
    """The engine's gradients of ``inputs`` as tensors: a missing one is an error
    unless ``allow_unused``, then None, or ``zeros(input)`` if ``zeros`` is given."""
    from .._tensor import Tensor, _wrap
    result = []
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not "
                                   f"have been used in the graph. Set allow_unused=True if this "
                                   f"is the desired behavior.")
            if zeros is not None:
                g = zeros(t)
        if g is not None and not isinstance(g, Tensor):
            g = _wrap(g, t._device)
            g._cow = True  # the engine may hand one array to several places
        result.append(g)
    return tuple(result)


def __getattr__(name):
    """Import ``forward_ad``, ``functional`` and ``batched`` on first use."""
    if name in ("forward_ad", "functional", "batched"):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
