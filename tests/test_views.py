"""Views and in-place writes (issue 11): PyTorch's values and gradients, on every device.

Each program is run twice, once with ``torch`` and once with ``xgrad`` as the
module ``L``, on the same float64 data: the outputs, the first-order gradient
and the second-order gradient (``create_graph``) must agree. The invariants of
docs/views.md each have a test: coherence after writes through the base, a view
and a view of a view; gradients through writes to second order; saved values
kept intact (where PyTorch refuses); the leaf error; O(slice) writes on NumPy.
"""

import weakref

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close

torch = pytest.importorskip("torch")

A = (np.arange(12.0).reshape(3, 4) - 5.5) / 3.0


def _leaf(L, values, device, requires_grad=True):
    values = np.array(values, dtype=np.float64)  # (a copy: xgrad.asarray shares NumPy memory)
    if L is torch:
        return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)
    return xgrad.asarray(values, device=device, requires_grad=requires_grad)


def _zeros(L, shape, device):
    if L is torch:
        return torch.zeros(shape, dtype=torch.float64)
    return xgrad.zeros(shape, dtype=xgrad.float64, device=device)


def _np(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach().cpu().numpy())


def _run(L, program, device, values):
    """Outputs, first- and second-order gradients of ``program`` on a leaf of ``values``."""
    x = _leaf(L, values, device)
    outs = program(L, x, device)
    outs = outs if isinstance(outs, tuple) else (outs,)
    loss = sum(((o * o) * (i + 1)).sum() for i, o in enumerate(outs))
    (g,) = L.autograd.grad(loss, (x,), create_graph=True, allow_unused=True)
    if g is None:
        return [_np(o) for o in outs], None, None
    (gg,) = L.autograd.grad((g * g).sum(), (x,), allow_unused=True)
    return [_np(o) for o in outs], _np(g), _np(gg)


def _check(program, device, values=A, torch_program=None):
    expected = _run(torch, torch_program or program, None, values)
    actual = _run(xgrad, program, device, values)
    for e, a in zip(expected[0], actual[0]):
        assert_close(a, e, rtol=1e-10, atol=1e-12, msg="values")
    for name, e, a in (("gradient", expected[1], actual[1]), ("second order", expected[2], actual[2])):
        if e is None:
            assert a is None or not np.any(a), name
        else:
            assert a is not None, f"{name}: none from xgrad"
            assert_close(a, e, rtol=1e-10, atol=1e-12, msg=name)


# -- the issue's snippets -----------------------------------------------------------------

def snippet_inplace_op_on_row(L, x, device):
    y = x.clone()
    y[0].mul_(10)
    return y


def snippet_chained_setitem(L, x, device):
    y = x.clone()
    y[0][1] = 9.0
    return y


def snippet_write_to_base_seen_by_view(L, x, device):
    y = x * 2
    v = y[:2]
    y += 1
    return v, y


def snippet_write_seen_by_other_view(L, x, device):
    c = _zeros(L, (4,), device)
    w = c[1:]
    c[0:2] = x[0, :2]
    return w, c


@pytest.mark.parametrize("program", [snippet_inplace_op_on_row, snippet_chained_setitem,
                                     snippet_write_to_base_seen_by_view,
                                     snippet_write_seen_by_other_view])
def test_issue_snippets(device, program):
    _check(program, device)


def test_issue_snippet_leaf_view_error(device):
    x = _leaf(xgrad, A, device)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation"):
        x[0].mul_(2)
    assert_close(x.detach(), A)  # nothing written


# -- coherence: a write through base, view, or view of a view is seen by all ----------------

def coherence_through_view(L, x, device):
    y = x * 1
    v = y[1]
    w = y[:, 2]
    v += 3                      # writes into y, seen by w
    return y, v, w


def coherence_through_view_of_view(L, x, device):
    y = x * 1
    v = y[1:]
    vv = v[:, 1:3]
    other = y.t()
    vv.mul_(x[0, 0])            # a value that requires grad, written two views down
    return y, v, vv, other


def coherence_through_base_setitem(L, x, device):
    y = x + 0
    v = y[:, 1]
    t = y.t()
    y[1:, 1:3] = x[0, :2] * 5
    return v, t, y


def coherence_unrecorded_base(L, x, device):
    c = _zeros(L, (3, 4), device)
    row = c[2]
    col = c[:, 0]
    c[2] = 7.0                  # no grad involved: written in place
    c[:, 0] += 1.0
    return (row * x[0]).sum() + col.sum() + x.sum() * 0, row, col


