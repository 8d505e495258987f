"""xgrad.linalg: forward values against NumPy, gradients (first and second order)
against finite differences, on every device; degenerate cases; PyTorch aliases."""

import math

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close, gradcheck, gradgradcheck

from conftest import make

LA = xgrad.array_api.linalg  # the standard's linalg (PyTorch's, xgrad.linalg, is TL)
TL = xgrad.linalg
RNG_SEED = 1234


def _randn(*shape, seed=0):
    return np.random.default_rng(RNG_SEED + seed).standard_normal(shape)


def _well_conditioned(*shape, seed=0):
    """Random square matrices shifted towards the identity (|det| well away from 0)."""
    a = _randn(*shape, seed=seed)
    return a + 2.0 * np.eye(shape[-1])


def _mT(x):
    return xgrad.matrix_transpose(x)


def _sym(x):
    """A symmetric function of x (eigh/cholesky read only one triangle)."""
    return x + _mT(x)


def _spd(x):
    n = x.shape[-1]
    return xgrad.matmul(x, _mT(x)) + n * xgrad.eye(n, dtype=x.dtype, device=x.device)


def _dask_refuses(device, refused, name, thunk):
    """On the dask device, where ``name`` is in ``refused`` (a function, batch or mode
    Dask's linalg lacks: see xgrad.backends._dask.LIMITS), check that ``thunk`` raises
    DaskUnsupported naming Dask, and answer True; False otherwise."""
    if device.type != "dask" or name not in refused:
        return False
    from xgrad.backends._dask import DaskUnsupported
    with pytest.raises(DaskUnsupported, match="Dask"):
        thunk()
    return True


