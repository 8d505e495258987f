"""Tensor operators and PyTorch-style methods, attached to :class:`Tensor`.

Each method forwards to the namespace function of the same meaning, accepting
PyTorch's ``dim=``/``keepdim=`` beside the standard's ``axis=``/``keepdims=``.
"""

from __future__ import annotations

import collections
import numbers
import operator

from . import _namespace as ns
from ._tensor import Tensor, _device_mismatch, binary, inplace, unary
from .ops import elementwise as E
from .ops import indexing, linalg, reductions



# -- operators ------------------------------------------------------------------------
def _operand_ok(other) -> bool:
    return isinstance(other, (Tensor, numbers.Number)) or hasattr(other, "__array_namespace__") \
        or isinstance(other, (list, tuple))


def _binary_operator(op):
    def forward(self, other):
        if type(other) is not Tensor and not _operand_ok(other):  # (tensors: the hot path)
            return NotImplemented
        return binary(op, self, other)

    def reflected(self, other):
        if not _operand_ok(other):
            return NotImplemented
        return binary(op, other, self)
    return forward, reflected


def _inplace_operator(op, write):
    def method(self, other):
        if isinstance(other, Tensor):
            if other._device is not self._device:
                raise _device_mismatch(self._device, other._device)
            value = other._data
        else:
            value = other
        return inplace(self, (other,), lambda: binary(op, self, other),
                       lambda buf: write(buf, value))
    return method


def _write_all(buf, value):
    buf[...] = value
    return buf


_BINARY = {
    "add": (E.add.op, operator.iadd), "sub": (E.subtract.op, operator.isub),
    "mul": (E.multiply.op, operator.imul), "truediv": (E.divide.op, operator.itruediv),
    "floordiv": (E.floor_divide.op, lambda buf, v: _write_all(
        buf, E.floor_divide_forward(buf.__array_namespace__(), buf, v))), "mod": (E.remainder.op, operator.imod),
    "pow": (E.pow.op, operator.ipow), "matmul": (linalg.MATMUL, None),
    "and": (E.bitwise_and.op, operator.iand), "or": (E.bitwise_or.op, operator.ior),
    "xor": (E.bitwise_xor.op, operator.ixor), "lshift": (E.bitwise_left_shift.op, operator.ilshift),
    "rshift": (E.bitwise_right_shift.op, operator.irshift),
}
for _name, (_op, _write) in _BINARY.items():
    _fwd, _ref = _binary_operator(_op)
    setattr(Tensor, f"__{_name}__", _fwd)
    setattr(Tensor, f"__r{_name}__", _ref)
    if _write is not None:
        setattr(Tensor, f"__i{_name}__", _inplace_operator(_op, _write))

for _name, _fn in (("eq", E.equal), ("ne", E.not_equal), ("lt", E.less), ("le", E.less_equal),
                   ("gt", E.greater), ("ge", E.greater_equal)):
    setattr(Tensor, f"__{_name}__", _binary_operator(_fn.op)[0])
Tensor.__hash__ = lambda self: id(self)  # __eq__ is elementwise; hash by identity

Tensor.__neg__ = lambda self: unary(E.negative.op, self)
Tensor.__pos__ = lambda self: unary(E.positive.op, self)
Tensor.__abs__ = lambda self: unary(E.abs.op, self)
Tensor.__invert__ = lambda self: unary(E.bitwise_invert.op, self)
Tensor.__getitem__ = indexing.getitem


def _setitem(self, key, value):
    """``x[key] = value``: written in place, or recorded when autograd is involved."""
    raw, _, _ = indexing.normalize_key(key, self._device, self._data.ndim)
    if isinstance(value, Tensor):
        if value._device is not self._device:
            raise _device_mismatch(self._device, value._device)
        data = value._data
    else:
        data = value

    def write(buf):
        buf[raw] = data
        return buf
    inplace(self, (value,), lambda: indexing.setitem_result(self, key, value), write)


Tensor.__setitem__ = _setitem


