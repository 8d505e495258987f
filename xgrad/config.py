"""Default device and default floating dtype.

Each setting comes from, in rising precedence:

1. a TOML config file: ``$XGRAD_CONFIG``, else ``~/.config/xgrad/config.toml``
   (``device = "cuda"``, ``dtype = "float64"``);
2. the environment variables ``XGRAD_DEVICE`` / ``XGRAD_DTYPE``;
3. :func:`set_default_device` / :func:`set_default_dtype`;
4. the context managers :func:`default_device` / :func:`default_dtype` (per thread).

:func:`describe` says where each setting came from (``python -m xgrad.info``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import tomllib
from pathlib import Path

from . import _dtypes

__all__ = ["get_default_device", "set_default_device", "default_device",
           "get_default_dtype", "set_default_dtype", "default_dtype", "describe", "config_path"]

_FLOAT_DTYPES = ("float32", "float64")


def config_path() -> Path:
    """The config file xgrad reads (it need not exist)."""
    env = os.environ.get("XGRAD_CONFIG")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "xgrad" / "config.toml"


def _from_file(key: str):
    path = config_path()
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        try:
            table = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"xgrad config file {path} is not valid TOML: {exc}") from exc
    value = table.get(key)
    return None if value is None else (str(value), f"config file {path}")


class _Setting:
    """One setting: a parser, the runtime value, and a per-thread context stack."""

    def __init__(self, key: str, env: str, builtin: str, parse):
        self.key, self.env, self.builtin, self.parse = key, env, builtin, parse
        self.runtime = None            # (value, source) from set_default_*
        self.base = None               # cached (parsed value, source) of file/env/runtime
        self.local = threading.local()

    def resolve(self):
        if self.runtime is not None:
            return self.runtime
        env = os.environ.get(self.env)
        if env:
            return self.parse(env), f"environment variable {self.env}={env}"
        found = _from_file(self.key)
        if found is not None:
            return self.parse(found[0]), found[1]
        return self.parse(self.builtin), "built-in default"

    def get(self):
        stack = getattr(self.local, "stack", None)
        if stack:
            return stack[-1]
        if self.base is None:
            self.base = self.resolve()
        return self.base[0]

    def set(self, value):
        self.runtime = None if value is None else (self.parse(value), "set_default_" + self.key)
        self.base = None

    @contextlib.contextmanager
    def override(self, value):
        parsed = self.parse(value)
        stack = self.local.__dict__.setdefault("stack", [])
        stack.append(parsed)
        try:
            yield parsed
        finally:
            stack.pop()

    def describe(self):
        stack = getattr(self.local, "stack", None)
        if stack:
            return stack[-1], "context manager"
        return self.resolve()


def _parse_device(value):
    from .backends import device
    return device(value)


def _parse_dtype(value):
    dt = value if isinstance(value, _dtypes.DType) else _dtypes.from_name(str(value))
    if dt.name not in _FLOAT_DTYPES:
        raise ValueError(f"the default dtype must be float32 or float64, got {dt}")
    return dt


_DEVICE = _Setting("device", "XGRAD_DEVICE", "cpu", _parse_device)
_DTYPE = _Setting("dtype", "XGRAD_DTYPE", "float32", _parse_dtype)


def get_default_device():
    """The device new tensors go to when no ``device=`` is given."""
    return _DEVICE.get()


def set_default_device(device) -> None:
    """Set the default device for all threads (``None`` goes back to env/file/built-in)."""
    _DEVICE.set(device)


def default_device(device):
    """Context manager: within it (in this thread), new tensors go to ``device``."""
    return _DEVICE.override(device)


def get_default_dtype():
    """The floating dtype of tensors made from Python floats (float32 unless set)."""
    return _DTYPE.get()


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype: ``xgrad.float32`` or ``xgrad.float64``."""
    _DTYPE.set(dtype)


def default_dtype(dtype):
    """Context manager: within it (in this thread), the default floating dtype is ``dtype``."""
    return _DTYPE.override(dtype)


def describe() -> dict:
    """``{"device": (value, source), "dtype": (value, source)}``."""
    return {"device": _DEVICE.describe(), "dtype": _DTYPE.describe()}
