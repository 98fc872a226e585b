"""Reductions: sum, mean, max/min (values, or values and indices), softmax, log_softmax.

`dim` (torch's name) and `axis` (NumPy's) are the same argument; either may be an int, a
tuple of ints, or None for all axes. `keepdim=True` keeps reduced axes with size 1.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


def normalize_dims(op: str, dim, ndim: int):
    """`dim` as a sorted tuple of non-negative axes, or None for all; errors name the op."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dims "
                f"(expected {-max(ndim, 1)} <= dim < {max(ndim, 1)})"
            )
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} repeats an axis")
    return tuple(sorted(out))


def _pick_dim(op: str, dim, axis):
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass dim or axis, not both")
        return axis
    return dim


def _expand(g: np.ndarray, shape: tuple, axes, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdim and axes is not None and g.ndim != len(shape):
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


class Sum(Function):
    """Σ over axes;  d/da = g broadcast back over the summed axes."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.saved = (a.shape, axes, keepdim)
        # NOTE: the ufunc method directly: ndarray.sum/mean add microseconds of Python overhead
        return np.asarray(np.add.reduce(a, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim = ctx.saved
        return (_expand(g, shape, axes, keepdim),)


def _count(shape: tuple, axes) -> int:
    """How many elements a reduction over `axes` (None: all) combines."""
    n = 1
    for i in (range(len(shape)) if axes is None else axes):
        n *= shape[i]
    return n


class Mean(Function):
    """Mean over axes;  d/da = g / n broadcast back (n = number of elements averaged)."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        n = _count(a.shape, axes)
        ctx.saved = (a.shape, axes, keepdim)
        # NOTE: as ndarray.mean computes it (sum, then divide), without its Python overhead
        return np.asarray(np.add.reduce(a, axis=axes, keepdims=keepdim) / n)

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim = ctx.saved
        return (_expand(g / _count(shape, axes), shape, axes, keepdim),)


class Extremum(Function):
    """max/min over axes (values);  g is shared evenly by the elements that tie for the
    extremum (as torch.amax and the full torch.max)."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, largest=True):
        kept = (a.max if largest else a.min)(axis=axes, keepdims=True)
        ctx.saved = (a, kept, axes)
        if keepdim:
            return kept
        return np.asarray(kept.squeeze(axis=axes))

    @staticmethod
    def backward(ctx, g):
        a, kept, axes = ctx.saved
        winners = a == kept
        count = winners.sum(axis=axes, keepdims=True)
        share = g.reshape(kept.shape) / count.astype(g.dtype)
        return (winners * share,)


class ExtremumAt(Function):
    """max/min along one dim, the gradient going to the chosen index (as torch.max(x, dim))."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, indices):
        idx = np.expand_dims(indices, dim)
        ctx.saved = (a.shape, dim, idx)
        values = np.take_along_axis(a, idx, axis=dim)
        return values if keepdim else np.squeeze(values, axis=dim)

    @staticmethod
    def backward(ctx, g):
        shape, dim, idx = ctx.saved
        out = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(out, idx, g.reshape(idx.shape), axis=dim)
        return (out,)


MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _extremum(op: str, a: Tensor, dim, keepdim: bool, axis, largest: bool):
    dim = _pick_dim(op, dim, axis)
    data = a.data
    if data.size == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {data.shape}")
    if dim is None:
        return Extremum.apply(a, axes=None, keepdim=False, largest=largest)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be one int (use amax/amin for several), got {dim!r}")
    (d,) = normalize_dims(op, dim, data.ndim)
    if data.ndim == 0:
        return MaxMin(a, Tensor(np.zeros((), np.int64)))
    indices = (np.argmax if largest else np.argmin)(data, axis=d)
    values = ExtremumAt.apply(a, dim=d, keepdim=keepdim, indices=indices)
    return MaxMin(values, Tensor(np.expand_dims(indices, d) if keepdim else indices))


def reduce_max(a, dim=None, keepdim=False, axis=None):
    """The maximum of all elements, or with `dim` a (values, indices) pair, as torch.max."""
    return _extremum("max", a, dim, keepdim, axis, largest=True)


def reduce_min(a, dim=None, keepdim=False, axis=None):
    """The minimum of all elements, or with `dim` a (values, indices) pair, as torch.min."""
    return _extremum("min", a, dim, keepdim, axis, largest=False)


def _amaxmin(op, a, dim, keepdim, largest):
    axes = normalize_dims(op, dim, a.data.ndim)
    if a.data.size == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {a.data.shape}")
    return Extremum.apply(a, axes=axes, keepdim=keepdim, largest=largest)


def amax(a, dim=None, keepdim=False):
    """Maximum over one or more dims; ties share the gradient evenly (torch.amax)."""
    return _amaxmin("amax", a, dim, keepdim, True)


def amin(a, dim=None, keepdim=False):
    """Minimum over one or more dims; ties share the gradient evenly (torch.amin)."""
    return _amaxmin("amin", a, dim, keepdim, False)


def argmax(a, dim=None, keepdim=False) -> Tensor:
    """Index of the maximum (flattened when dim is None); no gradient."""
    return _arg(np.argmax, a, dim, keepdim)


def argmin(a, dim=None, keepdim=False) -> Tensor:
    """Index of the minimum (flattened when dim is None); no gradient."""
    return _arg(np.argmin, a, dim, keepdim)


def _arg(fn, a, dim, keepdim):
    data = a.data if isinstance(a, Tensor) else np.asarray(a)
    if dim is None:
        return Tensor(np.asarray(fn(data), dtype=np.int64))
    return Tensor(fn(data, axis=dim, keepdims=keepdim).astype(np.int64))


def reduce_sum(a, dim=None, keepdim=False, axis=None):
    """Sum over `dim` (all by default)."""
    axes = normalize_dims("sum", _pick_dim("sum", dim, axis), a.data.ndim)
    return Sum.apply(a, axes=axes, keepdim=keepdim)


def reduce_mean(a, dim=None, keepdim=False, axis=None):
    """Mean over `dim` (all by default)."""
    axes = normalize_dims("mean", _pick_dim("mean", dim, axis), a.data.ndim)
    if a.data.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating-point tensor, got dtype {a.data.dtype}")
    return Mean.apply(a, axes=axes, keepdim=keepdim)


class Softmax(Function):
    """y = exp(a - max) / Σ exp(a - max) along dim;  d/da = y·(g - Σ g·y)."""

    @staticmethod
    def forward(ctx, a, dim=-1):
        e = np.exp(a - a.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.saved = (y, dim)
        return y

    @staticmethod
    def backward(ctx, g):
        y, dim = ctx.saved
        gy = g * y
        return (gy - y * gy.sum(axis=dim, keepdims=True),)


class LogSoftmax(Function):
    """y = a - max - log Σ exp(a - max) along dim (never overflows);  d/da = g - softmax·Σ g."""

    @staticmethod
    def forward(ctx, a, dim=-1):
        shifted = a - a.max(axis=dim, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.saved = (y, dim)
        return y

    @staticmethod
    def backward(ctx, g):
        y, dim = ctx.saved
        return (g - np.exp(y) * g.sum(axis=dim, keepdims=True),)
