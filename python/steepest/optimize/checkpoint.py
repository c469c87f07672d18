"""Checkpoints of the descent loops: atomic saves, loads that trust nothing in the file.

A checkpoint is an ``.npz`` file (never pickled): the arrays (W, optimizer state, histories, the
epoch permutation, the best W) plus one JSON document (step, RNG state, counters and the run's
``settings``: its configuration's hyper-parameters and the problem's shapes, which a resume must
match). Saving writes a temporary file in the target's folder, fsyncs it and ``os.replace``-s it over
the target, so a crash or Ctrl-C during a save leaves the previous checkpoint intact.

Loading (:func:`load`) validates the whole file against the run that resumes it before any of it
reaches a kernel or an allocation: the JSON document first, then each array's ``.npy`` header (name,
dtype, shape) against what the run expects, then the data (finite, in range, consistent with the
other fields: the histories hold one entry per step, the epoch order is a permutation of the
examples, the best-so-far fields are those the histories give). Each refusal is one of the
:mod:`steepest._untrusted` errors, naming the file and the field; the JSON fields are read with that
module's :class:`~steepest._untrusted.Fields`, the generator with its ``restore_generator``, as the
saved networks' are.
"""

from __future__ import annotations

import ast
import json
import lzma
import os
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validate
from .._atomic import atomic_open
from .._untrusted import (
    FieldRangeError,
    Fields,
    FieldTypeError,
    MissingFieldError,
    ProblemMismatchError,
    UnreadableFileError,
    UntrustedFileError,
    bounds,
    generator_state,
    jsonable,
    parse_json,
    restore_generator,
    shown,
)

FORMAT = "steepest-checkpoint-1"
META = "__meta__"
_META_FIELDS = ("format", "settings", "step", "pos", "best_acc", "best_step", "bad", "rng")
_META_BYTES = 1 << 22  # the JSON document is a few kB (an MT19937 state is its largest part)
# The arrays a checkpoint has only in some runs, and what decides it.
_OPTIONAL = {
    "perm": "only a run with sampling='epoch' has an epoch order, from its first step on",
    "best_W": "only a run with validation data has a best W, from its first evaluation on",
    "state_m": "only update='adam' has a first moment",
    "state_v": "only momentum, nesterov and adam have a velocity or second moment",
}
_DIGESTS = {"labels_crc32": "labels y"}  # settings that are checksums of the problem's data
_HEADER_BYTES = 10_000  # numpy's own limit for a .npy header
# What a damaged zip archive raises while it is opened or read (a tampered compression method gives
# NotImplementedError, an "encrypted" flag RuntimeError, a bad deflate stream zlib.error).
_ZIP_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    OverflowError,
)


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


def save(path: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temporary file, fsync, os.replace)."""
    doc = json.dumps(jsonable(dict(meta, format=FORMAT)))
    payload = dict(arrays)
    payload[META] = np.frombuffer(doc.encode("utf-8"), dtype=np.uint8)
    with atomic_open(path) as handle:
        np.savez(handle, **payload)


def rng_state(rng: np.random.Generator) -> dict:
    return {"bit_generator": type(rng.bit_generator).__name__, "state": generator_state(rng)}


# --- loading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the run that resumes a checkpoint expects of it: the facts the file must agree with."""

    settings: dict  # the run's settings (the saved ones must equal them, key by key)
    shape: tuple[int, int]  # of W: (C, D)
    dtype: np.dtype  # of W and the optimizer state
    state_keys: tuple[str, ...]  # the update rule's state arrays ("v"; "m", "v")
    n: int  # the examples
    batch_size: int | None  # None: full batch
    by_epoch: bool  # sampling="epoch"
    per_epoch: int  # steps per epoch
    total: int  # the step the run ends at
    eval_every: int
    validating: bool  # the run has validation data


@dataclass(frozen=True)
class Saved:
    """A validated checkpoint: private, writable, C-contiguous arrays and the restored generator."""

    W: np.ndarray
    opt: dict
    rng: np.random.Generator
    step: int
    perm: np.ndarray | None
    pos: int
    best: tuple  # (W, accuracy, step, evaluations without improvement), as the loop keeps it
    loss_history: list
    lr_history: list
    val_steps: list
    val_accs: list


