"""Rules for the array API ``linalg`` extension: decompositions, solves, determinants.

Every rule is written once against ``xp``. Where a rule needs another linear
algebra function (``solve``, ``eigh``, ``svd``...) it calls ``xp.linalg.<name>``:
on raw arrays that is the backend's function, on tensors (``create_graph=True``)
it is :mod:`xgrad.linalg`, so the backward pass is itself differentiable.

Notation below: ``A^H`` is the conjugate transpose, ``gX`` the gradient of the
loss with respect to ``X`` (the VJP's incoming cotangent). The formulas are the
standard ones of Giles (2008) "An extended collection of matrix derivative
results for forward and reverse mode AD", Seeger et al. (2017) "Auto-
differentiating linear algebra", Townsend (2016) "Differentiating the singular
value decomposition", Liao et al. (2019) "Differentiable programming tensor
networks" (QR), in the form PyTorch's ``FunctionsManual.cpp`` uses them.
Inverses are never formed where a solve does the job. Complex inputs follow
PyTorch's convention (``grad = conj(dL/dz)``-style: for a linear map ``A``,
``grad_x = A^H grad_y``); tests check real and complex gradients to second order.
"""

from __future__ import annotations

from ._registry import BILINEAR, LINEAR, defop, is_backend_namespace


# -- helpers usable on raw arrays and on tensors alike -----------------------------
def _is_complex(a) -> bool:
    return "complex" in str(a.dtype)


def _mT(xp, a):
    return xp.matrix_transpose(a)


def _mH(xp, a):
    """Conjugate transpose of the last two axes."""
    t = xp.matrix_transpose(a)
    return xp.conj(t) if _is_complex(a) else t


def _row(xp, v):
    """(..., n) -> (..., 1, n)."""
    return xp.expand_dims(v, axis=-2)


def _col(xp, v):
    """(..., n) -> (..., n, 1)."""
    return xp.expand_dims(v, axis=-1)


def _eye(xp, n, like, m=None, k=0):
    return xp.eye(n, m, k=k, dtype=like.dtype, device=like.device)


def _diag_embed(xp, v):
    """(..., n) -> (..., n, n) with ``v`` on the diagonal."""
    return _col(xp, v) * _eye(xp, v.shape[-1], v)


def _tril_mask(xp, n, like, k=0):
    """A constant (n, n) matrix of ones on and below diagonal ``k``."""
    return xp.tril(xp.ones((n, n), dtype=like.dtype, device=like.device), k=k)


def _div_ties(xp, num, den):
    """``num / den``, with the coefficient taken as 0 where ``den`` is exactly 0.

    Where eigenvalues (singular values) repeat exactly, the eigenvector part of the
    gradient is a 0/0 for every loss that depends on the eigenvectors only through
    whole eigenspaces (the eigenvalues alone, projectors onto eigenspaces): its
    limit there is 0, which this gives (PyTorch gives nan when such a gradient
    passes through the eigenvectors). Other losses have no derivative at the tie,
    or (matrix functions V diag(f(w)) V^H) need f'(w), which the rule cannot know:
    for those the result at an exact tie is not a derivative. The result stays
    linear in ``num`` (the incoming gradient), which forward mode relies on."""
    zero = den == 0
    return num * xp.where(zero, xp.zeros_like(den), 1.0 / xp.where(zero, xp.ones_like(den), den))


def _lin(xp, name):
    """The backend's ``linalg.<name>``, or a clear error naming backend and function."""
    fn = getattr(getattr(xp, "linalg", None), name, None)
    if fn is None:
        raise NotImplementedError(f"the array backend {getattr(xp, '__name__', xp)!r} has no "
                                  f"linalg.{name}, which xgrad.linalg.{name} needs")
    return fn


def _has(xp, name) -> bool:
    return getattr(getattr(xp, "linalg", None), name, None) is not None


def _solve(xp, a, b):
    return xp.linalg.solve(a, b)


# -- inv -----------------------------------------------------------------------------
def _inv_forward(xp, a):
    if _has(xp, "inv"):
        return xp.linalg.inv(a)
    return _lin(xp, "solve")(a, xp.broadcast_to(_eye(xp, a.shape[-1], a), a.shape))


def _inv_vjp(xp, g, out, a):
    """d(A^{-1}) = -A^{-1} dA A^{-1}  =>  gA = -A^{-H} g A^{-H}."""
    oh = _mH(xp, out)
    return -xp.matmul(oh, xp.matmul(g, oh))


def _inv_jvp(xp, t, out, a):
    """dX = -X dA X."""
    return -xp.matmul(out, xp.matmul(t[0], out))


INV = defop("linalg_inv", _inv_forward, (_inv_vjp,), jvp=_inv_jvp, saves=("out",),
            grad_name="LinalgInvExBackward0")


# -- solve ---------------------------------------------------------------------------
def _solve_vjp(xp, g, x, a, b):
    """X = A^{-1} B:  gB = A^{-H} g (a solve),  gA = -gB X^H."""
    gb = _solve(xp, _mH(xp, a), g)
    return -xp.matmul(gb, _mH(xp, x)), gb


def _solve_jvp(xp, t, x, a, b):
    """A X = B  =>  A dX = dB - dA X."""
    ta, tb = t
    rhs = -xp.matmul(ta, x) if ta is not None else None
    if tb is not None:
        rhs = tb if rhs is None else rhs + tb
    return _solve(xp, a, rhs)


SOLVE = defop("linalg_solve", lambda xp, a, b: _lin(xp, "solve")(a, b), _solve_vjp,
              jvp=_solve_jvp, saves=(0, "out"), broadcasts=True,
              grad_name="LinalgSolveExBackward0")


# -- determinants --------------------------------------------------------------------
def _det_forward(xp, a):
    if _has(xp, "det"):
        return xp.linalg.det(a)
    sign, logabs = _lin(xp, "slogdet")(a)
    return sign * xp.exp(logabs)


