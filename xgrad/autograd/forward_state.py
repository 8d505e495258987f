"""The switch the dispatcher reads to propagate forward-mode tangents.

``depth`` is the number of active ``forward_ad.dual_level()`` contexts; while it
is non-zero every op's result goes through ``hook(op, args, params, result)``,
which attaches the result's tangent. Outside forward mode this costs one
attribute read per op.
"""

from __future__ import annotations


class _ForwardState:
    depth = 0
    hook = None
    restore = None  # restore(node, out, inputs): tangents for tensors rebuilt by backward
    inplace = None  # inplace(t, others, compute, write, body): an in-place op in forward mode


STATE = _ForwardState()
