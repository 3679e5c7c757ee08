"""Keras 3 (PyTorch backend) is the oracle: the same architecture with the same initial weights
(copied from the Keras model with ``set_weights``), ``shuffle=False``, the same optimizer and
loss give the same per-epoch losses and metrics and the same parameter counts.

Tolerances: float32 runs of two libraries differ in rounding (summation order, fused ops).  The
largest differences measured over every test here (default OpenBLAS kernel and
``OPENBLAS_CORETYPE=Haswell``) are in the comments; each tolerance has a margin of about 10x.
Dropout: its masks come from different generators, so models with dropout are compared with
``rate=0.0`` while training and with the real rate in inference mode (``predict``, where dropout
is the identity) and on their parameter counts.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuralab
import neuralab.keras as nk
from neuralab.data import load_iris

# The largest |neuralab - Keras| measured over these tests (default kernel / Haswell):
# iris model with Adam 1.5e-6 / 1.6e-6 (per-epoch loss and accuracy, evaluate, predict), deeper
# MLP 1.2e-6 / 7e-7, regression 1.9e-7 / 1.0e-7, optimizer steps at most 4.2e-7 / 4.2e-7.
# Adam divides by sqrt(v) + 1e-7, so a weight whose gradient is ~1e-9 takes a step whose size
# depends on rounding: its tolerance is the widest.
TOL = {"adam": 2e-5, "other": 1e-5, "step": 5e-6}

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:keras", "ignore:Do not pass an `input_shape`:UserWarning")


def iris(n=None):
    x, y = load_iris()
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    return (x, y) if n is None else (x[:n], y[:n])


def twin(keras, build, compile_args):
    """The same model in Keras and neuralab.keras (``build(module)`` takes keras or nk), with
    Keras' initial weights (seeded) copied into neuralab's.  Keras numbers layer names across the session;
    clear_session() starts again at ``dense``, as neuralab does in every model."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)  # Keras draws the initial weights: the same ones every run
    km = build(keras)
    km.compile(**compile_args(keras))
    nm = build(nk)
    nm.compile(**compile_args(nk))
    nm.set_weights(km.get_weights())
    return km, nm


def assert_histories_match(hk, hn, tol):
    assert sorted(hk) == sorted(hn)
    for key in hk:
        np.testing.assert_allclose(hn[key], hk[key], rtol=0, atol=tol, err_msg=key)


def iris_model(k):
    return k.Sequential([k.layers.Dense(64, input_dim=4, activation="relu"),
                         k.layers.Dense(3, activation="softmax")])


def test_lecture_iris_model(keras):
    x, y = iris()
    km, nm = twin(keras, iris_model, lambda k: dict(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]))
    assert km.count_params() == nm.count_params()
    assert [layer.count_params() for layer in km.layers] == [
        row.params for row in neuralab.nn.summarize(nm.module).rows]
    fit = dict(epochs=4, batch_size=32, shuffle=False, verbose=0)
    hk = km.fit(x[:120], y[:120], validation_data=(x[120:], y[120:]), **fit).history
    hn = nm.fit(x[:120], y[:120], validation_data=(x[120:], y[120:]), **fit).history
    assert_histories_match(hk, hn, TOL["adam"])
    ek = km.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(nm.evaluate(x, y), ek, atol=TOL["adam"])
    np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), atol=TOL["adam"])


def deep_model(rate):
    def build(k):
        return k.Sequential([
            k.Input(shape=(4,)),
            k.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
            k.layers.BatchNormalization(),
            k.layers.Dropout(rate),
            k.layers.Dense(16, activation="tanh"),
            k.layers.LayerNormalization(),
            k.layers.Dense(3),
        ])
    return build


def logits_compile(k):
    return dict(optimizer=k.optimizers.RMSprop(learning_rate=0.01),
                loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])


def test_deeper_mlp_with_batch_norm_trains_alike_without_dropout(keras):
    x, y = iris()
    km, nm = twin(keras, deep_model(0.0), logits_compile)
    fit = dict(epochs=3, batch_size=32, shuffle=False, verbose=0, validation_split=0.25)
    hk = km.fit(x, y, **fit).history   # Keras' validation_split: the last 25 % of the rows
    hn = nm.fit(x, y, **fit).history
    assert_histories_match(hk, hn, TOL["other"])  # val_*: BatchNorm on its moving statistics
    for a, b in zip(km.get_weights(), nm.get_weights()):
        np.testing.assert_allclose(b, a, atol=TOL["other"])


