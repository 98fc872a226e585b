"""Recorder: what it keeps from a real training run, its bounds, its hooks, its files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ziptieai as zt
from ziptieai import nn, optim
from ziptieai.autograd import engine
from ziptieai.inspect import Recorder, RecorderCallback, load_records, summarize
from ziptieai.inspect import recorder as recorder_module
from ziptieai.inspect.recorder import adam_effective_step, histogram, segment_histograms
from ziptieai.optim import kernels
from ziptieai.train import fit

X, Y = zt.data.make_moons(96, seed=0)
NAMES = ["0.weight", "0.bias", "2.weight", "2.bias"]


def setup(opt="adam", dtype=np.float32, seed=0, **opt_kw):
    zt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)).to(dtype)
    params = model.parameters()
    o = {"adam": lambda: optim.Adam(params, lr=0.01, **opt_kw),
         "adamw": lambda: optim.AdamW(params, lr=0.01, **opt_kw),
         "sgd": lambda: optim.SGD(params, lr=0.1, **opt_kw),
         "rmsprop": lambda: optim.RMSprop(params, lr=0.01, **opt_kw)}[opt]()
    return model, o


def train(model, opt, steps, batch=16, dtype=np.float32, watch=None):
    """The four lines; `watch(step)` sees W before and after each step (a dict of copies)."""
    loss_fn = nn.CrossEntropyLoss()
    seen = []
    for k in range(steps):
        i = (k * batch) % len(X)
        xb, yb = zt.tensor(X[i:i + batch].astype(dtype)), zt.tensor(Y[i:i + batch])
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        before = {n: p.data.copy() for n, p in model.named_parameters()}
        grads = {n: p.grad.copy() for n, p in model.named_parameters()}
        opt.step()
        after = {n: p.data.copy() for n, p in model.named_parameters()}
        seen.append({"loss": float(loss.item()), "before": before, "grad": grads,
                     "after": after})
    return seen


@pytest.fixture(params=[True, False], ids=["kernel", "numpy"])
def kernel(request, monkeypatch):
    if request.param and not kernels.available():
        pytest.skip("numba not installed")
    monkeypatch.setattr(recorder_module, "USE_KERNEL", request.param)
    return request.param


def close(s, x, rtol=1e-5):
    ref = summarize(x)
    for key in ("norm", "mean_abs", "max_abs"):
        np.testing.assert_allclose(s[key], ref[key], rtol=rtol, atol=1e-30, err_msg=key)


# ---- what a record holds, on a real run ----------------------------------------------------
@pytest.mark.parametrize("opt", ["adam", "sgd"])
@pytest.mark.parametrize("fused", [None, False])
def test_records_match_the_run_they_watched(opt, fused, kernel):
    model, o = setup(opt, fused=fused)
    with Recorder(model, o, detail_every=3) as rec:
        seen = train(model, o, 7)
    records = rec.records
    assert [r["step"] for r in records] == list(range(1, 8)) and len(rec) == 7
    for r, s in zip(records, seen):
        assert r["loss"] == pytest.approx(s["loss"], rel=1e-6)
        assert r["optimizer"] == type(o).__name__ and list(r["params"]) == NAMES
        for name in NAMES:
            p = r["params"][name]
            W, g, W2 = s["before"][name], s["grad"][name], s["after"][name]
            assert p["shape"] == list(W.shape) and p["group"] == 0
            assert p["hyper"]["lr"] == o.param_groups[0]["lr"]
            np.testing.assert_array_equal(p["weight"]["value"], W)  # small: kept in full
            np.testing.assert_array_equal(p["grad"]["value"], g)
            np.testing.assert_array_equal(p["update"]["value"], W2 - W)
            close(p["weight"], W), close(p["grad"], g), close(p["update"], W2 - W)
            assert p["update"]["hist"]["counts"].sum() == W.size
            assert p["state"]["step"] == r["step"]
        detail = (r["step"] - 1) % 3 == 0
        assert bool(r["activations"]) == detail  # activations only at detail steps
        if detail:
            assert list(r["activations"]) == ["0", "1", "2"]
            relu = r["activations"]["1"]["value"]
            assert relu.shape == (16, 16) and relu.min() >= 0
            close(r["activations"]["1"], relu)


def test_summary_mode_keeps_no_values_and_summarizes_big_tensors(kernel):
    model, o = setup("adam")
    with Recorder(model, o, full_size_limit=0, detail_every=2, histogram_every=4) as rec:
        seen = train(model, o, 6)
    for r, s in zip(rec.records, seen):
        detail, hist = (r["step"] - 1) % 2 == 0, (r["step"] - 1) % 4 == 0
        for name in NAMES:
            p = r["params"][name]
            assert all("value" not in p[k] for k in ("weight", "grad", "update"))
            close(p["weight"], s["before"][name]), close(p["grad"], s["grad"][name])
            close(p["update"], s["after"][name] - s["before"][name])
            assert ("hist" in p["weight"]) == hist
            if hist:
                ref = histogram(s["before"][name], 20)
                np.testing.assert_array_equal(p["weight"]["hist"]["counts"], ref["counts"])
                np.testing.assert_allclose(p["weight"]["hist"]["edges"], ref["edges"])
            assert ("exp_avg" in p["state"]) == detail
            assert ("effective_step" in p["adam"]) == detail
            if detail:
                m, v = o.state[dict(model.named_parameters())[name]]["exp_avg"], None
                assert p["state"]["exp_avg"]["norm"] > 0 and m is not None and v is None
        assert bool(r["activations"]) == detail


def test_adam_effective_step_is_minus_the_update_and_bias_corrections(kernel):
    model, o = setup("adam", dtype=np.float64)
    with Recorder(model, o, detail_every=1) as rec:
        train(model, o, 6, dtype=np.float64)
    for r in rec.records:
        for name in NAMES:
            p = r["params"][name]
            t = p["state"]["step"]
            assert p["adam"]["bias_correction1"] == pytest.approx(1 - 0.9**t)
            assert p["adam"]["bias_correction2"] == pytest.approx(1 - 0.999**t)
            eff, dW, W = (p["adam"]["effective_step"]["value"], p["update"]["value"],
                          p["weight"]["value"])
            # W_after = W + (−eff) rounded to W's precision, so ΔW = −eff up to that rounding
            bound = 2 * np.finfo(np.float64).eps * (np.abs(W) + np.abs(eff))
            assert np.all(np.abs(dW + eff) <= bound)
            close(p["adam"]["effective_step"], eff, rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_effective_step_of_big_tensors_matches_the_kept_one(amsgrad, kernel):
    """The step's own computation (detail steps, any size) and the one from kept m, v agree."""
    model, o = setup("adam", amsgrad=amsgrad)
    with Recorder(model, o, detail_every=1) as kept:
        train(model, o, 4)
    model2, o2 = setup("adam", amsgrad=amsgrad)
    with Recorder(model2, o2, detail_every=1, full_size_limit=0) as summary:
        train(model2, o2, 4)
    for a, b in zip(kept.records, summary.records):
        for name in NAMES:
            ea, eb = a["params"][name]["adam"]["effective_step"], \
                b["params"][name]["adam"]["effective_step"]
            for key in ("norm", "mean_abs", "max_abs"):
                assert eb[key] == pytest.approx(ea[key], rel=1e-5)


