"""Data files and downloads are untrusted: every fault in a CIFAR-10 batch, an MNIST IDX file or a downloaded
archive is refused with the exception class of its kind, naming the file and the field; a refused download
creates and modifies nothing on disk.

Groups: CIFAR-10 pickles, IDX files, archives, refusals that touch nothing. Each case asserts the class
(``steepest._untrusted``'s), that the message names the file (and the field, for field faults), and that no
internal number (the int64 limits) leaks into it. The Hypothesis fuzzing of the same readers is
``tests/fuzz/fuzz_data_files.py``.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from steepest import datasets as ds
from steepest._untrusted import (
    FieldRangeError,
    FieldTypeError,
    MissingFieldError,
    UnreadableFileError,
    UntrustedFileError,
)
from steepest.datasets import download, formats

import data_factories as fac

INT64_LIMITS = (str(2**63 - 1), f"{2**63 - 1:,}")  # internal limits; a value the file holds may be shown

RECONSTRUCT = np.ndarray(0).__reduce__()[0]  # numpy's _reconstruct, under whatever module this NumPy names it
FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]  # numpy's _frombuffer (protocol 5's form of an array)


def check(err: pytest.ExceptionInfo, cls: type, path, field: str | None = None) -> str:
    """The refusal is a ``cls``, names ``path`` (and ``field``), and leaks no int64 limit."""
    exc = err.value
    msg = str(exc)
    assert type(exc) is cls or (cls is UnreadableFileError and isinstance(exc, cls)), (type(exc), msg)
    assert isinstance(exc, ValueError) and isinstance(exc, UntrustedFileError)
    assert str(path) in msg, msg
    if field is not None:
        assert exc.field == field and repr(field) in msg, msg
    assert not any(n in msg for n in INT64_LIMITS), msg
    return msg


class Reduce:
    """Pickles as whatever ``__reduce__`` value it is given: hand-made pickles without writing opcodes."""

    def __init__(self, *rv):
        self.rv = rv

    def __reduce__(self):
        return self.rv


def array_pickle(shape, dtype, raw, fortran=False, version=1):
    state = (
        (version, shape, np.dtype(dtype), fortran, raw)
        if version is not None
        else (shape, np.dtype(dtype), fortran, raw)
    )
    return Reduce(RECONSTRUCT, (np.ndarray, (0,), b"b"), state)


def tree(root: Path, folder_times: bool = True) -> dict[str, tuple]:
    """Every path under ``root`` with its kind, size and modification time: to show nothing changed.

    ``folder_times=False`` leaves out the folders' times, which a temporary folder made and removed inside
    them changes (a download that starts, then refuses the archive).
    """
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            keep_time = folder_times or not p.is_dir()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns if keep_time else None)
    return out


# ------------------------------------------------------------------------------------------------
# CIFAR-10 batches
# ------------------------------------------------------------------------------------------------

GOOD = np.arange(2 * 3072, dtype=np.uint64).reshape(2, 3072).astype(np.uint8)


def batch(data=None, labels=None, **extra):
    d = {b"data": GOOD if data is None else data, b"labels": [3, 7] if labels is None else labels}
    d.update(extra)
    return d


# (id, the pickled object or raw bytes, error class, field or None)
CIFAR_CASES = [
    # the file: `data` allocated from a shape by an allowed constructor (uninitialized memory)
    (
        "ndarray from a shape",
        batch(Reduce(np.ndarray, ((20000, 3072), np.dtype("u1"))), [0] * 2),
        UnreadableFileError,
        None,
    ),
    ("_reconstruct with a shape", batch(Reduce(RECONSTRUCT, (np.ndarray, (2, 3072), b"b"))), UnreadableFileError, None),
    ("_reconstruct without state", batch(Reduce(RECONSTRUCT, (np.ndarray, (0,), b"b"))), UnreadableFileError, None),
    (
        "_reconstruct of a subclass",
        batch(Reduce(RECONSTRUCT, (np.ma.MaskedArray, (0,), b"b"))),
        UnreadableFileError,
        None,
    ),
    ("bytes too short", batch(array_pickle((2, 3072), "u1", b"\0" * 100)), UnreadableFileError, None),
    ("bytes too long", batch(array_pickle((2, 3072), "u1", b"\0" * 6145)), UnreadableFileError, None),
    ("wrapping shape", batch(array_pickle((2**32, 2**32, 2**32), "u1", b"")), UnreadableFileError, None),
    ("negative shape", batch(array_pickle((-2, 3072), "u1", b"")), UnreadableFileError, None),
    ("data not bytes", batch(array_pickle((2, 3072), "u1", [0] * 6144)), UnreadableFileError, None),
    ("state version 2", batch(array_pickle((2, 3072), "u1", GOOD.tobytes(), version=2)), UnreadableFileError, None),
    ("object dtype", batch(array_pickle((2,), "O", [1, 2])), UnreadableFileError, None),
    ("string dtype", batch(array_pickle((2,), "U3", b"\0" * 24)), UnreadableFileError, None),
    (
        "structured dtype state",
        batch(
            Reduce(
                RECONSTRUCT,
                (np.ndarray, (0,), b"b"),
                (
                    1,
                    (2,),
                    Reduce(np.dtype, ("u1", False, True), (3, "|", None, ("a",), {"a": 1}, 1, 1, 0)),
                    False,
                    b"ab",
                ),
            )
        ),
        UnreadableFileError,
        None,
    ),
    (
        "state given twice",
        batch(Reduce(FROMBUFFER, (bytearray(3), np.dtype("u1"), (3,), "C"), (1, (3,), np.dtype("u1"), False, b"abc"))),
        UnreadableFileError,
        None,
    ),
    (
        "scalar of wrong size",
        batch(labels=[Reduce(np.int64(1).__reduce__()[0], (np.dtype("i8"), b"\1\0"))] * 2),
        UnreadableFileError,
        None,
    ),
    ("global os.system", batch(Reduce(os.system, ("echo pwned",))), UnreadableFileError, None),
    ("modify a global", b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n}b.", UnreadableFileError, None),
    ("memo index 2**30", b"\x80\x02N" + b"r" + struct.pack("<I", 2**30) + b".", UnreadableFileError, None),
    ("bytearray of 16 GiB", b"\x80\x05\x96" + struct.pack("<Q", 2**34) + b"xx.", formats.TruncatedFileError, None),
    ("nested 100,000 deep", b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b".", UnreadableFileError, None),
    ("truncated", pickle.dumps(batch(), protocol=2)[:-200], formats.TruncatedFileError, None),
    ("empty", b"", UnreadableFileError, None),
    ("not a dict", [GOOD, [1, 2]], UnreadableFileError, None),
    ("no data", {b"labels": [1, 2]}, MissingFieldError, "data"),
    ("no labels", {b"data": GOOD}, MissingFieldError, "labels"),
    ("data a list", batch(GOOD.tolist()), FieldTypeError, "data"),
    ("data float32", batch(GOOD.astype(np.float32)), FieldTypeError, "data"),
    ("data int8", batch(GOOD.view(np.int8)), FieldTypeError, "data"),
    ("data 3072 short", batch(GOOD[:, :3000]), FieldTypeError, "data"),
    ("data 1-D", batch(GOOD[0]), FieldTypeError, "data"),
    ("data no images", batch(GOOD[:0], []), FieldRangeError, "data"),
    ("labels 2**70", batch(labels=[2**70, 1]), FieldRangeError, "labels"),
    ("labels 2**20000", batch(labels=[1, 2**20000]), FieldRangeError, "labels"),
    ("labels -1", batch(labels=[-1, 1]), FieldRangeError, "labels"),
    ("labels 10", batch(labels=[1, 10]), FieldRangeError, "labels"),
    ("labels uint64 max", batch(labels=np.array([2**64 - 1, 0], np.uint64)), FieldRangeError, "labels"),
    ("labels int64 min", batch(labels=np.array([-(2**63), 0], np.int64)), FieldRangeError, "labels"),
    ("labels bool", batch(labels=[True, False]), FieldTypeError, "labels"),
    ("labels float", batch(labels=[1.0, 2.0]), FieldTypeError, "labels"),
    ("labels None", batch(labels=[None, 1]), FieldTypeError, "labels"),
    ("labels float array", batch(labels=np.array([1.0, 2.0])), FieldTypeError, "labels"),
    ("labels 2-D array", batch(labels=np.array([[1, 2]])), FieldTypeError, "labels"),
    ("labels a dict", batch(labels={0: 1, 1: 2}), FieldTypeError, "labels"),
    ("labels too few", batch(labels=[1]), FieldRangeError, "labels"),
    ("labels too many", batch(labels=[1, 2, 3]), FieldRangeError, "labels"),
]


@pytest.mark.parametrize("case", CIFAR_CASES, ids=[c[0] for c in CIFAR_CASES])
def test_cifar_batch_fault_is_refused_naming_file_and_field(tmp_path, capfd, case):
    _, content, cls, field = case
    path = tmp_path / "data_batch_1"
    path.write_bytes(content if isinstance(content, bytes) else pickle.dumps(content, protocol=2))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError) as err:
            formats.read_cifar_batch(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check(err, cls, path, field)
    # Refused from what the file holds: no allocation or time in proportion to a size it merely claims.
    assert peak < 64 << 20 and time.perf_counter() - start < 10
    assert "pwned" not in capfd.readouterr().out


def test_ndarray_from_a_shape_says_why(tmp_path):
    path = fac.write_cifar_batch(
        tmp_path / "b", GOOD, [1, 2], obj=batch(Reduce(np.ndarray, ((2, 3072), np.dtype("u1"))))
    )
    with pytest.raises(UnreadableFileError, match=r"numpy\.ndarray.*rebuilt from its own bytes"):
        formats.read_cifar_batch(path)


def test_label_of_2_to_the_70_is_named_not_an_overflow(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(batch(labels=[2**70, 1]), protocol=2))
    with pytest.raises(
        FieldRangeError, match=r"labels\[0\] = an integer of 71 bits; expected class numbers in \[0, 10\)"
    ):
        formats.read_cifar_batch(path)


def test_a_refused_global_is_not_modified_for_later_loads(tmp_path):
    path = tmp_path / "b"
    # BUILD on the allowed _codecs.encode with a new __defaults__ would change every later load.
    path.write_bytes(b"\x80\x02c_codecs\nencode\n}(X\x0c\x00\x00\x00__defaults__(X\x06\x00\x00\x00rot_13td\x86b.")
    with pytest.raises(UnreadableFileError, match="refused to modify _codecs.encode"):
        formats.read_cifar_batch(path)
    path.write_bytes(pickle.dumps(batch(), protocol=2))
    assert formats.read_cifar_batch(path)[1].tolist() == [3, 7]


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("layout", ["C", "F", "big-endian labels"])
def test_valid_batches_of_every_protocol_and_layout_load(tmp_path, protocol, layout):
    data = np.asfortranarray(GOOD) if layout == "F" else GOOD
    labels = np.array([3, 7], ">i8") if layout == "big-endian labels" else [np.int64(3), 7]
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps(batch(data, labels, filenames=[b"a.png", b"b.png"]), protocol=protocol))
    got, lab = formats.read_cifar_batch(path)
    assert type(got) is np.ndarray and got.flags.writeable and got.flags.owndata
    np.testing.assert_array_equal(got, GOOD)
    assert lab.dtype == np.int64 and lab.tolist() == [3, 7]


def test_python2_batch_with_latin1_strings_loads(tmp_path):
    # The publisher's files: cPickle protocol 2, keys and the array's bytes as Python 2 str.
    path = fac.write_cifar_batch(tmp_path / "b", GOOD, [3, 7])
    np.testing.assert_array_equal(formats.read_cifar_batch(path)[0], GOOD)


def test_array_state_without_version_loads(tmp_path):
    # Very old NumPy wrote (shape, dtype, fortran, data) without the version.
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps(batch(array_pickle((2, 3072), "u1", GOOD.tobytes(), version=None)), protocol=2))
    np.testing.assert_array_equal(formats.read_cifar_batch(path)[0], GOOD)


def test_cifar_batch_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path, monkeypatch):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    for name in ("folder", "fifo", "zero"):
        with pytest.raises(UnreadableFileError) as err:
            formats.read_cifar_batch(tmp_path / name)
        check(err, UnreadableFileError, tmp_path / name)
    monkeypatch.setattr(formats, "_CIFAR_MAX_BYTES", 1000)
    path = fac.write_cifar_batch(tmp_path / "big", GOOD, [1, 2])
    with pytest.raises(UnreadableFileError, match="a CIFAR-10 batch holds at most 1,000") as err:
        formats.read_cifar_batch(path)
    with pytest.raises(FileNotFoundError, match="missing"):
        formats.read_cifar_batch(tmp_path / "nothing")


def test_cifar_batch_with_more_images_than_the_data_set_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CIFAR_MAX_IMAGES", 1)
    path = fac.write_cifar_batch(tmp_path / "b", GOOD, [1, 2])
    with pytest.raises(FieldRangeError, match="more images than CIFAR-10") as err:
        formats.read_cifar_batch(path)
    check(err, FieldRangeError, path, "data")


def test_load_cifar10_names_the_batch(tmp_path):
    w = fac.write_cifar_folder(tmp_path, n_per_batch=2, n_test=2)
    bad = w["folder"] / "data_batch_4"
    bad.write_bytes(pickle.dumps(batch(labels=[2**70, 0]), protocol=2))
    with pytest.raises(FieldRangeError) as err:
        ds.load_cifar10(tmp_path)
    check(err, FieldRangeError, bad, "labels")


# ------------------------------------------------------------------------------------------------
# MNIST IDX files
# ------------------------------------------------------------------------------------------------


def idx(magic: int, dims: tuple, body: bytes = b"") -> bytes:
    return struct.pack(f">i{len(dims)}i", magic, *dims) + body


IMG = np.arange(2 * 4 * 4, dtype=np.uint8).tobytes()

# (id, image file bytes, label file bytes, error class, which file, field)
IDX_CASES = [
    ("wrong magic", idx(2049, (2, 4, 4), IMG), idx(2049, (2,), b"\1\2"), FieldTypeError, "images", "magic"),
    ("labels with image magic", idx(2051, (2, 4, 4), IMG), idx(2051, (2,), b"\1\2"), FieldTypeError, "labels", "magic"),
    ("empty", b"", idx(2049, (2,), b"\1\2"), formats.TruncatedFileError, "images", None),
    ("header cut", idx(2051, (2, 4, 4))[:9], idx(2049, (2,), b"\1\2"), UnreadableFileError, "images", "header"),
    ("negative count", idx(2051, (-2, 4, 4), IMG), idx(2049, (2,), b"\1\2"), FieldRangeError, "images", "count"),
    ("negative rows", idx(2051, (2, -4, 4), IMG), idx(2049, (2,), b"\1\2"), FieldRangeError, "images", "rows"),
    (
        "int64-wrapping dims",
        idx(2051, (2**21, 2**21, 2**22), IMG),
        idx(2049, (2,), b"\1\2"),
        FieldRangeError,
        "images",
        "dimensions",
    ),
    (
        "largest dims",
        idx(2051, (2**31 - 1,) * 3, IMG),
        idx(2049, (2,), b"\1\2"),
        FieldRangeError,
        "images",
        "dimensions",
    ),
    (
        "claims 1 GiB",
        idx(2051, (2**18, 64, 64), IMG),
        idx(2049, (2,), b"\1\2"),
        formats.TruncatedFileError,
        "images",
        None,
    ),
    ("data cut", idx(2051, (2, 4, 4), IMG[:-1]), idx(2049, (2,), b"\1\2"), formats.TruncatedFileError, "images", None),
    (
        "data beyond",
        idx(2051, (2, 4, 4), IMG + b"\0"),
        idx(2049, (2,), b"\1\2"),
        FieldRangeError,
        "images",
        "dimensions",
    ),
    ("no images", idx(2051, (0, 4, 4)), idx(2049, (0,)), FieldRangeError, "images", "count"),
    ("no columns", idx(2051, (2, 4, 0)), idx(2049, (2,), b"\1\2"), FieldRangeError, "images", "columns"),
    ("label 10", idx(2051, (2, 4, 4), IMG), idx(2049, (2,), b"\1\x0a"), FieldRangeError, "labels", "labels"),
    ("label 255", idx(2051, (2, 4, 4), IMG), idx(2049, (2,), b"\xff\1"), FieldRangeError, "labels", "labels"),
    ("count mismatch", idx(2051, (2, 4, 4), IMG), idx(2049, (3,), b"\1\2\3"), FieldRangeError, "labels", "count"),
    ("labels cut", idx(2051, (2, 4, 4), IMG), idx(2049, (2,), b"\1"), formats.TruncatedFileError, "labels", None),
]


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("case", IDX_CASES, ids=[c[0] for c in IDX_CASES])
def test_idx_fault_is_refused_naming_file_and_field(tmp_path, case, compress):
    _, images, labels, cls, which, field = case
    paths = {}
    for what, raw in (("images", images), ("labels", labels)):
        name = f"t10k-{what}-idx{3 if what == 'images' else 1}-ubyte" + (".gz" if compress else "")
        paths[what] = tmp_path / name
        paths[what].write_bytes(gzip.compress(raw, mtime=0) if compress else raw)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as err:
            ds.load_mnist(tmp_path, "t10k")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check(err, cls, paths[which], field)
    assert peak < 64 << 20  # a header's claim is never allocated before the bytes are there


@pytest.mark.parametrize("damage", ["cut", "flipped", "trailing garbage", "not gzip after magic"])
def test_idx_corrupted_gzip_is_refused(tmp_path, damage):
    fac.write_mnist_folder(tmp_path, n=20, kind="t10k")
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    if damage == "cut":
        raw = raw[: len(raw) // 2]
    elif damage == "flipped":
        raw[len(raw) // 2] ^= 0xFF
        raw[-6] ^= 0xFF  # the CRC too, so the stream is refused whatever the flip did
    elif damage == "trailing garbage":
        raw += b"garbage"
    else:
        raw = raw[:2] + b"\0" * 30
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError) as err:
        ds.load_mnist(tmp_path, "t10k")
    check(err, UnreadableFileError, path)


def test_idx_file_that_is_not_regular_is_not_found_not_read(tmp_path):
    fac.write_mnist_folder(tmp_path, n=3, kind="t10k")
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    os.mkfifo(tmp_path / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        ds.load_mnist(tmp_path, "t10k")


# ------------------------------------------------------------------------------------------------
# downloaded archives
# ------------------------------------------------------------------------------------------------


def member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tuple:
    return name, data, kind, linkname


def make_archive(path: Path, members: list[tuple]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data, kind, linkname in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = linkname
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A file:// mirror serving an archive whose checksum is in the registry; returns (serve, base_url, dest)."""
    pytest.importorskip("pooch")
    www = tmp_path / "www"
    www.mkdir()
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "home"))

    def serve(members=None, raw=None):
        archive = www / "cifar-10-python.tar.gz"
        if raw is not None:
            archive.write_bytes(raw)
        else:
            make_archive(archive, members)
        monkeypatch.setitem(ds.REGISTRY["cifar10"], "files", {archive.name: fac.md5(archive)})
        return archive

    return serve, www.as_uri() + "/", tmp_path / "dest"


