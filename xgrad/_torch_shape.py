"""PyTorch's indexing, slicing, joining and mutating functions, "other operations"
and BLAS/LAPACK names, with PyTorch's signatures (the PyTorch face).

Each public function is listed in ``__all__``; ``xgrad/__init__.py`` re-exports
them and this module attaches the matching ``Tensor`` methods.

Almost everything is composed from registered ops, so gradients (any order) and
JVPs come from those ops. PyTorch's views stay views here: ``narrow``,
``select``, ``split``, ``chunk``, ``tensor_split``, ``unbind``, ``h/v/dsplit``
are basic ``getitem`` (a view op); ``movedim``, ``swapdims``, ``t``,
``adjoint`` are ``permute_dims`` / ``matrix_transpose`` (view ops);
``diagonal`` is its own view op (:mod:`xgrad.ops.joining`).
"""

from __future__ import annotations

import builtins
import itertools
import math
import numbers
from typing import NamedTuple

from . import _dtypes
from ._tensor import Tensor, apply, inplace, unary
from ._creation import arange, as_tensor_arg, asarray, eye, ones, zeros
from .ops import creation_ops as _C
from .ops import elementwise as _E
from .ops import indexing as _I
from .ops import linalg as _L
from .ops import manipulation as _M
from .ops import reductions as _R
from .ops import searching as _S
from .ops import joining as _J
from .ops import scatter_gather as _SG
from .ops.blas import parse_einsum

__all__ = [
    # indexing, slicing, joining, mutating
    "adjoint", "argwhere", "chunk", "column_stack", "diagonal_scatter", "dsplit", "dstack",
    "gather", "hsplit", "hstack", "index_add", "index_copy", "index_fill", "index_put",
    "index_reduce", "index_select", "masked_fill", "masked_scatter", "masked_select", "movedim",
    "moveaxis", "narrow", "narrow_copy", "row_stack", "scatter", "scatter_add", "scatter_reduce",
    "select", "select_scatter", "slice_scatter", "split", "swapaxes", "swapdims", "t", "take",
    "take_along_dim", "tensor_split", "unflatten", "unravel_index", "vsplit", "vstack",
    # other operations
    "atleast_1d", "atleast_2d", "atleast_3d", "bincount", "block_diag", "broadcast_tensors",
    "bucketize", "cartesian_prod", "cdist", "combinations", "corrcoef", "cov", "cross", "diag",
    "diag_embed", "diagflat", "diagonal", "diff", "einsum", "fliplr", "flipud", "gcd", "histc",
    "histogram", "histogramdd", "kron", "lcm", "ravel", "renorm", "repeat_interleave", "resolve_conj",
    "resolve_neg", "rot90", "searchsorted", "tril_indices", "triu_indices", "vander",
    "view_as_complex", "view_as_real",
    # BLAS and LAPACK
    "addbmm", "addmm", "addmv", "addr", "baddbmm", "chain_matmul", "cholesky", "cholesky_inverse",
    "cholesky_solve", "ger", "inner", "logdet", "matrix_exp", "mv", "qr", "svd", "trapz",
    "trapezoid", "cumulative_trapezoid", "triangular_solve", "vdot", "addcmul", "addcdiv",
    "lu", "lu_solve", "lu_unpack", "svd_lowrank", "pca_lowrank", "geqrf", "orgqr", "ormqr",
]


# -- argument helpers ---------------------------------------------------------------------
def _is_int(dtype) -> bool:
    return not dtype.is_inexact and dtype is not _dtypes.bool_


def _tensor(x) -> Tensor:
    return as_tensor_arg(x)


def _dim(dim, ndim, *, allow_scalar=True) -> int:
    """``dim`` wrapped into ``[0, ndim)``; PyTorch's IndexError when out of range (a 0-d
    tensor takes dims -1 and 0, as in PyTorch)."""
    n = max(ndim, 1) if allow_scalar else ndim
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return int(dim) % n


def _int(v) -> int:
    return int(v.item()) if isinstance(v, Tensor) else int(v)


def _sizes(args):
    """``f(2, 3)`` or ``f((2, 3))`` -> ``(2, 3)``."""
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        return tuple(_int(a) for a in args[0])
    return tuple(_int(a) for a in args)


def _slice_key(ndim, dim, key):
    return (slice(None),) * dim + (key,) + (slice(None),) * (ndim - dim - 1)


def _index_tensor(index, device) -> Tensor:
    if not isinstance(index, Tensor):
        index = asarray(index, device=device)
    if not _is_int(index.dtype):
        raise RuntimeError(f"expected an integer index tensor, got {index.dtype}")
    return index


def _like(x: Tensor, value, dtype=None):
    return asarray(value, dtype=dtype or x.dtype, device=x.device)


# -- views: narrow, select, split and friends ----------------------------------------------
def narrow(input, dim, start, length):
    """The slice ``[start, start + length)`` of ``input`` along ``dim`` (a view)."""
    input = _tensor(input)
    d = _dim(dim, input.ndim)
    size = input.shape[d]
    start, length = _int(start), _int(length)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    start %= size if size else 1
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input[_slice_key(input.ndim, d, slice(start, start + length))]


def narrow_copy(input, dim, start, length):
    """``narrow`` as a new tensor (not a view)."""
    return _C.clone(narrow(input, dim, start, length))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dimension removed (a view)."""
    input = _tensor(input)
    d = _dim(dim, input.ndim, allow_scalar=False)
    size = input.shape[d]
    index = _int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{tuple(input.shape)} at dimension {dim}")
    return input[_slice_key(input.ndim, d, index)]


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or pieces of the
    sizes in a list; a tuple of views."""
    tensor = _tensor(tensor)
    d = _dim(dim, tensor.ndim, allow_scalar=False)
    size = tensor.shape[d]
    if isinstance(split_size_or_sections, (numbers.Integral, Tensor)) and not (
            isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim):
        step = _int(split_size_or_sections)
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        bounds = list(range(0, size, step)) if step else []
        sizes = [min(step, size - b) for b in bounds] or [0]
    else:
        sizes = [_int(s) for s in split_size_or_sections]
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got split_sizes="
                               f"{sizes}")
    return _pieces(tensor, d, sizes)