def _det_vjp(xp, g, d, a):
    """d det(A) = det(A) tr(A^{-1} dA)  =>  gA = conj(g det A) A^{-H} = A^{-H} solve of
    (g det A)^* I. Singular A has no inverse: the backend's solve raises (or gives
    inf/nan) there, though the true gradient (the cofactor matrix) may be finite."""
    s = _col(xp, _col(xp, g * (xp.conj(d) if _is_complex(d) else d)))
    return _solve(xp, _mH(xp, a), s * _eye(xp, a.shape[-1], a))


def _logdet_tangent(xp, t, a):
    """d log det A = tr(A^{-1} dA), by a solve."""
    return xp.sum(xp.linalg.diagonal(_solve(xp, a, t)), axis=-1)


DET = defop("linalg_det", _det_forward, (_det_vjp,), saves=(0, "out"),
            jvp=lambda xp, t, d, a: d * _logdet_tangent(xp, t[0], a),
            grad_name="LinalgDetBackward0")


def _slogdet_forward(xp, a):
    return tuple(_lin(xp, "slogdet")(a))


def _slogdet_vjp(xp, g, out, a):
    """log det A = logabsdet + i θ has derivative A^{-T}: gA = c A^{-H}, where c is the
    cotangent of log det, c = g_logabsdet + i Im(g_sign conj(sign)) (sign = e^{iθ}).
    For real A the sign is piecewise constant and c = g_logabsdet."""
    c = g[1]
    if _is_complex(a):
        c = c + xp.imag(g[0] * xp.conj(out[0])) * 1j
    c = _col(xp, _col(xp, c))
    return _solve(xp, _mH(xp, a), c * _eye(xp, a.shape[-1], a))


def _slogdet_jvp(xp, t, out, a):
    """z = tr(A^{-1} dA) = d log det: d logabsdet = Re z, d sign = i Im(z) sign."""
    z = _logdet_tangent(xp, t[0], a)
    if not _is_complex(z):
        return None, z
    return xp.imag(z) * 1j * out[0], xp.real(z)


# saves "out" too: the engine fills missing output gradients with zeros_like(out)
SLOGDET = defop("linalg_slogdet", _slogdet_forward, (_slogdet_vjp,), saves=(0, "out"), nout=2,
                jvp=_slogdet_jvp, grad_name="LinalgSlogdetBackward0")


# -- cholesky ------------------------------------------------------------------------
def _cholesky_vjp(xp, g, L, a, *, upper=False):
    """A = L L^H (Murray 2016; PyTorch's cholesky_backward):
    gA = L^{-H} Φ L^{-1},  Φ = ½ (M + tril(M, -1)^H),  M = tril(L^H gL).
    gA is Hermitian: the input is taken as symmetric (only one triangle is read)."""
    if upper:
        L, g = _mH(xp, L), _mH(xp, g)
    n = L.shape[-1]
    Lh = _mH(xp, L)
    M = xp.matmul(Lh, g) * _tril_mask(xp, n, L)
    phi = 0.5 * (M + _mH(xp, M * _tril_mask(xp, n, L, -1)))
    Y = _solve(xp, Lh, phi)                           # L^{-H} Φ
    return _mH(xp, _solve(xp, Lh, _mH(xp, Y)))       # (L^{-H} Y^H)^H = Y L^{-1}


def _cholesky_jvp(xp, t, L, a, *, upper=False):
    """dL = L Φ(L^{-1} dA L^{-H}), Φ = lower triangle with the diagonal halved (dA taken
    symmetric, ½ (dA + dA^H), consistent with the VJP)."""
    if upper:
        L = _mH(xp, L)
    n = L.shape[-1]
    dA = 0.5 * (t[0] + _mH(xp, t[0]))
    Y = _solve(xp, L, dA)                              # L^{-1} dA
    X = _mH(xp, _solve(xp, L, _mH(xp, Y)))            # L^{-1} dA L^{-H}
    phi = X * (_tril_mask(xp, n, X, -1) + 0.5 * _eye(xp, n, X))
    dL = xp.matmul(L, phi)
    return _mH(xp, dL) if upper else dL


CHOLESKY = defop("linalg_cholesky",
                 lambda xp, a, *, upper=False: _lin(xp, "cholesky")(a, upper=upper),
                 (_cholesky_vjp,), jvp=_cholesky_jvp, saves=("out",),
                 grad_name="LinalgCholeskyExBackward0")


# -- eigh, eigvalsh ------------------------------------------------------------------
def _eigh_forward(xp, a):
    return tuple(_lin(xp, "eigh")(a))


def _eigh_vjp(xp, g, out, a):
    """A = V diag(w) V^H (Giles 2008, sec. 3.1):
    gA = V (diag(gw) + F ∘ skew(V^H gV)) V^H,  F_ij = 1 / (w_j - w_i) off the diagonal,
    skew(X) = ½ (X - X^H). Repeated eigenvalues make F infinite: the eigenvectors are then
    not unique. At exact ties F is taken as 0 (:func:`_div_ties`): exact for losses
    that see only whole eigenspaces (the eigenvalues, eigenspace projectors), not a
    derivative for others. Nearly repeated eigenvalues give large, ill-conditioned
    gradients (the true derivative of the eigenvectors is large)."""
    gw, gV = g
    w, V = out
    Vh = _mH(xp, V)
    X = xp.matmul(Vh, gV)
    X = 0.5 * (X - _mH(xp, X))
    eye = _eye(xp, w.shape[-1], w)
    E = _row(xp, w) - _col(xp, w) + eye                 # E_ij = w_j - w_i, 1 on the diagonal
    inner = _div_ties(xp, X, E) * (1.0 - eye) + _diag_embed(xp, gw)
    return xp.matmul(V, xp.matmul(inner, Vh))


def _eigh_jvp(xp, t, out, a):
    """With P = V^H dA V (dA taken Hermitian, ½ (dA + dA^H), as the VJP assumes):
    dw = Re diag(P),  dV = V (F ∘ P) with F as in the VJP (0 on the diagonal: the
    gauge diag(V^H dV) = 0; 0 at exact ties)."""
    w, V = out
    dA = 0.5 * (t[0] + _mH(xp, t[0]))
    P = xp.matmul(_mH(xp, V), xp.matmul(dA, V))
    dw = xp.linalg.diagonal(P)
    eye = _eye(xp, w.shape[-1], w)
    E = _row(xp, w) - _col(xp, w) + eye
    dV = xp.matmul(V, _div_ties(xp, P, E) * (1.0 - eye))
    return (xp.real(dw) if _is_complex(dw) else dw), dV


