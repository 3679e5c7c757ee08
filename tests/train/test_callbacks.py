"""Callbacks: the hook protocol and order, early stopping, checkpoints, schedules, logging, NaN
guard, progress display, and the gradient/activation statistics of the labs."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn, optim
from neuralab.train import (
    ActivationStats,
    Callback,
    CSVLogger,
    EarlyStopping,
    GradientStats,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    collect_activations,
)


def _data(n=24, d=4, k=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, k, n)


def _model(sizes=(4, 8, 3), activation="tanh", seed=0, init="xavier_uniform"):
    nl.seed(seed)
    layers = [nn.Dense(sizes[1], activation=activation, input_dim=sizes[0],
                       kernel_initializer=init)]
    for units in sizes[2:-1]:
        layers.append(nn.Dense(units, activation=activation, kernel_initializer=init))
    layers.append(nn.Dense(sizes[-1]))
    model = nn.Sequential(layers)
    model(np.zeros((1, sizes[0]), np.float32))
    return model


class Recorder(Callback):
    def __init__(self, name, events):
        self.name, self.events = name, events

    def on_train_begin(self, logs=None):
        self.events.append((self.name, "train_begin"))

    def on_train_end(self, logs=None):
        self.events.append((self.name, "train_end"))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append((self.name, "epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.name, "epoch_end", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.events.append((self.name, "batch_begin", batch))

    def on_after_backward(self, batch, logs=None):
        self.events.append((self.name, "after_backward", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append((self.name, "batch_end", batch))


# ---------------------------------------------------------------------- protocol
def test_hooks_are_called_in_keras_order_for_every_callback_in_list_order():
    x, y = _data(n=6)
    events = []
    cbs = [Recorder("a", events), Recorder("b", events)]
    Trainer(_model(), "cross_entropy", "sgd").fit(x, y, epochs=2, batch_size=3, callbacks=cbs,
                                                  verbose=0)
    expected = [("a", "train_begin"), ("b", "train_begin")]
    for epoch in range(2):
        expected += [("a", "epoch_begin", epoch), ("b", "epoch_begin", epoch)]
        for batch in range(2):
            for hook in ("batch_begin", "after_backward", "batch_end"):
                expected += [("a", hook, batch), ("b", hook, batch)]
        expected += [("a", "epoch_end", epoch), ("b", "epoch_end", epoch)]
    expected += [("a", "train_end"), ("b", "train_end")]
    assert events == expected


def test_after_backward_sees_gradients_before_the_update(tmp_path):
    x, y = _data(n=6)
    model = _model()
    w = model.layers[0].weight
    seen = {}

    def before(batch, logs):
        seen["start"] = w.data.copy()

    def after_backward(batch, logs):
        seen["grad"] = None if w.grad is None else w.grad.copy()
        seen["unchanged"] = np.array_equal(w.data, seen["start"])

    def end(batch, logs):
        seen["changed"] = not np.array_equal(w.data, seen["start"])

    cb = LambdaCallback(on_batch_begin=before, on_after_backward=after_backward, on_batch_end=end)
    opt = optim.SGD(model.parameters(), lr=0.5)
    Trainer(model, "cross_entropy", opt).fit(x, y, epochs=1, batch_size=6, callbacks=[cb],
                                             verbose=0)
    assert seen["grad"] is not None and seen["unchanged"] and seen["changed"]
    # the update was w <- w - lr * grad with the gradient the hook saw
    np.testing.assert_allclose(w.data, seen["start"] - 0.5 * seen["grad"], rtol=1e-6, atol=1e-7)


def test_history_records_first_and_checkpoints_save_after_other_callbacks(tmp_path):
    x, y = _data(n=6)
    seen = []
    model = _model()
    trainer = Trainer(model, "cross_entropy", "sgd")
    ckpt = ModelCheckpoint(tmp_path / "m.safetensors", save_weights_only=True)

    def at_end(epoch, logs):
        seen.append((len(trainer.history.epoch), ckpt.last_saved))

    # the checkpoint is listed first but runs after the user's callback; History before both
    trainer.fit(x, y, epochs=2, callbacks=[ckpt, LambdaCallback(on_epoch_end=at_end)], verbose=0)
    assert seen == [(1, None), (2, str(tmp_path / "m.safetensors"))]
    assert [type(cb).__name__ for cb in trainer.callbacks] == \
        ["History", "LambdaCallback", "ModelCheckpoint"]


# ---------------------------------------------------------------------- early stopping
def _overfitting_run(callbacks, epochs=60, seed=0):
    """A big network on a small noisy set: the validation loss falls, then rises."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] + 0.8 * rng.normal(size=40) > 0).astype(np.int64)
    xv = rng.normal(size=(40, 4)).astype(np.float32)
    yv = (xv[:, 0] + 0.8 * rng.normal(size=40) > 0).astype(np.int64)
    model = _model((4, 64, 64, 2), activation="relu", seed=seed)
    snapshots = {}
    snap = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.__setitem__(
        epoch, model.state_dict()))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), rng=0)
    history = trainer.fit(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=8,
                          callbacks=[snap, *callbacks], verbose=0)
    return model, history.history, snapshots


