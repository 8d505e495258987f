"""The engine's PyTorch semantics: leaves, accumulation, retain_graph, create_graph,
autograd.grad, hooks, grad modes, in-place ops and version counters, and the errors."""

import gc
import threading
import weakref

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close

from conftest import make


def test_leaf_and_non_leaf(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = x * 3
    assert x.is_leaf and not y.is_leaf
    assert y.requires_grad and y.grad_fn is not None
    z = y.sum()
    z.backward()
    assert y.grad is None  # non-leaf .grad is not kept
    assert_close(x.grad, [3.0, 3.0])


def test_retain_grad_keeps_non_leaf_grad(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = x * x
    y.retain_grad()
    assert y.retains_grad
    (y * 2).sum().backward()
    assert_close(y.grad, [2.0, 2.0])
    assert_close(x.grad, [4.0, 8.0])


def test_second_backward_through_freed_graph_is_an_error(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, [4.0, 8.0])


def test_graph_without_saved_values_can_run_twice(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    assert_close(x.grad, [2.0, 2.0])


def test_create_graph_gives_second_derivatives(device):
    x = make([1.0, 2.0, 3.0], device, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = xgrad.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    assert_close(g, 3 * np.array([1.0, 4.0, 9.0]))
    (h,) = xgrad.autograd.grad(g.sum(), x)
    assert_close(h, [6.0, 12.0, 18.0])


def test_third_derivative(device):
    x = make(0.5, device, dtype=xgrad.float64, requires_grad=True)
    y = xgrad.sin(x) * x
    g1, = xgrad.autograd.grad(y, x, create_graph=True)
    g2, = xgrad.autograd.grad(g1, x, create_graph=True)
    g3, = xgrad.autograd.grad(g2, x)
    v = 0.5
    assert_close(g3, -3 * np.sin(v) - v * np.cos(v), rtol=1e-10)


def test_backward_create_graph_puts_graph_in_grad(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    x.grad.sum().backward()  # d/dx sum(2x) = 2, accumulated on top of 2x
    assert_close(x.grad.detach(), [4.0, 6.0])


def test_autograd_grad_does_not_touch_dot_grad(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    w = make([3.0, 4.0], device, requires_grad=True)
    gx, = xgrad.autograd.grad((x * w).sum(), [x])
    assert_close(gx, [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input(device):
    x = make([1.0], device, requires_grad=True)
    unused = make([1.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        xgrad.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = xgrad.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    _, gu = xgrad.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert_close(gu, [0.0])


def test_autograd_grad_with_respect_to_non_leaf(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = x * x
    z = (y * 3).sum()
    gy, = xgrad.autograd.grad(z, y)
    assert_close(gy, [3.0, 3.0])


def test_grad_outputs_and_several_outputs(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    a, b = x * 2, x * x
    gx, = xgrad.autograd.grad([a, b], [x], [make([1.0, 1.0], device), make([1.0, 0.0], device)])
    assert_close(gx, [2 + 2 * 1.0, 2.0])


def test_backward_inputs_restricts_accumulation(device):
    x = make([1.0], device, requires_grad=True)
    w = make([2.0], device, requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    assert_close(w.grad, [1.0])


def test_shared_subexpression_and_diamond(device):
    x = make(2.0, device, requires_grad=True)
    y = x * x
    z = y + y * y  # dz/dx = (1 + 2y) 2x = (1 + 8) * 4
    z.backward()
    assert_close(x.grad, 36.0)


def test_gradient_shape_mismatch_is_an_error(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(make([1.0, 1.0, 1.0], device))


def test_backward_of_tensor_without_grad_is_an_error(device):
    x = make([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


def test_requires_grad_only_for_floats(device):
    i = make([1, 2], device)
    with pytest.raises(RuntimeError, match="floating point"):
        i.requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        xgrad.arange(3, device=device, requires_grad=True)


def test_requires_grad_false_on_non_leaf_is_an_error(device):
    x = make([1.0], device, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_no_grad_enable_grad_set_grad_enabled(device):
    x = make([1.0], device, requires_grad=True)
    with xgrad.no_grad():
        y = x * 2
        assert not xgrad.is_grad_enabled()
        with xgrad.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with xgrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert xgrad.is_grad_enabled()
    xgrad.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        xgrad.set_grad_enabled(True)
    assert xgrad.autograd.no_grad is xgrad.no_grad


def test_grad_modes_as_decorators(device):
    x = make([1.0], device, requires_grad=True)

    @xgrad.no_grad()
    def double(t):
        return t * 2

    @xgrad.set_grad_enabled(False)
    def triple(t):
        return t * 3

    assert not double(x).requires_grad
    assert not triple(x).requires_grad
    assert (x * 2).requires_grad  # the decorators did not leak


def test_grad_mode_is_thread_local(device):
    x = make([1.0], device, requires_grad=True)
    seen = []

    def worker():
        seen.append((x * 2).requires_grad)

    with xgrad.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]


def test_tensor_hooks(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    handle = y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [[30.0, 30.0]]
    assert_close(x.grad, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert_close(x.grad, [3.0, 3.0])


def test_leaf_hook_sees_the_summed_gradient_once(device):
    x = make(1.0, device, requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.item()))
    (x * 2 + x * 3).backward()
    assert calls == [5.0]


def test_inplace_on_saved_tensor_keeps_the_saved_value(device):
    # PyTorch raises at backward; xgrad writes y copy-on-write (the node keeps the
    # value it saved) and computes the gradient of the program as written
    x = make([1.0, 2.0], device, requires_grad=True)
    y = xgrad.exp(x)  # exp saves its output
    with xgrad.no_grad():
        y.add_(1)
    assert_close(y.detach(), np.exp([1.0, 2.0]) + 1)
    y.sum().backward()
    assert_close(x.grad, np.exp([1.0, 2.0]))


def test_inplace_on_saved_constant_keeps_the_saved_value(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    a = make([3.0, 4.0], device)
    y = x * a  # multiply saves a for the gradient of x
    a.mul_(2)
    assert a._version == 1
    assert_close(a, [6.0, 8.0])
    y.sum().backward()  # PyTorch raises; xgrad: the program as written
    assert_close(x.grad, [3.0, 4.0])


def test_inplace_on_leaf_requiring_grad_is_an_error(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 5.0
    with xgrad.no_grad():
        x.sub_(1)  # the optimizer's update: allowed
    assert_close(x, [0.0, 1.0])


def test_recorded_inplace_gives_correct_gradient(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    y = x * 2
    y.mul_(3)
    y += 1
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    assert_close(x.grad, [6.0, 6.0])
    assert_close(y.detach(), [7.0, 13.0])


def test_setitem_records_gradient(device):
    x = make([1.0, 2.0, 3.0], device, requires_grad=True)
    v = make(5.0, device, requires_grad=True)
    y = x * 1
    y[1] = v * 2
    y.sum().backward()
    assert_close(x.grad, [1.0, 0.0, 1.0])
    assert_close(v.grad, 2.0)
    assert_close(y.detach(), [1.0, 10.0, 3.0])


@pytest.mark.not_on("dask", reason="Dask arrays are immutable graphs: an in-place write "
                    "rebinds the tensor, so a detached alias does not see it")
def test_setitem_without_grad_writes_in_place(device):
    x = xgrad.zeros(3, device=device)
    view = x.detach()
    x[1] = 4.0
    assert_close(x, [0.0, 4.0, 0.0])
    assert_close(view, [0.0, 4.0, 0.0])  # detach shares the data
    assert x._version == 1


def test_zero_on_grad_does_not_touch_aliases(device):
    x = make([1.0], device, requires_grad=True)
    y = make([1.0], device, requires_grad=True)
    (x + y).sum().backward()  # both gradients are the same array
    x.grad.zero_()
    assert_close(x.grad, [0.0])
    assert_close(y.grad, [1.0])


def test_user_gradient_is_not_modified_by_accumulation(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    v = make([1.0, 1.0], device)
    (x + 0).backward(v)
    (x + 0).backward(v)
    assert_close(x.grad, [2.0, 2.0])
    assert_close(v, [1.0, 1.0])


def test_mixed_devices_is_a_clear_error(device):
    if device.type != "strict":
        other = "strict:1"
        available = xgrad.backends.device_available(other) is None
        if not available:
            pytest.skip("needs the strict backend for a second device")
    else:
        other = "strict:1" if device.index != 1 else "strict:2"
    a = make([1.0], device)
    b = make([1.0], other)
    with pytest.raises(RuntimeError, match="same device") as info:
        a + b
    assert str(device) in str(info.value) and other in str(info.value)


@pytest.mark.not_on("dask", reason="Dask arrays are immutable graphs: x.data.mul_() rebinds "
                    "the alias only")
def test_detach_and_data_share_memory(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    with xgrad.no_grad():
        x.data.mul_(2)
    assert_close(x.detach(), [2.0, 4.0])


def test_weakref_to_tensors_and_graphs_are_freed(device):
    x = make(np.ones(8), device, requires_grad=True)
    y = (x * 2).exp().sum()
    node = weakref.ref(y.grad_fn)
    ref = weakref.ref(y)
    y.backward()
    del y
    assert ref() is None and node() is None  # freed without waiting for the cycle collector


@pytest.mark.not_on("dask", reason="a lazy in-place update keeps its history in the Dask "
                    "graph until computed (test_dask.py tests training with compute())")
def test_no_reference_cycles_in_training_steps(device):
    w = make(np.ones(4), device, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        for _ in range(50):
            loss = ((w * 3).tanh() * w).sum()
            loss.backward()
            with xgrad.no_grad():
                w -= 0.01 * w.grad
            w.grad = None
        growth = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert growth < 50, growth


def test_function_needs_input_grad_and_non_differentiable(device):
    class SplitSign(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.flags = ctx.needs_input_grad
            ctx.scale = scale
            sign = x > 0
            ctx.mark_non_differentiable(sign)
            return x * scale, sign

        @staticmethod
        def backward(ctx, g, g_sign):
            return g * ctx.scale, None

    x = make([1.0, -2.0], device, requires_grad=True)
    y, sign = SplitSign.apply(x, 3.0)
    assert not sign.requires_grad and y.requires_grad
    assert y.grad_fn._fn is SplitSign and y.grad_fn.flags == (True, False)
    y.sum().backward()
    assert_close(x.grad, [3.0, 3.0])


def test_function_backward_is_differentiable(device):
    class Cube(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2

    x = make([2.0], device, requires_grad=True)
    g, = xgrad.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    h, = xgrad.autograd.grad(g.sum(), x)
    assert_close(g.detach(), [12.0])
    assert_close(h, [12.0])


def test_function_saved_output_and_freed_error(device):
    class Exp(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = xgrad.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    x = make([0.0, 1.0], device, dtype=xgrad.float64, requires_grad=True)
    y = Exp.apply(x)
    g, = xgrad.autograd.grad(y.sum(), x, create_graph=True)
    h, = xgrad.autograd.grad(g.sum(), x)  # through the saved output: exp'' = exp
    assert_close(h, np.exp([0.0, 1.0]))
    z = Exp.apply(x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_function_wrong_gradient_count_and_shape(device):
    class Bad(xgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    x = make([1.0, 2.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        Bad.apply(x).sum().backward()


def test_grad_setter_checks_shape(device):
    x = make([1.0, 2.0], device, requires_grad=True)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = make([1.0], device)
    x.grad = make([5.0, 6.0], device)
    (x * 1).sum().backward()
    assert_close(x.grad, [6.0, 7.0])


def test_next_functions_and_names(device):
    x = make([1.0], device, requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn.name() == "ExpBackward0"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    (acc, _), (none, _) = mul.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable is x and none is None


def test_inplace_on_base_keeps_saved_view(device):
    w = make(np.ones(4), device, requires_grad=True)
    x = make(np.ones(4), device)
    v = x[0:2]
    y = (w[0:2] * v).sum()       # the product saves the view x[0:2]
    x.add_(1)                    # seen by the view; the node keeps the value it saved
    assert_close(v, [2.0, 2.0])
    y.backward()                 # PyTorch raises; xgrad: the program as written
    assert_close(w.grad, [1.0, 1.0, 0.0, 0.0])
