"""The array API standard's face of xgrad: exactly the namespace of the Python
array API standard, revision 2024.12.

This is what ``Tensor.__array_namespace__()`` returns, what array-API code
(SciPy, scikit-learn, array-api-extra) sees when given xgrad tensors, what the
conformance suite runs against, and what gradient rules get as ``xp`` when
the backward pass is itself recorded (``create_graph=True``). Every function
has the standard's signature and semantics (``std(x, correction=0)``,
``max(x, axis=)`` returning only values, ``squeeze`` raising on an axis whose
size is not 1, ``nonzero`` returning a tuple, ``flip(x, axis=)``,
``roll(x, shift, axis=)``, ``tensordot(x1, x2, axes=)``, ``linalg.solve``
treating only a 1-D ``x2`` as a vector, ...). PyTorch's spellings and
semantics are the top-level ``xgrad`` (the PyTorch face); both faces are thin
wrappers over the same differentiable ops in :mod:`xgrad.ops`.

    >>> import xgrad
    >>> xp = xgrad.asarray([1.0, 2.0]).__array_namespace__()
    >>> xp.std(xp.asarray([1.0, 2.0, 3.0]))      # correction=0
"""

import math as _math

from .. import _dtypes
from .._dtypes import (bool_ as bool, complex64, complex128, float32, float64,  # noqa: F401,A004
                       int8, int16, int32, int64, uint8, uint16, uint32, uint64)
from .._creation import (arange, asarray, empty, empty_like, eye, from_dlpack, full,  # noqa: F401
                         full_like, linspace, meshgrid, ones, ones_like, tril, triu, zeros,
                         zeros_like)
from .._dtype_functions import can_cast, finfo, iinfo, isdtype, result_type  # noqa: F401
from .._info import __array_namespace_info__  # noqa: F401
from ._names import STANDARD as _STANDARD
from ..ops.creation_ops import astype  # noqa: F401
from ..ops.elementwise import (abs, acos, acosh, add, asin, asinh, atan, atan2, atanh,  # noqa: F401,A004
                               bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_or,
                               bitwise_right_shift, bitwise_xor, ceil, conj, copysign, cos, cosh,
                               divide, equal, exp, expm1, floor, floor_divide, greater,
                               greater_equal, hypot, imag, isfinite, isinf, isnan, less,
                               less_equal, log, log1p, log2, log10, logaddexp, logical_and,
                               logical_not, logical_or, logical_xor, maximum, minimum, multiply,
                               negative, nextafter, not_equal, positive, pow, real, reciprocal,
                               remainder, round, sign, signbit, sin, sinh, sqrt, square, subtract,
                               tan, tanh, trunc)
from ..ops.indexing import take, take_along_axis  # noqa: F401
from ..ops.linalg import matmul, matrix_transpose, tensordot, vecdot  # noqa: F401
from ..ops.manipulation import (broadcast_arrays, broadcast_to, concat, diff, expand_dims,  # noqa: F401
                                flip, moveaxis, permute_dims, repeat, reshape, roll, squeeze,
                                stack, tile, unstack)
from ..ops.reductions import (cumulative_prod, cumulative_sum, max, mean, min, prod, std,  # noqa: F401,A004
                              sum, var)
from ..ops.searching import argmax, argmin, clip, count_nonzero, nonzero, where  # noqa: F401
from ..ops.sets import unique_all, unique_counts, unique_inverse, unique_values  # noqa: F401
from ..ops.sorting import argsort, searchsorted, sort  # noqa: F401

__array_api_version__ = "2024.12"

e = _math.e
inf = _math.inf
nan = _math.nan
pi = _math.pi
newaxis = None


def all(x, /, *, axis=None, keepdims=False):  # noqa: A001
    """Whether every element (over ``axis``) is true (a boolean result, no gradient)."""
    from .._tensor import _wrap
    x = x if isinstance(x, _Tensor) else asarray(x)
    return _wrap(x._device.xp.all(x._data, axis=axis, keepdims=keepdims), x._device)


def any(x, /, *, axis=None, keepdims=False):  # noqa: A001
    """Whether some element (over ``axis``) is true (a boolean result, no gradient)."""
    from .._tensor import _wrap
    x = x if isinstance(x, _Tensor) else asarray(x)
    return _wrap(x._device.xp.any(x._data, axis=axis, keepdims=keepdims), x._device)


from .._tensor import Tensor as _Tensor  # noqa: E402
from . import fft, linalg  # noqa: E402,F401


# -- the standard's type promotion -----------------------------------------------------------
# xgrad's dispatcher promotes as PyTorch does, where a 0-d tensor is "weak" like a Python
# scalar (float32 vector + float64 0-d -> float32). The standard promotes every array by
# its dtype alone (-> float64). The two agree unless exactly one operand is 0-d, so the
# standard's binary functions cast the operands to their common dtype first in that case.
def _standard_operands(x1, x2):
    if (isinstance(x1, _Tensor) and isinstance(x2, _Tensor) and x1.dtype is not x2.dtype
            and (x1.ndim == 0) is not (x2.ndim == 0)):
        from .._promotion import promote_types
        dt = promote_types(x1.dtype, x2.dtype)
        if x1.dtype is not dt:
            x1 = astype(x1, dt)
        if x2.dtype is not dt:
            x2 = astype(x2, dt)
    return x1, x2