def _assert_state_equal(model, state):
    current = model.state_dict()
    assert set(current) == set(state)
    for name in state:
        np.testing.assert_array_equal(current[name], state[name], err_msg=name)


def test_early_stopping_stops_after_patience_and_restores_exactly_the_best_epoch(tmp_path):
    stop = EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)
    best_file = tmp_path / "best.safetensors"
    ckpt = ModelCheckpoint(best_file, monitor="val_loss", save_best_only=True)
    model, h, snapshots = _overfitting_run([stop, ckpt])
    best = int(np.argmin(h["val_loss"]))
    assert stop.best_epoch == best and stop.best == h["val_loss"][best]
    assert len(h["val_loss"]) == best + 4 + 1 < 60      # stopped early, `patience` epochs later
    assert stop.stopped_epoch == best + 4
    _assert_state_equal(model, snapshots[best])
    # the independent record of the best epoch on disk holds the same weights
    _assert_state_equal(model, nl.load(best_file).state_dict())
    assert ckpt.best_epoch == best


def test_early_stopping_restores_the_best_weights_also_at_the_epoch_limit():
    stop = EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True)
    model, h, snapshots = _overfitting_run([stop], epochs=25)
    best = int(np.argmin(h["val_loss"]))
    assert len(h["val_loss"]) == 25 and best < 24       # ran to the limit, best was earlier
    assert stop.stopped_epoch == 0
    _assert_state_equal(model, snapshots[best])


def test_early_stopping_min_delta_mode_and_start_epoch_rules():
    stop = EarlyStopping(monitor="val_accuracy", min_delta=0.1, patience=1)
    assert stop.mode == "max"
    stop.set_trainer(type("T", (), {"stop_training": False, "model": None})())
    stop.on_train_begin()
    for epoch, acc in enumerate([0.5, 0.55]):   # 0.55 is within min_delta of 0.5
        stop.on_epoch_end(epoch, {"val_accuracy": acc})
    assert stop.best == 0.5 and stop.stopped_epoch == 1 and stop.trainer.stop_training
    stop.on_train_begin()
    stop.trainer.stop_training = False
    for epoch, acc in enumerate([0.5, 0.65, 0.7]):   # +0.15 improves, +0.05 does not
        stop.on_epoch_end(epoch, {"val_accuracy": acc})
    assert stop.best == 0.65 and stop.best_epoch == 1 and stop.stopped_epoch == 2

    late = EarlyStopping(monitor="loss", patience=0, start_from_epoch=3)
    late.set_trainer(type("T", (), {"stop_training": False, "model": None})())
    late.on_train_begin()
    for epoch, loss in enumerate([1.0, 2.0, 3.0, 4.0]):
        late.on_epoch_end(epoch, {"loss": loss})
    assert late.best == 4.0 and not late.trainer.stop_training


