"""Every optimizer against torch.optim, over an OptimizerSpec table of hyper-parameter grids.

Same initial parameters and the same gradient sequence for 100 steps: equal within 1e-10 in
float64 (also with gradients scaled by 1e-6, which exposes a misplaced epsilon) and 1e-5 in
float32. Plus: state_dict round trips, the fused path against the per-tensor one (bit for
bit), parameter groups, parameters without gradients, and bad hyper-parameters.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

import numpy as np
import pytest

import ziptieai as zt
from ziptieai import optim

torch = pytest.importorskip("torch")


def grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


@dataclass(frozen=True)
class OptimizerSpec:
    cls: type
    configs: list          # hyper-parameter dicts, each run against torch
    errors: list           # (kwargs, message fragment) that must raise ValueError


SPECS = [
    OptimizerSpec(optim.SGD, [
        c for c in grid(lr=[0.1, 0.01], momentum=[0.0, 0.9], dampening=[0.0, 0.3],
                        weight_decay=[0.0, 0.05], nesterov=[False, True], maximize=[False, True])
        if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0))],
        [(dict(lr=-1.0), "lr=-1.0"), (dict(momentum=-0.5), "momentum=-0.5"),
         (dict(weight_decay=-1), "weight_decay=-1"), (dict(nesterov=True), "nesterov"),
         (dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening=0.1")]),
    OptimizerSpec(optim.Adam, grid(lr=[1e-3, 0.05], betas=[(0.9, 0.999), (0.3, 0.9)],
                                   eps=[1e-8, 1e-3], weight_decay=[0.0, 0.1],
                                   amsgrad=[False, True], maximize=[False, True]),
                  [(dict(lr=-1e-3), "lr=-0.001"), (dict(eps=-1.0), "eps=-1.0"),
                   (dict(betas=(1.0, 0.999)), r"betas\[0\]=1.0"),
                   (dict(betas=(0.9, -0.1)), r"betas\[1\]=-0.1"),
                   (dict(weight_decay=-0.1), "weight_decay=-0.1")]),
    OptimizerSpec(optim.AdamW, grid(lr=[1e-3, 0.05], betas=[(0.9, 0.999), (0.6, 0.99)],
                                    weight_decay=[0.0, 1e-2, 0.3], amsgrad=[False, True],
                                    maximize=[False, True]),
                  [(dict(betas=(0.9, 1.5)), r"betas\[1\]=1.5"), (dict(lr=-1), "lr=-1")]),
    OptimizerSpec(optim.RMSprop, grid(lr=[1e-2, 1e-3], alpha=[0.99, 0.5], eps=[1e-8, 1e-2],
                                      weight_decay=[0.0, 0.1], momentum=[0.0, 0.9],
                                      centered=[False, True], maximize=[False, True]),
                  [(dict(alpha=-0.1), "alpha=-0.1"), (dict(momentum=-1), "momentum=-1"),
                   (dict(eps=-1e-8), "eps=-1e-08")]),
    OptimizerSpec(optim.Adagrad, grid(lr=[1e-2, 0.1], lr_decay=[0.0, 0.01],
                                      weight_decay=[0.0, 0.1],
                                      initial_accumulator_value=[0.0, 0.5], eps=[1e-10, 1e-3],
                                      maximize=[False, True]),
                  [(dict(lr_decay=-1), "lr_decay=-1"),
                   (dict(initial_accumulator_value=-1), "initial_accumulator_value=-1")]),
    OptimizerSpec(optim.NAdam, grid(lr=[2e-3, 0.05], betas=[(0.9, 0.999), (0.5, 0.9)],
                                    weight_decay=[0.0, 0.1], momentum_decay=[4e-3, 0.1],
                                    decoupled_weight_decay=[False, True], maximize=[False, True]),
                  [(dict(momentum_decay=-1), "momentum_decay=-1"),
                   (dict(betas=(1.2, 0.9)), r"betas\[0\]=1.2")]),
    OptimizerSpec(optim.RAdam, grid(lr=[1e-3, 0.05], betas=[(0.9, 0.999), (0.5, 0.9)],
                                    eps=[1e-8, 1e-3], weight_decay=[0.0, 0.1],
                                    decoupled_weight_decay=[False, True], maximize=[False, True]),
                  [(dict(eps=-1), "eps=-1"), (dict(betas=(0.9, 1.0)), r"betas\[1\]=1.0")]),
]
CASES = [(spec.cls, c) for spec in SPECS for c in spec.configs]
SHAPES = [(4, 3), (3,), ()]


def gradients(dtype, scale, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [[(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]
            for _ in range(steps)]


def initial(dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def run_ours(cls, config, dtype, grads, fused=None, params=None):
    params = params or [zt.nn.Parameter(a.copy()) for a in initial(dtype)]
    opt = cls(params, fused=fused, **config)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.copy()
        opt.step()
    return params, opt


def run_torch(cls, config, dtype, grads):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in initial(dtype)]
    opt = getattr(torch.optim, cls.__name__)(params, **config)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g.copy())
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("cls,config", CASES, ids=[f"{c.__name__}-{k}" for c, k in CASES])
def test_matches_torch_in_float64(cls, config):
    for scale in (1.0, 1e-6):
        grads = gradients(np.float64, scale, 100)
        ours, _ = run_ours(cls, config, np.float64, grads)
        for p, expected in zip(ours, run_torch(cls, config, np.float64, grads)):
            np.testing.assert_allclose(p.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=[s.cls.__name__ for s in SPECS])
def test_matches_torch_in_float32(spec):
    for config in spec.configs[:: max(1, len(spec.configs) // 8)]:
        grads = gradients(np.float32, 1.0, 100)
        ours, _ = run_ours(spec.cls, config, np.float32, grads)
        for p, expected in zip(ours, run_torch(spec.cls, config, np.float32, grads)):
            # NOTE: torch fuses some multiply-adds (one rounding where NumPy has two); over
            # 100 steps float32 last bits drift, so the bar is relative to the tensor's scale.
            scale = max(1.0, float(np.max(np.abs(expected))))
            np.testing.assert_allclose(p.data, expected, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("spec", SPECS, ids=[s.cls.__name__ for s in SPECS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_path_equals_per_tensor_path_bit_for_bit(spec, dtype):
    for config in spec.configs[:: max(1, len(spec.configs) // 6)]:
        grads = gradients(dtype, 1.0, 30)
        fused, opt = run_ours(spec.cls, config, dtype, grads, fused=True)
        assert opt._flat, "the fused path did not engage"
        plain, opt_plain = run_ours(spec.cls, config, dtype, grads, fused=False)
        assert not opt_plain._flat
        for a, b in zip(fused, plain):
            np.testing.assert_array_equal(a.data, b.data)


def test_fused_path_crosses_chunk_boundaries(monkeypatch):
    from ziptieai.optim import flat

    monkeypatch.setattr(flat, "CHUNK", 5)  # 13 elements: chunks of 5, 5 and 3
    grads = gradients(np.float64, 1.0, 20)
    fused, opt = run_ours(optim.NAdam, {}, np.float64, grads, fused=True)
    plain, _ = run_ours(optim.NAdam, {}, np.float64, grads, fused=False)
    assert opt._flat[0].scratch[0].size == 5
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("spec", SPECS, ids=[s.cls.__name__ for s in SPECS])
@pytest.mark.parametrize("fused", [True, False])
def test_state_dict_round_trip_then_lockstep_is_bit_identical(spec, fused):
    config = spec.configs[-1]
    grads = gradients(np.float64, 1.0, 100)
    full, _ = run_ours(spec.cls, config, np.float64, grads, fused=fused)
    half, opt = run_ours(spec.cls, config, np.float64, grads[:50], fused=fused)
    saved = opt.state_dict()
    resumed = [zt.nn.Parameter(p.data.copy()) for p in half]
    opt2 = spec.cls(resumed, fused=fused)  # default hyper-parameters, replaced by the load
    opt2.load_state_dict(saved)
    for gs in grads[50:]:
        for p, g in zip(resumed, gs):
            p.grad = g.copy()
        opt2.step()
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("spec", SPECS, ids=[s.cls.__name__ for s in SPECS])
def test_groups_and_parameters_without_grad(spec):
    """Two groups with different lrs; a parameter with no grad is left alone; vs torch."""
    a, b, c = (np.full(3, v) for v in (1.0, 2.0, 3.0))
    ours = [zt.nn.Parameter(x.copy()) for x in (a, b, c)]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in (a, b, c)]
    opt = spec.cls([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.2}], lr=0.01)
    topt = getattr(torch.optim, spec.cls.__name__)(
        [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.2}], lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(10):
        for p, tp in zip(ours[:2], theirs[:2]):  # the third never gets a gradient
            g = rng.standard_normal(3)
            p.grad, tp.grad = g.copy(), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10)
    np.testing.assert_array_equal(ours[2].data, c)
    assert ours[2] not in opt.state
    opt.zero_grad()
    assert all(p.grad is None for p in ours)


@pytest.mark.parametrize("cls,kwargs,match",
                         [(s.cls, k, m) for s in SPECS for k, m in s.errors],
                         ids=[f"{s.cls.__name__}-{k}" for s in SPECS for k, _ in s.errors])
def test_bad_hyper_parameters_name_the_value(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([zt.nn.Parameter(np.ones(2))], **kwargs)


def test_bad_params_are_refused():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(zt.nn.Parameter(np.ones(2)), lr=0.1)
    p = zt.nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)


def test_backward_fills_the_flat_gradient_buffer():
    model = zt.nn.Linear(3, 2)
    opt = optim.Adam(model.parameters())
    flat = opt._flat[0]
    model(zt.tensor(np.ones((4, 3), np.float32))).sum().backward()
    assert model.weight.grad.base is flat.grad_buf and model.bias.grad.base is flat.grad_buf
    assert model.weight.data.base is flat.param_buf
    np.testing.assert_array_equal(model.bias.grad, [4.0, 4.0])
    opt.step()
    opt.zero_grad()
    model(zt.tensor(np.ones((1, 3), np.float32))).sum().backward()
    np.testing.assert_array_equal(model.bias.grad, [1.0, 1.0])  # refilled, not accumulated


def test_every_optimizer_has_a_spec():
    public = {obj for name, obj in vars(optim).items()
              if inspect.isclass(obj) and issubclass(obj, optim.Optimizer)
              and obj is not optim.Optimizer}
    assert public - {s.cls for s in SPECS} == set()
