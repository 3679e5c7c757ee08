"""Where the time of one MLP epoch goes: ``python -m bench.profile_mlp [--batch-size 128]``.

Prints and stores (``bench/results/profile.json``, which ``python -m bench.pages`` turns into the
tables of docs/performance.md):

1. the time of the epoch's matrix products alone (the BLAS floor: the same products on the same
   shapes, no framework) and the GEMM rate of NumPy under this process's OpenBLAS kernel and
   under the Haswell kernel (each in a child process, like ``python -m bench``);
2. a hand-written NumPy MLP with Adam and no autograd;
3. neuralab's epoch with the graph built at every step, and a cProfile of one such epoch whose
   time is split into parts of the framework (the Dense ops, the optimizer, the DataLoader, the
   loss, the rest); the epoch with the captured step that ``Trainer.fit`` runs, by hand;
4. one Adam step on the MLP's parameters, neuralab against PyTorch's fused Adam, and the
   epoch through ``Trainer.fit`` against the same captured step in a hand-written loop;
5. the phases of one training step of the 4-64-3 network (forward with the loss, backward,
   optimizer).

The epochs of 1-4 take turns (``--rounds`` times) and each reports its best run, the least
disturbed one on a shared machine.  Not part
of the package.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.__main__ import RESULTS, child_env, run_worker
from bench.worker import (
    HIDDEN,
    load_data,
    machine,
    mlp_flops_per_sample,
    neuralab_mlp_model,
    train_step,
    small_neuralab_setup,
    torch_mlp_model,
)

NEURALAB_SRC = Path(__import__("neuralab").__file__).resolve().parent
THIS_FILE = str(Path(__file__).resolve())

#: the parts of an epoch: (key, label, path fragments of neuralab's source that belong to it);
#: the first match wins, anything else of neuralab (and the epoch loop here) is "framework"
PARTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("dense", "the Dense ops forward + backward (products, bias, fused ReLU)",
     ("autograd/ops/linalg.py", "kernels/nn.py")),
    ("optimizer", "the optimizer step (Adam's update)", ("optim/", "kernels/optim.py")),
    ("loader", "batch gathering in the DataLoader (fancy indexing)", ("data/",)),
    ("loss", "cross-entropy, forward + backward", ("autograd/ops/loss.py", "nn/losses.py")),
    ("framework", "engine, graph, modules and the training loop (Python)", ()),
]
PART_LABELS = {key: label for key, label, _ in PARTS} | {"other": "other (profiler)"}


def matmul_floor(x: np.ndarray, batch: int, weights: list[np.ndarray]) -> tuple[float, int]:
    """The forward and backward products of one epoch, nothing else: (seconds, samples)."""
    acts = []
    samples = 0
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
        samples += batch
    return time.perf_counter() - t0, samples


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


def neuralab_mlp(x: np.ndarray, y: np.ndarray, batch: int, captured: bool = False):
    """neuralab's 784-256-128-10 MLP with Adam: (epoch function, model, optimizer); the graph
    built at every step (the lecture's five calls), or with ``captured`` the captured step that
    ``Trainer.fit`` runs (:func:`bench.worker.train_step`)."""
    import neuralab as nl
    from neuralab import nn, optim
    from neuralab.data import DataLoader

    nl.seed(0)
    model = neuralab_mlp_model()
    model(x[:2])
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader((x, y), batch_size=batch, shuffle=True, rng=0)
    step = train_step(model, loss_fn, opt, captured)

    def epoch() -> None:
        for xb, yb in loader:
            step(xb, yb)

    return epoch, model, opt


def trainer_mlp(x: np.ndarray, y: np.ndarray, batch: int) -> Callable[[], None]:
    """The same epoch through ``Trainer.fit`` (no validation, no callbacks, silent)."""
    import neuralab as nl
    from neuralab import nn, optim
    from neuralab.train import Trainer

    nl.seed(0)
    model = neuralab_mlp_model()
    model(x[:2])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                      rng=0)

    def epoch() -> None:
        trainer.fit(x, y, epochs=1, batch_size=batch, verbose=0)

    return epoch


# ------------------------------------------------------------------ the cProfile of one epoch
def _part_of_file(filename: str) -> str | None:
    """The part that a function defined in ``filename`` belongs to; None outside neuralab."""
    if filename == THIS_FILE:
        return "framework"
    try:
        rel = Path(filename).resolve().relative_to(NEURALAB_SRC).as_posix()
    except (ValueError, OSError):
        return None
    for key, _, fragments in PARTS:
        if any(fragment in rel for fragment in fragments):
            return key
    return "framework"


def split_profile(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of the profiled run per part of :data:`PARTS`.

    Every function's own time (tottime) goes to its part; the own time of a function outside
    neuralab (a NumPy ufunc, a list method) goes to the parts of its callers, in proportion to
    the time it spent when called by each (cProfile records that per caller), so that a matrix
    product counts for the op that computed it."""
    table = stats.stats  # (file, line, name) -> (calls, primitive calls, tottime, cumtime, callers)
    memo: dict[Any, dict[str, float]] = {}

    def shares(func, seen: frozenset) -> dict[str, float]:
        """How the time of ``func`` divides between the parts (fractions that sum to 1)."""
        if func in memo:
            return memo[func]
        own = _part_of_file(func[0])
        if own is not None:
            return {own: 1.0}
        callers = table[func][4] if func in table else {}
        weights = {c: entry[3] for c, entry in callers.items() if c not in seen}
        total = sum(weights.values())
        if total <= 0:
            return {"other": 1.0}
        out: dict[str, float] = {}
        for caller, weight in weights.items():
            for part, fraction in shares(caller, seen | {func}).items():
                out[part] = out.get(part, 0.0) + fraction * weight / total
        memo[func] = out
        return out

    seconds = {key: 0.0 for key in PART_LABELS}
    for func, (_, _, tottime, _, callers) in table.items():
        if _part_of_file(func[0]) is not None or not callers:
            for part, fraction in shares(func, frozenset()).items():
                seconds[part] += fraction * tottime
            continue
        # a function outside neuralab: its own time per caller, to each caller's parts
        for caller, (_, _, caller_tottime, _) in callers.items():
            for part, fraction in shares(caller, frozenset({func})).items():
                seconds[part] += fraction * caller_tottime
    return seconds


# ------------------------------------------------------------------ Adam and the small network
def best_time(fn: Callable[[], None], calls: int, repeats: int = 3) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` runs of ``calls`` calls."""
    fn()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def neuralab_adam_step(x: np.ndarray, y: np.ndarray, steps: int) -> float:
    """Seconds of one ``Adam.step()`` on the MLP's parameters (gradients of one batch)."""
    from neuralab import nn

    _, model, opt = neuralab_mlp(x, y, 128)
    nn.CrossEntropyLoss()(model(x[:128]), y[:128]).backward()
    return best_time(opt.step, steps)


def torch_adam_step(x: np.ndarray, y: np.ndarray, steps: int) -> float | None:
    """The same for PyTorch's Adam with ``fused=True`` (its fastest CPU setting); None without
    PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    model = torch_mlp_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    xb, yb = torch.from_numpy(x[:128]), torch.from_numpy(y[:128])
    torch.nn.functional.cross_entropy(model(xb), yb).backward()
    return best_time(opt.step, steps)


def small_step_phases(steps: int, seed: int = 0) -> dict[str, float]:
    """Microseconds per phase of one step of the 4-64-3 network (batch 16, Adam), the network of
    ``python -m bench``'s small-step row: forward with the loss, zero_grad with backward, and
    the optimizer's step.  The best of three runs of ``steps`` steps, per phase."""
    model, loss_fn, opt, x, y = small_neuralab_setup(seed)
    clock = time.perf_counter
    best = {"forward": math.inf, "backward": math.inf, "optimizer": math.inf}
    for run in range(4):  # the first run is a warm-up
        spent = dict.fromkeys(best, 0.0)
        for _ in range(steps):
            t0 = clock()
            loss = loss_fn(model(x), y)
            t1 = clock()
            opt.zero_grad()
            loss.backward()
            t2 = clock()
            opt.step()
            t3 = clock()
            spent["forward"] += t1 - t0
            spent["backward"] += t2 - t1
            spent["optimizer"] += t3 - t2
        if run:
            best = {k: min(best[k], spent[k] / steps * 1e6) for k in best}
    return best


# ------------------------------------------------------------------ the run
def profile(batch: int, n_train: int | None, top: int, small_steps: int, rounds: int = 3,
            command: str = "python -m bench.profile_mlp") -> dict[str, Any]:
    """Measure everything of the module docstring; prints as it goes, returns the numbers."""
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    xtr, ytr, _, _, source = load_data(n_train)
    rng = np.random.default_rng(0)
    dims = [784, *HIDDEN, 10]
    weights = [
        (rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)
        for a, b in zip(dims[:-1], dims[1:])
    ]
    n_params = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
    steps = math.ceil(len(xtr) / batch)
    print(f"data: {source}, {len(xtr)} samples, batch {batch} ({steps} steps per epoch)")

    # the GEMM rate in children, with the thread count and environment of `python -m bench`
    env = child_env(os.cpu_count() or 1)
    gemm_runs = 1 if n_train else 2  # a smoke run on part of the data wants no precision
    gemm = max(run_worker(["gemm"], env)["gflops"] for _ in range(gemm_runs))
    gemm_haswell = max(
        run_worker(["gemm"], {**env, "OPENBLAS_CORETYPE": "Haswell"})["gflops"]
        for _ in range(gemm_runs)
    )
    print(f"GEMM rate (2048 x 2048 float32):  {gemm:.0f} GFLOP/s, "
          f"{gemm_haswell:.0f} GFLOP/s under OPENBLAS_CORETYPE=Haswell")

    # the three epochs take turns, so that a busy spell of a shared machine hits all of them
    epoch, _, _ = neuralab_mlp(xtr, ytr, batch)
    epoch()  # warm-up: page faults, the optimizer's buffers, numba's kernels
    captured_epoch, _, _ = neuralab_mlp(xtr, ytr, batch, captured=True)
    captured_epoch()
    fit_epoch = trainer_mlp(xtr, ytr, batch)
    fit_epoch()
    runs: dict[str, list[float]] = {"floor": [], "hand": [], "neuralab": [], "captured": [],
                                    "trainer": []}
    floor_samples = 0
    for _ in range(rounds):
        seconds, floor_samples = matmul_floor(xtr, batch, weights)
        runs["floor"].append(seconds)
        runs["hand"].append(numpy_mlp(xtr, ytr, batch, weights, rng))
        t0 = time.perf_counter()
        epoch()
        runs["neuralab"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        captured_epoch()
        runs["captured"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fit_epoch()
        runs["trainer"].append(time.perf_counter() - t0)
    floor, hand, neuralab_epoch, captured_seconds, trainer_epoch = (
        min(runs[k]) for k in ("floor", "hand", "neuralab", "captured", "trainer"))
    print(f"matrix products alone:          {floor:.3f} s/epoch")
    print(f"hand-written NumPy MLP + Adam:  {hand:.3f} s/epoch")
    print(f"neuralab epoch:                 {neuralab_epoch:.3f} s/epoch  "
          f"(each the best of {rounds} interleaved runs)")
    print(f"the captured step, by hand:     {captured_seconds:.3f} s/epoch")
    print(f"the same through Trainer.fit:   {trainer_epoch:.3f} s/epoch")

    prof = cProfile.Profile()
    prof.runcall(epoch)
    stats = pstats.Stats(prof)
    parts = split_profile(stats)
    print(f"\none profiled epoch ({stats.total_tt:.3f} s with the profiler's overhead):")
    for key, seconds in parts.items():
        print(f"  {seconds:7.3f} s  {PART_LABELS[key]}")

    adam_steps = 50 if n_train else 200
    adam_nl = neuralab_adam_step(xtr, ytr, adam_steps)
    adam_pt = torch_adam_step(xtr, ytr, adam_steps)
    print(f"\none Adam step on the MLP's {n_params} parameters: neuralab {adam_nl * 1e3:.3f} ms"
          + (f", PyTorch {adam_pt * 1e3:.3f} ms" if adam_pt is not None else ""))
    small = small_step_phases(small_steps)
    print("4-64-3 step, us: " + ", ".join(f"{k} {v:.1f}" for k, v in small.items()))
    print()
    stats.sort_stats("tottime").print_stats(top)

    return {
        "command": command,
        "started": started,
        "machine": {**machine(), "threads": os.cpu_count()},
        "data": source,
        "n_train": len(xtr),
        "batch_size": batch,
        "steps_per_epoch": steps,
        "parameters": n_params,
        "flops_per_sample": mlp_flops_per_sample(),
        "gemm_gflops": gemm,
        "gemm_gflops_haswell": gemm_haswell,
        "matmul_floor_seconds": floor,
        "matmul_floor_samples": floor_samples,
        "numpy_mlp_seconds": hand,
        "neuralab_epoch_seconds": neuralab_epoch,
        "captured_epoch_seconds": captured_seconds,
        "trainer_epoch_seconds": trainer_epoch,
        "epoch_runs_seconds": runs,
        "profiled_epoch_seconds": stats.total_tt,
        "profiled_parts_seconds": parts,
        "part_labels": PART_LABELS,
        "adam_step_seconds": {"neuralab": adam_nl, "torch": adam_pt},
        "torch_adam": "fused",
        "small_step_us": small,
        "small_steps": small_steps,
        "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_mlp",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--top", type=int, default=25, help="rows of the cProfile table")
    parser.add_argument("--n-train", type=int, default=0,
                        help="train on the first N samples only (a smoke run; default all)")
    parser.add_argument("--small-steps", type=int, default=3000,
                        help="steps per timing run of the 4-64-3 network")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved runs of the three epochs; each reports its best")
    parser.add_argument("--out", type=Path, default=RESULTS / "profile.json",
                        help="where to store the numbers (default bench/results/profile.json)")
    args = parser.parse_args(argv)
    for name in ("batch_size", "n_train", "small_steps", "rounds"):
        if getattr(args, name) < (0 if name == "n_train" else 1):
            parser.error(f"--{name.replace('_', '-')} must be positive")
    command = shlex.join(["python", "-m", "bench.profile_mlp",
                          *(sys.argv[1:] if argv is None else argv)])
    result = profile(args.batch_size, args.n_train or None, args.top, args.small_steps,
                     args.rounds, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"numbers: {args.out}  (python -m bench.pages puts them into docs/performance.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
