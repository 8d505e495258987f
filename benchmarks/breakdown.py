"""Where the time goes, for the README's analysis of missed targets.

``python -m benchmarks.breakdown W2|W3|W4`` prints, in CPU time:

* W2: the small MLP's step against the floor's and the two big matmuls alone,
  and the backward time of each kind of node;
* W3: each forward op and each backward node, against the floor, plus one
  16 MB multiply into reused memory and into fresh memory;
* W4: the HVP's phases (forward, the ``create_graph`` backward, the second
  backward) for xgrad and PyTorch, and how many ops and nodes xgrad runs.
"""

from __future__ import annotations

import collections
import sys
import time

import benchmarks  # noqa: F401  (one BLAS thread)
import numpy as np

import xgrad
from xgrad.autograd import graph

from . import workloads as W

clock = time.process_time


def _best(fn, loops=100, repeats=9) -> float:
    """Best-of-``repeats`` CPU time of one call, in milliseconds."""
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(loops):
            fn()
        best = min(best, (clock() - start) / loops)
    return best * 1e3


def _timing_apply(acc):
    """Patch Node.apply to add each node's time to ``acc[op name]``; returns the undo."""
    original = graph.Node.apply

    def timed(self, grads, create_graph):
        start = clock()
        result = original(self, grads, create_graph)
        acc[self.op.name] += clock() - start
        return result
    graph.Node.apply = timed
    return lambda: setattr(graph.Node, "apply", original)


def w2():
    params0, x0, y0 = W.mlp_data((784, 256, 10), 64)
    pg = [xgrad.asarray(p).requires_grad_() for p in params0]
    xg, yg = xgrad.asarray(x0), xgrad.asarray(y0)

    def step():
        for p in pg:
            p.grad = None
        W.mlp_loss_xgrad(pg, xg, yg).backward()
    g1 = np.ones((64, 256), np.float32)
    print(f"xgrad step {_best(step):.3f} ms, its forward "
          f"{_best(lambda: W.mlp_loss_xgrad(pg, xg, yg)):.3f} ms")
    print(f"floor step {_best(lambda: W.mlp_floor_grad(np, params0, x0, y0)):.3f} ms")
    print(f"the two big matmuls alone (x @ W1, x.T @ g): "
          f"{_best(lambda: (x0 @ params0[0], x0.T @ g1)):.3f} ms")
    acc = collections.defaultdict(float)
    undo = _timing_apply(acc)
    n = 300
    for _ in range(n):
        step()
    undo()
    print("backward, per kind of node (ms per step):")
    for name, total in sorted(acc.items(), key=lambda kv: -kv[1]):
        print(f"  {name:12s} {total / n * 1e3:.3f}")
    a = np.maximum(x0 @ params0[0], 0)
    g = np.ones_like(a)
    print(f"relu's rule where(y > 0, g, 0.0): {_best(lambda: np.where(a > 0, g, 0.0)):.3f} ms; "
          f"the floor's g *= a > 0: {_best(lambda: np.multiply(g, a > 0, out=g)):.3f} ms")


