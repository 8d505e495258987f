"""Function transforms in the style of ``torch.func`` and JAX.

``grad(f)`` is a function that returns the gradient of ``f``; ``vjp``/``jvp``
give the output with a pullback or a directional derivative; ``jacrev`` and
``jacfwd`` build Jacobians in reverse mode (one batched backward pass) or
forward mode (one JVP per input element); ``hessian`` is ``jacfwd(jacrev(f))``.

Transforms compose (``grad(grad(f))``, ``jacfwd(jacrev(f))``). Each reverse
transform differentiates an alias of its inputs, connected to whatever outer
transform is differentiating them, so a nested ``grad`` of a function that
closes over an outer variable does not confuse the two (see Autodidax on
perturbation confusion); forward transforms use separate levels of
:mod:`xgrad.autograd.forward_ad`.
"""

from __future__ import annotations

import functools

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize"]

_NESTING = [0]  # reverse transforms running now: results must stay differentiable


class _nested:
    def __enter__(self):
        _NESTING[0] += 1

    def __exit__(self, *exc):
        _NESTING[0] -= 1
        return False


def _xgrad():
    import xgrad
    return xgrad


def _as_input(x):
    """``x`` as a tensor this transform differentiates: a view connected to ``x``'s
    graph and tangents, made to require grad."""
    xgrad = _xgrad()
    if not isinstance(x, xgrad.Tensor):
        x = xgrad.asarray(x)
    with xgrad.enable_grad():
        y = xgrad.reshape(x, tuple(x.shape))
    if not y.requires_grad:
        y.requires_grad_()
    return y


def _needs_graph(originals) -> bool:
    """Must the derivatives be differentiable again (an outer transform is active)?"""
    from .autograd.forward_state import STATE
    if STATE.depth or _NESTING[0]:
        return True
    xgrad = _xgrad()
    return any(isinstance(x, xgrad.Tensor) and x.requires_grad for x in originals)


def _flatten(out):
    return (tuple(out), True) if isinstance(out, (tuple, list)) else ((out,), False)


def _split_aux(out, has_aux):
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise RuntimeError("a function transformed with has_aux=True must return a pair "
                           "(output, aux)")
    return out


def _argnums(argnums, nargs):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"argnums {a} is out of range for a function of {nargs} arguments")
    return tuple(a % nargs for a in nums), single


def _zeros_for_none(grads, inputs):
    xgrad = _xgrad()
    return tuple(xgrad.zeros_like(x.detach()) if g is None else g for g, x in zip(grads, inputs))


