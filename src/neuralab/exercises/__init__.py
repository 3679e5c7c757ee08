"""Exercises that check themselves (연습 문제): the lecture's practice problems, from the MCP
neuron to k-fold splitting, each with a stub to fill in, checks and hints.

* :func:`write_stub` (``neuralab exercise start NAME [DIR]``) writes the stub: the task in its
  docstring, the functions' signatures, ``...`` where the code goes, and the line
  ``EXERCISE = "NAME"`` that tells :func:`check_file` which exercise the file is.
* :func:`check_file` (``neuralab exercise check FILE``) runs the file in isolation and every
  check of its exercise; a failed check carries a hint that names the mistake without giving
  the answer.  Checks are seeded and run in float64, so a verdict is the same on any machine.

Each exercise is a module here (its :class:`Exercise` with the checks, compared with neuralab's
own ops, layers and optimizers and with central differences) and a reference solution in
``solutions/`` (the tests check it passes; no command prints it; the stub is made from it by
cutting every function body).

>>> from neuralab import exercises
>>> path = exercises.write_stub("xor-backprop", "work")
>>> print(exercises.check_file(path).text())
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from ..io import atomic_write
from .core import (
    ERROR, FAIL, NOT_IMPLEMENTED, PASS, SKIPPED, CheckResult, Exercise, ExerciseError, Report,
    Student, import_failure, run_checks,
)
from .loader import exercise_name, execute, parse, read_source, stub_source

__all__ = [
    "ERROR", "FAIL", "NOT_IMPLEMENTED", "PASS", "SKIPPED", "CheckResult", "Exercise",
    "ExerciseError", "Report", "check_file", "get", "listing", "names", "solution_path", "stub",
    "write_stub",
]

#: the exercises in lecture order: name -> module (here and in solutions/)
_MODULES = {
    "mcp-gates": "mcp_gates", "perceptron-rule": "perceptron_rule",
    "activations": "activations", "softmax-cross-entropy": "softmax_cross_entropy",
    "numerical-gradient": "numerical_gradient", "dense-layer": "dense_layer",
    "xor-backprop": "xor_backprop", "sgd-momentum": "sgd_momentum", "adam": "adam",
    "weight-init": "weight_init", "dropout": "dropout", "batch-norm": "batch_norm",
    "l2-weight-decay": "l2_weight_decay", "kfold-split": "kfold_split",
}
_SOLUTIONS = Path(__file__).parent / "solutions"
_references: dict[str, ModuleType] = {}


def names() -> list[str]:
    return list(_MODULES)


def get(name: str) -> Exercise:
    """The :class:`Exercise` called ``name``."""
    if name not in _MODULES:
        raise ExerciseError(f"unknown exercise {name!r}; available: {', '.join(_MODULES)} "
                            "('neuralab exercise list')")
    return importlib.import_module(f".{_MODULES[name]}", __name__).exercise


def solution_path(name: str) -> Path:
    """The reference solution's file (for the tests; no command prints it)."""
    get(name)
    return _SOLUTIONS / f"{_MODULES[name]}.py"


def stub(name: str) -> str:
    """The stub of exercise ``name``: its reference solution with every function body cut."""
    return stub_source(solution_path(name).read_text(encoding="utf-8"))


def listing() -> str:
    """The table of ``neuralab exercise list``: name, difficulty, concept (Korean term)."""
    rows = [get(n) for n in names()]
    width = max(len(e.name) for e in rows)
    lines = [f"{'NAME':<{width}}  LEVEL  CONCEPT"]
    lines += [f"{e.name:<{width}}  {'*' * e.difficulty:<5}  {e.concept} ({e.korean})"
              for e in rows]
    lines.append("start one: neuralab exercise start NAME [DIR]; then: neuralab exercise check "
                 "FILE")
    return "\n".join(lines) + "\n"


def write_stub(name: str, directory: str | Path = ".", force: bool = False) -> Path:
    """Write the stub of ``name`` as ``DIR/<name with _>.py`` (atomically); an existing file is
    refused unless ``force``."""
    exercise = get(name)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ExerciseError(f"{directory} is a file; pass a directory for the exercise")
    path = directory / f"{exercise.module_name}.py"
    if path.exists() and not force:
        raise ExerciseError(f"{path} exists already (your work?); check it with 'neuralab "
                            f"exercise check {path}', choose another directory, or pass --force "
                            "to replace it with a fresh stub")
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(path, stub(name).encode("utf-8"))
    return path


def _reference(name: str) -> ModuleType:
    if name not in _references:
        path = solution_path(name)
        _references[name] = execute(path.read_text(encoding="utf-8"), str(path))
    return _references[name]


def check_file(path: str | Path) -> Report:
    """Run every check of the exercise that the file at ``path`` names (its ``EXERCISE``).

    A missing file, a syntax error or an unknown exercise is an :class:`ExerciseError` (the
    command line's exit code 2); whatever the student's code raises is a failed check."""
    path = Path(path)
    filename = str(path)
    source = read_source(path)
    tree = parse(source, filename)
    exercise = get(exercise_name(tree, filename))
    try:
        module = execute(source, filename)
    except (Exception, SystemExit) as exc:  # the student's top level may raise anything
        return Report(exercise.name, filename, import_failure(exercise, exc, filename))
    student = Student(module, filename, _reference(exercise.name))
    return Report(exercise.name, filename, run_checks(exercise, student))
