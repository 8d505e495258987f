"""Functions from neural networks that the standard does not have, built from it.

Each is one op whose forward and VJP are written against ``xp``, so the same
rule runs on raw backend arrays (first-order backward) and on xgrad tensors
(``create_graph=True``). Reductions over classes are numerically stable: the
maximum is subtracted before ``exp``.
"""

from __future__ import annotations

import math

from .._tensor import apply
from ._define import unary_function
from ._registry import ELEMENTWISE, LINEAR, REDUCTION, call, defop
from .reductions import expand_reduced, normalize_axes
from .special import ERF, _erf_forward

__all__ = ["relu", "sigmoid", "softplus", "gelu", "logsumexp", "softmax", "log_softmax",
           "pad_constant", "unfold", "fold", "max_pool", "cross_entropy_indices",
           "PAD", "LOGSUMEXP", "SOFTMAX", "LOG_SOFTMAX", "SOFTPLUS", "GELU", "UNFOLD", "FOLD",
           "MAX_POOL", "CROSS_ENTROPY"]

relu = unary_function("relu", lambda xp, g, y, x: xp.where(y > 0, g, 0.0), saves=("out",),
                      # (0 first: max(0, -0.0) is -0.0 on NumPy/CuPy, as PyTorch's relu)
                      forward=lambda xp, x: xp.maximum(0, x), doc="max(x, 0); relu'(0) = 0.")


def _sigmoid(xp, x):
    # exp(-|x|) never overflows, and e / (1 + e) keeps relative accuracy for x << 0
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = unary_function("sigmoid", lambda xp, g, y, x: g * y * (1 - y), saves=("out",),
                         forward=_sigmoid, doc="The logistic function 1 / (1 + exp(-x)).")


# -- softplus ----------------------------------------------------------------------------
def _softplus_forward(xp, x, *, beta=1.0, threshold=20.0):
    bx = beta * x
    smooth = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)) / beta
    return xp.where(bx > threshold, x, smooth)


def _softplus_vjp(xp, g, out, x, *, beta=1.0, threshold=20.0):
    return xp.where(beta * x > threshold, g, g * _sigmoid(xp, beta * x))


SOFTPLUS = defop("softplus", _softplus_forward, (_softplus_vjp,), saves=(0,), jvp=ELEMENTWISE)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (never overflows)."""
    return apply(SOFTPLUS, (x,), {"beta": float(beta), "threshold": float(threshold)})


# -- gelu --------------------------------------------------------------------------------
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _gelu_forward(xp, x, *, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + xp.tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + _erf_forward(xp, x * (1 / math.sqrt(2.0))))


def _gelu_vjp(xp, g, out, x, *, approximate="none"):
    if approximate == "tanh":
        inner = _SQRT_2_PI * (x + 0.044715 * x * x * x)
        th = xp.tanh(inner)
        d_inner = _SQRT_2_PI * (1.0 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * d_inner)
    cdf = 0.5 * (1.0 + call(xp, ERF, x * (1 / math.sqrt(2.0))))  # exact erf, any order
    pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + x * pdf)


GELU = defop("gelu", _gelu_forward, (_gelu_vjp,), saves=(0,), jvp=ELEMENTWISE)


def gelu(x, approximate="none"):
    """x Φ(x); ``approximate="tanh"`` uses PyTorch's tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
    return apply(GELU, (x,), {"approximate": approximate})


