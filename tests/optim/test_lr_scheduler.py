"""lr_scheduler against torch.optim.lr_scheduler, driven by one SchedulerSpec table.

Every scheduler × config runs 100 steps beside torch on SGD with two param groups of
different lrs (optimizer.step() before scheduler.step(), as torch expects), and the lr (and
momentum) of every group, `get_last_lr()` and `last_epoch` must equal torch's after every
step. NOTE: the bar is exact equality, stricter than rtol 1e-12: the schedules are plain
Python float arithmetic done in torch's order, so there is no reason for a last-bit difference.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass

import numpy as np
import pytest

import ziptieai as zt
from ziptieai.optim import lr_scheduler
from ziptieai.optim import SGD, Optimizer

GROUP_LRS = (0.1, 0.05)
STEPS = 100


def _warmup(t):
    return min(1.0, (t + 1) / 10)


def _decay(t):
    return 0.95**t


class _Scaled:
    """A callable object: LambdaLR's state_dict keeps its attributes (functions are left out)."""

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, t):
        return self.scale * 0.99**t


def _metric_sequence(n=STEPS):
    """Falls, exact plateaus (ties), rises, and noise far below any threshold, in turn."""
    rng = np.random.default_rng(0)
    out, m = [], 1.0
    for t in range(n):
        phase = (t // 12) % 4
        if phase == 0:
            m *= 0.9
        elif phase == 2:
            m *= 1.05
        elif phase == 3:
            m *= 1 + 1e-6 * rng.standard_normal()
        out.append(m)
    return out


METRICS = _metric_sequence()


@dataclass(frozen=True)
class SchedulerSpec:
    name: str  # the class name, the same in ziptieai and torch
    configs: tuple  # keyword arguments, each run against torch
    errors: tuple  # (keyword arguments, the "name=value" the ValueError must show)
    metrics: bool = False  # step(metric) instead of step()


SPECS = [
    SchedulerSpec("StepLR",
                  (dict(step_size=30), dict(step_size=7, gamma=0.5),
                   dict(step_size=1, gamma=0.97)),
                  ((dict(step_size=0), "step_size=0"), (dict(step_size=2.5), "step_size=2.5"),
                   (dict(step_size=5, gamma=-1), "gamma=-1"),
                   (dict(step_size=5, gamma=0), "gamma=0"))),
    SchedulerSpec("MultiStepLR",
                  (dict(milestones=[10, 40, 70]),
                   dict(milestones=[30, 30, 5, 80], gamma=0.5)),  # unsorted, repeated
                  ((dict(milestones=[3, -1]), "milestones=[3, -1]"),
                   (dict(milestones=[2], gamma=0.0), "gamma=0.0"))),
    SchedulerSpec("ExponentialLR",
                  (dict(gamma=0.95), dict(gamma=1.02)),
                  ((dict(gamma=0.0), "gamma=0.0"), (dict(gamma=float("nan")), "gamma=nan"))),
    SchedulerSpec("CosineAnnealingLR",
                  (dict(T_max=100), dict(T_max=30, eta_min=0.001), dict(T_max=7),
                   dict(T_max=1, eta_min=0.01)),
                  ((dict(T_max=0), "T_max=0"), (dict(T_max=10.5), "T_max=10.5"),
                   (dict(T_max=10, eta_min=-0.1), "eta_min=-0.1"))),
    SchedulerSpec("LinearLR",
                  (dict(), dict(start_factor=0.1, total_iters=20),
                   dict(start_factor=1.0, end_factor=0.0, total_iters=50),
                   dict(start_factor=0.5, end_factor=0.25, total_iters=3)),
                  ((dict(start_factor=0), "start_factor=0"),
                   (dict(start_factor=1.5), "start_factor=1.5"),
                   (dict(end_factor=-0.1), "end_factor=-0.1"),
                   (dict(total_iters=0), "total_iters=0"))),
    SchedulerSpec("OneCycleLR",
                  (dict(max_lr=1.0, total_steps=100),
                   dict(max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=10,
                        anneal_strategy="linear", three_phase=True),
                   dict(max_lr=0.3, total_steps=100, pct_start=0.25, cycle_momentum=False,
                        div_factor=10.0, final_div_factor=100.0),
                   dict(max_lr=0.3, total_steps=120, three_phase=True,
                        base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.99])),
                  ((dict(max_lr=0.1, total_steps=0), "total_steps=0"),
                   (dict(max_lr=0.1), "total_steps=None"),
                   (dict(max_lr=0.1, epochs=0, steps_per_epoch=5), "epochs=0"),
                   (dict(max_lr=0.1, total_steps=10, pct_start=1.5), "pct_start=1.5"),
                   (dict(max_lr=0.1, total_steps=10, anneal_strategy="cosine"),
                    "anneal_strategy='cosine'"),
                   (dict(max_lr=[0.1], total_steps=10), "max_lr=[0.1]"),
                   (dict(max_lr=-0.1, total_steps=10), "max_lr=-0.1"),
                   (dict(max_lr=0.1, total_steps=10, div_factor=0), "div_factor=0"),
                   (dict(max_lr=0.1, total_steps=10, base_momentum=[0.8]),
                    "base_momentum=[0.8]"))),
    SchedulerSpec("LambdaLR",
                  (dict(lr_lambda=_warmup), dict(lr_lambda=[_warmup, _decay]),
                   dict(lr_lambda=[_Scaled(0.5), lambda t: 1.0 / (1 + t)])),
                  ((dict(lr_lambda=[_warmup]), "lr_lambda=[<function"),
                   (dict(lr_lambda=3), "lr_lambda=3"))),
    SchedulerSpec("ReduceLROnPlateau",
                  (dict(), dict(patience=0, factor=0.5, eps=1e-3, min_lr=1e-3),
                   dict(mode="max", factor=0.5, patience=2, threshold=0.01,
                        threshold_mode="abs", cooldown=3, min_lr=[0.01, 0.0]),
                   dict(mode="max", threshold=0.05, patience=3, cooldown=1),
                   dict(threshold_mode="abs", threshold=0.0, patience=1, factor=0.0)),
                  ((dict(factor=1.0), "factor=1.0"), (dict(mode="avg"), "mode='avg'"),
                   (dict(threshold_mode="pct"), "threshold_mode='pct'"),
                   (dict(patience=-1), "patience=-1"), (dict(cooldown=-1), "cooldown=-1"),
                   (dict(min_lr=[0.1]), "min_lr=[0.1]"), (dict(min_lr=-1), "min_lr=-1")),
                  metrics=True),
]
CASES = [(s, c) for s in SPECS for c in s.configs]
IDS = [f"{s.name}-{i}" for s in SPECS for i in range(len(s.configs))]


