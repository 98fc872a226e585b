"""Gradient clipping against torch.nn.utils."""

import math

import numpy as np
import pytest

import ziptieai as zt
from ziptieai.nn.utils import clip_grad_norm_, clip_grad_value_

torch = pytest.importorskip("torch")


def pairs(scale, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    grads = [np.array(rng.standard_normal(s) * scale, dtype=dtype) for s in [(3, 4), (4,), ()]]
    ours = [zt.nn.Parameter(np.zeros(g.shape, dtype)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64 if dtype == np.float64 else torch.float32,
                          requires_grad=True) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad, tp.grad = g.copy(), torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 1e-3)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, scale):
    ours, theirs = pairs(scale)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_float32_and_single_tensor():
    ours, theirs = pairs(5.0, np.float32)
    total = clip_grad_norm_(ours[0], 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    assert total.dtype == np.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_errors_and_empty():
    assert clip_grad_norm_([zt.nn.Parameter(np.ones(2))], 1.0).item() == 0.0
    p = zt.nn.Parameter(np.ones(2))
    p.grad = np.array([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="nan"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm=-1.0"):
        clip_grad_norm_([p], -1.0)
    with pytest.raises(ValueError, match="norm_type=0.0"):
        clip_grad_norm_([p], 1.0, norm_type=0)


def test_clip_grad_value_matches_torch():
    ours, theirs = pairs(2.0)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, tp.grad.numpy())
    with pytest.raises(ValueError, match="clip_value=-1.0"):
        clip_grad_value_(ours, -1)
