"""Module behaviour: registration, traversal order, modes, state dicts, repr, init, errors.

Where torch defines the behaviour (parameter names and order, state-dict keys, repr) the test
compares with torch and skips without it; the rest needs nothing but ziptieai.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ziptieai as zt
from ziptieai import nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 4),
                             lib.nn.Tanh(), lib.nn.Linear(4, 2, bias=False)).float()


def _mixed(lib):
    """One of every layer with parameters or buffers, in a Sequential, in float32 (explicit:
    another test module may change torch's default dtype)."""
    return lib.nn.Sequential(lib.nn.Embedding(10, 4, padding_idx=0), lib.nn.Linear(4, 5),
                             lib.nn.BatchNorm1d(5), lib.nn.ReLU(), lib.nn.LayerNorm(5),
                             lib.nn.Linear(5, 2)).float()


# ---- traversal --------------------------------------------------------------------------


def test_named_parameters_order_and_names_match_torch(torch) -> None:
    ours, theirs = _mlp(zt), _mlp(torch)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())


def test_shared_parameter_is_listed_once() -> None:
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_children_and_modules() -> None:
    inner = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    model = nn.Sequential(nn.Linear(3, 2), inner, nn.ReLU())
    assert [type(m) for m in model.children()] == [nn.Linear, nn.Sequential, nn.ReLU]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.1", "2"]


def test_train_and_eval_propagate_to_every_descendant() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())


def test_eval_mode_changes_dropout_and_batchnorm_behaviour() -> None:
    x = zt.tensor(np.random.default_rng(0).standard_normal((8, 4)))
    model = nn.Sequential(nn.BatchNorm1d(4), nn.Dropout(0.5)).double().eval()
    np.testing.assert_allclose(model(x).data, x.data / np.sqrt(1 + 1e-5), rtol=1e-12)


# ---- state dicts ------------------------------------------------------------------------


