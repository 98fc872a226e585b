"""The loss: how wrong a prediction is, in one number (0 is perfect, lower is better).

Three predictions for a point whose true class is 1 (right and confident, right but unsure,
confidently wrong) are scored by the two classic losses: cross-entropy, −ln p(true class),
and mean squared error between the probabilities and the one-hot target. Then the same
cross-entropy scores a real network on two-moons, before and after training. Picture:
loss.png, both losses against the probability given to the true class.
"""

from __future__ import annotations

import builtins
import math
from pathlib import Path

import numpy as np

import ziptieai as zt
from ziptieai import nn
from ziptieai.lessons import heading, new_figure, save_figure

CASES = (("right and confident", 0.95), ("right but unsure", 0.60),
         ("confidently wrong", 0.02))


def score(p_true: float) -> dict:
    """Cross-entropy and MSE for a 2-class prediction giving p_true to the true class (1),
    and each loss's gradient with respect to the true class's logit."""
    probs = np.array([[1 - p_true, p_true]], dtype=np.float64)
    logits = zt.tensor(np.log(probs), requires_grad=True)     # softmax(log p) = p
    label, one_hot = zt.tensor([1]), zt.tensor(np.array([[0.0, 1.0]]))
    ce = nn.CrossEntropyLoss()(logits, label)
    ce.backward()
    ce_slope = logits.grad[0, 1]
    logits.grad = None
    mse = nn.MSELoss()(zt.nn.functional.softmax(logits, dim=1), one_hot)
    mse.backward()
    return dict(ce=ce.item(), mse=mse.item(), ce_slope=ce_slope, mse_slope=logits.grad[0, 1])


def run(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    heading(print, 2, "loss", "how wrong is a prediction? The loss answers with one number.")
    print("A network for two classes outputs two probabilities; the true class here is 1.")
    print("  cross-entropy = −ln p(true class)                    (0 when p = 1, huge as p → 0)")
    print("  MSE           = mean over classes of (p − target)²   (target: 1 for the true "
          "class, 0 otherwise)\n")
    print(f"  {'prediction':<21}{'p(class 1)':>11}{'cross-entropy':>15}{'MSE':>8}"
          f"{'CE slope':>10}{'MSE slope':>11}")
    rows = {name: score(p) for name, p in CASES}
    for name, p in CASES:
        r = rows[name]
        print(f"  {name:<21}{p:>11.2f}{r['ce']:>15.3f}{r['mse']:>8.3f}"
              f"{r['ce_slope']:>10.3f}{r['mse_slope']:>11.3f}")
    sure, unsure, wrong = (rows[name] for name, _ in CASES)
    print(f"\nBoth losses rank the three the same way: {sure['ce']:.3f} < {unsure['ce']:.3f} < "
          f"{wrong['ce']:.3f} in cross-entropy, {sure['mse']:.3f} < {unsure['mse']:.3f} < "
          f"{wrong['mse']:.3f} in MSE: less probability on the truth, more loss."
          if sure["ce"] < unsure["ce"] < wrong["ce"] and sure["mse"] < unsure["mse"] < wrong["mse"]
          else "\nThe two losses rank these predictions differently.")
    print(f"They differ on the confident mistake: MSE can never pass 1 here, cross-entropy "
          f"grows without limit (−ln {CASES[2][1]} = {wrong['ce']:.2f}).")
    print(f"'Slope' is the gradient of the loss with respect to the true class's logit (lesson "
          f"3): how hard training will push that logit up (negative: raising it lowers the "
          f"loss). On the confident mistake cross-entropy pushes "
          f"{abs(wrong['ce_slope']) / abs(wrong['mse_slope']):.0f}× harder than MSE: one reason "
          f"classifiers train with cross-entropy.")

    # A real network on real data: the loss of a batch is the mean of its points' losses.
    zt.manual_seed(seed)
    X_np, y_np = zt.data.make_moons(200, noise=0.15, seed=seed)
    X, y = zt.tensor(X_np), zt.tensor(y_np)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    loss_fn = nn.CrossEntropyLoss()
    with zt.no_grad():
        untrained = loss_fn(model(X), y).item()
    zt.train.fit(model, loss_fn, zt.optim.Adam(model.parameters(), lr=0.05), (X, y),
                 epochs=40, progress=False)
    with zt.no_grad():
        per_point = nn.CrossEntropyLoss(reduction="none")(model(X), y).data
        trained = loss_fn(model(X), y).item()
    coin = math.log(2)
    near = "close to" if abs(untrained - coin) < 0.1 else "compare with"
    print(f"\nOn two-moons (200 points), an untrained network's cross-entropy is "
          f"{untrained:.3f}, {near} ln 2 = {coin:.3f}, the loss of a 50/50 guess.")
    print(f"After training it is {trained:.3f}: the mean of the 200 points' own losses, which "
          f"run from {per_point.min():.3f} to {per_point.max():.3f}. One number for the whole "
          f"batch; the next lessons show how training makes it smaller.")

    return _plot(rows, out_dir, print)


def _plot(rows, out_dir, print) -> list[Path]:
    fig, (ax,) = new_figure(1, width=6.4, height=4.4)
    if fig is None:
        return save_figure(None, out_dir, "loss.png", print)
    p = np.linspace(0.005, 1.0, 400)
    ax.plot(p, -np.log(p), color="C0", label="cross-entropy  $-\\ln p$")
    ax.plot(p, (1 - p) ** 2, color="C1", label="MSE  $(1-p)^2$ (two classes)")
    for (name, p_true), marker in zip(CASES, "os^"):
        r = rows[name]
        ax.plot([p_true, p_true], [r["ce"], r["mse"]], color="gray", linewidth=0.6)
        ax.scatter([p_true], [r["ce"]], color="C0", marker=marker, zorder=3, s=50)
        ax.scatter([p_true], [r["mse"]], color="C1", marker=marker, zorder=3, s=50)
        right_edge = p_true > 0.8
        ax.annotate(name, (p_true, r["ce"]), textcoords="offset points", fontsize=9,
                    xytext=(-6, 10) if right_edge else (8, 6), ha="right" if right_edge else "left")
    ax.set_xlabel("probability the prediction gives to the true class")
    ax.set_ylabel("loss")
    ax.set_ylim(-0.1, 5)
    ax.set_title("how wrong, one number: the loss of one prediction")
    ax.legend()
    return save_figure(fig, out_dir, "loss.png", print)


if __name__ == "__main__":  # python -m ziptieai.lessons.loss [OUT_DIR]
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "lessons")
