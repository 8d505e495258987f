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
    # vector_norm with dim=0 of a 0-d tensor (fixed in ops/linalg.py)
    (set(), """
x1 = torch.tensor(-1.41, dtype=torch.float64, requires_grad=True)
v2 = x1[...]
v3 = torch.linalg.vector_norm(v2, ord=2, dim=0, keepdim=True)
"""),
]


@pytest.mark.parametrize("case", range(len(REGRESSIONS)))
def test_regressions(device, case):
    features, body = REGRESSIONS[case]
    program = tp.program_from_text(body, features)
    off = tp.excluded(_device_type(device))
    hit = sorted(set(features) & set(off))
    if hit:
        pytest.skip(f"uses excluded feature(s) {hit} on {device}")
    _check(program, device)
