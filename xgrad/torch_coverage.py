"""Which of PyTorch's functions xgrad has, and whether they differentiate as PyTorch's.

``python -m xgrad.torch_coverage docs/torch_coverage.md`` writes the table (no
argument: prints it). The list of functions is read from the installed PyTorch at
generation time: every public function of ``torch``, ``torch.Tensor``,
``torch.linalg``, ``torch.special`` and ``torch.nn.functional``. For each:

* **section**: the section of PyTorch's documentation it is listed under
  (``docs/source/torch.rst`` and ``nn.functional.rst``, embedded below as data);
  functions PyTorch exports without documenting them are "undocumented";
* **xgrad**: whether ``xgrad`` (or ``xgrad.Tensor``, ``xgrad.linalg``,
  ``xgrad.special``, ``xgrad.nn.functional``) has it;
* **gradient**: checked by running it. The same call (a generic sample: one or two
  small float64 tensors, maybe a dim, tried in turn until PyTorch accepts one; or a
  sample of :data:`SAMPLES`) runs in PyTorch and in xgrad, and the gradients of a
  random projection of the first floating output are compared. ``✓`` means xgrad's
  gradient equals PyTorch's; ``✗`` that it differs or is missing where PyTorch has
  one; ``–`` that PyTorch's result has no gradient either (integer, boolean or
  constant results); ``values differ``/``fails`` that the forward already disagrees;
  blank where no sample ran;
* **notes**: the deliberate differences (:data:`NOTES`).

The module also gives :func:`section_coverage` (used by the tests: the share of the
functions of the sections issue 12 asks for that xgrad has).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import warnings

__all__ = ["TORCH_SECTIONS", "F_SECTIONS", "PART3_SECTIONS", "COMMON_F", "NOTES", "SAMPLES",
           "rows", "section_coverage", "table", "main"]

# -- PyTorch's documentation sections (docs/source/torch.rst, PyTorch 2.x) ---------------------
TORCH_SECTIONS = {
    "Tensors": """is_tensor is_storage is_complex is_conj is_floating_point is_nonzero
        set_default_dtype get_default_dtype set_default_device get_default_device
        set_default_tensor_type numel set_printoptions set_flush_denormal""",
    "Creation Ops": """tensor sparse_coo_tensor sparse_csr_tensor sparse_csc_tensor sparse_bsr_tensor
        sparse_bsc_tensor asarray as_tensor as_strided from_file from_numpy from_dlpack frombuffer
        zeros zeros_like ones ones_like arange range linspace logspace eye empty empty_like
        empty_strided full full_like quantize_per_tensor quantize_per_channel dequantize complex
        polar heaviside""",
    "Indexing, Slicing, Joining, Mutating Ops": """adjoint argwhere cat concat concatenate conj chunk
        dsplit column_stack dstack gather hsplit hstack index_add index_copy index_reduce
        index_select masked_select movedim moveaxis narrow narrow_copy nonzero permute reshape
        row_stack select scatter diagonal_scatter select_scatter slice_scatter scatter_add
        scatter_reduce segment_reduce split squeeze stack swapaxes swapdims t take take_along_dim
        tensor_split tile transpose unbind unravel_index unsqueeze vsplit vstack where""",
    "Random sampling": """seed manual_seed initial_seed get_rng_state set_rng_state bernoulli
        multinomial normal poisson rand rand_like randint randint_like randn randn_like randperm""",
    "Serialization": "save load",
    "Parallelism": "get_num_threads set_num_threads get_num_interop_threads set_num_interop_threads",
    "Locally disabling gradient computation": """no_grad enable_grad set_grad_enabled
        is_grad_enabled inference_mode is_inference_mode_enabled""",
    "Pointwise Ops": """abs absolute acos arccos acosh arccosh add addcdiv addcmul angle asin arcsin
        asinh arcsinh atan arctan atanh arctanh atan2 arctan2 bitwise_not bitwise_and bitwise_or
        bitwise_xor bitwise_left_shift bitwise_right_shift ceil clamp clip conj_physical copysign
        cos cosh deg2rad div divide digamma erf erfc erfinv exp exp2 expm1
        fake_quantize_per_channel_affine fake_quantize_per_tensor_affine fix float_power floor
        floor_divide fmod frac frexp gradient imag ldexp lerp lgamma log log10 log1p log2
        logaddexp logaddexp2 logical_and logical_not logical_or logical_xor logit hypot i0 igamma
        igammac mul multiply mvlgamma nan_to_num neg negative nextafter polygamma positive pow
        quantized_batch_norm quantized_max_pool1d quantized_max_pool2d rad2deg real reciprocal
        remainder round rsqrt sigmoid sign sgn signbit sin sinc sinh softmax sqrt square sub
        subtract tan tanh true_divide trunc xlogy""",
    "Reduction Ops": """argmax argmin amax amin aminmax all any max min dist logsumexp mean nanmean
        median nanmedian mode norm nansum prod quantile nanquantile std std_mean sum unique
        unique_consecutive var var_mean count_nonzero hash_tensor""",
    "Comparison Ops": """allclose argsort eq equal ge greater_equal gt greater isclose isfinite isin
        isinf isposinf isneginf isnan isreal kthvalue le less_equal lt less maximum minimum fmax
        fmin ne not_equal sort topk msort""",
    "Spectral Ops": """stft istft bartlett_window blackman_window hamming_window hann_window
        kaiser_window""",
    "Other Operations": """atleast_1d atleast_2d atleast_3d bincount block_diag broadcast_tensors
        broadcast_to broadcast_shapes bucketize cartesian_prod cdist clone combinations corrcoef
        cov cross cummax cummin cumprod cumsum diag diag_embed diagflat diagonal diff einsum
        flatten flip fliplr flipud kron rot90 gcd histc histogram histogramdd meshgrid lcm
        logcumsumexp ravel renorm repeat_interleave roll searchsorted tensordot trace tril
        tril_indices triu triu_indices unflatten vander view_as_real view_as_complex resolve_conj
        resolve_neg""",
    "BLAS and LAPACK Operations": """addbmm addmm addmv addr baddbmm bmm chain_matmul cholesky
        cholesky_inverse cholesky_solve dot geqrf ger inner inverse det logdet slogdet lu lu_solve
        lu_unpack matmul matrix_power matrix_exp mm mv orgqr ormqr outer pinverse qr svd
        svd_lowrank pca_lowrank lobpcg trapz trapezoid cumulative_trapezoid triangular_solve vdot""",
    "Utilities": """compiled_with_cxx11_abi result_type can_cast promote_types
        use_deterministic_algorithms are_deterministic_algorithms_enabled
        is_deterministic_algorithms_warn_only_enabled set_deterministic_debug_mode
        get_deterministic_debug_mode set_float32_matmul_precision get_float32_matmul_precision
        set_warn_always get_device_module is_warn_always_enabled vmap""",
    "Optimizations, export, control flow": "compile export cond",
}
# nn.functional.rst
F_SECTIONS = {
    "Convolution functions": """conv1d conv2d conv3d conv_transpose1d conv_transpose2d
        conv_transpose3d unfold fold""",
    "Pooling functions": """avg_pool1d avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d
        max_unpool1d max_unpool2d max_unpool3d lp_pool1d lp_pool2d lp_pool3d adaptive_max_pool1d
        adaptive_max_pool2d adaptive_max_pool3d adaptive_avg_pool1d adaptive_avg_pool2d
        adaptive_avg_pool3d fractional_max_pool2d fractional_max_pool3d""",
    "Attention": "scaled_dot_product_attention",
    "Non-linear activation functions": """threshold threshold_ relu relu_ hardtanh hardtanh_
        hardswish relu6 elu elu_ selu celu leaky_relu leaky_relu_ prelu rrelu rrelu_ glu gelu
        logsigmoid hardshrink tanhshrink softsign softplus softmin softmax softshrink
        gumbel_softmax log_softmax tanh sigmoid hardsigmoid silu mish batch_norm group_norm
        instance_norm layer_norm local_response_norm rms_norm normalize""",
    "Linear functions": "linear bilinear",
    "Dropout functions": """dropout alpha_dropout feature_alpha_dropout dropout1d dropout2d
        dropout3d""",
    "Sparse functions": "embedding embedding_bag one_hot",
    "Distance functions": "pairwise_distance cosine_similarity pdist",
    "Loss functions": """binary_cross_entropy binary_cross_entropy_with_logits poisson_nll_loss
        cosine_embedding_loss cross_entropy ctc_loss gaussian_nll_loss hinge_embedding_loss kl_div
        l1_loss mse_loss margin_ranking_loss multilabel_margin_loss multilabel_soft_margin_loss
        multi_margin_loss nll_loss huber_loss smooth_l1_loss soft_margin_loss triplet_margin_loss
        triplet_margin_with_distance_loss""",
    "Vision functions": """pixel_shuffle pixel_unshuffle pad interpolate upsample upsample_nearest
        upsample_bilinear grid_sample affine_grid""",
}
TORCH_SECTIONS = {k: tuple(v.split()) for k, v in TORCH_SECTIONS.items()}
F_SECTIONS = {k: tuple(v.split()) for k, v in F_SECTIONS.items()}

# the sections issue 12 (part 3) asks for
PART3_SECTIONS = ("Indexing, Slicing, Joining, Mutating Ops", "Pointwise Ops", "Reduction Ops",
                  "Comparison Ops", "Other Operations", "BLAS and LAPACK Operations")
# the common activations, normalizations and losses of nn.functional (in-place variants and the
# sequence loss ctc_loss aside)
COMMON_F = tuple(n for n in F_SECTIONS["Non-linear activation functions"] +
                 F_SECTIONS["Loss functions"] if not n.endswith("_") and n != "ctc_loss")

# PyTorch functions that are internal quantization/sparse/backend features (no array API
# equivalent); they are listed but not expected
OUT_OF_SCOPE = {
    "fake_quantize_per_channel_affine": "quantization", "fake_quantize_per_tensor_affine":
    "quantization", "quantized_batch_norm": "quantization", "quantized_max_pool1d":
    "quantization", "quantized_max_pool2d": "quantization", "segment_reduce": "sparse/segments",
    "hash_tensor": "hashing",
}

# the deliberate differences (name -> note); "Tensor.x" for methods
NOTES = {
    "scatter": "a position written twice gets the mean of its sources (PyTorch: unspecified which wins)",
    "index_copy": "a position given twice gets the mean of its sources (PyTorch: unspecified)",
    "index_put": "without accumulate, a repeated index gets the mean (PyTorch: unspecified)",
    "scatter_reduce": "prod/amax/amin compare each index with each position (memory: index size x dim size)",
    "view_as_real": "a copy, not a view (xgrad has no strides)",
    "view_as_complex": "a copy, not a view (xgrad has no strides)",
    "resolve_conj": "identity: xgrad has no conjugate bit",
    "resolve_neg": "identity: xgrad has no negative bit",
    "einsum": "pairs contracted left to right with matmul (no path optimisation)",
    "matrix_exp": "degree-18 Taylor with scaling and squaring; the squaring count reads the norm (one sync)",
    "lstsq": "pinv(A) @ B; residuals, rank and singular values empty (as PyTorch's default CPU driver)",
    "histogram": "bins as an int or a tensor of edges; no gradient",
    "masked_scatter": "the number of true mask elements is read (one sync)",
    "svd": "PyTorch's deprecated (U, S, V) form; compute_uv=False gives zero U, V",
    "inv_ex": "info is always 0 (failures raise)", "solve_ex": "info is always 0 (failures raise)",
    "cholesky_ex": "info is always 0 (failures raise)",
    "gcd": "Euclid's steps in elementwise ops (a fixed count for the dtype)",
    "unfold": "a copy, not a view", "Tensor.unfold": "a copy, not a view (xgrad has no strides)",
    "lu": "partial pivoting composed of elimination steps (differentiable; O(n) ops per column)",
    "lu_factor": "partial pivoting composed of elimination steps (differentiable)",
    "svd_lowrank": "exact (truncated full SVD), not randomized",
    "pca_lowrank": "exact (truncated full SVD), not randomized",
    "geqrf": "Householder steps composed of differentiable ops (PyTorch: no gradient)",
    "eig": "the backend's (a Backend.linalg_eig hook: NumPy's on cpu); strict, CuPy and Dask "
           "raise NotImplementedError naming the device",
    "eigvals": "eig's eigenvalues (the backend's eig; strict, CuPy and Dask raise)",
    "ldl_factor": "LAPACK's sytrf/hetrf step by step (Bunch-Kaufman; a host read per column); "
                  "no gradient (PyTorch: requires_grad but no derivative)",
    "ldl_factor_ex": "as ldl_factor; check_errors raises RuntimeError",
    "ldl_solve": "LAPACK's sytrs/hetrs step by step (pivots read on the host); no gradient, as "
                 "PyTorch's",
    "lobpcg": "not implemented: PyTorch's result depends on its random start (torch.randn) and, "
              "with X given, on each iteration's rounding (matched only to tol, not exactly)",
    "stft": "composed of slices, reshapes and the fft face (every device, differentiable)",
    "istft": "composed; the NOLA check reads the window envelope's minimum (one sync)",
}


# -- samples -----------------------------------------------------------------------------------
def _samples():
    """name -> fn(T, tensors...) for functions the generic samples do not fit; the
    tensors are the float inputs (made by :func:`_inputs`)."""
    def idx(T, x, v):
        return T.tensor(v, device=x.device) if T.__name__ != "torch" else T.tensor(v)

    return {
        "gather": lambda T, x: T.gather(x, 1, idx(T, x, [[0, 2], [1, 1], [2, 0]])),
        "scatter": lambda T, x: T.scatter(x, 1, idx(T, x, [[0, 2], [1, 0], [2, 1]]), x[:, :2] * 2),
        "scatter_add": lambda T, x: T.scatter_add(x, 1, idx(T, x, [[0, 0], [1, 1], [2, 2]]), x[:, :2]),
        "scatter_reduce": lambda T, x: T.scatter_reduce(x, 1, idx(T, x, [[0, 0], [1, 1], [2, 2]]),
                                                        x[:, :2], "amax"),
        "index_select": lambda T, x: T.index_select(x, 0, idx(T, x, [2, 0])),
        "index_add": lambda T, x: T.index_add(x, 0, idx(T, x, [2, 0]), x[:2] * 3),
        "index_copy": lambda T, x: T.index_copy(x, 0, idx(T, x, [2, 0]), x[:2] * 3),
        "index_fill": lambda T, x: T.index_fill(x, 0, idx(T, x, [2]), 0.5),
        "index_reduce": lambda T, x: T.index_reduce(x, 0, idx(T, x, [2, 0]), x[:2] * 3, "prod"),
        "masked_fill": lambda T, x: T.masked_fill(x, x > 0.5, 0.0),
        "masked_select": lambda T, x: T.masked_select(x, x > 0.5),
        "masked_scatter": lambda T, x: x.masked_scatter(x > 0.5, x * 2),
        "take": lambda T, x: T.take(x, idx(T, x, [0, 4, 8])),
        "take_along_dim": lambda T, x: T.take_along_dim(x, idx(T, x, [[0], [2], [1]]), 1),
        "narrow": lambda T, x: T.narrow(x, 1, 1, 2),
        "select": lambda T, x: T.select(x, 0, 1),
        "split": lambda T, x: T.split(x, 2)[0],
        "chunk": lambda T, x: T.chunk(x, 2)[1],
        "tensor_split": lambda T, x: T.tensor_split(x, 2)[0],
        "movedim": lambda T, x: T.movedim(x, 0, 1),
        "moveaxis": lambda T, x: T.moveaxis(x, 0, 1),
        "transpose": lambda T, x: T.transpose(x, 0, 1),
        "swapaxes": lambda T, x: T.swapaxes(x, 0, 1),
        "swapdims": lambda T, x: T.swapdims(x, 0, 1),
        "permute": lambda T, x: T.permute(x, (1, 0)),
        "reshape": lambda T, x: T.reshape(x, (9,)),
        "unflatten": lambda T, x: T.unflatten(x, 1, (3, 1)),
        "tile": lambda T, x: T.tile(x, (2,)),
        "einsum": lambda T, x: T.einsum("ij,jk->ik", x, x),
        "cdist": lambda T, x: T.cdist(x, x * 2),
        "cross": lambda T, x: T.cross(x, x * x, dim=1),
        "kron": lambda T, x: T.kron(x, x),
        "rot90": lambda T, x: T.rot90(x),
        "roll": lambda T, x: T.roll(x, 1, 0),
        "repeat_interleave": lambda T, x: T.repeat_interleave(x, 2, dim=0),
        "diag_embed": lambda T, x: T.diag_embed(x),
        "addmm": lambda T, x: T.addmm(x, x, x),
        "addmv": lambda T, x: T.addmv(x[0], x, x[1]),
        "addr": lambda T, x: T.addr(x, x[0], x[1]),
        "addbmm": lambda T, x: T.addbmm(x, x[None], x[None]),
        "baddbmm": lambda T, x: T.baddbmm(x[None], x[None], x[None]),
        "bmm": lambda T, x: T.bmm(x[None], x[None]),
        "mv": lambda T, x: T.mv(x, x[0]),
        "dot": lambda T, x: T.dot(x[0], x[1]),
        "vdot": lambda T, x: T.vdot(x[0], x[1]),
        "outer": lambda T, x: T.outer(x[0], x[1]),
        "ger": lambda T, x: T.ger(x[0], x[1]),
        "trapezoid": lambda T, x: T.trapezoid(x),
        "trapz": lambda T, x: T.trapz(x),
        "cumulative_trapezoid": lambda T, x: T.cumulative_trapezoid(x),
        "cholesky_solve": lambda T, x: T.cholesky_solve(x, T.linalg.cholesky(x)),
        "cholesky_inverse": lambda T, x: T.cholesky_inverse(T.linalg.cholesky(x)),
        "triangular_solve": lambda T, x: T.triangular_solve(x, x)[0],
        "renorm": lambda T, x: T.renorm(x, 2, 0, 0.5),
        "lerp": lambda T, x: T.lerp(x, x * 2, 0.3),
        "addcmul": lambda T, x: T.addcmul(x, x, x),
        "addcdiv": lambda T, x: T.addcdiv(x, x, x),
        "clamp": lambda T, x: T.clamp(x, 0.3, 0.8),
        "clip": lambda T, x: T.clip(x, 0.3, 0.8),
        "diff": lambda T, x: T.diff(x),
        "tensordot": lambda T, x: T.tensordot(x, x, dims=1),
        "stack": lambda T, x: T.stack([x, x], 1),
        "cat": lambda T, x: T.cat([x, x], 1),
        "concat": lambda T, x: T.concat([x, x], 1),
        "concatenate": lambda T, x: T.concatenate([x, x], 1),
        "where": lambda T, x: T.where(x > 0.5, x, x * 2),
        "block_diag": lambda T, x: T.block_diag(x, x[0]),
        "cartesian_prod": lambda T, x: T.cartesian_prod(x[0], x[1]),
        "combinations": lambda T, x: T.combinations(x[0]),
        "meshgrid": lambda T, x: T.meshgrid(x[0], x[1], indexing="ij")[0],
        "broadcast_tensors": lambda T, x: T.broadcast_tensors(x, x[0])[1],
        "broadcast_to": lambda T, x: T.broadcast_to(x, (2, 3, 3)),
        "polar": lambda T, x: T.polar(x, x).real,
        "complex": lambda T, x: T.complex(x, x).real,
        "matrix_power": lambda T, x: T.matrix_power(x, 3),
        "hstack": lambda T, x: T.hstack([x, x[:, :1]]),
        "vstack": lambda T, x: T.vstack([x, x[0]]),
        "row_stack": lambda T, x: T.row_stack([x, x[0]]),
        "dstack": lambda T, x: T.dstack([x, x * 2]),
        "column_stack": lambda T, x: T.column_stack([x, x[0]]),
        "diagonal_scatter": lambda T, x: T.diagonal_scatter(x, x[0] * 2),
        "select_scatter": lambda T, x: T.select_scatter(x, x[0] * 2, 0, 1),
        "slice_scatter": lambda T, x: T.slice_scatter(x, x[:1] * 2, 0, 1, 2),
        "narrow_copy": lambda T, x: T.narrow_copy(x, 0, 1, 2),
        "view_as_complex": lambda T, x: T.view_as_complex(x[:, :2]).imag,
        "view_as_real": lambda T, x: T.view_as_real(T.view_as_complex(x[:, :2]) * (1 + 2j)),
        "flip": lambda T, x: T.flip(x, (0,)),
        "real": lambda T, x: T.real(x * (1 + 2j)),
        "imag": lambda T, x: T.imag(x * (1 + 2j)),
        "multi_dot": lambda T, x: T.linalg.multi_dot([x, x, x]),
        "eig": lambda T, x: T.linalg.eig(x)[0].real,
        "eigvals": lambda T, x: T.linalg.eigvals(x).real,
        "stft": lambda T, x: T.stft(x.reshape(-1), 4, return_complex=True).abs(),
        "istft": lambda T, x: T.istft(T.stft(x.reshape(-1), 4, return_complex=True), 4),
        "solve_triangular": lambda T, x: T.linalg.solve_triangular(x, x, upper=True),
        "tensorsolve": lambda T, x: T.linalg.tensorsolve(x, x[0]),
        "polygamma": lambda T, x: T.polygamma(1, x),
        "renorm": lambda T, x: T.renorm(x, 2, 0, 0.5),
        "put": lambda T, x: T.put(x, idx(T, x, [0, 4]), x[0, :2]),
        "index_put": lambda T, x: T.index_put(x, (idx(T, x, [0, 2]),), x[:2] * 2),
        "cross_entropy": lambda T, x: T.nn.functional.cross_entropy(x, idx(T, x, [0, 2, 1])),
        "nll_loss": lambda T, x: T.nn.functional.nll_loss(x, idx(T, x, [0, 2, 1])),
        "multi_margin_loss": lambda T, x: T.nn.functional.multi_margin_loss(x, idx(T, x, [0, 2, 1])),
        "multilabel_margin_loss": lambda T, x: T.nn.functional.multilabel_margin_loss(
            x, idx(T, x, [[0, 2, -1], [1, -1, 0], [2, 1, 0]])),
        "embedding": lambda T, x: T.nn.functional.embedding(idx(T, x, [2, 0]), x),
        "linear": lambda T, x: T.nn.functional.linear(x, x, x[0]),
        "bilinear": lambda T, x: T.nn.functional.bilinear(x, x, x[None]),
        "prelu": lambda T, x: T.nn.functional.prelu(x, x[0, :1]),
        "batch_norm": lambda T, x: T.nn.functional.batch_norm(x, None, None, training=True),
        "group_norm": lambda T, x: T.nn.functional.group_norm(x[None], 3),
        "instance_norm": lambda T, x: T.nn.functional.instance_norm(x[None]),
        "layer_norm": lambda T, x: T.nn.functional.layer_norm(x, (3,)),
        "rms_norm": lambda T, x: T.nn.functional.rms_norm(x, (3,)),
        "local_response_norm": lambda T, x: T.nn.functional.local_response_norm(x[None], 2),
        "glu": lambda T, x: T.nn.functional.glu(T.cat([x, x * 2], 1)),
        "cosine_embedding_loss": lambda T, x: T.nn.functional.cosine_embedding_loss(
            x, x * x, T.ones(3, dtype=x.dtype) if T.__name__ == "torch" else
            T.ones(3, dtype=x.dtype, device=x.device)),
        "margin_ranking_loss": lambda T, x: T.nn.functional.margin_ranking_loss(x, x * x, x - 0.5),
        "triplet_margin_loss": lambda T, x: T.nn.functional.triplet_margin_loss(x, x * x, x * 3),
        "triplet_margin_with_distance_loss": lambda T, x:
            T.nn.functional.triplet_margin_with_distance_loss(x, x * x, x * 3),
        "gaussian_nll_loss": lambda T, x: T.nn.functional.gaussian_nll_loss(x, x * x, x + 1),
        "poisson_nll_loss": lambda T, x: T.nn.functional.poisson_nll_loss(x, x * x),
        "kl_div": lambda T, x: T.nn.functional.kl_div(T.log(x), x * x, reduction="batchmean"),
        "hinge_embedding_loss": lambda T, x: T.nn.functional.hinge_embedding_loss(x, T.sign(x - 0.5)),
        "soft_margin_loss": lambda T, x: T.nn.functional.soft_margin_loss(x, T.sign(x - 0.5)),
        "multilabel_soft_margin_loss": lambda T, x:
            T.nn.functional.multilabel_soft_margin_loss(x, (x > 0.5) * 1.0),
        "conv1d": lambda T, x: T.nn.functional.conv1d(x[None], x[:, :, None].repeat(1, 1, 2)),
        "conv2d": lambda T, x: T.nn.functional.conv2d(x[None, None], x[None, None, :2, :2]),
        "max_pool1d": lambda T, x: T.nn.functional.max_pool1d(x[None], 2),
        "max_pool2d": lambda T, x: T.nn.functional.max_pool2d(x[None, None], 2, 1),
        "max_pool3d": lambda T, x: T.nn.functional.max_pool3d(x[None, None, None], (1, 2, 2), 1),
        "max_unpool1d": lambda T, x: T.nn.functional.max_unpool1d(
            *T.nn.functional.max_pool1d(x[None], 2, return_indices=True), 2),
        "max_unpool2d": lambda T, x: T.nn.functional.max_unpool2d(
            *T.nn.functional.max_pool2d(x[None, None], 2, 1, return_indices=True), 2, 1),
        "max_unpool3d": lambda T, x: T.nn.functional.max_unpool3d(
            *T.nn.functional.max_pool3d(x[None, None, None], (1, 2, 2), 1, return_indices=True),
            (1, 2, 2), 1),
        "avg_pool1d": lambda T, x: T.nn.functional.avg_pool1d(x[None], 2),
        "avg_pool2d": lambda T, x: T.nn.functional.avg_pool2d(x[None, None], 2, 1),
        "pad": lambda T, x: T.nn.functional.pad(x, (1, 2)),
        "one_hot": lambda T, x: T.nn.functional.one_hot(idx(T, x, [0, 2]), 3),
        "normalize": lambda T, x: T.nn.functional.normalize(x),
        "softmax": lambda T, x: T.nn.functional.softmax(x, 1),
        "log_softmax": lambda T, x: T.nn.functional.log_softmax(x, 1),
        "softmin": lambda T, x: T.nn.functional.softmin(x, 1),
        "pairwise_distance": lambda T, x: T.nn.functional.pairwise_distance(x, x * x),
        "cosine_similarity": lambda T, x: T.nn.functional.cosine_similarity(x, x * x),
        "pdist": lambda T, x: T.nn.functional.pdist(x),
        "scaled_dot_product_attention": lambda T, x:
            T.nn.functional.scaled_dot_product_attention(x[None], x[None], x[None]),
    }


SAMPLES = _samples()
# random functions: only whether the output carries a gradient is checked
_RANDOM = ("dropout", "rrelu", "gumbel", "bernoulli", "multinomial", "normal", "poisson", "rand",
           "lowrank", "lobpcg")
# never called while probing (state, I/O, process-wide settings, slow or non-numeric)
_NO_PROBE_SECTIONS = ("Tensors", "Creation Ops", "Random sampling", "Serialization", "Parallelism",
                      "Locally disabling gradient computation", "Utilities",
                      "Optimizations, export, control flow", "undocumented")
_PROBE_METHODS_SKIP = {"backward", "register_hook", "retain_grad", "requires_grad_", "detach_",
                       "share_memory_", "numpy", "tolist", "item", "to", "cuda", "cpu", "type",
                       "pin_memory", "storage", "untyped_storage", "data_ptr", "set_", "resize_",
                       "resize_as_", "record_stream", "apply_", "map_", "map2_", "new_tensor",
                       "new_empty", "new_zeros", "new_ones", "new_full", "element_size",
                       "storage_offset", "stride", "dim", "size", "numel", "nelement"}


def _public(mod, *, tensor=False):
    names = []
    for n in dir(mod):
        if n.startswith("_"):
            continue
        try:
            o = getattr(mod, n)
        except Exception:  # noqa: BLE001 (properties of the class)
            continue
        if inspect.ismodule(o) or (inspect.isclass(o) and not tensor):
            continue
        if tensor or callable(o):
            mod_name = getattr(o, "__module__", None) or ""
            if not tensor and mod_name and not mod_name.startswith("torch") and \
                    mod_name not in ("builtins",):
                continue  # typing.Optional and other re-exported helpers
            names.append(n)
    return names


_F_HELPERS = {"handle_torch_function", "has_torch_function", "has_torch_function_unary",
              "has_torch_function_variadic", "boolean_dispatch", "assert_int_or_pair", "Optional",
              "grouped_mm", "scaled_mm", "scaled_grouped_mm", "linear_cross_entropy",
              "native_channel_shuffle", "channel_shuffle", "multi_head_attention_forward",
              "conv_tbc"}


def _section_of(name, sections):
    for sec, names in sections.items():
        if name in names:
            return sec
    return "undocumented"


# -- probing ----------------------------------------------------------------------------------
def _inputs(T, arrays):
    if T.__name__ == "torch":
        return [T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays]
    return [T.asarray(a, dtype=T.float64, requires_grad=True) for a in arrays]


def _arrays():
    import numpy as np
    rng = np.random.default_rng(3)
    m = rng.uniform(0.2, 0.9, (3, 3))
    spd = m @ m.T / 3 + 0.5 * np.eye(3)
    return {"M": spd, "M2": rng.uniform(0.2, 0.9, (3, 3)), "M3": rng.uniform(0.2, 0.9, (3, 3)),
            "V": rng.uniform(0.2, 0.9, (3,)), "V2": rng.uniform(0.2, 0.9, (3,)),
            "B": rng.uniform(0.2, 0.9, (1, 2, 4, 4)), "W": rng.uniform(0.2, 0.9, (2, 2, 2, 2))}


_PATTERNS = (("M",), ("M", 1), ("M", "M2"), ("V",), ("V", "V2"), ("M", "M2", "M3"), ("M", 0),
             ("B",), ("B", "W"), ("B", 2))


def _first_float(out):
    if isinstance(out, (tuple, list)):
        for o in out:
            f = _first_float(o)
            if f is not None:
                return f
        return None
    dt = getattr(out, "dtype", None)
    if dt is None or not hasattr(out, "shape"):
        return None
    if str(dt).split(".")[-1] in ("float32", "float64"):
        return out
    return None


class _MethodShim:
    """Module ``T`` where ``T.<name>(x, ...)`` calls the method ``x.<name>(...)`` (to run a
    function's sample as a method call)."""

    def __init__(self, T, name):
        self._T, self._name = T, name
        self.__name__ = T.__name__

    def __getattr__(self, attr):
        if attr == self._name:
            return lambda x, *args, **kwargs: getattr(x, attr)(*args, **kwargs)
        return getattr(self._T, attr)


def _call(T, target, name, pattern, arrays, method):
    """Run ``name`` with ``pattern`` in module T; returns (inputs, output) or raises."""
    if pattern == "sample":
        tensors = _inputs(T, [arrays["M"]])
        fn = SAMPLES[name]
        return tensors, fn(_MethodShim(T, name) if method else T, *tensors)
    tensors = _inputs(T, [arrays[p] for p in pattern if isinstance(p, str)])
    it = iter(tensors)
    args = [next(it) if isinstance(p, str) else p for p in pattern]
    if method:
        return tensors, getattr(args[0], name)(*args[1:])
    return tensors, target(*args)


def _grads(T, tensors, out, weights):
    if T.__name__ == "torch":
        import torch
        if not out.requires_grad:
            return None
        w = torch.tensor(weights)
        gs = torch.autograd.grad((out * w).sum(), tensors, allow_unused=True)
        return [None if g is None else g.detach().numpy() for g in gs]
    import xgrad
    if not out.requires_grad:
        return None
    w = xgrad.asarray(weights, device=out.device)
    gs = xgrad.autograd.grad((out * w).sum(), tensors, allow_unused=True)
    return [None if g is None else xgrad.testing.to_numpy(g) for g in gs]


def _probe(name, torch_fn, xgrad_fn, *, method=False, module="torch"):
    """The gradient column for one function: run PyTorch and xgrad on the same sample."""
    import numpy as np
    import torch
    import xgrad
    if any(r in name for r in _RANDOM):
        return ""
    arrays = _arrays()
    torch_mod, xgrad_mod = torch, xgrad
    patterns = (("sample",) if name in SAMPLES else ()) + _PATTERNS
    for pattern in patterns:
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                tt, tout = _call(torch_mod, torch_fn, name, pattern, arrays, method)
        except Exception:  # noqa: BLE001 (this sample does not fit: try the next)
            continue
        tf = _first_float(tout)
        if tf is None:
            tgrads, tf_ok = None, False
        else:
            tf_ok = True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                xt, xout = _call(xgrad_mod, xgrad_fn, name, pattern, arrays, method)
        except Exception as exc:  # noqa: BLE001
            return f"fails: {type(exc).__name__}"
        if not tf_ok:
            return "–"
        xf = _first_float(xout)
        if xf is None or tuple(xf.shape) != tuple(tf.shape):
            return "values differ"
        tv = tf.detach().numpy()
        xv = xgrad.testing.to_numpy(xf.detach())
        if not np.allclose(xv, tv, rtol=1e-6, atol=1e-8, equal_nan=True):
            return "values differ"
        weights = np.random.default_rng(0).standard_normal(tuple(tf.shape))
        try:
            tgrads = _grads(torch_mod, tt, tf, weights)
        except Exception:  # noqa: BLE001
            tgrads = None
        if tgrads is None or all(g is None for g in tgrads):
            return "–"
        try:
            xgrads = _grads(xgrad_mod, xt, xf, weights)
        except Exception as exc:  # noqa: BLE001
            return f"✗ ({type(exc).__name__})"
        if xgrads is None:
            if all(g is None or not np.any(g) for g in tgrads):
                return "✗ (PyTorch: zeros; xgrad: none)"
            return "✗ (no gradient)"
        for a, b in zip(xgrads, tgrads):
            if b is None or (a is None and not np.any(b)):  # (no gradient = a zero one)
                continue
            if a is None or not np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True):
                return "✗ (gradient differs)"
        return "✓"
    return ""


