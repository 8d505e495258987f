"""PyTorch's indexing/slicing/joining, "other operations" and BLAS/LAPACK functions
(xgrad._torch_shape): each case is one function written once against a module ``T``
(``torch`` or ``xgrad``), so the same code runs on both. Values, first-order
gradients and JVPs are compared with PyTorch's (float64); gradcheck and gradgradcheck
check the derivatives on every device."""

import numpy as np
import pytest
import torch

import xgrad
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

RNG = np.random.default_rng(12)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning",
                                        "ignore::DeprecationWarning")


def _r(*shape):
    return RNG.uniform(-1, 1, shape)


def _spd(n):
    a = RNG.uniform(-1, 1, (n, n))
    return a @ a.T + n * np.eye(n)


def _sym(x):
    """The symmetric part (functions that read one triangle get symmetric perturbations)."""
    return (x + x.mT) / 2


def idx(T, x, values):
    """An int64 index tensor on ``x``'s device (for either module)."""
    if T is torch:
        return torch.tensor(values, dtype=torch.int64)
    return xgrad.tensor(values, dtype=xgrad.int64, device=x.device)


def msk(T, x, values):
    if T is torch:
        return torch.tensor(values, dtype=torch.bool)
    return xgrad.tensor(values, dtype=xgrad.bool, device=x.device)


