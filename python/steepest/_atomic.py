"""Atomic file writes: a temporary file in the same folder, fsync, os.replace, then fsync the folder.

A reader never sees a half-written file, and a crash or Ctrl-C leaves either the old file or the
new one (never a temporary file: it is removed on any error). Used by checkpoints, saved networks,
figures and the tour's tables.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO


def _umask() -> int:
    """The process's umask: from /proc where the platform has it (reading it there changes nothing,
    so other threads never see another umask), else by setting it and putting it back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):  # pragma: no cover - not Linux
        pass
    mask = os.umask(0o022)  # pragma: no cover
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def fsync_folder(folder: str) -> None:
    """Make a rename inside ``folder`` durable, where the platform allows opening folders."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory file descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[IO[bytes]]:
    """``with atomic_open(path) as handle: handle.write(...)``: ``path`` appears only when the block
    finishes without an error, with all its bytes on disk."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".steepest-", suffix=suffix, dir=folder)
    try:
        # mkstemp creates the file 0600; a finished file gets the permissions any program's would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(folder)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path) as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
