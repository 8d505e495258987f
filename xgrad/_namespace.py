"""The PyTorch face: top-level ``xgrad`` functions with PyTorch's signatures and
semantics (``import xgrad as torch``).

Where PyTorch and the array API standard disagree (``std``'s correction=1
default, ``max(x, dim)`` returning ``(values, indices)``, ``squeeze`` ignoring
a dim whose size is not 1, ``nonzero`` returning an ``(n, ndim)`` tensor,
``flip(x, dims)``, ``roll(x, shifts, dims)``, ``tensordot(a, b, dims)``,
``equal`` returning a Python bool, ``meshgrid`` indexing 'ij', ...), this module
follows PyTorch; the standard's versions are :mod:`xgrad.array_api`. Both are
thin wrappers over the ops in :mod:`xgrad.ops`. PyTorch's keyword names are
accepted (``input``, ``other``, ``dim``, ``keepdim``, ``dims``, ``shifts``,
``diagonal``), and so are the aliases PyTorch itself accepts (``axis`` for
``dim``, ``keepdims`` for ``keepdim``). ``out=`` raises NotImplementedError.
"""

from __future__ import annotations

import builtins
import collections
import numbers

from . import _dtypes
from . import array_api as _std
from ._creation import (as_tensor, from_dlpack, from_numpy,  # noqa: F401
                        manual_seed, normal, rand, rand_like, randint, randn,
                        randn_like, randperm, seed, tensor)
from . import _creation
from ._creation import compute  # noqa: F401
from ._creation import arange as _arange, full as _full, linspace as _linspace
from ._creation import eye as _eye, full_like as _full_like, meshgrid as _meshgrid
from ._creation import asarray as _asarray, resolve_dtype as _resolve_dtype
from ._tensor import Tensor
from .ops.creation_ops import astype, clone, to_device  # noqa: F401
from .ops.elementwise import *  # noqa: F401,F403
from .ops.elementwise import negative, subtract, multiply, divide, pow, abs  # noqa: F401
from .ops.elementwise import round as _round, maximum as _maximum, minimum as _minimum
from .ops import elementwise as _E
from .ops.searching import where as _where_op
from .ops.linalg import tensordot as _tensordot_op
from .ops.indexing import take_along_axis  # noqa: F401
from .ops.linalg import matrix_transpose, outer, vecdot, vector_norm  # noqa: F401
from .ops.manipulation import (broadcast_arrays, broadcast_shapes, broadcast_to,  # noqa: F401
                               expand_dims, moveaxis, permute_dims, repeat, reshape, tile, unstack)
from .ops.nn import relu, sigmoid  # noqa: F401
from .ops.reductions import cumulative_prod, cumulative_sum  # noqa: F401
from .ops.sets import unique_all, unique_counts, unique_inverse, unique_values  # noqa: F401
from ._dtype_functions import can_cast, finfo, iinfo, isdtype, result_type  # noqa: F401
from ._info import __array_namespace_info__  # noqa: F401

_bmax, _bmin, _ball, _bany, _bsum, _babs = (builtins.max, builtins.min, builtins.all,
                                            builtins.any, builtins.sum, builtins.abs)


# -- helpers ------------------------------------------------------------------------------
def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else _asarray(x)


def _no_out(out, name):
    if out is not None:
        raise NotImplementedError(f"xgrad.{name}: out= is not supported; use the result")


def _dim(dim, axis=None, name=None):
    """PyTorch's ``dim`` (or its alias ``axis``): an int, a tuple, or None; lists become tuples."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name or 'function'}() got both dim and axis")
        dim = axis
    if isinstance(dim, list):
        dim = tuple(dim)
    if isinstance(dim, tuple):
        dim = tuple(int(d) for d in dim)
    return dim


def _keep(keepdim, keepdims):
    return bool(keepdim if keepdims is None else keepdims)


def _all_dims(dim):
    """PyTorch reduces over every dim for ``dim=None`` and (for sum/mean/amax/...) ``dim=()``."""
    return None if dim == () else dim


def _torch_dtype_name(dt) -> str:
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}.get(dt.name, dt.name)


def _check_same_dtype(a, b):
    """PyTorch's matmul family refuses operands of different dtypes."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_torch_dtype_name(a.dtype)} != {_torch_dtype_name(b.dtype)}")


