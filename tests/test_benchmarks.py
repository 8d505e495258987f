"""The benchmark harness's bookkeeping: peers that cannot run are reported with the
reason (never dropped), a compiled peer with a wrong answer is not timed, and the
process pin holds for threads started later. No timing is asserted."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import workloads as W  # noqa: E402
from benchmarks._harness import format_floor_table, measure  # noqa: E402


def test_unavailable_peer_is_listed_with_its_reason():
    peers = {"numpy": lambda: None, "xgrad": lambda: None,
             "jax.jit": W.Unavailable("not installed")}
    r = measure("W0 demo", peers, repeats=1, min_time=0.0)
    assert set(r.times) == {"numpy", "xgrad"} and r.missing == {"jax.jit": "not installed"}
    table = format_floor_table([r], ["numpy", "xgrad", "jax.jit"])
    assert "| n/a |" in table
    assert "* jax.jit: not installed (W0 demo)" in table
    assert "x)" in table  # xgrad's ratio to the floor


def test_wrong_compiled_peer_is_reported_not_timed():
    ref = [np.ones(3)]
    peers = {"numpy": lambda: ref, "xgrad": lambda: [np.ones(3)],
             "xgrad.compile": lambda: [np.zeros(3)]}
    W._finish("W0", peers, ref)
    assert isinstance(peers["xgrad.compile"], W.Unavailable)
    assert "differs from the floor" in peers["xgrad.compile"].reason
    with pytest.raises(AssertionError, match="differs from the floor"):
        W._finish("W0", {"numpy": lambda: ref, "torch": lambda: [np.zeros(3)]}, ref)


def test_compiled_peer_is_called_three_times_before_its_check():
    calls = []

    def replay():
        calls.append(1)
        return [np.ones(3) if len(calls) == 3 else np.zeros(3)]
    peers = {"numpy": None, "xgrad.compile": replay}
    W._finish("W0", peers, [np.ones(3)])
    assert peers["xgrad.compile"] is replay and len(calls) == 3


def test_left_out_compiled_peers_keep_a_reason():
    peers = W.build_w1(np, "cpu", "cpu", compiled={"xgrad.compile": None,
                                                     "torch.compile": "not here",
                                                     "jax.jit": "nor here"})
    assert peers["torch.compile"].reason == "not here" and peers["jax.jit"].reason == "nor here"
    assert "xgrad.compile" in peers  # timed, or Unavailable with its reason


def test_pin_one_core_covers_later_threads():
    code = ("import threading, os\n"
            "from benchmarks.__main__ import pin_one_core\n"
            "core = pin_one_core()\n"
            "seen = []\n"
            "t = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))\n"
            "t.start(); t.join()\n"
            "assert os.sched_getaffinity(0) == {core} == seen[0], (core, seen)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=120)


def test_failing_compiled_peer_does_not_end_the_run():
    def broken():
        raise ReferenceError("weakly-referenced object no longer exists")
    r = measure("W0 demo", {"numpy": lambda: None, "xgrad.compile": broken},
                repeats=1, min_time=0.0)
    assert set(r.times) == {"numpy"}
    assert r.missing["xgrad.compile"].startswith("failed: ReferenceError")
    with pytest.raises(ReferenceError):
        measure("W0 demo", {"numpy": lambda: None, "xgrad": broken}, repeats=1, min_time=0.0)
