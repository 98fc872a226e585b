"""Checkpoints: round trips, hostile files refused with our own error, SIGKILL-safe saves."""

from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ziptieai as zt
from ziptieai import nn, optim
from ziptieai.train.checkpoint import CheckpointError, read_safetensors, write_safetensors


def make_model(seed=0):
    zt.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


def trained(opt_cls=optim.Adam, **kw):
    model = make_model()
    opt = opt_cls(model.parameters(), **kw)
    for _ in range(3):
        opt.zero_grad()
        model(zt.tensor(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
              ).sum().backward()
        opt.step()
    return model, opt


@pytest.fixture
def ckpt(tmp_path):
    model, opt = trained(amsgrad=True)
    path = tmp_path / "run.safetensors"
    zt.save(path, model=model, optimizer=opt, epoch=2, step=30, extra={"note": "ok"})
    return path, model, opt


def test_round_trip_restores_model_optimizer_rng_and_info(ckpt):
    path, model, opt = ckpt
    zt.manual_seed(123)
    expected_draw = zt.random.default_generator().random(3)
    zt.manual_seed(123)
    zt.save(path, model=model, optimizer=opt, epoch=2, step=30, extra={"note": "ok"})
    zt.manual_seed(999)
    model2 = make_model(seed=5)
    opt2 = optim.Adam(model2.parameters())
    info = zt.load(path, model=model2, optimizer=opt2)
    assert (info["epoch"], info["step"], info["extra"]) == (2, 30, {"note": "ok"})
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert opt2.param_groups[0]["amsgrad"] is True
    for p, p2 in zip(model.parameters(), model2.parameters()):
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_array_equal(opt.state[p][key], opt2.state[p2][key])
        assert opt.state[p]["step"] == opt2.state[p2]["step"]
    np.testing.assert_array_equal(zt.random.default_generator().random(3), expected_draw)


def test_scheduler_state_round_trips(tmp_path):
    model, opt = trained(optim.SGD, lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        sched.step()
    zt.save(tmp_path / "s.safetensors", model=model, optimizer=opt, scheduler=sched)
    model2, opt2 = trained(optim.SGD, lr=0.1, momentum=0.9)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    zt.load(tmp_path / "s.safetensors", model=model2, optimizer=opt2, scheduler=sched2)
    assert sched2.last_epoch == 3 and sched2.get_last_lr() == sched.get_last_lr()


def test_file_is_safetensors_with_a_readable_header(ckpt):
    path = ckpt[0]
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["model/0.weight"]["dtype"] == "F32"
    assert header["__metadata__"]["format"] == "ziptieai-checkpoint"


def test_mismatched_model_or_optimizer_is_a_clear_error(ckpt):
    path = ckpt[0]
    with pytest.raises(CheckpointError, match="does not fit this model"):
        zt.load(path, model=nn.Sequential(nn.Linear(3, 7)))
    model = make_model()
    with pytest.raises(CheckpointError, match="Adam state, not SGD"):
        zt.load(path, model=model, optimizer=optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="cannot open"):
        zt.load(path.parent / "missing.safetensors")


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="pickle"):
        zt.load(path)
    assert not marker.exists()


def test_torch_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(CheckpointError, match="pickle or a zip"):
        zt.load(path)


def test_every_truncation_is_refused(ckpt):
    raw = ckpt[0].read_bytes()
    cut = ckpt[0].parent / "cut.safetensors"
    for n in sorted({0, 1, 7, 8, 9, 20, len(raw) // 2, len(raw) - 1} | set(range(0, len(raw), 97))):
        cut.write_bytes(raw[:n])
        with pytest.raises(CheckpointError):
            zt.load(cut)


def test_flipped_data_byte_fails_the_checksum(ckpt):
    raw = bytearray(ckpt[0].read_bytes())
    raw[-5] ^= 0xFF
    ckpt[0].write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="checksum"):
        zt.load(ckpt[0])


def _file_with_header(path, header, data=b""):
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + data)
    return path


META = {"format": "ziptieai-checkpoint", "version": "1", "sha256": "", "ziptieai": "{}"}


@pytest.mark.parametrize("entry,match", [
    ({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "truncated or corrupted"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}, "truncated or corrupted"),
    ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, "malformed"),
    ({"dtype": "F32", "shape": [10**12, 10**12], "data_offsets": [0, 8]}, "truncated or"),
    ({"dtype": "OBJ", "shape": [1], "data_offsets": [0, 8]}, "malformed"),
    ({"dtype": "F64", "shape": [1], "data_offsets": [4, 12]}, "truncated or corrupted"),
    ({"shape": [1]}, "malformed"),
])
def test_lying_headers_are_refused(tmp_path, entry, match):
    path = _file_with_header(tmp_path / "bad.safetensors", {"w": entry, "__metadata__": META},
                             b"\0" * 8)
    with pytest.raises(CheckpointError, match=match):
        read_safetensors(path)


