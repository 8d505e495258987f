"""The study notes' snippets (../shared/seeds) and the core issue's example, on every device.

Each test runs with the device as the default device, so the code is exactly
what a PyTorch user writes, with only the import changed.
"""

import numpy as np
import pytest

import xgrad as torch
from xgrad.testing import assert_close


def test_arange_is_float32_and_grad_starts_none(on_device):
    x = torch.arange(4.0)
    assert x.dtype == torch.float32
    assert repr(x).startswith("tensor([0., 1., 2., 3.]")
    x.requires_grad_(True)
    assert x.grad is None
    assert x.is_leaf


def test_dot_backward(on_device):
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    assert y.grad_fn.name() == "MulBackward0"
    expected_repr = "tensor(28., grad_fn=<MulBackward0>)" if on_device.type == "cpu" else \
        f"tensor(28., device='{on_device}', grad_fn=<MulBackward0>)"
    assert repr(y) == expected_repr
    y.backward()
    assert_close(x.grad, [0.0, 4.0, 8.0, 12.0])
    assert bool((x.grad == 4 * x).all())


def test_grad_accumulates_until_zeroed(on_device):
    x = torch.arange(4.0, requires_grad=True)
    (2 * torch.dot(x, x)).backward()
    x.sum().backward()
    assert_close(x.grad, [1.0, 5.0, 9.0, 13.0])
    x.grad.zero_()
    x.sum().backward()
    assert_close(x.grad, [1.0, 1.0, 1.0, 1.0])


def test_non_scalar_backward_needs_gradient(on_device):
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(torch.ones(len(x)))
    assert_close(x.grad, [0.0, 2.0, 4.0, 6.0])


def test_detach_cuts_the_graph(on_device):
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    assert not u.requires_grad and u.grad_fn is None
    z = u * x
    z.sum().backward()
    assert bool((x.grad == u).all())
    x.grad.zero_()
    y.sum().backward()
    assert bool((x.grad == 2 * x).all())


def _f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_python_control_flow(on_device, seed):
    torch.manual_seed(seed)
    a = torch.randn(size=(), requires_grad=True)
    d = _f(a)
    d.backward()
    assert a.grad.shape == ()
    assert_close(a.grad, d / a, rtol=1e-6)
    k = a.grad.item()
    assert k == 2 ** round(np.log2(abs(k))) or k / 100 == 2 ** round(np.log2(abs(k / 100)))


class line(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, x, b):
        ctx.save_for_backward(w, x, b)
        return w * x + b

    @staticmethod
    def backward(ctx, grad_out):
        w, x, b = ctx.saved_tensors
        return grad_out * x, grad_out * w, grad_out


def test_custom_function_line(on_device):
    w = torch.rand(2, 2, requires_grad=True)
    x = torch.rand(2, 2, requires_grad=True)
    b = torch.rand(2, 2, requires_grad=True)
    out = line.apply(w, x, b)
    assert out.grad_fn.name() == "lineBackward"
    assert_close(out, w.detach() * x.detach() + b.detach())
    out.backward(torch.ones(2, 2))
    assert_close(w.grad, x)
    assert_close(x.grad, w)
    assert_close(b.grad, torch.ones(2, 2))


def test_requires_grad_at_creation(on_device):
    x = torch.arange(4.0, requires_grad=True)
    assert repr(x).endswith("requires_grad=True)")
    y = x * 2
    y.backward(torch.ones(4))
    assert_close(x.grad, [2.0, 2.0, 2.0, 2.0])


def test_backward_function_form(on_device):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (x * x).sum()
    torch.autograd.backward(z)
    assert_close(x.grad, [2.0, 4.0])
    y = x * 3
    torch.autograd.backward([y], grad_tensors=[torch.tensor([1.0, 1.0])])
    assert_close(x.grad, [5.0, 7.0])
