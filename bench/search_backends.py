"""``python -m bench.search_backends``: one ``neuralab search`` of the bundled white wines on the
local backend and on a two-worker Ray cluster started here (``ray start --head --num-cpus 2``),
interleaved, each a whole process timed from the outside.

Both searches must give the same leaderboard (the same settings, seeds and folds); the result
is the wall time of each, the time of the search phase alone (from ``leaderboard.json``: the
trainings, without the start-up and the final training of the best setting, which are the same
on both), and their ratio.  Stored in ``bench/results/search_backends.json`` with the commit,
CPU, BLAS kernel and the load average during the run, rendered into docs/search.md;
``--pages`` renders the page again from the stored result.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.__main__ import RESULTS, ROOT, wrap
from neuralab.io import atomic_write
from neuralab.io.pages import replace_block
from neuralab.io.provenance import run_metadata

RESULT = RESULTS / "search_backends.json"
PAGE = ROOT / "docs" / "search.md"
BLOCK = "SEARCH BACKENDS"
#: the search measured: 8 settings x 3 folds of the white wines (4,898 rows), 40 epochs at most
SEARCH = ["wine-quality", "--trials", "8", "--cv", "3", "--epochs", "40", "--patience", "10",
          "--quiet"]
REPEATS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(cpus: int = 2) -> tuple[subprocess.Popen, str, dict[str, str], str]:
    """``ray start --head --block`` in its own process group; (process, address, env, temp)."""
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="r", dir="/tmp")  # Ray's socket paths must stay short
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    head = subprocess.Popen([ray, "start", "--head", "--block", f"--port={port}",
                             f"--num-cpus={cpus}", "--include-dashboard=false",
                             "--disable-usage-stats", f"--temp-dir={temp}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the GCS listens when the head is up
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    time.sleep(2.0)  # the raylet registers its CPUs a moment after the GCS opens
    return head, address, env, temp


def stop_cluster(head: subprocess.Popen, temp: str) -> None:
    try:
        os.killpg(head.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    head.wait()
    shutil.rmtree(temp, ignore_errors=True)


def run_search(args: list[str], out: Path, env: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "neuralab", "search", *SEARCH, *args,
                           "--out", str(out), "--overwrite"], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"neuralab search {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    board = json.loads((out / "leaderboard.json").read_text())
    with open(out / "leaderboard.csv") as f:
        table = [[r["trial"], r["hidden"], r["lr"], r["weight_decay"], r["val_loss"]]
                 for r in csv.DictReader(f)]
    return {"wall": wall, "search": board["seconds"], "trainings": board["trainings"],
            "leaderboard": table, "best": board["best"]}


def benchmark(repeats: int = REPEATS) -> dict[str, Any]:
    head, address, env, temp = start_cluster(2)
    runs: dict[str, list[dict[str, Any]]] = {"local": [], "ray": []}
    loads = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(repeats):
                for name, args in (("local", []),
                                   ("ray", ["--backend", "ray", "--address", address])):
                    runs[name].append(run_search(args, Path(tmp) / name, env))
                    loads.append(os.getloadavg()[0])
    finally:
        stop_cluster(head, temp)
    tables = {json.dumps(r["leaderboard"]) for rs in runs.values() for r in rs}
    if len(tables) != 1:
        raise RuntimeError("the local and Ray searches gave different leaderboards")
    summary = {name: {"wall": statistics.median(r["wall"] for r in rs),
                      "search": statistics.median(r["search"] for r in rs),
                      "trainings": rs[0]["trainings"]} for name, rs in runs.items()}
    return {"command": "python -m bench.search_backends", "search": SEARCH, "repeats": repeats,
            "workers": 2, "machine": run_metadata(), "load_average": loads,
            "summary": summary, "runs": runs, "same_leaderboard": True,
            "best": runs["local"][0]["best"]}


def render(result: dict[str, Any]) -> str:
    s, m = result["summary"], result["machine"]
    local, ray = s["local"], s["ray"]
    lines = [
        wrap(f"`neuralab search {' '.join(result['search'])}` ({local['trainings']} trainings), "
             f"median of {result['repeats']} interleaved runs on {m['cpu']} ({m['blas']}); the "
             f"same leaderboard on both backends:"),
        "",
        "| backend | whole command (s) | the trainings (s) |",
        "|---|---|---|",
        f"| local (one process) | {local['wall']:.1f} | {local['search']:.1f} |",
        f"| Ray, {result['workers']} workers (`ray start --head --num-cpus "
        f"{result['workers']}`) | {ray['wall']:.1f} | {ray['search']:.1f} |",
        f"| ratio Ray / local | {ray['wall'] / local['wall']:.2f} | "
        f"{ray['search'] / local['search']:.2f} |",
        "",
        wrap(f"Load average during the runs: {min(result['load_average']):.1f} to "
             f"{max(result['load_average']):.1f} (other work on the machine slows both alike). "
             f"Commit {m['commit']}."),
    ]
    return "\n".join(lines) + "\n"


def update_page(page: Path = PAGE, result: Path = RESULT) -> bool:
    old = page.read_text(encoding="utf-8")
    text = replace_block(old, BLOCK, render(json.loads(Path(result).read_text())))
    if text != old:
        atomic_write(page, text.encode("utf-8"))
    return text != old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_backends",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--pages", action="store_true",
                        help="only render docs/search.md from the stored result")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    if not args.pages:
        result = benchmark(args.repeats)
        atomic_write(RESULT, (json.dumps(result, indent=1) + "\n").encode("utf-8"))
        print(render(result))
        print(f"wrote {RESULT}")
    print("docs/search.md " + ("updated" if update_page() else "unchanged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
