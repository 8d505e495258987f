"""Advanced indexing (integer arrays, boolean masks, bools, lists) against PyTorch, on every device.

Each key of the table is built twice, with torch tensors and with xgrad tensors;
PyTorch computes the expected values and gradients in the test. On ``strict``
the composed path (standard functions only) runs; on ``cpu`` NumPy's fancy indexing.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xgrad
from xgrad.ops import advanced_index
from xgrad.testing import gradcheck, gradgradcheck


class I:
    """An integer index tensor."""

    def __init__(self, value, dtype="int64"):
        self.value, self.dtype = np.asarray(value, dtype=dtype), dtype


class B:
    """A boolean mask tensor."""

    def __init__(self, value):
        self.value = np.asarray(value, dtype=bool)


def _has_mask(key):
    return any(isinstance(k, B) and k.value.ndim for k in (key if isinstance(key, tuple) else (key,)))


def _dask_mask(device, key):
    """Dask knows the size of ``x[mask]`` only after computing: its gradient (and values
    of that size written through the mask) are a clear DaskUnsupported error there."""
    return device.type == "dask" and _has_mask(key)


def torch_key(key):
    def one(k):
        if isinstance(k, I):
            return torch.tensor(k.value, dtype=getattr(torch, k.dtype))
        if isinstance(k, B):
            return torch.tensor(k.value)
        return k
    return tuple(one(k) for k in key) if isinstance(key, tuple) else one(key)


def xgrad_key(key, device):
    def one(k):
        if isinstance(k, I):
            return xgrad.asarray(k.value, dtype=getattr(xgrad, k.dtype), device=device)
        if isinstance(k, B):
            return xgrad.asarray(k.value, device=device)
        return k
    return tuple(one(k) for k in key) if isinstance(key, tuple) else one(key)


_ = slice(None)
# name -> (shape of x, key): from PyTorch's and NumPy's indexing documentation
READS = {
    "int_array": ((5, 3), I([0, 2, 4])),
    "int_array_repeated": ((5, 3), I([1, 1, 3, 1])),
    "int_array_negative": ((5, 3), I([-1, 0, -5])),
    "int_array_2d": ((5, 3), I([[0, 1], [4, 4]])),
    "int_array_0_elements": ((5, 3), I(np.zeros((0,), int))),
    "int32_array": ((5, 3), I([3, 0], "int32")),
    "list": ((5, 3), [0, 2, 2]),
    "tuple_of_lists": ((4, 3), ([0, 1, 3], [2, 2, 0])),
    "empty_list": ((4, 3), []),
    "slice_then_array": ((4, 3, 5), (_, I([2, 0, 2]))),
    "ellipsis_then_array": ((4, 3, 5), (Ellipsis, I([4, 0]))),
    "array_then_slice": ((4, 3, 5), (I([3, 1]), slice(1, 3))),
    "two_arrays": ((4, 5), (I([0, 1, 3]), I([4, 0, 4]))),
    "two_arrays_broadcast": ((4, 5), (I([[0], [3]]), I([1, 2, 4]))),
    "two_arrays_on_3d": ((4, 3, 5), (I([0, 3]), I([2, 1]))),
    "two_arrays_last_axes": ((4, 3, 5), (_, I([0, 2]), I([1, 4]))),
    "arrays_split_by_slice": ((4, 3, 5), (I([1, 0]), _, I([1, 2]))),
    "arrays_split_by_slice_broadcast": ((4, 3, 5), (I([[0, 1]]), slice(1, None), I([[1], [2]]))),
    "arrays_split_by_none": ((4, 3, 5), (_, I([0, 1]), None, I([1, 2]))),
    "int_and_array": ((4, 3, 5), (1, I([0, 2, 2]))),
    "int_slice_array": ((4, 3, 5), (0, _, I([0, 4]))),
    "array_slice_int": ((4, 3, 5), (I([3, 0]), _, 2)),
    "int_array_int": ((4, 3, 5), (I([0, 3]), 1, I([2, 4]))),
    "zero_dim_int_tensor": ((4, 3, 5), (I(2), I([0, 1]))),
    "zero_dim_int_tensor_alone": ((4, 3), I(1)),
    "none_and_array": ((4, 3), (None, I([1, 2]))),
    "strided_slice_and_array": ((6, 5), (slice(None, None, 2), I([4, 1]))),
    "mask_full": ((3, 4), B([[True, False, True, False], [False, False, True, True],
                             [True, True, True, False]])),
    "mask_first_axis": ((4, 3), B([True, False, True, True])),
    "mask_middle_axis": ((2, 3, 4), (_, B([True, False, True]))),
    "mask_last_axis_ellipsis": ((2, 3, 4), (Ellipsis, B([False, True, True, False]))),
    "mask_2d_of_3d": ((2, 3, 4), B([[True, False, True], [False, True, True]])),
    "mask_2d_then_int": ((2, 3, 4), (B([[True, False, True], [False, False, True]]), 1)),
    "mask_all_false": ((3, 4), B([False, False, False])),
    "mask_and_array": ((3, 4), (B([True, False, True]), I([1, 3]))),
    "int_mask_slice": ((2, 3, 4), (0, B([True, False, True]), slice(1, 3))),
    "bool_true": ((3, 4), True),
    "bool_false": ((3, 4), False),
    "bool_true_with_array": ((3, 4), (I([0, 2]), True)),
    "zero_dim_bool_tensor": ((3, 4), B(True)),
    "bool_on_0d": ((), True),
    "array_on_size_0_axis": ((0, 3), (_, I([2, 0]))),
    "two_arrays_2d_result": ((4, 5), (I([[0, 0], [3, 3]]), I([[0, 4], [0, 4]]))),
}


# keys Dask's own indexing refuses (a clear DaskUnsupported on the dask device)
DASK_CANNOT = {"mask_2d_of_3d", "mask_and_array"}


def _case(name, device, rng):
    shape, key = READS[name]
    data = rng.standard_normal(shape)
    return data, torch_key(key), xgrad_key(key, device)


@pytest.mark.parametrize("name", sorted(READS))
def test_read_values_and_gradients_match_pytorch(device, name):
    rng = np.random.default_rng(sorted(READS).index(name))
    data, tkey, xkey = _case(name, device, rng)
    xt = torch.tensor(data, requires_grad=True)
    yt = xt[tkey]
    w = rng.standard_normal(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()

    x = xgrad.asarray(data, device=device, requires_grad=True)
    if device.type == "dask" and name in DASK_CANNOT:
        from xgrad.backends._dask import DaskUnsupported
        with pytest.raises(DaskUnsupported, match="boolean-mask key"):
            x[xkey]
        return
    y = x[xkey]
    if not _dask_mask(device, READS[name][1]):  # (Dask: unknown sizes, NaN)
        assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=0, atol=0)
    if _dask_mask(device, READS[name][1]):
        from xgrad.backends._dask import DaskUnsupported
        with pytest.raises(DaskUnsupported, match="boolean mask"):
            y.sum().backward()
        return
    (y * xgrad.asarray(w, device=device)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


GRADGRAD = ["int_array_repeated", "arrays_split_by_slice", "mask_middle_axis", "int_slice_array",
            "two_arrays_broadcast", "bool_true_with_array"]


@pytest.mark.parametrize("name", GRADGRAD)
def test_read_second_order(device, name):
    if _dask_mask(device, READS[name][1]):
        pytest.skip("Dask: no gradient through a boolean mask (test_read_values_and_gradients_...)")
    if device.type == "dask" and name not in ("int_array_repeated", "bool_true_with_array"):
        pytest.skip("Dask: finite differences compute once per element (slow); the composed "
                    "path these cases take is the strict device's, checked there")
    data, _t, xkey = _case(name, device, np.random.default_rng(1))
    x = xgrad.asarray(data, device=device, requires_grad=True)
    assert gradcheck(lambda x: x[xkey] ** 2, (x,))
    assert gradgradcheck(lambda x: x[xkey] ** 2, (x,))


def test_grad_fn_names(device):
    x = xgrad.asarray(np.ones((3, 4)), device=device, requires_grad=True)
    assert x[xgrad_key(I([0, 1]), device)].grad_fn.name() == "IndexBackward0"
    y = x * 1
    y[xgrad_key(I([0, 2]), device)] = 5.0
    assert y.grad_fn.name() == "IndexPutBackward0"


def test_strict_runs_the_composed_path(device):
    """On strict the plan is composed from standard functions (take, where, ...)."""
    x = xgrad.asarray(np.ones((3, 4, 5)), device=device)
    plan = advanced_index.plan_for(x, (xgrad_key(I([0, 2]), device), _, xgrad_key(I([1, 1]), device)))
    expected = {"cpu": "native", "cuda": "native"}.get(device.backend.name, "composed")
    assert plan.mode == expected
    assert plan.shape == (2, 4)


# -- writes ----------------------------------------------------------------------------------

# name -> (shape of x, key, shape of the value): no repeated indices (PyTorch leaves the
# value of a repeated assignment undefined)
WRITES = {
    "int_array": ((5, 3), I([0, 2, 4]), (3, 3)),
    "int_array_broadcast_value": ((5, 3), I([4, 1]), (3,)),
    "int_array_scalar_value": ((5, 3), I([3, 0]), ()),
    "negative": ((5, 3), I([-1, 0]), (2, 3)),
    "list": ((5, 3), [1, 3], (2, 3)),
    "slice_then_array": ((4, 3, 5), (_, I([2, 0])), (4, 2, 5)),
    "slice_then_array_broadcast_value": ((4, 3, 5), (_, I([2, 0])), (2, 1)),
    "two_arrays": ((4, 5), (I([0, 1, 3]), I([4, 0, 4])), (3,)),
    "arrays_split_by_slice": ((4, 3, 5), (I([1, 0]), _, I([1, 2])), (2, 3)),
    "int_slice_array": ((4, 3, 5), (0, _, I([0, 4])), (3, 2)),
    "int_array_int": ((4, 3, 5), (I([0, 3]), 1, I([2, 4])), (2,)),
    "mask_full": ((3, 4), B([[True, False, True, False], [False, False, True, True],
                             [True, True, True, False]]), (7,)),
    "mask_scalar_value": ((3, 4), B([[True, False, True, False], [False, False, True, True],
                                     [True, True, True, False]]), ()),
    "mask_middle_axis": ((2, 3, 4), (_, B([True, False, True])), (2, 2, 4)),
    "mask_then_int": ((2, 3, 4), (B([[True, False, True], [False, False, True]]), 1), (3,)),
    "bool_true": ((3, 4), True, (1, 3, 4)),
    "zero_dim_int_tensor": ((4, 3), (I(2), I([0, 1])), (2,)),
    "size_0_index": ((4, 3), I(np.zeros((0,), int)), (0, 3)),
}


def _write_case(name, device, rng):
    shape, key, vshape = WRITES[name]
    return rng.standard_normal(shape), rng.standard_normal(vshape), torch_key(key), \
        xgrad_key(key, device)


@pytest.mark.parametrize("name", sorted(WRITES))
@pytest.mark.parametrize("how", ["setitem", "iadd"])
def test_write_values_and_gradients_match_pytorch(device, name, how):
    rng = np.random.default_rng(sorted(WRITES).index(name))
    data, vdata, tkey, xkey = _write_case(name, device, rng)
    xt, vt = torch.tensor(data, requires_grad=True), torch.tensor(vdata, requires_grad=True)
    yt = xt.clone()
    if how == "setitem":
        yt[tkey] = vt
    else:
        yt[tkey] += vt
    w = rng.standard_normal(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()

    x0 = xgrad.asarray(data, device=device, requires_grad=True)
    v = xgrad.asarray(vdata, device=device, requires_grad=True)
    y = x0.clone()
    if _dask_mask(device, WRITES[name][1]) and (how == "iadd" or vdata.ndim):
        from xgrad.backends._dask import DaskUnsupported
        with pytest.raises((DaskUnsupported, RuntimeError)):
            if how == "setitem":
                y[xkey] = v
            else:
                y[xkey] += v
        return
    if how == "setitem":
        y[xkey] = v
    else:
        y[xkey] += v
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-15, atol=0)
    (y * xgrad.asarray(w, device=device)).sum().backward()
    np.testing.assert_allclose(x0.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_write_without_grad(device):
    """An unrecorded write (no tensor requires grad) gives PyTorch's values too."""
    for name in ("int_slice_array", "mask_then_int", "arrays_split_by_slice", "bool_true",
                 "mask_scalar_value"):
        if _dask_mask(device, WRITES[name][1]) and WRITES[name][2]:
            continue  # (values of unknown size: test_write_values_and_gradients_match_pytorch)
        data, vdata, tkey, xkey = _write_case(name, device, np.random.default_rng(3))
        yt = torch.tensor(data)
        yt[tkey] = torch.tensor(vdata)
        y = xgrad.asarray(data, device=device)
        y[xkey] = xgrad.asarray(vdata, device=device)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())


