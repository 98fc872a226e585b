"""W3: one Adam step over 10M float32 parameters, cold caches, against the 2-thread copy floor.

10,000,000 float32 parameters with fixed gradients, in two layouts: one tensor of 10M, and
100 tensors of 100k. Before every timed step the caches are evicted (untimed) by a
read-modify-write pass over a 128 MB scratch array (4× this box's 32 MB L3), so each step
pays for its memory traffic: Adam reads p, g, m, v and writes p, m, v in place = 28 B/param.

The floor is a 2-thread copy of the same traffic: 14 B/param (140 MB) copied src → dst, i.e.
140 MB read + 140 MB written = 28 B/param. Two copies are timed, and the target uses the
faster (the stricter floor):
  * np.copyto on the two halves in 2 Python threads (NumPy releases the GIL; a contiguous
    copy goes to memmove, and x86 glibc's memmove switches to non-temporal stores for blocks
    this large, so the destination is not read first: 28 B/param of DRAM traffic, like
    Adam's in-place update, whose written lines were just read);
  * torch's Tensor.copy_ on 2 OpenMP threads.
A third reference row runs Adam's own access pattern without its math (numba, 2 threads): an
in-place update can beat the copy floor, as its last L3-full of dirty lines is written back
during the next, untimed, eviction (see `make_pattern_floor`).

Variants, interleaved in one process: torch Adam for-loop (foreach=False, fused=False; the
baseline), torch Adam fused=True, ziptieai Adam (fused flat buffer + numba one-pass kernel),
ziptieai fused with the chunked NumPy rule (the same optimizer object, kernel switched off for
its calls by `kernels_off()`, see w2_mlp_adam.py). ziptieai fused=False (the per-tensor NumPy
reference, slow) runs in a second, shorter interleaved table with the floor and the baseline.
Correctness first, on a small copy of each layout: parameters after 3 steps match torch's.

Target: ziptieai Adam ≤ 1.15× the copy floor (paired ratio), in both layouts. Reference
(BENCHMARKS.md): torch fused=True 0.15–0.21× the for-loop (≈ the floor); JAX 0.25×;
NumPy in place 0.7×, chunked 0.42×.

    python bench/w3_adam_step.py [--quick]
"""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

import common  # noqa: I001  (first: pins the BLAS/OpenMP threads before NumPy/torch load)

import numpy as np
import torch

import ziptieai
from ziptieai.optim import kernels
from w2_mlp_adam import counting_kernel_calls, kernels_off

