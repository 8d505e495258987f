"""Batched backward: ``autograd.grad(..., is_grads_batched=True)``.

One backward pass carries a whole batch of cotangents, stacked along a new
leading dimension. While it runs, graph nodes apply their VJP rules in
*batched* form:

* rules that broadcast over a leading dimension of ``g`` as written (elementwise
  ops, whose JVP is derived from the VJP; reductions, whose ``expand_reduced``
  keeps batch dimensions; ``where``, ``clip``, casts, ...) run unchanged
  (:data:`BATCH_SAFE`);
* ops whose rules name shapes or axes have a batched rule here (:data:`BATCH_RULES`);
* every other op (custom Functions, ops added later) falls back to one rule
  call per batch row at that node only, so the result is always correct.

Broadcasting is undone by :func:`batched_sum_to`, which never sums the batch
dimension. The engine calls :func:`_apply_batched` instead of ``node.apply``
for this one pass (its ``apply`` argument); other passes are not affected.
"""

from __future__ import annotations

from .engine import run_backward
from .graph import Node

__all__ = ["batched_grad", "batched_sum_to", "BATCH_SAFE", "BATCH_RULES", "batch_support"]

BATCH_SAFE = {"where", "clip", "broadcast_to", "matrix_transpose", "astype", "clone", "to_device",
              "sum", "mean", "max", "min", "prod", "var", "std", "vector_norm", "logsumexp"}
BATCH_RULES: dict = {}  # op name -> one rule for all inputs, or a tuple of one per input


def batch_support(op) -> str:
    """How ``op``'s VJP handles a batch: ``"native"``, ``"rule"`` or ``"rows"`` (loop)."""
    if op.name in BATCH_RULES:
        return "rule"
    if op.name in BATCH_SAFE or getattr(op.jvp, "derived_from_vjp", False):
        return "native" if op.nout == 1 else "rows"
    return "rows"


def batched_sum_to(xp, g, shape: tuple):
    """Sum ``g`` (batch dimension first) down to ``(batch,) + shape``."""
    lead = g.ndim - 1 - len(shape)
    gshape = tuple(g.shape)
    axes = tuple(range(1, 1 + lead)) + tuple(
        1 + lead + i for i, s in enumerate(shape) if s == 1 and gshape[1 + lead + i] != 1)
    if axes:
        g = xp.sum(g, axis=axes)
    target = (gshape[0],) + tuple(shape)
    return xp.reshape(g, target) if tuple(g.shape) != target else g


# -- batched rules for ops whose VJPs name axes or shapes ------------------------------------
def _rule(*names):
    def register(fn):
        for name in names:
            BATCH_RULES[name] = fn
        return fn
    return register


@_rule("reshape", "expand_dims", "squeeze")
def _reshape_back(xp, g, out, x, **params):
    return (xp.reshape(g, (g.shape[0],) + tuple(x.shape)),)


