"""Custom differentiable operations: ``class F(xgrad.autograd.Function)``.

``forward(ctx, *args)`` runs without recording; ``backward(ctx, *grads)`` gets
one gradient per output and returns one per input. Written in xgrad
operations, ``backward`` is itself differentiable (``create_graph=True``).

PyTorch's newer style works too: ``forward(*args)`` without ``ctx`` plus
``setup_context(ctx, inputs, output)``. Forward mode: a Function with a ``jvp(ctx,
*tangents)`` staticmethod gets its output tangents from it (values kept with
``ctx.save_for_forward`` come back from ``ctx.saved_tensors`` inside ``jvp``);
without one, tangents flow through the xgrad operations ``forward`` runs (where
PyTorch raises).
"""

from __future__ import annotations

from .graph import FREED_MESSAGE, Node, _GraphNode, sum_to
from .grad_mode import STATE as _GRAD
from .forward_state import STATE as _FW

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` of a custom Function: it is also the graph node of the call."""

    def name(self) -> str:
        return self._fn.__name__ + "Backward"

    def __init__(self, fn_class):
        self._fn = fn_class
        self._saved = ()
        self._saved_versions = ()
        self._freed = False
        self._non_differentiable = set()
        self._materialize_grads = True
        self._outputs = ()
        self.needs_input_grad = ()
        self.next_edges = ()
        self.pre_hooks = None
        self.trace = None
        self.num_outputs = 1
        self.device = None
        self._saved_forward = None
        self._in_jvp = False

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; read them back from ``saved_tensors``."""
        from .._tensor import Tensor
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save Tensors (or None); keep other "
                                "values as attributes of ctx")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else (t._vc, t._vc[0]) for t in tensors)

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors (or None) for ``jvp``; inside ``jvp`` they come back from
        ``saved_tensors``."""
        from .._tensor import Tensor
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_forward can only save Tensors (or None); keep other "
                                "values as attributes of ctx")
        self._saved_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._in_jvp:
            if self._saved_forward is None:
                raise RuntimeError(f"{self._fn.__name__}.jvp read ctx.saved_tensors, but forward "
                                   f"(or setup_context) saved nothing with ctx.save_for_forward")
            return tuple(self._saved_forward)
        if self._freed:
            raise RuntimeError(FREED_MESSAGE.format(self.name()))
        for t, version in zip(self._saved, self._saved_versions):
            if version is not None and version[0][0] != version[1]:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: it was saved by {self.name()} at version "
                    f"{version[1]} and is now at version {version[0][0]}.")
        return tuple(self._unpack(t) for t in self._saved)

    def _unpack(self, t):
        """A saved output comes back on the graph, so second derivatives see it."""
        from .._tensor import from_graph
        for i, out in enumerate(self._outputs):
            if t is out and i not in self._non_differentiable:
                return from_graph(t._data, t._device, self, i)
        return t

    def mark_non_differentiable(self, *outputs) -> None:
        """These outputs will not require grad (integer indices, masks, ...)."""
        self._non_differentiable.update(id(o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward gets zeros (True, default) or None for unused outputs."""
        self._materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError("in-place custom Functions (mark_dirty) are not supported "
                                  "by xgrad; return a new tensor from forward instead")


class _FunctionNode(FunctionCtx, _GraphNode):
    """The graph node of one call of a custom Function."""

    def add_tensor_hook(self, output_nr, hook):
        from .._tensor import _HookHandle
        if self.pre_hooks is None:
            self.pre_hooks = {}
        return _HookHandle(self.pre_hooks.setdefault(output_nr, []), hook)

    add_retain_grad = Node.add_retain_grad

    def release(self) -> None:
        self._freed = True

    def apply(self, grads, create_graph):
        from .._tensor import Tensor, _wrap
        from . import grad_mode
        device = self.device
        args = []
        for g, (shape, dtype) in zip(grads, self._out_meta):
            if g is None:
                g = (device.xp.zeros(shape, dtype=dtype, device=device.native)
                     if self._materialize_grads else None)
            if g is not None and not isinstance(g, Tensor):
                g = _wrap(g, device)
                g._cow = True
            args.append(g)
        with grad_mode.set_grad_enabled(create_graph):
            result = self._fn.backward(self, *args)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.next_edges):
            if len(result) > len(self.next_edges) and all(r is None for r in result[len(self.next_edges):]):
                result = result[:len(self.next_edges)]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {len(self.next_edges)}, got {len(result)})")
        out = []
        for i, (r, edge, meta) in enumerate(zip(result, self.next_edges, self._in_meta)):
            if edge is None or r is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"function {self.name()} returned a {type(r).__name__} as "
                                f"gradient {i}; expected a Tensor or None")
            if r.shape != meta[0]:
                if not _expandable(meta[0], r.shape):
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at "
                                       f"index {i} - got {list(r.shape)} but expected shape "
                                       f"compatible with {list(meta[0])}")
                r = sum_to(_namespace(), r, meta[0])
            out.append(r if create_graph else r._data)
        return out


def _namespace():
    from ..ops._registry import tensor_namespace
    return tensor_namespace()


def _expandable(shape, target) -> bool:
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


class Function:
    """Base class of custom differentiable operations (PyTorch's interface)::

        class Exp(xgrad.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp(); ctx.save_for_backward(y); return y
            @staticmethod
            def backward(ctx, g):
                y, = ctx.saved_tensors; return g * y

        y = Exp.apply(x)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...) to be "
                                  "differentiated")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch's newer style: define it (and ``forward(*args)`` without ``ctx``) to
        save what backward/jvp need from ``inputs`` and ``output``."""
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def jvp(ctx, *tangents):
        """Forward mode: the tangents of the outputs from those of the inputs (one per
        input: zeros for tensors without one, None for non-tensors)."""
        raise NotImplementedError("jvp is not overridden")

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("xgrad has no vmap transform, so custom Functions have no "
                                  "vmap rule (autograd.Function.vmap is not supported)")

    @classmethod
    def _run_forward(cls, ctx, args, kwargs):
        if cls.setup_context is not Function.setup_context:  # forward(*args) + setup_context
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
            return output
        return cls.forward(ctx, *args, **kwargs)

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, from_graph
        from .grad_mode import no_grad
        from .engine import gradient_edge
        ctx = _FunctionNode(cls)
        tensors = [a for a in args if isinstance(a, Tensor)]
        recording = _GRAD.enabled and any(t._requires_grad for t in tensors)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad and recording
                                     for a in args)
        levels = _tangent_levels(tensors) if cls.jvp is not Function.jvp else ()
        with no_grad():
            if levels:  # the Function's own jvp gives the tangents: forward runs without them
                depth, _FW.depth = _FW.depth, 0
                try:
                    outputs = cls._run_forward(ctx, args, kwargs)
                finally:
                    _FW.depth = depth
            else:
                outputs = cls._run_forward(ctx, args, kwargs)
        if not recording:
            if levels:
                _forward_tangents(cls, ctx, args, outputs, levels)
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        ctx.device = tensors[0]._device
        ctx.next_edges = tuple(gradient_edge(a) if n else None
                               for a, n in zip(args, ctx.needs_input_grad))
        ctx._in_meta = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
        ctx._outputs = outs
        ctx._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None)
                              for o in outs)
        ctx.num_outputs = len(outs)
        non_diff = ctx._non_differentiable
        ctx._non_differentiable = {i for i, o in enumerate(outs) if id(o) in non_diff}
        if _GRAD.anomaly:
            from .anomaly import capture_trace
            ctx.trace = capture_trace()
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor) or i in ctx._non_differentiable \
                    or not o.dtype.is_inexact:
                wrapped.append(o)
            else:
                w = from_graph(o._data, o._device, ctx, i)
                w._fw = o._fw  # forward mode: tangents propagated through forward's own ops
                wrapped.append(w)
        result = wrapped[0] if single else tuple(wrapped)
        if levels:
            _forward_tangents(cls, ctx, args, result, levels)
        return result


def _tangent_levels(tensors) -> list:
    """The active forward-mode levels at which some input carries a tangent."""
    if not _FW.depth:
        return []
    from .forward_ad import _STACK
    return [level for level in _STACK[:_FW.depth]
            if any(t._fw and level in t._fw for t in tensors)]


def _forward_tangents(cls, ctx, args, outputs, levels) -> None:
    """Give ``outputs`` the tangents ``cls.jvp`` computes, level by level (outer levels
    stay active inside, so their perturbations reach the inner tangents)."""
    from .._tensor import Tensor
    from .forward_ad import _attach, _conform, _tangent
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    for level in levels:
        tangents = []
        for a in args:
            if not isinstance(a, Tensor):
                tangents.append(None)
                continue
            t = _tangent(a, level)
            tangents.append(t if t is not None else _namespace().zeros_like(a.detach()))
        depth, _FW.depth = _FW.depth, level.index
        ctx._in_jvp = True
        try:
            result = cls.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
            _FW.depth = depth
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(outs):
            raise RuntimeError(f"{cls.__name__}.jvp returned {len(result)} tangents for "
                               f"{len(outs)} outputs")
        for o, t in zip(outs, result):
            if isinstance(o, Tensor) and t is not None and o.dtype.is_inexact:
                _attach(o, _conform(t, o), level)


