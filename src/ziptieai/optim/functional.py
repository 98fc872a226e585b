"""Optimizer update rules as small pure functions on NumPy arrays, updating in place.

Each reads as its formula (in the docstring) and matches torch.optim's operation order, so
the classes in this package only gather hyper-parameters and state and call these.
Names inside the math are the textbook's (g, b for the momentum buffer); the state keys
the classes keep are torch's (`momentum_buffer`).
"""

from __future__ import annotations

import numpy as np


def sgd_step(param: np.ndarray, grad: np.ndarray, momentum_buffer, *, lr: float,
             momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
             nesterov: bool = False, maximize: bool = False):
    """One SGD step, in place on `param`; returns the (new or updated) momentum buffer.

        g ← -g if maximize;   g ← g + λ·w               (weight_decay λ)
        b ← g (first step),  else  b ← μ·b + (1 - τ)·g  (momentum μ, dampening τ)
        g ← g + μ·b if nesterov, else b
        w ← w - lr·g
    """
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    if momentum:
        if momentum_buffer is None:
            momentum_buffer = np.array(g, copy=True)
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g
    return momentum_buffer
