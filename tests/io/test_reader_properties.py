"""Property-based tests of the readers of untrusted files: whatever the bytes (arbitrary, or a
valid file with flipped bytes, cut short, or with values of its JSON header replaced), the
safetensors reader, ``neuralab.load`` and the checkpoint reader either return or raise their one
documented error naming the file, quickly and without allocating much more than the file's size.
``load_checkpoint`` either restores a trainer whole or leaves it as it was."""

from __future__ import annotations

import copy
import json
import struct
import tracemalloc
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuralab as nl
from neuralab import nn, optim
from neuralab.io import SafetensorsError, read_safetensors
from neuralab.train import (
    CheckpointError,
    Trainer,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)

# ~300 small files per property: a few seconds each; the deadline is generous for a loaded CI
# machine, the examples take milliseconds
PROPERTY = settings(max_examples=300, deadline=timedelta(seconds=2),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MEMORY_LIMIT = 8_000_000  # bytes; the valid files are 1 to 10 KB, a crafted size would be GBs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("readers")
    model = nn.Sequential([nn.Dense(3, input_dim=2, activation="relu"), nn.BatchNorm(),
                           nn.LayerNorm(), nn.Dense(2, activation=nn.LeakyReLU(0.1))])
    model_path = nl.save(model, directory / "model.safetensors")

    nl.seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 2)).astype(np.float32), rng.integers(0, 2, 16)
    net = nn.Sequential([nn.Dense(4, input_dim=2, activation="relu"), nn.Dropout(0.2),
                         nn.Dense(2)])
    opt = optim.Adam(net.parameters(), lr=0.01)
    trainer = Trainer(net, "cross_entropy", opt, scheduler=optim.StepLR(opt, step_size=1))
    trainer.fit(x, y, epochs=2, batch_size=8, verbose=0)
    checkpoint_path = save_checkpoint(directory / "ck.safetensors", trainer, 1)
    return {"dir": directory, "model": model_path.read_bytes(),
            "checkpoint": checkpoint_path.read_bytes()}


# ---------------------------------------------------------------------- strategies
_INTERESTING = st.sampled_from([
    0, 1, -1, 3, 20000, 10**9, 2**62, 2**64, 10**30, 1.5, float("inf"), float("nan"), True, None,
    "", "F32", "BOOL", "V", "<i8", "Dense", "Sequential", "PCG64", {}, [], [1] * 65, [0, 2**62],
    {"__ndarray__": "nope"}, {"__scalar__": "V", "value": 10**12}, {"class": "Dense"},
])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8)
    | _INTERESTING.map(copy.deepcopy),  # a fresh copy: the edits change values in place
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=12,
)


