"""Optimizer races: the same start, the same surface, one optimizer per lane.

    result = race("rosenbrock")                 # every default optimizer, default lrs and steps
    print(result.format_table())                # steps each needed to get within tol of the min
    result.runs["adam"].trajectory              # (steps + 1, 2) points visited, start included
    data = race_data("digits", epochs=5)        # the same optimizers training a real MLP

What lives here: four 2-D test surfaces, the race loop (the real `ziptieai.optim` classes,
gradients from ziptieai's autograd) and a race on real data through `ziptieai.train.fit`.
What does not: pictures (`ziptieai.inspect.plots` draws these results; matplotlib is optional).

The surfaces, and the lesson each teaches:
    rosenbrock                 (1 − x)² + 100·(y − x²)²: a curved, flat-bottomed valley.
                               Min 0 at (1, 1).
    beale                      (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: flat
                               plateaus beside steep walls. Min 0 at (3, 0.5).
    saddle                     x² − y² + y⁴/4: a saddle point at the origin; the bowl term y⁴/4
                               makes two minima, −1 at (0, ±√2) (the race reports (0, √2)). The
                               start sits just off the ridge (y = 0.01), where the gradient in y
                               is tiny: plain SGD slides down to the saddle and waits there while
                               y grows by a factor (1 + 2·lr) a step; the adaptive methods
                               (RMSprop, Adam), which divide by the gradient's size, head for
                               the minimum at once.
    ill-conditioned-quadratic  0.5·(x² + 100·y²): curvature 100× larger along y than x (condition
                               number 100). SGD's lr must stay below 2/100 for y, which makes x
                               crawl; momentum, and per-coordinate scaling (RMSprop, Adam), help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import optim
from ..tensor import Tensor
from ..train.loop import Callback

__all__ = ["Surface", "SURFACES", "OPTIMIZERS", "DEFAULT_OPTIMS", "race", "race_data",
           "RaceResult", "Run", "DataRaceResult"]

DEFAULT_OPTIMS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")

# name -> (label for legends, how to build it from (params, lr))
OPTIMIZERS: dict = {
    "sgd": ("SGD", lambda params, lr: optim.SGD(params, lr=lr)),
    "momentum": ("SGD + momentum 0.9", lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9)),
    "nesterov": ("SGD + Nesterov 0.9",
                 lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)),
    "rmsprop": ("RMSprop", lambda params, lr: optim.RMSprop(params, lr=lr)),
    "adam": ("Adam", lambda params, lr: optim.Adam(params, lr=lr)),
    "adamw": ("AdamW (wd 0.01)", lambda params, lr: optim.AdamW(params, lr=lr, weight_decay=0.01)),
    "adagrad": ("Adagrad", lambda params, lr: optim.Adagrad(params, lr=lr)),
    "nadam": ("NAdam", lambda params, lr: optim.NAdam(params, lr=lr)),
    "radam": ("RAdam", lambda params, lr: optim.RAdam(params, lr=lr)),
}


# ---- the surfaces --------------------------------------------------------------------------
# Each f works on ziptieai Tensors (the race: autograd gives the gradient) and on NumPy arrays
# (the contour plot), since it uses only +, −, ×, ** on its arguments.
def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2)


def _saddle(x, y):
    return x * x - y * y + 0.25 * y ** 4


def _quadratic(x, y):
    return 0.5 * (x * x + 100 * y * y)


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface: f(x, y), where the race starts, where the minimum is, what to plot.

    `lrs` holds each optimizer's default learning rate here (tuned so that each gets a fair,
    stable run); `steps` and `tol` are the race's defaults; `log_scale` says whether the
    contour plot should space its levels logarithmically (for surfaces with steep walls).
    """

    name: str
    formula: str
    f: Callable
    start: tuple
    minimum: tuple
    min_value: float
    bounds: tuple  # ((x_min, x_max), (y_min, y_max)) for plots
    lrs: dict
    steps: int
    tol: float
    log_scale: bool = True
    note: str = ""

    def __call__(self, x, y):
        return self.f(x, y)

    def value(self, point) -> float:
        """f at a point (x, y), in float64."""
        x, y = np.asarray(point, dtype=np.float64)
        return float(self.f(x, y))

    def grad(self, point) -> np.ndarray:
        """∇f at a point (x, y), from ziptieai's autograd (float64): what the optimizers see."""
        p = Tensor(np.asarray(point, dtype=np.float64), requires_grad=True)
        self.f(p[0], p[1]).backward()
        return p.grad.copy()


