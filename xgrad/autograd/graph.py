"""Graph nodes: what a recorded operation keeps for its backward.

A :class:`Node` holds the op, the values its rules need (raw backend arrays),
the version each saved tensor had, and one edge per input: ``(node, output_nr)``
of the input's producer, or ``None`` for inputs that need no gradient. Leaves
are reached through their :class:`AccumulateGrad` node. Nodes never refer to
their outputs, so graphs form no reference cycles.
"""

from __future__ import annotations

import weakref

from ..backends import dtype_of_native
from .grad_mode import _GradState
from .forward_state import STATE as _FW

__all__ = ["Node", "AccumulateGrad", "ArrayMeta", "record", "record_unary", "record_binary"]

_new = object.__new__
_NO_PARAMS: dict = {}  # shared and never written: rules take params as **kwargs
_from_graph = None  # xgrad._tensor.from_graph, set by that module (imports stay one-way)
_attach = None  # xgrad._views.attach (makes a view op's output a view), set by that module

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward. (node: {})")


class ArrayMeta:
    """Stands in for an input a rule did not save: only its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


class _GraphNode:
    """What Node, AccumulateGrad and custom-Function nodes share: hooks and naming."""

    __slots__ = ()

    def name(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """``((node, output_nr), ...)`` per input, ``(None, 0)`` where no gradient flows."""
        return tuple((None, 0) if e is None else e for e in self.next_edges)


class Node(_GraphNode):
    """A recorded op. ``apply`` turns output gradients into input gradients."""

    __slots__ = ("op", "params", "device", "next_edges", "saved", "saved_out", "versions",
                 "in_meta", "pre_hooks", "trace", "__weakref__")
    tensor_class = None  # set by xgrad._tensor (Tensor), to keep imports one-way

    def name(self) -> str:
        return self.op.grad_name

    # -- hooks -------------------------------------------------------------
    def add_tensor_hook(self, output_nr: int, hook):
        from .._tensor import _HookHandle
        if self.pre_hooks is None:
            self.pre_hooks = {}
        return _HookHandle(self.pre_hooks.setdefault(output_nr, []), hook)

    def add_retain_grad(self, tensor) -> None:
        ref = weakref.ref(tensor)

        def retain(grad):
            t = ref()
            if t is not None:
                t._grad = grad.detach() if t._grad is None else t._grad + grad.detach()
        retain.retains_grad = True
        self.add_tensor_hook(tensor._output_nr, retain)

    # -- backward ------------------------------------------------------------
    def release(self) -> None:
        """Free the saved values (after a backward without ``retain_graph``)."""
        if self.op.needs_saved and self.saved is not None:
            self.saved = None
            self.saved_out = None
            self.versions = ()  # (nothing saved to check; nor a reason to copy on write)

    def check_saved(self) -> None:
        if self.saved is None:
            raise RuntimeError(FREED_MESSAGE.format(self.name()))
        for counter, expected in self.versions:
            if counter[0] != expected:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: it is an input or output of {self.name()} and is at "
                    f"version {counter[0]}; expected version {expected} instead. Use an "
                    f"out-of-place operation, or clone() the tensor before modifying it.")

    def apply(self, grads: list, create_graph: bool) -> list:
        """Input gradients (raw arrays, or Tensors when ``create_graph``) for ``grads``,
        the gradients of this node's outputs (None for an output nothing flowed into)."""
        if self.saved is None:
            self.check_saved()  # raises
        for counter, expected in self.versions:
            if counter[0] != expected:
                self.check_saved()  # raises
        op = self.op
        if create_graph:
            from ..ops._registry import tensor_namespace
            xp = tensor_namespace()  # the standard's face (xgrad.array_api sets the hook)
            g, out, inputs = self._tensor_arguments(grads)
        else:
            xp = self.device.xp
            g = grads[0] if op.nout == 1 else tuple(self._fill_zeros(xp, grads))
            out = self.saved_out
            inputs = self.saved
        params = self.params or _NO_PARAMS
        edges = self.next_edges
        vjps = op.vjps
        if vjps is None:
            results = list(op.vjp_all(xp, g, out, *inputs, **params))
        elif len(vjps) == 1:  # one input, so it is the one that requires grad
            rule = vjps[0]
            grad = None if rule is None else rule(xp, g, out, *inputs, **params)
            if grad is not None:
                array = grad._data if create_graph else grad
                meta = self.in_meta[0]
                if array.shape != meta[0] or array.dtype is not meta[1]:
                    grad = self._conform(xp, grad, 0, create_graph)
            return [grad]
        else:
            results = [None if edge is None or rule is None else rule(xp, g, out, *inputs, **params)
                       for edge, rule in zip(edges, vjps)]
        metas = self.in_meta
        for i, grad in enumerate(results):
            if grad is None:
                continue
            if edges[i] is None:
                results[i] = None
                continue
            # the common case, checked cheaply: the shape and the (interned) dtype match
            array = grad._data if create_graph else grad
            meta = metas[i]
            if array.shape != meta[0] or array.dtype is not meta[1]:
                results[i] = self._conform(xp, grad, i, create_graph)
        return results

    def _raw_arguments(self):
        """The rules' input arguments on raw arrays: the saved inputs, shape-and-dtype
        stand-ins (:class:`ArrayMeta`) for inputs not saved, and constants."""
        return self.saved

    def _fill_zeros(self, xp, grads):
        outs = self.saved_out
        for g, o in zip(grads, outs):
            yield xp.zeros_like(o) if g is None else g

    def _tensor_arguments(self, grads):
        """The rule's arguments as tensors on the graph, so its result is differentiable."""
        T = self.tensor_class
        from .._tensor import _wrap, from_graph
        device = self.device
        tensors = [g if g is None or isinstance(g, T) else _wrap(g, device) for g in grads]
        out = self.saved_out
        if self.op.nout == 1:
            g = tensors[0]
            out = None if out is None else from_graph(out, device, self, 0)
        else:
            out = tuple(from_graph(o, device, self, i) for i, o in enumerate(out)) \
                if out is not None else None
            g = tuple(_zeros_tensor_like(o, device) if t is None else t
                      for t, o in zip(tensors, self.saved_out))
        inputs = []
        for value, meta, edge in zip(self.saved, self.in_meta, self.next_edges):
            if value is None or type(value) is ArrayMeta:
                inputs.append(None if meta is None else ArrayMeta(meta[0], dtype_of_native(meta[1])))
            elif type(value) in (bool, int, float, complex):
                inputs.append(value)
            elif edge is None:
                inputs.append(_wrap(value, device))
            elif isinstance(edge[0], AccumulateGrad):
                inputs.append(edge[0].variable)
            else:
                inputs.append(from_graph(value, device, edge[0], edge[1]))
        if _FW.depth:  # forward-over-reverse: the rebuilt tensors get their tangents back
            _FW.restore(self, out, inputs)
        return g, out, tuple(inputs)

    def _conform(self, xp, grad, i, create_graph):
        """Undo broadcasting and match the input's dtype: the one shared place for both."""
        shape, dtype = self.in_meta[i]
        if tuple(grad.shape) != tuple(shape) and not _has_unknown_size(shape):
            if not self.op.broadcasts:
                raise RuntimeError(f"internal error: the gradient rule of {self.op.name} returned "
                                   f"shape {tuple(grad.shape)} for an input of shape {tuple(shape)}")
            grad = sum_to(xp, grad, tuple(shape))
        if create_graph:
            native = grad._data.dtype
            if native != dtype:
                grad = _cast_grad(xp, grad, dtype_of_native(dtype))
        elif grad.dtype != dtype:
            grad = _cast_grad(xp, grad, dtype)
        return grad