def test_write_value_dtype(device):
    """A Python scalar is cast to the tensor's dtype; a tensor of another dtype is
    PyTorch's RuntimeError ("Index put requires the source and destination dtypes match")."""
    y = xgrad.asarray(np.zeros(4, dtype=np.int64), device=device)
    y[xgrad_key(I([1, 3]), device)] = 2.7
    yt = torch.zeros(4, dtype=torch.int64)
    yt[torch.tensor([1, 3])] = 2.7
    assert y.dtype == xgrad.int64
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    with pytest.raises(RuntimeError, match="dtypes match"):
        yt[torch.tensor([1, 3])] = torch.tensor([2.7, -1.2])
    with pytest.raises(RuntimeError, match="dtypes match"):
        y[xgrad_key(I([1, 3]), device)] = xgrad.asarray([2.7, -1.2], device=device)


INDEX_PUT = {  # name -> (shape, key, value shape); repeats allowed with accumulate=True
    "repeated": ((5, 3), (I([1, 1, 3, 1]),), (4, 3)),
    "two_arrays_repeated": ((4, 5), (I([0, 0, 3]), I([4, 4, 4])), (3,)),
    "mask": ((3, 4), (B([[True, False, True, False], [False, False, True, True],
                          [True, True, True, False]]),), (7,)),
    "three_arrays_broadcast": ((4, 3, 5), (I([[1], [0]]), I([0, 2, 2]), I([1, 2, 1])), (2, 3)),
}


