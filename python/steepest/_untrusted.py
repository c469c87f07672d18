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

For the readers of JSON documents (checkpoints' metadata, saved networks): :class:`Fields` reads typed fields
and raises these errors, :func:`parse_json` parses, and :func:`restore_generator` rebuilds a NumPy generator
from a saved state with every part checked (nothing looked up by a name from the file).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np


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


def jsonable(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars made plain lists, ints and floats (for ``json.dumps``)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


# --- typed fields of an untrusted document ------------------------------------------------------


def shown(value: Any) -> str:
    """A short description of a JSON value, for the "got ..." part of a message."""
    if isinstance(value, (dict, list)):
        return f"a {'JSON object' if isinstance(value, dict) else 'list'} of {len(value)} items"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def bounds(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"in [{low}, {high}]"
    return f">= {low}" if low is not None else f"<= {high}"


class Fields:
    """Typed reads of a parsed JSON document's fields: each refusal names the file and the field.

    ``kind`` names the format, for the message of a missing field ("every steepest checkpoint has it").
    """

    def __init__(self, path: str, kind: str) -> None:
        self.path, self.kind = path, kind

    def get(self, doc: dict, key: str, where: str = "") -> Any:
        if key not in doc:
            raise MissingFieldError(self.path, where + key, f"every {self.kind} has it")
        return doc[key]

    def mapping(self, value: Any, field: str, keys: tuple[str, ...] | None = None) -> dict:
        """A JSON object; with ``keys``, exactly those (a missing one first, then an unknown one)."""
        if not isinstance(value, dict):
            raise FieldTypeError(self.path, field, f"expected a JSON object; got {shown(value)}")
        if keys is not None:
            for key in keys:
                self.get(value, key, f"{field}." if field else "")
            self.only(value, keys, field)
        return value

    def only(self, names: Any, known: Any, field: str) -> None:
        """Refuse a field the format does not have (a file of another version or a tampered one)."""
        unknown = sorted(set(names) - set(known), key=str)
        if unknown:
            where = f"{field}.{unknown[0]}" if field else str(unknown[0])
            raise UnreadableFileError(self.path, where, f"a {self.kind} has no such field")

    def listing(self, value: Any, field: str, length: int | None = None, items: str = "items") -> list:
        if not isinstance(value, list):
            raise FieldTypeError(self.path, field, f"expected a list; got {shown(value)}")
        if length is not None and len(value) != length:
            raise FieldTypeError(self.path, field, f"expected a list of {length} {items}; got {len(value)}")
        return value

    def integer(self, value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
        """An int (never a bool or a float) in [low, high]."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise FieldTypeError(self.path, field, f"expected an int; got {shown(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise FieldRangeError(self.path, field, f"must be {bounds(low, high)}; got {shown(value)}")
        return value

    def number(self, value: Any, field: str) -> float:
        """A finite int or float (never a bool), as float."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise FieldTypeError(self.path, field, f"expected a number; got {shown(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = float("inf")
        if not np.isfinite(number):
            raise FieldRangeError(self.path, field, f"must be finite; got {shown(value)}")
        return number

    def choice(self, value: Any, field: str, options: Any, hint: str = "") -> str:
        if not isinstance(value, str):
            raise FieldTypeError(self.path, field, f"expected a str, one of {list(options)}; got {shown(value)}{hint}")
        if value not in options:
            raise FieldRangeError(self.path, field, f"must be one of {list(options)}; got {value!r}{hint}")
        return value


def parse_json(path: str, raw: bytes, field: str | None, what: str) -> Any:
    """The JSON value in ``raw``; UnreadableFileError when it is not UTF-8 JSON (or nested too deeply)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise UnreadableFileError(path, field, f"not {what} ({detail})") from None


# --- generator states --------------------------------------------------------------------------

_PCG = {"state": {"state": 2**128, "inc": 2**128}, "has_uint32": 2, "uinteger": 2**32}
# The state each NumPy bit generator's ``state`` property takes: an int below the given bound, or
# (dtype, length) for an array. Bounds matter: MT19937's ``pos`` and Philox's ``buffer_pos`` index
# fixed-size buffers unchecked, so a larger one reads out of bounds at the next draw.
_STATES: dict[str, dict] = {
    "PCG64": _PCG,
    "PCG64DXSM": _PCG,
    "MT19937": {"state": {"key": ("<u4", 624), "pos": 625}},
    "Philox": {
        "state": {"counter": ("<u8", 4), "key": ("<u8", 2)},
        "buffer": ("<u8", 4),
        "buffer_pos": 5,
        "has_uint32": 2,
        "uinteger": 2**32,
    },
    "SFC64": {"state": {"state": ("<u8", 4)}, "has_uint32": 2, "uinteger": 2**32},
}


def _state_part(fields: Fields, spec: Any, value: Any, field: str) -> Any:
    if isinstance(spec, dict):
        value = fields.mapping(value, field, tuple(spec))
        return {key: _state_part(fields, sub, value[key], f"{field}.{key}") for key, sub in spec.items()}
    if isinstance(spec, int):
        return _below(fields, value, field, spec)
    dtype, length = spec
    if isinstance(value, dict):  # earlier checkpoints wrote arrays as {"__ndarray__": [...], "dtype": ...}
        fields.mapping(value, field, ("__ndarray__", "dtype"))
        if value["dtype"] != dtype:
            raise FieldTypeError(fields.path, f"{field}.dtype", f"expected {dtype!r}; got {shown(value['dtype'])}")
        value = value["__ndarray__"]
    items = fields.listing(value, field, length)
    bound = 2 ** (8 * np.dtype(dtype).itemsize)
    return np.array([_below(fields, v, f"{field}[{i}]", bound) for i, v in enumerate(items)], dtype=dtype)


def _below(fields: Fields, value: Any, field: str, bound: int) -> int:
    """An int in [0, bound); a word-sized bound is written 2**k in the message."""
    value = fields.integer(value, field)
    if not 0 <= value < bound:
        words = bound > 2**16 and bound.bit_count() == 1
        raise FieldRangeError(
            fields.path,
            field,
            f"must be in [0, {f'2**{bound.bit_length() - 1}' if words else bound}); got {shown(value)}",
        )
    return value


def generator_state(rng: np.random.Generator) -> dict:
    """The JSON form of ``rng``'s bit-generator state (arrays as lists), which :func:`restore_generator` reads."""
    return jsonable(rng.bit_generator.state)


def restore_generator(fields: Fields, value: Any, field: str) -> np.random.Generator:
    """A Generator in the saved state ``value`` (a NumPy bit generator's ``state`` dict), every part checked
    before it reaches the generator: nothing is looked up by a name from the file, no global state is touched."""
    value = fields.mapping(value, field)
    name = fields.choice(fields.get(value, "bit_generator", f"{field}."), f"{field}.bit_generator", _STATES)
    spec = _STATES[name]
    fields.only(value, {"bit_generator", *spec}, field)
    state = _state_part(fields, spec, {k: v for k, v in value.items() if k != "bit_generator"}, field)
    bit_generator = getattr(np.random, name)(0)
    try:
        bit_generator.state = dict(state, bit_generator=name)
    except (TypeError, ValueError, OverflowError) as exc:  # a combination the checks above let through
        raise FieldRangeError(fields.path, field, f"not a valid {name} state ({exc})") from None
    return np.random.Generator(bit_generator)
