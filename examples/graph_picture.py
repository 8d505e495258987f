"""Draw the computational graph of a small model's loss (needs ``pip install graphviz``
and Graphviz's ``dot`` program to render; ``print_graph`` needs neither).

    python examples/graph_picture.py --out graph      # writes graph.png
"""

import xgrad
from xgrad import nn
from xgrad.viz import make_dot, print_graph

from _common import parse_args


def main():
    args = parse_args(__doc__)
    xgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    x = xgrad.randn(5, 4)
    target = xgrad.asarray([0, 1, 1, 0, 1], device=x.device)
    loss = nn.functional.cross_entropy(model(x), target)
    print_graph(loss, params=dict(model.named_parameters()))
    dot = make_dot(loss, params=dict(model.named_parameters()))
    path = dot.render(args.out or "graph", format="png", cleanup=True)
    print(f"graph written to {path}")


if __name__ == "__main__":
    main()
