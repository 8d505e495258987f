"""The op registry: each differentiable operation is one :class:`Op`.

An op is a forward function and one VJP rule per input, all written against an
array API namespace ``xp``:

    forward(xp, *inputs, **params)            -> output
    vjp_i(xp, g, out, *inputs, **params)      -> gradient for input i

The engine calls the rules with ``xp`` = the backend namespace and raw arrays
for ordinary backward, and with ``xp`` = the xgrad namespace and Tensors when
``create_graph=True``, so the same formula gives higher derivatives. Inputs a
rule does not use need not be saved (``saves``); the engine then passes an
object with only ``.shape``, ``.dtype`` and ``.ndim``. Broadcasting is undone
by the engine, never by a rule (``broadcasts=True``).
"""

from __future__ import annotations

import re

from .._promotion import TO_FLOAT as _TO_FLOAT

__all__ = ["Op", "defop", "REGISTRY", "TENSOR_NAMESPACE", "tensor_namespace", "ALL", "LINEAR", "BILINEAR", "ELEMENTWISE", "REDUCTION"]

REGISTRY: dict[str, "Op"] = {}

# The array API namespace of xgrad tensors (the standard's face, ``xgrad.array_api``):
# what rules get as ``xp`` in create_graph mode and ``Tensor.__array_namespace__``
# returns. Set by ``xgrad/array_api/__init__.py`` when it is imported (importing
# ``xgrad`` imports it), so that nothing below the faces imports a face.
TENSOR_NAMESPACE = None


def tensor_namespace():
    """The standard's face (see ``TENSOR_NAMESPACE``); a clear error if it is not installed."""
    ns = TENSOR_NAMESPACE
    if ns is None:
        raise RuntimeError("xgrad's array API namespace is not installed: import xgrad first")
    return ns

ALL = "all"  # saves=ALL: every input is saved
# JVPs that follow from the op's structure and its VJP (no formula to write twice):
LINEAR = "linear"            # linear in its differentiable inputs: JVP = the op on the tangents
BILINEAR = "bilinear"        # linear in each of two inputs (matmul, dot): op(tx, y) + op(x, ty)
ELEMENTWISE = "elementwise"  # diagonal Jacobians (with broadcasting): JVP = sum_i vjp_i(t_i)
REDUCTION = "reduction"      # each input element feeds one output element (sum, max, var, norms):
                             # JVP = sum(t * vjp(ones), axis, keepdims)


class Op:
    """One operation's rules and facts. See the module docstring."""

    __slots__ = ("name", "forward", "vjps", "vjp_all", "jvp", "save_out", "save_in",
                 "broadcasts", "differentiable", "view", "nout", "grad_name", "doc",
                 "needs_saved", "to_float")

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    def saves_input(self, i: int) -> bool:
        return self.save_in is ALL or i in self.save_in


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\W]+", name) if part)


def defop(name, forward, vjp=None, *, jvp=None, saves=ALL, broadcasts=False, view=False,
          nout=1, grad_name=None, doc=None) -> Op:
    """Register an op and return it.

    ``vjp``: a tuple with one rule per input (``None`` for an input that has no
    gradient), or one callable returning a tuple of gradients, for ops with a
    variable number of inputs. Without ``vjp`` the op is not differentiable: its
    outputs never require grad. ``saves``: which values backward needs: ``ALL``
    inputs (the default), or a tuple of input indices and/or ``"out"``.
    ``view``: the output may share memory with input 0 (so they share a version
    counter). ``nout``: number of outputs (``forward`` then returns a tuple and
    the rules get tuples for ``g`` and ``out``).
    """
    op = Op()
    op.name = name
    op.forward = forward
    op.differentiable = vjp is not None
    op.vjp_all = vjp if callable(vjp) else None
    op.vjps = tuple(vjp) if isinstance(vjp, (tuple, list)) else None
    op.jvp = _structural_jvp(op, jvp) if isinstance(jvp, str) else jvp
    if saves is ALL:
        op.save_in, op.save_out = ALL, False
    else:
        op.save_out = "out" in saves
        op.save_in = frozenset(s for s in saves if s != "out")
    op.needs_saved = op.save_out or op.save_in is ALL or bool(op.save_in)
    op.broadcasts = broadcasts
    op.view = view
    op.nout = nout
    op.grad_name = grad_name or _camel(name) + "Backward0"
    op.doc = doc
    op.to_float = name in _TO_FLOAT  # integer inputs compute as floats (xgrad._promotion)
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is registered twice")
    REGISTRY[name] = op
    return op


def is_backend_namespace(xp) -> bool:
    """True when rules run on raw backend arrays, False when on xgrad tensors."""
    return getattr(xp, "__xgrad_backend__", None) is not None


