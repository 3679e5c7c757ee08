"""Checkpoints: a resumed run ends bit for bit where an uninterrupted one does; the file is plain
safetensors + JSON (no pickle)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import neuralab as nl
from neuralab import nn, optim
from neuralab.data import DataLoader
from neuralab.train import (
    BackupAndRestore,
    Callback,
    EarlyStopping,
    GradientStats,
    Trainer,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from neuralab.io.checkpoint import CheckpointError, _decode, _encode


def _data(n=48, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _setup(seed):
    """Model with dropout (draws from the library generator), Adam, a schedule."""
    nl.seed(seed)
    model = nn.Sequential([nn.Dense(16, activation="relu", input_dim=4), nn.Dropout(0.3),
                           nn.Dense(16, activation="relu"), nn.Dense(3)])
    model(np.zeros((1, 4), np.float32))
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _callbacks(extra=()):
    return [EarlyStopping(monitor="val_loss", patience=100), GradientStats(), *extra]


class Crash(Callback):
    """Simulates a crash: raises when epoch ``at`` begins (after the previous epoch was saved)."""

    def __init__(self, at):
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


def _uninterrupted(x, y, epochs):
    model, opt, sched = _setup(0)
    cbs = _callbacks()
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    history = trainer.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=8, callbacks=cbs,
                          verbose=0)
    return model, opt, history, cbs


def _assert_same_run(a, b):
    (model_a, opt_a, hist_a, cbs_a), (model_b, opt_b, hist_b, cbs_b) = a, b
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    for name in state_a:
        np.testing.assert_array_equal(state_a[name], state_b[name], err_msg=name)  # bit-exact
    sa, sb = opt_a.state_dict(), opt_b.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for key in sa["state"]:
        for field, value in sa["state"][key].items():
            np.testing.assert_array_equal(value, sb["state"][key][field])
    assert hist_a.history == hist_b.history and hist_a.epoch == hist_b.epoch
    assert cbs_a[0].state_dict()["best_epoch"] == cbs_b[0].state_dict()["best_epoch"]
    assert cbs_a[0].wait == cbs_b[0].wait
    assert cbs_a[1].norms == cbs_b[1].norms


def test_backup_and_restore_resumes_an_interrupted_run_bit_exactly(tmp_path):
    x, y = _data()
    reference = _uninterrupted(x, y, epochs=6)
    path = tmp_path / "backup.safetensors"

    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(x, y, validation_split=0.25, epochs=6, batch_size=8,
                    callbacks=_callbacks([BackupAndRestore(path), Crash(at=3)]), verbose=0)
    assert path.exists() and read_checkpoint(path)["epoch"] == 2

    # a new process: other seed, other initial weights, fresh optimizer and schedule
    model, opt, sched = _setup(123)
    cbs = _callbacks([BackupAndRestore(path)])
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    history = trainer.fit(x, y, validation_split=0.25, epochs=6, batch_size=8, callbacks=cbs,
                          verbose=0)
    assert cbs[2].restored_epoch == 2
    assert not path.exists()          # deleted once training completed
    _assert_same_run(reference, (model, opt, history, cbs))


def test_resume_from_a_saved_checkpoint_with_a_dataloader_generator(tmp_path):
    x, y = _data()

    def loader():
        return DataLoader((x[:36], y[:36]), batch_size=8, shuffle=True, rng=5)

    def run(epochs, resume_from=None, seed=0, save_at=None):
        model, opt, sched = _setup(seed)
        cbs = _callbacks()
        if save_at is not None:
            cbs.append(type("Save", (Callback,), {"on_epoch_end": lambda self, e, logs=None: (
                save_checkpoint(tmp_path / "ck.safetensors", self.trainer, e) if e == save_at
                else None)})())
        trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
        h = trainer.fit(loader(), validation_data=(x[36:], y[36:]), epochs=epochs, callbacks=cbs,
                        verbose=0, resume_from=resume_from)
        return model, opt, h, cbs

    reference = run(5)
    run(3, save_at=1)                           # saves after epoch 1, runs on to epoch 2
    resumed = run(5, resume_from=tmp_path / "ck.safetensors", seed=99)
    assert resumed[2].epoch == [0, 1, 2, 3, 4]
    _assert_same_run(reference, resumed)


def test_load_checkpoint_then_fit_continues_after_the_saved_epoch(tmp_path):
    x, y = _data()
    reference = _uninterrupted(x, y, epochs=4)
    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    saver = type("Save", (Callback,), {"on_epoch_end": lambda self, e, logs=None: save_checkpoint(
        tmp_path / f"e{e}.safetensors", self.trainer, e)})()
    trainer.fit(x, y, validation_split=0.25, epochs=2, batch_size=8,
                callbacks=_callbacks([saver]), verbose=0)

    model, opt, sched = _setup(7)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    assert load_checkpoint(tmp_path / "e1.safetensors", trainer) == 1
    cbs = _callbacks()
    history = trainer.fit(x, y, validation_split=0.25, epochs=4, batch_size=8, callbacks=cbs,
                          verbose=0)
    _assert_same_run(reference, (model, opt, history, cbs))


def test_state_dict_in_memory_continues_the_run_bit_exactly():
    """Trainer.state_dict()/load_state_dict() without a file: the same resume as a checkpoint."""
    x, y = _data()
    reference = _uninterrupted(x, y, epochs=4)
    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    saved = {}
    keep = type("Keep", (Callback,), {"on_epoch_end": lambda self, e, logs=None: saved.setdefault(
        e, copy.deepcopy(self.trainer.state_dict()))})()
    trainer.fit(x, y, validation_split=0.25, epochs=2, batch_size=8,
                callbacks=_callbacks([keep]), verbose=0)
    assert saved[1]["epoch"] == 1 and saved[1]["history"]["epoch"] == [0, 1]
    assert set(saved[1]["callbacks"]) == {"EarlyStopping#0", "GradientStats#0", "Keep#0"}

    model, opt, sched = _setup(7)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    assert trainer.load_state_dict(saved[1]) == 1
    cbs = _callbacks()
    history = trainer.fit(x, y, validation_split=0.25, epochs=4, batch_size=8, callbacks=cbs,
                          verbose=0)
    _assert_same_run(reference, (model, opt, history, cbs))


def test_load_state_dict_refuses_another_optimizer_and_changes_nothing():
    x, y = _data(n=16)
    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    trainer.fit(x, y, epochs=1, batch_size=8, verbose=0)
    state = trainer.state_dict()
    other_model, _, _ = _setup(1)
    before = {k: v.copy() for k, v in other_model.state_dict().items()}
    other = Trainer(other_model, "cross_entropy", optim.SGD(other_model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="^from memory: .*Adam optimizer.*SGD"):
        other.load_state_dict(state, source="from memory")
    for name, value in other_model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_write_checkpoint_wants_a_whole_trainer_state(tmp_path):
    with pytest.raises(ValueError, match="lacks .*rng.*Trainer.state_dict"):
        nl.io.write_checkpoint(tmp_path / "ck.safetensors", {"epoch": 0, "model": {}})
    assert not (tmp_path / "ck.safetensors").exists()


def test_checkpoint_is_plain_safetensors_with_json_metadata(tmp_path):
    x, y = _data(n=16)
    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    trainer.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = save_checkpoint(tmp_path / "ck.safetensors", trainer, 1)

    tensors = load_file(str(path))           # the reference implementation reads it
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(tensors[f"model/{name}"], value)
    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads(f.metadata()["neuralab.checkpoint"])
    assert meta["epoch"] == 1 and meta["format"] == "neuralab-checkpoint"
    assert meta["rng"]["library"]["bit_generator"] == "PCG64"
    assert meta["rng"]["library"] == nl.get_rng().bit_generator.state
    assert meta["scheduler"]["last_epoch"] == 2
    assert meta["history"]["history"]["loss"] == trainer.history.history["loss"]
    adam = opt.state_dict()["state"]["0"]
    ref = meta["optimizer"]["state"]["0"]
    assert ref["step"] == adam["step"] == 4
    np.testing.assert_array_equal(tensors[ref["exp_avg"]["__ndarray__"]], adam["exp_avg"])


def test_state_encoding_round_trips_exactly():
    arrays = {}
    state = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3), "t": (1, 2.5, "x"), 3: [np.int64(7)],
        "f": np.float32(0.1), "inf": float("inf"), "nan": float("nan"), "none": None,
        "nested": {"__odd": {(1, 2): np.zeros(2, np.float64)}}, "big": 2 ** 70,
    }
    text = json.dumps(_encode(state, "s", arrays))
    back = _decode(json.loads(text), arrays)
    np.testing.assert_array_equal(back["a"], state["a"])
    assert back["a"].dtype == np.float32
    assert back["t"] == (1, 2.5, "x") and back[3] == [7] and type(back[3][0]) is np.int64
    assert type(back["f"]) is np.float32 and back["f"] == state["f"]
    assert back["inf"] == float("inf") and np.isnan(back["nan"]) and back["none"] is None
    np.testing.assert_array_equal(back["nested"]["__odd"][(1, 2)], np.zeros(2))
    assert back["big"] == 2 ** 70
    with pytest.raises(TypeError, match="cannot store a object"):
        _encode({"x": object()}, "s", {})


def test_checkpoint_errors(tmp_path):
    x, y = _data(n=16)
    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    trainer.fit(x, y, epochs=1, verbose=0)
    nl.save(model, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="not a neuralab training checkpoint"):
        read_checkpoint(tmp_path / "model.safetensors")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        read_checkpoint(tmp_path / "missing.safetensors")
    save_checkpoint(tmp_path / "ck.safetensors", trainer, 0)
    other, _, _ = _setup(0)
    sgd_trainer = Trainer(other, "cross_entropy", optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="saved with a Adam optimizer"):
        load_checkpoint(tmp_path / "ck.safetensors", sgd_trainer)


# ------------------------------------------------------------------ damaged checkpoints (issue 9)
def _trained(tmp_path, epochs=2):
    x, y = _data(n=16)
    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    trainer.fit(x, y, epochs=epochs, batch_size=8, verbose=0)
    path = save_checkpoint(tmp_path / "ck.safetensors", trainer, epochs - 1)
    return trainer, path


def _edit_metadata(path, edit):
    """Rewrite the checkpoint's JSON metadata with ``edit(meta) -> meta or text``."""
    arrays, metadata = nl.io.read_safetensors(path)
    meta = json.loads(metadata["neuralab.checkpoint"])
    out = edit(meta)
    out = meta if out is None else out
    text = out if isinstance(out, str) else json.dumps(out)
    nl.io.write_safetensors(path, arrays, {"neuralab.checkpoint": text})
    return path