# name -> (fn(T, *tensors), list of input arrays); outputs may be tuples
A = _r(3, 4)
CASES = {
    # -- views ----------------------------------------------------------------------------
    "narrow": (lambda T, x: T.narrow(x, 1, 1, 2), [A]),
    "narrow_neg": (lambda T, x: x.narrow(-1, -3, 2), [A]),
    "select": (lambda T, x: T.select(x, 1, -1), [A]),
    "split_int": (lambda T, x: T.split(x, 3, dim=1), [A]),
    "split_sizes": (lambda T, x: x.split([1, 2], 0), [A]),
    "chunk": (lambda T, x: T.chunk(x, 3, dim=1), [A]),
    "chunk_method": (lambda T, x: x.chunk(2), [A]),
    "tensor_split_int": (lambda T, x: T.tensor_split(x, 3, dim=1), [_r(2, 7)]),
    "tensor_split_idx": (lambda T, x: T.tensor_split(x, [1, 5], dim=1), [_r(2, 7)]),
    "hsplit": (lambda T, x: T.hsplit(x, 2), [A]),
    "vsplit": (lambda T, x: T.vsplit(x, [1]), [A]),
    "dsplit": (lambda T, x: T.dsplit(x, 2), [_r(2, 2, 4)]),
    "movedim": (lambda T, x: T.movedim(x, 0, -1), [_r(2, 3, 4)]),
    "movedim_multi": (lambda T, x: x.movedim((0, 1), (2, 0)), [_r(2, 3, 4)]),
    "moveaxis": (lambda T, x: T.moveaxis(x, -1, 0), [_r(2, 3, 4)]),
    "swapdims": (lambda T, x: T.swapdims(x, 0, 2), [_r(2, 3, 4)]),
    "swapaxes": (lambda T, x: x.swapaxes(0, 1), [A]),
    "t": (lambda T, x: T.t(x), [A]),
    "t_1d": (lambda T, x: x.t(), [_r(3)]),
    "adjoint": (lambda T, x: T.adjoint(x), [_r(2, 3, 4)]),
    "unflatten": (lambda T, x: T.unflatten(x, 1, (2, -1)), [A]),
    "unflatten_method": (lambda T, x: x.unflatten(0, (1, 3)), [A]),
    "ravel": (lambda T, x: T.ravel(x), [A]),
    "diagonal": (lambda T, x: T.diagonal(x), [A]),
    "diagonal_offset": (lambda T, x: T.diagonal(x, 1, 0, 2), [_r(3, 2, 4)]),
    "diagonal_neg": (lambda T, x: x.diagonal(offset=-1, dim1=-1, dim2=0), [_r(3, 2, 4)]),
    # -- joining ---------------------------------------------------------------------------
    "hstack": (lambda T, x, y: T.hstack([x, y]), [A, _r(3, 2)]),
    "hstack_1d": (lambda T, x, y: T.hstack((x, y)), [_r(2), _r(3)]),
    "vstack": (lambda T, x, y: T.vstack([x, y]), [_r(4), A]),
    "row_stack": (lambda T, x, y: T.row_stack([x, y]), [_r(4), _r(4)]),
    "dstack": (lambda T, x, y: T.dstack([x, y]), [A, A]),
    "column_stack": (lambda T, x, y: T.column_stack([x, y]), [_r(3), _r(3, 2)]),
    "atleast_1d": (lambda T, x: T.atleast_1d(x), [np.array(1.5)]),
    "atleast_2d": (lambda T, x, y: T.atleast_2d(x, y), [np.array(1.5), _r(3)]),
    "atleast_3d": (lambda T, x, y: T.atleast_3d((x, y)), [_r(3), A]),
    "broadcast_tensors": (lambda T, x, y: T.broadcast_tensors(x, y), [_r(3, 1), _r(4)]),
    "block_diag": (lambda T, x, y, z: T.block_diag(x, y, z), [A, _r(2), np.array(0.5)]),
    "cartesian_prod": (lambda T, x, y: T.cartesian_prod(x, y), [_r(2), _r(3)]),
    "combinations": (lambda T, x: T.combinations(x), [_r(4)]),
    "combinations_r3": (lambda T, x: T.combinations(x, r=3, with_replacement=True), [_r(3)]),
    "kron": (lambda T, x, y: T.kron(x, y), [_r(2, 3), _r(2, 2)]),
    "kron_mixed": (lambda T, x, y: x.kron(y), [_r(3), _r(2, 2)]),
    "tile": (lambda T, x: T.tile(x, (2,)), [A]),
    "repeat": (lambda T, x: x.repeat(2, 1, 3), [A]),
    "repeat_interleave": (lambda T, x: T.repeat_interleave(x, 2), [A]),
    "repeat_interleave_dim": (lambda T, x: x.repeat_interleave(idx(T, x, [1, 0, 2]), dim=0), [A]),
    "rot90": (lambda T, x: T.rot90(x), [A]),
    "rot90_k3": (lambda T, x: T.rot90(x, 3, [1, 2]), [_r(2, 3, 4)]),
    "rot90_k2": (lambda T, x: x.rot90(-2), [A]),
    "fliplr": (lambda T, x: T.fliplr(x), [A]),
    "flipud": (lambda T, x: T.flipud(x), [A]),
    "diff": (lambda T, x: T.diff(x, 1, 0), [A]),
    "diff_prepend": (lambda T, x, y: T.diff(x, n=2, dim=-1, prepend=y), [A, _r(3, 1)]),
    # -- gather / scatter / index ------------------------------------------------------------
    "gather": (lambda T, x: T.gather(x, 1, idx(T, x, [[0, 3], [2, 2], [1, 0]])), [A]),
    "gather_small": (lambda T, x: x.gather(0, idx(T, x, [[2, 0]])), [A]),
    "take_along_dim": (lambda T, x: T.take_along_dim(x, idx(T, x, [[0], [3], [1]]), dim=1), [A]),
    "take_along_dim_bcast": (lambda T, x: T.take_along_dim(x, idx(T, x, [[0, 2]]), 1), [A]),
    "take_along_dim_flat": (lambda T, x: T.take_along_dim(x, idx(T, x, [5, 0])), [A]),
    "take": (lambda T, x: T.take(x, idx(T, x, [[0, -1], [5, 5]])), [A]),
    "index_select": (lambda T, x: T.index_select(x, 1, idx(T, x, [3, 0, 3])), [A]),
    "index_select_method": (lambda T, x: x.index_select(0, idx(T, x, [2])), [A]),
    "scatter_src": (lambda T, x, s: T.scatter(x, 1, idx(T, x, [[0, 3], [2, 1], [1, 0]]), s),
                    [A, _r(3, 2)]),
    "scatter_src_large": (lambda T, x, s: T.scatter(x, 1, idx(T, x, [[0, 3], [2, 1]]), s),
                          [A, _r(3, 3)]),
    "scatter_value": (lambda T, x: x.scatter(0, idx(T, x, [[2, 0, 1, 1]]), 0.5), [A]),
    "scatter_add": (lambda T, x, s: T.scatter_add(x, 1, idx(T, x, [[0, 0], [3, 3], [1, 0]]), s),
                    [A, _r(3, 2)]),
    "scatter_add_method": (lambda T, x, s: x.scatter_add(0, idx(T, x, [[1, 0, 1, 1], [1, 2, 0, 1]]), s),
                           [A, _r(2, 4)]),
    "scatter_reduce_sum": (lambda T, x, s: T.scatter_reduce(
        x, 1, idx(T, x, [[0, 0], [3, 3], [1, 0]]), s, "sum", include_self=False), [A, _r(3, 2)]),
    "scatter_reduce_mean": (lambda T, x, s: T.scatter_reduce(
        x, 1, idx(T, x, [[0, 0], [3, 3], [1, 0]]), s, "mean"), [A, _r(3, 2)]),
    "scatter_reduce_mean_noself": (lambda T, x, s: x.scatter_reduce(
        0, idx(T, x, [[1, 0, 1, 1], [1, 2, 0, 1]]), s, "mean", include_self=False), [A, _r(2, 4)]),
    "scatter_reduce_amax": (lambda T, x, s: T.scatter_reduce(
        x, 1, idx(T, x, [[0, 0], [3, 3], [1, 0]]), s, "amax"), [A, _r(3, 2)]),
    "scatter_reduce_amin_noself": (lambda T, x, s: T.scatter_reduce(
        x, 0, idx(T, x, [[1, 0, 1, 1], [1, 2, 0, 1]]), s, "amin", include_self=False), [A, _r(2, 4)]),
    "scatter_reduce_prod": (lambda T, x, s: T.scatter_reduce(
        x, 1, idx(T, x, [[0, 0], [3, 3]]), s, "prod"), [A, _r(2, 2)]),
    "index_add": (lambda T, x, s: T.index_add(x, 1, idx(T, x, [0, 3, 0]), s, alpha=2.0),
                  [A, _r(3, 3)]),
    "index_copy": (lambda T, x, s: T.index_copy(x, 0, idx(T, x, [2, 0]), s), [A, _r(2, 4)]),
    "index_fill": (lambda T, x: T.index_fill(x, 1, idx(T, x, [1, 3]), -2.0), [A]),
    "index_reduce_amax": (lambda T, x, s: T.index_reduce(x, 0, idx(T, x, [2, 0, 2]), s, "amax"),
                          [A, _r(3, 4)]),
    "index_reduce_mean": (lambda T, x, s: x.index_reduce(1, idx(T, x, [1, 1]), s, "mean",
                                                         include_self=False), [A, _r(3, 2)]),
    "masked_fill": (lambda T, x: T.masked_fill(x, msk(T, x, [True, False, False, True]), 0.25), [A]),
    "masked_fill_tensor": (lambda T, x, v: x.masked_fill(msk(T, x, [[True], [False], [True]]), v),
                           [A, np.array(3.0)]),
    "masked_select": (lambda T, x: T.masked_select(x, msk(T, x, [True, False, False, True])), [A]),
    "masked_scatter": (lambda T, x, s: x.masked_scatter(msk(T, x, [[True, False, False, True],
                                                                   [False] * 4,
                                                                   [False, True, True, False]]), s),
                       [A, _r(2, 3)]),
    "index_put": (lambda T, x, v: T.index_put(x, (idx(T, x, [0, 2]), idx(T, x, [1, 1])), v), [A, _r(2)]),
    "index_put_acc": (lambda T, x, v: x.index_put((idx(T, x, [0, 0]), idx(T, x, [1, 1])), v,
                                                  accumulate=True), [A, _r(2)]),
    "diagonal_scatter": (lambda T, x, s: T.diagonal_scatter(x, s, 1), [A, _r(3)]),
    "select_scatter": (lambda T, x, s: T.select_scatter(x, s, 0, 1), [A, _r(4)]),
    "slice_scatter": (lambda T, x, s: T.slice_scatter(x, s, 1, 0, 4, 2), [A, _r(3, 2)]),
    # -- diagonals -----------------------------------------------------------------------------
    "diag_vec": (lambda T, x: T.diag(x, 1), [_r(3)]),
    "diag_mat": (lambda T, x: T.diag(x, -1), [A]),
    "diag_embed": (lambda T, x: T.diag_embed(x), [_r(2, 3)]),
    "diag_embed_dims": (lambda T, x: T.diag_embed(x, -1, 0, 2), [_r(2, 3)]),
    "diagflat": (lambda T, x: T.diagflat(x, 2), [_r(2, 2)]),
    "trace": (lambda T, x: T.trace(x), [A]),
    "trace_method": (lambda T, x: x.trace(), [A]),
    # -- products ------------------------------------------------------------------------------
    "einsum_matmul": (lambda T, x, y: T.einsum("ij,jk->ik", x, y), [A, _r(4, 2)]),
    "einsum_batch": (lambda T, x, y: T.einsum("bij,bjk->bik", x, y), [_r(2, 3, 4), _r(2, 4, 2)]),
    "einsum_trace": (lambda T, x: T.einsum("ii", x), [_r(3, 3)]),
    "einsum_diag": (lambda T, x: T.einsum("ii->i", x), [_r(3, 3)]),
    "einsum_outer": (lambda T, x, y: T.einsum("i,j", x, y), [_r(3), _r(2)]),
    "einsum_ellipsis": (lambda T, x, y: T.einsum("...ij,...jk", x, y), [_r(2, 3, 4), _r(4, 2)]),
    "einsum_three": (lambda T, x, y, z: T.einsum("ij,jk,kl->il", x, y, z), [A, _r(4, 2), _r(2, 3)]),
    "einsum_sum": (lambda T, x, y: T.einsum("ijk,ik->j", x, y), [_r(2, 3, 4), _r(2, 4)]),
    "einsum_list": (lambda T, x, y: T.einsum("i,i->", [x, y]), [_r(3), _r(3)]),
    "einsum_bilinear": (lambda T, x, w, y: T.einsum("bn,anm,bm->ba", x, w, y),
                        [_r(2, 3), _r(4, 3, 2), _r(2, 2)]),
    "einsum_sublist": (lambda T, x, y: T.einsum(x, [0, 1], y, [1, 2], [0, 2]), [A, _r(4, 2)]),
    "einsum_sublist_ellipsis": (lambda T, x, y: T.einsum(x, [Ellipsis, 1], y, [1, 2]),
                                [_r(2, 3, 4), _r(4, 2)]),
    "einsum_transpose": (lambda T, x: T.einsum("ijk->kji", x), [_r(2, 3, 4)]),
    "addmm": (lambda T, c, x, y: T.addmm(c, x, y, beta=0.5, alpha=2.0), [_r(4), _r(3, 2), _r(2, 4)]),
    "addmm_method": (lambda T, c, x, y: c.addmm(x, y), [_r(3, 4), _r(3, 2), _r(2, 4)]),
    "addmv": (lambda T, c, x, y: T.addmv(c, x, y, alpha=-1), [_r(3), A, _r(4)]),
    "addbmm": (lambda T, c, x, y: T.addbmm(c, x, y), [_r(3, 2), _r(2, 3, 4), _r(2, 4, 2)]),
    "baddbmm": (lambda T, c, x, y: T.baddbmm(c, x, y, beta=2), [_r(1, 3, 2), _r(2, 3, 4), _r(2, 4, 2)]),
    "addr": (lambda T, c, x, y: T.addr(c, x, y), [A, _r(3), _r(4)]),
    "addcmul": (lambda T, c, x, y: T.addcmul(c, x, y, value=0.5), [A, A, _r(4)]),
    "addcdiv": (lambda T, c, x, y: c.addcdiv(x, y, value=-2), [A, A, _r(4) + 3]),
    "mv": (lambda T, x, y: T.mv(x, y), [A, _r(4)]),
    "inner": (lambda T, x, y: T.inner(x, y), [A, _r(2, 4)]),
    "inner_vec": (lambda T, x, y: x.inner(y), [_r(4), _r(4)]),
    "outer": (lambda T, x, y: T.outer(x, y), [_r(3), _r(2)]),
    "ger": (lambda T, x, y: T.ger(x, y), [_r(3), _r(2)]),
    "vdot": (lambda T, x, y: T.vdot(x, y), [_r(3), _r(3)]),
    "chain_matmul": (lambda T, x, y, z: T.chain_matmul(x, y, z), [A, _r(4, 2), _r(2, 2)]),
    "multi_dot": (lambda T, x, y, z: T.linalg.multi_dot([x, y, z]), [A, _r(4, 2), _r(2, 2)]),
    "cross": (lambda T, x, y: T.cross(x, y, dim=1), [_r(2, 3), _r(2, 3)]),
    "cross_default": (lambda T, x, y: T.cross(x, y), [_r(3, 2), _r(3, 2)]),
    "cdist": (lambda T, x, y: T.cdist(x, y), [_r(3, 2), _r(4, 2)]),
    "cdist_p1": (lambda T, x, y: T.cdist(x, y, p=1), [_r(2, 3, 2), _r(2, 4, 2)]),
    "cdist_p3": (lambda T, x, y: T.cdist(x, y, p=3.0), [_r(3, 2), _r(4, 2)]),
    # -- statistics, misc ------------------------------------------------------------------------
    "cov": (lambda T, x: T.cov(x), [A]),
    "cov_weights": (lambda T, x, w: T.cov(x, correction=0, aweights=w), [A, _r(4) + 2]),
    "corrcoef": (lambda T, x: T.corrcoef(x), [A]),
    "vander": (lambda T, x: T.vander(x, 4), [_r(3)]),
    "vander_inc": (lambda T, x: T.vander(x, increasing=True), [_r(3)]),
    "trapezoid": (lambda T, y: T.trapezoid(y), [A]),
    "trapezoid_x": (lambda T, y, x: T.trapezoid(y, x, dim=1), [A, np.sort(_r(4))]),
    "trapz_dx": (lambda T, y: T.trapz(y, dx=0.5, dim=0), [A]),
    "cumulative_trapezoid": (lambda T, y: T.cumulative_trapezoid(y, dim=0), [A]),
    "cumulative_trapezoid_x": (lambda T, y, x: T.cumulative_trapezoid(y, x), [A, np.sort(_r(4))]),
    "renorm": (lambda T, x: T.renorm(x, 2, 0, 0.8), [A]),
    "renorm_p1": (lambda T, x: x.renorm(1, 1, 0.9), [A]),
    "view_as_real_complex": (lambda T, x: T.view_as_real(T.view_as_complex(x) * (1 + 2j)),
                             [_r(3, 2)]),
    "clone": (lambda T, x: T.clone(x), [A]),
    # -- LAPACK-style ---------------------------------------------------------------------------
    "cholesky": (lambda T, x: T.cholesky(_sym(x)), [_spd(3)]),
    "cholesky_upper": (lambda T, x: T.cholesky(_sym(x), upper=True), [_spd(3)]),
    "cholesky_inverse": (lambda T, x: T.cholesky_inverse(T.linalg.cholesky(_sym(x))), [_spd(3)]),
    "cholesky_inverse_upper": (lambda T, x: T.cholesky_inverse(T.linalg.cholesky(_sym(x)).mT,
                                                               upper=True), [_spd(3)]),
    "cholesky_solve": (lambda T, b, x: T.cholesky_solve(b, T.linalg.cholesky(_sym(x))),
                       [_r(3, 2), _spd(3)]),
    "cholesky_solve_upper": (lambda T, b, x: T.cholesky_solve(b, T.linalg.cholesky(_sym(x)).mT,
                                                              upper=True), [_r(3, 2), _spd(3)]),
    "logdet": (lambda T, x: T.logdet(x), [_spd(3)]),
    "triangular_solve": (lambda T, b, x: T.triangular_solve(b, x)[0], [_r(3, 2), _spd(3)]),
    "triangular_solve_t": (lambda T, b, x: T.triangular_solve(b, x, upper=False, transpose=True)[0],
                           [_r(3, 2), _spd(3)]),
    "matrix_exp": (lambda T, x: T.matrix_exp(x), [_r(3, 3)]),
    "matrix_exp_big": (lambda T, x: T.linalg.matrix_exp(x), [3 * _r(2, 3, 3)]),
    "qr": (lambda T, x: T.qr(x), [_r(4, 3)]),
    "svd_s": (lambda T, x: T.svd(x)[1], [_r(4, 3)]),
    "svd_usv": (lambda T, x: (lambda u, s, v: u @ T.diag(s) @ v.T)(*T.svd(x)), [_r(3, 3)]),
    "lstsq": (lambda T, a, b: T.linalg.lstsq(a, b).solution, [_r(4, 3), _r(4, 2)]),
    "tensorinv": (lambda T, a: T.linalg.tensorinv(a, ind=2), [_r(2, 3, 6) + np.eye(6).reshape(2, 3, 6)]),
    "tensorsolve": (lambda T, a, b: T.linalg.tensorsolve(a, b),
                    [_r(6, 2, 3) + np.eye(6).reshape(6, 2, 3), _r(6)]),
    "linalg_vander": (lambda T, x: T.linalg.vander(x, N=3), [_r(2, 3)]),
    "inv_ex": (lambda T, x: T.linalg.inv_ex(x).inverse, [_spd(3)]),
    "solve_ex": (lambda T, a, b: T.linalg.solve_ex(a, b).result, [_spd(3), _r(3, 2)]),
    "cholesky_ex": (lambda T, x: T.linalg.cholesky_ex(_sym(x)).L, [_spd(3)]),
    "put": (lambda T, x, s: T.put(x, idx(T, x, [0, -1, 5]), s), [A, _r(3)]),
    "put_acc": (lambda T, x, s: x.put(idx(T, x, [0, 0, 5]), s, accumulate=True), [A, _r(3)]),
    "unfold": (lambda T, x: x.unfold(1, 2, 1), [A]),
    "unfold_step": (lambda T, x: x.unfold(0, 2, 2), [_r(5, 2)]),
    "sum_to_size": (lambda T, x: x.sum_to_size(1, 4), [A]),
    "split_with_sizes": (lambda T, x: T.split_with_sizes(x, [3, 1], 1), [A]),
    "t_copy": (lambda T, x: T.t_copy(x), [A]),
    "expand_copy": (lambda T, x: T.expand_copy(x, (2, 3, 4)), [A]),
    "squeeze_copy": (lambda T, x: T.squeeze_copy(x, 1), [_r(3, 1, 2)]),
    "unbind_copy": (lambda T, x: T.unbind_copy(x, 1), [A]),
    "det_method": (lambda T, x: x.det(), [_r(3, 3)]),
    "inverse_method": (lambda T, x: x.inverse(), [_spd(3)]),
    "matrix_power_method": (lambda T, x: x.matrix_power(3), [_r(3, 3)]),
    "mH": (lambda T, x: x.mH, [_r(2, 3, 4)]),
    "cov_method": (lambda T, x: x.cov(correction=0), [A]),
    "fill": (lambda T, x, v: T.fill(x, v), [A, np.array(2.5)]),
    "rsub": (lambda T, x, y: T.rsub(x, y, alpha=2), [A, A]),
    "lu_factor": (lambda T, x: T.linalg.lu_factor(x).LU, [_r(3, 3)]),
    "lu_factor_batch": (lambda T, x: T.linalg.lu_factor(x)[0], [_r(2, 4, 4)]),
    "linalg_lu": (lambda T, x: T.linalg.lu(x)[1:], [_r(3, 3)]),
    "lu_unpack": (lambda T, x: T.lu_unpack(*T.linalg.lu_factor(x))[1:], [_r(3, 3)]),
    "lu_solve": (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b), [_r(3, 3), _r(3, 2)]),
    "lu_solve_adjoint": (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b, adjoint=True,
                                                           left=False), [_r(3, 3), _r(2, 3)]),
    "torch_lu_solve": (lambda T, a, b: T.lu_solve(b, *T.lu(a)), [_r(3, 3), _r(3, 2)]),
    "householder_product": (lambda T, a, tau: T.linalg.householder_product(a, tau),
                            [_r(4, 3), _r(3)]),
    "orgqr": (lambda T, a, tau: T.orgqr(a, tau), [_r(3, 3), _r(2)]),
    "ormqr": (lambda T, a, tau, c: T.ormqr(a, tau, c), [_r(4, 3), _r(3), _r(4, 2)]),
    "ormqr_right_t": (lambda T, a, tau, c: T.ormqr(a, tau, c, left=False, transpose=True),
                      [_r(4, 3), _r(3), _r(2, 4)]),
    "svd_lowrank": (lambda T, x: (lambda u, s, v: u @ T.diag(s) @ v.mT)(*T.svd_lowrank(x, q=3)),
                    [_r(4, 3)]),
    "pca_lowrank": (lambda T, x: (lambda u, s, v: u @ T.diag(s) @ v.mT)(*T.pca_lowrank(x, q=3)),
                    [_r(5, 3)]),
}

