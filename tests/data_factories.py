"""Small files in the real on-disk formats, written by tests: CIFAR-10 python batches, IDX, archives.

The CIFAR writer reproduces the publisher's files byte for byte in structure: Python 2 cPickle
protocol 2, byte-string keys and values (BINSTRING opcodes), NumPy arrays reconstructed through
``numpy.core.multiarray._reconstruct``. ``style="py3"`` writes what a Python 3 re-pickle would.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Protocol-2 pickler writing `bytes` as Python 2 `str` (BINSTRING), as cPickle did."""

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def _write_binstring(self, data: bytes) -> None:
        n = len(data)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + data)

    def _save_py2_str(self, obj: bytes) -> None:
        self._write_binstring(obj)
        self.memoize(obj)

    def _save_py2_native_str(self, obj: str) -> None:
        # Python 2's `str` was bytes: 'u1' and '|' inside NumPy's dtype state were byte strings too.
        if obj.isascii():
            self._write_binstring(obj.encode("ascii"))
            self.memoize(obj)
        else:
            pickle._Pickler.save_str(self, obj)  # type: ignore[attr-defined]

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_native_str


def py2_pickle(obj: Any) -> bytes:
    """Pickle ``obj`` as Python 2's cPickle (protocol 2) would have, NumPy 1 module names included."""
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    raw = buf.getvalue()
    # NumPy 2 names its module numpy._core; the published files (NumPy 1) say numpy.core.
    return raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batch_dict(data: np.ndarray, labels: Any, label: str = "training batch 1 of 5") -> dict:
    return {
        b"batch_label": label.encode(),
        b"labels": [int(v) for v in labels],
        b"data": data,
        b"filenames": [f"img_{i:05d}.png".encode() for i in range(len(data))],
    }


def write_cifar_batch(path: Path, data: np.ndarray, labels: Any, *, style: str = "py2", obj: Any = None) -> Path:
    """Write one batch (``obj`` overrides the dict, for malformed files)."""
    obj = cifar_batch_dict(data, labels) if obj is None else obj
    raw = py2_pickle(obj) if style == "py2" else pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    Path(path).write_bytes(raw)
    return Path(path)


def random_cifar(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), rng.integers(0, 10, size=n).astype(np.int64)


def write_cifar_folder(
    root: Path, n_per_batch: int = 20, n_test: int = 30, *, seed: int = 0, style: str = "py2", nested: bool = True
) -> dict[str, Any]:
    """Write ``root/cifar-10-batches-py`` (or ``root`` itself when not nested) with small batches.

    Returns the written data: ``{"folder", "train_rows", "train_labels", "test_rows", "test_labels"}``
    (rows are the (n, 3072) R,G,B-plane arrays as stored).
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py" if nested else Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    rows, labs = [], []
    for name in CIFAR_TRAIN:
        d, lab = random_cifar(n_per_batch, rng)
        write_cifar_batch(folder / name, d, lab, style=style)
        rows.append(d)
        labs.append(lab)
    td, tl = random_cifar(n_test, rng)
    write_cifar_batch(folder / "test_batch", td, tl, style=style)
    (folder / "batches.meta").write_bytes(py2_pickle({b"label_names": [b"airplane"] * 10, b"num_vis": 3072}))
    return {
        "folder": folder,
        "train_rows": np.concatenate(rows),
        "train_labels": np.concatenate(labs),
        "test_rows": td,
        "test_labels": tl,
    }


def idx_bytes(array: np.ndarray, magic: int | None = None, dims: tuple[int, ...] | None = None) -> bytes:
    """An IDX file of unsigned bytes: magic (0x0803 for 3-D, 0x0801 for 1-D), dimensions, data."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    dims = array.shape if dims is None else dims
    return struct.pack(">i", magic) + struct.pack(f">{len(dims)}i", *dims) + array.tobytes()


def write_idx(
    path: Path,
    array: np.ndarray,
    *,
    compress: bool = False,
    magic: int | None = None,
    dims: tuple[int, ...] | None = None,
    truncate: int = 0,
) -> Path:
    raw = idx_bytes(array, magic, dims)
    if truncate:
        raw = raw[:-truncate]
    if compress:
        raw = gzip.compress(raw, mtime=0)
    Path(path).write_bytes(raw)
    return Path(path)


def write_mnist_folder(
    root: Path, n: int = 50, kind: str = "t10k", *, compress: bool = True, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Write ``{kind}-images-idx3-ubyte[.gz]`` and labels into ``root``; return (images (n, 784), labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    gz = ".gz" if compress else ""
    write_idx(root / f"{kind}-images-idx3-ubyte{gz}", images, compress=compress)
    write_idx(root / f"{kind}-labels-idx1-ubyte{gz}", labels, compress=compress)
    return images.reshape(n, 784), labels.astype(np.int64)


def write_tar_gz(path: Path, folder: Path, arcname: str) -> Path:
    """``folder`` packed as ``arcname`` into a .tar.gz (like cifar-10-python.tar.gz)."""
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return Path(path)


def md5(path: Path) -> str:
    return "md5:" + hashlib.md5(Path(path).read_bytes()).hexdigest()
