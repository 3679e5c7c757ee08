"""neuralab exercise list|start|check: output, exit codes 0/1/2, --json, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from neuralab import exercises
from neuralab.cli import main


def test_list_names_every_exercise_with_its_korean_term(capsys):
    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for name in exercises.names():
        assert name in out
    assert "오차 역전파" in out and "***" in out


def test_start_writes_the_stub_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "sub"
    assert main(["exercise", "start", "adam", str(target)]) == 0
    path = target / "adam.py"
    assert path.read_text(encoding="utf-8") == exercises.stub("adam")
    assert f"wrote {path}" in capsys.readouterr().out
    path.write_text("my work", encoding="utf-8")
    assert main(["exercise", "start", "adam", str(target)]) == 2
    err = capsys.readouterr().err
    assert "exists already" in err and "--force" in err and err.count("\n") == 1
    assert path.read_text(encoding="utf-8") == "my work"
    assert main(["exercise", "start", "adam", str(target), "--force"]) == 0
    assert path.read_text(encoding="utf-8") == exercises.stub("adam")
    assert main(["exercise", "start", "no-such", str(target)]) == 2
    assert "unknown exercise 'no-such'" in capsys.readouterr().err


def test_check_exit_codes_and_json(tmp_path, capsys):
    path = exercises.write_stub("l2-weight-decay", tmp_path)
    assert main(["exercise", "check", str(path)]) == 1
    assert "0 of 4 checks pass" in capsys.readouterr().out
    path.write_text(exercises.solution_path("l2-weight-decay").read_text(encoding="utf-8")
                    .replace("return 2 * lam * w", "return lam * w"), encoding="utf-8")
    assert main(["exercise", "check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"exercise", "file", "ok", "passed", "total", "checks"}
    assert (data["exercise"], data["ok"], data["passed"], data["total"]) == \
        ("l2-weight-decay", False, 3, 4)
    for check in data["checks"]:
        assert set(check) == {"id", "title", "status", "message", "hint"}
    failed = [c for c in data["checks"] if c["status"] != "pass"]
    assert [c["id"] for c in failed] == ["penalty-gradient"] and failed[0]["hint"]
    assert all(c["hint"] is None for c in data["checks"] if c["status"] == "pass")
    assert main(["exercise", "check", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_end_to_end_start_then_check_a_solution_and_a_syntax_error(tmp_path):
    """From the installed entry point, in a child process: start, then check → exit 0; a syntax
    error → exit 2 with its line and no traceback."""
    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "neuralab", "exercise", *argv],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)

    started = run("start", "xor-backprop", "work")
    assert started.returncode == 0, started.stderr
    path = tmp_path / "work" / "xor_backprop.py"
    assert 'EXERCISE = "xor-backprop"' in path.read_text(encoding="utf-8")
    path.write_text(exercises.solution_path("xor-backprop").read_text(encoding="utf-8"),
                    encoding="utf-8")
    path.with_name("broken.py").write_text('EXERCISE = "xor-backprop"\n\ndef forward(X:\n',
                                           encoding="utf-8")
    checked = run("check", "work/xor_backprop.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.endswith("all checks pass\n")
    broken = run("check", "work/broken.py")
    assert broken.returncode == 2 and broken.stdout == ""
    assert broken.stderr.startswith("neuralab: error: work/broken.py, line 3: syntax error")
    assert "Traceback" not in broken.stderr and broken.stderr.count("\n") == 1