def _set(path_keys, value):
    def edit(meta):
        node = meta
        for key in path_keys[:-1]:
            node = node[key]
        node[path_keys[-1]] = value
    return edit


@pytest.mark.parametrize("edit", [
    lambda meta: "{not json",
    lambda meta: "[" * 1000 + "]" * 1000,                 # RecursionError in json
    lambda meta: [1, 2, 3],                               # AttributeError on .get
    lambda meta: {k: v for k, v in meta.items() if k != "model"},     # KeyError
    lambda meta: {k: v for k, v in meta.items() if k != "rng"},
    _set(["model"], "0.weight"),
    _set(["model"], ["no-such-parameter"]),
    _set(["optimizer", "state", "0", "exp_avg"], {"__ndarray__": "missing"}),
    _set(["optimizer", "state", "0", "exp_avg"], {"__ndarray__": ["x"]}),
    _set(["optimizer", "state", "0", "step"], {"__scalar__": "V", "value": 10**12}),
    _set(["optimizer", "state", "0", "step"], {"__scalar__": "<i8", "value": 10**30}),
    _set(["optimizer", "state", "0", "step"], {"__scalar__": {}, "value": 1}),
    _set(["optimizer", "state", "0", "step"], {"__items__": [[[[1]], 2]]}),
    _set(["optimizer", "state", "0", "step"], {"__tuple__": 5}),
    _set(["optimizer"], [1, 2]),
    _set(["rng", "library", "bit_generator"], "os.system"),
    _set(["rng", "library", "state"], {"state": "x", "inc": 1}),
    _set(["rng", "library"], None),
    _set(["history"], {"history": {"loss": [1.0]}, "epoch": "0"}),
    _set(["history"], [1]),
    _set(["stop_training"], "yes"),
    _set(["epoch"], -5),                                  # would run epochs again
    _set(["epoch"], 10**30),                              # would skip training silently
    _set(["epoch"], 1.0),
    _set(["epoch"], True),
    _set(["epoch"], 7),                                   # the history ends at epoch 1
    _set(["format"], "other"),
])
def test_damaged_metadata_is_one_error_naming_the_file(tmp_path, edit):
    _, path = _trained(tmp_path)
    _edit_metadata(path, edit)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert str(path) in str(info.value)


