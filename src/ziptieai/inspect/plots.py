"""Pictures of training: optimizer races, loss curves, decision boundaries, histograms.

    from ziptieai.inspect import race, plots
    plots.plot_race(race.race("rosenbrock"), "race.png")
    plots.plot_history(history, "history.png")           # what fit() returned

What lives here: one function per picture, each writing a PNG and returning its path.
What does not: the numbers (`race`, `fit`, the recorder compute them, with no matplotlib).

matplotlib is optional (`pip install ziptieai[plot]`) and imported only inside these functions.
NOTE: figures are built as `matplotlib.figure.Figure` objects drawn by the Agg canvas, never
through `pyplot`: no global figure state, no GUI backend is touched, nothing to close.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["plot_race", "plot_race_data", "plot_history", "plot_decision_boundary",
           "plot_histograms", "plot_weight_story"]

# One colour and line style per optimizer, the same in every picture.
_STYLE = {
    "sgd": ("#1f77b4", "-"), "momentum": ("#ff7f0e", "-"), "nesterov": ("#2ca02c", "-"),
    "rmsprop": ("#d62728", "-"), "adam": ("#9467bd", "-"), "adamw": ("#e377c2", "--"),
    "adagrad": ("#8c564b", "-"), "nadam": ("#17becf", "-"), "radam": ("#bcbd22", "-"),
}
_TRAIN, _VAL = "#1f77b4", "#ff7f0e"


def _figure(width: float, height: float, **kwargs):
    """A Figure on the Agg canvas, with readable default font sizes."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("ziptieai.inspect.plots needs matplotlib: pip install ziptieai[plot] "
                          "(or pip install matplotlib)") from None
    rc = {"font.size": 11, "axes.titlesize": 12.5, "axes.labelsize": 11,
          "legend.fontsize": 9.5, "xtick.labelsize": 10, "ytick.labelsize": 10,
          "axes.grid": True, "grid.alpha": 0.3}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width, height), layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig, matplotlib.rc_context(rc)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, facecolor="white")
    return path


def _style(name: str, index: int) -> tuple:
    if name in _STYLE:
        return _STYLE[name]
    return (f"C{index % 10}", "-")


# ---- optimizer races -----------------------------------------------------------------------
def plot_race(result, path) -> Path:
    """One PNG of a `race()` result: the paths on the contour plot (left), loss − min against
    step on a log scale (right), and below them the table of steps to reach the tolerance."""
    surface = result.surface
    runs = list(result.runs.values())
    fig, rc = _figure(15, 8.2)
    with rc:
        grid = fig.add_gridspec(2, 2, height_ratios=[4.2, 0.35 + 0.28 * len(runs)],
                                width_ratios=[1.0, 1.0])
        ax_map, ax_loss = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        ax_table = fig.add_subplot(grid[1, :])
        fig.suptitle(f"Optimizer race on {surface.name}:  f(x, y) = {surface.formula}",
                     fontsize=14, fontweight="bold")
        _contours(ax_map, surface)
        floor = result.tol * 1e-3
        for i, run in enumerate(runs):
            color, ls = _style(run.name, i)
            path_xy = run.trajectory
            ax_map.plot(path_xy[:, 0], path_xy[:, 1], color=color, ls=ls, lw=1.8, alpha=0.9)
            last = _last_finite(path_xy)
            if last is not None:
                ax_map.plot(*last, "o", color=color, ms=7, mec="black", mew=0.8)
            gap = np.maximum(run.losses - surface.min_value, floor)
            ax_loss.plot(np.arange(len(gap)), gap, color=color, ls=ls, lw=1.8,
                         label=f"{run.label}, lr {run.lr:g}")
            if run.reached is not None:
                ax_loss.plot(run.reached, max(result.tol, floor), "o", color=color, ms=6,
                             mec="black", mew=0.6)
        ax_map.plot(*surface.start, "o", color="white", mec="black", ms=10, mew=1.5, zorder=5,
                    label="start")
        ax_map.plot(*surface.minimum, "*", color="gold", mec="black", ms=18, zorder=5,
                    label="minimum")
        ax_map.set_xlim(surface.bounds[0])
        ax_map.set_ylim(surface.bounds[1])
        ax_map.set_xlabel("x")
        ax_map.set_ylabel("y")
        ax_map.set_title(f"paths from {surface.start}  (dots: where each ended)")
        ax_map.legend(loc="best", framealpha=0.9)  # start, minimum; colours: legend on the right
        ax_loss.axhline(result.tol, color="black", ls=":", lw=1.2,
                        label=f"tolerance {result.tol:g}")
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(bottom=floor)
        ax_loss.set_xlim(0, result.steps)
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel(f"loss − min  (min = {surface.min_value:g})")
        ax_loss.set_title("how far from the minimum, step by step")
        ax_loss.legend(loc="upper right", framealpha=0.9)
        _race_table(ax_table, result)
    return _save(fig, path)


