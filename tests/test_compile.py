"""xgrad.compile: replays give eager mode's results (bitwise), signatures retrace,
graph breaks fall back with one warning naming the line (fullgraph raises)."""

import inspect
import warnings

import numpy as np
import pytest

import xgrad
from xgrad import nn, optim
from xgrad._compile import GraphBreak, GraphBreakWarning

from conftest import make

pytestmark = pytest.mark.not_on("dask", reason="compile runs dask eagerly: test_dask_runs_eagerly")


def _np(t):
    return np.asarray(t.detach().cpu().numpy())


def _same(a, b):
    a, b = _np(a), _np(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.fixture(autouse=True)
def _errors_on_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphBreakWarning)
        yield


# -- forward-only ------------------------------------------------------------------------------

def test_forward_only_bitwise_and_cached(device, rng):
    def f(x, y, scale):
        z = xgrad.exp(x) * y + scale
        return z.sum(dim=0), xgrad.tanh(z) @ y.T

    cf = xgrad.compile(f)
    for _ in range(4):
        x = make(rng.standard_normal((3, 4)), device, dtype=xgrad.float32)
        y = make(rng.standard_normal((3, 4)), device, dtype=xgrad.float32)
        got, want = cf(x, y, 2.0), f(x, y, 2.0)
        assert isinstance(got, tuple) and len(got) == 2
        assert all(_same(g, w) for g, w in zip(got, want))
        assert got[0].device == device and not got[0].requires_grad
    assert cf.cache_info() == {"signatures": 1, "programs": 1, "eager": 0, "traces": 1}


def test_decorator_forms_and_torch_keywords(device):
    @xgrad.compile
    def f(x):
        return x * 2

    @xgrad.compile(fullgraph=True, mode="reduce-overhead", dynamic=False)
    def g(x):
        return x + 1

    x = make([1.0, 2.0], device)
    assert _same(f(x), x * 2) and _same(g(x), x + 1)
    assert _same(f(x), x * 2)
    plain = lambda x: x  # noqa: E731
    assert xgrad.compile(plain, backend="eager") is plain
    assert xgrad.compile(plain, disable=True) is plain
    with pytest.raises(NotImplementedError):
        xgrad.compile(plain, dynamic=True)
    with pytest.raises(NotImplementedError):
        xgrad.compile(plain, backend="cudagraphs")
    with pytest.raises(RuntimeError):
        xgrad.compile(plain, mode="fastest")


def test_outputs_structures_and_existing_tensors(device):
    w = make([1.0, 2.0, 3.0], device)

    def f(x):
        return {"y": x * w, "w": w, "n": 3, "pair": [x + 1, None]}

    cf = xgrad.compile(f)
    for k in range(3):
        x = make([k, k + 1.0, 2.0], device)
        got, want = cf(x), f(x)
        assert got["w"] is w and got["n"] == 3 and got["pair"][1] is None
        assert _same(got["y"], want["y"]) and _same(got["pair"][0], want["pair"][0])
    assert cf.cache_info()["programs"] == 1


# -- training steps ----------------------------------------------------------------------------

def _mlp_step(device, opt_name, set_to_none=True):
    xgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).to(device)
    if opt_name == "sgd":
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    elif opt_name == "adam":
        opt = optim.Adam(model.parameters(), lr=0.01)
    else:
        opt = optim.AdamW(model.parameters(), lr=0.01, amsgrad=True)

    def step(x, y):
        opt.zero_grad(set_to_none=set_to_none)
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return model, opt, step


@pytest.mark.parametrize("opt_name,set_to_none", [("sgd", True), ("adam", True),
                                                   ("adamw", True), ("sgd", False)])
def test_training_step_bitwise(device, rng, opt_name, set_to_none):
    m1, o1, eager = _mlp_step(device, opt_name, set_to_none)
    m2, o2, step = _mlp_step(device, opt_name, set_to_none)
    compiled = xgrad.compile(step)
    for _ in range(6):
        x = make(rng.standard_normal((4, 5)), device, dtype=xgrad.float32)
        y = make(rng.standard_normal((4, 3)), device, dtype=xgrad.float32)
        assert _same(compiled(x, y), eager(x, y))
        for p, q in zip(m1.parameters(), m2.parameters()):
            assert _same(p, q)
            assert _same(p.grad, q.grad)
            assert q.grad.device == device and q.grad.is_leaf and not q.grad.requires_grad
    info = compiled.cache_info()
    # the first step creates the optimizer's state (a program that cannot be replayed); the
    # second step's program is replayed from then on
    assert info["programs"] == 1 and info["eager"] == 0 and info["traces"] <= 2
    if opt_name != "sgd":
        assert [s["step"] for s in o2.state.values()] == [s["step"] for s in o1.state.values()]


@pytest.mark.parametrize("opt_name", ["sgd", "adam", "adamw"])
def test_hyperparameter_changes(device, rng, opt_name):
    """lr is read again at every replay (a host step: schedulers need no new trace); a
    hyperparameter baked into the program (momentum, betas) traces again."""
    m1, o1, eager = _mlp_step(device, opt_name)
    m2, o2, step = _mlp_step(device, opt_name)
    compiled = xgrad.compile(step)
    s1 = xgrad.optim.lr_scheduler.StepLR(o1, step_size=1, gamma=0.5)
    s2 = xgrad.optim.lr_scheduler.StepLR(o2, step_size=1, gamma=0.5)
    for i in range(7):
        if i == 5:
            key = "momentum" if opt_name == "sgd" else "betas"
            value = 0.5 if opt_name == "sgd" else (0.8, 0.99)
            o1.param_groups[0][key] = o2.param_groups[0][key] = value
        x = make(rng.standard_normal((4, 5)), device, dtype=xgrad.float32)
        y = make(rng.standard_normal((4, 3)), device, dtype=xgrad.float32)
        assert _same(compiled(x, y), eager(x, y))
        s1.step()
        s2.step()
        for p, q in zip(m1.parameters(), m2.parameters()):
            assert _same(p, q)
    assert compiled.cache_info()["programs"] == 2


