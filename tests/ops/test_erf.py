"""erf (the vectorized fdlibm port behind exact GELU) against math.erf, element by element."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ziptieai as zt
from ziptieai import nn
from ziptieai.nn import functional as F
from ziptieai.ops.elementwise import erf

# NOTE: two ulps at most, relative (2·eps): ours is within 1 ulp of the true erf and so is the
# C library's, so any libm agrees within 2 (glibc: 1 ulp, max 2.2e-16 relative).
MAX_REL = 2 * np.finfo(np.float64).eps
# fdlibm's branch boundaries on |x| (2**-28, 0.84375, 1.25, its 1/0.35 split, 6) and the
# edge of its subnormal-safe tiny formula (high word 0x00800000)
BOUNDARIES = (2.0**-28, 0.84375, 1.25, 2.8571434020996094, 6.0, 2.0**-1015)


def reference(x: np.ndarray) -> np.ndarray:
    return np.array([math.erf(v) for v in x.ravel()], dtype=np.float64).reshape(x.shape)


def assert_close_to_math_erf(x: np.ndarray) -> None:
    x = np.asarray(x, dtype=np.float64)
    got, ref = erf(x), reference(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    got, ref = got[ok], ref[ok]
    # exact where C's erf is exactly ±1 or 0 (signed zeros kept)
    exact = (np.abs(ref) == 1) | (ref == 0)
    np.testing.assert_array_equal(got[exact], ref[exact])
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))
    # relative error; for subnormal results (tiny x) relative error is meaningless: 1 ulp
    normal = np.abs(ref) >= np.finfo(np.float64).tiny
    rel = np.abs(got[normal] - ref[normal]) / np.abs(ref[normal])
    if rel.size:
        worst = int(np.argmax(rel))
        assert rel[worst] <= MAX_REL, f"rel err {rel[worst]:.3g} at x={x[ok][normal][worst]!r}"
    ulps = np.abs(got[~normal] - ref[~normal]) / np.spacing(np.abs(ref[~normal]))
    assert np.all(ulps <= 1)


def around(b: float, k: int = 4) -> np.ndarray:
    """b and its k neighbours on either side, both signs."""
    pts = [b]
    lo = hi = b
    for _ in range(k):
        lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
        pts += [lo, hi]
    pts = np.array(pts)
    return np.concatenate([pts, -pts])


def test_dense_grid_and_branch_boundaries():
    grid = np.linspace(-7, 7, 200_001)
    edges = np.concatenate([around(b) for b in BOUNDARIES])
    assert_close_to_math_erf(np.concatenate([grid, edges]))


@pytest.mark.parametrize("lo,hi", [(-300, -8), (-8, 0), (0, 1), (1, 300)])
def test_random_scales(lo, hi):
    rng = np.random.default_rng(abs(lo) + hi)
    x = rng.choice([-1.0, 1.0], 2_500) * 10.0 ** rng.uniform(lo, hi, 2_500)
    assert_close_to_math_erf(x)


def test_subnormals():
    rng = np.random.default_rng(3)
    tiny = np.finfo(np.float64).smallest_subnormal
    x = rng.integers(1, 2**52, 2_000) * tiny
    x = np.concatenate([x, -x, [tiny, -tiny, 2**52 * tiny, np.finfo(np.float64).tiny]])
    assert_close_to_math_erf(x)


def test_specials():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 6.0, -6.0, 30.0, -1e308])
    got = erf(x)
    np.testing.assert_array_equal(got[:4], [0.0, -0.0, 1.0, -1.0])
    assert not np.signbit(got[0]) and np.signbit(got[1])
    assert np.isnan(got[4])
    np.testing.assert_array_equal(got[5:], [1.0, -1.0, 1.0, -1.0])
    assert_close_to_math_erf(x)


@settings(max_examples=200)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_hypothesis_any_float64(values):
    assert_close_to_math_erf(np.array(values, dtype=np.float64))


def test_float32_in_float32_out():
    x = np.linspace(-7, 7, 20_001, dtype=np.float32)
    x = np.concatenate([x, np.float32(BOUNDARIES[:5]), -np.float32(BOUNDARIES[:5])])
    got = erf(x)
    assert got.dtype == np.float32
    want = np.array([np.float32(math.erf(float(v))) for v in x], dtype=np.float32)
    ulps = np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want))
    assert np.all(ulps <= 1)


@pytest.mark.parametrize("shape", [(), (0,), (2, 3, 4)])
def test_shapes(shape):
    x = np.random.default_rng(0).normal(0, 2, shape)
    got = erf(x)
    assert isinstance(got, np.ndarray) and got.shape == shape and got.dtype == np.float64
    np.testing.assert_allclose(got, reference(x), rtol=MAX_REL, atol=0)


def test_zero_d_input_gives_zero_d_array():
    for x in (np.float64(0.5), np.array(0.5), 0.5, np.float32(-0.5)):
        got = erf(x)
        assert type(got) is np.ndarray and got.ndim == 0
    assert erf(np.float32(-0.5)).dtype == np.float32


def test_dtypes_and_input_untouched():
    assert erf(np.arange(-3, 4)).dtype == np.float64
    np.testing.assert_allclose(erf(np.arange(-3, 4)), reference(np.arange(-3.0, 4.0)),
                               rtol=MAX_REL, atol=0)
    assert erf([True, False]).dtype == np.float64
    assert erf(np.array([0.5], dtype=np.float16)).dtype == np.float16
    x = np.random.default_rng(1).normal(0, 3, (4, 5))[:, ::2]  # non-contiguous
    before = x.copy()
    np.testing.assert_allclose(erf(x), reference(x), rtol=MAX_REL, atol=0)
    np.testing.assert_array_equal(x, before)


def test_exact_gelu_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0, 1, 3000), rng.uniform(-10, 10, 3000),
                        [0.0, -0.0, 1e-300, -1e-300, 6.0, -6.0, 10.0, -10.0]]).reshape(-1, 8)
    want = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    for out in (F.gelu(zt.tensor(x)), nn.GELU()(zt.tensor(x))):
        np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-300)
    # and the gradient: Φ(x) + x·φ(x)
    t = zt.tensor(x, requires_grad=True)
    F.gelu(t).sum().backward()
    tx = torch.from_numpy(x).requires_grad_()
    torch.nn.functional.gelu(tx).sum().backward()
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_transposed_and_fortran_ordered_input():
    x = np.random.default_rng(2).normal(0, 2, (3, 4))
    for arr in (x.T, np.asfortranarray(x), x.T.astype(np.float32)):
        got = erf(arr)
        want = np.vectorize(math.erf)(arr.astype(np.float64)).astype(arr.dtype)
        np.testing.assert_allclose(got, want, rtol=MAX_REL if arr.dtype == np.float64 else 1e-7)
    torch = pytest.importorskip("torch")
    t = zt.tensor(x, requires_grad=True)
    F.gelu(t.T).sum().backward()
    ref = torch.tensor(x, requires_grad=True)
    torch.nn.functional.gelu(ref.T).sum().backward()
    np.testing.assert_allclose(t.grad, ref.grad.numpy(), rtol=1e-12)
