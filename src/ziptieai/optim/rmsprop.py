"""RMSprop: divide each gradient by the running root mean square of its recent values."""

from __future__ import annotations

from .functional import rmsprop_step
from .optimizer import Optimizer, check_range


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop; the rule: `functional.rmsprop_step`).

    State per parameter: `step`, `square_avg`, `momentum_buffer` (momentum > 0),
    `grad_avg` (centered).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 *, maximize: bool = False, fused=None):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize), fused)

    def _validate(self, group: dict) -> None:
        for name in ("lr", "eps", "weight_decay", "momentum", "alpha"):
            check_range("RMSprop", name, group[name])

    def _group_state_arrays(self, group: dict) -> tuple:
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, group, param, grad, state, scratch=None) -> None:
        rmsprop_step(param, grad, state["square_avg"], state.get("momentum_buffer"),
                     state.get("grad_avg"), step=state["step"], lr=group["lr"],
                     alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                     momentum=group["momentum"], centered=group["centered"],
                     maximize=group["maximize"], scratch=scratch)