def _tensors(tensors, name, arg="tensors"):
    """A list of tensors, or PyTorch's TypeError naming the first element that is not one."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


class return_types:  # noqa: N801 - PyTorch's spelling (torch.return_types.max, ...)
    """The named tuples PyTorch returns (``values``/``indices`` pairs)."""
    max = collections.namedtuple("max", ["values", "indices"])
    min = collections.namedtuple("min", ["values", "indices"])
    sort = collections.namedtuple("sort", ["values", "indices"])
    aminmax = collections.namedtuple("aminmax", ["min", "max"])


# -- elementwise: PyTorch's parameter names (input, other, exponent) and out= ---------------
def _pointwise(fn):
    """``fn`` (an elementwise op, positional-only) with PyTorch's signature
    ``f(input, *, out=None)`` or ``f(input, other, *, out=None)``."""
    import inspect
    nargs = len(inspect.signature(fn).parameters)
    name = fn.__name__
    if nargs == 1:
        def f(input, *, out=None):
            if out is not None:
                _no_out(out, name)
            return fn(input)
    elif name == "pow":
        def f(input, exponent, *, out=None):
            if out is not None:
                _no_out(out, name)
            return fn(input, exponent)
    else:
        def f(input, other, *, out=None):
            if out is not None:
                _no_out(out, name)
            return fn(input, other)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    f.__wrapped_op__ = fn
    if hasattr(fn, "op"):
        f.op = fn.op
    return f


def _install_pointwise():
    from .ops import elementwise as E
    g = globals()
    for n in E.__all__:
        g[n] = _pointwise(getattr(E, n))


_install_pointwise()


# -- creation ------------------------------------------------------------------------------
def _scalar(v):
    if isinstance(v, Tensor):
        return v.item()
    return v


def _filled(name, doc):
    fn = getattr(_creation, name)

    def f(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, **kwargs):
        _no_out(out, name)
        return fn(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc + " The size is given as varargs (``f(2, 3)``), a sequence or ``size=``."
    return f


zeros = _filled("zeros", "A tensor of zeros.")
ones = _filled("ones", "A tensor of ones.")
empty = _filled("empty", "An uninitialised tensor.")


def _like(name, doc):
    fn = getattr(_creation, name)

    def f(input, *, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None):
        return fn(input, dtype=dtype, device=device, requires_grad=requires_grad)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


zeros_like = _like("zeros_like", "Zeros with the shape (and, unless given, dtype and device) "
                                 "of ``input``.")
ones_like = _like("ones_like", "Ones with the shape (and, unless given, dtype and device) of "
                               "``input``.")
empty_like = _like("empty_like", "An uninitialised tensor like ``input``.")


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, stop=None):
    """Values from ``start`` to ``end`` (exclusive) by ``step``. Like PyTorch: the
    default float dtype if any of them is a float, int64 otherwise."""
    _no_out(out, "arange")
    end = stop if end is None else end
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = _bany(not isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = None if floats else _dtypes.int64
        if floats:
            from .config import get_default_dtype
            dtype = get_default_dtype()
    if step == 0:
        raise RuntimeError("step must be nonzero")
    return _arange(start, end, step, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included)."""
    _no_out(out, "linspace")
    return _linspace(_scalar(start), _scalar(end), int(steps), dtype=dtype, device=device,
                     requires_grad=requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype from the value)."""
    _no_out(out, "full")
    return _full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """``fill_value`` everywhere, with the shape (and dtype, device) of ``input``."""
    return _full_like(input, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """An ``n`` x ``m`` identity matrix."""
    _no_out(out, "eye")
    return _eye(n, m, dtype=dtype, device=device, requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False, chunks=None):
    """``torch.asarray``: a tensor from ``obj``, sharing memory where possible
    (``chunks``: the block shape on the ``dask`` device)."""
    return _asarray(obj, dtype=dtype, device=device, copy=copy, requires_grad=requires_grad,
                    chunks=chunks)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors; PyTorch's default ``indexing`` is 'ij'."""
    return _meshgrid(*tensors, indexing="ij" if indexing is None else indexing)


