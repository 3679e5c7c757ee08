"""The training loop: end-to-end thresholds (XOR, iris) and the bookkeeping of fit/evaluate/predict
checked against PyTorch on the same weights and data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

import neuralab as nl
from neuralab import nn, optim
from neuralab.data import DataLoader, StandardScaler, load_iris, train_test_split
from neuralab.train import Callback, LambdaCallback, Trainer


# ---------------------------------------------------------------------- helpers
def _mlp(sizes, activation="tanh", out_activation=None, seed=0):
    nl.seed(seed)
    layers = [nn.Dense(sizes[1], activation=activation, input_dim=sizes[0])]
    for units in sizes[2:-1]:
        layers.append(nn.Dense(units, activation=activation))
    layers.append(nn.Dense(sizes[-1], activation=out_activation))
    model = nn.Sequential(layers)
    model(np.zeros((1, sizes[0]), np.float32))  # build every layer before the optimizer
    return model


def _torch_mlp(model, activation=torch.tanh):
    """The same network in PyTorch with the same weights (Dense stores W as (in, out))."""
    denses = [layer for layer in model.layers if isinstance(layer, nn.Dense)]
    ws = [torch.tensor(d.weight.data.T.copy()) for d in denses]
    bs = [torch.tensor(d.bias.data.copy()) for d in denses]

    def forward(x):
        h = torch.tensor(x)
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            h = h @ w.T + b
            if i < len(ws) - 1:
                h = activation(h)
        return h

    return forward


def _data(n=10, d=4, k=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, k, n)


# ---------------------------------------------------------------------- the lecture's claims
def test_xor_2_4_1_network_reaches_100_percent():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    model = _mlp([2, 4, 1], activation="tanh", out_activation="sigmoid", seed=0)
    trainer = Trainer(model, nn.BCELoss(), optim.Adam(model.parameters(), lr=0.05), rng=0)
    history = trainer.fit(x, y, epochs=500, batch_size=4, verbose=0)
    probs = trainer.predict(x)
    assert ((probs > 0.5) == (y > 0.5)).all(), probs.ravel()
    assert history.history["accuracy"][-1] == 1.0
    assert list(trainer.predict_classes(x)) == [0, 1, 1, 0]


def test_iris_lecture_network_reaches_95_percent_test_accuracy():
    # The lecture's practical: Dense(64, relu) + Dense(3, softmax), categorical cross-entropy on
    # probabilities, Adam; stratified split, scaler fitted on the training part only.
    x, y = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, rng=3)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    # the split is not a freak: a linear model also scores >= 95 % on it
    baseline = LogisticRegression(max_iter=1000).fit(x_train, y_train).score(x_test, y_test)
    assert baseline >= 0.95

    nl.seed(0)
    model = nn.Sequential([nn.Dense(64, activation="relu", input_dim=4),
                           nn.Dense(3, activation="softmax")])
    assert model.num_parameters() == 515  # the lecture's summary: 320 + 195
    trainer = Trainer(model, nn.CrossEntropyLoss(from_logits=False),
                      optim.Adam(model.parameters(), lr=0.01), rng=0)
    trainer.fit(x_train, y_train, validation_split=0.2, epochs=60, batch_size=16, verbose=0)
    acc = accuracy_score(y_test, trainer.predict_classes(x_test))
    assert acc >= 0.95
    assert trainer.evaluate(x_test, y_test)["accuracy"] == pytest.approx(acc)


# ---------------------------------------------------------------------- bookkeeping vs PyTorch
def test_epoch_loss_and_accuracy_match_torch_with_frozen_weights():
    # lr = 0: the weights never change, so the running epoch loss (batch means weighted by batch
    # size, uneven last batch) must equal the loss over the whole set, and the running accuracy
    # the accuracy of the fixed network.
    x, y = _data(n=10)
    xv, yv = _data(n=7, seed=2)
    model = _mlp([4, 8, 3], seed=1)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0),
                      metrics=["accuracy"], rng=0)
    h = trainer.fit(x, y, validation_data=(xv, yv), epochs=2, batch_size=4, verbose=0).history
    ref = _torch_mlp(model)
    logits, logits_v = ref(x), ref(xv)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y)).item()
    val_loss = torch.nn.functional.cross_entropy(logits_v, torch.tensor(yv)).item()
    assert h["loss"] == pytest.approx([loss, loss], rel=1e-5)
    assert h["val_loss"] == pytest.approx([val_loss, val_loss], rel=1e-5)
    acc = accuracy_score(y, logits.argmax(1).numpy())
    assert h["accuracy"] == pytest.approx([acc, acc])
    assert h["val_accuracy"][0] == pytest.approx(accuracy_score(yv, logits_v.argmax(1).numpy()))
    assert list(h) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert h["lr"] == [0.0, 0.0]
    ev = trainer.evaluate(xv, yv, batch_size=3)
    assert ev["loss"] == pytest.approx(val_loss, rel=1e-5)


def test_training_steps_match_a_torch_loop():
    # the same five calls as a hand-written PyTorch loop over the same batches: same weights
    x, y = _data(n=12)
    model = _mlp([4, 5, 3], seed=2)
    ref_params = [torch.tensor(a.copy(), requires_grad=True)
                  for a in (model.layers[0].weight.data.T, model.layers[0].bias.data,
                            model.layers[1].weight.data.T, model.layers[1].bias.data)]
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
                      metrics=[], rng=0)
    trainer.fit(x, y, epochs=3, batch_size=5, shuffle=True, verbose=0)

    opt = torch.optim.Adam(ref_params, lr=0.05)
    rng = np.random.default_rng(0)  # the trainer's generator: one permutation per epoch
    for _ in range(3):
        order = rng.permutation(12)
        for start in range(0, 12, 5):
            idx = order[start:start + 5]
            w1, b1, w2, b2 = ref_params
            out = torch.tanh(torch.tensor(x[idx]) @ w1.T + b1) @ w2.T + b2
            loss = torch.nn.functional.cross_entropy(out, torch.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(model.layers[0].weight.data, ref_params[0].detach().numpy().T,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.layers[1].bias.data, ref_params[3].detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_validation_split_takes_the_last_fraction_like_keras():
    x, y = _data(n=10)
    model = _mlp([4, 6, 3], seed=3)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), rng=0)
    h = trainer.fit(x, y, validation_split=0.3, epochs=1, batch_size=3, verbose=0).history
    ref = _torch_mlp(model)
    ce = torch.nn.functional.cross_entropy
    # Keras: split_at = floor(10 * (1 - 0.3)) = 7; training = x[:7], validation = x[7:]
    assert h["val_loss"][0] == pytest.approx(ce(ref(x[7:]), torch.tensor(y[7:])).item(), rel=1e-5)
    assert h["loss"][0] == pytest.approx(ce(ref(x[:7]), torch.tensor(y[:7])).item(), rel=1e-5)
    assert trainer.params["samples"] == 7


def test_regularization_penalty_is_added_to_the_loss():
    x, y = _data(n=8)
    nl.seed(4)
    model = nn.Sequential([
        nn.Dense(5, activation="tanh", input_dim=4, kernel_regularizer=nn.regularizers.L2(0.1)),
        nn.Dense(3, kernel_regularizer=nn.regularizers.L1(0.05)),
    ])
    model(x[:1])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0))
    h = trainer.fit(x, y, validation_data=(x, y), epochs=1, batch_size=8, verbose=0).history
    ref = _torch_mlp(model)
    w1, w2 = model.layers[0].weight.data.astype(np.float64), model.layers[1].weight.data
    penalty = 0.1 * (w1 ** 2).sum() + 0.05 * np.abs(w2.astype(np.float64)).sum()
    data_loss = torch.nn.functional.cross_entropy(ref(x), torch.tensor(y)).item()
    assert h["loss"][0] == pytest.approx(data_loss + penalty, rel=1e-5)
    assert h["val_loss"][0] == pytest.approx(data_loss + penalty, rel=1e-5)

    # and its gradient reaches the weights: one SGD step equals PyTorch's on the same objective
    w1_t = torch.tensor(model.layers[0].weight.data.T.copy(), requires_grad=True)
    b1 = torch.tensor(model.layers[0].bias.data.copy())
    w2_t = torch.tensor(model.layers[1].weight.data.T.copy(), requires_grad=True)
    b2 = torch.tensor(model.layers[1].bias.data.copy())
    out = torch.tanh(torch.tensor(x) @ w1_t.T + b1) @ w2_t.T + b2
    obj = torch.nn.functional.cross_entropy(out, torch.tensor(y)) + 0.1 * (w1_t ** 2).sum() \
        + 0.05 * w2_t.abs().sum()
    obj.backward()
    trainer.optimizer.lr = 0.5
    trainer.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    expected = (w1_t - 0.5 * w1_t.grad).detach().numpy().T
    np.testing.assert_allclose(model.layers[0].weight.data, expected, rtol=1e-5, atol=1e-6)


def test_same_seed_gives_identical_history_and_another_seed_does_not():
    x, y = _data(n=40, seed=5)

    def run(seed):
        nl.seed(seed)
        model = nn.Sequential([nn.Dense(16, activation="relu", input_dim=4), nn.Dropout(0.3),
                               nn.Dense(3)])
        trainer = Trainer(model, "cross_entropy", "adam")
        return trainer.fit(x, y, validation_split=0.25, epochs=4, batch_size=8, verbose=0)

    a, b, c = run(7), run(7), run(8)
    assert a.history == b.history
    assert a.epoch == [0, 1, 2, 3]
    assert a.history["loss"] != c.history["loss"]


def test_array_data_and_a_dataloader_with_the_same_generator_train_identically():
    x, y = _data(n=20, seed=6)
    weights = []
    for use_loader in (False, True):
        model = _mlp([4, 6, 3], seed=9)
        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                          rng=None if use_loader else 11)
        if use_loader:
            trainer.fit(DataLoader((x, y), batch_size=6, shuffle=True, rng=11), epochs=3,
                        verbose=0)
        else:
            trainer.fit(x, y, batch_size=6, epochs=3, verbose=0)
        weights.append(model.state_dict())
    for name in weights[0]:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])


# ---------------------------------------------------------------------- prediction
def test_predict_proba_softmax_of_logits_and_passthrough_of_probabilities():
    x, _ = _data(n=6)
    logits_model = _mlp([4, 5, 3], seed=1)
    t = Trainer(logits_model, nn.CrossEntropyLoss(), "adam")
    expected = torch.softmax(_torch_mlp(logits_model)(x), dim=1).numpy()
    np.testing.assert_allclose(t.predict_proba(x), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(t.predict_classes(x), expected.argmax(1))

    prob_model = _mlp([4, 5, 3], out_activation="softmax", seed=1)
    t = Trainer(prob_model, nn.CrossEntropyLoss(from_logits=False), "adam")
    np.testing.assert_allclose(t.predict_proba(x), expected, rtol=1e-5, atol=1e-7)
    # a loss given as a plain function: the softmax layer at the end is recognized
    t = Trainer(prob_model, lambda out, target: (out * 0).sum(), "adam", metrics=[])
    np.testing.assert_allclose(t.predict_proba(x), expected, rtol=1e-5, atol=1e-7)


def test_predict_proba_binary_logits_gives_two_columns():
    x, _ = _data(n=6)
    model = _mlp([4, 5, 1], seed=2)
    t = Trainer(model, nn.BCEWithLogitsLoss(), "adam")
    p = torch.sigmoid(_torch_mlp(model)(x)).numpy()[:, 0]
    proba = t.predict_proba(x)
    np.testing.assert_allclose(proba[:, 1], p, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(t.predict_classes(x), (p > 0.5).astype(int))

    # several independent binary outputs (multi-label): a sigmoid per label, not a softmax
    multi = _mlp([4, 5, 3], seed=2)
    t = Trainer(multi, nn.BCEWithLogitsLoss(), "adam")
    p = torch.sigmoid(_torch_mlp(multi)(x)).numpy()
    np.testing.assert_allclose(t.predict_proba(x), p, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(t.predict_classes(x), (p > 0.5).astype(int))
    y = (np.arange(18).reshape(6, 3) % 2).astype(np.float32)
    t.optimizer = optim.SGD(multi.parameters(), lr=0.0)
    h = t.fit(x, y, epochs=1, verbose=0).history
    assert h["accuracy"][0] == pytest.approx(((p > 0.5) == (y > 0.5)).mean())


# ---------------------------------------------------------------------- set-up and errors
def test_loss_and_optimizer_by_name_with_a_lazy_model():
    x, y = _data(n=16)
    nl.seed(0)
    model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(3)])  # no input_dim
    trainer = Trainer(model, "cross_entropy", "adam", metrics=["accuracy", "f1"])
    h = trainer.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert isinstance(trainer.optimizer, optim.Adam) and trainer.optimizer.lr == 1e-3
    assert len(trainer.optimizer.params) == 4
    assert set(h.history) == {"loss", "accuracy", "f1", "lr"}
    sgd = Trainer(_mlp([4, 3, 3]), "cross_entropy", "sgd")
    sgd.fit(x, y, epochs=1, verbose=0)
    assert sgd.optimizer.lr == 0.01


def test_regression_loss_has_no_default_accuracy():
    x, _ = _data(n=8)
    y = x.sum(1, keepdims=True)
    model = _mlp([4, 4, 1], seed=0)
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), metrics=["mae"])
    h = trainer.fit(x, y, epochs=1, batch_size=3, verbose=0).history
    out = _torch_mlp(model)(x).numpy()
    assert h["mae"][0] == pytest.approx(np.abs(out - y).mean(), rel=1e-5)
    assert h["loss"][0] == pytest.approx(((out - y) ** 2).mean(), rel=1e-5)
    assert "accuracy" not in Trainer(model, nn.MSELoss(), "sgd").metrics


def test_optimizer_created_before_the_model_was_built_is_reported():
    x, y = _data(n=8)
    first = nn.Dense(4, input_dim=4)
    opt = optim.SGD(first.parameters(), lr=0.1)   # before the second layer existed
    model = nn.Sequential([first, nn.Dense(3)])
    match = r"does not update 2 trainable parameters of the model \(1.weight"
    with pytest.warns(RuntimeWarning, match=match):
        Trainer(model, "cross_entropy", opt).fit(x, y, verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(validation_split=1.0), "validation_split"),
        (dict(epochs=-1), "non-negative integer for `epochs`"),
        (dict(batch_size=0), "positive integer for `batch_size`"),
        (dict(verbose=3), "verbose"),
        (dict(callbacks=[object()]), "Callback objects"),
    ],
)
def test_fit_argument_errors_name_the_bad_value(kwargs, message):
    x, y = _data(n=8)
    trainer = Trainer(_mlp([4, 3, 3]), "cross_entropy", "adam")
    with pytest.raises((ValueError, TypeError), match=message):
        trainer.fit(x, y, **kwargs)


def test_fit_data_errors():
    x, y = _data(n=8)
    trainer = Trainer(_mlp([4, 3, 3]), "cross_entropy", "adam")
    with pytest.raises(ValueError, match="without targets"):
        trainer.fit(x)
    with pytest.raises(ValueError, match="8 inputs and 7 targets"):
        trainer.fit(x, y[:7])
    with pytest.raises(ValueError, match="leave y=None"):
        trainer.fit(DataLoader((x, y)), y)
    with pytest.raises(TypeError, match="optimizer"):
        Trainer(_mlp([4, 3, 3]), "cross_entropy", 0.1)
    with pytest.raises(ValueError, match="unknown"):
        Trainer(_mlp([4, 3, 3]), "cross_entropy", "adamm").fit(x, y)


def test_the_model_and_the_optimizer_are_the_library_types():
    """Real types, not probes: a plain function is not a model, an object with step() and
    zero_grad() is not an optimizer; each message names what to pass instead."""
    model = _mlp([4, 3, 3])

    class LooksLikeAnOptimizer:
        def step(self):
            pass

        def zero_grad(self):
            pass

    with pytest.raises(TypeError, match="nn.Module such as nn.Sequential.*function"):
        Trainer(lambda x: x, "cross_entropy", "adam")
    with pytest.raises(TypeError, match="optim.Optimizer such as optim.Adam"):
        Trainer(model, "cross_entropy", LooksLikeAnOptimizer())


def test_stop_training_flag_ends_fit_after_the_epoch():
    x, y = _data(n=8)

    class StopAtTwo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.stop_training = True

    trainer = Trainer(_mlp([4, 3, 3]), "cross_entropy", "adam")
    h = trainer.fit(x, y, epochs=10, callbacks=[StopAtTwo()], verbose=0)
    assert h.epoch == [0, 1] and trainer.stop_training


def test_scheduler_sets_the_rate_of_each_epoch_like_torch():
    x, y = _data(n=8)
    model = _mlp([4, 3, 3])
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    h = Trainer(model, "cross_entropy", opt, scheduler=sched).fit(x, y, epochs=5, verbose=0)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=2, gamma=0.5)
    expected = []
    for _ in range(5):
        expected.append(t_opt.param_groups[0]["lr"])
        t_opt.step()
        t_sched.step()
    assert h.history["lr"] == pytest.approx(expected, rel=1e-12)


def test_lambda_callback_and_batch_logs():
    x, y = _data(n=10)
    seen = []
    cb = LambdaCallback(on_batch_end=lambda batch, logs: seen.append((batch, logs["size"])))
    Trainer(_mlp([4, 3, 3]), "cross_entropy", "adam").fit(x, y, batch_size=4, callbacks=[cb],
                                                          verbose=0)
    assert seen == [(0, 4), (1, 4), (2, 2)]
    assert math.isfinite(0.0)


def test_a_one_shot_generator_is_an_error_not_a_nan_epoch():
    # a generator is exhausted after one epoch: epoch 2 would train on nothing and leave the
    # history with a NaN loss and fewer accuracy entries than epochs
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential([nn.Dense(2, input_dim=3)])
    trainer = Trainer(model, nn.CrossEntropyLoss(), "sgd")
    batches = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10))
    with pytest.raises(ValueError, match="no batch.*epoch 2"):
        trainer.fit(batches, epochs=2, verbose=0)
    val = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10))
    with pytest.raises(ValueError, match="validation_data yielded no batch"):
        trainer.fit(x, y, validation_data=val, epochs=2, verbose=0)


def test_validation_split_accepts_a_numpy_float():
    import numpy as np

    from neuralab import nn
    from neuralab.train import Trainer

    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential([nn.Dense(2, input_dim=3)])
    history = Trainer(model, nn.CrossEntropyLoss(), "sgd").fit(
        x, y, validation_split=np.float32(0.25), epochs=1, verbose=0)
    assert len(history.history["val_loss"]) == 1


# ---------------------------------------------------------------------- the loss declares its task
@pytest.mark.parametrize("loss, task, kind", [
    (nn.CrossEntropyLoss(), "multiclass", "logits"),
    (nn.CrossEntropyLoss(from_logits=False), "multiclass", "probabilities"),
    (nn.NLLLoss(), "multiclass", "log_probabilities"),
    (nn.BCEWithLogitsLoss(), "binary", "logits"),
    (nn.BCELoss(), "binary", "probabilities"),
    (nn.MSELoss(), "regression", None),
    (nn.L1Loss(), "regression", None),
    (nn.HuberLoss(), "regression", None),
])
def test_every_loss_declares_its_task_and_output_kind(loss, task, kind):
    assert (loss.task, loss.output_kind) == (task, kind)


def test_a_custom_loss_that_declares_its_outputs_decides_the_threshold():
    # a user's loss class, named as nothing the library knows: its declaration alone decides
    class Brier(nn.Loss):
        task = "binary"
        output_kind = "probabilities"

        def forward(self, outputs, targets):
            y = nl.tensor(np.asarray(targets, dtype=np.float32).reshape(-1, 1))
            return ((outputs - y) ** 2).mean()

    model = nn.Sequential(nn.Dense(1, input_dim=2))
    trainer = Trainer(model, Brier(), optim.SGD(model.parameters(), lr=0.1))
    assert list(trainer.metrics) == ["accuracy"]
    x = np.array([[0.3, 0.0], [0.7, 0.0], [0.2, 1.0], [0.9, -1.0]], dtype=np.float32)
    with nl.no_grad():
        model[0].weight.data[...] = np.array([[1.0], [0.0]], dtype=np.float32)
        model[0].bias.data[...] = 0.0
    # outputs 0.3, 0.7, 0.2, 0.9 are probabilities: thresholded at 0.5 (logits would give 1s)
    np.testing.assert_array_equal(trainer.predict_classes(x), [0, 1, 0, 1])
    np.testing.assert_allclose(trainer.predict_proba(x)[:, 1], [0.3, 0.7, 0.2, 0.9], rtol=1e-6)
    assert trainer.evaluate(x, np.array([0, 1, 0, 1]))["accuracy"] == 1.0


# ---------------------------------------------------------------------- one batcher
def test_array_data_is_batched_by_the_library_dataloader():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    y = rng.integers(0, 2, 50)

    def weights(fit_with_arrays):
        nl.seed(1)
        model = nn.Sequential([nn.Dense(4, activation="tanh", input_dim=3), nn.Dense(2)])
        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                          rng=7)
        seen = []
        probe = LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(trainer.train_data))
        if fit_with_arrays:
            trainer.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[probe])
        else:
            loader = DataLoader((x, y), batch_size=8, shuffle=True, rng=7)
            trainer.fit(loader, epochs=3, verbose=0, callbacks=[probe])
        return [p.data.copy() for p in model.parameters()], seen

    from_arrays, seen = weights(True)
    assert isinstance(seen[0].loader, DataLoader) and seen[0].loader.shuffle
    # the same batches, in the same order, as a DataLoader with the same generator seed
    from_loader, _ = weights(False)
    for a, b in zip(from_arrays, from_loader, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_unshuffled_loader_without_copy_yields_views():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    copies = [xb for xb, in DataLoader((x,), batch_size=4)]
    views = [xb for xb, in DataLoader((x,), batch_size=4, copy=False)]
    assert not any(np.shares_memory(b, x) for b in copies)
    assert all(np.shares_memory(b, x) for b in views)
    for a, b in zip(copies, views, strict=True):
        np.testing.assert_array_equal(a, b)
    shuffled = [xb for xb, in DataLoader((x,), batch_size=4, shuffle=True, rng=0, copy=False)]
    assert not any(np.shares_memory(b, x) for b in shuffled)  # gathered: always a copy
