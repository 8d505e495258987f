"""Views and in-place writes: one root array, many views, re-derived after every write.

A *view* tensor (the result of an op registered with ``view=True``: basic
indexing, reshape where PyTorch views, permute/transpose, expand_dims/squeeze,
broadcast_to, detach, ...) records its *root* (``_base``: the tensor whose data
it was taken from, never itself a view) and the *chain* of view ops that made
it from the root (``_chain``: ``((op, params), ...)``). The root keeps a weak
registry of its live views (``_views``: weak references, pruned as they die).

A write never relies on the backend aliasing memory (array-api-strict and Dask
arrays need not): a write into a view is a write into its root, "the root with
the view's region replaced by the new value" (:data:`COPY_SLICES`, PyTorch's
``CopySlices``); then every live view of the root is *re-derived*: its data by
running the chain on the root's new data (a cheap view on NumPy and CuPy), and,
when the write was recorded, its ``grad_fn`` by recording the chain on the
root's new graph position.

The root's new data is written into its own buffer (O(slice)) when the backend
can (NumPy, CuPy: the buffer owns its memory) and, for a write autograd records,
when nothing but the root and its live views refers to that buffer (reference
counts: no graph node saved it); otherwise the root gets a new buffer and the
nodes that saved the old one keep it intact (copy-on-write), so backward
computes the gradient of the program as written. An unrecorded write (no_grad,
or nothing requires grad) bumps the version counter the root shares with its
views, so a node that saved the old value raises at backward, as in PyTorch.
"""

from __future__ import annotations

import sys
import weakref

from .autograd.grad_mode import STATE as _GRAD
from .ops._registry import call, defop, is_backend_namespace, LINEAR

__all__ = ["register_view", "attach", "setitem", "inplace_view", "rederive", "is_contiguous",
           "view", "contiguous", "fresh", "COPY_SLICES", "DETACH"]

_getrefcount = sys.getrefcount
_ref = weakref.ref

# op name -> put(xp, base, value, **params): ``base`` with the op's view of it replaced
# by ``value`` (raw arrays, a new array; ``base`` is not written)
_PUT: dict = {}
# op name -> strides(shape, strides, **params) -> (shape, strides), or None where
# PyTorch would copy (reshape of a layout it cannot view)
_STRIDES: dict = {}


def register_view(op, *, put=None, strides=None):
    """Teach the view mechanism about ``op`` (registered with ``defop(..., view=True)``).

    ``put(xp, base, value, **params)`` returns ``base`` with ``op(base)`` replaced by
    ``value`` (raw arrays). Without it, the op's own VJP gives it: the region is
    where ``vjp(ones)`` is nonzero and the values are ``vjp(value)`` there, which
    holds for every view that selects each element at most once (slices,
    diagonals). ``strides(shape, strides, params)`` gives the output's shape and
    PyTorch strides (in elements) for ``is_contiguous`` and ``view``; without it
    the output counts as contiguous.
    """
    if put is not None:
        _PUT[op.name] = put
    if strides is not None:
        _STRIDES[op.name] = strides
    return op


# -- view records ----------------------------------------------------------------

_PRUNE_AT = 8


def attach(t, a, op, params):
    """Make ``t`` (the output of view op ``op`` on ``a``) a view of ``a``'s root."""
    base = a._base
    if base is None:
        root = a
        chain = ((op, params),)
    else:
        root = base
        chain = a._chain + ((op, params),)
    if root._requires_grad and not _GRAD.enabled and op is not DETACH and not _has_detach(chain):
        # PyTorch's view made in no_grad mode of a base that requires grad: it shares
        # the data, never the graph (re-derived as data only; written only in no_grad)
        chain = chain + ((NO_GRAD_VIEW, None),)
    if op.name == "reshape" and base is not None and _layout(root, chain) is None:
        # PyTorch's reshape copies where it cannot view: a new root, sharing nothing
        t._data = t._device.xp.asarray(t._data, copy=True)
        return
    t._base = root
    t._chain = chain
    t._vc = root._vc
    if base is not None and a._chain[-1][0] is DETACH:
        t._gbase = a  # a view of a detach() result: the graph it joins is that tensor's
    elif base is not None and op is not DETACH:
        t._gbase = a._gbase
    if _DERIVING[0]:
        return  # (a re-derivation's intermediate: not registered)
    views = root._views
    if views is None:
        views = root._views = _Registry()
        views.live = 1
        views.append(_ref(t))
    else:
        views.append(_ref(t))
        if len(views) >= _PRUNE_AT and len(views) >= 2 * views.live:
            _prune(root)


class _Registry(list):
    """A root's weak references to its views; ``live``: how many lived at the last
    pruning (the list is pruned when it has doubled since: O(1) per view)."""

    __slots__ = ("live",)


def _prune(root):
    views = _Registry(r for r in root._views if r() is not None)
    views.live = len(views)
    root._views = views or None


def _live(root):
    """The live views of ``root`` (and prunes the registry)."""
    views = root._views
    if views is None:
        return ()
    live = []
    refs = _Registry()
    for r in views:
        v = r()
        if v is not None and v._base is root:
            live.append(v)
            refs.append(r)
    refs.live = len(refs)
    root._views = refs or None
    return live


