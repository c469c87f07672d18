"""Checksummed downloads for ``steepest.datasets``, through pooch: one registry, verified before use.

``REGISTRY`` is the one place where the URLs and the published checksums live. Each file is fetched
by ``pooch.retrieve`` (the ``data`` extra: ``pip install steepest[data]``; pooch is imported only by
the download functions), which streams it into a temporary file next to its destination, checks it
against the published checksum and only then moves it into place; a file already cached whose
checksum matches is not downloaded again. A progress bar is shown when tqdm is installed.

Files are cached under ``data_home()``: ``$STEEPEST_DATA`` when set, else ``~/.cache/steepest``.
CIFAR-10's archive is checked before it is opened, unpacked into a temporary folder (members
checked: no absolute paths, no ``..``, no links or devices) that is renamed into place when
complete, then deleted. A failed, interrupted or corrupted download leaves nothing behind but what
was there before. Arguments (URL scheme, timeout, force, kinds) are checked before any folder is
created. No test needs the internet: ``base_url=`` points a download at any server, e.g. a local
``http.server`` serving small files in the real formats.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import _optional
from .._atomic import fsync_folder
from .formats import CIFAR_FOLDER, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, as_path

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
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"base_url must be an http, https or file URL; got {base_url!r}")
    return base_url


def _url(base_url: str, name: str) -> str:
    return base_url.rstrip("/") + "/" + urllib.parse.quote(name)


def _check_options(timeout: Any, force: Any, progress: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds; got {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive, finite number of seconds; got {timeout!r}")
    if not isinstance(force, bool):
        raise TypeError(f"force must be True or False; got {type(force).__name__}")
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None; got {type(progress).__name__}")
    if progress:
        _optional.require("tqdm", "progress", "progress=True")
    return float(timeout)


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

    if url.startswith("file:"):
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
    folder = data_home() if dest is None else as_path(dest, "dest")
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
        archive_path = fetch(url, tmpdir, name, checksum, timeout=timeout, progress=progress)
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
    folder = data_home() / "mnist" if dest is None else as_path(dest, "dest")
    _pooch("download_mnist")
    _mkdir(folder)
    for name, checksum in entry["files"].items():
        if name.split("-")[0] not in kinds:
            continue
        get = _fresh if force else fetch
        get(_url(base, name), folder, name, checksum, timeout=timeout, progress=progress)
    fsync_folder(str(folder))
    return folder
