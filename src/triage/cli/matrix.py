"""Commands that keep and publish the matrix: `validate`, `schema`, `show`, `diff`, `init`, and `mappings`, the
built-in export mappings."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from triage.capacity.roster import check_roster, roster_schema_json
from triage.cli.common import MatrixOption, OutputOption, emit, load_matrix, matrix_path, reported, stderr
from triage.engine import diff as differ
from triage.engine.lint import github, lint, logic
from triage.errors import ExitCode, InputError, Problem, TriageError, UsageError
from triage.exports.mapping import (
    builtin_mappings,
    builtin_text,
    check_mapping,
    load_mapping,
    mapping_schema_json,
)
from triage.files import matrix_source, write_atomic
from triage.matrix.schema import matrix_schema_json
from triage.render import publish
from triage.render.output import Output
from triage.sanitize import one_line


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


class ShowFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    html = "html"


class DiffFormat(str, Enum):
    markdown = "markdown"
    json = "json"


def declares(data: bytes, *keys: bytes) -> bool:
    """Whether a YAML file has every one of these top-level keys (looked for at the start of a line)."""
    head = data[:65536]
    return all(re.search(rb"(?m)^" + key + rb"\s*:", head) for key in keys)


def is_roster(data: bytes) -> bool:
    """Whether a YAML file is a roster rather than a matrix (it declares `roster_version`)."""
    return declares(data, b"roster_version")


def is_mapping(data: bytes) -> bool:
    """Whether a YAML file is an export mapping rather than a matrix (it has `shape` and `columns`)."""
    return declares(data, b"shape", b"columns")


def lint_roster(data: bytes, source: str, matrix: str | None, ctx: typer.Context) -> list[Problem]:
    """A roster's problems, checked against the matrix the other commands use (--matrix)."""
    try:
        the_matrix = load_matrix(matrix, ctx)
    except TriageError as exc:
        return [Problem(source, 0, 0, "error", f"cannot check the roster: the matrix does not load ({exc.message})",
                        "C500")]
    try:
        return check_roster(data, source, the_matrix)[1]
    except TriageError as exc:  # unreadable file: binary, not UTF-8, oversize
        return [Problem(source, 0, 0, "error", exc.message.removeprefix(f"{source}: "), "F001")]


def lint_file(path: str | None, matrix: str | None, ctx: typer.Context) -> tuple[str, list[Problem]]:
    """One file's problems: a matrix, a roster checked against the matrix, or an export mapping."""
    try:
        source, data = matrix_source(path if path is not None else matrix_path(matrix, ctx))
    except TriageError as exc:
        return path or "", [Problem(path or "", 0, 0, "error", exc.message.removeprefix(f"{path}: "), "F001")]
    if is_roster(data):
        return source, lint_roster(data, source, matrix, ctx)
    if is_mapping(data):
        return source, check_mapping(data, source)[1]
    return source, lint(data, source, today=datetime.now(UTC).date())


def lint_output(report: list[tuple[str, list[Problem]]]) -> Output:
    problems = [p for _, ps in report for p in ps]
    data = {"schema_version": 1, "errors": sum(p.level == "error" for p in problems),
            "warnings": sum(p.level == "warning" for p in problems),
            "files": [{"path": s, "problems": [p.__dict__ | {"location": p.location()} for p in ps]}
                      for s, ps in report]}
    return Output(data, bodies={"text": lambda: "".join(one_line(p.format()) + "\n" for p in problems),
                                "github": lambda: "".join(github(p) + "\n" for p in problems)})


def validate(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(metavar="PATH",
                     help="Matrix, roster or export mapping files (default: the matrix that other commands "
                          "use). A roster is checked against --matrix.")] = None,
    matrix: MatrixOption = None,
    output_format: Annotated[LintFormat, typer.Option("--format", "-f",
                             help="text, json, or GitHub annotations.")] = LintFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
) -> None:
    """Check matrices, rosters and export mappings: every problem at once, each as file:line:col: level: message
    [CODE]."""
    with reported():
        chosen: list[str | None] = list(paths) if paths else [None]
        report = [lint_file(path, matrix, ctx) for path in chosen]
        out = lint_output(report)
        emit(out, output_format.value)
        errors, warnings = out.data["errors"], out.data["warnings"]
        if output_format is LintFormat.text:
            verdict = "valid" if not errors and not (strict and warnings) else "not valid"
            stderr(f"{', '.join(s for s, _ in report)}: {verdict} ({errors} error{'s' * (errors != 1)}, "
                   f"{warnings} warning{'s' * (warnings != 1)})")
        if errors or (strict and warnings):
            raise typer.Exit(int(ExitCode.INPUT))


