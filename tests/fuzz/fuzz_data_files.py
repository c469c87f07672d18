"""Fuzz: tampered CIFAR-10 batches, MNIST IDX files and CIFAR-10 archives load cleanly or are refused cleanly.

Small valid files are written here (never the real data), then Hypothesis flips their bytes, truncates them,
and retypes, resizes or rewrites their fields (the pickled dict's keys and values, the arrays' shapes, dtypes
and bytes; the IDX magic number and dimensions, raw and gzip; the archive's members, their names, types and
sizes). Each load either works and returns what the format promises, or raises one of
``steepest._untrusted``'s errors (a ``ValueError``) naming the file: never another exception, never a crash,
never memory or time in proportion to a size the file merely claims, and an archive never writes outside its
destination nor leaves anything behind when refused. Run by ``tests/test_fuzz.py`` in a subprocess; about
30 s on 2 cores.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from steepest import datasets as ds
from steepest._untrusted import UntrustedFileError
from steepest.datasets import formats

import data_factories as fac

FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz(examples: int) -> settings:
    """The fuzz settings with a number of examples: the counts below keep the file near 30 s on 2 cores."""
    return settings(FUZZ, max_examples=examples)


RECONSTRUCT = np.ndarray(0).__reduce__()[0]


class Reduce:
    """Pickles as the ``__reduce__`` value it is given (arrays with any state, without writing opcodes)."""

    def __init__(self, *rv):
        self.rv = rv

    def __reduce__(self):
        return self.rv


def refused_cleanly(exc: BaseException, *paths) -> None:
    """A refusal of a file: steepest's error for untrusted files, naming one of ``paths``."""
    assert isinstance(exc, UntrustedFileError), f"{type(exc).__name__}: {exc}"
    event(f"refused: {type(exc).__name__}")  # --hypothesis-show-statistics shows the mix of outcomes
    assert any(str(p) in str(exc) for p in paths), str(exc)


# --- byte-level damage, shared by every format -----------------------------------------------------


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    """``raw`` with a few bytes flipped, inserted or deleted, then perhaps cut short."""
    out = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if action == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            out[at] = draw(st.integers(0, 255))
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del out[at : at + draw(st.integers(1, 8))]
    if draw(st.booleans()):
        out = out[: draw(st.integers(0, len(out)))]
    return bytes(out)


# --- CIFAR-10 batches ----------------------------------------------------------------------------

N_IMAGES = 2
DATA = np.random.default_rng(0).integers(0, 256, (N_IMAGES, 3072), dtype=np.uint8)
LABELS = [3, 9]
STYLES = ["py2"] + [f"protocol {p}" for p in range(pickle.HIGHEST_PROTOCOL + 1)]


def pickled(obj, style: str) -> bytes:
    return fac.py2_pickle(obj) if style == "py2" else pickle.dumps(obj, protocol=int(style.split()[1]))


