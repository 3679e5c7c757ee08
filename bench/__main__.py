"""``python -m bench``: neuralab vs PyTorch (CPU) vs scikit-learn, interleaved in one run.

Every measurement runs in a fresh process (so import time and peak memory are per framework),
with the same thread count for everyone; repetitions are interleaved (neuralab, torch, sklearn,
neuralab, ...)
so that noise from the shared machine hits all of them alike.  Prints a markdown table and writes
``bench/results/latest.json`` with every raw number, the medians, spreads and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def child_env(threads: int) -> dict[str, str]:
    """The environment of every measured process: the same thread count for every framework.

    OPENBLAS_* variables that the environment sets (a pinned kernel, a cache size) are kept: the
    run records the kernel that was used, so a table measured under a pinned kernel says so."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH")])
    )
    return env


def run_worker(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench worker {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def summarize(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=3, help="repetitions of each measurement (default 3)"
    )
    parser.add_argument("--epochs", type=int, default=2, help="MLP epochs per run (default 2)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--quick", action="store_true", help="a fast smoke run: 1 rep, 6000 samples"
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the batch-size sweep")
    parser.add_argument("--no-size-sweep", action="store_true",
                        help="skip the sweep of network sizes and the update alone")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    if args.quick:
        args.reps, args.epochs = 1, 1
    n_train = 6000 if args.quick else 0
    env = child_env(args.threads)
    out: dict = {
        # the machine as a measured process sees it: CPU, versions, BLAS kernel and threads
        "machine": {**run_worker(["machine"], env), "cpus": os.cpu_count(),
                    "threads": args.threads},
        "command": command,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": {**vars(args), "short_reps": short_reps(args)},
    }
    t_start = time.perf_counter()

    log("GEMM rate (NumPy float32 2048x2048) ...")
    gemm = [run_worker(["gemm"], env)["gflops"] for _ in range(args.reps)]
    out["gemm_gflops"] = summarize(gemm)

    log("import time ...")
    imports: dict[str, list[float]] = {"neuralab": [], "torch": []}
    for _ in range(max(args.reps, 3)):
        for fw in imports:
            imports[fw].append(run_worker(["import", fw], env)["import_seconds"])
    out["import_seconds"] = {fw: summarize(v) for fw, v in imports.items()}

    log("small network (4-64-3, batch 16, Adam) ...")
    small: dict[str, list[float]] = {"neuralab": [], "neuralab_graph": [], "torch": [],
                                     **{t: [] for t in TORCH_FAST}}
    for _ in range(short_reps(args)):
        for fw in small:
            small[fw].append(run_worker(["small", fw, "--steps", "3000", "--threads",
                                         str(args.threads)], env)["step_microseconds"])
    out["small_step_us"] = {fw: summarize(v) for fw, v in small.items()}

    def mlp_runs(frameworks: list[str], batch: int) -> dict:
        runs: dict[str, list[dict]] = {fw: [] for fw in frameworks}
        for rep in range(args.reps):
            for fw in frameworks:
                log(f"MLP epoch: {fw}, batch {batch}, rep {rep + 1}/{args.reps} ...")
                runs[fw].append(
                    run_worker(
                        [
                            "mlp",
                            fw,
                            "--batch-size",
                            str(batch),
                            "--epochs",
                            str(args.epochs),
                            "--n-train",
                            str(n_train),
                            "--threads",
                            str(args.threads),
                            "--seed",
                            str(rep),
                        ],
                        env,
                    )
                )
        return runs

    main_runs = mlp_runs(["neuralab", "torch", "sklearn", *TORCH_FAST], 128)
    first = main_runs["neuralab"][0]
    out["mlp"] = {"data": first["data"], "n_train": first["n_train"], "epochs": args.epochs}
    for fw, runs in main_runs.items():
        # the first epoch includes warm-up (page faults, allocator); report every epoch's median
        secs = [s for r in runs for s in r["epoch_seconds"]]
        out["mlp"][fw] = {
            "epoch_seconds": summarize(secs),
            "test_accuracy": summarize([r["test_accuracy"] for r in runs]),
            "peak_rss_mb": summarize([r["peak_rss_mb"] for r in runs]),
            "achieved_gflops": first["flops_per_epoch"] / statistics.median(secs) / 1e9,
        }
    gemm_med = out["gemm_gflops"]["median"]
    for fw in main_runs:
        out["mlp"][fw]["fraction_of_gemm"] = out["mlp"][fw]["achieved_gflops"] / gemm_med

    if not args.no_sweep:
        out["sweep"] = {}
        for batch in (16, 64, 256, 1024):
            runs = mlp_runs(["neuralab", "torch"], batch)
            out["sweep"][batch] = {
                fw: summarize([s for r in rs for s in r["epoch_seconds"]])
                for fw, rs in runs.items()
            }

    if not args.no_size_sweep:
        size_sweep_and_update(out, args, env)

    med = lambda d: d["median"]  # noqa: E731
    nl_mlp, pt_mlp, sk_mlp = (
        med(out["mlp"][fw]["epoch_seconds"]) for fw in ("neuralab", "torch", "sklearn")
    )
    out["ratios"] = {
        "mlp_epoch_vs_torch": nl_mlp / pt_mlp,
        "mlp_epoch_vs_sklearn": nl_mlp / sk_mlp,
        "small_step_vs_torch": med(out["small_step_us"]["neuralab"])
        / med(out["small_step_us"]["torch"]),
        "mlp_fraction_of_gemm": out["mlp"]["neuralab"]["fraction_of_gemm"],
        "peak_memory_vs_torch": med(out["mlp"]["neuralab"]["peak_rss_mb"])
        / med(out["mlp"]["torch"]["peak_rss_mb"]),
        "import_time_vs_torch": med(out["import_seconds"]["neuralab"])
        / med(out["import_seconds"]["torch"]),
        "mlp_epoch_vs_torch_fused": nl_mlp / med(out["mlp"]["torch_fused"]["epoch_seconds"]),
        "small_step_vs_torch_fused": med(out["small_step_us"]["neuralab"])
        / med(out["small_step_us"]["torch_fused"]),
    }
    if "size_sweep" in out:
        out["ratios"]["size_sweep_worst_vs_torch_fused"] = max(
            r["ratio"] for r in out["size_sweep"])
        out["ratios"]["update_vs_torch_fused"] = out["update"]["ratio_vs_torch_fused"]
    out["targets"] = {
        "mlp_epoch_vs_torch": ("<=", 0.8),
        "mlp_epoch_vs_sklearn": ("<=", 0.6),
        "small_step_vs_torch": ("<=", 0.3),
        "mlp_fraction_of_gemm": (">=", 0.5),
        "peak_memory_vs_torch": ("<", 1.0),
        "import_time_vs_torch": ("<", 0.1),
        "mlp_epoch_vs_torch_fused": ("<=", 0.8),
        "small_step_vs_torch_fused": ("<=", 0.25),
        "size_sweep_worst_vs_torch_fused": ("<=", 1.0),
        "update_vs_torch_fused": ("<=", 1.0),
    }
    out["wall_seconds"] = time.perf_counter() - t_start

    RESULTS.mkdir(exist_ok=True)
    tmp = RESULTS / "latest.json.tmp"
    tmp.write_text(json.dumps(out, indent=2))
    tmp.replace(RESULTS / "latest.json")
    print(describe_run(out) + "\n\n" + render_markdown(out))
    print(f"\nraw numbers: {RESULTS / 'latest.json'}")
    return 0


FRAMEWORKS = ("neuralab", "torch", "sklearn")
#: PyTorch's faster Adam settings, measured besides its default ("torch"); fused is the reference
TORCH_FAST = ("torch_fused", "torch_foreach")
TORCH_LABELS = {"torch_fused": "PyTorch fused=True", "torch_foreach": "PyTorch foreach=True",
                "torch": "PyTorch default"}
#: the size sweep: (hidden width, hidden layers, batch), Adam, 784 inputs, 10 classes
SIZE_SWEEP = [(64, 2, 128), (256, 2, 128), (1024, 2, 128), (2048, 2, 128), (128, 8, 128),
              (128, 32, 128), (256, 2, 16), (256, 2, 1024)]
SIZE_SWEEP_QUICK = [(64, 2, 128), (2048, 2, 128), (128, 32, 128)]
#: the Adam update alone, on the 2 x 2048 network; neuralab_reference: the whole-group update
UPDATE_FRAMEWORKS = ("neuralab", "neuralab_numpy", "neuralab_reference", "torch_fused",
                     "torch_foreach", "torch")
#: bytes that one Adam update must move per parameter: read value, gradient, m, v; write three
ADAM_BYTES_PER_PARAMETER = 28


def short_reps(args: argparse.Namespace) -> int:
    """Repetitions of the short measurements (the small step, the size sweep, the update
    alone): at least five in a full run, since a process of a second or two on a shared machine
    can land in a busy spell (single runs of one sweep row varied by half on the machine of
    the stored results), and these runs are cheap."""
    return args.reps if args.quick else max(args.reps, 5)


def size_sweep_and_update(out: dict, args: argparse.Namespace, env: dict[str, str]) -> None:
    """ms per training step over network sizes (neuralab against PyTorch fused), then the Adam
    update alone against the memory bandwidth; fresh processes, interleaved repetitions."""
    threads = ["--threads", str(args.threads)]
    seconds = "0.2" if args.quick else "1.0"
    rows = []
    for width, depth, batch in SIZE_SWEEP_QUICK if args.quick else SIZE_SWEEP:
        runs: dict[str, list[float]] = {"neuralab": [], "neuralab_graph": [], "torch_fused": []}
        for rep in range(short_reps(args)):
            for fw in runs:
                log(f"size sweep: {fw}, {depth} x {width}, batch {batch}, rep {rep + 1} ...")
                runs[fw].append(run_worker(
                    ["sweep", fw, "--width", str(width), "--depth", str(depth), "--batch-size",
                     str(batch), "--seconds", seconds, "--seed", str(rep), *threads], env
                )["step_ms"])
        row = {"width": width, "depth": depth, "batch": batch,
               **{fw: summarize(v) for fw, v in runs.items()}}
        row["ratio"] = row["neuralab"]["median"] / row["torch_fused"]["median"]
        row["ratio_graph"] = row["neuralab_graph"]["median"] / row["torch_fused"]["median"]
        rows.append(row)
    out["size_sweep"] = rows

    updates: dict[str, list[float]] = {fw: [] for fw in UPDATE_FRAMEWORKS}
    bandwidth: dict[str, list[float]] = {"one_thread": [], "threads": []}
    parameters = 0
    for rep in range(short_reps(args)):
        log(f"Adam update alone and memory bandwidth, rep {rep + 1} ...")
        bw = run_worker(["bandwidth", *threads], env)
        for key in bandwidth:
            bandwidth[key].append(bw[f"gb_per_s_{key}"])
        for fw in UPDATE_FRAMEWORKS:
            res = run_worker(["update", fw, "--repeats", "5" if args.quick else "20", *threads],
                             env)
            updates[fw].append(res["update_ms"])
            parameters = res["parameters"]
    best_bw = max(statistics.median(v) for v in bandwidth.values())
    out["update"] = {
        "parameters": parameters,
        "bytes_per_parameter": ADAM_BYTES_PER_PARAMETER,
        "bandwidth_gb_per_s": {k: summarize(v) for k, v in bandwidth.items()},
        "bound_ms": ADAM_BYTES_PER_PARAMETER * parameters / (best_bw * 1e9) * 1e3,
        **{fw: summarize(v) for fw, v in updates.items()},
    }
    out["update"]["ratio_vs_torch_fused"] = (
        out["update"]["neuralab"]["median"] / out["update"]["torch_fused"]["median"])

#: what each ratio of ``out["ratios"]`` compares, for the targets table
TARGET_LABELS = {
    "mlp_epoch_vs_torch": "MLP s/epoch vs PyTorch",
    "mlp_epoch_vs_sklearn": "MLP s/epoch vs scikit-learn",
    "small_step_vs_torch": "4-64-3 step vs PyTorch",
    "mlp_fraction_of_gemm": "MLP FLOP rate / GEMM rate",
    "peak_memory_vs_torch": "peak memory vs PyTorch",
    "import_time_vs_torch": "import time vs PyTorch",
    "mlp_epoch_vs_torch_fused": "MLP s/epoch vs PyTorch fused Adam",
    "small_step_vs_torch_fused": "4-64-3 step vs PyTorch fused Adam",
    "size_sweep_worst_vs_torch_fused": "size sweep, worst row vs PyTorch fused Adam",
    "update_vs_torch_fused": "Adam update alone (5.8 M) vs PyTorch fused",
}


def plural(n: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def wrap(text: str, width: int = 100) -> str:
    """``text`` wrapped at ``width`` columns, never inside `inline code` or a hyphenated word."""
    guarded = re.sub(r"`[^`]*`", lambda m: m[0].replace(" ", "\0"), text)
    wrapped = textwrap.fill(guarded, width, break_on_hyphens=False, break_long_words=False)
    return wrapped.replace("\0", " ")


def describe_run(out: dict) -> str:
    """Where and how a stored run was measured: the command, its date and settings, the CPU,
    Python and framework versions, the BLAS with its kernel, and the thread count."""
    m, s = out["machine"], out["settings"]
    kind = ("a quick smoke run (not a measurement to quote)" if s.get("quick")
            else "a full run")
    coretype = m.get("openblas_coretype")
    pinned = f" (pinned by OPENBLAS_CORETYPE={coretype})" if coretype else ""
    return wrap(
        f"Measured with `{out['command']}` on {out['started']}: {kind}, "
        f"{plural(s['reps'], 'repetition')} of {plural(s['epochs'], 'epoch')} each"
        + (f" ({s['short_reps']} of the small step, the size sweep and the update alone)"
           if s.get("short_reps", s["reps"]) != s["reps"] else "")
        + f", medians with (min-max) over repetitions; at commit `{m['commit']}`. Machine: "
        f"{m['cpu']}, {m['platform']}, {m['threads']} threads for every framework; Python "
        f"{m['python']}, "
        f"NumPy {m['numpy']} ({m['blas']}{pinned}), PyTorch {m['torch']}, scikit-learn "
        f"{m['scikit-learn']}."
    )


def _spread(d: dict, fmt: str = "{:.3f}") -> str:
    return f"{fmt.format(d['median'])} ({fmt.format(d['min'])}-{fmt.format(d['max'])})"


def _target_met(value: float, op: str, goal: float) -> bool:
    return {"<=": value <= goal, ">=": value >= goal, "<": value < goal}[op]


def render_markdown(out: dict) -> str:
    """The tables of a run: the comparison, the batch-size sweep (when run) and the targets."""

    def row(label: str, results: dict, key: str, fmt: str) -> str:
        cells = " | ".join(_spread(results[fw][key], fmt) for fw in FRAMEWORKS)
        return f"| {label} | {cells} |"

    m = out["mlp"]
    lines = [
        f"Data: {m['data']}, {m['n_train']} training samples, {plural(m['epochs'], 'epoch')} "
        "per run.",
        "",
        "| measurement | neuralab | PyTorch | scikit-learn |",
        "|---|---|---|---|",
        row("MLP 784-256-128-10, batch 128: s/epoch", m, "epoch_seconds", "{:.3f}"),
        f"| MLP test accuracy (after {plural(m['epochs'], 'epoch')}) | "
        + " | ".join(f"{m[fw]['test_accuracy']['median']:.4f}" for fw in FRAMEWORKS)
        + " |",
        f"| MLP achieved GFLOP/s (share of GEMM {out['gemm_gflops']['median']:.0f} GFLOP/s) | "
        + " | ".join(
            f"{m[fw]['achieved_gflops']:.1f} ({m[fw]['fraction_of_gemm']:.0%})"
            for fw in FRAMEWORKS
        )
        + " |",
        row("MLP peak resident memory, MB", m, "peak_rss_mb", "{:.0f}"),
        "| 4-64-3 step, batch 16, Adam: us | "
        + " | ".join(_spread(out["small_step_us"][fw], "{:.1f}") for fw in ("neuralab", "torch"))
        + " | |",
        f"| import time, s | {_spread(out['import_seconds']['neuralab'])} | "
        f"{_spread(out['import_seconds']['torch'])} | |",
    ]
    if "sweep" in out:
        lines += [
            "",
            "| batch size | neuralab s/epoch | PyTorch s/epoch | ratio |",
            "|---|---|---|---|",
        ]
        for batch, r in out["sweep"].items():
            lines.append(
                f"| {batch} | {_spread(r['neuralab'])} | {_spread(r['torch'])} | "
                f"{r['neuralab']['median'] / r['torch']['median']:.2f} |"
            )
    if all(fw in m for fw in TORCH_FAST):
        lines += render_torch_settings(out)
    if "size_sweep" in out:
        lines += render_size_sweep(out)
    if "update" in out:
        lines += render_update(out)
    lines += ["", "| target (issues 5 and 15) | measured | goal | met |", "|---|---|---|---|"]
    for name, value in out["ratios"].items():
        op, goal = out["targets"][name]
        met = "yes" if _target_met(value, op, goal) else "NO"
        lines.append(f"| {TARGET_LABELS.get(name, name)} | {value:.3f} | {op} {goal} | {met} |")
    return "\n".join(lines)


def render_torch_settings(out: dict) -> list[str]:
    """neuralab against each of PyTorch's Adam implementations (fused is the reference)."""
    m, small = out["mlp"], out["small_step_us"]
    nl_epoch = m["neuralab"]["epoch_seconds"]["median"]
    nl_small = small["neuralab"]["median"]
    lines = ["", "| Adam setting | MLP s/epoch | neuralab / it | 4-64-3 step, us | neuralab / it |",
             "|---|---|---|---|---|",
             f"| neuralab (captured step, as Trainer.fit) | "
             f"{_spread(m['neuralab']['epoch_seconds'])} | | "
             f"{_spread(small['neuralab'], '{:.1f}')} | |"]
    if "neuralab_graph" in small:
        lines.append(f"| neuralab, graph built every step | | | "
                     f"{_spread(small['neuralab_graph'], '{:.1f}')} | "
                     f"{nl_small / small['neuralab_graph']['median']:.2f} |")
    for fw in (*TORCH_FAST, "torch"):
        lines.append(
            f"| {TORCH_LABELS[fw]} | {_spread(m[fw]['epoch_seconds'])} | "
            f"{nl_epoch / m[fw]['epoch_seconds']['median']:.2f} | "
            f"{_spread(small[fw], '{:.1f}')} | {nl_small / small[fw]['median']:.2f} |")
    return lines


def render_size_sweep(out: dict) -> list[str]:
    """ms per training step over network sizes, neuralab against PyTorch fused Adam."""
    graph = all("neuralab_graph" in r for r in out["size_sweep"])
    lines = ["", "| network (784 inputs, 10 classes, Adam) | parameters | neuralab ms/step | "
             + ("neuralab, graph every step | " if graph else "")
             + "PyTorch fused ms/step | ratio |",
             "|---|---|---|---|---|" + ("---|" if graph else "")]
    for r in out["size_sweep"]:
        n = 784 * r["width"] + r["width"] + (r["depth"] - 1) * (r["width"] ** 2 + r["width"]) \
            + 10 * r["width"] + 10
        lines.append(
            f"| {r['depth']} hidden x {r['width']}, batch {r['batch']} | {n:,} | "
            f"{_spread(r['neuralab'], '{:.2f}')} | "
            + (f"{_spread(r['neuralab_graph'], '{:.2f}')} | " if graph else "")
            + f"{_spread(r['torch_fused'], '{:.2f}')} | {r['ratio']:.2f} |")
    return lines


def render_update(out: dict) -> list[str]:
    """The Adam update alone against the bound the measured memory bandwidth sets."""
    u = out["update"]
    bw = u["bandwidth_gb_per_s"]
    labels = {"neuralab": "neuralab (compiled kernel, threaded)",
              "neuralab_numpy": "neuralab without numba (NumPy, blocked, threaded)",
              "neuralab_reference": "neuralab, NumPy reference (whole group)", **TORCH_LABELS}
    lines = ["", wrap(
        f"One Adam update of the 2 x 2048 network's {u['parameters']:,} parameters (fixed "
        f"gradients). Memory bandwidth of NumPy's in-place `a += b` in the same run: "
        f"{_spread(bw['one_thread'], '{:.1f}')} GB/s on one thread, "
        f"{_spread(bw['threads'], '{:.1f}')} GB/s on {out['machine']['threads']}; at the "
        f"higher median, moving the {u['bytes_per_parameter']} bytes per parameter that an "
        f"update must read and write takes {u['bound_ms']:.2f} ms."),
        "", "| Adam update | ms | parameters/s | share of the bandwidth bound |",
        "|---|---|---|---|"]
    for fw in (fw for fw in UPDATE_FRAMEWORKS if fw in u):
        ms = u[fw]["median"]
        lines.append(f"| {labels[fw]} | {_spread(u[fw], '{:.2f}')} | "
                     f"{u['parameters'] / ms * 1e3 / 1e9:.2f} G | {u['bound_ms'] / ms:.0%} |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
