"""Backend registry, selection and thread count.

Three backends implement one kernel interface: ``cpp`` (the compiled ``steepest._core``, threaded),
``numba`` and ``numpy``. ``steepest.reference`` is never dispatched to: it is the ground truth the
backends are tested and measured against.

Selection, strongest first: a ``backend=`` argument, ``with use_backend(name):``,
``set_backend(name)``, the environment variable ``STEEPEST_BACKEND``; ``"auto"`` picks cpp, then
numba, then numpy. ``set_num_threads(n)`` / ``STEEPEST_NUM_THREADS`` set the thread count
(``-1`` = all cores).

The kernel interface every backend module implements is written down once, in
``steepest._backends.contract`` (``Kernels``).
"""

from __future__ import annotations

import contextlib
import importlib
import numbers
import os
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import cast

import numpy as np

from .contract import Kernels

NAMES = ("cpp", "numba", "numpy")
_MODULES = {"cpp": "steepest._core", "numba": "steepest._backends.numba.kernels", "numpy": "steepest._backends.numpy"}

_state = threading.local()
_global = {"backend": None, "threads": None}
_loaded: dict[str, ModuleType] = {}
_failures: dict[str, str] = {}


def _load(name: str) -> ModuleType | None:
    """Import a backend once; remember why it failed so the error can say it."""
    if name in _loaded:
        return _loaded[name]
    if name in _failures:
        return None
    try:
        module = importlib.import_module(_MODULES[name])
    except ImportError as exc:  # the extension was not built, or numba is missing
        _failures[name] = str(exc)
        return None
    _loaded[name] = module
    return module


def unavailable() -> dict[str, str]:
    """Why each backend that cannot run here failed to load (name -> the import error)."""
    backends()
    return dict(_failures)


def backends() -> list[str]:
    """The names of the backends that can run here, fastest first."""
    return [name for name in NAMES if _load(name) is not None]


def _unavailable_message(name: str) -> str:
    why = _failures.get(name, "")
    if name == "cpp":
        hint = (
            "the compiled extension steepest._core is not built; install the package with "
            "`pip install .` (or `pip install --no-build-isolation -ve .` for development), which "
            "needs a C++17 compiler and CMake"
        )
    elif name == "numba":
        hint = "numba is not importable; install it with `pip install numba`"
    else:
        hint = "numpy is not importable"
    return f"backend {name!r} is not available: {hint} ({why}). Available: {backends()}"


def check_name(name: object, argname: str = "backend") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{argname} must be a str, one of {('auto',) + NAMES}; got {type(name).__name__}")
    key = name.strip().lower()
    if key not in ("auto",) + NAMES:
        raise ValueError(f"{argname} must be one of {('auto',) + NAMES}; got {name!r}")
    return key


def resolve(backend: str | None = None) -> str:
    """The backend name to use for a call: argument, context, global, environment, auto."""
    for candidate, where in (
        (backend, "backend"),
        (getattr(_state, "backend", None), "use_backend"),
        (_global["backend"], "set_backend"),
        (os.environ.get("STEEPEST_BACKEND") or None, "STEEPEST_BACKEND"),
    ):
        if candidate is None:
            continue
        name = check_name(candidate, where)
        if name == "auto":
            break
        if _load(name) is None:
            raise ValueError(_unavailable_message(name))
        return name
    for name in NAMES:
        if _load(name) is not None:
            return name
    raise RuntimeError("no backend can run: numpy itself failed to import")  # pragma: no cover


def get(backend: str | None = None) -> Kernels:
    """The kernel module of the resolved backend."""
    # an explicit, already loaded name wins outright: no resolution on every call of a hot loop
    if isinstance(backend, str) and backend in _loaded:
        return cast(Kernels, _loaded[backend])
    return cast(Kernels, _loaded[resolve(backend)])


def set_backend(name: str | None) -> None:
    """Set the process-wide default backend (``None`` or ``"auto"`` to go back to automatic)."""
    if name is not None:
        key = check_name(name)
        if key != "auto" and _load(key) is None:
            raise ValueError(_unavailable_message(key))
    _global["backend"] = name


def get_backend() -> str:
    """The backend a call without ``backend=`` would use now."""
    return resolve(None)


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Use backend ``name`` inside a ``with`` block (this thread only); restored on exit."""
    key = check_name(name)
    if key != "auto" and _load(key) is None:
        raise ValueError(_unavailable_message(key))
    previous = getattr(_state, "backend", None)
    _state.backend = key
    try:
        yield resolve(None)
    finally:
        _state.backend = previous


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_threads(n: object, argname: str = "n_threads") -> int:
    """Validate a thread count: a positive int, or -1 for all cores (0 and other negatives refused)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{argname} must be an int (a positive count, or -1 for all cores); got {type(n).__name__}")
    n = int(n)
    if n == -1:
        return cpu_count()
    if n < 1:
        raise ValueError(f"{argname} must be a positive int or -1 for all cores; got {n}")
    return n


def set_num_threads(n: int) -> None:
    """Set the number of threads the C++ pool and Numba use (``-1`` = all cores)."""
    _global["threads"] = check_threads(n)


def get_num_threads() -> int:
    """The thread count kernels run with: ``set_num_threads``, else ``STEEPEST_NUM_THREADS``, else all cores."""
    if _global["threads"] is not None:
        return _global["threads"]
    env = os.environ.get("STEEPEST_NUM_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"STEEPEST_NUM_THREADS must be an int; got {env!r}") from None
        return check_threads(value, "STEEPEST_NUM_THREADS")
    return cpu_count()


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[int]:
    """Run a block with ``n`` threads; the previous setting is restored on exit."""
    previous = _global["threads"]
    _global["threads"] = check_threads(n)
    try:
        yield _global["threads"]
    finally:
        _global["threads"] = previous
