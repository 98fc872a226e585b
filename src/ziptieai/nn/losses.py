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


class _ClassLoss(_Loss):
    """A loss over C classes: optional per-class `weight` (a buffer, in the state dict as in
    torch) and an `ignore_index` label."""

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def extra_repr(self) -> str:
        parts = [p for p in (super().extra_repr(),) if p]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(parts)


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy. Logits (N, C); target labels (N,) int or probabilities (N, C).

    weight (C,), ignore_index and label_smoothing as `functional.cross_entropy` (torch's).
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index=ignore_index, reduction=reduction)
        F._check_label_smoothing(type(self).__name__, label_smoothing)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        parts = [p for p in (super().extra_repr(),) if p]
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)


class NLLLoss(_ClassLoss):
    """Negative log-likelihood. Log-probabilities (N, C); target labels (N,) int.

    weight (C,) and ignore_index as `functional.nll_loss` (torch's).
    """

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable). Input and target (0..1) of the same shape."""

    _fn = staticmethod(F.binary_cross_entropy_with_logits)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities in [0, 1]. Input and target of the same shape."""

    _fn = staticmethod(F.binary_cross_entropy)


class HingeLoss(_Loss):
    """max(0, 1 - y·score), reduced. Scores and labels y in {-1, +1} of the same shape."""

    _fn = staticmethod(F.hinge_loss)
