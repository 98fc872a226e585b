"""Bundled data: shapes, dtypes, ranges, reproducible splits, integrity checks, bad names."""

import shutil

import numpy as np
import pytest

from ziptieai import Tensor
from ziptieai.data import DataFileError, DataLoader, TensorDataset, available, datasets, load


def test_available_lists_the_bundled_sets():
    assert available() == ["diabetes", "digits"]


def test_digits_shapes_range_classes_and_stratified_split():
    X_train, y_train, X_test, y_test = split = load("digits")
    assert all(isinstance(t, Tensor) for t in split)
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    X = np.concatenate([X_train.data, X_test.data])
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(X * 16), np.arange(17))   # pixels 0..16, / 16
    y = np.concatenate([y_train.data, y_test.data])
    assert np.unique(y).tolist() == list(range(10))
    assert np.bincount(y).sum() == 1797 and np.bincount(y).min() >= 174
    # stratified: each class's test share is within one item of 20 %
    share = np.bincount(y_test.data) - 0.2 * np.bincount(y)
    assert np.abs(share).max() <= 1
    assert split.info["image_shape"] == (8, 8) and split.info["num_classes"] == 10
    # not sorted by class
    assert len(np.unique(y_train.data[:20])) > 3


def test_splits_are_reproducible_and_seeded():
    a, b, c = load("digits", seed=1), load("digits", seed=1), load("digits", seed=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)
    assert not np.array_equal(a.y_train.data, c.y_train.data)
    assert load("digits", test_size=0.5).X_test.shape == (899, 64)
    d = load("diabetes", seed=3)
    again = load("diabetes", seed=3)
    np.testing.assert_array_equal(d.info["test_indices"], again.info["test_indices"])
    train, test = d.info["train_indices"], d.info["test_indices"]
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 442


def test_diabetes_standardized_with_train_statistics():
    split = load("diabetes")
    X_train, y_train, X_test, y_test = split
    assert X_train.shape == (353, 10) and X_test.shape == (89, 10)
    assert y_train.shape == (353, 1) and y_test.shape == (89, 1)
    assert X_train.dtype == np.float32 and y_train.dtype == np.float32
    np.testing.assert_allclose(X_train.data.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(X_train.data.std(0), 1, rtol=1e-5)
    np.testing.assert_allclose(y_train.data.mean(), 0, atol=1e-5)
    assert abs(X_test.data.mean()) > 1e-4                      # test statistics not used
    info = split.info
    raw = np.concatenate([y_train.data, y_test.data]) * info["target_std"] + info["target_mean"]
    np.testing.assert_allclose(raw.mean(), 152.133, atol=1e-3)  # the published mean score
    assert raw.min() > 24 and raw.max() < 347
    assert info["feature_names"][:3] == ("age", "sex", "bmi") and info["task"] == "regression"


def test_loaded_tensors_feed_a_loader():
    X_train, y_train, _, _ = load("digits")
    x, y = next(iter(DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True,
                                generator=0)))
    assert x.shape == (64, 64) and y.shape == (64,)


def test_unknown_name_lists_the_available():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; available: 'diabetes', 'dig"):
        load("mnist")


@pytest.mark.parametrize("kwargs, match", [
    ({"test_size": 0}, "test_size=0"), ({"test_size": 1.0}, "test_size=1.0"),
    ({"test_size": True}, "test_size=True"), ({"seed": -1}, "seed=-1"), ({"seed": 1.5}, "seed=1.5"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load("digits", **kwargs)


def _copy_files(tmp_path):
    for name in datasets.SHA256:
        shutil.copy(datasets.DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_a_good_copy_loads_from_data_dir(tmp_path):
    np.testing.assert_array_equal(load("digits", data_dir=_copy_files(tmp_path)).X_test.data,
                                  load("digits").X_test.data)


def test_corrupt_file_is_refused(tmp_path):
    folder = _copy_files(tmp_path)
    raw = bytearray((folder / "digits.csv.gz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF                                   # one flipped byte
    (folder / "digits.csv.gz").write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"digits\.csv\.gz is corrupt: sha256"):
        load("digits", data_dir=folder)
    (folder / "diabetes_target.csv.gz").write_bytes(b"")         # truncated to nothing
    with pytest.raises(DataFileError, match="diabetes_target.csv.gz is corrupt"):
        load("diabetes", data_dir=folder)


def test_missing_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)           # the bundled folder, emptied
    with pytest.raises(DataFileError, match=r"digits\.csv\.gz is missing"):
        load("digits")
