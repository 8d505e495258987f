"""Linear algebra: matmul and friends, norms. (The ``xgrad.linalg`` namespace
re-exports these with the standard's extension functions.)"""

from __future__ import annotations

import math

from .._tensor import binary, unary
from ._registry import defop, LINEAR, BILINEAR, REDUCTION
from .reductions import expand_reduced, _keep
from .elementwise import cj  # complex rules: PyTorch's conjugate convention


def _mT(xp, a):
    return xp.matrix_transpose(a)


def _matmul_vjp_x(xp, g, out, x, y):
    y = cj(xp, y)                                             # complex: g @ y^H
    if y.ndim == 1:
        if x.ndim == 1:                                       # (k,) @ (k,) -> ()
            return g * y
        return xp.expand_dims(g, axis=-1) * y                 # (..., n, k) @ (k,) -> (..., n)
    if x.ndim == 1:                                           # (k,) @ (..., k, m) -> (..., m)
        return xp.matmul(y, xp.expand_dims(g, axis=-1))[..., 0]
    return xp.matmul(g, _mT(xp, y))


def _matmul_vjp_y(xp, g, out, x, y):
    x = cj(xp, x)                                             # complex: x^H @ g
    if x.ndim == 1:
        if y.ndim == 1:
            return g * x
        return xp.expand_dims(x, axis=-1) * xp.expand_dims(g, axis=-2)
    if y.ndim == 1:
        return xp.matmul(_mT(xp, x), xp.expand_dims(g, axis=-1))[..., 0]
    return xp.matmul(_mT(xp, x), g)


# batch dimensions broadcast; the engine sums them back
MATMUL = defop("matmul", lambda xp, x, y: xp.matmul(x, y), (_matmul_vjp_x, _matmul_vjp_y),
               broadcasts=True, grad_name="MmBackward0", jvp=BILINEAR)
MATRIX_TRANSPOSE = defop("matrix_transpose", lambda xp, x: xp.matrix_transpose(x),
                         (lambda xp, g, out, x: xp.matrix_transpose(g),), saves=(), view=True,
                         grad_name="TransposeBackward0", jvp=LINEAR)
DOT = defop("dot", lambda xp, x, y: xp.matmul(x, y),
            (lambda xp, g, out, x, y: g * cj(xp, y), lambda xp, g, out, x, y: g * cj(xp, x)),
            jvp=BILINEAR)


def _vecdot_forward(xp, x, y, *, axis=-1):
    return xp.vecdot(x, y, axis=axis)


VECDOT = defop("vecdot", _vecdot_forward,
               (lambda xp, g, out, x, y, *, axis=-1: cj(xp, xp.expand_dims(g, axis=axis)) * y,
                lambda xp, g, out, x, y, *, axis=-1: xp.expand_dims(g, axis=axis) * x),
               broadcasts=True, jvp=BILINEAR)


def matmul(x1, x2, /):
    """Matrix product with broadcasting batch dimensions (1-D operands as vectors)."""
    return binary(MATMUL, x1, x2)


def matrix_transpose(x, /):
    """Swap the last two axes."""
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got {x.ndim}")
    return unary(MATRIX_TRANSPOSE, x)


def vecdot(x1, x2, /, *, axis=-1):
    """Dot product of vectors along ``axis`` (broadcasting the others; the first
    argument is conjugated)."""
    if axis >= 0:  # the standard counts from the end; accept a non-negative axis of the broadcast
        axis -= max(x1.ndim, x2.ndim)
    if x1.ndim == 0 or x2.ndim == 0 or (x1.shape[axis] != x2.shape[axis]
                                        and 1 in (x1.shape[axis], x2.shape[axis])):
        # PyTorch broadcasts these too (a 0-d operand, a size-1 axis): the composed form
        from .elementwise import conj
        from .reductions import sum as _sum
        product = conj(x1) * x2
        return _sum(product, axis=axis if product.ndim else None)
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: sizes {x1.shape[axis]} and {x2.shape[axis]} along axis {axis} differ")
    return binary(VECDOT, x1, x2, {"axis": axis} if axis != -1 else None)