EIGH = defop("linalg_eigh", _eigh_forward, (_eigh_vjp,), jvp=_eigh_jvp, saves=("out",), nout=2,
             grad_name="LinalgEighBackward0")


def _eigvalsh_forward(xp, a):
    if _has(xp, "eigvalsh"):
        return xp.linalg.eigvalsh(a)
    return _lin(xp, "eigh")(a)[0]


def _eigvalsh_vjp(xp, g, w, a):
    """dw_i = v_i^H dA v_i  =>  gA = V diag(gw) V^H. The eigenvectors are recomputed
    (so that with create_graph the second derivative is right). At repeated eigenvalues
    the result does not depend on the computed eigenbasis when gw is equal on the tie
    (symmetric losses such as sum f(w)), and is then the derivative; otherwise the
    eigenvalues are not differentiable there and it depends on the basis."""
    V = xp.linalg.eigh(a)[1]
    return xp.matmul(V * _row(xp, g), _mH(xp, V))


def _eigvalsh_jvp(xp, t, w, a):
    """dw_i = Re(v_i^H dA v_i)."""
    V = xp.linalg.eigh(a)[1]
    dw = xp.sum(xp.conj(V) * xp.matmul(t[0], V) if _is_complex(V) else V * xp.matmul(t[0], V),
                axis=-2)
    return xp.real(dw) if _is_complex(dw) else dw


EIGVALSH = defop("linalg_eigvalsh", _eigvalsh_forward, (_eigvalsh_vjp,), saves=(0,),
                 jvp=_eigvalsh_jvp, grad_name="LinalgEigvalshBackward0")


# -- svd, svdvals --------------------------------------------------------------------
def _svd_forward(xp, a, *, full_matrices=True):
    return tuple(_lin(xp, "svd")(a, full_matrices=full_matrices))


def _svd_vjp(xp, g, out, a, *, full_matrices=True):
    """A = U diag(S) V^H (Townsend 2016; PyTorch's svd_backward), k = min(m, n):
    J = (skew(U^H gU) S_row + S_col skew(V^H gV)) / E + diag(gS),  E_ij = S_j² - S_i²,
    skew(X) = X - X^H; gA = U J V^H, plus for m > n (I - U U^H) gU S^{-1} V^H and for
    m < n U S^{-1} gV^H (I - V V^H); for complex A also i Im(diag(U^H gU)) / S on
    the diagonal of J (the phase gauge fixed by Im diag(V^H dV) = 0). With full_matrices
    and m != n only the first k columns of U (rows of V^H) are differentiated: the
    others are not unique.
    Repeated singular values: as for eigh (exact ties: the coefficient is taken as 0,
    see :func:`_div_ties`). A zero singular value with m != n: the S^{-1} terms are
    taken as 0 the same way (exact when the loss does not use those singular vectors)."""
    gU, gS, gVh = g
    U, S, Vh = out
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    if full_matrices and m != n:
        U, gU = U[..., :, :k], gU[..., :, :k]
        Vh, gVh = Vh[..., :k, :], gVh[..., :k, :]
    Uh, V = _mH(xp, U), _mH(xp, Vh)
    UhgU = xp.matmul(Uh, gU)
    VhgV = xp.matmul(Vh, _mH(xp, gVh))
    S2 = S * S
    eye = _eye(xp, k, S)
    E = _row(xp, S2) - _col(xp, S2) + eye
    J = (UhgU - _mH(xp, UhgU)) * _row(xp, S) + _col(xp, S) * (VhgV - _mH(xp, VhgV))
    J = _div_ties(xp, J, E) * (1.0 - eye) + _diag_embed(xp, gS)
    if _is_complex(UhgU):       # the phase gauge: i Im(diag(U^H gU)) / S on the diagonal
        J = J + _diag_embed(xp, xp.imag(xp.linalg.diagonal(UhgU)) * 1j / S)
    if m > n:
        gUSinv = _div_ties(xp, gU, _row(xp, S))
        inner = xp.matmul(U, J) + gUSinv - xp.matmul(U, xp.matmul(Uh, gUSinv))
        return xp.matmul(inner, Vh)
    if m < n:
        SinvgVh = _div_ties(xp, gVh, _col(xp, S))
        inner = xp.matmul(J, Vh) + SinvgVh - xp.matmul(xp.matmul(SinvgVh, V), Vh)
        return xp.matmul(U, inner)
    return xp.matmul(U, xp.matmul(J, Vh))


def _svd_jvp(xp, t, out, a, *, full_matrices=True):
    """With dP = U^H dA V (k x k) and E as in the VJP (A = U S V^H, U^H dU and V^H dV
    skew-Hermitian): dS = Re diag(dP), U^H dU = (dP S + S dP^H) / E,
    V^H dV = (S dP + dP^H S) / E off the diagonal; on it i Im(dP_ii) / S_i for U and 0
    for V (the phase gauge of the VJP). m > n adds (I - U U^H) dA V S^{-1} to dU,
    m < n adds (I - V V^H) dA^H U S^{-1} to dV. The columns of a full U (V) beyond k
    get a zero tangent, as the VJP ignores them."""
    U, S, Vh = out
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    Uk, Vhk = (U[..., :, :k], Vh[..., :k, :]) if full_matrices and m != n else (U, Vh)
    dA = t[0]
    V = _mH(xp, Vhk)
    dP = xp.matmul(_mH(xp, Uk), xp.matmul(dA, V))
    dS = xp.linalg.diagonal(dP)
    dS = xp.real(dS) if _is_complex(dS) else dS
    eye = _eye(xp, k, S)
    E = _row(xp, S * S) - _col(xp, S * S) + eye
    S_row, S_col = _row(xp, S), _col(xp, S)
    dPh = _mH(xp, dP)
    om_u = _div_ties(xp, dP * S_row + S_col * dPh, E) * (1.0 - eye)
    om_v = _div_ties(xp, S_col * dP + dPh * S_row, E) * (1.0 - eye)
    if _is_complex(dP):
        om_u = om_u + _diag_embed(xp, xp.imag(xp.linalg.diagonal(dP)) * 1j / S)
    dU = xp.matmul(Uk, om_u)
    dV = xp.matmul(V, om_v)
    if m > n:
        dAV = _div_ties(xp, xp.matmul(dA, V), S_row)                 # dA V S^{-1}
        dU = dU + dAV - xp.matmul(Uk, xp.matmul(_mH(xp, Uk), dAV))
    elif m < n:
        dAU = _div_ties(xp, xp.matmul(_mH(xp, dA), Uk), S_row)       # dA^H U S^{-1}
        dV = dV + dAU - xp.matmul(V, xp.matmul(Vhk, dAU))
    dVh = _mH(xp, dV)
    if full_matrices and m != n:
        dU, dVh = _pad_tangent(xp, dU, m, -1), _pad_tangent(xp, dVh, n, -2)
    return dU, dS, dVh