SURFACES: dict = {
    "rosenbrock": Surface(
        "rosenbrock", "(1 − x)² + 100·(y − x²)²", _rosenbrock, start=(-1.2, 1.0),
        minimum=(1.0, 1.0), min_value=0.0, bounds=((-2.0, 2.0), (-1.0, 3.0)),
        lrs=dict(sgd=1e-3, momentum=1e-3, nesterov=1e-3, rmsprop=1e-2, adam=0.1, adamw=0.1,
                 adagrad=0.5, nadam=0.05, radam=5e-3),
        steps=1000, tol=1e-2,
        note="a curved valley: finding it is easy, following it to (1, 1) is slow"),
    "beale": Surface(
        "beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²", _beale,
        start=(1.0, 1.5), minimum=(3.0, 0.5), min_value=0.0, bounds=((-1.0, 4.5), (-1.5, 2.0)),
        lrs=dict(sgd=0.02, momentum=2e-3, nesterov=2e-3, rmsprop=0.05, adam=0.1, adamw=0.1,
                 adagrad=0.5, nadam=0.1, radam=0.01),
        steps=1000, tol=1e-3,
        note="flat plateaus beside steep walls: step sizes that suit one region fail the other"),
    "saddle": Surface(
        "saddle", "x² − y² + y⁴/4", _saddle, start=(1.5, 0.01), minimum=(0.0, math.sqrt(2)),
        min_value=-1.0, bounds=((-2.0, 2.0), (-2.0, 2.0)),
        lrs=dict(sgd=0.05, momentum=0.01, nesterov=0.01, rmsprop=0.01, adam=0.05, adamw=0.05,
                 adagrad=0.5, nadam=0.05, radam=0.1),
        steps=300, tol=1e-4, log_scale=False,
        note="a saddle at the origin: the gradient toward the minima starts out tiny"),
    "ill-conditioned-quadratic": Surface(
        "ill-conditioned-quadratic", "0.5·(x² + 100·y²)", _quadratic, start=(-4.0, 1.0),
        minimum=(0.0, 0.0), min_value=0.0, bounds=((-5.0, 5.0), (-1.5, 1.5)),
        lrs=dict(sgd=0.019, momentum=0.01, nesterov=0.01, rmsprop=0.05, adam=0.1, adamw=0.1,
                 adagrad=0.5, nadam=0.1, radam=0.1),
        steps=400, tol=1e-4,
        note="curvature 100× larger along y than x: lr < 2/100 for SGD, so x crawls"),
}


# ---- the race ------------------------------------------------------------------------------
@dataclass
class Run:
    """One optimizer's lane: the points it visited and the loss at each.

    trajectory (steps + 1, 2) and losses (steps + 1,) include the start; after a divergence
    (a non-finite loss, or a coordinate beyond 1e6) the rest is NaN and `diverged` is the step.
    `reached` is the first step with loss − min ≤ tol, or None.
    """

    name: str
    label: str
    lr: float
    trajectory: np.ndarray
    losses: np.ndarray
    reached: int | None
    diverged: int | None = None

    @property
    def outcome(self) -> str:
        if self.reached is not None:
            return f"{self.reached} steps"
        if self.diverged is not None:
            return f"diverged at step {self.diverged}"
        return "not reached"


