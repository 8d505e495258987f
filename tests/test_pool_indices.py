"""Max pooling with indices (``F.max_pool1d/2d/3d(return_indices=True)``, ``ceil_mode``,
padding, dilation), ``F.max_unpool1d/2d/3d`` and the modules, against PyTorch: values,
indices, first- and second-order gradients, JVPs and error types, on every device."""

import numpy as np
import pytest

import xgrad
import xgrad.nn.functional as XF

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

from test_torch_math import X, T, against_torch  # noqa: E402
from test_torch_gaps import raises_like  # noqa: E402

P = np.random.default_rng(11)
INF, NAN = float("inf"), float("nan")


def both(name, **kw):
    """(xgrad, torch) versions of F.<name>(x, **kw), and of it on sin(x) * x (whose
    second-order gradient is not zero)."""
    return [(lambda x: getattr(XF, name)(x, **kw), lambda x: getattr(TF, name)(x, **kw)),
            (lambda x: getattr(XF, name)(xgrad.sin(x) * x, **kw),
             lambda x: getattr(TF, name)(torch.sin(x) * x, **kw))]


CASES = {
    1: [((2, 3, 9), dict(kernel_size=2)), ((3, 10), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 2, 11), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
        ((1, 2, 10), dict(kernel_size=3, stride=2, ceil_mode=True)),
        ((1, 2, 8), dict(kernel_size=4, stride=3, padding=2, dilation=2, ceil_mode=True)),
        ((1, 1, 5), dict(kernel_size=[2], stride=[1], padding=[1], dilation=[1]))],
    2: [((2, 2, 6, 7), dict(kernel_size=2)), ((3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
        ((1, 2, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 3))),
        ((1, 2, 7, 8), dict(kernel_size=3, stride=2, ceil_mode=True)),
        ((2, 1, 6, 5), dict(kernel_size=(2, 3), stride=(3, 2), padding=1, ceil_mode=True)),
        ((1, 1, 5, 5), dict(kernel_size=2, stride=[], padding=1, dilation=2, ceil_mode=True))],
    3: [((1, 2, 4, 5, 4), dict(kernel_size=2)), ((2, 5, 4, 6), dict(kernel_size=3, stride=2, padding=1)),
        ((1, 1, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 3), padding=(1, 1, 0),
                               dilation=(2, 1, 2))),
        ((1, 2, 5, 4, 5), dict(kernel_size=2, stride=2, ceil_mode=True))],
}


@pytest.mark.parametrize("n,shape,kw", [(n, s, k) for n, cases in CASES.items() for s, k in cases])
@pytest.mark.parametrize("return_indices", [True, False])
def test_max_pool(device, n, shape, kw, return_indices):
    a = P.standard_normal(shape)
    for fx, ft in both(f"max_pool{n}d", return_indices=return_indices, **kw):
        against_torch(fx, ft, [a], device)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("ri", [True, False])
def test_ties_pick_the_first_maximum(device, n, ri):
    # integers in a small range: many equal maxima in each window, with overlapping windows
    # (without indices too: the gradient goes to the first maximum alone, as PyTorch's)
    shape = {1: (2, 2, 9), 2: (1, 2, 6, 7), 3: (1, 1, 4, 5, 5)}[n]
    a = P.integers(0, 3, shape).astype(float)
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
               dict(kernel_size=(2,) * n, stride=1, dilation=2),
               dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True)]:
        against_torch(lambda x: getattr(XF, f"max_pool{n}d")(x, return_indices=ri, **kw),
                      lambda x: getattr(TF, f"max_pool{n}d")(x, return_indices=ri, **kw),
                      [a], device)
    # all equal, padded: the first real element of each window
    against_torch(lambda x: getattr(XF, f"max_pool{n}d")(x, 3, 2, 1, return_indices=ri),
                  lambda x: getattr(TF, f"max_pool{n}d")(x, 3, 2, 1, return_indices=ri),
                  [np.ones(shape)], device)


