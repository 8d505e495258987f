"""xgrad.nn: Module machinery, layers against hand-computed values, init."""

import math

import numpy as np
import pytest

import xgrad
from xgrad import nn
from xgrad.testing import assert_close, gradcheck, to_numpy


def T(values, device, dtype=xgrad.float64, requires_grad=False):
    return xgrad.asarray(np.asarray(values), dtype=dtype, device=device,
                         requires_grad=requires_grad)


class TwoLayer(nn.Module):
    def __init__(self, device=None):
        super().__init__()
        self.fc1 = nn.Linear(3, 4, device=device)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2, device=device)
        self.scale = nn.Parameter(xgrad.ones((), device=device))
        self.register_buffer("count", xgrad.zeros((), device=device))
        self.plain = 5

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# -- Module machinery ---------------------------------------------------------------------------
def test_parameter_is_a_leaf_tensor(device):
    p = nn.Parameter(xgrad.ones(3, device=device))
    assert isinstance(p, xgrad.Tensor) and p.requires_grad and p.is_leaf
    assert p.device == device
    assert not nn.Parameter(xgrad.ones(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")
    (p * 2).sum().backward()
    assert_close(p.grad, [2.0, 2.0, 2.0])


def test_registration_and_traversal(device):
    m = TwoLayer(device)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert len(list(m.parameters())) == 5
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in m.named_buffers()] == ["count"]
    assert m.plain == 5 and "plain" not in dict(m.named_parameters())
    assert list(m.state_dict()) == ["scale", "count", "fc1.weight", "fc1.bias", "fc2.weight",
                                    "fc2.bias"]
    shared = nn.Sequential(m.fc1, m.fc1)
    assert len(list(shared.parameters())) == 2  # shared modules counted once
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing
    with pytest.raises(TypeError, match="cannot assign"):
        m.fc1 = 3


def test_forward_and_backward_reach_every_parameter(device, rng):
    m = TwoLayer(device)
    x = T(rng.standard_normal((5, 3)), device, dtype=xgrad.float32)
    out = m(x)
    assert out.shape == (5, 2) and out.device == device
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_eval(device):
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m[1].training
    assert m.eval() is m
    assert not m.training and not m[1].training
    m.train()
    assert m[1].training


def test_to_device_keeps_parameter_identity(device):
    m = TwoLayer("cpu")
    params = list(m.parameters())
    before = [to_numpy(p) for p in params]
    m.to(device)
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.device == device for p in m.parameters())
    assert m.count.device == device
    for p, b in zip(m.parameters(), before):
        assert_close(p, b)
    m.to(xgrad.float64)
    assert all(p.dtype == xgrad.float64 for p in m.parameters())
    out = m(xgrad.ones((1, 3), dtype=xgrad.float64, device=device))
    assert out.device == device


def test_state_dict_round_trip(device):
    a, b = TwoLayer(device), TwoLayer(device)
    sd = a.state_dict()
    assert all(not t.requires_grad for t in sd.values())
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        assert_close(q, p, msg=n)
    sd2 = dict(sd)
    del sd2["fc1.bias"]
    sd2["extra"] = sd["scale"]
    with pytest.raises(RuntimeError, match="missing keys"):
        b.load_state_dict(sd2)
    missing, unexpected = b.load_state_dict(sd2, strict=False)
    assert missing == ["fc1.bias"] and unexpected == ["extra"]
    bad = dict(sd, **{"fc1.weight": xgrad.zeros((2, 2), device=device)})
    with pytest.raises(RuntimeError, match="size mismatch"):
        b.load_state_dict(bad)


def test_repr_like_pytorch():
    m = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(128, 10, bias=False))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=128, out_features=10, bias=False)\n"
        ")")


def test_sequential_indexing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert s[0] is layers[0] and s[-1] is layers[2] and len(s) == 3
    assert list(s) == layers
    assert isinstance(s[1:], nn.Sequential) and len(s[1:]) == 2


# -- layers against formulas ---------------------------------------------------------------------
def test_linear_layer_values_and_default_init(device, rng):
    xgrad.manual_seed(0)
    lin = nn.Linear(50, 40, device=device)
    w, b = to_numpy(lin.weight), to_numpy(lin.bias)
    bound = 1 / math.sqrt(50)  # kaiming_uniform(a=√5) gives U(±1/√fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    x = rng.standard_normal((3, 50)).astype(np.float32)
    assert_close(lin(T(x, device, dtype=xgrad.float32)), x @ w.T + b, rtol=1e-5, atol=1e-6)
    assert lin.weight.dtype == xgrad.float32


