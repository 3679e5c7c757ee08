"""The benchmark of `neuralab train`'s defaults against scikit-learn's MLP defaults
(bench/tabular_defaults.py): the stored results are of the defaults the code has, docs/training.md
holds what they render, and one table's run is what train and scikit-learn give on the same rows.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import tabular_defaults as bench  # noqa: E402
from neuralab.apps.tabular import (TabularConfig, fit_preprocessor, prepare_table,  # noqa: E402
                                   split_rows, task_metrics, train_table)
from neuralab.io.pages import blocks, typed_numbers  # noqa: E402


def stored(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_page_holds_what_the_stored_results_render():
    page = blocks(bench.PAGE.read_text(encoding="utf-8"))
    assert page.get(bench.BLOCK) == bench.render(stored(bench.RESULT)), (
        "docs/training.md: run `python -m bench.tabular_defaults --pages`; do not edit the block")
    assert page.get(bench.SELECTION_BLOCK) == bench.render_selection(stored(bench.SELECTION))


def test_the_stored_results_are_of_the_defaults_the_code_has():
    defaults = {k: v for k, v in asdict(TabularConfig()).items() if k in bench.KNOBS}
    result = stored(bench.RESULT)
    assert {k: tuple(v) if k == "hidden" else v for k, v in result["defaults"].items()} == \
        defaults, "TabularConfig's defaults changed: rerun python -m bench.tabular_defaults"
    assert result["seeds"] == list(bench.SEEDS) and len(result["tables"]) == 8
    for key in ("commit", "cpu", "blas"):
        assert result["machine"][key]
    for table in result["tables"].values():
        assert len(table["runs"]) == len(bench.SEEDS)
    # the defaults are the ones the cross-validation on training rows chose
    final = bench.final_choice(stored(bench.SELECTION))
    assert {**final, "hidden": tuple(final["hidden"])} == defaults


def test_the_defaults_section_types_no_number():
    text = bench.PAGE.read_text(encoding="utf-8")
    section = text[text.index("### The defaults, measured against scikit-learn"):]
    assert typed_numbers(section) == []


def test_one_table_is_train_and_scikit_learn_on_the_same_rows():
    fields = {"data": "iris"}
    run = bench.run_table(fields, seed=2)
    config = TabularConfig(**fields, seed=2, verbose=0)
    assert run["neuralab"] == {k: v for k, v in train_table(config).test_metrics.items()
                               if k != "loss"}
    from sklearn.neural_network import MLPClassifier

    data = prepare_table(config)
    fit_rows, val_rows, test_rows = split_rows(data, config)
    rows = np.sort(np.concatenate([fit_rows, val_rows]))
    prep = fit_preprocessor(config, data.table.select(rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(random_state=2).fit(prep.transform(data.table.select(rows)),
                                                  data.y[rows])
    predicted = model.predict(prep.transform(data.table.select(test_rows)))
    assert run["sklearn"] == task_metrics(data.y[test_rows], predicted, data.classes)
    assert run["n_test"] == len(test_rows) == 30


@pytest.mark.parametrize(("mean", "se", "expected"), [
    (0.0, 0.01, "higher"), (0.02, 0.0, "higher"), (-0.01, 0.006, "lower, within 2 SE"),
    (-0.02, 0.009, "lower")])
def test_the_verdict(mean, se, expected):
    assert bench.verdict({"mean": mean, "se": se}) == expected


def test_rendering_puts_each_number_in_its_place():
    result = stored(bench.RESULT)
    name, table = next(iter(result["tables"].items()))
    metric = table["metric"]
    text = bench.render(result)
    row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
    assert f"{table['neuralab'][metric]['mean']:.4f} ± {table['neuralab'][metric]['std']:.4f}" \
        in row and f"| {bench.verdict(table['difference'])} |" in row
    assert f"commit `{result['machine']['commit']}`" in " ".join(text.split())


#: how the prose of docs/training.md names a table of the benchmark
PROSE_NAMES = {"wine (scikit-learn)": "scikit-learn's wine", "breast cancer": "breast cancer",
               "digits": "digits"}


def test_the_prose_names_the_tables_where_the_defaults_do_not_win():
    text = " ".join(bench.PAGE.read_text(encoding="utf-8").split())
    start = text.index("Where the defaults do not win:")
    claim = text[start:text.index(" tables their mean accuracy is lower", start)]
    tables = stored(bench.RESULT)["tables"]
    lower = {name for name, t in tables.items() if bench.verdict(t["difference"]) != "higher"}
    assert lower <= set(PROSE_NAMES), f"name {lower - set(PROSE_NAMES)} in the prose"
    for name in PROSE_NAMES:
        assert (PROSE_NAMES[name] in claim) == (name in lower), name
    # and none is lower by more than two standard errors: the prose calls them draws
    assert all(bench.verdict(tables[name]["difference"]) == "lower, within 2 SE"
               for name in lower)
