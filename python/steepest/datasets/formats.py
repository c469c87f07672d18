"""Readers for the two on-disk formats of ``steepest.datasets``: CIFAR-10 python batches and IDX.

Every file is untrusted. Both readers check a file completely before returning anything and refuse
it with one of ``steepest._untrusted``'s errors (``ValueError`` subclasses) naming the file and the
field at fault; a missing file raises ``FileNotFoundError``. Nothing is allocated from a size a file
claims before the file is known to hold that many bytes.

CIFAR-10 batches are pickles. They are read with a restricted unpickler that resolves only the few
globals the real files (written by Python 2's cPickle) and Python 3 re-pickles of them need, each
replaced by a checked stand-in: an array exists only once its own bytes arrived, exactly as many as
its shape and dtype need (never ``numpy.ndarray(shape)``, which hands out uninitialized memory);
dtypes are plain numbers (bool, int, uint, float) built by steepest, never from the file's state by
NumPy; ``_codecs.encode`` is Latin-1 only. Anything else (``os.system``, arbitrary classes) is
refused before it can run, so opening an untrusted file is safe.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import pickle
import re
import reprlib
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._untrusted import FieldRangeError, FieldTypeError, MissingFieldError, UnreadableFileError

# --------------------------------------------------------------------------------------------------
# shared by both formats
# --------------------------------------------------------------------------------------------------


class TruncatedFileError(UnreadableFileError):
    """A file that ends before its format does (an interrupted download or copy)."""

    kind = "is truncated"


_CHUNK = 1 << 20
_SHOWN_BITS = 64  # longer ints are described, not printed (Python refuses to print more than 4300 digits)


def _show(value: Any) -> str:
    """A value read from a file, for a message: short, and never thousands of digits."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        v = int(value)
        return str(v) if v.bit_length() <= _SHOWN_BITS else f"an integer of {v.bit_length()} bits"
    try:
        return reprlib.repr(value)
    except Exception:  # a repr that fails (a huge int deep in a list) must not hide the real error
        return f"a {type(value).__name__}"


@contextlib.contextmanager
def _open_regular(path: Path, what: str, limit: int) -> Iterator[tuple[IO[bytes], int]]:
    """``path`` opened for reading with its size: a regular file of at most ``limit`` bytes."""
    # stat before open: opening a FIFO would block, and /dev/zero (or a link to it) never ends.
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {str(path)!r} is missing") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableFileError(path, None, f"it is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFileError(path, None, f"it is not a regular file (a device, pipe or socket), not a {what}")
    if info.st_size > limit:
        raise UnreadableFileError(
            path, None, f"it holds {info.st_size:,} bytes; a {what} holds at most {limit:,} (is it the right file?)"
        )
    with open(path, "rb") as f:
        yield f, info.st_size


def _read_upto(f: IO[bytes], n: int) -> bytes:
    """At most ``n`` bytes, read in chunks: memory grows with what the file holds, not with ``n``."""
    parts = []
    while n > 0:
        part = f.read(min(n, _CHUNK))
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


# --------------------------------------------------------------------------------------------------
# CIFAR-10 python batches: the restricted unpickler
# --------------------------------------------------------------------------------------------------

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch"
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ROW = 3 * 32 * 32
CIFAR_CLASSES = 10
CIFAR_MAX_IMAGES = 60_000  # the whole data set; a real batch holds 10,000
_CIFAR_MAX_BYTES = 1 << 28  # 256 MiB: a real batch is 30 MiB, the whole data set 176 MiB
_MAX_NDIM = 8  # the arrays of the files read here have 1 or 2 dimensions
_DTYPE_CODE = re.compile(r"[<>|=]?[biuf][0-9]{1,2}")


def _text(value: Any, what: str) -> str:
    # Python 2 strings arrive as bytes (encoding="bytes") or str (encoding="latin1").
    if isinstance(value, bytes):
        return value.decode("latin1")
    if isinstance(value, str):
        return value
    raise pickle.UnpicklingError(f"{what} must be a string; got {type(value).__name__}")


