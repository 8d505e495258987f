"""pytest plugin: xgrad as one more array API backend in its clients' own test suites.

All the patches live here (loaded with ``-p xgrad_clients``, ``ci/clients`` on
``PYTHONPATH``; ``run.sh`` does both):

* SciPy: the ``xp`` fixture of ``scipy/conftest.py`` runs on xgrad only (its
  params replaced by one, id ``xgrad``), and ``xgrad`` joins SciPy's known
  backends so that ``np_only`` / ``skip_xp_backends`` markers apply to it; its
  ``devices`` fixture yields xgrad's cpu device only.
* scikit-learn: ``yield_namespace_device_dtype_combinations`` (and
  ``yield_namespaces``) yield ``("xgrad", None, "float64")``: the array-API
  tests and the estimator checks (``check_array_api_input``) run on xgrad.
* array-api-extra: its ``Backend`` enum gains ``XGRAD``, and its test
  ``conftest.py``'s ``library`` fixture runs on it (``xp`` is then the
  namespace ``__array_namespace__`` returns).

Every namespace is reached through ``Tensor.__array_namespace__()``, as a user's
array-API code reaches it. Tests ids end with (or contain) ``xgrad``; run.sh
selects them with ``-k xgrad``. The default float dtype is float64, as these
suites expect (SciPy sets torch's the same way).

``expected_failures.txt`` (next to this file): one test id per line (``*`` matches any
characters, ``?`` one, for one test parametrized many ways) and,
after `` # ``, the reason. Each listed test is marked ``xfail(strict=True)``: listed
and failing is reported as xfailed with its reason; listed and passing fails
the run (the list must shrink); unlisted and failing fails the run.
"""

from __future__ import annotations

import os
import re
import sys

import pytest

NAME = "xgrad"
HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected_failures.txt")

if not os.environ.get("SCIPY_ARRAY_API"):
    raise RuntimeError("set SCIPY_ARRAY_API=1 before pytest starts (ci/clients/run.sh does)")

import xgrad  # noqa: E402

xgrad.set_default_dtype(xgrad.float64)


# -- scikit-learn ------------------------------------------------------------------------
def _patch_sklearn():
    try:
        import sklearn.utils._array_api as aa
    except ImportError:
        return

    def yield_namespaces(include_numpy_namespaces=True):
        """xgrad only (patched by ci/clients/xgrad_clients.py)."""
        yield NAME

    def yield_namespace_device_dtype_combinations(include_numpy_namespaces=True):
        """xgrad on its cpu device in float64 (patched by ci/clients/xgrad_clients.py)."""
        yield NAME, None, "float64"

    originals = {aa.yield_namespaces: yield_namespaces,
                 aa.yield_namespace_device_dtype_combinations: yield_namespace_device_dtype_combinations}
    # the defining module, and any sklearn module that imported them already
    for mod in list(sys.modules.values()):
        if (getattr(mod, "__name__", None) or "").startswith("sklearn"):
            for attr in ("yield_namespaces", "yield_namespace_device_dtype_combinations"):
                fn = getattr(mod, attr, None)
                if fn in originals:
                    setattr(mod, attr, originals[fn])


_patch_sklearn()


# -- array-api-extra ---------------------------------------------------------------------
def _patch_array_api_extra():
    """Add the member ``XGRAD = "xgrad"`` to array-api-extra's ``Backend`` enum (its
    test conftest parametrizes ``library`` over the members, and imports the enum
    after this plugin)."""
    try:
        from array_api_extra._lib._backends import Backend
    except ImportError:
        return
    if "XGRAD" in Backend.__members__:
        return
    member = object.__new__(Backend)
    member._name_, member._value_ = "XGRAD", NAME
    member.__objclass__ = Backend
    member.__init__(NAME)
    Backend._member_names_.append("XGRAD")
    Backend._member_map_["XGRAD"] = member
    Backend._value2member_map_[NAME] = member
    type.__setattr__(Backend, "XGRAD", member)


_patch_array_api_extra()


# -- SciPy -------------------------------------------------------------------------------
_scipy_done = set()