# ---- helpers -------------------------------------------------------------------------------
def _groups(params):
    return [{"params": [params[0]]}, {"params": [params[1]], "lr": GROUP_LRS[1]}]


def build(spec, config, lib="ziptieai", **extra):
    """(optimizer, scheduler): SGD(lr=0.1, momentum=0.9) with a second group at lr=0.05."""
    if lib == "torch":
        import torch

        params = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in GROUP_LRS]
        for p in params:
            p.grad = torch.ones(2, dtype=torch.float64)
        opt = torch.optim.SGD(_groups(params), lr=GROUP_LRS[0], momentum=0.9)
        return opt, getattr(torch.optim.lr_scheduler, spec.name)(opt, **config, **extra)
    params = [zt.nn.Parameter(np.ones(2)) for _ in GROUP_LRS]
    for p in params:
        p.grad = np.ones(2)
    opt = SGD(_groups(params), lr=GROUP_LRS[0], momentum=0.9)
    return opt, getattr(lr_scheduler, spec.name)(opt, **config, **extra)


def advance(spec, opt, sched, t):
    opt.step()
    if spec.metrics:
        sched.step(METRICS[t])
    else:
        sched.step()


def record(opt, sched):
    """Everything a schedule sets: each group's lr and momentum, get_last_lr, last_epoch."""
    groups = tuple((g["lr"], g["momentum"]) for g in opt.param_groups)
    return groups, tuple(sched.get_last_lr()), sched.last_epoch


