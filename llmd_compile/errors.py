"""The one error a user sees: a problem in their input, with its location; and a located diagnostic.

Both stay light (no heavy imports): a worker process sends them back to the CLI, which unpickles them without
loading the compiler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


def _where(path: str, line: int, col: int) -> str:
    """`file:line:col`, or the file alone when the line is unknown (0)."""
    return f"{path}:{line}:{col}" if line else path


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem. line/col are 1-based; 0 means 'unknown'."""

    path: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        where = _where(self.path, self.line, self.col)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SpecError(Exception):
    """Invalid input. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, path: str, field: str, message: str, line: int = 0, col: int = 0) -> SpecError:
        return cls([Problem(path, line, col, field, message)])


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    col: int
    code: str
    severity: Severity
    field: str
    message: str
    hint: str

    def __str__(self) -> str:
        """One format for a diagnostic everywhere (compile, lint, --strict): `file:line:col: field: error CODE: ...`,
        the format of every other problem with the severity and code leading the message."""
        return str(self.as_problem())

    def as_problem(self) -> Problem:
        return Problem(self.path, self.line, self.col, self.field,
                       f"{self.severity} {self.code}: {self.message} (hint: {self.hint})")
