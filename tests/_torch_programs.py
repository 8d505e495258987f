"""Random PyTorch programs, run on PyTorch and on xgrad (``import xgrad as torch``).

A *program* is Python text that uses only the name ``torch``: the same text is
executed once with ``torch`` bound to PyTorch and once with it bound to
``xgrad`` (inside ``xgrad.default_device(device)``). A fixed harness then takes
a weighted sum of every tensor the program left behind, its gradient with
``autograd.grad(..., create_graph=True)`` and the gradient of a weighted sum of
that gradient, and the two runs are compared (values, shapes, dtypes,
``requires_grad``, first- and second-order gradients).

The generator builds a program statement by statement and executes each
candidate statement on PyTorch as it goes: a candidate PyTorch refuses (a shape
mismatch, an in-place write into a leaf or into an expanded tensor, a view of a
non-contiguous tensor, ...) or that produces non-finite or huge values is
dropped and the state rebuilt from the accepted statements. So every program is
a valid PyTorch program whose shapes PyTorch itself computed, and the generator
needs no shape inference of its own.

Choices come from a :class:`Chooser`: ``RandomChooser(seed)`` (a seed gives a
program; used by the command line and the long run) or ``HypothesisChooser``
(hypothesis draws every choice, so failures shrink to short programs).

Operations beyond the basic ones are generated only when xgrad has them
(``hasattr``), so the generator grows with the library, and a device can
switch features off (``EXCLUSIONS``, each with its reason, printed by the test
and listed in docs/differential.md).

Command line (triage)::

    python tests/_torch_programs.py --device strict --count 500 [--start 0] [--show]
    python tests/_torch_programs.py --device cpu --seed 123      # one program, printed
"""

from __future__ import annotations

import math
import random
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------------------------------
# Exclusions: features switched off on a device, each with its reason. A feature name is a
# tag the generator checks before it emits a statement of that kind (see FEATURES).
# Remove an entry as soon as the owning agent's fix lands (docs/differential.md tracks them).
_COMMON = {
    "std_of_equal_values": "numerical: std of equal values is exactly 0 in PyTorch (gradient "
                           "masked to 0) but rounding noise (1e-17) in NumPy's two-pass variance, "
                           "where the derivative 1/std is singular",
    "write_reshape_alias": "unspecified in PyTorch: reshape/flatten return a view or a copy "
                           "depending on the strides PyTorch's kernels produced (LAPACK results "
                           "such as cholesky/inv/solve are column-major, an elementwise result "
                           "keeps a transposed input's layout: reshape copies there; PyTorch's "
                           "docs: do not rely on it); xgrad's new results are row-major (so "
                           "also contiguous() of such a result: a copy there, itself here)",
    "inplace_self_alias": "deliberate: PyTorch's result depends on the order it walks memory "
                          "(undefined for overlapping operands); xgrad reads the operand first",
}
EXCLUSIONS: dict[str, dict[str, str]] = {
    "cpu": {
        **_COMMON,
    },
    "strict": {
        **_COMMON,
    },
    "dask": {
        **_COMMON,
        "index_bool": "boolean masks give Dask arrays of unknown size",
        "linalg": "Dask lacks det/inv/eigh/solve (DaskUnsupported by design)",
    },
}

FEATURES = {
    "inplace": "in-place methods and augmented assignment (add_, mul_, +=, copy_, zero_, ...)",
    "inplace_view": "in-place writes into a tensor that is a view of another",
    "inplace_shared": "writes (in-place or setitem) into a tensor that shares data with another "
                      "live tensor of the program (its base or another view of the same base)",
    "setitem": "x[key] = value",
    "write_reshape_alias": "writes into a reshape()/flatten() result or into the tensor it was "
                           "taken from, while both are live",
    "copy_from_0d": "y.copy_(c) with a 0-d c",
    "huber_zero_residual": "smooth_l1_loss / huber_loss where input equals target somewhere",
    "std_of_equal_values": "std over values that are all equal (its derivative is singular there)",
    "write_into_expanded": "setitem with integer-array or boolean keys into an expanded tensor "
                           "(several elements share one memory location)",
    "inplace_self_alias": "in-place writes whose operand is a view of the written tensor "
                          "(v *= v.diagonal())",
    "cosine_broadcast": "F.cosine_similarity(x, y) with y broadcast to x's shape",
    "write_into_expanded": "writes into an expanded tensor that PyTorch accepts (setitem of an "
                           "empty region, advanced-index setitem)",
    "copysign_zero": "copysign(x, y) where x has exact zeros",
    "write_detached": "writes into a detach() result or into the tensor it was detached from "
                      "(they share data)",
    "write_used_const": "in-place writes into a tensor that does not require grad after an op "
                        "read it (and may have saved it for backward)",
    "setitem_none": "x[key] = value with None (a new axis) in the key, or a write into a view "
                    "taken with None in its key",
    "diag": "torch.diag (of a matrix: a new tensor in PyTorch, not a view)",
    "masked_fill_broadcast": "x.masked_fill(mask, v) with a mask of more dims than x (the result "
                             "takes the broadcast shape)",
    "size_zero": "tensors with a size-0 dimension",
    "dims_of_0d": "dim=0 or dim=-1 on a 0-d tensor (PyTorch accepts them)",
    "copy_const": "y.copy_(c) where c does not require grad, into a y that does",
    "slice_out_of_range": "setitem keys with slices whose start or stop lie outside the dimension "
                          "(x[-5:] = v of size 2): Python/PyTorch clamp them",
    "index_int_array": "integer-array keys (getitem and setitem)",
    "index_bool": "boolean-mask keys (getitem and setitem)",
    "index_mixed": "advanced keys mixed with slices, ints, None or Ellipsis",
    "views": "basic slicing, transpose/permute/T/mT, reshape/view/flatten, (un)squeeze, "
             "expand, narrow, diagonal, split/chunk/unbind, detach",
    "linalg": "matmul, solve, inv, det, slogdet, cholesky, eigvalsh, norms, ...",
    "int_bool_operands": "integer or boolean tensors in float arithmetic",
    "torch_api": "PyTorch's functions beyond the standard (EXTRA: pointwise, scans, shape "
                 "functions, BLAS/LAPACK, nn.functional)",
    "torch_signatures": "PyTorch's argument forms: positional dim (torch.max(x, 1), cat/stack), "
                        "alpha=, dims=, shifts=, diagonal=, torch.squeeze(x) without dim",
    "zero_grad_ops": "sign, floor, round, trunc: PyTorch's outputs require grad (zero gradient)",
    "where_scalars": "torch.where(cond, scalar, scalar): PyTorch's result has the default dtype",
    "named_tuples": "results read as .values / .indices (max, min, sort, topk, cummax)",
}


def excluded(device_type: str) -> dict[str, str]:
    """The features switched off on ``device_type`` ({feature: reason})."""
    return EXCLUSIONS.get(device_type, {})


# ---------------------------------------------------------------------------------------
class Chooser:
    """Where the generator's choices come from."""

    def integers(self, lo: int, hi: int) -> int:  # inclusive
        raise NotImplementedError

    def choice(self, seq):
        return seq[self.integers(0, len(seq) - 1)]

    def boolean(self, p: float = 0.5) -> bool:
        return self.integers(0, 999) < int(p * 1000)


class RandomChooser(Chooser):
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integers(self, lo, hi):
        return self.rng.randint(lo, hi)


class HypothesisChooser(Chooser):
    def __init__(self, data):
        from hypothesis import strategies as st
        self.data, self.st = data, st

    def integers(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))


# ---------------------------------------------------------------------------------------
# Capabilities of xgrad (checked once per name).
_HAS: dict[str, bool] = {}


def xgrad_has(name: str) -> bool:
    """Whether xgrad has ``name``: ``"cumsum"`` (top level), ``"Tensor.narrow"``,
    ``"linalg.solve"``, ``"nn.functional.softmax"``, ``"special.erf"``."""
    if name not in _HAS:
        import xgrad
        obj = xgrad
        try:
            for part in name.split("."):
                obj = getattr(obj, part) if part != "Tensor" or obj is not xgrad else xgrad.Tensor
            _HAS[name] = True
        except Exception:  # noqa: BLE001 (AttributeError, or a module failing to import)
            _HAS[name] = False
    return _HAS[name]


# ---------------------------------------------------------------------------------------
MAX_NUMEL = 48        # largest tensor a program keeps (small: cheap, readable repros)
MAX_ABS = 1e4         # values above this are rejected (keeps linear algebra well conditioned)


def _lit(x: float) -> str:
    r = repr(float(x))
    return r[:-2] if r.endswith(".0") and "e" not in r else r


