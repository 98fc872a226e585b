"""Function: the base of every differentiable op; `apply` makes the graph node.

An op is a subclass with two static methods on NumPy arrays:

    forward(ctx, *arrays, **params) -> array      # may keep what backward needs in ctx.saved
    backward(ctx, grad) -> tuple                  # one gradient (or None) per input

`ctx.saved` is the one place for what backward needs (any object: an array, a tuple of them
and numbers); ctx has no other free attributes.

`Op.apply(*inputs, **params)` runs forward on the inputs' arrays. The ctx is the output Tensor:
when grad mode is on and an input requires grad, it is the graph node (`ctx.grad_fn` is the op,
`ctx.parents` the input Tensors that require grad, None elsewhere). A node refers to its
inputs, never to a consumer, so the graph is a DAG that reference counting frees; nothing here
creates a cycle.
Broadcasting is undone once, in the engine: a backward returns gradients in the shape
its forward broadcast to, and the engine sums them down to each input's shape.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import grad_mode

_grad_state = grad_mode.state


_new = object.__new__
_seq_counter = itertools.count()  # NOTE: next(counter) is twice as fast as counter.__next__()
_ndarray = np.ndarray  # NOTE: a module global: `np.ndarray` costs an attribute lookup per op
_SCALARS: dict = {}  # dtype -> {Python number: 0-d array of that dtype}


def scalar_like(x, array: np.ndarray):
    """A Python number (or NumPy scalar) as a 0-d array of `array`'s float dtype, cached;
    anything else is returned unchanged.

    NOTE: NumPy takes twice as long for `array * 1.5` as for `array * array0d` (it converts
    the Python number on every call); converted once here, the constant is reused by the
    forward and the backward of every op that meets it. A NumPy scalar becomes a Python
    number first: under NumPy 2 a float64 scalar would upcast a float32 array.
    """
    kind = type(x)
    if kind is not float and kind is not int:
        if not isinstance(x, np.generic):  # bools, arrays, None stay as they are
            return x
        x = x.item()
        kind = type(x)
        if kind is not float and kind is not int:
            return x
    try:
        return _SCALARS[array.dtype][x]
    except KeyError:
        pass
    if array.dtype.kind != "f" or x == 0:  # NOTE: 0.0 == -0.0: caching one would lose a sign
        return x
    cache = _SCALARS.setdefault(array.dtype, {})
    if len(cache) > 4096:  # bounded: constants like lr rarely change
        cache.clear()
    z = cache[x] = np.asarray(x, dtype=array.dtype)
    return z


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote(a: np.ndarray, b: np.ndarray) -> tuple:
    """The two arrays of a binary op, with torch's type promotion where NumPy's differs:
    - an integer array meeting a float array takes that float's dtype (NumPy would make int64
      with float32 float64); bool arrays are left as they are (NumPy agrees there);
    - a 0-d array of the same category (bool, integer, float) as an array with dimensions
      takes that array's dtype: float32 + 0-d float64 stays float32, as in torch."""
    cat_a, cat_b = _CATEGORY.get(a.dtype.kind), _CATEGORY.get(b.dtype.kind)
    if cat_a == cat_b and (a.ndim == 0) != (b.ndim == 0):
        if a.ndim == 0:
            a = a.astype(b.dtype)
        else:
            b = b.astype(a.dtype)
    elif cat_a == 2 and cat_b == 1:
        b = b.astype(a.dtype)
    elif cat_b == 2 and cat_a == 1:
        a = a.astype(b.dtype)
    return a, b


def _number_and_array(x, array: np.ndarray) -> tuple:
    """(`x` as `scalar_like` makes it, the array) for an op between a plain number and an array.
    NOTE: torch's rules, where NumPy's differ: an integer or bool array meeting a float number
    gives float32 (torch's default dtype), not float64: the integers are cast first; for bools
    the number becomes a float32 constant (bool with float32 is float32 in NumPy too). A bool
    array meeting an int gives int64."""
    if array.dtype.kind in "biu" and isinstance(x, (float, np.floating)):
        if array.dtype.kind == "b":
            return np.asarray(x, np.float32), array
        array = array.astype(np.float32)
    elif array.dtype.kind == "b" and isinstance(x, (int, np.integer)) and not isinstance(
            x, (bool, np.bool_)):
        return np.asarray(x, np.int64), array  # bool with an int: int64 in torch (NumPy: int8)
    return scalar_like(x, array), array


