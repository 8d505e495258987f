"""View and joining rules of PyTorch's face that are not compositions of existing ops.

``diagonal`` (PyTorch's: any two axes, a view) and its inverse ``diag_embed``
(zeros of a shape with a vector laid along a diagonal) are each other's VJP,
so both are differentiable to any order; both are linear (JVP = the op on the
tangent). Everything else of PyTorch's indexing, slicing and joining functions
is composed from registered ops in :mod:`xgrad._torch_shape` (``narrow``,
``select``, ``split``... from basic ``getitem``, a view; ``movedim`` from
``permute_dims``, a view; ``gather`` from ``take_along_axis``; ...).
"""

from __future__ import annotations

from ._registry import LINEAR, call, defop


def _order(ndim, dim1, dim2):
    """The permutation that moves axes ``dim1``, ``dim2`` to the end (others keep order)."""
    others = [k for k in range(ndim) if k not in (dim1, dim2)]
    return tuple(others + [dim1, dim2])


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _diagonal_forward(xp, x, *, offset=0, dim1=0, dim2=1):
    perm = _order(x.ndim, dim1, dim2)
    if perm != tuple(range(x.ndim)):
        x = xp.permute_dims(x, perm)
    lin = getattr(xp, "linalg", None)
    if lin is not None and hasattr(lin, "diagonal"):
        return lin.diagonal(x, offset=offset)
    # no linalg extension: the diagonal as a masked sum (same values)
    return xp.sum(_embed(xp, None, x, offset, gather=True), axis=-1)


def _embed(xp, v, like, offset, gather=False, m=None, n=None):
    """``v`` (..., k) laid along diagonal ``offset`` of (..., m, n) matrices (zeros
    elsewhere), as ``(R * v) @ C^T`` with 0/1 selection matrices R (m, k), C (n, k);
    with ``gather``: ``like`` (..., m, n) times the mask, rows summed into (..., n)."""
    if gather:
        m, n = like.shape[-2], like.shape[-1]
        mask = xp.eye(m, n, k=offset, dtype=like.dtype, device=like.device)
        return xp.matrix_transpose(like * mask)[..., :_diag_len(m, n, offset), :]
    k = v.shape[-1]
    rows = xp.eye(m, k, k=min(offset, 0), dtype=v.dtype, device=v.device)
    cols = xp.eye(n, k, k=-max(offset, 0), dtype=v.dtype, device=v.device)
    return xp.matmul(rows * xp.expand_dims(v, axis=-2), xp.matrix_transpose(cols))


def _diag_len(m, n, offset):
    return max(0, min(m + min(offset, 0), n - max(offset, 0)))


def _diag_embed_forward(xp, v, *, shape, offset=0, dim1=0, dim2=1):
    m, n = shape[dim1], shape[dim2]
    out = _embed(xp, v, v, offset, m=m, n=n)
    perm = _order(len(shape), dim1, dim2)
    if perm != tuple(range(len(shape))):
        out = xp.permute_dims(out, _inverse(perm))
    return out


DIAGONAL = defop(
    "diagonal", _diagonal_forward,
    (lambda xp, g, out, x, *, offset=0, dim1=0, dim2=1:
     call(xp, DIAG_EMBED, g, shape=tuple(x.shape), offset=offset, dim1=dim1, dim2=dim2),),
    saves=(), view=True, jvp=LINEAR, grad_name="DiagonalBackward0")

DIAG_EMBED = defop(
    "diag_embed", _diag_embed_forward,
    (lambda xp, g, out, v, *, shape, offset=0, dim1=0, dim2=1:
     call(xp, DIAGONAL, g, offset=offset, dim1=dim1, dim2=dim2),),
    saves=(), jvp=LINEAR, grad_name="DiagEmbedBackward0")