def _split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def _places(node, path=()):
    """Every place in a JSON value (the paths to its members, containers included)."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, path + (i,))


def _replace(node, path, value):
    if not path:
        return value
    node[path[0]] = _replace(node[path[0]], path[1:], value)
    return node


@st.composite
def header_edits(draw, data: bytes, json_metadata_key: str) -> bytes:
    """``data`` with one to three values of its header replaced; values inside the JSON kept in
    the metadata string ``json_metadata_key`` (architecture or checkpoint state) count too."""
    header, body = _split(data)
    inner = json.loads(header["__metadata__"][json_metadata_key])
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            places = list(_places(inner))
            inner = _replace(inner, draw(st.sampled_from(places)), draw(_JSON))
        else:
            places = [p for p in _places(header) if p[:2] != ("__metadata__", json_metadata_key)]
            header = _replace(header, draw(st.sampled_from(places)), draw(_JSON))
    if isinstance(header, dict) and isinstance(header.get("__metadata__"), dict):
        header["__metadata__"][json_metadata_key] = json.dumps(inner)
    if isinstance(header, dict) and draw(st.booleans()):
        # without the checksum, changed tensor bytes reach the deeper checks
        meta = header.get("__metadata__")
        if isinstance(meta, dict):
            meta.pop("neuralab.sha256", None)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@st.composite
def byte_damage(draw, data: bytes) -> bytes:
    """``data`` cut short, or with some bytes flipped or overwritten."""
    out = bytearray(data)
    if draw(st.booleans()):
        return bytes(out[:draw(st.integers(0, len(out) - 1))])
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(out) - 1))
        out[i] = draw(st.integers(0, 255)) if draw(st.booleans()) else out[i] ^ 0xFF
    return bytes(out)


def _arbitrary() -> st.SearchStrategy[bytes]:
    with_length = st.builds(lambda n, rest: struct.pack("<Q", n) + rest,
                            st.integers(0, 4000), st.binary(max_size=400))
    return st.binary(max_size=600) | with_length | st.builds(
        lambda rest: struct.pack("<Q", len(rest)) + rest,
        st.text(max_size=200).map(lambda t: ("{" + t).encode()))


def _check(path, fn, errors):
    """``fn(path)`` returns or raises one of ``errors`` naming ``path``, within the memory
    limit; returns what it returned (None after an error)."""
    tracemalloc.start()
    try:
        result = fn(path)
    except errors as err:
        assert str(path) in str(err), err
        result = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, peak
    return result


def _write(files, name, data):
    path = files["dir"] / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------- safetensors reader
@PROPERTY
@given(data=st.data())
def test_read_safetensors_on_any_bytes(files, data):
    raw = data.draw(_arbitrary() | byte_damage(files["model"])
                    | header_edits(files["model"], "neuralab.architecture"))
    path = _write(files, "any.safetensors", raw)
    _check(path, read_safetensors, SafetensorsError)


# ---------------------------------------------------------------------- model loader
@PROPERTY
@given(data=st.data())
def test_load_on_damaged_model_files(files, data):
    raw = data.draw(byte_damage(files["model"])
                    | header_edits(files["model"], "neuralab.architecture"))
    path = _write(files, "model-damaged.safetensors", raw)
    model = _check(path, nl.load, SafetensorsError)
    if model is not None:  # what loads is a working model
        assert isinstance(model, nn.Module)


# ---------------------------------------------------------------------- checkpoint reader
@PROPERTY
@given(data=st.data())
def test_read_checkpoint_on_damaged_checkpoints(files, data):
    raw = data.draw(_arbitrary() | byte_damage(files["checkpoint"])
                    | header_edits(files["checkpoint"], "neuralab.checkpoint"))
    path = _write(files, "ck-damaged.safetensors", raw)
    _check(path, read_checkpoint, CheckpointError)


def _fresh_trainer():
    nl.seed(3)
    net = nn.Sequential([nn.Dense(4, input_dim=2, activation="relu"), nn.Dropout(0.2),
                         nn.Dense(2)])
    opt = optim.Adam(net.parameters(), lr=0.01)
    return Trainer(net, "cross_entropy", opt, scheduler=optim.StepLR(opt, step_size=1))


def _state(trainer):
    return (
        {k: v.tobytes() for k, v in trainer.model.state_dict().items()},
        repr(trainer.optimizer.state_dict()), repr(trainer.scheduler.state_dict()),
        repr(nl.get_rng().bit_generator.state), trainer.history, trainer._resume_state,
    )


# a checkpoint whose scheduler state was replaced by null warns that the run will differ
@pytest.mark.filterwarnings("ignore:the checkpoint was saved:RuntimeWarning")
@PROPERTY
@given(data=st.data())
def test_load_checkpoint_is_all_or_nothing_on_damaged_checkpoints(files, data):
    raw = data.draw(byte_damage(files["checkpoint"])
                    | header_edits(files["checkpoint"], "neuralab.checkpoint"))
    path = _write(files, "ck-load.safetensors", raw)
    trainer = _fresh_trainer()
    before = _state(trainer)
    epoch = _check(path, lambda p: load_checkpoint(p, trainer), CheckpointError)
    if epoch is None:
        assert _state(trainer) == before
    else:
        assert isinstance(epoch, int) and 0 <= epoch