def tril(input, diagonal=0, *, out=None):
    """The lower triangle of the last two dims (zeros above diagonal ``diagonal``)."""
    _no_out(out, "tril")
    return _std.tril(input, k=diagonal)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle of the last two dims (zeros below diagonal ``diagonal``)."""
    _no_out(out, "triu")
    return _std.triu(input, k=diagonal)


# -- pointwise with PyTorch's extra arguments -----------------------------------------------
def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other``."""
    _no_out(out, "add")
    return _E.add(input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    _no_out(out, "sub")
    return _E.subtract(input, other if alpha == 1 else other * alpha)


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other``; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
    _no_out(out, "div")
    if rounding_mode is None:
        return _E.divide(input, other)
    if rounding_mode == "floor":
        return _E.floor_divide(input, other)
    if rounding_mode == "trunc":
        q = _E.divide(input, other)
        x = _t(input)
        return _std.trunc(q) if q.dtype.is_inexact and x.dtype.is_inexact else \
            astype(_std.trunc(q), _std.result_type(x, other) if isinstance(other, Tensor)
                   else x.dtype)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


mul = multiply = _pointwise(_E.multiply)
true_divide = divide = _pointwise(_E.divide)
neg = negative
absolute = abs
subtract = sub


def round(input, *, decimals=0, out=None):  # noqa: A001
    """Round half to even (to ``decimals`` decimal places)."""
    _no_out(out, "round")
    if decimals == 0:
        return _round(input)
    scale = 10.0 ** decimals
    return _round(input * scale) / scale


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    """Each element limited to ``[min, max]`` (``min > max`` gives ``max``, as PyTorch)."""
    _no_out(out, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    x = input
    if min is not None:
        x = _maximum(x, min) if isinstance(min, Tensor) else _std.clip(x, min, None)
    if max is not None:
        x = _minimum(x, max) if isinstance(max, Tensor) else _std.clip(x, None, max)
    return x


clip = clamp


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other``; ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``."""
    _no_out(out, "where")
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() takes condition, input and other (or condition alone)")
    return _where_op(condition, input, other)


def maximum(input, other, *, out=None):
    """Elementwise maximum (ties share the gradient)."""
    _no_out(out, "maximum")
    return _maximum(input, other)


def minimum(input, other, *, out=None):
    """Elementwise minimum (ties share the gradient)."""
    _no_out(out, "minimum")
    return _minimum(input, other)


# -- reductions ------------------------------------------------------------------------------
def _as_dtype(x, dtype):
    return x if dtype is None else astype(x, _resolve_dtype(dtype))


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None,  # noqa: A001
        keepdims=None):
    """Sum over ``dim`` (every dim by default); ``dtype`` casts first."""
    _no_out(out, "sum")
    d = _all_dims(_dim(dim, axis, "sum"))
    return _std.sum(_t(input), axis=d, keepdims=_keep(keepdim, keepdims),
                    dtype=None if dtype is None else _resolve_dtype(dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    """Mean over ``dim`` (every dim by default); floating-point or complex inputs (or a
    ``dtype``) only, as in PyTorch."""
    _no_out(out, "mean")
    x = _as_dtype(_t(input), dtype)
    if not x.dtype.is_inexact:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype.name.capitalize()}")
    return _std.mean(x, axis=_all_dims(_dim(dim, axis, "mean")), keepdims=_keep(keepdim, keepdims))


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    """Product over ``dim`` (every element by default)."""
    _no_out(out, "prod")
    d = _dim(dim, axis, "prod")
    if isinstance(d, tuple):
        raise TypeError("prod(): argument 'dim' must be int, not tuple")
    return _std.prod(_t(input), axis=d, keepdims=_keep(keepdim, keepdims),
                     dtype=None if dtype is None else _resolve_dtype(dtype))


def _statistic(std_fn, name):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None,
           axis=None, keepdims=None):
        _no_out(out, name)
        if isinstance(dim, bool):  # the legacy std(input, unbiased)
            dim, unbiased = None, dim
        if correction is not None and unbiased is not None:
            raise RuntimeError(f"{name}: can't specify both unbiased and correction")
        if correction is None:
            correction = 0 if unbiased is False else 1
        return std_fn(_t(input), axis=_all_dims(_dim(dim, axis, name)), correction=correction,
                      keepdims=_keep(keepdim, keepdims))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"PyTorch's ``{name}`` over ``dim``: Bessel's correction by default "
                  f"(``correction=1``; ``unbiased=False`` or ``correction=0`` for the population "
                  f"{name}). The standard's ``{name}`` (correction=0) is xgrad.array_api.{name}.")
    return fn


std = _statistic(_std.std, "std")
var = _statistic(_std.var, "var")


def _pair(input, dim, keepdim, reduce_arg, name):
    x = _t(input)
    if x.ndim == 0:
        d = int(dim)
        if d not in (0, -1):
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], "
                             f"but got {d})")
        from .ops.searching import argmax as _am
        return getattr(return_types, name)(clone(x), _am(x))
    idx = reduce_arg(x, axis=dim, keepdims=True)
    values = take_along_axis(x, idx, axis=dim)
    if not keepdim:
        values, idx = _std.squeeze(values, axis=dim), _std.squeeze(idx, axis=dim)
    return getattr(return_types, name)(values, idx)


def _extreme(name, reduce, reduce_arg, pairwise):
    def fn(input, dim=None, keepdim=False, *, out=None, other=None, axis=None, keepdims=None):
        _no_out(out, name)
        if isinstance(dim, Tensor) or other is not None:
            return pairwise(input, dim if other is None else other)
        d = _dim(dim, axis, name)
        keep = _keep(keepdim, keepdims)
        if d is None:
            return reduce(_t(input))
        if isinstance(d, tuple):
            raise TypeError(f"{name}() received an invalid combination of arguments: dim must "
                            f"be an int (use amax/amin to reduce over several dims)")
        return _pair(input, d, keep, reduce_arg, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"PyTorch's ``{name}``: ``{name}(input)`` the {name}imum of all elements; "
                  f"``{name}(input, dim, keepdim=False)`` a named tuple ``(values, indices)`` "
                  f"(the gradient goes to the index returned); ``{name}(input, other)`` the "
                  f"elementwise {name}imum.")
    return fn


max = _extreme("max", _std.max, _std.argmax, maximum)  # noqa: A001
min = _extreme("min", _std.min, _std.argmin, minimum)  # noqa: A001


def amax(input, dim=(), keepdim=False, *, out=None, axis=None, keepdims=None):
    """The maximum over ``dim`` (all dims by default); ties share the gradient."""
    _no_out(out, "amax")
    return _std.max(_t(input), axis=_all_dims(_dim(dim, axis)), keepdims=_keep(keepdim, keepdims))


def amin(input, dim=(), keepdim=False, *, out=None, axis=None, keepdims=None):
    """The minimum over ``dim`` (all dims by default); ties share the gradient."""
    _no_out(out, "amin")
    return _std.min(_t(input), axis=_all_dims(_dim(dim, axis)), keepdims=_keep(keepdim, keepdims))



def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the maximum over ``dim`` (of the flattened input by default)."""
    return _std.argmax(_t(input), axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the minimum over ``dim`` (of the flattened input by default)."""
    return _std.argmin(_t(input), axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))


def all(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):  # noqa: A001
    """Whether every element (over ``dim``) is true."""
    _no_out(out, "all")
    return _std.all(_t(input), axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))


def any(input, dim=None, keepdim=False, *, out=None, axis=None, keepdims=None):  # noqa: A001
    """Whether some element (over ``dim``) is true."""
    _no_out(out, "any")
    return _std.any(_t(input), axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))


def count_nonzero(input, dim=None, *, axis=None, keepdim=False, keepdims=None):
    """The number of non-zero elements over ``dim`` (all by default)."""
    return _std.count_nonzero(_t(input), axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sums along ``dim``."""
    _no_out(out, "cumsum")
    return _std.cumulative_sum(_t(input), axis=int(dim),
                               dtype=None if dtype is None else _resolve_dtype(dtype))


def cumprod(input, dim, *, dtype=None, out=None):
    """Running products along ``dim``."""
    _no_out(out, "cumprod")
    return _std.cumulative_prod(_t(input), axis=int(dim),
                                dtype=None if dtype is None else _resolve_dtype(dtype))



def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """PyTorch's ``norm``: the vector ``p``-norm over ``dim`` (all elements by default;
    'fro' is p = 2 over ``dim``), or the nuclear norm for ``p='nuc'``."""
    _no_out(out, "norm")
    x = _as_dtype(_t(input), dtype)
    d = _dim(dim)
    if isinstance(d, int):
        d = (d,)
    if p == "nuc":
        from . import linalg
        return linalg.matrix_norm(x, "nuc", d or (-2, -1), keepdim)
    if p in ("fro", None):
        p = 2
    return vector_norm(x, axis=d, keepdims=keepdim, ord=p)


# -- shape -----------------------------------------------------------------------------------
def _shape_args(args):
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        return tuple(args[0])
    return tuple(args)


def cat(tensors, dim=0, *, out=None, axis=None):
    """Join tensors along an existing ``dim``."""
    _no_out(out, "cat")
    return _std.concat(_tensors(tensors, "cat"), axis=_dim(dim if axis is None else axis))


def concat(tensors, dim=0, *, out=None, axis=None):
    """Alias of :func:`cat`."""
    return cat(tensors, dim, out=out, axis=axis)


def concatenate(tensors, axis=0, out=None):
    """Alias of :func:`cat` (NumPy's keyword ``axis``)."""
    return cat(tensors, axis, out=out)


def stack(tensors, dim=0, *, out=None, axis=None):
    """Join tensors along a new ``dim``."""
    _no_out(out, "stack")
    return _std.stack(_tensors(tensors, "stack"), axis=_dim(dim if axis is None else axis))


def flip(input, dims=None, *, axis=None):
    """Reverse the order of elements along ``dims``."""
    dims = _dim(dims, axis)
    if dims is None:
        raise TypeError("flip() missing 1 required positional argument: 'dims'")
    return _std.flip(input, axis=dims)


def roll(input, shifts, dims=None, *, axis=None, shift=None):
    """Roll elements by ``shifts`` along ``dims`` (of the flattened tensor without dims)."""
    shifts = shift if shifts is None else shifts
    dims = _dim(dims, axis)
    if isinstance(shifts, list):
        shifts = tuple(shifts)
    if isinstance(shifts, tuple) and isinstance(dims, int):
        dims = (dims,)
    if isinstance(dims, tuple) and isinstance(shifts, numbers.Integral):
        shifts = (int(shifts),) * len(dims)
    if isinstance(dims, tuple) and len(dims) != len(shifts):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    return _std.roll(input, shifts, axis=dims)


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` (an int: the last ``dims`` of ``a`` with the first of ``b``; or
    two lists of dims) of ``a`` and ``b``."""
    _no_out(out, "tensordot")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (list, tuple)):
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists of dims")
        da, db = dims
        da = (int(da),) if isinstance(da, numbers.Integral) else tuple(int(d) for d in da)
        db = (int(db),) if isinstance(db, numbers.Integral) else tuple(int(d) for d in db)
        return _tensordot_op(a, b, axes=(da, db))
    if int(dims) < 0:
        raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
    return _tensordot_op(a, b, axes=int(dims))


def squeeze(input, dim=None, *, axis=None):
    """``input`` without size-1 dims: all of them, or those of ``dim`` (an int or a tuple)
    whose size is 1 (PyTorch leaves other dims alone)."""
    x = _t(input)
    d = _dim(dim, axis)
    if x.ndim == 0:
        return _std.reshape(x, ())
    if d is None:
        d = tuple(i for i, s in enumerate(x.shape) if s == 1)
    elif isinstance(d, int):
        d = (d,)
    for i in d:
        if not -x.ndim <= i < x.ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-x.ndim}, {x.ndim - 1}], but got {i})")
    d = tuple(sorted({i % x.ndim for i in d if x.shape[i] == 1}))
    return _std.squeeze(x, axis=d)


def reshape(input, shape):
    """``input`` with shape ``shape`` (one entry may be -1)."""
    return _std.reshape(input, tuple(shape))


def unsqueeze(input, dim):
    """A size-1 dim inserted at ``dim``."""
    return expand_dims(input, axis=dim)


def permute(input, dims):
    """``input`` with its dims reordered."""
    return permute_dims(input, tuple(dims))


def transpose(input, dim0, dim1):
    """``input`` with dims ``dim0`` and ``dim1`` swapped."""
    axes = list(range(input.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return permute_dims(input, axes)


swapaxes = swapdims = transpose



def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim`` through ``end_dim`` into one."""
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
    sizes = _shape_args(sizes)
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(input, shape)


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple."""
    return unstack(input, axis=dim)



def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an ``(n, ndim)`` int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dim."""
    _no_out(out, "nonzero")
    x = _t(input)
    if x.ndim == 0:
        parts = _std.nonzero(reshape(x, (1,)))
        if as_tuple:
            return parts
        return _std.zeros((parts[0].shape[0], 0), dtype=_dtypes.int64, device=x.device)
    parts = _std.nonzero(x)
    if as_tuple:
        return parts
    return _std.stack([astype(p, _dtypes.int64, copy=False) for p in parts], axis=1)



def equal(input, other) -> bool:
    """True if the two tensors have the same shape and elements (a Python bool)."""
    a, b = _t(input), _t(other)
    if tuple(a.shape) != tuple(b.shape):
        return False
    return builtins.bool(_std.all(_E.equal(a, b)).item())


def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    """``(values, indices)`` sorted along ``dim`` (the sort is always stable)."""
    _no_out(out, "sort")
    x = _t(input)
    if x.ndim == 0:
        return return_types.sort(clone(x), _std.zeros((), dtype=_dtypes.int64, device=x.device))
    indices = _std.argsort(x, axis=dim, descending=descending, stable=True)
    return return_types.sort(take_along_axis(x, indices, axis=dim), indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort ``input`` along ``dim`` (always stable)."""
    x = _t(input)
    if x.ndim == 0:
        return _std.zeros((), dtype=_dtypes.int64, device=x.device)
    return _std.argsort(x, axis=dim, descending=descending, stable=True)



def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (sorted), with the inverse indices (shaped like ``input``) and
    counts when asked for; with ``dim``, the distinct slices along it (``unique_dim``)."""
    if dim is not None:
        from ._torch_math import unique_dim
        return unique_dim(input, dim, sorted, return_inverse, return_counts)
    x = _t(input)
    res = _std.unique_all(reshape(x, (-1,)))
    values = res.values
    order = _std.argsort(values)
    values = _std.take(values, order)
    out = [values]
    if return_inverse:
        rank = _std.argsort(order)
        out.append(reshape(_std.take(rank, reshape(res.inverse_indices, (-1,))), tuple(x.shape)))
    if return_counts:
        out.append(_std.take(res.counts, order))
    return out[0] if len(out) == 1 else tuple(out)


# -- products ---------------------------------------------------------------------------------
def matmul(input, other, *, out=None):
    """Matrix product (1-D operands, broadcast batch dims); both operands must have the
    same dtype (PyTorch's RuntimeError otherwise)."""
    _no_out(out, "matmul")
    _check_same_dtype(input, other)
    return _std.matmul(input, other)


def mm(input, mat2, *, out=None):
    """Product of two 2-D matrices."""
    _no_out(out, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2, *, out=None):
    """Product of two batches of matrices (3-D each)."""
    _no_out(out, "bmm")
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors of the same dtype."""
    _no_out(out, "dot")
    from .ops.linalg import dot as _dot
    if isinstance(input, Tensor) and isinstance(tensor, Tensor) and input.dtype != tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{input.dtype.name.capitalize()} and {tensor.dtype.name.capitalize()}")
    return _dot(input, tensor)


def numel(input) -> int:
    """The number of elements."""
    return input.numel()


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an xgrad tensor."""
    return isinstance(obj, Tensor)


# -- PyTorch's top-level linear algebra names (implemented in xgrad.linalg) -----------------
def inverse(input, *, out=None):
    """PyTorch's ``inverse``: ``xgrad.linalg.inv``."""
    _no_out(out, "inverse")
    from .linalg import inv
    return inv(input)


def det(input):
    """PyTorch's ``det``: ``xgrad.linalg.det``."""
    from .linalg import det as _det
    return _det(input)


def slogdet(input):
    """PyTorch's ``slogdet``: ``xgrad.linalg.slogdet``."""
    from .linalg import slogdet as _slogdet
    return _slogdet(input)



def matrix_power(input, n):
    """PyTorch's ``matrix_power``: ``xgrad.linalg.matrix_power``."""
    from .linalg import matrix_power as _matrix_power
    return _matrix_power(input, n)


def pinverse(input, rcond=1e-15):
    """PyTorch's ``pinverse``: ``xgrad.linalg.pinv`` with relative cutoff ``rcond``."""
    from .linalg import pinv
    return pinv(input, rtol=rcond)


__all__ = [_n for _n in list(globals()) if not _n.startswith("_")
           and _n not in ("annotations", "builtins", "collections", "numbers")]
