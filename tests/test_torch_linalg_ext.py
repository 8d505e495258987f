"""The PyTorch face's linear algebra and spectral functions beyond the standard's:
``linalg.pinv``/``matrix_rank`` with PyTorch's tolerances, norms of empty matrices,
``linalg.eig``/``eigvals``, ``stft``/``istft``. Values and gradients (first and second
order, forward mode where PyTorch has it) compared with PyTorch in float64, on every
device; devices whose backend lacks a function raise a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import xgrad
import xgrad.autograd.forward_ad as fwAD
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

from conftest import make

INF = float("inf")


def _rand(*shape, seed=0):
    return np.random.default_rng(100 + seed).standard_normal(shape)


def _t(a, requires_grad=False):
    return torch.tensor(a, dtype=torch.float64 if np.isrealobj(a) else torch.complex128,
                        requires_grad=requires_grad)


def _compare(fn_torch, fn_xgrad, arrays, device, *, grad=True, rtol=1e-7, atol=1e-9, seed=0):
    """Run ``fn`` in PyTorch and in xgrad on the same float64 inputs: the outputs (a tensor
    or a tuple) agree, and, with ``grad``, so do the gradients of a random projection of
    the real outputs (complex outputs projected through their real and imaginary parts)."""
    ts = [_t(a, requires_grad=grad) for a in arrays]
    xs = [make(a, device, dtype=xgrad.float64 if np.isrealobj(a) else xgrad.complex128,
               requires_grad=grad) for a in arrays]
    tout, xout = fn_torch(*ts), fn_xgrad(*xs)
    touts = tout if isinstance(tout, tuple) else (tout,)
    xouts = xout if isinstance(xout, tuple) else (xout,)
    assert len(touts) == len(xouts)
    for to, xo in zip(touts, xouts):
        assert tuple(xo.shape) == tuple(to.shape)
        assert_close(to_numpy(xo.detach()), to.detach().numpy(), rtol=rtol, atol=atol)
    if not grad:
        return
    rng = np.random.default_rng(seed)
    tloss, xloss = 0, 0
    for to, xo in zip(touts, xouts):
        if not to.requires_grad:
            assert not xo.requires_grad
            continue
        assert xo.requires_grad
        w = rng.standard_normal(tuple(to.shape))
        if to.is_complex():
            w2 = rng.standard_normal(tuple(to.shape))
            tloss = tloss + (to.real * _t(w)).sum() + (to.imag * _t(w2)).sum()
            xloss = xloss + (xo.real * make(w, device)).sum() + (xo.imag * make(w2, device)).sum()
        else:
            tloss = tloss + (to * _t(w)).sum()
            xloss = xloss + (xo * make(w, device)).sum()
    tg = torch.autograd.grad(tloss, ts)
    xg = xgrad.autograd.grad(xloss, xs)
    for a, b in zip(xg, tg):
        assert_close(to_numpy(a), b.resolve_conj().numpy(), rtol=1e-6, atol=1e-8)


def _jvp_compare(fn_torch, fn_xgrad, arrays, device, *, rtol=1e-6, atol=1e-8):
    """Forward mode: xgrad's JVP equals ``torch.func.jvp`` for random tangents."""
    rng = np.random.default_rng(7)
    tangents = [rng.standard_normal(np.shape(a)) for a in arrays]
    _, tt = torch.func.jvp(fn_torch, tuple(_t(a) for a in arrays), tuple(_t(t) for t in tangents))
    with fwAD.dual_level():
        args = [fwAD.make_dual(make(a, device, dtype=xgrad.float64),
                               make(t, device, dtype=xgrad.float64))
                for a, t in zip(arrays, tangents)]
        out = fn_xgrad(*args)
        outs = out if isinstance(out, tuple) else (out,)
        xt = [fwAD.unpack_dual(o).tangent for o in outs]
    tt = tt if isinstance(tt, tuple) else (tt,)
    for a, b in zip(xt, tt):
        assert_close(to_numpy(a), b.resolve_conj().numpy(), rtol=rtol, atol=atol)


# -- pinv and matrix_rank: PyTorch's atol / rtol / hermitian ------------------------------------
TOLS = [{}, {"atol": 0.5}, {"rtol": 0.3}, {"atol": 0.1, "rtol": 0.2}, {"atol": 0.0},
        {"hermitian": True}, {"hermitian": True, "atol": 0.3}, {"hermitian": True, "rtol": 0.4}]


