"""SGD against torch.optim.SGD: every flag combination, 100 steps, same gradient sequence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ziptieai as zt
from ziptieai.optim import SGD

torch = pytest.importorskip("torch")

CONFIGS = [
    dict(lr=lr, momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
    for lr, m, d, wd, n, mx in itertools.product(
        [0.1, 0.01], [0.0, 0.9], [0.0, 0.3], [0.0, 0.05], [False, True], [False, True])
    if not (n and (m == 0 or d != 0))
]


def run_lockstep(config, dtype, grad_scale=1.0, steps=100, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), ()]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [zt.nn.Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, topt = SGD(ours, **config), torch.optim.SGD(theirs, **config)
    for _ in range(steps):
        for p, tp in zip(ours, theirs):
            g = (rng.standard_normal(p.shape) * grad_scale).astype(dtype)
            p.grad, tp.grad = g.copy(), torch.tensor(g.copy())
        opt.step()
        topt.step()
    return ours, theirs


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c) for c in CONFIGS])
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_sgd_matches_torch(config, dtype, rtol):
    for scale in (1.0, 1e-6):
        ours, theirs = run_lockstep(config, dtype, grad_scale=scale)
        for p, tp in zip(ours, theirs):
            expected = tp.detach().numpy()
            # NOTE: torch rounds p + (-lr)·g once (a fused kernel), NumPy twice; in float32 the
            # last-bit differences add up over 100 steps, so the bar is relative to the
            # tensor's scale there; float64 is held elementwise.
            scale = max(1.0, float(np.max(np.abs(expected)))) if dtype == np.float32 else 0.0
            np.testing.assert_allclose(p.data, expected, rtol=rtol, atol=rtol * scale + 1e-300)


def test_state_dict_round_trip_is_bit_identical():
    config = dict(lr=0.05, momentum=0.9, nesterov=True)
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 2)) for _ in range(100)]
    a = zt.nn.Parameter(np.ones((3, 2)))
    opt = SGD([a], **config)
    for g in grads:
        a.grad = g.copy()
        opt.step()
    b = zt.nn.Parameter(np.ones((3, 2)))
    opt_b = SGD([b], **config)
    for g in grads[:50]:
        b.grad = g.copy()
        opt_b.step()
    saved = opt_b.state_dict()
    c = zt.nn.Parameter(b.data.copy())
    opt_c = SGD([c], lr=1.0)
    opt_c.load_state_dict(saved)
    for g in grads[50:]:
        c.grad = g.copy()
        opt_c.step()
    np.testing.assert_array_equal(a.data, c.data)


def test_params_without_grad_are_skipped_and_groups_keep_their_lr():
    a, b, c = (zt.nn.Parameter(np.ones(2)) for _ in range(3))
    opt = SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    a.grad = np.ones(2)
    b.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, [0.9, 0.9])
    np.testing.assert_array_equal(b.data, [0.5, 0.5])
    np.testing.assert_array_equal(c.data, [1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-1.0), "lr=-1.0"), (dict(momentum=-0.5), "momentum=-0.5"),
    (dict(weight_decay=-1), "weight_decay=-1"), (dict(nesterov=True), "nesterov"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening=0.1"),
])
def test_bad_hyper_parameters_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD([zt.nn.Parameter(np.ones(2))], **{"lr": 0.1, **kwargs})
