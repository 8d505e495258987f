"""xgrad: automatic differentiation for the Python array API.

Gradient rules are written once against the array API standard and run on
NumPy (``"cpu"``), CuPy (``"cuda"``) or any other array API library. The
interface is PyTorch's::

    import xgrad as torch
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    x.grad   # tensor([ 0.,  4.,  8., 12.])
"""

from __future__ import annotations

import math as _math

__version__ = "0.1.0"
__array_api_version__ = "2024.12"
SUPPORTED_API_VERSIONS = ("2022.12", "2023.12", "2024.12")

from . import _dtypes
from ._dtypes import (DType, bool_ as bool, complex64, complex128, float32, float64,  # noqa: A004
                      int8, int16, int32, int64, uint8, uint16, uint32, uint64)
from .backends import BackendUnavailable, Device, device, register_backend
from .config import (default_device, default_dtype, get_default_device, get_default_dtype,
                     set_default_device, set_default_dtype)
from ._tensor import Tensor
from . import array_api  # the standard's face (installs the engine's namespace hook)
from . import _tensor_methods  # noqa: F401  Tensor operators and PyTorch's methods (the PyTorch face)
from ._namespace import *  # noqa: F401,F403  (the PyTorch face)
from ._namespace import all, any, max, min, sum, abs, pow, round  # noqa: F401,A004
from ._info import __array_namespace_info__  # noqa: F401
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .serialization import load, save  # noqa: E402
from ._compile import compile  # noqa: E402,A004  (xgrad.compile: trace once, replay)
# PyTorch's everyday functions beyond the standard (they come last: PyTorch's meaning wins)
from ._torch_shape import *  # noqa: F401,F403,E402
from ._torch_math import *  # noqa: F401,F403,E402
from ._spectral import istft, stft  # noqa: E402  (torch.stft/istft, composed; Tensor methods too)

# PyTorch's dtype spellings
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
from ._dtypes import bfloat16, float16  # noqa: E402  (half precision: cpu/cuda; bfloat16: none yet)
half = float16
from ._promotion import promote_types  # noqa: E402  (torch.promote_types)

e = _math.e
pi = _math.pi
inf = _math.inf
nan = _math.nan
newaxis = None


_SUBMODULES = ("nn", "optim", "func", "linalg", "fft", "viz", "utils", "testing", "info",
               "special")


def __getattr__(name):
    """Import submodules (``xgrad.nn``, ``xgrad.linalg``, ...) on first use."""
    if name in _SUBMODULES:
        import importlib
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a submodule not written yet: hasattr() is False
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'xgrad' has no attribute {name!r}") from exc
    raise AttributeError(f"module 'xgrad' has no attribute {name!r}")
