"""The `ziptie` command: train, eval and resume a run; every bad argument is one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ziptieai.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_eval_resume_a_run(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, _ = run(["train", "--data", "moons", "--epochs", "3", "--out", str(out_dir)],
                       capsys)
    assert code == 0 and "run saved in" in out and "epoch   3/3" in out
    assert {p.name for p in out_dir.iterdir()} >= {"config.json", "checkpoint.safetensors",
                                                    "metrics.csv", "result.json", "report.html"}
    assert f"report: {out_dir / 'report.html'}" in out
    assert json.loads((out_dir / "config.json").read_text())["epochs"] == 3
    assert len((out_dir / "metrics.csv").read_text().strip().splitlines()) == 1 + 3
    code, out, _ = run(["eval", str(out_dir)], capsys)
    assert code == 0 and out.startswith("train") and "test " in out
    code, out, _ = run(["resume", str(out_dir), "--epochs", "5"], capsys)
    assert code == 0 and "epoch   4/5" in out and "epoch   5/5" in out
    assert len((out_dir / "metrics.csv").read_text().strip().splitlines()) == 1 + 5


def test_resumed_run_equals_an_uninterrupted_one(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    run(["train", "--data", "spirals", "--epochs", "4", "--out", str(a)], capsys)
    run(["train", "--data", "spirals", "--epochs", "2", "--out", str(b)], capsys)
    run(["resume", str(b), "--epochs", "4"], capsys)
    assert (a / "metrics.csv").read_text().splitlines()[1:] and [
        line.rsplit(",", 1)[0] for line in (a / "metrics.csv").read_text().splitlines()] == [
        line.rsplit(",", 1)[0] for line in (b / "metrics.csv").read_text().splitlines()]
    assert json.loads((a / "result.json").read_text())["test"] == \
        json.loads((b / "result.json").read_text())["test"]


@pytest.mark.parametrize("argv,message", [
    (["train", "--lr", "-1"], "--lr: -1 must be > 0"),
    (["train", "--lr", "fast"], "'fast' is not a float"),
    (["train", "--batch-size", "0"], "--batch-size: 0 must be > 0"),
    (["train", "--epochs", "2.5"], "'2.5' is not a int"),
    (["train", "--until-accuracy", "1.5"], "1.5 must be in (0, 1]"),
    (["train", "--seed", "-3"], "-3 must be >= 0"),
    (["train", "--data", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--optim", "lion"], "invalid choice: 'lion'"),
    (["train", "--model", "64-x-10"], "give layer sizes joined by '-'"),
    (["train", "--model", "60-128-10"], "first size must be the number of input features, "
                                        "which is 64"),
    (["train", "--model", "64-128-3"], "last size must be 10"),
    (["train", "--data", "diabetes", "--until-accuracy", "0.9"], "regression task"),
    (["resume", "no/such/run"], "no run there"),
    (["eval", "no/such/run"], "no run there"),
    (["fly"], "invalid choice: 'fly'"),
    (["lesson", "fwd"], "invalid choice: 'fwd'"),
    (["race", "--surface", "bowl"], "invalid choice: 'bowl'"),
    (["race", "--optims", "sgd,lion"], "lion"),
    ([], "required: COMMAND"),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("ziptie: error: ") and message in err, err


def test_existing_run_is_not_overwritten_without_force(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    assert run(["train", "--data", "moons", "--epochs", "1", "--out", out_dir], capsys)[0] == 0
    code, _, err = run(["train", "--data", "moons", "--epochs", "1", "--out", out_dir], capsys)
    assert code == 2 and "ziptie resume" in err
    assert run(["train", "--data", "moons", "--epochs", "1", "--out", out_dir, "--force"],
               capsys)[0] == 0


def test_help_explains_the_commands():
    result = subprocess.run([sys.executable, "-m", "ziptieai.cli", "train", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0
    for phrase in ("learning rate", "examples per mini-batch", "--until-accuracy", "digits"):
        assert phrase in result.stdout


def test_lesson_runs_and_writes_its_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, out, _ = run(["lesson", "step", "--out", str(tmp_path)], capsys)
    assert code == 0 and (tmp_path / "step.png").stat().st_size > 10_000
    assert "Picture:" in out


def test_race_draws_surface_and_data(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, out, _ = run(["race", "--surface", "ill-conditioned-quadratic", "--optims",
                        "sgd,adam", "--data", "digits", "--epochs", "1", "--out",
                        str(tmp_path)], capsys)
    assert code == 0 and "adam" in out.lower()
    assert (tmp_path / "race_ill-conditioned-quadratic.png").stat().st_size > 10_000
    assert (tmp_path / "race_digits.png").stat().st_size > 10_000


def test_train_records_and_explain_answers(tmp_path, capsys):
    out_dir = tmp_path / "r"
    assert run(["train", "--data", "moons", "--epochs", "2", "--out", str(out_dir)],
               capsys)[0] == 0
    assert (out_dir / "records.json").exists() and (out_dir / "records.npz").exists()
    code, out, _ = run(["explain", str(out_dir), "--weight", "2.weight@0,1"], capsys)
    assert code == 0 and "rank correlation" in out and "2.weight[0, 1]" in out
    assert "∂loss/∂W = δ·xᵀ" in out and ": holds)" in out
    code, _, err = run(["explain", str(out_dir), "--weight", "nope@0"], capsys)
    assert code == 2 and err.startswith("ziptie: error: --weight nope@0")
    bare = tmp_path / "bare"
    run(["train", "--data", "moons", "--epochs", "1", "--record-every", "0", "--out",
         str(bare)], capsys)
    code, _, err = run(["explain", str(bare)], capsys)
    assert code == 2 and "no records" in err


def test_report_command_writes_the_page(tmp_path, capsys):
    out_dir = tmp_path / "r"
    run(["train", "--data", "moons", "--epochs", "2", "--out", str(out_dir)], capsys)
    target = tmp_path / "page.html"
    code, out, _ = run(["report", str(out_dir), "--out", str(target)], capsys)
    assert code == 0 and target.exists() and "Why did the weights move" in target.read_text()
