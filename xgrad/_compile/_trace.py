"""Tracing one call of a function into a flat program of backend array calls.

During a trace every tensor's data is a :class:`Tracer`: an object that wraps
the real backend array (so the trace computes real values, and the traced call
returns the eager result) and records every operation made on it, and the
namespace that forwards and rules receive (``device.xp``) records every call
(:class:`RecordingNamespace`). Each recorded step is (what to call, arguments
with slots for arrays and constants for everything else, the slots of the
results). Which tensors the program reads and writes is observed by replacing,
for the duration of the trace, three slot descriptors of :class:`Tensor`
(``_data``, ``_grad``, ``_requires_grad``) with hooks: the first access to a
slot of a tensor that existed before the call sees its value at the start of
the call, which becomes an input of the program (``_data``) or a guard (the
``.grad`` being None, the ``requires_grad`` flag); what those slots hold at the
end becomes the program's write-backs. See docs/compile.md.
"""

from __future__ import annotations

import gc
import operator
import os
import sys
import weakref

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import Node
from .. import backends as _backends
from . import _hooks

__all__ = ["Trace", "Tracer", "GraphBreak", "GraphBreakWarning", "Ref"]

_DATA = Tensor.__dict__["_data"]
_GRADS = Tensor.__dict__["_grad"]
_RG = Tensor.__dict__["_requires_grad"]
_dget, _dset = _DATA.__get__, _DATA.__set__
_gget, _gset = _GRADS.__get__, _GRADS.__set__
_rget, _rset = _RG.__get__, _RG.__set__
_SCALARS = (bool, int, float, complex)
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# functions whose results are metadata (shapes, dtypes), never array values
_METADATA = frozenset(("shape", "ndim", "size", "isdtype", "result_type", "can_cast", "finfo",
                       "iinfo", "broadcast_shapes", "dtype", "isscalar", "iscomplexobj",
                       "isrealobj", "__array_namespace_info__"))
# functions whose result's shape depends on the values
_DATA_DEPENDENT = frozenset(("nonzero", "unique_all", "unique_counts", "unique_inverse",
                             "unique_values", "unique", "argwhere", "flatnonzero", "compress",
                             "extract", "trim_zeros"))
# attributes of an array that read its values into Python
_VALUE_READS = frozenset(("item", "tolist", "tobytes", "__array_interface__", "__dlpack__",
                          "__cuda_array_interface__", "get"))


class GraphBreak(RuntimeError):
    """Raised with ``fullgraph=True`` where the function reads a tensor's value in
    Python or does something else a replay cannot repeat."""


class GraphBreakWarning(UserWarning):
    """A signature of a compiled function runs eagerly (the message says why and where)."""