@pytest.mark.parametrize("program", [coherence_through_view, coherence_through_view_of_view,
                                     coherence_through_base_setitem, coherence_unrecorded_base])
def test_coherence(device, program):
    _check(program, device)


# -- the view ops -------------------------------------------------------------------------------

def op_basic_index(L, x, device):
    y = x * 1
    y[::2, 1:3] = x[1, :2]
    y[..., -1] += 2
    return y


def op_reshape_view(L, x, device):
    y = x * 1
    r = y.reshape(-1)
    r[3:6] = x[0, :3] ** 2
    v = y.view(4, 3)
    v[1].mul_(3)
    return y, r, v


def op_transpose_permute(L, x, device):
    y = x * 1
    t = y.t()
    t[0] = 5.0
    y.T[1, 2] = x[2, 3] * 2
    p = y.permute(1, 0)
    p[2].add_(x[1, :3])
    y.mT[3] *= 2
    z = (x * 1).reshape(2, 2, 3)
    z.transpose(0, 2)[1, 0] = x[0, :2]
    return y, t, p, z


def op_squeeze_unsqueeze(L, x, device):
    y = x * 1
    u = y.unsqueeze(0)
    u[0, 1] = x[2] * 3
    s = y[1:2].squeeze(0)
    s.mul_(x[0])
    return y, u, s


def op_expand(L, x, device):
    y = x[0:1] * 1
    e = y.expand(3, 4)
    e[1] = x[2] * 2           # one row of the expansion: a write into y
    return y, e


def op_narrow(L, x, device):
    y = x * 1
    n = L.narrow(y, 1, 1, 2)
    n.mul_(2)
    y.narrow(0, 2, 1)[0, 0] = x[0, 0] * x[1, 1]
    return y, n


def op_diagonal(L, x, device):
    y = x * 1
    d = y.diagonal()
    d.mul_(x[0, :3])
    y.diagonal(1)[0] = 0.5
    return y, d


def op_unbind_split_chunk_read(L, x, device):
    y = x * 1
    a, b, c = y.unbind(0)
    p, q = y.split(2, 1)
    r, s = y.chunk(2, 0)
    y[1] = x[2] * 4            # a write into the base: every piece sees it
    return a, b, c, p, q, r, s


def op_unbind_split_chunk_read_torch(L, x, device):
    # PyTorch refuses to use the pieces of unbind/split/chunk once their base was
    # written; the same program with indexing
    y = x * 1
    y[1] = x[2] * 4
    return y[0], y[1], y[2], y[:, :2], y[:, 2:], y[:2], y[2:]


def op_detach(L, x, device):
    y = x * 2
    d = y.detach()
    with L.no_grad():
        d[0] = 1.0             # seen by y, not recorded
    y.add_(1)                  # seen by d
    return y, d + 0


@pytest.mark.parametrize("program", [op_basic_index, op_reshape_view, op_transpose_permute,
                                     op_squeeze_unsqueeze, op_expand, op_narrow, op_diagonal,
                                     op_unbind_split_chunk_read, op_detach])
def test_view_ops(device, program):
    _check(program, device, torch_program=op_unbind_split_chunk_read_torch
           if program is op_unbind_split_chunk_read else None)


def test_real_imag_views(device):
    for L in (torch, xgrad):
        c = L.zeros(3, dtype=L.complex128) if L is torch else \
            xgrad.zeros(3, dtype=xgrad.complex128, device=device)
        r, i = c.real, c.imag
        r[0] = 5.0
        c.imag[1] = 2.0
        i[2] += 1.5
        if L is torch:
            expected = [_np(c), _np(r), _np(i)]
        else:
            for e, a in zip(expected, (c, r, i)):
                assert_close(a, e)


def test_unbind_pieces_are_written_as_views(device):
    # PyTorch refuses in-place writes into the outputs of unbind/split/chunk under
    # autograd; xgrad writes them as any other view (the program's gradient): this
    # compares against the same program written with indexing in PyTorch
    def xgrad_program(L, x, device):
        y = x * 1
        a, b, c = y.unbind(0)
        b.mul_(x[0])
        p, q = y.split(2, 1)
        q[0] = 1.0
        return y

    def torch_program(L, x, device):
        y = x * 1
        y[1].mul_(x[0])
        y[:, 2:][0] = 1.0
        return y
    expected = _run(torch, torch_program, None, A)
    actual = _run(xgrad, xgrad_program, device, A)
    for e, a in zip(expected, actual):
        assert_close(a[0] if isinstance(a, list) else a, e[0] if isinstance(e, list) else e)


