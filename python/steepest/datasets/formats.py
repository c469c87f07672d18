"""Readers for the two on-disk formats of ``steepest.datasets``: CIFAR-10 python batches and IDX.

Both readers check every file completely before returning anything: a missing, truncated or
foreign file raises ``FileNotFoundError`` or ``ValueError`` whose message names the file and the
problem, never a half-loaded array.

CIFAR-10 batches are pickles. They are read with a restricted unpickler that resolves only the few
globals the real files (written by Python 2's cPickle) and Python 3 re-pickles of them need: NumPy's
array and dtype reconstruction and a Latin-1 ``_codecs.encode``. Anything else (``os.system``,
arbitrary classes) is refused before it can run, so opening an untrusted file is safe.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------------------
# CIFAR-10 python batches
# --------------------------------------------------------------------------------------------------

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch"
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ROW = 3 * 32 * 32
CIFAR_CLASSES = 10


def _latin1_encode(obj: Any, encoding: str = "utf-8") -> bytes:
    # Python 3 pickles `bytes` at protocol 2 as `_codecs.encode(str, "latin1")`; nothing else is allowed.
    if not isinstance(obj, str) or encoding.replace("-", "").replace("_", "").lower() != "latin1":
        raise pickle.UnpicklingError(f"refused _codecs.encode({type(obj).__name__}, {encoding!r})")
    return obj.encode("latin1")


def _allowed_globals() -> dict[tuple[str, str], Any]:
    # Resolved from live objects, not by importing NumPy's private modules by name: `numpy.core` warns
    # under NumPy 2, and the name the files use depends on the NumPy that wrote them.
    reconstruct = np.ndarray(0).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    table: dict[tuple[str, str], Any] = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = reconstruct
        table[(module, "scalar")] = scalar
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        table[(module, "_frombuffer")] = frombuffer
    table[("numpy", "ndarray")] = np.ndarray
    table[("numpy", "dtype")] = np.dtype
    table[("_codecs", "encode")] = _latin1_encode
    return table


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals in ``_allowed_globals``; anything else is an UnpicklingError."""

    _allowed: dict[tuple[str, str], Any] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if _RestrictedUnpickler._allowed is None:
            _RestrictedUnpickler._allowed = _allowed_globals()
        try:
            return _RestrictedUnpickler._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused global {module}.{name} (not part of a CIFAR-10 batch)") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused persistent id (not part of a CIFAR-10 batch)")


