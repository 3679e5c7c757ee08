"""XOR by hand-written backpropagation in NumPy (오차 역전파; the lecture's practical).

A 2-4-1 network with sigmoid activations learns XOR, which no single perceptron can:

    h     = sigmoid(X W1 + b1)          X (4, 2), W1 (2, H), b1 (H,)   hidden layer (은닉층)
    y_hat = sigmoid(h W2 + b2)          W2 (H, 1), b2 (1,)             output layer (출력층)
    L     = mean((y_hat - y) ** 2)      over all N samples             loss (손실함수)

Write the forward pass (순전파), the loss and its gradient, the backward pass (역전파) by the
chain rule (연쇄법칙): at each layer, upstream gradient x local derivative, and the training loop
of gradient descent (경사하강법).  Use NumPy only (no neuralab, no autograd).

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "xor-backprop"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)  # the four inputs
Y = np.array([[0], [1], [1], [0]], dtype=float)  # XOR of each


def sigmoid(z):
    """1 / (1 + e^(-z)), elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_grad(y):
    """The sigmoid's derivative, written with its output y = sigmoid(z): d y / d z."""
    return y * (1.0 - y)


def forward(X, W1, b1, W2, b2):
    """The forward pass: return (h, y_hat), the hidden layer's and the output's activations."""
    h = sigmoid(X @ W1 + b1)
    y_hat = sigmoid(h @ W2 + b2)
    return h, y_hat


def loss(y_hat, y):
    """The mean squared error over all entries: mean((y_hat - y)^2)."""
    return np.mean((y_hat - y) ** 2)


def loss_grad(y_hat, y):
    """d loss / d y_hat, an array of y_hat's shape."""
    return 2.0 * (y_hat - y) / y_hat.size


def backward(X, h, y_hat, d_y_hat, W2):
    """The backward pass from d_y_hat = d loss / d y_hat: return (dW1, db1, dW2, db2), the
    gradients of the loss, each of its parameter's shape."""
    delta2 = d_y_hat * sigmoid_grad(y_hat)
    dW2 = h.T @ delta2
    db2 = delta2.sum(axis=0)
    delta1 = (delta2 @ W2.T) * sigmoid_grad(h)
    dW1 = X.T @ delta1
    db1 = delta1.sum(axis=0)
    return dW1, db1, dW2, db2


def train(X, y, hidden=4, lr=2.0, epochs=3000, seed=0):
    """Gradient descent on the whole batch for `epochs` steps; return (W1, b1, W2, b2).

    Start from rng = np.random.default_rng(seed): W1 = rng.normal(size=(2, hidden)), then
    W2 = rng.normal(size=(hidden, 1)), and zero biases.  Each step: forward, loss_grad,
    backward, then every parameter moves by -lr times its gradient."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(X.shape[1], hidden))
    W2 = rng.normal(size=(hidden, 1))
    b1 = np.zeros(hidden)
    b2 = np.zeros(1)
    for _ in range(epochs):
        h, y_hat = forward(X, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = backward(X, h, y_hat, loss_grad(y_hat, y), W2)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    return W1, b1, W2, b2