def _raw_bytes(value: Any, what: str) -> bytes | bytearray:
    if isinstance(value, (bytes, bytearray)):
        return value
    if isinstance(value, str):  # Python 2 bytes unpickled with encoding="latin1"
        try:
            return value.encode("latin1")
        except UnicodeEncodeError:
            raise pickle.UnpicklingError(f"{what} holds characters beyond Latin-1; it must be raw bytes") from None
    raise pickle.UnpicklingError(f"{what} must be raw bytes; got {type(value).__name__}")


def _flag(value: Any, what: str) -> bool:
    if isinstance(value, int) and value in (0, 1):  # bool, or Python 2's ints 0 / 1
        return bool(value)
    raise pickle.UnpicklingError(f"{what} must be True or False; got {_show(value)}")


class _Dtype:
    """``numpy.dtype(code, align, copy)`` as a pickle names it: a plain number type, byte order from its state.

    NumPy never sees the file's dtype state: only the byte order is taken from it, and only when the
    rest is what NumPy writes for a plain number type (no fields, no sub-array, no metadata).
    """

    __slots__ = ("code", "order")
    __hash__ = None  # type: ignore[assignment]  # never a dict key or set member: resolved in place after loading

    def __init__(self, code: str) -> None:
        self.code = code
        self.order = "="

    def __setstate__(self, state: Any) -> None:
        # NumPy writes (3, byteorder, None, None, None, -1, -1, 0); version 4 appends the metadata (None).
        if not (isinstance(state, tuple) and len(state) in (8, 9) and type(state[0]) is int and state[0] in (3, 4)):
            raise pickle.UnpicklingError(f"dtype {self.code!r} has a state NumPy does not write: {_show(state)}")
        if any(part is not None for part in state[2:5] + state[8:]):
            raise pickle.UnpicklingError(f"dtype {self.code!r}: structured or sub-array dtypes are refused")
        order = _text(state[1], "a dtype's byte order")
        if order not in ("<", ">", "|", "="):
            raise pickle.UnpicklingError(f"dtype {self.code!r} has byte order {order!r}; expected '<', '>', '|' or '='")
        self.order = order

    def resolve(self) -> np.dtype:
        dt = np.dtype(self.code)
        return dt.newbyteorder(self.order) if self.order in "<>" and dt.itemsize > 1 else dt


def _dtype(code: Any, align: Any = False, copy: Any = True) -> _Dtype:
    text = _text(code, "a dtype's type code")
    if not _DTYPE_CODE.fullmatch(text):
        raise pickle.UnpicklingError(f"refused dtype {_show(text)}: only bool, int, uint and float types are read")
    try:
        np.dtype(text)
    except TypeError:
        raise pickle.UnpicklingError(f"refused dtype {text!r}: not a NumPy type") from None
    _flag(align, "a dtype's align flag")
    _flag(copy, "a dtype's copy flag")
    return _Dtype(text)


def _numpy_dtype(value: Any, what: str) -> np.dtype:
    if not isinstance(value, _Dtype):
        raise pickle.UnpicklingError(f"{what} must be a numpy.dtype; got {type(value).__name__}")
    return value.resolve()


