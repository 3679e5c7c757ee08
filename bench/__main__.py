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
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def child_env(threads: int, keep_openblas_env: bool) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if not keep_openblas_env:
        # This workplace pins OpenBLAS to an older kernel (for old builds' sake); a current NumPy
        # runs
        # its native kernel correctly and much faster.  The run records which kernel was used.
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
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


def blas_info(env: dict[str, str]) -> str:
    code = (
        "import json, numpy; from threadpoolctl import threadpool_info; "
        "print(json.dumps([(i.get('internal_api'), i.get('version'), i.get('architecture'), "
        "i.get('num_threads')) for i in threadpool_info()]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return proc.stdout.strip() or proc.stderr.strip()[-200:]


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
    parser.add_argument(
        "--keep-openblas-env",
        action="store_true",
        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as set in the environment",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.epochs = 1, 1
    n_train = 6000 if args.quick else 0
    env = child_env(args.threads, args.keep_openblas_env)
    out: dict = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "blas": blas_info(env),
            "threads": args.threads,
        },
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": vars(args),
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
    small: dict[str, list[float]] = {"neuralab": [], "torch": []}
    for _ in range(args.reps):
        for fw in small:
            small[fw].append(run_worker(["small", fw, "--steps", "3000"], env)["step_microseconds"])
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

    main_runs = mlp_runs(["neuralab", "torch", "sklearn"], 128)
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
    for fw in ("neuralab", "torch", "sklearn"):
        out["mlp"][fw]["fraction_of_gemm"] = out["mlp"][fw]["achieved_gflops"] / gemm_med

    if not args.no_sweep:
        out["sweep"] = {}
        for batch in (16, 64, 256, 1024):
            runs = mlp_runs(["neuralab", "torch"], batch)
            out["sweep"][batch] = {
                fw: summarize([s for r in rs for s in r["epoch_seconds"]])
                for fw, rs in runs.items()
            }

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
    }
    out["targets"] = {
        "mlp_epoch_vs_torch": ("<=", 0.8),
        "mlp_epoch_vs_sklearn": ("<=", 0.6),
        "small_step_vs_torch": ("<=", 0.3),
        "mlp_fraction_of_gemm": (">=", 0.5),
        "peak_memory_vs_torch": ("<", 1.0),
        "import_time_vs_torch": ("<", 0.1),
    }
    out["wall_seconds"] = time.perf_counter() - t_start

    RESULTS.mkdir(exist_ok=True)
    tmp = RESULTS / "latest.json.tmp"
    tmp.write_text(json.dumps(out, indent=2))
    tmp.replace(RESULTS / "latest.json")
    print(render_markdown(out))
    print(f"\nraw numbers: {RESULTS / 'latest.json'}")
    return 0


FRAMEWORKS = ("neuralab", "torch", "sklearn")


def render_markdown(out: dict) -> str:
    def spread(d: dict, fmt: str = "{:.3f}") -> str:
        return f"{fmt.format(d['median'])} ({fmt.format(d['min'])}-{fmt.format(d['max'])})"

    def row(label: str, results: dict, key: str, fmt: str) -> str:
        cells = " | ".join(spread(results[fw][key], fmt) for fw in FRAMEWORKS)
        return f"| {label} | {cells} |"

    m = out["mlp"]
    lines = [
        f"Machine: {out['machine']['cpus']} CPUs, {out['machine']['threads']} threads, "
        f"Python {out['machine']['python']}, BLAS {out['machine']['blas']}",
        f"Data: {m['data']}, {m['n_train']} training samples, {m['epochs']} epoch(s) per run; "
        "medians with (min-max) over repetitions",
        "",
        "| measurement | neuralab | PyTorch | scikit-learn |",
        "|---|---|---|---|",
        row("MLP 784-256-128-10, batch 128: s/epoch", m, "epoch_seconds", "{:.3f}"),
        "| MLP test accuracy | "
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
        + " | ".join(spread(out["small_step_us"][fw], "{:.1f}") for fw in ("neuralab", "torch"))
        + " | |",
        f"| import time, s | {spread(out['import_seconds']['neuralab'])} | "
        f"{spread(out['import_seconds']['torch'])} | |",
    ]
    if "sweep" in out:
        lines += [
            "",
            "| batch size | neuralab s/epoch | PyTorch s/epoch | ratio |",
            "|---|---|---|---|",
        ]
        for batch, r in out["sweep"].items():
            lines.append(
                f"| {batch} | {spread(r['neuralab'])} | {spread(r['torch'])} | "
                f"{r['neuralab']['median'] / r['torch']['median']:.2f} |"
            )
    lines += ["", "| target | measured | goal | met |", "|---|---|---|---|"]
    for name, value in out["ratios"].items():
        op, goal = out["targets"][name]
        met = value <= goal if op == "<=" else value >= goal if op == ">=" else value < goal
        lines.append(f"| {name} | {value:.3f} | {op} {goal} | {'yes' if met else 'NO'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
