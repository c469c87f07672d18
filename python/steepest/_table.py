"""Plain-text tables: every report and result in steepest prints through here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def fmt(value: Any) -> str:
    """A compact, readable cell: floats in %g with 4-6 significant digits, the rest as str."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else ("yes" if value else "no")
    if isinstance(value, float):
        if value == 0.0:
            return "0"
        if 1e-3 <= abs(value) < 1e6:
            return f"{value:.6g}"
        return f"{value:.3e}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    """Columns aligned (numbers right, text left), a rule under the header."""
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    numeric = [
        all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in rows) if rows else False
        for i in range(len(headers))
    ]

    def line(values):
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out.append(line(list(headers)))
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def key_values(pairs: Sequence[tuple[str, Any]], title: str | None = None) -> str:
    """A two-column 'name  value' block."""
    width = max(len(k) for k, _ in pairs)
    out = [title] if title else []
    out.extend(f"{k.ljust(width)}  {fmt(v)}" for k, v in pairs)
    return "\n".join(out)