def test_monitoring_a_missing_key_warns_once():
    x, y = _data(n=6)
    with pytest.warns(RuntimeWarning, match="validation_data or validation_split"):
        Trainer(_model(), "cross_entropy", "sgd").fit(
            x, y, epochs=3, callbacks=[EarlyStopping()], verbose=0)


# ---------------------------------------------------------------------- checkpoints
def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path):
    x, y = _data(n=6)
    model = _model()
    snapshots = {}
    snap = LambdaCallback(on_epoch_end=lambda e, logs: snapshots.__setitem__(e, model.state_dict()))
    path = str(tmp_path / "ck" / "model-{epoch:02d}-{loss:.2f}.safetensors")
    h = Trainer(model, "cross_entropy", "adam").fit(
        x, y, epochs=3, callbacks=[ModelCheckpoint(path), snap], verbose=0).history
    files = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert files == [f"model-{e + 1:02d}-{h['loss'][e]:.2f}.safetensors" for e in range(3)]
    loaded = nl.load(tmp_path / "ck" / files[1])
    _assert_state_equal(loaded, snapshots[1])


# ---------------------------------------------------------------------- learning rate
def test_learning_rate_scheduler_function_form_sets_the_rate_at_epoch_start():
    x, y = _data(n=6)
    model = _model()
    trainer = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1))
    cb = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    h = trainer.fit(x, y, epochs=4, callbacks=[cb], verbose=0)
    assert h.history["lr"] == [0.1, 0.05, 0.025, 0.0125]


def test_learning_rate_scheduler_object_form_matches_torch():
    x, y = _data(n=6)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.2)
    cb = LearningRateScheduler(optim.CosineAnnealingLR(opt, T_max=5))
    h = Trainer(model, "cross_entropy", opt).fit(x, y, epochs=6, callbacks=[cb], verbose=0)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    t_sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=5)
    expected = []
    for _ in range(6):
        expected.append(t_opt.param_groups[0]["lr"])
        t_opt.step()
        t_sched.step()
    assert h.history["lr"] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_reduce_lr_on_plateau_callback_follows_torch_on_the_same_metrics():
    stop_metrics = []
    model, h, _ = _overfitting_run(
        [ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_delta=0.01),
         LambdaCallback(on_epoch_end=lambda e, logs: stop_metrics.append(logs["val_loss"]))],
        epochs=20)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        t_opt, mode="min", factor=0.5, patience=2, threshold=0.01, threshold_mode="abs")
    expected = []
    for value in h["val_loss"]:
        expected.append(t_opt.param_groups[0]["lr"])
        t_sched.step(value)
    assert h["lr"] == pytest.approx(expected, rel=1e-12)
    assert min(h["lr"]) < 0.01  # the rate was actually reduced in this run


def test_one_thing_sets_the_learning_rate_in_a_fit():
    """Two schedules on one optimizer overwrite each other's rate every epoch; fit refuses
    that before training, naming both."""
    x, y = _data(n=6)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    trainer = Trainer(model, "cross_entropy", opt, scheduler=optim.StepLR(opt, step_size=1))
    with pytest.raises(ValueError, match=r"2 things that set the learning rate \(Trainer\("
                                         r"scheduler=StepLR\(...\)\), ReduceLROnPlateau callback"):
        trainer.fit(x, y, epochs=2, callbacks=[ReduceLROnPlateau()], verbose=0)
    with pytest.raises(ValueError, match="LearningRateScheduler callback, ReduceLROnPlateau"):
        Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1)).fit(
            x, y, epochs=2, verbose=0,
            callbacks=[LearningRateScheduler(lambda e, lr: lr), ReduceLROnPlateau()])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # nothing was trained


# ---------------------------------------------------------------------- logging and safety
def test_csv_logger_writes_the_history(tmp_path):
    x, y = _data(n=6)
    path = tmp_path / "log.csv"
    h = Trainer(_model(), "cross_entropy", "adam").fit(
        x, y, validation_data=(x, y), epochs=3, callbacks=[CSVLogger(path)], verbose=0).history
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert [float(r[key]) for r in rows] == h[key]

    # append mode continues the same file without a second header
    Trainer(_model(), "cross_entropy", "adam").fit(
        x, y, validation_data=(x, y), epochs=1, callbacks=[CSVLogger(path, append=True)],
        verbose=0)
    with open(path, newline="") as f:
        assert len(list(csv.DictReader(f))) == 4


