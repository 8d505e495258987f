"""``xgrad.compile``: trace a step once, replay its backend array calls afterwards.

See docs/compile.md for the design; :func:`compile` for the interface.
"""

from __future__ import annotations

import functools
import warnings

from .._tensor import Tensor
from .. import config as _config

_DEFAULT_DEVICE = _config._DEVICE.get
_DEFAULT_DTYPE = _config._DTYPE.get
from ..autograd.grad_mode import STATE as _GRAD, _GradState
from ..autograd.forward_state import STATE as _FW
from . import _hooks
from ._trace import GraphBreak, GraphBreakWarning, Trace
from ._program import build_program

__all__ = ["compile", "CompiledFunction", "GraphBreak", "GraphBreakWarning"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_SIMPLE = (bool, int, float, complex, str, type(None), bytes)
MAX_UNSTABLE_TRACES = 3
#: Signatures a compiled function traces at most (PyTorch's cache_size_limit is 8 too); calls
#: with further signatures run eagerly, with one warning.
CACHE_SIZE_LIMIT = 8


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None,
            options=None, disable: bool = False):
    """Compile ``model`` (a function or an ``nn.Module``): PyTorch's ``torch.compile``.

    The first call with a new signature (the shapes, dtypes, devices and
    ``requires_grad`` flags of the tensor arguments, the values of the other
    arguments, the grad mode, and the state of the tensors the function reads
    that are not arguments: parameters, their ``.grad``, optimizer state) runs
    the function eagerly and records every backend array call it makes, in its
    forward and in any backward it runs (``.backward()``, ``autograd.grad``,
    ``xgrad.func.grad``), and in an optimizer's ``step()``/``zero_grad()``. Later
    calls with that signature replay the recorded calls on the new arrays: no
    Tensor, graph node or engine work. Outputs, ``.grad`` of leaves, in-place
    parameter updates and random draws come out as in eager mode (on NumPy,
    bitwise).

    Where the function reads a tensor's value in Python (``bool(t)``,
    ``t.item()``, ``float(t)``, ``t.numpy()``, ``t.tolist()``, printing), uses
    a data-dependent shape (boolean-mask indexing, ``nonzero``), runs a tensor
    hook, or returns a tensor whose autograd graph is still to be used, that
    signature runs eagerly from then on, with one :class:`GraphBreakWarning`
    naming the line; with ``fullgraph=True`` the trace raises
    :class:`GraphBreak` instead. Anomaly mode, forward-mode AD and the dask
    device run eagerly (with one warning; ``fullgraph=True`` raises).

    ``mode`` (PyTorch's mode names), ``backend="inductor"`` and ``dynamic=None``
    or ``False`` are accepted and change nothing (xgrad always specializes on
    shapes); ``backend="eager"`` and ``disable=True`` return ``model``
    unchanged; ``dynamic=True``, other backends and ``options`` raise.
    Usable as a decorator, with or without arguments.
    """
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode!r}, should be one of: "
                           f"{', '.join(str(m) for m in _MODES[1:])}")
    if dynamic:
        raise NotImplementedError("xgrad.compile specializes on shapes (dynamic=True is not "
                                  "supported): a new shape traces again")
    if options:
        raise NotImplementedError("xgrad.compile takes no options")
    if backend not in ("inductor", "eager", "xgrad"):
        raise NotImplementedError(f"xgrad.compile has no backend {backend!r}: use the default "
                                  f"('inductor', which xgrad reads as its own replay) or 'eager'")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"xgrad.compile expects a callable, got {type(model).__name__}")
    if disable or backend == "eager":
        return model
    return CompiledFunction(model, fullgraph=fullgraph)


class _Entry:
    """The programs of one signature (several when the guards differ) or eager mode."""

    __slots__ = ("programs", "eager", "unstable")

    def __init__(self):
        self.programs = []
        self.eager = None     # the reason this signature runs eagerly
        self.unstable = 0


