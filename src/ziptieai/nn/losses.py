"""Loss layers: each holds its `reduction` and calls the function of the same name.

    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(logits, labels)     # logits (N, C), labels (N,) int → a scalar tensor
"""

from __future__ import annotations

from . import functional as F
from .module import Module


class _Loss(Module):
    _fn = None

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        F._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return type(self)._fn(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction='{self.reduction}'"


class MSELoss(_Loss):
    """(input - target)², reduced. Input and target of the same shape."""

    _fn = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """|input - target|, reduced. Input and target of the same shape."""

    _fn = staticmethod(F.l1_loss)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy. Logits (N, C); target labels (N,) int or probabilities (N, C)."""

    _fn = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    """Negative log-likelihood. Log-probabilities (N, C); target labels (N,) int."""

    _fn = staticmethod(F.nll_loss)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable). Input and target (0..1) of the same shape."""

    _fn = staticmethod(F.binary_cross_entropy_with_logits)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities in [0, 1]. Input and target of the same shape."""

    _fn = staticmethod(F.binary_cross_entropy)


class HingeLoss(_Loss):
    """max(0, 1 - y·score), reduced. Scores and labels y in {-1, +1} of the same shape."""

    _fn = staticmethod(F.hinge_loss)
