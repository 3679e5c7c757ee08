"""The main job behind ``make demo`` (``neuralab demo``): the lecture's practicals end to end.

1. The MCP neuron and the perceptron: logic gates, and the perceptron's failure on XOR.
2. XOR learned by a 2-4-1 network trained with backpropagation.
3. The iris practical: split, scale, ``Dense(64, relu) + Dense(3, softmax)`` (515 parameters),
   training with validation and early stopping, test evaluation, save and reload.

Everything it writes (model, history, figure) goes to one run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, optim
from ..data import StandardScaler, load_iris, train_test_split
from ..data.datasets import make_xor
from ..io import figures, load, save, write_json
from ..random import seed as set_seed
from ..train import EarlyStopping, Trainer
from ..train.metrics import confusion_matrix


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 72 - len(title)))


def classic_neurons() -> bool:
    _section("1. MCP neuron and perceptron (맥컬록-피츠 뉴런, 퍼셉트론)")
    gates = {"AND": nn.classic.MCPNeuron.AND(), "OR": nn.classic.MCPNeuron.OR()}
    x, y_xor = make_xor()
    x = np.asarray(x)
    for name, gate in gates.items():
        print(
            f"  MCP {name:<3} gate: {[int(v) for v in gate(x)]}   "
            f"for inputs {x.astype(int).tolist()}"
        )
    ok = True
    for name, target in (
        ("AND", (x[:, 0] * x[:, 1]).astype(int)),
        ("XOR", np.asarray(y_xor).ravel().astype(int)),
    ):
        p = nn.classic.Perceptron(lr=0.1, epochs=50, rng=0).fit(x, target)
        status = "converged" if p.converged_ else "did NOT converge (not linearly separable)"
        print(
            f"  perceptron on {name}: {status} after {len(p.errors_)} epochs; "
            f"errors per epoch ...{p.errors_[-5:]}"
        )
        ok &= p.converged_ == (name == "AND")
    return ok


def xor_mlp(seed: int) -> bool:
    _section("2. XOR with a 2-4-1 network and backpropagation (오차 역전파)")
    set_seed(seed)
    x, y = make_xor()
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    model = nn.Sequential([nn.Dense(4, activation="tanh", input_dim=2), nn.Dense(1)])
    trainer = Trainer(
        model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.05), metrics=["accuracy"]
    )
    history = trainer.fit(x, y, epochs=500, batch_size=4, verbose=0)
    proba = trainer.predict_proba(x)[:, 1]  # columns [1 - p, p], as scikit-learn
    for xi, ti, pi in zip(np.asarray(x), y.ravel(), proba):
        print(f"  x = {xi.astype(int).tolist()}  target {int(ti)}  p = {pi:.3f}")
    print(
        f"  loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.4f}; "
        f"accuracy {history.history['accuracy'][-1]:.0%}"
    )
    return bool(np.all((proba > 0.5) == (y.ravel() > 0.5)))


def iris(seed: int, out_dir: Path, epochs: int) -> bool:
    _section("3. Iris classification, the lecture's Keras model")
    set_seed(seed)
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, rng=3)
    scaler = StandardScaler().fit(X_train)  # statistics of the training part only
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    print(f"  {len(X_train)} training and {len(X_test)} test samples, 4 features, 3 classes")

    model = nn.Sequential(
        [nn.Dense(64, activation="relu", input_dim=4), nn.Dense(3, activation="softmax")]
    )
    model.summary()
    trainer = Trainer(
        model, nn.CrossEntropyLoss(from_logits=False), optim.Adam(model.parameters(), lr=0.01)
    )
    stopper = EarlyStopping(patience=10, restore_best_weights=True)
    history = trainer.fit(
        X_train,
        y_train,
        validation_split=0.2,
        epochs=epochs,
        batch_size=16,
        callbacks=[stopper],
        verbose=2,
    )
    result = trainer.evaluate(X_test, y_test)
    print(
        f"  best epoch {stopper.best_epoch + 1} (val_loss {min(history.history['val_loss']):.4f}); "
        f"test loss {result['loss']:.4f}, test accuracy {result['accuracy']:.1%}"
    )
    print("  confusion matrix (rows: true class, columns: predicted):")
    cm = confusion_matrix(y_test, trainer.predict_classes(X_test))
    for row in np.asarray(cm):
        print("    " + " ".join(f"{v:3d}" for v in row))

    out_dir.mkdir(parents=True, exist_ok=True)
    path = save(model, out_dir / "iris.safetensors")
    reloaded = load(path)
    same = np.array_equal(reloaded(X_test).data, model(X_test).data)
    print(f"  saved to {path} and reloaded: predictions identical = {same}")
    write_json(out_dir / "iris_history.json", history.history)
    figure = _plot_history(history.history, out_dir / "iris_history.png")
    if figure:
        print(f"  learning curves: {figure}")
    return result["accuracy"] >= 0.9 and same


def _plot_history(h: dict[str, Any], path: Path) -> Path | None:
    try:
        plt = figures.pyplot()
    except ImportError:  # the core needs only NumPy; figures need the [lab] extra
        print("  (matplotlib not installed: pip install 'neuralab[lab]' for the figure)")
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = np.arange(1, len(h["loss"]) + 1)
    ax1.plot(epochs, h["loss"], label="train")
    ax1.plot(epochs, h["val_loss"], label="validation")
    ax1.set(xlabel="epoch", ylabel="loss", title="loss")
    ax2.plot(epochs, h["accuracy"], label="train")
    ax2.plot(epochs, h["val_accuracy"], label="validation")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return figures.save(fig, path)


def run_demo(seed: int = 0, epochs: int = 200, out_dir: str | Path = "runs/demo") -> int:
    """Run the three practicals; 0 when every one shows what the lecture says, else 1."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"demo expected a positive integer for --epochs, got {epochs!r}")
    out = Path(out_dir)
    results = {
        "classic neurons": classic_neurons(),
        "XOR network": xor_mlp(seed),
        "iris": iris(seed, out, epochs),
    }
    _section("summary")
    for name, ok in results.items():
        print(f"  {name:<16} {'ok' if ok else 'FAILED'}")
    return 0 if all(results.values()) else 1
