"""``steepest network``: train Nielsen's sigmoid network on MNIST and report each epoch.

    steepest network --data mnist:/path/to/mnist --epochs 30 --batch-size 10 --eta 3.0

The folder holds the IDX files (gzip or plain). When it has the 60,000 training images, the network
trains on the first ``--n-train`` of them and is tested on the first ``--n-test`` t10k images;
with only the t10k files, the first ``--n-train`` t10k images train and the next ``--n-test`` test
(so the two together must fit in the 10,000). Without ``--data`` the folder in the environment variable
``STEEPEST_MNIST_DIR`` is used. Every argument is checked before anything is printed; each epoch is
printed once, as it ends (the book's ``Epoch j: k / n``), then one summary line.
"""

from __future__ import annotations

import math
import os
import sys

NAME = "network"
HELP = "train Nielsen's sigmoid network on MNIST by mini-batch SGD, reporting each epoch"
_ENV = "STEEPEST_MNIST_DIR"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--data", metavar="mnist:PATH", default=None, help=f"MNIST folder as mnist:PATH (default: ${_ENV})"
    )
    parser.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    parser.add_argument("--batch-size", type=int, default=10, help="mini-batch size (default 10)")
    parser.add_argument("--eta", type=float, default=3.0, help="learning rate (default 3.0)")
    parser.add_argument("--lmbda", type=float, default=0.0, help="L2 regularization, network2's lmbda (default 0)")
    parser.add_argument(
        "--sizes", default="784,30,10", help="layer widths, input 784 first and output 10 last (default 784,30,10)"
    )
    parser.add_argument(
        "--cost",
        choices=("quadratic", "cross_entropy"),
        default="quadratic",
        help="cost: the book's chapter 1 quadratic, or chapter 3's cross_entropy (default quadratic)",
    )
    parser.add_argument(
        "--init",
        choices=("standard", "scaled"),
        default="standard",
        help="initial weights: standard N(0, 1) (chapter 1) or scaled N(0, 1/n_in) (chapter 3) (default standard)",
    )
    parser.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64", help="parameter precision (default float64)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the weights and shuffles (default 0)")
    parser.add_argument("--n-train", type=int, default=8000, help="training examples (default 8000)")
    parser.add_argument("--n-test", type=int, default=2000, help="test examples, 0 for none (default 2000)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar (needs tqdm)")
    parser.add_argument("--save", metavar="PATH", default=None, help="save the trained network as JSON to PATH")


def _error(message: str) -> int:
    print(f"steepest network: error: {message}", file=sys.stderr)
    return 2


def _has(folder: str, kind: str) -> bool:
    return all(
        any(os.path.exists(os.path.join(folder, f"{kind}-{part}-ubyte{ext}")) for ext in ("", ".gz"))
        for part in ("images-idx3", "labels-idx1")
    )


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def run(args) -> int:
    import numpy as np

    from ..datasets import load_mnist
    from ..network import Network, mnist_for_network

    spec = args.data
    if spec is None:
        folder = os.environ.get(_ENV)
        if not folder:
            return _error(f"no data: pass --data mnist:PATH (a folder with the MNIST IDX files) or set {_ENV}")
    elif not spec.startswith("mnist:") or not spec[len("mnist:") :]:
        return _error(f"--data must be mnist:PATH (a folder with the MNIST IDX files); got {spec!r}")
    else:
        folder = spec[len("mnist:") :]
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        return _error(f"--sizes must be comma-separated ints like 784,30,10; got {args.sizes!r}")
    if len(sizes) < 2 or sizes[0] != 784 or sizes[-1] != 10:
        return _error(f"--sizes must start with 784 (the pixels) and end with 10 (the digits); got {args.sizes!r}")
    if args.n_train < 1 or args.n_test < 0:
        return _error(f"--n-train must be >= 1 and --n-test >= 0; got {args.n_train} and {args.n_test}")
    if args.epochs < 1:
        return _error(f"--epochs must be >= 1; got {args.epochs}")
    if not 1 <= args.batch_size <= args.n_train:
        return _error(f"--batch-size must be in [1, --n-train = {args.n_train}]; got {args.batch_size}")
    if not (math.isfinite(args.eta) and args.eta > 0):
        return _error(f"--eta must be a positive number; got {args.eta}")
    if not (math.isfinite(args.lmbda) and args.lmbda >= 0):
        return _error(f"--lmbda must be a number >= 0; got {args.lmbda}")
    if args.save is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.save))):
        return _error(f"--save: the folder of {args.save!r} does not exist")
    dtype = np.float32 if args.dtype == "float32" else np.float64
    try:
        net = Network(sizes, cost=args.cost, seed=args.seed, dtype=dtype, init=args.init)
        if not os.path.isdir(folder):
            return _error(f"MNIST folder {folder!r} does not exist")
        if _has(folder, "train"):
            train_images, train_labels = load_mnist(folder, kind="train")
            test_images, test_labels = load_mnist(folder, kind="t10k")
            if args.n_train > len(train_labels) or args.n_test > len(test_labels):
                return _error(
                    f"asked for {args.n_train} training and {args.n_test} test images; the folder has "
                    f"{len(train_labels)} training and {len(test_labels)} test images"
                )
            source = f"train[:{args.n_train}], t10k[:{args.n_test}]"
            t0 = 0
        else:
            test_images, test_labels = load_mnist(folder, kind="t10k")
            train_images, train_labels = test_images, test_labels
            available = len(test_labels)
            if args.n_train + args.n_test > available:
                return _error(
                    f"the folder has only the {available} t10k images (no training files), shared by training and "
                    f"test: --n-train {args.n_train} + --n-test {args.n_test} = {args.n_train + args.n_test} "
                    f"is more than {available}"
                )
            source = f"t10k[:{args.n_train}], t10k[{args.n_train}:{args.n_train + args.n_test}] (no training files)"
            t0 = args.n_train
        X, y = mnist_for_network(train_images[: args.n_train], train_labels[: args.n_train], dtype)
        test = None
        if args.n_test:
            test = mnist_for_network(test_images[t0 : t0 + args.n_test], test_labels[t0 : t0 + args.n_test], dtype)
        if args.progress:
            from .._optional import require

            require("tqdm.auto", "progress", "--progress", package="tqdm")  # missing: say so before the header
    except (TypeError, ValueError, OSError, ImportError) as exc:
        return _error(str(exc))
    print(
        f"{net!r} on MNIST {source}: {_plural(args.epochs, 'epoch')}, mini-batch {args.batch_size}, eta {args.eta}"
        + (f", lmbda {args.lmbda}" if args.lmbda else "")
    )
    try:
        net.SGD(
            (X, y), args.epochs, args.batch_size, args.eta, test_data=test, lmbda=args.lmbda, progress=args.progress
        )
    except (FloatingPointError, ImportError) as exc:
        return _error(str(exc))
    history = net.history
    line = f"{history.summary()} in {sum(history.elapsed):.2f} s"
    if history.test_accuracy:
        k = history.test_accuracy[-1]
        line += f"; final test accuracy {k} / {history.n_test} ({100 * k / history.n_test:.2f}%)"
    print(line)
    if args.save:
        try:
            net.save(args.save)
        except OSError as exc:
            return _error(f"could not save to {args.save!r}: {exc}")
        print(f"saved to {args.save}")
    return 130 if history.interrupted else 0
