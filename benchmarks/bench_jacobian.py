"""Jacobian of a function from R^n to R^m (n = m = 256) on the CPU:
``autograd.functional.jacobian(vectorize=True)`` (one batched backward pass)
against the row-by-row loop (one backward pass per output element), and
``func.jacrev`` / ``func.jacfwd``.

    python benchmarks/bench_jacobian.py [n]

BLAS runs on one thread (set before NumPy is imported), as in the other benchmarks.
"""

from __future__ import annotations

import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import xgrad  # noqa: E402
from xgrad import func  # noqa: E402
from xgrad.autograd.functional import jacobian  # noqa: E402


def best_of(fn, repeat=5):
    """The fastest of ``repeat`` timed runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def problem(n, device="cpu"):
    """A small network R^n -> R^n: ``tanh(W2 @ sin(W1 @ x) + x) * scale``."""
    rng = np.random.default_rng(0)
    w1 = xgrad.asarray(rng.standard_normal((n, n)) / np.sqrt(n), dtype=xgrad.float64, device=device)
    w2 = xgrad.asarray(rng.standard_normal((n, n)) / np.sqrt(n), dtype=xgrad.float64, device=device)
    scale = xgrad.asarray(rng.uniform(0.5, 1.5, n), dtype=xgrad.float64, device=device)
    x = xgrad.asarray(rng.standard_normal(n), dtype=xgrad.float64, device=device)

    def f(x):
        return xgrad.tanh(w2 @ xgrad.sin(w1 @ x) + x) * scale
    return f, x


def main(n=256):
    f, x = problem(n)
    loop = jacobian(f, x)
    vec = jacobian(f, x, vectorize=True)
    np.testing.assert_allclose(vec.numpy(), loop.numpy(), rtol=1e-10, atol=1e-12)
    t_loop = best_of(lambda: jacobian(f, x), repeat=3)
    t_vec = best_of(lambda: jacobian(f, x, vectorize=True))
    t_rev = best_of(lambda: func.jacrev(f)(x))
    t_fwd = best_of(lambda: func.jacfwd(f)(x), repeat=3)
    print(f"jacobian of R^{n} -> R^{n} on cpu (float64), best of several runs")
    print(f"  row loop (vectorize=False)  {t_loop * 1e3:9.2f} ms")
    print(f"  vectorize=True              {t_vec * 1e3:9.2f} ms   speed-up x{t_loop / t_vec:.1f}")
    print(f"  func.jacrev                 {t_rev * 1e3:9.2f} ms")
    print(f"  func.jacfwd (n JVPs)        {t_fwd * 1e3:9.2f} ms")
    return t_loop / t_vec


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)
