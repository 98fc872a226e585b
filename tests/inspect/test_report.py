"""inspect.report: one self-contained HTML page of a real run folder, with and without records,
with and without matplotlib; opt-in (ZIPTIE_BROWSER_TESTS=1), a headless chromium renders it."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import ziptieai as zt
from ziptieai import cli
from ziptieai.inspect import Recorder, explain
from ziptieai.inspect.report import SECTIONS, command_line, elide, fmt, write_report

_PNG = b"\x89PNG\r\n\x1a\n"


def train(folder, *extra):
    """`ziptie train` on moons, small and quick (it records the run unless told not to)."""
    args = ["train", "--data", "moons", "--model", "2-8-2", "--epochs", "2", "--batch-size",
            "64", "--lr", "0.01", "--out", str(folder), *extra]
    assert cli.main(args) == 0
    return folder


def record(folder, steps=6, **recorder_kw):
    """Replace a run's records with those of a short loop of our own, recorded as asked."""
    config = json.loads((folder / "config.json").read_text())
    splits = cli.load_data(config)
    model, loss_fn, optimizer = cli.build(config, splits)
    X, y = splits["train"]
    with Recorder(model, optimizer, **recorder_kw) as rec:
        for k in range(steps):
            optimizer.zero_grad()
            loss_fn(model(zt.tensor(X[k * 32:(k + 1) * 32])),
                    zt.tensor(y[k * 32:(k + 1) * 32])).backward()
            optimizer.step()
    rec.save(folder)
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("runs") / "moons")


@pytest.fixture
def no_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails


def images(page: str) -> list:
    return re.findall(r"<img src='([^']*)'", page)


def assert_self_contained(page: str) -> None:
    lowered = page.lower()
    for needle in ("http://", "https://", "<script", "<link", "url(", "file:"):
        assert needle not in lowered, needle
    srcs = re.findall(r"""\bsrc\s*=\s*['"]?([^'" >]*)""", page)
    assert len(srcs) == len(images(page))
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(_PNG)


def assert_sections(page: str) -> None:
    for title in SECTIONS:
        assert f"<h2>{html.escape(title)}</h2>" in page, title


# ---- a recorded run ----------------------------------------------------------------------------
def test_report_of_a_recorded_run(run):
    pytest.importorskip("matplotlib")
    path = write_report(run)
    assert path == run / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<meta charset=\"utf-8\">" in page
    assert_self_contained(page)
    assert_sections(page)
    # curves, per-layer norms, histograms over time, one weight's story
    assert len(images(page)) == 4
    result = json.loads((run / "result.json").read_text())
    assert html.escape(result["stop_reason"]) in page
    assert fmt(result["test"]["accuracy"], "accuracy") in page  # e.g. 87.50%
    assert html.escape(command_line(json.loads((run / "config.json").read_text()))) in page
    for line in explain(run).text().split("\n"):  # the explanation, paragraph by paragraph
        assert f"<p>{html.escape(line)}</p>" in page
    assert "moved the most over the recorded steps" in page and "0.weight[" in page
    assert "Train with recording on" not in page and "not installed" not in page


def test_report_goes_where_asked(run, tmp_path, no_matplotlib):
    out = write_report(run, out=tmp_path / "deep" / "page.html")
    assert out == tmp_path / "deep" / "page.html" and out.is_file()


# ---- degrading gracefully ---------------------------------------------------------------------
def test_without_records_the_sections_say_how_to_record(tmp_path):
    pytest.importorskip("matplotlib")
    folder = train(tmp_path / "plain", "--record-every", "0")
    assert not (folder / "records.json").exists()
    page = write_report(folder).read_text(encoding="utf-8")
    assert_self_contained(page)
    assert_sections(page)
    assert len(images(page)) == 1  # the curves still have their picture
    assert page.count("Train with recording on") == 1  # in layers; the others link to it
    assert "nothing to explain" in page and "no weight to follow" in page


