"""Activation layers: each wraps the function of the same name in `functional`."""

from __future__ import annotations

from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0), elementwise. Any shape → same shape."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    """tanh(x), elementwise. Any shape → same shape."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1/(1+e^-x), elementwise. Any shape → same shape."""

    def forward(self, x):
        return F.sigmoid(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope·x. Any shape → same shape."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x·Φ(x) (approximate='tanh' for the tanh form). Any shape → same shape."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    """exp(x)/Σexp(x) along dim. Any shape → same shape."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
