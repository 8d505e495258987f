"""``xgrad.linalg``: PyTorch's ``torch.linalg``, differentiable (the PyTorch face).

PyTorch's signatures and semantics: ``solve(A, B, *, left=True)`` treats ``B`` as
a batch of vectors when ``B.shape == A.shape[:-1]`` (PyTorch's rule; the
standard's :func:`xgrad.array_api.linalg.solve` only a 1-D ``B``),
``vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None)``,
``matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None)``,
``norm(A, ord=None, dim=None, keepdim=False)``, ``eigh(A, UPLO='L')``,
``cross(input, other, *, dim=-1)``, ``pinv``/``matrix_rank`` with PyTorch's ``atol``,
``rtol`` (numbers or tensors), ``hermitian`` and legacy ``rcond``/``tol``, plus
``multi_dot``, ``solve_triangular``, ``cond``. Beyond the standard: ``eig``/``eigvals``
(the backend's general eigendecomposition through ``Backend.linalg_eig``; devices
without one raise NotImplementedError) and ``ldl_factor``/``ldl_factor_ex``/
``ldl_solve`` (LAPACK's Bunch-Kaufman ``sytrf``/``sytrs`` step by step: PyTorch's LD and
pivots; no gradient, as PyTorch's). The functions are thin wrappers over
:mod:`xgrad.array_api.linalg` (the standard's face) or ops of their own; the rules live
in :mod:`xgrad.ops.linalg_ext`; every one has a gradient where PyTorch's has one
(first and second order, forward mode) and leading batch dimensions work throughout.
"""

from __future__ import annotations

from typing import NamedTuple

from ._tensor import Tensor

from .array_api import linalg as _std
from .array_api.linalg import (EighResult, QRResult, SlogdetResult, SVDResult,  # noqa: F401
                               _rtol, _square, det, inv, matrix_power, matrix_transpose, outer,
                               slogdet, trace)
from .ops.linalg import tensordot  # noqa: F401  (broadcasts a size-1 contracted dim, as PyTorch)

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
           "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm", "EighResult", "QRResult", "SlogdetResult", "SVDResult",
           "norm", "multi_dot", "solve_triangular", "cond", "eig", "eigvals", "EigResult",
           "ldl_factor", "ldl_factor_ex", "ldl_solve", "LDLFactorResult", "LDLFactorExResult"]


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


class EigResult(NamedTuple):
    """``torch.return_types.linalg_eig``: ``(eigenvalues, eigenvectors)``."""
    eigenvalues: Tensor
    eigenvectors: Tensor


def _eig_input(A, name):
    _square(A, name)
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {A.dtype}")


def eig(A, *, out=None):
    """Eigenvalues and eigenvectors of a general square ``A``: ``EigResult(eigenvalues,
    eigenvectors)``, both complex (also for a real ``A``), eigenvectors of unit norm, in
    the order LAPACK's ``geev`` gives. The standard has no such function: it is the
    backend's (``Backend.linalg_eig``; NumPy's on cpu); devices whose library has none
    (array-api-strict, CuPy) raise NotImplementedError. Differentiable as PyTorch's
    (first and second order, forward mode): eigenvectors are unique only up to a phase,
    so only losses invariant under ``v -> e^{i phi} v`` (functions of the eigenvalues,
    of ``|v|``...) have a gradient; backward raises for others, as PyTorch's."""
    _no_out(out, "eig")
    from ._tensor import unary
    from .ops import linalg_ext as _ext
    _eig_input(A, "eig")
    return EigResult(*unary(_ext.EIG, A))


def eigvals(A, *, out=None):
    """Eigenvalues of a general square ``A`` (complex), as :func:`eig` gives them;
    differentiable (the eigenvalue part of eig's gradient)."""
    _no_out(out, "eigvals")
    _eig_input(A, "eigvals")
    return eig(A).eigenvalues


class LDLFactorResult(NamedTuple):
    """``torch.return_types.linalg_ldl_factor``: ``(LD, pivots)``."""
    LD: Tensor
    pivots: Tensor