@pytest.mark.parametrize("accumulate", [True, False])
@pytest.mark.parametrize("name", sorted(INDEX_PUT))
def test_index_put_matches_pytorch(device, name, accumulate):
    """``index_put(x, key, v, accumulate)``: PyTorch's index_put (keys as tuples of index
    tensors, ``None`` meaning a whole axis); repeated indices only with accumulate."""
    shape, key, vshape = INDEX_PUT[name]
    if not accumulate and "repeated" in name:
        pytest.skip("PyTorch leaves repeated assignment undefined")
    if _dask_mask(device, key):
        pytest.skip("Dask: values of unknown size through a mask (test_write_values_and_...)")
    rng = np.random.default_rng(sorted(INDEX_PUT).index(name))
    data, vdata = rng.standard_normal(shape), rng.standard_normal(vshape)
    xt, vt = torch.tensor(data, requires_grad=True), torch.tensor(vdata, requires_grad=True)
    yt = torch.index_put(xt, torch_key(key), vt, accumulate=accumulate)
    w = rng.standard_normal(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()
    x = xgrad.asarray(data, device=device, requires_grad=True)
    v = xgrad.asarray(vdata, device=device, requires_grad=True)
    xkey = xgrad_key(key, device)
    y = advanced_index.index_put(x, xkey, v, accumulate=accumulate)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-14, atol=1e-14)
    (y * xgrad.asarray(w, device=device)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("accumulate", [True, False])
def test_index_put_second_order(device, accumulate):
    rng = np.random.default_rng(4)
    x = xgrad.asarray(rng.standard_normal((3, 2, 2)), device=device, requires_grad=True)
    v = xgrad.asarray(rng.standard_normal((2,)), device=device, requires_grad=True)
    key = xgrad_key((I([[1], [0]]), _, I([0, 1])), device)
    assert gradgradcheck(lambda x, v: advanced_index.index_put(x * x, key, v * v,
                                                               accumulate=accumulate), (x, v))


def test_repeated_assignment_keeps_the_last_value(device):
    """Assignment with repeated indices: the last value wins on every backend (NumPy's
    rule; PyTorch leaves it undefined); the values' gradient is PyTorch's ``g[key]``."""
    x = xgrad.asarray(np.zeros(4), device=device, requires_grad=True)
    v = xgrad.asarray(np.array([1.0, 2.0, 3.0, 4.0]), device=device, requires_grad=True)
    y = advanced_index.index_put(x, xgrad_key(I([2, 0, 2, 2]), device), v)
    # (Dask, which cannot sort lazily, gives a repeated index the mean of its values)
    expected = [2.0, 0.0, 8 / 3, 0.0] if device.type == "dask" else [2.0, 0.0, 4.0, 0.0]
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-15)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 1.0, 1.0, 1.0])


