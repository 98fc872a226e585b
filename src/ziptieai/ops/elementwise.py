"""Elementwise ops: arithmetic, activations, clip/maximum/minimum/where, dtype casts.

Each op is one small class: forward on arrays, backward beside it returning one gradient per
input (in the broadcast shape; the engine sums it back to each input's shape). An input that
is a plain number is a constant: its slot in `ctx.parents` is None and gets no gradient.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


def _wants(ctx, i: int) -> bool:
    """Whether input i needs a gradient (skip the work when it does not)."""
    return ctx.parents[i] is not None


# ---- arithmetic ------------------------------------------------------------------------


class Add(Function):
    """a + b;  d/da = g, d/db = g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """a - b;  d/da = g, d/db = -g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if _wants(ctx, 1) else None)


class Mul(Function):
    """a · b;  d/da = b·g, d/db = a·g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        pa, pb = ctx.parents
        return (None if pa is None else g * b), (None if pb is None else g * a)


class Div(Function):
    """a / b;  d/da = g/b, d/db = -g·a/b²."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.saved = (b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved
        ga = g / b
        return (ga if _wants(ctx, 0) else None), (-ga * out if _wants(ctx, 1) else None)


class Neg(Function):
    """-a;  d/da = -g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Pow(Function):
    """a ** b;  d/da = b·a^(b-1)·g, d/db = a^b·ln(a)·g (0 where a = 0 and b >= 0, as torch)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.saved = (a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        ga = gb = None
        if _wants(ctx, 0):
            if isinstance(b, (int, float)):
                ga = g * (b * a ** (b - 1)) if b != 2 else g * (2 * a)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = g * b * a ** (b - 1)
        if _wants(ctx, 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                # NOTE: math.log keeps a constant base a Python float (np.log would upcast).
                ln_a = np.log(a) if isinstance(a, np.ndarray) else _log_number(a)
                gb = g * out * ln_a
            gb = np.where((np.asarray(a) == 0) & (np.asarray(b) >= 0), 0, gb).astype(gb.dtype)
        return ga, gb


def _log_number(a: float) -> float:
    return math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)


# ---- unary functions -------------------------------------------------------------------


class Exp(Function):
    """exp(a);  d/da = exp(a)·g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved,)


class Log(Function):
    """ln(a);  d/da = g/a."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.saved = a
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        return (g / ctx.saved,)


class Sqrt(Function):
    """√a;  d/da = g / (2√a)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx, g):
        return (g / (2 * ctx.saved),)


class Abs(Function):
    """|a|;  d/da = sign(a)·g (0 at 0, as torch)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.saved = a
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        return (g * np.sign(ctx.saved),)


class Tanh(Function):
    """tanh(a);  d/da = (1 - tanh²(a))·g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved
        gy = g * y
        return (g - gy * y,)  # NOTE: g·(1 - y²) without a Python-scalar ufunc (2× slower)


class Sigmoid(Function):
    """σ(a) = 1/(1+e^-a);  d/da = σ(1-σ)·g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        # NOTE: exp(-log(1+e^-a)) via logaddexp never overflows, and keeps full relative
        # precision for very negative a, where 0.5·(1+tanh(a/2)) cancels to 0.
        out = np.exp(-np.logaddexp(0, -a))
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved
        gy = g * y
        return (gy - gy * y,)


class Relu(Function):
    """max(a, 0);  d/da = g where a > 0, else 0."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx, g):
        return (g * (ctx.saved > 0),)


class LeakyRelu(Function):
    """a if a > 0 else slope·a;  d/da = g if a > 0 else slope·g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.saved = (a, negative_slope)
        return np.where(a > 0, a, a * negative_slope)

    @staticmethod
    def backward(ctx, g):
        a, slope = ctx.saved
        return (np.where(a > 0, g, g * slope),)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_erf_object = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, exact to double precision (C's erf per element).

    NOTE: NumPy has no erf; a per-element call is slow (~0.1 µs) but exact, which GELU's
    torch parity needs. GELU(approximate='tanh') is the fast choice for big activations.
    """
    x = np.asarray(x)
    return np.asarray(_erf_object(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


class Gelu(Function):
    """x·Φ(x) (Φ the normal CDF; 'tanh': 0.5x(1+tanh(√(2/π)(x+0.044715x³))));
    d/dx = Φ(x) + x·φ(x)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, approximate="none"):
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (a + 0.044715 * a * a * a)
            t = np.tanh(inner)
            ctx.saved = (a, t, approximate)
            return 0.5 * a * (1 + t)
        cdf = 0.5 * (1 + erf(a * _SQRT_HALF))
        ctx.saved = (a, cdf, approximate)
        return a * cdf

    @staticmethod
    def backward(ctx, g):
        a, aux, approximate = ctx.saved
        if approximate == "tanh":
            t = aux
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return (g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * d_inner),)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * a * a)
        return (g * (aux + a * pdf),)


class Clip(Function):
    """clip(a, lo, hi);  d/da = g where lo <= a <= hi (inclusive, as torch.clamp), else 0."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        ctx.saved = (a, lo, hi)
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved
        mask = True
        if lo is not None:
            mask = a >= lo
        if hi is not None:
            mask = mask & (a <= hi)
        return (g * mask,)


def clip(a, min=None, max=None) -> Tensor:
    """Limit `a` to [min, max] (either may be None), as `torch.clamp`."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip.apply(a, lo=min, hi=max)


def _split_by_winner(g, a_wins, tie):
    """Gradients of max/min(a, b): the winner takes g; a tie gives each half (as torch)."""
    half = g * 0.5
    ga = np.where(a_wins, g, np.where(tie, half, 0))
    gb = np.where(a_wins, 0, np.where(tie, half, g))
    return ga.astype(g.dtype, copy=False), gb.astype(g.dtype, copy=False)


class Maximum(Function):
    """max(a, b) elementwise;  the larger input gets g (half each at ties, as torch)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        return _split_by_winner(g, a > b, a == b)


class Minimum(Function):
    """min(a, b) elementwise;  the smaller input gets g (half each at ties, as torch)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        return _split_by_winner(g, a < b, a == b)


class Where(Function):
    """cond ? a : b;  d/da = g where cond, d/db = g elsewhere; cond gets none."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, dtype=bool)
        ctx.saved = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        cond = ctx.saved
        zero = np.zeros((), g.dtype)
        ga = np.where(cond, g, zero) if _wants(ctx, 1) else None
        gb = np.where(cond, zero, g) if _wants(ctx, 2) else None
        return None, ga, gb


def where(condition, a, b) -> Tensor:
    """Elementwise `a` where `condition` is true, else `b` (no gradient to the condition)."""
    if isinstance(condition, Tensor):
        condition = condition.data
    return Where.apply(condition, a, b)


# ---- copies and casts ------------------------------------------------------------------


class Clone(Function):
    """A copy of a;  d/da = g."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return (g,)


class Cast(Function):
    """a as another dtype;  the gradient is cast back to a's dtype."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.saved = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return (g.astype(ctx.saved),)
