"""`neuralab train` on awkward tables, and `predict` / `evaluate` on what it wrote (issue 11),
through the real entry point."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from neuralab.apps.tabular import MAX_INTEGER_CLASSES, TabularConfig, TrainedRun, infer_task
from neuralab.apps.tabular import build_network, parameter_count, train_table


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "neuralab", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("values, task", [
    (["0", "1"] * 20, "classification"),                     # binary labels
    (["1", "2", "3"] * 10, "classification"),                # classes coded 1/2/3
    ([str(i % 10) for i in range(50)], "classification"),    # ten digits
    (["3.0", "4.0", "5.0"] * 5, "classification"),           # integers written as floats
    (["cat", "dog"] * 5, "classification"),                  # text
    ([str(i) for i in range(MAX_INTEGER_CLASSES + 1)], "regression"),  # many integers
    (["0.5", "1.25", "2.0"] * 5, "regression"),              # fractions
])
def test_the_task_rule(values, task):
    decided, rule = infer_task(np.array(values), "y")
    assert decided == task
    assert ("--task regression" if task == "classification" and values[0] != "cat"
            else "y") in rule  # the rule says how to override it


def write_people(path, n=160, seed=0, sep=","):
    """A table with a text column, gaps and a binary 0/1 target that depends on both."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        age = rng.integers(20, 70)
        city = ["Paris", "Lyon", "Nice"][i % 3]
        income = 1000 + 50 * age + (800 if city == "Paris" else 0) + rng.normal(0, 100)
        label = int(income > 3300)
        rows.append([str(age) if i % 17 else "NA", city, f"{income:.1f}" if i % 23 else "?",
                     str(label)])
    if sep == " ":
        lines = ["age  city   income  label"] + ["  ".join(r) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    else:
        with open(path, "w", newline="") as f:
            w = csv.writer(f, delimiter=sep)
            w.writerow(["age", "city", "income", "label"])
            w.writerows(rows)
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", " "])
def test_text_columns_gaps_and_01_labels_train_without_options(tmp_path, sep):
    data = write_people(tmp_path / "people.txt", sep=sep)
    out = tmp_path / "run"
    proc = run_cli("train", str(data), "--target", "label", "--epochs", "40", "--quiet",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "task: classification (the target 'label' holds 2 distinct integers" in proc.stdout
    assert "imputed missing cells of the training rows: age" in proc.stdout
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["task"] == "classification" and summary["classes"] == ["0", "1"]
    assert summary["inputs"] == 2 + 3  # age, income, city=Paris/Lyon/Nice
    assert {row["name"]: row["kind"] for row in summary["data_profile"]} == {
        "age": "numeric", "city": "categorical", "income": "numeric"}
    assert summary["test"]["accuracy"] > 0.8


def test_predict_reproduces_evaluate_and_checks_the_columns(tmp_path):
    data = write_people(tmp_path / "people.csv")
    out = tmp_path / "run"
    assert run_cli("train", str(data), "--target", "label", "--epochs", "30", "--quiet",
                   "--out", str(out)).returncode == 0
    new = write_people(tmp_path / "new.csv", n=60, seed=5)
    proc = run_cli("predict", str(out), str(new), "--out", str(tmp_path / "p.csv"))
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60 and list(rows[0]) == ["line", "predicted_label", "p_0", "p_1"]
    with open(new, newline="") as f:
        truth = [r["label"] for r in csv.DictReader(f)]
    accuracy = np.mean([r["predicted_label"] == t for r, t in zip(rows, truth)])
    proc = run_cli("evaluate", str(out), str(new))
    assert proc.returncode == 0, proc.stderr
    reported = float(next(ln for ln in proc.stdout.splitlines() if "accuracy" in ln).split()[1])
    assert reported == pytest.approx(accuracy, abs=5e-5)  # printed with 4 decimals
    # an unseen category and a gap are used and reported, not refused
    odd = tmp_path / "odd.csv"
    odd.write_text("age,city,income\n40,Berlin,3000\n,Paris,2500\n")
    proc = run_cli("predict", str(out), str(odd))
    assert proc.returncode == 0, proc.stderr
    assert "category of 'city' not seen in training" in proc.stderr
    assert "missing cell(s) of 'age' imputed" in proc.stderr
    # a missing or an extra column is an error naming it
    (tmp_path / "lack.csv").write_text("age,income\n40,3000\n")
    proc = run_cli("predict", str(out), str(tmp_path / "lack.csv"))
    assert proc.returncode == 2 and "['city']" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "extra.csv").write_text("age,city,income,shoe\n40,Paris,3000,42\n")
    proc = run_cli("predict", str(out), str(tmp_path / "extra.csv"))
    assert proc.returncode == 2 and "['shoe']" in proc.stderr


def test_evaluate_on_the_test_rows_gives_the_test_metrics(tmp_path):
    """The metrics train stored are what evaluate computes on the same test rows."""
    from neuralab.data import read_table, train_test_split
    from neuralab.data.table import is_missing

    data = write_people(tmp_path / "people.csv")
    out = tmp_path / "run"
    config = TabularConfig(data=str(data), target="label", epochs=20, verbose=0, out=str(out))
    result = train_table(config)
    table = read_table(data)
    # the split train made: the same function, the same seed, the same stratification
    labels = np.array([str(int(float(v))) for v in table["label"]])
    assert not is_missing(table["label"]).any()
    _, test_rows = train_test_split(np.arange(len(table)), test_size=config.test_size,
                                    stratify=labels, rng=config.seed)
    metrics = TrainedRun.load(out).evaluate(table.select(np.sort(test_rows)))
    assert metrics == pytest.approx(result.test_metrics, rel=1e-6)


def test_config_toml_reruns_the_run_bit_for_bit(tmp_path):
    data = write_people(tmp_path / "people.csv")
    first = tmp_path / "first"
    assert run_cli("train", str(data), "--target", "label", "--epochs", "15", "--seed", "4",
                   "--quiet", "--out", str(first)).returncode == 0
    second = tmp_path / "second"
    # from another directory: the data's path in config.toml is absolute
    proc = run_cli("train", "--config", str(first / "config.toml"), "--quiet", "--out",
                   str(second), cwd=tmp_path / "first")
    assert proc.returncode == 0, proc.stderr
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    assert (first / "history.csv").read_text() == (second / "history.csv").read_text()


def test_no_argument_trains_the_lecture_iris_network(tmp_path):
    proc = run_cli("train", "--epochs", "3", "--quiet", "--out", str(tmp_path / "iris"))
    assert proc.returncode == 0, proc.stderr
    run = TrainedRun.load(tmp_path / "iris")
    assert run.classes == ["setosa", "versicolor", "virginica"]
    assert [layer.units for layer in run.model.layers] == [64, 3]
    assert sum(p.data.size for p in run.model.parameters()) == 515  # Dense(64) + Dense(3)
    # iris named, or any table, gets the defaults chosen by cross-validation
    proc = run_cli("train", "iris", "--epochs", "1", "--quiet", "--out", str(tmp_path / "named"))
    assert proc.returncode == 0, proc.stderr
    hidden = TabularConfig().hidden  # the defaults: docs/training.md, bench/tabular_defaults.py
    assert sum(p.data.size for p in TrainedRun.load(tmp_path / "named").model.parameters()) == \
        parameter_count([4, *hidden, 3])


def test_datasets_lists_the_built_in_tables():
    proc = run_cli("datasets")
    assert proc.returncode == 0
    for name in ("iris", "wine-quality", "digits"):
        assert name in proc.stdout
    assert "CC BY 4.0" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["nosuch"], "no file 'nosuch'"),
    (["{data}"], "pass --target COLUMN"),
    (["{data}", "--target", "label", "--features", "age,shoe"], "['shoe']"),
    (["{data}", "--target", "label", "--drop", "age,city,income"], "no input column"),
    (["{data}", "--target", "label", "--missing", "error"], "missing cell(s)"),
    (["{data}", "--target", "label", "--delimiter", "|"], "--delimiter"),
    (["{data}", "--target", "label", "--verbose", "--quiet"], "contradict"),
])
def test_bad_choices_are_one_line_exit_2(tmp_path, args, message):
    data = write_people(tmp_path / "people.csv")
    proc = run_cli("train", *[a.format(data=data) for a in args], "--out", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_missing_drop_leaves_out_incomplete_rows(tmp_path):
    data = write_people(tmp_path / "people.csv")
    result = train_table(TabularConfig(data=str(data), target="label", missing="drop",
                                       epochs=2, verbose=0))
    assert "dropped" in result.summary()
    gaps = sum(1 for i in range(160) if i % 17 == 0 or i % 23 == 0)
    assert result.n_train + result.n_validation + result.n_test == 160 - gaps


def test_a_whitespace_file_without_a_delimiter_says_so(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("value\n1\n2|3\n")  # a header without any delimiter we know
    proc = run_cli("train", str(path), "--target", "value")
    assert proc.returncode == 2
    assert "read as one column 'value': no delimiter" in proc.stderr


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_ends_as_an_uninterrupted_run(tmp_path):
    import signal

    data = write_people(tmp_path / "people.csv", n=1500)
    cmd = [sys.executable, "-m", "neuralab", "train", str(data), "--target", "label",
           "--epochs", "12", "--batch-size", "8", "--patience", "100", "--hidden", "64"]
    run = tmp_path / "interrupted"
    proc = subprocess.Popen([*cmd, "--verbose", "--out", str(run)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("Epoch 2/"):  # printed at the end of epoch 2
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert f"resume with: neuralab train --resume {run}" in err and "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.safetensors", "config.toml"]
    # settings cannot change on resume
    proc = run_cli("train", "--resume", str(run), "--epochs", "50")
    assert proc.returncode == 2 and "drop --epochs" in proc.stderr
    proc = run_cli("train", "--resume", str(run), "--quiet")
    assert proc.returncode == 0, proc.stderr
    full = tmp_path / "full"
    assert run_cli(*cmd[3:], "--quiet", "--out", str(full)).returncode == 0
    assert (run / "model.safetensors").read_bytes() == (full / "model.safetensors").read_bytes()
    assert (run / "history.csv").read_text() == (full / "history.csv").read_text()
    assert not (run / "checkpoint.safetensors").exists()  # the finished run replaced it whole
    proc = run_cli("train", "--resume", str(full))
    assert proc.returncode == 2 and "no interrupted run there" in proc.stderr


def test_fashion_mnist_by_name_keeps_pixels_as_numbers(monkeypatch, tmp_path):
    """The built-in entry joins the 60,000 + 10,000 images as numeric columns (70,000 x 784
    cells as text would take gigabytes) and names the classes; shrunk here to 200 images."""
    from neuralab.data.datasets import catalog, fashion_mnist

    rng = np.random.default_rng(0)

    def fake(normalize=True):
        assert normalize is False  # pixels 0-255, scaled by the preprocessor like any column
        x = rng.integers(0, 256, (200, 784)).astype(np.uint8)
        t = np.arange(200) % 10
        return (x[:150], t[:150]), (x[150:], t[150:])

    monkeypatch.setattr(fashion_mnist, "load_fashion_mnist", fake)
    table, target = catalog.load_table("fashion-mnist")
    assert target == "item" and len(table) == 200 and len(table.names) == 785
    assert table["pixel_0"].dtype == np.float64
    assert set(table["item"]) == set(fashion_mnist.FASHION_MNIST_CLASSES)
    result = train_table(TabularConfig(data="fashion-mnist", epochs=1, hidden=(8,), verbose=0))
    assert result.inputs == 784 and result.classes == sorted(fashion_mnist.FASHION_MNIST_CLASSES)


def test_search_tries_settings_on_the_validation_rows_only(tmp_path, monkeypatch):
    from neuralab.apps import tabular

    seen = []
    real = tabular.fit_network

    def spy(config, trainer, fit, validation, *args, **kwargs):
        seen.append((len(fit[0]), len(validation[0])))
        return real(config, trainer, fit, validation, *args, **kwargs)

    monkeypatch.setattr(tabular, "fit_network", spy)
    data = write_people(tmp_path / "people.csv")
    config = TabularConfig(data=str(data), target="label", epochs=5, search=3, verbose=0,
                           out=str(tmp_path / "run"))
    result = train_table(config)
    # three trials and the final training, all on the training and validation rows
    assert seen == [(result.n_train, result.n_validation)] * 4
    note = next(n for n in result.notes if n.startswith("search: 3 trials"))
    chosen = TrainedRun.load(tmp_path / "run")
    hidden = [layer.units for layer in chosen.model.layers][:-1]
    assert f"hidden {','.join(map(str, hidden))}," in note
    with pytest.raises(ValueError, match="search must be a number of trials >= 0"):
        train_table(TabularConfig(data=str(data), target="label", search=-1, verbose=0))
