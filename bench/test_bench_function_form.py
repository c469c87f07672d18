"""The function form costs what the object form costs: ``svm_loss_grad(W, X, y)`` validates each input
once and sees X's finiteness in the kernel's own result, so it pays no extra pass over X.

Compare the two rows of each group: the ratio function / object should be close to 1.
"""

from __future__ import annotations

import pytest

import steepest

BACKENDS = steepest.backends()


@pytest.mark.benchmark(group="svm_loss_grad: function form vs loss object")
@pytest.mark.parametrize("backend", BACKENDS)
def test_object_form(benchmark, cifar64, backend):
    rows, y, W = cifar64
    loss = steepest.SVMLoss(rows.T, y, backend=backend)
    value, _ = benchmark(loss.loss_grad, W)
    assert value == steepest.svm_loss_grad(W, rows.T, y, backend=backend)[0]


@pytest.mark.benchmark(group="svm_loss_grad: function form vs loss object")
@pytest.mark.parametrize("backend", BACKENDS)
def test_function_form(benchmark, cifar64, backend):
    rows, y, W = cifar64
    value, _ = benchmark(steepest.svm_loss_grad, W, rows.T, y, backend=backend)
    assert value == steepest.SVMLoss(rows.T, y, backend=backend).loss_grad(W)[0]