def test_autograd_grad_and_func_grad_inside(device, rng):
    def f(x, w):
        loss = (xgrad.sin(x * w) ** 2).sum()
        (gx,) = xgrad.autograd.grad(loss, [x])
        gw = xgrad.func.grad(lambda v: (xgrad.cos(v) * x.detach()).sum())(w.detach())
        return gx, gw

    cf = xgrad.compile(f)
    for _ in range(3):
        x = make(rng.standard_normal(5), device, requires_grad=True)
        w = make(rng.standard_normal(5), device, requires_grad=True)
        got, want = cf(x, w), f(x, w)
        assert all(_same(g, e) for g, e in zip(got, want))
        assert x.grad is None and w.grad is None
    assert cf.cache_info()["programs"] == 1


def test_backward_accumulates_into_argument_grads(device, rng):
    def f(x):
        (x * x).sum().backward()

    cf = xgrad.compile(f)
    x = make(rng.standard_normal(4), device, requires_grad=True)
    cf(x)  # .grad None at the start: a new grad
    cf(x)  # then accumulated
    cf(x)
    assert _same(x.grad, 6 * x)
    assert cf.cache_info()["programs"] == 2


# -- signatures --------------------------------------------------------------------------------

def test_signature_changes_retrace(device):
    def f(x, k, mode="a"):
        return (x * k if mode == "a" else x - k).detach()

    cf = xgrad.compile(f)
    x32 = make([1.0, 2.0], device, dtype=xgrad.float32)
    cf(x32, 2)
    cf(x32, 2)
    assert cf.cache_info()["traces"] == 1
    cases = [(make([1.0, 2.0, 3.0], device, dtype=xgrad.float32), 2, "a"),   # shape
             (make([1.0, 2.0], device, dtype=xgrad.float64), 2, "a"),        # dtype
             (make([1.0, 2.0], device, dtype=xgrad.float32, requires_grad=True), 2, "a"),
             (x32, 3, "a"),                                                  # value
             (x32, 2.0, "a"),                                                # type of value
             (x32, 2, "b")]
    for n, (x, k, mode) in enumerate(cases, start=2):
        got = cf(x, k, mode=mode)
        assert _same(got, f(x, k, mode=mode))
        assert cf.cache_info()["traces"] == n
    for x, k, mode in cases:  # all cached now
        assert _same(cf(x, k, mode=mode), f(x, k, mode=mode))
    assert cf.cache_info() == {"signatures": 7, "programs": 7, "eager": 0, "traces": 7}


def test_grad_mode_is_part_of_the_signature(device):
    w = make([1.0, 2.0], device, requires_grad=True)
    cf = xgrad.compile(lambda x: (x * w).sum().detach())
    x = make([3.0, 4.0], device)
    a = cf(x)
    with xgrad.no_grad():
        b = cf(x)
    assert _same(a, b) and cf.cache_info()["signatures"] == 2


def test_replaced_parameter_is_guarded(device):
    lin = nn.Linear(3, 2).to(device)
    cf = xgrad.compile(lambda x: lin(x).detach())
    x = make(np.ones((1, 3)), device, dtype=xgrad.float32)
    cf(x)
    cf(x)
    with xgrad.no_grad():
        lin.weight.data = xgrad.zeros((2, 3), device=device)  # a new array: read at replay
    assert _same(cf(x), lin(x))
    lin.weight = nn.Parameter(xgrad.ones((2, 3), device=device))  # a new tensor: retrace
    assert _same(cf(x), lin(x))


# -- graph breaks ------------------------------------------------------------------------------

def _line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if text in line:
            return start + i
    raise AssertionError(text)


def _break_bool(x):
    y = x * 2
    if y.sum() > 0:  # BREAK
        return y
    return -y


def _break_item(x):
    return x * (x.sum().item())  # BREAK


def _break_float(x):
    return x * float(x[0])  # BREAK


def _break_numpy(x):
    return x + float(x.detach().numpy().sum())  # BREAK


def _break_tolist(x):
    return x * len([v for v in x.tolist() if v > 0])  # BREAK


def _break_mask(x):
    return x[x > 0].sum()  # BREAK


def _break_nonzero(x):
    return xgrad.nonzero(x > 0).sum()  # BREAK


@pytest.mark.parametrize("fn", [_break_bool, _break_item, _break_float, _break_numpy,
                                _break_tolist, _break_mask, _break_nonzero])
def test_graph_breaks_warn_once_naming_the_line(device, fn):
    cf = xgrad.compile(fn)
    x = make([1.0, -2.0, 3.0], device)
    with pytest.warns(GraphBreakWarning) as record:
        got = cf(x)
    assert _same(got, fn(x))
    messages = [str(r.message) for r in record if r.category is GraphBreakWarning]
    assert len(messages) == 1
    line = _line_of(fn, "# BREAK")
    assert f"{__file__}:{line}" in messages[0], messages[0]
    assert record[0].filename == __file__ and record[0].lineno == line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for v in ([1.0, -2.0, 3.0], [-1.0, 5.0, 6.0]):  # eager now, without a new warning
            x = make(v, device)
            assert _same(cf(x), fn(x))
    assert cf.cache_info()["eager"] == 1


@pytest.mark.parametrize("fn", [_break_bool, _break_item, _break_mask])
def test_fullgraph_raises(device, fn):
    cf = xgrad.compile(fn, fullgraph=True)
    with pytest.raises(GraphBreak, match=f"{_line_of(fn, '# BREAK')}"):
        cf(make([1.0, -2.0, 3.0], device))
    # the trace was undone: tensors hold backend arrays again
    x = make([1.0, 2.0], device)
    assert _same(x * 2, make([2.0, 4.0], device))


def test_hooks_fall_back(device):
    seen = []

    def f(x):
        y = x * 3
        y.register_hook(lambda g: seen.append(1))
        y.sum().backward()

    cf = xgrad.compile(f)
    x = make([1.0, 2.0], device, requires_grad=True)
    with pytest.warns(GraphBreakWarning, match="hook"):
        cf(x)
    cf(x)
    assert len(seen) == 2 and _same(x.grad, make([6.0, 6.0], device))

    w = make([1.0, 2.0], device, requires_grad=True)
    w.register_hook(lambda g: seen.append(2))
    cg = xgrad.compile(lambda x: (x * w).sum().backward())
    with pytest.warns(GraphBreakWarning, match="hook"):
        cg(x)
    cg(x)
    assert seen.count(2) == 2


