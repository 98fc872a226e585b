"""The backward pass: a gradient for every weight, and a check that it is right.

For one batch of 8 two-moons points and a small network (2 → 4 → 2), `loss.backward()` gives
∂loss/∂w for all 22 weights at once. We check every one against the slow, obvious way, central
finite differences: nudge one weight up and down by ε and watch the loss,
(loss(w + ε) − loss(w − ε)) / 2ε. In float64, since float32 keeps only ~7 digits and the
nudges are tiny. Picture: backward.png, backward's gradients against the nudged ones, and the
gradients of both weight matrices.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

import ziptieai as zt
from ziptieai import nn
from ziptieai.autograd import gradcheck, numerical_grad
from ziptieai.lessons import heading, new_figure, save_figure


def gradients(seed: int = 0, eps: float = 1e-6) -> dict:
    """Backward's gradients and finite differences for every parameter of a 2 → 4 → 2 tanh
    network on 8 two-moons points (float64). Returns the model, the batch, the loss, and per
    parameter name: (analytic, numeric) arrays of the parameter's shape."""
    zt.manual_seed(seed)
    X_np, y_np = zt.data.make_moons(8, noise=0.15, seed=seed, dtype=np.float64)
    X, y = zt.tensor(X_np), zt.tensor(y_np)
    model = nn.Sequential(nn.Linear(2, 4, dtype=np.float64), nn.Tanh(),
                          nn.Linear(4, 2, dtype=np.float64))
    loss_fn = nn.CrossEntropyLoss()

    loss = loss_fn(model(X), y)
    loss.backward()                                  # fills p.grad for every parameter

    def loss_value() -> float:                       # the forward pass again, no graph needed
        with zt.no_grad():
            return loss_fn(model(X), y).item()

    grads = {}
    for name, p in model.named_parameters():
        # numerical_grad nudges p.data in place, one entry at a time, and restores it
        grads[name] = (p.grad.copy(), numerical_grad(loss_value, p.data, eps))
    return dict(model=model, X=X, y=y, loss_fn=loss_fn, loss=loss.item(), grads=grads, eps=eps)


def _entry(name: str, index) -> str:
    """'0.weight[1, 0]': a parameter's name and one entry's index."""
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def run(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    heading(print, 3, "backward", "how does the loss change when one weight changes? "
            "loss.backward() answers for every weight at once.")
    r = gradients(seed)
    model, grads = r["model"], r["grads"]
    n_weights = sum(a.size for a, _ in grads.values())
    print(f"Network: 2 inputs → Linear → 4 tanh units → Linear → 2 logits; {n_weights} numbers "
          f"to learn (weights and biases, all called weights here). One batch of 8 two-moons "
          f"points; cross-entropy loss = {r['loss']:.6f}.")
    print("∂loss/∂w, the gradient of one weight w: if w grows by a small δ, the loss changes by "
          "about ∂loss/∂w · δ.")

    # What a gradient means, on the weight the loss is most sensitive to.
    name, index = max(((n, np.unravel_index(np.argmax(np.abs(a)), a.shape))
                       for n, (a, _) in grads.items()),
                      key=lambda item: abs(grads[item[0]][0][item[1]]))
    g = grads[name][0][index]
    param = dict(model.named_parameters())[name]
    delta = 1e-3
    param.data[index] += delta
    with zt.no_grad():
        moved = r["loss_fn"](model(r["X"]), r["y"]).item() - r["loss"]
    param.data[index] -= delta
    print(f"For example {_entry(name, index)}: ∂loss/∂w = {g:.5f}. Raising it by {delta} "
          f"predicts a change of {g * delta:.4e}; re-running the network gives {moved:.4e}.")

    print(f"\nThe check: central finite differences, (loss(w + ε) − loss(w − ε)) / 2ε with "
          f"ε = {r['eps']:g}, one weight at a time.")
    print(f"  {'weight':<16}{'backward':>14}{'finite diff.':>14}{'difference':>12}")
    for name, (analytic, numeric) in grads.items():
        for i in range(2):                           # the first two entries of each parameter
            j = np.unravel_index(i, analytic.shape)
            print(f"  {_entry(name, j):<16}{analytic[j]:>14.8f}{numeric[j]:>14.8f}"
                  f"{abs(analytic[j] - numeric[j]):>12.1e}")
    worst = max(float(np.max(np.abs(a - n))) for a, n in grads.values())
    largest = max(float(np.max(np.abs(a))) for a, _ in grads.values())
    agree = "agree" if worst < 1e-6 * max(1.0, largest) else "DISAGREE"
    print(f"Over all {n_weights} weights the largest difference is {worst:.1e} (the largest "
          f"gradient is {largest:.3f}): the two {agree}.")
    print(f"Backward got all {n_weights} in one pass back through the network (the chain rule, "
          f"one op at a time, from the loss to every weight); the finite differences needed "
          f"{2 * n_weights} extra forward passes.")
    passed = gradcheck(lambda X: r["loss_fn"](model(X), r["y"]), [r["X"].data])
    print(f"The library does this check in one call: gradcheck(lambda X: loss_fn(model(X), y), "
          f"[X]) → {passed} (here for ∂loss/∂X, the gradient with respect to the inputs).")

    return _plot(grads, worst, out_dir, print)


def _plot(grads, worst, out_dir, print) -> list[Path]:
    fig, (ax_check, ax_w1, ax_w2) = new_figure(3, width=4.2, height=4.0)
    if fig is None:
        return save_figure(None, out_dir, "backward.png", print)
    analytic = np.concatenate([a.ravel() for a, _ in grads.values()])
    numeric = np.concatenate([n.ravel() for _, n in grads.values()])
    edge = 1.1 * max(np.abs(analytic).max(), 1e-12)
    ax_check.plot([-edge, edge], [-edge, edge], color="gray", linewidth=0.8, label="y = x")
    ax_check.scatter(numeric, analytic, color="C0", zorder=3,
                     label=f"{analytic.size} weights (largest gap {worst:.0e})")
    ax_check.set_xlabel("finite differences")
    ax_check.set_ylabel("loss.backward()")
    ax_check.set_title("every gradient, two ways")
    ax_check.legend(fontsize=8, loc="upper left")

    for ax, name in ((ax_w1, "0.weight"), (ax_w2, "2.weight")):
        g = grads[name][0]
        limit = np.abs(g).max()
        image = ax.imshow(g, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (i, j), value in np.ndenumerate(g):
            ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(value) > 0.6 * limit else "black")
        ax.set_xticks(range(g.shape[1]))
        ax.set_yticks(range(g.shape[0]))
        ax.set_xlabel("input")
        ax.set_ylabel("output")
        ax.set_title(f"∂loss/∂W of {name}")
        fig.colorbar(image, ax=ax, shrink=0.7)
    return save_figure(fig, out_dir, "backward.png", print)


if __name__ == "__main__":  # python -m ziptieai.lessons.backward [OUT_DIR]
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "lessons")
