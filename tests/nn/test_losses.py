"""Torch parity for every loss in `ziptieai.nn`, driven by one table of LossSpecs.

Each spec gives sample (input, target) arrays and the torch reference; the generic test runs
every reduction and compares the value and the gradients of input (and of target, where the
loss is differentiable in it) in float64 at rtol 1e-10, and in float32 at rtol 1e-5. Then:
stability at extreme logits, and the errors bad inputs must raise (our own, before NumPy's,
naming the value or shapes at fault).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ziptieai as zt  # noqa: E402
from ziptieai import nn  # noqa: E402
from ziptieai.nn import functional as F  # noqa: E402

REDUCTIONS = ["mean", "sum", "none"]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _regression(rng):
    return rng.standard_normal((5, 3)), rng.standard_normal((5, 3))


def _labels(rng, n=6, c=4):
    labels = rng.integers(0, c, n)
    labels[-1] = labels[0]  # a repeated label
    return labels


def _probabilities(rng):
    return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0.0, 1.0, (4, 3))


def _hinge(rng):
    y = rng.choice([-1.0, 1.0], size=(4, 5))
    score = rng.standard_normal((4, 5)) * 2
    # keep y·score away from the kink at 1
    margin = y * score
    score = np.where(np.abs(margin - 1) < 0.05, score + 0.2 * y, score)
    return score, y


def _hinge_reference(score, y, reduction):
    """torch has no HingeLoss class: autograd on relu(1 - y·score), then the reduction."""
    loss = torch.relu(1 - y * score)
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


@dataclass(frozen=True)
class LossSpec:
    """One loss, its sample inputs and its torch reference."""

    cls: str                          # class name in ziptieai.nn (and torch.nn, unless reference)
    input: Callable                   # rng -> (input ndarray, target ndarray)
    reference: Optional[Callable] = None   # (input_t, target_t, reduction) -> torch tensor
    target_grad: bool = False         # the loss is differentiable in its target
    id: str = ""
    options: tuple = ()               # (name, value) constructor options; arrays: class weights

    @property
    def name(self) -> str:
        return self.id or self.cls

    def kwargs(self, lib, dtype) -> dict:
        """The options for ziptieai (lib=zt) or torch, arrays as that library's tensors."""
        return {k: lib.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
                for k, v in self.options}

    def ours(self, reduction, dtype=np.float64):
        return getattr(nn, self.cls)(reduction=reduction, **self.kwargs(zt, dtype))

    def torch_loss(self, input_t, target_t, reduction, dtype=np.float64):
        if self.reference is not None:
            return self.reference(input_t, target_t, reduction)
        layer = getattr(torch.nn, self.cls)(reduction=reduction, **self.kwargs(torch, dtype))
        return layer(input_t, target_t)


_CLASS_WEIGHTS = np.array([0.5, 2.0, 1.0, 3.0])


def _labels_with(ignored, n=7, c=4):
    """Labels for 4 classes with two rows labelled `ignored` (the ignore_index)."""
    labels = np.random.default_rng(3).integers(0, c, n)
    labels[[1, 4]] = ignored
    return labels


