"""A sub-second smoke set: the README loop runs, the demo runs, the loss falls."""

import numpy as np

import ziptieai as zt
from ziptieai import demo, nn


def test_readme_four_line_loop_learns():
    zt.manual_seed(0)
    X_np, labels = zt.data.make_moons(100, seed=0)
    X, Y = zt.tensor(X_np), zt.tensor(labels)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = zt.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(100):
        optimizer.zero_grad()
        pred = model(X)
        loss = loss_fn(pred, Y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(pred.data.argmax(1) == labels) > 0.85


def test_demo_runs_and_the_loss_falls(capsys):
    final = demo.main(steps=60)
    out = capsys.readouterr().out
    assert "step" in out and final < 0.5
