"""Tensor operators and PyTorch-style methods, attached to :class:`Tensor`.

Each method forwards to the namespace function of the same meaning, accepting
PyTorch's ``dim=``/``keepdim=`` beside the standard's ``axis=``/``keepdims=``.
"""

from __future__ import annotations

import collections
import numbers
import operator

from . import _dtypes
from . import _namespace as ns
from . import _promotion
from . import _views
from ._errors import op_error
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
            if value.dtype is not self._data.dtype or op.to_float:  # (promotion: dtypes)
                _promotion.check_inplace(op, self, other)
                if value.dtype != self._data.dtype:
                    return _inplace_mixed(op, self, other)
        else:
            value = other
            if type(other) is bool or type(other) is complex or \
                    self._data.dtype not in self._device.inexact:
                _promotion.check_inplace(op, self, other)
        return inplace(self, (other,), lambda: binary(op, self, other),
                       lambda buf: write(buf, value))
    return method


def _inplace_mixed(op, t, other):
    """An in-place op with an operand of another dtype, as PyTorch computes it: in the
    promoted dtype, then cast to ``t``'s (``uint8 += int8``; ``float32 += float64``)."""
    def compute():
        result = binary(op, t, other)
        return result if result.dtype is t.dtype else ns.astype(result, t.dtype)

    def write(buf):
        result = binary(op, t, other)._data
        buf[...] = t._device.xp.astype(result, buf.dtype)
        return buf
    return inplace(t, (other,), compute, write)


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



def _matmul_operator(reflected):
    """``a @ b`` as PyTorch's: operands of different dtypes are a RuntimeError (the
    standard's ``xgrad.array_api.matmul`` promotes them instead)."""
    def method(self, other):
        if type(other) is not Tensor and not _operand_ok(other):
            return NotImplemented
        if isinstance(other, Tensor) and other._data.dtype is not self._data.dtype:
            ns._check_same_dtype(other, self) if reflected else ns._check_same_dtype(self, other)
        return binary(linalg.MATMUL, other, self) if reflected else binary(linalg.MATMUL, self, other)
    return method


Tensor.__matmul__, Tensor.__rmatmul__ = _matmul_operator(False), _matmul_operator(True)

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
    """``x[key] = value``: written in place (O(slice) where the backend can), recorded
    as PyTorch's CopySlices when autograd is involved; views of ``x`` see the write.
    A value whose shape does not broadcast to the region is PyTorch's RuntimeError."""
    try:
        _views.setitem(self, key, value)
    except ValueError as exc:
        raise op_error("setitem", exc, (self,)) from None


Tensor.__setitem__ = _setitem


# -- PyTorch's reductions, with PyTorch's signatures (the PyTorch face's functions) -----------
Tensor.sum = ns.sum
Tensor.mean = ns.mean
Tensor.prod = ns.prod
Tensor.all = ns.all
Tensor.any = ns.any
Tensor.var = ns.var
Tensor.std = ns.std
Tensor.max = ns.max
Tensor.min = ns.min
Tensor.amax = ns.amax
Tensor.amin = ns.amin
Tensor.argmax = ns.argmax
Tensor.argmin = ns.argmin
values_indices = collections.namedtuple("values_indices", ["values", "indices"])


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
Tensor.matmul = ns.matmul
Tensor.mm = ns.mm
Tensor.bmm = ns.bmm
Tensor.dot = ns.dot
Tensor.maximum = ns.maximum
Tensor.minimum = ns.minimum
Tensor.eq, Tensor.ne, Tensor.lt, Tensor.le, Tensor.gt, Tensor.ge = (
    Tensor.__eq__, Tensor.__ne__, Tensor.__lt__, Tensor.__le__, Tensor.__gt__, Tensor.__ge__)


Tensor.clamp = Tensor.clip = ns.clamp
Tensor.round = ns.round
Tensor.where = lambda self, condition, other: ns.where(condition, self, other)
Tensor.masked_fill = lambda self, mask, value: ns.where(mask, value, self)


Tensor.norm = ns.norm


# -- shape methods ------------------------------------------------------------------------
def _shape_args(args):
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        return tuple(args[0])
    return tuple(args)


