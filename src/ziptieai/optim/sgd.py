"""SGD: w ← w − lr·g, with torch's momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from .functional import sgd_step
from .optimizer import Optimizer, check_range


class SGD(Optimizer):
    """Stochastic gradient descent (torch.optim.SGD; the rule: `functional.sgd_step`).

    State per parameter: `momentum_buffer` (with momentum), `step`.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize), fused)

    def _validate(self, group: dict) -> None:
        for name in ("lr", "momentum", "weight_decay"):
            check_range("SGD", name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _group_state_arrays(self, group: dict) -> tuple:
        return ("momentum_buffer",) if group["momentum"] else ()

    def _update(self, group, param, grad, state, scratch=None) -> None:
        sgd_step(param, grad, state.get("momentum_buffer"), step=state["step"], lr=group["lr"],
                 momentum=group["momentum"], dampening=group["dampening"],
                 weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                 maximize=group["maximize"], scratch=scratch)
