"""``python docs/figures/backprop.py``: the figure and the numbers of docs/backprop.md.

The page's Python blocks are the one source: this script runs them in order (in one namespace,
in this folder, so the first one saves its figure here as backprop-apple.svg) and writes what
each printed into the generated block that follows it.  No number on the page is typed by hand;
tests/test_backprop_doc.py runs the blocks again and fails when the page or the figure differs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "backprop.md"
FIGURE = HERE / "backprop-apple.svg"
COMMAND = "python docs/figures/backprop.py"

_PYTHON = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def code_blocks(text: str) -> list[str]:
    return _PYTHON.findall(text)


def run_examples(text: str, workdir: Path) -> list[str]:
    """What each Python block of ``text`` prints, run in order in one namespace with
    ``workdir`` as the current directory."""
    namespace: dict = {"__name__": "backprop_page"}
    outputs = []
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        for code in code_blocks(text):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(PAGE), "exec"), namespace)
            outputs.append(out.getvalue())
    finally:
        os.chdir(previous)
    return outputs


def render_block(output: str) -> str:
    return f"```text\n{output}```\n"


def render_page(text: str, workdir: Path) -> str:
    """``text`` with each generated block replaced by the output of the Python block before it
    (the page alternates: code, then its generated output)."""
    from neuralab.io.pages import blocks, replace_block

    keys = list(blocks(text))
    outputs = run_examples(text, workdir)
    if len(keys) != len(outputs):
        raise SystemExit(f"{PAGE}: {len(outputs)} Python blocks but {len(keys)} generated "
                         "blocks; each Python block is followed by the block of its output")
    for key, output in zip(keys, outputs):
        text = replace_block(text, key, render_block(output))
    return text


def main() -> int:
    from neuralab.io import atomic_write

    text = PAGE.read_text(encoding="utf-8")
    new = render_page(text, HERE)  # the first block saves backprop-apple.svg here
    atomic_write(PAGE, new.encode("utf-8"))
    print(f"wrote {FIGURE.relative_to(HERE.parents[1])} and the generated blocks of "
          f"{PAGE.relative_to(HERE.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
