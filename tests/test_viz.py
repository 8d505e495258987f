"""Graph pictures: print_graph (text) and make_dot (graphviz)."""

import shutil

import pytest

import xgrad
from xgrad import nn, viz


def small_graph(device):
    xgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(device)
    y = model(xgrad.ones((2, 3), device=device)).mean()
    return model, y


def test_print_graph_names_ops_leaves_and_saved(device):
    model, y = small_graph(device)
    text = viz.print_graph(y, dict(model.named_parameters()), file=None)
    lines = text.splitlines()
    assert lines[0] == "output ()"
    assert lines[1].strip().startswith("MeanBackward0")
    tanh_line = next(line for line in lines if "TanhBackward0" in line)
    assert "saved:" in tanh_line and "(2, 4)" in tanh_line  # what the node keeps
    add_lines = [line for line in lines if "AddBackward0" in line]
    assert add_lines and all("saved" not in line for line in add_lines)  # add keeps nothing
    for name, p in model.named_parameters():
        assert f"AccumulateGrad: {name} {tuple(p.shape)}" in text
    assert text.count("MmBackward0") == 2 or text.count("MatmulBackward0") == 2


def test_walk_graph_visits_each_node_once(device):
    x = xgrad.ones(2, device=device, requires_grad=True)
    y = x * x + x
    nodes = [n.name() for n, _ in viz.walk_graph(y.grad_fn)]
    assert nodes.count("AccumulateGrad") == 1
    assert sorted(nodes) == ["AccumulateGrad", "AddBackward0", "MulBackward0"]


def test_make_dot(device, tmp_path):
    pytest.importorskip("graphviz")
    model, y = small_graph(device)
    dot = viz.make_dot(y, params=dict(model.named_parameters()))
    src = dot.source
    assert "MeanBackward0" in src and "TanhBackward0" in src
    assert "0.weight\n(4, 3)" in src and "2.bias\n(1,)" in src
    assert "saved" in src and "output" in src
    if shutil.which("dot"):
        out = dot.render(str(tmp_path / "graph"), format="png")
        assert open(out, "rb").read(4) == b"\x89PNG"
