"""docs/backprop.md shows what its code prints and draws now: each generated block is the output
of the Python block before it, and the stored figure docs/figures/backprop-apple.svg is the SVG
that the page's code saves (both written by `python docs/figures/backprop.py`)."""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from neuralab.io.pages import blocks

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("backprop_figures",
                                               ROOT / "docs" / "figures" / "backprop.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The page's code run once in a scratch directory: (what each block printed, that dir)."""
    workdir = tmp_path_factory.mktemp("backprop")
    page = script.PAGE.read_text(encoding="utf-8")
    return script.run_examples(page, workdir), workdir


def test_generated_blocks_are_what_the_code_above_them_prints(rendered):
    outputs, _ = rendered
    found = blocks(script.PAGE.read_text(encoding="utf-8"))
    assert list(found) == ["APPLE", "USED TWICE", "NETWORK"]
    for (key, body), output in zip(found.items(), outputs, strict=True):
        assert body == script.render_block(output), (
            f"docs/backprop.md block {key} differs from what its code prints: run "
            f"`{script.COMMAND}` (do not edit the block by hand)")


def test_stored_figure_is_what_the_code_draws_now(rendered):
    _, workdir = rendered
    drawn = (workdir / script.FIGURE.name).read_text(encoding="utf-8")
    assert script.FIGURE.read_text(encoding="utf-8") == drawn, (
        f"{script.FIGURE.relative_to(ROOT)} is stale: run `{script.COMMAND}`")
    ET.fromstring(drawn)
    page = script.PAGE.read_text(encoding="utf-8")
    assert f"](figures/{script.FIGURE.name})" in page


def test_the_page_shows_the_lectures_gradients(rendered):
    """The claims of the prose, on the numbers the code printed: d price/d apple = count x tax,
    d price/d count = apple x tax, d price/d tax = apple x count; 2x + 1 for x x + x."""
    apple, used_twice, _ = rendered[0]
    grads = dict(re.findall(r"^(\w+) \(input\); value \S+; grad (\S+)$", apple, re.M))
    assert grads == {"apple": "2.2", "count": "110", "tax": "200"}
    assert "autograd: 2.2 110.0 200.0" in apple
    assert "x is used 3 times, its shares add up: 1 + 3 + 3 = 7" in used_twice
    assert "autograd: 7.0" in used_twice


def test_the_inputs_quoted_in_the_prose_are_the_codes():
    """The prose may quote the lecture's given inputs (they are no result); they must be the
    inputs the code uses."""
    page = script.PAGE.read_text(encoding="utf-8")
    prose = " ".join(page.split())
    first, second = script.code_blocks(page)[:2]
    assert "two apples at 100 each, with a consumption tax of 1.1" in prose
    for given in ("apple = nl.tensor(100.0,", "count = nl.tensor(2.0,", "tax = nl.tensor(1.1,"):
        assert given in first
    assert "With y = x x + x at x = 3," in prose and "x = nl.tensor(3.0," in second


def test_the_page_is_linked():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/backprop.md)" in readme and "`neuralab.graph`" in readme
    assert "graph.py" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
