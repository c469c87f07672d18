"""``cs231n.classifiers``: the linear classifiers of assignment 1 and their losses.

``from steepest.cs231n.classifiers import LinearSVM, Softmax`` as the notebooks'
``from cs231n.classifiers import LinearSVM, Softmax``; the loss functions live in
:mod:`.linear_svm` and :mod:`.softmax`, as in the assignment.
"""

from __future__ import annotations

from .linear_classifier import LinearClassifier, LinearSVM, Softmax
from .linear_svm import svm_loss_naive, svm_loss_vectorized
from .softmax import softmax_loss_naive, softmax_loss_vectorized

__all__ = [
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
]