def _array_from_bytes(raw: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
    """An array owning a copy of ``raw``, which must hold exactly the bytes ``shape`` and ``dtype`` need."""
    dt = _numpy_dtype(dtype, "an array's dtype")
    if not (isinstance(shape, tuple) and len(shape) <= _MAX_NDIM):
        raise pickle.UnpicklingError(
            f"an array's shape must be a tuple of at most {_MAX_NDIM} sizes; got {_show(shape)}"
        )
    for d in shape:
        if type(d) is not int or d < 0:
            raise pickle.UnpicklingError(f"an array's shape must hold sizes >= 0; got {_show(shape)}")
    data = _raw_bytes(raw, "an array's data")
    count = math.prod(shape)  # Python ints: a product that would wrap int64 is simply too large
    if count * dt.itemsize != len(data):
        raise pickle.UnpicklingError(
            f"an array of shape {_show(shape)} and dtype {dt} needs {_show(count * dt.itemsize)} bytes; "
            f"the file gives {len(data):,}"
        )
    flat = np.frombuffer(data, dtype=dt, count=count) if count else np.empty(0, dt)
    return flat.reshape(shape, order=order).copy(order="K")


class _Array:
    """NumPy's ``_reconstruct(ndarray, (0,), b'b')`` waiting for its state: it becomes an array only with its bytes."""

    __slots__ = ("array",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, array: np.ndarray | None = None) -> None:
        self.array = array

    def __setstate__(self, state: Any) -> None:
        if self.array is not None:
            raise pickle.UnpicklingError("an array is given its state twice")
        # NumPy writes (1, shape, dtype, is_fortran, data); very old files omit the version.
        if not (isinstance(state, tuple) and len(state) in (4, 5)):
            raise pickle.UnpicklingError(
                f"an array's state must be (version, shape, dtype, fortran, data); got {_show(state)}"
            )
        if len(state) == 5:
            if type(state[0]) is not int or state[0] != 1:
                raise pickle.UnpicklingError(f"an array's state has version {_show(state[0])}; NumPy writes 1")
            state = state[1:]
        shape, dtype, fortran, raw = state
        self.array = _array_from_bytes(raw, dtype, shape, "F" if _flag(fortran, "an array's fortran flag") else "C")


def _reconstruct(subtype: Any, shape: Any, code: Any) -> _Array:
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError(f"refused _reconstruct of {type(subtype).__name__}: only numpy.ndarray is read")
    if shape != (0,) or code not in (b"b", "b"):
        raise pickle.UnpicklingError(f"refused _reconstruct{_show((shape, code))}: NumPy writes ((0,), b'b')")
    return _Array()


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> _Array:
    # Protocol 5's form of an array: its bytes come with it, so it is complete (and a later state is refused).
    order = _text(order, "an array's order")
    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"an array's order must be 'C' or 'F'; got {order!r}")
    return _Array(_array_from_bytes(buffer, dtype, shape, order))


def _scalar(dtype: Any, raw: Any) -> np.generic:
    dt = _numpy_dtype(dtype, "a scalar's dtype")
    data = _raw_bytes(raw, "a scalar's data")
    if len(data) != dt.itemsize:
        raise pickle.UnpicklingError(f"a {dt} scalar needs {dt.itemsize} bytes; the file gives {len(data)}")
    return np.frombuffer(data, dtype=dt)[0]


def _latin1_encode(obj: Any, encoding: Any = "utf-8") -> bytes:
    # Python 3 pickles `bytes` at protocol 2 as `_codecs.encode(str, "latin1")`; nothing else is allowed.
    if (
        not isinstance(obj, str)
        or not isinstance(encoding, str)
        or encoding.replace("-", "").replace("_", "").lower() != "latin1"
    ):
        raise pickle.UnpicklingError(f"refused _codecs.encode({type(obj).__name__}, {_show(encoding)})")
    return obj.encode("latin1")


def _empty_bytes(*args: Any) -> bytes:
    # Python 3 pickles b"" at protocol 2 as `bytes()` (an empty array's data); any argument is refused.
    if args:
        raise pickle.UnpicklingError(f"refused bytes{_show(args)}: only bytes() (empty) is read")
    return b""


def _no_ndarray(*args: Any) -> Any:
    raise pickle.UnpicklingError(
        "refused numpy.ndarray(...): an array is rebuilt from its own bytes, never allocated from a shape "
        "(its contents would be whatever memory held)"
    )


