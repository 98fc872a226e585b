"""Dropout: zero random elements in training (scaling the rest), identity in eval."""

from __future__ import annotations

from . import functional as F
from .module import Module


class Dropout(Module):
    """Each element zeroed with probability p, the rest scaled by 1/(1-p); identity in eval.

    Any shape → same shape. The mask comes from the library's seeded generator.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p={p} must be in [0, 1]")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
