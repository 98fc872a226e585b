"""explain: Spearman by hand, the SGD and Adam claims on real runs, examples, weight stories,
and the exact input-scaling effect on the first layer's gradient."""

from __future__ import annotations

import numpy as np
import pytest

import ziptieai as zt
from ziptieai import nn, optim
from ziptieai.inspect import Recorder, explain, input_scaling_check, spearman, weight_story
from ziptieai.inspect.explain import rankdata

X, Y = zt.data.make_moons(96, seed=0)


def run(opt="sgd", dtype=np.float32, steps=12, **rec_kw):
    zt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)).to(dtype)
    o = optim.SGD(model.parameters(), lr=0.1) if opt == "sgd" else \
        optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    with Recorder(model, o, **rec_kw) as rec:
        for k in range(steps):
            i = (k * 16) % len(X)
            o.zero_grad()
            loss_fn(model(zt.tensor(X[i:i + 16].astype(dtype))),
                    zt.tensor(Y[i:i + 16])).backward()
            o.step()
    return model, o, rec


def pearson(a, b):
    a, b = np.asarray(a, float) - np.mean(a), np.asarray(b, float) - np.mean(b)
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


# ---- Spearman, by hand -------------------------------------------------------------------------
def test_spearman_hand_examples():
    assert spearman([1, 2, 3, 4, 5], [2, 4, 8, 16, 1000]) == 1.0        # monotone: 1
    assert spearman([1, 2, 3, 4, 5], [5, 3, 2, 0, -7]) == -1.0          # reversed: −1
    np.testing.assert_array_equal(rankdata([10, 20, 20, 30]), [1, 2.5, 2.5, 4])  # ties averaged
    np.testing.assert_array_equal(rankdata([3, 3, 3]), [2, 2, 2])
    np.testing.assert_array_equal(rankdata([0.5, -1, 7, -1, 0.5]), [3.5, 1.5, 5, 1.5, 3.5])
    # with ties: the Pearson correlation of the averaged ranks, worked out by hand
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(
        pearson([1, 2.5, 2.5, 4], [1, 2, 3, 4]))
    # centred ranks (−1.5, 0, 0, 1.5) and (−1.5, −0.5, 0.5, 1.5): Σ products 4.5, Σ squares 4.5, 5
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / np.sqrt(4.5 * 5))
    # the classic formula 1 − 6Σd²/(n(n²−1)) without ties
    a, b = [3, 1, 4, 2, 5], [2, 1, 5, 3, 4]
    d = np.array([3, 1, 4, 2, 5]) - np.array([2, 1, 5, 3, 4])
    assert spearman(a, b) == pytest.approx(1 - 6 * (d**2).sum() / (5 * 24))


def test_spearman_edge_cases():
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))      # a constant side: undefined
    assert np.isnan(spearman([1], [2]))
    assert spearman([1, 2, np.nan, 3], [1, 2, 0, 3]) == 1.0  # non-finite pairs left out
    with pytest.raises(ValueError, match="spearman"):
        spearman([1, 2], [1, 2, 3])


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_ranking_once_gives_the_numbers_of_ranking_per_call(opt):
    """explain ranks |W|, |g|, |ΔW| (and Adam's step) once, for every correlation and example;
    the same numbers, exactly, as spearman() and rankdata() called on each pair afresh."""
    from ziptieai.inspect.explain import _pool

    _, _, rec = run(opt, steps=15)
    ex = explain(rec)
    pool = _pool(rec.records)
    aW, ag, adW = np.abs(pool.W), np.abs(pool.g), np.abs(pool.dW)
    assert ex.n_values == aW.size
    assert ex.corr_update_grad == spearman(adW, ag)
    assert ex.corr_update_weight == spearman(adW, aW)
    if opt == "adam":
        assert ex.corr_update_adam == spearman(adW, np.abs(pool.eff / pool.lr))
    else:
        assert ex.corr_update_adam is None
    n = aW.size
    rW, rg, rdW = ((rankdata(v) - 1) / (n - 1) for v in (aW, ag, adW))
    (w10, w90), (g10, g90) = np.quantile(aW, [0.1, 0.9]), np.quantile(ag, [0.1, 0.9])
    cand = np.flatnonzero((aW >= w90) & (ag <= g10) & (ag > 0))
    if not cand.size:
        cand = np.flatnonzero((aW >= w90) & (ag <= g10))
    first = cand[np.argmax(rW[cand] - rg[cand])] if cand.size else np.argmax(rW - rg)
    cand = np.flatnonzero((aW <= w10) & (ag >= g90))
    second = cand[np.argmax(ag[cand])] if cand.size else np.argmax(rg - rW)
    for e, k in ((ex.large_weight_tiny_grad, first), (ex.small_weight_huge_grad, second)):
        assert (e.name, e.index, e.step) == pool.locate(int(k))
        assert (e.weight, e.grad, e.update) == (pool.W[k], pool.g[k], pool.dW[k])
        assert (e.weight_rank, e.grad_rank, e.update_rank) == (rW[k], rg[k], rdW[k])


