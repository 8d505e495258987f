"""``xgrad.linalg``: PyTorch's ``torch.linalg``, differentiable (the PyTorch face).

PyTorch's signatures and semantics: ``solve(A, B, *, left=True)`` treats ``B`` as
a batch of vectors when ``B.shape == A.shape[:-1]`` (PyTorch's rule; the
standard's :func:`xgrad.array_api.linalg.solve` only a 1-D ``B``),
``vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None)``,
``matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None)``,
``norm(A, ord=None, dim=None, keepdim=False)``, ``eigh(A, UPLO='L')``,
``cross(input, other, *, dim=-1)``, ``pinv(A, *, atol=None, rtol=None, hermitian=False)``,
plus ``multi_dot``, ``solve_triangular``, ``cond``. The functions are thin wrappers
over :mod:`xgrad.array_api.linalg` (the standard's face), whose rules live in
:mod:`xgrad.ops.linalg_ext`; every one has a gradient where one exists (all but
``matrix_rank``) and leading batch dimensions work throughout.
"""

from __future__ import annotations

from .array_api import linalg as _std
from .array_api.linalg import (EighResult, QRResult, SlogdetResult, SVDResult,  # noqa: F401
                               _rtol, _square, det, inv, matrix_power, matrix_transpose, outer,
                               slogdet, trace)
from .ops.linalg import tensordot  # noqa: F401  (broadcasts a size-1 contracted dim, as PyTorch)

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
           "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm", "EighResult", "QRResult", "SlogdetResult", "SVDResult",
           "norm", "multi_dot", "solve_triangular", "cond"]


def _no_out(out, name):
    if out is not None:
        raise NotImplementedError(f"xgrad.linalg.{name}: out= is not supported")


def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules (1-D operands, broadcasting batch axes); the
    two operands must have the same dtype, as in PyTorch."""
    _no_out(out, "matmul")
    from ._namespace import _check_same_dtype
    _check_same_dtype(input, other)
    return _std.matmul(input, other)


def cholesky(A, *, upper=False, out=None):
    """Cholesky factor of a symmetric (Hermitian) positive-definite ``A``: lower ``L``
    with ``A = L L^H`` (or upper ``U`` with ``A = U^H U``)."""
    _no_out(out, "cholesky")
    return _std.cholesky(A, upper=upper)


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric (Hermitian)
    ``A``: ``EighResult(eigenvalues, eigenvectors)``; the triangle ``UPLO`` is read."""
    _no_out(out, "eigh")
    return _std.eigh(A, UPLO=UPLO)


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) of a symmetric (Hermitian) ``A`` (triangle ``UPLO`` read)."""
    _no_out(out, "eigvalsh")
    return _std.eigvalsh(A, UPLO=UPLO)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition ``A = U diag(S) Vh``: ``SVDResult(U, S, Vh)``."""
    _no_out(out, "svd")
    return _std.svd(A, full_matrices=full_matrices)


def svdvals(A, *, driver=None, out=None):
    """Singular values of ``A``, descending."""
    _no_out(out, "svdvals")
    return _std.svdvals(A)


def qr(A, mode="reduced", *, out=None):
    """QR decomposition ``A = Q R``: ``QRResult(Q, R)`` (``mode`` 'reduced' or 'complete')."""
    _no_out(out, "qr")
    return _std.qr(A, mode=mode)


