"""W1: one full-batch SGD step of a tiny MLP, ziptieai vs torch eager vs hand-written NumPy.

Model 2→16→16→1 with tanh, on 100 two-moons points (labels ±1), hinge loss
mean(relu(1 - y·score)), SGD lr 0.05. One step = zero grads + forward + loss + backward +
update (p -= lr·g under no_grad). Every variant starts from the same weights; correctness is
checked first (losses and parameters after 5 steps agree, float32, rtol 1e-4).

Target: ziptieai ≤ 0.30× torch eager (paired ratio). Reference (BENCHMARKS.md): hand-written
NumPy 0.14–0.19× torch, JAX jit 0.16×.

    python bench/w1_mlp_step.py [--quick]
"""

from __future__ import annotations

import common  # noqa: I001  (first: pins the BLAS/OpenMP threads before NumPy/torch load)
import numpy as np
import torch

import ziptieai
from ziptieai import nn

N, HIDDEN, LR, SEED = 100, 16, 0.05, 0
TARGET = 0.30


def two_moons(n: int = N, noise: float = 0.1, seed: int = SEED):
    """Two interleaved half circles (as sklearn's make_moons), float32; labels -1 / +1."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    x += rng.normal(scale=noise, size=x.shape)
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    perm = rng.permutation(n)
    return x[perm].astype(np.float32), y[perm].astype(np.float32)


# ---- the three implementations of one step ------------------------------------------------


def make_torch(x, y, weights):
    model = torch.nn.Sequential(
        torch.nn.Linear(2, HIDDEN), torch.nn.Tanh(),
        torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.Tanh(),
        torch.nn.Linear(HIDDEN, 1))
    params = list(model.parameters())
    with torch.no_grad():
        for p, w in zip(params, weights):
            p.copy_(torch.from_numpy(w))
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        model.zero_grad()
        score = model(X).reshape(-1)
        loss = torch.relu(1 - Y * score).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss.detach()

    return step, lambda: [p.detach().numpy() for p in params]


def make_ziptie(x, y, weights):
    model = nn.Sequential(
        nn.Linear(2, HIDDEN), nn.Tanh(),
        nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
        nn.Linear(HIDDEN, 1))
    params = list(model.parameters())
    for p, w in zip(params, weights):
        p.data[...] = w
    loss_fn = nn.HingeLoss()
    X, Y = ziptieai.tensor(x), ziptieai.tensor(y)

    def step():
        model.zero_grad()
        score = model(X).reshape(-1)
        loss = loss_fn(score, Y)
        loss.backward()
        with ziptieai.no_grad():
            for p in params:
                p.data -= LR * p.grad
        return loss

    return step, lambda: [p.data for p in params]


def make_numpy(x, y, weights):
    """Forward and backward written out by hand on float32 arrays (the floor for this size)."""
    W1, b1, W2, b2, W3, b3 = (w.copy() for w in weights)
    ys = y[:, None]
    inv_n = np.float32(1.0 / len(x))

    def step():
        a1 = np.tanh(x @ W1.T + b1)
        a2 = np.tanh(a1 @ W2.T + b2)
        s = a2 @ W3.T + b3                            # (N, 1)
        margin = 1 - ys * s
        loss = np.maximum(margin, 0).mean()
        ds = (margin > 0) * ys * -inv_n               # d loss / d s
        dW3, db3 = ds.T @ a2, ds.sum(0)
        dh2 = (ds @ W3) * (1 - a2 * a2)
        dW2, db2 = dh2.T @ a1, dh2.sum(0)
        dh1 = (dh2 @ W2) * (1 - a1 * a1)
        dW1, db1 = dh1.T @ x, dh1.sum(0)
        for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2), (W3, dW3), (b3, db3)):
            p -= LR * g
        return loss

    return step, lambda: [W1, b1, W2, b2, W3, b3]


def initial_weights():
    """torch's default init, seeded: W (out, in) and b (out,) for each layer, float32."""
    torch.manual_seed(SEED)
    layers = [torch.nn.Linear(2, HIDDEN), torch.nn.Linear(HIDDEN, HIDDEN),
              torch.nn.Linear(HIDDEN, 1)]
    return [t.detach().numpy().copy() for m in layers for t in (m.weight, m.bias)]


def check_correctness(x, y, weights, steps: int = 5, rtol: float = 1e-4) -> None:
    runs = {name: make(x, y, weights) for name, make in
            (("torch", make_torch), ("ziptieai", make_ziptie), ("numpy", make_numpy))}
    losses = {name: [float(step()) for _ in range(steps)] for name, (step, _) in runs.items()}
    for name, (_, params) in runs.items():
        np.testing.assert_allclose(losses[name], losses["torch"], rtol=rtol, atol=1e-6,
                                   err_msg=f"W1 {name}: losses differ from torch")
        for got, want in zip(params(), runs["torch"][1]()):
            assert got.dtype == np.float32, f"W1 {name}: parameter dtype {got.dtype}"
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6,
                                       err_msg=f"W1 {name}: parameters differ from torch")
    print(f"correctness: losses and parameters of ziptieai and numpy match torch after {steps} "
          f"steps (rtol {rtol}); losses {[round(v, 5) for v in losses['torch']]}")


def main(argv=None) -> dict:
    quick = common.parse_quick(argv)
    common.print_environment()
    print("## W1: MLP 2→16→16→1 tanh, 100 two-moons points, hinge, SGD, one full-batch step\n")
    x, y = two_moons()
    weights = initial_weights()
    check_correctness(x, y, weights)
    variants = {name: make(x, y, weights)[0] for name, make in
                (("torch eager", make_torch), ("ziptieai", make_ziptie),
                 ("numpy by hand", make_numpy))}
    reps, block = (3, 20) if quick else (40, 200)
    stats = common.compare(variants, reps=reps, block=block, label="per step")
    common.report_target("ziptieai / torch eager", stats["ziptieai"]["ratio"], TARGET, "×")
    print()
    return stats


if __name__ == "__main__":
    main()
