"""Nielsen's network: a sigmoid network learning by mini-batch stochastic gradient descent.

The model and the API of chapter 1 of Michael Nielsen's "Neural Networks and Deep Learning"
(``network.py``; the cross-entropy cost, L2 decay, scaled initialization and JSON files of his
``network2.py``), with the whole mini-batch back-propagated at once in matrix form.

    >>> from steepest.network import Network, mnist_for_network
    >>> from steepest.datasets import load_mnist
    >>> X, y = mnist_for_network(*load_mnist(path, kind="t10k"))       # X (784, N) in [0, 1]
    >>> net = Network([784, 30, 10], seed=0)
    >>> history = net.SGD((X[:, :8000], y[:8000]), 30, 10, 3.0, test_data=(X[:, 8000:], y[8000:]))
    Epoch 0: 1702 / 2000
    ...

Conventions
-----------
- ``sizes`` lists the layer widths; ``weights[l]`` is (sizes[l+1], sizes[l]) and ``biases[l]`` is
  (sizes[l+1], 1), as in the book. Activations are ``a' = sigmoid(w @ a + b)``.
- Data, two forms. The book's: a list (or any iterable) of ``(x, y)`` pairs with ``x`` of shape
  (sizes[0], 1) and ``y`` a one-hot (sizes[-1], 1) column (training data) or an ``int`` label (test
  data); either kind of ``y`` is accepted everywhere. Arrays: a pair ``(X, y)`` with ``X`` of shape
  (sizes[0], N), one example per column, and ``y`` integer labels (N,) in [0, sizes[-1]) or, for
  training, float targets (sizes[-1], N). ``X`` must have the network's dtype (float32 or float64);
  both memory orders of ``X`` are read in place (``X_rows.T`` is fastest: each mini-batch gathers
  contiguous rows), nothing is copied. :func:`mnist_for_network` makes ``X`` from the MNIST loader.
- Costs, per example: quadratic ``C_x = 1/2 ||a - y||^2``; cross-entropy
  ``C_x = sum_j -y_j ln a_j - (1 - y_j) ln(1 - a_j)`` (computed from the output ``z`` in a form that
  never takes the log of an underflowed activation). ``total_cost`` is ``network2.py``'s: the mean of
  ``C_x`` plus ``lmbda / (2n) * sum ||w||^2``.
- Randomness: ``seed`` (int or ``numpy.random.Generator``) drives the initialization and every
  epoch's shuffle; the same seed gives bit-for-bit the same weights and history.
- Bad input raises ``TypeError`` (wrong kind or dtype) or ``ValueError`` (bad shape or value) naming
  the argument, before any work starts. A training run whose parameters stop being finite raises
  ``FloatingPointError`` and restores the parameters of the last finite epoch.

Implementation: back-propagation of a mini-batch of m examples is a handful of BLAS products
((m, n_in) @ (n_in, n_out) forward, (n_out, m) @ (m, n_in) for the weight gradient). At the book's
sizes ([784, 30, 10], m = 10) the NumPy form spends about half its time in some 30 NumPy calls per
mini-batch, so ``SGD`` runs the mini-batches in a Numba kernel (``steepest._backends.numba.network``:
the same BLAS products, fused loops for everything else, 64 mini-batches per call so Ctrl-C is seen
within milliseconds): 31 ms against 53 ms per epoch of 8,000 MNIST images (``bench/bench_network.py``;
11.7x and 6.7x the book's per-example algorithm). ``backend="numpy"`` selects the NumPy form, which
is also the fallback without Numba; both are tested against the book.

Layout: ``model.py`` (:class:`Network`: forward passes, costs, back-propagation, files),
``training.py`` (the ``SGD`` loop, its buffers, the NumPy / Numba dispatch, Ctrl-C), ``data.py``
(the book's data forms and the array form, checked), ``history.py`` (:class:`TrainingHistory`).
"""

from __future__ import annotations

from .data import mnist_for_network, to_pairs, vectorized_result
from .history import TrainingHistory
from .model import Network, sigmoid, sigmoid_prime

__all__ = [
    "Network",
    "TrainingHistory",
    "mnist_for_network",
    "sigmoid",
    "sigmoid_prime",
    "to_pairs",
    "vectorized_result",
]