def _check(fn, value, device):
    x = make(value, device, dtype=xgrad.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


# -- gradients: one table, checked to second order on every device ----------------------
GRAD_CASES = {
    "inv": (lambda x: LA.inv(x), _well_conditioned(2, 3, 3)),
    "det": (lambda x: LA.det(x), _well_conditioned(2, 3, 3)),
    "det_2x2": (lambda x: LA.det(x), _randn(2, 2)),
    "slogdet": (lambda x: LA.slogdet(x).logabsdet, _randn(2, 3, 3)),
    "cholesky": (lambda x: LA.cholesky(_spd(x)), _randn(2, 3, 3)),
    "cholesky_upper": (lambda x: LA.cholesky(_spd(x), upper=True), _randn(3, 3)),
    "eigvalsh": (lambda x: LA.eigvalsh(_sym(x)), _randn(2, 3, 3)),
    "eigh_values": (lambda x: LA.eigh(_sym(x)).eigenvalues, _randn(2, 3, 3)),
    "eigh_abs_vectors": (lambda x: xgrad.abs(LA.eigh(_sym(x)).eigenvectors), _randn(2, 3, 3)),
    "eigh_reconstruct": (lambda x: _eigh_apply(_sym(x), xgrad.exp), _randn(3, 3, seed=1)),
    "svdvals": (lambda x: LA.svdvals(x), _randn(2, 3, 2)),
    "svd_square": (lambda x: _svd_parts(LA.svd(x)), _randn(3, 3)),
    "svd_tall": (lambda x: _svd_parts(LA.svd(x, full_matrices=False)), _randn(2, 3, 2)),
    "svd_wide": (lambda x: _svd_parts(LA.svd(x, full_matrices=False)), _randn(2, 3, seed=2)),
    "svd_full_tall": (lambda x: _svd_reconstruct(LA.svd(x)), _randn(3, 2, seed=3)),
    "svd_full_wide": (lambda x: _svd_reconstruct(LA.svd(x)), _randn(2, 3, seed=4)),
    "qr_square": (lambda x: tuple(LA.qr(x)), _randn(2, 3, 3)),
    "qr_complete_square": (lambda x: tuple(LA.qr(x, mode="complete")), _randn(3, 3, seed=5)),
    "qr_tall": (lambda x: tuple(LA.qr(x)), _randn(2, 3, 2)),
    "qr_wide": (lambda x: tuple(LA.qr(x)), _randn(2, 3, seed=6)),
    "qr_wide_complete": (lambda x: tuple(LA.qr(x, mode="complete")), _randn(2, 3, seed=7)),
    "pinv_tall": (lambda x: LA.pinv(x), _randn(2, 3, 2)),
    "pinv_wide": (lambda x: LA.pinv(x), _randn(2, 3)),
    "pinv_square": (lambda x: LA.pinv(x), _well_conditioned(3, 3)),
    "diagonal": (lambda x: LA.diagonal(x), _randn(2, 3, 3)),
    "diagonal_above": (lambda x: LA.diagonal(x, offset=1), _randn(2, 3)),
    "diagonal_below": (lambda x: LA.diagonal(x, offset=-1), _randn(3, 2)),
    "diagonal_empty": (lambda x: LA.diagonal(x, offset=5) + 0 * xgrad.sum(x), _randn(2, 3)),
    "trace": (lambda x: LA.trace(x), _randn(2, 3, 3)),
    "trace_offset": (lambda x: LA.trace(x, offset=-1), _randn(3, 2)),
    "matrix_power_3": (lambda x: LA.matrix_power(x, 3), _randn(2, 2, 2)),
    "matrix_power_-2": (lambda x: LA.matrix_power(x, -2), _well_conditioned(2, 2)),
    "matrix_norm_fro": (lambda x: LA.matrix_norm(x), _randn(2, 2, 3)),
    "matrix_norm_nuc": (lambda x: LA.matrix_norm(x, ord="nuc"), _randn(2, 3, 2)),
    "matrix_norm_2": (lambda x: LA.matrix_norm(x, ord=2, keepdims=True), _randn(3, 2)),
    "matrix_norm_-2": (lambda x: LA.matrix_norm(x, ord=-2), _randn(2, 2)),
    "matrix_norm_1": (lambda x: LA.matrix_norm(x, ord=1), _randn(2, 3, 3)),
    "matrix_norm_inf": (lambda x: LA.matrix_norm(x, ord=math.inf), _randn(2, 3)),
    "vector_norm": (lambda x: LA.vector_norm(x, axis=-1, ord=3), _randn(2, 3)),
}


def _eigh_apply(a, f):
    """V diag(f(w)) V^T: a matrix function, independent of the eigenvector gauge."""
    w, v = LA.eigh(a)
    return xgrad.matmul(v * xgrad.expand_dims(f(w), axis=-2), _mT(v))


def _svd_parts(res):
    """Gauge-invariant functions of every output of svd: S, |U|, |Vh|, U diag(S^2) Vh."""
    u, s, vh = res
    prod = xgrad.matmul(u * xgrad.expand_dims(s * s, axis=-2), vh)
    return s, xgrad.abs(u), xgrad.abs(vh), prod


def _svd_reconstruct(res):
    u, s, vh = res
    k = s.shape[-1]
    return xgrad.matmul(u[..., :k] * xgrad.expand_dims(s, axis=-2), vh[..., :k, :])


# on dask: no det/slogdet/eigh/eigvalsh/pinv, no batches, no complete QR or full SVD
DASK_REFUSES_GRAD = {"cholesky", "det", "det_2x2", "eigh_abs_vectors", "eigh_reconstruct",
                     "eigh_values", "eigvalsh", "inv", "matrix_norm_nuc", "pinv_square",
                     "pinv_tall", "pinv_wide", "qr_complete_square", "qr_square", "qr_tall",
                     "qr_wide_complete", "slogdet", "svd_full_tall", "svd_full_wide",
                     "svd_square", "svd_tall", "svdvals"}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients(device, case):
    fn, value = GRAD_CASES[case]
    if _dask_refuses(device, DASK_REFUSES_GRAD, case, lambda: fn(make(value, device))):
        return
    _check(fn, value, device)


def test_solve_gradients_broadcast_batch(device):
    a = make(_well_conditioned(2, 3, 3), device, requires_grad=True)
    b = make(_randn(3, 2, seed=1), device, requires_grad=True)
    if _dask_refuses(device, {"solve"}, "solve", lambda: LA.solve(a, b)):
        return  # a batch of matrices: Dask's linalg takes one 2-D matrix
    assert gradcheck(LA.solve, (a, b))
    assert gradgradcheck(LA.solve, (a, b))


def test_solve_gradients_vector_rhs(device):
    a = make(_well_conditioned(3, 3), device, requires_grad=True)
    b = make(_randn(3, seed=2), device, requires_grad=True)
    assert gradcheck(LA.solve, (a, b))
    assert gradgradcheck(LA.solve, (a, b))


def test_cross_gradients_broadcast(device):
    a = make(_randn(2, 3), device, requires_grad=True)
    b = make(_randn(3, seed=1), device, requires_grad=True)
    assert gradcheck(LA.cross, (a, b))
    assert gradgradcheck(LA.cross, (a, b))
    c = make(_randn(3, 2, seed=2), device, requires_grad=True)
    fn = lambda x, y: LA.cross(x, y, axis=0)  # noqa: E731
    assert gradcheck(fn, (c, make(_randn(3, 2, seed=3), device, requires_grad=True)))


@pytest.mark.parametrize("name", ["matmul", "vecdot", "tensordot", "outer"])
def test_products_gradients(device, name):
    a = make(_randn(2, 3), device, requires_grad=True)
    b = make(_randn(3, 2, seed=1), device, requires_grad=True)
    fn = {"matmul": LA.matmul, "tensordot": lambda x, y: LA.tensordot(x, y, axes=1),
          "vecdot": lambda x, y: LA.vecdot(x, _mT(y)),
          "outer": lambda x, y: LA.outer(x[0], y[:, 1])}[name]
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


# -- forward values against NumPy --------------------------------------------------------
@pytest.mark.not_on("dask", reason="Dask's linalg has no det, slogdet, eigh, eigvalsh or pinv, "
                    "and no batches of matrices")
def test_forward_values(device):
    a_np = _well_conditioned(2, 3, 3)
    s_np = a_np + np.swapaxes(a_np, -1, -2)
    p_np = a_np @ np.swapaxes(a_np, -1, -2) + 3 * np.eye(3)
    a, s, p = (make(v, device) for v in (a_np, s_np, p_np))
    assert_close(LA.inv(a), np.linalg.inv(a_np))
    assert_close(LA.det(a), np.linalg.det(a_np))
    sign, logabs = LA.slogdet(a)
    assert_close(sign, np.linalg.slogdet(a_np)[0])
    assert_close(logabs, np.linalg.slogdet(a_np)[1])
    assert_close(LA.cholesky(p), np.linalg.cholesky(p_np))
    assert_close(LA.cholesky(p, upper=True), np.swapaxes(np.linalg.cholesky(p_np), -1, -2))
    assert_close(LA.eigvalsh(s), np.linalg.eigvalsh(s_np))
    assert_close(LA.eigh(s).eigenvalues, np.linalg.eigvalsh(s_np))
    assert_close(LA.svdvals(a), np.linalg.svd(a_np, compute_uv=False))
    assert_close(LA.pinv(a), np.linalg.pinv(a_np))
    assert_close(LA.matrix_power(a, 3), np.linalg.matrix_power(a_np, 3))
    assert_close(LA.matrix_power(a, -2), np.linalg.matrix_power(a_np, -2))
    assert_close(LA.matrix_power(a, 0), np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert_close(LA.matrix_power(a, 1), a_np)
    assert_close(LA.diagonal(a, offset=1), np.diagonal(a_np, offset=1, axis1=-2, axis2=-1))
    assert_close(LA.trace(a, offset=-1), np.trace(a_np, offset=-1, axis1=-2, axis2=-1))
    b_np = _randn(3, 2, seed=9)
    assert_close(LA.solve(a, make(b_np, device)), np.linalg.solve(a_np, b_np))
    assert_close(LA.solve(a, make(b_np[:, 0], device)), np.linalg.solve(a_np, b_np[:, :1])[..., 0])
    u_np, v_np = _randn(2, 3, seed=3), _randn(3, seed=4)
    assert_close(LA.cross(make(u_np, device), make(v_np, device)), np.cross(u_np, v_np))
    assert_close(LA.outer(make(v_np, device), make(u_np[0], device)), np.outer(v_np, u_np[0]))


@pytest.mark.not_on("dask", reason="Dask's linalg has no eigh, no batches of matrices, no "
                    "complete QR or full SVD")
def test_decompositions_reconstruct(device):
    """eigh, svd and qr factors multiply back to the input and have the right shapes."""
    a_np = _randn(2, 3, 3, seed=5)
    s_np = a_np + np.swapaxes(a_np, -1, -2)
    w, v = LA.eigh(make(s_np, device))
    assert_close(xgrad.matmul(v * xgrad.expand_dims(w, axis=-2), _mT(v)), s_np, atol=1e-10)
    assert_close(xgrad.matmul(_mT(v), v), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-10)
    for shape in [(3, 2), (2, 3), (2, 3, 3)]:
        x_np = _randn(*shape, seed=6)
        x = make(x_np, device)
        k = min(shape[-2:])
        u, s, vh = LA.svd(x)
        assert u.shape[-2:] == (shape[-2], shape[-2]) and vh.shape[-2:] == (shape[-1], shape[-1])
        assert_close(s, np.linalg.svd(x_np, compute_uv=False))
        assert_close(_svd_reconstruct((u, s, vh)), x_np, atol=1e-10)
        u, s, vh = LA.svd(x, full_matrices=False)
        assert u.shape[-1] == k and vh.shape[-2] == k
        q, r = LA.qr(x)
        assert_close(xgrad.matmul(q, r), x_np, atol=1e-10)
        assert_close(r, np.triu(xgrad.testing.to_numpy(r)))
        q, r = LA.qr(x, mode="complete")
        assert q.shape[-2:] == (shape[-2], shape[-2])
        assert_close(xgrad.matmul(q, r), x_np, atol=1e-10)


@pytest.mark.not_on("dask", reason="ord='nuc', 2, -2 need svdvals of a batch of matrices: Dask's "
                    "linalg takes one 2-D matrix")
def test_matrix_norms_match_numpy(device):
    a_np = _randn(2, 3, 4, seed=7)
    a = make(a_np, device)
    for ord in ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]:
        expected = np.linalg.norm(a_np, ord=ord, axis=(-2, -1))
        assert_close(LA.matrix_norm(a, ord=ord), expected, msg=str(ord))
        assert_close(LA.matrix_norm(a, ord=ord, keepdims=True), expected[:, None, None])
    with pytest.raises(ValueError, match="invalid ord"):
        LA.matrix_norm(a, ord=3)


@pytest.mark.not_on("dask", reason="Dask's linalg has no pinv and no batches of matrices")
def test_matrix_rank_has_no_gradient(device):
    a = make(np.array([[1.0, 2.0], [2.0, 4.0]]), device, requires_grad=True)
    r = LA.matrix_rank(a)
    assert int(r) == 1 and not r.requires_grad
    assert int(LA.matrix_rank(make(np.eye(3), device))) == 3
    assert int(LA.matrix_rank(make(np.diag([1.0, 1e-3]), device), rtol=1e-2)) == 1
    batch = make(np.stack([np.diag([1.0, 1e-3])] * 2), device)
    rtol = make(np.array([1e-2, 1e-4]), device, requires_grad=True)
    assert LA.matrix_rank(batch, rtol=rtol).tolist() == [1, 2]
    assert_close(LA.pinv(batch, rtol=rtol).detach(), [np.diag([1.0, 0.0]), np.diag([1.0, 1e3])])


@pytest.mark.not_on("dask", reason="Dask's linalg has no eigh or slogdet, and no full SVD")
def test_result_types(device):
    a = make(_randn(2, 2), device)
    s = a + _mT(a)
    assert isinstance(LA.eigh(s), LA.EighResult)
    assert LA.eigh(s).eigenvectors.shape == (2, 2)
    assert isinstance(LA.svd(a), LA.SVDResult) and LA.svd(a).Vh.shape == (2, 2)
    assert isinstance(LA.qr(a), LA.QRResult) and LA.qr(a).R.shape == (2, 2)
    assert isinstance(LA.slogdet(a), LA.SlogdetResult)


def test_shape_errors(device):
    a = make(_randn(2, 3), device)
    for fn in (LA.inv, LA.det, LA.eigh, LA.cholesky, LA.slogdet, LA.eigvalsh):
        with pytest.raises(ValueError, match="square"):
            fn(a)
    with pytest.raises(ValueError, match="size 3"):
        LA.cross(a[:, :2], a[:, :2])
    with pytest.raises(ValueError, match="mode"):
        LA.qr(a, mode="r")


# -- degenerate points ---------------------------------------------------------------------
@pytest.mark.not_on("dask", reason="Dask's linalg has no eigvalsh")
def test_eigvalsh_gradient_at_repeated_eigenvalues(device):
    """Sum of f(eigenvalues) is a smooth spectral function even where they repeat:
    d/dA sum(w^2) = 2A for symmetric A (here A = I, every eigenvalue equal)."""
    a = make(np.eye(3), device, requires_grad=True)
    (g,) = xgrad.autograd.grad(xgrad.sum(LA.eigvalsh(a) ** 2), a)
    assert_close(g, 2 * np.eye(3), atol=1e-12)


TIE = np.diag([0.5, 0.5, 1.0])  # _sym(TIE) = diag(1, 1, 2): an exactly repeated eigenvalue


@pytest.mark.not_on("dask", reason="Dask's linalg has no eigh")
def test_eigh_eigenvalue_loss_at_exact_tie(device):
    """sum(exp(w)) = tr(exp(A)) is smooth through the tie; through eigh (whose
    eigenvector gradient is exactly zero here) it must give the right, finite gradient."""
    fn = lambda x: xgrad.sum(xgrad.exp(LA.eigh(_sym(x)).eigenvalues))  # noqa: E731
    a = make(TIE, device, requires_grad=True)
    (g,) = xgrad.autograd.grad(fn(a), a)
    assert_close(g, 2 * np.diag(np.exp([1.0, 1.0, 2.0])), atol=1e-12)
    assert gradcheck(fn, (a,))


@pytest.mark.not_on("dask", reason="Dask's linalg has no eigh")
def test_eigh_isolated_eigenvector_at_exact_tie(device):
    """The projector onto the top eigenvector (eigenvalue 2, isolated) is smooth even
    though the other two eigenvalues tie; its gradient must match finite differences."""
    c = make(_randn(3, 3, seed=8), device)

    def fn(x):
        v = LA.eigh(_sym(x)).eigenvectors[..., 2:]
        return xgrad.sum(c * xgrad.matmul(v, _mT(v)))
    assert gradcheck(fn, (make(TIE, device, requires_grad=True),))


def test_nuclear_norm_gradient_at_repeated_singular_values(device):
    """The nuclear norm is differentiable at an invertible matrix even when its singular
    values repeat (A = 2Q, Q orthogonal): the gradient is U V^T = Q."""
    q, _ = np.linalg.qr(_randn(3, 3, seed=9))
    a = make(2 * q, device, requires_grad=True)
    (g,) = xgrad.autograd.grad(LA.matrix_norm(a, ord="nuc"), a)
    assert_close(g, q, atol=1e-10)
    assert gradcheck(lambda x: LA.matrix_norm(x, ord="nuc"), (a,))


def test_svdvals_gradient_of_rank_deficient_matrix(device):
    """The largest singular value stays differentiable when the matrix loses rank:
    its gradient is u1 v1^T, finite, and matches finite differences."""
    a_np = np.outer([1.0, 2.0, 2.0], [2.0, 1.0])  # rank 1: singular values (3 sqrt(5), 0)
    a = make(a_np, device, requires_grad=True)
    (g,) = xgrad.autograd.grad(LA.svdvals(a)[0], a)
    assert_close(g, a_np / (3 * np.sqrt(5)), atol=1e-12)
    assert gradcheck(lambda x: LA.svdvals(x)[0], (a,))


def test_qr_complete_tall_is_not_differentiable(device):
    a = make(_randn(3, 2), device, requires_grad=True)
    if _dask_refuses(device, {"qr"}, "qr", lambda: LA.qr(a, mode="complete")):
        return  # Dask's qr has mode='reduced' only
    q, r = LA.qr(a, mode="complete")
    with pytest.raises(NotImplementedError, match="complete"):
        xgrad.sum(q).backward()


# -- PyTorch names -------------------------------------------------------------------------
@pytest.mark.not_on("dask", reason="Dask's linalg has no det (xgrad.det)")
def test_torch_aliases(device):
    a_np = _well_conditioned(3, 3)
    a = make(a_np, device, requires_grad=True)
    assert_close(xgrad.inverse(a).detach(), np.linalg.inv(a_np))
    assert_close(xgrad.det(a).detach(), np.linalg.det(a_np))
    assert_close(xgrad.trace(a).detach(), np.trace(a_np))
    assert_close(TL.norm(a).detach(), np.linalg.norm(a_np))
    assert_close(TL.norm(a, "nuc").detach(), np.linalg.norm(a_np, "nuc"))
    assert_close(TL.norm(a, dim=0).detach(), np.linalg.norm(a_np, axis=0))
    assert_close(TL.norm(a, 1, dim=(1, 0)).detach(), np.linalg.norm(a_np.T, 1))
    assert_close(TL.norm(a, dim=(0, 1), keepdim=True).detach(), np.linalg.norm(a_np)[None, None])
    assert_close(TL.multi_dot([a, a, a]).detach(), a_np @ a_np @ a_np)
    assert_close(TL.cond(a).detach(), np.linalg.cond(a_np))
    assert_close(TL.cond(a, "fro").detach(), np.linalg.cond(a_np, "fro"))
    b_np = _randn(3, 2, seed=11)
    b = make(b_np, device)
    assert_close(TL.solve_triangular(a, b, upper=True).detach(),
                 np.linalg.solve(np.triu(a_np), b_np))
    assert_close(TL.solve_triangular(a, _mT(b), upper=False, left=False).detach(),
                 b_np.T @ np.linalg.inv(np.tril(a_np)))
    unit = np.tril(a_np, -1) + np.eye(3)
    assert_close(TL.solve_triangular(a, b, upper=False, unitriangular=True).detach(),
                 np.linalg.solve(unit, b_np))
    assert gradcheck(lambda x: TL.solve_triangular(x, b, upper=True), (a,))


@pytest.mark.not_on("dask", reason="Dask's linalg has no eigh or eigvalsh")
def test_torch_keywords(device):
    a_np = _randn(2, 3, 4, seed=13)
    a = make(a_np, device, requires_grad=True)
    assert_close(TL.vector_norm(a, 3, dim=(0, 2), keepdim=True).detach(),
                 np.sum(np.abs(a_np) ** 3, axis=(0, 2), keepdims=True) ** (1 / 3))
    assert_close(TL.vector_norm(a, dim=[1]).detach(), np.linalg.norm(a_np, axis=1))
    assert_close(TL.matrix_norm(a, "nuc", dim=(0, 2), keepdim=True).detach(),
                 np.linalg.norm(a_np, "nuc", axis=(0, 2))[None, :, None])
    assert_close(TL.matrix_norm(a, ord=1, keepdim=True).detach(),
                 np.linalg.norm(a_np, 1, axis=(-2, -1))[:, None, None])
    assert_close(TL.diagonal(a, offset=1, dim1=0, dim2=2).detach(),
                 np.diagonal(a_np, offset=1, axis1=0, axis2=2))
    assert_close(TL.vecdot(a, a, dim=1).detach(), np.sum(a_np * a_np, axis=1))
    assert_close(TL.cross(a[:, :, :3], a[:, :, 1:], dim=1).detach(),
                 np.cross(a_np[:, :, :3], a_np[:, :, 1:], axis=1))
    s_np = _randn(3, 3, seed=14)
    s = make(s_np, device)
    upper = np.triu(s_np) + np.triu(s_np, 1).T
    assert_close(TL.eigvalsh(s, UPLO="U"), np.linalg.eigvalsh(upper))
    assert_close(TL.eigh(s, UPLO="U").eigenvalues, np.linalg.eigvalsh(upper))
    w = make(_well_conditioned(3, 3, seed=15), device)
    assert_close(TL.solve(w, s, left=False), s_np @ np.linalg.inv(xgrad.testing.to_numpy(w)))
    with pytest.raises(ValueError, match="UPLO"):
        TL.eigh(s, UPLO="X")
    assert gradcheck(lambda x: TL.eigvalsh(_sym(x), UPLO="U"), (make(s_np, device, requires_grad=True),))


@pytest.mark.not_on("dask", reason="Dask's linalg has no det or eigvalsh")
def test_complex_forward(device):
    rng = np.random.default_rng(3)
    a_np = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) + 2 * np.eye(3)
    h_np = a_np + a_np.conj().T
    a, h = make(a_np, device), make(h_np, device)
    assert_close(LA.inv(a), np.linalg.inv(a_np))
    assert_close(LA.det(a), np.linalg.det(a_np))
    assert_close(LA.eigvalsh(h), np.linalg.eigvalsh(h_np))
    assert_close(LA.svdvals(a), np.linalg.svd(a_np, compute_uv=False))