def _pad_tangent(xp, d, size, axis):
    """``d`` padded with zeros along ``axis`` (-1 or -2) to ``size``."""
    extra = size - d.shape[axis]
    if extra == 0:
        return d
    shape = tuple(d.shape[:-2]) + ((d.shape[-2], extra) if axis == -1 else (extra, d.shape[-1]))
    return xp.concat([d, xp.zeros(shape, dtype=d.dtype, device=d.device)], axis=axis)


SVD = defop("linalg_svd", _svd_forward, (_svd_vjp,), jvp=_svd_jvp, saves=("out",), nout=3,
            grad_name="LinalgSvdBackward0")


def _svdvals_forward(xp, a):
    if _has(xp, "svdvals"):
        return xp.linalg.svdvals(a)
    return _lin(xp, "svd")(a, full_matrices=False)[1]


def _svdvals_vjp(xp, g, s, a):
    """dS_i = u_i^H dA v_i  =>  gA = U diag(gS) V^H (singular vectors recomputed, so
    create_graph gives the right second derivative). Finite for rank-deficient A. At
    repeated singular values: as for eigvalsh (the derivative when gS is equal on the
    tie, e.g. the nuclear norm; otherwise S is not differentiable there)."""
    U, _, Vh = xp.linalg.svd(a, full_matrices=False)
    return xp.matmul(U * _row(xp, g), Vh)


def _svdvals_jvp(xp, t, s, a):
    """dS_i = Re(u_i^H dA v_i)."""
    U, _, Vh = xp.linalg.svd(a, full_matrices=False)
    dS = xp.sum((xp.conj(U) if _is_complex(U) else U) * xp.matmul(t[0], _mH(xp, Vh)), axis=-2)
    return xp.real(dS) if _is_complex(dS) else dS


SVDVALS = defop("linalg_svdvals", _svdvals_forward, (_svdvals_vjp,), saves=(0,),
                jvp=_svdvals_jvp, grad_name="LinalgSvdvalsBackward0")


# -- qr ------------------------------------------------------------------------------
def _qr_forward(xp, a, *, mode="reduced"):
    return tuple(_lin(xp, "qr")(a, mode=mode))


def _qr_tall_vjp(xp, gQ, gR, Q, R):
    """A = QR with m >= n, Q (m, n), R (n, n) (Liao et al. 2019, eq. 19):
    M = R gR^H - gQ^H Q,  gA = (gQ + Q copyltu(M)) R^{-H},
    copyltu(M) = tril(M) + tril(M, -1)^H (the lower triangle copied upwards; for
    complex A the real part of its diagonal, as in PyTorch)."""
    n = R.shape[-1]
    M = xp.matmul(R, _mH(xp, gR)) - xp.matmul(_mH(xp, gQ), Q)
    low = M * _tril_mask(xp, n, M, -1)
    diag = xp.linalg.diagonal(M)
    if _is_complex(M):          # the phases of diag(R) are a gauge: keep the real part
        diag = xp.real(diag)
    C = low + _mH(xp, low) + _diag_embed(xp, diag)
    B = gQ + xp.matmul(Q, C)
    return _mH(xp, _solve(xp, R, _mH(xp, B)))        # B R^{-H} = (R^{-1} B^H)^H


def _qr_vjp(xp, g, out, a, *, mode="reduced"):
    """QR's gradient, for full-rank A. m >= n: :func:`_qr_tall_vjp`. m < n: split
    A = [X | Y], R = [U | W] with X = QU square; then gX is the square rule with
    gQ + Y gW^H in place of gQ, and gY = Q gW (Liao et al. 2019, sec. 3.3).
    ``mode='complete'`` with m > n is not differentiable (the extra columns of Q are
    not unique)."""
    gQ, gR = g
    Q, R = out
    m, n = a.shape[-2], a.shape[-1]
    if m >= n:
        if mode == "complete" and m > n:
            raise NotImplementedError("xgrad.linalg.qr: mode='complete' with more rows than "
                                      "columns is not differentiable; use mode='reduced'")
        return _qr_tall_vjp(xp, gQ, gR, Q, R)
    Y = a[..., :, m:]
    gW = gR[..., :, m:]
    gX = _qr_tall_vjp(xp, gQ + xp.matmul(Y, _mH(xp, gW)), gR[..., :, :m], Q, R[..., :, :m])
    return xp.concat([gX, xp.matmul(Q, gW)], axis=-1)


def _qr_tall_jvp(xp, dA, Q, R):
    """m >= n: with B = Q^H dA R^{-1}, Ω = Q^H dQ is skew-Hermitian and dR R^{-1} = B - Ω
    is upper triangular, so Ω = tril(B, -1) - tril(B, -1)^H (+ i Im diag(B) for complex
    A, keeping diag(R) real); then dR = (B - Ω) R and dQ = dA R^{-1} - Q (B - Ω)."""
    n = R.shape[-1]
    dAR = _mH(xp, _solve(xp, _mH(xp, R), _mH(xp, dA)))         # dA R^{-1}
    B = xp.matmul(_mH(xp, Q), dAR)
    low = B * _tril_mask(xp, n, B, -1)
    omega = low - _mH(xp, low)
    if _is_complex(B):
        omega = omega + _diag_embed(xp, xp.imag(xp.linalg.diagonal(B)) * 1j)
    upper = B - omega
    return dAR - xp.matmul(Q, upper), xp.matmul(upper, R)


