"""pytest plugin: an ``xgrad_device`` fixture parametrized over the devices to test.

The plugin is opt-in: installing xgrad changes no other project's tests. Load it
with ``pytest -p xgrad.testing.plugin`` or, in the root ``conftest.py`` of a
project, ``pytest_plugins = ["xgrad.testing.plugin"]``. Then every test that
requests ``xgrad_device`` (directly or through another fixture) runs once per
device::

    def test_exp(xgrad_device):
        x = xgrad.ones(3, device=xgrad_device)
        ...

Choose devices with ``pytest --xgrad-device=cpu,strict,cuda`` or the
``XGRAD_TEST_DEVICES`` environment variable (default: cpu, strict, cuda).
A device that is not available here is skipped, with the reason shown.
``xgrad_on_device`` also makes the device the default device for the test.
The marker ``not_on("dask", reason=...)`` skips a test on the named device types.

A project that prefers a shorter name aliases the fixture in its conftest
(xgrad's own test suite calls it ``device``)::

    @pytest.fixture
    def device(xgrad_device):
        return xgrad_device
"""

from __future__ import annotations

import os

import pytest

DEFAULT_DEVICES = "cpu,strict,cuda"


def pytest_addoption(parser):
    parser.addoption("--xgrad-device", action="store", default=None,
                     help="comma-separated xgrad devices to run xgrad_device tests on "
                          f"(default: $XGRAD_TEST_DEVICES or {DEFAULT_DEVICES})")


def requested_devices(config) -> list[str]:
    """The device names chosen by ``--xgrad-device`` / ``XGRAD_TEST_DEVICES``."""
    text = config.getoption("--xgrad-device") or os.environ.get("XGRAD_TEST_DEVICES") or DEFAULT_DEVICES
    return [d.strip() for d in text.split(",") if d.strip()]


def pytest_configure(config):
    config.addinivalue_line("markers", "not_on(*device_types, reason): the test cannot run on "
                            "these device types (e.g. dask: no shared memory between views); "
                            "skipped there with the reason shown")


def pytest_generate_tests(metafunc):
    # fixturenames is the closure: a test that requests a fixture which itself
    # requests xgrad_device (an alias such as xgrad's own ``device``) is covered.
    if "xgrad_device" in metafunc.fixturenames:
        names = requested_devices(metafunc.config)
        metafunc.parametrize("xgrad_device", names, indirect=True, ids=names)


@pytest.fixture
def xgrad_device(request):
    """An xgrad Device to run the test on (skipped where unavailable)."""
    from xgrad.backends import device as parse_device, device_available
    name = getattr(request, "param", None)
    if name is None:  # requested outside parametrization (e.g. by a fixture of another scope)
        name = requested_devices(request.config)[0]
    reason = device_available(name)
    if reason is not None:
        pytest.skip(f"device {name} unavailable: {reason}")
    marker = request.node.get_closest_marker("not_on")
    if marker is not None and name.partition(":")[0] in marker.args:
        pytest.skip(f"not on {name}: {marker.kwargs.get('reason', 'marked not_on')}")
    return parse_device(name)


@pytest.fixture
def xgrad_on_device(xgrad_device):
    """Make ``xgrad_device`` the default device for the test (for code that names no device)."""
    import xgrad
    with xgrad.default_device(xgrad_device):
        yield xgrad_device
