"""Which functions of the array API standard xgrad has, and how they differentiate.

The table reads the standard's face, ``xgrad.array_api`` (what
``Tensor.__array_namespace__`` returns, with its ``linalg`` and ``fft``).

``python -m xgrad.coverage`` prints the table; ``python -m xgrad.coverage
README.md`` writes it between the ``<!-- coverage:start -->`` and
``<!-- coverage:end -->`` markers of that file. The table is generated from the
op registry: a function is differentiable through its own op's VJP rule, or
through the ops it is composed of (``sort`` is ``take_along_axis`` of
``argsort``), or it is listed in :data:`NOT_DIFFERENTIABLE` with the reason.
"""

from __future__ import annotations

import builtins
import sys

__all__ = ["STANDARD", "LINALG", "FFT", "NOT_DIFFERENTIABLE", "COMPOSED", "rows", "table", "write_readme"]

from .array_api._names import FFT, LINALG, STANDARD  # noqa: E402  (the one list of names)

_INT_BOOL = "integer or boolean result"
_CONSTANT = "integer-valued steps: no gradient (PyTorch has none implemented either)"
NOT_DIFFERENTIABLE = {
    **{n: "makes a new tensor from no differentiable input" for n in (
        "arange", "empty", "empty_like", "eye", "full", "full_like", "linspace", "ones", "ones_like",
        "zeros", "zeros_like", "from_dlpack", "fftfreq", "rfftfreq")},
    **{n: "returns dtype information, not arrays" for n in STANDARD["data types"] if n != "astype"},
    **{n: _INT_BOOL for n in (
        "bitwise_and", "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift",
        "bitwise_xor", "equal", "greater", "greater_equal", "isfinite", "isinf", "isnan", "less",
        "less_equal", "logical_and", "logical_not", "logical_or", "logical_xor", "not_equal",
        "signbit", "argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "argsort",
        "all", "any", "matrix_rank")},
    **{n: _CONSTANT for n in ("floor_divide", "nextafter")},
    **{n: "set results (as PyTorch's unique: no gradient)" for n in STANDARD["sets"]},
}
# composed of other differentiable ops (no op of their own)
COMPOSED = {
    "asarray": "identity on tensors; astype/to_device when converting",
    "meshgrid": "reshape + broadcast_to", "tril": "where", "triu": "where",
    "broadcast_arrays": "broadcast_to", "moveaxis": "permute_dims", "repeat": "broadcast_to / take",
    "tile": "broadcast_to + reshape", "unstack": "indexing", "sort": "take_along_axis(argsort)",
    "diff": "indexing + subtract", "matrix_transpose": "permute_dims",
}


def _function(name, module=None):
    from . import array_api
    return getattr(module or array_api, name, None)


def _op(name, fn, prefix=""):
    from .ops import REGISTRY
    op = getattr(fn, "op", None) or getattr(getattr(fn, "__wrapped__", None), "op", None)
    return op or REGISTRY.get(prefix + name) or REGISTRY.get(name)


def _probe_args(name):
    """Small float64 inputs for functions whose differentiability is checked by calling them."""
    import xgrad
    a = xgrad.asarray([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]], dtype=xgrad.float64,
                      requires_grad=True)
    v = xgrad.asarray([1.0, 2.0, 3.0], dtype=xgrad.float64, requires_grad=True)
    if name in ("fftfreq", "rfftfreq"):
        return (4,)
    if name in ("cross", "outer", "vecdot"):
        return (v, v)
    if name in ("vector_norm", "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftshift",
                "ifftshift"):
        return (v,)
    if name in ("solve", "tensordot", "matmul"):
        return (a, a)
    if name == "matrix_power":
        return (a, 2)
    return (a,)