def _qr_jvp(xp, t, out, a, *, mode="reduced"):
    """Forward mode of QR (full-rank A). m < n: A = [X | Y] with X = Q U square; the
    tall rule gives dQ, dU from dX, and W = Q^H Y gives dW = Q^H (dY - dQ W)."""
    Q, R = out
    m, n = a.shape[-2], a.shape[-1]
    if m >= n:
        if mode == "complete" and m > n:
            raise NotImplementedError("xgrad.linalg.qr: mode='complete' with more rows than "
                                      "columns is not differentiable; use mode='reduced'")
        return _qr_tall_jvp(xp, t[0], Q, R)
    dQ, dU = _qr_tall_jvp(xp, t[0][..., :, :m], Q, R[..., :, :m])
    W = R[..., :, m:]
    dW = xp.matmul(_mH(xp, Q), t[0][..., :, m:] - xp.matmul(dQ, W))
    return dQ, xp.concat([dU, dW], axis=-1)


QR = defop("linalg_qr", _qr_forward, (_qr_vjp,), jvp=_qr_jvp, saves=(0, "out"), nout=2,
           grad_name="LinalgQrBackward0")


# -- pinv ----------------------------------------------------------------------------
def _real_dtype_eps(xp, a):
    """Machine epsilon of ``a``'s real dtype."""
    return float(xp.finfo(a.dtype).eps)


def _tolerance(xp, a, smax, atol, rtol):
    """PyTorch's threshold ``max(atol, rtol * smax)`` (``get_atol_rtol`` in its
    ``LinearAlgebra.cpp``), shape ``(..., 1)`` against ``smax (..., 1)``: ``atol``
    defaults to 0; ``rtol`` to ``eps * max(m, n)``, or to 0 where ``atol > 0`` when
    ``atol`` is given alone. ``atol``/``rtol`` are numbers or arrays broadcasting
    against the batch dimensions."""
    default = _real_dtype_eps(xp, smax) * max(a.shape[-2], a.shape[-1])

    def arr(v):
        v = xp.asarray(v, dtype=smax.dtype, device=smax.device) if isinstance(v, (int, float)) \
            else xp.astype(v, smax.dtype)
        return xp.expand_dims(v, axis=-1)
    if rtol is None:
        if atol is None:
            rtol = default
        elif isinstance(atol, (int, float)):
            rtol = 0.0 if atol > 0 else default
        else:
            rtol = xp.where(atol > 0, xp.zeros_like(xp.astype(atol, smax.dtype)),
                            xp.full_like(xp.astype(atol, smax.dtype), default))
    return xp.maximum(arr(0.0 if atol is None else atol), arr(rtol) * smax)


def _spectrum(xp, a, hermitian):
    """``(S, smax)``: singular values (``|eigenvalues|`` with ``hermitian``, the lower
    triangle read) and their largest, ``(..., 1)``."""
    if hermitian:
        w = _lin(xp, "eigvalsh")(a) if _has(xp, "eigvalsh") else _lin(xp, "eigh")(a)[0]
        S = xp.abs(w)
    else:
        S = _lin(xp, "svdvals")(a) if _has(xp, "svdvals") else \
            _lin(xp, "svd")(a, full_matrices=False)[1]
    return S, _largest(xp, S)


def _largest(xp, S):
    """``max(S)`` over the last axis, kept as ``(..., 1)`` (0 where ``S`` is empty)."""
    if S.shape[-1] == 0:
        return xp.zeros(tuple(S.shape[:-1]) + (1,), dtype=S.dtype, device=S.device)
    return xp.max(S, axis=-1, keepdims=True)


def _pinv_forward(xp, a, *, rtol=None, atol=None, hermitian=False):
    """The backend's ``pinv`` for the standard's ``rtol`` alone; with ``atol`` or
    ``hermitian`` (PyTorch's keywords) composed as PyTorch's ``linalg_pinv``: from the
    SVD, or from ``eigh`` (lower triangle) with ``hermitian``, keeping the values above
    :func:`_tolerance`."""
    if atol is None and not hermitian:
        return _lin(xp, "pinv")(a, rtol=rtol)
    if hermitian:
        w, V = _lin(xp, "eigh")(a)
        S = xp.abs(w)
        keep = S > _tolerance(xp, a, _largest(xp, S), atol, rtol)
        inv = xp.where(keep, 1.0 / xp.where(keep, w, xp.ones_like(w)), xp.zeros_like(w))
        return xp.matmul(V * _row(xp, xp.astype(inv, V.dtype)), _mH(xp, V))
    U, S, Vh = _lin(xp, "svd")(a, full_matrices=False)
    keep = S > _tolerance(xp, a, _largest(xp, S), atol, rtol)
    inv = xp.where(keep, 1.0 / xp.where(keep, S, xp.ones_like(S)), xp.zeros_like(S))
    return xp.matmul(_mH(xp, Vh) * _row(xp, xp.astype(inv, U.dtype)), _mH(xp, U))


def _pinv_vjp(xp, g, P, a, **_):
    """Golub & Pereyra (1973); PyTorch's pinv_backward. Valid where the rank of A is
    locally constant (e.g. full rank); at a rank change pinv is discontinuous."""
    m, n = a.shape[-2], a.shape[-1]
    Ph, gh = _mH(xp, P), _mH(xp, g)
    mm = xp.matmul
    if m <= n:
        K = mm(gh, P)
        KPh = mm(K, Ph)
        return -_mH(xp, mm(P, K)) + KPh - mm(mm(a, P), KPh) + mm(mm(Ph, P), gh - mm(K, a))
    K = mm(P, gh)
    PhK = mm(Ph, K)
    return -_mH(xp, mm(K, P)) + mm(mm(gh - mm(a, K), P), Ph) + PhK - mm(mm(PhK, P), a)


