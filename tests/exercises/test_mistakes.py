"""Each hint catches the mistake it names: a reference solution with one deliberate mistake (a
source-text edit) fails exactly the check of that hint, and no other check."""

from __future__ import annotations

import pytest

from neuralab import exercises

# (exercise, the hint expected, text of the reference solution, what the student wrote instead)
MISTAKES = [
    ("mcp-gates", "mcp-threshold", "x @ weights >= threshold", "x @ weights > threshold"),
    ("mcp-gates", "and-gate", "np.array([1, 1]), 2)", "np.array([1, 1]), 1)"),
    ("mcp-gates", "or-gate", "np.array([1, 1]), 1)", "np.array([1, 1]), 2)"),
    ("mcp-gates", "not-gate", "np.array([-1]), 0)", "np.array([1]), 0)"),
    ("perceptron-rule", "predict-step", "return (X @ w + b >= 0).astype(int)",
     "return X @ w + b"),
    ("perceptron-rule", "update-sign", "error = y - predict(x[None, :], w, b)[0]",
     "error = predict(x[None, :], w, b)[0] - y"),
    ("perceptron-rule", "update-bias", "b + eta * error", "b"),
    ("perceptron-rule", "train-fits-separable", "for _ in range(epochs):", "for _ in range(1):"),
    ("activations", "step-values", "return (x > 0).astype(float)",
     "return (x >= 0).astype(float)"),
    ("activations", "sigmoid-values", "return 1.0 / (1.0 + np.exp(-x))",
     "return 1.0 / (1.0 + np.exp(x))"),
    ("activations", "sigmoid-derivative-factor", "return y * (1.0 - y)", "return y"),
    ("activations", "tanh-derivative", "return 1.0 - np.tanh(x) ** 2",
     "return 1.0 - np.tanh(x)"),
    ("activations", "relu-elementwise", "return np.maximum(0.0, x)", "return max(0.0, x)"),
    ("activations", "relu-derivative", "return np.where(x > 0, 1.0, 0.0)",
     "return np.maximum(0.0, x)"),
    ("softmax-cross-entropy", "softmax-rows", "e.sum(axis=1, keepdims=True)", "e.sum(axis=0)"),
    ("softmax-cross-entropy", "softmax-overflow", "np.exp(z - z.max(axis=1, keepdims=True))",
     "np.exp(z)"),
    ("softmax-cross-entropy", "log-softmax-underflow",
     "shifted = z - z.max(axis=1, keepdims=True)\n    return shifted - "
     "np.log(np.exp(shifted).sum(axis=1, keepdims=True))", "return np.log(softmax(z))"),
    ("softmax-cross-entropy", "cross-entropy-mean",
     "-np.mean(log_softmax(z)[np.arange(len(labels)), labels])",
     "-np.sum(log_softmax(z)[np.arange(len(labels)), labels])"),
    ("softmax-cross-entropy", "cross-entropy-large-logits", "-np.mean(log_softmax(z)[",
     "-np.mean(np.log(softmax(z))["),
    ("softmax-cross-entropy", "gradient-single", "return (softmax(z) - one_hot) / len(labels)",
     "return softmax(z) / len(labels)"),
    ("softmax-cross-entropy", "gradient-mean", "return (softmax(z) - one_hot) / len(labels)",
     "return softmax(z) - one_hot"),
    ("numerical-gradient", "central-difference", "(f(x + h) - f(x - h)) / (2 * h)",
     "(f(x + h) - f(x)) / h"),
    ("numerical-gradient", "gradient-every-element", "flat, g = x.reshape(-1), grad.reshape(-1)",
     "flat, g = x, grad"),
    ("numerical-gradient", "restores-input", "        flat[i] = original\n", ""),
    ("dense-layer", "forward-weighted-sum", "return x @ W + b", "return x @ W.T + b"),
    ("dense-layer", "forward-bias", "return x @ W + b", "return x @ W"),
    ("dense-layer", "backward-dx", "dy @ W.T,", "dy @ W,"),
    ("dense-layer", "backward-dW", "x.T @ dy,", "dy.T @ x,"),
    ("dense-layer", "backward-db", "dy.sum(axis=0)", "dy.mean(axis=0)"),
    ("xor-backprop", "sigmoid", "return 1.0 / (1.0 + np.exp(-z))",
     "return 1.0 / (1.0 + np.exp(z))"),
    ("xor-backprop", "sigmoid-derivative-factor", "return y * (1.0 - y)", "return y"),
    ("xor-backprop", "forward", "h = sigmoid(X @ W1 + b1)", "h = sigmoid(X @ W1)"),
    ("xor-backprop", "loss-mean", "np.mean((y_hat - y) ** 2)", "np.sum((y_hat - y) ** 2)"),
    ("xor-backprop", "loss-grad-mean", "2.0 * (y_hat - y) / y_hat.size", "2.0 * (y_hat - y)"),
    ("xor-backprop", "backward-output-layer", "delta2 = d_y_hat * sigmoid_grad(y_hat)",
     "delta2 = d_y_hat"),
    ("xor-backprop", "backward-output-layer", "dW2 = h.T @ delta2", "dW2 = (delta2.T @ h).T.T"),
    ("xor-backprop", "backward-hidden-layer", "delta1 = (delta2 @ W2.T) * sigmoid_grad(h)",
     "delta1 = delta2 @ W2.T"),
    ("xor-backprop", "train-fits-xor", "W1 -= lr * dW1", "W1 += lr * dW1"),
    ("sgd-momentum", "plain-sgd", "v_new = momentum * v - lr * grad",
     "v_new = momentum * v + lr * grad"),
    ("sgd-momentum", "velocity-update", "v_new = momentum * v - lr * grad",
     "v_new = v - lr * grad"),
    ("sgd-momentum", "position-update", "return w + v_new, v_new", "return w + v - lr * grad, v_new"),
    ("adam", "first-moment", "m = beta1 * m + (1 - beta1) * grad", "m = beta1 * m + grad"),
    ("adam", "second-moment", "(1 - beta2) * grad ** 2", "(1 - beta2) * grad"),
    ("adam", "adam-bias-correction", "m_hat = m / (1 - beta1 ** t)", "m_hat = m"),
    ("adam", "matches-optim-adam", "m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
     "m / (1 - beta1)\n    v_hat = v / (1 - beta2)"),
    ("weight-init", "xavier-shape", "size=(fan_in, fan_out))\n\n\ndef he",
     "size=(fan_out, fan_in))\n\n\ndef he"),
    ("weight-init", "xavier-limit", "np.sqrt(6.0 / (fan_in + fan_out))",
     "np.sqrt(1.0 / fan_in)"),
    ("weight-init", "he-std", "np.sqrt(2.0 / fan_in)", "2.0 / fan_in"),
    ("weight-init", "uses-rng", "rng.normal(0.0,", "np.random.normal(0.0,"),
    ("dropout", "drop-rate", "(rng.random(x.shape) >= p) /", "(rng.random(x.shape) < p) /"),
    ("dropout", "dropout-rescale", "(rng.random(x.shape) >= p) / (1.0 - p)",
     "(rng.random(x.shape) >= p) * 1.0"),
    ("dropout", "eval-identity", "if not training:", "if False:"),
    ("dropout", "uses-rng", "rng.random(x.shape)", "np.random.random(x.shape)"),
    ("dropout", "backward-mask", "return dy * mask", "return dy"),
    ("batch-norm", "train-normalizes", "mu = x.mean(axis=0)\n        var = x.var(axis=0)",
     "mu = x.mean(axis=1, keepdims=True)\n        var = x.var(axis=1, keepdims=True)"),
    ("batch-norm", "running-stats", "(1 - momentum) * state[\"mean\"] + momentum * mu",
     "momentum * state[\"mean\"] + (1 - momentum) * mu"),
    ("batch-norm", "eval-running-stats", "mu, var = state[\"mean\"], state[\"var\"]",
     "mu, var = x.mean(axis=0), x.var(axis=0)"),
    ("batch-norm", "eval-leaves-state",
     "    else:\n        mu, var = state[\"mean\"], state[\"var\"]",
     "    else:\n        mu, var = state[\"mean\"], state[\"var\"]\n"
     "        state[\"mean\"] = 0.5 * state[\"mean\"]"),
    ("batch-norm", "backward-dx",
     "dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))",
     "dx = inv_std * dx_hat"),
    ("batch-norm", "backward-dgamma-dbeta", "dgamma = (dy * x_hat).sum(axis=0)",
     "dgamma = (dy * x_hat).mean(axis=0)"),
    ("l2-weight-decay", "penalty-value", "np.sum(w ** 2)", "np.sum(np.abs(w))"),
    ("l2-weight-decay", "penalty-all-layers", "sum(np.sum(w ** 2) for w in weights)",
     "np.sum(weights[0] ** 2)"),
    ("l2-weight-decay", "penalty-gradient", "return 2 * lam * w", "return lam * w"),
    ("l2-weight-decay", "weight-decay-step", "w - lr * (grad + weight_decay * w)",
     "w - lr * (grad - weight_decay * w)"),
    ("kfold-split", "folds-partition", "folds = np.array_split(order, k)",
     "folds = [order[i * (n // k):(i + 1) * (n // k)] for i in range(k)]"),
    ("kfold-split", "train-excludes-val", "(np.concatenate(folds[:i] + folds[i + 1:]), folds[i])",
     "(np.concatenate(folds), folds[i])"),
    ("kfold-split", "shuffled-by-rng", "order = rng.permutation(n)", "order = np.arange(n)"),
    ("kfold-split", "scaler-fit-on-train",
     "mean = X_train.mean(axis=0)\n    std = X_train.std(axis=0)",
     "both = np.concatenate([X_train, X_val])\n    mean, std = both.mean(axis=0), "
     "both.std(axis=0)"),
]


def _variant(name: str, old: str, new: str) -> str:
    source = exercises.solution_path(name).read_text(encoding="utf-8")
    assert source.count(old) == 1, f"{name}: {old!r} is not once in the reference solution"
    return source.replace(old, new)


def test_there_are_enough_mistakes_and_every_exercise_has_some():
    assert len(MISTAKES) >= 30
    assert {m[0] for m in MISTAKES} == set(exercises.names())


@pytest.mark.parametrize("name, hint, old, new", MISTAKES,
                         ids=[f"{m[0]}:{m[1]}:{i}" for i, m in enumerate(MISTAKES)])
def test_a_mistake_fails_with_exactly_its_hint(tmp_path, name, hint, old, new):
    path = tmp_path / "student.py"
    path.write_text(_variant(name, old, new), encoding="utf-8")
    report = exercises.check_file(path)
    assert report.failed_hints == [hint], report.text()
    failed = [r for r in report.results if r.id == hint][0]
    assert failed.hint and failed.message
