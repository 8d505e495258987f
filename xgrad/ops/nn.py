"""Functions from neural networks that the standard does not have, built from it."""

from __future__ import annotations

from ._define import unary_function

relu = unary_function("relu", lambda xp, g, y, x: xp.where(y > 0, g, 0.0), saves=("out",),
                      forward=lambda xp, x: xp.maximum(x, 0), doc="max(x, 0); relu'(0) = 0.")
# 0.5 (1 + tanh(x/2)) never overflows, unlike 1 / (1 + exp(-x))
sigmoid = unary_function("sigmoid", lambda xp, g, y, x: g * y * (1 - y), saves=("out",),
                         forward=lambda xp, x: 0.5 * (xp.tanh(0.5 * x) + 1),
                         doc="The logistic function 1 / (1 + exp(-x)).")
