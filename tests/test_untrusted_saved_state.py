"""Saved checkpoints and saved networks are untrusted files: every field is validated before use.

A checkpoint (``resume=``) is refused, on every backend, when a field is missing, has another type, dtype or
shape, is out of range, disagrees with the other fields, or does not fit the problem that resumes it; so is a
network file (``Network.load``, ``network2.load``). Each refusal is the :mod:`steepest._untrusted` class of
its fault, and its message names the file and the field. No load changes NumPy's or Python's global
generators. The random counterpart (bytes flipped, files truncated, fields dropped, retyped, resized) is
``tests/fuzz/fuzz_saved_state.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import zipfile

import numpy as np
import pytest

import steepest
from steepest import network2
from steepest import optimize as opt
from steepest._untrusted import (
    FieldRangeError,
    FieldTypeError,
    MissingFieldError,
    ProblemMismatchError,
    UnreadableFileError,
    UntrustedFileError,
)
from steepest.network import Network

from naive import make_problem

# --- checkpoints ---------------------------------------------------------------------------------

N, C, D = 60, 4, 6
# epoch sampling, Adam and validation data: a checkpoint with every field (perm, state_m, state_v, best_W)
RUN = dict(batch_size=16, step_size=0.1, sampling="epoch", update="adam", eval_every=3)
SAVED_AT, RESUMED_TO = 7, 20


def problem(backend, dtype=np.float64, n=N, d=D, seed=1):
    _, X, y = make_problem(C=C, D=d, N=n, seed=seed, dtype=dtype)
    return steepest.SVMLoss(X, y, 1e-3, backend=backend), X, y


def minibatch(loss, X, y, **options):
    kwargs = dict(RUN, num_iters=RESUMED_TO, X_val=X[:, :30], y_val=y[:30])
    kwargs.update(options)
    if kwargs["X_val"] is None:
        kwargs.pop("eval_every")
    return opt.minibatch_gd(loss, None, **kwargs)


_BASES: dict = {}


@pytest.fixture
def base(backend, tmp_path_factory):
    """The raw bytes of a real checkpoint of the run above, saved at step 7, on ``backend`` (made once)."""
    if backend not in _BASES:
        loss, X, y = problem(backend)
        path = tmp_path_factory.mktemp(f"base-{backend}") / "run.ckpt"
        minibatch(loss, X, y, num_iters=SAVED_AT, seed=0, checkpoint=path)
        _BASES[backend] = path.read_bytes()
    return _BASES[backend]


def unpack(raw: bytes) -> tuple[dict, dict]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(arrays.pop("__meta__").tobytes())


def pack(path, arrays: dict, meta: dict | None, *, meta_bytes: bytes | None = None) -> None:
    """Write an .npz as np.savez does (members may be arbitrary bytes: ``arrays`` values of type bytes)."""
    if meta is not None or meta_bytes is not None:
        raw = meta_bytes if meta_bytes is not None else json.dumps(meta).encode()
        arrays = dict(arrays, __meta__=np.frombuffer(raw, dtype=np.uint8))
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in arrays.items():
            if isinstance(value, bytes):
                archive.writestr(name, value)
                continue
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(value), allow_pickle=True)
            archive.writestr(name + ".npy", buffer.getvalue())


def npy_with_shape(shape, dtype="<f8") -> bytes:
    """A .npy member whose header claims ``shape`` but that holds 8 bytes: read naively, a huge allocation."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + b"\0" * 8


def _set(path: str, value):
    """A mutation setting the dotted ``path`` of the metadata (``settings.batch_size``, ``rng.state.inc``)."""

    def mutate(arrays, meta):
        *parents, last = path.split(".")
        doc = meta
        for key in parents:
            doc = doc[key]
        doc[last] = value

    return mutate


def _drop(path: str):
    def mutate(arrays, meta):
        *parents, last = path.split(".")
        doc = meta
        for key in parents:
            doc = doc[key]
        del doc[last]

    return mutate


def _array(key: str, change):
    def mutate(arrays, meta):
        arrays[key] = change(arrays[key])

    return mutate


def _drop_array(key: str):
    def mutate(arrays, meta):
        del arrays[key]

    return mutate