def test_overlapping_entries_and_foreign_files_are_refused(tmp_path):
    entry = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    path = _file_with_header(tmp_path / "o.safetensors",
                             {"a": entry, "b": entry, "__metadata__": META}, b"\0" * 8)
    with pytest.raises(CheckpointError, match="overlap"):
        read_safetensors(path)
    path = _file_with_header(tmp_path / "f.safetensors", {"a": entry}, b"\0" * 8)
    with pytest.raises(CheckpointError, match="no metadata"):
        read_safetensors(path)
    path = _file_with_header(tmp_path / "g.safetensors",
                             {"__metadata__": {"format": "pt"}})
    with pytest.raises(CheckpointError, match="not a ZiptieAI checkpoint"):
        read_safetensors(path)


def test_huge_claimed_header_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(CheckpointError, match="header"):
        read_safetensors(path)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_random_bytes_always_give_our_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("fuzz") / "x.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError):
        read_safetensors(path)


@settings(max_examples=100)
@given(st.integers(8, 400), st.integers(0, 255))
def test_any_corrupted_byte_gives_our_error_or_a_valid_load(tmp_path_factory, where, value):
    path = tmp_path_factory.mktemp("c") / "c.safetensors"
    write_safetensors(path, {"w": np.arange(6, dtype=np.float32)}, {"a": 1})
    raw = bytearray(path.read_bytes())
    if where < len(raw):
        raw[where] = value
    path.write_bytes(bytes(raw))
    try:
        arrays, meta = read_safetensors(path)
    except CheckpointError:
        return
    # an edit that leaves a valid file (e.g. whitespace in the JSON) must load what was saved
    np.testing.assert_array_equal(arrays["w"], np.arange(6, dtype=np.float32))


def test_unsupported_values_are_refused_on_save(tmp_path):
    with pytest.raises(CheckpointError, match="JSON"):
        zt.save(tmp_path / "x.safetensors", extra={"f": object()})
    with pytest.raises(CheckpointError, match="dtype"):
        write_safetensors(tmp_path / "y.safetensors", {"s": np.array(["a"])}, {})


SAVER = textwrap.dedent("""
    import sys, numpy as np
    from ziptieai.train.checkpoint import write_safetensors
    path = sys.argv[1]
    big = np.empty(4_000_000, np.float32)
    i = 1
    while True:
        big.fill(i)
        write_safetensors(path, {"w": big}, {"version": i})
        print(i, flush=True)
        i += 1
""")


def test_sigkill_during_save_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "live.safetensors"
    write_safetensors(path, {"w": np.zeros(4_000_000, np.float32)}, {"version": 0})
    rng = np.random.default_rng(0)
    for trial in range(8):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        child.stdout.readline()  # at least one save finished: now kill at a random point
        time.sleep(float(rng.uniform(0.0, 0.08)))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        arrays, meta = read_safetensors(path)  # must load, every time
        w = arrays["w"]
        assert w[0] == w[-1] == meta["version"], f"trial {trial}: a torn checkpoint"


def test_every_header_length_loads(tmp_path):
    """Valid files whose length bytes look like a pickle (0x80) or zip ("PK") still load."""
    path = tmp_path / "h.safetensors"
    for n in range(0, 300, 3):
        write_safetensors(path, {"w": np.ones(2, np.float32)}, {"pad": "x" * n})
        arrays, meta = read_safetensors(path)
        assert meta["pad"] == "x" * n
