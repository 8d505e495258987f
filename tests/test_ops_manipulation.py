"""Manipulation, indexing, searching and sorting functions: values against NumPy,
gradients to second order, non-differentiable outputs."""

import numpy as np
import pytest

import xgrad
from xgrad import array_api as xp
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy

RNG = np.random.default_rng(2)


def _t(values, device, grad=True):
    return xgrad.asarray(np.asarray(values, dtype=np.float64), device=device, requires_grad=grad)


# name -> (xgrad call, numpy call)
CASES = {
    "reshape": (lambda t: xp.reshape(t, (3, -1)), lambda a: a.reshape(3, -1)),
    "permute_dims": (lambda t: xp.permute_dims(t, (1, 0)), lambda a: a.T),
    "expand_dims": (lambda t: xp.expand_dims(t, axis=-1), lambda a: a[..., None]),
    "squeeze": (lambda t: xp.squeeze(xp.expand_dims(t, axis=0), 0), lambda a: a),
    "broadcast_to": (lambda t: xp.broadcast_to(t, (2, 2, 3)), lambda a: np.broadcast_to(a, (2, 2, 3))),
    "flip": (lambda t: xp.flip(t, axis=-1), lambda a: np.flip(a, -1)),
    "flip_all": (lambda t: xp.flip(t), lambda a: np.flip(a)),
    "roll": (lambda t: xp.roll(t, 1, axis=1), lambda a: np.roll(a, 1, 1)),
    "roll_flat": (lambda t: xp.roll(t, -2), lambda a: np.roll(a, -2)),
    "moveaxis": (lambda t: xp.moveaxis(t, 0, -1), lambda a: np.moveaxis(a, 0, -1)),
    "tile": (lambda t: xp.tile(t, (2, 1)), lambda a: np.tile(a, (2, 1))),
    "repeat": (lambda t: xp.repeat(t, 2, axis=0), lambda a: np.repeat(a, 2, 0)),
    "repeat_flat": (lambda t: xp.repeat(t, 2), lambda a: np.repeat(a, 2)),
    "repeat_counts": (lambda t: xp.repeat(t, xgrad.asarray([1, 0, 2], device=t.device), axis=1),
                      lambda a: np.repeat(a, [1, 0, 2], axis=1)),
    "repeat_none": (lambda t: xp.repeat(t, [0, 0], axis=0), lambda a: np.repeat(a, [0, 0], axis=0)),
    "concat": (lambda t: xp.concat([t, 2 * t], axis=-1), lambda a: np.concatenate([a, 2 * a], -1)),
    "concat_none": (lambda t: xp.concat([t, t], axis=None), lambda a: np.concatenate([a, a], None)),
    "stack": (lambda t: xp.stack([t, t * t], axis=1), lambda a: np.stack([a, a * a], 1)),
    "unstack": (lambda t: xp.unstack(t, axis=1)[2], lambda a: a[:, 2]),
    "diff": (lambda t: xp.diff(t), lambda a: np.diff(a)),
    "diff2": (lambda t: xp.diff(t, axis=0, n=1, prepend=t[:1]), lambda a: np.diff(a, axis=0, prepend=a[:1])),
    "diff_n2": (lambda t: xp.diff(t, n=2, append=t[:, :1]), lambda a: np.diff(a, n=2, append=a[:, :1])),
    "getitem": (lambda t: t[1:, ::-1], lambda a: a[1:, ::-1]),
    "take": (lambda t: xp.take(t, xgrad.asarray([2, 0, 2], device=t.device), axis=1),
             lambda a: np.take(a, [2, 0, 2], axis=1)),
    "take_along_axis": (lambda t: xp.take_along_axis(
        t, xgrad.asarray([[0, 0], [2, 1]], device=t.device), axis=-1),
        lambda a: np.take_along_axis(a, np.array([[0, 0], [2, 1]]), -1)),
    "where": (lambda t: xp.where(t > 0, t, t * t), lambda a: np.where(a > 0, a, a * a)),
    "clip": (lambda t: xp.clip(t, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    "sort": (lambda t: xp.sort(t, axis=-1), lambda a: np.sort(a, -1)),
    "sort_desc": (lambda t: xp.sort(t, axis=0, descending=True), lambda a: -np.sort(-a, 0)),
    "tril": (lambda t: xp.tril(t), lambda a: np.tril(a)),
    "triu": (lambda t: xp.triu(t, k=1), lambda a: np.triu(a, 1)),
    "meshgrid": (lambda t: xp.meshgrid(t[0], t[1, :2])[0], lambda a: np.meshgrid(a[0], a[1, :2])[0]),
    "broadcast_arrays": (lambda t: xp.broadcast_arrays(t, t[:1])[1],
                         lambda a: np.broadcast_arrays(a, a[:1])[1]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_manipulation(name, device):
    fn, ref = CASES[name]
    x = _t(RNG.uniform(-1, 1, (2, 3)), device)
    assert_close(fn(x.detach()), ref(to_numpy(x)))
    assert fn(x).requires_grad
    gradcheck(fn, (x,))
    gradgradcheck(fn, (x,))


def test_sort_gradient_goes_to_source_positions(device):
    x = _t([3.0, 1.0, 2.0], device)
    y = xp.sort(x)
    (y * _t([1.0, 10.0, 100.0], device, grad=False)).sum().backward()
    assert_close(x.grad, [100.0, 1.0, 10.0])


def test_index_outputs_do_not_require_grad(device):
    x = _t([[3.0, 1.0, 2.0], [0.0, 5.0, 0.0]], device)
    n = to_numpy(x)
    for out, expected in ((xp.argmax(x, axis=1), n.argmax(1)), (xp.argmin(x), n.argmin()),
                          (xp.argsort(x, axis=1), np.argsort(n, 1, kind="stable")),
                          (xp.argsort(x, axis=0, descending=True), [[0, 1, 0], [1, 0, 1]]),
                          (xp.count_nonzero(x, axis=0), np.count_nonzero(n, 0)),
                          (xp.nonzero(x)[1], np.nonzero(n)[1]),
                          (xp.all(x, axis=1), n.all(1)), (xp.any(x), n.any())):
        assert not out.requires_grad
        assert_close(out, np.asarray(expected))


def test_searchsorted(device):
    s = xgrad.asarray([1.0, 2.0, 2.0, 5.0], device=device)
    v = xgrad.asarray([[2.0, 0.0], [6.0, 2.5]], device=device)
    assert_close(xp.searchsorted(s, v), np.searchsorted(to_numpy(s), to_numpy(v)))
    assert_close(xp.searchsorted(s, v, side="right"),
                 np.searchsorted(to_numpy(s), to_numpy(v), side="right"))
    order = xgrad.asarray([1, 2, 3, 0], device=device)
    shuffled = xgrad.asarray([5.0, 1.0, 2.0, 2.0], device=device)
    assert_close(xp.searchsorted(shuffled, v, sorter=order), np.searchsorted(to_numpy(s), to_numpy(v)))


def test_unique(device):
    x = xgrad.asarray([3.0, 1.0, 3.0, 2.0, 1.0, 3.0], device=device, requires_grad=True)
    n = to_numpy(x)
    values, index, inverse, counts = np.unique(n, return_index=True, return_inverse=True,
                                               return_counts=True)
    out = xp.unique_all(x)
    for got, expected in zip(out, (values, index, inverse, counts)):
        assert_close(got, expected)
        assert not got.requires_grad
    assert_close(xp.unique_values(x), values)
    assert_close(xp.unique_counts(x).counts, counts)
    assert_close(xp.unique_inverse(x).inverse_indices, inverse)


def test_negative_axes_and_size_zero(device):
    x = _t(np.zeros((2, 0, 3)), device)
    for y in (xp.flip(x, axis=-2), xp.concat([x, x], axis=-2), xp.stack([x, x], axis=-1),
              xp.cumulative_sum(x, axis=-1), xp.sort(x, axis=-3)):
        y.sum().backward()
        assert x.grad.shape == (2, 0, 3)
        x.grad = None


def test_torch_aliases(device):
    x = _t(RNG.uniform(-1, 1, (2, 3)), device, grad=False)
    n = to_numpy(x)
    assert_close(xgrad.cat([x, x], dim=0), np.concatenate([n, n], 0))
    assert_close(xgrad.unsqueeze(x, 1), n[:, None])
    assert_close(xgrad.permute(x, (1, 0)), n.T)
    assert_close(xgrad.clamp(x, min=0.0), np.clip(n, 0.0, None))
    assert_close(xgrad.stack([x, x], dim=-1), np.stack([n, n], -1))
    values, indices = x.sort(dim=1, descending=True)
    assert_close(values, -np.sort(-n, 1))
    assert_close(indices, np.argsort(-n, 1, kind="stable"))
    assert_close(x.argsort(dim=0), np.argsort(n, 0))
    assert_close(x.diff(dim=0), np.diff(n, axis=0))
    assert_close(x.mT, n.T)
    assert_close(x.T, n.T)
    assert_close(xgrad.mm(x, x.T), n @ n.T)
    assert_close(xgrad.norm(x), np.linalg.norm(n))


@pytest.mark.not_on("dask", reason="Dask arrays have no DLPack interface (no __dlpack__, "
                    "no dask.array.from_dlpack)")
def test_from_dlpack_keeps_the_device(device):
    x = xgrad.asarray([1.0, 2.0], device=device)
    y = xgrad.from_dlpack(x)
    assert y.device == device
    assert_close(y, [1.0, 2.0])


def test_complex_sign_of_zero(device):
    z = xgrad.asarray([0j, 3 + 4j], dtype=xgrad.complex128, device=device)
    assert_close(xgrad.sign(z), [0j, 0.6 + 0.8j])


def test_astype_gradients(device):
    x = _t(RNG.uniform(-1, 1, (2, 3)), device)
    to32 = lambda t: xgrad.astype(t, xgrad.float32) * 2  # noqa: E731
    y = to32(x)
    assert y.dtype is xgrad.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype is xgrad.float64
    assert_close(x.grad, np.full((2, 3), 2.0))
    to_complex = lambda t: xgrad.real(xgrad.astype(t, xgrad.complex128) * (1 + 2j))  # noqa: E731
    gradcheck(to_complex, (x,))
    gradgradcheck(lambda t: xgrad.astype(t * t, xgrad.float64), (x,))
    assert not xgrad.astype(x, xgrad.int32).requires_grad
    assert_close(xgrad.astype(x, xgrad.int32), to_numpy(x).astype(np.int32))
