"""inspect.plots: every picture is written as a PNG (skipped without matplotlib)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import ziptieai as zt
from ziptieai.inspect import plots
from ziptieai.inspect.race import race, race_data

pytest.importorskip("matplotlib")

_PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(_PNG)


def test_plot_race_with_a_diverging_lane(tmp_path):
    result = race("rosenbrock", optims=("sgd", "momentum", "adam"), steps=40,
                  lr={"sgd": 1.0})  # sgd diverges: NaNs in its lane are drawn as a gap
    assert is_png(plots.plot_race(result, tmp_path / "race.png"))
    flat = race("saddle", optims=("adam",), steps=10)  # linear contour levels
    assert is_png(plots.plot_race(flat, tmp_path / "sub" / "saddle.png"))


def test_plot_race_data(tmp_path):
    result = race_data("digits", optims=("sgd", "adam"), epochs=1)
    assert is_png(plots.plot_race_data(result, tmp_path / "data.png"))


def test_plot_history_classification_and_regression(tmp_path):
    records = [dict(epoch=e, train_loss=1 / e, train_accuracy=1 - 0.5 / e, val_loss=1.2 / e,
                    val_accuracy=1 - 0.6 / e, lr=0.1 * 0.5 ** e) for e in range(1, 6)]
    assert is_png(plots.plot_history(records, tmp_path / "h.png"))
    history = zt.train.History(records=[dict(epoch=e, train_loss=1 / e, val_loss=1 / e,
                                             val_rmse=0.5 / e, val_r2=0.1 * e, lr=0.01)
                                        for e in range(1, 4)])
    assert is_png(plots.plot_history(history, tmp_path / "r.png"))
    with pytest.raises(ValueError, match="no records"):
        plots.plot_history([], tmp_path / "empty.png")


@pytest.mark.parametrize("outputs", [2, 1])  # class scores (argmax), a binary logit (> 0)
def test_plot_decision_boundary(tmp_path, outputs):
    X, y = zt.data.make_moons(60, noise=0.1, seed=0)
    zt.manual_seed(0)
    model = zt.nn.Sequential(zt.nn.Linear(2, 8), zt.nn.Tanh(), zt.nn.Linear(8, outputs))
    assert is_png(plots.plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=60))
    assert model.training  # mode restored
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plots.plot_decision_boundary(model, np.ones((4, 3)), np.zeros(4), tmp_path / "x.png")


def test_plot_histograms_with_moving_edges(tmp_path):
    rng = np.random.default_rng(0)
    series = {name: [np.histogram(rng.normal(0, scale * (1 + s), 200), bins=20)
                     for s in range(6)]
              for name, scale in (("0.weight", 1.0), ("0.weight.grad", 1e-3), ("update", 1e-4))}
    assert is_png(plots.plot_histograms(series, tmp_path / "hist.png", steps=np.arange(6) * 10))
    # re-binning keeps the counts
    counts, edges = series["0.weight"][0]
    common = np.linspace(edges[0] - 1, edges[-1] + 1, 51)
    rebinned = np.diff(np.interp(common, edges, np.concatenate([[0], np.cumsum(counts)])))
    assert rebinned.sum() == pytest.approx(counts.sum())
    with pytest.raises(ValueError, match="empty"):
        plots.plot_histograms({}, tmp_path / "none.png")


def test_plot_weight_story(tmp_path):
    steps = np.arange(30)
    values = np.cumsum(np.full(30, -0.01))
    assert is_png(plots.plot_weight_story(steps, values, np.ones(30), np.full(30, -0.01),
                                          tmp_path / "one.png", name="w[0, 0]"))
    many = np.stack([values, -values], axis=1)
    assert is_png(plots.plot_weight_story(steps, many, many, many, tmp_path / "two.png"))
    with pytest.raises(ValueError, match="grads has 29 entries for 30 steps"):
        plots.plot_weight_story(steps, values, np.ones(29), values, tmp_path / "bad.png")


def test_without_matplotlib_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install ziptieai\[plot\]"):
        plots.plot_history([dict(epoch=1, train_loss=1.0)], tmp_path / "h.png")
