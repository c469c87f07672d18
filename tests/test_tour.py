"""``steepest tour`` end to end: on the built-in digits, on a CIFAR-format folder, on MNIST files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steepest import cli
from steepest.cli.tour import run_tour

from conftest import MNIST_DIR
from data_factories import write_cifar_folder


def test_tour_on_digits_tells_the_whole_story(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "out"
    assert cli.main(["tour", "--out", str(out)]) == 0
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
    assert "for step size" not in text or "<- best" in text
    report = json.loads((out / "tour.json").read_text())
    steps = report["steps"]
    # the story's arc: each strategy does better than the one before it on digits
    assert steps["random search"]["test_accuracy"] < steps["random local search"]["test_accuracy"]
    assert steps["random local search"]["test_accuracy"] < steps["SVM, mini-batch SGD"]["test_accuracy"]
    assert steps["SVM, mini-batch SGD"]["test_accuracy"] >= 0.9
    assert steps["softmax, mini-batch SGD"]["test_accuracy"] >= 0.9
    assert steps["numerical gradient"]["grade"] == "good"
    assert steps["step-size sweep"]["exact_line_search"]["loss"] <= min(steps["step-size sweep"]["losses"]) + 1e-12
    assert {"summary.csv", "loss_curves.csv", "tour.json"} <= {p.name for p in out.iterdir()}
    pytest.importorskip("matplotlib")
    assert (out / "loss_curves.png").stat().st_size > 1000 and (out / "landscape.png").stat().st_size > 1000


def test_tour_on_a_cifar_format_folder(tmp_path, capsys):
    root = write_cifar_folder(tmp_path / "cifar", n_per_batch=300, n_test=200, seed=1)["folder"]
    tour = run_tour(f"cifar10:{root}", quick=True, seed=2)
    assert tour.data == "cifar10"
    assert tour.steps["data"]["features"] == 3073 and tour.steps["data"]["test"] == 200
    assert all(np.isfinite(row[1]) for row in tour.summary)
    assert "CIFAR-10" in capsys.readouterr().out


@pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(), reason="real MNIST files not available")
def test_tour_on_real_mnist(capsys):
    tour = run_tour(f"mnist:{MNIST_DIR}", quick=True)
    assert tour.steps["data"]["features"] == 785
    assert tour.steps["SVM, mini-batch SGD"]["test_accuracy"] > 0.75


def test_tour_rejects_bad_options(capsys):
    assert cli.main(["tour", "--data", "imagenet"]) == 2
    assert "unknown data spec" in capsys.readouterr().err
    assert cli.main(["tour", "--tries", "0"]) == 2
    assert "--tries must be at least 1" in capsys.readouterr().err
