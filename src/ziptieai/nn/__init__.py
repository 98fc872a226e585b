"""`ziptieai.nn`: modules (layers with parameters), activations, normalization and losses."""

from . import functional, init, utils
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .losses import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, L1Loss, MSELoss, NLLLoss,
)
from .module import Module, Parameter
from .norm import BatchNorm1d, LayerNorm
from .sparse import Embedding

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Flatten",
    "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "GELU", "Softmax", "Dropout", "LayerNorm",
    "BatchNorm1d", "Embedding", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss",
    "BCEWithLogitsLoss", "BCELoss", "HingeLoss", "functional", "init", "utils",
]