@dataclass
class RaceResult:
    """What `race` returns: the surface, the settings, and one `Run` per optimizer."""

    surface: Surface
    steps: int
    tol: float
    runs: dict = field(default_factory=dict)

    def final_gap(self, run: Run) -> float:
        """loss − min after the last step (never below 0; NaN for a run that diverged)."""
        if run.diverged is not None:
            return math.nan
        return max(float(run.losses[-1] - self.surface.min_value), 0.0)

    def table(self) -> list:
        """Rows (name, label, lr, steps to reach the tolerance or None, final loss − min),
        fastest first."""
        runs = sorted(self.runs.values(),
                      key=lambda r: (r.reached is None, r.reached or 0, r.diverged is not None))
        return [(r.name, r.label, r.lr, r.reached, self.final_gap(r)) for r in runs]

    def format_table(self) -> str:
        """The table as aligned text, fastest first."""
        head = (f"{self.surface.name}: steps until loss − min ≤ {self.tol:g} "
                f"(at most {self.steps})")
        width = max(len(r.label) for r in self.runs.values())
        lines = [head, f"  {'optimizer':<{width}}  {'lr':>8}  {'reached':>22}  final loss − min"]
        for name, label, lr, _, gap in self.table():
            outcome = self.runs[name].outcome
            gap_text = "—" if math.isnan(gap) else f"{gap:.3g}"
            lines.append(f"  {label:<{width}}  {lr:>8.3g}  {outcome:>22}  {gap_text}")
        return "\n".join(lines)


def get_surface(surface) -> Surface:
    """A Surface from itself or its name."""
    if isinstance(surface, Surface):
        return surface
    if surface not in SURFACES:
        raise ValueError(f"race: unknown surface {surface!r}; choose one of "
                         f"{', '.join(map(repr, SURFACES))}")
    return SURFACES[surface]


def _check_optims(optims, where: str) -> tuple:
    if isinstance(optims, str):
        optims = tuple(o.strip() for o in optims.split(",") if o.strip())
    optims = tuple(optims)
    if not optims:
        raise ValueError(f"{where}: optims is empty; choose from {', '.join(OPTIMIZERS)}")
    unknown = [o for o in optims if o not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"{where}: unknown optimizer {unknown[0]!r}; choose from "
                         f"{', '.join(OPTIMIZERS)}")
    if len(set(optims)) != len(optims):
        raise ValueError(f"{where}: an optimizer is named twice in {optims}")
    return optims


def _lr_of(lr, name: str, defaults: dict, where: str) -> float:
    value = lr.get(name, defaults[name]) if isinstance(lr, dict) else (
        defaults[name] if lr is None else lr)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{where}: lr={value!r} for {name} must be a positive number")
    return float(value)


def race(surface, optims=DEFAULT_OPTIMS, steps: int | None = None, lr=None,
         tol: float | None = None, start=None) -> RaceResult:
    """Run each optimizer from the same start on a 2-D surface; returns a `RaceResult`.

    surface: a name in `SURFACES` (or a `Surface`); optims: names in `OPTIMIZERS` (a tuple, or
    "a,b,c"); steps, tol, start: the surface's defaults when None; lr: None (each optimizer's
    default for this surface, `Surface.lrs`), one number for all, or a dict {name: lr}.
    Each step is the training loop's four lines on the point p = (x, y):
        opt.zero_grad(); loss = f(p[0], p[1]); loss.backward(); opt.step()

    >>> r = race("ill-conditioned-quadratic", optims=("sgd", "adam"), steps=50)
    >>> r.runs["adam"].trajectory.shape
    (51, 2)
    """
    surface = get_surface(surface)
    optims = _check_optims(optims, "race")
    steps = surface.steps if steps is None else steps
    tol = surface.tol if tol is None else tol
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"race: steps={steps!r} must be a positive int")
    if not tol > 0:
        raise ValueError(f"race: tol={tol!r} must be positive")
    start = surface.start if start is None else tuple(start)
    result = RaceResult(surface, steps, float(tol))
    for name in optims:
        rate = _lr_of(lr, name, surface.lrs, "race")
        result.runs[name] = _run(surface, name, rate, steps, float(tol), start)
    return result


