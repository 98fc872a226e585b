"""Gradient clipping, as torch.nn.utils: rescale or cap gradients in place before a step."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint `norm_type`-norm is at most `max_norm`.

        total = ‖(‖g₁‖, ‖g₂‖, …)‖        (each and the whole in the p-norm; max|g| for inf)
        g ← g · min(1, max_norm / (total + 1e-6))

    Returns the total norm before clipping (a 0-d Tensor), as torch does.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm={max_norm} must be >= 0")
    if not (norm_type > 0 or math.isinf(norm_type)):
        raise ValueError(f"clip_grad_norm_: norm_type={norm_type} must be > 0 or inf")
    grads = _grads(parameters)
    if not grads:
        return Tensor(np.zeros((), np.float32))
    dtype = grads[0].dtype
    if math.isinf(norm_type):
        norms = np.array([np.max(np.abs(g)) if g.size else 0 for g in grads], dtype)
        total = norms.max()
    else:
        norms = np.array([np.linalg.norm(g.reshape(-1), norm_type) for g in grads], dtype)
        total = np.linalg.norm(norms, norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {float(total)}; pass error_if_nonfinite=False to "
                           "clip anyway")
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    for g in grads:
        g *= np.asarray(coef, dtype=g.dtype)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value={clip_value} must be >= 0")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
