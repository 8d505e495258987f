"""Shape manipulation. Their gradients only move the incoming gradient back."""

from __future__ import annotations

import operator

from .._tensor import Tensor, apply, unary
from ._registry import defop, LINEAR
from .reductions import normalize_axes


def _same_shape_as_input(xp, g, out, x, **params):
    return xp.reshape(g, tuple(x.shape))


RESHAPE = defop("reshape", lambda xp, x, *, shape, copy=None: xp.reshape(x, shape, copy=copy),
                (_same_shape_as_input,), saves=(), view=True, grad_name="ViewBackward0", jvp=LINEAR)
EXPAND_DIMS = defop("expand_dims", lambda xp, x, *, axis: xp.expand_dims(x, axis=axis),
                    (_same_shape_as_input,), saves=(), view=True, grad_name="UnsqueezeBackward0",
                    jvp=LINEAR)
SQUEEZE = defop("squeeze", lambda xp, x, *, axis: xp.squeeze(x, axis=axis),
                (_same_shape_as_input,), saves=(), view=True, jvp=LINEAR)
# broadcasting is undone by the engine, so the rule passes g through
BROADCAST_TO = defop("broadcast_to", lambda xp, x, *, shape: xp.broadcast_to(x, shape),
                     (lambda xp, g, out, x, *, shape: g,), saves=(), view=True, broadcasts=True,
                     grad_name="ExpandBackward0", jvp=LINEAR)


