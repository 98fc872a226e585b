"""Movement ops: reshape, transpose/permute, indexing, concat/stack.

They move or select elements without arithmetic, so each backward puts the gradient back
where its elements came from.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


class Reshape(Function):
    """a viewed with a new shape;  d/da = g reshaped back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.saved = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(ctx.saved),)


class Permute(Function):
    """a with its axes reordered;  d/da = g with the inverse order."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.saved = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return (g.transpose(np.argsort(ctx.saved)),)


class GetItem(Function):
    """a[index];  d/da = g scattered back to the indexed places (summed where an integer-array
    index repeats a place)."""

    @staticmethod
    def forward(ctx, a, index, advanced):
        ctx.saved = (a.shape, index, advanced)
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, g):
        shape, index, advanced = ctx.saved
        out = np.zeros(shape, dtype=g.dtype)
        if advanced:
            np.add.at(out, index, g)
        else:
            out[index] = g
        return (out,)


class Concat(Function):
    """Inputs joined along dim;  each input gets its slice of g."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.saved = (np.cumsum([x.shape[dim] for x in arrays])[:-1], dim)
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        splits, dim = ctx.saved
        return tuple(np.split(g, splits, axis=dim))


class Stack(Function):
    """Inputs stacked along a new dim;  each input gets its slice of g."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.saved = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        dim = ctx.saved
        return tuple(np.moveaxis(g, dim, 0))


class Embed(Function):
    """weight[indices] (rows of a lookup table);  d/dweight = g summed into the rows looked up
    (the padding row, if any, gets none)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.saved = (weight.shape, indices, padding_idx)
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        shape, indices, padding_idx = ctx.saved
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, indices, g)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out, None


# ---- the functions Tensor delegates to ---------------------------------------------------


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def reshape(a: Tensor, *shape) -> Tensor:
    """`a` with a new shape of the same size (one dim may be -1)."""
    shape = _shape_arg(shape)
    size = a.data.size
    known = math.prod(n for n in shape if n != -1)
    if shape.count(-1) > 1 or (-1 not in shape and known != size) or (
        -1 in shape and (known == 0 or size % known)
    ):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.data.shape} "
                         f"({size} elements) into shape {shape}")
    return Reshape.apply(a, shape=shape)


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (as torch.flatten)."""
    shape = a.data.shape
    if not shape:
        return reshape(a, 1)
    start, end = start_dim % len(shape), end_dim % len(shape)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = math.prod(shape[start:end + 1])
    return reshape(a, shape[:start] + (merged,) + shape[end + 1:])


def permute(a: Tensor, *dims) -> Tensor:
    """`a` with its dims reordered (as torch.permute)."""
    dims = _shape_arg(dims)
    ndim = a.data.ndim
    if sorted(d % ndim for d in dims) != list(range(ndim)) if ndim else dims:
        raise ValueError(f"permute: dims {dims} are not a permutation of the {ndim} dims "
                         f"of a tensor of shape {a.data.shape}")
    return Permute.apply(a, dims=tuple(d % ndim for d in dims) if ndim else ())


def transpose(a: Tensor, dim0: int = 0, dim1: int = 1) -> Tensor:
    """`a` with two dims swapped (as torch.transpose)."""
    ndim = a.data.ndim
    for d in (dim0, dim1):
        if not -ndim <= d < ndim:
            raise IndexError(f"transpose: dim {d} is out of range for a tensor of shape "
                             f"{a.data.shape}")
    dims = list(range(ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(a, dims=tuple(dims))


def squeeze(a: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (only `dim`, when given and of size 1)."""
    shape = a.data.shape
    if dim is None:
        return reshape(a, tuple(n for n in shape if n != 1))
    d = dim % len(shape)
    if shape[d] != 1:
        return a
    return reshape(a, shape[:d] + shape[d + 1:])


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim`."""
    shape = a.data.shape
    d = dim % (len(shape) + 1)
    return reshape(a, shape[:d] + (1,) + shape[d:])


def _convert_index(index):
    """Tensor indices to arrays; and whether the index uses integer/bool arrays."""
    items = index if isinstance(index, tuple) else (index,)
    advanced = False
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.dtype.kind == "f":
                raise IndexError(f"index: indices must be integers or bools, got dtype {item.dtype}")
            # NOTE: integer arrays may repeat a place (summed by np.add.at in backward);
            # bool masks never do, so plain assignment scatters them back.
            advanced = advanced or item.dtype.kind in "iu"
        out.append(item)
    return (tuple(out) if isinstance(index, tuple) else out[0]), advanced


def getitem(a: Tensor, index) -> Tensor:
    """a[index]: basic slicing and integer/bool-array indexing, differentiable."""
    index, advanced = _convert_index(index)
    try:
        a.data[index]  # NOTE: validate here so the error names the tensor's shape
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor of shape {a.data.shape})") from None
    return GetItem.apply(a, index=index, advanced=advanced)


def concat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (as torch.cat); all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    shapes = [np.shape(t.data if isinstance(t, Tensor) else t) for t in tensors]
    ndim = len(shapes[0])
    if not -ndim <= dim < max(ndim, 1) or ndim == 0:
        raise IndexError(f"concat: dim {dim} is out of range for tensors of shape {shapes[0]}")
    d = dim % ndim
    for s in shapes[1:]:
        if len(s) != ndim or s[:d] + s[d + 1:] != shapes[0][:d] + shapes[0][d + 1:]:
            raise ValueError(f"concat: shapes {shapes} differ outside dim {dim}")
    return Concat.apply(*tensors, dim=d)


cat = concat


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new dim (as torch.stack)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = [np.shape(t.data if isinstance(t, Tensor) else t) for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    ndim = len(shapes[0]) + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} is out of range for a result with {ndim} dims")
    return Stack.apply(*tensors, dim=dim % ndim)