def test_write_into_expansion_raises(device):
    for L in (torch, xgrad):
        y = _zeros(L, (1, 4), device)
        e = y.expand(3, 4)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e.mul_(2)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e[:, 0] = 1.0


# -- gradients through writes: keys of every kind, second order -----------------------------

def grad_setitem_keys(L, x, device):
    y = x * 1
    idx = L.tensor([2, 0]) if L is torch else xgrad.asarray([2, 0], device=device)
    y[idx] = x[1] * 3                       # integer array
    y[1, idx] = x[0, :2] ** 2               # integer array beside an integer
    v = y[:, 1:]
    v[idx, 0] = x[2, 3]                     # integer array through a view
    v[1:, idx] *= x[1, 1]                   # an in-place op on an advanced read-modify-write
    return y, v


def grad_setitem_mask(L, x, device):
    y = x * 1
    mask = x > 0.5
    y[mask] = 0.25                          # boolean mask
    v = y[1:]
    v[mask[1:]] = x[0, 0] * 2               # boolean mask through a view
    return y, v


def grad_chained_inplace(L, x, device):
    y = x.exp()
    z = y * 1
    z[0].mul_(x[1])
    z[1:].sub_(y[0])
    z[:, 0].add_(x[:, 3] ** 2)
    z[2][1:3] += x[0, 1:3] * y[1, 0]
    z.t()[1:, 1].mul_(2)
    return z


@pytest.mark.parametrize("program", [grad_setitem_keys, grad_setitem_mask, grad_chained_inplace])
def test_gradients_through_writes(device, program):
    if device.type == "dask" and program is grad_setitem_mask:
        pytest.skip("boolean-mask assignment on Dask is xgrad/ops/advanced_index.py's (Dask's "
                    "__setitem__ refuses the mask); see docs/views.md")
    _check(program, device)


# -- saved values stay intact (PyTorch raises; xgrad computes the program's gradient) --------

def test_saved_values_are_kept(device):
    x = _leaf(xgrad, A, device)
    y = x.exp()                 # exp saves its output
    v = y[0]                    # a view taken before the write
    y[0] = 1.0                  # PyTorch: backward would raise "modified by an inplace operation"
    assert_close(v, np.ones(4))  # the view sees the write
    y.sum().backward()
    expected = np.exp(A)
    expected[0] = 0.0           # the program as written: row 0 is a constant
    assert_close(x.grad, expected)

    # the same with PyTorch: it refuses
    xt = _leaf(torch, A, None)
    yt = xt.exp()
    yt[0] = 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        yt.sum().backward()


def test_saved_view_kept_through_write_into_base(device):
    x = _leaf(xgrad, A, device)
    y = x * 1
    v = y[1]
    z = (v * v).sum()           # saves v's values
    y[1].mul_(3)                # a recorded write into y: v sees it
    assert_close(v, A[1] * 3)
    z.backward()
    expected = np.zeros_like(A)
    expected[1] = 2 * A[1]      # the gradient of the program as written (before the write)
    assert_close(x.grad, expected)


# -- the leaf error ----------------------------------------------------------------------------

def test_leaf_errors(device):
    x = _leaf(xgrad, A, device)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad"):
        x.mul_(2)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x.t()[0] = 1.0
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x[1:][0].add_(1)
    with xgrad.no_grad():
        v = x[1]
        v.mul_(2)               # an optimizer-style update: allowed, seen by x
    expected = A.copy()
    expected[1] *= 2
    assert_close(x.detach(), expected)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being "
                                           "modified inplace with grad mode enabled"):
        v.add_(1)               # the no_grad view, written with grad on (PyTorch's error)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        v[1:].mul_(2)
    x.detach()[2] = 0.0         # through detach: allowed, as PyTorch
    expected[2] = 0.0
    assert_close(x.detach(), expected)


# -- cost: O(slice) writes on NumPy ------------------------------------------------------------

@pytest.mark.not_on("strict", "dask", reason="the in-place write path is NumPy's and CuPy's: "
                    "the others copy (docs/views.md)")
def test_recorded_row_writes_are_in_place(device):
    p = _leaf(xgrad, np.linspace(0, 1, 4), device)
    buf = xgrad.zeros((5, 4), dtype=xgrad.float64, device=device)
    data = weakref.ref(buf._data)     # (a reference would make the buffer shared)
    for i in range(5):
        buf[i] = (p * i).sin()
    assert buf._data is data()        # one buffer, written row by row
    s = (buf * p).sum()               # the product saves buf's buffer ...
    buf[0] = p * 10                   # ... so this write copies
    assert buf._data is not data() and data() is not None
    s.backward()
    expected = sum(np.sin(np.linspace(0, 1, 4) * i) + i * np.cos(np.linspace(0, 1, 4) * i)
                   * np.linspace(0, 1, 4) for i in range(5))
    assert_close(p.grad, expected)


