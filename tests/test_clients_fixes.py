"""Regressions found by running SciPy's, scikit-learn's and array-api-extra's test
suites on xgrad (issue 13): NumPy integer axes, tile's result, moveaxis's range
check, ``__array__``'s ``copy``, NumPy ufuncs on tensors, NumPy's floating-point
warnings, a one-element value of another dtype written through a mask, two-operand
special functions' promotion. Each runs on every device."""

import warnings

import numpy as np
import pytest
import torch

import xgrad
from xgrad.testing import gradcheck

from conftest import make


def _std(device):
    return xgrad.ones(1, device=device).__array_namespace__()


def _x(device, shape=(2, 3), requires_grad=False):
    n = int(np.prod(shape))
    return make(np.arange(1.0, n + 1).reshape(shape), device, dtype=xgrad.float64,
                requires_grad=requires_grad)


AXIS_CALLS = {
    "cumulative_sum": (lambda xp, x, ax: xp.cumulative_sum(x, axis=ax), lambda a, ax: np.cumsum(a, axis=ax)),
    "cumulative_prod": (lambda xp, x, ax: xp.cumulative_prod(x, axis=ax), lambda a, ax: np.cumprod(a, axis=ax)),
    "diff": (lambda xp, x, ax: xp.diff(x, axis=ax), lambda a, ax: np.diff(a, axis=ax)),
    "moveaxis": (lambda xp, x, ax: xp.moveaxis(x, ax, np.int64(0)), lambda a, ax: np.moveaxis(a, ax, 0)),
    "moveaxis_tuple": (lambda xp, x, ax: xp.moveaxis(x, (ax, np.int64(0)), (np.int64(0), 1)),
                       lambda a, ax: np.moveaxis(a, (ax, 0), (0, 1))),
    "unstack": (lambda xp, x, ax: xp.unstack(x, axis=ax)[1], lambda a, ax: np.take(a, 1, axis=ax)),
    "sum": (lambda xp, x, ax: xp.sum(x, axis=ax), lambda a, ax: np.sum(a, axis=ax)),
    "sum_tuple": (lambda xp, x, ax: xp.sum(x, axis=(ax,)), lambda a, ax: np.sum(a, axis=(ax,))),
    "mean": (lambda xp, x, ax: xp.mean(x, axis=ax), lambda a, ax: np.mean(a, axis=ax)),
    "flip": (lambda xp, x, ax: xp.flip(x, axis=ax), lambda a, ax: np.flip(a, axis=ax)),
    "concat": (lambda xp, x, ax: xp.concat([x, x], axis=ax), lambda a, ax: np.concatenate([a, a], axis=ax)),
    "stack": (lambda xp, x, ax: xp.stack([x, x], axis=ax), lambda a, ax: np.stack([a, a], axis=ax)),
    "expand_dims": (lambda xp, x, ax: xp.expand_dims(x, axis=ax), lambda a, ax: np.expand_dims(a, ax)),
    "repeat": (lambda xp, x, ax: xp.repeat(x, np.int64(2), axis=ax), lambda a, ax: np.repeat(a, 2, axis=ax)),
    "tile": (lambda xp, x, ax: xp.tile(x, (ax, np.int64(2))), lambda a, ax: np.tile(a, (ax, 2))),
    "fftshift": (lambda xp, x, ax: xp.fft.fftshift(x, axes=ax), lambda a, ax: np.fft.fftshift(a, axes=ax)),
}


@pytest.mark.parametrize("name", sorted(AXIS_CALLS))
def test_numpy_integer_axes(device, name):
    """``np.int64`` axes (SciPy passes them) are accepted wherever an int is."""
    fn, ref = AXIS_CALLS[name]
    xp = _std(device)
    out = fn(xp, _x(device), np.int64(1))
    np.testing.assert_allclose(np.asarray(out), ref(np.arange(1.0, 7).reshape(2, 3), 1))


def test_numpy_integer_axes_gradient(device):
    xp = _std(device)
    x = _x(device, requires_grad=True)
    assert gradcheck(lambda t: xp.cumulative_sum(xp.diff(t, axis=np.int64(1)), axis=np.int64(0)), (x,))
    assert gradcheck(lambda t: xp.moveaxis(t, np.int64(0), np.int64(-1)), (x,))


@pytest.mark.parametrize("reps,shape", [((1, 1), (2, 3)), ((2, 1), (2, 3)), ((3,), (1,)),
                                        ((2, 2), (1, 1)), ((2,), ()), ((1,), (3,))])
