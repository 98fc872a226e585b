"""Torch parity for every layer in `ziptieai.nn`, driven by one table of ModuleSpecs.

Each spec names a layer class that exists under the same name in `torch.nn` and is built from
the same arguments in both libraries. The generic test copies our (perturbed) state dict into
torch's module (keys must match 1:1), then runs forward and backward a few steps on both, in
float64 (rtol 1e-10) and float32 (rtol 1e-5), comparing outputs, input gradients, parameter
gradients (accumulated across steps, as both libraries do) and the final state dict (running
statistics, num_batches_tracked). Dropout's random masks cannot match torch's, so training-mode
dropout is checked by its statistics instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ziptieai as zt  # noqa: E402
from ziptieai import nn  # noqa: E402

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def _randn(*shape):
    return lambda rng: rng.standard_normal(shape)


def _randn_with_zeros(*shape):
    """Normal samples with a few exact zeros: the kink of relu / leaky_relu is checked too."""
    def make(rng):
        x = rng.standard_normal(shape)
        x.flat[:: max(1, x.size // 4)] = 0.0
        return x
    return make


def _indices(high, *shape, include=()):
    """Integer indices in [0, high), with repeats and the given values present."""
    def make(rng):
        idx = rng.integers(0, high, size=shape)
        idx.flat[: len(include)] = include
        idx.flat[-2:] = idx.flat[0]  # a repeated index: its rows' gradients must add up
        return idx
    return make


@dataclass(frozen=True)
class ModuleSpec:
    """One layer configuration, built identically in ziptieai.nn and torch.nn."""

    cls: str                                  # class name in both ziptieai.nn and torch.nn
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    input: Callable = _randn(4, 3)            # rng -> ndarray (float64, or int for indices)
    train: bool = False                       # training mode (else eval)
    steps: int = 2                            # forward/backward passes, grads accumulating
    id: str = ""

    @property
    def name(self) -> str:
        return self.id or self.cls

    def build(self):
        return getattr(nn, self.cls)(*self.args, **self.kwargs), \
            getattr(torch.nn, self.cls)(*self.args, **self.kwargs)


MODULE_SPECS = [
    ModuleSpec("Linear", (3, 5), input=_randn(4, 3)),
    ModuleSpec("Linear", (3, 5), input=_randn(2, 4, 3), id="Linear-3d-input"),
    ModuleSpec("Linear", (3, 5), {"bias": False}, id="Linear-no-bias"),
    ModuleSpec("ReLU", input=_randn_with_zeros(4, 6)),
    ModuleSpec("Tanh", input=_randn(4, 6)),
    ModuleSpec("Sigmoid", input=lambda rng: 8 * rng.standard_normal((4, 6))),
    ModuleSpec("LeakyReLU", (0.2,), input=_randn_with_zeros(4, 6)),
    ModuleSpec("GELU", input=lambda rng: 3 * rng.standard_normal((4, 6))),
    ModuleSpec("GELU", ("tanh",), input=lambda rng: 3 * rng.standard_normal((4, 6)),
               id="GELU-tanh"),
    ModuleSpec("Softmax", kwargs={"dim": 1}, input=_randn(3, 4, 5)),
    ModuleSpec("Flatten", input=_randn(2, 3, 4, 5)),
    ModuleSpec("Flatten", (0, 1), input=_randn(2, 3, 4), id="Flatten-0-1"),
    ModuleSpec("Identity", input=_randn(4, 3)),
    ModuleSpec("Dropout", (0.5,), input=_randn(4, 6), id="Dropout-eval"),
    ModuleSpec("Dropout", (0.0,), input=_randn(4, 6), train=True, id="Dropout-p0-train"),
    ModuleSpec("Dropout", (1.0,), input=_randn(4, 6), train=True, id="Dropout-p1-train"),
    ModuleSpec("LayerNorm", (6,), input=_randn(4, 6)),
    ModuleSpec("LayerNorm", ((3, 4),), input=_randn(2, 3, 4), id="LayerNorm-2d"),
    ModuleSpec("LayerNorm", (6,), {"elementwise_affine": False}, input=_randn(4, 6),
               id="LayerNorm-no-affine"),
    ModuleSpec("LayerNorm", (6,), {"bias": False}, input=_randn(4, 6), id="LayerNorm-no-bias"),
    ModuleSpec("BatchNorm1d", (4,), input=_randn(8, 4), train=True, steps=3, id="BatchNorm1d-NC"),
    ModuleSpec("BatchNorm1d", (4,), {"momentum": 0.3}, input=_randn(5, 4, 3), train=True,
               steps=3, id="BatchNorm1d-NCL"),
    ModuleSpec("BatchNorm1d", (4,), input=_randn(8, 4), id="BatchNorm1d-NC-eval"),
    ModuleSpec("BatchNorm1d", (4,), input=_randn(5, 4, 3), id="BatchNorm1d-NCL-eval"),
    ModuleSpec("BatchNorm1d", (4,), {"affine": False}, input=_randn(8, 4), train=True,
               id="BatchNorm1d-no-affine"),
    ModuleSpec("BatchNorm1d", (4,), {"track_running_stats": False}, input=_randn(6, 4, 2),
               id="BatchNorm1d-no-running-stats-eval"),
    ModuleSpec("Embedding", (10, 3), input=_indices(10, 4, 5)),
    ModuleSpec("Embedding", (10, 3), {"padding_idx": 0}, input=_indices(10, 6, include=(0, 0)),
               id="Embedding-padding"),
    ModuleSpec("Embedding", (10, 3), {"padding_idx": -1}, input=_indices(10, 2, 6, include=(9,)),
               id="Embedding-negative-padding"),
]


def _perturbed_state(module, rng) -> dict:
    """The module's state dict with every float entry randomised, so that weights of 1 and
    biases/running means of 0 cannot hide a mistake in how they are applied."""
    state = module.state_dict()
    for key, value in state.items():
        if value.dtype.kind != "f":
            continue
        if key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 2.0, value.shape).astype(value.dtype)
        else:
            state[key] = rng.standard_normal(value.shape).astype(value.dtype)
    return state


def assert_matches(ours, theirs, dtype, what: str) -> None:
    """Our ndarray equals torch's tensor: shape, dtype and values (at the dtype's tolerance)."""
    theirs = theirs.detach().numpy()
    assert ours is not None, f"{what}: ours is None"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} vs torch {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("spec", MODULE_SPECS, ids=lambda s: s.name)
def test_module_matches_torch(spec: ModuleSpec, dtype) -> None:
    rng = np.random.default_rng(0)
    ours, theirs = spec.build()
    # NOTE: explicit for both dtypes: another test module may change torch's default dtype.
    ours.to(dtype), theirs.to(TORCH_DTYPE[dtype])

    state = _perturbed_state(ours, rng)
    assert list(state) == list(theirs.state_dict()), "state-dict keys differ from torch's"
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    ours.train(spec.train), theirs.train(spec.train)

    params = dict(ours.named_parameters())
    torch_params = dict(theirs.named_parameters())
    assert list(params) == list(torch_params)

    for step in range(spec.steps):
        x = spec.input(rng)
        is_float = x.dtype.kind == "f"
        if is_float:
            x = x.astype(dtype)
        x_ours = zt.tensor(x, requires_grad=is_float)
        x_torch = torch.tensor(x, requires_grad=is_float)
        out, out_torch = ours(x_ours), theirs(x_torch)
        assert_matches(out.data, out_torch, dtype, f"step {step}: output")

        grad = rng.standard_normal(out.shape).astype(dtype)
        if out.requires_grad:
            out.backward(grad)
            out_torch.backward(torch.from_numpy(grad))
        else:  # nothing to differentiate (no parameters, no float input)
            assert not out_torch.requires_grad
        if is_float:
            assert_matches(x_ours.grad, x_torch.grad, dtype, f"step {step}: input grad")
        for name, p in params.items():
            assert_matches(p.grad, torch_params[name].grad, dtype, f"step {step}: {name}.grad")

    final = ours.state_dict()
    for key, value in theirs.state_dict().items():
        if value.dtype.is_floating_point:
            assert_matches(final[key], value, dtype, f"state_dict['{key}'] after training")
        else:
            assert final[key] == value.item(), f"state_dict['{key}'] after training"


def test_batchnorm_counts_batches_only_in_training() -> None:
    bn = nn.BatchNorm1d(3)
    x = zt.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    for _ in range(3):
        bn(x)
    assert bn.state_dict()["num_batches_tracked"] == 3
    bn.eval()
    bn(x)
    assert bn.state_dict()["num_batches_tracked"] == 3


def test_batchnorm_rejects_one_value_per_channel_in_training() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        bn(zt.tensor(np.ones((1, 3), dtype=np.float32)))


def test_embedding_rejects_out_of_range_and_float_indices() -> None:
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"index 7 .*5 embeddings"):
        emb(np.array([0, 7]))
    with pytest.raises(TypeError, match="integers.*float"):
        emb(np.array([0.0, 1.0]))


# ---- dropout in training mode: statistics, since the masks cannot match torch's -----------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_dropout_train_statistics(p: float, dtype) -> None:
    zt.manual_seed(0)
    n = 200_000
    x = zt.tensor(np.random.default_rng(1).uniform(1.0, 2.0, n).astype(dtype),
                  requires_grad=True)
    out = nn.Dropout(p)(x)
    assert out.dtype == dtype
    kept = out.data != 0
    # the zeroed fraction is Binomial(n, p)/n: 5 standard deviations of slack
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out.data[kept], x.data[kept] / (1 - p), rtol=1e-6)
    out.backward(np.ones(n, dtype=dtype))
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-6)


def test_dropout_p0_in_training_is_identity() -> None:
    x = zt.tensor(np.random.default_rng(0).standard_normal(1000), requires_grad=True)
    out = nn.Dropout(0.0)(x)
    np.testing.assert_array_equal(out.data, x.data)


def test_dropout_masks_follow_manual_seed() -> None:
    x = zt.tensor(np.ones(1000))
    zt.manual_seed(3)
    a = nn.Dropout(0.5)(x).data
    zt.manual_seed(3)
    b = nn.Dropout(0.5)(x).data
    zt.manual_seed(4)
    c = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_p_outside_unit_interval(p: float) -> None:
    with pytest.raises(ValueError, match=rf"p={p}.*\[0, 1\]"):
        nn.Dropout(p)


# ---- every public layer and loss has a spec ----------------------------------------------

CONTAINERS = {"Module", "Sequential", "ModuleList"}


def test_every_public_layer_and_loss_has_a_spec() -> None:
    from .test_losses import LOSS_SPECS

    public = {name for name in nn.__all__
              if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)
              and name not in CONTAINERS}
    covered = {s.cls for s in MODULE_SPECS} | {s.cls for s in LOSS_SPECS}
    assert not public - covered, f"no ModuleSpec/LossSpec for {sorted(public - covered)}"
    assert not covered - public, f"specs for classes not in nn.__all__: {sorted(covered - public)}"
