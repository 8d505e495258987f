"""Row-by-row fill of a (10000, 64) float64 buffer under autograd, then backward.

    python -m benchmarks.bench_fill                    # rows 1000, 2000, 5000, 10000
    python -m benchmarks.bench_fill --rows 1000,4000 --repeats 5
    python -m benchmarks.bench_fill --grow        # the buffer is (rows, 64): filled whole

Each row is a function of a parameter (``buf[i] = tanh(p * c_i)``), then
``(buf * w).sum().backward()``. A write into a slice must cost O(slice): the
forward time and the backward time must both grow linearly with the number of
rows written (so the time per row stays flat), not as rows x buffer. xgrad and
PyTorch (one thread) side by side; medians of ``--repeats`` runs, each peer's
forward and backward timed separately. With ``--grow`` the buffer has as many
rows as are written, so a write costing O(buffer) makes the total quadratic.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

SHAPE = (10000, 64)


def _xgrad_run(rows, coefs, w_np, p_np, shape):
    import xgrad
    p = xgrad.asarray(p_np.copy(), requires_grad=True)
    w = xgrad.asarray(w_np[:shape[0]])
    start = time.perf_counter()
    buf = xgrad.zeros(shape, dtype=xgrad.float64)
    for i in range(rows):
        buf[i] = xgrad.tanh(p * coefs[i])
    loss = (buf * w).sum()
    mid = time.perf_counter()
    loss.backward()
    end = time.perf_counter()
    return mid - start, end - mid, p.grad.numpy()


def _torch_run(rows, coefs, w_np, p_np, shape):
    import torch
    p = torch.tensor(p_np, requires_grad=True)
    w = torch.tensor(w_np[:shape[0]])
    start = time.perf_counter()
    buf = torch.zeros(shape, dtype=torch.float64)
    for i in range(rows):
        buf[i] = torch.tanh(p * float(coefs[i]))
    loss = (buf * w).sum()
    mid = time.perf_counter()
    loss.backward()
    end = time.perf_counter()
    return mid - start, end - mid, p.grad.numpy()


def run(rows_list, repeats, grow=False):
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    p_np = rng.standard_normal(SHAPE[1])
    w_np = rng.standard_normal(SHAPE)
    coefs = [float(c) for c in rng.uniform(0.5, 1.5, SHAPE[0])]
    table = []
    for rows in rows_list:
        samples = {"xgrad": [], "torch": []}
        grads = {}
        for _ in range(repeats):
            for name, fn in (("xgrad", _xgrad_run), ("torch", _torch_run)):
                gc.collect()
                gc.disable()
                try:
                    fwd, bwd, grad = fn(rows, coefs, w_np, p_np,
                                        (rows, SHAPE[1]) if grow else SHAPE)
                finally:
                    gc.enable()
                samples[name].append((fwd, bwd))
                grads[name] = grad
        np.testing.assert_allclose(grads["xgrad"], grads["torch"], rtol=1e-9, atol=1e-9)
        row = {"rows": rows}
        for name, s in samples.items():
            row[name + "_fwd"] = statistics.median(f for f, _ in s)
            row[name + "_bwd"] = statistics.median(b for _, b in s)
        table.append(row)
        print(_format_row(row), flush=True)
    return table


def _format_row(row):
    n = row["rows"]
    return (f"| {n} | {row['xgrad_fwd'] * 1e3:.1f} | {row['xgrad_bwd'] * 1e3:.1f} | "
            f"{row['xgrad_fwd'] / n * 1e6:.1f} | {row['xgrad_bwd'] / n * 1e6:.1f} | "
            f"{row['torch_fwd'] * 1e3:.1f} | {row['torch_bwd'] * 1e3:.1f} | "
            f"{row['torch_fwd'] / n * 1e6:.1f} | {row['torch_bwd'] / n * 1e6:.1f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,2000,5000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grow", action="store_true", help="a (rows, 64) buffer, filled whole")
    args = parser.parse_args(argv)
    rows = [int(r) for r in args.rows.split(",")]
    print("| rows | xgrad fwd ms | xgrad bwd ms | xgrad fwd us/row | xgrad bwd us/row | "
          "torch fwd ms | torch bwd ms | torch fwd us/row | torch bwd us/row |")
    print("|---|---|---|---|---|---|---|---|---|")
    run(rows, args.repeats, args.grow)


if __name__ == "__main__":
    main()
