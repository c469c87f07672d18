"""Update rules and learning-rate schedules of the descent loops (the CS231n ``optim.py`` formulas).

Each rule is a function ``(W, dW, lr, state, t, hp) -> (W_new, state_new)`` that modifies neither W
nor the state in place, so a step interrupted half-way leaves the previous state intact, and a saved
state resumes to bitwise the same numbers. ``dW`` is the loop's own fresh gradient: the plain step
writes W_new into its memory (no allocation per step; the numbers are those of ``W - lr * dW``).
``t`` is the number of steps already taken (0 for the first step); ``hp`` holds the hyper-parameters
as attributes ``momentum``, ``beta1``, ``beta2``, ``eps`` (the run's ``DescentConfig``). Arrays keep
W's dtype. The loop picks its rule from :data:`RULES` once per run.

    sgd:       W <- W - lr dW
    momentum:  v <- mu v - lr dW;                W <- W + v
    nesterov:  v' <- mu v - lr dW;               W <- W - mu v + (1 + mu) v'
    adam:      m <- b1 m + (1 - b1) dW;  v <- b2 v + (1 - b2) dW^2;
               W <- W - lr (m / (1 - b1^(t+1))) / (sqrt(v / (1 - b2^(t+1))) + eps)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _validate

UPDATES = ("sgd", "momentum", "nesterov", "adam")
STATE_KEYS = {"sgd": (), "momentum": ("v",), "nesterov": ("v",), "adam": ("m", "v")}


def init_state(update: str, W: np.ndarray) -> dict[str, np.ndarray]:
    return {key: np.zeros_like(W) for key in STATE_KEYS[update]}


def _sgd(W: np.ndarray, dW: np.ndarray, lr: float, state: dict, t: int, hp: Any) -> tuple[np.ndarray, dict]:
    np.multiply(dW, lr, out=dW)
    return np.subtract(W, dW, out=dW), state


def _momentum(W: np.ndarray, dW: np.ndarray, lr: float, state: dict, t: int, hp: Any) -> tuple[np.ndarray, dict]:
    v = hp.momentum * state["v"] - lr * dW
    return W + v, {"v": v}


def _nesterov(W: np.ndarray, dW: np.ndarray, lr: float, state: dict, t: int, hp: Any) -> tuple[np.ndarray, dict]:
    mu = hp.momentum
    v_prev = state["v"]
    v = mu * v_prev - lr * dW
    return W - mu * v_prev + (1.0 + mu) * v, {"v": v}


def _adam(W: np.ndarray, dW: np.ndarray, lr: float, state: dict, t: int, hp: Any) -> tuple[np.ndarray, dict]:
    b1, b2, eps = hp.beta1, hp.beta2, hp.eps
    m = b1 * state["m"] + (1.0 - b1) * dW
    v = b2 * state["v"] + (1.0 - b2) * (dW * dW)
    k = t + 1
    m_hat = m / (1.0 - b1**k)
    v_hat = v / (1.0 - b2**k)
    return W - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v}


RULES: dict[str, Callable[..., tuple[np.ndarray, dict]]] = {
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adam": _adam,
}


# --- learning-rate schedules -----------------------------------------------------------------------


def check_decay(lr_decay: Any) -> tuple | None:
    """``None``, ``("step", every, factor)`` or ``("exp", rate)``; ``every`` counts iterations."""
    if lr_decay is None:
        return None
    if not isinstance(lr_decay, (tuple, list)) or not lr_decay or not isinstance(lr_decay[0], str):
        raise TypeError(f"lr_decay must be None, ('step', every, factor) or ('exp', rate); got {lr_decay!r}")
    kind = lr_decay[0]
    if kind == "step":
        if len(lr_decay) != 3:
            raise ValueError(f"lr_decay ('step', every, factor) needs 3 entries; got {lr_decay!r}")
        every = _validate.integer(lr_decay[1], "lr_decay every", low=1)
        factor = _validate.real(lr_decay[2], "lr_decay factor", low=0.0, low_open=True)
        return ("step", every, factor)
    if kind == "exp":
        if len(lr_decay) != 2:
            raise ValueError(f"lr_decay ('exp', rate) needs 2 entries; got {lr_decay!r}")
        return ("exp", _validate.real(lr_decay[1], "lr_decay rate", low=0.0))
    raise ValueError(f"lr_decay kind must be 'step' or 'exp'; got {kind!r}")


def learning_rate(lr0: float, decay: tuple | None, t: int) -> float:
    """The step size of step ``t`` (0-based): ``lr0``, ``lr0 * factor ** (t // every)`` or ``lr0 * exp(-rate t)``.

    The loop calls it only when ``decay`` is not None (``lr0`` itself otherwise).
    """
    if decay is None:
        return lr0
    if decay[0] == "step":
        return lr0 * decay[2] ** (t // decay[1])
    return lr0 * math.exp(-decay[1] * t)
