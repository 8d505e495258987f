"""The differentiable operations, grouped as the array API standard groups them.

Each module registers its ops (forward + VJP rules, see ``_registry``) and
defines the public functions that run them.
"""

from . import (creation_ops, elementwise, indexing, linalg, manipulation, nn,  # noqa: F401
               reductions, searching)
from ._registry import REGISTRY, Op, defop, call  # noqa: F401
