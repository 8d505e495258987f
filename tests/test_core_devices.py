"""Devices, the default-device and default-dtype settings, transfers, DLPack."""

import os
import subprocess
import sys

import numpy as np
import pytest

import xgrad
from xgrad.testing import assert_close

from conftest import make


def _need(spec):
    reason = xgrad.backends.device_available(spec)
    if reason:
        pytest.skip(reason)
    return xgrad.device(spec)


def test_device_parsing_and_interning():
    cpu = xgrad.device("cpu")
    assert cpu is xgrad.device("cpu") and str(cpu) == "cpu" and cpu.index is None
    assert cpu == "cpu" and cpu != "strict:1"
    with pytest.raises(ValueError, match="unknown device type"):
        xgrad.device("tpu")
    with pytest.raises(ValueError, match="no device index"):
        xgrad.device("cpu:3")


def test_strict_devices_are_indexed():
    d1 = _need("strict:1")
    assert d1.type == "strict" and d1.index == 1 and str(d1) == "strict:1"
    assert xgrad.device("strict") is xgrad.device("strict:0")
    with pytest.raises(xgrad.BackendUnavailable, match="does not exist"):
        xgrad.device("strict:7")


def test_missing_backend_is_a_clear_error_not_an_import_crash():
    if xgrad.backends.device_available("cuda") is None:
        pytest.skip("CUDA is available here")
    with pytest.raises(xgrad.BackendUnavailable, match="cuda"):
        xgrad.zeros(2, device="cuda")


def test_tensors_land_on_the_requested_device(device):
    for t in (xgrad.zeros(2, device=device), xgrad.ones((2,), device=device),
              xgrad.arange(3, device=device), xgrad.rand(2, device=device),
              xgrad.randn(2, 3, device=device), xgrad.tensor([1, 2], device=device),
              xgrad.full((2,), 7.0, device=device), xgrad.eye(2, device=device),
              xgrad.linspace(0, 1, 5, device=device)):
        assert t.device is device


def test_default_device_context_and_setter(device):
    with xgrad.default_device(device):
        assert xgrad.zeros(1).device is device
        assert xgrad.get_default_device() is device
    xgrad.set_default_device(device)
    try:
        assert xgrad.arange(2.0).device is device
    finally:
        xgrad.set_default_device(None)
    assert xgrad.get_default_device() == "cpu" or os.environ.get("XGRAD_DEVICE")


def test_default_dtype(device):
    with xgrad.default_dtype(xgrad.float64):
        assert xgrad.tensor([1.0], device=device).dtype is xgrad.float64
        assert xgrad.arange(1.0, device=device).dtype is xgrad.float64
    assert xgrad.tensor([1.0], device=device).dtype is xgrad.float32
    assert xgrad.tensor([1], device=device).dtype is xgrad.int64
    assert xgrad.tensor(np.array([1.0]), device=device).dtype is xgrad.float64  # NumPy keeps its dtype
    with pytest.raises(ValueError, match="float32 or float64"):
        xgrad.set_default_dtype(xgrad.int32)


def _run(code, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("XGRAD_")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_settings_precedence(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('device = "strict:1"\ndtype = "float64"\n')
    code = "import xgrad; print(xgrad.get_default_device(), xgrad.get_default_dtype())"
    assert _run(code, XGRAD_CONFIG=str(config)) == "strict:1 xgrad.float64"
    assert _run(code, XGRAD_CONFIG=str(config), XGRAD_DEVICE="cpu") == "cpu xgrad.float64"
    assert _run(code, XGRAD_CONFIG=str(config), XGRAD_DTYPE="float32") == "strict:1 xgrad.float32"
    code = ("import xgrad; xgrad.set_default_device('strict:2'); "
            "print(xgrad.get_default_device(), xgrad.config.describe()['device'][1])")
    assert _run(code, XGRAD_DEVICE="cpu") == "strict:2 set_default_device"


def test_info_reports_backends_and_sources():
    out = _run("import xgrad.info; print(xgrad.info.report())", XGRAD_DEVICE="strict:1")
    assert "cpu" in out and "numpy" in out
    assert "default device  strict:1  (from environment variable XGRAD_DEVICE=strict:1)" in out


def test_transfer_is_differentiable_both_ways(device):
    other = _need("strict:1" if device != "strict:1" else "cpu")
    x = make([1.0, 2.0], device, requires_grad=True)
    y = x.to(other)
    assert y.device is other and y.grad_fn.name() == "ToCopyBackward0"
    z = (y * y).sum()
    z.backward()
    assert x.grad.device is device
    assert_close(x.grad, [2.0, 4.0])
    g, = xgrad.autograd.grad((x.to(other) ** 3).sum(), x, create_graph=True)
    h, = xgrad.autograd.grad(g.sum(), x)
    assert_close(h, [6.0, 12.0])


def test_cpu_numpy_tolist_item(device):
    x = make([[1.5, 2.0]], device)
    assert x.cpu().device == "cpu"
    assert isinstance(x.numpy(), np.ndarray)
    assert x.tolist() == [[1.5, 2.0]]
    assert x[0, 0].item() == 1.5
    assert float(x[0, 1]) == 2.0 and int(x[0, 1]) == 2
    with pytest.raises(RuntimeError, match="requires grad"):
        make([1.0], device, requires_grad=True).numpy()


def test_dlpack_round_trip():
    x = xgrad.tensor([1.0, 2.0])
    y = xgrad.from_dlpack(x)
    assert_close(y, x)
    a = np.arange(3.0)
    t = xgrad.from_dlpack(a)
    assert t.device == "cpu" and t.dtype is xgrad.float64
    back = np.from_dlpack(t)
    assert back.tolist() == [0.0, 1.0, 2.0]


def test_array_namespace_is_xgrad(device):
    x = make([1.0], device)
    assert x.__array_namespace__() is xgrad.array_api  # the standard's face
    assert x.dtype is xgrad.float32 or x.dtype is xgrad.float64


def test_manual_seed_is_reproducible(device):
    xgrad.manual_seed(123)
    a = xgrad.randn(4, device=device)
    xgrad.manual_seed(123)
    b = xgrad.randn(4, device=device)
    assert_close(a, b)
    assert a.dtype is xgrad.float32


def test_creation_forms(device):
    assert xgrad.zeros(2, 3, device=device).shape == (2, 3)
    assert xgrad.zeros((2, 3), device=device).shape == (2, 3)
    assert xgrad.randn(size=(2, 3), device=device).shape == (2, 3)
    r = xgrad.randint(0, 5, (100,), device=device)
    assert r.dtype is xgrad.int64 and 0 <= int(r.min()) and int(r.max()) < 5
    z = xgrad.zeros_like(make([1.0, 2.0], device), requires_grad=True)
    assert z.requires_grad and z.device is device
    assert xgrad.arange(4, device=device).dtype is xgrad.int64
