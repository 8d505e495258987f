"""``repr`` of tensors in PyTorch's style: ``tensor([0., 1.], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import _dtypes



def tensor_repr(t) -> str:
    host = t._device.backend.to_numpy(t._data)
    prefix = "tensor("
    if host.size == 0:
        body = "[]" if host.ndim == 1 else f"[], size={tuple(host.shape)}"
    else:
        body = np.array2string(host, separator=", ", prefix=prefix, precision=4,
                               floatmode=_float_mode(host), threshold=1000, edgeitems=3,
                               max_line_width=80, suppress_small=True,
                               formatter={"bool": lambda b: "True" if b else "False"})
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    from .config import get_default_dtype
    if t.dtype not in (get_default_dtype(), _dtypes.int64, _dtypes.bool_):
        extras.append(f"dtype=xgrad.{t.dtype.name}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"


def _float_mode(host) -> str:
    """PyTorch prints whole numbers as ``1.`` and anything else with 4 decimals."""
    if host.dtype.kind != "f":
        return "maxprec_equal"
    finite = host[np.isfinite(host)]
    whole = finite.size == 0 or bool(np.all(finite == np.round(finite)))
    return "maxprec_equal" if whole else "fixed"