def test_without_matplotlib_tables_only_with_a_note(run, tmp_path, no_matplotlib):
    page = write_report(run, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert_sections(page)
    assert images(page) == [] and "matplotlib is not installed" in page
    assert "<th class=num>‖ΔW‖ / ‖W‖</th>" in page  # the per-layer table stays
    assert "<th class=num>val accuracy</th>" in page and "<th class=num>ΔW</th>" in page


def test_records_without_full_values(tmp_path, no_matplotlib):
    folder = record(train(tmp_path / "summary", "--record-every", "0"), full_size_limit=0)
    page = write_report(folder).read_text(encoding="utf-8")
    assert "No weight matrix kept its full values" in page
    assert "No full weight values were recorded" in page  # explain's own sentence
    # only the second layer kept its values: the story follows it and says why
    record(folder, full_size_limit=0, full_values=["2.weight"])
    page = write_report(folder).read_text(encoding="utf-8")
    assert "0.weight kept no full values" in page and "full_values=['0.weight']" in page
    assert "<b>2.weight[" in page


def test_an_unfinished_run_and_a_folder_that_is_no_run(tmp_path, no_matplotlib):
    folder = tmp_path / "started"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"data": "moons", "lr": 0.01, "seed": 0}))
    page = write_report(folder).read_text(encoding="utf-8")
    assert_sections(page)
    assert "No result.json yet" in page and "No metrics.csv" in page
    with pytest.raises(ValueError, match="is not a run folder"):
        write_report(tmp_path / "nothing")


def test_numbers_read_well():
    assert fmt(0.89583, "val_accuracy") == "89.58%" and fmt(0.2754, "seconds") == "0.28 s"
    assert fmt(None) == fmt(float("nan")) == "—" and fmt(12345) == "12,345"
    assert fmt(0.000123456) == "0.0001235" and fmt(0.001) == "0.001" and fmt("relu") == "relu"
    assert elide(9) == list(range(9)) and elide(20) == [0, 1, 2, 3, 4, None, 16, 17, 18, 19]
    assert command_line({"data": "moons", "batch_size": 64, "patience": None}) == \
        "ziptie train --data moons --batch-size 64"


# ---- opt-in: a real browser renders it ---------------------------------------------------------
def _chromium():
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)


@pytest.mark.skipif(os.environ.get("ZIPTIE_BROWSER_TESTS") != "1" or _chromium() is None,
                    reason="opt-in: set ZIPTIE_BROWSER_TESTS=1 with chromium installed")
def test_headless_chromium_shows_every_image(run, tmp_path):
    pytest.importorskip("matplotlib")
    page = write_report(run, out=tmp_path / "report.html").read_text(encoding="utf-8")
    n = len(images(page))
    # NOTE: the page needs no JavaScript; this copy adds a little, to read back what the
    # browser decoded: every image's natural size, once the page has loaded.
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", (
        "<script>addEventListener('load', () => document.body.setAttribute('data-sizes', "
        "Array.from(document.images).map(i => i.naturalWidth + 'x' + i.naturalHeight)"
        ".join(' ')))</script></body>")), encoding="utf-8")
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=5000"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    sizes = re.search(r'data-sizes="([^"]*)"', dom).group(1).split()
    assert len(sizes) == n == 4
    assert all(int(w) > 500 and int(h) > 300 for w, h in (s.split("x") for s in sizes)), sizes
    # and on screen: the validation curve's orange appears (the page's CSS has no orange)
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    subprocess.run(flags + ["--window-size=1200,3000", f"--screenshot={shot}",
                            (tmp_path / "report.html").as_uri()],
                   capture_output=True, timeout=60, check=True)
    pixels = (imread(shot)[..., :3] * 255).round()
    orange = (abs(pixels - [255, 127, 14]).max(axis=-1) <= 12).sum()
    assert orange > 200
