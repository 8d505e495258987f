"""``python -m benchmarks [--quick] [--only W1,W3] [--no-memory] [--no-gpu]``

Runs W1-W5 on the CPU (one thread) for xgrad and its peers, prints a Markdown
table of medians and xgrad/peer ratios, and writes it, the raw numbers and the
figure under ``benchmarks/results/``. The GPU variants (CuPy, PyTorch CUDA and
hand-written CuPy) run too when a CUDA device is there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import benchmarks  # noqa: F401  (sets the BLAS thread variables before NumPy loads)
import numpy as np

import xgrad

from . import memory, workloads as W
from ._harness import format_table, measure

RESULTS = os.path.join(os.path.dirname(__file__), "results")
PEERS = ["numpy", "xgrad", "torch", "autograd"]


def one_thread():
    """Pin NumPy's BLAS and PyTorch to one thread; returns what keeps the limit alive."""
    limiter = None
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(1)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    return limiter


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            fields = {}
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
        cpu = (f"{fields['model name']} (family {fields.get('cpu family')}, model "
               f"{fields.get('model')}, {float(fields.get('cpu MHz', 0)):.0f} MHz"
               + (", virtualized" if "hypervisor" in fields.get("flags", "") else "") + ")")
    except (OSError, KeyError, ValueError):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "xgrad": getattr(xgrad, "__version__", "?")}
    for lib in ("torch", "autograd", "cupy"):
        try:
            mod = __import__(lib)
            info[lib] = getattr(mod, "__version__", None) or _dist_version(lib)
        except ImportError:
            pass
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = ", ".join(f"{p['internal_api']} {p['version']} ({p['num_threads']} thread)"
                                 for p in threadpool_info() if p["user_api"] == "blas")
    except ImportError:
        pass
    return info


def _dist_version(name):
    from importlib.metadata import version
    return version(name)


