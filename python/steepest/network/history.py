"""What a training run of :meth:`steepest.network.Network.SGD` measured, and its table."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """What :meth:`Network.SGD` measured, one entry per completed epoch (``net.history`` after a call).

    ``training_cost`` / ``test_cost`` (``network2``: the evaluation data's) are ``total_cost`` values
    (including the L2 term);
    ``training_accuracy`` / ``test_accuracy`` are counts of correct predictions out of ``n_train`` /
    ``n_test``; a metric not monitored is an empty tuple. ``elapsed`` is the seconds per epoch
    (training and monitoring). ``interrupted`` is True when Ctrl-C stopped the run: the network then
    holds the parameters after the last complete mini-batch, and ``n_updates`` counts them all.
    """

    epochs: tuple[int, ...]
    training_cost: tuple[float, ...]
    training_accuracy: tuple[int, ...]
    test_cost: tuple[float, ...]
    test_accuracy: tuple[int, ...]
    elapsed: tuple[float, ...]
    n_train: int
    n_test: int
    n_updates: int
    interrupted: bool

    def __str__(self) -> str:
        cols: list[tuple[str, list[str]]] = [("epoch", [str(e) for e in self.epochs])]
        if self.training_cost:
            cols.append(("train cost", [f"{c:.6f}" for c in self.training_cost]))
        if self.training_accuracy:
            cols.append(("train accuracy", [_count(k, self.n_train) for k in self.training_accuracy]))
        if self.test_cost:
            cols.append(("test cost", [f"{c:.6f}" for c in self.test_cost]))
        if self.test_accuracy:
            cols.append(("test accuracy", [_count(k, self.n_test) for k in self.test_accuracy]))
        cols.append(("seconds", [f"{t:.3f}" for t in self.elapsed]))
        widths = [max(len(h), *(len(v) for v in vals)) if vals else len(h) for h, vals in cols]
        lines = ["  ".join(h.rjust(w) for (h, _), w in zip(cols, widths))]
        for i in range(len(self.epochs)):
            lines.append("  ".join(vals[i].rjust(w) for (_, vals), w in zip(cols, widths)))
        total = sum(self.elapsed)
        lines.append(f"{self.summary()}, {total:.3f} s")
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: ``3 epochs complete, 2400 mini-batch updates`` (``1 epoch``, singular)."""
        k = len(self.epochs)
        status = "interrupted" if self.interrupted else "complete"
        updates = "update" if self.n_updates == 1 else "updates"
        return f"{k} {_plural(k, 'epoch')} {status}, {self.n_updates} mini-batch {updates}"


def _plural(k: int, word: str) -> str:
    return word if k == 1 else word + "s"


def _count(k: int, n: int) -> str:
    return f"{k} / {n} ({100 * k / n:.2f}%)"