def test_adam_effective_step_helper_is_the_optimizer_rule_bit_for_bit():
    rng = np.random.default_rng(1)
    p = rng.standard_normal(50).astype(np.float32)
    m, v = np.zeros(50, np.float32), np.zeros(50, np.float32)
    for step in range(1, 4):
        g = rng.standard_normal(50).astype(np.float32)
        before = p.copy()
        optim.functional.adam_step(p, g, m, v, step=step, lr=0.01)
        eff = adam_effective_step(m, v, step=step, lr=0.01, betas=(0.9, 0.999), eps=1e-8)
        np.testing.assert_array_equal(before - eff, p)  # the same bits as the update itself


# ---- memory bounds and cadence ---------------------------------------------------------------
def test_ring_buffer_keeps_the_last_capacity_records():
    model, o = setup("sgd")
    with Recorder(model, o, capacity=5) as rec:
        seen = train(model, o, 12)
    assert [r["step"] for r in rec.records] == [8, 9, 10, 11, 12]
    assert rec.records[-1]["loss"] == pytest.approx(seen[-1]["loss"], rel=1e-6)


def test_every_records_one_step_in_n():
    model, o = setup("adam")
    with Recorder(model, o, every=3) as rec:
        seen = train(model, o, 10)
    records = rec.records
    assert [r["step"] for r in records] == [1, 4, 7, 10]
    for r in records:
        s = seen[r["step"] - 1]
        assert r["loss"] == pytest.approx(s["loss"], rel=1e-6)
        np.testing.assert_array_equal(r["params"]["2.bias"]["update"]["value"],
                                      s["after"]["2.bias"] - s["before"]["2.bias"])


