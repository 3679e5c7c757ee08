"""`neuralab search` (issue 14): the leaderboard and the best run, the test rows kept out, resume
of an interrupted search, clear refusals, and a search on a real `ray start` cluster that loses
a worker in the middle."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neuralab import cli
from neuralab.apps import search as search_app
from neuralab.apps.search import SearchConfig, partial_dir
from neuralab.apps.tabular import TabularConfig, prepare_table, split_rows, train_table

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import search_backends  # noqa: E402

SMALL = ["search", "iris", "--trials", "3", "--cv", "2", "--epochs", "12", "--patience", "4",
         "--quiet"]


def _board(out: Path) -> list[tuple]:
    with open(out / "leaderboard.csv") as f:
        return [(r["trial"], r["hidden"], r["lr"], r["weight_decay"], r["val_loss"])
                for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One small search through the command line, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("search") / "run"
    assert cli.main([*SMALL, "--out", str(out)]) == 0
    return out


def test_search_writes_leaderboard_figure_and_best_run(finished):
    names = {p.name for p in finished.iterdir()}
    assert {"leaderboard.csv", "leaderboard.json", "trials.png", "trials.jsonl", "search.toml",
            "best"} <= names
    board = json.loads((finished / "leaderboard.json").read_text())
    losses = [row["val_loss"] for row in board["leaderboard"]]
    assert losses == sorted(losses) and len(losses) == 3
    assert all(len(row["fold_losses"]) == 2 for row in board["leaderboard"])
    assert board["trainings"] == 3 * 2 and board["backend"] == "local"
    assert not partial_dir(finished).exists()  # the journal moved into the finished run
    best = board["leaderboard"][0]["params"]
    metrics = json.loads((finished / "best" / "metrics.json").read_text())
    assert metrics["config"]["hidden"] == best["hidden"]
    assert metrics["config"]["lr"] == best["lr"]
    assert metrics["test"] == board["best"]["test"]


def test_best_run_is_the_train_run_of_the_best_setting(finished, tmp_path):
    """The best setting trained again with neuralab train gives the same test metrics: the
    search's result is reproducible from its leaderboard."""
    best = json.loads((finished / "leaderboard.json").read_text())["leaderboard"][0]["params"]
    again = train_table(TabularConfig(data="iris", epochs=12, patience=4, verbose=0,
                                      hidden=tuple(best["hidden"]), lr=best["lr"],
                                      weight_decay=best["weight_decay"]))
    test = json.loads((finished / "best" / "metrics.json").read_text())["test"]
    assert again.test_metrics == pytest.approx(test, rel=0, abs=0)


def test_folds_never_hold_the_test_rows(monkeypatch):
    """Every fold's rows are training rows of neuralab train's split; the test rows are in
    none of them."""
    config = SearchConfig(data="iris", cv=3, trials=1, out="unused")
    data = prepare_table(config)
    fit_rows, val_rows, test_rows = split_rows(data, config)
    seen: list[np.ndarray] = []
    real = data.table.select
    data_table = data.table

    class Spy:
        def __getattr__(self, name):
            return getattr(data.table, name)

        def __len__(self):
            return len(data_table)

        def select(self, rows):
            seen.append(np.asarray(rows))
            return real(rows)

    data.table = Spy()
    folds = search_app._folds(data, config)
    assert len(folds) == 3 and seen
    used = np.unique(np.concatenate(seen))
    np.testing.assert_array_equal(used, np.sort(np.concatenate([fit_rows, val_rows])))
    assert not set(used) & set(test_rows)


def test_interrupted_search_resumes_without_redoing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    whole = tmp_path / "whole"
    assert cli.main([*SMALL, "--out", str(whole)]) == 0
    real = search_app._train_one
    calls = []

    def interrupt_after_four(shared, item):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(item[:2])
        return real(shared, item)

    monkeypatch.setattr(search_app, "_train_one", interrupt_after_four)
    assert cli.main([*SMALL, "--out", str(out)]) == cli.EXIT_INTERRUPTED
    message = capsys.readouterr().err
    assert "4 finished training(s)" in message and f"--resume {out}" in message
    assert not out.exists()  # nothing half-written where the run goes
    # starting it over by accident is refused, naming both ways on
    assert cli.main([*SMALL, "--out", str(out)]) == cli.EXIT_USER_ERROR
    assert "--resume" in capsys.readouterr().err
    calls.clear()
    monkeypatch.setattr(search_app, "_train_one", lambda s, i: calls.append(i[:2]) or real(s, i))
    assert cli.main(["search", "--resume", str(out), "--quiet"]) == 0
    assert len(calls) == 6 - 4  # only the unfinished trainings
    assert _board(out) == _board(whole)
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["resumed"] == 4 and board["trainings"] == 6