def test_fill_rows_gradient(device):
    results = []
    for L in (torch, xgrad):
        p = _leaf(L, np.linspace(-1, 1, 4), device)
        buf = _zeros(L, (6, 4), device)
        for i in range(6):
            buf[i] = (p * (i + 1)).tanh()
        (buf * buf).sum().backward()
        results.append((_np(buf), _np(p.grad)))
    assert_close(results[1][0], results[0][0])
    assert_close(results[1][1], results[0][1])


# -- is_contiguous and view() ------------------------------------------------------------------

def test_is_contiguous_and_view_errors(device):
    cases = [
        lambda L, x: x.t(),
        lambda L, x: x[:, 1:],
        lambda L, x: x[1:],
        lambda L, x: x[::2],
        lambda L, x: x.unsqueeze(0),
        lambda L, x: x[0:1].expand(3, 4),
        lambda L, x: x[:, 0:1].t(),
        lambda L, x: x.diagonal(),
        lambda L, x: x.reshape(2, 6)[:, :3],
        lambda L, x: x.reshape(2, 2, 3).permute(2, 0, 1),
    ]
    for i, case in enumerate(cases):
        t = case(torch, _leaf(torch, A, None, False))
        a = case(xgrad, _leaf(xgrad, A, device, False))
        assert a.is_contiguous() == t.is_contiguous(), i
        for shape in ((-1,), (t.shape[0], -1) if t.dim() else (1,)):
            try:
                expected = tuple(t.view(*shape).shape)
            except RuntimeError:
                with pytest.raises(RuntimeError, match="view size is not compatible"):
                    a.view(*shape)
            else:
                assert tuple(a.view(*shape).shape) == expected, (i, shape)
            assert tuple(a.reshape(*shape).shape) == tuple(t.reshape(*shape).shape)


def test_reshape_copies_where_view_cannot(device):
    for L in (torch, xgrad):
        y = _leaf(L, A, device, False).clone() if L is torch else \
            _leaf(L, A, device, False) * 1
        flat = y.t().reshape(-1)     # a copy: writes into it do not reach y
        flat[0] = 100.0
        assert _np(y)[0, 0] == A[0, 0]
        c = y.t().contiguous()       # a copy too
        c[0, 0] = 100.0
        assert _np(y)[0, 0] == A[0, 0]
        r = y.reshape(-1)            # a view
        r[0] = 100.0
        assert _np(y)[0, 0] == 100.0


# -- views die, the registry does not grow --------------------------------------------------------

def test_view_registry_stays_small(device):
    x = xgrad.zeros((4, 4), device=device)
    for i in range(1000):
        _ = x[i % 4] + 1
    assert len(x._views or ()) < 40
    keep = [x[i % 4] for i in range(20)]
    x[0] = 1.0
    assert all(np.all(_np(k) == (1.0 if i % 4 == 0 else 0.0)) for i, k in enumerate(keep))


@pytest.mark.not_on("strict", "dask", reason="gradients are written in place on NumPy and CuPy "
                    "only (the others copy; docs/views.md)")
def test_backward_of_row_writes_zeroes_in_place(device, monkeypatch):
    # the backward of N row writes must not copy the whole gradient N times: the
    # region is zeroed in the engine's own gradient array
    from xgrad.ops import indexing
    p = _leaf(xgrad, np.linspace(0, 1, 4), device)
    buf = xgrad.zeros((50, 4), dtype=xgrad.float64, device=device)
    for i in range(50):
        buf[i] = p * i
    copies = []
    original = indexing._setitem_forward
    monkeypatch.setattr(indexing, "_setitem_forward",
                        lambda *a, **k: copies.append(1) or original(*a, **k))
    (buf * 2).sum().backward()
    assert len(copies) <= 1          # at most the first node copies (its gradient is shared)
    assert_close(p.grad, np.full(4, 2.0 * sum(range(50))))


