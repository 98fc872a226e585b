"""Functional forms of every layer, activation and loss (torch.nn.functional's names).

Layers in `ziptieai.nn` hold parameters and call these. Each function documents its shapes
and checks its inputs before NumPy sees them, so a mistake names the argument at fault.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.elementwise import (
    Gelu, LeakyRelu, Mul, Relu, Sigmoid, Tanh, clip, where, Abs, Exp, Log, Sqrt, Maximum,
    Minimum,
)
from ..ops.linalg import linear, matmul
from ..ops.loss import BCE, NLL, BCEWithLogits, Hinge, Normalize
from ..ops.movement import Embed, concat, stack, cat, reshape, flatten, permute, transpose
from ..ops.reduce import LogSoftmax, Softmax, normalize_dims
from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "linear", "matmul", "relu", "leaky_relu", "gelu", "tanh", "sigmoid", "softmax",
    "log_softmax", "exp", "log", "sqrt", "abs", "clip", "clamp", "maximum", "minimum", "where",
    "concat", "cat", "stack", "reshape", "flatten", "permute", "transpose", "dropout",
    "layer_norm", "batch_norm", "embedding", "mse_loss", "l1_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss",
]

clamp = clip


# ---- activations -----------------------------------------------------------------------


def relu(x) -> Tensor:
    """max(x, 0), elementwise."""
    return Relu.apply(x)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope·x."""
    return LeakyRelu.apply(x, negative_slope=float(negative_slope))


def gelu(x, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF; approximate='tanh' for the faster tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate=approximate)


def tanh(x) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return Tanh.apply(x)


def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), elementwise (stable for any x)."""
    return Sigmoid.apply(x)


def exp(x) -> Tensor:
    return Exp.apply(x)


def log(x) -> Tensor:
    return Log.apply(x)


def sqrt(x) -> Tensor:
    return Sqrt.apply(x)


def abs(x) -> Tensor:  # noqa: A001 - torch's name
    return Abs.apply(x)


def maximum(a, b) -> Tensor:
    """Elementwise max of a and b."""
    return Maximum.apply(a, b)


def minimum(a, b) -> Tensor:
    """Elementwise min of a and b."""
    return Minimum.apply(a, b)


def _dim(op: str, x, dim: int) -> int:
    ndim = x.data.ndim if isinstance(x, Tensor) else np.ndim(x)
    return normalize_dims(op, dim, ndim)[0] if ndim else 0


def softmax(x, dim: int = -1) -> Tensor:
    """exp(x) / Σ exp(x) along `dim` (computed without overflow)."""
    return Softmax.apply(x, dim=_dim("softmax", x, dim))


def log_softmax(x, dim: int = -1) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably (logits up to ±1e4 in float32 are fine)."""
    return LogSoftmax.apply(x, dim=_dim("log_softmax", x, dim))


# ---- layers ------------------------------------------------------------------------------


def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p={p} must be in [0, 1]")
    if not training or p == 0:
        return x
    data = x.data
    if p == 1:
        return Mul.apply(x, np.zeros_like(data))
    keep = default_generator().random(data.shape) >= p
    return Mul.apply(x, keep.astype(data.dtype) * data.dtype.type(1 / (1 - p)))


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims, then scale and shift.

    x (*, *normalized_shape) → same shape.
    """
    shape = tuple(normalized_shape)
    if x.data.shape[x.data.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: input of shape {x.data.shape} does not end with "
                         f"normalized_shape {shape}")
    axes = tuple(range(x.data.ndim - len(shape), x.data.ndim))
    out = Normalize.apply(x, axes=axes, eps=float(eps))
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch (and length) dims.

    x (N, C) or (N, C, L). In training, batch statistics are used and `running_mean` /
    `running_var` (arrays, updated in place) move toward them by `momentum`; in eval the
    running statistics are used.
    """
    data = x.data
    if data.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, L), "
                         f"got {data.shape}")
    axes = (0,) if data.ndim == 2 else (0, 2)
    shape = (1, -1) if data.ndim == 2 else (1, -1, 1)
    if training:
        n = data.size // data.shape[1]
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {data.shape}")
        out = Normalize.apply(x, axes=axes, eps=float(eps))
        if running_mean is not None:
            mean = data.mean(axis=axes)
            var = data.var(axis=axes) * (n / (n - 1))
            running_mean *= 1 - momentum
            running_mean += momentum * mean.astype(running_mean.dtype)
            running_var *= 1 - momentum
            running_var += momentum * var.astype(running_var.dtype)
    else:
        rstd = (1 / np.sqrt(running_var + eps)).astype(data.dtype)
        out = (x - running_mean.astype(data.dtype).reshape(shape)) * rstd.reshape(shape)
    if weight is not None:
        out = out * reshape(weight, shape)
    if bias is not None:
        out = out + reshape(bias, shape)
    return out