def test_setitem_second_order(device):
    rng = np.random.default_rng(5)
    x0 = xgrad.asarray(rng.standard_normal((3, 2, 3)), device=device, requires_grad=True)
    v = xgrad.asarray(rng.standard_normal((2, 2)), device=device, requires_grad=True)
    key = xgrad_key((I([1, 0]), _, I([1, 2])), device)

    def f(x0, v):
        y = x0 * x0
        y[key] = v * y[key]
        return y
    assert gradcheck(f, (x0, v))
    assert gradgradcheck(f, (x0, v))


# -- errors ----------------------------------------------------------------------------------

def test_index_out_of_range_is_an_index_error(device):
    if device.type == "dask":
        pytest.skip("Dask: index arrays are not checked against the sizes (that would compute)")
    x = xgrad.asarray(np.ones((3, 4)), device=device)
    with pytest.raises(IndexError, match=r"\b5\b.*\b4\b"):
        x[:, xgrad_key(I([0, 5]), device)]
    with pytest.raises(IndexError, match=r"-4\b.*\b3\b"):
        x[xgrad_key(I([0, -4]), device)]
    with pytest.raises(IndexError, match=r"\b3\b.*size 3"):
        x[3, xgrad_key(I([0]), device)]
    with pytest.raises(IndexError, match=r"\b7\b.*\b4\b"):
        x[:, xgrad_key(I([7]), device)] = 1.0


