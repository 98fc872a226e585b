"""`ziptieai.optim`: optimizers with torch.optim's semantics.

The update rules are pure functions in `functional` (each readable as its formula); the
classes hold parameter groups and state and call them; `flat` is the fused path (one flat
buffer per group, the same rules over L2-sized chunks), on by default where it applies.
"""

from . import functional, lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam",
           "functional", "lr_scheduler"]
