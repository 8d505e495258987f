"""The dask device: lazy tensors, lazy rules, one-pass compute, dask.distributed.

These tests run when ``dask`` is among the devices asked for
(``pytest --xgrad-device=cpu,dask``). Values are checked against the cpu
device in float64. The audit runs every op's forward and backward under a Dask
scheduler that fails on any compute, and checks the results only afterwards.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close
from xgrad.testing.plugin import requested_devices

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


@pytest.fixture(autouse=True)
def _dask_requested(request):
    if "dask" not in requested_devices(request.config):
        pytest.skip("dask is not among the devices asked for (--xgrad-device=...,dask)")


class ComputeForbidden(AssertionError):
    """Something asked Dask to compute inside :func:`no_compute`."""


def _refuse(dsk, keys, **kwargs):
    raise ComputeForbidden(f"a compute was asked for (keys {str(keys)[:200]})")


@contextlib.contextmanager
def no_compute():
    """Any Dask compute inside this block raises ComputeForbidden."""
    with dask.config.set(scheduler=_refuse):
        yield


def test_the_forbidding_scheduler_forbids():
    x = xgrad.asarray(np.ones(3), device="dask")
    with no_compute(), pytest.raises(ComputeForbidden):
        float(x.sum())
    with no_compute(), pytest.raises(ComputeForbidden):
        x.numpy()


# -- making tensors ---------------------------------------------------------------------

def test_asarray_chunks_and_dtype_rules():
    host = np.arange(12.0).reshape(6, 2)
    x = xgrad.asarray(host, device="dask", chunks=(2, 2))
    assert x.device == "dask" and x.dtype == xgrad.float64 and x.shape == (6, 2)
    assert x._data.chunks == ((2, 2, 2), (2,))
    assert_close(x, host)
    lst = xgrad.asarray([[1.0, 2.0]], device="dask", chunks=1)
    assert lst.dtype == xgrad.float32  # Python floats take the default dtype, as on cpu
    host[0, 0] = 100.0  # the tensor copied the host data: later writes do not leak in
    assert float(x[0, 0]) == 0.0


def test_asarray_keeps_an_existing_dask_array():
    d = da.ones((8, 3), chunks=(4, 3), dtype=np.float32)
    x = xgrad.asarray(d)
    assert x.device == "dask" and x.dtype == xgrad.float32
    assert x._data is d
    y = xgrad.asarray(d, chunks=(2, 3))
    assert y._data.chunks == ((2, 2, 2, 2), (3,))
    z = xgrad.asarray(d, device="cpu")
    assert z.device == "cpu" and isinstance(z._data, np.ndarray)


def test_chunks_only_for_dask():
    with pytest.raises(ValueError, match="dask"):
        xgrad.asarray([1.0], device="cpu", chunks=1)


def test_transfers_are_differentiable_both_ways():
    x = xgrad.asarray(np.arange(4.0), device="cpu", requires_grad=True)
    y = x.to("dask")
    assert y.device == "dask"
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    assert_close(x.grad, 2 * np.arange(4.0))


def test_random_is_lazy_and_seeded():
    with no_compute():
        xgrad.manual_seed(3)
        a = xgrad.randn(5, 4, device="dask")
        b = xgrad.rand(5, device="dask", dtype=xgrad.float64)
        xgrad.manual_seed(3)
        a2 = xgrad.randn(5, 4, device="dask")
    assert a.dtype == xgrad.float32 and b.dtype == xgrad.float64
    assert_close(a, a2.numpy())
    assert 0 <= b.numpy().min() and b.numpy().max() < 1
    assert np.std(a.numpy()) > 0.1


def test_mixing_devices_is_an_error():
    a = xgrad.ones(2, device="dask")
    b = xgrad.ones(2, device="cpu")
    with pytest.raises(RuntimeError, match="dask"):
        a + b


# -- compute ---------------------------------------------------------------------------

def _counted(counter, n=8, chunk=2):
    """A lazy float64 vector whose chunks count how often they are made."""
    lock = threading.Lock()

    def make(block, block_info=None):
        with lock:
            counter[0] += 1
        return block + 1.0
    return xgrad.asarray(da.map_blocks(make, da.arange(n, chunks=chunk, dtype=np.float64),
                                       dtype=np.float64, meta=np.array((), dtype=np.float64)))


def test_compute_shares_intermediates():
    counter = [0]
    x = _counted(counter)
    x.requires_grad_()
    loss = (xgrad.exp(x / 8) * x).sum()
    loss.backward()
    assert counter[0] == 0  # nothing ran yet
    value, grad = xgrad.compute(loss, x.grad)
    assert counter[0] == 4  # once per chunk for the loss and the gradient together
    v = np.arange(8.0) + 1
    assert_close(value, np.sum(np.exp(v / 8) * v), rtol=1e-12)
    assert_close(grad, np.exp(v / 8) * (1 + v / 8), rtol=1e-12)
    assert grad.device == "dask" and not grad.requires_grad and grad.grad_fn is None
    float(value), grad.numpy()
    assert counter[0] == 4  # the computed tensors hold their values


def test_compute_method_and_conversions():
    x = xgrad.asarray(np.array([1.0, 2.0]), device="dask", requires_grad=True)
    y = (x * 3).sum()
    assert y.compute().item() == 9.0
    assert float(y) == 9.0 and int(y) == 9
    assert "device='dask'" in repr(y)
    assert isinstance(x.detach().numpy(), np.ndarray)
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()
    c = xgrad.asarray([1.0], device="cpu")
    assert xgrad.compute(c)[0] is not None  # eager devices: nothing to do, same values
    assert_close(xgrad.compute(c)[0], [1.0])


# -- in place ----------------------------------------------------------------------------

def test_inplace_rebinds_lazily():
    x = xgrad.zeros(4, device="dask", dtype=xgrad.float64)
    with no_compute():
        x += 1.0
        x[1] = 5.0
        x.mul_(2)
    assert x._version >= 3
    assert_close(x, [2.0, 10.0, 2.0, 2.0])


def test_inplace_on_saved_tensor_keeps_the_saved_value():
    # PyTorch raises at backward; xgrad keeps the saved value (docs/views.md)
    w = xgrad.asarray(np.ones(3), device="dask", requires_grad=True)
    h = w * 2
    y = (h * h).sum()
    with xgrad.no_grad():
        h += 1.0
    assert_close(h, [3.0, 3.0, 3.0])
    y.backward()
    assert_close(w.grad, [8.0, 8.0, 8.0])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_of_empty_tensors(dim):
    # Dask's max refuses every empty array, even over an axis of size 2 (found by the
    # differential test on dask); PyTorch gives empty results and gradients
    x = xgrad.asarray(np.zeros((0, 2)), device="dask", requires_grad=True)
    F = xgrad.nn.functional
    y = F.softmax(x, dim=dim).sum() + F.log_softmax(x, dim=dim).sum()
    lse = xgrad.logsumexp(x, dim=dim)
    assert lse.shape == ((2,) if dim == 0 else (0,))
    assert_close(lse, np.full(lse.shape, -np.inf))
    (y + lse.clamp(min=0.0).sum()).backward()
    assert x.grad.shape == (0, 2)


def test_writes_into_empty_regions():
    # Dask's setitem refuses an empty selection; PyTorch writes nothing (found by the
    # differential test on dask with in-place writes on)
    x = xgrad.asarray(np.zeros((0, 3, 1)), device="dask", requires_grad=True)
    v = x.clone()
    v[-1:, ::1, :] = xgrad.zeros((0, 3, 1), device="dask", dtype=xgrad.float64)
    w = xgrad.asarray(np.arange(6.0).reshape(2, 3), device="dask")
    w[:, 1:1] = 5.0
    assert_close(w, np.arange(6.0).reshape(2, 3))
    v.sum().backward()
    assert x.grad.shape == (0, 3, 1)
    with pytest.raises(RuntimeError):  # a value that does not broadcast still raises
        w[0:0] = xgrad.ones(5, device="dask", dtype=xgrad.float64)
    w[2:, xgrad.asarray([0, 2], device="dask")] = xgrad.zeros((0, 2), device="dask", dtype=w.dtype)
    assert_close(w, np.arange(6.0).reshape(2, 3))


def test_training_loop_with_gradient_accumulation():
    rng = np.random.default_rng(0)
    X, t = rng.standard_normal((40, 3)), rng.standard_normal(40)
    results = {}
    for dev in ("cpu", "dask"):
        Xd = xgrad.asarray(X, device=dev, **({"chunks": (10, 3)} if dev == "dask" else {}))
        w = xgrad.zeros(3, dtype=xgrad.float64, device=dev, requires_grad=True)
        for _ in range(4):
            for half in (slice(0, 20), slice(20, 40)):  # .grad accumulates over two halves
                ((Xd[half] @ w - xgrad.asarray(t[half], device=dev)) ** 2).mean().backward()
            with xgrad.no_grad():
                w -= 0.1 * w.grad
            if dev == "dask":
                w = w.compute().requires_grad_()
            else:
                w.grad = None
        results[dev] = w.detach().numpy()
    np.testing.assert_allclose(results["dask"], results["cpu"], rtol=1e-13)


# -- the no-compute audit: every op's forward and backward stay lazy ------------------------

def _F(name):
    import xgrad.nn.functional as F
    return getattr(F, name)


def _special():
    import xgrad.special
    return xgrad.special


def _idx(values, like):
    return xgrad.asarray(np.asarray(values), device=like.device)


xa = xgrad.array_api  # the audit calls the standard's functions where the two faces differ
U = ((2, 6), -0.9, 0.9)    # a (2, 6) input with values in (-0.9, 0.9)
P = ((2, 6), 0.5, 2.0)     # positive
A = ((2, 6), -2.0, 2.0)    # any
G = ((3, 2, 6), 1.1, 3.0)  # greater than 1, batched

# name -> (function of the input tensors, input specs (shape, low, high))
AUDIT = {
    # elementwise, one input
    **{n: (lambda x, n=n: getattr(xgrad, n)(x), [U]) for n in (
        "abs", "acos", "asin", "atan", "asinh", "atanh", "cos", "cosh", "exp", "expm1",
        "negative", "positive", "sign", "sin", "sinh", "tan", "tanh", "square", "ceil",
        "floor", "round", "trunc", "sigmoid", "relu", "real", "conj", "signbit", "isfinite")},
    **{n: (lambda x, n=n: getattr(xgrad, n)(x), [P]) for n in (
        "log", "log10", "log1p", "log2", "sqrt", "reciprocal")},
    "acosh": (xgrad.acosh, [G]),
    "imag": (lambda x: xgrad.imag(xgrad.astype(x, xgrad.complex128)), [U]),
    "gelu": (lambda x: _F("gelu")(x), [A]),
    "softplus": (lambda x: _F("softplus")(x), [A]),
    # elementwise, two inputs, with broadcasting
    **{n: (lambda a, b, n=n: getattr(xa, n)(a, b), [A, ((6,), -2.0, 2.0)]) for n in (
        "add", "subtract", "multiply", "maximum", "minimum", "atan2", "hypot", "logaddexp",
        "copysign", "equal", "less", "greater_equal", "nextafter")},
    "divide": (xgrad.divide, [A, ((2, 1), 0.5, 2.0)]),
    "pow": (xgrad.pow, [P, ((6,), -2.0, 2.0)]),
    "remainder": (xgrad.remainder, [A, ((6,), 0.5, 2.0)]),
    "floor_divide": (xgrad.floor_divide, [A, ((6,), 0.5, 2.0)]),
    "where": (lambda a, b: xgrad.where(a > 0, a, b), [A, A]),
    "clip": (lambda x: xgrad.clip(x, -0.5, 0.5), [A]),
    "clip_tensor": (lambda x, lo: xgrad.clip(x, lo, 1.0), [A, ((6,), -1.0, 0.0)]),
    # reductions and scans
    **{n: (lambda x, n=n: getattr(xgrad, n)(x), [A]) for n in (
        "sum", "mean", "max", "min", "prod", "std", "var", "argmax", "argmin", "count_nonzero")},
    **{f"{n}_axis": (lambda x, n=n: getattr(xa, n)(x, axis=1, keepdims=True), [A])
       for n in ("sum", "mean", "max", "min", "prod", "std", "var")},
    "max_0d_axis": (lambda x: xa.max(xgrad.sum(x), axis=-1), [A]),
    "cumulative_sum": (lambda x: xgrad.cumulative_sum(x, axis=1), [A]),
    "cumulative_prod": (lambda x: xgrad.cumulative_prod(x, axis=1), [A]),
    "vector_norm": (lambda x: xgrad.vector_norm(x, axis=1), [A]),
    "vector_norm_inf": (lambda x: xgrad.vector_norm(x, ord=float("inf")), [A]),
    "vector_norm_1": (lambda x: xgrad.vector_norm(x, ord=1), [A]),
    "logsumexp": (lambda x: _F("logsumexp")(x, 1), [A]),
    "softmax": (lambda x: _F("softmax")(x, 1), [A]),
    "log_softmax": (lambda x: _F("log_softmax")(x, 1), [A]),
    # manipulation
    "reshape": (lambda x: xgrad.reshape(x, (3, 4)), [A]),
    "permute_dims": (lambda x: xgrad.permute_dims(x, (2, 0, 1)), [G]),
    "matrix_transpose": (lambda x: x.mT, [G]),
    "expand_dims": (lambda x: xgrad.expand_dims(x, axis=1), [A]),
    "squeeze": (lambda x: xgrad.squeeze(x, axis=0), [((1, 6), -1.0, 1.0)]),
    "broadcast_to": (lambda x: xgrad.broadcast_to(x, (4, 2, 6)), [A]),
    "flip": (lambda x: xgrad.flip(x, axis=1), [A]),
    "roll": (lambda x: xgrad.roll(x, 2, axis=1), [A]),
    "concat": (lambda a, b: xgrad.concat([a, b], axis=1), [A, A]),
    "stack": (lambda a, b: xgrad.stack([a, b], axis=0), [A, A]),
    "unstack": (lambda x: xgrad.unstack(x, axis=1), [A]),
    "moveaxis": (lambda x: xgrad.moveaxis(x, 0, -1), [G]),
    "repeat": (lambda x: xgrad.repeat(x, 2, axis=0), [A]),
    "tile": (lambda x: xgrad.tile(x, (2, 1)), [A]),
    "astype": (lambda x: xgrad.astype(x, xgrad.float32), [A]),
    "clone": (xgrad.clone, [A]),
    "pad": (lambda x: _F("pad")(x, (1, 2)), [A]),
    # indexing
    "getitem_slices": (lambda x: x[1:, ::2], [A]),
    "getitem_int": (lambda x: x[1], [A]),
    "getitem_ellipsis_none": (lambda x: x[..., None, 2], [A]),
    "index_repeated": (lambda x: x[:, _idx([0, 2, 2, 5, 0], x)], [A]),
    "index_negative": (lambda x: x[_idx([-1, 0, -1], x)], [((5, 3), -1.0, 1.0)]),
    "index_two_arrays": (lambda x: x[_idx([0, 1, 1], x), _idx([5, 0, 5], x)], [A]),
    "boolean_mask": (lambda x: x[x > 0], [A]),
    "take": (lambda x: xgrad.take(x, _idx([3, 3, 0], x), axis=1), [A]),
    "take_along_axis": (lambda x: xgrad.take_along_axis(x, _idx([[0, 5, 5], [1, 1, 2]], x),
                                                        axis=1), [A]),
    "setitem": (lambda x, v: _setitem(x, (slice(None), slice(1, 3)), v), [A, ((2, 2), -1.0, 1.0)]),
    "setitem_mask": (lambda x: _setitem(x, x > 0.5, 0.0), [A]),
    "copy_slices": (lambda x, v: _write_views(x, v), [A, ((2, 2), -1.0, 1.0)]),
    "detach_view": (lambda x: x * x.detach()[0], [A]),
    "fill": (lambda x: (x * 1).fill_(0.5) + x, [A]),
    "unfold_view": (lambda x: x.unfold(1, 2, 1) * x.unfold(1, 2, 2)[:, :1, :1], [A]),
    "view_as_real": (lambda x: xgrad.view_as_real(x * (1 + 2j)), [A]),
    "view_as_complex": (lambda x: xgrad.view_as_real(
        xgrad.view_as_complex(x.reshape(-1, 2)) * (1 - 1j)), [A]),
    "no_grad_view": (lambda x: _no_grad_view(x), [A]),
    "index_put": (lambda x, v: _setitem(x, (_idx([1, 0], x), slice(None), _idx([4, 2], x)), v),
                  [((2, 3, 6), -1.0, 1.0), ((2, 3), -1.0, 1.0)]),
    "argsort": (lambda x: xa.argsort(x, axis=1), [A]),
    "sort": (lambda x: xa.sort(x, axis=1), [A]),
    "searchsorted": (lambda x: xa.searchsorted(xa.sort(x[0]), x[1]), [A]),
    # linear algebra that Dask has in full
    "matmul": (xgrad.matmul, [((4, 6), -1.0, 1.0), ((6, 3), -1.0, 1.0)]),
    "matmul_vector": (xgrad.matmul, [((4, 6), -1.0, 1.0), ((6,), -1.0, 1.0)]),
    "vector_matmul": (xgrad.matmul, [((6,), -1.0, 1.0), ((6, 3), -1.0, 1.0)]),
    "matmul_batched": (xgrad.matmul, [G, ((6, 2), -1.0, 1.0)]),
    "dot": (xgrad.dot, [((6,), -1.0, 1.0), ((6,), -1.0, 1.0)]),
    "vecdot": (xgrad.vecdot, [A, ((6,), -1.0, 1.0)]),
    "tensordot": (lambda a, b: xa.tensordot(a, b, axes=1), [A, ((6, 2), -1.0, 1.0)]),
    "outer": (xgrad.outer, [((3,), -1.0, 1.0), ((4,), -1.0, 1.0)]),
    "linalg_diagonal": (lambda x: xgrad.linalg.diagonal(x), [G]),
    "trace": (lambda x: xgrad.linalg.trace(x[:, :, :2]), [G]),
    "linalg_cross": (lambda a, b: xgrad.linalg.cross(a, b), [((4, 3), -1.0, 1.0), ((3,), -1.0, 1.0)]),
    # nn
    "cross_entropy": (lambda x: _F("cross_entropy")(x, _idx([1, 5], x)), [A]),
    "binary_cross_entropy_with_logits": (
        lambda x, t: _F("binary_cross_entropy_with_logits")(x, t), [A, ((2, 6), 0.0, 1.0)]),
    "mse_loss": (lambda a, b: _F("mse_loss")(a, b), [A, A]),
    "conv2d": (lambda x, w: _F("conv2d")(x, w, padding=1), [((1, 2, 4, 5), -1.0, 1.0),
                                                          ((3, 2, 3, 3), -1.0, 1.0)]),
    "unfold": (lambda x: _F("unfold")(x, 2), [((1, 2, 4, 5), -1.0, 1.0)]),
    "max_pool2d": (lambda x: _F("max_pool2d")(x, 2), [((1, 2, 4, 6), -1.0, 1.0)]),
    "max_pool2d_indices": (lambda x: _F("max_pool2d")(x, 3, 2, 1, ceil_mode=True, return_indices=True),
                           [((1, 2, 5, 6), -1.0, 1.0)]),
    "max_unpool": (lambda x: _F("max_unpool2d")(*_F("max_pool2d")(x, 3, 2, 1, return_indices=True),
                                                3, 2, 1, output_size=(5, 6)), [((1, 2, 5, 6), -1.0, 1.0)]),
    "layer_norm": (lambda x: _F("layer_norm")(x, (6,)), [A]),
    "embedding": (lambda w: _F("embedding")(_idx([[0, 2], [2, 1]], w), w), [((3, 4), -1.0, 1.0)]),
    # fft (the transformed axis is rechunked to one chunk)
    "fft_r2c": (lambda x: xgrad.abs(xgrad.fft.rfft(x)), [A]),
    "fft_c2c": (lambda x: xgrad.real(xgrad.fft.fft(xgrad.astype(x, xgrad.complex128) * (1 + 2j),
                                                   axis=0)), [A]),
    "fft_c2r": (lambda x: xgrad.fft.irfft(xgrad.fft.rfft(x) * (0.5 + 1j), n=6), [A]),
    # PyTorch's special functions (xgrad.special) and the other additions of the PyTorch face
    **{n: (lambda x, n=n: getattr(_special(), n)(x), [P]) for n in (
        "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "entr", "erf",
        "erfc", "erfcx", "i0", "i0e", "i1", "i1e", "log_ndtr", "modified_bessel_k0",
        "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1")},
    "erfinv": (lambda x: xgrad.erfinv(x), [U]),
    "ndtri": (lambda x: _special().ndtri(x * 0.4 + 0.5), [U]),
    "lgamma": (lambda x: xgrad.lgamma(x), [P]),
    "polygamma": (lambda x: xgrad.polygamma(1, x), [P]),
    "zeta": (lambda x, q: _special().zeta(x + 1.5, q), [P, P]),
    "xlogy": (lambda a, b: xgrad.xlogy(a, b), [A, P]),
    "xlog1py": (lambda a, b: _special().xlog1py(a, b), [A, P]),
    "igamma": (lambda a, x: xgrad.igamma(a, x), [P, P]),
    "igammac": (lambda a, x: xgrad.igammac(a, x), [P, P]),
    "fmod": (lambda a, b: xgrad.fmod(a, b), [A, P]),
    "running_arg": (lambda x: xgrad.cummax(x, dim=1).values, [A]),
    "diagonal": (lambda x: xgrad.diagonal(x, 0, 1, 2), [G]),
    "diag_embed": (lambda x: xgrad.diag_embed(x), [A]),
    # comparisons, logic and bits: no gradient, but lazy forward values
    **{n: (lambda a, b, n=n: getattr(xgrad, n)(a > 0, b > 0), [A, A]) for n in (
        "logical_and", "logical_or", "logical_xor")},
    "logical_not": (lambda a: xgrad.logical_not(a > 0), [A]),
    **{n: (lambda a, b, n=n: getattr(xgrad, n)(a, b), [A, A]) for n in (
        "less_equal", "not_equal")},
    **{n: (lambda a: getattr(xgrad, n)(xgrad.log(a)), [A]) for n in ("isinf", "isnan")},
    **{n: (lambda a, b, n=n: getattr(xgrad, n)(xgrad.astype(a > 0, xgrad.int64) + 3,
                                               xgrad.astype(b > 0, xgrad.int64) + 1), [A, A])
       for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift")},
    "bitwise_invert": (lambda a: xgrad.bitwise_invert(xgrad.astype(a > 0, xgrad.int64)), [A]),
}

# Dask cannot do these (yet); strict xfails, so a fix shows up as an unexpected pass
DASK_LIMITS = {
    "boolean_mask": "backward: Dask cannot write a gradient of unknown (NaN) size back "
                    "through a boolean mask (its __setitem__ needs the size)",
}


def _setitem(x, key, value):
    y = xgrad.clone(x)
    y[key] = value
    return y


def _write_views(x, v):
    """Writes through views (xgrad/_views.py: copy_slices), seen by an older view."""
    y = xgrad.clone(x)
    row = y[1]
    w = y.mT[1:3]
    w[:, 0:2] = v
    y[0].mul_(v[0, 1])
    return y, row * 1


def _no_grad_view(x):
    y = x * 2
    with xgrad.no_grad():
        v = y[0]
        v.mul_(3.0)
    return y


def _chunks(shape):
    return tuple(max(1, s // 2) for s in shape)


def _run(name, device, hosts):
    """Forward, then backward of a loss that weighs every output element differently."""
    fn, _ = AUDIT[name]
    dask_dev = device == "dask"
    xs = [xgrad.asarray(h, device=device, requires_grad=True,
                        **({"chunks": _chunks(h.shape)} if dask_dev else {})) for h in hosts]
    with (no_compute() if dask_dev else contextlib.nullcontext()):
        out = fn(*xs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        loss = None
        for o in outs:
            if o.requires_grad:
                term = xgrad.sum(o * xgrad.sin(3.0 * o))
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        grads = [x.grad for x in xs]
        return [o.detach() for o in outs], grads


def _hosts(specs, seed=0):
    rng = np.random.default_rng(seed)
    hosts = []
    for shape, lo, hi in specs:
        v = rng.uniform(lo, hi, size=shape)
        if lo < 0 < hi:
            v = np.where(np.abs(v) < 0.1, 0.3, v)  # keep away from kinks at 0
        hosts.append(v)
    return hosts


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=DASK_LIMITS[n], strict=True))
    if n in DASK_LIMITS else n for n in sorted(AUDIT)])
def test_no_compute_audit(name):
    """Forward and backward on dask run under a scheduler that refuses to compute;
    values and gradients then match the cpu device to float64 precision."""
    hosts = _hosts(AUDIT[name][1])
    outs, grads = _run(name, "dask", hosts)
    for t in outs + [g for g in grads if g is not None]:
        assert t.device == "dask"
    ref_outs, ref_grads = _run(name, "cpu", hosts)
    assert len(outs) == len(ref_outs)
    for o, r in zip(outs, ref_outs):
        assert o.dtype == r.dtype
        assert_close(o, r, rtol=1e-12, atol=1e-14)
    for g, r in zip(grads, ref_grads):
        assert (g is None) == (r is None)
        if g is not None:
            assert_close(g, r, rtol=1e-11, atol=1e-13)


def test_audit_covers_every_registered_op():
    """Each registered op is exercised by the audit, or listed here with the reason."""
    from xgrad.ops._registry import REGISTRY
    covered = {"to_device": "test_transfers_are_differentiable_both_ways",
               "index_add": "the second-order audit", "getitem": "getitem_*",
               "index": "index_*", "linalg_cholesky": "test_linalg_on_dask",
               "linalg_inv": "test_linalg_on_dask", "linalg_solve": "test_linalg_on_dask",
               "linalg_qr": "test_linalg_on_dask", "linalg_svd": "test_linalg_on_dask",
               "linalg_svdvals": "test_linalg_on_dask",
               "linalg_det": "test_missing_linalg_is_a_clear_error",
               "linalg_slogdet": "test_missing_linalg_is_a_clear_error",
               "linalg_eigh": "test_missing_linalg_is_a_clear_error",
               "linalg_eigvalsh": "test_missing_linalg_is_a_clear_error",
               "linalg_pinv": "test_missing_linalg_is_a_clear_error",
               "linalg_matrix_rank": "test_linalg_on_dask", "constant_pad": "pad",
               "linalg_eig": "test_torch_linalg_ext.py (_no_eig: the clear error off cpu)",
               "linalg_ldl_factor": "test_torch_linalg_ext.py (_no_ldl: the clear error)",
               "linalg_ldl_solve": "test_torch_linalg_ext.py (_no_ldl: the clear error)",
               "fold": "conv2d (its backward)",
               "nll_loss": "cross_entropy (class indices: log_softmax then nll_loss)"}
    names = set(AUDIT) | {n.split("_axis")[0] for n in AUDIT}
    missing = sorted(n for n in REGISTRY if n not in names and n not in covered
                     and not any(a.startswith(n + "_") for a in AUDIT))
    assert not missing, f"ops not audited on dask: {missing}"


# -- what Dask lacks -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["det", "slogdet", "eigh", "eigvalsh", "pinv"])
def test_missing_linalg_is_a_clear_error(name):
    from xgrad.backends._dask import DaskUnsupported
    a = xgrad.asarray(np.eye(3) * 2.0, device="dask", requires_grad=True)
    with pytest.raises(DaskUnsupported, match=rf"Dask.*{name}|{name}.*Dask"):
        getattr(xgrad.linalg, name)(a)


def test_batched_linalg_is_a_clear_error():
    from xgrad.backends._dask import DaskUnsupported
    a = xgrad.asarray(np.tile(np.eye(3), (2, 1, 1)), device="dask")
    with pytest.raises(DaskUnsupported, match="Dask.*batched inv"):
        xgrad.linalg.inv(a)


def _spd(n, seed=0):
    m = np.random.default_rng(seed).standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


LINALG = {
    "inv": (lambda a: xgrad.linalg.inv(a), [_spd(4)]),
    "solve": (lambda a, b: xgrad.linalg.solve(a, b), [_spd(4), np.arange(8.0).reshape(4, 2)]),
    "cholesky": (lambda a: xgrad.linalg.cholesky(a), [_spd(4)]),
    "qr_tall": (lambda a: xgrad.linalg.qr(a)[1], [np.random.default_rng(1).standard_normal((8, 3))]),
    "svdvals_tall": (lambda a: xgrad.linalg.svdvals(a), [np.random.default_rng(2).standard_normal((8, 3))]),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_on_dask(name):
    """The linalg Dask has, lazily, with gradients matching the cpu device."""
    fn, hosts = LINALG[name]
    results = {}
    for dev in ("cpu", "dask"):
        xs = [xgrad.asarray(h, device=dev, requires_grad=True,
                            **({"chunks": (2, 2)} if dev == "dask" else {})) for h in hosts]
        with (no_compute() if dev == "dask" else contextlib.nullcontext()):
            out = fn(*xs)
            (out * xgrad.sin(out)).sum().backward()
        results[dev] = [out.detach()] + [x.grad for x in xs]
    for d, c in zip(results["dask"], results["cpu"]):
        assert_close(d, c, rtol=1e-10, atol=1e-12)


# -- dask.distributed -------------------------------------------------------------------------

@pytest.fixture(scope="module", params=[False, True], ids=["threads", "processes"])
def client(request):
    """A LocalCluster of one worker with two threads, in this process or in another."""
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=request.param,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _mlp_step(device, X, t, W1, W2):
    """Loss and gradients of a two-layer network on ``device``."""
    kw = {"chunks": (25, 4)} if device == "dask" else {}
    Xd = xgrad.asarray(X, device=device, **kw)
    td = xgrad.asarray(t, device=device)
    w1 = xgrad.asarray(W1, device=device, requires_grad=True)
    w2 = xgrad.asarray(W2, device=device, requires_grad=True)
    h = xgrad.tanh(Xd @ w1)
    loss = xgrad.mean((h @ w2 - td) ** 2) + 0.01 * xgrad.sum(w1 * w1)
    loss.backward()
    return xgrad.compute(loss, w1.grad, w2.grad)


def test_distributed_matches_cpu(client):
    rng = np.random.default_rng(5)
    X, t = rng.standard_normal((100, 4)), rng.standard_normal(100)
    W1, W2 = rng.standard_normal((4, 5)), rng.standard_normal(5)
    on_dask = _mlp_step("dask", X, t, W1, W2)
    from dask.distributed import Future
    for d in on_dask:  # computed on the cluster, and held there
        assert any(isinstance(v, Future) for v in dict(d._data.dask).values())
    on_cpu = _mlp_step("cpu", X, t, W1, W2)
    for d, c in zip(on_dask, on_cpu):
        assert d.device == "dask"
        assert_close(d, c, rtol=1e-13, atol=1e-15)


def test_distributed_example_runs(client):
    """The scale example's --quick run, on the cluster: same numbers as NumPy."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "examples" / "dask_logistic_regression.py"
    spec = importlib.util.spec_from_file_location("dask_logistic_regression", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    args = example.parse_args(["--quick"])
    X, y = example.design(4000, args.features, 1000, seed=1)
    w, losses = example.train(xgrad.asarray(X), xgrad.asarray(y), 3, args.lr,
                              contextlib.nullcontext, log=lambda *_: None)
    example.check_against_numpy(X, y, 3, args.lr, w, losses)


@pytest.mark.parametrize("name", ["exp", "matmul_vector", "index_repeated", "softmax", "prod",
                                  "take", "max_axis", "conv2d", "take_along_axis"])
def test_second_order_stays_lazy(name):
    """create_graph=True: gradients of gradients on dask, under the refusing scheduler,
    equal the cpu device's."""
    fn, specs = AUDIT[name]
    hosts = _hosts(specs, seed=3)
    results = {}
    for dev in ("cpu", "dask"):
        xs = [xgrad.asarray(h, device=dev, requires_grad=True,
                            **({"chunks": _chunks(h.shape)} if dev == "dask" else {}))
              for h in hosts]
        with (no_compute() if dev == "dask" else contextlib.nullcontext()):
            out = fn(*xs)
            loss = xgrad.sum(out * xgrad.sin(3.0 * out))
            grads = xgrad.autograd.grad(loss, xs, create_graph=True)
            total = sum(xgrad.sum(g * g) for g in grads)
            second = xgrad.autograd.grad(total, xs, allow_unused=True)
        results[dev] = [g.detach() for g in grads] + [g for g in second if g is not None]
    assert len(results["dask"]) == len(results["cpu"])
    for d, c in zip(results["dask"], results["cpu"]):
        assert d.device == "dask"
        assert_close(d, c, rtol=1e-10, atol=1e-12)
