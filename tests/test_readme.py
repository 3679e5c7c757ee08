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


def test_readme_train_example_runs_on_the_shipped_data(tmp_path):
    """The first `neuralab train` line of the README works on a fresh clone (no ../shared)."""
    import shlex
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith(".venv/bin/neuralab train "))
    args = shlex.split(line.split("#")[0])[1:]  # without .venv/bin/neuralab
    data = README.parent / args[1]
    assert data.is_file(), f"the README trains on {args[1]}, which the checkout does not hold"
    args[1] = str(data)
    proc = subprocess.run([sys.executable, "-m", "neuralab", *args, "--quiet", "--epochs", "5",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "run" / "model.safetensors").is_file()