class CompiledFunction:
    """What :func:`compile` returns: call it like the function it wraps.

    ``cache_info()`` reports the traced signatures; ``programs()`` the generated
    replay functions (their ``.source`` shows the recorded calls)."""

    def __init__(self, fn, *, fullgraph=False):
        functools.update_wrapper(self, fn, updated=())
        self._fn = fn
        self._fullgraph = fullgraph
        self._cache = {}
        self._keep = {}  # objects whose identity is part of a signature
        self._warned = set()
        self.traces = 0

    def __repr__(self):
        return f"<xgrad.compile of {self._fn!r}>"

    def __getattr__(self, name):
        """Attributes of the compiled object (a compiled module's ``parameters()``, ...)."""
        if name.startswith("__") or name in ("_fn", "_cache", "_keep", "_warned", "_fullgraph"):
            raise AttributeError(name)
        return getattr(self._fn, name)

    def __get__(self, obj, objtype=None):  # compiled methods bind like functions
        if obj is None:
            return self
        return functools.partial(self, obj)

    def cache_info(self) -> dict:
        """``{"signatures": n, "programs": n, "eager": n, "traces": n}``."""
        entries = list(self._cache.values())
        return {"signatures": len(entries),
                "programs": sum(len(e.programs) for e in entries),
                "eager": sum(1 for e in entries if e.eager is not None),
                "traces": self.traces}

    def programs(self) -> list:
        """The traced programs (``.source``: the generated replay and guard)."""
        return [p for e in self._cache.values() for p in e.programs]

    def reset(self) -> None:
        """Forget every traced program."""
        self._cache.clear()
        self._keep.clear()
        self._warned.clear()

    # -- calls ----------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        fn = self._fn
        if _hooks.ACTIVE is not None or _GradState.anomaly or _FW.depth:
            if _hooks.ACTIVE is None:
                self._refuse("anomaly mode" if _GradState.anomaly else "forward-mode AD")
            return fn(*args, **kwargs)  # (inside another compiled function's trace: inlined)
        flat = []
        parts = []
        for a in args:  # (the common case written out: tensors among the positional arguments)
            if isinstance(a, Tensor):
                dev = a._device
                if dev.type == "dask":
                    return self._eager_dask(args, kwargs)
                d = a._data
                flat.append(a)
                parts.append((id(dev), d.shape, d.dtype, a._requires_grad, a._base is None))
            else:
                spec = _spec(a, flat, self._keep)
                if spec is None:
                    return self._eager_dask(args, kwargs)
                parts.append(spec)
        if kwargs:
            spec = _spec(kwargs, flat, self._keep)
            if spec is None:
                return self._eager_dask(args, kwargs)
            parts.append(spec)
        key = (tuple(parts), _GRAD.enabled, id(_DEFAULT_DEVICE()), id(_DEFAULT_DTYPE()))
        if len(flat) > 1:
            ids = [id(t) for t in flat]
            if len(set(ids)) != len(ids):
                key = key + (tuple(ids.index(i) for i in ids),)
        entry = self._cache.get(key)
        if entry is not None:
            if entry.eager is not None:
                return fn(*args, **kwargs)
            for prog in entry.programs:
                if prog.guard(flat):
                    return prog.run(flat)
            if len(entry.programs) >= CACHE_SIZE_LIMIT:
                self._warn(f"more than {CACHE_SIZE_LIMIT} programs for one signature (the "
                           f"state the function reads keeps changing): new states", None)
                return fn(*args, **kwargs)
        else:
            if len(self._cache) >= CACHE_SIZE_LIMIT:
                self._warn(f"more than {CACHE_SIZE_LIMIT} signatures (xgrad._compile._api."
                           f"CACHE_SIZE_LIMIT; new shapes, dtypes or argument values trace "
                           f"again): new signatures", None)
                return fn(*args, **kwargs)
            entry = self._cache[key] = _Entry()
        return self._trace(entry, flat, args, kwargs)

    def _eager_dask(self, args, kwargs):
        self._refuse("an argument on the dask device (lazy arrays are not compiled)")
        return self._fn(*args, **kwargs)

    def _trace(self, entry, flat, args, kwargs):
        fn = self._fn
        for t in flat:
            if t._grad_fn is not None and t._requires_grad:
                entry.eager = ("an argument that belongs to an autograd graph built outside "
                               "the compiled function")
                self._warn(entry.eager, None)
                return fn(*args, **kwargs)
        self.traces += 1
        trace = Trace(self._fullgraph, flat, getattr(fn, "__name__", "fn"))
        trace.value_guards = _python_guards(fn)
        trace.install()
        try:
            out = fn(*args, **kwargs)
        except BaseException:
            trace.finish(None, False)
            raise
        result = trace.finish(out, True)
        if trace.broken is not None:
            reason, where = trace.broken
            entry.eager = reason
            self._warn(reason, where)
        elif trace.unstable is not None:
            entry.unstable += 1
            if entry.unstable >= MAX_UNSTABLE_TRACES:
                entry.eager = trace.unstable
                self._warn(trace.unstable + f", in {entry.unstable} traces in a row", None)
        elif result is not None:
            outputs, writebacks = result
            entry.programs.append(build_program(trace, outputs, writebacks,
                                                getattr(fn, "__name__", "fn")))
        return out

    def _refuse(self, reason):
        if self._fullgraph:
            raise GraphBreak(f"xgrad.compile(fullgraph=True): {reason} cannot be compiled")
        self._warn(reason, None)

    def _warn(self, reason, where):
        if reason in self._warned:
            return
        self._warned.add(reason)
        name = getattr(self._fn, "__qualname__", repr(self._fn))
        if where is not None and where[1]:
            file, line, src = where
            msg = (f"xgrad.compile: {reason} at {file}:{line} ({src}): this signature of {name} "
                   f"runs eagerly")
            warnings.warn_explicit(msg, GraphBreakWarning, file, line)
        else:
            warnings.warn(f"xgrad.compile: {reason}: this signature of {name} runs eagerly",
                          GraphBreakWarning, stacklevel=3)


