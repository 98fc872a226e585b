"""Function: the base of every differentiable op, and the graph node it leaves behind.

An op is a subclass with two static methods on NumPy arrays:

    forward(ctx, *arrays, **params) -> array      # may keep what backward needs in ctx.saved
    backward(ctx, grad) -> tuple                  # one gradient (or None) per input

`Op.apply(*inputs, **params)` runs forward on the inputs' arrays and, when grad mode is on and
an input requires grad, makes the ctx the output's graph node: `ctx.parents` holds the input
Tensors that require grad (None elsewhere). The node refers to its inputs, never to its output,
so the graph is a DAG that reference counting frees; nothing here creates a cycle.
Broadcasting is undone once, in the engine: a backward returns gradients in the shape
its forward broadcast to, and the engine sums them down to each input's shape.
"""

from __future__ import annotations

import numpy as np

from . import grad_mode

_grad_state = grad_mode.state


class _Released:
    """Marker for a node whose saved arrays were freed by a backward pass."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<released>"


RELEASED = _Released()


class Function:
    """Base of every op; an instance is the graph node (the `ctx`) of the tensor it made."""

    __slots__ = ("parents", "saved")

    @staticmethod
    def forward(ctx: "Function", *args, **params):  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def backward(ctx: "Function", grad: np.ndarray) -> tuple:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors (or plain numbers/arrays, treated as constants)."""
        ctx = cls.__new__(cls)
        ctx.saved = None
        arrays = []
        parents = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                if x.requires_grad:
                    parents.append(x)
                    record = True
                else:
                    parents.append(None)
            else:
                if isinstance(x, np.generic):
                    # NOTE: a NumPy scalar would upcast float32 arrays under NumPy 2; a Python
                    # number adopts the array's dtype.
                    x = x.item()
                arrays.append(x)
                parents.append(None)
        out = cls.forward(ctx, *arrays, **params)
        result = Tensor.__new__(Tensor)
        result.data = out
        result.grad = None
        if record and _grad_state.enabled:
            ctx.parents = tuple(parents)
            result.requires_grad = True
            result._ctx = ctx
        else:
            result.requires_grad = False
            result._ctx = None
        return result

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


from ..tensor import Tensor  # noqa: E402  (tensor.py imports the ops that import this module)
