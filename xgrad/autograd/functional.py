"""Higher-level derivatives with PyTorch's signatures (``torch.autograd.functional``).

``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp`` and ``vhp`` take a function
and its inputs (a tensor, or a tuple of tensors) and return tensors shaped as
PyTorch's: a block of shape ``output.shape + input.shape`` per (output, input)
pair, as a tensor when both are single, a tuple when one is a tuple, a tuple
of tuples when both are. Results are detached unless ``create_graph=True``.

``jvp`` and ``hvp`` use forward mode (``hvp`` is one forward-over-reverse
sweep); ``jacobian(vectorize=True)`` runs one batched backward pass
(``is_grads_batched``) instead of one pass per output element.
"""

from __future__ import annotations

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


class _Namespace:
    """What this module uses: the standard's face (through the hook ``xgrad.array_api``
    installs, so that autograd does not import a face) plus ``Tensor``, ``autograd``
    and ``enable_grad``."""

    def __getattr__(self, name):
        import sys
        from .._tensor import Tensor
        from ..ops._registry import tensor_namespace
        from .grad_mode import enable_grad
        extra = {"Tensor": Tensor, "enable_grad": enable_grad,
                 "autograd": sys.modules[__package__]}
        return extra[name] if name in extra else getattr(tensor_namespace(), name)


_NS = _Namespace()


def _xgrad():
    return _NS


def _as_tuple(x, arg_name, fn_name):
    xgrad = _xgrad()
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, xgrad.Tensor):
            where = f"{arg_name}" if not is_tuple else f"{arg_name} at index {i}"
            raise TypeError(f"The {where} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the value is of type {type(el).__name__}.")
    return is_tuple, items


def _has_tangent(t) -> bool:
    return bool(getattr(t, "_fw", None))


def _preprocess(inputs, create_graph):
    """Inputs to differentiate: connected views when building a graph (or when they
    carry forward-mode tangents), fresh leaves otherwise (PyTorch's behaviour)."""
    from ..func import _as_input
    return tuple(_as_input(x) if (create_graph and x.requires_grad) or _has_tangent(x)
                 else x.detach().requires_grad_() for x in inputs)


def _postprocess(values, create_graph):
    xgrad = _xgrad()
    if isinstance(values, tuple):
        return tuple(_postprocess(v, create_graph) for v in values)
    if create_graph or not isinstance(values, xgrad.Tensor):
        return values
    return values.detach()


def _shape_back(is_tuple, values):
    return values if is_tuple else values[0]


def _fill(grads, inputs, strict, message):
    xgrad = _xgrad()
    out = []
    for i, (g, x) in enumerate(zip(grads, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(message.format(i=i))
            g = xgrad.zeros_like(x.detach())
        out.append(g)
    return tuple(out)


def _call(func, inputs, fn_name):
    xgrad = _xgrad()
    with xgrad.enable_grad():
        outputs = func(*inputs)
    return _as_tuple(outputs, "outputs of the user-provided function", fn_name)


def _validate_v(v, others, fn_name, what):
    is_tuple, v = _as_tuple(v, "v", fn_name)
    if len(v) != len(others):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(others)} but got "
                           f"{len(v)}.")
    for i, (a, b) in enumerate(zip(v, others)):
        if a.shape != b.shape:
            raise RuntimeError(f"Entry {i} in v has invalid size: should be {b.shape} ({what}) "
                               f"but got {a.shape}.")
    return v


def _default_v(others, fn_name, name):
    xgrad = _xgrad()
    if len(others) != 1 or others[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if the {name} to the user-provided "
                           f"function is a single Tensor with a single element ({fn_name}).")
    return (xgrad.ones_like(others[0].detach()),)