LOSS_SPECS = [
    LossSpec("MSELoss", _regression, target_grad=True),
    LossSpec("L1Loss", _regression, target_grad=True),
    LossSpec("CrossEntropyLoss", lambda rng: (3 * rng.standard_normal((6, 4)), _labels(rng)),
             id="CrossEntropyLoss-labels"),
    LossSpec("CrossEntropyLoss",
             lambda rng: (3 * rng.standard_normal((6, 4)),
                          np.exp(_log_softmax(rng.standard_normal((6, 4))))),
             target_grad=True, id="CrossEntropyLoss-probabilities"),
    LossSpec("CrossEntropyLoss", lambda rng: (3 * rng.standard_normal((6, 4)), _labels(rng)),
             options=(("weight", _CLASS_WEIGHTS),), id="CrossEntropyLoss-weight"),
    LossSpec("CrossEntropyLoss",
             lambda rng: (3 * rng.standard_normal((7, 4)), _labels_with(-100)),
             id="CrossEntropyLoss-ignored-rows"),
    LossSpec("CrossEntropyLoss",
             lambda rng: (3 * rng.standard_normal((7, 4)), _labels_with(2)),
             options=(("ignore_index", 2),), id="CrossEntropyLoss-ignore_index-a-class"),
    LossSpec("CrossEntropyLoss", lambda rng: (3 * rng.standard_normal((6, 4)), _labels(rng)),
             options=(("label_smoothing", 0.1),), id="CrossEntropyLoss-label_smoothing"),
    LossSpec("CrossEntropyLoss",
             lambda rng: (3 * rng.standard_normal((7, 4)), _labels_with(-100)),
             options=(("weight", _CLASS_WEIGHTS), ("label_smoothing", 0.25)),
             id="CrossEntropyLoss-weight-ignored-smoothing"),
    LossSpec("CrossEntropyLoss",
             lambda rng: (3 * rng.standard_normal((6, 4)),
                          np.exp(_log_softmax(rng.standard_normal((6, 4))))),
             options=(("weight", _CLASS_WEIGHTS), ("label_smoothing", 0.2)), target_grad=True,
             id="CrossEntropyLoss-probabilities-weight-smoothing"),
    LossSpec("NLLLoss", lambda rng: (_log_softmax(rng.standard_normal((6, 4))), _labels(rng))),
    LossSpec("NLLLoss",
             lambda rng: (_log_softmax(rng.standard_normal((7, 4))), _labels_with(-100)),
             options=(("weight", _CLASS_WEIGHTS),), id="NLLLoss-weight-ignored-rows"),
    LossSpec("BCEWithLogitsLoss",
             lambda rng: (4 * rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))),
             target_grad=True),
    LossSpec("BCEWithLogitsLoss",
             lambda rng: (4 * rng.standard_normal(7), rng.integers(0, 2, 7).astype(float)),
             target_grad=True, id="BCEWithLogitsLoss-hard-targets"),
    LossSpec("BCELoss", _probabilities, target_grad=True),
    LossSpec("HingeLoss", _hinge, reference=_hinge_reference),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spec", LOSS_SPECS, ids=lambda s: s.name)
def test_loss_matches_torch(spec: LossSpec, reduction: str, dtype) -> None:
    rng = np.random.default_rng(0)
    x, t = spec.input(rng)
    x = x.astype(dtype)
    target_is_float = t.dtype.kind == "f"
    if target_is_float:
        t = t.astype(dtype)
    t_grad = spec.target_grad and target_is_float

    x_ours, t_ours = zt.tensor(x, requires_grad=True), zt.tensor(t, requires_grad=t_grad)
    x_torch, t_torch = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=t_grad)
    loss = spec.ours(reduction, dtype)(x_ours, t_ours)
    loss_torch = spec.torch_loss(x_torch, t_torch, reduction, dtype)

    expected = loss_torch.detach().numpy()
    assert loss.shape == expected.shape
    assert loss.dtype == expected.dtype
    np.testing.assert_allclose(loss.data, expected, **TOL[dtype])

    grad = rng.uniform(0.5, 1.5, loss.shape).astype(dtype)
    loss.backward(grad)
    loss_torch.backward(torch.from_numpy(grad))
    assert x_ours.grad.shape == x.shape and x_ours.grad.dtype == x.dtype
    np.testing.assert_allclose(x_ours.grad, x_torch.grad.numpy(), err_msg="input grad",
                               **TOL[dtype])
    if t_grad:
        np.testing.assert_allclose(t_ours.grad, t_torch.grad.numpy(), err_msg="target grad",
                                   **TOL[dtype])
    else:
        assert t_ours.grad is None


@pytest.mark.parametrize("spec", LOSS_SPECS, ids=lambda s: s.name)
def test_functional_form_matches_the_layer(spec: LossSpec) -> None:
    """The layer is a thin holder of `reduction`: its functional form gives the same value."""
    fn = {
        "MSELoss": F.mse_loss, "L1Loss": F.l1_loss, "CrossEntropyLoss": F.cross_entropy,
        "NLLLoss": F.nll_loss, "BCEWithLogitsLoss": F.binary_cross_entropy_with_logits,
        "BCELoss": F.binary_cross_entropy, "HingeLoss": F.hinge_loss,
    }[spec.cls]
    x, t = spec.input(np.random.default_rng(0))
    options = spec.kwargs(zt, np.float64)
    weight = options.pop("weight", None)
    args = () if weight is None else (weight,)
    for reduction in REDUCTIONS:
        layer = spec.ours(reduction)(zt.tensor(x), zt.tensor(t))
        direct = fn(zt.tensor(x), zt.tensor(t), *args, reduction=reduction, **options)
        np.testing.assert_array_equal(direct.data, layer.data)


