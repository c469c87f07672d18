"""The ``steepest`` command: it runs, and its self-check compares every backend with the reference."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import pytest

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


def _commands():
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, sub.choices


# cli/check.py (owned elsewhere) has flags without help (--method, --seed); strict: fails once they have it.
_HELP_MISSING: set[str] = set()


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=f"cli/{c}.py: flags without help"))
        if c in _HELP_MISSING
        else c
        for c in cli.COMMANDS
    ],
)
def test_every_flag_of_every_command_has_help(command):
    parser, commands = _commands()
    assert set(commands) == set(cli.COMMANDS)
    sub = commands[command]
    assert sub.description
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and (not action.help or action.help == argparse.SUPPRESS)
    ]
    assert missing == [], f"steepest {command}: no help for {missing}"
    assert all(a.help for a in parser._actions)


def test_numba_compile_notice(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_noticed", False)
    monkeypatch.setattr(cli, "numba_needs_compiling", lambda: True)
    assert not cli.numba_compile_notice(["cpp", "numpy"])
    assert cli.numba_compile_notice(["cpp", "numba"])
    assert "compiling the numba kernels on first use" in capsys.readouterr().err
    assert not cli.numba_compile_notice(["numba"])  # once per process
    monkeypatch.setattr(cli, "_noticed", False)
    monkeypatch.setattr(cli, "numba_needs_compiling", lambda: False)
    assert not cli.numba_compile_notice(["numba"])
    assert capsys.readouterr().err == ""


def test_commands_asking_for_numba_get_the_notice(monkeypatch, capsys):
    if "numba" not in steepest.backends():
        pytest.skip("numba is not installed")
    parser = cli.build_parser()
    assert cli._backends_asked(parser.parse_args(["check", "--backend", "numba"])) == ["numba"]
    assert cli._backends_asked(parser.parse_args(["bench", "--backend", "numpy"])) == ["numpy"]
    assert "numba" in cli._backends_asked(parser.parse_args(["bench"]))  # every backend
    assert cli._backends_asked(parser.parse_args(["info"])) == []
    assert cli._backends_asked(parser.parse_args(["check", "--backend", "gpu"])) == []  # the command says why


def test_info_says_before_numba_compiles(monkeypatch, capsys):
    if "numba" not in steepest.backends():
        pytest.skip("numba is not installed")
    import numpy as np

    steepest.SVMLoss(np.ones((3, 4)), np.array([0, 1, 0, 1]), backend="numba")(np.zeros((2, 3)))
    assert not cli.numba_needs_compiling()  # compiled (or loaded from the cache) in this process
    monkeypatch.setattr(cli, "numba_needs_compiling", lambda: True)
    monkeypatch.setattr(cli, "_noticed", False)
    assert cli.main(["info"]) == 0
    captured = capsys.readouterr()
    assert "compiling the numba kernels" in captured.err and "self-check" in captured.out


def _blas_threads_now() -> list[int]:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


def test_loop_estimate_is_a_median_timed_with_one_blas_thread():
    import numpy as np

    from steepest.cli import measure

    seen = []

    def f(W):
        seen.append(_blas_threads_now())
        return float(W.sum())

    W = np.zeros((3, 4))
    picks = [(0, 1), (2, 3), (1, 0)]
    seconds, how = measure.loop_estimate(f, W, picks)
    assert seconds > 0 and len(seen) == 1 + 2 * len(picks)  # one untimed evaluation, two per weight
    if not seen[0]:
        pytest.skip("NumPy's BLAS is not one threadpoolctl can limit")
    assert all(threads == [1] * len(seen[0]) for threads in seen)  # every evaluation, at 1 BLAS thread
    assert how.startswith("estimate: median over 3 sampled weights") and f"x {W.size:,} weights" in how
    assert how.endswith("NumPy with 1 BLAS thread (threadpoolctl)")


def test_interleaved_lets_blas_settle_outside_the_timing(monkeypatch):
    """Candidates named in ``settle`` are followed by a pause (OpenBLAS's threads spin after a call and
    would slow the next candidate), and the pause is in nobody's time."""
    from steepest.cli import measure

    monkeypatch.setattr(measure, "BLAS_SETTLE_S", 0.4)
    order = []
    fns = {
        "blas": lambda: order.append(("blas", time.perf_counter())),
        "next": lambda: order.append(("next", time.perf_counter())),
    }
    t = measure.interleaved(fns, rounds=3, warmup=1, settle={"blas"})
    assert [name for name, _ in order] == ["blas", "next"] * 4
    gaps = [later - earlier for (_, earlier), (_, later) in zip(order, order[1:])]
    assert min(gaps[0::2]) >= 0.4  # blas -> next: paused
    assert max(gaps[1::2]) < 0.4  # next -> blas: not
    assert max(t.values()) < 0.4


def test_loop_estimate_without_threadpoolctl_says_so(monkeypatch):
    import numpy as np

    from steepest.cli import measure

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import threadpoolctl raises ImportError
    monkeypatch.setattr(measure, "_blas_controller", None)
    _, how = measure.loop_estimate(lambda W: 0.0, np.zeros((2, 2)), [(0, 0)])
    assert how.startswith("estimate: median") and "1 BLAS thread" not in how
    assert "default BLAS threads (threadpoolctl is not installed" in how


def test_check_labels_the_loop_time_as_an_estimate_at_one_blas_thread(capsys):
    pytest.importorskip("threadpoolctl")
    assert cli.main(["check", "--data", "synthetic:200", "--sample", "3"]) == 0
    out = capsys.readouterr().out
    assert "notes' loop, NumPy loss (estimate)" in out and "speed-up (estimated)" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("notes' loop (centered, every weight): ")]
    assert "estimate: median over 3 sampled weights" in line
    assert line.endswith("NumPy with 1 BLAS thread (threadpoolctl)")