def test_no_grad_view_of_a_graph_tensor(device):
    # a view taken in no_grad mode shares the data, never the graph (PyTorch's rule)
    results = []
    for L in (torch, xgrad):
        x = _leaf(L, A, device)
        y = x * 2
        with L.no_grad():
            v = y[0]
            v.mul_(3)             # a write in no_grad: seen by y, not recorded
        y[1].add_(x[2])           # a recorded write into y: v keeps no grad
        if L is xgrad:  # (PyTorch marks it requires_grad with grad_fn=<Invalid>)
            assert not v.requires_grad and v.grad_fn is None
        (y * y).sum().backward()
        results.append((_np(y), _np(v), _np(x.grad)))
    for e, a in zip(*results):
        assert_close(a, e)


def overwrite_whole_tensor(L, x, device):
    y = x * 2
    c = _leaf(L, np.ones((3, 4)), device, requires_grad=False)
    y.copy_(c)                  # y still requires grad (its old graph gets zero gradient)
    z = x * 3
    z.zero_()
    w = x * 1
    w.fill_(2.0)
    return y * x, z + x, w * x, y


def test_overwriting_keeps_requires_grad(device):
    _check(overwrite_whole_tensor, device)
    for L in (torch, xgrad):
        y = _leaf(L, A, device) * 2
        y.zero_()
        assert y.requires_grad and y.grad_fn is not None


def test_unrecorded_write_into_saved_value_keeps_it(device):
    # PyTorch raises "modified by an inplace operation" at backward; xgrad keeps the
    # value the node saved (copy-on-write) and the views see the write
    x = _leaf(xgrad, A, device)
    c = xgrad.asarray(np.array(A), device=device)
    v = c[1]
    y = (x * c).sum()           # saves c
    c.neg_()                    # no grad involved: unrecorded, copy-on-write
    c[2, 1] = 5.0
    assert_close(v, -A[1])
    y.backward()
    assert_close(x.grad, A)
    with xgrad.no_grad():
        u = x[0]
        u.mul_(0.0)             # nothing saved x (the graph was freed): in place
    assert_close(x.detach()[0], np.zeros(4))


def setitem_new_axes(L, x, device):
    y = x * 1
    y[None, 0] = x[1] * 2       # a new axis in the key: not in y
    y[None, 1, None, 1:] = x[2, :3] ** 2
    v = y[1:]
    v[None, ..., 0] = 0.5
    return y, v


def test_setitem_keys_with_new_axes(device):
    _check(setitem_new_axes, device)


def test_writes_into_expansions_that_do_not_overlap(device):
    results = []
    for L in (torch, xgrad):
        x = _zeros(L, (1, 3), device)
        e = x.expand(2, 3)
        e[:, 3:] = 1.0                          # an empty region: nothing to overlap
        idx = L.tensor([1, 0]) if L is torch else xgrad.asarray([1, 0], device=device)
        e[1, idx] = 5.0                         # the basic part e[1] does not overlap
        results.append(_np(x))
    assert_close(results[1], results[0])


def fill_expanded(L, x, device):
    y = x.clone()
    v = y[0:1]
    e = v.expand(2, 2, 4)
    e[0].zero_()                # one value everywhere: allowed into overlapping memory
    y[1:].expand(2, 2, 4)[1].fill_(0.75)
    return y


def fill_expanded_torch(L, x, device):
    # (PyTorch's backward refuses the expanded write; the same values written directly)
    y = x.clone()
    y[0] = 0.0
    y[1:] = 0.75
    return y


def test_fill_into_expansion(device):
    _check(fill_expanded, device, torch_program=fill_expanded_torch)
    for L in (torch, xgrad):
        e = _zeros(L, (1, 3), device).expand(2, 3)
        with pytest.raises(RuntimeError, match="more than one element"):
            e.add_(1.0)


def test_recorded_write_into_detached_tensor(device):
    results = []
    for L in (torch, xgrad):
        x = _leaf(L, [1.41, 2.0], device)
        d = x.detach()
        p = _leaf(L, 1.5, device)
        d[0] = p * 2            # recorded on d (PyTorch's non-differentiable view); x sees it
        assert d.requires_grad and not x.grad_fn
        (d * 3).sum().backward()
        results.append((_np(x), _np(d), _np(p.grad)))
        assert x.grad is None
    for e, a in zip(*results):
        assert_close(a, e)


