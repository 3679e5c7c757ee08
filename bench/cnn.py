"""``python -m bench.cnn``: the CNN of the cnn-fashion-mnist lab, neuralab against PyTorch (CPU).

The network is the lab's full configuration (``neuralab.labs.cnn_fashion_mnist.build_cnn``:
three blocks of 3 x 3 convolution without bias, BatchNorm2D, ReLU and 2 x 2 max pooling, 32, 64
and 128 filters, then Dense 256 with ReLU, Dropout 0.4 and Dense 10), the same layers in
PyTorch, trained with AdamW on batches of 128 Fashion-MNIST images (the first ``steps`` batches
of the training set, in order, after ``warmup`` untimed steps), with the same number of threads
for both.

Every measurement runs in a fresh child process (``python -m bench.cnn worker FRAMEWORK``), the
repetitions interleaved (neuralab, torch, neuralab, ...) so that the shared machine's noise hits
both alike.  Per child:

* seconds per training step (forward, loss, backward, optimizer) and what an epoch of the
  60,000 training images costs at that rate;
* the achieved FLOP rate: the matrix-product FLOPs of a step (counted from the shapes: each
  convolution's forward product, its weight gradient and, but for the first layer, its input
  gradient; the same for the dense layers) over the step time, against NumPy's GEMM rate
  (2048 x 2048 float32) measured in the same kind of child;
* peak memory: the peak resident set of the child (``getrusage``) and how far training raised it
  above the resident set once the data, the model and the first step were in memory;
* neuralab only: the step's products alone, timed with NumPy on arrays of the same shapes (the
  floor any im2col framework meets), and a cProfile split of the steps by operation.

Stored: ``bench/results/cnn.json``; ``--pages`` renders its block of docs/performance.md again
from the stored file (tests/test_bench_cnn.py checks the page against it).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.__main__ import RESULTS, ROOT, child_env, plural, wrap
from neuralab.io import atomic_write
from neuralab.io.pages import replace_block

RESULT = RESULTS / "cnn.json"
PAGE = ROOT / "docs" / "performance.md"
BLOCK = "CNN"
TRAIN_IMAGES = 60000
IMAGE = (1, 28, 28)

PART_LABELS = {
    "conv_forward": "convolution forward (im2col copy, product)",
    "conv_backward": "convolution backward (two products, col2im)",
    "pool": "max pooling, forward and backward",
    "batch_norm": "batch normalization, forward and backward",
    "dense": "dense layers (products, bias)",
    "activations": "ReLU, forward and backward",
    "optimizer": "AdamW step",
    "other": "the rest (dropout, loss, autograd engine, reshapes, zero_grad)",
}


# ------------------------------------------------------------------ the network and its FLOPs
def lab_config() -> Any:
    from neuralab.labs.cnn_fashion_mnist import Config

    return Config()


def layer_shapes(batch: int) -> tuple[list[tuple[int, ...]], list[tuple[int, int]]]:
    """The lab network's convolutions as (N, C_in, H, W, C_out, k) and its dense layers as
    (in, out), for a batch of ``batch`` images."""
    config = lab_config()
    convs, c, h = [], IMAGE[0], IMAGE[1]
    for out in config.channels:
        convs.append((batch, c, h, h, int(out), 3))
        c, h = int(out), h // 2
    dense = [(c * h * h, config.hidden), (config.hidden, 10)]
    return convs, dense


def flops_per_step(batch: int) -> float:
    """Matrix-product FLOPs of one training step: per convolution 2 N H W C_out C_in k^2 for the
    forward product, as much for the weight gradient and, but for the first layer (its input
    is data), for the input gradient; per dense layer 2 N in out each, likewise."""
    convs, dense = layer_shapes(batch)
    total = 0.0
    for i, (n, c, h, w, o, k) in enumerate(convs):
        total += (3 if i else 2) * 2.0 * n * h * w * o * c * k * k
    for n_in, n_out in dense:
        total += 3 * 2.0 * batch * n_in * n_out
    return total


def product_shapes(batch: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The (m, k) x (k, n) products of one step, as the im2col lowering does them."""
    convs, dense = layer_shapes(batch)
    out = []
    for i, (n, c, h, w, o, k) in enumerate(convs):
        ckk, pixels = c * k * k, n * h * w
        out += [((o, ckk), (ckk, pixels)), ((o, pixels), (pixels, ckk))]
        if i:
            out.append(((ckk, o), (o, pixels)))
    for i, (n_in, n_out) in enumerate(dense):
        out += [((batch, n_in), (n_in, n_out)), ((n_in, batch), (batch, n_out))]
        if i or convs:
            out.append(((batch, n_out), (n_out, n_in)))
    return out