# -- logsumexp, softmax, log_softmax ---------------------------------------------------------
def _stable_max(xp, x, axis):
    """max over ``axis`` (kept), with infinite maxima replaced by 0 so x - m stays finite;
    0 where ``x`` is empty (no maximum: softmax of nothing is empty, logsumexp -inf; and
    Dask's max refuses any empty array, even over a non-empty axis)."""
    axes = normalize_axes(axis, x.ndim)
    if x.ndim and any(s == 0 for s in x.shape):
        shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
        return xp.zeros(shape, dtype=x.dtype, device=x.device)
    m = xp.max(x, axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def _logsumexp_keep(xp, x, axis):
    m = _stable_max(xp, x, axis)
    return xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m


def _logsumexp_forward(xp, x, *, axis, keepdims=False):
    out = _logsumexp_keep(xp, x, axis)
    return out if keepdims else xp.squeeze(out, axis=axis)


def _logsumexp_vjp(xp, g, out, x, *, axis, keepdims=False):
    shape = tuple(x.shape)
    return expand_reduced(xp, g, shape, axis, keepdims) * xp.exp(
        x - expand_reduced(xp, out, shape, axis, keepdims))


LOGSUMEXP = defop("logsumexp", _logsumexp_forward, (_logsumexp_vjp,), saves=(0, "out"),
                  jvp=REDUCTION)


def _softmax_forward(xp, x, *, axis):
    e = xp.exp(x - _stable_max(xp, x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(xp, g, y, x, *, axis):
    gy = g * y
    return gy - y * xp.sum(gy, axis=axis, keepdims=True)


def _softmax_jvp(xp, tangents, y, x, *, axis):
    return _softmax_vjp(xp, tangents[0], y, x, axis=axis)  # the Jacobian is symmetric


SOFTMAX = defop("softmax", _softmax_forward, (_softmax_vjp,), saves=("out",), jvp=_softmax_jvp)


def _log_softmax_forward(xp, x, *, axis):
    shifted = x - _stable_max(xp, x, axis)  # subtract first: exact where x is near its max
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(xp, g, y, x, *, axis):
    return g - xp.exp(y) * xp.sum(g, axis=axis, keepdims=True)


def _log_softmax_jvp(xp, tangents, y, x, *, axis):
    t = tangents[0]
    return t - xp.sum(xp.exp(y) * t, axis=axis, keepdims=True)


LOG_SOFTMAX = defop("log_softmax", _log_softmax_forward, (_log_softmax_vjp,), saves=("out",),
                    jvp=_log_softmax_jvp)


def _axes(x, axis):
    axes = normalize_axes(axis, x.ndim)
    return axes[0] if len(axes) == 1 else axes


def logsumexp(x, /, *, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, computed without overflow."""
    return apply(LOGSUMEXP, (x,), {"axis": _axes(x, axis), "keepdims": bool(keepdims)})


def softmax(x, /, *, axis=-1):
    """exp(x) / sum(exp(x)) over ``axis``, computed without overflow."""
    return apply(SOFTMAX, (x,), {"axis": _axes(x, axis)})


def log_softmax(x, /, *, axis=-1):
    """x - logsumexp(x) over ``axis``: the log of :func:`softmax`, stably."""
    return apply(LOG_SOFTMAX, (x,), {"axis": _axes(x, axis)})


# -- constant padding --------------------------------------------------------------------------
def _pad_forward(xp, x, *, widths, value=0.0):
    shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, widths))
    out = xp.full(shape, value, dtype=x.dtype, device=x.device)
    out[_inner(x.shape, widths)] = x
    return out


def _inner(shape, widths):
    return tuple(slice(lo, lo + s) for s, (lo, _) in zip(shape, widths))


def _pad_vjp(xp, g, out, x, *, widths, value=0.0):
    return g[_inner(x.shape, widths)]


def _pad_jvp(xp, tangents, out, x, *, widths, value=0.0):
    return call(xp, PAD, tangents[0], widths=widths, value=0.0)  # affine: pad with zeros


PAD = defop("constant_pad", _pad_forward, (_pad_vjp,), saves=(), jvp=_pad_jvp,
            grad_name="ConstantPadNdBackward0")


def pad_constant(x, widths, value=0.0):
    """``x`` with ``widths[d] = (before, after)`` elements of ``value`` added on axis d."""
    return apply(PAD, (x,), {"widths": tuple((int(a), int(b)) for a, b in widths),
                             "value": value})


# -- sliding windows (im2col) and their transpose (col2im) ---------------------------------------
def _window_slices(size, kernel, stride, dilation):
    """One (rows, cols) slice pair per kernel offset, and the output size (Ho, Wo)."""
    (h, w), (kh, kw), (sh, sw), (dh, dw) = size, kernel, stride, dilation
    ho = (h - dh * (kh - 1) - 1) // sh + 1
    wo = (w - dw * (kw - 1) - 1) // sw + 1
    if ho <= 0 or wo <= 0:
        raise RuntimeError(f"kernel {kernel} (dilation {dilation}) is larger than the padded "
                           f"input {size}")
    slices = [(slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
              for i in range(kh) for j in range(kw)]
    return slices, (ho, wo)


def _unfold_forward(xp, x, *, kernel, stride, dilation):
    slices, _ = _window_slices(tuple(x.shape[-2:]), kernel, stride, dilation)
    return xp.stack([x[..., rows, cols] for rows, cols in slices], axis=-3)


def _fold_forward(xp, cols, *, size, kernel, stride, dilation):
    slices, _ = _window_slices(size, kernel, stride, dilation)
    out = xp.zeros(tuple(cols.shape[:-3]) + tuple(size), dtype=cols.dtype, device=cols.device)
    for k, (rows, cs) in enumerate(slices):
        out[..., rows, cs] = out[..., rows, cs] + cols[..., k, :, :]
    return out


def _unfold_vjp(xp, g, out, x, *, kernel, stride, dilation):
    params = {"size": tuple(x.shape[-2:]), "kernel": kernel, "stride": stride,
              "dilation": dilation}
    return call(xp, FOLD, g, **params)


def _fold_vjp(xp, g, out, cols, *, size, kernel, stride, dilation):
    return call(xp, UNFOLD, g, kernel=kernel, stride=stride, dilation=dilation)


UNFOLD = defop("unfold", _unfold_forward, (_unfold_vjp,), saves=(), jvp=LINEAR,
               grad_name="Im2ColBackward0")
FOLD = defop("fold", _fold_forward, (_fold_vjp,), saves=(), jvp=LINEAR,
             grad_name="Col2ImBackward0")


def unfold(x, kernel, stride=(1, 1), dilation=(1, 1)):
    """Sliding ``kernel`` windows over the last two axes: (..., H, W) -> (..., kh*kw, Ho, Wo)."""
    return apply(UNFOLD, (x,), {"kernel": tuple(kernel), "stride": tuple(stride),
                                "dilation": tuple(dilation)})


def fold(cols, size, kernel, stride=(1, 1), dilation=(1, 1)):
    """The transpose of :func:`unfold`: overlapping windows summed back into (..., H, W)."""
    return apply(FOLD, (cols,), {"size": tuple(size), "kernel": tuple(kernel),
                                 "stride": tuple(stride), "dilation": tuple(dilation)})


# -- cross-entropy of (N, C) logits against class indices ------------------------------------------
# As PyTorch: log_softmax (which saves its output) then nll_loss (whose gradient needs no
# values), so the backward reads what PyTorch's reads: the logits may be overwritten after
# the forward (through a detach() alias, say) without changing the gradient.
def _ce_parts(xp, x, target, ignore_index):
    """(valid mask as x's dtype, target with ignored entries replaced by class 0)."""
    valid = target != ignore_index
    return xp.astype(valid, x.dtype), xp.where(valid, target, xp.zeros_like(target))


def _nll_forward(xp, logp, target, *, reduction="mean", ignore_index=-100):
    w, safe = _ce_parts(xp, logp, target, ignore_index)
    picked = xp.take_along_axis(logp, xp.expand_dims(safe, axis=1), axis=1)
    loss = -xp.squeeze(picked, axis=1) * w
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    return total / xp.sum(w) if reduction == "mean" else total


def _nll_weights(xp, g, logp, target, reduction, ignore_index):
    """d loss / d logp: -onehot(target) times each row's weight (g, over the count for
    'mean'; ignored rows 0)."""
    w, safe = _ce_parts(xp, logp, target, ignore_index)
    classes = xp.arange(logp.shape[1], device=logp.device)
    onehot = xp.astype(xp.expand_dims(safe, axis=1) == classes, logp.dtype)
    w = w * (g / xp.sum(w)) if reduction == "mean" else w * g  # g: 0-d, or (N,) for 'none'
    return -onehot * xp.expand_dims(w, axis=1)


def _nll_vjp(xp, g, out, logp, target, *, reduction="mean", ignore_index=-100):
    return _nll_weights(xp, g, logp, target, reduction, ignore_index)


def _nll_jvp(xp, tangents, out, logp, target, *, reduction="mean", ignore_index=-100):
    weights = _nll_weights(xp, xp.ones_like(out), logp, target, reduction, ignore_index)
    per_row = xp.sum(weights * tangents[0], axis=1)
    return per_row if reduction == "none" else xp.sum(per_row)


NLL = defop("nll_loss", _nll_forward, (_nll_vjp, None), saves=(0, 1), jvp=_nll_jvp,
            grad_name="NllLossBackward0")
CROSS_ENTROPY = NLL  # (the name this module exported for the fused op it replaces)


def cross_entropy_indices(logits, target, reduction="mean", ignore_index=-100):
    """Softmax cross-entropy of (N, C) ``logits`` against (N,) class indices: a stable
    log-softmax over the classes, then the negative log-likelihood op."""
    logp = apply(LOG_SOFTMAX, (logits,), {"axis": 1})
    return apply(NLL, (logp, target), {"reduction": reduction, "ignore_index": int(ignore_index)})


# -- max pooling ---------------------------------------------------------------------------------
def _max_pool_forward(xp, x, *, kernel, stride, dilation, real=None):
    """The elementwise maximum of the strided slices, one per kernel offset (no copies
    of the input, no reduction over small axes)."""
    slices, _ = _window_slices(tuple(x.shape[-2:]), kernel, stride, dilation)
    out = None
    for rows, cols in slices:
        v = x[..., rows, cols]
        out = v if out is None else xp.maximum(out, v)
    return out


def _real(xp, x, rows, cols, real):
    """Whether the positions a (rows, cols) slice reads are real, not padding: ``real``
    ((top, H), (left, W)) places the unpadded input in the padded one."""
    (top, h), (left, w) = real
    r = xp.arange(rows.start, rows.stop, rows.step, device=x.device)
    c = xp.arange(cols.start, cols.stop, cols.step, device=x.device)
    return xp.logical_and(xp.expand_dims(xp.logical_and(r >= top, r < top + h), axis=1),
                          xp.logical_and(c >= left, c < left + w))


def _max_pool_picks(xp, x, out, slices, dtype, real):
    """One mask per kernel offset: where that offset holds its window's pick, PyTorch's
    (the first real element equal to the maximum in row-major window order, never the
    padding; in a window with a NaN, the last NaN), so that exactly one element of each
    window is picked."""
    picks = [None] * len(slices)
    taken = seen = None
    for j, (rows, cols) in enumerate(slices):
        hit = x[..., rows, cols] == out
        if real is not None:
            hit = xp.logical_and(hit, _real(xp, x, rows, cols, real))
        if taken is not None:
            hit = xp.logical_and(hit, xp.logical_not(taken))
        taken = hit if taken is None else xp.logical_or(taken, hit)
        picks[j] = hit
    for j in reversed(range(len(slices))):
        rows, cols = slices[j]
        nan = xp.isnan(x[..., rows, cols])
        if seen is not None:
            nan = xp.logical_and(nan, xp.logical_not(seen))
        seen = nan if seen is None else xp.logical_or(seen, nan)
        picks[j] = xp.astype(xp.logical_or(picks[j], nan), dtype)
    return picks


def _max_pool_vjp(xp, g, out, x, *, kernel, stride, dilation, real=None):
    """Each window's gradient goes to its pick alone (the first maximum, as PyTorch's),
    then the windows are folded back onto the input."""
    slices, _ = _window_slices(tuple(x.shape[-2:]), kernel, stride, dilation)
    masks = _max_pool_picks(xp, x, out, slices, g.dtype, real)
    return call(xp, FOLD, xp.stack([m * g for m in masks], axis=-3),
                size=tuple(x.shape[-2:]), kernel=kernel, stride=stride, dilation=dilation)


def _max_pool_jvp(xp, tangents, out, x, *, kernel, stride, dilation, real=None):
    """The tangent at each window's pick (the first maximum, as PyTorch's)."""
    slices, _ = _window_slices(tuple(x.shape[-2:]), kernel, stride, dilation)
    t = tangents[0]
    total = None
    for m, (rows, cols) in zip(_max_pool_picks(xp, x, out, slices, t.dtype, real), slices):
        total = m * t[..., rows, cols] if total is None else total + m * t[..., rows, cols]
    return total


MAX_POOL = defop("max_pool2d", _max_pool_forward, (_max_pool_vjp,), saves=(0, "out"),
                 jvp=_max_pool_jvp, grad_name="MaxPool2DBackward0")


def max_pool(x, kernel, stride, dilation=(1, 1), real=None):
    """Maximum over sliding windows of the last two axes; ``real``: ((top, H), (left, W)),
    where the unpadded input lies in ``x`` when ``x`` was padded with -inf (the padding is
    then never the element that gets a window's gradient)."""
    params = {"kernel": tuple(kernel), "stride": tuple(stride), "dilation": tuple(dilation)}
    if real is not None:
        params["real"] = tuple(tuple(v) for v in real)
    return apply(MAX_POOL, (x,), params)


# -- max unpooling ---------------------------------------------------------------------------------
# x, idx: (..., m) values and their flat positions in each output plane; src, hit: (..., plane),
# for each output position the (last) source writing it and whether there is one. The forward
# is a gather (the last write wins, as PyTorch's kernel); the gradient is PyTorch's: every
# source, repeated positions included, gets the output gradient at its index.
def _max_unpool_forward(xp, x, idx, src, hit):
    picked = xp.take_along_axis(x, src, axis=-1)
    return xp.where(hit, picked, xp.zeros_like(picked))


def _max_unpool_vjp(xp, g, out, x, idx, src, hit):
    return xp.take_along_axis(g, idx, axis=-1)


MAX_UNPOOL = defop("max_unpool", _max_unpool_forward, (_max_unpool_vjp, None, None, None),
                   saves=(1,), jvp=LINEAR, grad_name="MaxUnpool2DBackward0")


def max_unpool(x, idx, src, hit):
    """``x`` (..., m) placed at ``idx`` in zero planes (..., plane): ``src`` (..., plane)
    the source of each output position (the last one writing it), ``hit`` whether any does."""
    return apply(MAX_UNPOOL, (x, idx, src, hit), {})
