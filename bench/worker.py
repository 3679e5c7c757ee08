"""One measurement in a fresh process, so that import time and peak memory belong to one framework.

Run as ``python -m bench.worker TASK FRAMEWORK [options]``; prints one JSON object on stdout.
Thread counts are fixed through the environment by the parent before this process starts.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

HIDDEN = (256, 128)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_data(n_train: int | None) -> tuple[np.ndarray, ...]:
    from neuralab.data import datasets

    try:
        (xtr, ytr), (xte, yte) = datasets.load_fashion_mnist()
        source = "fashion-mnist"
    except (FileNotFoundError, OSError):
        rng = np.random.default_rng(0)
        xtr, ytr = datasets.make_synthetic_like_fashion_mnist(60000, rng=rng)
        xte, yte = datasets.make_synthetic_like_fashion_mnist(10000, rng=rng)
        source = "synthetic (Fashion-MNIST files absent)"
    # both loaders give float32 pixels in [0, 1], flattened to 784 features
    xtr = np.ascontiguousarray(xtr.reshape(len(xtr), -1), dtype=np.float32)
    xte = np.ascontiguousarray(xte.reshape(len(xte), -1), dtype=np.float32)
    if n_train:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), source


def mlp_flops_per_sample() -> float:
    """Matmul FLOPs of one training sample of 784-256-128-10: forward x W (2 m n per layer),
    backward dW = x^T g for every layer and dX = g W^T for all but the first (the input needs no
    gradient)."""
    dims = [784, *HIDDEN, 10]
    layers = list(zip(dims[:-1], dims[1:]))
    forward = sum(2 * a * b for a, b in layers)
    backward = sum(2 * a * b for a, b in layers) + sum(2 * a * b for a, b in layers[1:])
    return float(forward + backward)


# --------------------------------------------------------------------------- one training step
def train_step(model, loss_fn, opt, captured: bool = True):
    """One training step ``step(x, y)``: neuralab's as ``Trainer.fit`` makes it, the captured
    step (the recorded ops replayed, :mod:`neuralab.autograd.capture`), or, with
    ``captured=False``, the lecture's five calls with the graph built anew, which are also
    PyTorch's step (the same calls on a PyTorch model)."""
    if not captured:
        def step(x, y) -> None:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step
    from neuralab.autograd.capture import CapturedStep

    def forward(x, y):
        out = model(x)
        return out, loss_fn(out, y)

    replay = CapturedStep(forward)

    def step(x, y) -> None:
        opt.zero_grad()
        replay(x, y)
        opt.step()
    return step


# --------------------------------------------------------------------------- MLP epoch
def neuralab_mlp_model():
    """neuralab's 784-256-128-10 MLP (lazy layers: built by the first call)."""
    from neuralab import nn

    return nn.Sequential(
        [
            nn.Dense(HIDDEN[0], activation="relu"),
            nn.Dense(HIDDEN[1], activation="relu"),
            nn.Dense(10),
        ]
    )


