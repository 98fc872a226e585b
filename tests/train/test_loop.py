"""fit and evaluate: determinism, exact resume, non-finite stops, stopping rules, metrics."""

from __future__ import annotations

import numpy as np
import pytest

import ziptieai as zt
from ziptieai import nn, optim
from ziptieai.data.dataloader import DataLoader
from ziptieai.data.dataset import TensorDataset
from ziptieai.train import Callback, NonFiniteError, evaluate, fit
from ziptieai.train.checkpoint import load

X, Y = zt.data.make_moons(96, seed=0)
XV, YV = zt.data.make_moons(40, seed=1)


def setup(seed=0, opt="adam"):
    zt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    o = optim.Adam(model.parameters(), lr=0.01) if opt == "adam" else \
        optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)
    loader = DataLoader(TensorDataset(X, Y), batch_size=10, shuffle=True)
    return model, o, sched, loader


def run(epochs, seed=0, **kw):
    model, o, sched, loader = setup(seed)
    history = fit(model, nn.CrossEntropyLoss(), o, loader, (XV, YV), epochs=epochs,
                  scheduler=sched, progress=False, **kw)
    return model, o, history


def params(model):
    return [p.data.copy() for p in model.parameters()]


def test_same_seed_is_bit_identical_and_other_seeds_differ():
    a, _, ha = run(3)
    b, _, hb = run(3)
    c, _, _ = run(3, seed=1)
    for x, y in zip(params(a), params(b)):
        np.testing.assert_array_equal(x, y)
    assert ha["train_loss"] == hb["train_loss"]
    assert any(not np.array_equal(x, y) for x, y in zip(params(a), params(c)))


