"""Tensor: a NumPy array, its gradient, and the op that made it. No math lives here.

Every method is a one-line delegation to an op in `ziptieai.ops`, so what a Tensor can do and
how it is differentiated are read in one place (each op's backward sits beside its forward).
"""

from __future__ import annotations

import numpy as np

def as_array(data, dtype=None) -> np.ndarray:
    """The ndarray for `tensor(data, dtype)`, with torch's dtype rules.

    Python floats and lists of them become float32 (torch's default dtype); NumPy arrays keep
    their dtype (float64 stays float64, as torch.tensor does); integers become int64; bools bool.
    Strings and objects are refused.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        arr = data
    else:
        arr = np.asarray(data)
        if arr.dtype.kind == "f" and not isinstance(data, np.generic):
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu" and not isinstance(data, np.generic):
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor: cannot make a tensor from data of dtype {arr.dtype} "
            f"({type(data).__name__}); use numbers, nested lists of numbers, or a numeric array"
        )
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"tensor: dtype {dtype} is not supported; use a float, int or bool dtype")
        arr = arr.astype(dtype, copy=False)
    return arr


class Tensor:
    """An n-dimensional array that records the ops applied to it, for `backward()`.

    Attributes, as in torch: `data` (the ndarray), `grad` (an ndarray or None), `requires_grad`,
    `grad_fn` (the op that made it, None for a leaf), `shape`, `dtype`, `ndim`. Operators, NumPy-style broadcasting and the usual methods
    (`sum`, `mean`, `reshape`, `tanh`, `@`, indexing, ...) all build the graph.

    >>> x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
    """

    # NOTE: a tensor made by a recording op is also its graph node (see autograd.function):
    # `grad_fn` the op, `parents` its inputs that require grad, `saved` what its backward
    # needs, `seq` its creation number. Leaves have grad_fn None and no node fields.
    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "parents", "saved", "seq",
                 "__weakref__")
    _grad_slot = None  # see nn.Parameter: where backward puts a fresh gradient
    # NOTE: makes `ndarray * Tensor` defer to Tensor.__rmul__ instead of NumPy broadcasting
    # over a Tensor-valued object array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = as_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- basics -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op): only leaves get `.grad`."""
        return self.grad_fn is None

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"this one has dtype {self.data.dtype}"
            )
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_: cannot turn off grad on a non-leaf; use detach()")
        self.requires_grad = requires_grad
        return self

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), like torch's `.numpy()`."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor can be turned into a Python number, "
                f"this one has shape {self.data.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (no grad)."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out.requires_grad, out.grad_fn = self.data, None, False, None
        return out

    def clone(self) -> "Tensor":
        return Clone.apply(self)

    def astype(self, dtype) -> "Tensor":
        return Cast.apply(self, dtype=np.dtype(dtype))

    to = astype

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    def long(self) -> "Tensor":
        return self.astype(np.int64)

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self.data
        return self.data.astype(dtype)

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        Gradients accumulate into the leaves' `.grad` (zero them between steps). A tensor with
        more than one element needs `gradient`, the upstream d(out)/d(self), of its shape.
        """
        backward(self, gradient, retain_graph)

    def zero_(self) -> "Tensor":
        self.data[...] = 0
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extras = [f"shape={self.data.shape}"] if self.data.ndim > 1 else []
        if self.data.dtype != np.float32:
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn.__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with shape {self.data.shape} is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    # ---- arithmetic: each a one-line delegation to an op ---------------------------------
    def __add__(self, other): return apply_binary(Add, self, other)  # noqa: E704
    def __sub__(self, other): return apply_binary(Sub, self, other)  # noqa: E704
    def __mul__(self, other): return apply_binary(Mul, self, other)  # noqa: E704
    def __truediv__(self, other): return apply_binary(Div, self, other)  # noqa: E704
    def __pow__(self, other): return apply_binary(Pow, self, other)  # noqa: E704
    def __neg__(self): return apply_unary(Neg, self)  # noqa: E704
    def __abs__(self): return apply_unary(Abs, self)  # noqa: E704
    add, sub, mul, div, pow, neg, abs = (
        __add__, __sub__, __mul__, __truediv__, __pow__, __neg__, __abs__)
    def exp(self): return apply_unary(Exp, self)  # noqa: E704
    def log(self): return apply_unary(Log, self)  # noqa: E704
    def sqrt(self): return apply_unary(Sqrt, self)  # noqa: E704
    def tanh(self): return apply_unary(Tanh, self)  # noqa: E704
    def sigmoid(self): return apply_unary(Sigmoid, self)  # noqa: E704
    def relu(self): return apply_unary(Relu, self)  # noqa: E704
    def maximum(self, other): return apply_binary(Maximum, self, other)  # noqa: E704
    def minimum(self, other): return apply_binary(Minimum, self, other)  # noqa: E704
    def __radd__(self, other): return apply_binary(Add, other, self)  # noqa: E704
    def __rsub__(self, other): return apply_binary(Sub, other, self)  # noqa: E704
    def __rmul__(self, other): return apply_binary(Mul, other, self)  # noqa: E704
    def __rtruediv__(self, other): return apply_binary(Div, other, self)  # noqa: E704
    def __rpow__(self, other): return apply_binary(Pow, other, self)  # noqa: E704
    def __pos__(self): return self  # noqa: E704
    def __matmul__(self, other): return matmul(self, other)  # noqa: E704
    def __rmatmul__(self, other): return matmul(other, self)  # noqa: E704
    def matmul(self, other): return matmul(self, other)  # noqa: E704
    def __getitem__(self, index): return getitem(self, index)  # noqa: E704

    # comparisons: no gradient flows through them
    def __lt__(self, other): return _compare(np.less, self, other)  # noqa: E704
    def __le__(self, other): return _compare(np.less_equal, self, other)  # noqa: E704
    def __gt__(self, other): return _compare(np.greater, self, other)  # noqa: E704
    def __ge__(self, other): return _compare(np.greater_equal, self, other)  # noqa: E704
    def __eq__(self, other): return _compare(np.equal, self, other)  # noqa: E704
    def __ne__(self, other): return _compare(np.not_equal, self, other)  # noqa: E704

    def clip(self, min=None, max=None): return clip(self, min, max)  # noqa: E704
    clamp = clip
    def softmax(self, dim=-1): return softmax(self, dim)  # noqa: E704
    def log_softmax(self, dim=-1): return log_softmax(self, dim)  # noqa: E704

    # ---- reductions -----------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, axis=None):  # noqa: E704
        return reduce_sum(self, dim, keepdim, axis)

    def mean(self, dim=None, keepdim=False, *, axis=None):  # noqa: E704
        return reduce_mean(self, dim, keepdim, axis)

    def max(self, dim=None, keepdim=False, *, axis=None):  # noqa: E704
        return reduce_max(self, dim, keepdim, axis)

    def min(self, dim=None, keepdim=False, *, axis=None):  # noqa: E704
        return reduce_min(self, dim, keepdim, axis)

    def amax(self, dim=None, keepdim=False): return amax(self, dim, keepdim)  # noqa: E704
    def amin(self, dim=None, keepdim=False): return amin(self, dim, keepdim)  # noqa: E704
    def argmax(self, dim=None, keepdim=False): return argmax(self, dim, keepdim)  # noqa: E704
    def argmin(self, dim=None, keepdim=False): return argmin(self, dim, keepdim)  # noqa: E704

    # ---- movement -------------------------------------------------------------------------
    def reshape(self, *shape): return reshape(self, *shape)  # noqa: E704
    view = reshape
    def flatten(self, start_dim=0, end_dim=-1): return flatten(self, start_dim, end_dim)  # noqa: E704,E501
    def transpose(self, dim0=0, dim1=1): return transpose(self, dim0, dim1)  # noqa: E704
    def permute(self, *dims): return permute(self, *dims)  # noqa: E704
    def squeeze(self, dim=None): return squeeze(self, dim)  # noqa: E704
    def unsqueeze(self, dim): return unsqueeze(self, dim)  # noqa: E704

    @property
    def T(self) -> "Tensor":
        return permute(self, *reversed(range(self.data.ndim)))


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Make a Tensor from numbers, nested lists or an array (see `as_array` for dtypes)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _compare(ufunc, a, b) -> Tensor:
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    return Tensor(ufunc(a, b))


# The ops import Tensor from this module, so they come after the class is defined.
from .autograd.engine import backward  # noqa: E402
from .autograd.function import apply_binary, apply_unary  # noqa: E402
from .ops.elementwise import (  # noqa: E402
    Abs, Add, Cast, Clone, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Pow, Relu, Sigmoid,
    Sqrt, Sub, Tanh, clip,
)
from .ops.linalg import matmul  # noqa: E402
from .ops.movement import flatten, getitem, permute, reshape, squeeze, transpose, unsqueeze  # noqa: E402,E501
from .nn.functional import log_softmax, softmax  # noqa: E402
from .ops.reduce import (  # noqa: E402
    amax, amin, argmax, argmin, reduce_max, reduce_mean, reduce_min,
    reduce_sum,
)

