"""The backward pass: reverse topological order with dependency counting.

First a walk from the roots counts, for every node, how many edges lead into
it; a node runs once all of them have delivered their gradient. Gradients are
raw backend arrays, or Tensors when ``create_graph`` is set (then the rules'
own operations are recorded and can be differentiated again).
"""

from __future__ import annotations

import sys

from ..backends._numpy import ignore_fp_errors, restore_fp_errors
from .._compile import _hooks as _compile_hooks
from .grad_mode import STATE as _GRAD
from .anomaly import check_gradients
from .graph import AccumulateGrad, Node

_getrefcount = sys.getrefcount
# Below this many elements a new array costs less than the checks for writing in place.
IN_PLACE_MIN_SIZE = 1 << 14

__all__ = ["run_backward", "gradient_edge"]


def gradient_edge(t):
    """Where the gradient of tensor ``t`` enters the graph."""
    fn = t._grad_fn
    return (fn, t._output_nr) if fn is not None else (t._accumulator(), 0)


def _count_dependencies(root_nodes):
    deps = dict.fromkeys(root_nodes, 0)
    stack = list(deps)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is not None:
                child = edge[0]
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    stack.append(child)
    return deps


def _nodes_leading_to(targets, deps, root_nodes):
    """The nodes from which some target node can be reached (the rest need not run)."""
    remaining = dict(deps)
    order = [n for n in root_nodes if remaining[n] == 0]
    i = 0
    while i < len(order):
        for edge in order[i].next_edges:
            if edge is not None:
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    order.append(edge[0])
        i += 1
    needed = set()
    for node in reversed(order):
        if node in targets or any(e is not None and e[0] in needed for e in node.next_edges):
            needed.add(node)
    return needed


def _nout(node):
    if type(node) is Node:
        return node.op.nout
    op = getattr(node, "op", None)
    return op.nout if op is not None else getattr(node, "num_outputs", 1)


