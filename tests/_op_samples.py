"""Sample inputs for the registered ops, for the tests of forward mode, transforms and
batched backward (tests/test_forward_ad.py, test_func.py, test_batched.py).

``SAMPLES[name]`` is a list of ``(inputs, params)``: each input is an ``Arg``
(a float64 array from a domain where the op is smooth, differentiated), or any
other value passed as is (Python scalars, or ``Const`` arrays put on the device
but not differentiated). Ops are called through the registry
(``xgrad.ops.call``), so each sample exercises exactly that op.
"""

from __future__ import annotations

import numpy as np
import pytest

import xgrad
import xgrad.linalg  # noqa: F401  (registers the linalg ops, so coverage does not depend on order)
from xgrad.ops import REGISTRY, call


class Arg:
    """A differentiated float64 input: ``shape`` and a value domain."""

    def __init__(self, shape, domain="any"):
        self.shape, self.domain = tuple(shape), domain


class Const:
    """A non-differentiated array input (indices, masks)."""

    def __init__(self, value, dtype=None):
        self.value, self.dtype = np.asarray(value), dtype


class Raw:
    """A raw backend array inside params (advanced-indexing keys)."""

    def __init__(self, value):
        self.value = np.asarray(value)


def _draw(rng, arg):
    n = int(np.prod(arg.shape, dtype=int))
    if arg.domain == "pos":
        v = rng.uniform(0.5, 2.0, n)
    elif arg.domain == "unit":
        v = rng.uniform(-0.7, 0.7, n)
    elif arg.domain == "gt1":
        v = rng.uniform(1.3, 3.0, n)
    elif arg.domain == "distinct":  # well separated: no ties for max/min/sorting
        v = rng.permutation(n) * 0.37 - n * 0.15 + rng.uniform(-0.05, 0.05, n)
    elif arg.domain == "frac":
        v = rng.uniform(0.2, 0.8, n)
    elif arg.domain == "spd":
        side = arg.shape[-1]
        a = rng.standard_normal((side, side))
        return (a @ a.T + side * np.eye(side)).reshape(arg.shape)
    else:  # "any", kept away from 0 (kinks of abs, relu, copysign)
        v = rng.standard_normal(n)
        v = np.where(np.abs(v) < 0.2, v + np.sign(v + 1e-12) * 0.3, v)
    return v.reshape(arg.shape)


A2x3, A3 = Arg((2, 3)), Arg((3,))
POS2x3, POS3 = Arg((2, 3), "pos"), Arg((3,), "pos")

_ANY = ["negative", "positive", "exp", "expm1", "sin", "cos", "sinh", "cosh", "tanh", "asinh",
        "atan", "square", "abs", "relu", "sigmoid", "softplus", "gelu", "conj", "real"]
_POS = ["log", "log1p", "log2", "log10", "sqrt", "reciprocal"]
_UNIT = ["asin", "acos", "atanh", "tan"]
_BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "atan2", "hypot", "logaddexp",
           "copysign"]

SAMPLES: dict = {}
for _n in _ANY:
    SAMPLES[_n] = [([A2x3], {})]
for _n in _POS:
    SAMPLES[_n] = [([POS2x3], {})]
for _n in _UNIT:
    SAMPLES[_n] = [([Arg((2, 3), "unit")], {})]
SAMPLES["acosh"] = [([Arg((2, 3), "gt1")], {})]
for _n in _BINARY:
    SAMPLES[_n] = [([A2x3, Arg((3,), "distinct")], {})]
