"""gradcheck: compare backward's gradients with central finite differences, in float64.

Learners can use it too: `gradcheck(lambda x: (x * x).sum(), [np.array([1., 2.])])` is True.
A float32 check is meaningless (finite-difference errors ~1e-4), so inputs must be float64.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by gradcheck when analytic and numeric gradients disagree."""


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, perturbing `x` in place (restored afterwards)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        up = f()
        flat[i] = original - eps
        down = f()
        flat[i] = original
        gflat[i] = (up - down) / (2 * eps)
    return grad


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence, eps: float = 1e-6,
              rtol: float = 1e-5, atol: float = 1e-7, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Check d(fn)/d(inputs) from backward against central finite differences.

    fn takes Tensors and returns a Tensor of any shape; it is projected onto a fixed random
    direction v (checking vᵀJ, which catches any wrong entry of the Jacobian J with
    probability 1). Each float input must be float64; non-float inputs are passed through.
    Passes when |analytic - numeric| <= atol·max(1, ‖numeric‖∞) + rtol·|numeric|.
    """
    arrays = [np.array(x.data if isinstance(x, Tensor) else x) for x in inputs]
    for i, a in enumerate(arrays):
        if a.dtype.kind == "f" and a.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {a.dtype}; use float64 "
                            "(float32 finite differences are too coarse to check anything)")
    leaves = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*leaves)
    v = np.random.default_rng(seed).uniform(0.5, 1.5, out.data.shape)

    def projected() -> float:
        value = fn(*[Tensor(a) for a in arrays]).data
        return float(np.sum(value * v))

    out.backward(v.astype(out.data.dtype))
    for i, (a, leaf) in enumerate(zip(arrays, leaves)):
        if a.dtype.kind != "f":
            continue
        numeric = numerical_grad(projected, a, eps)
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(a)
        if analytic.shape != a.shape or analytic.dtype != a.dtype:
            raise GradcheckError(f"gradcheck: input {i} got a gradient of shape "
                                 f"{analytic.shape} {analytic.dtype}, expected {a.shape} {a.dtype}")
        scale = max(1.0, float(np.max(np.abs(numeric)))) if numeric.size else 1.0
        bad = np.abs(analytic - numeric) > atol * scale + rtol * np.abs(numeric)
        if bad.any():
            if not raise_exception:
                return False
            j = np.unravel_index(np.argmax(bad), a.shape) if a.ndim else ()
            raise GradcheckError(
                f"gradcheck: input {i} (shape {a.shape}) at {tuple(int(k) for k in j)}: "
                f"analytic {analytic[j]!r} vs numeric {numeric[j]!r} "
                f"({int(bad.sum())} of {a.size} entries off)"
            )
    return True
