"""Checksummed downloads for ``steepest.datasets``: one registry, verified before use, atomic.

Every file is streamed into a temporary file inside the destination folder while its checksum is
computed; only a file whose checksum equals the published one is moved into place (``os.replace``,
atomic on one file system). Archives are unpacked into a temporary folder (members checked: no
absolute paths, no ``..``, no links or devices) that is renamed into place when complete. A failed,
interrupted or corrupted download leaves nothing behind but what was there before.

Only the standard library is used (``urllib``); no test needs the internet: ``base_url=`` points a
download at any server, e.g. a local ``http.server`` serving small files in the real formats.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .._atomic import fsync_folder
from .formats import CIFAR_FOLDER, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, as_path

#: The one place where URLs and published checksums live. ``base_url`` ends with "/", each file
#: name is appended to it. Checksums are "algorithm:hexdigest" (any algorithm in hashlib).
REGISTRY: dict[str, dict[str, Any]] = {
    "cifar10": {
        # The publisher's page (https://www.cs.toronto.edu/~kriz/cifar.html) gives this md5.
        "base_url": "https://www.cs.toronto.edu/~kriz/",
        "files": {"cifar-10-python.tar.gz": "md5:c58f30108f718f92721af3b95e74349a"},
    },
    "mnist": {
        # The mirror torchvision uses, with torchvision's published md5s of the original files.
        "base_url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "files": {
            "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
}

_CHUNK = 1 << 20
_TIMEOUT = 60.0


class DownloadError(OSError):
    """A download that could not be completed (network, HTTP status, unwritable folder)."""


class ChecksumError(ValueError):
    """A downloaded file whose checksum differs from the published one; the file was deleted."""


def data_home() -> Path:
    """The cache folder: ``$STEEPEST_DATA`` when set, else ``~/.cache/steepest``. Not created here."""
    env = os.environ.get("STEEPEST_DATA", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "steepest"


def _hasher(checksum: str) -> tuple[Any, str]:
    algorithm, _, digest = checksum.partition(":")
    if not digest:
        raise ValueError(f"checksum {checksum!r} must read 'algorithm:hexdigest', e.g. 'md5:...'")
    return hashlib.new(algorithm), digest.lower()


def file_checksum(path: Path, checksum: str) -> str:
    """The checksum of ``path`` in the algorithm ``checksum`` names, formatted like it."""
    h, _ = _hasher(checksum)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return f"{h.name}:{h.hexdigest()}"


def _url(base_url: str, name: str) -> str:
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str; got {type(base_url).__name__}")
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"base_url must be an http, https or file URL; got {base_url!r}")
    return base_url.rstrip("/") + "/" + urllib.parse.quote(name)


def _dest(dest: Any, default: Path) -> Path:
    folder = default if dest is None else as_path(dest, "dest")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the download folder {str(folder)!r}: {exc.strerror}") from None
    return folder


def fetch(url: str, folder: Path, checksum: str, *, timeout: float = _TIMEOUT) -> Path:
    """Download ``url`` into a temporary file in ``folder`` and return it once its checksum matched.

    The caller owns the returned temporary file (moves it into place or deletes it). On any failure
    the temporary file is deleted and the error names the URL (and both checksums on a mismatch).
    """
    h, expected = _hasher(checksum)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=folder)
    except OSError as exc:
        raise DownloadError(f"cannot write into {str(folder)!r} to download {url}: {exc.strerror}") from None
    ok = False
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked)
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        h.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(exc, urllib.error.HTTPError):
                    reason = f"HTTP {exc.code} {exc.reason}"
                    exc.close()
                raise DownloadError(f"download of {url} failed: {reason}") from exc
            out.flush()
            os.fsync(out.fileno())
        received = h.hexdigest()
        if received != expected:
            raise ChecksumError(
                f"download of {url} is corrupted: expected {h.name} {expected}, received {h.name} {received} "
                f"({os.path.getsize(tmp)} bytes); the file was deleted"
            )
        ok = True
        return Path(tmp)
    finally:
        if not ok:
            _unlink(Path(tmp))


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _safe_members(archive: tarfile.TarFile, url: str) -> list[tarfile.TarInfo]:
    members = []
    for m in archive.getmembers():
        parts = Path(m.name).parts
        if m.name.startswith(("/", "\\")) or os.path.isabs(m.name) or ".." in parts:
            raise ValueError(f"archive from {url} holds an unsafe path {m.name!r}; nothing was extracted")
        if not (m.isfile() or m.isdir()):
            raise ValueError(
                f"archive from {url} holds {m.name!r}, which is not a plain file or folder; nothing was extracted"
            )
        members.append(m)
    return members


def download_cifar10(
    dest: Any = None, *, base_url: str | None = None, force: bool = False, timeout: float = _TIMEOUT
) -> Path:
    """Download, verify and unpack CIFAR-10 (python version); return its ``cifar-10-batches-py`` folder.

    ``dest`` is the folder that will hold ``cifar-10-batches-py`` (default ``data_home()``). When that
    folder already holds all six batches nothing is downloaded (unless ``force=True``). The archive
    (163 MB) is checked against the published md5 before it is opened, unpacked into a temporary
    folder, and renamed into place; it is deleted afterwards. Raises ``DownloadError`` (an OSError)
    when the download fails and ``ChecksumError`` (a ValueError) when the file is corrupted, naming
    the URL and both checksums; nothing half-written is left behind.
    """
    entry = REGISTRY["cifar10"]
    folder = _dest(dest, data_home())
    target = folder / CIFAR_FOLDER
    expected_files = (*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH)
    if not force and all((target / name).is_file() for name in expected_files):
        return target
    ((name, checksum),) = entry["files"].items()
    url = _url(base_url if base_url is not None else entry["base_url"], name)
    archive_path = fetch(url, folder, checksum, timeout=timeout)
    tmpdir = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    try:
        try:
            with tarfile.open(archive_path, "r:*") as archive:
                members = _safe_members(archive, url)
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(tmpdir, members=members, filter="data")
                else:  # pragma: no cover - Pythons without extraction filters; members checked above
                    archive.extractall(tmpdir, members=members)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ValueError(f"archive from {url} cannot be unpacked: {exc}") from None
        unpacked = tmpdir / CIFAR_FOLDER
        absent = [n for n in expected_files if not (unpacked / n).is_file()]
        if absent:
            raise ValueError(f"archive from {url} does not hold {CIFAR_FOLDER}/{absent[0]}; nothing was installed")
        if target.exists():  # force=True or an incomplete old folder: swap it out, then delete it
            old = Path(tempfile.mkdtemp(prefix=".old-", dir=folder))
            os.replace(target, old / CIFAR_FOLDER)
            os.replace(unpacked, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(unpacked, target)
        fsync_folder(folder)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        _unlink(archive_path)
    return target


def download_mnist(
    dest: Any = None,
    *,
    base_url: str | None = None,
    kinds: tuple[str, ...] = ("train", "t10k"),
    force: bool = False,
    timeout: float = _TIMEOUT,
) -> Path:
    """Download and verify the MNIST IDX files (gzip, as published); return the folder holding them.

    ``dest`` defaults to ``data_home() / "mnist"``; ``kinds`` picks "train" and/or "t10k". A file
    already there whose md5 matches is kept (nothing downloaded); a file that does not match is
    downloaded again. Each file is verified before it is moved into place. Errors as for
    ``download_cifar10``.
    """
    entry = REGISTRY["mnist"]
    if isinstance(kinds, str):
        kinds = (kinds,)
    for kind in kinds:
        if kind not in ("train", "t10k"):
            raise ValueError(f"kinds must hold 'train' and/or 't10k'; got {kind!r}")
    folder = _dest(dest, data_home() / "mnist")
    base = base_url if base_url is not None else entry["base_url"]
    for name, checksum in entry["files"].items():
        if name.split("-")[0] not in kinds:
            continue
        final = folder / name
        if not force and final.is_file() and file_checksum(final, checksum) == checksum.lower():
            continue
        tmp = fetch(_url(base, name), folder, checksum, timeout=timeout)
        try:
            os.replace(tmp, final)
        finally:
            _unlink(tmp)
    fsync_folder(folder)
    return folder
