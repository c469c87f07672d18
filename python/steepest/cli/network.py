"""``steepest network``: train Nielsen's sigmoid network on MNIST and report each epoch.

    steepest network --data mnist:/path/to/mnist --epochs 30 --batch-size 10 --eta 3.0

The folder holds the IDX files (gzip or plain). When it has the 60,000 training images, the network
trains on the first ``--n-train`` of them and is tested on the first ``--n-test`` t10k images;
with only the t10k files, the first ``--n-train`` t10k images train and the next ``--n-test`` test.
Without ``--data`` the folder in the environment variable ``STEEPEST_MNIST_DIR`` is used.
"""

from __future__ import annotations

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
    parser.add_argument("--lmbda", type=float, default=0.0, help="L2 weight decay (default 0)")
    parser.add_argument("--sizes", default="784,30,10", help="layer widths (default 784,30,10)")
    parser.add_argument("--cost", choices=("quadratic", "cross_entropy"), default="quadratic")
    parser.add_argument("--init", choices=("standard", "scaled"), default="standard")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--n-train", type=int, default=8000, help="training examples (default 8000)")
    parser.add_argument("--n-test", type=int, default=2000, help="test examples (default 2000)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar (needs tqdm)")
    parser.add_argument("--save", metavar="PATH", default=None, help="save the trained network as JSON")


def _error(message: str) -> int:
    print(f"steepest network: error: {message}", file=sys.stderr)
    return 2


def _has(folder: str, kind: str) -> bool:
    return all(
        any(os.path.exists(os.path.join(folder, f"{kind}-{part}-ubyte{ext}")) for ext in ("", ".gz"))
        for part in ("images-idx3", "labels-idx1")
    )


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
    if args.n_train < 1 or args.n_test < 0:
        return _error(f"--n-train must be >= 1 and --n-test >= 0; got {args.n_train} and {args.n_test}")
    dtype = np.float32 if args.dtype == "float32" else np.float64
    try:
        if not os.path.isdir(folder):
            return _error(f"MNIST folder {folder!r} does not exist")
        test_images, test_labels = load_mnist(folder, kind="t10k")
        if _has(folder, "train"):
            train_images, train_labels = load_mnist(folder, kind="train")
            source = f"train[:{args.n_train}], t10k[:{args.n_test}]"
            t0 = 0
        else:
            train_images, train_labels = test_images, test_labels
            source = f"t10k[:{args.n_train}], t10k[{args.n_train}:{args.n_train + args.n_test}] (no training files)"
            t0 = args.n_train
        if args.n_train > len(train_labels) or t0 + args.n_test > len(test_labels):
            return _error(
                f"asked for {args.n_train} training and {args.n_test} test images; the folder has "
                f"{len(train_labels)} training and {len(test_labels) - t0} test images available"
            )
        X, y = mnist_for_network(train_images[: args.n_train], train_labels[: args.n_train], dtype)
        test = None
        if args.n_test:
            test = mnist_for_network(test_images[t0 : t0 + args.n_test], test_labels[t0 : t0 + args.n_test], dtype)
        net = Network(sizes, cost=args.cost, seed=args.seed, dtype=dtype, init=args.init)
        print(
            f"{net!r} on MNIST {source}: {args.epochs} epochs, mini-batch {args.batch_size}, eta {args.eta}"
            + (f", lmbda {args.lmbda}" if args.lmbda else "")
        )
        history = net.SGD(
            (X, y), args.epochs, args.batch_size, args.eta, test_data=test, lmbda=args.lmbda, progress=args.progress
        )
    except (TypeError, ValueError, OSError, ImportError, FloatingPointError) as exc:
        return _error(str(exc))
    print(history)
    if args.save:
        try:
            net.save(args.save)
        except OSError as exc:
            return _error(f"could not save to {args.save!r}: {exc}")
        print(f"saved to {args.save}")
    return 130 if history.interrupted else 0
