"""Recorder: what every weight, gradient, update, optimizer state and activation did, per step.

    rec = Recorder(model, optimizer)            # hooks only: the four lines do not change
    with rec:
        for X, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
    rec.records[-1]["params"]["0.weight"]["update"]["norm"]       # ‖ΔW‖ at the last step
    rec.save("runs/moons");  records = Recorder.load("runs/moons")

It sees the loop through hooks: the engine's backward hook (the loss: the root of the last
backward before a step), the optimizer's step pre-hook (W and g before the update) and post-hook
(W after it, and the optimizer's state), and forward hooks on the leaf modules (activations of
the last forward pass that built a graph). `fit(..., callbacks=[RecorderCallback(folder)])`
records a whole `fit` run.

A record is a plain dict (arrays are NumPy; `save` writes them to .npz, the rest to JSON):

    {"step": 7,                  # optimizer steps since attach(), 1-based
     "loss": 0.4312,             # root of the last backward before this step (None: none seen)
     "optimizer": "Adam",
     "params": {"0.weight": {
         "shape": [16, 2], "group": 0,      # group: index in optimizer.param_groups (None: none)
         "hyper": {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-08, ...},  # at this step
         "weight": S,            # W before the update
         "grad": S,              # g (None when the parameter had no gradient)
         "update": S,            # ΔW = W_after − W_before: the update actually applied
         "state": {"step": 7, "exp_avg": S, "exp_avg_sq": S},   # torch's keys (None: no state);
                                 # the arrays' S at detail steps, or when values are kept
         "adam": {"bias_correction1": 1 − β₁ᵗ, "bias_correction2": 1 − β₂ᵗ,
                  "effective_step": S},  # lr·m̂/(√v̂ + ε), when the state arrays have their
                                         # S; Adam and AdamW only, else None
         }, ...},
     "activations": {"0": S, "1": S, ...}}  # leaf modules' outputs by name; detail steps only

    S = {"norm": ‖x‖₂, "mean_abs": mean |x|, "max_abs": max |x|,
         "hist": {"counts": (bins,) int64, "edges": (bins + 1,) float64},   # when available
         "value": the array itself}                                         # when kept

Under Adam (with coupled weight decay too) the effective step is −ΔW, up to the rounding of
W_after − W_before; AdamW also shrinks W by lr·λ·W first.

What it costs, and how it stays bounded (bench/inspect_overhead.py measures it):
- Every recorded step: the loss, and S of W, g and ΔW (the core: one copy and one pass).
- Every `detail_every`-th recorded step (and the first), a detail step: also S of each
  optimizer state array, of Adam's step, and of every activation (forward hooks are on only
  for those steps). Every `histogram_every`-th (and the first): histograms as well.
- "value" is kept for tensors of at most `full_size_limit` elements, and for those named in
  `full_values` (parameter names; module names for activations). For such a tensor every S
  (state and Adam's step included) is complete at every step: what the step did not compute
  is computed from the kept value when `records` is read. With `full_size_limit=0` and no
  `full_values` (summary mode) the recorder keeps summaries only.
- Only every `every`-th step is recorded (steps 1, 1 + every, ...) and only the last
  `capacity` records are kept (a ring buffer).
- The summaries at a step come from one compiled pass over flat buffers (numba, as in
  `optim.kernels`; NumPy without it), reading a fused optimizer's own flat buffers; the dicts
  above are built only when `records` is read.

NOTE (bench/inspect_overhead.py, 64→128→10 MLP, Adam, batch 32, a ~100 µs step on 2 cores):
summary mode costs 1.30–1.32× the step when every step is recorded (1.20–1.22× for the core
alone: ~20 µs of hooks, one copy and one kernel call, which a step this small feels), 1.18–1.20×
with every=2; NumPy without numba 2.0×; keeping full values of the small tensors 1.7×. Larger
steps pay relatively less.
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from operator import is_
from pathlib import Path

import numpy as np

from ..autograd import engine, grad_mode
from ..optim import kernels
from ..optim.adam import Adam
from ..tensor import Tensor
from ..train.loop import Callback

SUMMARY_KEYS = ("norm", "mean_abs", "max_abs")
# Set False to take the NumPy paths even when numba is installed (tests, benchmarks).
USE_KERNEL = True
FORMAT = "ziptieai.inspect.records"


# ---- summaries of one array (the reference every faster path agrees with) -------------------
def histogram(x, bins: int = 20) -> dict:
    """Equal-width histogram of the finite values of `x` over [min, max] (np.histogram's rule:
    [v − 0.5, v + 0.5] when all values equal v, [0, 1] when there are none).
    Returns {"counts": (bins,) int64, "edges": (bins + 1,) float64}."""
    x = np.asarray(x).reshape(-1)
    if x.size and not np.isfinite(x).all():
        x = x[np.isfinite(x)]
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    idx = ((x.astype(np.float64) - lo) * (bins / (hi - lo))).astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    return {"counts": np.bincount(idx, minlength=bins).astype(np.int64), "edges": edges}


def summarize(x, bins=None, keep_value: bool = False) -> dict:
    """{"norm": ‖x‖₂, "mean_abs": mean |x|, "max_abs": max |x|} of an array (0 for an empty
    one), plus "hist" (see `histogram`) when `bins`, and "value" (a copy) when `keep_value`."""
    x = np.asarray(x)
    a = np.abs(x.astype(np.float64).reshape(-1))
    out = {"norm": float(np.sqrt(np.dot(a, a))), "mean_abs": float(a.mean()) if a.size else 0.0,
           "max_abs": float(a.max()) if a.size else 0.0}
    if bins:
        out["hist"] = histogram(x, bins)
    if keep_value:
        out["value"] = x.copy()
    return out


def adam_effective_step(exp_avg, exp_avg_sq, *, step: int, lr: float, betas, eps: float):
    """Adam's step lr·m̂/(√v̂ + ε), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), computed in the order and
    dtype of `optim.functional.adam_step` (lr/(1 − β₁ᵗ)·m / (√v/√(1 − β₂ᵗ) + ε)), so that
    W_after − W_before = −this, up to the rounding of W. Pass max_exp_avg_sq as exp_avg_sq for
    amsgrad."""
    beta1, beta2 = betas
    out = np.sqrt(exp_avg_sq)
    out /= (1 - beta2**step) ** 0.5
    out += eps
    np.divide(exp_avg, out, out=out)
    out *= lr / (1 - beta1**step)
    return out


# ---- the same summaries for many tensors at once -------------------------------------------
# A "row" is one quantity (W, g, ΔW, m, ...) of every parameter laid end to end in one flat
# array; segment k, row[starts[k]:ends[k]], is parameter k. One call summarizes them all and
# returns (norm, mean |x|) per row and segment, and max |x| (see `_maxes`).
def _stats_numpy(rows, starts: np.ndarray, ends: np.ndarray) -> tuple:
    out, tops = np.zeros((len(rows), starts.size, 2)), np.zeros((len(rows), starts.size))
    sizes = ends - starts
    full = np.flatnonzero(sizes)
    if full.size == 0 or not rows:
        return out, tops
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.abs(np.stack(rows))
        cuts = starts[full]
        out[:, full, 1] = np.add.reduceat(a, cuts, axis=1) / sizes[full]
        tops[:, full] = np.maximum.reduceat(a, cuts, axis=1)
        np.square(a, out=a)
        out[:, full, 0] = np.sqrt(np.add.reduceat(a, cuts, axis=1))
    return out, tops


def _maxes(tops: np.ndarray) -> np.ndarray:
    """max |x| as floats: the kernel leaves them as the integer bit patterns of |x|."""
    if tops.dtype.kind != "u":
        return tops
    return tops.view(np.float32 if tops.dtype == np.uint32 else np.float64)


MAX_ROWS = 8  # W, g, ΔW, up to 4 state arrays, Adam's step; more (never, today) go the NumPy way
_MASKS = {np.dtype(np.float32): (np.uint32, np.uint32(0x7FFFFFFF)),
          np.dtype(np.float64): (np.uint64, np.uint64(0x7FFFFFFFFFFFFFFF))}

if kernels.available():  # pragma: no branch - depends on the optional extra
    numba = kernels.numba

    @numba.njit(fastmath=True, inline="always", nogil=True)
    def _one_segment(x, bits, mask):
        """Σ|x|, Σx², and max |x| as the bit pattern of |x| (the sign bit masked off)."""
        sa = x.dtype.type(0)
        ss = x.dtype.type(0)
        top = bits.dtype.type(0)
        for i in range(x.size):
            v = x[i]
            sa += abs(v)
            ss += v * v
            top = max(top, bits[i] & mask)
        return sa, ss, top

    # NOTE: one call per step does everything: ΔW = after − before, then Σ|x|, Σx² and
    # max |x| of each parameter in each row, and of each activation.
    @numba.njit(fastmath=True, cache=True, nogil=True, error_model="numpy")
    def _step_kernel(before, after, update, rows, bits, starts, ends, acts, act_bits, nacts,
                     mask, out, tops, act_out, act_tops):
        for i in range(update.size):
            update[i] = after[i] - before[i]
        for r in range(len(rows)):
            x, b = rows[r], bits[r]
            for s in range(starts.size):
                lo, hi = starts[s], ends[s]
                sa, ss, top = _one_segment(x[lo:hi], b[lo:hi], mask)
                out[r, s, 0] = math.sqrt(ss)
                out[r, s, 1] = sa / max(hi - lo, 1)
                tops[r, s] = top
        for k in range(nacts):
            sa, ss, top = _one_segment(acts[k], act_bits[k], mask)
            act_out[k, 0] = math.sqrt(ss)
            act_out[k, 1] = sa / max(acts[k].size, 1)
            act_tops[k] = top

    # NOTE: no fastmath: the operations and order of functional.adam_step, hence its bits;
    # error_model="numpy" (x/0 → inf, no check) lets the loops over slices vectorize.
    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def _effective_kernel(m, v, starts, ends, scalars, out):
        for k in range(starts.size):
            step_size, bc2_sqrt, eps = scalars[0, k], scalars[1, k], scalars[2, k]
            mk, vk, ek = m[starts[k]:ends[k]], v[starts[k]:ends[k]], out[starts[k]:ends[k]]
            for i in range(ek.size):
                ek[i] = mk[i] / (np.sqrt(vk[i]) / bc2_sqrt + eps) * step_size

    @numba.njit(cache=True, nogil=True)
    def _histogram_kernel(x, starts, ends, bins, counts, edges):
        """`histogram` of every segment of x: the same arithmetic, so the same counts."""
        for s in range(starts.size):
            lo, hi = np.inf, -np.inf
            for i in range(starts[s], ends[s]):
                v = np.float64(x[i])
                if np.isfinite(v):
                    lo = min(lo, v)
                    hi = max(hi, v)
            if lo > hi:
                lo, hi = 0.0, 1.0
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            scale = bins / (hi - lo)
            for i in range(starts[s], ends[s]):
                v = np.float64(x[i])
                if np.isfinite(v):
                    counts[s, min(max(int((v - lo) * scale), 0), bins - 1)] += 1
            for j in range(bins + 1):
                edges[s, j] = lo + (hi - lo) * (j / bins)


def _adam_step_scalars(group: dict, step: int) -> tuple:
    """lr/(1 − β₁ᵗ), √(1 − β₂ᵗ) and ε: the scalars of Adam's step t (as functional.adam_step)."""
    beta1, beta2 = group["betas"]
    return group["lr"] / (1 - beta1**step), (1 - beta2**step) ** 0.5, group["eps"]


