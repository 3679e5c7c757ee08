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
from ..io import atomic_write, write_json

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
    ``out_dir`` is given, write the figures, ``result.json`` and ``summary.md`` there."""
    lab = get(name)
    config = lab.Config.quick() if quick else lab.Config()
    config = apply_overrides(config, overrides or {})
    result = lab.run(config)
    files: list[Path] = []
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = list(lab.plot(result, out))
        write_json(out / "result.json", {"lab": name, "config": config, "result": result})
        atomic_write(out / "summary.md", _summary_markdown(lab, result, config, files).encode())
        files += [out / "result.json", out / "summary.md"]
    return result, files


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
        "Config: `" + json.dumps(dataclasses.asdict(config)) + "`",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})" for f in files if f.suffix == ".png"]
    return "\n".join(lines) + "\n"


# The labs, in the lecture's order (module names are the lab names with - replaced by _).
for _name in [
    "perceptron-xor",  # rows 1-3, 27
    "activations",  # row 5
    "gradient-check",  # row 10
    "gradient-descent",  # row 11
    "learning-rate",  # row 12
    "optimizers",  # row 13
    "weight-init",  # row 14
    "vanishing-gradients",  # row 15
    "overfitting",  # row 16
    "regularization",  # row 17
    "dropout",  # row 18
    "augmentation",  # row 20
    "batch-norm",  # row 21
    "hyperparameter-search",  # row 24
    "wine-quality",  # row 26
]:
    register(_name, _name.replace("-", "_"))