class LDLFactorExResult(NamedTuple):
    """``torch.return_types.linalg_ldl_factor_ex``: ``(LD, pivots, info)``."""
    LD: Tensor
    pivots: Tensor
    info: Tensor


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """LDL factorization of a symmetric (Hermitian with ``hermitian=True``) ``A``, read
    from its lower triangle, with Bunch-Kaufman pivoting: LAPACK's ``sytrf``/``hetrf``
    (as PyTorch), step by step in standard functions. ``LD`` holds the unit lower
    triangular ``L`` below the diagonal and the 1x1 and 2x2 blocks of ``D`` on and next
    to it; ``pivots`` are LAPACK's (1-based; a 2x2 block's two entries are both
    ``-p``); ``info`` > 0 where ``D`` is exactly singular (column ``info``). The pivot
    choices read values: one host read per column. Not differentiable (neither is
    PyTorch's)."""
    _no_out(out, "ldl_factor_ex")
    from ._tensor import unary
    from .ops import linalg_ext as _ext
    _ldl_input(A, "ldl_factor_ex")
    LD, piv, info = unary(_ext.LDL_FACTOR, A, {"hermitian": True} if hermitian else None)
    if check_errors:
        _ldl_check(info, "ldl_factor_ex")
    return LDLFactorExResult(LD, piv, info)


def ldl_factor(A, *, hermitian=False, out=None):
    """:func:`ldl_factor_ex` without ``info``: raises RuntimeError where ``D`` is
    exactly singular (as PyTorch)."""
    _no_out(out, "ldl_factor")
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    _ldl_check(info, "ldl_factor")
    return LDLFactorResult(LD, piv)


def _ldl_input(A, name):
    _square(A, name)
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"torch.linalg.{name}: Expected a floating point or complex tensor "
                           f"as input. Got {A.dtype}")


def _ldl_check(info, name):
    from . import array_api as ns
    if info.size and bool(ns.any(info > 0)):
        k = int(ns.max(info))
        raise RuntimeError(f"torch.linalg.{name}: the factorization could not be completed: "
                           f"D({k},{k}) is exactly zero (the input is singular)")


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """Solve ``A X = B`` from :func:`ldl_factor`'s ``(LD, pivots)`` of ``A``: LAPACK's
    ``sytrs``/``hetrs`` (``hermitian`` as given to the factorization), step by step in
    standard functions; batch dimensions of ``LD``, ``pivots`` and ``B (..., n, k)``
    broadcast. Not differentiable (neither is PyTorch's)."""
    _no_out(out, "ldl_solve")
    from . import array_api as ns
    from ._tensor import apply
    from .ops import linalg_ext as _ext
    _square(LD, "ldl_solve")
    if B.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{max(B.ndim, 1)}, "
                         f"{max(B.ndim, 1) - 1}], but got -2)")
    n = LD.shape[-1]
    if B.shape[-2] != n or tuple(pivots.shape[-1:]) != (n,):
        raise RuntimeError(f"torch.linalg.ldl_solve: Incompatible shapes of LD {tuple(LD.shape)}, "
                           f"pivots {tuple(pivots.shape)} and B {tuple(B.shape)}")
    if pivots.dtype != ns.int32:
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected pivots to be integers. Got "
                           f"{pivots.dtype}")
    if LD.dtype != B.dtype:
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected LD and B to have the same dtype, "
                           f"but got LD with dtype {LD.dtype} and B with dtype {B.dtype} instead")
    from .ops.manipulation import broadcast_shapes
    batch = broadcast_shapes(tuple(LD.shape[:-2]), tuple(pivots.shape[:-1]), tuple(B.shape[:-2]))
    LD = ns.broadcast_to(LD, tuple(batch) + (n, n))
    pivots = ns.broadcast_to(pivots, tuple(batch) + (n,))
    B = ns.broadcast_to(B, tuple(batch) + tuple(B.shape[-2:]))
    return apply(_ext.LDL_SOLVE, (LD, pivots, B), {"hermitian": True} if hermitian else None)


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


def _tol_param(value, name):
    """An ``atol``/``rtol`` value as the op takes it: a number, or a real tensor's array
    (broadcasting against the batch; it carries no gradient: the result is piecewise
    constant in it)."""
    from ._tensor import Tensor
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, Tensor):
        if value.dtype.is_complex:
            raise RuntimeError(f"linalg.{name}: tolerance must be a real tensor, got "
                               f"{value.dtype}")
        return value._data
    raise TypeError(f"linalg.{name}: atol/rtol must be a number or a tensor, got "
                    f"{type(value).__name__}")


