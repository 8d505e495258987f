"""Rules for the array API ``fft`` extension: three 1-D primitives.

Every transform of :mod:`xgrad.fft` is built from these, one axis at a time:

* ``fft_c2c``: ``fft`` / ``ifft`` of a complex input,
* ``fft_r2c``: ``rfft`` of a real input (the non-negative frequencies),
* ``fft_c2r``: ``irfft`` to a real output.

All three are linear (so their JVP is the op itself, ``jvp=LINEAR``), and their VJP is
the adjoint map (PyTorch's convention for
complex gradients: ``grad_x = A^H grad_y``). The adjoint of the DFT with
normalisation ``norm`` is the inverse DFT with the *dual* normalisation
(``"backward"`` <-> ``"forward"``, ``"ortho"`` stays): ``F^H`` is ``n * ifft``.
An ``n`` that pads or truncates the input is the map ``P`` (zero padding or
truncation); its adjoint truncates or pads back (:func:`fit`).
"""

from __future__ import annotations

from ._registry import LINEAR, defop

DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def fit(xp, x, n, axis):
    """``x`` with axis ``axis`` (>= 0) truncated or zero-padded to length ``n``."""
    m = x.shape[axis]
    if m == n:
        return x
    if m > n:
        return x[(slice(None),) * axis + (slice(0, n), ...)]
    shape = tuple(x.shape[:axis]) + (n - m,) + tuple(x.shape[axis + 1:])
    return xp.concat([x, xp.zeros(shape, dtype=x.dtype, device=x.device)], axis=axis)


def _fftmod(xp, name):
    fn = getattr(getattr(xp, "fft", None), name, None)
    if fn is None:
        raise NotImplementedError(f"the array backend {getattr(xp, '__name__', xp)!r} has no "
                                  f"fft.{name}, which xgrad.fft needs")
    return fn


# -- complex to complex -----------------------------------------------------------------
def _c2c_forward(xp, x, *, n, axis, norm="backward", inverse=False):
    return _fftmod(xp, "ifft" if inverse else "fft")(x, n=n, axis=axis, norm=norm)


def _c2c_vjp(xp, g, out, x, *, n, axis, norm="backward", inverse=False):
    """Adjoint of (i)fft: the opposite transform with the dual norm, then P^T."""
    back = xp.fft.fft if inverse else xp.fft.ifft
    return fit(xp, back(g, axis=axis, norm=DUAL[norm]), x.shape[axis], axis)


FFT_C2C = defop("fft_c2c", _c2c_forward, (_c2c_vjp,), saves=(), jvp=LINEAR,
                grad_name="FftC2CBackward0")


# -- real to complex (rfft) -------------------------------------------------------------
def _r2c_forward(xp, x, *, n, axis, norm="backward"):
    return _fftmod(xp, "rfft")(x, n=n, axis=axis, norm=norm)


def _r2c_vjp(xp, g, out, x, *, n, axis, norm="backward"):
    """rfft = (first n//2+1 outputs of) fft of the real input: the adjoint pads g with
    zeros to length n, applies ifft with the dual norm, and keeps the real part."""
    full = xp.fft.ifft(fit(xp, g, n, axis), axis=axis, norm=DUAL[norm])
    return fit(xp, xp.real(full), x.shape[axis], axis)


FFT_R2C = defop("fft_r2c", _r2c_forward, (_r2c_vjp,), saves=(), jvp=LINEAR,
                grad_name="FftR2CBackward0")


# -- complex to real (irfft) ----------------------------------------------------------------
def _c2r_forward(xp, x, *, n, axis, norm="backward"):
    return _fftmod(xp, "irfft")(x, n=n, axis=axis, norm=norm)


def _c2r_vjp(xp, g, out, x, *, n, axis, norm="backward"):
    """irfft extends its input by Hermitian symmetry, then inverts the DFT. The adjoint
    (PyTorch's fft_c2r_backward): rfft of g with the dual norm, with entries
    1 .. n - (n//2 + 1) doubled (their mirror images were folded onto them), then
    padded or truncated back to the input's length."""
    gx = xp.fft.rfft(g, axis=axis, norm=DUAL[norm])
    half = gx.shape[axis]
    doubled = n - half
    if doubled > 0:
        k = xp.arange(half, device=g.device)
        w = 1.0 + xp.astype((k >= 1) & (k <= doubled), g.dtype)
        w = xp.reshape(w, (half,) + (1,) * (g.ndim - axis - 1))
        gx = gx * w
    return fit(xp, gx, x.shape[axis], axis)


FFT_C2R = defop("fft_c2r", _c2r_forward, (_c2r_vjp,), saves=(), jvp=LINEAR,
                grad_name="FftC2RBackward0")