N, LR, SEED = 10_000_000, 1e-3, 0
LAYOUTS = {"1 × 10M": [N], "100 × 100k": [N // 100] * 100}
QUICK_LAYOUTS = {"1 × 200k": [200_000], "20 × 10k": [10_000] * 20}
EVICT_BYTES = 128 << 20
BYTES_PER_PARAM = 28  # read p, g, m, v; write p, m, v (float32)
TARGET = 1.15  # × the copy floor

FLOOR_NP, FLOOR_TORCH = "floor: np.copyto, 2 threads", "floor: torch copy_, 2 threads"
PATTERN = "ref: Adam's 4-read/3-write pattern, no math (numba)"
TORCH_LOOP, TORCH_FUSED = "torch Adam for-loop", "torch Adam fused=True"
ZT, ZT_NUMPY, ZT_PER_TENSOR = ("ziptieai Adam", "ziptieai fused, NumPy chunks",
                               "ziptieai fused=False")


def data(n: int, seed: int = SEED):
    """Initial parameters and fixed gradients, float32."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n, dtype=np.float32) * np.float32(0.1)
    g = rng.standard_normal(n, dtype=np.float32) * np.float32(1e-3)
    return p, g


def _pieces(flat: np.ndarray, sizes):
    out, s = [], 0
    for n in sizes:
        out.append(flat[s:s + n].copy())
        s += n
    return out


def make_torch(p0, g0, sizes, **adam_kwargs):
    params = [torch.nn.Parameter(torch.from_numpy(a)) for a in _pieces(p0, sizes)]
    for p, g in zip(params, _pieces(g0, sizes)):
        p.grad = torch.from_numpy(g)
    opt = torch.optim.Adam(params, lr=LR, **adam_kwargs)
    return opt.step, lambda: np.concatenate([p.detach().numpy() for p in params])


def make_ziptie(p0, g0, sizes, fused=None):
    params = [ziptieai.nn.Parameter(a) for a in _pieces(p0, sizes)]
    for p, g in zip(params, _pieces(g0, sizes)):
        p.grad = g  # the fused path copies it into its flat gradient buffer
    opt = ziptieai.optim.Adam(params, lr=LR, fused=fused)

    def step_numpy():
        with kernels_off():
            opt.step()

    return opt.step, step_numpy, lambda: np.concatenate([p.data.reshape(-1) for p in params])


def make_floors(n: int):
    """Two 2-thread copies of n × 14 bytes (= n × 28 bytes of traffic)."""
    count = n * BYTES_PER_PARAM // 2 // 4  # float32 elements in 14 B/param
    src = np.ones(count, np.float32)
    dst = np.zeros(count, np.float32)
    half = count // 2
    pool = ThreadPoolExecutor(1)

    def copy_numpy():
        other = pool.submit(np.copyto, dst[half:], src[half:])
        np.copyto(dst[:half], src[:half])
        other.result()

    t_src, t_dst = torch.from_numpy(src), torch.from_numpy(dst)
    return {FLOOR_NP: copy_numpy, FLOOR_TORCH: lambda: t_dst.copy_(t_src)}


def make_pattern_floor(n: int):
    """Adam's access pattern without its math (numba, 2 threads): read p, g, m, v and write
    p, m, v in place, one pass. Not the target's floor, a reference: an in-place update leaves
    up to an L3's worth of dirty lines to be written back during the next (untimed) eviction,
    which a copy with non-temporal stores cannot; so it can beat the copy floor."""
    if not kernels.available():
        return None
    import numba

    @numba.njit(parallel=True, nogil=True, error_model="numpy")
    def touch(p, g, m, v):
        for i in numba.prange(p.size):
            gi = g[i]
            m[i] += gi
            v[i] += gi
            p[i] += gi

    arrays = [np.zeros(n, np.float32) for _ in range(4)]  # g = 0: the values stay put
    touch(*arrays)  # compile (no cache: kernels.py's cache must not be touched)
    return lambda: touch(*arrays)


def make_evict(nbytes: int = EVICT_BYTES):
    scratch = np.zeros(nbytes // 4, np.float32)

    def evict():  # read and write every line of the scratch array: pushes the rest out of L3
        np.add(scratch, 1, out=scratch)

    return evict


def check_correctness(layouts, steps: int = 3, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """All variants from the same start, `steps` steps, parameters vs torch's for-loop."""
    for layout, sizes in layouts.items():
        p0, g0 = data(sum(sizes))
        results, kernel_calls = {}, {}
        for name, factory in ((TORCH_LOOP, lambda: make_torch(p0, g0, sizes, foreach=False,
                                                               fused=False)),
                              (TORCH_FUSED, lambda: make_torch(p0, g0, sizes, fused=True))):
            step, params = factory()
            for _ in range(steps):
                step()
            results[name] = params()
        for name in (ZT, ZT_NUMPY, ZT_PER_TENSOR):
            step, step_numpy, params = make_ziptie(p0, g0, sizes,
                                                   fused=False if name == ZT_PER_TENSOR else None)
            with counting_kernel_calls() as calls:
                for _ in range(steps):
                    (step_numpy if name == ZT_NUMPY else step)()
            kernel_calls[name] = calls[0]
            results[name] = params()
        for name, got in results.items():
            assert got.dtype == np.float32, f"W3 {layout} {name}: dtype {got.dtype}"
            np.testing.assert_allclose(got, results[TORCH_LOOP], rtol=rtol, atol=atol,
                                       err_msg=f"W3 {layout} {name}: differs from torch")
        if kernels.available():
            assert kernel_calls[ZT] == steps, f"W3 {layout}: kernel not used by {ZT}"
        assert kernel_calls[ZT_NUMPY] == kernel_calls[ZT_PER_TENSOR] == 0, \
            f"W3 {layout}: the numba kernel ran in a NumPy-path variant"
    print(f"correctness: after {steps} steps every variant's parameters match torch's for-loop "
          f"Adam (rtol {rtol}, atol {atol}) in layouts {', '.join(layouts)}; the numba kernel "
          f"ran in '{ZT}' only" + ("" if kernels.available() else " (numba not importable)"))


def numba_note() -> str:
    """Which kernel build ran: serial (vectorized, one thread) below kernels.PARALLEL_MIN
    elements, numba's threads above it."""
    if not kernels.available():
        return "numba not importable: 'ziptieai Adam' ran the chunked NumPy path"
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:
        return (f"numba kernel ran serial (vectorized, one thread): groups below "
                f"{kernels.PARALLEL_MIN:,} elements do not start threads")
    return f"numba kernel ran on the '{layer}' threading layer, {numba.get_num_threads()} threads"


def run_layout(layout: str, sizes, evict, reps: int, block: int, slow_reps: int,
               note: str) -> dict:
    n = sum(sizes)
    print(f"### {layout} ({n:,} float32 parameters, {n * BYTES_PER_PARAM / 1e6:.0f} MB of "
          "traffic per step)\n")
    p0, g0 = data(n)
    floors = make_floors(n)
    zt_step, zt_numpy, _ = make_ziptie(p0, g0, sizes)
    variants = dict(floors)
    pattern = make_pattern_floor(n)
    if pattern is not None:
        variants[PATTERN] = pattern
    variants[TORCH_LOOP] = make_torch(p0, g0, sizes, foreach=False, fused=False)[0]
    variants[TORCH_FUSED] = make_torch(p0, g0, sizes, fused=True)[0]
    variants[ZT] = zt_step
    variants[ZT_NUMPY] = zt_numpy  # same optimizer object and buffers as ZT
    stats = common.compare(variants, reps=reps, block=block, baseline=TORCH_LOOP, unit="ms",
                           also_vs=(FLOOR_NP, FLOOR_TORCH), before_each=evict,
                           label="per step")
    del variants
    slow = {FLOOR_NP: floors[FLOOR_NP], TORCH_LOOP: make_torch(p0, g0, sizes, foreach=False,
                                                              fused=False)[0],
            ZT_PER_TENSOR: make_ziptie(p0, g0, sizes, fused=False)[0]}
    slow_stats = common.compare(slow, reps=slow_reps, block=1, baseline=TORCH_LOOP, unit="ms",
                                also_vs=(FLOOR_NP,), before_each=evict, label="per step")
    stats[ZT_PER_TENSOR] = slow_stats[ZT_PER_TENSOR]
    floor = min((FLOOR_NP, FLOOR_TORCH), key=lambda f: stats[f]["median"])
    gbps = n * BYTES_PER_PARAM / stats[floor]["median"] / 1e9
    print(f"floor = '{floor}' (the faster copy), {gbps:.1f} GB/s at {BYTES_PER_PARAM} B/param")
    print(note)
    common.report_target(f"{layout}: ziptieai Adam / copy floor", stats[ZT]["ratio_vs"][floor],
                         TARGET, "×")
    print()
    return stats


def main(argv=None) -> dict:
    quick = common.parse_quick(argv)
    common.print_environment()
    layouts = QUICK_LAYOUTS if quick else LAYOUTS
    print(f"## W3: one Adam step (lr {LR}) over float32 parameters as {' and '.join(layouts)}, "
          "cold caches\n")
    check_correctness(QUICK_LAYOUTS)
    evict = make_evict(EVICT_BYTES // 16 if quick else EVICT_BYTES)
    if quick:  # a smoke run: make the untimed gc.collect() per block cheap (torch holds ~1e5
        gc.freeze()  # objects; a full collection costs ~0.1 s here); full runs leave gc alone
    reps, block, slow_reps = (2, 1, 2) if quick else (15, 3, 6)
    note = numba_note()  # now: the pattern floor below starts numba's threads itself
    return {layout: run_layout(layout, sizes, evict, reps, block, slow_reps, note)
            for layout, sizes in layouts.items()}


if __name__ == "__main__":
    main()
