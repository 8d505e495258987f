"""The public namespace: the array API functions plus PyTorch's names for them.

``xgrad/__init__.py`` re-exports everything here; rules that run in tensor
mode (``create_graph=True``) call these functions through ``xp``.
"""

from __future__ import annotations

from ._creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack,  # noqa: F401
                        from_numpy, full, full_like, linspace, manual_seed, meshgrid, normal, ones,
                        ones_like, rand, rand_like, randint, randn, randn_like, randperm, seed,
                        tensor, tril, triu, zeros, zeros_like)
from ._creation import compute  # noqa: F401
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
from .ops.reductions import cumulative_prod, cumulative_sum  # noqa: F401
from .ops.manipulation import diff  # noqa: F401
from .ops.sorting import argsort, searchsorted, sort  # noqa: F401
from .ops.sets import unique_all, unique_counts, unique_inverse, unique_values  # noqa: F401
from ._dtype_functions import can_cast, finfo, iinfo, isdtype, result_type  # noqa: F401
from ._info import __array_namespace_info__  # noqa: F401


def all(x, /, *, axis=None, keepdims=False):
    """Whether every element (over ``axis``) is true."""
    from ._tensor import _wrap
    from ._creation import as_tensor_arg
    x = as_tensor_arg(x)
    return _wrap(x._device.xp.all(x._data, axis=axis, keepdims=keepdims), x._device)


def any(x, /, *, axis=None, keepdims=False):
    """Whether some element (over ``axis``) is true."""
    from ._tensor import _wrap
    from ._creation import as_tensor_arg
    x = as_tensor_arg(x)
    return _wrap(x._device.xp.any(x._data, axis=axis, keepdims=keepdims), x._device)


# -- PyTorch's names ------------------------------------------------------------------------
mul = multiply
sub = subtract
div = true_divide = divide
neg = negative
absolute = abs
cat = concatenate = concat
clamp = clip
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


# -- PyTorch's dim= / keepdim= keywords on the standard's functions ------------------------
def _accepts_dim(fn):
    """``fn`` also taking PyTorch's ``dim=`` (for ``axis=``) and ``keepdim=`` (for ``keepdims=``)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, dim=None, keepdim=None, **kwargs):
        if dim is not None:
            kwargs["axis"] = tuple(dim) if isinstance(dim, list) else dim
        if keepdim is not None:
            kwargs["keepdims"] = keepdim
        return fn(*args, **kwargs)
    return wrapper


sum, mean, prod, max, min, var, std = map(_accepts_dim, (sum, mean, prod, max, min, var, std))
argmax, argmin, count_nonzero, all, any = map(_accepts_dim, (argmax, argmin, count_nonzero, all, any))
cumulative_sum, cumulative_prod, argsort, sort = map(_accepts_dim, (cumulative_sum, cumulative_prod,
                                                                   argsort, sort))
concat, stack, flip, squeeze, expand_dims, unstack, diff, roll = map(
    _accepts_dim, (concat, stack, flip, squeeze, expand_dims, unstack, diff, roll))
cat = concatenate = concat
unbind = unstack


def unsqueeze(input, dim):
    """PyTorch's ``unsqueeze``: a size-1 axis inserted at ``dim``."""
    return expand_dims(input, axis=dim)


amax, amin = max, min


def cumsum(input, dim, *, dtype=None):
    """PyTorch's ``cumsum``: running sums along ``dim``."""
    return cumulative_sum(input, axis=dim, dtype=dtype)


def cumprod(input, dim, *, dtype=None):
    """PyTorch's ``cumprod``: running products along ``dim``."""
    return cumulative_prod(input, axis=dim, dtype=dtype)


# -- PyTorch's top-level linear algebra names (implemented in xgrad.linalg) -----------------
def inverse(input, /):
    """PyTorch's ``inverse``: ``xgrad.linalg.inv``."""
    from .linalg import inv
    return inv(input)


def det(input, /):
    """PyTorch's ``det``: ``xgrad.linalg.det``."""
    from .linalg import det as _det
    return _det(input)


def slogdet(input, /):
    """PyTorch's ``slogdet``: ``xgrad.linalg.slogdet``."""
    from .linalg import slogdet as _slogdet
    return _slogdet(input)


def trace(input, /):
    """PyTorch's ``trace``: sum of the main diagonal (``xgrad.linalg.trace``)."""
    from .linalg import trace as _trace
    return _trace(input)


def matrix_power(input, n, /):
    """PyTorch's ``matrix_power``: ``xgrad.linalg.matrix_power``."""
    from .linalg import matrix_power as _matrix_power
    return _matrix_power(input, n)


def pinverse(input, rcond=1e-15):
    """PyTorch's ``pinverse``: ``xgrad.linalg.pinv`` with relative cutoff ``rcond``."""
    from .linalg import pinv
    return pinv(input, rtol=rcond)