def test_tile_is_a_new_writable_array(device, reps, shape):
    xp = _std(device)
    x = _x(device, shape) if shape else make(1.0, device, dtype=xgrad.float64)
    t = xp.tile(x, reps)
    expected = np.tile(np.asarray(x), reps)
    np.testing.assert_array_equal(np.asarray(t), expected)
    t[(0,) * t.ndim] = -5.0  # writable
    expected[(0,) * t.ndim] = -5.0
    np.testing.assert_array_equal(np.asarray(t), expected)
    assert float(x[(0,) * x.ndim]) == 1.0  # x untouched


def test_repeat_is_a_new_writable_array(device):
    xp = _std(device)
    x = _x(device, (3,))
    r = xp.repeat(x, 1)
    r[0] = -5.0
    np.testing.assert_array_equal(np.asarray(r), [-5.0, 2.0, 3.0])
    assert float(x[0]) == 1.0


def test_tile_gradient(device):
    xp = _std(device)
    assert gradcheck(lambda t: xp.tile(t, (2, 1)) ** 2, (_x(device, requires_grad=True),))


@pytest.mark.parametrize("source,destination", [((0, 1), (1, 5)), ((0, 5), (1, 0)), (2, 0),
                                                (0, -3), ((0, -3), (1, 0))])
def test_moveaxis_out_of_range_raises(device, source, destination):
    xp = _std(device)
    with pytest.raises(IndexError, match="out of bounds"):
        xp.moveaxis(_x(device), source, destination)


def test_moveaxis_repeated_axis_raises(device):
    xp = _std(device)
    with pytest.raises(ValueError, match="repeated"):
        xp.moveaxis(_x(device, (2, 3, 4)), (0, 0), (1, 2))


def test_moveaxis_negative_and_tuples(device):
    xp = _std(device)
    a = np.arange(24.0).reshape(2, 3, 4)
    x = make(a, device, dtype=xgrad.float64)
    for s, d in [((0, -1), (-1, 0)), ((-3, 1), (2, 0)), (-1, 0), ((), ())]:
        np.testing.assert_array_equal(np.asarray(xp.moveaxis(x, s, d)), np.moveaxis(a, s, d))


# -- __array__ --------------------------------------------------------------------------
def test_array_copy_true_copies(device):
    x = _x(device)
    a = np.array(x)  # copy=True (NumPy's default for np.array)
    a[0, 0] = 99.0
    assert float(x[0, 0]) == 1.0
    b = np.asarray(x, copy=True)
    b[0, 0] = 99.0
    assert float(x[0, 0]) == 1.0
    np.testing.assert_array_equal(np.array(x, dtype=np.float32), np.arange(1.0, 7).reshape(2, 3))


def test_array_copy_none_and_false(device):
    x = _x(device)
    if device.type == "cpu":  # NumPy's memory: shared, as t.numpy() is
        a = np.asarray(x)
        assert np.shares_memory(a, x.numpy())
        assert np.shares_memory(np.asarray(x, copy=False), x.numpy())
    else:  # elsewhere a copy is needed: copy=None copies, copy=False raises
        np.testing.assert_array_equal(np.asarray(x), np.arange(1.0, 7).reshape(2, 3))
        with pytest.raises(ValueError, match="avoid copy"):
            np.asarray(x, copy=False)
    with pytest.raises(ValueError, match="avoid copy"):
        np.asarray(x, dtype=np.float32, copy=False)


def test_array_of_tensor_requiring_grad_raises(device):
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(_x(device, requires_grad=True))


# -- __array_ufunc__ ----------------------------------------------------------------------
UFUNCS = [np.exp, np.log, np.sin, np.tanh, np.sqrt, np.absolute, np.negative, np.square,
          np.arcsin, np.expm1, np.log1p, np.isnan, np.sign, np.floor]


@pytest.mark.parametrize("ufunc", UFUNCS, ids=lambda u: u.__name__)
def test_numpy_unary_ufunc_returns_tensor(device, ufunc):
    a = np.array([0.1, 0.5, 0.9])
    x = make(a, device, dtype=xgrad.float64)
    out = ufunc(x)
    assert isinstance(out, xgrad.Tensor) and out.device == x.device
    np.testing.assert_allclose(np.asarray(out), ufunc(a))


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply, np.divide, np.power,
                                   np.maximum, np.arctan2, np.hypot, np.logaddexp, np.less],
                         ids=lambda u: u.__name__)
