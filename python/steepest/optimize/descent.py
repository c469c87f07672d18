"""The descent loop behind ``gradient_descent``, ``minibatch_gd``, ``sgd`` and ``train_linear_classifier``.

:func:`descend` runs one validated :class:`~.config.DescentConfig` on a loss, in four steps:

1. :func:`_prepare` checks what depends on the problem (loss, W0 or shape, validation data, seed,
   callback, backend), derives the checkpoint ``settings``, validates a resumed checkpoint against the
   run (:func:`.checkpoint.load`: every field, before any of it is used) and, last, creates the
   checkpoint folder: a refused call draws nothing and writes nothing;
2. :func:`_start` gives the starting state, fresh (W drawn from the seed) or resumed;
3. :func:`_loop` takes the steps. Each is one fused loss-and-gradient kernel call on the step's
   examples (the kernel gathers the mini-batch columns itself: no ``X[:, idx]`` copy per step), an
   update rule, and bookkeeping; plain SGD with nothing to do between steps takes runs of steps, one
   kernel call each (:func:`_plain_runs`). State changes are committed together at the end of a step, so Ctrl-C
   at any point returns (and checkpoints) the last completed step. Validation (:func:`_evaluate`),
   checkpoints (:func:`_save`) and the stopping rules (:func:`_after_step`) run on their schedules;
4. :func:`_result` builds the result object.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _validate
from .._optional import progress_bar
from .._runs import RunLengths
from . import checkpoint as ckpt
from . import updates
from .checks import check_backend, check_callback, check_linear_loss, check_shape, check_validation, check_W0
from .config import SAMPLINGS, DescentConfig
from .results import OptimizeResult

__all__ = ["descend", "DescentConfig", "SAMPLINGS"]


@dataclass(frozen=True, eq=False)
class _Run:
    """A checked run: its configuration and the facts of its problem."""

    config: DescentConfig
    loss: Any  # the loss, on the run's backend
    backend: str
    n: int  # the examples the loss averages over
    per_epoch: int  # steps per epoch
    total: int  # the step the run ends at
    eval_every: int
    val_loss: Any  # the same loss on the validation data, or None
    callback: Callable | None
    settings: dict  # what a checkpoint records and a resume must match


@dataclass(eq=False)
class _State:
    """Where a run stands after its last completed step: what a checkpoint saves and a resume restores."""

    W: np.ndarray
    opt: dict  # the update rule's state (momentum velocity, Adam moments)
    rng: np.random.Generator
    t: int = 0  # steps completed
    perm: np.ndarray | None = None  # the epoch's permutation (sampling="epoch")
    pos: int = 0  # the next position in it
    best: tuple = (None, -1.0, None, 0)  # (W, accuracy, step, evaluations without improvement)
    history: list = field(default_factory=list)
    lr_history: list = field(default_factory=list)
    val_steps: list = field(default_factory=list)
    val_accs: list = field(default_factory=list)
    saved_at: int = -1  # the step of the last checkpoint written or read


def descend(
    loss: Any,
    config: DescentConfig,
    W0: Any = None,
    *,
    seed: Any = None,
    X_val: Any = None,
    y_val: Any = None,
    callback: Callable | None = None,
    shape: Any = None,
    result_class: type = OptimizeResult,
    extra: dict | None = None,
) -> OptimizeResult:
    """Run ``config`` on ``loss`` (an SVMLoss / SoftmaxLoss) from ``W0`` (None: ``randn(*shape) * init_scale``).

    ``seed`` (int, Generator or None) is the source of every draw; ``X_val`` / ``y_val`` the validation
    data; ``callback(step, info)`` returning True stops the run. Returns ``result_class`` with ``extra``
    fields added. Everything is checked before any work (the config when it was built).
    """
    run, W, shape, rng, saved = _prepare(loss, config, W0, shape, seed, X_val, y_val, callback)
    state = _start(run, W, shape, rng, saved)
    start, began = state.t, time.perf_counter()
    ending = _loop(run, state)
    if config.checkpoint is not None and state.saved_at != state.t:
        _save(run, state)
    return _result(run, state, start, ending, began, result_class, extra)


def _prepare(loss, config, W0, shape, seed, X_val, y_val, callback):
    """Every check of what depends on the problem; nothing is drawn or written before all passed.

    Returns the run, W0 checked (or None), the shape of W, the generator (the seed's, or the resumed
    checkpoint's) and the resumed checkpoint, validated against the run as a whole (a
    :class:`~.checkpoint.Saved`, or None). The checkpoint folder is created last, once the resumed
    checkpoint (if any) matched.
    """
    if not isinstance(config, DescentConfig):
        raise TypeError(f"config must be a DescentConfig; got {type(config).__name__}")
    loss = check_linear_loss(loss)
    W = None if W0 is None else check_W0(W0, loss)
    shape = W.shape if W is not None else check_shape(shape, loss)
    N = loss.n
    if config.batch_size is not None:
        _validate.integer(config.batch_size, "batch_size", low=1, high=N)
    X_val, y_val = check_validation(loss, X_val, y_val, shape[0])
    if config.early_stopping is not None and X_val is None:
        raise ValueError("early_stopping needs validation data: pass X_val and y_val")
    rng = _validate.rng(seed)
    callback = check_callback(callback)
    name = check_backend(config.backend, loss)
    loss = loss.with_backend(name)
    per_epoch = config.steps_per_epoch(N)
    settings = {
        "method": config.method,
        "loss": loss.name,
        **loss.options,
        "N": N,
        "D": loss.dim,
        "C": shape[0],
        "dtype": str(loss.dtype),
        "labels_crc32": zlib.crc32(np.ascontiguousarray(loss.labels).tobytes()),
        **config.settings(per_epoch),
        "X_val_shape": list(X_val.shape) if X_val is not None else None,
    }
    run = _Run(
        config,
        loss,
        name,
        N,
        per_epoch,
        config.total_steps(per_epoch),
        config.eval_interval(per_epoch),
        None if X_val is None else loss.with_data(X_val, y_val),
        callback,
        json.loads(json.dumps(settings)),
    )  # the settings in the form a save/load round trip gives
    saved = None
    if config.resume is not None:
        saved = ckpt.load(config.resume, _expected(run, shape))
        rng = saved.rng
    if config.checkpoint is not None:
        ckpt.make_ready(config.checkpoint)
    return run, W, shape, rng, saved


def _expected(run: _Run, shape: tuple) -> ckpt.Expected:
    """What a checkpoint must hold to continue this run (the facts :func:`ckpt.load` checks it against)."""
    cfg = run.config
    return ckpt.Expected(
        settings=run.settings,
        shape=tuple(shape),
        dtype=np.dtype(run.loss.dtype),
        state_keys=updates.STATE_KEYS[cfg.update],
        n=run.n,
        batch_size=cfg.batch_size,
        by_epoch=cfg.sampling == "epoch",
        per_epoch=run.per_epoch,
        total=run.total,
        eval_every=run.eval_every,
        validating=run.val_loss is not None,
    )


def _start(run: _Run, W: np.ndarray | None, shape: tuple, rng: np.random.Generator, saved: ckpt.Saved | None) -> _State:
    """The starting state: the resumed checkpoint's (validated, private arrays), or step 0 from W0 (None:
    ``randn(*shape) * init_scale``)."""
    if saved is None:
        if W is None:
            W = (rng.standard_normal(shape) * run.config.init_scale).astype(run.loss.dtype)
        return _State(W, updates.init_state(run.config.update, W), rng, pos=run.n)
    return _State(
        W=saved.W,
        opt=saved.opt,
        rng=rng,
        t=saved.step,
        perm=saved.perm,
        pos=saved.pos,
        best=saved.best,
        history=saved.loss_history,
        lr_history=saved.lr_history,
        val_steps=saved.val_steps,
        val_accs=saved.val_accs,
        saved_at=saved.step,
    )


def _plain_runs(run: _Run, s: _State) -> str | None:
    """Plain SGD with a constant rate and nothing to do between steps: runs of steps (``RunLengths``),
    each one kernel call (``LinearLoss.train_at``), bitwise the steps one call each, with the same
    draws (tested). Returns why the run ended ("" when it did not), or None when a run's loss or W
    was not finite: that run is then undone (its draws too) for :func:`_loop` to take step by step,
    so the error names the same step with the same state."""
    cfg, rng, train_at = run.config, s.rng, run.loss.train_at
    N, B, lr, history, lr_hist = run.n, cfg.batch_size, cfg.step_size, s.history, s.lr_history
    W, t, snap = s.W, s.t, None
    try:
        for size in RunLengths(run.total - t):
            snap = (rng.bit_generator.state, t)  # Ctrl-C or a divergence undoes the run's draws
            batches = rng.integers(0, N, (size, B))  # = size draws of B, one after the other (tested)
            W_new = np.empty_like(W)  # fresh: W may be the caller's
            with np.errstate(over="ignore", invalid="ignore"):
                losses = train_at(W, batches, lr, W_new)
                total = float(np.add.reduce(losses)) + float(np.add.reduce(W_new, axis=None, dtype=np.float64))
            if not math.isfinite(total):
                rng.bit_generator.state = snap[0]
                return None
            history.extend(losses.tolist())  # the commit
            lr_hist.extend([lr] * size)
            W, t = W_new, t + size
    except KeyboardInterrupt:
        _undo_unfinished(s, t, snap)
        return "interrupted"
    finally:
        s.W, s.t = W, t
    return ""


def _loop(run: _Run, s: _State) -> str:
    """The steps from ``s.t`` to ``run.total``; returns why the run ended before ("" when it did not).

    The hot path: what a step reads is bound to locals once; a step's results are committed together
    (the appends, then one tuple store: nothing in between can raise Ctrl-C) and the chores after it
    (:func:`_after_step`) run only when asked for. ``s`` gets the last completed step on every way out.
    """
    cfg, rng = run.config, s.rng
    f, rule, N, B, total = run.loss.loss_grad_at, updates.RULES[cfg.update], run.n, cfg.batch_size, run.total
    # plain SGD: the update in the kernel call (bitwise the rule's, tested), into a fresh W_new a step,
    # since the history of W (best, checkpoints, callbacks) may keep every one
    step_at = run.loss.step_at if cfg.update == "sgd" else None
    by_epoch, lr0, decay, saving = cfg.sampling == "epoch", cfg.step_size, cfg.lr_decay, cfg.checkpoint is not None
    val_loss, every, history, lr_hist = run.val_loss, run.eval_every, s.history, s.lr_history
    chores = (
        saving
        or cfg.verbose
        or cfg.progress
        or cfg.tol is not None
        or cfg.early_stopping is not None
        or run.callback is not None
    )
    plain = cfg.update == "sgd" and decay is None and B is not None and not by_epoch and val_loss is None
    if plain and not chores and (ending := _plain_runs(run, s)) is not None:
        return ending
    W, opt, perm, pos, best, t = s.W, s.opt, s.perm, s.pos, s.best, s.t
    snap, ending = None, ""
    bar = progress_bar(cfg.progress, total, cfg.method, initial=min(t, total))
    try:
        while t < total:
            if saving:  # the generator before this step's draws: Ctrl-C undoes them
                snap = (rng.bit_generator.state, t)
            perm_new, pos_new = perm, pos
            if B is None:
                idx = None
            elif not by_epoch:  # = CS231n's np.random.choice(N, B): the same draws, less argument handling (tested)
                idx = rng.integers(0, N, B)
            else:
                if perm_new is None or pos_new >= N:
                    perm_new, pos_new = rng.permutation(N), 0
                idx = perm_new[pos_new : pos_new + B]
                pos_new += idx.shape[0]
            lr = lr0 if decay is None else updates.learning_rate(lr0, decay, t)
            with np.errstate(over="ignore", invalid="ignore"):
                if step_at is not None:
                    W_new, opt_new = np.empty_like(W), opt
                    value = step_at(W, idx, lr, W_new)
                else:
                    value, dW = f(W, idx)
                    W_new, opt_new = rule(W, dW, lr, opt, t, cfg)
                # one cheap sum: a NaN or inf anywhere in W_new makes it non-finite
                total_W = float(np.add.reduce(W_new, axis=None, dtype=np.float64))
            if not (math.isfinite(value) and math.isfinite(total_W)):
                raise _diverged(cfg, t, value)
            acc, best_new = None, best
            if val_loss is not None and (t + 1) % every == 0:
                acc, best_new = _evaluate(s, val_loss, W_new, t + 1, best)
            history.append(value)  # the commit
            lr_hist.append(lr)
            W, opt, perm, pos, best, t = W_new, opt_new, perm_new, pos_new, best_new, t + 1
            if chores and (ending := _after_step(run, s, bar, (W, opt, perm, pos, best, t), value, lr, acc)):
                break
    except KeyboardInterrupt:
        ending = "interrupted"
        _undo_unfinished(s, t, snap)
    finally:
        s.W, s.opt, s.perm, s.pos, s.best, s.t = W, opt, perm, pos, best, t
        bar.close()
    return ending


def _diverged(cfg: DescentConfig, t: int, value: float) -> FloatingPointError:
    return FloatingPointError(
        f"{cfg.method}: the loss or the updated W is not finite at step {t} (loss {value}); the run diverged "
        f"or the scores overflowed: use a smaller step_size (now {cfg.step_size:g})"
    )


def _evaluate(s: _State, val_loss: Any, W: np.ndarray, step: int, best: tuple) -> tuple[float, tuple]:
    """The validation accuracy of W after ``step`` steps (recorded in ``s``; Ctrl-C before the step's
    commit removes it) and the best (W, accuracy, step, evaluations without improvement) so far."""
    acc = val_loss.accuracy(W)
    s.val_steps.append(step)
    s.val_accs.append(acc)
    return acc, ((W, acc, step, 0) if acc > best[1] else (best[0], best[1], best[2], best[3] + 1))


def _after_step(run: _Run, s: _State, bar: Any, committed: tuple, value: float, lr: float, acc: float | None) -> str:
    """The chores after a committed step (the verbose line, the checkpoint, the progress bar), then
    the stopping rules: returns why the run ends here ("" to go on): tol, early stopping, the callback."""
    cfg, best, t, history = run.config, committed[4], committed[5], s.history
    if cfg.verbose and (t - 1) % cfg.verbose_every == 0:
        print("iteration %d / %d: loss %f" % (t - 1, run.total, value))
    if cfg.checkpoint is not None and t % cfg.checkpoint_every == 0:
        s.W, s.opt, s.perm, s.pos, s.best, s.t = committed
        _save(run, s)
    bar.update()
    if cfg.tol is not None and len(history) >= 2 and abs(history[-2] - history[-1]) <= cfg.tol:
        return "converged"
    if cfg.early_stopping is not None and best[3] >= cfg.early_stopping:
        return "stopped early"
    if run.callback is None:
        return ""
    info = {"loss": value, "step_size": lr, "W": committed[0], "val_acc": acc, "epoch": t / run.per_epoch}
    return "callback" if run.callback(t - 1, info) else ""


def _undo_unfinished(s: _State, t: int, snap: tuple | None) -> None:
    """After Ctrl-C: drop what the unfinished step recorded and undo its draws, so a resume repeats it."""
    del s.history[t:], s.lr_history[t:]
    while s.val_steps and s.val_steps[-1] > t:
        s.val_steps.pop()
        s.val_accs.pop()
    if snap is not None and snap[1] == t:
        s.rng.bit_generator.state = snap[0]


def _save(run: _Run, s: _State) -> None:
    """Checkpoint the state atomically (see :mod:`.checkpoint`)."""
    arrays = {
        "W": s.W,
        "loss_history": np.asarray(s.history, dtype=np.float64),
        "lr_history": np.asarray(s.lr_history, dtype=np.float64),
        "val_steps": np.asarray(s.val_steps, dtype=np.int64),
        "val_accs": np.asarray(s.val_accs, dtype=np.float64),
    }
    arrays.update({"state_" + k: v for k, v in s.opt.items()})
    if s.perm is not None:
        arrays["perm"] = s.perm
    if s.best[0] is not None:
        arrays["best_W"] = s.best[0]
    meta = {
        "settings": run.settings,
        "step": s.t,
        "pos": s.pos,
        "best_acc": s.best[1],
        "best_step": s.best[2],
        "bad": s.best[3],
        "rng": ckpt.rng_state(s.rng),
    }
    ckpt.save(run.config.checkpoint, arrays, meta)
    s.saved_at = s.t


def _message(ending: str, cfg: DescentConfig, best: tuple) -> str:
    if ending == "converged":
        return f"the loss changed by <= tol = {cfg.tol:g}"
    if ending == "stopped early":
        return f"no validation improvement in {cfg.early_stopping} evaluations; best at step {best[2]}"
    return {"callback": "stopped by the callback", "interrupted": "interrupted (Ctrl-C)"}.get(ending, "")


def _result(
    run: _Run, s: _State, start: int, ending: str, began: float, result_class: type, extra: dict | None
) -> OptimizeResult:
    """The result: the best W when early stopping ended the run, else the last one."""
    cfg, has_val, best = run.config, run.val_loss is not None, s.best
    stopped_early = ending == "stopped early"
    W = best[0] if stopped_early and best[0] is not None else s.W
    nfev = ngev = len(s.history)
    final = s.history[-1] if s.history else float("nan")
    # gradient descent reports the loss at the W it returns; so does a run stopped before its first step
    if (cfg.method == "gradient_descent" and ending != "interrupted") or not s.history:
        final = run.loss.loss_grad_at(W, None)[0]  # the loss at the returned W
        nfev += 1
        if not math.isfinite(final):  # the last step's W is finite, yet its loss overflowed
            raise _diverged(cfg, s.t, final)
    details = {"start_step": start, "total_steps": run.total, "steps_per_epoch": run.per_epoch}
    if has_val:
        details["final_val_acc"] = run.val_loss.accuracy(W)
    return result_class(
        method=cfg.method,
        W=W,
        loss=float(final),
        loss_history=np.asarray(s.history, dtype=np.float64),
        nfev=nfev,
        ngev=ngev,
        nit=s.t,
        elapsed=time.perf_counter() - began,
        interrupted=ending == "interrupted",
        backend=run.backend,
        lr_history=np.asarray(s.lr_history, dtype=np.float64),
        val_steps=np.asarray(s.val_steps, dtype=np.int64) if has_val else None,
        val_acc_history=np.asarray(s.val_accs, dtype=np.float64) if has_val else None,
        best_val_acc=float(best[1]) if has_val and best[2] is not None else None,
        best_step=best[2] if has_val else None,
        stopped_early=stopped_early,
        converged=ending == "converged" if cfg.tol is not None else None,
        message=_message(ending, cfg, best),
        details=details,
        **(extra or {}),
    )
