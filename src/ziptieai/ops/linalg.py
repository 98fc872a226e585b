"""Linear algebra: matmul (1-D, 2-D, batched) and the fused linear layer x·Wᵀ + b."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


class MatMul(Function):
    """a @ b;  d/da = g @ bᵀ, d/db = aᵀ @ g (1-D operands promoted, batch dims broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return np.asarray(a @ b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        # NOTE: promote 1-D operands to matrices, as matmul itself does, so one rule serves
        # every case; the promoted axes are dropped again below.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if ctx.parents[0] is not None:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if ctx.parents[1] is not None:
            gb = np.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


def _shape(x) -> tuple:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy/torch semantics (1-D, 2-D and batched operands)."""
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {sa} and {sb}")
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        dim_b = "dim 0" if len(sb) == 1 else f"dim {len(sb) - 2}"
        raise ValueError(
            f"matmul: shapes {sa} and {sb} do not line up: a's last dim ({k_a}) must equal "
            f"b's {dim_b} ({k_b})"
        )
    if len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: batch dims {sa[:-2]} and {sb[:-2]} of shapes {sa} and {sb} "
                "do not broadcast"
            ) from None
    return MatMul.apply(a, b)


_ONES: dict = {}


def _ones(n: int, dtype) -> np.ndarray:
    """A cached read-only vector of n ones (the bias gradient sums rows with it)."""
    key = (n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(n, dtype)
        ones.flags.writeable = False
    return ones


class Linear(Function):
    """x @ Wᵀ + b, fused;  d/dx = g @ W, d/dW = gᵀ @ x, d/db = Σ_rows g.

    Shapes: x (*, in), W (out, in), b (out,) → (*, out).
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.saved = (x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved
        parents = ctx.parents
        gx = g @ weight if parents[0] is not None else None
        gw = gb = None
        if parents[1] is not None or (len(parents) > 2 and parents[2] is not None):
            g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
            if parents[1] is not None:
                x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
                gw = g2.T @ x2
            if len(parents) > 2 and parents[2] is not None:
                gb = _ones(g2.shape[0], g2.dtype) @ g2  # NOTE: a GEMV beats a column reduce
        return gx, gw, gb


def linear(x, weight, bias=None) -> Tensor:
    """y = x·Wᵀ + b (torch.nn.functional.linear). x (*, in), W (out, in), b (out,) → (*, out)."""
    sx, sw = _shape(x), _shape(weight)
    if len(sw) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got {sw}")
    if not sx or sx[-1] != sw[1]:
        raise ValueError(
            f"linear: input of shape {sx} has {sx[-1] if sx else 0} features in its last dim, "
            f"but the weight of shape {sw} expects {sw[1]} (in_features)"
        )
    if bias is None:
        return Linear.apply(x, weight)
    if _shape(bias) != (sw[0],):
        raise ValueError(f"linear: bias of shape {_shape(bias)} must be ({sw[0]},) "
                         "(out_features,)")
    return Linear.apply(x, weight, bias)
