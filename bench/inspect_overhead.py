"""What recording costs: one Adam step of a small MLP, with and without `inspect.Recorder`.

Model 64→128→10 with ReLU, cross-entropy, Adam lr 1e-3, batch 32, float32, one fixed seeded
batch. One step = zero_grad + forward + loss + backward + step (~110 µs here). Variants, each
with its own model and optimizer from the same weights, its Recorder attached only while its
own block runs (the engine's backward hook is global):

  no recorder (the baseline);
  summary mode: Recorder(full_size_limit=0), every step recorded: S(W), S(g), S(ΔW) each
    step; optimizer state, Adam's step and activations every 10th recorded step; histograms
    every 100th (the defaults);
  summary mode, every=2: the same, every 2nd step recorded;
  summary mode, core only: S(W), S(g), S(ΔW) only (no detail steps, no histograms): the floor;
  summary mode, NumPy path: the compiled kernels off (`recorder.USE_KERNEL = False`; what
    you get without numba);
  default Recorder: full values of every tensor of at most 4096 elements too (all but the
    first weight here), every statistic of those at every step.

Correctness first: a recorded run is bit-identical to an unrecorded one (losses and
parameters after 5 steps), the records hold the right steps and losses, and the recorded
effective step of Adam equals −ΔW to float rounding.

Method: as bench/common.py (interleaved blocks, order rotated each rep, gc before each block,
medians and the paired ratio against the baseline in the same rep). Target: summary mode costs
at most 20% of the step (paired ratio ≤ 1.20); both the every-step and the every-2nd-step
figures are checked against it.

    python bench/inspect_overhead.py [--quick]
"""

from __future__ import annotations

import gc
import statistics
import time

import common  # first: pins the BLAS/OpenMP threads before NumPy/torch load
import numpy as np

import ziptieai
from ziptieai import nn
from ziptieai.inspect import Recorder
from ziptieai.inspect import recorder as recorder_module

SIZES, BATCH, LR, SEED = (64, 128, 10), 32, 1e-3, 0
TARGET = 1.20  # × the unrecorded step


def make_step(kernel: bool = True, record: bool = True, **recorder_kwargs):
    """A step function and its Recorder (None for the baseline), from the seeded init."""
    ziptieai.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2]))
    opt = ziptieai.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(SEED)
    X = ziptieai.tensor(rng.random((BATCH, SIZES[0]), dtype=np.float32))
    Y = ziptieai.tensor(rng.integers(0, SIZES[-1], BATCH))
    rec = Recorder(model, opt, **recorder_kwargs) if record else None

    def step():
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
        return loss

    step.recorder, step.kernel, step.model = rec, kernel, model
    return step


VARIANTS = {
    "no recorder": lambda: make_step(record=False),
    "summary mode": lambda: make_step(full_size_limit=0),
    "summary mode, every=2": lambda: make_step(full_size_limit=0, every=2),
    "summary mode, core only": lambda: make_step(full_size_limit=0, activations=False,
                                                 histogram_bins=0, detail_every=10**9),
    "summary mode, NumPy path": lambda: make_step(kernel=False, full_size_limit=0),
    "default (full values ≤ 4096)": lambda: make_step(),
}
BASELINE, SUMMARY = "no recorder", "summary mode"


def run_block(step, n: int) -> float:
    """Time `n` calls of `step` with its Recorder attached (and its kernel setting)."""
    rec = step.recorder
    recorder_module.USE_KERNEL = step.kernel
    if rec is not None:
        rec.attach()
    gc.collect()
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        return (time.perf_counter() - t0) / n
    finally:
        if rec is not None:
            rec.detach()
        recorder_module.USE_KERNEL = True


def check_correctness(steps: int = 5) -> None:
    plain, recorded = VARIANTS[BASELINE](), VARIANTS[SUMMARY]()
    losses_plain = [float(plain()) for _ in range(steps)]
    with recorded.recorder:
        losses_rec = [float(recorded()) for _ in range(steps)]
    assert losses_plain == losses_rec, "recording changed the losses"
    for a, b in zip(plain.model.parameters(), recorded.model.parameters(), strict=True):
        assert np.array_equal(a.data, b.data), "recording changed the parameters"
    records = recorded.recorder.records
    assert [r["step"] for r in records] == list(range(1, steps + 1))
    assert np.allclose([r["loss"] for r in records], losses_rec)
    full = VARIANTS["default (full values ≤ 4096)"]()
    with full.recorder:
        for _ in range(steps):
            full()
    worst = 0.0
    for r in full.recorder.records:
        for name, p in r["params"].items():
            if "value" in p["update"]:
                dW, eff = p["update"]["value"], p["adam"]["effective_step"]["value"]
                W = p["weight"]["value"]
                dev = np.abs(dW + eff)
                bound = 2 * np.finfo(np.float32).eps * (np.abs(W) + np.abs(eff))
                assert np.all(dev <= bound), f"{name}: effective step != -ΔW"
                worst = max(worst, float(dev.max()))
    print(f"correctness: a recorded run is bit-identical to an unrecorded one ({steps} steps: "
          f"losses and parameters); {len(records)} records with the right steps and losses; "
          f"Adam's recorded effective step = −ΔW within float32 rounding (max |ΔW + step| "
          f"{worst:.2g})")


def main(argv=None) -> dict:
    quick = common.parse_quick(argv)
    common.print_environment()
    print(f"## Recorder overhead: MLP {'→'.join(map(str, SIZES))} ReLU, Adam lr {LR}, batch "
          f"{BATCH}, float32, one training step (numba kernel: "
          f"{'yes' if ziptieai.optim.kernels.available() else 'no'})\n")
    check_correctness()
    steps = {name: make() for name, make in VARIANTS.items()}
    reps, block = (3, 20) if quick else (30, 200)
    names = list(steps)
    for name in names:  # warm-up: kernels compiled, allocator pools filled
        run_block(steps[name], block)
    times = {n: [] for n in names}
    for rep in range(reps):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(run_block(steps[name], block))
    print(f"{reps} reps × {block} steps, order rotated each rep; times per step in µs\n")
    print(f"| variant | median | min | max | paired ratio vs {BASELINE} |")
    print("|---|---:|---:|---:|---:|")
    stats = {}
    for name in names:
        t = times[name]
        ratio = statistics.median(a / b for a, b in zip(t, times[BASELINE]))
        stats[name] = {"median": statistics.median(t), "ratio": ratio}
        print(f"| {name} | {statistics.median(t) * 1e6:.1f} | {min(t) * 1e6:.1f} | "
              f"{max(t) * 1e6:.1f} | {ratio:.3f}× |")
    print()
    common.report_target("summary mode / no recorder", stats[SUMMARY]["ratio"], TARGET, "×")
    common.report_target("summary mode, every=2 / no recorder",
                         stats["summary mode, every=2"]["ratio"], TARGET, "×")
    print()
    return stats


if __name__ == "__main__":
    main()
