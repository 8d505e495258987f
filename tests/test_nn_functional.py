"""xgrad.nn.functional: values against NumPy formulas, gradients against finite differences."""

import numpy as np
import pytest

import xgrad
import xgrad.nn.functional as F
from xgrad.testing import assert_close, gradcheck, gradgradcheck, to_numpy


def T(values, device, dtype=xgrad.float64, requires_grad=False):
    return xgrad.asarray(np.asarray(values), dtype=dtype, device=device,
                         requires_grad=requires_grad)


def np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.fixture
def logits(rng):
    return rng.standard_normal((4, 5))


# -- activations ------------------------------------------------------------------------------
def test_activation_values(device, rng):
    x = rng.standard_normal(7) * 3
    t = T(x, device)
    assert_close(F.relu(t), np.maximum(x, 0))
    assert_close(F.sigmoid(t), 1 / (1 + np.exp(-x)))
    assert_close(F.softplus(t), np.log1p(np.exp(x)))
    assert_close(F.softplus(t, beta=2.0), np.log1p(np.exp(2 * x)) / 2)
    assert_close(F.silu(t), x / (1 + np.exp(-x)))
    assert_close(F.tanh(t), np.tanh(x))
    assert_close(F.leaky_relu(t, 0.1), np.where(x > 0, x, 0.1 * x))
    from math import erf, sqrt
    exact = np.array([0.5 * v * (1 + erf(v / sqrt(2))) for v in x])
    assert_close(F.gelu(t), exact, rtol=1e-6, atol=1e-7)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    assert_close(F.gelu(t, approximate="tanh"), tanh_form)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "softplus", "gelu", "gelu_tanh", "silu"])
