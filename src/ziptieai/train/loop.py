"""The training loop: the four lines in a for-loop, plus stopping rules, checkpoints and
callbacks. Read it in one sitting; nothing here is magic.

    for X, y in loader:
        optimizer.zero_grad()
        pred = model(X)              # forward pass
        loss = loss_fn(pred, y)      # loss: how wrong, one number
        loss.backward()              # backward pass: a gradient for every weight
        optimizer.step()             # update

`fit` stops at `epochs`, when the monitored loss reaches `until_loss` or the accuracy
reaches `until_accuracy`, or after `patience` epochs without a better loss; it says which.
A non-finite loss or gradient stops it before the update, naming where. With `checkpoint`
it saves atomically after every epoch (and every `checkpoint_every` steps); `resume` carries
on from such a file and gives bit-identical results to a run that was never interrupted.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import optim
from ..autograd import no_grad
from ..data.dataloader import DataLoader
from ..data.dataset import TensorDataset
from . import checkpoint as ckpt
from .metrics import correct_count, regression_scores, task_of


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf loss or gradient; raised before the update."""


@dataclass
class History:
    """Per-epoch records (dicts with epoch, train_loss, train_accuracy, val_loss, val_accuracy
    or val_rmse/val_r2, lr, seconds) and why training stopped."""

    records: list = field(default_factory=list)
    stop_reason: str = ""

    def __getitem__(self, key: str) -> list:
        return [r.get(key) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def last(self, key: str):
        return self.records[-1].get(key) if self.records else None


class Callback:
    """Hooks into `fit`; each receives the running `Trainer` (its model, optimizer, epoch,
    step, last loss, history). Set `trainer.stop = "reason"` to stop after this epoch.
    `on_train_end` runs however training ends; `trainer.error` is the exception, if any."""

    def on_train_begin(self, trainer) -> None: ...
    def on_step_end(self, trainer) -> None: ...
    def on_epoch_end(self, trainer) -> None: ...
    def on_train_end(self, trainer) -> None: ...


def as_loader(data, batch_size: int, shuffle: bool):
    """A DataLoader from a DataLoader, a Dataset, or an (X, y) pair of tensors/arrays."""
    if data is None or isinstance(data, DataLoader):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        data = TensorDataset(*data)
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle)


def evaluate(model, data, loss_fn, batch_size: int = 512) -> dict:
    """Loss and accuracy (classification) or loss, RMSE and R² (regression) over `data`,
    in eval mode and without building a graph. `data`: a DataLoader or an (X, y) pair."""
    loader = as_loader(data, batch_size, shuffle=False)
    was_training = model.training
    model.eval()
    total, count, correct, preds, targets = 0.0, 0, 0, [], []
    classify = task_of(loss_fn) == "classification"
    try:
        with no_grad():
            for X, y in loader:
                pred = model(X)
                n = len(y.data)
                total += float(loss_fn(pred, y).item()) * n
                count += n
                if classify:
                    correct += correct_count(loss_fn, pred.data, y.data)
                else:
                    preds.append(pred.data.reshape(-1))
                    targets.append(y.data.reshape(-1))
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the data is empty")
    result = {"loss": total / count}
    if classify:
        result["accuracy"] = correct / count
    else:
        result.update(regression_scores(np.concatenate(preds), np.concatenate(targets)))
    return result


