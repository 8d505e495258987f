"""Neural-network functions with PyTorch's names and signatures (``torch.nn.functional``).

Activations, softmax/logsumexp and padding/windowing are ops with their own
rules (``xgrad.ops.nn``); losses, convolution, pooling and normalisation are
composed of differentiable xgrad operations, so their gradients (of any order)
come from the same rules.
"""

from __future__ import annotations

import builtins

import xgrad as _x
from ..ops import nn as _ops
from ..ops.nn import gelu, relu, sigmoid, softplus  # noqa: F401

__all__ = ["relu", "relu_", "leaky_relu", "sigmoid", "softplus", "gelu", "silu", "tanh",
           "logsumexp", "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss",
           "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "dropout",
           "linear", "conv2d", "max_pool2d", "avg_pool2d", "layer_norm", "batch_norm",
           "embedding", "one_hot", "pad", "unfold"]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# -- activations ------------------------------------------------------------------------------
def relu_(x):
    """relu in place."""
    return x.relu_()


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else ``negative_slope`` * x."""
    return _x.where(x > 0, x, x * negative_slope)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * sigmoid(x)


def tanh(x):
    """The hyperbolic tangent."""
    return _x.tanh(x)


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x), dim)) without overflow."""
    return _ops.logsumexp(x, axis=dim, keepdims=keepdim)


def softmax(x, dim=-1, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, without overflow."""
    if dtype is not None:
        x = _x.astype(x, dtype)
    return _ops.softmax(x, axis=dim)


def log_softmax(x, dim=-1, dtype=None):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x)."""
    if dtype is not None:
        x = _x.astype(x, dtype)
    return _ops.log_softmax(x, axis=dim)


# -- losses ------------------------------------------------------------------------------------
def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return _x.mean(loss)
    if reduction == "sum":
        return _x.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _class_shape(t, ndim):
    """Class weights (C,) shaped to broadcast against an (N, C, d1, ...) input."""
    return _x.reshape(t, (1, -1) + (1,) * (ndim - 2)) if ndim > 1 else t


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The negative log-likelihood of class indices ``target`` under log-probabilities
    ``input`` ((N, C) or (N, C, d1, ...); classes on axis 1, or (C,) unbatched)."""
    class_axis = 1 if input.ndim > 1 else 0
    valid = target != ignore_index
    safe = _x.where(valid, target, _x.zeros_like(target))
    picked = _x.squeeze(_x.take_along_axis(input, _x.expand_dims(safe, axis=class_axis),
                                           axis=class_axis), axis=class_axis)
    w = _x.astype(valid, input.dtype)
    if weight is not None:
        w = w * _x.take(weight, _x.reshape(safe, (-1,)), axis=0).reshape(safe.shape)
    loss = -picked * w
    if reduction == "mean":
        return _x.sum(loss) / _x.sum(w)
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (classes on axis 1) against class
    indices or class probabilities ``target`` (same shape as ``input``)."""
    if (input.ndim == 2 and weight is None and not label_smoothing
            and not target.dtype.is_floating_point):
        _check_reduction(reduction)
        return _ops.cross_entropy_indices(input, target, reduction, ignore_index)
    class_axis = 1 if input.ndim > 1 else 0
    logp = _ops.log_softmax(input, axis=class_axis)
    if target.dtype.is_floating_point:
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, class_axis)
    loss = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return loss
    smooth = _smoothing_term(logp, target, weight, ignore_index, reduction, class_axis)
    return (1 - label_smoothing) * loss + label_smoothing * smooth


def _smoothing_term(logp, target, weight, ignore_index, reduction, class_axis):
    """The uniform-target part of label smoothing (mean over classes of -log p)."""
    valid = _x.astype(target != ignore_index, logp.dtype)
    if weight is not None:
        logp = logp * _class_shape(weight, logp.ndim)
    per = -_x.mean(logp, axis=class_axis) * valid
    if reduction == "mean":
        if weight is None:
            return _x.sum(per) / _x.sum(valid)
        safe = _x.where(target != ignore_index, target, _x.zeros_like(target))
        w = _x.take(weight, _x.reshape(safe, (-1,)), axis=0).reshape(safe.shape) * valid
        return _x.sum(per) / _x.sum(w)
    return _reduce(per, reduction)


