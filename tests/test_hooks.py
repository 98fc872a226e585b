"""Hooks the teaching layer builds on: module forward, optimizer step, engine backward."""

import numpy as np

import ziptieai as zt
from ziptieai import nn, optim
from ziptieai.autograd import register_backward_hook


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    layer = nn.Linear(2, 3)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, args[0], out)))
    x = zt.tensor(np.ones((4, 2), np.float32))
    out = layer(x)
    assert seen[0][0] is layer and seen[0][1] is x and seen[0][2] is out
    handle.remove()
    layer(x)
    assert len(seen) == 1
    with layer.register_forward_hook(lambda m, a, o: o * 0):
        assert np.all(layer(x).data == 0)  # a returned value replaces the output
    assert not np.all(layer(x).data == 0)


def test_step_hooks_run_around_the_update():
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.5)
    values = []
    opt.register_step_pre_hook(lambda o, a, k: values.append(("pre", p.data.copy())))
    post = opt.register_step_post_hook(lambda o, a, k: values.append(("post", p.data.copy())))
    p.grad = np.ones(2)
    opt.step()
    assert [v[0] for v in values] == ["pre", "post"]
    np.testing.assert_array_equal(values[0][1], [1, 1])
    np.testing.assert_array_equal(values[1][1], [0.5, 0.5])
    post.remove()
    opt.step()
    assert len(values) == 3


def test_backward_hook_sees_the_root():
    roots = []
    with register_backward_hook(roots.append):
        x = zt.tensor([1.0, 2.0], requires_grad=True)
        loss = (x * x).sum()
        loss.backward()
    assert roots == [loss]
    (x * x).sum().backward()
    assert len(roots) == 1
