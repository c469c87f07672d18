"""The descent loops as library functions: gradient descent, mini-batch GD, SGD and CS231n's training call.

Each builds one :class:`~.config.DescentConfig` (whose fields hold every default of the loop: the
signatures below read theirs from :data:`~.config.DEFAULTS`) and runs it with :func:`~.descent.descend`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from .. import _validate
from ..losses import SoftmaxLoss, SVMLoss
from .config import DEFAULTS as _D
from .config import DescentConfig
from .descent import descend
from .results import CIFAR_LEARNING_RATE, CIFAR_REG, LinearClassifier, OptimizeResult

# --- descent loops ----------------------------------------------------------------------------------


#: The settings a public function hands to the descent loop: every DescentConfig field but the method.
_SETTINGS = frozenset(f.name for f in fields(DescentConfig)) - {"method"}


def _config(method: str, arguments: dict[str, Any], **fixed: Any) -> DescentConfig:
    """The run's configuration from a public function's arguments (its ``locals()``): the settings
    are listed once, in DescentConfig, not once more per function."""
    return DescentConfig(method=method, **{k: v for k, v in arguments.items() if k in _SETTINGS}, **fixed)


def gradient_descent(
    loss: Any,
    W0: Any,
    step_size: float,
    num_iters: int,
    tol: float | None = _D.tol,
    *,
    seed: Any = None,
    update: str = _D.update,
    momentum: float = _D.momentum,
    beta1: float = _D.beta1,
    beta2: float = _D.beta2,
    eps: float = _D.eps,
    lr_decay: Any = _D.lr_decay,
    X_val: Any = None,
    y_val: Any = None,
    eval_every: int | None = _D.eval_every,
    early_stopping: int | None = _D.early_stopping,
    checkpoint: Any = _D.checkpoint,
    checkpoint_every: int = _D.checkpoint_every,
    resume: Any = _D.resume,
    callback: Callable | None = None,
    progress: bool = _D.progress,
    verbose: bool = _D.verbose,
    verbose_every: int = _D.verbose_every,
    backend: str | None = _D.backend,
) -> OptimizeResult:
    """Full-batch vanilla descent: ``num_iters`` times ``loss, dW = f(W); W += -step_size * dW``.

    One fused loss-and-gradient pass over X per iteration. ``tol``: stop when the loss changes by at
    most ``tol`` between consecutive iterations (``converged=True``). ``W0`` (C, D) in X's dtype, or
    None for ``randn * 0.001`` drawn from ``seed``. ``loss_history[k]`` is the loss before step k;
    ``loss`` is the loss at the returned W (one more evaluation, counted in ``nfev``). The update rules,
    decay, validation and checkpoint options are those of :func:`minibatch_gd`. Verbose prints
    ``iteration %d / %d: loss %f`` every ``verbose_every`` iterations.
    """
    config = _config("gradient_descent", locals(), batch_size=None)
    return descend(loss, config, W0, seed=seed, X_val=X_val, y_val=y_val, callback=callback)


def minibatch_gd(
    loss: Any,
    W0: Any = None,
    batch_size: int = _D.batch_size,
    step_size: float = _D.step_size,
    num_iters: int | None = _D.num_iters,
    num_epochs: int | None = _D.num_epochs,
    sampling: str = _D.sampling,
    update: str = _D.update,
    momentum: float = _D.momentum,
    beta1: float = _D.beta1,
    beta2: float = _D.beta2,
    eps: float = _D.eps,
    lr_decay: Any = _D.lr_decay,
    X_val: Any = None,
    y_val: Any = None,
    eval_every: int | None = _D.eval_every,
    early_stopping: int | None = _D.early_stopping,
    checkpoint: Any = _D.checkpoint,
    checkpoint_every: int = _D.checkpoint_every,
    resume: Any = _D.resume,
    seed: Any = None,
    *,
    callback: Callable | None = None,
    progress: bool = _D.progress,
    verbose: bool = _D.verbose,
    verbose_every: int = _D.verbose_every,
    init_scale: float = _D.init_scale,
    shape: Any = None,
    backend: str | None = _D.backend,
) -> OptimizeResult:
    """Mini-batch gradient descent on ``loss`` (an :class:`SVMLoss` / :class:`SoftmaxLoss`).

    Each step evaluates the loss and gradient on ``batch_size`` examples (one fused kernel call that
    gathers the batch's columns of X itself: no ``X[:, idx]`` copy) and applies ``update``:

    - ``sampling="replacement"``: ``rng.choice(N, batch_size, replace=True)`` per step, as the CS231n
      assignment's ``np.random.choice(num_train, batch_size)``;
    - ``sampling="epoch"``: a fresh permutation each epoch cut into consecutive batches (the last one
      smaller when ``batch_size`` does not divide N), as Nielsen's ``SGD``.

    Length: ``num_iters`` steps, or ``num_epochs`` epochs of ``ceil(N / batch_size)`` steps (one of
    them; neither means 1000 steps). ``update``: ``"sgd"``, ``"momentum"``, ``"nesterov"`` (both with
    ``momentum``), ``"adam"`` (``beta1``, ``beta2``, ``eps``), the CS231n ``optim.py`` formulas.
    ``lr_decay``: None, ``("step", every, factor)`` (``lr * factor ** (t // every)``) or ``("exp", rate)``
    (``lr * exp(-rate t)``), t the 0-based step. ``W0`` None: ``randn(*shape) * init_scale`` from
    ``seed``, shape (largest label + 1, D) by default.

    Validation: with ``X_val`` (D, N_val) and ``y_val``, the accuracy of W every ``eval_every`` steps
    (default: once per epoch) goes to ``val_acc_history`` (at ``val_steps``), and that of the returned
    W to ``details["final_val_acc"]``; ``early_stopping=p`` stops after p evaluations without
    improvement and returns the best W.

    Checkpoints: ``checkpoint=path`` saves atomically every ``checkpoint_every`` steps and at the end
    (W, step, optimizer state, RNG state, histories, settings); ``resume=path`` continues a saved run
    (``seed`` and ``W0`` are then not used) to bitwise the same history and W as an uninterrupted run.
    Resuming with other data shapes or hyper-parameters raises ValueError naming the mismatch
    (``num_iters`` / ``num_epochs`` may differ: that is how a run is extended).

    Result: ``loss_history`` the mini-batch loss of every step (before its update), ``loss`` the last
    of them, ``lr_history`` the step sizes used. Verbose prints CS231n's
    ``iteration %d / %d: loss %f`` every ``verbose_every`` steps. A non-finite loss raises
    FloatingPointError naming the step (the run diverged: use a smaller step_size).
    """
    config = _config("minibatch_gd", locals())
    return descend(loss, config, W0, seed=seed, X_val=X_val, y_val=y_val, callback=callback, shape=shape)


def sgd(
    loss: Any,
    W0: Any = None,
    step_size: float = _D.step_size,
    num_iters: int | None = _D.num_iters,
    num_epochs: int | None = _D.num_epochs,
    sampling: str = "epoch",
    seed: Any = None,
    **options: Any,
) -> OptimizeResult:
    """Stochastic gradient descent: :func:`minibatch_gd` with a batch of one example.

    Defaults to per-epoch shuffling (every example once per epoch); other options as in
    :func:`minibatch_gd`.
    """
    if "batch_size" in options:
        raise TypeError("sgd() uses batch_size=1; call minibatch_gd for other batch sizes")
    return minibatch_gd(loss, W0, 1, step_size, num_iters, num_epochs, sampling, seed=seed, **options)


def train_linear_classifier(
    X: Any,
    y: Any,
    loss: str = "svm",
    reg: float = CIFAR_REG,
    learning_rate: float = CIFAR_LEARNING_RATE,
    batch_size: int = 200,
    num_iters: int = 1500,
    *,
    delta: float = 1.0,
    num_classes: int | None = None,
    seed: Any = None,
    backend: str | None = None,
    verbose: bool = False,
    **options: Any,
) -> LinearClassifier:
    """CS231n's ``LinearClassifier.train`` in one call: SGD on the SVM or softmax loss.

    X is (D, N) with one example per column (pass ``X_rows.T`` for (N, D) rows), y (N,) int labels.
    ``W = 0.001 * randn(C, D)`` from ``seed`` with ``C = num_classes or max(y) + 1``, then
    ``num_iters`` steps of ``batch_size`` examples sampled with replacement and ``W -= learning_rate *
    dW``: the assignment's defaults (lr 1e-7, reg 2.5e4, batch 200, 1500 iterations; about 0.38-0.40
    validation accuracy on CIFAR-10). Other :func:`minibatch_gd` options (``update``, ``X_val``,
    ``checkpoint``, ...) pass through. Verbose prints ``iteration %d / %d: loss %f`` every 100.
    Returns a :class:`LinearClassifier` with ``W``, ``predict(X)``, ``accuracy(X, y)`` and
    ``loss_history``.
    """
    kind = _validate.choice(loss, "loss", ("svm", "softmax"))
    unknown = sorted(set(options) - _PASS_THROUGH)
    if unknown:
        raise TypeError(
            f"train_linear_classifier got unexpected keyword arguments {unknown}; "
            "W0 is drawn here (0.001 * randn): use minibatch_gd to start from a given W0"
        )
    if kind == "svm":
        objective = SVMLoss(X, y, reg, delta, backend=backend)
    else:
        objective = SoftmaxLoss(X, y, reg, backend=backend)
    largest = objective.min_classes - 1
    C = largest + 1 if num_classes is None else _validate.integer(num_classes, "num_classes", low=2)
    if C <= largest:
        raise ValueError(f"num_classes must exceed the largest label {largest}; got {C}")
    learning_rate = _validate.positive(learning_rate, "learning_rate")
    config = DescentConfig(
        method="train_linear_classifier",
        batch_size=batch_size,
        step_size=learning_rate,
        num_iters=num_iters,
        verbose=verbose,
        backend=backend,
        **{k: v for k, v in options.items() if k not in _RUN_ARGUMENTS},
    )
    return descend(
        objective,
        config,
        None,
        seed=seed,
        shape=(max(C, 2), objective.dim),
        result_class=LinearClassifier,
        extra={"loss_name": kind, "reg": objective.reg, "learning_rate": learning_rate},
        **{k: v for k, v in options.items() if k in _RUN_ARGUMENTS},
    )


#: train_linear_classifier sets these settings itself (W0 is drawn with the default init_scale, 0.001);
#: the other minibatch_gd options pass through, the run's arguments (X_val, y_val, callback) included
_SET_BY_TRAIN = {
    "method",
    "batch_size",
    "step_size",
    "num_iters",
    "num_epochs",
    "tol",
    "init_scale",
    "verbose",
    "backend",
}
_RUN_ARGUMENTS = {"X_val", "y_val", "callback"}
_PASS_THROUGH = {f.name for f in fields(DescentConfig)} - _SET_BY_TRAIN | _RUN_ARGUMENTS
