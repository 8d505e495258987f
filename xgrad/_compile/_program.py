"""A traced program lowered to one generated Python function.

Each slot becomes a local variable ``s<n>``, each step one line that calls the
recorded backend function directly (operators stay operators: ``s7 = s3 * s5``),
constants and functions are globals of the generated code, and a slot is
deleted after its last use (liveness), so intermediates are freed as early as in
eager mode. The guard (the state of the tensors the program reads that the
signature does not cover) is a generated boolean expression too.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import _wrap
from ..autograd.graph import FREED_MESSAGE, _GraphNode
from ..backends._numpy import ignore_fp_errors, restore_fp_errors
from ._fuse import plan_kernels
from ._simplify import simplify
from ._trace import Ref, _BINARY, _UNARY, OPS, _refs

__all__ = ["Program", "build_program", "REUSE_BUFFERS"]

#: Whether exact simplifications (constant folding, no-ops, common subexpressions) are made.
SIMPLIFY = True
#: Fused elementwise kernels (``_fuse.py``): "auto" (CuPy programs: one generated
#: ``cupy.ElementwiseKernel`` per run of elementwise steps; untested on a real GPU), None (off),
#: or "emulate" (every backend, each kernel evaluated by its NumPy/namespace emulation: the
#: program logic, for the CPU tests).
KERNELS = "auto"
#: Whether NumPy programs write their elementwise results into buffers kept between replays.
REUSE_BUFFERS = True
#: Whether ``matmul``, ``where`` and ``sum`` results go into buffers too (False: elementwise
#: ufuncs only, as before issue #14; for measuring the difference).
REUSE_ALL_RESULTS = True
#: Results smaller than this stay out of buffers: NumPy recycles small allocations itself, and
#: ``out=`` costs a keyword argument per call (about 50 ns, a tenth of a tiny ufunc call).
BUFFER_MIN_BYTES = 4096
#: Whether runs of elementwise NumPy steps on large arrays replay block by block.
FUSE_BLOCKS = True
#: Arrays of at least this many elements are fused, in blocks of FUSE_BLOCK elements (measured
#: on W3 here, one core: 16K elements 1.2-1.3x the floor, 64K and 128K 1.0-1.1x, unfused 1.4-1.6x;
#: per-block Python costs about 1 us a step, so small blocks pay more calls).
FUSE_MIN_ELEMENTS = 1 << 17
FUSE_BLOCK = 1 << 16

# operators that are NumPy ufuncs on ndarrays (what ``a + b`` calls), for ``out=``
_OP_UFUNC = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
             "floordiv": np.floor_divide, "mod": np.remainder, "and": np.bitwise_and,
             "or": np.bitwise_or, "xor": np.bitwise_xor, "lt": np.less, "le": np.less_equal,
             "gt": np.greater, "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal,
             "neg": np.negative, "pos": np.positive, "invert": np.invert, "abs": np.absolute}
# functions whose result is always a new array (never a view or one of their inputs)
_FRESH = frozenset(("sum", "mean", "prod", "max", "min", "std", "var", "matmul", "vecdot",
                    "tensordot", "where", "concat", "stack", "zeros_like", "ones_like",
                    "empty_like", "full_like", "cumulative_sum", "argmax", "argmin", "any",
                    "all", "sort", "argsort", "clip", "einsum", "dot", "outer"))
_NUMBERS = (bool, int, float, complex)

_new = object.__new__


class Program:
    """A compiled signature: ``guard(args)`` says whether it applies, ``run(args)``
    replays it (``args``: the tensors among the call's arguments, in order)."""

    __slots__ = ("guard", "run", "source", "nsteps", "buffers", "kernels")

    def __repr__(self):
        return f"<xgrad compiled program: {self.nsteps} steps>"


def _make_tensor(data, device, cow, requires_grad=False):
    t = _wrap(data, device)
    t._cow = cow
    t._requires_grad = requires_grad
    return t


class FreedGraphNode(_GraphNode):
    """The ``grad_fn`` of a replay's output whose graph a backward inside the compiled
    function freed (in eager mode, that output's graph): named as eager mode's node; a
    backward through it raises eager mode's error (PyTorch's "Trying to backward through the
    graph a second time ..."), before any gradient is accumulated."""

    __slots__ = ("_name", "_freed", "next_edges", "pre_hooks", "__weakref__")
    num_outputs = 1

    def __init__(self, name, freed):
        self._name = name
        self._freed = freed
        self.next_edges = ()
        self.pre_hooks = None

    def name(self) -> str:
        return self._name

    def apply(self, grads, create_graph=False):
        raise RuntimeError(FREED_MESSAGE.format(self._freed))

    def release(self) -> None:
        pass

    def register_hook(self, hook):
        raise RuntimeError(FREED_MESSAGE.format(self._freed))

    register_prehook = register_hook


def _make_freed(data, device, cow, name, freed):
    t = _wrap(data, device)
    t._cow = cow
    t._requires_grad = True
    t._grad_fn = FreedGraphNode(name, freed)
    return t


def _fill(t, data, device, cow, requires_grad):
    from .._tensor import _init
    _init(t, data, device)
    t._cow = cow
    t._requires_grad = requires_grad
    return t


def _module_getattr(m, name):
    d = m.__dict__
    for store in ("_parameters", "_buffers", "_modules"):
        s = d.get(store)
        if s is not None and name in s:
            return s[name]
    return d.get(name)


def _optimizer_snapshot(optimizer):
    """The hyperparameters a replay bakes in (not those the optimizer reads in host steps)."""
    dynamic = getattr(optimizer, "_compile_dynamic", frozenset())
    return tuple(tuple((k, v) for k, v in g.items() if k != "params" and k not in dynamic)
                 for g in optimizer.param_groups)


class _Writer:
    def __init__(self):
        self.ns = {"IGN": ignore_fp_errors, "RST": restore_fp_errors, "MK": _make_tensor,
                   "MKF": _make_freed,
                   "SNAP": _optimizer_snapshot, "_wrap": _wrap,
                   "MKT": lambda cls, data, dev, cow, rg: _fill(_new(cls), data, dev, cow, rg),
                   "MGA": _module_getattr, "MISSING": object()}
        self._ids = {}

    def const(self, obj):
        key = id(obj)
        name = self._ids.get(key)
        if name is None:
            name = self._ids[key] = f"K{len(self._ids)}"
            self.ns[name] = obj
        return name

    def render(self, x):
        t = type(x)
        if t is Ref:
            return f"s{x.slot}"
        if t is tuple:
            if not any(_has_ref(v) for v in x):
                return self.const(x)
            inner = ", ".join(self.render(v) for v in x)
            return f"({inner},)" if x else "()"
        if t is list:
            return "[" + ", ".join(self.render(v) for v in x) + "]"
        if t is dict:
            if not any(_has_ref(v) for v in x.values()):
                return self.const(x)
            items = ", ".join(f"{self.render(k)}: {self.render(v)}" for k, v in x.items())
            return "{" + items + "}"
        if x is None or t is bool or t is int or t is str:
            return repr(x)
        if t is float and math.isfinite(x):
            return repr(x)
        if x is Ellipsis:
            return "..."
        return self.const(x)

    def call_args(self, args, kwargs):
        parts = [self.render(a) for a in args]
        if kwargs:
            parts += [f"{k}={self.render(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)


def _has_ref(x) -> bool:
    t = type(x)
    if t is Ref:
        return True
    if t is tuple or t is list:
        return any(_has_ref(v) for v in x)
    if t is dict:
        return any(_has_ref(v) for v in x.values())
    return False


def _pattern(out):
    """The assignment target for a result template (None: no assignment)."""
    if out is None:
        return None
    if type(out) is Ref:
        return f"s{out.slot}"
    if type(out) is tuple and len(out) == 2 and out[0] == "same":
        return None
    if type(out) is tuple:
        inner = [_pattern(o) or "_" for o in out]
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    return None


def _defined(out, found):
    if type(out) is Ref:
        found.append(out.slot)
    elif type(out) is tuple and not (len(out) == 2 and out[0] == "same"):
        for o in out:
            _defined(o, found)
    return found


def _path_expr(path, w):
    kind = path[0]
    if kind == "arg":
        return f"A[{path[1]}]"
    if kind == "ext":
        return w.const_ext(path[1])
    if kind == "mod":
        return f"MGA({w.const(path[1])}, {path[2]!r})"
    return f"{_path_expr(path[1], w)}._grad"


def build_program(trace, outputs, writebacks, name="fn"):
    """Generate the replay and guard functions of a finished trace."""
    w = _Writer()
    externals = trace.externals
    w.const_ext = lambda i: w.const(externals[i])
    keep = set()  # slots read after the steps (outputs, write-backs)
    for wb in writebacks:
        if wb[0] in ("data", "grad_new"):
            keep.add(wb[2])
        elif wb[0] == "mod_new":
            keep.add(wb[3])
    _output_slots(outputs, keep)
    steps = _live_steps(trace.steps, keep)
    if SIMPLIFY:
        steps = _live_steps(simplify(trace, steps, keep, _pure), keep)

    # -- uses, for liveness -------------------------------------------------------------------
    last_use = {}
    for i, step in enumerate(steps):
        for s in _refs(step.args, []) + _refs(step.kwargs, []):
            last_use[s] = i
        if type(step.out) is tuple and len(step.out) == 2 and step.out[0] == "same":
            last_use[step.out[1]] = i
    frees = {}
    for s, i in last_use.items():
        if s not in keep:
            frees.setdefault(i, []).append(s)
    kernels = {}
    if KERNELS == "emulate" or (KERNELS == "auto" and trace.cupy):
        kernels = plan_kernels(steps, {**trace.ameta, **trace.meta}, keep, last_use)
    assign, sizes = _plan_buffers(trace, steps, keep, last_use) \
        if REUSE_BUFFERS and not kernels else ({}, [])
    buffers = [np.empty(shape, dtype) for shape, dtype in sizes]
    for b, buf in enumerate(buffers):
        w.ns[f"B{b}"] = buf
    defined_unused = {}
    lines = []
    body = lines.append
    for slot, path in trace.inputs:
        body(f"s{slot} = {_path_expr(path, w)}._data")
        if slot not in last_use and slot not in keep:
            body(f"del s{slot}")
    body("tok = IGN()")
    body("try:")
    ind = "    "
    segments = _plan_segments(trace, steps, keep, last_use) if FUSE_BLOCKS else {}
    if kernels:  # (kernels replace the NumPy lowering: no buffers, no blocks)
        segments = {}
    skip_until = -1
    for i, step in enumerate(steps):
        if i <= skip_until:
            continue
        plan = kernels.get(i)
        if plan is not None:
            run, kern = plan
            skip_until = run[-1]
            fk = kern.emulate if KERNELS == "emulate" else kern.compile_cupy()
            targets = ", ".join(f"s{slot}" for _j, slot in kern.outputs)
            if len(kern.outputs) > 1:
                targets = f"({targets},)"
            args = ", ".join(f"s{slot}" for slot in kern.inputs)
            body(f"{ind}{targets} = {w.const(fk)}({args})")
            internal = {steps[j].out.slot for j in run} - {slot for _j, slot in kern.outputs}
            dead = []
            for j in run:
                for slot in (frees.get(j) or []):
                    if slot not in internal and slot not in dead:
                        dead.append(slot)
            _free(body, ind, dead)
            continue
        seg = segments.get(i)
        if seg is not None:
            skip_until = seg[-1]
            _emit_segment(w, body, ind, steps, seg, trace.meta, assign, last_use, keep, frees,
                          defined_unused)
            continue
        kind = step.kind
        target = _pattern(step.out)
        if i in assign:
            b, how = assign[i]
            if how == "ufunc":
                expr = f"{w.const(_ufunc_of(step))}({w.call_args(step.args, None)}, out=B{b})"
            elif how == "where":
                expr = _where_expr(w, step, b, buffers[b])
            else:
                expr = f"{w.const(step.fn)}({w.call_args(step.args, step.kwargs)}, out=B{b})"
        elif kind == "bind":
            expr = w.render(step.args[0])
        elif kind == "call" or kind == "const":
            expr = f"{w.const(step.fn)}({w.call_args(step.args, step.kwargs)})"
        elif kind == "host":
            expr = f"{w.const(step.fn)}(*{w.const(step.args)})"
        elif kind == "op" and _direct_ufunc(step, trace.meta):
            # (NumPy arrays: the ufunc the operator would call, without the operator's
            # dispatch, about 70 ns a call)
            expr = f"{w.const(_OP_UFUNC[step.fn])}({w.call_args(step.args, None)})"
        elif kind == "op":
            if step.fn in _UNARY:
                sym = _UNARY[step.fn]
                a = w.render(step.args[0])
                expr = f"abs({a})" if sym == "abs" else f"({sym}{a})"
            else:
                expr = f"({w.render(step.args[0])} {_BINARY[step.fn]} {w.render(step.args[1])})"
        elif kind == "iop":
            a, b = w.render(step.args[0]), w.render(step.args[1])
            if target is None and type(step.args[0]) is Ref:
                body(f"{ind}{a} {_BINARY[step.fn[1:]]}= {b}")
                _free(body, ind, frees.get(i))
                continue
            expr = f"{w.const(OPS[step.fn])}({a}, {b})"
        elif kind == "getitem":
            expr = f"{w.render(step.args[0])}[{w.render(step.args[1])}]"
        elif kind == "setitem":
            body(f"{ind}{w.render(step.args[0])}[{w.render(step.args[1])}] = "
                 f"{w.render(step.args[2])}")
            _free(body, ind, frees.get(i))
            continue
        elif kind == "method":
            expr = f"{w.render(step.args[0])}.{step.fn}({w.call_args(step.args[1:], step.kwargs)})"
        elif kind == "attr":
            expr = f"{w.render(step.args[0])}.{step.fn}"
        else:  # pragma: no cover
            raise AssertionError(kind)
        body(f"{ind}{target} = {expr}" if target else f"{ind}{expr}")
        # results nothing reads: freed at once
        for s in _defined(step.out, []):
            if s not in last_use and s not in keep:
                defined_unused.setdefault(i, []).append(s)
        _free(body, ind, (frees.get(i) or []) + defined_unused.get(i, []))
    # -- write-backs ------------------------------------------------------------------------------
    for wb in writebacks:
        kind = wb[0]
        if kind.startswith("mod_"):
            m, attr = w.const(wb[1]), repr(wb[2])
            if kind == "mod_pre":
                value = _path_expr(wb[3], w)
            elif kind == "mod_const":
                value = w.const(wb[3])
            else:
                value = f"MKT({w.const(wb[7])}, s{wb[3]}, {w.const(wb[4])}, {wb[5]!r}, {wb[6]!r})"
            body(f"{ind}setattr({m}, {attr}, {value})")
            continue
        path = wb[1]
        p = _path_expr(path, w)
        if kind == "data":
            body(f"{ind}{p}._data = s{wb[2]}")
        elif kind == "grad_none":
            body(f"{ind}{p}._grad = None")
        elif kind == "grad_pre":
            body(f"{ind}{p}._grad = {_path_expr(wb[2], w)}")
        elif kind == "grad_new":
            body(f"{ind}{p}._grad = MK(s{wb[2]}, {w.const(wb[3])}, {wb[4]!r}, {wb[5]!r})")
        elif kind == "rg":
            body(f"{ind}{p}._requires_grad = {wb[2]!r}")
        elif kind == "vc":
            body(f"{ind}{p}._vc[0] += {wb[2]!r}")
        elif kind == "cow":
            body(f"{ind}{p}._cow = {wb[2]!r}")
    body(f"{ind}return {_output_expr(outputs, w)}")
    body("finally:")
    body(f"{ind}RST(tok)")
    src = "def replay(A):\n" + "".join(f"    {line}\n" for line in lines)

    # -- the guard ---------------------------------------------------------------------------------
    conds = []
    for path, kind, expected in trace.guards:
        p = _path_expr(path, w)
        if kind == "data":
            shape, dtype, typ = expected
            if path[0] == "arg":
                conds.append(f"type({p}._data) is {w.const(typ)}")
            else:
                conds.append(f"type({p}._data) is {w.const(typ)} and "
                             f"{p}._data.shape == {w.const(shape)} and "
                             f"{p}._data.dtype == {w.const(dtype)}")
        elif kind == "grad":
            conds.append(f"{p}._grad is {'None' if expected else 'not None'}")
        elif kind == "rg":
            conds.append(f"{p}._requires_grad is {expected!r}")
    for m, name, value in trace.module_guards:
        if name is None:
            conds.append(f"{w.const(m)}.__dict__.get('training') is {value!r}")
        else:
            conds.append(f"MGA({w.const(m)}, {name!r}) is {w.const(value)}")
    for container, name, value in trace.value_guards:
        where = (f"{w.const(container)}.cell_contents" if name is None else
                 f"{w.const(container)}.get({name!r}, MISSING)")
        if type(value) in (int, float, complex, str, bytes):
            conds.append(f"type({where}) is {w.const(type(value))} and {where} == {w.const(value)}")
        else:
            conds.append(f"{where} is {w.const(value)}")
    for opt in trace.optimizers:
        conds.append(f"SNAP({w.const(opt)}) == {w.const(_optimizer_snapshot(opt))}")
    gsrc = "def guard(A):\n    return " + (" and ".join(f"({c})" for c in conds) or "True") + "\n"
    code = compile(src + gsrc, f"<xgrad.compile {name}>", "exec")
    exec(code, w.ns)
    prog = _new(Program)
    prog.run = w.ns["replay"]
    prog.guard = w.ns["guard"]
    prog.source = src + gsrc
    prog.nsteps = len(steps)
    prog.buffers = buffers
    prog.kernels = [kern for _run, kern in kernels.values()]
    return prog


_PURE_MODULES = ("numpy", "array_api_compat", "array_api_strict", "cupy", "scipy.special")
_IMPURE = frozenset(("copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"))


def _pure(step) -> bool:
    """Whether a step only computes its result (no write, no generator state, no Python
    side effect): then it can be dropped when nothing reads its result."""
    kind = step.kind
    if kind in ("op", "getitem", "attr", "const", "bind"):
        return True
    if kind != "call" or (step.kwargs and "out" in step.kwargs):
        return False
    fn = step.fn
    if isinstance(fn, np.ufunc):
        return True
    module = getattr(fn, "__module__", None) or ""
    return (module.startswith(_PURE_MODULES) and not module.startswith("numpy.random")
            and getattr(fn, "__name__", "") not in _IMPURE)


def _live_steps(steps, keep):
    """Dead-code elimination: the steps whose results something reads, or that write."""
    needed = set(keep)
    live = []
    for step in reversed(steps):
        out = step.out
        if not _pure(step) or any(s in needed for s in _defined(out, [])) or (
                type(out) is tuple and len(out) == 2 and out[0] == "same" and False):
            live.append(step)
            needed.update(_refs(step.args, []))
            needed.update(_refs(step.kwargs, []))
            if type(out) is tuple and len(out) == 2 and out[0] == "same":
                needed.add(out[1])
    live.reverse()
    return live


def _ufunc_of(step):
    """The NumPy ufunc a step calls with positional array/number arguments only, or None."""
    if step.kind == "op":
        fn = _OP_UFUNC.get(step.fn)
    elif step.kind == "call" and isinstance(step.fn, np.ufunc) and not step.kwargs:
        fn = step.fn
        if fn.nout != 1 or fn.nin != len(step.args):
            return None
    else:
        return None
    if fn is None or not all(type(a) is Ref or type(a) in _NUMBERS for a in step.args):
        return None
    return fn


def _direct_ufunc(step, meta):
    """Whether an operator step is exactly its NumPy ufunc: one operand an n-d NumPy
    array, the others NumPy arrays or Python numbers."""
    if step.fn not in _OP_UFUNC or step.fn == "pow":
        return False
    nd = False
    for a in step.args:
        if type(a) is Ref:
            m = meta.get(a.slot)
            if m is None:
                return False
            nd = nd or m[0] != ()
        elif type(a) not in _NUMBERS:
            return False
    return nd


def _nbytes(meta):
    n = meta[1].itemsize
    for d in meta[0]:
        n *= d
    return n


# functions and attributes whose result may be a view of their first argument (an alias of a
# buffer: the buffer is held while any alias lives)
_VIEW_FUNCS = frozenset(("matrix_transpose", "reshape", "broadcast_to", "permute_dims",
                         "expand_dims", "squeeze", "transpose", "swapaxes", "moveaxis",
                         "asarray", "ravel"))
_VIEW_ATTRS = frozenset(("T", "mT", "real", "imag"))
_SUM_KWARGS = frozenset(("axis", "keepdims", "dtype"))


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _where_x0(out, bits, cond, x, y):
    """``numpy.where(cond, x, +0.0)`` into ``out`` (``bits``: ``out`` viewed as unsigned
    integers of its width; ``x`` such bits too): ``x * cond`` on the bits, exactly the values
    ``where`` picks (NaN payloads, signed zeros, infinities) and 10-15x faster than ``where``
    here (its branch per element)."""
    np.multiply(x, cond, out=bits)
    return out


def _where_0y(out, bits, cond, x, y):
    """``numpy.where(cond, +0.0, y)`` on the bits: ``y ^ (y * cond)``."""
    np.bitwise_xor(y, np.multiply(y, cond, out=bits), out=bits)
    return out


def _where_xy(out, bits, cond, x, y):
    """``numpy.where(cond, x, y)`` on the bits: ``y ^ ((x ^ y) * cond)``."""
    np.bitwise_xor(x, y, out=bits)
    np.multiply(bits, cond, out=bits)
    np.bitwise_xor(bits, y, out=bits)
    return out


def _where_expr(w, step, b, buf):
    """The call writing a ``where`` step into buffer ``b`` through its unsigned-integer view
    (operands viewed alike; a Python number as the bits of its value in the buffer's dtype)."""
    u = _UINT[buf.dtype.itemsize]
    name = f"BU{b}"
    if name not in w.ns:
        w.ns[name] = buf.view(u)
    cond, *xy = step.args
    ops, zero = [], []
    for a in xy:
        if type(a) is Ref:
            ops.append(f"{w.render(a)}.view({w.const(u)})")
            zero.append(False)
        else:
            bits = np.array(a, buf.dtype).view(u)[()]
            ops.append(w.const(bits))
            zero.append(int(bits) == 0)
    fn = _where_x0 if zero[1] else _where_0y if zero[0] else _where_xy
    return f"{w.const(fn)}(B{b}, {name}, {w.render(cond)}, {ops[0]}, {ops[1]})"


def _buffered_kind(step, meta):
    """How a NumPy step can write its result into a kept buffer: "ufunc" (elementwise, or
    ``matmul``: at W2's sizes ``matmul(out=)`` runs as fast as without, bitwise the same),
    "where" (on the bits: ``_where_xy`` and kin), "sum" (``numpy.sum(..., out=)``), or None."""
    uf = _ufunc_of(step)
    if uf is not None:
        return "ufunc" if uf.signature is None or (uf is np.matmul and REUSE_ALL_RESULTS) \
            else None
    if step.kind != "call" or not REUSE_ALL_RESULTS:
        return None
    out = step.out
    if type(out) is not Ref or out.slot not in meta:
        return None
    dt = meta[out.slot][1]
    if step.fn is np.where and len(step.args) == 3 and not step.kwargs:
        c, x, y = step.args
        if type(c) is not Ref or c.slot not in meta or meta[c.slot][1] != np.bool_:
            return None
        if dt.kind != "f" or dt.itemsize not in _UINT:
            return None
        for a in (x, y):
            if type(a) is Ref:
                if a.slot not in meta or meta[a.slot][1] != dt:
                    return None
            elif type(a) not in (int, float):
                return None
        return "where"
    if step.fn is np.sum and len(step.args) == 1 and type(step.args[0]) is Ref \
            and set(step.kwargs or ()) <= _SUM_KWARGS \
            and (step.kwargs or {}).get("dtype") is None:
        return "sum"
    return None


def _alias_of(step):
    """The slot whose memory a step's result may share (a view), or None."""
    if type(step.out) is not Ref or not step.args or type(step.args[0]) is not Ref:
        return None
    kind, fn = step.kind, step.fn
    if kind == "getitem" or (kind == "attr" and fn in _VIEW_ATTRS) or (
            kind == "method" and fn in ("reshape", "transpose", "view", "ravel")) or (
            kind == "call" and getattr(fn, "__name__", "") in _VIEW_FUNCS):
        return step.args[0].slot
    return None


def _plan_buffers(trace, steps, keep, last_use):
    """{step index: (buffer number, how)} and the buffers' (shape, dtype): each NumPy result
    of an elementwise ufunc, ``matmul``, ``where`` or ``sum`` that nothing can keep (its
    readers and its views' readers are ufuncs, in-place updates or functions that return new
    arrays; neither it nor a view of it is an output or write-back) is written with ``out=``
    into a buffer kept between replays; buffers are shared by slots whose lives (with their
    views') do not overlap."""
    meta = trace.meta
    producer, how = {}, {}
    for i, step in enumerate(steps):
        if type(step.out) is not Ref or step.out.slot not in meta:
            continue
        m = meta[step.out.slot]
        if m[0] == () or _nbytes(m) < BUFFER_MIN_BYTES or step.out.slot in trace.not_c:
            # (a result eager mode lays out otherwise, e.g. ``x.T * 2``: NumPy keeps the
            # operands' order; a C-ordered buffer would change later reductions' rounding)
            continue
        k = _buffered_kind(step, meta)
        if k is not None:
            producer[step.out.slot] = i
            how[i] = k
    root = {s: s for s in producer}  # slot -> the buffered slot whose memory it may share
    bad = set()
    for step in steps:
        a = _alias_of(step)
        if a is not None and a in root:
            root[step.out.slot] = root[a]
            refs = _refs(step.args[1:], []) + _refs(step.kwargs, [])
        else:
            refs = _refs(step.args, []) + _refs(step.kwargs, [])
            kind = step.kind
            if kind in ("op", "iop", "setitem") or (kind == "call" and (
                    _ufunc_of(step) is not None or step.fn is np.where
                    or getattr(step.fn, "__name__", "") in _FRESH)):
                if kind == "call" and step.kwargs and "out" in step.kwargs:
                    bad.update(root[s] for s in _refs(step.kwargs, []) if s in root)
                refs = ()
        for s in refs:
            if s in root:
                bad.add(root[s])
        if type(step.out) is tuple and len(step.out) == 2 and step.out[0] == "same" \
                and step.out[1] in root:
            bad.add(root[step.out[1]])
    for s in keep:
        if s in root:
            bad.add(root[s])
    safe = set(producer) - bad
    end = {}  # buffered slot -> its last use or its views' last use
    for s, r in root.items():
        if r in safe:
            e = last_use.get(s, producer[r])
            if e > end.get(r, -1):
                end[r] = e
    dying = {}
    for s in safe:
        dying.setdefault(end[s], []).append(s)
    pool, sizes, assign, held = {}, [], {}, {}

    def release(s):
        b = held.pop(s)
        pool.setdefault(sizes[b], []).append(b)
    for i, step in enumerate(steps):
        # (an elementwise ufunc may write over an operand that dies here, read directly:
        # the same element positions; other steps only after they ran)
        direct = {a.slot for a in step.args if type(a) is Ref}
        later = []
        for s in dying.get(i, ()):
            if s in held and producer[s] != i:
                if how.get(i) == "ufunc" and steps[i].kind != "iop" and s in direct and \
                        _ufunc_of(step).signature is None and all(
                            root.get(a) != s or a == s for a in direct):
                    release(s)
                else:
                    later.append(s)
        if type(step.out) is Ref and step.out.slot in safe:
            s = step.out.slot
            key = meta[s]
            free = pool.get(key)
            b = free.pop() if free else None
            if b is None:
                b = len(sizes)
                sizes.append(key)
            assign[i] = (b, how[i])
            held[s] = b
            if end[s] == i:  # never read: free again at once
                release(s)
        for s in later:
            release(s)
    return assign, sizes


_MAX_SEGMENTS = 1 << 30  # (debugging: fuse only the first few)
_IN_PLACE = {"iadd": np.add, "isub": np.subtract, "imul": np.multiply, "itruediv": np.true_divide}


def _block_target(step):
    """The slot a step writes: its result, or for ``a += b`` the updated ``a``."""
    if step.kind == "iop":
        a = step.args[0]
        same = step.out is None or (type(step.out) is tuple and step.out[0] == "same")
        return a if same and type(a) is Ref and step.fn in _IN_PLACE else None
    return step.out if type(step.out) is Ref else None


def _block_ufunc(step):
    if step.kind == "iop":
        if step.fn not in _IN_PLACE or not all(type(a) is Ref or type(a) in _NUMBERS
                                               for a in step.args):
            return None
        return _IN_PLACE[step.fn]
    return _ufunc_of(step)


def _fusable(step, meta, not_c=()):
    """The shape of an elementwise NumPy step whose array operands all have its output's
    shape (or are 0-d, or Python numbers) and whose traced result was C-contiguous (the
    blocks' layout), or None."""
    out = _block_target(step)
    uf = None if out is None or out.slot not in meta or out.slot in not_c \
        else _block_ufunc(step)
    if uf is None or uf.signature is not None:  # (generalized ufuncs, matmul: not elementwise)
        return None
    shape = meta[out.slot][0]
    n = 1
    for d in shape:
        n *= d
    if n < FUSE_MIN_ELEMENTS:
        return None
    for a in step.args:
        if type(a) is Ref:
            m = meta.get(a.slot)
            if m is None or (m[0] != shape and m[0] != ()):
                return None
    return shape


def _plan_segments(trace, steps, keep, last_use):
    """{first step: [step indices]} of runs of consecutive elementwise steps on arrays of
    one shape, replayed block by block (``FUSE_BLOCK`` elements at a time)."""
    segments = {}
    run, shape = [], None
    for i, step in enumerate(steps + [None]):
        sh = None if step is None else _fusable(step, trace.meta, trace.not_c)
        if sh is not None and sh == shape:
            run.append(i)
            continue
        if len(run) >= 2 and len(segments) < _MAX_SEGMENTS:
            segments[run[0]] = run
        run, shape = ([i], sh) if sh is not None else ([], None)
    return segments


def _emit_segment(w, body, ind, steps, seg, meta, assign, last_use, keep, frees, defined_unused):
    """One elementwise segment as a loop over blocks: values used only inside it live in
    block-sized scratch arrays (in cache); the others are written block by block into
    whole arrays (a kept buffer where the buffer plan gave one, a new array otherwise)."""
    first, last = seg[0], seg[-1]
    shape = meta[_block_target(steps[first]).slot][0]
    n = 1
    for d in shape:
        n *= d
    defined = {steps[i].out.slot: i for i in seg if steps[i].kind != "iop"}
    temps, outs = [], []
    for slot, i in defined.items():
        lu = last_use.get(slot, i)
        if slot in keep or lu > last:
            outs.append(slot)
        else:
            temps.append(slot)
    inputs = []
    for i in seg:
        for a in steps[i].args:
            if type(a) is Ref and a.slot not in defined and a.slot not in inputs:
                inputs.append(a.slot)
    # scratch blocks, shared by temporaries whose lives inside the segment do not overlap
    scratch, free, scratch_of = [], {}, {}
    released = set()
    for i in seg:
        for a in steps[i].args:
            if type(a) is Ref and a.slot in scratch_of and last_use.get(a.slot) == i \
                    and a.slot not in released:
                released.add(a.slot)  # (once: x * x names x twice)
                b = scratch_of[a.slot]
                free.setdefault(scratch[b], []).append(b)
        if steps[i].kind == "iop":
            continue
        slot = steps[i].out.slot
        if slot in temps:
            dt = meta[slot][1]
            pool = free.get(dt)
            if pool:
                b = pool.pop()
            else:
                b = len(scratch)
                scratch.append(dt)
            scratch_of[slot] = b
            if last_use.get(slot, i) == i:
                free.setdefault(dt, []).append(b)
    block = FUSE_BLOCK
    names = []
    for b, dt in enumerate(scratch):
        name = w.const(np.empty(block, dt))
        names.append(name)
    for slot in outs:
        i = defined[slot]
        dt = meta[slot][1]
        if i in assign:
            body(f"{ind}s{slot} = B{assign[i][0]}")
        else:
            body(f"{ind}s{slot} = {w.const(np.empty)}({shape!r}, {w.const(dt)})")
    flat = {}
    for slot in inputs:
        if meta[slot][0] == ():
            flat[slot] = f"s{slot}"
        else:
            body(f"{ind}f{slot} = s{slot}.reshape(-1)")
            flat[slot] = f"f{slot}[i0:i1]"
    for slot in outs:
        body(f"{ind}f{slot} = s{slot}.reshape(-1)")
        flat[slot] = f"f{slot}[i0:i1]"

    def block_body(tail):
        lines = []
        for i in seg:
            step = steps[i]
            args = []
            for a in step.args:
                if type(a) is Ref:
                    if a.slot in scratch_of:
                        nm = names[scratch_of[a.slot]]
                        args.append(f"{nm}[:r]" if tail else nm)
                    else:
                        args.append(flat[a.slot])
                else:
                    args.append(w.render(a))
            slot = _block_target(step).slot
            if slot in scratch_of:
                nm = names[scratch_of[slot]]
                out = f"{nm}[:r]" if tail else nm
            else:
                out = flat[slot]
            lines.append(f"{w.const(_block_ufunc(step))}({', '.join(args)}, out={out})")
        return lines
    main = n - n % block
    if main:
        body(f"{ind}for i0 in range(0, {main}, {block}):")
        body(f"{ind}    i1 = i0 + {block}")
        for line in block_body(False):
            body(f"{ind}    {line}")
    if n % block:
        body(f"{ind}i0, i1, r = {main}, {n}, {n % block}")
        for line in block_body(True):
            body(f"{ind}{line}")
    dead = []
    for i in seg:
        for slot in (frees.get(i) or []) + defined_unused.get(i, []):
            if slot not in scratch_of and slot not in dead:
                dead.append(slot)
    for slot in temps:
        if slot in dead:
            dead.remove(slot)
    _free(body, ind, dead)


def _free(body, ind, slots):
    if slots:
        body(f"{ind}del " + ", ".join(f"s{s}" for s in slots))


def _output_slots(out, found):
    kind = out[0]
    if kind in ("new", "raw"):
        found.add(out[1])
    elif kind in ("tuple", "list", "dict", "named"):
        for o in out[-1]:
            _output_slots(o, found)


def _output_expr(out, w):
    kind = out[0]
    if kind == "new":
        if len(out) == 5 and out[4] is True:
            return f"MK(s{out[1]}, {w.const(out[2])}, {out[3]!r}, True)"
        if len(out) == 5:
            return f"MKF(s{out[1]}, {w.const(out[2])}, {out[3]!r}, {out[4][0]!r}, {out[4][1]!r})"
        return f"MK(s{out[1]}, {w.const(out[2])}, {out[3]!r})"
    if kind == "raw":
        return f"s{out[1]}"
    if kind == "pre":
        return _path_expr(out[1], w)
    if kind == "const":
        return w.render(out[1]) if not isinstance(out[1], (tuple, list, dict)) else w.const(out[1])
    if kind == "tuple":
        inner = ", ".join(_output_expr(o, w) for o in out[1])
        return f"({inner},)" if out[1] else "()"
    if kind == "list":
        return "[" + ", ".join(_output_expr(o, w) for o in out[1]) + "]"
    if kind == "named":
        return f"{w.const(out[1])}(" + ", ".join(_output_expr(o, w) for o in out[2]) + ")"
    if kind == "dict":
        return "{" + ", ".join(f"{w.render(k)}: {_output_expr(o, w)}"
                               for k, o in zip(out[1], out[2])) + "}"
    raise AssertionError(kind)
