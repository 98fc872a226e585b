"""Grad mode: whether ops record the graph. `no_grad()` turns recording off in a block."""

from __future__ import annotations

import functools


class _GradState:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


# NOTE: one module-level object, read on every op, so the check is a single attribute load.
state = _GradState()


def is_grad_enabled() -> bool:
    """True when new ops record the graph for backward."""
    return state.enabled


class _SetGrad:
    """Context manager and decorator that sets grad mode and restores the previous one."""

    _mode = True

    def __enter__(self) -> None:
        self._prev = state.enabled
        state.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_SetGrad):
    """Ops inside `with ziptieai.no_grad():` build no graph (evaluation, manual updates)."""

    _mode = False


class enable_grad(_SetGrad):
    """Turn graph recording back on inside a `no_grad` block."""

    _mode = True
