"""The one place inputs are checked, identically for every backend, before any work starts.

Wrong kind of object or dtype raises ``TypeError``; the right kind with a bad shape, value or range
raises ``ValueError``. Messages name the argument, what was expected and what was received.
Nothing here modifies its inputs; arrays are returned as they are whenever the kernels can read them
in place (a copy is made only for strides no kernel can read, and that is documented).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype: Any) -> np.dtype:
    """A dtype argument that must name float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dt}")
    return dt


def describe(obj: Any) -> str:
    """What ``obj`` is, for the "got ..." part of a message: its type, and for arrays the dtype and shape."""
    if isinstance(obj, np.ndarray):
        return f"{type(obj).__name__} of dtype {obj.dtype} and shape {obj.shape}"
    return type(obj).__name__


def ndarray(a: Any, name: str, what: str) -> np.ndarray:
    """A plain numpy.ndarray (or memmap) in native byte order, of any dtype and shape (the caller checks those).

    Refuses lists, matrices, masked and sparse arrays and None; ``what`` says what ``a`` should hold, for the message.
    """
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a plain numpy.ndarray of {what}; got a masked array (use .filled() or .data)")
    if isinstance(a, np.matrix):
        raise TypeError(f"{name} must be a plain numpy.ndarray of {what}; got numpy.matrix (use np.asarray({name}))")
    if not isinstance(a, np.ndarray) or type(a) is not np.ndarray and not isinstance(a, np.memmap):
        hint = " (sparse matrices are not supported; use .toarray())" if hasattr(a, "tocsr") else ""
        if isinstance(a, (list, tuple)):
            hint = f" (convert it with np.asarray({name}, dtype=np.float64))" if what.startswith("float") else ""
        raise TypeError(f"{name} must be a numpy.ndarray of {what}; got {describe(a)}{hint}")
    if not a.dtype.isnative:
        raise TypeError(
            f"{name} must be in native byte order; got dtype {a.dtype.str} "
            f"(use {name}.astype({name}.dtype.newbyteorder('=')))"
        )
    return a


def array_of_dtype(a: Any, name: str, dtype: np.dtype, *, fix: Callable[[np.dtype], str] | None = None) -> np.ndarray:
    """A plain ndarray of exactly ``dtype``, of any shape (the caller checks it).

    The TypeError for another dtype ends with a remedy: ``fix(got)`` when given, else a cast to ``dtype``.
    """
    a = ndarray(a, name, f"dtype {dtype}")
    if a.dtype != dtype:
        remedy = fix(a.dtype) if fix is not None else f"cast it with {name}.astype(np.{dtype})"
        raise TypeError(f"{name} must have dtype {dtype}; got {a.dtype} ({remedy})")
    return a


def _float_remedy(dtype: np.dtype, name: str) -> str:
    """How to make a float array of ``name``: pixels stored as uint8 are scaled as well as cast."""
    if dtype == np.uint8:
        return f"uint8 pixels: divide by 255, e.g. {name}.astype(np.float64) / 255"
    return f"cast it with {name}.astype(np.float64)"


def float_array(a: Any, name: str, ndim: int, *, check_finite: bool = True) -> np.ndarray:
    """A float32 or float64 array with ``ndim`` dimensions, no empty axis, finite entries."""
    a = ndarray(a, name, "float32 or float64")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64; got {a.dtype} ({_float_remedy(a.dtype, name)})")
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {a.shape}")
    if 0 in a.shape:
        raise ValueError(f"{name} must not be empty; got shape {a.shape}")
    if not a.flags.aligned:  # a view at an odd byte offset: no kernel reads it in place
        raise ValueError(
            f"{name} must be aligned to its {a.dtype.itemsize}-byte items; got a misaligned view "
            f"(use np.require({name}, requirements='A'), which copies it once)"
        )
    if check_finite:
        finite(a, name)
    return a