# -- PyTorch-style keyword translation -------------------------------------------------
def _axis(dim, axis):
    axis = dim if axis is None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(fn):
    def method(self, dim=None, keepdim=False, *, axis=None, keepdims=None, **kwargs):
        return fn(self, axis=_axis(dim, axis), keepdims=keepdim if keepdims is None else keepdims,
                  **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = f"``{fn.__name__}`` over ``dim`` (or ``axis``); see xgrad.{fn.__name__}."
    return method


for _fn in (reductions.sum, reductions.mean, reductions.prod, ns.all, ns.any):
    setattr(Tensor, _fn.__name__, _reduction(_fn))


def _statistic(fn):
    def method(self, dim=None, *, unbiased=None, keepdim=False, axis=None, keepdims=None,
               correction=None):
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0  # PyTorch's default: unbiased
        return fn(self, axis=_axis(dim, axis), correction=correction,
                  keepdims=keepdim if keepdims is None else keepdims)
    method.__name__ = fn.__name__
    method.__doc__ = f"``{fn.__name__}`` with PyTorch's default correction=1 (unbiased)."
    return method


Tensor.var = _statistic(reductions.var)
Tensor.std = _statistic(reductions.std)

values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _extreme(reduce, arg, pairwise):
    def method(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if isinstance(dim, Tensor):
            return pairwise(self, dim)
        keep = keepdim if keepdims is None else keepdims
        if dim is None:
            return reduce(self, axis=axis, keepdims=keep)
        # PyTorch: with dim, the values and the indices
        return values_indices(reduce(self, axis=dim, keepdims=keep), arg(self, axis=dim, keepdims=keep))
    method.__name__ = reduce.__name__
    method.__doc__ = (f"``x.{reduce.__name__}()``: the {reduce.__name__}imum; with ``dim``: "
                      f"(values, indices); with a tensor: elementwise {pairwise.__name__}.")
    return method


Tensor.max = _extreme(reductions.max, ns.argmax, ns.maximum)
Tensor.min = _extreme(reductions.min, ns.argmin, ns.minimum)
Tensor.amax = _reduction(reductions.max)
Tensor.amin = _reduction(reductions.min)


def _argextreme(fn):
    def method(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return fn(self, axis=_axis(dim, axis), keepdims=keepdim if keepdims is None else keepdims)
    method.__name__ = fn.__name__
    return method


Tensor.argmax = _argextreme(ns.argmax)
Tensor.argmin = _argextreme(ns.argmin)


# -- elementwise methods ----------------------------------------------------------------
for _name in ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "sin", "cos",
              "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
              "abs", "sign", "floor", "ceil", "round", "trunc", "reciprocal", "relu", "sigmoid",
              "negative", "isnan", "isinf", "isfinite", "logical_not"):
    setattr(Tensor, _name, getattr(ns, _name))
Tensor.neg = ns.negative
Tensor.arcsin, Tensor.arccos, Tensor.arctan = ns.asin, ns.acos, ns.atan
Tensor.rsqrt = lambda self: ns.reciprocal(ns.sqrt(self))

Tensor.add = lambda self, other, *, alpha=1: self + (other if alpha == 1 else other * alpha)
Tensor.sub = lambda self, other, *, alpha=1: self - (other if alpha == 1 else other * alpha)
Tensor.mul = Tensor.multiply = lambda self, other: self * other
Tensor.div = Tensor.divide = Tensor.true_divide = lambda self, other: self / other
Tensor.pow = lambda self, exponent: self ** exponent
Tensor.matmul = Tensor.mm = Tensor.bmm = lambda self, other: linalg.matmul(self, other)
Tensor.dot = lambda self, other: linalg.dot(self, other)
Tensor.maximum = lambda self, other: ns.maximum(self, other)
Tensor.minimum = lambda self, other: ns.minimum(self, other)
Tensor.eq, Tensor.ne, Tensor.lt, Tensor.le, Tensor.gt, Tensor.ge = (
    Tensor.__eq__, Tensor.__ne__, Tensor.__lt__, Tensor.__le__, Tensor.__gt__, Tensor.__ge__)


def _clamp(self, min=None, max=None):
    return ns.clip(self, min, max)


Tensor.clamp = Tensor.clip = _clamp
Tensor.where = lambda self, condition, other: ns.where(condition, self, other)
Tensor.masked_fill = lambda self, mask, value: ns.where(mask, value, self)


def _norm(self, p="fro", dim=None, keepdim=False):
    """The vector p-norm over ``dim`` (all elements by default); 'fro' is p = 2."""
    return ns.norm(self, p, dim, keepdim)


Tensor.norm = _norm


# -- shape methods ------------------------------------------------------------------------
def _shape_args(args):
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        return tuple(args[0])
    return tuple(args)


Tensor.reshape = lambda self, *shape: ns.reshape(self, _shape_args(shape))
Tensor.view = Tensor.reshape
Tensor.view_as = Tensor.reshape_as = lambda self, other: ns.reshape(self, other.shape)
Tensor.permute = lambda self, *dims: ns.permute_dims(self, _shape_args(dims))
Tensor.unsqueeze = lambda self, dim: ns.expand_dims(self, axis=dim)
Tensor.expand = lambda self, *sizes: ns.expand(self, *sizes)
Tensor.expand_as = lambda self, other: ns.broadcast_to(self, other.shape)
Tensor.flatten = lambda self, start_dim=0, end_dim=-1: ns.flatten(self, start_dim, end_dim)
Tensor.transpose = Tensor.swapaxes = lambda self, dim0, dim1: ns.transpose(self, dim0, dim1)
Tensor.flip = lambda self, *dims: ns.flip(self, axis=_shape_args(dims) if dims else None)
Tensor.contiguous = lambda self: self
Tensor.clone = lambda self: ns.clone(self)
Tensor.type_as = lambda self, other: ns.astype(self, other.dtype)


def _squeeze(self, dim=None):
    if dim is None:
        dim = tuple(i for i, s in enumerate(self.shape) if s == 1)
    elif isinstance(dim, int) and self.shape and self.shape[dim] != 1:
        return self  # PyTorch leaves non-size-1 dims alone
    return ns.squeeze(self, axis=dim)


Tensor.squeeze = _squeeze


def _t(self):
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return self if self.ndim < 2 else linalg.matrix_transpose(self)


Tensor.t = _t
Tensor.T = property(lambda self: self if self.ndim < 2 else
                    ns.permute_dims(self, tuple(reversed(range(self.ndim)))),
                    doc="The axes reversed (the transpose of a matrix).")
Tensor.mT = property(lambda self: linalg.matrix_transpose(self),
                     doc="The last two axes swapped (a batch of transposed matrices).")
Tensor.astype = lambda self, dtype, copy=True: ns.astype(self, dtype, copy=copy)

for _name, _dtype in (("float", "float32"), ("double", "float64"), ("long", "int64"),
                      ("int", "int32"), ("bool", "bool")):
    setattr(Tensor, _name, (lambda dt: lambda self: ns.astype(self, dt, copy=False))(_dtype))


def _new(fn):
    def method(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        return fn(*args, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad, **kwargs)
    return method


Tensor.new_zeros = _new(ns.zeros)
Tensor.new_ones = _new(ns.ones)
Tensor.new_empty = _new(ns.empty)
Tensor.new_full = lambda self, size, fill_value, *, dtype=None, device=None, requires_grad=False: \
    ns.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
            requires_grad=requires_grad)
Tensor.new_tensor = lambda self, data, *, dtype=None, device=None, requires_grad=False: \
    ns.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
              requires_grad=requires_grad)


# -- in-place methods -------------------------------------------------------------------------
def _fill_buffer(value):
    def write(buf):
        buf[...] = value
        return buf
    return write


def zero_(self):
    """Set every element to 0, in place."""
    return inplace(self, (), lambda: self * 0, _fill_buffer(0))


def fill_(self, value):
    """Set every element to ``value``, in place."""
    if isinstance(value, Tensor):
        value = value.item()
    return inplace(self, (), lambda: self * 0 + value, _fill_buffer(value))


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved from its device) into this tensor, in place."""
    if not isinstance(src, Tensor):
        src = ns.asarray(src, device=self.device)
    if src._device is not self._device:
        src = ns.to_device(src, self._device)
    data = src._data

    def result():
        out = ns.broadcast_to(ns.astype(src, self.dtype, copy=False), self.shape)
        return ns.clone(out) if out is src else out
    return inplace(self, (src,), result, _fill_buffer(data))


def _inplace_method(op_name):
    op, write = _BINARY[op_name]

    def method(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        return _inplace_operator(op, write)(self, other)
    method.__name__ = {"add": "add_", "sub": "sub_", "mul": "mul_", "truediv": "div_",
                       "pow": "pow_"}[op_name]
    return method


Tensor.zero_, Tensor.fill_, Tensor.copy_ = zero_, fill_, copy_
Tensor.add_ = _inplace_method("add")
Tensor.sub_ = _inplace_method("sub")
Tensor.mul_ = _inplace_method("mul")
Tensor.div_ = _inplace_method("truediv")
Tensor.pow_ = _inplace_method("pow")


def _unary_inplace(fn):
    def method(self, *args, **kwargs):
        return inplace(self, (), lambda: fn(self, *args, **kwargs),
                       _fill_buffer_from(lambda: fn(self, *args, **kwargs)))
    method.__name__ = fn.__name__ + "_"
    return method


def _fill_buffer_from(compute):
    def write(buf):
        buf[...] = compute()._data
        return buf
    return write


for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "neg", "abs", "clamp", "sin", "cos"):
    setattr(Tensor, _name + "_", _unary_inplace(getattr(Tensor, _name)))


def uniform_(self, a=0.0, b=1.0):
    """Fill with samples from U(a, b), in place."""
    sample = ns.rand(self.shape, dtype=self.dtype, device=self.device) * (b - a) + a
    return inplace(self, (), lambda: sample, _fill_buffer(sample._data))


def normal_(self, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std²), in place."""
    sample = ns.randn(self.shape, dtype=self.dtype, device=self.device) * std + mean
    return inplace(self, (), lambda: sample, _fill_buffer(sample._data))


