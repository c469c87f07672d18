"""The README's "The notes' code, line by line" block runs as written, on the built-in digits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(heading: str) -> str:
    """The first ```python block under the README section ``heading``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else None]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def test_the_notes_code_line_by_line_runs_as_written(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")  # the digits data
    pytest.importorskip("matplotlib")  # the figure of its last line
    code = readme_block("## The notes' code, line by line")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "in attempt 0 the loss was" in out and "for step size 1.000000e-02 new loss:" in out
    assert namespace["best"].accuracy(namespace["data"].X_test, namespace["data"].y_test) < 0.5
    assert namespace["clf"].accuracy(namespace["data"].X_test, namespace["data"].y_test) > 0.9
    assert (tmp_path / "landscape.png").read_bytes()[:4] == b"\x89PNG"


def test_cifar_scale_defaults_on_digits_give_a_hint():
    pytest.importorskip("sklearn")
    from steepest import optimize
    from steepest.datasets import load_dataset

    data = load_dataset("digits")
    clf = optimize.train_linear_classifier(data.X_train, data.y_train, num_iters=50, seed=0)
    assert "hint: learning rate 1e-07 and reg 25000 are the assignment's settings for CIFAR-10" in repr(clf)
    tuned = optimize.train_linear_classifier(data.X_train, data.y_train, learning_rate=1e-3, reg=0.1, num_iters=50)
    assert "hint" not in repr(tuned) and repr(tuned).startswith("train_linear_classifier result")


def test_results_show_their_table_at_the_prompt():
    # "Results print as tables (`print(best)`, or just `best` at the prompt)": repr is the table, short.
    import numpy as np

    import steepest
    from steepest import landscape, optimize

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 60)), rng.integers(0, 3, 60)
    f = steepest.SVMLoss(X, y)
    W = rng.standard_normal((3, 8)) * 0.01
    dW = f.grad(W)
    sweep = optimize.step_size_sweep(f, W, dW)
    shown = {
        "sweep": repr(sweep),
        "search": repr(optimize.random_search(f, W.shape, num_tries=5, seed=0)),
        "line": repr(landscape.loss_along_line(f, W, dW)),
        "plane": repr(landscape.loss_on_plane(f, W, dW, landscape.random_direction(W, 1))),
        "minimum": repr(landscape.exact_line_search(f, W, dW)),
    }
    for name, text in shown.items():
        lines = text.splitlines()
        assert 3 <= len(lines) <= 16 and max(map(len, lines)) <= 120, (name, text)
        assert "array(" not in text, name
    header = shown["sweep"].splitlines()[1].split()
    assert header[:2] == ["step", "size"] and header[-1] == "best"  # every column headed
    assert "<- best" in shown["sweep"] and shown["search"].startswith("random_search result")
