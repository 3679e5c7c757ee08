"""`neuralab compare DATA`: train's network and scikit-learn's models on the same folds."""

import csv
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from neuralab import cli
from neuralab.apps import compare
from neuralab.apps.compare import MODELS, CompareConfig, compare_models
from neuralab.apps.tabular import TabularConfig, fit_preprocessor, prepare_table


def digest(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()


def test_every_model_is_trained_and_scored_on_the_same_rows_and_inputs(monkeypatch):
    seen: dict[str, list[tuple[str, str]]] = {}
    make = compare.make_model

    def spying(key, data, network):
        model = make(key, data, network)
        fit, predict = model.fit, model.predict

        def fit_spy(X, y):
            seen.setdefault(key, []).append((digest(X, y), ""))
            return fit(X, y)

        def predict_spy(X):
            seen[key][-1] = (seen[key][-1][0], digest(X))
            return predict(X)

        model.fit, model.predict = fit_spy, predict_spy
        return model

    monkeypatch.setattr(compare, "make_model", spying)
    config = CompareConfig(TabularConfig(data="iris", epochs=5, seed=3), cv=2, verbose=0)
    result = compare_models(config)
    assert list(seen) == list(MODELS) == [s.key for s in result.scores]
    # every model saw the same training inputs and targets and the same test inputs per fold
    assert all(calls == seen["neuralab"] and len(calls) == 2 for calls in seen.values())

    data = prepare_table(TabularConfig(data="iris"))
    tests = [test for _, test in result.folds]
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(150))  # a partition
    counts = np.array([np.bincount(data.y[test], minlength=3) for test in tests])
    assert counts.tolist() == [[25, 25, 25]] * 2  # stratified
    for k, (train, test) in enumerate(result.folds):
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(150))
        # the inputs: one preprocessing fitted on the fold's training rows only
        prep = fit_preprocessor(config.table, data.table.select(train))
        X_train = prep.transform(data.table.select(train))
        X_test = prep.transform(data.table.select(test))
        assert seen["svm"][k] == (digest(X_train, data.y[train]), digest(X_test))
    # each row predicted once, out of fold, by every model
    for s in result.scores:
        assert len(s.folds) == 2 and len(s.predictions) == 150


def read_predictions(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_stored_metrics_are_scikit_learns_on_the_stored_predictions(tmp_path):
    out = tmp_path / "run"
    config = CompareConfig(TabularConfig(data="iris", epochs=5), cv=2, verbose=0, out=str(out),
                           models=("neuralab", "linear", "knn", "svm"))
    compare_models(config)
    stored = json.loads((out / "compare.json").read_text())
    rows = read_predictions(out / "predictions.csv")
    assert stored["metric"] == "accuracy" and stored["folds"] == 2
    for row in stored["rows"]:
        for fold in (1, 2):
            part = [r for r in rows if r["fold"] == str(fold)]
            true = [r["true_species"] for r in part]
            pred = [r[row["key"]] for r in part]
            m = row["metrics"]
            assert m["accuracy"]["folds"][fold - 1] == pytest.approx(
                skm.accuracy_score(true, pred), abs=1e-12)
            assert m["f1_macro"]["folds"][fold - 1] == pytest.approx(
                skm.f1_score(true, pred, average="macro"), abs=1e-12)
        values = row["metrics"]["accuracy"]["folds"]
        assert row["mean"] == pytest.approx(np.mean(values))
        assert row["std"] == pytest.approx(np.std(values, ddof=1))
        assert set(row) >= {"model", "mean", "std", "fit_seconds"}  # what the report reads


def test_regression_metrics_are_scikit_learns_and_clipped_to_the_training_range(tmp_path):
    out = tmp_path / "run"
    config = CompareConfig(TabularConfig(data="wine-quality", task="regression", epochs=5),
                           cv=2, rows=300, verbose=0, out=str(out),
                           models=("neuralab", "linear", "knn"))
    result = compare_models(config)
    stored = json.loads((out / "compare.json").read_text())
    rows = read_predictions(out / "predictions.csv")
    assert len(rows) == 300 and stored["metric"] == "r2" and stored["n_rows"] == 300
    for row in stored["rows"]:
        for fold in (1, 2):
            part = [r for r in rows if r["fold"] == str(fold)]
            true = np.array([float(r["true_quality"]) for r in part])
            pred = np.array([float(r[row["key"]]) for r in part])
            train_true = np.array([float(r["true_quality"]) for r in rows
                                   if r["fold"] != str(fold)])
            assert train_true.min() <= pred.min() and pred.max() <= train_true.max()
            m = {k: v["folds"][fold - 1] for k, v in row["metrics"].items()}
            assert m["mae"] == pytest.approx(skm.mean_absolute_error(true, pred), rel=1e-12)
            assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(true, pred)),
                                              rel=1e-12)
            assert m["r2"] == pytest.approx(skm.r2_score(true, pred), rel=1e-12)
    assert "accuracy_within_0.5" in result.metric_names  # grades: train's Cortez metrics too


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "neuralab", "compare", *args],
                          capture_output=True, text=True)


