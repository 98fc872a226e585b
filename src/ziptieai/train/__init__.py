"""`ziptieai.train`: the training loop (fit, evaluate) and checkpoints."""

from .checkpoint import CheckpointError, load, save

__all__ = ["save", "load", "CheckpointError"]