# ---- torch parity ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec,config", CASES, ids=IDS)
def test_matches_torch_every_step(spec, config):
    pytest.importorskip("torch")
    opt, sched = build(spec, config)
    topt, tsched = build(spec, config, lib="torch")
    assert record(opt, sched) == record(topt, tsched), "after construction"
    for t in range(STEPS):
        advance(spec, opt, sched, t)
        advance(spec, topt, tsched, t)
        assert record(opt, sched) == record(topt, tsched), f"step {t + 1}"


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.metrics], ids=lambda s: s.name)
def test_resuming_with_last_epoch_matches_torch(spec):
    """torch's other way to resume: a new scheduler with last_epoch=k on the same optimizer."""
    pytest.importorskip("torch")
    runs = []
    for lib in ("ziptieai", "torch"):
        opt, sched = build(spec, spec.configs[0], lib=lib)
        for t in range(40):
            advance(spec, opt, sched, t)
        sched = type(sched)(opt, **spec.configs[0], last_epoch=40)
        trace = [record(opt, sched)]
        for t in range(40, 70):
            advance(spec, opt, sched, t)
            trace.append(record(opt, sched))
        runs.append(trace)
    assert runs[0] == runs[1]


def test_one_cycle_cycles_beta1_like_torch_adam():
    torch = pytest.importorskip("torch")

    class BetaOpt(Optimizer):  # any optimizer whose defaults hold "betas"
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999)):
            super().__init__(params, dict(lr=lr, betas=betas))

        def _update(self, group, param, state):
            pass

    config = dict(max_lr=[0.01, 0.02], total_steps=50, base_momentum=0.8)
    opt = BetaOpt(_groups([zt.nn.Parameter(np.ones(2)) for _ in GROUP_LRS]), lr=0.1)
    tparams = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in GROUP_LRS]
    topt = torch.optim.Adam(_groups(tparams), lr=0.1)
    sched = lr_scheduler.OneCycleLR(opt, **config)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, **config)
    for _ in range(50):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        for g, tg in zip(opt.param_groups, topt.param_groups):
            assert (g["lr"], g["betas"]) == (tg["lr"], tg["betas"])


def test_one_cycle_refuses_to_step_past_total_steps_like_torch():
    pytest.importorskip("torch")
    spec = next(s for s in SPECS if s.name == "OneCycleLR")
    for lib in ("ziptieai", "torch"):
        opt, sched = build(spec, dict(max_lr=0.1, total_steps=3), lib=lib)
        for t in range(3):
            advance(spec, opt, sched, t)
        opt.step()
        with pytest.raises(ValueError, match="(?i)tried to step 4 times"):
            sched.step()


def test_plateau_gives_a_scalar_min_lr_to_groups_added_later_like_torch():
    torch = pytest.importorskip("torch")
    spec = next(s for s in SPECS if s.name == "ReduceLROnPlateau")
    config = dict(patience=0, min_lr=0.02)
    (opt, sched), (topt, tsched) = build(spec, config), build(spec, config, lib="torch")
    opt.add_param_group({"params": [zt.nn.Parameter(np.ones(1))], "lr": 1.0})
    topt.add_param_group({"params": [torch.ones(1, requires_grad=True)], "lr": 1.0})
    for t in range(20):
        advance(spec, opt, sched, t)
        advance(spec, topt, tsched, t)
        assert record(opt, sched) == record(topt, tsched)


TRAINING = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "OneCycleLR",
     dict(max_lr=0.5, total_steps=STEPS)),
    ("Adam", dict(lr=0.01), "OneCycleLR", dict(max_lr=[0.05, 0.02], total_steps=STEPS,
                                               three_phase=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1), "CosineAnnealingLR", dict(T_max=30)),
    ("SGD", dict(lr=0.1, momentum=0.9), "ReduceLROnPlateau", dict(patience=2)),
]


@pytest.mark.parametrize("opt_name,opt_kwargs,name,kwargs", TRAINING,
                         ids=[f"{o}-{n}" for o, _, n, _ in TRAINING])