# not differentiable in PyTorch (integer or boolean results)
NONDIFF = {
    "argwhere": (lambda T, x: T.argwhere(x > 0), [A]),
    "bincount": (lambda T, x: T.bincount(idx(T, x, [0, 3, 3, 1]), minlength=6), [A]),
    "bincount_w": (lambda T, x: T.bincount(idx(T, x, [0, 3, 3, 1]), weights=x[0]), [A]),
    "bucketize": (lambda T, x: T.bucketize(x, T.linspace(-1, 1, 5, dtype=x.dtype, device=x.device)), [A]),
    "bucketize_right": (lambda T, x: T.bucketize(x, x[0, :2].sort()[0], right=True), [A]),
    "searchsorted": (lambda T, x: T.searchsorted(T.linspace(-1, 1, 5, dtype=x.dtype, device=x.device), x, side="right"), [A]),
    "searchsorted_nd": (lambda T, x: T.searchsorted(x.sort(dim=1)[0], x[:, :2]), [A]),
    "histc": (lambda T, x: T.histc(x, bins=5), [A]),
    "histc_range": (lambda T, x: x.histc(4, -0.5, 0.5), [A]),
    "histogram": (lambda T, x: T.histogram(x, 3)[0], [A]),
    "histogramdd": (lambda T, x: T.histogramdd(x[:, :2], bins=[3, 2]).hist, [A]),
    "histogramdd_edges": (lambda T, x: T.histogramdd(x[:, 1:], bins=[x.new_tensor([-1, 0, 1])] * 3,
                                                     density=True)[0], [A]),
    "histogramdd_weights": (lambda T, x: T.histogramdd(x[:, :2], 2, range=[-1., 1., -1., 1.],
                                                       weight=x[:, 3]).hist, [A]),
    "tril_indices": (lambda T, x: T.tril_indices(3, 4, 1), [A]),
    "triu_indices": (lambda T, x: T.triu_indices(4, 3, -1), [A]),
    "unravel_index": (lambda T, x: T.unravel_index(idx(T, x, [0, 7, 11]), (3, 4)), [A]),
    "geqrf": (lambda T, x: T.geqrf(x), [_r(4, 3)]),
    "geqrf_wide": (lambda T, x: T.geqrf(x), [_r(2, 3, 5)]),
    "gcd": (lambda T, x: T.gcd(idx(T, x, [12, 0, -9, 7]), idx(T, x, [18, 5, 6, 0])), [A]),
    "lcm": (lambda T, x: T.lcm(idx(T, x, [12, 0, -9, 7]), idx(T, x, [18, 5, 6, 3])), [A]),
}

