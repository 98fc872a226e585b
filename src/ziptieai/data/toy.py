"""2-D toy datasets, generated from a seed: small enough to see, hard enough to need a net.

Each returns NumPy arrays X (n, 2 or n_features) float32 and labels y (n,) int64, shuffled,
with every random draw from `np.random.default_rng(seed)` (never the global NumPy RNG), so the
same seed gives the same data. Wrap them with `tensor(X)` or `TensorDataset(X, y)`.
"""

from __future__ import annotations

import numbers

import numpy as np


def _check(fn: str, n, noise=None, n_min: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < n_min:
        raise ValueError(f"{fn}: n={n!r} must be an int of at least {n_min}")
    if noise is not None and not noise >= 0:
        raise ValueError(f"{fn}: noise={noise!r} must be non-negative")


def _split_evenly(n: int, k: int) -> list[int]:
    return [n // k + (i < n % k) for i in range(k)]


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
    return _shuffled(rng, X, y, dtype)


def make_circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0,
                 dtype=np.float32):
    """A circle inside a circle. Returns X (n, 2) and labels y (n,) in {0, 1}.

    Label 0: the outer circle (radius 1, n // 2 points); label 1: the inner one (radius
    `factor` in (0, 1)). Gaussian noise of standard deviation `noise` on both coordinates.
    No line separates them; a net with a hidden layer must bend one.
    """
    _check("make_circles", n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor={factor!r} must be in (0, 1)")
    rng = np.random.default_rng(seed)
    n_outer, n_inner = _split_evenly(n, 2)
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1)
    X = np.concatenate([outer, inner]) + rng.normal(0, noise, (n, 2))
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    return _shuffled(rng, X, y, dtype)


def make_spirals(n: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0,
                 dtype=np.float32):
    """`n_classes` interleaved spiral arms (CS231n's). Returns X (n, 2), y (n,) in 0..n_classes-1.

    Arm k: radius r from 0 to 1, angle θ = 4k + 4r (radians) plus Gaussian noise of standard
    deviation `noise` on θ; the point is r·(sin θ, cos θ). Classes get n // n_classes points
    each (the first n % n_classes classes one more).
    """
    _check("make_spirals", n, noise)
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) \
            or not 2 <= n_classes <= n:
        raise ValueError(f"make_spirals: n_classes={n_classes!r} must be an int in [2, n={n}]")
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for k, m in enumerate(_split_evenly(n, n_classes)):
        r = np.linspace(0.0, 1.0, m)
        theta = 4 * k + 4 * r + rng.normal(0, noise, m)
        parts.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        labels.append(np.full(m, k, np.int64))
    X, y = np.concatenate(parts), np.concatenate(labels)
    return _shuffled(rng, X, y, dtype)


def make_blobs(n: int = 100, centers=3, n_features: int = 2, cluster_std: float = 1.0,
               box: tuple = (-10.0, 10.0), seed: int = 0, dtype=np.float32):
    """Gaussian clusters. Returns X (n, n_features) and labels y (n,) in 0..k-1.

    `centers`: an int k (centers drawn uniformly in `box` per coordinate) or an array (k,
    n_features) of centers. Cluster j is N(centers[j], cluster_std² I); the clusters get
    n // k points each (the first n % k one more).
    """
    _check("make_blobs", n, n_min=1)
    if not cluster_std >= 0:
        raise ValueError(f"make_blobs: cluster_std={cluster_std!r} must be non-negative")
    rng = np.random.default_rng(seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        if isinstance(n_features, bool) or not isinstance(n_features, numbers.Integral) \
                or n_features < 1:
            raise ValueError(f"make_blobs: n_features={n_features!r} must be a positive int")
        if not 1 <= centers <= n:
            raise ValueError(f"make_blobs: centers={centers} must be in [1, n={n}]")
        low, high = box
        centers = rng.uniform(low, high, (int(centers), int(n_features)))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or not 1 <= len(centers) <= n:
            raise ValueError(f"make_blobs: centers of shape {centers.shape} must be an int or "
                             f"an array (k, n_features) with 1 <= k <= n={n}")
    sizes = _split_evenly(n, len(centers))
    X = np.concatenate([c + rng.normal(0, cluster_std, (m, centers.shape[1]))
                        for c, m in zip(centers, sizes)])
    y = np.repeat(np.arange(len(centers), dtype=np.int64), sizes)
    return _shuffled(rng, X, y, dtype)


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray, dtype) -> tuple:
    """X and y in one random order (drawn last from `rng`), X cast to `dtype`."""
    order = rng.permutation(len(X))
    return X[order].astype(dtype), y[order]