def test_numpy_binary_ufunc_returns_tensor(device, ufunc):
    a, b = np.array([0.5, 1.5, 2.0]), np.array([2.0, 0.5, 3.0])
    x = make(a, device, dtype=xgrad.float64)
    for args, ref in (((x, b), (a, b)), ((b, x), (b, a)), ((x, 2.0), (a, 2.0)),
                      ((np.float64(2.0), x), (2.0, a))):
        out = ufunc(*args)
        assert isinstance(out, xgrad.Tensor) and out.device == x.device
        np.testing.assert_allclose(np.asarray(out), ufunc(*ref))


def test_ndarray_operator_tensor_is_tensor(device):
    x = _x(device, (3,))
    out = np.ones(3) + x
    assert isinstance(out, xgrad.Tensor)
    np.testing.assert_allclose(np.asarray(out), [2.0, 3.0, 4.0])


def test_numpy_ufuncs_are_differentiable(device):
    x = make([0.2, 0.4, 0.7], device, dtype=xgrad.float64, requires_grad=True)
    assert gradcheck(lambda t: np.exp(np.sin(t)) * np.power(t, 3) + np.arctan2(t, 2.0), (x,))
    xgrad.sum(np.log(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / np.array([0.2, 0.4, 0.7]))


def test_numpy_ufunc_methods_and_out(device):
    x = _x(device, (3,))
    r = np.add.reduce(x)
    assert isinstance(r, xgrad.Tensor) and float(r) == 6.0
    acc = np.multiply.accumulate(x)
    assert isinstance(acc, xgrad.Tensor)
    np.testing.assert_array_equal(np.asarray(acc), [1.0, 2.0, 6.0])
    assert tuple(np.multiply.outer(x, x).shape) == (3, 3)
    out = xgrad.zeros(3, dtype=xgrad.float64, device=device)
    assert np.exp(x, out=out) is out
    np.testing.assert_allclose(np.asarray(out), np.exp([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="requires grad"):
        np.add.reduce(_x(device, (3,), requires_grad=True))


def test_scipy_special_ufunc_returns_tensor(device):
    special = pytest.importorskip("scipy.special")
    a = np.array([0.1, 0.5, 0.9])
    x = make(a, device, dtype=xgrad.float64)
    for fn in (special.erf, special.expit, special.gammaln):
        out = fn(x)
        assert isinstance(out, xgrad.Tensor) and out.device == x.device
        np.testing.assert_allclose(np.asarray(out), fn(a), rtol=1e-12)


def test_scipy_special_erf_is_differentiable(device):
    special = pytest.importorskip("scipy.special")
    try:
        import xgrad.special as xspecial
    except ImportError:
        pytest.skip("xgrad.special is not there yet")
    if not hasattr(xspecial, "erf"):
        pytest.skip("xgrad.special.erf is not there yet")
    x = make([0.1, 0.5, 0.9], device, dtype=xgrad.float64, requires_grad=True)
    assert gradcheck(lambda t: special.erf(t), (x,))


# -- NumPy's floating-point warnings --------------------------------------------------------
WARNING_CALLS = {
    "log_negative": lambda xp, d: xp.log(make(-1.0, d, dtype=xgrad.float64)),
    "divide_by_zero": lambda xp, d: make(1.0, d, dtype=xgrad.float64) / make(0.0, d, dtype=xgrad.float64),
    "asarray_cast_overflow": lambda xp, d: xp.asarray(1e300, dtype=xp.float32, device=d),
    "asarray_numpy_cast": lambda xp, d: xp.asarray(np.array([1e300]), dtype=xp.float32, device=d),
    "tensor_cast": lambda xp, d: xgrad.tensor([1e300], device=d),
    "exp_overflow": lambda xp, d: xp.exp(make(1000.0, d, dtype=xgrad.float64)),
    "astype_overflow": lambda xp, d: xp.astype(make(1e300, d, dtype=xgrad.float64), xp.float32),
    "multiply_overflow": lambda xp, d: make(1e300, d, dtype=xgrad.float64) * 1e300,
    "inf_minus_inf": lambda xp, d: make(np.inf, d, dtype=xgrad.float64) - np.inf,
    "sqrt_negative": lambda xp, d: xp.sqrt(make([-1.0, 4.0], d, dtype=xgrad.float64)),
    "numpy_ufunc": lambda xp, d: np.log(make([-1.0, 0.0], d, dtype=xgrad.float64)),
}


@pytest.mark.not_on("dask", reason="Dask computes later, in its own threads")
@pytest.mark.parametrize("name", sorted(WARNING_CALLS))
def test_no_numpy_floating_point_warnings(device, name):
    """PyTorch is silent on overflow/invalid/divide; so is xgrad (no RuntimeWarning,
    which ``filterwarnings = error`` would make an exception)."""
    xp = _std(device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = WARNING_CALLS[name](xp, device)
        np.asarray(out)


@pytest.mark.not_on("dask", reason="Dask computes later, in its own threads")
def test_no_numpy_floating_point_warnings_in_backward(device):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = make([0.0, -1.0, 4.0], device, dtype=xgrad.float64, requires_grad=True)
        y = xgrad.sum(xgrad.sqrt(x)) + xgrad.sum(xgrad.log(x))
        y.backward()
    g = x.grad.numpy()
    assert np.isinf(g[0]) and np.isnan(g[1]) and np.isfinite(g[2])


def test_users_own_numpy_still_warns():
    """xgrad silences NumPy only in its own calls: the user's NumPy keeps its error state."""
    _x("cpu")  # xgrad computed something
    with pytest.warns(RuntimeWarning):
        np.log(np.array(-1.0))
    assert np.geterr()["invalid"] == "warn"


def test_numpy_integer_keys_index_as_ints(device):
    """``t[np.int64(i), j] = v`` (scikit-learn's GaussianMixture) is a basic index."""
    xp = _std(device)
    r = xp.zeros((4, 3), dtype=xp.float64, device=device)
    for col, index in enumerate(np.array([2, 0, 1])):
        r[index, col] = 1.0
    expected = np.zeros((4, 3))
    expected[[2, 0, 1], [0, 1, 2]] = 1.0
    np.testing.assert_array_equal(np.asarray(r), expected)
    np.testing.assert_array_equal(np.asarray(r[np.int64(2)]), expected[2])
    assert tuple(r[np.int32(0), np.int64(1)].shape) == ()


def test_standard_face_special_has_only_scipy_compatible_functions():
    """``xp.special`` (what SciPy's scipy.special dispatches to) offers xgrad.special's
    functions except those whose signature or domain differs from SciPy's function of
    the same name, which SciPy then computes by its own generic path."""
    import xgrad.array_api as xa
    import xgrad.special
    special = xa.special
    assert special.erf is xgrad.special.erf and special.gammaln is xgrad.special.gammaln
    for name in ("polygamma", "gammainc", "gammaincc", "zeta", "softmax", "log_softmax"):
        assert hasattr(xgrad.special, name) and not hasattr(special, name), name
    assert "special" not in dir(xa) and "special" not in xa.__all__


# -- index writes of a one-element value of another dtype (array-api-extra's at()/apply_where)
ONE_ELEMENT_WRITES = {  # name -> (shape, key (a function of a tensor maker), value)
    "mask": ((2,), lambda m: (m([True, False]),), [1.7]),
    "mask_all_true": ((2,), lambda m: (m([True, True]),), [1.7]),
    "mask_rows": ((2, 3), lambda m: (m([True, False]),), [1.7]),
    "mask_rows_1x1": ((2, 3), lambda m: (m([True, False]),), [[1.7]]),
    "slice_mask": ((2, 3), lambda m: (slice(None), m([True, False, True])), [1.7]),
    "int_mask": ((2, 3), lambda m: (0, m([True, False, True])), [1.7]),
    "none_mask": ((2, 3), lambda m: (None, m([True, False])), [1.7]),
    "ellipsis_mask": ((2, 3), lambda m: (Ellipsis, m([True, False, True])), [1.7]),
    "mask_2d": ((2, 3), lambda m: (m([[True, False, True], [False, False, True]]),), [1.7]),
    "mask_0d_value": ((2, 3), lambda m: (m([True, False]),), 1.7),
}
REFUSED_WRITES = {  # PyTorch's "Index put requires the source and destination dtypes match"
    "mask_two_values": ((2,), lambda m: (m([True, True]),), [1.7, 2.5]),
    "int_index": ((2,), lambda m: (m([0]),), [1.7]),
    "int_index_0d_value": ((2,), lambda m: (m([0]),), 1.7),
    "mask_and_int_index": ((2, 3), lambda m: (m([True, False]), m([1])), [1.7]),
    "two_masks": ((2, 3), lambda m: (m([True, False]), m([True, False, False])), [1.7]),
}


@pytest.mark.parametrize("value_dtype", ["float32", "int16", "bool"])
@pytest.mark.parametrize("name", sorted(ONE_ELEMENT_WRITES))
def test_one_element_value_through_one_mask_is_cast(device, name, value_dtype):
    """``int_tensor[mask] = one_element_tensor_of_another_dtype`` casts the value, as
    PyTorch does (its index_put takes that to masked_fill): array-api-extra's ``at()``
    and ``apply_where`` rely on it. The written tensor keeps its dtype and PyTorch's
    values; the write gives what writing the value cast beforehand gives."""
    shape, key, value = ONE_ELEMENT_WRITES[name]
    t = torch.zeros(shape, dtype=torch.int64)
    t[key(torch.tensor)] = torch.tensor(value, dtype=getattr(torch, value_dtype))

    def write(cast):
        x = xgrad.zeros(shape, dtype=xgrad.int64, device=device)
        v = make(value, device, dtype=getattr(xgrad, value_dtype))
        x[key(lambda k: make(k, device))] = v.to(xgrad.int64) if cast else v
        return x

    try:
        reference = write(cast=True)
    except Exception as e:  # a limitation of the device (Dask: values through a mask of unknown size)
        with pytest.raises(type(e)):
            write(cast=False)
        return
    x = write(cast=False)
    assert x.dtype == xgrad.int64
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    np.testing.assert_array_equal(x.numpy(), reference.numpy())


@pytest.mark.parametrize("name", sorted(REFUSED_WRITES))
def test_other_dtype_value_refused_as_in_pytorch(device, name):
    shape, key, value = REFUSED_WRITES[name]
    t = torch.zeros(shape, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="dtypes match"):
        t[key(torch.tensor)] = torch.tensor(value, dtype=torch.float32)
    x = xgrad.zeros(shape, dtype=xgrad.int64, device=device)
    with pytest.raises(RuntimeError, match="dtypes match"):
        x[key(lambda k: make(k, device))] = make(value, device, dtype=xgrad.float32)


@pytest.mark.not_on("dask", reason="values through a mask: sizes Dask knows only after computing")
def test_one_element_value_through_mask_gradient(device):
    """The cast write is differentiable in both tensors; the value's gradient has its
    own dtype and shape, as in PyTorch."""
    w = np.arange(6.0).reshape(2, 3)
    xt = torch.tensor(w, requires_grad=True)
    vt = torch.tensor([2.5], dtype=torch.float32, requires_grad=True)
    yt = xt.clone()
    yt[torch.tensor([True, False])] = vt
    (yt * torch.tensor(w)).sum().backward()
    x = make(w, device, dtype=xgrad.float64, requires_grad=True)
    v = make([2.5], device, dtype=xgrad.float32, requires_grad=True)
    y = x.clone()
    y[make([True, False], device)] = v
    (y * make(w, device, dtype=xgrad.float64)).sum().backward()
    assert y.dtype == xgrad.float64 and v.grad.dtype == xgrad.float32 and tuple(v.grad.shape) == (1,)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy())


# -- two-operand special functions promote their operands together (SciPy's xlogy, rel_entr)
@pytest.mark.parametrize("fn", ["xlogy", "xlog1py", "zeta"])
@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("float32", "int64"), ("bool", "float32"),
                                    ("int32", "int64"), ("int64", "float64")])
def test_special_binary_promotes_like_pytorch(device, fn, dtypes):
    """``xlogy(int64, float32)`` is float32 in PyTorch whatever the default float
    dtype; xgrad cast each integer operand to the default float first (float64)."""
    old_t, old_x = torch.get_default_dtype(), xgrad.get_default_dtype()
    a, b = np.array([3, 1]), np.array([0.5, 2.0]) if "float" in dtypes[1] else np.array([2, 3])
    if dtypes[0] == "bool":
        a = np.array([True, False])
    try:
        for default in ("float32", "float64"):
            torch.set_default_dtype(getattr(torch, default))
            xgrad.set_default_dtype(getattr(xgrad, default))
            ta = torch.tensor(a, dtype=getattr(torch, dtypes[0]))
            tb = torch.tensor(b, dtype=getattr(torch, dtypes[1]))
            expected = getattr(torch.special, fn)(ta, tb)
            out = getattr(xgrad.special, fn)(make(a, device, dtype=getattr(xgrad, dtypes[0])),
                                             make(b, device, dtype=getattr(xgrad, dtypes[1])))
            assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], default
            np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    finally:
        torch.set_default_dtype(old_t)
        xgrad.set_default_dtype(old_x)


def test_special_binary_mixed_dtypes_gradient(device):
    y = make([0.5, 2.0, 3.0], device, dtype=xgrad.float64, requires_grad=True)
    k = make([3, 1, 2], device, dtype=xgrad.int64)
    assert xgrad.special.xlogy(k, y).dtype == xgrad.float64
    assert gradcheck(lambda t: xgrad.special.xlogy(k, t) + xgrad.special.xlog1py(k, t), (y,))
