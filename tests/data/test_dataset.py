"""Dataset, TensorDataset, Subset, random_split: items, sizes, fractions, seeds, errors."""

import numpy as np
import pytest

from ziptieai import Tensor, manual_seed
from ziptieai.data import Dataset, Subset, TensorDataset, random_split


def _ds(n=10):
    return TensorDataset(np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.arange(n))


def test_tensor_dataset_items_are_tuples_of_tensors():
    ds = _ds(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.shape == (2,) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.data, [6, 7])
    assert int(y) == 3 and not x.requires_grad
    assert int(ds[-1][1]) == 4


def test_tensor_dataset_size_mismatch_names_the_sizes():
    with pytest.raises(ValueError, match=r"\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.float32(1.0))


def test_dataset_base_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_maps_indices():
    sub = Subset(_ds(), [7, 2, 9])
    assert len(sub) == 3
    assert [int(sub[i][1]) for i in range(3)] == [7, 2, 9]


@pytest.mark.parametrize("lengths, sizes", [
    ([7, 3], [7, 3]), ([10, 0], [10, 0]), ([0.7, 0.3], [7, 3]),
    ([0.5, 0.25, 0.25], [6, 2, 2]),   # floor gives 5, 2, 2; the leftover goes to the first
    ([1 / 3] * 3, [4, 3, 3]),
])
def test_random_split_sizes_disjoint_and_complete(lengths, sizes):
    parts = random_split(_ds(), lengths, generator=0)
    assert [len(p) for p in parts] == sizes
    everything = np.concatenate([p.indices for p in parts])
    assert sorted(everything.tolist()) == list(range(10))


def test_random_split_is_reproducible_and_seed_dependent():
    a = [p.indices for p in random_split(_ds(100), [60, 40], generator=np.random.default_rng(5))]
    b = [p.indices for p in random_split(_ds(100), [60, 40], generator=np.random.default_rng(5))]
    c = [p.indices for p in random_split(_ds(100), [60, 40], generator=6)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    manual_seed(3)
    d = random_split(_ds(100), [60, 40])[0].indices
    manual_seed(3)
    np.testing.assert_array_equal(d, random_split(_ds(100), [60, 40])[0].indices)


def test_random_split_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n in (1, 7, 10, 101):
        for lengths in ([0.5, 0.5], [0.8, 0.1, 0.1], [1 / 3] * 3, [0.25] * 4, [0.9, 0.1]):
            if min(lengths) * n < 1:
                continue   # torch warns about empty splits
            want = [len(p) for p in torch.utils.data.random_split(range(n), lengths)]
            assert [len(p) for p in random_split(_ds(n), lengths, generator=0)] == want


@pytest.mark.parametrize("lengths, match", [
    ([8, -2], r"lengths\[1\]=-2"),
    ([3, 4], r"sum to 7, but the dataset has 10"),
    ([0.5, 0.3], r"neither item counts .* nor fractions"),
    ([1.5, -0.5], r"lengths\[1\]=-0.5"),
    ([float("nan"), 1], r"lengths\[0\]=nan"),
])
def test_random_split_bad_lengths(lengths, match):
    with pytest.raises(ValueError, match=match):
        random_split(_ds(), lengths, generator=0)


def test_random_split_bad_generator():
    with pytest.raises(TypeError, match="generator must be"):
        random_split(_ds(), [5, 5], generator="seed")