def _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, class_axis):
    if label_smoothing:
        n_classes = logp.shape[class_axis]
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    if weight is not None:
        target = target * _class_shape(weight, logp.ndim)
    loss = -_x.sum(logp * target, axis=class_axis)
    if reduction == "mean":
        return _x.sum(loss) / (loss.numel() or 1)
    return _reduce(loss, reduction)


def mse_loss(input, target, reduction="mean"):
    """Mean (or sum) of squared differences."""
    return _reduce(_x.square(input - target), reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean (or sum) of absolute differences."""
    return _reduce(_x.abs(input - target), reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities ``input``; logs clamped at -100
    like PyTorch, so p = 0 or 1 gives a finite loss."""
    log_p = _x.clip(_x.log(input), -100.0, None)
    log_q = _x.clip(_x.log1p(-input), -100.0, None)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE of sigmoid(``input``) computed from the logits without overflow:
    (1 - y) x + (1 + (w - 1) y) softplus(-x)."""
    sp = softplus(-input)  # log(1 + exp(-x)), stable
    if pos_weight is None:
        loss = (1 - target) * input + sp
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- layers ---------------------------------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = _x.rand(input.shape, dtype=input.dtype, device=input.device) >= p
    return _x.where(keep, input * (1.0 / (1.0 - p)), 0.0)


def linear(input, weight, bias=None):
    """input @ weight.T + bias."""
    out = _x.matmul(input, _x.matrix_transpose(weight))
    return out if bias is None else out + bias


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` axes, PyTorch's order: (left, right, top, bottom, ...).
    Modes: constant, reflect, replicate, circular."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"padding length must be even and at most 2 * ndim; got {pad}")
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if builtins.any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError("negative padding is not supported")
    if mode == "constant":
        return _ops.pad_constant(input, widths, 0.0 if value is None else value)
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            index = _pad_index(input.shape[axis], lo, hi, mode)
            input = _x.take(input, _x.asarray(index, device=input.device), axis=axis)
    return input


def _pad_index(n, lo, hi, mode):
    """Source positions of a padded axis of length ``n`` (for the non-constant modes)."""
    positions = range(-lo, n + hi)
    if mode == "replicate":
        return [builtins.min(builtins.max(i, 0), n - 1) for i in positions]
    if mode == "circular":
        return [i % n for i in positions]
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise ValueError(f"reflect padding ({lo}, {hi}) must be smaller than the size {n}")
        period = 2 * (n - 1) or 1
        return [(n - 1) - abs((i % period) - (n - 1)) for i in positions]
    raise ValueError(f"unknown padding mode {mode!r}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an (N, C, H, W) input as (N, C*kh*kw, L), like PyTorch's unfold."""
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    if p != (0, 0):
        input = pad(input, (p[1], p[1], p[0], p[0]))
    cols = _ops.unfold(input, k, s, d)
    n, c = input.shape[0], input.shape[1]
    return _x.reshape(cols, (n, c * k[0] * k[1], -1))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) ``input`` with (O, C/groups, kh, kw) ``weight``,
    as im2col + matmul. ``padding`` may be an int, a pair, or 'valid' / 'same'."""
    squeeze = input.ndim == 3
    if squeeze:
        input = _x.expand_dims(input, axis=0)
    out_ch, in_per_group, kh, kw = weight.shape
    s, d = _pair(stride), _pair(dilation)
    ph, pw = _conv_padding(padding, (kh, kw), d)
    if ph or pw:
        input = pad(input, (pw, pw, ph, ph))
    n, c = input.shape[0], input.shape[1]
    if c != in_per_group * groups:
        raise RuntimeError(f"conv2d: input has {c} channels, weight expects "
                           f"{in_per_group * groups} ({groups} groups)")
    cols = _ops.unfold(input, (kh, kw), s, d)  # (N, C, K, Ho, Wo)
    ho, wo = cols.shape[-2], cols.shape[-1]
    cols = _x.reshape(cols, (n, groups, in_per_group * kh * kw, ho * wo))
    w = _x.reshape(weight, (groups, out_ch // groups, in_per_group * kh * kw))
    out = _x.reshape(_x.matmul(w, cols), (n, out_ch, ho, wo))
    if bias is not None:
        out = out + _x.reshape(bias, (1, out_ch, 1, 1))
    return _x.squeeze(out, axis=0) if squeeze else out


def _conv_padding(padding, kernel, dilation):
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if builtins.any(t % 2 for t in total):
            raise ValueError("padding='same' with an even effective kernel size is not supported")
        return tuple(t // 2 for t in total)
    return _pair(padding)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of the last two axes (padding counts as -inf)."""
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d: ceil_mode and return_indices are not supported")
    k = _pair(kernel_size)
    s = k if stride is None or stride == [] else _pair(stride)
    p, d = _pair(padding), _pair(dilation)
    if p != (0, 0):
        input = pad(input, (p[1], p[1], p[0], p[0]), value=-float("inf"))
    return _ops.max_pool(input, k, s, d)