def good_members() -> list[tuple]:
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    raw = fac.py2_pickle(fac.cifar_batch_dict(GOOD, [1, 2]))
    return [member("cifar-10-batches-py", kind=tarfile.DIRTYPE)] + [
        member(f"cifar-10-batches-py/{n}", raw) for n in names
    ]


ARCHIVE_CASES = [
    ("absolute path", [member("/tmp/steepest-escaped")], FieldRangeError, "/tmp/steepest-escaped"),
    ("dot-dot", [member("cifar-10-batches-py/../../escaped")], FieldRangeError, "cifar-10-batches-py/../../escaped"),
    ("backslash dot-dot", [member("..\\escaped")], FieldRangeError, "..\\escaped"),
    ("drive letter", [member("C:escaped")], FieldRangeError, "C:escaped"),
    (
        "symlink",
        [member("cifar-10-batches-py/data_batch_1", kind=tarfile.SYMTYPE, linkname="/etc/passwd")],
        FieldTypeError,
        "cifar-10-batches-py/data_batch_1",
    ),
    (
        "hard link",
        [member("a"), member("cifar-10-batches-py/test_batch", kind=tarfile.LNKTYPE, linkname="a")],
        FieldTypeError,
        "cifar-10-batches-py/test_batch",
    ),
    ("device", [member("dev", kind=tarfile.CHRTYPE)], FieldTypeError, "dev"),
    ("fifo", [member("pipe", kind=tarfile.FIFOTYPE)], FieldTypeError, "pipe"),
    ("file twice", [member("a"), member("./a")], FieldRangeError, "./a"),
    ("file inside a file", [member("a"), member("a/b")], FieldRangeError, "a/b"),
    ("member too large", [member("big", b"x" * 2000)], FieldRangeError, "big"),
    ("too many members", [member(f"m{i}") for i in range(12)], FieldRangeError, "members"),
    ("no batches", [member("cifar-10-batches-py/readme.html")], MissingFieldError, "cifar-10-batches-py/data_batch_1"),
]


