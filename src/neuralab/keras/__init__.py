"""The lecture's Keras code on neuralab: change ``tensorflow.keras`` (or ``tf.keras``) to
``neuralab.keras`` and the rest runs as printed.

A thin adapter onto neuralab's own classes, nothing implemented twice: ``Sequential`` wraps an
``nn.Sequential`` (``model.module``) and a ``train.Trainer`` (``model.trainer``); the layers are
neuralab layers with Keras' arguments and names; optimizers, losses, metrics, callbacks,
initializers and regularizers map Keras' names and defaults onto neuralab's.  Anything not mapped
raises an error naming the Keras feature and the neuralab way to do it.  NumPy only: neither
Keras nor TensorFlow is needed.  See docs/keras.md.

>>> from neuralab.keras.models import Sequential
>>> from neuralab.keras.layers import Dense
>>> model = Sequential()
>>> model.add(Dense(8, input_dim=4, activation='relu'))
>>> model.add(Dense(3, activation='softmax'))
>>> model.summary()
"""

from . import callbacks, initializers, layers, losses, metrics, models, optimizers, regularizers
from . import utils
from ._util import UnsupportedKerasFeature
from .layers import Input
from .models import Model, Sequential, load_model

__all__ = [
    "Input", "Model", "Sequential", "UnsupportedKerasFeature", "callbacks", "initializers",
    "layers", "load_model", "losses", "metrics", "models", "optimizers", "regularizers", "utils",
]
