"""The workloads W1-W4, each written once per peer.

Every ``build_*`` function returns ``{peer: fn}`` where ``fn()`` runs one step
(forward + backward, or forward only), ready for :func:`_harness.measure`.
``xp`` is the array module of the hand-written floor (NumPy, or CuPy on a GPU),
``device`` the xgrad device and ``tdevice`` PyTorch's. Each builder also checks
once that the peers agree on the gradient, so a fast wrong answer cannot win.
"""

from __future__ import annotations

import warnings

import numpy as np

import xgrad

CHAIN_LENGTH = 100  # W1: four ops per round, 25 rounds


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _hips():
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None, None
    return autograd, anp


def _jax():
    """JAX's modules (float64 enabled, for W4), or (None, None) where it is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


class Unavailable:
    """A peer that cannot run here, with the reason; the harness reports it under the
    table instead of dropping it silently."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self):
        return f"Unavailable({self.reason!r})"


#: Peers that are optional: missing or failing, they are reported, not fatal.
COMPILED = ("xgrad.compile", "torch.compile", "jax.jit")
_INDUCTOR = {}


def _torch_compile(torch):
    """``(peer name, compile function)`` for PyTorch: ``torch.compile`` with inductor
    where it works here (it needs a C++ compiler), else ``aot_eager`` under its own
    label with the reason inductor failed; ``(None, reason)`` without PyTorch."""
    if torch is None:
        return None, "PyTorch not installed"
    if "ok" not in _INDUCTOR:
        try:
            probe = torch.compile(lambda a: torch.tanh(a) * a, dynamic=False)
            probe(torch.ones(4, requires_grad=True)).sum().backward()
            _INDUCTOR["ok"] = True
        except Exception as exc:  # noqa: BLE001 (any failure of the backend: reported)
            _INDUCTOR["ok"] = False
            _INDUCTOR["reason"] = f"inductor failed here: {type(exc).__name__}: " \
                                  f"{str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
    if _INDUCTOR["ok"]:
        return "torch.compile", lambda fn: torch.compile(fn, dynamic=False)
    return "torch.compile[aot_eager]", lambda fn: torch.compile(fn, backend="aot_eager",
                                                                 dynamic=False)


def _xgrad_compile():
    """``xgrad.compile``, or None where this tree does not have it yet."""
    return getattr(xgrad, "compile", None)


def _add_compiled(peers, torch_peer, jax_peer, xgrad_peer, which=COMPILED):
    """Add the compiled peers named in ``which``: each ``*_peer`` is a function returning
    the step (or raising); a missing library or a failure becomes an
    :class:`Unavailable`, and so does a peer left out of ``which``. ``which`` is a
    tuple of names, or a dict name -> None (run it) or the reason it is left out."""
    which, reasons = _which(which)
    for name in COMPILED:
        if name not in which:
            peers[name] = Unavailable(reasons.get(name, "not requested"))
    if "xgrad.compile" not in which:
        pass
    elif _xgrad_compile() is None:
        peers["xgrad.compile"] = Unavailable("not available: this tree has no xgrad.compile")
    elif xgrad_peer is None:
        peers["xgrad.compile"] = Unavailable("not applicable")
    else:
        _guard(peers, "xgrad.compile", xgrad_peer)
    torch = _torch()
    name, compiler = _torch_compile(torch) if "torch.compile" in which else ("", None)
    if not name:
        pass
    elif name is None:
        peers["torch.compile"] = Unavailable(compiler)
    else:
        if name != "torch.compile":
            peers["torch.compile"] = Unavailable(_INDUCTOR["reason"])
        if torch_peer is None:
            peers[name] = Unavailable("not applicable")
        else:
            _guard(peers, name, lambda: torch_peer(torch, compiler))
    jax, jnp = _jax() if "jax.jit" in which else (False, None)
    if jax is False:
        pass
    elif jax is None:
        peers["jax.jit"] = Unavailable("not installed (pip install jax: optional, "
                                       "for the benchmark only)")
    elif jax_peer is None:
        peers["jax.jit"] = Unavailable("not applicable: JAX keeps no tape to record")
    else:
        _guard(peers, "jax.jit", lambda: jax_peer(jax, jnp))


