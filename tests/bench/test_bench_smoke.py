"""Benchmarks run in tiny --quick mode, so they cannot rot (their timings are not tested)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("w*.py"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_quick_and_checks_correctness(script):
    result = subprocess.run([sys.executable, str(BENCH / script), "--quick"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "correctness" in result.stdout and "| variant |" in result.stdout


def test_there_are_benchmarks():
    assert {"w1_mlp_step.py", "w4_chain.py"} <= set(SCRIPTS)
