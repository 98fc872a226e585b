"""report: one self-contained HTML page of a run folder, to open in any browser.

    from ziptieai.inspect.report import write_report
    write_report("runs/moons")                  # → runs/moons/report.html

The page, top to bottom: the config (and the command that repeats the run), why training
stopped and the test scores, the loss and accuracy curves (metrics.csv), per-layer statistics
over the recorded steps (records.json: norms of W, g and ΔW, histograms over time), the
"why did this weight move" explanation (`explain`), and the story of one weight.

What lives here: reading the run folder and laying out HTML. What does not: the numbers
(`Recorder`, `explain`, `weight_story`) and the pictures (`plots`). Images are PNGs embedded
as base64 data URIs and the CSS is inline, so the page is one file that needs no network, no
JavaScript and no other file: it can be mailed, attached or archived as it is.

It degrades instead of failing: without records.json the inner sections say how to record;
without matplotlib every section keeps its tables and the page says how to get the pictures.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import __version__

__all__ = ["write_report"]

SECTIONS = ("Run configuration", "Result", "Training curves", "Per-layer statistics",
            "Why did the weights move?", "One weight's story")
RECORD_HINT = (
    "Train with recording on: <code>ziptie train</code> records unless given "
    "<code>--record-every 0</code>; in Python, pass <code>callbacks=[RecorderCallback(run_dir)]"
    "</code> to <code>fit</code>, or wrap your own loop in <code>with Recorder(model, optimizer)"
    " as rec:</code> and call <code>rec.save(run_dir)</code>. Then write this report again.")
PLOT_HINT = "matplotlib is not installed: tables only. <code>pip install ziptieai[plot]</code>"
CONFIG_MEANING = {
    "data": "dataset", "model": "layer sizes, input → output", "act": "activation",
    "optim": "optimizer", "lr": "learning rate", "batch_size": "examples per step",
    "epochs": "epoch limit", "until_accuracy": "stop at this validation accuracy",
    "until_loss": "stop at this validation loss",
    "patience": "stop after this many epochs without a better loss",
    "seed": "random seed", "val_fraction": "share of training data held out for validation",
    "record_every": "record W, g and ΔW every this many steps (0: off)",
    "version": "ziptieai version"}


def write_report(run_dir, out=None) -> Path:
    """Write one HTML page about the run in `run_dir` to `out` (default run_dir/report.html)
    and return its path. Reads config.json, result.json, metrics.csv and, when there,
    records.json + records.npz; any of them may be missing (that section says so)."""
    run_dir = Path(run_dir)
    known = ("config.json", "result.json", "metrics.csv", "records.json")
    if not run_dir.is_dir() or not any((run_dir / f).is_file() for f in known):
        raise ValueError(f"write_report: {run_dir} is not a run folder (it has none of "
                         f"{', '.join(known)}); train one with `ziptie train --out {run_dir}`")
    out = Path(out) if out is not None else run_dir / "report.html"
    with tempfile.TemporaryDirectory() as tmp:
        page = _Page(run_dir, Path(tmp))
        body = page.build()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


# ---- reading the run folder -------------------------------------------------------------------
def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def read_metrics(path: Path) -> list:
    """metrics.csv as dicts of numbers (epoch and step as int; an empty cell is NaN)."""
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.append({k: (int(float(v)) if k in ("epoch", "step") else float(v))
                         if v not in ("", None) else math.nan for k, v in row.items()})
    return rows


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ---- formatting -------------------------------------------------------------------------------
def fmt(value, key: str = "") -> str:
    """A number as a reader wants it: accuracies in %, seconds with a unit, 4 significant
    digits otherwise; None and NaN as a dash."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if "accuracy" in key:
        return f"{value:.2%}"
    if key == "seconds":
        return f"{value:.2f} s"
    return f"{value:.4g}"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def table(head: list, rows: list, numeric_from: int = 1, cls: str = "") -> str:
    """An HTML table; cells are escaped; columns from `numeric_from` on are right-aligned."""
    th = "".join(f"<th{' class=num' if i >= numeric_from else ''}>{_e(h)}</th>"
                 for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f"<td{' class=num' if i >= numeric_from else ''}>{_e(c)}"
                                    "</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table class='{cls}'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{_e(alt)}'>"


def _note(text_html: str) -> str:
    return f"<p class='note'>{text_html}</p>"


def command_line(config: dict) -> str:
    """The `ziptie train` command that repeats a run from its config."""
    parts = ["ziptie train"]
    for key in ("data", "model", "act", "optim", "lr", "batch_size", "epochs", "until_accuracy",
                "until_loss", "patience", "val_fraction", "seed", "record_every"):
        if config.get(key) is not None:
            parts.append(f"--{key.replace('_', '-')} {config[key]}")
    return " ".join(parts)


# ---- the page ---------------------------------------------------------------------------------
class _Page:
    """Builds the sections of one run's page; pictures go through `tmp` as PNG files."""

    def __init__(self, run_dir: Path, tmp: Path):
        self.run_dir, self.tmp = run_dir, tmp
        self.config = _read_json(run_dir / "config.json")
        self.result = _read_json(run_dir / "result.json")
        self.metrics = read_metrics(run_dir / "metrics.csv")
        self.plots = _have_matplotlib()
        self.records = None
        if (run_dir / "records.json").is_file():
            from .recorder import load_records

            self.records = load_records(run_dir) or None
        self.images = 0

    def picture(self, draw, name: str, alt: str) -> str:
        """`draw(path)` writes a PNG; returns its <img>, embedded."""
        path = draw(self.tmp / f"{name}.png")
        self.images += 1
        return f"<figure>{_img(Path(path), alt)}</figure>"

    def build(self) -> str:
        sections = [self.config_section(), self.result_section(), self.curves_section(),
                    self.layers_section(), self.explain_section(), self.story_section()]
        body = "\n".join(f"<section id='s{i}'><h2>{_e(title)}</h2>\n{content}</section>"
                         for i, (title, content) in enumerate(zip(SECTIONS, sections), 1))
        toc = " · ".join(f"<a href='#s{i}'>{_e(t)}</a>" for i, t in enumerate(SECTIONS, 1))
        warn = "" if self.plots else _note(PLOT_HINT)
        return _TEMPLATE.format(title=_e(f"ziptie run: {self.run_dir.name}"),
                                css=_CSS, heading=_e(self.run_dir.resolve().name),
                                summary=self.summary(), toc=toc, warn=warn, body=body,
                                footer=_e(f"Written by ziptieai {__version__} on "
                                          f"{time.strftime('%Y-%m-%d %H:%M')} from "
                                          f"{self.run_dir.resolve()}"))

    def summary(self) -> str:
        bits = []
        c = self.config or {}
        if c:
            bits.append(f"{c.get('data', '?')}, model {c.get('model', '?')}, "
                        f"{c.get('optim', '?')} lr {fmt(c.get('lr'))}")
        if self.result:
            bits.append(f"{self.result.get('epochs', '?')} epochs")
            bits += [f"test {k} {fmt(v, k)}" for k, v in (self.result.get("test") or {}).items()]
        return _e(" · ".join(bits))

    # ---- sections ---------------------------------------------------------------------------
    def config_section(self) -> str:
        if not self.config:
            return _note("No config.json in this folder.")
        rows = [(k, fmt(v), CONFIG_MEANING.get(k, "")) for k, v in self.config.items()]
        return (table(["setting", "value", "meaning"], rows, numeric_from=9, cls="config")
                + "<p>Repeat this run:</p>"
                + f"<pre class='cmd'>{_e(command_line(self.config))}</pre>")

    def result_section(self) -> str:
        if not self.result:
            return _note("No result.json yet: the run has not finished (resume it with "
                         f"<code>ziptie resume {_e(self.run_dir)}</code>).")
        reason = self.result.get("stop_reason") or "unknown"
        test = self.result.get("test") or {}
        out = (f"<p class='stop'>Training stopped after <b>{_e(self.result.get('epochs', '?'))}"
               f"</b> epochs: <b>{_e(reason)}</b>.</p>")
        if test:
            out += table(["test score", "value"], [(k, fmt(v, k)) for k, v in test.items()],
                         cls="narrow")
            out += ("<p class='caption'>Scores on the test split, which training never saw "
                    "(the validation split picked when to stop).</p>")
        return out

    def curves_section(self) -> str:
        if not self.metrics:
            return _note("No metrics.csv in this folder: no epoch has finished yet.")
        out = ""
        if self.plots:
            from .plots import plot_history

            out += self.picture(lambda p: plot_history(self.metrics, p), "history",
                                "loss and accuracy per epoch, train and validation")
        keys = list(self.metrics[0])
        shown = elide(len(self.metrics), head=10, tail=10)
        rows = [[fmt(self.metrics[i].get(k), k) for k in keys] if i is not None
                else ["…"] * len(keys) for i in shown]
        out += table([k.replace("_", " ") for k in keys], rows, numeric_from=0, cls="metrics")
        return out + ("<p class='caption'>One row per epoch (metrics.csv"
                      + (", where all of them are" if None in shown else "")
                      + "). Training scores are averaged over the epoch's steps; validation "
                      "scores are measured after it.</p>")

    def layers_section(self) -> str:
        if self.records is None:
            return _note("No records in this run folder, so nothing to show of the inside of "
                         "the network. " + RECORD_HINT)
        last = self.records[-1]
        rows = []
        for name, p in last["params"].items():
            w, g, dw = p["weight"], p["grad"], p["update"]
            rows.append([name, "×".join(map(str, p["shape"])), fmt(w["norm"]),
                         fmt(w["mean_abs"]), fmt(g["norm"] if g else None),
                         fmt(g["max_abs"] if g else None), fmt(dw["norm"]),
                         fmt(dw["norm"] / w["norm"] if w["norm"] else None)])
        steps = [r["step"] for r in self.records]
        out = (f"<p>{len(self.records)} recorded steps ({steps[0]}–{steps[-1]}) of "
               f"{_e(last.get('optimizer', '?'))}. At the last one, step {last['step']}"
               f" (loss {fmt(last.get('loss'))}):</p>")
        out += table(["parameter", "shape", "‖W‖", "mean |W|", "‖g‖", "max |g|", "‖ΔW‖",
                      "‖ΔW‖ / ‖W‖"], rows, numeric_from=2)
        out += ("<p class='caption'>W: the weights before the step; g: their gradient; "
                "ΔW: the change the optimizer made. ‖·‖ is the Euclidean norm of the whole "
                "tensor; ‖ΔW‖/‖W‖ says how fast a layer is changing.</p>")
        if not self.plots:
            return out + _note(PLOT_HINT)
        out += self.picture(lambda p: plot_norms(self.records, p), "norms",
                            "norms of W, g and ΔW per parameter over the recorded steps")
        series, hist_steps = histogram_series(self.records)
        if len(hist_steps) >= 2:
            from .plots import plot_histograms

            out += "<h3>Distributions over time</h3>"
            out += self.picture(lambda p: plot_histograms(series, p, steps=hist_steps),
                                "histograms", "histograms of weights and updates over steps")
            where = ", ".join(map(str, hist_steps)) if len(hist_steps) <= 12 else \
                f"{len(hist_steps)} steps from {hist_steps[0]} to {hist_steps[-1]}"
            out += ("<p class='caption'>Each column is one step that kept histograms (steps "
                    f"{where}); brighter means more values there. Top: the weights W of each "
                    "layer; bottom: the updates ΔW.</p>")
        else:
            out += _note("Fewer than two steps kept histograms, so there is no picture of "
                         "the distributions over time (record with a smaller "
                         "<code>histogram_every</code>).")
        return out

    def explain_section(self) -> str:
        if self.records is None:
            return _note("No records, so nothing to explain (<a href='#s4'>how to record"
                         "</a>).")
        from .explain import explain

        lines = explain(self.records).text().split("\n")
        return "<div class='explain'>" + "".join(f"<p>{_e(s)}</p>" for s in lines) + "</div>"

    def story_section(self) -> str:
        if self.records is None:
            return _note("No records, so no weight to follow (<a href='#s4'>how to record"
                         "</a>).")
        pick = pick_weight(self.records)
        if pick is None:
            return _note("No weight matrix kept its full values, so no single weight can be "
                         "followed: record with <code>Recorder(..., full_values=['0.weight'])"
                         "</code> (or a larger <code>full_size_limit</code>).")
        from .explain import weight_story

        name, index, total, size, skipped = pick
        story = weight_story(self.records, name, index)
        label = f"{name}[{', '.join(map(str, index))}]"
        out = ""
        if skipped:
            out += _note(f"{_e(', '.join(skipped))} kept no full values (too large for the "
                         "recorder's <code>full_size_limit</code>), so the story follows "
                         f"<code>{_e(name)}</code>; to follow <code>{_e(skipped[0])}</code>, "
                         f"record with <code>full_values=['{_e(skipped[0])}']</code>.")
        out += (f"<p>Of the {size:,} weights in <code>{_e(name)}</code>, <b>{_e(label)}</b> "
               f"moved the most over the recorded steps (Σ|ΔW| = {fmt(total)}): from "
               f"{fmt(story.weight[0])} at step {story.steps[0]} to "
               f"{fmt(story.weight[-1] + story.update[-1])} after step {story.steps[-1]}.</p>")
        if self.plots:
            from .plots import plot_weight_story

            out += self.picture(lambda p: plot_weight_story(story.steps, story.weight,
                                                            story.grad, story.update, p,
                                                            name=label),
                                "story", f"value, gradient and update of {label} per step")
        head = ["step", "loss", "W", "g", "ΔW"]
        if story.effective_step is not None:
            head.append("lr·m̂/(√v̂+ε)")
        rows = []
        for k in elide(len(story.steps)):
            if k is None:
                rows.append(["…"] * len(head))
                continue
            row = [int(story.steps[k])] + [fmt(float(a[k])) for a in (
                story.loss, story.weight, story.grad, story.update)]
            if story.effective_step is not None:
                row.append(fmt(float(story.effective_step[k])))
            rows.append(row)
        out += table(head, rows, numeric_from=0, cls="narrow")
        return out + ("<p class='caption'>W is the value before the step; W + ΔW is the value "
                      "after it" + (", and under Adam ΔW = −lr·m̂/(√v̂+ε)."
                                    if story.effective_step is not None else ".") + "</p>")


def elide(n: int, head: int = 5, tail: int = 4) -> list:
    """Row indices for a short table: all n, or the first `head` and last `tail` with None
    (a "…" row) between them."""
    if n <= head + tail + 1:
        return list(range(n))
    return list(range(head)) + [None] + list(range(n - tail, n))


# ---- what to show from the records --------------------------------------------------------
def pick_weight(records: list):
    """(name, index, Σ|ΔW|, size, skipped) of the weight that moved most (Σ|ΔW| over the
    steps that kept full values) in the first weight matrix with full values; `skipped`: the
    matrices before it that kept none. None when no matrix kept full values."""
    skipped = []
    for name, p in records[-1]["params"].items():
        if len(p["shape"]) != 2:
            continue
        moves = [np.abs(r["params"][name]["update"]["value"]) for r in records
                 if name in r["params"] and "value" in r["params"][name]["update"]]
        if not moves:
            skipped.append(name)
            continue
        total = np.sum(moves, axis=0, dtype=np.float64)
        flat = int(np.argmax(total))
        index = tuple(int(i) for i in np.unravel_index(flat, total.shape))
        return name, index, float(total.reshape(-1)[flat]), int(total.size), skipped
    return None


def histogram_series(records: list) -> tuple:
    """({"W name": [(counts, edges), ...], "ΔW name": [...]}, steps) for every weight matrix
    (the biases of a layer add little), over the steps that kept all of their histograms."""
    names = [n for n, p in records[-1]["params"].items() if len(p["shape"]) >= 2] \
        or list(records[-1]["params"])
    keep = [r for r in records
            if all(n in r["params"] and "hist" in r["params"][n]["weight"]
                   and "hist" in r["params"][n]["update"] for n in names)]
    series = {}
    for label, key in (("W", "weight"), ("ΔW", "update")):
        for n in names:
            series[f"{label}  {n}"] = [(r["params"][n][key]["hist"]["counts"],
                                        r["params"][n][key]["hist"]["edges"]) for r in keep]
    return series, [r["step"] for r in keep]


def plot_norms(records: list, path) -> Path:
    """‖W‖, ‖g‖, ‖ΔW‖ and ‖ΔW‖/‖W‖ of every parameter against the recorded step: one colour
    per layer, weights solid and biases dashed."""
    from .plots import _figure, _save  # NOTE: the package's figure setup, so styles match

    steps = np.array([r["step"] for r in records])
    names = list(records[-1]["params"])
    layers = list(dict.fromkeys(n.rsplit(".", 1)[0] for n in names))

    def series(name, what):
        out = np.full(len(records), np.nan)
        for k, r in enumerate(records):
            p = r["params"].get(name)
            if p is None:
                continue
            w, g, dw = p["weight"]["norm"], p["grad"], p["update"]["norm"]
            out[k] = {"W": w, "g": g["norm"] if g else np.nan, "dW": dw,
                      "ratio": dw / w if w else np.nan}[what]
        return out

    panels = (("W", "‖W‖  size of the weights", False), ("g", "‖g‖  gradient", True),
              ("dW", "‖ΔW‖  update", True), ("ratio", "‖ΔW‖ / ‖W‖  relative update", True))
    fig, rc = _figure(12, 7.6)
    with rc:
        axes = fig.subplots(2, 2, sharex=True).ravel()
        fig.suptitle("Per-layer norms at every recorded step", fontsize=14, fontweight="bold")
        for ax, (what, title, log) in zip(axes, panels):
            positive = False
            for name in names:
                color = f"C{layers.index(name.rsplit('.', 1)[0]) % 10}"
                y = series(name, what)
                if log:  # NOTE: a zero (a dead unit's update) cannot sit on a log axis
                    y[~(y > 0)] = np.nan
                    positive |= bool(np.isfinite(y).any())
                ax.plot(steps, y, color=color, lw=1.6,
                        ls="--" if name.endswith("bias") else "-", label=name)
            if positive:
                ax.set_yscale("log")
            ax.set_title(title, loc="left")
        for ax in axes[2:]:
            ax.set_xlabel("step")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center",
                   ncols=min(len(labels), 6), frameon=False)
    return _save(fig, path)