def embedding(indices, weight, padding_idx=None) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) at integer `indices` (any shape) → (*, dim)."""
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    n = weight.data.shape[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings "
                         f"(expected 0 <= index < {n})")
    return Embed.apply(weight, idx, padding_idx=padding_idx)


# ---- losses ------------------------------------------------------------------------------

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction={reduction!r} must be one of {_REDUCTIONS}")


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _same_shape(op: str, pred, target) -> None:
    sp, st = _array(pred).shape, _array(target).shape
    if sp != st:
        hint = ""
        try:
            hint = (f"; they would broadcast to {np.broadcast_shapes(sp, st)} and give a wrong "
                    "loss, so reshape one to match (e.g. pred.reshape(-1) or target.reshape(-1, 1))")
        except ValueError:
            pass
        raise ValueError(f"{op}: input shape {sp} and target shape {st} differ{hint}")


def _float_target(op: str, pred, target):
    t = _array(target)
    if t.dtype.kind not in "f":
        target = t.astype(_array(pred).dtype)
    return target


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """(input - target)², reduced. Shapes must match exactly (no silent broadcasting)."""
    _check_reduction("mse_loss", reduction)
    _same_shape("mse_loss", input, target)
    diff = input - _float_target("mse_loss", input, target)
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced. Shapes must match exactly."""
    _check_reduction("l1_loss", reduction)
    _same_shape("l1_loss", input, target)
    return _reduce(Abs.apply(input - _float_target("l1_loss", input, target)), reduction)


def _class_labels(op: str, logits, target, ignore_index: int = -100) -> tuple:
    """Integer labels (N,) for logits (N, C), checked (dtype, shape, range: a label equal to
    `ignore_index` is allowed anywhere), and `ignore_index` if some label equals it, else None.
    """
    t = _array(target)
    shape = _array(logits).shape
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class labels must be integers (int64), got target dtype {t.dtype}; "
            f"convert with target.long(), or pass class probabilities of shape {shape}"
        )
    if len(shape) != 2:
        raise ValueError(f"{op}: expected input of shape (N, C), got {shape}")
    if t.shape != shape[:1]:
        raise ValueError(f"{op}: target of shape {t.shape} should be ({shape[0]},): one "
                         f"label per row of the input of shape {shape}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{op}: ignore_index={ignore_index!r} must be an int")
    n_classes = shape[1]
    if not t.size or (t.min() >= 0 and t.max() < n_classes):  # the usual case: one pass each
        ignored = 0 <= ignore_index < n_classes and bool((t == ignore_index).any())
        return t, (int(ignore_index) if ignored else None)
    ignored = t == ignore_index
    bad = ((t < 0) | (t >= n_classes)) & ~ignored
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IndexError(f"{op}: label {t[i]} at index {i} is out of range for {n_classes} "
                         f"classes (expected 0 <= label < {n_classes}, or the ignore_index "
                         f"{ignore_index})")
    return t, int(ignore_index)


def _class_weight(op: str, logits, weight):
    """`weight` (C,) as an array of the logits' dtype (a constant: no gradient), or None."""
    if weight is None:
        return None
    w = _array(weight)
    shape = _array(logits).shape
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{op}: weight must be numeric, got dtype {w.dtype}")
    if w.shape != shape[1:2]:
        raise ValueError(f"{op}: weight of shape {w.shape} should be ({shape[1]},): one "
                         f"weight per class of the input of shape {shape}")
    return w.astype(_array(logits).dtype, copy=False)


