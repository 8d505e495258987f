"""Gradients through array-API clients: SciPy and scikit-learn functions called on
xgrad tensors (they reach xgrad through ``__array_namespace__``), checked against
central finite differences in float64 (``xgrad.testing.gradcheck``).

SciPy and scikit-learn dispatch on the array API only with ``SCIPY_ARRAY_API=1``
set before SciPy is imported: tests/conftest.py sets it.
"""

import numpy as np
import pytest

import xgrad
from xgrad.testing import gradcheck

from conftest import make

scipy = pytest.importorskip("scipy")
special = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")
signal = pytest.importorskip("scipy.signal")
integrate = pytest.importorskip("scipy.integrate")
from scipy._lib import _array_api  # noqa: E402

if not _array_api.SCIPY_ARRAY_API:
    pytest.skip("SciPy was imported before SCIPY_ARRAY_API=1 was set (tests/conftest.py sets "
                "it; run this file in a fresh process)", allow_module_level=True)

RNG = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _on_device(on_device):
    """The device is the default device, as for a user working on it: clients create
    some arrays without ``device=`` (SciPy's cumulative_trapezoid's ``initial``)."""
    yield


def _t(values, device, requires_grad=True):
    return make(np.asarray(values, dtype=np.float64), device, dtype=xgrad.float64,
                requires_grad=requires_grad)


def _check(fn, device, *arrays):
    inputs = tuple(_t(a, device) for a in arrays)
    out = fn(*inputs)
    assert isinstance(out, xgrad.Tensor) and out.device == inputs[0].device
    assert out.requires_grad
    assert gradcheck(fn, inputs)
    return out


# -- SciPy ------------------------------------------------------------------------------
def test_scipy_logsumexp(device):
    x = RNG.normal(size=(3, 4))
    out = _check(lambda t: special.logsumexp(t, axis=1), device, x)
    np.testing.assert_allclose(out.detach().numpy(), special.logsumexp(x, axis=1), rtol=1e-12)
    _check(lambda t, b: special.logsumexp(t, b=b), device, x, RNG.uniform(0.5, 1.5, size=(3, 4)))


def test_scipy_softmax(device):
    x = RNG.normal(size=(3, 4))
    out = _check(lambda t: special.softmax(t, axis=1), device, x)
    np.testing.assert_allclose(out.detach().numpy(), special.softmax(x, axis=1), rtol=1e-12)


def test_scipy_zscore(device):
    x = RNG.normal(size=(5, 3))
    out = _check(lambda t: stats.zscore(t, axis=0, ddof=1), device, x)
    np.testing.assert_allclose(out.detach().numpy(), stats.zscore(x, axis=0, ddof=1), rtol=1e-12)


def test_scipy_moment(device):
    x = RNG.normal(size=(6, 2))
    out = _check(lambda t: stats.moment(t, order=3, axis=0), device, x)
    np.testing.assert_allclose(out.detach().numpy(), stats.moment(x, order=3, axis=0), rtol=1e-10)


def test_scipy_entropy_p_q(device):
    p, q = RNG.uniform(0.1, 1.0, size=5), RNG.uniform(0.1, 1.0, size=5)
    out = _check(lambda a, b: stats.entropy(a, b), device, p, q)
    np.testing.assert_allclose(float(out), stats.entropy(p, q), rtol=1e-12)


def test_scipy_fftconvolve(device):
    a, b = RNG.normal(size=7), RNG.normal(size=4)
    out = _check(lambda s, t: signal.fftconvolve(s, t), device, a, b)
    np.testing.assert_allclose(out.detach().numpy(), np.convolve(a, b), atol=1e-12)
    _check(lambda s, t: signal.fftconvolve(s, t, mode="same"), device,
           RNG.normal(size=(3, 5)), RNG.normal(size=(2, 2)))


def test_scipy_cumulative_trapezoid(device):
    y, x = RNG.normal(size=6), np.sort(RNG.uniform(0, 3, size=6))
    out = _check(lambda t: integrate.cumulative_trapezoid(t, dx=0.5, initial=0), device, y)
    np.testing.assert_allclose(out.detach().numpy(),
                               integrate.cumulative_trapezoid(y, dx=0.5, initial=0), rtol=1e-12)
    _check(lambda t, s: integrate.cumulative_trapezoid(t, x=s), device, y, x)  # w.r.t. x too


# -- scikit-learn ------------------------------------------------------------------------
sklearn = pytest.importorskip("sklearn")


@pytest.fixture
def dispatch():
    with sklearn.config_context(array_api_dispatch=True):
        yield


X = RNG.normal(size=(12, 3))
Y = RNG.normal(size=12)
LABELS = np.array([0, 1, 2] * 4)


def test_sklearn_ridge_svd_coef_wrt_y(device, dispatch):
    from sklearn.linear_model import Ridge
    Xt = _t(X, device, requires_grad=False)
    coef = _check(lambda y: Ridge(alpha=0.5, solver="svd").fit(Xt, y).coef_, device, Y)
    np.testing.assert_allclose(coef.detach().numpy(),
                               Ridge(alpha=0.5, solver="svd").fit(X, Y).coef_, rtol=1e-10)


def test_sklearn_pca_explained_variance_wrt_x(device, dispatch):
    from sklearn.decomposition import PCA
    fit = lambda Xt: PCA(n_components=2, svd_solver="full").fit(Xt).explained_variance_
    ev = _check(fit, device, X)
    np.testing.assert_allclose(ev.detach().numpy(), PCA(n_components=2, svd_solver="full")
                               .fit(X).explained_variance_, rtol=1e-10)


def test_sklearn_lda_predict_proba(device, dispatch):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
    labels = xgrad.asarray(LABELS, device=device)
    Xt = _t(X, device, requires_grad=False)
    # w.r.t. the points predicted
    proba = _check(lambda Z: LDA(solver="svd").fit(Xt, labels).predict_proba(Z), device, X[:4])
    np.testing.assert_allclose(proba.detach().numpy(),
                               LDA(solver="svd").fit(X, LABELS).predict_proba(X[:4]), rtol=1e-8)
    # w.r.t. the training data, through fit
    Z = _t(X[:3], device, requires_grad=False)
    _check(lambda Xf: LDA(solver="svd").fit(Xf, labels).predict_proba(Z), device, X)


def test_sklearn_rbf_kernel(device, dispatch):
    from sklearn.metrics.pairwise import rbf_kernel
    K = _check(lambda A, B: rbf_kernel(A, B, gamma=0.3), device, X[:5], X[5:9])
    np.testing.assert_allclose(K.detach().numpy(), rbf_kernel(X[:5], X[5:9], gamma=0.3), rtol=1e-12)
