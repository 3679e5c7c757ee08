"""The report of a ``neuralab train`` run directory: one HTML file that holds all of it.

:func:`write_report` reads what a run directory holds and writes ``report.html`` into it:

- ``metrics.json`` (required): the test metrics and what the run recorded about itself (the data
  file and target, the task and the rule that chose it, the command line, rows, features, classes,
  epochs, notes, a profile of every input column, the settings);
- ``history.csv``: the loss and the metrics of every epoch;
- every ``*.png`` figure (loss curves, a confusion matrix, predicted against true values, ...);
- ``compare.json``: several models compared on one metric (a run of ``neuralab compare``, whose
  ``metrics.json`` says ``"kind": "compare"`` and holds no test metrics of its own, shows it
  first, with every metric of its rows);
- ``config.toml``: the settings file, shown as it was written.

A part is rendered when its file is there and left out when it is not, so one function serves runs
of every age and every task.  The page is self-contained: the figures are embedded as ``data:``
URIs, the style is one ``<style>`` block, there is no script, and a Content-Security-Policy tells
the browser to fetch nothing at all, so the file can be mailed or archived on its own and looks the
same offline.  Every string that comes from the run (a column named ``<script>``, a class ``A&B``)
is escaped, so it shows as text.

Numbers are printed with four significant digits; every test-metric cell also carries its exact
value, ``data-metric="accuracy" data-value="0.9533333333333334"`` (``repr`` of the float), so a
test or a script can read the numbers back from the page without trusting the rounded text.

>>> write_report("runs/train-winequality-white")      # runs/train-winequality-white/report.html
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import struct
from pathlib import Path
from typing import Any, Collection

from ..io import atomic_write
from ..io.atomic import open_regular_file
from ..train.metrics import better_direction
from ..version import __version__

REPORT_NAME = "report.html"

#: known figures: shown first, in this order, with these captions (others: from the file name)
FIGURE_CAPTIONS = {
    "history.png": "Loss per epoch, training and validation",
    "confusion.png": "Confusion matrix on the test part",
    "predicted_vs_true.png": "Predicted against true values on the test part",
    "residuals.png": "Residuals on the test part",
    "compare.png": "Each model's metric on every test fold (points) and its mean (line)",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: optional keys of metrics.json -> the JSON type they must have (None allowed where listed)
_METRICS_KEYS: dict[str, tuple[type, ...]] = {
    "task": (str,), "task_rule": (str,), "command": (str,), "data": (str,), "target": (str,),
    "best_epoch": (int,), "epochs_run": (int,), "n_train": (int,), "n_validation": (int,),
    "n_test": (int,), "features": (list,), "inputs": (int,), "classes": (list, type(None)),
    "notes": (list,), "data_profile": (list,), "config": (dict,),
    # a run of `neuralab compare`: its kind, the folds and the rows compared
    "kind": (str,), "cv": (int,), "n_rows": (int,),
}

# Nothing may be fetched: no script, no font, no stylesheet, images only from data: URIs.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6473; --rule: #d9dde4;
        --band: #f4f6f9; --accent: #2457a6; --best: #e7f3e8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 62rem; padding: 1.5rem 1.25rem 3rem; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; padding-bottom: .2rem;
     border-bottom: 1px solid var(--rule); }
.subtitle, .note, figcaption, footer { color: var(--muted); }
.subtitle { margin: 0 0 1rem; }
code, pre { font: 13px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--band); border: 1px solid var(--rule); border-radius: 4px;
      padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; }
pre.command { user-select: all; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; margin: 0; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
table { border-collapse: collapse; margin: .2rem 0 .6rem; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid var(--rule); text-align: left;
         vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: var(--best); }
.scroll { overflow-x: auto; }
details summary { cursor: pointer; color: var(--accent); margin: .3rem 0; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
svg.chart { max-width: 100%; height: auto; }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
footer { margin-top: 2.5rem; font-size: .85rem; }
@media print { body { max-width: none; } details { display: block; } }
"""


