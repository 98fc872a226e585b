"""inspect.graph: the DOT text of a computation graph, its errors, and `render`."""

from __future__ import annotations

import re
import stat

import numpy as np
import pytest

import ziptieai as zt
from ziptieai.inspect import graph
from ziptieai.inspect.graph import draw_graph, render

_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[label=\" (\d+)\"\])?;", re.M)


def parse(dot: str):
    """{node id: label} and [(source, target, input slot or None)] from our DOT text."""
    nodes = dict(_NODE.findall(dot))
    edges = [(a, b, int(s) if s else None) for a, b, s in _EDGE.findall(dot)]
    return nodes, edges


def ops_named(nodes: dict, name: str) -> list:
    return [k for k, label in nodes.items() if k.startswith("op") and label == name]


def test_small_expression_has_its_ops_and_edges():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    w = zt.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w - 2.0).sum()
    dot = draw_graph(y)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    (mul,), (sub,), (total,) = (ops_named(nodes, n) for n in ("Mul", "Sub", "Sum"))
    into = {op: sorted((slot, nodes[src]) for src, dst, slot in edges if dst == op)
            for op in (mul, sub, total)}
    # Mul's inputs are the two leaves, in order, with their values
    assert [slot for slot, _ in into[mul]] == [0, 1]
    assert "leaf" in into[mul][0][1] and "[1., 2.]" in into[mul][0][1]
    assert "leaf" in into[mul][1][1] and "[3., 4.]" in into[mul][1][1]
    # input → op → output: Mul's output feeds Sub (slot 0); the 2.0 is a constant (slot 1)
    (mul_out,) = [dst for src, dst, _ in edges if src == mul]
    assert (mul_out, sub, 0) in edges
    assert "constant" in into[sub][1][1]
    (sum_in,) = [src for src, dst, _ in edges if dst == total]
    assert (sub, sum_in, None) in edges
    (out,) = [dst for src, dst, _ in edges if src == total]
    # the output: a 0-d tensor holding 1·3 + 2·4 − 2 − 2 = 7
    assert nodes[out].startswith("output\\nscalar  float32") and nodes[out].endswith("\\n7.")
    assert "2  float32" in nodes[mul_out]  # shape and dtype


def test_parameters_are_named_and_values_hidden_when_asked():
    model = zt.nn.Linear(3, 2)
    X = zt.tensor(np.ones((4, 3), dtype=np.float32))
    loss = model(X).sum()
    for names in (model, {id(p): n for n, p in model.named_parameters()}):
        nodes, _ = parse(draw_graph(loss, names=names))
        labels = "\n".join(nodes.values())
        assert "parameter\\nweight" in labels and "parameter\\nbias" in labels
    nodes, _ = parse(draw_graph(loss, show_values=False))
    bias = [label for label in nodes.values() if label.startswith("leaf\\n2  ")]
    assert bias == ["leaf\\n2  float32"]  # no values
    nodes, _ = parse(draw_graph(loss))
    assert not any("[[1., 1., 1.]" in label for label in nodes.values())  # 12 values: too many
    with pytest.raises(TypeError, match="names="):
        draw_graph(loss, names=[1, 2])
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))


def test_a_leaf_alone_and_a_shared_input():
    x = zt.tensor([2.0], requires_grad=True)
    nodes, edges = parse(draw_graph(x))
    assert list(nodes) == ["t0"] and edges == []
    y = x * x  # one node for x, two edges into Mul
    nodes, edges = parse(draw_graph(y))
    leaves = [k for k, label in nodes.items() if label.startswith("leaf")]
    assert len(leaves) == 1
    assert sorted(slot for src, _, slot in edges if src == leaves[0]) == [0, 1]


def test_released_graph_gives_a_clear_error():
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert "grad [2., 4.]" in draw_graph(y)  # retained: drawable, with the gradients
    y.backward()
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*before backward\(\)"):
        draw_graph(y)


def test_no_recursion_on_a_long_chain():
    x = zt.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    nodes, edges = parse(draw_graph(y, show_values=False))
    assert len(ops_named(nodes, "Tanh")) == 10_000
    assert len(edges) == 20_000


def test_render_without_dot_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render("digraph g {}", tmp_path / "g.svg")
    with pytest.raises(ValueError, match="format"):
        render("digraph g {}", tmp_path / "g.txt")


def test_render_calls_dot(monkeypatch, tmp_path):
    fake = tmp_path / "dot"  # writes its stdin to the -o file: checks the command line
    fake.write_text('#!/bin/sh\n[ "$1" = "-Tpng" ] && [ "$2" = "-o" ] && cat > "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(graph.shutil, "which", lambda name: str(fake))
    text = draw_graph(zt.tensor([1.0], requires_grad=True).exp())
    out = render(text, tmp_path / "g.png")
    assert out.read_text() == text
    fake.write_text("#!/bin/sh\necho 'syntax error' >&2\nexit 1\n")
    with pytest.raises(RuntimeError, match="syntax error"):
        render(text, tmp_path / "g.png")


@pytest.mark.skipif(graph.shutil.which("dot") is None, reason="graphviz is not installed")
def test_render_with_real_graphviz(tmp_path):
    x = zt.tensor([1.0, 2.0], requires_grad=True)
    out = render(draw_graph((x * 2.0).sum()), tmp_path / "g.svg")
    assert out.read_text().lstrip().startswith("<?xml")
