"""The two faces (issue 12).

* The PyTorch face (top-level ``xgrad``, ``xgrad.linalg``, ``xgrad.fft`` and the
  ``Tensor`` methods): every case is one function written once against a module
  ``T`` (``torch`` or ``xgrad``) and compared with PyTorch: values, dtypes, result
  types (named tuples, Python bools), errors, and first-order gradients.
* The standard's face (``xgrad.array_api``, what ``__array_namespace__`` returns):
  exactly the 2024.12 names, the standard's semantics where they differ from
  PyTorch's, and SciPy / scikit-learn seeing it.
* Layering: nothing below the faces (``ops/``, ``autograd/``, ``backends/``,
  ``_tensor.py``) imports ``xgrad`` or a face.
"""

import ast
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import xgrad
from xgrad import array_api as xp
from xgrad.testing import assert_close, to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

RNG = np.random.default_rng(1212)
A = RNG.uniform(-1, 1, (3, 4))
B = RNG.uniform(-1, 1, (3, 4))
SQ = RNG.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3)
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
INTS = np.array([[3, 1, 2, 0], [1, 0, 0, 5], [3, 3, 1, 2]])
SEQ = np.array([[1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0]])


def idx(T, ref, values):
    """An int64 tensor of ``values`` for module ``T`` (on ``ref``'s device for xgrad)."""
    if T is torch:
        return torch.tensor(values, dtype=torch.int64)
    return xgrad.tensor(values, dtype=xgrad.int64, device=ref.device)


