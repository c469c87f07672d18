"""The optional dependencies, imported only when a feature asks for them.

``require`` imports a module of an extra (``pyproject.toml``: ``plot`` matplotlib, ``progress`` tqdm, ``data``
scikit-learn) or raises ``ImportError`` saying which feature needs what and how to install it;
``progress_bar`` is the one tqdm bar of the library's loops. Importing this module imports none of them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def require(module: str, extra: str, feature: str, *, package: str | None = None) -> ModuleType:
    """Import and return ``module``, or raise ImportError: "<feature> needs <package>: pip install steepest[<extra>]".

    ``package`` is the name to install when it differs from the module's (scikit-learn for sklearn); it defaults to
    the module's top-level name. The ImportError is chained to the original one, which says what failed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        needed = package or module.partition(".")[0]
        raise ImportError(f"{feature} needs {needed}: pip install steepest[{extra}]") from exc


class _NoBar:
    """What ``progress_bar`` returns when no bar is wanted: the same methods, doing nothing (``write`` prints)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **values: Any) -> None:
        pass

    def write(self, line: str) -> None:
        print(line)

    def close(self) -> None:
        pass


def progress_bar(enabled: bool, total: int, desc: str | None = None, *, unit: str = "it", initial: int = 0) -> Any:
    """A tqdm bar (``tqdm.auto``, imported only now) over ``total`` steps when ``enabled``, else a stand-in.

    Both have ``update(n)``, ``set_postfix(**values)``, ``write(line)`` (above the bar; ``print`` without one) and
    ``close()``. Raises ImportError naming ``pip install steepest[progress]`` when tqdm is missing.
    """
    if not enabled:
        return _NoBar()
    tqdm = require("tqdm.auto", "progress", "progress=True", package="tqdm").tqdm
    return tqdm(total=total, desc=desc, unit=unit, initial=initial)