TOL_CASES = [(shape, kw) for shape in [(3, 4), (4, 3), (2, 3, 3), (0, 3), (3, 0), (0, 0)]
             for kw in TOLS if not kw.get("hermitian") or shape[-1] == shape[-2]]


@pytest.mark.parametrize("shape,kw", TOL_CASES, ids=[f"{s}-{k}" for s, k in TOL_CASES])
def test_pinv_matrix_rank_tolerances(device, shape, kw):
    a = _rand(*shape)
    if len(shape) == 3:
        a[0] = a[0] @ np.diag([1.0, 0.4, 1e-9])  # a tiny singular value: dropped by default
    _compare(lambda x: torch.linalg.pinv(x, **kw), lambda x: xgrad.linalg.pinv(x, **kw), [a],
             device, grad=False)
    _compare(lambda x: torch.linalg.matrix_rank(x, **kw),
             lambda x: xgrad.linalg.matrix_rank(x, **kw), [a], device, grad=False)
    assert xgrad.linalg.matrix_rank(make(a, device), **kw).dtype == xgrad.int64


def test_tolerance_tensors_and_legacy_forms(device):
    a = _rand(2, 3, 3, seed=1)
    ta, xa = _t(a), make(a, device)
    tol_t, tol_x = _t(np.array([0.1, 5.0])), make(np.array([0.1, 5.0]), device)
    assert_close(to_numpy(xgrad.linalg.matrix_rank(xa, atol=tol_x)),
                 torch.linalg.matrix_rank(ta, atol=tol_t).numpy())
    assert_close(to_numpy(xgrad.linalg.pinv(xa, atol=tol_x, rtol=tol_x * 0.1)),
                 torch.linalg.pinv(ta, atol=tol_t, rtol=tol_t * 0.1).numpy())
    assert_close(to_numpy(xgrad.linalg.pinv(xa, rtol=tol_x)),
                 torch.linalg.pinv(ta, rtol=tol_t).numpy())
    # legacy: pinv(A, rcond, hermitian) and matrix_rank(A, tol, hermitian)
    for args in ((0.5,), (0.5, True)):
        assert_close(to_numpy(xgrad.linalg.pinv(xa, *args)), torch.linalg.pinv(ta, *args).numpy())
        assert_close(to_numpy(xgrad.linalg.matrix_rank(xa, *args)),
                     torch.linalg.matrix_rank(ta, *args).numpy())
    assert_close(to_numpy(xgrad.linalg.pinv(xa, rcond=0.5)), torch.linalg.pinv(ta, rcond=0.5).numpy())
    assert_close(to_numpy(xgrad.linalg.matrix_rank(xa, tol=0.5)),
                 torch.linalg.matrix_rank(ta, tol=0.5).numpy())
    with pytest.raises(RuntimeError, match="real"):
        xgrad.linalg.pinv(xa, atol=make(np.array(0.5 + 0j), device))


@pytest.mark.parametrize("kw", [{}, {"atol": 1e-3}, {"rtol": 1e-3}])
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 3)])
def test_pinv_gradients(device, shape, kw):
    a = _rand(*shape, seed=2)
    _compare(lambda x: torch.linalg.pinv(x, **kw), lambda x: xgrad.linalg.pinv(x, **kw), [a], device)
    x = make(a, device, dtype=xgrad.float64, requires_grad=True)
    assert gradcheck(lambda x: xgrad.linalg.pinv(x, **kw), (x,))
    assert gradgradcheck(lambda x: xgrad.linalg.pinv(x, **kw), (x,))
    _jvp_compare(lambda x: torch.linalg.pinv(x, **kw), lambda x: xgrad.linalg.pinv(x, **kw),
                 [a], device)


def test_pinv_hermitian_gradients(device):
    a = _rand(3, 3, seed=3)

    def tf(x):
        return torch.linalg.pinv(x + x.mT, hermitian=True, atol=1e-6)

    def xf(x):
        return xgrad.linalg.pinv(x + xgrad.matrix_transpose(x), hermitian=True, atol=1e-6)
    _compare(tf, xf, [a], device)
    x = make(a, device, dtype=xgrad.float64, requires_grad=True)
    assert gradcheck(xf, (x,))
    assert gradgradcheck(xf, (x,))
    _jvp_compare(tf, xf, [a], device)