def test_mask_shape_mismatch_is_an_index_error(device):
    x = xgrad.asarray(np.ones((3, 4)), device=device)
    with pytest.raises(IndexError, match=r"shape of the mask"):
        x[xgrad_key(B([True, False]), device)]


def test_size_zero_mask_axis_selects_nothing(device):
    """A mask axis of size 0 selects nothing from an axis of any size (NumPy's and the
    array API standard's reading, which its conformance suite tests; PyTorch raises)."""
    x = xgrad.asarray(np.arange(6.0).reshape(2, 3), device=device, requires_grad=True)
    y = x[xgrad.asarray(np.zeros((2, 0), bool), device=device)]
    assert y.shape == (0,)
    (y.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    assert xgrad.zeros((0, 1), device=device)[xgrad.asarray(np.zeros((0, 0), bool),
                                                            device=device)].shape == (0,)


def test_other_bad_keys(device):
    x = xgrad.asarray(np.ones((3, 4)), device=device)
    with pytest.raises(IndexError, match="too many indices"):
        x[xgrad_key(I([0]), device), 0, 0]
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x[xgrad.asarray([0.0, 1.0], device=device)]
    with pytest.raises(IndexError, match="broadcast"):
        x[xgrad_key(I([0, 1]), device), xgrad_key(I([0, 1, 2]), device)]


def test_gradient_of_new_axis_on_0d(device):
    """``x[None]`` of a 0-d tensor, and ``x[True]``, differentiate."""
    for key in (None, True, (None, None), Ellipsis):
        x = xgrad.asarray(2.0, dtype=xgrad.float64, device=device, requires_grad=True)
        xt = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        y, yt = x[key], xt[key]
        assert tuple(y.shape) == tuple(yt.shape)
        (y * 3.0).sum().backward()
        (yt * 3.0).sum().backward()
        assert float(x.grad) == float(xt.grad)


@pytest.mark.parametrize("key", [(slice(-5, None), slice(1, 9)), (slice(None, 7, 2), Ellipsis),
                                 (Ellipsis, slice(-9, -1)), (slice(3, 10), 0)])
def test_slice_bounds_out_of_range_are_clamped(device, key):
    """Python and PyTorch clamp slice bounds (the standard refuses them: strict)."""
    data = np.arange(12.0).reshape(3, 4)
    xt = torch.tensor(data, requires_grad=True)
    x = xgrad.asarray(data, device=device, requires_grad=True)
    yt, y = xt[key], x[key]
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    yt.sum().backward()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_slice_out_of_range_beside_an_index_array(device):
    data = np.arange(24.0).reshape(2, 3, 4)
    x = xgrad.asarray(data, device=device)
    xt = torch.tensor(data)
    got = x[slice(-7, 9), xgrad_key(I([2, 0]), device), slice(1, 20)]
    np.testing.assert_array_equal(got.numpy(), xt[-7:9, torch.tensor([2, 0]), 1:20].numpy())


def test_numpy_arrays_and_sequences_as_indices(device):
    """NumPy arrays, lists and tuples inside a key are index arrays, on every device."""
    data = np.arange(24.0).reshape(2, 3, 4)
    x, xt = xgrad.asarray(data, device=device), torch.tensor(data)
    for key, tkey in [((np.array([1, 0]), 2), (torch.tensor([1, 0]), 2)),
                      ((slice(None), np.array([True, False, True])),
                       (slice(None), torch.tensor([True, False, True]))),
                      (((1, 0), slice(None), [3, 3]), ((1, 0), slice(None), [3, 3])),
                      ([], [])]:
        np.testing.assert_array_equal(x[key].numpy(), xt[tkey].numpy())


def test_cpu_indices_index_tensors_on_any_device(device):
    """PyTorch accepts indices on the CPU for a tensor on another device (copied over)."""
    data = np.arange(12.0).reshape(3, 4)
    x = xgrad.asarray(data, device=device, requires_grad=True)
    i = xgrad.asarray(np.array([2, 0]))  # on the cpu device
    y = x[i, 1:]
    assert y.device == x.device
    np.testing.assert_array_equal(y.detach().numpy(), data[[2, 0], 1:])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1, 1], [0, 0, 0, 0], [0, 1, 1, 1]])
    z = x.detach() * 1
    z[i] = 0.0
    np.testing.assert_array_equal(z.numpy(), [[0] * 4, [4, 5, 6, 7], [0] * 4])
    if device.type != "cpu":
        with pytest.raises(RuntimeError, match="indices should be either on cpu"):
            xgrad.asarray(data)[xgrad.asarray(np.array([0]), device=device)]


