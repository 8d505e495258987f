"""``xgrad.array_api.linalg``: the array API standard's linear algebra extension
(2024.12), differentiable, with the standard's signatures.

Every function of the extension is here (cholesky, cross, det, diagonal, eigh,
eigvalsh, inv, matmul, matrix_norm, matrix_power, matrix_rank, matrix_transpose,
outer, pinv, qr, slogdet, solve, svd, svdvals, tensordot, trace, vecdot,
vector_norm), each with a gradient where one exists (all but ``matrix_rank``).
Leading batch dimensions work throughout. The rules are in
:mod:`xgrad.ops.linalg_ext`; their docstrings give the formulas and what
happens at degenerate points. PyTorch's ``torch.linalg`` signatures are
:mod:`xgrad.linalg` (the PyTorch face), built on these functions.
"""

from __future__ import annotations

from typing import NamedTuple

from .._errors import OpError as _OpError  # PyTorch's RuntimeError, also the standard's ValueError
from .._tensor import Tensor, binary, unary
from ..ops import linalg_ext as _ext
from ..ops import linalg as _core
from ..ops.linalg import matmul, matrix_transpose  # noqa: F401
from ._names import LINALG as _LINALG

__all__ = list(_LINALG)


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def _square(x, name):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise _OpError(f"linalg.{name}: expected a (batch of) square matrices, got shape "
                         f"{tuple(x.shape)}")


def _matrix(x, name):
    if x.ndim < 2:
        raise _OpError(f"linalg.{name}: expected at least 2 dimensions, got shape "
                         f"{tuple(x.shape)}")


# -- decompositions ------------------------------------------------------------------
def cholesky(x, /, *, upper=False):
    """Cholesky factor of a symmetric (Hermitian) positive-definite ``x``: lower ``L``
    with ``x = L L^H`` (or upper ``U`` with ``x = U^H U``). Only one triangle of ``x``
    is read, so the gradient is the symmetric one."""
    _square(x, "cholesky")
    return unary(_ext.CHOLESKY, x, {"upper": True} if upper else None)


