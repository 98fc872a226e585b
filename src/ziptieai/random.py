"""One seeded source of randomness for the whole library (init, dropout, shuffling).

No global NumPy RNG is touched: everything random draws from `default_generator()`,
a `numpy.random.Generator` that `manual_seed(n)` replaces.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random thing in ZiptieAI (weight init, dropout, data shuffling)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The library's current random generator."""
    return _generator


def get_rng_state() -> dict:
    """The generator's state (JSON-friendly), to save in a checkpoint."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from `get_rng_state()`."""
    _generator.bit_generator.state = state
