"""Small real datasets bundled with the package (no download, ever): `load(name)`, `available()`.

    digits     1,797 8×8 images of handwritten digits, 10 classes (UCI, Alpaydin & Kaynak 1998)
    diabetes   442 patients, 10 baseline features, a disease-progression score (Efron et al. 2004)

Both files are scikit-learn's copies (BSD-3-Clause); see files/README.md for the attribution.
Every file's sha256 is recorded below and checked on each load, so a truncated or altered copy
is refused with `DataFileError` instead of training on garbage.
What does not live here: downloading, caching, image transforms.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import numbers
from pathlib import Path

import numpy as np

from ..tensor import Tensor

DATA_DIR = Path(__file__).resolve().parent / "files"

SHA256 = {
    "digits.csv.gz": "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
    "diabetes_data_raw.csv.gz": "7fc0ded571454b1982210d3bb43f0aca44eae01a0b8654a3b24022bdb6b38009",
    "diabetes_target.csv.gz": "8e53f65eb811df43c206f3534bb3af0e5fed213bc37ed6ba36310157d6023803",
}

DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


class DataFileError(OSError):
    """A bundled data file is missing, corrupt (sha256 mismatch) or unreadable."""


class Split(tuple):
    """(X_train, y_train, X_test, y_test) as Tensors, plus `info`, a dict about the data.

    Unpacks like the 4-tuple it is; the fields are also attributes.
    """

    def __new__(cls, X_train, y_train, X_test, y_test, info: dict):
        self = super().__new__(cls, (X_train, y_train, X_test, y_test))
        self.info = info
        return self

    X_train = property(lambda self: self[0])
    y_train = property(lambda self: self[1])
    X_test = property(lambda self: self[2])
    y_test = property(lambda self: self[3])


def available() -> list[str]:
    """Names `load` accepts, sorted."""
    return sorted(_LOADERS)


def load(name: str, test_size: float = 0.2, seed: int = 0, *, data_dir=None) -> Split:
    """Load a bundled dataset as a fixed, seeded train/test split of float32/int64 Tensors.

    Returns a `Split`: X_train, y_train, X_test, y_test (unpack it) and `.info`.
      "digits":   X (N, 64) float32 = pixel / 16 in [0, 1] (row-major 8×8 images), y (N,) int64
                  in 0..9; split stratified by class. 1,437 train / 360 test at test_size=0.2.
      "diabetes": X (N, 10) float32 standardized with the TRAIN split's mean and std (ddof=0);
                  y (N, 1) float32, the score standardized the same way (shape (N, 1) to match
                  a Linear(·, 1) output). `info["target_mean"]`, `info["target_std"]` undo it:
                  score = y · target_std + target_mean. Random split. 353 train / 89 test.
    `test_size` is the test fraction (the test count is ceil(test_size · N)), `seed` fixes the
    split. `data_dir` reads the files from another folder (tests use it; default: the bundled).

    >>> X_train, y_train, X_test, y_test = load("digits")
    >>> X_train.shape, y_test.shape
    ((1437, 64), (360,))
    """
    if name not in _LOADERS:
        raise ValueError(f"load: unknown dataset {name!r}; available: "
                         f"{', '.join(map(repr, available()))}")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) \
            or not 0 < test_size < 1:
        raise ValueError(f"load: test_size={test_size!r} must be a fraction in (0, 1)")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"load: seed={seed!r} must be a non-negative int")
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    return _LOADERS[name](folder, float(test_size), int(seed))


def read_file(filename: str, data_dir=None) -> bytes:
    """A bundled file's decompressed bytes, after checking its sha256 against `SHA256`."""
    path = (DATA_DIR if data_dir is None else Path(data_dir)) / filename
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(f"data file {path} is missing; the package's data files were not "
                            f"installed (reinstall ziptieai)") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256[filename]:
        raise DataFileError(f"data file {path} is corrupt: sha256 {digest[:16]}… differs from "
                            f"the recorded {SHA256[filename][:16]}…; reinstall ziptieai")
    return gzip.decompress(raw)


def _table(filename: str, folder: Path, delimiter=None) -> np.ndarray:
    return np.loadtxt(io.BytesIO(read_file(filename, folder)), delimiter=delimiter, ndmin=2)


def _load_digits(folder: Path, test_size: float, seed: int) -> Split:
    table = _table("digits.csv.gz", folder, delimiter=",")
    X = (table[:, :-1] / 16).astype(np.float32)
    y = table[:, -1].astype(np.int64)
    train, test = _stratified_split(y, test_size, seed)
    info = {"name": "digits", "task": "classification", "num_classes": 10,
            "image_shape": (8, 8), "train_indices": train, "test_indices": test}
    return Split(Tensor(X[train]), Tensor(y[train]), Tensor(X[test]), Tensor(y[test]), info)


def _load_diabetes(folder: Path, test_size: float, seed: int) -> Split:
    X = _table("diabetes_data_raw.csv.gz", folder)
    y = _table("diabetes_target.csv.gz", folder).reshape(-1, 1)
    train, test = _random_split(len(y), test_size, seed)
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    y_mean, y_std = float(y[train].mean()), float(y[train].std())
    X = ((X - mean) / std).astype(np.float32)
    y = ((y - y_mean) / y_std).astype(np.float32)
    info = {"name": "diabetes", "task": "regression", "feature_names": DIABETES_FEATURES,
            "feature_mean": mean, "feature_std": std, "target_mean": y_mean,
            "target_std": y_std, "train_indices": train, "test_indices": test}
    return Split(Tensor(X[train]), Tensor(y[train]), Tensor(X[test]), Tensor(y[test]), info)


def _random_split(n: int, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n_test = min(max(math.ceil(test_size * n), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    return order[n_test:], order[:n_test]


def _stratified_split(y: np.ndarray, test_size: float, seed: int):
    """Each class gives its share of the ceil(test_size·N) test items (largest remainders)."""
    n = len(y)
    n_test = min(max(math.ceil(test_size * n), 1), n - 1)
    classes, counts = np.unique(y, return_counts=True)
    exact = n_test * counts / n
    quota = np.floor(exact).astype(np.int64)
    extra = np.argsort(-(exact - quota), kind="stable")[: n_test - quota.sum()]
    quota[extra] += 1
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c, q in zip(classes, quota):
        members = rng.permutation(np.flatnonzero(y == c))
        test.append(members[:q])
        train.append(members[q:])
    # NOTE: shuffled again so the split is not sorted by class (a loader without shuffle, or
    # a look at the first rows, would otherwise see one digit only).
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


_LOADERS = {"digits": _load_digits, "diabetes": _load_diabetes}
