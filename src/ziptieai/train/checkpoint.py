"""Checkpoints: parameters, optimizer and scheduler state, RNG state, epoch and step.

Format: safetensors (an 8-byte little-endian header length, a JSON header describing each
array, then the raw little-endian bytes), written by this module, so NumPy is the only
dependency and any safetensors reader can open the arrays. Everything that is not an array
(hyper-parameters, scheduler state, RNG state, epoch, step, user extras) is JSON in the
header's `__metadata__`, with a SHA-256 of the data section.

Never pickle: loading parses JSON and copies bytes into arrays, so a file can never run
code. Every field of a file is checked before it is trusted (sizes, offsets, dtypes, shapes,
the checksum); anything wrong raises CheckpointError, not a NumPy traceback.

Writes are atomic: a temporary file in the same folder, fsync, rename. A process killed in
the middle of a save leaves the previous checkpoint as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from .. import random as zt_random

FORMAT = "ziptieai-checkpoint"
VERSION = 1
MAX_HEADER_BYTES = 64 * 1024 * 1024  # a header larger than this is refused before reading it
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
           "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted, foreign, or does not fit."""


# ---- the safetensors layer -------------------------------------------------------------------


def write_safetensors(path, arrays: dict, metadata: dict) -> None:
    """Write `arrays` (name -> ndarray) and JSON-able `metadata` atomically to `path`."""
    path = Path(path)
    header, chunks, offset = {}, [], 0
    for name, array in arrays.items():
        array = np.asarray(array)
        array = array if array.flags.c_contiguous else array.copy()  # NOTE: keeps 0-d shape
        code = _CODES.get(array.dtype)
        if code is None:
            raise CheckpointError(f"save: '{name}' has dtype {array.dtype}, which a "
                                  f"checkpoint cannot hold (use one of {sorted(_CODES)})")
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    digest = hashlib.sha256()
    for data in chunks:
        digest.update(data)
    header["__metadata__"] = {"format": FORMAT, "version": str(VERSION),
                              "sha256": digest.hexdigest(),
                              "ziptieai": json.dumps(metadata)}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # safetensors pads the header to 8 bytes
    _atomic_write(path, [struct.pack("<Q", len(head)), head, *chunks])


def _atomic_write(path: Path, parts: list) -> None:
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # NOTE: atomic on POSIX: readers see the old file or the new
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def read_safetensors(path) -> tuple:
    """(arrays, metadata) from a checkpoint, after checking every field; CheckpointError
    on anything missing, truncated, corrupted or foreign."""
    path = Path(path)
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except OSError as e:
        raise CheckpointError(f"load: cannot open checkpoint {str(path)!r}: {e.strerror}") from None
    with f:
        first = f.read(8)
        if len(first) < 8:
            raise CheckpointError(f"load: {path} is truncated ({size} bytes): not a checkpoint")
        (header_len,) = struct.unpack("<Q", first)
        if header_len > min(MAX_HEADER_BYTES, size - 8):
            _refuse_foreign(path, first)
            raise CheckpointError(f"load: {path} claims a {header_len}-byte header but the file "
                                  f"has {size - 8} bytes after the length: truncated or not a "
                                  "checkpoint")
        try:
            header = json.loads(f.read(header_len))
        except (UnicodeDecodeError, ValueError):
            raise CheckpointError(f"load: {path} has an unreadable header: corrupted or not a "
                                  "checkpoint") from None
        data = f.read()
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        raise CheckpointError(f"load: {path} has no metadata: not a ZiptieAI checkpoint")
    meta = header.pop("__metadata__")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"load: {path} is a safetensors file but not a ZiptieAI "
                              f"checkpoint (format {meta.get('format')!r})")
    if meta.get("version") != str(VERSION):
        raise CheckpointError(f"load: {path} has checkpoint version {meta.get('version')!r}; "
                              f"this ZiptieAI reads version {VERSION}")
    arrays = _check_entries(path, header, len(data))
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"load: {path} is corrupted: its data does not match the "
                              "checksum written with it")
    try:
        metadata = json.loads(meta["ziptieai"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"load: {path} has unreadable ZiptieAI metadata") from None
    out = {}
    for name, (dtype, shape, begin, end) in arrays.items():
        stored = np.dtype(dtype).newbyteorder("<")
        flat = np.frombuffer(data, dtype=stored, count=(end - begin) // stored.itemsize,
                             offset=begin) if end > begin else np.empty(0, stored)
        out[name] = flat.reshape(shape).astype(dtype)  # native order, writable, owned
    return out, metadata


def _refuse_foreign(path: Path, first: bytes) -> None:
    """Name pickles and zips (torch's .pt) among files whose header length is implausible.

    NOTE: only then: a valid header length may well begin with byte 0x80 or "PK"."""
    if first[:1] == b"\x80" or first[:2] == b"PK":
        raise CheckpointError(f"load: {path} looks like a pickle or a zip archive (a torch .pt "
                              "file?); ZiptieAI never unpickles, so it refuses to load it")


def _check_entries(path: Path, header: dict, data_len: int) -> dict:
    """Validate every array entry: dtype, shape, offsets inside the data and the right size,
    no overlaps. Returns name -> (dtype, shape, begin, end)."""
    entries, spans = {}, []
    for name, entry in header.items():
        try:
            dtype = _DTYPES[entry["dtype"]]
            shape = tuple(entry["shape"])
            begin, end = entry["data_offsets"]
            ok = (all(isinstance(n, int) and n >= 0 for n in shape)
                  and isinstance(begin, int) and isinstance(end, int))
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise CheckpointError(f"load: {path}: entry {name!r} is malformed")
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if not 0 <= begin <= end <= data_len or end - begin != expected:
            raise CheckpointError(
                f"load: {path}: entry {name!r} ({entry['dtype']} {list(shape)}, {expected} "
                f"bytes) points at bytes {begin}..{end} of a {data_len}-byte data section: "
                "truncated or corrupted")
        spans.append((begin, end, name))
        entries[name] = (dtype, shape, begin, end)
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise CheckpointError(f"load: {path}: entries {n0!r} and {n1!r} overlap")
    return entries


# ---- training state ----------------------------------------------------------------------


def _split_optimizer_state(state_dict: dict) -> tuple:
    """Arrays out of an optimizer state dict (named optim/<index>/<key>); the rest as JSON."""
    arrays, state = {}, {}
    for index, values in state_dict["state"].items():
        state[str(index)] = {}
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[f"optimizer/{index}/{key}"] = value
                state[str(index)][key] = {"__array__": f"optimizer/{index}/{key}"}
            else:
                state[str(index)][key] = value
    return arrays, {"state": state, "param_groups": state_dict["param_groups"]}


def _join_optimizer_state(arrays: dict, packed: dict) -> dict:
    state = {}
    for index, values in packed["state"].items():
        state[int(index)] = {k: (arrays[v["__array__"]] if isinstance(v, dict)
                                 and "__array__" in v else v) for k, v in values.items()}
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()}
              for g in packed["param_groups"]]
    return {"state": state, "param_groups": groups}


