"""One way to check an op: against NumPy, float64 finite differences, and torch when present.

`check_op` runs a function of Tensors and its references on the same inputs and compares
forward values and every input's gradient; every spec-driven test goes through it.
"""

from __future__ import annotations

import numpy as np

import ziptieai as zt
from ziptieai.autograd import gradcheck

try:
    import torch  # inputs are float64 arrays, so torch.tensor(a) keeps float64
except ImportError:  # the suite still means something without torch: gradcheck remains
    torch = None


def values(shape, domain: str, rng: np.random.Generator, index: int = 0) -> np.ndarray:
    """float64 sample values for a domain: keeps gradcheck away from kinks and poles.

    `index` tells the inputs of one sample apart: "distinct" puts input 1 on a grid shifted
    by half a step, so no value of one input ties with a value of the other.
    """
    if domain == "real":
        return rng.uniform(-2, 2, shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return rng.uniform(0.05, 0.95, shape)
    if domain == "away_from_zero":  # |x| in [0.1, 2]: relu, abs, leaky_relu, sign kinks
        return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "distinct":  # no two values within 0.05: max/min/clip ties and bounds
        n = int(np.prod(shape)) if shape else 1
        grid = (rng.permutation(max(n, 1))[:n] - n / 2) * 0.2 + rng.uniform(0.06, 0.08)
        grid += 0.1 * (index % 2)
        return grid.reshape(shape)
    raise ValueError(domain)


def to_torch(a: np.ndarray, requires_grad: bool = True):
    t = torch.tensor(a)
    return t.requires_grad_(requires_grad and a.dtype.kind == "f")


def assert_close(actual, expected, rtol, atol=0.0, what=""):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol,
                               err_msg=what)


def check_grad_shapes(fn, arrays) -> None:
    """After backward, x.grad has x's shape and dtype, and no input array was mutated."""
    before = [a.copy() for a in arrays]
    leaves = [zt.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*leaves)
    out.backward(np.ones_like(out.data))
    for i, (leaf, a, b) in enumerate(zip(leaves, arrays, before)):
        np.testing.assert_array_equal(a, b, err_msg=f"input {i} was mutated")
        if a.dtype.kind == "f":
            assert leaf.grad is not None, f"input {i} got no gradient"
            assert leaf.grad.shape == a.shape, f"input {i}: grad {leaf.grad.shape} vs {a.shape}"
            assert leaf.grad.dtype == a.dtype, f"input {i}: grad {leaf.grad.dtype} vs {a.dtype}"


def check_op(fn, arrays, ref=None, torch_fn=None, rtol_torch=1e-10) -> None:
    """Forward vs the NumPy reference, gradients vs finite differences and vs torch."""
    arrays = [np.asarray(a) for a in arrays]
    if ref is not None:
        got = fn(*[zt.tensor(a) for a in arrays]).data
        assert_close(got, ref(*arrays), rtol=1e-12, atol=1e-14, what="forward vs NumPy reference")
    gradcheck(fn, arrays)
    if torch_fn is not None and torch is not None:
        leaves = [zt.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(*leaves)
        tleaves = [to_torch(a) for a in arrays]
        tout = torch_fn(*tleaves)
        assert_close(out.data, tout.detach().numpy(), rtol=rtol_torch, atol=1e-14,
                     what="forward vs torch")
        v = np.random.default_rng(1).uniform(0.5, 1.5, out.data.shape)
        out.backward(v)
        tout.backward(torch.tensor(v))
        for i, (leaf, tleaf) in enumerate(zip(leaves, tleaves)):
            if leaf.requires_grad:
                tg = tleaf.grad.numpy() if tleaf.grad is not None else np.zeros(leaf.data.shape)
                assert_close(leaf.grad, tg, rtol=rtol_torch, atol=1e-13,
                             what=f"grad of input {i} vs torch")