def test_state_dict_keys_equal_torch(torch) -> None:
    ours, theirs = _mixed(zt), _mixed(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
        assert ours.state_dict()[key].dtype == value.numpy().dtype, key


def test_load_state_dict_from_torch_tensors(torch) -> None:
    ours, theirs = _mixed(zt), _mixed(torch)
    theirs.train()
    theirs(torch.tensor([[1, 2, 3], [4, 5, 6]]).reshape(-1))  # move the running stats
    result = ours.load_state_dict(theirs.state_dict())
    assert result == {"missing_keys": [], "unexpected_keys": []}
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy(), err_msg=key)
    assert ours.state_dict()["2.num_batches_tracked"] == 1
    # the loaded model computes what torch's does
    ours.eval(), theirs.eval()
    idx = np.array([0, 3, 9, 3])
    np.testing.assert_allclose(ours(idx).data, theirs(torch.from_numpy(idx)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_state_dict_is_a_snapshot_and_round_trips() -> None:
    model = _mixed(zt)
    state = model.state_dict()
    before = state["1.weight"].copy()
    model[1].weight.data += 1
    np.testing.assert_array_equal(state["1.weight"], before)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model[1].weight.data, before)


def test_load_state_dict_strict_names_missing_and_unexpected_keys() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    state = model.state_dict()
    missing = {k: v for k, v in state.items() if k != "1.running_var"}
    with pytest.raises(KeyError, match=r"missing keys \['1.running_var'\]"):
        model.load_state_dict(missing)
    extra = dict(state, **{"2.weight": np.zeros(3)})
    with pytest.raises(KeyError, match=r"unexpected keys \['2.weight'\]"):
        model.load_state_dict(extra)
    result = model.load_state_dict(dict(missing, **{"2.weight": np.zeros(3)}), strict=False)
    assert result == {"missing_keys": ["1.running_var"], "unexpected_keys": ["2.weight"]}


def test_load_state_dict_shape_mismatch_names_the_key_and_shapes() -> None:
    model = nn.Sequential(nn.Linear(2, 3))
    state = model.state_dict()
    state["0.weight"] = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'0.weight'.*\(2, 3\).*\(3, 2\)"):
        model.load_state_dict(state)


def test_reassigned_buffer_stays_in_the_state_dict() -> None:
    bn = nn.BatchNorm1d(3)
    bn.running_mean = zt.tensor(np.full(3, 2.0, dtype=np.float32))
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    np.testing.assert_array_equal(bn.state_dict()["running_mean"], [2.0, 2.0, 2.0])


# ---- grads ------------------------------------------------------------------------------


def test_zero_grad() -> None:
    model = _mlp(zt)
    model(zt.tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---- repr -------------------------------------------------------------------------------


def test_repr_matches_torch(torch) -> None:
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Tanh(),
                                 lib.nn.Sequential(lib.nn.Linear(4, 2, bias=False)))
    assert repr(build(zt)) == repr(build(torch))


# ---- init -------------------------------------------------------------------------------


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in() -> None:
    zt.manual_seed(0)
    in_features = 400
    layer = nn.Linear(in_features, 1000)
    bound = 1 / math.sqrt(in_features)
    for name, p in layer.named_parameters():
        values = p.data.astype(np.float64)
        assert p.dtype == np.float32, name
        assert np.abs(values).max() <= bound, name
        # U(-b, b): reaches near both ends, mean 0, std b/√3
        tol = 0.05 if values.size > 10_000 else 0.15
        assert values.max() > bound * 0.98 and values.min() < -bound * 0.98, name
        assert abs(values.mean()) < tol * bound, name
        assert abs(values.std() / (bound / math.sqrt(3)) - 1) < tol, name


def test_manual_seed_makes_init_reproducible() -> None:
    def params(seed):
        zt.manual_seed(seed)
        model = nn.Sequential(nn.Linear(5, 4), nn.Embedding(6, 3))
        return [p.data.copy() for p in model.parameters()]

    a, b, c = params(7), params(7), params(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not any(np.array_equal(x, z) for x, z in zip(a, c))


def test_to_double_and_float_cast_parameters_and_buffers() -> None:
    bn = nn.BatchNorm1d(3).double()
    assert all(v.dtype == np.float64 for k, v in bn.state_dict().items()
               if k != "num_batches_tracked")
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64
    bn.float()
    assert bn.weight.dtype == np.float32 and bn.running_var.dtype == np.float32


# ---- errors -----------------------------------------------------------------------------


def test_linear_shape_mismatch_names_both_shapes() -> None:
    layer = nn.Linear(3, 4)
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(4, 3\)"):
        layer(zt.tensor(np.ones((2, 5), dtype=np.float32)))


@pytest.mark.parametrize("bad", [-1, 2.5, "3"])
def test_linear_rejects_bad_feature_counts(bad) -> None:
    with pytest.raises(ValueError, match=rf"in_features={bad!r}"):
        nn.Linear(bad, 2)


def test_sequential_rejects_non_modules() -> None:
    with pytest.raises(TypeError, match="item 1 is a function"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_assigning_before_super_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_batchnorm_wrong_channels_names_the_shape() -> None:
    with pytest.raises(ValueError, match=r"\(N, 4\).*\(2, 3\)"):
        nn.BatchNorm1d(4)(zt.tensor(np.ones((2, 3), dtype=np.float32)))


def test_layer_norm_wrong_trailing_shape_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(4,\)"):
        nn.LayerNorm(4)(zt.tensor(np.ones((2, 5), dtype=np.float32)))


def test_state_dict_lists_a_shared_module_under_each_name_as_torch(torch) -> None:
    def build(lib):
        lin = lib.nn.Linear(3, 3)
        return lib.nn.Sequential(lin, lib.nn.BatchNorm1d(3), lin)

    ours, theirs = build(zt), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.load_state_dict(theirs.state_dict()) == {"missing_keys": [],
                                                         "unexpected_keys": []}
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
