"""W5: memory over 200 training steps of W2-large (1024-1024-1024-10, batch 256).

Each peer runs in a fresh subprocess (``python -m benchmarks.memory PEER STEPS``)
so that one's allocations cannot hide another's. Every step is forward,
backward and an SGD update. Per step we record:

* ``rss``: the resident set size after the step (``/proc/self/statm``);
* ``peak_rss``: the largest resident set seen during the step, sampled by a
  thread every 0.5 ms: the peak inside a step, where graph and gradients live;
* ``traced`` / ``traced_peak`` (NumPy-based peers only, from a second run): the
  bytes NumPy has allocated after the step and at the step's peak, from
  ``tracemalloc`` (NumPy reports its array buffers to it; PyTorch does not);
  ``traced_start``: the bytes alive when the step began, so
  ``traced_peak - traced_start`` is what the step allocated on top of what it
  found (its new memory: for ``xgrad.compile``'s steady-state replays, which
  reuse their buffers, it should be nothing but a few Python objects).

"Flat" means the numbers at the last step equal those after the first few.

The ``xgrad.compile`` peer compiles the same step (forward, ``autograd.grad``,
the SGD update under ``no_grad``) and is left out, with the reason, where this
tree has no ``xgrad.compile``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

SIZES = (1024, 1024, 1024, 10)
BATCH = 256
PEERS = ("numpy", "xgrad", "xgrad.compile", "torch")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _step_fn(peer):
    """One SGD step of W2-large for ``peer``, as a no-argument function."""
    import numpy as np
    from . import workloads as W
    params0, x0, y0 = W.mlp_data(SIZES, BATCH)
    lr = np.float32(0.01)
    if peer == "numpy":
        params = [p.copy() for p in params0]

        def step():
            _, grads = W.mlp_floor_grad(np, params, x0, y0)
            for p, g in zip(params, grads):
                p -= lr * g
        return step
    if peer == "xgrad":
        import xgrad
        params = [xgrad.asarray(p.copy()).requires_grad_() for p in params0]
        x, y = xgrad.asarray(x0), xgrad.asarray(y0)

        def step():
            W.mlp_loss_xgrad(params, x, y).backward()
            with xgrad.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
        return step
    if peer == "xgrad.compile":
        import xgrad
        if getattr(xgrad, "compile", None) is None:
            raise RuntimeError("not available: this tree has no xgrad.compile")
        params = [xgrad.asarray(p.copy()).requires_grad_() for p in params0]
        x, y = xgrad.asarray(x0), xgrad.asarray(y0)

        @xgrad.compile
        def compiled_step(x, y, *params):
            grads = xgrad.autograd.grad(W.mlp_loss_xgrad(params, x, y), params)
            with xgrad.no_grad():
                for p, g in zip(params, grads):
                    p -= lr * g
        return lambda: compiled_step(x, y, *params)
    if peer == "torch":
        import torch
        torch.set_num_threads(1)
        params = [torch.tensor(p, requires_grad=True) for p in params0]
        x, y = torch.tensor(x0), torch.tensor(y0)

        def step():
            W.mlp_loss_torch(torch, params, x, y).backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
        return step
    raise ValueError(f"unknown peer {peer!r}")


class _RssSampler:
    """A thread that reads the resident set size every ``interval`` seconds and keeps
    the largest value since the last ``take()``: the peak inside a step, for every
    peer alike (NumPy, BLAS and PyTorch release the GIL while they compute)."""

    def __init__(self, interval=0.0005):
        import threading
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval):
        while not self._stop.wait(interval):
            rss = _rss()
            if rss > self.peak:
                self.peak = rss

    def take(self) -> int:
        peak, self.peak = max(self.peak, _rss()), _rss()
        return peak

    def stop(self):
        self._stop.set()
        self._thread.join()


def run_peer(peer: str, steps: int, mode: str = "rss") -> dict:
    """Run ``steps`` steps here and return the per-step series: RSS after each step and
    its peak during the step (``mode="rss"``), or NumPy's traced bytes (``"traced"``;
    tracemalloc's own bookkeeping inflates the RSS, hence the separate run)."""
    import tracemalloc
    step = _step_fn(peer)
    series = {"rss": [], "peak_rss": [], "traced": [], "traced_peak": [], "traced_start": []}
    before = _rss()
    if mode == "traced":
        tracemalloc.start()
        for _ in range(steps):
            tracemalloc.reset_peak()
            series["traced_start"].append(tracemalloc.get_traced_memory()[0])
            step()
            current, peak = tracemalloc.get_traced_memory()
            series["traced"].append(current)
            series["traced_peak"].append(peak)
        tracemalloc.stop()
    else:
        sampler = _RssSampler()
        for _ in range(steps):
            step()
            series["rss"].append(_rss())
            series["peak_rss"].append(sampler.take())
        sampler.stop()
    return {"peer": peer, "steps": steps, "before": before, "maxrss": _maxrss(),
            "series": series}


def measure(steps: int = 200, peers=PEERS) -> list:
    """Run each peer in its own subprocesses (an RSS run, and for NumPy-based peers a
    tracemalloc run); skip a peer whose library is missing."""
    results = []
    for peer in peers:
        result = None
        for mode in ("rss", "traced") if peer != "torch" else ("rss",):
            proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", peer, str(steps),
                                   mode], capture_output=True, text=True)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
                print(f"W5: {peer} failed: {last}", file=sys.stderr)
                results.append({"peer": peer, "error": last})
                result = None
                break
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            if result is None:
                result = run
            else:
                for key in ("traced", "traced_peak", "traced_start"):
                    result["series"][key] = run["series"][key]
        if result is not None:
            results.append(result)
    return results


def summarize(result: dict) -> dict:
    """Peak growth over the pre-training footprint, and drift between early and last steps;
    ``step_new_KiB``: the median, over the second half of the steps, of what one step
    allocated on top of what it found (traced peak minus traced bytes at its start)."""
    if "error" in result:
        return {"peer": result["peer"], "error": result["error"]}
    s, before = result["series"], result["before"]
    early = min(10, len(s["rss"]) - 1)
    out = {
        "peer": result["peer"],
        "peak_growth_MiB": (max(s["peak_rss"]) - before) / 2**20,
        "peak_drift_MiB": (s["peak_rss"][-1] - s["peak_rss"][early]) / 2**20,
        "rss_drift_MiB": (s["rss"][-1] - s["rss"][early]) / 2**20,
    }
    if s["traced"]:
        out["traced_peak_MiB"] = max(s["traced_peak"]) / 2**20
        out["traced_drift_MiB"] = (s["traced"][-1] - s["traced"][early]) / 2**20
        out["traced_peak_drift_MiB"] = (s["traced_peak"][-1] - s["traced_peak"][early]) / 2**20
        if s.get("traced_start"):
            half = len(s["traced_peak"]) // 2
            new = sorted(p - b for p, b in zip(s["traced_peak"][half:], s["traced_start"][half:]))
            out["step_new_KiB"] = new[len(new) // 2] / 2**10
    return out


if __name__ == "__main__":
    print(json.dumps(run_peer(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])))
