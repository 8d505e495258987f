"""Shorthands that register an elementwise op and make its public function."""

from __future__ import annotations

from .._tensor import binary, unary
from ._registry import defop, diagonal_jvp


def _public(name, op, fn, doc):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}`` (array API standard)."
    fn.op = op
    return fn


def _native(name, arity):
    if arity == 1:
        return lambda xp, x: getattr(xp, name)(x)
    return lambda xp, x, y: getattr(xp, name)(x, y)


def unary_function(name, vjp=None, *, saves=(0,), forward=None, jvp=None, doc=None,
                   grad_name=None):
    """``name(x)``: forward ``xp.<name>(x)`` unless given; ``vjp(xp, g, out, x)``;
    without ``vjp`` the function is not differentiable."""
    if jvp is None and vjp is not None:
        jvp = diagonal_jvp((vjp,))
    op = defop(name, forward or _native(name, 1), None if vjp is None else (vjp,),
               jvp=jvp, saves=saves, grad_name=grad_name)

    def fn(x, /):
        return unary(op, x)
    return _public(name, op, fn, doc)


def binary_function(name, vjp_x=None, vjp_y=None, *, saves=(0, 1), forward=None, jvp=None,
                    doc=None, grad_name=None):
    """``name(x1, x2)`` with broadcasting; ``vjp_x/vjp_y(xp, g, out, x, y)``."""
    vjp = None if vjp_x is None and vjp_y is None else (vjp_x, vjp_y)
    if jvp is None and vjp is not None:
        jvp = diagonal_jvp(vjp)
    op = defop(name, forward or _native(name, 2), vjp, jvp=jvp, saves=saves, broadcasts=True,
               grad_name=grad_name)

    def fn(x1, x2, /):
        return binary(op, x1, x2)
    return _public(name, op, fn, doc)
