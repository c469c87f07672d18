"""Loss landscapes: the loss along a line and on a plane through weight space, exact and fast.

The notes draw ``L(W + a*W1)`` along a random direction and ``L(W + a*W1 + b*W2)`` on a random plane,
for one example and averaged over 100. Scores are linear in W, so

    S(a, b) = W X + a (W1 X) + b (W2 X) = S0 + a S1 + b S2,

and after one pass over X (the backend's ``scores`` kernel on the loss's examples, W and the
directions stacked into one (3C, D) matrix) every grid point costs O(C * N) (the backend's ``svm_grid``
/ ``softmax_grid``), not O(C * D * N).
The regularizer is added exactly from six inner products:

    reg * ||W + a W1 + b W2||^2 = reg * (<W,W> + 2a <W,W1> + 2b <W,W2> + a^2 <W1,W1> + 2ab <W1,W2> + b^2 <W2,W2>).

Along a line the SVM loss is piecewise linear in ``a`` (each hinge term ``max(0, m0 + a m1)`` has its
kink at ``a = -m0 / m1``) plus the convex quadratic regularizer, hence convex: its breakpoints and its
exact minimiser are found by sorting the kinks and sweeping the slopes (``svm_line_breakpoints``,
``exact_line_minimum``), which also gives an exact line search along ``-dW`` (``exact_line_search``).

==============================  ===================================================================
``random_direction``            Gaussian direction, optionally scaled row by row to W ("row")
``centered_grid``               ``points`` evenly spaced numbers in ``[-span, span]``
``loss_along_line``             ``LineSlice``: the loss at ``W + a d`` for every ``a`` (101 in [-1, 1])
``loss_on_plane``               ``PlaneSlice``: the loss at ``W + a d1 + b d2`` (51 x 51 in [-1, 1]^2)
``svm_line_breakpoints``        the sorted kinks of the SVM loss along ``W + a d``
``exact_line_minimum``          ``LineMinimum``: the exact minimiser of the SVM loss along a line
``exact_line_search``           ``LineMinimum``: the exact best step ``t >= 0`` of ``W - t dW``
``project_onto_plane``          least-squares coordinates ``(a, b)`` of weights on the plane
``plot_notes_figure``           the notes' three-panel figure (the ``plot`` extra)
==============================  ===================================================================

W and the directions are never modified. Grids are float64; the losses are float64. For float32
problems the score matrices are formed in float32 (the kernels' output dtype) and then promoted, so
grids agree with point-by-point float32 evaluation to float32 accuracy (about 1e-6 relative).
"""

from __future__ import annotations

from .checks import centered_grid
from .descent import descent_path
from .directions import project_onto_plane, random_direction
from .figure import auto_span, plot_notes_figure
from .results import LineMinimum, LineSlice, PlaneSlice
from .slices import loss_along_line, loss_on_plane
from .svm_line import exact_line_minimum, exact_line_search, svm_line_breakpoints

__all__ = [
    "LineSlice",
    "PlaneSlice",
    "LineMinimum",
    "random_direction",
    "centered_grid",
    "loss_along_line",
    "loss_on_plane",
    "svm_line_breakpoints",
    "exact_line_minimum",
    "exact_line_search",
    "project_onto_plane",
    "plot_notes_figure",
    "auto_span",
    "descent_path",
]
