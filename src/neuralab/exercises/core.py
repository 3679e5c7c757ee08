"""The machinery of an exercise: its checks, the student's module behind a guard, the report.

A :class:`Check` tests one thing and carries one hint: the hint names the mistake that makes that
check fail.  Checks are independent where they can be: a check that calls the student's
``train`` substitutes the reference ``forward`` and ``backward`` for the student's own
(:meth:`Student.using_reference`), and a check that makes sense only once another one passes
names it in ``requires`` and is *skipped* until it does.  So one mistake fails one check, with the
hint for that mistake.

Everything the student's code does goes through :meth:`Student.call`: an exception of any type
becomes a failed check that names the exception and the student's own line, a function that
returns ``None`` (a stub's ``...`` body) is "not implemented", and what it prints is kept out of
the report.
"""

from __future__ import annotations

import contextlib
import io
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterator

import numpy as np

PASS, FAIL, ERROR, NOT_IMPLEMENTED, SKIPPED = "pass", "fail", "error", "not-implemented", "skipped"


class ExerciseError(ValueError):
    """A user error: a missing or unreadable file, a syntax error, an unknown exercise."""


class Fail(Exception):
    """Raised by a check: what is wrong, in one or two sentences (never the answer)."""

    status = FAIL


class NotImplemented_(Fail):  # noqa: N801 - "NotImplemented" is a builtin constant
    status = NOT_IMPLEMENTED


class StudentError(Fail):
    """The student's code raised: the exception and the student's own line."""

    status = ERROR


@dataclass(frozen=True)
class Check:
    """One check of an exercise: ``id`` (also the hint's id), what it verifies, the hint shown
    when it fails, the checks it needs to pass first, and the function that runs it."""

    id: str
    title: str
    hint: str
    run: Callable[["Student"], None]
    requires: tuple[str, ...] = ()


@dataclass
class Exercise:
    """A lecture exercise: its name, the concept (with the Korean term), a difficulty 1-3, the
    functions the student writes and the checks."""

    name: str
    concept: str
    korean: str
    difficulty: int
    functions: tuple[str, ...]
    checks: list[Check] = field(default_factory=list)

    def check(self, id: str, title: str, hint: str, requires: tuple[str, ...] = ()
              ) -> Callable[[Callable[["Student"], None]], Callable[["Student"], None]]:
        """Decorator: register ``fn(student)`` as a check (it raises :class:`Fail`)."""
        if any(c.id == id for c in self.checks):
            raise ValueError(f"exercise {self.name}: two checks named {id!r}")
        unknown = [r for r in requires if all(c.id != r for c in self.checks)]
        if unknown:
            raise ValueError(f"exercise {self.name}: check {id!r} requires unknown {unknown}")

        def register(fn: Callable[["Student"], None]) -> Callable[["Student"], None]:
            self.checks.append(Check(id, title, hint, fn, tuple(requires)))
            return fn

        return register

    @property
    def module_name(self) -> str:
        return self.name.replace("-", "_")


