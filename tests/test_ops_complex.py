"""Complex dtypes: forward values against NumPy, and gradients in PyTorch's
convention (conjugate Wirtinger), checked against finite differences in the
real and imaginary parts: ``z = a + 1j*b`` for real leaves ``a``, ``b``."""

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

RNG = np.random.default_rng(3)

HOLOMORPHIC = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "log2": np.log2,
    "log10": np.log10, "sqrt": np.sqrt, "square": np.square, "reciprocal": np.reciprocal,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "negative": np.negative, "positive": np.positive,
    "conj": np.conj,
}
TO_REAL = {"abs": np.abs, "real": np.real, "imag": np.imag}


def _parts(device, shape=(3,)):
    a = xgrad.asarray(RNG.uniform(0.3, 0.8, shape), dtype=xgrad.float64, device=device,
                      requires_grad=True)
    b = xgrad.asarray(RNG.uniform(0.2, 0.6, shape), dtype=xgrad.float64, device=device,
                      requires_grad=True)
    return a, b


def _split(fn):
    """``fn`` of complex ``z`` as a real function of (re z, im z) with real outputs."""
    def real_function(a, b):
        w = fn(a + b * 1j)
        if not w.dtype.is_complex:
            return w
        return xgrad.stack([xgrad.real(w), xgrad.imag(w)])
    return real_function


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC) + sorted(TO_REAL))
def test_complex_unary(name, device):
    fn = getattr(xgrad, name)
    ref = {**HOLOMORPHIC, **TO_REAL}[name]
    a, b = _parts(device)
    z = to_numpy(a) + 1j * to_numpy(b)
    out = fn(xgrad.asarray(z, device=device))
    assert_close(out, ref(z), rtol=1e-12)
    gradcheck(_split(fn), (a, b))
    gradgradcheck(_split(fn), _parts(device, (2,)))


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "pow"])
def test_complex_binary(name, device):
    fn = getattr(xgrad, name)
    a, b = _parts(device)
    c, d = _parts(device)
    z, w = to_numpy(a) + 1j * to_numpy(b), to_numpy(c) + 1j * to_numpy(d)
    assert_close(fn(xgrad.asarray(z, device=device), xgrad.asarray(w, device=device)),
                 getattr(np, {"pow": "power"}.get(name, name))(z, w), rtol=1e-12)
    f = lambda a, b, c, d: _split(lambda z: fn(z, c + d * 1j))(a, b)  # noqa: E731
    gradcheck(f, (a, b, c, d))
    gradgradcheck(f, _parts(device, (2,)) + _parts(device, (2,)))


def test_complex_reductions_and_mixing_with_real(device):
    a, b = _parts(device, (2, 2))
    r = xgrad.asarray(RNG.normal(size=(2,)), dtype=xgrad.float64, device=device, requires_grad=True)

    def f(a, b, r):
        z = (a + b * 1j) * r
        return xgrad.stack([xgrad.real(xgrad.sum(z)), xgrad.imag(xgrad.prod(z, axis=0)[0]),
                            xgrad.abs(xgrad.mean(z))])
    gradcheck(f, (a, b, r))


def test_pytorch_convention(device):
    z = xgrad.asarray([1 + 2j, -0.5 + 0.25j], dtype=xgrad.complex128, device=device,
                      requires_grad=True)
    (xgrad.abs(z) ** 2).sum().backward()  # PyTorch: grad of |z|^2 is 2z
    assert_close(z.grad, 2 * to_numpy(z.detach()))
    z.grad = None
    w = np.array([2 - 1j, 0.5j])
    xgrad.real(z * xgrad.asarray(w, device=device)).sum().backward()  # grad of Re(z w) is conj(w)
    assert_close(z.grad, np.conj(w))
    z.grad = None
    xgrad.imag(z).sum().backward()
    assert_close(z.grad, [1j, 1j])


def test_real_gradients_stay_real(device):
    x = xgrad.asarray([0.5, 1.5], dtype=xgrad.float64, device=device, requires_grad=True)
    y = xgrad.real(xgrad.exp(x * 1j)).sum()
    y.backward()
    assert x.grad.dtype == xgrad.float64
    assert_close(x.grad, -np.sin([0.5, 1.5]))
