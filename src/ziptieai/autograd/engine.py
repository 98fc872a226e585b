"""backward(): reverse-mode differentiation over the graph (a tensor made by an op is a node).

Iterative throughout: a chain of 100,000 ops never touches the recursion limit.
1. Nodes are visited newest first (a heap on their creation number), which is a topological
   order: every consumer of a tensor is younger than the tensor.
2. From the root: each node's backward turns its output gradient into one gradient
   per input; `unbroadcast` sums those down to the input's shape; gradients meeting at a
   node are summed before it runs; leaves accumulate into `.grad`, as in torch.
3. Unless `retain_graph`, each node drops its saved arrays and its parents once used, so the
   graph's memory goes back as soon as the pass is over; a node left with no parents is
   how a second pass through a released graph is detected (a recorded node always has one).
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np


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


# Called with the root tensor at the start of every backward(): how ziptieai.inspect sees
# the loss of a step without changing the user's loop. See `register_backward_hook`.
_backward_hooks: dict = {}


def register_backward_hook(hook):
    """Call `hook(root)` at the start of every backward pass; returns a handle whose
    remove() detaches it."""
    from ..nn.module import RemovableHandle

    return RemovableHandle(_backward_hooks, hook)


def backward(root, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad` (see `Tensor.backward`)."""
    if _backward_hooks:
        for hook in list(_backward_hooks.values()):
            hook(root)
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
        gradient = np.ones(root.data.shape, root.data.dtype)
    else:
        gradient = np.asarray(getattr(gradient, "data", gradient), dtype=root.data.dtype)
        if gradient.shape != root.data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {gradient.shape} but the tensor has shape "
                f"{root.data.shape}"
            )
    if root.grad_fn is None:  # a leaf: d(root)/d(root) = 1
        _store_leaf_grads([root], {root: gradient}, set())
        return
    # NOTE: a tensor made by an op is its own graph node. Gradients waiting for their node are
    # summed in `pending`, keyed by tensor; a leaf's .grad is written once, at the end.
    # A max-heap on creation number yields each node after all its consumers (they are
    # younger), discovering the graph as it goes: no separate sort, and `pending` doubles as
    # the visited set. While a single node is waiting (a chain) it skips the heap and the
    # dict: it is `nxt`, its gradient `nxt_grad`.
    pending = {}
    pop, get = pending.pop, pending.get
    leaves = []
    heap = []
    release = not retain_graph
    nxt, nxt_grad = root, gradient
    while True:
        if nxt is not None:
            node, grad, nxt = nxt, nxt_grad, None
        elif heap:
            node = heappop(heap)[1]
            grad = pop(node)
        else:
            break
        parents = node.parents
        if not parents:  # released by an earlier backward
            raise _released_error(node)
        input_grads = node.grad_fn.backward(node, grad)
        if release:
            node.saved = None
            node.parents = ()
        # NOTE: the hottest case, a one-input op in a chain (`nxt` is None here and nothing else
        # waits): its gradient already has its input's shape (only several inputs broadcast)
        # and goes straight to that input's node.
        if len(parents) == 1 and not heap and parents[0].grad_fn is not None:
            nxt_grad = input_grads[0]
            nxt = parents[0] if nxt_grad is not None else None  # None: no gradient flows on
            continue
        for parent, g in zip(parents, input_grads):
            if parent is None or g is None:
                continue
            if g.shape != parent.data.shape:
                g = unbroadcast(g, parent.data.shape)
            if parent is nxt:
                nxt_grad = nxt_grad + g
                continue
            prev = get(parent)
            if prev is not None:
                pending[parent] = prev + g
            elif parent.grad_fn is None:  # a leaf
                pending[parent] = g
                leaves.append(parent)
            elif nxt is None and not heap:
                nxt, nxt_grad = parent, g
            else:
                if nxt is not None:  # a second node waits: both go to the heap
                    pending[nxt] = nxt_grad
                    heappush(heap, (-nxt.seq, nxt))
                    nxt = None
                pending[parent] = g
                heappush(heap, (-parent.seq, parent))
    _store_leaf_grads(leaves, pending, {id(gradient)})


def _store_leaf_grads(leaves: list, pending: dict, handed_out: set) -> None:
    """Accumulate each leaf's summed gradient into its .grad, as torch does.

    NOTE: a backward may return its incoming gradient, or a view of it, to several inputs;
    a leaf's .grad is accumulated in place later, so it must own its memory: views and
    arrays already handed out (or given by the caller) are copied, fresh ones are kept.
    """
    for leaf in leaves:
        g = pending[leaf]
        if type(g) is not np.ndarray:  # a NumPy scalar, from arithmetic on 0-d arrays
            g = np.array(g, dtype=leaf.data.dtype)
        if leaf.grad is not None:
            leaf.grad += g
            continue
        slot = leaf._grad_slot  # a view of an optimizer's flat gradient buffer
        if slot is not None:
            np.copyto(slot, g)
            leaf.grad = slot
            continue
        if g.dtype != leaf.data.dtype:
            g = g.astype(leaf.data.dtype)
        elif g.base is not None or id(g) in handed_out:
            g = g.copy()
        handed_out.add(id(g))
        leaf.grad = g


def _released_error(node) -> RuntimeError:
    return RuntimeError(
        f"backward: trying to backward through the graph a second time "
        f"(at {node.grad_fn.__name__}): "
        "its saved values were freed by the first backward. Pass retain_graph=True to the "
        "first backward() if you need a second pass, or recompute the forward."
    )
