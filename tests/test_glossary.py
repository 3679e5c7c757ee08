"""docs/glossary.md is generated from neuralab.glossary.TERMS, and every row of that table is
true: the API it names exists, the lab it names is registered and has a page."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest

from neuralab import glossary, labs
from neuralab.io.pages import blocks

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def resolve(dotted: str) -> object:
    """The object a dotted name below neuralab names: the longest importable module prefix,
    then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_the_resolver_fails_on_a_missing_name():
    assert resolve("neuralab.nn.Dense") is importlib.import_module("neuralab.nn").Dense
    with pytest.raises(AttributeError):
        resolve("neuralab.nn.NoSuchLayer")
    with pytest.raises(ModuleNotFoundError):
        resolve("notneuralab.nn")


def test_the_page_is_generated_from_the_table():
    page = glossary.PAGE.read_text(encoding="utf-8")
    assert blocks(page).get("GLOSSARY") == glossary.render_table(), (
        f"docs/glossary.md differs from neuralab.glossary.TERMS: run `{glossary.COMMAND}`")


@pytest.mark.parametrize("term", glossary.TERMS, ids=[t.english for t in glossary.TERMS])
def test_every_api_exists_and_every_lab_is_registered(term):
    assert HANGUL.search(term.korean), term.korean
    assert term.english.isascii() and not HANGUL.search(term.english)
    assert term.api or term.labs, "a term with neither an API nor a lab"
    for name in term.api:
        assert name.startswith("neuralab"), name
        resolve(name)  # raises when the module or attribute does not exist
    for name in term.labs:
        assert name in labs.names(), f"{name} is not a registered lab"
        assert labs.page_path(name).is_file()


def test_no_term_twice_and_every_lab_named():
    korean = [t.korean for t in glossary.TERMS]
    assert len(korean) == len(set(korean))
    named = {lab for t in glossary.TERMS for lab in t.labs}
    missing = [name for name in labs.names() if name not in named]
    assert not missing, f"labs that no glossary term names (add them to TERMS): {missing}"


def test_the_table_renders_a_row_per_term_with_links():
    table = glossary.render_table()
    assert table.count("\n") == len(glossary.TERMS) + 2
    row = glossary.render_table([glossary.Term("시그모이드", "sigmoid", ("neuralab.nn.Sigmoid",),
                                               ("activations",))])
    assert "| 시그모이드 | sigmoid | `nn.Sigmoid` | [activations](labs/activations.md) |" in row
    assert glossary.render_table([glossary.Term("가", "a")]).endswith("| 가 | a | - | - |\n")


def test_the_module_prints_the_table():
    proc = subprocess.run([sys.executable, "-m", "neuralab.glossary"], capture_output=True,
                          text=True, check=True)
    assert proc.stdout == glossary.render_table()
