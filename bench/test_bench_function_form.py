"""The function form costs what the object form costs: ``svm_loss_grad(W, X, y)`` validates each input
once and sees X's finiteness in the kernel's own result, so it pays no extra pass over X.

One group per backend, the two forms in it: the ratio function / object should be close to 1.
"""

from __future__ import annotations

import pytest

import steepest

from conftest import group, in_groups

BACKENDS = steepest.backends()
GROUPS = {b: group(f"svm loss+grad, {b}: function form vs loss object", "float64", "F") for b in BACKENDS}


@pytest.mark.parametrize("backend, form", in_groups(GROUPS, ["object", "function"]))
def test_function_form_vs_object(benchmark, cifar64, backend, form):
    rows, y, W = cifar64
    loss = steepest.SVMLoss(rows.T, y, backend=backend)
    assert steepest.svm_loss_grad(W, rows.T, y, backend=backend)[0] == loss.loss_grad(W)[0]
    if form == "object":
        benchmark(loss.loss_grad, W)
    else:
        benchmark(steepest.svm_loss_grad, W, rows.T, y, backend=backend)