def _run(surface: Surface, name: str, lr: float, steps: int, tol: float, start) -> Run:
    label, make = OPTIMIZERS[name]
    p = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = make([p], lr)
    trajectory = np.full((steps + 1, 2), np.nan)
    losses = np.full(steps + 1, np.nan)
    reached = diverged = None
    # NOTE: a diverging run overflows on its way out; that is detected and reported below
    # (the run stops there), so NumPy's overflow warnings would only repeat it.
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            opt.zero_grad()
            loss = surface.f(p[0], p[1])
            value = loss.item()
            if not math.isfinite(value) or not np.all(np.abs(p.data) < 1e6):
                diverged = t
                break
            trajectory[t] = p.data
            losses[t] = value
            if reached is None and value - surface.min_value <= tol:
                reached = t
            if t < steps:
                loss.backward()
                opt.step()
    return Run(name, label, lr, trajectory, losses, reached, diverged)


# ---- a race on real data -------------------------------------------------------------------
DATA_LRS = dict(sgd=0.1, momentum=0.02, nesterov=0.02, rmsprop=1e-3, adam=2e-3, adamw=2e-3,
                adagrad=5e-2, nadam=2e-3, radam=2e-3)


@dataclass
class DataRaceResult:
    """What `race_data` returns: per optimizer, its lr, the training loss after every step
    (`step_losses`) and `fit`'s per-epoch records (train/val loss and accuracy)."""

    dataset: str
    epochs: int
    task: str
    lrs: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    step_losses: dict = field(default_factory=dict)
    records: dict = field(default_factory=dict)

    def format_table(self) -> str:
        key = "val_accuracy" if self.task == "classification" else "val_rmse"
        lines = [f"{self.dataset}, {self.epochs} epochs: final train loss, val loss, {key}"]
        width = max(len(v) for v in self.labels.values())
        for name, recs in self.records.items():
            last = recs[-1]
            lines.append(f"  {self.labels[name]:<{width}}  lr {self.lrs[name]:<7.3g}  "
                         f"{last['train_loss']:.4f}  {last['val_loss']:.4f}  {last[key]:.4f}")
        return "\n".join(lines)


def race_data(dataset: str = "digits", optims=DEFAULT_OPTIMS, epochs: int = 5, lr=None,
              seed: int = 0, hidden: int = 64, batch_size: int = 64) -> DataRaceResult:
    """Train the same small MLP (in → hidden → ReLU → out) with each optimizer on a bundled
    dataset (`ziptieai.data.load`); returns a `DataRaceResult`.

    Every optimizer starts from the same weights (seeded by `seed`) and sees the same batches;
    the library's random generator is restored afterwards. lr as in `race` (defaults:
    `DATA_LRS`). Classification uses CrossEntropyLoss, regression MSELoss.
    """
    from .. import nn, random
    from ..data import DataLoader, TensorDataset, load
    from ..train import fit

    optims = _check_optims(optims, "race_data")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"race_data: epochs={epochs!r} must be a positive int")
    X_train, y_train, X_test, y_test = split = load(dataset, seed=seed)
    task = split.info["task"]
    n_out = split.info["num_classes"] if task == "classification" else y_train.shape[1]
    result = DataRaceResult(dataset, epochs, task)
    saved = random.get_rng_state()
    try:
        for name in optims:
            rate = _lr_of(lr, name, DATA_LRS, "race_data")
            random.manual_seed(seed)
            model = nn.Sequential(nn.Linear(X_train.shape[1], hidden), nn.ReLU(),
                                  nn.Linear(hidden, n_out))
            loss_fn = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
            loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size,
                                shuffle=True, generator=seed)
            steps: list = []
            history = fit(model, loss_fn, OPTIMIZERS[name][1](model.parameters(), rate),
                          loader, val_data=(X_test, y_test), epochs=epochs, progress=False,
                          callbacks=[_StepLosses(steps)])
            result.lrs[name] = rate
            result.labels[name] = OPTIMIZERS[name][0]
            result.step_losses[name] = np.array(steps)
            result.records[name] = history.records
    finally:
        random.set_rng_state(saved)
    return result


class _StepLosses(Callback):
    """A fit callback that keeps the training loss of every step."""

    def __init__(self, out: list):
        self.out = out

    def on_step_end(self, trainer) -> None:
        self.out.append(trainer.loss)
