"""The `ziptie` command: train, resume and evaluate small networks from the shell.

    ziptie train --data digits --model 64-256-10 --act relu --optim adam --lr 1e-3 \\
                 --batch-size 32 --epochs 30 --until-accuracy 0.97 --seed 0 --out runs/NAME
    ziptie resume runs/NAME
    ziptie eval runs/NAME
    ziptie explain runs/NAME
    ziptie report runs/NAME
    ziptie lesson forward|loss|backward|step|sgd|adam|all
    ziptie race --surface rosenbrock --optims sgd,momentum,adam [--data digits]

Thin by design: it parses and checks arguments, then calls the library (`train.fit`,
`train.evaluate`, `save`/`load`). A run folder holds config.json (everything needed to rebuild
the run), checkpoint.safetensors (the latest state), metrics.csv (one row per epoch) and
result.json (the test scores).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, data, nn, optim
from .random import manual_seed
from .train import evaluate, fit
from .train.checkpoint import CheckpointError

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU}
OPTIMIZERS = {
    "sgd": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "nesterov": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: optim.AdamW(params, lr=lr),
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "adagrad": lambda params, lr: optim.Adagrad(params, lr=lr),
    "nadam": lambda params, lr: optim.NAdam(params, lr=lr),
    "radam": lambda params, lr: optim.RAdam(params, lr=lr),
}
TOY = {"moons": "make_moons", "circles": "make_circles", "spirals": "make_spirals",
       "blobs": "make_blobs"}
DEFAULT_MODELS = {"digits": "64-256-10", "diabetes": "10-64-1"}


class UsageError(Exception):
    """A bad command-line argument: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # NOTE: one line and exit 2, instead of argparse's usage dump
        raise UsageError(message)


# ---- building a run from its config -------------------------------------------------------


def load_data(config: dict) -> dict:
    """Train/validation/test tensors for the config's dataset (seeded, so a resumed or
    evaluated run sees exactly the same splits)."""
    # NOTE: the train/test split is fixed (split seed 0) so runs with different --seed are
    # scored on the same test set; --seed drives init, shuffling and the validation split.
    name, seed = config["data"], config["seed"]
    if name in TOY:
        X, y = getattr(data, TOY[name])(n=1200, seed=0)
        cut = int(0.8 * len(X))
        X_train, y_train, X_test, y_test = X[:cut], y[:cut], X[cut:], y[cut:]
    else:
        X_train, y_train, X_test, y_test = (np.asarray(t) for t in data.load(name, seed=0))
    # Inputs are standardized with the training split's statistics (an MLP learns faster
    # from features of mean 0 and variance 1; constant pixels are left at 0).
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1
    X_train = ((X_train - mean) / std).astype(np.float32)
    X_test = ((X_test - mean) / std).astype(np.float32)
    n_val = int(round(config["val_fraction"] * len(X_train)))
    order = np.random.default_rng(seed + 1).permutation(len(X_train))
    val, train = order[:n_val], order[n_val:]
    return {"train": (X_train[train], y_train[train]), "val": (X_train[val], y_train[val]),
            "test": (X_test, y_test), "features": X_train.shape[1],
            "classes": int(y_train.max()) + 1 if y_train.dtype.kind in "iu" else None}


def build(config: dict, splits: dict):
    """(model, loss_fn, optimizer) for a config."""
    sizes = [int(n) for n in config["model"].split("-")]
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[config["act"]]())
    loss_fn = nn.MSELoss() if splits["classes"] is None else nn.CrossEntropyLoss()
    model = nn.Sequential(*layers)
    return model, loss_fn, OPTIMIZERS[config["optim"]](model.parameters(), config["lr"])


def check_config(config: dict, splits: dict) -> None:
    """Errors a newcomer can act on, before any training starts."""
    try:
        sizes = [int(n) for n in config["model"].split("-")]
    except ValueError:
        raise UsageError(f"--model {config['model']!r}: give layer sizes joined by '-', e.g. "
                         "64-128-10") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"--model {config['model']}: needs at least an input and an output "
                         "size, all >= 1")
    if sizes[0] != splits["features"]:
        raise UsageError(f"--model {config['model']}: the first size must be the number of "
                         f"input features, which is {splits['features']} for {config['data']}")
    want = splits["classes"] or 1
    if sizes[-1] != want:
        what = f"{want} classes" if splits["classes"] else "1 output (regression)"
        raise UsageError(f"--model {config['model']}: the last size must be {want}: "
                         f"{config['data']} has {what}")
    if config["until_accuracy"] is not None and splits["classes"] is None:
        raise UsageError(f"--until-accuracy: {config['data']} is a regression task; use "
                         "--until-loss")