def _perm_with(i, value):
    def change(perm):
        perm = perm.copy()
        perm[i] = value
        return perm

    return change


MT19937_BAD_POS = {"bit_generator": "MT19937", "state": {"key": [1] * 624, "pos": 700}}
PHILOX_BAD_BUFFER = {
    "bit_generator": "Philox",
    "state": {"counter": [0] * 4, "key": [0, 0]},
    "buffer": [0] * 4,
    "buffer_pos": -1,
    "has_uint32": 0,
    "uinteger": 0,
}
W_LIKE = ("W", "state_m", "state_v", "best_W")
FLOAT_VECTORS = ("loss_history", "lr_history", "val_accs")
INT_VECTORS = ("val_steps", "perm")

# (id, mutation of (arrays, meta), expected class, field named, resume options)
CASES = [
    # every array: missing, retyped, of another dtype or shape
    *[(f"{k}-missing", _drop_array(k), MissingFieldError, k, {}) for k in W_LIKE + FLOAT_VECTORS + INT_VECTORS],
    *[(f"{k}-retyped", _array(k, lambda a: a.astype("<U8")), FieldTypeError, k, {}) for k in W_LIKE + FLOAT_VECTORS],
    *[(f"{k}-retyped", _array(k, lambda a: a.astype(np.float64)), FieldTypeError, k, {}) for k in INT_VECTORS],
    *[(f"{k}-float32", _array(k, lambda a: a.astype(np.float32)), FieldTypeError, k, {}) for k in W_LIKE],
    *[(f"{k}-float32", _array(k, lambda a: a.astype(np.float32)), FieldTypeError, k, {}) for k in FLOAT_VECTORS],
    *[(f"{k}-int32", _array(k, lambda a: a.astype(np.int32)), FieldTypeError, k, {}) for k in INT_VECTORS],
    *[(f"{k}-big-endian", _array(k, lambda a: a.astype(">f8")), FieldTypeError, k, {}) for k in W_LIKE],
    *[(f"{k}-shape", _array(k, lambda a: a[:2]), FieldTypeError, k, {}) for k in W_LIKE],
    *[(f"{k}-transposed", _array(k, lambda a: a.T.copy()), FieldTypeError, k, {}) for k in W_LIKE],
    *[(f"{k}-shorter", _array(k, lambda a: a[:-1]), FieldTypeError, k, {}) for k in FLOAT_VECTORS + INT_VECTORS],
    *[(f"{k}-2d", _array(k, lambda a: a[None]), FieldTypeError, k, {}) for k in FLOAT_VECTORS + INT_VECTORS],
    # values out of range or inconsistent with the other fields
    ("W-nan", _array("W", lambda a: a * np.nan), FieldRangeError, "W", {}),
    ("state_m-inf", _array("state_m", lambda a: a + np.inf), FieldRangeError, "state_m", {}),
    ("state_v-negative", _array("state_v", lambda a: -a - 1.0), FieldRangeError, "state_v", {}),
    ("best_W-nan", _array("best_W", lambda a: a * np.nan), FieldRangeError, "best_W", {}),
    ("loss_history-nan", _array("loss_history", lambda a: a * np.nan), FieldRangeError, "loss_history", {}),
    ("lr_history-negative", _array("lr_history", lambda a: -a), FieldRangeError, "lr_history", {}),
    ("val_accs-above-1", _array("val_accs", lambda a: a + 1.5), FieldRangeError, "val_accs", {}),
    ("val_steps-shifted", _array("val_steps", lambda a: a + 1), FieldRangeError, "val_steps", {}),
    ("perm-negative", _array("perm", _perm_with(5, -1)), FieldRangeError, "perm", {}),
    ("perm-beyond-n", _array("perm", _perm_with(5, N)), FieldRangeError, "perm", {}),
    ("perm-far-beyond-n", _array("perm", _perm_with(0, 2**40)), FieldRangeError, "perm", {}),
    ("perm-repeated", _array("perm", lambda p: np.concatenate([p[:1], p[:-1]])), FieldRangeError, "perm", {}),
    (
        "perm-in-a-replacement-run",
        lambda a, m: (_set("settings.sampling", "replacement")(a, m), _set("pos", N)(a, m)),
        FieldRangeError,
        "perm",
        {"sampling": "replacement"},
    ),
    # the metadata document: every field missing, retyped, out of range, inconsistent
    *[
        (f"{k}-missing", _drop(k), MissingFieldError, k, {})
        for k in ("format", "settings", "step", "pos", "best_acc", "best_step", "bad", "rng")
    ],
    ("format-retyped", _set("format", 1), FieldTypeError, "format", {}),
    ("format-other", _set("format", "steepest-checkpoint-0"), FieldRangeError, "format", {}),
    ("settings-retyped", _set("settings", [1, 2]), FieldTypeError, "settings", {}),
    ("step-str", _set("step", "7"), FieldTypeError, "step", {}),
    ("step-float", _set("step", 7.0), FieldTypeError, "step", {}),
    ("step-bool", _set("step", True), FieldTypeError, "step", {}),
    ("step-negative", _set("step", -1), FieldRangeError, "step", {}),
    ("step-inconsistent", _set("step", 6), FieldRangeError, "pos", {}),
    ("pos-retyped", _set("pos", "48"), FieldTypeError, "pos", {}),
    ("pos-negative", _set("pos", -1), FieldRangeError, "pos", {}),
    ("pos-beyond-n", _set("pos", N + 1), FieldRangeError, "pos", {}),
    ("pos-inconsistent", _set("pos", 3), FieldRangeError, "pos", {}),
    ("best_acc-retyped", _set("best_acc", "0.5"), FieldTypeError, "best_acc", {}),
    ("best_acc-nan", _set("best_acc", float("nan")), FieldRangeError, "best_acc", {}),
    ("best_acc-inconsistent", _set("best_acc", 0.99), FieldRangeError, "best_acc", {}),
    ("best_step-retyped", _set("best_step", 3.0), FieldTypeError, "best_step", {}),
    ("best_step-zero", _set("best_step", 0), FieldRangeError, "best_step", {}),
    ("best_step-inconsistent", _set("best_step", 6), FieldRangeError, "best_step", {}),
    ("bad-retyped", _set("bad", [1]), FieldTypeError, "bad", {}),
    ("bad-negative", _set("bad", -1), FieldRangeError, "bad", {}),
    ("bad-inconsistent", _set("bad", 7), FieldRangeError, "bad", {}),
    ("meta-unknown-field", _set("extra", 1), UnreadableFileError, "extra", {}),
    ("settings-key-missing", _drop("settings.batch_size"), MissingFieldError, "settings.batch_size", {}),
    ("settings-key-retyped", _set("settings.batch_size", "16"), FieldTypeError, "settings.batch_size", {}),
    ("settings-key-unknown", _set("settings.extra", 1), UnreadableFileError, "settings.extra", {}),
    ("rng-retyped", _set("rng", "PCG64"), FieldTypeError, "rng", {}),
    ("rng-name-mismatch", _set("rng.bit_generator", "SFC64"), FieldRangeError, "rng.bit_generator", {}),
    ("rng-not-a-generator", _set("rng.state.bit_generator", "seed"), FieldRangeError, "rng.state.bit_generator", {}),
    ("rng-state-missing", _drop("rng.state.state"), MissingFieldError, "rng.state.state", {}),
    ("rng-inc-retyped", _set("rng.state.state.inc", "1"), FieldTypeError, "rng.state.state.inc", {}),
    ("rng-inc-negative", _set("rng.state.state.inc", -1), FieldRangeError, "rng.state.state.inc", {}),
    ("rng-inc-huge", _set("rng.state.state.inc", 2**130), FieldRangeError, "rng.state.state.inc", {}),
    ("rng-has_uint32", _set("rng.state.has_uint32", 2), FieldRangeError, "rng.state.has_uint32", {}),
    ("rng-unknown-field", _set("rng.state.extra", 0), UnreadableFileError, "rng.state.extra", {}),
    (
        "rng-mt19937-pos",  # MT19937 reads key[pos] unchecked at the next draw
        lambda a, m: m.__setitem__("rng", {"bit_generator": "MT19937", "state": MT19937_BAD_POS}),
        FieldRangeError,
        "rng.state.state.pos",
        {},
    ),
    (
        "rng-philox-buffer_pos",  # Philox reads buffer[buffer_pos] unchecked
        lambda a, m: m.__setitem__("rng", {"bit_generator": "Philox", "state": PHILOX_BAD_BUFFER}),
        FieldRangeError,
        "rng.state.buffer_pos",
        {},
    ),
    # a well-formed checkpoint resumed by another problem or run
    ("other-step-size", _set("settings.step_size", 0.2), ProblemMismatchError, "settings.step_size", {}),
    ("other-D", None, ProblemMismatchError, "settings.D", {"problem": dict(d=D + 1)}),
    ("other-N", None, ProblemMismatchError, "settings.N", {"problem": dict(n=N + 4)}),
    ("other-dtype", None, ProblemMismatchError, "settings.dtype", {"problem": dict(dtype=np.float32)}),
    ("other-labels", None, ProblemMismatchError, "settings.labels_crc32", {"problem": dict(seed=2)}),
    ("other-update", None, ProblemMismatchError, "settings.update", {"update": "momentum"}),
    ("no-validation", None, ProblemMismatchError, "settings.eval_every", {"X_val": None, "y_val": None}),
    ("past-the-end", None, ProblemMismatchError, "step", {"num_iters": SAVED_AT - 1}),
]

