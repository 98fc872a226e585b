"""The forward pass: z = W·x + b, layer by layer, turns an input into a prediction.

A tiny network for two-moons (2 inputs → 8 hidden units → 2 classes) takes one point x. Each
Linear layer computes z = W·x + b; tanh bends z (so stacked layers can draw curved borders);
the last z are the logits, and softmax turns them into probabilities. We do the arithmetic by
hand with NumPy and check it against `model(x)`. Picture: forward.png, the values at every
layer for that one point, and the network's decision surface over the whole plane.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

import ziptieai as zt
from ziptieai import nn
from ziptieai.lessons import fmt, heading, new_figure, save_figure


def forward_by_hand(model: nn.Sequential, x: np.ndarray) -> dict:
    """Every intermediate value of Linear(2, 8) → tanh → Linear(8, 2) → softmax for one x (2,)."""
    W1, b1 = model[0].weight.data, model[0].bias.data    # (8, 2), (8,)
    W2, b2 = model[2].weight.data, model[2].bias.data    # (2, 8), (2,)
    z1 = W1 @ x + b1                                     # layer 1: 8 weighted sums
    h = np.tanh(z1)                                      # activation: squash each into (-1, 1)
    z2 = W2 @ h + b2                                     # layer 2: 2 logits, one per class
    p = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()  # softmax: positive, sums to 1
    return dict(x=x, W1=W1, b1=b1, z1=z1, h=h, W2=W2, b2=b2, z2=z2, p=p)


def _plus(b: float) -> str:
    """'+ 0.25' or '- 0.25': a bias written as the equation reads."""
    return f"{'-' if b < 0 else '+'} {abs(b):.3f}"


def run(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    heading(print, 1, "forward", "how does a network turn an input x into a prediction?")
    zt.manual_seed(seed)
    X, y = zt.data.make_moons(200, noise=0.15, seed=seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    x, label = X[0], int(y[0])

    before = forward_by_hand(model, x)["p"]          # random starting weights
    optimizer = zt.optim.Adam(model.parameters(), lr=0.05)
    zt.train.fit(model, nn.CrossEntropyLoss(), optimizer, (zt.tensor(X), zt.tensor(y)),
                 epochs=40, progress=False)        # lessons 2-6 open up this call
    accuracy = float(np.mean(model(zt.tensor(X)).data.argmax(1) == y))
    print(f"Model: {model}".replace("\n", "\n  "))
    print(f"(Trained on 200 two-moons points first, so its answers mean something: "
          f"{accuracy:.0%} of them right.)")

    s = forward_by_hand(model, x)
    print(f"\nThe input: one point x = {fmt(s['x'])}, whose true class is {label}.")
    print("Layer 1, Linear(2, 8): z₁ = W₁·x + b₁, eight weighted sums of the two inputs.")
    for i in range(8):
        print(f"  z₁[{i}] = {fmt(s['W1'][i])}·x {_plus(s['b1'][i])} = {s['z1'][i]:6.3f}")
    print(f"Activation, tanh: h = tanh(z₁) = {fmt(s['h'])}  (each squashed into (-1, 1)).")
    print("Layer 2, Linear(8, 2): z₂ = W₂·h + b₂, one score (a 'logit') per class.")
    for i in range(2):
        print(f"  z₂[{i}] = {fmt(s['W2'][i])}·h {_plus(s['b2'][i])} = {s['z2'][i]:6.3f}")
    print(f"Softmax: p = exp(z₂) / sum(exp(z₂)) = {fmt(s['p'])}, probabilities that sum to 1.")

    library = zt.nn.functional.softmax(model(zt.tensor(x[None])), dim=1).data[0]
    diff = float(np.max(np.abs(library - s["p"])))
    same = "exactly" if diff == 0 else f"up to float32 rounding ({diff:.1e})"
    print(f"model(x) does the same arithmetic: its p equals ours {same}.")

    guess = int(np.argmax(s["p"]))
    verdict = "right" if guess == label else "wrong"
    print(f"\nThe forward pass turned x into a prediction: class {guess} with probability "
          f"{s['p'][guess]:.3f}, which is {verdict} (the true class is {label}).")
    unsure = "close to a coin flip" if before.max() < 0.7 else "a confident but random guess"
    print(f"Before training, the same arithmetic with the random starting W and b gave "
          f"p = {fmt(before)}, {unsure}. Training changes only the numbers in W and b.")

    return _plot(model, X, y, s, label, out_dir, print)


def _plot(model, X, y, s, label, out_dir, print) -> list[Path]:
    fig, (ax_values, ax_surface) = new_figure(2, width=5.6, height=4.4)
    if fig is None:
        return save_figure(None, out_dir, "forward.png", print)

    groups = [("$x$", s["x"]), ("$z_1$", s["z1"]), ("$h$", s["h"]), ("$z_2$", s["z2"]),
              ("$p$", s["p"])]
    position, centers = 0, []
    for color, (_, values) in zip(["C7", "C0", "C1", "C2", "C3"], groups):
        where = np.arange(len(values)) + position
        ax_values.bar(where, values, color=color)
        centers.append(where.mean())
        position += len(values) + 2
    ax_values.axhline(0, color="black", linewidth=0.8)
    ax_values.set_xticks(centers, [name for name, _ in groups], fontsize=11)
    ax_values.set_xlabel("$z_1 = W_1 x + b_1$,   $h = \\tanh(z_1)$,   $z_2 = W_2 h + b_2$,   "
                         "$p$ = softmax$(z_2)$")
    ax_values.set_title("one point's values, layer by layer (left to right)")

    xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 150)
    ys = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 150)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
    with zt.no_grad():
        p1 = zt.nn.functional.softmax(model(zt.tensor(grid)), dim=1).data[:, 1]
    filled = ax_surface.contourf(xs, ys, p1.reshape(len(ys), len(xs)),
                                 levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
    fig.colorbar(filled, ax=ax_surface, label="p(class 1), by the forward pass")
    for k, color in ((0, "C0"), (1, "C3")):
        ax_surface.scatter(*X[y == k].T, color=color, edgecolors="white", s=18, linewidths=0.5,
                           label=f"class {k}")
    ax_surface.scatter(*s["x"], marker="*", s=320, color="gold", edgecolors="black",
                       label=f"the point x (class {label})")
    ax_surface.set_title("the forward pass at every point of the plane")
    ax_surface.legend(loc="lower left", fontsize=8)
    return save_figure(fig, out_dir, "forward.png", print)


if __name__ == "__main__":  # python -m ziptieai.lessons.forward [OUT_DIR]
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "lessons")