# PyTorch's own backward fails here (vander: "modified by an inplace operation" in
# PyTorch 2.13; scatter with src larger than index: a gradient of the wrong shape):
# values are compared with PyTorch, gradients with finite differences only
TORCH_GRAD_BROKEN = {"vander", "vander_inc", "scatter_src_large"}
NO_SECOND_ORDER = {"matrix_exp_big", "lu_factor_batch"}
# the LU family's elimination steps make many small ops: second order on cpu only (the same
# code runs on every device; strict costs 5-40 us per op)
SLOW_SECOND_ORDER = {"linalg_lu", "lu_factor", "lu_unpack", "lu_solve", "lu_solve_adjoint",
                     "torch_lu_solve", "ormqr", "ormqr_right_t", "householder_product"}  # slow finite differences of 18 matmul terms


# what the dask device cannot do: linear algebra Dask lacks (a clear DaskUnsupported), and
# results whose shape depends on the values (Dask's unknown sizes)
DASK_UNSUPPORTED = {"det_method": "det", "logdet": "slogdet", "lstsq": "pinv"}
DASK_UNKNOWN_SHAPE = {"masked_select", "argwhere"}


def _dask_limits(name, device, fn, arrays):
    """True when the case is a documented dask limitation (checked, then the test stops)."""
    if xgrad.device(device).type != "dask":
        return False
    if name in DASK_UNSUPPORTED:
        from xgrad.backends._dask import DaskUnsupported
        with pytest.raises(DaskUnsupported, match=DASK_UNSUPPORTED[name]):
            fn(xgrad, *_inputs(arrays, device))
        return True
    if name in DASK_UNKNOWN_SHAPE:
        pytest.skip("the result's shape depends on the values (unknown on dask)")
    return False


