"""Anomaly detection: remember where each op ran, and fail on NaN/Inf gradients.

With it on, every recorded node keeps the stack of the user code that ran its
forward; a backward that produces a NaN or an infinity raises an error naming
the node and showing that stack.
"""

from __future__ import annotations

import traceback

from .grad_mode import STATE, _GradState

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "capture_trace",
           "check_gradients"]


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


class set_detect_anomaly:
    """Turn anomaly detection on or off (at once; as a context manager, until exit)."""

    def __init__(self, mode: bool):
        self._prev = _GradState.anomaly
        _GradState.anomaly = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _GradState.anomaly = self._prev
        return False


class detect_anomaly(set_detect_anomaly):
    """Context manager (or decorator) that enables anomaly detection inside it."""

    def __init__(self, check_nan: bool = True):
        self._mode = check_nan
        self._prev = None

    def __enter__(self):
        self._prev = _GradState.anomaly
        _GradState.anomaly = self._mode
        return self

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self._mode):
                return func(*args, **kwargs)
        return wrapper


def capture_trace() -> list[str]:
    """The user's stack at the point an op is recorded (xgrad's own frames dropped)."""
    frames = traceback.extract_stack()
    user = [f for f in frames if "/xgrad/" not in f.filename.replace("\\", "/")]
    return traceback.format_list(user[-12:])


def check_gradients(node, results) -> None:
    """Raise if ``node``'s backward produced a NaN or an infinity."""
    for i, g in enumerate(results):
        if g is None:
            continue
        data = getattr(g, "_data", g)
        xp = node.device.xp
        if not bool(xp.all(xp.isfinite(data))):
            where = "".join(node.trace) if node.trace else "  (recorded before anomaly mode was on)\n"
            raise RuntimeError(f"Function '{node.name()}' returned nan or inf values in its "
                               f"{i}th output.\nThe forward call that made this node:\n{where}")
