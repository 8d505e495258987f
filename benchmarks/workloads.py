"""The workloads W1-W4, each written once per peer.

Every ``build_*`` function returns ``{peer: fn}`` where ``fn()`` runs one step
(forward + backward, or forward only), ready for :func:`_harness.measure`.
``xp`` is the array module of the hand-written floor (NumPy, or CuPy on a GPU),
``device`` the xgrad device and ``tdevice`` PyTorch's. Each builder also checks
once that the peers agree on the gradient, so a fast wrong answer cannot win.
"""

from __future__ import annotations

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


def build_w1(xp, device, tdevice, *, forward_only=False, no_grad=False):
    """W1: forward + backward of the chain, or its forward only (recording, or under
    ``no_grad``). Per-op times are the step's time / CHAIN_LENGTH."""
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
                _chain(xg, xgrad.tanh, xgrad.sin)
    elif forward_only:
        def xgrad_step():
            _chain(xg, xgrad.tanh, xgrad.sin)
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
                    _chain(xt, torch.tanh, torch.sin)
        elif forward_only:
            def torch_step():
                _chain(xt, torch.tanh, torch.sin)
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

    if not forward_only:
        _, ref = _chain_floor_grad(xp, xf)
        others = {"xgrad": [xgrad_step()]}
        if "torch" in peers:
            others["torch"] = [peers["torch"]()]
        if "autograd" in peers:
            others["autograd"] = [peers["autograd"]()]
        _check("W1", [ref], others)
    return peers


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


def build_w2(xp, device, tdevice, sizes, batch):
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

    _, ref = mlp_floor_grad(xp, pf, xf, yf)
    _check("W2", ref, {p: peers[p]() for p in peers if p != "numpy"}, rtol=1e-3, atol=1e-5)
    return peers


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


def build_w3(xp, device, tdevice, n=4_000_000):
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

    _, ref = w3_floor_grad(xp, xf)
    _check("W3", [ref], {p: [peers[p]()] for p in peers if p != "numpy"})
    return peers


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


def build_w4(xp, device, tdevice, n=512):
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

    def xgrad_step():
        g, = xgrad.autograd.grad(xgrad.sum(xgrad.tanh(wg @ xg)), xg, create_graph=True)
        hv, = xgrad.autograd.grad(xgrad.sum(g * vg), xg)
        return hv
    peers["xgrad"] = xgrad_step

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

    ref = w4_floor_hvp(xp, wf, xf, vf)
    _check("W4", [ref], {p: [peers[p]()] for p in peers if p != "numpy"}, rtol=1e-8, atol=1e-10)
    return peers
