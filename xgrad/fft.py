"""``xgrad.fft``: PyTorch's ``torch.fft``, differentiable (the PyTorch face).

PyTorch's signatures: ``fft(input, n=None, dim=-1, norm=None)``,
``fftn(input, s=None, dim=None, norm=None)``, ``fft2``/``ifft2``/``rfft2``/``irfft2``
(``dim=(-2, -1)``), ``hfftn``/``ihfftn``/``hfft2``/``ihfft2`` (composed from ``irfftn``
and ``rfftn`` as PyTorch defines them), ``fftfreq(n, d=1.0, *, dtype, device, requires_grad)``,
``fftshift(input, dim=None)``; ``norm=None`` is ``"backward"``. The standard's
keywords (``axis=``, ``axes=``) are accepted too. The transforms are those of
:mod:`xgrad.array_api.fft` (the standard's face), which apply the 1-D ops of
:mod:`xgrad.ops.fft` axis by axis; complex gradients follow PyTorch's
convention (the conjugate Wirtinger derivative).
"""

from __future__ import annotations

from .array_api import fft as _std

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
           "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]


def _norm(norm):
    return "backward" if norm is None else norm


def _one(std_fn, doc):
    def fn(input, n=None, dim=-1, norm=None, *, axis=None, out=None):
        if out is not None:
            raise NotImplementedError(f"xgrad.fft.{std_fn.__name__}: out= is not supported")
        return std_fn(input, n=n, axis=dim if axis is None else axis, norm=_norm(norm))
    fn.__name__ = fn.__qualname__ = std_fn.__name__
    fn.__doc__ = doc + ("\n\n``torch.fft`` signature ``(input, n=None, dim=-1, norm=None)``; "
                        "``norm`` is ``'backward'`` (None), ``'ortho'`` or ``'forward'``.")
    fn.op = getattr(std_fn, "op", None)
    return fn


def _many(std_fn, doc, default_dim=None):
    def fn(input, s=None, dim=default_dim, norm=None, *, axes=None, out=None):
        if out is not None:
            raise NotImplementedError(f"xgrad.fft.{name}: out= is not supported")
        dims = dim if axes is None else axes
        if isinstance(dims, int):
            dims = (dims,)
        return std_fn(input, s=None if s is None else tuple(s),
                      axes=None if dims is None else tuple(dims), norm=_norm(norm))
    name = std_fn.__name__ if default_dim is None else std_fn.__name__[:-1] + "2"
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + (f"\n\n``torch.fft`` signature ``(input, s=None, dim={default_dim!r}, "
                        "norm=None)``.")
    return fn


fft = _one(_std.fft, "Discrete Fourier transform along ``dim`` (``n``: pad with zeros or truncate).")
ifft = _one(_std.ifft, "Inverse discrete Fourier transform along ``dim``.")
rfft = _one(_std.rfft, "DFT of a real input: the ``n // 2 + 1`` non-negative frequency terms.")
irfft = _one(_std.irfft, "Inverse of :func:`rfft`: a real output of length ``n`` "
                         "(default ``2 * (m - 1)``).")
hfft = _one(_std.hfft, "DFT of a Hermitian-symmetric signal given by its first half "
                       "(a real output).")
ihfft = _one(_std.ihfft, "Inverse of :func:`hfft`.")
fftn = _many(_std.fftn, "n-dimensional DFT over ``dim`` (all axes by default), sizes ``s``.")
ifftn = _many(_std.ifftn, "n-dimensional inverse DFT over ``dim`` (all axes by default).")
rfftn = _many(_std.rfftn, "n-dimensional DFT of a real input.")
irfftn = _many(_std.irfftn, "Inverse of :func:`rfftn`.")
fft2 = _many(_std.fftn, "2-D DFT over ``dim`` (the last two axes by default).", (-2, -1))
ifft2 = _many(_std.ifftn, "2-D inverse DFT over ``dim`` (the last two axes by default).", (-2, -1))
rfft2 = _many(_std.rfftn, "2-D DFT of a real input over ``dim`` (the last two axes).", (-2, -1))
irfft2 = _many(_std.irfftn, "Inverse of :func:`rfft2`.", (-2, -1))


