"""The ``steepest`` command: it runs, and its self-check compares every backend with the reference."""

from __future__ import annotations

import subprocess
import sys

import steepest
from steepest import cli


def test_info_self_check_passes_on_every_backend(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "steepest" in out and "self-check" in out
    for name in steepest.backends():
        assert out.count(f"\n{name} ") >= 2  # float64 and float32 rows
    assert " no\n" not in out
    if "cpp" in steepest.backends():
        assert "peak multiply-adds" in out and " G/s in float64" in out


def test_python_dash_m_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "steepest", "info", "--no-check"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "backends" in out.stdout
    assert cli.main([]) == 2


def test_errors_are_reported_without_a_traceback(capsys, monkeypatch):
    monkeypatch.setenv("STEEPEST_BACKEND", "gpu")
    assert cli.main(["info", "--no-check"]) == 2
    err = capsys.readouterr().err
    assert "steepest info: error: STEEPEST_BACKEND must be one of" in err and "Traceback" not in err
