"""Compiled kernels for the fused path: optional, with `pip install ziptieai[fast]` (numba).

The NumPy rules in `functional` make ~12 passes over memory per Adam step; a memory-bound
step wants one. These kernels do one pass, in parallel over 2+ threads for large buffers, and
perform the *same* floating-point operations in the *same* order as the NumPy rule, with
every constant first rounded to the array's dtype, as NumPy does when it meets a Python
number. So they give bit-identical results (tests/optim/test_kernels.py checks it), and
without numba everything runs on the NumPy path unchanged.

Set ZIPTIE_KERNELS=0 to turn them off.
"""

from __future__ import annotations

import os

import numpy as np

try:  # pragma: no cover - depends on the optional extra
    if os.environ.get("ZIPTIE_KERNELS", "1") == "0":
        raise ImportError("disabled by ZIPTIE_KERNELS=0")
    import numba
except ImportError:
    numba = None

# NOTE: below this many elements a parallel region's start-up costs more than it saves.
PARALLEL_MIN = 1 << 17


def available() -> bool:
    """Whether the compiled kernels are in use."""
    return numba is not None


def _adam_kernel(p, g, m, v, vmax, decay, wd, sign, lerp_w, lerp_small, lerp_1mw, beta2,
                 one_m_beta2, bc2_sqrt, eps, neg_step_size, decoupled, use_wd, amsgrad):
    """adam_step's operations, element by element (see functional.adam_step)."""
    for i in numba.prange(p.size):
        w = p[i]
        if decoupled:
            w = w * decay
        gi = g[i]
        if use_wd:
            t = w * wd
            gi = t + gi if sign > 0 else t - gi
        elif sign < 0:
            gi = -gi
        mi = m[i]
        d = gi - mi
        if lerp_small:
            mi = mi + d * lerp_w
        else:
            mi = gi - d * lerp_1mw
        m[i] = mi
        vi = v[i] * beta2 + (gi * one_m_beta2) * gi
        v[i] = vi
        if amsgrad:
            top = vmax[i]
            if not (top >= vi or top != top):
                top = vi
            vmax[i] = top
            vi = top
        den = np.sqrt(vi) / bc2_sqrt + eps
        p[i] = w + (mi / den) * neg_step_size


if numba is not None:  # pragma: no cover - depends on the optional extra
    _adam_serial = numba.njit(cache=True, nogil=True)(_adam_kernel)
    _adam_parallel = numba.njit(cache=True, nogil=True, parallel=True)(_adam_kernel)


def adam_flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
              eps, weight_decay, amsgrad, maximize, decoupled_weight_decay) -> None:
    """functional.adam_step on flat 1-D buffers, in one compiled pass."""
    t = param.dtype.type
    lerp_w = 1 - beta1
    decoupled = bool(weight_decay and decoupled_weight_decay)
    kernel = _adam_parallel if param.size >= PARALLEL_MIN else _adam_serial
    kernel(param, grad, exp_avg, exp_avg_sq,
           max_exp_avg_sq if amsgrad else exp_avg_sq,
           t(1 - lr * weight_decay), t(weight_decay), -1 if maximize else 1,
           t(lerp_w), abs(lerp_w) < 0.5, t(1 - lerp_w), t(beta2), t(1 - beta2),
           t((1 - beta2**step) ** 0.5), t(eps), t(-(lr / (1 - beta1**step))),
           decoupled, bool(weight_decay and not decoupled), bool(amsgrad))