# -- complex inputs: PyTorch's convention (conjugate Wirtinger), checked through the real
# -- and imaginary parts, so finite differences see every direction ---------------------
def _cplx(a, b):
    return xgrad.astype(a, xgrad.complex128) + xgrad.astype(b, xgrad.complex128) * 1j


def _parts(z):
    return xgrad.real(z), xgrad.imag(z)


def _mH(z):
    return xgrad.conj(_mT(z))


def _hpd(z):
    n = z.shape[-1]
    return xgrad.matmul(z, _mH(z)) + n * xgrad.eye(n, dtype=z.dtype, device=z.device)


def _eigh_fun(z):
    w, v = LA.eigh(z + _mH(z))
    return xgrad.matmul(v * xgrad.expand_dims(xgrad.exp(w), axis=-2), _mH(v))


COMPLEX_CASES = {
    "inv": lambda x, y: _parts(LA.inv(_cplx(x, y))),
    "solve": lambda x, y: _parts(LA.solve(_cplx(x, y), _cplx(y, x))),
    "det": lambda x, y: _parts(LA.det(_cplx(x, y))),
    "slogdet": lambda x, y: _parts(LA.slogdet(_cplx(x, y)).sign) + (LA.slogdet(_cplx(x, y))[1],),
    "cholesky": lambda x, y: _parts(LA.cholesky(_hpd(_cplx(x, y)))),
    "eigvalsh": lambda x, y: LA.eigvalsh(_cplx(x, y) + _mH(_cplx(x, y))),
    "eigh_abs_vectors": lambda x, y: xgrad.abs(LA.eigh(_cplx(x, y) + _mH(_cplx(x, y)))[1]),
    "eigh_matrix_function": lambda x, y: _parts(_eigh_fun(_cplx(x, y))),
    "svdvals": lambda x, y: LA.svdvals(_cplx(x, y)),
    "svd_abs_vectors": lambda x, y: (xgrad.abs(LA.svd(_cplx(x, y)).U),
                                     xgrad.abs(LA.svd(_cplx(x, y)).Vh)),
    "svd_tall": lambda x, y: xgrad.abs(LA.svd(_cplx(x, y)[:, :2], full_matrices=False).U),
    "svd_wide": lambda x, y: xgrad.abs(LA.svd(_cplx(x, y)[:2], full_matrices=False).Vh),
    "qr_abs_q": lambda x, y: xgrad.abs(LA.qr(_cplx(x, y)).Q),
    "qr_reconstruct": lambda x, y: _parts(xgrad.matmul(LA.qr(_cplx(x, y))[0],
                                                       2 * LA.qr(_cplx(x, y))[1])),
    "pinv": lambda x, y: _parts(LA.pinv(_cplx(x, y)[:, :2])),
    "cross": lambda x, y: _parts(LA.cross(_cplx(x, y), _cplx(y, x))),
    "diagonal": lambda x, y: _parts(LA.diagonal(_cplx(x, y), offset=1)),
    "nuclear_norm": lambda x, y: LA.matrix_norm(_cplx(x, y), ord="nuc"),
}