# -- the table ---------------------------------------------------------------------------------
def _xgrad_targets():
    import xgrad
    import xgrad.linalg
    import xgrad.nn.functional
    try:
        import xgrad.special as special
    except ImportError:
        special = None
    return {"torch": xgrad, "Tensor": xgrad.Tensor, "linalg": xgrad.linalg, "special": special,
            "nn.functional": xgrad.nn.functional}


def rows(probe: bool = True):
    """One dict per PyTorch function: namespace, name, section, has, gradient, note."""
    import torch
    import torch.nn.functional as F
    targets = _xgrad_targets()
    out = []
    torch_names = _public(torch)
    for name in torch_names:
        sec = _section_of(name, TORCH_SECTIONS)
        mine = getattr(targets["torch"], name, None)
        grad = ""
        if probe and mine is not None and sec not in _NO_PROBE_SECTIONS:
            grad = _probe(name, getattr(torch, name), mine)
        out.append(dict(ns="torch", name=name, section=sec, has=mine is not None, grad=grad,
                        note=NOTES.get(name, OUT_OF_SCOPE.get(name, ""))))
    probe_sections = {r["name"]: r["section"] for r in out}
    for name in _public(torch.Tensor, tensor=True):
        sec = probe_sections.get(name, "Tensor only")
        mine = hasattr(targets["Tensor"], name)
        grad = ""
        if probe and mine and sec not in _NO_PROBE_SECTIONS and sec != "Tensor only" and \
                not name.endswith("_") and name not in _PROBE_METHODS_SKIP:
            grad = _probe(name, None, None, method=True)
        out.append(dict(ns="Tensor", name=name, section=sec, has=mine, grad=grad,
                        note=NOTES.get("Tensor." + name, "")))
    for ns, mod, tgt in (("linalg", torch.linalg, targets["linalg"]),
                         ("special", torch.special, targets["special"])):
        for name in _public(mod):
            mine = getattr(tgt, name, None) if tgt is not None else None
            grad = ""
            if probe and mine is not None:
                grad = _probe(name, getattr(mod, name), mine)
            out.append(dict(ns=ns, name=name, section=f"torch.{ns}", has=mine is not None,
                            grad=grad, note=NOTES.get(name, "") if ns == "linalg" else ""))
    for name in _public(F):
        if name in _F_HELPERS:
            continue
        sec = _section_of(name, F_SECTIONS)
        mine = getattr(targets["nn.functional"], name, None)
        grad = ""
        if probe and mine is not None and not name.endswith("_"):
            grad = _probe(name, getattr(F, name), mine)
        out.append(dict(ns="nn.functional", name=name, section=sec, has=mine is not None,
                        grad=grad, note=""))
    return out


