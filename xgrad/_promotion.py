"""Type promotion: PyTorch's rules, applied by the dispatcher before any backend
sees the operands, so a program gives the same dtypes on every device.

Two parts, as in PyTorch:

* :func:`promote_types` — the table for two dtypes: ``bool`` < integers <
  floats < complex; within integers the wider wins and ``uint8`` with ``int8``
  goes to ``int16``; any integer with any float gives that float
  (``int64 + float16 -> float16``); ``float16`` with ``bfloat16`` gives
  ``float32``; a float with a complex gives the complex of the wider precision.
  Where PyTorch has no answer (``uint16``/``uint32``/``uint64`` with signed
  integers) the array API standard's table is used (``uint16 + int16 ->
  int32``); ``uint64`` with a signed integer has no dtype that holds both and
  raises.
* :func:`result_type` — PyTorch's *category* rule for operands: tensors with
  at least one dimension decide; 0-d tensors and Python scalars are "weak" and
  only raise the category (bool < integer < float < complex), never the
  precision within it. So ``int64_tensor * 0.1`` is the default float dtype
  (float32), ``float16_tensor * float32_0d`` stays float16, ``int_tensor +
  float64_0d`` is float64, ``bool_tensor + 1`` is int64, ``int8_tensor + 1000``
  stays int8 (the scalar wraps, as in PyTorch).

  One exception, because the operators serve both faces: where the array API
  standard defines the answer — tensors whose dtypes are all the standard's and
  of one family (integers; real and complex floats; bools) — a 0-d tensor counts
  in full, as the standard requires: ``float32_tensor + float64_0d`` is float64
  and ``int32_tensor + int64_0d`` is int64 (PyTorch: float32, int32). Python
  scalars stay weak everywhere (the standard agrees).

Some ops compute integers in the default float dtype (true division,
``atan2``, ...): :data:`TO_FLOAT` lists them. The array API standard leaves
mixed-kind promotion (integer with float) to the implementation, so the one
PyTorch rule serves both of xgrad's faces.
"""

from __future__ import annotations

from . import _dtypes as D

__all__ = ["promote_types", "result_type", "PromotionError", "scalar_dtype", "TO_FLOAT",
           "float_result", "register_promoting", "binary_operands", "promote_args"]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_PLAIN_SCALARS = (bool, int, float, complex)


class PromotionError(TypeError, RuntimeError):
    """Two dtypes have no common dtype (``uint64`` with a signed integer). A
    ``TypeError`` for array API code and a ``RuntimeError`` as PyTorch raises."""


def promote_types(a: D.DType, b: D.DType) -> D.DType:
    """The smallest dtype both ``a`` and ``b`` convert to (``torch.promote_types``)."""
    if a is b:
        return a
    ka, kb = a._kind, b._kind
    ca, cb = _CATEGORY[ka], _CATEGORY[kb]
    if ca != cb:
        if ca < cb:
            a, b, ka, kb, ca, cb = b, a, kb, ka, cb, ca  # a is now the higher category
        if cb == 0 or cb == 1:          # bool or integer with something higher: the higher
            return a
        # float with complex: the complex of the wider precision
        return D.complex128 if (a is D.complex128 or b is D.float64) else D.complex64
    if ca == 0:
        return a
    if ca == 2:
        if a.itemsize == b.itemsize:    # float16 with bfloat16
            return D.float32
        return a if a.itemsize > b.itemsize else b
    if ca == 3:
        return a if a.itemsize > b.itemsize else b
    # integers
    if ka == kb:
        return a if a.itemsize > b.itemsize else b
    unsigned, signed = (a, b) if ka == "u" else (b, a)
    if signed.itemsize > unsigned.itemsize:
        return signed
    wider = {1: D.int16, 2: D.int32, 4: D.int64}.get(unsigned.itemsize)
    if wider is None:
        raise PromotionError(f"{unsigned} and {signed} have no common dtype (a 64-bit unsigned "
                             f"integer does not fit any signed one); convert one explicitly")
    return wider


def scalar_dtype(value) -> D.DType:
    """The dtype a Python scalar stands for: bool, int64, the default float dtype,
    or its complex counterpart."""
    if isinstance(value, bool):
        return D.bool_
    if isinstance(value, int):
        return D.int64
    from .config import get_default_dtype
    if isinstance(value, float):
        return get_default_dtype()
    return D.COMPLEX_OF[get_default_dtype()]