def test_anomaly_mode_runs_eagerly(device):
    cf = xgrad.compile(lambda x: x * 2)
    x = make([1.0], device)
    with xgrad.autograd.detect_anomaly():
        with pytest.warns(GraphBreakWarning, match="anomaly"):
            assert _same(cf(x), x * 2)
    with xgrad.autograd.detect_anomaly():
        with pytest.raises(GraphBreak):
            xgrad.compile(lambda x: x * 2, fullgraph=True)(x)


def test_output_with_a_live_graph_runs_eagerly(device):
    w = make([1.0, 2.0], device, requires_grad=True)
    cf = xgrad.compile(lambda x: (x * w).sum())
    x = make([3.0, 4.0], device)
    with pytest.warns(GraphBreakWarning, match="backward"):
        loss = cf(x)
    loss.backward()  # the eager result's graph works
    assert _same(w.grad, x)
    loss = cf(x)
    assert loss.grad_fn is not None


def test_exception_inside_fn_leaves_no_trace(device):
    def f(x):
        y = x * 2
        raise ValueError("boom")

    cf = xgrad.compile(f)
    x = make([1.0], device)
    with pytest.raises(ValueError, match="boom"):
        cf(x)
    assert type(x._data).__name__ != "Tracer" and _same(x * 2, make([2.0], device))


# -- random numbers ----------------------------------------------------------------------------

def test_random_numbers_advance_the_generator(device):
    drop = nn.Dropout(0.5)

    def f(x):
        return drop(x) + xgrad.rand(x.shape, device=x.device) * xgrad.randn(3, device=x.device)

    cf = xgrad.compile(f)
    x = make(np.ones(3), device, dtype=xgrad.float32)
    xgrad.manual_seed(7)
    want = [f(x) for _ in range(4)]
    xgrad.manual_seed(7)
    got = [cf(x) for _ in range(4)]
    assert all(_same(g, w) for g, w in zip(got, want))
    assert not _same(got[2], got[3])  # new values at every replay
    assert cf.cache_info()["programs"] == 1


def test_manual_seed_inside_is_replayed(device):
    def f(x):
        xgrad.manual_seed(3)
        return x + xgrad.rand(2, device=x.device)

    cf = xgrad.compile(f)
    x = make([0.0, 0.0], device, dtype=xgrad.float32)
    first = cf(x)
    xgrad.rand(5, device=device)
    assert _same(cf(x), first) and _same(cf(x), f(x))


# -- views and in-place writes -------------------------------------------------------------------

def test_views_and_in_place_writes(device, rng):
    def f(x, buf):
        y = x.clone()
        y[1:] *= 2
        v = y[0]
        v.add_(1)                       # a write through a view
        buf.mul_(0.5).add_(y.sum())     # an argument updated in place
        return y, y.reshape(-1)[:2]

    cf = xgrad.compile(f)
    b1 = make(np.ones(3), device)
    b2 = make(np.ones(3), device)
    for _ in range(3):
        x = make(rng.standard_normal(3), device)
        got, want = cf(x, b2), f(x, b1)
        assert all(_same(g, w) for g, w in zip(got, want))
        assert _same(b1, b2)
    assert b2._version == b1._version


def test_in_place_on_a_leaf_with_grad(device, rng):
    def f(x):
        y = x * 1.0
        y[0] = y[1] * 3                 # recorded setitem (CopySlices)
        (y ** 2).sum().backward()
        with xgrad.no_grad():
            x.sub_(0.1 * x.grad)
            x.grad = None

    cf = xgrad.compile(f)
    x1 = make(rng.standard_normal(3), device, requires_grad=True)
    x2 = make(_np(x1), device, requires_grad=True)
    for _ in range(4):
        f(x1)
        cf(x2)
        assert _same(x1, x2) and x2.grad is None
    assert cf.cache_info()["programs"] == 1


# -- dask ---------------------------------------------------------------------------------------

def test_dask_runs_eagerly():
    reason = xgrad.backends.device_available("dask")
    if reason is not None:
        pytest.skip(reason)
    x = xgrad.asarray([1.0, 2.0], device="dask")
    cf = xgrad.compile(lambda x: x * 2)
    with pytest.warns(GraphBreakWarning, match="dask"):
        y = cf(x)
    assert np.array_equal(y.numpy(), [2.0, 4.0])
    with pytest.raises(GraphBreak, match="dask"):
        xgrad.compile(lambda x: x * 2, fullgraph=True)(x)


# -- modules -----------------------------------------------------------------------------------

def test_module_mode_and_attributes_are_guarded(device):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).to(device)
    cf = xgrad.compile(lambda x: model(x).detach())
    x = make(np.ones((2, 3)), device, dtype=xgrad.float32)
    cf(x)
    cf(x)
    model.eval()  # a Python flag the forward reads: a guard, so a new program
    assert _same(cf(x), model(x).detach())
    model[0].weight = nn.Parameter(xgrad.ones((3, 3), device=device))
    assert _same(cf(x), model(x).detach())
    assert cf.cache_info()["programs"] == 3


