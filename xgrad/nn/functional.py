"""Neural-network functions with PyTorch's names and signatures (``torch.nn.functional``).

Activations, softmax/logsumexp and padding/windowing are ops with their own
rules (``xgrad.ops.nn``); losses, convolution, pooling and normalisation are
composed of differentiable xgrad operations, so their gradients (of any order)
come from the same rules.
"""

from __future__ import annotations

import builtins
import itertools

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


def softmax(x, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, without overflow (without ``dim``: PyTorch's
    deprecated implicit choice, with its warning)."""
    if dim is None:
        dim = _implicit_dim("softmax", x.ndim, _stacklevel)
    if dtype is not None:
        x = _x.astype(x, dtype)
    return _ops.softmax(x, axis=dim)


def log_softmax(x, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x)."""
    if dim is None:
        dim = _implicit_dim("log_softmax", x.ndim, _stacklevel)
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
def _dropout_shortcut(input, p, training):
    """What every dropout checks first: ``p`` in [0, 1]; then the input itself when
    nothing is dropped (eval mode, p = 0), zeros when everything is (p = 1), else None."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return None


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p)."""
    shortcut = _dropout_shortcut(input, p, training)
    if shortcut is not None:
        return shortcut
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
    """Maximum over sliding windows of the last two axes of (N, C, H, W) or (C, H, W) input
    (padding counts as -inf); with ``return_indices`` also each maximum's flat position
    ``h * W + w`` in its input plane (PyTorch's indices, for ``max_unpool2d``)."""
    return _max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices, "max_pool2d")


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


# == more of torch.nn.functional: activations ======================================================
# Each is composed of differentiable ops (derivatives of every order and forward mode follow);
# unselected branches of ``where`` are fed safe values, so no inf/nan leaks into a gradient.
from ..ops import reductions as _R  # noqa: E402
from ..ops.linalg import vector_norm as _vector_norm  # noqa: E402

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _neg_part(x):
    """min(x, 0) with the gradient of x where x <= 0 (a safe argument for exp)."""
    return _x.where(x > 0, 0.0, x)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return _x.where(input > 0, input, alpha * _x.expm1(_neg_part(input)))


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _x.where(input > 0, input, alpha * _x.expm1(_neg_part(input) / alpha))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return input * _x.tanh(softplus(input))


