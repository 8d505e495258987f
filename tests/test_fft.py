"""xgrad.fft: forward values against NumPy, gradients (first and second order)
against finite differences on every device. Complex inputs are built from two
real tensors (real and imaginary parts), and complex outputs are checked through
their real and imaginary parts, so finite differences see every direction."""

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close, gradcheck, gradgradcheck

from conftest import make

F = xgrad.fft
NORMS = ["backward", "ortho", "forward"]


def _cplx(a, b):
    return xgrad.astype(a, xgrad.complex128) + xgrad.astype(b, xgrad.complex128) * 1j


def _parts(z):
    return xgrad.real(z), xgrad.imag(z)


def _inputs(device, shape=(2, 5)):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    return a, b, make(a, device, requires_grad=True), make(b, device, requires_grad=True)


# -- forward values ---------------------------------------------------------------------------
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft", "ifft", "fftn", "ifftn", "hfft", "irfft", "irfftn"])
def test_complex_input_transforms_match_numpy(device, name, norm):
    a, b, x, y = _inputs(device)
    got = getattr(F, name)(_cplx(x, y), norm=norm)
    assert_close(got.detach(), getattr(np.fft, name)(a + 1j * b, norm=norm), atol=1e-10)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft", "rfft", "ihfft", "rfftn", "fftn"])
def test_real_input_transforms_match_numpy(device, name, norm):
    a, _, x, _ = _inputs(device)
    got = getattr(F, name)(x, norm=norm)
    assert got.dtype == xgrad.complex128
    assert_close(got.detach(), getattr(np.fft, name)(a, norm=norm), atol=1e-10)


def test_sizes_and_axes_match_numpy(device):
    a, b, x, y = _inputs(device, (3, 4))
    z, zn = _cplx(x, y), a + 1j * b
    for n in (2, 4, 7):
        assert_close(F.fft(z, n=n).detach(), np.fft.fft(zn, n=n), atol=1e-10)
        assert_close(F.ifft(z, n=n, axis=0).detach(), np.fft.ifft(zn, n=n, axis=0), atol=1e-10)
        assert_close(F.rfft(x, n=n, axis=-2).detach(), np.fft.rfft(a, n=n, axis=-2), atol=1e-10)
        assert_close(F.irfft(z, n=n).detach(), np.fft.irfft(zn, n=n), atol=1e-10)
        assert_close(F.hfft(z, n=n).detach(), np.fft.hfft(zn, n=n), atol=1e-10)
        assert_close(F.ihfft(x, n=n).detach(), np.fft.ihfft(a, n=n), atol=1e-10)
    assert_close(F.fftn(z, s=(2, 6)).detach(), np.fft.fftn(zn, s=(2, 6), axes=(0, 1)), atol=1e-10)
    assert_close(F.ifftn(z, axes=(0,)).detach(), np.fft.ifftn(zn, axes=(0,)), atol=1e-10)
    assert_close(F.rfftn(x, s=(5, 3)).detach(), np.fft.rfftn(a, s=(5, 3), axes=(0, 1)), atol=1e-10)
    assert_close(F.irfftn(z, s=(3, 5), axes=(1, 0)).detach(),
                 np.fft.irfftn(zn, s=(3, 5), axes=(1, 0)), atol=1e-10)


def test_frequencies_and_shifts(device):
    assert_close(F.fftfreq(5, d=0.5, device=device, dtype=xgrad.float64), np.fft.fftfreq(5, d=0.5))
    assert_close(F.fftfreq(6, device=device, dtype=xgrad.float64), np.fft.fftfreq(6))
    assert_close(F.rfftfreq(7, d=2.0, device=device, dtype=xgrad.float64),
                 np.fft.rfftfreq(7, d=2.0))
    f = F.fftfreq(4, device=device)
    assert f.dtype == xgrad.get_default_dtype() and f.device == device
    a, _, x, _ = _inputs(device, (3, 4))
    assert_close(F.fftshift(x).detach(), np.fft.fftshift(a))
    assert_close(F.ifftshift(x, axes=1).detach(), np.fft.ifftshift(a, axes=1))
    assert_close(F.ifftshift(F.fftshift(x)).detach(), a)


def test_errors(device):
    _, _, x, _ = _inputs(device)
    with pytest.raises(ValueError, match="norm"):
        F.fft(x, norm="sideways")
    with pytest.raises(TypeError, match="real"):
        F.rfft(_cplx(x, x))
    with pytest.raises(IndexError, match="axis"):
        F.fft(x, axis=2)
    with pytest.raises(ValueError, match="n=0"):
        F.fft(x, n=0)


def test_float32_stays_single_precision(device):
    x = make(np.arange(4.0), device, dtype=xgrad.float32)
    assert F.fft(x).dtype == xgrad.complex64
    assert F.irfft(F.rfft(x)).dtype == xgrad.float32


