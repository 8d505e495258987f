"""Forward-mode automatic differentiation: dual tensors (PyTorch's ``forward_ad``).

Inside ``with dual_level():``, ``make_dual(x, t)`` gives a tensor that carries the
tangent ``t``; every op propagates tangents as it runs (its JVP rule, or the
fallback derived from its VJP), and ``unpack_dual(y)`` reads ``y``'s tangent.
No backward pass is involved.

Levels nest (``xgrad.func.jvp`` inside ``jvp``): each level has its own tangents,
stored per level on the tensor (``Tensor._fw = {level: tangent}``). As in JAX,
the tangent of level ``L`` is computed with only the levels outside ``L``
active, so it carries their perturbations (mixed derivatives) but never its
own: perturbations of different levels cannot be confused.
"""

from __future__ import annotations

import weakref
from collections import namedtuple

from .forward_state import STATE
from .grad_mode import STATE as _GRAD

__all__ = ["dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level",
           "UnpackedDualTensor"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "``unpack_dual``'s result: the primal and its tangent (or None)."

_STACK: list = []                     # active levels, outermost first
_NODES = weakref.WeakKeyDictionary()  # graph Node -> tangents of its inputs and outputs


class _Level:
    """One forward-mode level; remembers the tensors given tangents, to clear them."""

    __slots__ = ("index", "tensors", "__weakref__")

    def __init__(self, index):
        self.index = index
        self.tensors = []

    def __repr__(self) -> str:
        return f"<forward AD level {self.index}>"

    def __index__(self) -> int:
        return self.index


# -- levels -------------------------------------------------------------------------------------
def enter_dual_level():
    """Start a new (innermost) level and return it."""
    level = _Level(len(_STACK))
    _STACK.append(level)
    STATE.hook = _hook
    STATE.restore = _restore
    STATE.inplace = _inplace
    STATE.depth = len(_STACK)
    return level


def exit_dual_level(*, level=None):
    """End the innermost level: the tangents of that level are dropped."""
    if not _STACK or (level is not None and _resolve(level) is not _STACK[-1]):
        raise RuntimeError("Trying to exit a forward AD level that was not the last one created")
    level = _STACK.pop()
    STATE.depth = len(_STACK)
    for ref in level.tensors:
        t = ref()
        if t is not None and t._fw:
            t._fw.pop(level, None)
    level.tensors = []
    if not _STACK:
        _NODES.clear()


class dual_level:
    """Context manager of a forward-mode level: ``with dual_level(): ...``.

    Tangents made inside live only until the level is exited. Levels may nest
    (unlike PyTorch, which allows one); ``make_dual``/``unpack_dual`` use the
    innermost one by default.
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _resolve(level):
    if level is None:
        if not _STACK:
            return None
        return _STACK[-1]
    if isinstance(level, _Level):
        if level.index < len(_STACK) and _STACK[level.index] is level:
            return level
        return None
    if 0 <= int(level) < len(_STACK):
        return _STACK[int(level)]
    return None


def _tangent(x, level):
    fw = getattr(x, "_fw", None)
    return None if not fw else fw.get(level)


class _visible:
    """Only the levels outside ``level`` (its index) are active inside this block."""

    __slots__ = ("depth", "saved")

    def __init__(self, depth):
        self.depth = depth

    def __enter__(self):
        self.saved = STATE.depth
        STATE.depth = self.depth

    def __exit__(self, *exc):
        STATE.depth = self.saved
        return False


# -- public functions ---------------------------------------------------------------------
def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` that carries ``tangent`` at ``level`` (default: innermost).

    ``tangent`` must have ``tensor``'s shape and device. The result stays
    differentiable by reverse mode with respect to ``tensor`` (and to ``tangent``).
    """
    from .._tensor import Tensor
    lvl = _resolve(level)
    if lvl is None:
        raise RuntimeError("make_dual must be called inside a dual_level context (no such "
                           "forward AD level is active)")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects Tensors for the primal and the tangent")
    if tangent.shape != tensor.shape:
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor: {tangent.shape} vs {tensor.shape}")
    if tangent.device != tensor.device:
        raise RuntimeError(f"the tangent is on {tangent.device}, the primal on {tensor.device}")
    if not tensor.dtype.is_inexact:
        raise ValueError(f"make_dual needs a floating point or complex primal, not {tensor.dtype}")
    dual = _alias(tensor, lvl)
    _attach(dual, _conform(tangent, dual), lvl)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor`` at ``level``: the primal is a view without
    this level's tangent; the tangent is None when ``tensor`` has none."""
    lvl = _resolve(level)
    if lvl is None:
        return UnpackedDualTensor(tensor, None)
    tangent = _tangent(tensor, lvl)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor, lvl), tangent)