# --- reading the run directory ------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes | None:
    """The bytes of an optional file, ``None`` when there is none (a FIFO or a directory in its
    place is refused with a ``ValueError`` by :func:`~neuralab.io.atomic.open_regular_file`)."""
    if not path.exists():
        return None
    with open_regular_file(path) as f:
        return f.read()


def _read_text(path: Path) -> str | None:
    data = _read_bytes(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}): write it as UTF-8") from None


def _read_json(path: Path, expected: str) -> Any:
    text = _read_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: "
                         f"{err.msg}); expected {expected}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_JSON_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object"}


def _read_metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "metrics.json"
    expected = 'an object with "test": {metric name: number}'
    metrics = _read_json(path, expected)
    if metrics is None:
        raise ValueError(f"{path}: no such file; write_report needs the metrics.json that "
                         f"`neuralab train` writes into its run directory (is {run_dir} one?)")
    if not isinstance(metrics, dict) or not isinstance(metrics.get("test"), dict):
        raise ValueError(f"{path}: expected {expected}, got {_describe(metrics)}")
    for name, value in metrics["test"].items():
        if not (_is_number(value) or value is None):
            raise ValueError(f"{path}: test metric {name!r} must be a number, got {value!r}")
    for key, types in _METRICS_KEYS.items():
        if key not in metrics:
            continue
        value = metrics[key]
        if not isinstance(value, types) or (int in types and isinstance(value, bool)):
            names = " or ".join("null" if t is type(None) else _JSON_NAMES[t] for t in types)
            raise ValueError(f"{path}: {key!r} must be {names}, got {value!r}")
    return metrics


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with the keys " + (", ".join(map(repr, value)) or "(none)")
    return f"{type(value).__name__} {value!r}"[:120]


def _read_history(run_dir: Path) -> tuple[list[str], list[list[float | None]]] | None:
    """Header and rows of ``history.csv``; an empty cell is ``None``."""
    path = run_dir / "history.csv"
    text = _read_text(path)
    if text is None:
        return None
    lines = [row for row in csv.reader(io.StringIO(text)) if row]
    if not lines:
        return None
    header, rows = [name.strip() for name in lines[0]], []
    for number, row in enumerate(lines[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}: line {number} has {len(row)} cells, the header "
                             f"{len(header)}; expected one row of {','.join(header)} per epoch")
        try:
            rows.append([float(cell) if cell.strip() else None for cell in row])
        except ValueError:
            raise ValueError(f"{path}: line {number} holds a cell that is not a number: "
                             f"{row!r}") from None
    return header, rows


def _read_compare(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "compare.json"
    expected = ('{"metric": name, "rows": [{"model": name, "mean": number, "std": number, '
                '"fit_seconds": number}, ...]}')
    compare = _read_json(path, expected)
    if compare is None:
        return None
    rows = compare.get("rows") if isinstance(compare, dict) else None
    if not isinstance(compare, dict) or not isinstance(compare.get("metric"), str) or not (
            isinstance(rows, list) and all(isinstance(row, dict) for row in rows)):
        raise ValueError(f"{path}: expected {expected}, got {_describe(compare)}")
    for row in rows:
        bad = [key for key in ("mean", "std", "fit_seconds")
               if key in row and not (_is_number(row[key]) or row[key] is None)]
        if not isinstance(row.get("model"), str) or bad:
            raise ValueError(f"{path}: a row must have a string \"model\" and numbers for "
                             f"\"mean\", \"std\" and \"fit_seconds\", got {row!r}")
    return compare


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header chunk, ``None`` when ``data`` is no PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _figures(run_dir: Path) -> list[Path]:
    """The PNG files of the run: the known figures first, in their order, then the others by
    name (hidden files, such as an atomic writer's temporary file, are not figures)."""
    found = [p for p in run_dir.glob("*.png") if not p.name.startswith(".") and p.is_file()]
    order = list(FIGURE_CAPTIONS)
    return sorted(found, key=lambda p: (order.index(p.name) if p.name in order else len(order),
                                        p.name))


def _caption(path: Path) -> str:
    if path.name in FIGURE_CAPTIONS:
        return FIGURE_CAPTIONS[path.name]
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() or path.name


# --- formatting --------------------------------------------------------------------------------


def format_number(value: Any) -> str:
    """A number as the report prints it: four significant digits (``0.9533``, ``12.35``,
    ``1235``), all the integer digits from 10 000 up (``12346``, not ``1.235e+04``), integers as
    they are; anything else as text."""
    if value is None:
        return "n/a"
    if not _is_number(value):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)  # nan, inf, -inf
    if 1e4 <= abs(value) < 1e15:
        return f"{value:.0f}"
    text = f"{value:#.4g}"  # '#' keeps trailing zeros, so a column lines up: 0.9500, 0.9533
    return text.rstrip(".") if "e" not in text else text


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num_cell(value: Any, attrs: str = "") -> str:
    return f'<td class="num"{attrs}>{_esc(format_number(value))}</td>'