@pytest.mark.parametrize("case", ARCHIVE_CASES, ids=[c[0] for c in ARCHIVE_CASES])
def test_archive_fault_is_refused_before_anything_is_written(mirror, tmp_path, monkeypatch, case):
    _, members, cls, field = case
    serve, base, dest = mirror
    monkeypatch.setattr(download, "_MAX_MEMBER_BYTES", 1000)
    monkeypatch.setattr(download, "_MAX_MEMBERS", 10)
    serve(members)
    dest.mkdir()
    before = tree(tmp_path, folder_times=False)
    with pytest.raises(ValueError) as err:
        ds.download_cifar10(dest, base_url=base)
    check(err, cls, base + "cifar-10-python.tar.gz", field)
    assert tree(tmp_path, folder_times=False) == before  # nothing extracted, nothing left behind, nothing outside dest
    assert not Path("/tmp/steepest-escaped").exists()


@pytest.mark.parametrize("damage", ["not an archive", "cut", "gzip of garbage"])
def test_unreadable_archive_is_refused(mirror, tmp_path, damage):
    serve, base, dest = mirror
    good = make_archive(tmp_path / "good.tar.gz", good_members()).read_bytes()
    raw = {
        "not an archive": b"hello" * 100,
        "cut": good[: len(good) // 2],
        "gzip of garbage": gzip.compress(b"\1" * 5000),
    }
    serve(raw=raw[damage])
    with pytest.raises(ValueError) as err:
        ds.download_cifar10(dest, base_url=base)
    check(err, UnreadableFileError, base + "cifar-10-python.tar.gz")
    assert list(dest.iterdir()) == []


def test_total_unpacked_size_is_bounded(mirror, monkeypatch):
    serve, base, dest = mirror
    monkeypatch.setattr(download, "_MAX_ARCHIVE_BYTES", 3000)
    serve([member(f"m{i}", b"x" * 800) for i in range(5)])
    with pytest.raises(FieldRangeError) as err:
        ds.download_cifar10(dest, base_url=base)
    check(err, FieldRangeError, base + "cifar-10-python.tar.gz", "members")


def test_good_archive_installs(mirror):
    serve, base, dest = mirror
    # A member named like the archive itself is unpacked apart from it, not over it mid-extraction.
    serve(good_members() + [member("cifar-10-python.tar.gz", b"not the archive")])
    folder = ds.download_cifar10(dest, base_url=base)
    assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-py"]
    assert ds.load_cifar10(folder)[0].shape == (10, 32, 32, 3)


# ------------------------------------------------------------------------------------------------
# refused calls create and modify nothing
# ------------------------------------------------------------------------------------------------

BAD_DOWNLOAD_ARGS = [
    ({"force": "yes"}, TypeError, "force must be True or False"),
    ({"force": None}, TypeError, "force must be True or False"),
    ({"timeout": 0}, ValueError, "timeout must be a positive"),
    ({"timeout": -5}, ValueError, "timeout must be a positive"),
    ({"timeout": float("inf")}, ValueError, "timeout must be a positive"),
    ({"timeout": 1e300}, ValueError, "at most 86400"),
    ({"timeout": "60"}, TypeError, "timeout must be a number"),
    ({"timeout": True}, TypeError, "timeout must be a number"),
    ({"progress": "yes"}, TypeError, "progress must be True, False or None"),
    ({"base_url": "ftp://example.org/"}, ValueError, "http, https or file URL"),
    ({"base_url": "example.org/data/"}, ValueError, "http, https or file URL"),
    ({"base_url": "http:///data/"}, ValueError, "must name a host"),
    ({"base_url": "https://example.org/d?x=1"}, ValueError, "query or fragment"),
    ({"base_url": "https://example.org/a b/"}, ValueError, "spaces or control characters"),
    ({"base_url": "file:///nonexistent/steepest/mirror/"}, ValueError, "does not exist"),
    ({"base_url": b"https://example.org/"}, TypeError, "base_url must be a str"),
    ({"dest": ""}, ValueError, "dest must not be empty"),
    ({"dest": "a\0b"}, ValueError, "NUL"),
    ({"dest": 3}, TypeError, "dest must be a path"),
    ({"dest": "FILE/sub/folder"}, ValueError, "is a file"),
    ({"dest": "FILE"}, ValueError, "it is a file"),
]


@pytest.mark.parametrize("call", [ds.download_mnist, ds.download_cifar10], ids=["mnist", "cifar10"])
@pytest.mark.parametrize(
    "args", BAD_DOWNLOAD_ARGS, ids=[f"{k}={v!r}" for (a, _, _) in BAD_DOWNLOAD_ARGS for k, v in a.items()]
)
def test_refused_download_creates_and_modifies_nothing(tmp_path, monkeypatch, call, args):
    kwargs, error, match = args
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "home"))
    (tmp_path / "FILE").write_text("a file in the way")
    # An earlier download in place: a refused force= must not touch it either.
    old = tmp_path / "dest"
    fac.write_mnist_folder(old, n=2, kind="t10k")
    fac.write_cifar_folder(old, n_per_batch=1, n_test=1)
    kwargs = dict(kwargs)
    dest = kwargs.pop("dest", old)
    if isinstance(dest, str) and dest.startswith("FILE"):
        dest = tmp_path / dest
    before = tree(tmp_path)
    for where in [dest] if "dest" in args[0] else [dest, None]:  # None: data_home(), which does not exist yet
        with pytest.raises(error, match=match):
            call(where, **kwargs)
    assert tree(tmp_path) == before