def _pieces(tensor, d, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(tensor[_slice_key(tensor.ndim, d, slice(start, start + s))])
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""
    input = _tensor(input)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _dim(dim, input.ndim, allow_scalar=False)
    size = input.shape[d]
    step = -(-size // chunks) if size else 0
    if step == 0:
        return _pieces(input, d, [0] * chunks) if size == 0 else (input,)
    return split(input, step, d)


def tensor_split(input, indices_or_sections, dim=0):
    """``sections`` nearly equal pieces (the first ``size % sections`` one longer), or
    the pieces between the given split indices, along ``dim``; views."""
    input = _tensor(input)
    d = _dim(dim, input.ndim, allow_scalar=False)
    size = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.item() if ios.ndim == 0 else ios.tolist()
    if isinstance(ios, numbers.Integral):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(size, ios)
        sizes = [q + 1] * r + [q] * (ios - r)
        return _pieces(input, d, sizes)
    bounds = [0] + [min(max(int(i) if i >= 0 else int(i) + size, 0), size) for i in ios] + [size]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        out.append(input[_slice_key(input.ndim, d, slice(a, max(a, b)))])
    return tuple(out)


def _even_split(input, sections, dim, name):
    if isinstance(sections, numbers.Integral):
        if sections == 0 or input.shape[dim] % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {input.shape[dim]} is not divisible by the "
                               f"split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors); an int must divide evenly."""
    input = _tensor(input)
    if input.ndim < 1:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a "
                           "tensor with 0 dimensions!")
    return _even_split(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0 of a tensor of at least 2 dimensions."""
    input = _tensor(input)
    if input.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a "
                           f"tensor with {input.ndim} dimensions!")
    return _even_split(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2 of a tensor of at least 3 dimensions."""
    input = _tensor(input)
    if input.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got a "
                           f"tensor with {input.ndim} dimensions!")
    return _even_split(input, indices_or_sections, 2, "dsplit")


def movedim(input, source, destination):
    """Axes ``source`` moved to ``destination`` (ints or sequences); a view."""
    input = _tensor(input)
    src = [source] if isinstance(source, numbers.Integral) else list(source)
    dst = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    src = [_dim(s, input.ndim) for s in src]
    dst = [_dim(s, input.ndim) for s in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    if input.ndim == 0:
        return input
    order = [i for i in range(input.ndim) if i not in src]
    for dd, s in sorted(zip(dst, src)):
        order.insert(dd, s)
    return _M.permute_dims(input, order)


moveaxis = movedim


def swapdims(input, dim0, dim1):
    """``input`` with axes ``dim0`` and ``dim1`` exchanged (a view)."""
    input = _tensor(input)
    if input.ndim == 0:
        _dim(dim0, 0), _dim(dim1, 0)
        return input
    a, b = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    axes = list(range(input.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return _M.permute_dims(input, axes)


swapaxes = swapdims


def t(input):
    """The transpose of a tensor of at most 2 dimensions (0-d and 1-d come back as they are)."""
    input = _tensor(input)
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input if input.ndim < 2 else _L.matrix_transpose(input)


def adjoint(input):
    """The conjugate transpose of the last two axes."""
    input = _tensor(input)
    out = _L.matrix_transpose(input)
    return _E.conj(out) if input.dtype.is_complex else out


def unflatten(input, dim, sizes):
    """Dimension ``dim`` split into ``sizes`` (one entry may be -1)."""
    input = _tensor(input)
    d = _dim(dim, input.ndim)
    sizes = tuple(_int(s) for s in sizes)
    shape = tuple(input.shape)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(shape[d] // known if s == -1 and known else s for s in sizes)
    if math.prod(sizes) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return _M.reshape(input, shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    """The elements as a 1-D tensor."""
    return _M.reshape(_tensor(input), (-1,))


# -- joining ---------------------------------------------------------------------------
def _seq(tensors):
    if isinstance(tensors, Tensor):
        return [tensors[i] for i in range(tensors.shape[0])]
    tensors = list(tensors)
    if any(t is None for t in tensors):
        raise TypeError("expected a sequence of Tensors, got None in it")
    return [_tensor(t) for t in tensors]


def _atleast(n, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = [tensors[0]] if single else _seq(tensors[0] if len(tensors) == 1 else tensors)
    out = []
    for x in items:
        if x.ndim < n:
            if n == 3 and x.ndim == 2:
                shape = tuple(x.shape) + (1,)
            elif n == 3 and x.ndim == 1:
                shape = (1,) + tuple(x.shape) + (1,)
            else:
                shape = (1,) * (n - x.ndim) + tuple(x.shape)
            x = _M.reshape(x, shape)
        out.append(x)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """The tensor(s) with at least one dimension (0-d becomes shape (1,))."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """The tensor(s) with at least two dimensions (leading size-1 axes added)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """The tensor(s) with at least three dimensions ((n,) -> (1, n, 1); (m, n) -> (m, n, 1))."""
    return _atleast(3, tensors)


def _cat(tensors, dim):
    return _M.concat(tensors, axis=dim)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 when the tensors are 1-D)."""
    ts = atleast_1d(_seq(tensors))
    return _cat(ts, 0 if all(t.ndim == 1 for t in ts) else 1)


def vstack(tensors):
    """Concatenate along dim 0 after ``atleast_2d``."""
    return _cat(atleast_2d(_seq(tensors)), 0)


row_stack = vstack


def dstack(tensors):
    """Concatenate along dim 2 after ``atleast_3d``."""
    return _cat(atleast_3d(_seq(tensors)), 2)


def column_stack(tensors):
    """Vectors (and 0-d) as columns, then concatenated along dim 1."""
    ts = [_M.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in _seq(tensors)]
    return _cat(ts, 1)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape (views of the inputs)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_tensor(t) for t in tensors]
    try:
        return tuple(_M.broadcast_arrays(*ts))
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


def block_diag(*tensors):
    """The tensors (0-d, 1-d as one row, or 2-d) along the diagonal of a zero matrix."""
    ts = [_tensor(t) for t in tensors]
    if not ts:
        return zeros((1, 0))
    mats = []
    for x in ts:
        if x.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input has {x.ndim} dimensions")
        mats.append(_M.reshape(x, (1, x.numel())) if x.ndim == 1 else
                    _M.reshape(x, (1, 1)) if x.ndim == 0 else x)
    from ._dtype_functions import result_type
    dtype = result_type(*mats)
    mats = [m if m.dtype == dtype else _C.astype(m, dtype) for m in mats]
    total = sum(m.shape[1] for m in mats)
    rows, before = [], 0
    dev = mats[0].device
    for m in mats:
        r, c = m.shape
        parts = [zeros((r, before), dtype=dtype, device=dev), m,
                 zeros((r, total - before - c), dtype=dtype, device=dev)]
        rows.append(_cat(parts, 1))
        before += c
    return _cat(rows, 0)


def cartesian_prod(*tensors):
    """All tuples of one element from each 1-D tensor, as rows (``itertools.product``)."""
    ts = [_tensor(t) for t in tensors]
    if len(ts) == 1:
        return ts[0]
    from ._creation import meshgrid
    grids = meshgrid(*ts, indexing="ij")
    return _M.stack([_M.reshape(g, (-1,)) for g in grids], axis=1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, as rows."""
    input = _tensor(input)
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    n = input.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    combos = list(pick(range(n), r))
    if r == 0:
        return input[:0]
    if not combos:
        return _M.reshape(input[:0], (0, r))
    index = asarray([i for c in combos for i in c], dtype=_dtypes.int64, device=input.device)
    return _M.reshape(_I.take(input, index, axis=0), (len(combos), r))


# -- gather / scatter / index_* -----------------------------------------------------------
def _check_index(input, dim, index, name, src=None):
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'self' if src is None else 'input'} tensor")
    for k in range(index.ndim):
        if k != dim and index.shape[k] > input.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {dim}")
        if src is not None and index.shape[k] > src.shape[k]:
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than src "
                               f"{list(src.shape)} apart from dimension {dim}")


def _block(x, shape):
    """The leading block of ``x`` with ``shape`` (a view)."""
    if tuple(x.shape) == tuple(shape):
        return x
    return x[tuple(slice(0, s) for s in shape)]


def _wrap_negative(index: Tensor, size) -> Tensor:
    if index.numel() == 0:
        return index
    return _S.where(index < 0, index + size, index)


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` (for ``dim = 1``); ``index`` may be
    smaller than ``input`` in the other dimensions."""
    input = _tensor(input)
    index = _index_tensor(index, input.device)
    d = _dim(dim, input.ndim)
    if input.ndim == 0:
        return _M.reshape(_I.take(_M.reshape(input, (1,)), _M.reshape(index, (-1,)), axis=0), ())
    _check_index(input, d, index, "gather")
    shape = tuple(s if k != d else input.shape[d] for k, s in enumerate(index.shape))
    try:
        return _I.take_along_axis(_block(input, shape), _wrap_negative(index, input.shape[d]),
                                  axis=d)
    except IndexError as exc:  # an index out of range: PyTorch's RuntimeError for gather
        raise RuntimeError(str(exc).replace(" for axis ", " for dimension ")) from exc


def _scatter_parts(input, dim, index, src):
    """Common checks; returns (dim, index, src block of index's shape or None)."""
    input = _tensor(input)
    index = _index_tensor(index, input.device)
    d = _dim(dim, input.ndim)
    if isinstance(src, Tensor) or (src is not None and not isinstance(src, numbers.Number)):
        src = _tensor(src)
        _check_index(input, d, index, "scatter", src)
        src = _block(src, tuple(index.shape))
        if src.dtype != input.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got "
                               f"{input.dtype} and {src.dtype}")
    else:
        _check_index(input, d, index, "scatter")
    return input, d, _wrap_negative(index, input.shape[d] if input.ndim else 1), src


def _counts(input, key, index):
    """How many times each position of ``input`` is written (a float tensor of its shape)."""
    z = zeros(input.shape, dtype=input.dtype if input.dtype.is_inexact else _dtypes.float64,
              device=input.device)
    return _SG.add_at(z, key, ones(index.shape, dtype=z.dtype, device=input.device))


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    input, d, index, src = _scatter_parts(input, dim, index, src)
    if index.numel() == 0:
        return _C.clone(input)
    return _SG.add_at(input, _SG.along_key(input.shape, index, d), src)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``:
    ``out[i][index[i][j]] = src[i][j]`` (``dim = 1``). ``reduce='add'|'multiply'`` as in
    PyTorch. A position written twice gets the mean of its sources (PyTorch leaves
    which one wins unspecified)."""
    if value is not None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src or value")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        if isinstance(src, numbers.Number):
            src = _M.broadcast_to(_like(_tensor(input), src), tuple(_tensor(index).shape))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    input, d, index, src = _scatter_parts(input, dim, index, src)
    if index.numel() == 0:
        return _C.clone(input)
    key = _SG.along_key(input.shape, index, d)
    count = _counts(input, key, index)
    hit = count > 0
    if not isinstance(src, Tensor):
        return _S.where(hit, _like(input, src), input)
    zero = zeros(input.shape, dtype=input.dtype, device=input.device)
    placed = _SG.add_at(zero, key, src)
    if not input.dtype.is_inexact:
        return _S.where(hit, placed // _C.astype(_S.where(hit, count, 1.0), input.dtype), input)
    return _S.where(hit, placed / _S.where(hit, count, 1.0), input)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with the ``src`` values at each ``index`` reduced into it along ``dim``:
    ``reduce`` is ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``; with
    ``include_self=False`` the old value of a written position takes no part."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    input, d, index, src = _scatter_parts(input, dim, index, src)
    if not isinstance(src, Tensor):
        raise TypeError("scatter_reduce(): src must be a Tensor")
    if index.numel() == 0:
        return _C.clone(input)
    key = _SG.along_key(input.shape, index, d)
    if reduce in ("sum", "mean"):
        count = _counts(input, key, index)
        hit = count > 0
        base = input if include_self else _S.where(hit, _like(input, 0), input)
        total = _SG.add_at(base, key, src)
        if reduce == "sum":
            return total
        n = count + (1.0 if include_self else 0.0)
        n = _S.where(hit, n, 1.0)
        if input.dtype.is_inexact:
            return total / n
        return total // _C.astype(n, input.dtype)
    return _dense_scatter_reduce(input, d, index, src, reduce, include_self)


def _dense_scatter_reduce(input, d, index, src, reduce, include_self):
    """prod / amax / amin: compare every index with every position along ``d``."""
    nd = input.ndim
    n = input.shape[d]
    # pad index (with -1: no position) and src to input's extent in the other dims
    for k in range(nd):
        if k != d and index.shape[k] < input.shape[k]:
            extra = list(index.shape)
            extra[k] = input.shape[k] - index.shape[k]
            index = _cat([index, zeros(tuple(extra), dtype=index.dtype, device=index.device) - 1], k)
            src = _cat([src, zeros(tuple(extra), dtype=src.dtype, device=src.device)], k)
    idx = movedim(index, d, -1)                     # (..., r)
    s = movedim(src, d, -1)                         # (..., r)
    x = movedim(input, d, -1)                       # (..., n)
    positions = arange(n, device=input.device)
    onehot = _M.expand_dims(idx, axis=-1) == positions   # (..., r, n)
    fill = {"prod": 1.0, "amax": -math.inf, "amin": math.inf}[reduce]
    if not input.dtype.is_inexact:
        info = _np_iinfo(input.dtype)
        fill = {"prod": 1, "amax": info[0], "amin": info[1]}[reduce]
    if input.dtype.is_inexact and reduce != "prod":
        # s + (0 or ±inf): no infinity enters a where, whose JVP multiplies it by 0
        candidates = _M.expand_dims(s, axis=-1) + _S.where(onehot, _like(input, 0), fill)
    else:
        candidates = _S.where(onehot, _M.expand_dims(s, axis=-1), fill)
    hit = _any(onehot, -2)
    if include_self:
        candidates = _cat([_M.expand_dims(x, axis=-2), candidates], -2)
    fn = {"prod": _R.prod, "amax": _R.max, "amin": _R.min}[reduce]
    reduced = fn(candidates, axis=-2)
    out = _S.where(hit, reduced, x)
    return movedim(out, -1, d)


def _np_iinfo(dtype):
    import numpy as np
    info = np.iinfo(dtype.name)
    return int(info.min), int(info.max)


def _any(x, axis):
    from ._tensor import _wrap
    return _wrap(x._device.xp.any(x._data, axis=axis), x._device)


def index_select(input, dim, index):
    """The slices of ``input`` at the positions ``index`` (1-D) along ``dim``."""
    input = _tensor(input)
    index = _index_tensor(index, input.device)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _dim(dim, input.ndim)
    if input.ndim == 0:
        return _M.reshape(_I.take(_M.reshape(input, (1,)), _M.reshape(index, (-1,)), axis=0),
                          () if index.ndim == 0 else (index.shape[0],))
    index = _wrap_negative(_M.reshape(index, (-1,)), input.shape[d])
    return _I.take(input, index, axis=d)


def _index_parts(input, dim, index, source=None):
    input = _tensor(input)
    index = _index_tensor(index, input.device)
    if index.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    d = _dim(dim, input.ndim)
    index = _M.reshape(index, (-1,))
    if input.ndim:
        index = _wrap_negative(index, input.shape[d])
    if source is not None and not isinstance(source, numbers.Number):
        source = _tensor(source)
        expected = tuple(index.shape[0] if k == d else s for k, s in enumerate(input.shape))
        if input.ndim and tuple(source.shape) != expected and source.numel() != 0:
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension. Got self.shape = {list(input.shape)} "
                               f"source.shape = {list(source.shape)}")
    return input, d, index, source


def _index_key(input, d, index):
    if input.ndim == 0:
        return (index._data,)
    return _SG.index_key(input.ndim, d, index)


def _same_dtype(input, source, message):
    if isinstance(source, Tensor) and source.dtype != input.dtype:
        raise RuntimeError(message.format(input.dtype, source.dtype))


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at positions ``index`` along ``dim``."""
    input, d, index, source = _index_parts(input, dim, index, source)
    _same_dtype(input, source, "index_add_(): self ({}) and source ({}) must have the same "
                               "scalar type")
    if alpha != 1:
        source = source * alpha
    if input.ndim == 0:
        return _M.reshape(_SG.add_at(_M.reshape(input, (1,)), (index._data,),
                                     _M.reshape(source, (-1,))), ())
    return _SG.add_at(input, _index_key(input, d, index), source)


def _index_hits(input, d, index):
    """(hit mask, write count) broadcastable against ``input`` along ``d``."""
    n = input.shape[d] if input.ndim else 1
    count = _SG.add_at(zeros((n,), dtype=_dtypes.float64, device=input.device), (index._data,),
                       ones(index.shape, dtype=_dtypes.float64, device=input.device))
    shape = tuple(n if k == d else 1 for k in range(input.ndim))
    count = _M.reshape(count, shape)
    return count > 0, count


def index_copy(input, dim, index, source):
    """``input`` with the slices of ``source`` copied to positions ``index`` along ``dim``
    (a position given twice gets the mean of its sources)."""
    input, d, index, source = _index_parts(input, dim, index, source)
    _same_dtype(input, source, "index_copy_(): self and source expected to have the same dtype, "
                               "but got (self) {} and (source) {}")
    hit, count = _index_hits(input, d, index)
    zero = zeros(input.shape, dtype=input.dtype, device=input.device)
    if input.ndim == 0:
        placed = _M.reshape(_SG.add_at(_M.reshape(zero, (1,)), (index._data,),
                                       _M.reshape(source, (-1,))), ())
    else:
        placed = _SG.add_at(zero, _index_key(input, d, index), source)
    count = _C.astype(_S.where(hit, count, 1.0), input.dtype)
    placed = placed / count if input.dtype.is_inexact else placed // count
    return _S.where(hit, placed, input)


def index_fill(input, dim, index, value):
    """``input`` with ``value`` (a number or 0-d tensor) at positions ``index`` along ``dim``."""
    input, d, index, _ = _index_parts(input, dim, index)
    hit, _ = _index_hits(input, d, index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    if not isinstance(value, Tensor):
        value = _like(input, value)
    elif value.dtype != input.dtype:
        value = _C.astype(value, input.dtype)
    return _S.where(hit, value, input)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``index_add`` with ``reduce`` (``'prod'``, ``'mean'``, ``'amax'``, ``'amin'``)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    input, d, index, source = _index_parts(input, dim, index, source)
    shape = tuple(index.shape[0] if k == d else 1 for k in range(input.ndim))
    full = _M.broadcast_to(_M.reshape(index, shape), tuple(source.shape))
    return scatter_reduce(input, d, full, source, reduce, include_self=include_self)


def _masked_fill_shape(input, mask):
    try:
        return _M.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise RuntimeError(f"masked_fill: the mask of shape {tuple(mask.shape)} and the input "
                           f"of shape {tuple(input.shape)} cannot be broadcast together") from None


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor) where ``mask`` is true; the
    input and the mask broadcast together (the in-place ``masked_fill_`` needs the mask
    to broadcast to the input's shape)."""
    input = _tensor(input)
    mask = _tensor(mask)
    _masked_fill_shape(input, mask)
    if mask.dtype != _dtypes.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        if value.dtype != input.dtype:
            value = _C.astype(value, input.dtype)
    else:
        value = _like(input, value)
    return _S.where(mask, value, input)


def _masked_fill_inplace_value(input, mask, value):
    """``masked_fill(input, mask, value)`` for ``input.masked_fill_``: as PyTorch, the
    mask must not broadcast the input up."""
    shape = _masked_fill_shape(_tensor(input), _tensor(mask))
    if shape != tuple(input.shape):
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    return masked_fill(input, mask, value)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast together) is true, as 1-D."""
    input, mask = _tensor(input), _tensor(mask)
    if mask.dtype != _dtypes.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    input, mask = broadcast_tensors(input, mask)
    if input.ndim == 0:
        input, mask = _M.reshape(input, (1,)), _M.reshape(mask, (1,))
    return input[mask]


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` is true filled, in order, with the
    leading elements of ``source``."""
    input, mask, source = _tensor(input), _tensor(mask), _tensor(source)
    if mask.dtype != _dtypes.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    _same_dtype(input, source, "masked_scatter: expected self and source to have same dtypes but "
                               "got {} and {}")
    mask = _M.broadcast_to(mask, tuple(input.shape))
    m = _M.reshape(mask, (-1,))
    flat = _M.reshape(source, (-1,))
    k = int(_R.sum(_C.astype(m, _dtypes.int64)).item()) if m.shape[0] else 0
    if flat.shape[0] < k:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as "
                           "ones in mask")
    if k == 0:
        return _C.clone(input)
    # the i-th true position takes source[i]: positions by a running count (static shapes,
    # no boolean-mask write), values by take (its VJP a scatter-add), placed by where
    pos = _R.cumulative_sum(_C.astype(m, _dtypes.int64), axis=0) - 1
    pos = _S.clip(pos, 0, None)
    values = _M.reshape(_I.take(flat, pos, axis=0), tuple(input.shape))
    return _S.where(mask, values, input)


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` at ``input[indices]`` (a tuple of index tensors);
    ``accumulate=True`` adds instead (repeated indices add up)."""
    input = _tensor(input)
    key = tuple(indices)
    if accumulate:
        raw, _, integer = _I.normalize_key(key, input._device, input.ndim)
        values = _tensor(values) if not isinstance(values, numbers.Number) else _like(input, values)
        target_shape = tuple(_I.getitem(input.detach(), key).shape)
        values = _M.broadcast_to(values, target_shape)
        if integer:
            return _SG.add_at(input, raw, values)
        return apply(_I.INDEX_ADD, (input, values), {"key": raw, "integer": False})
    raw, _, integer = _I.normalize_key(key, input._device, input.ndim)
    if not integer:
        return _I.setitem_result(input, key, values)
    # integer index arrays: not every backend writes through them (array-api-strict), so
    # the write is where(hit, scatter-add / count, input) (a repeated index: the mean)
    values = _tensor(values) if not isinstance(values, numbers.Number) else _like(input, values)
    _same_dtype(input, values, "Index put requires the source and destination dtypes match, got "
                               "{} for the destination and {} for the source.")
    target_shape = tuple(_I.getitem(input.detach(), key).shape)
    values = _M.broadcast_to(values, target_shape)
    ones_ = ones(target_shape, dtype=_dtypes.float64, device=input.device)
    count = _SG.add_at(zeros(input.shape, dtype=_dtypes.float64, device=input.device), raw, ones_)
    hit = count > 0
    placed = _SG.add_at(zeros(input.shape, dtype=input.dtype, device=input.device), raw, values)
    if input.dtype.is_inexact:
        return _S.where(hit, placed / _C.astype(_S.where(hit, count, 1.0), input.dtype), input)
    return _S.where(hit, placed // _C.astype(_S.where(hit, count, 1.0), input.dtype), input)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with its diagonal (``offset``, ``dim1``, ``dim2``) replaced by ``src``."""
    input, src = _tensor(input), _tensor(src)
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    params = {"offset": offset, "dim1": d1, "dim2": d2}
    mask = unary(_J.DIAG_EMBED, ones(diagonal(input, offset, d1, d2).shape, dtype=_dtypes.float64,
                                       device=input.device), dict(params, shape=tuple(input.shape)))
    placed = unary(_J.DIAG_EMBED, src, dict(params, shape=tuple(input.shape)))
    return _S.where(mask > 0, placed, input)


def select_scatter(input, src, dim, index):
    """``input`` with the slice ``select(input, dim, index)`` replaced by ``src``."""
    input = _tensor(input)
    d = _dim(dim, input.ndim)
    return _I.setitem_result(input, _slice_key(input.ndim, d, _int(index)), src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with the slice ``[start:end:step]`` along ``dim`` replaced by ``src``."""
    input = _tensor(input)
    d = _dim(dim, input.ndim)
    return _I.setitem_result(input, _slice_key(input.ndim, d, slice(start, end, step)), src)


def take(input, index, *, axis=None):
    """PyTorch's ``take``: the elements of ``input`` (as if flattened) at ``index`` (any
    shape; negative counts from the end). With ``axis=`` the standard's ``take``."""
    input = _tensor(input)
    if axis is not None:
        return _I.take(input, index, axis=axis)
    index = _index_tensor(index, input.device)
    flat = _M.reshape(input, (-1,))
    idx = _wrap_negative(_M.reshape(index, (-1,)), flat.shape[0])
    return _M.reshape(_I.take(flat, idx, axis=0), tuple(index.shape))


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting of ``input`` and ``indices`` except along ``dim``
    (``dim=None``: both flattened)."""
    input = _tensor(input)
    indices = _index_tensor(indices, input.device)
    if dim is None:
        return take(input, _M.reshape(indices, (-1,)))
    d = _dim(dim, input.ndim)
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           "number of dimensions")
    shape = _M.broadcast_shapes(*(tuple(s for k, s in enumerate(t.shape) if k != d)
                                  for t in (input, indices)))
    def full(t):
        return tuple(shape[:d]) + (t.shape[d],) + tuple(shape[d:])
    x = _M.broadcast_to(input, full(input)) if tuple(input.shape) != full(input) else input
    i = _M.broadcast_to(indices, full(indices)) if tuple(indices.shape) != full(indices) else indices
    return _I.take_along_axis(x, _wrap_negative(i, input.shape[d]), axis=d)


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of flat ``indices`` (a tuple of tensors)."""
    indices = _index_tensor(indices, None if not isinstance(indices, Tensor) else indices.device)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    total = math.prod(shape)
    idx = _S.where(indices < 0, indices + total, indices)
    out = []
    for s in reversed(shape):
        out.append(idx % s)
        idx = idx // s
    return tuple(reversed(out))


def argwhere(input):
    """The indices of the non-zero elements, one row each (``(n, ndim)``)."""
    input = _tensor(input)
    if input.ndim == 0:
        n = 1 if bool(input.item()) else 0
        return zeros((n, 0), dtype=_dtypes.int64, device=input.device)
    parts = _S.nonzero(input)
    return _M.stack([_C.astype(p, _dtypes.int64) for p in parts], axis=1)


# -- diagonals, triangles --------------------------------------------------------------------
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices in dims ``dim1``, ``dim2``, as the last
    dimension (a view)."""
    input = _tensor(input)
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return unary(_J.DIAGONAL, input, {"offset": int(offset), "dim1": d1, "dim2": d2})


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims ``dim1``, ``dim2`` of the result) with the last dimension of
    ``input`` on their diagonal ``offset``, zeros elsewhere."""
    input = _tensor(input)
    nd = input.ndim + 1
    d1, d2 = _dim(dim1, nd), _dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + abs(offset)
    batch = list(input.shape[:-1])
    shape = []
    for k in range(nd):
        shape.append(n if k in (d1, d2) else batch.pop(0))
    return unary(_J.DIAG_EMBED, input, {"shape": tuple(shape), "offset": int(offset),
                                        "dim1": d1, "dim2": d2})


def diag(input, diagonal=0):
    """A 1-D input: the square matrix with it on diagonal ``diagonal``; a 2-D input: its
    diagonal ``diagonal``."""
    input = _tensor(input)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:  # a new tensor, as PyTorch's (torch.diagonal is the view)
        return _C.clone(unary(_J.DIAGONAL, input, {"offset": int(diagonal), "dim1": 0, "dim2": 1}))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input, offset=0):
    """The square matrix with the flattened input on diagonal ``offset``."""
    return diag_embed(ravel(input), offset, 0, 1)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle (diagonal ``offset`` and below) of a
    ``row`` x ``col`` matrix, row by row."""
    pairs = [(i, j) for i in range(row) for j in range(col) if j - i <= offset]
    return _pairs(pairs, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle (diagonal ``offset`` and above)."""
    pairs = [(i, j) for i in range(row) for j in range(col) if j - i >= offset]
    return _pairs(pairs, dtype, device)


def _pairs(pairs, dtype, device):
    dtype = dtype or _dtypes.int64
    if not pairs:
        return zeros((2, 0), dtype=dtype, device=device)
    return asarray([[p[0] for p in pairs], [p[1] for p in pairs]], dtype=dtype, device=device)


# -- flips, rotations, repeats -----------------------------------------------------------------
def fliplr(input):
    """Columns in reverse order (dim 1; at least 2-D)."""
    input = _tensor(input)
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return _M.flip(input, axis=1)


def flipud(input):
    """Rows in reverse order (dim 0; at least 1-D)."""
    input = _tensor(input)
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return _M.flip(input, axis=0)


def rot90(input, k=1, dims=(0, 1)):
    """Rotation by 90° ``k`` times in the plane of ``dims`` (from the first towards the
    second axis)."""
    input = _tensor(input)
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and "
                           f"dim1 = {b}")
    k %= 4
    if k == 1:
        return swapdims(_M.flip(input, axis=b), a, b)
    if k == 2:
        return _M.flip(input, axis=(a, b))
    if k == 3:
        return _M.flip(swapdims(input, a, b), axis=b)
    return _C.clone(input)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times (an int or one
    count per element); ``repeat_interleave(counts)`` alone repeats the indices."""
    if repeats is None:
        counts = _tensor(input)
        return _M.repeat(arange(counts.shape[0], device=counts.device), counts, axis=0)
    input = _tensor(input)
    if isinstance(repeats, Tensor) and repeats.ndim == 0:
        repeats = int(repeats.item())
    if dim is None:
        return _M.repeat(_M.reshape(input, (-1,)), repeats, axis=0)
    return _M.repeat(input, repeats, axis=_dim(dim, input.ndim))


def _repeat_method(self, *sizes):
    """PyTorch's ``Tensor.repeat``: the tensor tiled ``sizes[i]`` times along dim i
    (``len(sizes) >= self.dim()``; NumPy's ``tile``)."""
    reps = _sizes(sizes)
    if len(reps) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return _M.tile(self, reps)


def _tile(input, *dims):
    """``input`` repeated ``dims[i]`` times along dim i (``dims`` padded with ones)."""
    return _M.tile(_tensor(input), _sizes(dims))


# -- searching, counting -----------------------------------------------------------------------
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Insertion positions of ``input`` in the last dimension of ``sorted_sequence``
    (``side='right'`` / ``right=True``: after equal elements). A scalar ``input`` gives a
    0-d result."""
    from .ops.sorting import searchsorted as _ss
    seq = _tensor(sorted_sequence)
    if sorter is not None:
        seq = take_along_dim(seq, sorter, -1)
    side = side or ("right" if right else "left")
    scalar = isinstance(input, numbers.Number)
    values = _like(seq, input) if scalar else _tensor(input)
    if seq.ndim <= 1:
        out = _ss(seq, values, side=side)
    else:
        if tuple(seq.shape[:-1]) != tuple(values.shape[:-1]):
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                               "the first N-1 dimensions of boundaries tensor and input value "
                               "tensor must match")
        rows = [_ss(seq[i], values[i], side=side) if seq.ndim == 2 else
                searchsorted(seq[i], values[i], side=side) for i in range(seq.shape[0])]
        out = _M.stack(rows, axis=0)
    return _C.astype(out, _dtypes.int32 if out_int32 else _dtypes.int64)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element: ``i`` with ``boundaries[i-1] < x <= boundaries[i]``
    (``right=True``: ``boundaries[i-1] <= x < boundaries[i]``)."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-D non-negative integer tensor (sums of ``weights``)."""
    input = _tensor(input)
    if not _is_int(input.dtype):
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{input.dtype}'")
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    n = int(_R.max(input).item()) + 1 if input.numel() else 0
    if input.numel() and int(_R.min(input).item()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    size = max(n, minlength)
    if weights is None:
        z = zeros((size,), dtype=_dtypes.int64, device=input.device)
        w = ones(input.shape, dtype=_dtypes.int64, device=input.device)
    else:
        weights = _tensor(weights)
        if tuple(weights.shape) != tuple(input.shape):
            raise RuntimeError("weights should be 1-d and have the same length as input")
        dt = weights.dtype if weights.dtype.is_inexact else _dtypes.float64
        z = zeros((size,), dtype=dt, device=input.device)
        w = _C.astype(weights.detach(), dt)
    if input.numel() == 0:
        return z
    return _SG.add_at(z, (input._data,), w)


def histc(input, bins=100, min=0, max=0):
    """Histogram of ``bins`` equal bins over ``[min, max]`` (the data's range when both are
    0); elements outside are ignored. Not differentiable (as in PyTorch)."""
    x = _tensor(input).detach()
    if not x.dtype.is_inexact:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{x.dtype}'")
    if bins <= 0:
        raise RuntimeError("bins must be > 0")
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(_R.min(x).item()), float(_R.max(x).item())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("max must be larger than min")
    flat = _M.reshape(x, (-1,))
    counts = zeros((bins,), dtype=x.dtype, device=x.device)
    if flat.shape[0] == 0:
        return counts
    inside = (flat >= lo) & (flat <= hi)
    pos = _E.floor((flat - lo) * (bins / (hi - lo)))
    pos = _C.astype(_S.clip(pos, 0, bins - 1), _dtypes.int64)
    return _SG.add_at(counts, (pos._data,), _C.astype(inside, x.dtype))


def _edges(lo, hi, bins, x):
    """``bins + 1`` equal bin edges from ``lo`` to exactly ``hi`` (some backends' linspace
    misses the end point by a rounding error)."""
    from ._creation import linspace
    inner = linspace(lo, hi, bins + 1, dtype=x.dtype, device=x.device)[:-1]
    return _cat([inner, asarray([hi], dtype=x.dtype, device=x.device)], 0)


class _Histogram(NamedTuple):
    hist: Tensor
    bin_edges: Tensor


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of ``input`` with ``bins`` equal bins (or the given edges)."""
    x = _M.reshape(_tensor(input).detach(), (-1,))
    if isinstance(bins, numbers.Integral):
        if range is None:
            lo, hi = (float(_R.min(x).item()), float(_R.max(x).item())) if x.numel() else (0., 0.)
        else:
            lo, hi = map(float, range)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = _edges(lo, hi, bins, x)
    else:
        edges = _tensor(bins).detach()
    nb = edges.shape[0] - 1
    pos = searchsorted(edges, x, right=True) - 1
    last = x == edges[-1]
    pos = _S.where(last, nb - 1, pos)
    inside = (pos >= 0) & (pos < nb)
    pos = _S.clip(pos, 0, nb - 1)
    w = _C.astype(inside, x.dtype)
    if weight is not None:
        w = w * _M.reshape(_tensor(weight).detach(), (-1,))
    hist = _SG.add_at(zeros((nb,), dtype=x.dtype, device=x.device), (pos._data,), w) \
        if x.numel() else zeros((nb,), dtype=x.dtype, device=x.device)
    if density:
        widths = edges[1:] - edges[:-1]
        hist = hist / (_R.sum(hist) * widths)
    return _Histogram(hist, edges)


class _HistogramDD(NamedTuple):
    hist: Tensor
    bin_edges: tuple


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: the D-dimensional histogram of the points in the rows of
    ``input`` (``(N, D)``); ``bins`` an int, one int per dimension, or the edges."""
    x = _tensor(input).detach()
    if x.ndim < 1:
        raise RuntimeError("histogramdd: input must have at least one dimension")
    pts = _M.reshape(x, (-1, x.shape[-1]))
    d = pts.shape[1]
    if isinstance(bins, numbers.Integral):
        bins = [bins] * d
    if len(bins) != d:
        raise RuntimeError(f"histogramdd: expected {d} sequences of bin edges or bin counts, got "
                           f"{len(bins)}")
    edges, flat, inside, stride = [], None, None, 1
    for k in reversed(builtins_range(d)):
        col = pts[:, k]
        b = bins[k]
        if isinstance(b, numbers.Integral):
            if range is None:
                lo, hi = (float(_R.min(col).item()), float(_R.max(col).item())) \
                    if col.shape[0] else (0.0, 0.0)
            else:
                lo, hi = float(range[2 * k]), float(range[2 * k + 1])
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            e = _edges(lo, hi, int(b), x)
        else:
            e = _C.astype(_tensor(b).detach(), x.dtype)
        nb = e.shape[0] - 1
        pos = searchsorted(e, col, right=True) - 1
        pos = _S.where(col == e[-1], nb - 1, pos)
        ok = (pos >= 0) & (pos < nb)
        pos = _S.clip(pos, 0, nb - 1)
        flat = pos * stride if flat is None else flat + pos * stride
        inside = ok if inside is None else inside & ok
        stride *= nb
        edges.insert(0, e)
    shape = tuple(e.shape[0] - 1 for e in edges)
    w = _C.astype(inside, x.dtype)
    if weight is not None:
        w = w * _M.reshape(_tensor(weight).detach(), (-1,))
    hist = zeros((stride,), dtype=x.dtype, device=x.device)
    if pts.shape[0]:
        hist = _SG.add_at(hist, (flat._data,), w)
    hist = _M.reshape(hist, shape)
    if density:
        vol = None
        for k, e in enumerate(edges):
            width = e[1:] - e[:-1]
            width = _M.reshape(width, tuple(-1 if j == k else 1 for j in builtins_range(d)))
            vol = width if vol is None else vol * width
        hist = hist / (_R.sum(hist) * vol)
    return _HistogramDD(hist, tuple(edges))


builtins_range = builtins.range  # (histogram's ``range`` argument shadows the builtin)


# -- statistics ---------------------------------------------------------------------------
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in columns)."""
    x = _tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    if x.ndim < 2:
        x = _M.reshape(x, (1, -1))
    if not x.dtype.is_inexact:
        x = _C.astype(x, _dtypes.float32)
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = _C.astype(_tensor(fweights), x.dtype)
    if aweights is not None:
        aw = _C.astype(_tensor(aweights), x.dtype)
        w = aw if w is None else w * aw
    if w is None:
        avg = _R.mean(x, axis=1, keepdims=True)
        w_sum = float(n)
        norm = w_sum - correction
    else:
        w_sum = _R.sum(w)
        avg = _R.sum(x * w, axis=1, keepdims=True) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            aw = _C.astype(_tensor(aweights), x.dtype)
            norm = w_sum - correction * _R.sum(w * aw) / w_sum
    xc = x - avg
    xw = xc if w is None else xc * w
    c = _L.matmul(xw, _E.conj(_L.matrix_transpose(xc)) if x.dtype.is_complex else
                  _L.matrix_transpose(xc))
    if isinstance(norm, float):
        c = c / norm if norm > 0 else c / 0.0 if norm == 0 else c * math.nan
    else:
        c = c / _S.clip(norm, 0, None)
    return _M.reshape(c, ()) if x.shape[0] == 1 else c


def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of ``input``."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = diagonal(c)
    s = _E.sqrt(d.real if d.dtype.is_complex else d)
    c = c / _M.expand_dims(s, axis=-1)
    c = c / _M.expand_dims(s, axis=0)
    return _S.clip(c, -1, 1) if c.dtype.is_complex is False else c


# -- products ----------------------------------------------------------------------------
def _check_dtype_pair(a, b, name):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: expected both operands to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")


def _beta_alpha(input, product, beta, alpha):
    out = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch: input is ignored (nan and inf in it do not propagate)
        shape = _M.broadcast_shapes(tuple(out.shape), tuple(input.shape))
        return out if tuple(out.shape) == shape else _M.broadcast_to(out, shape)
    return (input if beta == 1 else input * beta) + out


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``mat1``, ``mat2``."""
    mat1, mat2 = _tensor(mat1), _tensor(mat2)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor" if mat1.ndim != 2
                           else f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return _beta_alpha(_tensor(input), _L.matmul(mat1, mat2), beta, alpha)


def mv(input, vec):
    """Matrix-vector product."""
    input, vec = _tensor(input), _tensor(vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
                           f"{input.shape[1]}), vec ({vec.shape[0]})")
    return _L.matmul(input, vec)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    return _beta_alpha(_tensor(input), mv(mat, vec), beta, alpha)


def _bmm(a, b):
    a, b = _tensor(a), _tensor(b)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if a.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return _L.matmul(a, b)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` (batches of matrices)."""
    return _beta_alpha(_tensor(input), _bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b (batch1[b] @ batch2[b])``."""
    return _beta_alpha(_tensor(input), _R.sum(_bmm(batch1, batch2), axis=0), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _beta_alpha(_tensor(input), ger(vec1, vec2), beta, alpha)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    prod = _tensor(tensor1) * tensor2
    return _tensor(input) + (prod if value == 1 else prod * value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (floating point only)."""
    t1, t2 = _tensor(tensor1), _tensor(tensor2)
    if not t1.dtype.is_inexact and not t2.dtype.is_inexact:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future "
                           "release addcdiv will perform a true division of tensor1 and tensor2.")
    q = t1 / t2
    return _tensor(input) + (q if value == 1 else q * value)


def ger(input, vec2):
    """Outer product of two 1-D tensors."""
    input, vec2 = _tensor(input), _tensor(vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D vectors, got {input.ndim}-D and {vec2.ndim}-D")
    return _L.outer(input, vec2)


def inner(input, other):
    """Sum of products over the last dimensions (a product when either is 0-d)."""
    input, other = _tensor(input), _tensor(other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return _L.tensordot(input, other, axes=([input.ndim - 1], [other.ndim - 1]))


def vdot(input, other):
    """``sum(conj(input) * other)`` of two 1-D tensors."""
    input, other = _tensor(input), _tensor(other)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    a = _E.conj(input) if input.dtype.is_complex else input
    return _L.dot(a, other)


def chain_matmul(*matrices):
    """The product of 2-D matrices, left to right (``linalg.multi_dot``)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    ms = [_tensor(m) for m in matrices]
    if not ms:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in ms:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    out = ms[0]
    for m in ms[1:]:
        out = _L.matmul(out, m)
    return out


def kron(input, other):
    """Kronecker product: blocks ``input[i, j] * other``, any number of dimensions."""
    a, b = _tensor(input), _tensor(other)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    a = _M.reshape(a, tuple(d for s in sa for d in (s, 1)))
    b = _M.reshape(b, tuple(d for s in sb for d in (1, s)))
    return _M.reshape(a * b, tuple(x * y for x, y in zip(sa, sb)))


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (the first dimension of size 3 when None)."""
    import xgrad.linalg as _lin
    input, other = _tensor(input), _tensor(other)
    if dim is None:
        shape = _M.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((k for k, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
        dim -= len(shape)
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    return _lin.cross(input, other, dim=dim)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M):
    (..., P, R). The gradient at a zero distance is 0 (as in PyTorch)."""
    x1, x2 = _tensor(x1), _tensor(x2)
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if not x1.dtype.is_inexact or not x2.dtype.is_inexact:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    diff = _M.expand_dims(x1, axis=-2) - _M.expand_dims(x2, axis=-3)
    return _L.vector_norm(diff, axis=-1, ord=p)


def einsum(equation, *operands):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)``; ``...`` broadcasts, a label
    repeated in one operand takes its diagonal, labels absent from the output are summed.
    Pairs of operands are contracted left to right with ``matmul``."""
    if not isinstance(equation, str):  # the sublist format: einsum(a, [0, 1], b, [1, 2], [0, 2])
        equation, operands = _sublist_equation((equation,) + tuple(operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [_tensor(o) for o in operands]
    if not ops:
        raise RuntimeError("einsum(): must provide at least one operand")
    inputs, output = parse_einsum(equation, [o.ndim for o in ops])
    # sizes per label; size-1 dims broadcast
    size = {}
    for o, labels in zip(ops, inputs):
        for c, s in zip(labels, o.shape):
            if c in size and size[c] != s and 1 not in (size[c], s):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(original->remapped): subscript {c!r} has sizes "
                                   f"{size[c]} and {s}")
            size[c] = s if c not in size or size[c] == 1 else size[c]
    terms = []
    for o, labels in zip(ops, inputs):
        labels = list(labels)
        # repeated labels: take the diagonal
        while len(set(labels)) != len(labels):
            c = next(c for c in labels if labels.count(c) > 1)
            i = labels.index(c)
            j = labels.index(c, i + 1)
            o = unary(_J.DIAGONAL, o, {"offset": 0, "dim1": i, "dim2": j})
            labels = [l for k, l in enumerate(labels) if k not in (i, j)] + [c]
        target = tuple(size[c] for c in labels)
        if tuple(o.shape) != target:
            o = _M.broadcast_to(o, target)
        terms.append((o, labels))
    # labels of one operand only (and not in the output): sum them out first
    for k, (o, labels) in enumerate(terms):
        elsewhere = set(output).union(*(set(l) for m, (_, l) in enumerate(terms) if m != k))
        drop = [i for i, c in enumerate(labels) if c not in elsewhere]
        if drop:
            o = _R.sum(o, axis=tuple(drop))
            labels = [c for c in labels if c in elsewhere]
        terms[k] = (o, labels)
    cur, cur_l = terms[0]
    for k in range(1, len(terms)):
        b, b_l = terms[k]
        later = set(output).union(*(set(l) for _, l in terms[k + 1:]))
        batch = [c for c in cur_l if c in b_l and c in later]
        contract = [c for c in cur_l if c in b_l and c not in later]
        a_free = [c for c in cur_l if c not in b_l]
        b_free = [c for c in b_l if c not in cur_l]
        a = _M.permute_dims(cur, [cur_l.index(c) for c in batch + a_free + contract])
        bb = _M.permute_dims(b, [b_l.index(c) for c in batch + contract + b_free])
        nb = math.prod(size[c] for c in batch)
        m = math.prod(size[c] for c in a_free)
        kk = math.prod(size[c] for c in contract)
        n = math.prod(size[c] for c in b_free)
        prod = _L.matmul(_M.reshape(a, (nb, m, kk)), _M.reshape(bb, (nb, kk, n)))
        cur = _M.reshape(prod, tuple(size[c] for c in batch + a_free + b_free))
        cur_l = batch + a_free + b_free
        # labels now in no later operand and not in the output
        drop = [i for i, c in enumerate(cur_l) if c not in later]
        if drop:
            cur = _R.sum(cur, axis=tuple(drop))
            cur_l = [c for c in cur_l if c in later]
    if cur_l != output:
        cur = _M.permute_dims(cur, [cur_l.index(c) for c in output])
    return cur


def _sublist_equation(args):
    """``(equation, operands)`` of einsum's sublist format (``Ellipsis`` allowed)."""
    def letters(sub):
        out = []
        for v in sub:
            if v is Ellipsis:
                out.append("...")
            else:
                if not 0 <= int(v) < 52:
                    raise RuntimeError(f"einsum(): subscript in subscript list is not within the "
                                       f"valid range [0, 52), got {v}")
                out.append("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[int(v)])
        return "".join(out)
    operands, terms = [], []
    items = list(args)
    while len(items) >= 2 and not isinstance(items[0], (list, tuple)):
        operands.append(items.pop(0))
        terms.append(letters(items.pop(0)))
    equation = ",".join(terms)
    if items:
        equation += "->" + letters(items[0])
    return equation, tuple(operands)


# -- vander, trapezoid, renorm ---------------------------------------------------------
def vander(x, N=None, increasing=False):
    """Columns of powers of the 1-D ``x``: ``x^(N-1), ..., x, 1`` (increasing: reversed)."""
    x = _tensor(x)
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if n == 0:
        return zeros((x.shape[0], 0), dtype=x.dtype if x.dtype is not _dtypes.bool_ else _dtypes.int64,
                     device=x.device)
    if not x.dtype.is_inexact:
        x = _C.astype(x, _dtypes.int64)
    cols = [ones(x.shape, dtype=x.dtype, device=x.device)]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    out = _M.stack(cols, axis=1)
    return out if increasing else _M.flip(out, axis=1)


def _trapezoid_parts(y, x, dx, dim):
    y = _tensor(y)
    d = _dim(dim, y.ndim)
    n = y.shape[d]
    left = y[_slice_key(y.ndim, d, slice(0, max(n - 1, 0)))]
    right = y[_slice_key(y.ndim, d, slice(1, None))]
    avg = (left + right) / 2
    if x is None:
        return avg * (1.0 if dx is None else dx), d
    x = _tensor(x)
    if x.ndim == 1:
        dxs = x[1:] - x[:-1]
        shape = tuple(dxs.shape[0] if k == d else 1 for k in range(y.ndim))
        dxs = _M.reshape(dxs, shape)
    else:
        xd = _dim(dim, x.ndim)
        dxs = x[_slice_key(x.ndim, xd, slice(1, None))] - \
            x[_slice_key(x.ndim, xd, slice(0, max(x.shape[xd] - 1, 0)))]
    return avg * dxs, d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Trapezoid rule along ``dim`` (sample points ``x`` or spacing ``dx``, default 1)."""
    if isinstance(x, numbers.Number):
        x, dx = None, x
    parts, d = _trapezoid_parts(y, x, dx, dim)
    if _tensor(y).shape[d] == 0:  # PyTorch: new zeros, no gradient
        return zeros(tuple(parts.shape[:d]) + tuple(parts.shape[d + 1:]), dtype=parts.dtype,
                     device=parts.device)
    return _R.sum(parts, axis=d)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoid rule along ``dim`` (one element fewer than ``y``)."""
    if isinstance(x, numbers.Number):
        x, dx = None, x
    parts, d = _trapezoid_parts(y, x, dx, dim)
    return _R.cumulative_sum(parts, axis=d)


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to norm
    ``maxnorm`` (PyTorch's factor ``maxnorm / (norm + 1e-7)``)."""
    x = _tensor(input)
    if not x.dtype.is_inexact:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    d = _dim(dim, x.ndim)
    axes = tuple(k for k in range(x.ndim) if k != d)
    norm = _L.vector_norm(x, axis=axes, keepdims=True, ord=p)
    factor = _S.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return x * factor


# -- complex views, conj/neg bits -----------------------------------------------------------
def view_as_real(input):
    """A complex tensor as real pairs in a new last dimension of size 2: a view (writes
    through either are seen by both)."""
    x = _tensor(input)
    if x.dtype.is_complex is False:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    from .ops import strided_views  # (a view: xgrad/ops/strided_views.py)
    return strided_views.view_as_real(x)


def view_as_complex(input):
    """Real pairs in a last dimension of size 2 as a complex tensor: a view."""
    x = _tensor(input)
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.dtype not in (_dtypes.float32, _dtypes.float64):
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but "
                           f"got a tensor of scalar type: {x.dtype}")
    from .ops import strided_views  # (a view: xgrad/ops/strided_views.py)
    return strided_views.view_as_complex(x)


def resolve_conj(input):
    """``input`` itself (xgrad materialises conjugates eagerly: there is no conj bit)."""
    return _tensor(input)


def resolve_neg(input):
    """``input`` itself (no negative bit in xgrad)."""
    return _tensor(input)


def diff(input, n=1, dim=-1, prepend=None, append=None, *, axis=None):
    """The ``n``-th forward difference along ``dim`` (PyTorch's argument order; the
    standard's ``axis=`` keyword too)."""
    x = _tensor(input)
    dim = dim if axis is None else axis
    return _M.diff(x, axis=_dim(dim, x.ndim), n=n, prepend=prepend, append=append)


# -- gcd / lcm (integers; not differentiable) ------------------------------------------------
def gcd(input, other):
    """Greatest common divisor, elementwise (integers; ``gcd(0, 0) = 0``)."""
    a, b = _tensor(input), other if isinstance(other, Tensor) else _like(_tensor(input), other)
    if not _is_int(a.dtype) or not _is_int(b.dtype):
        raise RuntimeError(f"\"gcd_cpu\" not implemented for '{a.dtype}'")
    a, b = broadcast_tensors(_E.abs(a), _E.abs(b))
    bits = 8 * a.dtype.itemsize
    for _ in range(int(1.45 * bits) + 2):  # Euclid: enough steps for any value of the dtype
        nz = b != 0
        safe = _S.where(nz, b, 1)
        a, b = _S.where(nz, b, a), _S.where(nz, a % safe, 0)
    return a.detach()


def lcm(input, other):
    """Least common multiple, elementwise (integers)."""
    a, b = _tensor(input), other if isinstance(other, Tensor) else _like(_tensor(input), other)
    g = gcd(a, b)
    return _E.abs(_S.where(g == 0, 0, (a // _S.where(g == 0, 1, g)) * b)).detach()


# -- LAPACK-style names ----------------------------------------------------------------------
def _linalg():
    import xgrad.linalg as lin
    return lin


def cholesky(input, upper=False):
    """Cholesky factor (lower, or upper with ``upper=True``) of a positive-definite matrix."""
    return _linalg().cholesky(_tensor(input), upper=upper)


def cholesky_inverse(input, upper=False):
    """The inverse of ``A`` from its Cholesky factor (``A = L L^H``, or ``U^H U``)."""
    from ._creation import tril, triu
    f = _tensor(input)
    f = triu(f) if upper else tril(f)  # only the factor's triangle is read, as in PyTorch
    fh = adjoint(f)
    a = _L.matmul(fh, f) if upper else _L.matmul(f, fh)
    return _linalg().inv(a)


def cholesky_solve(B, L, upper=False):
    """The solution ``X`` of ``A X = B`` for ``A`` given by its Cholesky factor."""
    lin = _linalg()
    B, L = _tensor(B), _tensor(L)
    if upper:
        y = lin.solve_triangular(adjoint(L), B, upper=False)
        return lin.solve_triangular(L, y, upper=True)
    y = lin.solve_triangular(L, B, upper=False)
    return lin.solve_triangular(adjoint(L), y, upper=True)


def logdet(input):
    """``log(det(A))`` (nan where the determinant is negative)."""
    sign, logabs = _linalg().slogdet(_tensor(input))
    if sign.dtype.is_complex:
        return _E.log(sign) + logabs
    return _S.where(sign < 0, math.nan, logabs)  # (det = 0: logabsdet is -inf already)


class _QR(NamedTuple):
    Q: Tensor
    R: Tensor


def qr(input, some=True):
    """``(Q, R)``: reduced (``some=True``) or complete QR decomposition."""
    return _QR(*_linalg().qr(_tensor(input), mode="reduced" if some else "complete"))


class _SVD(NamedTuple):
    U: Tensor
    S: Tensor
    V: Tensor


def svd(input, some=True, compute_uv=True):
    """``(U, S, V)`` with ``input = U diag(S) V^H`` (V, not V^H: PyTorch's old ``svd``)."""
    x = _tensor(input)
    lin = _linalg()
    if not compute_uv:
        s = lin.svdvals(x)
        m, n = x.shape[-2], x.shape[-1]
        zu = zeros(tuple(x.shape[:-2]) + (m, m if not some else min(m, n)), dtype=x.dtype,
                   device=x.device)
        zv = zeros(tuple(x.shape[:-2]) + (n, n if not some else min(m, n)), dtype=x.dtype,
                   device=x.device)
        return _SVD(zu, s, zv)
    U, S, Vh = lin.svd(x, full_matrices=not some)
    return _SVD(U, S, adjoint(Vh))


class _TriangularSolve(NamedTuple):
    solution: Tensor
    cloned_coefficient: Tensor


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """``(X, A)`` with ``X`` solving ``op(A) X = b`` for the triangle of ``A`` that ``upper``
    names (``op`` the transpose when ``transpose``)."""
    A, b = _tensor(A), _tensor(b)
    lin = _linalg()
    if transpose:
        T = _L.matrix_transpose(A)
        x = lin.solve_triangular(T, b, upper=not upper, unitriangular=unitriangular)
    else:
        x = lin.solve_triangular(A, b, upper=upper, unitriangular=unitriangular)
    return _TriangularSolve(x, _C.clone(A))


def matrix_exp(A):
    """``exp(A)`` of square matrices: scaling and squaring of a degree-18 Taylor
    polynomial (the number of squarings is chosen from the 1-norm, read once)."""
    A = _tensor(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices")
    n = A.shape[-1]
    if A.numel() == 0:
        return _C.clone(A)
    norm = float(_R.max(_R.sum(_E.abs(A.detach()), axis=-2)).item())
    s = max(0, int(math.ceil(math.log2(norm / 0.5)))) if norm > 0.5 else 0
    X = A / (2.0 ** s) if s else A
    I = eye(n, dtype=A.dtype, device=A.device)
    term = I + X * 0
    total = term
    for k in range(1, 19):
        term = _L.matmul(term, X) / k
        total = total + term
    for _ in range(s):
        total = _L.matmul(total, total)
    return total


# -- LU (partial pivoting), composed: differentiable through the elimination steps ---------
def _swap_rows(x, perm_j, j, axis_len, vector=False):
    """Rows ``j`` and ``perm_j`` (a batch of ints) of ``x`` exchanged (per batch entry)."""
    rows = arange(axis_len, device=x.device)
    pj = _M.expand_dims(perm_j, axis=-1)
    index = _S.where(rows == j, pj, _S.where(rows == pj, j, rows))     # (..., m)
    if vector:
        return _I.take_along_axis(x, index, axis=-1)
    index = _M.broadcast_to(_M.expand_dims(index, axis=-1), tuple(x.shape))
    return _I.take_along_axis(x, index, axis=-2)


def _lu(A):
    """``(perm, L (..., m, k), U (..., k, n), U_full (..., m, n), pivots)`` with
    ``A[..., perm, :] = L @ U``; pivots are LAPACK's (1-based row swaps, int32)."""
    A = _tensor(A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.lu_factor: Expected tensor with 2 or more dimensions. Got "
                           f"size: {tuple(A.shape)} instead")
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    U = A
    cols = []  # the columns of L below the diagonal, as (..., m) vectors
    perm = _M.broadcast_to(arange(m, device=A.device), batch + (m,))
    pivots = []
    for j in range(k):
        col = _E.abs(U[..., j:, j].detach())
        p = _S.argmax(col, axis=-1) + j if m - j > 1 else \
            zeros(batch, dtype=_dtypes.int64, device=A.device) + j
        pivots.append(p)
        U = _swap_rows(U, p, j, m)
        perm = _swap_rows(perm, p, j, m, vector=True)
        cols = [_swap_rows(c, p, j, m, vector=True) for c in cols]
        if j + 1 == m:  # the last row: nothing below to eliminate (no size-0 pieces)
            cols.append(zeros(batch + (m,), dtype=A.dtype, device=A.device))
            continue
        pivot = U[..., j:j + 1, j]                                   # (..., 1)
        below = U[..., j + 1:, j]                                    # (..., m-j-1)
        factors = below / pivot
        zero = zeros(batch + (j + 1,), dtype=A.dtype, device=A.device)
        cols.append(_cat([zero, factors], -1))
        update = _M.expand_dims(factors, axis=-1) * U[..., j:j + 1, :]
        U = _cat([U[..., :j + 1, :], U[..., j + 1:, :] - update], -2)
    from ._creation import tril, triu
    eye_mk = eye(m, k, dtype=A.dtype, device=A.device)
    L = (_M.stack(cols, axis=-1) if cols else zeros(batch + (m, 0), dtype=A.dtype,
                                                      device=A.device)) + eye_mk
    U_full = triu(U)
    piv = _M.stack(pivots, axis=-1) + 1 if pivots else zeros(batch + (0,), dtype=_dtypes.int64,
                                                             device=A.device)
    return perm, L, U_full[..., :k, :], U_full, _C.astype(piv, _dtypes.int32)


def _perm_matrix(perm, dtype):
    m = perm.shape[-1]
    rows = _M.expand_dims(arange(m, device=perm.device), axis=-1)
    return _C.astype(rows == _M.expand_dims(perm, axis=-2), dtype)


def _packed(L, U_full):
    from ._creation import tril
    n = U_full.shape[-1]
    k = L.shape[-1]
    strict = tril(L, k=-1)
    if k < n:
        strict = _cat([strict, zeros(tuple(L.shape[:-1]) + (n - k,), dtype=L.dtype,
                                     device=L.device)], -1)
    return strict + U_full


class _LUResult(NamedTuple):
    P: Tensor
    L: Tensor
    U: Tensor


class _LUFactor(NamedTuple):
    LU: Tensor
    pivots: Tensor


class _LUFactorEx(NamedTuple):
    LU: Tensor
    pivots: Tensor
    info: Tensor


def _linalg_lu(A, *, pivot=True):
    """``torch.linalg.lu``: ``(P, L, U)`` with ``A = P @ L @ U`` (partial pivoting)."""
    if not pivot:
        raise NotImplementedError("linalg.lu: pivot=False is not supported")
    perm, L, U, _, _ = _lu(A)
    return _LUResult(_perm_matrix(perm, L.dtype), L, U)


def _linalg_lu_factor(A, *, pivot=True):
    """``torch.linalg.lu_factor``: ``(LU, pivots)``, LAPACK's compact form."""
    if not pivot:
        raise NotImplementedError("linalg.lu_factor: pivot=False is not supported")
    _, L, _, U_full, piv = _lu(A)
    return _LUFactor(_packed(L, U_full), piv)


def _linalg_lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``torch.linalg.lu_factor_ex``: ``(LU, pivots, info)`` (info is 0)."""
    LU, piv = _linalg_lu_factor(A, pivot=pivot)
    return _LUFactorEx(LU, piv, zeros(tuple(LU.shape[:-2]), dtype=_dtypes.int32,
                                      device=LU.device))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` from the compact ``(LU, pivots)`` of ``lu_factor``."""
    from ._creation import tril, triu
    LU = _tensor(LU_data)
    piv = _C.astype(_tensor(LU_pivots), _dtypes.int64) - 1
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    batch = tuple(LU.shape[:-2])
    perm = _M.broadcast_to(arange(m, device=LU.device), batch + (m,))
    for j in range(piv.shape[-1]):
        perm = _swap_rows(perm, piv[..., j], j, m, vector=True)
    L = tril(LU, k=-1)[..., :, :k] + eye(m, k, dtype=LU.dtype, device=LU.device)
    U = triu(LU)[..., :k, :]
    return _LUResult(_perm_matrix(perm, LU.dtype), L, U)


def _linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """``torch.linalg.lu_solve``: solve ``A X = B`` (``X A = B`` with ``left=False``;
    ``A^H`` with ``adjoint``) for ``A`` given by ``lu_factor``."""
    P, L, U = lu_unpack(LU, pivots)
    A = _L.matmul(P, _L.matmul(L, U))
    if adjoint:
        A = globals()["adjoint"](A)
    return _linalg().solve(A, _tensor(B), left=left)


def lu_solve(b, LU_data, LU_pivots):
    """``torch.lu_solve``: the solution of ``A X = b`` from ``A``'s ``lu`` factors."""
    return _linalg_lu_solve(LU_data, LU_pivots, b)


def lu(A, pivot=True, get_infos=False):
    """``torch.lu``: ``(A_LU, pivots)`` (and ``infos`` with ``get_infos=True``)."""
    LU, piv = _linalg_lu_factor(A, pivot=pivot)
    if get_infos:
        return LU, piv, zeros(tuple(LU.shape[:-2]), dtype=_dtypes.int32, device=LU.device)
    return LU, piv


# -- low-rank SVD / PCA: exact (truncated full SVD) --------------------------------------------
def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)`` of the ``q`` largest singular values of ``A - M``. Exact (a truncated
    full SVD) where PyTorch's is randomized: equal up to the signs of singular vectors
    when ``q`` covers the rank."""
    A = _tensor(A)
    if M is not None:
        A = A - M
    q = min(6 if q is None else q, A.shape[-2], A.shape[-1])
    U, S, Vh = _linalg().svd(A, full_matrices=False)
    return _SVD(U[..., :, :q], S[..., :q], adjoint(Vh)[..., :, :q])


def pca_lowrank(A, q=None, center=True, niter=2):
    """``(U, S, V)`` of the principal components of ``A`` (columns centred with
    ``center``); exact, see ``svd_lowrank``."""
    A = _tensor(A)
    q = min(6, A.shape[-2], A.shape[-1]) if q is None else q
    if center:
        A = A - _R.mean(A, axis=-2, keepdims=True)
    return svd_lowrank(A, q)


# -- Householder QR in LAPACK's form: geqrf, orgqr (householder_product), ormqr ----------------
def geqrf(input):
    """``(a, tau)``: LAPACK's compact QR: R on and above the diagonal of ``a``, the
    Householder vectors (unit first entry implied) below it, their scales in ``tau``."""
    R = _tensor(input)
    m, n = R.shape[-2], R.shape[-1]
    k = min(m, n)
    batch = tuple(R.shape[:-2])
    taus, vs = [], []
    for j in range(k):
        x = R[..., j:, j]                                           # (..., m-j)
        x0 = x[..., 0]
        norm = _L.vector_norm(x, axis=-1)
        sign = _S.where(x0 >= 0, _like(x0, 1.0), -1.0)
        beta = -sign * norm
        trivial = norm == _E.abs(x0)                               # nothing below: H = I
        denom = _S.where(trivial, 1.0, x0 - beta)
        v = _cat([ones(batch + (1,), dtype=R.dtype, device=R.device),
                  x[..., 1:] / _M.expand_dims(denom, axis=-1)], -1)
        tau = _S.where(trivial, 0.0, (beta - x0) / _S.where(trivial, 1.0, beta))
        w = _L.matmul(_M.expand_dims(v, axis=-2), R[..., j:, :])  # (..., 1, n)
        block = R[..., j:, :] - _M.expand_dims(_M.expand_dims(tau, -1), -1) * \
            _M.expand_dims(v, axis=-1) * w
        R = _cat([R[..., :j, :], block], -2)
        vs.append(v)
        taus.append(tau)
    from ._creation import tril, triu
    out = triu(R)
    # the vectors below the diagonal
    lower = []
    for j, v in enumerate(vs):
        lower.append(_cat([zeros(batch + (j + 1,), dtype=R.dtype, device=R.device), v[..., 1:]],
                          -1))
    if lower:
        Vm = _M.stack(lower, axis=-1)
        if k < n:
            Vm = _cat([Vm, zeros(batch + (m, n - k), dtype=R.dtype, device=R.device)], -1)
        out = out + Vm
    tau = _M.stack(taus, axis=-1) if taus else zeros(batch + (0,), dtype=R.dtype, device=R.device)
    return out, tau


def _householder(a, tau, j):
    batch = tuple(a.shape[:-2])
    v = _cat([zeros(batch + (j,), dtype=a.dtype, device=a.device),
              ones(batch + (1,), dtype=a.dtype, device=a.device), a[..., j + 1:, j]], -1)
    return v, tau[..., j]


def _apply_householders(a, tau, other, left=True, transpose=False):
    """``Q @ other`` (``Q^H``, ``other @ Q`` as asked) with ``Q = H_0 H_1 ... H_{k-1}``,
    ``H_j = I - tau_j v_j v_j^H``."""
    k = tau.shape[-1]
    order = range(k)
    # left: Q C = H_0 (H_1 (... C)) -> apply from the last; Q^H C = H_{k-1}^H ... H_0^H C
    if left and not transpose or (not left and transpose):
        order = reversed(range(k))
    C = other
    for j in order:
        v, t = _householder(a, tau, j)
        if a.dtype.is_complex and transpose:
            t = _E.conj(t)
        t = _M.expand_dims(_M.expand_dims(t, -1), -1)
        if left:
            vh = _E.conj(v) if a.dtype.is_complex else v
            C = C - t * _M.expand_dims(v, -1) * _L.matmul(_M.expand_dims(vh, -2), C)
        else:
            vh = _E.conj(v) if a.dtype.is_complex else v
            C = C - t * _L.matmul(C, _M.expand_dims(v, -1)) * _M.expand_dims(vh, -2)
    return C


def orgqr(input, tau):
    """The first ``n`` columns of ``Q = H_0 ... H_{k-1}`` from ``geqrf``'s output
    (``torch.linalg.householder_product``)."""
    a, tau = _tensor(input), _tensor(tau)
    m, n = a.shape[-2], a.shape[-1]
    I = _M.broadcast_to(eye(m, n, dtype=a.dtype, device=a.device), tuple(a.shape))
    return _apply_householders(a, tau, I, left=True)


def ormqr(input, tau, other, left=True, transpose=False):
    """``Q @ other`` (``Q^H`` with ``transpose``; ``other @ Q`` with ``left=False``) for the
    ``Q`` of ``geqrf``'s output."""
    return _apply_householders(_tensor(input), _tensor(tau), _tensor(other), left=left,
                               transpose=transpose)


# -- torch.linalg additions ----------------------------------------------------------------
def _linalg_vander(x, *, N=None):
    """``torch.linalg.vander``: powers ``x^0 .. x^(N-1)`` in the last dimension."""
    x = _tensor(x)
    n = x.shape[-1] if N is None else int(N)
    if n <= 1 and N is not None and n < 1:
        raise RuntimeError("N must be greater than 1.")
    cols = [ones(x.shape, dtype=x.dtype, device=x.device)]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    return _M.stack(cols, axis=-1)


class _Lstsq(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def _linalg_lstsq(A, B, rcond=None, *, driver=None):
    """``torch.linalg.lstsq``: least-squares solution ``pinv(A) @ B`` (residuals, rank and
    singular values are empty, as with PyTorch's default CPU driver 'gelsy')."""
    A, B = _tensor(A), _tensor(B)
    lin = _linalg()
    vec = B.ndim == A.ndim - 1
    rhs = _M.expand_dims(B, axis=-1) if vec else B
    x = _L.matmul(lin.pinv(A) if rcond is None else lin.pinv(A, rtol=rcond), rhs)
    if vec:
        x = x[..., 0]
    empty = zeros((0,), dtype=A.dtype, device=A.device)
    return _Lstsq(x, empty, zeros((0,), dtype=_dtypes.int64, device=A.device), empty)


def _linalg_tensorinv(A, ind=2):
    """``torch.linalg.tensorinv``: the inverse of ``A`` seen as a matrix
    (first ``ind`` dims x the rest)."""
    A = _tensor(A)
    out_shape = tuple(A.shape[ind:]) + tuple(A.shape[:ind])
    rows = math.prod(A.shape[:ind])
    inv = _linalg().inv(_M.reshape(A, (rows, -1)))
    return _M.reshape(inv, out_shape)


def _linalg_tensorsolve(A, B, dims=None):
    """``torch.linalg.tensorsolve``: ``X`` with ``tensordot(A, X, X.ndim) = B``."""
    A, B = _tensor(A), _tensor(B)
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        rest = [k for k in range(A.ndim) if k not in dims]
        A = _M.permute_dims(A, rest + dims)
    x_shape = tuple(A.shape[B.ndim:])
    n = math.prod(x_shape)
    sol = _linalg().solve(_M.reshape(A, (-1, n)), _M.reshape(B, (-1, 1)))
    return _M.reshape(sol, x_shape)


class _Ex(NamedTuple):
    result: Tensor
    info: Tensor


def _info(x):
    return zeros(tuple(x.shape[:-2]), dtype=_dtypes.int32, device=x.device)


def _linalg_cholesky_ex(A, *, upper=False, check_errors=False):
    """``torch.linalg.cholesky_ex``: ``(L, info)`` (info is 0; failures raise)."""
    A = _tensor(A)
    return _named("L", _linalg().cholesky(A, upper=upper), _info(A))


def _named(first, value, info):
    cls = _EX_CLASSES.setdefault(first, NamedTuple(f"{first}ExResult",
                                                   [(first, Tensor), ("info", Tensor)]))
    return cls(value, info)


_EX_CLASSES: dict = {}


def _linalg_inv_ex(A, *, check_errors=False):
    """``torch.linalg.inv_ex``: ``(inverse, info)``."""
    A = _tensor(A)
    return _named("inverse", _linalg().inv(A), _info(A))


def _linalg_solve_ex(A, B, *, left=True, check_errors=False):
    """``torch.linalg.solve_ex``: ``(result, info)``."""
    A = _tensor(A)
    return _named("result", _linalg().solve(A, B, left=left), _info(A))


def _linalg_matrix_exp(A):
    return matrix_exp(A)


_linalg_matrix_exp.__doc__ = matrix_exp.__doc__

LINALG_EXTRAS = {"vander": _linalg_vander, "lstsq": _linalg_lstsq, "tensorinv": _linalg_tensorinv,
                 "tensorsolve": _linalg_tensorsolve, "cholesky_ex": _linalg_cholesky_ex,
                 "inv_ex": _linalg_inv_ex, "solve_ex": _linalg_solve_ex,
                 "matrix_exp": _linalg_matrix_exp, "lu": _linalg_lu,
                 "lu_factor": _linalg_lu_factor, "lu_factor_ex": _linalg_lu_factor_ex,
                 "lu_solve": _linalg_lu_solve, "householder_product": orgqr}
"""Functions of ``torch.linalg`` that ``xgrad.linalg`` lacks; attached to it below
(where it does not define them itself)."""


# -- more of PyTorch's names: put, unfold, *_copy variants, unsafe_* ------------------------------
def put(input, index, source, accumulate=False):
    """``input`` (as if flattened) with ``source`` written (added, with ``accumulate``) at
    the flat positions ``index``."""
    input = _tensor(input)
    index = _index_tensor(index, input.device)
    flat = _M.reshape(input, (-1,))
    idx = _wrap_negative(_M.reshape(index, (-1,)), flat.shape[0])
    src = _M.reshape(_tensor(source), (-1,))
    out = index_put(flat, (idx,), src, accumulate=accumulate)
    return _M.reshape(out, tuple(input.shape))


def _unfold(self, dimension, size, step):
    """``Tensor.unfold``: the windows of ``size`` elements every ``step`` along
    ``dimension``, as a new last dimension: a view (writes into overlapping windows,
    other than zero_/fill_, raise PyTorch's overlapping-memory error)."""
    d = _dim(dimension, self.ndim)
    length = self.shape[d] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    x = self if self.ndim else _M.reshape(self, (1,))
    from .ops import strided_views  # (a view: xgrad/ops/strided_views.py)
    out = strided_views.unfold(x, d, size, step)
    return out if self.ndim else _M.reshape(out, (size,))


def split_with_sizes(input, split_sizes, dim=0):
    """``split`` with a list of sizes."""
    return split(input, list(split_sizes), dim)


unsafe_split = split
unsafe_chunk = chunk
unsafe_split_with_sizes = split_with_sizes


def is_same_size(input, other) -> bool:
    """Whether the two tensors have the same shape."""
    return tuple(_tensor(input).shape) == tuple(_tensor(other).shape)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return other - (input if alpha == 1 else input * alpha)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding ``s`` (default float dtype)."""
    from .config import get_default_dtype
    t = asarray(s, dtype=dtype or get_default_dtype(), device=device)
    return t.requires_grad_() if requires_grad else t


def fill(input, value):
    """A tensor of ``input``'s shape and dtype filled with ``value`` (differentiable in a
    0-d tensor ``value``)."""
    input = _tensor(input)
    if isinstance(value, Tensor):
        return _M.broadcast_to(_C.astype(value, input.dtype), tuple(input.shape)) * 1
    return _like(input, value) * _C.astype(ones(input.shape, device=input.device), input.dtype)


def _fill_diagonal_(self, fill_value, wrap=False):
    """``x.fill_diagonal_(v)``: the main diagonal (all dims equal, or 2-D) set to ``v``, in
    place; ``wrap=True`` continues below a tall matrix every ``n + 1`` rows."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    import numpy as np
    mask_np = np.zeros(self.shape, dtype=bool)
    if self.ndim == 2:
        m, n = self.shape
        rows = [i for i in range(m) if (i % (n + 1) if wrap else i) < n]
        for i in rows:
            mask_np[i, i % (n + 1) if wrap else i] = True
    else:
        for i in range(self.shape[0]):
            mask_np[(i,) * self.ndim] = True
    mask = asarray(mask_np, device=self.device)
    return _inplace_method(lambda x, v: masked_fill(x, mask, v), "fill_diagonal")(self, fill_value)


def _copy_variant(fn, name):
    def copy(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(_C.clone(o) for o in out) if not hasattr(out, "_fields") else \
                type(out)(*(_C.clone(o) for o in out))
        return _C.clone(out)
    copy.__name__ = name
    copy.__doc__ = f"``{name[:-5]}`` as a new tensor (not a view)."
    return copy


def _permute(input, dims):
    return _M.permute_dims(_tensor(input), tuple(dims))


def _expand(input, size, *, implicit=False):
    input = _tensor(input)
    size = tuple(size)
    lead = len(size) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(size))
    return _M.broadcast_to(input, shape)


def _squeeze(input, dim=None):
    input = _tensor(input)
    dims = range(input.ndim) if dim is None else \
        ([dim] if isinstance(dim, numbers.Integral) else list(dim))
    dims = tuple(_dim(d, input.ndim) for d in dims)
    drop = tuple(d for d in dims if input.ndim and input.shape[d] == 1)
    return _M.squeeze(input, axis=drop) if drop else _M.reshape(input, tuple(input.shape))


_COPIES = {
    "alias_copy": lambda input: input, "detach_copy": lambda input: _tensor(input).detach(),
    "diagonal_copy": diagonal, "expand_copy": _expand, "permute_copy": _permute,
    "select_copy": select, "slice_copy": lambda input, dim=0, start=None, end=None, step=1:
        _tensor(input)[_slice_key(_tensor(input).ndim, _dim(dim, _tensor(input).ndim),
                                  slice(start, end, step))],
    "split_copy": split, "split_with_sizes_copy": split_with_sizes, "squeeze_copy": _squeeze,
    "t_copy": t, "transpose_copy": swapdims,
    "unbind_copy": lambda input, dim=0: tuple(
        select(input, dim, i) for i in range(_tensor(input).shape[_dim(dim, _tensor(input).ndim)])),
    "unfold_copy": _unfold,
    "unsqueeze_copy": lambda input, dim: _M.expand_dims(_tensor(input),
                                                        axis=_dim(dim, _tensor(input).ndim + 1)),
    "view_copy": lambda input, *shape: _M.reshape(_tensor(input), _sizes(shape)),
    "view_as_real_copy": view_as_real, "view_as_complex_copy": view_as_complex,
}
for _name, _fn in _COPIES.items():
    globals()[_name] = _copy_variant(_fn, _name)
__all__ += ["put", "split_with_sizes", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
            "is_same_size", "rsub", "scalar_tensor", "fill", *_COPIES]


# -- window functions (Spectral Ops) --------------------------------------------------------------
def _window(length, periodic, dtype, device, requires_grad, formula):
    from .config import get_default_dtype
    dtype = dtype or get_default_dtype()
    if length < 0:
        raise RuntimeError(f"window_length must be non-negative, got {length}")
    if length <= 1:
        out = ones((length,), dtype=dtype, device=device)
    else:
        n = arange(length, dtype=_dtypes.float64, device=device)
        denom = length if periodic else length - 1
        out = _C.astype(formula(n, float(denom)), dtype)
    return out.requires_grad_() if requires_grad else out


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """Hann window: ``0.5 - 0.5 cos(2 pi n / N)`` (``N = length`` periodic, else ``length - 1``)."""
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.5 - 0.5 * _E.cos(2 * math.pi * n / N))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """Hamming window: ``alpha - beta cos(2 pi n / N)``."""
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: alpha - beta * _E.cos(2 * math.pi * n / N))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """Blackman window: ``0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)``."""
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.42 - 0.5 * _E.cos(2 * math.pi * n / N)
                   + 0.08 * _E.cos(4 * math.pi * n / N))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """Bartlett (triangular) window: ``1 - |2 n / N - 1|``."""
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 1 - _E.abs(2 * n / N - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    """Kaiser window: ``I0(beta sqrt(1 - (2 n / N - 1)^2)) / I0(beta)``."""
    import xgrad

    def formula(n, N):
        r = 2 * n / N - 1
        return xgrad.i0(beta * _E.sqrt(_S.clip(1 - r * r, 0, None))) / \
            xgrad.i0(asarray(beta, dtype=_dtypes.float64, device=n.device))
    return _window(window_length, periodic, dtype, device, requires_grad, formula)


__all__ += ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
            "kaiser_window"]