# ------------------------------------------------------------------ one child process
def rss_mb() -> float:
    """The resident set now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_batches(steps: int, batch: int) -> tuple[np.ndarray, np.ndarray, str]:
    from neuralab.data import load_fashion_mnist, make_synthetic_like_fashion_mnist

    n = steps * batch
    try:
        # bytes first: only the n images used become float32, so loading leaves a small peak
        (x, y), _ = load_fashion_mnist(flatten=False, normalize=False)
        source = "fashion-mnist"
    except (FileNotFoundError, OSError):
        x, y = make_synthetic_like_fashion_mnist(n, rng=np.random.default_rng(0))
        source = "synthetic (Fashion-MNIST files absent)"
    if len(x) < n:
        raise ValueError(f"{steps} steps of {batch} need {n} images; the data has {len(x)}")
    x = np.ascontiguousarray(x[:n].reshape(n, *IMAGE), dtype=np.float32)
    if source == "fashion-mnist":
        x /= np.float32(255.0)
    return x, np.asarray(y[:n], dtype=np.int64), source


def neuralab_step(batch: int, seed: int) -> Any:
    import neuralab
    from neuralab import nn, optim
    from neuralab.labs.cnn_fashion_mnist import build_cnn

    config = lab_config()
    neuralab.seed(seed)
    model = build_cnn(config)
    model.eval()
    model(np.zeros((2, *IMAGE), dtype=np.float32))
    model.train()
    opt = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss()

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_step(batch: int, seed: int, threads: int) -> Any:
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    config = lab_config()
    T = torch.nn
    layers: list[Any] = []
    c, h = IMAGE[0], IMAGE[1]
    for out in config.channels:
        layers += [T.Conv2d(c, out, 3, padding=1, bias=False), T.BatchNorm2d(out), T.ReLU(),
                   T.MaxPool2d(2)]
        c, h = out, h // 2
    layers += [T.Flatten(), T.Linear(c * h * h, config.hidden), T.ReLU(),
               T.Dropout(config.dropout), T.Linear(config.hidden, 10)]
    model = T.Sequential(*layers)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        loss = T.functional.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def products_seconds(batch: int, repeats: int = 3) -> float:
    """The step's matrix products alone (NumPy, float32, C-ordered operands): best of
    ``repeats``."""
    rng = np.random.default_rng(0)
    pairs = [(rng.random(a, dtype=np.float32), rng.random(b, dtype=np.float32))
             for a, b in product_shapes(batch)]
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for a, b in pairs:
            a @ b
        best = min(best, time.perf_counter() - t0)
    return best


def _defined_lines(module: Any) -> dict[str, set[int]]:
    """(file, first line) of the forward and backward of every autograd Function defined in
    ``module``."""
    import inspect

    out: set[tuple[str, int]] = set()
    for _, cls in inspect.getmembers(module, inspect.isclass):
        for name in ("forward", "backward"):
            fn = cls.__dict__.get(name)
            if fn is not None and getattr(fn, "__module__", None) == module.__name__:
                out.add((inspect.getsourcefile(fn), inspect.getsourcelines(fn)[1]))
    return out  # type: ignore[return-value]


def _part_lines() -> dict[str, set[tuple[str, int]]]:
    import inspect

    from neuralab.autograd.ops import activation, conv, linalg
    from neuralab.nn import normalization

    def lines(*fns: Any) -> set[tuple[str, int]]:
        return {(inspect.getsourcefile(f), inspect.getsourcelines(f)[1]) for f in fns}

    return {
        "conv_forward": lines(conv.Conv2d.forward),
        "conv_backward": lines(conv.Conv2d.backward),
        "pool": lines(conv._Pool2d.forward, conv._Pool2d.backward),
        "batch_norm": lines(normalization.BatchNormOp.forward,
                            normalization.BatchNormOp.backward),
        "dense": _defined_lines(linalg),
        "activations": _defined_lines(activation),
    }


def split_profile(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of each part of :data:`PART_LABELS`: the cumulative time of the autograd
    forward and backward of its ops (which do not call one another), the optimizer's outermost
    ``step``, and ``other``: the rest of the profiled time."""
    wanted = _part_lines()
    parts = dict.fromkeys(PART_LABELS, 0.0)
    optimizer = 0.0
    for (file, line, func), (_, _, _, cumtime, callers) in stats.stats.items():  # type: ignore[attr-defined]
        for part, where in wanted.items():
            if (file, line) in where:
                # a call from another function of the part (LinearReLU's forward calls
                # Linear's) is already in that function's cumulative time
                inner = sum(c[3] for (cf, cl, _), c in callers.items() if (cf, cl) in where)
                parts[part] += cumtime - inner
        if func == "step" and f"{os.sep}optim{os.sep}" in file:
            optimizer = max(optimizer, cumtime)  # Adam.step inside AdamW.step: the outer one
    parts["optimizer"] = optimizer
    parts["other"] = max(0.0, stats.total_tt - sum(parts.values()))  # type: ignore[attr-defined]
    return parts