DASK_REFUSES_COMPLEX = {"det", "eigh_abs_vectors", "eigh_matrix_function", "eigvalsh", "pinv",
                        "slogdet", "svd_abs_vectors"}


@pytest.mark.parametrize("case", sorted(COMPLEX_CASES))
def test_complex_gradients(device, case):
    x = make(_well_conditioned(3, 3, seed=20), device, requires_grad=True)
    y = make(_randn(3, 3, seed=21), device, requires_grad=True)
    if _dask_refuses(device, DASK_REFUSES_COMPLEX, case, lambda: COMPLEX_CASES[case](x, y)):
        return
    assert gradcheck(COMPLEX_CASES[case], (x, y))
    assert gradgradcheck(COMPLEX_CASES[case], (x, y))


# -- edge shapes, forward mode ----------------------------------------------------------------
@pytest.mark.parametrize("name,shape", [
    ("inv", (0, 3, 3)), ("det", (0, 2, 2)), ("eigvalsh", (0, 2, 2)), ("svdvals", (0, 2, 3)),
    ("cholesky", (0, 2, 2)), ("pinv", (0, 3, 2)), ("inv", (2, 0, 0)), ("trace", (2, 0, 0))])
def test_empty_batches_and_matrices(device, name, shape):
    x = make(np.zeros(shape), device, requires_grad=True)
    if _dask_refuses(device, set(dir(LA)) - {"trace"}, name, lambda: getattr(LA, name)(x)):
        return  # a batch of matrices (and det, eigvalsh, pinv): not in Dask's linalg
    y = getattr(LA, name)(x)
    expected = getattr(np.linalg, name)(np.zeros(shape)) if name != "svdvals" else \
        np.linalg.svd(np.zeros(shape), compute_uv=False)
    assert_close(y.detach(), expected)
    xgrad.sum(y).backward()
    assert_close(x.grad, np.zeros(shape))