def call(xp, op: Op, *args, **params):
    """Use a registered op inside a rule, in either mode: its forward on raw arrays,
    or the recorded (differentiable) op on tensors."""
    if is_backend_namespace(xp):
        return op.forward(xp, *args, **params)
    from .._tensor import apply
    return apply(op, args, params or None)


def _zero_tangent(xp, x):
    """The tangent of an input that has none: zeros (not ``0 * x``, NaN where x is inf)."""
    if type(x) in (bool, int, float, complex):
        return type(x)(0)
    return xp.zeros_like(x)


def _structural_jvp(op: Op, kind: str):
    """The JVP rule that ``kind`` (LINEAR, BILINEAR, ELEMENTWISE, REDUCTION) gives ``op``."""
    def linear(xp, tangents, out, *inputs, **params):
        args = [x if not _differentiable_input(op, i) else
                (t if t is not None else _zero_tangent(xp, x))
                for i, (t, x) in enumerate(zip(tangents, inputs))]
        return call(xp, op, *args, **params)

    def bilinear(xp, tangents, out, x, y, **params):
        tx, ty = tangents
        a = None if tx is None else call(xp, op, tx, y, **params)
        b = None if ty is None else call(xp, op, x, ty, **params)
        return b if a is None else a if b is None else a + b

    def reduction(xp, tangents, out, x, **params):
        weights = op.vjps[0](xp, xp.ones_like(out), out, x, **params)
        return xp.sum(tangents[0] * weights, axis=params.get("axis"),
                      keepdims=params.get("keepdims", False))
    rules = {LINEAR: linear, BILINEAR: bilinear, REDUCTION: reduction}
    if kind == ELEMENTWISE:
        return diagonal_jvp(op.vjps)
    if kind not in rules:
        raise ValueError(f"unknown jvp kind {kind!r} for op {op.name}")
    rule = rules[kind]
    rule.jvp_kind = kind
    return rule


def diagonal_jvp(vjps):
    """The JVP of an elementwise function from its VJPs. Its Jacobian with respect to
    each input is diagonal, hence its own transpose: for real values ``jvp = sum_i
    vjp_i(t_i)``. With complex values each diagonal entry is R-linear, ``J t = A t +
    B conj(t)`` (Wirtinger derivatives ``A = df/dz``, ``B = df/dconj(z)``), and a VJP in
    PyTorch's convention is ``vjp(g) = conj(A) g + B conj(g)``: its values at ``g = 1``
    and ``g = 1j`` give ``A`` and ``B`` (for a real output, ``J t = Re(conj(vjp(1)) t)``).
    That covers holomorphic functions, ``abs``/``real``/``imag``/``conj``, and real
    tangents entering ops with complex outputs (``x * x.real``)."""
    def jvp(xp, tangents, out, *inputs, **params):
        total = None
        out_complex = _is_complex(out)
        for rule, t, x in zip(vjps, tangents, inputs):
            if rule is None or t is None:
                continue
            if not (out_complex or _is_complex(t) or _is_complex(x)):
                term = rule(xp, t, out, *inputs, **params)        # real: J is symmetric
            elif not out_complex:                                 # real f of complex z
                term = xp.real(xp.conj(rule(xp, xp.ones_like(out), out, *inputs, **params)) * t)
            else:
                ones = xp.ones_like(out)
                v1 = rule(xp, ones, out, *inputs, **params)
                vi = rule(xp, ones * 1j, out, *inputs, **params)
                a = xp.conj(v1 - vi * 1j) * 0.5                   # df/dz
                term = a * t
                if _is_complex(x) or _is_complex(t):
                    b = (v1 + vi * 1j) * 0.5                      # df/dconj(z)
                    term = term + b * xp.conj(t)
                else:                                             # a real input: dz = dx
                    term = term + (v1 + vi * 1j) * 0.5 * t
            total = term if total is None else total + term
        return total
    jvp.derived_from_vjp = True
    jvp.jvp_kind = ELEMENTWISE
    return jvp


def _is_complex(v) -> bool:
    """Whether ``v`` (a tensor, a backend array, an ArrayMeta or a number) is complex."""
    dt = getattr(v, "dtype", None)
    if dt is None:
        return isinstance(v, complex)
    kind = getattr(dt, "_kind", None)  # xgrad dtypes
    if kind is None:
        kind = getattr(dt, "kind", None)  # NumPy/CuPy dtypes
    return kind == "c" if kind is not None else "complex" in str(dt)


def _differentiable_input(op: Op, i: int) -> bool:
    return op.vjps is None or (i < len(op.vjps) and op.vjps[i] is not None)