def _effective_numpy(m, v, starts, ends, scalars, out) -> None:
    for k, (s, e) in enumerate(zip(starts, ends)):
        step_size, bc2_sqrt, eps = scalars[:, k]
        seg = out[s:e]
        np.sqrt(v[s:e], out=seg)
        seg /= bc2_sqrt
        seg += eps
        np.divide(m[s:e], seg, out=seg)
        seg *= step_size


def _kernel_ok(dtype) -> bool:
    return USE_KERNEL and kernels.available() and dtype in _MASKS


def segment_histograms(x: np.ndarray, starts, ends, bins: int) -> tuple:
    """`histogram` of each segment x[starts[s]:ends[s]]: counts (segs, bins) int64 and edges
    (segs, bins + 1)."""
    counts = np.zeros((len(starts), bins), np.int64)
    edges = np.zeros((len(starts), bins + 1))
    if _kernel_ok(x.dtype) and x.flags.c_contiguous:
        _histogram_kernel(x, np.asarray(starts, np.int64), np.asarray(ends, np.int64), bins,
                          counts, edges)
    else:
        for s, (lo, hi) in enumerate(zip(starts, ends)):
            h = histogram(x[lo:hi], bins)
            counts[s], edges[s] = h["counts"], h["edges"]
    return counts, edges