def avg_pool2d(input, kernel_size, stride=None, padding=0):
    """Mean over sliding windows of the last two axes (zero padding counted)."""
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    p = _pair(padding)
    if p != (0, 0):
        input = pad(input, (p[1], p[1], p[0], p[0]))
    return _x.mean(_ops.unfold(input, k, s, (1, 1)), axis=-3)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = _x.mean(input, axis=axes, keepdims=True)
    centered = input - mean
    var = _x.mean(centered * centered, axis=axes, keepdims=True)
    out = centered / _x.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) by batch statistics (training) or by the running
    ones (eval). In training the running statistics are updated in place."""
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, -1) + (1,) * (input.ndim - 2)
    if training:
        mean = _x.mean(input, axis=axes, keepdims=True)
        centered = input - mean
        var = _x.mean(centered * centered, axis=axes, keepdims=True)
        if running_mean is not None:
            _update_running(input, mean, var, running_mean, running_var, momentum)
        out = centered / _x.sqrt(var + eps)
    else:
        out = (input - _x.reshape(running_mean, shape)) / _x.sqrt(
            _x.reshape(running_var, shape) + eps)
    if weight is not None:
        out = out * _x.reshape(weight, shape)
    if bias is not None:
        out = out + _x.reshape(bias, shape)
    return out


def _update_running(input, mean, var, running_mean, running_var, momentum):
    n = input.numel() // input.shape[1]
    with _x.no_grad():
        unbiased = _x.reshape(var.detach(), (-1,)) * (n / builtins.max(n - 1, 1))
        running_mean.mul_(1 - momentum).add_(_x.reshape(mean.detach(), (-1,)) * momentum)
        running_var.mul_(1 - momentum).add_(unbiased * momentum)


def embedding(input, weight, padding_idx=None, max_norm=None):
    """Rows of ``weight`` at the integer indices ``input``; the row ``padding_idx``
    gets no gradient."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported")
    flat = _x.reshape(input, (-1,))
    rows = _x.take(weight, flat, axis=0)
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.shape[0]
        keep = _x.expand_dims(flat != padding_idx, axis=1)
        rows = _x.where(keep, rows, _x.take(weight.detach(), flat, axis=0))
    return _x.reshape(rows, tuple(input.shape) + (weight.shape[1],))


def one_hot(tensor, num_classes=-1):
    """(..., ) integer classes as (..., num_classes) int64 one-hot rows."""
    if num_classes < 0:
        num_classes = int(_x.max(tensor).item()) + 1
    classes = _x.arange(num_classes, device=tensor.device)
    return _x.astype(_x.expand_dims(tensor, axis=-1) == classes, _x.int64)
