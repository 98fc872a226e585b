"""Adam: a step of about lr for every weight at first, whatever the size of its gradient.

A small network (2 → 8 → 2, tanh, float64) trains on two-moons with `optim.Adam`. For three
weights whose gradients differ in size, we recompute Adam's numbers by hand from the same
gradients: m (the running mean of g), v (the running mean of g²), the bias corrections
1 − β₁ᵗ and 1 − β₂ᵗ, and the step lr·m̂/(√v̂ + ε); next to SGD's step −lr·g on the same
gradients. The hand-made step equals the ΔW that Adam made. Then every gradient ×1000: SGD's
steps grow ×1000, Adam's do not. Picture: adam.png, |Δw| per step for SGD and Adam.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

import ziptieai as zt
from ziptieai import nn
from ziptieai.lessons import heading, new_figure, save_figure

LR, BETAS, EPS = 0.01, (0.9, 0.999), 1e-8


def train_with_adam(seed: int = 0, steps: int = 40, scale: float = 1.0) -> dict:
    """Train with optim.Adam, the loss multiplied by `scale`, recording at every step each
    weight's gradient g, Adam's state (exp_avg = m, exp_avg_sq = v) and the change ΔW it made.
    Arrays (steps, n_weights), weights flattened in named_parameters() order."""
    zt.manual_seed(seed)
    X_np, y_np = zt.data.make_moons(200, noise=0.15, seed=seed, dtype=np.float64)
    X, y = zt.tensor(X_np), zt.tensor(y_np)
    model = nn.Sequential(nn.Linear(2, 8, dtype=np.float64), nn.Tanh(),
                          nn.Linear(8, 2, dtype=np.float64))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = zt.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    params = list(model.parameters())
    record = {key: [] for key in ("g", "m", "v", "delta", "loss")}
    for _ in range(steps):
        optimizer.zero_grad()
        loss = scale * loss_fn(model(X), y)
        loss.backward()
        before = _flat(p.data for p in params)
        optimizer.step()
        record["delta"].append(_flat(p.data for p in params) - before)
        record["g"].append(_flat(p.grad for p in params))
        record["m"].append(_flat(optimizer.state[p]["exp_avg"] for p in params))
        record["v"].append(_flat(optimizer.state[p]["exp_avg_sq"] for p in params))
        record["loss"].append(loss.item())
    names = [f"{name}[{', '.join(str(int(i)) for i in index)}]"
             for name, p in model.named_parameters() for index in np.ndindex(*p.shape)]
    return dict({key: np.array(value) for key, value in record.items()}, names=names)


def _flat(arrays) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays])   # copies


def adam_by_hand(grads: np.ndarray, lr: float = LR, betas=BETAS, eps: float = EPS) -> dict:
    """Adam's numbers from a sequence of gradients (steps, n), as in the paper:

        m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²       (both start at 0)
        m̂ = m / (1 − β₁ᵗ),       v̂ = v / (1 − β₂ᵗ)            (the bias corrections)
        step = −lr·m̂ / (√v̂ + ε)
    """
    beta1, beta2 = betas
    m, v = np.zeros_like(grads[0]), np.zeros_like(grads[0])
    rows = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        m_hat, v_hat = m / bc1, v / bc2
        rows.append({"m": m, "v": v, "bc1": bc1, "bc2": bc2, "m_hat": m_hat, "v_hat": v_hat,
                     "step": -lr * m_hat / (np.sqrt(v_hat) + eps)})
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def run(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    heading(print, 6, "adam", "how does Adam choose a step, and why are its first steps "
            "about lr in size whatever the gradient?")
    r = train_with_adam(seed)
    hand = adam_by_hand(r["g"])
    sgd = -LR * r["g"]                                  # SGD's step on the same gradients
    g1 = np.abs(r["g"][0])
    nonzero = np.flatnonzero(g1 > 0)
    order = nonzero[np.argsort(g1[nonzero])]
    tracked = [int(order[0]), int(order[len(order) // 2]), int(order[-1])]  # small, mid, big |g|

    print(f"optim.Adam(lr={LR}, betas={BETAS}, eps={EPS:g}) trains a 2 → 8 → 2 network on "
          f"two-moons. For three of its weights, each step's numbers, computed by hand from "
          f"the gradients g that backward gave (in the code: exp_avg = m, exp_avg_sq = v):")
    print("  m: running mean of g (which way, on average);  v: running mean of g² (how big)")
    print("  m̂, v̂: m and v divided by 1 − β₁ᵗ and 1 − β₂ᵗ; Adam's step −lr·m̂/(√v̂ + ε); "
          "SGD's −lr·g")
    columns = ("g", "m", "v", "m̂", "v̂", "Adam step", "SGD step")
    for t in range(4):
        print(f"\n step t = {t + 1}:  1 − β₁ᵗ = {hand['bc1'][t]:.4f}   "
              f"1 − β₂ᵗ = {hand['bc2'][t]:.6f}")
        print(f"  {'weight':<16}" + "".join(f"{c:>11}" for c in columns))
        for i in tracked:
            values = (r["g"][t, i], hand["m"][t, i], hand["v"][t, i], hand["m_hat"][t, i],
                      hand["v_hat"][t, i], hand["step"][t, i], sgd[t, i])
            print(f"  {r['names'][i]:<16}" + "".join(f"{x:>11.2e}" for x in values))

    same_m = max(float(np.max(np.abs(hand["m"] - r["m"]))),
                 float(np.max(np.abs(hand["v"] - r["v"]))))
    same_step = float(np.max(np.abs(hand["step"] - r["delta"])))
    print(f"\nThese hand-made steps are what optim.Adam did: over all {r['g'].shape[1]} weights "
          f"and {len(r['g'])} steps, |hand step − ΔW| ≤ {same_step:.1e} and the hand m, v "
          f"equal its exp_avg, exp_avg_sq to {same_m:.1e}.")
    print(f"Why the corrections: m and v start at 0, so after step 1 m = (1 − β₁)·g = "
          f"{1 - BETAS[0]:.1f}·g, far too small; dividing by 1 − β₁ᵗ = {hand['bc1'][0]:.1f} "
          f"undoes that (and 1 − β₂ᵗ does it for v). As t grows both corrections go to 1.")
    ratio = np.abs(hand["step"][0, tracked]) / LR
    print(f"At t = 1 then m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε), lr in size whatever "
          f"g is: here {', '.join(f'{x:.6f}' for x in ratio)} × lr, for gradients spanning "
          f"{g1[tracked[-1]] / g1[tracked[0]]:.0f}×. SGD's steps span the same "
          f"{g1[tracked[-1]] / g1[tracked[0]]:.0f}×.")
    early = np.abs(hand["step"][:4][:, tracked]) / LR
    print(f"Over the first 4 steps Adam's steps stay between {early.min():.2f} and "
          f"{early.max():.2f} × lr: m̂/√v̂ compares the average g with its typical size, near 1 "
          f"while g keeps its sign and size.")

    big = train_with_adam(seed, scale=1000.0)           # every gradient ×1000
    adam_change = float(np.max(np.abs(big["delta"] - r["delta"]))) / LR
    smallest = float(np.sqrt(hand["v_hat"][:, tracked]).min())
    print(f"\nNow the loss ×1000, so every gradient is ×1000. SGD's step −lr·g grows ×1000: "
          f"its largest first step, {np.abs(sgd[0]).max():.2e}, becomes "
          f"{1000 * np.abs(sgd[0]).max():.2e}. Adam's steps change by at most "
          f"{adam_change:.1e} × lr: m̂ and √v̂ both grow ×1000 and their ratio does not. Only "
          f"ε = {EPS:g} notices, and it is small next to √v̂ (at least {smallest:.1e} for the "
          f"three weights above).")
    print("So with Adam, lr sets how far each weight moves per step; with SGD, lr × the "
          "gradient's scale does.")
    return _plot(r, big, hand, tracked, out_dir, print)


def _plot(r, big, hand, tracked, out_dir, print) -> list[Path]:
    fig, axes = new_figure(2, width=5.4, height=4.4)
    if fig is None:
        return save_figure(None, out_dir, "adam.png", print)
    from matplotlib.lines import Line2D

    steps = np.arange(1, len(r["g"]) + 1)
    colors = ("C0", "C1", "C2")
    shown = []
    for ax, run_, scale in zip(axes, (r, big), (1, 1000)):
        for color, i in zip(colors, tracked):
            adam_moves, sgd_moves = np.abs(run_["delta"][:, i]), np.abs(LR * run_["g"][:, i])
            ax.plot(steps, adam_moves, color=color, linewidth=2)
            ax.plot(steps, sgd_moves, color=color, linestyle="--")
            shown += [adam_moves, sgd_moves]
        ax.axhline(LR, color="black", linewidth=0.8, linestyle=":")
        ax.text(steps[-1], LR * 1.3, "lr", ha="right", fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel("|Δw|, how far the weight moved")
        ax.set_title(f"every gradient ×{scale}" if scale != 1 else "the real gradients")
    shown = np.concatenate(shown)
    low, high = shown[shown > 0].min() / 2, shown.max() * 2
    for ax in axes:
        ax.set_ylim(low, high)
    handles = [Line2D([], [], color=c, linewidth=2, label=r["names"][i])
               for c, i in zip(colors, tracked)]
    handles += [Line2D([], [], color="black", linewidth=2, label="Adam: the ΔW it made"),
                Line2D([], [], color="black", linestyle="--",
                       label="SGD: lr·|g|, on the same gradients")]
    fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8)
    return save_figure(fig, out_dir, "adam.png", print)


if __name__ == "__main__":  # python -m ziptieai.lessons.adam [OUT_DIR]
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "lessons")
