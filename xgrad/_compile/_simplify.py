"""Exact simplifications of a traced program, before it is emitted.

Only rewrites whose result is bitwise identical to the traced call are made:

* **constant folding**: a pure step whose array inputs are all constants of the program
  (``ones_like`` of a shape stand-in, ``reshape``/``broadcast_to`` of it, ``asarray`` of a
  constant) is computed once, at build time; the replay binds the slot to the value;
* **algebraic no-ops**: ``x * ones``, ``x / ones``, ``x - zeros`` (``-0 - 0`` is ``-0``; ``x + 0``
  is *not* exact: ``-0 + 0`` is ``+0``, so additions stay), ``astype``/``asarray`` to the same
  dtype, ``reshape``/``broadcast_to`` to the same shape, and ``matrix_transpose`` of a
  ``matrix_transpose``: the result is the operand itself;
* **common subexpressions**: a pure step with the same function and arguments as an earlier
  one reuses that step's result.

The last two make a slot an alias of another, and folding shares one array between replays.
Both are done only where nothing can tell: slots are grouped into alias classes (a step that
may return a view of an argument joins them), and neither class may be written in place
(``+=``, ``[]=``, ``out=``), nor may the replaced slot's class reach the program's outputs or
write-backs (which must be fresh arrays, as in eager mode).
"""

from __future__ import annotations

import math

import numpy as np

from ._trace import Ref, Step, OPS, _refs

__all__ = ["simplify"]

# functions whose result never aliases an argument (besides NumPy ufuncs and operators)
_FRESH_NAMES = frozenset(("sum", "mean", "prod", "max", "min", "std", "var", "matmul", "vecdot",
                          "tensordot", "where", "concat", "stack", "zeros_like", "ones_like",
                          "full_like", "cumulative_sum", "argmax", "argmin", "any", "all",
                          "sort", "argsort", "clip", "einsum", "dot", "outer", "zeros", "ones",
                          "full", "arange", "eye", "linspace"))
# never folded: their values are not determined by their arguments
_NONDETERMINISTIC = frozenset(("empty", "empty_like"))
# with a result of its argument's shape and dtype, the argument itself
_SAME_META_IDENTITY = frozenset(("reshape", "astype", "asarray", "broadcast_to",
                                 "ascontiguousarray", "squeeze"))


def _subst(x, alias):
    """``x`` with the aliased slots replaced; ``x`` itself where nothing changes (constants
    such as an optimizer's state dict are passed by identity)."""
    t = type(x)
    if t is Ref:
        s = alias.get(x.slot)
        return x if s is None else Ref(s)
    if t is tuple or t is list:
        new = [_subst(v, alias) for v in x]
        return x if all(a is b for a, b in zip(new, x)) else t(new)
    if t is dict:
        new = {k: _subst(v, alias) for k, v in x.items()}
        return x if all(new[k] is v for k, v in x.items()) else new
    return x


def _value(x, consts):
    t = type(x)
    if t is Ref:
        return consts[x.slot]
    if t is tuple or t is list:
        return t(_value(v, consts) for v in x)
    if t is dict:
        return {k: _value(v, consts) for k, v in x.items()}
    return x


def _key(x):
    t = type(x)
    if t is Ref:
        return ("R", x.slot)
    if t is tuple or t is list:
        return (t.__name__,) + tuple(_key(v) for v in x)
    if t is dict:
        return ("d",) + tuple((k, _key(v)) for k, v in x.items())
    if t in (bool, int, float, complex, str) or x is None or x is Ellipsis:
        return (t.__name__, x)
    return ("id", id(x))


def _name(step):
    return getattr(step.fn, "__name__", "") if step.kind in ("call", "method") else ""


def _writes(step):
    """The slots a step writes in place."""
    kind = step.kind
    if kind == "setitem" or kind == "iop":
        return _refs(step.args[0], [])
    if step.kwargs and "out" in step.kwargs:
        return _refs(step.kwargs["out"], [])
    if kind == "method" and str(step.fn).startswith("__i"):
        return _refs(step.args[0], [])
    return []


def _may_alias(step) -> bool:
    """Whether a step's result may share memory with one of its arguments."""
    kind = step.kind
    if kind == "op" or kind == "const":
        return False
    if kind == "call":
        if isinstance(step.fn, np.ufunc) and not (step.kwargs and "out" in step.kwargs):
            return False
        return _name(step) not in _FRESH_NAMES
    return True


class _Classes:
    """Union-find over slots: alias classes, each with 'written' and 'escapes' flags."""

    def __init__(self):
        self.parent = {}
        self.written = set()
        self.escapes = set()

    def find(self, s):
        p = self.parent.get(s, s)
        if p == s:
            return s
        r = self.find(p)
        self.parent[s] = r
        return r

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb
            if ra in self.written:
                self.written.add(rb)
            if ra in self.escapes:
                self.escapes.add(rb)

    def clean(self, s):
        return self.find(s) not in self.written

    def private(self, s):
        r = self.find(s)
        return r not in self.written and r not in self.escapes


