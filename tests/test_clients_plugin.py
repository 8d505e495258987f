"""xgrad's pytest plugin is opt-in: installing xgrad changes no other project's tests.

Each test runs pytest in a subprocess, with this interpreter (the environment
xgrad is installed in), on a tiny project written to a temporary directory. The
full check, scikit-learn's and array-api-extra's suites collected in two fresh
virtual environments, with and without xgrad: ci/clients/compare_collection.sh.
"""

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap

import pytest

OTHER_CONFTEST = """
import pytest

@pytest.fixture(params=["a", "b"])
def device(request):
    return request.param
"""

OTHER_TEST = """
def test_uses_own_device(device):
    assert device in ("a", "b")

def test_plain():
    pass
"""


def _pytest(tmp_path, *args, env=None):
    extra = env or {}
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS")}
    env.pop("XGRAD_TEST_DEVICES", None)
    env.update(extra)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-p", "no:randomly", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def _project(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")


def test_no_pytest11_entry_point():
    """pytest auto-loads every ``pytest11`` entry point: xgrad must declare none (its
    installed metadata and pyproject.toml), and none installed points into xgrad."""
    dist = importlib.metadata.distribution("xgrad")
    assert not [ep for ep in dist.entry_points if ep.group == "pytest11"], dist.entry_points
    eps = importlib.metadata.entry_points(group="pytest11")
    assert not [ep for ep in eps if ep.value.split(".")[0].split(":")[0] == "xgrad"], eps
    pyproject = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "pyproject.toml")
    if os.path.exists(pyproject):
        with open(pyproject) as f:
            assert "pytest11" not in f.read()


def test_autoloaded_plugins_change_nothing(tmp_path):
    """Collection with pytest's plugin auto-loading on (every installed ``pytest11``
    plugin, xgrad's among them if it had one) gives the same tests as with it off:
    nothing installed adds, removes or parametrizes another project's tests."""
    _project(tmp_path, {"conftest.py": OTHER_CONFTEST, "test_other.py": OTHER_TEST})
    outs = []
    for autoload in (True, False):
        env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} if not autoload else {}
        rc, out = _pytest(tmp_path, "-q", "--collect-only", env=env)
        assert rc == 0, out
        outs.append(sorted(line.strip() for line in out.splitlines() if "::" in line))
    assert outs[0] == outs[1] == ["test_other.py::test_plain", "test_other.py::test_uses_own_device[a]",
                                  "test_other.py::test_uses_own_device[b]"], outs


def test_other_project_unchanged(tmp_path):
    """Another project's ``device`` fixture is its own: tests collected once each, as without xgrad."""
    _project(tmp_path, {"conftest.py": OTHER_CONFTEST, "test_other.py": OTHER_TEST})
    rc, out = _pytest(tmp_path, "-q", "--collect-only")
    assert rc == 0, out
    ids = sorted(line.strip() for line in out.splitlines() if "::" in line)
    assert ids == ["test_other.py::test_plain", "test_other.py::test_uses_own_device[a]",
                   "test_other.py::test_uses_own_device[b]"], out
    # the plugin's option does not exist unless the plugin is loaded
    rc, out = _pytest(tmp_path, "-q", "--xgrad-device=cpu")
    assert rc != 0 and "--xgrad-device" in out, out


def test_other_project_with_plugin_loaded(tmp_path):
    """Loaded explicitly, the plugin parametrizes only tests that request ``xgrad_device``."""
    _project(tmp_path, {"conftest.py": OTHER_CONFTEST, "test_other.py": OTHER_TEST + """
import xgrad

def test_xgrad(xgrad_device):
    assert xgrad.ones(2, device=xgrad_device).device == xgrad_device

def test_xgrad_default(xgrad_on_device):
    assert xgrad.ones(2).device == xgrad_on_device
"""})
    rc, out = _pytest(tmp_path, "-p", "xgrad.testing.plugin", "--xgrad-device=cpu,strict", "-v")
    assert rc == 0, out
    for name in ("test_uses_own_device[a]", "test_uses_own_device[b]", "test_plain PASSED",
                 "test_xgrad[cpu]", "test_xgrad[strict]", "test_xgrad_default[cpu]",
                 "test_xgrad_default[strict]"):
        assert name in out, out
    assert "6 passed" in out or "7 passed" in out, out
    assert "test_uses_own_device[cpu" not in out and "test_uses_own_device[a-" not in out, out


def test_pytest_plugins_line_and_alias(tmp_path):
    """``pytest_plugins`` in a root conftest loads it; an alias fixture keeps the parametrization."""
    _project(tmp_path, {"conftest.py": """
        import pytest
        pytest_plugins = ["xgrad.testing.plugin"]

        @pytest.fixture
        def device(xgrad_device):
            return xgrad_device
        """, "test_mine.py": """
        import pytest

        def test_alias(device):
            assert device.type in ("cpu", "strict")

        @pytest.mark.not_on("strict", reason="demonstrating not_on")
        def test_not_on(device):
            assert device.type == "cpu"
        """})
    rc, out = _pytest(tmp_path, "--xgrad-device=cpu,strict", "-v", "-rs")
    assert rc == 0, out
    for name in ("test_alias[cpu] PASSED", "test_alias[strict] PASSED", "test_not_on[cpu] PASSED",
                 "test_not_on[strict] SKIPPED", "demonstrating not_on"):
        assert name in out, out


@pytest.mark.parametrize("spelling", ["alias", "direct"])
def test_own_suite_parametrized(request, spelling, device):
    """xgrad's own ``device`` (an alias of ``xgrad_device``) is parametrized by --xgrad-device."""
    from xgrad.testing.plugin import requested_devices
    assert request.node.callspec.params["xgrad_device"] in requested_devices(request.config)
    assert str(device).partition(":")[0] == request.node.callspec.params["xgrad_device"].partition(":")[0]


def test_array_api_extra_suite_unchanged(tmp_path):
    """array-api-extra's own suite (its conftest defines a ``device`` fixture, which the
    auto-loaded plugin used to parametrize: 637 tests ran three times) collects each of
    its tests once per its own backends, none of them parametrized by xgrad."""
    pytest.importorskip("array_api_extra.tests.main")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    rc, out = _pytest(tmp_path, "-q", "--collect-only", "--pyargs", "array_api_extra.tests.main",
                      "-k", "device")
    assert rc == 0, out[-3000:]
    ids = [line.strip() for line in out.splitlines() if "::" in line]
    assert ids, out[-3000:]
    xgrad_ids = [i for i in ids if "xgrad" in i or re.search(r"[\[-](cpu|strict|cuda)[\]-]", i)]
    assert not xgrad_ids, xgrad_ids[:20]
    assert len(ids) == len(set(ids))
