"""OpSpec: one row per differentiable op; the generic tests in test_ops.py run over them all.

A row gives the op as a function of Tensors, a NumPy reference, torch's version, fixed sample
shapes, a hypothesis strategy for more shapes, and the value domain that keeps finite
differences away from the op's kinks. Adding an op is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ziptieai as zt
import ziptieai.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

# broadcasting pairs: equal, trailing, stretched size-1 on both sides, 0-d, size-0
BINARY_SHAPES = [
    ((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
    ((), (3,)), ((5,), ()), ((1,), (3,)), ((2, 1, 3), (4, 1)), ((0, 3), (3,)),
]
UNARY_SHAPES = [(), (1,), (5,), (3, 4), (2, 1, 3), (0, 2)]
REDUCE_SHAPES = [(5,), (3, 4), (2, 3, 4), (1, 4), (4, 1)]


def binary_shapes(min_side=0):
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                             min_side=min_side, max_side=4).map(
        lambda bs: bs.input_shapes)


def unary_shapes(min_dims=0, min_side=0):
    return hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=min_side,
                            max_side=4).map(lambda s: (s,))


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable                      # Tensors -> Tensor
    ref: Optional[Callable]           # arrays -> array (NumPy reference)
    torch_fn: Optional[Callable]      # torch tensors -> torch tensor
    shapes: list                      # fixed samples: a tuple of input shapes each
    strategy: object                  # hypothesis strategy of such tuples
    domain: str = "real"              # see helpers.values
    covers: tuple = ()                # the op classes this row exercises
    int_inputs: dict = field(default_factory=dict)  # index -> (fn(shapes, rng) -> int array)


def _t(name):  # a torch function by name, resolved only when torch is present
    return (lambda *a, **k: getattr(torch, name)(*a, **k)) if torch else None


def _labels(shapes, rng):
    n, c = shapes[0]
    return rng.integers(0, c, n)


def _labels_some_ignored(shapes, rng):
    """Labels with every third row after the first set to -100 (cross-entropy's ignore_index)."""
    labels = _labels(shapes, rng)
    labels[2::3] = -100
    return labels


def _class_weights(x):
    return np.linspace(0.5, 2.0, x.shape[1])


def _index_rows(shapes, rng):
    return rng.integers(0, shapes[0][0], 7)


SPECS = [
    # ---- arithmetic --------------------------------------------------------------------
    OpSpec("add", lambda a, b: a + b, np.add, lambda a, b: a + b, BINARY_SHAPES,
           binary_shapes(), covers=("Add",)),
    OpSpec("sub", lambda a, b: a - b, np.subtract, lambda a, b: a - b, BINARY_SHAPES,
           binary_shapes(), covers=("Sub",)),
    OpSpec("mul", lambda a, b: a * b, np.multiply, lambda a, b: a * b, BINARY_SHAPES,
           binary_shapes(), covers=("Mul",)),
    OpSpec("div", lambda a, b: a / b, np.divide, lambda a, b: a / b, BINARY_SHAPES,
           binary_shapes(), domain="positive", covers=("Div",)),
    OpSpec("pow", lambda a, b: a ** b, np.power, lambda a, b: a ** b, BINARY_SHAPES,
           binary_shapes(), domain="positive", covers=("Pow",)),
    OpSpec("scalar_ops", lambda a: (2.5 * a - 1.5) / 3.0 + (1.0 - a) * 0.5 - 2 / (a + 3),
           lambda a: (2.5 * a - 1.5) / 3.0 + (1.0 - a) * 0.5 - 2 / (a + 3),
           lambda a: (2.5 * a - 1.5) / 3.0 + (1.0 - a) * 0.5 - 2 / (a + 3),
           [(s,) for s in UNARY_SHAPES], unary_shapes(), domain="positive",
           covers=("Add", "Sub", "Mul", "Div")),
    OpSpec("pow_scalar", lambda a: a ** 3 + a ** 2 + a ** 0.5 + 2.0 ** a,
           lambda a: a ** 3 + a ** 2 + a ** 0.5 + 2.0 ** a,
           lambda a: a ** 3 + a ** 2 + a ** 0.5 + 2.0 ** a,
           [(s,) for s in UNARY_SHAPES], unary_shapes(), domain="positive", covers=("Pow",)),
    OpSpec("neg", lambda a: -a, np.negative, lambda a: -a, [(s,) for s in UNARY_SHAPES],
           unary_shapes(), covers=("Neg",)),
    # ---- unary functions ---------------------------------------------------------------
    OpSpec("exp", lambda a: a.exp(), np.exp, _t("exp"), [(s,) for s in UNARY_SHAPES],
           unary_shapes(), covers=("Exp",)),
    OpSpec("log", lambda a: a.log(), np.log, _t("log"), [(s,) for s in UNARY_SHAPES],
           unary_shapes(), domain="positive", covers=("Log",)),
    OpSpec("sqrt", lambda a: a.sqrt(), np.sqrt, _t("sqrt"), [(s,) for s in UNARY_SHAPES],
           unary_shapes(), domain="positive", covers=("Sqrt",)),
    OpSpec("abs", lambda a: abs(a), np.abs, _t("abs"), [(s,) for s in UNARY_SHAPES],
           unary_shapes(), domain="away_from_zero", covers=("Abs",)),
    OpSpec("tanh", lambda a: a.tanh(), np.tanh, _t("tanh"), [(s,) for s in UNARY_SHAPES],
           unary_shapes(), covers=("Tanh",)),
    OpSpec("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), _t("sigmoid"),
           [(s,) for s in UNARY_SHAPES], unary_shapes(), covers=("Sigmoid",)),
    OpSpec("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), _t("relu"),
           [(s,) for s in UNARY_SHAPES], unary_shapes(), domain="away_from_zero",
           covers=("Relu",)),
    OpSpec("leaky_relu", lambda a: F.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
           (lambda a: TF.leaky_relu(a, 0.1)) if TF else None, [(s,) for s in UNARY_SHAPES],
           unary_shapes(), domain="away_from_zero", covers=("LeakyRelu",)),
    OpSpec("gelu", lambda a: F.gelu(a), None, (lambda a: TF.gelu(a)) if TF else None,
           [(s,) for s in UNARY_SHAPES], unary_shapes(), covers=("Gelu",)),
    OpSpec("gelu_tanh", lambda a: F.gelu(a, "tanh"), None,
           (lambda a: TF.gelu(a, approximate="tanh")) if TF else None,
           [(s,) for s in UNARY_SHAPES], unary_shapes(), covers=("Gelu",)),
    OpSpec("clip", lambda a: a.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           (lambda a: a.clamp(-0.5, 0.7)) if torch else None, [(s,) for s in UNARY_SHAPES],
           unary_shapes(), domain="distinct", covers=("Clip",)),
    OpSpec("clip_min", lambda a: zt.clip(a, min=0.3), lambda a: np.maximum(a, 0.3),
           (lambda a: a.clamp(min=0.3)) if torch else None, [(s,) for s in UNARY_SHAPES],
           unary_shapes(), domain="distinct", covers=("Clip",)),
    OpSpec("maximum", lambda a, b: a.maximum(b), np.maximum, _t("maximum"),
           [s for s in BINARY_SHAPES], binary_shapes(), domain="distinct", covers=("Maximum",)),
    OpSpec("minimum", lambda a, b: a.minimum(b), np.minimum, _t("minimum"),
           [s for s in BINARY_SHAPES], binary_shapes(), domain="distinct", covers=("Minimum",)),
    OpSpec("where", lambda a, b: zt.where(a > b, a * 2, b), lambda a, b: np.where(a > b, a * 2, b),
           (lambda a, b: torch.where(a > b, a * 2, b)) if torch else None, BINARY_SHAPES,
           binary_shapes(), domain="distinct", covers=("Where", "Mul")),
    OpSpec("cast_clone", lambda a: a.astype(np.float64).clone() * a, lambda a: a * a,
           None, [(s,) for s in UNARY_SHAPES], unary_shapes(), covers=("Cast", "Clone")),
    # ---- reductions --------------------------------------------------------------------
    OpSpec("sum", lambda a: a.sum(), np.sum, _t("sum"), [(s,) for s in UNARY_SHAPES],
           unary_shapes(), covers=("Sum",)),
    OpSpec("sum_dim", lambda a: a.sum(dim=-1), lambda a: a.sum(axis=-1),
           (lambda a: a.sum(dim=-1)) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1), covers=("Sum",)),
    OpSpec("sum_dims_keepdim", lambda a: a.sum(dim=(0, -1), keepdim=True),
           lambda a: a.sum(axis=(0, -1), keepdims=True),
           (lambda a: a.sum(dim=(0, -1), keepdim=True)) if torch else None,
           [s for s in [((3, 4),), ((2, 3, 4),)]], unary_shapes(min_dims=2), covers=("Sum",)),
    OpSpec("mean", lambda a: a.mean(), np.mean, _t("mean"), [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_side=1), covers=("Mean",)),
    OpSpec("mean_axis_keepdim", lambda a: a.mean(axis=0, keepdim=True),
           lambda a: a.mean(axis=0, keepdims=True),
           (lambda a: a.mean(dim=0, keepdim=True)) if torch else None,
           [(s,) for s in REDUCE_SHAPES], unary_shapes(min_dims=1, min_side=1), covers=("Mean",)),
    OpSpec("max_all", lambda a: a.max(), np.max, _t("max"), [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_side=1), domain="distinct", covers=("Extremum",)),
    OpSpec("min_all", lambda a: a.min(), np.min, _t("min"), [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_side=1), domain="distinct", covers=("Extremum",)),
    OpSpec("amax_dims", lambda a: a.amax(dim=(0, -1)), lambda a: a.max(axis=(0, -1)),
           (lambda a: a.amax(dim=(0, -1))) if torch else None, [((3, 4),), ((2, 3, 4),)],
           unary_shapes(min_dims=2, min_side=1), domain="distinct", covers=("Extremum",)),
    OpSpec("max_dim", lambda a: a.max(dim=-1).values, lambda a: a.max(axis=-1),
           (lambda a: a.max(dim=-1).values) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1, min_side=1), domain="distinct", covers=("ExtremumAt",)),
    OpSpec("min_dim_keepdim", lambda a: a.min(dim=0, keepdim=True).values,
           lambda a: a.min(axis=0, keepdims=True),
           (lambda a: a.min(dim=0, keepdim=True).values) if torch else None,
           [(s,) for s in REDUCE_SHAPES], unary_shapes(min_dims=1, min_side=1),
           domain="distinct", covers=("ExtremumAt",)),
    OpSpec("softmax", lambda a: a.softmax(-1), None,
           (lambda a: torch.softmax(a, -1)) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1, min_side=1), covers=("Softmax",)),
    OpSpec("log_softmax", lambda a: F.log_softmax(a, 0), None,
           (lambda a: torch.log_softmax(a, 0)) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1, min_side=1), covers=("LogSoftmax",)),
    # ---- movement ----------------------------------------------------------------------
    OpSpec("reshape", lambda a: a.reshape(-1) * 1.0, lambda a: a.reshape(-1),
           (lambda a: a.reshape(-1)) if torch else None, [(s,) for s in UNARY_SHAPES],
           unary_shapes(), covers=("Reshape",)),
    OpSpec("transpose", lambda a: a.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1),
           (lambda a: a.transpose(0, -1)) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1), covers=("Permute",)),
    OpSpec("T_permute", lambda a: a.T.permute(1, 0, 2) if a.ndim == 3 else a.T,
           lambda a: a.T.transpose(1, 0, 2) if a.ndim == 3 else a.T,
           (lambda a: a.permute(*reversed(range(a.ndim))).permute(1, 0, 2) if a.ndim == 3
            else a.permute(*reversed(range(a.ndim)))) if torch else None,
           [((3, 4),), ((2, 3, 4),), ((5,),)], unary_shapes(min_dims=1), covers=("Permute",)),
    OpSpec("getitem_basic", lambda a: a[1:, ..., ::2], lambda a: a[1:, ..., ::2],
           (lambda a: a[1:, ..., ::2]) if torch else None, [(s,) for s in REDUCE_SHAPES[1:]],
           unary_shapes(min_dims=2, min_side=1), covers=("GetItem",)),
    OpSpec("getitem_int_array", lambda a: a[[0, 0, -1]], lambda a: a[[0, 0, -1]],
           (lambda a: a[[0, 0, -1]]) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1, min_side=1), covers=("GetItem",)),
    OpSpec("getitem_bool_mask", lambda a: a[a.data > 0], lambda a: a[a > 0],
           (lambda a: a[a > 0]) if torch else None, [(s,) for s in REDUCE_SHAPES],
           unary_shapes(min_dims=1), domain="away_from_zero", covers=("GetItem",)),
    OpSpec("concat", lambda a, b: zt.concat([a, b, a], dim=-1),
           lambda a, b: np.concatenate([a, b, a], axis=-1),
           (lambda a, b: torch.cat([a, b, a], dim=-1)) if torch else None,
           [((3, 4), (3, 2)), ((2,), (5,)), ((2, 1, 3), (2, 1, 1))],
           st.tuples(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                     st.integers(0, 3)).map(lambda s: (s[0], s[0][:-1] + (s[1],))),
           covers=("Concat",)),
    OpSpec("stack", lambda a, b: zt.stack([a, b], dim=1 if a.ndim else 0),
           lambda a, b: np.stack([a, b], axis=1 if a.ndim else 0),
           (lambda a, b: torch.stack([a, b], dim=1 if a.ndim else 0)) if torch else None,
           [((3, 4), (3, 4)), ((2,), (2,)), ((), ())],
           unary_shapes().map(lambda s: (s[0], s[0])), covers=("Stack",)),
    # ---- linear algebra ----------------------------------------------------------------
    OpSpec("matmul", lambda a, b: a @ b, np.matmul, _t("matmul"),
           [((3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,)),
            ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 1)), ((1, 3, 4), (2, 4, 2)), ((4,), (2, 4, 3)),
            ((2, 1, 3, 4), (5, 4, 2)), ((0, 4), (4, 3))],
           st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
                     st.lists(st.integers(1, 3), max_size=2)).map(
               lambda t: (tuple(t[3]) + (t[0], t[1]), (t[1], t[2]))),
           covers=("MatMul",)),
    OpSpec("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: x @ w.T + b,
           (lambda x, w, b: TF.linear(x, w, b)) if TF else None,
           [((5, 3), (4, 3), (4,)), ((3,), (2, 3), (2,)), ((2, 5, 3), (4, 3), (4,))],
           st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).map(
               lambda t: ((t[0], t[1]), (t[2], t[1]), (t[2],))),
           covers=("Linear",)),
    # ---- fused losses and normalization (their torch parity is in tests/nn) -------------
    OpSpec("cross_entropy", lambda x, y: F.cross_entropy(x, y), None,
           (lambda x, y: TF.cross_entropy(x, y)) if TF else None,
           [((5, 3), (5,)), ((1, 4), (1,)), ((8, 10), (8,))],
           st.tuples(st.integers(1, 5), st.integers(1, 5)).map(lambda t: (t, (t[0],))),
           covers=("NLL", "LogSoftmax"), int_inputs={1: _labels}),
    OpSpec("cross_entropy_weighted_ignored_smoothed",
           lambda x, y: F.cross_entropy(x, y, _class_weights(x.data).astype(x.dtype),
                                        label_smoothing=0.1), None,
           (lambda x, y: TF.cross_entropy(x, y, torch.tensor(_class_weights(x).astype(
               x.detach().numpy().dtype)), label_smoothing=0.1)) if TF else None,
           [((5, 3), (5,)), ((1, 4), (1,)), ((8, 10), (8,))],
           st.tuples(st.integers(1, 5), st.integers(1, 5)).map(lambda t: (t, (t[0],))),
           covers=("NLL", "LogSoftmax"), int_inputs={1: _labels_some_ignored}),
    OpSpec("bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y), None,
           (lambda x, y: TF.binary_cross_entropy_with_logits(x, y)) if TF else None,
           [((5,), (5,)), ((3, 2), (3, 2))], unary_shapes(min_side=1).map(lambda s: (s[0], s[0])),
           domain="unit", covers=("BCEWithLogits",)),
    OpSpec("bce", lambda p, y: F.binary_cross_entropy(p, y), None,
           (lambda p, y: TF.binary_cross_entropy(p, y)) if TF else None,
           [((5,), (5,)), ((3, 2), (3, 2))], unary_shapes(min_side=1).map(lambda s: (s[0], s[0])),
           domain="unit", covers=("BCE",)),
    OpSpec("hinge", lambda s, y: F.hinge_loss(s, y), lambda s, y: np.maximum(0, 1 - y * s).mean(),
           (lambda s, y: torch.relu(1 - y * s).mean()) if torch else None,
           [((7,), (7,)), ((3, 2), (3, 2))], unary_shapes(min_side=1).map(lambda s: (s[0], s[0])),
           covers=("Hinge",), int_inputs={1: lambda shapes, rng: rng.choice([-1, 1], shapes[1])}),
    OpSpec("hinge_sum", lambda s, y: F.hinge_loss(s, y, reduction="sum"),
           lambda s, y: np.maximum(0, 1 - y * s).sum(),
           (lambda s, y: torch.relu(1 - y * s).sum()) if torch else None,
           [((7,), (7,)), ((3, 2), (3, 2))], unary_shapes(min_side=1).map(lambda s: (s[0], s[0])),
           covers=("Hinge",), int_inputs={1: lambda shapes, rng: rng.choice([-1, 1], shapes[1])}),
    OpSpec("normalize_layer_norm", lambda x: F.layer_norm(x, x.shape[-1:]), None,
           (lambda x: TF.layer_norm(x, x.shape[-1:])) if TF else None,
           [((4, 5),), ((2, 3, 4),)], unary_shapes(min_dims=1, min_side=2),
           covers=("Normalize",)),
    OpSpec("embedding", lambda w: F.embedding(np.array([[0, 2], [2, 1]]), w), None,
           (lambda w: TF.embedding(torch.tensor([[0, 2], [2, 1]]), w)) if TF else None,
           [((3, 4),), ((5, 2),)], st.tuples(st.integers(3, 5), st.integers(1, 4)).map(
               lambda t: ((t[0], t[1]),)), covers=("Embed",)),
]