def _contours(ax, surface) -> None:
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    z = surface.f(xs, ys) - surface.min_value
    if surface.log_scale:
        low = max(float(np.percentile(z, 0.5)), 1e-3)
        levels = np.logspace(math.log10(low), math.log10(float(z.max())), 24)
        # NOTE: below the lowest level, "extend" colours the deepest basin (a log scale cannot
        # show the zero at the minimum itself, so z is floored a little below that level).
        z = np.clip(z, 0.5 * low, None)
        from matplotlib.colors import LogNorm

        ax.contourf(xs, ys, z, levels=levels, cmap="Blues_r", norm=LogNorm(), alpha=0.55,
                    extend="min")
        ax.contour(xs, ys, z, levels=levels, colors="gray", linewidths=0.5, alpha=0.6)
    else:
        ax.contourf(xs, ys, z, levels=24, cmap="Blues_r", alpha=0.55)
        ax.contour(xs, ys, z, levels=24, colors="gray", linewidths=0.5, alpha=0.6)
    ax.grid(False)


def _last_finite(points: np.ndarray):
    ok = np.flatnonzero(np.isfinite(points).all(axis=1))
    return points[ok[-1]] if ok.size else None


def _race_table(ax, result) -> None:
    ax.axis("off")
    rows, colors = [], []
    for name, label, lr, _, gap in result.table():
        rows.append([label, f"{lr:g}", result.runs[name].outcome,
                     "—" if math.isnan(gap) else f"{gap:.3g}"])
        colors.append(_style(name, list(result.runs).index(name))[0])
    table = ax.table(cellText=rows, loc="center", cellLoc="center",
                     colLabels=["optimizer", "lr", f"steps until loss − min ≤ {result.tol:g}",
                                f"loss − min after {result.steps} steps"],
                     colWidths=[0.22, 0.1, 0.3, 0.25])
    table.auto_set_font_size(False)
    table.set_fontsize(10.5)
    table.scale(1, 1.25)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#bbbbbb")
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#eeeeee")
        elif col == 0:
            cell.set_text_props(color=colors[row - 1], fontweight="bold")


def plot_race_data(result, path) -> Path:
    """One PNG of a `race_data()` result: training loss per step (smoothed, raw faint),
    validation loss per epoch, and validation accuracy (or RMSE) per epoch."""
    classify = result.task == "classification"
    fig, rc = _figure(16, 5.2)
    with rc:
        axes = fig.subplots(1, 3)
        fig.suptitle(f"Optimizers training the same MLP on {result.dataset} "
                     f"({result.epochs} epochs, same start, same batches)",
                     fontsize=14, fontweight="bold")
        for i, (name, losses) in enumerate(result.step_losses.items()):
            color, ls = _style(name, i)
            label = f"{result.labels[name]}, lr {result.lrs[name]:g}"
            per_epoch = len(losses) / result.epochs
            x = np.arange(1, len(losses) + 1) / per_epoch
            axes[0].plot(x, losses, color=color, lw=0.8, alpha=0.25)
            axes[0].plot(x, _smooth(losses), color=color, ls=ls, lw=2, label=label)
            records = result.records[name]
            epochs = [r["epoch"] for r in records]
            axes[1].plot(epochs, [r["val_loss"] for r in records], color=color, ls=ls, marker="o",
                         lw=2, label=label)
            key = "val_accuracy" if classify else "val_rmse"
            axes[2].plot(epochs, [r[key] for r in records], color=color, ls=ls, marker="o", lw=2,
                         label=label)
        axes[0].set_title("training loss per step (faint: raw, line: smoothed)")
        axes[0].set_xlabel("epoch")
        axes[0].set_ylabel("loss")
        handles, labels = axes[1].get_legend_handles_labels()
        ncols = len(labels) if len(labels) <= 4 else math.ceil(len(labels) / 2)
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize=11,
                   frameon=False)
        axes[1].set_title("validation loss after each epoch")
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("loss")
        axes[2].set_title("validation accuracy" if classify else "validation RMSE")
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("accuracy" if classify else "RMSE")
        for ax in axes[1:]:
            ax.xaxis.get_major_locator().set_params(integer=True)
        if classify:
            from matplotlib.ticker import PercentFormatter

            axes[2].yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return _save(fig, path)