def section_coverage(table_rows=None):
    """``{section: (present, total)}`` for the sections of issue 12's part 3 (functions of
    ``torch`` that the installed PyTorch has, out-of-scope ones aside) and the common
    nn.functional activations, normalizations and losses; plus ``"total"``."""
    if table_rows is None:
        table_rows = rows(probe=False)
    by = {}
    for r in table_rows:
        if r["ns"] == "torch" and r["section"] in PART3_SECTIONS and r["name"] not in OUT_OF_SCOPE:
            by.setdefault(r["section"], []).append(r["has"])
        if r["ns"] == "nn.functional" and r["name"] in COMMON_F:
            by.setdefault("nn.functional (common)", []).append(r["has"])
    result = {k: (sum(v), len(v)) for k, v in by.items()}
    result["total"] = (sum(p for p, _ in result.values()), sum(n for _, n in result.values()))
    return result


def _counts(table_rows):
    """(namespace, section) -> [total, in xgrad, ✓, ✗]."""
    counts = {}
    for r in table_rows:
        key = (r["ns"], r["section"])
        c = counts.setdefault(key, [0, 0, 0, 0])
        c[0] += 1
        c[1] += r["has"]
        c[2] += r["grad"] == "✓"
        c[3] += r["grad"].startswith("✗") or r["grad"].startswith("fails") or \
            r["grad"] == "values differ"
    return counts