def test_activation_gradients(device, rng, name):
    fn = {"gelu_tanh": lambda x: F.gelu(x, approximate="tanh")}.get(name, getattr(F, name, None))
    x = T(rng.standard_normal((2, 3)) * 2 + 0.1, device, requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_activations_do_not_overflow(device):
    x = T([-1000.0, -50.0, 0.0, 50.0, 1000.0], device, dtype=xgrad.float32, requires_grad=True)
    for fn in (F.sigmoid, F.softplus, F.silu, F.gelu):
        y = fn(x)
        y.sum().backward()
        assert np.all(np.isfinite(to_numpy(y))) and np.all(np.isfinite(to_numpy(x.grad)))
        x.grad = None
    assert_close(F.softplus(x), [0.0, np.log1p(np.exp(-50.0)), np.log(2.0), 50.0, 1000.0],
                 rtol=1e-6, atol=1e-30)
    assert_close(F.sigmoid(x), [0.0, 1 / (1 + np.exp(50.0)), 0.5, 1.0, 1.0], rtol=1e-6, atol=1e-30)


# -- softmax family ---------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_values(device, logits, dim):
    t = T(logits, device)
    expected = np_log_softmax(logits, dim)
    assert_close(F.log_softmax(t, dim), expected)
    assert_close(F.softmax(t, dim), np.exp(expected))
    lse = np.log(np.exp(logits).sum(axis=dim))
    assert_close(F.logsumexp(t, dim), lse)
    assert_close(F.logsumexp(t, dim, keepdim=True), np.expand_dims(lse, dim))


def test_logsumexp_all_axes_and_tuple(device, logits):
    t = T(logits, device)
    assert_close(F.logsumexp(t), np.log(np.exp(logits).sum()))
    assert_close(xgrad.nn.functional.logsumexp(t, (0, 1)), np.log(np.exp(logits).sum()))


def test_softmax_family_large_logits(device):
    x = T([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], device, dtype=xgrad.float32,
          requires_grad=True)
    assert_close(F.softmax(x, 1), [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    assert_close(F.log_softmax(x, 1), [[0.0, -1000.0, -2000.0], [-np.log(3)] * 3], rtol=1e-6)
    assert_close(F.logsumexp(x, 1), [1000.0, -1e4 + np.log(3)], rtol=1e-6)
    F.logsumexp(x, 1).sum().backward()
    # exp(x - logsumexp(x)), as PyTorch: float32 rounding of logsumexp ≈ -1e4 costs ~1e-5
    assert_close(x.grad, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-4, atol=1e-7)


def test_logsumexp_of_minus_inf(device):
    x = T([-np.inf, -np.inf], device)
    assert to_numpy(F.logsumexp(x, 0)) == -np.inf


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_family_gradients(device, rng, fn, dim):
    x = T(rng.standard_normal((3, 4)), device, requires_grad=True)
    f = lambda t: getattr(F, fn)(t, dim)  # noqa: E731
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


# -- losses -------------------------------------------------------------------------------------
def test_cross_entropy_class_indices(device, logits):
    target = np.array([0, 4, 2, 4])
    expected = -np_log_softmax(logits, 1)[np.arange(4), target]
    x, y = T(logits, device), xgrad.asarray(target, device=device)
    assert_close(F.cross_entropy(x, y), expected.mean())
    assert_close(F.cross_entropy(x, y, reduction="sum"), expected.sum())
    assert_close(F.cross_entropy(x, y, reduction="none"), expected)
    w = np.array([1.0, 2.0, 3.0, 0.5, 0.25])
    weighted = (w[target] * expected).sum() / w[target].sum()
    assert_close(F.cross_entropy(x, y, weight=T(w, device)), weighted)
    masked = xgrad.asarray(np.array([0, -100, 2, 4]), device=device)
    assert_close(F.cross_entropy(x, masked), expected[[0, 2, 3]].mean())


def test_cross_entropy_label_smoothing(device, logits):
    target = np.array([0, 4, 2, 4])
    eps = 0.1
    q = np.full((4, 5), eps / 5)
    q[np.arange(4), target] += 1 - eps
    expected = -(q * np_log_softmax(logits, 1)).sum(1).mean()
    out = F.cross_entropy(T(logits, device), xgrad.asarray(target, device=device),
                          label_smoothing=eps)
    assert_close(out, expected)


def test_cross_entropy_probabilities(device, logits, rng):
    p = rng.random((4, 5))
    p /= p.sum(1, keepdims=True)
    expected = -(p * np_log_softmax(logits, 1)).sum(1)
    assert_close(F.cross_entropy(T(logits, device), T(p, device)), expected.mean())
    assert_close(F.cross_entropy(T(logits, device), T(p, device), reduction="none"), expected)


def test_cross_entropy_spatial(device, rng):
    x = rng.standard_normal((2, 3, 4))  # (N, C, d)
    target = rng.integers(0, 3, (2, 4))
    logp = np_log_softmax(x, 1)
    expected = -np.take_along_axis(logp, target[:, None], 1)[:, 0]
    assert_close(F.cross_entropy(T(x, device), xgrad.asarray(target, device=device)),
                 expected.mean())


def test_cross_entropy_gradient(device, logits):
    target = xgrad.asarray(np.array([1, 0, 3, 3]), device=device)
    x = T(logits, device, requires_grad=True)
    F.cross_entropy(x, target).backward()
    onehot = np.eye(5)[[1, 0, 3, 3]]
    assert_close(x.grad, (np.exp(np_log_softmax(logits, 1)) - onehot) / 4)
    x.grad = None
    assert gradcheck(lambda t: F.cross_entropy(t, target), (x,))
    assert gradgradcheck(lambda t: F.cross_entropy(t, target), (x,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_own_rule_all_reductions(device, logits, reduction):
    target = xgrad.asarray(np.array([1, -100, 3, 0]), device=device)
    x = T(logits, device, requires_grad=True)
    out = F.cross_entropy(x, target, reduction=reduction)
    assert out.grad_fn.name() == "NllLossBackward0"  # one op, not a composition
    composed = F.nll_loss(F.log_softmax(x, 1), target, reduction=reduction)
    assert_close(out, composed.detach())
    f = lambda t: F.cross_entropy(t, target, reduction=reduction)  # noqa: E731
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_cross_entropy_huge_logits_finite(device):
    x = T([[1e4, -1e4], [-1e4, 1e4]], device, dtype=xgrad.float32, requires_grad=True)
    loss = F.cross_entropy(x, xgrad.asarray([1, 1], device=device))
    loss.backward()
    assert_close(loss, 1e4, rtol=1e-6)
    assert_close(x.grad, [[0.5, -0.5], [0.0, 0.0]], atol=1e-7)


def test_nll_loss(device, logits):
    target = np.array([2, 2, 0, 1])
    lp = np_log_softmax(logits, 1)
    out = F.nll_loss(T(lp, device), xgrad.asarray(target, device=device))
    assert_close(out, -lp[np.arange(4), target].mean())


def test_regression_losses(device, rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    ta, tb = T(a, device, requires_grad=True), T(b, device)
    assert_close(F.mse_loss(ta, tb), ((a - b) ** 2).mean())
    assert_close(F.mse_loss(ta, tb, reduction="sum"), ((a - b) ** 2).sum())
    assert_close(F.l1_loss(ta, tb), np.abs(a - b).mean())
    F.mse_loss(ta, tb).backward()
    assert_close(ta.grad, 2 * (a - b) / 6)
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(ta, tb, reduction="avg")


def test_binary_cross_entropy(device, rng):
    x = rng.standard_normal(6) * 3
    y = (rng.random(6) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-x))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_close(F.binary_cross_entropy(T(p, device), T(y, device)), expected.mean())
    assert_close(F.binary_cross_entropy_with_logits(T(x, device), T(y, device)), expected.mean())
    pw = 3.0
    weighted = -(pw * y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_close(F.binary_cross_entropy_with_logits(T(x, device), T(y, device),
                                                    pos_weight=T([pw], device)), weighted.mean())
    xt = T(x, device, requires_grad=True)
    assert gradcheck(lambda t: F.binary_cross_entropy_with_logits(t, T(y, device)), (xt,))
    pt = T(p * 0.9 + 0.05, device, requires_grad=True)
    assert gradcheck(lambda t: F.binary_cross_entropy(t, T(y, device)), (pt,))


def test_bce_with_logits_stable(device):
    x = T([1000.0, -1000.0], device, dtype=xgrad.float32)
    y = T([0.0, 1.0], device, dtype=xgrad.float32)
    assert_close(F.binary_cross_entropy_with_logits(x, y, reduction="none"), [1000.0, 1000.0])
    assert_close(F.binary_cross_entropy(T([0.0, 1.0], device), T([1.0, 0.0], device)), 100.0)


# -- layers ---------------------------------------------------------------------------------------
def test_linear(device, rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    assert_close(F.linear(T(x, device), T(w, device), T(b, device)), x @ w.T + b)
    args = [T(v, device, requires_grad=True) for v in (x, w, b)]
    assert gradcheck(F.linear, args)


def np_conv2d(x, w, stride=1, padding=0, dilation=1, groups=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ho = (h - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(ho):
            for j in range(wo):
                patch = x[:, g * cg:(g + 1) * cg, i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                          j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1),
                                                            (1, 2, 2, 1), (1, 1, 1, 2)])
def test_conv2d_values(device, rng, stride, padding, dilation, groups):
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    b = rng.standard_normal(6)
    out = F.conv2d(T(x, device), T(w, device), T(b, device), stride, padding, dilation, groups)
    expected = np_conv2d(x, w, stride, padding, dilation, groups) + b[None, :, None, None]
    assert_close(out, expected)


def test_conv2d_same_padding_and_unbatched(device, rng):
    x, w = rng.standard_normal((3, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    out = F.conv2d(T(x, device), T(w, device), padding="same")
    assert_close(out, np_conv2d(x[None], w, padding=1)[0])


def test_conv2d_gradients(device, rng):
    x = T(rng.standard_normal((1, 2, 4, 4)), device, requires_grad=True)
    w = T(rng.standard_normal((2, 2, 2, 2)), device, requires_grad=True)
    b = T(rng.standard_normal(2), device, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1), (x, w))


def test_max_pool2d(device, rng):
    x = rng.standard_normal((2, 3, 4, 6))
    out = F.max_pool2d(T(x, device), 2)
    assert_close(out, x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    padded = F.max_pool2d(T(x, device), 3, stride=2, padding=1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    expected = np.stack([np.stack([xp[:, :, i:i + 3, j:j + 3].max(axis=(2, 3))
                                   for j in range(0, 6, 2)], -1) for i in range(0, 4, 2)], -2)
    assert_close(padded, expected)
    xt = T(x[:, :, :4, :4], device, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 2), (xt,))
    assert gradcheck(lambda t: F.max_pool2d(t, 2, stride=1, padding=1), (xt,))
    assert gradgradcheck(lambda t: F.max_pool2d(t, (2, 3), stride=1), (xt,))
    assert_close(F.max_pool2d(T(x, device), 3, stride=3),  # 4 x 6: not tiled by 3 x 3
                 x[:, :, :3, :6].reshape(2, 3, 1, 3, 2, 3).max(axis=(3, 5)))


def test_max_pool2d_gradient_routes_to_max(device):
    x = T(np.arange(16.0).reshape(1, 1, 4, 4), device, requires_grad=True)
    out = F.max_pool2d(x, 2)
    assert out.grad_fn.name() == "MaxPool2DBackward0"
    out.sum().backward()
    expected = np.zeros((4, 4))
    expected[1::2, 1::2] = 1
    assert_close(x.grad, expected[None, None])


def test_max_pool2d_ties_first_and_overlaps_add(device):
    x = T(np.array([[[[1.0, 1.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]]]), device,
          requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # every window holds the 3
    assert_close(x.grad, np.array([[[[0, 0, 0], [0, 4.0, 0], [0, 0, 0]]]]))
    y = T(np.ones((1, 1, 2, 2)), device, requires_grad=True)
    F.max_pool2d(y, 2).sum().backward()  # a four-way tie: all to the first, as PyTorch's
    assert_close(y.grad, np.array([[[[1.0, 0], [0, 0]]]]))


def test_avg_pool2d(device, rng):
    x = rng.standard_normal((1, 2, 4, 4))
    assert_close(F.avg_pool2d(T(x, device), 2), x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(device, rng, mode):
    x = rng.standard_normal((2, 3, 4))
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[mode]
    out = F.pad(T(x, device), (1, 2, 2, 1), mode=mode)
    assert_close(out, np.pad(x, ((0, 0), (2, 1), (1, 2)), mode=np_mode))
    xt = T(x, device, requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, (1, 2, 2, 1), mode=mode), (xt,))


def test_pad_value(device):
    out = F.pad(T([[1.0]], device), (1, 0), value=7.0)
    assert_close(out, [[7.0, 1.0]])


def test_layer_norm(device, rng):
    x = rng.standard_normal((3, 4, 5))
    w, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    mu = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    expected = (x - mu) / np.sqrt(var + 1e-5) * w + b
    assert_close(F.layer_norm(T(x, device), (4, 5), T(w, device), T(b, device)), expected)
    args = [T(v, device, requires_grad=True) for v in (x[:2, :2, :3], w[:2, :3], b[:2, :3])]
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), args)


def test_batch_norm_training_and_eval(device, rng):
    x = rng.standard_normal((6, 3, 2))
    rm, rv = T(np.zeros(3), device), T(np.ones(3), device)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    out = F.batch_norm(T(x, device), rm, rv, T(w, device), T(b, device), training=True,
                       momentum=0.1)
    mu, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    expected = (x - mu[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5) * w[None, :, None] \
        + b[None, :, None]
    assert_close(out, expected)
    assert_close(rm, 0.1 * mu)
    assert_close(rv, 0.9 + 0.1 * x.var(axis=(0, 2), ddof=1))
    out = F.batch_norm(T(x, device), rm, rv, training=False)
    assert_close(out, (x - to_numpy(rm)[None, :, None]) / np.sqrt(to_numpy(rv)[None, :, None] + 1e-5))
    xt = T(x[:3, :2], device, requires_grad=True)
    assert gradcheck(lambda t: F.batch_norm(t, None, None, training=True), (xt,))


def test_dropout(device):
    xgrad.manual_seed(0)
    x = xgrad.ones((200, 50), device=device, requires_grad=True)
    y = F.dropout(x, 0.3)
    values = to_numpy(y)
    kept = values != 0
    assert np.allclose(values[kept], 1 / 0.7)
    assert 0.65 < kept.mean() < 0.75
    y.sum().backward()
    assert_close(x.grad, kept / 0.7)
    assert F.dropout(x, 0.3, training=False) is x
    assert np.all(to_numpy(F.dropout(x, 1.0)) == 0)


def test_embedding_and_one_hot(device, rng):
    w = rng.standard_normal((5, 3))
    idx = np.array([[0, 2], [4, 2]])
    wt = T(w, device, requires_grad=True)
    out = F.embedding(xgrad.asarray(idx, device=device), wt, padding_idx=4)
    assert_close(out, w[idx])
    out.sum().backward()
    assert_close(wt.grad, np.array([[1.0] * 3, [0] * 3, [2.0] * 3, [0] * 3, [0] * 3]))
    oh = F.one_hot(xgrad.asarray(np.array([0, 2, 1]), device=device), 4)
    assert oh.dtype == xgrad.int64
    assert_close(oh, np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(xgrad.asarray(np.array([3, 1]), device=device)).shape == (2, 4)


def test_unfold_matches_conv(device, rng):
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    cols = F.unfold(T(x, device), 3, padding=1)
    assert cols.shape == (2, 27, 25)
    out = xgrad.matmul(T(w.reshape(4, 27), device), cols)
    assert_close(out, np_conv2d(x, w, padding=1).reshape(2, 4, 25))


def test_cross_entropy_unbatched_and_weighted_nll(device, logits):
    x = T(logits[0], device)
    target = xgrad.asarray(np.array(3), device=device)
    assert_close(F.cross_entropy(x, target), -np_log_softmax(logits[0], 0)[3])
    lp = np_log_softmax(logits, 1)
    tgt = np.array([1, 4, -100, 1])
    w = np.array([0.5, 2.0, 1.0, 1.0, 3.0])
    keep = tgt != -100
    picked = lp[np.arange(4)[keep], tgt[keep]]
    expected = -(w[tgt[keep]] * picked).sum() / w[tgt[keep]].sum()
    out = F.nll_loss(T(lp, device), xgrad.asarray(tgt, device=device), weight=T(w, device))
    assert_close(out, expected)


def test_pad_second_order(device, rng):
    x = T(rng.standard_normal((2, 2)), device, requires_grad=True)
    assert gradgradcheck(lambda t: F.pad(t, (1, 1), value=2.0) ** 2, (x,))


# -- forward mode: each op's JVP rule against reverse mode (<J t, v> == <t, Jᵀ v>) ------------
JVP_CASES = {
    "softmax": (lambda x: F.softmax(x, 1), (3, 4)),
    "log_softmax": (lambda x: F.log_softmax(x, 0), (3, 4)),
    "logsumexp": (lambda x: F.logsumexp(x, 1), (3, 4)),
    "softplus": (F.softplus, (3, 4)),
    "gelu": (F.gelu, (3, 4)),
    "pad": (lambda x: F.pad(x, (1, 2), value=3.0), (3, 4)),
    "conv2d_unfold": (lambda x: F.unfold(x, 2, padding=1), (1, 2, 3, 3)),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2, stride=1), (1, 2, 3, 3)),
    "cross_entropy": (lambda x: F.cross_entropy(x, xgrad.asarray([1, 0, 3], device=x.device)),
                      (3, 4)),
    "cross_entropy_none": (lambda x: F.cross_entropy(x, xgrad.asarray([1, -100, 3],
                                                                      device=x.device),
                                                      reduction="none"), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(JVP_CASES))
def test_forward_mode_matches_reverse_mode(device, rng, name):
    from xgrad.func import jvp
    f, shape = JVP_CASES[name]
    x = T(rng.standard_normal(shape), device)
    t = T(rng.standard_normal(shape), device)
    out, tangent = jvp(f, (x,), (t,))
    assert_close(out, f(x).detach())
    v = T(rng.standard_normal(out.shape), device)
    xr = x.detach().requires_grad_(True)
    (vjp,) = xgrad.autograd.grad(f(xr), xr, v)
    lhs = float(np.sum(to_numpy(tangent) * to_numpy(v)))
    rhs = float(np.sum(to_numpy(t) * to_numpy(vjp)))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(rhs))
