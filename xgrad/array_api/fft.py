"""``xgrad.array_api.fft``: the array API standard's FFT extension (2024.12),
differentiable, with the standard's signatures (PyTorch's are :mod:`xgrad.fft`).

``fft``, ``ifft``, ``fftn``, ``ifftn``, ``rfft``, ``irfft``, ``rfftn``, ``irfftn``,
``hfft``, ``ihfft`` (all with gradients), ``fftfreq``, ``rfftfreq`` (constants),
``fftshift``, ``ifftshift`` (rolls). Each transform is one of three 1-D ops of
:mod:`xgrad.ops.fft` applied axis by axis, so gradients and higher derivatives
follow from those. Complex gradients use PyTorch's convention (the conjugate
Wirtinger derivative: for a linear map ``A``, ``grad_x = A^H grad_y``); a real
input to a complex transform gets a real gradient (the real part).
"""

from __future__ import annotations

from .._tensor import unary
from ..ops import fft as _ops
from ._names import FFT as _FFT

__all__ = list(_FFT)

_NORMS = ("backward", "ortho", "forward")


def _axis(x, axis):
    if not -x.ndim <= axis < x.ndim:
        raise IndexError(f"fft: axis {axis} is out of bounds for a {x.ndim}-D input")
    return axis % x.ndim


def _check(x, n, norm, name):
    if norm not in _NORMS:
        raise ValueError(f"fft.{name}: norm must be one of {_NORMS}, got {norm!r}")
    if n is not None and n < 1:
        raise ValueError(f"fft.{name}: invalid number of points n={n}")
    if x.ndim == 0:
        raise ValueError(f"fft.{name}: expected an input with at least one dimension")


def _as_complex(x):
    from .. import array_api as ns
    from .._dtypes import complex64, complex128, float32
    if x.dtype.is_complex:
        return x
    if not x.dtype.is_floating_point:
        raise TypeError(f"fft: expected a floating-point or complex input, got {x.dtype}")
    return ns.astype(x, complex64 if x.dtype == float32 else complex128)


def _require_real(x, name):
    if not x.dtype.is_floating_point:
        raise TypeError(f"fft.{name}: expected a real floating-point input, got {x.dtype}")


def _c2c(x, n, axis, norm, inverse, name):
    _check(x, n, norm, name)
    x = _as_complex(x)
    axis = _axis(x, axis)
    n = x.shape[axis] if n is None else n
    return unary(_ops.FFT_C2C, x, {"n": n, "axis": axis, "norm": norm, "inverse": inverse})


# -- 1-D ------------------------------------------------------------------------------------
def fft(x, /, *, n=None, axis=-1, norm="backward"):
    """Discrete Fourier transform along ``axis`` (``n``: pad with zeros or truncate).
    ``norm``: ``"backward"`` (no scaling), ``"ortho"`` (1/sqrt(n)), ``"forward"`` (1/n)."""
    return _c2c(x, n, axis, norm, False, "fft")


def ifft(x, /, *, n=None, axis=-1, norm="backward"):
    """Inverse discrete Fourier transform along ``axis`` (scaled by 1/n by default)."""
    return _c2c(x, n, axis, norm, True, "ifft")


def rfft(x, /, *, n=None, axis=-1, norm="backward"):
    """DFT of a real input: the ``n // 2 + 1`` non-negative frequency terms."""
    _check(x, n, norm, "rfft")
    _require_real(x, "rfft")
    axis = _axis(x, axis)
    n = x.shape[axis] if n is None else n
    return unary(_ops.FFT_R2C, x, {"n": n, "axis": axis, "norm": norm})


def irfft(x, /, *, n=None, axis=-1, norm="backward"):
    """Inverse of :func:`rfft`: a real output of length ``n`` (default ``2 * (m - 1)``)."""
    _check(x, n, norm, "irfft")
    x = _as_complex(x)
    axis = _axis(x, axis)
    n = 2 * (x.shape[axis] - 1) if n is None else n
    if n < 1:
        raise ValueError(f"fft.irfft: invalid number of output points {n}")
    return unary(_ops.FFT_C2R, x, {"n": n, "axis": axis, "norm": norm})


def hfft(x, /, *, n=None, axis=-1, norm="backward"):
    """DFT of a Hermitian-symmetric signal given by its first half: a real output,
    ``irfft(conj(x))`` with the dual normalisation (as NumPy computes it)."""
    from .. import array_api as ns
    _check(x, n, norm, "hfft")
    return irfft(ns.conj(_as_complex(x)), n=n, axis=axis, norm=_ops.DUAL[norm])