def softsign(input):
    """x / (1 + |x|)."""
    return input / (1 + _x.abs(input))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; gradient 1 strictly inside, 0 elsewhere."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    # PyTorch's clamp for the value (a NaN stays NaN, -0.0 stays -0.0 at min_val = 0), its
    # gradient only strictly inside (min_val, max_val)
    inside = (input > min_val) & (input < max_val)
    outside = _x.where(input < min_val, min_val,
                       _x.where(input > max_val, max_val, input.detach()))
    return _x.where(inside, input, outside)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return hardtanh(input + 3.0, 0.0, 6.0) / 6.0


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6 (derivative 0 at -3 and 1 at 3, as PyTorch's)."""
    # x * 0 below -3, as PyTorch's x * clamp(x + 3, 0, 6) / 6: -0.0, and NaN for -inf or NaN
    return _x.where(input >= 3.0, input,
                    _x.where(input > -3.0, input * (input + 3.0) / 6.0, input * 0.0))


def prelu(input, weight):
    """x where x > 0, else weight * x (``weight``: one value, or one per channel on dim 1)."""
    w = weight
    if weight.ndim == 1 and weight.shape[0] > 1 and input.ndim >= 2:
        w = _x.reshape(weight, (-1,) + (1,) * (input.ndim - 2))
    return _x.where(input > 0, input, w * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky relu with a random slope in [lower, upper] per element (training), or the
    mean slope (evaluation)."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slope = _x.rand(input.shape, dtype=input.dtype, device=input.device) * (upper - lower) + lower
    return _x.where(input >= 0, input, input * slope)


def glu(input, dim=-1):
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``."""
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {n}")
    d = dim % input.ndim
    a = input[(slice(None),) * d + (slice(0, n // 2), Ellipsis)]
    b = input[(slice(None),) * d + (slice(n // 2, n), Ellipsis)]
    return a * sigmoid(b)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), without overflow."""
    return 0.0 - softplus(-input)  # (not a negation: +0.0 at x = inf, as PyTorch)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - _x.tanh(input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (+0.0: PyTorch's sign of
    that zero depends on its kernel's vector/tail split; a NaN stays NaN)."""
    return _x.where(_x.abs(input) <= lambd, 0.0,
                    _x.where(input > lambd, input - lambd, input + lambd))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return _x.where(_x.abs(input) <= lambd, 0.0, input)  # (a NaN stays NaN, as PyTorch)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    return _x.where(input <= threshold, value, input)  # (a NaN stays NaN, as PyTorch)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _implicit_dim("softmin", input.ndim, _stacklevel)
    return softmax(-input, dim, dtype=dtype)


def _implicit_dim(name, ndim, stacklevel):
    """PyTorch's legacy choice of dim (0 for 0-, 1- and 3-d input, else 1), with its warning."""
    import warnings
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


# == normalisation, distances ======================================================================
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p over ``dim``, eps)."""
    norm = _vector_norm(input, axis=dim, keepdims=True, ord=p)
    return input / _x.clip(norm, eps, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise over each group of ``num_groups`` channel groups (and the spatial axes)."""
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {tuple(input.shape)} and "
                           f"num_groups={num_groups}")
    g = _x.reshape(input, (n, num_groups, -1))
    mean = _R.mean(g, axis=-1, keepdims=True)
    centered = g - mean
    var = _R.mean(centered * centered, axis=-1, keepdims=True)
    out = _x.reshape(centered / _x.sqrt(var + eps), tuple(input.shape))
    shape = (1, -1) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * _x.reshape(weight, shape)
    if bias is not None:
        out = out + _x.reshape(bias, shape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial axes."""
    axes = tuple(range(2, input.ndim))
    shape = (1, -1) + (1,) * (input.ndim - 2)
    if use_input_stats:
        mean = _R.mean(input, axis=axes, keepdims=True)
        centered = input - mean
        var = _R.mean(centered * centered, axis=axes, keepdims=True)
        if running_mean is not None:
            count = 1
            for a in axes:
                count *= input.shape[a]
            with _x.no_grad():
                m = _R.mean(_x.reshape(mean.detach(), (input.shape[0], -1)), axis=0)
                v = _R.mean(_x.reshape(var.detach(), (input.shape[0], -1)), axis=0)
                v = v * (count / builtins.max(count - 1, 1))
                running_mean.mul_(1 - momentum).add_(m * momentum)
                running_var.mul_(1 - momentum).add_(v * momentum)
        out = centered / _x.sqrt(var + eps)
    else:
        out = (input - _x.reshape(running_mean, shape)) / _x.sqrt(_x.reshape(running_var, shape) + eps)
    if weight is not None:
        out = out * _x.reshape(weight, shape)
    if bias is not None:
        out = out + _x.reshape(bias, shape)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels) ** beta."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    sq = input * input
    c = input.shape[1]
    widths = [(0, 0)] * input.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = _ops.pad_constant(sq, widths, 0.0)
    total = None
    for i in range(size):
        part = padded[(slice(None), slice(i, i + c), Ellipsis)]
        total = part if total is None else total + part
    div = (total * (alpha / size) + k) ** beta
    return input / div


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim``, as PyTorch: the
    inputs are broadcast together first (the norms are those of the broadcast tensors), and
    the clamp to ``eps`` changes the norm's value but not its gradient."""
    dtype = _x.result_type(x1, x2)
    if not dtype.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{dtype}")
    x1, x2 = _x.broadcast_tensors(_x.astype(x1, dtype), _x.astype(x2, dtype))

    def clamped_norm(v):
        n = _vector_norm(v, axis=dim, keepdims=True)
        # PyTorch clamps the norm in place under no_grad: the value is max(n, eps), the
        # derivative stays the norm's
        return n + (_x.clip(n.detach(), eps, None) - n.detach())
    return _R.sum((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2)), axis=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim."""
    return _vector_norm(x1 - x2 + eps, axis=-1, keepdims=keepdim, ord=p)


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T W_o x2 + b_o for ``weight`` (out, in1, in2)."""
    left = _x.matmul(_x.expand_dims(_x.expand_dims(input1, axis=-2), axis=-2), weight)  # (..., o, 1, in2)
    out = _R.sum(_x.squeeze(left, axis=-2) * _x.expand_dims(input2, axis=-2), axis=-1)
    return out if bias is None else out + bias


# == dropout variants ===========================================================================
def _feature_mask(input, p, batched_ndim):
    """A keep-mask with one draw per channel (the spatial axes share it)."""
    lead = 2 if input.ndim == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _x.rand(shape, dtype=input.dtype, device=input.device) >= p


def _channel_dropout(input, p, training, batched_ndim):
    shortcut = _dropout_shortcut(input, p, training)
    if shortcut is not None:
        return shortcut
    return _x.where(_feature_mask(input, p, batched_ndim), input * (1.0 / (1.0 - p)), 0.0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``."""
    return _channel_dropout(input, p, training, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability ``p``."""
    return _channel_dropout(input, p, training, 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    return _channel_dropout(input, p, training, 5)


def _alpha_dropout(input, p, training, keep):
    shortcut = _dropout_shortcut(input, p, training)
    if shortcut is not None:
        return shortcut
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * p
    return _x.where(keep, input * a + b, alpha_p * a + b)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's mean and variance (dropped values go to SELU's saturation)."""
    keep = _x.rand(input.shape, dtype=input.dtype, device=input.device) >= p if training else None
    return _alpha_dropout(input, p, training, keep)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """:func:`alpha_dropout` with one draw per channel."""
    keep = _feature_mask(input, p, input.ndim) if training and 0 < p < 1 else None
    return _alpha_dropout(input, p, training, keep)


# == losses =========================================================================================
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = input - target)."""
    r = input - target
    d = _x.abs(r)
    if beta == 0.0:
        return _reduce(d, reduction)
    # the square of r, not of |r|: the second derivative is 1/beta at r = 0 too (PyTorch's
    # quadratic branch, |r| < beta); at |r| = beta the linear branch (second derivative 0)
    loss = _x.where(d < beta, 0.5 * r * r / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere."""
    r = input - target
    d = _x.abs(r)
    # r * r, not |r|^2: second derivative 1 at r = 0 (as PyTorch), 0 at |r| = delta
    loss = _x.where(d < delta, 0.5 * r * r, delta * (d - 0.5 * delta))
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input); ``reduction``
    'batchmean' divides the sum by the batch size."""
    if log_target:
        loss = _x.exp(target) * (target - input)
    else:
        loss = _x.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return _R.sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of a Poisson with rate exp(input) (``log_input``) or input."""
    if log_input:
        loss = _x.exp(input) - target * input
    else:
        loss = input - target * _x.log(input + eps)
    if full:
        safe = _x.where(target > 1, target, 1.0)
        stirling = safe * _x.log(safe) - safe + 0.5 * _x.log(2 * 3.141592653589793 * safe)
        loss = loss + _x.where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi if ``full``); ``var`` is
    clamped to ``eps`` without stopping its gradient (as PyTorch)."""
    # PyTorch's checks, in its order: a float var, negative entries, var's shape, reduction
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _x.ones_like(input)
    elif _x.any(var < 0):
        raise ValueError("var has negative entry/entries")
    ishape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:  # homoscedastic: one variance per row of the last dim
            var = _x.expand_dims(var, axis=-1)
        elif not (len(ishape) == len(vshape)
                  and builtins.sum(v for i, v in zip(ishape, vshape) if i != v) == 1):
            # PyTorch's rule: var broadcasts to the input along the dims where their sizes
            # differ, and var's sizes there sum to 1
            raise ValueError("var is of incorrect size")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction + " is not valid")
    v = var + (_x.clip(var.detach(), eps, None) - var.detach())
    loss = 0.5 * (_x.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * 1.8378770664093453  # log(2 pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) for target 1; max(0, cos - margin) for target -1."""
    dim = 1 if input1.ndim == 2 else 0
    eps = 1e-12
    prod = _R.sum(input1 * input2, axis=dim)
    m1 = _R.sum(input1 * input1, axis=dim) + eps
    m2 = _R.sum(input2 * input2, axis=dim) + eps
    cos = prod / _x.sqrt(m1 * m2)
    pos = _x.where(target == 1, 1 - cos, 0.0)
    neg = _x.where(target == -1, _x.clip(cos - margin, 0.0, None), 0.0)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target (input1 - input2) + margin)."""
    return _reduce(_x.clip(-target * (input1 - input2) + margin, 0.0, None), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    loss = _x.where(target != 1, _x.clip(margin - input, 0.0, None), 0.0) + \
        _x.where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    return _reduce(softplus(-target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross-entropy of each class (from logits), averaged over the classes."""
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = _R.mean(loss, axis=input.ndim - 1)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with pairwise distances."""
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _x.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_x.clip(margin + d_pos - d_neg, 0.0, None), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over classes i != y of max(0, margin - x[y] + x[i]) ** p / C (one row per sample)."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else _x.expand_dims(input, axis=0)
    t = target if target.ndim == 1 else _x.reshape(target, (1,))
    picked = _x.take_along_axis(x, _x.expand_dims(t, axis=1), axis=1)
    z = _x.clip(margin - picked + x, 0.0, None)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _x.expand_dims(_x.take(weight, t, axis=0), axis=1)
    classes = _x.arange(x.shape[1], device=x.device)
    z = _x.where(_x.expand_dims(t, axis=1) == classes, 0.0, z)
    loss = _R.sum(z, axis=1) / x.shape[1]
    if input.ndim == 1:
        loss = _x.reshape(loss, ())
    return _reduce(loss, reduction)


__all__ += ["elu", "selu", "celu", "mish", "softsign", "hardtanh", "relu6", "hardsigmoid",
            "hardswish", "prelu", "rrelu", "glu", "logsigmoid", "tanhshrink", "softshrink",
            "hardshrink", "threshold", "softmin", "normalize", "group_norm", "instance_norm",
            "local_response_norm", "cosine_similarity", "pairwise_distance", "bilinear",
            "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
            "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
            "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
            "soft_margin_loss", "multilabel_soft_margin_loss", "triplet_margin_loss",
            "multi_margin_loss"]


# == more normalisation, attention, pooling, in-place variants ======================================
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing ``normalized_shape`` axes, times
    ``weight`` (eps defaults to the dtype's machine epsilon, as in PyTorch)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    if eps is None:
        eps = _x.finfo(input.dtype).eps
    # x * rsqrt(.), as PyTorch computes it: x / sqrt(.) rounds differently (rms_norm of one
    # element is -1.0 there, -0.9999999999999999 in PyTorch; differential test, seed in the
    # cpu long run of 21:23)
    out = input * _x.rsqrt(_R.mean(input * input, axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); ``hard``: the one-hot argmax in the forward
    pass with the soft sample's gradient (straight-through)."""
    u = _x.rand(logits.shape, dtype=logits.dtype, device=logits.device)
    gumbels = -_x.log(-_x.log(u))  # rand never returns 1; 0 gives +inf noise as in PyTorch
    y = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    index = _x.argmax(y, axis=dim, keepdims=True)
    classes = _x.reshape(_x.arange(y.shape[dim], device=y.device),
                         (-1,) + (1,) * (y.ndim - 1 - (dim % y.ndim)))
    y_hard = _x.astype(index == classes, y.dtype)
    return y_hard - y.detach() + y


def pdist(input, p=2):
    """Distances between all pairs of rows i < j of an (N, M) input, as an N(N-1)/2 vector."""
    n = input.shape[0]
    rows = [i for i in range(n) for _ in range(i + 1, n)]
    cols = [j for i in range(n) for j in range(i + 1, n)]
    a = _x.take(input, _x.asarray(rows, dtype=_x.int64, device=input.device), axis=0)
    b = _x.take(input, _x.asarray(cols, dtype=_x.int64, device=input.device), axis=0)
    return _vector_norm(a - b, axis=-1, ord=p)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance
    function (default: :func:`pairwise_distance`)."""
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = _x.minimum(d_neg, dist(positive, negative))
    return _reduce(_x.clip(margin + d_pos - d_neg, 0.0, None), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C;
    each row of ``target`` lists class indices, ended by the first -1."""
    x = input if input.ndim == 2 else _x.expand_dims(input, axis=0)
    t = target if target.ndim == 2 else _x.expand_dims(target, axis=0)
    n_classes = x.shape[1]
    valid = _x.cumulative_prod(_x.astype(t >= 0, _x.int64), axis=1) > 0     # before the first -1
    safe = _x.where(valid, t, 0)
    classes = _x.arange(n_classes, device=x.device)
    hit = _x.any(_x.logical_and(_x.expand_dims(safe, axis=2) == classes,
                                _x.expand_dims(valid, axis=2)), axis=1)        # (N, C) targets
    picked = _x.take_along_axis(x, safe, axis=1)                                   # (N, K)
    margins = 1.0 - _x.expand_dims(picked, axis=2) + _x.expand_dims(x, axis=1)     # (N, K, C)
    use = _x.logical_and(_x.expand_dims(valid, axis=2), _x.expand_dims(~hit, axis=1))
    loss = _R.sum(_x.where(use, _x.clip(margins, 0.0, None), 0.0), axis=(1, 2)) / n_classes
    if input.ndim == 1:
        loss = _x.reshape(loss, ())
    return _reduce(loss, reduction)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q kᵀ * scale + mask) v over the last two axes; a boolean ``attn_mask``
    keeps the True positions, a float one is added; ``is_causal`` masks the future."""
    import math as _math
    lq, lk = query.shape[-2], key.shape[-2]
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = _x.repeat(key, rep, axis=-3) if hasattr(_x, "repeat") else key
        value = _x.repeat(value, rep, axis=-3) if hasattr(_x, "repeat") else value
    s = 1.0 / _math.sqrt(query.shape[-1]) if scale is None else scale
    scores = _x.matmul(query, _x.matrix_transpose(key)) * s

    def blocked(keep):  # 0 where kept, -inf elsewhere: a constant added to the scores
        zeros = _x.zeros(tuple(keep.shape), dtype=scores.dtype, device=scores.device)
        return _x.where(keep, zeros, -float("inf"))
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        keep = _x.expand_dims(_x.arange(lq, device=query.device), axis=1) >= \
            _x.arange(lk, device=query.device)
        scores = scores + blocked(keep)
    if attn_mask is not None:
        if attn_mask.dtype == _x.bool:
            scores = scores + blocked(attn_mask)
        else:
            scores = scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return _x.matmul(weights, value)


def _adaptive_bounds(size, out):
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _adaptive_pool(input, output_size, n_spatial, reduce):
    sizes = (output_size,) * n_spatial if isinstance(output_size, int) else tuple(output_size)
    out = input
    for k, o in enumerate(sizes):
        axis = input.ndim - n_spatial + k
        o = out.shape[axis] if o is None else o
        parts = [reduce(out[(slice(None),) * axis + (slice(a, b), Ellipsis)], axis)
                 for a, b in _adaptive_bounds(out.shape[axis], o)]
        out = _x.concat(parts, axis=axis) if parts else out
    return out


def adaptive_avg_pool1d(input, output_size):
    """Mean over ``output_size`` adaptive windows of the last axis."""
    return _adaptive_pool(input, output_size, 1, lambda v, a: _R.mean(v, axis=a, keepdims=True))


def adaptive_avg_pool2d(input, output_size):
    """Mean over adaptive windows of the last two axes (``output_size``: int or pair,
    None keeps a size)."""
    return _adaptive_pool(input, output_size, 2, lambda v, a: _R.mean(v, axis=a, keepdims=True))


def _window_pick(values, axis, valid=None):
    """Where PyTorch's max-pooling kernels take each window's maximum, the windows lying
    along ``axis`` of ``values`` (positions with ``valid`` False, padding, are never
    taken): the first element equal to the maximum in window order, or, in a window
    holding a NaN, the last NaN. Returned keepdim, for a gather (``take_along_dim``),
    so that the picked element alone gets the gradient."""
    c = values.detach()
    size = c.shape[axis]
    dev = c.device
    shape = [1] * c.ndim
    shape[axis] = size
    order = _x.reshape(_x.arange(size, device=dev, dtype=_x.int64), tuple(shape))
    top = _x.amax(c, dim=axis, keepdim=True)
    nan, hit = _x.isnan(c), c == top
    if valid is not None:
        nan, hit = nan & valid, hit & valid
    zero = _x.zeros((), dtype=_x.int64, device=dev)
    score = _x.where(nan, order + size, _x.where(hit, size - order, zero))
    return _x.argmax(score, dim=axis, keepdim=True)


def _adaptive_max(input, output_size, n_spatial, return_indices, name):
    """PyTorch's adaptive max pooling: each window's first maximum (the last NaN in a
    window holding one, as PyTorch's), picked by a gather so that the gradient goes to that one element, as
    PyTorch's; the indices are flat positions in the input's spatial dims."""
    lo, hi = n_spatial + 1, n_spatial + 2
    if n_spatial == 1 and input.ndim not in (lo, hi):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {name})")
    if n_spatial == 2 and input.ndim not in (lo, hi):
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    if isinstance(output_size, int) or output_size is None:
        sizes = (output_size,) * n_spatial
    else:
        sizes = tuple(output_size)
        if len(sizes) != n_spatial:
            raise RuntimeError(f"{name}() argument 'output_size' should contain "
                               f"{'one int' if n_spatial == 1 else 'two ints'} (got {len(sizes)})")
    spatial = tuple(input.shape[-n_spatial:])
    for k in range(1, input.ndim):
        if input.shape[k] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {k} being empty")
    sizes = tuple(s if o is None else int(o) for o, s in zip(sizes, spatial))
    lead = tuple(input.shape[:-n_spatial])
    bounds = [_adaptive_bounds(s, o) for s, o in zip(spatial, sizes)]
    values, indices = [], []
    for window in itertools.product(*bounds):
        key = (Ellipsis,) + tuple(slice(a, b) for a, b in window)
        wshape = tuple(b - a for a, b in window)
        part = _x.reshape(input[key], lead + (-1,))
        k = _window_pick(part, -1)
        values.append(_x.take_along_dim(part, k, dim=-1))
        flat = None  # k (row-major in the window) as a flat position in the input's dims
        rest = k
        for d in range(n_spatial):
            inner = 1
            for w in wshape[d + 1:]:
                inner *= w
            coord = rest // inner + window[d][0]
            rest = rest % inner
            flat = coord if flat is None else flat * spatial[d] + coord
        indices.append(flat)
    shape = lead + sizes
    if values:
        out = _x.reshape(_x.cat(values, dim=-1), shape)
        idx = _x.reshape(_x.cat(indices, dim=-1), shape)
    else:
        out = _x.zeros(shape, dtype=input.dtype, device=input.device) + input.sum() * 0
        idx = _x.zeros(shape, dtype=_x.int64, device=input.device)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over adaptive windows of the last axis of (N, C, L) or (C, L) input;
    with ``return_indices`` also the position of each maximum along L."""
    return _adaptive_max(input, output_size, 1, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over adaptive windows of the last two axes of (N, C, H, W) or (C, H, W)
    input (``output_size``: int or pair, None keeps a size); with ``return_indices`` also
    the flat position ``h * W + w`` of each maximum."""
    return _adaptive_max(input, output_size, 2, return_indices, "adaptive_max_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of the last axis (zero padding counted)."""
    if ceil_mode or not count_include_pad:
        raise NotImplementedError("avg_pool1d: ceil_mode and count_include_pad=False are not supported")
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    s = k if stride is None else (stride if isinstance(stride, int) else stride[0])
    p = padding if isinstance(padding, int) else padding[0]
    out = avg_pool2d(_x.expand_dims(input, axis=-2), (1, k), (1, s), (0, p))
    return _x.squeeze(out, axis=-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of the last axis of (N, C, L) or (C, L) input (padding
    counts as -inf); with ``return_indices`` also each maximum's position along L."""
    return _max_pool_nd(input, 1, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices, "max_pool1d")


# -- max pooling with indices, ceil_mode, 1d/2d/3d; max unpooling ---------------------------------
def _pool_args(value, n, what, name, default=None):
    """An int or a sequence of ``n`` ints (PyTorch's arity check and message)."""
    if value is None or (not isinstance(value, int) and len(value) == 0 and default is not None):
        return default
    if isinstance(value, int):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        if n == 1:
            raise RuntimeError(f"{name}() {what} must be None, an int, list of ints, or tuple of "
                               f"ints of size 1 but got size {len(value)}")
        many = {2: "two", 3: "three"}[n]
        raise RuntimeError(f"{name}: {what} must either be a single int, or a tuple of {many} ints")
    return value


def _pool_output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _max_pool_nd(input, n, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name):
    """PyTorch's max pooling over the last ``n`` axes (its argument checks and errors),
    with its indices (flat positions in
    each input plane), ``padding`` as implicit -inf (never picked while a real element is
    in the window), ``dilation`` and ``ceil_mode``. Each window's maximum is the first in
    row-major window order (the last NaN where there is one, as PyTorch's kernels); it is
    picked by a gather, so it alone gets the gradient, to every order and in forward mode."""
    k = _pool_args(kernel_size, n, "kernel_size", name)
    s = _pool_args(stride, n, "stride", name, default=k)
    p = _pool_args(padding, n, "padding", name)
    d = _pool_args(dilation, n, "dilation", name)
    if n == 1 and input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {name})")
    if n > 1 and input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{name}: non-empty {n + 1}D or {n + 2}D (batch mode) tensor expected "
                           f"for input, got shape {list(input.shape)}")
    if builtins.any(v <= 0 for v in k + s):
        raise RuntimeError(f"{name}: kernel_size and stride should be greater than zero, but got "
                           f"kernel_size={k}, stride={s}")
    if builtins.any(v <= 0 for v in d):
        raise RuntimeError(f"{name}: dilation should be greater than zero, but got {d}")
    if builtins.any(v < 0 for v in p):
        raise RuntimeError(f"{name}: pad must be non-negative, but got pad: {p}")
    if builtins.any(pv > kv // 2 for pv, kv in zip(p, k)):
        raise RuntimeError(f"{name}: pad should be at most half of kernel size, but got "
                           f"pad={p} and kernel_size={k}")
    for axis in range(1, input.ndim):
        if input.shape[axis] == 0:
            raise RuntimeError(f"{name}: expected input to have non-zero size for non-batch "
                               f"dimensions, but got sizes {list(input.shape)}")
    spatial = tuple(input.shape[-n:])
    out = tuple(_pool_output_size(*a, ceil_mode) for a in zip(spatial, k, s, p, d))
    if builtins.any(o < 1 for o in out):
        raise RuntimeError(f"{name}: given input size {list(input.shape)}, the calculated output "
                           f"size {list(out)} is too small")
    # -inf padding: p before each axis, after it as far as the last window reaches
    after = [builtins.max(0, (o - 1) * sv + dv * (kv - 1) + 1 - size - pv)
             for o, sv, dv, kv, size, pv in zip(out, s, d, k, spatial, p)]
    if builtins.any(p) or builtins.any(after):
        low = -float("inf") if input.dtype.is_floating_point else _x.iinfo(input.dtype).min
        widths = []
        for axis in reversed(range(n)):
            widths += [p[axis], after[axis]]
        input = pad(input, widths, value=low)
    if not return_indices and n <= 2:
        # the max_pool2d op: the maximum of strided slices, no stacked copy of the windows;
        # its gradient also goes to each window's first maximum
        real = None
        if builtins.any(p):
            real = tuple((pv, size) for pv, size in zip(p, spatial))
        if n == 1:
            real = None if real is None else ((0, 1),) + real
            return _x.squeeze(_ops.max_pool(_x.expand_dims(input, axis=-2), (1,) + k, (1,) + s,
                                            (1,) + d, real), axis=-2)
        return _ops.max_pool(input, k, s, d, real)
    # the windows: one strided slice per kernel offset, stacked on a new window axis
    wax = -(n + 1)
    parts = []
    for offset in itertools.product(*(range(kv) for kv in k)):
        key = (Ellipsis,) + tuple(slice(j * dv, j * dv + (o - 1) * sv + 1, sv)
                                  for j, dv, o, sv in zip(offset, d, out, s))
        parts.append(input[key])
    cols = _x.stack(parts, dim=wax)  # lead + (K,) + out
    K = len(parts)
    # each window element's position in the input plane (shape (K,) + out), and whether it is real
    dev = input.device
    flat = valid = None
    for axis in range(n):
        shape = [1] * (2 * n)
        shape[axis], shape[n + axis] = k[axis], 1
        offs = _x.reshape(_x.arange(k[axis], device=dev, dtype=_x.int64) * d[axis], shape)
        shape[axis], shape[n + axis] = 1, out[axis]
        starts = _x.reshape(_x.arange(out[axis], device=dev, dtype=_x.int64) * s[axis], shape)
        pos = offs + starts - p[axis]
        ok = (pos >= 0) & (pos < spatial[axis])
        flat = pos if flat is None else flat * spatial[axis] + pos
        valid = ok if valid is None else valid & ok
    flat = _x.reshape(_x.broadcast_to(flat, k + out), (K,) + out)
    valid = _x.reshape(_x.broadcast_to(valid, k + out), (K,) + out)
    pick = _window_pick(cols, wax, valid)
    values = _x.squeeze(_x.take_along_dim(cols, pick, dim=wax), wax)
    if not return_indices:
        return values
    where = _x.broadcast_to(flat, tuple(cols.shape))
    return values, _x.squeeze(_x.take_along_dim(where, pick, dim=wax), wax)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of the last three axes of (N, C, D, H, W) or (C, D, H, W)
    input (padding counts as -inf); with ``return_indices`` also each maximum's flat position
    ``(d * H + h) * W + w`` in its input plane (PyTorch's indices, for ``max_unpool3d``)."""
    return _max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices, "max_pool3d")


def _with_indices(n):
    def fn(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
           return_indices=False):
        return _max_pool_nd(input, n, kernel_size, stride, padding, dilation, ceil_mode, True,
                            f"max_pool{n}d")
    fn.__name__ = fn.__qualname__ = f"max_pool{n}d_with_indices"
    fn.__doc__ = f"``max_pool{n}d(..., return_indices=True)``: the maxima and their indices."
    return fn


max_pool1d_with_indices, max_pool2d_with_indices, max_pool3d_with_indices = (
    _with_indices(1), _with_indices(2), _with_indices(3))


def _unpool(input, indices, n, kernel_size, stride, padding, output_size, name):
    k = _pool_args(kernel_size, n, "kernel_size", name)
    s = _pool_args(stride, n, "stride", name, default=k)
    p = _pool_args(padding, n, "padding", name)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}: expected shape of indices to be same as that of the input "
                           f"tensor ({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if indices.dtype != _x.int64:
        raise RuntimeError(f"{name}: elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{name}: input must be a {n + 1}D or {n + 2}D tensor, got shape "
                           f"{list(input.shape)}")
    default = [(input.shape[input.ndim - n + j] - 1) * s[j] + k[j] - 2 * p[j] for j in range(n)]
    if output_size is None:
        size = default
    else:
        size = [int(v) for v in output_size]
        if len(size) == n + 2:
            size = size[2:]
        if len(size) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(size)}'")
        for j in range(n):
            lo, hi = default[j] - s[j], default[j] + s[j]
            if not lo < size[j] < hi:
                raise ValueError(f'invalid output_size "{list(output_size)}" (dim {j} must be '
                                 f"between {lo} and {hi})")
    if builtins.any(v < 0 for v in size):
        raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                         f"dimensions, but got output_size {size}")
    lead = tuple(input.shape[:-n])
    plane = 1
    for v in size:
        plane *= v
    m = 1
    for v in input.shape[input.ndim - n:]:
        m *= v
    values = _x.reshape(input, lead + (m,))
    idx = _x.reshape(indices, lead + (m,))
    if not (m and plane) or 0 in lead:
        out = _x.zeros(lead + (plane,), dtype=input.dtype, device=input.device) + input.sum() * 0
        return _x.reshape(out, lead + tuple(size))
    # the source of each output position: the last of the positions that name it (a stable
    # sort by index; each run's last element writes), scattered into the plane as source + 1
    order = _x.argsort(idx, dim=-1, stable=True)
    ranked = _x.take_along_dim(idx, order, dim=-1)
    last = _x.cat([ranked[..., 1:] != ranked[..., :-1],
                   _x.ones(lead + (1,), dtype=_x.bool, device=input.device)], dim=-1)
    mark = _x.where(last, order + 1, _x.zeros((), dtype=order.dtype, device=input.device))
    zero = _x.zeros(lead + (plane,), dtype=order.dtype, device=input.device)
    src = _x.scatter_add(zero, -1, ranked, mark)
    hit = src > 0
    src = _x.where(hit, src - 1, src)
    return _x.reshape(_ops.max_unpool(values, idx, src, hit), lead + tuple(size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool1d(return_indices=True)``: ``input``'s values placed at
    ``indices`` in zeros of length ``(L - 1) * stride + kernel_size - 2 * padding``
    (or ``output_size``). Differentiable in ``input``."""
    return _unpool(input, indices, 1, kernel_size, stride, padding, output_size, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool2d(return_indices=True)``: ``input``'s values placed at the
    flat ``indices`` of each zero (H_out, W_out) plane (PyTorch's sizes, or ``output_size``)."""
    return _unpool(input, indices, 2, kernel_size, stride, padding, output_size, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool3d(return_indices=True)``: ``input``'s values placed at the
    flat ``indices`` of each zero (D_out, H_out, W_out) volume."""
    return _unpool(input, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")


def _inplace_version(fn):
    def inplace(input, *args, **kwargs):
        return input.copy_(fn(input, *args, **kwargs))
    inplace.__name__ = fn.__name__ + "_"
    inplace.__doc__ = f"``{fn.__name__}`` written into ``input``."
    return inplace


elu_, selu_, celu_ = _inplace_version(elu), _inplace_version(selu), _inplace_version(celu)
hardtanh_, leaky_relu_ = _inplace_version(hardtanh), _inplace_version(leaky_relu)
rrelu_, threshold_ = _inplace_version(rrelu), _inplace_version(threshold)

__all__ += ["rms_norm", "gumbel_softmax", "pdist", "triplet_margin_with_distance_loss",
            "multilabel_margin_loss", "scaled_dot_product_attention", "adaptive_avg_pool1d",
            "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d",
            "max_pool1d", "elu_", "selu_", "celu_", "hardtanh_", "leaky_relu_", "rrelu_",
            "threshold_", "max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
            "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices"]
