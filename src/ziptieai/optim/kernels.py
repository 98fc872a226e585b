"""Compiled kernels for the fused path: optional, with `pip install ziptieai[fast]` (numba).

The NumPy rules in `functional` make ~12 passes over memory per Adam step; a memory-bound
step wants one. These kernels do one pass, in parallel over 2+ threads for large buffers, and
perform the *same* floating-point operations in the *same* order as the NumPy rule, with
every constant first rounded to the array's dtype, as NumPy does when it meets a Python
number. So they give bit-identical parameters (tests/optim/test_kernels.py checks it; the
branch-free form may differ from NumPy only in the sign of a zero in the state, or where a
parameter is already Inf or NaN), and without numba everything runs on the NumPy path.

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

# NOTE: a vectorized single thread already streams near memory bandwidth (W3: 10M
# parameters in ~6 ms), while a parallel region on a shared 2-vCPU machine often stalls for a
# scheduler tick (~8 ms) whenever the other CPU is busy. So threads only for huge groups.
PARALLEL_MIN = 1 << 25

_KERNELS: dict = {}


def available() -> bool:
    """Whether the compiled kernels are in use."""
    return numba is not None


def _adam_kernel(amsgrad: bool, parallel: bool):
    """The compiled Adam pass for these flags (compiled once, cached on disk).

    Branch-free so LLVM vectorizes it: each variant of the rule is chosen by a factor that
    changes no bits (×1, +0, ×±1), and `amsgrad` is a compile-time constant.
    """
    key = (amsgrad, parallel)
    if key not in _KERNELS:
        def kernel(p, g, m, v, vmax, decay, wd, sign, lerp_w, lerp_small, lerp_1mw, beta2,
                   one_m_beta2, bc2_sqrt, eps, neg_step_size):
            for i in numba.prange(p.size):
                w = p[i] * decay                       # decoupled decay, or × 1
                gi = w * wd + g[i] * sign              # coupled decay (or + 0), maximize (× -1)
                mi = m[i]
                d = gi - mi                            # lerp_, in its two forms
                mi = mi + d * lerp_w if lerp_small else gi - d * lerp_1mw
                m[i] = mi
                vi = v[i] * beta2 + (gi * one_m_beta2) * gi
                v[i] = vi
                if amsgrad:
                    top = vmax[i]
                    if not (top >= vi or top != top):  # np.maximum, NaN included
                        top = vi
                    vmax[i] = top
                    vi = top
                den = np.sqrt(vi) / bc2_sqrt + eps
                p[i] = w + (mi / den) * neg_step_size
        name = f"adam_{'amsgrad' if amsgrad else 'plain'}_{'parallel' if parallel else 'serial'}"
        kernel.__name__ = kernel.__qualname__ = name  # NOTE: one disk-cache entry per variant
        _KERNELS[key] = numba.njit(nogil=True, error_model="numpy", parallel=parallel,
                                   cache=True)(kernel)
    return _KERNELS[key]


def adam_flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
              eps, weight_decay, amsgrad, maximize, decoupled_weight_decay) -> None:
    """functional.adam_step on flat 1-D buffers, in one compiled pass."""
    t = param.dtype.type
    lerp_w = 1 - beta1
    decoupled = bool(weight_decay and decoupled_weight_decay)
    kernel = _adam_kernel(bool(amsgrad), param.size >= PARALLEL_MIN)
    kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else exp_avg_sq,
           t(1 - lr * weight_decay) if decoupled else t(1), t(0) if decoupled else t(weight_decay),
           t(-1) if maximize else t(1), t(lerp_w), abs(lerp_w) < 0.5, t(1 - lerp_w), t(beta2),
           t(1 - beta2), t((1 - beta2**step) ** 0.5), t(eps), t(-(lr / (1 - beta1**step))))
