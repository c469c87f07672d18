"""steepest.datasets: loaders on real and written files, preprocessing, splits, synthetic data,
load_dataset specs, and checksummed downloads against a local HTTP server (never the internet)."""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from steepest import datasets as ds

import data_factories as fac

MNIST_DIR = Path(
    os.environ.get("STEEPEST_MNIST_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
)
HAVE_MNIST = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file() and (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason=f"real MNIST t10k files not found in {MNIST_DIR}")

try:
    import sklearn  # noqa: F401

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover
    HAVE_SKLEARN = False
needs_sklearn = pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn (the data extra) is not installed")


def hwc_to_rows(images: np.ndarray) -> np.ndarray:
    """(n, 32, 32, 3) back to the stored (n, 3072) R, G, B planes."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), -1)


# ------------------------------------------------------------------------------------------------
# MNIST: the real t10k files
# ------------------------------------------------------------------------------------------------


@needs_mnist
def test_real_mnist_t10k():
    X, y = ds.load_mnist(MNIST_DIR, "t10k")
    assert X.shape == (10000, 784) and X.dtype == np.uint8 and X.flags.c_contiguous and X.flags.writeable
    assert y.shape == (10000,) and y.dtype == np.int64
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # The well-known t10k label histogram.
    assert np.bincount(y, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert X.max() == 255 and X.min() == 0


@needs_mnist
def test_real_mnist_matches_registry_checksums():
    # The published md5s in the registry are those of the real files.
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert fac.md5(MNIST_DIR / name) == ds.REGISTRY["mnist"]["files"][name]


@needs_mnist
def test_load_dataset_real_mnist_t10k_only():
    data = ds.load_dataset(f"mnist:{MNIST_DIR}")
    assert data.shapes() == {
        "train": ((785, 8000), (8000,)),
        "val": ((785, 1000), (1000,)),
        "test": ((785, 1000), (1000,)),
    }
    assert np.all(data.X_train[-1] == 1)
    assert abs(data.X_train[:-1].mean(axis=1)).max() < 1e-9  # centred with its own (training) mean


# ------------------------------------------------------------------------------------------------
# IDX files written by the tests
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("kind", ["train", "t10k"])
def test_idx_round_trip(tmp_path, compress, kind):
    images, labels = fac.write_mnist_folder(tmp_path, n=37, kind=kind, compress=compress, seed=3)
    X, y = ds.load_mnist(tmp_path, kind)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert X.dtype == np.uint8 and y.dtype == np.int64


def test_idx_dot_spelling_and_str_path(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint64).reshape(2, 28, 28) % 256
    fac.write_idx(tmp_path / "t10k-images.idx3-ubyte", images)
    fac.write_idx(tmp_path / "t10k-labels.idx1-ubyte", np.array([3, 4]))
    X, y = ds.load_mnist(str(tmp_path), kind="t10k")
    assert X.shape == (2, 784) and y.tolist() == [3, 4]


def _mnist_pair(tmp_path, n=5, compress=False):
    images, labels = fac.write_mnist_folder(tmp_path, n=n, kind="t10k", compress=compress)
    gz = ".gz" if compress else ""
    return tmp_path / f"t10k-images-idx3-ubyte{gz}", tmp_path / f"t10k-labels-idx1-ubyte{gz}", images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_idx_wrong_magic(tmp_path, compress):
    img, lab, images, labels = _mnist_pair(tmp_path, compress=compress)
    fac.write_idx(img, images.reshape(-1, 28, 28), magic=2049, compress=compress)
    with pytest.raises(ValueError, match=r"magic number 2049.*expected 2051") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value)
    # A labels file given image magic.
    _mnist_pair(tmp_path, compress=compress)
    fac.write_idx(lab, labels, magic=2051, compress=compress)
    with pytest.raises(ValueError, match="magic number 2051") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(lab) in str(err.value)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_truncated_data(tmp_path, compress):
    img, _, images, _ = _mnist_pair(tmp_path, compress=compress)
    fac.write_idx(img, images.reshape(-1, 28, 28), compress=compress, truncate=100)
    with pytest.raises(ValueError, match="truncated") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value)


def test_idx_truncated_header_and_empty(tmp_path):
    img, _, _, _ = _mnist_pair(tmp_path)
    img.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="truncated inside its header") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value)
    img.write_bytes(b"")
    with pytest.raises(ValueError, match="truncated") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value)


def test_idx_truncated_gzip_stream(tmp_path):
    img, _, _, _ = _mnist_pair(tmp_path, n=20, compress=True)
    raw = img.read_bytes()
    img.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted gzip") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value)


def test_idx_extra_data_and_bad_labels(tmp_path):
    img, lab, images, labels = _mnist_pair(tmp_path)
    img.write_bytes(img.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="data beyond") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value)
    _mnist_pair(tmp_path)
    fac.write_idx(lab, np.array([1, 2, 11, 3, 4]))
    with pytest.raises(ValueError, match=r"labels\[2\] = 11") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(lab) in str(err.value)


def test_idx_count_mismatch(tmp_path):
    img, lab, _, labels = _mnist_pair(tmp_path, n=5, compress=True)
    fac.write_idx(lab, labels[:4], compress=True)
    with pytest.raises(ValueError, match="5 images but .* 4 labels") as err:
        ds.load_mnist(tmp_path, "t10k")
    assert str(img) in str(err.value) and str(lab) in str(err.value)


def test_mnist_missing_files_and_bad_kind(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ds.load_mnist(tmp_path / "nowhere", "t10k")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        ds.load_mnist(tmp_path, "t10k")
    fac.write_mnist_folder(tmp_path, n=3, kind="t10k")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        ds.load_mnist(tmp_path, "t10k")
    with pytest.raises(ValueError, match="kind must be 'train' or 't10k'"):
        ds.load_mnist(tmp_path, "test")
    with pytest.raises(TypeError, match="path must be a path"):
        ds.load_mnist(None)


# ------------------------------------------------------------------------------------------------
# CIFAR-10 folders written by the tests
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["py2", "py3"])
@pytest.mark.parametrize("nested", [True, False])
def test_cifar_loads(tmp_path, style, nested):
    w = fac.write_cifar_folder(tmp_path, n_per_batch=7, n_test=11, style=style, nested=nested)
    for path in {tmp_path, w["folder"]}:
        X_train, y_train, X_test, y_test = ds.load_cifar10(path)
        assert X_train.shape == (35, 32, 32, 3) and X_train.dtype == np.uint8 and X_train.flags.c_contiguous
        assert X_test.shape == (11, 32, 32, 3) and y_test.shape == (11,)
        assert y_train.dtype == np.int64 and y_test.dtype == np.int64
        np.testing.assert_array_equal(hwc_to_rows(X_train), w["train_rows"])
        np.testing.assert_array_equal(y_train, w["train_labels"])
        np.testing.assert_array_equal(hwc_to_rows(X_test), w["test_rows"])
        np.testing.assert_array_equal(y_test, w["test_labels"])
        # Channel layout as CS231n's load_CIFAR10: pixel (0, 0) is (R, G, B) = planes at 0, 1024, 2048.
        np.testing.assert_array_equal(X_train[0, 0, 0], w["train_rows"][0, [0, 1024, 2048]])


def test_cifar_subset_of_batches(tmp_path):
    w = fac.write_cifar_folder(tmp_path, n_per_batch=4, n_test=3)
    (w["folder"] / "data_batch_5").unlink()
    X, y, _, _ = ds.load_cifar10(tmp_path, batches=(1, 3))
    np.testing.assert_array_equal(hwc_to_rows(X), np.concatenate([w["train_rows"][0:4], w["train_rows"][8:12]]))
    assert len(y) == 8
    with pytest.raises(ValueError, match="distinct numbers in 1..5"):
        ds.load_cifar10(tmp_path, batches=(1, 6))
    with pytest.raises(TypeError):
        ds.load_cifar10(tmp_path, batches=2)


def test_cifar_missing_folder_and_batch(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ds.load_cifar10(tmp_path / "nope")
    w = fac.write_cifar_folder(tmp_path, n_per_batch=2, n_test=2)
    (w["folder"] / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.*missing") as err:
        ds.load_cifar10(tmp_path)
    assert str(w["folder"]) in str(err.value)
    (w["folder"] / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match="test_batch"):
        ds.load_cifar10(w["folder"], batches=(1,))


@pytest.fixture
def cifar(tmp_path):
    return fac.write_cifar_folder(tmp_path, n_per_batch=3, n_test=3)


def _expect_bad_batch(cifar, match, name="data_batch_2"):
    with pytest.raises(ValueError, match=match) as err:
        ds.load_cifar10(cifar["folder"])
    assert str(cifar["folder"] / name) in str(err.value)


@pytest.mark.parametrize("cut", [1, 10, 200, 3000])
def test_cifar_truncated_pickle(cifar, cut):
    path = cifar["folder"] / "data_batch_2"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - cut])
    _expect_bad_batch(cifar, "data_batch_2' is (truncated|not a valid CIFAR-10 batch)")


def test_cifar_empty_and_garbage(cifar):
    path = cifar["folder"] / "data_batch_2"
    path.write_bytes(b"")
    _expect_bad_batch(cifar, "is empty")
    path.write_bytes(b"this is not a pickle at all")
    _expect_bad_batch(cifar, "not a valid CIFAR-10 batch")
    path.write_bytes(gzip.compress(b"gzipped"))
    _expect_bad_batch(cifar, "not a valid CIFAR-10 batch")


def test_cifar_wrong_structure(cifar):
    path = cifar["folder"] / "data_batch_2"
    d, lab = fac.random_cifar(3, np.random.default_rng(0))
    cases = [
        ([1, 2, 3], "expected a pickled dict, got list"),
        ({b"data": d, b"label": list(lab)}, r"no key 'labels'"),
        ({b"labels": list(lab)}, r"no key 'data'"),
        ({b"data": d.astype(np.float32), b"labels": list(lab)}, "must have dtype uint8; got float32"),
        ({b"data": d[:, :3071], b"labels": list(lab)}, r"shape \(n, 3072\); got \(3, 3071\)"),
        ({b"data": d.reshape(3, 3, 32, 32), b"labels": list(lab)}, r"shape \(n, 3072\)"),
        ({b"data": d, b"labels": list(lab)[:2]}, "2 labels for 3 images"),
        ({b"data": d, b"labels": [1, 12, 3]}, r"labels\[1\] = 12"),
        ({b"data": d, b"labels": [1, 2.5, 3]}, "must be ints; found float"),
        ({b"data": d, b"labels": b"abc"}, "must be a list of ints; got bytes"),
        ({b"data": d[:0], b"labels": []}, "holds no images"),
        ({b"data": "pixels", b"labels": list(lab)}, "must be a numpy array"),
    ]
    for obj, match in cases:
        fac.write_cifar_batch(path, d, lab, obj=obj)
        _expect_bad_batch(cifar, match)
    # Labels as an int array (Python 3 re-pickles) are fine.
    fac.write_cifar_batch(path, d, lab, obj={"data": d, "labels": lab}, style="py3")
    assert len(ds.load_cifar10(cifar["folder"])[1]) == 15


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_cifar_malicious_pickle_refused(cifar, tmp_path, protocol):
    target = str(tmp_path / "pwned")
    path = cifar["folder"] / "data_batch_2"
    path.write_bytes(pickle.dumps({b"data": _Evil(target), b"labels": []}, protocol=protocol))
    _expect_bad_batch(cifar, r"refused global (posix|os|nt)\.mkdir")
    assert not os.path.exists(target)


def test_cifar_codecs_encode_restricted(cifar):
    # The protocol-2 bytes shim is allowed for latin1 only.
    path = cifar["folder"] / "data_batch_2"
    raw = pickle.dumps({b"data": b"x", b"labels": []}, protocol=2).replace(b"latin1", b"rot_13")
    path.write_bytes(raw)
    _expect_bad_batch(cifar, "refused _codecs.encode")


# ------------------------------------------------------------------------------------------------
# preprocess
# ------------------------------------------------------------------------------------------------


def test_preprocess_mean_from_train_bias_and_layout():
    rng = np.random.default_rng(0)
    tr = rng.integers(0, 256, size=(20, 4, 4, 3), dtype=np.uint8)
    te = rng.integers(0, 256, size=(7, 4, 4, 3), dtype=np.uint8)
    tr0, te0 = tr.copy(), te.copy()
    A, B = ds.preprocess(tr, te)
    mean = tr.reshape(20, -1).astype(np.float64).mean(axis=0)
    assert A.shape == (49, 20) and B.shape == (49, 7)
    assert A.dtype == np.float64 and A.flags.f_contiguous and B.flags.f_contiguous  # examples contiguous
    np.testing.assert_allclose(A[:-1], (tr.reshape(20, -1) - mean).T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(B[:-1], (te.reshape(7, -1) - mean).T, rtol=0, atol=1e-12)  # the TRAIN mean
    assert np.all(A[-1] == 1) and np.all(B[-1] == 1)
    np.testing.assert_array_equal(tr, tr0)
    np.testing.assert_array_equal(te, te0)
    R = ds.preprocess(tr, layout="rows")
    assert isinstance(R, np.ndarray) and R.shape == (20, 49) and R.flags.c_contiguous
    np.testing.assert_array_equal(R, A.T)
    N = ds.preprocess(tr, bias=False)
    np.testing.assert_array_equal(N, A[:-1])


def test_preprocess_float32_and_read_only_inputs():
    rng = np.random.default_rng(1)
    tr = rng.normal(100, 30, size=(50, 12))
    te = rng.normal(100, 30, size=(5, 12)).astype(np.float32)
    tr.flags.writeable = False
    a64, b64 = ds.preprocess(tr, te)
    a32, b32 = ds.preprocess(tr, te, dtype=np.float32)
    assert a32.dtype == np.float32 and b32.dtype == np.float32
    # Centred in float64 first, then cast: equal to the float64 result rounded once.
    np.testing.assert_array_equal(a32, a64.astype(np.float32))
    np.testing.assert_array_equal(b32, b64.astype(np.float32))


def test_preprocess_many_blocks_matches_direct():
    rng = np.random.default_rng(2)
    tr = rng.integers(0, 256, size=(700, 3072), dtype=np.uint8)  # several blocks of examples
    out = ds.preprocess(tr, dtype=np.float32)
    ref = np.vstack([(tr - tr.mean(axis=0)).T, np.ones((1, 700))]).astype(np.float32)
    np.testing.assert_array_equal(out, ref)


def test_preprocess_bad_input():
    good = np.zeros((3, 4))
    with pytest.raises(TypeError, match="X_train must be a numpy.ndarray"):
        ds.preprocess([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="dtype bool"):
        ds.preprocess(np.zeros((3, 4), dtype=bool))
    with pytest.raises(TypeError, match="complex"):
        ds.preprocess(np.zeros((3, 4), dtype=complex))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        ds.preprocess(np.zeros(4))
    with pytest.raises(ValueError, match="must not be empty"):
        ds.preprocess(np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"others\[0\] must have 4 features"):
        ds.preprocess(good, np.zeros((2, 5)))
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        ds.preprocess(good, dtype=np.int32)
    with pytest.raises(ValueError, match="layout must be"):
        ds.preprocess(good, layout="cols")
    with pytest.raises(TypeError, match="bias must be a bool"):
        ds.preprocess(good, bias=1)
    bad = good.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X_train must be finite; X_train\[1, 2\] = nan"):
        ds.preprocess(bad)
    with pytest.raises(ValueError, match=r"others\[0\] must be finite; others\[0\]\[1, 2\] = nan"):
        ds.preprocess(good, bad)
    many = np.zeros((700, 3072), dtype=np.float32)  # several blocks: the index is in the whole input
    many[650, 5] = np.inf
    with pytest.raises(ValueError, match=r"X_train must be finite; X_train\[650, 5\] = inf \(1 non-finite"):
        ds.preprocess(many)
    with pytest.raises(ValueError, match=r"others\[0\] must be finite; others\[0\]\[650, 5\] = inf"):
        ds.preprocess(many[:2], many)


# ------------------------------------------------------------------------------------------------
# split
# ------------------------------------------------------------------------------------------------


def test_split_seeded_disjoint():
    X = np.arange(100 * 3).reshape(100, 3)
    y = np.arange(100) % 10
    X0, y0 = X.copy(), y.copy()
    a = ds.split(X, y, 60, 25, 10, seed=5)
    b = ds.split(X, y, 60, 25, 10, seed=5)
    c = ds.split(X, y, 60, 25, 10, seed=6)
    assert len(a) == 6
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    ids = [p[:, 0] // 3 for p in a[0::2]]
    assert [len(i) for i in ids] == [60, 25, 10]
    assert len(np.unique(np.concatenate(ids))) == 95
    for i, lab in zip(ids, a[1::2]):
        assert np.all(np.diff(i) > 0)  # each piece keeps the original order
        np.testing.assert_array_equal(lab, y[i])
        assert lab.dtype == np.int64
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    # Generator seeds; an empty test piece when n_test = 0.
    d = ds.split(X, y.astype(np.int32), 10, 5, seed=np.random.default_rng(0))
    assert d[4].shape == (0, 3) and d[5].shape == (0,) and d[1].dtype == np.int64


def test_split_bad_input():
    X, y = np.zeros((10, 2)), np.zeros(10, dtype=np.int64)
    with pytest.raises(ValueError, match="must be <= 10"):
        ds.split(X, y, 8, 2, 1)
    with pytest.raises(ValueError, match="same number of examples"):
        ds.split(X, y[:9], 5, 1)
    with pytest.raises(TypeError, match="n_train must be an int"):
        ds.split(X, y, True, 1)
    with pytest.raises(ValueError, match="n_train must be >= 1"):
        ds.split(X, y, 0, 1)
    with pytest.raises(TypeError, match="integer labels"):
        ds.split(X, y.astype(float), 5, 1)
    with pytest.raises(TypeError, match="seed must be an int"):
        ds.split(X, y, 5, 1, seed="a")


# ------------------------------------------------------------------------------------------------
# make_synthetic
# ------------------------------------------------------------------------------------------------


def test_synthetic_deterministic_shapes_bias():
    X, y = ds.make_synthetic(500, d=40, c=5, seed=3)
    X2, y2 = ds.make_synthetic(500, d=40, c=5, seed=3)
    X3, _ = ds.make_synthetic(500, d=40, c=5, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3)
    assert X.shape == (40, 500) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (500,) and y.dtype == np.int64 and y.min() >= 0 and y.max() < 5
    assert np.all(X[-1] == 1)
    assert abs(X[:-1].mean()) < 0.05 and 0.8 < X[:-1].std() < 1.2
    X32, y32 = ds.make_synthetic(500, d=40, c=5, seed=3, dtype=np.float32)
    assert X32.dtype == np.float32 and np.all(X32[-1] == 1) and y32.shape == (500,)
    Xg, _ = ds.make_synthetic(10, d=5, seed=np.random.default_rng(0))
    assert Xg.shape == (5, 10)


def test_synthetic_cifar_shaped_default():
    X, y = ds.make_synthetic(300)
    assert X.shape == (3073, 300) and len(np.unique(y)) == 10


def test_synthetic_learnable():
    X, y = ds.make_synthetic(3000, d=101, seed=0)
    Xtr, ytr, Xte, yte = X[:, :2000], y[:2000], X[:, 2000:], y[2000:]
    W = np.linalg.lstsq(Xtr.T, np.eye(10)[ytr], rcond=None)[0].T  # a linear classifier, least squares
    acc = np.mean(np.argmax(W @ Xte, axis=0) == yte)
    assert acc > 0.45, acc  # chance is 0.1, the largest class about 0.16


def test_synthetic_bad_input():
    with pytest.raises(ValueError, match="n must be >= 1"):
        ds.make_synthetic(0)
    with pytest.raises(TypeError, match="n must be an int"):
        ds.make_synthetic(10.0)
    with pytest.raises(ValueError, match="c must be >= 2"):
        ds.make_synthetic(10, c=1)
    with pytest.raises(TypeError, match="dtype"):
        ds.make_synthetic(10, dtype=np.float16)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        ds.make_synthetic(10, seed=-1)


# ------------------------------------------------------------------------------------------------
# load_digits and load_dataset
# ------------------------------------------------------------------------------------------------


@needs_sklearn
def test_load_digits():
    X, y = ds.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and X.min() == 0 and X.max() == 16
    assert y.shape == (1797,) and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))


def test_load_digits_without_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install steepest\[data\]"):
        ds.load_digits()


def test_import_is_light():
    code = (
        "import sys, steepest.datasets; bad = {'sklearn', 'pooch', 'matplotlib', 'tqdm'} & set(sys.modules); "
        "assert not bad, bad"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(ds.__file__).parents[2]), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def _check_split(data, sizes, D, dtype=np.float64):
    assert isinstance(data, ds.DataSplit)
    got = data.shapes()
    assert [got[k][0][1] for k in ("train", "val", "test")] == list(sizes)
    for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val), (data.X_test, data.y_test)):
        assert X.shape[0] == D and X.dtype == dtype and (X.flags.f_contiguous or X.flags.c_contiguous)
        assert y.dtype == np.int64 and y.shape == (X.shape[1],)
        assert y.size == 0 or 0 <= y.min() <= y.max() < data.classes
        assert np.all(X[-1] == 1)
    assert data.classes == 10 and data.n_features == D
    text = str(data)
    assert data.name in text and f"{sizes[0]:,}" in text and "train" in text
    assert data.name in repr(data) and len(repr(data)) < 300


@needs_sklearn
def test_load_dataset_digits():
    data = ds.load_dataset()
    _check_split(data, (1297, 250, 250), 65)
    assert abs(data.X_train[:-1].mean(axis=1)).max() < 1e-12
    again = ds.load_dataset("digits")
    np.testing.assert_array_equal(again.X_val, data.X_val)
    other = ds.load_dataset("digits", seed=1, dtype=np.float32, n_train=500)
    _check_split(other, (500, 250, 250), 65, np.float32)
    with pytest.raises(ValueError, match="n_train must be <= 1297"):
        ds.load_dataset("digits", n_train=1500)
    with pytest.raises(dataclasses_frozen_error()):
        data.name = "x"


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_load_dataset_cifar10(tmp_path):
    w = fac.write_cifar_folder(tmp_path, n_per_batch=20, n_test=30)
    data = ds.load_dataset(f"cifar10:{tmp_path}")
    _check_split(data, (90, 10, 30), 3073)
    # Train and validation come from the 100 training images; test is the test batch, in order,
    # centred with the training mean.
    assert len(data.y_train) + len(data.y_val) == 100
    np.testing.assert_array_equal(data.y_test, w["test_labels"])
    X_all, _, X_test, _ = ds.load_cifar10(tmp_path)
    m = X_test.reshape(30, -1)[0] - data.X_test[:-1, 0]  # the mean that was subtracted
    recovered = data.X_train[:-1] + m[:, None]
    np.testing.assert_allclose(recovered.mean(axis=1), m, atol=1e-9)  # ... is the training mean
    train_images = {bytes(r) for r in X_all.reshape(100, -1)}
    assert {bytes(r) for r in np.rint(recovered.T).astype(np.uint8)} <= train_images
    small = ds.load_dataset(f"cifar10:{w['folder']}", n_train=50, n_test=5, dtype=np.float32, seed=2)
    _check_split(small, (50, 10, 5), 3073, np.float32)
    with pytest.raises(ValueError, match="n_test must be <= 30"):
        ds.load_dataset(f"cifar10:{tmp_path}", n_test=31)
    with pytest.raises(FileNotFoundError):
        ds.load_dataset(f"cifar10:{tmp_path / 'missing'}")


def test_load_dataset_mnist_t10k_only_and_with_train(tmp_path):
    fac.write_mnist_folder(tmp_path, n=70, kind="t10k")
    _check_split(ds.load_dataset(f"mnist:{tmp_path}"), (50, 10, 10), 785)
    fac.write_mnist_folder(tmp_path, n=120, kind="train", compress=False, seed=1)
    data = ds.load_dataset(f"mnist:{tmp_path}", n_test=70)
    _check_split(data, (108, 12, 70), 785)


def test_load_dataset_synthetic():
    data = ds.load_dataset("synthetic")
    _check_split(data, (4000, 500, 500), 3073)
    small = ds.load_dataset("synthetic:1_000", dtype=np.float32, seed=7, n_train=300)
    _check_split(small, (300, 100, 100), 3073, np.float32)
    # One hidden model for all three sets: the training set's prefix is make_synthetic's data.
    X, y = ds.make_synthetic(300, seed=7, dtype=np.float32)
    np.testing.assert_array_equal(small.X_train, X)
    np.testing.assert_array_equal(small.y_train, y)


def test_load_dataset_bad_spec(tmp_path):
    for spec in ("imagenet", "cifar", "digits:foo", ""):
        with pytest.raises(ValueError, match=r"'digits', 'cifar10:PATH', 'mnist:PATH'"):
            ds.load_dataset(spec)
    with pytest.raises(ValueError, match="integer N"):
        ds.load_dataset("synthetic:many")
    with pytest.raises(TypeError, match="spec must be a str"):
        ds.load_dataset(None)


# ------------------------------------------------------------------------------------------------
# downloads, against a local HTTP server on 127.0.0.1
# ------------------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve ``tmp_path / "www"``; yields (base_url, folder, list of requested paths)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    www = tmp_path / "www"
    www.mkdir()
    requests: list[str] = []

    class Handler(_Handler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/files/", www, requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("STEEPEST_DATA", str(home))
    return home


def _serve_mnist(www, monkeypatch, *, corrupt=None):
    files = www / "files"
    for kind, n in (("train", 30), ("t10k", 12)):
        fac.write_mnist_folder(files, n=n, kind=kind, seed=len(kind))
    registry = {name: fac.md5(files / name) for name in ds.REGISTRY["mnist"]["files"]}
    if corrupt:
        registry[corrupt] = "md5:" + "0" * 32
    monkeypatch.setitem(ds.REGISTRY["mnist"], "files", registry)
    return files, registry


def test_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "x"))
    assert ds.data_home() == tmp_path / "x"
    monkeypatch.delenv("STEEPEST_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ds.data_home() == tmp_path / ".cache" / "steepest"
    assert not (tmp_path / ".cache").exists()  # nothing is created by asking


def test_download_mnist_verified_and_cached(server, cache, monkeypatch):
    base, www, requests = server
    files, _ = _serve_mnist(www, monkeypatch)
    folder = ds.download_mnist(base_url=base)
    assert folder == cache / "mnist"  # STEEPEST_DATA respected
    assert sorted(p.name for p in folder.iterdir()) == sorted(ds.REGISTRY["mnist"]["files"])
    assert len(requests) == 4
    for kind in ("train", "t10k"):
        X, y = ds.load_mnist(folder, kind)
        assert len(X) == (30 if kind == "train" else 12)
        name = f"{kind}-images-idx3-ubyte.gz"
        assert (folder / name).read_bytes() == (files / name).read_bytes()
    assert ds.download_mnist(base_url=base) == folder
    assert len(requests) == 4  # cached: the second call downloads nothing
    # A cached file that no longer matches its checksum is fetched again.
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    ds.download_mnist(base_url=base, kinds=("t10k",))
    assert requests[4:] == ["/files/t10k-labels-idx1-ubyte.gz"]
    assert ds.load_mnist(folder, "t10k")[1].shape == (12,)
    data = ds.load_dataset("mnist")  # the default folder is data_home()/mnist
    assert data.X_train.shape[1] == 27 and data.X_test.shape[1] == 12


def test_download_mnist_corrupted_rejected(server, cache, monkeypatch, tmp_path):
    base, www, _ = server
    _, registry = _serve_mnist(www, monkeypatch, corrupt="t10k-labels-idx1-ubyte.gz")
    dest = tmp_path / "dest"
    with pytest.raises(ds.ChecksumError) as err:
        ds.download_mnist(dest, base_url=base, kinds="t10k")
    msg = str(err.value)
    assert base + "t10k-labels-idx1-ubyte.gz" in msg and "0" * 32 in msg
    received = fac.md5(www / "files" / "t10k-labels-idx1-ubyte.gz").split(":")[1]
    assert received in msg
    # The good file was installed, the bad one left nothing behind (no partial or temporary file).
    assert sorted(p.name for p in dest.iterdir()) == ["t10k-images-idx3-ubyte.gz"]
    assert not cache.exists()


def test_download_http_error_names_url(server, cache, monkeypatch):
    base, www, _ = server
    (www / "files").mkdir()
    monkeypatch.setitem(ds.REGISTRY["mnist"], "files", {"t10k-images-idx3-ubyte.gz": "md5:" + "1" * 32})
    with pytest.raises(ds.DownloadError, match=r"files/t10k-images-idx3-ubyte.gz failed: HTTP 404"):
        ds.download_mnist(base_url=base)
    assert list((cache / "mnist").iterdir()) == []
    with pytest.raises(ValueError, match="http, https or file URL"):
        ds.download_mnist(base_url="ftp://example.org/")


def _serve_cifar(tmp_path, www, monkeypatch, *, corrupt=False):
    w = fac.write_cifar_folder(tmp_path / "src", n_per_batch=4, n_test=5)
    (www / "files").mkdir(exist_ok=True)
    archive = fac.write_tar_gz(www / "files" / "cifar-10-python.tar.gz", w["folder"], "cifar-10-batches-py")
    checksum = "md5:" + "f" * 32 if corrupt else fac.md5(archive)
    monkeypatch.setitem(ds.REGISTRY["cifar10"], "files", {"cifar-10-python.tar.gz": checksum})
    return w, archive


def test_download_cifar10_verified_and_cached(server, cache, monkeypatch, tmp_path):
    base, www, requests = server
    w, _ = _serve_cifar(tmp_path, www, monkeypatch)
    folder = ds.download_cifar10(base_url=base)
    assert folder == cache / "cifar-10-batches-py"
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-10-batches-py"]  # archive and temporaries gone
    X, y, Xt, yt = ds.load_cifar10(folder)
    np.testing.assert_array_equal(hwc_to_rows(X), w["train_rows"])
    np.testing.assert_array_equal(yt, w["test_labels"])
    assert ds.download_cifar10(base_url=base) == folder
    assert len(requests) == 1  # cached
    ds.download_cifar10(base_url=base, force=True)
    assert len(requests) == 2
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-10-batches-py"]
    assert ds.load_dataset("cifar10").X_train.shape == (3073, 18)


def test_download_cifar10_corrupted_rejected(server, cache, monkeypatch, tmp_path):
    base, www, _ = server
    _, archive = _serve_cifar(tmp_path, www, monkeypatch, corrupt=True)
    with pytest.raises(ds.ChecksumError) as err:
        ds.download_cifar10(base_url=base)
    msg = str(err.value)
    assert base + "cifar-10-python.tar.gz" in msg and "f" * 32 in msg and fac.md5(archive)[4:] in msg
    assert list(cache.iterdir()) == []


def test_download_cifar10_unsafe_archive_rejected(server, cache, monkeypatch, tmp_path):
    import tarfile

    base, www, _ = server
    (www / "files").mkdir()
    evil = tmp_path / "evil.txt"
    evil.write_text("x")
    archive = www / "files" / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(evil, arcname="../escaped.txt")
    monkeypatch.setitem(ds.REGISTRY["cifar10"], "files", {"cifar-10-python.tar.gz": fac.md5(archive)})
    with pytest.raises(ValueError, match=r"unsafe path '\.\./escaped\.txt'"):
        ds.download_cifar10(base_url=base)
    assert list(cache.iterdir()) == [] and not (tmp_path / "escaped.txt").exists()
    # An archive without the expected batches installs nothing either.
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(evil, arcname="cifar-10-batches-py/readme.txt")
    monkeypatch.setitem(ds.REGISTRY["cifar10"], "files", {"cifar-10-python.tar.gz": fac.md5(archive)})
    with pytest.raises(ValueError, match="does not hold cifar-10-batches-py/data_batch_1"):
        ds.download_cifar10(base_url=base)
    assert list(cache.iterdir()) == []


def test_download_refuses_bad_arguments_before_creating_anything(cache, tmp_path):
    dest = tmp_path / "never"
    for call, kwargs, error, match in [
        (ds.download_mnist, {"base_url": "ftp://example.org/"}, ValueError, "http, https or file URL"),
        (ds.download_mnist, {"base_url": 7}, TypeError, "base_url must be a str"),
        (ds.download_mnist, {"timeout": 0}, ValueError, "timeout must be a positive"),
        (ds.download_mnist, {"timeout": float("nan")}, ValueError, "timeout must be a positive"),
        (ds.download_mnist, {"timeout": "10"}, TypeError, "timeout must be a number"),
        (ds.download_mnist, {"force": 1}, TypeError, "force must be True or False"),
        (ds.download_mnist, {"kinds": ("test",)}, ValueError, "'train' and/or 't10k'"),
        (ds.download_mnist, {"progress": "yes"}, TypeError, "progress must be"),
        (ds.download_cifar10, {"base_url": "gopher://x/"}, ValueError, "http, https or file URL"),
        (ds.download_cifar10, {"timeout": -1.0}, ValueError, "timeout must be a positive"),
        (ds.download_cifar10, {"force": "no"}, TypeError, "force must be True or False"),
    ]:
        with pytest.raises(error, match=match):
            call(dest, **kwargs)
        with pytest.raises(error, match=match):
            call(**kwargs)
    assert not dest.exists() and not cache.exists()


def test_download_without_pooch_names_the_extra(cache, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pooch", None)  # `import pooch` now raises ImportError
    for call in (ds.download_mnist, ds.download_cifar10):
        with pytest.raises(ImportError, match=r"needs pooch: pip install steepest\[data\]"):
            call(tmp_path / "dest")
    assert not (tmp_path / "dest").exists() and not cache.exists()
    monkeypatch.delitem(sys.modules, "pooch")
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r"progress=True needs tqdm: pip install steepest\[progress\]"):
        ds.download_mnist(tmp_path / "dest", progress=True)
    assert not (tmp_path / "dest").exists()


def test_download_mnist_force_and_file_urls(server, cache, monkeypatch, tmp_path):
    base, www, requests = server
    files, _ = _serve_mnist(www, monkeypatch)
    folder = ds.download_mnist(base_url=base, kinds="t10k", progress=False)
    assert len(requests) == 2
    ds.download_mnist(base_url=base, kinds="t10k", force=True, progress=False)
    assert len(requests) == 4  # force: both files again, moved over the old ones
    assert sorted(p.name for p in folder.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    # A file:// URL (a mirror on a shared disk) is read without a server.
    local = ds.download_mnist(tmp_path / "local", base_url=files.as_uri() + "/", kinds="train")
    assert ds.load_mnist(local, "train")[0].shape == (30, 784)
    assert len(requests) == 4


def test_download_shows_pooch_progress_bar(server, cache, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    base, www, _ = server
    _serve_mnist(www, monkeypatch)
    ds.download_mnist(base_url=base, kinds="t10k", progress=True)
    err = capsys.readouterr().err
    assert "B/s" in err or "100%" in err  # tqdm's bar, drawn by pooch's HTTPDownloader
