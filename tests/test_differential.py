"""Differential test: random PyTorch programs, run on PyTorch and on xgrad, must agree.

Each program (tests/_torch_programs.py) is text that uses only the name ``torch``;
it runs once on PyTorch (the oracle) and once with ``import xgrad as torch`` on
the device under test. Values, shapes, dtypes, ``requires_grad``, first- and
second-order gradients are compared in float64 (tolerances: ``RTOL`` and
``ATOL_SCALE`` in _torch_programs.py, justified there).

* CI: ``XGRAD_DIFF_EXAMPLES`` programs per device (default 200), derandomized.
* Long run: ``XGRAD_DIFF_EXAMPLES=5000 pytest tests/test_differential.py
  --xgrad-device=cpu`` (random seeds then), or the command line
  ``python tests/_torch_programs.py --device strict --count 2000`` which counts
  every difference instead of stopping at the first.
* A failure prints the shrunk program, runnable on both libraries.
* Features a device cannot run yet are switched off by name (``EXCLUSIONS`` in
  _torch_programs.py, listed with reasons in docs/differential.md); the list is
  printed by ``test_exclusions_are_reported``.
"""

import os

import pytest

pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import _torch_programs as tp  # noqa: E402

EXAMPLES = int(os.environ.get("XGRAD_DIFF_EXAMPLES", "200"))
LONG_RUN = EXAMPLES >= 1000  # long runs draw new programs each time; CI runs a fixed set


def _device_type(device) -> str:
    return str(device).partition(":")[0]


def _check(program, device):
    diffs = tp.compare(program, device)
    if diffs:
        raise AssertionError(f"{len(diffs)} difference(s) from PyTorch on {device}:\n"
                             + "\n".join(diffs) + "\n\nreproduction:\n" + tp.reproduction(program, device))


def test_random_programs(device):
    """Random programs with views, in-place writes, indexing, linear algebra and PyTorch's functions."""
    dtype = _device_type(device)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG_RUN,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.data())
    def run(data):
        program = tp.generate(tp.HypothesisChooser(data), dtype)
        _check(program, device)

    run()


def test_exclusions_are_reported(device, capsys):
    """The features switched off on this device, printed (never a silent skip)."""
    off = tp.excluded(_device_type(device))
    with capsys.disabled():
        print(f"\n[differential] {device}: {len(off)} feature(s) excluded from generation"
              + "".join(f"\n  - {k}: {v}" for k, v in off.items()))
    assert set(off) <= set(tp.FEATURES)


# Shrunk programs that once differed from PyTorch: (features used, program body). The
# harness is added; the inputs are the x names created with requires_grad=True.
REGRESSIONS: list[tuple[set, str]] = [
    # view_write_to_base (views; found by the generator, fixed by its owner)
    (set(), """
x2 = torch.tensor([[-0.21], [0.37], [-0.05]], dtype=torch.float64, requires_grad=True)
v4 = x2 * 2
v5 = v4.squeeze()
v5.sigmoid_()
"""),
    # base_write_to_view (views; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[1.5, -1.2], [0.3, 0.7]], dtype=torch.float64, requires_grad=True)
v5 = x1 @ x1
v7 = v5[:, None, :]
v5.fill_(3.0)
"""),
    # transpose_view_clamp_ (views; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[0.69, 1.85], [1.95, -0.97]], dtype=torch.float64, requires_grad=True)
v2 = x1.pow(3)
v3 = v2.T
v3.clamp_(-0.5, 0.5)
"""),
    # view_setitem_int_array (views; found by the generator, fixed by its owner)
    (set(), """
x2 = torch.tensor([[0.46, 0.54], [1.31, 1.46]], dtype=torch.float64, requires_grad=True)
v3 = torch.log(x2 * x2 + 1)
v6 = v3.view(-1)
v6[torch.tensor([-4, 3])] = -1.5
"""),
    # copy_const_keeps_requires_grad (views; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor(1.41, dtype=torch.float64, requires_grad=True)
v2 = x1.clone()
v2.copy_(2.0)
"""),
    # int_then_slice_then_array_key (indexing; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[[0.91, 0.62, 0.1, 0.2], [1.31, 0.6, 0.3, 0.4]]], dtype=torch.float64, requires_grad=True)
v6 = x1[0, 1:, torch.tensor([0, 2, 3])]
"""),
    # std_default_correction (faces; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[-0.27], [1.69], [-0.06]], dtype=torch.float64, requires_grad=True)
v4 = torch.std(x1)
"""),
    # cumsum_of_0d (faces; found by the generator, fixed by its owner)
    (set(), """
x9 = torch.tensor(-0.82, dtype=torch.float64, requires_grad=True)
v11 = x9.cumprod(0)
v12 = torch.cumsum(x9, 0)
"""),
    # movedim_of_0d (shape-api; found by the generator, fixed by its owner)
    (set(), """