SAMPLES["add"].append(([A3, 2.5], {}))
SAMPLES["multiply"].append(([Arg(()), A2x3], {}))
SAMPLES.update({
    "divide": [([A2x3, POS3], {}), ([1.5, POS2x3], {})],
    "pow": [([POS2x3, A3], {}), ([POS2x3, 3], {})],
    "remainder": [([Arg((2, 3), "frac"), Arg((3,), "gt1")], {})],
    "sum": [([A2x3], {"axis": 1}), ([A2x3], {}), ([Arg(())], {})],
    "mean": [([A2x3], {"axis": 0, "keepdims": True}), ([A2x3], {})],
    "max": [([Arg((2, 3), "distinct")], {"axis": 1})],
    "min": [([Arg((2, 3), "distinct")], {})],
    "prod": [([A2x3], {"axis": 0})],
    "var": [([A2x3], {"axis": 1, "correction": 1})],
    "std": [([A2x3], {"axis": 0})],
    "vector_norm": [([A2x3], {"ord": 2}), ([A2x3], {"axis": 1, "ord": 3})],
    "cumulative_sum": [([A2x3], {"axis": 1}), ([A2x3], {"axis": 0, "include_initial": True})],
    "cumulative_prod": [([A2x3], {"axis": 1})],
    "logsumexp": [([A2x3], {"axis": 1})],
    "softmax": [([A2x3], {"axis": 1})],
    "log_softmax": [([A2x3], {"axis": 0})],
    "reshape": [([A2x3], {"shape": (3, 2)})],
    "expand_dims": [([A2x3], {"axis": 1})],
    "squeeze": [([Arg((1, 3))], {"axis": 0})],
    "broadcast_to": [([Arg((2, 1, 3))], {"shape": (2, 2, 3)})],
    "permute_dims": [([Arg((2, 3, 2))], {"axes": (1, 2, 0)})],
    "flip": [([A2x3], {"axis": 0}), ([A2x3], {})],
    "roll": [([A2x3], {"shift": 1, "axis": 1}), ([A2x3], {"shift": 2}),
             ([A2x3], {"shift": (1, -1), "axis": (0, -1)})],
    "matrix_transpose": [([Arg((2, 2, 3))], {})],
    "concat": [([A2x3, Arg((1, 3))], {"axis": 0, "shapes": ((2, 3), (1, 3))}),
               ([A2x3, Arg((2, 1))], {"axis": -1, "shapes": ((2, 3), (2, 1))}),
               ([A2x3, A3], {"axis": None, "shapes": ((2, 3), (3,))})],
    "stack": [([A3, A3], {"axis": 1}), ([A2x3, A2x3, A2x3], {"axis": -2})],
    "getitem": [([A2x3], {"key": (slice(0, 2), 1)}), ([Arg((3, 2, 2))], {"key": (1, Ellipsis)}),
                ([A2x3], {"key": (slice(None, None, -2), None, slice(1, 3))})],
    "index": [([A2x3], {"key": (Raw([0, 1, 0]), Raw([2, 0, 2])), "integer": True})],
    "index_add": [([A2x3, Arg((2,))], {"key": (Raw([1, 1]), Raw([0, 0])), "integer": True})],
    "index_put": [([A2x3, Arg((2,))], {"key": (Raw([1, 0]), Raw([0, 2]))}),
                  ([A2x3, Arg((2, 2))], {"key": (slice(None), Raw([2, 0]))}),
                  ([A2x3, Arg(())], {"key": (Raw([1, 1, 0]), Raw([2, 0, 2]))})],
    "setitem": [([A2x3, A3], {"key": (0, Ellipsis)})],
    "take": [([A2x3, Const([2, 0, 2], "int64")], {"axis": 1})],
    "take_along_axis": [([A2x3, Const([[0, 2], [1, 1]], "int64")], {"axis": 1})],
    "where": [([Const([[True, False, True], [False, False, True]]), A2x3, A3], {})],
    "clip": [([Arg((2, 3), "unit"), -0.5, 0.5], {})],
    "matmul": [([A2x3, Arg((3, 2))], {}), ([A3, Arg((3, 2))], {}), ([A2x3, A3], {}),
               ([A3, A3], {}), ([Arg((2, 2, 3)), Arg((3, 2))], {})],
    "dot": [([A3, A3], {})],
    "vecdot": [([A2x3, A3], {})],
    "clone": [([A2x3], {})],
    "astype": [([A2x3], {"dtype": "float64"})],
    "linalg_inv": [([Arg((3, 3), "spd")], {})],
    "linalg_det": [([Arg((3, 3), "spd")], {})],
    "linalg_solve": [([Arg((3, 3), "spd"), Arg((3, 2))], {})],
})