def w3():
    x0 = np.random.default_rng(0).standard_normal(4_000_000, dtype=np.float32)
    xg = xgrad.asarray(x0).requires_grad_()
    # (name, op, result key, keys the expression would drop now: what the graph
    # does not save is freed as it would be in the one-line expression)
    steps = [("tanh", lambda v: xgrad.tanh(v["x"]), "t", ()),
             ("t * x", lambda v: v["t"] * v["x"], "a", ("t",)),
             ("-x", lambda v: -v["x"], "n", ()),
             ("-x * x", lambda v: v["n"] * v["x"], "b", ("n",)),
             ("exp", lambda v: xgrad.exp(v["b"]), "e", ("b",)),
             ("add", lambda v: v["a"] + v["e"], "s", ("a", "e")),
             ("sum", lambda v: xgrad.sum(v["s"]), "y", ("s",))]
    acc = collections.defaultdict(float)
    fwd = collections.defaultdict(float)
    undo = _timing_apply(acc)
    n = 7
    totals = [0.0, 0.0]
    for i in range(n + 1):
        if i == 1:  # the first round warms up: forget it
            acc.clear(), fwd.clear()
            totals = [0.0, 0.0]
        xg.grad = None
        values = {"x": xg}
        start = clock()
        for name, op, key, dead in steps:
            t0 = clock()
            values[key] = op(values)
            fwd[name] += clock() - t0
            for k in dead:
                del values[k]
        mid = clock()
        values.pop("y").backward()
        totals[0] += mid - start
        totals[1] += clock() - mid
    undo()
    for name, total in fwd.items():
        print(f"  forward  {name:10s} {total / n * 1e3:6.2f} ms")
    for name, total in acc.items():
        print(f"  backward {name:10s} {total / n * 1e3:6.2f} ms")
    print(f"xgrad forward {totals[0] / n * 1e3:.1f} ms, backward {totals[1] / n * 1e3:.1f} ms")
    print(f"floor, forward and gradient: {_best(lambda: W.w3_floor_grad(np, x0), 1, 7):.1f} ms")
    out = np.empty_like(x0)
    print(f"one 16 MB multiply into reused memory: "
          f"{_best(lambda: np.multiply(x0, x0, out=out), 3, 7):.2f} ms; into fresh memory "
          f"while the earlier results stay alive:", end="")
    kept = []
    for _ in range(6):
        start = clock()
        kept.append(x0 * x0)
        print(f" {(clock() - start) * 1e3:.1f}", end="")
    print(" ms")


def w4():
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n = 512
    w0, x0, v0 = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), \
        rng.standard_normal(n)
    libs = {
        "xgrad": (xgrad, xgrad.asarray(w0), xgrad.asarray(x0).requires_grad_(),
                  xgrad.asarray(v0)),
        "torch": (torch, torch.tensor(w0), torch.tensor(x0, requires_grad=True),
                  torch.tensor(v0)),
    }
    phases = ("forward", "grad, create_graph", "sum(g * v)", "second grad")
    for name, (lib, w, x, v) in libs.items():
        times = {p: [] for p in phases}
        for _ in range(300):
            t0 = clock()
            y = lib.sum(lib.tanh(w @ x))
            t1 = clock()
            g, = lib.autograd.grad(y, x, create_graph=True)
            t2 = clock()
            s = lib.sum(g * v)
            t3 = clock()
            lib.autograd.grad(s, x)
            t4 = clock()
            for p, a, b in zip(phases, (t0, t1, t2, t3), (t1, t2, t3, t4)):
                times[p].append(b - a)
        print(name + ": " + ", ".join(
            f"{p} {sorted(t)[len(t) // 2] * 1e6:.0f} us" for p, t in times.items()))
    counts = collections.Counter()
    original_record, original_apply = graph._outputs, graph.Node.apply

    def outputs(*args, **kwargs):
        counts["recorded ops"] += 1
        return original_record(*args, **kwargs)

    def apply(self, grads, create_graph):
        counts["nodes applied with create_graph" if create_graph else "nodes applied"] += 1
        return original_apply(self, grads, create_graph)
    graph._outputs, graph.Node.apply = outputs, apply
    try:
        W.build_w4(np, "cpu", "cpu")["xgrad"]()
    finally:
        graph._outputs, graph.Node.apply = original_record, original_apply
    print("xgrad, one HVP:", dict(counts))
    print(f"one 512x512 float64 matrix-vector product: "
          f"{_best(lambda: w0 @ x0, 100) * 1e3:.0f} us")


if __name__ == "__main__":
    for which in sys.argv[1:] or ["W2", "W3", "W4"]:
        print(f"== {which}")
        {"W2": w2, "W3": w3, "W4": w4}[which.upper()]()