def _key(k: Any) -> Any:
    return k.decode("latin1") if isinstance(k, bytes) else k


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (data uint8 (n, 3072), labels int64 (n,)), every part checked."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"CIFAR-10 batch {str(path)!r} is missing") from None
    except IsADirectoryError:
        raise ValueError(f"CIFAR-10 batch {str(path)!r} is a folder, not a batch file") from None
    if not raw:
        raise ValueError(f"CIFAR-10 batch {str(path)!r} is empty (0 bytes)")
    try:
        obj = _RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        struct.error,
        MemoryError,
        UnicodeDecodeError,
        OverflowError,
    ) as exc:
        what = "truncated" if isinstance(exc, EOFError) or "truncated" in str(exc) else "not a valid CIFAR-10 batch"
        raise ValueError(
            f"CIFAR-10 batch {str(path)!r} is {what}: cannot unpickle it ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(obj, dict):
        raise ValueError(
            f"CIFAR-10 batch {str(path)!r} is not a CIFAR-10 batch: expected a pickled dict, got {type(obj).__name__}"
        )
    d = {_key(k): v for k, v in obj.items()}
    missing = [k for k in ("data", "labels") if k not in d]
    if missing:
        keys = sorted(str(k) for k in d)
        raise ValueError(
            f"CIFAR-10 batch {str(path)!r} has no key {missing[0]!r} (b'{missing[0]}'); its keys are {keys}"
        )
    data, labels = d["data"], d["labels"]
    if not isinstance(data, np.ndarray):
        raise ValueError(f"CIFAR-10 batch {str(path)!r}: 'data' must be a numpy array; got {type(data).__name__}")
    if data.dtype != np.uint8:
        raise ValueError(f"CIFAR-10 batch {str(path)!r}: 'data' must have dtype uint8; got {data.dtype}")
    if data.ndim != 2 or data.shape[1] != CIFAR_ROW:
        raise ValueError(f"CIFAR-10 batch {str(path)!r}: 'data' must have shape (n, {CIFAR_ROW}); got {data.shape}")
    if data.shape[0] == 0:
        raise ValueError(f"CIFAR-10 batch {str(path)!r}: 'data' holds no images (shape {data.shape})")
    if isinstance(labels, np.ndarray):
        lab = labels
    elif isinstance(labels, (list, tuple)):

        def is_int(v: Any) -> bool:
            return (type(v) is int or isinstance(v, np.integer)) and not isinstance(v, (bool, np.bool_))

        if not all(is_int(v) for v in labels):
            bad = next(v for v in labels if not is_int(v))
            raise ValueError(f"CIFAR-10 batch {str(path)!r}: 'labels' must be ints; found {type(bad).__name__} {bad!r}")
        lab = np.array(labels, dtype=np.int64) if labels else np.zeros(0, np.int64)
    else:
        raise ValueError(f"CIFAR-10 batch {str(path)!r}: 'labels' must be a list of ints; got {type(labels).__name__}")
    if lab.ndim != 1 or lab.dtype.kind not in "iu":
        raise ValueError(
            f"CIFAR-10 batch {str(path)!r}: 'labels' must be a 1-D list of ints; got {lab.dtype} shape {lab.shape}"
        )
    if len(lab) != len(data):
        raise ValueError(f"CIFAR-10 batch {str(path)!r}: {len(lab)} labels for {len(data)} images")
    lab = lab.astype(np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= CIFAR_CLASSES):
        i = int(np.argmax((lab < 0) | (lab >= CIFAR_CLASSES)))
        raise ValueError(
            f"CIFAR-10 batch {str(path)!r}: labels must be in [0, {CIFAR_CLASSES}); labels[{i}] = {lab[i]}"
        )
    return data, lab


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
_IDX_CAP = 1 << 34  # refuse headers that promise more than 16 GiB


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


def _open_idx(path: Path) -> Any:
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_idx(path: Path, magic: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """An IDX file of unsigned bytes -> (flat uint8 array, dimensions), header and size checked."""
    ndim = magic & 0xFF
    try:
        with _open_idx(path) as f:
            header = f.read(4 + 4 * ndim)
            if len(header) < 4:
                raise ValueError(f"IDX file {str(path)!r} is truncated: {len(header)} bytes, no magic number")
            got = struct.unpack(">i", header[:4])[0]
            if got != magic:
                raise ValueError(
                    f"IDX file {str(path)!r} has magic number {got} (0x{got & 0xFFFFFFFF:08x}); expected {magic} "
                    f"(0x{magic:08x}, {'images' if magic == IDX_IMAGES_MAGIC else 'labels'} of unsigned bytes)"
                )
            if len(header) < 4 + 4 * ndim:
                raise ValueError(
                    f"IDX file {str(path)!r} is truncated inside its header ({len(header)} of {4 + 4 * ndim} bytes)"
                )
            dims = struct.unpack(f">{ndim}i", header[4:])
            if any(d < 0 for d in dims):
                raise ValueError(f"IDX file {str(path)!r} has negative dimensions {dims}")
            size = int(np.prod(dims, dtype=np.int64))
            if size > _IDX_CAP:
                raise ValueError(
                    f"IDX file {str(path)!r} claims dimensions {dims} ({size} bytes): not a plausible MNIST file"
                )
            body = f.read(size)
            if len(body) != size:
                raise ValueError(
                    f"IDX file {str(path)!r} is truncated: the header promises dimensions {dims} "
                    f"({size} bytes of data), "
                    f"the file holds {len(body)}"
                )
            if f.read(1):
                raise ValueError(f"IDX file {str(path)!r} has data beyond the {size} bytes its header {dims} promises")
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file {str(path)!r} is missing") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(
            f"IDX file {str(path)!r} is a truncated or corrupted gzip file ({type(exc).__name__}: {exc})"
        ) from None
    return np.frombuffer(body, dtype=np.uint8), dims


def read_mnist(folder: Path, kind: str) -> tuple[np.ndarray, np.ndarray]:
    image_path = find_idx(folder, kind, "images")
    label_path = find_idx(folder, kind, "labels")
    flat, (n, rows, cols) = read_idx(image_path, IDX_IMAGES_MAGIC)
    if n == 0 or rows * cols == 0:
        raise ValueError(f"IDX file {str(image_path)!r} holds no images (dimensions {(n, rows, cols)})")
    labels, (m,) = read_idx(label_path, IDX_LABELS_MAGIC)
    if m != n:
        raise ValueError(
            f"MNIST count mismatch: {str(image_path)!r} holds {n} images but {str(label_path)!r} holds {m} labels"
        )
    if labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise ValueError(f"IDX file {str(label_path)!r}: MNIST labels must be in [0, 10); labels[{i}] = {labels[i]}")
    # frombuffer views read-only bytes: copy into a writable array the caller owns.
    return flat.reshape(n, rows * cols).copy(), labels.astype(np.int64)


def as_path(path: Any, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got {type(path).__name__}")
    return Path(os.fspath(path)).expanduser()
