"""Elementwise functions: one line per derivative, as in a table of calculus.

Rules read ``(xp, g, out, x[, y])``: ``g`` is the incoming gradient, ``out``
the op's result (when saved), ``x``/``y`` the inputs. Broadcasting is undone by
the engine. Subgradients at kinks follow PyTorch: abs'(0) = 0, ties in
maximum/minimum split the gradient equally.
"""

from __future__ import annotations

import cmath
import math

from .._promotion import check_integer_divisor
from ._define import binary_function, unary_function
from ._registry import LINEAR

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_2_SQRT_PI = 2.0 / math.sqrt(math.pi)

OUT = ("out",)
NOTHING = ()

# -- complex support: PyTorch's convention, grad_in = g * conj(f'(z)) -----------------
def is_complex(v) -> bool:
    """Whether ``v`` (an array, a tensor, an ArrayMeta or a Python number) is complex."""
    dt = getattr(v, "dtype", None)
    if dt is None:
        return isinstance(v, complex)
    kind = getattr(dt, "kind", None)  # NumPy/CuPy dtypes and xgrad DTypes
    return kind == "c" if kind is not None else "complex" in str(dt)


def cj(xp, v):
    """``conj(v)`` for complex ``v``; ``v`` itself otherwise (the real hot path)."""
    if not is_complex(v):
        return v
    return v.conjugate() if isinstance(v, complex) else xp.conj(v)


def _d(derivative):
    """A VJP rule ``g * conj(f'(x))`` from ``derivative(xp, y, x) = f'(x)``."""
    return lambda xp, g, y, x: g * cj(xp, derivative(xp, y, x))


def _abs_vjp(xp, g, y, x):
    if not is_complex(x):
        return g * xp.sign(x)  # abs'(0) = 0
    r = xp.abs(x)
    return xp.where(r == 0, 0.0, g * x / xp.where(r == 0, 1.0, r))  # g * sgn(z)


def _complex_dtype(xp, g):
    return xp.complex128 if "64" in str(g.dtype) else xp.complex64


def _imag_vjp(xp, g, y, x):
    return xp.astype(g, _complex_dtype(xp, g)) * 1j


# -- differentiable, one input ----------------------------------------------------
negative = unary_function("negative", lambda xp, g, y, x: -g, saves=NOTHING, forward=lambda xp, x: -x,
                          grad_name="NegBackward0")
positive = unary_function("positive", lambda xp, g, y, x: g, saves=NOTHING, forward=lambda xp, x: +x)
exp = unary_function("exp", _d(lambda xp, y, x: y), saves=OUT)
expm1 = unary_function("expm1", _d(lambda xp, y, x: y + 1), saves=OUT)
log = unary_function("log", lambda xp, g, y, x: g / cj(xp, x))
log1p = unary_function("log1p", lambda xp, g, y, x: g / cj(xp, x + 1))
log2 = unary_function("log2", lambda xp, g, y, x: g / cj(xp, x * _LN2))
log10 = unary_function("log10", lambda xp, g, y, x: g / cj(xp, x * _LN10))
sqrt = unary_function("sqrt", lambda xp, g, y, x: g / cj(xp, 2 * y), saves=OUT)
square = unary_function("square", lambda xp, g, y, x: 2 * g * cj(xp, x))
reciprocal = unary_function("reciprocal", _d(lambda xp, y, x: -y * y), saves=OUT)
sin = unary_function("sin", _d(lambda xp, y, x: xp.cos(x)))
cos = unary_function("cos", _d(lambda xp, y, x: -xp.sin(x)))
tan = unary_function("tan", _d(lambda xp, y, x: 1 + y * y), saves=OUT)
asin = unary_function("asin", lambda xp, g, y, x: g / cj(xp, xp.sqrt(1 - x * x)))
acos = unary_function("acos", lambda xp, g, y, x: -g / cj(xp, xp.sqrt(1 - x * x)))
atan = unary_function("atan", lambda xp, g, y, x: g / cj(xp, 1 + x * x))
sinh = unary_function("sinh", _d(lambda xp, y, x: xp.cosh(x)))
cosh = unary_function("cosh", _d(lambda xp, y, x: xp.sinh(x)))
tanh = unary_function("tanh", _d(lambda xp, y, x: 1 - y * y), saves=OUT)
asinh = unary_function("asinh", lambda xp, g, y, x: g / cj(xp, xp.sqrt(x * x + 1)))
acosh = unary_function("acosh", lambda xp, g, y, x: g / cj(xp, xp.sqrt(x * x - 1)))
atanh = unary_function("atanh", lambda xp, g, y, x: g / cj(xp, 1 - x * x))
abs = unary_function("abs", _abs_vjp)
conj = unary_function("conj", lambda xp, g, y, x: cj(xp, g), saves=NOTHING, jvp=LINEAR,
                      forward=lambda xp, x: xp.conj(x) if is_complex(x) else x)
real = unary_function("real", lambda xp, g, y, x: g, saves=NOTHING, jvp=LINEAR,
                      forward=lambda xp, x: xp.real(x) if is_complex(x) else x)