def test_conv2d_layer(device, rng):
    conv = nn.Conv2d(2, 3, (2, 3), stride=1, padding=1, device=device)
    assert conv.weight.shape == (3, 2, 2, 3) and conv.bias.shape == (3,)
    bound = 1 / math.sqrt(2 * 2 * 3)
    assert np.abs(to_numpy(conv.weight)).max() <= bound
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    out = conv(T(x, device, dtype=xgrad.float32))
    w, b = to_numpy(conv.weight), to_numpy(conv.bias)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.array([[[[(xp[0, :, i:i + 2, j:j + 3] * w[o]).sum() + b[o]
                            for j in range(4)] for i in range(5)] for o in range(3)]])
    assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_activation_and_pool_modules(device, rng):
    x = rng.standard_normal((2, 1, 4, 4))
    t = T(x, device)
    assert_close(nn.ReLU()(t), np.maximum(x, 0))
    assert_close(nn.Tanh()(t), np.tanh(x))
    assert_close(nn.Sigmoid()(t), 1 / (1 + np.exp(-x)))
    assert_close(nn.GELU(approximate="tanh")(t), nn.functional.gelu(t, approximate="tanh"))
    assert_close(nn.MaxPool2d(2)(t), x.reshape(2, 1, 2, 2, 2, 2).max(axis=(3, 5)))
    assert_close(nn.Flatten()(t), x.reshape(2, 16))
    assert_close(nn.Softmax(dim=1)(T(x[:, 0, 0], device)),
                 np.exp(x[:, 0, 0]) / np.exp(x[:, 0, 0]).sum(1, keepdims=True))


def test_dropout_module(device):
    d = nn.Dropout(0.5)
    x = xgrad.ones((1000,), device=device)
    y = to_numpy(d(x))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y > 0).mean() < 0.6
    d.eval()
    assert_close(d(x), np.ones(1000))


def test_layer_norm_module(device, rng):
    ln = nn.LayerNorm(4, device=device, dtype=xgrad.float64)
    assert_close(ln.weight, np.ones(4))
    x = rng.standard_normal((3, 4))
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    assert_close(ln(T(x, device)), expected)
    ln(T(x, device)).sum().backward()
    assert ln.weight.grad.shape == (4,)


def test_batchnorm1d_module(device, rng):
    bn = nn.BatchNorm1d(3, momentum=0.5, device=device, dtype=xgrad.float64)
    x = rng.standard_normal((8, 3))
    out = bn(T(x, device))
    assert_close(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    assert_close(bn.running_mean, 0.5 * x.mean(0))
    assert_close(bn.running_var, 0.5 + 0.5 * x.var(0, ddof=1))
    assert int(bn.num_batches_tracked.item()) == 1
    assert "running_mean" in bn.state_dict()
    bn.eval()
    rm, rv = to_numpy(bn.running_mean), to_numpy(bn.running_var)
    assert_close(bn(T(x, device)), (x - rm) / np.sqrt(rv + 1e-5))
    assert int(bn.num_batches_tracked.item()) == 1


def test_embedding_module(device):
    xgrad.manual_seed(1)
    emb = nn.Embedding(10, 3, padding_idx=0, device=device)
    assert_close(emb.weight[0], np.zeros(3))
    idx = xgrad.asarray(np.array([[1, 0], [1, 9]]), device=device)
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    assert_close(out[0, 0], to_numpy(emb.weight)[1])
    out.sum().backward()
    g = to_numpy(emb.weight.grad)
    assert_close(g[1], [2.0] * 3)
    assert_close(g[0], [0.0] * 3)


def test_loss_modules(device, rng):
    logits = rng.standard_normal((4, 3))
    target = np.array([0, 2, 1, 2])
    x, y = T(logits, device), xgrad.asarray(target, device=device)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert_close(nn.CrossEntropyLoss()(x, y), -logp[np.arange(4), target].mean())
    assert_close(nn.CrossEntropyLoss(reduction="sum")(x, y), -logp[np.arange(4), target].sum())
    assert_close(nn.NLLLoss()(T(logp, device), y), -logp[np.arange(4), target].mean())
    b = rng.standard_normal((4, 3))
    assert_close(nn.MSELoss()(x, T(b, device)), ((logits - b) ** 2).mean())
    assert_close(nn.L1Loss()(x, T(b, device)), np.abs(logits - b).mean())


def test_module_gradcheck(device, rng):
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.Tanh(), nn.Flatten(), nn.Linear(8, 2))
    model.to(device).double()
    x = T(rng.standard_normal((1, 1, 3, 3)), device, requires_grad=True)
    assert gradcheck(model, (x,))