# -- gradients --------------------------------------------------------------------------------
GRAD_CASES = {
    "fft": lambda a, b: _parts(F.fft(_cplx(a, b))),
    "fft_pad_ortho": lambda a, b: _parts(F.fft(_cplx(a, b), n=7, norm="ortho")),
    "ifft_truncate_forward": lambda a, b: _parts(F.ifft(_cplx(a, b), n=3, norm="forward")),
    "fft_of_real_axis0": lambda a, b: _parts(F.fft(a, axis=0)),
    "rfft": lambda a, b: _parts(F.rfft(a)),
    "rfft_pad_ortho": lambda a, b: _parts(F.rfft(a, n=8, norm="ortho")),
    "rfft_truncate": lambda a, b: _parts(F.rfft(a, n=3)),
    "irfft": lambda a, b: F.irfft(_cplx(a, b)),
    "irfft_odd_ortho": lambda a, b: F.irfft(_cplx(a, b), n=9, norm="ortho"),
    "irfft_truncate_forward": lambda a, b: F.irfft(_cplx(a, b), n=4, norm="forward"),
    "irfft_n5": lambda a, b: F.irfft(_cplx(a, b), n=5),
    "hfft": lambda a, b: F.hfft(_cplx(a, b)),
    "ihfft": lambda a, b: _parts(F.ihfft(a)),
    "fftn": lambda a, b: _parts(F.fftn(_cplx(a, b), s=(3, 6))),
    "ifftn_ortho": lambda a, b: _parts(F.ifftn(_cplx(a, b), norm="ortho")),
    "rfftn": lambda a, b: _parts(F.rfftn(a)),
    "irfftn": lambda a, b: F.irfftn(_cplx(a, b), s=(2, 6)),
    "fftshift": lambda a, b: F.fftshift(a) * F.ifftshift(b, axes=-1),
    "power_spectrum": lambda a, b: xgrad.abs(F.rfft(a * b)) ** 2,
}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients(device, case):
    _, _, x, y = _inputs(device)
    assert gradcheck(GRAD_CASES[case], (x, y))
    assert gradgradcheck(GRAD_CASES[case], (x, y))


def test_fft_gradient_is_the_adjoint(device):
    """For y = fft(x) (no scaling) and loss sum(real(conj(c) y)), PyTorch's convention
    gives grad_x = F^H c = n * ifft(c)."""
    a, b, x, y = _inputs(device, (6,))
    c = make(np.arange(6.0) + 1j * np.ones(6), device)
    z = _cplx(x, y).detach().requires_grad_()
    loss = xgrad.sum(xgrad.real(xgrad.conj(c) * F.fft(z)))
    (g,) = xgrad.autograd.grad(loss, z)
    assert_close(g, 6 * np.fft.ifft(np.arange(6.0) + 1j * np.ones(6)), atol=1e-12)


def test_roundtrip_gradient_is_identity(device):
    """irfft(rfft(x)) = x, so the gradient of sum(c * irfft(rfft(x))) is c."""
    c_np = np.random.default_rng(3).standard_normal((2, 6))
    x = make(np.random.default_rng(4).standard_normal((2, 6)), device, requires_grad=True)
    out = xgrad.sum(make(c_np, device) * F.irfft(F.rfft(x), n=6))
    (g,) = xgrad.autograd.grad(out, x)
    assert_close(g, c_np, atol=1e-12)


@pytest.mark.parametrize("case", ["fft", "rfft_pad_ortho", "irfft_n5", "hfft", "rfftn", "irfftn"])
def test_forward_mode_matches_finite_differences(device, case):
    fn = GRAD_CASES[case]
    a, b, _, _ = _inputs(device)
    ta, tb = np.random.default_rng(5).standard_normal((2, 2, 5))
    _, tangents = xgrad.func.jvp(fn, (make(a, device), make(b, device)),
                                 (make(ta, device), make(tb, device)))
    eps = 1e-6
    plus = fn(make(a + eps * ta, device), make(b + eps * tb, device))
    minus = fn(make(a - eps * ta, device), make(b - eps * tb, device))
    plus, minus, tangents = (x if isinstance(x, tuple) else (x,) for x in (plus, minus, tangents))
    for p, m, t in zip(plus, minus, tangents):
        fd = (xgrad.testing.to_numpy(p) - xgrad.testing.to_numpy(m)) / (2 * eps)
        assert_close(t, fd, rtol=1e-5, atol=1e-7)


# -- property test: shapes, axes, sizes, norms ---------------------------------------------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       data=st.data(), name=st.sampled_from(["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]),
       norm=st.sampled_from(NORMS), seed=st.integers(0, 99))
def test_one_dimensional_transforms_over_shapes(device, shape, data, name, norm, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = data.draw(st.none() | st.integers(2, 6))
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    complex_input = name in ("fft", "ifft", "irfft", "hfft")
    x, y = make(a, device, requires_grad=True), make(b, device, requires_grad=True)
    if name in ("irfft", "hfft") and n is None and shape[axis] == 1:  # 2 * (1 - 1) points
        with pytest.raises(ValueError, match="points"):
            getattr(F, name)(_cplx(x, y), axis=axis)
        return
    expected = getattr(np.fft, name)(a + 1j * b if complex_input else a, n=n, axis=axis, norm=norm)

    def fn(u, v):
        out = getattr(F, name)(_cplx(u, v) if complex_input else u + 0 * v, n=n, axis=axis,
                               norm=norm)
        return _parts(out) if out.dtype.is_complex else out
    got = fn(x, y)
    got = got[0] + 1j * got[1] if isinstance(got, tuple) else got
    assert_close(got.detach(), expected, atol=1e-10)
    assert gradcheck(fn, (x, y))
