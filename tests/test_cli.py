"""The command line and the demo behind `make demo`."""

import json
import subprocess
import sys

import numpy as np
import pytest

import neuralab
from neuralab.apps.demo import run_demo


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


# ---------------------------------------------------------------------- bad input, exit codes
def test_a_toml_value_of_the_wrong_type_is_one_line_exit_2(tmp_path):
    # issue 9.6: `points = 1.5` was a TypeError traceback with exit 1 ("claim does not hold")
    config = tmp_path / "act.toml"
    for text, message in (("points = 1.5\n", "act.toml: points = 1.5: expected an integer"),
                          ('points = "many"\n', 'points = "many": expected an integer'),
                          ("points = [\n", "act.toml is not valid TOML"),
                          ("colour = 1\n", "act.toml: unknown setting 'colour'")):
        config.write_text(text)
        proc = run_cli("lab", "run", "activations", "--quick", "--config", str(config),
                       "--out", str(tmp_path / "o"))
        assert proc.returncode == 2, (text, proc.stderr)
        assert proc.stderr.startswith("neuralab: error: ") and message in proc.stderr
        assert "--set" not in proc.stderr and proc.stderr.count("\n") == 1


def test_an_invalid_set_value_is_a_clear_message(tmp_path):
    # issue 9.11: `--set points=0` gave "zero-size array to reduction operation maximum"
    for item, message in (("points=0", "points >= 2"), ("x_min=7", "x_min < x_max"),
                          ("x_min=nan", "--set x_min=nan: expected a finite number")):
        proc = run_cli("lab", "run", "activations", "--quick", "--set", item,
                       "--out", str(tmp_path / "o"))
        assert proc.returncode == 2, (item, proc.stderr)
        assert message in proc.stderr and "zero-size" not in proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content, message", [
    (b"a,y\n1,2\n" + b"1" * 140_000 + b",3\n", "field larger than field limit"),
    (b"a,y\n1,2\n3,\"4\n" + b"5,6\n" * 30_000, "quote"),
    (b"a,y\n1,2\n\n3,caf\xe9\n", "line 4 is not UTF-8"),
    (b"a,a,y\n1,2,3\n", "more than once"),
    (b"a,y\n" + b"".join(b"%d,%d\n" % (i, i % 2) for i in range(30)) + b"\n\nx,3\n",
     "line 34 holds 'x'"),
])
def test_bad_csv_files_are_one_line_exit_2(tmp_path, content, message):
    # issue 9.6 and 9.11: _csv.Error tracebacks (exit 1), messages without file or line
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    proc = run_cli("train", str(path), "--target", "y", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stderr[-500:]
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert message in proc.stderr and "bad.csv" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_interrupting_is_exit_130_without_traceback(monkeypatch, capsys):
    from neuralab import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_train_command", interrupted)
    assert cli.main(["train", "x.csv", "--target", "y"]) == 130
    assert capsys.readouterr().err == "neuralab: error: interrupted\n"


def test_an_unwritable_lab_or_demo_out_is_refused_before_running(tmp_path, monkeypatch, capsys):
    import errno
    import os
    import tempfile

    from neuralab import cli

    real_mkdtemp = tempfile.mkdtemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and str(dir).startswith(str(tmp_path)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    for argv in (["demo", "--out", str(tmp_path / "d")],
                 ["lab", "run", "activations", "--quick", "--out", str(tmp_path / "l")]):
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and "not writable (Read-only file system)" in captured.err