def all_finite(a: np.ndarray) -> bool:
    """True when every entry of ``a`` is finite. One cheap pass (a float64 sum) when all is well."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(a, axis=None, dtype=np.float64)
    return math.isfinite(total) or bool(np.isfinite(a).all())  # the sum of finite entries can overflow


def finite(a: np.ndarray, name: str) -> None:
    """Raise ValueError naming the first non-finite entry. One cheap pass when all is well."""
    if all_finite(a):
        return
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        where = tuple(int(i) for i in bad[0])
        entries = "entry" if len(bad) == 1 else "entries"
        raise ValueError(f"{name} must be finite; {name}{list(where)} = {a[where]} ({len(bad)} non-finite {entries})")


def weights_and_data(W: Any, X: Any, *, data_finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """W (C, D) and X (D, N) of one float dtype; X kept in place when C- or F-contiguous.

    W (small) is always checked for finiteness; X only with ``data_finite``. Callers that skip it
    must detect a non-finite X from their kernel's result and then call :func:`finite` (no extra pass).
    """
    W = float_array(W, "W", 2)
    X = float_array(X, "X", 2, check_finite=data_finite)
    if W.dtype != X.dtype:
        raise TypeError(f"W and X must share a dtype; got W {W.dtype} and X {X.dtype} (cast one with .astype)")
    weight_columns(W, X.shape)
    if W.shape[0] < 2:
        raise ValueError(f"W must have at least 2 rows (classes); got shape {W.shape}")
    return weights(W), data(X)


def weight_columns(W: np.ndarray, X_shape: tuple, name: str = "W") -> None:
    """``W.shape[1]`` must equal D = ``X_shape[0]``; the message names the fix when W or X is transposed."""
    D = X_shape[0]
    if W.shape[1] == D:
        return
    if W.shape[0] == D:
        hint = f" did you pass {name} as (D, C)? use {name}.T"
    elif W.shape[1] == X_shape[1]:
        hint = " did you pass X as (N, D)? use X.T"
    else:
        hint = ""
    raise ValueError(f"{name}.shape[1] must equal X.shape[0] (D); got {name} {W.shape} and X {tuple(X_shape)}.{hint}")


def weights(W: np.ndarray) -> np.ndarray:
    """The kernels read W as C-contiguous; W is small, so a copy of another layout is cheap."""
    return W if W.flags.c_contiguous else np.ascontiguousarray(W)


def data(X: np.ndarray) -> np.ndarray:
    """X is read in place in either memory order; any other strides are copied once (documented)."""
    if X.flags.c_contiguous or X.flags.f_contiguous:
        return X
    return np.ascontiguousarray(X)


def labels(y: Any, n: int, c: int | None, name: str = "y") -> np.ndarray:
    """Integer labels of shape (n,) with values in [0, c) (any value >= 0 when ``c`` is None), as contiguous int64."""
    y = ndarray(y, name, "integer labels")
    if y.dtype == np.bool_ or y.dtype.kind not in "iu":
        fix = f" (use {name}.astype(np.int64))" if y.dtype.kind in "bf" else ""
        raise TypeError(f"{name} must have an integer dtype; got {y.dtype}{fix}")
    if y.dtype.itemsize > 8 or y.dtype == np.uint64:
        raise TypeError(f"{name} must fit in int64; got dtype {y.dtype}")
    if y.ndim != 1:
        hint = " (use y.ravel())" if y.ndim == 2 and 1 in y.shape else ""
        raise ValueError(f"{name} must be 1-D of shape (N,); got shape {y.shape}{hint}")
    if y.shape[0] != n:
        raise ValueError(f"{name} must have one label per column of X: length {n}; got length {y.shape[0]}")
    if n:
        bad = np.flatnonzero((y < 0) if c is None else (y < 0) | (y >= c))
        if len(bad):
            i = int(bad[0])
            expected = "labels >= 0" if c is None else f"labels in [0, {c})"
            raise ValueError(f"{name} must hold {expected}; {name}[{i}] = {int(y[i])} ({len(bad)} out of range)")
    return np.require(y, dtype=np.int64, requirements=["C", "A"])  # a copy only when needed (y is small)


def indices(idx: Any, n: int, name: str = "idx") -> np.ndarray:
    """Example indices in [0, n) as contiguous int64 (repeats allowed)."""
    if isinstance(idx, (list, tuple, range)):
        idx = np.asarray(idx)
    idx = ndarray(idx, name, "integer indices")
    if idx.dtype == np.bool_ or idx.dtype.kind not in "iu":
        raise TypeError(f"{name} must have an integer dtype; got {idx.dtype}")
    if idx.ndim != 1 or idx.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of indices; got shape {idx.shape}")
    bad = np.flatnonzero((idx < 0) | (idx >= n))
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{name} must hold indices in [0, {n}); {name}[{i}] = {int(idx[i])}")
    return np.require(idx, dtype=np.int64, requirements=["C", "A"])


def real(
    value: Any, name: str, *, low: float | None = None, low_open: bool = False, high: float | None = None
) -> float:
    """A finite real number (bool refused) within the given bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}; got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}; got {value}")
    return value