class Function:
    """Base of every op: `forward` and `backward` as static methods; `apply` runs it on Tensors.

    NOTE: the `ctx` both methods receive is the op's output Tensor itself, which is the graph
    node: forward keeps what backward needs in `ctx.saved`; `ctx.parents` holds the inputs that
    require grad (None elsewhere); `ctx.grad_fn` is the op class; `ctx.seq` numbers nodes in
    creation order. A node's inputs are always older than it, so descending `seq` is a
    topological order for backward. One object per op instead of a tensor plus a separate
    node: a tenth of the per-op cost of the engine on small tensors (bench/w4_chain.py).
    """

    @staticmethod
    def forward(ctx: "Tensor", *args, **params):  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def backward(ctx: "Tensor", grad: np.ndarray) -> tuple:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params) -> "Tensor":
        """Run the op on Tensors (or plain numbers/arrays, treated as constants)."""
        # NOTE: one- and two-input ops are nearly every call; fixed-arity paths are faster.
        if len(inputs) == 1:
            return apply_unary(cls, inputs[0], params)
        if len(inputs) == 2 and not params:
            return apply_binary(cls, inputs[0], inputs[1])
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
                # NOTE: a NumPy scalar would upcast float32 arrays under NumPy 2; a Python
                # number adopts the array's dtype.
                arrays.append(x.item() if isinstance(x, np.generic) else x)
                parents.append(None)
        result = _new(Tensor)
        out = cls.forward(result, *arrays, **params)
        return _finish(result, out, cls, tuple(parents) if record else None)


from ..tensor import Tensor  # noqa: E402  (tensor.py imports the ops that import this module)


def _finish(result: "Tensor", out, cls, parents) -> "Tensor":
    """Fill in the output Tensor; with grad mode on and an input requiring grad, it becomes
    the graph node of `cls` (else what forward saved is dropped at once)."""
    # NOTE: NumPy returns a scalar, not a 0-d array, from arithmetic on 0-d arrays
    result.data = out if type(out) is _ndarray else np.asarray(out)
    result.grad = None
    if parents is not None and _grad_state.enabled:
        result.parents = parents
        result.seq = next(_seq_counter)
        result.requires_grad = True
        result.grad_fn = cls
    else:
        result.requires_grad = False
        result.grad_fn = None
        result.saved = None
    return result


def apply_unary(cls, a, params=None) -> "Tensor":
    """`cls.apply(a, **params)` for a one-input op (the fast path Tensor methods use)."""
    result = _new(Tensor)
    if type(a) is Tensor or isinstance(a, Tensor):
        out = cls.forward(result, a.data, **params) if params else cls.forward(result, a.data)
        parents = (a,) if a.requires_grad else None
    else:
        if isinstance(a, np.generic):
            a = a.item()
        out = cls.forward(result, a, **params) if params else cls.forward(result, a)
        parents = None
    return _finish(result, out, cls, parents)


def apply_binary(cls, a, b) -> "Tensor":
    """`cls.apply(a, b)` for a parameterless two-input op; a plain number becomes a constant
    of the other input's dtype."""
    # NOTE: `type(x) is Tensor` first: it is cheaper than isinstance and nearly always true.
    if type(a) is Tensor or isinstance(a, Tensor):
        pa = a if a.requires_grad else None
        a = a.data
        if type(b) is float:
            pb = None
            # NOTE: scalar_like inlined for a cached constant (the common case): a float array's
            # constants are cached by value; a new one takes the full path.
            try:
                b = _SCALARS[a.dtype][b]
            except KeyError:
                b, a = _number_and_array(b, a)
        elif type(b) is Tensor or isinstance(b, Tensor):
            pb = b if b.requires_grad else None
            b = b.data
            if a.dtype is not b.dtype:
                a, b = promote(a, b)
        else:
            pb = None
            b, a = _number_and_array(b, a)
    elif type(b) is Tensor or isinstance(b, Tensor):
        pa = None
        pb = b if b.requires_grad else None
        b = b.data
        try:
            if type(a) is bool:  # NOTE: True == 1.0 as a dict key; a bool stays a bool
                raise KeyError
            a = _SCALARS[b.dtype][a]
        except (KeyError, TypeError):
            a, b = _number_and_array(a, b)
    else:
        pa = pb = None
    result = _new(Tensor)
    out = cls.forward(result, a, b)
    # NOTE: _finish inlined: the hottest path of the engine (a frame per op is ~2% of W4)
    result.data = out if type(out) is _ndarray else np.asarray(out)
    result.grad = None
    if (pa is not None or pb is not None) and _grad_state.enabled:
        result.parents = (pa, pb)
        result.seq = next(_seq_counter)
        result.requires_grad = True
        result.grad_fn = cls
    else:
        result.requires_grad = False
        result.grad_fn = None
        result.saved = None
    return result