def test_csv_logger_append_writes_under_the_files_own_columns(tmp_path):
    x, y = _data(n=6)
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss,lr,val_accuracy,loss,accuracy\r\n")  # another order, CRLF
    h = Trainer(_model(), "cross_entropy", "adam").fit(
        x, y, validation_data=(x, y), epochs=2, callbacks=[CSVLogger(path, append=True)],
        verbose=0).history
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert [float(r[key]) for r in rows] == h[key]


@pytest.mark.parametrize("header, message", [
    ("epoch,loss,accuracy\n", r"has the columns \['loss', 'accuracy'\], this run logs .*"
                               r"not in the file: \['val_loss'"),
    ("epoch,loss,accuracy,val_loss,val_accuracy,lr,f1\n", r"not logged: \['f1'\]"),
    ("loss,accuracy,val_loss,val_accuracy,lr\n", r"does not start with 'epoch'"),
    ("epoch;loss;accuracy;val_loss;val_accuracy;lr\n", r"separator ','"),
])
def test_csv_logger_append_to_a_file_with_another_header_is_a_clear_error(tmp_path, header,
                                                                           message):
    # issue 9.12: values were written under the wrong columns
    x, y = _data(n=6)
    path = tmp_path / "other.csv"
    path.write_text(header + "0,1,2,3,4,5\n")
    with pytest.raises(ValueError, match=message):
        Trainer(_model(), "cross_entropy", "adam").fit(
            x, y, validation_data=(x, y), epochs=2, callbacks=[CSVLogger(path, append=True)],
            verbose=0)
    assert path.read_text() == header + "0,1,2,3,4,5\n"  # not a byte added


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_terminate_on_nan_stops_with_a_message_and_keeps_the_last_good_weights(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 10
    y = (x @ np.array([1.0, -2.0, 3.0, 0.5], np.float32))[:, None]
    model = _model((4, 8, 1), activation="relu")
    starts, batch_losses = {}, []
    record = LambdaCallback(
        on_epoch_begin=lambda e, logs: starts.__setitem__(e, model.state_dict()),
        on_batch_end=lambda b, logs: batch_losses.append(logs["loss"]))
    guard = TerminateOnNaN()
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), metrics=[])
    h = trainer.fit(x, y, epochs=50, batch_size=8, callbacks=[record, guard], verbose=0)

    assert guard.nan_epoch is not None, "the divergent run did not produce a non-finite loss"
    out = capsys.readouterr().out
    m = re.search(r"became (nan|infinite) at epoch (\d+), batch (\d+)", out)
    assert m, out
    assert (int(m.group(2)), int(m.group(3))) == (guard.nan_epoch + 1, guard.nan_batch + 1)
    assert guard.message in out
    # the batch named is the first with a non-finite running loss
    assert not np.isfinite(batch_losses[-1]) and np.isfinite(batch_losses[:-1]).all()
    assert len(h.history["loss"]) == guard.nan_epoch + 1 < 50
    # weights are back to the start of that epoch (finite), not the diverged ones
    _assert_state_equal(model, starts[guard.nan_epoch])
    assert all(np.isfinite(v).all() for v in model.state_dict().values())


