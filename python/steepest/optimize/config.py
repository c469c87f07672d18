"""The settings of a descent run: :class:`DescentConfig`, each default written once.

``gradient_descent``, ``minibatch_gd``, ``sgd`` and ``train_linear_classifier`` take their signature
defaults from :data:`DEFAULTS` and build one :class:`DescentConfig` per call; the loop
(:func:`steepest.optimize.descent.descend`) reads nothing else. Building a config validates every
field, with the library's messages (``TypeError`` for the wrong kind, ``ValueError`` for a bad value,
naming the argument), and touches nothing: the checkpoint path is checked as a path here, and its
folder is created only once the whole call has been checked. What depends on the problem (the loss,
W0, the validation data, the seed, the callback, ``batch_size <= N``) is checked by the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import _backends, _validate
from . import checkpoint as ckpt
from . import updates
from .checks import check_unit

METHODS = ("gradient_descent", "minibatch_gd", "train_linear_classifier")
SAMPLINGS = ("replacement", "epoch")


def _unless_none(check, value: Any, *args: Any, **bounds: Any) -> Any:
    return None if value is None else check(value, *args, **bounds)


def _checkpoint_path(value: Any) -> str:
    """A file path whose folder exists or can be created (``sub/`` names a folder, not a file); nothing is created."""
    return ckpt.check_path(_validate.file_path(value, "checkpoint"), "checkpoint")


@dataclass(frozen=True)
class DescentConfig:
    """Every setting of the descent loop, validated when built (see :func:`minibatch_gd` for their meaning).

    ``batch_size=None`` is full-batch descent; the length is ``num_iters`` steps, or ``num_epochs``
    epochs, or :attr:`DEFAULT_STEPS` steps when neither is given; ``eval_every=None`` evaluates once
    per epoch. ``lr_decay`` is stored as a tuple, the paths as ``str``. ``dataclasses.replace``
    gives a validated copy with some settings changed.
    """

    method: str = "minibatch_gd"
    batch_size: int | None = 256
    step_size: float = 1e-3
    num_iters: int | None = None
    num_epochs: int | None = None
    sampling: str = "replacement"
    update: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    lr_decay: tuple | None = None
    eval_every: int | None = None
    early_stopping: int | None = None
    tol: float | None = None
    init_scale: float = 1e-3
    checkpoint: str | None = None
    checkpoint_every: int = 100
    resume: str | None = None
    progress: bool = False
    verbose: bool = False
    verbose_every: int = 100
    backend: str | None = None

    #: the run's length when neither num_iters nor num_epochs is given
    DEFAULT_STEPS = 1000

    def __post_init__(self) -> None:
        if self.num_iters is not None and self.num_epochs is not None:
            raise ValueError("give num_iters or num_epochs, not both")
        v = _validate
        checked = dict(
            method=v.choice(self.method, "method", METHODS),
            step_size=v.positive(self.step_size, "step_size"),
            batch_size=_unless_none(v.integer, self.batch_size, "batch_size", low=1),
            num_iters=_unless_none(v.integer, self.num_iters, "num_iters", low=1),
            num_epochs=_unless_none(v.integer, self.num_epochs, "num_epochs", low=1),
            sampling=v.choice(self.sampling, "sampling", SAMPLINGS),
            update=v.choice(self.update, "update", updates.UPDATES),
            momentum=check_unit(self.momentum, "momentum"),
            beta1=check_unit(self.beta1, "beta1"),
            beta2=check_unit(self.beta2, "beta2"),
            eps=v.positive(self.eps, "eps"),
            lr_decay=updates.check_decay(self.lr_decay),
            eval_every=_unless_none(v.integer, self.eval_every, "eval_every", low=1),
            early_stopping=_unless_none(v.integer, self.early_stopping, "early_stopping", low=1),
            tol=_unless_none(v.real, self.tol, "tol", low=0.0),
            init_scale=v.positive(self.init_scale, "init_scale"),
            checkpoint=_unless_none(_checkpoint_path, self.checkpoint),
            checkpoint_every=v.integer(self.checkpoint_every, "checkpoint_every", low=1),
            resume=_unless_none(ckpt.path_arg, self.resume, "resume"),
            progress=_validate.boolean(self.progress, "progress"),
            verbose=_validate.boolean(self.verbose, "verbose"),
            verbose_every=v.integer(self.verbose_every, "verbose_every", low=1),
        )
        if self.backend is not None:
            _backends.resolve(self.backend)  # an unknown or unavailable backend is refused here
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    # -- what the settings mean for a problem of n examples -----------------------------------------
    def steps_per_epoch(self, n: int) -> int:
        return 1 if self.batch_size is None else -(-n // self.batch_size)

    def total_steps(self, per_epoch: int) -> int:
        """The step the run ends at (counted from the start of the first run when resuming)."""
        if self.num_iters is not None:
            return self.num_iters
        return self.num_epochs * per_epoch if self.num_epochs is not None else self.DEFAULT_STEPS

    def eval_interval(self, per_epoch: int) -> int:
        return per_epoch if self.eval_every is None else self.eval_every

    def settings(self, per_epoch: int) -> dict:
        """The settings a resumed run must share with the saved one (JSON-ready, in the order compared).

        ``method`` and the problem's facts come first (see ``descend``); ``num_iters`` / ``num_epochs``
        may differ (that is how a run is extended), as may the reporting and checkpoint options.
        """
        return {
            "batch_size": self.batch_size,
            "sampling": self.sampling,
            "update": self.update,
            "step_size": self.step_size,
            "momentum": self.momentum,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "lr_decay": list(self.lr_decay) if self.lr_decay else None,
            "eval_every": self.eval_interval(per_epoch),
            "early_stopping": self.early_stopping,
        }


#: the defaults, validated; the public functions' signatures read theirs from here
DEFAULTS = DescentConfig()
