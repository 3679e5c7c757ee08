"""SGD with momentum (모멘텀), in the lecture's book's form.

Plain gradient descent moves w by -lr * grad.  Momentum keeps a velocity v that remembers past
steps:  v <- momentum * v - lr * grad,  then  w <- w + v  (with the new v).  Write one step;
it returns the new (w, v) and must not change its arguments.

Check it: neuralab exercise check FILE
"""

EXERCISE = "sgd-momentum"


def sgd_momentum_step(w, grad, v, lr=0.1, momentum=0.9):
    """One step: return (w_new, v_new)."""
    v_new = momentum * v - lr * grad
    return w + v_new, v_new
