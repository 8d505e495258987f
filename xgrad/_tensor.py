"""The Tensor: one backend array plus autograd metadata, and the op dispatcher.

The dispatcher (:func:`apply`, :func:`unary`, :func:`binary`) is the hot path of
every operation: unwrap, check devices, run the op's forward on raw arrays,
and record a graph node only when grad mode is on and an input requires grad.
"""

from __future__ import annotations

import numbers

from . import _dtypes, _promotion
from ._errors import op_error as _op_error
from .autograd import grad_mode as _grad_mode
from .autograd.forward_state import STATE as _FW
from .autograd import graph as _graph
from .autograd.graph import AccumulateGrad, Node, record, record_binary, record_unary
from .backends._numpy import ignore_fp_errors as _ignore_fp_errors, \
    restore_fp_errors as _restore_fp_errors

__all__ = ["Tensor"]

_GRAD = _grad_mode.STATE
_new = object.__new__
_SCALAR_TYPES = (bool, int, float, complex)
_SUPPORTED_API_VERSIONS = ("2022.12", "2023.12", "2024.12")  # what __array_namespace__ accepts
_PROMOTING = _promotion.PROMOTING
_INT_FLOAT = frozenset((int, float))  # Python scalars that need no promotion with a float tensor


class Tensor:
    """An n-dimensional array on one device, which autograd can differentiate.

    Make tensors with :func:`xgrad.tensor`, :func:`xgrad.asarray` or the other
    creation functions rather than with this class directly.
    """

    __slots__ = ("_data", "_device", "_requires_grad", "_grad_fn", "_output_nr", "_grad",
                 "_vc", "_hooks", "_base", "_retains_grad", "_cow", "_acc", "_fw",
                 "_chain", "_views", "_gbase", "__weakref__")

    def __init__(self, data, *, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor
        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        _init(self, t._data, t._device)
        self._requires_grad = t._requires_grad

    # -- metadata ---------------------------------------------------------
    @property
    def dtype(self) -> _dtypes.DType:
        """The xgrad dtype (``xgrad.float32``, ...)."""
        return self._device.backend.from_native[self._data.dtype]

    @property
    def shape(self) -> tuple:
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self):
        """Number of elements (array API); also callable like PyTorch's ``x.size(dim)``."""
        return _Size(_numel(self._data.shape), self._data.shape)

    def numel(self) -> int:
        return _numel(self._data.shape)

    def dim(self) -> int:
        return self._data.ndim

    @property
    def device(self):
        """The :class:`xgrad.Device` holding the data."""
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __getstate__(self):
        """The state ``copy.deepcopy`` and pickle copy: a copy is no view (it owns its
        data) and has no registry of views nor a cached gradient accumulator."""
        state = {name: getattr(self, name) for name in Tensor.__slots__
                 if name != "__weakref__" and hasattr(self, name)}
        state["_views"] = state["_acc"] = state["_base"] = state["_chain"] = state["_gbase"] = None
        return None, state

    # -- autograd metadata -----------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Start (or stop) recording operations on this leaf tensor; returns self."""
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_inexact:
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require "
                               f"gradients; this one is {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        """The graph node that made this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        """True unless this tensor is the result of a recorded operation."""
        return self._grad_fn is None

    @property
    def grad(self):
        """The accumulated gradient (leaves, and non-leaves after ``retain_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, not {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {value.shape} "
                                   f"vs {self.shape}")
            if value._device is not self._device:
                raise RuntimeError(f"assigned grad is on {value.device}, the tensor on {self.device}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        """How many times this tensor's data was modified in place."""
        return self._vc[0]

    @property
    def data(self) -> "Tensor":
        """The same data, detached from the graph (PyTorch's unchecked ``.data``): a
        write into either is seen by both."""
        from ._views import detach
        self._ensure_buffer()
        return detach(self)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError("data must be set to a Tensor")
        if self._views is not None:  # PyTorch: the old views keep the old storage
            for ref in self._views:
                v = ref()
                if v is not None and v._base is self:
                    v._base = v._gbase = None
            self._views = None
        self._data = value._data
        self._device = value._device

    def detach(self) -> "Tensor":
        """A tensor with the same data (shared: a write into either is seen by both)
        that is not part of any graph."""
        from ._views import detach
        self._ensure_buffer()
        return detach(self)

    def detach_(self) -> "Tensor":
        """Make this tensor a leaf that does not require grad."""
        self._grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if not self._retains_grad:
            self._retains_grad = True
            self._grad_fn.add_retain_grad(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None
        result replaces the gradient. Returns a handle with ``.remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn.add_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        return _HookHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        A non-scalar tensor needs ``gradient`` (the vector of the vector-Jacobian
        product). The graph is freed afterwards unless ``retain_graph=True``.
        """
        from .autograd import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)

    def _accumulator(self) -> AccumulateGrad:
        """The graph node that accumulates into this leaf's ``.grad`` (one per leaf)."""
        ref = self._acc
        acc = ref() if ref is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._acc = acc.ref()
        return acc

    def _ensure_buffer(self):
        data = self._data = self._device.backend.ensure_buffer(self._data)
        return data

    # -- conversion ---------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if _numel(self._data.shape) != 1:
            raise RuntimeError(f"a Tensor with {_numel(self._data.shape)} elements cannot be "
                               f"converted to Scalar")
        return self._device.backend.to_numpy(self._data).item()

    def compute(self) -> "Tensor":
        """This tensor's values computed now (lazy devices: dask), as a new detached
        tensor on the same device; see :func:`xgrad.compute` for several at once."""
        from ._creation import compute
        return compute(self)[0]

    def tolist(self):
        return self._device.backend.to_numpy(self._data).tolist()

    def numpy(self, *, force: bool = False):
        """The data as a NumPy array (shared on the cpu device, a copy elsewhere)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._device.backend.to_numpy(self._ensure_buffer())

    def __array__(self, dtype=None, copy=None):
        """NumPy's array protocol, NumPy 2's ``copy`` semantics (see xgrad._numpy_interop)."""
        from ._numpy_interop import array
        return array(self, dtype, copy)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on tensors return tensors (see xgrad._numpy_interop)."""
        from ._numpy_interop import array_ufunc
        return array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __bool__(self) -> bool:
        return bool(self.item())

    def __float__(self) -> float:
        return float(self._one_element())

    def __int__(self) -> int:
        return int(self._one_element())

    def __complex__(self) -> complex:
        return complex(self._one_element())

    def _one_element(self):
        if self.numel() != 1:  # PyTorch's ValueError (item() raises RuntimeError)
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self) -> int:
        if self.dtype._kind not in "iu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __array_namespace__(self, api_version=None):
        """The array API standard's namespace for xgrad tensors (``xgrad.array_api``, the
        standard's face: the standard's signatures and semantics, not PyTorch's)."""
        if api_version is not None and api_version not in _SUPPORTED_API_VERSIONS:
            raise ValueError(f"xgrad does not support array API version {api_version!r}; "
                             f"supported: {', '.join(_SUPPORTED_API_VERSIONS)}")
        from .ops._registry import tensor_namespace
        return tensor_namespace()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of the data (the backend array's own ``__dlpack__``)."""
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                    ("dl_device", dl_device), ("copy", copy)) if v is not None}
        return self._ensure_buffer().__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._ensure_buffer().__dlpack_device__()

    def to(self, *args, **kwargs) -> "Tensor":
        """``t.to(device)``, ``t.to(dtype)``, ``t.to(device, dtype)``, ``t.to(other)``.
        Differentiable: the gradient goes back to the source device and dtype."""
        from ._creation import parse_to_args
        device, dtype, copy = parse_to_args(self, *args, **kwargs)
        from .ops import creation_ops as ns
        out = self
        if device is not None and device is not self._device:
            out = ns.to_device(out, device)
        if dtype is not None and dtype is not out.dtype:
            out = ns.astype(out, dtype)
        if copy and out is self:
            out = ns.clone(self)
        return out

    def to_device(self, device, /, *, stream=None) -> "Tensor":
        """The array API's ``x.to_device(device)``."""
        from .ops.creation_ops import to_device
        return to_device(self, device)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None) -> "Tensor":
        return self.to("cuda" if device is None else
                       (f"cuda:{device}" if isinstance(device, int) else device))

    # -- printing -----------------------------------------------------------
    def __repr__(self) -> str:
        from ._format import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)


