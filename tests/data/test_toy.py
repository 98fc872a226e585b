"""Toy data: shapes, dtypes, labels, seeded reproducibility, bad arguments."""

import numpy as np
import pytest

from ziptieai.data import make_blobs, make_circles, make_moons, make_spirals


def test_moons_shapes_labels_and_seed():
    X, y = make_moons(101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert sorted(np.unique(y)) == [0, 1] and abs(int(y.sum()) - 50) <= 1
    X2, y2 = make_moons(101, seed=3)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, make_moons(101, seed=4)[0])
    with pytest.raises(ValueError, match="n=1"):
        make_moons(1)


@pytest.mark.parametrize("make, kwargs, n_features, counts", [
    (make_moons, {"n": 101}, 2, [50, 51]),
    (make_circles, {"n": 101}, 2, [51, 50]),
    (make_spirals, {"n": 301, "n_classes": 3}, 2, [101, 100, 100]),
    (make_spirals, {"n": 40, "n_classes": 5}, 2, [8] * 5),
    (make_blobs, {"n": 100, "centers": 3}, 2, [34, 33, 33]),
    (make_blobs, {"n": 50, "centers": 2, "n_features": 5}, 5, [25, 25]),
    (make_blobs, {"n": 30, "centers": [[0, 0, 0], [5, 5, 5]]}, 3, [15, 15]),
])
def test_shapes_dtypes_labels_and_seeds(make, kwargs, n_features, counts):
    X, y = make(**kwargs, seed=1)
    n = sum(counts)
    assert X.shape == (n, n_features) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == counts
    assert np.isfinite(X).all()
    assert y[: len(counts) * 3].tolist() != sorted(y[: len(counts) * 3].tolist())   # shuffled
    X2, y2 = make(**kwargs, seed=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make(**kwargs, seed=2)[0])


def test_geometry():
    X, y = make_circles(200, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1, rtol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, rtol=1e-6)
    X, y = make_spirals(300, noise=0.0)
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1 + 1e-6
    centers = np.array([[-5.0, 0.0], [5.0, 0.0]])
    X, y = make_blobs(400, centers=centers, cluster_std=0.5)
    for j in range(2):
        np.testing.assert_allclose(X[y == j].mean(0), centers[j], atol=0.15)


@pytest.mark.parametrize("call, match", [
    (lambda: make_circles(1), "make_circles: n=1"),
    (lambda: make_circles(10, factor=1.0), "factor=1.0"),
    (lambda: make_circles(10, noise=-0.1), "noise=-0.1"),
    (lambda: make_spirals(10, n_classes=1), "n_classes=1"),
    (lambda: make_spirals(3, n_classes=4), "n_classes=4"),
    (lambda: make_blobs(0), "make_blobs: n=0"),
    (lambda: make_blobs(10, centers=0), "centers=0"),
    (lambda: make_blobs(10, n_features=0), "n_features=0"),
    (lambda: make_blobs(10, centers=[1.0, 2.0]), r"shape \(2,\)"),
    (lambda: make_blobs(10, cluster_std=-1), "cluster_std=-1"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
