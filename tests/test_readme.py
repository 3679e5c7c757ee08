"""The README's Python examples run as written; its quick start names exactly the two commands."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the iris example saves a model file
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "Total params: 515" in out
    assert (tmp_path / "iris.safetensors").is_file()


def test_quick_start_has_the_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, re.M)
    assert commands == ["make demo", "make test"]


def test_readme_train_examples_run_on_the_shipped_data(tmp_path):
    """The README's first two `neuralab train` lines (built-in data, no ../shared) work on a
    fresh clone, and the run they write is usable by `predict`."""
    import shlex
    import subprocess
    import sys

    from neuralab.data.datasets.catalog import is_builtin

    text = README.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.startswith(".venv/bin/neuralab train")][:2]
    assert len(lines) == 2
    for i, line in enumerate(lines):
        args = shlex.split(line.split("#")[0])[1:]  # without .venv/bin/neuralab
        data = args[1] if len(args) > 1 and not args[1].startswith("-") else None
        assert data is None or is_builtin(data), f"the README trains on {data}, not built in"
        out = tmp_path / f"run{i}"
        proc = subprocess.run([sys.executable, "-m", "neuralab", *args, "--quiet", "--epochs",
                               "5", "--out", str(out)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert (out / "model.safetensors").is_file() and (out / "report.html").is_file()
    assert "regression" in (tmp_path / "run1" / "metrics.json").read_text()
