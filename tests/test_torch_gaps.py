"""Issue 12's gaps found by the differential test (docs/differential.md): each against
PyTorch (values, first- and second-order gradients, JVPs, error types), on every device."""

import numpy as np
import pytest

import xgrad
import xgrad.nn.functional as XF

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

from test_torch_math import X, T, against_torch, close, npy  # noqa: E402,F401


def raises_like(fx, ft):
    """xgrad raises the exception type PyTorch raises (PyTorch must raise)."""
    with pytest.raises(Exception) as want:
        ft()
    with pytest.raises(want.type):
        fx()


# -- smooth_l1_loss / huber_loss at a zero residual and at the kink ----------------------------
R = np.array([[0.0, 1.0, -1.0, 0.5], [2.0, -0.25, 0.0, 0.75]])
ZERO = np.zeros((2, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                     ("smooth_l1_loss", {"beta": 0.0}),
                                     ("huber_loss", {}), ("huber_loss", {"delta": 0.5})])
def test_huber_zero_residual_and_boundary(device, name, kw, reduction):
    # residuals exactly 0 and exactly +-beta: PyTorch's second derivative is 1/beta at
    # |r| < beta (r = 0 included) and 0 at |r| = beta
    fx = lambda a, b: getattr(XF, name)(a, b, reduction=reduction, **kw)  # noqa: E731
    ft = lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw)  # noqa: E731
    against_torch(fx, ft, [R, ZERO], device)
    against_torch(fx, ft, [R * 0.5 + 0.25, R * 0.5 + 0.25], device)  # input == target


def test_huber_weight(device):
    w = np.arange(8.0).reshape(2, 4) / 4
    against_torch(lambda a, b, c: XF.huber_loss(a, b, weight=c),
                  lambda a, b, c: TF.huber_loss(a, b, weight=c), [R, ZERO, w], device)
    raises_like(lambda: XF.huber_loss(X(R, device), X(ZERO, device), weight=X(w[0], device)),
                lambda: TF.huber_loss(T(R), T(ZERO), weight=T(w[0])))
