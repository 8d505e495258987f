"""PyTorch's pointwise, reduction and comparison functions beyond the array API
standard, with PyTorch's signatures (the PyTorch face).

Each public function is listed in ``__all__``; ``xgrad/__init__.py`` re-exports
them and this module attaches the matching ``Tensor`` methods.
"""

from __future__ import annotations

__all__: list[str] = []
