"""Optimizer: parameter groups, per-parameter state, zero_grad, state_dict (torch's API).

A subclass declares its defaults and implements `_update(group, param, state)` for one
parameter, calling the pure rule in `optim.functional`. Parameters whose .grad is None are
skipped, as in torch.
"""

from __future__ import annotations

import copy

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class: holds `param_groups` (lists of parameters with their hyper-parameters)
    and `state` (a dict per parameter)."""

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list = []
        self.state: dict = {}
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add parameters with their own hyper-parameters (missing ones take the defaults)."""
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                raise TypeError(f"{type(self).__name__}: can only optimize leaf tensors that "
                                f"require grad, got {p!r:.60}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}: a parameter appears in more than one "
                             "group")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Subclasses check their hyper-parameters (ValueError naming parameter and value)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient. `closure` re-evaluates the loss."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad

            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(group, p, self.state.setdefault(p, {}))
        return loss

    def _update(self, group: dict, param: Tensor, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'state': {index: {key: value}}, 'param_groups': [...]} with parameters replaced by
        their index in order, as torch does. Arrays are copies."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict()`."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups "
                             f"{[len(g['params']) for g in groups]} do not match this "
                             f"optimizer's {[len(g['params']) for g in self.param_groups]}")
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], own["params"]):
                by_index[i] = p
            for key, value in saved.items():
                if key != "params":
                    own[key] = copy.deepcopy(value)
        self.state = {}
        for i, values in state_dict["state"].items():
            p = by_index[int(i)]
            self.state[p] = {k: (np.array(v, dtype=p.data.dtype) if isinstance(v, np.ndarray)
                                 and v.ndim else copy.deepcopy(v)) for k, v in values.items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def check_non_negative(opt: str, name: str, value) -> None:
    if not value >= 0:
        raise ValueError(f"{opt}: {name}={value} must be >= 0")
