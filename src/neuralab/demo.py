"""The main job behind ``make demo``: the lecture's XOR practical trained by backpropagation."""

from __future__ import annotations

import numpy as np

from . import tensor
from .autograd.ops import linear, mean, sigmoid, tanh
from .random import seed as set_seed


def train_xor(seed: int = 0, epochs: int = 2000, lr: float = 1.0, hidden: int = 8) -> dict:
    """Train a 2-``hidden``-1 network on XOR with plain gradient descent written on Tensors.

    Forward: h = tanh(X W1 + b1), p = sigmoid(h W2 + b2); loss = mean squared error.
    Each epoch: forward, loss, backward, then w <- w - lr * dL/dw for every weight.
    """
    rng = set_seed(seed)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    w1 = tensor(rng.normal(0, 1, (2, hidden)), requires_grad=True)
    b1 = tensor(np.zeros(hidden), requires_grad=True)
    w2 = tensor(rng.normal(0, 1, (hidden, 1)), requires_grad=True)
    b2 = tensor(np.zeros(1), requires_grad=True)
    params = [w1, b1, w2, b2]
    losses = []
    for _ in range(epochs):
        p = sigmoid(linear(tanh(linear(x, w1, b1)), w2, b2))
        loss = mean((p - y) ** 2)
        for w in params:
            w.grad = None
        loss.backward()
        for w in params:
            w.data -= lr * w.grad
        losses.append(loss.item())
    p = sigmoid(linear(tanh(linear(x, w1, b1)), w2, b2)).data
    return {"inputs": x, "targets": y, "outputs": p, "losses": losses}


def run_demo(seed: int = 0, epochs: int = 2000) -> int:
    result = train_xor(seed=seed, epochs=epochs)
    print("XOR with a 2-8-1 network trained by backpropagation (neuralab autograd)")
    print(f"loss: epoch 1 {result['losses'][0]:.4f} -> epoch {epochs} {result['losses'][-1]:.4f}")
    correct = 0
    for x, t, p in zip(result["inputs"], result["targets"], result["outputs"]):
        label = int(p[0] > 0.5)
        correct += label == int(t[0])
        print(f"  x = {x.astype(int).tolist()}  target {int(t[0])}  output {p[0]:.3f}  -> {label}")
    print(f"accuracy: {correct}/4")
    return 0 if correct == 4 else 1