def run_cpu(args) -> list:
    quick = args.quick
    reps, min_time = (3, 0.005) if quick else (args.repeats, 0.05)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    only = set(args.only.split(",")) if args.only else None
    cpu = ("cpu", "cpu")
    plan = [
        ("W1 fwd+bwd", lambda: W.build_w1(np, *cpu), dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W1 fwd (recording)", lambda: W.build_w1(np, *cpu, forward_only=True),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W1 fwd (no_grad)", lambda: W.build_w1(np, *cpu, forward_only=True, no_grad=True),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W2 784-256-10 b64", lambda: W.build_w2(np, *cpu, (784, 256, 10), 64), {}),
        ("W2 1024-1024-1024-10 b256", lambda: W.build_w2(np, *cpu, (1024, 1024, 1024, 10), 256),
         {}),
        ("W3 4M elementwise", lambda: W.build_w3(np, *cpu), {}),
        ("W4 HVP 512 f64", lambda: W.build_w4(np, *cpu), {}),
    ]
    results = []
    for name, build, opts in plan:
        if only and name.split()[0] not in only:
            continue
        started = time.perf_counter()
        r = measure(name, build(), repeats=reps, min_time=min_time, clock=clock, **opts)
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results.append(r)
    return results


def run_gpu(args) -> list:
    """The same workloads on CUDA: xgrad on CuPy, PyTorch CUDA, hand-written CuPy."""
    import cupy
    import torch
    reps, min_time = (3, 0.005) if args.quick else (args.repeats, 0.05)

    def sync():
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()
    dev = ("cuda", "cuda")
    plan = [
        ("W1 fwd+bwd", lambda: W.build_w1(cupy, *dev), dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W1 fwd (recording)", lambda: W.build_w1(cupy, *dev, forward_only=True),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W2 784-256-10 b64", lambda: W.build_w2(cupy, *dev, (784, 256, 10), 64), {}),
        ("W2 1024-1024-1024-10 b256", lambda: W.build_w2(cupy, *dev, (1024, 1024, 1024, 10), 256),
         {}),
        ("W3 4M elementwise", lambda: W.build_w3(cupy, *dev), {}),
        ("W4 HVP 512 f64", lambda: W.build_w4(cupy, *dev), {}),
    ]
    return [measure(name, build(), repeats=reps, min_time=min_time, sync=sync, **opts)
            for name, build, opts in plan]


def gpu_available() -> bool:
    from xgrad.backends import device_available
    try:
        import torch
    except ImportError:
        return False
    return device_available("cuda") is None and torch.cuda.is_available()


def write(kind: str, info: dict, table: str, extra: dict) -> None:
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{kind}.md"), "w") as f:
        f.write(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
                + ", ".join(f"{k} {v}" for k, v in info.items()) + "\n\n" + table + "\n")
    with open(os.path.join(RESULTS, f"{kind}.json"), "w") as f:
        json.dump({"machine": info, **extra}, f, indent=1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, short repeats (a smoke run)")
    parser.add_argument("--repeats", type=int, default=9, help="samples per peer (default 9)")
    parser.add_argument("--only", help="comma-separated workloads to run, e.g. W1,W3")
    parser.add_argument("--no-memory", action="store_true", help="skip W5")
    parser.add_argument("--no-gpu", action="store_true", help="skip the CUDA variants")
    parser.add_argument("--gpu-only", action="store_true",
                        help="only the CUDA variants (the GPU check: device time is scarce)")
    parser.add_argument("--no-save", action="store_true", help="print only; write nothing")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time (default), or this process's CPU time: use it where "
                             "other jobs share the machine (CPU workloads only)")
    args = parser.parse_args(argv)
    keep = one_thread()  # noqa: F841  (the limit lasts as long as this object)

    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    if args.gpu_only:
        run_gpu_variants(args, info)
        return
    results = run_cpu(args)
    table = format_table(results, PEERS)
    print(f"\nCPU, one thread ({args.clock} time, medians; ratios are xgrad / peer)\n")
    print(table)

    mem = []
    mem_summary = []
    if not args.no_memory and (not args.only or "W5" in args.only.split(",")):
        mem = memory.measure(20 if args.quick else 200)
        mem_summary = [memory.summarize(m) for m in mem]
        print("\nW5 memory, W2-large (MiB):")
        for s in mem_summary:
            print("  " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in s.items()))
        table += "\n\nW5 memory over steps (MiB):\n\n" + _memory_table(mem_summary)

    if not args.no_save:
        info["clock"] = args.clock
        write("cpu", info, table, {"results": [r.__dict__ for r in results],
                                   "memory": mem_summary})
        try:
            from .plot import plot
            plot(results, mem, os.path.join(RESULTS, "cpu.png"))
        except ImportError as exc:
            print(f"(no plot: {exc})", file=sys.stderr)

    if not args.no_gpu:
        run_gpu_variants(args, info)


def run_gpu_variants(args, info) -> None:
    """The CUDA table (printed, and written unless --no-save), or a note that there is no GPU."""
    if gpu_available():
        gpu_results = run_gpu(args)
        gpu_table = format_table(gpu_results, PEERS)
        import torch
        info_gpu = dict(info, gpu=torch.cuda.get_device_name())
        print(f"\nGPU ({info_gpu['gpu']}; 'numpy' is hand-written CuPy)\n")
        print(gpu_table)
        if not args.no_save:
            write("gpu", info_gpu, gpu_table, {"results": [r.__dict__ for r in gpu_results]})
    else:
        print("\n(no CUDA device: GPU variants skipped)")


def _memory_table(summary) -> str:
    keys = ["peak_growth_MiB", "peak_drift_MiB", "rss_drift_MiB", "traced_peak_MiB", "traced_drift_MiB",
            "traced_peak_drift_MiB"]
    lines = ["| peer | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for s in summary:
        lines.append(f"| {s['peer']} | " + " | ".join(
            f"{s[k]:.1f}" if k in s else "-" for k in keys) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
