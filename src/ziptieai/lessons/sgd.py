"""SGD: the update step, repeated. The training loop, by hand, then by `fit`.

The four lines (forward, loss, backward, step) in a for-loop train a small network
(2 → 16 → 2, tanh) on 200 two-moons points. Plain SGD against SGD with momentum, from the
same starting weights; `fit` gives the same numbers as the hand-written loop; and mini-batches
show what the "stochastic" in SGD means. Picture: sgd.png, the loss curves.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

import ziptieai as zt
from ziptieai import nn
from ziptieai.data import DataLoader, TensorDataset
from ziptieai.lessons import heading, new_figure, save_figure

STEPS, LR = 300, 0.2


def new_model(seed: int) -> nn.Module:
    """The same starting weights for every run with the same seed."""
    zt.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))


def train(model, optimizer, loader, steps: int) -> list[float]:
    """The training loop: the four lines, `steps` times. Returns each step's loss."""
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    while len(losses) < steps:
        for X, y in loader:                      # one pass over the data is an epoch
            optimizer.zero_grad()                # forget the last step's gradients
            loss = loss_fn(model(X), y)          # forward pass, then loss
            loss.backward()                      # backward pass: a gradient for every weight
            optimizer.step()                     # update: w ← w − lr·g
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses


def runs(seed: int = 0, steps: int = STEPS) -> dict:
    """Loss per step of: plain SGD and SGD with momentum (full batch, hand-written loop),
    plain SGD through `fit`, and plain SGD on shuffled mini-batches of 20."""
    X, y = zt.data.make_moons(200, noise=0.15, seed=seed)
    data = TensorDataset(X, y)
    full_batch = DataLoader(data, batch_size=200)        # every step sees all 200 points

    model = new_model(seed)
    plain = train(model, zt.optim.SGD(model.parameters(), lr=LR), full_batch, steps)
    accuracy = float(np.mean(model(zt.tensor(X)).data.argmax(1) == y))

    model = new_model(seed)
    momentum = train(model, zt.optim.SGD(model.parameters(), lr=LR, momentum=0.9), full_batch,
                     steps)

    model = new_model(seed)                              # the same as `plain`, by fit
    history = zt.train.fit(model, nn.CrossEntropyLoss(),
                           zt.optim.SGD(model.parameters(), lr=LR), full_batch, epochs=steps,
                           progress=False)

    model = new_model(seed)
    batches = DataLoader(data, batch_size=20, shuffle=True)
    mini = train(model, zt.optim.SGD(model.parameters(), lr=LR), batches, steps)
    return dict(plain=np.array(plain), momentum=np.array(momentum),
                fit=np.array(history["train_loss"]), mini=np.array(mini), accuracy=accuracy)


def rises(losses) -> int:
    """On how many steps the loss went up."""
    return int(np.sum(np.diff(losses) > 0))


def run(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    heading(print, 5, "sgd", "what happens when the update step is repeated?")
    r = runs(seed)
    plain, momentum = r["plain"], r["momentum"]
    print(f"The training loop: zero_grad, forward + loss, backward, step; {STEPS} times, "
          f"lr = {LR}, every step on all 200 points.")
    print("Momentum keeps a running sum of past gradients, b ← 0.9·b + g, and steps along b "
          "instead of g: steps in a steady direction grow (up to 10×).\n")
    print(f"  {'step':>5}{'plain SGD':>12}{'momentum 0.9':>15}")
    for step in (1, 10, 30, 100, 200, STEPS):
        print(f"  {step:>5}{plain[step - 1]:>12.4f}{momentum[step - 1]:>15.4f}")

    every = "with every step" if rises(plain) == 0 else "overall"
    print(f"\nThe loss falls {every}: plain SGD from {plain[0]:.3f} to {plain[-1]:.3f} "
          f"({r['accuracy']:.0%} of the points right at the end).")
    caught = np.flatnonzero(momentum <= plain[-1])
    if caught.size:
        print(f"Momentum reached plain SGD's final loss at step {caught[0] + 1}, "
              f"{STEPS / (caught[0] + 1):.1f}× sooner, and ended at {momentum[-1]:.4f}.")
    else:
        print(f"Here momentum did not beat plain SGD: it ended at {momentum[-1]:.4f}.")

    diff = float(np.max(np.abs(r["fit"] - plain)))
    same = "exactly the same losses" if diff == 0 else f"the same losses (to {diff:.0e})"
    print(f"zt.train.fit(model, loss_fn, optimizer, data, epochs={STEPS}) runs this same loop "
          f"(one batch per epoch here) plus logging and stopping rules, and gives {same}: fit "
          f"is not magic.")

    mini = r["mini"]
    print(f"The 'stochastic' in SGD: with shuffled mini-batches of 20 points, each step "
          f"is 10× cheaper but sees a different slice, so its loss jumps around: it rose on "
          f"{rises(mini)} of {STEPS - 1} steps (full batch: {rises(plain)}).")
    return _plot(r, out_dir, print)


def _plot(r, out_dir, print) -> list[Path]:
    fig, (ax,) = new_figure(1, width=7.0, height=4.4)
    if fig is None:
        return save_figure(None, out_dir, "sgd.png", print)
    steps = np.arange(1, len(r["plain"]) + 1)
    mini = r["mini"]
    ax.plot(steps, mini, color="C7", linewidth=0.7, alpha=0.7,
            label="plain SGD, mini-batches of 20: each step's loss")
    epochs = mini[: len(mini) // 10 * 10].reshape(-1, 10).mean(axis=1)   # 10 batches an epoch
    ax.plot(steps[9::10][: len(epochs)], epochs, color="black", linewidth=1.2, marker=".",
            label="   the same, averaged over each epoch")
    ax.plot(steps, r["plain"], color="C0", linewidth=2.5, label="plain SGD, full batch")
    ax.plot(steps, r["fit"], color="C9", linewidth=1, linestyle="--",
            label="   the same, through fit (on top of it)")
    ax.plot(steps, r["momentum"], color="C3", linewidth=2.5, label="SGD with momentum 0.9")
    ax.set_ylim(0, 1.35 * max(mini.max(), r["plain"][0]))   # room for the legend
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"training on two-moons: lr = {LR}")
    ax.legend(fontsize=9)
    return save_figure(fig, out_dir, "sgd.png", print)


if __name__ == "__main__":  # python -m ziptieai.lessons.sgd [OUT_DIR]
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "lessons")