class _Running(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("total", xgrad.zeros(3))

    def forward(self, x):
        self.total = self.total + x  # a new tensor assigned to a buffer
        return self.total * 2


def test_module_buffer_assignment_is_written_back(device):
    m1, m2 = _Running().to(device), _Running().to(device)
    cf = xgrad.compile(lambda x: m2(x))
    for k in range(4):
        x = make([k, 1.0, 2.0], device, dtype=xgrad.float32)
        assert _same(cf(x), m1(x))
        assert _same(m1.total, m2.total)
    assert cf.cache_info()["programs"] == 1


# -- buffers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("min_bytes", [0, 4096])
def test_buffers_are_reused_between_replays(device, rng, min_bytes, monkeypatch):
    from xgrad._compile import _program
    monkeypatch.setattr(_program, "BUFFER_MIN_BYTES", min_bytes)
    w = make(rng.standard_normal(2000), device, dtype=xgrad.float32, requires_grad=True)

    def f(x):
        w.grad = None
        y = xgrad.tanh(x * w) + x
        z = (xgrad.sin(y) * y - x).sum()
        z.backward()
        return z.detach()

    cf = xgrad.compile(f)
    x = make(rng.standard_normal(2000), device, dtype=xgrad.float32)
    cf(x)
    prog = cf.programs()[0]
    if device.type != "cpu":
        assert prog.buffers == []  # only NumPy's ufuncs write into buffers
        return
    assert prog.buffers and "out=B" in prog.source
    ids = [id(b) for b in prog.buffers]
    for _ in range(3):
        x = make(rng.standard_normal(2000), device, dtype=xgrad.float32)
        z = cf(x)
        g = w.grad
        assert _same(z, f(x)) and _same(g, w.grad)  # (f ran eagerly: compare its results)
        assert [id(b) for b in prog.buffers] == ids
        # results handed out (outputs, .grad) never live in a buffer
        assert all(not np.shares_memory(g._data, b) for b in prog.buffers)


def test_steady_state_replays_allocate_nothing_new(device, rng):
    import tracemalloc
    if device.type != "cpu":
        pytest.skip("buffers are reused on writable backends (NumPy) only")
    n = 1 << 16
    x = make(rng.standard_normal(n), device, dtype=xgrad.float64)

    def f(x):
        y = x
        for _ in range(10):
            y = xgrad.tanh(y) * x + 1.0
        return (y * y).sum()

    cf = xgrad.compile(f)
    for _ in range(3):
        cf(x)
    tracemalloc.start()
    try:
        cf(x)
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            cf(x)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # no array of the program's size is allocated (eager mode allocates 30 of them)
    assert peak - base < n * 8 // 2, (peak - base)
    assert current - base < 4096


def test_training_step_replays_allocate_nothing_new_and_are_bitwise(device, rng):
    # an MLP SGD step (matmul, relu, sum; autograd.grad, update under no_grad): matmuls,
    # relu's maximum and where, and the reductions write into kept buffers on NumPy
    import tracemalloc
    sizes, batch = (256, 256, 256, 16), 128
    data = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    data += [rng.standard_normal(b) * 0.1 for b in sizes[1:]]
    x = make(rng.standard_normal((batch, sizes[0])), device, dtype=xgrad.float32)
    target = make(rng.standard_normal((batch, sizes[-1])), device, dtype=xgrad.float32)
    lr = 0.01

    def params():
        return [make(d, device, dtype=xgrad.float32, requires_grad=True) for d in data]

    def step(x, target, *ps):
        n = len(ps) // 2
        h = x
        for i in range(n):
            h = h @ ps[i] + ps[n + i]
            if i < n - 1:
                h = xgrad.relu(h)
        loss = ((h - target) ** 2).sum()
        grads = xgrad.autograd.grad(loss, ps)
        with xgrad.no_grad():
            for p, g in zip(ps, grads):
                p -= lr * g
        return loss.detach()

    eager, compiled = params(), params()
    cf = xgrad.compile(step)
    for _ in range(4):  # bitwise eager mode's values, step after step
        assert _same(cf(x, target, *compiled), step(x, target, *eager))
        assert all(_same(a, b) for a, b in zip(compiled, eager))
    if device.type != "cpu":
        return
    prog = cf.programs()[0]
    assert "out=B" in prog.source
    tracemalloc.start()
    try:
        cf(x, target, *compiled)
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            loss = cf(x, target, *compiled)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a replay allocates no array of the hidden layers' sizes (128 KiB each; the replay
    # without these buffers allocated ~1.2 MiB), only small ones and NumPy's 32 KiB
    # iterator buffer (a broadcast add allocates it, even with out=)
    assert peak - base < 64 * 1024, (peak - base)
    assert current - base < 4096
    # the parameters written back and the output are fresh, never a buffer
    assert all(not np.shares_memory(t._data, b) for t in compiled + [loss]
               for b in prog.buffers)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_buffered_matmul_where_sum_and_their_views(device, rng, dtype, monkeypatch):
    # results of matmul, where (NumPy: on the bits) and sum written into buffers (even tiny
    # ones here), read through views (transposes, reshapes); a view handed out keeps its
    # array out of buffers
    from xgrad._compile import _program
    monkeypatch.setattr(_program, "BUFFER_MIN_BYTES", 0)
    dt = getattr(xgrad, dtype)
    a = make(rng.standard_normal((6, 5)), device, dtype=dt)
    b = make(rng.standard_normal((5, 6)), device, dtype=dt)
    a[0, 0] = float("nan")
    a[1, 1] = float("-inf")
    a[2, 2] = -0.0

    def f(a, b):
        m = a @ b
        t = m.T
        c = xgrad.where(t > 0, t, 0.0)
        d = xgrad.where(m < 0, -0.0, c)
        d = d + xgrad.where(d > 0.5, 0.0, -d) + xgrad.where(m > 0, m, d) + \
            xgrad.where(m < 1, 2, 0.0)
        e = xgrad.where(d > 1, d, m) @ c.T
        s = e.sum(0) + d.sum(1, keepdim=True).reshape(-1)
        v = (e * 2).reshape(-1)  # handed out: a view of the product
        return s, v, e.T[1:], xgrad.relu(a).mT

    cf = xgrad.compile(f)
    for k in range(3):
        got, want = cf(a, b), f(a, b)
        assert all(_same(g, w) for g, w in zip(got, want))
        prog = cf.programs()[0]
        if device.type == "cpu":
            assert prog.buffers and "out=B" in prog.source
            assert all(not np.shares_memory(g._data, buf) for g in got for buf in prog.buffers)
        a = a * 1.5


@pytest.mark.parametrize("fuse", [False, True])
def test_buffers_keep_eager_layouts(device, rng, fuse, monkeypatch):
    # x.T * 3 is laid out as x.T in eager mode (NumPy keeps the operands' order): a C-ordered
    # buffer or block would change the rounding of the reduction that follows (differential
    # seed 1045, stress mode); such results stay fresh arrays
    from xgrad._compile import _program
    monkeypatch.setattr(_program, "BUFFER_MIN_BYTES", 0)
    if fuse:
        monkeypatch.setattr(_program, "FUSE_MIN_ELEMENTS", 3)
        monkeypatch.setattr(_program, "FUSE_BLOCK", 64)
    x = make(rng.standard_normal((4099, 3)) * 1e3, device, dtype=xgrad.float64)

    def f(x):
        y = x.T * 3.0
        z = xgrad.sin(y) * y
        return z.sum(1), (y @ x).sum(), xgrad.where(y > 0, y, 0.0).sum(1)

    cf = xgrad.compile(f)
    for _ in range(3):
        assert all(_same(a, b) for a, b in zip(cf(x), f(x)))


# -- the differential generator's programs, compiled ----------------------------------------

def _program_step(program):
    import _torch_programs as tp
    h_forward, h_grad1, h_grad2 = tp._harness_phases(program.inputs, program.outs)
    src = "\n".join((program.body, h_forward, h_grad1, h_grad2))
    code = ("def step():\n" + "\n".join("    " + line for line in src.splitlines()) +
            "\n    return ([o.detach() for o in outs], [None if g is None else g.detach() "
            "for g in grads], [None if g is None else g.detach() for g in grads2])\n")
    ns = {"torch": xgrad}
    exec(compile(code, "<differential program>", "exec"), ns)
    return ns["step"]


def _flat(result):
    return [None if t is None else (t.shape, t.dtype, _np(t)) for part in result for t in part]


@pytest.mark.parametrize("stress", [False, True])
def test_differential_programs_replay_bitwise(device, stress, monkeypatch):
    """Random programs of the differential generator (views, in-place writes, indexing,
    linear algebra, first- and second-order gradients): traced and replayed twice, each
    result bitwise eager mode's; most of them replay (the rest break the graph, e.g.
    boolean masks). ``stress``: every elementwise result in a buffer and every run of
    elementwise steps fused in blocks of 2 elements (the lowering's logic on small
    arrays)."""
    pytest.importorskip("torch")
    import _torch_programs as tp
    if stress:
        if device.type != "cpu":
            pytest.skip("buffers and blocks are NumPy's (the cpu device)")
        from xgrad._compile import _program
        monkeypatch.setattr(_program, "BUFFER_MIN_BYTES", 0)
        monkeypatch.setattr(_program, "FUSE_BLOCK", 2)
        monkeypatch.setattr(_program, "FUSE_MIN_ELEMENTS", 3)
    replayed = 0
    count = 12
    for seed in range(count) if not stress else range(185, 185 + count):
        program = tp.generate(tp.RandomChooser(seed), device.type)
        step = _program_step(program)
        with xgrad.default_device(device), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                want = _flat(step())
            except Exception:  # noqa: BLE001  (PyTorch-refused programs: not this test's)
                continue
            cf = xgrad.compile(step)
            runs = [_flat(cf()) for _ in range(3)]
        for got in runs:
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert (g is None) == (w is None)
                if g is not None:
                    assert g[0] == w[0] and g[1] == w[1], (seed, g[:2], w[:2])
                    assert np.array_equal(g[2], w[2], equal_nan=True), (seed, program.text())
        replayed += cf.cache_info()["programs"] > 0 and cf.cache_info()["eager"] == 0
    # (strict breaks more graphs: e.g. boolean masks and nonzero)
    assert replayed >= count * (0.6 if device.type == "cpu" else 0.4), replayed



def _saved_buffer_written_through_view(x1, w):
    # log_softmax saves its output; a write into a view of that output is copy-on-write in
    # eager mode (the node keeps the old buffer): the trace must decide the same
    v4 = xgrad.nn.functional.log_softmax(x1, dim=-1)
    xgrad.movedim(v4, 1, 2).sub_(0.5)
    (g,) = xgrad.autograd.grad((v4 * w).sum(), [x1])
    return v4.detach(), g.detach()


def _saved_view_then_setitem(x1, x3):
    # vdot saves v2.flatten() (a view of v2's buffer, no live view tensor left); the
    # recorded setitem into v2 must not write into the buffer that saved view shares
    v2 = xgrad.special.erf(x1)
    v4 = xgrad.vdot(v2.flatten(), x3.flatten())
    v2[1::3, 0] = 1.15
    v2.exp_()
    g1, g3 = xgrad.autograd.grad(v4, [x1, x3])
    return v4.detach(), v2.detach(), g1.detach(), g3.detach()


@pytest.mark.parametrize("program", [_saved_buffer_written_through_view, _saved_view_then_setitem])
def test_write_into_a_saved_buffer_is_copy_on_write_as_in_eager_mode(device, program):
    """A traced view holds its base's tracer as the real view holds its base: eager mode's
    refcount test of a root's buffer (``_views._exclusive``) then sees the views a graph
    node saved, so a write copies where eager mode copies (differential seeds 1044 and
    3019: the tracing call itself differed, a saved value having been overwritten)."""
    f64 = xgrad.float64
    if program is _saved_buffer_written_through_view:
        args = (make([[[0.13]], [[0.22]]], device, dtype=f64, requires_grad=True),
                make([[[0.3]], [[0.7]]], device, dtype=f64))
    else:
        args = (make([[-1.02], [1.16], [1.5], [0.7]], device, dtype=f64, requires_grad=True),
                make([[0.74], [1.31], [-1.18], [1.45]], device, dtype=f64, requires_grad=True))
    want = program(*args)
    cf = xgrad.compile(program, fullgraph=True)
    for _ in range(3):
        got = cf(*args)
        assert len(got) == len(want)
        assert all(_same(a, b) for a, b in zip(got, want))
    assert cf.cache_info()["programs"] > 0


@pytest.mark.parametrize("seed", [1044, 3019])
def test_differential_seeds_with_saved_views(device, seed):
    """The two differential programs that found it, traced and replayed, bitwise eager's."""
    pytest.importorskip("torch")
    import _torch_programs as tp
    program = tp.generate(tp.RandomChooser(seed), device.type)
    step = _program_step(program)
    with xgrad.default_device(device), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = _flat(step())
        except Exception:  # noqa: BLE001  (a device whose generated program differs)
            pytest.skip("the program fails in eager mode on this device")
        cf = xgrad.compile(step)
        runs = [_flat(cf()) for _ in range(3)]
    for got in runs:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert (g is None) == (w is None)
            if g is not None:
                assert g[:2] == w[:2] and np.array_equal(g[2], w[2], equal_nan=True), seed


def test_returning_an_argument_returns_that_argument(device):
    cf = xgrad.compile(lambda x, y: (x, y * 2))
    for v in ([1.0], [2.0]):
        x = make(v, device)
        y = make(v, device)
        a, b = cf(x, y)
        assert a is x and _same(b, y * 2)


# -- block fusion ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [5000, 4096])  # a tail block, and none
def test_block_fusion_is_bitwise(device, rng, n, monkeypatch):
    from xgrad._compile import _program
    monkeypatch.setattr(_program, "FUSE_BLOCK", 1024)
    monkeypatch.setattr(_program, "FUSE_MIN_ELEMENTS", 2048)
    w = make(rng.standard_normal(n), device, dtype=xgrad.float64, requires_grad=True)

    def f(x, s):
        w.grad = None
        y = xgrad.tanh(x) * w + xgrad.exp(-x * x) * s - 2.0 / (1.5 + x * x)
        loss = (y * y).sum() + (y > 0).to(xgrad.float64).sum()
        loss.backward()
        return loss.detach(), y.detach()

    cf = xgrad.compile(f)
    for k in range(3):
        x = make(rng.standard_normal(n), device, dtype=xgrad.float64)
        s = make(1.0 + k, device, dtype=xgrad.float64)  # a 0-d operand
        got = cf(x, s)
        g = w.grad
        want = f(x, s)
        assert _same(got[0], want[0]) and _same(got[1], want[1]) and _same(g, w.grad)
    if device.type == "cpu":
        assert "for i0 in range(" in cf.programs()[0].source


def test_compiled_module(device, rng):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).to(device)
    cm = xgrad.compile(model)
    assert list(cm.parameters()) == list(model.parameters())
    with xgrad.no_grad():
        for _ in range(3):
            x = make(rng.standard_normal((2, 4)), device, dtype=xgrad.float32)
            assert _same(cm(x), model(x))
    assert cm.cache_info()["programs"] == 1


