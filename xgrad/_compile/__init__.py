"""``xgrad.compile``: trace a step once, replay its backend array calls afterwards.

The implementation is in ``_api`` (the interface), ``_trace`` (recording) and
``_program`` (the generated replay); ``_hooks`` is all the rest of xgrad imports
(so that the engine and the backends can import it early). See docs/compile.md.
"""

_PUBLIC = ("compile", "CompiledFunction", "GraphBreak", "GraphBreakWarning")
__all__ = list(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        from . import _api
        return getattr(_api, name)
    raise AttributeError(f"module 'xgrad._compile' has no attribute {name!r}")