def fresh(t):
    """``t``, the result of a function that PyTorch documents as returning a new tensor,
    made a root when xgrad composed it as a view of an intermediate that nothing else
    can reach (``moveaxis`` back after a scan along the last axis): a new result is
    contiguous in PyTorch, so ``reshape``/``view``/``is_contiguous`` then decide as
    PyTorch's. No copy: its data stays as it is (writes never rely on aliasing)."""
    root = t._base
    if root is None or _getrefcount(root) > 3:  # t._base, ``root``, the argument
        return t
    if len(_live(root)) != 1:
        return t
    root._views = None
    t._base = t._chain = t._gbase = None
    return t


def _has_detach(chain):
    """Whether the chain holds a non-differentiable step (``detach``, or a view made
    in no_grad mode): its views share the root's data, not its graph."""
    for op, _ in chain:
        if op is DETACH or op is NO_GRAD_VIEW:
            return True
    return False


def _graph_base(t):
    """``(g, sub)``: the tensor whose graph a recorded write into view ``t`` joins,
    and the chain from ``g`` to ``t``. Below a ``detach()`` that is the detached
    tensor (PyTorch: a view of a non-differentiable view is a differentiable view of
    it), else the root; ``g`` is None where the detached tensor is no longer alive."""
    chain = t._chain
    k = -1
    for i, (op, _) in enumerate(chain):
        if op is DETACH:
            k = i
    if k < 0:
        return t._base, chain
    if k == len(chain) - 1:
        return t, ()
    g = t._gbase
    if g is None or g._base is not t._base or len(g._chain) != k + 1:
        return None, chain[k + 1:]
    return g, chain[k + 1:]


def _rederive_graph_under(g, root):
    """After a recorded write joined detached tensor ``g``'s graph: the live views of
    ``root`` taken from ``g`` get their ``grad_fn`` from ``g``'s new graph position
    (their data already follows the root)."""
    for v in _live(root):
        if v is g or v._gbase is not g:
            continue
        gg, sub = _graph_base(v)
        if gg is not g:
            continue
        _rederive_recorded(v, g, sub)


def run_chain(xp, data, chain):
    """The chain's view of ``data``: raw arrays (forward functions), or tensors
    (recorded ops) when ``xp`` is xgrad's namespace."""
    for op, params in chain:
        data = call(xp, op, data, **params) if params else call(xp, op, data)
    return data


def run_chain_put(base, chain, value):
    """``base`` with the chain's view of it replaced by ``value`` (tensors, recorded:
    forward-mode tangents of a write into a view)."""
    if not chain:
        return value
    from ._tensor import apply
    return apply(COPY_SLICES, (base, value), {"chain": chain, "shape": tuple(value._data.shape)})


def _derive_data(xp, data, chain):
    for op, params in chain:
        data = op.forward(xp, data, **params) if params else op.forward(xp, data)
    return data


_DERIVING = [False]


def _rederive_recorded(v, base, chain):
    """View ``v`` re-taken from ``base`` through ``chain`` as recorded ops: its data and
    its position in the graph (grad_fn, output number, requires_grad)."""
    from ._tensor import unary
    _DERIVING[0] = True
    try:
        t = base
        for op, params in chain:
            t = unary(op, t, params)
    finally:
        _DERIVING[0] = False
    v._data = t._data
    v._grad_fn = t._grad_fn
    v._output_nr = t._output_nr
    v._requires_grad = t._requires_grad


def rederive(root, recorded):
    """Bring every live view of ``root`` up to date with its data, and (``recorded``:
    the root's graph position moved) with its ``grad_fn``."""
    views = _live(root)
    if not views:
        return
    dev = root._device
    xp = dev.xp
    for v in views:
        chain = v._chain
        if recorded and not _has_detach(chain) and root._requires_grad and _GRAD.enabled:
            _rederive_recorded(v, root, chain)
        else:
            v._data = _derive_data(xp, root._data, chain)
        v._vc = root._vc


# -- putting a value back through a chain ---------------------------------------------

def _put_getitem(xp, base, value, *, key):
    if 0 in tuple(value.shape):
        return base  # nothing written (Dask's __setitem__ refuses empty writes)
    out = xp.asarray(base, copy=True)
    if isinstance(key, tuple) and any(k is None for k in key):  # new axes: not in the base
        key = tuple(k for k in key if k is not None)
        value = xp.reshape(value, tuple(out[key].shape))
    out[key] = value
    return out


def _put_reshape(xp, base, value, **params):
    return xp.reshape(value, tuple(base.shape))