def eigh(x, /, *, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric (Hermitian)
    ``x``: ``EighResult(eigenvalues, eigenvectors)``. Only the lower triangle is read
    (the upper with PyTorch's ``UPLO="U"``). Eigenvectors are unique only up to sign
    (phase) and, for repeated eigenvalues, up to a rotation of the eigenspace:
    differentiate losses that do not depend on that choice."""
    _square(x, "eigh")
    return EighResult(*unary(_ext.EIGH, _lower(x, UPLO)))


def eigvalsh(x, /, *, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric (Hermitian) ``x`` (lower triangle read,
    or the upper with ``UPLO="U"``)."""
    _square(x, "eigvalsh")
    return unary(_ext.EIGVALSH, _lower(x, UPLO))


def _lower(x, uplo):
    """A matrix whose lower triangle is the triangle ``uplo`` names: the Hermitian matrix
    an upper triangle defines is the one the lower triangle of x^H defines."""
    if uplo == "L":
        return x
    if uplo != "U":
        raise _OpError(f"UPLO must be 'L' or 'U', got {uplo!r}")
    from .. import array_api as ns
    t = matrix_transpose(x)
    return ns.conj(t) if x.dtype.is_complex else t


def svd(x, /, *, full_matrices=True):
    """Singular value decomposition ``x = U diag(S) Vh``: ``SVDResult(U, S, Vh)``,
    singular values descending. Singular vectors are unique only up to sign (phase)
    pairs and rotations within repeated singular values: differentiate
    gauge-invariant losses (``S``, ``U diag(f(S)) Vh``, ``|U|``...)."""
    _matrix(x, "svd")
    params = None if full_matrices else {"full_matrices": False}
    return SVDResult(*unary(_ext.SVD, x, params))


def svdvals(x, /):
    """Singular values of ``x``, descending."""
    _matrix(x, "svdvals")
    return unary(_ext.SVDVALS, x)


def qr(x, /, *, mode="reduced"):
    """QR decomposition ``x = Q R``: ``QRResult(Q, R)``. ``mode='reduced'`` (default) or
    ``'complete'`` (differentiable only when rows <= columns)."""
    _matrix(x, "qr")
    if mode not in ("reduced", "complete"):
        raise _OpError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    return QRResult(*unary(_ext.QR, x, {"mode": mode} if mode != "reduced" else None))


# -- inverses, solves, determinants -----------------------------------------------------
def inv(x, /):
    """Inverse of a (batch of) square matrix."""
    _square(x, "inv")
    return unary(_ext.INV, x)


def solve(x1, x2, /, *, left=True):
    """Solve ``x1 @ X = x2`` for ``X``. ``x2`` of shape ``(M,)`` is one right-hand side
    (the result has shape ``(..., M)``); otherwise ``(..., M, K)`` with batch dimensions
    broadcasting against ``x1``'s. PyTorch's ``left=False`` solves ``X @ x1 = x2``."""
    from ..ops.manipulation import expand_dims, squeeze
    _square(x1, "solve")
    if not left:
        return matrix_transpose(solve(matrix_transpose(x1), matrix_transpose(x2)))
    if x2.ndim == 1:
        return squeeze(binary(_ext.SOLVE, x1, expand_dims(x2, axis=-1)), axis=-1)
    return binary(_ext.SOLVE, x1, x2)


def det(x, /):
    """Determinant of a (batch of) square matrix."""
    _square(x, "det")
    return unary(_ext.DET, x)


def slogdet(x, /):
    """Sign and natural log of the absolute value of the determinant:
    ``SlogdetResult(sign, logabsdet)``; only ``logabsdet`` carries a gradient."""
    _square(x, "slogdet")
    return SlogdetResult(*unary(_ext.SLOGDET, x))


def pinv(x, /, *, rtol=None):
    """Moore-Penrose pseudo-inverse (singular values below ``rtol * max(S)`` dropped).
    Differentiable where the rank is locally constant."""
    _matrix(x, "pinv")
    return unary(_ext.PINV, x, _rtol(rtol))


def matrix_rank(x, /, *, rtol=None):
    """Number of singular values above ``rtol * max(S)`` (an integer: no gradient)."""
    _matrix(x, "matrix_rank")
    return unary(_ext.MATRIX_RANK, x, _rtol(rtol))


def _rtol(rtol):
    """The ``rtol`` parameter (a float or an array broadcasting against the batch) as the
    backend takes it; it carries no gradient (the result is piecewise constant in it)."""
    if rtol is None:
        return None
    return {"rtol": rtol._data if isinstance(rtol, Tensor) else rtol}


def matrix_power(x, n, /):
    """``x`` multiplied by itself ``n`` times (``n < 0``: powers of the inverse; ``n = 0``:
    the identity, a constant), by repeated squaring, so the gradient is the matmul
    chain's."""
    from .. import array_api as ns
    _square(x, "matrix_power")
    if not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        eye = ns.eye(x.shape[-1], dtype=x.dtype, device=x.device)
        from ..ops.creation_ops import clone
        return clone(ns.broadcast_to(eye, tuple(x.shape)))  # a constant: no gradient
    base = inv(x) if n < 0 else x
    n = abs(n)
    result = None
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result
        base = matmul(base, base)


# -- products, parts of matrices ------------------------------------------------------
def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-element vectors along ``axis`` (``dim`` in PyTorch; other axes
    broadcast). The standard asks for a negative ``axis``; a non-negative one counts
    from the front of the broadcast shape (as in PyTorch)."""
    if axis >= 0:
        axis -= max(x1.ndim, x2.ndim)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise _OpError(f"linalg.cross: axis {axis} must have size 3, got shapes "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    return binary(_ext.CROSS, x1, x2, {"axis": axis} if axis != -1 else None)


def outer(x1, x2, /):
    """Outer product of two 1-D vectors."""
    if x1.ndim != 1 or x2.ndim != 1:
        raise _OpError(f"linalg.outer: expected 1-D inputs, got {x1.ndim}-D and {x2.ndim}-D")
    return _core.outer(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    """Sum of products over ``axes`` (see ``xgrad.array_api.tensordot``)."""
    from . import tensordot as _tensordot
    return _tensordot(x1, x2, axes=axes)


def vecdot(x1, x2, /, *, axis=-1):
    """Dot product ``sum(conj(x1) * x2)`` along ``axis`` (the same size in both operands)."""
    from . import _same_contracted_size
    _same_contracted_size(x1, x2, axis)
    return _core.vecdot(x1, x2, axis=axis)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The ``ord``-norm over ``axis`` (all elements by default)."""
    if isinstance(axis, list):
        axis = tuple(axis)
    return _core.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)


def diagonal(x, /, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset``-th diagonal of the last two axes (above the main one for
    ``offset > 0``); ``dim1``/``dim2`` (keyword-only, beyond the standard) pick two
    other axes."""
    _matrix(x, "diagonal")
    if (dim1 % x.ndim, dim2 % x.ndim) != (x.ndim - 2, x.ndim - 1):
        from .. import array_api as ns
        x = ns.moveaxis(x, (dim1, dim2), (-2, -1))
    return unary(_ext.DIAGONAL, x, {"offset": offset} if offset else None)


def trace(x, /, *, offset=0, dtype=None):
    """Sum of the ``offset``-th diagonal of the last two axes."""
    from ..ops.reductions import sum as _sum
    return _sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


# -- norms ------------------------------------------------------------------------------
def _extreme(values, largest):
    """The largest (smallest) of non-negative ``values`` along the last axis; the
    largest of none is 0, a constant (no gradient, as PyTorch's norms give), the
    smallest of none raises PyTorch's IndexError."""
    from .. import array_api as ns
    if values.shape[-1] == 0:
        if not largest:
            raise IndexError(f"amin(): Expected reduction dim {values.ndim - 1} to have "
                             "non-zero size.")
        return ns.zeros(tuple(values.shape[:-1]), dtype=values.dtype, device=values.device)
    return (ns.max if largest else ns.min)(values, axis=-1)


def matrix_norm(x, /, *, keepdims=False, ord="fro", dim=(-2, -1), dtype=None):
    """Matrix norm over the last two axes: ``'fro'``, ``'nuc'`` (sum of singular values),
    ``2`` / ``-2`` (largest / smallest singular value), ``1`` / ``-1`` (max / min column
    sum of ``|x|``), ``inf`` / ``-inf`` (max / min row sum). Composed from
    differentiable pieces; at ties (equal column sums, repeated extreme singular
    values) the gradient is shared like ``max``'s. ``dim`` (the two matrix axes) and
    ``dtype`` (keyword-only, beyond the standard) serve the PyTorch face."""
    from .. import array_api as ns
    _matrix(x, "matrix_norm")
    if dtype is not None:
        x = ns.astype(x, dtype)
    dims = tuple(sorted(d % x.ndim for d in dim))
    if tuple(d % x.ndim for d in dim) != (x.ndim - 2, x.ndim - 1):
        x = ns.moveaxis(x, tuple(dim), (-2, -1))
    inf = float("inf")
    if ord == "fro":
        out = vector_norm(x, axis=(-2, -1))
    elif ord == "nuc":
        out = ns.sum(svdvals(x), axis=-1)
    elif ord in (2, -2):
        out = _extreme(svdvals(x), ord > 0)
    elif ord in (1, -1, inf, -inf):
        sums = ns.sum(ns.abs(x), axis=-2 if ord in (1, -1) else -1)
        out = _extreme(sums, ord > 0)
    else:
        raise _OpError(f"linalg.matrix_norm: invalid ord {ord!r}")
    if keepdims:
        for d in dims:
            out = ns.expand_dims(out, axis=d)
    return out


# the op behind each function (for xgrad.coverage and introspection)
for _fn, _op in ((cholesky, _ext.CHOLESKY), (eigh, _ext.EIGH), (eigvalsh, _ext.EIGVALSH),
                 (svd, _ext.SVD), (svdvals, _ext.SVDVALS), (qr, _ext.QR), (inv, _ext.INV),
                 (solve, _ext.SOLVE), (det, _ext.DET), (slogdet, _ext.SLOGDET), (pinv, _ext.PINV),
                 (matrix_rank, _ext.MATRIX_RANK), (cross, _ext.CROSS), (diagonal, _ext.DIAGONAL)):
    _fn.op = _op
