"""``Parameter``: a leaf tensor that a Module registers as one of its parameters."""

from __future__ import annotations

from .._tensor import Tensor, _init

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that is a module parameter: it requires grad unless told otherwise,
    and assigning one to a Module attribute registers it. Shares ``data``'s array."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        import xgrad
        if data is None:
            data = xgrad.empty(0)
        elif not isinstance(data, Tensor):
            data = xgrad.tensor(data)
        p = object.__new__(cls)
        _init(p, data._ensure_buffer(), data._device)
        p._vc = data._vc
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self._requires_grad))