# -- reverse mode ---------------------------------------------------------------------------
def grad_and_value(f, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of scalar-valued ``f`` with respect to
    the arguments ``argnums`` (``(gradient, (value, aux))`` with ``has_aux``)."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args))
        need = _needs_graph(args)
        args = list(args)
        inputs = [_as_input(args[a]) for a in nums]
        for a, x in zip(nums, inputs):
            args[a] = x
        xgrad = _xgrad()
        with xgrad.enable_grad(), _nested():
            out, aux = _split_aux(f(*args, **kwargs), has_aux)
        _check_scalar(out)
        grads = _reverse(out, inputs, None, need)
        value = out if need else out.detach()
        result = grads[0] if single else grads
        return (result, (value, aux)) if has_aux else (result, value)
    return wrapper


def grad(f, argnums=0, has_aux=False):
    """The gradient of scalar-valued ``f`` as a function (``(gradient, aux)`` with
    ``has_aux``): ``grad(f)(x)`` has ``x``'s shape; a tuple ``argnums`` gives a tuple."""
    inner = grad_and_value(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def _check_scalar(out):
    xgrad = _xgrad()
    if not isinstance(out, xgrad.Tensor) or out.ndim != 0:
        shape = getattr(out, "shape", type(out).__name__)
        raise RuntimeError(f"grad: the function must return a scalar (0-d) tensor, got {shape}")


def _reverse(out, inputs, cotangents, need, batched=False):
    """Gradients of ``out`` (a tensor or tuple) with respect to ``inputs``."""
    xgrad = _xgrad()
    outs, _ = _flatten(out)
    pairs = [(o, c) for o, c in zip(outs, cotangents or (None,) * len(outs))
             if isinstance(o, xgrad.Tensor) and o.requires_grad]
    if not pairs:
        return _zeros_for_none((None,) * len(inputs), inputs)
    grads = xgrad.autograd.grad([o for o, _ in pairs], inputs,
                                None if cotangents is None else [c for _, c in pairs],
                                retain_graph=True, create_graph=need, allow_unused=True,
                                is_grads_batched=batched)
    if batched:
        return tuple(g if g is not None else
                     xgrad.zeros((pairs[0][1].shape[0],) + tuple(x.shape), dtype=x.dtype,
                                 device=x.device) for g, x in zip(grads, inputs))
    return _zeros_for_none(grads, inputs)


def vjp(f, *primals, has_aux=False):
    """``(output, pullback)``: ``pullback(cotangents)`` returns the vector-Jacobian
    product, one gradient per primal (``(output, pullback, aux)`` with ``has_aux``)."""
    xgrad = _xgrad()
    need = _needs_graph(primals)
    inputs = tuple(_as_input(p) for p in primals)
    with xgrad.enable_grad(), _nested():
        out, aux = _split_aux(f(*inputs), has_aux)

    def pullback(*cotangents):
        outs, is_tuple = _flatten(out)
        if len(cotangents) == 1 and is_tuple and isinstance(cotangents[0], (tuple, list)):
            cotangents = tuple(cotangents[0])
        if len(cotangents) != len(outs):
            raise RuntimeError(f"vjp: expected {len(outs)} cotangents, got {len(cotangents)}")
        return _reverse(out, inputs, cotangents, need or _needs_graph(cotangents))
    value = out if need else _detach(out)
    return (value, pullback, aux) if has_aux else (value, pullback)


def _detach(out):
    outs, is_tuple = _flatten(out)
    outs = tuple(o.detach() for o in outs)
    return outs if is_tuple else outs[0]


def jacrev(f, argnums=0, *, has_aux=False):
    """The Jacobian of ``f`` by reverse mode: one batched backward pass per output.
    Block shape: ``output.shape + input.shape``."""
    @functools.wraps(f)
    def wrapper(*args):
        xgrad = _xgrad()
        nums, single = _argnums(argnums, len(args))
        need = _needs_graph(args)
        args = list(args)
        inputs = [_as_input(args[a]) for a in nums]
        for a, x in zip(nums, inputs):
            args[a] = x
        with xgrad.enable_grad(), _nested():
            out, aux = _split_aux(f(*args), has_aux)
        outs, is_tuple = _flatten(out)
        blocks = tuple(_jacobian_rows(o, inputs, need) for o in outs)
        blocks = tuple(b[0] if single else b for b in blocks)
        result = blocks if is_tuple else blocks[0]
        return (result, aux) if has_aux else result
    return wrapper


def _jacobian_rows(out, inputs, need):
    """The blocks ``d out / d input`` (``out.shape + input.shape``) in one batched pass."""
    xgrad = _xgrad()
    m = out.numel()
    shapes = [tuple(out.shape) + tuple(x.shape) for x in inputs]
    if m == 0 or not out.requires_grad:
        return tuple(xgrad.zeros(s, dtype=x.dtype, device=x.device) for s, x in zip(shapes, inputs))
    eye = xgrad.reshape(xgrad.eye(m, dtype=out.dtype, device=out.device), (m,) + tuple(out.shape))
    rows = _reverse(out, inputs, (eye,), need, batched=True)
    return tuple(xgrad.reshape(r, s) for r, s in zip(rows, shapes))


# -- forward mode ---------------------------------------------------------------------------
def jvp(f, primals, tangents, *, strict=False, has_aux=False):
    """``(output, jvp_out)``: ``f(*primals)`` and its derivative in the direction
    ``tangents``, by forward mode (no backward pass)."""
    from .autograd import forward_ad as fwAD
    primals, tangents = tuple(primals), tuple(tangents)
    need = _needs_graph(primals + tangents)
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp: expected as many tangents as primals ({len(primals)}), "
                           f"got {len(tangents)}")
    with fwAD.dual_level() as level:
        duals = tuple(p if t is None else _dual(p, t, level) for p, t in zip(primals, tangents))
        out, aux = _split_aux(f(*duals), has_aux)
        outs, is_tuple = _flatten(out)
        pairs = [_unpack(o, level) for o in outs]
    values = tuple(p if need else p.detach() for p, _ in pairs)
    derivs = tuple(t if need else t.detach() for _, t in pairs)
    result = (values, derivs) if is_tuple else (values[0], derivs[0])
    return result + (aux,) if has_aux else result


def _dual(p, t, level):
    from .autograd import forward_ad as fwAD
    p = _tensor(p)
    return fwAD.make_dual(p, _tensor(t, like=p), level=level)


def _tensor(x, like=None):
    xgrad = _xgrad()
    if isinstance(x, xgrad.Tensor):
        return x
    if like is not None:
        return xgrad.asarray(x, dtype=like.dtype, device=like.device)
    return xgrad.asarray(x)


def _unpack(o, level):
    from .autograd import forward_ad as fwAD
    xgrad = _xgrad()
    primal, tangent = fwAD.unpack_dual(o, level=level)
    if tangent is None:
        tangent = xgrad.zeros_like(primal.detach())
    return primal, tangent


def jacfwd(f, argnums=0, *, has_aux=False):
    """The Jacobian of ``f`` by forward mode: one JVP per input element.
    Block shape: ``output.shape + input.shape``."""
    @functools.wraps(f)
    def wrapper(*args):
        nums, single = _argnums(argnums, len(args))
        per_arg = []
        aux = None
        for a in nums:
            cols, out, aux = _forward_columns(f, args, a, has_aux)
            outs, is_tuple = _flatten(out)
            x = args[a]
            per_arg.append(tuple(_assemble(c, o, x) for c, o in zip(cols, outs)))
        blocks = tuple(tuple(p[k] for p in per_arg) for k in range(len(per_arg[0])))
        blocks = tuple(b[0] if single else b for b in blocks)
        result = blocks if is_tuple else blocks[0]
        return (result, aux) if has_aux else result
    return wrapper


def _forward_columns(f, args, a, has_aux):
    """JVPs of ``f`` along each basis direction of argument ``a``: per output, a list."""
    xgrad = _xgrad()
    x = _tensor(args[a])
    n = x.numel()
    basis = xgrad.reshape(xgrad.eye(max(n, 1), dtype=x.dtype, device=x.device)[:n],
                          (n,) + tuple(x.shape))
    tangents_of = lambda t: tuple(t if i == a else None for i in range(len(args)))  # noqa: E731
    if n == 0:
        out = f(*args)
        out, aux = _split_aux(out, has_aux)
        return tuple([] for _ in _flatten(out)[0]), out, aux
    cols = None
    for j in range(n):
        res = jvp(f, args, tangents_of(basis[j]), has_aux=has_aux)
        out, deriv = res[0], res[1]
        derivs, _ = _flatten(deriv)
        cols = [[] for _ in derivs] if cols is None else cols
        for c, d in zip(cols, derivs):
            c.append(d)
    return cols, out, (res[2] if has_aux else None)


def _assemble(cols, out, x):
    xgrad = _xgrad()
    shape = tuple(out.shape) + tuple(x.shape)
    if not cols:
        return xgrad.zeros(shape, dtype=out.dtype, device=out.device)
    return xgrad.reshape(xgrad.stack(cols, axis=-1), shape)


def hessian(f, argnums=0):
    """The Hessian of scalar-valued ``f``: ``jacfwd(jacrev(f))`` (forward-over-reverse)."""
    return jacfwd(jacrev(f, argnums), argnums)


def linearize(f, *primals):
    """``(output, jvp_fn)``: ``jvp_fn(*tangents)`` is the JVP of ``f`` at ``primals``
    (each call runs one forward-mode pass)."""
    out = f(*primals)

    def jvp_fn(*tangents):
        return jvp(f, primals, tangents)[1]
    return _detach(out), jvp_fn
