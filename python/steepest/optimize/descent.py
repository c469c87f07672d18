"""The descent loop behind ``gradient_descent``, ``minibatch_gd``, ``sgd`` and ``train_linear_classifier``.

One Python loop; each step is one fused loss-and-gradient kernel call on the step's examples (the
kernel gathers the mini-batch columns itself: no ``X[:, idx]`` copy per step), an update rule, and
bookkeeping. State changes are committed together at the end of a step, so Ctrl-C at any point
returns (and checkpoints) the last completed step.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from typing import Any

import numpy as np

from .. import _backends, _validate
from . import checkpoint as ckpt
from . import updates
from .common import (
    OptimizeResult,
    Progress,
    call_back,
    check_backend,
    check_bool,
    check_callback,
    check_linear_loss,
    check_shape,
    check_unit,
    check_W0,
)

SAMPLINGS = ("replacement", "epoch")


def _check_val(loss, X_val, y_val, C: int):
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together (or neither)")
    if X_val is None:
        return None, None
    X_val = _validate.float_array(X_val, "X_val", 2)
    if X_val.dtype != loss.dtype:
        raise TypeError(f"X_val must have the dtype of X ({loss.dtype}); got {X_val.dtype}")
    if X_val.shape[0] != loss.dim:
        hint = " did you pass X_val as (N, D)? use X_val.T" if X_val.shape[1] == loss.dim else ""
        raise ValueError(f"X_val.shape[0] must equal D = {loss.dim}; got X_val {X_val.shape}.{hint}")
    y_val = _validate.labels(y_val, X_val.shape[1], C, "y_val")
    return _validate.data(X_val), y_val


def descend(loss: Any, W0: Any, *, method: str, batch_size: Any, step_size: Any, num_iters: Any,
            num_epochs: Any, sampling: Any, update: Any, momentum: Any, beta1: Any, beta2: Any, eps: Any,
            lr_decay: Any, X_val: Any, y_val: Any, eval_every: Any, early_stopping: Any, checkpoint: Any,
            checkpoint_every: Any, resume: Any, seed: Any, callback: Any, progress: Any, verbose: Any,
            verbose_every: Any, tol: Any, init_scale: Any, backend: Any, shape: Any = None,
            result_class=OptimizeResult, extra: dict | None = None) -> OptimizeResult:
    # ---- validation, all of it before any work ----
    loss = check_linear_loss(loss)
    if W0 is not None:
        W = check_W0(W0, loss)
    else:
        W = None
        shape = check_shape(shape, loss)
        init_scale = _validate.positive(init_scale, "init_scale")
    step_size = _validate.positive(step_size, "step_size")
    full_batch = batch_size is None
    N = loss.n
    if not full_batch:
        batch_size = _validate.integer(batch_size, "batch_size", low=1, high=N)
    if num_iters is not None and num_epochs is not None:
        raise ValueError("give num_iters or num_epochs, not both")
    if num_iters is not None:
        num_iters = _validate.integer(num_iters, "num_iters", low=1)
    if num_epochs is not None:
        num_epochs = _validate.integer(num_epochs, "num_epochs", low=1)
    sampling = _validate.choice(sampling, "sampling", SAMPLINGS)
    update = _validate.choice(update, "update", updates.UPDATES)
    hp = {"momentum": check_unit(momentum, "momentum"), "beta1": check_unit(beta1, "beta1"),
          "beta2": check_unit(beta2, "beta2"), "eps": _validate.positive(eps, "eps")}
    decay = updates.check_decay(lr_decay)
    C = W.shape[0] if W is not None else shape[0]
    X_val, y_val = _check_val(loss, X_val, y_val, C)
    per_epoch = 1 if full_batch else -(-N // batch_size)
    eval_every = per_epoch if eval_every is None else _validate.integer(eval_every, "eval_every", low=1)
    if early_stopping is not None:
        early_stopping = _validate.integer(early_stopping, "early_stopping", low=1)
        if X_val is None:
            raise ValueError("early_stopping needs validation data: pass X_val and y_val")
    checkpoint = None if checkpoint is None else ckpt.check_target(checkpoint)
    checkpoint_every = _validate.integer(checkpoint_every, "checkpoint_every", low=1)
    rng = _validate.rng(seed)
    callback = check_callback(callback)
    progress = check_bool(progress, "progress")
    verbose = check_bool(verbose, "verbose")
    verbose_every = _validate.integer(verbose_every, "verbose_every", low=1)
    tol = None if tol is None else _validate.real(tol, "tol", low=0.0)
    name = check_backend(backend, loss)
    kernels = _backends.get(name)
    threads = _backends.get_num_threads()
    total = num_iters if num_iters is not None else (num_epochs * per_epoch if num_epochs is not None else 1000)

    settings = {
        "method": method, "loss": loss.name, "reg": loss.reg, "delta": getattr(loss, "delta", None),
        "N": N, "D": loss.dim, "C": C, "dtype": str(loss.dtype),
        "labels_crc32": zlib.crc32(np.ascontiguousarray(loss.labels).tobytes()),
        "batch_size": batch_size, "sampling": sampling, "update": update, "step_size": step_size,
        "momentum": hp["momentum"], "beta1": hp["beta1"], "beta2": hp["beta2"], "eps": hp["eps"],
        "lr_decay": list(decay) if decay else None, "eval_every": eval_every, "early_stopping": early_stopping,
        "X_val_shape": list(X_val.shape) if X_val is not None else None,
    }
    settings = json.loads(json.dumps(settings))  # the form it takes after a save/load round trip

    # ---- the starting state: fresh, or from a checkpoint ----
    history: list[float] = []
    lr_hist: list[float] = []
    val_steps: list[int] = []
    val_accs: list[float] = []
    perm, pos = None, N
    best = (None, -1.0, None, 0)  # (W, accuracy, step, evaluations without improvement)
    t = 0
    if resume is not None:
        arrays, meta = ckpt.load(resume)
        saved = meta["settings"]
        for key in settings:
            if saved.get(key) != settings[key]:
                raise ValueError(f"resume: {resume!s} was saved with {key}={saved.get(key)!r}; this call has {key}={settings[key]!r}")
        if W is not None and W.shape != arrays["W"].shape:  # pragma: no cover - caught by settings C / D
            raise ValueError(f"resume: W0 has shape {W.shape}; the checkpoint's W has {arrays['W'].shape}")
        W = arrays["W"].copy()
        state = {k: arrays["state_" + k].copy() for k in updates.STATE_KEYS[update]}
        history = arrays["loss_history"].tolist()
        lr_hist = arrays["lr_history"].tolist()
        val_steps = arrays["val_steps"].tolist()
        val_accs = arrays["val_accs"].tolist()
        if "perm" in arrays:
            perm = arrays["perm"].copy()
        pos = meta["pos"]
        best = (arrays["best_W"].copy() if "best_W" in arrays else None, meta["best_acc"], meta["best_step"], meta["bad"])
        t = meta["step"]
        rng = ckpt.restore_rng(meta["rng"])
    else:
        if W is None:
            W = (rng.standard_normal(shape) * init_scale).astype(loss.dtype)
        state = updates.init_state(update, W)

    f = loss.with_backend(name).loss_grad_at

    def val_accuracy(Wv):
        S = kernels.scores(Wv, X_val, None, threads)
        return float(np.mean(np.argmax(S, axis=0) == y_val))

    def save(step_now):
        arrays = {"W": W, "loss_history": np.asarray(history, dtype=np.float64),
                  "lr_history": np.asarray(lr_hist, dtype=np.float64),
                  "val_steps": np.asarray(val_steps, dtype=np.int64), "val_accs": np.asarray(val_accs, dtype=np.float64)}
        arrays.update({"state_" + k: v for k, v in state.items()})
        if perm is not None:
            arrays["perm"] = perm
        if best[0] is not None:
            arrays["best_W"] = best[0]
        meta = {"settings": settings, "step": step_now, "pos": pos, "best_acc": best[1], "best_step": best[2],
                "bad": best[3], "rng": ckpt.rng_state(rng)}
        ckpt.save(checkpoint, arrays, meta)

    # ---- the loop ----
    start = t
    interrupted = stopped_early = converged = False
    message = ""
    snap, snap_t = None, -1
    saved_at = t if resume is not None else -1
    bar = Progress(progress, total, method, initial=min(t, total))
    began = time.perf_counter()
    try:
        while t < total:
            if checkpoint is not None:
                snap, snap_t = rng.bit_generator.state, t
            perm_new, pos_new = perm, pos
            if full_batch:
                idx = None
            elif sampling == "replacement":
                # = rng.choice(N, batch_size, replace=True) (CS231n's np.random.choice(N, B)), the same
                # draws without choice()'s argument handling (tested)
                idx = rng.integers(0, N, batch_size)
            else:
                if perm_new is None or pos_new >= N:
                    perm_new, pos_new = rng.permutation(N), 0
                idx = perm_new[pos_new:pos_new + batch_size]
                pos_new += idx.shape[0]
            value, dW = f(W, idx)
            lr = updates.learning_rate(step_size, decay, t)
            with np.errstate(over="ignore", invalid="ignore"):
                W_new, state_new = updates.step(update, W, dW, lr, state, t, hp)
                # one cheap sum: a NaN or inf anywhere in W_new makes it non-finite
                total_W = float(np.add.reduce(W_new, axis=None, dtype=np.float64))
            if not (math.isfinite(value) and math.isfinite(total_W)):
                raise FloatingPointError(
                    f"{method}: the loss or the updated W is not finite at step {t} (loss {value}); the run diverged "
                    f"or the scores overflowed: use a smaller step_size (now {step_size:g})")
            acc = None
            best_new = best
            if X_val is not None and (t + 1) % eval_every == 0:
                acc = val_accuracy(W_new)
                best_new = (W_new, acc, t + 1, 0) if acc > best[1] else (best[0], best[1], best[2], best[3] + 1)
            # commit: the appends first, then one tuple store (no call in between can raise Ctrl-C)
            history.append(value)
            lr_hist.append(lr)
            if acc is not None:
                val_steps.append(t + 1)
                val_accs.append(acc)
            W, state, perm, pos, best, t = W_new, state_new, perm_new, pos_new, best_new, t + 1
            # after the commit: reporting, saving, stopping rules
            if verbose and (t - 1) % verbose_every == 0:
                print("iteration %d / %d: loss %f" % (t - 1, total, value))
            if checkpoint is not None and t % checkpoint_every == 0:
                save(t)
                saved_at = t
            bar.update()
            if tol is not None and len(history) >= 2 and abs(history[-2] - history[-1]) <= tol:
                converged, message = True, f"the loss changed by <= tol = {tol:g}"
                break
            if early_stopping is not None and best[3] >= early_stopping:
                stopped_early = True
                message = f"no validation improvement in {early_stopping} evaluations; best at step {best[2]}"
                break
            if call_back(callback, t - 1, {"loss": value, "step_size": lr, "W": W, "val_acc": acc, "epoch": t / per_epoch}):
                message = "stopped by the callback"
                break
    except KeyboardInterrupt:
        interrupted = True
        message = "interrupted (Ctrl-C)"
        del history[t:], lr_hist[t:]
        while val_steps and val_steps[-1] > t:
            val_steps.pop()
            val_accs.pop()
        if snap_t == t:  # the draws of the unfinished step are undone, so a resume repeats them
            rng.bit_generator.state = snap
    finally:
        bar.close()
    if checkpoint is not None and saved_at != t:
        save(t)
    W_out = best[0] if stopped_early and best[0] is not None else W
    nfev = ngev = len(history)
    final = history[-1] if history else float("nan")
    if method == "gradient_descent" and not interrupted:
        final = f(W_out, None)[0]
        nfev += 1
    has_val = X_val is not None
    details = {"start_step": start, "total_steps": total, "steps_per_epoch": per_epoch}
    if has_val:
        details["final_val_acc"] = val_accuracy(W_out)
    elapsed = time.perf_counter() - began
    return result_class(
        method=method, W=W_out, loss=float(final), loss_history=np.asarray(history, dtype=np.float64),
        nfev=nfev, ngev=ngev, nit=t, elapsed=elapsed, interrupted=interrupted, backend=name,
        lr_history=np.asarray(lr_hist, dtype=np.float64),
        val_steps=np.asarray(val_steps, dtype=np.int64) if has_val else None,
        val_acc_history=np.asarray(val_accs, dtype=np.float64) if has_val else None,
        best_val_acc=float(best[1]) if has_val and best[2] is not None else None,
        best_step=best[2] if has_val else None,
        stopped_early=stopped_early, converged=converged if tol is not None else None, message=message,
        details=details, **(extra or {}))
