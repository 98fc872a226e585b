"""Optimizer: parameter groups, per-parameter state, zero_grad, step, state_dict (torch's API).

A subclass names its defaults, checks them (`_validate`), makes a parameter's state
(`_init_state`: torch's keys, arrays of the parameter's shape) and applies its rule from
`optim.functional` to one parameter (`_update`). Parameters whose .grad is None are skipped.

The fused path (`optim.flat`, on by default where it applies) keeps each group's parameters,
gradients and state in one flat buffer each and runs the same rule over L2-sized chunks.
"""

from __future__ import annotations

import copy

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class: `param_groups` (lists of parameters with their hyper-parameters) and
    `state` (a dict per parameter, keyed by the parameter)."""

    _state_arrays: tuple = ()  # the state keys that hold arrays shaped like the parameter

    def __init__(self, params, defaults: dict, fused=None):
        self.defaults = dict(defaults)
        self.param_groups: list = []
        self.state: dict = {}
        self.fused = fused
        self._flat: dict = {}  # group index -> FlatGroup
        self._step_pre_hooks: dict = {}
        self._step_post_hooks: dict = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                            "(e.g. model.parameters()), got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add parameters with their own hyper-parameters (missing ones take the defaults)."""
        name = type(self).__name__
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                raise TypeError(f"{name}: can only optimize leaf tensors that require grad, "
                                f"got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter appears more than once")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)
        from .flat import FlatGroup  # NOTE: flat imports this module

        index = len(self.param_groups) - 1
        if self.fused is not False:
            flat = FlatGroup.build(params)
            if flat is not None:
                self._flat[index] = flat
            elif self.fused:
                raise ValueError(f"{name}: fused=True needs every parameter of a group to be "
                                 "float32 or float64, one dtype per group")

    # ---- what subclasses provide -------------------------------------------------------
    def _validate(self, group: dict) -> None:
        """Check the group's hyper-parameters (ValueError naming parameter and value)."""

    def _group_state_arrays(self, group: dict) -> tuple:
        """The state arrays this group's settings need (e.g. max_exp_avg_sq with amsgrad)."""
        return self._state_arrays

    def _init_state(self, group: dict, param: Tensor, arrays: dict) -> dict:
        """A parameter's fresh state: torch's keys; `arrays` holds zeroed state arrays."""
        return {"step": 0, **arrays}

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict,
                scratch=None) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _fused_update(self, group: dict, param: np.ndarray, grad: np.ndarray,
                      state: dict) -> bool:
        """Update a whole flat group at once with a compiled kernel, if there is one (see
        `optim.kernels`); False sends the fused path to the chunked NumPy rule."""
        return False

    # ---- the loop ------------------------------------------------------------------------
    def state_for(self, group_index: int, param: Tensor) -> dict:
        """The state of `param`, made on first use (state arrays are flat views when fused)."""
        state = self.state.get(param)
        if state is None:
            group = self.param_groups[group_index]
            flat = self._flat.get(group_index)
            keys = self._group_state_arrays(group)
            if flat is not None:
                arrays = flat.state_views(param, keys)
            else:
                arrays = {k: np.zeros_like(param.data) for k in keys}
            state = self.state[param] = self._init_state(group, param, arrays)
        return state

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` re-evaluates the loss."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad

            with enable_grad():
                loss = closure()
        for hook in list(self._step_pre_hooks.values()):
            hook(self, (), {})
        self._apply_updates()
        for hook in list(self._step_post_hooks.values()):
            hook(self, (), {})
        return loss

    def register_step_pre_hook(self, hook):
        """Call `hook(optimizer, args, kwargs)` before every step (as torch); returns a handle
        whose remove() detaches it."""
        from ..nn.module import RemovableHandle

        return RemovableHandle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Call `hook(optimizer, args, kwargs)` after every step (as torch)."""
        from ..nn.module import RemovableHandle

        return RemovableHandle(self._step_post_hooks, hook)

    def _apply_updates(self) -> None:
        for index, group in enumerate(self.param_groups):
            flat = self._flat.get(index)
            if flat is not None and flat.ready(group["params"]):
                states = [self.state_for(index, p) for p in group["params"]]
                for state in states:
                    state["step"] += 1
                flat.step(self, group, states)
                continue
            for p in group["params"]:
                if p.grad is not None:
                    state = self.state_for(index, p)
                    state["step"] += 1
                    self._update(group, p.data, p.grad, state)

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'state': {index: {key: value}}, 'param_groups': [...]}, parameters replaced by their
        index in order, as torch does. Arrays are copies."""
        index: dict = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict()` (values copied in)."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"])
                for g, own in zip(groups, self.param_groups)):
            raise ValueError(f"{name}.load_state_dict: the saved groups have "
                             f"{[len(g['params']) for g in groups]} parameters, this optimizer's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        where = {}
        for group_index, (saved, own) in enumerate(zip(groups, self.param_groups)):
            for i, p in zip(saved["params"], own["params"]):
                where[i] = (group_index, p)
            for key, value in saved.items():
                if key != "params":
                    own[key] = copy.deepcopy(value)
        self.state = {}
        for i, values in state_dict["state"].items():
            group_index, p = where[int(i)]
            state = self.state_for(group_index, p)
            for key, value in values.items():
                if isinstance(state.get(key), np.ndarray):
                    value = np.asarray(value)
                    if value.shape != p.data.shape:
                        raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter "
                                         f"{i} has shape {value.shape}, the parameter "
                                         f"{p.data.shape}")
                    np.copyto(state[key], value)
                else:
                    state[key] = copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def check_range(opt: str, name: str, value, low: float = 0.0, high=None,
                high_open: bool = True) -> None:
    """ValueError naming the optimizer, the parameter and the value when out of range."""
    ok = value >= low and (high is None or (value < high if high_open else value <= high))
    if not ok:
        where = f">= {low}" if high is None else f"in [{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{opt}: {name}={value} must be {where}")
