"""Domain errors and the process exit codes they map to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the `triage` command; documented in the README."""

    OK = 0
    INPUT = 1  # the input is wrong: invalid matrix, invalid answer, validation problems
    USAGE = 2  # usage error: unknown option, missing answer under --no-input, no terminal
    INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True)
class Problem:
    """One located finding about an input file."""

    source: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    level: str  # "error" or "warning"
    message: str
    code: str

    def location(self) -> str:
        if self.line:
            return f"{self.source}:{self.line}:{self.column}"
        return self.source

    def format(self) -> str:
        return f"{self.location()}: {self.level}: {self.message} [{self.code}]"


class TriageError(Exception):
    """Base class: a failure with a message meant for the user."""

    exit_code: ExitCode = ExitCode.INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(TriageError):
    """A file, record or answer is not acceptable (exit 1)."""


class MatrixError(InputError):
    """The matrix could not be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.level == "error"]
        first = errors[0] if errors else problems[0]
        more = len(errors) - 1
        suffix = f" (and {more} more problem{'s' if more != 1 else ''}; run `triage validate`)" if more > 0 else ""
        super().__init__(first.format() + suffix)
        self.problems = problems


class AnswerError(InputError):
    """An answer is not one of the allowed values (exit 1)."""


class MissingAnswerError(TriageError):
    """An answer is needed but nobody can be asked (exit 2)."""

    exit_code = ExitCode.USAGE


class UsageError(TriageError):
    """The command line asks for something impossible (exit 2)."""

    exit_code = ExitCode.USAGE
