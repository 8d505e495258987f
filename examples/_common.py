"""Shared by the examples: quick mode, the digits data on the device, plots."""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import xgrad


def parse_args(description, flags=(), **extra):
    """``--quick`` (or XGRAD_QUICK=1) for a CI-sized run, plus example-specific options
    (``name=(default, help)``) and on/off switches (``flags``: ``(name, help)`` pairs).
    The device is xgrad's default: set XGRAD_DEVICE=cuda to train on a GPU."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("XGRAD_QUICK", "") not in ("", "0"),
                        help="a couple of iterations only (CI)")
    parser.add_argument("--out", default=None, help="where to write the PNG plot")
    for name, (default, help_text) in extra.items():
        parser.add_argument(f"--{name}", type=type(default), default=default, help=help_text)
    for name, help_text in flags:
        parser.add_argument(f"--{name}", action="store_true", help=help_text)
    return parser.parse_args()


def load_digits_split(seed=0, test_size=0.2):
    """scikit-learn's bundled 8x8 digits (no download): train/test tensors on the
    default device, pixels scaled to [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target.astype(np.int64),
                                              test_size=test_size, random_state=seed,
                                              stratify=digits.target)
    dev = xgrad.get_default_device()
    return tuple(xgrad.asarray(a, device=dev) for a in (x_tr, y_tr, x_te, y_te))


def batches(n, batch_size, device):
    """Index tensors of shuffled minibatches (drawn on the host, moved once)."""
    order = np.random.permutation(n)
    for start in range(0, n, batch_size):
        yield xgrad.asarray(order[start:start + batch_size], device=device)


def accuracy(model, x, y, batch_size=512):
    """Fraction of ``x`` classified as ``y`` (eval mode, no graph)."""
    model.eval()
    correct = 0
    with xgrad.no_grad():
        for start in range(0, len(x), batch_size):
            stop = min(start + batch_size, len(x))  # in-bounds slices (array API)
            pred = xgrad.argmax(model(x[start:stop]), axis=1)
            correct += int(xgrad.sum(xgrad.astype(pred == y[start:stop], xgrad.int64)).item())
    model.train()
    return correct / len(x)


def train_classifier(model, data, epochs, lr, batch_size, quick, reshape=None, compile=False):
    """Adam + cross-entropy with a tqdm bar per epoch; returns the history dict, whose
    ``steps_per_s`` is the training steps per second (the time of the step calls,
    evaluation left out). ``compile``: run the step (zero_grad, forward, loss,
    backward, Adam) through ``xgrad.compile``; the first step of each batch shape
    is traced, the others replayed."""
    from tqdm import tqdm
    x_tr, y_tr, x_te, y_te = data
    if reshape is not None:
        x_tr, x_te = reshape(x_tr), reshape(x_te)
    if quick:
        epochs, x_tr, y_tr = 1, x_tr[:128], y_tr[:128]
    opt = xgrad.optim.Adam(model.parameters(), lr=lr)
    sched = xgrad.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = xgrad.nn.CrossEntropyLoss()

    def train_step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()
    if compile:
        if getattr(xgrad, "compile", None) is None:
            raise SystemExit("--compile needs xgrad.compile, which this xgrad does not have")
        train_step = xgrad.compile(train_step)
    history = {"loss": [], "train_acc": [], "test_acc": []}
    steps, step_time = 0, 0.0
    traced, traced_time = 0, 0.0  # compiled: the calls that traced (not replays)
    for epoch in range(epochs):
        total, seen = 0.0, 0  # the running loss stays on the device: no sync per batch
        bar = tqdm(list(batches(len(x_tr), batch_size, x_tr.device)),
                   desc=f"epoch {epoch + 1}/{epochs}", leave=False, disable=quick)
        for step, idx in enumerate(bar):
            xb, yb = xgrad.take(x_tr, idx, axis=0), xgrad.take(y_tr, idx, axis=0)
            traces = getattr(train_step, "traces", 0)
            started = time.perf_counter()
            loss = train_step(xb, yb)
            elapsed = time.perf_counter() - started
            step_time += elapsed
            steps += 1
            if getattr(train_step, "traces", 0) != traces:
                traced, traced_time = traced + 1, traced_time + elapsed
            total = total + loss * len(idx)
            seen += len(idx)
            if step % 10 == 9:
                bar.set_postfix(loss=f"{total.item() / seen:.4f}")
        sched.step()
        history["loss"].append(float(total.item()) / seen)
        history["train_acc"].append(accuracy(model, x_tr, y_tr))
        history["test_acc"].append(accuracy(model, x_te, y_te))
        print(f"epoch {epoch + 1:2d}  loss {history['loss'][-1]:.4f}  "
              f"train {history['train_acc'][-1]:.4f}  test {history['test_acc'][-1]:.4f}")
    history["steps_per_s"] = steps / step_time if step_time else float("nan")
    print(f"{steps} training steps ({'compiled' if compile else 'eager'}): "
          f"{history['steps_per_s']:.0f} steps/s")
    if compile:
        replays = steps - traced
        rate = replays / (step_time - traced_time) if replays and step_time > traced_time else 0
        print(f"  {traced} traced ({traced_time:.2f} s), {replays} replayed: {rate:.0f} steps/s; "
              f"{train_step.cache_info() if hasattr(train_step, 'cache_info') else ''}")
    return history


def plot_history(history, title, path):
    """Loss and accuracy curves side by side, saved as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = range(1, len(history["loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history["loss"], marker="o")
    ax1.set(xlabel="epoch", ylabel="training loss", title="loss", yscale="log")
    ax2.plot(epochs, history["train_acc"], marker="o", label="train")
    ax2.plot(epochs, history["test_acc"], marker="o", label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot written to {path}")
