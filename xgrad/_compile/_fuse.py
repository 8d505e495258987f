"""Fused elementwise kernels: each maximal run of consecutive elementwise steps of one shape
becomes one kernel (CuPy: a ``cupy.ElementwiseKernel`` generated from the steps).

The generator builds, for each run, an expression tree (:class:`FusedKernel`: its inputs,
one node per step, the nodes whose values are needed after the run), and renders it two
ways from the same tree:

* ``cuda_source()``: the ``ElementwiseKernel``'s parameter lists and C++ body (one typed
  temporary per node, operands cast to the node's computation type, only the values used
  after the run written out);
* ``emulate(*inputs)``: the same tree evaluated node by node with the inputs' array
  namespace (NumPy, array-api-strict), so the program logic (what is fused, the argument
  lists, the wiring of temporaries, what is written out, liveness around the kernel) is
  tested on the CPU against eager mode.

The CuPy path (``compile_cupy``) is used only where the traced arrays are CuPy arrays.
**It has not run on a GPU**: no CUDA device was available when it was written; the C++
text is checked on the CPU only (tests compile it as C++ with the host compiler and run
it on NumPy's buffers).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ._trace import Ref

__all__ = ["FusedKernel", "plan_kernels", "MIN_STEPS"]

#: A run needs at least this many elementwise steps to become a kernel.
MIN_STEPS = 2

# operator step names -> the standard function name
_OP_NAMES = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
             "neg": "negative", "pos": "positive", "lt": "less", "le": "less_equal",
             "gt": "greater", "ge": "greater_equal", "eq": "equal", "ne": "not_equal",
             "abs": "abs"}
_ALIASES = {"true_divide": "divide", "absolute": "abs", "arcsin": "asin", "arccos": "acos",
            "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}
_COMPARE = frozenset(("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"))
_LOGICAL = frozenset(("logical_and", "logical_or", "logical_not"))
# standard name -> (arity, C++ expression over operands named {0}, {1}, ...)
_C = {
    "add": (2, "{0} + {1}"), "subtract": (2, "{0} - {1}"), "multiply": (2, "{0} * {1}"),
    "divide": (2, "{0} / {1}"), "negative": (1, "-{0}"), "positive": (1, "+{0}"),
    "less": (2, "{0} < {1}"), "less_equal": (2, "{0} <= {1}"), "greater": (2, "{0} > {1}"),
    "greater_equal": (2, "{0} >= {1}"), "equal": (2, "{0} == {1}"),
    "not_equal": (2, "{0} != {1}"), "logical_and": (2, "{0} && {1}"),
    "logical_or": (2, "{0} || {1}"), "logical_not": (1, "!{0}"),
    "where": (3, "{0} ? {1} : {2}"), "square": (1, "{0} * {0}"),
    # (NumPy's maximum/minimum propagate NaN; C's fmax/fmin and CUDA's max/min do not)
    "maximum": (2, "({0} > {1} || {0} != {0}) ? {0} : {1}"),
    "minimum": (2, "({0} < {1} || {0} != {0}) ? {0} : {1}"),
}
for _f in ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan",
           "tanh", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "floor",
           "ceil", "trunc"):
    _C[_f] = (1, _f + "({0})")
_C["abs"] = (1, "fabs({0})")  # (floating types only, below)
_C_TYPES = {"float64": "double", "float32": "float", "int64": "long long", "int32": "int",
            "int16": "short", "int8": "signed char", "uint8": "unsigned char",
            "uint16": "unsigned short", "uint32": "unsigned int", "uint64": "unsigned long long",
            "bool": "bool"}
_FLOAT_ONLY = frozenset(_C) - {"add", "subtract", "multiply", "negative", "positive", "where",
                               "square", "maximum", "minimum", "logical_and", "logical_or",
                               "logical_not"} - _COMPARE


def _np_dtype(d):
    if isinstance(d, np.dtype):
        return d
    inner = getattr(d, "_np_dtype", None)
    if inner is not None:
        return np.dtype(inner)
    return np.dtype(getattr(d, "name", str(d)))


def _name(step):
    if step.kind == "op":
        return _OP_NAMES.get(step.fn)
    if step.kind != "call" or step.kwargs:
        return None
    name = getattr(step.fn, "__name__", "")
    if name.startswith("cupy_"):  # (CuPy's ufuncs)
        name = name[5:]
    name = _ALIASES.get(name, name)
    return name if name in _C else None


class FusedKernel:
    """One run of elementwise steps as an expression tree.

    ``inputs``: the slots read from outside the run (arrays of the run's shape or 0-d);
    ``nodes``: ``(name, operands, compute dtype, result dtype)``, an operand being
    ``("in", k)``, ``("node", j)`` or ``("lit", number)``; ``outputs``: ``(node, slot)`` of
    the values used after the run."""

    def __init__(self, index, shape, inputs, in_dtypes, nodes, outputs):
        self.index = index
        self.shape = shape
        self.inputs = inputs
        self.in_dtypes = in_dtypes
        self.nodes = nodes
        self.outputs = outputs

    # -- C++ for cupy.ElementwiseKernel ----------------------------------------------------
    def cuda_source(self):
        """``(in_params, out_params, operation, name)``: ``cupy.ElementwiseKernel``'s
        arguments."""
        in_params = ", ".join(f"{d.name} i{k}" for k, d in enumerate(self.in_dtypes))
        out_params = ", ".join(f"{self.nodes[j][3].name} o{n}"
                               for n, (j, _slot) in enumerate(self.outputs))
        body = []
        for j, (name, operands, cdt, rdt) in enumerate(self.nodes):
            ct = _C_TYPES[cdt.name]
            ops = []
            for kind, v in operands:
                if kind == "in":
                    ops.append(f"(({ct})i{v})")
                elif kind == "node":
                    ops.append(f"(({ct})t{v})")
                else:
                    ops.append(_literal(v, cdt))
            if name == "where":  # (the condition stays bool)
                ops[0] = ops[0].replace(f"(({ct})", "((bool)", 1)
            body.append(f"{_C_TYPES[rdt.name]} t{j} = ({_C[name][1].format(*ops)});")
        for n, (j, _slot) in enumerate(self.outputs):
            body.append(f"o{n} = t{j};")
        return in_params, out_params, " ".join(body), f"xgrad_fused_{self.index}"

    def compile_cupy(self):
        """The ``cupy.ElementwiseKernel`` (CUDA devices only; untested on a real GPU)."""
        import cupy
        kernel = cupy.ElementwiseKernel(*self.cuda_source())
        if len(self.outputs) == 1:
            return kernel
        return lambda *args: tuple(kernel(*args))

    # -- the same tree on the CPU ---------------------------------------------------------------
    def emulate(self, *inputs):
        """The kernel's outputs computed node by node with the inputs' array namespace
        (one array call per node: what the kernel computes, for the CPU tests)."""
        xp = None
        for a in inputs:
            if hasattr(a, "__array_namespace__"):
                xp = a.__array_namespace__()
                break
        vals = []
        for name, operands, cdt, rdt in self.nodes:
            args = []
            for kind, v in operands:
                if kind == "in":
                    args.append(inputs[v])
                elif kind == "node":
                    args.append(vals[v])
                else:
                    args.append(v)
            vals.append(_evaluate(xp, name, args, cdt))
        outs = tuple(vals[j] for j, _slot in self.outputs)
        return outs[0] if len(outs) == 1 else outs


def _evaluate(xp, name, args, cdt):
    if any(not hasattr(a, "shape") for a in args):  # (Python numbers: the operators)
        if name in _PY_OPS:
            return _PY_OPS[name](*args)
        dt = getattr(xp, cdt.name)
        args = [a if hasattr(a, "shape") else xp.asarray(a, dtype=dt) for a in args]
    if name == "square":
        return xp.multiply(args[0], args[0]) if xp is not np else np.square(args[0])
    return getattr(xp, name)(*args)


_PY_OPS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
           "divide": operator.truediv, "less": operator.lt, "less_equal": operator.le,
           "greater": operator.gt, "greater_equal": operator.ge, "equal": operator.eq,
           "not_equal": operator.ne}


def _literal(v, dt):
    ct = _C_TYPES[dt.name]
    if type(v) is bool:
        return "true" if v else "false"
    if dt.kind == "f":
        f = float(v)
        if math.isnan(f):
            return f"(({ct})NAN)"
        if math.isinf(f):
            return f"(({ct}){'-' if f < 0 else ''}INFINITY)"
        return f"(({ct}){f!r})"
    return f"(({ct}){int(v)})"


def _result_dtype(name, operand_dtypes, literals):
    """(computation dtype, result dtype) as NumPy promotes (Python numbers weak)."""
    if name == "where":
        cdt = np.result_type(*operand_dtypes[1:], *literals)
        return cdt, cdt
    cdt = np.result_type(*operand_dtypes, *literals)
    if name in _COMPARE or name in _LOGICAL:
        return cdt, np.dtype(bool)
    if name in _FLOAT_ONLY and cdt.kind != "f":
        return None, None
    return cdt, cdt


def plan_kernels(steps, ameta, keep, last_use):
    """``{first step index: (step indices, FusedKernel)}`` for the runs of consecutive
    elementwise steps on arrays of one shape (operands of that shape, 0-d, or Python
    numbers) with at least MIN_STEPS steps."""
    plans = {}
    run, shape = [], None

    def close():
        if len(run) >= MIN_STEPS:
            k = _kernel(len(plans), steps, run, shape, ameta, keep, last_use)
            if k is not None:
                plans[run[0]] = (list(run), k)

    for i, step in enumerate(steps):
        sh = _elementwise_shape(step, ameta)
        if sh is not None and sh == shape:
            run.append(i)
            continue
        close()
        run, shape = ([i], sh) if sh is not None else ([], None)
    close()
    return plans


def _elementwise_shape(step, ameta):
    name = _name(step)
    if name is None or type(step.out) is not Ref or step.out.slot not in ameta:
        return None
    arity = _C[name][0]
    if len(step.args) != arity:
        return None
    shape, rdt = ameta[step.out.slot]
    if _np_dtype(rdt).name not in _C_TYPES:
        return None
    for a in step.args:
        if type(a) is Ref:
            m = ameta.get(a.slot)
            if m is None or (m[0] != shape and m[0] != ()) or _np_dtype(m[1]).name not in _C_TYPES:
                return None
        elif type(a) not in (bool, int, float):
            return None
    return shape


def _kernel(index, steps, run, shape, ameta, keep, last_use):
    node_of = {}
    inputs, in_dtypes, nodes = [], [], []
    for i in run:
        step = steps[i]
        name = _name(step)
        operands, dts, lits = [], [], []
        for a in step.args:
            if type(a) is Ref:
                j = node_of.get(a.slot)
                if j is not None:
                    operands.append(("node", j))
                    dts.append(nodes[j][3])
                    continue
                if a.slot not in inputs:
                    inputs.append(a.slot)
                    in_dtypes.append(_np_dtype(ameta[a.slot][1]))
                k = inputs.index(a.slot)
                operands.append(("in", k))
                dts.append(in_dtypes[k])
            else:
                operands.append(("lit", a))
                lits.append(a)
        if name == "where":
            cdt, rdt = _result_dtype(name, dts, lits[1:] if operands[0][0] == "lit" else lits)
        else:
            cdt, rdt = _result_dtype(name, dts, lits)
        if cdt is None or rdt != _np_dtype(ameta[step.out.slot][1]) or cdt.name not in _C_TYPES:
            return None  # (a promotion this generator does not model: left unfused)
        node_of[step.out.slot] = len(nodes)
        nodes.append((name, tuple(operands), cdt, rdt))
    last = run[-1]
    outputs = [(j, slot) for slot, j in node_of.items()
               if slot in keep or last_use.get(slot, -1) > last]
    if not outputs or not any(ameta[s][0] == shape for s in inputs):
        return None  # (no input of the run's shape: the kernel could not size its output)
    return FusedKernel(index, shape, inputs, in_dtypes, nodes, outputs)