# -- norms of empty matrices: PyTorch's values, and requires_grad as PyTorch's ------------------
ORDS = ["fro", "nuc", 2, -2, 1, -1, INF, -INF]


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3), (2, 3, 0), (0, 2, 2)])
@pytest.mark.parametrize("ord", ORDS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("fn", ["matrix_norm", "norm"])
def test_norm_of_empty_matrix(device, shape, ord, keepdim, fn):
    te = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    xe = xgrad.zeros(shape, dtype=xgrad.float64, device=device, requires_grad=True)
    args = (ord, (-2, -1), keepdim)
    try:
        expected = getattr(torch.linalg, fn)(te, *args)
    except Exception as exc:  # noqa: BLE001 (PyTorch's exception type is the expectation)
        with pytest.raises(type(exc)):
            getattr(xgrad.linalg, fn)(xe, *args)
        return
    got = getattr(xgrad.linalg, fn)(xe, *args)
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.requires_grad == expected.requires_grad
    assert_close(to_numpy(got.detach()), expected.detach().numpy())
    if expected.requires_grad:
        (tg,) = torch.autograd.grad(expected.sum(), te)
        (xg,) = xgrad.autograd.grad(got.sum(), xe)
        assert tuple(xg.shape) == tuple(tg.shape)


@pytest.mark.parametrize("case", [
    ((3, 0), INF, -1), ((0,), INF, None), ((0,), -INF, None), ((0, 3), 0, None),
    ((0, 3), INF, -1), ((2, 3, 3), 2, None), ((3,), "fro", None), ((0, 3), "fro", -1),
    ((2, 3, 3), None, (0, 1, 2)), ((3, 3), "nuc", None), ((0, 3), 0, (0, 1)),
])
def test_norm_checks_and_empty_vectors(device, case):
    shape, ord, dim = case
    a = _rand(*shape, seed=4)
    try:
        expected = torch.linalg.norm(_t(a), ord, dim)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            xgrad.linalg.norm(make(a, device), ord, dim)
        return
    assert_close(to_numpy(xgrad.linalg.norm(make(a, device), ord, dim)), expected.numpy())


# -- eig, eigvals: the backend's through its hook; PyTorch's gradient --------------------------
def _eig_loss_torch(A):
    L, V = torch.linalg.eig(A)
    return torch.cat([L.real * 1.3, L.imag * 0.7, (V.abs() ** 2).reshape(A.shape[:-2] + (-1,))], -1)


def _eig_loss_xgrad(A):
    L, V = xgrad.linalg.eig(A)
    return xgrad.concat([L.real * 1.3, L.imag * 0.7,
                         xgrad.reshape(xgrad.abs(V) ** 2, tuple(A.shape[:-2]) + (-1,))], axis=-1)


def _no_eig(device):
    """On a device whose library has no general eig (array-api-strict, CuPy): check the
    error names the device, and answer True."""
    if device.type == "cpu":
        return False
    with pytest.raises(NotImplementedError, match=repr(device.type)):
        xgrad.linalg.eig(make(np.eye(2), device))
    with pytest.raises(NotImplementedError, match=repr(device.type)):
        xgrad.linalg.eigvals(make(np.eye(2), device))
    return True


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (1, 1), (0, 0)])
@pytest.mark.parametrize("complex_input", [False, True])
def test_eig_values(device, shape, complex_input):
    if _no_eig(device):
        return
    a = _rand(*shape, seed=5) + (1j * _rand(*shape, seed=6) if complex_input else 0)
    _compare(lambda x: tuple(torch.linalg.eig(x)), lambda x: tuple(xgrad.linalg.eig(x)), [a],
             device, grad=False)
    _compare(torch.linalg.eigvals, xgrad.linalg.eigvals, [a], device, grad=False)
    w, v = xgrad.linalg.eig(make(a, device))
    assert w.dtype == v.dtype == xgrad.complex128
    assert isinstance(xgrad.linalg.eig(make(a, device)), xgrad.linalg.EigResult)
    assert xgrad.linalg.eig(make(np.eye(2), device, dtype=xgrad.float32))[0].dtype == xgrad.complex64