def _cast_grad(xp, grad, dtype):
    """``grad`` as ``dtype``; a complex gradient of a real input keeps its real part
    (PyTorch's convention for real-to-complex steps)."""
    if "complex" in str(grad.dtype) and "complex" not in str(dtype):
        grad = xp.real(grad)
    return xp.astype(grad, dtype, copy=False)


def _zeros_tensor_like(array, device):
    from .._tensor import _wrap
    return _wrap(device.xp.zeros_like(array), device)


def _has_unknown_size(shape) -> bool:
    """Lazy backends (Dask after a boolean mask) report unknown sizes as NaN, which
    equals nothing: such shapes cannot be compared, and a rule's result is trusted."""
    return any(s != s for s in shape)


def sum_to(xp, g, shape: tuple):
    """Sum ``g`` down to ``shape``: the reverse of broadcasting ``shape`` to ``g.shape``."""
    lead = g.ndim - len(shape)
    gshape = tuple(g.shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    if axes:
        g = xp.sum(g, axis=axes)
    return xp.reshape(g, shape) if tuple(g.shape) != shape else g


class AccumulateGrad(_GraphNode):
    """The node that adds incoming gradients into a leaf's ``.grad``."""

    __slots__ = ("variable", "__weakref__")
    next_edges = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    @property
    def device(self):
        return self.variable._device

    def ref(self):
        return weakref.ref(self)


def record(op, args, datas, out, params, device):
    """Wrap ``out`` in tensor(s) and record a Node for ``op`` applied to ``args``."""
    # This runs for every recorded op: one pass over the inputs, no imports, no
    # helper calls beyond what each input needs.
    T = Node.tensor_class
    node = _new(Node)
    node.op = op
    node.params = params
    node.device = device
    node.pre_hooks = None
    node.trace = None
    edges = []
    metas = []
    versions = []
    save_in = op.save_in
    save_all = save_in == "all"
    saved = []  # the rules' input arguments: arrays, stand-ins, constants
    i = 0
    for a in args:
        if isinstance(a, T):
            d = datas[i]
            if a._requires_grad:
                fn = a._grad_fn
                edges.append((fn, a._output_nr) if fn is not None else (a._accumulator(), 0))
                metas.append((d.shape, d.dtype))
            else:
                edges.append(None)
                metas.append(None)
            if save_all or i in save_in:
                saved.append(d)
                vc = a._vc
                versions.append((vc, vc[0]))
            elif a._requires_grad:
                saved.append(_stand_in(d))
            else:
                saved.append(None)
        else:
            edges.append(None)
            metas.append(None)
            saved.append(a)  # Python scalars and None are constants of the op
        i += 1
    node.next_edges = tuple(edges)
    node.in_meta = tuple(metas)
    node.saved = tuple(saved)
    node.saved_out = out if op.save_out else None
    return _outputs(node, op, out, device, args[0] if op.view else None, versions)


def record_unary(op, x, data, out, params, device):
    """:func:`record` written out for the commonest case: one tensor input ``x``
    (with array ``data``) that requires grad."""
    node = _new(Node)
    node.op = op
    node.params = params
    node.device = device
    node.pre_hooks = None
    node.trace = None
    fn = x._grad_fn
    node.next_edges = ((fn, x._output_nr) if fn is not None else (x._accumulator(), 0),)
    node.in_meta = ((data.shape, data.dtype),)
    save_in = op.save_in
    if save_in == "all" or 0 in save_in:
        node.saved = (data,)
        vc = x._vc
        versions = [(vc, vc[0])]
    else:
        node.saved = (_stand_in(data),)
        versions = []
    node.saved_out = out if op.save_out else None
    return _outputs(node, op, out, device, x, versions)


def record_binary(op, a, b, ad, bd, out, params, device):
    """:func:`record` written out for two tensor inputs ``a`` and ``b`` (arrays ``ad``
    and ``bd``), at least one of which requires grad."""
    node = _new(Node)
    node.op = op
    node.params = params
    node.device = device
    node.pre_hooks = None
    node.trace = None
    save_in = op.save_in
    save_all = save_in == "all"
    versions = []
    if a._requires_grad:
        fn = a._grad_fn
        edge_a = (fn, a._output_nr) if fn is not None else (a._accumulator(), 0)
        meta_a = (ad.shape, ad.dtype)
    else:
        edge_a = meta_a = None
    if save_all or 0 in save_in:
        saved_a = ad
        vc = a._vc
        versions.append((vc, vc[0]))
    else:
        saved_a = None if edge_a is None else _stand_in(ad)
    if b._requires_grad:
        fn = b._grad_fn
        edge_b = (fn, b._output_nr) if fn is not None else (b._accumulator(), 0)
        meta_b = (bd.shape, bd.dtype)
    else:
        edge_b = meta_b = None
    if save_all or 1 in save_in:
        saved_b = bd
        vc = b._vc
        versions.append((vc, vc[0]))
    else:
        saved_b = None if edge_b is None else _stand_in(bd)
    node.next_edges = (edge_a, edge_b)
    node.in_meta = (meta_a, meta_b)
    node.saved = (saved_a, saved_b)
    node.saved_out = out if op.save_out else None
    return _outputs(node, op, out, device, a, versions)


def _stand_in(array) -> ArrayMeta:
    """The shape and dtype of an input a rule does not need the values of."""
    meta = _new(ArrayMeta)  # (no __init__ call: this runs per recorded op)
    meta.shape = array.shape
    meta.dtype = array.dtype
    return meta


def _outputs(node, op, out, device, a, versions):
    """The output tensor(s) of a recorded node; ``a`` is its first input (views share
    its version counter). Completes ``node.versions``."""
    if _GradState.anomaly:  # (set on the class, for all threads: cheaper than the local)
        from .anomaly import capture_trace
        node.trace = capture_trace()
    from_graph = _from_graph
    if op.nout == 1:
        result = from_graph(out, device, node, 0)
        if op.save_out:
            versions.append((result._vc, 0))
        if op.view:
            _attach(result, a, op, node.params)  # xgrad._views.attach
            if op.save_out:
                versions[-1] = (a._vc, a._vc[0])
    else:
        result = tuple(from_graph(o, device, node, i) for i, o in enumerate(out))
        if op.save_out:
            versions.extend((r._vc, 0) for r in result)
    node.versions = tuple(versions)
    return result
