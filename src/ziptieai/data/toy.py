"""2-D toy datasets, generated from a seed: small enough to see, hard enough to need a net."""

from __future__ import annotations

import numpy as np


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0, dtype=np.float32):
    """Two interleaved half circles. Returns X (n, 2) and labels y (n,) in {0, 1}.

    Half the points lie on the upper moon (label 0), half on the lower, shifted one (label 1),
    with Gaussian noise of standard deviation `noise`.
    """
    if n < 2:
        raise ValueError(f"make_moons: n={n} must be at least 2")
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0, noise, (n, 2))
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    order = rng.permutation(n)
    return X[order].astype(dtype), y[order]