class _Size(int):
    """``x.size``: the element count (array API) that is also callable (PyTorch)."""

    def __new__(cls, numel, shape):
        obj = super().__new__(cls, numel)
        obj._shape = tuple(shape)
        return obj

    def __call__(self, dim=None):
        return self._shape if dim is None else self._shape[dim]


class _HookHandle:
    """Returned by ``register_hook``: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook
        hooks.append(hook)

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


# -- construction ------------------------------------------------------------

def _init(t, data, device):
    # (from_graph repeats these for speed: a slot added here goes there too)
    t._data = data
    t._device = device
    t._requires_grad = False
    t._grad_fn = None
    t._output_nr = 0
    t._grad = None
    t._vc = [0]
    t._hooks = None
    t._base = None
    t._retains_grad = False
    t._cow = False
    t._acc = None
    t._fw = None  # forward-mode tangents {level: tangent} (autograd.forward_ad)
    t._views = None  # a root's live views, and a view's chain of view ops (xgrad._views)
    t._chain = None
    t._gbase = None  # a view below a detach(): the detached tensor (xgrad._views)


def _wrap(data, device) -> Tensor:
    """A new leaf tensor around a backend array (no copy)."""
    t = _new(Tensor)
    _init(t, data, device)
    return t


def from_graph(data, device, node, output_nr: int = 0) -> Tensor:
    """A tensor for output ``output_nr`` of graph node ``node``."""
    t = _new(Tensor)  # _init written out: this runs for every recorded op
    t._data = data
    t._device = device
    t._requires_grad = True
    t._grad_fn = node
    t._output_nr = output_nr
    t._grad = None
    t._vc = [0]
    t._hooks = None
    t._base = None
    t._retains_grad = False
    t._cow = False
    t._acc = None
    t._fw = None
    t._views = None
    t._chain = None
    t._gbase = None
    return t


# -- dispatch ----------------------------------------------------------------

def _device_mismatch(a, b):
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                        f"devices, {a} and {b}! Move one with .to(device) first.")


def _coerce(value, device):
    """A non-tensor operand as something the backend accepts: Python scalars stay
    scalars (weakly typed, as the standard says); anything else becomes a tensor."""
    if type(value) in _SCALAR_TYPES:
        return value
    if isinstance(value, numbers.Number):  # NumPy scalars are weakly typed too, as in PyTorch
        return value.item() if hasattr(value, "item") else complex(value)
    from ._creation import asarray
    t = asarray(value, device=device)
    if t._device is not device:
        raise _device_mismatch(device, t._device)
    return t


def unary(op, x, params=None) -> Tensor:
    """Run a one-input op."""
    if not isinstance(x, Tensor):
        x = _coerce_first(x)
    dev = x._device
    if op.to_float and x._data.dtype not in dev.inexact:
        x = _promotion.unary_operand(op, x)  # exp(int) etc. compute in the default float
    fp = _ignore_fp_errors()  # NumPy's overflow/invalid warnings: silent, as in PyTorch
    try:
        out = op.forward(dev.xp, x._data, **params) if params else op.forward(dev.xp, x._data)
    except ValueError as e:  # the backend's ValueError: PyTorch's RuntimeError (xgrad._errors)
        raise _op_error(op, e, (x._data,), params) from None
    finally:
        _restore_fp_errors(fp)
    if getattr(out, "base", None) is not None:
        out = _unaliased(op, out, (x._data,))
    if x._requires_grad and op.differentiable and _GRAD.enabled:
        result = record_unary(op, x, x._data, out, params, dev)
    else:
        result = _result(op, out, dev, x, params)
    if _FW.depth:
        return _FW.hook(op, (x,), params, result)
    return result


def binary(op, a, b, params=None) -> Tensor:
    """Run a two-input op; either input may be a Python scalar."""
    if isinstance(a, Tensor):
        dev = a._device
        ad = a._data
        if isinstance(b, Tensor):
            if b._device is not dev:
                raise _device_mismatch(dev, b._device)
            bd = b._data
            # type promotion (xgrad._promotion), checked cheaply: equal dtypes need
            # nothing, except integers in ops that compute them as floats (division)
            dt = ad.dtype
            if dt is not bd.dtype or (op.to_float and dt not in dev.inexact):
                a, b, ad, bd = _promote_binary(op, a, b, dev)
        elif type(b) in _INT_FLOAT:  # an int or float scalar with a float tensor: nothing to do
            bd = b
            if ad.dtype not in dev.inexact:
                a, b, ad, bd = _promote_binary(op, a, b, dev)
        else:
            b = _coerce(b, dev)
            bd = b._data if isinstance(b, Tensor) else b
            a, b, ad, bd = _promote_binary(op, a, b, dev)
    else:
        if not isinstance(b, Tensor):
            b = _coerce_first(b)
        dev = b._device
        bd = b._data
        if type(a) in _INT_FLOAT:
            ad = a
            if bd.dtype not in dev.inexact:
                a, b, ad, bd = _promote_binary(op, a, b, dev)
        else:
            a = _coerce(a, dev)
            ad = a._data if isinstance(a, Tensor) else a
            a, b, ad, bd = _promote_binary(op, a, b, dev)
    fp = _ignore_fp_errors()
    try:
        out = op.forward(dev.xp, ad, bd, **params) if params else op.forward(dev.xp, ad, bd)
    except ValueError as e:
        raise _op_error(op, e, (ad, bd), params) from None
    finally:
        _restore_fp_errors(fp)
    if type(out) in _SCALAR_TYPES:  # NumPy's 0-d float64 is a Python float: 1j * it is too
        out = dev.xp.asarray(out)
    elif getattr(out, "base", None) is not None:
        out = _unaliased(op, out, (ad, bd))
    a_tensor = isinstance(a, Tensor)
    b_tensor = isinstance(b, Tensor)
    # (the grad mode is thread-local, slower to read than the flags: it goes last)
    if ((a_tensor and a._requires_grad) or (b_tensor and b._requires_grad)) and \
            op.differentiable and _GRAD.enabled:
        if a_tensor and b_tensor:
            result = record_binary(op, a, b, ad, bd, out, params, dev)
        else:
            result = record(op, (a, b), (ad, bd), out, params, dev)
    else:
        result = _result(op, out, dev, a)
    if _FW.depth:
        return _FW.hook(op, (a, b), params, result)
    return result


def _promote_binary(op, a, b, dev):
    """The dispatcher's promotion slow path: ``a``, ``b`` and their data in the dtype
    ``op`` computes in (PyTorch's rules, :mod:`xgrad._promotion`)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        dt = a._data.dtype
        if dt == b._data.dtype and (not op.to_float or dt in dev.inexact):
            return a, b, a._data, b._data  # equal, but not interned (array-api-strict)
    elif isinstance(a, Tensor) and type(b) in _INT_FLOAT and a._data.dtype in dev.inexact:
        return a, b, a._data, b  # (a NumPy scalar, coerced to a Python scalar)
    elif isinstance(b, Tensor) and type(a) in _INT_FLOAT and b._data.dtype in dev.inexact:
        return a, b, a, b._data
    a, b = _promotion.binary_operands(op, a, b, Tensor)
    return a, b, (a._data if isinstance(a, Tensor) else a), (b._data if isinstance(b, Tensor) else b)


def apply(op, args, params=None):
    """Run an op on any number of inputs (tensors, scalars or None)."""
    if op.name in _PROMOTING:
        args = _promotion.promote_args(op, args, _PROMOTING[op.name], Tensor)
    dev = None
    datas = []
    needs_grad = False
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev = a._device
            elif a._device is not dev:
                raise _device_mismatch(dev, a._device)
            datas.append(a._data)
            needs_grad = needs_grad or a._requires_grad
        else:
            datas.append(a)
    if dev is None:
        from .config import get_default_device
        dev = get_default_device()
        args = tuple(_coerce(a, dev) if a is not None and not isinstance(a, _SCALAR_TYPES) else a
                     for a in args)
        datas = [a._data if isinstance(a, Tensor) else a for a in args]
    fp = _ignore_fp_errors()
    try:
        out = op.forward(dev.xp, *datas, **params) if params else op.forward(dev.xp, *datas)
    except ValueError as e:
        raise _op_error(op, e, datas, params) from None
    finally:
        _restore_fp_errors(fp)
    if op.nout != 1 or getattr(out, "base", None) is not None:
        out = _unaliased(op, out, datas)
    if needs_grad and _GRAD.enabled and op.differentiable:
        result = record(op, tuple(args), tuple(datas), out, params, dev)
    else:
        first = next((a for a in args if isinstance(a, Tensor)), None)
        result = _result(op, out, dev, first, params)
    if _FW.depth:
        return _FW.hook(op, tuple(args), params, result)
    return result


def _unaliased(op, out, inputs):
    """``out``, copied if a non-view op's forward returned a view of an input's memory
    (NumPy's ``flip``, ``rot90``, ...): a later in-place write into the input must not
    reach a result that PyTorch gives its own memory."""
    if op.view:
        return out
    if op.nout != 1:
        return tuple(_unaliased_one(o, inputs) for o in out)
    return _unaliased_one(out, inputs)


def _unaliased_one(out, inputs):
    base = getattr(out, "base", None)
    if base is None:
        return out
    for d in inputs:
        if d is base or (d is not None and getattr(d, "base", None) is base):
            return out.copy()
    return out


def _result(op, out, dev, first, params=None):
    """Wrap the output(s) of an unrecorded op."""
    if op.nout != 1:
        return tuple(_wrap(o, dev) for o in out)
    t = _wrap(out, dev)
    if op.view and first is not None:
        _views.attach(t, first, op, params)
    return t


def _coerce_first(x):
    from ._creation import asarray
    return asarray(x)


# -- in-place ----------------------------------------------------------------

def check_inplace_allowed(t: Tensor) -> None:
    """The errors PyTorch raises for in-place ops that autograd cannot record."""
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation. Wrap it in `with xgrad.no_grad():` if you mean to update "
                           "it, or use an out-of-place operation.")