def save(path, *, model=None, optimizer=None, scheduler=None, extra=None, epoch=None,
         step=None, rng=True) -> Path:
    """Save a training state to `path`, atomically (see the module docstring).

    model/optimizer/scheduler: anything with state_dict(); extra: JSON-able user data;
    epoch, step: where training stands; rng: also save ZiptieAI's random generator state.
    """
    arrays, meta = {}, {"epoch": epoch, "step": step, "extra": extra}
    if model is not None:
        for name, value in model.state_dict().items():
            arrays[f"model/{name}"] = value
        meta["model_keys"] = list(model.state_dict())
    if optimizer is not None:
        opt_arrays, meta["optimizer"] = _split_optimizer_state(optimizer.state_dict())
        meta["optimizer_class"] = type(optimizer).__name__
        arrays.update(opt_arrays)
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
        meta["scheduler_class"] = type(scheduler).__name__
    if rng:
        meta["rng"] = zt_random.get_rng_state()
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"save: the checkpoint metadata is not JSON-able ({e}); `extra` "
                              "must hold only numbers, strings, lists and dicts") from None
    write_safetensors(path, arrays, meta)
    return Path(path)


def load(path, *, model=None, optimizer=None, scheduler=None, rng=True) -> dict:
    """Load a checkpoint from `save`: restores into the objects given (in place) and returns
    {'epoch', 'step', 'extra', 'model' (the state dict), ...}."""
    arrays, meta = read_safetensors(path)
    model_state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    if model is not None:
        if "model_keys" not in meta:
            raise CheckpointError(f"load: {path} holds no model")
        try:
            model.load_state_dict(model_state)
        except (KeyError, ValueError) as e:
            raise CheckpointError(f"load: {path} does not fit this model: {e}") from None
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(f"load: {path} holds no optimizer state")
        if meta.get("optimizer_class") != type(optimizer).__name__:
            raise CheckpointError(f"load: {path} holds {meta.get('optimizer_class')} state, "
                                  f"not {type(optimizer).__name__}")
        try:
            optimizer.load_state_dict(_join_optimizer_state(arrays, meta["optimizer"]))
        except (KeyError, ValueError) as e:
            raise CheckpointError(f"load: {path} does not fit this optimizer: {e}") from None
    if scheduler is not None:
        if "scheduler" not in meta:
            raise CheckpointError(f"load: {path} holds no scheduler state")
        scheduler.load_state_dict(meta["scheduler"])
    if rng and meta.get("rng") is not None:
        zt_random.set_rng_state(meta["rng"])
    return {"epoch": meta.get("epoch"), "step": meta.get("step"), "extra": meta.get("extra"),
            "model": model_state, "metadata": meta}