# ---- commands --------------------------------------------------------------------------------


def run_training(config: dict, out: Path, resume: bool) -> int:
    manual_seed(config["seed"])
    splits = load_data(config)
    check_config(config, splits)
    model, loss_fn, optimizer = build(config, splits)
    checkpoint = out / "checkpoint.safetensors"
    n_params = sum(p.data.size for p in model.parameters())
    print(f"ziptie {__version__}: {config['data']} ({len(splits['train'][0])} train, "
          f"{len(splits['val'][0])} validation, {len(splits['test'][0])} test), model "
          f"{config['model']} ({n_params:,} parameters), {config['optim']} lr {config['lr']}")
    callbacks = []
    if config.get("record_every", 2):
        from .inspect import RecorderCallback

        # NOTE: a resumed run records its new steps only (records.* are rewritten)
        callbacks.append(RecorderCallback(out, every=config.get("record_every", 2)))
    history = fit(model, loss_fn, optimizer, splits["train"], splits["val"],
                  epochs=config["epochs"], until_loss=config["until_loss"],
                  until_accuracy=config["until_accuracy"], patience=config["patience"],
                  batch_size=config["batch_size"], checkpoint=checkpoint,
                  resume=checkpoint if resume else None, callbacks=callbacks)
    write_metrics(out / "metrics.csv", history.records)
    test = evaluate(model, splits["test"], loss_fn)
    (out / "result.json").write_text(json.dumps(
        {"stop_reason": history.stop_reason, "epochs": len(history), "test": test}, indent=2))
    scores = "  ".join(f"test {k} {v:.4f}" for k, v in test.items())
    print(f"stopped: {history.stop_reason}\n{scores}\nrun saved in {out}/")
    from .inspect import write_report

    print(f"report: {write_report(out)}")
    return 0


def write_metrics(path: Path, records: list) -> None:
    keys = list(dict.fromkeys(k for r in records for k in r))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(records)


def cmd_train(args) -> int:
    config = {k: getattr(args, k) for k in ("data", "model", "act", "optim", "lr", "batch_size",
                                            "epochs", "until_accuracy", "until_loss",
                                            "patience", "seed", "val_fraction", "record_every")}
    config["model"] = config["model"] or DEFAULT_MODELS.get(args.data) or _toy_model(args.data)
    config["version"] = __version__
    out = Path(args.out or f"runs/{args.data}-{time.strftime('%Y%m%d-%H%M%S')}")
    if (out / "config.json").exists() and not args.force:
        raise UsageError(f"--out {out}: a run is already there; use `ziptie resume {out}`, "
                         "another --out, or --force to start over")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return run_training(config, out, resume=False)


def _toy_model(name: str) -> str:
    classes = 3 if name == "spirals" else (4 if name == "blobs" else 2)
    return f"2-32-32-{classes}"


def _read_run(folder: str) -> tuple:
    out = Path(folder)
    try:
        config = json.loads((out / "config.json").read_text())
    except FileNotFoundError:
        raise UsageError(f"{folder}: no run there (config.json is missing)") from None
    except ValueError:
        raise UsageError(f"{folder}: config.json is not valid JSON") from None
    return out, config


def cmd_resume(args) -> int:
    out, config = _read_run(args.run)
    if args.epochs is not None:
        config["epochs"] = args.epochs
        (out / "config.json").write_text(json.dumps(config, indent=2))
    if not (out / "checkpoint.safetensors").exists():
        raise UsageError(f"{args.run}: no checkpoint to resume from yet")
    return run_training(config, out, resume=True)