# -- Tensor methods ----------------------------------------------------------------------------
def _inplace_method(fn, name):
    """``x.<name>_(...)``: the out-of-place result written into ``x`` (recorded when
    autograd records, as every in-place op)."""
    def method(self, *args, **kwargs):
        if self._base is not None and name in ("index_fill", "masked_fill", "index_put"):
            from ._views import inplace_as_setitem  # (into an expansion: PyTorch writes)
            if inplace_as_setitem(name, self, args, kwargs) is not None:
                return self

        def write(buf):
            buf[...] = fn(self, *args, **kwargs)._data
            return buf
        return inplace(self, tuple(a for a in args if isinstance(a, Tensor)),
                       lambda: fn(self, *args, **kwargs), write)
    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}`` (see ``xgrad.{name}``)."
    return method


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


_METHODS = ("adjoint", "argwhere", "chunk", "diagonal_scatter", "dsplit", "gather", "hsplit",
            "index_add", "index_copy", "index_fill", "index_put", "index_reduce", "index_select",
            "masked_fill", "masked_scatter", "masked_select", "movedim", "moveaxis", "narrow",
            "narrow_copy", "scatter", "scatter_add", "scatter_reduce", "select", "select_scatter",
            "slice_scatter", "split", "swapaxes", "swapdims", "take", "take_along_dim",
            "tensor_split", "unflatten", "vsplit", "bincount", "cross", "diag", "diag_embed",
            "diagflat", "diagonal", "diff", "fliplr", "flipud", "gcd", "histc", "histogram",
            "kron", "lcm", "ravel", "renorm", "repeat_interleave", "resolve_conj", "resolve_neg",
            "rot90", "addbmm", "addmm", "addmv", "addr", "baddbmm", "cholesky",
            "cholesky_inverse", "cholesky_solve", "ger", "inner", "logdet", "matrix_exp", "mv",
            "qr", "svd", "triangular_solve", "vdot", "addcmul", "addcdiv", "outer", "trace",
            "t", "tile", "lu", "lu_solve", "geqrf", "orgqr", "ormqr", "put",
            "split_with_sizes", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
            "is_same_size", "rsub")