def _inverse_permutation(axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


PERMUTE_DIMS = defop("permute_dims", lambda xp, x, *, axes: xp.permute_dims(x, axes),
                     (lambda xp, g, out, x, *, axes: xp.permute_dims(g, _inverse_permutation(axes)),),
                     saves=(), view=True, grad_name="PermuteBackward0", jvp=LINEAR)
FLIP = defop("flip", lambda xp, x, *, axis=None: xp.flip(x, axis=axis),
             (lambda xp, g, out, x, *, axis=None: xp.flip(g, axis=axis),), saves=(), jvp=LINEAR)
ROLL = defop("roll", lambda xp, x, *, shift, axis=None: xp.roll(x, shift, axis=axis),
             (lambda xp, g, out, x, *, shift, axis=None:
              xp.roll(g, tuple(-s for s in shift) if isinstance(shift, tuple) else -shift, axis=axis),),
             saves=(), jvp=LINEAR)


def _slice_along(axis, start, stop, ndim):
    return (slice(None),) * axis + (slice(start, stop),) + (slice(None),) * (ndim - axis - 1)


def _concat_vjp(xp, g, out, *arrays, axis=0, shapes):
    if axis is None:  # the inputs were flattened
        sizes = [_numel(shape) for shape in shapes]
        starts = _cumulative(sizes)
        return tuple(xp.reshape(g[s:s + n], shape) for shape, s, n in zip(shapes, starts, sizes))
    ax = normalize_axes(axis, g.ndim)[0]
    sizes = [shape[ax] for shape in shapes]
    return tuple(g[_slice_along(ax, s, s + n, g.ndim)] for s, n in zip(_cumulative(sizes), sizes))


def _cumulative(sizes):
    starts, total = [], 0
    for n in sizes:
        starts.append(total)
        total += n
    return starts


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


CONCAT = defop("concat", lambda xp, *arrays, axis=0, shapes: xp.concat(arrays, axis=axis), _concat_vjp,
               saves=(), grad_name="CatBackward0", jvp=LINEAR)


def _stack_vjp(xp, g, out, *arrays, axis=0):
    ax = normalize_axes(axis, g.ndim)[0]
    return tuple(g[(slice(None),) * ax + (i, Ellipsis)] for i in range(len(arrays)))


STACK = defop("stack", lambda xp, *arrays, axis=0: xp.stack(arrays, axis=axis), _stack_vjp,
              saves=(), jvp=LINEAR)


def reshape(x, /, shape, *, copy=None):
    """The same elements in a new shape (one entry may be -1)."""
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    return unary(RESHAPE, x, {"shape": shape} if copy is None else {"shape": shape, "copy": copy})


def permute_dims(x, /, axes):
    """Reorder the axes: output axis i is input axis ``axes[i]``."""
    return unary(PERMUTE_DIMS, x, {"axes": tuple(axes)})


def expand_dims(x, /, axis=0):
    """Insert a size-1 axis at ``axis``."""
    return unary(EXPAND_DIMS, x, {"axis": axis})


def squeeze(x, /, axis):
    """Remove the size-1 axes ``axis``."""
    return unary(SQUEEZE, x, {"axis": axis})


def broadcast_to(x, /, shape):
    """``x`` broadcast to ``shape`` (a read-only view)."""
    return unary(BROADCAST_TO, x, {"shape": tuple(shape)})


def flip(x, /, *, axis=None):
    """Reverse the order of elements along ``axis`` (all axes by default)."""
    if axis is not None and getattr(x, "ndim", 1) == 0:  # PyTorch: dim 0 / -1 of a 0-d x
        from .reductions import normalize_axes
        normalize_axes(axis, 0)
        axis = None
    return unary(FLIP, x, None if axis is None else {"axis": axis})


def roll(x, /, shift, *, axis=None):
    """Shift elements along ``axis``, wrapping around."""
    return unary(ROLL, x, {"shift": tuple(shift) if isinstance(shift, list) else shift, "axis": axis})


def concat(arrays, /, *, axis=0):
    """Join arrays along an existing axis (``axis=None``: flatten first)."""
    arrays = tuple(arrays)
    return apply(CONCAT, arrays, {"axis": axis, "shapes": tuple(tuple(a.shape) for a in arrays)})


def stack(arrays, /, *, axis=0):
    """Join arrays along a new axis."""
    return apply(STACK, tuple(arrays), {"axis": axis})


def _ordered_axes(axes, ndim, what) -> tuple:
    """``axes`` (an integer or a sequence of them) as non-negative ints, in order;
    an axis out of range is an IndexError, a repeated one a ValueError (NumPy's
    messages, which name the argument: ``what``)."""
    axes = tuple(map(operator.index, axes)) if isinstance(axes, (tuple, list)) else \
        (operator.index(axes),)
    for a in axes:
        if not -ndim <= a < ndim:
            raise IndexError(f"{what}: axis {a} is out of bounds for array of dimension {ndim}")
    out = tuple(a % ndim for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in `{what}` argument")
    return out


def moveaxis(x, source, destination, /):
    """Move axes ``source`` to positions ``destination``."""
    ndim = x.ndim
    src, dst = _ordered_axes(source, ndim, "source"), _ordered_axes(destination, ndim, "destination")
    if len(src) != len(dst):
        raise ValueError("source and destination must have the same number of axes")
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute_dims(x, order)


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple."""
    ax = normalize_axes(axis, x.ndim)[0]
    return tuple(x[(slice(None),) * ax + (i, Ellipsis)] for i in range(x.shape[ax]))


def broadcast_shapes(*shapes) -> tuple:
    """The shape that all ``shapes`` broadcast to."""
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i and s[i] != 1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(map(str, shapes))} cannot be broadcast together")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def broadcast_arrays(*arrays):
    """The arrays broadcast against each other."""
    shape = broadcast_shapes(*(tuple(a.shape) for a in arrays))
    return [a if tuple(a.shape) == shape else broadcast_to(a, shape) for a in arrays]


def tile(x, repetitions, /):
    """``x`` repeated ``repetitions[i]`` times along axis i."""
    reps = tuple(map(operator.index, repetitions))
    ndim = max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    x = reshape(x, (1,) * (ndim - x.ndim) + tuple(x.shape))
    # put a broadcast axis before each axis, then merge the pairs
    expanded = reshape(x, tuple(d for s in x.shape for d in (1, s)))
    target = tuple(d for r, s in zip(reps, x.shape) for d in (r, s))
    # a new array (the standard's tile copies): writable, sharing nothing with x
    from .creation_ops import clone
    return reshape(clone(broadcast_to(expanded, target)), tuple(r * s for r, s in zip(reps, x.shape)))


def repeat(x, repeats, /, *, axis=None):
    """Repeat each element ``repeats`` times (an int or one count per element)."""
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    ax = normalize_axes(axis, x.ndim)[0]
    counts = repeats.tolist() if isinstance(repeats, Tensor) else repeats
    if isinstance(counts, (list, tuple)) and len(counts) == 1:  # one count broadcasts
        counts = counts[0]
    if not isinstance(counts, (list, tuple)):
        repeats = operator.index(counts)
        shape = tuple(x.shape)
        expanded = expand_dims(x, axis=ax + 1)
        target = shape[:ax + 1] + (repeats,) + shape[ax + 1:]
        merged = shape[:ax] + (shape[ax] * repeats,) + shape[ax + 1:]
        from .creation_ops import clone  # a new, writable array (not a view of x)
        return reshape(clone(broadcast_to(expanded, target)), merged)
    from .indexing import take
    if len(counts) != x.shape[ax]:
        raise ValueError(f"repeat got {len(counts)} counts for an axis of size {x.shape[ax]}")
    index = [i for i, c in enumerate(counts) for _ in range(int(c))]
    if not index:  # nothing repeated: an empty slice keeps the gradient path
        return x[_slice_along(ax, 0, 0, x.ndim)]
    from .._creation import asarray
    from .._dtypes import int64
    return take(x, asarray(index, dtype=int64, device=x.device), axis=ax)


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None):
    """The ``n``-th forward difference along ``axis`` (``prepend``/``append`` joined
    first); built from slicing, so differentiable to any order."""
    if n < 0:
        raise ValueError(f"diff needs n >= 0, got {n}")
    ax = normalize_axes(axis, x.ndim)[0]
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat(parts, axis=ax)
    for _ in range(n):
        x = x[_slice_along(ax, 1, None, x.ndim)] - x[_slice_along(ax, None, -1, x.ndim)]
    return x