def _standard_promotion(fn):
    import functools

    @functools.wraps(fn)
    def f(x1, x2, /, **kwargs):
        x1, x2 = _standard_operands(x1, x2)
        return fn(x1, x2, **kwargs)
    return f


(add, atan2, bitwise_and, bitwise_left_shift, bitwise_or, bitwise_right_shift, bitwise_xor,
 copysign, divide, equal, floor_divide, greater, greater_equal, hypot, less, less_equal,
 logaddexp, logical_and, logical_or, logical_xor, maximum, minimum, multiply, nextafter,
 not_equal, pow, remainder, subtract) = map(_standard_promotion, (
    add, atan2, bitwise_and, bitwise_left_shift, bitwise_or, bitwise_right_shift, bitwise_xor,
    copysign, divide, equal, floor_divide, greater, greater_equal, hypot, less, less_equal,
    logaddexp, logical_and, logical_or, logical_xor, maximum, minimum, multiply, nextafter,
    not_equal, pow, remainder, subtract))
_where = where
_vecdot = vecdot


def vecdot(x1, x2, /, *, axis=-1):
    """Dot product ``sum(conj(x1) * x2)`` along ``axis``; the two operands must have the
    same size along ``axis`` (the standard; the PyTorch face broadcasts a size-1 axis)."""
    _same_contracted_size(x1, x2, axis)
    return _vecdot(x1, x2, axis=axis)


_tensordot = tensordot


def tensordot(x1, x2, /, *, axes=2):
    """Sum of products over ``axes`` (an int: the last ``axes`` of ``x1`` with the first of
    ``x2``; or two sequences of axes). Contracted axes must have equal sizes: the
    standard does not broadcast them (the PyTorch face broadcasts a size-1 dim)."""
    from .._errors import OpError
    if isinstance(axes, int):
        pairs = list(zip(range(x1.ndim - axes, x1.ndim), range(axes))) if axes > 0 else []
    else:
        pairs = list(zip(axes[0], axes[1]))
    for a, b in pairs:
        try:
            n1, n2 = x1.shape[a], x2.shape[b]
        except IndexError:
            break  # out-of-range axes: the op's own error
        if n1 != n2:
            raise OpError(f"tensordot: contracted axes must have the same size, got axis {a} "
                          f"of {tuple(x1.shape)} and axis {b} of {tuple(x2.shape)}")
    return _tensordot(x1, x2, axes=axes)


def _same_contracted_size(x1, x2, axis):
    from .._errors import OpError
    try:
        n1, n2 = x1.shape[axis], x2.shape[axis]
    except IndexError:
        raise IndexError(f"vecdot: axis {axis} is out of range for shapes {tuple(x1.shape)} "
                         f"and {tuple(x2.shape)}") from None
    if n1 != n2:
        raise OpError(f"vecdot: the operands must have the same size along axis {axis}, got "
                      f"shapes {tuple(x1.shape)} and {tuple(x2.shape)}")


def where(condition, x1, x2, /):
    """``x1`` where ``condition`` is true, else ``x2`` (the standard's promotion of ``x1``
    and ``x2``)."""
    x1, x2 = _standard_operands(x1, x2)
    return _where(condition, x1, x2)

__all__ = [
    "__array_api_version__", "__array_namespace_info__",
    "e", "inf", "nan", "newaxis", "pi",  # constants
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",  # data types
    *(name for names in _STANDARD.values() for name in names),
    "fft", "linalg",  # extensions
]


def __getattr__(name):
    """``special``: xgrad's special functions (``xgrad.special``), reachable as
    ``xp.special`` for libraries that look for the proposed special-functions extension
    (SciPy's ``scipy.special`` dispatches to ``xp.special.<name>`` when it exists, which
    makes ``scipy.special.erf(t)`` differentiable). It is not part of the 2024.12
    standard, so it is left out of ``__all__`` and ``dir()``."""
    if name == "special":
        return _scipy_compatible_special()
    raise AttributeError(f"module 'xgrad.array_api' has no attribute {name!r}")


# torch.special functions whose signature or domain differs from scipy.special's
# function of the same name: left out of ``xp.special`` so that SciPy uses its own
# generic path for them (polygamma(n, x): torch's n is one int; gammainc/gammaincc: NaN
# outside torch's domain where SciPy defines values; zeta: torch needs q; softmax and
# log_softmax: torch needs dim)
_SPECIAL_DIFFERENT = frozenset({"polygamma", "gammainc", "gammaincc", "zeta", "softmax",
                                "log_softmax"})


def _scipy_compatible_special():
    """``xgrad.special`` less the functions whose meaning differs from SciPy's."""
    import types
    import xgrad.special as special
    ns = types.SimpleNamespace(**{n: getattr(special, n) for n in special.__all__
                                  if n not in _SPECIAL_DIFFERENT})
    ns.__name__ = "xgrad.array_api.special"
    return ns


def _install_hook():
    """Tell the engine (which must not import this face) which namespace rules get in
    ``create_graph`` mode and ``Tensor.__array_namespace__`` returns."""
    import sys
    from ..ops import _registry
    _registry.TENSOR_NAMESPACE = sys.modules[__name__]


_install_hook()
