"""Generic op tests over the OpSpec table: forward vs NumPy, gradcheck (fixed samples and
hypothesis), torch parity in float64, grad shapes/dtypes, non-contiguous inputs, and a
meta-test that every op class has a row."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ziptieai as zt
from ziptieai.autograd.function import Function
from ziptieai.ops import elementwise, linalg, loss, movement, reduce

from ..helpers import check_grad_shapes, check_op, values
from .specs import SPECS

SAMPLES = [(spec, shapes, seed) for spec in SPECS for shapes in spec.shapes for seed in (0, 1)]


def make_inputs(spec, shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = []
    for i, shape in enumerate(shapes):
        if i in spec.int_inputs:
            arrays.append(spec.int_inputs[i](shapes, rng))
        else:
            arrays.append(values(shape, spec.domain, rng, index=i))
    return arrays


@pytest.mark.parametrize("spec,shapes,seed", SAMPLES,
                         ids=[f"{s.name}-{sh}-{seed}" for s, sh, seed in SAMPLES])
def test_op_fixed_samples(spec, shapes, seed):
    arrays = make_inputs(spec, shapes, seed)
    check_op(spec.fn, arrays, spec.ref, spec.torch_fn)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_op_hypothesis(spec):
    @settings(max_examples=100)
    @given(shapes=spec.strategy, seed=st.integers(0, 2**32 - 1))
    def run(shapes, seed):
        check_op(spec.fn, make_inputs(spec, shapes, seed), spec.ref)

    run()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_shape_dtype_and_inputs_untouched(spec, dtype):
    for shapes in spec.shapes:
        arrays = [a if a.dtype.kind != "f" else a.astype(dtype)
                  for a in make_inputs(spec, shapes, 0)]
        check_grad_shapes(spec.fn, arrays)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_noncontiguous_inputs_match_contiguous(spec):
    for shapes in spec.shapes:
        arrays = make_inputs(spec, shapes, 0)
        # the same values seen through a stride-2 view of a larger array
        strided = [np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim and a.dtype.kind == "f" else a
                   for a in arrays]
        results = []
        for inputs in (arrays, strided):
            leaves = [zt.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
            out = spec.fn(*leaves)
            out.backward(np.ones_like(out.data))
            results.append((out.data, [x.grad for x in leaves if x.requires_grad]))
        # NOTE: BLAS may sum in another order for strided inputs: equal to rounding.
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-14, atol=1e-15)
        for g0, g1 in zip(results[0][1], results[1][1]):
            np.testing.assert_allclose(g0, g1, rtol=1e-14, atol=1e-15)


def test_every_op_has_a_spec():
    ops = {
        name for module in (elementwise, reduce, movement, linalg, loss)
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function
        and obj.__module__ == module.__name__
    }
    covered = {name for spec in SPECS for name in spec.covers}
    assert ops - covered == set(), f"ops without an OpSpec row: {sorted(ops - covered)}"