def _layout(sizes) -> tuple:
    sizes = np.asarray(sizes, np.int64)
    ends = np.cumsum(sizes)
    return ends - sizes, ends


def _plain(value):
    """A JSON-friendly copy of a hyper-parameter value (tuples → lists, NumPy → Python)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return repr(value)


_NOTHING: dict = {}  # shared by records that keep no full values (never written to)


class _Raw:
    """One recorded step, compact; `Recorder.records` expands it into the documented dict.
    stats (rows, params, 2): norm and mean |x| of the rows summarized at this step (W, g, ΔW;
    all of them at a detail step); tops (rows, params): max |x| (see `_maxes`)."""

    # what a core step leaves as it is (no kept values, no histograms, no activations)
    has_grad = None
    full = _NOTHING
    hist = None
    act_names: tuple = ()
    act_full = _NOTHING
    act_hist = None
    act_stats = np.zeros((0, 2))
    act_tops = np.zeros(0)
    expanded = None

    def __init__(self, step: int, loss, hyper: list, states: list):
        self.step, self.loss, self.hyper, self.states = step, loss, hyper, states


class Recorder:
    """Records every `every`-th optimizer step of `model` (see the module docstring).

    model: the Module whose parameters (by qualified name) and leaf modules are watched.
    optimizer: the Optimizer that updates them. capacity: records kept (the last ones).
    full_values: names (parameters, or modules for activations) whose full values are kept
    whatever their size; full_size_limit: keep full values of every tensor this small.
    activations: watch leaf modules' outputs. histogram_bins: bins per histogram (0: none).
    detail_every: summaries of the optimizer state and Adam's step on every n-th recorded step;
    histogram_every: histograms on every n-th recorded step (both: always, for kept values).
    """

    def __init__(self, model, optimizer, every: int = 1, capacity: int = 1000,
                 full_values=None, full_size_limit: int = 4096, activations: bool = True,
                 histogram_bins: int = 20, detail_every: int = 10, histogram_every: int = 100):
        for name, value, low in (("every", every, 1), ("capacity", capacity, 1),
                                 ("full_size_limit", full_size_limit, 0),
                                 ("histogram_bins", histogram_bins, 0),
                                 ("detail_every", detail_every, 1),
                                 ("histogram_every", histogram_every, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < low:
                raise ValueError(f"Recorder: {name}={value!r} must be an int >= {low}")
        self.model, self.optimizer = model, optimizer
        self.every, self.capacity = int(every), int(capacity)
        self.full_size_limit = int(full_size_limit)
        self.full_values = set([full_values] if isinstance(full_values, str)
                               else full_values or ())
        self.activations = bool(activations)
        self.histogram_bins = int(histogram_bins)
        self.detail_every, self.histogram_every = int(detail_every), int(histogram_every)
        self._raws: deque = deque(maxlen=self.capacity)
        self._handles: list = []
        self._forward_handles: list = []
        self._build_layout()
        unknown = self.full_values - set(self._names) - set(self._leaf_names)
        if unknown:
            raise ValueError(f"Recorder: full_values names {sorted(unknown)} are neither "
                             f"parameters {self._names} nor modules {self._leaf_names}")

    # ---- layout: every parameter's segment in flat rows, one row per quantity -------------
    def _build_layout(self) -> None:
        opt = self.optimizer
        names = {id(p): n for n, p in self.model.named_parameters()}
        params, groups = [], []
        for gi, group in enumerate(opt.param_groups):  # optimizer order: groups contiguous
            for k, p in enumerate(group["params"]):
                params.append(p)
                groups.append(gi)
                names.setdefault(id(p), f"param_groups.{gi}.{k}")
        in_opt = {id(p) for p in params}
        for _, p in self.model.named_parameters():  # watched but not optimized: no update
            if id(p) not in in_opt:
                params.append(p)
                groups.append(None)
        self._params, self._groups = params, groups
        self._names = [names[id(p)] for p in params]
        self._shapes = [tuple(p.data.shape) for p in params]
        self._sizes = np.array([p.data.size for p in params], np.int64)
        self._starts, self._ends = _layout(self._sizes)
        dtype = np.result_type(*[p.data.dtype for p in params])
        self._dtype = dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        keys = []
        for group in opt.param_groups:
            for key in opt._group_state_arrays(group):
                if key not in keys:
                    keys.append(key)
        self._state_keys = keys
        # NOTE: NAdam and RAdam subclass Adam but step differently; AdamW shares Adam's rule.
        self._adam = type(opt)._update is Adam._update
        self._rows = ("weight", "grad", "update", *keys) + (
            ("effective_step",) if self._adam else ())
        n = int(self._sizes.sum())
        # Our own rows (W before the step, ΔW, Adam's step), and where W after the step, g and
        # the state arrays are gathered when the optimizer keeps no flat copy laid out as ours.
        self._before, self._update = np.zeros(n, dtype), np.zeros(n, dtype)
        self._eff = np.zeros(n, dtype) if self._adam else None
        self._rows_buf = {k: np.zeros(n, dtype) for k in ("after", "grad", *keys)}
        self._zeros = [np.zeros(size, dtype) for size in self._sizes]  # no grad / no state
        self._adam_scalars = np.zeros((3, len(params)), dtype)
        flat = opt._flat.get(0) if len(opt.param_groups) == 1 else None
        same = flat is not None and len(flat.params) == len(params) and all(
            a is b for a, b in zip(flat.params, params)) and flat.param_buf.dtype == dtype
        self._flat, self._flat_ok = (flat if same else None), False
        self._kernel_rows = len(self._rows) <= MAX_ROWS and dtype in _MASKS
        self._core = None  # the kernel's arguments for `_core_step`, when it applies
        if self._flat is not None and self._kernel_rows and kernels.available():
            utype, mask = _MASKS[dtype]
            rows = (self._before, self._flat.grad_buf, self._update)
            empties = (np.zeros(0, dtype),) * 4
            self._core = (self._before, self._flat.param_buf, self._update, rows,
                          tuple(r.view(utype) for r in rows), self._starts, self._ends,
                          empties, tuple(e.view(utype) for e in empties), 0, mask)
            self._core_shapes = ((3, len(params), 2), (3, len(params)), utype)
            self._no_acts = (np.zeros((0, 2)), np.zeros(0, utype))  # outputs for 0 of them
        self._bits: dict = {}  # id()s of a tuple of rows -> (rows, their bits as integers)
        self._empties = [np.zeros(0, dtype)] * 4
        self._full = [i for i, (name, size) in enumerate(zip(self._names, self._sizes))
                      if size <= self.full_size_limit or name in self.full_values]
        self._leaves = [(name, m) for name, m in self.model.named_modules()
                        if not any(True for _ in m.children())]
        self._leaf_names = [name for name, _ in self._leaves]
        self._keep_acts = self.full_size_limit > 0 or bool(self.full_values)

    # ---- attach / detach -----------------------------------------------------------------
    def attach(self) -> Recorder:
        """Register the hooks (recording starts at the next step, numbered 1)."""
        if self._handles:
            raise RuntimeError("Recorder: already attached; detach() first")
        self._seen, self._recorded, self._loss, self._acts = 0, 0, None, {}
        self._detail, self._forward_handles = False, []
        self._plan()
        self._handles = [engine.register_backward_hook(self._on_backward),
                         self.optimizer.register_step_pre_hook(self._on_step_pre),
                         self.optimizer.register_step_post_hook(self._on_step_post)]
        self._watch_activations(self._detail)
        return self

    def detach(self) -> None:
        """Remove every hook; the records stay."""
        for handle in self._handles + self._forward_handles:
            handle.remove()
        self._handles, self._forward_handles = [], []

    def _watch_activations(self, on: bool) -> None:
        """Forward hooks on the leaf modules, only while a step that records them runs (so
        that the other steps pay nothing for them)."""
        if on and self.activations and not self._forward_handles:
            self._forward_handles = [module.register_forward_hook(self._forward_hook(name))
                                     for name, module in self._leaves]
        elif not on and self._forward_handles:
            for handle in self._forward_handles:
                handle.remove()
            self._forward_handles = []

    @property
    def attached(self) -> bool:
        """Whether the hooks are in place."""
        return bool(self._handles)

    def __enter__(self) -> Recorder:
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    # ---- hooks: the hot path (keep it cheap; bench/inspect_overhead.py) -----------------------
    def _plan(self) -> None:
        """What the next step records: anything (every `every`-th step), the detail tier
        (activations, optimizer state, Adam's step), histograms."""
        index = self._recorded  # steps recorded so far
        self._armed = self._seen % self.every == 0
        self._hist = self._armed and self.histogram_bins > 0 and \
            index % self.histogram_every == 0
        detail = self._hist or (self._armed and index % self.detail_every == 0)
        if detail != self._detail and self._handles:
            self._watch_activations(detail)
        self._detail = detail

    def _forward_hook(self, name: str):
        def hook(module, inputs, out):
            if grad_mode.state.enabled and isinstance(out, Tensor):
                self._acts[name] = out.data
        return hook

    def _on_backward(self, root) -> None:
        if self._armed:
            self._loss = root.data

    def _on_step_pre(self, optimizer, args, kwargs) -> None:
        self._seen += 1
        if not self._armed:
            return
        flat, params = self._flat, self._params
        self._flat_ok = flat is not None and all(map(is_, [p.data for p in params],
                                                     flat.param_views))
        if self._flat_ok:
            np.copyto(self._before, flat.param_buf)
        else:
            np.concatenate([p.data.reshape(-1) for p in params], out=self._before)

    def _gather(self, grads: list, states: list, with_state: bool) -> tuple:
        """W after the step, g and the state arrays, each gathered into one flat row (when the
        optimizer keeps no flat copy laid out as ours)."""
        rows, zeros = self._rows_buf, self._zeros
        after = np.concatenate([p.data.reshape(-1) for p in self._params], out=rows["after"])
        grad = np.concatenate([z if g is None else g.reshape(-1) for g, z in zip(grads, zeros)],
                              out=rows["grad"])
        state_rows = [np.concatenate([z if s is None or k not in s else s[k].reshape(-1)
                                      for s, z in zip(states, zeros)], out=rows[k])
                      for k in self._state_keys] if with_state else None
        return after, grad, state_rows

    def _on_step_post(self, optimizer, args, kwargs) -> None:
        if not self._armed:
            self._plan()
            return
        self._recorded += 1
        hist, detail = self._hist, self._detail
        params, flat = self._params, self._flat
        grads = [p.grad for p in params]
        states = [optimizer.state.get(p) for p in params]
        with_state = detail or bool(self._full)
        flat_ok = self._flat_ok and all(map(is_, grads, flat.grad_views))
        if flat_ok and not with_state and self._core is not None and _kernel_ok(self._dtype):
            self._core_step(optimizer, states)
            return
        if flat_ok:
            # NOTE: the fused path keeps W, g and the state in flat buffers laid out as ours
            has_grad, after, grad = None, flat.param_buf, flat.grad_buf
            state_rows = [flat.state_bufs.get(k, self._rows_buf[k]) for k in self._state_keys] \
                if with_state else None
        else:
            has_grad = [g is not None for g in grads]
            has_grad = None if all(has_grad) else has_grad
            after, grad, state_rows = self._gather(grads, states, with_state)
        rows = [self._before, grad, self._update]
        if detail:
            rows += state_rows
            if self._adam:
                self._effective_steps(state_rows, states, has_grad)
                rows.append(self._eff)
        loss = self._loss
        raw = _Raw(self._seen, float(loss) if loss is not None and loss.size == 1 else None,
                   [g.copy() for g in optimizer.param_groups],  # NOTE: scalars read later
                   [None if s is None else s.copy() for s in states])
        raw.has_grad = has_grad
        self._summarize(raw, after, rows)
        if self._full:
            raw.full = {i: np.stack([r[self._starts[i]:self._ends[i]]
                                     for r in (self._before, grad, self._update, *state_rows)])
                        for i in self._full}
        if hist:
            raw.hist = [segment_histograms(r, self._starts, self._ends, self.histogram_bins)
                        for r in rows]
            raw.act_hist = [segment_histograms(a.reshape(-1), [0], [a.size], self.histogram_bins)
                            for a in self._acts.values()]
        self._raws.append(raw)
        self._loss, self._acts = None, {}
        self._plan()

    def _core_step(self, optimizer, states: list) -> None:
        """The usual step, made as cheap as we can: W, g and ΔW of a fused optimizer's flat
        buffers, summarized by one kernel call with arguments prepared in advance."""
        loss = self._loss
        raw = _Raw(self._seen, float(loss) if loss is not None and loss.size == 1 else None,
                   [g.copy() for g in optimizer.param_groups],
                   [None if s is None else s.copy() for s in states])
        out_shape, tops_shape, utype = self._core_shapes
        raw.stats, raw.tops = out, tops = np.empty(out_shape), np.empty(tops_shape, utype)
        _step_kernel(*self._core, out, tops, *self._no_acts)  # no activations
        self._raws.append(raw)
        self._loss = None
        self._plan()

    def _summarize(self, raw: _Raw, after, rows: list) -> None:
        """ΔW into its row, then the summaries of the rows and of the activations: one kernel
        call when numba is installed (see `_step_kernel`), NumPy otherwise."""
        acts = self._acts
        raw.act_names = tuple(acts)
        if self._keep_acts:
            raw.act_full = {k: a.copy() for k, a in acts.items()
                            if a.size <= self.full_size_limit or k in self.full_values}
        arrays = [a.reshape(-1) for a in acts.values()]
        dtype = self._dtype
        if not (self._kernel_rows and _kernel_ok(dtype)):
            np.subtract(after, self._before, out=self._update)
            raw.stats, raw.tops = _stats_numpy(rows, self._starts, self._ends)
            raw.act_stats, raw.act_tops = _act_stats_numpy(arrays)
            return
        utype, mask = _MASKS[dtype]
        key = tuple(map(id, rows))
        cached = self._bits.get(key)
        if cached is None:
            if len(self._bits) > 8:
                self._bits.clear()
            # NOTE: the entry holds the rows themselves, so their id()s cannot be reused.
            cached = self._bits[key] = (tuple(rows), tuple(r.view(utype) for r in rows))
        n, nacts = len(rows), len(arrays)
        by_kernel = all(a.dtype == dtype and a.flags.c_contiguous for a in arrays)
        if not by_kernel:
            raw.act_stats, raw.act_tops = _act_stats_numpy(arrays)
            arrays, nacts = [], 0
        # NOTE: activations padded to a multiple of 4: a few compiled versions serve all models
        arrays += self._empties[:(-len(arrays)) % 4 if arrays else 4]
        out, tops = np.empty((n, len(self._params), 2)), np.empty((n, len(self._params)), utype)
        act_out, act_tops = np.empty((nacts, 2)), np.empty(nacts, utype)
        _step_kernel(self._before, after, self._update, cached[0], cached[1], self._starts,
                     self._ends, tuple(arrays), tuple(a.view(utype) for a in arrays), nacts,
                     mask, out, tops, act_out, act_tops)
        raw.stats, raw.tops = out, tops
        if by_kernel:
            raw.act_stats, raw.act_tops = act_out, act_tops

    def _effective_steps(self, state_rows: list, states: list, has_grad) -> None:
        """Adam's step lr·m̂/(√v̂ + ε) into its row: per parameter, the scalars lr/(1 − β₁ᵗ),
        √(1 − β₂ᵗ) and ε (0, 1, 1 where no step was made: a step of 0), then one pass."""
        keys, groups, scalars = self._state_keys, self.optimizer.param_groups, self._adam_scalars
        m, v = state_rows[keys.index("exp_avg")], state_rows[keys.index("exp_avg_sq")]
        steps = {st["step"] if st is not None else None for st in states}
        if len(groups) == 1 and has_grad is None and len(steps) == 1 and None not in steps \
                and None not in self._groups:  # the usual case: one group, one step count
            scalars[0], scalars[1], scalars[2] = _adam_step_scalars(groups[0], steps.pop())
        else:
            for i, (gi, st) in enumerate(zip(self._groups, states)):
                if gi is None or st is None or (has_grad is not None and not has_grad[i]):
                    scalars[:, i] = 0, 1, 1
                    continue
                scalars[:, i] = _adam_step_scalars(groups[gi], st["step"])
        if "max_exp_avg_sq" in keys and any(groups[gi]["amsgrad"] for gi in set(self._groups)
                                            if gi is not None):
            vmax, v = state_rows[keys.index("max_exp_avg_sq")], v.copy()
            for i, gi in enumerate(self._groups):  # amsgrad divides by the running max of v
                if gi is not None and groups[gi]["amsgrad"]:
                    v[self._starts[i]:self._ends[i]] = vmax[self._starts[i]:self._ends[i]]
        if _kernel_ok(self._dtype):
            _effective_kernel(m, v, self._starts, self._ends, scalars, self._eff)
        else:
            _effective_numpy(m, v, self._starts, self._ends, scalars, self._eff)

    # ---- reading ---------------------------------------------------------------------------
    @property
    def records(self) -> list:
        """The kept records, oldest first, as the dicts of the module docstring."""
        out = []
        for raw in self._raws:
            if raw.expanded is None:
                raw.expanded = self._expand(raw)
            out.append(raw.expanded)
        return out

    def __len__(self) -> int:
        return len(self._raws)

    def _summary(self, stats, top, value, hist) -> dict:
        """S for one tensor: from the step's summaries, or (None) computed from its value."""
        if stats is None:
            out = summarize(value)
        else:
            out = {"norm": float(stats[0]), "mean_abs": float(stats[1]), "max_abs": float(top)}
        if hist is not None:
            out["hist"] = {"counts": hist[0], "edges": hist[1]}
        elif value is not None and self.histogram_bins:
            out["hist"] = histogram(value, self.histogram_bins)
        if value is not None:
            out["value"] = value
        return out

    def _expand(self, raw: _Raw) -> dict:
        tops = _maxes(raw.tops)
        computed = raw.stats.shape[0]  # rows summarized at this step
        params = {}
        for i, name in enumerate(self._names):
            full, shape = raw.full.get(i), self._shapes[i]
            gi = self._groups[i]
            hyper = None if gi is None else {k: _plain(v) for k, v in raw.hyper[gi].items()
                                             if k != "params"}

            def S(row, i=i, value=None):
                hist = None if raw.hist is None or row >= len(raw.hist) or value is not None \
                    else (raw.hist[row][0][i], raw.hist[row][1][i])
                stats = (raw.stats[row, i], tops[row, i]) if row < computed else (None, None)
                return self._summary(*stats, value, hist)

            def value(row, full=full, shape=shape):
                return None if full is None else full[row].reshape(shape)

            has_grad = raw.has_grad is None or raw.has_grad[i]
            entry = {"shape": list(shape), "group": gi, "hyper": hyper,
                     "weight": S(0, value=value(0)),
                     "grad": S(1, value=value(1)) if has_grad else None,
                     "update": S(2, value=value(2)), "state": None, "adam": None}
            scalars = raw.states[i]
            if scalars is not None:
                state = {k: _plain(v) for k, v in scalars.items() if not isinstance(v, np.ndarray)}
                for r, key in enumerate(self._state_keys, start=3):
                    if r < computed or full is not None:
                        state[key] = S(r, value=value(r))
                entry["state"] = state
                if self._adam and has_grad and hyper is not None:
                    entry["adam"] = self._adam_entry(raw, i, hyper, state, full, S, computed)
            params[name] = entry
        acts, act_tops = {}, _maxes(raw.act_tops)
        for k, name in enumerate(raw.act_names):
            value = raw.act_full.get(name)
            hist = None if raw.act_hist is None or value is not None else \
                (raw.act_hist[k][0][0], raw.act_hist[k][1][0])
            acts[name] = self._summary(raw.act_stats[k], act_tops[k], value, hist)
        return {"step": raw.step, "loss": raw.loss, "optimizer": type(self.optimizer).__name__,
                "params": params, "activations": acts}

    def _adam_entry(self, raw, i, hyper, state, full, S, computed) -> dict:
        beta1, beta2 = hyper["betas"]
        t = state["step"]
        entry = {"bias_correction1": 1 - beta1**t, "bias_correction2": 1 - beta2**t}
        row = len(self._rows) - 1
        value = None
        if full is not None:  # from the kept m and v, as the optimizer computed it
            keys = self._state_keys
            v_key = "max_exp_avg_sq" if hyper.get("amsgrad") else "exp_avg_sq"
            value = adam_effective_step(full[3 + keys.index("exp_avg")],
                                        full[3 + keys.index(v_key)], step=t, lr=hyper["lr"],
                                        betas=(beta1, beta2), eps=hyper["eps"])
            value = value.reshape(self._shapes[i])
        if row < computed or value is not None:
            entry["effective_step"] = S(row, value=value)
        return entry

    # ---- files: JSON + NPZ, never pickle -------------------------------------------------
    def save(self, folder) -> Path:
        """Write the records to `folder`/records.json (+ records.npz for the arrays)."""
        return save_records(self.records, folder)

    @staticmethod
    def load(folder) -> list:
        """The records saved by `save` (arrays loaded with allow_pickle=False)."""
        return load_records(folder)


def _act_stats_numpy(acts: list) -> tuple:
    out, tops = np.zeros((len(acts), 2)), np.zeros(len(acts))
    for k, a in enumerate(acts):
        s = summarize(a)
        out[k], tops[k] = (s["norm"], s["mean_abs"]), s["max_abs"]
    return out, tops


def save_records(records: list, folder) -> Path:
    """Save records (dicts as `Recorder.records` gives) to a run folder: the arrays go to
    records.npz (np.savez, no pickle), and JSON keeps {"__array__": key, "i": i} in their place.

    NOTE: arrays are stored by column: those at the same place in every record (say the full
    value of one weight), with the same dtype and shape, are stacked into one member, row i
    being record i's. A run of 600 records is then ~100 members instead of ~30,000, which
    makes saving and loading it ~10× faster (each zip member has its own cost).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    columns: dict = {}  # (place, dtype, shape) -> (member name, [arrays])

    def pack(value, place: tuple):
        if isinstance(value, np.ndarray):
            column = columns.get((place, value.dtype.str, value.shape))
            if column is None:
                column = columns[place, value.dtype.str, value.shape] = (f"a{len(columns)}", [])
            column[1].append(value)
            return {"__array__": column[0], "i": len(column[1]) - 1}
        if isinstance(value, dict):
            return {str(k): pack(v, place + (str(k),)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [pack(v, place + (i,)) for i, v in enumerate(value)]
        return _plain(value)

    doc = {"format": FORMAT, "version": 2, "records": [pack(r, ()) for r in records]}
    arrays = {name: np.stack(column) for name, column in columns.values()}
    for name, write in (("records.npz", lambda f: np.savez(f, **arrays)),
                        ("records.json", lambda f: f.write(json.dumps(doc).encode()))):
        tmp = folder / (name + ".tmp")
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, folder / name)
    return folder


def load_records(folder) -> list:
    """Read records written by `save_records` (ValueError when the folder holds none)."""
    folder = Path(folder)
    path = folder / "records.json"
    if not path.is_file():
        raise ValueError(f"load_records: no records.json in {folder} (save with "
                         "Recorder.save(folder))")
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"load_records: {path} is not a ziptieai records file")
    with np.load(folder / "records.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}

    def unpack(value):
        if isinstance(value, dict):
            if "__array__" in value and set(value) <= {"__array__", "i"}:
                stacked = arrays[value["__array__"]]
                # version 1 kept one member per array; version 2 stacks them (row i, a view)
                return stacked if "i" not in value else stacked[value["i"], ...]
            return {k: unpack(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unpack(v) for v in value]
        return value

    return [unpack(r) for r in doc["records"]]


class RecorderCallback(Callback):
    """Record a `fit` run: attaches a Recorder at the start, detaches (and saves to `folder`,
    when given) at the end. `recorder` holds it afterwards; kwargs go to Recorder."""

    def __init__(self, folder=None, **kwargs):
        self.folder, self.kwargs, self.recorder = folder, kwargs, None

    def on_train_begin(self, trainer) -> None:
        self.recorder = Recorder(trainer.model, trainer.optimizer, **self.kwargs).attach()

    def on_train_end(self, trainer) -> None:
        self.recorder.detach()
        if self.folder is not None:
            self.recorder.save(self.folder)