# name -> (fn(T, *tensors), input arrays, differentiable)
CASES = {
    # -- joining, flipping, rolling, contracting ------------------------------------------
    "cat_positional_dim": (lambda T, a, b: T.cat((a, b), 1), [A, B], True),
    "cat_dim_kw": (lambda T, a, b: T.cat([a, b], dim=0), [A, B], True),
    "concat_alias": (lambda T, a, b: T.concat((a, b), 1), [A, B], True),
    "stack_positional_dim": (lambda T, a, b: T.stack((a, b, a), 1), [A, B], True),
    "flip_dims": (lambda T, x: T.flip(x, dims=(0, 1)), [A], True),
    "flip_list": (lambda T, x: T.flip(x, [1]), [A], True),
    "roll_shifts_dims": (lambda T, x: T.roll(x, shifts=1, dims=0), [A], True),
    "roll_tuples": (lambda T, x: T.roll(x, shifts=(1, -2), dims=(0, 1)), [A], True),
    "roll_flat": (lambda T, x: T.roll(x, 5), [A], True),
    "tensordot_int": (lambda T, a, b: T.tensordot(a, b.mT, dims=1), [A, B], True),
    "tensordot_lists": (lambda T, a, b: T.tensordot(a, b, dims=([1, 0], [1, 0])), [A, B], True),
    "tensordot_default": (lambda T, a, b: T.tensordot(a, b), [A, B], True),
    "tril_diagonal": (lambda T, x: T.tril(x, diagonal=1), [A], True),
    "triu_diagonal": (lambda T, x: T.triu(x, diagonal=-1), [A], True),
    "triu_positional": (lambda T, x: T.triu(x, 2), [A], True),
    # -- reductions ---------------------------------------------------------------------------
    "prod_dim_keepdim": (lambda T, x: T.prod(x, 1, keepdim=True), [A], True),
    "prod_all": (lambda T, x: T.prod(x), [A], True),
    "std_dim": (lambda T, x: T.std(x, dim=1), [A], True),
    "std_default": (lambda T, x: T.std(x), [A], True),
    "std_unbiased_false": (lambda T, x: T.std(x, unbiased=False), [A], True),
    "std_legacy_positional": (lambda T, x: T.std(x, 0, True, True), [A], True),
    "std_correction": (lambda T, x: T.std(x, dim=(0, 1), correction=0), [A], True),
    "var_dim": (lambda T, x: T.var(x, dim=1), [A], True),
    "var_correction_keepdim": (lambda T, x: T.var(x, 0, correction=2, keepdim=True), [A], True),
    "max_dim_values": (lambda T, x: T.max(x, dim=1)[0], [TIES], True),
    "max_dim_pair": (lambda T, x: tuple(T.max(x, 1, keepdim=True)), [A], True),
    "max_all": (lambda T, x: T.max(x), [A], True),
    "max_elementwise": (lambda T, a, b: T.max(a, b), [A, B], True),
    "min_dim_named": (lambda T, x: (T.min(x, dim=0).values, T.min(x, dim=0).indices), [A], True),
    "min_all": (lambda T, x: T.min(x), [A], True),
    "min_elementwise": (lambda T, a, b: T.min(a, b), [A, B], True),
    "amax_dims": (lambda T, x: T.amax(x, dim=(0, 1)), [A], True),
    "argmax_dim_keepdim": (lambda T, x: T.argmax(x, dim=1, keepdim=True), [A], False),
    "argmin_all": (lambda T, x: T.argmin(x), [A], False),
    "mean_dim_keepdim": (lambda T, x: T.mean(x, dim=1, keepdim=True), [A], True),
    "mean_dims_list": (lambda T, x: T.mean(x, [0, 1]), [A], True),
    "mean_dtype": (lambda T, x: T.mean(x.to(T.float32), dtype=T.float64), [A], False),
    "sum_dims_tuple": (lambda T, x: T.sum(x, dim=(0, 1)), [A], True),
    "sum_dim_keepdim": (lambda T, x: T.sum(x, 0, True), [A], True),
    "sum_dtype": (lambda T, x: T.sum(x, dtype=T.float32), [A], False),
    "sum_int_dtype": (lambda T, x: T.sum(x.to(T.int32), 1), [INTS], False),
    "all_dim": (lambda T, x: T.all(x > -0.5, dim=1), [A], False),
    "any_dim_keepdim": (lambda T, x: T.any(x > 0.5, 0, keepdim=True), [A], False),
    "count_nonzero_dim": (lambda T, x: T.count_nonzero(x, dim=0), [INTS], False),
    "norm_default": (lambda T, x: T.norm(x), [A], True),
    "norm_p1_dim": (lambda T, x: T.norm(x, p=1, dim=1), [A], True),
    "norm_fro_keepdim": (lambda T, x: T.norm(x, dim=0, keepdim=True), [A], True),
    "norm_nuc": (lambda T, x: T.norm(x, "nuc"), [A], True),
    "cumsum_dim": (lambda T, x: T.cumsum(x, dim=1), [A], True),
    "cumprod_dim": (lambda T, x: T.cumprod(x, 0), [A], True),
    "diff_dim": (lambda T, x: T.diff(x, dim=0), [A], True),
    "diff_n_prepend": (lambda T, x: T.diff(x, n=2, dim=1, prepend=x[:, :1]), [A], True),
    # -- elementwise with PyTorch's keywords ----------------------------------------------
    "clamp_min_max": (lambda T, x: T.clamp(x, min=-0.5, max=0.5), [A], True),
    "clamp_min_only": (lambda T, x: T.clamp(x, min=0.1), [A], True),
    "clamp_tensor_bounds": (lambda T, x, lo: T.clamp(x, min=lo), [A, B], True),
    "where_three": (lambda T, x, y: T.where(x > 0, x, y), [A, B], True),
    "where_one": (lambda T, x: T.where(x > 0), [A], False),
    "add_alpha": (lambda T, a, b: T.add(a, b, alpha=2), [A, B], True),
    "div_floor": (lambda T, a, b: T.div(a, b, rounding_mode="floor"), [A, B], False),
    "div_trunc": (lambda T, a, b: T.div(a, b, rounding_mode="trunc"), [A, B], False),
    "round_decimals": (lambda T, x: T.round(x, decimals=2), [A], False),
    # -- shape ------------------------------------------------------------------------------
    "flatten_start": (lambda T, x: T.flatten(x.reshape(3, 2, 2), 1), [A], True),
    "transpose": (lambda T, x: T.transpose(x, 0, 1), [A], True),
    "permute": (lambda T, x: T.permute(x, (1, 0)), [A], True),
    "reshape": (lambda T, x: T.reshape(x, (2, -1)), [A], True),
    "unsqueeze": (lambda T, x: T.unsqueeze(x, 1), [A], True),
    "squeeze_tuple_ignores_non1": (lambda T, x: T.squeeze(x.reshape(1, 3, 1, 4), (0, 1, 2)),
                                   [A], True),
    "squeeze_int_non1": (lambda T, x: T.squeeze(x, 1), [A], True),
    "squeeze_all": (lambda T, x: T.squeeze(x.reshape(1, 3, 1, 4)), [A], True),
    # -- searching and sorting --------------------------------------------------------------
    "sort_default": (lambda T, x: tuple(T.sort(x)), [TIES], True),
    "sort_descending_dim": (lambda T, x: tuple(T.sort(x, dim=0, descending=True, stable=True)),
                            [TIES], True),
    "argsort_descending": (lambda T, x: T.argsort(x, dim=1, descending=True, stable=True),
                           [TIES], False),
    "nonzero": (lambda T, x: T.nonzero(x), [INTS], False),
    "nonzero_as_tuple": (lambda T, x: T.nonzero(x, as_tuple=True), [INTS], False),
    "take_flat": (lambda T, x: T.take(x, idx(T, x, [[0, -1], [5, 3]])), [A], True),
    "searchsorted_right": (lambda T, s, v: T.searchsorted(s[0], v, right=True),
                           [SEQ, np.array([[3.0, 8.0], [0.0, 5.0]])], False),
    "searchsorted_side_batched": (lambda T, s, v: T.searchsorted(s, v, side="right"),
                                  [SEQ, np.array([[3.0, 8.0], [2.0, 9.0]])], False),
    "unique_all_outputs": (lambda T, x: T.unique(x, sorted=True, return_inverse=True,
                                                 return_counts=True), [INTS], False),
    "unique_values": (lambda T, x: T.unique(x), [INTS], False),
    # -- linear algebra -----------------------------------------------------------------------
    "linalg_solve_batch_of_vectors": (lambda T, a, b: T.linalg.solve(a, b),
                                      [SQ, RNG.uniform(-1, 1, (2, 3))], True),
    "linalg_solve_matrix": (lambda T, a, b: T.linalg.solve(a, b),
                            [SQ, RNG.uniform(-1, 1, (3, 2))], True),
    "linalg_solve_left_false": (lambda T, a, b: T.linalg.solve(a, b, left=False),
                                [SQ, RNG.uniform(-1, 1, (2, 4, 3))], True),
    "linalg_vector_norm": (lambda T, x: T.linalg.vector_norm(x, 3, dim=1, keepdim=True), [A], True),
    "linalg_matrix_norm": (lambda T, x: T.linalg.matrix_norm(x, "nuc", dim=(0, 1)), [A], True),
    "linalg_matrix_norm_empty_1": (lambda T, x: T.linalg.matrix_norm(x[:0, :0], ord=1), [A], False),
    "linalg_matrix_norm_empty_inf": (lambda T, x: T.linalg.matrix_norm(x[:, :0], ord=float("inf")),
                                     [A], True),
    "linalg_matrix_norm_empty_2": (lambda T, x: T.linalg.matrix_norm(x[:0, :0], ord=2), [A], False),
    "linalg_norm_dim": (lambda T, x: T.linalg.norm(x, dim=0), [A], True),
    "linalg_cross_dim": (lambda T, a, b: T.linalg.cross(a[:, :3], b[:, 1:], dim=1), [A, B], True),
    "linalg_vecdot_broadcast_dim": (lambda T, a, b: T.linalg.vecdot(a, b[:, :1], dim=1), [A, B], True),
    "linalg_eigh_uplo": (lambda T, x: T.linalg.eigvalsh(x[0], "U"), [SQ], True),
    "fft_dim_norm": (lambda T, x: T.fft.fft(x, dim=0, norm="ortho").real, [A], True),
    "rfftn_dim": (lambda T, x: T.fft.rfftn(x, dim=(0, 1)).imag, [A], True),
    "fftshift_dim": (lambda T, x: T.fft.fftshift(x, dim=1), [A], True),
    # -- Tensor methods ------------------------------------------------------------------------
    "method_max_dim": (lambda T, x: tuple(x.max(dim=1)), [A], True),
    "method_std": (lambda T, x: x.std(), [A], True),
    "method_var_dim": (lambda T, x: x.var(1, keepdim=True), [A], True),
    "method_squeeze_dims": (lambda T, x: x.reshape(1, 3, 1, 4).squeeze((0, 1)), [A], True),
    "method_sort": (lambda T, x: tuple(x.sort(descending=True)), [TIES], True),
    "method_flip_varargs": (lambda T, x: x.flip(0, 1), [A], True),
    "method_flip_dims": (lambda T, x: x.flip(dims=(1,)), [A], True),
    "method_roll": (lambda T, x: x.roll(1, 1), [A], True),
    "method_roll_kw": (lambda T, x: x.roll(shifts=(1, 1), dims=(0, 1)), [A], True),
    "method_prod_dim": (lambda T, x: x.prod(1), [A], True),
    "method_nonzero": (lambda T, x: x.nonzero(), [INTS], False),
    "method_sum_dims": (lambda T, x: x.sum(dim=(0, 1)), [A], True),
    "method_mean_keepdim": (lambda T, x: x.mean(1, True), [A], True),
    "method_min_other": (lambda T, a, b: a.min(b), [A, B], True),
    "method_argmax": (lambda T, x: x.argmax(dim=0), [A], False),
    "method_cumsum": (lambda T, x: x.cumsum(0), [A], True),
    "method_clamp": (lambda T, x: x.clamp(max=0.2), [A], True),
}


