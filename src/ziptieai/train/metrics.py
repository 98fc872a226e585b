"""What a loss function says about the task, and the metrics that go with it.

Classification losses (cross-entropy, NLL, BCE, hinge) get accuracy; regression losses
(MSE, L1) get RMSE and R². Each rule is how a prediction turns into a class for that loss.
"""

from __future__ import annotations

import numpy as np

from .. import nn


def task_of(loss_fn) -> str:
    """'classification' or 'regression', from the loss function."""
    kinds = (nn.CrossEntropyLoss, nn.NLLLoss, nn.BCEWithLogitsLoss, nn.BCELoss, nn.HingeLoss)
    return "classification" if isinstance(loss_fn, kinds) else "regression"


def correct_count(loss_fn, pred: np.ndarray, target: np.ndarray) -> int:
    """How many predictions are right, reading `pred` the way `loss_fn` does."""
    if isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss)):
        if target.dtype.kind == "f":  # class probabilities
            target = target.argmax(axis=1)
        return int(np.count_nonzero(pred.argmax(axis=1) == target))
    if isinstance(loss_fn, nn.BCEWithLogitsLoss):
        return int(np.count_nonzero((pred > 0) == (target > 0.5)))
    if isinstance(loss_fn, nn.BCELoss):
        return int(np.count_nonzero((pred > 0.5) == (target > 0.5)))
    if isinstance(loss_fn, nn.HingeLoss):
        return int(np.count_nonzero(np.where(pred >= 0, 1, -1) == target))
    raise TypeError(f"accuracy: {type(loss_fn).__name__} is not a classification loss")


def regression_scores(pred: np.ndarray, target: np.ndarray) -> dict:
    """RMSE and R² (1 - SSE/SST; 0 means no better than predicting the mean)."""
    pred, target = pred.astype(np.float64), target.astype(np.float64)
    sse = float(np.sum((pred - target) ** 2))
    sst = float(np.sum((target - target.mean()) ** 2))
    return {"rmse": (sse / max(target.size, 1)) ** 0.5,
            "r2": 1.0 - sse / sst if sst > 0 else float("nan")}
