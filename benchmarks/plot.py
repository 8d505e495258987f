"""The README's figure: W1 per-op overhead per peer, and W5 memory over steps."""

from __future__ import annotations


def plot(results: list, memory: list, path: str) -> None:
    """Save a two-panel PNG to ``path`` (needs matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    w1 = [r for r in results if r.workload.startswith("W1")]
    order = ["numpy", "xgrad", "xgrad.compile", "torch", "torch.compile",
             "torch.compile[aot_eager]", "jax.jit", "autograd"]
    peers = [p for p in order if any(p in r.times for r in w1)]
    width = 0.8 / len(peers)
    for i, peer in enumerate(peers):
        xs = [j + i * width for j, r in enumerate(w1) if peer in r.times]
        ys = [r.scaled(peer) for r in w1 if peer in r.times]
        if xs:
            bars = ax1.bar(xs, ys, width, label=peer)
            ax1.bar_label(bars, fmt="%.2g", fontsize=7)
    ax1.set_xticks([j + 0.4 - width / 2 for j in range(len(w1))],
                   [r.workload.replace("W1 ", "") for r in w1], fontsize=8)
    ax1.set_ylabel("µs per op")
    ax1.set_title("W1: per-op time, chain of 100 ops on (16,) float32")
    ax1.legend(fontsize=8)

    for m in memory:
        if "series" not in m:  # a peer that could not run (listed in the table)
            continue
        steps = range(1, len(m["series"]["rss"]) + 1)
        ax2.plot(steps, [(v - m["before"]) / 2**20 for v in m["series"]["peak_rss"]],
                 label=f"{m['peer']} peak RSS in step")
        ax2.plot(steps, [(v - m["before"]) / 2**20 for v in m["series"]["rss"]],
                 linestyle="--", label=f"{m['peer']} RSS after step")
        if m["series"]["traced_peak"]:
            ax2.plot(steps, [v / 2**20 for v in m["series"]["traced_peak"]], linestyle=":",
                     label=f"{m['peer']} NumPy bytes, step peak")
    ax2.set_xlabel("step")
    ax2.set_ylabel("MiB above the footprint before training")
    ax2.set_title("W5: memory over steps, W2-large (1024-1024-1024-10, batch 256)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