def test_a_damaged_safetensors_container_is_a_checkpoint_error(tmp_path):
    _, path = _trained(tmp_path)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(CheckpointError, match="truncated") as info:
        read_checkpoint(path)
    assert str(path) in str(info.value)


def _trainer_state(trainer):
    """Everything load_checkpoint may change, as comparable plain data."""
    return {
        "model": {k: v.tobytes() for k, v in trainer.model.state_dict().items()},
        "optimizer": repr(trainer.optimizer.state_dict()),
        "scheduler": trainer.scheduler.state_dict(),
        "rng": nl.get_rng().bit_generator.state,
        "history": trainer.history.state_dict() if trainer.history is not None else None,
        "resume": trainer._resume_state,
    }


@pytest.mark.parametrize("edit", [
    # the audit's case: a bad RNG state was found after weights and optimizer were restored
    _set(["rng", "library", "state", "state"], "not a number"),
    _set(["rng", "library", "bit_generator"], "MT19937"),      # not the trainer's PCG64
    _set(["optimizer", "state", "0", "exp_avg"], {"__ndarray__": "model/0.bias"}),  # wrong shape
    _set(["optimizer", "param_groups"], []),
    _set(["scheduler", "last_epoch"], "x"),
    _set(["model"], ["0.weight"]),                              # strict: names do not match
])
def test_load_checkpoint_restores_all_or_nothing(tmp_path, edit):
    _, path = _trained(tmp_path)
    _edit_metadata(path, edit)
    model, opt, sched = _setup(5)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    x, y = _data(n=16)
    trainer.fit(x, y, epochs=1, batch_size=8, verbose=0)  # a state of its own to keep
    before = _trainer_state(trainer)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, trainer)
    assert str(path) in str(info.value)
    assert _trainer_state(trainer) == before


