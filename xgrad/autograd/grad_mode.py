"""Grad mode: whether operations record the graph. Thread-local, like PyTorch's."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]


class _GradState(threading.local):
    enabled = True   # class attributes: the values every new thread starts with
    anomaly = False  # set on the class by set_detect_anomaly (for all threads)


STATE = _GradState()


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are recorded (in this thread)."""
    return STATE.enabled


class _GradMode:
    """A grad-mode switch usable as a context manager and as a decorator."""

    mode = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = STATE.enabled
            STATE.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                STATE.enabled = prev
        return wrapper


class no_grad(_GradMode):
    """Within it (or in a function it decorates), operations are not recorded."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradMode):
    """Like ``no_grad`` (xgrad has no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` turns recording off at once; as a context manager,
    the previous mode comes back on exit."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, func):
        STATE.enabled = self._prev  # as a decorator it must not change the mode now
        return super().__call__(func)