# ---- stability at extreme logits ---------------------------------------------------------


def _finite(*arrays) -> None:
    for a in arrays:
        assert np.all(np.isfinite(a)), "non-finite values"


def test_cross_entropy_float32_logits_up_to_1e4() -> None:
    rng = np.random.default_rng(0)
    logits = rng.uniform(-1e4, 1e4, (16, 5))
    logits[0] = [1e4, -1e4, 1e4, -1e4, 0.0]
    logits[1] = [-1e4] * 5
    labels = rng.integers(0, 5, 16)
    labels[0] = 1  # a label whose logit is 2e4 below the largest: loss ≈ 2e4

    x32 = zt.tensor(logits.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x32, labels, reduction="none")
    loss.backward(np.ones(16, dtype=np.float32))
    ref = torch.tensor(logits.astype(np.float32).astype(np.float64), requires_grad=True)
    ref_loss = torch.nn.functional.cross_entropy(ref, torch.from_numpy(labels),
                                                 reduction="none")
    ref_loss.sum().backward()

    _finite(loss.data, x32.grad)
    assert loss.dtype == np.float32 and x32.grad.dtype == np.float32
    np.testing.assert_allclose(loss.data, ref_loss.detach().numpy(), rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(x32.grad, ref.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_log_softmax_float32_logits_up_to_1e4() -> None:
    rng = np.random.default_rng(1)
    logits = rng.uniform(-1e4, 1e4, (8, 6)).astype(np.float32)
    logits[0, :] = 1e4
    x = zt.tensor(logits, requires_grad=True)
    out = F.log_softmax(x, dim=1)
    g = rng.standard_normal(logits.shape).astype(np.float32)
    out.backward(g)
    ref = torch.tensor(logits.astype(np.float64), requires_grad=True)
    ref_out = torch.log_softmax(ref, dim=1)
    ref_out.backward(torch.from_numpy(g.astype(np.float64)))

    _finite(out.data, x.grad)
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(x.grad, ref.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_with_logits_up_to_1e3(dtype) -> None:
    rng = np.random.default_rng(2)
    logits = np.concatenate([[-1e3, 1e3, -1e3, 1e3, 0.0], rng.uniform(-1e3, 1e3, 27)])
    target = np.concatenate([[0.0, 1.0, 1.0, 0.0, 0.5], rng.uniform(0, 1, 27)])
    x = zt.tensor(logits.astype(dtype), requires_grad=True)
    y = zt.tensor(target.astype(dtype), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    loss.backward(np.ones_like(logits, dtype=dtype))
    ref_x = torch.tensor(logits.astype(dtype).astype(np.float64), requires_grad=True)
    ref_y = torch.tensor(target.astype(dtype).astype(np.float64), requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(ref_x, ref_y, reduction="none")
    ref.sum().backward()

    _finite(loss.data, x.grad, y.grad)
    assert loss.data[0] == 0 and loss.data[1] == 0  # confident and right: exactly no loss
    tol = TOL[dtype] if dtype is np.float64 else dict(rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, ref_x.grad.numpy(), **tol)
    np.testing.assert_allclose(y.grad, ref_y.grad.numpy(), **tol)


def test_bce_on_saturated_probabilities_is_finite_and_clamped() -> None:
    """log(0) is clamped at -100 (as torch), and the gradient stays finite."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    x = zt.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(x, zt.tensor(y), reduction="none")
    loss.backward(np.ones(5))
    ref_x = torch.tensor(p, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy(ref_x, torch.tensor(y), reduction="none")
    ref.sum().backward()
    _finite(loss.data, x.grad)
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), **TOL[np.float64])
    # NOTE: the gradient there is ±1/1e-12; torch's clamp constant is 1e-12 rounded to float32
    # (relative difference 4e-9), so this one comparison is looser than the parity bar.
    np.testing.assert_allclose(x.grad, ref_x.grad.numpy(), rtol=1e-8)


# ---- bad inputs: our own error, naming the value or shapes at fault ----------------------


def _t(*shape, dtype=np.float32):
    return zt.tensor(np.zeros(shape, dtype=dtype) + 0.5)


@dataclass(frozen=True)
class ErrorCase:
    id: str
    call: Callable
    error: type
    match: str  # regex the message must contain


ERROR_CASES = [
    ErrorCase("ce-label-too-big", lambda: nn.CrossEntropyLoss()(_t(3, 4), np.array([0, 7, 1])),
              IndexError, r"label 7 .*4 classes"),
    ErrorCase("ce-label-negative", lambda: nn.CrossEntropyLoss()(_t(3, 4), np.array([0, 1, -1])),
              IndexError, r"label -1 .*4 classes"),
    ErrorCase("nll-label-too-big", lambda: nn.NLLLoss()(_t(2, 3), np.array([3, 0])),
              IndexError, r"label 3 .*3 classes"),
    ErrorCase("ce-label-out-of-range-with-ignore_index",
              lambda: nn.CrossEntropyLoss(ignore_index=1)(_t(3, 4), np.array([0, -100, 1])),
              IndexError, r"label -100 at index 1 .*4 classes.*ignore_index 1"),
    ErrorCase("ce-weight-shape",
              lambda: nn.CrossEntropyLoss(weight=np.ones(3))(_t(2, 4), np.array([0, 1])),
              ValueError, r"weight of shape \(3,\) should be \(4,\)"),
    ErrorCase("nll-weight-shape",
              lambda: F.nll_loss(_t(2, 4), np.array([0, 1]), np.ones((4, 1))),
              ValueError, r"nll_loss: weight of shape \(4, 1\) should be \(4,\)"),
    ErrorCase("ce-label_smoothing-above-1", lambda: nn.CrossEntropyLoss(label_smoothing=1.5),
              ValueError, r"label_smoothing=1.5 must be a number in \[0.0, 1.0\]"),
    ErrorCase("ce-label_smoothing-negative",
              lambda: F.cross_entropy(_t(2, 4), np.array([0, 1]), label_smoothing=-0.1),
              ValueError, r"label_smoothing=-0.1"),
    ErrorCase("ce-ignore_index-not-int",
              lambda: F.cross_entropy(_t(2, 4), np.array([0, 1]), ignore_index=1.0),
              TypeError, r"ignore_index=1.0 must be an int"),
    ErrorCase("ce-ignore_index-with-probabilities",
              lambda: F.cross_entropy(_t(2, 4), _t(2, 4), ignore_index=1),
              ValueError, r"ignore_index=1 applies to class labels only"),
    ErrorCase("ce-float-labels", lambda: nn.CrossEntropyLoss()(_t(3, 4), np.array([0.0, 1, 2])),
              TypeError, r"integers.*float64"),
    ErrorCase("ce-float32-labels",
              lambda: nn.CrossEntropyLoss()(_t(3, 4), _t(3, dtype=np.float32)),
              TypeError, r"integers.*float32"),
    ErrorCase("nll-float-labels", lambda: nn.NLLLoss()(_t(3, 4), np.array([0.0, 1, 2])),
              TypeError, r"integers.*float64"),
    ErrorCase("ce-label-shape", lambda: nn.CrossEntropyLoss()(_t(3, 4), np.array([0, 1])),
              ValueError, r"\(2,\).*\(3,\)"),
    ErrorCase("ce-probability-shape",
              lambda: nn.CrossEntropyLoss()(_t(3, 4), _t(3, 5)), ValueError, r"\(3, 4\).*\(3, 5\)"),
    ErrorCase("mse-N1-vs-N", lambda: nn.MSELoss()(_t(4, 1), _t(4)), ValueError,
              r"mse_loss.*\(4, 1\).*\(4,\)"),
    ErrorCase("l1-N1-vs-N", lambda: nn.L1Loss()(_t(4, 1), _t(4)), ValueError,
              r"l1_loss.*\(4, 1\).*\(4,\)"),
    ErrorCase("bce-N1-vs-N", lambda: nn.BCELoss()(_t(4, 1), _t(4)), ValueError,
              r"binary_cross_entropy.*\(4, 1\).*\(4,\)"),
    ErrorCase("bce-logits-N-vs-N1", lambda: nn.BCEWithLogitsLoss()(_t(4), _t(4, 1)), ValueError,
              r"binary_cross_entropy_with_logits.*\(4,\).*\(4, 1\)"),
    ErrorCase("hinge-N1-vs-N", lambda: nn.HingeLoss()(_t(4, 1), zt.tensor(np.ones(4))),
              ValueError, r"hinge_loss.*\(4, 1\).*\(4,\)"),
    ErrorCase("hinge-0-1-labels", lambda: nn.HingeLoss()(_t(3), zt.tensor([1.0, 0.0, 1.0])),
              ValueError, r"-1 or \+1, got 0"),
    ErrorCase("hinge-2-label", lambda: nn.HingeLoss()(_t(3), zt.tensor([1.0, -1.0, 2.0])),
              ValueError, r"-1 or \+1, got 2"),
    ErrorCase("bce-prob-above-1", lambda: nn.BCELoss()(zt.tensor([0.5, 1.5]), _t(2)),
              ValueError, r"\[0, 1\].*1\.5"),
    ErrorCase("bce-prob-below-0", lambda: nn.BCELoss()(zt.tensor([-0.25, 0.5]), _t(2)),
              ValueError, r"\[0, 1\].*-0\.25"),
] + [
    ErrorCase(f"{spec.cls}-reduction", lambda cls=spec.cls: getattr(nn, cls)(reduction="avg"),
              ValueError, r"reduction='avg'.*mean.*sum.*none")
    for spec in LOSS_SPECS if not spec.id
] + [
    ErrorCase(f"{fn.__name__}-reduction",
              lambda fn=fn: fn(_t(2, 3), np.array([0, 1]), reduction="avg"),
              ValueError, rf"{fn.__name__}: reduction='avg'")
    for fn in (F.mse_loss, F.l1_loss, F.cross_entropy, F.nll_loss, F.binary_cross_entropy,
               F.binary_cross_entropy_with_logits, F.hinge_loss)
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.id)
def test_bad_input_raises_a_named_error(case: ErrorCase) -> None:
    with pytest.raises(case.error, match=case.match):
        case.call()


# ---- class weights, ignored rows: what the parity table does not show -------------------


def test_every_row_ignored_gives_nan_in_mean_like_torch() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    labels = np.full(3, -100)
    for options in ({}, {"label_smoothing": 0.1}, {"weight": _CLASS_WEIGHTS}):
        ours = nn.CrossEntropyLoss(**options)(zt.tensor(x, requires_grad=True), labels)
        ref = torch.nn.CrossEntropyLoss(**{k: torch.tensor(v) if isinstance(v, np.ndarray)
                                           else v for k, v in options.items()})(
            torch.tensor(x), torch.tensor(labels))
        assert np.isnan(ours.item()) and np.isnan(ref.item())
        x_ours = zt.tensor(x, requires_grad=True)
        x_ref = torch.tensor(x, requires_grad=True)
        nn.CrossEntropyLoss(**options)(x_ours, labels).backward()  # no warning, no error
        torch.nn.CrossEntropyLoss(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                     for k, v in options.items()})(
            x_ref, torch.tensor(labels)).backward()
        np.testing.assert_array_equal(x_ours.grad, x_ref.grad.numpy())  # zeros, as torch
        assert nn.CrossEntropyLoss(reduction="sum", **options)(zt.tensor(x), labels).item() == 0


def test_class_weight_is_a_buffer_in_the_state_dict_like_torch() -> None:
    ours = nn.CrossEntropyLoss(weight=_CLASS_WEIGHTS)
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(_CLASS_WEIGHTS))
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    np.testing.assert_array_equal(ours.state_dict()["weight"], _CLASS_WEIGHTS)
    assert list(nn.NLLLoss().state_dict()) == list(torch.nn.NLLLoss().state_dict()) == []
    assert "label_smoothing=0.1" in repr(nn.CrossEntropyLoss(label_smoothing=0.1))


def test_float32_logits_with_float64_weights_stay_float32() -> None:
    x = zt.tensor(np.ones((2, 4), np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 3]), _CLASS_WEIGHTS, label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