def test_steps_per_epoch_is_ceil_of_samples_over_batch_size_like_keras():
    # docs/training.md's example: 60000 images in batches of 128 are 468 full batches and one of
    # 60000 - 468 * 128 = 96, so 469 steps per epoch (Keras' history.params["steps"])
    x = np.zeros((60000, 1), np.float32)
    y = np.zeros(60000, np.int64)
    out = io.StringIO()
    trainer = Trainer(_model((1, 2, 2)), "cross_entropy", "sgd")
    h = trainer.fit(x, y, epochs=0, batch_size=128,
                    callbacks=[ProgressBar(verbose=2, stream=out)])
    assert h.params["steps"] == 469 and h.params["last_batch_size"] == 96
    assert h.params["batch_size"] == 128 and h.params["samples"] == 60000
    assert h.params["epochs"] == 0 and h.params == trainer.params
    assert out.getvalue() == ("60000 samples, batch size 128: 469 steps per epoch "
                              "(468 of 128, the last of 96)\n")
    # docs/training.md shows this very line and these params
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "training.md").read_text(encoding="utf-8")
    assert f"# {out.getvalue().strip()}" in page
    assert "'steps': 469, 'batch_size': 128, 'last_batch_size': 96" in page

    # the steps the loop really makes, counted by a batch hook, and the size of each
    x, y = _data(n=10)
    sizes = []
    h = Trainer(_model(), "cross_entropy", "sgd").fit(
        x, y, epochs=2, batch_size=4, verbose=0,
        callbacks=[LambdaCallback(on_batch_begin=lambda b, logs: sizes.append(logs["size"]))])
    assert sizes == [4, 4, 2] * 2
    assert (h.params["steps"], h.params["last_batch_size"]) == (3, 2)
    # a batch that divides N: no smaller last batch; a DataLoader's own batch size and
    # drop_last are what counts (fit's batch_size is ignored for it)
    h = Trainer(_model(), "cross_entropy", "sgd").fit(x, y, epochs=0, batch_size=5, verbose=0)
    assert (h.params["steps"], h.params["last_batch_size"]) == (2, 5)
    loader = nl.data.DataLoader((x, y), batch_size=3, drop_last=True)
    h = Trainer(_model(), "cross_entropy", "sgd").fit(loader, epochs=0, batch_size=7, verbose=0)
    assert (h.params["steps"], h.params["batch_size"], h.params["last_batch_size"]) == (3, 3, 3)
    # an iterable of batches does not say how many samples it holds: no steps line
    out = io.StringIO()

    class Batches:
        def __iter__(self):
            return iter([(x[:4], y[:4]), (x[4:], y[4:])])

    Trainer(_model(), "cross_entropy", "sgd").fit(
        Batches(), epochs=1, callbacks=[ProgressBar(2, stream=out)])
    assert out.getvalue().startswith("Epoch 1/1 - ")


def test_progress_bar_line_mode_bar_mode_and_silence():
    x, y = _data(n=12)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    lines = io.StringIO()
    Trainer(_model(), "cross_entropy", "adam").fit(
        x, y, validation_split=0.25, epochs=3, batch_size=4,
        callbacks=[ProgressBar(verbose=1, stream=lines)])
    text = lines.getvalue().splitlines()
    # 12 samples, validation_split=0.25: 9 train in batches of 4, so 3 steps, the last of 1
    assert text[0] == "9 samples, batch size 4: 3 steps per epoch (2 of 4, the last of 1)"
    text = text[1:]
    assert len(text) == 3 and text[0].startswith("Epoch 1/3 - ")
    assert all(k in text[2] for k in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: "))
    assert "\r" not in lines.getvalue()

    tty = Tty()
    Trainer(_model(), "cross_entropy", "adam").fit(
        x, y, epochs=2, batch_size=4, callbacks=[ProgressBar(verbose=1, stream=tty, interval=0)])
    out = tty.getvalue()
    # 12 samples in batches of 4: 3 full steps, so no last-batch remark
    assert out.startswith("12 samples, batch size 4: 3 steps per epoch\nEpoch 1/2\n")
    assert "\r3/3 [" in out and "loss: " in out
    assert out.count("\n") == 5          # the steps line, two headers, two finished bars

    quiet = io.StringIO()
    Trainer(_model(), "cross_entropy", "adam").fit(
        x, y, epochs=2, callbacks=[ProgressBar(verbose=0, stream=quiet)])
    assert quiet.getvalue() == ""


def test_verbose_zero_prints_nothing(capsys):
    x, y = _data(n=6)
    Trainer(_model(), "cross_entropy", "adam").fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    Trainer(_model(), "cross_entropy", "adam").fit(x, y, epochs=2, verbose=2)
    assert capsys.readouterr().out.count("Epoch ") == 2


# ---------------------------------------------------------------------- statistics
def test_gradient_stats_equal_torch_gradient_norms():
    x, y = _data(n=10)
    model = _model((4, 6, 5, 3))
    weights = [(d.weight.data.T.copy(), d.bias.data.copy()) for d in model.layers]
    stats = GradientStats()
    # one full batch: the epoch mean is that batch's norm
    Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1)).fit(
        x, y, epochs=1, batch_size=10, callbacks=[stats], verbose=0)
    params = [torch.tensor(a, requires_grad=True) for pair in weights for a in pair]
    h = torch.tensor(x)
    for i in range(3):
        h = h @ params[2 * i].T + params[2 * i + 1]
        if i < 2:
            h = torch.tanh(h)
    torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
    names = ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    for name, p in zip(names, params, strict=True):
        assert stats.param_norms[name][0] == pytest.approx(p.grad.norm().item(), rel=1e-5)
    assert list(stats.norms) == ["dense", "dense_1", "dense_2"]
    for i, layer in enumerate(stats.norms):
        joint = torch.cat([params[2 * i].grad.ravel(), params[2 * i + 1].grad.ravel()]).norm()
        assert stats.norms[layer][0] == pytest.approx(joint.item(), rel=1e-5)
    assert stats.epochs == [0]


