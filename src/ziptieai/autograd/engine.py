"""backward(): reverse-mode differentiation over the graph of Function nodes.

Iterative throughout: a chain of 100,000 ops never touches the recursion limit.
1. Topological order of the nodes reachable from the root (explicit stack, post-order).
2. Walk it from the root: each node's backward turns its output gradient into one gradient
   per input; `unbroadcast` sums those down to the input's shape; gradients meeting at a
   node are summed before it runs; leaves accumulate into `.grad`, as in torch.
3. Unless `retain_graph`, each node drops its saved arrays and its parents once used, so the
   graph's memory goes back as soon as the pass is over, and a second pass is an error.
"""

from __future__ import annotations

import numpy as np

from .function import RELEASED, Function


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape`."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise RuntimeError(f"internal: gradient of shape {grad.shape} cannot reduce to {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(f"internal: gradient of shape {grad.shape} does not match {shape}")
    return grad


def topological_order(root: Function) -> list:
    """Nodes reachable from `root`, each after every node that consumes its output."""
    order = []
    seen = {root}
    stack = [(root, False)]
    push, pop = stack.append, stack.pop
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        push((node, True))
        for parent in node.parents:
            if parent is not None:
                ctx = parent._ctx
                if ctx is not None and ctx not in seen:
                    seen.add(ctx)
                    push((ctx, False))
    order.reverse()
    return order


def backward(root, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad` (see `Tensor.backward`)."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph; "
            "create the inputs with requires_grad=True (and not under no_grad())"
        )
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: the gradient can be created implicitly only for a tensor with one "
                f"element, and this one has shape {root.data.shape}; pass gradient= an array "
                f"of that shape, or reduce it first (e.g. .sum() or .mean())"
            )
        gradient = np.ones_like(root.data)
    else:
        gradient = np.asarray(getattr(gradient, "data", gradient), dtype=root.data.dtype)
        if gradient.shape != root.data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {gradient.shape} but the tensor has shape "
                f"{root.data.shape}"
            )
    ctx = root._ctx
    if ctx is None:  # a leaf: d(root)/d(root) = 1
        _accumulate(root, gradient, fresh=False)
        return
    if ctx.saved is RELEASED:
        raise _released_error(ctx)
    pending = {ctx: gradient}
    for node in topological_order(ctx):
        grad = pending.pop(node)
        if node.saved is RELEASED:
            raise _released_error(node)
        input_grads = node.backward(node, grad)
        parents = node.parents
        if not retain_graph:
            node.saved = RELEASED
            node.parents = ()
        for parent, g in zip(parents, input_grads):
            if parent is None or g is None:
                continue
            shape = parent.data.shape
            if g.shape != shape:
                g = unbroadcast(g, shape)
            parent_ctx = parent._ctx
            if parent_ctx is None:
                # NOTE: a backward may hand back its own incoming gradient or a view of it;
                # a leaf must own its .grad (it is accumulated in place), so copy those.
                _accumulate(parent, g, fresh=g is not grad and g.base is None)
            else:
                prev = pending.get(parent_ctx)
                pending[parent_ctx] = g if prev is None else prev + g


def _accumulate(leaf, g: np.ndarray, fresh: bool) -> None:
    dtype = leaf.data.dtype
    if g.dtype != dtype:
        g, fresh = g.astype(dtype), True
    if leaf.grad is None:
        leaf.grad = g if fresh else g.copy()
    else:
        leaf.grad += g


def _released_error(node: Function) -> RuntimeError:
    return RuntimeError(
        f"backward: trying to backward through the graph a second time (at {node.name}): "
        "its saved values were freed by the first backward. Pass retain_graph=True to the "
        "first backward() if you need a second pass, or recompute the forward."
    )