def _table(head: list[str], rows: list[str], numeric: Collection[int] = ()) -> str:
    ths = "".join(f'<th class="num">{_esc(h)}</th>' if i in numeric else f"<th>{_esc(h)}</th>"
                  for i, h in enumerate(head))
    return (f'<div class="scroll"><table><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _setting(value: Any) -> str:
    """A setting as a user would type it: lists comma-separated, None as none."""
    if value is None:
        return "none"
    if value == "" or value == []:
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_setting(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return repr(value) if isinstance(value, float) else str(value)


# --- the sections ------------------------------------------------------------------------------


def _heading(metrics: dict[str, Any]) -> tuple[str, str | None]:
    """The page's heading ("Regression of quality in winequality-white.csv") and the data file."""
    config = metrics.get("config") or {}
    task = metrics.get("task")
    target = metrics.get("target") or config.get("target")
    data = metrics.get("data") or config.get("data") or config.get("csv")
    heading = (task.capitalize() if task else "Run") + (f" of {target}" if target else "")
    if data:
        heading += f" in {os.path.basename(str(data))}"
    return heading, (str(data) if data else None)


def _title(metrics: dict[str, Any]) -> str:
    heading, data = _heading(metrics)
    where = f": data <code>{_esc(data)}</code>" if data else ""
    kind = metrics.get("kind") or "train"
    return (f"<header><h1>{_esc(heading)}</h1>"
            f'<p class="subtitle">neuralab {_esc(kind)} report{where}</p></header>')


def _summary(metrics: dict[str, Any], history: tuple[list[str], list] | None) -> str:
    items: list[tuple[str, str]] = []
    if metrics.get("task"):
        rule = metrics.get("task_rule")
        items.append(("Task", _esc(metrics["task"]) + (
            f'<br><span class="note">{_esc(rule)}</span>' if rule else "")))
    counts = [f"{metrics[key]} {what}" for key, what in (
        ("n_train", "training"), ("n_validation", "validation"), ("n_test", "test"))
        if key in metrics]
    if "n_rows" in metrics and "cv" in metrics:
        counts.append(f"{metrics['n_rows']} rows in {metrics['cv']} folds, each row in one "
                      "test fold")
    if counts:
        items.append(("Rows", _esc(", ".join(counts))))
    features = metrics.get("features")
    if features is not None:
        inputs = metrics.get("inputs")
        count = f"{len(features)} columns" + (f" -> {inputs} inputs" if inputs is not None
                                              else "")
        items.append(("Features", _esc(f"{count}: " + ", ".join(map(str, features)))))
    classes = metrics.get("classes")
    if classes:
        items.append(("Classes", _esc(f"{len(classes)}: " + ", ".join(map(str, classes)))))
    epochs = metrics.get("epochs_run")
    if epochs is None and history is not None:
        epochs = len(history[1])
    if epochs is not None:
        best = metrics.get("best_epoch")
        text = f"{epochs}" + (f" (best: epoch {best})" if best is not None else "")
        items.append(("Epochs", _esc(text)))
    if metrics.get("notes"):
        notes = "".join(f"<li>{_esc(note)}</li>" for note in metrics["notes"])
        items.append(("Notes", f"<ul>{notes}</ul>"))
    if metrics.get("command"):
        items.append(("Command", f'<pre class="command"><code>{_esc(metrics["command"])}'
                                 f"</code></pre>"))
    if not items:
        return ""
    body = "".join(f"<dt>{_esc(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f'<section id="summary"><h2>Summary</h2><dl class="summary">{body}</dl></section>'


def _direction_text(name: str) -> str:
    return {"max": "higher", "min": "lower"}.get(better_direction(name) or "", "")


def _test_metrics(metrics: dict[str, Any]) -> str:
    if not metrics["test"]:  # a comparison has its numbers in compare.json
        return ""
    rows = []
    for name, value in metrics["test"].items():
        exact = "nan" if value is None else repr(float(value))
        attrs = f' data-metric="{_esc(name)}" data-value="{_esc(exact)}" title="{_esc(exact)}"'
        rows.append(f"<tr><td>{_esc(name)}</td>{_num_cell(value, attrs)}"
                    f"<td>{_esc(_direction_text(name))}</td></tr>")
    table = _table(["metric", "value", "better"], rows, numeric={1})
    n_test = metrics.get("n_test")
    note = (f'<p class="note">On the {n_test} rows of the test part, which training never saw.</p>'
            if n_test is not None else "")
    return f'<section id="metrics"><h2>Test metrics</h2>{table}{note}</section>'


def _data_profile(metrics: dict[str, Any]) -> str:
    profile = metrics.get("data_profile")
    if not profile:
        return ""
    profile = [column if isinstance(column, dict) else {"name": column} for column in profile]
    # only the summaries some column has: no empty "categories" column on all-numeric data
    columns = [key for key in ("mean", "std", "min", "max", "categories", "top")
               if any(key in column for column in profile)]
    rows = []
    for column in profile:
        cells = "".join(_num_cell(column[key]) if key in column and key != "top"
                        else f"<td>{_esc(column.get(key, ''))}</td>" for key in columns)
        rows.append(f"<tr><td>{_esc(column.get('name', ''))}</td>"
                    f"<td>{_esc(column.get('kind', ''))}</td>"
                    f"{_num_cell(column['missing']) if 'missing' in column else '<td></td>'}"
                    f"{cells}</tr>")
    numeric = {2} | {3 + i for i, key in enumerate(columns) if key != "top"}
    table = _table(["column", "kind", "missing", *columns], rows, numeric=numeric)
    return (f'<section id="data"><h2>Data profile</h2>{table}<p class="note">Numeric columns: '
            f"mean, standard deviation and range; categorical ones: how many categories and the "
            f"most frequent.</p></section>")


def _chart(header: list[str], rows: list[list[float | None]], best: int | None) -> str:
    """An inline SVG of the loss columns per epoch (drawn when the run has no history.png)."""
    losses = [i for i, name in enumerate(header) if name.endswith("loss")]
    x_col = header.index("epoch") if "epoch" in header else None
    points = {i: [(row[x_col] if x_col is not None else n + 1, row[i]) for n, row in
                  enumerate(rows) if row[i] is not None and math.isfinite(row[i])]
              for i in losses}
    values = [y for series in points.values() for _, y in series]
    xs = [x for series in points.values() for x, _ in series]
    if len(rows) < 2 or not values:
        return ""
    width, height, left, right, top, bottom = 640, 240, 56, 110, 12, 28
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(values), max(values)
    y1 = y1 if y1 > y0 else y0 + 1.0

    def sx(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1.0) * (width - left - right)

    def sy(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * (height - top - bottom)

    colors = ["#2457a6", "#c2571a", "#2e8540", "#8e44ad"]
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
             f'y2="{height - bottom}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{top + 8}" text-anchor="end">{_esc(format_number(y1))}'
             f"</text>",
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">'
             f"{_esc(format_number(y0))}</text>",
             f'<text x="{left}" y="{height - 8}">epoch {x0:g}</text>',
             f'<text x="{width - right}" y="{height - 8}" text-anchor="end">{x1:g}</text>']
    if best is not None and x0 <= best <= x1:
        parts.append(f'<line x1="{sx(best):.1f}" y1="{top}" x2="{sx(best):.1f}" '
                     f'y2="{height - bottom}" stroke="#2e8540" stroke-dasharray="4 3"/>')
    for k, (i, series) in enumerate(points.items()):
        color = colors[k % len(colors)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in series)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" '
                     f'points="{path}"/>')
        parts.append(f'<text x="{width - right + 8}" y="{top + 12 + 16 * k}" '
                     f'style="fill:{color}">{_esc(header[i])}</text>')
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="loss per epoch">{"".join(parts)}</svg>')


def _history(history: tuple[list[str], list] | None, metrics: dict[str, Any],
             has_png: bool) -> str:
    if history is None:
        return ""
    header, rows = history
    best = metrics.get("best_epoch")
    epoch_col = header.index("epoch") if "epoch" in header else None
    body = []
    for row in rows:
        is_best = best is not None and epoch_col is not None and row[epoch_col] == best
        cells = "".join(f'<td class="num">{_esc(format_number(int(v)))}</td>'
                        if j == epoch_col and v is not None and v.is_integer()
                        else _num_cell(v) for j, v in enumerate(row))
        body.append(f'<tr class="best">{cells}</tr>' if is_best else f"<tr>{cells}</tr>")
    table = _table(header, body, numeric=set(range(len(header))))
    chart = "" if has_png else _chart(header, rows, best)
    marked = " The best epoch is highlighted." if best is not None else ""
    return (f'<section id="history"><h2>Training history</h2>{chart}<details>'
            f"<summary>Every epoch ({len(rows)} rows)</summary>{table}</details>"
            f'<p class="note">Loss and metrics per epoch; <code>val_</code> columns are on the '
            f"validation part.{marked}</p></section>")


def _figures_section(run_dir: Path) -> str:
    figures, skipped = [], []
    for path in _figures(run_dir):
        data = _read_bytes(path) or b""
        size = _png_size(data)
        if size is None:
            skipped.append(path.name)
            continue
        caption = _caption(path)
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        figures.append(f'<figure><img src="{uri}" alt="{_esc(caption)}" width="{size[0]}" '
                       f'height="{size[1]}"><figcaption>{_esc(caption)} '
                       f"(<code>{_esc(path.name)}</code>)</figcaption></figure>")
    if not figures and not skipped:
        return ""
    note = (f'<p class="note">Left out, not PNG images: {_esc(", ".join(skipped))}.</p>'
            if skipped else "")
    return f'<section id="figures"><h2>Figures</h2>{"".join(figures)}{note}</section>'


def _comparison(compare: dict[str, Any] | None) -> str:
    if compare is None:
        return ""
    metric, rows = compare["metric"], compare["rows"]
    direction = better_direction(metric)
    means = [row.get("mean") for row in rows if _is_number(row.get("mean"))
             and math.isfinite(row["mean"])]
    best = (max if direction == "max" else min)(means) if means and direction else None
    # the other metrics of each row (compare.json of `neuralab compare`), as mean columns
    others = [name for name in (rows[0].get("metrics") or {} if rows else {}) if name != metric
              and all(_is_number((row.get("metrics") or {}).get(name, {}).get("mean"))
                      for row in rows)]
    body = []
    for row in rows:
        extra = "".join(_num_cell(row["metrics"][name]["mean"]) for name in others)
        cells = (f"<td>{_esc(row['model'])}</td>{_num_cell(row.get('mean'))}"
                 f"{_num_cell(row.get('std'))}{extra}{_num_cell(row.get('fit_seconds'))}")
        body.append(f'<tr class="best">{cells}</tr>' if best is not None and
                    row.get("mean") == best else f"<tr>{cells}</tr>")
    head = ["model", f"{metric} mean", f"{metric} std", *(f"{name} mean" for name in others),
            "fit seconds"]
    table = _table(head, body, numeric=set(range(1, len(head))))
    note = (f' The best mean ({_direction_text(metric)} is better) is highlighted.'
            if best is not None else "")
    folds = compare.get("folds")
    runs = (f"the {folds} test folds of cross-validation, every model on the same folds and "
            f"the same preprocessing" if _is_number(folds) else "its runs")
    return (f'<section id="comparison"><h2>Comparison</h2>{table}<p class="note">Each model '
            f"scored on {_esc(metric)}: the mean and standard deviation over {runs}, and the "
            f"seconds of one fit.{note}</p></section>")


def _config(metrics: dict[str, Any], toml: str | None) -> str:
    settings = metrics.get("config")
    parts = []
    if settings and toml is None:  # config.toml holds the same settings, as a file to rerun
        rows = [f"<tr><td><code>{_esc(k)}</code></td><td>{_esc(_setting(v))}</td></tr>"
                for k, v in settings.items()]
        parts.append(_table(["setting", "value"], rows))
    if toml is not None:
        parts.append(f'<p>The settings file, <code>config.toml</code>:</p><pre>{_esc(toml)}</pre>')
    if not parts:
        return ""
    return f'<section id="config"><h2>Configuration</h2>{"".join(parts)}</section>'


# --- the page ----------------------------------------------------------------------------------


def render_report(run_dir: str | os.PathLike) -> str:
    """The HTML page of the run directory ``run_dir`` (see the module's docstring), as text.

    The page never names ``run_dir`` itself, so it can be rendered in a temporary directory that
    is renamed afterwards, as ``neuralab train`` does with its run directories.

    Raises ``ValueError`` naming the file when ``metrics.json`` is missing or not of the expected
    form, or when an optional file is there but unreadable (not JSON, ragged CSV rows)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: not a directory; write_report takes the run directory that "
                         f"`neuralab train` wrote (the one with metrics.json)")
    metrics = _read_metrics(run_dir)
    history = _read_history(run_dir)
    has_history_png = (run_dir / "history.png").is_file()
    comparison = _comparison(_read_compare(run_dir))
    compared = metrics.get("kind") == "compare"  # a run of neuralab compare: the table first
    sections = [
        _title(metrics),
        _summary(metrics, history),
        comparison if compared else "",
        _test_metrics(metrics),
        _data_profile(metrics),
        _history(history, metrics, has_history_png),
        _figures_section(run_dir),
        "" if compared else comparison,
        _config(metrics, _read_text(run_dir / "config.toml")),
    ]
    return html_page(_heading(metrics)[0], "\n".join(s for s in sections if s),
                     "<code>neuralab.apps.report</code>")


def html_page(title: str, body: str, written_by: str, style: str = "") -> str:
    """A self-contained HTML page: the report's style (and ``style``), a Content-Security-Policy
    that lets it load nothing, ``body`` (HTML) and a footer naming what wrote it (HTML)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="neuralab {_esc(__version__)}">\n'
        f"<title>{_esc(title)}</title>\n<style>{_STYLE}{style}</style>\n</head>\n<body>\n"
        + body
        + f"\n<footer>Written by neuralab {_esc(__version__)} ({written_by}). This file is "
        f"self-contained: figures and style are inside it, and it loads nothing.</footer>\n"
        f"</body>\n</html>\n"
    )


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write the HTML report of the run directory ``run_dir`` to ``out`` (default
    ``run_dir/report.html``) and return its path.

    The page is rendered in memory first and then written with
    :func:`~neuralab.io.atomic_write` (a temporary file and a rename): a reader sees the old
    report or the new one whole, never a part, and a failure leaves an existing report as it was.
    What the page holds, and what happens when a file is missing, is in the module's docstring.

    >>> write_report("runs/train-iris")
    PosixPath('runs/train-iris/report.html')
    """
    run_dir = Path(run_dir)
    page = render_report(run_dir)
    return atomic_write(run_dir / REPORT_NAME if out is None else Path(out), page.encode("utf-8"))