def _deep_net_first_to_last_hidden_ratio(activation, init):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 16)).astype(np.float32)
    y = (x[:, :4].sum(1) > 0).astype(np.int64)
    model = _model((16,) + (32,) * 7 + (2,), activation=activation, init=init)
    stats = GradientStats()
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), rng=0).fit(
        x, y, epochs=1, batch_size=64, callbacks=[stats], verbose=0)
    norms = [v[0] for v in stats.norms.values()]
    return norms[0] / norms[-2]   # first hidden layer / last hidden layer


def test_gradient_stats_show_vanishing_gradients_in_a_deep_sigmoid_net_not_relu_he():
    # sigma' <= 1/4: every sigmoid layer shrinks the backpropagated gradient
    assert _deep_net_first_to_last_hidden_ratio("sigmoid", "xavier_uniform") < 0.01
    assert _deep_net_first_to_last_hidden_ratio("relu", "he_normal") > 0.2


def test_activation_stats_equal_numpy_and_count_dead_relu_units():
    x, y = _data(n=20)
    model = _model((4, 8, 3), activation="relu")
    model.layers[0].bias.data[:3] = -100.0   # three units that can never fire
    stats = ActivationStats(probe=x[:16])
    Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.0)).fit(
        x, y, epochs=2, callbacks=[stats], verbose=0)
    w1, b1 = model.layers[0].weight.data, model.layers[0].bias.data
    hidden = np.maximum(x[:16] @ w1 + b1, 0)
    logits = hidden @ model.layers[1].weight.data + model.layers[1].bias.data
    assert list(stats.mean) == ["dense", "dense_1"]
    for name, h in (("dense", hidden), ("dense_1", logits)):
        assert stats.mean[name] == pytest.approx([h.mean()] * 2, rel=1e-5)
        assert stats.std[name] == pytest.approx([h.std()] * 2, rel=1e-5)
        assert stats.initial["mean"][name] == pytest.approx(h.mean(), rel=1e-5)
    dead = np.mean(np.all(hidden <= 0, axis=0))
    assert dead >= 3 / 8 and stats.dead_fraction["dense"] == [dead, dead]
    assert stats.epochs == [0, 1]


