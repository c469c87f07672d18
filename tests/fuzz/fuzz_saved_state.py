"""Fuzz: tampered checkpoints and network files are resumed / loaded cleanly, or refused with a ValueError.

Real files are made by short runs (``checkpoint=``, ``Network.save``, ``network2.Network.save``), then
Hypothesis flips their bytes, truncates them, and drops, retypes, resizes or rewrites their fields. Every
tampered checkpoint is resumed on every backend, every tampered network file loaded by both loaders (and a
loaded network trained one epoch on each network backend): each either works or raises ``ValueError`` /
``TypeError``, never another exception, never a crash, and never changes NumPy's or Python's global
generators. Tampered array entries stay below 1e6 in size (or are NaN or infinite): a valid checkpoint whose
W is huge makes the resumed run overflow, which is the overflow checks' business, not the file's. A network
from a file may overflow in training: that ``FloatingPointError`` is allowed.
Run by ``tests/test_fuzz.py`` in a subprocess (a segmentation fault fails that test instead of killing the
run); about 30 s on 2 cores.
"""

from __future__ import annotations

import io
import json
import random
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import steepest
from steepest import network2
from steepest import optimize as opt
from steepest.network import Network

from naive import make_problem

BACKENDS = steepest.backends()
NETWORK_BACKENDS = [b for b in ("numpy", "numba") if b in BACKENDS]
FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz(examples: int) -> settings:
    """The fuzz settings with a number of examples: the counts below keep the file near 30 s on 2 cores."""
    return settings(FUZZ, max_examples=examples)


REFUSED = (ValueError, TypeError)

# --- checkpoints ---------------------------------------------------------------------------------

N = 60
RUNS = {  # every field a checkpoint can have (epoch order, Adam's moments, validation), and none of them
    "minibatch": dict(batch_size=16, sampling="epoch", update="adam", eval_every=3, validate=True),
    "gradient": dict(batch_size=None, update="momentum", validate=False),
}


def _problem(backend: str):
    _, X, y = make_problem(C=4, D=6, N=N, seed=1)
    return steepest.SVMLoss(X, y, 1e-3, backend=backend), X, y


def _descend(kind: str, loss, X, y, num_iters: int, **options):
    run = dict(RUNS[kind])
    if run.pop("validate"):
        run.update(X_val=X[:, :30], y_val=y[:30])
    return opt.minibatch_gd(loss, None, step_size=0.1, num_iters=num_iters, **run, **options)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def checkpoints(folder):
    """kind -> the bytes of a real checkpoint saved at step 7 (on numpy: a checkpoint resumes on any backend)."""
    made = {}
    for kind in RUNS:
        loss, X, y = _problem("numpy")
        path = folder / f"{kind}.ckpt"
        _descend(kind, loss, X, y, 7, seed=0, checkpoint=path)
        made[kind] = path.read_bytes()
    return made


class _GlobalGenerators:
    """Asserts that NumPy's and Python's global generators are where they were."""

    def __enter__(self):
        self.np, self.py = np.random.get_state(), random.getstate()

    def __exit__(self, *exc):
        assert random.getstate() == self.py
        assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), self.np))


def _resume_everywhere(kind: str, path) -> None:
    for backend in BACKENDS:
        loss, X, y = _problem(backend)
        with _GlobalGenerators():
            try:
                _descend(kind, loss, X, y, 12, resume=path)
                event("resumed")
            except REFUSED as exc:
                event(f"refused: {type(exc).__name__}")


def _unpack(raw: bytes) -> tuple[dict, dict]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(arrays.pop("__meta__").tobytes())


def _flipped(raw: bytes, flips: list[tuple[int, int]]) -> bytes:
    data = bytearray(raw)
    for at, mask in flips:
        data[at % len(data)] ^= mask
    return bytes(data)


FLIPS = st.lists(st.tuples(st.integers(0, 2**20), st.integers(1, 255)), min_size=1, max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-3, 80) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
ENTRIES = st.floats(-1e6, 1e6) | st.sampled_from([np.nan, np.inf, -np.inf])
DTYPES = ["<f8", "<f4", "<f2", "<i8", "<i4", "|u1", "|b1", "<c16", ">f8", ">i8", "<U3"]
SHAPES = st.lists(st.integers(0, 70), max_size=3).map(tuple)


def _paths(doc, prefix=()) -> list[tuple]:
    """Every path of keys and indices into a JSON document (the document's own path first)."""
    found = [prefix]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        if isinstance(doc, list) and key > 3:  # long lists (weights, generator keys): their first items will do
            break
        found += _paths(value, (*prefix, key))
    return found


