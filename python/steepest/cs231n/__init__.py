"""CS231n assignment 1's ``cs231n`` package, fast: change the import lines, keep the notebook.

==============================================  =====================================================
the assignment                                  steepest
==============================================  =====================================================
``from cs231n.classifiers.linear_svm import``   ``from steepest.cs231n.classifiers.linear_svm import``
``from cs231n.classifiers.softmax import``      ``from steepest.cs231n.classifiers.softmax import``
``from cs231n.classifiers import LinearSVM``    ``from steepest.cs231n.classifiers import LinearSVM``
``from cs231n.gradient_check import``           ``from steepest.cs231n.gradient_check import``
``from cs231n.data_utils import load_CIFAR10``  ``from steepest.cs231n.data_utils import load_CIFAR10``
==============================================  =====================================================

The assignment's layout and signatures: ``W`` (D, C), ``X`` (N, D) one example per row, ``y`` (N,),
``reg * np.sum(W * W)``. Rows are read in place as the (D, N) view ``X.T`` that steepest's kernels
read fastest; X is never copied. ``*_naive`` are the assignment's loops (slow, as they are there);
``*_vectorized``, ``LinearSVM`` and ``Softmax`` run steepest's fused kernels. ``train`` draws from
``np.random`` in the assignment's order, so ``np.random.seed(s)`` gives the assignment's numbers;
``grad_check_sparse`` draws its indices with ``random.randrange`` as the assignment's does. For the
exact, all-weights numerical gradient build the loss with ``gradient_check.loss_function`` instead of
a lambda. Bad arguments raise ``TypeError`` / ``ValueError`` naming the argument.
"""

from __future__ import annotations

from . import classifiers, data_utils, gradient_check
from .classifiers import (
    LinearClassifier,
    LinearSVM,
    Softmax,
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)
from .data_utils import load_CIFAR10
from .gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    loss_function,
)

__all__ = [
    "classifiers",
    "data_utils",
    "gradient_check",
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "load_CIFAR10",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "loss_function",
]