def test_view_arguments(device):
    base = make(np.arange(20.0).reshape(10, 2), device)
    cf = xgrad.compile(lambda x: x * 2 + 1)
    for i in range(4):  # reads of views at different offsets replay
        v = base[i:i + 2]
        assert _same(cf(v), v * 2 + 1)

    def f(x):
        x.mul_(2)
        return x.sum()

    cw = xgrad.compile(f)
    b1 = make(np.arange(20.0).reshape(10, 2), device)
    b2 = make(np.arange(20.0).reshape(10, 2), device)
    with pytest.warns(GraphBreakWarning, match="view"):
        cw(b1[0:2])
    f(b2[0:2])
    for i in range(1, 4):  # a write through a view: eager, so into the right rows
        assert _same(cw(b1[i:i + 2]), f(b2[i:i + 2]))
        assert _same(b1, b2)


def test_cache_size_limit(device):
    from xgrad._compile import _api
    cf = xgrad.compile(lambda x, k: x * k)
    x = make([1.0, 2.0], device)
    for k in range(_api.CACHE_SIZE_LIMIT):
        assert _same(cf(x, k), x * k)
    with pytest.warns(GraphBreakWarning, match="signatures"):
        assert _same(cf(x, 100), x * 100)
    assert _same(cf(x, 101), x * 101)  # eager, without a new warning
    assert cf.cache_info()["signatures"] == _api.CACHE_SIZE_LIMIT