@_rule("permute_dims")
def _permute_back(xp, g, out, x, *, axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return (xp.permute_dims(g, (0,) + tuple(i + 1 for i in inverse)),)


@_rule("flip")
def _flip_back(xp, g, out, x, *, axis=None):
    ndim = len(x.shape)
    axes = range(ndim) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    return (xp.flip(g, axis=tuple(a % ndim + 1 for a in axes)),)


def _shifted_axes(axis, ndim):
    """Non-negative ``axis`` (int or tuple) of an ``ndim``-array, one further right."""
    from ..ops.reductions import normalize_axes
    return tuple(a + 1 for a in normalize_axes(axis, ndim))


@_rule("roll")
def _roll_back(xp, g, out, x, *, shift, axis=None):
    back = tuple(-s for s in shift) if isinstance(shift, tuple) else -shift
    if axis is None:  # rolled as one flat array
        flat = xp.roll(xp.reshape(g, (g.shape[0], -1)), back, axis=1)
        return (xp.reshape(flat, tuple(g.shape)),)
    axes = _shifted_axes(axis, len(x.shape))
    return (xp.roll(g, back, axis=axes if isinstance(axis, tuple) else axes[0]),)


@_rule("stack")
def _stack_back(xp, g, out, *arrays, axis=0):
    ax = _shifted_axes(axis, g.ndim - 1)[0]
    return tuple(g[(slice(None),) * ax + (i, Ellipsis)] for i in range(len(arrays)))


@_rule("concat")
def _concat_back(xp, g, out, *arrays, axis=0, shapes):
    from ..ops.manipulation import _cumulative, _numel
    size = g.shape[0]
    if axis is None:  # the inputs were flattened
        sizes = [_numel(shape) for shape in shapes]
        return tuple(xp.reshape(g[:, s:s + n], (size,) + tuple(shape))
                     for shape, s, n in zip(shapes, _cumulative(sizes), sizes))
    ax = _shifted_axes(axis, g.ndim - 1)[0]
    sizes = [shape[ax - 1] for shape in shapes]
    return tuple(g[(slice(None),) * ax + (slice(s, s + n), Ellipsis)]
                 for s, n in zip(_cumulative(sizes), sizes))


@_rule("cumulative_sum")
def _cumsum_back(xp, g, out, x, *, axis, dtype=None, include_initial=False):
    from ..ops.reductions import _cumsum_vjp
    return (_cumsum_vjp(xp, g, out, x, axis=axis + 1, include_initial=include_initial),)


@_rule("getitem")
def _getitem_back(xp, g, out, x, *, key):
    """Basic slicing: scatter the batch of gradients with the key shifted by one axis."""
    from ..ops.indexing import scatter_into_zeros
    key = key if isinstance(key, tuple) else (key,)
    return (scatter_into_zeros(xp, (g.shape[0],) + tuple(x.shape), (slice(None),) + key, g,
                               False),)


def _matmul_back_x(xp, g, out, x, y):
    """Batched matmul VJPs, arranged so that a batch of vectors meets a matrix as one
    matrix product (not a stack of matrix-vector products)."""
    if y.ndim == 1:                   # (..., n, k) @ (k,) or (k,) @ (k,)
        return xp.expand_dims(g, axis=-1) * y
    if x.ndim == 1:                   # (k,) @ (..., k, m): g is (B, ..., m)
        return xp.matmul(g, _mT(xp, y)) if y.ndim == 2 else \
            xp.matmul(xp.expand_dims(g, axis=-2), _mT(xp, y))[..., 0, :]
    return xp.matmul(g, _mT(xp, y))


def _matmul_back_y(xp, g, out, x, y):
    if x.ndim == 1:                   # (k,) @ (..., k, m) or (k,) @ (k,)
        return xp.expand_dims(g, axis=-2) * xp.expand_dims(x, axis=-1) if y.ndim > 1 else \
            xp.expand_dims(g, axis=-1) * x
    if y.ndim == 1:                   # (..., n, k) @ (k,): g is (B, ..., n)
        return xp.matmul(g, x) if x.ndim == 2 else \
            xp.matmul(xp.expand_dims(g, axis=-2), x)[..., 0, :]
    return xp.matmul(_mT(xp, x), g)


def _mT(xp, a):
    return xp.matrix_transpose(a)


def _vecdot_back(xp, g, y, axis):
    return xp.expand_dims(g, axis=axis if axis < 0 else axis + 1) * y


BATCH_RULES["matmul"] = BATCH_RULES["dot"] = (_matmul_back_x, _matmul_back_y)
BATCH_RULES["vecdot"] = (lambda xp, g, out, x, y, *, axis=-1: _vecdot_back(xp, g, y, axis),
                         lambda xp, g, out, x, y, *, axis=-1: _vecdot_back(xp, g, x, axis))


# -- the batched node application ----------------------------------------------------------
def _apply_batched(node, grads, create_graph):
    """What the engine calls instead of ``node.apply`` during a batched pass."""
    if type(node) is not Node:  # custom Functions and other node kinds: row by row
        return _rowwise(node, grads, create_graph)
    return _batched_node_apply(node, grads, create_graph)


def _batched_node_apply(node, grads, create_graph):
    op = node.op
    kind = batch_support(op)
    if kind == "rows":
        return _rowwise(node, grads, create_graph)
    node.check_saved()
    if create_graph:
        xp = tensor_namespace()
        g, out, inputs = node._tensor_arguments(grads)
    else:
        xp = node.device.xp
        g, out, inputs = grads[0], node.saved_out, node._raw_arguments()
    params = node.params or {}
    rules = BATCH_RULES[op.name] if kind == "rule" else op.vjps
    if callable(rules):
        results = list(rules(xp, g, out, *inputs, **params))
    elif rules is None:
        results = list(op.vjp_all(xp, g, out, *inputs, **params))
    else:
        results = [None if edge is None or rule is None else rule(xp, g, out, *inputs, **params)
                   for edge, rule in zip(node.next_edges, rules)]
    return [None if edge is None or r is None else _conform(node, xp, r, i, create_graph)
            for i, (edge, r) in enumerate(zip(node.next_edges, results))]


def _conform(node, xp, grad, i, create_graph):
    shape, dtype = node.in_meta[i]
    if tuple(grad.shape[1:]) != tuple(shape) or grad.ndim != len(shape) + 1:
        grad = batched_sum_to(xp, grad, tuple(shape))
    from .graph import _cast_grad
    from ..backends import dtype_of_native
    if create_graph:
        if grad._data.dtype != dtype:
            grad = _cast_grad(xp, grad, dtype_of_native(dtype))
    elif grad.dtype != dtype:
        grad = _cast_grad(xp, grad, dtype)
    return grad


def _rowwise(node, grads, create_graph):
    """The node's ordinary rule once per batch row, the rows stacked again."""
    apply = type(node).apply
    first = next(g for g in grads if g is not None)
    size = first.shape[0]
    rows = [apply(node, [None if g is None else g[b, ...] for g in grads], create_graph)
            for b in range(size)]
    xp = _namespace(node, create_graph)
    return [None if edge is None or rows[0][i] is None else xp.stack([r[i] for r in rows], axis=0)
            for i, edge in enumerate(node.next_edges)]


def _namespace(node, create_graph):
    if create_graph:
        return tensor_namespace()
    return node.device.xp


# -- entry point ------------------------------------------------------------------------------
def batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                 materialize_grads):
    """``autograd.grad`` with ``grad_outputs`` carrying a leading batch dimension."""
    from .._tensor import _wrap
    if grad_outputs is None or len(grad_outputs) != len(outputs):
        raise RuntimeError("is_grads_batched=True needs one batched grad_output per output")
    roots, size = _batched_roots(outputs, grad_outputs, create_graph)
    if size == 0:
        return tuple(_wrap(t._device.xp.zeros((0,) + tuple(t._data.shape), dtype=t._data.dtype),
                           t._device) for t in inputs)
    captured = run_backward(outputs, roots, retain_graph=retain_graph, create_graph=create_graph,
                            inputs=inputs, accumulate=False, apply=_apply_batched)
    from . import captured_gradients
    def zeros(t):
        return t._device.xp.zeros((size,) + tuple(t._data.shape), dtype=t._data.dtype)
    return captured_gradients(inputs, captured, allow_unused, zeros if materialize_grads else None)


def _batched_roots(outputs, grad_outputs, create_graph):
    from .._tensor import Tensor
    from .._creation import asarray
    roots, size = [], None
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor) or not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               f"a grad_fn")
        if g is None:
            raise RuntimeError("is_grads_batched=True needs every grad_output (None given)")
        if not isinstance(g, Tensor):
            g = asarray(g, dtype=out.dtype, device=out.device)
        if g.ndim != out.ndim + 1 or tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(f"If `is_grads_batched=True`, we interpret the first dimension of "
                               f"each grad_output as the batch dimension: grad_output[{i}] has "
                               f"shape {g.shape}, output[{i}] {out.shape}")
        if size is not None and g.shape[0] != size:
            raise RuntimeError("all batched grad_outputs must have the same batch size")
        size = g.shape[0]
        if create_graph:
            roots.append(g if g.dtype == out.dtype else g.astype(out.dtype))
        else:
            data = g._data if g._data.dtype == out._data.dtype else \
                out._device.xp.astype(g._data, out._data.dtype)
            roots.append(data)
    return roots, size


def tensor_namespace():
    """The standard's face (the hook ``xgrad.array_api`` installs in ``ops._registry``)."""
    from ..ops._registry import tensor_namespace as get
    return get()
