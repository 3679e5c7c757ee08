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