_GLOBAL_W = None
_GLOBAL_SCALE = 2.0


def _uses_globals(x):
    return x * _GLOBAL_W * _GLOBAL_SCALE


def test_globals_and_closures_are_guarded(device):
    global _GLOBAL_W, _GLOBAL_SCALE
    _GLOBAL_W = make([1.0, 2.0], device)
    cf = xgrad.compile(_uses_globals)
    x = make([3.0, 4.0], device)
    try:
        assert _same(cf(x), _uses_globals(x))
        _GLOBAL_W = make([5.0, 6.0], device)   # a new tensor in the global
        assert _same(cf(x), _uses_globals(x))
        _GLOBAL_SCALE = 3.0                     # a new number in the global
        assert _same(cf(x), _uses_globals(x))
    finally:
        _GLOBAL_SCALE = 2.0
    assert cf.cache_info()["programs"] == 3

    w = make([1.0, 2.0], device)
    cg = xgrad.compile(lambda x: x * w)
    assert _same(cg(x), x * w)
    w = make([7.0, 8.0], device)  # the closure's cell now holds another tensor
    assert _same(cg(x), x * w)


# -- exact simplifications (constant folding, no-ops, common subexpressions) ------------------

def _bits(t):
    a = _np(t)
    return a.dtype, a.shape, a.tobytes()


def _hvp(w, x, v):
    g, = xgrad.autograd.grad(xgrad.sum(xgrad.tanh(w @ x)), x, create_graph=True)
    hv, = xgrad.autograd.grad(xgrad.sum(g * v), x)
    return hv


def test_simplified_hvp_is_bitwise_and_shorter(device, rng, monkeypatch):
    from xgrad._compile import _program
    w = make(rng.standard_normal((6, 6)), device)
    v = make(rng.standard_normal(6), device)
    sizes = {}
    for simplify in (False, True):
        monkeypatch.setattr(_program, "SIMPLIFY", simplify)
        cf = xgrad.compile(_hvp)
        for _ in range(3):
            x = make(rng.standard_normal(6), device).requires_grad_()
            assert _bits(cf(w, x, v)) == _bits(_hvp(w, x, v))
        prog = cf.programs()[0]
        sizes[simplify] = prog.nsteps
        if simplify:
            # the gradient seeds (ones_like of the sums, broadcast) are folded, multiplying
            # by them is gone, and g * v's two identical products are computed once
            assert "ones_like" not in str(prog.run.__globals__.values())
    # (the no-ops need NumPy's shapes and dtypes: folding and common subexpressions only
    # elsewhere)
    assert sizes[True] <= sizes[False] - (8 if device.type == "cpu" else 6), sizes


