"""The public namespace: the array API functions plus PyTorch's names for them.

``xgrad/__init__.py`` re-exports everything here; rules that run in tensor
mode (``create_graph=True``) call these functions through ``xp``.
"""

from __future__ import annotations

from ._creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack,  # noqa: F401
                        from_numpy, full, full_like, linspace, manual_seed, meshgrid, normal, ones,
                        ones_like, rand, rand_like, randint, randn, randn_like, randperm, seed,
                        tensor, tril, triu, zeros, zeros_like)
from .ops.creation_ops import astype, clone, to_device  # noqa: F401
from .ops.elementwise import *  # noqa: F401,F403
from .ops.elementwise import negative, subtract, multiply, divide, pow, abs  # noqa: F401
from .ops.indexing import take, take_along_axis  # noqa: F401
from .ops.linalg import dot, matmul, matrix_transpose, outer, tensordot, vecdot, vector_norm  # noqa: F401
from .ops.manipulation import (broadcast_arrays, broadcast_shapes, broadcast_to, concat,  # noqa: F401
                               expand_dims, flip, moveaxis, permute_dims, repeat, reshape, roll,
                               squeeze, stack, tile, unstack)
from .ops.nn import relu, sigmoid  # noqa: F401
from .ops.reductions import max, mean, min, prod, std, sum, var  # noqa: F401
from .ops.searching import argmax, argmin, clip, count_nonzero, nonzero, where  # noqa: F401


def all(x, /, *, axis=None, keepdims=False):
    """Whether every element (over ``axis``) is true."""
    from ._tensor import _wrap
    return _wrap(x._device.xp.all(x._data, axis=axis, keepdims=keepdims), x._device)


def any(x, /, *, axis=None, keepdims=False):
    """Whether some element (over ``axis``) is true."""
    from ._tensor import _wrap
    return _wrap(x._device.xp.any(x._data, axis=axis, keepdims=keepdims), x._device)


# -- PyTorch's names ------------------------------------------------------------------------
mul = multiply
sub = subtract
div = true_divide = divide
neg = negative
absolute = abs
cat = concatenate = concat
clamp = clip
unsqueeze = expand_dims
mm = bmm = matmul
permute = permute_dims
amax, amin = max, min


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """PyTorch's ``norm``: the vector p-norm over ``dim`` ('fro' and None mean p = 2)."""
    if p in ("fro", None):
        p = 2
    if isinstance(dim, list):
        dim = tuple(dim)
    return vector_norm(input, axis=dim, keepdims=keepdim, ord=p)


def transpose(input, dim0, dim1):
    """``input`` with axes ``dim0`` and ``dim1`` swapped."""
    axes = list(range(input.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return permute_dims(input, axes)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim`` through ``end_dim`` into one."""
    if input.ndim == 0:
        return reshape(input, (1,))
    start, end = start_dim % input.ndim, end_dim % input.ndim
    shape = tuple(input.shape)
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def expand(input, *sizes):
    """PyTorch's ``expand``: broadcast to ``sizes`` (-1 keeps a dimension)."""
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(input, shape)


def numel(input) -> int:
    """The number of elements."""
    return input.numel()


def is_tensor(obj) -> bool:
    from ._tensor import Tensor
    return isinstance(obj, Tensor)