def read_batch(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data_batch_1"
        path.write_bytes(raw)
        try:
            data, labels = formats.read_cifar_batch(path)
        except Exception as exc:
            refused_cleanly(exc, path)
            return
    event("loaded")
    assert type(data) is np.ndarray and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072
    assert labels.dtype == np.int64 and labels.shape == (len(data),)
    assert 0 < len(data) and labels.min() >= 0 and labels.max() < 10


@fuzz(600)
@given(st.sampled_from(STYLES), st.data())
def test_cifar_batch_with_damaged_bytes(style, data):
    raw = pickled(fac.cifar_batch_dict(DATA, LABELS), style)
    read_batch(data.draw(damaged(raw)))


DTYPES = ["u1", "i1", "u8", "i8", ">i8", "f4", "f8", "b1", "O", "U3", "V4", "c16", "M8[s]"]
ints = st.one_of(st.integers(-3, 12), st.integers(-(2**70), 2**70), st.sampled_from([2**63 - 1, -(2**63), 2**64]))
shapes = st.lists(st.one_of(st.integers(0, 4), st.sampled_from([3072, -1, 2**31, 2**62])), min_size=0, max_size=3).map(
    tuple
)


@st.composite
def arrays(draw):
    """An array as a pickle may hold one: a real one of some dtype and shape, or numpy's reconstruct with any state."""
    if draw(st.booleans()):
        dtype = np.dtype(draw(st.sampled_from(["u1", "i8", ">i8", "f8", "b1", "u8"])))
        shape = draw(
            st.sampled_from([(N_IMAGES, 3072), (N_IMAGES,), (0, 3072), (1, 3072), (N_IMAGES, 3071), (3, 1024)])
        )
        a = np.zeros(shape, dtype)
        return np.asfortranarray(a) if draw(st.booleans()) else a
    shape = draw(st.one_of(shapes, st.just((N_IMAGES, 3072))))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    raw = draw(st.one_of(st.binary(max_size=64), st.just(bytes(N_IMAGES * 3072)), st.lists(ints, max_size=3)))
    state = (draw(st.sampled_from([1, 0, 2])), shape, dtype, draw(st.sampled_from([False, True, 2])), raw)
    if draw(st.booleans()):
        state = state[1:]
    return Reduce(RECONSTRUCT, (np.ndarray, draw(st.sampled_from([(0,), (N_IMAGES, 3072)])), b"b"), state)


values = st.recursive(
    st.one_of(st.none(), st.booleans(), ints, st.floats(), st.binary(max_size=8), st.text(max_size=4), arrays()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(st.binary(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
label_lists = st.one_of(
    st.lists(ints, min_size=0, max_size=4),
    st.lists(st.integers(0, 9), min_size=N_IMAGES, max_size=N_IMAGES),
    st.lists(st.one_of(st.integers(0, 9), st.floats(), st.booleans(), st.none()), min_size=N_IMAGES, max_size=N_IMAGES),
    arrays(),
)


@fuzz(800)
@given(st.sampled_from(STYLES), st.data())
def test_cifar_batch_with_retyped_and_resized_fields(style, data):
    batch = fac.cifar_batch_dict(DATA, LABELS)
    for key in data.draw(st.lists(st.sampled_from(list(batch)), max_size=3, unique=True)):
        action = data.draw(st.sampled_from(["drop", "retype", "array", "labels", "str key"]))
        if action == "drop":
            del batch[key]
        elif action == "retype":
            batch[key] = data.draw(values)
        elif action == "array":
            batch[key] = data.draw(arrays())
        elif action == "labels":  # the labels of another type or size, or out of range
            batch[b"labels" if b"labels" in batch else key] = data.draw(label_lists)
        else:
            batch[key.decode()] = batch.pop(key)
    top = data.draw(st.sampled_from(["dict"] * 4 + ["list", "value"]))
    obj = batch if top == "dict" else [batch] if top == "list" else data.draw(values)
    try:
        raw = pickled(obj, style)
    except Exception:  # some drawn objects cannot be pickled in some styles (a cycle, protocol 0 and bytes)
        return
    read_batch(raw)


# --- MNIST IDX files -----------------------------------------------------------------------------

IMAGES = np.random.default_rng(1).integers(0, 256, (3, 4, 5), dtype=np.uint8)
DIGITS = np.array([0, 7, 9], np.uint8)


def load_idx_pair(images: bytes, labels: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "t10k-images-idx3-ubyte", Path(tmp) / "t10k-labels-idx1-ubyte"]
        for path, raw in zip(paths, (images, labels)):
            # A gzip file is found by its magic bytes, whatever the name: the .gz name only when it is one.
            (path.with_name(path.name + ".gz") if raw[:2] == b"\x1f\x8b" else path).write_bytes(raw)
        try:
            X, y = ds.load_mnist(tmp, "t10k")
        except Exception as exc:
            refused_cleanly(exc, *[p.parent / (p.name + s) for p in paths for s in (".gz", "")])
            return
    event("loaded")
    assert X.dtype == np.uint8 and X.ndim == 2 and y.dtype == np.int64 and y.shape == (len(X),)
    assert len(X) > 0 and X.shape[1] > 0 and y.min() >= 0 and y.max() <= 9


@st.composite
def idx_files(draw):
    """A valid IDX pair, then one side damaged: bytes of the raw file or the gzip stream, or a rewritten header."""
    images, labels = fac.idx_bytes(IMAGES), fac.idx_bytes(DIGITS)
    which = draw(st.sampled_from(["images", "labels"]))
    raw = images if which == "images" else labels
    action = draw(st.sampled_from(["bytes", "header", "gzip bytes"]))
    if action == "header":
        ndim = 3 if which == "images" else 1
        magic = draw(
            st.one_of(
                st.just(0x0800 | ndim), st.sampled_from([2049, 2051, 0x0D03, 0x0804]), st.integers(-(2**31), 2**31 - 1)
            )
        )
        dims = draw(
            st.lists(
                st.one_of(
                    st.integers(-2, 8), st.integers(-(2**31), 2**31 - 1), st.sampled_from([2**21, 2**22, 2**31 - 1])
                ),
                min_size=ndim,
                max_size=ndim,
            )
        )
        raw = struct.pack(f">i{ndim}i", magic, *dims) + raw[4 + 4 * ndim :]
    elif action == "bytes":
        raw = draw(damaged(raw))
    compress = draw(st.booleans()) or action == "gzip bytes"
    if compress:
        raw = gzip.compress(raw, mtime=0)
        if action == "gzip bytes":
            raw = draw(damaged(raw))
    other = labels if which == "images" else images
    if draw(st.booleans()):
        other = gzip.compress(other, mtime=0)
    return (raw, other) if which == "images" else (other, raw)


@fuzz(800)
@given(idx_files())
def test_idx_files_with_damaged_bytes_and_headers(pair):
    load_idx_pair(*pair)


# --- CIFAR-10 archives ---------------------------------------------------------------------------

BATCH = fac.py2_pickle(fac.cifar_batch_dict(DATA[:1], LABELS[:1]))
BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
TAR_TYPES = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE]


def good_members() -> list[tuple]:
    return [("cifar-10-batches-py", tarfile.DIRTYPE, b"", "")] + [
        (f"cifar-10-batches-py/{n}", tarfile.REGTYPE, BATCH, "") for n in BATCH_NAMES
    ]


def tar_bytes(members: list[tuple], compress: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if compress else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, linkname in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, linkname
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


names = st.one_of(
    st.sampled_from(["cifar-10-batches-py/" + n for n in BATCH_NAMES]),
    st.sampled_from(
        ["/abs", "../up", "cifar-10-batches-py/../../up", "..\\up", "C:drive", "a/./b", "./a", "a//b", ".", ""]
    ),
    st.text(st.sampled_from("ab./\\:"), max_size=8),
    st.just("cifar-10-python.tar.gz"),  # the archive's own name
)


@st.composite
def archives(draw):
    """The raw archive a mirror serves: the good one with members changed, or its bytes damaged."""
    members = good_members()
    action = draw(st.sampled_from(["members", "tar bytes", "gzip bytes"]))
    if action == "gzip bytes":
        return draw(damaged(tar_bytes(members)))
    if action == "tar bytes":  # damage under the compression: headers, names, sizes, data
        return gzip.compress(draw(damaged(tar_bytes(members, compress=False))))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(members) - 1))
        name, kind, data, linkname = members[i]
        change = draw(st.sampled_from(["name", "type", "size", "drop", "add"]))
        if change == "name":
            members[i] = (draw(names), kind, data, linkname)
        elif change == "type":
            members[i] = (
                name,
                draw(st.sampled_from(TAR_TYPES)),
                data,
                draw(st.sampled_from(["", "/etc/passwd", "cifar-10-batches-py/test_batch", "../x"])),
            )
        elif change == "size":
            members[i] = (name, kind, data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=16)), linkname)
        elif change == "drop":
            del members[i]
            if not members:
                break
        else:
            members.insert(
                i,
                (
                    draw(names),
                    draw(st.sampled_from(TAR_TYPES)),
                    draw(st.binary(max_size=16)),
                    draw(st.sampled_from(["", "a", "/etc/passwd"])),
                ),
            )
    return tar_bytes(members)


def tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def mirror():
    pytest.importorskip("pooch")
    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp) / "www"
        www.mkdir()
        yield Path(tmp), www


