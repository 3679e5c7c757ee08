"""The HTML report of a run directory (neuralab.apps.report): what it holds, what it leaves out,
that it escapes and loads nothing, that it is written atomically, and that a real browser
(Debian's Chromium driven by playwright) opens it without an error and reads the same numbers."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from neuralab.apps.report import format_number, render_report, write_report

from .browser import browse

HOSTILE = '<script>alert("x")</script>'

TEST_METRICS = {"accuracy": 0.9533333333333334, "f1_macro": 0.9527777777777777,
                "loss": 0.12345678901234568, "within_0.5": 1.0}


@pytest.fixture(scope="module")
def png_bytes() -> bytes:
    """A real, small PNG drawn by matplotlib (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
    ax.plot([1, 2, 3], [0.9, 0.5, 0.4])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def make_run(path: Path, png: bytes | None = None, *, full: bool = True) -> Path:
    """A run directory written by hand: metrics.json always; with ``full`` every optional file
    and key, the column named :data:`HOSTILE` among the features."""
    path.mkdir(parents=True, exist_ok=True)
    metrics: dict = {"test": dict(TEST_METRICS)}
    if full:
        metrics |= {
            "task": "classification",
            "task_rule": "the target holds text, so classes; --task regression to override",
            "command": "neuralab train blobs.csv --target species --epochs 30",
            "data": "data/blobs.csv", "target": "species",
            "best_epoch": 2, "epochs_run": 3, "n_train": 192, "n_validation": 48, "n_test": 60,
            "features": ["a", "b", HOSTILE], "inputs": 6,
            "classes": ["setosa", "A&B", "virginica"],
            "notes": ["dropped 3 rows with a missing cell"],
            "data_profile": [
                {"name": "a", "kind": "numeric", "missing": 0, "mean": 1.5, "std": 0.25,
                 "min": -2.0, "max": 4.125},
                {"name": HOSTILE, "kind": "categorical", "missing": 3, "categories": 4,
                 "top": "<b>bold</b>"},
            ],
            "config": {"data": "data/blobs.csv", "target": "species", "hidden": [64, 32],
                       "lr": 0.001, "seed": 0},
        }
        (path / "history.csv").write_text(
            "epoch,loss,val_loss,accuracy\n1,0.9,0.95,0.5\n2,0.5,0.55,0.8\n3,0.4,0.6,0.9\n")
        (path / "compare.json").write_text(json.dumps({"metric": "accuracy", "rows": [
            {"model": "neuralab MLP", "mean": 0.95, "std": 0.01, "fit_seconds": 1.5},
            {"model": "LogisticRegression", "mean": 0.93, "std": 0.02, "fit_seconds": 0.1}]}))
        (path / "config.toml").write_text('# the run\ntarget = "species"\nhidden = [64, 32]\n')
        assert png is not None
        (path / "history.png").write_bytes(png)
        (path / "confusion.png").write_bytes(png)
    (path / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return path


def metric_cells(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="([^"]*)" data-value="([^"]*)"', page))


def test_every_metric_is_on_the_page_with_its_exact_value(tmp_path, png_bytes):
    out = write_report(make_run(tmp_path / "run", png_bytes))
    assert out == tmp_path / "run" / "report.html"
    page = out.read_text(encoding="utf-8")
    cells = metric_cells(page)
    assert {name: float(value) for name, value in cells.items()} == TEST_METRICS
    assert cells["loss"] == repr(TEST_METRICS["loss"])
    assert ">0.9533<" in page and ">0.1235<" in page and ">1.000<" in page  # 4 significant


def test_full_run_has_every_section(tmp_path, png_bytes):
    page = render_report(make_run(tmp_path / "run", png_bytes))
    for section in ("summary", "metrics", "data", "history", "figures", "comparison", "config"):
        assert f'<section id="{section}">' in page, section
    assert "<h1>Classification of species in blobs.csv</h1>" in page
    assert "192 training, 48 validation, 60 test" in page and "3 columns -&gt; 6 inputs" in page
    assert "<li>dropped 3 rows with a missing cell</li>" in page
    assert '<pre class="command"><code>neuralab train blobs.csv --target species' in page
    assert page.count('<img src="data:image/png;base64,') == 2
    assert "Confusion matrix on the test part" in page
    assert 'hidden = [64, 32]' in page  # config.toml verbatim, instead of the settings table
    assert "<th>setting</th>" not in page
    assert '<tr class="best"><td>neuralab MLP</td>' in page  # accuracy: higher is better
    assert "<svg" not in page  # history.png is there, so no drawn chart


def test_the_page_does_not_name_its_directory(tmp_path, png_bytes):
    """neuralab train renders the report in a temporary directory that is renamed afterwards."""
    page = render_report(make_run(tmp_path / ".run.123.tmp", png_bytes))
    assert ".run.123.tmp" not in page and str(tmp_path) not in page


def test_missing_optional_files_leave_their_sections_out(tmp_path):
    page = render_report(make_run(tmp_path / "run", full=False))
    assert '<section id="metrics">' in page
    for section in ("summary", "data", "history", "figures", "comparison", "config"):
        assert f'<section id="{section}">' not in page, section
    assert "<img" not in page


def test_settings_are_a_table_when_there_is_no_config_toml(tmp_path, png_bytes):
    run = make_run(tmp_path / "run", png_bytes)
    (run / "config.toml").unlink()
    page = render_report(run)
    assert "<th>setting</th>" in page and "<td>0.001</td>" in page and "<td>64,32</td>" in page


def test_history_without_its_figure_is_drawn_inline(tmp_path, png_bytes):
    run = make_run(tmp_path / "run", png_bytes)
    (run / "history.png").unlink()
    page = render_report(run)
    assert page.count("<img") == 1 and '<svg class="chart"' in page
    assert '<tr class="best"><td class="num">2</td>' in page  # best_epoch 2 marked


def test_strings_from_the_run_are_escaped(tmp_path, png_bytes):
    page = render_report(make_run(tmp_path / "run", png_bytes))
    assert "<script" not in page and "<b>bold" not in page
    assert html_escaped(HOSTILE) in page and "A&amp;B" in page


def html_escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_the_page_loads_nothing(tmp_path, png_bytes):
    page = render_report(make_run(tmp_path / "run", png_bytes))
    assert "http://" not in page and "https://" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page and "<script" not in page and "url(" not in page
    assert "Content-Security-Policy" in page


def test_a_png_that_is_no_image_is_left_out_with_a_note(tmp_path, png_bytes):
    run = make_run(tmp_path / "run", png_bytes)
    (run / "broken.png").write_bytes(b"not a png")
    page = render_report(run)
    assert page.count("<img") == 2 and "Left out, not PNG images: broken.png" in page


def test_missing_metrics_json_is_a_value_error_naming_it(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(ValueError, match=r"metrics\.json: no such file"):
        write_report(tmp_path / "run")
    assert list((tmp_path / "run").iterdir()) == []
    (tmp_path / "run" / "metrics.json").write_text('{"accuracy": 0.9}')
    with pytest.raises(ValueError, match=r'metrics\.json: expected an object with "test"'):
        write_report(tmp_path / "run")
    (tmp_path / "run" / "metrics.json").write_text('{"test": {}, "best_epoch": "2"}')
    with pytest.raises(ValueError, match=r"'best_epoch' must be an integer"):
        write_report(tmp_path / "run")


def test_broken_optional_files_are_value_errors_naming_them(tmp_path):
    run = make_run(tmp_path / "run", full=False)
    (run / "compare.json").write_text("{")
    with pytest.raises(ValueError, match=r"compare\.json: not valid JSON"):
        render_report(run)
    (run / "compare.json").unlink()
    (run / "history.csv").write_text("epoch,loss\n1,0.5\n2\n")
    with pytest.raises(ValueError, match=r"history\.csv: line 3 has 1 cells"):
        render_report(run)


def test_the_write_is_atomic(tmp_path, png_bytes, monkeypatch):
    run = make_run(tmp_path / "run", png_bytes)
    report = run / "report.html"
    report.write_text("old report " * 100_000)  # longer than the new one
    before = {p.name for p in run.iterdir()}
    write_report(run)
    assert report.read_text(encoding="utf-8") == render_report(run)  # replaced whole
    assert {p.name for p in run.iterdir()} == before  # no temporary file left

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    new = report.read_text(encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        write_report(run)
    assert report.read_text(encoding="utf-8") == new
    assert {p.name for p in run.iterdir()} == before


def test_out_elsewhere(tmp_path):
    run = make_run(tmp_path / "run", full=False)
    out = write_report(run, tmp_path / "mail.html")
    assert out == tmp_path / "mail.html" and out.is_file()
    assert not (run / "report.html").exists()


@pytest.mark.parametrize("value, text", [
    (0.9533333, "0.9533"), (0.95, "0.9500"), (12.3456, "12.35"), (1234.56, "1235"),
    (12345.6, "12346"), (0.000012345, "1.234e-05"), (3, "3"), (None, "n/a"),
    (float("nan"), "nan")])
def test_format_number(value, text):
    assert format_number(value) == text


def test_chromium_opens_the_report_without_an_error(tmp_path, png_bytes):
    run = make_run(tmp_path / "run", png_bytes)
    (run / "history.png").unlink()  # the inline SVG chart is rendered too
    visit = browse(write_report(run), {
        "images": "() => Array.from(document.images, i => [i.complete, i.naturalWidth])",
        "cells": "() => Array.from(document.querySelectorAll('[data-metric]'), "
                 "e => [e.dataset.metric, e.dataset.value])",
        "text": "() => document.body.innerText",
        "scripts": "() => document.scripts.length",
    })
    assert visit.errors == []
    assert visit.fetched == []
    images = visit.values["images"]
    assert len(images) == 1 and all(complete and width > 0 for complete, width in images)
    metrics = json.loads((run / "metrics.json").read_text())
    assert {name: float(value) for name, value in visit.values["cells"]} == metrics["test"]
    # the hostile column name is text, not a script
    assert HOSTILE in visit.values["text"] and visit.values["scripts"] == 0