_ALIAS_REFS: dict = {}  # id -> weakref of make_dual's results (a tangent of their own)


def _is_alias(t) -> bool:
    r = _ALIAS_REFS.get(id(t))
    return r is not None and r() is t


def _alias(tensor, lvl):
    """A view of ``tensor`` on the reverse graph, with the tangents of outer levels only."""
    from ..ops.manipulation import RESHAPE
    from .._tensor import unary
    with _visible(lvl.index):
        alias = unary(RESHAPE, tensor, {"shape": tuple(tensor.shape)})
    key = id(alias)
    _ALIAS_REFS[key] = weakref.ref(alias, lambda r, key=key: _ALIAS_REFS.pop(key, None))
    return alias


# -- propagation ------------------------------------------------------------------------------
def _attach(t, tangent, level):
    if t._fw is None:
        t._fw = {}
    t._fw[level] = tangent
    level.tensors.append(weakref.ref(t))


def _hook(op, args, params, result):
    """The dispatcher's forward-mode hook: give ``result`` its tangents, level by level."""
    if not op.differentiable:
        return result
    depth = STATE.depth
    for i in range(depth):
        level = _STACK[i]
        tangents = tuple(_tangent(a, level) for a in args)
        if all(t is None for t in tangents):
            continue
        STATE.depth = i
        try:
            _propagate(op, tangents, result, args, params or {}, level)
        finally:
            STATE.depth = depth
    _remember_node(op, args, result)
    return result


def _propagate(op, tangents, result, args, params, level):
    outs = result if op.nout != 1 else (result,)
    if not any(o.dtype.is_inexact for o in outs):
        return
    out_tangent = jvp_of(op, tangents, result, args, params)
    out_tangents = out_tangent if op.nout != 1 else (out_tangent,)
    for o, t in zip(outs, out_tangents):
        if o.dtype.is_inexact:
            _attach(o, _conform(t, o), level)


def jvp_of(op, tangents, out, args, params):
    """The output tangent(s) of ``op``: its JVP rule, or the one derived from its VJP."""
    xgrad = _standard_namespace()
    if op.jvp is not None:
        return op.jvp(xgrad, tangents, out, *args, **params)
    return _jvp_by_transposition(op, tangents, out, args, params)


def _conform(t, out):
    """A tangent with ``out``'s shape, dtype and device (zeros for None)."""
    xgrad = _standard_namespace()
    from .._tensor import Tensor
    if t is None:
        return xgrad.zeros_like(out)
    if not isinstance(t, Tensor):
        t = xgrad.asarray(t, dtype=out.dtype, device=out.device)
    if t.dtype.is_complex and not out.dtype.is_complex:
        t = xgrad.real(t)
    if t.shape != out.shape:
        t = xgrad.broadcast_to(t, out.shape)
    if t.dtype != out.dtype:
        t = xgrad.astype(t, out.dtype)
    return t


def _jvp_by_transposition(op, tangents, out, args, params):
    """The double-VJP trick: the VJP is linear in g, so ``J t = d/dg <vjp(g), t>``.

    Builds ``s = sum_i <vjp_i(g), t_i>`` with ``g`` a fresh zero leaf and
    differentiates it with respect to ``g`` (recording, so the result is itself
    differentiable and carries the tangents of outer levels).
    """
    xgrad = _standard_namespace()
    from . import grad as _grad
    from .grad_mode import enable_grad
    outs = out if op.nout != 1 else (out,)
    recording = _GRAD.enabled
    with enable_grad():
        gs = tuple(xgrad.zeros_like(o.detach()).requires_grad_() for o in outs)
        cotangents = _vjp_rules(op, gs[0] if op.nout == 1 else gs, out, args, params)
        s = None
        for c, t in zip(cotangents, tangents):
            if c is None or t is None:
                continue
            if c.dtype.is_complex or t.dtype.is_complex:  # s = Re <c, t>: its g-gradient is J t
                term = xgrad.sum(xgrad.real(xgrad.conj(c) * t))
            else:
                term = xgrad.sum(c * t)
            s = term if s is None else s + term
        if s is None or not s.requires_grad:
            return None if op.nout == 1 else (None,) * op.nout
        result = _grad(s, gs, create_graph=True, allow_unused=True)
    if not recording:
        result = tuple(None if r is None else r.detach() for r in result)
    return result[0] if op.nout == 1 else result


