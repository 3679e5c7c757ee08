"""Reading a student's file: which exercise it is, its syntax, running it in isolation, and the
stub made from a reference solution.

The file is compiled and executed in a fresh module object, the way ``importlib`` imports a file
from a path, but without a bytecode cache: a ``__pycache__`` written beside the student's file
could be taken for the next version of it when the file is saved twice within a second.  The
module is in ``sys.modules`` only while its top level runs (dataclasses look themselves up
there), under a name no other module uses.
"""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path
from types import ModuleType

from .core import ExerciseError

MARKER = "EXERCISE"
_counter = itertools.count()


def read_source(path: Path) -> str:
    if not path.exists():
        raise ExerciseError(f"{path}: no such file; write one with 'neuralab exercise start "
                            "NAME DIR' ('neuralab exercise list' names the exercises)")
    if not path.is_file():
        raise ExerciseError(f"{path} is not a file; pass the .py file of your solution")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ExerciseError(f"{path} is not UTF-8 text (byte {err.object[err.start]:#x} at "
                            f"offset {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise ExerciseError(f"{path}: cannot read it ({err.strerror or err})") from None


def parse(source: str, filename: str) -> ast.Module:
    """The syntax tree, or :class:`ExerciseError` naming the line of a syntax error."""
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as err:
        code = f": `{err.text.strip()}`" if err.text and err.text.strip() else ""
        raise ExerciseError(f"{filename}, line {err.lineno}: syntax error: {err.msg}{code}; "
                            "fix it and check again") from None


def exercise_name(tree: ast.Module, filename: str) -> str:
    """The value of the file's top-level ``EXERCISE = "name"`` line."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == MARKER for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
            raise ExerciseError(f"{filename}, line {node.lineno}: {MARKER} should be the "
                                'exercise\'s name as a string, e.g. EXERCISE = "xor-backprop"')
    raise ExerciseError(f"{filename} does not say which exercise it is: add a line "
                        f'{MARKER} = "NAME" at the top (\'neuralab exercise list\' names them; '
                        "'neuralab exercise start NAME' writes it for you)")


def execute(source: str, filename: str) -> ModuleType:
    """Run ``source`` as a fresh module; what it raises propagates (the caller reports it)."""
    name = f"_neuralab_exercise_{next(_counter)}"
    module = ModuleType(name)
    module.__file__ = filename
    code = compile(source, filename, "exec", dont_inherit=True)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules.pop(name, None)
    return module


def stub_source(solution: str) -> str:
    """The stub of a solution: every function keeps its signature and docstring, its body
    becomes ``...``; everything outside functions (the task, imports, constants) stays."""
    tree = ast.parse(solution)
    lines = solution.splitlines(keepends=True)
    cuts: list[tuple[int, int, int]] = []  # (first line, last line, indent), 1-based

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stmts = node.body
                has_doc = ast.get_docstring(node, clean=False) is not None
                first = stmts[0].end_lineno + 1 if has_doc else stmts[0].lineno
                cuts.append((first, node.end_lineno, stmts[0].col_offset))

    visit(tree.body)
    for first, last, indent in sorted(cuts, reverse=True):
        lines[first - 1:last] = [" " * indent + "...\n"]
    return "".join(lines)
