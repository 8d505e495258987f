"""xgrad.save / xgrad.load: round trips, across devices, in a plain .npz."""

import io
import zipfile

import numpy as np
import pytest

import xgrad
from xgrad import nn, optim
from xgrad.testing import assert_close


def test_tensor_round_trip(device, tmp_path):
    t = xgrad.asarray(np.arange(6.0).reshape(2, 3), dtype=xgrad.float64, device=device)
    path = tmp_path / "t.pt"
    xgrad.save(t, path)
    assert path.exists() and zipfile.is_zipfile(path)  # written where asked, no suffix added
    back = xgrad.load(path)
    assert back.device == device and back.dtype == xgrad.float64
    assert_close(back, t)
    ints = xgrad.arange(4, device=device)
    assert xgrad.load(_saved(ints)).dtype == ints.dtype


def _saved(obj):
    buf = io.BytesIO()
    xgrad.save(obj, buf)
    buf.seek(0)
    return buf


def test_nested_structure_round_trip(device):
    obj = {"a": [1, 2.5, "x", None, True], "b": (xgrad.ones(2, device=device),),
           3: {"nested": xgrad.zeros((), device=device, requires_grad=True)}}
    back = xgrad.load(_saved(obj))
    assert back["a"] == [1, 2.5, "x", None, True]
    assert isinstance(back["b"], tuple) and back["b"][0].device == device
    assert back[3]["nested"].requires_grad and back[3]["nested"].is_leaf


@pytest.mark.parametrize("target", ["cpu", "strict:1"])
def test_load_on_another_device(device, target):
    from xgrad.backends import device_available
    if device_available(target) is not None:
        pytest.skip(f"{target} unavailable")
    t = xgrad.asarray([1.0, 2.0], device=device)
    back = xgrad.load(_saved({"w": t}), map_location=target)
    assert back["w"].device == xgrad.device(target)
    assert_close(back["w"], [1.0, 2.0])
    mapped = xgrad.load(_saved(t), map_location={str(device): target})
    assert mapped.device == xgrad.device(target)
    called = xgrad.load(_saved(t), map_location=lambda x, loc: x.to(target))
    assert called.device == xgrad.device(target)


def test_model_and_optimizer_state_across_devices(device, rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = xgrad.asarray(rng.standard_normal((8, 3)).astype(np.float32))
    model(x).sum().backward()
    opt.step()
    buf = _saved({"model": model.state_dict(), "opt": opt.state_dict()})
    ckpt = xgrad.load(buf, map_location=device)
    clone = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2)).to(device)
    clone.load_state_dict(ckpt["model"])
    for (name, a), b in zip(model.state_dict().items(), clone.state_dict().values()):
        assert b.device == device
        assert_close(b, a, msg=name)
    opt2 = optim.Adam(clone.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["opt"])
    assert opt2.param_groups[0]["lr"] == 0.01
    first = next(iter(clone.parameters()))
    assert opt2.state[first]["exp_avg"].device == device
    assert opt2.state[first]["step"] == 1


def test_open_format_readable_by_numpy(tmp_path):
    xgrad.save({"w": xgrad.asarray([[1.0, 2.0]])}, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        arrays = [k for k in data.files if k != "__xgrad__"]
        assert len(arrays) == 1
        assert np.array_equal(data[arrays[0]], np.array([[1.0, 2.0]], np.float32))


def test_unsupported_object():
    with pytest.raises(TypeError, match="cannot store"):
        xgrad.save({"f": object()}, io.BytesIO())