class Ref:
    """A slot of the program in an argument template."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot

    def __repr__(self):
        return f"s{self.slot}"


def _refs(x, found):
    """The slots that ``x`` (a template of arguments: Refs in tuples, lists and dicts)
    refers to, appended to ``found``."""
    t = type(x)
    if t is Ref:
        found.append(x.slot)
    elif t is tuple or t is list:
        for v in x:
            _refs(v, found)
    elif t is dict:
        for v in x.values():
            _refs(v, found)
    return found


def _is_array(x) -> bool:
    return hasattr(type(x), "__array_namespace__") and not isinstance(x, type)


def user_location():
    """(filename, line number, source line) of the innermost frame outside xgrad."""
    f = sys._getframe(1)
    while f is not None:
        name = f.f_code.co_filename
        if not (name.startswith(_PKG_DIR) or "array_api_compat" in name or
                "array_api_strict" in name or f"{os.sep}numpy{os.sep}" in name or
                name.startswith(("<xgrad", "<frozen"))):
            import linecache
            return name, f.f_lineno, linecache.getline(name, f.f_lineno).strip()
        f = f.f_back
    return "<unknown>", 0, ""


# -- the tracer --------------------------------------------------------------------------------

class Tracer:
    """A backend array under a trace: the real ``value`` and its program ``slot``."""

    __slots__ = ("value", "slot", "trace", "owner", "__weakref__")
    __array_priority__ = 1e6  # NumPy defers its operators to ours

    def __init__(self, value, slot, trace, owner=None):
        self.value = value
        self.slot = slot
        self.trace = trace
        # the tracer of the array whose memory ``value`` views (``value.base``), held as
        # the real view holds its base: eager mode's refcount checks on a root's buffer
        # (``_views._exclusive``: "does a saved value or anyone else view this buffer?")
        # then count a traced view that a graph node saved, as they count the real one
        self.owner = owner

    @property
    def shape(self):
        return getattr(self.value, "shape", ())

    @property
    def dtype(self):
        v = self.value
        return v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype

    @property
    def ndim(self):
        return getattr(self.value, "ndim", 0)

    @property
    def size(self):
        return getattr(self.value, "size", 1)

    @property
    def device(self):
        return self.value.device

    def __repr__(self):
        return f"<traced {type(self.value).__name__} s{self.slot} shape={self.shape}>"

    __hash__ = object.__hash__

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d array")
        return shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getattr__(self, name):
        value = object.__getattribute__(self, "value")
        trace = object.__getattribute__(self, "trace")
        attr = getattr(value, name)
        if name == "base" and attr is not None:
            # (the tracer of the array a view is of, as eager mode's ``view.base is root``
            # checks expect: _views._exclusive counts the views that hold a root's buffer)
            t = trace.by_value.get(id(attr))
            if t is not None and object.__getattribute__(t, "value") is attr:
                return t
        if name in _VALUE_READS:
            trace.graph_break(f"reading an array's values ({name})")
            return attr
        if callable(attr):
            return lambda *a, **k: trace.record("method", name, (self,) + a, k)
        if _is_array(attr):
            return trace.record("attr", name, (self,), {}, result=attr)
        return attr

    def __getitem__(self, key):
        if _bool_key(key):
            self.trace.graph_break("indexing with a boolean mask (a data-dependent shape)")
        return self.trace.record("getitem", None, (self, key), {})

    def __setitem__(self, key, value):
        self.trace.record("setitem", None, (self, key, value), {})

    # values read into Python: a graph break (the trace goes on with the real value)
    def __bool__(self):
        self.trace.graph_break("bool() of a tensor")
        return bool(self.value)

    def __int__(self):
        self.trace.graph_break("int() of a tensor")
        return int(self.value)

    def __float__(self):
        self.trace.graph_break("float() of a tensor")
        return float(self.value)

    def __complex__(self):
        self.trace.graph_break("complex() of a tensor")
        return complex(self.value)

    def __index__(self):
        self.trace.graph_break("a tensor used as a Python index")
        return operator.index(self.value)

    def __array__(self, dtype=None, copy=None):
        self.trace.graph_break("an array passed to NumPy outside the recorded calls")
        v = np.asarray(self.value)
        return v if dtype is None else v.astype(dtype)

    def __array_namespace__(self, api_version=None):
        return self.trace.namespace_for(self.value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return self.trace.record("call", fn, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        name = getattr(func, "__name__", "")
        if name in _DATA_DEPENDENT:
            self.trace.graph_break(f"{name} (a data-dependent shape)")
        return self.trace.record("call", func, args, kwargs)


def _bool_key(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    for k in keys:
        if isinstance(k, Tracer):
            kind = getattr(k.dtype, "kind", None)
            if kind == "b" or (kind is None and "bool" in str(k.dtype)):
                return True
    return False


_BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
           "pow": "**", "matmul": "@", "and": "&", "or": "|", "xor": "^", "lshift": "<<",
           "rshift": ">>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_UNARY = {"neg": "-", "pos": "+", "invert": "~", "abs": "abs"}
OPS = {}  # name -> function, for execution at trace time


def _install_operators():
    for name, sym in _BINARY.items():
        fn = getattr(operator, name if name not in ("and", "or") else name + "_")
        OPS[name] = fn

        def method(self, other, _name=name):
            return self.trace.record("op", _name, (self, other), {})

        def rmethod(self, other, _name=name):
            return self.trace.record("op", _name, (other, self), {})
        setattr(Tracer, f"__{name}__", method)
        if name not in ("lt", "le", "gt", "ge", "eq", "ne"):
            setattr(Tracer, f"__r{name}__", rmethod)
            ifn = getattr(operator, f"i{name}")
            OPS["i" + name] = ifn

            def imethod(self, other, _name="i" + name):
                return self.trace.record("iop", _name, (self, other), {})
            setattr(Tracer, f"__i{name}__", imethod)
    for name in _UNARY:
        OPS[name] = getattr(operator, name)

        def umethod(self, _name=name):
            return self.trace.record("op", _name, (self,), {})
        setattr(Tracer, f"__{name}__", umethod)


_install_operators()


# -- what rules and forwards see as ``xp`` and ``device.backend`` --------------------------------

class RecordingNamespace:
    """A backend namespace whose functions record their calls into the trace."""

    def __init__(self, real, trace, backend_proxy):
        self._real = real
        self._trace = trace
        self.__xgrad_backend__ = backend_proxy

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if isinstance(attr, type) or not callable(attr):
            if type(attr).__name__ == "module":
                attr = RecordingNamespace(attr, self._trace, self.__xgrad_backend__)
            setattr(self, name, attr)
            return attr
        trace = self._trace
        if name in _METADATA:
            wrapper = attr
        elif name in _DATA_DEPENDENT:
            def wrapper(*args, _fn=attr, _name=name, **kwargs):
                trace.graph_break(f"{_name} (a data-dependent shape)")
                return trace.record("call", _fn, args, kwargs)
        else:
            def wrapper(*args, _fn=attr, **kwargs):
                return trace.record("call", _fn, args, kwargs)
        setattr(self, name, wrapper)
        return wrapper


class BackendProxy:
    """A device's backend during a trace: hooks that touch arrays are recorded or, where
    they read values into Python, graph breaks; everything else is the real backend's."""

    def __init__(self, real, trace):
        self._real = real
        self._trace = trace
        self.xp = RecordingNamespace(real.xp, trace, self)

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if not callable(attr):
            setattr(self, name, attr)
        return attr

    def _call(self, name, *args, **kwargs):
        return self._trace.record("call", getattr(self._real, name), args, kwargs)

    def random(self, method, shape, dtype, index, **kwargs):
        return self._call("random", method, shape, dtype, index, **kwargs)

    def asarray(self, obj, dtype, index, copy=None):
        return self._call("asarray", obj, dtype, index, copy)

    def to_numpy(self, array):
        self._trace.graph_break("reading a tensor's values (item(), tolist(), numpy(), print)")
        return self._real.to_numpy(_unwrap(array))

    def ensure_buffer(self, array):
        return self._call("ensure_buffer", array)

    def writable(self, array):
        return self._real.writable(_unwrap(array))

    def owns(self, array):
        return self._real.owns(_unwrap(array))

    def scatter_add(self, target, key, values):
        return self._call("scatter_add", target, key, values)

    def getitem(self, array, key):
        return self._call("getitem", array, key)

    def move(self, array, index):
        return self._call("move", array, index)

    def materialize(self, arrays):
        return list(arrays)

    def synchronize(self, index):
        return None