@pytest.mark.parametrize("complex_input", [False, True])
def test_eig_gradients_against_pytorch(device, complex_input):
    if _no_eig(device):
        return
    a = _rand(2, 4, 4, seed=7) + (1j * _rand(2, 4, 4, seed=8) if complex_input else 0)
    _compare(_eig_loss_torch, _eig_loss_xgrad, [a], device)
    _compare(lambda x: torch.linalg.eigvals(x), lambda x: xgrad.linalg.eigvals(x), [a], device)


def test_eig_second_order_and_forward_mode(device):
    if _no_eig(device):
        return
    a = _rand(4, 4, seed=9)
    x = make(a, device, dtype=xgrad.float64, requires_grad=True)
    assert gradcheck(_eig_loss_xgrad, (x,))
    assert gradgradcheck(_eig_loss_xgrad, (x,))
    _jvp_compare(_eig_loss_torch, _eig_loss_xgrad, [a], device)
    _jvp_compare(lambda x: torch.linalg.eigvals(x).imag, lambda x: xgrad.linalg.eigvals(x).imag,
                 [a], device)


def test_eig_gauge_dependent_loss_raises_as_pytorch(device):
    if _no_eig(device):
        return
    a = np.array([[0.1, -2.0, 0.3], [2.0, 0.2, -0.4], [0.5, 0.1, 1.0]])  # complex eigenvalues
    with pytest.raises(RuntimeError):
        torch.linalg.eig(_t(a, requires_grad=True))[1].real.sum().backward()
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        xgrad.linalg.eig(make(a, device, requires_grad=True))[1].real.sum().backward()


def test_eig_input_checks(device):
    with pytest.raises(RuntimeError):
        xgrad.linalg.eig(make(np.ones((2, 3)), device))
    with pytest.raises(RuntimeError, match="floating point or complex"):
        xgrad.linalg.eigvals(make(np.ones((2, 2), dtype=np.int64), device))


# -- stft / istft: composed from standard ops and the fft face ----------------------------------
STFT_CASES = [
    dict(n_fft=8), dict(n_fft=8, hop_length=3), dict(n_fft=16, hop_length=4, win_length=6),
    dict(n_fft=7, hop_length=2, win_length=5), dict(n_fft=8, hop_length=8),
    dict(n_fft=8, pad_mode="constant"), dict(n_fft=8, pad_mode="replicate"),
    dict(n_fft=8, pad_mode="circular", normalized=True), dict(n_fft=8, center=False),
    dict(n_fft=8, hop_length=3, win_length=4, center=False, align_to_window=True),
    dict(n_fft=8, onesided=False, normalized=True),
]


def _hann(n, T, device=None):
    w = torch.hann_window(n, dtype=torch.float64) + 0.1  # (no zeros: NOLA holds for every hop)
    return w if T is torch else make(w.numpy(), device)


@pytest.mark.parametrize("kw", STFT_CASES, ids=[str(k) for k in STFT_CASES])
@pytest.mark.parametrize("shape", [(37,), (2, 40)])
@pytest.mark.parametrize("windowed", [False, True])
def test_stft_values(device, kw, shape, windowed):
    a = _rand(*shape, seed=11)
    n = kw.get("win_length", kw["n_fft"])
    kw = dict(kw, return_complex=True)
    wt, wx = (_hann(n, torch), _hann(n, xgrad, device)) if windowed else (None, None)
    _compare(lambda x: torch.stft(x, window=wt, **kw), lambda x: xgrad.stft(x, window=wx, **kw),
             [a], device, grad=False)
    # the method, and istft back (not for align_to_window, which istft does not invert)
    assert_close(to_numpy(make(a, device).stft(window=wx, **kw)),
                 torch.stft(_t(a), window=wt, **kw).numpy())
    if kw.get("align_to_window"):
        return
    spec = torch.stft(_t(a), window=wt, **kw)
    ikw = {k: v for k, v in kw.items() if k not in ("pad_mode", "return_complex")}
    for length in (None, shape[-1], shape[-1] + 3):
        try:
            torch.istft(spec, window=wt, length=length, **ikw)
        except RuntimeError:  # PyTorch refuses (the window's squares overlap-add to 0): so do we
            with pytest.raises(RuntimeError, match="overlap add"):
                xgrad.istft(make(spec.numpy(), device), window=wx, length=length, **ikw)
            continue
        _compare(lambda s: torch.istft(s, window=wt, length=length, **ikw),
                 lambda s: xgrad.istft(s, window=wx, length=length, **ikw), [spec.numpy()],
                 device, grad=False)


