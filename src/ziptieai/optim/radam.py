"""RAdam: Adam whose adaptive step is rectified while v's estimate is still unreliable."""

from __future__ import annotations

from .adam import Adam
from .optimizer import Optimizer
from .functional import radam_step


class RAdam(Adam):
    """RAdam (torch.optim.RAdam; the rule: `functional.radam_step`).

    State per parameter: `step`, `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False, fused=None):
        super(Adam, self).__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                                weight_decay=weight_decay, maximize=maximize,
                                                decoupled_weight_decay=decoupled_weight_decay),
                                   fused)

    def _validate(self, group: dict) -> None:
        group.setdefault("amsgrad", False)
        super()._validate(group)

    # NOTE: Adam's compiled kernel is not this rule: the fused path runs the NumPy rule.
    _fused_update = Optimizer._fused_update

    def _group_state_arrays(self, group: dict) -> tuple:
        return ("exp_avg", "exp_avg_sq")

    def _update(self, group, param, grad, state, scratch=None) -> None:
        beta1, beta2 = group["betas"]
        radam_step(param, grad, state["exp_avg"], state["exp_avg_sq"], step=state["step"],
                   lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                   weight_decay=group["weight_decay"],
                   decoupled_weight_decay=group["decoupled_weight_decay"],
                   maximize=group["maximize"], scratch=scratch)