class Trainer:
    """The state of one `fit` call (see `fit`); callbacks read it."""

    def __init__(self, model, loss_fn, optimizer, loader, val_loader, scheduler, callbacks):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.loader, self.val_loader, self.scheduler = loader, val_loader, scheduler
        self.callbacks = list(callbacks)
        self.history = History()
        self.epoch, self.step, self.loss = 1, 0, None
        self.stop = ""
        self.error = None  # the exception that ended training, if one did
        self.classify = task_of(loss_fn) == "classification"
        self.names = {id(p): name for name, p in model.named_parameters()}
        self.partial = {"loss_sum": 0.0, "correct": 0, "count": 0, "start": None}
        self.per_step_schedule = isinstance(scheduler, optim.lr_scheduler.OneCycleLR)
        self.resume_batch = 0  # where a resumed epoch picks up

    # ---- one step: the four lines, guarded ------------------------------------------------
    def train_step(self, X, y, batch_index: int) -> None:
        self.optimizer.zero_grad()
        pred = self.model(X)                 # forward pass
        loss = self.loss_fn(pred, y)         # loss: how wrong, one number
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteError(self._where(batch_index) + f": the loss is {value}. "
                                 + self._first_bad_value() + self._nothing_lost())
        loss.backward()                      # backward pass: a gradient for every weight
        self._check_gradients(batch_index)
        self.optimizer.step()                # update: w ← w − lr·g (or the optimizer's rule)
        if self.per_step_schedule:
            self.scheduler.step()
        self.step += 1
        self.loss = value
        n = len(y.data)
        part = self.partial
        part["loss_sum"] += value * n
        part["count"] += n
        if self.classify:
            part["correct"] += correct_count(self.loss_fn, pred.data, y.data)

    def _where(self, batch_index: int) -> str:
        return (f"training stopped at epoch {self.epoch}, step {self.step + 1} "
                f"(batch {batch_index + 1} of the epoch)")

    def _nothing_lost(self) -> str:
        return " No update was made at this step; checkpoints saved before are intact."

    def _check_gradients(self, batch_index: int) -> None:
        # NOTE: one reduction per parameter; a sum is finite exactly when no element is NaN
        # or Inf (barring overflow, which the exact count below then sorts out).
        for p in self.model.parameters():
            g = p.grad
            if g is not None and not np.isfinite(np.add.reduce(g, axis=None)):
                nan, inf = int(np.isnan(g).sum()), int(np.isinf(g).sum())
                if nan or inf:
                    raise NonFiniteError(
                        self._where(batch_index) + f": the gradient of "
                        f"'{self.names.get(id(p), '?')}' (shape {g.shape}) has {nan} NaN and "
                        f"{inf} Inf values." + self._nothing_lost())

    def _first_bad_value(self) -> str:
        for name, p in self.model.named_parameters():
            bad = ~np.isfinite(p.data)
            if bad.any():
                return (f"The first parameter with non-finite values is '{name}' "
                        f"({int(np.isnan(p.data).sum())} NaN, {int(np.isinf(p.data).sum())} Inf).")
        return "Every parameter is finite: the learning rate may be too high, or the input bad."

    # ---- one epoch --------------------------------------------------------------------------
    def run_epoch(self, progress) -> dict:
        part = self.partial
        if part["start"] is None:
            part["start"] = time.perf_counter()
        self.model.train()
        position, self.resume_batch = self.resume_batch, 0
        for batch_index, (X, y) in enumerate(self.loader, start=position):
            self.train_step(X, y, batch_index)
            for cb in self.callbacks:
                cb.on_step_end(self)
            if progress is not None:
                progress.update(1)
            if self.checkpoint_every and self.step % self.checkpoint_every == 0:
                self.save(mid_epoch=True)
        record = {"epoch": self.epoch, "step": self.step,
                  "train_loss": part["loss_sum"] / max(part["count"], 1),
                  "lr": self.optimizer.param_groups[0]["lr"]}
        if self.classify:
            record["train_accuracy"] = part["correct"] / max(part["count"], 1)
        if self.val_loader is not None:
            for key, value in evaluate(self.model, self.val_loader, self.loss_fn).items():
                record[f"val_{key}"] = value
        if self.scheduler is not None and not self.per_step_schedule:
            if isinstance(self.scheduler, optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(record.get("val_loss", record["train_loss"]))
            else:
                self.scheduler.step()
        record["seconds"] = time.perf_counter() - part["start"]
        self.partial = {"loss_sum": 0.0, "correct": 0, "count": 0, "start": None}
        return record

    # ---- checkpoints --------------------------------------------------------------------
    checkpoint = None
    checkpoint_every = None

    def save(self, mid_epoch: bool = False) -> None:
        loader_state = None
        if mid_epoch:
            loader_state = self.loader.state_dict()
            if loader_state["permutation"] is not None:  # JSON holds it as a list
                loader_state["permutation"] = loader_state["permutation"].tolist()
        extra = {"history": self.history.records, "epoch": self.epoch,
                 "mid_epoch": mid_epoch and loader_state["in_progress"],
                 "partial": {k: v for k, v in self.partial.items() if k != "start"},
                 "loader": loader_state}
        ckpt.save(self.checkpoint, model=self.model, optimizer=self.optimizer,
                  scheduler=self.scheduler, extra=extra, epoch=self.epoch, step=self.step)

    def restore(self, path) -> None:
        info = ckpt.load(path, model=self.model, optimizer=self.optimizer,
                         scheduler=self.scheduler)
        extra = info["extra"] or {}
        self.history.records = list(extra.get("history", []))
        self.step = info["step"] or 0
        if extra.get("mid_epoch"):
            self.epoch = extra["epoch"]
            self.partial = dict(extra["partial"], start=None)
            self.loader.load_state_dict(extra["loader"])
            self.resume_batch = extra["loader"]["next_batch"]
        else:
            self.epoch = (info["epoch"] or 0) + 1


def fit(model, loss_fn, optimizer, train_data, val_data=None, epochs: int = 10,
        scheduler=None, until_loss=None, until_accuracy=None, patience=None, callbacks=(),
        progress: bool = True, checkpoint=None, resume=None, checkpoint_every=None,
        batch_size: int = 32, log=None) -> History:
    """Train `model` for up to `epochs` epochs; returns the History (and why it stopped).

    train_data / val_data: DataLoaders, Datasets, or (X, y) pairs (batched by `batch_size`,
    training data shuffled). The monitored numbers are the validation ones when val_data is
    given, else the training ones: `until_loss` stops when the loss is at most that,
    `until_accuracy` when the accuracy is at least that, `patience` after that many epochs
    without a lower loss. `checkpoint`: a file saved (atomically) after each epoch and every
    `checkpoint_every` steps; `resume`: such a file to carry on from. `log(line)` receives
    one line per epoch (default: print when progress is on).
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs={epochs!r} must be a positive int")
    for name, value in (("until_accuracy", until_accuracy),):
        if value is not None and not 0 < value <= 1:
            raise ValueError(f"fit: {name}={value} must be in (0, 1]")
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"fit: patience={patience!r} must be a positive int")
    loader = as_loader(train_data, batch_size, shuffle=True)
    trainer = Trainer(model, loss_fn, optimizer, loader, as_loader(val_data, 512, False),
                      scheduler, callbacks)
    if until_accuracy is not None and not trainer.classify:
        raise ValueError(f"fit: until_accuracy needs a classification loss, got "
                         f"{type(loss_fn).__name__}")
    trainer.checkpoint = Path(checkpoint) if checkpoint is not None else None
    trainer.checkpoint_every = checkpoint_every if checkpoint is not None else None
    if resume is not None:
        trainer.restore(resume)
    if log is None:
        log = print if progress else (lambda line: None)
    for cb in trainer.callbacks:
        cb.on_train_begin(trainer)
    try:
        _train(trainer, epochs, until_loss, until_accuracy, patience, progress, log)
    except BaseException as error:
        trainer.error = error
        raise
    finally:  # NOTE: callbacks hear the end of training even when it fails (nothing lost)
        for cb in trainer.callbacks:
            cb.on_train_end(trainer)
    return trainer.history


def _train(trainer, epochs, until_loss, until_accuracy, patience, progress, log) -> None:
    """The epoch loop of `fit`, with its stopping rules."""
    loader = trainer.loader
    monitor = "val" if trainer.val_loader is not None else "train"
    best, since_best = math.inf, 0
    for record in trainer.history.records:  # a resumed run remembers its best loss
        loss = record[f"{monitor}_loss"]
        best, since_best = (loss, 0) if loss < best else (best, since_best + 1)
    stop = "epochs" if trainer.epoch > epochs else ""
    while not stop:
        bar = _progress_bar(len(loader), trainer.epoch, epochs) if progress else None
        try:
            record = trainer.run_epoch(bar)
        finally:
            if bar is not None:
                bar.close()
        trainer.history.records.append(record)
        log(_epoch_line(record, epochs))
        loss = record[f"{monitor}_loss"]
        best, since_best = (loss, 0) if loss < best else (best, since_best + 1)
        for cb in trainer.callbacks:
            cb.on_epoch_end(trainer)
        if trainer.stop:
            stop = trainer.stop
        elif until_loss is not None and loss <= until_loss:
            stop = f"until_loss: {monitor} loss {loss:.4g} <= {until_loss}"
        elif until_accuracy is not None and record[f"{monitor}_accuracy"] >= until_accuracy:
            stop = (f"until_accuracy: {monitor} accuracy {record[f'{monitor}_accuracy']:.4f} "
                    f">= {until_accuracy}")
        elif patience is not None and since_best >= patience:
            stop = f"patience: {patience} epochs without a lower {monitor} loss"
        elif trainer.epoch >= epochs:
            stop = f"epochs: reached {epochs}"
        if trainer.checkpoint is not None:
            trainer.save()
        trainer.epoch += 1
    trainer.history.stop_reason = stop


def _epoch_line(record: dict, epochs: int) -> str:
    parts = [f"epoch {record['epoch']:>3}/{epochs}", f"loss {record['train_loss']:.4f}"]
    if "train_accuracy" in record:
        parts.append(f"acc {record['train_accuracy']:6.2%}")
    if "val_loss" in record:
        parts.append(f"val loss {record['val_loss']:.4f}")
    if "val_accuracy" in record:
        parts.append(f"val acc {record['val_accuracy']:6.2%}")
    if "val_rmse" in record:
        parts.append(f"val rmse {record['val_rmse']:.4f}  r2 {record['val_r2']:.3f}")
    parts.append(f"lr {record['lr']:.3g}  {record['seconds']:.2f}s")
    return "  ".join(parts)


def _progress_bar(total: int, epoch: int, epochs: int):
    """A tqdm bar on a terminal when tqdm is installed; otherwise None (plain lines only)."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch")