@fuzz(300)
@given(archives())
def test_cifar_archive_with_damaged_members_and_bytes(mirror, raw):
    root, www = mirror
    archive = www / "cifar-10-python.tar.gz"
    archive.write_bytes(raw)
    registry = ds.REGISTRY["cifar10"]["files"]
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        dest = Path(tmp) / "dest"
        dest.mkdir()
        outside = tree(root)  # everything but dest is compared after the call
        saved = dict(registry)
        registry.clear()
        registry[archive.name] = fac.md5(archive)
        try:
            ds.download_cifar10(dest, base_url=www.as_uri() + "/")
        except Exception as exc:
            refused_cleanly(exc, www.as_uri() + "/" + archive.name)
            assert list(dest.iterdir()) == []  # nothing unpacked, nothing left behind
        else:
            event("installed")
            assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-py"]
            assert all((dest / "cifar-10-batches-py" / n).is_file() for n in BATCH_NAMES)
        finally:
            registry.clear()
            registry.update(saved)
        after = tree(root)
        for key in set(outside) | set(after):
            if not key.startswith(str(Path(tmp).relative_to(root))):
                assert outside.get(key) == after.get(key), f"{key} changed outside the destination"
    assert not any(Path(p).exists() for p in ("/abs", "/up", str(root / "up"))), (
        "an archive wrote outside its destination"
    )
