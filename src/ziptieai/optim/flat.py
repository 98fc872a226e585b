"""The fused path: a group's parameters, gradients and state in one flat buffer each.

At construction each parameter's `.data` becomes a view into one contiguous array, and its
gradient slot a view into another, so backward writes gradients straight into the flat
gradient buffer. A step then runs the optimizer's own rule (the same function the per-tensor
path calls) over chunks small enough to stay in L2 cache, in place, with two chunk-sized
scratch arrays: no temporary the size of the model, and the same numbers as the per-tensor
path, bit for bit (the rules are elementwise, so chunking changes nothing).
"""

from __future__ import annotations

import numpy as np

from ..nn.module import Parameter

# NOTE: 16K elements × (param, grad, 2-3 state arrays, 2 scratch) ≈ 0.5 MB in float32: fits L2.
CHUNK = 16384


class FlatGroup:
    """Flat storage for one parameter group; see the module docstring."""

    def __init__(self, params, offsets, param_buf, grad_buf):
        self.params = list(params)
        self.offsets = offsets  # (start, end) per parameter
        self.param_buf = param_buf
        self.grad_buf = grad_buf
        self.state_bufs: dict = {}  # key -> flat array, made when a parameter first needs it
        self.param_views = [p.data for p in self.params]
        self.grad_views = [self._view(grad_buf, i) for i in range(len(self.params))]
        chunk = min(CHUNK, max(param_buf.size, 1))
        self.scratch = (np.empty(chunk, param_buf.dtype), np.empty(chunk, param_buf.dtype))

    @classmethod
    def build(cls, params) -> "FlatGroup | None":
        """Flatten `params` in place (their .data become views); None when the group mixes
        dtypes or holds non-float tensors."""
        dtypes = {p.data.dtype for p in params}
        if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64):
            return None
        dtype = params[0].data.dtype
        offsets, start = [], 0
        for p in params:
            offsets.append((start, start + p.data.size))
            start += p.data.size
        param_buf = np.empty(start, dtype)
        grad_buf = np.zeros(start, dtype)
        for p, (s, e) in zip(params, offsets):
            param_buf[s:e] = p.data.reshape(-1)
            p.data = param_buf[s:e].reshape(p.data.shape)
            if p.grad is not None:
                grad_buf[s:e] = p.grad.reshape(-1)
                p.grad = grad_buf[s:e].reshape(p.data.shape)
        group = cls(params, offsets, param_buf, grad_buf)
        for p, view in zip(params, group.grad_views):
            if isinstance(p, Parameter):
                p._grad_slot = view  # backward fills this view instead of a new array
        return group

    def _view(self, buf: np.ndarray, i: int) -> np.ndarray:
        s, e = self.offsets[i]
        return buf[s:e].reshape(self.params[i].data.shape)

    def state_views(self, param, keys) -> dict:
        """Zeroed views for `param`'s state arrays named `keys`, in flat buffers."""
        i = next(k for k, p in enumerate(self.params) if p is param)
        views = {}
        for key in keys:
            buf = self.state_bufs.get(key)
            if buf is None:
                buf = self.state_bufs[key] = np.zeros(self.param_buf.size, self.param_buf.dtype)
            views[key] = self._view(buf, i)
            views[key][...] = 0
        return views

    def ready(self, params) -> bool:
        """Whether a fused step applies now: every parameter has a gradient and still lives in
        the flat buffer. Gradients set by hand are copied into the flat gradient buffer."""
        for p, data_view, grad_view in zip(params, self.param_views, self.grad_views):
            if p.grad is None or p.data is not data_view:
                return False
            if p.grad is not grad_view:
                np.copyto(grad_view, p.grad)
                p.grad = grad_view
        return True

    def step(self, optimizer, group: dict, states: list) -> None:
        """Apply the optimizer's rule to the whole group, one L2-sized chunk at a time."""
        if any(s["step"] != states[0]["step"] for s in states):
            for p, state in zip(self.params, states):  # steps diverged: per tensor
                optimizer._update(group, p.data, p.grad, state)
            return
        scalars = {k: v for k, v in states[0].items() if not isinstance(v, np.ndarray)}
        keys = [k for k, v in states[0].items() if isinstance(v, np.ndarray)]
        whole = dict(scalars, **{key: self.state_bufs[key] for key in keys})
        if optimizer._fused_update(group, self.param_buf, self.grad_buf, whole):
            return
        chunk = self.scratch[0].size
        size = self.param_buf.size
        chunk_state = scalars
        for s in range(0, size, chunk):
            e = min(s + chunk, size)
            chunk_state = dict(scalars)
            for key in keys:
                chunk_state[key] = self.state_bufs[key][s:e]
            scratch = self.scratch if e - s == chunk else tuple(a[: e - s] for a in self.scratch)
            optimizer._update(group, self.param_buf[s:e], self.grad_buf[s:e], chunk_state,
                              scratch=scratch)
        for state in states:  # scalar state (e.g. NAdam's mu_product) is the same for all
            for key in scalars:
                state[key] = chunk_state[key]
