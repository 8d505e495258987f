"""``python -m benchmarks [--quick] [--only W1,W3] [--no-memory] [--no-gpu]``

Runs W1-W5 and the training step (T1) on the CPU, pinned to one core with one
thread, for xgrad (eager and ``xgrad.compile``) and its peers (the hand-written
NumPy floor, PyTorch eager and ``torch.compile``, ``jax.jit``, HIPS autograd),
prints two Markdown tables of medians (xgrad/peer ratios, and every peer's
ratio to the floor) and writes them, the raw numbers and the figure under
``benchmarks/results/``. A peer that cannot run is listed with the reason. The
GPU variants (CuPy, PyTorch CUDA, hand-written CuPy, ``xgrad.compile`` on CuPy)
run too when a CUDA device is there (``--gpu-dry-run`` runs their code path on
NumPy).
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
from ._harness import format_floor_table, format_table, measure

RESULTS = os.path.join(os.path.dirname(__file__), "results")
PEERS = ["numpy", "xgrad", "xgrad.compile", "torch", "torch.compile", "torch.compile[aot_eager]",
         "jax.jit", "autograd"]
#: The issue's targets for xgrad.compile (CPU, ratio to the floor, issue 14).
TARGETS = {"W1 fwd+bwd": "<= 1.0x", "W2 784-256-10 b64": "<= 1.1x",
           "W2 1024-1024-1024-10 b256": "<= 1.03x", "W3 4M elementwise": "<= 1.0x",
           "W4 HVP 512 f64": "<= 1.3x"}


def pin_one_core(core=None) -> int:
    """Pin this process, every thread it has now and every one it starts later, to one
    core (the last allowed one unless ``core``): XLA's CPU runtime keeps a thread pool
    whatever its flags say, so only the affinity puts every peer on one thread."""
    allowed = sorted(os.sched_getaffinity(0))
    core = allowed[-1] if core is None else core
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {core})
        except OSError:  # a thread that ended meanwhile
            pass
    return core


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
    for lib in ("torch", "autograd", "jax", "cupy"):
        try:
            mod = __import__(lib)
            info[lib] = getattr(mod, "__version__", None) or _dist_version(lib)
        except ImportError:
            pass
    info["head"] = _git_head()
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = ", ".join(f"{p['internal_api']} {p['version']} ({p['num_threads']} thread)"
                                 for p in threadpool_info() if p["user_api"] == "blas")
    except ImportError:
        pass
    return info


def _git_head() -> str:
    """The commit measured, and whether xgrad/ had uncommitted changes then."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        import subprocess
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "xgrad"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return head + (" + uncommitted changes in xgrad/" if dirty else "") if head else "?"


def _dist_version(name):
    from importlib.metadata import version
    return version(name)


