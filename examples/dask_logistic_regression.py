"""Logistic regression by gradient descent on a design matrix bigger than memory.

The design matrix is generated lazily, chunk by chunk, by Dask's random
generator (the same seed gives the same matrix on every pass), wrapped as an
xgrad tensor on the ``dask`` device, and differentiated with ordinary
PyTorch-style code. Each step builds one Dask graph (forward and backward) and
computes the loss and the gradient in one pass over the data, so each chunk is
generated once per step and dropped as soon as it is used: peak memory is a
few chunks per thread, whatever the size of the matrix.

    python examples/dask_logistic_regression.py --quick          # seconds; checks against NumPy
    python examples/dask_logistic_regression.py --gib 32         # 32 GiB of float64, bounded memory
    python examples/dask_logistic_regression.py --gib 4 --distributed   # a LocalCluster
    python examples/dask_logistic_regression.py --address tcp://scheduler:8786 --gib 256

See docs/dask.md for measured numbers and how to point it at a real cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time

import numpy as np

import xgrad

GIB = 2 ** 30


def parse_args(argv=None):
    """Command-line options (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--rows", type=int, help="rows of the design matrix")
    size.add_argument("--gib", type=float, default=1.0,
                      help="size of the design matrix in GiB of float64 (default 1)")
    p.add_argument("--features", type=int, default=64, help="columns (default 64)")
    p.add_argument("--chunk-mib", type=float, default=128.0, help="MiB per chunk (default 128)")
    p.add_argument("--steps", type=int, default=5, help="gradient steps (default 5)")
    p.add_argument("--lr", type=float, default=2.0, help="learning rate (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="a small problem, checked against the cpu (NumPy) device; for CI")
    p.add_argument("--distributed", action="store_true",
                   help="run on a dask.distributed LocalCluster (1 worker, 2 threads)")
    p.add_argument("--address", help="run on an existing dask.distributed scheduler")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.features, args.steps, args.chunk_mib = 20_000, 8, 3, 0.25
    return args


def design(rows, features, chunk_rows, seed):
    """A lazy (rows, features) standard normal matrix and labels from a planted model."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    w_true = np.random.default_rng(seed + 1).standard_normal(features) / np.sqrt(features) * 3
    noise = rng.logistic(size=(rows,), chunks=(chunk_rows,))
    y = ((X @ w_true + noise) > 0).astype(np.float64)
    return X, y


def loss_fn(X, y, w):
    """Mean logistic loss: log(1 + exp(z)) - y z with z = X w (stable through logaddexp)."""
    z = X @ w
    return xgrad.mean(xgrad.logaddexp(0.0, z) - y * z)


def train(X, y, steps, lr, progress, log=print):
    """Gradient descent from zero weights; returns the weights and the losses."""
    w = xgrad.zeros(X.shape[1], dtype=xgrad.float64, device=X.device, requires_grad=True)
    losses = []
    for step in range(steps):
        start = time.perf_counter()
        loss = loss_fn(X, y, w)
        loss.backward()
        with progress():
            loss, grad = xgrad.compute(loss, w.grad)  # one pass over the data for both
        with xgrad.no_grad():
            w = (w - lr * grad).compute().requires_grad_()  # a fresh leaf: the graph stays small
        losses.append(float(loss))
        log(f"step {step + 1}/{steps}: loss {losses[-1]:.6f}  ({time.perf_counter() - start:.1f} s, "
            f"peak RSS {peak_rss_gib():.2f} GiB)")
    return w, losses


def peak_rss_gib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def check_against_numpy(X, y, steps, lr, w, losses):
    """The same training on the cpu device (NumPy, in memory) gives the same numbers."""
    Xc = xgrad.asarray(X.compute(), device="cpu")
    yc = xgrad.asarray(y.compute(), device="cpu")
    wc, losses_c = train(Xc, yc, steps, lr, contextlib.nullcontext, log=lambda *_: None)
    np.testing.assert_allclose(losses, losses_c, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w.detach().numpy(), wc.detach().numpy(), rtol=1e-10, atol=1e-13)
    if not losses[-1] < losses[0]:
        raise AssertionError(f"the loss did not go down: {losses}")
    print("matches the cpu (NumPy) device; the loss went down")


def scheduler(args):
    """A context with the dask.distributed Client asked for, or nothing (threads)."""
    if not (args.distributed or args.address):
        return contextlib.nullcontext(None)
    from dask.distributed import Client, LocalCluster
    if args.address:
        return Client(args.address)
    return Client(LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                               dashboard_address=None))


def progress_display(args, client):
    """Dask's progress bar for the local scheduler; the dashboard shows a cluster's."""
    if args.no_progress or client is not None:
        return contextlib.nullcontext
    from dask.diagnostics import ProgressBar
    return lambda: ProgressBar(minimum=1.0, dt=1.0)


def main(argv=None):
    args = parse_args(argv)
    rows = args.rows or int(args.gib * GIB / (8 * args.features))
    chunk_rows = max(1, int(args.chunk_mib * 2 ** 20 / (8 * args.features)))
    Xd, yd = design(rows, args.features, chunk_rows, args.seed)
    print(f"design matrix: {rows:,} x {args.features} float64 = {Xd.nbytes / GIB:.2f} GiB in "
          f"{Xd.numblocks[0]} chunks of {chunk_rows:,} rows")
    with scheduler(args) as client:
        if client is not None:
            print(f"dask.distributed: {client}")
        X, y = xgrad.asarray(Xd), xgrad.asarray(yd)
        start = time.perf_counter()
        w, losses = train(X, y, args.steps, args.lr, progress_display(args, client))
        print(f"{args.steps} steps over {Xd.nbytes / GIB:.2f} GiB in "
              f"{time.perf_counter() - start:.1f} s; peak RSS {peak_rss_gib():.2f} GiB")
        if args.quick:
            check_against_numpy(Xd, yd, args.steps, args.lr, w, losses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