def test_rankdata_averages_ties_whatever_the_sort():
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal(5000) * 3) / 3  # many ties
    x[::7] = -0.0
    x[1::11] = 0.0
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    counts = np.diff(np.append(starts, x.size))
    expected = np.empty(x.size)
    expected[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    np.testing.assert_array_equal(rankdata(x), expected)


# ---- the claims, on real runs -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_update_is_minus_lr_times_gradient_and_ranks_as_it(dtype):
    _, _, rec = run("sgd", dtype)
    ex = explain(rec)
    assert ex.optimizer == "SGD" and ex.n_values == 12 * (32 + 16 + 32 + 2)
    assert ex.sgd_holds is True and ex.sgd_max_deviation <= ex.sgd_bound
    assert ex.sgd_bitwise is True  # ΔW is (W − lr·g) − W in W's precision, bit for bit
    # 1 but for ties: with 2 classes the two output units' gradients are exact opposites,
    # equal in |g|, and the rounding of W_after − W_before splits them in |ΔW|
    assert ex.corr_update_grad >= 1 - 1e-5
    assert abs(ex.corr_update_weight) < 0.5
    assert ex.corr_update_adam is None and ex.adam_holds is None
    for r in rec.records:  # the check, redone here
        for p in r["params"].values():
            dW, g, W = p["update"]["value"], p["grad"]["value"], p["weight"]["value"]
            np.testing.assert_allclose(dW, -0.1 * g, atol=4 * np.finfo(dtype).eps * np.abs(W).max())
    text = ex.text()
    assert "ΔW = −lr·g" in text and f"{ex.corr_update_grad:.6f}" in text
    assert f"{ex.sgd_max_deviation:.3g}" in text


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_update_follows_its_effective_step_not_the_gradient(dtype):
    _, _, rec = run("adam", dtype)
    ex = explain(rec)
    assert ex.optimizer == "Adam" and ex.sgd_holds is None
    assert ex.adam_holds is True and ex.adam_max_deviation <= ex.adam_bound
    assert ex.adam_bitwise is True
    # 1 but for ties that rounding splits: at step 1 every |m̂/(√v̂ + ε)| is ≈ 1
    assert ex.corr_update_adam >= 1 - (1e-5 if dtype == np.float64 else 1e-3)
    assert ex.corr_update_grad < 0.95 < ex.corr_update_adam
    text = ex.text()
    assert "m̂/(√v̂ + ε)" in text and f"{ex.corr_update_adam:.6f}" in text


def test_examples_come_from_the_run():
    _, _, rec = run("sgd", steps=20)
    ex = explain(rec)
    big, small = ex.large_weight_tiny_grad, ex.small_weight_huge_grad
    assert big is not None and small is not None
    by_step = {r["step"]: r for r in rec.records}
    for e in (big, small):
        p = by_step[e.step]["params"][e.name]
        assert e.weight == pytest.approx(float(p["weight"]["value"][e.index]))
        assert e.grad == pytest.approx(float(p["grad"]["value"][e.index]))
        assert e.update == pytest.approx(float(p["update"]["value"][e.index]))
        assert e.where() in ex.text()
    assert big.weight_rank > 0.8 and big.grad_rank < 0.2 and big.update_rank < 0.2
    assert small.weight_rank < 0.2 and small.grad_rank > 0.8 and small.update_rank > 0.8
    assert abs(big.update) < abs(small.update)  # SGD: the gradient decides, not the weight


def test_explain_reads_a_run_folder_and_a_summary_only_run(tmp_path):
    _, _, rec = run("adam", steps=4)
    rec.save(tmp_path / "run")
    a, b = explain(rec), explain(tmp_path / "run")
    assert a.corr_update_grad == b.corr_update_grad and a.text() == b.text()
    _, _, summary = run("adam", steps=3, full_size_limit=0)
    ex = explain(summary)
    assert ex.n_values == 0 and ex.corr_update_grad is None
    assert "No full weight values" in ex.text() and set(ex.update_ratios) == {
        "0.weight", "0.bias", "2.weight", "2.bias"}
    with pytest.raises(ValueError, match="no records"):
        explain([])


# ---- one weight over time ----------------------------------------------------------------------
def test_weight_story():
    _, _, rec = run("adam", steps=7, every=2)
    story = weight_story(rec, "2.weight", (1, 3))
    assert story.steps.tolist() == [1, 3, 5, 7]
    for arr in (story.weight, story.grad, story.update, story.loss, story.effective_step):
        assert arr.shape == (4,)
    for k, r in enumerate(rec.records):
        p = r["params"]["2.weight"]
        assert story.weight[k] == p["weight"]["value"][1, 3]
        assert story.update[k] == p["update"]["value"][1, 3]
        assert story.loss[k] == pytest.approx(r["loss"])
    np.testing.assert_allclose(story.update, -story.effective_step, rtol=1e-5, atol=1e-9)
    assert weight_story(rec, "2.weight", 1 * 16 + 3).index == (1, 3)  # a flat index too
    lines = story.text().splitlines()
    assert lines[0] == "2.weight[1, 3]" and len(lines) == 2 + 4 and "ΔW" in lines[1]
    with pytest.raises(ValueError, match="no parameter"):
        weight_story(rec, "9.weight", 0)
    with pytest.raises(IndexError):
        weight_story(rec, "2.weight", (2, 0))
    _, _, summary = run("sgd", steps=2, full_size_limit=0)
    with pytest.raises(ValueError, match="full_values"):
        weight_story(summary, "0.weight", 0)


# ---- the input's effect: ∂loss/∂W = δ·xᵀ -------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("factor", [3.0, 0.25, -2.0])
def test_input_scaling_scales_the_gradient_column_exactly(dtype, factor):
    zt.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)).to(dtype)
    Xd = X.astype(dtype)
    check = input_scaling_check(model, nn.CrossEntropyLoss(), Xd, Y, feature=1, factor=factor)
    assert check.layer == "0" and check.holds
    assert check.max_deviation <= check.bound
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(check.ratio, factor, rtol=tol)
    np.testing.assert_allclose(check.grad_column_scaled, check.predicted, rtol=tol, atol=1e-12)
    assert check.formula_deviation < tol
    # δ changes with x, so the raw ratio to the unscaled run is not the factor
    assert not np.allclose(check.raw_ratio, factor, rtol=1e-3)
    assert "δ" in check.text() and f"{factor:g}" in check.text()


def test_input_scaling_check_leaves_gradients_alone_and_checks_the_layer():
    zt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    o = optim.Adam(model.parameters(), lr=0.01)  # fused: grads live in a flat buffer
    loss_fn = nn.CrossEntropyLoss()
    o.zero_grad()
    loss_fn(model(zt.tensor(X)), zt.tensor(Y)).backward()
    grads = [p.grad.copy() for p in model.parameters()]
    input_scaling_check(model, loss_fn, X, Y, layer_name="0", feature=0, factor=2.0)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad, g)
    with pytest.raises(ValueError, match="does not receive X"):
        input_scaling_check(model, loss_fn, X, Y, layer_name="2", feature=0)
    with pytest.raises(ValueError, match="Linear"):
        input_scaling_check(model, loss_fn, X, Y, layer_name="1")
    with pytest.raises(ValueError, match="feature"):
        input_scaling_check(model, loss_fn, X, Y, feature=5)
