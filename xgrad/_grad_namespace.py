"""The array API standard's face (``xgrad.array_api``) with every floating/complex
tensor it creates requiring grad (a clone of a leaf, so that in-place updates are
recorded).

For running array-API code (the conformance suite) on tensors that are part of
an autograd graph::

    ARRAY_API_TESTS_MODULE="exec('from xgrad._grad_namespace import namespace; xp = namespace()')"
"""

from __future__ import annotations

import functools
import types

_CREATION = ("asarray", "arange", "empty", "empty_like", "eye", "from_dlpack", "full", "full_like",
             "linspace", "ones", "ones_like", "zeros", "zeros_like")


def _requiring_grad(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        if out.dtype.is_inexact and not out.requires_grad:
            from .ops.creation_ops import clone
            from . import array_api as xp
            # a non-leaf on the graph (clone keeps values bit for bit), so in-place updates
            # are recorded rather than refused as on a leaf
            out = clone(xp.asarray(out, copy=True).requires_grad_())
        return out
    return wrapper


def namespace() -> types.ModuleType:
    """A copy of ``xgrad.array_api`` whose creation functions make tensors that require grad."""
    from . import array_api
    ns = types.ModuleType("xgrad_array_api_requires_grad")
    ns.__dict__.update({k: v for k, v in vars(array_api).items()
                        if not k.startswith("_") or k.startswith("__array")})
    for name in _CREATION:
        setattr(ns, name, _requiring_grad(getattr(array_api, name)))
    return ns