def test_interrupted_final_training_points_to_search_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"

    def interrupted_train(config, command=""):
        raise KeyboardInterrupt

    monkeypatch.setattr(search_app, "train_table", interrupted_train)
    assert cli.main([*SMALL, "--out", str(out)]) == cli.EXIT_INTERRUPTED
    message = capsys.readouterr().err
    assert f"neuralab search --resume {out}" in message and "train --resume" not in message
    assert not out.exists()
    monkeypatch.undo()
    assert cli.main(["search", "--resume", str(out), "--quiet"]) == 0
    assert (out / "best").is_dir()


def test_successive_halving_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["search", "iris", "--trials", "9", "--halving", "2", "--epochs", "18",
                     "--patience", "50", "--quiet", "--out", str(out)]) == 0
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["budgets"] == [2, 6, 18]
    assert [row["budget"] for row in board["leaderboard"]] == [18] + [6] * 2 + [2] * 6
    assert board["trainings"] == 9 + 3 + 1


@pytest.mark.parametrize("args, message", [
    (["--cv", "1"], "--cv 1"),
    (["--address", "10.0.0.1:6379"], "--backend ray"),
    (["--halving", "50", "--epochs", "10"], "--halving 50"),
    (["--trials", "0"], "--trials"),
])
def test_bad_settings_exit_2(args, message, tmp_path, capsys):
    code = cli.main(["search", "iris", *args, "--out", str(tmp_path / "x"), "--quiet"])
    assert code == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_resume_refusals(tmp_path, capsys, finished):
    assert cli.main(["search", "--resume", str(tmp_path / "nothing")]) == cli.EXIT_USER_ERROR
    assert "no interrupted search" in capsys.readouterr().err
    assert cli.main(["search", "--resume", str(tmp_path), "--trials", "4"]) == \
        cli.EXIT_USER_ERROR
    assert "drop --trials" in capsys.readouterr().err
    # an earlier complete search is refused without --overwrite, before any training
    assert cli.main([*SMALL, "--out", str(finished)]) == cli.EXIT_USER_ERROR
    assert "--overwrite" in capsys.readouterr().err


def test_ray_backend_missing_address_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("ray")
    port = search_backends._free_port()
    code = cli.main([*SMALL, "--backend", "ray", "--address", f"127.0.0.1:{port}",
                     "--out", str(tmp_path / "x")])
    assert code == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "cannot reach the Ray cluster" in err and "ray start --head" in err


# ---------------------------------------------------------------------- a real cluster
def _ray_workers_running_tasks() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::_ray_task"):
                found.append(int(entry))
    return found


@pytest.fixture
def ray_cluster():
    """`ray start --head` with two CPUs in its own process group (killed whole afterwards),
    token authentication on, as recent Ray releases do by default (bench/search_backends.py
    starts the benchmark's cluster the same way)."""
    pytest.importorskip("ray")
    head, address, env, temp = search_backends.start_cluster(2)
    try:
        yield address, env
    finally:
        search_backends.stop_cluster(head, temp)


@pytest.mark.slow
def test_search_on_a_ray_cluster_survives_a_lost_worker(ray_cluster, tmp_path):
    """neuralab search --address joins a `ray start` cluster; one worker process is killed
    while it trains; the search completes with every training scored exactly once and the
    leaderboard of the local backend."""
    address, env = ray_cluster
    args = ["wine-quality", "--trials", "4", "--epochs", "12", "--patience", "4", "--quiet"]
    local = tmp_path / "local"
    assert cli.main(["search", *args, "--out", str(local)]) == 0
    out = tmp_path / "ray"
    proc = subprocess.Popen([sys.executable, "-m", "neuralab", "search", *args, "--backend",
                             "ray", "--address", address, "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = partial_dir(out) / "trials.jsonl"
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        done = len(journal.read_text().splitlines()) - 1 if journal.exists() else 0
        busy = _ray_workers_running_tasks()
        if done >= 1 and busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    assert killed is not None, "no worker was caught training; the test did not test anything"
    assert not Path(f"/proc/{killed}").exists()
    records = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()[1:]]
    assert sorted((r["trial"], r["fold"]) for r in records) == [(t, 0) for t in range(4)]
    assert _board(out) == _board(local)
    assert json.loads((out / "leaderboard.json").read_text())["backend"] == "ray"
