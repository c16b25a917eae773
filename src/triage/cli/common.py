"""What every command shares: its options, errors mapped to exit codes, the matrix it reads, and `emit`, the one
way a result reaches stdout or a file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from enum import Enum
from typing import Annotated

import typer

from triage.engine.decide import parse_at
from triage.errors import ExitCode, InputError, TriageError, UsageError
from triage.files import matrix_source, write_atomic
from triage.matrix.calendars import zone
from triage.matrix.loader import Matrix, read_matrix
from triage.render.output import Output
from triage.sanitize import one_line, safe_json


class Format(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class ReportFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


class RecordFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


MatrixOption = Annotated[
    str | None,
    typer.Option(
        "--matrix",
        "-m",
        metavar="PATH",
        help="Matrix file. Default: the global --matrix, else $TRIAGE_MATRIX, else ./matrix.yaml, "
        "else the built-in matrix.",
    ),
]
HistoryOption = Annotated[
    str | None,
    typer.Option(
        "--history", metavar="PATH", help="History file. Default: $TRIAGE_HISTORY, else the user's data directory."
    ),
]
SeverityOption = Annotated[str | None, typer.Option(
    "--severity", metavar="N", help="Override the computed severity with level N (1 is the most severe; `triage show` "
    "lists the matrix's levels, 1 to 4 in the shipped one); needs --override-reason.")]
OverrideReasonOption = Annotated[str | None, typer.Option(
    "--override-reason", metavar="TEXT", help="Why the severity is overridden (kept with the ticket).")]
NoInputOption = Annotated[bool, typer.Option("--no-input", help="Never prompt; a missing value is an error (exit 2).")]
AtOption = Annotated[str | None, typer.Option("--at", metavar="ISO-8601", help="When this happens (default: now).")]
OutputOption = Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                                                  help="Write to FILE (atomically) instead of stdout.")]
TimezoneOption = Annotated[str | None, typer.Option("--timezone", metavar="ZONE",
                                                    help="Show times in this IANA zone (default: the matrix's).")]


def stderr(message: str) -> None:
    sys.stderr.write(f"triage: {one_line(message)}\n")
    sys.stderr.flush()


@contextmanager
def reported() -> Iterator[None]:
    """Turn domain errors and Ctrl-C into one line on stderr and the documented exit code."""
    try:
        yield
    except TriageError as exc:
        stderr(f"error: {exc.message}")
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        stderr("interrupted; nothing was written")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except EOFError:
        stderr("error: input ended while a question was open (no terminal?); use --no-input with --answer")
        raise typer.Exit(int(ExitCode.USAGE)) from None


def matrix_path(own: str | None, ctx: typer.Context | None) -> str | None:
    """The matrix a command reads: its own --matrix, else the global one (kept in `ctx.obj` by the app's
    callback), else $TRIAGE_MATRIX; then the default of `files.matrix_source`."""
    chosen = (ctx.obj or {}).get("matrix") if ctx is not None and isinstance(ctx.obj, dict) else None
    return own or chosen or os.environ.get("TRIAGE_MATRIX") or None


def load_matrix(own: str | None, ctx: typer.Context | None) -> Matrix:
    source, data = matrix_source(matrix_path(own, ctx))
    return read_matrix(data, source)


def home_zone(matrix: Matrix) -> tzinfo:
    return zone(matrix.model.matrix.timezone)


def display_zone(matrix: Matrix, name: str | None) -> tzinfo:
    if not name:
        return home_zone(matrix)
    try:
        return zone(name)
    except ValueError as exc:
        raise UsageError(f"--timezone: {exc}") from None


def moment(text: str | None, matrix: Matrix) -> datetime:
    """--at read in the matrix's zone, or now."""
    return parse_at(text, home_zone(matrix)) if text else datetime.now(UTC).replace(microsecond=0)


def period(since: str | None, until: str | None, home: tzinfo) -> tuple[datetime | None, datetime | None]:
    """--since and --until read together: a start after the end is named as the mistake (exit 2)."""
    start, end = day_or_moment(since, "--since", home), day_or_moment(until, "--until", home)
    if start is not None and end is not None and start >= end:
        raise UsageError(f"--since {since} is not before --until {until}: no ticket can be created between them")
    return start, end


def day_or_moment(text: str | None, flag: str, home: tzinfo) -> datetime | None:
    """--since / --until: a date (its midnight) or a time, in the matrix's zone."""
    if text is None:
        return None
    try:
        return parse_at(text if "T" in text or " " in text.strip() else f"{text}T00:00:00", home)
    except InputError:
        raise UsageError(f"{flag}: `{text}` is not a date or time (like 2026-11-01)") from None


def level(text: str | None, flag: str = "--severity") -> int | None:
    """A severity level given as a flag: a whole number (the matrix says which levels exist)."""
    if text is None:
        return None
    if not text.strip().isdigit():
        raise UsageError(f"{flag} takes a severity level number such as 2, not `{text}`")
    return int(text)


def pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """NAME=VALUE options as a mapping."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} takes NAME=VALUE, not `{item}`")
        out[key.strip()] = value
    return out


def emit(out: Output, fmt: str, output: str | None = None, *, also_stdout: bool = False) -> None:
    """Print `out` in the chosen format: to stdout, or to `output` atomically (text goes to a file as Markdown).
    With `also_stdout`, the file is written as well as stdout."""
    body = render_body(out, fmt)
    if output:
        write_atomic(output, body if body is not None else render_body(out, "markdown") or "")
    if not output or also_stdout:
        if body is None:
            from triage.render.console import console

            console().print(out.text() if out.text else "")
        else:
            sys.stdout.write(body)
            sys.stdout.flush()
    if output:
        stderr(f"wrote {output}")


def render_body(out: Output, fmt: str) -> str | None:
    """The output as text for stdout or a file; None for terminal text printed through rich."""
    if fmt == "json":
        return safe_json(out.data).decode() + "\n"
    if fmt in out.bodies:
        return out.bodies[fmt]()
    if fmt == "text" and out.text is not None:
        return None
    raise UsageError(f"--format {fmt} is not offered here")