def returned_real(value: Any, what: str) -> float:
    """What a user's function returned, as a float; TypeError naming the function when it is no real number
    (NaN and inf pass: the caller decides what they mean)."""
    if isinstance(value, (str, bytes, bool, np.bool_)) or np.ndim(value) != 0:
        raise TypeError(f"{what} must return a real number; it returned {describe(value)}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must return a real number; it returned {describe(value)}") from None


def real_or_none(
    value: Any, name: str, *, low: float | None = None, low_open: bool = False, high: float | None = None
) -> float | None:
    """None, or a real number checked by :func:`real`."""
    return None if value is None else real(value, name, low=low, low_open=low_open, high=high)


def reg(value: Any) -> float:
    return real(value, "reg", low=0.0)


def delta(value: Any) -> float:
    return real(value, "delta", low=0.0, low_open=True)


def positive(value: Any, name: str) -> float:
    return real(value, name, low=0.0, low_open=True)


def integer(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An int (bool refused, NumPy integers accepted) within the given bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}; got {value}")
    return value


def boolean(value: Any, name: str) -> bool:
    """True or False (NumPy's bool accepted; 0 and 1 refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__}")
    return bool(value)


def _seed(seed: Any, name: str) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an int or a numpy.random.Generator; got {type(seed).__name__}")
    return integer(seed, name, low=0)


def rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A NumPy Generator from an int seed >= 0, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(_seed(seed, name))


def seed_int(seed: Any, name: str = "seed") -> int:
    """An int seed from an int >= 0 (returned), a Generator (one draw from it) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    return _seed(seed, name)


def backend(value: Any, name: str = "backend") -> str | None:
    """A ``backend=`` argument: None, or the name of a backend that can run here (returned as given)."""
    if value is not None:
        from . import _backends  # imported here: _backends is independent of this module

        _backends.check_name(value, name)
        _backends.resolve(value)  # refuses a backend that cannot run here
    return value


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {options}; got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def real_array(value: Any, name: str) -> np.ndarray:
    """Real numbers (a number, a sequence or an ndarray of int or float) as a float64 array.

    Refuses strings, None, complex, bool and object arrays by name instead of NumPy's
    "could not convert string to float".
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be real numbers (a number or an array); got {type(value).__name__}")
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a plain numpy.ndarray of real numbers; got a masked array (use .filled())")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # a ragged sequence
        raise TypeError(f"{name} must be real numbers of one shape; got a ragged {type(value).__name__}") from None
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float); got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def path(value: Any, name: str) -> str:
    """A file-system path: a str or an os.PathLike, returned as a str."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got {type(value).__name__}")
    return os.fspath(value)


def _nearest_existing(folder: str) -> str:
    """``folder`` or its closest ancestor that exists."""
    folder = os.path.abspath(folder)
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def creatable_dir(value: Any, name: str) -> str:
    """A folder that exists and can be written, or could be created; nothing is created (see :func:`writable_dir`)."""
    folder = path(value, name)
    if not folder:
        raise ValueError(f"{name} must name a folder; got an empty path")
    base = _nearest_existing(folder)
    if not os.path.isdir(base):
        raise ValueError(f"{name} {folder!r} cannot be a folder: {base!r} is a file")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {folder!r} is not writable ({base!r} is not writable)")
    return folder


def file_path(value: Any, name: str) -> str:
    """A path a file can be written to: not empty, not a folder, its folder existing or creatable.

    Nothing is created or written (the caller writes once every argument passed).
    """
    target = path(value, name)
    if not target:
        raise ValueError(f"{name} must be a file path; got an empty path")
    if os.path.isdir(target) or target.endswith((os.sep, "/")) or os.path.basename(target) in (".", ".."):
        raise ValueError(f"{name} must be a file path; got {target!r}, a folder (add a file name)")
    creatable_dir(os.path.dirname(os.path.abspath(target)), f"{name} folder")
    return target


def writable_dir(value: Any, name: str) -> str:
    """A folder that exists (or can be created) and can be written; it is created when missing."""
    folder = creatable_dir(value, name)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{name} {folder!r} cannot be created: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{name} {folder!r} is not writable")
    return folder