def _smooth(values, weight: float = 0.9) -> np.ndarray:
    """An exponential moving average with bias correction (TensorBoard's smoothing)."""
    out = np.empty(len(values))
    avg = 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        out[i] = avg / (1 - weight ** (i + 1))
    return out


# ---- a training run ------------------------------------------------------------------------
def plot_history(history_records, path) -> Path:
    """Loss and accuracy (or RMSE / R²) per epoch, training vs validation, from `fit`'s
    History (or its `.records`, a list of dicts); a third panel shows lr when it changed."""
    records = list(getattr(history_records, "records", history_records))
    if not records:
        raise ValueError("plot_history: there are no records to plot (train for an epoch)")
    epochs = [r["epoch"] for r in records]
    panels = [("loss", "train_loss", "val_loss")]
    if "train_accuracy" in records[0] or "val_accuracy" in records[0]:
        panels.append(("accuracy", "train_accuracy", "val_accuracy"))
    elif "val_rmse" in records[0]:
        panels.append(("validation RMSE", None, "val_rmse"))
    lrs = [r.get("lr") for r in records]
    if None not in lrs and len(set(lrs)) > 1:
        panels.append(("learning rate", "lr", None))
    fig, rc = _figure(5.6 * len(panels) + 0.6, 4.6)
    with rc:
        axes = np.atleast_1d(fig.subplots(1, len(panels)))
        fig.suptitle("Training history", fontsize=14, fontweight="bold")
        marker = "o-" if len(records) <= 30 else "-"
        for ax, (title, train_key, val_key) in zip(axes, panels):
            for key, color, label in ((train_key, _TRAIN, "train"), (val_key, _VAL, "val")):
                if key is None or key not in records[0]:
                    continue
                if key == "lr":
                    label = "lr"
                ax.plot(epochs, [r.get(key, np.nan) for r in records], marker, color=color,
                        lw=2, ms=4, label=label)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.set_ylabel(title)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.legend()
            if title == "accuracy":
                from matplotlib.ticker import PercentFormatter

                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return _save(fig, path)


def plot_decision_boundary(model, X, y, path, resolution: int = 300) -> Path:
    """The class a model predicts at every point of the plane, with the data on top.

    X (N, 2) features, y (N,) integer labels. The model outputs (M, C) class scores (argmax
    is the class) or (M, 1) / (M,) binary logits (> 0 is class 1). It runs in eval mode
    under no_grad; its training mode is restored afterwards.
    """
    from .. import no_grad
    from ..tensor import Tensor

    X = np.asarray(getattr(X, "data", X), dtype=np.float64)
    y = np.asarray(getattr(y, "data", y)).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: y has {len(y)} labels for {len(X)} points")
    pad = 0.08 * (X.max(axis=0) - X.min(axis=0) + 1e-9)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    dtype = _param_dtype(model)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            scores = model(Tensor(grid.astype(dtype))).data
            data_scores = model(Tensor(X.astype(dtype))).data
    finally:
        if hasattr(model, "train"):
            model.train(was_training)

    def classes(s):
        s = s.reshape(len(s), -1)
        return (s[:, 0] > 0).astype(int) if s.shape[1] == 1 else s.argmax(axis=1)

    region = classes(scores).reshape(xs.shape)
    accuracy = float((classes(data_scores) == y).mean())
    labels = np.unique(np.concatenate([np.unique(y), np.unique(region)]))
    fig, rc = _figure(7.5, 6.5)
    with rc:
        from matplotlib.colors import BoundaryNorm, ListedColormap

        ax = fig.add_subplot()
        palette = [f"C{int(k) % 10}" for k in labels]
        cmap = ListedColormap(palette)
        norm = BoundaryNorm(np.append(labels - 0.5, labels[-1] + 0.5), len(labels))
        ax.contourf(xs, ys, region, levels=np.append(labels - 0.5, labels[-1] + 0.5),
                    cmap=cmap, norm=norm, alpha=0.25)
        ax.contour(xs, ys, region, levels=labels[:-1] + 0.5, colors="black", linewidths=1.2)
        for k, color in zip(labels, palette):
            mask = y == k
            if mask.any():
                ax.scatter(X[mask, 0], X[mask, 1], s=18, color=color, edgecolors="black",
                           linewidths=0.4, label=f"class {int(k)}")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel("feature 1")
        ax.set_ylabel("feature 2")
        ax.set_title(f"Decision boundary  (accuracy on these points: {accuracy:.1%})",
                     fontweight="bold")
        ax.legend(loc="best", framealpha=0.9)
        ax.grid(False)
    return _save(fig, path)