def test_zero_and_fill_overwrite_nan_and_inf(device):
    """``zero_``/``fill_`` replace every value, NaN and inf included, recorded or not
    (a fill computed as ``x * 0 + v`` would leave NaN behind); the old values get a
    zero gradient, as PyTorch's FillBackward."""
    values = np.array([np.nan, 1.0, np.inf])
    x = xgrad.asarray(values, device=device)
    x.zero_()
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0, 0.0])
    leaf = xgrad.asarray(values, device=device, requires_grad=True)
    with xgrad.no_grad():
        leaf.fill_(0.5)
    np.testing.assert_array_equal(leaf.detach().numpy(), [0.5, 0.5, 0.5])
    a = xgrad.asarray(values, device=device, requires_grad=True)
    y = a.clone()
    y.fill_(2.0)
    assert y.requires_grad
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 2.0, 2.0])
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 0.0])


def test_recorded_copy_does_not_alias_its_source(device):
    """After ``y.copy_(src)`` recorded by autograd, ``y`` has a buffer of its own: a
    later write into ``src`` (same shape, or 0-d and broadcast) leaves ``y`` alone."""
    x = xgrad.asarray(np.array([[-1.0], [0.5]]), device=device, requires_grad=True)
    y = x.clone()
    src = xgrad.asarray(np.array([[0.5], [-2.0]]), device=device)
    y.copy_(src)
    src.add_(src, alpha=-2)
    np.testing.assert_array_equal(y.detach().numpy(), [[0.5], [-2.0]])
    w = x.clone()
    c = xgrad.asarray(np.array(2.0), device=device)
    w.copy_(c)
    c.mul_(c)
    np.testing.assert_array_equal(w.detach().numpy(), [[2.0], [2.0]])


def setitem_lone_none(L, x, device):
    s = x.sum() * 1             # 0-d
    s[None] = x[0, 0] * 3       # a lone None: the key is not a tuple
    t = x[1, 2] * 2
    t[None, ...] = x[2, 1] ** 2
    y = x * 1
    v = y[None]
    v[0, 1] = x[0] * 0.5        # a write into a view taken with None
    w = y[0][None]
    w[None, 0, 2:] = 4.0
    return s, t, y, v, w


def test_setitem_lone_none_key(device):
    # (array-api-strict refused the lone None key: issue 11, setitem_none)
    _check(setitem_lone_none, device)


def _index(L, values, device, dtype=None):
    if L is torch:
        return torch.tensor(values)
    return xgrad.asarray(values, device=device)


def expanded_advanced_writes(L, x, device, masks=True):
    # PyTorch writes an advanced-key setitem into expanded memory one element after
    # the other: the last write of an element wins, and every value written gets the
    # gradient of its element (overwritten or not)
    c = _zeros(L, (1, 4), device)
    e = c.expand(3, 4)
    e[_index(L, [2, 0], device)] = x[:2] * 2
    b = _zeros(L, (3, 1), device)
    f = b.expand(3, 4)
    if masks:  # (a mask's result has an unknown size on Dask, by design)
        f[_index(L, [[True, False, True, True], [False, False, False, False],
                     [False, True, False, False]], device)] = x[2, :] ** 2 - x[1, :] - 1.0
    d = _zeros(L, (), device)
    d.expand(2)[[0, 1]] = x[1, :2]
    s = _zeros(L, (2, 1), device)
    s.expand(2, 3)[:, [0, 2]] = x[0, 3]      # the basic part overlaps as well
    s.expand(2, 3)[[1], 0] = x[2, 2] * 3     # integer array mixed with an int
    return c, e, b, f, d, s


def test_advanced_setitem_into_expanded(device):
    masks = "dask" not in str(device)
    _check(lambda L, x, d: expanded_advanced_writes(L, x, d, masks), device)


def test_advanced_setitem_into_expanded_graph_base(device):
    # when the expanded base requires grad PyTorch writes but refuses the backward;
    # xgrad gives each value the gradient of its element, as when the base is constant
    results = []
    for L in (torch, xgrad):
        x = _leaf(L, A, device)
        y = x[0:1] * 2
        e = y.expand(2, 4)
        e[_index(L, [1, 0], device)] = x[1:] * 3
        results.append((_np(y), _np(e)))
        if L is xgrad:
            (y * xgrad.asarray(A[0], device=device)).sum().backward()
            expected = np.zeros_like(A)
            expected[1:] = 3 * A[0]
            assert_close(x.grad, expected)
    for e, a in zip(*results):
        assert_close(a, e)


def test_fill_cuts_second_order(device):
    # fill_/zero_ give the old values a zero gradient cut off from the graph (PyTorch's
    # FillBackward): no 0 * inf from a later sqrt_ reaches the second-order gradient
    def program(L, x, device):
        y = x * 1.5
        y.zero_()
        y.sqrt_()
        z = x * 1
        z.fill_(0.0)
        z.sqrt_()
        return L.hypot(y, x), L.hypot(z, x)
    _check(program, device)