def worker(framework: str, steps: int, warmup: int, batch: int, seed: int, threads: int,
           profile: bool) -> dict[str, Any]:
    x, y, source = load_batches(steps + warmup, batch)
    if framework == "neuralab":
        step = neuralab_step(batch, seed)
    elif framework == "torch":
        step = torch_step(batch, seed, threads)
    else:
        raise ValueError(f"unknown framework {framework!r}; expected neuralab or torch")
    batches = [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
               for i in range(steps + warmup)]
    baseline = rss_mb()  # the data and the model, before any step
    for xb, yb in batches[:warmup]:
        step(xb, yb)
    t0 = time.perf_counter()
    for xb, yb in batches[warmup:]:
        step(xb, yb)
    seconds = (time.perf_counter() - t0) / steps
    out = {"framework": framework, "data": source, "steps": steps, "batch_size": batch,
           "step_seconds": seconds, "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": baseline}
    out["training_rss_mb"] = out["peak_rss_mb"] - baseline
    if framework == "neuralab":
        out["products_seconds"] = products_seconds(batch)
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            for xb, yb in batches[warmup:]:
                step(xb, yb)
            prof.disable()
            parts = split_profile(pstats.Stats(prof))
            out["profile_parts_seconds"] = {k: v / steps for k, v in parts.items()}
    return out