def _put_permute(xp, base, value, *, axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return xp.permute_dims(value, tuple(inverse))


def _put_transpose(xp, base, value):
    return xp.matrix_transpose(value)


def _put_broadcast(xp, base, value, *, shape):
    # only reached where the expansion added no element (writes into a real
    # broadcast raise first, as in PyTorch)
    return xp.reshape(value, tuple(base.shape))


def _put_identity(xp, base, value, **params):
    return value


def _put_real(xp, base, value):
    return xp.astype(value, base.dtype) + 1j * xp.imag(base)


def _put_imag(xp, base, value):
    return xp.real(base) + 1j * xp.astype(value, base.dtype)


def _put_generic(op, xp, base, value, params):
    """``base`` with ``op``'s view replaced by ``value``, from the op's VJP: the
    region is where the VJP of ones is nonzero (views select each element once)."""
    rule = op.vjps[0]
    out = op.forward(xp, base, **params)
    region = rule(xp, xp.ones_like(out), out, base, **params) != 0
    placed = rule(xp, value, out, base, **params)
    return xp.where(region, placed, base)


def put_chain(xp, base, chain, value):
    """``base`` (raw) with the chain's view of it replaced by ``value``: a new array."""
    bases = [base]
    for op, params in chain[:-1]:
        bases.append(op.forward(xp, bases[-1], **params) if params else op.forward(xp, bases[-1]))
    # below a broadcast, where the write lands matters (each element of the base appears
    # several times in the expansion): carry the written region along until then
    region = None
    if any(op.name == "broadcast_to" for op, _ in chain):
        region = xp.ones(tuple(value.shape), dtype=xp.bool)
    for i in range(len(chain) - 1, -1, -1):
        (op, params), b = chain[i], bases[i]
        if op.name == "broadcast_to":
            value = _put_into_broadcast(xp, b, value, region)
            region = xp.ones(tuple(b.shape), dtype=xp.bool) if any(
                o.name == "broadcast_to" for o, _ in chain[:i]) else None
            continue
        put = _PUT.get(op.name)
        if region is not None:
            falses = xp.zeros(tuple(b.shape), dtype=xp.bool)
            region = put(xp, falses, region, **params) if put is not None and params else \
                put(xp, falses, region) if put is not None else \
                _put_generic(op, xp, falses, region, params or {})
        if put is not None:
            value = put(xp, b, value, **params) if params else put(xp, b, value)
        else:
            value = _put_generic(op, xp, b, value, params or {})
    return value


def _put_into_broadcast(xp, base, value, region):
    """``base`` with the written ``region`` of its expansion ``value`` put back (the
    region holds each element of ``base`` at most once: overlapping writes raised)."""
    lead = value.ndim - base.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(base.shape)
                                      if s == 1 and value.shape[lead + i] != 1)
    shape = tuple(base.shape)
    if not axes:
        return xp.reshape(value, shape)
    if xp.isdtype(value.dtype, "real floating"):
        # the value at the element's hit (several hits only for a uniform fill: zero_,
        # fill_), exactly
        fill = xp.full_like(value, -float("inf"))
        placed = xp.reshape(xp.max(xp.where(region, value, fill), axis=axes), shape)
    else:
        placed = xp.reshape(xp.sum(xp.where(region, value, xp.zeros_like(value)), axis=axes), shape)
    hit = xp.reshape(xp.any(region, axis=axes), shape)
    return xp.where(hit, xp.astype(placed, base.dtype), base)


def _aliased_target(data, chain, xp):
    """The chain's view of ``data`` when it is a view of ``data``'s memory (NumPy,
    CuPy), else None."""
    return _aliased(data, _derive_data(xp, data, chain))


def _aliased(data, target):
    if target is data or getattr(target, "base", None) is data:
        flags = getattr(target, "flags", None)
        if flags is None or flags.writeable:
            return target
    return None


def _write_in_place(data, chain, value, xp):
    """Write ``value`` into the chain's region of ``data`` itself where its memory can
    be reached (NumPy, CuPy); False where it cannot (nothing written)."""
    target = _aliased_target(data, chain, xp)
    if target is not None:
        target[...] = value
        return True
    op, params = chain[-1]
    if op.name == "getitem":  # an element (NumPy gives a scalar, no view): through its key
        prefix = _aliased(data, _derive_data(xp, data, chain[:-1]))
        if prefix is not None:
            key = params["key"]
            if isinstance(key, tuple) and any(k is None for k in key):
                key = tuple(k for k in key if k is not None)
                value = xp.reshape(value, tuple(prefix[key].shape))
            prefix[key] = value
            return True
    return False


def _copy_slices_forward(xp, base, value, *, chain, shape):
    return put_chain(xp, base, chain, value)


def _copy_slices_vjps(xp, g, out, base, value, *, chain, shape):
    # (the zeros have the view's dtype: view_as_real/view_as_complex change it)
    if not is_backend_namespace(xp):  # create_graph: both recorded, so differentiable again
        g_value = run_chain(xp, g, chain)
        zeros = xp.zeros(shape, dtype=g_value.dtype, device=g.device)
        return call(xp, COPY_SLICES, g, zeros, chain=chain, shape=shape), g_value
    g_value = _derive_data(xp, g, chain)
    if _engine_owned(g, xp):
        g_value = xp.asarray(g_value, copy=True)  # (before its region is zeroed)
        if _write_in_place(g, chain, xp.zeros(shape, dtype=g_value.dtype), xp):
            return g, g_value
    return put_chain(xp, g, chain, xp.zeros(shape, dtype=g_value.dtype)), g_value


# The references to an incoming gradient array while a node's ``vjp_all`` rule runs
# (``Node.apply`` and the batched engine's ``_batched_node_apply`` alike): the
# engine's buffer list, ``apply``'s variable ``g``, the call ``vjp_all(xp, g, out,
# *inputs, **params)`` (CPython keeps its own references to the arguments of a call
# with ``*``/``**``), the rule's parameter, :func:`_engine_owned`'s parameter and
# getrefcount's argument. Measured once on a replica of that call, so the count
# follows the interpreter's calling convention; one more means someone else holds it.
def _replica_count():
    class _Probe:
        pass

    def owned(g, xp):
        return _getrefcount(g)

    def rule(xp, g, out, *inputs, key=None):
        return owned(g, xp)

    def apply(grads, inputs, params):
        g = grads[0]
        return [rule(None, g, None, *inputs, **params) for _ in (0,)][0]
    return apply([_Probe()], (None, None), {"key": None})


_ENGINE_REFS = _replica_count()


def _engine_owned(g, xp):
    """Whether the incoming gradient array belongs to the engine alone (a rule may then
    write it in place): its backend owns the memory and nothing else refers to it
    (the engine's own in-place gradient sums rest on the same count)."""
    backend = getattr(xp, "__xgrad_backend__", None)
    return backend is not None and backend.owns(g) and _getrefcount(g) <= _ENGINE_REFS


