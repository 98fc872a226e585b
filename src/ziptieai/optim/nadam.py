"""NAdam: Adam with Nesterov momentum (looks one momentum step ahead)."""

from __future__ import annotations

from .adam import Adam
from .functional import nadam_step
from .optimizer import Optimizer, check_range


class NAdam(Adam):
    """NAdam (torch.optim.NAdam; the rule: `functional.nadam_step`).

    State per parameter: `step`, `mu_product`, `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False, fused=None):
        self._defaults_extra = dict(momentum_decay=momentum_decay,
                                    decoupled_weight_decay=decoupled_weight_decay)
        super(Adam, self).__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                                weight_decay=weight_decay, maximize=maximize,
                                                **self._defaults_extra), fused)

    def _validate(self, group: dict) -> None:
        group.setdefault("amsgrad", False)
        super()._validate(group)
        check_range("NAdam", "momentum_decay", group["momentum_decay"])

    # NOTE: Adam's compiled kernel is not this rule: the fused path runs the NumPy rule.
    _fused_update = Optimizer._fused_update

    def _group_state_arrays(self, group: dict) -> tuple:
        return ("exp_avg", "exp_avg_sq")

    def _init_state(self, group, param, arrays) -> dict:
        return {"step": 0, "mu_product": 1.0, **arrays}

    def _update(self, group, param, grad, state, scratch=None) -> None:
        beta1, beta2 = group["betas"]
        state["mu_product"] = nadam_step(
            param, grad, state["exp_avg"], state["exp_avg_sq"], state["mu_product"],
            step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
            maximize=group["maximize"], scratch=scratch)