def torch_mlp_model():
    """The same MLP in PyTorch."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(784, HIDDEN[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], 10),
    )


def mlp_neuralab(xtr, ytr, xte, yte, batch_size: int, epochs: int, seed: int) -> dict:
    import neuralab as nl
    from neuralab import nn, optim
    from neuralab.data import DataLoader

    # warm-up on a throwaway model: numba loads its compiled kernels (or compiles them, once per
    # machine) at the first step; PyTorch's first steps have their own one-off costs
    spare = neuralab_mlp_model()
    spare(xtr[:2])
    spare_step = train_step(spare, nn.CrossEntropyLoss(), optim.Adam(spare.parameters()))
    for i in range(3):
        rows = slice(i * batch_size, (i + 1) * batch_size)
        spare_step(xtr[rows], ytr[rows])
    rng = nl.seed(seed)
    model = neuralab_mlp_model()
    model(nl.tensor(xtr[:2]))  # build the lazy layers before timing
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader((xtr, ytr), batch_size=batch_size, shuffle=True, rng=rng)
    step = train_step(model, loss_fn, opt)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for xb, yb in loader:
            step(xb, yb)
        times.append(time.perf_counter() - t0)
    model.eval()
    with nl.no_grad():
        pred = model(xte).data.argmax(axis=1)
    return {"epoch_seconds": times, "test_accuracy": float((pred == yte).mean())}


#: PyTorch's Adam implementations on CPU: the default (per tensor), foreach (one call per op for
#: all tensors) and fused (one multi-threaded pass for the whole update), by framework name
TORCH_ADAM = {"torch": {}, "torch_foreach": {"foreach": True}, "torch_fused": {"fused": True}}


def mlp_torch(xtr, ytr, xte, yte, batch_size: int, epochs: int, seed: int,
              adam: dict | None = None) -> dict:
    import torch

    torch.manual_seed(seed)
    model = torch_mlp_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, **(adam or {}))
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    gen = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch_size):
            idx = perm[i : i + batch_size]
            loss = loss_fn(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        pred = model(torch.from_numpy(xte)).argmax(1).numpy()
    return {"epoch_seconds": times, "test_accuracy": float((pred == yte).mean())}


def mlp_sklearn(xtr, ytr, xte, yte, batch_size: int, epochs: int, seed: int) -> dict:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        solver="adam",
        learning_rate_init=1e-3,
        batch_size=batch_size,
        max_iter=1,
        shuffle=True,
        random_state=seed,
        warm_start=True,
        tol=0.0,
    )
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(epochs):
            t0 = time.perf_counter()
            clf.fit(xtr, ytr)
            times.append(time.perf_counter() - t0)
    return {"epoch_seconds": times, "test_accuracy": float((clf.predict(xte) == yte).mean())}


# --------------------------------------------------------------------------- small network
def small_neuralab_setup(seed: int) -> tuple:
    """The 4-64-3 network with Adam and one batch of 16: (model, loss, optimizer, x, y)."""
    import neuralab as nl
    from neuralab import nn, optim

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    nl.seed(seed)
    model = nn.Sequential([nn.Dense(64, activation="relu", input_dim=4), nn.Dense(3)])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    return model, nn.CrossEntropyLoss(), opt, x, y


def small_neuralab(steps: int, seed: int, captured: bool = True) -> dict:
    model, loss_fn, opt, x, y = small_neuralab_setup(seed)
    step = train_step(model, loss_fn, opt, captured)
    return _time_calls(lambda: step(x, y), steps)


def small_torch(steps: int, seed: int, adam: dict | None = None) -> dict:
    import torch

    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((16, 4)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 3, 16))
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, **(adam or {}))
    step = train_step(model, torch.nn.CrossEntropyLoss(), opt, captured=False)
    return _time_calls(lambda: step(x, y), steps)


def _time_calls(step, steps: int) -> dict:
    """Microseconds per call of ``step`` (a training step) after up to 200 untimed ones."""
    for _ in range(min(200, steps)):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return {"step_microseconds": (time.perf_counter() - t0) / steps * 1e6}


# --------------------------------------------------------------------------- size sweep
def sweep_step(framework: str, width: int, depth: int, batch: int, seconds: float,
               seed: int = 0) -> dict:
    """Milliseconds per Adam training step of a 784-(width x depth)-10 ReLU MLP on a fixed
    random batch: the median of timed groups of steps filling about ``seconds``."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    if framework.startswith("neuralab"):
        import neuralab as nl
        from neuralab import nn, optim

        nl.seed(seed)
        model = nn.Sequential([nn.Dense(width, activation="relu", input_dim=784)]
                              + [nn.Dense(width, activation="relu") for _ in range(depth - 1)]
                              + [nn.Dense(10)])
        opt = optim.Adam(model.parameters(), lr=1e-3)
        train = train_step(model, nn.CrossEntropyLoss(), opt, framework == "neuralab")
    else:
        import torch

        torch.manual_seed(seed)
        dims = [784] + [width] * depth
        layers: list = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, **TORCH_ADAM[framework])
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        train = train_step(model, torch.nn.CrossEntropyLoss(), opt, captured=False)

    def step() -> None:
        train(x, y)

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    step()
    per_step = time.perf_counter() - t0
    group = max(1, int(seconds / 5 / max(per_step, 1e-6)))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(group):
            step()
        times.append((time.perf_counter() - t0) / group)
    n_params = 784 * width + width + (depth - 1) * (width * width + width) + width * 10 + 10
    return {"step_ms": float(np.median(times)) * 1e3, "parameters": n_params}


# --------------------------------------------------------------------------- the update alone
#: the 2 x 2048 network's tensors: 5.8 M parameters
UPDATE_SHAPES = [(784, 2048), (2048,), (2048, 2048), (2048,), (2048, 10), (10,)]


