"""Checksummed downloads for ``steepest.datasets``, through pooch: one registry, verified before use.

``REGISTRY`` is the one place where the URLs and the published checksums live. Each file is fetched
by ``pooch.retrieve`` (the ``data`` extra: ``pip install steepest[data]``; pooch is imported only by
the download functions), which streams it into a temporary file next to its destination, checks it
against the published checksum and only then moves it into place; a file already cached whose
checksum matches is not downloaded again. A progress bar is shown when tqdm is installed.

Files are cached under ``data_home()``: ``$STEEPEST_DATA`` when set, else ``~/.cache/steepest``.
CIFAR-10's archive is checked before it is opened and every member is checked before any is
unpacked (no absolute paths, no ``..``, no links or devices, no duplicates, at most 100 members of
64 MiB each); it is unpacked into a temporary folder that is renamed into place when complete, then
deleted. A failed, interrupted or corrupted download leaves nothing behind but what was there before.
Every argument (dest, URL, timeout, force, progress, kinds) is checked before any folder is created.
No test needs the internet: ``base_url=`` points a download at any server, e.g. a local
``http.server`` serving small files in the real formats.
"""

from __future__ import annotations

import errno
import hashlib
import math
import numbers
import os
import re
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import _optional, _validate
from .._atomic import fsync_folder
from .._untrusted import FieldRangeError, FieldTypeError, MissingFieldError, UnreadableFileError
from .formats import CIFAR_FOLDER, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, _show, as_path

#: The one place where URLs and published checksums live. ``base_url`` ends with "/", each file
#: name is appended to it. Checksums are "algorithm:hexdigest" (md5, sha1 or sha256, as pooch reads them).
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
_MAX_TIMEOUT = 86_400.0  # one day; far larger values overflow the socket layer's timer (OverflowError)
# Bounds on an archive's contents: the real CIFAR-10 archive holds 9 members, the largest 30 MiB, 178 MiB in all.
_MAX_MEMBERS = 100
_MAX_MEMBER_BYTES = 1 << 26  # 64 MiB
_MAX_ARCHIVE_BYTES = 1 << 29  # 512 MiB unpacked


class DownloadError(OSError):
    """A download that could not be completed (network, HTTP status, unwritable folder)."""


class ChecksumError(ValueError):
    """A downloaded file whose checksum differs from the published one; the file was deleted."""


def data_home() -> Path:
    """The cache folder: ``$STEEPEST_DATA`` when set, else ``~/.cache/steepest``. Not created here."""
    env = os.environ.get("STEEPEST_DATA", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "steepest"


def file_checksum(path: Path, checksum: str) -> str:
    """The checksum of ``path`` in the algorithm ``checksum`` names, formatted like it."""
    algorithm, _, digest = checksum.partition(":")
    if not digest:
        raise ValueError(f"checksum {checksum!r} must read 'algorithm:hexdigest', e.g. 'md5:...'")
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return f"{h.name}:{h.hexdigest()}"


# --------------------------------------------------------------------------------------------------
# checks made before anything is created
# --------------------------------------------------------------------------------------------------


def _check_base_url(base_url: Any) -> str:
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str; got {type(base_url).__name__}")
    if re.search(r"[\x00-\x20\x7f]", base_url):
        raise ValueError(f"base_url must not contain spaces or control characters; got {base_url!r}")
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https", "file"):
        raise ValueError(f"base_url must be an http, https or file URL; got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(
            f"base_url must not have a query or fragment (file names are appended to it); got {base_url!r}"
        )
    if parts.scheme != "file" and not parts.hostname:
        raise ValueError(f"base_url must name a host, e.g. 'https://example.org/data/'; got {base_url!r}")
    if parts.scheme == "file":
        # Checked now, not when the first file is copied: a mirror that is not there must create nothing.
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"base_url: a file URL must name a local folder (file:///path/); got {base_url!r}")
        folder = urllib.request.url2pathname(parts.path)
        if not os.path.isdir(folder):
            raise ValueError(f"base_url {base_url!r} names the folder {folder!r}, which does not exist")
    return base_url