def run_cpu(args) -> list:
    quick = args.quick
    reps, min_time = (3, 0.005) if quick else (args.repeats, 0.05)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    only = set(args.only.split(",")) if args.only else None
    cpu = ("cpu", "cpu")
    c = _compiled_peers(args)
    plan = [
        ("W1 fwd+bwd", lambda: W.build_w1(np, *cpu, compiled=c),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W1 fwd (recording)", lambda: W.build_w1(np, *cpu, forward_only=True, compiled=c),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W1 fwd (no_grad)", lambda: W.build_w1(np, *cpu, forward_only=True, no_grad=True,
                                                compiled=c),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W2 784-256-10 b64", lambda: W.build_w2(np, *cpu, (784, 256, 10), 64, compiled=c), {}),
        ("W2 1024-1024-1024-10 b256",
         lambda: W.build_w2(np, *cpu, (1024, 1024, 1024, 10), 256, compiled=c), {}),
        ("W3 4M elementwise", lambda: W.build_w3(np, *cpu, compiled=c), {}),
        ("W4 HVP 512 f64", lambda: W.build_w4(np, *cpu, compiled=c), {}),
        ("T1 MLP digits Adam step b32", lambda: _train_step(c), {}),
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


def _compiled_peers(args):
    """Which compiled peers the CPU run adds (all, unless --no-compiled or --compiled)."""
    if args.no_compiled:
        return {name: "left out (--no-compiled)" for name in W.COMPILED}
    if args.compiled:
        chosen = args.compiled.split(",")
        unknown = set(chosen) - set(W.COMPILED)
        if unknown:
            raise SystemExit(f"--compiled: unknown peers {sorted(unknown)}; "
                             f"choose from {', '.join(W.COMPILED)}")
        return {n: None if n in chosen else "left out (--compiled)" for n in W.COMPILED}
    return W.COMPILED


def _train_step(compiled):
    from . import train_step
    which, reasons = W._which(compiled)
    peers = train_step.build(32, compiled=which)
    peers.update({n: W.Unavailable(r) for n, r in reasons.items() if n != "jax.jit"})
    peers.setdefault("jax.jit", W.Unavailable("not written: the step uses xgrad/PyTorch "
                                              "modules and optimizers"))
    return peers


#: The compiled peers on the GPU: xgrad.compile only. torch.compile (inductor and
#: Triton) would spend minutes compiling on a lease of a few minutes; the jax
#: installed here is CPU-only.
GPU_COMPILED = {"xgrad.compile": None,
                "torch.compile": "not run on the GPU: its compile time does not fit a GPU lease",
                "jax.jit": "not run on the GPU: CPU-only jax here"}


def run_gpu(args, dry_run=False) -> list:
    """The same workloads on CUDA: xgrad (eager and compiled) on CuPy, PyTorch CUDA,
    hand-written CuPy. ``dry_run``: the same code path on NumPy and the CPU (no
    GPU needed), with tiny samples: it checks the GPU plan, not its speed."""
    if dry_run:
        xp, dev, sync = np, ("cpu", "cpu"), None
    else:
        import cupy
        import torch
        xp, dev = cupy, ("cuda", "cuda")

        def sync():
            cupy.cuda.Device().synchronize()
            torch.cuda.synchronize()
    reps, min_time = (3, 0.005) if args.quick or dry_run else (args.repeats, 0.05)
    compiled = dict(GPU_COMPILED)
    if args.no_compiled:
        compiled = {k: "left out (--no-compiled)" for k in compiled}
    plan = [
        ("W1 fwd+bwd", lambda: W.build_w1(xp, *dev, compiled=compiled),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W1 fwd (recording)", lambda: W.build_w1(xp, *dev, forward_only=True, compiled=compiled),
         dict(unit="us", per=W.CHAIN_LENGTH)),
        ("W2 784-256-10 b64", lambda: W.build_w2(xp, *dev, (784, 256, 10), 64, compiled=compiled),
         {}),
        ("W2 1024-1024-1024-10 b256",
         lambda: W.build_w2(xp, *dev, (1024, 1024, 1024, 10), 256, compiled=compiled), {}),
        ("W3 4M elementwise", lambda: W.build_w3(xp, *dev, compiled=compiled), {}),
        ("W4 HVP 512 f64", lambda: W.build_w4(xp, *dev, compiled=compiled), {}),
    ]
    if dry_run:
        plan = [p for p in plan if not p[0].startswith("W2 1024")]
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
    parser.add_argument("--gpu-dry-run", action="store_true",
                        help="run the GPU variants' code path on NumPy and the CPU (quick; "
                             "checks the plan, not the speed) and nothing else")
    parser.add_argument("--no-compiled", action="store_true",
                        help="leave out xgrad.compile, torch.compile and jax.jit")
    parser.add_argument("--compiled", metavar="PEERS",
                        help="only these compiled peers, e.g. xgrad.compile,jax.jit "
                             "(torch.compile takes minutes to compile)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the process to one core (pinned by default: XLA "
                             "keeps a thread pool whatever its flags say)")
    parser.add_argument("--core", type=int, default=None,
                        help="the core to pin to (default: the last one allowed)")
    parser.add_argument("--no-save", action="store_true", help="print only; write nothing")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time (default), or this process's CPU time: use it where "
                             "other jobs share the machine (CPU workloads only)")
    args = parser.parse_args(argv)
    core = None if args.no_pin or args.gpu_only else pin_one_core(args.core)
    keep = one_thread()  # noqa: F841  (the limit lasts as long as this object)

    info = machine()
    info["pinned"] = f"core {core}" if core is not None else "no"
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    if args.gpu_dry_run:
        results = run_gpu(args, dry_run=True)
        print("\nGPU plan, dry run on NumPy (checks the code path; times mean nothing)\n")
        print(format_floor_table(results, PEERS))
        return
    if args.gpu_only:
        run_gpu_variants(args, info)
        return
    results = run_cpu(args)
    table = format_table(results, PEERS)
    print(f"\nCPU, one thread ({args.clock} time, medians; ratios are xgrad / peer)\n")
    print(table)
    floor_table = format_floor_table(results, PEERS, targets=TARGETS)
    print("\nThe same, every peer's ratio to the NumPy floor (T1: no floor)\n")
    print(floor_table)
    table += "\n\nRatios to the floor:\n\n" + floor_table

    mem = []
    mem_summary = []
    if not args.no_memory and (not args.only or "W5" in args.only.split(",")):
        mem = memory.measure(20 if args.quick else 200)
        mem_summary = [memory.summarize(m) for m in mem]
        print("\nW5 memory, W2-large (MiB; step_new in KiB):")
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
        gpu_table = (format_table(gpu_results, PEERS) + "\n\nRatios to the floor:\n\n"
                     + format_floor_table(gpu_results, PEERS))
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
            "traced_peak_drift_MiB", "step_new_KiB"]
    lines = ["| peer | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    errors = []
    for s in summary:
        if "error" in s:
            errors.append(f"* {s['peer']}: not run: {s['error']}")
            continue
        lines.append(f"| {s['peer']} | " + " | ".join(
            f"{s[k]:.1f}" if k in s else "-" for k in keys) + " |")
    return "\n".join(lines + ([""] + errors if errors else []))


if __name__ == "__main__":
    main()