def _student_line(exc: BaseException, filename: str) -> str:
    """``line N: <code>`` of the innermost frame of the student's file in the traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    f = frames[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    return f" (your line {f.lineno}:{code})"


def describe_exception(exc: BaseException, filename: str) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{text}{_student_line(exc, filename)}"


class Student:
    """The student's module, called only through :meth:`call`, with a reference module of the
    same exercise for :meth:`using_reference`."""

    def __init__(self, module: ModuleType, filename: str, reference: ModuleType | None) -> None:
        self.module = module
        self.filename = filename
        self.reference = reference
        self.output = io.StringIO()  # what the student's code printed

    def function(self, name: str) -> Callable[..., Any]:
        fn = getattr(self.module, name, None)
        if fn is None:
            raise Fail(f"your file has no function `{name}`; keep the names of the stub "
                       "(neuralab exercise start writes it)")
        if not callable(fn):
            raise Fail(f"`{name}` in your file is a {type(fn).__name__}, not a function")
        return fn

    def call(self, name: str, *args: Any, returns: int | None = None, copy: bool = True,
             **kwargs: Any) -> Any:
        """Call the student's ``name`` on copies of the arguments (unless ``copy=False``: a check
        of what the function does to them); ``returns=k`` expects a tuple of k values.  Raises
        :class:`Fail` for None, a wrong tuple or an exception."""
        fn = self.function(name)
        if copy:
            args = tuple(_copy(a) for a in args)
            kwargs = {k: _copy(v) for k, v in kwargs.items()}
        try:
            with contextlib.redirect_stdout(self.output), contextlib.redirect_stderr(self.output), \
                    np.errstate(all="ignore"):
                result = fn(*args, **kwargs)
        except (Exception, SystemExit) as exc:  # the student's code may raise anything
            raise StudentError(f"`{name}` raised {describe_exception(exc, self.filename)}"
                               ) from None
        if result is None:
            raise NotImplemented_(f"`{name}` is not implemented yet (it returned None)")
        if returns is not None:
            if not isinstance(result, (tuple, list)) or len(result) != returns:
                got = (f"{len(result)} values" if isinstance(result, (tuple, list))
                       else f"a {type(result).__name__}")
                raise Fail(f"`{name}` should return {returns} values, returned {got}")
            if any(r is None for r in result):
                raise NotImplemented_(f"`{name}` is not implemented yet (it returned None in "
                                      "its tuple)")
        return result

    @contextlib.contextmanager
    def using_reference(self, *names: str) -> Iterator[None]:
        """While inside, the student's module sees the reference's ``names`` (a check of one
        function does not fail for a mistake in another)."""
        saved = {n: self.module.__dict__.get(n, _MISSING) for n in names}
        try:
            if self.reference is not None:
                for n in names:
                    self.module.__dict__[n] = getattr(self.reference, n)
            yield
        finally:
            for n, v in saved.items():
                if v is _MISSING:
                    self.module.__dict__.pop(n, None)
                else:
                    self.module.__dict__[n] = v


_MISSING = object()


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: str
    message: str = ""
    hint: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass
class Report:
    """The outcome of checking one file: one :class:`CheckResult` per check, in order."""

    exercise: str
    file: str
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed_hints(self) -> list[str]:
        """The ids of the checks that failed (not the skipped ones)."""
        return [r.id for r in self.results if r.status in (FAIL, ERROR, NOT_IMPLEMENTED)]

    def text(self) -> str:
        width = max(len(r.id) for r in self.results)
        lines = [f"{self.exercise}: checking {self.file}"]
        for r in self.results:
            mark = {PASS: "PASS", SKIPPED: "SKIP", NOT_IMPLEMENTED: "TODO"}.get(r.status, "FAIL")
            lines.append(f"  {mark}  {r.id:<{width}}  {r.title}")
            if r.message:
                lines.append(f"        {r.message}")
            if r.hint:
                lines.append(f"        hint: {r.hint}")
        passed = sum(r.passed for r in self.results)
        verdict = "all checks pass" if self.ok else f"{passed} of {len(self.results)} checks pass"
        lines.append(verdict)
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise, "file": self.file, "ok": self.ok,
            "passed": sum(r.passed for r in self.results), "total": len(self.results),
            "checks": [{"id": r.id, "title": r.title, "status": r.status,
                        "message": r.message, "hint": r.hint} for r in self.results],
        }


def run_checks(exercise: Exercise, student: Student) -> list[CheckResult]:
    """Run every check of ``exercise`` on ``student``, in order."""
    results: dict[str, CheckResult] = {}
    for check in exercise.checks:
        blocked = [r for r in check.requires if not results[r].passed]
        if blocked:
            results[check.id] = CheckResult(check.id, check.title, SKIPPED,
                                            f"skipped until {', '.join(blocked)} passes")
            continue
        try:
            check.run(student)
        except Fail as failure:
            hint = None if failure.status == NOT_IMPLEMENTED else check.hint
            results[check.id] = CheckResult(check.id, check.title, failure.status,
                                            str(failure), hint)
        else:
            results[check.id] = CheckResult(check.id, check.title, PASS)
    return list(results.values())


def import_failure(exercise: Exercise, exc: BaseException, filename: str) -> list[CheckResult]:
    """The results when the student's file raises while it is imported: one failed check."""
    message = f"your file raised {describe_exception(exc, filename)} when it was imported"
    return [CheckResult("imports", "the file runs (import)", ERROR, message,
                        "code at the top level of the file runs at import: keep it to "
                        "imports, constants and definitions")] + [
        CheckResult(c.id, c.title, SKIPPED, "skipped until the file imports")
        for c in exercise.checks]
