"""SGD: w ← w − lr·g, with torch's momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from .functional import sgd_step
from .optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    """Stochastic gradient descent (torch.optim.SGD semantics; see `functional.sgd_step`).

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)   # doctest: +SKIP
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _validate(self, group: dict) -> None:
        for name in ("lr", "momentum", "weight_decay"):
            check_non_negative("SGD", name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, group: dict, param, state: dict) -> None:
        buf = sgd_step(param.data, param.grad, state.get("momentum_buffer"), lr=group["lr"],
                       momentum=group["momentum"], dampening=group["dampening"],
                       weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                       maximize=group["maximize"])
        if buf is not None:
            state["momentum_buffer"] = buf