def table(probe: bool = True) -> str:
    """The markdown document: counts per section, then one table per namespace."""
    import torch
    table_rows = rows(probe)
    cov = section_coverage(table_rows)
    lines = ["# PyTorch coverage", "",
             f"Generated by `python -m xgrad.torch_coverage docs/torch_coverage.md` against "
             f"PyTorch {torch.__version__.split('+')[0]}: every public function of `torch`, "
             "`torch.Tensor`, `torch.linalg`, `torch.special` and `torch.nn.functional`, the "
             "section of PyTorch's documentation it is listed in, whether xgrad has it, and its "
             "gradient **checked by running it**: the same sample (small float64 tensors) in "
             "PyTorch and in xgrad, gradients of a random projection of the output compared. "
             "✓ equal to PyTorch's; ✗ differs or missing where PyTorch has one; – PyTorch's "
             "result has no gradient either; *values differ* / *fails*: the sample's forward "
             "already disagrees (often a signature difference); blank: no sample fitted "
             "(or random, or a state/utility function).", "",
             "## Issue 12's sections (part 3)", "",
             "| section | in xgrad | share |", "| --- | --- | --- |"]
    for sec in list(PART3_SECTIONS) + ["nn.functional (common)", "total"]:
        if sec in cov:
            p, n = cov[sec]
            lines.append(f"| {sec} | {p} / {n} | {100 * p / max(n, 1):.1f} % |")
    lines += ["", "Quantization and sparse-segment functions are listed below but not counted "
              "(out of scope): " + ", ".join(f"`{k}`" for k in sorted(OUT_OF_SCOPE)) + ".", "",
              "## Counts per section", "",
              "| namespace | section | functions | in xgrad | gradient ✓ | ✗ / differs |",
              "| --- | --- | --- | --- | --- | --- |"]
    for (ns, sec), (n, has, ok, bad) in sorted(_counts(table_rows).items()):
        lines.append(f"| {ns} | {sec} | {n} | {has} | {ok} | {bad} |")
    for ns in ("torch", "Tensor", "linalg", "special", "nn.functional"):
        lines += ["", f"## `{'torch' if ns == 'torch' else 'torch.' + ns}`", "",
                  "| function | section | xgrad | gradient | notes |", "| --- | --- | --- | --- | --- |"]
        for r in sorted((r for r in table_rows if r["ns"] == ns),
                        key=lambda r: (r["section"], r["name"])):
            lines.append(f"| `{r['name']}` | {r['section']} | {'yes' if r['has'] else '—'} | "
                         f"{r['grad']} | {r['note']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = table()
    if argv:
        with open(argv[0], "w", encoding="utf-8") as f:
            f.write(text)
        cov = section_coverage()
        for sec, (p, n) in cov.items():
            print(f"{sec}: {p}/{n} ({100 * p / max(n, 1):.1f} %)")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