# ---- HTML and CSS -----------------------------------------------------------------------------
_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<p class="kicker">ziptie run report</p>
<h1>{heading}</h1>
<p class="summary">{summary}</p>
<nav>{toc}</nav>
{warn}
</header>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d2330; background: #f5f6f8; margin: 0; line-height: 1.5; font-size: 16px; }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 28px; }
header { padding-top: 26px; }
h1 { font-size: 1.9em; margin: 0 0 2px; }
.kicker { text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.8em; color: #1f77b4;
          font-weight: 600; margin: 0; }
.summary { color: #4a5263; margin: 0 0 10px; font-size: 1.05em; }
nav { font-size: 0.92em; margin-bottom: 8px; }
nav a { color: #1f5fa8; text-decoration: none; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px;
          padding: 6px 26px 18px; margin: 18px 0; }
h2 { font-size: 1.35em; border-bottom: 2px solid #1f77b4; padding-bottom: 4px; }
h3 { font-size: 1.1em; margin-top: 26px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 0.93em;
        font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid #e3e6eb; text-align: left; }
th { background: #eef1f5; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; }
table.config td:nth-child(3) { color: #5b6475; }
figure { margin: 14px 0; }
img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.9em; }
pre.cmd { background: #1d2330; color: #e8ecf2; padding: 10px 14px; border-radius: 6px;
          white-space: pre-wrap; }
code { background: #eef1f5; padding: 1px 4px; border-radius: 3px; }
.stop { font-size: 1.1em; }
.caption { color: #5b6475; font-size: 0.9em; margin-top: 2px; }
.note { background: #fff7e0; border-left: 4px solid #e0a800; padding: 8px 12px; }
.explain p { margin: 0 0 12px; max-width: 80ch; }
footer { color: #7a8294; font-size: 0.85em; padding-bottom: 30px; }
"""
