"""``python -m xgrad.demo``: PyTorch's autograd tutorial, run by xgrad.

Runs on the default device (``XGRAD_DEVICE=strict python -m xgrad.demo``, or
``cuda`` with CuPy and a GPU).
"""

from __future__ import annotations

import xgrad as torch


def main() -> None:
    print(f"device: {torch.get_default_device()}")
    x = torch.arange(4.0)
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    print("x =", x)
    print("y = 2 * dot(x, x) =", y)
    y.backward()
    print("dy/dx =", x.grad, "(expected 4x)")

    x.grad.zero_()
    x.sum().backward()
    print("d sum(x)/dx =", x.grad)

    x.grad.zero_()
    u = (x * x).detach()
    (u * x).sum().backward()
    print("with u = (x*x).detach(): d sum(u*x)/dx =", x.grad, "(= u)")

    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        return b if b.sum() > 0 else 100 * b

    a = torch.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    print(f"control flow: a = {a.item():.4f}, a.grad = {a.grad.item():g}, d / a = {(d / a).item():g}")

    w = torch.randn(3, requires_grad=True)
    loss = ((w * torch.arange(3.0)).sum() - 1) ** 2
    g, = torch.autograd.grad(loss, w, create_graph=True)
    h, = torch.autograd.grad(g.sum(), w)
    print("second derivative via create_graph:", h)


if __name__ == "__main__":
    main()
