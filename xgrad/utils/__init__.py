"""Utilities: gradient checkpointing (``xgrad.utils.checkpoint``)."""

from .checkpoint import checkpoint

__all__ = ["checkpoint"]
