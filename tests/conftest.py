"""Shared test helpers. The `device` and `on_device` fixtures come from xgrad.testing.plugin."""

import numpy as np
import pytest

import xgrad


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def make(values, device, *, dtype=None, requires_grad=False):
    """A tensor of NumPy/Python ``values`` on ``device``."""
    return xgrad.asarray(np.asarray(values), dtype=dtype, device=device, requires_grad=requires_grad)
