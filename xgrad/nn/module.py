"""``Module``: the base class of layers and models, as in ``torch.nn.Module``."""

from __future__ import annotations

from collections import OrderedDict

from .._tensor import Tensor
from .parameter import Parameter

__all__ = ["Module"]


class Module:
    """Base class of layers and models. Subclasses set parameters, buffers and
    submodules as attributes in ``__init__`` and define ``forward``; calling the
    module calls ``forward``."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign to a Module before Module.__init__() is called")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r}")
            self._buffers[name] = value
        elif name in self._parameters or name in self._modules:
            if value is not None:
                kind = "parameter" if name in self._parameters else "child module"
                raise TypeError(f"cannot assign {type(value).__name__} as {kind} {name!r}")
            (self._parameters if name in self._parameters else self._modules)[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (or None) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            "(xgrad.nn.Parameter or None required)")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. running statistics);
        it moves with ``to()`` and is in ``state_dict()`` when ``persistent``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} as buffer {name!r}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module) -> None:
        """Add a submodule under ``name``."""
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # -- traversal ------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix=""):
        """(name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        """This module and every descendant."""
        return (m for _, m in self.named_modules())

    def named_children(self):
        """(name, module) for the direct submodules."""
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        """The direct submodules."""
        return (m for _, m in self.named_children())

    def _named_members(self, store, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, parameter) for every parameter, each once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        """Every parameter, each once (pass to an optimizer)."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        """(dotted name, buffer) for every buffer."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # -- modes ----------------------------------------------------------------------------------
    def train(self, mode: bool = True):
        """Training mode (dropout active, batch norm on batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None by default)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                import xgrad
                with xgrad.no_grad():
                    p.grad.zero_()

    # -- devices and dtypes ----------------------------------------------------------------
    def to(self, *args, **kwargs):
        """Move (and/or cast floating-point) parameters and buffers in place; returns self.
        Parameters keep their identity, so an optimizer made before stays valid."""
        return self._apply(lambda t: _converted(t, args, kwargs))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        import xgrad
        return self.to(xgrad.float32)

    def double(self):
        import xgrad
        return self.to(xgrad.float64)

    def _apply(self, fn):
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    _rebind(p, fn(p.detach()))
                    if p.grad is not None:
                        p.grad = fn(p.grad.detach())
            for name, b in list(m._buffers.items()):
                if b is not None:
                    m._buffers[name] = fn(b)
        return self

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant, then on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- state -------------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered mapping from dotted names to parameters and persistent buffers
        (detached unless ``keep_vars``)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values (moved to each tensor's device) into the parameters and buffers.
        Returns (missing_keys, unexpected_keys); with ``strict`` either is an error."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: "
                               f"missing keys {missing}, unexpected keys {unexpected}")
        import xgrad
        with xgrad.no_grad():
            for key, target in own.items():
                if key in state_dict:
                    _load_into(key, target, state_dict[key])
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + _indent(repr(m)) for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))


class _IncompatibleKeys(tuple):
    """(missing_keys, unexpected_keys), also by name."""

    def __new__(cls, missing, unexpected):
        obj = super().__new__(cls, (missing, unexpected))
        obj.missing_keys, obj.unexpected_keys = missing, unexpected
        return obj


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _converted(t, args, kwargs):
    """``t.to(*args)``, but a dtype applies only to floating-point tensors."""
    from .._creation import parse_to_args
    device, dtype, _ = parse_to_args(t, *args, **kwargs)
    if dtype is not None and not t.dtype.is_floating_point:
        dtype = None
    out = t
    if device is not None:
        out = out.to(device)
    if dtype is not None:
        out = out.to(dtype)
    return out


def _rebind(param, value):
    """Give ``param`` the data (and device) of ``value``, in place."""
    if value is param or (value._data is param._data and value._device is param._device):
        return
    param._data = value._data
    param._device = value._device
    param._vc[0] += 1


def _load_into(key, target, value):
    if not isinstance(value, Tensor):
        import xgrad
        value = xgrad.asarray(value)
    if tuple(value.shape) != tuple(target.shape):
        raise RuntimeError(f"size mismatch for {key}: copying a param with shape {value.shape} "
                           f"from checkpoint, the shape in current model is {target.shape}.")
    target.copy_(value)