# --- steepest bench --------------------------------------------------------------------------------


def _target_rows(out: str) -> list[str]:
    """The table's rows that state a target ('<= ...' / '>= ...')."""
    return [line for line in out.splitlines() if " <= " in line or " >= " in line]


def test_bench_status_reads_budgets_speed_ups_and_times():
    from steepest.cli.bench import Row, _ratio_text, _status

    step = Row("cpp loss_grad_at", "float64", 1.4e-3, "R_step", 1e-3 / 1.4e-3, "<= 1.5x R_step")
    assert _ratio_text(step) == "1.4x R_step" and _status(step) == "met"
    local = Row("random_local_search", "", 2.0, "random search", 0.5, "<= 1.2x random search")
    assert _ratio_text(local) == "2x random search" and _status(local) == "missed"
    loop = Row("cs231n loop", "", 1e-3, "NumPy loop, 1 BLAS thread", 6.0, ">= 5x")
    assert _ratio_text(loop) == "6x faster" and _status(loop) == "met"
    assert _status(Row("Python layer", "", 25e-6, target="<= 30 µs")) == "met"
    assert _status(Row("Python layer", "", 45e-6, target="<= 30 µs")) == "missed"
    assert _status(Row("speed-up", "", 1.0, "NumPy", 20_000.0, ">= 10,000x")) == "met"


def test_bench_runs_training_by_default_and_in_quick_mode(monkeypatch, capsys):
    from steepest.cli import bench

    calls = []

    def fake(n, repeat, sections, backends, dtypes=("float64", "float32"), quick=False):
        calls.append((n, sections, quick))
        return bench.Report("fake")

    monkeypatch.setattr(bench, "build_report", fake)
    assert cli.main(["bench"]) == 0
    assert cli.main(["bench", "--quick"]) == 0
    assert "training" in calls[0][1] and calls[0][2] is False
    assert calls[1] == (10_000, ("losses", "training"), True)


def test_bench_assignment_loop_is_the_assignments_train():
    import numpy as np

    import cs231n_reference as ref
    from steepest.cli import measure

    rows, y, W = measure.cifar_shaped(300, seed=3)
    theirs = ref.LinearSVM()
    theirs.W = W.T.copy()
    np.random.seed(7)
    theirs.train(rows, y, learning_rate=1e-7, reg=2.5e4, num_iters=3, batch_size=50)
    ours = W.copy()
    np.random.seed(7)
    measure.assignment_svm_train(ours, rows, y, 3, 1e-7, 2.5e4, 50)
    np.testing.assert_allclose(ours, theirs.W.T, rtol=1e-12, atol=1e-15)


def test_bench_peak_rate_is_the_highest_reading_and_never_drops(monkeypatch):
    """A busy spell only lowers a probe's reading: the compute floors use the highest one seen."""
    pytest.importorskip("steepest._core")
    from steepest import _core
    from steepest.cli import measure

    monkeypatch.setattr(measure, "_peak_rates", {})
    readings = iter([1e9, 3e9, 2e9, 1e9, 1e9, 1e9])
    monkeypatch.setattr(_core, "multiply_add_rate", lambda threads, seconds: next(readings))
    assert measure.multiply_add_rate(repeat=3) == 3e9  # not the median, 2e9
    assert measure.multiply_add_rate(repeat=3) == 3e9  # a later, busier reading does not lower it


def test_bench_training_section_on_a_small_problem(capsys):
    if "cpp" not in steepest.backends():
        pytest.skip("the training section's floors need the C++ core")
    assert cli.main(["bench", "--only", "training", "--n", "300", "--repeat", "1", "--backend", "cpp"]) == 0
    out = capsys.readouterr().out
    for operation in (
        "R_step = max(step memory floor, step compute floor)",
        "cpp loss_grad_at: one mini-batch step",
        "cs231n.LinearSVM().train",
        "minibatch_gd (plain SGD) on X_rows.T: Python layer",
        "cpp stacked_loss_grad: one step of the grid",
        "tune: one step of the 5 x 5 grid",
        "cpp candidate_losses: random search's stacked product",
        "random_local_search (strategy 2)",
    ):
        assert operation in out, operation
    for target in ("<= 1.5x R_step", ">= 5x", "<= 30 µs", "<= 1.3x compute floor", ">= 10x", "<= 1.5x compute floor"):
        assert target in out, target
    rows = _target_rows(out)
    assert len(rows) >= 9 and all(line.rstrip().endswith(("met", "missed")) for line in rows)
    assert "x slower" not in out  # a budget reads '1.4x R_step', a speed-up 'x faster'


def test_bench_gradients_section_states_the_targets_against_cpp(capsys):
    if "cpp" not in steepest.backends():
        pytest.skip("needs the C++ core")
    assert cli.main(["bench", "--only", "gradients", "--n", "300", "--repeat", "1", "--backend", "cpp"]) == 0
    out = capsys.readouterr().out
    rows = _target_rows(out)
    assert any("one cpp loss+grad" in r and "<= 1.2x" in r and "SVM" in r for r in rows)
    assert any("one cpp loss+grad" in r and "<= 2x" in r and "softmax" in r for r in rows)
    assert sum("loss_on_plane" in r and "one cpp loss " in r and "<= 1.5x" in r for r in rows) == 2
    assert all(line.rstrip().endswith(("met", "missed")) for line in rows)
    assert not any("one NumPy loss+grad" in r for r in rows)  # NumPy rows carry no target