def _xgrad_dtype(torch_dtype):
    return getattr(xgrad, str(torch_dtype).split(".")[-1])


def _compare(got, want, name):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), name
        if hasattr(want, "_fields"):
            assert got._fields == want._fields, name
        for g, w in zip(got, want):
            _compare(g, w, name)
        return
    if isinstance(want, (bool, int, float)):
        assert type(got) is type(want) and got == want, name
        return
    assert isinstance(got, xgrad.Tensor), (name, type(got))
    assert got.dtype == _xgrad_dtype(want.dtype), (name, got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (name, got.shape, want.shape)
    assert_close(got.detach(), want.detach().numpy(), rtol=1e-10, atol=1e-12)


def _leaves(out):
    if isinstance(out, tuple):
        return [o for x in out for o in _leaves(x)]
    return [out]


@pytest.mark.parametrize("name", sorted(CASES))
def test_pytorch_face_matches_pytorch(name, device):
    fn, arrays, differentiable = CASES[name]
    tt = [torch.tensor(a, requires_grad=differentiable) for a in arrays]
    xt = [xgrad.asarray(a, device=device, requires_grad=differentiable) for a in arrays]
    want = fn(torch, *tt)
    got = fn(xgrad, *xt)
    _compare(got, want, name)
    if not differentiable:
        return
    w_out = [o for o in _leaves(want) if o.dtype.is_floating_point and o.requires_grad]
    g_out = [o for o in _leaves(got) if o.dtype.is_floating_point and o.requires_grad]
    assert len(w_out) == len(g_out) and w_out, name
    weights = [RNG.uniform(0.5, 1.5, tuple(o.shape)) for o in w_out]
    sum(((o * torch.tensor(w)).sum() for o, w in zip(w_out, weights))).backward()
    sum(((o * xgrad.asarray(w, device=device)).sum() for o, w in zip(g_out, weights))).backward()
    for t, x in zip(tt, xt):
        if t.grad is None:
            assert x.grad is None or not np.any(to_numpy(x.grad)), name
        else:
            assert_close(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_equal_is_a_python_bool(device):
    a = xgrad.asarray(A, device=device)
    for T, x in ((torch, torch.tensor(A)), (xgrad, a)):
        assert T.equal(x, x * 1) is True
        assert T.equal(x, x + 1) is False
        assert T.equal(x, x[:2]) is False
        assert x.equal(x) is True
    assert xgrad.equal(a, xgrad.asarray(A.astype(np.float32), device=device).double()) == \
        torch.equal(torch.tensor(A), torch.tensor(A.astype(np.float32)).double())


def test_matmul_of_different_dtypes_raises_like_pytorch(device):
    a = xgrad.ones((2, 2), dtype=xgrad.float32, device=device)
    b = xgrad.ones((2, 2), dtype=xgrad.float64, device=device)
    with pytest.raises(RuntimeError) as want:
        torch.matmul(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.float64))
    for f in (xgrad.matmul, lambda x, y: x.matmul(y), xgrad.linalg.matmul, xgrad.mm):
        with pytest.raises(RuntimeError) as got:
            f(a, b)
        assert str(got.value) == str(want.value)


def test_cat_with_none_raises_type_error_like_pytorch(device):
    a = xgrad.ones(2, device=device)
    with pytest.raises(TypeError) as want:
        torch.cat([torch.ones(2), None])
    with pytest.raises(TypeError) as got:
        xgrad.cat([a, None])
    assert str(got.value) == str(want.value)
    with pytest.raises(TypeError):
        xgrad.stack([a, None])


def test_creation_with_pytorch_signatures(device):
    for T, kw in ((torch, {}), (xgrad, {"device": device})):
        assert tuple(T.zeros(2, 3, **kw).shape) == (2, 3)
        assert tuple(T.ones(2, 3, **kw).shape) == (2, 3)
        assert tuple(T.empty(4, 2, **kw).shape) == (4, 2)
        assert tuple(T.full((2, 3), 1.5, **kw).shape) == (2, 3)
    assert xgrad.full((2,), 7, device=device).dtype == xgrad.int64
    assert xgrad.full((2,), 7.0, device=device).dtype == xgrad.float32
    for args in ((5,), (1, 4, 0.5), (0.0, 3), (2, 9, 3)):
        want = torch.arange(*args)
        got = xgrad.arange(*args, device=device)
        assert got.dtype == _xgrad_dtype(want.dtype), args
        assert_close(got, want.numpy())
    assert xgrad.arange(xgrad.tensor(3)).dtype == xgrad.int64
    assert xgrad.arange(end=3).tolist() == [0, 1, 2]
    got = xgrad.linspace(0, 4, steps=5, device=device)
    want = torch.linspace(0, 4, steps=5)
    assert got.dtype == xgrad.float32
    assert_close(got, want.numpy())
    assert_close(xgrad.meshgrid(xgrad.arange(3), xgrad.arange(2))[0],
                 torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij")[0].numpy())


def test_named_tuples_and_zero_dim(device):
    s = xgrad.asarray(2.0, device=device)
    out = xgrad.max(s, 0)
    assert out._fields == ("values", "indices") and float(out.values) == 2.0 and int(out.indices) == 0
    out = xgrad.sort(s)
    assert out._fields == ("values", "indices") and float(out.values) == 2.0
    assert tuple(xgrad.nonzero(s).shape) == tuple(torch.nonzero(torch.tensor(2.0)).shape)
    assert type(xgrad.max(xgrad.ones((2, 2), device=device), 1)).__name__ == "max"


def test_max_with_dim_sends_gradient_to_the_returned_index(device):
    # PyTorch: max(x, dim) puts the whole gradient on the index it returns; max(x) shares ties
    x = xgrad.asarray(TIES, device=device, requires_grad=True)
    t = torch.tensor(TIES, requires_grad=True)
    xgrad.max(x, 1).values.sum().backward()
    torch.max(t, 1).values.sum().backward()
    assert_close(x.grad, t.grad.numpy())


def test_out_keyword_raises_clearly(device):
    a = xgrad.ones(3, device=device)
    with pytest.raises(NotImplementedError, match="out="):
        xgrad.sum(a, out=a)
    with pytest.raises(NotImplementedError, match="out="):
        xgrad.cat([a, a], out=a)


def test_pytorch_errors(device):
    a = xgrad.ones((2, 3), device=device)
    with pytest.raises(RuntimeError):
        xgrad.mean(xgrad.ones(3, dtype=xgrad.int64, device=device))
    with pytest.raises(RuntimeError):
        torch.mean(torch.ones(3, dtype=torch.int64))
    with pytest.raises(IndexError):
        xgrad.squeeze(a, 3)
    with pytest.raises(RuntimeError):
        xgrad.clamp(a)


# -- the standard's face ----------------------------------------------------------------------
STANDARD_2024_12 = {
    "e", "inf", "nan", "newaxis", "pi", "arange", "asarray", "empty", "empty_like", "eye",
    "from_dlpack", "full", "full_like", "linspace", "meshgrid", "ones", "ones_like", "tril",
    "triu", "zeros", "zeros_like", "astype", "can_cast", "finfo", "iinfo", "isdtype",
    "result_type", "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh",
    "bitwise_and", "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "ceil", "clip", "conj", "copysign", "cos", "cosh", "divide", "equal", "exp",
    "expm1", "floor", "floor_divide", "greater", "greater_equal", "hypot", "imag", "isfinite",
    "isinf", "isnan", "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp",
    "logical_and", "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "multiply",
    "negative", "nextafter", "not_equal", "positive", "pow", "real", "reciprocal", "remainder",
    "round", "sign", "signbit", "sin", "sinh", "square", "sqrt", "subtract", "tan", "tanh",
    "trunc", "take", "take_along_axis", "matmul", "matrix_transpose", "tensordot", "vecdot",
    "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip", "moveaxis",
    "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack", "tile", "unstack", "argmax",
    "argmin", "count_nonzero", "nonzero", "searchsorted", "where", "unique_all", "unique_counts",
    "unique_inverse", "unique_values", "argsort", "sort", "cumulative_sum", "cumulative_prod",
    "max", "mean", "min", "prod", "std", "sum", "var", "all", "any", "diff",
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
    "float64", "complex64", "complex128", "linalg", "fft"}
LINALG = {"cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
          "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr",
          "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm"}
FFT = {"fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
       "fftfreq", "rfftfreq", "fftshift", "ifftshift"}


def test_standard_namespace_is_exactly_the_standard():
    public = {n for n in dir(xp) if not n.startswith("_")}
    assert public == STANDARD_2024_12
    assert set(xp.__all__) == STANDARD_2024_12 | {"__array_api_version__",
                                                   "__array_namespace_info__"}
    assert xp.__array_api_version__ == "2024.12"
    assert set(xp.linalg.__all__) == LINALG and set(xp.fft.__all__) == FFT
    assert all(callable(getattr(xp.linalg, n)) for n in LINALG)
    assert all(callable(getattr(xp.fft, n)) for n in FFT)
    info = xp.__array_namespace_info__()
    assert {"capabilities", "default_device", "default_dtypes", "devices", "dtypes"} <= set(dir(info))


def test_array_namespace_returns_the_standard(device):
    x = xgrad.asarray([1.0], device=device)
    assert x.__array_namespace__() is xp
    assert x.__array_namespace__(api_version="2024.12") is xp
    assert x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError):
        x.__array_namespace__(api_version="1999.01")


def test_standard_semantics_where_pytorch_differs(device):
    x = xgrad.asarray(A, device=device)
    n = A
    assert_close(xp.std(x), np.std(n))                         # correction=0
    assert_close(xp.var(x, axis=1, correction=1), np.var(n, axis=1, ddof=1))
    m = xp.max(x, axis=1)                                       # values only
    assert isinstance(m, xgrad.Tensor)
    assert_close(m, n.max(1))
    with pytest.raises(ValueError):                            # squeeze of a non-1 axis raises
        xp.squeeze(x, axis=0)
    assert tuple(xp.squeeze(xp.reshape(x, (1, 3, 4)), axis=0).shape) == (3, 4)
    nz = xp.nonzero(xgrad.asarray(INTS, device=device))        # a tuple of index arrays
    assert isinstance(nz, tuple) and len(nz) == 2
    assert_close(nz[1], np.nonzero(INTS)[1])
    assert_close(xp.flip(x, axis=0), np.flip(n, 0))
    assert_close(xp.flip(x), np.flip(n))
    assert_close(xp.roll(x, 1, axis=1), np.roll(n, 1, 1))
    assert_close(xp.tensordot(x, xp.matrix_transpose(x), axes=1), n @ n.T)
    assert_close(xp.tril(x, k=1), np.tril(n, 1))
    assert_close(xp.equal(x, x), np.ones((3, 4), bool))        # elementwise
    assert_close(xp.take(x, xgrad.asarray([2, 0], device=device), axis=1), n[:, [2, 0]])
    s = xp.sort(x, axis=0, descending=True)                     # values only
    assert isinstance(s, xgrad.Tensor)
    assert_close(s, -np.sort(-n, 0))
    assert_close(xp.meshgrid(xp.arange(3, device=device), xp.arange(2, device=device))[0],
                 np.meshgrid(np.arange(3), np.arange(2))[0])  # indexing='xy'
    # linalg.solve: only a 1-D x2 is a vector; (3, 3, 3) with (3, 3) is a batch of matrices
    a = xgrad.asarray(RNG.uniform(-1, 1, (3, 3, 3)) + 3 * np.eye(3), device=device)
    b = xgrad.asarray(RNG.uniform(-1, 1, (3, 3)), device=device)
    assert tuple(xp.linalg.solve(a, b).shape) == (3, 3, 3)
    assert tuple(xgrad.linalg.solve(a, b).shape) == (3, 3)     # PyTorch: a batch of vectors
    assert_close(xp.linalg.solve(a, b), np.linalg.solve(to_numpy(a), to_numpy(b)))
    assert_close(xp.linalg.vector_norm(x, axis=1, keepdims=True, ord=1),
                 np.abs(n).sum(1, keepdims=True))
    assert_close(xp.linalg.matrix_norm(x, keepdims=True, ord="fro"),
                 np.linalg.norm(n)[None, None])
    assert_close(xp.fft.fft(x, axis=0), np.fft.fft(n, axis=0))
    with pytest.raises(ValueError):                            # contracted axes don't broadcast
        xp.tensordot(x, x[:1], axes=([0], [0]))
    assert tuple(xgrad.tensordot(x, x[:1], dims=([0], [0])).shape) == tuple(
        torch.tensordot(torch.tensor(A), torch.tensor(A)[:1], dims=([0], [0])).shape)
    with pytest.raises(ValueError):
        xp.vecdot(x, x[:, :1])
    with pytest.raises(ValueError):
        xp.linalg.vecdot(x, x[:, :1])
    # promotion: the standard promotes a 0-d array by its dtype (PyTorch treats it as weak;
    # what the shared operators do is xgrad._promotion's choice)
    v = xgrad.ones(3, dtype=xgrad.float32, device=device)
    s = xgrad.asarray(2.0, dtype=xgrad.float64, device=device)
    assert xp.multiply(v, s).dtype == xgrad.float64 and xp.maximum(s, v).dtype == xgrad.float64
    assert xp.where(v > 0, v, s).dtype == xgrad.float64
    i8 = xgrad.ones(3, dtype=xgrad.int8, device=device)
    assert xp.add(i8, xgrad.asarray(1, dtype=xgrad.int64, device=device)).dtype == xgrad.int64


def test_create_graph_rules_get_the_standard_namespace(device):
    # std's rule calls xp.std-free arithmetic, max's rule xp.max(axis=): second derivatives
    # go through the standard's face
    from xgrad.ops import _registry
    assert _registry.TENSOR_NAMESPACE is xp
    x = xgrad.asarray(A, device=device, requires_grad=True)
    t = torch.tensor(A, requires_grad=True)
    for T, v in ((xgrad, x), (torch, t)):
        y = (T.std(v, dim=1) ** 3).sum() + (T.amax(v, dim=0) ** 2).sum()
        (g,) = T.autograd.grad(y, v, create_graph=True)
        (g * g).sum().backward()
    assert_close(x.grad, t.grad.numpy(), rtol=1e-9)


def test_scipy_sees_the_standard():
    scipy_special = pytest.importorskip("scipy.special")
    code = ("import numpy as np, xgrad, scipy.special as sp\n"
            "t = xgrad.asarray(np.array([[0.5, 1.0, 2.0], [0.1, -1.0, 3.0]]))\n"
            "out = sp.logsumexp(t, axis=1)\n"
            "assert isinstance(out, xgrad.Tensor), type(out)\n"
            "ref = sp.logsumexp(np.array([[0.5, 1.0, 2.0], [0.1, -1.0, 3.0]]), axis=1)\n"
            "assert np.allclose(out.numpy(), ref)\n"
            "print('ok')\n")
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]
    del scipy_special


