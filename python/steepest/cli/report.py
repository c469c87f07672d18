"""A report printed as it is made and written afterwards as one self-contained HTML page.

:class:`Report` holds numbered sections of blocks (tables, paragraphs, preformatted text, figures).
Each block is printed when it is added, in the same plain-text tables as every other report
(``steepest._table``); :meth:`Report.html` renders the same blocks as one HTML file that needs
nothing else: the figures are embedded as base64 PNG ``data:`` URIs, every table has a header row.

The figures of ``steepest tour`` are drawn here too (matplotlib, the ``plot`` extra, imported only
when a figure is drawn, through ``steepest.landscape.plots``).
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._table import fmt, table

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f3f3f3; text-align: left; } td.num { text-align: right; white-space: nowrap; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; } p.note { color: #555; font-size: 0.9em; }
nav ol { columns: 2; }
"""


@dataclass
class Section:
    number: int
    title: str
    blocks: list = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"s{self.number}"


class Report:
    """Sections of tables, text and figures: printed as they come (``echo``), then rendered as HTML."""

    def __init__(self, title: str, *, echo: bool = True) -> None:
        self.title = title
        self.echo = echo
        self.sections: list[Section] = []
        self.preamble: list = []
        self._after_heading = True

    def _add(self, block: tuple, printed: str | None) -> None:
        (self.sections[-1].blocks if self.sections else self.preamble).append(block)
        if self.echo and printed is not None:
            if block[0] in ("table", "pre") and not self._after_heading:
                print()
            print(printed)
            self._after_heading = False

    def section(self, title: str) -> None:
        section = Section(len(self.sections) + 1, title)
        self.sections.append(section)
        if self.echo:
            heading = f"{section.number}. {title}"
            print()
            print(heading)
            print("=" * len(heading))
        self._after_heading = True

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        if any(not str(h).strip() for h in headers):
            raise ValueError(f"every column needs a heading; got {list(headers)}")
        rows = [tuple(r) for r in rows]
        self._add(("table", list(headers), rows, title), table(headers, rows, title=title))

    def text(self, line: str) -> None:
        self._add(("p", line), line)

    def note(self, line: str) -> None:
        """A remark under a table (printed in parentheses)."""
        self._add(("note", line), f"({line})")

    def pre(self, text: str) -> None:
        self._add(("pre", text), text)

    def figure(self, path: str, caption: str) -> None:
        """A PNG already written at ``path``: not printed, embedded in the page."""
        self._add(("figure", path, caption), None)

    @property
    def figures(self) -> list[str]:
        return [b[1] for s in self.sections for b in s.blocks if b[0] == "figure"]

    # ----------------------------------------------------------------------------------------------

    def html(self) -> str:
        """The whole report as one HTML document (figures inlined as base64 PNG)."""
        esc = html.escape
        out = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(self.title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            f"<h1>{esc(self.title)}</h1>",
        ]
        out.extend(_block_html(b) for b in self.preamble)
        out.append("<nav><ol>")
        out.extend(f'<li><a href="#{s.anchor}">{esc(s.title)}</a></li>' for s in self.sections)
        out.append("</ol></nav>")
        for s in self.sections:
            out.append(f'<section id="{s.anchor}">')
            out.append(f"<h2>{s.number}. {esc(s.title)}</h2>")
            out.extend(_block_html(b) for b in s.blocks)
            out.append("</section>")
        out += ["</body>", "</html>", ""]
        return "\n".join(out)

    def write_html(self, path: str) -> str:
        from .._atomic import write_text

        write_text(path, self.html())
        return path


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _block_html(block: tuple) -> str:
    esc = html.escape
    kind = block[0]
    if kind == "table":
        _, headers, rows, title = block
        parts = ["<table>"]
        if title:
            parts.append(f"<caption>{esc(title.strip())}</caption>")
        parts.append("<thead><tr>" + "".join(f'<th scope="col">{esc(str(h))}</th>' for h in headers) + "</tr></thead>")
        parts.append("<tbody>")
        for row in rows:
            cells = "".join(
                f'<td class="num">{esc(fmt(v))}</td>' if _is_number(v) else f"<td>{esc(fmt(v))}</td>" for v in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
        return "\n".join(parts)
    if kind == "p":
        return f"<p>{esc(block[1])}</p>"
    if kind == "note":
        return f'<p class="note">{esc(block[1])}</p>'
    if kind == "pre":
        return f"<pre>{esc(block[1])}</pre>"
    if kind == "figure":
        _, path, caption = block
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        name = os.path.basename(path)
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption)}" title="{esc(name)}">'
            f"<figcaption>{esc(caption)} ({esc(name)})</figcaption></figure>"
        )
    raise ValueError(f"unknown block {kind!r}")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# the tour's figures (matplotlib through steepest.landscape.plots: no pyplot, Agg canvas, atomic PNG)
# --------------------------------------------------------------------------------------------------


def plot_loss_curves(curves: dict, data_name: str, path: str) -> str:
    from ..landscape.plots import new_figure, save

    fig, (ax,) = new_figure(1, (7.0, 4.0))
    for name, history in curves.items():
        ax.plot(np.arange(1, len(history) + 1), history, label=name, linewidth=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mini-batch loss (log scale)")
    ax.set_yscale("log")
    ax.set_title(f"mini-batch SGD on {data_name}")
    ax.legend()
    save(fig, path, dpi=110)
    return path


def plot_step_sweep(steps, losses, loss0: float, exact: tuple[float, float] | None, path: str) -> str:
    from ..landscape.plots import new_figure, save

    fig, (ax,) = new_figure(1, (7.0, 4.0))
    ax.semilogx(steps, losses, "o-", color="tab:blue", label="loss(W - step * dW), the notes' sweep")
    ax.axhline(loss0, color="0.5", linestyle="--", linewidth=0.8, label="loss at W")
    if exact is not None:
        ax.plot([exact[0]], [exact[1]], "*", color="tab:red", markersize=12, label="exact line search")
    ax.set_xlabel("step size")
    ax.set_ylabel("loss")
    ax.set_title("the step-size sweep along -dW")
    ax.legend()
    save(fig, path, dpi=110)
    return path


def plot_error_histogram(errors, thresholds: Sequence[tuple[float, str]], path: str) -> str:
    """Histogram of log10 relative errors; ``thresholds`` (limit, grade) drawn as labelled lines."""
    from ..landscape.plots import new_figure, save

    e = np.asarray(errors, dtype=np.float64).ravel()
    floor = 1e-18
    zeros = int(np.sum(e < floor))
    logs = np.log10(np.maximum(e, floor))
    fig, (ax,) = new_figure(1, (7.0, 4.0))
    ax.hist(logs, bins=40, color="tab:blue")
    for limit, name in thresholds:
        if np.isfinite(limit):
            x = np.log10(limit)
            ax.axvline(x, color="tab:red", linestyle="--", linewidth=0.8)
            label = f"{name.split(',')[0]} <= {limit:g}"
            ax.text(
                x,
                0.97,
                f" {label}",
                color="tab:red",
                fontsize=8,
                rotation=90,
                va="top",
                ha="right",
                transform=ax.get_xaxis_transform(),
            )
    ax.set_xlim(min(logs.min(), -8) - 0.5, 0)
    below = f"; {zeros} exact zeros drawn at -18" if zeros else ""
    ax.set_xlabel(f"log10 relative error, analytic vs numerical gradient{below}")
    ax.set_ylabel("weights")
    ax.set_title(f"gradient check: {e.size:,} weights")
    save(fig, path, dpi=110)
    return path