def test_deeper_mlp_with_dropout_counts_and_inference(keras):
    x, _ = iris()
    km, nm = twin(keras, deep_model(0.5), logits_compile)
    k_weights = km.get_weights()
    # BatchNormalization's moving statistics away from 0 and 1, so inference mode uses them
    rng = np.random.default_rng(1)
    k_weights[4] = rng.normal(size=32).astype(np.float32)
    k_weights[5] = rng.uniform(0.5, 2.0, size=32).astype(np.float32)
    km.set_weights(k_weights)
    nm.set_weights(k_weights)
    counts = [(layer.name, layer.count_params()) for layer in km.layers]
    rows = neuralab.nn.summarize(nm.module).rows
    assert [(r.name, r.params) for r in rows] == counts
    assert sum(r.non_trainable for r in rows) == sum(
        int(np.prod(w.shape)) for w in km.non_trainable_weights)
    np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), atol=TOL["other"])


def test_regression_with_l2_and_mae(keras):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (x @ rng.normal(size=5) + 0.1 * rng.normal(size=64)).astype(np.float32)  # shape (64,)

    def build(k):
        return k.Sequential([
            k.layers.Dense(16, activation="relu", input_shape=(5,),
                           kernel_regularizer=k.regularizers.l2(1e-2)),
            k.layers.Dense(1, kernel_regularizer=k.regularizers.L1L2(l1=1e-3, l2=1e-3)),
        ])

    km, nm = twin(keras, build, lambda k: dict(
        optimizer=k.optimizers.SGD(learning_rate=0.02, momentum=0.9, nesterov=True),
        loss="mse", metrics=["mae"]))
    fit = dict(epochs=6, batch_size=8, shuffle=False, verbose=0, validation_split=0.25)
    hk = km.fit(x, y, **fit).history
    hn = nm.fit(x, y, **fit).history
    assert_histories_match(hk, hn, TOL["other"])


OPTIMIZERS = {
    "sgd": lambda k: k.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "sgd_nesterov": lambda k: k.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda k: k.optimizers.RMSprop(learning_rate=0.01),
    "rmsprop_centered_momentum": lambda k: k.optimizers.RMSprop(
        learning_rate=0.005, rho=0.8, momentum=0.5, centered=True),
    "adagrad": lambda k: k.optimizers.Adagrad(learning_rate=0.05),
    "adam": lambda k: k.optimizers.Adam(learning_rate=0.01),
    "adam_amsgrad": lambda k: k.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adam_weight_decay": lambda k: k.optimizers.Adam(learning_rate=0.01, weight_decay=0.1),
    "adamw": lambda k: k.optimizers.AdamW(learning_rate=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_mapping_matches_keras_step_by_step(keras, name):
    x, y = iris(16)

    def build(k):
        return k.Sequential([k.layers.Dense(8, input_dim=4, activation="tanh"),
                             k.layers.Dense(3, activation="softmax")])

    km, nm = twin(keras, build, lambda k: dict(
        optimizer=OPTIMIZERS[name](k), loss="sparse_categorical_crossentropy"))
    for _ in range(2):  # 2 steps each, weights compared after every fit
        km.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        nm.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        for a, b in zip(km.get_weights(), nm.get_weights()):
            np.testing.assert_allclose(b, a, atol=TOL["step"], err_msg=name)


class _FakeOptimizer:
    learning_rate = 1.0


class _FakeModel:
    optimizer = _FakeOptimizer()


@pytest.mark.parametrize("patience,cooldown", [(0, 0), (1, 0), (3, 0), (2, 1), (2, 3)])
def test_reduce_lr_on_plateau_follows_keras_rule(keras, patience, cooldown):
    from types import SimpleNamespace

    from neuralab import optim
    from neuralab.autograd import Tensor

    values = np.random.default_rng(patience * 10 + cooldown).normal(size=60).cumsum() * 0.1
    kcb = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=patience, cooldown=cooldown,
                                            min_delta=0.01, min_lr=1e-3)
    kcb.set_model(_FakeModel())
    _FakeModel.optimizer.learning_rate = 1.0
    ncb = nk.callbacks.ReduceLROnPlateau(factor=0.5, patience=patience, cooldown=cooldown,
                                         min_delta=0.01, min_lr=1e-3)
    opt = optim.SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=1.0)
    ncb.set_trainer(SimpleNamespace(optimizer=opt, stop_training=False))
    kcb.on_train_begin()
    ncb.on_train_begin()
    k_rates, n_rates = [], []
    for epoch, v in enumerate(values):
        kcb.on_epoch_end(epoch, {"val_loss": float(v)})
        ncb.on_epoch_end(epoch, {"val_loss": float(v)})
        k_rates.append(float(_FakeModel.optimizer.learning_rate))
        n_rates.append(float(opt.lr))
    assert len(set(k_rates)) > 2  # the sequence does reduce the rate several times
    np.testing.assert_allclose(n_rates, k_rates, rtol=1e-6)