def _probe(fn, name) -> bool:
    """Whether ``fn`` on inputs that require grad gives an output that requires grad."""
    try:
        out = fn(*_probe_args(name))
    except Exception:  # noqa: BLE001 - a function that cannot run is reported as unknown
        return False
    outs = out if isinstance(out, tuple) else (out,)
    return builtins.any(getattr(o, "requires_grad", False) for o in outs)


def _row(section, name, module=None, prefix=""):
    fn = _function(name, module)
    if fn is None:
        return (section, prefix + name, "missing", "", "", "", "")
    op = _op(name, fn, prefix)
    if name in NOT_DIFFERENTIABLE and not (op is not None and op.differentiable):
        return (section, prefix + name, "yes", "n/a", "n/a", "n/a", NOT_DIFFERENTIABLE[name])
    if op is not None and op.differentiable:
        jvp = "yes" if op.jvp is not None else "via VJP"
        return (section, prefix + name, "yes", "yes", jvp, "yes", "")
    if name in COMPOSED:
        return (section, prefix + name, "yes", "composed", "composed", "yes", COMPOSED[name])
    if _probe(fn, name):
        return (section, prefix + name, "yes", "composed", "composed", "yes", "built from other ops")
    return (section, prefix + name, "yes", "unknown", "", "", "no gradient and no stated reason")


def _loaded_backends():
    from .backends import backend_names, device_available, get_backend
    return [(n, get_backend(n)) for n in backend_names() if device_available(n) is None]


def _backends(row, loaded) -> str:
    """The backends a row's function runs on: those whose namespace has the function,
    and every backend for functions composed of other ops."""
    if row[2] == "missing":
        return ""
    ext, _, name = row[1].rpartition(".")
    names = []
    for backend_name, backend in loaded:
        ns = getattr(backend.xp, ext, None) if ext else backend.xp
        if backend.limits.get(row[1], "").startswith("no"):
            continue  # the backend says it cannot (it raises a clear error instead)
        if row[3] == "composed" or (ns is not None and hasattr(ns, name)):
            names.append(backend_name)
    return ", ".join(names)


def rows():
    """One row per function: (section, name, forward, VJP, JVP, higher order, backends, note)."""
    loaded = _loaded_backends()
    return [r[:6] + (_backends(r, loaded),) + r[6:] for r in _rows()]


def _rows():
    out = [_row(section, n) for section, names in STANDARD.items() for n in names]
    import importlib
    for ext, names in (("linalg", LINALG), ("fft", FFT)):
        try:
            module = importlib.import_module(f"xgrad.array_api.{ext}")
        except ImportError:
            module = None
        for n in names:
            if module is None:
                out.append((ext, f"{ext}.{n}", "missing", "", "", "", ""))
            else:
                out.append(_row(ext, n, module, f"{ext}."))
    return out


def table() -> str:
    """The coverage table as markdown."""
    lines = ["| section | function | forward | VJP | JVP | higher order | backends | note |",
             "|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows()]
    lines.append("")
    lines.append("Backends: those installed where the table was generated whose namespace has "
                 "the function (composed functions run wherever their parts do); cuda (CuPy) "
                 "follows the same rules where a GPU is present. \"via VJP\": forward mode "
                 "derives the JVP from the VJP rule. Higher order: the VJP rules are themselves "
                 "recorded when `create_graph=True`, and tests check them to second order. "
                 "Conformance with the official array API test suite, and how to run it: "
                 "[docs/conformance.md](docs/conformance.md).")
    return "\n".join(lines)


START, END = "<!-- coverage:start -->", "<!-- coverage:end -->"


def write_readme(path="README.md") -> None:
    """Put the table between the coverage markers of ``path`` (adding a
    "## Coverage" section with the markers at the end if they are missing)."""
    try:
        text = open(path, encoding="utf-8").read()
    except FileNotFoundError:
        text = ""
    if START not in text or END not in text:
        text = text.rstrip("\n") + ("\n\n" if text else "") + f"## Coverage\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{START}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        write_readme(sys.argv[1])
    else:
        print(table())
