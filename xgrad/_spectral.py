"""PyTorch's ``torch.stft`` and ``torch.istft`` (the PyTorch face), composed.

Both are built from standard operations (slices, reshapes, concatenation, ``flip``)
and the FFTs of :mod:`xgrad.fft`, so they run on every device and are differentiable
(in the input and in the window; first and second order, forward mode) with no rule of
their own. The frames of a signal are cut without an index array: with ``r =
ceil(n_fft / hop)``, the ``k``-th ``hop``-long piece of every frame is one reshaped slice
of the signal; the overlap-add of :func:`istft` is the same construction transposed
(each piece shifted into place and summed).

PyTorch's semantics: ``center=True`` pads ``n_fft // 2`` samples on both sides with
``pad_mode`` (``'reflect'``, ``'constant'``, ``'replicate'``, ``'circular'``); a window
shorter than ``n_fft`` is zero-padded on both sides to ``n_fft``; the default window is
rectangular (ones); ``normalized`` scales by ``n_fft ** -0.5``; ``onesided`` (the
``n_fft // 2 + 1`` non-negative frequencies) is the default for real input and window;
``return_complex`` must be given for real input (``False``, deprecated in PyTorch,
gives the real view with a last dimension of 2). :func:`istft` divides the
overlap-added frames by the overlap-added squared window and raises, as PyTorch, where
that envelope is (nearly) zero.
"""

from __future__ import annotations

import warnings

from ._tensor import Tensor

__all__ = ["stft", "istft"]


def _ns():
    from . import array_api
    return array_api


def _window(window, win_length, n_fft, like, name):
    """The window as ``n_fft`` samples: ones by default, zero-padded on both sides (the
    left gets ``(n_fft - win_length) // 2``) when shorter than ``n_fft``."""
    ns = _ns()
    if window is None:
        real = like.real.dtype if like.dtype.is_complex else like.dtype
        window = ns.ones((win_length,), dtype=real, device=like.device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to win_length="
                           f"{win_length}, but got window with size {list(window.shape)}")
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    right = n_fft - win_length - left
    parts = [window]
    if left:
        parts.insert(0, ns.zeros((left,), dtype=window.dtype, device=window.device))
    if right:
        parts.append(ns.zeros((right,), dtype=window.dtype, device=window.device))
    return ns.concat(parts, axis=-1)


def _lengths(n_fft, hop_length, win_length, name):
    if not isinstance(n_fft, int) or n_fft <= 0:
        raise RuntimeError(f"{name}: expected 0 < n_fft, but got n_fft={n_fft}")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if hop <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win}")
    return hop, win


def _pad_signal(x, pad, mode):
    """``x`` padded by ``pad`` samples on both ends of its last axis, as ``F.pad`` does."""
    ns = _ns()
    if pad == 0:
        return x
    n = x.shape[-1]
    batch = tuple(x.shape[:-1])
    if mode == "constant":
        z = ns.zeros(batch + (pad,), dtype=x.dtype, device=x.device)
        return ns.concat([z, x, z], axis=-1)
    if mode == "reflect":
        if pad >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({pad}, {pad}) at dimension "
                               f"{x.ndim - 1} of input {list(x.shape)}")
        left = ns.flip(x[..., 1:pad + 1], axis=-1)
        right = ns.flip(x[..., n - pad - 1:n - 1], axis=-1)
    elif mode == "replicate":
        if n == 0:
            raise RuntimeError("stft: replicate padding of an empty signal")
        left = ns.broadcast_to(x[..., :1], batch + (pad,))
        right = ns.broadcast_to(x[..., n - 1:], batch + (pad,))
    elif mode == "circular":
        if pad > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        left, right = x[..., n - pad:], x[..., :pad]
    else:
        raise NotImplementedError(f"stft: pad_mode {mode!r} is not supported (PyTorch's: "
                                  "'constant', 'reflect', 'replicate', 'circular')")
    return ns.concat([left, x, right], axis=-1)