def test_a_callback_state_that_does_not_fit_is_an_error_naming_file_and_callback(tmp_path):
    x, y = _data()
    model, opt, sched = _setup(0)
    path = tmp_path / "backup.safetensors"
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(x, y, validation_split=0.25, epochs=4, batch_size=8,
                    callbacks=_callbacks([BackupAndRestore(path), Crash(at=2)]), verbose=0)
    _edit_metadata(path, _set(["callbacks", "EarlyStopping#0"], {"wait": 1}))

    model, opt, sched = _setup(0)
    trainer = Trainer(model, "cross_entropy", opt, scheduler=sched)
    cbs = _callbacks([BackupAndRestore(path)])
    with pytest.raises(CheckpointError, match=r"backup\.safetensors.*EarlyStopping#0"):
        trainer.fit(x, y, validation_split=0.25, epochs=4, batch_size=8, callbacks=cbs,
                    verbose=0)
    assert cbs[0].wait == 0  # the state of a callback given its state before the failure: back


def test_save_checkpoint_refuses_an_epoch_that_contradicts_the_history(tmp_path):
    trainer, _ = _trained(tmp_path)
    for epoch in (-1, 5, 10**30, 1.5, True):
        with pytest.raises(ValueError, match="epoch"):
            save_checkpoint(tmp_path / "x.safetensors", trainer, epoch)
    assert not (tmp_path / "x.safetensors").exists()