def schema(
    roster: Annotated[bool, typer.Option("--roster", help="The schema of roster.yaml instead.")] = False,
    mapping: Annotated[bool, typer.Option("--mapping", help="The schema of an export mapping instead.")] = False,
) -> None:
    """Print the JSON Schema of matrix.yaml, of roster.yaml or of an export mapping (for editors and CI)."""
    with reported():
        if roster and mapping:
            raise UsageError("--roster and --mapping ask for different schemas; give one")
        text = roster_schema_json() if roster else mapping_schema_json() if mapping else matrix_schema_json()
        emit(Output(None, bodies={"text": lambda: text}), "text")


def mappings(
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="A built-in mapping to print.")] = None,
    output: OutputOption = None,
) -> None:
    """List the built-in export mappings, or print one as a starting point for a mapping of your own."""
    with reported():
        names = builtin_mappings()
        if name is None:
            lines = []
            for each in names:
                found = load_mapping(each, lambda path: b"")
                lines.append(f"{each:<25} {found.shape:<8} {one_line(found.description)}")
            text = "\n".join(lines) + "\n"
            emit(Output({"schema_version": 1, "mappings": names}, bodies={"text": lambda: text}), "text", output)
            return
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            raise InputError(f"no built-in mapping `{one_line(name)}`"
                             + (f" (did you mean `{close[0]}`?)" if close else "")
                             + f"; the built-in ones are: {', '.join(names)}")
        body = builtin_text(name).decode("utf-8")
        emit(Output(None, bodies={"text": lambda: body}), "text", output)


def show(
    ctx: typer.Context,
    matrix: MatrixOption = None,
    output_format: Annotated[ShowFormat, typer.Option("--format", "-f",
                             help="text, markdown or html.")] = ShowFormat.text,
    output: OutputOption = None,
) -> None:
    """Publish the matrix as a readable operating procedure."""
    with reported():
        the_matrix = load_matrix(matrix, ctx)
        emit(publish.output(the_matrix, today=datetime.now(UTC).date()), output_format.value, output)


def diff(
    old: Annotated[str, typer.Argument(metavar="OLD", help="The earlier matrix file.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="The later matrix file.")],
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f",
                             help="markdown or json.")] = DiffFormat.markdown,
) -> None:
    """What changed between two revisions of a matrix, for publishing a revision."""
    with reported():
        later = load_matrix(new, None)
        changes = differ.diff(load_matrix(old, None), later)
        errors = [p for p in logic(later, today=datetime.now(UTC).date()) if p.level == "error"]
        if errors:
            stderr(f"warning: {new} does not validate ({len(errors)} error{'s' if len(errors) > 1 else ''}, the first: "
                   f"{errors[0].format()}); run `triage validate {new}` before publishing these changes")
        data = {"schema_version": 1, "old": old, "new": new, "new_errors": len(errors),
                "changes": differ.to_json(changes)}
        emit(Output(data, bodies={"markdown": lambda: differ.to_markdown(changes, old, new)}), output_format.value)


def init(
    path: Annotated[str | None, typer.Argument(metavar="PATH",
                    help="Where to write it (default: matrix.yaml, or roster.yaml with --roster).")] = None,
    roster: Annotated[bool, typer.Option("--roster",
                                         help="Write a starter staffing roster instead of a matrix.")] = False,
) -> None:
    """Write a starter matrix (or roster) to edit; never overwrites an existing file."""
    with reported():
        name = "roster.yaml" if roster else "matrix.yaml"
        path = path or name
        starter = resources.files("triage").joinpath(f"data/{name}").read_text(encoding="utf-8")
        if not roster:
            today = datetime.now(UTC).date().isoformat()
            starter = re.sub(r"(?m)^  revised: \d{4}-\d{2}-\d{2}$", f"  revised: {today}", starter, count=1)
        write_atomic(path, starter, overwrite=False)
        schema_path = Path(path).with_name("roster.schema.json" if roster else "matrix.schema.json")
        if not schema_path.exists():  # the starter's first line points editors at it
            write_atomic(str(schema_path), roster_schema_json() if roster else matrix_schema_json(), overwrite=False)
            stderr(f"wrote {schema_path}")
        stderr(f"wrote {path}; edit it, then run `triage validate {path}`")
