"""The standard's core linear algebra (matmul, matrix_transpose, tensordot,
vecdot): values against NumPy and gradients to second order, also for empty
and broadcast operands."""

import numpy as np
import pytest

import xgrad
from xgrad import array_api as xp
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

RNG = np.random.default_rng(5)


def _t(shape, device):
    return xgrad.asarray(RNG.normal(size=shape), dtype=xgrad.float64, device=device,
                         requires_grad=True)


CASES = [
    ("matmul", (2, 3), (3, 2), xgrad.matmul, np.matmul),
    ("matmul_batched", (2, 1, 2, 3), (3, 3, 2), xgrad.matmul, np.matmul),
    ("matmul_vec", (3,), (2, 3, 2), xgrad.matmul, np.matmul),
    ("matmul_vec_vec", (3,), (3,), xgrad.matmul, np.matmul),
    ("tensordot", (2, 3, 2), (3, 2, 2), xp.tensordot, lambda a, b: np.tensordot(a, b, 2)),
    ("tensordot_axes", (2, 3), (3, 2),
     lambda a, b: xp.tensordot(a, b, axes=([1, 0], [0, 1])), lambda a, b: np.tensordot(a, b, ([1, 0], [0, 1]))),
    ("tensordot_0", (2,), (3,), lambda a, b: xp.tensordot(a, b, axes=0), lambda a, b: np.tensordot(a, b, 0)),
    ("tensordot_empty", (0, 2), (2, 0), lambda a, b: xp.tensordot(a, b, axes=1),
     lambda a, b: np.tensordot(a, b, 1)),
    ("tensordot_empty_contraction", (0, 0), (0, 0), xp.tensordot, lambda a, b: np.tensordot(a, b, 2)),
    ("vecdot", (2, 3), (3,), xgrad.vecdot, lambda a, b: (a * b).sum(-1)),
    ("vecdot_axis", (3, 2), (3, 1), lambda a, b: xgrad.vecdot(a, b, axis=0), lambda a, b: (a * b).sum(0)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_linear_algebra(case, device):
    _, sa, sb, fn, ref = case
    a, b = _t(sa, device), _t(sb, device)
    assert_close(fn(a.detach(), b.detach()), ref(to_numpy(a), to_numpy(b)), rtol=1e-12, atol=1e-12)
    gradcheck(fn, (a, b))
    gradgradcheck(fn, (a, b))


def test_matrix_transpose(device):
    x = _t((2, 3, 2), device)
    assert_close(xgrad.matrix_transpose(x.detach()), np.swapaxes(to_numpy(x), -1, -2))
    gradcheck(xgrad.matrix_transpose, (x,))
    gradgradcheck(lambda t: xgrad.matrix_transpose(t * t), (x,))
    with pytest.raises(ValueError):
        xgrad.matrix_transpose(_t((3,), device))


def test_complex_vecdot_conjugates_first_argument(device):
    a = xgrad.asarray([1 + 1j, 2 - 1j], dtype=xgrad.complex128, device=device)
    b = xgrad.asarray([0.5j, 3 + 0j], dtype=xgrad.complex128, device=device)
    assert_close(xgrad.vecdot(a, b), np.vdot(to_numpy(a), to_numpy(b)))


def test_inplace_matmul(device):
    a = xgrad.asarray([[1.0, 2.0], [3.0, 4.0]], dtype=xgrad.float64, device=device)
    b = xgrad.asarray([[0.0, 1.0], [2.0, 0.0]], dtype=xgrad.float64, device=device)
    a @= b
    assert_close(a, np.array([[4.0, 1.0], [8.0, 3.0]]))
    leaf = xgrad.asarray([[1.0, 2.0], [3.0, 4.0]], dtype=xgrad.float64, device=device,
                         requires_grad=True)
    c = leaf * 1
    c @= b
    c.sum().backward()
    assert_close(leaf.grad, np.array([[1.0, 2.0], [1.0, 2.0]]))
