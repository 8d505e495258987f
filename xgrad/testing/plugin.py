"""pytest plugin: a ``device`` fixture parametrized over the devices to test.

Choose devices with ``pytest --xgrad-device=cpu,strict,cuda`` or the
``XGRAD_TEST_DEVICES`` environment variable (default: cpu, strict, cuda).
A device that is not available here is skipped, with the reason shown.
"""

from __future__ import annotations

import os

import pytest

DEFAULT_DEVICES = "cpu,strict,cuda"


def pytest_addoption(parser):
    parser.addoption("--xgrad-device", action="store", default=None,
                     help="comma-separated xgrad devices to run device tests on "
                          f"(default: $XGRAD_TEST_DEVICES or {DEFAULT_DEVICES})")


def requested_devices(config) -> list[str]:
    text = config.getoption("--xgrad-device") or os.environ.get("XGRAD_TEST_DEVICES") or DEFAULT_DEVICES
    return [d.strip() for d in text.split(",") if d.strip()]


def pytest_configure(config):
    config.addinivalue_line("markers", "not_on(*device_types, reason): the test cannot run on "
                            "these device types (e.g. dask: no shared memory between views); "
                            "skipped there with the reason shown")


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        names = requested_devices(metafunc.config)
        metafunc.parametrize("device", names, indirect=True, ids=names)


@pytest.fixture
def device(request):
    """An xgrad Device to run the test on (skipped where unavailable)."""
    from xgrad.backends import device as parse_device, device_available
    name = request.param
    reason = device_available(name)
    if reason is not None:
        pytest.skip(f"device {name} unavailable: {reason}")
    marker = request.node.get_closest_marker("not_on")
    if marker is not None and name.partition(":")[0] in marker.args:
        pytest.skip(f"not on {name}: {marker.kwargs.get('reason', 'marked not_on')}")
    return parse_device(name)


@pytest.fixture
def on_device(device):
    """Make ``device`` the default device for the test (for code that names no device)."""
    import xgrad
    with xgrad.default_device(device):
        yield device
