"""The cost classes of ``network2.py`` and the sigmoid, as the book writes them.

A cost is any object with static ``fn(a, y)`` (the cost of one example: output activations ``a`` and desired
output ``y``, both (C, 1) columns) and ``delta(z, a, y)`` (the output error for back-propagation, from the output
layer's weighted input ``z``). :class:`QuadraticCost` and :class:`CrossEntropyCost` are the book's two; a network
recognises them (and subclasses that override neither method) and trains them in its fused kernel. Any other cost
class works too: the network then calls its ``fn`` and ``delta`` one example at a time, as the book does.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sigmoid(z: Any) -> np.ndarray:
    """The sigmoid ``1 / (1 + exp(-z))``, elementwise (no overflow warning for very negative z)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def sigmoid_prime(z: Any) -> np.ndarray:
    """Derivative of the sigmoid, ``sigmoid(z) * (1 - sigmoid(z))``."""
    return sigmoid(z) * (1 - sigmoid(z))


class QuadraticCost:
    """``C_x = 1/2 ||a - y||^2``; output error ``(a - y) * sigmoid'(z)``."""

    @staticmethod
    def fn(a: Any, y: Any) -> float:
        """The cost of output ``a`` against the desired output ``y``."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z: Any, a: Any, y: Any) -> np.ndarray:
        """The error delta of the output layer."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """``C_x = sum_j -y_j ln a_j - (1 - y_j) ln(1 - a_j)``; output error ``a - y`` (``z`` is not used)."""

    @staticmethod
    def fn(a: Any, y: Any) -> float:
        """The cost of output ``a`` against ``y``; ``nan_to_num`` turns the ``0 * log(0)`` of a saturated unit
        whose target matches into 0, as in the book."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z: Any, a: Any, y: Any) -> np.ndarray:
        """The error delta of the output layer (``z`` is in the signature for a uniform interface)."""
        return a - y


_BUILTIN = {"quadratic": QuadraticCost, "cross_entropy": CrossEntropyCost}
_NAMES = {QuadraticCost: "quadratic", CrossEntropyCost: "cross_entropy"}


def builtin_kind(cost: Any) -> str | None:
    """ "quadratic" or "cross_entropy" when ``cost`` computes exactly one of the book's costs (its ``fn`` and
    ``delta`` are theirs), else None: a user-written cost, run one example at a time."""
    for kind, klass in _BUILTIN.items():
        if getattr(cost, "fn", None) is klass.fn and getattr(cost, "delta", None) is klass.delta:
            return kind
    return None


def check_cost_class(cost: Any, name: str = "cost") -> Any:
    """A cost must have callable ``fn`` and ``delta`` (the book passes the class itself, not an instance)."""
    if not (callable(getattr(cost, "fn", None)) and callable(getattr(cost, "delta", None))):
        got = cost.__name__ if isinstance(cost, type) else type(cost).__name__
        raise TypeError(
            f"{name} must be a cost class with static methods fn(a, y) and delta(z, a, y), such as "
            f"CrossEntropyCost or QuadraticCost; got {got}"
        )
    return cost


def cost_sums(kind: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    """Sum over a block of examples of the book's ``fn``, vectorized: ``z``, ``a``, ``y`` are (m, C).

    Cross-entropy uses the book's formula on ``a``; where it is not finite (a unit saturated at exactly 0 or 1),
    the term is computed from ``z`` instead (``y softplus(-z) + (1 - y) softplus(z)``), where the book's
    ``nan_to_num`` would give 0 or 1.8e308.
    """
    a64 = a.astype(np.float64, copy=False)
    y64 = y.astype(np.float64, copy=False)
    if kind == "quadratic":
        d = a64 - y64
        return 0.5 * float(np.sum(d * d))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -y64 * np.log(a64) - (1 - y64) * np.log(1 - a64)
    bad = ~np.isfinite(terms)
    if bad.any():
        z64 = z.astype(np.float64)[bad]
        yb = y64[bad]
        terms[bad] = yb * np.logaddexp(0.0, -z64) + (1 - yb) * np.logaddexp(0.0, z64)
    return float(np.sum(terms))
