"""W4: per-op overhead of the autograd engine: a 1,000-op elementwise chain on 10 elements.

The chain cycles through x·1.01, x+0.01, tanh(x), x·w, x+b (200 of each; w and b are
10-element float32 leaves requiring grad, as is the input x), then sums and runs backward.
With 10 elements the arithmetic is nothing: this measures what each op costs to record and
to differentiate. Reported as µs per op for forward + backward (call time / 1000), for ziptieai
and torch eager, with their paired ratio; a NumPy forward-only ufunc chain is shown as the floor.
Correctness first: the output and the gradients of x, w, b match torch's (rtol 1e-4).

Target: ziptieai ≤ 2.5 µs/op (torch eager: 7–8 µs/op in BENCHMARKS.md; a bare ufunc call
0.5–0.7 µs/op, forward only).

    python bench/w4_chain.py [--quick]
"""

from __future__ import annotations

import common  # noqa: I001  (first: pins the BLAS/OpenMP threads before NumPy/torch load)
import numpy as np
import torch

import ziptieai

SIZE, REPEATS = 10, 200            # 5 ops per repeat -> 1,000 ops
OPS = 5 * REPEATS
TARGET_US_PER_OP = 2.5


def inputs():
    rng = np.random.default_rng(0)
    x = np.linspace(-1, 1, SIZE, dtype=np.float32)
    w = (1 + 0.05 * rng.standard_normal(SIZE)).astype(np.float32)
    b = (0.05 * rng.standard_normal(SIZE)).astype(np.float32)
    return x, w, b


def chain(h, w, b):
    """The 1,000 ops: works on ziptieai and torch tensors alike."""
    for _ in range(REPEATS):
        h = h * 1.01
        h = h + 0.01
        h = h.tanh()
        h = h * w
        h = h + b
    return h


def make_step(lib, arrays):
    """A zero-arg step for `lib` (ziptieai or torch): clear grads, chain, sum, backward."""
    x, w, b = leaves = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]

    def step():
        x.grad = w.grad = b.grad = None
        out = chain(x, w, b).sum()
        out.backward()
        return out

    return step, leaves


def make_numpy_forward(arrays):
    """The same chain as bare ufunc calls, forward only, no graph: the per-call floor."""
    x, w, b = arrays
    c1, c2 = np.float32(1.01), np.float32(0.01)
    mul, add, tanh = np.multiply, np.add, np.tanh

    def step():
        h = x
        for _ in range(REPEATS):
            h = tanh(add(mul(h, c1), c2))
            h = add(mul(h, w), b)
        return h.sum()

    return step


def check_correctness(arrays, rtol: float = 1e-4) -> None:
    zt_step, zt_leaves = make_step(ziptieai, arrays)
    th_step, th_leaves = make_step(torch, arrays)
    zt_out, th_out = zt_step(), th_step()
    np.testing.assert_allclose(zt_out.item(), th_out.item(), rtol=rtol, err_msg="W4: output")
    for name, zl, tl in zip("xwb", zt_leaves, th_leaves):
        assert zl.grad.dtype == np.float32, f"W4: grad of {name} has dtype {zl.grad.dtype}"
        np.testing.assert_allclose(zl.grad, tl.grad.numpy(), rtol=rtol, atol=1e-7,
                                   err_msg=f"W4: gradient of {name} differs from torch")
    np.testing.assert_allclose(make_numpy_forward(arrays)(), th_out.item(), rtol=rtol,
                               err_msg="W4: numpy forward")
    print(f"correctness: output and gradients of x, w, b match torch (rtol {rtol}); "
          f"output {th_out.item():.5f}")


def main(argv=None) -> dict:
    quick = common.parse_quick(argv)
    common.print_environment()
    print(f"## W4: {OPS:,}-op elementwise chain on {SIZE} float32 elements, forward + backward\n")
    arrays = inputs()
    check_correctness(arrays)
    variants = {
        "torch eager": make_step(torch, arrays)[0],
        "ziptieai": make_step(ziptieai, arrays)[0],
        "numpy forward only (floor)": make_numpy_forward(arrays),
    }
    reps, block = (3, 2) if quick else (30, 5)
    stats = common.compare(variants, reps=reps, block=block, per_call=OPS,
                           label="per op (call / 1,000)")
    common.report_target("ziptieai fwd+bwd per op", stats["ziptieai"]["median"] * 1e6,
                         TARGET_US_PER_OP, " µs")
    print()
    return stats


if __name__ == "__main__":
    main()