class KillAt(Callback):
    """Simulates a crash: raises after `step` training steps."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer):
        if trainer.step == self.step:
            raise KeyboardInterrupt("killed")


@pytest.mark.parametrize("kill_step,every", [(50, None), (23, 7), (29, 1)])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, kill_step, every):
    full, full_opt, full_history = run(6)
    path = tmp_path / "ckpt.safetensors"
    with pytest.raises(KeyboardInterrupt):
        run(6, checkpoint=path, checkpoint_every=every, callbacks=[KillAt(kill_step)])
    zt.manual_seed(1234)  # the checkpoint must restore every random state itself
    model, o, sched, loader = setup(seed=7)  # different init: all of it comes from the file
    history = fit(model, nn.CrossEntropyLoss(), o, loader, (XV, YV), epochs=6,
                  scheduler=sched, progress=False, checkpoint=path, checkpoint_every=every,
                  resume=path)
    for x, y in zip(params(full), params(model)):
        np.testing.assert_array_equal(x, y)
    for p, q in zip(full.parameters(), model.parameters()):
        for key, value in full_opt.state[p].items():
            np.testing.assert_array_equal(value, o.state[q][key])
    assert history["train_loss"] == full_history["train_loss"]
    assert history["val_loss"] == full_history["val_loss"]
    assert history["lr"] == full_history["lr"]


def test_non_finite_loss_stops_before_the_update_and_keeps_the_checkpoint(tmp_path):
    model, o, sched, _ = setup()
    bad_X = X.copy()
    bad_X[50] = np.nan
    loader = DataLoader(TensorDataset(bad_X, Y), batch_size=10, shuffle=False)
    path = tmp_path / "c.safetensors"
    with pytest.raises(NonFiniteError, match=r"epoch 1, step 6 \(batch 6.*loss is nan"):
        fit(model, nn.CrossEntropyLoss(), o, loader, epochs=3, progress=False,
            checkpoint=path, checkpoint_every=2)
    saved = load(path)
    assert saved["step"] == 4
    # the failing step changed nothing: the model still holds the step-5 weights, finite
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_non_finite_gradient_names_the_parameter():
    class Root(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.zeros(1, np.float32))
            self.head = nn.Linear(2, 2)

        def forward(self, x):
            return self.head(x) * self.scale.sqrt()  # d√s/ds is infinite at s = 0

    model = Root()
    o = optim.SGD(model.parameters(), lr=0.1)
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(NonFiniteError, match=r"gradient of 'scale' \(shape \(1,\)\) has "
                                                  r"\d+ NaN and \d+ Inf"):
            fit(model, nn.CrossEntropyLoss(), o, (X, Y), epochs=1, progress=False)
    np.testing.assert_array_equal(model.scale.data, [0.0])


def test_stopping_rules_say_which():
    _, _, h = run(30, until_accuracy=0.8)
    assert h.stop_reason.startswith("until_accuracy") and h.last("val_accuracy") >= 0.8
    _, _, h = run(30, until_loss=0.6)
    assert h.stop_reason.startswith("until_loss") and h.last("val_loss") <= 0.6
    _, _, h = run(2)
    assert h.stop_reason == "epochs: reached 2" and len(h) == 2
    model, o, _, loader = setup()
    o.param_groups[0]["lr"] = 0.0  # nothing can improve after the first epoch
    h = fit(model, nn.CrossEntropyLoss(), o, loader, (XV, YV), epochs=30, patience=3,
            progress=False)
    assert h.stop_reason.startswith("patience: 3") and len(h) == 4


def test_callbacks_see_every_step_and_can_stop():
    class Count(Callback):
        steps = 0

        def on_step_end(self, trainer):
            Count.steps += 1

        def on_epoch_end(self, trainer):
            if trainer.epoch == 2:
                trainer.stop = "enough"

    _, _, h = run(10, callbacks=[Count()])
    assert h.stop_reason == "enough" and Count.steps == 2 * 10


def test_evaluate_matches_hand_computed_metrics():
    model, *_ = setup()
    model.eval()
    result = evaluate(model, (XV, YV), nn.CrossEntropyLoss())
    logits = model(zt.tensor(XV)).data
    assert result["accuracy"] == np.mean(logits.argmax(1) == YV)
    assert model.training is False  # restored as it was
    zt.manual_seed(0)
    reg = nn.Linear(2, 1)
    target = (XV[:, :1] * 2.0 + 1.0).astype(np.float32)
    r = evaluate(reg, (XV, target), nn.MSELoss())
    pred = reg(zt.tensor(XV)).data.astype(np.float64)
    rmse = np.sqrt(np.mean((pred - target) ** 2))
    r2 = 1 - np.sum((pred - target) ** 2) / np.sum((target - target.mean()) ** 2)
    np.testing.assert_allclose([r["rmse"], r["r2"]], [rmse, r2], rtol=1e-9)
    np.testing.assert_allclose(r["loss"], rmse**2, rtol=1e-5)


def test_bad_arguments_are_named():
    model, o, *_ = setup()
    with pytest.raises(ValueError, match="epochs=0"):
        fit(model, nn.CrossEntropyLoss(), o, (X, Y), epochs=0)
    with pytest.raises(ValueError, match="until_accuracy=1.5"):
        fit(model, nn.CrossEntropyLoss(), o, (X, Y), until_accuracy=1.5)
    with pytest.raises(ValueError, match="patience=0"):
        fit(model, nn.CrossEntropyLoss(), o, (X, Y), patience=0)
    with pytest.raises(ValueError, match="classification loss, got MSELoss"):
        fit(model, nn.MSELoss(), o, (X, Y), until_accuracy=0.9)


def test_callbacks_hear_the_end_even_when_training_fails():
    class Ends(Callback):
        error = "not called"

        def on_train_end(self, trainer):
            Ends.error = trainer.error

    with pytest.raises(KeyboardInterrupt):
        run(3, callbacks=[KillAt(5), Ends()])
    assert isinstance(Ends.error, KeyboardInterrupt)
    run(1, callbacks=[Ends()])
    assert Ends.error is None
