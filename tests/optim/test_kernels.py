"""The optional compiled kernels give the same bits as the NumPy rules they mirror."""

import numpy as np
import pytest

from ziptieai.optim import functional, kernels

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba not installed")

CONFIGS = [
    dict(lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd, amsgrad=ams, maximize=mx,
         decoupled_weight_decay=dec)
    for lr in (1e-3, 0.05) for b1, b2 in ((0.9, 0.999), (0.3, 0.9)) for eps in (1e-8,)
    for wd in (0.0, 0.1) for ams in (False, True) for mx in (False, True)
    for dec in (False, True)
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True])
def test_adam_kernel_equals_numpy_rule_bit_for_bit(dtype, parallel, monkeypatch):
    size = 1003
    monkeypatch.setattr(kernels, "PARALLEL_MIN", 1000 if parallel else 10**9)
    for config in CONFIGS:
        rng = np.random.default_rng(0)
        p0 = rng.standard_normal(size).astype(dtype)
        a = [p0.copy(), np.zeros(size, dtype), np.zeros(size, dtype), np.zeros(size, dtype)]
        b = [x.copy() for x in a]
        for step in range(1, 6):
            g = (rng.standard_normal(size) * 10.0 ** rng.integers(-6, 2)).astype(dtype)
            functional.adam_step(a[0], g, a[1], a[2], a[3], step=step, **config)
            kernels.adam_flat(b[0], g, b[1], b[2], b[3], step=step, **config)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=str(config))
