"""Learning-rate schedulers with torch.optim.lr_scheduler's semantics and numbers.

Each scheduler is one small class whose `get_lr()` is its formula. The chainable ones
(StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR) update the *current*
`group["lr"]` recursively, exactly as torch does, so the floats match torch bit for bit and
they compose with other changes to the learning rate. Usage is torch's:

    >>> opt = SGD(params, lr=0.1)                                # doctest: +SKIP
    >>> sched = StepLR(opt, step_size=30, gamma=0.1)             # doctest: +SKIP
    >>> for epoch in range(100):                                 # doctest: +SKIP
    ...     train_one_epoch(opt); sched.step()                   # optimizer.step() first

Constructing a scheduler records `group["initial_lr"]` (→ `base_lrs`) and performs the
initial step (`last_epoch` -1 → 0), as torch does. `state_dict()` is every attribute but the
optimizer (LambdaLR: not its functions either), so it pickles.

Deliberately absent: the deprecated `step(epoch)` argument and the closed forms that only it
used; torch's wrapping of `optimizer.step` to warn about calling order (it monkey-patches the
optimizer); and the schedulers nobody asked for yet (Cyclic, Polynomial, Sequential, ...).
"""

from __future__ import annotations

import copy
import math
import numbers
import types
from collections import Counter
from typing import Callable

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LinearLR", "OneCycleLR", "LambdaLR", "ReduceLROnPlateau"]


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _require(ok: bool, where: str, name: str, value, rule: str) -> None:
    """ValueError "StepLR: gamma=-1 must be > 0" unless `ok`."""
    if not ok:
        raise ValueError(f"{where}: {name}={value!r} must be {rule}")


