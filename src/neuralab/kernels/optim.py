"""The optimizers' updates as one-pass compiled loops (the references: each optimizer's ``_update``
in :mod:`neuralab.optim`).

Each kernel updates the parameter and its state arrays in place, element by element, doing the
float operations of its NumPy reference in the same order and with the same rounding: every
NumPy call of the reference is one float operation here, in the arrays' dtype (float32 stays
float32), and every scalar arrives already converted to that dtype by the caller
(``data.dtype.type(value)``), as NumPy 2 converts a Python float before a float32 ufunc.  So the
two paths give the same bits (tested for every optimizer and option, float32 and float64).

Every array is 1-D and C-contiguous (``.reshape(-1)`` of the flat buffers or of a parameter);
a state array that an option does not use is passed as an empty array of the same dtype.  The
options are arguments (not one kernel per combination): the compiler moves the loop-invariant
tests out of the loop, so that each combination runs as its own vectorized loop (measured: the
same 3.1-3.5 ms for Adam on 5.8 M float32 values as a kernel written for one combination).
"""

from __future__ import annotations

import numpy as np

from . import kernel

#: weight decay modes of :func:`adam`
NO_DECAY, L2_DECAY, DECOUPLED_DECAY = 0, 1, 2


@kernel
def sgd(p, g, buf, use_wd, wd, use_momentum, mu, damped, omd, nesterov, neg_lr, neg_lr_mu):
    """SGD (reference: ``SGD._update``, from the second step on when momentum is used: the
    first step makes the buffer)."""
    for i in range(p.size):
        pi = p[i]
        d = g[i]
        if use_wd:
            d = pi * wd + d  # np.multiply(data, wd, out=tmp); tmp += grad
        if use_momentum:
            b = buf[i] * mu  # buf *= mu
            if damped:
                b = b + d * omd  # np.multiply(d, 1 - dampening, out=tmp); buf += tmp
            else:
                b = b + d  # buf += d
            buf[i] = b
            if nesterov:
                pi = pi + d * neg_lr  # np.multiply(d, -lr, out=tmp); data += tmp
                p[i] = pi + b * neg_lr_mu  # np.multiply(buf, -lr * mu, out=tmp); data += tmp
            else:
                p[i] = pi + b * neg_lr  # np.multiply(buf, -lr, out=tmp); data += tmp
        else:
            p[i] = pi + d * neg_lr  # np.multiply(d, -lr, out=tmp); data += tmp


@kernel
def adam(p, g, m, v, vmax, wd_mode, wd, decay, amsgrad, omb1, b2, omb2, eps_term, neg_step):
    """Adam and AdamW (reference: ``Adam._update``); ``wd_mode`` is :data:`NO_DECAY`,
    :data:`L2_DECAY` (``wd``) or :data:`DECOUPLED_DECAY` (``decay = 1 - lr wd``)."""
    for i in range(p.size):
        pi = p[i]
        d = g[i]
        if wd_mode == 1:
            d = pi * wd + d  # np.multiply(data, wd, out=decayed); decayed += grad
        elif wd_mode == 2:
            pi = pi * decay  # data *= 1 - lr * wd
        mi = m[i]
        mi = mi + (d - mi) * omb1  # np.subtract(d, m, out=tmp); tmp *= 1 - beta1; m += tmp
        m[i] = mi
        vi = v[i] * b2 + (d * d) * omb2  # v *= beta2; np.multiply(d, d, out=tmp);
        v[i] = vi  # tmp *= 1 - beta2; v += tmp
        if amsgrad:
            x = vmax[i]  # np.maximum(vmax, v, out=vmax): in1 >= in2 or isnan(in1) ? in1 : in2
            if not (x >= vi or x != x):
                x = vi
            vmax[i] = x
            vi = x
        # np.sqrt(v, out=tmp); tmp += eps_term; np.divide(m, tmp, out=tmp); tmp *= -step_size;
        # data += tmp
        p[i] = pi + (mi / (np.sqrt(vi) + eps_term)) * neg_step


@kernel
def rmsprop(p, g, v, a, buf, use_wd, wd, alpha, oma, centered, eps, inside, use_momentum, mu,
            neg_lr):
    """RMSProp (reference: ``RMSProp._update``); ``inside``: ``sqrt(s + eps)``, else
    ``sqrt(s) + eps``."""
    for i in range(p.size):
        pi = p[i]
        d = g[i]
        if use_wd:
            d = pi * wd + d  # np.multiply(data, wd, out=d); d += grad
        vi = v[i] * alpha + (d * d) * oma  # v *= alpha; np.multiply(d, d, out=tmp);
        v[i] = vi  # tmp *= 1 - alpha; v += tmp
        if centered:
            ai = a[i]
            ai = ai + (d - ai) * oma  # np.subtract(d, a, out=tmp); tmp *= 1 - alpha; a += tmp
            a[i] = ai
            s = vi - ai * ai  # np.multiply(a, a, out=tmp); np.subtract(v, tmp, out=tmp)
        else:
            s = vi
        if inside:
            den = np.sqrt(s + eps)  # sqrt_plus_eps: np.add(s, eps); np.sqrt
        else:
            den = np.sqrt(s) + eps  # sqrt_plus_eps: np.sqrt(s); += eps
        q = d / den  # np.divide(d, tmp, out=tmp)
        if use_momentum:
            b = buf[i] * mu + q  # buf *= mu; buf += tmp
            buf[i] = b
            p[i] = pi + b * neg_lr  # np.multiply(buf, -lr, out=tmp); data += tmp
        else:
            p[i] = pi + q * neg_lr  # tmp *= -lr; data += tmp


@kernel
def adagrad(p, g, h, use_wd, wd, eps, inside, neg_clr):
    """AdaGrad (reference: ``AdaGrad._update``); ``neg_clr`` is minus the decayed rate."""
    for i in range(p.size):
        pi = p[i]
        d = g[i]
        if use_wd:
            d = pi * wd + d  # np.multiply(data, wd, out=d); d += grad
        hi = h[i] + d * d  # np.multiply(d, d, out=tmp); h += tmp
        h[i] = hi
        if inside:
            den = np.sqrt(hi + eps)
        else:
            den = np.sqrt(hi) + eps
        p[i] = pi + (d / den) * neg_clr  # np.divide(d, tmp, out=tmp); tmp *= -clr; data += tmp
