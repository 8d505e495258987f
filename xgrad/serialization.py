"""``xgrad.save`` / ``xgrad.load``: tensors and nested containers in a NumPy ``.npz``.

The file is a plain ``.npz`` (readable with ``numpy.load``, no pickle): one
array per tensor (``t0``, ``t1``, ...) and a JSON header (``__xgrad__``, UTF-8
bytes) describing the structure: dicts, lists, tuples, numbers, strings, None,
and tensors with their device, dtype and ``requires_grad``.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict

import numpy as np

from ._tensor import Tensor

__all__ = ["save", "load"]

_HEADER = "__xgrad__"
_FORMAT = 1


def save(obj, f) -> None:
    """Write ``obj`` (a tensor, or nested dicts/lists/tuples of tensors and plain
    values, e.g. a state dict) to ``f``, a path or a binary file object.
    Parameters are saved as tensors; the data is copied to the host."""
    arrays = {}
    header = {"format": _FORMAT, "root": _encode(obj, arrays)}
    arrays[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


def _encode(obj, arrays):
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        arrays[key] = np.asarray(obj.detach().numpy(), order="C")  # keeps 0-d
        return {"__tensor__": key, "device": str(obj.device), "dtype": obj.dtype.name,
                "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, dict):
        if not all(isinstance(k, (str, int)) for k in obj):
            raise TypeError("xgrad.save: dict keys must be str or int")
        return {"__dict__": [[k, _encode(v, arrays)] for k, v in obj.items()],
                "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, (list, tuple)):
        return {"__list__" if isinstance(obj, list) else "__tuple__":
                [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"__value__": obj}
    if isinstance(obj, np.generic):
        return {"__value__": obj.item()}
    raise TypeError(f"xgrad.save cannot store a {type(obj).__name__}")


def load(f, map_location=None, weights_only=True):
    """Read what :func:`save` wrote. Tensors go to the device they were saved from,
    or to ``map_location``: a device (name), a dict {saved device: device}, or a
    callable ``(tensor, saved_device_name) -> tensor``."""
    with np.load(f, allow_pickle=False) as data:
        header = json.loads(bytes(data[_HEADER]).decode("utf-8"))
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown xgrad file format {header.get('format')!r}")
        return _decode(header["root"], data, map_location)


def _decode(node, data, map_location):
    if "__tensor__" in node:
        return _tensor(node, data[node["__tensor__"]], map_location)
    if "__dict__" in node:
        items = [(k, _decode(v, data, map_location)) for k, v in node["__dict__"]]
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if "__list__" in node:
        return [_decode(v, data, map_location) for v in node["__list__"]]
    if "__tuple__" in node:
        return tuple(_decode(v, data, map_location) for v in node["__tuple__"])
    return node["__value__"]


def _tensor(node, array, map_location):
    import xgrad
    saved = node["device"]
    if callable(map_location):
        t = xgrad.asarray(array, dtype=node["dtype"], device="cpu", copy=True)
        t = map_location(t, saved)
    else:
        if isinstance(map_location, dict):
            target = map_location.get(saved, saved)
        else:
            target = saved if map_location is None else map_location
        t = xgrad.asarray(array, dtype=node["dtype"], device=target, copy=True)
    if node["requires_grad"]:
        t.requires_grad_(True)
    return t