def _tamper_json(doc, draw, path: tuple) -> object:
    """``doc`` with the value at ``path`` dropped, replaced, or (a list) cut or lengthened; returns the new doc."""
    if not path:
        return draw(JSON_VALUES)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key, value = path[-1], parent[path[-1]]
    how = draw(st.sampled_from(["drop", "replace", "resize"] if isinstance(value, list) else ["drop", "replace"]))
    if how == "drop":
        del parent[key]
    elif how == "replace":
        parent[key] = draw(JSON_VALUES | st.integers(-2, 2 * N) if isinstance(value, int) else JSON_VALUES)
    else:
        size = draw(st.integers(0, len(value) + 3))
        parent[key] = (value * (size // max(len(value), 1) + 1))[:size] if value else [0] * size
    return doc


def _tamper_array(a: np.ndarray, draw) -> np.ndarray:
    how = draw(st.sampled_from(["retype", "resize", "entry"]))
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # casts of NaN to int warn; the point is the result
        warnings.simplefilter("ignore")
        if how == "retype":
            return a.astype(draw(st.sampled_from(DTYPES)))
        if how == "resize":
            return np.resize(a, draw(SHAPES))
        if a.size == 0:
            return a
        a = a.copy()
        value = draw(st.integers(-2 * N, 2 * N) | ENTRIES if a.dtype.kind == "f" else st.integers(-2 * N, 2 * N))
        a.flat[draw(st.integers(0, a.size - 1))] = value
        return a


@fuzz(300)
@given(kind=st.sampled_from(sorted(RUNS)), flips=FLIPS)
def test_checkpoint_with_flipped_bytes(checkpoints, folder, kind, flips):
    path = folder / "flipped.ckpt"
    path.write_bytes(_flipped(checkpoints[kind], flips))
    _resume_everywhere(kind, path)


@fuzz(60)
@given(kind=st.sampled_from(sorted(RUNS)), keep=st.floats(0, 1, exclude_max=True))
def test_checkpoint_truncated(checkpoints, folder, kind, keep):
    path = folder / "truncated.ckpt"
    raw = checkpoints[kind]
    path.write_bytes(raw[: int(keep * len(raw))])
    _resume_everywhere(kind, path)


@fuzz(700)
@given(kind=st.sampled_from(sorted(RUNS)), data=st.data())
def test_checkpoint_with_tampered_fields(checkpoints, folder, kind, data):
    arrays, meta = _unpack(checkpoints[kind])
    if data.draw(st.booleans()):  # an array (as likely as a metadata field, though there are fewer)
        target = data.draw(st.sampled_from(sorted(arrays)))
        if data.draw(st.booleans()):
            del arrays[target]
        else:
            arrays[target] = _tamper_array(arrays[target], data.draw)
    else:
        meta = _tamper_json(meta, data.draw, data.draw(st.sampled_from(_paths(meta))))
    _resume_everywhere(kind, _write_checkpoint(folder / "tampered.ckpt", arrays, meta))


@fuzz(150)
@given(
    key=st.sampled_from(["perm", "val_steps"]),
    span=st.tuples(st.integers(0, N - 1), st.integers(1, N)),
    value=st.integers(-2, N + 2) | st.integers(-(2**63), 2**63 - 1),
)
def test_checkpoint_with_tampered_indices(checkpoints, folder, key, span, value):
    """The index arrays, where a kernel would read out of bounds: entries (a slice, as the loop reads
    consecutive batches of the epoch order) set to any int64."""
    arrays, meta = _unpack(checkpoints["minibatch"])
    start = span[0]
    arrays[key][start : start + span[1]] = value
    _resume_everywhere("minibatch", _write_checkpoint(folder / "indices.ckpt", arrays, meta))


def _write_checkpoint(path, arrays: dict, meta) -> object:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    return path


# --- saved networks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def networks(folder):
    """name -> the JSON text of a real network file: steepest's (seeded, float32; an MT19937 generator) and
    the book's (network2.py's four keys: a network in book mode)."""
    book = network2.Network([5, 4, 3], seed=8)
    book.rng = None
    nets = {
        "seeded": Network([5, 4, 3], cost="cross_entropy", seed=7, dtype=np.float32, init="scaled"),
        "mt19937": Network([5, 4, 3], seed=np.random.Generator(np.random.MT19937(2))),
        "book": book,
    }
    files = {}
    for name, net in nets.items():
        net.save(folder / f"{name}.json")
        files[name] = (folder / f"{name}.json").read_text()
    assert set(json.loads(files["book"])) == {"sizes", "weights", "biases", "cost"}
    return files


def _load_everywhere(path) -> None:
    for load in (Network.load, network2.load):
        with _GlobalGenerators():
            try:
                net = load(path)
                event("loaded")
            except REFUSED as exc:
                event(f"refused: {type(exc).__name__}")
                continue
        sizes = net.sizes
        rng = np.random.default_rng(0)
        X = rng.standard_normal((sizes[0], 12)).astype(net.dtype)
        y = rng.integers(0, sizes[-1], 12)
        for backend in NETWORK_BACKENDS:  # a loaded network is one every kernel can train
            try:
                net.SGD((X, y), 1, 4, 0.5, verbose=False, backend=backend)
            except FloatingPointError:  # extreme (finite) weights from the file overflow: detected, as it should
                pass


@fuzz(300)
@given(name=st.sampled_from(["seeded", "mt19937", "book"]), flips=FLIPS)
def test_network_with_flipped_bytes(networks, folder, name, flips):
    path = folder / "flipped.json"
    path.write_bytes(_flipped(networks[name].encode(), flips))
    _load_everywhere(path)


@fuzz(60)
@given(name=st.sampled_from(["seeded", "mt19937", "book"]), keep=st.floats(0, 1, exclude_max=True))
def test_network_truncated(networks, folder, name, keep):
    path = folder / "truncated.json"
    text = networks[name].encode()
    path.write_bytes(text[: int(keep * len(text))])
    _load_everywhere(path)


@fuzz(700)
@given(name=st.sampled_from(["seeded", "mt19937", "book"]), data=st.data())
def test_network_with_tampered_fields(networks, folder, name, data):
    doc = json.loads(networks[name])
    doc = _tamper_json(doc, data.draw, data.draw(st.sampled_from(_paths(doc))))
    path = folder / "tampered.json"
    path.write_text(json.dumps(doc))
    _load_everywhere(path)