def test_sklearn_sees_the_standard():
    pytest.importorskip("sklearn")
    code = ("import numpy as np, xgrad, sklearn\n"
            "from sklearn.decomposition import PCA\n"
            "from sklearn.linear_model import Ridge\n"
            "rng = np.random.default_rng(0)\n"
            "X = rng.normal(size=(20, 4)); y = X @ np.array([1.0, -2.0, 0.5, 3.0])\n"
            "with sklearn.config_context(array_api_dispatch=True):\n"
            "    pca = PCA(n_components=2, svd_solver='full').fit(xgrad.asarray(X))\n"
            "    ridge = Ridge(alpha=1.0, solver='svd').fit(xgrad.asarray(X), xgrad.asarray(y))\n"
            "assert isinstance(pca.components_, xgrad.Tensor), type(pca.components_)\n"
            "ref = PCA(n_components=2, svd_solver='full').fit(X)\n"
            "assert np.allclose(np.abs(pca.components_.numpy()), np.abs(ref.components_))\n"
            "assert isinstance(ridge.coef_, xgrad.Tensor), type(ridge.coef_)\n"
            "assert np.allclose(ridge.coef_.numpy(), Ridge(alpha=1.0, solver='svd').fit(X, y).coef_)\n"
            "print('ok')\n")
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]


