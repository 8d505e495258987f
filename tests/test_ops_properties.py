"""Property tests (hypothesis): shapes with 0-d, size-0 and broadcast axes,
negative axes and non-contiguous inputs; values against NumPy, gradients
against finite differences."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import xgrad
from xgrad import array_api as xp
from xgrad.testing import assert_close, gradcheck, to_numpy

# the device fixture holds no state, so reusing it across examples is safe
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)


def _t(a, device):
    return xgrad.asarray(a, dtype=xgrad.float64, device=device, requires_grad=True)


def _values(shape, seed, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: the second drops leading axes and sets some to 1."""
    shape = draw(shapes)
    cut = draw(st.integers(0, len(shape)))
    other = tuple(1 if draw(st.booleans()) else s for s in shape[cut:])
    return (shape, other) if draw(st.booleans()) else (other, shape)


@SETTINGS
@given(pair=broadcast_pair(), name=st.sampled_from(["add", "subtract", "multiply", "divide",
                                                    "maximum", "atan2", "hypot", "logaddexp"]),
       seed=st.integers(0, 99))
def test_binary_broadcasting(device, pair, name, seed):
    a, b = _values(pair[0], seed), _values(pair[1], seed + 1, 0.5, 2.0)
    fn = getattr(xp, name)
    ref = getattr(np, {"atan2": "arctan2"}.get(name, name))
    assert_close(fn(_t(a, device), _t(b, device)).detach(), ref(a, b), rtol=1e-12)
    gradcheck(fn, (_t(a, device), _t(b, device)))


@st.composite
def shape_and_axis(draw, min_dims=0):
    shape = draw(st.lists(st.integers(0, 3), min_size=min_dims, max_size=3).map(tuple))
    ndim = len(shape)
    if ndim == 0:
        return shape, None
    return shape, draw(st.none() | st.integers(-ndim, ndim - 1) |
                       st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
                       .map(lambda axes: tuple(a - ndim for a in axes)))


@SETTINGS
@given(sa=shape_and_axis(), name=st.sampled_from(["sum", "mean", "prod", "max", "var"]),
       keepdims=st.booleans(), seed=st.integers(0, 99))
def test_reductions(device, sa, name, keepdims, seed):
    shape, axis = sa
    a = _values(shape, seed, 0.5, 2.0)
    counted = a.size if axis is None else np.prod([shape[i] for i in np.atleast_1d(axis)])
    if counted == 0 and name in ("max", "mean", "var"):
        return  # undefined on empty reductions
    fn = lambda t: getattr(xp, name)(t, axis=axis, keepdims=keepdims)  # noqa: E731
    assert_close(fn(_t(a, device)).detach(), getattr(np, name)(a, axis=axis, keepdims=keepdims),
                 rtol=1e-10)
    gradcheck(fn, (_t(a, device),))


@SETTINGS
@given(sa=shape_and_axis(min_dims=1), op=st.sampled_from(["cumulative_sum", "cumulative_prod",
                                                          "flip", "sort", "roll", "diff"]),
       seed=st.integers(0, 99))
def test_axis_functions(device, sa, op, seed):
    shape, axis = sa
    if not isinstance(axis, int):
        axis = -1
    a = _values(shape, seed)
    fns = {
        "cumulative_sum": (lambda t: xp.cumulative_sum(t, axis=axis), lambda n: np.cumsum(n, axis)),
        "cumulative_prod": (lambda t: xp.cumulative_prod(t, axis=axis), lambda n: np.cumprod(n, axis)),
        "flip": (lambda t: xp.flip(t, axis=axis), lambda n: np.flip(n, axis)),
        "sort": (lambda t: xp.sort(t, axis=axis), lambda n: np.sort(n, axis)),
        "roll": (lambda t: xp.roll(t, 2, axis=axis), lambda n: np.roll(n, 2, axis)),
        "diff": (lambda t: xp.diff(t, axis=axis), lambda n: np.diff(n, axis=axis)),
    }
    fn, ref = fns[op]
    assert_close(fn(_t(a, device)).detach(), ref(a), rtol=1e-12)
    gradcheck(fn, (_t(a, device),))


@pytest.mark.parametrize("name", ["exp", "multiply", "sum", "cumulative_sum", "sort", "matmul"])
def test_non_contiguous_inputs(name, device):
    """Transposed and strided views give the same values and gradients."""
    base = _t(_values((4, 3), 7), device)
    x = xp.permute_dims(base, (1, 0))[:, ::2]  # (3, 2), not contiguous
    n = to_numpy(base.detach()).T[:, ::2]
    fns = {"exp": (xgrad.exp, np.exp), "multiply": (lambda t: t * t, lambda a: a * a),
           "sum": (lambda t: xp.sum(t, axis=0), lambda a: a.sum(0)),
           "cumulative_sum": (lambda t: xp.cumulative_sum(t, axis=0), lambda a: np.cumsum(a, 0)),
           "sort": (lambda t: xp.sort(t, axis=0), lambda a: np.sort(a, 0)),
           "matmul": (lambda t: xp.matmul(t, xp.matrix_transpose(t)), lambda a: a @ a.T)}
    fn, ref = fns[name]
    assert_close(fn(x).detach(), ref(n), rtol=1e-12)
    gradcheck(lambda b: fn(xp.permute_dims(b, (1, 0))[:, ::2]), (base,))