imag = unary_function("imag", _imag_vjp, saves=NOTHING, jvp=LINEAR,
                      forward=lambda xp, x: xp.imag(x) if is_complex(x) else xp.zeros_like(x))

# -- differentiable, two inputs ---------------------------------------------------
add = binary_function("add", lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: g,
                      saves=NOTHING, forward=lambda xp, x, y: x + y)
subtract = binary_function("subtract", lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: -g,
                           saves=NOTHING, forward=lambda xp, x, y: x - y, grad_name="SubBackward0")
multiply = binary_function("multiply", lambda xp, g, z, x, y: g * cj(xp, y),
                           lambda xp, g, z, x, y: g * cj(xp, x),
                           forward=lambda xp, x, y: x * y, grad_name="MulBackward0")
divide = binary_function("divide", lambda xp, g, z, x, y: g / cj(xp, y),
                         lambda xp, g, z, x, y: -g * cj(xp, z / y),
                         saves=(1, "out"), forward=lambda xp, x, y: x / y, grad_name="DivBackward0")


def _pow_vjp_base(xp, g, z, x, y):
    if isinstance(y, (int, float)):  # a Python exponent: d/dx x**c = c x**(c-1), 0 when c == 0
        return g * 0 if y == 0 else g * cj(xp, y * x ** (y - 1))
    return xp.where(y == 0, 0.0, g * cj(xp, y * x ** (y - 1)))


def _pow_vjp_exponent(xp, g, z, x, y):
    if isinstance(x, (int, float, complex)):  # a Python base: d/dy c**y = c**y log c
        if x == 0:
            return g * 0
        log_x = cmath.log(x) if isinstance(x, complex) else (math.log(x) if x > 0 else math.nan)
        return g * cj(xp, z * log_x)
    # d/dy x**y = x**y log x; taken as 0 where x == 0 (PyTorch's convention)
    safe_x = xp.where(x == 0, 1.0, x)
    return g * cj(xp, z * xp.log(safe_x))


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
                            forward=lambda xp, x, y: check_integer_divisor(xp, y) or x % y)
copysign = binary_function("copysign",
                           lambda xp, g, z, x, y: g * xp.where(x == 0, 0.0, z / xp.where(x == 0, 1.0, x)),
                           None, saves=(0, "out"))

# PyTorch's derivative: the step to the next float counts as 0 (dx = g, dy = 0)
nextafter = binary_function("nextafter", lambda xp, g, z, x, y: g, None, saves=NOTHING)


def floor_divide_forward(xp, x, y):
    """``x // y``; for real floats, ``floor(x / y)`` where either is infinite (the
    standard's special cases, where NumPy gives nan or -1)."""
    out = x // y
    if not _is_real_float(out):
        check_integer_divisor(xp, y)  # PyTorch's RuntimeError for integers
        return out
    q = x / y
    return xp.where(xp.isinf(q) | (q == 0), xp.floor(q), out)


def _is_real_float(v) -> bool:
    dt = getattr(v, "dtype", None)
    kind = getattr(dt, "kind", None)
    return kind == "f" if kind is not None else str(dt).rsplit(".", 1)[-1].startswith("float")


# -- piecewise constant: a zero gradient, as PyTorch (FloorBackward0, ...) -----------
def _zero_vjp(xp, g, y, x):
    return xp.zeros_like(g)


sign = unary_function("sign", _zero_vjp, saves=NOTHING,
                      forward=lambda xp, x: xp.where(x == 0, xp.zeros_like(x), xp.sign(x))
                      if is_complex(x) else xp.sign(x))  # complex 0 -> 0, not nan (strict)
for _name in ("floor", "ceil", "round", "trunc"):
    globals()[_name] = unary_function(_name, _zero_vjp, saves=NOTHING)

# -- not differentiable (integer or boolean results) ------------------------------
for _name in ("isfinite", "isinf", "isnan", "signbit", "logical_not", "bitwise_invert"):
    globals()[_name] = unary_function(_name)
for _name, _fwd in (("equal", lambda xp, x, y: x == y), ("not_equal", lambda xp, x, y: x != y),
                    ("less", lambda xp, x, y: x < y), ("less_equal", lambda xp, x, y: x <= y),
                    ("greater", lambda xp, x, y: x > y), ("greater_equal", lambda xp, x, y: x >= y),
                    ("floor_divide", lambda xp, x, y: floor_divide_forward(xp, x, y)),
                    ("logical_and", None), ("logical_or", None), ("logical_xor", None),
                    ("bitwise_and", lambda xp, x, y: x & y), ("bitwise_or", lambda xp, x, y: x | y),
                    ("bitwise_xor", lambda xp, x, y: x ^ y),
                    ("bitwise_left_shift", lambda xp, x, y: x << y),
                    ("bitwise_right_shift", lambda xp, x, y: x >> y)):
    globals()[_name] = binary_function(_name, forward=_fwd)
del _name, _fwd

__all__ = [_n for _n, _v in list(globals().items()) if hasattr(_v, "op")]
