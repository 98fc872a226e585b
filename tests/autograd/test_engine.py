"""The engine: accumulation, graph release, deep chains, no reference cycles, grad mode."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ziptieai as zt
from ziptieai import nn
from ziptieai.ops.elementwise import Mul


def test_backward_accumulates_like_torch():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [2 * 1 + 3, 2 * 2 + 3])


def test_shared_input_gradients_are_summed_and_owned():
    a = zt.tensor([1.0, 2.0], requires_grad=True)
    b = zt.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same gradient array to both inputs
    a.grad += 10  # each leaf owns its .grad: changing one leaves the other alone
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_backward_with_explicit_gradient_does_not_alias_it():
    x = zt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    (x + 0).backward(g)
    x.grad += 1
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_leaf_backward_sets_its_own_grad():
    x = zt.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_retain_graph_allows_a_second_pass():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_second_backward_through_released_graph_is_an_error():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_shared_subgraph_released_by_first_root():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    (h * 2).sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3).sum().backward()


def test_non_scalar_backward_needs_gradient():
    x = zt.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*gradient="):
        (x * 2).backward()


def test_gradient_of_wrong_shape_is_an_error():
    x = zt.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (zt.tensor([1.0]) * 2).sum().backward()


def test_chain_of_100000_ops_without_recursion():
    limit = sys.getrecursionlimit()
    x = zt.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad[0] == 1.0
    assert sys.getrecursionlimit() == limit


def test_no_grad_records_nothing_and_restores():
    x = zt.tensor([1.0], requires_grad=True)
    with zt.no_grad():
        y = x * 2
        assert not zt.is_grad_enabled()
        with zt.enable_grad():
            assert (x * 2).requires_grad
    assert zt.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @zt.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_an_unrecorded_result_keeps_nothing_of_its_inputs():
    # The output tensor is its op's graph node; when nothing is recorded, what forward saved
    # for backward must not stay alive with it.
    for make in (lambda a, b: a * b, lambda a, b: (a * b).tanh(), lambda a, b: a / b):
        a_data = np.ones(1000)
        a = zt.tensor(a_data)
        b = zt.tensor(np.full(1000, 2.0), requires_grad=True)
        alive = weakref.ref(a_data)
        with zt.no_grad():
            y = make(a, b)
        del a, a_data
        assert alive() is None and y.grad_fn is None and y.saved is None
        z = make(zt.tensor(np.ones(3)), zt.tensor(np.ones(3)))  # no input requires grad
        assert z.grad_fn is None and z.saved is None


def test_a_result_is_its_own_graph_node():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    assert y.grad_fn is Mul and y.parents == (x, None) and not y.is_leaf
    assert x.grad_fn is None and x.is_leaf
    y.sum().backward()
    assert y.parents == () and y.saved is None  # released: nothing of the step is kept


def test_only_inputs_that_need_grad_get_one():
    x = zt.tensor(np.ones((4, 3)))
    w = zt.tensor(np.ones((2, 3)), requires_grad=True)
    (x @ w.T).sum().backward()
    assert x.grad is None and w.grad.shape == (2, 3)


def test_unbroadcast_sums_leading_and_stretched_axes():
    b = zt.tensor(np.zeros((3, 1)), requires_grad=True)
    (b + np.ones((2, 3, 4))).sum().backward()
    np.testing.assert_array_equal(b.grad, np.full((3, 1), 8.0))


def _mlp_step(model, opt_params, X, y):
    pred = model(X)
    loss = nn.functional.mse_loss(pred, y)
    loss.backward()
    with zt.no_grad():
        for p in opt_params:
            p.data -= 0.01 * p.grad
            p.grad = None
    return weakref.ref(pred)


def test_graph_is_freed_by_reference_counting_alone():
    """1,000 MLP training steps with the cyclic GC off leave nothing for it to collect,
    and memory stays flat."""
    zt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    params = list(model.parameters())
    rng = np.random.default_rng(0)
    X = zt.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = zt.tensor(rng.standard_normal((32, 1)).astype(np.float32))
    gc.collect()
    gc.disable()
    try:
        pred_ref = _mlp_step(model, params, X, y)
        tracemalloc.start()
        for _ in range(100):
            _mlp_step(model, params, X, y)
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(900):
            _mlp_step(model, params, X, y)
        end, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert gc.collect() == 0, "the graph left reference cycles for the cyclic GC"
        assert end - start < 64 * 1024, f"memory grew by {end - start} bytes over 900 steps"
        assert pred_ref() is None, "an activation outlived its step"
    finally:
        gc.enable()


def test_graph_without_backward_is_freed_too():
    gc.collect()
    gc.disable()
    try:
        x = zt.tensor(np.ones(3), requires_grad=True)
        h = x * 2
        y = h.tanh().sum()
        ref = weakref.ref(h)
        del h, y
        assert ref() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


# A random program: each step applies one op to earlier values (fan-out, fan-in, diamonds,
# a value used twice by one op, chains between them), so the engine's chain path (`nxt`),
# its heap, and the hand-off between the two are all exercised against torch.
_PROGRAM_OPS = {
    "add": (lambda a, b: a + b, 2),
    "mul": (lambda a, b: a * b, 2),
    "sub": (lambda a, b: a - b, 2),
    "tanh": (lambda a: a.tanh(), 1),
    "scale": (lambda a: a * 0.5 + 0.25, 1),
}


@st.composite
def _programs(draw):
    n_inputs = draw(st.integers(1, 3))
    steps = []
    for i in range(draw(st.integers(1, 25))):
        name = draw(st.sampled_from(sorted(_PROGRAM_OPS)))
        arity = _PROGRAM_OPS[name][1]
        args = [draw(st.integers(0, n_inputs + i - 1)) for _ in range(arity)]
        steps.append((name, args))
    return n_inputs, steps


def _run_program(lib, leaves, steps):
    values = list(leaves)
    for name, args in steps:
        values.append(_PROGRAM_OPS[name][0](*(values[j] for j in args)))
    return values[-1].sum()


@given(_programs())
def test_random_graphs_match_torch(program):
    torch = pytest.importorskip("torch")
    n_inputs, steps = program
    rng = np.random.default_rng(len(steps))
    arrays = [rng.uniform(-1, 1, 3) for _ in range(n_inputs)]
    ours = [zt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    _run_program(zt, ours, steps).backward()
    _run_program(torch, theirs, steps).backward()
    for mine, ref in zip(ours, theirs):
        expected = ref.grad.numpy() if ref.grad is not None else None
        if expected is None:
            assert mine.grad is None
        else:
            np.testing.assert_allclose(mine.grad, expected, rtol=1e-12, atol=1e-12)


def test_an_op_that_passes_no_gradient_ends_the_chain():
    # a custom op whose backward gives None for its input: nothing flows past it
    from ziptieai.autograd import Function

    class Stop(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return (None,)

    x = zt.tensor([1.0, 2.0], requires_grad=True)
    y = zt.tensor([3.0, 4.0], requires_grad=True)
    (Stop.apply(x.exp()).sum() + y.sum()).backward()
    assert x.grad is None
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])
    Stop.apply(x.exp() * 2).sum().backward()  # the chain case: the only waiting node
    assert x.grad is None


def test_clip_with_bounds_that_broadcast_returns_the_input_shaped_gradient():
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.5, 2.0])
    lo = np.array([[0.0, 0.0, 0.0], [-2.0, 1.0, 0.0]])
    ours = zt.tensor(x.reshape(3, 1), requires_grad=True)
    out = ours.reshape(3).clip(lo, 1.5)  # an interior one-input op before: the chain path
    (out * zt.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    ref = torch.tensor(x.reshape(3, 1), requires_grad=True)
    clamped = torch.clamp(ref.reshape(3), min=torch.tensor(lo),
                          max=torch.tensor(1.5, dtype=torch.float64))
    (clamped * torch.arange(6.0, dtype=torch.float64).reshape(2, 3)).sum().backward()
    assert out.shape == (2, 3) and ours.grad.shape == (3, 1)
    np.testing.assert_array_equal(ours.grad, ref.grad.numpy())
