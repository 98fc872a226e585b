"""Adam and AdamW: momentum plus a per-weight step size from the running mean square of g."""

from __future__ import annotations

from . import kernels
from .functional import adam_step
from .optimizer import Optimizer, check_range


class Adam(Optimizer):
    """Adam (torch.optim.Adam; the rule: `functional.adam_step`).

    State per parameter: `step`, `exp_avg` (m), `exp_avg_sq` (v), `max_exp_avg_sq` (amsgrad).
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 fused=None):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize), fused)

    def _validate(self, group: dict) -> None:
        name = type(self).__name__
        check_range(name, "lr", group["lr"])
        check_range(name, "eps", group["eps"])
        check_range(name, "weight_decay", group["weight_decay"])
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}: betas={betas} must be a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            check_range(name, f"betas[{i}]", beta, 0.0, 1.0)

    def _group_state_arrays(self, group: dict) -> tuple:
        extra = ("max_exp_avg_sq",) if group["amsgrad"] else ()
        return ("exp_avg", "exp_avg_sq") + extra

    def _update(self, group, param, grad, state, scratch=None) -> None:
        beta1, beta2 = group["betas"]
        adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"],
                  state.get("max_exp_avg_sq"), step=state["step"], lr=group["lr"],
                  beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                  maximize=group["maximize"], decoupled_weight_decay=self._decoupled,
                  scratch=scratch)


    def _fused_update(self, group, param, grad, state) -> bool:
        """One compiled pass over the whole flat group, when numba is installed."""
        if not kernels.available():
            return False
        beta1, beta2 = group["betas"]
        kernels.adam_flat(param, grad, state["exp_avg"], state["exp_avg_sq"],
                          state.get("max_exp_avg_sq"), step=state["step"], lr=group["lr"],
                          beta1=beta1, beta2=beta2, eps=group["eps"],
                          weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                          maximize=group["maximize"], decoupled_weight_decay=self._decoupled)
        return True


class AdamW(Adam):
    """AdamW (torch.optim.AdamW): Adam with decoupled weight decay, w ← w·(1 - lr·λ)."""

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         fused=fused)
