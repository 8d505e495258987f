"""PyTorch's pointwise, reduction, comparison and special functions (``xgrad/_torch_math.py``,
``xgrad.special``): values, first- and second-order gradients and JVPs against PyTorch
(float64, computed here), on every device; gradcheck/gradgradcheck on small samples."""

import math

import numpy as np
import pytest

import xgrad
import xgrad.special

scipy_special = pytest.importorskip("scipy.special")
from xgrad.testing import gradcheck, gradgradcheck, to_numpy

torch = pytest.importorskip("torch")


def X(a, device, requires_grad=False, dtype=None):
    a = np.asarray(a)
    if dtype is None:
        dtype = xgrad.float64 if a.dtype.kind == "f" else None
    return xgrad.asarray(a, dtype=dtype, device=device, requires_grad=requires_grad)


def T(a, requires_grad=False):
    a = np.array(a, copy=True)
    t = torch.tensor(a, dtype=torch.float64 if a.dtype.kind == "f" else None)
    return t.requires_grad_(requires_grad)


def npy(v):
    if isinstance(v, torch.Tensor):
        return v.detach().numpy(force=True)
    return to_numpy(v) if isinstance(v, xgrad.Tensor) else np.asarray(v)


def close(got, want, rtol=1e-10, atol=1e-12):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        if hasattr(want, "_fields"):
            assert got._fields == want._fields
        for g, w in zip(got, want):
            close(g, w, rtol, atol)
        return
    g, w = npy(got), npy(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def first(out):
    return out[0] if isinstance(out, tuple) else out


def against_torch(fx, ft, arrays, device, *, diff=None, rtol=1e-10, atol=1e-12, second=True,
                  jvp=True):
    """Values, gradient (random cotangent), Hessian-vector product and JVP of ``fx`` on
    xgrad against ``ft`` on PyTorch. ``diff``: indices of the inputs to differentiate
    (default: every float input)."""
    if diff is None:
        diff = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    xs = [X(a, device, requires_grad=i in diff) for i, a in enumerate(arrays)]
    ts = [T(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    ox, ot = fx(*xs), ft(*ts)
    close(ox, ot, rtol, atol)
    if not diff:
        return
    ox, ot = first(ox), first(ot)
    if ox.requires_grad and not ot.requires_grad:  # PyTorch has no derivative: gradcheck below
        return
    if not ox.requires_grad:  # piecewise constant: PyTorch records a zero gradient
        if ot.requires_grad:
            (g,) = torch.autograd.grad(ot.sum(), [ts[i] for i in diff][:1])
            assert np.all(npy(g) == 0)
        return
    rng = np.random.default_rng(1)
    w = rng.standard_normal(tuple(ot.shape))
    gx = xgrad.autograd.grad(ox, [xs[i] for i in diff], X(w, device), create_graph=second,
                             allow_unused=True)
    gt = torch.autograd.grad(ot, [ts[i] for i in diff], T(w), create_graph=second,
                             allow_unused=True)
    for a, b in zip(gx, gt):
        if b is None:
            assert a is None or np.all(npy(a) == 0)
            continue
        close(a, b, rtol * 10, atol * 10)
    if second:
        vs = [rng.standard_normal(tuple(ts[i].shape)) for i in diff]
        sx = sum((g * X(v, device)).sum() for g, v in zip(gx, vs) if g is not None and g.requires_grad)
        st = sum((g * T(v)).sum() for g, v in zip(gt, vs) if g is not None and g.requires_grad)
        if isinstance(sx, xgrad.Tensor) and sx.requires_grad:
            hx = xgrad.autograd.grad(sx, [xs[i] for i in diff], allow_unused=True)
            ht = torch.autograd.grad(st, [ts[i] for i in diff], allow_unused=True)
            for a, b in zip(hx, ht):
                if b is None:
                    assert a is None or np.all(npy(a) == 0)
                else:
                    close(a, b, rtol * 100, atol * 100)
    if jvp:
        tangents = [rng.standard_normal(np.shape(arrays[i])) for i in diff]

        def fx_d(*d):
            args = list(xs)
            for i, v in zip(diff, d):
                args[i] = v
            return first(fx(*args))

        def ft_d(*d):
            args = list(ts)
            for i, v in zip(diff, d):
                args[i] = v
            return first(ft(*args))
        _, jx = xgrad.func.jvp(fx_d, [xs[i].detach() for i in diff], [X(t, device) for t in tangents])
        _, jt = torch.func.jvp(ft_d, tuple(ts[i].detach() for i in diff), tuple(T(t) for t in tangents))
        close(jx, jt, rtol * 10, atol * 10)


R = np.random.default_rng(0)
A = R.standard_normal((3, 4)) * 1.5
POS = R.uniform(0.2, 3.0, (3, 4))
UNIT = R.uniform(0.05, 0.95, (3, 4))
SIGNED = R.uniform(0.6, 4.0, (3, 4)) * np.where(R.random((3, 4)) < 0.5, -1, 1)

# name: (xgrad function, torch function, inputs)
UNARY = {
    "erf": (xgrad.erf, torch.erf, [A]),
    "erfc": (xgrad.erfc, torch.erfc, [A]),
    "erfinv": (xgrad.erfinv, torch.erfinv, [UNIT * 1.9 - 0.95]),
    "exp2": (xgrad.exp2, torch.exp2, [A]),
    "rsqrt": (xgrad.rsqrt, torch.rsqrt, [POS]),
    "logit": (xgrad.logit, torch.logit, [UNIT]),
    "logit_eps": (lambda x: xgrad.logit(x, eps=0.2), lambda x: torch.logit(x, eps=0.2), [UNIT]),
    "sinc": (xgrad.sinc, torch.sinc, [A]),
    "lgamma": (xgrad.lgamma, torch.lgamma, [SIGNED + 0.3], 1e-8),
    "digamma": (xgrad.digamma, torch.digamma, [SIGNED + 0.3], 1e-8),
    # PyTorch's trigamma is a short series, accurate to about 1e-9
    "polygamma1": (lambda x: xgrad.polygamma(1, x), lambda x: torch.polygamma(1, x), [POS], 1e-8),
    "polygamma3": (lambda x: xgrad.polygamma(3, x), lambda x: torch.polygamma(3, x), [POS + 0.5]),
    "mvlgamma": (lambda x: xgrad.mvlgamma(x, 3), lambda x: torch.mvlgamma(x, 3), [POS + 1.2], 1e-8),
    "i0": (xgrad.i0, torch.i0, [A * 3]),
    "frac": (xgrad.frac, torch.frac, [A * 3]),
    "deg2rad": (xgrad.deg2rad, torch.deg2rad, [A]),
    "rad2deg": (xgrad.rad2deg, torch.rad2deg, [A]),
    "clamp_min": (lambda x: xgrad.clamp_min(x, 0.1), lambda x: torch.clamp_min(x, 0.1), [A]),
    "clamp_max": (lambda x: xgrad.clamp_max(x, 0.1), lambda x: torch.clamp_max(x, 0.1), [A]),
    "float_power": (lambda x: xgrad.float_power(x, 3), lambda x: torch.float_power(x, 3), [A]),
    "sgn": (xgrad.sgn, torch.sgn, [A]),
    "angle": (xgrad.angle, torch.angle, [A]),
    "fix": (xgrad.fix, torch.fix, [A * 3]),
    "nan_to_num": (xgrad.nan_to_num, torch.nan_to_num, [np.array([np.nan, np.inf, -np.inf, -3.0, 0.5])]),
    "nan_to_num_args": (lambda x: xgrad.nan_to_num(x, 1.5, 9.0, -9.0),
                        lambda x: torch.nan_to_num(x, 1.5, 9.0, -9.0),
                        [np.array([np.nan, np.inf, -np.inf, -3.0, 0.5])]),
    "ldexp": (lambda x: xgrad.ldexp(x, X([1.0, -2.0, 3.0, 0.0], x.device)),
              lambda x: torch.ldexp(x, torch.tensor([1.0, -2.0, 3.0, 0.0], dtype=torch.float64)), [A]),
    # torch.special
    "erfcx": (xgrad.special.erfcx, torch.special.erfcx, [A * 3]),
    "expit": (xgrad.special.expit, torch.special.expit, [A * 3]),
    "ndtr": (xgrad.special.ndtr, torch.special.ndtr, [A * 3]),
    "ndtri": (xgrad.special.ndtri, torch.special.ndtri, [UNIT]),
    "log_ndtr": (xgrad.special.log_ndtr, torch.special.log_ndtr, [A * 5]),
    "i0e": (xgrad.special.i0e, torch.special.i0e, [A * 3]),
    "i1": (xgrad.special.i1, torch.special.i1, [np.append(A.ravel() * 3, 0.0)]),
    "i1e": (xgrad.special.i1e, torch.special.i1e, [np.append(A.ravel() * 3, 0.0)]),
    "entr": (xgrad.special.entr, torch.special.entr, [POS]),
    "gammaln": (xgrad.special.gammaln, torch.special.gammaln, [POS], 1e-8),
    "psi": (xgrad.special.psi, torch.special.psi, [POS], 1e-8),
    "multigammaln": (lambda x: xgrad.special.multigammaln(x, 2), lambda x: torch.special.multigammaln(x, 2),
                     [POS + 1], 1e-8),
    "spherical_bessel_j0": (xgrad.special.spherical_bessel_j0, torch.special.spherical_bessel_j0,
                            [A * 3]),
    "round_decimals": (lambda x: xgrad.special.round(x, decimals=2),
                       lambda x: torch.special.round(x, decimals=2), [A]),
    "special_logsumexp": (lambda x: xgrad.special.logsumexp(x, 1), lambda x: torch.special.logsumexp(x, 1), [A]),
    "special_softmax": (lambda x: xgrad.special.softmax(x, 0), lambda x: torch.special.softmax(x, 0), [A]),
}

BINARY = {
    "lerp": (xgrad.lerp, torch.lerp, [A, A[::-1] * 2, UNIT]),
    "lerp_scalar": (lambda a, b: xgrad.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), [A, A[::-1]]),
    "logaddexp": (xgrad.logaddexp, torch.logaddexp, [A, A[::-1] * 2]),
    "logaddexp2": (xgrad.logaddexp2, torch.logaddexp2, [A, A[::-1] * 2]),
    "xlogy": (xgrad.xlogy, torch.xlogy, [np.where(A > 1, 0.0, A), POS]),
    "xlog1py": (xgrad.special.xlog1py, torch.special.xlog1py, [np.where(A > 1, 0.0, A), POS]),
    "fmod": (xgrad.fmod, torch.fmod, [A * 4, SIGNED]),
    "remainder": (xgrad.remainder, torch.remainder, [A * 4, SIGNED]),
    "hypot": (xgrad.hypot, torch.hypot, [A, A[::-1]]),
    "fmax": (xgrad.fmax, torch.fmax, [np.where(A > 1, np.nan, A), np.where(A < -1, np.nan, A[::-1])]),
    "fmin": (xgrad.fmin, torch.fmin, [np.where(A > 1, np.nan, A), np.where(A < -1, np.nan, A[::-1])]),
    "fmax_ties": (xgrad.fmax, torch.fmax, [np.round(A), np.round(A[::-1])]),
    "maximum_ties": (xgrad.maximum, torch.maximum, [np.round(A), np.round(A[::-1])]),
    "float_power_t": (xgrad.float_power, torch.float_power, [POS, A]),
    "zeta": (xgrad.special.zeta, torch.special.zeta, [POS + 1.5, POS]),
    "dist": (xgrad.dist, torch.dist, [A, A[::-1]]),
    "dist_p3": (lambda a, b: xgrad.dist(a, b, 3), lambda a, b: torch.dist(a, b, 3), [A, A[::-1]]),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(device, name):
    fx, ft, arrays, *tol = UNARY[name]
    second = name not in ("nan_to_num", "nan_to_num_args")
    against_torch(fx, ft, arrays, device, second=second, rtol=tol[0] if tol else 1e-10)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_against_torch(device, name):
    fx, ft, arrays = BINARY[name]
    diff = [1] if name == "zeta" else None  # PyTorch differentiates zeta in q only
    # PyTorch has no forward AD for zeta, and its fmax/fmin JVP uses > where its VJP uses >=
    against_torch(fx, ft, arrays, device, diff=diff, jvp=name not in ("zeta", "fmax", "fmin", "fmax_ties"))


def test_tensor_methods(device):
    x, t = X(A, device), T(A)
    close(x.erf(), t.erf())
    close(x.exp2(), t.exp2())
    close(x.logsumexp(1), t.logsumexp(1))
    close(x.logsumexp(dim=(0, 1), keepdim=True), t.logsumexp(dim=(0, 1), keepdim=True))
    close(x.softmax(0), t.softmax(0))
    close(x.log_softmax(dim=-1), t.log_softmax(dim=-1))
    close(x.polygamma(2), t.polygamma(2))
    close(x.clamp_min(0.2), t.clamp_min(0.2))
    close(x.lerp(x * 2, 0.25), t.lerp(t * 2, 0.25))
    close(x.topk(2, dim=0), t.topk(2, dim=0))
    close(x.cummax(1), t.cummax(1))
    close(x.median(), t.median())
    close(x.nansum(0), t.nansum(0))
    close(x.quantile(0.4, dim=1, keepdim=True), t.quantile(0.4, dim=1, keepdim=True))
    close(x.aminmax(dim=1), t.aminmax(dim=1))
    close(x.frac(), t.frac())
    close(x.fmod(1.5), t.fmod(1.5))
    close(x.isclose(x + 1e-9), t.isclose(t + 1e-9))
    assert x.allclose(x + 1e-9) and not x.allclose(x + 1e-3)


# -- values over wide ranges -------------------------------------------------------------------------
WIDE = np.concatenate([np.linspace(-30, 30, 1201), np.geomspace(1e-300, 1e300, 300),
                       -np.geomspace(1e-300, 1e300, 300), [0.0, -0.0, np.inf, -np.inf, np.nan]])
PROB = np.concatenate([np.linspace(0, 1, 1001), np.geomspace(1e-300, 0.5, 300),
                       1 - np.geomspace(1e-16, 0.5, 200), [-0.5, 1.5, np.nan]])
GAMMA = np.concatenate([np.linspace(-20.05, 40, 1211), np.geomspace(1e-300, 1e300, 300),
                        np.arange(-5.0, 1.0)])
WIDE_CASES = {
    "erf": (xgrad.erf, torch.erf, WIDE),
    "erfc": (xgrad.erfc, torch.erfc, WIDE[np.abs(WIDE) < 26]),  # below: subnormal results
    "erfcx": (xgrad.special.erfcx, torch.special.erfcx, WIDE),
    "erfinv": (xgrad.erfinv, torch.erfinv, np.concatenate([PROB, -PROB])),
    "ndtri": (xgrad.special.ndtri, torch.special.ndtri, PROB),
    # PyTorch's ndtr flushes the far left tail to 0: SciPy is the reference there
    "ndtr": (xgrad.special.ndtr, lambda t: torch.from_numpy(scipy_special.ndtr(t.numpy())), WIDE),
    "log_ndtr": (xgrad.special.log_ndtr, torch.special.log_ndtr, WIDE),
    "lgamma": (xgrad.lgamma, torch.lgamma, GAMMA),
    "digamma": (xgrad.digamma, torch.digamma, GAMMA[GAMMA > -1]),
    "i0": (xgrad.i0, torch.i0, WIDE[np.abs(WIDE) < 700]),
    "i0e": (xgrad.special.i0e, torch.special.i0e, WIDE),
    "i1": (xgrad.special.i1, torch.special.i1, WIDE[np.abs(WIDE) < 700]),
    "i1e": (xgrad.special.i1e, torch.special.i1e, WIDE),
    "sinc": (xgrad.sinc, torch.sinc, WIDE[np.abs(WIDE) < 1e15]),
    "entr": (xgrad.special.entr, torch.special.entr, WIDE),
}


@pytest.mark.parametrize("name", sorted(WIDE_CASES))
def test_special_values_over_wide_ranges(device, name):
    fx, ft, x = WIDE_CASES[name]
    got = npy(fx(X(x, device)))
    want = npy(ft(T(x)))
    # lgamma/digamma near their zeros: absolute accuracy
    atol = 1e-13 if name in ("lgamma", "digamma") else 0
    np.testing.assert_allclose(got, want, rtol=2e-13, atol=atol, equal_nan=True)


def test_polygamma_and_zeta_ranges(device):
    x = np.concatenate([np.geomspace(1e-8, 1e8, 200), np.linspace(-2.9, 20, 233)])
    for n in (0, 1, 2, 5):  # SciPy: PyTorch's trigamma is accurate to 1e-9 only
        np.testing.assert_allclose(npy(xgrad.polygamma(n, X(x, device))),
                                   scipy_special.polygamma(n, x), rtol=1e-12, atol=1e-13)
    s = np.array([1.0, 1.5, 2.0, 3.0, 7.5, 0.5, 2.0, 3.0])
    q = np.array([1.0, 0.5, 1e-3, 40.0, 2.0, 1.0, 0.0, -0.5])
    np.testing.assert_allclose(npy(xgrad.special.zeta(X(s, device), X(q, device))),
                               npy(torch.special.zeta(T(s), T(q))), rtol=1e-12)


def test_special_float32(device):
    x = np.linspace(-5, 5, 101)
    for fx, ft in ((xgrad.erf, torch.erf), (xgrad.lgamma, torch.lgamma),
                   (xgrad.special.i0e, torch.special.i0e), (xgrad.erfinv, torch.erfinv)):
        xs = x / 5.01 if fx is xgrad.erfinv else x
        got = fx(X(xs, device, dtype=xgrad.float32))
        assert got.dtype == xgrad.float32
        np.testing.assert_allclose(npy(got), npy(ft(torch.tensor(xs, dtype=torch.float32))),
                                   rtol=2e-6, atol=2e-6)
    assert xgrad.erf(X(np.arange(3), device)).dtype == xgrad.get_default_dtype()


def test_gelu_second_derivative_at_zero(device):
    import xgrad.nn.functional as F
    x = X([0.0, 0.7, -1.3], device, requires_grad=True)
    t = T([0.0, 0.7, -1.3], requires_grad=True)
    (gx,) = xgrad.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.gelu(t).sum(), t, create_graph=True)
    close(gx, gt)
    close(xgrad.autograd.grad(gx.sum(), x)[0], torch.autograd.grad(gt.sum(), t)[0])


# -- gradcheck on small samples --------------------------------------------------------------------
SMALL = np.array([[0.3, -1.2, 2.1], [0.7, -0.4, 1.6]])
GRADCHECK = {
    "erf": (xgrad.erf, [SMALL]),
    "erfinv": (xgrad.erfinv, [SMALL / 2.5]),
    "erfcx": (xgrad.special.erfcx, [SMALL]),
    "ndtri": (xgrad.special.ndtri, [np.abs(SMALL) / 2.5]),
    "log_ndtr": (xgrad.special.log_ndtr, [SMALL * 3]),
    "lgamma": (xgrad.lgamma, [SMALL + 0.05]),
    "digamma": (xgrad.digamma, [np.abs(SMALL) + 0.2]),
    "polygamma2": (lambda x: xgrad.polygamma(2, x), [np.abs(SMALL) + 0.5]),
    "i0": (xgrad.i0, [SMALL]),
    "i1e": (xgrad.special.i1e, [SMALL]),
    "i0e": (xgrad.special.i0e, [SMALL]),
    "sinc": (xgrad.sinc, [SMALL]),
    "spherical_bessel_j0": (xgrad.special.spherical_bessel_j0, [SMALL * 2]),
    "xlogy": (xgrad.xlogy, [SMALL, np.abs(SMALL) + 0.1]),
    "zeta_q": (lambda q: xgrad.special.zeta(X([[2.5, 3.0, 4.0]], q.device), q), [np.abs(SMALL) + 0.3]),
    "logcumsumexp": (lambda x: xgrad.logcumsumexp(x, 1), [SMALL]),
    "cummin": (lambda x: xgrad.cummin(x, 1).values, [SMALL]),
    "topk": (lambda x: xgrad.topk(x, 2).values, [SMALL]),
    "median": (lambda x: xgrad.median(x, 0).values, [SMALL]),
    "quantile": (lambda x: xgrad.quantile(x, X([0.3, 0.8], x.device), dim=1), [SMALL]),
    "logsumexp": (lambda x: xgrad.logsumexp(x, 0), [SMALL]),
    "nanmean": (lambda x: xgrad.nanmean(x, 1), [SMALL]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(device, name):
    fn, arrays = GRADCHECK[name]
    inputs = tuple(X(a, device, requires_grad=True) for a in arrays)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# -- reductions, selections, scans ---------------------------------------------------------------------
B = np.round(R.standard_normal((4, 6)) * 2, 1)       # with ties
NAN = np.where(R.random((4, 6)) < 0.2, np.nan, R.standard_normal((4, 6)))
REDUCE = {
    "logsumexp": (lambda x: xgrad.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), A),
    "logsumexp_keep": (lambda x: xgrad.logsumexp(x, (0, 1), True), lambda x: torch.logsumexp(x, (0, 1), True), A),
    "softmax": (lambda x: xgrad.softmax(x, 0), lambda x: torch.softmax(x, 0), A),
    "log_softmax": (lambda x: xgrad.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1), A),
    "cummax": (lambda x: xgrad.cummax(x, 1), lambda x: torch.cummax(x, 1), B),
    "cummin": (lambda x: xgrad.cummin(x, 0), lambda x: torch.cummin(x, 0), B),
    "cummax_nan": (lambda x: xgrad.cummax(x, 1), lambda x: torch.cummax(x, 1), NAN),
    "logcumsumexp": (lambda x: xgrad.logcumsumexp(x, 1), lambda x: torch.logcumsumexp(x, 1), A),
    # PyTorch's forward-mode logcumsumexp loses the tangent at large magnitudes: no JVP there
    "logcumsumexp_big": (lambda x: xgrad.logcumsumexp(x, 1), lambda x: torch.logcumsumexp(x, 1), A * 30),
    "topk": (lambda x: xgrad.topk(x, 3), lambda x: torch.topk(x, 3), A),
    "topk_small": (lambda x: xgrad.topk(x, 2, dim=0, largest=False),
                   lambda x: torch.topk(x, 2, dim=0, largest=False), A),
    "kthvalue": (lambda x: xgrad.kthvalue(x, 2, 1, True), lambda x: torch.kthvalue(x, 2, 1, True), A),
    "median_all": (xgrad.median, torch.median, B),
    "median_dim": (lambda x: xgrad.median(x, 1), lambda x: torch.median(x, 1), A),
    "median_nan": (lambda x: xgrad.median(x, 1).values, lambda x: torch.median(x, 1).values, NAN),
    "nanmedian_all": (xgrad.nanmedian, torch.nanmedian, NAN),
    "nanmedian_dim": (lambda x: xgrad.nanmedian(x, 1, True), lambda x: torch.nanmedian(x, 1, True), NAN),
    "mode": (lambda x: xgrad.mode(x, 1), lambda x: torch.mode(x, 1), np.round(B / 2)),
    "nansum": (lambda x: xgrad.nansum(x, 1), lambda x: torch.nansum(x, 1), NAN),
    "nanmean": (lambda x: xgrad.nanmean(x, 0, True), lambda x: torch.nanmean(x, 0, True), NAN),
    "std_mean": (lambda x: xgrad.std_mean(x, 1), lambda x: torch.std_mean(x, 1), A),
    "var_mean": (lambda x: xgrad.var_mean(x, 0, correction=0, keepdim=True),
                 lambda x: torch.var_mean(x, 0, correction=0, keepdim=True), A),
    "std_mean_all": (xgrad.std_mean, torch.std_mean, A),
    "aminmax": (lambda x: xgrad.aminmax(x, dim=0), lambda x: torch.aminmax(x, dim=0), A),
    "quantile": (lambda x: xgrad.quantile(x, 0.3), lambda x: torch.quantile(x, 0.3), A),
    "quantile_dim": (lambda x: xgrad.quantile(x, xgrad.tensor([0.1, 0.5, 1.0], dtype=xgrad.float64, device=x.device), 1, True),
                     lambda x: torch.quantile(x, torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64), 1, True), A),
    "nanquantile": (lambda x: xgrad.nanquantile(x, 0.7, 1), lambda x: torch.nanquantile(x, 0.7, 1), NAN),
    "quantile_nan": (lambda x: xgrad.quantile(x, 0.7, 1), lambda x: torch.quantile(x, 0.7, 1), NAN),
    "msort": (xgrad.msort, torch.msort, A),
}


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reductions_against_torch(device, name):
    fx, ft, a = REDUCE[name]
    against_torch(fx, ft, [a], device, jvp="nan" not in name and "big" not in name)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolation(device, interpolation):
    q = [0.0, 0.25, 0.5, 0.6, 1.0]
    against_torch(lambda x: xgrad.quantile(x, X(q, x.device), dim=0, interpolation=interpolation),
                  lambda x: torch.quantile(x, torch.tensor(q, dtype=torch.float64), dim=0,
                                           interpolation=interpolation), [A], device, second=False)


def test_comparisons(device):
    a = np.array([1.0, np.nan, np.inf, -np.inf, 2.0, 1e-9])
    b = np.array([1.0 + 1e-7, np.nan, np.inf, np.inf, 2.1, 0.0])
    xa, xb, ta, tb = X(a, device), X(b, device), T(a), T(b)
    close(xgrad.isclose(xa, xb), torch.isclose(ta, tb))
    close(xgrad.isclose(xa, xb, equal_nan=True), torch.isclose(ta, tb, equal_nan=True))
    close(xgrad.isclose(xa, xb, rtol=0, atol=0.2), torch.isclose(ta, tb, rtol=0, atol=0.2))
    assert xgrad.allclose(xa, xa, equal_nan=True) and not xgrad.allclose(xa, xa)
    close(xgrad.isneginf(xa), torch.isneginf(ta))
    close(xgrad.isposinf(xa), torch.isposinf(ta))
    close(xgrad.isreal(xa), torch.isreal(ta))
    close(xgrad.isin(xa, xb), torch.isin(ta, tb))
    close(xgrad.isin(xa, xb, invert=True), torch.isin(ta, tb, invert=True))
    close(xgrad.isin(xa, 2.0), torch.isin(ta, 2.0))
    close(xgrad.heaviside(xa, X([0.5], device)), torch.heaviside(ta, T([0.5])))
    i = xgrad.tensor([1, 2, 3], device=device)
    close(xgrad.eq(i, 2), torch.eq(torch.tensor([1, 2, 3]), 2))
    close(xgrad.ge(i, 2), torch.ge(torch.tensor([1, 2, 3]), 2))
    close(xgrad.frexp(X(A * 100, device)), torch.frexp(T(A * 100)))


def test_errors(device):
    x = X(A, device)
    with pytest.raises(RuntimeError):
        xgrad.topk(x, 10)
    with pytest.raises(RuntimeError):
        xgrad.kthvalue(x, 0)
    with pytest.raises(IndexError):
        xgrad.softmax(x, 2)
    with pytest.raises(RuntimeError):
        xgrad.quantile(x, 1.5)
    with pytest.raises(RuntimeError):
        xgrad.polygamma(-1, x)
