"""The notes' search strategies: random search, random local search and the step-size sweep."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _validate
from .._backends._shared import penalty
from .._optional import progress_bar
from ..losses import LinearLoss
from .checks import call_back, check_backend, check_callback, check_loss_or_callable, check_shape, check_W0
from .results import OptimizeResult, StepSizeSweep


def _evaluator(loss: Any, name: str) -> Callable[[np.ndarray], float]:
    if isinstance(loss, LinearLoss):
        return _bound_loss(loss, name)
    return lambda W: _validate.returned_real(loss(W), "loss")


def _bound_loss(loss: LinearLoss, name: str) -> Callable[[np.ndarray], float]:
    """loss(W) on backend ``name`` (the loss object's own backend is left as it is)."""
    return loss.loss if loss.backend == name else loss.with_backend(name).loss


def default_block(C: int, D: int) -> int:
    """Candidates per pass over X in random search: enough rows (K*C) for an efficient GEMM."""
    return max(1, min(64, 640 // max(C, 1)))


# --- strategy 1 -------------------------------------------------------------------------------------


def _search_result(method, W, loss, tries, best_hist, began, interrupted, backend, message, **extra):
    """The result of a search strategy: every try's loss, the best so far after each, one evaluation a try."""
    n = len(tries)
    return OptimizeResult(
        method=method,
        W=W,
        loss=loss,
        loss_history=np.asarray(tries),
        nfev=n,
        ngev=0,
        nit=n,
        elapsed=time.perf_counter() - began,
        interrupted=interrupted,
        backend=backend,
        best_history=np.asarray(best_hist),
        message=message,
        **extra,
    )


def _no_finite_loss(method: str, what: str, n: int) -> FloatingPointError:
    """No result to return: a NaN or infinite loss is never one."""
    return FloatingPointError(
        f"{method}: no {what} had a finite loss ({n} evaluated; the loss returned NaN or inf for every one); "
        "check the loss function, or scale the weights down"
    )


def _same_length(tries: list, best_hist: list) -> int:
    """Cut both histories to the steps that finished (a Ctrl-C may land between the two appends)."""
    n = min(len(tries), len(best_hist))
    del tries[n:], best_hist[n:]
    return n


def random_search(
    loss: Any,
    shape: Any = None,
    num_tries: int = 1000,
    scale: float = 1e-4,
    seed: Any = None,
    block: int | None = None,
    *,
    callback: Callable | None = None,
    progress: bool = False,
    verbose: bool = False,
    backend: str | None = None,
) -> OptimizeResult:
    """Strategy 1: try ``num_tries`` random ``W = randn(*shape) * scale`` and keep the lowest loss.

    ``loss`` is an :class:`SVMLoss` / :class:`SoftmaxLoss` (or any callable ``f(W) -> float``, then
    evaluated one candidate at a time); ``shape`` is (C, D), by default (largest label + 1, D).
    Candidates are drawn from ``seed`` in order, one ``(C, D)`` standard-normal draw each, as the notes'
    loop does. Verbose prints ``in attempt %d the loss was %f, best %f``.

    Fast path (``block`` > 1, default 64 for C = 10): ``block`` candidates are evaluated per pass over
    X as one stacked (block*C, D) @ (D, B) product over blocks of columns, then a vectorized per-
    candidate loss. Same candidates, same best W and the same losses (to about 1e-15 relative) as
    ``block=1``, which calls the loss once per candidate (one pass over X each). Cost: about
    ``num_tries / block`` passes over X and ``num_tries * C * D * N`` multiply-adds.

    Result: ``loss_history`` the loss of every try, ``best_history`` the best so far, ``W`` and
    ``loss`` the best. ``nfev`` counts candidates evaluated. A stop by callback or Ctrl-C inside a
    block keeps the candidates before it (the later ones of that block are dropped). A candidate whose
    loss is NaN or infinite is never the best; FloatingPointError when no candidate had a finite loss.
    """
    loss = check_loss_or_callable(loss)
    shape = check_shape(shape, loss)
    num_tries = _validate.integer(num_tries, "num_tries", low=1)
    scale = _validate.positive(scale, "scale")
    rng = _validate.rng(seed)
    linear = isinstance(loss, LinearLoss)
    if block is None:
        block = default_block(*shape) if linear else 1
    else:
        block = _validate.integer(block, "block", low=1)
    callback = check_callback(callback)
    progress = _validate.boolean(progress, "progress")
    verbose = _validate.boolean(verbose, "verbose")
    name = check_backend(backend, loss)
    dtype = loss.dtype if linear else np.dtype(np.float64)
    evaluate = _evaluator(loss, name)
    candidates = loss.with_backend(name) if linear else None

    tries: list[float] = []
    best_hist: list[float] = []
    best_W, best_loss = None, math.inf
    interrupted, message = False, ""
    bar = progress_bar(progress, num_tries, "random search")
    began = time.perf_counter()
    try:
        done = 0
        while done < num_tries:
            k = min(block, num_tries - done) if linear else 1
            # (k, C, D) draws fill the same stream, in the same order, as k draws of (C, D)
            cand = (rng.standard_normal((k,) + shape) * scale).astype(dtype, copy=False)
            if k > 1:
                values = candidates.candidate_losses(cand)
                bad = np.flatnonzero(~np.isfinite(values))
                if len(bad):
                    raise FloatingPointError(
                        f"random_search: the loss of candidate {done + int(bad[0])} is not finite; "
                        "scale is too large for this data (the scores overflowed)"
                    )
            else:
                values = [evaluate(cand[0])]
            stop = False
            for j in range(k):
                value = float(values[j])
                if value < best_loss and math.isfinite(value):  # NaN or -inf is never the best
                    best_W, best_loss = cand[j], value
                tries.append(value)
                best_hist.append(best_loss)
                if verbose:
                    print("in attempt %d the loss was %f, best %f" % (done, value, best_loss))
                done += 1
                bar.update()
                if call_back(callback, done - 1, {"loss": value, "best_loss": best_loss, "W": cand[j]}):
                    stop, message = True, "stopped by the callback"
                    break
            if stop:
                break
    except KeyboardInterrupt:
        interrupted, message = True, "interrupted (Ctrl-C)"
    finally:
        bar.close()
    n = _same_length(tries, best_hist)
    if not n and interrupted:  # Ctrl-C before the first candidate: no result, never a NaN loss
        raise KeyboardInterrupt
    if best_W is None and n:
        raise _no_finite_loss("random_search", "candidate", n)
    return _search_result(  # some candidate had a finite loss: the checks above leave no other way here
        "random_search",
        np.array(best_W, copy=True),
        best_loss,
        tries,
        best_hist,
        began,
        interrupted,
        name,
        message,
        details={"block": block, "scale": scale},
    )


# --- strategy 2 -------------------------------------------------------------------------------------


def random_local_search(
    loss: Any,
    W0: Any = None,
    step_size: float = 1e-4,
    num_iters: int = 1000,
    init_scale: float = 1e-3,
    seed: Any = None,
    *,
    block: int | None = None,
    shape: Any = None,
    callback: Callable | None = None,
    progress: bool = False,
    verbose: bool = False,
    backend: str | None = None,
) -> OptimizeResult:
    """Strategy 2: from ``W`` (``W0``, or ``randn(*shape) * init_scale``) try ``W + randn * step_size``
    ``num_iters`` times and keep a try when its loss is lower than the best so far (which starts at
    +inf, as in the notes, so the first try is always kept). Verbose prints ``iter %d loss is %f``
    (the best loss).

    Fast path (an :class:`SVMLoss` / :class:`SoftmaxLoss`, ``block`` > 1): scores are linear in W, so
    a try's scores are the current scores plus ``step_size * (D_k @ X)`` for its Gaussian draw D_k.
    The draws of ``block`` tries (the same draws, in the same order, as one at a time) are scored
    together in one pass over X, then the tries are accepted one after the other on those scores
    (O(C N) each): the notes' algorithm, with the same accepted tries and W as ``block=1`` (one pass
    over X per try) up to the rounding of the losses (about 1e-15).

    Result: ``loss_history`` the loss of every try, ``best_history`` the best after each, ``accepted``
    the number of tries kept, ``W`` / ``loss`` the final point. A try whose loss is NaN or infinite is
    never kept; FloatingPointError when no try had a finite loss.
    """
    loss = check_loss_or_callable(loss)
    if W0 is not None:
        W = check_W0(W0, loss)
        if shape is not None and check_shape(shape, loss) != W.shape:
            raise ValueError(f"shape must be W0's shape {W.shape} when both are given (or None); got {shape!r}")
    else:
        shape = check_shape(shape, loss)
        W = None
    step_size = _validate.positive(step_size, "step_size")
    num_iters = _validate.integer(num_iters, "num_iters", low=1)
    init_scale = _validate.positive(init_scale, "init_scale")
    rng = _validate.rng(seed)
    callback = check_callback(callback)
    progress = _validate.boolean(progress, "progress")
    verbose = _validate.boolean(verbose, "verbose")
    name = check_backend(backend, loss)
    dtype = loss.dtype if isinstance(loss, LinearLoss) else np.dtype(np.float64)
    evaluate = _evaluator(loss, name)

    linear = isinstance(loss, LinearLoss)
    if block is None:
        block = _local_block(shape if W is None else W.shape, loss.n) if linear else 1
    else:
        block = _validate.integer(block, "block", low=1)
    if W is None:
        W = (rng.standard_normal(shape) * init_scale).astype(dtype, copy=False)
    search = loss.with_backend(name) if linear and block > 1 else None

    tries: list[float] = []
    best_hist: list[float] = []
    state = {"W": W, "loss": math.inf, "accepted": 0, "S": None}
    interrupted, message = False, ""
    bar = progress_bar(progress, num_iters, "random local search")
    began = time.perf_counter()

    def take(i: int, W_try: np.ndarray, value: float, S_try: np.ndarray | None) -> bool:
        """Record try i; True when the callback asks to stop."""
        if value < state["loss"] and math.isfinite(value):  # NaN or -inf is never accepted
            state.update(W=W_try, loss=value, accepted=state["accepted"] + 1, S=S_try)
        tries.append(value)
        best_hist.append(state["loss"])
        if verbose:
            print("iter %d loss is %f" % (i, state["loss"]))
        bar.update()
        return call_back(callback, i, {"loss": value, "best_loss": state["loss"], "W": state["W"]})

    trial = None  # the fast path's buffers for a try's W and scores
    try:
        i = 0
        while i < num_iters:
            k = min(block, num_iters - i)
            draws = rng.standard_normal((k,) + W.shape)  # the same stream as k draws of W's shape
            if search is None:
                W_try = (state["W"] + draws[0] * step_size).astype(dtype, copy=False)
                if take(i, W_try, evaluate(W_try), None):
                    message = "stopped by the callback"
                    break
                i += 1
                continue
            if state["S"] is None:  # the start's scores ride along with the first block's draws
                T = search.candidate_scores(np.concatenate([state["W"][None].astype(np.float64), draws]))
                state["S"], T = T[0], T[1:]
            else:
                T = search.candidate_scores(draws)
            stop = False
            for j in range(k):
                # in buffers that a kept try takes over (fresh ones follow): a new 250 KB array a try
                # cost more than its loss; the same roundings as `W + draws[j] * step_size`
                if trial is None:
                    trial = (np.empty(W.shape), np.empty(state["S"].shape))
                W_try, S_try = trial
                np.add(state["W"], np.multiply(draws[j], step_size, out=W_try), out=W_try)
                np.add(state["S"], np.multiply(T[j], step_size, out=S_try), out=S_try)
                W_try = W_try.astype(dtype, copy=False)
                value = search.loss_of_scores(S_try, W_try)
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"random_local_search: the loss of try {i + j} is not finite; step_size is too large "
                        "for this data (the scores overflowed)"
                    )
                kept = state["accepted"]
                if take(i + j, W_try, value, S_try):
                    stop, message = True, "stopped by the callback"
                    break
                if state["accepted"] != kept:
                    trial = None
            if stop:
                break
            i += k
    except KeyboardInterrupt:
        interrupted, message = True, "interrupted (Ctrl-C)"
    finally:
        bar.close()
    W, best_loss, accepted = state["W"], state["loss"], state["accepted"]
    n = _same_length(tries, best_hist)
    if not n and interrupted:  # Ctrl-C before the first try: no result, never a NaN loss
        raise KeyboardInterrupt
    if n and not accepted:
        raise _no_finite_loss("random_local_search", "try", n)
    return _search_result(
        "random_local_search",
        np.array(W, copy=True),
        best_loss,
        tries,
        best_hist,
        began,
        interrupted,
        name,
        message,
        accepted=accepted,
        details={"step_size": step_size},
    )


def _local_block(shape: tuple, n: int) -> int:
    """Tries per pass over X in random local search: their (k, C, n) score changes stay near 128 MB."""
    return int(max(2, min(64, (128 << 20) // (8 * shape[0] * max(n, 1)))))


# --- the step-size sweep ------------------------------------------------------------------------------


MAX_EXPONENT = 308  # 10.0 ** 309 overflows float64


def _exponents(exponents: Any) -> np.ndarray:
    if isinstance(exponents, (str, bytes)) or not hasattr(exponents, "__iter__"):
        raise TypeError(
            f"exponents must be an iterable of numbers (e.g. range(-10, 0)); got {type(exponents).__name__}"
        )
    values = [_validate.real(e, f"exponents[{k}]") for k, e in enumerate(exponents)]
    if not values:
        raise ValueError("exponents must not be empty")
    for k, e in enumerate(values):
        if e > MAX_EXPONENT:  # 10 ** e is no float: OverflowError, not a step
            raise ValueError(
                f"exponents must be at most {MAX_EXPONENT} (10 ** e must be a finite step); exponents[{k}] = {e:g}"
            )
    return np.asarray(values, dtype=np.float64)


def step_size_sweep(
    loss: Any,
    W: Any,
    dW: Any = None,
    exponents: Any = range(-10, 0),
    *,
    verbose: bool = False,
    backend: str | None = None,
) -> StepSizeSweep:
    """The notes' sweep: ``loss(W - step * dW)`` for ``step = 10 ** e``, e in ``exponents``.

    ``dW`` defaults to the analytic gradient at W (one fused pass). For an SVM / softmax loss in
    float64 the sweep uses the linearity of the scores: ``S(W - a dW) = S(W) - a S(dW)``, so one pass
    over X (a (2C, D) product) serves every step, then a cheap O(C N) NumPy pass over the scores per
    step. Otherwise each step costs one evaluation. Verbose prints the notes' lines
    ``for step size %e new loss: %f``. The result prints as a table with the best step marked.
    ``exponents`` must be at most 308 (10 ** 309 is no float); a loss that overflows at some step
    raises FloatingPointError naming the step.
    """
    loss = check_loss_or_callable(loss)
    linear = isinstance(loss, LinearLoss)
    W = check_W0(W, loss, "W")
    if dW is not None:
        dW = _validate.float_array(dW, "dW", 2)
        if dW.shape != W.shape:
            raise ValueError(f"dW must have the shape of W {W.shape}; got {dW.shape}")
        if dW.dtype != W.dtype:
            raise TypeError(f"dW must have the dtype of W ({W.dtype}); got {dW.dtype}")
    elif not linear:
        raise ValueError("dW must be given when loss is a plain callable (no analytic gradient)")
    exps = _exponents(exponents)
    verbose = _validate.boolean(verbose, "verbose")
    name = check_backend(backend, loss)
    began = time.perf_counter()
    steps = np.array([10.0 ** float(e) for e in exps])  # Python pow, as the notes' 10 ** e
    nfev = ngev = 0
    if dW is None:
        loss0, dW = _bound_loss_grad(loss, name)(W)
        nfev, ngev = 1, 1
    if linear and W.dtype == np.float64:
        method = "scores (one pass over X)"
        S0, S1 = loss.with_backend(name).stacked_scores(W, dW)
        alphas = np.concatenate([[0.0], -steps])
        with np.errstate(over="ignore", invalid="ignore"):  # an overflowed step is named below
            data = np.array([loss.data_losses((S0 + a * S1)[None])[0] for a in alphas])
            regs = np.array([float(np.sum(Wn * Wn)) for Wn in (W - a * dW for a in np.concatenate([[0.0], steps]))])
            values = data + penalty(loss.reg, regs)
        _finite_sweep(values[0], "W", "")
        loss0 = float(values[0]) if nfev == 0 else loss0
        losses = values[1:]
        nfev += len(steps) + (1 if nfev == 0 else 0)
    else:
        method = "direct (one evaluation per step)"
        evaluate = _evaluator(loss, name)
        if nfev == 0:
            loss0 = evaluate(W)
            nfev = 1
        _finite_sweep(loss0, "W", "")
        losses = np.array([_step_loss(evaluate, W, dW, s) for s in steps], dtype=np.float64)
        nfev += len(steps)
    for s, value in zip(steps, losses):
        _finite_sweep(value, f"W - {s:g} * dW", "; use smaller steps (exponents)")
    best = int(np.argmin(losses))
    result = StepSizeSweep(
        steps=steps,
        losses=np.asarray(losses, dtype=np.float64),
        loss0=float(loss0),
        best_index=best,
        nfev=nfev,
        ngev=ngev,
        elapsed=time.perf_counter() - began,
        backend=name,
        method=method,
    )
    if verbose:
        print("\n".join(result.lines()))
    return result


def _step_loss(evaluate: Callable, W: np.ndarray, dW: np.ndarray, step: float) -> float:
    """The loss at ``W - step * dW``; inf when that W itself overflowed (it is not evaluated)."""
    with np.errstate(over="ignore", invalid="ignore"):
        W_step = (W - step * dW).astype(W.dtype, copy=False)
    return evaluate(W_step) if _validate.all_finite(W_step) else math.inf


def _finite_sweep(value: float, where: str, hint: str) -> None:
    """A loss of the sweep that is NaN or inf is an overflow, never a row of the table (nor its best)."""
    if not math.isfinite(value):
        raise FloatingPointError(f"step_size_sweep: the loss at {where} is not finite ({value}): it overflowed{hint}")


def _bound_loss_grad(loss: LinearLoss, name: str):
    return loss.with_backend(name).loss_grad