class _Archive:
    """The members of an ``.npz`` file, each read only after its ``.npy`` header matched what is expected."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
            names = self.zip.namelist()
        except _ZIP_ERRORS as exc:
            raise UnreadableFileError(path, None, f"not a steepest checkpoint (an .npz archive): {exc}") from None
        for name in names:
            if not name.endswith(".npy") or names.count(name) > 1:
                raise UnreadableFileError(path, name, "not a member of a steepest checkpoint's .npz archive")
        self.names = [name[:-4] for name in names]

    def close(self) -> None:
        self.zip.close()

    def read(self, key: str, dtype: np.dtype, shape: tuple[int, ...] | None, limit: int | None = None) -> np.ndarray:
        """Member ``key`` as a private C-contiguous array of exactly ``dtype`` and ``shape`` (a 1-D one of at
        most ``limit`` items when ``shape`` is None); the header is checked before any data is read."""
        try:
            with self.zip.open(key + ".npy") as member:
                found, order = self._header(member, key)
                if found[0] != dtype:
                    raise FieldTypeError(self.path, key, f"expected dtype {dtype}; got {found[0]}")
                if shape is None and not (len(found[1]) == 1 and found[1][0] <= limit):
                    raise FieldTypeError(self.path, key, f"expected at most {limit} bytes; got shape {found[1]}")
                if shape is not None and found[1] != shape:
                    raise FieldTypeError(self.path, key, f"expected shape {shape}; got {found[1]}")
                count = int(np.prod(found[1], dtype=np.int64))
                data = member.read(count * dtype.itemsize)
                if len(data) != count * dtype.itemsize or member.read(1):  # the last read checks the CRC too
                    raise UnreadableFileError(self.path, key, "the data do not match the array's header")
        except UntrustedFileError:
            raise
        except _ZIP_ERRORS as exc:
            raise UnreadableFileError(self.path, key, f"damaged: {exc}") from None
        flat = np.frombuffer(data, dtype=dtype, count=count)
        return np.array(flat.reshape(found[1], order=order), order="C", copy=True)

    def _header(self, member: Any, key: str) -> tuple[tuple[np.dtype, tuple], str]:
        """The (dtype, shape) and memory order of a ``.npy`` header, parsed without numpy's fallbacks (which
        warn) and refused unless it is exactly what ``np.save`` writes: descr, fortran_order and shape."""
        major, _ = np.lib.format.read_magic(member)
        if major not in (1, 2):
            raise UnreadableFileError(self.path, key, f"unsupported .npy version {major}")
        size_format = "<H" if major == 1 else "<I"
        (length,) = struct.unpack(size_format, member.read(struct.calcsize(size_format)))
        if length > _HEADER_BYTES:
            raise UnreadableFileError(self.path, key, f"a .npy header of {length} bytes")
        try:
            header = ast.literal_eval(member.read(length).decode("latin1"))
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            header = None
        if not (isinstance(header, dict) and header.keys() == {"descr", "fortran_order", "shape"}):
            raise UnreadableFileError(self.path, key, "the .npy header is not numpy's")
        shape, fortran, descr = header["shape"], header["fortran_order"], header["descr"]
        if not (
            isinstance(shape, tuple)
            and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**62 for s in shape)
            and isinstance(fortran, bool)
            and isinstance(descr, str)
        ):
            raise UnreadableFileError(self.path, key, f"the .npy header is not numpy's: {header!r:.200}")
        try:
            dtype = np.dtype(descr)
        except (TypeError, ValueError):
            raise FieldTypeError(self.path, key, f"expected a numeric dtype; got {descr!r:.40}") from None
        return (dtype, shape), "F" if fortran else "C"


def _check_settings(fields: Fields, saved: Any, expected: dict) -> None:
    """The saved settings equal the run's, key by key (the run's order: method and the problem first)."""
    saved = fields.mapping(saved, "settings")
    for key, value in expected.items():
        got = fields.get(saved, key, "settings.")
        if got is not None and value is not None and type(got) is not type(value):
            raise FieldTypeError(fields.path, f"settings.{key}", f"expected {type(value).__name__}; got {shown(got)}")
        if got != value:
            detail = f"it was saved with {key}={got!r}; this call has {key}={value!r}"
            if key in _DIGESTS:  # the digest's numbers mean nothing to a reader
                detail = f"it was saved for other {_DIGESTS[key]} (their checksum differs)"
            raise ProblemMismatchError(fields.path, f"settings.{key}", detail)
    fields.only(saved, expected, "settings")


def _float_array(path: str, a: np.ndarray, field: str, low: float | None = None, high: float | None = None) -> None:
    """Finite values in [low, high]; the message names the first one that is not."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(a)
        if low is not None:
            bad |= a < low
        if high is not None:
            bad |= a > high
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        within = "" if low is None and high is None else " and " + bounds(low, high)
        raise FieldRangeError(path, field, f"must be finite{within}; entry {where} is {a[where]}")