def _url(base_url: str, name: str) -> str:
    return base_url.rstrip("/") + "/" + urllib.parse.quote(name)


def _check_options(timeout: Any, force: Any, progress: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):  # NumPy numbers are Real
        raise TypeError(f"timeout must be a number of seconds; got {type(timeout).__name__}")
    if not (math.isfinite(timeout) and 0 < timeout <= _MAX_TIMEOUT):
        raise ValueError(
            f"timeout must be a positive, finite number of seconds, at most {_MAX_TIMEOUT:g} (one day); got {timeout!r}"
        )
    _validate.boolean(force, "force")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None; got {type(progress).__name__}")
    if progress:
        _optional.require("tqdm", "progress", "progress=True")
    return float(timeout)


def _check_dest(folder: Path, name: str) -> Path:
    """``folder`` if it is a folder or can be created as one; checked before anything is created."""
    # mkdir(parents=True) would create the missing ancestors before failing on a file in the way.
    probe = folder
    try:
        while not probe.exists() and not probe.is_symlink() and probe.parent != probe:
            probe = probe.parent
        is_dir = probe.is_dir()
    except OSError as exc:
        raise ValueError(f"{name} {str(folder)!r} cannot be used: {exc.strerror} ({str(probe)!r})") from None
    if not is_dir:
        where = "it is" if probe == folder else f"{str(probe)!r} is"
        what = "a link to nothing" if probe.is_symlink() and not probe.exists() else "a file"
        raise ValueError(f"{name} {str(folder)!r} must be a folder, but {where} {what}; pass a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"{name} {str(folder)!r} cannot be written: {str(probe)!r} is not writable")
    return folder


def _pooch(feature: str) -> Any:
    return _optional.require("pooch", "data", feature)


def _mkdir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the download folder {str(folder)!r}: {exc.strerror}") from None
    return folder


# --------------------------------------------------------------------------------------------------
# one verified file, through pooch
# --------------------------------------------------------------------------------------------------


def _copy_file_url(url: str, output_file: Any, _pooch: Any) -> None:
    """A pooch downloader for ``file://`` URLs (pooch speaks http, https, ftp, sftp and doi)."""
    source = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
    with open(source, "rb") as src, open(output_file, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def _show_progress(progress: bool | None) -> bool:
    """pooch's progress bar: when asked (tqdm checked up front), or by default when tqdm is installed."""
    if progress is not None:
        return progress
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def fetch(
    url: str,
    folder: Path,
    name: str,
    checksum: str,
    *,
    timeout: float = _TIMEOUT,
    progress: bool | None = None,
    feature: str = "downloading data",
) -> Path:
    """``folder / name``, downloaded from ``url`` by pooch unless already there with ``checksum``.

    pooch writes into a temporary file in ``folder`` and moves it to ``name`` only once its checksum
    matched. Raises ``ChecksumError`` (naming the URL and both checksums) on a mismatch and
    ``DownloadError`` naming the URL on a network or HTTP failure; neither leaves a file behind.
    """
    pooch = _pooch(feature)
    import requests  # a dependency of pooch

    if urllib.parse.urlsplit(url).scheme == "file":
        inner: Callable = _copy_file_url
    else:
        inner = pooch.HTTPDownloader(progressbar=_show_progress(progress), timeout=timeout)
    received: list[str] = []

    def downloader(url: str, output_file: Any, pooch_obj: Any) -> None:
        inner(url, output_file, pooch_obj)
        received.append(file_checksum(Path(output_file), checksum))

    try:
        path = pooch.retrieve(url, known_hash=checksum, fname=name, path=folder, downloader=downloader)
    except requests.exceptions.HTTPError as exc:
        response = exc.response
        status = f"HTTP {response.status_code} {response.reason}" if response is not None else str(exc)
        raise DownloadError(f"download of {url} failed: {status}") from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        raise DownloadError(f"download of {url} failed: {exc}") from exc
    except ValueError as exc:
        if not received:
            raise
        algorithm, _, expected = checksum.partition(":")
        got = received[-1].partition(":")[2]
        raise ChecksumError(
            f"download of {url} is corrupted: expected {algorithm} {expected.lower()}, received {algorithm} {got}; "
            "the file was deleted"
        ) from exc
    return Path(path)


def _fresh(url: str, folder: Path, name: str, checksum: str, **options: Any) -> Path:
    """Download ``name`` anew (``force=True``) into a temporary folder, then move it over the old file."""
    tmpdir = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    try:
        new = fetch(url, tmpdir, name, checksum, **options)
        os.replace(new, folder / name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return folder / name


def _member_fault(m: tarfile.TarInfo) -> tuple[type[ValueError], str] | None:
    """Why member ``m`` may not be extracted (its error class and the reason), or None."""
    name = m.name
    if not name or "\x00" in name:
        return FieldRangeError, "an empty name or one with a NUL character"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in re.split(r"[/\\]", name):
        return FieldRangeError, f"unsafe path {name!r}: an absolute path or '..' could write outside the destination"
    if m.issym() or m.islnk():
        return FieldTypeError, f"a link to {_show(m.linkname)}; only plain files and folders are unpacked"
    if not (m.isfile() or m.isdir()):
        return FieldTypeError, "not a plain file or folder (a device, pipe or special entry)"
    if m.size > _MAX_MEMBER_BYTES:
        return FieldRangeError, f"{m.size:,} bytes; a CIFAR-10 file holds at most {_MAX_MEMBER_BYTES:,}"
    return None


def _checked_members(archive: tarfile.TarFile, url: str) -> list[tarfile.TarInfo]:
    """Every member of ``archive``, each checked (names, types, sizes, count) before anything is extracted."""
    members: list[tarfile.TarInfo] = []
    files: set[str] = set()
    seen: set[str] = set()
    total = 0
    for m in archive:  # one at a time: an archive of a million entries is refused at the 101st
        fault = _member_fault(m)
        name = os.path.normpath(m.name)
        # A file given twice, or one inside another file, would fail halfway through extracting.
        if fault is None and (name in files or (m.isfile() and name in seen)):
            fault = FieldRangeError, "a file of this name comes earlier in the archive"
        if fault is None and any(str(parent) in files for parent in Path(name).parents):
            fault = FieldRangeError, "it lies inside a member that is a file"
        if fault is not None:
            error, why = fault
            raise error(url, m.name[:200], f"{why}; nothing was extracted")
        members.append(m)
        seen.add(name)
        if m.isfile():
            files.add(name)
        total += m.size
        if len(members) > _MAX_MEMBERS or total > _MAX_ARCHIVE_BYTES:
            raise FieldRangeError(
                url,
                "members",
                f"more than {_MAX_MEMBERS} members or {_MAX_ARCHIVE_BYTES:,} bytes unpacked (the real archive holds "
                "9 members, 178 MiB); nothing was extracted",
            )
    return members


# errnos that blame the disk, not the archive: the download is then a DownloadError, like a network failure
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM, errno.EMFILE, errno.ENFILE}


def _unpack(archive_path: Path, into: Path, url: str) -> None:
    """Unpack the archive downloaded from ``url`` into ``into``; every member is checked first."""
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            members = _checked_members(archive, url)
            if hasattr(tarfile, "data_filter"):
                archive.extractall(into, members=members, filter="data")
            else:  # pragma: no cover - Pythons without extraction filters; members checked above
                archive.extractall(into, members=members)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
            raise DownloadError(f"cannot unpack the archive from {url} into {str(into)!r}: {exc}") from None
        raise UnreadableFileError(url, None, f"the archive cannot be unpacked ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------------------------------
# the data sets
# --------------------------------------------------------------------------------------------------


def download_cifar10(
    dest: Any = None,
    *,
    base_url: str | None = None,
    force: bool = False,
    timeout: float = _TIMEOUT,
    progress: bool | None = None,
) -> Path:
    """Download, verify and unpack CIFAR-10 (python version); return its ``cifar-10-batches-py`` folder.

    ``dest`` is the folder that will hold ``cifar-10-batches-py`` (default ``data_home()``). When that
    folder already holds all six batches nothing is downloaded (unless ``force=True``). The archive
    (163 MB) is fetched by pooch and checked against the published md5 before it is opened, unpacked
    into a temporary folder, and renamed into place; it is deleted afterwards. ``progress``: a
    progress bar (default: when tqdm is installed). Raises ``DownloadError`` (an OSError) when the
    download fails and ``ChecksumError`` (a ValueError) when the file is corrupted, naming the URL
    and both checksums; nothing half-written is left behind. Needs pooch (``pip install steepest[data]``).
    """
    entry = REGISTRY["cifar10"]
    base = _check_base_url(base_url if base_url is not None else entry["base_url"])
    timeout = _check_options(timeout, force, progress)
    folder = _check_dest(data_home() if dest is None else as_path(dest, "dest"), "dest")
    target = folder / CIFAR_FOLDER
    expected_files = (*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH)
    if not force and all((target / name).is_file() for name in expected_files):
        return target
    _pooch("download_cifar10")
    ((name, checksum),) = entry["files"].items()
    url = _url(base, name)
    _mkdir(folder)
    tmpdir = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    try:
        into = tmpdir / "unpacked"  # apart from the archive: a member of the archive's name must not overwrite it
        _unpack(fetch(url, tmpdir, name, checksum, timeout=timeout, progress=progress), into, url)
        unpacked = into / CIFAR_FOLDER
        absent = [n for n in expected_files if not (unpacked / n).is_file()]
        if absent:
            member = f"{CIFAR_FOLDER}/{absent[0]}"
            raise MissingFieldError(url, member, f"the archive does not hold {member}; nothing was installed")
        if target.exists():  # force=True or an incomplete old folder: swap it out, then delete it
            old = Path(tempfile.mkdtemp(prefix=".old-", dir=folder))
            os.replace(target, old / CIFAR_FOLDER)
            os.replace(unpacked, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(unpacked, target)
        fsync_folder(str(folder))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return target


def download_mnist(
    dest: Any = None,
    *,
    base_url: str | None = None,
    kinds: tuple[str, ...] = ("train", "t10k"),
    force: bool = False,
    timeout: float = _TIMEOUT,
    progress: bool | None = None,
) -> Path:
    """Download and verify the MNIST IDX files (gzip, as published); return the folder holding them.

    ``dest`` defaults to ``data_home() / "mnist"``; ``kinds`` picks "train" and/or "t10k". A file
    already there whose md5 matches is kept (nothing downloaded); a file that does not match is
    downloaded again, as is every file with ``force=True``. Each file is verified by pooch before it
    is moved into place. Errors as for ``download_cifar10``.
    """
    entry = REGISTRY["mnist"]
    if isinstance(kinds, str):
        kinds = (kinds,)
    if not isinstance(kinds, (tuple, list)) or not kinds:
        raise TypeError(f"kinds must be 'train', 't10k' or a tuple of them; got {kinds!r}")
    for kind in kinds:
        if kind not in ("train", "t10k"):
            raise ValueError(f"kinds must hold 'train' and/or 't10k'; got {kind!r}")
    base = _check_base_url(base_url if base_url is not None else entry["base_url"])
    timeout = _check_options(timeout, force, progress)
    folder = _check_dest(data_home() / "mnist" if dest is None else as_path(dest, "dest"), "dest")
    _pooch("download_mnist")
    _mkdir(folder)
    for name, checksum in entry["files"].items():
        if name.split("-")[0] not in kinds:
            continue
        get = _fresh if force else fetch
        get(_url(base, name), folder, name, checksum, timeout=timeout, progress=progress)
    fsync_folder(str(folder))
    return folder