def cmd_eval(args) -> int:
    out, config = _read_run(args.run)
    manual_seed(config["seed"])
    splits = load_data(config)
    model, loss_fn, optimizer = build(config, splits)
    from .train.checkpoint import load

    load(out / "checkpoint.safetensors", model=model)
    for split in ("train", "val", "test"):
        scores = evaluate(model, splits[split], loss_fn)
        print(f"{split:5s} " + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return 0


# ---- parsing ---------------------------------------------------------------------------------


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be > 0")
        return value
    return parse


def _fraction(text):
    value = _positive(float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} must be in (0, 1]")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ziptie", description=(
        "Train small neural networks on a CPU and watch them learn. Start with "
        "`ziptie train` (it trains a digit recognizer with sensible defaults), then look in "
        "the run folder it prints."))
    parser.add_argument("--version", action="version", version=f"ziptie {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    datasets = sorted(set(data.available()) | set(TOY))

    train = sub.add_parser("train", help="train a model and save the run in a folder",
                           description="Train an MLP: each step takes a mini-batch, computes "
                           "the loss, the gradients, and updates the weights.")
    train.add_argument("--data", default="digits", choices=datasets,
                       help="dataset (default: digits, 8x8 handwritten digits)")
    train.add_argument("--model", default=None, metavar="SIZES",
                       help="layer sizes from input to output, e.g. 64-128-10 (default: one "
                            "that fits the data)")
    train.add_argument("--act", default="relu", choices=sorted(ACTIVATIONS),
                       help="activation between layers (default: relu)")
    train.add_argument("--optim", default="adam", choices=sorted(OPTIMIZERS),
                       help="optimizer (default: adam)")
    train.add_argument("--lr", default=1e-3, type=_positive(float),
                       help="learning rate: how big each update step is (default: 1e-3)")
    train.add_argument("--batch-size", default=32, type=_positive(int),
                       help="examples per mini-batch (default: 32)")
    train.add_argument("--epochs", default=30, type=_positive(int),
                       help="at most this many passes over the training data (default: 30)")
    train.add_argument("--until-accuracy", default=None, type=_fraction, metavar="A",
                       help="stop once validation accuracy reaches A, e.g. 0.97")
    train.add_argument("--until-loss", default=None, type=_positive(float), metavar="L",
                       help="stop once validation loss is at most L")
    train.add_argument("--patience", default=None, type=_positive(int), metavar="N",
                       help="stop after N epochs without a lower validation loss")
    train.add_argument("--val-fraction", default=0.1, type=_fraction, metavar="F",
                       help="share of the training data held out for validation (default 0.1)")
    train.add_argument("--seed", default=0, type=_seed,
                       help="random seed: same seed, same run (default: 0)")
    train.add_argument("--out", default=None, metavar="DIR",
                       help="run folder (default: runs/DATA-DATE-TIME)")
    train.add_argument("--force", action="store_true", help="overwrite a run in --out")
    train.add_argument("--record-every", default=2, type=_seed, metavar="N",
                       help="record weights, gradients and updates every N steps for "
                            "`ziptie explain` and the report (0: off; default 2, which keeps "
                            "the cost of recording under 20%% of training time)")
    train.set_defaults(func=cmd_train)

    resume = sub.add_parser("resume", help="carry on a run from its last checkpoint",
                            description="Carry on a run exactly where its checkpoint left it.")
    resume.add_argument("run", metavar="RUN", help="the run folder, e.g. runs/digits-...")
    resume.add_argument("--epochs", default=None, type=_positive(int),
                        help="raise the epoch limit before resuming")
    resume.set_defaults(func=cmd_resume)

    ev = sub.add_parser("eval", help="score a saved run on its train/validation/test data",
                        description="Load a run's checkpoint and report its scores.")
    ev.add_argument("run", metavar="RUN", help="the run folder")
    ev.set_defaults(func=cmd_eval)

    ex = sub.add_parser("explain", help="why did the weights move? answered with a run's numbers",
                        description="Explain a recorded run: does each update follow the "
                        "gradient or the weight's size? Real examples from the run, and checks "
                        "of the update rule.")
    ex.add_argument("run", metavar="RUN", help="the run folder")
    ex.add_argument("--weight", default=None, metavar="NAME@I,J",
                    help="also tell one weight's story, e.g. 2.weight@0,3")
    ex.set_defaults(func=cmd_explain)

    rep = sub.add_parser("report", help="write one HTML page about a run (curves, statistics, "
                         "the explanation)", description="Write a self-contained HTML report "
                         "of a run: its settings, result, curves, per-layer statistics and the "
                         "explanation of why its weights moved.")
    rep.add_argument("run", metavar="RUN", help="the run folder")
    rep.add_argument("--out", default=None, metavar="FILE",
                     help="where to write it (default: RUN/report.html)")
    rep.set_defaults(func=cmd_report)

    from . import lessons

    lesson = sub.add_parser(
        "lesson", help="a short lesson on one idea of training, with its own numbers",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Lessons, in the order training happens:\n"
        + "\n".join(f"  {name:9s} {lessons.summary(name)}" for name in lessons.NAMES)
        + "\n  all       every lesson in order")
    lesson.add_argument("name", choices=list(lessons.NAMES) + ["all"], metavar="NAME",
                        help=f"one of {', '.join(lessons.NAMES)}, or all")
    lesson.add_argument("--out", default="lessons", metavar="DIR",
                        help="where the pictures go (default: lessons/)")
    lesson.add_argument("--seed", default=0, type=_seed, help="random seed (default: 0)")
    lesson.set_defaults(func=cmd_lesson)

    race = sub.add_parser(
        "race", help="race optimizers on a 2-D surface (and on real data) and draw it",
        description="Run several optimizers from the same start on a 2-D loss surface: their "
        "paths on the contour plot and their losses per step, in one picture, with a table of "
        "the steps each needs to get within the tolerance of the minimum.")
    race.add_argument("--surface", default="rosenbrock",
                      choices=["rosenbrock", "beale", "saddle", "ill-conditioned-quadratic"],
                      help="the loss surface (default: rosenbrock)")
    race.add_argument("--optims", default="sgd,momentum,nesterov,rmsprop,adam,adamw",
                      metavar="A,B,...", help="optimizers, comma-separated (default: "
                      "sgd,momentum,nesterov,rmsprop,adam,adamw)")
    race.add_argument("--steps", default=None, type=_positive(int),
                      help="steps per optimizer (default: the surface's own)")
    race.add_argument("--data", default=None, choices=["digits"],
                      help="also race on real data: loss curves of an MLP")
    race.add_argument("--epochs", default=5, type=_positive(int),
                      help="epochs for --data (default: 5)")
    race.add_argument("--out", default="race", metavar="DIR",
                      help="where the pictures go (default: race/)")
    race.set_defaults(func=cmd_race)
    return parser


def cmd_race(args) -> int:
    from .inspect import plots
    from .inspect.race import race, race_data

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = race(args.surface, optims=args.optims, steps=args.steps)
        print(result.format_table())
        print(f"picture: {plots.plot_race(result, out / f'race_{args.surface}.png')}")
        if args.data:
            curves = race_data(args.data, optims=args.optims, epochs=args.epochs)
            print(curves.format_table())
            print(f"picture: {plots.plot_race_data(curves, out / f'race_{args.data}.png')}")
    except ValueError as e:
        raise UsageError(str(e)) from None
    return 0


def cmd_explain(args) -> int:
    from .inspect import explain, weight_story

    out, config = _read_run(args.run)
    if not (out / "records.json").exists():
        raise UsageError(f"{args.run}: no records (train with --record-every N > 0 to record)")
    print(explain(out).text())
    if (out / "checkpoint.safetensors").exists():
        from .inspect import input_scaling_check
        from .train.checkpoint import load

        splits = load_data(config)
        model, loss_fn, _ = build(config, splits)
        load(out / "checkpoint.safetensors", model=model, rng=False)
        X, y = (a[:64] for a in splits["train"])
        feature = int(np.argmax(np.abs(X).sum(axis=0)))  # a feature that is not all zero
        print("\n" + input_scaling_check(model, loss_fn, X, y, feature=feature,
                                           factor=2.0).text())
    if args.weight:
        name, _, index = args.weight.partition("@")
        try:
            position = tuple(int(i) for i in index.split(",")) if index else ()
            story = weight_story(out, name, position).text().splitlines()
            if len(story) > 44:  # NOTE: the head and tail of a long story, with a marker
                story = story[:22] + [f"  … {len(story) - 42} steps …"] + story[-20:]
            print("\n" + "\n".join(story))
        except (KeyError, ValueError, IndexError) as e:
            raise UsageError(f"--weight {args.weight}: {e}") from None
    return 0


def cmd_report(args) -> int:
    from .inspect import write_report

    out, _ = _read_run(args.run)
    print(f"report: {write_report(out, args.out)}")
    return 0


def cmd_lesson(args) -> int:
    from . import lessons

    out = Path(args.out)
    if args.name == "all":
        lessons.run_all(out, seed=args.seed)
    else:
        lessons.run(args.name, out, seed=args.seed)
    return 0


def main(argv=None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except UsageError as e:
        print(f"ziptie: error: {e}", file=sys.stderr)
        return 2
    except CheckpointError as e:
        print(f"ziptie: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nziptie: interrupted; the last checkpoint is intact (ziptie resume RUN)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
