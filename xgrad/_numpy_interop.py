"""NumPy interoperability of Tensor: ``__array__`` and ``__array_ufunc__``.

* ``np.asarray(t)`` / ``np.array(t, copy=...)`` follow NumPy 2's ``copy``
  semantics: ``copy=True`` always returns a new array, ``copy=None`` copies
  only if needed (on the cpu device the result shares the tensor's memory, as
  ``t.numpy()`` does), ``copy=False`` raises ``ValueError`` where a copy is
  needed (any device but cpu, or a dtype change).
* A NumPy ufunc applied to tensors (``np.exp(t)``, ``np.add(a, t)``,
  ``ndarray + t``, a ``scipy.special`` ufunc such as ``erf``) returns a tensor,
  as PyTorch's do. Where xgrad has the same function (the array API standard's
  name, a PyTorch-face function, or, for the ``scipy.special`` ufuncs listed in
  ``_SCIPY_SPECIAL``, ``xgrad.special``), the call goes through it and is
  differentiable; any other ufunc or method (``reduce``,
  ``accumulate``, ``outer``, ``at``) runs in NumPy on the detached values and
  comes back as a tensor on the same device (an error for inputs that require
  grad, as ``t.numpy()`` is).
"""

from __future__ import annotations

import sys

import numpy as np

# NumPy ufunc name -> array API standard name (where they differ)
_RENAMED = {
    "absolute": "abs", "fabs": "abs", "power": "pow", "true_divide": "divide",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "invert": "bitwise_invert", "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift", "conjugate": "conj", "rint": "round",
}
# the same name in NumPy and the array API standard
_STANDARD = frozenset("""
add subtract multiply divide floor_divide remainder negative positive sign exp expm1
log log1p log2 log10 logaddexp sqrt square sin cos tan sinh cosh tanh floor ceil trunc
maximum minimum hypot copysign nextafter signbit isnan isinf isfinite equal not_equal
less less_equal greater greater_equal logical_and logical_or logical_xor logical_not
bitwise_and bitwise_or bitwise_xor matmul
""".split())
# NumPy ufuncs whose PyTorch-face function (top-level xgrad) has NumPy's meaning
_TORCH_FACE = frozenset("""
exp2 deg2rad rad2deg cbrt reciprocal fmod heaviside logaddexp2 float_power fmax fmin
gcd lcm ldexp
""".split())


# scipy.special ufuncs whose xgrad.special function (PyTorch's torch.special) has SciPy's
# meaning elementwise; others (polygamma's n, zeta, gammainc's edge cases) run in SciPy
_SCIPY_SPECIAL = frozenset("""
erf erfc erfcx erfinv expit logit gammaln psi digamma i0 i0e i1 i1e ndtr ndtri log_ndtr
xlogy xlog1py entr exp2 expm1 log1p
""".split())


def array(t, dtype=None, copy=None):
    """``Tensor.__array__``: NumPy 2's protocol, ``copy`` honoured."""
    result = t.numpy()  # raises for a tensor that requires grad, as PyTorch does
    data = t._data
    shared = isinstance(data, np.ndarray) and np.may_share_memory(result, data)
    if dtype is not None and np.dtype(dtype) != result.dtype:
        if copy is False:
            raise ValueError(f"Unable to avoid copy while creating an array as requested: "
                             f"casting {result.dtype} to {np.dtype(dtype)} copies")
        return result.astype(dtype)
    if copy is True and shared:
        return result.copy()
    if copy is False and not shared:
        raise ValueError(f"Unable to avoid copy while creating an array as requested: a tensor "
                         f"on {t.device} is not in NumPy's memory (use copy=None or True)")
    return result


def _xgrad_function(ufunc, t):
    """The differentiable xgrad counterpart of ``ufunc``, or None."""
    name = ufunc.__name__
    if getattr(np, name, None) is ufunc:
        std = _RENAMED.get(name, name)
        if std in _STANDARD or name in _RENAMED:
            ns = t.__array_namespace__()
            fn = getattr(ns, std, None)
            if fn is not None:
                return fn
        if name in _TORCH_FACE:
            return getattr(sys.modules["xgrad"], name, None)
        return None
    special = sys.modules.get("scipy.special")
    if name in _SCIPY_SPECIAL and special is not None and getattr(special, name, None) is ufunc:
        try:
            import importlib
            xspecial = importlib.import_module("xgrad.special")
        except ImportError:
            return None
        return getattr(xspecial, name, None)
    return None


def _operand(v, device):
    """A ufunc operand for an xgrad function: tensors as they are, NumPy scalars as
    Python numbers (weakly typed), other arrays as tensors on ``device``."""
    from ._tensor import Tensor
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray) or hasattr(v, "__array_namespace__"):
        from ._creation import asarray
        return asarray(v, device=device)
    return v


def _to_tensor(value, device):
    from ._tensor import Tensor
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        from ._creation import asarray
        return asarray(value, device=device)
    return value


def _write_out(out, results):
    """Write ``results`` into the ``out=`` arrays and return them (one or a tuple)."""
    from ._tensor import Tensor
    written = []
    for o, r in zip(out, results):
        if o is None:
            written.append(r)
        elif isinstance(o, Tensor):
            o[...] = r
            written.append(o)
        else:
            np.copyto(o, np.asarray(r), casting="same_kind")
            written.append(o)
    return written[0] if len(written) == 1 else tuple(written)


def array_ufunc(t, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: ufuncs on tensors return tensors (differentiable
    where xgrad has the function)."""
    from ._tensor import Tensor
    device = next(v for v in inputs + tuple(kwargs.get("out", ())) if isinstance(v, Tensor)).device
    out = kwargs.pop("out", None)
    if method == "__call__" and not kwargs:
        fn = _xgrad_function(ufunc, t)
        if fn is not None:
            result = fn(*(_operand(v, device) for v in inputs))
            return result if out is None else _write_out(out, (result,))
    # no xgrad counterpart (or options only NumPy has): NumPy on the values
    for v in inputs:
        if isinstance(v, Tensor) and v.requires_grad:
            raise RuntimeError(f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
                               f" has no differentiable xgrad counterpart and the input requires "
                               f"grad: use the xgrad function, or detach() the input first")
    arrays = [np.asarray(v) if isinstance(v, Tensor) else v for v in inputs]
    if method == "at" and isinstance(inputs[0], Tensor):
        arrays[0] = array(inputs[0], copy=False)  # written in place: must be the tensor's memory
    result = getattr(ufunc, method)(*arrays, **kwargs)
    if method == "at":
        return None
    results = result if isinstance(result, tuple) else (result,)
    results = tuple(_to_tensor(r, device) for r in results)
    if out is not None:
        return _write_out(out, results)
    return results if isinstance(result, tuple) else results[0]