def test_scheduled_training_matches_torch(opt_name, opt_kwargs, name, kwargs):
    """The optimizers read the scheduled lr (and momentum / betas) at every step."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in ((3, 4), (5,))]
    ours = [zt.nn.Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(zt.optim, opt_name)(_groups(ours), **opt_kwargs)
    topt = getattr(torch.optim, opt_name)(_groups(theirs), **opt_kwargs)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for t in range(STEPS):
        for p, tp in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad, tp.grad = g.copy(), torch.tensor(g)
        opt.step()
        topt.step()
        args = (METRICS[t],) if name == "ReduceLROnPlateau" else ()
        sched.step(*args)
        tsched.step(*args)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


# ---- state_dict -----------------------------------------------------------------------------
@pytest.mark.parametrize("spec,config", CASES, ids=IDS)
def test_state_dict_round_trip_is_bit_identical(spec, config):
    opt, sched = build(spec, config)
    straight = []
    for t in range(STEPS):
        advance(spec, opt, sched, t)
        straight.append(record(opt, sched))

    opt, sched = build(spec, config)
    for t in range(STEPS // 2):
        advance(spec, opt, sched, t)
    saved = pickle.loads(pickle.dumps((opt.state_dict(), sched.state_dict())))
    assert "optimizer" not in saved[1]
    opt, sched = build(spec, config)  # torch's order: scheduler built, then both loaded
    opt.load_state_dict(saved[0])
    sched.load_state_dict(saved[1])
    resumed = straight[: STEPS // 2]
    for t in range(STEPS // 2, STEPS):
        advance(spec, opt, sched, t)
        resumed.append(record(opt, sched))
    assert resumed == straight


def test_lambda_state_keeps_callable_objects_and_leaves_functions_out():
    spec = next(s for s in SPECS if s.name == "LambdaLR")
    scaled = _Scaled(0.5)
    _, sched = build(spec, dict(lr_lambda=[scaled, _decay]))
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"scale": 0.5}, None]
    scaled.scale = 3.0
    sched.load_state_dict(state)
    assert scaled.scale == 0.5 and sched.lr_lambdas[1] is _decay
    assert state["lr_lambdas"] == [{"scale": 0.5}, None]  # loading leaves the dict intact


def test_state_dict_is_a_copy():
    spec = SPECS[0]
    opt, sched = build(spec, spec.configs[0])
    state = sched.state_dict()
    state["base_lrs"][0] = 123.0
    assert sched.base_lrs[0] == GROUP_LRS[0]


# ---- construction and arguments --------------------------------------------------------------
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_bad_arguments_raise_naming_the_value(spec):
    for kwargs, shown in spec.errors:
        with pytest.raises(ValueError, match=re.escape(f"{spec.name}: {shown}")):
            build(spec, kwargs)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_needs_an_optimizer(spec):
    with pytest.raises(TypeError, match="is not an Optimizer"):
        getattr(lr_scheduler, spec.name)(object(), **spec.configs[0])


def test_construction_sets_initial_lr_and_takes_the_initial_step():
    spec = next(s for s in SPECS if s.name == "LinearLR")
    opt, sched = build(spec, dict(start_factor=0.5))
    assert [g["initial_lr"] for g in opt.param_groups] == list(GROUP_LRS) == sched.base_lrs
    assert sched.last_epoch == 0
    assert sched.get_last_lr() == [lr * 0.5 for lr in GROUP_LRS]


def test_resuming_needs_initial_lr():
    opt = SGD([zt.nn.Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)
    with pytest.raises(ValueError, match=re.escape("StepLR: last_epoch=-2")):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=-2)


def test_one_cycle_needs_momentum_or_betas_to_cycle():
    class Plain(Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

    opt = Plain([zt.nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="cycle_momentum=True"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_plateau_accepts_a_0d_tensor_metric():
    opt = SGD([zt.nn.Parameter(np.ones(2))], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(zt.tensor(1.0))
    sched.step(zt.tensor(2.0))
    assert sched.best == 1.0 and sched.get_last_lr() == [0.1 * 0.1]


# ---- meta ------------------------------------------------------------------------------------
def test_every_scheduler_has_a_spec_and_a_docstring():
    classes = {name: obj for name, obj in vars(lr_scheduler).items()
               if isinstance(obj, type) and issubclass(obj, lr_scheduler.LRScheduler)
               and obj is not lr_scheduler.LRScheduler and not name.startswith("_")}
    assert set(classes) == {s.name for s in SPECS}
    assert set(lr_scheduler.__all__) == set(classes) | {"LRScheduler"}
    assert all(obj.__doc__ for obj in classes.values())
    assert all(s.configs and s.errors for s in SPECS)