def simplify(trace, steps, keep, pure_fn):
    """The steps with exact simplifications applied (see the module docstring). Steps that
    became dead are left for the caller's dead-code elimination."""
    meta = trace.meta
    cls = _Classes()
    for step in steps:
        outs = _refs(step.out, []) if type(step.out) is not tuple or step.out[:1] != ("same",) \
            else [step.out[1]]
        if _may_alias(step) or (type(step.out) is tuple and step.out[:1] == ("same",)):
            args = _refs(step.args, []) + _refs(step.kwargs, [])
            for o in outs:
                for a in args:
                    cls.union(o, a)
    for step in steps:
        # (a step that is not pure, e.g. a backend's scatter_add, may write any argument)
        for s in (_writes(step) if pure_fn(step) else
                  _refs(step.args, []) + _refs(step.kwargs, [])):
            cls.written.add(cls.find(s))
    for s in keep:
        cls.escapes.add(cls.find(s))

    consts = {}      # slot -> value computed at build time
    alias = {}       # slot -> slot it is replaced by
    transposed = {}  # slot -> the slot it is the matrix_transpose of
    seen = {}        # CSE key -> slot
    out_steps = []
    for step in steps:
        args = _subst(step.args, alias)
        kwargs = _subst(step.kwargs, alias) if step.kwargs else step.kwargs
        if args is not step.args or kwargs is not step.kwargs:
            step = Step(step.kind, step.fn, args, kwargs, step.out)
        out = step.out
        single = type(out) is Ref
        if not single or not pure_fn(step) or not cls.private(out.slot):
            out_steps.append(step)
            continue
        o = out.slot
        in_refs = _refs(args, []) + _refs(kwargs, [])
        # -- constant folding
        if all(s in consts for s in in_refs) and _name(step) not in _NONDETERMINISTIC \
                and all(cls.private(s) for s in in_refs):
            value = _evaluate(step, consts)
            if value is not None:
                consts[o] = value
                out_steps.append(Step("bind", None, (value,), None, out))
                continue
        # -- no-ops: the result is one of the operands
        same = _identity_operand(step, meta, consts)
        if same is None and _name(step) == "matrix_transpose" and len(args) == 1 \
                and type(args[0]) is Ref:
            same = transposed.get(args[0].slot)
        if same is not None and cls.clean(same):
            alias[o] = same
            cls.union(o, same)
            continue
        if _name(step) == "matrix_transpose" and len(args) == 1 and type(args[0]) is Ref:
            transposed[o] = args[0].slot
        # -- common subexpressions
        if step.kind in ("call", "op", "getitem", "attr") and all(cls.clean(s) for s in in_refs):
            key = (step.kind, _key(step.fn) if step.kind == "call" else step.fn, _key(args),
                   _key(kwargs))
            prev = seen.get(key)
            if prev is not None and cls.clean(prev) and meta.get(prev) == meta.get(o):
                alias[o] = prev
                cls.union(o, prev)
                if o in transposed:
                    transposed[prev] = transposed[o]
                continue
            seen[key] = o
        out_steps.append(step)
    return out_steps


def _evaluate(step, consts):
    """The step's result on constant inputs, or None where it is not one array."""
    args = _value(step.args, consts)
    kwargs = _value(step.kwargs, consts) if step.kwargs else {}
    kind = step.kind
    try:
        if kind == "call" or kind == "const":
            r = step.fn(*args, **kwargs)
        elif kind == "op":
            r = OPS[step.fn](*args)
        elif kind == "getitem":
            r = args[0][args[1]]
        elif kind == "attr":
            r = getattr(args[0], step.fn)
        else:
            return None
    except Exception:  # (folding is an optimization: leave the step as it is)
        return None
    if not hasattr(r, "shape") or not hasattr(r, "dtype") or isinstance(r, (tuple, list)):
        return None
    return r


def _all_equal(value, x) -> bool:
    if type(value) is not np.ndarray:
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(value == x))


def _identity_operand(step, meta, consts):
    """The slot a step's result equals bitwise (NumPy arrays of the result's shape and dtype),
    or None."""
    o = step.out.slot
    m = meta.get(o)
    if m is None:
        return None
    args = step.args
    kind = step.kind
    fn = step.fn
    name = None
    if kind == "op" and fn in ("mul", "truediv", "sub"):
        name = {"mul": "multiply", "truediv": "divide", "sub": "subtract"}[fn]
    elif kind == "call" and isinstance(fn, np.ufunc) and not step.kwargs:
        name = {"multiply": "multiply", "divide": "divide", "true_divide": "divide",
                "subtract": "subtract"}.get(fn.__name__)
    # (complex: (a + bi) * 1 computes b * 0, NaN for an infinite b)
    if name is not None and len(args) == 2 and m[1].kind in "fiu":
        for i in ((0, 1) if name == "multiply" else (0,)):
            x, c = args[i], args[1 - i]
            if type(x) is not Ref or meta.get(x.slot) != m:
                continue
            unit = 0 if name == "subtract" else 1
            if type(c) is Ref and c.slot in consts:
                cv = consts[c.slot]
                if type(cv) is np.ndarray and cv.dtype == m[1] and _all_equal(cv, unit) and (
                        unit == 1 or not np.any(np.signbit(cv))):
                    return x.slot
            elif type(c) in (int, float) and c == unit and (
                    type(c) is int or not math.copysign(1.0, c) < 0):
                return x.slot
        return None
    if kind in ("call", "method") and _name(step) in _SAME_META_IDENTITY:
        src = args[0] if args else None
        if type(src) is Ref and meta.get(src.slot) == m:
            return src.slot
    return None