def test_detach_removes_every_hook_and_records_stay():
    model, o = setup("adam")
    modules = [m for m in model.modules()]
    before = len(engine._backward_hooks)
    rec = Recorder(model, o).attach()
    assert rec.attached and len(engine._backward_hooks) == before + 1
    assert o._step_pre_hooks and o._step_post_hooks
    assert any(m._forward_hooks for m in modules)  # step 1 records activations
    with pytest.raises(RuntimeError, match="already attached"):
        rec.attach()
    train(model, o, 3)
    rec.detach()
    assert not rec.attached and len(engine._backward_hooks) == before
    assert not o._step_pre_hooks and not o._step_post_hooks
    assert not any(m._forward_hooks for m in modules)
    train(model, o, 2)
    assert len(rec.records) == 3
    rec.attach()  # attaching again starts counting afresh
    train(model, o, 1)
    assert [r["step"] for r in rec.records] == [1, 2, 3, 1]
    rec.detach()


def test_forward_hooks_only_on_detail_steps_and_not_under_no_grad():
    model, o = setup("sgd")
    modules = list(model.modules())
    with Recorder(model, o, detail_every=4) as rec:
        train(model, o, 1)
        assert not any(m._forward_hooks for m in modules)  # step 2 is not a detail step
        train(model, o, 3)
        assert any(m._forward_hooks for m in modules)      # step 5 is (steps 1, 5, 9, ...)
        with zt.no_grad():
            model(zt.tensor(X[:5]))                        # evaluation: not recorded
        train(model, o, 1)
    assert rec.records[4]["activations"]["2"]["value"].shape == (16, 2)
    assert [bool(r["activations"]) for r in rec.records] == [True, False, False, False, True]