def run_backward(roots, root_grads, *, retain_graph, create_graph, inputs=None,
                 accumulate=True, apply=None):
    """Propagate ``root_grads`` (one per root tensor) back through the graph.

    With ``accumulate`` the gradients of leaves go into their ``.grad`` (of
    ``inputs`` only, when given). Without it nothing is accumulated and the
    gradients of ``inputs`` are returned, one per input (None where none flowed).
    ``apply(node, grads, create_graph)`` replaces ``node.apply`` (batched backward).
    """
    root_edges = [gradient_edge(t) for t in roots]
    root_nodes = list(dict.fromkeys(e[0] for e in root_edges))
    deps = _count_dependencies(root_nodes)

    targets = {}
    if inputs is not None:
        for pos, t in enumerate(inputs):
            targets.setdefault(gradient_edge(t), []).append(pos)
    target_nodes = {e[0] for e in targets}
    needed = _nodes_leading_to(target_nodes, deps, root_nodes) if inputs is not None else None
    captured = [None] * (len(inputs) if inputs is not None else 0)

    buffers = {}
    for (node, nr), g in zip(root_edges, root_grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _nout(node)
        _add(buf, nr, g, node, False)  # the caller holds the root gradients
    ready = [n for n in root_nodes if deps[n] == 0]

    previous_mode = _GRAD.enabled
    _GRAD.enabled = create_graph
    anomaly = _GRAD.anomaly
    fp_token = ignore_fp_errors()  # NumPy's overflow/invalid warnings: silent, as PyTorch
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if type(node) is AccumulateGrad:
                if grads is not None:
                    _leaf(node, grads[0], targets, captured, inputs, accumulate, create_graph)
                continue
            results = None  # (also drops the last node's results before _add counts references)
            if grads is not None:
                if node.pre_hooks:
                    _run_tensor_hooks(node, grads, create_graph)
                if target_nodes and node in target_nodes:
                    _capture(node, grads, targets, captured, inputs, accumulate, create_graph)
                if needed is None or node in needed:
                    results = node.apply(grads, create_graph) if apply is None else \
                        apply(node, grads, create_graph)
                    if anomaly:
                        check_gradients(node, results)
                    if not retain_graph:
                        node.release()
            i = 0
            for edge in node.next_edges:
                if edge is not None:
                    child = edge[0]
                    if results is not None:
                        g = results[i]
                        if g is not None:
                            buf = buffers.get(child)
                            if buf is None:  # the first gradient to reach this node
                                n = child.op.nout if type(child) is Node else _nout(child)
                                if n == 1:
                                    buffers[child] = [g]
                                else:
                                    buf = buffers[child] = [None] * n
                                    buf[edge[1]] = g
                            else:
                                _add(buf, edge[1], g, child, not create_graph)
                    left = deps[child] - 1
                    deps[child] = left
                    if left == 0:
                        ready.append(child)
                i += 1
    finally:
        _GRAD.enabled = previous_mode
        restore_fp_errors(fp_token)
    return captured


def _add(buf, nr, g, node, in_place):
    """Sum ``g`` into slot ``nr`` of ``node``'s gradient buffer ``buf``.

    ``in_place`` (raw arrays, not ``create_graph`` tensors) allows adding into the
    buffer's array. A gradient array may be shared (a rule may return its incoming gradient, or
    hand one array to several inputs), so the sum is in place only when the
    buffer's array provably belongs to the engine alone: nobody else holds a
    reference to it (the reference count: the buffer, ``old`` and the call's
    argument), it is no view of another array's memory (the backend's ``owns``),
    and ``g`` has its shape and dtype. Small arrays are always summed out of place.
    """
    old = buf[nr]
    if old is None:
        buf[nr] = g
    elif (in_place and (old.size or 0) >= IN_PLACE_MIN_SIZE and _getrefcount(old) == 3
          and node.device.backend.owns(old) and old.shape == g.shape and old.dtype == g.dtype):
        old += g
    else:
        buf[nr] = old + g


def _as_tensor(g, device):
    """A gradient as a tensor for user code (hooks): copy-on-write, since the
    engine may hand the same array to several places."""
    from .._tensor import Tensor, _wrap
    if isinstance(g, Tensor):
        return g
    t = _wrap(g, device)
    t._cow = True
    return t


def _from_hook(result, create_graph):
    if create_graph:
        return result
    return result._data


def _run_tensor_hooks(node, grads, create_graph):
    device = node.device
    for nr, hooks in node.pre_hooks.items():
        g = grads[nr]
        if g is None:
            continue
        retainers = []
        for hook in list(hooks):
            if getattr(hook, "retains_grad", False):
                retainers.append(hook)
                continue
            _compile_hooks.graph_break("a tensor hook (register_hook) ran")
            result = hook(_as_tensor(g, device))
            if result is not None:
                g = _from_hook(result, create_graph)
        for hook in retainers:
            hook(_as_tensor(g, device))
        grads[nr] = g


def _leaf(node, g, targets, captured, inputs, accumulate, create_graph):
    leaf = node.variable
    if leaf._hooks:
        _compile_hooks.graph_break("a tensor hook (register_hook) ran")
        for hook in list(leaf._hooks):
            result = hook(_as_tensor(g, leaf._device))
            if result is not None:
                g = _from_hook(result, create_graph)
    key = (node, 0)
    if inputs is not None:
        if key not in targets:
            return
        if not accumulate:
            for pos in targets[key]:
                captured[pos] = g
            return
    if accumulate:
        accumulate_grad(leaf, g, create_graph)


def _capture(node, grads, targets, captured, inputs, accumulate, create_graph):
    for nr, g in enumerate(grads):
        positions = targets.get((node, nr))
        if positions is None or g is None:
            continue
        if accumulate:  # backward(inputs=[non_leaf]): the non-leaf gets a .grad
            t = inputs[positions[0]]
            g_t = _as_tensor(g, node.device)
            t._grad = g_t if t._grad is None else t._grad + g_t
        else:
            for pos in positions:
                captured[pos] = g


def accumulate_grad(leaf, g, create_graph):
    """Add ``g`` into ``leaf.grad``, in place where that cannot alias anything."""
    from .._tensor import Tensor, _wrap
    old = leaf._grad
    if create_graph:
        g = g if isinstance(g, Tensor) else _wrap(g, leaf._device)
        leaf._grad = g if old is None else old + g
        return
    if old is None:
        t = _wrap(g, leaf._device)
        t._cow = True  # g may be shared with another leaf or with the caller
        leaf._grad = t
    elif old._grad_fn is not None:
        leaf._grad = _wrap(old._data + g, leaf._device)
    elif old._cow or not leaf._device.backend.writable(old._data):
        old._data = old._data + g
        old._cow = False
        old._vc[0] += 1
    else:
        old._data += g
        old._vc[0] += 1
