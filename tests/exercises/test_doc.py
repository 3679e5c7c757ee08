"""docs/exercises.md shows what the commands print now: each generated block is the output of
the walk through xor-backprop (start, check the stub, check a mistake, check a solution), run in
a scratch directory.  Regenerate the blocks with `python tests/exercises/test_doc.py`."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

from neuralab import exercises
from neuralab.cli import main
from neuralab.io import atomic_write
from neuralab.io.pages import blocks, replace_block

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "exercises.md"
COMMAND = "python tests/exercises/test_doc.py"
# the mistake the page walks through: the sigmoid's derivative without its second factor
MISTAKE = ("return y * (1.0 - y)", "return y")


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return f"$ neuralab {' '.join(argv)}\n{out.getvalue()}(exit code {code})\n"


def walk() -> dict[str, str]:
    """The outputs of the page's walk, by block name, run in a fresh directory."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            found = {"START": _run(["exercise", "start", "xor-backprop", "work"]),
                     "STUB": _run(["exercise", "check", "work/xor_backprop.py"])}
            solution = exercises.solution_path("xor-backprop").read_text(encoding="utf-8")
            Path("work/xor_backprop.py").write_text(solution.replace(*MISTAKE), encoding="utf-8")
            found["MISTAKE"] = _run(["exercise", "check", "work/xor_backprop.py"])
            found["JSON"] = _run(["exercise", "check", "work/xor_backprop.py", "--json"])
            Path("work/xor_backprop.py").write_text(solution, encoding="utf-8")
            found["PASS"] = _run(["exercise", "check", "work/xor_backprop.py"])
        finally:
            os.chdir(here)
    found["LIST"] = _run(["exercise", "list"])
    return found


def render(output: str) -> str:
    return f"```text\n{output}```\n"


def test_generated_blocks_are_what_the_commands_print():
    page = PAGE.read_text(encoding="utf-8")
    found = blocks(page)
    outputs = walk()
    assert set(found) == set(outputs)
    for key, output in outputs.items():
        assert found[key] == render(output), (
            f"docs/exercises.md block {key} differs from what the command prints: run "
            f"`{COMMAND}` (do not edit the block by hand)")


def test_the_walk_shows_each_outcome():
    """The claims of the prose on the printed outputs: the stub passes nothing, the mistake
    fails exactly its check, the solution passes all, with exit codes 1, 1, 0."""
    outputs = walk()
    assert "0 of 8 checks pass\n(exit code 1)" in outputs["STUB"]
    mistake = outputs["MISTAKE"]
    assert "  FAIL  sigmoid-derivative-factor" in mistake and mistake.count("FAIL") == 1
    assert "7 of 8 checks pass\n(exit code 1)" in mistake
    assert "all checks pass\n(exit code 0)" in outputs["PASS"]
    page = PAGE.read_text(encoding="utf-8")
    assert "    return y\n" in page  # the mistake the page shows is the one that was checked
    assert "(docs/exercises.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def write() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for key, output in walk().items():
        page = replace_block(page, key, render(output))
    atomic_write(PAGE, page.encode("utf-8"))
    print(f"wrote {PAGE}", file=sys.stderr)


if __name__ == "__main__":
    write()
