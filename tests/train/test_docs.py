"""The Python examples of docs/training.md and docs/callbacks.md run as written (```python blocks;
```text blocks are fragments)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _python_blocks(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


@pytest.mark.parametrize("page", ["training.md", "callbacks.md"])
def test_doc_examples_run(page, tmp_path, monkeypatch, capsys):
    blocks = _python_blocks(page)
    assert blocks, f"no python example in {page}"
    monkeypatch.chdir(tmp_path)  # figures and files land in a scratch directory
    for code in blocks:
        namespace: dict = {"__name__": "__doc_example__"}
        exec(compile(code, f"{page} example", "exec"), namespace)
    out = capsys.readouterr().out
    if page == "training.md":
        # the iris practical: the printed evaluation reaches the lecture's accuracy
        acc = float(re.findall(r"'accuracy': ([0-9.]+)", out)[-1])
        assert acc >= 0.95, out[-500:]
        assert "515" in out
    else:
        ratios = [float(r) for r in re.findall(r"gradient norm: ([0-9.e-]+)", out)]
        assert ratios[0] < 0.01 < 0.2 < ratios[1], out
        assert (tmp_path / "vanishing_gradients.png").stat().st_size > 0