class _Global:
    """A global a pickle may name: called to build a value; never modified (a pickle's BUILD on it is refused)."""

    __slots__ = ("name", "build")

    def __init__(self, name: str, build: Callable[..., Any]) -> None:
        self.name = name
        self.build = build

    def __call__(self, *args: Any) -> Any:
        return self.build(*args)

    def __setstate__(self, state: Any) -> None:
        # Without this a pickle could set attributes (a function's __defaults__) shared by every later load.
        raise pickle.UnpicklingError(f"refused to modify {self.name}")


_NDARRAY = _Global("numpy.ndarray", _no_ndarray)


def _allowed_globals() -> dict[tuple[str, str], _Global]:
    # The module a file names depends on the NumPy that wrote it: numpy.core (1.x) or numpy._core (2.x).
    table = {("numpy", "ndarray"): _NDARRAY, ("numpy", "dtype"): _Global("numpy.dtype", _dtype)}
    for core in ("numpy.core", "numpy._core"):
        table[(f"{core}.multiarray", "_reconstruct")] = _Global("numpy's _reconstruct", _reconstruct)
        table[(f"{core}.multiarray", "scalar")] = _Global("numpy's scalar", _scalar)
        table[(f"{core}.numeric", "_frombuffer")] = _Global("numpy's _frombuffer", _frombuffer)
    table[("_codecs", "encode")] = _Global("_codecs.encode", _latin1_encode)
    for builtins in ("__builtin__", "builtins"):
        table[(builtins, "bytes")] = _Global("bytes", _empty_bytes)
    return table


_ALLOWED = _allowed_globals()


# Types a stand-in cannot hide in: a list or dict holding only these is left as it is (a batch's 10,000 labels
# and file names are checked at C speed, not one by one).
_LEAVES = frozenset({int, float, bool, str, bytes, type(None)})


def _resolve(obj: Any, done: dict[int, Any]) -> Any:
    """``obj`` with every stand-in replaced by what it stands for (an array, a dtype), containers in place."""
    key = id(obj)
    if key in done:
        return done[key]
    if isinstance(obj, _Array):
        if obj.array is None:
            raise pickle.UnpicklingError("an array was never given its data (a _reconstruct without its state)")
        done[key] = obj.array
    elif isinstance(obj, _Dtype):
        done[key] = obj.resolve()
    elif type(obj) is list:
        done[key] = obj
        if not _LEAVES.issuperset(map(type, obj)):
            obj[:] = [_resolve(v, done) for v in obj]
    elif type(obj) is dict:
        done[key] = obj
        if not _LEAVES.issuperset(map(type, obj.values())):
            for k, v in obj.items():
                obj[k] = _resolve(v, done)
    elif type(obj) is tuple:
        done[key] = obj  # a cycle back into this tuple (through a list) keeps the original
        done[key] = tuple(_resolve(v, done) for v in obj)
    else:
        return obj
    return done[key]


