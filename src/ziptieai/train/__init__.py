"""`ziptieai.train`: the training loop (fit, evaluate), metrics and checkpoints."""

from .checkpoint import CheckpointError, load, save
from .loop import Callback, History, NonFiniteError, evaluate, fit

__all__ = ["fit", "evaluate", "History", "Callback", "NonFiniteError", "save", "load",
           "CheckpointError"]
