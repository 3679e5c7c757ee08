"""neuralab.keras without Keras: the neuralab objects behind a model, saving, history keys,
and a clear error for every Keras feature that is not mapped."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import neuralab
import neuralab.keras as nk
from neuralab import nn
from neuralab.keras import layers
from neuralab.train import Trainer


def small_model():
    model = nk.Sequential([layers.Dense(8, input_dim=4, activation="relu"),
                           layers.BatchNormalization(), layers.Dropout(0.2),
                           layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)


def test_the_neuralab_objects_are_one_attribute_away():
    model = small_model()
    assert isinstance(model.module, nn.Sequential) and isinstance(model.trainer, Trainer)
    assert model.trainer.model is model.module
    assert [layer.name for layer in model.layers] == ["dense", "batch_normalization", "dropout",
                                                      "dense_1"]
    x, _ = data()
    steps = model.module.trace(x[:2])
    assert [s.name for s in steps] == [layer.name for layer in model.layers]
    assert neuralab.graph(model.module(x[:2])).nodes


def test_keras_shapes_of_get_weights_and_batch_norm_momentum():
    model = small_model()
    assert [w.shape for w in model.layers[0].get_weights()] == [(4, 8), (8,)]
    assert [w.shape for w in model.layers[1].get_weights()] == [(8,)] * 4
    bn = model.layers[1]
    assert bn.momentum == pytest.approx(0.01) and bn.eps == 1e-3  # Keras' 0.99 and 1e-3
    weights = [w + 1 for w in model.get_weights()]
    model.set_weights(weights)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_history_keys_as_keras():
    x, y = data()
    model = small_model()
    h = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert h.epoch == [0, 1] and model.history is h
    h = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                  callbacks=[nk.callbacks.ReduceLROnPlateau(patience=1)])
    assert "learning_rate" in h.history and "lr" not in h.history
    loss, acc = model.evaluate(x, y)
    assert 0 <= acc <= 1 and loss > 0
    assert set(model.evaluate(x, y, return_dict=True)) == {"loss", "accuracy"}


def test_save_and_load_model_round_trip(tmp_path):
    x, y = data()
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = nk.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.loss is not None and type(loaded.optimizer).__name__ == "Adam"
    assert loaded.optimizer.epsilon == 1e-7
    assert open(path, "rb").read(8) != b"\x80\x04\x95"[:8]  # not a pickle: safetensors' header
    with pytest.raises(nk.UnsupportedKerasFeature, match="model.safetensors"):
        model.save(tmp_path / "model.keras")


def test_validation_split_takes_the_last_rows_before_shuffling():
    x, y = data()
    neuralab.seed(0)
    model = small_model()
    h = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"][0], model.evaluate(x[30:], y[30:])[0],
                               rtol=1e-6)


def test_regression_targets_of_shape_n_match_one_output_column():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = x.sum(axis=1)
    model = nk.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=nk.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    h = model.fit(x, y, epochs=30, verbose=0)
    # a linear target, learned (y has variance 3; a (32, 32) broadcast of (32,) - (32, 1) would
    # stay near it)
    assert h.history["loss"][-1] < 0.05


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Conv2D(4, 3, groups=2), "separate Conv2D layers"),
    (lambda: layers.AveragePooling2D(padding="same")(np.zeros((1, 5, 5, 1))),
     "padded pixels out of the average"),
    (lambda: layers.SeparableConv2D, "supported"),
    (lambda: layers.LSTM, "supported"),
    (lambda: layers.Dense(4, activation="gelu"), "tanh approximation"),
    (lambda: layers.Dense(4, bias_regularizer="l2"), "kernel_regularizer"),
    (lambda: layers.BatchNormalization(center=False), "gamma and beta together"),
    (lambda: nk.optimizers.Adam(clipnorm=1.0), "clip_grad_norm"),
    (lambda: nk.optimizers.SGD(weight_decay=1e-4), "kernel_regularizer=regularizers.l2"),
    (lambda: nk.optimizers.Adam(learning_rate=lambda step: 0.1), "LearningRateScheduler"),
    (lambda: nk.Model(), "nn.Module subclass"),
    (lambda: nk.utils.plot_model, "neuralab.graph"),
    (lambda: nk.callbacks.TensorBoard, "neuralab.train.callbacks"),
    (lambda: nk.callbacks.ModelCheckpoint("best.keras"), "safetensors"),
    (lambda: nk.losses.get("kl_divergence"), "neuralab loss"),
    (lambda: small_model().fit(*data(), sample_weight=np.ones(40)), "loss function"),
])
def test_unsupported_keras_features_say_what_to_do(make, match):
    with pytest.raises((nk.UnsupportedKerasFeature, AttributeError), match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Conv2D(4, 3, data_format="NHWC"), "channels_last"),
    (lambda: layers.MaxPooling2D(padding="full"), "'valid' or 'same'"),
    (lambda: layers.Conv2D(4, 3)(np.zeros((5, 5, 1))), r"\(batch, height, width, channels\)"),
    (lambda: layers.Conv2D(4, 3, data_format="channels_first")(np.zeros((5, 5, 1))),
     r"\(batch, channels, height, width\)"),
])
def test_bad_image_layer_arguments_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_conv_model_saves_loads_and_opens_up(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 8, 8, 3)).astype(np.float32)
    model = nk.Sequential([nk.Input(shape=(8, 8, 3)),
                           layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                           layers.BatchNormalization(), layers.MaxPooling2D(),
                           layers.GlobalAveragePooling2D(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, rng.normal(size=(6, 2)).astype(np.float32), epochs=2, verbose=0)
    kernel = model.layers[0].get_weights()[0]
    assert kernel.shape == (3, 3, 3, 4)  # Keras' layout; the neuralab layer keeps PyTorch's
    np.testing.assert_array_equal(model.module[0].weight.data, kernel.transpose(3, 2, 0, 1))
    assert isinstance(model.module[0], neuralab.nn.Conv2D)
    model.save(tmp_path / "cnn.safetensors")
    loaded = nk.models.load_model(tmp_path / "cnn.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in model.get_weights()]
    with pytest.raises(ValueError, match="built for 3 channels"):
        model.predict(x[..., :2])


def test_summary_before_the_input_shape_is_known_says_how():
    model = nk.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="input_dim= or input_shape="):
        model.summary()


def test_imports_without_keras_or_tensorflow():
    code = ("import sys; sys.modules['keras'] = None; sys.modules['tensorflow'] = None; "
            "sys.modules['torch'] = None\n"
            "from neuralab.keras.models import Sequential\n"
            "from neuralab.keras.layers import Dense\n"
            "m = Sequential(); m.add(Dense(2, input_dim=3)); print(m.count_params())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "8"
