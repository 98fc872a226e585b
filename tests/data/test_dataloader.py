"""DataLoader: batch shapes, len, drop_last, shuffling by seed and by epoch, mid-epoch resume."""

import numpy as np
import pytest

from ziptieai import Tensor, manual_seed
from ziptieai.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def _ds(n=10):
    return TensorDataset(np.arange(3 * n, dtype=np.float32).reshape(n, 3), np.arange(n))


def _order(loader):
    """One epoch's labels, in order (labels are the row indices)."""
    return np.concatenate([y.data for _, y in loader])


class Pairs(Dataset):
    """A general dataset (no fast path): item i is (i·[1, 1] as a list, i as an int)."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return [float(i), float(i)], i


@pytest.mark.parametrize("n, bs, drop_last, shapes", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, False, [3, 3, 3]),
    (10, 10, False, [10]), (10, 32, False, [10]), (10, 32, True, []), (10, 1, False, [1] * 10),
])
def test_batch_shapes_len_and_drop_last(n, bs, drop_last, shapes):
    loader = DataLoader(_ds(n), batch_size=bs, drop_last=drop_last)
    assert len(loader) == len(shapes)
    batches = list(loader)
    assert [x.shape for x, _ in batches] == [(s, 3) for s in shapes]
    assert all(isinstance(b, tuple) and isinstance(b[0], Tensor) for b in batches)
    assert all(x.dtype == np.float32 and y.dtype == np.int64 for x, y in batches)
    if shapes:
        assert _order(loader).tolist() == list(range(sum(shapes)))   # no shuffle: in order
        np.testing.assert_array_equal(batches[0][0].data, _ds(n).tensors[0].data[:shapes[0]])


def test_batches_do_not_alias_the_dataset():
    ds = _ds(4)
    (x, _), = DataLoader(ds, batch_size=4)
    x.data[:] = -1
    assert ds.tensors[0].data.min() == 0


def test_shuffle_each_index_once_per_epoch_fresh_each_epoch():
    loader = DataLoader(_ds(50), batch_size=8, shuffle=True, generator=0)
    epochs = [_order(loader) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], np.arange(50))


def test_shuffle_reproducible_by_seed_and_different_across_seeds():
    def run(gen):
        loader = DataLoader(_ds(50), batch_size=8, shuffle=True, generator=gen)
        return [_order(loader) for _ in range(2)]
    a, b = run(np.random.default_rng(1)), run(np.random.default_rng(1))
    c = run(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    # without a generator: the library's, reseeded by manual_seed
    manual_seed(7)
    d = run(None)
    manual_seed(7)
    assert all(np.array_equal(x, y) for x, y in zip(d, run(None)))
    manual_seed(8)
    assert not np.array_equal(d[0], run(None)[0])


def test_one_draw_per_epoch_from_the_generator():
    gen = np.random.default_rng(0)
    loader = DataLoader(_ds(1000), batch_size=100, shuffle=True, generator=gen)
    ref = np.random.default_rng(0)
    first = _order(loader)
    want = np.random.default_rng(ref.integers(2**63)).permutation(1000)
    np.testing.assert_array_equal(first, want)
    assert gen.bit_generator.state == ref.bit_generator.state
    list(DataLoader(_ds(10), batch_size=5, shuffle=False, generator=gen))   # no shuffle: no draw
    assert gen.bit_generator.state == ref.bit_generator.state


def test_subset_fast_path_matches_item_by_item():
    ds = _ds(30)
    train, _ = random_split(ds, [20, 10], generator=3)
    inner = Subset(train, np.arange(19, -1, -2))            # a Subset of a Subset
    got = np.concatenate([x.data for x, _ in DataLoader(inner, batch_size=4)])
    want = np.stack([inner[i][0].data for i in range(len(inner))])
    np.testing.assert_array_equal(got, want)


def test_general_dataset_collates_by_stacking():
    batches = list(DataLoader(Pairs(), batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 2), (3, 2), (1, 2)]
    x, y = batches[1]
    assert x.dtype == np.float32 and y.dtype == np.int64 and y.data.tolist() == [3, 4, 5]
    loader = DataLoader(Pairs(), batch_size=7, shuffle=True, generator=0)
    assert sorted(next(iter(loader))[1].data.tolist()) == list(range(7))


def test_general_dataset_single_and_dict_items():
    class Single(Pairs):
        def __getitem__(self, i):
            return np.full(2, i, np.float64)

    class Dicts(Pairs):
        def __getitem__(self, i):
            return {"x": np.ones(2) * i, "y": i}

    batch = next(iter(DataLoader(Single(), batch_size=4)))
    assert isinstance(batch, Tensor) and batch.shape == (4, 2) and batch.dtype == np.float64
    batch = next(iter(DataLoader(Dicts(), batch_size=4)))
    assert batch["x"].shape == (4, 2) and batch["y"].data.tolist() == [0, 1, 2, 3]


def test_ragged_items_error_names_the_shapes():
    class Ragged(Pairs):
        def __getitem__(self, i):
            return (np.zeros(i % 2 + 1),)
    with pytest.raises(ValueError, match=r"field 0.*\(1,\), \(2,\)"):
        next(iter(DataLoader(Ragged(), batch_size=2)))


@pytest.mark.parametrize("kwargs, err, match", [
    ({"batch_size": 0}, ValueError, "batch_size=0"),
    ({"batch_size": -3}, ValueError, "batch_size=-3"),
    ({"batch_size": 2.0}, ValueError, "batch_size=2.0"),
    ({"shuffle": "yes"}, TypeError, "shuffle='yes'"),
    ({"generator": 1.5}, TypeError, "generator must be"),
])
def test_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        DataLoader(_ds(), **kwargs)


def test_dataset_without_len_is_refused():
    with pytest.raises(TypeError, match="has no len"):
        DataLoader(iter(range(3)))


# ---- resume ---------------------------------------------------------------------------------
@pytest.mark.parametrize("own_generator", [True, False])
def test_mid_epoch_resume_continues_with_the_same_batches(own_generator):
    def make():
        return DataLoader(_ds(50), batch_size=8, shuffle=True,
                          generator=np.random.default_rng(11) if own_generator else None)

    manual_seed(5)
    full = make()
    reference = [[y.data.tolist() for _, y in full] for _ in range(3)]   # 3 epochs, 7 batches

    manual_seed(5)
    first = make()
    list(first)                                   # epoch 0
    it = iter(first)                              # epoch 1: take 3 batches, then "crash"
    seen = [next(it)[1].data.tolist() for _ in range(3)]
    state = first.state_dict()
    from ziptieai.random import get_rng_state, set_rng_state
    rng_state = get_rng_state()
    assert state["epoch"] == 1 and state["next_batch"] == 3 and state["in_progress"]
    assert sorted(state["permutation"].tolist()) == list(range(50))

    manual_seed(99)                               # a fresh process, a different generator
    resumed = make()
    set_rng_state(rng_state)
    resumed.load_state_dict(state)
    rest = [y.data.tolist() for _, y in resumed]
    assert seen + rest == reference[1]
    assert [y.data.tolist() for _, y in resumed] == reference[2]   # the next epoch too
    assert resumed.state_dict()["epoch"] == 3


def test_state_after_last_batch_resumes_at_the_next_epoch():
    loader = DataLoader(_ds(10), batch_size=5, shuffle=True, generator=0)
    it = iter(loader)
    next(it), next(it)                            # both batches handed out, loop not ended
    state = loader.state_dict()
    assert (state["epoch"], state["next_batch"], state["in_progress"]) == (1, 0, False)
    assert state["permutation"] is None
    expected = _order(loader)
    again = DataLoader(_ds(10), batch_size=5, shuffle=True, generator=123)
    again.load_state_dict(state)
    np.testing.assert_array_equal(_order(again), expected)


def test_unshuffled_resume_and_abandoned_epoch():
    loader = DataLoader(_ds(10), batch_size=3)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    assert state["permutation"] is None and state["next_batch"] == 1
    assert _order(loader).tolist() == list(range(10))       # iter() again: a new epoch
    assert loader.state_dict()["epoch"] == 2
    other = DataLoader(_ds(10), batch_size=3)
    other.load_state_dict(state)
    assert _order(other).tolist() == list(range(3, 10))
    with pytest.raises(RuntimeError, match="superseded"):
        next(it)


@pytest.mark.parametrize("change, match", [
    ({"batch_size": 4}, "saved batch_size=4 but this loader has batch_size=8"),
    ({"dataset_length": 49}, "dataset_length=49"),
    ({"next_batch": 7}, "next_batch=7"),
    ({"permutation": np.zeros(50, np.int64)}, "not a permutation of range"),
    ({"generator_state": None}, "without a generator"),
])
def test_load_state_dict_refuses_mismatches(change, match):
    loader = DataLoader(_ds(50), batch_size=8, shuffle=True, generator=0)
    next(iter(loader))
    state = {**loader.state_dict(), **change}
    with pytest.raises(ValueError, match=match):
        DataLoader(_ds(50), batch_size=8, shuffle=True, generator=0).load_state_dict(state)
