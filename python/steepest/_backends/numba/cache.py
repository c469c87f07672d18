"""Numba's on-disk cache, invalidated by a change to any of this backend's source files.

Numba checks a cached kernel against its own source file only, not against the files of the functions it
calls and compiles into it: after an edit to ``tiles.py`` alone, the cached kernels of ``kernels.py`` and
``fd.py`` would go on running the old building blocks, and return the old results (an editable install
updated by a change to one file meets exactly that). Every kernel of this backend is therefore stamped with
one hash of all the backend's sources. Numba has no public hook for this: the cache locators below extend
Numba's own, and if a later Numba renames them, :func:`install` leaves Numba's behaviour as it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sources_digest(folder: Path = HERE) -> str:
    """One hash of the names and contents of every ``.py`` file in ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def install() -> bool:
    """Make every cached kernel defined in this folder carry :func:`sources_digest` as its source stamp
    (wherever Numba keeps its cache: next to the sources, in the user's cache folder or in
    ``NUMBA_CACHE_DIR``). Call before the kernel modules are imported. Returns whether it could."""
    try:
        from numba.core import caching

        bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)
        locators = caching.CacheImpl._locator_classes
    except (ImportError, AttributeError):
        return False
    stamp = sources_digest()

    def whole_backend(base: type) -> type:
        class Locator(base):
            @classmethod
            def from_function(cls, py_func, py_file):
                if Path(py_file).resolve().parent != HERE:
                    return None  # not a kernel of this backend: Numba's own locators take it
                return super().from_function(py_func, py_file)

            def get_source_stamp(self):
                return stamp

        Locator.__name__ = Locator.__qualname__ = f"SteepestBackend{base.__name__}"
        return Locator

    ours = [whole_backend(base) for base in bases]
    locators[:] = ours + [c for c in locators if not c.__name__.startswith("SteepestBackend")]
    return True
