"""Nielsen's network, chapter 1: ``network.py``'s names and numbers, faster. Chapter 3 is :mod:`steepest.network2`.

A reader of "Neural Networks and Deep Learning" changes one line of the book's code::

    import network                               # the book
    from steepest import network                 # steepest: the same names, the same numbers

    >>> net = network.Network([784, 30, 10])
    >>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    Epoch 0: 9129 / 10000
    ...

``Network`` has the book's ``feedforward``, ``SGD``, ``update_mini_batch``, ``backprop``, ``evaluate`` and
``cost_derivative``, and this module the book's ``sigmoid`` and ``sigmoid_prime``. ``SGD`` prints the book's lines
and returns None; what it measured stays in ``net.history`` (:class:`TrainingHistory`). The data may be the
book's (``steepest.datasets.book.load_data_wrapper()``, or the book's own ``mnist_loader``) or arrays.

Conventions
-----------
- ``sizes`` lists the layer widths; ``weights[l]`` is (sizes[l+1], sizes[l]) and ``biases[l]`` is
  (sizes[l+1], 1), as in the book. Activations are ``a' = sigmoid(w @ a + b)``.
- Data, two forms. The book's: a list (or any iterable) of ``(x, y)`` pairs with ``x`` of shape
  (sizes[0], 1) and ``y`` a one-hot (sizes[-1], 1) column (training data) or an ``int`` label (test
  data); either kind of ``y`` is accepted everywhere. Arrays: a pair ``(X, y)`` with ``X`` of shape
  (sizes[0], N), one example per column, and ``y`` integer labels (N,) in [0, sizes[-1]) or, for
  training, float targets (sizes[-1], N). Inputs in the network's dtype, or one that converts exactly to it
  (float32 into float64, as the book's ``mnist.pkl.gz`` holds); integer pixels are refused (divide by 255).
  :func:`mnist_for_network` makes ``X`` from the MNIST loader.
- Costs, per example: quadratic ``C_x = 1/2 ||a - y||^2`` (the book's chapter 1); cross-entropy
  ``C_x = sum_j -y_j ln a_j - (1 - y_j) ln(1 - a_j)`` (``network2.py``'s). ``total_cost`` is ``network2.py``'s:
  the mean of ``C_x`` plus ``lmbda / (2n) * sum ||w||^2``.
- Randomness: without ``seed`` the book's (``np.random.randn`` for the initial parameters, ``random.shuffle``
  for each epoch's order); with ``seed`` (int or ``numpy.random.Generator``) steepest's generator, bit-for-bit
  reproducible.
- Overrides: a subclass that replaces ``update_mini_batch``, ``backprop`` or ``cost_derivative`` is trained
  through its methods with the book's per-mini-batch structure, and one that replaces ``feedforward`` or
  ``evaluate`` is measured through them; only a network without such replacements takes the fused path.
- Bad input raises ``TypeError`` (wrong kind or dtype) or ``ValueError`` (bad shape or value) naming
  the argument, before any work starts. A training run whose parameters stop being finite raises
  ``FloatingPointError`` and restores the parameters of the last finite epoch.

Implementation: ``SGD`` runs the mini-batches in a Numba kernel (``steepest._backends.numba.network``): weights
held transposed so every inner loop runs along contiguous rows, sparse inputs (MNIST's pixels are 81% zero) read
through their CSR form so the first layer costs only its non-zero pixels, 64 mini-batches per call so Ctrl-C is
seen within milliseconds. ``backend="numpy"`` selects the NumPy matrix form (a few BLAS products per mini-batch),
which is also the fallback without Numba; both are tested against the book's per-example algorithm. The measured
speed-ups are in the README ("Nielsen's book, faster") and ``bench/bench_network.py``.

Layout: ``core.py`` (what both chapters share: parameters, forward passes, back-propagation, the book's step,
metrics, files), ``model.py`` (chapter 1's :class:`Network`), ``costs.py`` (the sigmoid and ``network2.py``'s cost
classes), ``training.py`` (the ``SGD`` loop, the fused and the book's paths, Ctrl-C), ``data.py`` (the book's
data forms and the array form, checked), ``history.py`` (:class:`TrainingHistory`).
"""

from __future__ import annotations

from .costs import sigmoid, sigmoid_prime
from .data import mnist_for_network, to_pairs, vectorized_result
from .history import TrainingHistory
from .model import Network

__all__ = [
    "Network",
    "TrainingHistory",
    "mnist_for_network",
    "sigmoid",
    "sigmoid_prime",
    "to_pairs",
    "vectorized_result",
]
