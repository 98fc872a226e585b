"""Shared benchmark harness: thread pinning, environment report, interleaved paired timing.

Import this module FIRST (before NumPy or torch): it pins OMP/OpenBLAS/MKL/numba to 2 threads
(override with the env variable BENCH_THREADS) so the BLAS pools start at that size.

The method (see /work/shared/BENCHMARKS.md): every variant runs in one process, in blocks of
`block` calls; each rep runs one block of every variant, in an order rotated by one each rep;
`gc.collect()` (untimed) precedes every block. For each variant we report the median, min and
max per-call time over reps, and the paired ratio against a baseline: the median over reps of
variant_time / baseline_time measured in the same rep, which cancels slow drifts of a noisy box.
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
# NUMBA_NUM_THREADS: the pool of ziptieai's optional compiled optimizer kernels (optim.kernels)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)

_header_done = False


def print_environment() -> None:
    """Versions and the thread counts the libraries actually use (printed once per process)."""
    global _header_done
    if _header_done:
        return
    _header_done = True
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"cpu: {_cpu_name()} ({os.cpu_count()} logical)")
    print(f"pinned threads: {THREADS}; torch.get_num_threads() = {torch.get_num_threads()}; "
          f"load average {os.getloadavg()[0]:.2f} (others' work on the box skews timings)")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print("threadpoolctl not importable: BLAS/OpenMP pool sizes not verified "
              "(pip install threadpoolctl)")
    else:
        for pool in threadpool_info():
            print(f"  pool {pool['internal_api']:<9} threads={pool['num_threads']:<3} "
                  f"{os.path.basename(pool['filepath'])}")
    print()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def compare(variants: dict, reps: int, block: int, baseline: str | None = None,
            per_call: int = 1, unit: str = "µs", label: str = "per call",
            also_vs: tuple = (), before_each=None) -> dict:
    """Time zero-arg callables interleaved; print a markdown table; return the stats.

    variants: name -> step function. baseline: the name ratios are taken against (default:
    the first). per_call: divide each call's time by this (e.g. ops per call, for µs/op).
    also_vs: more variant names to print paired-ratio columns against (key "ratio_vs").
    before_each: a zero-arg callable run *untimed* before every single call (e.g. evicting
    the caches); each call is then timed on its own and a block's time is their sum.
    Returns {name: {"median", "min", "max", "ratio", "ratio_vs": {other: ratio},
    "times": [per-rep times]}} in seconds (per `per_call`).
    """
    names = list(variants)
    baseline = baseline or names[0]
    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6, "ns": 1e9}[unit]
    for fn in variants.values():  # warm-up: caches, lazy imports, allocator pools
        for _ in range(max(1, block // 4)):
            fn()
    times = {n: [] for n in names}
    timer = time.perf_counter
    for rep in range(reps):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            fn = variants[name]
            gc.collect()
            if before_each is None:
                t0 = timer()
                for _ in range(block):
                    fn()
                elapsed = timer() - t0
            else:
                elapsed = 0.0
                for _ in range(block):
                    before_each()
                    t0 = timer()
                    fn()
                    elapsed += timer() - t0
            times[name].append(elapsed / (block * per_call))
    def paired(t, base):
        return statistics.median(a / b for a, b in zip(t, base))

    stats = {}
    for name in names:
        t = times[name]
        stats[name] = {
            "median": statistics.median(t), "min": min(t), "max": max(t),
            "ratio": paired(t, times[baseline]),
            "ratio_vs": {other: paired(t, times[other]) for other in also_vs},
            "times": t,
        }
    cold = "; caches evicted (untimed) before every call" if before_each else ""
    print(f"{reps} reps × {block} calls, order rotated each rep{cold}; times {label} in {unit}")
    print()
    extra_head = "".join(f" vs {other} |" for other in also_vs)
    print(f"| variant | median | min | max | paired ratio vs {baseline} |{extra_head}")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(also_vs))
    for name, s in stats.items():
        extra = "".join(f" {s['ratio_vs'][other]:.3f}× |" for other in also_vs)
        print(f"| {name} | {s['median'] * scale:.2f} | {s['min'] * scale:.2f} | "
              f"{s['max'] * scale:.2f} | {s['ratio']:.3f}× |{extra}")
    print()
    noisy = [n for n, s in stats.items() if s["max"] > 3 * s["min"]]
    if noisy:  # e.g. torch's 2-thread OpenMP pool stalls when another process takes a core
        print(f"WARNING: max > 3× min for {', '.join(noisy)}: the machine was busy during "
              "this run; trust the ratios only from a quiet rerun\n")
    return stats


def report_target(what: str, value: float, limit: float, unit: str = "") -> bool:
    """Print one line: the target, the measured value, and whether it is met."""
    ok = value <= limit
    print(f"target {what} ≤ {limit:g}{unit}: measured {value:.3f}{unit} -> "
          f"{'MET' if ok else 'NOT MET'}")
    return ok


def parse_quick(argv=None) -> bool:
    """True when `--quick` is given (few reps, small blocks: a smoke run of a few seconds)."""
    argv = sys.argv[1:] if argv is None else argv
    unknown = [a for a in argv if a != "--quick"]
    if unknown:
        sys.exit(f"unknown arguments {unknown}; the only option is --quick")
    return "--quick" in argv
