"""`neuralab train FILE.csv --target COLUMN`: the CSV workflow end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neuralab
from neuralab.train.tabular import TabularConfig, train_csv

WINE = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "winequality-white.csv"


def write_blobs_csv(path, n=300, seed=0):
    """Three well-separated classes with text labels, semicolon-separated like the UCI files."""
    rng = np.random.default_rng(seed)
    centers = {"setosa": (0, 0, 0), "versicolor": (4, 4, 0), "virginica": (0, 4, 4)}
    lines = ["a;b;c;species"]
    for i in range(n):
        name = list(centers)[i % 3]
        x = np.asarray(centers[name]) + rng.normal(0, 0.7, 3)
        lines.append(";".join(f"{v:.4f}" for v in x) + f";{name}")
    path.write_text("\n".join(lines) + "\n")


def test_classification_with_text_labels_writes_a_reusable_run(tmp_path):
    csv = tmp_path / "blobs.csv"
    write_blobs_csv(csv)
    out = tmp_path / "run"
    result = train_csv(TabularConfig(csv=str(csv), target="species", epochs=60, out=str(out),
                                     verbose=0))
    assert result.task == "classification"
    assert result.classes == ["setosa", "versicolor", "virginica"]
    assert result.test_metrics["accuracy"] >= 0.95
    # the saved model and scaler reproduce the predictions on raw rows
    model = neuralab.load(out / "model.safetensors")
    prep = json.loads((out / "preprocessing.json").read_text())
    raw = np.array([[0.1, -0.2, 0.0], [4.0, 3.9, 0.2], [0.0, 4.1, 3.8]], dtype=np.float32)
    scaler = neuralab.data.StandardScaler()
    scaler.load_state_dict(prep["scaler"])
    with neuralab.no_grad():
        pred = model(scaler.transform(raw)).data.argmax(axis=1)
    assert [prep["classes"][i] for i in pred] == ["setosa", "versicolor", "virginica"]
    assert {p.name for p in out.iterdir()} >= {"model.safetensors", "preprocessing.json",
                                               "history.json", "metrics.json", "history.png"}


def test_regression_on_a_numeric_target_reports_regression_metrics(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + rng.normal(0, 0.1, 400)
    csv = tmp_path / "lin.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header="x1,x2,y", comments="")
    result = train_csv(TabularConfig(csv=str(csv), target="y", epochs=150, verbose=0))
    assert result.task == "regression"
    assert result.test_metrics["r2"] > 0.95
    assert "accuracy_within_0.5" not in result.test_metrics  # y is not graded


def test_wine_quality_practical_beats_predicting_the_mean():
    if not WINE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"wine data missing at {WINE} (CI must have shared/datasets)")
        pytest.skip(f"wine data not found at {WINE}")
    result = train_csv(TabularConfig(csv=str(WINE), target="quality", epochs=30, verbose=0))
    assert result.task == "regression"
    assert result.test_metrics["r2"] > 0.2  # the mean predictor has r2 = 0
    assert result.test_metrics["accuracy_within_1.0"] > 0.8


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "neuralab", *args], capture_output=True,
                          text=True)


def test_cli_trains_and_reports(tmp_path):
    csv = tmp_path / "blobs.csv"
    write_blobs_csv(csv, n=150)
    proc = run_cli("train", str(csv), "--target", "species", "--epochs", "30", "--quiet",
                   "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert "test metrics:" in proc.stdout and "accuracy" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "--target", "y"], "missing.csv"),
    (["{csv}", "--target", "colour"], "colour"),
    (["{csv}", "--target", "species", "--task", "regression"], "--task classification"),
    (["{csv}", "--target", "species", "--hidden", "64,x"], "--hidden"),
    (["{csv}", "--target", "species", "--epochs", "0"], "epochs"),
])
def test_cli_bad_input_is_one_clear_line(tmp_path, args, message):
    csv = tmp_path / "blobs.csv"
    write_blobs_csv(csv, n=30)
    args = [a.format(csv=csv) for a in args]
    proc = run_cli("train", *args, "--out", str(tmp_path / "run"))
    assert proc.returncode == 2, proc.stdout
    assert "Traceback" not in proc.stderr and message in proc.stderr
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_a_class_too_small_to_stratify_is_named_by_its_label(tmp_path):
    csv = tmp_path / "tiny.csv"
    rows = [f"{i},{i % 3},{'cat' if i % 2 else 'dog'}" for i in range(8)] + ["9,1,bird"]
    csv.write_text("a,b,t\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="'bird'|bird"):
        train_csv(TabularConfig(csv=str(csv), target="t", epochs=1, verbose=0))


def test_cli_output_path_that_is_a_file_is_refused_before_training(tmp_path):
    csv = tmp_path / "blobs.csv"
    write_blobs_csv(csv, n=30)
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    proc = run_cli("train", str(csv), "--target", "species", "--out", str(taken))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and str(taken) in proc.stderr
    assert proc.stdout == ""  # no epoch ran
    assert taken.read_text() == "keep me"