def _pinv_jvp(xp, t, P, a, **_):
    """Golub & Pereyra (1973): dA+ = -A+ dA A+ + A+ A+^H dA^H (I - A A+)
    + (I - A+ A) dA^H A+^H A+ (constant rank)."""
    mm = xp.matmul
    dA, Ph = t[0], _mH(xp, P)
    dAh = _mH(xp, dA)
    first = -mm(P, mm(dA, P))
    second = mm(mm(P, Ph), dAh - mm(mm(dAh, a), P))
    third = mm(dAh, mm(Ph, P)) - mm(mm(P, a), mm(dAh, mm(Ph, P)))
    return first + second + third


PINV = defop("linalg_pinv", _pinv_forward, (_pinv_vjp,), jvp=_pinv_jvp, saves=(0, "out"),
             grad_name="LinalgPinvBackward0")


# -- cross, diagonal, matrix_rank -------------------------------------------------------
def _cross_vjp(xp, g, out, a, b, *, axis=-1):
    """d(a × b) = da × b + a × db  =>  ga = conj(b) × g,  gb = g × conj(a)."""
    if _is_complex(a) or _is_complex(b):
        a, b = xp.conj(a), xp.conj(b)
    return xp.linalg.cross(b, g, axis=axis), xp.linalg.cross(g, a, axis=axis)


CROSS = defop("linalg_cross", lambda xp, a, b, *, axis=-1: _lin(xp, "cross")(a, b, axis=axis),
              _cross_vjp, broadcasts=True, jvp=BILINEAR, grad_name="LinalgCrossBackward0")


def _diagonal_vjp(xp, g, out, x, *, offset=0):
    """Scatter g back onto diagonal ``offset``: with g laid along the rows (offset >= 0)
    or columns (offset < 0) by a matmul with a rectangular identity, times the mask
    ``eye(m, n, k=offset)``."""
    m, n = x.shape[-2], x.shape[-1]
    size = g.shape[-1]
    if offset >= 0:
        along_rows = xp.matmul(g, _eye(xp, size, g, m))
        return _col(xp, along_rows) * _eye(xp, m, g, n, offset)
    along_cols = xp.matmul(g, _eye(xp, size, g, n))
    return _row(xp, along_cols) * _eye(xp, m, g, n, offset)


DIAGONAL = defop("linalg_diagonal",
                 lambda xp, x, *, offset=0: _lin(xp, "diagonal")(x, offset=offset),
                 (_diagonal_vjp,), saves=(), jvp=LINEAR, grad_name="DiagonalBackward0")

def _matrix_rank_forward(xp, x, *, rtol=None, atol=None, hermitian=False):
    """The backend's ``matrix_rank`` for the standard's ``rtol`` alone; with ``atol`` or
    ``hermitian``, PyTorch's: the number of singular values (``|eigenvalues|``) above
    :func:`_tolerance`."""
    if atol is None and not hermitian and _has(xp, "matrix_rank") and 0 not in x.shape[-2:]:
        return _lin(xp, "matrix_rank")(x, rtol=rtol)
    S, smax = _spectrum(xp, x, hermitian)
    return xp.sum(xp.astype(S > _tolerance(xp, x, smax, atol, rtol), xp.int64), axis=-1)


MATRIX_RANK = defop("linalg_matrix_rank", _matrix_rank_forward)


# -- eig (general, non-symmetric): the backend's, through its hook ---------------------
def _eig_forward(xp, a):
    """The backend's general eigendecomposition (``Backend.linalg_eig``: the standard has
    none), complex eigenvalues and unit-norm eigenvectors; a clear error on devices
    whose library has none."""
    backend = getattr(xp, "__xgrad_backend__", None)
    if backend is None:  # (forward rules run on raw arrays; kept for a clear message)
        raise NotImplementedError("linalg.eig runs on backend arrays only")
    return tuple(backend.linalg_eig(a))


def _eig_vjp(xp, g, out, a):
    """A V = V diag(L), columns of V of unit norm, their phases a gauge (PyTorch's
    ``linalg_eig_backward``). With P = V^{-1} dA V: dL = diag(P), dV = V (P / E - diag(c))
    where E_ij = L_j - L_i (off the diagonal) and c_i = Re((V^H V (P / E))_ii) keeps
    |v_i| = 1 (the gauge Im c_i = 0). Its adjoint:
    gA = V^{-H} (diag(gL) + (V^H gV - V^H V diag(Re diag(V^H gV))) / conj(E)) V^H,
    real part for a real A. Only losses invariant under v_i -> e^{i phi} v_i are
    well defined: as PyTorch, backward raises where Im diag(V^H gV) is not ~0 (checked
    on raw arrays; repeated eigenvalues give an infinite gradient, as in PyTorch)."""
    gL, gV = g
    L, V = out
    Vh = _mH(xp, V)
    n = L.shape[-1]
    eye = _eye(xp, n, L)
    inner = _diag_embed(xp, gL)
    if gV is not None:
        VhgV = xp.matmul(Vh, gV)
        dg = xp.linalg.diagonal(VhgV)
        if is_backend_namespace(xp) and dg.size:
            _check_eig_gauge(xp, dg)
        Lc = xp.conj(L)
        Econj = _row(xp, Lc) - _col(xp, Lc) + eye       # conj(L_j) - conj(L_i), 1 on the diagonal
        proj = VhgV - xp.matmul(Vh, V * _row(xp, xp.astype(xp.real(dg), V.dtype)))
        inner = inner + (proj / Econj) * (1.0 - eye)
    gA = _solve(xp, Vh, xp.matmul(inner, Vh))
    return gA if _is_complex(a) else xp.real(gA)


def _check_eig_gauge(xp, diag_VhgV):
    """PyTorch's check: the loss must not depend on the phases of the eigenvectors."""
    im = xp.abs(xp.imag(diag_VhgV))
    if bool(xp.any(im > 1e-2)):
        raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are "
                           "specified up to multiplication by e^{i phi}. The specified loss "
                           "function depends on this quantity, so it is ill-defined.")


