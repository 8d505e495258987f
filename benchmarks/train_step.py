"""A full training step: the MLP digits example (``examples/mlp_digits.py``) with Adam.

    python -m benchmarks.train_step [--repeats 9] [--batch 32] [--no-pin]

One step is ``zero_grad``, forward, cross-entropy, backward and ``Adam.step`` on a
fixed batch of scikit-learn's digits (the example's model: 64-128-10 with ReLU
and dropout 0.1, train mode). Peers, interleaved in one process: eager xgrad,
``xgrad.compile`` of the whole step, PyTorch eager (one thread) and
``torch.compile`` of the whole step (where it runs here). There is no
hand-written floor: the ratios are to eager xgrad.

Before timing, the compiled xgrad step is checked against eager xgrad: both
start from the same parameters and the same generator seed (dropout) and run
three steps; the parameters must agree. A compiled step that differs is
reported as not run, with the difference.
"""

from __future__ import annotations

import os
import sys
import warnings

import benchmarks  # noqa: F401  (thread variables before NumPy loads)
import numpy as np

import xgrad

from .workloads import Unavailable, _failed, _torch, _torch_compile

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _example_mlp():
    """The example's MLP class (``examples/mlp_digits.py``), so the benchmark measures
    exactly the model the example trains."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    import mlp_digits
    return mlp_digits.MLP


def digits_batch(batch: int, seed: int = 0):
    """A fixed batch of the digits data (float32 (batch, 8, 8) in [0, 1], int64 labels)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(digits.target), batch, replace=False)
    return (digits.images[idx] / 16.0).astype(np.float32), digits.target[idx].astype(np.int64)


def xgrad_step_fn(model, lr=3e-3):
    """The example's step (``examples/_common.py``) in xgrad."""
    return adam_step_fn(xgrad, model, lr)


def adam_step_fn(lib, model, lr=3e-3):
    """The example's step in ``lib`` (xgrad or torch, the same code): zero_grad,
    forward, loss, backward, Adam step; returns the loss (detached)."""
    opt = lib.optim.Adam(model.parameters(), lr=lr)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def _params(model):
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def check_compiled(batch_np, steps=3, seed=0):
    """Eager and compiled xgrad from the same start: parameters after ``steps`` steps
    must agree (rtol 1e-5). Raises AssertionError with the largest difference."""
    MLP = _example_mlp()
    xb, yb = (xgrad.asarray(a) for a in batch_np)
    runs = []
    for compiled in (False, True):
        xgrad.manual_seed(seed)
        model = MLP()
        xgrad.manual_seed(seed + 1)
        step = xgrad_step_fn(model)
        if compiled:
            step = xgrad.compile(step)
        losses = [float(step(xb, yb).item()) for _ in range(steps)]
        runs.append((losses, _params(model)))
    (l0, p0), (l1, p1) = runs
    np.testing.assert_allclose(l1, l0, rtol=1e-5, err_msg="losses of compiled vs eager steps")
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7,
                                   err_msg="parameters after compiled vs eager steps")


def build(batch: int = 32, compiled=("xgrad.compile", "torch.compile")) -> dict:
    """``{peer: fn}``, each ``fn()`` one training step (the harness's interface)."""
    data = digits_batch(batch)
    MLP = _example_mlp()
    peers = {}
    xb, yb = (xgrad.asarray(a) for a in data)
    xgrad.manual_seed(0)
    eager = xgrad_step_fn(MLP())
    peers["xgrad"] = lambda: eager(xb, yb)

    if "xgrad.compile" in compiled:
        if getattr(xgrad, "compile", None) is None:
            peers["xgrad.compile"] = Unavailable("not available: this tree has no xgrad.compile")
        else:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    check_compiled(data)
                breaks = [w for w in caught if "GraphBreak" in type(w.message).__name__]
                if breaks:
                    raise RuntimeError("graph break, runs eagerly: "
                                       + str(breaks[0].message).splitlines()[0])
                xgrad.manual_seed(0)
                step = xgrad.compile(xgrad_step_fn(MLP()))
                peers["xgrad.compile"] = lambda: step(xb, yb)
            except Exception as exc:  # noqa: BLE001 (reported under the table)
                peers["xgrad.compile"] = _failed(exc)

    torch = _torch()
    if torch is None:
        peers["torch"] = Unavailable("PyTorch not installed")
        return peers
    xt, yt = torch.tensor(data[0]), torch.tensor(data[1])

    def torch_step_fn():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 128),
                                    torch.nn.ReLU(), torch.nn.Dropout(0.1),
                                    torch.nn.Linear(128, 10))
        return adam_step_fn(torch, model)
    teager = torch_step_fn()
    peers["torch"] = lambda: teager(xt, yt)
    if "torch.compile" in compiled:
        name, compiler = _torch_compile(torch)
        if name != "torch.compile":
            peers["torch.compile"] = Unavailable(
                compiler if name is None else "inductor does not run here")
        if name is not None:
            try:
                tstep = compiler(torch_step_fn())
                for _ in range(3):
                    tstep(xt, yt)
                peers[name] = lambda: tstep(xt, yt)
            except Exception as exc:  # noqa: BLE001
                peers[name] = _failed(exc)
    return peers


def main(argv=None) -> None:
    import argparse
    import time

    from . import __main__ as cli
    from ._harness import format_table, measure
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_step", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one core")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    if not args.no_pin:
        print(f"pinned to core {cli.pin_one_core()}")
    keep = cli.one_thread()  # noqa: F841
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    r = measure(f"MLP digits Adam step b{args.batch}", build(args.batch), repeats=args.repeats,
                min_time=0.05, clock=clock)
    print(format_table([r], ["xgrad", "xgrad.compile", "torch", "torch.compile",
                             "torch.compile[aot_eager]"]))
    for peer in r.times:
        print(f"{peer}: {1 / r.times[peer]:.0f} steps/s")
    for peer, reason in r.missing.items():
        print(f"{peer}: not run: {reason}")


if __name__ == "__main__":
    main()
