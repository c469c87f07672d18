"""``steepest tour`` end to end: on the built-in digits (with its figures and its HTML page), on a
CIFAR-format folder, on MNIST files; without matplotlib; and the page rendered by a headless browser
when one is installed."""

from __future__ import annotations

import base64
import html.parser
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from steepest import cli
from steepest.cli.tour import DEFAULT_OUT, run_tour

from conftest import MNIST_DIR
from data_factories import write_cifar_folder

FIGURES = ("landscape.png", "loss_curves.png", "step_size_sweep.png", "grad_check_errors.png")


class _Page(html.parser.HTMLParser):
    """The parts of the tour's page the tests look at: title, headings, tables (header and body cells), images."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.headings: list[str] = []
        self.tables: list[dict] = []
        self.images: list[dict] = []
        self.scripts = self.links = 0
        self._text: list[str] | None = None
        self._where: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"headers": [], "rows": [], "caption": ""})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td", "title", "h1", "h2", "caption"):
            self._text, self._where = [], tag
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "script":
            self.scripts += 1
        elif tag == "link":
            self.links += 1

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._text is None or tag != self._where:
            return
        text = "".join(self._text).strip()
        if tag == "title":
            self.title = text
        elif tag in ("h1", "h2"):
            self.headings.append(text)
        elif tag == "caption":
            self.tables[-1]["caption"] = text
        elif tag == "th":
            self.tables[-1]["headers"].append(text)
        else:
            self.tables[-1]["rows"][-1].append(text)
        self._text = self._where = None


def _page(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_tour_on_digits_tells_the_whole_story_and_writes_its_page(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["tour"]) == 0
    text = capsys.readouterr().out
    for heading in (
        "1. The data",
        "random search",
        "random local search",
        "numerical gradient",
        "step-size sweep",
        "Mini-batch gradient descent",
        "loss landscape",
        "Summary",
    ):
        assert heading in text, heading
    out = tmp_path / DEFAULT_OUT  # written by default into ./steepest-tour, and said so
    assert f"wrote 8 files to {out}" in text and f"open {out / 'index.html'}" in text
    report = json.loads((out / "tour.json").read_text())
    steps = report["steps"]
    # the story's arc: each strategy does better than the one before it on digits
    assert steps["random search"]["test_accuracy"] < steps["random local search"]["test_accuracy"]
    assert steps["random local search"]["test_accuracy"] < steps["SVM, mini-batch SGD"]["test_accuracy"]
    assert steps["SVM, mini-batch SGD"]["test_accuracy"] >= 0.9
    assert steps["softmax, mini-batch SGD"]["test_accuracy"] >= 0.9
    assert steps["numerical gradient"]["grade"] == "good"
    assert steps["step-size sweep"]["exact_line_search"]["loss"] <= min(steps["step-size sweep"]["losses"]) + 1e-12
    # the timing of the notes' loop is an estimate, and says how it was made: a median, NumPy at 1 BLAS thread
    how = steps["numerical gradient"]["loop_estimate_method"]
    assert how.startswith("estimate: median over 10 sampled weights (2 loss evaluations each")
    assert how.endswith("NumPy with 1 BLAS thread (threadpoolctl)")
    assert steps["numerical gradient"]["loop_seconds_estimate"] > 0
    assert "the notes' loop, centered, vectorized NumPy loss (estimate)" in text and how in text
    # the landscape: lines and planes, on a stated span
    landscape = steps["landscape"]
    assert landscape["span"] > 0 and "line, 1 examples" in landscape and "plane, 1 examples" in landscape
    assert "span of the grid" not in text and f"a in [-{landscape['span']:g}, {landscape['span']:g}]" in text
    assert "a and b in [" in text and "plane W + a d1 + b d2" in text
    assert {"summary.csv", "loss_curves.csv", "tour.json", "index.html"} <= {p.name for p in out.iterdir()}
    pytest.importorskip("matplotlib")
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name

    page = _page(out / "index.html")
    assert page.title.startswith("steepest tour") and "digits" in page.title
    assert page.headings[0] == page.title
    assert [h.split(". ", 1)[1] for h in page.headings[1:]][:2] == [
        "The data",
        "Strategy 1, a first very bad idea: random search",
    ]
    assert len(page.headings) == 9 and page.headings[-1] == "8. Summary"
    assert len(page.tables) >= 8
    for table in page.tables:
        assert table["headers"] and all(table["headers"]), table  # every column headed
        body = [r for r in table["rows"] if r]  # the header row has no <td>
        assert body and all(len(r) == len(table["headers"]) for r in body), table
    headers = [h for t in page.tables for h in t["headers"]]
    assert "how the time was obtained" in headers and "grid and its span" in headers
    (loop_row,) = [r for t in page.tables for r in t["rows"] if r and r[0].startswith("the notes' loop")]
    assert loop_row[0].endswith("(estimate)") and loop_row[-1] == how  # the page labels it as well
    # self-contained: every figure is a base64 PNG data: URI, nothing is fetched
    assert len(page.images) == len(FIGURES) and page.scripts == 0 and page.links == 0
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,") and img["alt"]
        assert base64.b64decode(img["src"].split(",", 1)[1])[:4] == b"\x89PNG"
    assert sorted(img["title"] for img in page.images) == sorted(FIGURES)


def test_tour_no_plots_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["tour", "--data", "synthetic:600", "--quick", "--no-plots"]) == 0
    assert list(tmp_path.iterdir()) == []
    assert "wrote" not in capsys.readouterr().out


def test_tour_without_matplotlib_still_runs_and_names_the_extra(tmp_path, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import matplotlib...` now raises ImportError
    out = tmp_path / "page"
    tour = run_tour("synthetic:600", quick=True, out=str(out))
    text = capsys.readouterr().out
    assert "pip install steepest[plot]" in text
    assert tour.figures == [] and tour.page == str(out / "index.html")
    assert not any(p.suffix == ".png" for p in out.iterdir())
    page = _page(out / "index.html")
    assert page.images == [] and len(page.tables) >= 8
    assert "pip install steepest[plot]" in (out / "index.html").read_text()


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_tour_page_renders_in_a_headless_browser(tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser (chromium, chrome) installed")
    pytest.importorskip("matplotlib")
    out = tmp_path / "tour"
    run_tour("synthetic:600", quick=True, out=str(out))
    shot = tmp_path / "page.png"
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1280,4000",
            (out / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000


def test_tour_on_a_cifar_format_folder(tmp_path, capsys):
    root = write_cifar_folder(tmp_path / "cifar", n_per_batch=300, n_test=200, seed=1)["folder"]
    tour = run_tour(f"cifar10:{root}", quick=True, seed=2)
    assert tour.data == "cifar10" and tour.page is None and tour.figures == []
    assert tour.steps["data"]["features"] == 3073 and tour.steps["data"]["test"] == 200
    assert all(np.isfinite(row[1]) for row in tour.summary)
    assert "CIFAR-10" in capsys.readouterr().out


@pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(), reason="real MNIST files not available")
def test_tour_on_real_mnist(capsys):
    tour = run_tour(f"mnist:{MNIST_DIR}", quick=True)
    assert tour.steps["data"]["features"] == 785
    assert tour.steps["SVM, mini-batch SGD"]["test_accuracy"] > 0.75


def test_tour_rejects_bad_options(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["tour", "--data", "imagenet"]) == 2
    assert "unknown data spec" in capsys.readouterr().err
    assert cli.main(["tour", "--tries", "0"]) == 2
    assert "--tries must be at least 1" in capsys.readouterr().err
    assert cli.main(["tour", "--backend", "gpu"]) == 2
    assert list(tmp_path.iterdir()) == []  # refused before the folder was made
