"""Adam (아담 옵티마이저): momentum plus per-weight step sizes, with bias correction.

With gradient g at step t = 1, 2, ... and moments m, v that start at zero:

    m <- beta1 m + (1 - beta1) g            first moment (a running mean of g)
    v <- beta2 v + (1 - beta2) g^2          second moment (a running mean of g squared)
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)     bias correction
    w <- w - lr m_hat / (sqrt(v_hat) + eps)

Write one step; it returns the new (w, m, v) and must not change its arguments.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "adam"


def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """Step number t (1 for the first): return (w_new, m_new, v_new)."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