def digits(n=96):
    """The first n 8 x 8 digits as Keras' (batch, height, width, channels) images in [0, 1]."""
    from neuralab.data import load_digits

    x, y = load_digits(images=True)
    return (x[:n, :, :, None] / 16.0).astype(np.float32), y[:n].astype(np.int64)


def cnn_model(k):
    """Conv2D with 'same' and with strides, BatchNormalization on the channels (axis=-1),
    both poolings, Flatten in Keras' (h, w, c) order, and a Dense head."""
    return k.Sequential([
        k.Input(shape=(8, 8, 1)),
        k.layers.Conv2D(6, 3, padding="same", activation="relu"),
        k.layers.BatchNormalization(),
        k.layers.MaxPooling2D(2),
        k.layers.Conv2D(8, (3, 2), strides=2, padding="same", use_bias=False),
        k.layers.Activation("relu"),
        k.layers.Flatten(),
        k.layers.Dense(10, activation="softmax"),
    ])


def test_cnn_counts_forward_and_training_match_keras(keras):
    x, y = digits()
    km, nm = twin(keras, cnn_model, lambda k: dict(
        optimizer=k.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
        metrics=["accuracy"]))
    # the summary's counts and output shapes, layer by layer
    rows = neuralab.nn.summarize(nm.module, (8, 8, 1)).rows
    assert [(r.name, r.params) for r in rows] == [
        (layer.name, layer.count_params()) for layer in km.layers]
    assert [r.output_shape for r in rows] == [tuple(layer.output.shape) for layer in km.layers]
    # Keras' kernel layout (kh, kw, in, filters) both ways
    assert [w.shape for w in nm.get_weights()] == [tuple(w.shape) for w in km.get_weights()]
    np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), atol=TOL["other"])
    fit = dict(epochs=3, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    hk = km.fit(x, y, **fit).history
    hn = nm.fit(x, y, **fit).history
    assert_histories_match(hk, hn, TOL["adam"])
    # Measured over Keras initial weights of seeds 0-4 (default kernel and Haswell alike): the
    # histories differ by at most 4.8e-6, the final weights by up to 5.3e-5 (seed 2: Adam's
    # steps of weights with tiny gradients depend on rounding); 2e-4 is 4x that spread.
    for a, b in zip(km.get_weights(), nm.get_weights()):
        np.testing.assert_allclose(b, a, atol=2e-4)


@pytest.mark.parametrize("size,pool,strides,padding", [
    (7, 2, None, "same"), (7, 3, 2, "same"), (8, 3, 1, "same"), (7, 2, 1, "valid"),
    (9, (2, 3), (2, 1), "same")])
def test_pooling_and_strided_same_match_keras(keras, size, pool, strides, padding):
    rng = np.random.default_rng(size)
    x = rng.normal(size=(3, size, size + 1, 2)).astype(np.float32)
    for name, kwargs in (("MaxPooling2D", dict(pool_size=pool, strides=strides, padding=padding)),
                         ("Conv2D", dict(filters=3, kernel_size=pool, strides=strides or 1,
                                         padding=padding))):
        km, nm = uncompiled_twin(keras, lambda k: k.Sequential([
            k.Input(shape=x.shape[1:]), getattr(k.layers, name)(**kwargs), k.layers.Flatten()]))
        np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), atol=TOL["other"],
                                   err_msg=f"{name}({kwargs})")
    km, nm = uncompiled_twin(keras, lambda k: k.Sequential([
        k.Input(shape=x.shape[1:]), k.layers.AveragePooling2D(2),
        k.layers.GlobalAveragePooling2D()]))
    np.testing.assert_allclose(nm.predict(x), km.predict(x, verbose=0), atol=TOL["other"])


def uncompiled_twin(keras, build):
    """``twin`` for a model that is only run forward (a pooling alone has nothing to train)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    km, nm = build(keras), build(nk)
    nm.set_weights(km.get_weights())
    return km, nm