def test_infinities_and_nan(device):
    # -inf windows next to the -inf padding: the first real element; NaN: PyTorch's (the last NaN)
    a = np.array([[[-INF, -INF, 3.0, -INF, NAN, 1.0, NAN, 2.0, -INF]]])
    for kw in [dict(kernel_size=2, padding=1), dict(kernel_size=4, stride=2, padding=2),
               dict(kernel_size=3, stride=3, ceil_mode=True)]:
        ox, ix = XF.max_pool1d(X(a, device), return_indices=True, **kw)
        ot, it = TF.max_pool1d(T(a), return_indices=True, **kw)
        np.testing.assert_array_equal(xgrad.testing.to_numpy(ix), it.numpy())
        np.testing.assert_array_equal(xgrad.testing.to_numpy(ox), ot.numpy())
    for ri in (True, False):
        against_torch(lambda x: XF.max_pool2d(x, 2, 1, 1, return_indices=ri),
                      lambda x: TF.max_pool2d(x, 2, 1, 1, return_indices=ri),
                      [np.full((1, 1, 3, 3), -INF)], device, jvp=False)
    # NaN windows without indices and in adaptive pooling (the same pick): gradient to the last NaN
    b = np.array([[[NAN, 1.0, NAN, 0.0, 2.0, NAN]]])
    for fx, ft in [(lambda x: XF.max_pool1d(x, 3), lambda x: TF.max_pool1d(x, 3)),
                   (lambda x: XF.max_pool1d(x, 4, 2, 1, ceil_mode=True),
                    lambda x: TF.max_pool1d(x, 4, 2, 1, ceil_mode=True)),
                   (lambda x: XF.adaptive_max_pool1d(x, 2, True), lambda x: TF.adaptive_max_pool1d(x, 2, True)),
                   (lambda x: XF.adaptive_max_pool2d(x.reshape(1, 2, 3), 1, True),
                    lambda x: TF.adaptive_max_pool2d(x.reshape(1, 2, 3), 1, True))]:
        ox, ot = fx(X(b, device, requires_grad=True)), ft(T(b, requires_grad=True))
        for u, v in zip(ox if isinstance(ox, tuple) else (ox,), ot if isinstance(ot, tuple) else (ot,)):
            np.testing.assert_array_equal(xgrad.testing.to_numpy(u), v.detach().numpy())
        xb, tb = X(b, device, requires_grad=True), T(b, requires_grad=True)
        (gx,) = xgrad.autograd.grad(fx(xb)[0].sum() if isinstance(ox, tuple) else fx(xb).sum(), [xb])
        (gt,) = torch.autograd.grad(ft(tb)[0].sum() if isinstance(ot, tuple) else ft(tb).sum(), [tb])
        np.testing.assert_array_equal(xgrad.testing.to_numpy(gx), gt.numpy())


@pytest.mark.parametrize("n", [1, 2, 3])
def test_with_indices_functions(device, n):
    a = P.standard_normal((1, 2) + (5,) * n)
    name = f"max_pool{n}d_with_indices"
    against_torch(lambda x: getattr(XF, name)(x, 3, 2, 1, ceil_mode=True),
                  lambda x: getattr(TF, name)(x, 3, 2, 1, ceil_mode=True), [a], device)


def test_modules(device):
    a = P.standard_normal((2, 2, 5, 6, 7))
    for n, arr in [(1, a[0, 0]), (2, a[0]), (3, a)]:
        for kw in [dict(return_indices=True), dict(stride=2, padding=1, ceil_mode=True),
                   dict(stride=1, dilation=2, return_indices=True, ceil_mode=True)]:
            mx = getattr(xgrad.nn, f"MaxPool{n}d")(3, **kw)
            mt = getattr(torch.nn, f"MaxPool{n}d")(3, **kw)
            against_torch(lambda x: mx(x), lambda x: mt(x), [arr], device)
        # pool then unpool through the modules (PyTorch's round trip)
        px, pt = getattr(xgrad.nn, f"MaxPool{n}d")(2, return_indices=True), \
            getattr(torch.nn, f"MaxPool{n}d")(2, return_indices=True)
        ux, ut = getattr(xgrad.nn, f"MaxUnpool{n}d")(2), getattr(torch.nn, f"MaxUnpool{n}d")(2)
        size = arr.shape

        def fx(x):
            return ux(*px(x), output_size=size)

        def ft(x):
            return ut(*pt(x), output_size=size)
        against_torch(fx, ft, [arr], device)
        even = arr[(Ellipsis,) + (slice(0, 4),) * n]  # the default output size holds every index
        against_torch(lambda x: ux(*px(x)), lambda x: ut(*pt(x)), [even], device)


UNPOOL = {
    1: [((2, 3, 9), dict(kernel_size=2), None), ((3, 10), dict(kernel_size=3, stride=2, padding=1), [10]),
        ((1, 2, 10), dict(kernel_size=3, stride=3), [11]), ((1, 2, 10), dict(kernel_size=3, stride=3), (1, 2, 9))],
    2: [((2, 2, 6, 7), dict(kernel_size=2), (6, 7)), ((3, 7, 6), dict(kernel_size=3, stride=2, padding=1), (7, 6)),
        ((1, 2, 7, 8), dict(kernel_size=2, stride=2), (7, 9)),
        ((1, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 2)), [1, 2, 7, 8])],
    3: [((1, 2, 4, 6, 4), dict(kernel_size=2), None),
        ((2, 5, 4, 6), dict(kernel_size=3, stride=2, padding=1), (5, 4, 6))],
}