# -- layering ----------------------------------------------------------------------------------
ROOT = pathlib.Path(xgrad.__file__).parent
FACES = ("xgrad.array_api", "xgrad._namespace", "xgrad._tensor_methods", "xgrad.linalg",
         "xgrad.fft", "xgrad._torch_shape", "xgrad._torch_math", "xgrad._grad_namespace",
         "xgrad.special")


def _imports(path):
    """(line, module) for every import in ``path``, relative imports resolved; ``from P
    import name`` yields ``P.name`` when that is a module, else ``P`` itself."""
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module
            for a in node.names:
                sub = ROOT.parent / src.replace(".", "/") / a.name
                is_module = sub.with_suffix(".py").exists() or sub.is_dir()
                yield node.lineno, f"{src}.{a.name}" if is_module else src


def test_nothing_below_the_faces_imports_them():
    files = [ROOT / "_tensor.py"] + [p for d in ("ops", "autograd", "backends")
                                     for p in sorted((ROOT / d).rglob("*.py"))]
    bad = [f"{p.relative_to(ROOT.parent)}:{line} imports {mod}"
           for p in files for line, mod in _imports(p)
           if mod == "xgrad" or any(mod == f or mod.startswith(f + ".") for f in FACES)]
    assert not bad, "\n".join(bad)


