"""Newton's method with a Hessian from autograd: minimise the Rosenbrock function.

x ← x - H(x)⁻¹ ∇f(x), with ∇f from ``autograd.grad(create_graph=True)`` and
H from ``xgrad.autograd.functional.hessian`` (or, where that is missing, from
differentiating each component of the gradient again).

    python examples/newton.py
    XGRAD_DEVICE=cuda python examples/newton.py
"""

import numpy as np

import xgrad

from _common import parse_args


def rosenbrock(x):
    """f(x, y) = (1 - x)² + 100 (y - x²)²; minimum 0 at (1, 1)."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def hessian_by_rows(f, x):
    """∇f(x) and the Hessian, one row per component: d(∂f/∂x_i)/dx by reverse mode
    over a gradient recorded with ``create_graph=True``."""
    x = x.detach().requires_grad_(True)
    (g,) = xgrad.autograd.grad(f(x), x, create_graph=True)
    rows = [xgrad.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(x.shape[0])]
    return g.detach(), xgrad.stack(rows)


def gradient_and_hessian(f, x):
    """∇f(x) and the Hessian, with ``xgrad.autograd.functional.hessian`` where it exists."""
    try:
        from xgrad.autograd.functional import hessian
    except ImportError:
        return hessian_by_rows(f, x)
    x = x.detach().requires_grad_(True)
    (g,) = xgrad.autograd.grad(f(x), x)
    return g, hessian(f, x.detach())


def newton(f, x0, steps):
    x = x0
    history = []
    for _ in range(steps):
        g, h = gradient_and_hessian(f, x)
        x = x - xgrad.linalg.solve(h, g)  # on x's device
        history.append((f(x).item(), xgrad.linalg.vector_norm(g).item()))
    return x, history


def main():
    args = parse_args(__doc__, steps=(8, "Newton steps"))
    steps = 2 if args.quick else args.steps
    x0 = xgrad.asarray([-1.2, 1.0], dtype=xgrad.float64)
    print(f"device: {x0.device}; start {x0.tolist()}, f = {rosenbrock(x0).item():.4f}")
    x, history = newton(rosenbrock, x0, steps)
    for i, (fx, gnorm) in enumerate(history, 1):
        print(f"step {i}: f = {fx:.3e}   |grad| before step = {gnorm:.3e}")
    print(f"solution {np.round(x.tolist(), 6).tolist()} (exact minimum: [1.0, 1.0])")


if __name__ == "__main__":
    main()
