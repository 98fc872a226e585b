"""Reverse-mode automatic differentiation: Function nodes, the engine, grad mode, gradcheck."""

from .engine import backward, register_backward_hook, unbroadcast
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, numerical_grad

__all__ = ["Function", "backward", "unbroadcast", "no_grad", "enable_grad", "is_grad_enabled",
           "gradcheck", "numerical_grad", "GradcheckError", "register_backward_hook"]