def test_writes_with_slice_bounds_out_of_range(device):
    """``y[-2:, 1:9] = v`` (bounds clamped, as Python and PyTorch do) on every device."""
    data = np.arange(6.0).reshape(1, 6)
    xt = torch.tensor(data, requires_grad=True)
    vt = torch.ones(5, dtype=torch.float64, requires_grad=True)
    yt = xt * 1
    yt[-2:, 1:9] = vt
    yt[-5:, :1] *= 3.0
    (yt * yt).sum().backward()
    x = xgrad.asarray(data, device=device, requires_grad=True)
    v = xgrad.asarray(np.ones(5), device=device, requires_grad=True)
    y = x * 1
    y[-2:, 1:9] = v
    y[-5:, :1] *= 3.0
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_array_equal(v.grad.numpy(), vt.grad.numpy())
    z = x.detach() * 1  # unrecorded
    z[-2:, 4:9] = 0.0
    np.testing.assert_array_equal(z.numpy(), [[0, 1, 2, 3, 0, 0]])


def test_standard_only_scatter_add(device):
    """The base Backend's scatter-add (standard functions only, for libraries without
    a scatter of their own): repeated rows add up, on every device."""
    from xgrad.backends import Backend
    if device.type == "dask":
        pytest.skip("Dask arrays are written by rebinding (its own scatter_add hook)")
    xp = device.xp
    rng = np.random.default_rng(7)
    for shape, idx in [((5, 3), [1, 1, 4, 0, 1]), ((4,), [3, 3, 3]), ((3, 2, 2), [2, 0]),
                       ((3, 2), [])]:
        base = rng.standard_normal(shape)
        vals = rng.standard_normal((len(idx),) + shape[1:])
        target = xgrad.asarray(base.copy(), device=device)._data
        key = xgrad.asarray(np.asarray(idx, dtype=np.int64), device=device)._data
        Backend.scatter_add(device.backend, target, key, xgrad.asarray(vals, device=device)._data)
        expected = base.copy()
        np.add.at(expected, np.asarray(idx, dtype=np.int64), vals)
        np.testing.assert_allclose(device.backend.to_numpy(target), expected, rtol=1e-14,
                                   atol=1e-14)


def test_gradient_of_an_empty_read(device):
    """The gradient of a read that selects nothing (an empty slice, narrow of length 0,
    an empty integer-array read) is zeros, to second order, on every backend (Dask's
    setitem refused the empty scatter of its create_graph path)."""
    torch = pytest.importorskip("torch")
    import numpy as np
    a = np.arange(12.0).reshape(3, 4) / 7
    results = []
    for L in (torch, xgrad):
        x = torch.tensor(a, requires_grad=True) if L is torch else \
            xgrad.asarray(a.copy(), device=device, requires_grad=True)
        outs = [x.narrow(-2, 3, 0), x[:, None, 2:2], x[1:, -2:][0:0], x * 1]
        loss = sum((o * o).sum() for o in outs)
        (g,) = L.autograd.grad(loss, (x,), create_graph=True)
        (gg,) = L.autograd.grad((g * g).sum(), (x,))
        results.append([np.asarray(g.detach().numpy()), np.asarray(gg.detach().numpy())])
    for e, r in zip(*results):
        np.testing.assert_allclose(r, e, rtol=1e-12)
