"""A small CNN (Conv2d, MaxPool2d) on scikit-learn's handwritten digits.

    python examples/cnn_digits.py                 # CPU
    XGRAD_DEVICE=cuda python examples/cnn_digits.py
    python examples/cnn_digits.py --quick         # one short epoch (CI)
"""

import time

import xgrad
from xgrad import nn

from _common import load_digits_split, parse_args, plot_history, train_classifier


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 64 x 2 x 2
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(256, 10))


def main():
    args = parse_args(__doc__, epochs=(25, "training epochs"), seed=(0, "random seed"))
    xgrad.manual_seed(args.seed)
    import numpy as np
    np.random.seed(args.seed)
    data = load_digits_split()
    model = make_cnn().to(xgrad.get_default_device())
    print(model)
    start = time.perf_counter()
    history = train_classifier(model, data, args.epochs, lr=3e-3, batch_size=32,
                               quick=args.quick,
                               reshape=lambda x: xgrad.reshape(x, (-1, 1, 8, 8)))
    print(f"device {xgrad.get_default_device()}: test accuracy {history['test_acc'][-1]:.4f} "
          f"in {time.perf_counter() - start:.1f} s")
    plot_history(history, "CNN on digits", args.out or "cnn_digits.png")


if __name__ == "__main__":
    main()
