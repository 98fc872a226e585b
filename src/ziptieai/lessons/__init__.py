"""Lessons: six short programs, one per idea of the training loop, in the order the loop runs.

    forward    z = W·x + b, layer by layer: an input becomes a prediction
    loss       how wrong, one number: cross-entropy and MSE on right, unsure and wrong answers
    backward   a gradient for every weight, checked against finite differences
    step       w ← w − lr·g: one update, and the loss goes down
    sgd        many steps: the hand-written loop, `fit`, plain SGD against momentum
    adam       m, v and the bias corrections: why Adam's first steps are about lr in size

Each lesson trains or evaluates a tiny real network in a second or two, prints its own numbers
with one sentence per idea, and draws PNG pictures into `out_dir` (with matplotlib; without
it, one line says so and the numbers stay). The modules are written to be read: open one.

    from ziptieai import lessons
    lessons.run("adam", "lessons_out")        # one lesson → [Path('lessons_out/adam.png')]
    lessons.run_all("lessons_out")            # all six, in order

or from a shell: `python -m ziptieai.lessons.adam OUT_DIR`.

Every lesson module has `run(out_dir, seed=0, print=print) -> list[Path]`. What does not live
here: the library's tools for inspecting your own training (`ziptieai.inspect`).
"""

from __future__ import annotations

import builtins
import importlib
from pathlib import Path

import numpy as np

NAMES = ("forward", "loss", "backward", "step", "sgd", "adam")


def summary(name: str) -> str:
    """The lesson's one-line description (its module docstring's first line)."""
    doc = _module(name).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else name


def run(name: str, out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    """Run one lesson; returns the files it wrote into `out_dir` (made if missing)."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return _module(name).run(out_dir, seed=seed, print=print)


def run_all(out_dir, seed: int = 0, print=builtins.print) -> list[Path]:
    """Run every lesson in order; returns all the files written."""
    files: list[Path] = []
    for i, name in enumerate(NAMES):
        if i:
            print("")
        files += run(name, out_dir, seed=seed, print=print)
    return files


def _module(name: str):
    if name not in NAMES:
        raise ValueError(f"lessons: unknown lesson {name!r}; choose one of {', '.join(NAMES)}"
                         " (or run_all)")
    # NOTE: imported on demand, so `import ziptieai.lessons` costs nothing until one runs.
    return importlib.import_module(f"{__name__}.{name}")


# ---- small helpers the lessons share -------------------------------------------------------

def fmt(values, precision: int = 3) -> str:
    """An array as short text: [ 0.123 -1.500]."""
    return np.array2string(np.asarray(values, dtype=float), precision=precision,
                           floatmode="fixed", suppress_small=False, separator=" ",
                           max_line_width=100)


def heading(print, number: int, title: str, question: str) -> None:
    """The lesson's first lines: its number and title, then the question it answers."""
    print(f"Lesson {number}/{len(NAMES)}: {title}")
    print(f"Question: {question}")


def new_figure(ncols: int = 1, width: float = 5.0, height: float = 4.0):
    """(figure, axes): a matplotlib Figure with a list of `ncols` axes side by side; without
    matplotlib, (None, [None] * ncols), so unpacking still works and save_figure says why.

    NOTE: a bare `matplotlib.figure.Figure` draws with Agg when saved and never touches
    pyplot's global state or the user's chosen backend (a lesson run inside a notebook leaves
    it as it was).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None, [None] * ncols
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def save_figure(fig, out_dir, filename: str, print) -> list[Path]:
    """Write `fig` as out_dir/filename; [] (and one line saying why) when there is no figure."""
    if fig is None:
        print("(No picture: matplotlib is not installed. pip install 'ziptieai[plot]' to get "
              "one; the numbers above are the lesson.)")
        return []
    path = Path(out_dir) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"Picture: {path}")
    return [path]


__all__ = ["NAMES", "run", "run_all", "summary"]