def _param_dtype(model):
    params = getattr(model, "parameters", None)
    if params is not None:
        for p in params():
            return p.data.dtype
    return np.float32


# ---- inside the network ----------------------------------------------------------------------
def plot_histograms(series: dict, path, steps=None, bins: int = 60) -> Path:
    """Histograms over time, one heatmap per series: step across, value up, colour = count.

    series: {name: [(counts, edges), ...]}, one (counts, edges) pair per recorded step, as
    `np.histogram` returns them (edges may differ between steps: each is re-binned onto one
    common grid of `bins` bins, spreading each bin's count evenly over its width).
    `steps`: the step numbers of the records (default 0, 1, ...).
    Colour is log-scaled (log(1 + count)) so the tails stay visible.
    """
    if not series:
        raise ValueError("plot_histograms: series is empty")
    names = list(series)
    ncols = 2 if len(names) in (2, 4) else min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, rc = _figure(5.4 * ncols + 0.4, 3.6 * nrows + 0.7)
    with rc:
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        fig.suptitle("Histograms over training  (colour: log(1 + count))", fontsize=14,
                     fontweight="bold")
        for ax, name in zip(axes, names):
            records = series[name]
            if not records:
                ax.set_title(f"{name}: nothing recorded")
                continue
            low = min(float(np.asarray(e)[0]) for _, e in records)
            high = max(float(np.asarray(e)[-1]) for _, e in records)
            if not high > low:
                high = low + 1.0
            common = np.linspace(low, high, bins + 1)
            image = np.zeros((bins, len(records)))
            for j, (counts, edges) in enumerate(records):
                # NOTE: re-binned through the cumulative count, linear within each bin: the
                # counts are conserved and no common bin is left empty between source bins.
                edges = np.asarray(edges, dtype=np.float64)
                cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(counts, np.float64))])
                image[:, j] = np.diff(np.interp(common, edges, cumulative))
            x = np.arange(len(records)) if steps is None else np.asarray(steps)
            if len(x) != len(records):
                raise ValueError(f"plot_histograms: {len(x)} steps for {len(records)} records "
                                 f"of {name!r}")
            half = 0.5 * (x[1] - x[0]) if len(x) > 1 else 0.5
            mesh = ax.imshow(np.log1p(image), aspect="auto", origin="lower", cmap="magma",
                             extent=(x[0] - half, x[-1] + half, low, high),
                             interpolation="nearest")
            ax.set_title(name)
            ax.set_xlabel("step")
            ax.set_ylabel("value")
            ax.grid(False)
            fig.colorbar(mesh, ax=ax, pad=0.01, label="log(1 + count)")
        for ax in axes[len(names):]:
            ax.axis("off")
    return _save(fig, path)


def plot_weight_story(steps, values, grads, updates, path, name: str = "a weight") -> Path:
    """The life of a weight (or a few) over training, in three aligned panels: its value,
    its gradient, and the update the optimizer applied (value after − value before).

    steps (T,); values, grads, updates (T,) for one weight or (T, k) for k weights.
    """
    steps = np.asarray(steps)
    arrays = []
    for label, a in (("values", values), ("grads", grads), ("updates", updates)):
        a = np.asarray(a, dtype=np.float64)
        if a.shape[0] != len(steps):
            raise ValueError(f"plot_weight_story: {label} has {a.shape[0]} entries for "
                             f"{len(steps)} steps")
        arrays.append(a.reshape(len(steps), -1))
    k = arrays[0].shape[1]
    fig, rc = _figure(11, 8.4)
    with rc:
        axes = fig.subplots(3, 1, sharex=True)
        fig.suptitle(f"The story of {name}: value, gradient, update at every step",
                     fontsize=14, fontweight="bold")
        titles = ("value w", "gradient ∂loss/∂w", "update Δw (what the optimizer changed)")
        for row, (ax, a, title) in enumerate(zip(axes, arrays, titles)):
            for i in range(a.shape[1]):
                ax.plot(steps, a[:, i], color=f"C{i % 10}", lw=1.8,
                        label=f"weight {i}" if k > 1 else None)
            if row:  # NOTE: a zero line helps read g and Δw; on w it would flatten the curve
                ax.axhline(0, color="black", lw=0.8, alpha=0.6)
            ax.set_title(title, loc="left")
            ax.set_ylabel(title.split(" ")[0])
        axes[-1].set_xlabel("step")
        if 1 < k <= 10:
            axes[0].legend(loc="best", ncols=min(k, 5))
    return _save(fig, path)
