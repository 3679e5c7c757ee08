"""L2 regularization and weight decay (L2 규제, 가중치 감소).

The L2 penalty added to the loss is lam * (the sum of the squares of every weight), summed over
all the weight matrices of the network (neuralab's and Keras' convention, without a 1/2).  Its
gradient pulls each weight towards 0.  With plain SGD, the penalty's effect is the same as
shrinking the weights a little every step ("weight decay"): the step with weight decay wd is
w <- w - lr (grad + wd w), as optim.SGD(weight_decay=wd) does.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "l2-weight-decay"


def l2_penalty(weights, lam):
    """lam times the sum of squares over every array in the list `weights`."""
    return lam * sum(np.sum(w ** 2) for w in weights)


def l2_grad(w, lam):
    """d l2_penalty([w], lam) / d w."""
    return 2 * lam * w


def sgd_weight_decay_step(w, grad, lr, weight_decay):
    """One SGD step with weight decay; return the new w (do not change w in place)."""
    return w - lr * (grad + weight_decay * w)