def _tol_params(atol, rtol, hermitian, name):
    params = {}
    if atol is not None:
        params["atol"] = _tol_param(atol, name)
    if rtol is not None:
        params["rtol"] = _tol_param(rtol, name)
    if hermitian:
        params["hermitian"] = True
    return params or None


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Moore-Penrose pseudo-inverse, PyTorch's semantics: singular values (``|eigenvalues|``
    of the lower triangle with ``hermitian=True``) above ``max(atol, rtol * max(S))``
    are inverted, the others dropped. ``atol`` defaults to 0, ``rtol`` to
    ``eps * max(m, n)`` (to 0 where ``atol > 0`` when only ``atol`` is given); both may be
    tensors broadcasting against the batch. PyTorch's legacy ``rcond`` (positional or
    keyword) is ``rtol`` with ``atol = 0``. Differentiable where the rank is locally
    constant (PyTorch's ``pinv_backward``, also with ``hermitian``)."""
    _no_out(out, "pinv")
    from ._tensor import unary
    from .ops import linalg_ext as _ext
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.pinv: rcond cannot be combined with atol or rtol")
        atol, rtol = 0.0, rcond
    _std._matrix(A, "pinv")
    if hermitian:
        _square(A, "pinv")
    return unary(_ext.PINV, A, _tol_params(atol, rtol, hermitian, "pinv"))


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Number of singular values (``|eigenvalues|`` with ``hermitian=True``) above
    ``max(atol, rtol * max(S))``, as an int64 tensor (no gradient); tolerances as in
    :func:`pinv`. PyTorch's legacy ``tol`` (positional or keyword) is ``atol`` with
    ``rtol = 0``."""
    _no_out(out, "matrix_rank")
    from ._tensor import unary
    from .ops import linalg_ext as _ext
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.matrix_rank: tol cannot be combined with atol or rtol")
        atol, rtol = tol, 0.0
    _std._matrix(A, "matrix_rank")
    if hermitian:
        _square(A, "matrix_rank")
    params = _tol_params(atol, rtol, hermitian, "matrix_rank")
    if params is None:  # the standard's default rtol is PyTorch's: the backend's own
        return _std.matrix_rank(A)
    params.setdefault("atol", 0.0)  # the composed path (the standard has no atol)
    return unary(_ext.MATRIX_RANK, A, params)


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
    """The ``ord``-norm over ``dim`` (all elements by default). As in PyTorch, the
    ``inf``/``-inf`` norms of an empty selection raise (no identity); the others are 0."""
    _no_out(out, "vector_norm")
    from .ops.creation_ops import astype
    if dtype is not None:
        x = astype(x, dtype)
    if isinstance(dim, list):
        dim = tuple(dim)
    if isinstance(ord, (int, float)) and ord in (float("inf"), -float("inf")):
        if dim is None and x.size == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                               "tensor because the operation does not have an identity")
        for d in ((dim,) if isinstance(dim, int) else dim or ()):
            if x.ndim and x.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on the "
                                   f"dimension {d} because this dimension is empty and the "
                                   "operation does not have an identity")
    return _std.vector_norm(x, axis=dim, keepdims=keepdim, ord=ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over axes ``dim``: ``'fro'``, ``'nuc'`` (sum of singular values),
    ``2`` / ``-2`` (largest / smallest singular value), ``1`` / ``-1`` (max / min
    column sum of ``|A|``), ``inf`` / ``-inf`` (max / min row sum). Of an empty matrix,
    PyTorch's values: the largest of no values is 0 (a constant, without gradient), the
    smallest of none raises IndexError."""
    _no_out(out, "matrix_norm")
    if isinstance(dim, int) or len(tuple(dim)) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    return _std.matrix_norm(A, ord=ord, dim=tuple(dim), keepdims=keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.norm``: a matrix norm when ``ord`` is a string, or ``ord`` is given
    and ``dim`` has two axes (or is None with a 2-D ``A``); else a vector norm (the
    2-norm of the flattened input by default). PyTorch's checks: ``dim`` of length 1
    or 2; without ``dim`` but with ``ord``, a 1-D or 2-D ``A``."""
    _no_out(out, "norm")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
    elif ord is not None and A.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    if ord is not None and ((dim is not None and len(dim) == 2) or (dim is None and A.ndim == 2)):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


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
    if A.ndim >= 2 and A.shape[-1] == A.shape[-2] == 0:
        # PyTorch: the condition number of an empty matrix is 0, a constant
        return ns.zeros(A.shape[:-2], dtype=A.dtype, device=A.device)
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = ns.max(s, axis=-1), ns.min(s, axis=-1)
        return big / small if p in (None, 2) else small / big
    return matrix_norm(A, ord=p) * matrix_norm(inv(A), ord=p)


for _fn in (cholesky, eigh, eigvalsh, svd, svdvals, qr, solve, pinv, matrix_rank, cross,
            diagonal):
    _fn.op = getattr(_std, _fn.__name__).op
del _fn