def _nested(values, shape) -> str:
    if len(shape) == 0:
        return _lit(values[0])
    if shape[0] == 0:
        return "[]"
    step = len(values) // shape[0] if shape[0] else 0
    return "[" + ", ".join(_nested(values[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


def _int_lit(values, shape) -> str:
    if len(shape) == 0:
        return str(values[0])
    step = len(values) // shape[0]
    return "[" + ", ".join(_int_lit(values[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


@dataclass
class Program:
    """A generated program: its statements and the harness lists."""
    lines: list[str]
    inputs: list[str]           # leaves that require grad (the gradients are taken w.r.t. them)
    outs: list[str]             # every tensor left at the end (floats go into the loss)
    features: set = field(default_factory=set)

    @property
    def body(self) -> str:
        return "\n".join(self.lines)

    def text(self) -> str:
        return self.body + "\n" + harness_text(self.inputs, self.outs)


def harness_text(inputs, outs) -> str:
    return HARNESS.format(inputs=", ".join(inputs) + ("," if len(inputs) == 1 else ""),
                          outs=", ".join(outs) + ("," if len(outs) == 1 else ""))


# The same harness runs on both libraries (it is part of the printed reproduction).
HARNESS = """\
inputs = [{inputs}]
outs = [{outs}]
def W(t, k):  # fixed weights of t's shape
    n = 1
    for s in t.shape:
        n *= s
    return torch.sin(torch.arange(n, dtype=torch.float64) * 0.7 + k).reshape(tuple(t.shape))
floats = [o for o in outs if o.dtype == torch.float64]
loss = sum((o * W(o, k)).sum() for k, o in enumerate(floats))
grads = torch.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
loss2 = sum((g * W(g, 10 + k)).sum() for k, g in enumerate(grads) if g is not None and g.requires_grad)
grads2 = (torch.autograd.grad(loss2, inputs, allow_unused=True)
          if torch.is_tensor(loss2) and loss2.requires_grad else [None] * len(inputs))
"""



def _harness_phases(inputs, outs):
    """The harness split where an error is located: forward, grad1, grad2."""
    lines = harness_text(inputs, outs).splitlines()
    return "\n".join(lines[:8]), "\n".join(lines[8:10]), "\n".join(lines[10:])


class Reject(Exception):
    """The candidate statement is not usable (PyTorch refused it, or bad values)."""


class Generator:
    """Builds one program from a :class:`Chooser`, validating each statement on PyTorch."""

    def __init__(self, chooser: Chooser, device_type: str = "cpu", *, min_len=2, max_len=9):
        import torch
        self.torch = torch
        self.ch = chooser
        self.off = set(excluded(device_type))
        self.lines: list[str] = []
        self.inputs: list[str] = []
        self.names: list[str] = []
        self.features: set = set()
        self.ns = {"torch": torch}
        self.origin: dict[str, str] = {}  # name -> the expression that made it
        self.counter = 0
        self.min_len, self.max_len = min_len, max_len

    # -- helpers -------------------------------------------------------------------------
    def on(self, feature: str) -> bool:
        return feature not in self.off

    def fresh(self, prefix="v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def val(self, name):
        return self.ns[name]

    def shape(self, name) -> tuple:
        return tuple(self.ns[name].shape)

    def floats(self) -> list[str]:
        t = self.torch
        return [n for n in self.names if isinstance(self.ns.get(n), t.Tensor)
                and self.ns[n].dtype == t.float64]

    def pick(self, names=None):
        names = self.floats() if names is None else names
        if not names:
            raise Reject("no operand")
        # favour recent variables: programs become chains rather than bags of inputs
        if len(names) > 1 and self.ch.boolean(0.5):
            return names[-1 - self.ch.integers(0, min(2, len(names) - 1))]
        return self.ch.choice(names)

    def scalar(self) -> str:
        return self.ch.choice(["2.0", "0.5", "-1.5", "3.0", "-0.25", "1.0", "0.0"])

    def draw_shape(self, max_ndim=3) -> tuple:
        nd = self.ch.choice([0, 1, 1, 2, 2, 2, 3, 3][:max_ndim * 2 + 2])
        shape = []
        for _ in range(nd):
            zero = self.ch.boolean(0.03) and self.on("size_zero")
            if zero:
                self.features.add("size_zero")
            shape.append(0 if zero else self.ch.integers(1, 4))
            if math.prod(shape) > 24:
                shape[-1] = 1
        return tuple(shape)

    def values(self, n) -> list[float]:
        # distinct two-decimal values in [-2, 2] without 0: no ties, no kinks, exact literals
        rng = np.random.default_rng(self.ch.integers(0, 2**31 - 1))
        grid = [v for v in range(-200, 201) if v != 0]
        return [v / 100 for v in rng.choice(grid, size=n, replace=False)]

    def tensor_text(self, shape, requires_grad) -> str:
        vals = self.values(math.prod(shape))
        text = f"torch.tensor({_nested(vals, shape)}, dtype=torch.float64"
        if math.prod(shape) == 0:  # an empty literal has no shape: reshape it
            text = f"torch.zeros({tuple(shape)}, dtype=torch.float64"
        return text + (", requires_grad=True)" if requires_grad else ")")

    def new_input(self, shape, requires_grad=True) -> str:
        name = self.fresh("x" if requires_grad else "c")
        self.emit(f"{name} = {self.tensor_text(shape, requires_grad)}", name)
        if requires_grad:
            self.inputs.append(name)
        return name

    def broadcastable_to(self, shape) -> tuple:
        """A random shape that broadcasts to ``shape`` (a suffix, some dims set to 1)."""
        k = self.ch.integers(0, len(shape))
        return tuple(1 if self.ch.boolean(0.3) else s for s in shape[len(shape) - k:])

    def operand_for(self, shape, *, allow_scalar=True) -> str:
        """An operand broadcastable to ``shape``: an existing tensor, a new input, a scalar."""
        r = self.ch.integers(0, 9)
        if allow_scalar and r <= 1:
            return self.scalar()
        if r <= 5:
            cands = [n for n in self.floats() if _broadcasts(self.shape(n), shape)]
            if cands:
                return self.pick(cands)
        return self.new_input(self.broadcastable_to(shape), requires_grad=self.ch.boolean(0.8))

    # -- statements ----------------------------------------------------------------------
    def emit(self, line: str, new: str | None = None):
        """Run ``line`` on PyTorch; keep it if PyTorch accepts it and the values are sane."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(line, self.ns)
            self.check_values()
            if new is not None and isinstance(self.ns[new], self.torch.Tensor) and \
                    self.ns[new].numel() == 0:
                if not self.on("size_zero"):
                    raise Reject("size_zero is off")
                self.features.add("size_zero")
        except Exception as e:  # noqa: BLE001
            self.rebuild()
            raise Reject(f"{line}: {e}") from None
        self.lines.append(line)
        if new is not None:
            self.names.append(new)

    def check_values(self):
        t = self.torch
        for v in self.ns.values():
            if isinstance(v, t.Tensor) and v.dtype == t.float64:
                if v.numel() > MAX_NUMEL:
                    raise Reject("too large")
                if v.numel() and not bool(t.isfinite(v).all() and v.abs().max() <= MAX_ABS):
                    raise Reject("values out of range")

    def rebuild(self):
        """Re-run the accepted statements: undoes a rejected candidate's partial writes.

        Only the longest prefix that PyTorch runs from scratch is kept. The checks between
        statements read every tensor, and reading a view refreshes its grad_fn in PyTorch:
        a statement accepted that way may raise when the program runs without them
        (``v3 = v2.view(-1)`` of a ``detach()`` that a later write put on the graph:
        ``v3.mul_(2)`` raises the leaf error unless something looked at ``v3`` first; cpu
        long run, seeds 3001431 and 3004035)."""
        while True:
            self.ns = {"torch": self.torch}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i, line in enumerate(self.lines):
                    try:
                        exec(line, self.ns)
                    except Exception:  # noqa: BLE001
                        del self.lines[i:]
                        break
                else:
                    break
        # inputs created by a rejected statement's helpers are gone
        self.names = [n for n in self.names if n in self.ns]
        self.inputs = [n for n in self.inputs if n in self.ns]

    def assign(self, expr: str, feature=None):
        name = self.fresh()
        self.emit(f"{name} = {expr}", name)
        self.origin[name] = expr
        if "std(" in expr or "std_mean(" in expr:
            value = self.ns[name]
            value = value[0] if isinstance(value, tuple) else value
            if bool((value == 0).any()):  # the std of equal values: a singular derivative
                if not self.on("std_of_equal_values"):
                    self.lines.pop()
                    self.names.remove(name)
                    self.rebuild()
                    raise Reject("std_of_equal_values is off")
                self.features.add("std_of_equal_values")
        if feature:
            self.features.add(feature)
        return name

    def build(self) -> Program:
        # one or two inputs to start with
        for _ in range(self.ch.integers(1, 2)):
            self.new_input(self.draw_shape())
        target = self.ch.integers(self.min_len, self.max_len)
        attempts = 0
        while len(self.lines) < target + len(self.inputs) and attempts < 60:
            attempts += 1
            kind = self.ch.choice(STATEMENT_KINDS)
            gen = STATEMENTS[kind]
            try:
                gen(self)
            except Reject:
                continue
        self.rebuild()  # (the program as it will run: from scratch, without the checks)
        outs = [n for n in self.names if isinstance(self.ns.get(n), self.torch.Tensor)]
        return Program(list(self.lines), list(self.inputs), outs, set(self.features))


def _broadcasts(src, dst) -> bool:
    if len(src) > len(dst):
        return False
    return all(a == b or a == 1 for a, b in zip(src[::-1], dst[::-1]))


# ---------------------------------------------------------------------------------------
# statement generators: each takes the Generator, emits statements or raises Reject
def _need(g: Generator, *names):
    """xgrad must have each name; an ``@tag`` is a feature that must be on for the device."""
    for n in names:
        if n.startswith("@"):
            if not g.on(n[1:]):
                raise Reject(f"{n[1:]} is off")
            g.features.add(n[1:])
        elif not xgrad_has(n):
            raise Reject(f"xgrad has no {n}")


def _dim(g, nd):
    if nd:
        return g.ch.integers(-nd, nd - 1)
    _need(g, "@dims_of_0d")
    return g.ch.choice([0, -1])


UNARY = [
    ("torch.exp({a} * 0.5)", ["exp"]), ("{a}.sin()", ["Tensor.sin"]), ("torch.cos({a})", ["cos"]),
    ("torch.tanh({a})", ["tanh"]), ("torch.sigmoid({a})", ["sigmoid"]), ("{a}.abs()", ["Tensor.abs"]),
    ("torch.abs({a})", ["abs"]), ("-{a}", []), ("torch.neg({a})", ["neg"]),
    ("torch.square({a})", ["square"]), ("{a} ** 2", []), ("{a}.pow(3)", ["Tensor.pow"]),
    ("torch.log({a} * {a} + 1)", ["log"]), ("torch.sqrt({a} * {a} + 1)", ["sqrt"]),
    ("torch.rsqrt({a} * {a} + 1)", ["rsqrt"]), ("torch.reciprocal({a} * {a} + 0.5)", ["reciprocal"]),
    ("torch.log1p({a} * {a})", ["log1p"]), ("torch.expm1({a})", ["expm1"]),
    ("torch.sinh({a})", ["sinh"]), ("torch.cosh({a})", ["cosh"]), ("torch.atan({a})", ["atan"]),
    ("torch.asin(torch.tanh({a}) * 0.9)", ["asin"]), ("torch.acos(torch.tanh({a}) * 0.9)", ["acos"]),
    ("torch.atanh(torch.tanh({a}) * 0.9)", ["atanh"]), ("torch.asinh({a})", ["asinh"]),
    ("torch.acosh({a} * {a} + 1.5)", ["acosh"]), ("torch.relu({a})", ["relu"]),
    ("torch.sign({a})", ["sign", "@zero_grad_ops"]), ("torch.floor({a})", ["floor", "@zero_grad_ops"]),
    ("torch.round({a})", ["round", "@zero_grad_ops"]),
    ("torch.clamp({a}, -0.5, 0.7)", ["clamp"]), ("{a}.clamp(min=0.1)", ["Tensor.clamp"]),
    ("torch.clip({a}, max=0.3)", ["clip"]), ("torch.erf({a})", ["erf"]),
    ("torch.exp2({a})", ["exp2"]), ("torch.special.erf({a})", ["special.erf"]),
    ("torch.nn.functional.softplus({a})", ["nn.functional.softplus"]),
    ("torch.nn.functional.gelu({a})", ["nn.functional.gelu"]),
    ("torch.nn.functional.elu({a})", ["nn.functional.elu"]),
    ("torch.nn.functional.silu({a})", ["nn.functional.silu"]),
    ("{a}.clone()", ["Tensor.clone"]), ("torch.trunc({a})", ["trunc", "@zero_grad_ops"]),
]


def st_unary(g):
    tmpl, needs = g.ch.choice(UNARY)
    _need(g, *needs)
    g.assign(tmpl.format(a=g.pick()))


BINARY = [
    ("{a} + {b}", []), ("{a} - {b}", []), ("{a} * {b}", []), ("{a} / ({b} * {b} + 1)", []),
    ("{b} - {a}", []), ("torch.add({a}, {b}, alpha=2)", ["add", "@torch_signatures"]), ("{a}.mul({b})", ["Tensor.mul"]),
    ("torch.maximum({a}, {b})", ["maximum"]), ("torch.minimum({a}, {b})", ["minimum"]),
    ("torch.atan2({a}, {b} * {b} + 0.5)", ["atan2"]), ("torch.pow({a} * {a} + 1, {b})", ["pow"]),
    ("torch.hypot({a}, {b})", ["hypot"]), ("torch.logaddexp({a}, {b})", ["logaddexp"]),
    ("torch.where({a} > 0, {a}, {b})", ["where"]), ("torch.where({a} > {b}, {b}, 0.5)", ["where"]),
    ("{a}.masked_fill({a} < {b}, 0.25)", ["Tensor.masked_fill"]),
    ("torch.lerp({a}, {b}, 0.3)", ["lerp"]), ("torch.copysign({a}, {b})", ["copysign"]),
]


def st_binary(g):
    tmpl, needs = g.ch.choice(BINARY)
    _need(g, *needs)
    a = g.pick()
    scalar_ok = "torch." not in tmpl or "where" in tmpl
    b = g.operand_for(g.shape(a), allow_scalar=scalar_ok and "{b} *" not in tmpl)
    if g.ch.boolean(0.3):
        a, b = b, a
        if not b.startswith(("x", "v", "c")):  # a scalar cannot come first in most templates
            a, b = b, a
    if tmpl.count("{b}") == 2 and "where" in tmpl and b not in g.ns:
        _need(g, "@where_scalars")
    if "copysign" in tmpl and a in g.ns and bool((g.val(a) == 0).any()):
        _need(g, "@copysign_zero")
    if "masked_fill" in tmpl and a in g.ns and b in g.ns and not _broadcasts(g.shape(b), g.shape(a)):
        _need(g, "@masked_fill_broadcast")
    g.assign(tmpl.format(a=a, b=b))


def st_int_operand(g):
    """Integer and boolean tensors in float arithmetic (PyTorch promotes)."""
    if not g.on("int_bool_operands"):
        raise Reject("off")
    a = g.pick()
    form = g.ch.integers(0, 3)
    if form == 0:
        g.assign(f"{a} * ({a} > 0)")
    elif form == 1:
        g.assign(f"{a} + torch.arange({g.shape(a)[-1] if g.shape(a) else 1})")
    elif form == 2:
        g.assign(f"({a} > 0.3) + {a}")
    else:
        g.assign(f"{a} / torch.tensor(2)")
    g.features.add("int_bool_operands")


REDUCTIONS = [
    ("torch.sum({a}{dims})", ["sum"], True), ("{a}.sum({dims0})", ["Tensor.sum"], True),
    ("torch.mean({a}{dims})", ["mean"], True), ("{a}.prod({dim0})", ["Tensor.prod"], False),
    ("torch.amax({a}{dims})", ["amax"], True), ("{a}.amin({dims0})", ["Tensor.amin"], True),
    ("torch.std({a}{dims})", ["std"], True), ("{a}.var({dims0})", ["Tensor.var"], True),
    ("torch.logsumexp({a}{dims})", ["logsumexp"], True),
    ("torch.linalg.vector_norm({a}, ord={ord}{dims})", ["linalg.vector_norm"], True),
    ("{a}.norm(dim={dimv})", ["Tensor.norm"], False),
    ("torch.max({a}, {dimv}{kd})[0]", ["max", "@torch_signatures"], False),
    ("torch.min({a}, dim={dimv}{kd}).values", ["min", "@named_tuples"], False),
    ("{a}.max(dim={dimv}{kd}).indices", ["Tensor.max", "@named_tuples"], False),
    ("torch.argmax({a}, dim={dimv}{kd})", ["argmax"], False),
    ("{a}.max()", ["Tensor.max"], False), ("torch.sum({a})", ["sum"], False),
    ("torch.cumsum({a}, {dimv})", ["cumsum"], False), ("{a}.cumprod({dimv})", ["Tensor.cumprod"], False),
    ("torch.softmax({a}, {dimv})", ["softmax"], False),
    ("torch.nn.functional.log_softmax({a}, dim={dimv})", ["nn.functional.log_softmax"], False),
    ("{a}.softmax(dim={dimv})", ["Tensor.softmax"], False),
    ("torch.logcumsumexp({a}, {dimv})", ["logcumsumexp"], False),
    ("torch.cummax({a}, {dimv}).values", ["cummax", "@named_tuples"], False),
    ("torch.any({a} > 0.5, dim={dimv})", ["any"], False),
    ("torch.count_nonzero({a} > 0)", ["count_nonzero"], False),
]


def st_reduction(g):
    tmpl, needs, multi = g.ch.choice(REDUCTIONS)
    _need(g, *needs)
    a = g.pick()
    nd = len(g.shape(a))
    dimv = _dim(g, nd)
    if multi and nd >= 2 and g.ch.boolean(0.4):
        k = g.ch.integers(1, nd)
        pool = list(range(nd))
        dims = tuple(sorted(pool.pop(g.ch.integers(0, len(pool) - 1)) for _ in range(k)))
        dimtext = str(dims)
    else:
        dimtext = str(dimv)
    kd = ", keepdim=True" if g.ch.boolean(0.3) else ""
    if not multi or g.ch.boolean(0.85) or "logsumexp" in tmpl:
        dims_kw = f", dim={dimtext}{kd}"
        dims0 = f"{dimtext}{kd}"
    else:
        dims_kw = dims0 = ""
    ordv = g.ch.choice(["2", "1", "3", "float('inf')"])
    g.assign(tmpl.format(a=a, dims=dims_kw, dims0=dims0, dim0=dimv, dimv=dimv, kd=kd, ord=ordv))


# -- views ------------------------------------------------------------------------------
def _factor_shape(g, n) -> tuple:
    """A random shape with ``n`` elements (up to 3 dims)."""
    if n == 0:
        _need(g, "@size_zero")
        return g.ch.choice([(0,), (0, 2), (2, 0)])
    dims = []
    rest = n
    for _ in range(g.ch.integers(0, 2)):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = g.ch.choice(divs)
        dims.append(d)
        rest //= d
    dims.append(rest)
    if g.ch.boolean(0.2):
        dims.insert(g.ch.integers(0, len(dims)), 1)
    return tuple(dims)


def basic_key(g, shape, for_write=False) -> str:
    parts = []
    nd = len(shape)
    i = 0
    used_ellipsis = False
    while i < nd:
        r = g.ch.integers(0, 9)
        n = shape[i]
        if r == 0 and not used_ellipsis and i > 0:
            parts.append("...")
            used_ellipsis = True
            i = nd - g.ch.integers(0, nd - i)
            continue
        if r == 1:
            if for_write:
                _need(g, "@setitem_none")
            parts.append("None")
            continue
        if r <= 3 and n > 0:
            parts.append(str(g.ch.integers(-n, n - 1)))
        elif r <= 5:
            lo = g.ch.integers(-n - 1, n)
            hi = g.ch.choice(["", str(g.ch.integers(-n, n + 1))])
            if for_write and (not -n <= lo < n or hi and not -n <= int(hi) <= n):
                _need(g, "@slice_out_of_range")
            parts.append(f"{lo}:{hi}")
        elif r <= 7:
            step = g.ch.integers(1, 3)
            start = g.ch.choice(["", "1", "-2"])
            if for_write and start and not -n <= int(start) < n:
                _need(g, "@slice_out_of_range")
            parts.append(f"{start}::{step}")
        else:
            parts.append(":")
        i += 1
    if not parts:
        parts = [g.ch.choice(["...", "None", ":"] if nd else ["...", "None", "()"])]
        if parts == ["None"] and for_write:
            _need(g, "@setitem_none")
    if parts == ["()"]:
        return "()"
    return ", ".join(parts)


def _key_features(key: str) -> set:
    return {f for f in text_features([f"t[{key}]"]) if f.startswith("index")}


def st_view(g):
    if not g.on("views"):
        raise Reject("off")
    a = g.pick()
    shape = g.shape(a)
    nd = len(shape)
    r = g.ch.integers(0, 16)
    if r <= 3:
        expr = f"{a}[{basic_key(g, shape)}]"
    elif r == 4:
        expr = g.ch.choice([f"{a}.T", f"{a}.t()"]) if nd <= 2 else f"{a}.mT"
    elif r == 5:
        if nd < 2:
            raise Reject("transpose")
        expr = g.ch.choice([f"{a}.transpose({_dim(g, nd)}, {_dim(g, nd)})", f"{a}.mT"])
    elif r == 6:
        perm = list(range(nd))
        for i in range(nd - 1, 0, -1):
            j = g.ch.integers(0, i)
            perm[i], perm[j] = perm[j], perm[i]
        expr = f"{a}.permute({', '.join(map(str, perm))})" if nd else f"{a}.permute()"
    elif r == 7:
        new = _factor_shape(g, math.prod(shape))
        if g.ch.boolean(0.3) and new:
            new = list(new)
            new[g.ch.integers(0, len(new) - 1)] = -1 if math.prod(shape) else new[0]
            new = tuple(new)
        meth = g.ch.choice(["reshape", "view", "reshape"])
        _need(g, f"Tensor.{meth}")
        expr = f"{a}.{meth}{tuple(new) if len(new) != 1 else '(' + str(new[0]) + ')'}"
    elif r == 8:
        expr = g.ch.choice([f"{a}.flatten()", f"{a}.view(-1)", f"torch.flatten({a})"])
    elif r == 9:
        expr = f"{a}.unsqueeze({g.ch.integers(-nd - 1, nd)})"
    elif r == 10:
        expr = g.ch.choice([f"{a}.squeeze()", f"{a}.squeeze({_dim(g, nd)})", f"torch.squeeze({a})"])
        if "torch.squeeze" in expr:
            _need(g, "@torch_signatures")
    elif r == 11:
        new = tuple(g.ch.integers(2, 3) if s == 1 else s for s in shape)
        if g.ch.boolean(0.5):
            new = (g.ch.integers(1, 2),) + new
        expr = f"{a}.expand{new if len(new) != 1 else '(' + str(new[0]) + ')'}" if new else f"{a}.expand(())"
    elif r == 12:
        _need(g, "Tensor.narrow")
        if not nd:
            raise Reject("narrow")
        d = _dim(g, nd)
        n = shape[d]
        start = g.ch.integers(0, n)
        expr = f"{a}.narrow({d}, {start}, {g.ch.integers(0, n - start)})"
    elif r == 13:
        _need(g, "Tensor.diagonal")
        if nd < 2:
            raise Reject("diagonal")
        expr = g.ch.choice([f"{a}.diagonal()", f"{a}.diagonal({g.ch.integers(-1, 1)})",
                            f"torch.diagonal({a}, 0, {_dim(g, nd)}, {_dim(g, nd)})"])
        if "torch.diagonal" in expr:
            _need(g, "diagonal")
    elif r == 14:
        if not nd:
            raise Reject("split")
        d = _dim(g, nd)
        which = g.ch.integers(0, 1)
        form = g.ch.integers(0, 2)
        if form == 0:
            _need(g, "split")
            expr = f"torch.split({a}, {g.ch.integers(1, 2)}, {d})[{which}]"
        elif form == 1:
            _need(g, "Tensor.chunk")
            expr = f"{a}.chunk(2, {d})[{which}]"
        else:
            _need(g, "Tensor.unbind")
            expr = f"{a}.unbind({d})[{-which}]"
    elif r == 15:
        expr = f"{a}.detach()"
    else:
        expr = f"{a}.contiguous()"
    g.assign(expr, "views")


# -- indexing ---------------------------------------------------------------------------
def _int_array(g, n, length, distinct) -> str:
    if n == 0:
        raise Reject("empty dim")
    if distinct:
        length = min(length, n)
        vals = list(range(n))
        chosen = []
        for _ in range(length):
            chosen.append(vals.pop(g.ch.integers(0, len(vals) - 1)))
    else:
        chosen = [g.ch.integers(0, n - 1) for _ in range(length)]
    chosen = [v - n if g.ch.boolean(0.2) else v for v in chosen]
    if g.ch.boolean(0.15):
        return str(chosen)  # a Python list key
    return f"torch.tensor({chosen})"


def advanced_key(g, a, shape, *, for_write) -> tuple[str, set]:
    """A key with integer arrays and/or boolean masks, possibly mixed with basic parts."""
    nd = len(shape)
    feats = set()
    r = g.ch.integers(0, 5)
    if r == 0 or nd == 0:
        # a boolean mask over the leading dims, from the tensor's own values or another one
        if not g.on("index_bool"):
            raise Reject("off")
        feats.add("index_bool")
        k = g.ch.integers(1, nd) if nd else 0
        sub = "" if k == nd else "[" + ", ".join(["..."] + ["0"] * (nd - k)) + "]"
        src = a
        cands = [n for n in g.floats() if g.shape(n)[:k] == shape[:k] and len(g.shape(n)) >= k]
        if cands and g.ch.boolean(0.5):
            src = g.pick(cands)
            sub = "" if len(g.shape(src)) == k else "[" + ", ".join(["..."] + ["0"] * (len(g.shape(src)) - k)) + "]"
        key = f"{src}{sub} > {g.ch.choice(['0', '0.5', '-0.3'])}"
        if g.ch.boolean(0.3) and k < nd:
            key = key + ", " + g.ch.choice([":", "0", "::2"])
            feats.add("index_mixed")
        return key, feats
    if r == 1:
        # a 1-d boolean list-tensor on one dim
        if not g.on("index_bool") or shape[0] == 0:
            raise Reject("off")
        feats.add("index_bool")
        bools = [g.ch.boolean() for _ in range(shape[0])]
        key = f"torch.tensor({bools})"
        if nd > 1 and g.ch.boolean(0.4):
            key += ", " + g.ch.choice(["1:", "0", "None", "..."]).replace("0", str(g.ch.integers(0, shape[1] - 1)) if shape[1] else ":")
            feats.add("index_mixed")
        return key, feats
    if not g.on("index_int_array"):
        raise Reject("off")
    feats.add("index_int_array")
    length = g.ch.integers(1, 3)
    # which dims get an integer array, the others a basic part
    adv = [i for i in range(nd) if g.ch.boolean(0.5)] or [g.ch.integers(0, nd - 1)]
    parts = []
    two_d = g.ch.boolean(0.15) and not for_write
    for i in range(nd if g.ch.boolean(0.6) else max(adv) + 1):
        if i in adv:
            arr = _int_array(g, shape[i], length, distinct=for_write)
            if two_d and arr.startswith("torch.tensor(["):
                arr = f"{arr}.reshape(-1, 1)"
            parts.append(arr)
        else:
            feats.add("index_mixed")
            n = shape[i]
            parts.append(g.ch.choice([":", "1:", "::2", str(g.ch.integers(0, n - 1)) if n else ":"]))
    if g.ch.boolean(0.15):
        extra = g.ch.choice(["None", "..."])
        if extra == "None" and for_write:
            _need(g, "@setitem_none")
        parts.insert(g.ch.integers(0, len(parts)), extra)
        feats.add("index_mixed")
    if for_write and len(adv) > 1:
        # several arrays broadcast together: duplicated positions would make the write ambiguous
        pass
    return ", ".join(parts), feats


def st_getitem(g):
    a = g.pick()
    key, feats = advanced_key(g, a, g.shape(a), for_write=False)
    g.assign(f"{a}[{key}]")
    g.features |= feats


def _write_features(g, a) -> set:
    """Features of a write into ``a``: into a view, into a tensor other views look at."""
    import re
    t = g.val(a)
    feats = set()
    if not t.requires_grad and any(re.search(rf"\b{a}\b", ln) and not re.match(rf"{a}(\[| =|\.)", ln)
                                   for ln in g.lines):
        feats.add("write_used_const")  # a constant already read by an op that may have saved it
    # reshape/flatten may return a view or a copy, and PyTorch says not to rely on which
    # (its choice follows the strides its kernels happened to produce)
    reshaped = re.compile(r"^(\w+)\.(reshape|flatten)\(|^torch\.flatten\((\w+)\)")
    for n, expr in g.origin.items():
        m = reshaped.match(expr)
        if m and n in g.ns and (n == a or a in (m.group(1), m.group(3))):
            feats.add("write_reshape_alias")
    # likewise contiguous() of a new result whose layout PyTorch's kernel chose (a LAPACK
    # result is column-major there: a copy; xgrad's new results are row-major: itself)
    contig = re.compile(r"^(\w+)\.contiguous\(\)")
    for n, expr in g.origin.items():
        m = contig.match(expr)
        if m and n in g.ns and a in (n, m.group(1)) and isinstance(g.ns.get(m.group(1)), g.torch.Tensor):
            src = g.ns[m.group(1)]
            if src._base is None and not src.is_contiguous():
                feats.add("write_reshape_alias")
    if 0 in t.stride():
        feats.add("write_into_expanded")
    if t._base is not None:
        feats.add("inplace_view")
    # shared data: views of the same base, the base itself, detach() results (PyTorch's
    # storage tells, whatever made the alias)
    storage = t.untyped_storage().data_ptr()
    group = [n for n in g.names if isinstance(g.ns.get(n), g.torch.Tensor) and storage != 0
             and g.ns[n].untyped_storage().data_ptr() == storage]
    if len(group) > 1:
        detached = any(g.origin.get(n, "").endswith(".detach()") for n in group)
        feats.add("write_detached" if detached else "inplace_shared")
        if any(re.search(r"\[[^\]]*None", g.origin.get(n, "")) for n in group):
            feats.add("setitem_none")  # the written view was taken with a None in its key
    for f in feats:
        if not g.on(f):
            raise Reject(f"{f} is off")
    return feats


def _shares(g, a, b) -> bool:
    """Whether tensors ``a`` and ``b`` share data (PyTorch's storage tells)."""
    pa, pb = g.val(a).untyped_storage().data_ptr(), g.val(b).untyped_storage().data_ptr()
    return pa == pb and pa != 0


def _writable(g):
    """A tensor that is not a leaf requiring grad (PyTorch decides, as statements run)."""
    out = []
    for n in g.floats():
        try:
            t = g.val(n)
            if not (t.is_leaf and t.requires_grad):
                out.append(n)
        except RuntimeError:  # an output of split/unbind whose base was written: PyTorch
            pass              # refuses even to read its autograd metadata
    return out


def st_setitem(g):
    if not g.on("setitem"):
        raise Reject("off")
    cands = _writable(g)
    if not cands:
        # make something writable: a clone, or a constant buffer
        if g.ch.boolean(0.6):
            g.assign(f"{g.pick()}.clone()")
        else:
            shape = g.draw_shape()
            g.assign(f"torch.zeros({shape}, dtype=torch.float64)")
        cands = _writable(g)
    a = g.pick(cands)
    feats = {"setitem"} | _write_features(g, a)
    shape = g.shape(a)
    if g.ch.boolean(0.5) or not shape:
        key = basic_key(g, shape, for_write=True)
    else:
        key, more = advanced_key(g, a, shape, for_write=True)
        feats |= more
    if 0 in g.val(a).stride() and ("index_int_array" in feats or "index_bool" in feats):
        _need(g, "@write_into_expanded")
    try:
        target_shape = tuple(eval(f"{a}[{key}]", g.ns).shape)
    except Exception:  # noqa: BLE001
        raise Reject("key") from None
    value = g.operand_for(target_shape)
    if value in g.ns and _shares(g, a, value):
        _need(g, "@inplace_self_alias")
    if value in g.names and g.ch.boolean(0.3):
        value = f"{value} * 2"
    g.emit(f"{a}[{key}] = {value}")
    g.features |= feats


INPLACE = [
    ("{a}.add_({b})", ["Tensor.add_"]), ("{a}.add_({b}, alpha=-2)", ["Tensor.add_"]),
    ("{a}.sub_({b})", ["Tensor.sub_"]), ("{a}.mul_({b})", ["Tensor.mul_"]),
    ("{a}.mul_({s})", ["Tensor.mul_"]), ("{a}.div_({s})", ["Tensor.div_"]),
    ("{a} += {b}", []), ("{a} -= {b}", []), ("{a} *= {b}", []), ("{a} /= 4", []),
    ("{a}.copy_({b})", ["Tensor.copy_"]), ("{a}.zero_()", ["Tensor.zero_"]),
    ("{a}.fill_({s})", ["Tensor.fill_"]), ("{a}.clamp_(-0.5, 0.5)", ["Tensor.clamp_"]),
    ("{a}.clamp_(min=0.2)", ["Tensor.clamp_"]), ("{a}.neg_()", ["Tensor.neg_"]),
    ("{a}.abs_()", ["Tensor.abs_"]), ("{a}.tanh_()", ["Tensor.tanh_"]),
    ("{a}.sigmoid_()", ["Tensor.sigmoid_"]), ("{a}.pow_(2)", ["Tensor.pow_"]),
    ("{a}.exp_()", ["Tensor.exp_"]), ("{a}.sin_()", ["Tensor.sin_"]),
    ("{a}.masked_fill_({a} > {s}, -0.5)", ["Tensor.masked_fill_"]),
    ("{a}.relu_()", ["Tensor.relu_"]), ("{a}.sqrt_()", ["Tensor.sqrt_"]),
]


def st_inplace(g):
    if not g.on("inplace"):
        raise Reject("off")
    tmpl, needs = g.ch.choice(INPLACE)
    _need(g, *needs)
    cands = _writable(g)
    if not cands:
        g.assign(f"{g.pick()}.clone()" if g.ch.boolean(0.7) else f"{g.pick()} * 1.5")
        cands = _writable(g)
    a = g.pick(cands)
    feats = {"inplace"} | _write_features(g, a)
    b = g.operand_for(g.shape(a)) if "{b}" in tmpl else ""
    if b in g.ns and b != a and _shares(g, a, b):
        _need(g, "@inplace_self_alias")
    if "copy_" in tmpl and not (b in g.ns and g.val(b).requires_grad):
        _need(g, "@copy_const")
    if "copy_" in tmpl and b in g.ns and g.val(b).ndim == 0:
        _need(g, "@copy_from_0d")
    if "sqrt_" in tmpl:
        g.emit(f"{a}.abs_()")
    g.emit(tmpl.format(a=a, b=b, s=g.scalar()))
    g.features |= feats


# -- linear algebra ---------------------------------------------------------------------
MAX_MATRIX_ABS = 20.0  # entries of a matrix operand: A A^T + I stays conditioned below ~1e4


def _check_conditioning(g, a):
    """Reject a matrix operand whose entries would make ``A A^T + I`` ill-conditioned
    (the values a program keeps go up to MAX_ABS = 1e4: pinv of such a product differs
    between PyTorch's own pinv and inv at 1e-4, cpu long run seed 1004769)."""
    v = g.val(a)
    if v.numel() and float(v.detach().abs().max()) > MAX_MATRIX_ABS:
        raise Reject("matrix entries too large for a well-conditioned operand")


def _square(g, a) -> str:
    """A well-conditioned square matrix (batch) expression built from ``a``."""
    shape = g.shape(a)
    if len(shape) < 2:
        raise Reject("needs a matrix")
    n = shape[-2]
    _check_conditioning(g, a)
    if g.ch.boolean(0.5):
        return f"({a} @ {a}.mT + torch.eye({n}, dtype=torch.float64))"  # SPD, eigenvalues >= 1
    if shape[-1] != n:
        raise Reject("not square")
    return f"({a} + 4 * torch.eye({n}, dtype=torch.float64))"


def st_linalg(g):
    if not g.on("linalg"):
        raise Reject("off")
    a = g.pick()
    shape = g.shape(a)
    nd = len(shape)
    r = g.ch.integers(0, 13)
    if r <= 2:  # matmul with a compatible operand
        if nd == 0:
            raise Reject("0-d")
        k = shape[-1]
        other_shape = g.ch.choice([(k,), (k, g.ch.integers(1, 3)),
                                   shape[:-2] + (k, g.ch.integers(1, 3)) if nd >= 2 else (k, 2)])
        b = g.operand_for(other_shape, allow_scalar=False) if g.ch.boolean(0.3) else g.new_input(other_shape)
        if g.shape(b) != tuple(other_shape) and len(g.shape(b)) < 1:
            raise Reject("matmul operand")
        form = g.ch.choice(["{a} @ {b}", "torch.matmul({a}, {b})", "{a}.matmul({b})"])
        g.assign(form.format(a=a, b=b), "linalg")
        return
    if r == 3:
        _need(g, "linalg.det")
        g.assign(f"torch.linalg.det({_square(g, a)})", "linalg")
    elif r == 4:
        _need(g, "linalg.inv")
        g.assign(f"torch.linalg.inv({_square(g, a)})", "linalg")
    elif r == 5:
        _need(g, "linalg.solve")
        m = _square(g, a)
        n = shape[-2]
        rhs = g.ch.choice([(n,), (n, g.ch.integers(1, 2)), shape[:-2] + (n, 2)])
        b = g.new_input(rhs)
        g.assign(f"torch.linalg.solve({m}, {b})", "linalg")
    elif r == 6:
        _need(g, "linalg.slogdet")
        g.assign(f"torch.linalg.slogdet({_square(g, a)})[1]", "linalg")
    elif r == 7:
        _need(g, "linalg.cholesky")
        if len(shape) < 2:
            raise Reject("matrix")
        _check_conditioning(g, a)
        g.assign(f"torch.linalg.cholesky({a} @ {a}.mT + torch.eye({shape[-2]}, dtype=torch.float64))",
                 "linalg")
    elif r == 8:
        _need(g, "linalg.eigvalsh")
        if len(shape) < 2:
            raise Reject("matrix")
        _check_conditioning(g, a)
        # (+ I: a rank-deficient A A^T has eigenvalues at rounding noise around 0, whose sign
        # differs between LAPACK builds, and a later `v > 0` would differ for no bug)
        g.assign(f"torch.linalg.eigvalsh({a} @ {a}.mT + torch.eye({shape[-2]}, dtype=torch.float64))",
                 "linalg")
    elif r == 9:
        _need(g, "linalg.matrix_norm")
        if len(shape) < 2:
            raise Reject("matrix")
        ordt = g.ch.choice(["", ", ord=1", ", ord=float('inf')"])
        g.assign(f"torch.linalg.matrix_norm({a}{ordt})",
                 "linalg")
    elif r == 10:
        _need(g, "linalg.norm")
        g.assign(f"torch.linalg.norm({a})", "linalg")
    elif r == 11:
        if nd == 0:
            raise Reject("0-d")
        forms = [("torch.outer({a}, {a}.flatten())", ["outer"]) if nd == 1 else
                 ("torch.trace({a})", ["trace"]),
                 ("torch.einsum('...i,...i->...', {a}, {a})", ["einsum"]),
                 ("torch.tensordot({a}, {a}, dims={nd})", ["tensordot", "@torch_signatures"]),
                 # (operands cloned: PyTorch's kron saves views of its operands and its
                 # gradient silently uses a later in-place write into them, seeds 604850,
                 # 3002362; xgrad keeps the saved values: torch_silent_saved_overwrite)
                 ("torch.kron({a}.clone(), {a}.clone())", ["kron"]),
                 ("torch.dot({a}.flatten(), {a}.flatten())", ["dot"])]
        tmpl, needs = g.ch.choice(forms)
        _need(g, *needs)
        g.assign(tmpl.format(a=a, nd=nd if nd <= 2 else 1), "linalg")
    else:
        _need(g, "det")
        g.assign(f"torch.det({_square(g, a)})", "linalg")


# -- PyTorch's shape functions (grow with the library) ---------------------------------------
def st_shape_fn(g):
    a = g.pick()
    shape = g.shape(a)
    nd = len(shape)
    r = g.ch.integers(0, 14)
    d = _dim(g, nd)
    n = shape[d] if nd else 1
    if r == 0:
        b = g.operand_for(shape, allow_scalar=False)
        if g.shape(b) != shape:
            raise Reject("cat shapes")
        _need(g, "@torch_signatures")
        g.assign(g.ch.choice([f"torch.cat([{a}, {b}], {d})", f"torch.cat(({a}, {b}), dim={d})"])
                 if nd else f"torch.stack([{a}, {b}])")
    elif r == 1:
        b = g.operand_for(shape, allow_scalar=False)
        _need(g, "@torch_signatures")
        g.assign(f"torch.stack([{a}, {b}], {g.ch.integers(-nd - 1, nd)})")
    elif r == 2:
        _need(g, "flip", "@torch_signatures")
        g.assign(f"torch.flip({a}, dims=({d},))" if nd else f"torch.flip({a}, dims=())")
    elif r == 3:
        _need(g, "roll", "@torch_signatures")
        g.assign(f"torch.roll({a}, shifts={g.ch.integers(-2, 2)}, dims={d})" if nd else f"{a}.roll(1)")
    elif r == 4:
        _need(g, "tril", "@torch_signatures")
        g.assign(f"torch.{g.ch.choice(['tril', 'triu'])}({a}, diagonal={g.ch.integers(-1, 1)})")
    elif r == 5:
        _need(g, "gather")
        if not nd or not n:
            raise Reject("gather")
        if 0 in shape:
            raise Reject("gather of an empty tensor")
        idx_shape = tuple(g.ch.integers(1, s) for s in shape)
        vals = [g.ch.integers(0, n - 1) for _ in range(math.prod(idx_shape))]
        g.assign(f"torch.gather({a}, {d}, torch.tensor({_int_lit(vals, idx_shape)}))")
    elif r == 6:
        _need(g, "index_select")
        if not nd:
            raise Reject("0-d")
        if not n:
            raise Reject("empty")
        idx = [g.ch.integers(0, n - 1) for _ in range(g.ch.integers(1, 3))]
        g.assign(f"torch.index_select({a}, {d}, torch.tensor({idx}))")
    elif r == 7:
        _need(g, "topk", "@named_tuples")
        if not n:
            raise Reject("empty")
        k = g.ch.integers(1, n)
        g.assign(f"torch.topk({a}, {k}, dim={d}{g.ch.choice(['', ', largest=False'])}).values")
    elif r == 8:
        _need(g, "sort", "@named_tuples")
        g.assign(f"torch.sort({a}, dim={d}{g.ch.choice(['', ', descending=True'])}).values")
    elif r == 9:
        _need(g, "scatter")
        if not nd or not n:
            raise Reject("scatter")
        # a permutation along d: no duplicate targets (a duplicate's winner is unspecified)
        perm = list(range(n))
        for i in range(n - 1, 0, -1):
            j = g.ch.integers(0, i)
            perm[i], perm[j] = perm[j], perm[i]
        idx = f"torch.arange({n}).reshape({tuple(n if i == (d % nd) else 1 for i in range(nd))})"
        src = g.operand_for(shape, allow_scalar=False)
        if g.shape(src) != shape:
            raise Reject("scatter src")
        g.assign(f"torch.scatter({a}, {d}, torch.tensor({perm})[{idx}].expand{shape}, {src})"
                 if nd > 1 else f"torch.scatter({a}, 0, torch.tensor({perm}), {src})")
    elif r == 10:
        _need(g, "movedim")
        g.assign(f"torch.movedim({a}, {d}, {_dim(g, nd)})")
    elif r == 11:
        _need(g, "Tensor.repeat")
        reps = tuple(g.ch.integers(1, 2) for _ in range(nd + g.ch.integers(0, 1)))
        g.assign(f"{a}.repeat{reps if len(reps) != 1 else '(' + str(reps[0]) + ')'}" if reps else f"{a}.repeat(())")
    elif r == 12:
        _need(g, "diag", "@diag")
        if nd > 2:
            raise Reject("diag")
        g.assign(f"torch.diag({a})")
    else:
        _need(g, "take_along_dim")
        if not nd:
            raise Reject("0-d")
        g.assign(f"torch.take_along_dim({a}, torch.argsort({a}, dim={d}), dim={d})")


# -- more of PyTorch's everyday API (issue 12 part 3), each when xgrad has it --------------
# Placeholders: {a} the operand, {b} {b2} tensors of a's shape, {d} {d2} dims of a, {n} the
# size of dim d, {last} a.shape[-1], {idx} distinct indices along d, {src} a tensor of a's
# shape with len(idx) along d, {m} a well-conditioned square matrix from a, {spd} a
# symmetric positive-definite one, {w} a (2, last) weight, {tgt} class targets for a 2-D a
# (rows, classes), {sgn} a tensor of +-1 of a's shape. ``min_nd``: a needs that many dims.
EXTRA = [
    # pointwise
    ("torch.frac({a})", ["frac"], 0), ("torch.xlogy({a}, {a} * {a} + 0.5)", ["xlogy"], 0),
    ("torch.logit(torch.sigmoid({a}))", ["logit"], 0), ("torch.erfc({a})", ["erfc"], 0),
    ("torch.lgamma({a} * {a} + 0.5)", ["lgamma"], 0), ("torch.digamma({a} * {a} + 0.5)", ["digamma"], 0),
    ("torch.erfinv(torch.tanh({a}) * 0.9)", ["erfinv"], 0), ("torch.i0({a})", ["i0"], 0),
    ("torch.sinc({a})", ["sinc"], 0), ("torch.deg2rad({a})", ["deg2rad"], 0),
    ("torch.logaddexp2({a}, {b})", ["logaddexp2"], 0),
    ("torch.float_power({a} * {a} + 0.5, 2)", ["float_power"], 0),
    ("torch.fmod({a}, 0.7)", ["fmod"], 0), ("torch.remainder({a}, 0.7)", ["remainder"], 0),
    ("torch.fmax({a}, {b})", ["fmax"], 0), ("torch.fmin({a}, {b})", ["fmin"], 0),
    ("torch.nan_to_num({a})", ["nan_to_num"], 0), ("torch.clamp_min({a}, 0.1)", ["clamp_min"], 0),
    ("torch.clamp_max({a}, 0.1)", ["clamp_max"], 0),
    ("torch.addcmul({a}, {b}, {b2}, value=0.5)", ["addcmul"], 0),
    ("torch.addcdiv({a}, {b}, {b2} * {b2} + 1, value=0.5)", ["addcdiv"], 0),
    ("torch.special.expit({a})", ["special.expit"], 0),
    ("torch.special.xlog1py({a}, {a} * {a})", ["special.xlog1py"], 0),
    ("torch.special.ndtr({a})", ["special.ndtr"], 0),
    ("torch.special.log_ndtr({a})", ["special.log_ndtr"], 0),
    ("torch.special.entr({a} * {a} + 0.1)", ["special.entr"], 0),
    # reductions and scans
    ("torch.diff({a}, dim={d})", ["diff"], 1), ("torch.cummin({a}, {d}).values", ["cummin"], 1),
    ("torch.nansum({a}, dim={d})", ["nansum"], 1), ("torch.nanmean({a}, dim={d})", ["nanmean"], 1),
    ("torch.median({a}, dim={d}).values", ["median"], 1), ("torch.median({a})", ["median"], 0),
    ("torch.quantile({a}, 0.3, dim={d})", ["quantile"], 1),
    ("torch.var_mean({a}, dim={d})[0]", ["var_mean"], 1),
    ("torch.std_mean({a}, dim={d})[1]", ["std_mean"], 1),
    ("torch.aminmax({a}, dim={d}).max", ["aminmax"], 1),
    ("torch.trapezoid({a}, dim={d})", ["trapezoid"], 1),
    ("torch.cumulative_trapezoid({a}, dim={d})", ["cumulative_trapezoid"], 1),
    ("torch.dist({a}, {b})", ["dist"], 0), ("torch.cov({a})", ["cov"], 2),
    ("torch.special.logsumexp({a}, {d})", ["special.logsumexp"], 1),
    # shape functions
    ("torch.repeat_interleave({a}, 2, dim={d})", ["repeat_interleave"], 1),
    ("{a}.unflatten({d}, (1, {n}))", ["Tensor.unflatten"], 1),
    ("torch.swapaxes({a}, {d}, {d2})", ["swapaxes"], 1),
    ("torch.index_add({a}, {d}, {idx}, {src})", ["index_add"], 1),
    ("torch.index_copy({a}, {d}, {idx}, {src})", ["index_copy"], 1),
    ("torch.index_fill({a}, {d}, {idx}, -0.5)", ["index_fill"], 1),
    ("torch.masked_select({a}, {a} > 0)", ["masked_select", "@index_bool"], 0),
    ("torch.take({a}, torch.tensor([0, -1]))", ["take"], 0),
    ("torch.rot90({a}, 1, (0, 1))", ["rot90"], 2), ("torch.block_diag({a}, {a})", ["block_diag"], 2),
    ("torch.atleast_2d({a})", ["atleast_2d"], 0), ("torch.hstack([{a}, {b}])", ["hstack"], 1),
    ("torch.vstack([{a}, {b}])", ["vstack"], 1), ("torch.dstack([{a}, {b}])", ["dstack"], 1),
    ("torch.column_stack([{a}, {b}])", ["column_stack"], 1),
    ("torch.diag_embed({a})", ["diag_embed"], 1), ("torch.diagflat({a})", ["diagflat"], 1),
    ("torch.select({a}, {d}, -1)", ["select"], 1), ("torch.flipud({a})", ["flipud"], 1),
    ("torch.fliplr({a})", ["fliplr"], 2), ("torch.narrow_copy({a}, {d}, 0, 1)", ["narrow_copy"], 1),
    # BLAS / LAPACK
    ("torch.addmm({b2x}, {a}, {kp})", ["addmm"], 2), ("torch.addmv({rows}, {a}, {kvec})", ["addmv"], 2),
    ("torch.inner({a}, {b})", ["inner"], 1), ("torch.vdot({a}.flatten(), {b}.flatten())", ["vdot"], 1),
    ("torch.cdist({a}, {b})", ["cdist"], 2), ("torch.linalg.vecdot({a}, {b})", ["linalg.vecdot"], 1),
    ("torch.linalg.multi_dot([{a}, {a}.mT])", ["linalg.multi_dot"], 2),
    ("torch.linalg.matrix_power({m}, 3)", ["linalg.matrix_power"], 2),
    ("torch.linalg.pinv({spd})", ["linalg.pinv"], 2),
    ("torch.linalg.matrix_exp({m} * 0.2)", ["linalg.matrix_exp"], 2),
    ("torch.logdet({spd})", ["logdet"], 2), ("torch.linalg.svdvals({a})", ["linalg.svdvals"], 2),
    ("torch.linalg.eigh({spd}).eigenvalues", ["linalg.eigh"], 2),
    ("torch.linalg.svd({a}).S", ["linalg.svd"], 2),
    ("torch.linalg.qr({m}).R.abs()", ["linalg.qr"], 2),
    ("torch.linalg.cond({spd})", ["linalg.cond"], 2),
    ("torch.linalg.solve_triangular(torch.triu({m}), {a}, upper=True)",
     ["linalg.solve_triangular", "triu"], 2),
    # nn.functional
    ("torch.nn.functional.relu6({a} * 4)", ["nn.functional.relu6"], 0),
    ("torch.nn.functional.leaky_relu({a}, 0.1)", ["nn.functional.leaky_relu"], 0),
    ("torch.nn.functional.hardtanh({a})", ["nn.functional.hardtanh"], 0),
    ("torch.nn.functional.softsign({a})", ["nn.functional.softsign"], 0),
    ("torch.nn.functional.tanhshrink({a})", ["nn.functional.tanhshrink"], 0),
    ("torch.nn.functional.logsigmoid({a})", ["nn.functional.logsigmoid"], 0),
    ("torch.nn.functional.softmin({a}, dim={d})", ["nn.functional.softmin"], 1),
    ("torch.nn.functional.hardswish({a})", ["nn.functional.hardswish"], 0),
    ("torch.nn.functional.mish({a})", ["nn.functional.mish"], 0),
    ("torch.nn.functional.selu({a})", ["nn.functional.selu"], 0),
    ("torch.nn.functional.celu({a})", ["nn.functional.celu"], 0),
    ("torch.nn.functional.softshrink({a}, 0.5)", ["nn.functional.softshrink"], 0),
    ("torch.nn.functional.hardshrink({a}, 0.5)", ["nn.functional.hardshrink"], 0),
    ("torch.nn.functional.threshold({a}, 0.1, -1.0)", ["nn.functional.threshold"], 0),
    ("torch.nn.functional.normalize({a}, dim={d})", ["nn.functional.normalize"], 1),
    ("torch.nn.functional.layer_norm({a}, ({last},))", ["nn.functional.layer_norm"], 1),
    ("torch.nn.functional.rms_norm({a}, ({last},))", ["nn.functional.rms_norm"], 1),
    ("torch.nn.functional.mse_loss({a}, {b})", ["nn.functional.mse_loss"], 0),
    ("torch.nn.functional.l1_loss({a}, {b}, reduction='sum')", ["nn.functional.l1_loss"], 0),
    ("torch.nn.functional.smooth_l1_loss({a}, {b})", ["nn.functional.smooth_l1_loss"], 0),
    ("torch.nn.functional.huber_loss({a}, {b}, delta=0.5)", ["nn.functional.huber_loss"], 0),
    ("torch.nn.functional.binary_cross_entropy_with_logits({a}, torch.sigmoid({b}))",
     ["nn.functional.binary_cross_entropy_with_logits"], 0),
    # (sigmoid(tanh(.)): probabilities in (0.27, 0.73); sigmoid of a large value makes
    # log(1 - p) cancel catastrophically and the two libraries' roundings differ at 1e-6)
    ("torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.tanh({a})), torch.sigmoid({b}))",
     ["nn.functional.binary_cross_entropy"], 0),
    ("torch.nn.functional.kl_div(torch.log_softmax({a}, -1), torch.softmax({b}, -1), "
     "reduction='batchmean')", ["nn.functional.kl_div"], 2),
    ("torch.nn.functional.cosine_similarity({a}, {b}, dim=-1)", ["nn.functional.cosine_similarity"], 1),
    ("torch.nn.functional.pairwise_distance({a}, {b})", ["nn.functional.pairwise_distance"], 2),
    ("torch.nn.functional.linear({a}, {w})", ["nn.functional.linear"], 1),
    ("torch.nn.functional.pad({a}, (1, 2))", ["nn.functional.pad"], 1),
    ("torch.nn.functional.cross_entropy({a}, {tgt})", ["nn.functional.cross_entropy"], 2),
    ("torch.nn.functional.nll_loss(torch.log_softmax({a}, 1), {tgt})", ["nn.functional.nll_loss"], 2),
    ("torch.nn.functional.embedding({tgt}, {a})", ["nn.functional.embedding"], 2),
    ("torch.nn.functional.poisson_nll_loss({a}, {b} * {b})", ["nn.functional.poisson_nll_loss"], 0),
    ("torch.nn.functional.gaussian_nll_loss({a}, {b}, {b2} * {b2} + 0.5)",
     ["nn.functional.gaussian_nll_loss"], 0),
    ("torch.nn.functional.soft_margin_loss({a}, {sgn})", ["nn.functional.soft_margin_loss"], 0),
    ("torch.nn.functional.margin_ranking_loss({a}, {b}, {sgn})",
     ["nn.functional.margin_ranking_loss"], 0),
]
EXTRA_INPLACE = [
    ("{a}.index_add_({d}, {idx}, {src})", ["Tensor.index_add_"], 1),
    ("{a}.index_fill_({d}, {idx}, -0.5)", ["Tensor.index_fill_"], 1),
    ("{a}.index_copy_({d}, {idx}, {src})", ["Tensor.index_copy_"], 1),
    ("{a}.lerp_({b}, 0.3)", ["Tensor.lerp_"], 0),
    ("{a}.addcmul_({b}, {b2}, value=0.5)", ["Tensor.addcmul_"], 0),
    ("{a}.clamp_min_(0.1)", ["Tensor.clamp_min_"], 0), ("{a}.log1p_()", ["Tensor.log1p_"], 0),
    ("{a}.tril_()", ["Tensor.tril_"], 2), ("{a}.square_()", ["Tensor.square_"], 0),
    ("{a}.floor_()", ["Tensor.floor_", "@zero_grad_ops"], 0),
    ("{a}.erf_()", ["Tensor.erf_"], 0), ("{a}.atan2_({b})", ["Tensor.atan2_"], 0),
]


def _fill_extra(g, tmpl, a) -> str:
    """``tmpl`` with its placeholders for operand ``a`` (new inputs emitted as needed)."""
    shape = g.shape(a)
    nd = len(shape)
    vals = {"a": a}
    need = lambda k: "{" + k + "}" in tmpl  # noqa: E731
    if need("d") or need("n") or need("idx") or need("src"):
        vals["d"] = g.ch.integers(-nd, nd - 1)
        vals["n"] = shape[vals["d"]]
    if need("d2"):
        vals["d2"] = g.ch.integers(-nd, nd - 1)
    if need("last"):
        vals["last"] = shape[-1]
    if need("b"):
        vals["b"] = g.operand_for(shape, allow_scalar=False) if g.ch.boolean(0.5) else g.new_input(shape)
    if need("b2"):
        vals["b2"] = g.new_input(g.broadcastable_to(shape), requires_grad=g.ch.boolean(0.7))
    if need("idx"):
        n = vals["n"]
        if n == 0:
            raise Reject("empty dim")
        k = g.ch.integers(1, n)
        pool = list(range(n))
        vals["idx"] = f"torch.tensor({[pool.pop(g.ch.integers(0, len(pool) - 1)) for _ in range(k)]})"
        if need("src"):
            src_shape = list(shape)
            src_shape[vals["d"]] = k
            vals["src"] = g.new_input(tuple(src_shape), requires_grad=g.ch.boolean(0.8))
    if need("m"):
        vals["m"] = _square(g, a)
    if need("spd"):
        _check_conditioning(g, a)
        vals["spd"] = f"({a} @ {a}.mT + torch.eye({shape[-2]}, dtype=torch.float64))"
    if need("w"):
        vals["w"] = g.new_input((2, shape[-1]))
    if need("kp"):  # addmm: a (n, k) @ kp (k, p) + b2x (n, p)
        if nd != 2:
            raise Reject("addmm")
        p = g.ch.integers(1, 3)
        vals["kp"] = g.new_input((shape[1], p))
        vals["b2x"] = g.new_input(g.broadcastable_to((shape[0], p)))
    if need("kvec"):
        if nd != 2 or 0 in shape:  # (an empty matrix: KNOWN addmv_empty_to_0d, deliberate)
            raise Reject("addmv")
        vals["kvec"] = g.new_input((shape[1],))
        vals["rows"] = g.new_input(g.broadcastable_to((shape[0],)))
    if need("tgt"):
        if nd != 2 or 0 in shape:
            raise Reject("targets")
        vals["tgt"] = f"torch.tensor({[g.ch.integers(0, shape[1] - 1) for _ in range(shape[0])]})"
        if "embedding" in tmpl:
            vals["tgt"] = f"torch.tensor({[g.ch.integers(0, shape[0] - 1) for _ in range(3)]})"
    if "softshrink" in tmpl and bool(((g.val(a) < 0) & (g.val(a) >= -0.5)).any()):
        # PyTorch's sign of the zero it gives there depends on where the element falls in its
        # kernel's vector/tail split (KNOWN softshrink_negative_zero, deliberate)
        raise Reject("softshrink of a small negative value")
    if ("smooth_l1_loss" in tmpl or "huber_loss" in tmpl) and \
            bool((g.val(a) == g.val(vals["b"])).any()):
        _need(g, "@huber_zero_residual")
    if "cosine_similarity" in tmpl and g.shape(vals["b"]) != shape:
        _need(g, "@cosine_broadcast")
    if need("sgn"):
        n = math.prod(shape)
        vals["sgn"] = (f"torch.tensor({_nested([g.ch.choice([-1.0, 1.0]) for _ in range(n)], shape)}, "
                       "dtype=torch.float64)") if n else "torch.ones_like({a})".format(a=a)
    return tmpl.format(**vals)


def st_extra(g):
    tmpl, needs, min_nd = g.ch.choice(EXTRA)
    _need(g, *needs)
    if "torch.linalg." in tmpl or "torch.logdet" in tmpl:
        _need(g, "@linalg")
    a = g.pick()
    if len(g.shape(a)) < min_nd:
        raise Reject("needs more dims")
    g.assign(_fill_extra(g, tmpl, a), "torch_api")


def st_extra_inplace(g):
    if not g.on("inplace"):
        raise Reject("off")
    tmpl, needs, min_nd = g.ch.choice(EXTRA_INPLACE)
    _need(g, *needs)
    cands = [n for n in _writable(g) if len(g.shape(n)) >= min_nd]
    if not cands:
        raise Reject("no target")
    a = g.pick(cands)
    feats = {"inplace"} | _write_features(g, a)
    g.emit(_fill_extra(g, tmpl, a))
    g.features |= feats


STATEMENTS = {
    "extra": st_extra, "extra_inplace": st_extra_inplace,
    "unary": st_unary, "binary": st_binary, "reduction": st_reduction, "view": st_view,
    "getitem": st_getitem, "setitem": st_setitem, "inplace": st_inplace, "linalg": st_linalg,
    "shape_fn": st_shape_fn, "int_operand": st_int_operand,
}
STATEMENT_KINDS = ["view", "setitem", "inplace", "binary", "unary", "view", "setitem", "inplace",
                   "reduction", "getitem", "linalg", "shape_fn", "binary", "int_operand",
                   "extra", "extra", "extra_inplace"]


def generate(chooser: Chooser, device_type: str = "cpu") -> Program:
    """One program from ``chooser`` (valid on PyTorch by construction)."""
    return Generator(chooser, device_type).build()


# ---------------------------------------------------------------------------------------
# running a program
@dataclass
class Run:
    phase: str | None = None          # where an exception happened: forward, grad1, grad2
    error: BaseException | None = None
    outs: list = field(default_factory=list)      # (shape, dtype, requires_grad, values)
    grads: list = field(default_factory=list)
    grads2: list = field(default_factory=list)


def _to_numpy(t):
    if t is None:
        return None
    if getattr(t, "_is_zerotensor", None) is not None and t._is_zerotensor():
        return np.zeros(tuple(t.shape))  # PyTorch's "efficient zero tensor" (a zero gradient)
    t = t.detach()
    if hasattr(t, "cpu"):
        t = t.cpu()
    return np.asarray(t.numpy())


def execute(module, program: Program, device=None) -> Run:
    """Run ``program`` with ``torch`` bound to ``module`` (PyTorch or xgrad)."""
    import contextlib
    ns = {"torch": module}
    run = Run()
    ctx = contextlib.nullcontext()
    if device is not None:
        ctx = module.default_device(device)
    phase = "forward"
    with ctx, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            h_forward, h_grad1, h_grad2 = _harness_phases(program.inputs, program.outs)
            exec(program.body + "\n" + h_forward, ns)
            for o in ns["outs"]:
                run.outs.append((tuple(o.shape), str(o.dtype).rpartition(".")[2], bool(o.requires_grad),
                                 _to_numpy(o)))
            phase = "grad1"
            exec(h_grad1, ns)
            run.grads = [_to_numpy(g) for g in ns["grads"]]
            phase = "grad2"
            exec(h_grad2, ns)
            run.grads2 = [_to_numpy(g) for g in ns["grads2"]]
        except Exception as e:  # noqa: BLE001
            run.phase, run.error = phase, e
    return run


# Tolerances. Programs are float64 throughout. Two correct implementations differ by
# rounding only: a few ulps per operation (2.2e-16 each), summed over at most ~10
# statements of at most MAX_NUMEL terms, amplified by the condition number of the linear
# algebra (matrices are I + A A^T or A + 4I with |A| small, and every value is kept under
# MAX_ABS = 1e4, so condition numbers stay below ~1e4, and second derivatives of inv/solve
# carry it up to cubed in the worst case). An error in a sum is bounded by eps times the
# largest *term*, not by the result, so the absolute tolerance scales with the largest
# magnitude in the reference array. 1e-7 leaves several orders of margin over that
# (observed differences between correct runs are below 1e-11), while every real bug
# seen so far (a stale view, a lost write, a gradient routed to the wrong element, a
# missing factor) differs by 1e-2 or more.
RTOL = 1e-7
ATOL_SCALE = 1e-7


def _close(ref, got, nan_is_undefined=False) -> str | None:
    ref_z = np.zeros(()) if ref is None else ref
    got_z = np.zeros(()) if got is None else got
    if ref is not None and got is not None and ref.shape != got.shape:
        return f"shape {got.shape} != torch's {ref.shape}"
    if ref_z.dtype == bool or np.issubdtype(ref_z.dtype, np.integer):
        if not np.array_equal(ref_z, got_z):
            return f"values differ:\n  torch: {ref_z!r}\n  xgrad: {got_z!r}"
        return None
    ref_b, got_b = np.broadcast_arrays(ref_z, got_z)
    finite = np.isfinite(ref_b)
    scale = float(np.max(np.abs(ref_b[finite]), initial=1.0))
    ok = np.isclose(got_b, ref_b, rtol=RTOL, atol=ATOL_SCALE * max(scale, 1.0), equal_nan=True)
    if nan_is_undefined:
        ok |= np.isnan(ref_b)
    if not ok.all():
        return f"values differ:\n  torch: {ref_b!r}\n  xgrad: {got_b!r}"
    return None


# PyTorch refuses these backward passes; xgrad computes the gradient of the program as
# written (the saved value is kept; a multi-output view is re-derived from its base).
TORCH_REFUSALS = ("modified by an inplace operation",
                  "is the output of a function that returns multiple views",
                  # an advanced-key write into an expanded tensor whose base requires grad
                  # (PyTorch writes it, then refuses its backward; xgrad gives each value the
                  # gradient of the element it wrote, as PyTorch does when the base is constant)
                  "more than one element of the written-to tensor refers to a single memory",
                  "is not implemented")  # (a derivative PyTorch lacks: cdist's second order)


def compare(program: Program, device) -> list[str]:
    """The differences between PyTorch and xgrad on ``device`` (an empty list: none).

    Where PyTorch refuses a backward because a value saved for it was overwritten in
    place, xgrad deliberately computes the gradient of the program as written (DESIGN.md):
    only the forward values are compared then.
    """
    import torch
    import xgrad
    ref = execute(torch, program)
    got = execute(xgrad, program, device)
    diffs = []
    if ref.phase == "forward":
        if got.phase != "forward":
            diffs.append(f"PyTorch raises {type(ref.error).__name__}: {ref.error}; xgrad does not")
        return diffs
    if got.phase == "forward":
        return [f"xgrad raises in the forward: {_err(got.error)}"]
    names = program.outs
    for name, r, o in zip(names, ref.outs, got.outs):
        if r[0] != o[0]:
            diffs.append(f"{name}: shape {o[0]} != torch's {r[0]}")
            continue
        if r[1] != o[1]:
            diffs.append(f"{name}: dtype {o[1]} != torch's {r[1]}")
        if r[2] != o[2]:
            diffs.append(f"{name}: requires_grad {o[2]} != torch's {r[2]}")
        msg = _close(r[3], o[3])
        if msg:
            diffs.append(f"{name}: {msg}")
    torch_refuses = ref.error is not None and any(m in str(ref.error) for m in TORCH_REFUSALS)
    if torch_refuses and ref.phase == "grad2":  # first order only
        for name, r, o in zip(program.inputs, ref.grads, got.grads):
            msg = _close(r, o)
            if msg:
                diffs.append(f"grad of {name}: {msg}")
        return diffs
    if torch_refuses:
        return diffs  # values only: xgrad computes the gradient where PyTorch raises
    if ref.phase is not None and got.phase is None:
        diffs.append(f"PyTorch raises in {ref.phase} ({type(ref.error).__name__}: {ref.error}); xgrad does not")
        return diffs
    if got.phase is not None and (ref.phase is None or got.phase < ref.phase):
        diffs.append(f"xgrad raises in {got.phase}: {_err(got.error)}")
        return diffs
    for order, rs, gs in (("grad", ref.grads, got.grads), ("grad2", ref.grads2, got.grads2)):
        for name, r, o in zip(program.inputs, rs, gs):
            # A nan in PyTorch's *second-order* gradient marks a point where the second
            # derivative does not exist (norm, copysign, ... at an exact zero: PyTorch's
            # formulas divide by the value there); xgrad's finite subgradient convention is
            # accepted. A nan xgrad gives where PyTorch's is finite still counts.
            msg = _close(r, o, nan_is_undefined=order == "grad2")
            if msg:
                diffs.append(f"{order} of {name}: {msg}")
    return diffs


def _err(e) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = next((f"{f.filename.rpartition('/xgrad/')[2]}:{f.lineno}" for f in reversed(tb)
                  if "/xgrad/" in f.filename), "")
    return f"{type(e).__name__}: {e} [{where}]"


def reproduction(program: Program, device) -> str:
    """Runnable text: the program for PyTorch and for xgrad."""
    text = program.text()
    return (f"# --- PyTorch ---\nimport torch\n{text}\n"
            f"# --- xgrad ---\nimport xgrad as torch\ntorch.set_default_device({str(device)!r})\n{text}")


# ---------------------------------------------------------------------------------------
def shrink(program: Program, device) -> Program:
    """Drop statements while the program stays valid on PyTorch and still differs."""
    lines = list(program.lines)
    changed = True
    while changed:
        changed = False
        for i in range(len(lines) - 1, -1, -1):
            cand_lines = lines[:i] + lines[i + 1:]
            cand = _reprogram(cand_lines, program)
            if cand is None:
                continue
            try:
                if compare(cand, device):
                    lines = cand_lines
                    changed = True
            except Exception:  # noqa: BLE001
                continue
    return _reprogram(lines, program) or program


def _reprogram(lines, program):
    import torch
    ns = {"torch": torch}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec("\n".join(lines), ns)
    except Exception:  # noqa: BLE001
        return None
    defined = [ln.split(" = ")[0] for ln in lines if " = " in ln and "[" not in ln.split(" = ")[0]]
    outs = [n for n in dict.fromkeys(defined) if isinstance(ns.get(n), torch.Tensor)]
    inputs = [n for n in program.inputs if n in outs]
    if not inputs:
        return None
    return Program(lines, inputs, outs, program.features)


_VIEW_RE = (r"\.(T|mT|t\(\)|transpose|permute|reshape|view|flatten|unsqueeze|squeeze|expand|narrow|"
            r"diagonal|chunk|unbind|detach|contiguous)\b|torch\.(split|flatten|squeeze|diagonal)\(|"
            r"\w\[[^\]]*(:|None|\.\.\.)")


def text_features(lines) -> set:
    """The features a program's text uses (approximately, from its text; for triage and
    for regression programs, whose features were not recorded by a generator)."""
    import re
    feats = set()
    for ln in lines:
        lhs, eq, rhs = ln.partition(" = ")
        if re.search(r"\.\w+_\(|\s[-+*/]=\s", ln):
            feats.add("inplace")
        if eq and "[" in lhs:
            feats.add("setitem")
        key_text = lhs if eq and "[" in lhs else rhs
        for key in re.findall(r"\w\[(.*)\]", key_text):
            if "torch.tensor([" in key and ("True" in key or "False" in key) or ">" in key:
                feats.add("index_bool")
            elif "torch.tensor([" in key or re.match(r"\[", key):
                feats.add("index_int_array")
            if ("index_bool" in feats or "index_int_array" in feats) and re.search(r"(^|, )(:|\d|None|\.\.\.|-?\d*:)", key):
                feats.add("index_mixed")
        if re.search(_VIEW_RE, rhs):
            feats.add("views")
        if re.search(r"torch\.(linalg|det|trace|outer|einsum|tensordot|kron|dot)\b|@|matmul", rhs):
            feats.add("linalg")
        if re.search(r"alpha=|dims=|shifts=|diagonal=|torch\.(max|cat|stack)\(.*, -?\d|torch\.squeeze\(\w+\)", ln):
            feats.add("torch_signatures")
        if re.search(r"\.(values|indices)\b", ln):
            feats.add("named_tuples")
        if re.search(r"torch\.(sign|floor|round|trunc)\(", ln):
            feats.add("zero_grad_ops")
        if re.search(r"\(\w+ > [-\d.]+\) \+|\* \(\w+ > 0\)|torch\.arange\(\d+\)\)|/ torch\.tensor\(2\)", ln):
            feats.add("int_bool_operands")
    return feats


def program_from_text(body: str, features=()) -> Program:
    """A Program from its statements (a regression test's text); inputs are the ``x`` names."""
    lines = [ln for ln in body.strip().splitlines() if ln.strip()]
    inputs = [ln.split(" = ")[0] for ln in lines if ln.startswith("x") and "requires_grad=True" in ln]
    prog = _reprogram(lines, Program(lines, inputs, [], set(features) | text_features(lines)))
    if prog is None:
        raise ValueError("not a valid PyTorch program:\n" + body)
    return prog


# Open differences found by the generator, shrunk: (name, owner, program body). The
# command line's --known re-runs them and says which still differ (docs/differential.md
# keeps the same list with the dates they disappeared).
KNOWN = [
    ("sign_requires_grad", "lead (coverage.py NOT_DIFFERENTIABLE)", """
x1 = torch.tensor(1.41, dtype=torch.float64, requires_grad=True)
v3 = torch.sign(x1)
v4 = torch.floor(x1)
"""),
    ("matrix_norm_of_empty", "faces", """
x1 = torch.zeros((0, 0), dtype=torch.float64, requires_grad=True)
v4 = torch.linalg.matrix_norm(x1, ord=1)
"""),
    ("diag_is_a_copy", "shape-api", """
x1 = torch.tensor([[0.27, -1.64], [1.14, -1.42]], dtype=torch.float64, requires_grad=True)
v3 = torch.diag(x1)
x4 = torch.tensor(-1.23, dtype=torch.float64, requires_grad=True)
v3[torch.tensor([1, 0])] = x4 * 2
"""),
    ("torch_silent_saved_overwrite", "PyTorch (xgrad is right)", """
x2 = torch.tensor([[1.1, 0.75, 0.39], [1.3, -1.48, 0.23], [1.81, -1.7, -0.35]], dtype=torch.float64, requires_grad=True)
v5 = torch.quantile(x2, 0.3, dim=0)
v6 = torch.kron(v5, v5)
v5[:] = 3.0
"""),
    ("addmv_empty_to_0d", "deliberate (PyTorch's empty-matrix addmv skips broadcasting)", """
x5 = torch.zeros((0, 2), dtype=torch.float64, requires_grad=True)
x7 = torch.tensor([1.68, -1.94], dtype=torch.float64, requires_grad=True)
x8 = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
v9 = torch.addmv(x8, x5, x7)
"""),
    ("softshrink_negative_zero", "deliberate (PyTorch's zero sign is layout-dependent)", """
x1 = torch.tensor([[-1.96, 1.79, -0.98], [1.14, -1.17, 0.51], [-0.8, -1.77, -0.04]], dtype=torch.float64, requires_grad=True)
v2 = torch.nn.functional.softshrink(x1, 0.5)
v3 = torch.copysign(x1, v2)
"""),
]


def check_known(device) -> list[tuple[str, str, str]]:
    """(name, owner, status) for each KNOWN difference on ``device``."""
    out = []
    for name, owner, body in KNOWN:
        try:
            prog = program_from_text(body)
            diffs = compare(prog, device)
            status = ("differs: " + diffs[0].splitlines()[0][:100]) if diffs else "same as PyTorch"
        except Exception as e:  # noqa: BLE001
            status = f"harness error {_err(e)[:100]}"
        out.append((name, owner, status))
    return out


def main(argv=None):
    import argparse
    import collections
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--seed", type=int, default=None, help="run (and print) one program")
    p.add_argument("--show", action="store_true", help="print each failing program, shrunk")
    p.add_argument("--known", action="store_true", help="re-run the KNOWN differences")
    p.add_argument("--off", default="", help="comma-separated features to switch off as well")
    p.add_argument("--on", default="", help="comma-separated excluded features to switch on "
                                           "('all': ignore the device's exclusions)")
    p.add_argument("--by-feature", action="store_true",
                   help="shrink each failure and count failures by the features the shrunk program uses")
    args = p.parse_args(argv)
    import xgrad
    device = xgrad.device(args.device)
    if args.known:
        for name, owner, status in check_known(device):
            print(f"{name:34s} {owner:12s} {status}")
        return
    dtype = device.type if hasattr(device, "type") else str(device).partition(":")[0]
    seeds = [args.seed] if args.seed is not None else range(args.start, args.start + args.count)
    if args.on == "all":
        EXCLUSIONS[dtype] = {}
    elif args.on:
        for f in args.on.split(","):
            EXCLUSIONS.get(dtype, {}).pop(f, None)
    if args.off:
        EXCLUSIONS.setdefault(dtype, {}).update({f: "--off" for f in args.off.split(",")})
    fails = collections.Counter()
    by_feature = collections.Counter()
    nfail = 0
    for s in seeds:
        try:
            prog = generate(RandomChooser(s), dtype)
        except Exception as e:  # noqa: BLE001
            print(f"=== seed {s}: generator error {_err(e)}")
            fails["generator error"] += 1
            nfail += 1
            continue
        try:
            diffs = compare(prog, device)
        except Exception as e:  # noqa: BLE001
            diffs = [f"harness error {_err(e)}"]
        if args.seed is not None:
            print(reproduction(prog, device))
        if diffs:
            nfail += 1
            first = diffs[0].splitlines()[0]
            fails[first.split(":")[0] if "xgrad raises" not in first else first[:120]] += 1
            small = shrink(prog, device) if args.show or args.by_feature else prog
            if args.by_feature:
                by_feature[" ".join(sorted(text_features(small.lines))) or "-"] += 1
            if args.show or args.seed is not None:
                print(f"=== seed {s}: " + "\n".join(compare(small, device) or diffs))
                print(small.text())
    print(f"{nfail} of {len(seeds)} programs differ on {device}")
    for k, v in fails.most_common(30):
        print(f"  {v:4d}  {k}")
    if by_feature:
        print("by the features of the shrunk program:")
        for k, v in by_feature.most_common():
            print(f"  {v:4d}  {k}")


if __name__ == "__main__":
    main()
