"""Toy data: shapes, labels, seeded reproducibility."""

import numpy as np
import pytest

from ziptieai.data import make_moons


def test_moons_shapes_labels_and_seed():
    X, y = make_moons(101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert sorted(np.unique(y)) == [0, 1] and abs(int(y.sum()) - 50) <= 1
    X2, y2 = make_moons(101, seed=3)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, make_moons(101, seed=4)[0])
    with pytest.raises(ValueError, match="n=1"):
        make_moons(1)