def _check_label_smoothing(op: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{op}: label_smoothing={value!r} must be a number in [0.0, 1.0]")


def nll_loss(input, target, weight=None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-weight[y_i]·input[i, y_i] for log-probabilities input (N, C) and integer labels y (N,).

    weight: (C,) per-class weights (default all 1). Rows whose label is `ignore_index` count
    for nothing. 'mean' divides by the sum of the weights of the rows not ignored (torch's).
    """
    _check_reduction("nll_loss", reduction)
    labels, ignored = _class_labels("nll_loss", input, target, ignore_index)
    w = _class_weight("nll_loss", input, weight)
    return NLL.apply(input, labels, reduction=reduction, weight=w, ignore_index=ignored)


def cross_entropy(input, target, weight=None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits (N, C), stable (log-sum-exp).

    target: integer labels (N,) in [0, C), or class probabilities (N, C) (float).
    weight: (C,) per-class weights; ignore_index: a label whose rows count for nothing (labels
    only); label_smoothing ε in [0, 1]: the target becomes (1 − ε)·target + ε/C, i.e.
    loss = (1 − ε)·nll + ε/C·Σ_c −w_c·log p_c, reduced as nll_loss (torch's definition).
    """
    _check_reduction("cross_entropy", reduction)
    _check_label_smoothing("cross_entropy", label_smoothing)
    t = _array(target)
    w = _class_weight("cross_entropy", input, weight)
    smoothing = float(label_smoothing)
    # NOTE: float targets of the input's rank are probabilities; float labels of shape (N,)
    # fall through to the label check, which names their dtype.
    if t.dtype.kind == "f" and t.ndim == _array(input).ndim:
        _same_shape("cross_entropy (probability target)", input, target)
        if ignore_index != -100:
            raise ValueError(f"cross_entropy: ignore_index={ignore_index} applies to class "
                             "labels only, not to probability targets (as torch)")
        if smoothing:
            target = target * (1 - smoothing) + smoothing / t.shape[1]
        terms = LogSoftmax.apply(input, dim=1) * target
        if w is not None:
            terms = terms * w
        return _reduce(-terms.sum(dim=1), reduction)
    labels, ignored = _class_labels("cross_entropy", input, target, ignore_index)
    logp = LogSoftmax.apply(input, dim=1)
    nll = NLL.apply(logp, labels, reduction=reduction, weight=w, ignore_index=ignored)
    if not smoothing:
        return nll
    # Σ_c −w_c·log p_c per row, 0 on ignored rows, reduced with nll_loss's denominator
    smooth = -(logp if w is None else logp * w).sum(dim=1)
    keep = None if ignored is None else (labels != ignored)
    if keep is not None:  # NOTE: where, not × mask: every row ignored must give 0, not nan·0
        smooth = where(keep, smooth, 0.0)
    if reduction == "mean":
        kept = labels if keep is None else labels[keep]
        total = float(kept.size if w is None else w[kept].sum())
        smooth = smooth.sum() * (1 / total if total else math.nan)
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - smoothing) + smooth * (smoothing / _array(input).shape[1])


def binary_cross_entropy_with_logits(input, target, reduction: str = "mean") -> Tensor:
    """-[y log σ(x) + (1-y) log(1-σ(x))] from logits x, stable for any |x|. Shapes match."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    target = _float_target("binary_cross_entropy_with_logits", input, target)
    return _reduce(BCEWithLogits.apply(input, target), reduction)


def binary_cross_entropy(input, target, reduction: str = "mean") -> Tensor:
    """-[y log p + (1-y) log(1-p)] from probabilities p in [0, 1] (logs clamped at -100)."""
    _check_reduction("binary_cross_entropy", reduction)
    _same_shape("binary_cross_entropy", input, target)
    p = _array(input)
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got "
                         f"values in [{p.min()}, {p.max()}]; for logits use "
                         "binary_cross_entropy_with_logits")
    target = _float_target("binary_cross_entropy", input, target)
    return _reduce(BCE.apply(input, target), reduction)


def hinge_loss(input, target, reduction: str = "mean") -> Tensor:
    """max(0, 1 - y·score) for scores and labels y in {-1, +1}, reduced. Shapes match."""
    _check_reduction("hinge_loss", reduction)
    _same_shape("hinge_loss", input, target)
    y = _array(target)
    off = y * y != 1  # NOTE: one pass, cheaper than (y == 1) | (y == -1) on every step
    if off.any():
        bad = y[off].flat[0]
        raise ValueError(f"hinge_loss: labels must be -1 or +1, got {bad} (for 0/1 labels "
                         "use 2*y - 1)")
    target = _float_target("hinge_loss", input, target)
    return Hinge.apply(input, target, reduction=reduction)