_INPLACE = ("index_add", "index_copy", "index_fill", "index_put", "index_reduce", "masked_fill",
            "masked_scatter", "scatter", "scatter_add", "scatter_reduce", "addbmm", "addmm",
            "addmv", "addr", "baddbmm", "addcmul", "addcdiv", "renorm", "gcd", "lcm", "put")


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    return ger(input, vec2)


def _trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    x = _tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return _R.sum(diagonal(x))


_tile.__name__ = "tile"
_trace.__name__ = "trace"
__all__ += ["outer", "trace", "tile"]
tile = _tile
trace = _trace

for _name in _METHODS:
    setattr(Tensor, _name, _method(globals()[_name]))
for _name in _INPLACE:
    setattr(Tensor, _name + "_", _inplace_method(globals()[_name], _name))
Tensor.repeat = _repeat_method
Tensor.unfold = _unfold
Tensor.fill_diagonal_ = _fill_diagonal_
Tensor.put_ = _inplace_method(put, "put")
Tensor.masked_fill_ = _inplace_method(_masked_fill_inplace_value, "masked_fill")
Tensor.mH = property(lambda self: adjoint(self), doc="The conjugate transpose of the last two axes.")
Tensor.H = property(lambda self: adjoint(self) if self.ndim == 2 else _bad_H(self),
                    doc="The conjugate transpose of a matrix.")