# -- signatures: PyTorch's parameter names, read from PyTorch's own docstrings -----------------
_SIG_IGNORE = {"layout", "memory_format", "generator", "pin_memory", "names"}


def _torch_overloads(fn, name):
    """[(positional names, keyword-only names)] from the ``name(...) -> ...`` lines of
    ``fn.__doc__``."""
    import re
    out = []
    for line in (fn.__doc__ or "").split("\n"):
        line = line.strip()
        if not (line.startswith(name + "(") and "->" in line):
            continue
        inner = line[len(name) + 1: line.rindex(")", 0, line.index("->"))]
        parts, depth, cur = [], 0, ""
        for ch in inner:
            depth += ch in "([{"
            depth -= ch in ")]}"
            if ch == "," and depth == 0:
                parts.append(cur.strip())
                cur = ""
            else:
                cur += ch
        parts.append(cur.strip())
        pos, kw, star = [], [], False
        for p in filter(None, parts):
            if p == "*":
                star = True
                continue
            (kw if star else pos).append(re.split(r"[:=]", p)[0].strip().lstrip("*"))
        out.append((pos, kw))
    return out


SIGNATURES = ["cat", "stack", "flip", "roll", "tril", "triu", "prod", "std", "var", "sort",
              "argsort", "nonzero", "take", "clamp", "where", "cumsum", "cumprod",
              "count_nonzero", "diff", "unique", "linspace", "arange", "full", "flatten",
              "transpose", "permute", "reshape", "unsqueeze", "squeeze", "argmax", "argmin",
              "amax", "amin", "matmul", "mm", "bmm", "dot", "equal", "round", "add", "sub", "mul",
              "div", "pow", "atan2", "exp", "max", "min", "sum", "mean", "all", "any", "eye",
              "zeros", "ones", "empty", "zeros_like", "ones_like", "maximum", "minimum",
              "linalg.qr", "fft.fft", "fft.fftn", "fft.rfft", "fft.fftfreq", "fft.fftshift"]


@pytest.mark.parametrize("path", SIGNATURES)
def test_signatures_take_pytorchs_parameter_names(path):
    import inspect
    ours, theirs = xgrad, torch
    for part in path.split("."):
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    name = path.split(".")[-1]
    overloads = _torch_overloads(theirs, name)
    assert overloads, f"no signature line in torch.{path}.__doc__"
    params = list(inspect.signature(ours).parameters.values())
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    first = [n for n in overloads[0][0] if n not in _SIG_IGNORE]
    if not varargs:
        assert positional[:len(first)] == first, (positional, overloads[0])
    for pos, kw in overloads:
        for n in pos + kw:
            if n in _SIG_IGNORE or (varargs and n == "size"):
                continue
            assert n in accepted, (n, overloads)
