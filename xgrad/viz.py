"""Pictures of the computational graph: ``make_dot`` (Graphviz) and ``print_graph`` (text).

Op nodes are named by their ``grad_fn`` (``MulBackward0``), leaves by their
parameter names (from ``params``) and shapes, and each op lists the shapes of
the values it saved for backward.
"""

from __future__ import annotations

from .autograd.graph import AccumulateGrad, ArrayMeta

__all__ = ["make_dot", "print_graph", "walk_graph"]


def _shape(t) -> str:
    return str(tuple(t.shape))


def _saved_shapes(node) -> list[str]:
    """Shapes of the arrays a node keeps for backward (empty once freed)."""
    saved = getattr(node, "saved", None)
    if saved is None:
        saved = getattr(node, "_saved", ()) or ()
    # ArrayMeta stands in for an input whose values the rule does not need: not saved
    out = [_shape(a) for a in saved if hasattr(a, "shape") and not isinstance(a, ArrayMeta)]
    saved_out = getattr(node, "saved_out", None)
    if saved_out is not None:
        outs = saved_out if isinstance(saved_out, tuple) else (saved_out,)
        out += ["out " + _shape(o) for o in outs if hasattr(o, "shape")]
    return out


def walk_graph(root):
    """Every node reachable from ``root`` (a grad_fn), each once, parents first, with
    its edges: yields ``(node, [child nodes])``."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        children = [child for child, _ in node.next_functions if child is not None]
        yield node, children
        stack.extend(reversed(children))


def _leaf_label(node, names) -> str:
    var = node.variable
    name = names.get(id(var), "")
    return (f"{name}\n" if name else "") + _shape(var)


def _roots(output):
    outs = output if isinstance(output, (tuple, list)) else (output,)
    return [o for o in outs if o.grad_fn is not None]


def make_dot(output, params=None, show_saved=True):
    """A ``graphviz.Digraph`` of the graph that made ``output`` (a tensor or several).
    ``params``: {name: tensor} (e.g. ``dict(model.named_parameters())``) to label leaves.
    Render with ``.render("graph", format="png")``; needs the ``graphviz`` package
    (``pip install graphviz``) and, to render, Graphviz's ``dot`` program."""
    try:
        from graphviz import Digraph
    except ImportError as exc:
        raise ImportError("make_dot needs the graphviz package: pip install graphviz "
                          "(or use xgrad.viz.print_graph for text)") from exc
    names = {id(t): n for n, t in (params or {}).items()}
    dot = Digraph(node_attr=dict(style="filled", shape="box", align="left", fontsize="10",
                                 ranksep="0.1", height="0.2", fontname="monospace"),
                  graph_attr=dict(size="12,12"))
    for i, out in enumerate(_roots(output)):
        oid = f"output{i}"
        dot.node(oid, f"output\n{_shape(out)}", fillcolor="darkolivegreen1")
        dot.edge(str(id(out.grad_fn)), oid)
        _add_nodes(dot, out.grad_fn, names, show_saved)
    return dot


def _add_nodes(dot, root, names, show_saved):
    for node, children in walk_graph(root):
        nid = str(id(node))
        if isinstance(node, AccumulateGrad):
            dot.node(nid, _leaf_label(node, names), fillcolor="lightblue")
        else:
            dot.node(nid, node.name(), fillcolor="lightgrey")
            if show_saved:
                for k, text in enumerate(_saved_shapes(node)):
                    sid = f"{nid}_saved{k}"
                    dot.node(sid, "saved\n" + text, fillcolor="orange")
                    dot.edge(sid, nid, style="dotted", dir="none")
        for child in children:
            dot.edge(str(id(child)), nid)


def print_graph(output, params=None, file=None) -> str:
    """Print (and return) the graph that made ``output`` as an indented tree; a node
    reached again is shown once and then referred to by ``(see above)``."""
    names = {id(t): n for n, t in (params or {}).items()}
    lines, seen = [], set()
    for out in _roots(output):
        lines.append(f"output {_shape(out)}")
        _tree(out.grad_fn, 1, names, seen, lines)
    text = "\n".join(lines)
    print(text, file=file)
    return text


def _tree(node, depth, names, seen, lines):
    pad = "  " * depth
    if isinstance(node, AccumulateGrad):
        lines.append(pad + "AccumulateGrad: " + _leaf_label(node, names).replace("\n", " "))
        return
    if id(node) in seen:
        lines.append(pad + node.name() + " (see above)")
        return
    seen.add(id(node))
    saved = _saved_shapes(node)
    lines.append(pad + node.name() + (f"  saved: {', '.join(saved)}" if saved else ""))
    for child, _ in node.next_functions:
        if child is not None:
            _tree(child, depth + 1, names, seen, lines)