def _vjp_rules(op, g, out, args, params):
    xgrad = _standard_namespace()
    if op.vjp_all is not None:
        return list(op.vjp_all(xgrad, g, out, *args, **params))
    return [None if rule is None else rule(xgrad, g, out, *args, **params) for rule in op.vjps]


def _inplace(t, others, compute, write, body):
    """An in-place op in forward mode: the tangent of ``t`` becomes the tangent of the
    new value (computed out of place first, from the old values)."""
    if not t._fw and not any(getattr(o, "_fw", None) for o in others):
        return body(t, others, compute, write)
    result = compute()
    tangents = dict(result._fw or {})
    before = set(t._fw or ())
    body(t, others, lambda: result, write)
    if t._fw:
        t._fw.clear()
    for level, tangent in tangents.items():
        _attach(t, tangent, level)
    for level in before | set(tangents):
        _follow_write(t, level, tangents.get(level))
    return t


def _follow_write(t, level, tangent):
    """After an in-place write into ``t`` at ``level``: the tangent of the tensor ``t``
    is a view of (its root, or the ``make_dual`` result it was taken from) gets ``t``'s
    new tangent in ``t``'s region (zeros elsewhere where it had none, as PyTorch), and
    the other live views of that tensor take their tangents from it."""
    from .. import _views
    root = t if t._base is None else t._base
    live = _views._live(root)
    if not live:
        return
    chain = t._chain or ()

    def below(v, base_chain):  # whether v's chain extends base_chain (the same entries)
        c = v._chain or ()
        return len(c) >= len(base_chain) and all(a is b for a, b in zip(c, base_chain))
    # the tangent's base: the deepest make_dual alias above t with a tangent, else the root
    base, base_chain = root, ()
    for a in live:
        if _is_alias(a) and _tangent(a, level) is not None and below(t, a._chain) \
                and len(a._chain) > len(base_chain):
            base, base_chain = a, a._chain
    sub = chain[len(base_chain):]
    if any(op is _views.DETACH or op is _views.NO_GRAD_VIEW for op, _ in sub):
        return  # (a write through detach(): no tangent flows to the base)
    with _visible(level.index):
        if base is not t:
            xgrad = _standard_namespace()
            old = _tangent(base, level)
            if old is None and tangent is None:
                return
            if old is None:
                old = xgrad.zeros_like(base.detach())
            new = _conform(tangent, t.detach())
            base_tangent = _views.run_chain_put(old, sub, new)
            _attach(base, base_tangent, level)
        else:
            base_tangent = tangent
        for v in live:
            if v is t or v is base or not below(v, base_chain):
                continue
            rest = v._chain[len(base_chain):]
            if any(op is _views.DETACH or op is _views.NO_GRAD_VIEW for op, _ in rest):
                continue
            if any(_is_alias(a) and a is not base and len(a._chain) > len(base_chain)
                   and below(v, a._chain) for a in live):
                continue  # (under another dual alias: its own tangent)
            if v._fw:
                v._fw.pop(level, None)
            if base_tangent is not None:
                _attach(v, _views.run_chain(_standard_namespace(), base_tangent, rest), level)


# -- forward-over-reverse: tangents of the values a backward pass rebuilds -----------------------
def _remember_node(op, args, result):
    first = result[0] if op.nout != 1 else result
    node = first._grad_fn
    if node is None or getattr(node, "op", None) is not op or node in _NODES:
        return
    outs = result if op.nout != 1 else (result,)
    ins = tuple(getattr(a, "_fw", None) for a in args)
    fws = tuple(o._fw for o in outs)
    if any(ins) or any(fws):
        _NODES[node] = (ins, fws)


def _restore(node, out, inputs):
    """Called by the engine (create_graph) on the tensors it rebuilds from saved
    arrays: give them the tangents the originals had."""
    entry = _NODES.get(node)
    if entry is None:
        return
    ins, fws = entry
    outs = out if isinstance(out, tuple) else (out,)
    for t, fw in zip(outs, fws):
        if t is not None and fw and t._fw is None:
            t._fw = fw
    for t, fw in zip(inputs, ins):
        if fw and getattr(t, "_fw", 1) is None:
            t._fw = fw


def _standard_namespace():
    """The standard's face (``xgrad.array_api``, through the hook it installs): rules and
    tangent arithmetic on tensors use only standard functions."""
    from ..ops._registry import tensor_namespace
    return tensor_namespace()