def test_a_parameter_without_gradient_and_one_not_optimized():
    zt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    o = optim.Adam([model[0].weight, model[0].bias, model[2].weight], lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    with Recorder(model, o, detail_every=1) as rec:
        for _ in range(2):
            o.zero_grad()
            loss_fn(model(zt.tensor(X[:8])), zt.tensor(Y[:8])).backward()
            model[0].bias.grad = None  # as if it did not take part
            o.step()
    r = rec.records[-1]["params"]
    assert r["0.bias"]["grad"] is None and r["0.bias"]["state"] is None
    np.testing.assert_array_equal(r["0.bias"]["update"]["value"], 0)
    assert r["2.bias"]["group"] is None and r["2.bias"]["hyper"] is None
    assert r["2.bias"]["update"]["norm"] == 0 and r["2.bias"]["grad"]["norm"] > 0
    assert r["0.weight"]["adam"]["effective_step"]["norm"] > 0


def test_param_groups_with_their_own_learning_rates(kernel):
    zt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    o = optim.Adam([{"params": model[0].parameters(), "lr": 0.1},
                    {"params": model[2].parameters()}], lr=0.01)
    with Recorder(model, o, detail_every=1, full_size_limit=0) as rec:
        seen = train(model, o, 3)
    r, s = rec.records[-1], seen[-1]
    assert r["params"]["0.weight"]["hyper"]["lr"] == 0.1
    assert r["params"]["2.weight"]["group"] == 1 and r["params"]["2.weight"]["hyper"]["lr"] == 0.01
    for name in NAMES:
        dW = s["after"][name] - s["before"][name]
        close(r["params"][name]["adam"]["effective_step"], -dW, rtol=1e-4)


def test_other_optimizers_record_their_state_under_torch_names():
    model, o = setup("rmsprop", momentum=0.9)
    with Recorder(model, o, detail_every=1, full_size_limit=0) as rec:
        train(model, o, 2)
    state = rec.records[-1]["params"]["0.weight"]["state"]
    assert {"step", "square_avg", "momentum_buffer"} <= set(state)
    assert rec.records[-1]["params"]["0.weight"]["adam"] is None
    model, o = setup("sgd", momentum=0.9)
    with Recorder(model, o) as rec:
        train(model, o, 2)
    buf = o.state[model[0].weight]["momentum_buffer"]
    np.testing.assert_array_equal(
        rec.records[-1]["params"]["0.weight"]["state"]["momentum_buffer"]["value"], buf)


def test_arguments_are_checked():
    model, o = setup("sgd")
    for kw in ({"every": 0}, {"capacity": 0}, {"histogram_every": 0}, {"every": 1.5},
               {"full_size_limit": -1}, {"every": True}):
        with pytest.raises(ValueError, match="Recorder: "):
            Recorder(model, o, **kw)
    with pytest.raises(ValueError, match="nope"):
        Recorder(model, o, full_values=["nope"])


# ---- the fast paths agree with the NumPy reference --------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histograms_match_the_reference(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(300) * 3).astype(dtype)
    x[5], x[7] = np.nan, np.inf
    starts, ends = np.array([0, 100, 100, 150, 160]), np.array([100, 100, 150, 160, 300])
    x[150:160] = 2.5  # a constant segment; x[100:100] is empty
    counts, edges = segment_histograms(x, starts, ends, 7)
    for s, (lo, hi) in enumerate(zip(starts, ends)):
        ref = histogram(x[lo:hi], 7)
        np.testing.assert_array_equal(counts[s], ref["counts"])
        np.testing.assert_allclose(edges[s], ref["edges"])
    finite = x[np.isfinite(x)][:50]
    np.testing.assert_array_equal(histogram(finite, 9)["counts"], np.histogram(finite, 9)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_kernel_matches_numpy_and_shows_nan(dtype):
    if not kernels.available():
        pytest.skip("numba not installed")
    rng = np.random.default_rng(0)
    before, after = (rng.standard_normal(40).astype(dtype) for _ in range(2))
    update = np.zeros(40, dtype)
    grad = rng.standard_normal(40).astype(dtype)
    grad[25], before[3] = np.nan, -np.inf
    acts = [rng.standard_normal(n).astype(dtype) for n in (7, 0, 12)]
    starts, ends = np.array([0, 10, 10, 30]), np.array([10, 10, 30, 40])
    utype, mask = recorder_module._MASKS[np.dtype(dtype)]
    rows, act_rows = (before, grad, update), tuple(acts) + (np.zeros(0, dtype),)
    out, tops = np.empty((3, 4, 2)), np.empty((3, 4), utype)
    act_out, act_tops = np.empty((3, 2)), np.empty(3, utype)
    with np.errstate(invalid="ignore"):
        recorder_module._step_kernel(before, after, update, rows,
                                     tuple(r.view(utype) for r in rows), starts, ends, act_rows,
                                     tuple(a.view(utype) for a in act_rows), 3, mask, out, tops,
                                     act_out, act_tops)
        np.testing.assert_array_equal(update, after - before)  # ΔW, written by the kernel
    ref, ref_tops = recorder_module._stats_numpy(rows, starts, ends)
    np.testing.assert_allclose(out, ref, rtol=1e-5)
    np.testing.assert_array_equal(recorder_module._maxes(tops), ref_tops)
    ref, ref_tops = recorder_module._act_stats_numpy(acts)
    np.testing.assert_allclose(act_out, ref, rtol=1e-5)
    np.testing.assert_array_equal(recorder_module._maxes(act_tops), ref_tops)
    assert np.isnan(out[1, 2]).all() and np.isnan(recorder_module._maxes(tops)[1, 2])  # NaN shows
    assert np.isinf(out[0, 0, 0]) and np.isinf(recorder_module._maxes(tops)[0, 0])      # and Inf
    assert (out[:, 1] == 0).all() and (tops[:, 1] == 0).all()  # an empty segment: zeros
    s = summarize(grad[10:30])
    assert np.isnan(s["norm"]) and np.isnan(s["max_abs"])


# ---- files -------------------------------------------------------------------------------------
def assert_same(a, b, path="record"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, (list, tuple)):
        assert list(a) == list(b), path
    else:
        assert a == b or (np.isnan(a) and np.isnan(b)), path


def test_save_and_load_round_trip_without_pickle(tmp_path):
    model, o = setup("adam")
    with Recorder(model, o, full_size_limit=40, histogram_every=2) as rec:
        train(model, o, 4)
    folder = rec.save(tmp_path / "run")
    assert sorted(p.name for p in folder.iterdir()) == ["records.json", "records.npz"]
    doc = json.loads((folder / "records.json").read_text())
    assert doc["format"] == "ziptieai.inspect.records" and len(doc["records"]) == 4
    with np.load(folder / "records.npz", allow_pickle=False) as npz:  # plain arrays only
        assert all(npz[k].dtype != object for k in npz.files)
    loaded = Recorder.load(folder)
    assert len(loaded) == 4
    for a, b in zip(rec.records, loaded):
        assert_same(a, b)
    assert_same(load_records(str(folder))[0], rec.records[0])


def test_saved_arrays_are_stacked_by_column(tmp_path):
    # the same place in every record (same dtype and shape) is one npz member, row i = record i
    model, o = setup("adam")
    with Recorder(model, o, full_size_limit=40) as rec:
        train(model, o, 12)
    folder = rec.save(tmp_path / "run")
    with np.load(folder / "records.npz", allow_pickle=False) as npz:
        members = {k: npz[k].shape for k in npz.files}
    doc = json.loads((folder / "records.json").read_text())
    assert doc["version"] == 2
    refs = []

    def walk(v):
        if isinstance(v, dict):
            if "__array__" in v:
                refs.append(v)
            else:
                for x in v.values():
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc["records"])
    assert len(members) < len(refs) / 6  # 12 records: far fewer members than arrays
    assert all(members[r["__array__"]][0] > r["i"] for r in refs)
    loaded = load_records(folder)
    for a, b in zip(rec.records, loaded):
        assert_same(a, b)


def test_version_1_folders_still_load(tmp_path):
    # version 1 (before columns): one npz member per array, referenced without "i"
    value = np.arange(6.0).reshape(2, 3)
    doc = {"format": "ziptieai.inspect.records", "version": 1,
           "records": [{"step": 1, "loss": 0.5, "w": {"__array__": "a0"}}]}
    (tmp_path / "records.json").write_text(json.dumps(doc))
    np.savez(tmp_path / "records.npz", a0=value)
    (record,) = load_records(tmp_path)
    assert record["step"] == 1 and record["loss"] == 0.5
    np.testing.assert_array_equal(record["w"], value)


def test_load_refuses_what_is_not_a_records_folder(tmp_path):
    with pytest.raises(ValueError, match="no records.json"):
        load_records(tmp_path)
    (tmp_path / "records.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a ziptieai records file"):
        load_records(tmp_path)


def test_recorder_callback_records_a_fit_run(tmp_path):
    model, o = setup("adam")
    cb = RecorderCallback(tmp_path / "run", every=2)
    history = fit(model, nn.CrossEntropyLoss(), o, (X, Y), epochs=2, batch_size=32,
                  callbacks=[cb], progress=False)
    assert len(history) == 2 and not cb.recorder.attached
    records = load_records(tmp_path / "run")
    assert [r["step"] for r in records] == [1, 3, 5]  # 6 steps, every 2nd
    assert records[0]["loss"] > 0


def test_overhead_benchmark_runs_quick():
    pytest.importorskip("torch")
    script = Path(__file__).resolve().parents[2] / "bench" / "inspect_overhead.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "correctness" in result.stdout and "| variant |" in result.stdout
