"""Linear regression fitted by gradient descent, with the seeds' custom ``line`` Function.

The tutorial's ``line`` (y = w * x + b with a hand-written backward) and its
loss |f(w, x) - y|², minimised by plain gradient descent written as in the
tutorial: ``w -= lr * w.grad`` under ``no_grad``, then ``w.grad.zero_()``.
The fit is compared with the least-squares solution.

    python examples/linear_regression.py
    XGRAD_DEVICE=cuda python examples/linear_regression.py
"""

import numpy as np

import xgrad as torch

from _common import parse_args


class line(torch.autograd.Function):
    """y = w * x + b, elementwise, with its gradients written by hand."""

    @staticmethod
    def forward(ctx, w, x, b):
        ctx.save_for_backward(w, x)
        return w * x + b

    @staticmethod
    def backward(ctx, grad_out):
        w, x = ctx.saved_tensors
        return grad_out * x, grad_out * w, grad_out


def make_data(n=200, true_w=2.5, true_b=-1.0, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n).astype(np.float32)
    y = (true_w * x + true_b + noise * rng.standard_normal(n)).astype(np.float32)
    device = torch.get_default_device()  # NumPy data would otherwise stay on the cpu device
    return torch.tensor(x, device=device), torch.tensor(y, device=device)


def fit(x, y, steps, lr=0.1):
    """Gradient descent on the mean squared error; returns (w, b, losses)."""
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((line.apply(w, x, b) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
    return w, b, losses


def main():
    args = parse_args(__doc__, steps=(200, "gradient-descent steps"))
    steps = 3 if args.quick else args.steps
    x, y = make_data()
    print(f"device: {x.device}")
    w, b, losses = fit(x, y, steps)
    xs, ys = x.numpy(), y.numpy()
    exact_w, exact_b = np.polyfit(xs, ys, 1)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} in {steps} steps")
    print(f"gradient descent: w = {w.item():.4f}, b = {b.item():.4f}")
    print(f"least squares:    w = {exact_w:.4f}, b = {exact_b:.4f}")


if __name__ == "__main__":
    main()
