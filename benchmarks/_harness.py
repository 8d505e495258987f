"""Timing: peers of one workload measured interleaved, medians of repeats."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    """One workload's medians: ``times[peer]`` in seconds per call (divided by ``per``)."""

    workload: str
    times: dict = field(default_factory=dict)
    unit: str = "ms"
    per: int = 1           # W1 reports per op: the chain's length
    note: str = ""
    missing: dict = field(default_factory=dict)  # peer -> why it did not run

    def scaled(self, peer: str) -> float:
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[self.unit]
        return self.times[peer] / self.per * scale


def _calibrate(fn, min_time: float, clock) -> int:
    """How many calls make one sample last at least ``min_time`` seconds."""
    n = 1
    while True:
        start = clock()
        for _ in range(n):
            fn()
        elapsed = clock() - start
        if elapsed >= min_time or n >= 1 << 20:
            return n
        n = max(n * 2, int(n * min_time / max(elapsed, 1e-9) * 1.2))


def measure(workload: str, peers: dict, *, repeats: int, min_time: float, unit="ms", per=1,
            note="", sync=None, clock=time.perf_counter) -> Result:
    """Time every callable in ``peers`` (name -> fn()) ``repeats`` times, interleaved:
    one sample of each peer in turn, so drifts of the machine hit all of them alike.

    ``sync`` (GPU) is called after each sample's calls, inside the timed region.
    ``clock``: wall time by default; ``time.process_time`` (the CPU time of this
    process) on a machine shared with other jobs, where wall time counts their turns.
    """
    missing = {name: fn.reason for name, fn in peers.items() if hasattr(fn, "reason")}
    peers = {name: fn for name, fn in peers.items() if name not in missing}
    loops = {}
    for name, fn in list(peers.items()):
        try:
            for _ in range(3):  # warm up: imports, caches, BLAS buffers, compiled traces
                fn()
            if sync:
                sync()
            loops[name] = _calibrate(fn, min_time, clock)
        except Exception as exc:
            if not optional(name):
                raise
            missing[name] = _reason(exc)
            del peers[name]
    samples = {name: [] for name in peers}
    gc_was_enabled = gc.isenabled()
    gc.collect()
    try:
        for _ in range(repeats):
            for name, fn in peers.items():
                n = loops[name]
                if name in missing:
                    continue
                gc.disable()  # collections land on whichever peer runs then: keep them out
                try:
                    start = clock()
                    for _ in range(n):
                        fn()
                    if sync:
                        sync()
                    samples[name].append((clock() - start) / n)
                except Exception as exc:
                    if not optional(name):
                        raise
                    missing[name] = _reason(exc) + " (while timing)"
                if gc_was_enabled:
                    gc.enable()
                gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return Result(workload, {k: statistics.median(v) for k, v in samples.items()
                             if k not in missing}, unit, per, note, missing)


def optional(peer: str) -> bool:
    """The compiled peers: one that fails is reported with the reason, the run goes on."""
    return "compile" in peer or "jit" in peer


def _reason(exc) -> str:
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"failed: {type(exc).__name__}: {text}"


def format_table(results: list, peers_order: list, baseline: str = "xgrad") -> str:
    """A Markdown table: one row per workload, times per peer and xgrad/peer ratios."""
    peers = [p for p in peers_order if any(p in r.times for r in results)]
    others = [p for p in peers if p != baseline]
    head = ["workload", "unit"] + peers + [f"{baseline}/{p}" for p in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        row = [r.workload, r.unit + ("/op" if r.per > 1 else "")]
        row += [f"{r.scaled(p):.3g}" if p in r.times else "-" for p in peers]
        for p in others:
            if baseline in r.times and p in r.times:
                row.append(f"{r.times[baseline] / r.times[p]:.2f}x")
            else:
                row.append("-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def format_floor_table(results: list, peers_order: list, floor: str = "numpy",
                       targets: dict | None = None) -> str:
    """A Markdown table of every peer's time and its ratio to the floor (measured
    interleaved, in the same run), then the peers that did not run and why.
    ``targets``: workload -> text, a last column (the compile targets)."""
    peers = [p for p in peers_order if any(p in r.times or p in r.missing for r in results)]
    peers += sorted({p for r in results for p in list(r.times) + list(r.missing)} - set(peers))
    head = ["workload", "unit"] + peers + (["target (xgrad.compile)"] if targets else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        row = [r.workload, r.unit + ("/op" if r.per > 1 else "")]
        for p in peers:
            if p not in r.times:
                row.append("n/a" if p in r.missing else "-")
            elif p == floor or floor not in r.times:
                row.append(f"{r.scaled(p):.3g}")
            else:
                row.append(f"{r.scaled(p):.3g} ({r.times[p] / r.times[floor]:.2f}x)")
        if targets:
            row.append(targets.get(r.workload, ""))
        lines.append("| " + " | ".join(row) + " |")
    notes = missing_notes(results)
    if notes:
        lines += ["", "Not run (n/a):", ""] + notes
    return "\n".join(lines)


def missing_notes(results: list) -> list:
    """One line per (peer, reason) that kept a peer from running, with its workloads."""
    by_reason = {}
    for r in results:
        for peer, reason in r.missing.items():
            by_reason.setdefault((peer, reason), []).append(r.workload)
    return [f"* {peer}: {reason} ({', '.join(ws)})" for (peer, reason), ws in by_reason.items()]
