"""Every file steepest reads is untrusted: one exception type per kind of fault, each naming the file and the field.

Checkpoints, saved networks, CIFAR-10 batches, MNIST IDX files and downloaded archives are validated completely
before any of their contents reaches a kernel or an allocation. A reader raises

- :class:`UnreadableFileError` when the bytes cannot be parsed at all (truncated, not the format, corrupted);
- :class:`MissingFieldError` when a field the format needs is absent;
- :class:`FieldTypeError` when a field has the wrong type, dtype or shape;
- :class:`FieldRangeError` when a field's values are out of range or the fields disagree with each other;
- :class:`ProblemMismatchError` when a well-formed file does not fit the problem it is used with
  (a checkpoint of another shape, dtype or data size).

All are ``ValueError`` subclasses (a bad file is a bad value passed in), so ``except ValueError`` catches them.
"""

from __future__ import annotations

import os
from typing import Any


class UntrustedFileError(ValueError):
    """A file steepest read was refused. ``path`` is the file, ``field`` the part of it at fault (or None)."""

    kind = "is not valid"

    def __init__(self, path: Any, field: str | None, detail: str) -> None:
        self.path = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
        self.field = field
        self.detail = detail
        where = f"field {field!r} of " if field else ""
        super().__init__(f"{where}{self.path!r} {self.kind}: {detail}")


class UnreadableFileError(UntrustedFileError):
    kind = "cannot be read"


class MissingFieldError(UntrustedFileError):
    kind = "is missing"


class FieldTypeError(UntrustedFileError):
    kind = "has the wrong type"


class FieldRangeError(UntrustedFileError):
    kind = "is out of range"


class ProblemMismatchError(UntrustedFileError):
    kind = "does not fit this problem"
