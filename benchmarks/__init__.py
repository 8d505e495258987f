"""Side-by-side benchmarks: xgrad against hand-written NumPy (the floor), PyTorch
on one CPU thread (the bar), HIPS autograd, and the compilers: ``xgrad.compile``,
``torch.compile`` and ``jax.jit`` (optional: reported as not run where missing).

Run ``python -m benchmarks`` (``--quick`` for a smoke run, ``--help`` for the
rest). Every workload runs all its peers interleaved in one process and reports
medians of repeats; see ``benchmarks/README.md`` for the latest table.

BLAS and PyTorch must run on one thread for the ratios to mean anything, and
OpenBLAS reads its thread count when NumPy is imported: so this package sets
the variables before anything imports NumPy (``threadpoolctl`` limits them
again at run time, in case NumPy was imported first).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
del _var
# XLA (jax.jit, optional): one thread for Eigen; XLA still keeps a thread pool, which
# is why ``python -m benchmarks`` also pins the process to one core.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
