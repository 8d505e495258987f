"""Shared test helpers.

xgrad's pytest plugin is opt-in (installing xgrad changes no other project's
tests): this suite loads it here. Its fixture is ``xgrad_device``; xgrad's own
tests call it ``device`` through the alias below, which keeps the per-device
parametrization (the plugin parametrizes every test whose fixture closure
contains ``xgrad_device``).
"""

import os

# SciPy and scikit-learn dispatch on the array API (tests/test_clients_grad.py passes
# them xgrad tensors) only if this is set before SciPy is imported
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import xgrad  # noqa: E402

pytest_plugins = ["xgrad.testing.plugin"]


@pytest.fixture
def device(xgrad_device):
    """The xgrad Device the test runs on (one run per ``--xgrad-device`` device)."""
    return xgrad_device


@pytest.fixture
def on_device(xgrad_on_device):
    """``device``, made the default device for the test."""
    return xgrad_on_device


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def make(values, device, *, dtype=None, requires_grad=False):
    """A tensor of NumPy/Python ``values`` on ``device``."""
    return xgrad.asarray(np.asarray(values), dtype=dtype, device=device, requires_grad=requires_grad)