@pytest.mark.parametrize("n,shape,kw,size", [(n, *c) for n, cases in UNPOOL.items() for c in cases])
def test_max_unpool(device, n, shape, kw, size):
    a = P.standard_normal(shape)
    pool_t = getattr(TF, f"max_pool{n}d")
    pooled, idx = pool_t(T(a), return_indices=True, **kw)
    flat = idx.reshape(-1, int(np.prod(idx.shape[-n:]))).numpy()
    unique = all(len(set(row)) == len(row) for row in flat)
    # a position named twice (overlapping windows): PyTorch leaves which write wins unspecified
    # (xgrad: the last), so there the values written are equal (the pooled ones) and the JVP
    # is not compared; the gradient, PyTorch's gather, goes to every source
    v = P.standard_normal(tuple(idx.shape)) if unique else pooled.numpy()
    kx = dict(kw, output_size=size)
    against_torch(lambda x, i: getattr(XF, f"max_unpool{n}d")(x, i, **kx),
                  lambda x, i: getattr(TF, f"max_unpool{n}d")(x, i, **kx), [v, idx.numpy()], device,
                  jvp=unique)
    # the composition (gradient through both)
    pool_x = getattr(XF, f"max_pool{n}d")
    against_torch(lambda x: getattr(XF, f"max_unpool{n}d")(*pool_x(x * x, return_indices=True, **kw), **kx),
                  lambda x: getattr(TF, f"max_unpool{n}d")(*pool_t(x * x, return_indices=True, **kw), **kx),
                  [a], device)


def test_errors(device):
    bad = [("max_pool2d", (1, 1, 5, 5), dict(kernel_size=2, padding=2)),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=3, padding=2, dilation=3)),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=0)),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=2, stride=0)),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=2, dilation=0)),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=(1, 2, 3))),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=6)),
           ("max_pool2d", (1, 1, 5, 5), dict(kernel_size=2, padding=-1)),
           ("max_pool2d", (5, 5), dict(kernel_size=2)),
           ("max_pool2d", (1, 0, 5, 5), dict(kernel_size=2)),
           ("max_pool1d", (5,), dict(kernel_size=2)),
           ("max_pool1d", (1, 1, 5), dict(kernel_size=2, stride=(1, 2))),
           ("max_pool1d", (1, 1, 5), dict(kernel_size=3, padding=2)),
           ("max_pool3d", (5, 5, 5), dict(kernel_size=2)),
           ("max_pool3d", (1, 1, 5, 5, 5), dict(kernel_size=(2, 2))),
           ("max_pool3d", (1, 1, 1, 5, 5), dict(kernel_size=2))]
    for (name, shape, kw), ri in [(b, ri) for b in bad for ri in (True, False)]:
        raises_like(lambda: getattr(XF, name)(X(np.zeros(shape), device), return_indices=ri, **kw),
                    lambda: getattr(TF, name)(T(np.zeros(shape)), return_indices=ri, **kw))
    v, i = TF.max_pool2d(T(np.zeros((1, 2, 6, 6))), 2, return_indices=True)
    unbad = [dict(output_size=(4, 6)), dict(output_size=(6, 6, 6)), dict(output_size=(2, 6, 6)),
             dict(output_size=(13, 6))]
    for kw in unbad:
        raises_like(lambda: XF.max_unpool2d(X(v.numpy(), device), X(i.numpy(), device), 2, **kw),
                    lambda: TF.max_unpool2d(v, i, 2, **kw))
    raises_like(lambda: XF.max_unpool2d(X(v.numpy(), device), X(i.numpy()[..., :2], device), 2),
                lambda: TF.max_unpool2d(v, i[..., :2], 2))
    raises_like(lambda: XF.max_unpool2d(X(v.numpy(), device), X(i.numpy().astype(np.int32), device), 2),
                lambda: TF.max_unpool2d(v, i.int(), 2))


def test_integers_and_empty_batch(device):
    a = np.arange(50).reshape(1, 2, 5, 5) % 7  # integer input: values and indices, no -inf
    for ri in (True, False):
        against_torch(lambda x: XF.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=ri),
                      lambda x: TF.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=ri),
                      [a], device)
    z = np.zeros((0, 2, 5, 4))
    for n, shape in [(1, (0, 2, 5)), (2, (0, 2, 5, 4)), (3, (0, 1, 2, 4, 4))]:
        z = np.zeros(shape)
        pool_x, pool_t = getattr(XF, f"max_pool{n}d"), getattr(TF, f"max_pool{n}d")
        unpool_x, unpool_t = getattr(XF, f"max_unpool{n}d"), getattr(TF, f"max_unpool{n}d")
        against_torch(lambda x: pool_x(x, 2, return_indices=True),
                      lambda x: pool_t(x, 2, return_indices=True), [z], device, jvp=False)
        against_torch(lambda x: unpool_x(*pool_x(x, 2, return_indices=True), 2),
                      lambda x: unpool_t(*pool_t(x, 2, return_indices=True), 2), [z], device,
                      jvp=False)