# the archive itself: not an .npz, damaged, members that are not ours
ARCHIVE_CASES = [
    ("not-a-zip", lambda raw, path: path.write_bytes(b"not a checkpoint"), UnreadableFileError, None),
    ("truncated", lambda raw, path: path.write_bytes(raw[: len(raw) // 2]), UnreadableFileError, None),
    ("empty", lambda raw, path: path.write_bytes(b""), UnreadableFileError, None),
    ("flipped-data-byte", "flip", UnreadableFileError, "W"),
    ("no-metadata", lambda raw, path: pack(path, unpack(raw)[0], None), MissingFieldError, "__meta__"),
    (
        "metadata-not-json",
        lambda raw, path: pack(path, unpack(raw)[0], None, meta_bytes=b"{nope"),
        UnreadableFileError,
        "__meta__",
    ),
    (
        "metadata-not-utf8",
        lambda raw, path: pack(path, unpack(raw)[0], None, meta_bytes=b"\xff\xfe{}"),
        UnreadableFileError,
        "__meta__",
    ),
    (
        "metadata-nested-deeply",
        lambda raw, path: pack(path, unpack(raw)[0], None, meta_bytes=b"[" * 100_000 + b"]" * 100_000),
        UnreadableFileError,
        "__meta__",
    ),
    (
        "metadata-not-an-object",
        lambda raw, path: pack(path, unpack(raw)[0], None, meta_bytes=b"[1, 2]"),
        FieldTypeError,
        "__meta__",
    ),
    (
        "metadata-huge",
        lambda raw, path: pack(path, unpack(raw)[0], None, meta_bytes=b" " * (5 << 20)),
        FieldTypeError,
        "__meta__",
    ),
    (
        "metadata-float64",
        lambda raw, path: pack(path, dict(unpack(raw)[0], __meta__=np.zeros(3)), None),
        FieldTypeError,
        "__meta__",
    ),
    (
        "member-not-npy",
        lambda raw, path: pack(path, dict(unpack(raw)[0], **{"notes.txt": b"hi"}), unpack(raw)[1]),
        UnreadableFileError,
        "notes.txt",
    ),
    (
        "unknown-array",
        lambda raw, path: pack(path, dict(unpack(raw)[0], extra=np.zeros(2)), unpack(raw)[1]),
        UnreadableFileError,
        "extra",
    ),
    (
        "pickled-object-array",
        lambda raw, path: pack(path, dict(unpack(raw)[0], W=np.array([{"a": 1}], dtype=object)), unpack(raw)[1]),
        FieldTypeError,
        "W",
    ),
    (
        "header-claims-huge-shape",  # refused from the header, before any allocation
        lambda raw, path: _with_member(raw, path, "loss_history", npy_with_shape((2**40,))),
        FieldTypeError,
        "loss_history",
    ),
    (
        "header-not-numpys",
        lambda raw, path: _with_member(raw, path, "W", b"\x93NUMPY\x01\x00\x08\x00nonsense"),
        UnreadableFileError,
        "W",
    ),
]


def _with_member(raw, path, key, content: bytes):
    """The checkpoint ``raw`` with member ``key`` replaced by the bytes ``content``, written to ``path``."""
    arrays, meta = unpack(raw)
    del arrays[key]
    arrays[key + ".npy"] = content
    pack(path, arrays, meta)


def _check_refusal(info, cls, path, field):
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, ValueError) and isinstance(exc, UntrustedFileError)
    assert exc.path == str(path) and repr(str(path)) in str(exc)
    assert exc.field == field
    if field is not None:
        assert repr(field) in str(exc)


@contextlib.contextmanager
def global_generators_untouched():
    before_np, before_py = np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        after_np = np.random.get_state()
        assert random.getstate() == before_py
        assert all(np.array_equal(a, b) for a, b in zip(before_np, after_np))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_tampered_checkpoint_is_refused_naming_the_field(case, backend, base, tmp_path):
    _, mutate, cls, field, options = case
    options = dict(options)
    path = tmp_path / "tampered.ckpt"
    arrays, meta = unpack(base)
    if mutate is not None:
        mutate(arrays, meta)
    pack(path, arrays, meta)
    loss, X, y = problem(backend, **options.pop("problem", {}))
    folder = tmp_path / "new"
    with global_generators_untouched(), pytest.raises(cls) as info:
        minibatch(loss, X, y, resume=path, checkpoint=folder / "next.ckpt", **options)
    _check_refusal(info, cls, path, field)
    assert not folder.exists()  # refused before the checkpoint folder is made


@pytest.mark.parametrize("case", ARCHIVE_CASES, ids=[c[0] for c in ARCHIVE_CASES])
def test_a_damaged_checkpoint_archive_is_refused(case, backend, base, tmp_path):
    _, damage, cls, field = case
    path = tmp_path / "damaged.ckpt"
    if damage == "flip":
        at = base.find(unpack(base)[0]["W"].tobytes())
        path.write_bytes(base[:at] + bytes([base[at] ^ 0x40]) + base[at + 1 :])
    else:
        damage(base, path)
    loss, X, y = problem(backend)
    with pytest.raises(cls) as info:
        minibatch(loss, X, y, resume=path)
    _check_refusal(info, cls, path, field)


def test_a_missing_checkpoint_is_refused(backend, tmp_path):
    loss, X, y = problem(backend)
    path = tmp_path / "missing.ckpt"
    with pytest.raises(UnreadableFileError, match="does not exist") as info:
        minibatch(loss, X, y, resume=path)
    _check_refusal(info, UnreadableFileError, path, None)


def test_the_untampered_checkpoint_continues_exactly(backend, base, tmp_path):
    loss, X, y = problem(backend)
    straight = minibatch(loss, X, y, seed=0)
    path = tmp_path / "run.ckpt"
    path.write_bytes(base)
    resumed = minibatch(loss, X, y, resume=path, seed=123)
    assert resumed.details["start_step"] == SAVED_AT
    assert np.array_equal(resumed.W, straight.W) and np.array_equal(resumed.loss_history, straight.loss_history)
    assert np.array_equal(resumed.val_acc_history, straight.val_acc_history)
    # a W written in Fortran order by another writer is the same W
    arrays, meta = unpack(base)
    pack(path, dict(arrays, W=np.asfortranarray(arrays["W"])), meta)
    assert np.array_equal(minibatch(loss, X, y, resume=path).W, straight.W)


@pytest.mark.parametrize(
    "seed",
    [np.random.MT19937, np.random.Philox, np.random.SFC64, np.random.PCG64DXSM],
    ids=lambda g: g.__name__,
)
def test_every_bit_generator_state_round_trips(seed, backend, tmp_path):
    loss, X, y = problem(backend)
    options = dict(sampling="replacement", update="momentum", X_val=None, y_val=None)
    straight = minibatch(loss, X, y, seed=np.random.Generator(seed(5)), **options)
    path = tmp_path / "g.ckpt"
    minibatch(loss, X, y, seed=np.random.Generator(seed(5)), checkpoint=path, **dict(options, num_iters=SAVED_AT))
    resumed = minibatch(loss, X, y, resume=path, **options)
    assert np.array_equal(resumed.W, straight.W)


def test_checkpoints_of_earlier_versions_with_ndarray_generator_states_are_read(backend, tmp_path):
    loss, X, y = problem(backend)
    options = dict(sampling="replacement", update="sgd", X_val=None, y_val=None)
    straight = minibatch(loss, X, y, seed=np.random.Generator(np.random.MT19937(8)), **options)
    path = tmp_path / "old.ckpt"
    minibatch(loss, X, y, seed=np.random.Generator(np.random.MT19937(8)), checkpoint=path, **options, num_iters=5)
    arrays, meta = unpack(path.read_bytes())
    meta["rng"]["state"]["state"]["key"] = {"__ndarray__": meta["rng"]["state"]["state"]["key"], "dtype": "<u4"}
    pack(path, arrays, meta)
    assert np.array_equal(minibatch(loss, X, y, resume=path, **options).W, straight.W)
    meta["rng"]["state"]["state"]["key"]["dtype"] = "|O"
    pack(path, arrays, meta)
    with pytest.raises(FieldTypeError) as info:
        minibatch(loss, X, y, resume=path, **options)
    _check_refusal(info, FieldTypeError, path, "rng.state.state.key.dtype")


def test_a_float32_run_continues_in_float32_and_only_from_float32(backend, tmp_path):
    loss, X, y = problem(backend, dtype=np.float32)
    straight = minibatch(loss, X, y, seed=0)
    path = tmp_path / "f32.ckpt"
    minibatch(loss, X, y, seed=0, checkpoint=path, num_iters=SAVED_AT)
    resumed = minibatch(loss, X, y, resume=path)
    assert resumed.W.dtype == np.float32 and np.array_equal(resumed.W, straight.W)
    loss64, X64, y64 = problem(backend)
    with pytest.raises(ProblemMismatchError) as info:
        minibatch(loss64, X64, y64, resume=path)
    _check_refusal(info, ProblemMismatchError, path, "settings.dtype")


def test_gradient_descent_checkpoints_hold_no_epoch_order(backend, tmp_path):
    loss, X, y = problem(backend)
    path = tmp_path / "gd.ckpt"
    opt.gradient_descent(loss, None, 0.3, 4, seed=0, checkpoint=path)
    arrays, meta = unpack(path.read_bytes())
    assert "perm" not in arrays and meta["pos"] == N
    pack(path, dict(arrays, perm=np.arange(N)), meta)
    with pytest.raises(FieldRangeError) as info:
        opt.gradient_descent(loss, None, 0.3, 8, resume=path)
    _check_refusal(info, FieldRangeError, path, "perm")


# --- saved networks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def network_docs():
    """The JSON documents of a seeded steepest network and of a book-mode network2 file."""
    with global_generators_untouched():
        seeded = Network([5, 4, 3], cost="cross_entropy", seed=7, dtype=np.float32)._document("CrossEntropyCost", False)
        seeded["init"] = "standard"
        net = network2.Network([5, 4, 3], seed=8)
        net.rng = None  # the book's four keys only
        book = net._document("QuadraticCost", True)
    assert set(book) == {"sizes", "weights", "biases", "cost"}
    return {"seeded": seeded, "book": book}


def _net_set(path: str, value):
    """Set ``value`` at a path of keys and indices (``weights.0.1.2``)."""

    def mutate(doc):
        *parents, last = path.split(".")
        for key in parents:
            doc = doc[int(key)] if isinstance(doc, list) else doc[key]
        if isinstance(doc, list):
            doc[int(last)] = value
        else:
            doc[last] = value

    return mutate


def _net_drop(key: str):
    return lambda doc: doc.pop(key)


NETWORK_CASES = [
    # (id, which file, mutation of the document, expected class, field named)
    *[(f"{k}-missing", "book", _net_drop(k), MissingFieldError, k) for k in ("sizes", "weights", "biases", "cost")],
    ("sizes-retyped", "book", _net_set("sizes", "5,4,3"), FieldTypeError, "sizes"),
    ("sizes-float", "book", _net_set("sizes.1", 4.0), FieldTypeError, "sizes[1]"),
    ("sizes-bool", "book", _net_set("sizes.1", True), FieldTypeError, "sizes[1]"),
    ("sizes-zero", "book", _net_set("sizes.2", 0), FieldRangeError, "sizes[2]"),
    ("sizes-negative", "book", _net_set("sizes.0", -5), FieldRangeError, "sizes[0]"),
    ("sizes-one-layer", "book", _net_set("sizes", [5]), FieldRangeError, "sizes"),
    ("sizes-huge", "book", _net_set("sizes", [10**6, 10**6, 10**6]), FieldRangeError, "sizes"),
    ("sizes-astronomic", "book", _net_set("sizes", [10**300, 3]), FieldRangeError, "sizes"),
    ("sizes-inconsistent", "book", _net_set("sizes", [5, 3]), FieldTypeError, "weights"),
    ("weights-retyped", "book", _net_set("weights", {"0": []}), FieldTypeError, "weights"),
    ("weights-layer-retyped", "book", _net_set("weights.0", "w"), FieldTypeError, "weights[0]"),
    ("weights-rows", "book", lambda d: d["weights"][0].pop(), FieldTypeError, "weights[0]"),
    ("weights-columns", "book", lambda d: d["weights"][1][2].pop(), FieldTypeError, "weights[1]"),
    (
        "weights-transposed",
        "book",
        lambda d: d["weights"].__setitem__(0, np.array(d["weights"][0]).T.tolist()),
        FieldTypeError,
        "weights[0]",
    ),
    ("weights-str", "book", _net_set("weights.0.1.2", "0.5"), FieldTypeError, "weights[0][1][2]"),
    ("weights-bool", "book", _net_set("weights.0.1.2", False), FieldTypeError, "weights[0][1][2]"),
    ("weights-null", "book", _net_set("weights.0.1.2", None), FieldTypeError, "weights[0][1][2]"),
    ("weights-nan", "book", _net_set("weights.0.1.2", float("nan")), FieldRangeError, "weights[0][1][2]"),
    ("weights-inf", "book", _net_set("weights.1.0.0", float("-inf")), FieldRangeError, "weights[1][0][0]"),
    ("weights-huge-int", "book", _net_set("weights.0.0.0", 10**400), FieldRangeError, "weights[0][0][0]"),
    ("weights-float32-overflow", "seeded", _net_set("weights.0.0.1", 1e300), FieldRangeError, "weights[0][0][1]"),
    ("biases-flat", "book", lambda d: d["biases"].__setitem__(1, [0.0, 0.0, 0.0]), FieldTypeError, "biases[1]"),
    ("biases-count", "book", lambda d: d["biases"].pop(), FieldTypeError, "biases"),
    ("biases-nan", "book", _net_set("biases.0.3.0", float("nan")), FieldRangeError, "biases[0][3][0]"),
    ("cost-retyped", "book", _net_set("cost", 3), FieldTypeError, "cost"),
    ("cost-unknown", "book", _net_set("cost", "os"), FieldRangeError, "cost"),
    ("cost-module-attribute", "book", _net_set("cost", "Network"), FieldRangeError, "cost"),
    ("dtype-retyped", "seeded", _net_set("dtype", 32), FieldTypeError, "dtype"),
    ("dtype-unknown", "seeded", _net_set("dtype", "float16"), FieldRangeError, "dtype"),
    ("init-unknown", "seeded", _net_set("init", "xavier"), FieldRangeError, "init"),
    ("format-retyped", "seeded", _net_set("format", 2), FieldTypeError, "format"),
    ("format-unknown", "seeded", _net_set("format", "steepest.network/9"), FieldRangeError, "format"),
    ("rng-retyped", "seeded", _net_set("rng", [1, 2]), FieldTypeError, "rng"),
    ("rng-global-seed", "seeded", _net_set("rng.bit_generator", "seed"), FieldRangeError, "rng.bit_generator"),
    ("rng-legacy", "seeded", _net_set("rng.bit_generator", "RandomState"), FieldRangeError, "rng.bit_generator"),
    ("rng-missing-state", "seeded", lambda d: d["rng"].pop("state"), MissingFieldError, "rng.state"),
    ("rng-state-retyped", "seeded", _net_set("rng.state.state", 1.5), FieldTypeError, "rng.state.state"),
    ("rng-state-huge", "seeded", _net_set("rng.state.state", 2**128), FieldRangeError, "rng.state.state"),
    ("rng-mt19937-pos", "seeded", _net_set("rng", MT19937_BAD_POS), FieldRangeError, "rng.state.pos"),
    (
        "rng-mt19937-key",
        "seeded",
        _net_set("rng", dict(MT19937_BAD_POS, state={"key": [1] * 623, "pos": 0})),
        FieldTypeError,
        "rng.state.key",
    ),
    ("rng-philox-buffer_pos", "seeded", _net_set("rng", PHILOX_BAD_BUFFER), FieldRangeError, "rng.buffer_pos"),
]
NETWORK_FILE_CASES = [
    ("not-json", b"{not json", UnreadableFileError),
    ("not-utf8", b'{"sizes": "\xff"}', UnreadableFileError),
    ("not-an-object", b"[1, 2]", UnreadableFileError),
    ("nested-deeply", b"[" * 100_000 + b"]" * 100_000, UnreadableFileError),
    ("truncated", None, UnreadableFileError),
    ("empty", b"", UnreadableFileError),
]
LOADERS = {"Network.load": Network.load, "network2.load": network2.load}


@pytest.mark.parametrize("loader", LOADERS, ids=list(LOADERS))
@pytest.mark.parametrize("case", NETWORK_CASES, ids=[c[0] for c in NETWORK_CASES])
def test_a_tampered_network_file_is_refused_naming_the_field(case, loader, network_docs, tmp_path):
    _, which, mutate, cls, field = case
    doc = json.loads(json.dumps(network_docs[which]))
    mutate(doc)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    with global_generators_untouched(), pytest.raises(cls) as info:
        LOADERS[loader](path)
    _check_refusal(info, cls, path, field)


@pytest.mark.parametrize("loader", LOADERS, ids=list(LOADERS))
@pytest.mark.parametrize("case", NETWORK_FILE_CASES, ids=[c[0] for c in NETWORK_FILE_CASES])
def test_a_network_file_that_is_not_json_is_refused(case, loader, network_docs, tmp_path):
    _, content, cls = case
    path = tmp_path / "net.json"
    path.write_bytes(content if content is not None else json.dumps(network_docs["book"]).encode()[:-40])
    with global_generators_untouched(), pytest.raises(cls) as info:
        LOADERS[loader](path)
    _check_refusal(info, cls, path, None)


def test_huge_sizes_are_refused_before_any_allocation(tmp_path, monkeypatch):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"sizes": [10**9, 10**9], "weights": [], "biases": [], "cost": "QuadraticCost"}))

    def no_allocation(*args, **kwargs):  # pragma: no cover - reached only when the check comes too late
        raise AssertionError("a network was built before its sizes were checked")

    monkeypatch.setattr(Network, "__init__", no_allocation)
    monkeypatch.setattr(network2.Network, "__init__", no_allocation)
    for load in (Network.load, network2.load):
        with pytest.raises(FieldRangeError, match="cannot hold them") as info:
            load(path)
        _check_refusal(info, FieldRangeError, path, "sizes")