# The pure-Python unpickler, not the C one: the C unpickler sizes its memo by the largest index a file
# names, so a 12-byte pickle (LONG_BINPUT 2**27) takes 2 GB and seconds before anything is checked.
class _RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined,misc]
    """Resolves only the globals in ``_ALLOWED`` (checked stand-ins); anything else is an UnpicklingError."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(
                f"refused global {str(module)[:80]}.{str(name)[:80]} (not part of a CIFAR-10 batch)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused persistent id (not part of a CIFAR-10 batch)")

    def load(self) -> Any:
        return _resolve(super().load(), {})

    def _load_bytearray8(self) -> None:
        # pickle's own zero-fills bytearray(n) for the n the file claims before reading: 2**34 would touch 16 GiB.
        (n,) = struct.unpack("<Q", self.read(8))
        data = self.read(n)  # at most what the file holds
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        self.append(bytearray(data))

    dispatch = {**pickle._Unpickler.dispatch, pickle.BYTEARRAY8[0]: _load_bytearray8}  # type: ignore[attr-defined]


# What pickle says when the bytes end early (besides EOFError); any other message is another fault.
_TRUNCATED = ("pickle data was truncated", "pickle exhausted before end of frame")


class _ExactReader(io.BytesIO):
    """Bytes whose reads return all that is asked or raise EOFError: pickle's Python unpickler takes short reads
    silently, so a file cut inside a string would otherwise fail later with an unrelated error."""

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        if n is not None and 0 <= n != len(data):
            raise EOFError(_TRUNCATED[0])
        return data

    def readline(self, limit: int | None = -1) -> bytes:
        line = super().readline(limit)
        if not line.endswith(b"\n"):
            raise EOFError(_TRUNCATED[0])
        return line


def _unpickle(path: Path, raw: bytes, what: str, encoding: str = "bytes") -> Any:
    """The object pickled in ``raw`` (read from ``path``), or UnreadableFileError / TruncatedFileError."""
    try:
        return _RestrictedUnpickler(_ExactReader(raw), encoding=encoding).load()
    except Exception as exc:  # every way foreign bytes fail to unpickle: the file is refused, whatever the cause
        try:
            text = str(exc)
        except Exception:  # an exception holding a value too large to print
            text = "(no description)"
        detail = f"cannot unpickle it ({type(exc).__name__}: {text[:300]})"
        if isinstance(exc, RecursionError):
            detail = "cannot unpickle it (its containers are nested too deeply)"
        if isinstance(exc, EOFError) or text in _TRUNCATED:
            raise TruncatedFileError(path, None, f"{detail}; download or copy it again") from None
        raise UnreadableFileError(path, None, f"not a valid {what}: {detail}") from None


def _key(k: Any) -> Any:
    return k.decode("latin1") if isinstance(k, bytes) else k


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _cifar_data(path: Path, data: Any) -> np.ndarray:
    if type(data) is not np.ndarray:
        raise FieldTypeError(path, "data", f"must be a numpy array of uint8 pixels; got {type(data).__name__}")
    if data.dtype != np.uint8:
        raise FieldTypeError(path, "data", f"must have dtype uint8; got {data.dtype}")
    if data.ndim != 2 or data.shape[1] != CIFAR_ROW:
        raise FieldTypeError(path, "data", f"must have shape (n, {CIFAR_ROW}); got {data.shape}")
    if not 0 < data.shape[0] <= CIFAR_MAX_IMAGES:
        what = "holds no images" if data.shape[0] == 0 else f"holds more images than CIFAR-10 ({CIFAR_MAX_IMAGES:,})"
        raise FieldRangeError(path, "data", f"{what}: shape {data.shape}")
    return data


def _cifar_labels(path: Path, labels: Any, n: int) -> np.ndarray:
    if isinstance(labels, (list, tuple)):
        if not {int}.issuperset(map(type, labels)):  # the common case at C speed; else find the first non-int
            bad = next((i for i, v in enumerate(labels) if not _is_int(v)), None)
            if bad is not None:
                v = labels[bad]
                raise FieldTypeError(
                    path, "labels", f"must be ints; found {type(v).__name__} {_show(v)} at labels[{bad}]"
                )
    elif type(labels) is np.ndarray:
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise FieldTypeError(
                path, "labels", f"must be a 1-D array of ints; got dtype {labels.dtype} shape {labels.shape}"
            )
    else:
        raise FieldTypeError(path, "labels", f"must be a list of ints; got {type(labels).__name__}")
    if len(labels) != n:
        raise FieldRangeError(path, "labels", f"{len(labels)} labels for {n} images (one label per image)")
    # Checked before any conversion: a label of 2**70 does not fit int64, and uint64 ones would wrap.
    arr = isinstance(labels, np.ndarray)
    lo, hi = (labels.min(), labels.max()) if arr else (min(labels), max(labels))
    if not 0 <= lo <= hi < CIFAR_CLASSES:
        bad = next(i for i, v in enumerate(labels) if not 0 <= v < CIFAR_CLASSES)
        raise FieldRangeError(
            path, "labels", f"labels[{bad}] = {_show(labels[bad])}; expected class numbers in [0, {CIFAR_CLASSES})"
        )
    return np.array(labels, dtype=np.int64).reshape(n)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (data uint8 (n, 3072), labels int64 (n,)), every part checked."""
    what = "CIFAR-10 batch"
    with _open_regular(path, what, _CIFAR_MAX_BYTES) as (f, _):
        raw = f.read()
    if not raw:
        raise UnreadableFileError(path, None, "the file is empty (0 bytes); download or copy it again")
    obj = _unpickle(path, raw, what)
    if type(obj) is not dict:
        raise UnreadableFileError(
            path, None, f"not a CIFAR-10 batch: expected a pickled dict, got {type(obj).__name__}"
        )
    d = {_key(k): v for k, v in obj.items()}
    for name in ("data", "labels"):
        if name not in d:
            keys = sorted(_show(k) for k in list(d)[:20])
            raise MissingFieldError(path, name, f"no key {name!r} (b'{name}'); its keys are {keys}")
    data = _cifar_data(path, d["data"])
    return data, _cifar_labels(path, d["labels"], len(data))


