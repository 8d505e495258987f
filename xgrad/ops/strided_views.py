"""Views PyTorch takes by reinterpreting strides: ``view_as_real``, ``view_as_complex``,
``Tensor.unfold``.

Each is an op registered with ``view=True`` plus its ``put`` (the base with the view
replaced by a value) and PyTorch's strides, so writes through the view reach the
base, writes into the base reach the view, and ``is_contiguous``/``view`` decide as
PyTorch's (``xgrad/_views.py``, docs/views.md). The data never relies on the backend
aliasing memory: the forward rules use standard functions (``real``, ``imag``,
``stack``, ``take``), re-run after each write.
"""

from __future__ import annotations

from ._registry import LINEAR, call, defop, is_backend_namespace

__all__ = ["VIEW_AS_REAL", "VIEW_AS_COMPLEX", "UNFOLD", "view_as_real", "view_as_complex", "unfold"]


def _complex_of(xp, real_dtype):
    return xp.complex64 if real_dtype == xp.float32 else xp.complex128


def _real_of(xp, complex_dtype):
    return xp.float32 if complex_dtype == xp.complex64 else xp.float64


# -- view_as_real / view_as_complex -------------------------------------------------------------

def _as_real_forward(xp, x):
    return xp.stack([xp.real(x), xp.imag(x)], axis=-1)


def _as_complex_forward(xp, x):
    cd = _complex_of(xp, x.dtype)
    return xp.astype(x[..., 0], cd) + xp.astype(x[..., 1], cd) * xp.asarray(1j, dtype=cd)


def _as_real_vjp(xp, g, out, x):
    # PyTorch: the gradient of view_as_real is view_as_complex of the gradient
    return call(xp, VIEW_AS_COMPLEX, g)


def _as_complex_vjp(xp, g, out, x):
    return call(xp, VIEW_AS_REAL, g)


VIEW_AS_REAL = defop("view_as_real", _as_real_forward, (_as_real_vjp,), saves=(), view=True,
                     jvp=LINEAR, grad_name="ViewAsRealBackward0")
VIEW_AS_COMPLEX = defop("view_as_complex", _as_complex_forward, (_as_complex_vjp,), saves=(),
                        view=True, jvp=LINEAR, grad_name="ViewAsComplexBackward0")


def _put_as_real(xp, base, value):
    if xp.isdtype(value.dtype, "complex floating"):  # (zeros of a complex gradient's dtype)
        value = xp.real(value)
    return _as_complex_forward(xp, xp.astype(value, _real_of(xp, base.dtype)))


def _put_as_complex(xp, base, value):
    if not xp.isdtype(value.dtype, "complex floating"):  # (zeros of a real gradient's dtype)
        value = xp.astype(value, _complex_of(xp, base.dtype))
    return xp.astype(_as_real_forward(xp, value), base.dtype)


def _as_real_strides(shape, strides, params):
    return tuple(shape) + (2,), tuple(2 * s for s in strides) + (1,)


