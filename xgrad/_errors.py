"""Exceptions as PyTorch raises them.

An op whose inputs are invalid (shapes that do not broadcast or multiply, a size
that does not reshape, a singular matrix, ...) raises PyTorch's ``RuntimeError``.
The backend (NumPy, array-api-strict, CuPy, ...) raises ``ValueError`` for the same
inputs, so xgrad's exceptions are both: code written for PyTorch (``except
RuntimeError``) and code written for the array API (``except ValueError``, as SciPy
and scikit-learn do) both catch them. Dimension errors stay ``IndexError``, as in
PyTorch; type errors stay ``TypeError``.
"""

from __future__ import annotations

__all__ = ["OpError", "LinAlgError", "op_error"]


class OpError(RuntimeError, ValueError):
    """Invalid input to an op: PyTorch's ``RuntimeError``, also a ``ValueError``."""


class LinAlgError(OpError):
    """A linear-algebra failure (singular matrix, not positive-definite, no
    convergence), as ``torch.linalg.LinAlgError`` (a ``RuntimeError``)."""


def op_error(op, exc: BaseException, inputs, params=None) -> BaseException:
    """The exception to raise for ``exc`` raised by ``op``'s forward (or by the work
    named ``op``, a string) on ``inputs``: an :class:`OpError` naming it and the input
    shapes, ``exc`` itself where it is already PyTorch's type (an ``IndexError`` for a
    dimension out of range)."""
    if isinstance(exc, (IndexError, RuntimeError)):
        return exc
    shapes = [tuple(a.shape) for a in inputs if getattr(a, "shape", None) is not None]
    linalg = "LinAlgError" in type(exc).__name__
    msg = f"{getattr(op, 'name', op)}: {exc}".rstrip()
    if shapes:
        msg += " (input shapes " + ", ".join(str(s) for s in shapes)
        shape = (params or {}).get("shape")
        msg += (f"; shape {tuple(shape)}" if isinstance(shape, (tuple, list)) else "") + ")"
    return (LinAlgError if linalg else OpError)(msg)