def _which(which):
    """``(names to run, {name: reason left out})`` from a tuple or a dict (see above)."""
    if isinstance(which, dict):
        return ([k for k, v in which.items() if v is None],
                {k: v for k, v in which.items() if v is not None})
    return list(which), {}


def _guard(peers, name, make):
    try:
        peers[name] = make()
    except Exception as exc:  # noqa: BLE001
        peers[name] = _failed(exc)


def _failed(exc):
    return Unavailable(f"failed: {type(exc).__name__}: {_short(str(exc))}")


def _short(text, limit=240):
    """The first line of a message, cut at a word with an ellipsis past ``limit``."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + " ..."


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _finish(workload, peers, reference, rtol=1e-4, atol=1e-5):
    """Check every peer's result against the floor's (``reference``: a list of arrays).
    A compiled peer is called three times first (trace, then replays) and its third
    result checked; if it fails or differs, it is reported as :class:`Unavailable`
    with the reason. A plain peer that differs raises, as before."""
    others = {}
    for name, fn in list(peers.items()):
        if name == "numpy" or isinstance(fn, Unavailable):
            continue
        if any(name.startswith(c) for c in COMPILED):
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    fn()
                    fn()
                    got = _as_list(fn())
                _check(workload, reference, {name: got}, rtol=rtol, atol=atol)
                breaks = [w for w in caught if "GraphBreak" in type(w.message).__name__]
                if breaks:  # it would time eager mode under the compiled name
                    peers[name] = Unavailable("graph break, runs eagerly: "
                                              + _short(str(breaks[0].message)))
            except Exception as exc:  # noqa: BLE001
                peers[name] = _failed(exc)
        else:
            others[name] = _as_list(fn())
    _check(workload, reference, others, rtol=rtol, atol=atol)
    return peers


def _torch_grad_step(xt, loss):
    """A PyTorch step: the gradient of the scalar ``loss(xt)`` w.r.t. the leaf ``xt``."""
    def step():
        xt.grad = None
        loss(xt).backward()
        return xt.grad
    return step


def _ready(jax, fn):
    """A jitted call that waits for its result (JAX dispatches asynchronously)."""
    return lambda *a: jax.block_until_ready(fn(*a))


def _to_numpy(a):
    if hasattr(a, "detach"):        # torch
        a = a.detach().cpu().numpy()
    elif isinstance(a, xgrad.Tensor):
        a = a.cpu().numpy()
    elif hasattr(a, "get"):          # cupy
        a = a.get()
    return np.asarray(a, dtype=np.float64)


def _check(workload, reference, others, rtol=1e-4, atol=1e-5):
    """Every peer's gradient (a list of arrays) agrees with the floor's."""
    ref = [_to_numpy(a) for a in reference]
    for peer, grads in others.items():
        got = [_to_numpy(a) for a in grads]
        for r, g in zip(ref, got):
            if not np.allclose(r, g, rtol=rtol, atol=atol):
                raise AssertionError(f"{workload}: {peer}'s gradient differs from the floor's "
                                     f"(max abs diff {np.max(np.abs(r - g)):.3g})")


# -- W1: a chain of 100 tiny elementwise ops -------------------------------------------
def _chain(x, tanh, sin):
    y = x
    for _ in range(CHAIN_LENGTH // 4):
        y = tanh(y)
        y = y * x
        y = sin(y)
        y = y + x
    return y


def _chain_floor_grad(xp, x):
    """The W1 chain's gradient by hand: the forward keeps what the backward needs."""
    saved = []
    y = x
    for _ in range(CHAIN_LENGTH // 4):
        t = xp.tanh(y)
        a = t * x
        saved.append((t, a))
        y = xp.sin(a) + x
    value = xp.sum(y)
    g = xp.ones_like(x)
    gx = xp.zeros_like(x)
    for t, a in reversed(saved):
        gx += g                    # y + x
        g = g * xp.cos(a)          # sin
        gx += g * t                # t * x, for x
        g = g * x                  # t * x, for t
        g = g * (1 - t * t)        # tanh
    gx += g                        # the chain started at x
    return value, gx


def build_w1(xp, device, tdevice, *, forward_only=False, no_grad=False, compiled=COMPILED):
    """W1: forward + backward of the chain, or its forward only (recording, or under
    ``no_grad``). Per-op times are the step's time / CHAIN_LENGTH. ``compiled``: which
    of ``xgrad.compile``, ``torch.compile`` and ``jax.jit`` to add (each reported if it
    cannot run), or a dict peer -> the reason it is left out; empty: none."""
    x0 = np.linspace(-1.0, 1.0, 16, dtype=np.float32)
    xf = xp.asarray(x0)
    peers = {}
    if forward_only:
        peers["numpy"] = lambda: _chain(xf, xp.tanh, xp.sin)
    else:
        peers["numpy"] = lambda: _chain_floor_grad(xp, xf)

    xg = xgrad.asarray(x0, device=device)
    if not no_grad:
        xg.requires_grad_()

    if forward_only and no_grad:
        def xgrad_step():
            with xgrad.no_grad():
                return _chain(xg, xgrad.tanh, xgrad.sin)
    elif forward_only:
        def xgrad_step():
            return _chain(xg, xgrad.tanh, xgrad.sin)
    else:
        def xgrad_step():
            xg.grad = None
            xgrad.sum(_chain(xg, xgrad.tanh, xgrad.sin)).backward()
            return xg.grad
    peers["xgrad"] = xgrad_step

    torch = _torch()
    if torch is not None:
        xt = torch.tensor(x0, device=tdevice, requires_grad=not no_grad)
        if forward_only and no_grad:
            def torch_step():
                with torch.no_grad():
                    return _chain(xt, torch.tanh, torch.sin)
        elif forward_only:
            def torch_step():
                return _chain(xt, torch.tanh, torch.sin)
        else:
            def torch_step():
                xt.grad = None
                _chain(xt, torch.tanh, torch.sin).sum().backward()
                return xt.grad
        peers["torch"] = torch_step

    autograd, anp = _hips()
    if autograd is not None and xp is np and not forward_only:
        grad_fn = autograd.grad(lambda x: anp.sum(_chain(x, anp.tanh, anp.sin)))
        peers["autograd"] = lambda: grad_fn(x0)

    if compiled:
        _add_compiled(peers, *_w1_compiled(xp, x0, xg, tdevice, forward_only, no_grad),
                      which=compiled)

    if forward_only:
        ref = _chain(xf, xp.tanh, xp.sin)
    else:
        _, ref = _chain_floor_grad(xp, xf)
    return _finish("W1", peers, [ref])


def _w1_compiled(xp, x0, xg, tdevice, forward_only, no_grad):
    """W1's compiled peers: (torch, jax, xgrad) step factories. Each compiles the
    function a user would: the forward (PyTorch, whose backward AOTAutograd compiles
    with it), the gradient function (JAX), or the whole step with its
    ``autograd.grad`` (xgrad)."""
    def torch_peer(torch, compiler):
        xt = torch.tensor(x0, device=tdevice, requires_grad=not no_grad)
        if forward_only:
            f = compiler(lambda x: _chain(x, torch.tanh, torch.sin))
            if no_grad:
                def step():
                    with torch.no_grad():
                        return f(xt)
                return step
            return lambda: f(xt)
        return _torch_grad_step(xt, compiler(lambda x: _chain(x, torch.tanh, torch.sin).sum()))

    def jax_peer(jax, jnp):
        xj = jax.device_put(jnp.asarray(x0))
        if forward_only:
            f = _ready(jax, jax.jit(lambda x: _chain(x, jnp.tanh, jnp.sin)))
        else:
            f = _ready(jax, jax.jit(jax.grad(lambda x: jnp.sum(_chain(x, jnp.tanh, jnp.sin)))))
        return lambda: f(xj)

    def xgrad_peer():
        if forward_only and no_grad:
            def fn(x):
                with xgrad.no_grad():
                    return _chain(x, xgrad.tanh, xgrad.sin)
        elif forward_only:
            def fn(x):
                return _chain(x, xgrad.tanh, xgrad.sin)
        else:
            def fn(x):
                return xgrad.autograd.grad(xgrad.sum(_chain(x, xgrad.tanh, xgrad.sin)), x)[0]
        f = xgrad.compile(fn)
        return lambda: f(xg)

    return torch_peer, (None if forward_only and not no_grad else jax_peer), xgrad_peer


# -- W2: MLP step, softmax cross-entropy --------------------------------------------------
def mlp_data(sizes, batch, seed=0):
    """Weights (He init), biases, inputs and one-hot targets, all float32 NumPy."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float32) * np.float32(np.sqrt(2 / fan_in))
        params += [w, np.zeros(fan_out, dtype=np.float32)]
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    onehot = np.zeros((batch, sizes[-1]), dtype=np.float32)
    onehot[np.arange(batch), labels] = 1
    return params, x, onehot


def mlp_loss_xgrad(params, x, onehot):
    """Mean softmax cross-entropy of the MLP, from xgrad ops: log-softmax by the
    max-shift (the shift is a constant: its gradient cancels) and log-sum-exp."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = xgrad.relu(h @ params[i] + params[i + 1])
    z = h @ params[-2] + params[-1]
    z = z - xgrad.amax(z.detach(), dim=1, keepdim=True)
    lse = xgrad.log(xgrad.sum(xgrad.exp(z), axis=1, keepdims=True))
    return xgrad.sum((lse - z) * onehot) / x.shape[0]


def mlp_loss_torch(torch, params, x, onehot):
    """The same loss, the same ops, in PyTorch."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = torch.relu(h @ params[i] + params[i + 1])
    z = h @ params[-2] + params[-1]
    z = z - torch.amax(z.detach(), dim=1, keepdim=True)
    lse = torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return torch.sum((lse - z) * onehot) / x.shape[0]


def mlp_loss_hips(anp, params, x, onehot):
    h = x
    for i in range(0, len(params) - 2, 2):
        h = anp.maximum(h @ params[i] + params[i + 1], 0.0)
    z = h @ params[-2] + params[-1]
    z = z - anp.max(z, axis=1, keepdims=True)
    lse = anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
    return anp.sum((lse - z) * onehot) / x.shape[0]


def mlp_floor_grad(xp, params, x, onehot):
    """Forward and backward of the MLP by hand, in place where it is natural."""
    acts = [x]
    h = x
    for i in range(0, len(params) - 2, 2):
        h = h @ params[i]
        h += params[i + 1]
        xp.maximum(h, 0, out=h)
        acts.append(h)
    z = h @ params[-2]
    z += params[-1]
    z -= xp.max(z, axis=1, keepdims=True)
    e = xp.exp(z)
    s = xp.sum(e, axis=1, keepdims=True)
    loss = xp.sum((xp.log(s) - z) * onehot) / x.shape[0]
    dz = e
    dz /= s                       # softmax
    dz -= onehot
    dz *= 1.0 / x.shape[0]
    grads = [None] * len(params)
    for i in range(len(params) - 2, -1, -2):
        a = acts[i // 2]
        grads[i] = a.T @ dz
        grads[i + 1] = xp.sum(dz, axis=0)
        if i:
            dz = dz @ params[i].T
            dz *= a > 0           # relu'
    return loss, grads


def build_w2(xp, device, tdevice, sizes, batch, compiled=COMPILED):
    params0, x0, y0 = mlp_data(sizes, batch)
    peers = {}
    pf = [xp.asarray(p) for p in params0]
    xf, yf = xp.asarray(x0), xp.asarray(y0)
    peers["numpy"] = lambda: mlp_floor_grad(xp, pf, xf, yf)

    pg = [xgrad.asarray(p, device=device).requires_grad_() for p in params0]
    xg, yg = xgrad.asarray(x0, device=device), xgrad.asarray(y0, device=device)

    def xgrad_step():
        for p in pg:
            p.grad = None
        mlp_loss_xgrad(pg, xg, yg).backward()
        return [p.grad for p in pg]
    peers["xgrad"] = xgrad_step

    torch = _torch()
    if torch is not None:
        pt = [torch.tensor(p, device=tdevice, requires_grad=True) for p in params0]
        xt, yt = torch.tensor(x0, device=tdevice), torch.tensor(y0, device=tdevice)

        def torch_step():
            for p in pt:
                p.grad = None
            mlp_loss_torch(torch, pt, xt, yt).backward()
            return [p.grad for p in pt]
        peers["torch"] = torch_step

    autograd, anp = _hips()
    if autograd is not None and xp is np:
        grad_fn = autograd.grad(lambda ps: mlp_loss_hips(anp, ps, x0, y0))
        peers["autograd"] = lambda: grad_fn(list(params0))

    if compiled:
        def torch_peer(torch, compiler):
            pt = [torch.tensor(p, device=tdevice, requires_grad=True) for p in params0]
            xt, yt = torch.tensor(x0, device=tdevice), torch.tensor(y0, device=tdevice)
            f = compiler(lambda ps, x, y: mlp_loss_torch(torch, ps, x, y))

            def step():
                for p in pt:
                    p.grad = None
                f(pt, xt, yt).backward()
                return [p.grad for p in pt]
            return step

        def jax_peer(jax, jnp):
            pj = [jnp.asarray(p) for p in params0]
            xj, yj = jnp.asarray(x0), jnp.asarray(y0)
            f = _ready(jax, jax.jit(jax.grad(lambda ps, x, y: mlp_loss_jax(jax, jnp, ps, x, y))))
            return lambda: f(pj, xj, yj)

        def xgrad_peer():
            def fn(x, y, *ps):
                return xgrad.autograd.grad(mlp_loss_xgrad(ps, x, y), ps)
            f = xgrad.compile(fn)
            return lambda: f(xg, yg, *pg)
        _add_compiled(peers, torch_peer, jax_peer, xgrad_peer, which=compiled)

    _, ref = mlp_floor_grad(xp, pf, xf, yf)
    return _finish("W2", peers, ref, rtol=1e-3, atol=1e-5)


def mlp_loss_jax(jax, jnp, params, x, onehot):
    """The same loss in JAX (the max-shift a constant, as in the others)."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = jnp.maximum(h @ params[i] + params[i + 1], 0)
    z = h @ params[-2] + params[-1]
    z = z - jax.lax.stop_gradient(jnp.max(z, axis=1, keepdims=True))
    lse = jnp.log(jnp.sum(jnp.exp(z), axis=1, keepdims=True))
    return jnp.sum((lse - z) * onehot) / x.shape[0]


# -- W3: one large elementwise expression ----------------------------------------------
def w3_floor_grad(xp, x):
    """Value and gradient of sum(tanh(x) x + exp(-x^2)) by hand, reusing buffers:
    d/dx = (1 - t^2) x + t - 2 x exp(-x^2)."""
    t = xp.tanh(x)
    e = xp.multiply(x, x)
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    tmp = xp.multiply(t, x)
    tmp += e
    value = xp.sum(tmp)
    g = xp.multiply(t, t, out=tmp)
    xp.subtract(1, g, out=g)
    g *= x
    g += t
    e *= x
    e *= 2
    g -= e
    return value, g


def w3_expression(lib, x):
    """sum(tanh(x) x + exp(-x x)) with ``lib``'s functions."""
    return lib.sum(lib.tanh(x) * x + lib.exp(-x * x))


def build_w3(xp, device, tdevice, n=4_000_000, compiled=COMPILED):
    x0 = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    peers = {}
    xf = xp.asarray(x0)
    peers["numpy"] = lambda: w3_floor_grad(xp, xf)

    xg = xgrad.asarray(x0, device=device).requires_grad_()

    def xgrad_step():
        xg.grad = None
        xgrad.sum(xgrad.tanh(xg) * xg + xgrad.exp(-xg * xg)).backward()
        return xg.grad
    peers["xgrad"] = xgrad_step

    torch = _torch()
    if torch is not None:
        xt = torch.tensor(x0, device=tdevice, requires_grad=True)

        def torch_step():
            xt.grad = None
            torch.sum(torch.tanh(xt) * xt + torch.exp(-xt * xt)).backward()
            return xt.grad
        peers["torch"] = torch_step

    autograd, anp = _hips()
    if autograd is not None and xp is np:
        vg = autograd.value_and_grad(lambda x: anp.sum(anp.tanh(x) * x + anp.exp(-x * x)))
        peers["autograd"] = lambda: vg(x0)[1]

    if compiled:
        def torch_peer(torch, compiler):
            xt = torch.tensor(x0, device=tdevice, requires_grad=True)
            return _torch_grad_step(xt, compiler(lambda x: w3_expression(torch, x)))

        def jax_peer(jax, jnp):
            xj = jnp.asarray(x0)
            f = _ready(jax, jax.jit(jax.grad(lambda x: w3_expression(jnp, x))))
            return lambda: f(xj)

        def xgrad_peer():
            f = xgrad.compile(lambda x: xgrad.autograd.grad(w3_expression(xgrad, x), x)[0])
            return lambda: f(xg)
        _add_compiled(peers, torch_peer, jax_peer, xgrad_peer, which=compiled)

    _, ref = w3_floor_grad(xp, xf)
    return _finish("W3", peers, [ref])


# -- W4: Hessian-vector product by double backward -----------------------------------------
def w4_floor_hvp(xp, w, x, v):
    """H v for f(x) = sum(tanh(W x)): H = W^T diag(-2 t (1 - t^2)) W, t = tanh(W x)."""
    t = xp.tanh(w @ x)
    d = t * t
    xp.subtract(1, d, out=d)
    d *= t
    d *= -2
    d *= w @ v
    return w.T @ d


def build_w4(xp, device, tdevice, n=512, compiled=COMPILED):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((n, n)) / np.sqrt(n)
    x0 = rng.standard_normal(n)
    v0 = rng.standard_normal(n)
    peers = {}
    wf, xf, vf = xp.asarray(w0), xp.asarray(x0), xp.asarray(v0)
    peers["numpy"] = lambda: w4_floor_hvp(xp, wf, xf, vf)

    wg = xgrad.asarray(w0, device=device)
    xg = xgrad.asarray(x0, device=device).requires_grad_()
    vg = xgrad.asarray(v0, device=device)

    def xgrad_hvp(w, x, v):
        g, = xgrad.autograd.grad(xgrad.sum(xgrad.tanh(w @ x)), x, create_graph=True)
        hv, = xgrad.autograd.grad(xgrad.sum(g * v), x)
        return hv
    peers["xgrad"] = lambda: xgrad_hvp(wg, xg, vg)

    torch = _torch()
    if torch is not None:
        wt = torch.tensor(w0, device=tdevice)
        xt = torch.tensor(x0, device=tdevice, requires_grad=True)
        vt = torch.tensor(v0, device=tdevice)

        def torch_step():
            g, = torch.autograd.grad(torch.sum(torch.tanh(wt @ xt)), xt, create_graph=True)
            hv, = torch.autograd.grad(torch.sum(g * vt), xt)
            return hv
        peers["torch"] = torch_step

    autograd, anp = _hips()
    if autograd is not None and xp is np:
        gradf = autograd.grad(lambda x: anp.sum(anp.tanh(w0 @ x)))
        hvp = autograd.grad(lambda x: anp.sum(gradf(x) * v0))
        peers["autograd"] = lambda: hvp(x0)

    if compiled:
        def torch_peer(torch, compiler):
            # AOTAutograd does not differentiate twice through a compiled graph: the
            # HVP is written with torch.func (grad of grad), compiled whole.
            wt = torch.tensor(w0, device=tdevice)
            xt = torch.tensor(x0, device=tdevice)
            vt = torch.tensor(v0, device=tdevice)
            grad = torch.func.grad

            def hvp(w, x, v):
                g = grad(lambda y: torch.sum(torch.tanh(w @ y)))
                return grad(lambda y: torch.sum(g(y) * v))(x)
            f = compiler(hvp)
            return lambda: f(wt, xt, vt)

        def jax_peer(jax, jnp):
            wj, xj, vj = jnp.asarray(w0), jnp.asarray(x0), jnp.asarray(v0)

            def hvp(w, x, v):
                g = jax.grad(lambda y: jnp.sum(jnp.tanh(w @ y)))
                return jax.grad(lambda y: jnp.sum(g(y) * v))(x)
            f = _ready(jax, jax.jit(hvp))
            return lambda: f(wj, xj, vj)

        def xgrad_peer():
            f = xgrad.compile(xgrad_hvp)
            return lambda: f(wg, xg, vg)
        _add_compiled(peers, torch_peer, jax_peer, xgrad_peer, which=compiled)

    ref = w4_floor_hvp(xp, wf, xf, vf)
    return _finish("W4", peers, [ref], rtol=1e-8, atol=1e-10)