def _epoch_position(e: Expected, step: int) -> int:
    """Where the epoch order stands after ``step`` steps: each step takes the next batch_size examples (the
    last batch of an epoch may be smaller), and an exhausted order is replaced before the next step."""
    if e.batch_size is None or not e.by_epoch or step == 0:
        return e.n  # no order drawn yet (or none ever): the loop's starting position
    return min(((step - 1) % e.per_epoch + 1) * e.batch_size, e.n)


def load(path: Any, expected: Expected, name: str = "resume") -> Saved:
    """Read and validate the checkpoint at ``path`` for the run described by ``expected``.

    Raises an :mod:`steepest._untrusted` error (all ``ValueError``) naming the file and the field:
    UnreadableFileError (missing file, not an .npz, damaged, unknown fields), MissingFieldError,
    FieldTypeError (type, dtype, shape), FieldRangeError (values, or fields that disagree) and
    ProblemMismatchError (saved for another problem or other settings).
    """
    path = path_arg(path, name)
    if not os.path.isfile(path):
        raise UnreadableFileError(path, None, f"the {name} checkpoint file does not exist")
    archive = _Archive(path)
    try:
        return _load(archive, expected)
    finally:
        archive.close()


def _load(archive: _Archive, e: Expected) -> Saved:
    path = archive.path
    fields = Fields(path, f"steepest checkpoint ({FORMAT})")
    if META not in archive.names:
        raise MissingFieldError(path, META, "not a steepest checkpoint (it has no metadata document)")
    raw = archive.read(META, np.dtype(np.uint8), None, _META_BYTES).tobytes()
    meta = fields.mapping(parse_json(path, raw, META, "a JSON document"), META)
    fields.choice(fields.get(meta, "format"), "format", (FORMAT,))  # another version's fields may mean other things
    for key in _META_FIELDS:
        fields.get(meta, key)
    fields.only(meta, _META_FIELDS, "")
    _check_settings(fields, meta["settings"], e.settings)

    # the scalars, then what the arrays must be
    step = fields.integer(meta["step"], "step", 0)
    if step > e.total:
        raise ProblemMismatchError(
            path,
            "step",
            f"the checkpoint is at step {step}, past the end of this run ({e.total} steps): resume it "
            f"with num_iters >= {step}",
        )
    pos = fields.integer(meta["pos"], "pos", 0, e.n)
    if pos != _epoch_position(e, step):
        raise FieldRangeError(path, "pos", f"must be {_epoch_position(e, step)} after {step} steps; got {pos}")
    best_acc = fields.number(meta["best_acc"], "best_acc")
    best_step = None if meta["best_step"] is None else fields.integer(meta["best_step"], "best_step", 1, step)
    bad = fields.integer(meta["bad"], "bad", 0)
    rng = _restore_rng(fields, meta["rng"])

    n_val = step // e.eval_every if e.validating else 0
    epoch_order = e.batch_size is not None and e.by_epoch and step > 0
    f64, i64 = np.dtype(np.float64), np.dtype(np.int64)
    specs = {
        "W": (e.dtype, e.shape),
        **{"state_" + k: (e.dtype, e.shape) for k in e.state_keys},
        "loss_history": (f64, (step,)),
        "lr_history": (f64, (step,)),
        "val_steps": (i64, (n_val,)),
        "val_accs": (f64, (n_val,)),
        **({"perm": (i64, (e.n,))} if epoch_order else {}),
        **({"best_W": (e.dtype, e.shape)} if n_val else {}),
    }
    for key in specs:
        if key not in archive.names:
            raise MissingFieldError(path, key, f"a checkpoint of this run at step {step} has it")
    for key in archive.names:
        if key in _OPTIONAL and key not in specs:
            raise FieldRangeError(path, key, f"a checkpoint of this run at step {step} has none ({_OPTIONAL[key]})")
    fields.only(archive.names, {*specs, META}, "")
    arrays = {key: archive.read(key, dtype, shape) for key, (dtype, shape) in specs.items()}

    nonnegative = {"state_v"} if "m" in e.state_keys else set()  # Adam's v is a running mean of squares
    for key in ("W", "best_W", *("state_" + k for k in e.state_keys)):
        if key in arrays:
            _float_array(path, arrays[key], key, 0.0 if key in nonnegative else None)
    _float_array(path, arrays["loss_history"], "loss_history")
    _float_array(path, arrays["lr_history"], "lr_history", 0.0)
    _float_array(path, arrays["val_accs"], "val_accs", 0.0, 1.0)
    if not np.array_equal(arrays["val_steps"], np.arange(1, n_val + 1, dtype=np.int64) * e.eval_every):
        raise FieldRangeError(path, "val_steps", f"must be the multiples of eval_every={e.eval_every} up to {step}")
    perm = arrays.get("perm")
    if perm is not None:
        _check_permutation(path, perm, e.n)

    # the best-so-far fields are what the evaluations give (the first best accuracy wins)
    accs = arrays["val_accs"]
    first = int(np.argmax(accs)) if n_val else None
    derived = (-1.0, None, 0) if first is None else (float(accs[first]), (first + 1) * e.eval_every, n_val - 1 - first)
    for key, got, want in zip(("best_acc", "best_step", "bad"), (best_acc, best_step, bad), derived):
        if got != want:
            raise FieldRangeError(path, key, f"must be {want!r} (from val_steps and val_accs); got {got!r}")
    return Saved(
        W=arrays["W"],
        opt={k: arrays["state_" + k] for k in e.state_keys},
        rng=rng,
        step=step,
        perm=perm,
        pos=pos,
        best=(arrays.get("best_W"), best_acc, best_step, bad),
        loss_history=arrays["loss_history"].tolist(),
        lr_history=arrays["lr_history"].tolist(),
        val_steps=arrays["val_steps"].tolist(),
        val_accs=accs.tolist(),
    )


def _restore_rng(fields: Fields, value: Any) -> np.random.Generator:
    value = fields.mapping(value, "rng", ("bit_generator", "state"))
    rng = restore_generator(fields, value["state"], "rng.state")
    if value["bit_generator"] != type(rng.bit_generator).__name__:
        raise FieldRangeError(fields.path, "rng.bit_generator", "does not name the generator of rng.state")
    return rng


def _check_permutation(path: str, perm: np.ndarray, n: int) -> None:
    """The epoch order indexes the examples (the kernels gather columns by it): a permutation of range(n)."""
    outside = (perm < 0) | (perm >= n)
    if outside.any():
        i = int(np.argmax(outside))
        raise FieldRangeError(path, "perm", f"indices must be in [0, {n}); perm[{i}] is {perm[i]}")
    counts = np.bincount(perm, minlength=n)
    if (counts != 1).any():
        k = int(np.argmax(counts != 1))
        raise FieldRangeError(path, "perm", f"must be a permutation of range({n}); index {k} appears {counts[k]} times")
