"""Datasets as torch has them: `Dataset`, `TensorDataset`, `Subset`, `random_split`.

A dataset is anything with `__len__` and `__getitem__(i)` returning one sample. Batching and
shuffling live in `dataloader.py`; bundled real data in `datasets.py`; generated 2-D sets in
`toy.py`. No transforms, no `ConcatDataset`, no iterable-style datasets: not needed yet.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np

from ..random import default_generator
from ..tensor import Tensor


class Dataset:
    """The base class: subclasses define `__getitem__(index)` (one sample) and `__len__()`.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return (float(i), float(i * i))
    >>> len(Squares()), Squares()[3]
    (4, (3.0, 9.0))
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are rows: item `i` is `tuple(t[i] for t in tensors)`.

    All tensors share their first dimension N: tensors (N, ...), (N, ...) → items ((...), (...)).
    Arrays and nested lists are accepted and made Tensors (`tensor()`'s dtype rules). Items are
    new Tensors that do not require grad (data, not parameters).

    >>> ds = TensorDataset(np.zeros((5, 2), np.float32), np.arange(5))
    >>> len(ds), ds[4][0].shape, int(ds[4][1])
    (5, (2,), 4)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            shapes = [t.shape for t in self.tensors]
            raise ValueError(f"TensorDataset: every tensor needs a first dimension, got shapes "
                             f"{shapes}")
        sizes = [t.shape[0] for t in self.tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: tensors must have the same size in dim 0, got sizes "
                             f"{sizes}")

    def __getitem__(self, index) -> tuple:
        return tuple(Tensor(t.data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of `dataset` at `indices`, in that order: `Subset(ds, idx)[i] == ds[idx[i]]`."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


def as_generator(generator, where: str) -> np.random.Generator:
    """A NumPy Generator from `generator`: a Generator, an int seed, or None (the library's).

    NOTE: None is resolved at each call, never cached, because `manual_seed` replaces the
    library's generator object.
    """
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool) \
            and generator >= 0:
        return np.random.default_rng(int(generator))
    raise TypeError(f"{where}: generator must be a numpy.random.Generator, a non-negative int "
                    f"seed or None, got {generator!r}")


def _split_lengths(n: int, lengths) -> list[int]:
    """torch's rule: fractions summing to 1 become floor(n·f) each, the remainder handed out
    one at a time from the first split; otherwise the lengths are item counts summing to n."""
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if not isinstance(length, numbers.Real) or isinstance(length, bool) or length < 0 \
                or not math.isfinite(length):
            raise ValueError(f"random_split: lengths[{i}]={length!r} must be a non-negative "
                             f"count or fraction")
    total = sum(lengths)
    if lengths and math.isclose(total, 1) and total <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if any(int(length) != length for length in lengths):
        raise ValueError(f"random_split: lengths {lengths} are neither item counts summing to "
                         f"len(dataset)={n} nor fractions summing to 1")
    counts = [int(length) for length in lengths]
    if sum(counts) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(counts)}, but the dataset "
                         f"has {n} items; give counts summing to {n} or fractions summing to 1")
    return counts


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    `lengths` are item counts summing to `len(dataset)`, or fractions summing to 1 (as torch:
    each split gets floor(n·fraction), the leftover items go one each to the first splits).
    One permutation of range(n) is drawn from `generator` (a `numpy.random.Generator` or an int
    seed; default: ziptieai's generator, see `manual_seed`) and cut in order.

    >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], generator=0)
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = as_generator(generator, "random_split").permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