def test_stft_complex_and_legacy_forms(device):
    a = _rand(30, seed=12) + 1j * _rand(30, seed=13)
    w = _hann(8, torch)
    _compare(lambda x: torch.stft(x, 8, window=w), lambda x: xgrad.stft(x, 8, window=make(w.numpy(), device)),
             [a], device, grad=False)
    spec = torch.stft(_t(a), 8, window=w, return_complex=True)
    _compare(lambda s: torch.istft(s, 8, window=w, return_complex=True),
             lambda s: xgrad.istft(s, 8, window=make(w.numpy(), device), return_complex=True),
             [spec.numpy()], device, grad=False)
    r = _rand(30, seed=14)
    with pytest.warns(UserWarning, match="deprecated"):
        legacy = xgrad.stft(make(r, device), 8, return_complex=False)
    with warnings.catch_warnings():  # (PyTorch warns once per process)
        warnings.simplefilter("ignore")
        expected = torch.stft(_t(r), 8, return_complex=False)
    assert_close(to_numpy(legacy), expected.numpy())


@pytest.mark.parametrize("call", [
    lambda T, x: T.stft(x, 8),                                   # return_complex required
    lambda T, x: T.stft(x, 64, return_complex=True),             # reflect pad >= length
    lambda T, x: T.stft(x, 8, win_length=9, return_complex=True),
    lambda T, x: T.stft(x, 8, hop_length=0, return_complex=True),
    lambda T, x: T.stft(x[None, None], 8, return_complex=True),  # 3-D input
    lambda T, x: T.stft(x * 1j, 8, onesided=True, return_complex=True),
    lambda T, x: T.stft(x, 8, align_to_window=True, return_complex=True),
    lambda T, x: T.istft(x, 8),                                  # real input
    lambda T, x: T.istft(T.stft(x, 8, return_complex=True)[:4], 8),
    lambda T, x: T.istft(T.stft(x, 8, return_complex=True), 8, return_complex=True),
    lambda T, x: T.istft(T.stft(x, 8, hop_length=8, return_complex=True), 8, hop_length=8,
                         window=T.hann_window(8, dtype=x.dtype)),  # NOLA fails
], ids=range(11))
def test_stft_errors_as_pytorch(device, call):
    a = _rand(30, seed=15)
    with pytest.raises(RuntimeError):
        call(torch, _t(a))
    with xgrad.default_device(device):
        with pytest.raises(RuntimeError):
            call(xgrad, make(a, device))


@pytest.mark.parametrize("kw", [dict(n_fft=8, hop_length=3), dict(n_fft=7, hop_length=2, win_length=5,
                                                                  normalized=True),
                                dict(n_fft=8, center=False, onesided=False)],
                         ids=["plain", "short_window", "twosided"])
def test_stft_istft_gradients(device, kw):
    a = _rand(2, 24, seed=16)
    n = kw.get("win_length", kw["n_fft"])
    w = _hann(n, torch).numpy()
    kw = dict(kw, return_complex=True)
    ikw = {k: v for k, v in kw.items() if k != "return_complex"}

    def t_stft(x, win):
        return torch.stft(x, window=win, **kw)

    def x_stft(x, win):
        return xgrad.stft(x, window=win, **kw)
    _compare(t_stft, x_stft, [a, w], device)  # gradients in the signal and the window
    spec = torch.stft(_t(a), window=_t(w), **kw).detach().numpy()
    _compare(lambda s, win: torch.istft(s, window=win, **ikw),
             lambda s, win: xgrad.istft(s, window=win, **ikw), [spec, w], device)

    def xf(x, win):  # a real function of the round trip, through both
        s = xgrad.stft(x, window=win, **kw)
        return xgrad.istft(s * s.abs(), window=win, **ikw)
    x = make(a[0, :14], device, dtype=xgrad.float64, requires_grad=True)  # (small: finite
    wx = make(w, device, dtype=xgrad.float64, requires_grad=True)         # differences)
    assert gradcheck(xf, (x, wx))
    assert gradgradcheck(xf, (x, wx))

    def tf(x, win):
        s = torch.stft(x, window=win, **kw)
        return torch.istft(s * s.abs(), window=win, **ikw)
    _compare(tf, xf, [a, w], device)
    _jvp_compare(tf, xf, [a, w], device)


