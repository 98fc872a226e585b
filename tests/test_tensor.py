"""Tensor: construction and dtypes, attributes, conversions, repr, and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest

import ziptieai as zt


@pytest.mark.parametrize("data,dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2]], np.int64), (3, np.int64),
    ([True, False], np.bool_), (np.ones(2, np.float64), np.float64),
    (np.ones(2, np.float32), np.float32), (np.arange(3, dtype=np.int32), np.int32),
])
def test_dtypes_follow_torch(data, dtype):
    assert zt.tensor(data).dtype == dtype


def test_dtype_argument_is_kept():
    assert zt.tensor([1.0], dtype=np.float64).dtype == np.float64
    assert zt.tensor([1, 2], dtype="float32").dtype == np.float32


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), "abc", np.array([object()]),
                                 [1, "x"]])
def test_strings_and_objects_are_refused(bad):
    with pytest.raises(TypeError, match="dtype"):
        zt.tensor(bad)


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="int64"):
        zt.tensor([1, 2], requires_grad=True)


def test_attributes_and_conversions():
    t = zt.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float64 and t.grad is None
    assert t.numpy() is t.data and np.asarray(t) is t.data
    assert zt.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        t.item()
    d = t.detach()
    assert d.data is t.data and not d.requires_grad and d.is_leaf
    assert len(t) == 2 and t.is_leaf and (t * 2).grad_fn is not None


def test_repr_names_shape_dtype_and_op():
    t = zt.tensor(np.ones((2, 2)), requires_grad=True)
    r = repr(t * 2)
    assert "shape=(2, 2)" in r and "float64" in r and "grad_fn=Mul" in r
    assert "requires_grad=True" in repr(t)


def test_comparisons_return_tensors_without_grad():
    a = zt.tensor([1.0, 2.0], requires_grad=True)
    for c in (a > 1.5, a >= 1, a < 2, a <= 1, a == 2, a != 2):
        assert isinstance(c, zt.Tensor) and c.dtype == np.bool_ and not c.requires_grad
    assert hash(a) == object.__hash__(a)  # hashable by identity, like torch
    assert {a: 1}[a] == 1


def test_numpy_on_the_left_defers_to_tensor():
    a = zt.tensor([1.0, 2.0], requires_grad=True)
    out = np.array([2.0, 3.0], dtype=np.float32) * a
    assert isinstance(out, zt.Tensor) and out.requires_grad


def test_numpy_scalar_does_not_upcast_float32():
    a = zt.tensor([1.0, 2.0])
    assert (a * np.float64(2.0)).dtype == np.float32
    assert (np.float64(2.0) + a).dtype == np.float32


def test_cast_gradient_comes_back_in_the_input_dtype():
    a = zt.tensor([1.0, 2.0], requires_grad=True)
    (a.double() * 3).sum().backward()
    assert a.grad.dtype == np.float32 and np.all(a.grad == 3)


def test_max_with_dim_returns_values_and_indices():
    a = zt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = a.max(dim=1)
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(a.grad, [[0, 1, 0], [1, 0, 0]])


def test_full_max_shares_gradient_between_ties_like_torch():
    a = zt.tensor([3.0, 1.0, 3.0], requires_grad=True)
    a.max().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0, 0.5])


def test_maximum_splits_ties_like_torch():
    a = zt.tensor([1.0, 2.0], requires_grad=True)
    b = zt.tensor([1.0, 0.0], requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [0.5, 0.0])


def test_matmul_shape_error_names_both_shapes():
    a, b = zt.tensor(np.ones((3, 4))), zt.tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 2\).*\(4\).*\(5\)"):
        a @ b
    with pytest.raises(ValueError, match="at least 1 dim"):
        zt.matmul(zt.tensor(1.0), a)
    with pytest.raises(ValueError, match="batch dims"):
        zt.tensor(np.ones((2, 3, 4))) @ zt.tensor(np.ones((3, 4, 5)))


def test_reshape_and_index_errors_name_the_shape():
    a = zt.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4, 2\)"):
        a.reshape(4, 2)
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        a[5]
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        a.sum(dim=2)
    with pytest.raises(IndexError, match="floats|integers"):
        a[np.array([0.5])]


def test_concat_and_stack_errors():
    with pytest.raises(ValueError, match="differ outside dim"):
        zt.concat([zt.tensor(np.ones((2, 3))), zt.tensor(np.ones((3, 3)))], dim=1)
    with pytest.raises(ValueError, match="same shape"):
        zt.stack([zt.tensor(np.ones(2)), zt.tensor(np.ones(3))])


def test_manual_seed_reproduces_init():
    zt.manual_seed(3)
    a = zt.nn.Linear(4, 4).weight.data.copy()
    zt.manual_seed(3)
    b = zt.nn.Linear(4, 4).weight.data.copy()
    zt.manual_seed(4)
    c = zt.nn.Linear(4, 4).weight.data.copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="non-negative int"):
        zt.manual_seed(-1)


def test_gradcheck_refuses_float32_and_catches_a_wrong_gradient():
    from ziptieai.autograd import Function, GradcheckError, gradcheck

    with pytest.raises(TypeError, match="float32"):
        gradcheck(lambda x: x * 2, [np.ones(3, np.float32)])

    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.saved = a
            return a * a

        @staticmethod
        def backward(ctx, g):
            return (g * ctx.saved,)  # should be 2·a·g

    with pytest.raises(GradcheckError, match="analytic"):
        gradcheck(lambda x: WrongSquare.apply(x), [np.array([1.0, 2.0])])


def test_zero_dim_results_and_gradients_are_arrays():
    a = zt.tensor(2.0, requires_grad=True)
    b = zt.tensor(3.0, requires_grad=True)
    out = (a * b + 1) / b
    assert type(out.data) is np.ndarray and out.data.shape == ()
    out.backward()
    assert type(a.grad) is np.ndarray and type(b.grad) is np.ndarray
    a.grad[...] = 0  # owned, writable arrays


def test_python_number_constants_keep_their_value_and_sign():
    a = zt.tensor([1.0, 2.0])
    np.testing.assert_array_equal(np.signbit((a * 0.0).data), [False, False])
    np.testing.assert_array_equal(np.signbit((a * -0.0).data), [True, True])  # not a cached +0
    np.testing.assert_array_equal(np.signbit((-0.0 * a).data), [True, True])
    assert (a * 2).dtype == np.float32 and (a * True).dtype == np.float32
    np.testing.assert_array_equal((a * np.float32(1.5)).data, [1.5, 3.0])
    i = zt.tensor([1, 2])
    assert (i * 2).dtype == np.int64
    assert np.isnan((a * float("nan")).data).all()


# ---- type promotion: torch's rules where NumPy's differ ------------------------------------
_OPERANDS = {
    "int64": lambda L: L.tensor(np.array([1, 2, 3], np.int64)),
    "int32": lambda L: L.tensor(np.array([1, 2, 3], np.int32)),
    "uint8": lambda L: L.tensor(np.array([1, 2, 3], np.uint8)),
    "bool": lambda L: L.tensor(np.array([True, True, True])),
    "float32": lambda L: L.tensor(np.array([1.5, 2.0, 0.5], np.float32)),
    "float64": lambda L: L.tensor(np.array([1.5, 2.0, 0.5], np.float64)),
    "int": lambda L: 3,
    "float": lambda L: 2.5,
    "np.float64": lambda L: np.float64(2.5),
    "0-d float64": lambda L: L.tensor(np.array(2.5, np.float64)),
    "0-d int64": lambda L: L.tensor(np.array(2, np.int64)),
    "0-d float32": lambda L: L.tensor(np.array(2.5, np.float32)),
    "float16": lambda L: L.tensor(np.array([1.5, 2.0, 0.5], np.float16)),
    "py bool": lambda L: True,
}
_NUMBERS = ("int", "float", "np.float64", "py bool")
_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: a / b, "**": lambda a, b: a**b}
_PAIRS = [(x, y) for x in _OPERANDS for y in _OPERANDS
          if not (x in _NUMBERS and y in _NUMBERS)]


@pytest.mark.parametrize("op", list(_BINARY))
@pytest.mark.parametrize("left,right", _PAIRS, ids=[f"{x}-{y}" for x, y in _PAIRS])
def test_binary_op_result_dtype_and_value_match_torch(left, right, op):
    torch = pytest.importorskip("torch")
    fn = _BINARY[op]
    try:
        expected = fn(_OPERANDS[left](torch), _OPERANDS[right](torch))
    except (RuntimeError, TypeError):  # torch refuses it (e.g. bool - bool): so do we
        with pytest.raises((RuntimeError, TypeError)):
            fn(_OPERANDS[left](zt), _OPERANDS[right](zt))
        return
    got = fn(_OPERANDS[left](zt), _OPERANDS[right](zt))
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-3 if "16" in str(got.dtype)
                               else 1e-6)


def test_gradient_through_an_int_operand_keeps_the_float_dtype():
    x = zt.tensor([1.5, 2.0], requires_grad=True)
    (x * zt.tensor([2, 3]) / zt.tensor([4, 4])).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [0.5, 0.75])