def test_simplification_keeps_signed_zeros_nans_and_fresh_outputs(device):
    """x + zeros is not x for x = -0 (it is +0): additions of zeros stay; x * ones, x - zeros
    are x bitwise (NaN, -0, inf); an output never aliases an input or a constant."""
    def f(x):
        z = xgrad.zeros_like(x)
        o = xgrad.ones_like(x)
        a = x + z
        b = (x * o) - z
        c = o * 1.0
        return a, b, c, x / o

    cf = xgrad.compile(f)
    for k in range(3):
        x = make([-0.0, 0.0, float("nan"), -float("inf"), 1.5 + k], device)
        got, want = cf(x), f(x)
        for g, e in zip(got, want):
            assert _bits(g) == _bits(e)
        if device.type == "cpu":
            # each output is a new array: writing into one changes nothing else
            assert not any(np.shares_memory(_np(g), _np(x)) for g in got)
            got[2].add_(1.0)
            assert _bits(cf(x)[2]) == _bits(f(x)[2])


def test_simplification_leaves_written_constants_alone(device, rng):
    """A constant of the program that is written in place (or a view of it) is created anew
    by every replay, and no-op results are not aliased to arrays written later."""
    def f(x):
        z = xgrad.zeros(3, dtype=x.dtype, device=x.device)
        y = z * 1.0            # (no-op: y is z, but z is written below)
        z.add_(x)
        o = xgrad.ones(3, dtype=x.dtype, device=x.device)
        view = o[:2]
        view.mul_(x[:2])
        return y + o, z * 2, (x * 1) * 1

    cf = xgrad.compile(f)
    for _ in range(4):
        x = make(rng.standard_normal(3), device)
        for g, e in zip(cf(x), f(x)):
            assert _bits(g) == _bits(e)


# -- outputs carry eager mode's requires_grad and grad_fn -----------------------------------

def test_outputs_require_grad_as_in_eager_mode(device, rng):
    """A returned loss whose graph a backward inside the step freed: requires grad, a grad_fn
    of eager mode's name, and a backward through it raises PyTorch's freed-graph error."""
    w = make(rng.standard_normal((3, 4)), device, requires_grad=True)

    def step(x):
        w.grad = None
        loss = (xgrad.tanh(x @ w) ** 2).mean()
        loss.backward()
        leaf = xgrad.ones(2, device=x.device, requires_grad=True)
        return loss, loss.detach() * 2, leaf

    cf = xgrad.compile(step)
    for _ in range(3):
        x = make(rng.standard_normal((5, 3)), device)
        want, got = step(x), cf(x)
        for g, e in zip(got, want):
            assert _bits(g) == _bits(e)
            assert g.requires_grad == e.requires_grad and g.is_leaf == e.is_leaf
            assert (g.grad_fn is None) == (e.grad_fn is None)
        assert got[0].grad_fn.name() == want[0].grad_fn.name() == "MeanBackward0"
        for loss in (want[0], got[0]):
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                loss.backward()
    assert cf.cache_info()["programs"] == 1 and cf.cache_info()["eager"] == 0
    # the failed backward accumulated nothing: w.grad is the step's gradient
    x = make(rng.standard_normal((5, 3)), device)
    step(x)
    want = _bits(w.grad)
    cf(x)
    assert _bits(w.grad) == want


def test_output_whose_graph_saved_nothing_breaks_the_graph(device):
    """A second backward through a graph without saved values works in eager mode: such an
    output is a graph break (eager), not a replay."""
    x = make([1.0, 2.0], device, requires_grad=True)

    def f(y):
        s = (x + y).sum()
        s.backward()
        return s

    cf = xgrad.compile(f)
    with pytest.warns(GraphBreakWarning, match="saved no values"):
        out = cf(make([1.0, 1.0], device))
    out.backward()  # (eager mode's output: its graph can be backwarded again)
    assert cf.cache_info()["eager"] == 1


# -- fused elementwise kernels (CuPy): the program logic, emulated on the CPU ---------------

def _chain_step(x, y):
    z = xgrad.tanh(x * y + 1.0)
    u = xgrad.where(z > 0.1, z * z, -z) - xgrad.exp(-x) / (y + 2.0)
    loss = (xgrad.maximum(u, 0.05 * u) * 3.0).sum()
    loss.backward()
    return loss.detach(), u


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_kernels_emulated_are_eager_values(device, rng, dtype, monkeypatch):
    """Each run of elementwise steps (forward and backward) becomes one kernel; evaluated
    from its expression tree (the CPU emulation of the generated kernel), the replay gives
    eager mode's values bitwise."""
    from xgrad._compile import _program
    monkeypatch.setattr(_program, "KERNELS", "emulate")
    dt = getattr(xgrad, dtype)
    cf = xgrad.compile(_chain_step)
    for _ in range(3):
        x = make(rng.standard_normal(50), device, dtype=dt, requires_grad=True)
        y = make(rng.standard_normal(50), device, dtype=dt)
        got = cf(x, y)
        g1 = x.grad
        x.grad = None
        want = _chain_step(x, y)
        for g, e in zip(got, want):
            assert _bits(g) == _bits(e)
        assert _bits(g1) == _bits(x.grad)
    prog = cf.programs()[0]
    kernels = prog.kernels
    # the forward chain and the backward chain each became one kernel of several steps
    assert len(kernels) >= 2 and max(len(k.nodes) for k in kernels) >= 6
    assert prog.nsteps > sum(len(k.nodes) for k in kernels)
    for k in kernels:
        in_params, out_params, body, name = k.cuda_source()
        assert in_params.count(",") == len(k.inputs) - 1
        assert out_params.count(",") == len(k.outputs) - 1
        assert body.count(" t") >= len(k.nodes) and name.startswith("xgrad_fused_")


