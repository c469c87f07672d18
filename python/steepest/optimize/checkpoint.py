"""Checkpoints of the descent loops: atomic saves, validated loads.

A checkpoint is an ``.npz`` file (never pickled): the arrays (W, optimizer state, histories, the
epoch permutation, the best W) plus one JSON document (step, RNG state, counters and the run's
``settings``: its configuration's hyper-parameters and the problem's shapes, which a resume must
match). Saving writes a temporary file in the target's folder, fsyncs it and ``os.replace``-s it over
the target, so a crash or Ctrl-C during a save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from .. import _validate
from .._atomic import atomic_open

FORMAT = "steepest-checkpoint-1"
META = "__meta__"


def path_arg(path: Any, name: str) -> str:
    """A path argument (str or os.PathLike) as str; nothing is looked up."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got {type(path).__name__}")
    return os.fspath(path)


def check_path(path: Any, name: str = "checkpoint") -> str:
    """The checkpoint path as str: not empty and not a folder. Nothing is created (see :func:`make_ready`)."""
    target = path_arg(path, name)
    if not target or os.path.isdir(target):
        raise ValueError(
            f"{name} must be a file path; got {target!r} (a folder)" if target else f"{name} must not be empty"
        )
    return target


def make_ready(target: str, name: str = "checkpoint") -> str:
    """Create the folder of a :func:`check_path`-ed target when missing, and prove it writable.

    The one file-system change of a descent call before its run, made once every other check passed.
    """
    folder = os.path.dirname(os.path.abspath(target))
    _validate.writable_dir(folder, f"{name} folder")
    probe = None
    try:  # os.access is not enough (root, read-only mounts): create a file to be sure
        fd, probe = tempfile.mkstemp(prefix=".steepest-probe-", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise ValueError(f"{name} folder {folder!r} is not writable: {exc.strerror}") from None
    finally:
        if probe is not None:
            os.unlink(probe)
    return target


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def save(path: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temporary file, fsync, os.replace)."""
    doc = json.dumps(_jsonable(dict(meta, format=FORMAT)))
    payload = dict(arrays)
    payload[META] = np.frombuffer(doc.encode("utf-8"), dtype=np.uint8)
    with atomic_open(path) as handle:
        np.savez(handle, **payload)


def load(path: Any, name: str = "resume") -> tuple[dict[str, np.ndarray], dict]:
    """Read a checkpoint; ValueError naming the file when it is missing or not a steepest checkpoint."""
    path = path_arg(path, name)
    if not os.path.isfile(path):
        raise ValueError(f"{name}: checkpoint file {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{name}: {path!r} is not a readable steepest checkpoint ({exc})") from None
    if META not in arrays:
        raise ValueError(f"{name}: {path!r} is not a steepest checkpoint (no metadata)")
    try:
        meta = _from_json(json.loads(arrays.pop(META).tobytes().decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{name}: {path!r} has corrupted metadata ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{name}: {path!r} has format {meta.get('format')!r}; expected {FORMAT!r}")
    return arrays, meta


def rng_state(rng: np.random.Generator) -> dict:
    return {"bit_generator": type(rng.bit_generator).__name__, "state": rng.bit_generator.state}


def restore_rng(saved: dict) -> np.random.Generator:
    name = saved["bit_generator"]
    cls = getattr(np.random, name, None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, np.random.BitGenerator):
        raise ValueError(f"resume: unknown bit generator {name!r} in the checkpoint")
    bg = cls()
    bg.state = saved["state"]
    return np.random.Generator(bg)
