"""The notes' optimization strategies and descent loops, as library functions.

From "a first very bad idea" to mini-batch SGD (CS231n "Optimization", Nielsen chapter 1):

- :func:`random_search` (strategy 1) and :func:`random_local_search` (strategy 2);
- :func:`step_size_sweep`: the notes' table of ``loss(W - step * dW)`` per step size;
- :func:`gradient_descent` (full batch), :func:`minibatch_gd` (sampling with replacement like the
  CS231n assignment, or per-epoch shuffling like Nielsen), :func:`sgd` (batch of one), with the
  update rules users expect after the notes (momentum, Nesterov momentum, Adam), learning-rate decay,
  validation accuracy, early stopping and checkpoints that resume bitwise;
- :func:`train_linear_classifier`: CS231n's ``LinearSVM.train`` / ``predict`` in one call.

Common conventions: ``W`` is (C, D) and the data (D, N) inside the loss object (:class:`SVMLoss` /
:class:`SoftmaxLoss`). Every function takes ``seed=`` (int or ``numpy.random.Generator``; all
randomness is drawn in Python from it, so the same seed gives the same result on every backend, up to
the backends' rounding), counts loss (``nfev``) and gradient (``ngev``) evaluations, records
histories, calls ``callback(step, info)`` after each step (return True to stop), shows a tqdm bar with
``progress=True`` (the ``progress`` extra), prints in the notes' formats with ``verbose=True``, and on
Ctrl-C stops cleanly and returns what it reached with ``interrupted=True``. Arguments are validated
before any work (``TypeError`` / ``ValueError`` naming the argument).
"""

from __future__ import annotations

from .config import DescentConfig
from .descent import SAMPLINGS
from .results import LinearClassifier, OptimizeResult, StepSizeSweep
from .strategies import random_local_search, random_search, step_size_sweep
from .training import gradient_descent, minibatch_gd, sgd, train_linear_classifier
from .tune import TuneResult, tune
from .updates import UPDATES

__all__ = [
    "random_search",
    "random_local_search",
    "step_size_sweep",
    "gradient_descent",
    "minibatch_gd",
    "sgd",
    "train_linear_classifier",
    "tune",
    "TuneResult",
    "OptimizeResult",
    "LinearClassifier",
    "StepSizeSweep",
    "DescentConfig",
    "UPDATES",
    "SAMPLINGS",
]