# -- ldl_factor(_ex), ldl_solve: LAPACK's sytrf/hetrf and sytrs/hetrs, exactly ------------------
def _symmetric(n, *, batch=(), hermitian=False, complex_input=False, small_diagonal=False, seed=0):
    a = _rand(*batch, n, n, seed=seed)
    if complex_input:
        a = a + 1j * _rand(*batch, n, n, seed=seed + 1)
    a = a + (np.conj(np.swapaxes(a, -1, -2)) if hermitian else np.swapaxes(a, -1, -2))
    if small_diagonal:  # forces interchanges and 2x2 blocks
        a[..., np.arange(n), np.arange(n)] *= 0.01
    return a


def _no_ldl(device):
    """On the dask device (arrays never written in place): the clear error, and True."""
    if device.type != "dask":
        return False
    a = make(_symmetric(3), device)
    with pytest.raises(NotImplementedError, match="dask"):
        xgrad.linalg.ldl_factor(a)
    LD, piv = torch.linalg.ldl_factor(_t(_symmetric(3)))
    with pytest.raises(NotImplementedError, match="dask"):
        xgrad.linalg.ldl_solve(make(LD.numpy(), device), make(piv.numpy(), device), a)
    return True


LDL_CASES = [(n, b, h, c, s) for n in (1, 2, 5, 8) for b in ((), (3,)) for h, c in
             ((False, False), (False, True), (True, True), (True, False)) for s in (False, True)
             if not (n == 1 and s)]


@pytest.mark.parametrize("n,batch,hermitian,complex_input,small", LDL_CASES,
                         ids=[f"{n}-{b}-h{h}-c{c}-s{s}" for n, b, h, c, s in LDL_CASES])
def test_ldl_factor_and_solve_match_pytorch(device, n, batch, hermitian, complex_input, small):
    if _no_ldl(device):
        return
    a = _symmetric(n, batch=batch, hermitian=hermitian, complex_input=complex_input,
                   small_diagonal=small, seed=n)
    LD, piv = torch.linalg.ldl_factor(_t(a), hermitian=hermitian)
    xLD, xpiv = xgrad.linalg.ldl_factor(make(a, device), hermitian=hermitian)
    assert xpiv.dtype == xgrad.int32 and xLD.dtype == make(a, device).dtype
    assert (to_numpy(xpiv) == piv.numpy()).all()           # the same pivots, exactly
    assert_close(to_numpy(xLD), LD.numpy(), rtol=1e-10, atol=1e-12)
    LDe, pive, info = xgrad.linalg.ldl_factor_ex(make(a, device), hermitian=hermitian)
    assert (to_numpy(info) == 0).all() and info.dtype == xgrad.int32
    assert tuple(info.shape) == batch
    b = _rand(*batch, n, 2, seed=20) + (1j * _rand(*batch, n, 2, seed=21) if complex_input else 0)
    X = torch.linalg.ldl_solve(LD, piv, _t(b), hermitian=hermitian)
    xX = xgrad.linalg.ldl_solve(xLD, xpiv, make(b, device), hermitian=hermitian)
    assert_close(to_numpy(xX), X.numpy(), rtol=1e-9, atol=1e-11)


def test_ldl_large_and_broadcast(device):
    if _no_ldl(device):
        return
    a = _symmetric(70, small_diagonal=True, seed=30)       # LAPACK's blocked path in PyTorch
    LD, piv = torch.linalg.ldl_factor(_t(a))
    xLD, xpiv = xgrad.linalg.ldl_factor(make(a, device))
    assert (to_numpy(xpiv) == piv.numpy()).all()
    assert_close(to_numpy(xLD), LD.numpy(), rtol=1e-9, atol=1e-11)
    a = _symmetric(4, seed=31)
    LD, piv = torch.linalg.ldl_factor(_t(a))
    xLD, xpiv = xgrad.linalg.ldl_factor(make(a, device))
    b = _rand(2, 4, 3, seed=32)                               # a batch of B against one A
    assert_close(to_numpy(xgrad.linalg.ldl_solve(xLD, xpiv, make(b, device))),
                 torch.linalg.ldl_solve(LD, piv, _t(b)).numpy())
    empty = xgrad.linalg.ldl_factor(xgrad.zeros((2, 0, 0), dtype=xgrad.float64, device=device))
    assert tuple(empty.LD.shape) == (2, 0, 0) and tuple(empty.pivots.shape) == (2, 0)