def _as_complex_strides(shape, strides, params):
    return tuple(shape[:-1]), tuple(s // 2 for s in strides[:-1])


def view_as_complex(x):
    """``x`` (float32/float64, last dimension of size 2) seen as complex: a view, with
    PyTorch's errors where its strides do not allow one."""
    from .._tensor import unary
    from .. import _views
    if x._base is not None:
        layout = _views._layout(x._base, x._chain)
        if layout is not None and layout[0]:
            strides = layout[1]
            if strides[-1] != 1:
                raise RuntimeError("Tensor must have a last dimension with stride 1")
            if any(s % 2 for s, n in zip(strides[:-1], layout[0][:-1]) if n > 1):
                raise RuntimeError("Tensor must have a stride divisible by 2 for all but last "
                                   "dimension")
    return unary(VIEW_AS_COMPLEX, x)


def view_as_real(x):
    """Complex ``x`` as real pairs in a new last dimension of size 2: a view."""
    from .._tensor import unary
    return unary(VIEW_AS_REAL, x)


def unfold(x, dim, size, step):
    """``x.unfold(dim, size, step)`` of a tensor of at least one dimension: a view."""
    from .._tensor import unary
    return unary(UNFOLD, x, {"dim": dim, "size": size, "step": step})


# -- unfold ------------------------------------------------------------------------------------

def _windows(xp, length, size, step, device):
    """The positions along the unfolded axis, window by window: shape (n * size,)."""
    n = (length - size) // step + 1
    w = xp.reshape(xp.arange(n, dtype=xp.int64, device=device) * step, (n, 1))
    i = xp.reshape(xp.arange(size, dtype=xp.int64, device=device), (1, size))
    return n, xp.reshape(w + i, (n * size,))


def _unfold_forward(xp, x, *, dim, size, step):
    shape = tuple(x.shape)
    n, index = _windows(xp, shape[dim], size, step, x.device)
    taken = xp.take(x, index, axis=dim)
    windows = xp.reshape(taken, shape[:dim] + (n, size) + shape[dim + 1:])
    return xp.moveaxis(windows, dim + 1, -1)


def _unfold_vjp(xp, g, out, x, *, dim, size, step):
    """The windows' gradients added back into their positions (overlapping windows add)."""
    shape = tuple(x.shape)
    n = (shape[dim] - size) // step + 1
    rows = xp.moveaxis(g, -1, dim + 1)
    rows = xp.reshape(rows, shape[:dim] + (n * size,) + shape[dim + 1:])
    if is_backend_namespace(xp):
        _, index = _windows(xp, shape[dim], size, step, g.device)
        from .indexing import scatter_add_into_zeros
        key = (slice(None),) * dim + (index,)
        return scatter_add_into_zeros(xp, shape, key, rows)
    # recorded (create_graph): the same sum as a product with the 0/1 window matrix
    m = xp.reshape(xp.arange(n * size, dtype=xp.int64, device=g.device), (n * size, 1))
    pos = xp.reshape(xp.arange(shape[dim], dtype=xp.int64, device=g.device), (1, shape[dim]))
    window_pos = (m // size) * step + m % size
    onehot = xp.astype(window_pos == pos, g.dtype)  # (n * size, length)
    moved = xp.moveaxis(rows, dim, -1)
    summed = xp.matmul(moved, onehot)
    return xp.moveaxis(summed, -1, dim)


UNFOLD = defop("unfold_view", _unfold_forward, (_unfold_vjp,), saves=(), view=True, jvp=LINEAR,
               grad_name="UnfoldBackward0")


def _put_unfold(xp, base, value, *, dim, size, step):
    # (overlapping windows: only uniform writes, zero_/fill_, get here; each position
    # takes its first window's value)
    shape = tuple(base.shape)
    n, index = _windows(xp, shape[dim], size, step, base.device)
    rows = xp.reshape(xp.moveaxis(value, -1, dim + 1), shape[:dim] + (n * size,) + shape[dim + 1:])
    covered = n * size if step == size else None
    if covered is not None and covered == shape[dim]:
        return xp.astype(rows, base.dtype)
    pos = xp.reshape(xp.arange(shape[dim], dtype=xp.int64, device=base.device), (shape[dim], 1))
    hit = pos == xp.reshape(index, (1, n * size))          # (length, n * size), one hit at most
    which = xp.argmax(xp.astype(hit, xp.int8), axis=1)      # the window element of each position
    placed = xp.take(rows, which, axis=dim)
    written = xp.reshape(xp.any(hit, axis=1), (shape[dim],) + (1,) * (len(shape) - dim - 1))
    return xp.where(written, xp.astype(placed, base.dtype), base)


def _unfold_strides(shape, strides, params):
    dim, size, step = params["dim"], params["size"], params["step"]
    n = (shape[dim] - size) // step + 1
    out_shape = tuple(shape[:dim]) + (n,) + tuple(shape[dim + 1:]) + (size,)
    out_strides = tuple(strides[:dim]) + (strides[dim] * step,) + tuple(strides[dim + 1:]) + \
        (strides[dim],)
    return out_shape, out_strides


def _register():
    from .._views import register_view
    register_view(VIEW_AS_REAL, put=_put_as_real, strides=_as_real_strides)
    register_view(VIEW_AS_COMPLEX, put=_put_as_complex, strides=_as_complex_strides)
    register_view(UNFOLD, put=_put_unfold, strides=_unfold_strides)
