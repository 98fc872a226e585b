"""Adagrad: each weight's step shrinks with the sum of its squared gradients so far."""

from __future__ import annotations

import numpy as np

from .functional import adagrad_step
from .optimizer import Optimizer, check_range


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad; the rule: `functional.adagrad_step`).

    State per parameter: `step`, `sum` (starting at initial_accumulator_value).
    """

    _state_arrays = ("sum",)

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize), fused)

    def _validate(self, group: dict) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_range("Adagrad", name, group[name])

    def _init_state(self, group, param, arrays) -> dict:
        np.copyto(arrays["sum"], group["initial_accumulator_value"])
        return {"step": 0, **arrays}

    def _update(self, group, param, grad, state, scratch=None) -> None:
        adagrad_step(param, grad, state["sum"], step=state["step"], lr=group["lr"],
                     lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                     eps=group["eps"], maximize=group["maximize"], scratch=scratch)
