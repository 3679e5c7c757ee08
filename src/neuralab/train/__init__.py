"""neuralab.train: the training loop (:class:`Trainer`), callbacks, metrics and checkpoints.

>>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2))
>>> history = trainer.fit(x, y, validation_split=0.2, epochs=100,
...                       callbacks=[EarlyStopping(patience=10, restore_best_weights=True)])
>>> history.history["val_loss"][-1], trainer.evaluate(x_test, y_test)
"""

from . import callbacks, metrics, search
from .callbacks import (
    ActivationStats,
    BackupAndRestore,
    Callback,
    CSVLogger,
    EarlyStopping,
    GradientStats,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    MonitorCallback,
    ProgressBar,
    RunProgress,
    ReduceLROnPlateau,
    TerminateOnNaN,
    collect_activations,
)
from .backend import LocalBackend, RayBackend
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .metrics import get_metric
from .search import (
    Choice, GridSearch, IntUniform, LogUniform, RandomSearch, SuccessiveHalving, Uniform,
)
from .trainer import Trainer

__all__ = [
    "ActivationStats", "BackupAndRestore", "CSVLogger", "Callback", "CheckpointError",
    "EarlyStopping",
    "GradientStats", "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
    "MonitorCallback",
    "ProgressBar", "ReduceLROnPlateau", "RunProgress", "TerminateOnNaN", "Trainer", "callbacks",
    "collect_activations", "get_metric", "load_checkpoint", "metrics", "read_checkpoint",
    "save_checkpoint", "search", "Choice", "GridSearch", "IntUniform", "LogUniform",
    "RandomSearch", "Uniform", "SuccessiveHalving", "LocalBackend", "RayBackend",
]