def ihfft(x, /, *, n=None, axis=-1, norm="backward"):
    """Inverse of :func:`hfft`: ``conj(rfft(x))`` with the dual normalisation."""
    from .. import array_api as ns
    _check(x, n, norm, "ihfft")
    return ns.conj(rfft(x, n=n, axis=axis, norm=_ops.DUAL[norm]))


# -- n-D ------------------------------------------------------------------------------------
def _axes_and_sizes(x, s, axes, name):
    if s is not None and axes is not None and len(s) != len(axes):
        raise ValueError(f"fft.{name}: s and axes must have the same length")
    if axes is None:
        axes = range(x.ndim) if s is None else range(x.ndim - len(s), x.ndim)
    axes = [_axis(x, a) for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"fft.{name}: repeated axes {axes}")
    sizes = [None if s is None or s[i] == -1 else s[i] for i in range(len(axes))]
    return axes, sizes


def fftn(x, /, *, s=None, axes=None, norm="backward"):
    """n-dimensional DFT over ``axes`` (all by default), with sizes ``s``."""
    axes, sizes = _axes_and_sizes(x, s, axes, "fftn")
    for a, n in zip(axes, sizes):
        x = fft(x, n=n, axis=a, norm=norm)
    return _as_complex(x)


def ifftn(x, /, *, s=None, axes=None, norm="backward"):
    """n-dimensional inverse DFT over ``axes`` (all by default)."""
    axes, sizes = _axes_and_sizes(x, s, axes, "ifftn")
    for a, n in zip(axes, sizes):
        x = ifft(x, n=n, axis=a, norm=norm)
    return _as_complex(x)


def rfftn(x, /, *, s=None, axes=None, norm="backward"):
    """n-dimensional DFT of a real input: :func:`rfft` over the last of ``axes``,
    then :func:`fft` over the others."""
    _require_real(x, "rfftn")
    axes, sizes = _axes_and_sizes(x, s, axes, "rfftn")
    x = rfft(x, n=sizes[-1], axis=axes[-1], norm=norm)
    for a, n in zip(axes[:-1], sizes[:-1]):
        x = fft(x, n=n, axis=a, norm=norm)
    return x


def irfftn(x, /, *, s=None, axes=None, norm="backward"):
    """Inverse of :func:`rfftn`: :func:`ifft` over all but the last of ``axes``, then
    :func:`irfft` over the last (output length ``s[-1]``, default ``2 * (m - 1)``)."""
    axes, sizes = _axes_and_sizes(x, s, axes, "irfftn")
    for a, n in zip(axes[:-1], sizes[:-1]):
        x = ifft(x, n=n, axis=a, norm=norm)
    return irfft(x, n=sizes[-1], axis=axes[-1], norm=norm)


# -- helpers -------------------------------------------------------------------------------
def fftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """Sample frequencies of an ``n``-point DFT: ``[0, 1, ..., -(n//2), ..., -1] / (d n)``."""
    from .. import array_api as ns
    k = ns.arange(n, device=device)
    k = ns.where(k < (n + 1) // 2, k, k - n)
    return _freq(k, d * n, dtype)


def rfftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """Sample frequencies of :func:`rfft`: ``[0, 1, ..., n//2] / (d n)``."""
    from .. import array_api as ns
    return _freq(ns.arange(n // 2 + 1, device=device), d * n, dtype)


def _freq(k, scale, dtype):
    from .. import array_api as ns
    from ..config import get_default_dtype
    return ns.astype(k, dtype or get_default_dtype()) / scale


def _shift(x, axes, sign):
    import operator as _operator
    from .. import array_api as ns
    if axes is None:
        axes = tuple(range(x.ndim))
    elif not isinstance(axes, (tuple, list)):
        axes = (_operator.index(axes),)  # an int, or a NumPy integer
    axes = tuple(axes)
    shifts = tuple(sign * (x.shape[a] // 2) for a in axes)
    return ns.roll(x, shift=shifts, axis=axes)


def fftshift(x, /, *, axes=None):
    """Move the zero-frequency term to the centre (a roll by ``n // 2`` along ``axes``)."""
    return _shift(x, axes, 1)


def ifftshift(x, /, *, axes=None):
    """Inverse of :func:`fftshift` (a roll by ``-(n // 2)``)."""
    return _shift(x, axes, -1)


for _fn, _op in ((fft, _ops.FFT_C2C), (ifft, _ops.FFT_C2C), (rfft, _ops.FFT_R2C),
                 (irfft, _ops.FFT_C2R)):
    _fn.op = _op