def _dims_method(fn, name):
    """``x.flip(0, 1)`` / ``x.flip((0, 1))`` / ``x.flip(dims=(0, 1))``."""
    def method(self, *dims, **kwargs):
        if dims:
            kwargs["dims"] = _shape_args(dims)
        return fn(self, **kwargs)
    method.__name__ = name
    method.__doc__ = fn.__doc__
    return method


Tensor.reshape = lambda self, *shape: ns.reshape(self, _shape_args(shape))
Tensor.view = _views.view
Tensor.is_contiguous = _views.is_contiguous
Tensor.view_as = Tensor.reshape_as = lambda self, other: ns.reshape(self, other.shape)
Tensor.permute = lambda self, *dims: ns.permute_dims(self, _shape_args(dims))
Tensor.unsqueeze = ns.unsqueeze
Tensor.expand = lambda self, *sizes: ns.expand(self, *sizes)
Tensor.expand_as = lambda self, other: ns.broadcast_to(self, other.shape)
Tensor.flatten = ns.flatten
Tensor.transpose = Tensor.swapaxes = Tensor.swapdims = ns.transpose
Tensor.flip = _dims_method(ns.flip, "flip")
Tensor.contiguous = _views.contiguous
Tensor.clone = lambda self, *, memory_format=None: ns.clone(self)
Tensor.type_as = lambda self, other: ns.astype(self, other.dtype)
Tensor.squeeze = ns.squeeze
Tensor.tensordot = ns.tensordot
Tensor.nonzero = ns.nonzero
Tensor.equal = ns.equal
Tensor.unique = ns.unique
Tensor.tril = ns.tril
Tensor.triu = ns.triu


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
                      ("int", "int32"), ("bool", "bool"), ("half", "float16"),
                      ("bfloat16", "bfloat16"), ("short", "int16"), ("char", "int8"),
                      ("byte", "uint8"), ("cfloat", "complex64"), ("cdouble", "complex128")):
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


def _constant_like(self, value):
    """``value`` everywhere, as a function of ``self`` with a zero gradient (PyTorch's
    FillBackward; ``self * 0 + value`` would keep NaN and inf entries as NaN)."""
    if self.dtype.is_floating_point or self.dtype.is_complex:
        from ._tensor import unary
        return unary(_views.FILL, self, {"value": value})
    nowhere = ns.zeros_like(self, dtype=_dtypes.bool_)
    return ns.where(nowhere, self, value)


def zero_(self):
    """Set every element to 0, in place."""
    return inplace(self, (), lambda: _constant_like(self, 0), _views.uniform(_fill_buffer(0)))


def fill_(self, value):
    """Set every element to ``value``, in place."""
    if isinstance(value, Tensor):
        value = value.item()
    return inplace(self, (), lambda: _constant_like(self, value),
                   _views.uniform(_fill_buffer(value)))


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved from its device) into this tensor, in place."""
    if not isinstance(src, Tensor):
        src = ns.asarray(src, device=self.device)
    if src._device is not self._device:
        src = ns.to_device(src, self._device)
    data = src._data

    def result():  # a buffer of its own: broadcast_to and astype may share src's
        return ns.clone(ns.broadcast_to(ns.astype(src, self.dtype, copy=False), self.shape))
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
sort_result = ns.return_types.sort
Tensor.sort = ns.sort
Tensor.argsort = ns.argsort
Tensor.cumsum = ns.cumsum
Tensor.cumprod = ns.cumprod
Tensor.conj = lambda self: ns.conj(self)
Tensor.real = property(lambda self: ns.real(self), doc="The real part (PyTorch's ``x.real``).")
Tensor.imag = property(lambda self: ns.imag(self), doc="The imaginary part (PyTorch's ``x.imag``).")
Tensor.unbind = ns.unbind
Tensor.roll = ns.roll
Tensor.repeat_interleave = lambda self, repeats, dim=None: ns.repeat(self, repeats, axis=dim)
Tensor.count_nonzero = ns.count_nonzero
Tensor.logical_and = lambda self, other: ns.logical_and(self, other)
Tensor.logical_or = lambda self, other: ns.logical_or(self, other)
Tensor.atan2 = Tensor.arctan2 = lambda self, other: ns.atan2(self, other)
Tensor.__imatmul__ = lambda self, other: inplace(
    self, (other,), lambda: linalg.matmul(self, other),
    _fill_buffer_from(lambda: linalg.matmul(self, other)))
