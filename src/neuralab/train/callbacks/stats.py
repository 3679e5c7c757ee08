"""Instruments for the labs: gradient and activation statistics per layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd import Tensor, no_grad
from ...nn import Module
from ..protocol import Callback


# ---------------------------------------------------------------------- statistics for the labs
def _layer_labels(model: Module, paths: list[str]) -> dict[str, str]:
    """Readable labels for module paths: the module's ``name`` ("dense_1") when unique among
    ``paths``, else the dotted path."""
    modules = dict(model.named_modules()) if hasattr(model, "named_modules") else {}
    names = {}
    for path in paths:
        module = modules.get(path)
        names[path] = getattr(module, "name", None) or path or "model"
    counts: dict[str, int] = {}
    for label in names.values():
        counts[label] = counts.get(label, 0) + 1
    return {
        path: (label if counts[label] == 1 else (path or "model"))
        for path, label in names.items()
    }


class GradientStats(Callback):
    """Per-layer and per-parameter gradient L2 norms, averaged over the batches of every epoch:
    the measurement behind the vanishing/exploding-gradient lab (기울기 소실/폭발).

    For parameter ``p`` the norm of one batch is ``||dL/dp||_2 = sqrt(sum_i (dL/dp_i)^2)``,
    taken after ``backward()`` and before the optimizer's update; a layer's norm joins all its
    parameters, ``sqrt(sum over p in layer ||dL/dp||^2)``.  Every ``every``-th batch is measured.

    Records, ready to plot (one entry per epoch)::

        stats.norms["dense"]            # per layer (keys: layer names in forward order)
        stats.param_norms["0.weight"]   # per parameter (dotted names of named_parameters)
        stats.epochs                    # the 0-based epochs of the entries

    >>> stats = GradientStats()
    >>> trainer.fit(x, y, epochs=20, callbacks=[stats])
    >>> for layer, norms in stats.norms.items(): plt.semilogy(norms, label=layer)
    """

    def __init__(self, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(
                f"GradientStats expected a positive integer for `every`, got {every!r}"
            )
        self.every = int(every)
        self.norms: dict[str, list[float]] = {}
        self.param_norms: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        named = list(self.model.named_parameters())
        self._params = [p for _, p in named]
        self._names = [n for n, _ in named]
        owners = [n.rpartition(".")[0] for n in self._names]
        order = list(dict.fromkeys(owners))
        labels = _layer_labels(self.model, order)
        self._layer_of = np.array([order.index(o) for o in owners], dtype=np.intp)
        self._layer_names = [labels[o] for o in order]
        for name in self._names:
            self.param_norms.setdefault(name, [])
        for name in self._layer_names:
            self.norms.setdefault(name, [])

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._sum_param = np.zeros(len(self._params))
        self._sum_layer = np.zeros(len(self._layer_names))
        self._count = 0

    def on_after_backward(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if batch % self.every:
            return
        sq = np.empty(len(self._params))
        for i, p in enumerate(self._params):
            g = p.grad
            if g is None:
                sq[i] = np.nan
            else:
                flat = g.reshape(-1)
                sq[i] = float(np.dot(flat, flat))
        self._sum_param += np.sqrt(sq)
        self._sum_layer += np.sqrt(np.bincount(self._layer_of, weights=sq,
                                               minlength=len(self._layer_names)))
        self._count += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._count:
            return
        self.epochs.append(int(epoch))
        for name, total in zip(self._names, self._sum_param, strict=True):
            self.param_norms[name].append(float(total / self._count))
        for name, total in zip(self._layer_names, self._sum_layer, strict=True):
            self.norms[name].append(float(total / self._count))

    def state_dict(self) -> dict[str, Any]:
        return {"norms": self.norms, "param_norms": self.param_norms, "epochs": self.epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.norms = {k: list(v) for k, v in state["norms"].items()}
        self.param_norms = {k: list(v) for k, v in state["param_norms"].items()}
        self.epochs = [int(e) for e in state["epochs"]]


def collect_activations(model: Module, x: np.ndarray | Tensor) -> dict[str, np.ndarray]:
    """The output of every layer of a Sequential model for inputs ``x``, in evaluation mode and
    without a graph: ``{layer name: array (N, ...)}`` in forward order (layers that only pass
    values through, ``passes_values_through``: Dropout, Flatten, Identity, are left out).  For
    activation histograms (the initialization lab).  Built on ``Sequential.trace``.

    >>> acts = collect_activations(model, x[:1000])
    >>> for i, (name, a) in enumerate(acts.items()): axes[i].hist(a.ravel(), bins=30)
    """
    trace = getattr(model, "trace", None)
    if trace is None:
        raise TypeError(
            f"collect_activations needs a Sequential model (with `.trace`), got "
            f"{type(model).__name__}"
        )
    was_training = getattr(model, "training", True)
    model.eval()
    try:
        with no_grad():
            steps = trace(x)
    finally:
        if was_training:
            model.train()
    labels = _layer_labels(model, [step.path for step in steps])
    return {
        labels[step.path]: np.asarray(_data(step.output))
        for step in steps
        if not step.layer.passes_values_through
    }


def _data(x: Any) -> Any:
    return x.data if hasattr(x, "data") else x


class ActivationStats(Callback):
    """Per-layer activation mean, standard deviation and dead-unit fraction on a fixed probe
    batch, measured in evaluation mode at the start of training (``initial``) and after every
    epoch: the measurements of the weight-initialization lab (가중치 초기화).

    For the output ``h`` (N samples x units) of a layer: ``mean = mean(h)``, ``std = std(h)``
    over all values, and ``dead_fraction`` = the fraction of units with ``h <= 0`` for every
    probe sample (ReLU units that never fire; 0 for sigmoid outputs).  For outputs with more
    axes, each value of a sample counts as a unit.

    The probe batch is ``probe`` or, if None, the first ``probe_size`` training samples (array
    data, or the arrays behind a ``DataLoader`` over an ``ArrayDataset``).

    Records (one entry per epoch, keys are layer names in forward order)::

        stats.mean["dense"], stats.std["dense"], stats.dead_fraction["dense"]
        stats.initial["std"]["dense"]            # before the first update
        stats.epochs

    >>> stats = ActivationStats()
    >>> trainer.fit(x, y, epochs=10, callbacks=[stats])
    >>> plt.plot(stats.dead_fraction["dense"])
    """

    def __init__(self, probe: np.ndarray | Tensor | None = None, probe_size: int = 256) -> None:
        self.probe = None if probe is None else np.asarray(getattr(probe, "data", probe))
        if self.probe is not None and self.probe.dtype.kind == "f":
            self.probe = self.probe.astype(np.float32, copy=False)
        self.probe_size = int(probe_size)
        self.mean: dict[str, list[float]] = {}
        self.std: dict[str, list[float]] = {}
        self.dead_fraction: dict[str, list[float]] = {}
        self.initial: dict[str, dict[str, float]] = {}
        self.epochs: list[int] = []

    def _probe_batch(self) -> np.ndarray:
        if self.probe is not None:
            return self.probe
        probe = self.trainer.training_inputs(self.probe_size)
        if probe is None:
            raise ValueError(
                "ActivationStats could not take a probe batch from the training data; pass one: "
                "ActivationStats(probe=x_train[:256])"
            )
        return probe

    @staticmethod
    def measure(model: Module, x: np.ndarray | Tensor) -> dict[str, dict[str, float]]:
        """``{"mean": {layer: m}, "std": {...}, "dead_fraction": {...}}`` for inputs ``x``."""
        stats: dict[str, dict[str, float]] = {"mean": {}, "std": {}, "dead_fraction": {}}
        for name, h in collect_activations(model, x).items():
            flat = h.reshape(len(h), -1)
            stats["mean"][name] = float(flat.mean())
            stats["std"][name] = float(flat.std())
            stats["dead_fraction"][name] = float(np.mean(np.all(flat <= 0, axis=0)))
        return stats

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._probe = self._probe_batch()
        self.initial = self.measure(self.model, self._probe)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        stats = self.measure(self.model, self._probe)
        self.epochs.append(int(epoch))
        for key, record in (("mean", self.mean), ("std", self.std),
                            ("dead_fraction", self.dead_fraction)):
            for name, value in stats[key].items():
                record.setdefault(name, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "dead_fraction": self.dead_fraction,
                "initial": self.initial, "epochs": self.epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = {k: list(v) for k, v in state["mean"].items()}
        self.std = {k: list(v) for k, v in state["std"].items()}
        self.dead_fraction = {k: list(v) for k, v in state["dead_fraction"].items()}
        self.initial = {k: dict(v) for k, v in state["initial"].items()}
        self.epochs = [int(e) for e in state["epochs"]]
