"""The computation graph behind a tensor, as Graphviz DOT text.

    x = zt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    print(draw_graph(y))            # DOT text: paste into any Graphviz viewer
    render(draw_graph(y), "y.svg")  # or let the `dot` program draw it (needs graphviz)

What lives here: walking the graph (iteratively, so a chain of 100,000 ops is fine) and writing
DOT text, plus `render`, a thin call to the `dot` program. What does not: any drawing library;
the DOT text needs no dependency at all.

How the graph is read. Each tensor made by an op is that op's node: `tensor.grad_fn` is the op
(a `Function` class) and `tensor.parents` holds the op's inputs that require grad (an input
that does not, a constant, is None there). So from the output we walk back: tensor → op →
inputs; the picture draws the op as its own ellipse between them.
Constants are not kept by the graph, so they show as a small dashed "constant" box.

NOTE: backward() frees the graph as it goes (each node drops its saved arrays and its inputs),
so draw the graph BEFORE calling backward(), or call backward(retain_graph=True).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from ..tensor import Tensor

__all__ = ["draw_graph", "render"]

_MAX_VALUES = 8  # a tensor with at most this many elements shows its values


def draw_graph(tensor: Tensor, show_values: bool = True, names=None,
               max_values: int = _MAX_VALUES) -> str:
    """DOT text of the graph that produced `tensor`: tensors, the ops between them, the edges.

    Tensor nodes (boxes) show shape and dtype and, when `show_values` and they have at most
    `max_values` elements, their values (and `.grad` where one is set). Leaves are marked
    ("leaf", shaded) and parameters are named by `names`: a dict {id(param): "name"} or a
    Module (its `named_parameters()` are used). Op nodes (ellipses) carry the op's name; the
    edges run input → op → output, and each input of a two-input op is numbered (0, 1), since
    `a - b` is not `b - a`. Raises RuntimeError on a graph already freed by backward().

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> text = draw_graph((x * x).sum())
    >>> "Mul" in text and "Sum" in text and text.startswith("digraph")
    True
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    names = _names_of(names)
    ids: dict = {}  # (prefix, id(tensor)) -> DOT name; the tensors are kept alive in `keep`
    keep: list = []
    counts = {"t": 0, "op": 0}

    def dot_id(obj, prefix: str) -> str:
        key = (prefix, id(obj))
        if key not in ids:
            ids[key] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
            keep.append(obj)
        return ids[key]

    tensor_lines: list = []
    op_lines: list = []
    edges: list = []
    # NOTE: an explicit stack, not recursion: the walk is as deep as the graph is long.
    stack = [tensor]
    seen = {id(tensor)}
    while stack:
        t = stack.pop()
        t_id = dot_id(t, "t")
        tensor_lines.append(_tensor_node(t_id, t, t is tensor, names, show_values, max_values))
        op = t.grad_fn
        if op is None:
            continue
        parents = t.parents
        if not parents:
            raise RuntimeError(
                f"draw_graph: the graph through {op.__name__} was freed by backward() (each "
                "node drops its inputs once used). Call draw_graph before backward(), or "
                "pass retain_graph=True to backward(), or recompute the forward pass."
            )
        op_id = dot_id(t, "op")
        op_lines.append(f'  {op_id} [label="{_escape(op.__name__)}", shape=ellipse, '
                        'style=filled, fillcolor="#fde9c9"];')
        edges.append(f"  {op_id} -> {t_id};")
        numbered = len(parents) > 1
        for slot, parent in enumerate(parents):
            label = f' [label=" {slot}"]' if numbered else ""
            if parent is None:  # an input that needs no gradient: the graph did not keep it
                c_id = f"{op_id}_c{slot}"
                op_lines.append(f'  {c_id} [label="constant", shape=box, style=dashed, '
                                'fontsize=10];')
                edges.append(f"  {c_id} -> {op_id}{label};")
                continue
            edges.append(f"  {dot_id(parent, 't')} -> {op_id}{label};")
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    header = ["digraph graph_of_tensor {",
              '  node [fontname="Helvetica", fontsize=11];',
              '  edge [fontname="Helvetica", fontsize=9];']
    return "\n".join(header + tensor_lines + op_lines + edges + ["}"]) + "\n"


def render(dot_text: str, path, format: str | None = None) -> Path:
    """Draw DOT text to `path` with Graphviz's `dot` program; returns the path.

    The format comes from the suffix (.svg, .png, .pdf) unless `format` is given. Needs the
    `dot` program on PATH (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install
    graphviz`); without it, a RuntimeError says so (the DOT text itself needs nothing).
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render: cannot tell the format from {path.name!r}; use a .svg, "
                         f".png or .pdf path, or pass format=")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: the Graphviz `dot` program was not found on PATH. Install it "
            "(`apt-get install graphviz`, or `brew install graphviz`), or paste the text of "
            "draw_graph() into any online Graphviz viewer."
        )
    done = subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=dot_text.encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot exited with code {done.returncode}: "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return path


# ---- labels ------------------------------------------------------------------------------
def _names_of(names) -> dict:
    if names is None:
        return {}
    if isinstance(names, dict):
        return names
    named = getattr(names, "named_parameters", None)
    if named is None:
        raise TypeError(f"draw_graph: names= must be a dict {{id(param): name}} or a Module, "
                        f"got {type(names).__name__}")
    return {id(p): name for name, p in named()}


def _tensor_node(t_id: str, t: Tensor, is_output: bool, names: dict, show_values: bool,
                 max_values: int) -> str:
    lines = []
    name = names.get(id(t))
    if name is not None:
        lines.append(name)
    shape = "×".join(map(str, t.data.shape)) if t.data.ndim else "scalar"
    lines.append(f"{shape}  {t.data.dtype}")
    if show_values and t.data.size <= max_values:
        lines.append(_values(t.data))
        if t.grad is not None:
            lines.append("grad " + _values(np.asarray(t.grad)))
    if t.grad_fn is None:
        kind = "parameter" if name is not None else ("leaf" if t.requires_grad else "constant")
        lines.insert(0, kind)
        fill = "#cfe2f3" if t.requires_grad else "#eeeeee"
    else:
        fill = "#d9ead3" if is_output else "white"
    if is_output:
        lines.insert(0, "output")
    label = "\\n".join(_escape(line) for line in lines)
    return f'  {t_id} [label="{label}", shape=box, style="filled,rounded", fillcolor="{fill}"];'


def _values(array: np.ndarray) -> str:
    text = np.array2string(array, precision=4, separator=", ", suppress_small=True)
    return " ".join(text.split())  # one line: DOT labels break only where we say


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