def test_fused_kernels_emulated_training_and_differential(device, rng, monkeypatch):
    from xgrad._compile import _program
    monkeypatch.setattr(_program, "KERNELS", "emulate")
    m1, _, eager = _mlp_step(device, "adam")
    m2, _, step = _mlp_step(device, "adam")
    compiled = xgrad.compile(step)
    for _ in range(4):
        x = make(rng.standard_normal((4, 5)), device, dtype=xgrad.float32)
        y = make(rng.standard_normal((4, 3)), device, dtype=xgrad.float32)
        assert _bits(compiled(x, y)) == _bits(eager(x, y))
        for p, q in zip(m1.parameters(), m2.parameters()):
            assert _bits(p) == _bits(q)
    assert any(p.kernels for p in compiled.programs())
    pytest.importorskip("torch")
    import _torch_programs as tp
    fused = 0
    for seed in range(20):
        program = tp.generate(tp.RandomChooser(seed), device.type)
        stepf = _program_step(program)
        with xgrad.default_device(device), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                want = _flat(stepf())
            except Exception:  # noqa: BLE001
                continue
            cf = xgrad.compile(stepf)
            runs = [_flat(cf()) for _ in range(2)]
        for got in runs:
            for g, w in zip(got, want):
                assert (g is None) == (w is None)
                if g is not None:
                    assert g[:2] == w[:2] and np.array_equal(g[2], w[2], equal_nan=True), seed
        fused += sum(len(p.kernels) for p in cf.programs())
    assert fused >= 5, fused


_CPP = """
#include <cmath>
#include <cstddef>
using namespace std;
extern "C" void kernel(size_t n, void **ins, const size_t *in_steps, void **outs) {{
    for (size_t k = 0; k < n; ++k) {{
{loads}
{stores_decl}
        {body}
{stores}
    }}
}}
"""


def test_fused_kernel_source_compiles_and_computes(tmp_path, rng, monkeypatch):
    """The generated kernel text, compiled as C++ by the host compiler (the body CuPy would
    put in its CUDA kernel) and run over NumPy arrays, gives the emulation's values (close:
    the C library's transcendental functions are not NumPy's)."""
    import ctypes
    import shutil
    import subprocess
    if shutil.which("g++") is None:
        pytest.skip("no C++ compiler")
    from xgrad._compile import _program
    from xgrad._compile._fuse import _C_TYPES
    monkeypatch.setattr(_program, "KERNELS", "emulate")
    cf = xgrad.compile(_chain_step)
    x = xgrad.asarray(rng.standard_normal(40), requires_grad=True)
    y = xgrad.asarray(rng.standard_normal(40))
    cf(x, y)
    kernels = cf.programs()[0].kernels
    assert kernels
    for kern in kernels:
        in_params, out_params, body, _name = kern.cuda_source()
        ins = [p.split() for p in in_params.split(", ")]
        outs = [p.split() for p in out_params.split(", ")]
        loads = "\n".join(
            f"        {_C_TYPES[t]} {nm} = (({_C_TYPES[t]} *)ins[{k}])[k * in_steps[{k}]];"
            for k, (t, nm) in enumerate(ins))
        decl = "\n".join(f"        {_C_TYPES[t]} {nm};" for t, nm in outs)
        stores = "\n".join(f"        (({_C_TYPES[t]} *)outs[{k}])[k] = {nm};"
                           for k, (t, nm) in enumerate(outs))
        src = tmp_path / f"k{kern.index}.cpp"
        src.write_text(_CPP.format(loads=loads, stores_decl=decl, body=body, stores=stores))
        lib = tmp_path / f"k{kern.index}.so"
        subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
        n = 40
        arrays = []
        for (t, _nm) in ins:
            dt = np.dtype(t)
            a = rng.standard_normal(n).astype(dt) if dt.kind == "f" else (
                rng.standard_normal(n) > 0).astype(dt)
            arrays.append(np.ascontiguousarray(a))
        want = kern.emulate(*arrays)
        want = want if isinstance(want, tuple) else (want,)
        results = [np.empty(n, np.dtype(t)) for t, _nm in outs]
        f = ctypes.CDLL(str(lib)).kernel
        ptrs = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
        steps = (ctypes.c_size_t * len(arrays))(*[1] * len(arrays))
        optrs = (ctypes.c_void_p * len(results))(*[r.ctypes.data for r in results])
        f(ctypes.c_size_t(n), ptrs, steps, optrs)
        for r, e in zip(results, want):
            np.testing.assert_allclose(r, e, rtol=1e-12, atol=1e-14)


# -- integer-array indexing: the bounds check is a step of the program -------------------------

def test_integer_array_indexing_replays_and_checks_bounds(device, rng):
    """Integer index arrays (strict composes them from standard functions and checks their
    bounds) replay without a graph break; an index out of bounds at a replay raises eager
    mode's IndexError there."""
    w = make(rng.standard_normal((5, 3)), device, requires_grad=True)

    def f(idx):
        w.grad = None
        loss = (w[idx] ** 2).sum()
        loss.backward()
        return loss.detach(), w.grad

    cf = xgrad.compile(f, fullgraph=True)
    for k in range(3):
        idx = make([k, 4, 0, -1], device, dtype=xgrad.int64)
        got, want = cf(idx), f(idx)
        for g, e in zip(got, want):
            assert _bits(g) == _bits(e)
    assert cf.cache_info()["programs"] == 1 and cf.cache_info()["eager"] == 0
    for bad in ([0, 5, 1, 2], [0, -6, 1, 2]):
        bad = make(bad, device, dtype=xgrad.int64)
        with pytest.raises(IndexError, match="out of bounds") as eager_error:
            f(bad)
        with pytest.raises(IndexError, match="out of bounds") as replay_error:
            cf(bad)
        assert str(replay_error.value) == str(eager_error.value)
    assert cf.cache_info()["traces"] == 1


def test_in_place_write_into_a_view_whose_value_a_node_saved(device, rng):
    """``v = y.narrow(...); v *= s`` where the multiplication's backward needs v's old value:
    eager mode writes the root copy-on-write (a node holds a view of its buffer); the trace
    must see the same (the view's ``.base`` is the root's tracer), else the replay writes in
    place and the saved value changes under the gradient."""
    def step(x, s):
        y = nn.functional.logsigmoid(x * 2.0)
        v = y.narrow(0, 2, 1)
        v *= s
        loss = (y * xgrad.sin(xgrad.arange(4, dtype=x.dtype, device=x.device))).sum()
        return xgrad.autograd.grad(loss, (x, s))

    cf = xgrad.compile(step)
    for _ in range(3):
        x = make(rng.standard_normal(4), device, requires_grad=True)
        s = make(rng.standard_normal(1), device, requires_grad=True)
        for g, e in zip(cf(x, s), step(x, s)):
            assert _bits(g) == _bits(e)
    assert cf.cache_info()["programs"] == 1