_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _hermitian_many(name, default_dim, inverse):
    """``hfftn``/``ihfftn`` (``hfft2``/``ihfft2`` with ``dim=(-2, -1)``), PyTorch's: the
    n-dimensional transforms of a signal Hermitian-symmetric in its last ``dim`` (given
    by its first half). As in PyTorch, ``hfftn(x) = irfftn(conj(x))`` and
    ``ihfftn(x) = conj(rfftn(x))`` with the normalization's direction swapped."""
    def fn(input, s=None, dim=default_dim, norm=None, *, out=None):
        if out is not None:
            raise NotImplementedError(f"xgrad.fft.{name}: out= is not supported")
        from . import array_api as ns
        dims = (dim,) if isinstance(dim, int) else dim
        if dims is None:
            dims = tuple(range(-(len(s) if s is not None else input.ndim), 0))
        dims = tuple(dims)
        if s is not None and len(s) != len(dims):
            raise RuntimeError(f"fft.{name}: When given, dim and shape arguments must have "
                               "the same length")
        swapped = _SWAP.get(_norm(norm), _norm(norm))  # (an invalid one: the standard's error)
        if inverse:
            if input.dtype.is_complex:
                raise RuntimeError(f"fft.{name}: expects a real-valued input tensor, but got "
                                   f"{input.dtype}")
            return ns.conj(_std.rfftn(input, s=None if s is None else tuple(s), axes=dims,
                                      norm=swapped))
        x = input if input.dtype.is_complex else ns.astype(
            input, ns.complex128 if input.dtype == ns.float64 else ns.complex64)
        return _std.irfftn(ns.conj(x), s=None if s is None else tuple(s), axes=dims,
                           norm=swapped)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (("Inverse of :func:`hfftn`: the first half of the Hermitian-symmetric "
                   "spectrum of a real input" if inverse else
                   "DFT of a Hermitian-symmetric signal given by its first half along the "
                   "last of ``dim`` (a real output; ``s[-1]`` defaults to ``2 * (m - 1)``)")
                  + f".\n\n``torch.fft`` signature ``(input, s=None, dim={default_dim!r}, "
                  "norm=None)``; see :func:`_hermitian_many`.")
    return fn


hfftn = _hermitian_many("hfftn", None, False)
ihfftn = _hermitian_many("ihfftn", None, True)
hfft2 = _hermitian_many("hfft2", (-2, -1), False)
ihfft2 = _hermitian_many("ihfft2", (-2, -1), True)


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, out=None):
    """Sample frequencies of an ``n``-point DFT: ``[0, 1, ..., -(n//2), ..., -1] / (d n)``."""
    if out is not None:
        raise NotImplementedError("xgrad.fft.fftfreq: out= is not supported")
    t = _std.fftfreq(n, d=d, dtype=dtype, device=device)
    return t.requires_grad_(True) if requires_grad else t


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, out=None):
    """Sample frequencies of :func:`rfft`: ``[0, 1, ..., n//2] / (d n)``."""
    if out is not None:
        raise NotImplementedError("xgrad.fft.rfftfreq: out= is not supported")
    t = _std.rfftfreq(n, d=d, dtype=dtype, device=device)
    return t.requires_grad_(True) if requires_grad else t


def fftshift(input, dim=None, *, axes=None):
    """Move the zero-frequency term to the centre (a roll by ``n // 2`` along ``dim``)."""
    return _std.fftshift(input, axes=dim if axes is None else axes)


def ifftshift(input, dim=None, *, axes=None):
    """Inverse of :func:`fftshift` (a roll by ``-(n // 2)``)."""
    return _std.ifftshift(input, axes=dim if axes is None else axes)
