"""Where the time of one MLP epoch goes: ``python -m bench.profile_mlp [--batch-size 128]``.

Prints (1) the time of the epoch's matrix products alone (the BLAS floor: the same products on the
same shapes, no framework), (2) a hand-written NumPy MLP with Adam and no autograd, (3) neuralab's
epoch, and (4) a cProfile table of neuralab's epoch by function.  Not part of the package.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np

from bench.worker import HIDDEN, load_data


def matmul_floor(x: np.ndarray, batch: int, weights: list[np.ndarray]) -> float:
    """The forward and backward products of one epoch, nothing else."""
    acts = []
    t0 = time.perf_counter()
    for i in range(0, len(x) - batch + 1, batch):
        h = x[i : i + batch]
        acts = [h]
        for w in weights:
            h = h @ w
            acts.append(h)
        g = acts[-1]
        for k in range(len(weights) - 1, -1, -1):
            acts[k].T @ g
            if k:
                g = g @ weights[k].T
    return time.perf_counter() - t0


def numpy_mlp(x, y, batch, weights, rng) -> float:
    """Forward, softmax cross-entropy, backward and Adam written by hand on arrays."""
    ws = [w.copy() for w in weights]
    bs = [np.zeros(w.shape[1], np.float32) for w in ws]
    params = ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t0 = time.perf_counter()
    perm = rng.permutation(len(x))
    for step, i in enumerate(range(0, len(x), batch), start=1):
        idx = perm[i : i + batch]
        xb, yb = x[idx], y[idx]
        acts = [xb]
        h = xb
        for k, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if k < len(ws) - 1:
                np.maximum(h, 0, out=h)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1
        g = p / len(yb)
        grads_w, grads_b = [None] * len(ws), [None] * len(ws)
        for k in range(len(ws) - 1, -1, -1):
            grads_w[k] = acts[k].T @ g
            grads_b[k] = g.sum(0)
            if k:
                g = (g @ ws[k].T) * (acts[k] > 0)
        for j, (pa, gr) in enumerate(zip(params, grads_w + grads_b)):
            m[j] *= 0.9
            m[j] += 0.1 * gr
            v[j] *= 0.999
            v[j] += 0.001 * gr * gr
            mh = m[j] / (1 - 0.9**step)
            vh = v[j] / (1 - 0.999**step)
            pa -= 1e-3 * mh / (np.sqrt(vh) + 1e-8)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_mlp")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    xtr, ytr, xte, yte, source = load_data(None)
    rng = np.random.default_rng(0)
    dims = [784, *HIDDEN, 10]
    weights = [
        (rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)
        for a, b in zip(dims[:-1], dims[1:])
    ]
    print(f"data: {source}, {len(xtr)} samples, batch {args.batch_size}")
    floor = min(matmul_floor(xtr, args.batch_size, weights) for _ in range(3))
    print(f"matrix products alone:          {floor:.3f} s/epoch")
    hand = min(numpy_mlp(xtr, ytr, args.batch_size, weights, rng) for _ in range(2))
    print(f"hand-written NumPy MLP + Adam:  {hand:.3f} s/epoch")

    import neuralab as nl
    from neuralab import nn, optim
    from neuralab.data import DataLoader

    nl.seed(0)
    model = nn.Sequential(
        [
            nn.Dense(HIDDEN[0], activation="relu"),
            nn.Dense(HIDDEN[1], activation="relu"),
            nn.Dense(10),
        ]
    )
    model(xtr[:2])
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader((xtr, ytr), batch_size=args.batch_size, shuffle=True, rng=0)

    def epoch() -> None:
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch()
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    print(f"neuralab epoch:                 {min(times):.3f} s/epoch")
    prof = cProfile.Profile()
    prof.runcall(epoch)
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