@pytest.mark.parametrize("network_backend", ["numpy", "numba"])
def test_valid_network_files_load_without_touching_the_global_generators(network_docs, network_backend, tmp_path):
    if network_backend not in steepest.backends():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((5, 40)).astype(np.float32), rng.integers(0, 3, 40)
    for which, doc in network_docs.items():
        path = tmp_path / f"{which}.json"
        path.write_text(json.dumps(doc))
        with global_generators_untouched():
            first, second = Network.load(path), network2.load(path)
        assert (first.rng is None) == (second.rng is None) == (which == "book")
        for net in (first, second):
            assert [w.shape for w in net.weights] == [(4, 5), (3, 4)] and net.weights[0].flags.c_contiguous
            if net.rng is not None:  # a seeded network trains the same way after a load, on either backend
                net.SGD((X, y), 1, 10, 0.5, verbose=False, backend=network_backend)
    # a seeded network whose generator is not NumPy's default saves and loads too
    net = Network([5, 4, 3], seed=np.random.Generator(np.random.MT19937(4)))
    net.save(tmp_path / "mt.json")
    with global_generators_untouched():
        back = Network.load(tmp_path / "mt.json")
    assert type(back.rng.bit_generator) is np.random.MT19937
    assert back.rng.integers(2**62) == net.rng.integers(2**62)