def _eig_jvp(xp, t, out, a):
    """With P = V^{-1} dA V: dL = diag(P), dV = V X - V diag(Re diag(V^H V X)),
    X = P / E off the diagonal, 0 on it (E_ij = L_j - L_i): PyTorch's ``linalg_eig_jvp``."""
    L, V = out
    dA = t[0]
    if not _is_complex(dA):
        dA = xp.astype(dA, V.dtype)
    P = _solve(xp, V, xp.matmul(dA, V))
    n = L.shape[-1]
    eye = _eye(xp, n, L)
    E = _row(xp, L) - _col(xp, L) + eye
    X = (P / E) * (1.0 - eye)
    VX = xp.matmul(V, X)
    c = xp.real(xp.linalg.diagonal(xp.matmul(_mH(xp, V), VX)))
    return xp.linalg.diagonal(P), VX - V * _row(xp, xp.astype(c, V.dtype))


EIG = defop("linalg_eig", _eig_forward, (_eig_vjp,), jvp=_eig_jvp, saves=("out",), nout=2,
            grad_name="LinalgEigBackward0")


# -- ldl_factor, ldl_solve: LAPACK's sytrf/hetrf and sytrs/hetrs, step by step ----------
# Bunch-Kaufman pivoting decides from values (1x1 or 2x2 blocks, which rows to swap), so
# these forwards read a few scalars per column (one sync each on an asynchronous device)
# and loop over the batch. They follow LAPACK's unblocked routines (dsytf2/zhetf2 and
# dsytrs/zhetrs, lower triangle) statement by statement, so LD and the pivots are
# LAPACK's (PyTorch's). Not differentiable (PyTorch's are not either). Standard functions
# only, with writes into a copy (``__setitem__`` on basic indices).
_BK_ALPHA = (1.0 + 17.0 ** 0.5) / 8.0


def _cabs1(xp, v):
    """LAPACK's |re| + |im| (IZAMAX's measure; |v| for real values)."""
    if _is_complex(v):
        return xp.abs(xp.real(v)) + xp.abs(xp.imag(v))
    return xp.abs(v)


def _scalar(x):
    return complex(x) if _is_complex(x) else float(x)


def _copy(xp, x):
    return xp.asarray(x, copy=True)


def _sytf2_lower(xp, A, hermitian):
    """One matrix: ``(LD, ipiv (1-based, negative for 2x2 blocks), info)``."""
    n = A.shape[-1]
    A = _copy(xp, A)
    cplx = _is_complex(A)
    herm = hermitian and cplx
    conj = xp.conj if herm else (lambda v: v)

    def realdiag(i):
        if herm:
            A[i, i] = xp.real(A[i, i])

    ipiv, info, k = [0] * n, 0, 0
    while k < n:
        kstep = 1
        akk = _scalar(A[k, k])
        absakk = abs(akk.real) if herm else (abs(akk.real) + abs(akk.imag) if cplx else abs(akk))
        if k < n - 1:
            col = _cabs1(xp, A[k + 1:, k])
            imax = k + 1 + int(xp.argmax(col))
            colmax = float(col[imax - k - 1])
        else:
            colmax = 0.0
        if max(absakk, colmax) == 0.0 or absakk != absakk:      # a zero column (or NaN)
            info = info or k + 1
            kp = k
            realdiag(k)
        else:
            if absakk >= _BK_ALPHA * colmax:
                kp = k
            else:
                row = _cabs1(xp, A[imax, k:imax])
                rowmax = float(xp.max(row))
                if imax < n - 1:
                    rowmax = max(rowmax, float(xp.max(_cabs1(xp, A[imax + 1:, imax]))))
                aii = _scalar(A[imax, imax])
                absaii = abs(aii.real) if herm else (abs(aii.real) + abs(aii.imag) if cplx
                                                     else abs(aii))
                if absakk >= _BK_ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif absaii >= _BK_ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:        # interchange rows and columns kk and kp of the trailing part
                if kp < n - 1:
                    t = _copy(xp, A[kp + 1:, kk])
                    A[kp + 1:, kk] = A[kp + 1:, kp]
                    A[kp + 1:, kp] = t
                if kp - kk - 1 > 0:
                    t = _copy(xp, A[kk + 1:kp, kk])
                    A[kk + 1:kp, kk] = conj(A[kp, kk + 1:kp])
                    A[kp, kk + 1:kp] = conj(t)
                if herm:
                    A[kp, kk] = xp.conj(A[kp, kk])
                t = _copy(xp, A[kk, kk])
                A[kk, kk] = A[kp, kp]
                A[kp, kp] = t
                realdiag(kk)
                realdiag(kp)
                if kstep == 2:
                    realdiag(k)
                    t = _copy(xp, A[k + 1, k])
                    A[k + 1, k] = A[kp, k]
                    A[kp, k] = t
            else:
                realdiag(k)
                if kstep == 2:
                    realdiag(k + 1)
            if kstep == 1 and k < n - 1:            # rank-1 update, then L(k) = W(k) / D(k)
                w = _copy(xp, A[k + 1:, k])
                if herm:
                    r1 = 1.0 / xp.real(A[k, k])
                    A[k + 1:, k + 1:] = A[k + 1:, k + 1:] - _col(xp, w) * _row(xp, r1 * xp.conj(w))
                    for j in range(k + 1, n):
                        realdiag(j)
                    A[k + 1:, k] = w * r1
                else:
                    d11 = 1.0 / A[k, k]
                    A[k + 1:, k + 1:] = A[k + 1:, k + 1:] - _col(xp, w) * _row(xp, d11 * w)
                    A[k + 1:, k] = w * d11
            elif kstep == 2 and k < n - 2:          # rank-2 update with the inverse 2x2 block
                ck, ck1 = _copy(xp, A[k + 2:, k]), _copy(xp, A[k + 2:, k + 1])
                if herm:
                    d = abs(_scalar(A[k + 1, k]))
                    d11 = _scalar(xp.real(A[k + 1, k + 1])) / d
                    d22 = _scalar(xp.real(A[k, k])) / d
                    tt = 1.0 / (d11 * d22 - 1.0)
                    d21 = _scalar(A[k + 1, k]) / d
                    d = tt / d
                    wk = d * (d11 * ck - d21 * ck1)
                    wkp1 = d * (d22 * ck1 - d21.conjugate() * ck)
                    A[k + 2:, k + 2:] = (A[k + 2:, k + 2:] - _col(xp, ck) * _row(xp, xp.conj(wk))
                                         - _col(xp, ck1) * _row(xp, xp.conj(wkp1)))
                    for j in range(k + 2, n):
                        realdiag(j)
                else:
                    d21 = _scalar(A[k + 1, k])
                    d11 = _scalar(A[k + 1, k + 1]) / d21
                    d22 = _scalar(A[k, k]) / d21
                    t = 1.0 / (d11 * d22 - 1.0)
                    d21 = t / d21
                    wk = d21 * (d11 * ck - ck1)
                    wkp1 = d21 * (d22 * ck1 - ck)
                    A[k + 2:, k + 2:] = (A[k + 2:, k + 2:] - _col(xp, ck) * _row(xp, wk)
                                         - _col(xp, ck1) * _row(xp, wkp1))
                A[k + 2:, k] = wk
                A[k + 2:, k + 1] = wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return xp.tril(A), ipiv, info