def _unwrap(x):
    t = type(x)
    if t is Tracer:
        return x.value
    if t is tuple or t is list:
        return t(_unwrap(v) for v in x)
    if t is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _tracers_in(x, found):
    t = type(x)
    if t is Tracer:
        found.append(x)
    elif t is tuple or t is list:
        for v in x:
            _tracers_in(v, found)
    elif t is dict:
        for v in x.values():
            _tracers_in(v, found)
    return found


# -- per-tensor bookkeeping ------------------------------------------------------------------

class _Info:
    """What the trace knows of a tensor that existed before the call."""

    __slots__ = ("tensor", "path", "first", "vc", "cow", "data_in", "grad_start", "rg_start")

    def __init__(self, tensor, path):
        self.tensor = tensor
        self.path = path
        self.first = {}
        self.vc = tensor._vc[0]
        self.cow = tensor._cow
        self.data_in = None
        self.grad_start = None
        self.rg_start = None


class _Hook:
    """A replacement for one of Tensor's slot descriptors while a trace runs."""

    __slots__ = ("trace", "get", "set")

    def __init__(self, trace, get, set_):
        self.trace = trace
        self.get = get
        self.set = set_

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return self.get(obj)

    def __set__(self, obj, value):
        self.set(obj, value)


class Step:
    """One recorded call: ``kind`` (call, op, iop, getitem, setitem, method, attr, host,
    const), the function or name, argument templates, and the result template."""

    __slots__ = ("kind", "fn", "args", "kwargs", "out")

    def __init__(self, kind, fn, args, kwargs, out):
        self.kind = kind
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.out = out


# -- the trace -----------------------------------------------------------------------------------