def _cpu_devices(xp):
    """SciPy's ``devices`` fixture, for xgrad: its cpu device (and None, the default)."""
    return [xgrad.device("cpu"), None]


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """Before pytest parametrizes SciPy's ``xp`` fixture: make xgrad its only param.
    SciPy's ``devices`` fixture (device-propagation tests loop over every device
    ``__array_namespace_info__().devices()`` lists) yields the cpu device only: the
    job runs on cpu, as SciPy's torch runs on a CPU-only machine list only "cpu"
    (xgrad also lists its strict:N test devices and dask)."""
    if "xp" not in metafunc.fixturenames:
        return
    for fixturedef in metafunc._arg2fixturedefs.get("devices", ()):
        module = sys.modules.get(getattr(fixturedef.func, "__module__", ""), None)
        if module is not None and hasattr(module, "xp_known_backends"):
            fixturedef.func = _cpu_devices
    for fixturedef in metafunc._arg2fixturedefs.get("xp", ()):
        module = sys.modules.get(getattr(fixturedef.func, "__module__", ""), None)
        if module is None or not hasattr(module, "xp_known_backends") or \
                not hasattr(module, "xp_available_backends"):
            continue
        if id(fixturedef) in _scipy_done:
            continue
        module.xp_known_backends.add(NAME)
        fixturedef.params = (pytest.param(xgrad, id=NAME, marks=pytest.mark.array_api_backends),)
        fixturedef.ids = None
        _scipy_done.add(id(fixturedef))


# -- expected failures -------------------------------------------------------------------
def read_expected(path=EXPECTED) -> dict:
    """{test id: reason} from the expected-failures file."""
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            test_id, _, reason = line.partition(" # ")
            if not reason.strip():
                raise ValueError(f"{path}: no reason given for {test_id!r}")
            expected[test_id.strip()] = reason.strip()
    return expected


def test_key(item) -> str:
    """A test's id independent of where the client is installed:
    ``scipy/special/tests/test_x.py::test_y[xgrad]``, ``array-api-extra/tests/...``."""
    path = str(item.path)
    parts = item.nodeid.split("::", 1)
    rest = parts[1] if len(parts) > 1 else item.name
    for marker in ("site-packages" + os.sep, "dist-packages" + os.sep):
        if marker in path:
            return path.rsplit(marker, 1)[1].replace(os.sep, "/") + "::" + rest
    for part in ("array_api_extra-", "array-api-extra-"):
        if part in path:
            tail = path.split(part, 1)[1]
            return "array-api-extra/" + tail.split(os.sep, 1)[1].replace(os.sep, "/") + "::" + rest
    return item.nodeid


def _pattern(entry):
    """An entry with ``*`` (any characters) or ``?`` (one) as a regular expression;
    everything else, brackets included, is literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in entry))


def pytest_configure(config):
    config._xgrad_expected = read_expected()
    config._xgrad_seen = set()
    config._xgrad_clients = set()  # the clients (first part of the test keys) collected


def pytest_collection_modifyitems(config, items):
    expected = config._xgrad_expected
    patterns = [(k, _pattern(k)) for k in expected if any(c in k for c in "*?")]
    for item in items:
        key = test_key(item)
        config._xgrad_clients.add(key.split("/", 1)[0])
        entry = key if key in expected else next(
            (k for k, p in patterns if p.fullmatch(key)), None)
        if entry is not None:
            reason = expected[entry]
            config._xgrad_seen.add(entry)
            item.add_marker(pytest.mark.xfail(reason=f"expected failure (the client's): {reason}",
                                              strict=True, run=True))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    listed = {k for k in config._xgrad_expected if k.split("/", 1)[0] in config._xgrad_clients}
    seen = config._xgrad_seen
    terminalreporter.write_line(
        f"xgrad clients: {len(seen)} of {len(listed)} expected failures were collected in this run")
    if os.environ.get("XGRAD_CLIENTS_FULL") and listed - seen:
        terminalreporter.write_line("expected failures never collected (stale entries?):")
        for key in sorted(listed - seen):
            terminalreporter.write_line(f"  {key}")
