"""The examples run (quick mode) on each device, and their results are right."""

import pathlib
import runpy
import sys

import numpy as np
import pytest

import xgrad

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def run_example(name, device, *args, monkeypatch):
    monkeypatch.setattr(sys, "argv", [name, "--quick", *args])
    with xgrad.default_device(device):
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def test_linear_regression_matches_least_squares(device, examples_path):
    import linear_regression as lr
    with xgrad.default_device(device):
        x, y = lr.make_data()
        w, b, losses = lr.fit(x, y, steps=300)
    exact_w, exact_b = np.polyfit(x.numpy(), y.numpy(), 1)
    assert abs(w.item() - exact_w) < 1e-3 and abs(b.item() - exact_b) < 1e-3
    assert losses[-1] < losses[0] / 50
    assert w.device == device


def test_newton_converges(device, examples_path):
    import newton
    with xgrad.default_device(device):
        x0 = xgrad.asarray([-1.2, 1.0], dtype=xgrad.float64)
        x, history = newton.newton(newton.rosenbrock, x0, steps=8)
    np.testing.assert_allclose(np.asarray(x.tolist()), [1.0, 1.0], atol=1e-8)
    assert history[-1][0] < 1e-15


@pytest.mark.parametrize("method", ["gradient_and_hessian", "hessian_by_rows"])
def test_newton_hessian(device, examples_path, method):
    import newton
    x = xgrad.asarray([0.5, -0.25], dtype=xgrad.float64, device=device)
    g, h = getattr(newton, method)(newton.rosenbrock, x)
    a, b = 0.5, -0.25
    np.testing.assert_allclose(np.asarray(g.tolist()),
                               [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
    np.testing.assert_allclose(np.asarray(h.tolist()),
                               [[2 - 400 * (b - 3 * a * a), -400 * a], [-400 * a, 200]])


@pytest.mark.parametrize("name", ["linear_regression.py", "newton.py"])
def test_small_examples_quick(device, name, monkeypatch, examples_path, capsys):
    run_example(name, device, monkeypatch=monkeypatch)
    assert f"device: {device}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["mlp_digits.py", "cnn_digits.py"])
def test_digits_examples_quick(device, name, monkeypatch, examples_path, tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.png"
    run_example(name, device, "--out", str(out), monkeypatch=monkeypatch)
    text = capsys.readouterr().out
    assert f"device {device}: test accuracy" in text
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_graph_picture_example(monkeypatch, examples_path, tmp_path, capsys):
    pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    run_example("graph_picture.py", "cpu", "--out", str(tmp_path / "g"), monkeypatch=monkeypatch)
    assert "NllLossBackward0" in capsys.readouterr().out
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_quick_from_environment(monkeypatch, examples_path):
    import _common
    monkeypatch.setattr(sys, "argv", ["x"])
    monkeypatch.setenv("XGRAD_QUICK", "1")
    assert _common.parse_args("d").quick
    monkeypatch.setenv("XGRAD_QUICK", "0")
    assert not _common.parse_args("d").quick


def test_mlp_digits_compile_matches_eager(device, monkeypatch, examples_path, tmp_path, capsys):
    """``--compile`` trains the same model as eager mode (same seed, same dropout draws)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    pytest.importorskip("matplotlib")
    if getattr(xgrad, "compile", None) is None:
        pytest.skip("this xgrad has no xgrad.compile")
    results = []
    for extra in ([], ["--compile"]):
        run_example("mlp_digits.py", device, "--out", str(tmp_path / "p.png"), *extra,
                    monkeypatch=monkeypatch)
        text = capsys.readouterr().out
        results.append([line for line in text.splitlines()
                        if line.startswith(("epoch", f"device {device}: test accuracy"))])
        assert ("(compiled)" if extra else "(eager)") in text
    eager, compiled = results
    assert [r.split(" in ")[0] for r in compiled] == [r.split(" in ")[0] for r in eager]