def _writable_backend(xp, a, name):
    """These step-by-step routines write into copies and read scalars: a clear error on
    backends whose arrays are never written in place (Dask's lazy arrays)."""
    backend = getattr(xp, "__xgrad_backend__", None)
    if backend is not None and not backend.writable(_copy(xp, a)):
        raise NotImplementedError(
            f"linalg.{name} is not available on the {backend.name!r} device: its arrays are "
            "never written in place, and LAPACK's step-by-step algorithm writes into a copy "
            "and reads a pivot per column; move the tensor to the cpu device first")


def _batched(xp, a):
    """``a`` as a list of its matrices (and the batch shape)."""
    batch = tuple(a.shape[:-2])
    count = 1
    for s in batch:
        count *= s
    flat = xp.reshape(a, (count,) + tuple(a.shape[-2:]))
    return [flat[i, ...] for i in range(count)], batch


def _ldl_factor_forward(xp, a, *, hermitian=False):
    _writable_backend(xp, a, "ldl_factor")
    mats, batch = _batched(xp, a)
    n = a.shape[-1]
    results = [_sytf2_lower(xp, m, hermitian) for m in mats]
    dev = a.device
    if results:
        LD = xp.stack([r[0] for r in results], axis=0)
    else:
        LD = xp.zeros((0, n, n), dtype=a.dtype, device=dev)
    piv = xp.asarray([r[1] for r in results], dtype=xp.int32, device=dev)
    info = xp.asarray([r[2] for r in results], dtype=xp.int32, device=dev)
    return (xp.reshape(LD, batch + (n, n)), xp.reshape(piv, batch + (n,)),
            xp.reshape(info, batch))


LDL_FACTOR = defop("linalg_ldl_factor", _ldl_factor_forward, nout=3)


def _sytrs_lower(xp, A, ipiv, B, hermitian):
    """One system: LAPACK's dsytrs/zhetrs (lower) on ``B (n, k)``."""
    n = A.shape[-1]
    B = _copy(xp, B)
    herm = hermitian and _is_complex(A)
    conj = xp.conj if herm else (lambda v: v)

    def swap(i, j):
        if i != j:
            t = _copy(xp, B[i, :])
            B[i, :] = B[j, :]
            B[j, :] = t

    k = 0
    while k < n:                                   # L D X = B
        if ipiv[k] > 0:
            swap(k, ipiv[k] - 1)
            if k < n - 1:
                B[k + 1:, :] = B[k + 1:, :] - _col(xp, A[k + 1:, k]) * _row(xp, B[k, :])
            akk = xp.real(A[k, k]) if herm else A[k, k]
            B[k, :] = B[k, :] * (1.0 / akk)
            k += 1
        else:
            swap(k + 1, -ipiv[k] - 1)
            if k < n - 2:
                B[k + 2:, :] = B[k + 2:, :] - _col(xp, A[k + 2:, k]) * _row(xp, B[k, :])
                B[k + 2:, :] = B[k + 2:, :] - _col(xp, A[k + 2:, k + 1]) * _row(xp, B[k + 1, :])
            akm1k = _scalar(A[k + 1, k])
            c = akm1k.conjugate() if herm else akm1k
            akm1 = _scalar(A[k, k]) / c
            ak = _scalar(A[k + 1, k + 1]) / akm1k
            denom = akm1 * ak - 1.0
            bkm1 = B[k, :] / c
            bk = B[k + 1, :] / akm1k
            B[k, :] = (ak * bkm1 - bk) / denom
            B[k + 1, :] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:                                  # L^T X = B (L^H: hermitian)
        if ipiv[k] > 0:
            if k < n - 1:
                B[k, :] = B[k, :] - xp.sum(_col(xp, conj(A[k + 1:, k])) * B[k + 1:, :], axis=0)
            swap(k, ipiv[k] - 1)
            k -= 1
        else:
            if k < n - 1:
                B[k, :] = B[k, :] - xp.sum(_col(xp, conj(A[k + 1:, k])) * B[k + 1:, :], axis=0)
                B[k - 1, :] = B[k - 1, :] - xp.sum(_col(xp, conj(A[k + 1:, k - 1])) * B[k + 1:, :],
                                                   axis=0)
            swap(k, -ipiv[k] - 1)
            k -= 2
    return B


def _ldl_solve_forward(xp, LD, pivots, B, *, hermitian=False):
    """``LD (..., n, n)``, ``pivots (..., n)`` and ``B (..., n, k)`` with batch shapes
    broadcast to one."""
    _writable_backend(xp, B, "ldl_solve")
    lds, batch = _batched(xp, LD)
    ps = xp.reshape(pivots, (len(lds), pivots.shape[-1]))
    bs, _ = _batched(xp, B)
    out = [_sytrs_lower(xp, a, [int(v) for v in ps[i, ...]], b, hermitian)
           for i, (a, b) in enumerate(zip(lds, bs))]
    n, k = B.shape[-2], B.shape[-1]
    if not out:
        return xp.zeros(batch + (n, k), dtype=B.dtype, device=B.device)
    return xp.reshape(xp.stack(out, axis=0), batch + (n, k))


LDL_SOLVE = defop("linalg_ldl_solve", _ldl_solve_forward)