def _writes_through_detach(L, x, device):
    # a write into x.detach() reaches x and every view of x, unrecorded in x's graph;
    # a recorded write into a view of the detached tensor d joins d's graph (PyTorch:
    # a view of a non-differentiable view is a differentiable view of it)
    p = x[2, 3] * 1                     # (a value that requires grad)
    y = x * 2
    v = y[1]
    d = y.detach()
    d2 = d[0]                           # taken before the write: gets d's new graph
    w = d[1]
    w.mul_(p)                           # v sees it; d, d2, w join p's graph
    d[2, :2] = p * p
    y.detach()[0][1] = 4.0              # through a temporary detach
    e = d.t()[1:]
    e.add_(p ** 2)
    with L.no_grad():
        d[2, 3] = -1.0                  # unrecorded
    y[2, 2] = x[0, 0] * 3               # a recorded write into y: d sees the value
    return y, v, d, d2, w, e


def test_writes_through_detach(device):
    _check(_writes_through_detach, device)


def test_write_through_detach_of_a_leaf(device):
    def program(L, x, device):
        p = x[0, 0] * 1
        z = x * 1
        d = x.detach()
        d[1].mul_(p)                    # x (a leaf) sees it; its grad_fn stays None
        d[2, 1:3] = 0.5
        return z, d, x[1] * 1
    results = []
    for L in (torch, xgrad):
        x = _leaf(L, A, device)
        outs = program(L, x, device)
        assert x.grad_fn is None and outs[1].requires_grad
        (outs[1] * outs[1]).sum().backward()   # (the graph of d: through p only)
        results.append([_np(o) for o in outs] + [_np(x), _np(x.grad)])
    for e, a in zip(*results):
        assert_close(a, e)


def test_detach_then_expand_write(device):
    def program(L, x, device):
        p = x[0, 0] * 1
        y = x[0:1] * 2
        d = y.detach()
        e = d.expand(3, 4)
        e[_index(L, [0, 2], device)] = p        # joins d's graph, written into y's data
        return y, d, e
    _check(program, device)


def test_scan_result_is_a_new_contiguous_tensor(device):
    # logcumsumexp is a scan along the last axis moved back: its result is a new tensor
    # (contiguous, as PyTorch's), so reshape views it and writes reach both
    def program(L, x, device, clone=False):
        v3 = L.logcumsumexp(x * 1.5, 0)
        if clone:  # (PyTorch refuses the backward: logcumsumexp saved its output)
            v3 = v3.clone()
        assert v3.is_contiguous()
        v4 = v3.reshape(12, 1)
        v5 = v3.view(-1)
        v3.pow_(2)
        v5[1] = x[0, 0] * 3
        return v3, v4, v5
    _check(program, device, torch_program=lambda L, x, device: program(L, x, device, True))


def _dual_outputs(L, device, program):
    fw = L.autograd.forward_ad
    x = np.arange(6.0).reshape(2, 3) / 5
    t = 1.0 + np.arange(6.0).reshape(2, 3) / 10
    if L is torch:
        xs, ts = torch.tensor(x), torch.tensor(t)
    else:
        xs, ts = xgrad.asarray(x.copy(), device=device), xgrad.asarray(t, device=device)
    with fw.dual_level():
        xd = fw.make_dual(xs, ts)
        outs = program(L, xd, device)
        result = []
        for o in outs:
            primal, tangent = fw.unpack_dual(o)
            result.append((_np(primal), None if tangent is None else _np(tangent)))
        result.append((_np(xs), None if fw.unpack_dual(xs).tangent is None else 1))
    return result


def _forward_writes(L, xd, device):
    y = xd * 1
    v, w = y[0], y[:, 1]
    v.mul_(2)                       # y's tangent (and w's) follow v's
    z = xd * 2
    r = z.t()[1:]
    r.sin_()                        # a view of a view
    q = z[1]
    q[0:2] = xd[0, 1:] ** 2         # setitem into a view
    c = _zeros(L, (3,), device)
    u = c[1:]
    u.copy_(xd[0, :2] * 3)          # a root without a tangent gets zeros elsewhere
    s = xd[0]
    xd[1, 1] = 5.0                  # the dual itself: its views follow, its primal gets none
    b = xd * 1
    p = b[1]
    b.add_(xd)                      # a write into the root: its views follow
    return y, v, w, z, r, q, c, u, xd, s, b, p


