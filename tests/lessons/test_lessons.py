"""Lessons: each runs, prints its numbers, draws non-empty PNGs, quickly; and what the lessons
claim is checked here on their own numbers (gradients, the step, Adam's effective step)."""

from __future__ import annotations

import re
import sys
import time

import numpy as np
import pytest

from ziptieai import lessons
from ziptieai.lessons import adam, backward, sgd, step


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every lesson run once, into one folder: name -> (files, printed lines, seconds)."""
    out_dir = tmp_path_factory.mktemp("lessons") / "out"   # made by run
    results = {}
    for name in lessons.NAMES:
        lines: list[str] = []
        start = time.perf_counter()
        files = lessons.run(name, out_dir, seed=0, print=lines.append)
        results[name] = (files, lines, time.perf_counter() - start)
    return results


@pytest.mark.parametrize("name", lessons.NAMES)
def test_lesson_runs_prints_and_draws(ran, name):
    files, lines, seconds = ran[name]
    text = "\n".join(lines)
    assert lines[0] == f"Lesson {lessons.NAMES.index(name) + 1}/6: {name}"
    assert "Question:" in text and len(lines) > 5
    assert not re.search(r"\bnan\b|\binf\b", text)
    assert files and all(f.suffix == ".png" and f.exists() for f in files)
    for f in files:
        data = f.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
        assert f"Picture: {f}" in text
    assert seconds < 10, f"lesson {name} took {seconds:.1f} s; lessons should take a few"


def test_run_all_runs_every_lesson_in_order(tmp_path, monkeypatch):
    calls = []
    for name in lessons.NAMES:
        module = lessons._module(name)
        monkeypatch.setattr(module, "run", lambda out_dir, seed=0, print=print, name=name: (
            calls.append((name, seed)) or [out_dir / f"{name}.png"]))
    files = lessons.run_all(tmp_path / "new", seed=3, print=lambda line: None)
    assert calls == [(name, 3) for name in lessons.NAMES]
    assert files == [tmp_path / "new" / f"{name}.png" for name in lessons.NAMES]
    assert (tmp_path / "new").is_dir()


def test_unknown_lesson_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown lesson 'fwd'; choose one of forward, loss"):
        lessons.run("fwd", tmp_path)


def test_every_lesson_has_a_one_line_summary():
    for name in lessons.NAMES:
        line = lessons.summary(name)
        assert line and "\n" not in line and len(line) < 100


@pytest.mark.parametrize("name", lessons.NAMES)
def test_without_matplotlib_the_numbers_still_print(ran, tmp_path, monkeypatch, name):
    monkeypatch.setitem(sys.modules, "matplotlib", None)          # import fails
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    lines: list[str] = []
    assert lessons.run(name, tmp_path, print=lines.append) == []
    assert "matplotlib is not installed" in lines[-1]
    assert lines[:-1] == [line for line in ran[name][1] if not line.startswith("Picture:")]
    assert not list(tmp_path.iterdir())


def test_backward_finite_differences_really_agree():
    r = backward.gradients(seed=0)
    analytic = np.concatenate([a.ravel() for a, _ in r["grads"].values()])
    numeric = np.concatenate([n.ravel() for _, n in r["grads"].values()])
    assert analytic.size == 22 and analytic.dtype == np.float64
    assert np.abs(numeric).max() > 1e-2                   # a real signal, not all zeros
    gap = np.abs(analytic - numeric).max()
    assert 0 < gap < 1e-8                                 # computed apart, and agreeing


def test_step_lowers_the_loss_and_is_what_sgd_does():
    r = step.one_step(seed=0)
    assert r["loss_after"] < r["loss_before"]
    np.testing.assert_allclose(r["after"] - r["w"], -r["lr"] * r["g"], atol=1e-6)
    np.testing.assert_array_equal(r["sgd_after"], r["after"])
    assert np.isclose(r["slice"][np.argmin(np.abs(r["sizes"] - r["lr"]))], r["loss_after"],
                      atol=1e-3)


def test_adam_effective_step_equals_the_change_adam_made():
    r = adam.train_with_adam(seed=0, steps=10)
    hand = adam.adam_by_hand(r["g"])
    np.testing.assert_allclose(hand["step"], r["delta"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(hand["m"], r["m"], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(hand["v"], r["v"], rtol=1e-12, atol=1e-20)
    first = np.abs(hand["step"][0][r["g"][0] != 0])
    np.testing.assert_allclose(first, adam.LR, rtol=1e-3)   # lr·g/(|g| + ε): lr in size


def test_adam_steps_ignore_the_gradient_scale_and_sgd_steps_do_not():
    r = adam.train_with_adam(seed=0, steps=5)
    big = adam.train_with_adam(seed=0, steps=5, scale=1000.0)
    np.testing.assert_allclose(big["g"][0], 1000 * r["g"][0], rtol=1e-12)  # same start
    assert np.abs(big["delta"] - r["delta"]).max() < 1e-3 * adam.LR


def test_sgd_fit_repeats_the_hand_loop_and_momentum_is_faster_here():
    r = sgd.runs(seed=0, steps=30)
    np.testing.assert_array_equal(r["fit"], r["plain"])
    assert r["plain"][-1] < r["plain"][0] and r["momentum"][-1] < r["plain"][-1]
    assert len(r["mini"]) == 30
