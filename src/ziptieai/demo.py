"""`make run`: train a small MLP on two-moons with the four lines, and watch the loss fall.

    pred = model(X)              # forward pass
    loss = loss_fn(pred, Y)      # loss: how wrong, one number
    loss.backward()              # backward pass: a gradient for every weight
    optimizer.step()             # update: w ← w − lr·g

(Until the `ziptie` training command exists, this is the main job.)
"""

from __future__ import annotations

import time

import numpy as np

import ziptieai as zt
from ziptieai import nn


def main(steps: int = 300, lr: float = 0.05, seed: int = 0) -> float:
    zt.manual_seed(seed)
    X_np, labels = zt.data.make_moons(n=200, noise=0.2, seed=seed)
    X = zt.tensor(X_np)
    Y = zt.tensor(np.where(labels == 1, 1.0, -1.0).astype(np.float32))  # hinge wants ±1

    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1), nn.Flatten(0))
    loss_fn = nn.HingeLoss()
    optimizer = zt.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    print(f"ZiptieAI {zt.__version__}: two-moons (200 points), model\n{model}\n")
    print(" step   loss     accuracy")

    start = time.perf_counter()
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        pred = model(X)              # forward pass
        loss = loss_fn(pred, Y)      # loss: how wrong, one number
        loss.backward()              # backward pass: a gradient for every weight
        optimizer.step()             # update: w ← w − lr·g (here with momentum)
        if step == 1 or step % 30 == 0:
            accuracy = float(np.mean(np.sign(pred.data) == Y.data))
            print(f"{step:5d}   {loss.item():.4f}   {accuracy:6.1%}")
    elapsed = time.perf_counter() - start
    print(f"\n{steps} full-batch steps in {elapsed * 1e3:.0f} ms "
          f"({elapsed / steps * 1e6:.0f} µs per step: forward, loss, backward, update)")
    return loss.item()


if __name__ == "__main__":
    main()
