"""ZiptieAI: train small neural networks fast on a CPU, and see every step of the loop.

    pred = model(X)              # forward pass
    loss = loss_fn(pred, Y)      # loss: how wrong, one number
    loss.backward()              # backward pass: a gradient for every weight
    optimizer.step()             # update: w ← w − lr·g

The names and semantics follow PyTorch's, so what you learn here carries over.
"""

from .tensor import Tensor, tensor  # noqa: I001  (tensor first: the ops import it)
from .autograd import enable_grad, is_grad_enabled, no_grad
from .ops.elementwise import clip, where
from .ops.linalg import matmul
from .ops.movement import cat, concat, stack
from .random import manual_seed
from . import data, functional, nn, optim, train
from .train.checkpoint import load, save

clamp = clip

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed",
    "matmul", "concat", "cat", "stack", "clip", "clamp", "where", "functional", "nn", "optim",
    "data", "train", "save", "load",
]
