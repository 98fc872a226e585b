"""explain: plain sentences about a recorded run, from its own numbers, and the checks behind them.

    ex = explain(Recorder.load("runs/moons"))     # or explain(recorder), explain("runs/moons")
    print(ex.text())
    ex.corr_update_grad                 # Spearman of |ΔW| with |g|, every kept weight and step

What it says, and how each claim is checked on the run itself:
- how the size of an update relates to the gradient and to the weight: Spearman rank
  correlations pooled over every weight whose full values were recorded, at every recorded step;
- plain SGD: ΔW = −lr·g exactly, so |ΔW| ranks as |g| (max |ΔW + lr·g| against float rounding);
- Adam: ΔW = −lr·m̂/(√v̂ + ε) (max |ΔW + effective step|), so |ΔW| follows |m̂/(√v̂ + ε)|,
  not |g| alone;
- real examples: a large weight with a tiny gradient, and a small weight with a huge gradient;
- `input_scaling_check`: for z = W·x + b, ∂loss/∂W = δ·xᵀ, so scaling one input feature by c
  scales that column of the gradient by c, for the δ of that forward pass;
- `weight_story`: one weight's value, gradient and update, step by step.

Nothing here needs SciPy: `spearman` ranks with NumPy (ties get their average rank).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor


# ---- Spearman rank correlation, NumPy only -------------------------------------------------
def rankdata(x) -> np.ndarray:
    """Ranks 1..n of the values of `x` (flattened); tied values share their average rank."""
    x = np.asarray(x).reshape(-1)
    n = x.size
    # NOTE: tied values get their average rank whatever their order, so any sort will do
    # (quicksort: ~30% faster than a stable sort on a million values)
    order = np.argsort(x)
    xs = x[order]
    new = np.empty(n, bool)
    new[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, n))
    average = starts + (counts + 1) / 2.0  # ranks starts+1 .. starts+counts, averaged
    ranks = np.empty(n)
    ranks[order] = np.repeat(average, counts)
    return ranks


def spearman(a, b) -> float:
    """Spearman's ρ: the Pearson correlation of the ranks of `a` and `b` (ties averaged).
    Pairs with a non-finite value are left out; NaN when fewer than 2 pairs or one side is
    constant.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 45]), spearman([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    """
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"spearman: a has {a.size} values but b has {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    if not keep.all():
        a, b = a[keep], b[keep]
    if a.size < 2:
        return float("nan")
    return spearman_ranks(rankdata(a), rankdata(b))


def spearman_ranks(ra, rb) -> float:
    """Spearman's ρ from ranks already computed (`rankdata` of each side, every pair finite):
    their Pearson correlation. Rank an array once to correlate it with several others.

    >>> a, b = [1, 2, 2, 3], [1, 2, 3, 4]
    >>> spearman_ranks(rankdata(a), rankdata(b)) == spearman(a, b)
    True
    """
    ra = np.asarray(ra, np.float64) - np.mean(ra)
    rb = np.asarray(rb, np.float64) - np.mean(rb)
    den = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
    if den == 0:
        return float("nan")
    return float(np.clip(np.dot(ra, rb) / den, -1.0, 1.0))


# ---- the pooled values of a run ----------------------------------------------------------
def as_records(source) -> list:
    """Records from a Recorder, a run folder (str or Path), or a list of record dicts."""
    if isinstance(source, (str, Path)):
        from .recorder import load_records

        return load_records(source)
    records = getattr(source, "records", source)
    return list(records)


@dataclass
class _Pool:
    """Every recorded weight value with full values, flattened: one entry per (step, weight)."""

    W: np.ndarray
    g: np.ndarray
    dW: np.ndarray
    lr: np.ndarray
    eff: np.ndarray            # lr·m̂/(√v̂ + ε); NaN where not recorded (not Adam)
    where: list                # (offset, name, shape, step) per chunk
    offsets: np.ndarray
    names: list
    eps: float                 # machine epsilon of the recorded values' dtype

    def locate(self, k: int) -> tuple:
        """(name, index tuple, step) of pooled entry k."""
        c = int(np.searchsorted(self.offsets, k, side="right")) - 1
        offset, name, shape, step = self.where[c]
        return name, tuple(int(i) for i in np.unravel_index(k - offset, shape)), step


def _pool(records: list):
    parts = {k: [] for k in ("W", "g", "dW", "lr", "eff")}
    where, names, offset, eps = [], [], 0, 0.0
    for rec in records:
        for name, p in rec["params"].items():
            grad, hyper = p.get("grad"), p.get("hyper")
            if grad is None or hyper is None or "value" not in p["weight"] \
                    or "value" not in grad or "value" not in p["update"]:
                continue
            W = np.asarray(p["weight"]["value"])
            adam = p.get("adam")
            eff = adam.get("effective_step", {}).get("value") if adam else None
            parts["W"].append(W.reshape(-1))
            parts["g"].append(np.asarray(grad["value"]).reshape(-1))
            parts["dW"].append(np.asarray(p["update"]["value"]).reshape(-1))
            parts["lr"].append(np.full(W.size, float(hyper.get("lr", np.nan))))
            parts["eff"].append(np.full(W.size, np.nan) if eff is None
                                else np.asarray(eff, np.float64).reshape(-1))
            where.append((offset, name, W.shape, rec["step"]))
            offset += W.size
            if name not in names:
                names.append(name)
            if W.dtype.kind == "f":
                eps = max(eps, float(np.finfo(W.dtype).eps))
    if not where:
        return None
    arrays = {k: np.concatenate(v).astype(np.float64) for k, v in parts.items()}
    return _Pool(**arrays, where=where, offsets=np.array([w[0] for w in where]), names=names,
                 eps=eps or float(np.finfo(np.float64).eps))


# ---- the explanation -------------------------------------------------------------------------
@dataclass
class Example:
    """One weight at one step, from the run: name, index, step, W, g, ΔW, and the fraction of
    the other pooled values that its |W|, |g| and |ΔW| exceed (0: the least, 1: the most)."""

    name: str
    index: tuple
    step: int
    weight: float
    grad: float
    update: float
    weight_rank: float
    grad_rank: float
    update_rank: float

    def where(self) -> str:
        return f"'{self.name}'[{', '.join(map(str, self.index))}] at step {self.step}"


@dataclass
class Explanation:
    """What `explain` found; `text()` says it in sentences. Correlations are Spearman's ρ over
    `n_values` pooled (step, weight) pairs; None where the run has no full values for it."""

    optimizer: str
    steps: list
    losses: list
    n_values: int = 0
    pooled_names: list = field(default_factory=list)
    corr_update_grad: float | None = None
    corr_update_weight: float | None = None
    corr_update_adam: float | None = None      # |ΔW| with |m̂/(√v̂ + ε)|
    sgd_max_deviation: float | None = None     # max |ΔW + lr·g| (plain SGD)
    sgd_bound: float | None = None             # the float rounding allowed there
    sgd_holds: bool | None = None
    sgd_bitwise: bool | None = None            # ΔW == (W − lr·g) − W in W's dtype, bit for bit
    adam_max_deviation: float | None = None    # max |ΔW + lr·m̂/(√v̂ + ε)| (Adam)
    adam_bound: float | None = None
    adam_holds: bool | None = None
    adam_bitwise: bool | None = None           # ΔW == (W − step) − W in W's dtype, bit for bit
    large_weight_tiny_grad: Example | None = None
    small_weight_huge_grad: Example | None = None
    update_ratios: dict = field(default_factory=dict)  # name -> ‖ΔW‖/‖W‖ at the last step

    def text(self) -> str:
        """The findings as plain sentences, with the run's own numbers."""
        return "\n".join(_sentences(self))


def explain(source) -> Explanation:
    """Explain a recorded run (a Recorder, a run folder, or a list of records)."""
    records = as_records(source)
    if not records:
        raise ValueError("explain: there are no records (was the Recorder attached during "
                         "training, and did the optimizer step?)")
    ex = Explanation(optimizer=records[-1].get("optimizer", "?"),
                     steps=[r["step"] for r in records], losses=[r.get("loss") for r in records])
    for name, p in records[-1]["params"].items():
        w = p["weight"]["norm"]
        ex.update_ratios[name] = p["update"]["norm"] / w if w else float("nan")
    pool = _pool(records)
    if pool is None:
        return ex
    ex.n_values, ex.pooled_names = int(pool.W.size), pool.names
    aW, ag, adW = np.abs(pool.W), np.abs(pool.g), np.abs(pool.dW)
    # NOTE: each pooled array is ranked once (a sort of every pooled value, the costly part),
    # for every correlation and example below; a non-finite value takes spearman's own path.
    finite = all(np.isfinite(v).all() for v in (aW, ag, adW))
    ranks = {k: rankdata(v) for k, v in (("W", aW), ("g", ag), ("dW", adW))} if finite \
        else None
    ex.corr_update_grad = spearman_ranks(ranks["dW"], ranks["g"]) if ranks else spearman(adW, ag)
    ex.corr_update_weight = spearman_ranks(ranks["dW"], ranks["W"]) if ranks \
        else spearman(adW, aW)
    if ex.optimizer == "SGD" and _plain_sgd(records):
        dev = np.abs(pool.dW + pool.lr * pool.g)
        # NOTE: W_after = W − fl(lr·g) is rounded to W's precision, and so is W_after − W.
        bound = 2 * pool.eps * (aW + np.abs(pool.lr * pool.g)) + np.finfo(np.float64).tiny
        ex.sgd_max_deviation, ex.sgd_bound = float(dev.max()), float(bound.max())
        ex.sgd_holds = bool(np.all(dev <= bound))
        ex.sgd_bitwise = _sgd_bitwise(records)
    has_eff = np.isfinite(pool.eff)
    if has_eff.any():
        eff, dW = pool.eff[has_eff], pool.dW[has_eff]
        step = np.abs(eff / pool.lr[has_eff])
        ex.corr_update_adam = spearman_ranks(ranks["dW"], rankdata(step)) \
            if ranks and has_eff.all() and np.isfinite(step).all() else spearman(np.abs(dW), step)
        if ex.optimizer == "Adam" or _no_weight_decay(records):
            dev = np.abs(dW + eff)
            bound = 2 * pool.eps * (aW[has_eff] + np.abs(eff)) + np.finfo(np.float64).tiny
            ex.adam_max_deviation, ex.adam_bound = float(dev.max()), float(bound.max())
            ex.adam_holds = bool(np.all(dev <= bound))
            ex.adam_bitwise = _adam_bitwise(records)
    ex.large_weight_tiny_grad, ex.small_weight_huge_grad = _examples(pool, aW, ag, adW, ranks)
    return ex


def _plain_sgd(records) -> bool:
    """SGD without momentum, weight decay or maximize at every recorded step."""
    return all(not p["hyper"].get("momentum") and not p["hyper"].get("weight_decay")
               and not p["hyper"].get("maximize")
               for r in records for p in r["params"].values() if p.get("hyper"))


def _sgd_bitwise(records) -> bool:
    """Whether every kept ΔW is exactly what plain SGD's arithmetic gives in the weights' own
    precision: (W − lr·g) − W, each operation rounded as NumPy (and the optimizer) rounds it."""
    for r in records:
        for p in r["params"].values():
            if p.get("grad") is None or p.get("hyper") is None or "value" not in p["grad"]:
                continue
            W, g, dW = p["weight"]["value"], p["grad"]["value"], p["update"]["value"]
            if not np.array_equal((W - g * p["hyper"]["lr"]) - W, dW):
                return False
    return True


def _adam_bitwise(records) -> bool:
    """Whether every kept ΔW is exactly (W − lr·m̂/(√v̂ + ε)) − W in the weights' precision."""
    for r in records:
        for p in r["params"].values():
            step = (p.get("adam") or {}).get("effective_step", {})
            if "value" in step and "value" in p["weight"]:
                W = p["weight"]["value"]
                if not np.array_equal((W - step["value"]) - W, p["update"]["value"]):
                    return False
    return True


def _no_weight_decay(records) -> bool:
    return all(not p["hyper"].get("weight_decay")
               for r in records for p in r["params"].values() if p.get("hyper"))


def _examples(pool: _Pool, aW, ag, adW, ranks=None) -> tuple:
    """Top-decile |W| with bottom-decile |g| (the largest gap between the two ranks; a gradient
    of exactly 0, a dead unit, only when there is no other), and bottom-decile |W| with
    top-decile |g| (the largest |g|). `ranks`: rankdata of aW, ag, adW (as W, g, dW), if made."""
    n = aW.size
    if n < 10:
        return None, None
    ranks = ranks or {"W": rankdata(aW), "g": rankdata(ag), "dW": rankdata(adW)}
    rW, rg, rdW = ((ranks[k] - 1) / (n - 1) for k in ("W", "g", "dW"))  # 0: least, 1: most
    (w10, w90), (g10, g90) = np.quantile(aW, [0.1, 0.9]), np.quantile(ag, [0.1, 0.9])

    def make(k):
        name, index, step = pool.locate(int(k))
        return Example(name, index, step, float(pool.W[k]), float(pool.g[k]),
                       float(pool.dW[k]), float(rW[k]), float(rg[k]), float(rdW[k]))

    # NOTE: when no value sits in both deciles, the most extreme pair of ranks stands in.
    cand = np.flatnonzero((aW >= w90) & (ag <= g10) & (ag > 0))
    if not cand.size:
        cand = np.flatnonzero((aW >= w90) & (ag <= g10))
    first = cand[np.argmax(rW[cand] - rg[cand])] if cand.size else np.argmax(rW - rg)
    cand = np.flatnonzero((aW <= w10) & (ag >= g90))
    second = cand[np.argmax(ag[cand])] if cand.size else np.argmax(rg - rW)
    return make(first), make(second)


def _g(x: float) -> str:
    return f"{x:.4g}"


def _sentences(ex: Explanation) -> list:
    lines = []
    losses = [v for v in ex.losses if v is not None]
    span = f"steps {ex.steps[0]}–{ex.steps[-1]}" if len(ex.steps) > 1 else f"step {ex.steps[0]}"
    line = f"{len(ex.steps)} recorded steps ({span}) of {ex.optimizer}."
    if losses:
        line += f" The loss went from {_g(losses[0])} to {_g(losses[-1])}."
    lines.append(line)
    if ex.update_ratios:
        ratios = ", ".join(f"{n} {r:.2e}" for n, r in ex.update_ratios.items())
        lines.append(f"At the last step each update was this fraction of its weight tensor "
                     f"(‖ΔW‖/‖W‖): {ratios}.")
    if not ex.n_values:
        lines.append("No full weight values were recorded, so there are no per-weight "
                     "findings: record with full_size_limit > 0 or full_values=[names].")
        return lines
    lines.append(f"Over {ex.n_values:,} (step, weight) pairs from {', '.join(ex.pooled_names)}, "
                 f"the rank correlation (Spearman) of |ΔW| with |g| is "
                 f"{ex.corr_update_grad:.6f}, and of |ΔW| with |W| is "
                 f"{ex.corr_update_weight:.4f}.")
    if ex.sgd_holds is not None:
        exact = ("and bit for bit, ΔW is (W − lr·g) − W computed in the weights' own precision."
                 if ex.sgd_bitwise else
                 "but not bit for bit (W − lr·g) − W in the weights' own precision.")
        lines.append(f"Plain SGD moves every weight by ΔW = −lr·g, so |ΔW| ranks as |g| "
                     f"(correlation {ex.corr_update_grad:.6f}: 1 but for ties that rounding "
                     f"splits), and how big the weight is plays no part. Checked on every pair: "
                     f"max |ΔW + lr·g| = {ex.sgd_max_deviation:.3g}, "
                     f"{'within' if ex.sgd_holds else 'OUTSIDE'} float rounding of the weights "
                     f"(at most 2ε·(|W| + |lr·g|) = {ex.sgd_bound:.3g}); " + exact)
    if ex.corr_update_adam is not None:
        lines.append(f"{ex.optimizer} does not step along g itself: it moves each weight by "
                     f"−lr·m̂/(√v̂ + ε), where m̂ and v̂ are the bias-corrected running mean and "
                     f"mean square of that weight's gradients. So |ΔW| follows |m̂/(√v̂ + ε)| "
                     f"(correlation {ex.corr_update_adam:.6f}) rather than |g| "
                     f"({ex.corr_update_grad:.4f}).")
    if ex.adam_holds is not None:
        exact = ("and bit for bit, ΔW is (W − lr·m̂/(√v̂ + ε)) − W in the weights' own "
                 "precision." if ex.adam_bitwise else "but not bit for bit.")
        lines.append(f"Checked on every pair: max |ΔW + lr·m̂/(√v̂ + ε)| = "
                     f"{ex.adam_max_deviation:.3g}, "
                     f"{'within' if ex.adam_holds else 'OUTSIDE'} float rounding "
                     f"(at most {ex.adam_bound:.3g}); " + exact)
    adam = ex.corr_update_adam is not None
    for ex_, label, expected_small in (
            (ex.large_weight_tiny_grad, "A large weight with a tiny gradient", True),
            (ex.small_weight_huge_grad, "A small weight with a huge gradient", False)):
        if ex_ is None:
            continue
        lines.append(f"{label}: {ex_.where()} has W = {_g(ex_.weight)} (|W| larger than "
                     f"{ex_.weight_rank:.1%} of the others), g = {_g(ex_.grad)} (|g| larger "
                     f"than {ex_.grad_rank:.1%}), {_how_it_moved(ex_, expected_small, adam)}: "
                     f"ΔW = {_g(ex_.update)} (|ΔW| larger than {ex_.update_rank:.1%} of the "
                     f"other updates).")
    return lines


def _how_it_moved(example, expected_small: bool, adam: bool) -> str:
    """The connective that fits the numbers: did the update follow the gradient's size?"""
    small = example.update_rank < 0.5
    moved = "so it barely moved" if small else "so it moved a lot"
    if small == expected_small or not adam:
        return moved
    why = ("Adam divides each step by √v̂, so a small but steady gradient still takes a "
           "full-size step" if not small else
           "Adam divides each step by √v̂, and this weight's gradients have been large")
    return ("yet it barely moved" if small else "yet it moved a lot") + f" ({why})"


# ---- one weight over time --------------------------------------------------------------------
@dataclass
class WeightStory:
    """One weight over the recorded steps that kept its tensor's full values (arrays aligned
    with `steps`; effective_step is lr·m̂/(√v̂ + ε) under Adam, else None)."""

    name: str
    index: tuple
    steps: np.ndarray
    weight: np.ndarray
    grad: np.ndarray
    update: np.ndarray
    loss: np.ndarray
    effective_step: np.ndarray | None = None

    def text(self) -> str:
        """A table: step, loss, W (before the step), g, ΔW (and Adam's step)."""
        head = ["step", "loss", "W", "g", "ΔW"] + (["lr·m̂/(√v̂+ε)"]
                                                   if self.effective_step is not None else [])
        rows = [f"{self.name}[{', '.join(map(str, self.index))}]",
                " | ".join(f"{h:>12}" for h in head)]
        for k in range(self.steps.size):
            cells = [f"{int(self.steps[k]):>12}"] + [
                f"{v:>12.5g}" for v in (self.loss[k], self.weight[k], self.grad[k],
                                        self.update[k])]
            if self.effective_step is not None:
                cells.append(f"{self.effective_step[k]:>12.5g}")
            rows.append(" | ".join(cells))
        return "\n".join(rows)


def weight_story(source, name: str, index) -> WeightStory:
    """Value, gradient and update of weight `index` (int: flat; tuple: per axis) of parameter
    `name`, at every recorded step where its full values were kept."""
    records = as_records(source)
    steps, W, g, dW, loss, eff = [], [], [], [], [], []
    idx = None
    for rec in records:
        p = rec["params"].get(name)
        if p is None:
            raise ValueError(f"weight_story: no parameter '{name}'; the records have "
                             f"{list(rec['params'])}")
        if "value" not in p["weight"]:
            continue
        value = np.asarray(p["weight"]["value"])
        if idx is None:
            idx = _index(index, value.shape, name)
        steps.append(rec["step"])
        loss.append(np.nan if rec.get("loss") is None else rec["loss"])
        W.append(value[idx])
        g.append(np.nan if p["grad"] is None else np.asarray(p["grad"]["value"])[idx])
        dW.append(np.asarray(p["update"]["value"])[idx])
        adam = p.get("adam")
        step = adam.get("effective_step", {}) if adam else {}
        eff.append(np.asarray(step["value"])[idx] if "value" in step else np.nan)
    if not steps:
        raise ValueError(f"weight_story: no record kept the full values of '{name}'; record "
                         f"with Recorder(..., full_values=['{name}'])")
    eff_arr = np.array(eff, np.float64)
    return WeightStory(name, idx, np.array(steps), np.array(W, np.float64),
                       np.array(g, np.float64), np.array(dW, np.float64),
                       np.array(loss, np.float64),
                       None if np.isnan(eff_arr).all() else eff_arr)


def _index(index, shape: tuple, name: str) -> tuple:
    size = int(np.prod(shape))
    if isinstance(index, (int, np.integer)):
        if not -size <= index < size:
            raise IndexError(f"weight_story: index {index} is out of range for '{name}' of "
                             f"shape {shape} ({size} values)")
        return tuple(int(i) for i in np.unravel_index(int(index) % size, shape))
    index = tuple(int(i) for i in index)
    if len(index) != len(shape) or any(not -n <= i < n for i, n in zip(index, shape)):
        raise IndexError(f"weight_story: index {index} does not fit '{name}' of shape {shape}")
    return tuple(i % n for i, n in zip(index, shape))


# ---- the input's effect on the first layer's gradient --------------------------------------
@dataclass
class InputScaling:
    """What `input_scaling_check` measured (arrays over the layer's output units j)."""

    layer: str
    feature: int
    factor: float
    grad_column: np.ndarray          # ∂loss/∂W[:, feature], original input
    grad_column_scaled: np.ndarray   # the same with input feature scaled by `factor`
    predicted: np.ndarray            # factor · Σₙ δ'ₙⱼ·xₙ,feature (δ': the scaled pass's δ)
    ratio: np.ndarray                # grad_column_scaled / Σₙ δ'ₙⱼ·xₙ,feature  (= factor)
    raw_ratio: np.ndarray            # grad_column_scaled / grad_column (δ changed as well)
    formula_deviation: float         # max |∂loss/∂W − δᵀx| / max |∂loss/∂W|, both passes
    max_deviation: float             # max |grad_column_scaled − predicted|
    bound: float                     # float rounding allowed for it
    holds: bool

    def text(self) -> str:
        f, c = self.feature, self.factor
        raw, ratio = (self.raw_ratio[np.isfinite(self.raw_ratio)],
                      self.ratio[np.isfinite(self.ratio)])
        raw = f"{np.median(raw):.4g}" if raw.size else "undefined"
        ratio = f"{np.median(ratio):.6g}" if ratio.size else "undefined (every δ is 0)"
        return (
            f"Layer '{self.layer}' computes z = W·x + b, so ∂loss/∂W = δ·xᵀ with δ = ∂loss/∂z: "
            f"∂loss/∂W[j, {f}] = Σₙ δₙⱼ·xₙ,{f} (measured gradients match δᵀx to "
            f"{self.formula_deviation:.2g}, relative). Scaling input feature {f} by {c:g} "
            f"multiplies every xₙ,{f} in that sum by {c:g}: with the δ of the scaled pass, the "
            f"gradient column is exactly {c:g} × Σₙ δₙⱼ·xₙ,{f} (measured ratio "
            f"{ratio}, median over units; max |deviation| {self.max_deviation:.3g}, float "
            f"rounding allows {self.bound:.3g}: {'holds' if self.holds else 'DOES NOT HOLD'}). "
            f"Against the unscaled run the ratio is {raw} (median), not {c:g}, because a "
            f"different x also changes z and everything after it, and so δ.")


def input_scaling_check(model, loss_fn, X, y, layer_name=None, feature: int = 0,
                        factor: float = 2.0) -> InputScaling:
    """Scale input feature `feature` of X by `factor` and check, on the first layer (a Linear,
    named `layer_name`; default the first Linear), that ∂loss/∂W[:, feature] = factor ·
    Σₙ δₙ·xₙ,feature, δ = ∂loss/∂z of the scaled pass. Gradients are restored afterwards.

    X: (N, in_features) array or Tensor, y: targets for `loss_fn`.
    """
    from ..nn import Linear

    modules = dict(model.named_modules())
    if layer_name is None:
        layer_name = next((n for n, m in modules.items() if isinstance(m, Linear)), None)
        if layer_name is None:
            raise ValueError("input_scaling_check: the model has no Linear layer")
    if layer_name not in modules or not isinstance(modules[layer_name], Linear):
        raise ValueError(f"input_scaling_check: layer_name={layer_name!r} must name a Linear "
                         f"layer; Linear layers: "
                         f"{[n for n, m in modules.items() if isinstance(m, Linear)]}")
    layer = modules[layer_name]
    X = np.array(X.data if isinstance(X, Tensor) else X)
    if X.ndim != 2 or not 0 <= feature < X.shape[1]:
        raise ValueError(f"input_scaling_check: X of shape {X.shape} must be (N, features) "
                         f"with 0 <= feature={feature} < features")
    y = y if isinstance(y, Tensor) else Tensor(np.asarray(y))
    X2 = X.copy()
    X2[:, feature] *= factor
    x1, d1, g1 = _pass(model, loss_fn, layer, layer_name, X, y)
    x2, d2, g2 = _pass(model, loss_fn, layer, layer_name, X2, y)
    formula = max(_rel(g1, d1.T @ x1), _rel(g2, d2.T @ x2))
    base = d2.T @ X[:, feature].astype(d2.dtype)   # Σₙ δ'ₙⱼ·xₙ,f with the original x
    col, predicted = g2[:, feature].astype(np.float64), factor * base.astype(np.float64)
    dev = np.abs(col - predicted)
    eps = np.finfo(g2.dtype).eps
    # NOTE: a sum of N products is exact to about N·ε·Σ|terms| (plus the scaling's rounding).
    bound = (X.shape[0] + 2) * eps * (np.abs(d2).T @ np.abs(X2[:, feature])) \
        + np.finfo(np.float64).tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base != 0, col / base, np.nan)
        raw = np.where(g1[:, feature] != 0, col / g1[:, feature], np.nan)
    return InputScaling(layer_name, feature, float(factor), g1[:, feature].copy(), col,
                        predicted, ratio, raw, formula, float(dev.max()), float(bound.max()),
                        bool(np.all(dev <= bound)))


def _rel(a, b) -> float:
    scale = float(np.abs(a).max())
    return float(np.abs(a - b).max() / scale) if scale else float(np.abs(a - b).max())


def _pass(model, loss_fn, layer, name, X, y) -> tuple:
    """One forward and backward: the layer's input x, δ = ∂loss/∂z (its output), ∂loss/∂W.
    δ is caught by adding a zero leaf to z (d(z + 0)/dz = 1 changes nothing)."""
    seen = {}

    def hook(module, inputs, out):
        seen["x"] = np.asarray(inputs[0].data if isinstance(inputs[0], Tensor) else inputs[0])
        seen["probe"] = Tensor(np.zeros_like(out.data), requires_grad=True)
        return out + seen["probe"]

    params = list(model.parameters())
    saved = [None if p.grad is None else p.grad.copy() for p in params]
    try:
        for p in params:
            p.grad = None
        with enable_grad(), layer.register_forward_hook(hook):
            loss_fn(model(Tensor(X)), y).backward()
        if not np.array_equal(seen["x"], X):
            raise ValueError(f"input_scaling_check: layer '{name}' does not receive X itself; "
                             "name the model's first layer")
        out_features = seen["probe"].data.shape[-1]
        delta = seen["probe"].grad.reshape(-1, out_features).copy()
        return seen["x"].reshape(delta.shape[0], -1), delta, layer.weight.grad.copy()
    finally:
        for p, g in zip(params, saved):  # NOTE: p.grad may be a view of a flat buffer
            if g is None:
                p.grad = None
            elif p.grad is not None and p.grad.shape == g.shape:
                np.copyto(p.grad, g)
            else:
                p.grad = g