def inplace(t: Tensor, others, compute, write) -> Tensor:
    """Update ``t`` in place (see :func:`_inplace`); in forward mode the tangent too.
    A value the backend cannot write into ``t`` (a shape that does not broadcast to
    ``t``'s) is PyTorch's RuntimeError (an :class:`~xgrad._errors.OpError`)."""
    try:
        if _FW.depth:
            return _FW.inplace(t, others, compute, write, _inplace)
        return _inplace(t, others, compute, write)
    except ValueError as exc:
        raise _op_error("in-place update", exc, (t,)) from None


def _inplace(t: Tensor, others, compute, write) -> Tensor:
    """Update ``t`` in place; ``others`` are the other operands.

    ``compute()`` returns the new value as a tensor (recorded when autograd
    records this update); ``write(buffer)`` writes it into ``t``'s own buffer
    and returns that buffer. A write into a view is a write into its root
    (:mod:`xgrad._views`). A recorded update gives ``t`` the result's data and
    graph position; an unrecorded one writes the backend array in place where
    the backend owns it. Either way a buffer that a live node saved is not
    written: ``t`` gets a new one (copy-on-write), so backward computes the
    gradient of the program as written; and the live views of ``t`` follow.
    """
    if t._base is not None:
        return _views.inplace_view(t, others, compute, write)
    if _GRAD.enabled and (t._requires_grad or any(
            isinstance(o, Tensor) and o._requires_grad for o in others)):
        check_inplace_allowed(t)
        _views.adopt(t, _views.checked_result(t, _views.keep_grad(t, compute())))
        return t
    return _views.write_root_unrecorded(t, compute, write)


Node.tensor_class = Tensor
_graph._from_graph = from_graph
from . import _views  # noqa: E402  (views and writes into them)
_views._install()
