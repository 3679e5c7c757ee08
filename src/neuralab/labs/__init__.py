"""Lab experiments: one module per figure or claim of the lecture, rerunnable by anyone.

Each lab module defines

* ``TITLE`` (one line) and ``CLAIM`` (what the lecture says and the lab shows),
* ``CONCEPTS``: the rows of the concept table it covers,
* a ``Config`` dataclass (defaults for the full run) with a ``quick()`` classmethod giving a small
  configuration that still shows the effect (used by the tests and ``--quick``),
* ``run(config) -> Result`` where ``Result`` is a dataclass with the numbers, ``claim_holds``
  (bool) and ``summary()`` (a short text with the measured numbers),
* ``plot(result, out_dir) -> list[Path]``: figures written as PNG files (matplotlib, Agg).

``neuralab lab list`` lists them; ``neuralab lab run NAME [--quick] [--set key=value]`` runs one
and writes its figures, ``result.json`` and ``summary.md`` to ``runs/lab-NAME/``.

>>> from neuralab import labs
>>> result, files = labs.run("activations", quick=True, out_dir="runs/lab-activations")
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import types
from pathlib import Path
from typing import Any

from ..config import apply_overrides
from ..io import atomic_write, to_jsonable, write_json
from ..io.pages import PageError, replace_block
from ..io.provenance import run_metadata
from ..io.rundir import RunDirectory

#: name -> module (inside neuralab.labs).  Keep sorted by lecture order.
REGISTRY: dict[str, str] = {}


def register(name: str, module: str) -> None:
    REGISTRY[name] = module


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> types.ModuleType:
    """The lab module called ``name``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown lab {name!r}; available labs: {', '.join(REGISTRY) or '(none)'}")
    return importlib.import_module(f".{REGISTRY[name]}", __name__)


def run(
    name: str,
    quick: bool = False,
    out_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Any, list[Path]]:
    """Run lab ``name`` (its quick configuration if ``quick``) with ``overrides`` applied; when
    ``out_dir`` is given, write the figures, ``result.json`` and ``summary.md`` there.

    The directory is written as a unit: everything goes to a fresh directory beside it, which
    then replaces ``out_dir`` whole, so no figure of an earlier run is left behind and a run that
    fails leaves the earlier directory as it was.  ``result.json`` holds the configuration, the
    result, its summary text, the verdict and where it was measured (:func:`run_metadata`)."""
    lab = get(name)
    config = lab.Config.quick() if quick else lab.Config()
    config = apply_overrides(config, overrides or {})
    result = lab.run(config)
    if out_dir is None:
        return result, []
    out = Path(out_dir)
    with RunDirectory(out, overwrite=True) as tmp:
        figures = [Path(f) for f in lab.plot(result, tmp)]
        stored = {"lab": name, "quick": quick, "config": config, "result": result,
                  "claim_holds": bool(result.claim_holds), "summary": result.summary(),
                  "figures": [f.name for f in figures], "meta": run_metadata()}
        write_json(tmp / "result.json", stored)
        atomic_write(tmp / "summary.md", _summary_markdown(lab, result, config, figures).encode())
    names = [f.name for f in figures] + ["result.json", "summary.md"]
    return result, [out / n for n in names]


def _summary_markdown(lab: types.ModuleType, result: Any, config: Any, files: list[Path]) -> str:
    verdict = "holds" if result.claim_holds else "does NOT hold in this run"
    lines = [
        f"# {lab.TITLE}",
        "",
        f"**Claim:** {lab.CLAIM}",
        "",
        f"**Verdict:** the claim {verdict}.",
        "",
        "```text",
        result.summary(),
        "```",
        "",
        "Config: `" + json.dumps(to_jsonable(dataclasses.asdict(config))) + "`",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})" for f in files if f.suffix == ".png"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the lab pages in docs/labs
#: where ``--docs`` writes: docs/labs/NAME.md and docs/labs/figures/NAME/ of the checkout
DOCS_DIR = Path(__file__).resolve().parents[3] / "docs" / "labs"


def page_path(name: str) -> Path:
    return DOCS_DIR / f"{name}.md"


def stored_result_path(name: str) -> Path:
    return DOCS_DIR / "figures" / name / "result.json"


def render_result_block(stored: dict[str, Any]) -> str:
    """The generated block of a lab page, from the lab's stored ``result.json`` alone."""
    meta, config = stored["meta"], stored["config"]
    if "seeds" in config:
        seeds = "seeds " + ", ".join(str(s) for s in config["seeds"])
    elif "seed" in config:
        seeds = f"seed {config['seed']}"
    else:
        seeds = "no random seed (deterministic)"
    which = "quick" if stored.get("quick") else "full"
    verdict = "holds" if stored["claim_holds"] else "does NOT hold"
    return (
        f"Measured with `neuralab lab run {stored['lab']} --docs` ({which} configuration, "
        f"{seeds}) at commit `{meta['commit']}` on {meta['cpu']}, Python {meta['python']}, "
        f"NumPy {meta['numpy']}, {meta['blas']}.\n"
        f"\n"
        f"**Verdict:** the claim {verdict}.\n"
        f"\n"
        f"```text\n{stored['summary'].rstrip()}\n```\n"
    )


def write_docs(name: str, overrides: dict[str, Any] | None = None) -> tuple[Any, list[Path]]:
    """Run lab ``name`` in its full configuration, store its output in docs/labs/figures/NAME/
    and regenerate the result block of docs/labs/NAME.md from the stored ``result.json``."""
    page = page_path(name)
    if not page.is_file():
        raise FileNotFoundError(f"lab {name!r} has no page {page}; --docs updates the pages of a "
                                f"neuralab checkout (write the page first)")
    text = page.read_text(encoding="utf-8")
    try:
        replace_block(text, "RESULT", "")  # a page without its markers fails before the run
    except PageError as err:
        raise PageError(f"{page}: {err}") from None
    result, files = run(name, out_dir=stored_result_path(name).parent, overrides=overrides)
    stored = json.loads(stored_result_path(name).read_text(encoding="utf-8"))
    atomic_write(page, replace_block(text, "RESULT", render_result_block(stored)).encode())
    return result, [*files, page]


# The labs, in the lecture's order (module names are the lab names with - replaced by _).
for _name in [
    "perceptron-xor",  # rows 1-3, 27
    "xor-numpy",  # rows 27, 8-10
    "activations",  # row 5
    "dying-relu",  # row 29
    "numerical-derivative",  # rows 10-12: the book's chapter 4
    "gradient-check",  # row 10
    "gradient-descent",  # row 11
    "learning-rate",  # row 12
    "optimizers",  # row 13
    "local-minima",  # row 28
    "weight-init",  # row 14
    "init-training",  # rows 14, 15: the book's Fig. 6-15
    "vanishing-gradients",  # row 15
    "overfitting",  # row 16
    "regularization",  # row 17
    "dropout",  # row 18
    "early-stopping",  # row 19
    "augmentation",  # row 20
    "augmentation-cnn",  # rows 20, 3: augmentation for a CNN on centred images (issue 13)
    "batch-norm",  # row 21
    "layer-norm",  # row 21
    "cnn-fashion-mnist",  # rows 3, 20, 21: convolution (issue 13)
    "input-normalization",  # rows 30, 22
    "hyperparameter-search",  # row 24
    "wine-quality",  # row 26
]:
    register(_name, _name.replace("-", "_"))
