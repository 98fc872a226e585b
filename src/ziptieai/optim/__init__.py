"""`ziptieai.optim`: optimizers with torch.optim's semantics; update rules in `functional`."""

from . import functional
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "functional"]
