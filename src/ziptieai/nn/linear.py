"""Linear, Identity, Flatten: the layers that only move or mix features."""

from __future__ import annotations

import math

import numpy as np

from ..ops.linalg import Linear as LinearOp
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x·Wᵀ + b.  Input (*, in_features) → output (*, out_features).

    weight (out_features, in_features) and bias (out_features,) are initialised as torch does
    (U(-1/√in, 1/√in)), so a state dict maps 1:1 to torch.nn.Linear's.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float32):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"Linear: {name}={n!r} must be a non-negative int")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: input of shape {tuple(shape)} has {shape[-1] if shape else 0} "
                f"features in its last dim, but the weight of shape {self.weight.shape} "
                f"expects {self.in_features} (in_features)"
            )
        if self.bias is None:
            return LinearOp.apply(x, self.weight)
        return LinearOp.apply(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge dims start_dim..end_dim.  (N, *rest) → (N, prod(rest)) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