def test_refused_download_with_no_folder_anywhere_creates_none(tmp_path, monkeypatch):
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "a" / "b" / "c"))
    for call in (ds.download_mnist, ds.download_cifar10):
        for kwargs in ({"timeout": 0}, {"force": "yes"}, {"base_url": "gopher://x/"}):
            with pytest.raises((TypeError, ValueError)):
                call(tmp_path / "x" / "y", **kwargs)
            with pytest.raises((TypeError, ValueError)):
                call(**kwargs)
    assert list(tmp_path.iterdir()) == []


def test_download_mnist_refuses_bad_kinds_before_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "home"))
    for kinds, error in (((), TypeError), (("train", "test"), ValueError), (5, TypeError), ([None], ValueError)):
        with pytest.raises(error, match="kinds"):
            ds.download_mnist(tmp_path / "dest", kinds=kinds)
    assert list(tmp_path.iterdir()) == []


def test_loaders_check_every_argument_before_reading(tmp_path):
    # With no data at all, the bad argument is named (not a missing folder).
    with pytest.raises(TypeError, match="batches must be a sequence"):
        ds.load_cifar10(tmp_path / "missing", batches=3)
    with pytest.raises(ValueError, match="distinct numbers in 1..5"):
        ds.load_cifar10(tmp_path / "missing", batches=(1, 9))
    for kwargs, error, match in (
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": "1"}, TypeError, "seed must be an int"),
        ({"n_train": 0}, ValueError, "n_train must be >= 1"),
        ({"n_val": 1.5}, TypeError, "n_val must be an int"),
        ({"n_test": -1}, ValueError, "n_test must be >= 0"),
    ):
        for spec in (f"cifar10:{tmp_path / 'missing'}", f"mnist:{tmp_path / 'missing'}", "synthetic:10", "digits"):
            with pytest.raises(error, match=match):
                ds.load_dataset(spec, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_load_dataset_seed_generator_is_not_drawn_before_loading(tmp_path):
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    with pytest.raises(FileNotFoundError):
        ds.load_dataset(f"cifar10:{tmp_path / 'missing'}", seed=rng)
    assert rng.bit_generator.state == state
