"""Neural networks with PyTorch's interface: ``Module``, layers, ``functional``, ``init``.

Every layer is built from differentiable xgrad operations, so it runs on any
device (``model.to("cuda")``) and its gradients come from the op rules.
"""

from . import functional, init  # noqa: F401
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter", "functional", "init"] + list(_layers)