x3 = torch.tensor(-0.22, dtype=torch.float64, requires_grad=True)
v5 = torch.movedim(x3, -1, 0)
"""),
    # where_two_scalars_dtype (dtypes; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([1.41], dtype=torch.float64, requires_grad=True)
v4 = torch.where(x1 > 3.0, 3.0, 0.5)
"""),
    # gelu_second_derivative (math-api; found by the generator, fixed by its owner)
    (set(), """
x2 = torch.tensor([[-0.21], [0.37], [-0.05]], dtype=torch.float64, requires_grad=True)
v9 = torch.nn.functional.gelu(x2)
"""),
    # int_bool_operands_strict (dtypes; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([-1.96, -0.43, 1.73], dtype=torch.float64, requires_grad=True)
v3 = (x1 > 0.3) + x1
v4 = x1 * (x1 > 0)
v5 = x1 + torch.arange(3)
v6 = x1 / torch.tensor(2)
"""),
    # slice_out_of_range_strict (indexing; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[0.48, 1.75]], dtype=torch.float64, requires_grad=True)
v2 = x1[-2:, 1:5]
"""),
    # bool_mask_setitem_strict (indexing; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[0.48, -1.75], [1.5, 0.2]], dtype=torch.float64, requires_grad=True)
v2 = x1 * 2
v2[v2 > 0] = 0.5
v3 = x1[torch.tensor([True, False])]
"""),
    # int_array_setitem_strict (indexing; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[0.48, -1.75], [1.5, 0.2]], dtype=torch.float64, requires_grad=True)
v2 = x1 * 2
v2[torch.tensor([1, 0]), 1] = x1[0]
v3 = x1[:, torch.tensor([1, 1])]
"""),
    # saved_const_written (views; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[1.76, -0.67], [-1.63, 0.64]], dtype=torch.float64, requires_grad=True)