def _spec(x, flat, keep):
    """The signature of an argument structure; its tensors appended to ``flat``.
    None when a tensor is on a device compile refuses (dask)."""
    t = type(x)
    if t is tuple or t is list:
        parts = []
        for v in x:
            s = _spec(v, flat, keep)
            if s is None:
                return None
            parts.append(s)
        return (t, tuple(parts))
    if isinstance(x, Tensor):
        dev = x._device
        if dev.type == "dask":
            return None
        flat.append(x)
        d = x._data
        return (id(dev), d.shape, d.dtype, x._requires_grad, x._base is None)
    if t is dict:
        parts = []
        for k, v in x.items():
            s = _spec(v, flat, keep)
            if s is None:
                return None
            parts.append((k, s))
        return (dict, tuple(parts))
    if t in _SIMPLE:
        return (t, x)
    try:
        hash(x)
    except TypeError:
        keep[id(x)] = x
        return ("id", id(x))
    if type(x).__eq__ is object.__eq__:
        keep[id(x)] = x
        return ("id", id(x))
    return (t, x)


def _python_guards(fn):
    """(container, key, value) for the globals and closure variables ``fn`` names: a
    replay requires the same objects there (the same values for numbers and strings),
    so rebinding a global tensor, model or learning rate traces again."""
    fn = getattr(fn, "__func__", fn)
    while isinstance(fn, functools.partial):
        fn = fn.func
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    guards = []
    g = getattr(fn, "__globals__", {})
    for name in code.co_names:
        if name in g:
            guards.append((g, name, g[name]))
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            guards.append((cell, None, cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    return guards