# -- init --------------------------------------------------------------------------------------
def test_init_functions(device):
    xgrad.manual_seed(0)
    w = xgrad.empty((200, 100), device=device, requires_grad=True)
    nn.init.constant_(w, 0.5)
    assert_close(w, np.full((200, 100), 0.5, np.float32))
    nn.init.zeros_(w)
    assert np.all(to_numpy(w.detach()) == 0)
    nn.init.ones_(w)
    assert np.all(to_numpy(w.detach()) == 1)
    assert w.requires_grad and w.is_leaf
    nn.init.uniform_(w, -2, 3)
    v = to_numpy(w.detach())
    assert v.min() >= -2 and v.max() <= 3 and abs(v.mean() - 0.5) < 0.05
    nn.init.normal_(w, 1.0, 2.0)
    v = to_numpy(w.detach())
    assert abs(v.mean() - 1.0) < 0.05 and abs(v.std() - 2.0) < 0.05
    a = math.sqrt(6 / 300)
    nn.init.xavier_uniform_(w)
    v = to_numpy(w.detach())
    assert v.max() <= a and abs(v.std() - a / math.sqrt(3)) < 0.05 * a
    nn.init.xavier_normal_(w, gain=2.0)
    assert abs(to_numpy(w.detach()).std() - 2 * math.sqrt(2 / 300)) < 0.03
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 100)
    v = to_numpy(w.detach())
    assert v.max() <= bound and abs(v.std() - bound / math.sqrt(3)) < 0.05 * bound
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(to_numpy(w.detach()).std() - math.sqrt(2 / 200)) < 0.005
    nn.init.trunc_normal_(w, std=1.0, a=-1.0, b=1.0)
    v = to_numpy(w.detach())
    assert v.min() >= -1 and v.max() <= 1
    assert w.device == device
    assert nn.init.calculate_gain("tanh") == 5 / 3


def test_torch_style_training_loop(device, rng):
    """The loop a PyTorch user writes, on this device: the loss goes down."""
    xgrad.manual_seed(0)
    x = T(rng.standard_normal((64, 2)), device, dtype=xgrad.float32)
    y = xgrad.asarray((rng.standard_normal(64) > 0).astype(np.int64), device=device)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))

        def forward(self, x):
            return self.body(x)

    model = Net().to(device)
    opt = xgrad.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_load_state_dict_from_another_device_and_deepcopy(device):
    import copy
    src = TwoLayer("cpu")
    dst = TwoLayer(device)
    dst.load_state_dict(src.state_dict())
    for (name, a), b in zip(src.named_parameters(), dst.parameters()):
        assert b.device == device
        assert_close(b, a.detach(), msg=name)
    twin = copy.deepcopy(dst)
    assert twin.fc1.weight is not dst.fc1.weight
    assert isinstance(twin.fc1.weight, nn.Parameter) and twin.fc1.weight.requires_grad
    assert_close(twin.fc1.weight, dst.fc1.weight.detach())


def test_batchnorm2d_module(device, rng):
    bn = nn.BatchNorm2d(2, device=device, dtype=xgrad.float64)
    x = rng.standard_normal((3, 2, 4, 4))
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    out = bn(T(x, device))
    assert_close(out, (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5))
    assert_close(bn.running_mean, 0.1 * mu)
    with pytest.raises(ValueError, match="4D"):
        bn(T(x[0], device))


def test_module_zero_grad_in_place(device):
    m = nn.Linear(2, 2, device=device)
    m(xgrad.ones((1, 2), device=device)).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g
    assert_close(g, np.zeros((2, 2), np.float32))
    m(xgrad.ones((1, 2), device=device)).sum().backward()
    assert_close(m.weight.grad, np.ones((2, 2), np.float32))