def test_det_of_empty_matrix_is_one(device):
    if _dask_refuses(device, {"det"}, "det", lambda: LA.det(make(np.zeros((0, 0)), device))):
        return
    assert float(LA.det(make(np.zeros((0, 0)), device))) == 1.0


FORWARD_MODE = {
    "inv": LA.inv,
    "det": LA.det,
    "slogdet": lambda x: LA.slogdet(x)[1],
    "eigvalsh": lambda x: LA.eigvalsh(_sym(x)),
    "svdvals": LA.svdvals,
    "solve_vector": lambda x: LA.solve(x, x[0, :, 0]),
    "cholesky_upper": lambda x: LA.cholesky(_spd(x), upper=True),
    "cross": lambda x: LA.cross(x, xgrad.array_api.flip(x, axis=-1)),
    "diagonal": lambda x: LA.diagonal(x, offset=1),
    "solve": lambda x: LA.solve(x, xgrad.sin(x)),
    "cholesky": lambda x: LA.cholesky(_spd(x)),
    "eigh": lambda x: _eigh_apply(_sym(x), xgrad.sin),
    "svd": lambda x: _svd_parts(LA.svd(x))[3],
    "qr": lambda x: LA.qr(x).R,
    "pinv": lambda x: LA.pinv(x[..., :2]),
}


