"""What a user installs: the metadata, the extras, the wheel matrix, and the README's opening as PyPI shows it.

Static checks of ``pyproject.toml``, ``README.md`` and ``.ci/``; building wheels (twice, byte for byte) is
``.ci/reproducible``, which ``.ci/run`` runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

tomllib = pytest.importorskip("tomllib" if __import__("sys").version_info >= (3, 11) else "tomli")


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _extras_of(requirement: str) -> set[str]:
    match = re.match(r"steepest\[([^\]]*)\]", requirement)
    return set(match.group(1).split(",")) if match else set()


def test_extras_all_is_what_users_need_and_test_bench_are_separate(project):
    extras = project["project"]["optional-dependencies"]
    assert set(extras) == {"plot", "progress", "data", "all", "distributed", "test", "bench"}
    assert extras["all"] == ["steepest[plot,progress,data]"]
    assert _names(extras["plot"]) == {"matplotlib"} and _names(extras["progress"]) == {"tqdm"}
    assert _names(extras["data"]) == {"scikit-learn", "pooch"}
    assert {"pytest", "hypothesis"} <= _names(extras["test"]) and "pytest-benchmark" not in _names(extras["test"])
    assert {"plot", "progress", "data"} <= set().union(*map(_extras_of, extras["test"]))
    assert _names(extras["bench"]) == {"pytest-benchmark", "threadpoolctl"}
    assert _names(extras["distributed"]) == {"joblib", "dask"}
    assert _names(project["project"]["dependencies"]) == {"numpy", "numba"}


def test_metadata_for_pypi(project):
    meta = project["project"]
    assert meta["readme"] == "README.md" and meta["license"] == "MIT" and meta["requires-python"] == ">=3.10"
    classifiers = meta["classifiers"]
    assert "Operating System :: POSIX :: Linux" in classifiers and "Typing :: Typed" in classifiers
    versions = sorted(c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*Python :: 3\.\d+", c))
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    built = sorted({"3." + re.match(r"cp3(\d+)-", sel).group(1) for sel in project["tool"]["cibuildwheel"]["build"]})
    assert built == versions  # the wheels built are the versions the classifiers promise
    assert meta["urls"] and all(u.startswith(("https://", "http://")) for u in meta["urls"].values())
    assert (ROOT / "python" / "steepest" / "py.typed").is_file()


def test_readme_opens_with_the_two_commands_for_any_reader():
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:20]
    text = "\n".join(head)
    assert head[0] == "# steepest"
    assert "steepest tour" in text and "python -m pytest" in text
    assert 'pip install ".[all]"' in text and 'pip install ".[test]"' in text
    assert "from this folder" not in text.lower()  # PyPI shows this page without the checkout around it
    assert "steepest[all]" in text  # and says how to install from PyPI
    assert re.search(r"\d+ (s|seconds|min|minutes)\b", text), "the opening says how long the commands take"


def test_wheels_only_for_the_platforms_the_core_builds_on(project):
    # Linux x86-64 (x86 kernels) and Linux aarch64 (the portable core, built and cross-compiled by .ci/portable);
    # not macOS or Windows, where the core has not been built yet.
    cibw = project["tool"]["cibuildwheel"]
    platforms = {sel.split("-", 1)[1] for sel in cibw["build"]}
    assert platforms == {"manylinux_x86_64", "manylinux_aarch64"}
    assert cibw["linux"]["archs"] == ["x86_64", "aarch64"]
    assert cibw["linux"]["manylinux-x86_64-image"] == cibw["linux"]["manylinux-aarch64-image"] == "manylinux_2_28"
    assert "skip" not in cibw and "macos" not in cibw and "windows" not in cibw
    cmake = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    assert "option(STEEPEST_PORTABLE" in cmake and "STEEPEST_PORTABLE_DEFAULT ON" in cmake
    assert cibw["test-extras"] == ["test"]
    assert ".ci/test-wheel {project}" in cibw["test-command"]  # the tests run against the installed wheel
    assert cibw["linux"]["environment"]["SOURCE_DATE_EPOCH"].isdigit()
    for script in ("run", "test-wheel", "reproducible", "portable"):
        path = ROOT / ".ci" / script
        assert path.is_file() and os.access(path, os.X_OK), script


def test_ci_runs_the_readme_test_command_and_the_build_checks():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install ".[test]"' in run and "python -m pytest" in run and "venv" in run
    assert ".ci/reproducible" in run and ".ci/portable" in run