COPY_SLICES = defop("copy_slices", _copy_slices_forward, _copy_slices_vjps, saves=(),
                    jvp=LINEAR, grad_name="CopySlices")


def _fill_forward(xp, x, *, value):
    return xp.full(tuple(x.shape), value, dtype=x.dtype, device=x.device)


def _fill_zero_jvp(xp, tangents, out, x, *, value):
    return xp.zeros_like(out)


# ``x.fill_(v)``/``x.zero_()`` recorded: PyTorch's FillBackward, whose gradient for the old
# values is a zero cut off from the graph (so no 0 * inf reaches a second-order gradient)
FILL = defop("fill", _fill_forward, (lambda xp, g, out, x, *, value: xp.zeros_like(g),),
             saves=(), jvp=_fill_zero_jvp, grad_name="FillBackward0")


def _detach_forward(xp, x):
    return x


DETACH = defop("detach_view", _detach_forward, None, saves=(), view=True, grad_name="DetachBackward0")
# marks the chain of a view taken in no_grad mode from a base that requires grad
NO_GRAD_VIEW = defop("no_grad_view", _detach_forward, None, saves=(), view=True)


# -- writes ---------------------------------------------------------------------------

LEAF_VIEW_MESSAGE = ("a view of a leaf Variable that requires grad is being used in an in-place "
                     "operation.")
LEAF_MESSAGE = ("a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap it in `with xgrad.no_grad():` if you mean to update it, or use an "
                "out-of-place operation.")
NO_GRAD_VIEW_MESSAGE = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace "
    "to be tracked).")
OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers "
                   "to a single memory location. Please clone() the tensor before performing "
                   "the operation.")


def _exclusive(root):
    """Whether the root's buffer may be written in place by a recorded write: the
    backend owns it, and only the root and its live views refer to it (no graph
    node saved it or a view of it, no one else holds it)."""
    data = root._data
    if not root._device.backend.owns(data):
        return False
    expected = 3  # root._data, ``data``, getrefcount's argument
    views = root._views
    if views is not None:
        for r in views:
            v = r()
            if v is None:
                continue
            d = v._data
            if d is data:
                expected += 1
            elif getattr(d, "base", None) is data:
                expected += 1
                if _getrefcount(d) > 3:  # v._data, ``d``, the argument
                    return False
            d = None
    return _getrefcount(data) == expected


_OVERLAPPING = ("broadcast_to", "unfold_view")  # the view ops whose elements may share memory


def _overlaps(t):
    """Whether several elements of view ``t`` share one element of its root (an
    expansion, overlapping ``unfold`` windows; an empty view overlaps nothing): from
    PyTorch's strides, the sizes sorted by stride must each step past the extent of
    the ones before."""
    if not any(op.name in _OVERLAPPING for op, _ in t._chain):
        return False
    layout = _layout(t._base, t._chain)
    if layout is None or not all(layout[0]):
        return False
    extent = 0
    for stride, size in sorted((st, sz) for sz, st in zip(*layout) if sz > 1):
        if stride <= extent:
            return True
        extent += (size - 1) * stride
    return False


def _check_overlap(t):
    """PyTorch refuses writes into a view where several elements share memory."""
    if _overlaps(t):
        raise RuntimeError(OVERLAP_MESSAGE)


def _last_wins(xp, flat, value, dev):
    """``value`` with each entry's value replaced by that of the last entry written to
    the same position, its gradient unchanged: for Dask, whose repeated-index writes
    give the mean of the values (it cannot sort lazily). O(n^2) in the entries."""
    from ._tensor import _wrap
    from .ops.indexing import take
    n = flat.shape[0]
    order = xp.arange(n, dtype=xp.int64, device=flat.device)
    same = xp.reshape(flat, (n, 1)) == xp.reshape(flat, (1, n))
    last = xp.max(xp.where(same, xp.reshape(order, (1, n)), xp.zeros_like(same, dtype=xp.int64)),
                  axis=1)
    winner = take(value, _wrap(last, dev), axis=0)
    return value + (winner - value).detach()


