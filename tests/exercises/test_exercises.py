"""Every exercise: the reference solution passes all checks, the untouched stub passes none and
crashes nothing, the stub holds nothing of the solution, and the student's code is run behind a
guard (exceptions, prints, a file that raises at import)."""

from __future__ import annotations

import ast

import pytest

from neuralab import exercises
from neuralab.exercises import NOT_IMPLEMENTED, PASS, SKIPPED, ExerciseError

NAMES = exercises.names()


def test_at_least_fourteen_exercises_in_lecture_order_with_korean_terms():
    assert len(NAMES) >= 14
    assert NAMES[0] == "mcp-gates" and "xor-backprop" in NAMES
    for name in NAMES:
        e = exercises.get(name)
        assert e.name == name and 1 <= e.difficulty <= 3
        assert any("\uac00" <= ch <= "\ud7a3" for ch in e.korean), name  # Hangul
        assert len({c.id for c in e.checks}) == len(e.checks) >= 3


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_solution_passes_every_check(name):
    report = exercises.check_file(exercises.solution_path(name))
    assert report.ok, report.text()
    assert [r.status for r in report.results] == [PASS] * len(exercises.get(name).checks)


@pytest.mark.parametrize("name", NAMES)
def test_the_untouched_stub_fails_cleanly(tmp_path, name):
    path = exercises.write_stub(name, tmp_path)
    report = exercises.check_file(path)
    assert not report.ok
    statuses = {r.status for r in report.results}
    assert statuses <= {NOT_IMPLEMENTED, SKIPPED}, report.text()
    assert report.results[0].status == NOT_IMPLEMENTED


def _bodies(source: str) -> dict[str, list[str]]:
    """function name -> the statements of its body after the docstring, as source text."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            found[node.name] = [ast.unparse(s) for s in body]
    return found


@pytest.mark.parametrize("name", NAMES)
def test_the_stub_holds_nothing_of_the_solution(name):
    solution = exercises.solution_path(name).read_text(encoding="utf-8")
    stub = exercises.stub(name)
    stub_bodies, solution_bodies = _bodies(stub), _bodies(solution)
    assert set(stub_bodies) == set(solution_bodies) == set(exercises.get(name).functions)
    code = _code(stub)
    for fn, body in stub_bodies.items():
        assert body == ["..."], f"{name}.{fn}: {body}"
        for statement in solution_bodies[fn]:
            assert statement not in code, f"{name}.{fn}: the stub shows {statement!r}"
    assert f'EXERCISE = "{name}"' in stub and "neuralab" not in stub.split('"""')[2]


def _code(source: str) -> str:
    """The source without its docstrings."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef)) and ast.get_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _student(tmp_path, body: str, name: str = "dense-layer"):
    path = tmp_path / "student.py"
    path.write_text(f'EXERCISE = "{name}"\nimport numpy as np\n{body}', encoding="utf-8")
    return exercises.check_file(path)


def test_an_exception_in_the_students_code_names_its_type_and_the_students_line(tmp_path):
    report = _student(tmp_path, "def dense_forward(x, W, b):\n    print('debugging')\n"
                                "    return {}['missing']\n")
    first = report.results[0]
    assert first.status == "error"
    assert "KeyError: 'missing'" in first.message
    assert "your line 5: `return {}['missing']`" in first.message
    assert "debugging" not in report.text()  # what the code printed stays out of the report
    assert "Traceback" not in report.text()


def test_a_file_that_raises_at_import_is_one_failed_check(tmp_path):
    report = _student(tmp_path, "raise SystemExit('bye')\n")
    assert [r.id for r in report.results if r.status == "error"] == ["imports"]
    assert "SystemExit: bye" in report.results[0].message
    assert "your line 3" in report.results[0].message
    assert all(r.status == SKIPPED for r in report.results[1:])


def test_a_wrong_return_type_is_a_failure_not_a_crash(tmp_path):
    report = _student(tmp_path, "def dense_forward(x, W, b):\n    return 'y'\n"
                                "def dense_backward(dy, x, W):\n    return 1, 2\n")
    assert "should be an array of numbers, got a str" in report.results[0].message
    backward = [r for r in report.results if r.id == "backward-dx"][0]
    assert "should return 3 values, returned 2 values" in backward.message


def test_user_errors_name_the_problem_and_the_fix(tmp_path):
    with pytest.raises(ExerciseError, match="no such file"):
        exercises.check_file(tmp_path / "missing.py")
    (tmp_path / "nomarker.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ExerciseError, match='add a line EXERCISE = "NAME"'):
        exercises.check_file(tmp_path / "nomarker.py")
    (tmp_path / "unknown.py").write_text('EXERCISE = "xor"\n', encoding="utf-8")
    with pytest.raises(ExerciseError, match="unknown exercise 'xor'; available: mcp-gates"):
        exercises.check_file(tmp_path / "unknown.py")
    (tmp_path / "syntax.py").write_text('EXERCISE = "adam"\n\ndef f(:\n', encoding="utf-8")
    with pytest.raises(ExerciseError, match=r"syntax\.py, line 3: syntax error"):
        exercises.check_file(tmp_path / "syntax.py")
    (tmp_path / "latin1.py").write_bytes(b'EXERCISE = "adam"  # caf\xe9\n')
    with pytest.raises(ExerciseError, match="not UTF-8"):
        exercises.check_file(tmp_path / "latin1.py")


def test_checks_do_not_depend_on_the_global_random_state(tmp_path):
    import numpy as np

    path = exercises.solution_path("dropout")
    np.random.seed(1)
    first = exercises.check_file(path).to_dict()
    np.random.seed(2)
    assert exercises.check_file(path).to_dict() == first
