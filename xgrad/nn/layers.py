"""Layers: ``Linear``, ``Conv2d``, activations, normalisation, containers, losses."""

from __future__ import annotations

import math
from collections import OrderedDict

import xgrad as _x
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Identity", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Sequential", "ModuleList",
           "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "Softmax", "LogSoftmax", "Dropout",
           "LayerNorm", "BatchNorm1d", "BatchNorm2d", "Embedding", "Flatten", "MSELoss",
           "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]


def _empty(*shape, device=None, dtype=None):
    return _x.empty(shape, device=device, dtype=dtype)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class Identity(Module):
    """Returns its input."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x Wᵀ + b, W of shape (out_features, in_features); PyTorch's default
    initialisation (Kaiming uniform with a = √5, bias U(±1/√in_features))."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_empty(out_features, in_features, device=device, dtype=dtype))
        self.bias = Parameter(_empty(out_features, device=device, dtype=dtype)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution (cross-correlation) of (N, C, H, W) inputs; PyTorch's default
    initialisation."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise NotImplementedError("Conv2d supports padding_mode='zeros' only")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.dilation, self.groups = _pair(dilation), groups
        self.weight = Parameter(_empty(out_channels, in_channels // groups, *self.kernel_size,
                                       device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class _MaxPoolNd(Module):
    _pool = None  # the F function, set by each subclass

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return type(self)._pool(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Maximum over ``kernel_size`` windows of the last two axes (stride defaults to the
    kernel size); ``return_indices=True`` also returns the indices for ``MaxUnpool2d``."""
    _pool = staticmethod(F.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """Maximum over sliding windows of the last axis; ``return_indices=True`` also returns
    the indices for ``MaxUnpool1d``."""
    _pool = staticmethod(F.max_pool1d)


class MaxPool3d(_MaxPoolNd):
    """Maximum over sliding windows of the last three axes; ``return_indices=True`` also
    returns the indices for ``MaxUnpool3d``."""
    _pool = staticmethod(F.max_pool3d)


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Sequential(Module):
    """Modules applied in order; from positional modules or an OrderedDict."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, index):
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*mods[index])
        return mods[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of submodules (registered, so their parameters are found)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


def _activation(name, fn, doc):
    cls = type(name, (Module,), {
        "__doc__": doc,
        "__init__": lambda self, *a, **k: Module.__init__(self),
        "forward": lambda self, x: fn(x),
    })
    return cls


ReLU = _activation("ReLU", F.relu, "max(x, 0), elementwise.")
Tanh = _activation("Tanh", F.tanh, "tanh(x), elementwise.")
Sigmoid = _activation("Sigmoid", F.sigmoid, "1 / (1 + exp(-x)), elementwise.")
SiLU = _activation("SiLU", F.silu, "x * sigmoid(x), elementwise.")


class GELU(Module):
    """x Φ(x) (``approximate='tanh'`` for the tanh formula)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """softmax along ``dim`` (None: PyTorch's implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log_softmax along ``dim``."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Dropout(Module):
    """Zero elements with probability ``p`` in training mode; identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` axes, with learnt scale and shift."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_x.ones(self.normalized_shape, device=device, dtype=dtype))
            self.bias = Parameter(_x.zeros(self.normalized_shape, device=device, dtype=dtype)) \
                if bias else None
        if not elementwise_affine or not bias:
            self.register_parameter("bias", None)
        if not elementwise_affine:
            self.register_parameter("weight", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


def _init_affine(module, affine, n, device, dtype):
    """The learnt per-channel scale (weight, ones) and shift (bias, zeros) of a
    normalisation, or None for both when ``affine`` is False."""
    if affine:
        module.weight = Parameter(_x.ones(n, device=device, dtype=dtype))
        module.bias = Parameter(_x.zeros(n, device=device, dtype=dtype))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _init_norm(module, num_features, eps, momentum, affine, track_running_stats, device, dtype):
    """The parameters (weight 1, bias 0) and running statistics that batch and instance
    normalisation share."""
    module.num_features, module.eps, module.momentum = num_features, eps, momentum
    module.affine, module.track_running_stats = affine, track_running_stats
    _init_affine(module, affine, num_features, device, dtype)
    if track_running_stats:
        module.register_buffer("running_mean", _x.zeros(num_features, device=device, dtype=dtype))
        module.register_buffer("running_var", _x.ones(num_features, device=device, dtype=dtype))
    else:
        module.running_mean = module.running_var = None


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) inputs: batch statistics in training
    (running averages updated with ``momentum``), the running ones in eval mode."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        _init_norm(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)
        if track_running_stats:
            self.register_buffer("num_batches_tracked", _x.tensor(0, device=device))

    def _check_input(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input)")

    def forward(self, x):
        self._check_input(x)
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with _x.no_grad():
                self.num_batches_tracked.add_(1)
        return F.batch_norm(x, self.running_mean if self.track_running_stats else None,
                            self.running_var if self.track_running_stats else None,
                            self.weight, self.bias, use_batch, self.momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of (N, C, H, W) inputs."""

    def _check_input(self, x):
        if x.ndim != 4:
            raise ValueError(f"expected 4D input (got {x.ndim}D input)")


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (N(0, 1) init)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(_empty(num_embeddings, embedding_dim, device=device, dtype=dtype))
        init.normal_(self.weight)
        if padding_idx is not None:
            with _x.no_grad():
                self.weight[padding_idx] = 0.0

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"


class Flatten(Module):
    """Merge axes ``start_dim`` through ``end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return _x.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or probabilities."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under log-probabilities."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.ignore_index = ignore_index
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy computed stably from logits."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


# -- more activations, normalisations, distances and losses (thin wrappers over F) -------------------
def _configured(name, fn, params, doc):
    """A module class ``name`` whose ``__init__`` takes ``params`` (name -> default) in
    order and whose forward is ``fn(*inputs, **params)``."""
    names = list(params)

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        if len(args) > len(names):
            raise TypeError(f"{name} takes at most {len(names)} arguments")
        values = dict(params)
        values.update(zip(names, args))
        for k, v in kwargs.items():
            if k not in values:
                raise TypeError(f"{name} got an unexpected keyword argument {k!r}")
            values[k] = v
        for k, v in values.items():
            setattr(self, k, v)

    def forward(self, *inputs):
        return fn(*inputs, **{k: getattr(self, k) for k in names if k != "inplace"})

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in names if k != "inplace")

    return type(name, (Module,), {"__doc__": doc, "__init__": __init__, "forward": forward,
                                  "extra_repr": extra_repr})


ELU = _configured("ELU", F.elu, {"alpha": 1.0, "inplace": False}, "alpha (exp(x) - 1) below 0.")
SELU = _configured("SELU", F.selu, {"inplace": False}, "Scaled ELU (self-normalising).")
CELU = _configured("CELU", F.celu, {"alpha": 1.0, "inplace": False}, "Continuously differentiable ELU.")
Mish = _configured("Mish", F.mish, {"inplace": False}, "x tanh(softplus(x)).")
Softplus = _configured("Softplus", F.softplus, {"beta": 1.0, "threshold": 20.0},
                       "log(1 + exp(beta x)) / beta.")
Softsign = _configured("Softsign", F.softsign, {}, "x / (1 + |x|).")
Hardtanh = _configured("Hardtanh", F.hardtanh, {"min_val": -1.0, "max_val": 1.0, "inplace": False},
                       "x clamped to [min_val, max_val].")
ReLU6 = _configured("ReLU6", F.relu6, {"inplace": False}, "min(max(x, 0), 6).")
Hardsigmoid = _configured("Hardsigmoid", F.hardsigmoid, {"inplace": False}, "relu6(x + 3) / 6.")
Hardswish = _configured("Hardswish", F.hardswish, {"inplace": False}, "x relu6(x + 3) / 6.")
LeakyReLU = _configured("LeakyReLU", F.leaky_relu, {"negative_slope": 0.01, "inplace": False},
                        "x above 0, negative_slope x below.")
GLU = _configured("GLU", F.glu, {"dim": -1}, "a sigmoid(b) of the two halves along dim.")
LogSigmoid = _configured("LogSigmoid", F.logsigmoid, {}, "log(sigmoid(x)).")
Tanhshrink = _configured("Tanhshrink", F.tanhshrink, {}, "x - tanh(x).")
Softshrink = _configured("Softshrink", F.softshrink, {"lambd": 0.5}, "Soft thresholding.")
Hardshrink = _configured("Hardshrink", F.hardshrink, {"lambd": 0.5}, "Hard thresholding.")
Threshold = _configured("Threshold", F.threshold, {"threshold": 0.0, "value": 0.0, "inplace": False},
                        "x above threshold, value elsewhere.")
Softmin = _configured("Softmin", F.softmin, {"dim": None}, "softmax(-x) along dim.")
LocalResponseNorm = _configured("LocalResponseNorm", F.local_response_norm,
                                {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0},
                                "Normalisation over neighbouring channels.")
CosineSimilarity = _configured("CosineSimilarity", F.cosine_similarity, {"dim": 1, "eps": 1e-8},
                               "Cosine similarity along dim.")
PairwiseDistance = _configured("PairwiseDistance", F.pairwise_distance,
                               {"p": 2.0, "eps": 1e-6, "keepdim": False}, "||x1 - x2 + eps||_p.")
SmoothL1Loss = _configured("SmoothL1Loss", F.smooth_l1_loss, {"reduction": "mean", "beta": 1.0},
                           "Smooth L1 loss.")
HuberLoss = _configured("HuberLoss", F.huber_loss, {"reduction": "mean", "delta": 1.0}, "Huber loss.")
KLDivLoss = _configured("KLDivLoss", F.kl_div, {"reduction": "mean", "log_target": False},
                        "Kullback-Leibler divergence of log-probabilities.")
PoissonNLLLoss = _configured("PoissonNLLLoss", F.poisson_nll_loss,
                             {"log_input": True, "full": False, "eps": 1e-8, "reduction": "mean"},
                             "Poisson negative log-likelihood.")
GaussianNLLLoss = _configured("GaussianNLLLoss", F.gaussian_nll_loss,
                              {"full": False, "eps": 1e-6, "reduction": "mean"},
                              "Gaussian negative log-likelihood (input, target, var).")
CosineEmbeddingLoss = _configured("CosineEmbeddingLoss", F.cosine_embedding_loss,
                                  {"margin": 0.0, "reduction": "mean"}, "Cosine embedding loss.")
MarginRankingLoss = _configured("MarginRankingLoss", F.margin_ranking_loss,
                                {"margin": 0.0, "reduction": "mean"}, "Margin ranking loss.")
HingeEmbeddingLoss = _configured("HingeEmbeddingLoss", F.hinge_embedding_loss,
                                 {"margin": 1.0, "reduction": "mean"}, "Hinge embedding loss.")
SoftMarginLoss = _configured("SoftMarginLoss", F.soft_margin_loss, {"reduction": "mean"},
                             "log(1 + exp(-y x)).")
TripletMarginLoss = _configured("TripletMarginLoss", F.triplet_margin_loss,
                                {"margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": False,
                                 "reduction": "mean"}, "Triplet margin loss.")


class MultiLabelSoftMarginLoss(_Loss):
    """Per-class binary cross-entropy from logits, averaged over classes."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss."""

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.p, self.margin = p, margin
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class RReLU(Module):
    """Leaky relu with a random slope in [lower, upper] in training, the mean slope in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper = lower, upper

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, self.training)


class PReLU(Module):
    """Leaky relu with a learnt slope (one, or one per channel)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(_x.full((num_parameters,), init, device=device, dtype=dtype))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GroupNorm(Module):
    """Normalisation over groups of channels, with learnt per-channel scale and shift."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _init_affine(self, affine, num_channels, device, dtype)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__()
        _init_norm(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        unbatched = x.ndim == self._batched_ndim - 1
        if unbatched:
            x = _x.expand_dims(x, axis=0)
        use_stats = self.training or not self.track_running_stats
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_stats, self.momentum, self.eps)
        return _x.squeeze(out, axis=0) if unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) inputs."""
    _batched_ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) inputs."""
    _batched_ndim = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) inputs."""
    _batched_ndim = 5


class Bilinear(Module):
    """y = x1ᵀ W x2 + b, W of shape (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(_empty(out_features, in1_features, in2_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        return F.bilinear(x1, x2, self.weight, self.bias)


def _dropout_module(name, fn, doc):
    def forward(self, x):
        return fn(x, self.p, self.training)
    return type(name, (Dropout,), {"__doc__": doc, "forward": forward})


Dropout1d = _dropout_module("Dropout1d", F.dropout1d, "Zero whole channels of (N, C, L) input.")
Dropout2d = _dropout_module("Dropout2d", F.dropout2d, "Zero whole channels of (N, C, H, W) input.")
Dropout3d = _dropout_module("Dropout3d", F.dropout3d, "Zero whole channels of (N, C, D, H, W) input.")
AlphaDropout = _dropout_module("AlphaDropout", F.alpha_dropout, "Dropout that keeps SELU's statistics.")
FeatureAlphaDropout = _dropout_module("FeatureAlphaDropout", F.feature_alpha_dropout,
                                      "Alpha dropout of whole channels.")

__all__ += ["ELU", "SELU", "CELU", "Mish", "Softplus", "Softsign", "Hardtanh", "ReLU6",
            "Hardsigmoid", "Hardswish", "LeakyReLU", "GLU", "LogSigmoid", "Tanhshrink",
            "Softshrink", "Hardshrink", "Threshold", "Softmin", "LocalResponseNorm",
            "CosineSimilarity", "PairwiseDistance", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
            "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
            "HingeEmbeddingLoss", "SoftMarginLoss", "TripletMarginLoss", "MultiLabelSoftMarginLoss",
            "MultiMarginLoss", "RReLU", "PReLU", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
            "InstanceNorm3d", "Bilinear", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
            "FeatureAlphaDropout"]


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes, with a
    learnt scale."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_x.ones(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


AdaptiveAvgPool1d = _configured("AdaptiveAvgPool1d", F.adaptive_avg_pool1d, {"output_size": None},
                                "Mean over adaptive windows of the last axis.")
AdaptiveAvgPool2d = _configured("AdaptiveAvgPool2d", F.adaptive_avg_pool2d, {"output_size": None},
                                "Mean over adaptive windows of the last two axes.")
AdaptiveMaxPool1d = _configured("AdaptiveMaxPool1d", F.adaptive_max_pool1d,
                                {"output_size": None, "return_indices": False},
                                "Maximum over adaptive windows of the last axis.")
AdaptiveMaxPool2d = _configured("AdaptiveMaxPool2d", F.adaptive_max_pool2d,
                                {"output_size": None, "return_indices": False},
                                "Maximum over adaptive windows of the last two axes.")
AvgPool1d = _configured("AvgPool1d", F.avg_pool1d, {"kernel_size": None, "stride": None, "padding": 0},
                        "Mean over sliding windows of the last axis.")


def _unpool_module(name, fn, doc):
    n = int(name[-2])

    def tup(v):
        return (v,) * n if isinstance(v, int) else tuple(v)

    class MaxUnpool(Module):
        def __init__(self, kernel_size, stride=None, padding=0):
            super().__init__()
            self.kernel_size = tup(kernel_size)
            self.stride = tup(stride if stride is not None else kernel_size)
            self.padding = tup(padding)

        def forward(self, input, indices, output_size=None):
            return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

        def extra_repr(self):
            return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    MaxUnpool.__name__ = MaxUnpool.__qualname__ = name
    MaxUnpool.__doc__ = doc
    return MaxUnpool


MaxUnpool1d = _unpool_module("MaxUnpool1d", F.max_unpool1d,
                             "The inverse of MaxPool1d: values placed at their indices in zeros.")
MaxUnpool2d = _unpool_module("MaxUnpool2d", F.max_unpool2d,
                             "The inverse of MaxPool2d: values placed at their indices in zeros.")
MaxUnpool3d = _unpool_module("MaxUnpool3d", F.max_unpool3d,
                             "The inverse of MaxPool3d: values placed at their indices in zeros.")

__all__ += ["RMSNorm", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d", "MaxPool3d", "MaxUnpool1d",
            "MaxUnpool2d", "MaxUnpool3d"]