class Trace:
    """One traced call. ``install()`` before running the function, ``finish(out)`` after."""

    def __init__(self, fullgraph, arg_tensors, name):
        self.fullgraph = fullgraph
        self.name = name
        self.steps = []
        self.nslots = 0
        self.meta = {}            # slot -> (shape, dtype) of the NumPy arrays
        self.ameta = {}           # slot -> (shape, dtype) of other backends' arrays
        self.not_c = set()        # slots whose traced NumPy array was not C-contiguous
        self.cupy = False         # whether CuPy arrays were traced
        self.by_value = weakref.WeakValueDictionary()  # id(array) -> its tracer
        self.inputs = []          # (slot, path)
        self.guards = []          # (path, kind, expected)
        self.infos = {}           # id(tensor) -> _Info, for tensors that existed before
        self.externals = []       # tensors bound by identity
        self.arg_pos = {}
        self.args = list(arg_tensors)
        self.arg_bases = {id(t._base) for t in arg_tensors if t._base is not None}
        for i, t in enumerate(arg_tensors):
            self.arg_pos.setdefault(id(t), i)
        self.dyn = {}             # id(float) -> slot (results of host steps)
        self._keep = []           # objects whose id must stay unique during the trace
        self.broken = None        # (reason, (file, line, source)) of the first graph break
        self.optimizers = []
        self.unstable = None      # why the program cannot be cached (new persistent state)
        self._saved = None
        self._module_saved = None
        self.module_guards = []
        self.module_sets = {}
        self.value_guards = []    # (dict or cell, name or None, value): see _api._python_guards
        self._namespaces = {}

    # -- installation --------------------------------------------------------------------------
    def install(self):
        self._pre = {id(o): o for o in gc.get_objects() if issubclass(type(o), Tensor)}
        devices = list(dict.fromkeys(_backends._DEVICES.values()))
        proxies = {}
        saved = []
        for dev in devices:
            real = dev.backend
            proxy = proxies.get(id(real))
            if proxy is None:
                proxy = proxies[id(real)] = BackendProxy(real, self)
                self._namespaces[real.name] = proxy.xp
            saved.append((dev, real, dev.xp))
            dev.backend = proxy
            dev.xp = proxy.xp
        self._saved = saved
        self._install_module_hooks()
        Tensor._data = _Hook(self, self._data_get, self._data_set)
        Tensor._grad = _Hook(self, self._grad_get, self._grad_set)
        Tensor._requires_grad = _Hook(self, self._rg_get, self._rg_set)
        _hooks.ACTIVE = self

    def uninstall(self):
        if self._saved is None:
            return
        Tensor._data = _DATA
        Tensor._grad = _GRADS
        Tensor._requires_grad = _RG
        for dev, backend, xp in self._saved:
            dev.backend = backend
            dev.xp = xp
        self._saved = None
        if self._module_saved is not None:
            cls, call, getattr_, setattr_ = self._module_saved
            cls.__call__, cls.__getattr__, cls.__setattr__ = call, getattr_, setattr_
            self._module_saved = None
        _hooks.ACTIVE = None

    def _install_module_hooks(self):
        """Modules: their ``training`` flags, and which parameter, buffer or submodule an
        attribute name gives, are guards; attributes assigned during the call are
        write-backs."""
        self._module_saved = None
        self.module_guards = []    # (module, name, object) / (module, None, training)
        self.module_sets = {}      # (id(module), name) -> module
        mod = sys.modules.get("xgrad.nn.module")
        if mod is None:
            return
        cls = mod.Module
        call, getattr_, setattr_ = cls.__call__, cls.__getattr__, cls.__setattr__
        self._module_saved = (cls, call, getattr_, setattr_)
        self.module_getattr = getattr_
        seen_calls = set()
        seen_attrs = set()
        trace = self

        def call_hook(m, *args, **kwargs):
            if id(m) not in seen_calls:
                seen_calls.add(id(m))
                trace._keep.append(m)
                trace.module_guards.append((m, None, m.__dict__.get("training")))
            return call(m, *args, **kwargs)

        def getattr_hook(m, name):
            value = getattr_(m, name)
            key = (id(m), name)
            if key not in seen_attrs:
                seen_attrs.add(key)
                trace._keep.append(m)
                trace.module_guards.append((m, name, value))
            return value

        def setattr_hook(m, name, value):
            key = (id(m), name)
            seen_attrs.add(key)
            trace.module_sets[key] = (m, name)
            setattr_(m, name, value)
        cls.__call__, cls.__getattr__, cls.__setattr__ = call_hook, getattr_hook, setattr_hook

    def namespace_for(self, value):
        module = type(value).__module__.partition(".")[0]
        name = {"numpy": "cpu", "cupy": "cuda", "array_api_strict": "strict",
                "dask": "dask"}.get(module)
        ns = self._namespaces.get(name)
        if ns is None:
            return value.__array_namespace__()
        return ns

    # -- graph breaks -----------------------------------------------------------------------
    def graph_break(self, reason):
        if self.broken is None:
            self.broken = (reason, user_location())
            if self.fullgraph:
                file, line, src = self.broken[1]
                raise GraphBreak(f"xgrad.compile(fullgraph=True): {reason} at {file}:{line} "
                                 f"({src}) cannot be compiled")

    # -- slots and recording ------------------------------------------------------------------
    def new_tracer(self, value):
        slot = self.nslots
        self.nslots = slot + 1
        if type(value) is np.ndarray:  # (what buffer reuse needs to know of a slot)
            self.meta[slot] = (value.shape, value.dtype)
            if not value.flags.c_contiguous:  # (eager mode's layout: a buffer must match it)
                self.not_c.add(slot)
        else:  # (any backend's arrays: what fused kernels need, _fuse.py)
            shape = getattr(value, "shape", None)
            if type(shape) is tuple and hasattr(value, "dtype"):
                self.ameta[slot] = (shape, value.dtype)
                if type(value).__module__.startswith("cupy"):
                    self.cupy = True
        owner = None
        base = getattr(value, "base", None)
        if base is not None and _is_array(base):
            owner = self.by_value.get(id(base))
            if owner is not None and owner.value is not base:
                owner = None
        tracer = Tracer(value, slot, self, owner)
        self.by_value[id(value)] = tracer  # (weak: a reference would change refcounts)
        return tracer

    def template(self, x):
        t = type(x)
        if t is Tracer:
            return Ref(x.slot)
        if t is tuple or t is list:
            return t(self.template(v) for v in x)
        if t is dict:
            return {k: self.template(v) for k, v in x.items()}
        if t is float:
            slot = self.dyn.get(id(x))
            if slot is not None:
                return Ref(slot)
        return x

    def record(self, kind, fn, args, kwargs, result=None):
        vargs = _unwrap(args)
        vkw = _unwrap(kwargs) if kwargs else kwargs
        if kind == "call":
            result = fn(*vargs, **vkw)
        elif kind == "op":
            result = OPS[fn](*vargs)
        elif kind == "iop":
            result = OPS[fn](vargs[0], vargs[1])
        elif kind == "getitem":
            result = vargs[0][vargs[1]]
        elif kind == "setitem":
            vargs[0][vargs[1]] = vargs[2]
            result = None
        elif kind == "method":
            result = getattr(vargs[0], fn)(*vargs[1:], **vkw)
        if result is NotImplemented:
            return result
        inputs = _tracers_in(args, [])
        if kwargs:
            _tracers_in(kwargs, inputs)
        wrapped, out = self._wrap_result(result, inputs, bool(inputs) or kind != "call")
        targs = self.template(args)
        if kind == "call" and getattr(fn, "__name__", "") in _LIKE and targs and \
                type(targs[0]) is Ref:
            # (zeros_like(x) reads only x's shape and dtype: a stand-in of them, so the
            # program does not keep x's computation alive for it)
            targs = (_stand_in(vargs[0]),) + tuple(targs[1:])
        self.steps.append(Step(kind, fn, targs, self.template(kwargs) if kwargs else None, out))
        return wrapped

    def _wrap_result(self, result, inputs, scalars_are_values):
        """(what the caller gets, the result template: Ref for each array slot, an
        existing slot where the call handed back one of its inputs, None elsewhere)."""
        for t in inputs:
            if result is t.value:
                return t, ("same", t.slot)
        if _is_array(result) or (scalars_are_values and type(result) in _SCALARS):
            tr = self.new_tracer(result)
            return tr, Ref(tr.slot)
        t = type(result)
        if isinstance(result, (tuple, list)) and any(_is_array(r) for r in result):
            parts = [self._wrap_result(r, inputs, False) for r in result]
            items = [p[0] for p in parts]
            pattern = tuple(p[1] for p in parts)
            if hasattr(result, "_fields"):
                return t(*items), pattern
            return t(items), pattern
        return result, None

    def host_step(self, fn, args, result):
        outs = result if isinstance(result, tuple) else (result,)
        pattern = []
        for r in outs:
            if type(r) is float:
                slot = self.nslots
                self.nslots += 1
                self.dyn[id(r)] = slot
                self._keep.append(r)
                pattern.append(Ref(slot))
            else:
                pattern.append(None)
        out = tuple(pattern) if isinstance(result, tuple) else pattern[0]
        self.steps.append(Step("host", fn, args, None, out))

    def check_step(self, fn, args):
        """``fn`` on the real values (raising as in eager mode), recorded as a step whose
        array arguments are slots (``_hooks.check``)."""
        fn(*_unwrap(args))
        self.steps.append(Step("call", fn, self.template(args), None, None))

    def note_optimizer(self, optimizer):
        if all(o is not optimizer for o in self.optimizers):
            self.optimizers.append(optimizer)

    # -- the Tensor slot hooks -------------------------------------------------------------
    def _info(self, t):
        info = self.infos.get(id(t))
        if info is not None:
            return info
        if id(t) not in self._pre:
            return None
        pos = self.arg_pos.get(id(t))
        if id(t) in self.arg_bases and pos is None:
            self.graph_break("a write through (or a re-derivation of) an argument that is a view "
                             "of another tensor (its position in that tensor would be baked in)")
        if pos is not None:
            path = ("arg", pos)
        else:
            path = ("ext", len(self.externals))
            self.externals.append(t)
        return self._register(t, path)

    def _register(self, t, path):
        info = self.infos[id(t)] = _Info(t, path)
        if t._device.type == "dask":
            self.graph_break("a tensor on the dask device (lazy arrays are not compiled)")
        if t._grad_fn is not None and _rget(t):
            self.graph_break("a tensor that belongs to an autograd graph built outside the "
                             "compiled function")
        return info

    def _data_get(self, t):
        v = _dget(t)
        if type(v) is Tracer:
            return v
        info = self._info(t)
        if info is None:  # (cannot happen: every data set during the trace is a tracer)
            tr = self._constant(v)
        else:
            info.first.setdefault("_data", "get")
            tr = self.new_tracer(v)
            info.data_in = tr
            self.inputs.append((tr.slot, info.path))
            self.guards.append((info.path, "data", (getattr(v, "shape", ()), v.dtype, type(v))))
        _dset(t, tr)
        return tr

    def _data_set(self, t, value):
        info = self._info(t)
        if info is not None:
            info.first.setdefault("_data", "set")
        if type(value) is not Tracer:
            value = self._constant(value)
        _dset(t, value)

    def _constant(self, value):
        """An array that reached a tensor without a recorded call: a snapshot of it
        becomes a constant of the program (copied at every replay, since the program may
        write into it)."""
        snapshot = _copy_array(value)
        tr = self.new_tracer(value)
        self.steps.append(Step("const", _copy_array, (snapshot,), None, Ref(tr.slot)))
        return tr

    def _grad_get(self, t):
        v = _gget(t)
        info = self._info(t)
        if info is not None and "_grad" not in info.first:
            info.first["_grad"] = "get"
            info.grad_start = v
            self.guards.append((info.path, "grad", v is None))
            if v is not None and id(v) in self._pre and id(v) not in self.infos:
                self._register(v, ("grad", info.path))
        return v

    def _grad_set(self, t, value):
        info = self._info(t)
        if info is not None:
            info.first.setdefault("_grad", "set")
        _gset(t, value)

    def _rg_get(self, t):
        v = _rget(t)
        info = self._info(t)
        if info is not None and "_requires_grad" not in info.first:
            info.first["_requires_grad"] = "get"
            info.rg_start = v
            if info.path[0] != "arg":  # (the arguments' flags are in the signature)
                self.guards.append((info.path, "rg", v))
        return v

    def _rg_set(self, t, value):
        info = self._info(t)
        if info is not None:
            info.first.setdefault("_requires_grad", "set")
        _rset(t, value)

    # -- the end of the trace ------------------------------------------------------------------
    def finish(self, out, ok):
        """Uninstall, put real arrays back into every tensor, and work out the program's
        outputs and write-backs. Returns (output template, write-backs) or None."""
        self.uninstall()
        outputs = writebacks = None
        if ok:
            try:
                outputs = self._outputs(out)
                writebacks = self._writebacks()
            except _Unsupported as exc:
                if self.broken is None:
                    self.broken = (str(exc), ("<output>", 0, ""))
        self._sweep(out if ok else None, writebacks)
        self._pre = None
        if not ok or self.broken is not None:
            return None
        return outputs, writebacks

    def _outputs(self, out):
        t = type(out)
        if isinstance(out, Tensor):
            info = self.infos.get(id(out))
            if info is not None:
                return ("pre", info.path)
            pos = self.arg_pos.get(id(out))
            if pos is not None:  # an argument the function did not touch
                return ("pre", ("arg", pos))
            if id(out) in self._pre:  # an existing tensor the function did not touch
                path = ("ext", len(self.externals))
                self.externals.append(out)
                return ("pre", path)
            data = _dget(out)
            if type(data) is not Tracer:
                raise _Unsupported("an output whose data was not computed by recorded calls")
            gf = out._grad_fn
            if _rget(out) and gf is not None:
                if _graph_alive(gf):
                    raise _Unsupported(
                        "an output that requires grad and whose graph was not used by a "
                        "backward inside the function (xgrad.compile records whole steps: call "
                        ".backward() inside it, or return .detach())")
                freed = _freed_node(gf)
                if freed is None:
                    raise _Unsupported(
                        "an output that requires grad and whose graph saved no values (a "
                        "second backward through it still works in eager mode)")
                # (eager mode's output: requires grad, a grad_fn whose graph a backward inside
                # the function freed; the replay's grad_fn raises the same error)
                return ("new", data.slot, out._device, out._cow, (gf.name(), freed.name()))
            if _rget(out):
                if _gget(out) is not None:
                    raise _Unsupported("an output leaf made inside the function that has a .grad")
                return ("new", data.slot, out._device, out._cow, True)
            return ("new", data.slot, out._device, out._cow)
        if t is tuple or t is list:
            return (t.__name__, tuple(self._outputs(v) for v in out))
        if hasattr(out, "_fields") and isinstance(out, tuple):
            return ("named", type(out), tuple(self._outputs(v) for v in out))
        if t is dict:
            return ("dict", tuple(out), tuple(self._outputs(v) for v in out.values()))
        if type(out) is Tracer:
            return ("raw", out.slot)
        return ("const", out)

    def _writebacks(self):
        # a module attribute the call reads and then assigns (a buffer replaced by a new
        # tensor): read through the module at replay, not bound by identity
        if self.module_sets:
            kept = []
            for m, name, value in self.module_guards:
                if name is not None and (id(m), name) in self.module_sets:
                    info = self.infos.get(id(value))
                    if info is not None and info.path[0] == "ext":
                        info.path = ("mod", m, name)
                        self._rebase(info)
                    continue
                kept.append((m, name, value))
            self.module_guards = kept
        wb = []
        for info in list(self.infos.values()):
            t, path = info.tensor, info.path
            first = info.first
            if "_data" in first:
                final = _dget(t)
                if final is not info.data_in:
                    if type(final) is not Tracer:
                        raise _Unsupported("a tensor whose data was replaced by an untraced array")
                    wb.append(("data", path, final.slot))
            if "_grad" in first:
                final = _gget(t)
                if first["_grad"] == "set" or final is not info.grad_start:
                    if final is None:
                        wb.append(("grad_none", path))
                    elif id(final) in self.infos:
                        wb.append(("grad_pre", path, self.infos[id(final)].path))
                    else:
                        data = _dget(final)
                        if type(data) is not Tracer:
                            raise _Unsupported("a .grad whose data was not computed by "
                                               "recorded calls")
                        if final._grad_fn is not None:
                            raise _Unsupported("a .grad that is part of a graph (create_graph)")
                        wb.append(("grad_new", path, data.slot, final._device, final._cow,
                                   _rget(final)))
            if "_requires_grad" in first:
                final = _rget(t)
                if first["_requires_grad"] == "set" or final != info.rg_start:
                    wb.append(("rg", path, final))
            if t._vc[0] != info.vc:
                wb.append(("vc", path, t._vc[0] - info.vc))
            if t._cow != info.cow:
                wb.append(("cow", path, t._cow))
        for m, name in self.module_sets.values():
            value = m.__dict__.get(name, None)
            if value is None and name not in m.__dict__:
                try:
                    value = self.module_getattr(m, name)
                except AttributeError:
                    continue
            if isinstance(value, Tensor):
                info = self.infos.get(id(value))
                if info is not None:
                    wb.append(("mod_pre", m, name, info.path))
                elif id(value) in self._pre:
                    wb.append(("mod_const", m, name, value))
                else:
                    data = _dget(value)
                    if type(data) is not Tracer or value._grad_fn is not None:
                        raise _Unsupported("a tensor assigned to a module attribute that is "
                                           "not computed by recorded calls")
                    wb.append(("mod_new", m, name, data.slot, value._device, value._cow,
                               _rget(value), type(value)))
            else:
                wb.append(("mod_const", m, name, value))
        return wb

    def _sweep(self, out, writebacks):
        """Real arrays back into every tensor and node the trace touched; new tensors
        that outlive the call (optimizer state, ...) make the program unstable."""
        pre = self._pre
        accounted = set()
        _collect_tensors(out, accounted)
        if writebacks:
            for w in writebacks:
                if w[0] == "grad_new":
                    t = self._resolve(w[1])
                    if t is not None and _gget(t) is not None:
                        accounted.add(id(_gget(t)))
        for m, name in getattr(self, "module_sets", {}).values():
            try:
                value = (m.__dict__[name] if name in m.__dict__ else
                         self.module_getattr(m, name))
            except (AttributeError, KeyError):
                continue
            if isinstance(value, Tensor):
                accounted.add(id(value))
        for info in self.infos.values():
            _untrace_tensor(info.tensor)
        alive = []
        o = None
        for o in gc.get_objects():
            if issubclass(type(o), Tensor):
                if id(o) not in pre:
                    alive.append(o)
                    _untrace_tensor(o)
            elif type(o) is Node:
                _untrace_node(o)
        _reachable(accounted, alive)
        refs = [weakref.ref(t) for t in alive if id(t) not in accounted]
        del alive, o
        if refs:
            gc.collect()
            refs = [r for r in refs if r() is not None]
        if refs:
            self.unstable = (f"the function keeps {len(refs)} tensor(s) it creates "
                             f"(optimizer state, a module attribute, ...)")

    def _rebase(self, info):
        """Update the guards and inputs that name ``info``'s tensor by its old path."""
        old = ("ext", self.externals.index(info.tensor))
        new = info.path

        def sub(path):
            if path == old:
                return new
            if path[0] == "grad":
                return ("grad", sub(path[1]))
            return path
        self.guards = [(sub(p), k, e) for p, k, e in self.guards]
        self.inputs = [(s, sub(p)) for s, p in self.inputs]
        for other in self.infos.values():
            other.path = sub(other.path)

    def _resolve(self, path):
        kind = path[0]
        if kind == "arg":
            return self.args[path[1]]
        if kind == "ext":
            return self.externals[path[1]]
        if kind == "mod":
            return self.module_getattr(path[1], path[2])
        parent = self._resolve(path[1])
        return None if parent is None else _gget(parent)