Tensor.uniform_, Tensor.normal_ = uniform_, normal_

del _name, _fn, _op, _write, _fwd, _ref, _dtype


# -- more of PyTorch's methods: sorting, cumulative, complex parts --------------------------
sort_result = collections.namedtuple("sort_result", ["values", "indices"])


def _sort(self, dim=-1, descending=False, stable=False):
    """PyTorch's ``x.sort(dim)``: (sorted values, the indices they came from)."""
    indices = ns.argsort(self, axis=dim, descending=descending, stable=True)
    return sort_result(ns.take_along_axis(self, indices, axis=dim), indices)


Tensor.sort = _sort
Tensor.argsort = lambda self, dim=-1, descending=False, stable=False: \
    ns.argsort(self, axis=dim, descending=descending, stable=True)
Tensor.cumsum = lambda self, dim, *, dtype=None: ns.cumulative_sum(self, axis=dim, dtype=dtype)
Tensor.cumprod = lambda self, dim, *, dtype=None: ns.cumulative_prod(self, axis=dim, dtype=dtype)
Tensor.diff = lambda self, n=1, dim=-1, prepend=None, append=None: \
    ns.diff(self, axis=dim, n=n, prepend=prepend, append=append)
Tensor.conj = lambda self: ns.conj(self)
Tensor.real = property(lambda self: ns.real(self), doc="The real part (PyTorch's ``x.real``).")
Tensor.imag = property(lambda self: ns.imag(self), doc="The imaginary part (PyTorch's ``x.imag``).")
Tensor.unbind = lambda self, dim=0: ns.unstack(self, axis=dim)
Tensor.roll = lambda self, shifts, dims=None: ns.roll(self, shifts, axis=dims)
Tensor.repeat_interleave = lambda self, repeats, dim=None: ns.repeat(self, repeats, axis=dim)
Tensor.count_nonzero = lambda self, dim=None: ns.count_nonzero(self, axis=dim)
Tensor.logical_and = lambda self, other: ns.logical_and(self, other)
Tensor.logical_or = lambda self, other: ns.logical_or(self, other)
Tensor.atan2 = Tensor.arctan2 = lambda self, other: ns.atan2(self, other)
Tensor.__imatmul__ = lambda self, other: inplace(
    self, (other,), lambda: linalg.matmul(self, other),
    _fill_buffer_from(lambda: linalg.matmul(self, other)))
