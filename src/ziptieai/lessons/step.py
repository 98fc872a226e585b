"""The update step: w ← w − lr·g, one step downhill, and the loss goes down.

A small network (2 → 16 → 2, tanh) on 200 two-moons points: one forward pass, one backward
pass, then every weight moves against its gradient by lr times the gradient. We print two
weights before and after, show the loss went down, and replay the same step with
`optim.SGD` to see it is the same arithmetic. Picture: step.png, the loss along the update's
direction for steps of every size, and how far each weight moved against its size and its
gradient.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

import ziptieai as zt
from ziptieai import nn
from ziptieai.lessons import heading, new_figure, save_figure


def one_step(seed: int = 0, lr: float = 0.5) -> dict:
    """One full-batch gradient step by hand, and the same step by optim.SGD.

    Returns the loss before and after, every weight before (w) and after, and its gradient g,
    all flattened into one vector (n,); sgd_after is what optim.SGD(lr).step() made."""
    zt.manual_seed(seed)
    X_np, y_np = zt.data.make_moons(200, noise=0.15, seed=seed)
    X, y = zt.tensor(X_np), zt.tensor(y_np)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    start = model.state_dict()                       # copies, to replay the step later

    loss = loss_fn(model(X), y)                      # forward
    loss.backward()                                  # backward: p.grad for every p
    w = _flat(p.data for p in model.parameters())
    g = _flat(p.grad for p in model.parameters())
    for p in model.parameters():
        p.data -= lr * p.grad                        # the update: w ← w − lr·g
    with zt.no_grad():
        loss_after = loss_fn(model(X), y).item()     # forward again, with the new weights
    after = _flat(p.data for p in model.parameters())

    model.load_state_dict(start)                     # the same step, by the library
    model.zero_grad()
    optimizer = zt.optim.SGD(model.parameters(), lr=lr)
    loss_fn(model(X), y).backward()
    optimizer.step()
    sgd_after = _flat(p.data for p in model.parameters())

    def loss_along(s: float) -> float:               # the loss at w − s·g (s = lr: our step)
        offset = 0
        for p in model.parameters():
            p.data[...] = (w[offset:offset + p.size] - s * g[offset:offset + p.size]).reshape(
                p.shape)
            offset += p.size
        with zt.no_grad():
            return loss_fn(model(X), y).item()

    sizes = np.linspace(-0.5 * lr, 8 * lr, 103)
    return dict(lr=lr, loss_before=loss.item(), loss_after=loss_after, w=w, g=g, after=after,
                sgd_after=sgd_after, names=_names(model), sizes=sizes,
                slice=np.array([loss_along(s) for s in sizes]))


def _flat(arrays) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays]).astype(np.float64)


def _names(model) -> list[str]:
    """'0.weight[3, 1]' for every weight, in the order of _flat."""
    return [f"{name}[{', '.join(str(int(i)) for i in index)}]"
            for name, p in model.named_parameters() for index in np.ndindex(*p.shape)]


def run(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    heading(print, 4, "step", "we have a gradient for every weight; how do we use it?")
    r = one_step(seed)
    lr, w, g, after = r["lr"], r["w"], r["g"], r["after"]
    print(f"The update: w ← w − lr·g for every weight at once (here lr = {lr}, {w.size} "
          f"weights). The gradient g points uphill, so −g points downhill.")

    # Two weights chosen to make a point: a big weight with a small gradient, and the reverse.
    small_g = np.abs(g) < np.quantile(np.abs(g), 0.25)   # the quarter with the smallest |g|
    small_w = np.abs(w) < np.quantile(np.abs(w), 0.25)   # the quarter with the smallest |w|
    a = int(np.flatnonzero(small_g)[np.argmax(np.abs(w[small_g]))])
    b = int(np.flatnonzero(small_w)[np.argmax(np.abs(g[small_w]))])
    print(f"\n  {'weight':<16}{'before':>10}{'gradient':>11}{'lr':>5}{'after':>10}"
          f"{'moved':>10}")
    for i in (a, b):
        print(f"  {r['names'][i]:<16}{w[i]:>10.5f}{g[i]:>11.5f}{lr:>5}{after[i]:>10.5f}"
              f"{after[i] - w[i]:>10.5f}")
    move_a, move_b = abs(after[a] - w[a]), abs(after[b] - w[b])
    print(f"{r['names'][a]} is {abs(w[a]) / abs(w[b]):.0f}× bigger than {r['names'][b]}, "
          f"yet it moved {move_b / move_a:.0f}× {'less' if move_a < move_b else 'more'}: "
          f"an update follows the gradient, not the size of the weight (each moved exactly "
          f"−lr × its gradient).")

    drop = r["loss_before"] - r["loss_after"]
    went = "went down" if drop > 0 else "went UP (lr is too big for this spot)"
    print(f"\nThe loss {went}: {r['loss_before']:.4f} before, {r['loss_after']:.4f} after "
          f"(by {abs(drop):.4f}).")
    guess = lr * float(g @ g)
    how = "less" if drop < guess else "more"
    print(f"The gradient predicted a drop of about lr·‖g‖² = {guess:.4f} (a straight-line guess); "
          f"the real drop was {how}, because the loss is curved, not straight (the picture).")
    diff = float(np.max(np.abs(r["sgd_after"] - after)))
    same = "exactly the same weights" if diff == 0 else f"the same weights (to {diff:.0e})"
    print(f"optim.SGD(model.parameters(), lr={lr}).step() makes {same}: this is all SGD does.")

    sizes, losses = r["sizes"], r["slice"]
    best = int(np.argmin(losses))
    line = (f"Along this direction the loss is lowest at a step of about {sizes[best]:.2f}·g "
            f"(our step was {lr}·g).")
    worse = np.flatnonzero((sizes > sizes[best]) & (losses > r["loss_before"]))
    if worse.size:
        line += (f" Beyond about {sizes[worse[0]]:.2f}·g the step overshoots: the loss ends "
                 f"higher than where it started.")
    print(line)
    print("So training takes small steps, many of them, recomputing g each time: lessons 5, 6.")
    return _plot(r, a, b, out_dir, print)


def _plot(r, a, b, out_dir, print) -> list[Path]:
    fig, (ax_slice, ax_w, ax_g) = new_figure(3, width=4.4, height=4.0)
    if fig is None:
        return save_figure(None, out_dir, "step.png", print)
    lr = r["lr"]
    ax_slice.plot(r["sizes"], r["slice"], color="C0")
    ax_slice.scatter([0], [r["loss_before"]], color="black", zorder=3, label="before (s = 0)")
    ax_slice.scatter([lr], [r["loss_after"]], color="C3", zorder=3,
                     label=f"after our step (s = lr = {lr})")
    ax_slice.set_xlabel("step size s, moving the weights to w − s·g")
    ax_slice.set_ylabel("loss")
    ax_slice.set_title("the loss along the update direction")
    ax_slice.legend(fontsize=8)

    moved = np.abs(r["after"] - r["w"])
    for ax, x, label in ((ax_w, np.abs(r["w"]), "|w|, the size of the weight"),
                         (ax_g, np.abs(r["g"]), "|g|, the size of its gradient")):
        ax.scatter(x, moved, s=12, color="C0", alpha=0.7)
        for i, name in ((a, "big w, small g"), (b, "small w, big g")):
            ax.scatter([x[i]], [moved[i]], s=60, color="C3", zorder=3)
            ax.annotate(name, (x[i], moved[i]), textcoords="offset points", xytext=(-8, 4),
                        ha="right", fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("|Δw|, how far it moved")
    ax_w.set_title("how far each weight moved: not by |w| ...")
    ax_g.set_title(f"... but by |g|: |Δw| = lr·|g| = {lr}·|g|")
    return save_figure(fig, out_dir, "step.png", print)


if __name__ == "__main__":  # python -m ziptieai.lessons.step [OUT_DIR]
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "lessons")