def dot(input, tensor, /):
    """PyTorch's ``dot``: inner product of two 1-D tensors of the same length."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{tensor.shape[0]}] to have the same number of elements")
    return binary(DOT, input, tensor)


def outer(x1, x2, /):
    """Outer product of two vectors."""
    from .manipulation import expand_dims
    return expand_dims(x1, axis=-1) * expand_dims(x2, axis=0)


# -- vector norm ------------------------------------------------------------------
def _norm_forward(xp, x, *, axis=None, keepdims=False, ord=2):
    if ord == 0:  # the number of nonzero elements (0 of none: NumPy's fails on empty input)
        real = xp.real(x) if "complex" in str(x.dtype) else x
        return xp.sum(xp.astype(x != 0, real.dtype), axis=axis, keepdims=keepdims)
    return xp.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)


def _norm_vjp(xp, g, out, x, *, axis=None, keepdims=False, ord=2):
    g = expand_reduced(xp, g, x.shape, axis, keepdims)
    n = _keep(xp, out, x.shape, axis, keepdims)
    if ord == 2:      # x / |x|, taken as 0 at x = 0 (where x / 1 is 0 already)
        return g * x / xp.where(n == 0, 1.0, n)
    if ord == 1:
        return g * xp.sign(x)
    if ord == 0:
        return g * 0.0
    if math.isinf(ord):  # the extreme elements share the gradient
        hits = xp.astype(xp.abs(x) == n, g.dtype)
        return g * xp.sign(x) * hits / xp.sum(hits, axis=axis, keepdims=True)
    # general p: sign(x) |x|^(p-1) / |x|_p^(p-1)
    ax = xp.abs(x)
    return g * xp.sign(x) * ax ** (ord - 1) / xp.where(n == 0, 1.0, n) ** (ord - 1)


VECTOR_NORM = defop("vector_norm", _norm_forward, (_norm_vjp,), saves=(0, "out"),
                    grad_name="LinalgVectorNormBackward0", jvp=REDUCTION)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The ``ord``-norm of ``x`` over ``axis`` (all elements by default)."""
    params = {"ord": ord}
    if axis is not None and x.ndim == 0:  # PyTorch accepts dim 0 and -1 on a 0-d tensor
        from .reductions import normalize_axes
        normalize_axes(axis, 0)  # (validates it)
        axis = None
    if axis is not None:
        params["axis"] = axis
    if keepdims:
        params["keepdims"] = True
    return unary(VECTOR_NORM, x, params)


def _size(shape, axes) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def tensordot(x1, x2, /, *, axes=2):
    """Sum products over ``axes`` (an int: the last/first ``axes`` axes; or two sequences)."""
    from .manipulation import permute_dims, reshape
    if isinstance(axes, int):
        ax1 = list(range(x1.ndim - axes, x1.ndim))
        ax2 = list(range(axes))
    else:
        ax1 = [a % x1.ndim for a in axes[0]]
        ax2 = [a % x2.ndim for a in axes[1]]
    s1, s2 = list(x1.shape), list(x2.shape)
    for i, j in zip(ax1, ax2):  # PyTorch broadcasts a contracted dimension of size 1
        if s1[i] != s2[j] and 1 in (s1[i], s2[j]):
            s1[i] = s2[j] = s1[i] * s2[j]
    if s1 != list(x1.shape) or s2 != list(x2.shape):
        from .manipulation import broadcast_to
        x1, x2 = broadcast_to(x1, tuple(s1)), broadcast_to(x2, tuple(s2))
    free1 = [i for i in range(x1.ndim) if i not in ax1]
    free2 = [i for i in range(x2.ndim) if i not in ax2]
    k, m, n = (_size(x1.shape, ax1), _size(x1.shape, free1), _size(x2.shape, free2))
    a = reshape(permute_dims(x1, free1 + ax1), (m, k))  # explicit sizes: -1 is ambiguous when empty
    b = reshape(permute_dims(x2, ax2 + free2), (k, n))
    return reshape(matmul(a, b), tuple(x1.shape[i] for i in free1) + tuple(x2.shape[i] for i in free2))