def _frames(x, n_fft, hop, n_frames):
    """``(..., L) -> (..., n_frames, n_fft)``: frame ``t`` is ``x[..., t*hop : t*hop+n_fft]``.
    Piece ``k`` (columns ``k*hop`` to ``(k+1)*hop``) of every frame is the slice
    ``x[..., k*hop : k*hop + n_frames*hop]`` reshaped to ``(n_frames, hop)``."""
    ns = _ns()
    r = -(-n_fft // hop)
    batch = tuple(x.shape[:-1])
    need = (r + n_frames - 1) * hop
    if x.shape[-1] < need:  # samples only the truncated last piece would see
        x = ns.concat([x, ns.zeros(batch + (need - x.shape[-1],), dtype=x.dtype,
                                   device=x.device)], axis=-1)
    pieces = [ns.reshape(x[..., k * hop:k * hop + n_frames * hop], batch + (n_frames, hop))
              for k in range(r)]
    out = pieces[0] if r == 1 else ns.concat(pieces, axis=-1)
    return out if r * hop == n_fft else out[..., :n_fft]


def _overlap_add(f, hop, out_len):
    """The transpose of :func:`_frames`: ``(..., n_frames, n_fft) -> (..., out_len)``, each
    frame added in at ``t * hop`` (``out_len = n_fft + hop * (n_frames - 1)``)."""
    ns = _ns()
    n_frames, n_fft = f.shape[-2], f.shape[-1]
    batch = tuple(f.shape[:-2])
    r = -(-n_fft // hop)
    if r * hop != n_fft:
        f = ns.concat([f, ns.zeros(batch + (n_frames, r * hop - n_fft), dtype=f.dtype,
                                   device=f.device)], axis=-1)
    total = None
    for k in range(r):
        piece = ns.reshape(f[..., k * hop:(k + 1) * hop], batch + (n_frames * hop,))
        parts = [piece]
        if k:
            parts.insert(0, ns.zeros(batch + (k * hop,), dtype=f.dtype, device=f.device))
        if r - 1 - k:
            parts.append(ns.zeros(batch + ((r - 1 - k) * hop,), dtype=f.dtype, device=f.device))
        piece = parts[0] if len(parts) == 1 else ns.concat(parts, axis=-1)
        total = piece if total is None else total + piece
    return total[..., :out_len]


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
         align_to_window=None):
    """Short-time Fourier transform, PyTorch's ``torch.stft``: a 1-D ``(L,)`` or 2-D
    ``(B, L)`` signal to ``(B?, N, T)`` complex coefficients, ``N = n_fft // 2 + 1``
    (onesided) or ``n_fft``, ``T`` frames every ``hop_length`` (default ``n_fft // 4``)
    samples. See the module docstring for the options; differentiable in ``input``
    and ``window``."""
    from . import fft as _fft
    ns = _ns()
    x = input if isinstance(input, Tensor) else ns.asarray(input)
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if x.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {x.ndim}D")
    hop, win_length = _lengths(n_fft, hop_length, win_length, "stft")
    complex_input = x.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None:
        if not complex_input:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch "
                      "release, stft will return complex tensors for all inputs, and "
                      "return_complex=False will raise an error.", UserWarning, stacklevel=2)
    if onesided is None:
        onesided = not complex_input
    elif onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if center:
        x = _pad_signal(x, n_fft // 2, pad_mode)
    length = x.shape[-1]
    win = _window(window, win_length, n_fft, x, "stft")
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    n_frames = 1 + (length - n_fft) // hop
    if align_to_window and win_length < n_fft:
        # frames aligned to the window: frame t's window covers x[t*hop : t*hop + win_length]
        n_frames = 1 + (length - win_length) // hop
        left = (n_fft - win_length) // 2
        x = ns.concat([ns.zeros(tuple(x.shape[:-1]) + (left,), dtype=x.dtype, device=x.device),
                       x], axis=-1)
    frames = _frames(x, n_fft, hop, n_frames) * win
    norm = "ortho" if normalized else "backward"
    spec = _fft.rfft(frames, dim=-1, norm=norm) if onesided else \
        _fft.fft(frames, dim=-1, norm=norm)
    spec = ns.matrix_transpose(spec)
    if return_complex:
        return spec
    return ns.stack([ns.real(spec), ns.imag(spec)], axis=-1)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """Inverse short-time Fourier transform, PyTorch's ``torch.istft``: complex
    ``(B?, N, T)`` coefficients (as :func:`stft` gives them) back to a signal, by
    overlap-adding the windowed inverse FFTs of the frames and dividing by the
    overlap-added squared window. ``length`` trims (or zero-pads) the result; a real
    output unless ``return_complex``. Differentiable in ``input`` and ``window``."""
    from . import fft as _fft
    ns = _ns()
    x = input
    if not x.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"values, but got {x.ndim}D")
    hop, win_length = _lengths(n_fft, hop_length, win_length, "istft")
    fft_size, n_frames = x.shape[-2], x.shape[-1]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided:
        if n_fft // 2 + 1 != fft_size:
            raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of "
                               f"the input tensor to match n_fft / 2 + 1 when onesided=True, "
                               f"but got {fft_size}")
    elif n_fft != fft_size:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {fft_size}")
    if n_frames == 0:
        raise RuntimeError("istft: input tensor cannot be empty")
    win = _window(window, win_length, n_fft, ns.real(x), "istft")
    x = ns.matrix_transpose(x)  # (..., n_frames, fft_size)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = _fft.ifft(x, n=n_fft, dim=-1, norm=norm)
    else:
        if win.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            x = x[..., :n_fft // 2 + 1]
        frames = _fft.irfft(x, n=n_fft, dim=-1, norm=norm)
    expected = n_fft + hop * (n_frames - 1)
    y = _overlap_add(frames * win, hop, expected)
    envelope = _overlap_add(ns.broadcast_to(win * win, (n_frames, n_fft)), hop, expected)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    y, envelope = y[..., start:min(end, expected)], envelope[start:min(end, expected)]
    if envelope.shape[0] and float(ns.min(ns.abs(envelope))) < 1e-11:
        raise RuntimeError("istft(...): window overlap add min: 1e-11 or less; the window's "
                           "squares do not overlap-add to nonzero values everywhere (NOLA)")
    y = y / envelope
    if end > expected:
        y = ns.concat([y, ns.zeros(tuple(y.shape[:-1]) + (end - expected,), dtype=y.dtype,
                                   device=y.device)], axis=-1)
    return y


def _stft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
                 pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
                 align_to_window=None):
    return stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                onesided, return_complex, align_to_window)


def _istft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
                  normalized=False, onesided=None, length=None, return_complex=False):
    return istft(self, n_fft, hop_length, win_length, window, center, normalized, onesided,
                 length, return_complex)


_stft_method.__doc__ = "``Tensor.stft``: see :func:`xgrad.stft`."
_istft_method.__doc__ = "``Tensor.istft``: see :func:`xgrad.istft`."
_stft_method.__name__ = "stft"
_istft_method.__name__ = "istft"
Tensor.stft = _stft_method
Tensor.istft = _istft_method