def test_a_bad_source_exits_2_with_one_line(tmp_path):
    proc = run_cli("missing.csv", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("neuralab: error:")
    assert "missing.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == "" and not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["iris", "--target", "colour"], "no column 'colour'"),
    (["iris", "--models", "neuralab,xgboost"], "xgboost"),
    (["iris", "--cv", "1"], "cv"),
    (["iris", "--cv", "60"], "n_splits=60"),
    (["iris", "--task", "regression"], "--task classification"),
    (["iris", "--epochs", "0"], "epochs"),
])
def test_a_bad_target_or_setting_exits_2_with_one_line(tmp_path, capsys, args, message):
    code = cli.main(["compare", *args, "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 2 and captured.err.count("\n") == 1 and message in captured.err
    assert captured.out == "" and not (tmp_path / "run").exists()


def test_an_earlier_run_is_refused_before_any_model_is_trained(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "compare.json").write_text("{}")
    code = cli.main(["compare", "iris", "--models", "knn", "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 2 and "--overwrite" in captured.err and captured.out == ""
    assert (tmp_path / "run" / "compare.json").read_text() == "{}"


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn raises ImportError
    code = cli.main(["compare", "iris", "--models", "neuralab,linear",
                     "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'neuralab[lab]'" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_compare_on_the_shipped_white_wine_writes_the_report(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("wine-quality", "--task", "regression", "--cv", "2", "--rows", "300",
                   "--epochs", "10", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    names = [MODELS[key][1] for key in MODELS]
    progress = [line for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert len(progress) == len(MODELS)  # a line per model as it finishes, in order
    assert all(name in line for name, line in zip(names, progress))
    assert "r2" in proc.stdout and "best mean r2:" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.json", "compare.png", "metrics.json", "predictions.csv", "report.html"]
    stored = json.loads((out / "compare.json").read_text())
    assert [row["model"].split(" (")[0] for row in stored["rows"]] == names
    assert stored["settings"]["cv"] == 2 and stored["settings"]["epochs"] == 10
    page = (out / "report.html").read_text()
    assert '<section id="comparison">' in page and "neuralab compare report" in page
    assert page.index('id="comparison"') < page.index('id="figures"')  # the table first
    for name in names:
        assert f"<td>{name}" in page
    assert "mae mean" in page and "the 2 test folds of cross-validation" in page


def test_the_models_are_scikit_learns_with_its_defaults():
    from sklearn.linear_model import LogisticRegression

    for key, names in MODELS.items():
        if key == "neuralab":
            continue
        for classification, name in zip((True, False), names):
            model = compare._sklearn_model(key, classification, seed=7)
            assert type(model).__name__ == name
            changed = {k: v for k, v in model.get_params().items()
                       if v != type(model)().get_params()[k]}
            expected = {"random_state": 7} if "random_state" in changed else {}
            if isinstance(model, LogisticRegression):
                expected["max_iter"] = 1000
            assert changed == expected, name