@pytest.mark.parametrize("name", sorted(FORWARD_MODE))
def test_forward_mode_matches_finite_differences(device, name):
    fn = FORWARD_MODE[name]
    x_np, t_np = _well_conditioned(2, 3, 3, seed=30), _randn(2, 3, 3, seed=31)
    x, t = make(x_np, device), make(t_np, device)
    if _dask_refuses(device, set(FORWARD_MODE) - {"cross", "diagonal"}, name, lambda: fn(x)):
        return  # a batch of matrices: Dask's linalg takes one 2-D matrix
    _, tangent = xgrad.func.jvp(fn, (x,), (t,))
    eps = 1e-6
    fd = (xgrad.testing.to_numpy(fn(make(x_np + eps * t_np, device))) -
          xgrad.testing.to_numpy(fn(make(x_np - eps * t_np, device)))) / (2 * eps)
    assert_close(tangent, fd, rtol=1e-5, atol=1e-7)


# -- property tests: batch shapes (with size-0 and broadcast batch axes) ---------------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
batches = st.lists(st.integers(0, 2), max_size=2).map(tuple)

def _np_mT(a):
    return np.swapaxes(a, -1, -2)


SQUARE_PROPERTIES = {  # xgrad function, NumPy reference (on the same transformed input)
    "inv": (LA.inv, np.linalg.inv),
    "det": (LA.det, np.linalg.det),
    "slogdet": (lambda x: LA.slogdet(x).logabsdet, lambda a: np.linalg.slogdet(a)[1]),
    "cholesky": (lambda x: LA.cholesky(_spd(x)),
                 lambda a: np.linalg.cholesky(a @ _np_mT(a) + a.shape[-1] * np.eye(a.shape[-1]))),
    "eigvalsh": (lambda x: LA.eigvalsh(_sym(x)), lambda a: np.linalg.eigvalsh(a + _np_mT(a))),
}


