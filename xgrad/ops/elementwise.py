"""Elementwise functions: one line per derivative, as in a table of calculus.

Rules read ``(xp, g, out, x[, y])``: ``g`` is the incoming gradient, ``out``
the op's result (when saved), ``x``/``y`` the inputs. Broadcasting is undone by
the engine. Subgradients at kinks follow PyTorch: abs'(0) = 0, ties in
maximum/minimum split the gradient equally.
"""

from __future__ import annotations

import math

from ._define import binary_function, unary_function

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_2_SQRT_PI = 2.0 / math.sqrt(math.pi)

OUT = ("out",)
NOTHING = ()

# -- differentiable, one input ----------------------------------------------------
negative = unary_function("negative", lambda xp, g, y, x: -g, saves=NOTHING, forward=lambda xp, x: -x,
                          grad_name="NegBackward0")
positive = unary_function("positive", lambda xp, g, y, x: g, saves=NOTHING, forward=lambda xp, x: +x)
exp = unary_function("exp", lambda xp, g, y, x: g * y, saves=OUT)
expm1 = unary_function("expm1", lambda xp, g, y, x: g * (y + 1), saves=OUT)
log = unary_function("log", lambda xp, g, y, x: g / x)
log1p = unary_function("log1p", lambda xp, g, y, x: g / (x + 1))
log2 = unary_function("log2", lambda xp, g, y, x: g / (x * _LN2))
log10 = unary_function("log10", lambda xp, g, y, x: g / (x * _LN10))
sqrt = unary_function("sqrt", lambda xp, g, y, x: g / (2 * y), saves=OUT)
square = unary_function("square", lambda xp, g, y, x: 2 * g * x)
reciprocal = unary_function("reciprocal", lambda xp, g, y, x: -g * y * y, saves=OUT)
sin = unary_function("sin", lambda xp, g, y, x: g * xp.cos(x))
cos = unary_function("cos", lambda xp, g, y, x: -g * xp.sin(x))
tan = unary_function("tan", lambda xp, g, y, x: g * (1 + y * y), saves=OUT)
asin = unary_function("asin", lambda xp, g, y, x: g / xp.sqrt(1 - x * x))
acos = unary_function("acos", lambda xp, g, y, x: -g / xp.sqrt(1 - x * x))
atan = unary_function("atan", lambda xp, g, y, x: g / (1 + x * x))
sinh = unary_function("sinh", lambda xp, g, y, x: g * xp.cosh(x))
cosh = unary_function("cosh", lambda xp, g, y, x: g * xp.sinh(x))
tanh = unary_function("tanh", lambda xp, g, y, x: g * (1 - y * y), saves=OUT)
asinh = unary_function("asinh", lambda xp, g, y, x: g / xp.sqrt(x * x + 1))
acosh = unary_function("acosh", lambda xp, g, y, x: g / xp.sqrt(x * x - 1))
atanh = unary_function("atanh", lambda xp, g, y, x: g / (1 - x * x))
abs = unary_function("abs", lambda xp, g, y, x: g * xp.sign(x))  # abs'(0) = 0

# -- differentiable, two inputs ---------------------------------------------------
add = binary_function("add", lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: g,
                      saves=NOTHING, forward=lambda xp, x, y: x + y)
subtract = binary_function("subtract", lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: -g,
                           saves=NOTHING, forward=lambda xp, x, y: x - y, grad_name="SubBackward0")
multiply = binary_function("multiply", lambda xp, g, z, x, y: g * y, lambda xp, g, z, x, y: g * x,
                           forward=lambda xp, x, y: x * y, grad_name="MulBackward0")
divide = binary_function("divide", lambda xp, g, z, x, y: g / y, lambda xp, g, z, x, y: -g * z / y,
                         saves=(1, "out"), forward=lambda xp, x, y: x / y, grad_name="DivBackward0")


def _pow_vjp_base(xp, g, z, x, y):
    if isinstance(y, (int, float)):  # a Python exponent: d/dx x**c = c x**(c-1), 0 when c == 0
        return g * 0 if y == 0 else g * (y * x ** (y - 1))
    return xp.where(y == 0, 0.0, g * (y * x ** (y - 1)))


def _pow_vjp_exponent(xp, g, z, x, y):
    # d/dy x**y = x**y log x; taken as 0 where x == 0 (PyTorch's convention)
    safe_x = xp.where(x == 0, 1.0, x)
    return g * z * xp.log(safe_x)


pow = binary_function("pow", _pow_vjp_base, _pow_vjp_exponent, saves=(0, 1, "out"),
                      forward=lambda xp, x, y: x ** y)


def _share_ties(xp, g, x, y, wins):
    """max/min subgradient: all of g where x wins, half where x ties with y."""
    return xp.where(wins, g, xp.where(x == y, g / 2, 0.0))


maximum = binary_function("maximum", lambda xp, g, z, x, y: _share_ties(xp, g, x, y, x > y),
                          lambda xp, g, z, x, y: _share_ties(xp, g, y, x, y > x))
minimum = binary_function("minimum", lambda xp, g, z, x, y: _share_ties(xp, g, x, y, x < y),
                          lambda xp, g, z, x, y: _share_ties(xp, g, y, x, y < x))
atan2 = binary_function("atan2", lambda xp, g, z, x, y: g * y / (x * x + y * y),
                        lambda xp, g, z, x, y: -g * x / (x * x + y * y))
hypot = binary_function("hypot", lambda xp, g, z, x, y: g * x / z, lambda xp, g, z, x, y: g * y / z,
                        saves=(0, 1, "out"))
logaddexp = binary_function("logaddexp", lambda xp, g, z, x, y: g * xp.exp(x - z),
                            lambda xp, g, z, x, y: g * xp.exp(y - z), saves=(0, 1, "out"))
remainder = binary_function("remainder", lambda xp, g, z, x, y: g,
                            lambda xp, g, z, x, y: -g * xp.floor(x / y),
                            forward=lambda xp, x, y: x % y)
copysign = binary_function("copysign",
                           lambda xp, g, z, x, y: g * xp.where(x == 0, 0.0, z / xp.where(x == 0, 1.0, x)),
                           None, saves=(0, "out"))

# -- not differentiable (piecewise constant, integer or boolean results) ----------
for _name in ("sign", "floor", "ceil", "round", "trunc", "isfinite", "isinf", "isnan", "signbit",
              "logical_not", "bitwise_invert"):
    globals()[_name] = unary_function(_name)
for _name, _fwd in (("equal", lambda xp, x, y: x == y), ("not_equal", lambda xp, x, y: x != y),
                    ("less", lambda xp, x, y: x < y), ("less_equal", lambda xp, x, y: x <= y),
                    ("greater", lambda xp, x, y: x > y), ("greater_equal", lambda xp, x, y: x >= y),
                    ("floor_divide", lambda xp, x, y: x // y),
                    ("logical_and", None), ("logical_or", None), ("logical_xor", None),
                    ("bitwise_and", lambda xp, x, y: x & y), ("bitwise_or", lambda xp, x, y: x | y),
                    ("bitwise_xor", lambda xp, x, y: x ^ y),
                    ("bitwise_left_shift", lambda xp, x, y: x << y),
                    ("bitwise_right_shift", lambda xp, x, y: x >> y), ("nextafter", None)):
    globals()[_name] = binary_function(_name, forward=_fwd)
del _name, _fwd

__all__ = [_n for _n, _v in list(globals().items()) if hasattr(_v, "op")]