def cifar_folder(path: Path) -> Path:
    """The ``cifar-10-batches-py`` folder: ``path`` itself or its child of that name."""
    if not path.exists():
        raise FileNotFoundError(
            f"CIFAR-10 folder {str(path)!r} does not exist (download it with steepest.datasets.download_cifar10())"
        )
    if not path.is_dir():
        raise ValueError(f"CIFAR-10 path {str(path)!r} is not a folder; pass the folder {CIFAR_FOLDER!r} or its parent")
    if (path / CIFAR_FOLDER).is_dir() and not (path / CIFAR_TEST_BATCH).exists():
        return path / CIFAR_FOLDER
    return path


def images_from_rows(rows: list[np.ndarray]) -> np.ndarray:
    """Batches of (n, 3072) R,G,B planes -> one C-contiguous uint8 (N, 32, 32, 3), one copy."""
    n = sum(len(r) for r in rows)
    out = np.empty((n, 32, 32, 3), dtype=np.uint8)
    i = 0
    for r in rows:
        out[i : i + len(r)] = r.reshape(len(r), 3, 32, 32).transpose(0, 2, 3, 1)
        i += len(r)
    return out


# --------------------------------------------------------------------------------------------------
# IDX (MNIST)
# --------------------------------------------------------------------------------------------------

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_IDX_DIMENSIONS = {IDX_IMAGES_MAGIC: ("count", "rows", "columns"), IDX_LABELS_MAGIC: ("count",)}
_IDX_CAP = 1 << 30  # 1 GiB of data: MNIST's largest file holds 47 MB, EMNIST's 550 MB
_IDX_MAX_FILE = 1 << 31  # a gzip file is smaller than its data; a plain one is header + data


def find_idx(folder: Path, kind: str, what: str) -> Path:
    """``{kind}-{what}-idx?-ubyte`` with ``.gz`` or not (also the ``.idx?-ubyte`` spelling)."""
    ndim = 3 if what == "images" else 1
    names = [f"{kind}-{what}-idx{ndim}-ubyte", f"{kind}-{what}.idx{ndim}-ubyte"]
    for name in names:
        for candidate in (folder / (name + ".gz"), folder / name):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(
        f"MNIST {what} file {str(folder / (names[0] + '.gz'))!r} is missing (also looked for the uncompressed "
        f"file and the '.idx{ndim}-ubyte' spelling); download it with steepest.datasets.download_mnist()"
    )


