"""The command line and the demo behind `make demo`."""

import json
import subprocess
import sys

import numpy as np

import neuralab
from neuralab.demo import run_demo


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "neuralab", *args], capture_output=True, text=True, cwd=cwd
    )


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"neuralab {neuralab.__version__}"


def test_bad_arguments_exit_nonzero_without_traceback():
    proc = run_cli("demo", "--epochs", "many")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "invalid int value" in proc.stderr


def test_demo_runs_the_practicals_and_writes_a_loadable_model(tmp_path, capsys):
    assert run_demo(seed=0, epochs=60, out_dir=tmp_path) == 0
    out = capsys.readouterr().out
    assert "perceptron on XOR: did NOT converge" in out
    assert "Total params: 515" in out
    model = neuralab.load(tmp_path / "iris.safetensors")
    assert sum(p.data.size for p in model.parameters()) == 515
    history = json.loads((tmp_path / "iris_history.json").read_text())
    assert len(history["loss"]) == len(history["val_loss"]) >= 1
    assert np.isfinite(history["loss"]).all()
    assert (tmp_path / "iris_history.png").stat().st_size > 1000


def test_lab_list_names_every_lab():
    from neuralab import labs

    proc = run_cli("lab", "list")
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == labs.names()


def test_lab_run_takes_settings_from_toml_and_set(tmp_path):
    config = tmp_path / "act.toml"
    config.write_text('points = 101\nfunctions = ["sigmoid", "tanh"]\nx_min = -3.0\n')
    proc = run_cli("lab", "run", "activations", "--config", str(config), "--set", "x_min=-4",
                   "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["config"] == {"x_min": -4.0, "x_max": 6.0, "points": 101,
                               "functions": ["sigmoid", "tanh"]}
    assert set(saved["result"]["values"]) == {"sigmoid", "tanh"}


def test_lab_run_bad_input_is_one_line_without_traceback(tmp_path):
    for args in (["nope"], ["activations", "--set", "points=many"],
                 ["activations", "--set", "colour=red"],
                 ["activations", "--config", str(tmp_path / "missing.toml")]):
        proc = run_cli("lab", "run", *args, "--out", str(tmp_path / "o"))
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("neuralab: error: ")


def test_demo_with_zero_epochs_is_one_clear_line(tmp_path):
    proc = run_cli("demo", "--epochs", "0", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--epochs" in proc.stderr
    assert proc.stdout == ""  # rejected before any practical runs
    assert not (tmp_path / "run").exists()


def test_an_output_path_that_is_a_file_is_one_clear_line(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    for args in (["lab", "run", "perceptron-xor", "--quick", "--out", str(taken)],
                 ["lab", "run", "perceptron-xor", "--quick", "--out", str(taken / "sub")],
                 ["demo", "--out", str(taken)]):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and str(taken) in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert proc.stdout == ""  # refused before running anything
    assert taken.read_text() == "not a directory"