def test_ldl_errors_as_pytorch(device):
    if _no_ldl(device):
        return
    a = np.zeros((3, 3))
    a[0, 0] = 1.0
    t_ex = torch.linalg.ldl_factor_ex(_t(a))
    x_ex = xgrad.linalg.ldl_factor_ex(make(a, device))
    assert int(to_numpy(x_ex.info)) == int(t_ex.info) == 2
    assert_close(to_numpy(x_ex.LD), t_ex.LD.numpy())
    assert (to_numpy(x_ex.pivots) == t_ex.pivots.numpy()).all()
    for fn in (lambda T, x: T.linalg.ldl_factor(x),
               lambda T, x: T.linalg.ldl_factor_ex(x, check_errors=True),
               lambda T, x: T.linalg.ldl_factor(x[:, :2]),
               lambda T, x: T.linalg.ldl_factor(x.to(T.int64))):
        with pytest.raises(RuntimeError):
            fn(torch, _t(a))
        with pytest.raises(RuntimeError):
            fn(xgrad, make(a, device))
    s = _symmetric(3, seed=33)
    LD, piv = torch.linalg.ldl_factor(_t(s))
    xLD, xpiv = xgrad.linalg.ldl_factor(make(s, device))
    with pytest.raises(IndexError):
        torch.linalg.ldl_solve(LD, piv, _t(np.ones(3)))
    with pytest.raises(IndexError):
        xgrad.linalg.ldl_solve(xLD, xpiv, make(np.ones(3), device))
    # not differentiable, as in PyTorch: backward through the results raises
    with pytest.raises(RuntimeError):
        torch.linalg.ldl_factor(_t(s, requires_grad=True)).LD.sum().backward()
    with pytest.raises(RuntimeError):
        xgrad.linalg.ldl_factor(make(s, device, requires_grad=True)).LD.sum().backward()


# -- torch.fft's hfftn / ihfftn / hfft2 / ihfft2 ----------------------------------------------
HFFT_CASES = [("hfftn", {}), ("hfftn", {"norm": "ortho"}), ("hfftn", {"s": (4, 6)}),
              ("hfftn", {"dim": (0,)}), ("hfftn", {"s": (3,), "dim": (-2,)}),
              ("hfft2", {"norm": "forward"}), ("ihfftn", {}), ("ihfftn", {"norm": "forward"}),
              ("ihfftn", {"s": (4, 6)}), ("ihfft2", {}), ("ihfft2", {"norm": "ortho"})]


@pytest.mark.parametrize("name,kw", HFFT_CASES, ids=[f"{n}-{k}" for n, k in HFFT_CASES])
def test_hermitian_nd_ffts(device, name, kw):
    inverse = name.startswith("i")
    a = _rand(3, 4, 5, seed=40)
    if not inverse:
        a = a + 1j * _rand(3, 4, 5, seed=41)
    _compare(lambda x: getattr(torch.fft, name)(x, **kw).resolve_conj(),
             lambda x: getattr(xgrad.fft, name)(x, **kw), [a], device)
    r = _rand(2, 3, 4, seed=42)

    def xf(x):
        return getattr(xgrad.fft, name)(x if inverse else x * (1 + 0.5j), **kw)
    x = make(r, device, dtype=xgrad.float64, requires_grad=True)
    if not inverse:
        assert gradcheck(xf, (x,))
        assert gradgradcheck(xf, (x,))
    else:
        assert gradcheck(lambda x: xf(x).real + xf(x).imag, (x,))
    _jvp_compare(lambda x: getattr(torch.fft, name)(x if inverse else x * (1 + 0.5j), **kw), xf,
                 [r], device)
