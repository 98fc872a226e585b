"""Fused loss and normalization ops, where fusing buys numerical stability or a simpler gradient.

NLL (pick the true class's log-probability), BCE with logits (stable softplus form), BCE
on probabilities (torch's log clamp at -100), and Normalize (the (x - mean)/√(var + eps) of
LayerNorm and BatchNorm, whose fused gradient avoids a chain of small nodes).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class NLL(Function):
    """loss_i = -w_i·logp[i, y_i], w_i = weight[y_i] (1 without weights; 0 where y_i is the
    ignored label); 'sum', 'none', or 'mean' = Σ loss_i / Σ w_i (torch's weighted mean);
    d/dlogp = -w_i·g at [i, y_i] (÷ Σ w_i for 'mean'), 0 elsewhere.

    weight: (C,) array of logp's dtype, or None; ignore_index: the ignored label, or None when
    no label is ignored (the caller checks, so the usual case skips the masking).
    """

    @staticmethod
    def forward(ctx, logp, target, reduction="mean", weight=None, ignore_index=None):
        n = logp.shape[0]
        rows = np.arange(n)
        w = None
        if ignore_index is not None:
            keep = target != ignore_index
            target = np.where(keep, target, 0)  # any valid index; its weight is 0
            w = keep.astype(logp.dtype)
        if weight is not None:
            w = weight[target] if w is None else weight[target] * w
        picked = -logp[rows, target]
        if w is not None:
            picked = picked * w
        # NOTE: every row ignored (or weights summing to 0) gives 0/0 = nan in 'mean', as torch
        total = n if w is None else w.sum()
        ctx.saved = (logp.shape, rows, target, reduction, w, total)
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.asarray(picked.sum() / total)
        if reduction == "sum":
            return np.asarray(picked.sum())
        return picked

    @staticmethod
    def backward(ctx, g):
        shape, rows, target, reduction, w, total = ctx.saved
        out = np.zeros(shape, dtype=g.dtype)
        coef = -g if w is None else -g * w
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                coef = coef / total
            if w is not None and not total:  # every row ignored (or weighted 0): no gradient,
                coef = np.zeros_like(coef)     # as torch (not 0/0)
        out[rows, target] = coef
        return out, None


class BCEWithLogits(Function):
    """ℓ = max(x, 0) - x·y + log(1 + e^-|x|) (= -[y log σ(x) + (1-y) log(1-σ(x))], never
    overflowing);  d/dx = (σ(x) - y)·g, d/dy = -x·g."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x, y)
        return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        gx = gy = None
        if ctx.parents[0] is not None:
            sigma = np.exp(-np.logaddexp(0, -x))
            gx = g * (sigma - y)
        if ctx.parents[1] is not None:
            gy = -g * x
        return gx, gy


class BCE(Function):
    """ℓ = -[y·log p + (1-y)·log(1-p)], each log clamped at -100 (as torch);
    d/dp = g·(p - y) / max(p(1-p), 1e-12), d/dy = g·(log(1-p) - log p)."""

    @staticmethod
    def forward(ctx, p, y):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        ctx.saved = (p, y, log_p, log_1mp)
        return -(y * log_p + (1 - y) * log_1mp)

    @staticmethod
    def backward(ctx, g):
        p, y, log_p, log_1mp = ctx.saved
        gp = gy = None
        if ctx.parents[0] is not None:
            gp = g * (p - y) / np.maximum(p * (1 - p), 1e-12)
        if ctx.parents[1] is not None:
            gy = g * (log_1mp - log_p)
        return gp, gy


class Normalize(Function):
    """x̂ = (x - μ) / √(σ² + eps) over `axes` (σ² biased);
    d/dx = (g - mean(g) - x̂·mean(g·x̂)) / √(σ² + eps)."""

    @staticmethod
    def forward(ctx, x, axes, eps):
        mu = x.mean(axis=axes, keepdims=True)
        centered = x - mu
        var = (centered * centered).mean(axis=axes, keepdims=True)
        rstd = 1 / np.sqrt(var + eps)
        xhat = centered * rstd
        ctx.saved = (xhat, rstd, axes)
        return xhat

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, axes = ctx.saved
        mean_g = g.mean(axis=axes, keepdims=True)
        mean_gx = (g * xhat).mean(axis=axes, keepdims=True)
        return (rstd * (g - mean_g - xhat * mean_gx),)


def _reduced(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(np.add.reduce(loss, axis=None) / max(loss.size, 1))
    if reduction == "sum":
        return np.asarray(np.add.reduce(loss, axis=None))
    return loss


def _spread(g: np.ndarray, size: int, reduction: str) -> np.ndarray:
    """The gradient of each element of a reduced loss."""
    return g / size if reduction == "mean" else g


class Hinge(Function):
    """ℓ_i = max(0, 1 - y_i·s_i), reduced;  d/ds = -y·g and d/dy = -s·g where the margin
    1 - y·s is positive, 0 elsewhere."""

    @staticmethod
    def forward(ctx, score, y, reduction="mean"):
        margin = 1 - y * score
        active = margin > 0
        ctx.saved = (score, y, active, reduction)
        return _reduced(np.maximum(margin, 0), reduction)

    @staticmethod
    def backward(ctx, g):
        score, y, active, reduction = ctx.saved
        g = _spread(g, active.size, reduction) * active
        gs = -(g * y) if ctx.parents[0] is not None else None
        gy = -(g * score) if ctx.parents[1] is not None else None
        return gs, gy