@pytest.mark.not_on("dask", reason="Dask's linalg has no det, slogdet, eigh, eigvalsh or pinv, "
                    "and no batches of matrices")
@SETTINGS
@given(batch=batches, n=st.integers(1, 3), name=st.sampled_from(sorted(SQUARE_PROPERTIES)),
       seed=st.integers(0, 99))
def test_square_functions_over_batch_shapes(device, batch, n, name, seed):
    fn, ref = SQUARE_PROPERTIES[name]
    a = np.random.default_rng(seed).standard_normal(batch + (n, n)) + 2 * np.eye(n)
    x = make(a, device, requires_grad=True)
    assert_close(fn(x).detach(), ref(a), rtol=1e-10, atol=1e-12)
    assert gradcheck(fn, (x,))


@pytest.mark.not_on("dask", reason="Dask's linalg has no pinv and no batches of matrices")
@SETTINGS
@given(batch=batches, m=st.integers(1, 3), n=st.integers(1, 3),
       name=st.sampled_from(["svdvals", "pinv", "qr"]), seed=st.integers(0, 99))
def test_rectangular_functions_over_batch_shapes(device, batch, m, n, name, seed):
    a = np.random.default_rng(seed).standard_normal(batch + (m, n))
    x = make(a, device, requires_grad=True)
    if name == "qr":
        q, r = LA.qr(x)
        assert_close(xgrad.matmul(q, r).detach(), a, atol=1e-12)
        fn = lambda t: xgrad.matmul(LA.qr(t)[0], xgrad.abs(LA.qr(t)[1]))  # noqa: E731
    elif name == "svdvals":
        assert_close(LA.svdvals(x).detach(), np.linalg.svd(a, compute_uv=False), atol=1e-12)
        fn = LA.svdvals
    else:
        assert_close(LA.pinv(x).detach(), np.linalg.pinv(a), atol=1e-10)
        fn = LA.pinv
    assert gradcheck(fn, (x,))