# the ops this project had when these tests were written: they must keep their samples
REQUIRED = {name for name in SAMPLES if not name.startswith("linalg_")} | {"to_device"}
SAMPLES["to_device"] = [([A2x3], {"source": None, "target": None})]


# ops whose backend function Dask lacks: on the dask device their samples check the error
DASK_REFUSES = {"linalg_det"}


def dask_refuses(device, name, sample):
    """On the dask device, for an op in :data:`DASK_REFUSES`, check that it raises
    DaskUnsupported naming Dask, and answer True; False otherwise."""
    if device.type != "dask" or name not in DASK_REFUSES:
        return False
    from xgrad.backends._dask import DaskUnsupported
    fn, inputs, _ = instantiate(sample, device)
    with pytest.raises(DaskUnsupported, match="Dask"):
        fn(name)(*inputs)
    return True


def instantiate(sample, device, seed=0):
    """``(fn, inputs, diff)``: a function of all inputs that calls the op, the inputs
    (tensors on ``device``, float64 for Args), and the positions of the Args."""
    args, params = sample
    rng = np.random.default_rng(seed)
    inputs, diff = [], []
    for i, a in enumerate(args):
        if isinstance(a, Arg):
            inputs.append(xgrad.asarray(_draw(rng, a), dtype=xgrad.float64, device=device))
            diff.append(i)
        elif isinstance(a, Const):
            dtype = getattr(xgrad, a.dtype) if a.dtype else None
            inputs.append(xgrad.asarray(a.value, dtype=dtype, device=device))
        else:
            inputs.append(a)
    return _bind(params, device), inputs, diff


def _bind(params, device):
    def resolve(v):
        if isinstance(v, Raw):
            return xgrad.asarray(v.value, dtype=xgrad.int64, device=device)._data
        if isinstance(v, tuple):
            return tuple(resolve(e) for e in v)
        return v
    bound = {k: resolve(v) for k, v in params.items()}
    if "dtype" in bound:
        from xgrad._creation import native_dtype
        bound["dtype"] = native_dtype(getattr(xgrad, bound["dtype"]), device)
    if "source" in bound:
        bound["source"] = bound["target"] = device

    def fn(name):
        op = REGISTRY[name]
        return lambda *xs: call(xgrad, op, *xs, **bound)
    fn.params = bound
    return fn


def cases(names=None):
    """``(name, index, sample)`` for every sample of every registered op."""
    for name in sorted(SAMPLES if names is None else names):
        if name in REGISTRY:
            for k, sample in enumerate(SAMPLES[name]):
                yield name, k, sample


def differentiable_ops():
    return sorted(n for n, op in REGISTRY.items() if op.differentiable)


def coverage_report():
    """Which differentiable ops have samples, and which do not (printed by the tests)."""
    ops = differentiable_ops()
    covered = [n for n in ops if n in SAMPLES]
    missing = [n for n in ops if n not in SAMPLES]
    return covered, missing


def numpy_of(t):
    return np.asarray(xgrad.testing.to_numpy(t))


def numeric_jacobian(f, inputs, i, eps=1e-6):
    """d f(inputs) / d inputs[i] by central differences (float64), shape out.shape + x.shape."""
    x = numpy_of(inputs[i])
    out = numpy_of(f(*inputs))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        vals = []
        for sign in (1, -1):
            bumped = x.copy()
            bumped[idx] += sign * eps
            args = list(inputs)
            args[i] = xgrad.asarray(bumped, dtype=xgrad.float64, device=inputs[i].device)
            vals.append(numpy_of(f(*args)))
        jac[(Ellipsis,) + idx] = (vals[0] - vals[1]) / (2 * eps)
    return jac
