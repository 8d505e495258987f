"""Anomaly detection: a planted NaN names the op and shows where its forward ran."""

import pytest

import xgrad
from xgrad import nn


def test_sqrt_at_zero_names_op_and_forward_line(device):
    x = xgrad.asarray([0.0, 4.0], device=device, requires_grad=True)
    with xgrad.autograd.detect_anomaly():
        y = xgrad.sqrt(x)  # PLANTED-NAN
        loss = (y * 2).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "SqrtBackward0" in message
    assert "nan or inf" in message
    assert "PLANTED-NAN" in message and "test_anomaly.py" in message


def test_log_of_zero_inside_a_model(device):
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU()).to(device)
    with xgrad.no_grad():
        model[0].weight.fill_(0.0)
        model[0].bias.fill_(0.0)
    x = xgrad.ones((1, 2), device=device)
    with xgrad.autograd.set_detect_anomaly(True):
        h = model(x)
        loss = xgrad.log(h).sum()  # log(0): -inf forward, inf gradient
        with pytest.raises(RuntimeError, match="LogBackward0") as info:
            loss.backward()
    assert "xgrad.log(h)" in str(info.value)


def test_off_by_default_no_error(device):
    assert not xgrad.autograd.is_anomaly_enabled()
    x = xgrad.asarray([0.0], device=device, requires_grad=True)
    xgrad.sqrt(x).sum().backward()
    assert x.grad.item() == float("inf")


def test_anomaly_mode_restored_after_context():
    with xgrad.autograd.detect_anomaly():
        assert xgrad.autograd.is_anomaly_enabled()
    assert not xgrad.autograd.is_anomaly_enabled()