@pytest.mark.not_on("dask", reason="Dask's linalg has no batches of matrices")
@SETTINGS
@given(batch_a=batches, batch_b=batches, n=st.integers(1, 3), k=st.integers(1, 2),
       seed=st.integers(0, 99))
def test_solve_broadcasts_batches(device, batch_a, batch_b, n, k, seed):
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        batch_b = batch_b[len(batch_b):]  # no batch on b: always broadcasts
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch_a + (n, n)) + 2 * np.eye(n)
    b = rng.standard_normal(batch_b + (n, k))
    x, y = make(a, device, requires_grad=True), make(b, device, requires_grad=True)
    assert_close(LA.solve(x, y).detach(), np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    assert gradcheck(LA.solve, (x, y))


FORWARD_MODE_RECTANGULAR = {
    "pinv": LA.pinv,
    "qr_reconstruct": lambda x: xgrad.matmul(LA.qr(x).Q, LA.qr(x).R),
    "qr_abs_q": lambda x: xgrad.abs(LA.qr(x).Q),
    "svd_values": LA.svdvals,
    "svd_abs_u": lambda x: xgrad.abs(LA.svd(x, full_matrices=False).U),
    "svd_abs_vh": lambda x: xgrad.abs(LA.svd(x, full_matrices=False).Vh),
    "svd_full_first_columns": lambda x: xgrad.abs(LA.svd(x).U[..., :2]),
}


@pytest.mark.parametrize("shape", [(2, 3, 2), (2, 3)])
@pytest.mark.parametrize("is_complex", [False, True])
@pytest.mark.parametrize("name", sorted(FORWARD_MODE_RECTANGULAR))
def test_forward_mode_rectangular_and_complex(device, name, shape, is_complex):
    fn = FORWARD_MODE_RECTANGULAR[name]
    rng = np.random.default_rng(40)
    x_np, t_np = rng.standard_normal((2,) + shape), rng.standard_normal((2,) + shape)
    if is_complex:
        x_np, t_np = x_np[0] + 1j * x_np[1], t_np[0] + 1j * t_np[1]
    else:
        x_np, t_np = x_np[0], t_np[0]
    refused = set(FORWARD_MODE_RECTANGULAR) if len(shape) == 3 else {"pinv",
                                                                      "svd_full_first_columns"}
    if _dask_refuses(device, refused, name, lambda: fn(make(x_np, device))):
        return  # no batches, pinv or full SVD in Dask's linalg
    _, tangent = xgrad.func.jvp(fn, (make(x_np, device),), (make(t_np, device),))
    eps = 1e-6
    fd = (xgrad.testing.to_numpy(fn(make(x_np + eps * t_np, device))) -
          xgrad.testing.to_numpy(fn(make(x_np - eps * t_np, device)))) / (2 * eps)
    assert_close(tangent, fd, rtol=1e-5, atol=1e-7)
