"""Helpers of PyTorch's BLAS-style functions (``einsum``'s contraction planner).

No new rules: ``einsum`` contracts pairs of operands with ``matmul`` after
``permute_dims``/``reshape`` (repeated labels through ``diagonal``, labels of
one operand alone summed out first), so its gradients, of any order, and its
JVP are those of the ops it is made of.
"""

from __future__ import annotations


def parse_einsum(equation: str, ndims):
    """``(input label lists, output labels)`` of an einsum equation; ``...`` becomes
    labels of its own (right-aligned across operands, as broadcasting aligns them)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation, {len(ndims)} given")
    n_ell = 0
    for term, nd in zip(terms, ndims):
        if "..." in term:
            n_ell = max(n_ell, nd - (len(term) - 3))
    ell = [chr(0x100 + i) for i in range(n_ell)]
    inputs = []
    for term, nd in zip(terms, ndims):
        if "..." in term:
            left, right = term.split("...")
            k = nd - len(left) - len(right)
            if k < 0:
                raise RuntimeError(f"einsum(): the subscript {term!r} has more labels than its "
                                   f"operand's {nd} dimensions")
            labels = list(left) + ell[n_ell - k:] + list(right)
        else:
            labels = list(term)
        if len(labels) != nd:
            raise RuntimeError(f"einsum(): the subscript {term!r} names {len(labels)} dimensions "
                               f"but its operand has {nd}")
        for c in labels:
            if not (c.isalpha() or ord(c) >= 0x100):
                raise RuntimeError(f"einsum(): invalid subscript {c!r} in {equation!r}")
        inputs.append(labels)
    if rhs is None:
        counts = {}
        for labels in inputs:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        output = ell + sorted(c for c, n in counts.items() if n == 1 and ord(c) < 0x100)
    else:
        if "..." in rhs:
            left, right = rhs.split("...")
            output = list(left) + ell + list(right)
        else:
            output = list(rhs)
        seen = {c for labels in inputs for c in labels}
        for c in output:
            if c not in seen:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
        if len(set(output)) != len(output):
            raise RuntimeError("einsum(): output subscript appears more than once in the output")
    return inputs, output