def test_activation_stats_default_probe_and_collect_activations():
    x, y = _data(n=40)
    model = _model((4, 8, 8, 3), activation="tanh")
    model_with_dropout = nn.Sequential([*model.layers[:1], nn.Dropout(0.5), *model.layers[1:]])
    acts = collect_activations(model_with_dropout, x)
    assert list(acts) == ["dense", "dense_1", "dense_2"]          # Dropout is skipped
    np.testing.assert_allclose(acts["dense"], np.tanh(x @ model.layers[0].weight.data
                                                      + model.layers[0].bias.data), rtol=1e-5)
    stats = ActivationStats(probe_size=32)
    Trainer(model, "cross_entropy", "adam").fit(x, y, epochs=1, callbacks=[stats], verbose=0)
    assert len(stats.std["dense_1"]) == 1
    with pytest.raises(TypeError, match="Sequential"):
        collect_activations(nn.Dense(3, input_dim=4), x)


def test_history_is_returned_and_reused():
    x, y = _data(n=6)
    history = History()
    trainer = Trainer(_model(), "cross_entropy", "adam")
    assert trainer.fit(x, y, epochs=2, callbacks=[history], verbose=0) is history
    trainer.fit(x, y, epochs=1, callbacks=[history], verbose=0)
    assert history.epoch == [0, 1, 0] and len(history.history["loss"]) == 3


def test_terminate_on_nan_never_restores_non_finite_weights(capsys):
    model = _model((4, 3, 1), activation="relu")
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), metrics=[])
    guard = TerminateOnNaN()
    guard.set_trainer(trainer)
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    good = model.state_dict()
    # the last step of epoch 0 left an inf weight while its loss was still finite
    next(iter(model.parameters())).data[0, 0] = np.inf
    guard.on_epoch_begin(1)
    guard.on_batch_end(0, {"loss": float("nan")})
    assert guard.stop_training
    _assert_state_equal(model, good)
    assert "restored to the start of epoch 1" in capsys.readouterr().out


# ---------------------------------------------------------------------- one owner of "better"
@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau,
                                 lambda **kw: ModelCheckpoint("m.safetensors", **kw)])
def test_monitors_share_one_answer_to_which_direction_is_better(cls):
    assert cls(monitor="val_loss").mode == "min"
    assert cls(monitor="val_acc").mode == "max"  # an alias of accuracy
    assert cls(monitor="rmse").mode == "min"
    assert cls(monitor="val_r2").mode == "max"
    assert cls(monitor="val_within", mode="max").mode == "max"
    # a name the library cannot know is refused, not guessed (Keras 3 does the same)
    with pytest.raises(ValueError, match="cannot tell whether a larger or a smaller 'val_within'"):
        cls(monitor="val_within")


def test_a_registered_metric_declares_its_direction_to_monitors_and_search(monkeypatch):
    from neuralab.train import metrics

    # a registration that does not outlive the test
    monkeypatch.setattr(metrics, "_REGISTRY", metrics._REGISTRY.copy())
    monkeypatch.setattr(metrics, "_DIRECTIONS", dict(metrics._DIRECTIONS))

    def misses(y_true, y_pred):
        return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))

    metrics.register_metric("misses", misses, greater_is_better=False)
    assert metrics.better_direction("val_misses") == "min"
    assert EarlyStopping(monitor="val_misses").mode == "min"
    search = nl.train.RandomSearch(lambda p: None, {"a": [1]}, metric="misses")
    assert search._resolve_mode() == "min"
    # a callable scorer that declares nothing is maximized (scikit-learn's convention)
    assert nl.train.RandomSearch(lambda p: None, {"a": [1]},
                                 metric=lambda t, p: 0.0)._resolve_mode() == "max"


def test_model_checkpoint_saves_only_improvements_larger_than_min_delta(tmp_path):
    model = _model()
    ckpt = ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", monitor="val_loss",
                           save_best_only=True, min_delta=0.1)
    ckpt.set_trainer(type("T", (), {"model": model})())
    for epoch, value in enumerate([1.0, 0.95, 0.85, 0.5]):
        ckpt.on_epoch_end(epoch, {"val_loss": value})
    # 0.95 does not beat 1.0 by more than 0.1; 0.85 does (by 0.15), then 0.5 beats 0.85
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["best-1.safetensors", "best-3.safetensors", "best-4.safetensors"]
    assert ckpt.best == 0.5 and ckpt.best_epoch == 3
