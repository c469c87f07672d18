"""The book's own rounding noise: its algorithm with every sum taken in another order.

``reordered(nv.Network)`` (or ``nv.Network2``) is the book's network with its inputs and hidden neurons listed
backwards, so every dot product runs the other way, and each mini-batch summed backwards. Mathematically it is the
book's run; numerically it differs from it by rounding alone, in the same places (the dot products and the
mini-batch sums) where steepest's matrix products differ. Reversing only the mini-batch sums measures 10-term sums
and underestimates that noise about 30 times on MNIST.

Train it on ``relabelled(data)``; ``relabelled_params(params)`` maps its parameters (weights then biases) back to
the book's labels. A reversal is its own inverse, so the same maps go both ways.
"""


def relabelled(data):
    """``(x, y)`` pairs with the inputs listed backwards; the outputs keep their labels."""
    return [(x[::-1].copy(), y) for x, y in data]


def relabelled_params(params):
    """Weights then biases (``net.weights + net.biases``) with the inputs and hidden neurons listed backwards."""
    layers = len(params) // 2
    weights, biases = params[:layers], params[layers:]
    out_w, out_b = [], []
    for layer, (w, b) in enumerate(zip(weights, biases)):
        rows = slice(None) if layer == layers - 1 else slice(None, None, -1)  # the output layer keeps its labels
        out_w.append(w[rows, ::-1].copy())
        out_b.append(b[rows].copy())
    return out_w + out_b


def reordered(book_cls):
    """``book_cls`` drawing the book's initial parameters, then relabelled, and summing each mini-batch backwards."""

    class Reordered(book_cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            params = relabelled_params(self.weights + self.biases)
            self.weights, self.biases = params[: len(self.weights)], params[len(self.weights) :]

        def update_mini_batch(self, mini_batch, *rest):
            super().update_mini_batch(mini_batch[::-1], *rest)

    return Reordered
