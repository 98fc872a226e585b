"""inspect.race: the surfaces, the race on them, and the race on real data."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ziptieai as zt
from ziptieai import random
from ziptieai.inspect.race import OPTIMIZERS, SURFACES, race, race_data


@pytest.mark.parametrize("name", SURFACES)
def test_every_optimizer_runs_with_finite_losses(name):
    surface = SURFACES[name]
    result = race(name, optims=tuple(OPTIMIZERS))
    assert list(result.runs) == list(OPTIMIZERS)
    for run in result.runs.values():
        assert run.trajectory.shape == (surface.steps + 1, 2)
        assert run.losses.shape == (surface.steps + 1,)
        assert np.isfinite(run.losses).all() and np.isfinite(run.trajectory).all(), run.name
        assert run.diverged is None
        np.testing.assert_array_equal(run.trajectory[0], surface.start)
        assert run.losses[0] == surface.value(surface.start)
        assert (run.losses - surface.min_value >= -1e-12).all()  # nothing below the minimum
        if run.reached is not None:
            assert run.losses[run.reached] - surface.min_value <= result.tol
            assert (run.losses[:run.reached] - surface.min_value > result.tol).all()
    text = result.format_table()
    assert all(run.label in text for run in result.runs.values())


def test_adam_and_momentum_reach_the_tolerance_on_the_quadratic():
    result = race("ill-conditioned-quadratic", optims=("adam", "momentum", "sgd"))
    assert result.runs["adam"].reached is not None
    assert result.runs["momentum"].reached is not None
    # the lesson of the surface: momentum gets there in fewer steps than plain SGD
    sgd = result.runs["sgd"].reached or math.inf
    assert result.runs["momentum"].reached < sgd


@pytest.mark.parametrize("name", SURFACES)
def test_gradient_matches_finite_differences(name):
    surface = SURFACES[name]
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = surface.bounds
    points = [surface.start] + [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(5)]
    eps = 1e-6
    for point in points:
        p = np.array(point, dtype=np.float64)
        numeric = np.array([(surface.value(p + e) - surface.value(p - e)) / (2 * eps)
                            for e in np.eye(2) * eps])
        grad = surface.grad(p)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5,
                                   atol=1e-7 * max(1.0, np.abs(grad).max()))


@pytest.mark.parametrize("name", SURFACES)
def test_the_documented_minimum(name):
    surface = SURFACES[name]
    assert surface.value(surface.minimum) == pytest.approx(surface.min_value, abs=1e-12)
    np.testing.assert_allclose(surface.grad(surface.minimum), 0.0, atol=1e-9)
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
    assert surface(xs, ys).min() >= surface.min_value - 1e-12  # no lower point in the view


def test_one_step_is_the_update_rule_on_the_autograd_gradient():
    surface = SURFACES["rosenbrock"]
    run = race(surface, optims="sgd", steps=1, lr=1e-3).runs["sgd"]
    expected = np.array(surface.start) - 1e-3 * surface.grad(surface.start)
    np.testing.assert_allclose(run.trajectory[1], expected, rtol=1e-12)


def test_lr_forms_and_a_divergence():
    result = race("rosenbrock", optims="sgd, adam", steps=20, lr={"sgd": 1.0})
    sgd, adam = result.runs["sgd"], result.runs["adam"]
    assert sgd.lr == 1.0 and adam.lr == SURFACES["rosenbrock"].lrs["adam"]
    assert sgd.diverged is not None and sgd.reached is None
    assert sgd.outcome.startswith("diverged at step")
    assert sgd.trajectory.shape == (21, 2) and np.isnan(sgd.trajectory[-1]).all()
    assert np.isfinite(sgd.losses[: sgd.diverged]).all()
    assert [row[0] for row in result.table()] == ["adam", "sgd"]  # the diverged lane last
    assert math.isnan(result.final_gap(sgd)) and "diverged at step" in result.format_table()
    assert race("saddle", optims=("adam",), steps=5, lr=0.3).runs["adam"].lr == 0.3
    assert race("saddle", optims=("adam",), steps=5, start=(1, 1)).runs["adam"].losses[0] == 0.25


@pytest.mark.parametrize("kwargs, match", [
    (dict(surface="himmelblau"), "unknown surface 'himmelblau'"),
    (dict(optims=("adam", "lion")), "unknown optimizer 'lion'"),
    (dict(optims=()), "optims is empty"),
    (dict(optims=("adam", "adam")), "named twice"),
    (dict(steps=0), "steps=0"),
    (dict(lr=-1.0), "lr=-1.0 for adam"),
    (dict(lr={"adam": float("nan")}), "lr=nan for adam"),
    (dict(tol=0.0), "tol=0.0"),
])
def test_bad_arguments_are_named(kwargs, match):
    args = dict(surface="saddle", optims=("adam",), steps=3) | kwargs
    with pytest.raises(ValueError, match=match):
        race(**args)


def test_race_data_same_start_same_batches_and_deterministic():
    before = random.get_rng_state()
    result = race_data("digits", optims=("sgd", "adam"), epochs=1)
    assert random.get_rng_state() == before  # the library's generator is left as it was
    steps = math.ceil(1437 / 64)
    assert {k: len(v) for k, v in result.step_losses.items()} == {"sgd": steps, "adam": steps}
    # the same weights at the start: the first loss (before any update) is the same
    assert result.step_losses["sgd"][0] == result.step_losses["adam"][0]
    assert all(np.isfinite(v).all() for v in result.step_losses.values())
    record = result.records["adam"][-1]
    assert record["epoch"] == 1 and 0.0 <= record["val_accuracy"] <= 1.0
    assert result.lrs["adam"] > 0 and "Adam" in result.format_table()
    again = race_data("digits", optims=("adam",), epochs=1)
    np.testing.assert_array_equal(again.step_losses["adam"], result.step_losses["adam"])
    with pytest.raises(ValueError, match="epochs=0"):
        race_data("digits", epochs=0)


def test_surfaces_work_on_tensors_and_arrays_alike():
    for surface in SURFACES.values():
        x, y = zt.tensor(0.3, dtype=np.float64), zt.tensor(-0.7, dtype=np.float64)
        assert surface(x, y).item() == pytest.approx(float(surface(np.float64(0.3), -0.7)))
