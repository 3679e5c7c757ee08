"""docs/keras.md shows what its code prints: the IRIS block is the output of the Python block
before it (`python tests/keras/test_doc.py` writes it again)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

from neuralab.io.pages import blocks, replace_block

PAGE = Path(__file__).resolve().parents[2] / "docs" / "keras.md"
COMMAND = "python tests/keras/test_doc.py"


def code(text: str, key: str) -> str:
    match = re.search(rf"<!-- python: {key} -->\n```python\n(.*?)^```$", text, re.M | re.S)
    assert match, f"docs/keras.md has no python block marked {key}"
    return match.group(1)


def render(text: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code(text, "iris"), "docs/keras.md", "exec"), {})  # noqa: S102
    return "```text\n" + out.getvalue() + "```\n"


def test_generated_block_is_what_the_code_prints():
    text = PAGE.read_text(encoding="utf-8")
    assert blocks(text)["IRIS"] == render(text), (
        f"docs/keras.md's IRIS block differs from what its code prints: run `{COMMAND}`")


def test_the_page_shows_the_lectures_counts():
    printed = blocks(PAGE.read_text(encoding="utf-8"))["IRIS"]
    assert re.search(r"dense \(Dense\) +\(None, 64\) +320\n", printed)
    assert re.search(r"dense_1 \(Dense\) +\(None, 3\) +195\n", printed)
    assert "Total params: 515 (2.01 KB)" in printed
    assert "['accuracy', 'loss', 'val_accuracy', 'val_loss']" in printed


if __name__ == "__main__":
    page = PAGE.read_text(encoding="utf-8")
    PAGE.write_text(replace_block(page, "IRIS", render(page)), encoding="utf-8")
    sys.exit(0)