Tensor.ndimension = Tensor.dim
Tensor.nelement = Tensor.numel


def _bad_H(self):
    raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D "
                       f"tensor.")


def _linalg_method(name, fn_name=None):
    def method(self, *args, **kwargs):
        return getattr(_linalg(), fn_name or name)(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"``xgrad.linalg.{fn_name or name}`` of this tensor."
    return method


Tensor.det = _linalg_method("det")
Tensor.slogdet = _linalg_method("slogdet")
Tensor.inverse = _linalg_method("inverse", "inv")
Tensor.matrix_power = _linalg_method("matrix_power")
Tensor.pinverse = lambda self, rcond=1e-15: _linalg().pinv(self, rtol=rcond)
Tensor.broadcast_to = lambda self, size: _M.broadcast_to(self, tuple(size))
Tensor.cov = lambda self, *, correction=1, fweights=None, aweights=None: cov(
    self, correction=correction, fweights=fweights, aweights=aweights)
Tensor.corrcoef = lambda self: corrcoef(self)
Tensor.sum_to_size = lambda self, *size: _sum_to_size(self, _sizes(size))


def _sum_to_size(x, size):
    """``x`` summed over the dims that broadcasting ``size`` to its shape would expand."""
    lead = x.ndim - len(size)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and x.shape[lead + i] != 1)
    out = _R.sum(x, axis=axes, keepdims=True) if axes else x
    return _M.reshape(out, tuple(size))

from . import linalg as _linalg_module  # noqa: E402
for _name, _fn in LINALG_EXTRAS.items():
    if not hasattr(_linalg_module, _name):
        _fn.__name__ = _name
        setattr(_linalg_module, _name, _fn)

del _name, _fn