def adam_update(framework: str, repeats: int) -> dict:
    """Milliseconds per Adam update of the 2 x 2048 network's parameters with fixed gradients
    (the median of ``repeats`` timed updates after three untimed ones).  ``neuralab``: the
    compiled kernels, shared out over the threads (:mod:`neuralab.optim.blocked`);
    ``neuralab_numpy``: the NumPy path (kernels off, as without numba), blocked and threaded;
    ``neuralab_reference``: the NumPy reference, one call per ufunc on the whole group."""
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in UPDATE_SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in UPDATE_SHAPES]
    if framework.startswith("neuralab"):
        import neuralab as nl
        from neuralab import kernels, optim

        params = [nl.tensor(v, requires_grad=True) for v in values]
        opt = optim.Adam(params, lr=1e-3)
        opt._blocked_update = framework != "neuralab_reference"
        kernels.set_enabled(framework == "neuralab")

        def step() -> None:
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
    else:
        import torch

        params = [torch.nn.Parameter(torch.from_numpy(v)) for v in values]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g)
        opt = torch.optim.Adam(params, lr=1e-3, **TORCH_ADAM[framework])
        step = opt.step
    for _ in range(3):
        step()
    times = [_timed(step) for _ in range(repeats)]
    return {"update_ms": float(np.median(times)) * 1e3,
            "parameters": int(sum(v.size for v in values))}


def bandwidth(threads: int, n: int = 1 << 24, repeats: int = 10) -> dict:
    """Memory bandwidth as NumPy sees it: ``a += b`` on float32 arrays of ``n`` elements (128 MB
    in all, far more than the caches), 12 bytes moved per element (read a and b, write a: in
    place, as an optimizer update, so no cache line is read only to be overwritten), on one
    thread and split across ``threads`` threads (as the optimizer update splits its work); the
    best of ``repeats``."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    a, b = (rng.random(n, dtype=np.float32) for _ in range(2))
    bounds = [n * k // threads for k in range(threads + 1)]
    parts = list(zip(bounds[:-1], bounds[1:]))
    pool = ThreadPoolExecutor(max(1, threads))

    def split() -> None:
        list(pool.map(lambda ab: np.add(a[ab[0]:ab[1]], b[ab[0]:ab[1]], out=a[ab[0]:ab[1]]),
                      parts))

    out = {}
    for name, fn in (("one_thread", lambda: np.add(a, b, out=a)), ("threads", split)):
        fn()
        out[f"gb_per_s_{name}"] = 12 * n / min(_timed(fn) for _ in range(repeats)) / 1e9
    out["threads"] = threads
    return out


# --------------------------------------------------------------------------- import and GEMM
def import_time(framework: str) -> dict:
    t0 = time.perf_counter()
    __import__(
        {"neuralab": "neuralab", "torch": "torch", "sklearn": "sklearn.neural_network"}[framework]
    )
    return {"import_seconds": time.perf_counter() - t0}


def gemm_rate(n: int = 2048, repeats: int = 5) -> dict:
    """Single-precision GEMM rate with NumPy: the best of several n x n products (2 n^3 FLOPs
    each)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return {"gflops": 2 * n**3 / best / 1e9}


def machine() -> dict:
    """Where this process runs: commit, CPU model, Python, NumPy, BLAS with its kernel and
    threads (neuralab's provenance record), and the versions of the other frameworks."""
    from importlib.metadata import PackageNotFoundError, version

    from neuralab.io.provenance import run_metadata

    meta = run_metadata()
    for dist in ("torch", "scikit-learn"):
        try:
            meta[dist] = version(dist)
        except PackageNotFoundError:
            meta[dist] = "not installed"
    return meta


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("task", choices=["mlp", "small", "import", "gemm", "machine", "sweep",
                                         "update", "bandwidth"])
    parser.add_argument("framework", nargs="?", default="numpy")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)

    if args.framework.startswith("torch") and args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.task == "machine":
        json.dump(machine(), sys.stdout)
        return 0
    if args.task == "import":
        result = import_time(args.framework)
    elif args.task == "gemm":
        result = gemm_rate()
    elif args.task == "small":
        if args.framework.startswith("neuralab"):
            result = small_neuralab(args.steps, args.seed, args.framework == "neuralab")
        else:
            result = small_torch(args.steps, args.seed, TORCH_ADAM[args.framework])
    elif args.task == "sweep":
        result = sweep_step(args.framework, args.width, args.depth, args.batch_size,
                            args.seconds, args.seed)
    elif args.task == "update":
        result = adam_update(args.framework, args.repeats)
    elif args.task == "bandwidth":
        result = bandwidth(args.threads or 1)
    else:
        xtr, ytr, xte, yte, source = load_data(args.n_train or None)
        if args.framework.startswith("torch"):
            result = mlp_torch(xtr, ytr, xte, yte, args.batch_size, args.epochs, args.seed,
                               TORCH_ADAM[args.framework])
        else:
            run = {"neuralab": mlp_neuralab, "sklearn": mlp_sklearn}[args.framework]
            result = run(xtr, ytr, xte, yte, args.batch_size, args.epochs, args.seed)
        result["data"] = source
        result["n_train"] = len(xtr)
        result["flops_per_epoch"] = mlp_flops_per_sample() * len(xtr)
    result["peak_rss_mb"] = peak_rss_mb()
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