def _check_optimizer(where: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: {type(optimizer).__name__} is not an Optimizer")


def _per_group(where: str, name: str, value, optimizer: Optimizer) -> list:
    """A scalar repeated for every param group, or a list/tuple with one value per group."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        _require(len(value) == n, where, name, value, f"one value per param group ({n})")
        return list(value)
    return [value] * n


class LRScheduler:
    """Base class: `step()` advances `last_epoch` and writes `get_lr()` into the groups.

    Subclasses set their hyper-parameters, then call `super().__init__`, and implement
    `get_lr()` (the lr of every group at `last_epoch`). `last_epoch=-1` starts a schedule;
    a value >= 0 resumes one, and then every group must already hold "initial_lr".
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        _require(_is_int(last_epoch) and last_epoch >= -1, type(self).__name__, "last_epoch",
                 last_epoch, "an integer >= -1")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no "
                                   f"'initial_lr', needed to resume at last_epoch={last_epoch}"
                                   "; load the optimizer's state_dict first")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        # NOTE: the initial step is marked, so the recursive schedulers do not advance the lr
        # a second time when resuming at last_epoch >= 0 (torch's `_initial_mode`).
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of every group at `last_epoch` (called by `step`; use `get_last_lr`)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per param group."""
        return self._last_lr

    def step(self) -> None:
        """Advance one epoch (or batch) and set every group's lr. Call after optimizer.step()."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (a deep copy)."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by `state_dict()` (load the optimizer's state too)."""
        self.__dict__.update(copy.deepcopy(state_dict))


class LambdaLR(LRScheduler):
    """lr_t = base_lr · λ(t), one function λ for all groups or one per group.

    `state_dict()` leaves plain functions and lambdas out (stores None); a callable object's
    `__dict__` is saved and restored, as torch does.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]
                 | list[Callable[[int], float]], last_epoch: int = -1) -> None:
        _check_optimizer("LambdaLR", optimizer)
        self.optimizer = optimizer
        lambdas = _per_group("LambdaLR", "lr_lambda", lr_lambda, optimizer)
        for fn in lambdas:
            _require(callable(fn), "LambdaLR", "lr_lambda", fn, "a callable (or one per group)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * fn(self.last_epoch)
                for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict:
        state = copy.deepcopy({k: v for k, v in self.__dict__.items()
                               if k not in ("optimizer", "lr_lambdas")})
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType)
                               else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = copy.deepcopy(state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                fn.__dict__.update(attrs)


class StepLR(LRScheduler):
    """lr ← lr · γ whenever t is a positive multiple of step_size.

    Closed form: lr_t = base_lr · γ^⌊t / step_size⌋.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _require(_is_int(step_size) and step_size >= 1, "StepLR", "step_size", step_size,
                 "an integer >= 1")
        _require(gamma > 0, "StepLR", "gamma", gamma, "> 0")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """lr ← lr · γ^c at a milestone t listed c times (milestones may repeat, any order).

    Closed form: lr_t = base_lr · γ^#{milestones ≤ t}.
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        milestones = list(milestones)
        for m in milestones:
            _require(_is_int(m) and m >= 0, "MultiStepLR", "milestones", milestones,
                     "integers >= 0")
        _require(gamma > 0, "MultiStepLR", "gamma", gamma, "> 0")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """lr ← lr · γ every step  (= base_lr · γ^t)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _require(gamma > 0, "ExponentialLR", "gamma", gamma, "> 0")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr to eta_min over T_max steps, in torch's recursive form.

        η_t = η_min + (η_{t-1} - η_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t-1) / T_max))

    which follows the closed form η_t = η_min + (base_lr - η_min)·(1 + cos(π t / T_max))/2
    and keeps going past T_max (back up to base_lr at 2·T_max, and so on). Where the
    denominator would be 0 (t - 1 = T_max mod 2·T_max) it adds the first step of the rise,
    (base_lr - η_min)·(1 - cos(π / T_max))/2, instead.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        _require(_is_int(T_max) and T_max >= 1, "CosineAnnealingLR", "T_max", T_max,
                 "an integer >= 1")
        _require(eta_min >= 0, "CosineAnnealingLR", "eta_min", eta_min, ">= 0")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        # NOTE: torch 2.13 also has a closed-form branch for `_step_count == 1 and t > 0`;
        # only the initial step has _step_count == 1, and it returns early here, so it is
        # left out.
        if self._is_initial:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base_lr in zip(self._current_lrs(), self.base_lrs, strict=True)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - eta_min) + eta_min for lr in self._current_lrs()]


class LinearLR(LRScheduler):
    """Multiply base_lr by a factor moving linearly from start_factor to end_factor.

        f_t = start + (end - start) · min(t, total_iters) / total_iters,   lr_t = base_lr · f_t

    computed recursively as torch does: lr_t = lr_{t-1} · f_t / f_{t-1}, i.e.
    lr ← lr · (1 + (end - start) / (total_iters · start + (t - 1)·(end - start))).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        _require(0 < start_factor <= 1, "LinearLR", "start_factor", start_factor, "in (0, 1]")
        _require(0 <= end_factor <= 1, "LinearLR", "end_factor", end_factor, "in [0, 1]")
        _require(_is_int(total_iters) and total_iters >= 1, "LinearLR", "total_iters",
                 total_iters, "an integer >= 1")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        delta = self.end_factor - self.start_factor
        ratio = 1.0 + delta / (self.total_iters * self.start_factor
                               + (self.last_epoch - 1) * delta)
        return [lr * ratio for lr in self._current_lrs()]


def _anneal_cos(start: float, end: float, pct: float) -> float:
    """start → end along half a cosine as pct goes 0 → 1."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start: float, end: float, pct: float) -> float:
    """start → end along a straight line as pct goes 0 → 1."""
    return (end - start) * pct + start


def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str,
           end_momentum: str) -> dict:
    """One OneCycleLR phase: ends at `end_step`, anneals between the named group keys."""
    return dict(end_step=end_step, start_lr=start_lr, end_lr=end_lr,
                start_momentum=start_momentum, end_momentum=end_momentum)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017), per batch, with fastai's two phases by default.

    With initial_lr = max_lr / div_factor and min_lr = initial_lr / final_div_factor, over
    total_steps = T steps (p = pct_start), annealing ('cos' or 'linear') between:

        two phases:   initial_lr → max_lr for steps [0, pT - 1], then max_lr → min_lr to T - 1
        three_phase:  initial_lr → max_lr → initial_lr (ends at 2pT - 2) → min_lr at T - 1

    Momentum (SGD's "momentum", or betas[0] for groups with "betas") moves inversely, between
    max_momentum and base_momentum, when cycle_momentum is True. Stepping past total_steps
    raises ValueError. The phase boundaries and group keys ("initial_lr", "max_lr",
    "min_lr", "max_momentum", "base_momentum") are torch's.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        where = "OneCycleLR"
        _check_optimizer(where, optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            _require(_is_int(total_steps) and total_steps > 0, where, "total_steps",
                     total_steps, "a positive integer")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _require(_is_int(epochs) and epochs > 0, where, "epochs", epochs,
                     "a positive integer")
            _require(_is_int(steps_per_epoch) and steps_per_epoch > 0, where,
                     "steps_per_epoch", steps_per_epoch, "a positive integer")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{where}: total_steps=None needs both epochs and steps_per_epoch "
                             f"(got epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r})")
        _require(0 <= pct_start <= 1, where, "pct_start", pct_start, "in [0, 1]")
        _require(anneal_strategy in ("cos", "linear"), where, "anneal_strategy",
                 anneal_strategy, "'cos' or 'linear'")
        _require(div_factor > 0, where, "div_factor", div_factor, "> 0")
        _require(final_div_factor > 0, where, "final_div_factor", final_div_factor, "> 0")
        self._anneal_func_type = anneal_strategy

        T = self.total_steps
        if three_phase:
            self._schedule_phases = [
                _phase(float(pct_start * T) - 1, "initial_lr", "max_lr",
                      "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * T) - 2, "max_lr", "initial_lr",
                      "base_momentum", "max_momentum"),
                _phase(T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._schedule_phases = [
                _phase(float(pct_start * T) - 1, "initial_lr", "max_lr",
                      "max_momentum", "base_momentum"),
                _phase(T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]

        max_lrs = _per_group(where, "max_lr", max_lr, optimizer)
        for lr in max_lrs:
            _require(lr > 0, where, "max_lr", max_lr, "> 0")
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{where}: cycle_momentum=True needs an optimizer with "
                                 f"'momentum' or 'betas'; {type(optimizer).__name__} has "
                                 "neither (pass cycle_momentum=False)")
            self.use_beta1 = "betas" in optimizer.defaults
            max_ms = _per_group(where, "max_momentum", max_momentum, optimizer)
            base_ms = _per_group(where, "base_momentum", base_momentum, optimizer)
            if last_epoch == -1:
                for group, m_max, m_base in zip(optimizer.param_groups, max_ms, base_ms,
                                                strict=True):
                    self._set_momentum(group, m_max)
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {t} times; total_steps="
                             f"{self.total_steps}")
        anneal = _anneal_cos if self._anneal_func_type == "cos" else _anneal_linear
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if t <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (t - start_step) / (end_step - start_step)
                    break
                start_step = end_step
            lrs.append(anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                self._set_momentum(group, anneal(group[phase["start_momentum"]],
                                                 group[phase["end_momentum"]], pct))
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply lr by `factor` when a metric has not improved for more than `patience` steps.

    step(metric) counts a step as an improvement when (mode, threshold_mode):

        min, rel:  metric < best·(1 - threshold)      min, abs:  metric < best - threshold
        max, rel:  metric > best·(1 + threshold)      max, abs:  metric > best + threshold

    After num_bad_epochs > patience: lr ← max(lr·factor, min_lr) in each group (skipped when
    the change is <= eps), then `cooldown` steps during which bad steps are not counted.
    Not chainable, and it sets no "initial_lr" (torch's behaviour).
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        where = "ReduceLROnPlateau"
        _check_optimizer(where, optimizer)
        _require(0 <= factor < 1, where, "factor", factor, "in [0, 1)")
        _require(_is_int(patience) and patience >= 0, where, "patience", patience,
                 "an integer >= 0")
        _require(_is_int(cooldown) and cooldown >= 0, where, "cooldown", cooldown,
                 "an integer >= 0")
        _require(threshold >= 0, where, "threshold", threshold, ">= 0")
        _require(eps >= 0, where, "eps", eps, ">= 0")
        self.optimizer = optimizer
        self.factor = factor
        min_lrs = _per_group(where, "min_lr", min_lr, optimizer)
        for value in min_lrs:
            _require(value >= 0, where, "min_lr", min_lr, ">= 0")
        # NOTE: a scalar min_lr is remembered so groups added later get it too (torch).
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = min_lrs
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        _require(mode in ("min", "max"), "ReduceLROnPlateau", "mode", mode, "'min' or 'max'")
        _require(threshold_mode in ("rel", "abs"), "ReduceLROnPlateau", "threshold_mode",
                 threshold_mode, "'rel' or 'abs'")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics) -> None:  # type: ignore[override]
        """Record one value of the monitored metric (a number or a 0-d tensor)."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} param "
                                   f"groups but min_lrs has {len(self.min_lrs)} (a group was "
                                   "added?); set `min_lrs` to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
