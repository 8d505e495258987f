"""The dispatcher's and the engine's fast paths keep the general path's meaning:
specialised recording (one and two tensor inputs), stand-ins for unsaved inputs,
gradients summed in place only where no one else can see them."""

import numpy as np
import pytest

import xgrad
from xgrad._tensor import Tensor, _wrap, from_graph
from xgrad.autograd.engine import IN_PLACE_MIN_SIZE
from xgrad.autograd.graph import ArrayMeta

BIG = IN_PLACE_MIN_SIZE + 1  # gradients this long are candidates for in-place sums


def _leaf(values, device):
    return xgrad.asarray(np.asarray(values, dtype=np.float64), device=device).requires_grad_()


def _big(values, device):
    """A leaf of ``values`` repeated to BIG elements (so the engine may sum in place)."""
    return _leaf(np.resize(np.asarray(values, dtype=np.float64), BIG), device)


def test_from_graph_sets_every_slot(device):
    t = from_graph(_leaf([1.0], device)._data, xgrad.device(device), None)
    w = _wrap(t._data, xgrad.device(device))
    for name in Tensor.__slots__:
        if name != "__weakref__":
            assert hasattr(t, name), name
            assert hasattr(w, name), name


def test_unsaved_inputs_reach_rules_as_stand_ins(device):
    x = _leaf([1.0, 2.0], device)
    y = _leaf([3.0, 4.0], device)
    node = (x + y).grad_fn
    for stand_in in node._raw_arguments():
        assert isinstance(stand_in, ArrayMeta)
        assert tuple(stand_in.shape) == (2,) and stand_in.ndim == 1
    z = xgrad.sum(x, axis=0)  # a one-input op that saves nothing
    assert isinstance(z.grad_fn._raw_arguments()[0], ArrayMeta)


@pytest.mark.parametrize("which", ["both", "left", "right"])
def test_two_input_recording_matches_requires_grad(device, which):
    a = _leaf([1.0, -2.0], device)
    b = _leaf([0.5, 3.0], device)
    if which == "left":
        b.requires_grad_(False)
    if which == "right":
        a.requires_grad_(False)
    z = a * b
    assert [e is not None for e in z.grad_fn.next_edges] == [which != "right", which != "left"]
    xgrad.sum(z).backward()
    if which != "right":
        np.testing.assert_allclose(a.grad.numpy(), [0.5, 3.0])
    if which != "left":
        np.testing.assert_allclose(b.grad.numpy(), [1.0, -2.0])


def test_scalar_operands_still_recorded(device):
    x = _leaf([1.0, 2.0], device)
    xgrad.sum(2.0 * x - 1 + x / 4).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.25, 2.25])


def test_shared_gradient_not_overwritten_by_accumulation(device):
    # add's rule hands the same array to both inputs; summing into one of them in
    # place would change what the other receives
    x = _big([1.0, 2.0, 3.0], device)
    y = _big([4.0, 5.0, 6.0], device)
    s = x + y
    out = xgrad.sum(s * 2.0 + s * 3.0 + x)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(BIG, 6.0))
    np.testing.assert_allclose(y.grad.numpy(), np.full(BIG, 5.0))


def test_caller_gradient_never_written(device):
    x = _big([1.0, 2.0], device)
    y = x * 1.0
    z = y + y  # two gradients meet in y's buffer: the first is the caller's array
    g = xgrad.asarray(np.ones(BIG), device=device)
    before = g.numpy().copy()
    z.backward(g)
    np.testing.assert_allclose(g.numpy(), before)
    np.testing.assert_allclose(x.grad.numpy(), np.full(BIG, 2.0))


def test_retained_and_hooked_gradients_keep_their_values(device):
    x = _big([1.0, 2.0], device)
    h = x * 3.0
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    u = xgrad.exp(h * 0.0)  # d/dh = 0
    w = h * 1.0 + h * 1.0 + u  # h's buffer sums three contributions
    xgrad.sum(w).backward()
    np.testing.assert_allclose(h.grad.numpy(), np.full(BIG, 2.0))
    np.testing.assert_allclose(seen[0], np.full(BIG, 2.0))
    np.testing.assert_allclose(x.grad.numpy(), np.full(BIG, 6.0))


def test_large_gradients_accumulate_correctly(device):
    values = np.linspace(-2, 2, 50_000)
    x = xgrad.asarray(values, device=device).requires_grad_()
    xgrad.sum(xgrad.tanh(x) * x + xgrad.exp(-x * x)).backward()
    t = np.tanh(values)
    expected = (1 - t * t) * values + t - 2 * values * np.exp(-values * values)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_second_order_through_fast_paths(device):
    x = _leaf([0.3, -0.7], device)
    g, = xgrad.autograd.grad(xgrad.sum(xgrad.tanh(x) * x), x, create_graph=True)
    h, = xgrad.autograd.grad(xgrad.sum(g), x)
    xs = np.array([0.3, -0.7])
    t = np.tanh(xs)
    d = 1 - t * t
    np.testing.assert_allclose(h.numpy(), 2 * d - 2 * t * d * xs, rtol=1e-10)
