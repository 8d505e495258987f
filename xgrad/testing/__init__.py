"""Testing tools: gradient checks against finite differences, and assertions.

``gradcheck`` compares the gradients autograd computes with central finite
differences, in float64 on the inputs' own device; ``gradgradcheck`` does the
same for the gradients of the gradients (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "assert_close", "to_numpy"]


class GradcheckError(AssertionError):
    """Autograd's gradient differs from the finite-difference one."""


def to_numpy(x):
    """A NumPy copy of a tensor (or a passthrough for other data)."""
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return np.array(x._device.backend.to_numpy(x._data))
    return np.asarray(x)


def assert_close(actual, expected, *, rtol=1e-5, atol=1e-8, msg=""):
    """Values (and shapes) of ``actual`` match ``expected`` (tensors or array-likes)."""
    a, e = to_numpy(actual), to_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(f"shape {a.shape} != expected {e.shape} {msg}")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=msg)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float64_inputs(inputs):
    import xgrad
    out = []
    for x in inputs:
        if isinstance(x, xgrad.Tensor) and x.dtype.is_inexact:
            y = xgrad.astype(x.detach(), xgrad.float64 if x.dtype.is_floating_point else xgrad.complex128)
            out.append(y.requires_grad_(x.requires_grad))
        else:
            out.append(x)
    return out


def _outputs(fn, inputs):
    import xgrad
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, xgrad.Tensor) and o.dtype.is_inexact]


def _analytical(fn, inputs, diff):
    """Rows of the Jacobian, one per output element, from reverse mode."""
    import xgrad
    outputs = _outputs(fn, inputs)
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in diff] for o in outputs]
    for k, o in enumerate(outputs):
        if not o.requires_grad:
            continue
        for j in range(o.numel()):
            onehot = np.zeros(o.numel())
            onehot[j] = 1.0
            v = xgrad.asarray(onehot.reshape(o.shape), dtype=o.dtype, device=o.device)
            grads = xgrad.autograd.grad(o, [inputs[i] for i in diff], v, retain_graph=True,
                                        allow_unused=True)
            for col, (i, g) in enumerate(zip(diff, grads)):
                if g is None:
                    continue
                if g.shape != inputs[i].shape:
                    raise GradcheckError(f"gradient of input {i} has shape {g.shape}, the input "
                                         f"{inputs[i].shape}")
                if g.device != inputs[i].device:
                    raise GradcheckError(f"gradient of input {i} is on {g.device}, the input on "
                                         f"{inputs[i].device}")
                jac[k][col][j] = to_numpy(g).reshape(-1)
    return jac, outputs


def _numerical(fn, inputs, diff, eps):
    """Rows of the Jacobian from central differences, perturbing one element at a time."""
    import xgrad
    base = _outputs(fn, inputs)
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in diff] for o in base]
    for col, i in enumerate(diff):
        x = inputs[i]
        host = to_numpy(x).reshape(-1)
        for e in range(host.size):
            values = []
            for sign in (1, -1):
                bumped = host.copy()
                bumped[e] += sign * eps
                xi = xgrad.asarray(bumped.reshape(x.shape), dtype=x.dtype, device=x.device)
                args = list(inputs)
                args[i] = xi.requires_grad_(True)  # fn may itself differentiate (gradgradcheck)
                values.append([to_numpy(o.detach()).reshape(-1) for o in _outputs(fn, args)])
            for k in range(len(base)):
                jac[k][col][:, e] = (values[0][k] - values[1][k]) / (2 * eps)
    return jac


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Check ``fn``'s gradients at ``inputs`` against central finite differences.

    Inputs that require grad are differentiated (converted to float64 first).
    Returns True, or raises :class:`GradcheckError` naming the output, input and
    the largest difference (returns False instead with ``raise_exception=False``).
    """
    inputs = _float64_inputs(_as_tuple(inputs))
    import xgrad
    diff = [i for i, x in enumerate(inputs) if isinstance(x, xgrad.Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck needs at least one input that requires grad")
    analytical, _ = _analytical(fn, inputs, diff)
    numerical = _numerical(fn, inputs, diff, eps)
    for k, (rows_a, rows_n) in enumerate(zip(analytical, numerical)):
        for col, (a, n) in enumerate(zip(rows_a, rows_n)):
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                worst = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
                message = (f"Jacobian mismatch for output {k} with respect to input {diff[col]}:\n"
                           f"analytical:\n{a}\nnumerical:\n{n}\nlargest difference at "
                           f"{worst}: {a[worst]} vs {n[worst]}")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_ignored):
    """Check second derivatives: gradcheck of ``v -> d(fn)/d(inputs) · v`` with
    ``create_graph=True``, differentiated in both the inputs and ``v``."""
    import xgrad
    inputs = _float64_inputs(_as_tuple(inputs))
    diff = [i for i, x in enumerate(inputs) if isinstance(x, xgrad.Tensor) and x.requires_grad]
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [xgrad.asarray(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device,
                                      requires_grad=True) for o in outputs]
    else:
        grad_outputs = [g.detach().astype(xgrad.float64).requires_grad_() for g in _as_tuple(grad_outputs)]
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        outs = _outputs(fn, xs)
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        grads = xgrad.autograd.grad([o for o, _ in pairs], [xs[i] for i in diff],
                                    [v for _, v in pairs], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