def _idx_header(path: Path, f: IO[bytes], magic: int) -> tuple[int, ...]:
    """The dimensions in the header of an IDX file of unsigned bytes, magic number and sizes checked."""
    names = _IDX_DIMENSIONS[magic]
    length = 4 + 4 * len(names)
    header = _read_upto(f, length)
    if len(header) < 4:
        raise TruncatedFileError(path, None, f"{len(header)} bytes, no magic number; download or copy it again")
    got = struct.unpack(">i", header[:4])[0]
    if got != magic:
        raise FieldTypeError(
            path,
            "magic",
            f"magic number {got} (0x{got & 0xFFFFFFFF:08x}); expected {magic} (0x{magic:08x}, "
            f"{'images' if magic == IDX_IMAGES_MAGIC else 'labels'} of unsigned bytes)",
        )
    if len(header) < length:
        raise UnreadableFileError(path, "header", f"truncated inside its header ({len(header)} of {length} bytes)")
    dims = struct.unpack(f">{len(names)}i", header[4:])
    for name, d in zip(names, dims):
        if d < 0:
            raise FieldRangeError(path, name, f"is {d} in the header's dimensions {dims}; sizes must be >= 0")
    size = math.prod(dims)  # Python ints: no int64 wrap-around
    if size > _IDX_CAP:
        raise FieldRangeError(
            path,
            "dimensions",
            f"the header's dimensions {dims} promise {size:,} bytes of data, more than an IDX file read here "
            f"may hold ({_IDX_CAP:,}): not a plausible MNIST file",
        )
    return dims


def read_idx(path: Path, magic: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """An IDX file of unsigned bytes -> (flat uint8 array, dimensions), header and size checked first."""
    with _open_regular(path, "IDX file", _IDX_MAX_FILE) as (raw, file_size):
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") if gz else contextlib.nullcontext(raw) as f:
                dims = _idx_header(path, f, magic)
                size = math.prod(dims)
                header = 4 + 4 * len(dims)
                if not gz and file_size - header < size:  # known before reading: nothing allocated for a lie
                    raise TruncatedFileError(
                        path,
                        None,
                        f"the header promises dimensions {dims} ({size:,} bytes of data), the file holds "
                        f"{file_size - header:,}; download or copy it again",
                    )
                body = _read_upto(f, size)
                if len(body) != size:
                    raise TruncatedFileError(
                        path,
                        None,
                        f"the header promises dimensions {dims} ({size:,} bytes of data), the file holds "
                        f"{len(body):,}; download or copy it again",
                    )
                if f.read(1):
                    raise FieldRangeError(
                        path, "dimensions", f"the file has data beyond the {size:,} bytes its header {dims} promises"
                    )
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise UnreadableFileError(
                path, None, f"a truncated or corrupted gzip file ({type(exc).__name__}: {exc})"
            ) from None
    return np.frombuffer(body, dtype=np.uint8), dims


def read_mnist(folder: Path, kind: str) -> tuple[np.ndarray, np.ndarray]:
    image_path = find_idx(folder, kind, "images")
    label_path = find_idx(folder, kind, "labels")
    flat, (n, rows, cols) = read_idx(image_path, IDX_IMAGES_MAGIC)
    for name, d in (("count", n), ("rows", rows), ("columns", cols)):
        if d == 0:
            raise FieldRangeError(image_path, name, f"is 0: the file holds no images (dimensions {(n, rows, cols)})")
    labels, (m,) = read_idx(label_path, IDX_LABELS_MAGIC)
    if m != n:
        raise FieldRangeError(
            label_path, "count", f"{str(image_path)!r} holds {n} images but this file holds {m} labels"
        )
    if labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise FieldRangeError(label_path, "labels", f"labels[{i}] = {labels[i]}; MNIST labels are digits in [0, 10)")
    # frombuffer views read-only bytes: copy into a writable array the caller owns.
    return flat.reshape(n, rows * cols).copy(), labels.astype(np.int64)


def as_path(path: Any, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):  # a bytes path (os.PathLike may return bytes)
        raise TypeError(f"{name} must be a str path; got bytes {_show(text)} (decode it with os.fsdecode)")
    if not text:
        raise ValueError(f"{name} must not be empty; pass '.' for the current folder")
    if "\x00" in text:
        raise ValueError(f"{name} must not contain a NUL character; got {text!r}")
    return Path(text).expanduser()