def _inputs(arrays, device, grad=True):
    return [xgrad.asarray(np.asarray(a, dtype=np.float64), device=device, requires_grad=grad)
            for a in arrays]


def _torch_inputs(arrays):
    return [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(name, device):
    fn, arrays = CASES[name]
    if _dask_limits(name, device, fn, arrays):
        return
    xs = _inputs(arrays, device)
    ts = _torch_inputs(arrays)
    outs = _flat(fn(xgrad, *xs))
    touts = _flat(fn(torch, *ts))
    assert len(outs) == len(touts)
    for o, to in zip(outs, touts):
        assert tuple(o.shape) == tuple(to.shape), name
        assert_close(o.detach(), to.detach().numpy(), rtol=1e-6, atol=1e-9)
    # first-order gradients against PyTorch's, with the same random cotangents
    cots = [RNG.standard_normal(tuple(to.shape)) for to in touts]
    pairs = [(o, to, c) for o, to, c in zip(outs, touts, cots) if to.requires_grad]
    if not pairs or name in TORCH_GRAD_BROKEN:
        return
    tgrads = torch.autograd.grad([to for _, to, _ in pairs], ts,
                                 [torch.tensor(c) for _, _, c in pairs], allow_unused=True)
    grads = xgrad.autograd.grad([o for o, _, _ in pairs], xs,
                                [xgrad.asarray(c, device=device) for _, _, c in pairs],
                                allow_unused=True)
    for g, tg in zip(grads, tgrads):
        if tg is None or g is None:  # an unused input: None on one side, zeros at most on the other
            assert (g is None or np.allclose(to_numpy(g), 0)) and \
                (tg is None or not tg.any()), name
        else:
            assert_close(g, tg.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    fn, arrays = CASES[name]
    if _dask_limits(name, device, fn, arrays):
        return
    xs = _inputs(arrays, device)

    def f(*args):
        return tuple(_flat(fn(xgrad, *args)))
    gradcheck(f, xs)
    slow = name in SLOW_SECOND_ORDER and xgrad.device(device).type != "cpu"
    if name not in NO_SECOND_ORDER and not slow:
        gradgradcheck(f, xs)


# PyTorch has no forward-mode formula for cdist and index_reduce, and its forward AD of
# scatter_reduce(..., "prod") returns zeros (2.13): central differences of its function instead
TORCH_NO_JVP = {"cdist", "index_reduce_mean", "scatter_reduce_prod"}
JVP_CASES = ["narrow", "split_int", "movedim", "diagonal_offset", "diag_embed_dims", "gather",
             "scatter_add", "scatter_src", "scatter_reduce_amax", "index_add", "index_copy",
             "masked_fill_tensor", "masked_select", "einsum_batch", "einsum_trace", "kron",
             "addmm", "baddbmm", "cdist", "cov", "trapezoid_x", "renorm", "block_diag",
             "take", "cholesky_solve", "logdet", "diagonal_scatter", "index_put", "matrix_exp",
             "scatter_reduce_prod", "index_reduce_mean", "masked_scatter"]


@pytest.mark.parametrize("name", JVP_CASES)
def test_jvp_matches_pytorch(name, device):
    fn, arrays = CASES[name]
    if _dask_limits(name, device, fn, arrays):
        return
    xs = _inputs(arrays, device, grad=False)
    tangents = [RNG.standard_normal(np.shape(a)) for a in arrays]
    _, jv = xgrad.func.jvp(lambda *a: tuple(_flat(fn(xgrad, *a))), xs,
                           [xgrad.asarray(t, device=device) for t in tangents])
    ts = [torch.tensor(np.asarray(a, dtype=np.float64)) for a in arrays]
    tt = tuple(torch.tensor(t) for t in tangents)
    if name in TORCH_NO_JVP:  # central differences of PyTorch's function instead
        eps = 1e-6
        plus = _flat(fn(torch, *(a + eps * t for a, t in zip(ts, tt))))
        minus = _flat(fn(torch, *(a - eps * t for a, t in zip(ts, tt))))
        tjv = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
        for a, b in zip(jv, tjv):
            assert_close(a, b.numpy(), rtol=1e-5, atol=1e-7)
        return
    _, tjv = torch.func.jvp(lambda *a: tuple(_flat(fn(torch, *a))), tuple(ts), tt)
    for a, b in zip(jv, tjv):
        assert_close(a, b.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(NONDIFF))
def test_nondifferentiable_values_match_pytorch(name, device):
    fn, arrays = NONDIFF[name]
    if _dask_limits(name, device, fn, arrays):
        return
    xs = _inputs(arrays, device, grad=False)
    ts = [torch.tensor(np.asarray(a, dtype=np.float64)) for a in arrays]
    outs, touts = _flat(fn(xgrad, *xs)), _flat(fn(torch, *ts))
    for o, to in zip(outs, touts):
        assert tuple(o.shape) == tuple(to.shape), name
        assert_close(o, to.numpy())
        assert str(o.dtype).split(".")[-1] == str(to.dtype).split(".")[-1], (o.dtype, to.dtype)


# -- views: a write through the view is seen by the base (and the gradient follows it) ------
VIEWS = {
    "narrow": lambda T, x: T.narrow(x, 1, 1, 2),
    "select": lambda T, x: x.select(0, 1),
    "split": lambda T, x: x.split(2, 1)[1],
    "chunk": lambda T, x: x.chunk(2)[0],
    "tensor_split": lambda T, x: T.tensor_split(x, 2, 1)[1],
    "diagonal": lambda T, x: x.diagonal(1),
    "movedim": lambda T, x: T.movedim(x, 0, 1),
    "swapdims": lambda T, x: x.swapdims(0, 1),
    "t": lambda T, x: x.t(),
    "unbind": lambda T, x: x.unbind(1)[2],
    "hsplit": lambda T, x: T.hsplit(x, 2)[0],
}
# PyTorch refuses in-place writes into the outputs of split/chunk/unbind (several views of one
# call); xgrad allows them: the same program with narrow/select is the reference
TORCH_EQUIVALENT = {
    "split": lambda T, x: T.narrow(x, 1, 2, 2),
    "chunk": lambda T, x: T.narrow(x, 0, 0, 2),
    "unbind": lambda T, x: x.select(1, 2),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_share_data_with_the_base(name, device):
    fn = VIEWS[name]
    a = _r(3, 4)
    leaf = xgrad.asarray(a, device=device, requires_grad=True)
    tleaf = torch.tensor(a, requires_grad=True)
    outs = []
    for T, l in ((xgrad, leaf), (torch, tleaf)):
        base = l * 1.0
        view = (TORCH_EQUIVALENT.get(name, fn) if T is torch else fn)(T, base)
        view.mul_(3.0)                  # through the view ...
        outs.append((base, view))
    (base, _), (tbase, _) = outs
    assert_close(base.detach(), tbase.detach().numpy())  # ... into the base
    w = RNG.standard_normal(a.shape)
    (base * xgrad.asarray(w, device=device)).sum().backward()
    (tbase * torch.tensor(w)).sum().backward()
    assert_close(leaf.grad, tleaf.grad.numpy())
    # and a write into the base is seen by a view taken before it
    base2 = xgrad.zeros((3, 4), dtype=xgrad.float64, device=device)
    view2 = fn(xgrad, base2)
    base2.fill_(2.0)
    assert_close(view2, np.full(tuple(view2.shape), 2.0))


# -- in-place methods --------------------------------------------------------------------------
INPLACE = {
    "index_add_": lambda T, x, s: x.index_add_(1, idx(T, x, [0, 2]), s[:, :2]),
    "index_copy_": lambda T, x, s: x.index_copy_(0, idx(T, x, [2]), s[:1]),
    "index_fill_": lambda T, x, s: x.index_fill_(1, idx(T, x, [3]), -1.0),
    "masked_fill_": lambda T, x, s: x.masked_fill_(x > 0, 0.5),
    "masked_scatter_": lambda T, x, s: x.masked_scatter_(x > 0, s),
    "scatter_": lambda T, x, s: x.scatter_(1, idx(T, x, [[0], [1], [2]]), s[:, :1]),
    "scatter_add_": lambda T, x, s: x.scatter_add_(0, idx(T, x, [[0, 1, 2, 0]]), s[:1]),
    "scatter_reduce_": lambda T, x, s: x.scatter_reduce_(0, idx(T, x, [[0, 1, 2, 0]]), s[:1], "amax"),
    "index_put_": lambda T, x, s: x.index_put_((idx(T, x, [1]), idx(T, x, [2])), s[0, 0]),
    "addmm_": lambda T, x, s: x.addmm_(s[:, :3], s[:3], beta=0.5),
    "addcmul_": lambda T, x, s: x.addcmul_(s, s, value=2),
    "addcdiv_": lambda T, x, s: x.addcdiv_(s, s * s + 1),
    "renorm_": lambda T, x, s: x.renorm_(2, 0, 0.5),
    "put_": lambda T, x, s: x.put_(idx(T, x, [1, 6]), s[0, :2]),
    "fill_diagonal_": lambda T, x, s: x.fill_diagonal_(3.0),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_methods_match_pytorch(name, device):
    fn = INPLACE[name]
    a, b = _r(3, 4), _r(3, 4)
    x, s = _inputs([a, b], device)
    tx, ts = _torch_inputs([a, b])
    y = x * 1.0
    ty = tx * 1.0
    out = fn(xgrad, y, s)
    tout = fn(torch, ty, ts)
    assert out is y and tout is ty
    assert_close(y.detach(), ty.detach().numpy())
    w = RNG.standard_normal(tuple(ty.shape))
    (y * xgrad.asarray(w, device=device)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for g, tg in ((x.grad, tx.grad), (s.grad, ts.grad)):
        if tg is None:
            assert g is None or np.allclose(to_numpy(g), 0)
        else:
            assert_close(g, tg.numpy())


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("length", [0, 1, 6, 7])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_pytorch(name, length, periodic, device):
    out = getattr(xgrad, name)(length, periodic, dtype=xgrad.float64, device=device)
    expected = getattr(torch, name)(length, periodic, dtype=torch.float64)
    assert out.device == xgrad.device(device)
    assert_close(out, expected.numpy(), rtol=1e-10, atol=1e-12)
    assert getattr(xgrad, name)(4).dtype == xgrad.float32


# -- bad inputs raise PyTorch's exception type ----------------------------------------------------
BAD = {
    "select_index": lambda T, x: T.select(x, 0, 5),
    "narrow_length": lambda T, x: T.narrow(x, 0, 2, 5),
    "gather_dim": lambda T, x: T.gather(x, 2, idx(T, x, [[0]])),
    "gather_float_index": lambda T, x: T.gather(x, 1, x[:, :1]),
    "index_select_2d": lambda T, x: T.index_select(x, 0, idx(T, x, [[0]])),
    "split_sizes": lambda T, x: T.split(x, [1, 1], 0),
    "chunk_zero": lambda T, x: T.chunk(x, 0),
    "diag_3d": lambda T, x: T.diag(x[None]),
    "diagonal_same_dims": lambda T, x: T.diagonal(x, 0, 1, 1),
    "einsum_operands": lambda T, x: T.einsum("ij,jk", x),
    "einsum_output": lambda T, x: T.einsum("ij->k", x),
    "mv_shapes": lambda T, x: T.mv(x, x[:, 0]),
    "addmm_shapes": lambda T, x: T.addmm(x, x, x),
    "cdist_columns": lambda T, x: T.cdist(x, x[:, :2]),
    "cdist_int": lambda T, x: T.cdist(idx(T, x, [[1, 2]]), idx(T, x, [[1, 2]])),
    "index_add_dtype": lambda T, x: x.index_add(0, idx(T, x, [0]), x[:1].float()),
    "scatter_dtype": lambda T, x: x.scatter(0, idx(T, x, [[0]]), x[:1, :1].float()),
    "masked_fill_mask_dtype": lambda T, x: x.masked_fill(idx(T, x, [1, 0, 1, 0]), 0.0),
    "masked_fill_value_dim": lambda T, x: x.masked_fill(x > 0, x[0]),
    "movedim_repeat": lambda T, x: T.movedim(x, (0, 0), (0, 1)),
    "t_3d": lambda T, x: T.t(x[None]),
    "vsplit_1d": lambda T, x: T.vsplit(x[0], 2),
    "hsplit_uneven": lambda T, x: T.hsplit(x, 3),
    "unflatten_sizes": lambda T, x: T.unflatten(x, 1, (3, 2)),
    "repeat_fewer_dims": lambda T, x: x.repeat(2),
    "rot90_dims": lambda T, x: T.rot90(x, 1, (0, 0)),
    "block_diag_3d": lambda T, x: T.block_diag(x[None]),
    "combinations_2d": lambda T, x: T.combinations(x),
    "bincount_float": lambda T, x: T.bincount(x[0]),
    "cross_size": lambda T, x: T.cross(x, x, dim=1),
    "vdot_2d": lambda T, x: T.vdot(x, x),
    "scatter_reduce_mode": lambda T, x: T.scatter_reduce(x, 0, idx(T, x, [[0]]), x, "median"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_inputs_raise_pytorchs_exception_type(name, device):
    fn = BAD[name]
    a = _r(3, 4)
    with pytest.raises(Exception) as expected:
        fn(torch, torch.tensor(a))
    with pytest.raises(type(expected.value)):
        fn(xgrad, xgrad.asarray(a, device=device))


def test_diag_of_a_matrix_is_a_new_tensor(device):
    """``torch.diag(matrix)`` is a copy (``torch.diagonal`` is the view): writes into
    either leave the other alone, and the gradient still reaches the matrix."""
    import numpy as np
    a = xgrad.asarray(np.arange(9.0).reshape(3, 3), device=device, requires_grad=True)
    m = a.clone()
    d = xgrad.diag(m)
    d[0] = 100.0
    m[1, 1] = -1.0
    np.testing.assert_array_equal(d.detach().numpy(), [100.0, 4.0, 8.0])
    np.testing.assert_array_equal(xgrad.diagonal(m).detach().numpy(), [0.0, -1.0, 8.0])
    (xgrad.diag(a) * xgrad.asarray(np.array([1.0, 2.0, 3.0]), device=device)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.diag([1.0, 2.0, 3.0]))
