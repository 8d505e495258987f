"""Optimizers with PyTorch's interface. Updates run in place under ``no_grad`` on the
parameters' own device; their state (momentum, moments) lives there too."""

from . import lr_scheduler  # noqa: F401
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