class _Unsupported(Exception):
    pass


def _freed_node(node):
    """The first node (depth first) whose saved values a backward freed, or None."""
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen or n is None:
            continue
        seen.add(id(n))
        if type(n) is Node:
            if n.op.needs_saved and n.saved is None:
                return n
            stack.extend(e[0] for e in n.next_edges if e is not None)
    return None


def _graph_alive(node) -> bool:
    """Whether a backward could still run through ``node`` (saved values kept)."""
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen or n is None:
            continue
        seen.add(id(n))
        if type(n) is Node:
            if n.op.needs_saved:
                return n.saved is not None
            stack.extend(e[0] for e in n.next_edges if e is not None)
        elif hasattr(n, "next_edges") and type(n).__name__ != "AccumulateGrad":
            return True
    return False


def _reachable(found, alive):
    """Add to ``found`` the tensors that tensors in it refer to (a view's base, ...)."""
    by_id = {id(t): t for t in alive}
    stack = [by_id[i] for i in found if i in by_id]
    while stack:
        t = stack.pop()
        for r in gc.get_referents(t):
            if isinstance(r, Tensor) and id(r) not in found:
                found.add(id(r))
                stack.append(r)


def _collect_tensors(x, found):
    if isinstance(x, Tensor):
        found.add(id(x))
        g = _gget(x)
        if g is not None:
            found.add(id(g))
    elif isinstance(x, (tuple, list)):
        for v in x:
            _collect_tensors(v, found)
    elif isinstance(x, dict):
        for v in x.values():
            _collect_tensors(v, found)


def _untrace_tensor(t):
    try:
        v = _dget(t)
    except AttributeError:
        return
    if type(v) is Tracer:
        _dset(t, v.value)


def _untrace_node(n):
    saved = n.saved
    if saved is not None and any(type(v) is Tracer for v in saved):
        n.saved = tuple(_unwrap(v) if type(v) is Tracer else v for v in saved)
    out = n.saved_out
    if out is not None:
        if type(out) is Tracer:
            n.saved_out = out.value
        elif type(out) is tuple and any(type(v) is Tracer for v in out):
            n.saved_out = tuple(_unwrap(v) for v in out)


_LIKE = frozenset(("zeros_like", "ones_like", "empty_like", "full_like"))


def _stand_in(value):
    """An uninitialized array with ``value``'s shape, dtype and device."""
    if isinstance(value, (np.ndarray, np.generic)):
        return np.empty_like(np.asarray(value))
    return value.__array_namespace__().empty_like(value)


def _copy_array(a):
    if isinstance(a, (np.ndarray, np.generic)):
        return np.array(a, copy=True)
    return a.__array_namespace__().asarray(a, copy=True)

