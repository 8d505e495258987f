"""An MLP on scikit-learn's handwritten digits, written as PyTorch code.

    python examples/mlp_digits.py                 # CPU
    XGRAD_DEVICE=cuda python examples/mlp_digits.py
    python examples/mlp_digits.py --quick         # one short epoch (CI)
    python examples/mlp_digits.py --compile       # the training step through xgrad.compile
"""

import time

import xgrad
from xgrad import nn

from _common import load_digits_split, parse_args, plot_history, train_classifier


class MLP(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


def main():
    args = parse_args(__doc__, flags=[("compile", "compile the training step (forward, loss, "
                                                  "backward, Adam, zero_grad) with xgrad.compile")],
                      epochs=(30, "training epochs"), seed=(0, "random seed"))
    xgrad.manual_seed(args.seed)
    import numpy as np
    np.random.seed(args.seed)
    data = load_digits_split()
    model = MLP().to(xgrad.get_default_device())
    print(model)
    start = time.perf_counter()
    history = train_classifier(model, data, args.epochs, lr=3e-3, batch_size=32, quick=args.quick,
                               compile=args.compile)
    print(f"device {xgrad.get_default_device()}: test accuracy {history['test_acc'][-1]:.4f} "
          f"in {time.perf_counter() - start:.1f} s")
    plot_history(history, "MLP on digits", args.out or "mlp_digits.png")


if __name__ == "__main__":
    main()
