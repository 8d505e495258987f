"""``python -m xgrad.info``: the backends found, their devices, and the settings
with where each came from."""

from __future__ import annotations

import platform


def report() -> str:
    """The text ``python -m xgrad.info`` prints."""
    import xgrad
    from xgrad import backends, config
    lines = [f"xgrad {xgrad.__version__} (array API {xgrad.__array_api_version__}) on Python "
             f"{platform.python_version()}", "", "backends:"]
    for name in backends.backend_names():
        try:
            backend = backends.get_backend(name)
        except Exception as exc:  # not installed, no device: say why
            lines.append(f"  {name:<8} unavailable: {exc}")
            continue
        if backend.indexed:
            devices = ", ".join(f"{name}:{i}" for i in range(backend.device_count()))
        else:
            devices = name
        lines.append(f"  {name:<8} {_library(backend)}; devices: {devices}")
    lines += ["", "settings:"]
    for key, (value, source) in config.describe().items():
        lines.append(f"  default {key:<7} {value}  (from {source})")
    lines.append(f"  config file    {config.config_path()}")
    return "\n".join(lines)


def _library(backend) -> str:
    module = {"cpu": "numpy", "cuda": "cupy", "strict": "array_api_strict"}.get(backend.name)
    if module is None:
        return type(backend).__name__
    mod = __import__(module)
    return f"{module} {getattr(mod, '__version__', '?')}"


if __name__ == "__main__":
    print(report())
