"""Utilities: gradient checkpointing (``xgrad.utils.checkpoint``) and data loading
(``xgrad.utils.data``: ``Dataset``, ``TensorDataset``, ``DataLoader``, ...)."""

from .checkpoint import checkpoint

__all__ = ["checkpoint", "data"]


def __getattr__(name):
    """Load ``xgrad.utils.data`` on first use."""
    if name == "data":
        import importlib
        return importlib.import_module(f"{__name__}.data")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