def _combine(higher, lower):
    """PyTorch's ``combine_categories``: ``lower`` (weaker operands) only raises the
    category of ``higher``."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    hk, lk = higher._kind, lower._kind
    if hk == "c":
        return higher
    if lk == "c":
        return D.COMPLEX_OF[higher] if hk == "f" else lower
    if hk == "f":
        return higher
    if hk == "b" or lk == "f":
        return promote_types(higher, lower)
    return higher


def _operand(x):
    """(dtype, group) of one operand: group 0 = a dtype or a tensor with dimensions,
    1 = a 0-d tensor, 2 = a Python scalar."""
    if isinstance(x, D.DType):
        return x, 0
    if isinstance(x, _PLAIN_SCALARS):
        return scalar_dtype(x), 2
    dt = getattr(x, "dtype", None)
    if dt is None:
        import numbers
        if isinstance(x, numbers.Number):  # NumPy scalars are weak, as in PyTorch
            return scalar_dtype(x.item() if hasattr(x, "item") else complex(x)), 2
        raise TypeError(f"result_type: expected tensors, dtypes or scalars, got "
                        f"{type(x).__name__}")
    if not isinstance(dt, D.DType):
        from ._creation import resolve_dtype
        dt = resolve_dtype(dt)
    return dt, (1 if len(x.shape) == 0 else 0)


def result_type(*operands) -> D.DType:
    """The dtype PyTorch gives an elementwise op of ``operands`` (tensors, backend
    arrays, dtypes, Python scalars): see the module docstring."""
    groups = [None, None, None]
    standard_family = set()  # the standard's families of the tensor/dtype operands
    for x in operands:
        dt, g = _operand(x)
        groups[g] = dt if groups[g] is None else promote_types(groups[g], dt)
        if g != 2:
            standard_family.add(_FAMILY.get(dt))
    if groups == [None, None, None]:
        raise ValueError("result_type needs at least one tensor, dtype or scalar")
    if groups[0] is not None and groups[1] is not None and len(standard_family) == 1 \
            and None not in standard_family:
        # where the array API standard defines the answer (dtypes of one family, all of
        # them the standard's), 0-d tensors count in full, as the standard says; the
        # operators serve both faces (see the module docstring)
        return _combine(promote_types(groups[0], groups[1]), groups[2])
    return _combine(groups[0], _combine(groups[1], groups[2]))


# the array API standard's promotion families (float16/bfloat16 are not standard dtypes)
_FAMILY = {dt: ("bool" if dt._kind == "b" else "int" if dt._kind in "iu" else "float")
           for dt in D.ALL_DTYPES if dt not in (D.float16, D.bfloat16)}


def float_result(dt: D.DType) -> D.DType:
    """The dtype a :data:`TO_FLOAT` op computes in for inputs promoted to ``dt``."""
    if dt._kind in "fc":
        return dt
    from .config import get_default_dtype
    return get_default_dtype()


# -- the dispatcher's slow path ----------------------------------------------------
# names of the ops whose integer and bool inputs compute in the default float dtype
# (PyTorch's "int-to-float" ops: true division, exp, sin, ...); more with register_to_float
TO_FLOAT: set = {
    "divide", "atan2", "hypot", "logaddexp", "copysign", "nextafter",
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp", "expm1",
    "log", "log1p", "log2", "log10", "sin", "sinh", "sqrt", "tan", "tanh",
    # PyTorch's and torch.special's (checked against PyTorch: float32 for int64 inputs)
    "reciprocal", "sigmoid", "erf", "erfc", "erfcx", "erfinv", "digamma", "lgamma", "entr",
    "i0", "i0e", "i1", "i1e", "log_ndtr", "ndtri", "xlogy", "xlog1py", "zeta",
}
# names of the ops run through ``apply`` whose listed argument positions promote
# together (``where(cond, x, y)``: x and y); more with register_promoting
PROMOTING: dict = {"where": (1, 2), "clip": (0, 1, 2)}


def register_to_float(*names) -> None:
    """Make the ops called ``names`` compute integer and bool inputs in the default
    float dtype (as PyTorch's ``exp``, ``erf``, ``sigmoid``, ... do)."""
    TO_FLOAT.update(names)
    from .ops._registry import REGISTRY
    for name in names:
        if name in REGISTRY:
            REGISTRY[name].to_float = True


def register_promoting(name, positions) -> None:
    """Make ``apply`` promote the arguments of the op called ``name`` at ``positions``
    together with PyTorch's rule (e.g. ``where``'s two value arguments)."""
    PROMOTING[name] = tuple(positions)


def _astype(t, dt):
    from .ops.creation_ops import ASTYPE
    from ._tensor import unary
    native = t._device.backend.to_native.get(dt)
    if native is None:
        raise TypeError(f"{dt} is not supported on the {t._device.type} device")
    return unary(ASTYPE, t, {"dtype": native, "copy": False})


def _scalar_as(value, dt: D.DType):
    """A Python scalar as a scalar of ``dt``'s kind (what every backend accepts);
    integers wrap into ``dt``'s range as PyTorch's do."""
    k = dt._kind
    if k == "b":
        return bool(value)
    if k in "iu":
        value = int(value.real) if isinstance(value, complex) else int(value)
        bits = dt.itemsize * 8
        lo = -(1 << (bits - 1)) if k == "i" else 0
        if not lo <= value < lo + (1 << bits):
            value = (value - lo) % (1 << bits) + lo
        return value
    if k == "f":
        return float(value.real) if isinstance(value, complex) else float(value)
    return complex(value)


def _convert(x, dt, tensor_class):
    if isinstance(x, tensor_class):
        return x if x.dtype is dt else _astype(x, dt)
    if x is None:
        return x
    return _scalar_as(x, dt)


def binary_operands(op, a, b, tensor_class):
    """``a`` and ``b`` (tensors or Python scalars, at least one a tensor) converted to
    the dtype ``op`` computes in. Tensors are cast by the recorded ``astype`` (so
    gradients go back in each input's own dtype)."""
    dt = result_type(a, b)
    if op.to_float:
        dt = float_result(dt)
    return _convert(a, dt, tensor_class), _convert(b, dt, tensor_class)


def unary_operand(op, x):
    """``x`` (an integer or bool tensor) cast to the default float dtype, for the
    :data:`TO_FLOAT` ops."""
    return _astype(x, float_result(x.dtype))


def promote_args(op, args, positions, tensor_class):
    """``args`` with those at ``positions`` converted to their common dtype (None
    arguments are left out); the arguments unchanged when they already agree."""
    chosen = [args[i] for i in positions if i < len(args) and args[i] is not None]
    natives = {x._data.dtype for x in chosen if isinstance(x, tensor_class)}
    if not natives:  # only scalars (``where(c, 2.0, 0.5)``): a 0-d tensor of their dtype
        device = next((a._device for a in args if isinstance(a, tensor_class)), None)
        if device is None or not chosen:
            return args
        from ._creation import asarray
        dt = result_type(*chosen)
        if op.to_float:
            dt = float_result(dt)
        args = list(args)
        first = next(i for i in positions if i < len(args) and args[i] is not None)
        args[first] = asarray(_scalar_as(args[first], dt), dtype=dt, device=device)
        for i in positions:
            if i != first and i < len(args) and args[i] is not None:
                args[i] = _scalar_as(args[i], dt)
        return tuple(args)
    if len(natives) == 1 and not op.to_float:
        inexact = chosen[0]._device.backend.inexact_natives if isinstance(
            chosen[0], tensor_class) else None
        if all(isinstance(x, tensor_class) or (type(x) in (int, float) and inexact is not None
                                               and next(iter(natives)) in inexact)
               for x in chosen):
            return args
    dt = result_type(*chosen)
    if op.to_float:
        dt = float_result(dt)
    if all(isinstance(x, tensor_class) and x.dtype is dt for x in chosen):
        return args
    args = list(args)
    for i in positions:
        if i < len(args):
            args[i] = _convert(args[i], dt, tensor_class)
    return tuple(args)


# -- errors PyTorch raises on values ------------------------------------------------
_CHECKED_BACKENDS = ("cpu", "strict")  # eager, host-resident: a value check costs no sync


def check_integer_divisor(xp, y) -> None:
    """Raise PyTorch's ``RuntimeError: ZeroDivisionError`` for an integer division
    (``//``, ``%``) by zero. Checked where the data is on the host and computed
    eagerly (cpu, strict), as PyTorch checks on its CPU; on GPUs and lazy backends
    (CUDA, Dask) a check would force a synchronisation, and PyTorch's CUDA does not
    check either."""
    backend = getattr(xp, "__xgrad_backend__", None)
    if backend is not None:
        if backend.name not in _CHECKED_BACKENDS:
            return
    elif type(y).__module__.partition(".")[0] not in ("numpy", "array_api_strict", "builtins"):
        return  # (in-place operators pass the array's own namespace: host arrays only)
    if type(y) is int:
        zero = y == 0
    elif type(y) in _PLAIN_SCALARS:
        return
    else:
        if "int" not in str(y.dtype):  # int8 ... uint64, NumPy's and array-api-strict's
            return
        zero = bool(xp.any(y == 0))
    if zero:
        raise RuntimeError("ZeroDivisionError")


_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                "int64": "Long", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
                "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def check_inplace(op, t, other) -> None:
    """PyTorch's error for an in-place op whose result has a higher category than the
    tensor written into (``int_tensor += 0.5``, ``int_tensor /= 2``): the result cannot
    be stored without losing its kind."""
    dt = result_type(t, other)
    if op.to_float:
        dt = float_result(dt)
    target = t.dtype
    if _CATEGORY[dt._kind] > _CATEGORY[target._kind]:
        raise RuntimeError(f"result type {_TORCH_NAMES[dt.name]} can't be cast to the desired "
                           f"output type {_TORCH_NAMES[target.name]}")
