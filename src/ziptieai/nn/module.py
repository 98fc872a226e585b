"""Module and Parameter: the containers of a model, torch-compatible.

A Module registers the Parameters, sub-Modules and buffers assigned to it as attributes, so
`parameters()`, `state_dict()` and `train()/eval()` find them without being told. State-dict
keys are torch's ('0.weight', '0.bias', ...), so a model's weights map 1:1 to torch's.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable weight (requires_grad by default).

    `_grad_slot`, when an optimizer's fused path sets it, is the view of a flat gradient
    buffer that backward fills instead of allocating a new `.grad`.
    """

    __slots__ = ("_grad_slot",)

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)
        self._grad_slot = None

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _to_numpy(value) -> np.ndarray:
    """An array from a state-dict value: ndarray, Tensor, or a torch tensor."""
    if isinstance(value, (Tensor, np.ndarray)):
        return np.asarray(value)
    detach = getattr(value, "detach", None)  # torch.Tensor, without importing torch
    if detach is not None:
        return detach().cpu().numpy()
    return np.asarray(value)


class RemovableHandle:
    """Returned by the register_*_hook methods; `remove()` detaches the hook."""

    _next_id = 0

    def __init__(self, registry: dict, hook):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self.registry = registry
        registry[self.id] = hook

    def remove(self) -> None:
        self.registry.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Module:
    """Base of every layer and model: override `forward`; call the module to run it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, hook) -> "RemovableHandle":
        """Call `hook(module, inputs, output)` after every forward (as torch); a non-None
        return value replaces the output. Returns a handle whose remove() detaches it."""
        return RemovableHandle(self._forward_hooks, hook)

    # ---- registration ----------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if name in self._buffers and (value is None or (
                isinstance(value, Tensor) and not isinstance(value, Parameter))):
            # NOTE: as torch, assigning a tensor to a buffer's name replaces the buffer.
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        # NOTE: kept in __dict__ too, so `self.weight` is a plain attribute load in forward.
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value, persistent: bool = True) -> None:
        """Keep a non-learnable tensor (e.g. running statistics) in the state dict."""
        value = value if value is None or isinstance(value, Tensor) else Tensor(value)
        object.__setattr__(self, name, value)
        if persistent:
            self._buffers[name] = value

    def register_parameter(self, name: str, value) -> None:
        if value is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, value)

    def add_module(self, name: str, module: "Module") -> None:
        setattr(self, name, module)

    # ---- traversal ---------------------------------------------------------------------------
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple]:
        """(name, module) for this module and every descendant, depth-first; a module reached
        by several names is listed once, unless `remove_duplicate=False`."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(qualified name, Parameter) pairs, each parameter once, in registration order."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in the order of named_parameters() (without building names)."""
        seen = set()
        stack = [self]
        while stack:
            module = stack.pop()
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p
            if not recurse:
                break
            stack.extend(m for m in reversed(module._modules.values()) if m is not None)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple]:
        for mod_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    # ---- modes and grads ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active, batch norm uses batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's .grad (to None, or to zeros in place)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def to(self, dtype) -> "Module":
        """Cast every floating-point parameter and buffer to `dtype`, in place."""
        dtype = np.dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t.data.dtype.kind == "f":
                t.data = t.data.astype(dtype)
                if t.grad is not None:
                    t.grad = t.grad.astype(dtype)
        return self

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    # ---- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Parameters and buffers by qualified name, as NumPy arrays (torch's keys).

        NOTE: unlike torch, the arrays are copies: a state dict is a snapshot that later
        training steps do not change.
        """
        return {name: t.data.copy() for name, t in self._named_state()}

    def _named_state(self) -> Iterator[tuple]:
        """(key, tensor) for the state dict in torch's order: module by module, parameters
        then buffers; a shared module appears under each of its names, as in torch."""
        for mod_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{mod_name}." if mod_name else ""
            for name, t in (*module._parameters.items(), *module._buffers.items()):
                if t is not None:
                    yield prefix + name, t

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> dict:
        """Copy values (arrays, Tensors or torch tensors) into the parameters and buffers, in
        place. With strict, the keys must match exactly. Returns missing/unexpected keys."""
        own = dict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: {type(self).__name__} has missing keys {missing} "
                           f"and unexpected keys {unexpected}")
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = _to_numpy(state_dict[name])
            if value.shape != target.data.shape:
                raise ValueError(f"load_state_dict: '{name}' has shape {value.shape} in the "
                                 f"state dict but {target.data.shape} in the model")
            target.data[...] = value
        return {"missing_keys": missing, "unexpected_keys": unexpected}

    # ---- repr ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


__all__ = ["Module", "Parameter", "RemovableHandle"]