def _is_vector_rhs(A, B) -> bool:
    """PyTorch's rule: ``B`` is a (batch of) vector(s) when it is 1-D or has exactly
    ``A.shape[:-1]``."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True, out=None):
    """Solve ``A @ X = B`` (``X @ A = B`` with ``left=False``). ``B`` is a batch of
    vectors when ``B.shape == A.shape[:-1]`` or ``B`` is 1-D (PyTorch's rule); otherwise
    a batch of matrices ``(..., n, k)`` whose batch axes broadcast against ``A``'s."""
    _no_out(out, "solve")
    from .ops.manipulation import expand_dims, squeeze
    _square(A, "solve")
    if _is_vector_rhs(A, B):
        col = expand_dims(B, axis=-1)
        if left:
            return squeeze(_std.solve(A, col), axis=-1)
        # x A = b  <=>  A^T x^T = b^T
        return squeeze(_std.solve(matrix_transpose(A), col), axis=-1)
    return _std.solve(A, B, left=left)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse; singular values below ``rtol * max(S)`` are dropped
    (``atol`` is not supported). Differentiable where the rank is locally constant."""
    _no_out(out, "pinv")
    if atol is not None:
        raise NotImplementedError("xgrad.linalg.pinv: atol= is not supported; use rtol=")
    return _std.pinv(A, rtol=rtol)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Number of singular values above ``rtol * max(S)`` (an integer: no gradient)."""
    _no_out(out, "matrix_rank")
    if atol is not None:
        raise NotImplementedError("xgrad.linalg.matrix_rank: atol= is not supported; use rtol=")
    return _std.matrix_rank(A, rtol=rtol)


def cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-element vectors along ``dim`` (other axes broadcast)."""
    _no_out(out, "cross")
    return _std.cross(input, other, axis=dim)


def vecdot(x, y, *, dim=-1, out=None):
    """Dot product ``sum(conj(x) * y)`` along ``dim``."""
    _no_out(out, "vecdot")
    from .ops.linalg import vecdot as _vecdot  # broadcasts a size-1 dim, as PyTorch
    return _vecdot(x, y, axis=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset``-th diagonal of axes ``dim1``, ``dim2`` (the last two by default)."""
    return _std.diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm over ``dim`` (all elements by default)."""
    _no_out(out, "vector_norm")
    from .ops.creation_ops import astype
    if dtype is not None:
        x = astype(x, dtype)
    if isinstance(dim, list):
        dim = tuple(dim)
    return _std.vector_norm(x, axis=dim, keepdims=keepdim, ord=ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over axes ``dim``: ``'fro'``, ``'nuc'`` (sum of singular values),
    ``2`` / ``-2`` (largest / smallest singular value), ``1`` / ``-1`` (max / min
    column sum of ``|A|``), ``inf`` / ``-inf`` (max / min row sum)."""
    _no_out(out, "matrix_norm")
    return _std.matrix_norm(A, ord=ord, dim=tuple(dim), keepdims=keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.norm``: a matrix norm when ``dim`` has two axes or ``ord`` is a
    string (or ``A`` is 2-D with ``ord`` given), else a vector norm (2-norm of the
    flattened input by default)."""
    _no_out(out, "norm")
    from .ops.creation_ops import astype
    if dtype is not None:
        A = astype(A, dtype)
    if isinstance(dim, int):
        dim = (dim,)
    matrix = isinstance(ord, str) or (dim is not None and len(dim) == 2) or \
        (dim is None and ord is not None and A.ndim == 2)
    if matrix:
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim)
    return vector_norm(A, 2 if ord is None else ord, None if dim is None else tuple(dim), keepdim)


def multi_dot(tensors, *, out=None):
    """``torch.linalg.multi_dot``: the product of a chain of matrices (1-D ends allowed)."""
    _no_out(out, "multi_dot")
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError("multi_dot(): expected at least 2 tensors but got "
                           f"{len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = _std.matmul(out, t)
    return out


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """``torch.linalg.solve_triangular``: solve with the triangle of ``A`` that ``upper``
    names (the other is ignored). Uses the general solve (the standard has no
    triangular solver), so it costs an LU factorisation."""
    _no_out(out, "solve_triangular")
    from . import array_api as ns
    T = ns.triu(A) if upper else ns.tril(A)
    if unitriangular:
        n = A.shape[-1]
        eye = ns.eye(n, dtype=A.dtype, device=A.device)
        T = T * (1.0 - eye) + eye
    return _std.solve(T, B, left=left)


def cond(A, p=None, *, out=None):
    """``torch.linalg.cond``: ``||A|| * ||A^{-1}||`` (2-norm, via singular values, by default)."""
    _no_out(out, "cond")
    from . import array_api as ns
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = ns.max(s, axis=-1), ns.min(s, axis=-1)
        return big / small if p in (None, 2) else small / big
    return matrix_norm(A, ord=p) * matrix_norm(inv(A), ord=p)


for _fn in (cholesky, eigh, eigvalsh, svd, svdvals, qr, solve, pinv, matrix_rank, cross,
            diagonal):
    _fn.op = getattr(_std, _fn.__name__).op
del _fn
