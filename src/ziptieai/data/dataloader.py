"""`DataLoader`: batches from a dataset, shuffled per epoch from one seeded generator, resumable.

What lives here: batching, per-epoch shuffling, collation by stacking, and the loader's
position (`state_dict`), so a run killed mid-epoch resumes with the same batch order.
What does not: worker processes, samplers, pinned memory (one process on a CPU needs none).

How an epoch's order is drawn (deterministic, torch's scheme):
    at the start of each epoch (each `iter(loader)`), when `shuffle=True`, the loader draws ONE
    integer from the generator (`generator` if given, else `ziptieai.random.default_generator()`,
    looked up afresh each epoch because `manual_seed` replaces it):
        seed = generator.integers(2**63);  order = np.random.default_rng(seed).permutation(N)
    so an epoch costs the shared generator exactly one draw whatever N is, and the epoch's order
    depends only on the generator's state at the epoch's start. `shuffle=False` draws nothing.

Resume state (`state_dict()`), a flat dict of ints, bools, None and one int64 array:
    epoch          index of the epoch in progress, or of the next one if none is
    next_batch     index (within the epoch) of the next batch to hand out
    in_progress    True from `iter(loader)` until the epoch's last batch has been handed out
    permutation    the epoch's order (int64 array of N) while in progress with shuffle, else None
    generator_state  the loader's own generator's `bit_generator.state` (None when it uses the
                   library generator: that one is saved with `ziptieai.random.get_rng_state()`)
    dataset_length, batch_size, drop_last, shuffle   checked on load, so positions mean the same
`load_state_dict(state)` makes the NEXT `iter(loader)` continue that epoch at `next_batch` with
the saved order; later epochs draw afresh as usual. Without a load, `iter()` in mid-epoch
abandons the epoch and starts the next one (as torch does). The epoch counts as finished as soon
as its last batch is handed out, so a checkpoint taken after the last step of an epoch resumes
at the start of the next epoch.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from ..tensor import Tensor, as_array
from .dataset import Subset, TensorDataset, as_generator


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, stacked along a new dim 0.

    Items that are tuples (TensorDataset's are) give tuples of Tensors, one per field:
    TensorDataset(X (N, d), y (N,)) → batches (X (B, d), y (B,)), B = batch_size except
    perhaps the last (dropped when `drop_last=True`). Items that are dicts give dicts; single
    arrays or numbers give one Tensor. `len(loader)` is the number of batches per epoch:
    ceil(N / batch_size), or floor with `drop_last`.

    `shuffle=True` gives a fresh order each epoch (see the module docstring for how it is drawn
    from `generator`: a `numpy.random.Generator`, an int seed, or None for the library's).

    NOTE: a TensorDataset, or a Subset (of a Subset...) of one, is batched by indexing its arrays
    with the batch's index array: one NumPy gather per tensor, no Python loop over items.

    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> [tuple(x.shape) for x, y in DataLoader(ds, batch_size=2)]
    [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator=None):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size={batch_size!r} must be a positive int")
        for name, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name}={value!r} must be True or False")
        try:
            len(dataset)
        except TypeError:
            raise TypeError(f"DataLoader: dataset of type {type(dataset).__name__} has no "
                            f"len(); give a Dataset with __len__ and __getitem__") from None
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # None stays None: the library generator is looked up at each epoch (manual_seed swaps it)
        self.generator = None if generator is None else as_generator(generator, "DataLoader")
        self._epoch = 0
        self._next_batch = 0
        self._in_progress = False
        self._order = None      # this epoch's permutation (shuffle only)
        self._resume = False    # set by load_state_dict: the next iter() continues the epoch
        self._token = None      # the live iterator; older ones refuse to go on

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if not (self._resume and self._in_progress):
            if self._in_progress:
                self._epoch += 1  # an abandoned epoch still counts
            self._start_epoch()
        self._resume = False
        self._token = token = object()
        return self._batches(token, _tensor_arrays(self.dataset))

    def _start_epoch(self) -> None:
        self._order = None
        if self.shuffle:
            seed = as_generator(self.generator, "DataLoader").integers(2**63)
            self._order = np.random.default_rng(seed).permutation(len(self.dataset))
        self._next_batch = 0
        self._in_progress = True
        if len(self) == 0:
            self._finish_epoch()

    def _finish_epoch(self) -> None:
        self._epoch += 1
        self._next_batch = 0
        self._in_progress = False
        self._order = None

    def _batches(self, token, fast):
        while True:
            if self._token is not token:
                raise RuntimeError("DataLoader: this iterator was superseded by a newer "
                                   "iter(loader) or load_state_dict(); iterate the new one")
            if not self._in_progress:
                return
            k, bs, n = self._next_batch, self.batch_size, len(self.dataset)
            if self._order is not None:
                index = self._order[k * bs:(k + 1) * bs]
            else:
                index = np.arange(k * bs, min((k + 1) * bs, n))
            if fast is not None:
                arrays, base = fast
                rows = index if base is None else base[index]
                batch = tuple(Tensor(a[rows]) for a in arrays)
            else:
                batch = collate([self.dataset[int(i)] for i in index])
            # NOTE: the position moves when the batch is handed out, so a state_dict() taken
            # while the caller works on batch k says "next is k + 1".
            self._next_batch = k + 1
            last = self._next_batch >= len(self)
            if last:
                self._finish_epoch()
            yield batch
            if last:
                return

    # ---- resume ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The loader's position: epoch, next batch, the epoch's permutation (module docstring)."""
        return {
            "epoch": self._epoch,
            "next_batch": self._next_batch,
            "in_progress": self._in_progress,
            "permutation": None if self._order is None else self._order.copy(),
            "generator_state": None if self.generator is None
            else copy.deepcopy(self.generator.bit_generator.state),
            "dataset_length": len(self.dataset),
            "batch_size": self.batch_size,
            "drop_last": self.drop_last,
            "shuffle": self.shuffle,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict()`; the next `iter(self)` continues that epoch where it stopped."""
        missing = {"epoch", "next_batch", "in_progress", "permutation", "generator_state",
                   "dataset_length", "batch_size", "drop_last", "shuffle"} - set(state)
        if missing:
            raise ValueError(f"DataLoader.load_state_dict: state lacks keys {sorted(missing)}")
        mine = {"dataset_length": len(self.dataset), "batch_size": self.batch_size,
                "drop_last": self.drop_last, "shuffle": self.shuffle}
        for key, value in mine.items():
            if state[key] != value:
                raise ValueError(f"DataLoader.load_state_dict: saved {key}={state[key]!r} but "
                                 f"this loader has {key}={value!r}; build the loader as it was")
        epoch, next_batch = int(state["epoch"]), int(state["next_batch"])
        in_progress = bool(state["in_progress"])
        if epoch < 0 or not 0 <= next_batch < max(len(self), 1) \
                or (next_batch and not in_progress):
            raise ValueError(f"DataLoader.load_state_dict: epoch={epoch}, "
                             f"next_batch={next_batch}, in_progress={in_progress} is not a "
                             f"position in a loader of {len(self)} batches")
        order = state["permutation"]
        if self.shuffle and in_progress:
            order = np.asarray(order if order is not None else [], dtype=np.int64)
            n = len(self.dataset)
            if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
                raise ValueError(f"DataLoader.load_state_dict: permutation of shape "
                                 f"{order.shape} is not a permutation of range({n})")
        elif order is not None:
            raise ValueError("DataLoader.load_state_dict: a permutation was saved, but this "
                             "loader has no shuffled epoch in progress to apply it to")
        saved_gen = state["generator_state"]
        if (saved_gen is None) != (self.generator is None):
            raise ValueError("DataLoader.load_state_dict: the state was saved from a loader "
                             f"{'with its own' if saved_gen is not None else 'without a'} "
                             f"generator, but this one has "
                             f"{'its own' if self.generator is not None else 'none'}; pass "
                             f"generator= the same way as when it was saved")
        if saved_gen is not None:
            self.generator.bit_generator.state = copy.deepcopy(saved_gen)
        self._epoch, self._next_batch, self._in_progress = epoch, next_batch, in_progress
        self._order = order if (self.shuffle and in_progress) else None
        self._resume = True
        self._token = None


def _tensor_arrays(dataset):
    """(arrays, row indices or None) when `dataset` is a TensorDataset or Subsets of one."""
    rows = None
    while type(dataset).__getitem__ is Subset.__getitem__ and isinstance(dataset, Subset):
        rows = dataset.indices if rows is None else dataset.indices[rows]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) \
            and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return tuple(t.data for t in dataset.tensors), rows
    return None


def collate(items: list):
    """Stack a list of items into a batch along a new dim 0.

    Tuples/lists of fields → a tuple of Tensors, one per field; dicts → a dict of Tensors;
    a Tensor, array or number → one Tensor. Numbers follow `tensor()`'s dtype rules.
    """
    first = items[0]
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in items):
            raise ValueError(f"DataLoader: items have different numbers of fields: "
                             f"{sorted({len(item) for item in items})}")
        return tuple(_stack([item[j] for item in items], f"field {j}") for j in range(len(first)))
    if isinstance(first, dict):
        return {key: _stack([item[key] for item in items], f"key {key!r}") for key in first}
    return _stack(items, "items")


def _stack(values: list, what: str) -> Tensor:
    arrays = [as_array(v) for v in values]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"DataLoader: cannot stack {what}: shapes differ within a batch: "
                         f"{sorted(shapes)}")
    return Tensor(np.stack(arrays))