v3 = x1.flatten()
c4 = torch.tensor(0.05, dtype=torch.float64)
v8 = torch.hypot(c4, v3)
c4.neg_()
"""),
    # write_empty_region_of_expanded (views; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[-0.31, 0.6, 0.26]], dtype=torch.float64, requires_grad=True)
v3 = x1 * 2
v5 = v3.expand(2, 3)
v5[:, 3:] = 1.0
"""),
    # setitem_slice_out_of_range_strict (views/indexing; found by the generator, fixed by its owner)
    (set(), """
x1 = torch.tensor([[1.17, 0.32, -1.86], [-0.23, -0.89, -1.53]], dtype=torch.float64, requires_grad=True)
v3 = torch.atan(x1)
v3[-5:-1, 1] = 0.5
"""),
    # prod over dim 0 of a 0-d tensor, differentiated twice (fixed in ops/reductions.py)
    (set(), """
x2 = torch.tensor(1.81, dtype=torch.float64, requires_grad=True)
x4 = torch.tensor(0.99, dtype=torch.float64, requires_grad=True)
v5 = torch.minimum(x4, x2)
v7 = v5.prod(0)
"""),
    # dim 0 / -1 of a 0-d tensor: mean, var, std, cumsum, cumprod, flip (fixed in
    # ops/reductions.py and ops/manipulation.py); var of one element: nan, not ZeroDivisionError
    (set(), """
x7 = torch.tensor(-0.92, dtype=torch.float64, requires_grad=True)
v1 = torch.mean(x7, dim=-1)
v2 = x7.var(0)
v3 = torch.std(x7, dim=-1)
v4 = x7.cumprod(-1)
v5 = torch.cumsum(x7 * x7, 0)
v6 = torch.flip(x7, dims=(0,))
"""),
    # linalg.vecdot broadcasting a 0-d operand or a size-1 axis (fixed in ops/linalg.py)
    (set(), """
x2 = torch.tensor([[[-1.74], [1.2], [-0.16]], [[-1.63], [0.25], [1.38]]], dtype=torch.float64, requires_grad=True)
x4 = torch.tensor(1.16, dtype=torch.float64, requires_grad=True)
x5 = torch.tensor([0.5, -0.3], dtype=torch.float64, requires_grad=True)
v5 = torch.linalg.vecdot(x2, x4)
v6 = torch.linalg.vecdot(x4, x4)
v7 = torch.linalg.vecdot(x2, x5)
"""),
    # tensordot broadcasts a contracted dimension of size 1, as PyTorch (fixed in ops/linalg.py)
    (set(), """
x1 = torch.tensor([[[1.4, 0.55]]], dtype=torch.float64, requires_grad=True)
x2 = torch.tensor([[0.3, -1.2, 0.7]], dtype=torch.float64, requires_grad=True)
v3 = torch.tensordot(x1, x1, dims=1)
v4 = torch.tensordot(x2.mT, x2, dims=1)
"""),
    # std where the values are all equal: gradient 0 as PyTorch, not nan (ops/reductions.py)
    (set(), """
x1 = torch.tensor(-0.95, dtype=torch.float64, requires_grad=True)
v6 = x1.expand(2)
v7 = torch.std(v6, dim=-1)
x2 = torch.tensor([[0.5, 0.5], [0.3, -0.2]], dtype=torch.float64, requires_grad=True)
v8 = x2.std(dim=1)
"""),
    # vector_norm with dim=0 of a 0-d tensor (fixed in ops/linalg.py)
    (set(), """
x1 = torch.tensor(-1.41, dtype=torch.float64, requires_grad=True)
v2 = x1[...]
v3 = torch.linalg.vector_norm(v2, ord=2, dim=0, keepdim=True)
"""),
    # huber_second_derivative_at_zero_residual: smooth_l1_loss/huber_loss where input == target
    # (second derivative 1/beta, PyTorch's quadratic branch; fixed in nn/functional.py)
    ({"huber_zero_residual"}, """
x1 = torch.tensor([0.66, 1.4, -1.12], dtype=torch.float64, requires_grad=True)
c3 = torch.tensor(-1.12, dtype=torch.float64)
v4 = torch.nn.functional.smooth_l1_loss(x1, c3)
v5 = torch.nn.functional.huber_loss(x1, c3)
"""),
    # cosine_similarity_broadcast: F.cosine_similarity(x (4,), y 0-d): the norms are those of
    # the broadcast tensors (fixed in nn/functional.py)
    ({"cosine_broadcast"}, """
x1 = torch.tensor([-0.29, -1.83, 0.82, -1.24], dtype=torch.float64, requires_grad=True)
c3 = torch.tensor(0.88, dtype=torch.float64)
v4 = torch.nn.functional.cosine_similarity(x1, c3, dim=-1)
"""),
    # gaussian_nll_var_broadcast: var (1, 2, 1) for an input (2, 2, 1), as PyTorch accepts it
    # (fixed in nn/functional.py)
    (set(), """
x2 = torch.tensor([[[-1.24], [-1.73]], [[-0.27], [-0.59]]], dtype=torch.float64, requires_grad=True)
x4 = torch.tensor([[[-1.85], [-1.35]], [[1.71], [1.9]]], dtype=torch.float64, requires_grad=True)
x5 = torch.tensor([[[-1.81], [-1.04]]], dtype=torch.float64, requires_grad=True)
v6 = torch.nn.functional.gaussian_nll_loss(x2, x4, x5 * x5 + 0.5)
"""),
    # masked_fill_broadcast_mask: x.masked_fill(mask, v) with a mask of more dims than x: the
    # broadcast shape, as PyTorch (fixed in _torch_shape.py)
    ({"masked_fill_broadcast"}, """
x1 = torch.tensor([1.89], dtype=torch.float64, requires_grad=True)
x8 = torch.tensor(-1.06, dtype=torch.float64, requires_grad=True)
v9 = x8.masked_fill(x8 < x1, 0.25)
"""),
    # log_softmax_of_empty: softmax/log_softmax over an empty dim, of a 0-d tensor with dim 0,
    # logsumexp of nothing (-inf), trapezoid over an empty dim (new zeros) (fixed in ops/nn.py,
    # _torch_shape.py)
    ({"size_zero"}, """
x2 = torch.tensor([-1.75, 0.5], dtype=torch.float64, requires_grad=True)
v4 = x2[x2 > 3.0]
v8 = torch.nn.functional.log_softmax(v4, dim=-1)
v9 = torch.softmax(v4, 0)
v10 = torch.logsumexp(v4, 0)
v11 = torch.nn.functional.log_softmax(x2[0], dim=0)
v12 = torch.trapezoid(x2[2:], dim=-1)
"""),
    # detach_shares_data: a write into x.detach() reaches x; recorded on the detached tensor
    # (views; fixed in _views.py)
    ({"write_detached"}, """
x1 = torch.tensor([1.36, 0.93, 1.37, -1.52], dtype=torch.float64, requires_grad=True)
v3 = x1.detach()
x4 = torch.tensor([0.04], dtype=torch.float64, requires_grad=True)
v3[None, -2] = x4
"""),
    # reshape_after_scan_is_a_copy: logcumsumexp's result is a new, contiguous tensor, so
    # reshape views it (views; fixed in _views.fresh, ops/scans.py)
    (set(), """
x1 = torch.tensor([[1.82, -1.73, -0.41], [0.93, 0.08, -1.89]], dtype=torch.float64, requires_grad=True)
v3 = torch.logcumsumexp(x1 * 1.5, 0)
v4 = v3.reshape(6, 1)
v3.pow_(2)
"""),
    # advanced_setitem_into_expanded: an integer-array write into an expansion, last write
    # wins (views; fixed in _views.py)
    ({"write_into_expanded"}, """
x1 = torch.tensor(0.04, dtype=torch.float64, requires_grad=True)
c2 = torch.tensor(1.03, dtype=torch.float64)
v4 = c2.expand(2)
v4[[0, 1]] = x1
"""),
    # setitem_none_key_strict: None in setitem keys, a lone None into a 0-d tensor (strict;
    # fixed in ops/indexing.py)
    ({"setitem_none"}, """
x1 = torch.tensor([-1.09, 0.54], dtype=torch.float64, requires_grad=True)
v2 = x1 * 2
v2[None, 0] = 0.0
v3 = torch.zeros((), dtype=torch.float64)
x4 = torch.tensor(-0.81, dtype=torch.float64, requires_grad=True)
v3[None] = x4
"""),
    # zero_then_sqrt_second_order: zero_ cuts the old values' gradient off the graph, so a
    # later sqrt_ gives no 0 * inf at second order (views; fixed in _views.FILL)
    (set(), """
x2 = torch.tensor([[-1.89, -0.02, -1.24, -0.66], [0.43, -0.53, -0.04, -1.04]], dtype=torch.float64, requires_grad=True)
v3 = x2 * 1.5
v3.zero_()
v3.sqrt_()
v4 = torch.hypot(v3, x2)
"""),
    # copy_from_0d_aliases: a recorded copy_ gets a buffer of its own (views; lead)
    ({"copy_from_0d"}, """
x1 = torch.tensor([[[-0.73], [1.77], [1.83], [-1.35]]], dtype=torch.float64, requires_grad=True)
v2 = torch.nn.functional.mish(x1)
c3 = torch.tensor(-1.59, dtype=torch.float64)
v2.copy_(c3)
c3 *= c3
"""),
    # fill_then_sqrt_nan_gradient: fill_ cuts the gradient (views; 1188891)
    (set(), """
x1 = torch.tensor([1.66, 0.58, -0.47, -1.11], dtype=torch.float64, requires_grad=True)
v2 = x1 * 2
v2.fill_(0.0)
v2.sqrt_()
"""),
    # zero_gives_negative_zero: zero_ gives +0.0 (views; 1188891)
    (set(), """
x1 = torch.tensor([[0.65, -0.9], [-1.93, 0.01]], dtype=torch.float64, requires_grad=True)
x2 = torch.tensor([1.31, -1.64], dtype=torch.float64, requires_grad=True)
v3 = torch.sum(x1)
v3.zero_()
v5 = torch.copysign(x2, v3)
"""),
    # fill_then_hypot_nan_gradient: as fill_then_sqrt (views; 1188891)
    (set(), """
x1 = torch.tensor([-1.77, 1.97, 0.7], dtype=torch.float64, requires_grad=True)
v2 = x1.clone()
v2.fill_(0.0)
v4 = torch.hypot(v2, v2)
"""),
    # cond_of_empty: linalg.cond of an empty (batch of) matrices is 0, a constant (lead)
    ({"linalg"}, """
x1 = torch.zeros((3, 0, 1), dtype=torch.float64, requires_grad=True)
v4 = torch.linalg.cond((x1 @ x1.mT + torch.eye(0, dtype=torch.float64)))
"""),
    # flip_of_detached_aliases: NumPy's flip is a view of its input; written later through
    # detach(), the input changed the flipped result (lead: non-view ops never return a view
    # of an input's memory)
    (set(), """
x2 = torch.tensor([-1.54, 0.25], dtype=torch.float64, requires_grad=True)
v3 = x2.clone()
v5 = v3.detach()
v7 = torch.flip(v5, dims=(-1,))
v8 = torch.rot90(v3.reshape(1, 2))
v5 /= 4
"""),
    # rms_norm_rounding: x * rsqrt(mean(x^2) + eps) as PyTorch computes it (x / sqrt(...)
    # gave -1.0 where PyTorch gives -0.9999999999999999; frac makes it visible) (lead)
    (set(), """
x2 = torch.tensor([-1.58], dtype=torch.float64, requires_grad=True)
v8 = torch.nn.functional.rms_norm(x2, (1,))
v11 = torch.frac(v8[0])
"""),
]


@pytest.mark.parametrize("case", range(len(REGRESSIONS)))
def test_regressions(device, case):
    features, body = REGRESSIONS[case]
    program = tp.program_from_text(body, features)
    off = tp.excluded(_device_type(device))
    hit = sorted(program.features & set(off))  # (declared, and read from the text)
    if hit:
        pytest.skip(f"uses excluded feature(s) {hit} on {device}")
    _check(program, device)
