"""The names of the array API standard 2024.12, by section: the one list that the
standard's face (``xgrad.array_api.__all__``) and the coverage table both read."""

# the array API standard 2024.12, by section (the linalg extension separately)
STANDARD = {
    "creation": ("arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full",
                 "full_like", "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros",
                 "zeros_like"),
    "data types": ("astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type"),
    "elementwise": (
        "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
        "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
        "ceil", "clip", "conj", "copysign", "cos", "cosh", "divide", "equal", "exp", "expm1", "floor",
        "floor_divide", "greater", "greater_equal", "hypot", "imag", "isfinite", "isinf", "isnan",
        "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp", "logical_and",
        "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "multiply", "negative",
        "nextafter", "not_equal", "positive", "pow", "real", "reciprocal", "remainder", "round",
        "sign", "signbit", "sin", "sinh", "square", "sqrt", "subtract", "tan", "tanh", "trunc"),
    "indexing": ("take", "take_along_axis"),
    "linear algebra": ("matmul", "matrix_transpose", "tensordot", "vecdot"),
    "manipulation": ("broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip",
                     "moveaxis", "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack",
                     "tile", "unstack"),
    "searching": ("argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "where"),
    "sets": ("unique_all", "unique_counts", "unique_inverse", "unique_values"),
    "sorting": ("argsort", "sort"),
    "statistics": ("cumulative_prod", "cumulative_sum", "max", "mean", "min", "prod", "std", "sum",
                   "var"),
    "utility": ("all", "any", "diff"),
}
LINALG = ("cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
          "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet",
          "solve", "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm")
FFT = ("fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft", "fftfreq",
       "rfftfreq", "fftshift", "ifftshift")