# ------------------------------------------------------------------ the parent
def run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.cnn", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.cnn {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def measure(reps: int, steps: int, warmup: int, batch: int, threads: int,
            log: Any = print) -> dict[str, Any]:
    from bench.worker import gemm_rate, machine  # noqa: F401  (the same GEMM as python -m bench)

    env = child_env(threads)
    common = ["--steps", str(steps), "--warmup", str(warmup), "--batch-size", str(batch),
              "--threads", str(threads)]
    gemm = [json.loads(subprocess.run(
        [sys.executable, "-m", "bench.worker", "gemm"], env=env, cwd=ROOT, capture_output=True,
        text=True, check=True).stdout)["gflops"] for _ in range(reps)]
    runs: dict[str, list[dict[str, Any]]] = {"neuralab": [], "torch": []}
    for rep in range(reps):
        for fw in runs:
            log(f"CNN: {fw}, rep {rep + 1}/{reps} ...")
            extra = ["--profile"] if fw == "neuralab" and rep == 0 else []
            runs[fw].append(run_child(["worker", fw, "--seed", str(rep), *common, *extra], env))
    meta = json.loads(subprocess.run([sys.executable, "-m", "bench.worker", "machine"], env=env,
                                     cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout)
    meta.update({"cpus": os.cpu_count(), "threads": threads})
    flops = flops_per_step(batch)
    gemm_med = statistics.median(gemm)
    out: dict[str, Any] = {"machine": meta, "gemm_gflops": summarize(gemm),
                           "settings": {"reps": reps, "steps": steps, "warmup": warmup,
                                        "batch_size": batch, "threads": threads},
                           "data": runs["neuralab"][0]["data"],
                           "architecture": describe_network(),
                           "flops_per_step": flops,
                           "steps_per_epoch": math.ceil(TRAIN_IMAGES / batch)}
    for fw, rs in runs.items():
        step = summarize([r["step_seconds"] for r in rs])
        out[fw] = {"step_seconds": step,
                   "epoch_seconds": summarize([r["step_seconds"] * out["steps_per_epoch"]
                                               for r in rs]),
                   "peak_rss_mb": summarize([r["peak_rss_mb"] for r in rs]),
                   "training_rss_mb": summarize([r["training_rss_mb"] for r in rs]),
                   "gflops": flops / step["median"] / 1e9,
                   "fraction_of_gemm": flops / step["median"] / 1e9 / gemm_med}
    out["neuralab"]["products_seconds"] = summarize([r["products_seconds"]
                                                     for r in runs["neuralab"]])
    out["profile_parts_seconds"] = runs["neuralab"][0]["profile_parts_seconds"]
    out["ratios"] = {
        "step_vs_torch": out["neuralab"]["step_seconds"]["median"]
        / out["torch"]["step_seconds"]["median"],
        "peak_memory_vs_torch": out["neuralab"]["peak_rss_mb"]["median"]
        / out["torch"]["peak_rss_mb"]["median"],
        "training_memory_vs_torch": out["neuralab"]["training_rss_mb"]["median"]
        / max(out["torch"]["training_rss_mb"]["median"], 1e-9),
    }
    return out


def describe_network() -> str:
    config = lab_config()
    blocks = ", ".join(f"Conv2D({c}, 3x3, same, no bias) BatchNorm2D ReLU MaxPool2D(2)"
                       for c in config.channels)
    return f"{blocks}, Flatten, Dense({config.hidden}) ReLU Dropout({config.dropout:g}) Dense(10)"


# ------------------------------------------------------------------ the page
def _spread(d: dict[str, float], fmt: str) -> str:
    return f"{fmt.format(d['median'])} ({fmt.format(d['min'])}-{fmt.format(d['max'])})"


def render(result: dict[str, Any]) -> str:
    """The generated block of docs/performance.md, from a stored result alone."""
    r, m, s = result, result["machine"], result["settings"]
    nl, pt = r["neuralab"], r["torch"]
    gemm = r["gemm_gflops"]["median"]
    text = [wrap(
        f"Measured with `{r['command']}` on {r['started']} at commit `{m['commit']}`: "
        f"{m['cpu']}, {m['platform']}, {plural(s['threads'], 'thread')} for both; Python "
        f"{m['python']}, "
        f"NumPy {m['numpy']} ({m['blas']}), PyTorch {m['torch']}. Network (the "
        f"cnn-fashion-mnist lab's): {r['architecture']}; AdamW, batch {s['batch_size']}, "
        f"{r['data']}. Each run times {s['steps']} steps after {s['warmup']} untimed ones in a "
        f"fresh process; medians with (min-max) over {s['reps']} interleaved runs; an epoch is "
        f"{r['steps_per_epoch']} steps."),
        "",
        "| measurement | neuralab | PyTorch |",
        "|---|---|---|",
        f"| training step, ms | {_spread(_scaled(nl['step_seconds'], 1e3), '{:.1f}')} | "
        f"{_spread(_scaled(pt['step_seconds'], 1e3), '{:.1f}')} |",
        f"| epoch of 60,000 images at that rate, s | {_spread(nl['epoch_seconds'], '{:.1f}')} "
        f"| {_spread(pt['epoch_seconds'], '{:.1f}')} |",
        f"| achieved GFLOP/s (share of GEMM {gemm:.0f} GFLOP/s) | {nl['gflops']:.1f} "
        f"({nl['fraction_of_gemm']:.0%}) | {pt['gflops']:.1f} ({pt['fraction_of_gemm']:.0%}) |",
        f"| peak resident memory, MB | {_spread(nl['peak_rss_mb'], '{:.0f}')} | "
        f"{_spread(pt['peak_rss_mb'], '{:.0f}')} |",
        f"| memory added by training (peak minus the resident set before the first step), MB | "
        f"{_spread(nl['training_rss_mb'], '{:.0f}')} | {_spread(pt['training_rss_mb'], '{:.0f}')} |",
        "",
        "| ratio | value | target (issue 13) | met |",
        "|---|---|---|---|",
    ]
    targets = {"step_vs_torch": ("neuralab / PyTorch step time", 1.0),
               "peak_memory_vs_torch": ("neuralab / PyTorch peak memory", 2.0)}
    for key, (label, goal) in targets.items():
        value = r["ratios"][key]
        text.append(f"| {label} | {value:.2f} | <= {goal:g} | {'yes' if value <= goal else 'NO'} |")
    text.append(f"| neuralab / PyTorch memory added by training | "
                f"{r['ratios']['training_memory_vs_torch']:.2f} | | |")
    step = nl["step_seconds"]["median"]
    products = nl["products_seconds"]["median"]
    text += [
        "",
        "| one neuralab step, by part (cProfile, first run) | ms | share |",
        "|---|---|---|",
    ]
    parts = r["profile_parts_seconds"]
    total = sum(parts.values())
    for key, seconds in parts.items():
        text.append(f"| {PART_LABELS[key]} | {seconds * 1e3:.1f} | {seconds / total:.0%} |")
    text += [
        f"| the whole profiled step (with the profiler's overhead) | {total * 1e3:.1f} | |",
        "",
        "| the step against its matrix products | ms |",
        "|---|---|",
        f"| the step's {len(product_shapes(s['batch_size']))} matrix products alone (NumPy, the "
        f"same shapes and dtype) | {products * 1e3:.1f} |",
        f"| neuralab's whole step | {step * 1e3:.1f} |",
        f"| neuralab's step outside the products | {(step - products) * 1e3:.1f} |",
        f"| PyTorch's whole step | {pt['step_seconds']['median'] * 1e3:.1f} |",
    ]
    return "\n".join(text) + "\n"


def _scaled(d: dict[str, float], factor: float) -> dict[str, float]:
    return {k: (v * factor if k != "n" else v) for k, v in d.items()}


def update_page(result: dict[str, Any], page: Path = PAGE) -> bool:
    old = page.read_text(encoding="utf-8")
    new = replace_block(old, BLOCK, render(result))
    if new != old:
        atomic_write(page, new.encode("utf-8"))
    return new != old


def load_result(path: Path = RESULT) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"{path} does not exist; run `python -m bench.cnn` first") from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        p = argparse.ArgumentParser(prog="python -m bench.cnn worker")
        p.add_argument("framework", choices=["neuralab", "torch"])
        p.add_argument("--steps", type=int, default=40)
        p.add_argument("--warmup", type=int, default=3)
        p.add_argument("--batch-size", type=int, default=128)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--threads", type=int, default=0)
        p.add_argument("--profile", action="store_true")
        a = p.parse_args(argv[1:])
        if a.steps < 1 or a.warmup < 1:
            p.error("--steps and --warmup must be at least 1")
        json.dump(worker(a.framework, a.steps, a.warmup, a.batch_size, a.seed, a.threads,
                         a.profile), sys.stdout)
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.cnn",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="interleaved runs (default 3)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=RESULT, help=f"default {RESULT}")
    parser.add_argument("--pages", action="store_true",
                        help="only render docs/performance.md's CNN block from the stored result")
    args = parser.parse_args(argv)
    if args.pages:
        changed = update_page(load_result(args.out))
        print("updated docs/performance.md" if changed else "the page already holds the result")
        return 0
    if min(args.reps, args.steps, args.warmup, args.batch_size, args.threads) < 1:
        parser.error("--reps, --steps, --warmup, --batch-size and --threads must be positive")
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    result = measure(args.reps, args.steps, args.warmup, args.batch_size, args.threads,
                     log=lambda msg: print(msg, file=sys.stderr, flush=True))
    result["command"] = shlex.join(["python", "-m", "bench.cnn", *argv])
    result["started"] = started
    atomic_write(args.out, (json.dumps(result, indent=2) + "\n").encode("utf-8"))
    print(render(result))
    print(f"raw numbers: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