def _write_positions(t, key, value, accumulate=False):
    """``t[key] = value`` (an advanced key; ``t`` an expanded view whose elements share
    memory) as PyTorch's index_put on expanded memory: each written element of ``t``
    is a position in the tensor ``p`` the expansion was taken from, and the values are
    written there in the key's order, the last write of a position winning. Each value
    gets the gradient of its position (PyTorch's CopySlices), overwritten or not."""
    from ._tensor import _wrap, unary
    from .ops.advanced_index import INDEX, check_value_dtype, plan_for
    from .ops.creation_ops import astype
    from .ops.manipulation import broadcast_to, reshape
    T = _T
    chain = t._chain
    first = next(i for i, (op, _) in enumerate(chain) if op.name == "broadcast_to")
    if any(op is DETACH or op is NO_GRAD_VIEW for op, _ in chain[first:]):
        raise RuntimeError(OVERLAP_MESSAGE)  # (an expansion detached: not reproduced)
    plan = plan_for(t, key)
    check_value_dtype(plan, t.dtype, value)
    dev = t._device
    xp = dev.xp
    p, sub = _graph_base(t)  # (below a detach(): from the detached tensor, as its graph)
    if p is None:
        p, sub = t._base, chain
    for op, params in sub[:len(sub) - len(chain) + first]:  # the tensor expanded: a view
        p = unary(op, p, params)
    shape = tuple(p._data.shape)
    n = 1
    for s in shape:
        n *= s
    positions = xp.reshape(xp.arange(n, dtype=xp.int64, device=p._data.device), shape)
    written = INDEX.forward(xp, _derive_data(xp, positions, chain[first:]), key=plan)
    count = 1
    for s in written.shape:
        count *= s
    if count == 0:
        return t
    flat = xp.reshape(written, (-1,))
    if not shape:  # a 0-d p: written through p[None]
        p = T.indexing.getitem(p, (None,))
        shape = (1,)
    index, stride = [], 1
    for size in reversed(shape):
        index.append(_wrap((flat // stride) % size, dev))
        stride *= size
    index.reverse()
    if isinstance(value, T.Tensor):
        if value.dtype != t.dtype:
            value = astype(value, t.dtype)
        value = reshape(broadcast_to(value, tuple(written.shape)), (-1,))
        if dev.backend.fancy_indexing == "hooks" and count > 1 and not accumulate:
            value = _last_wins(xp, flat, value, dev)
    if accumulate:  # (index_put_(..., accumulate=True): every value adds into its position)
        p.index_put_(tuple(index), value, accumulate=True)
    else:
        setitem(p, tuple(index), value)
    return t


def checked_result(t, result):
    """``result``, checked to fit ``t``: its shape and dtype, else PyTorch's errors for
    an in-place result that does not (the caller casts where the cast is safe)."""
    if tuple(result._data.shape) != tuple(t._data.shape):
        raise RuntimeError(f"output with shape {t.shape} doesn't match the broadcast "
                           f"shape {result.shape}")
    if result._data.dtype != t._data.dtype:
        raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output "
                           f"type {t.dtype}")
    return result


def adopt(root, result):
    """The root takes ``result``'s data and graph position; its views follow."""
    root._data = result._data
    root._requires_grad = result._requires_grad
    root._grad_fn = result._grad_fn
    root._output_nr = result._output_nr
    root._vc = result._vc
    root._cow = False
    rederive(root, True)


def inplace_view(t, others, compute, write):
    """An in-place update of view ``t`` (see ``_tensor._inplace``): a write into its root."""
    root = t._base
    chain = t._chain
    if not getattr(write, "uniform", False):  # (one value everywhere: overlap is harmless)
        _check_overlap(t)
    detached = _has_detach(chain)
    recorded = _GRAD.enabled and (t._requires_grad or (root._requires_grad and not detached) or any(
        getattr(o, "_requires_grad", False) for o in others))
    xp = t._device.xp
    if _GRAD.enabled and root._requires_grad and any(op is NO_GRAD_VIEW for op, _ in chain):
        raise RuntimeError(NO_GRAD_VIEW_MESSAGE)
    if recorded and detached:
        # a write through detach(): the root's data changes unrecorded; autograd sees the
        # write on the detached tensor (PyTorch's non-differentiable view, whose own
        # views are differentiable views of it) and on its views
        g, sub = _graph_base(t)
        if g is not None and g is not t and g._grad_fn is None and g._requires_grad:
            raise RuntimeError(LEAF_VIEW_MESSAGE)
        result = checked_result(t, compute())
        if g is not None and g is not t:
            shape = tuple(result._data.shape)
            from ._tensor import apply
            graph = apply(COPY_SLICES, (g, result), {"chain": sub, "shape": shape})
        else:
            g, graph = t, result
        _write_unrecorded(root, chain, result._data, None)
        g._requires_grad = graph._requires_grad
        g._grad_fn = graph._grad_fn
        g._output_nr = graph._output_nr
        graph = result = None
        _rederive_graph_under(g, root)
        return t
    if recorded:
        if root._grad_fn is None and root._requires_grad:
            raise RuntimeError(LEAF_VIEW_MESSAGE)
        new = checked_result(t, compute())
        params = {"chain": chain, "shape": tuple(new._data.shape)}
        result = _record_copy_slices(root, new, params, xp)
        adopt(root, result)
        return t
    owned = root._device.backend.owns(root._data) and not root._cow and not saved_elsewhere(root)
    if owned:
        target = _aliased_target(root._data, chain, xp)
        if target is not None:
            write(target)
            root._vc[0] += 1
            rederive(root, False)
            return t
    new = checked_result(t, compute())._data
    if owned and _write_in_place(root._data, chain, new, xp):
        root._vc[0] += 1
        rederive(root, False)
        return t
    _write_unrecorded(root, chain, new, None)
    return t


def _write_unrecorded(root, chain, value, write):
    """The root's new data, a new array with the chain's region replaced by ``value``."""
    xp = root._device.xp
    cow = saved_elsewhere(root)
    root._data = put_chain(xp, root._data, chain, value)
    root._cow = False
    new_version(root, cow)
    rederive(root, False)


def saved_elsewhere(root):
    """Whether a live graph node saved the root's value or a view of it: the nodes
    that save a tensor hold its version counter (``Node.versions``, released with
    the saved values), which the root shares only with its live views. Such a root
    is written copy-on-write: the nodes keep the old buffer and old counter, so
    backward computes the gradient of the program as written."""
    vc = root._vc
    expected = 3  # root._vc, ``vc``, getrefcount's argument
    views = root._views
    if views is not None:
        for r in views:
            v = r()
            if v is not None and v._vc is vc:
                expected += 1
        v = None
    return _getrefcount(vc) > expected


def new_version(root, cow):
    """Count a write into ``root``: a new counter when the old value lives on in the
    nodes that saved it (copy-on-write), else the shared counter moves on."""
    if cow:
        root._vc = [root._vc[0] + 1]
    else:
        root._vc[0] += 1


def write_root_unrecorded(t, compute, write):
    """An unrecorded in-place update of root ``t`` (no_grad, or nothing requires grad):
    into its own buffer where the backend owns it and no node saved it, else into a
    new buffer; its live views follow."""
    backend = t._device.backend
    cow = saved_elsewhere(t)
    if not cow and not t._cow:
        writable = backend.writable(t._data)
        if writable and backend.owns(t._data):
            t._data = write(t._data)
            t._vc[0] += 1
            if t._views is not None:
                rederive(t, False)
            return t
        if writable is False:
            raise RuntimeError("in-place write to a read-only tensor (a broadcast view?); "
                               "clone() it first")
    # a backend without writes, an array that may alias another (a NumPy view made by
    # a non-view op, a gradient buffer), an immutable 0-d scalar, a saved value: a new buffer
    result = compute()
    if tuple(result._data.shape) != tuple(t._data.shape):
        raise RuntimeError(f"output with shape {t.shape} doesn't match the broadcast "
                           f"shape {result.shape}")
    data = result._data
    result = None
    t._data = data if data.dtype == t._data.dtype else t._device.xp.astype(data, t._data.dtype)
    t._cow = False
    new_version(t, cow)
    if t._views is not None:
        rederive(t, False)
    return t


def keep_grad(t, result):
    """The recorded in-place result for ``t``: where it no longer depends on anything
    that requires grad (``t.zero_()``, ``t.copy_(constant)``) while ``t`` did, PyTorch's
    ``t`` still requires grad (its old graph gets a zero gradient): so here."""
    if result._requires_grad or not t._requires_grad:
        return result
    from ._tensor import apply
    return apply(COPY_SLICES, (t, result), {"chain": (), "shape": tuple(result._data.shape)})


def _record_copy_slices(root, new, params, xp):
    from ._tensor import apply
    from .autograd.graph import record
    if _exclusive(root):
        data = root._data
        if _write_in_place(data, params["chain"], new._data, xp):
            return record(COPY_SLICES, (root, new), (data, new._data), data, params, root._device)
    return apply(COPY_SLICES, (root, new), params)


def setitem(t, key, value):
    """``t[key] = value``: written in place where it can be (O(slice) on NumPy),
    recorded as PyTorch's CopySlices when autograd is involved; any key
    ``t[key]`` accepts (advanced keys: :mod:`xgrad.ops.advanced_index`)."""
    T = _T
    indexing = T.indexing
    if isinstance(value, T.Tensor):
        if value._device is not t._device:
            raise T.device_mismatch(t._device, value._device)
        data = value._data
    else:
        data = value
    dev = t._device
    if type(key) is int and t._data.ndim:  # (the commonest key, checked cheaply)
        raw, advanced = (key if t._data.ndim == 1 else (key, Ellipsis)), False
    else:
        raw, advanced, _ = indexing.normalize_key(key, dev, t._data.ndim, shape=t._data.shape)
    inplace, write_raw = T.inplace, T.write_raw

    def write(buf):
        if advanced:
            return write_raw(dev, buf, key, value)
        buf[raw] = data
        return buf
    if T.FW.depth and (t._fw or getattr(value, "_fw", None)):  # tangents follow t itself
        return inplace(t, (value,), lambda: indexing.setitem_result(t, key, value), write)
    if t._base is not None and not advanced and not _has_detach(t._chain):
        # a write into the view t[key] of t's root: only that region is computed
        w = indexing.getitem(t, key)

        def write_all(buf):
            buf[...] = data
            return buf
        return inplace(w, (value,), lambda: _value_as(w, value), write_all)
    if t._base is not None:
        if any(op.name == "broadcast_to" for op, _ in t._chain) and _overlaps(t):
            # several elements of t share one element of its root: PyTorch writes them
            # one after the other (the last write wins), through the positions written
            return _write_positions(t, key, value)
        return inplace(t, (value,), lambda: indexing.setitem_result(t, key, value), write)
    recorded = _GRAD.enabled and (t._requires_grad or getattr(value, "_requires_grad", False))
    if recorded:
        if t._grad_fn is None and t._requires_grad:
            raise RuntimeError(LEAF_MESSAGE)
        if not advanced and _exclusive(t):
            buf = t._data
            buf[raw] = data
            result = T.record(indexing.SETITEM, (t, value), (buf, data), buf, {"key": raw}, dev)
        else:
            result = indexing.setitem_result(t, key, value)
        adopt(t, result)
        return t
    cow = saved_elsewhere(t)
    if dev.backend.owns(t._data) and not t._cow and not cow:
        t._data = write(t._data)
    elif advanced:
        t._data = write_raw(dev, dev.xp.asarray(t._data, copy=True), key, value)
    else:
        t._data = indexing.SETITEM.forward(dev.xp, t._data, data, key=raw)
    t._cow = False
    new_version(t, cow)
    if t._views is not None:
        rederive(t, False)
    return t


def inplace_as_setitem(name, t, args, kwargs):
    """``t.index_fill_``/``masked_fill_``/``index_put_`` into an expanded view whose
    elements share memory: PyTorch writes them (with a deprecation warning) as the
    setitem they amount to; so here (:func:`_write_positions`). None where ``t`` does
    not overlap or the call is not such a write (the caller goes on as usual)."""
    if t._base is None or not _overlaps(t):
        return None
    try:
        if name == "index_fill":
            dim, index, value = args if len(args) == 3 else (*args, kwargs.get("value"))
            ndim = t._data.ndim
            dim = dim % ndim if ndim else 0
            key = (slice(None),) * dim + (index,)
        elif name == "masked_fill":
            mask, value = args if len(args) == 2 else (args[0], kwargs.get("value"))
            if tuple(mask.shape) != tuple(t._data.shape):
                from .ops.manipulation import broadcast_to
                mask = broadcast_to(mask, tuple(t._data.shape))
            key = mask
        elif name == "index_put":
            indices, value = args[0], args[1]
            if (args[2] if len(args) > 2 else kwargs.get("accumulate", False)):
                if not any(op.name == "broadcast_to" for op, _ in t._chain) or \
                        not isinstance(value, _T.Tensor):
                    return None
                return _write_positions(t, tuple(indices), value, accumulate=True)
            key = tuple(indices)
        else:
            return None
    except (TypeError, ValueError):
        return None
    if not any(op.name == "broadcast_to" for op, _ in t._chain):
        return None  # (overlapping unfold windows: PyTorch's order-dependent result; refused)
    setitem(t, key, value)
    return t


def uniform(write):
    """Mark an in-place ``write`` as one value written everywhere (``zero_``, ``fill_``):
    PyTorch allows those into expanded views, whose elements share memory."""
    write.uniform = True
    return write


def _value_as(w, value):
    """``value`` as the new value of ``w``: its dtype, broadcast to its shape."""
    from ._tensor import Tensor, _wrap
    from .ops.creation_ops import astype
    from .ops.manipulation import broadcast_to
    dev = w._device
    if not isinstance(value, Tensor):
        xp = dev.xp
        data = xp.asarray(value, dtype=w._data.dtype, device=w._data.device) \
            if not hasattr(value, "dtype") else xp.astype(value, w._data.dtype)
        return _wrap(xp.asarray(xp.broadcast_to(data, tuple(w._data.shape)), copy=True), dev)
    if value._data.dtype != w._data.dtype:
        value = astype(value, w.dtype)
    if tuple(value._data.shape) != tuple(w._data.shape):
        value = broadcast_to(value, tuple(w._data.shape))
    return value


# -- strides (PyTorch's layout, for is_contiguous and view) -----------------------------------

def _contiguous_strides(shape):
    strides = []
    n = 1
    for s in reversed(shape):
        strides.append(n)
        n *= max(s, 1)
    return tuple(reversed(strides))


def _layout(root, chain):
    """The (shape, strides) PyTorch would give the chain's view of a contiguous root,
    or None where a reshape in the chain could not view (PyTorch copies there)."""
    shape = tuple(root._data.shape)
    strides = _contiguous_strides(shape)
    for op, params in chain:
        rule = _STRIDES.get(op.name)
        if rule is None:
            return None if op.name == "reshape" else (shape, _contiguous_strides(shape))
        out = rule(shape, strides, params or {})
        if out is None:
            return None
        shape, strides = out
    return shape, strides


def _is_contiguous_layout(shape, strides):
    if any(s == 0 for s in shape):
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


def _getitem_strides(shape, strides, p):
    key = p["key"]
    parts = key if isinstance(key, tuple) else (key,)
    consumed = sum(1 for k in parts if k is not None and k is not Ellipsis)
    out_shape, out_strides = [], []
    d = 0
    for k in parts:
        if k is Ellipsis:
            for _ in range(len(shape) - consumed):
                out_shape.append(shape[d])
                out_strides.append(strides[d])
                d += 1
        elif k is None:
            out_shape.append(1)
            out_strides.append(out_strides[-1] if out_strides else 1)
        elif isinstance(k, slice):
            start, stop, step = k.indices(shape[d])
            out_shape.append(len(range(start, stop, step)))
            out_strides.append(strides[d] * step)
            d += 1
        elif isinstance(k, (int, bool)) or hasattr(k, "__index__"):
            d += 1
        else:
            return shape, _contiguous_strides(shape)  # (advanced keys are not views)
    while d < len(shape):
        out_shape.append(shape[d])
        out_strides.append(strides[d])
        d += 1
    return tuple(out_shape), tuple(out_strides)


def _resolve_shape(shape, numel):
    shape = tuple(shape)
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        shape = tuple(numel // known if s == -1 and known else (0 if s == -1 else s) for s in shape)
    return shape


def compute_stride(old_shape, old_strides, new_shape):
    """PyTorch's ``computeStride``: the strides of ``view(new_shape)``, or None."""
    numel = 1
    for s in old_shape:
        numel *= s
    if numel == 0:
        return _contiguous_strides(new_shape) if tuple(old_shape) != tuple(new_shape) else old_strides
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1] if old_strides else 1
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _reshape_rule(shape, strides, params):
    numel = 1
    for s in shape:
        numel *= s
    new_shape = _resolve_shape(params["shape"], numel)
    if not shape:
        return new_shape, _contiguous_strides(new_shape)
    new_strides = compute_stride(shape, strides, new_shape)
    return None if new_strides is None else (new_shape, new_strides)


def _permute_strides(shape, strides, p):
    axes = p["axes"]
    axes = tuple(a % len(shape) for a in axes)
    return tuple(shape[a] for a in axes), tuple(strides[a] for a in axes)


def _transpose_strides(shape, strides, p):
    return shape[:-2] + (shape[-1], shape[-2]), strides[:-2] + (strides[-1], strides[-2])


def _expand_dims_strides(shape, strides, p):
    axis = p["axis"]
    axes = axis if isinstance(axis, tuple) else (axis,)
    shape, strides = list(shape), list(strides)
    n = len(shape) + len(axes)
    for a in sorted(a % n for a in axes):
        stride = shape[a] * strides[a] if a < len(shape) else 1
        shape.insert(a, 1)
        strides.insert(a, stride)
    return tuple(shape), tuple(strides)


def _squeeze_strides(shape, strides, p):
    axis = p["axis"]
    axes = axis if isinstance(axis, tuple) else (axis,)
    drop = {a % len(shape) for a in axes} if shape else set()
    return (tuple(s for i, s in enumerate(shape) if i not in drop),
            tuple(s for i, s in enumerate(strides) if i not in drop))


def _broadcast_strides(shape, strides, params):
    target = tuple(params["shape"])
    lead = len(target) - len(shape)
    out = []
    for i, size in enumerate(target):
        if i < lead:
            out.append(0)
        else:
            s, st = shape[i - lead], strides[i - lead]
            out.append(0 if s == 1 and size != 1 else st)
    return target, tuple(out)


def _diagonal_strides(shape, strides, p):
    n = len(shape)
    offset, d1, d2 = p.get("offset", 0), p.get("dim1", 0) % n, p.get("dim2", 1) % n
    m, k = shape[d1], shape[d2]
    length = max(0, min(m + min(offset, 0), k - max(offset, 0)))
    rest = [i for i in range(n) if i not in (d1, d2)]
    return (tuple(shape[i] for i in rest) + (length,),
            tuple(strides[i] for i in rest) + (strides[d1] + strides[d2],))


def _complex_part_strides(shape, strides, p):
    return shape, tuple(2 * s for s in strides)


def _identity_strides(shape, strides, p):
    return shape, strides


class _Late:
    """Names from modules that import this one (bound by :func:`_install`)."""


_T = _Late()


def _install():
    from . import _tensor
    from .autograd.graph import record
    from .ops import indexing, linalg, manipulation as M
    from .ops.advanced_index import write_raw
    _T.Tensor, _T.device_mismatch, _T.inplace, _T.FW = (
        _tensor.Tensor, _tensor._device_mismatch, _tensor.inplace, _tensor._FW)
    _T.indexing, _T.write_raw, _T.record = indexing, write_raw, record
    register_view(indexing.GETITEM, put=_put_getitem, strides=_getitem_strides)
    _PUT["reshape"] = _put_reshape
    _STRIDES["reshape"] = _reshape_rule
    _PUT["expand_dims"] = _put_reshape
    _STRIDES["expand_dims"] = _expand_dims_strides
    _PUT["squeeze"] = _put_reshape
    _STRIDES["squeeze"] = _squeeze_strides
    _PUT["broadcast_to"] = _put_broadcast
    _STRIDES["broadcast_to"] = _broadcast_strides
    register_view(M.PERMUTE_DIMS, put=_put_permute, strides=_permute_strides)
    register_view(linalg.MATRIX_TRANSPOSE, put=_put_transpose, strides=_transpose_strides)
    register_view(DETACH, put=_put_identity, strides=_identity_strides)
    register_view(NO_GRAD_VIEW, put=_put_identity, strides=_identity_strides)
    _STRIDES["diagonal"] = _diagonal_strides  # (xgrad.ops.joining.DIAGONAL; put: from its VJP)
    from .ops import elementwise as E
    E.real.op.view = True  # PyTorch's x.real and x.imag are views of x
    E.imag.op.view = True
    _PUT["real"] = _put_real
    _STRIDES["real"] = _complex_part_strides
    _PUT["imag"] = _put_imag
    _STRIDES["imag"] = _complex_part_strides
    from .ops import strided_views  # view_as_real, view_as_complex, unfold
    strided_views._register()


# -- public helpers: is_contiguous, view, contiguous, detach -----------------------------------

def is_contiguous(self, memory_format=None) -> bool:
    """Whether PyTorch would lay this tensor out contiguously (row-major, no gaps):
    False for views that transpose, permute, step, expand or take part of inner axes."""
    if self._base is None:
        return True
    layout = _layout(self._base, self._chain)
    return True if layout is None else _is_contiguous_layout(*layout)


VIEW_MESSAGE = ("view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


def view(self, *shape):
    """The same data in a new shape, always sharing it: PyTorch's error where the
    tensor's layout cannot be viewed that way (``reshape`` copies there)."""
    from .ops.manipulation import reshape
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
        if not isinstance(shape, (tuple, list)) and hasattr(shape, "__iter__"):
            shape = tuple(shape)
        elif not isinstance(shape, (tuple, list)):
            raise TypeError(f"view() takes a shape (ints), not {type(shape).__name__}")
    shape = tuple(int(s) for s in shape)
    if self._base is not None:
        layout = _layout(self._base, self._chain)
        if layout is not None:
            numel = 1
            for s in layout[0]:
                numel *= s
            new_shape = _resolve_shape(shape, numel)
            if layout[0] and compute_stride(layout[0], layout[1], new_shape) is None:
                raise RuntimeError(VIEW_MESSAGE)
    return reshape(self, shape)


def contiguous(self, memory_format=None):
    """``self`` when contiguous, else a contiguous copy (a new tensor, as PyTorch)."""
    if is_contiguous(self):
        return self
    from .ops.creation_ops import clone
    return clone(self)


def detach(self):
    """A tensor sharing this one's data (a write into either is seen by both) that
    is not part of any graph."""
    from ._tensor import unary
    return unary(DETACH, self)

from .autograd import graph as _graph_module  # noqa: E402
_graph_module._attach = attach
