"""Keras' ``Sequential`` on neuralab: ``model.module`` is the ``nn.Sequential`` of the layers and
``model.trainer`` the ``train.Trainer`` that ``compile`` sets up, so everything neuralab does with
a model (``neuralab.graph``, ``model.module.trace(x)``, ``GradientStats``, the labs) works on a
model built with the lecture's Keras code.

>>> model = Sequential()
>>> model.add(layers.Dense(8, input_dim=4, activation="relu"))
>>> model.add(layers.Dense(3, activation="softmax"))
>>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
>>> history = model.fit(X_train, y_train, validation_data=(X_test, y_test), epochs=50)
>>> model.module, model.trainer              # the neuralab objects
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

import numpy as np

from .. import nn
from ..autograd import Tensor, no_grad
from ..io import read_safetensors, write_safetensors
from ..io.model import load as _load
from ..io.model import save as _save
from ..optim import Optimizer as _NeuralabOptimizer
from ..train import Trainer
from ..train import callbacks as _cb
from . import callbacks as callbacks_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from ._util import check_defaults, missing_name, unsupported
from .layers import InputLayer

#: the key of the compile settings in a saved model's metadata
COMPILE_KEY = "neuralab.keras.compile"

_FIT_DEFAULTS = {"class_weight": None, "sample_weight": None, "steps_per_epoch": None,
                 "validation_steps": None, "validation_batch_size": None, "validation_freq": 1}
_FIT_HINTS = {
    "class_weight": "weight the loss yourself: a loss function (outputs, targets) -> Tensor",
    "sample_weight": "weight the loss yourself: a loss function (outputs, targets) -> Tensor",
    "steps_per_epoch": "pass a neuralab DataLoader (one epoch = one pass over it)",
}
_COMPILE_DEFAULTS = {"loss_weights": None, "weighted_metrics": None, "run_eagerly": False,
                     "steps_per_execution": 1, "jit_compile": "auto", "auto_scale_loss": True}


class Sequential:
    """``keras.Sequential``: a stack of layers, trained by neuralab.

    Attributes:
        module: the ``nn.Sequential`` holding the layers (a neuralab model).
        trainer: the ``train.Trainer`` (after ``compile`` and once the weights exist), whose
            ``optimizer`` is the neuralab optimizer.
        history: the ``History`` of the last ``fit``.
    """

    def __init__(self, layers: list | None = None, name: str | None = None,
                 trainable: bool = True) -> None:
        if not trainable:
            raise unsupported("Sequential(trainable=False)",
                              "freeze parameters with p.requires_grad = False")
        self.module = nn.Sequential()
        if name is not None:
            self.module.name = name
        self._input_shape: tuple[int, ...] | None = None
        self.trainer: Trainer | None = None
        self.history: callbacks_module.History | None = None
        self._compile: dict[str, Any] | None = None
        for layer in layers or []:
            self.add(layer)

    @classmethod
    def from_module(cls, module: nn.Sequential) -> "Sequential":
        """A Keras-style model around an existing ``nn.Sequential`` (sharing its layers)."""
        if not isinstance(module, nn.Sequential):
            raise TypeError(f"from_module expected an nn.Sequential, got {type(module).__name__}")
        model = cls()
        model.module = module
        return model

    # ------------------------------------------------------------------ building
    def add(self, layer: Any) -> None:
        """Append a layer (any neuralab module), or set the input shape with ``Input(...)``."""
        if isinstance(layer, InputLayer):
            if len(self.module):
                raise ValueError("Sequential.add: an Input must come before the first layer")
            self._input_shape = tuple(layer.shape[1:])
            return
        if not isinstance(layer, nn.Module):
            raise TypeError(
                f"Sequential.add expected a layer (neuralab.keras.layers.Dense(...) or any "
                f"neuralab module), got {type(layer).__name__}"
            )
        if not len(self.module) and self._input_shape is None:
            shape = getattr(layer, "keras_input_shape", None)
            if shape is None and isinstance(getattr(layer, "in_features", None), int):
                shape = (layer.in_features,)
            self._input_shape = shape
        self.module.add(layer)
        self._build()

    def _build(self) -> None:
        if self._input_shape is not None and not self.built:
            nn.summarize(self.module, self._input_shape)  # one zero sample builds every layer

    @property
    def built(self) -> bool:
        return all(getattr(m, "built", True) for m in self.module.modules())

    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of ``input_shape`` (with the batch axis, as Keras:
        ``model.build((None, 4))``)."""
        self._input_shape = tuple(int(d) for d in tuple(input_shape)[1:])
        self._build()

    def pop(self) -> nn.Module:
        """Remove and return the last layer."""
        layers = self.module.layers
        if not layers:
            raise ValueError("Sequential.pop: the model has no layers")
        kept = nn.Sequential(layers[:-1])
        kept._name = self.module._name
        self.module = kept
        self.trainer = None
        return layers[-1]

    @property
    def layers(self) -> list[nn.Module]:
        """The layers (neuralab modules; ``layer.get_weights()`` as in Keras)."""
        return self.module.layers

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        if index is not None:
            return self.module.layers[index]
        for layer in self.module.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.module.layers]}")

    @property
    def name(self) -> str:
        return self.module.name

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        return nn.summarize(self.module, self._needs_shape("output_shape")).rows[-1].output_shape

    def _needs_shape(self, what: str) -> tuple[int, ...]:
        shape = self._input_shape
        if shape is None:
            first = self.module.layers[0] if len(self.module) else None
            n = getattr(first, "in_features", None)
            if not isinstance(n, int):
                raise ValueError(
                    f"{what}: this model has not been built yet, so its input shape is unknown; "
                    "give the first layer input_dim= or input_shape=, start with "
                    "keras.Input(shape=...), call model.build((None, n_features)) or fit it first"
                )
            shape = (n,)
        return shape

    # ------------------------------------------------------------------ inspection
    def summary(self, line_length: int | None = None, positions: Any = None,
                print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: Any = None) -> None:
        """Keras' table: layer (type), output shape, parameter count; total, trainable and
        non-trainable counts with their size (``nn.Sequential.summary``)."""
        check_defaults("summary", {"line_length": line_length, "positions": positions,
                                   "expand_nested": expand_nested,
                                   "show_trainable": show_trainable, "layer_range": layer_range},
                       {"line_length": None, "positions": None, "expand_nested": False,
                        "show_trainable": False, "layer_range": None})
        self.module.summary(self._needs_shape("summary"), print_fn=print_fn or print)

    def count_params(self) -> int:
        """Every number in the model's weights, trainable or not (Keras' ``count_params``)."""
        return nn.summarize(self.module, self._needs_shape("count_params")).total_params

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's arrays in layer order (Dense: kernel (in, out), bias;
        BatchNormalization: gamma, beta, moving mean, moving variance; Conv2D: kernel
        (kh, kw, in, filters), bias), as Keras: each layer's ``get_weights()`` in turn."""
        return [w for layer in self.module.layers for w in layer.get_weights()]

    def set_weights(self, weights: list[Any]) -> None:
        """Load arrays in the order of :meth:`get_weights` (Keras' order and shapes)."""
        weights = list(weights)
        counts = [len(layer.state_dict()) for layer in self.module.layers]
        if len(weights) != sum(counts):
            raise ValueError(f"set_weights: the model has {sum(counts)} arrays "
                             f"({', '.join(map(str, counts))} per layer), got {len(weights)}")
        start = 0
        for layer, count in zip(self.module.layers, counts):
            if count:
                layer.set_weights(weights[start:start + count])
            start += count

    def __call__(self, x: Any, training: bool = False) -> Tensor:
        was = self.module.training
        self.module.train(bool(training))
        try:
            return self.module(x)
        finally:
            self.module.train(was)

    # ------------------------------------------------------------------ training
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                **kwargs: Any) -> None:
        """Choose the optimizer (a Keras name with Keras' defaults, a Keras or neuralab
        optimizer), the loss (a Keras name, a neuralab loss or function) and the metrics (Keras
        names or functions ``(y_true, y_pred) -> float``)."""
        check_defaults("compile", kwargs, _COMPILE_DEFAULTS)
        if loss is None:
            raise ValueError("compile expected a loss, e.g. loss='sparse_categorical_crossentropy'")
        if isinstance(metrics, dict):
            raise unsupported("compile(metrics={...}) per output", "pass a list of metrics")
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        self._compile = {
            "optimizer": optimizers_module.get(optimizer),
            "loss": losses_module.get(loss),
            "metrics": [metrics_module.get(m) for m in (metrics or [])],
            "names": {"optimizer": optimizer, "loss": loss, "metrics": metrics},
        }
        self.trainer = None
        if self.built and len(self.module):
            self._make_trainer()

    @property
    def optimizer(self) -> Any:
        return None if self._compile is None else self._compile["optimizer"]

    @property
    def loss(self) -> Any:
        return None if self._compile is None else self._compile["loss"]

    @property
    def metrics_names(self) -> list[str]:
        if self.trainer is None:
            return ["loss"] if self._compile else []
        return ["loss", *self.trainer.metrics]

    @property
    def stop_training(self) -> bool:
        return bool(self.trainer is not None and self.trainer.stop_training)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        if self.trainer is not None:
            self.trainer.stop_training = bool(value)

    def _make_trainer(self) -> Trainer:
        if self._compile is None:
            raise RuntimeError("You must call compile() before fit, evaluate or train: "
                               "model.compile(optimizer='adam', loss=..., metrics=[...])")
        if self.trainer is None:
            spec = self._compile["optimizer"]
            if isinstance(spec, _NeuralabOptimizer):
                opt = spec
            else:
                opt = spec.build(self.module.parameters())
            self.trainer = Trainer(self.module, self._compile["loss"], opt,
                                   metrics=list(self._compile["metrics"]))
        return self.trainer

    def _ready(self, x: Any) -> Trainer:
        """Build the layers from ``x``'s shape if needed, then the trainer."""
        if not self.built:
            shape = np.shape(x.data if isinstance(x, Tensor) else x)
            if len(shape) >= 2:
                self._input_shape = tuple(int(d) for d in shape[1:])
                self._build()
        return self._make_trainer()

    def _targets(self, x: Any, y: Any) -> Any:
        """Keras' squeeze-or-expand of targets: a (N,) target of a model with one output column
        becomes (N, 1) for regression and binary losses (class-index targets stay (N,))."""
        task = getattr(self._compile["loss"], "task", None) if self._compile else None
        if y is None or task == "multiclass":
            return y
        arr = y.data if isinstance(y, Tensor) else np.asarray(y)
        if arr.ndim == 1:
            shape = np.shape(x.data if isinstance(x, Tensor) else x)
            out = nn.summarize(self.module, shape[1:]).rows[-1].output_shape
            if out is not None and out[1:] == (1,):
                return arr.reshape(-1, 1)
        return y

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, initial_epoch: int = 0,
            **kwargs: Any) -> callbacks_module.History:
        """``Trainer.fit`` with Keras' arguments; returns a History whose ``.history`` has
        Keras' keys (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ...)."""
        check_defaults("fit", kwargs, _FIT_DEFAULTS, _FIT_HINTS)
        if shuffle == "batch":
            raise unsupported("fit(shuffle='batch')", "shuffle=True shuffles every sample")
        trainer = self._ready(x)
        y = self._targets(x, y)
        if isinstance(validation_data, (tuple, list)):
            if len(validation_data) == 3 and validation_data[2] is not None:
                raise unsupported("validation_data=(x, y, sample_weight)", "pass (x, y)")
            vx, vy = validation_data[0], validation_data[1]
            validation_data = (vx, self._targets(vx, vy))
        cbs = list(callbacks or [])
        for cb in cbs:
            if isinstance(cb, callbacks_module.Callback):
                cb.keras_model = self
        keep_lr = any(cb.sets_learning_rate for cb in cbs if isinstance(cb, _cb.Callback))
        history = trainer.fit(x, y, validation_data=validation_data,
                              validation_split=validation_split, epochs=epochs,
                              batch_size=32 if batch_size is None else batch_size,
                              shuffle=bool(shuffle), callbacks=cbs, verbose=verbose,
                              initial_epoch=initial_epoch)
        self.history = callbacks_module.History(history.history, history.epoch, trainer.params,
                                                self, keep_lr)
        return self.history

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", return_dict: bool = False, **kwargs: Any) -> Any:
        """Loss and metrics in evaluation mode: the loss alone, ``[loss, metric, ...]``, or a
        dict with ``return_dict=True`` (as Keras).  Prints nothing."""
        check_defaults("evaluate", kwargs, {"sample_weight": None, "steps": None,
                                            "callbacks": None})
        trainer = self._ready(x)
        logs = trainer.evaluate(x, self._targets(x, y), batch_size=batch_size)
        if return_dict:
            return logs
        values = [logs["loss"], *(logs[name] for name in trainer.metrics)]
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                **kwargs: Any) -> np.ndarray:
        """The outputs for ``x`` in evaluation mode (no compile needed, as Keras)."""
        check_defaults("predict", kwargs, {"steps": None, "callbacks": None})
        if self._compile is not None:
            return self._ready(x).predict(x, batch_size=batch_size)
        if not self.built:
            self._ready_shape(x)
        was = self.module.training
        self.module.eval()
        try:
            with no_grad():
                return self.module(np.asarray(x, dtype=np.float32)).data
        finally:
            self.module.train(was)

    def _ready_shape(self, x: Any) -> None:
        self._input_shape = tuple(int(d) for d in np.shape(x)[1:])
        self._build()

    # ------------------------------------------------------------------ saving
    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Write the model in neuralab's safetensors format (``neuralab.save``: weights, the
        architecture as JSON, and the compile settings given by name), never pickle."""
        path = callbacks_module._safetensors_path(filepath, "save")
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"save: {path} exists and overwrite=False")
        metadata = {}
        if self._compile is not None:
            metadata[COMPILE_KEY] = json.dumps(_compile_config(self._compile))
        _save(self.module, path, metadata=metadata)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """The weights alone (``state_dict``) as safetensors."""
        path = callbacks_module._safetensors_path(filepath, "save_weights")
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"save_weights: {path} exists and overwrite=False")
        write_safetensors(path, self.module.state_dict())

    def load_weights(self, filepath: Any) -> None:
        """Load weights written by :meth:`save_weights` (or a saved model's file)."""
        arrays, _ = read_safetensors(os.fspath(filepath))
        self.module.load_state_dict(arrays)

    def __repr__(self) -> str:
        return f"<neuralab.keras Sequential {self.name!r}, {len(self.module)} layers>"


def _compile_config(spec: dict[str, Any]) -> dict[str, Any]:
    """The compile settings that can be written as JSON: names, and Keras optimizer configs."""
    names = spec["names"]
    opt = spec["optimizer"]
    out: dict[str, Any] = {}
    if isinstance(opt, optimizers_module.Optimizer):
        out["optimizer"] = {"class": type(opt).__name__, "config": opt.get_config()}
    if isinstance(names["loss"], str):
        out["loss"] = names["loss"]
    metrics = names["metrics"] or []
    if all(isinstance(m, str) for m in metrics):
        out["metrics"] = list(metrics)
    return out


def load_model(filepath: Any, custom_objects: Any = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True) -> Sequential:
    """Read a model written by :meth:`Sequential.save` (or ``neuralab.save`` of an
    ``nn.Sequential``); compiled again with the saved settings when they were given by name
    (the optimizer starts afresh: its state is not saved)."""
    if custom_objects is not None:
        raise unsupported("load_model(custom_objects=...)",
                          "register custom layers with @neuralab.nn.register before loading")
    path = os.fspath(filepath)
    module = _load(path)
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"load_model: {path} holds a {type(module).__name__}, not a Sequential; "
                        "load it with neuralab.load")
    model = Sequential.from_module(module)
    _, metadata = read_safetensors(path)
    saved = json.loads(metadata.get(COMPILE_KEY, "{}"))
    if compile and "loss" in saved:
        opt = saved.get("optimizer")
        optimizer = (optimizers_module.from_config(opt["class"], opt["config"])
                     if opt else "rmsprop")
        model.compile(optimizer=optimizer, loss=saved["loss"], metrics=saved.get("metrics"))
    return model


def Model(*args: Any, **kwargs: Any) -> Any:  # noqa: N802
    raise unsupported("keras.Model (the functional API and subclassed models)",
                      "use Sequential, or write the model as a neuralab nn.Module subclass and "
                      "train it with neuralab.train.Trainer")


def __getattr__(name: str) -> Any:
    raise missing_name("neuralab.keras.models", name, ["Sequential", "load_model"],
                       "see neuralab.nn for models")


__all__ = ["Model", "Sequential", "load_model"]