# -- vjp, jvp --------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func_output, v^T J)``: the vector-Jacobian product at ``inputs``."""
    xgrad = _xgrad()
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _preprocess(inputs, create_graph)
    is_out_tuple, outputs = _call(func, inputs, "vjp")
    v = _default_v(outputs, "vjp", "output") if v is None else \
        _validate_v(v, outputs, "vjp", "the output's shape")
    pairs = [(o, g) for o, g in zip(outputs, v) if o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        grads = xgrad.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                                    create_graph=create_graph, allow_unused=True)
    grads = _fill(grads, inputs, strict, "The output of the user-provided function is "
                  "independent of input {i}. This is not allowed in strict mode.")
    return (_postprocess(_shape_back(is_out_tuple, outputs), create_graph),
            _postprocess(_shape_back(is_in_tuple, grads), create_graph))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func_output, J v)``: the Jacobian-vector product at ``inputs``, by forward mode."""
    from . import forward_ad as fwAD
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    v = _default_v(inputs, "jvp", "input") if v is None else \
        _validate_v(v, inputs, "jvp", "the input's shape")
    inputs = _preprocess(inputs, create_graph)
    with fwAD.dual_level() as level:
        duals = tuple(fwAD.make_dual(x, t, level=level) for x, t in zip(inputs, v))
        is_out_tuple, outputs = _call(func, duals, "jvp")
        pairs = [fwAD.unpack_dual(o, level=level) for o in outputs]
    values = tuple(p for p, _ in pairs)
    tangents = _fill([t for _, t in pairs], values, strict, "The output {i} of the user-provided "
                     "function is independent of the inputs. This is not allowed in strict mode.")
    return (_postprocess(_shape_back(is_out_tuple, values), create_graph),
            _postprocess(_shape_back(is_out_tuple, tangents), create_graph))


# -- jacobian ------------------------------------------------------------------------------
def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: blocks ``output.shape + input.shape``.

    ``strategy="reverse-mode"`` runs one backward pass per output element, or one
    batched pass with ``vectorize=True``; ``"forward-mode"`` one forward-mode pass
    per input element.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"Expected strategy to be either \"forward-mode\" or \"reverse-mode\", "
                         f"got {strategy!r}")
    if strict and vectorize:
        raise RuntimeError("jacobian: `strict=True` and `vectorize=True` are not supported "
                           "together.")
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if strategy == "forward-mode":
        is_out_tuple, blocks = _jacobian_forward(func, inputs, create_graph, strict)
    else:
        inputs = _preprocess(inputs, True if create_graph else False)
        is_out_tuple, outputs = _call(func, inputs, "jacobian")
        rows = _rows_batched if vectorize else _rows_looped
        blocks = [rows(o, inputs, create_graph, strict, k) for k, o in enumerate(outputs)]
    blocks = tuple(_shape_back(is_in_tuple, tuple(b)) for b in blocks)
    return _postprocess(_shape_back(is_out_tuple, blocks), create_graph)


_INDEPENDENT = ("Output {k} of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode.")


def _rows_looped(out, inputs, create_graph, strict, k):
    """d out / d inputs, one backward pass per element of ``out``."""
    xgrad = _xgrad()
    flat = xgrad.reshape(out, (-1,))
    per_input = [[] for _ in inputs]
    for j in range(flat.shape[0]):
        grads = (None,) * len(inputs)
        if out.requires_grad:
            grads = xgrad.autograd.grad(flat[j], inputs, retain_graph=True,
                                        create_graph=create_graph, allow_unused=True)
        for i, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(_INDEPENDENT.format(k=k, i=i))
                g = xgrad.zeros_like(x.detach())
            per_input[i].append(g)
    return [_stack_rows(rows, out, x) for rows, x in zip(per_input, inputs)]


def _stack_rows(rows, out, x):
    xgrad = _xgrad()
    shape = tuple(out.shape) + tuple(x.shape)
    if not rows:
        return xgrad.zeros(shape, dtype=x.dtype, device=x.device)
    return xgrad.reshape(xgrad.stack(rows, axis=0), shape)


def _rows_batched(out, inputs, create_graph, strict, k):
    """d out / d inputs in one backward pass over a batch of one-hot cotangents."""
    from ..func import _jacobian_rows
    return list(_jacobian_rows(out, inputs, create_graph))


def _jacobian_forward(func, inputs, create_graph, strict):
    """Columns of the Jacobian by forward mode, one pass per input element."""
    from ..func import _assemble
    xgrad = _xgrad()
    per_input = []
    is_out_tuple = False
    for i, x in enumerate(inputs):
        n = x.numel()
        basis = xgrad.reshape(xgrad.eye(max(n, 1), dtype=x.dtype, device=x.device)[:n],
                              (n,) + tuple(x.shape))
        columns, outputs = None, None
        for e in range(n):
            v = tuple(basis[e] if j == i else xgrad.zeros_like(y.detach())
                      for j, y in enumerate(inputs))
            outs, tangents = jvp(func, inputs, v, create_graph=create_graph, strict=False)
            is_out_tuple = isinstance(outs, tuple)
            outputs = outs if is_out_tuple else (outs,)
            tangents = tangents if is_out_tuple else (tangents,)
            columns = [[] for _ in tangents] if columns is None else columns
            for c, t in zip(columns, tangents):
                c.append(t)
        if outputs is None:
            outs = func(*inputs)
            is_out_tuple = isinstance(outs, tuple)
            outputs = outs if is_out_tuple else (outs,)
            columns = [[] for _ in outputs]
        per_input.append([_assemble(c, o, x) for c, o in zip(columns, outputs)])
    blocks = [[per_input[i][k] for i in range(len(inputs))] for k in range(len(per_input[0]))]
    return is_out_tuple, blocks


# -- second order ----------------------------------------------------------------------------
def _scalar_output(func, fn_name):
    xgrad = _xgrad()

    def wrapped(*inputs):
        out = func(*inputs)
        if isinstance(out, tuple) or not isinstance(out, xgrad.Tensor):
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                               f"contain a single element")
        return xgrad.reshape(out, ())
    return wrapped


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of scalar ``func`` at ``inputs``: the Jacobian of its gradient
    (blocks ``input_i.shape + input_j.shape``, a tuple of tuples for tuple inputs)."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    scalar = _scalar_output(func, "hessian")

    def gradient(*inp):
        return jacobian(scalar, inp if is_in_tuple else inp[0], create_graph=True, strict=strict)
    return jacobian(gradient, inputs if is_in_tuple else inputs[0], create_graph=create_graph,
                    strict=strict, vectorize=vectorize, strategy=outer_jacobian_strategy)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func_output, H v)`` for scalar ``func``: one forward-over-reverse sweep."""
    from . import forward_ad as fwAD
    from . import grad as _grad
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
    v = _default_v(inputs, "hvp", "input") if v is None else \
        _validate_v(v, inputs, "hvp", "the input's shape")
    inputs = _preprocess(inputs, create_graph)
    scalar = _scalar_output(func, "hvp")
    xgrad = _xgrad()
    with fwAD.dual_level() as level:
        duals = tuple(fwAD.make_dual(x, t, level=level) for x, t in zip(inputs, v))
        with xgrad.enable_grad():
            out = scalar(*duals)
            grads = _grad(out, duals, create_graph=True, allow_unused=True) \
                if out.requires_grad else (None,) * len(duals)
        grads = _fill(grads, duals, strict, "The output of the user-provided function is "
                      "independent of input {i}. This is not allowed in strict mode.")
        products = tuple(fwAD.unpack_dual(g, level=level).tangent for g in grads)
        value = fwAD.unpack_dual(out, level=level).primal
    products = _fill(products, inputs, strict, "The hessian of the user-provided function is "
                     "independent of input {i}. This is not allowed in strict mode.")
    return (_postprocess(value, create_graph),
            _postprocess(_shape_back(is_in_tuple, products), create_graph))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func_output, v^T H)`` for scalar ``func``: reverse-over-reverse."""
    from . import grad as _grad
    xgrad = _xgrad()
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
    v = _default_v(inputs, "vhp", "input") if v is None else \
        _validate_v(v, inputs, "vhp", "the input's shape")
    inputs = _preprocess(inputs, create_graph)
    scalar = _scalar_output(func, "vhp")
    with xgrad.enable_grad():
        out = scalar(*inputs)
        grads = _grad(out, inputs, create_graph=True, allow_unused=True) \
            if out.requires_grad else (None,) * len(inputs)
        grads = _fill(grads, inputs, strict, "The output of the user-provided function is "
                      "independent of input {i}. This is not allowed in strict mode.")
        pairs = [(g, t) for g, t in zip(grads, v) if g.requires_grad]
        products = (None,) * len(inputs)
        if pairs:
            products = _grad([g for g, _ in pairs], inputs, [t for _, t in pairs],
                             create_graph=create_graph, allow_unused=True)
    products = _fill(products, inputs, strict, "The hessian of the user-provided function is "
                     "independent of input {i}. This is not allowed in strict mode.")
    return (_postprocess(out, create_graph),
            _postprocess(_shape_back(is_in_tuple, products), create_graph))