def test_forward_mode_writes_into_views(device):
    expected = _dual_outputs(torch, None, _forward_writes)
    actual = _dual_outputs(xgrad, device, _forward_writes)
    for (ep, et), (ap, at) in zip(expected, actual):
        assert_close(ap, ep)
        if et is None:
            assert at is None or not np.any(at)
        else:
            assert at is not None
            assert_close(at, et)


def test_jvp_through_writes_into_views(device):
    def f(L):
        def fn(x):
            y = x * 2
            y[0].mul_(x[1])
            y[:, 1:].exp_()
            return y
        return fn
    x = np.arange(6.0).reshape(2, 3) / 5
    t = np.ones((2, 3))
    ref = torch.func.jvp(f(torch), (torch.tensor(x),), (torch.tensor(t),))
    got = xgrad.func.jvp(f(xgrad), (xgrad.asarray(x.copy(), device=device),),
                         (xgrad.asarray(t, device=device),))
    assert_close(got[0], _np(ref[0]))
    assert_close(got[1], _np(ref[1]))


def _strided_views(L, x, device):
    # view_as_real, view_as_complex and unfold are views (PyTorch reinterprets strides)
    y = x * 1
    c = L.view_as_complex(y.reshape(3, 2, 2))
    r = L.view_as_real(c)
    c[1, 0] = c[1, 0] * (2 - 1j)           # through the complex view: y and r see it
    r[2, 1, 0] = x[0, 0] * 3               # through the real view of the complex view
    y[0, 3] = x[1, 1] ** 2                 # into the base: c and r see it
    u = y.unfold(1, 2, 2)                  # windows that do not overlap
    u[1].mul_(x[2, 0])
    w = y.unfold(1, 3, 1)                  # overlapping windows: read, and filled
    w[0].fill_(0.25)
    g = y.t().unfold(0, 1, 3)              # with gaps, of a transposed view
    g.add_(x[0, 1])
    return y, L.view_as_real(c * 1), r, u, w, g


def test_strided_views(device):
    _check(_strided_views, device)


def test_strided_view_layouts(device):
    for L in (torch, xgrad):
        x = L.zeros((4, 6), dtype=L.float64) if L is torch else \
            xgrad.zeros((4, 6), dtype=xgrad.float64, device=device)
        assert x.unfold(1, 2, 2).is_contiguous() and not x.unfold(0, 2, 2).is_contiguous()
        x.unfold(1, 2, 2).reshape(-1)[0] = 1.0   # a view of a view
        x.unfold(0, 2, 2).reshape(-1)[1] = 2.0   # a copy (PyTorch's reshape too)
        assert x[0, 0].item() == 1.0 and x[0, 1].item() == 0.0
        assert L.view_as_real(L.view_as_complex(x.reshape(4, 3, 2))).is_contiguous()
        with pytest.raises(RuntimeError, match="last dimension with stride 1"):
            L.view_as_complex(x.reshape(4, 2, 3).transpose(1, 2))
    # a write into overlapping windows: PyTorch's result depends on the order it walks
    # memory (each element multiplied once or twice); xgrad refuses it, as for expansions
    x = xgrad.zeros((4, 6), dtype=xgrad.float64, device=device)
    with pytest.raises(RuntimeError, match="more than one element"):
        x.unfold(1, 3, 1).mul_(2)


def _fills_into_expansions(L, x, device, masks=True):
    # index_fill_, masked_fill_ and index_put_ into an expansion: PyTorch writes them
    # (with a deprecation warning) as the setitem they amount to
    c = _zeros(L, (), device)
    c.expand(2).index_fill_(-1, _index(L, [0, 1], device), -0.5)
    # (each into a base that does not require grad yet: PyTorch refuses the backward else)
    b = _zeros(L, (1, 3), device)
    b.expand(2, 3).index_fill_(1, _index(L, [2], device), x[0, 0] * 2)
    f = _zeros(L, (1, 3), device)
    e = f.expand(2, 3)
    if masks:  # (a mask's result has an unknown size on Dask, by design)
        e.masked_fill_(_index(L, [[True, False, False], [False, False, True]], device), x[1, 1])
    d = _zeros(L, (3, 1), device)
    d.expand(3, 2).index_put_((_index(L, [0, 1], device),), x[2, :2] * 3)
    a = _zeros(L, (1, 4), device)
    a.expand(3, 4).index_put_((_index(L, [0, 2, 2], device),), x, accumulate=True)
    return c, b, f, e, d, a


def test_fills_into_expansions(device):
    masks = "dask" not in str(device)
    _check(lambda L, x, d: _fills_into_expansions(L, x, d, masks), device)
