"""The Numba loops that carry a pass must compile to SIMD code. Numba gives up vectorizing silently: an
index running from a variable start (``for d in range(d0, d1)``) keeps its negative-index wraparound in
the loop, and the loop stays scalar at a third of the speed, with every result still right. So the
contract tests cannot see it; these tests read the machine code instead (x86-64 only: there packed
double multiplies are ``mulpd``, on any vector width)."""

from __future__ import annotations

import platform
import re

import numpy as np
import pytest

numba = pytest.importorskip("numba")
tiles = pytest.importorskip("steepest._backends.numba.tiles")

pytestmark = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="reads x86-64 machine code"
)

PACKED_MULTIPLY = re.compile(r"\bv?mulpd\b")


def machine_code(function, *args) -> str:
    """``function``'s assembly for these arguments, compiled afresh (Numba does not show cached code)."""
    fresh = numba.njit(nogil=True)(function.py_func)
    fresh(*args)
    return "\n".join(fresh.inspect_asm().values())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_update_loop_is_vectorized(dtype):
    """``add_rows8`` is where the gradient update spends its time (``rows_grad`` hands it 0-based slices)."""
    g = np.zeros(300)
    rows = [np.ones(300, dtype) for _ in range(8)]
    assert PACKED_MULTIPLY.search(machine_code(tiles.add_rows8, g, np.ones(8), *rows))


def test_the_check_sees_a_scalar_loop():
    """The check itself: the same update with the index running from a variable start compiles to scalar
    multiplies only (if a later Numba vectorizes it, this fails, and the module note can be relaxed)."""

    def from_start(g, a, r, d0, d1):
        for d in range(d0, d1):
            g[d] += a * r[d]

    code = machine_code(numba.njit(from_start), np.zeros(300), 2.0, np.ones(300), 1, 300)
    assert not PACKED_MULTIPLY.search(code)
    assert re.search(r"\bv?mulsd\b", code)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_score_dot_products_are_vectorized(dtype):
    """``dot20`` carries every score (``rows_scores``): with reassociation allowed on it alone, its twenty
    sums must become packed multiply-adds (``vfmadd...pd``) or packed multiplies."""
    fresh = numba.njit(nogil=True, fastmath=tiles._DOT_MATH)(tiles.dot20.py_func)
    rows = [np.ones(300) for _ in range(5)]
    examples = [np.ones(300, dtype) for _ in range(4)]
    fresh(*rows, *examples)
    code = "\n".join(fresh.inspect_asm().values())
    assert re.search(r"\bvfmadd\d+pd\b", code) or PACKED_MULTIPLY.search(code)
