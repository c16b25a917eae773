"""The `triage` command line: parse options, call the core, render, map errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, UTC
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from triage import __version__
from triage.errors import ExitCode, TriageError, UsageError


app = typer.Typer(
    name="triage",
    help="Triage support escalations with your team's escalation matrix.",
    add_completion=False,
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


HistoryOption = Annotated[Optional[str], typer.Option(
    "--history", metavar="PATH", help="History file. Default: $TRIAGE_HISTORY, else the user's data directory.")]
AtOption = Annotated[Optional[str], typer.Option("--at", metavar="ISO-8601", help="When this happens (default: now).")]

MatrixOption = Annotated[Optional[str], typer.Option(
    "--matrix", "-m", envvar="TRIAGE_MATRIX", metavar="PATH",
    help="Matrix file. Default: $TRIAGE_MATRIX, else ./matrix.yaml, else the built-in matrix.")]

JobsOption = Annotated[Optional[int], typer.Option(
    "--jobs", "-j", min=1, metavar="N",
    help="Processes that read a large CSV export in parts (default: one per CPU; 1 reads it in one pass).")]


def _stderr(message: str) -> None:
    from triage.sanitize import one_line

    sys.stderr.write(f"triage: {one_line(message)}\n")
    sys.stderr.flush()


@contextmanager
def reported() -> Iterator[None]:
    """Turn domain errors and Ctrl-C into one line on stderr and the documented exit code."""
    try:
        yield
    except TriageError as exc:
        _stderr(f"error: {exc.message}")
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        _stderr("interrupted; nothing was written")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except EOFError:
        _stderr("error: input ended while a question was open (no terminal?); use --no-input with --answer")
        raise typer.Exit(int(ExitCode.USAGE)) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    matrix: MatrixOption = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """With no command in a terminal: the interactive triage (as `triage ask`)."""
    if ctx.invoked_subcommand is None:
        ask(matrix=matrix)


def load_matrix(path: str | None) -> Any:
    from triage.files import matrix_source
    from triage.matrix.loader import read_matrix

    source, data = matrix_source(path)
    return read_matrix(data, source)


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} takes NAME=VALUE, not `{item}`")
        out[key.strip()] = value
    return out


def read_answers_file(path: str) -> dict[str, Any]:
    """A YAML or JSON mapping of question id -> answer (and optionally ticket, at, packet)."""
    from triage.errors import InputError
    from triage.files import read_bytes
    from triage.matrix.yamlsafe import decode, load

    name = "<stdin>" if path == "-" else path
    doc, problems = load(decode(read_bytes(path), name), name)
    errors = [p for p in problems if p.level == "error" and p.code != "Y106"]
    if errors or doc is None:
        raise InputError((errors or problems)[0].format())
    if not isinstance(doc.data, dict):
        raise InputError(f"{name}: expected a mapping of question id to answer")
    return doc.data


@app.command()
def ask(
    matrix: MatrixOption = None,
    answer: Annotated[Optional[list[str]], typer.Option("--answer", "-a", metavar="ID=VALUE",
                      help="An answer; repeat for more. A multi-select takes comma-separated values.")] = None,
    answers: Annotated[Optional[str], typer.Option("--answers", metavar="FILE",
                       help="YAML or JSON mapping of answers; - reads stdin.")] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt; a missing answer is an error.")] = False,
    at: Annotated[Optional[str], typer.Option("--at", metavar="ISO-8601",
                  help="When the triage happens (default: now). Without an offset: the matrix's time zone.")] = None,
    ticket: Annotated[Optional[str], typer.Option("--ticket", metavar="REF", help="Ticket reference.")] = None,
    severity: Annotated[Optional[int], typer.Option("--severity", metavar="N",
                        help="Override the computed severity (needs --reason).")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", metavar="TEXT", help="Why the severity was overridden.")] = None,
    packet: Annotated[Optional[list[str]], typer.Option("--packet", metavar="FIELD=VALUE",
                      help="A handoff packet field; repeat for more.")] = None,
    output_format: Annotated[Format, typer.Option("--format", "-f", help="Result format.")] = Format.text,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE",
                      help="Also write the result to FILE (Markdown for text format), atomically.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", metavar="ZONE",
                        help="Show times in this IANA zone (default: the matrix's).")] = None,
    account: Annotated[Optional[str], typer.Option("--account", metavar="NAME",
                       help="The customer account: exceptions for it apply while in force.")] = None,
    segment: Annotated[Optional[str], typer.Option("--segment", metavar="NAME",
                       help="The customer segment: exceptions for it apply while in force.")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record this triage in the history.")] = False,
    history: HistoryOption = None,
) -> None:
    """Triage one ticket: severity with reasons, deadlines, routing, packet and update text."""
    with reported():
        from triage.engine import decide as engine

        the_matrix = load_matrix(matrix)
        given: dict[str, Any] = read_answers_file(answers) if answers else {}
        extra_packet = given.pop("packet", None) or {}
        if not isinstance(extra_packet, dict):
            raise UsageError("`packet` in the answers file must be a mapping of field to text")
        ticket = ticket if ticket is not None else (str(given.pop("ticket")) if given.get("ticket") is not None else None)
        given.pop("ticket", None)
        at_text = at if at is not None else given.pop("at", None)
        given.pop("at", None)
        given.update(_pairs(answer or [], "--answer"))
        packet_values = {k: str(v) for k, v in extra_packet.items() if v is not None}
        packet_values.update(_pairs(packet or [], "--packet"))
        if severity is not None and not (reason or "").strip():
            raise UsageError("--severity needs --reason TEXT: an override is always explained")
        if reason is not None and severity is None:
            raise UsageError("--reason goes with --severity N")
        override = (severity, reason or "") if severity is not None else None

        from triage.matrix.calendars import zone

        home = zone(the_matrix.model.matrix.timezone)
        try:
            display = zone(timezone) if timezone else home
        except ValueError as exc:
            raise UsageError(f"--timezone: {exc}") from None
        moment = engine.parse_at(str(at_text), home) if at_text is not None else datetime.now(UTC)

        def check_new(reference: str | None) -> None:
            """A ticket already in the history is re-triaged, not triaged again: say so before any question."""
            if no_record or reference is None:
                return
            from triage.files import history_path
            from triage.engine.history import History

            with History(history_path(history)) as store:
                if store.events(reference):
                    raise UsageError(f"ticket `{reference}` is already in the history; use `triage retriage "
                                     f"{reference}` to change its severity")

        check_new(ticket)
        interactive = not no_input and sys.stdin.isatty()
        if interactive:
            from triage.cli.session import session
            from triage.cli.prompts import QuestionaryPrompter

            def console() -> Any:  # made when first needed: the first question does not wait for it
                from triage.render.console import console

                return console(stderr=True)

            answers_, skipped, ticket, override, packet_values = session(
                the_matrix, QuestionaryPrompter(), console, given=given, ticket=ticket,
                override=override, packet=packet_values, today=moment.astimezone(home).date(), check_ticket=check_new)
        else:
            try:
                answers_, skipped = engine.resolve_answers(the_matrix, given)
            except TriageError as exc:
                if not no_input and exc.exit_code == ExitCode.USAGE:
                    exc.message += " (stdin is not a terminal, so nothing can be asked)"
                raise
        if ticket is None and not no_record:
            import secrets

            ticket = f"TRIAGE-{moment.astimezone(home):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        result = engine.triage(the_matrix, answers_, skipped=skipped, at=moment, ticket=ticket,
                               override=override, packet=packet_values, display=display,
                               account=account, segment=segment)
        if not no_record:
            from triage.files import history_path
            from triage.engine.history import History

            path = history_path(history)
            with History(path) as store:
                if store.events(ticket):
                    raise UsageError(f"ticket `{ticket}` is already in the history; use `triage retriage {ticket}` "
                                     "to change its severity")
                store.record(ticket, moment, "triage", result.to_json())
        emit(result, output_format, output)
        if not no_record:
            _stderr(f"recorded {ticket} in {path}")


def emit(result: Any, output_format: Format, output: str | None) -> None:
    from triage.render import result as render
    from triage.files import write_atomic

    if output_format is Format.json:
        body = render.as_json(result)
    elif output_format is Format.markdown:
        body = render.markdown(result)
    else:
        body = None
    if output:
        write_atomic(output, body if body is not None else render.markdown(result))
    if body is not None:
        sys.stdout.write(body)
    else:
        from triage.render.console import console

        console().print(render.text(result))
    if output:
        _stderr(f"wrote {output}")


def main() -> None:
    """The `triage` program."""
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(int(ExitCode.INPUT))


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


@app.command()
def validate(
    paths: Annotated[Optional[list[str]], typer.Argument(metavar="[PATH]...",
                     help="Matrix or roster files (default: the matrix that other commands use). "
                          "A roster is checked against --matrix.")] = None,
    matrix: MatrixOption = None,
    output_format: Annotated[LintFormat, typer.Option("--format", "-f", help="text, json, or GitHub annotations.")] = LintFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
) -> None:
    """Check matrices: every problem at once, each as file:line:col: level: message [CODE]."""
    with reported():
        from triage.files import matrix_source
        from triage.sanitize import json_text, one_line
        from triage.engine.lint import github, lint

        today = datetime.now(UTC).date()
        sources = []
        for path in paths or [None]:
            try:
                sources.append(matrix_source(path if path is not None else matrix))
            except TriageError as exc:
                from triage.errors import Problem

                sources.append((path or "", Problem(path or "", 0, 0, "error",
                                                    exc.message.removeprefix(f"{path}: "), "F001")))
        report = []
        for source, data in sources:
            if isinstance(data, bytes) and _is_roster(data):
                problems = _lint_roster(data, source, matrix)
            else:
                problems = [data] if not isinstance(data, bytes) else lint(data, source, today=today)
            report.append((source, problems))
        errors = sum(p.level == "error" for _, ps in report for p in ps)
        warnings = sum(p.level == "warning" for _, ps in report for p in ps)
        if output_format is LintFormat.json:
            import json

            body = {"schema_version": 1, "errors": errors, "warnings": warnings,
                    "files": [{"path": s, "problems": [p.__dict__ | {"location": p.location()} for p in ps]}
                              for s, ps in report]}
            sys.stdout.write(json_text(json.dumps(body, ensure_ascii=False, indent=2)) + "\n")
        else:
            for _, problems in report:
                for p in problems:
                    sys.stdout.write((github(p) if output_format is LintFormat.github else one_line(p.format())) + "\n")
            if output_format is LintFormat.text:
                verdict = "valid" if not errors and not (strict and warnings) else "not valid"
                names = ", ".join(one_line(s) for s, _ in report)
                _stderr(f"{names}: {verdict} ({errors} error{'s' * (errors != 1)}, "
                        f"{warnings} warning{'s' * (warnings != 1)})")
        if errors or (strict and warnings):
            raise typer.Exit(int(ExitCode.INPUT))


def _is_roster(data: bytes) -> bool:
    """Whether a YAML file is a roster rather than a matrix (looks for the version key, without loading
    the roster module: validating a matrix should not pay for it)."""
    import re

    return re.search(rb"(?m)^roster_version\s*:", data[:65536]) is not None


def _lint_roster(data: bytes, source: str, matrix: str | None) -> list[Any]:
    """A roster's problems, checked against the matrix the other commands use (--matrix)."""
    from triage.errors import Problem
    from triage.capacity.roster import check_roster

    try:
        the_matrix = load_matrix(matrix)
    except TriageError as exc:
        return [Problem(source, 0, 0, "error", f"cannot check the roster: the matrix does not load ({exc.message})",
                        "C500")]
    try:
        return check_roster(data, source, the_matrix)[1]
    except TriageError as exc:  # unreadable file: binary, not UTF-8, oversize
        return [Problem(source, 0, 0, "error", exc.message.removeprefix(f"{source}: "), "F001")]


@app.command()
def schema(
    roster: Annotated[bool, typer.Option("--roster", help="The schema of roster.yaml instead.")] = False,
) -> None:
    """Print the JSON Schema of matrix.yaml, or of roster.yaml (for editors and CI)."""
    with reported():
        from triage.capacity.roster import roster_schema_json
        from triage.matrix.schema import matrix_schema_json

        sys.stdout.write(roster_schema_json() if roster else matrix_schema_json())


class ShowFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    html = "html"


@app.command()
def show(
    matrix: MatrixOption = None,
    output_format: Annotated[ShowFormat, typer.Option("--format", "-f", help="text, markdown or html.")] = ShowFormat.text,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE",
                      help="Write to FILE (atomically) instead of stdout.")] = None,
) -> None:
    """Publish the matrix as a readable operating procedure."""
    with reported():
        from triage.render import publish as publish

        the_matrix = load_matrix(matrix)
        blocks = publish.document(the_matrix, today=datetime.now(UTC).date())
        if output_format is ShowFormat.text and not output:
            from triage.render.console import console

            console().print(publish.to_rich(blocks))
            return
        body = (publish.to_html(blocks, the_matrix.model.matrix.name) if output_format is ShowFormat.html
                else publish.to_markdown(blocks))
        if output:
            from triage.files import write_atomic

            write_atomic(output, body)
            _stderr(f"wrote {output}")
        else:
            sys.stdout.write(body)


class DiffFormat(str, Enum):
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    old: Annotated[str, typer.Argument(metavar="OLD", help="The earlier matrix file.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="The later matrix file.")],
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help="markdown or json.")] = DiffFormat.markdown,
) -> None:
    """What changed between two revisions of a matrix, for publishing a revision."""
    with reported():
        import json

        from triage.engine import diff as differ
        from triage.sanitize import json_text

        changes = differ.diff(load_matrix(old), load_matrix(new))
        if output_format is DiffFormat.json:
            body = {"schema_version": 1, "old": old, "new": new, "changes": differ.to_json(changes)}
            sys.stdout.write(json_text(json.dumps(body, ensure_ascii=False, indent=2, default=str)) + "\n")
        else:
            sys.stdout.write(differ.to_markdown(changes, old, new))


@app.command()
def init(
    path: Annotated[Optional[str], typer.Argument(metavar="[PATH]",
                    help="Where to write it (default: matrix.yaml, or roster.yaml with --roster).")] = None,
    roster: Annotated[bool, typer.Option("--roster", help="Write a starter staffing roster instead of a matrix.")] = False,
) -> None:
    """Write a starter matrix (or roster) to edit; never overwrites an existing file."""
    with reported():
        from importlib import resources

        from triage.files import write_atomic

        name = "roster.yaml" if roster else "matrix.yaml"
        path = path or name
        starter = resources.files("triage").joinpath(f"data/{name}").read_text(encoding="utf-8")
        if not roster:
            import re

            today = datetime.now(UTC).date().isoformat()
            starter = re.sub(r"(?m)^  revised: \d{4}-\d{2}-\d{2}$", f"  revised: {today}", starter, count=1)
        write_atomic(path, starter, overwrite=False)
        _stderr(f"wrote {path}; edit it, then run `triage validate {path}`")


class RecordFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


@app.command()
def classify(
    file: Annotated[str, typer.Argument(metavar="[FILE|-]", help="JSON Lines or CSV of answers; - or nothing: stdin.")] = "-",
    matrix: MatrixOption = None,
    input_format: Annotated[Optional[RecordFormat], typer.Option("--input-format",
                            help="Input format (default: from the extension; stdin: jsonl).")] = None,
    output_format: Annotated[RecordFormat, typer.Option("--format", "-f", help="jsonl (the JSON result) or csv.")] = RecordFormat.jsonl,
    at: Annotated[Optional[str], typer.Option("--at", metavar="ISO-8601",
                  help="Triage time for records without `at` (default: now).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Include the packet and update texts in each result.")] = False,
    errors: Annotated[Optional[str], typer.Option("--errors", metavar="FILE",
                      help="Also write bad records to FILE as JSON Lines.")] = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first bad record.")] = False,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE",
                      help="Write results to FILE (atomically) instead of stdout.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", metavar="ZONE",
                        help="Give times in this IANA zone (default: the matrix's).")] = None,
) -> None:
    """Classify many tickets: one result per input record, in input order, streaming."""
    with reported():
        import orjson

        from triage.engine import classify as bulk
        from triage.matrix.calendars import zone
        from triage.engine.decide import parse_at
        from triage.files import AtomicOutput
        from triage.sanitize import one_line

        the_matrix = load_matrix(matrix)
        home = zone(the_matrix.model.matrix.timezone)
        try:
            display = zone(timezone) if timezone else home
        except ValueError as exc:
            raise UsageError(f"--timezone: {exc}") from None
        moment = parse_at(at, home) if at else datetime.now(UTC).replace(microsecond=0)
        kind = input_format or (RecordFormat.csv if file.lower().endswith(".csv") else RecordFormat.jsonl)
        from triage.files import open_input

        name = "<stdin>" if file == "-" else file
        source = open_input(file)

        classifier = bulk.Classifier(the_matrix, at=moment, display=display, full=full)
        multi = frozenset(q for q, (k, _) in the_matrix.kinds.items() if k == "any_of")
        from triage.files import capped_lines

        lines = capped_lines(source)
        out = AtomicOutput(output) if output else None
        bad_out = AtomicOutput(errors) if errors else None
        sink = out.write if out else sys.stdout.buffer.write
        batch: list[bytes] = []  # results in pieces, joined once per batch (see bulk.BATCH_PIECES)

        def flush() -> None:
            sink(b"".join(batch))
            batch.clear()

        bad = 0

        def report(number: int, message: str, raw: bytes) -> bool:
            nonlocal bad
            bad += 1
            _stderr(f"{name}:{number}: {message}")
            if bad_out:
                bad_out.write(orjson.dumps({"line": number, "error": message,
                                            "record": raw.decode("utf-8", "replace")[:2000].rstrip("\r\n")}) + b"\n")
            return fail_fast

        def csv_line(result: bytes) -> bytes:
            return bulk.csv_line(bulk.csv_row(result, the_matrix))

        rows = csv_line if output_format is RecordFormat.csv else None
        if rows:
            batch.append(bulk.csv_line(bulk.csv_header(the_matrix)))

        try:
            if kind is RecordFormat.jsonl and not full:  # --full results name the ticket in their texts
                good = bulk.classify_lines(classifier, lines, batch, flush, report, rows=rows)
            else:
                records = bulk.csv_records(lines, multi) if kind is RecordFormat.csv else bulk.jsonl_records(lines)
                good = bulk.classify_records(classifier, records, batch, flush, report, rows=rows)
        except BaseException:
            for f in (out, bad_out):
                if f:
                    f.discard()
            raise
        finally:
            if source is not sys.stdin.buffer:
                source.close()
        sink(b"".join(batch))
        for f in (out, bad_out):
            if f:
                f.close()
        if not output:
            sys.stdout.flush()
        _stderr(f"{one_line(name)}: {good:,} classified, {bad:,} bad record{'s' * (bad != 1)}"
                + (" (stopped at the first, --fail-fast)" if fail_fast and bad else ""))
        if bad:
            raise typer.Exit(int(ExitCode.INPUT))


# ---------------------------------------------------------------------------------------------- after triage

FollowFormat = Annotated[Format, typer.Option("--format", "-f", help="text, markdown or json.")]


@contextmanager
def _open_ticket(ticket: str, matrix: str | None, history: str | None, at: str | None) -> Iterator[Any]:
    """The matrix, the history, the moment and the ticket's open state, for the follow-up commands."""
    from triage.engine import followup as followup
    from triage.matrix.calendars import zone
    from triage.engine.decide import parse_at
    from triage.files import history_path
    from triage.engine.history import History

    the_matrix = load_matrix(matrix)
    home = zone(the_matrix.model.matrix.timezone)
    moment = parse_at(at, home) if at else datetime.now(UTC).replace(microsecond=0)
    with History(history_path(history)) as store:
        yield the_matrix, store, moment, followup.open_state(ticket, store.events(ticket))


def _ask_text(label: str, flag: str, value: Optional[str], *, required: bool = True) -> str:
    """A flag's value, or asked in a terminal; with no terminal a missing required value is a usage error."""
    from triage.errors import MissingAnswerError

    if value is not None:
        return value
    if sys.stdin.isatty():
        from triage.cli.prompts import QuestionaryPrompter

        while True:
            answer = QuestionaryPrompter().text(label, instruction="" if required else "(Enter to skip)")
            if answer.strip() or not required:
                return answer
    if not required:
        return ""
    raise MissingAnswerError(f"no value for {label.lower()}: pass {flag} TEXT")


def _print_text(title: str, body: str) -> None:
    from rich.panel import Panel

    from triage.render.result import T
    from triage.render.console import console

    console().print(Panel(T(body), title=title, title_align="left"))


@app.command()
def update(
    ticket: Annotated[str, typer.Argument(metavar="TICKET", help="The ticket to update.")],
    impact: Annotated[Optional[str], typer.Option("--impact", metavar="TEXT", help="The current impact.")] = None,
    actions: Annotated[Optional[str], typer.Option("--actions", metavar="TEXT", help="Actions taken since the last update.")] = None,
    next_step: Annotated[Optional[str], typer.Option("--next-step", metavar="TEXT", help="The next step.")] = None,
    summary: Annotated[Optional[str], typer.Option("--summary", metavar="TEXT", help="A new one-line summary.")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FollowFormat = Format.text,
) -> None:
    """Write the next status update from the ticket's record, and say whether it is late."""
    with reported():
        import json

        from triage.engine import followup as followup
        from triage.engine.decide import local_time

        with _open_ticket(ticket, matrix, history, at) as (the_matrix, store, moment, current):
            plan = followup.plan_update(the_matrix, current, at=moment,
                                        impact=_ask_text("Current impact", "--impact", impact),
                                        actions=_ask_text("Actions taken", "--actions", actions),
                                        next_step=_ask_text("Next step", "--next-step", next_step), summary=summary)
            store.record(ticket, moment, "update", plan.data)
        verdict = (f"{followup.lateness(plan)}; the next one is due "
                   f"{local_time(datetime.fromisoformat(plan.data['next_due']), plan.result.display)}.")
        if output_format is Format.json:
            sys.stdout.write(json.dumps({"ticket": ticket, **plan.data}, ensure_ascii=False, indent=2) + "\n")
        elif output_format is Format.markdown:
            from triage.render.result import blockquote
            from triage.sanitize import markdown as md

            sys.stdout.write("\n".join([f"# Update for {md(ticket)}", "", md(verdict), "", "## For the customer", "",
                                        *blockquote(plan.data["customer"]), "", "## Internal", "",
                                        *blockquote(plan.data["internal"])]) + "\n")
        else:
            _print_text("Update for the customer", plan.data["customer"])
            _print_text("Internal update", plan.data["internal"])
            from triage.render.result import T
            from triage.render.console import console

            console().print(T(verdict, "bold red" if plan.late else "bold"))


@app.command()
def handoff(
    ticket: Annotated[str, typer.Argument(metavar="TICKET", help="The ticket to hand off.")],
    to: Annotated[str, typer.Option("--to", metavar="ROLE", help="The role receiving the ticket.")],
    point: Annotated[Optional[str], typer.Option("--point", metavar="ID",
                     help="The handoff point (default: the next one for this role).")] = None,
    packet: Annotated[Optional[list[str]], typer.Option("--packet", metavar="FIELD=VALUE",
                      help="Fill a packet field; repeat for more.")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FollowFormat = Format.text,
) -> None:
    """Hand a ticket to a role: the packet for that handoff point, with missing fields named."""
    with reported():
        import json

        from triage.engine import followup as followup

        with _open_ticket(ticket, matrix, history, at) as (the_matrix, store, moment, current):
            data = followup.plan_handoff(the_matrix, current, role=to, point=point, given=_pairs(packet or [], "--packet"))
            store.record(ticket, moment, "handoff", data)
        labels = {f.id: f.label for f in the_matrix.model.handoff_packet}
        if output_format is Format.json:
            sys.stdout.write(json.dumps({"ticket": ticket, **data}, ensure_ascii=False, indent=2) + "\n")
            return
        lines = [f"{data['label']}: {ticket} to {the_matrix.role_name(to)}"]
        lines += [f"{labels[k]}: {v if v else 'MISSING'}" for k, v in data["fields"].items()]
        if data["missing"]:
            lines.append("Missing: " + ", ".join(labels[k] for k in data["missing"]))
        if output_format is Format.markdown:
            from triage.sanitize import markdown as md

            sys.stdout.write("\n".join(f"- {md(x)}" for x in lines) + "\n")
        else:
            _print_text("Handoff packet", "\n".join(lines))


@app.command()
def retriage(
    ticket: Annotated[str, typer.Argument(metavar="TICKET", help="The ticket whose impact changed.")],
    reason: Annotated[Optional[str], typer.Option("--reason", metavar="TEXT", help="Why it is re-triaged (required).")] = None,
    answer: Annotated[Optional[list[str]], typer.Option("--answer", "-a", metavar="ID=VALUE",
                      help="A changed answer; repeat for more.")] = None,
    severity: Annotated[Optional[int], typer.Option("--severity", metavar="N", help="Override the new severity.")] = None,
    override_reason: Annotated[Optional[str], typer.Option("--override-reason", metavar="TEXT",
                               help="Why the new severity is overridden.")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FollowFormat = Format.text,
) -> None:
    """Change answers, recompute the severity and move the targets; both decisions are kept."""
    with reported():
        from triage.engine import followup as followup

        override = None
        if severity is not None:
            if not (override_reason or "").strip():
                raise UsageError("--severity needs --override-reason TEXT")
            override = (severity, override_reason or "")
        with _open_ticket(ticket, matrix, history, at) as (the_matrix, store, moment, current):
            why = _ask_text("Why is it re-triaged", "--reason", reason)
            result, data = followup.plan_retriage(the_matrix, current, at=moment, given=_pairs(answer or [], "--answer"),
                                                  reason=why, override=override)
            store.record(ticket, moment, "retriage", data)
        before = current.data["severity"]
        result.notes.insert(0, f"re-triaged from severity {before['level']} ({before['label']}) to "
                               f"{result.level}: {data['reason']}")
        emit(result, output_format, None)


@app.command()
def close(
    ticket: Annotated[str, typer.Argument(metavar="TICKET", help="The ticket to close.")],
    item: Annotated[Optional[list[str]], typer.Option("--item", metavar="ID=VALUE",
                    help="A closure checklist item (yes for a confirmation, text, or a comma-separated list).")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FollowFormat = Format.text,
) -> None:
    """Close the loop: the closure checklist, and the final customer message."""
    with reported():
        import json

        from triage.engine import followup as followup

        items: dict[str, Any] = dict(_pairs(item or [], "--item"))
        with _open_ticket(ticket, matrix, history, at) as (the_matrix, store, moment, current):
            if sys.stdin.isatty():
                from triage.cli.prompts import QuestionaryPrompter

                prompter = QuestionaryPrompter()
                for entry in followup.closure_items(the_matrix):
                    if entry.id in items:
                        continue
                    if entry.answer == "confirm":
                        items[entry.id] = prompter.choose(entry.item, [("Done", "yes"), ("Not yet", "no")])
                    else:
                        hint = "(comma-separated" + (", Enter to skip)" if entry.optional else ")") \
                            if entry.answer == "list" else ("(Enter to skip)" if entry.optional else "")
                        items[entry.id] = prompter.text(entry.item, instruction=hint)
            data = followup.plan_close(the_matrix, current, at=moment, items=items)
            store.record(ticket, moment, "close", data)
        if output_format is Format.json:
            sys.stdout.write(json.dumps({"ticket": ticket, **data}, ensure_ascii=False, indent=2) + "\n")
        else:
            _print_text("Final message to the customer", data["message"])
            _stderr(f"closed {ticket}")


class HistoryFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


@app.command(name="history")
def history_command(
    ticket: Annotated[Optional[str], typer.Argument(metavar="[TICKET]", help="One ticket (default: list them all).")] = None,
    history: HistoryOption = None,
    output_format: Annotated[HistoryFormat, typer.Option("--format", "-f",
                             help="text, json, or csv (the export that `triage audit` reads).")] = HistoryFormat.text,
) -> None:
    """List recorded tickets, or show one ticket's steps with their times."""
    with reported():
        import csv
        import io
        import json

        from triage.engine import followup as followup
        from triage.files import history_path
        from triage.engine.history import History
        from triage.sanitize import json_text

        with History(history_path(history)) as store:
            names = [ticket] if ticket else store.tickets()
            if ticket and not store.events(ticket):
                raise UsageError(f"no ticket `{ticket}` in the history")
            loaded = [(name, store.events(name)) for name in names]
        states = [(followup.state(name, events), events) for name, events in loaded]
        if output_format is HistoryFormat.csv:
            rows = [followup.export_row(None, st) for st, _ in states]
            columns = list(followup.EXPORT_COLUMNS) + sorted({k for r in rows for k in r} - set(followup.EXPORT_COLUMNS))
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            from triage.engine.classify import csv_safe

            for row in rows:
                writer.writerow({k: csv_safe(str(v)) for k, v in row.items()})
            sys.stdout.write(buffer.getvalue())
        elif output_format is HistoryFormat.json:
            body: Any = followup.timeline(*states[0]) if ticket else [followup.timeline(st, ev) for st, ev in states]
            sys.stdout.write(json_text(json.dumps(body, ensure_ascii=False, indent=2, default=str)) + "\n")
        else:
            from rich.table import Table

            from triage.render.result import T
            from triage.render.console import console

            if ticket:
                st, events = states[0]
                table = Table(title=f"{ticket}", title_justify="left")
                for col in ("When", "What", "Details"):
                    table.add_column(col)
                for entry in followup.timeline(st, events)["events"]:
                    table.add_row(T(entry["at"]), T(entry["kind"]), T(entry["summary"]))
            else:
                table = Table(title="Recorded tickets", title_justify="left")
                for col in ("Ticket", "Severity", "Owner", "Opened", "State"):
                    table.add_column(col)
                for st, _ in states:
                    table.add_row(T(st.ticket), T(f"{st.level} {st.data['severity']['label']}"),
                                  T(st.data["routing"]["owner"]), T(st.created.isoformat(timespec="minutes")),
                                  T("closed" if st.closed else f"open, next update due {st.next_due.isoformat(timespec='minutes')}"))
            console().print(table)


# ---------------------------------------------------------------------------------------------- audits

class AuditFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


def _report(data: dict[str, Any], body: str | None, output_format: AuditFormat, output: str | None,
            render: Any) -> None:
    """Write a report: `body` (JSON made by the caller) or the renderer's Markdown or HTML to the output file
    (atomically; text goes there as Markdown) or stdout; text to the terminal through rich."""
    if body is None and output_format is AuditFormat.markdown:
        body = render.markdown(data)
    elif body is None and output_format is AuditFormat.html:
        body = render.page(data)
    if output:
        from triage.files import write_atomic

        write_atomic(output, body if body is not None else render.markdown(data))
        _stderr(f"wrote {output}")
    elif body is not None:
        sys.stdout.write(body)
    else:
        from triage.render.console import console

        console().print(render.text(data))


def _audit_input(files: list[str], matrix: Any, mapping: str | None, input_format: Optional[RecordFormat],
                 timezone: str | None, limit_errors: int = 20, *, measure: Any = None, jobs: int = 1) -> Any:
    """Tickets (in batches, for ticket exports) and unreadable rows from every file, one mapping per file (named,
    or recognised by its header). With `measure` (what the command does with such items) and more than one job,
    a large CSV ticket export is read in parts by forked workers, whose measured parts come in file order."""
    from triage.matrix.calendars import zone
    from triage.exports.readers import BadRow, CsvRows, Reader, csv_rows, jsonl_rows, load_mapping, sniff
    from triage.files import read_bytes
    from triage.exports.parallel import Portion, read_parts

    reported_errors = [0]

    def rows_of(path: str) -> Any:
        from triage.files import open_input

        with open_input(path) as handle:
            kind = input_format or (RecordFormat.jsonl if path.lower().endswith((".jsonl", ".ndjson", ".json"))
                                    else RecordFormat.csv)
            first = handle.readline()
            handle.seek(0)
            if mapping:
                chosen = load_mapping(mapping, read_bytes)
            elif kind is RecordFormat.csv:
                chosen = load_mapping(sniff(first), read_bytes)
            else:
                import orjson

                try:
                    keys = set(orjson.loads(first)) if first.strip() else set()
                except (orjson.JSONDecodeError, TypeError):
                    keys = set()
                chosen = load_mapping("generic-events" if {"ticket", "at", "event"} <= keys else "generic", read_bytes)
            try:
                tz = zone(timezone or chosen.timezone or matrix.model.matrix.timezone)
            except ValueError as exc:
                raise UsageError(f"--timezone: {exc}") from None
            reader = Reader(chosen, levels=set(matrix.levels), questions=matrix.kinds,
                            packet_fields=[f.id for f in matrix.model.handoff_packet], zone=tz)
            from triage.files import capped_lines, line_blocks

            if chosen.shape == "events":
                lines = capped_lines(handle)
                items = reader.events(csv_rows(lines) if kind is RecordFormat.csv else jsonl_rows(lines))
            elif kind is RecordFormat.csv:
                parts = None if measure is None or path == "-" else read_parts(
                    path, handle, reader.batches, measure, jobs=jobs, shown=limit_errors)
                items = parts if parts is not None else reader.batches(CsvRows(blocks=line_blocks(handle)))
            else:
                items = reader.batches(jsonl_rows(capped_lines(handle)))
            for item in items:
                if isinstance(item, Portion):
                    for bad in item.errors[:max(limit_errors - reported_errors[0], 0)]:
                        _stderr(f"{path}:{bad.line}: {bad.reason}")
                    reported_errors[0] += item.error_count
                    item = item.result
                elif isinstance(item, BadRow):
                    reported_errors[0] += 1
                    if reported_errors[0] <= limit_errors:
                        _stderr(f"{path}:{item.line}: {item.reason}")
                yield item

    for path in files:
        yield from rows_of(path)
    if reported_errors[0] > limit_errors:
        _stderr(f"... and {reported_errors[0] - limit_errors:,} more unreadable rows (listed in the report)")


def _jobs(jobs: int | None) -> int:
    from triage.exports.parallel import default_jobs

    return jobs or default_jobs()


def _moment_option(text: Optional[str], flag: str, home: Any) -> Any:
    if text is None:
        return None
    from triage.engine.decide import parse_at
    from triage.errors import InputError

    try:
        return parse_at(text if "T" in text or " " in text.strip() else f"{text}T00:00:00", home)
    except InputError:
        raise UsageError(f"{flag}: `{text}` is not a date or time (like 2026-11-01)") from None


@app.command()
def audit(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Ticket-history exports (CSV or JSON Lines).")],
    matrix: MatrixOption = None,
    mapping: Annotated[Optional[str], typer.Option("--mapping", metavar="NAME|FILE",
                       help="Export mapping: a built-in name or a YAML file (default: recognised from the header).")] = None,
    input_format: Annotated[Optional[RecordFormat], typer.Option("--input-format", help="csv or jsonl (default: by extension).")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", metavar="ZONE",
                        help="Zone of timestamps written without one (default: the mapping's, else the matrix's).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="DATE", help="Only tickets created from then on.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", metavar="DATE", help="Only tickets created before then.")] = None,
    window: Annotated[int, typer.Option("--window", min=1, help="Days within which repeated escalations count.")] = 30,
    repeat: Annotated[int, typer.Option("--repeat", min=2, help="Escalations of one tag within the window that flag it.")] = 3,
    bounce: Annotated[int, typer.Option("--bounce", min=1, help="Reassignments that make a ticket a bounce.")] = 2,
    output_format: Annotated[AuditFormat, typer.Option("--format", "-f", help="text, markdown, json or html.")] = AuditFormat.text,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE, atomically.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row was unreadable.")] = False,
    jobs: JobsOption = None,
) -> None:
    """Audit ticket history against the matrix: targets, cadence, criteria, packets, routing, repeats."""
    with reported():

        from triage.audit import measure as audit_mod
        from triage.render import audit as audit_render
        from triage.matrix.calendars import zone
        from triage.sanitize import has_unsafe_bytes, json_text

        the_matrix = load_matrix(matrix)
        home = zone(the_matrix.model.matrix.timezone)
        options = audit_mod.Options(since=_moment_option(since, "--since", home), until=_moment_option(until, "--until", home),
                                    window_days=window, repeat_threshold=repeat, bounce_threshold=bounce,
                                    today=datetime.now(UTC).date())
        as_json = output_format is AuditFormat.json  # then the longest lists are written as JSON as they come
        report = audit_mod.run(the_matrix, _audit_input(files, the_matrix, mapping, input_format, timezone,
                                                        measure=audit_mod.part_runner(the_matrix, options,
                                                                                      written=as_json),
                                                        jobs=_jobs(jobs)), options, written=as_json)
        data = audit_mod.to_json(report, written=as_json)
        del report  # the measurements are summarised in `data` now
        if as_json:
            import orjson

            raw = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
            del data["breaches"], data["routing"]["bounced"]
            if not output and not has_unsafe_bytes(raw):
                sys.stdout.buffer.write(raw)
                sys.stdout.flush()
                body = ""
            else:
                body = json_text(raw.decode())
        else:
            body = None
        _report(data, body, output_format, output, audit_render)
        unreadable = data["tickets"]["unreadable"]
        if unreadable:
            _stderr(f"{unreadable:,} unreadable row{'s' * (unreadable != 1)} were counted, not audited")
            if strict:
                raise typer.Exit(int(ExitCode.INPUT))


@app.command()
def review(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Ticket-history exports (CSV or JSON Lines).")],
    matrix: MatrixOption = None,
    mapping: Annotated[Optional[str], typer.Option("--mapping", metavar="NAME|FILE", help="Export mapping.")] = None,
    input_format: Annotated[Optional[RecordFormat], typer.Option("--input-format", help="csv or jsonl.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", metavar="ZONE", help="Zone of timestamps without one.")] = None,
    sample: Annotated[int, typer.Option("--sample", min=20, max=50, help="How many recent escalated tickets to review.")] = 30,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE, atomically.")] = None,
    at: AtOption = None,
    jobs: JobsOption = None,
) -> None:
    """The maintenance checklist as a filled-in Markdown document, ready to attach to the review."""
    with reported():
        from triage.audit import measure as audit_mod
        from triage.matrix.calendars import zone
        from triage.engine.decide import parse_at
        from triage.audit.review import review as build

        the_matrix = load_matrix(matrix)
        home = zone(the_matrix.model.matrix.timezone)
        today = (parse_at(at, home) if at else datetime.now(UTC)).astimezone(home).date()
        options = audit_mod.Options(today=today)
        report = audit_mod.run(the_matrix, _audit_input(files, the_matrix, mapping, input_format, timezone,
                                                        measure=audit_mod.part_runner(the_matrix, options, sample),
                                                        jobs=_jobs(jobs)), options, keep_escalated=sample)
        body = build(the_matrix, report, today=today, sample=sample)
        if output:
            from triage.files import write_atomic

            write_atomic(output, body)
            _stderr(f"wrote {output}")
        else:
            sys.stdout.write(body)


def _goal(text: str) -> float:
    raw = text.strip()
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") or float(raw.rstrip("%")) > 1 else 1)
    except ValueError:
        raise UsageError(f"--goal: `{text}` is not a share (write 90% or 0.9)") from None
    if not 0 < value < 1:
        raise UsageError(f"--goal: `{text}` must lie between 0% and 100% (exclusive)")
    return value


MAX_GENERATED = 5_000_000  # tickets made from --rate: a year at ten times the benchmark's volume


def _roster(path: str | None, matrix: Any, efforts: list[str]) -> Any:
    """The roster of --roster ($TRIAGE_ROSTER reaches it through Typer), else ./roster.yaml."""
    import os

    from triage.files import read_bytes
    from triage.capacity.roster import read_roster, with_efforts

    path = path or ("roster.yaml" if os.path.exists("roster.yaml") else None)
    if path is None:
        raise UsageError("no roster: pass --roster FILE (or set $TRIAGE_ROSTER, or keep roster.yaml here)")
    roster = read_roster(read_bytes(path), path, matrix)
    try:
        return with_efforts(roster, matrix, efforts)
    except ValueError as exc:
        raise UsageError(f"--effort: {exc}") from None


@app.command()
def capacity(
    files: Annotated[Optional[list[str]], typer.Argument(metavar="[FILE]...",
                     help="Ticket-history exports (CSV or JSON Lines) for the demand; or use --rate.")] = None,
    roster: Annotated[Optional[str], typer.Option("--roster", "-r", metavar="FILE", envvar="TRIAGE_ROSTER",
                      help="Roster file. Default: $TRIAGE_ROSTER, else ./roster.yaml.")] = None,
    matrix: MatrixOption = None,
    rate: Annotated[Optional[list[str]], typer.Option("--rate", metavar="SEV=N/h|d|w",
                    help="Demand without history: tickets per hour, day or week, e.g. sev3=40/d (repeatable).")] = None,
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=104, help="Weeks of random arrivals made from --rate.")] = 52,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random arrivals made from --rate.")] = 1,
    effort: Annotated[Optional[list[str]], typer.Option("--effort", metavar="[SEV.]STEP=DURATION",
                      help="Override the roster's effort, e.g. update=15m or sev1.acknowledge=20m (repeatable); "
                           "efforts are then not measured from the export's tracked time.")] = None,
    vary_effort: Annotated[bool, typer.Option("--vary-effort", help="Replay with efforts drawn at random around "
                           "the average (as the queueing model assumes) instead of exactly the average.")] = False,
    goal: Annotated[str, typer.Option("--goal", metavar="SHARE", help="Share of work to start on time, e.g. 90%.")] = "80%",
    what_if: Annotated[Optional[list[str]], typer.Option("--what-if", metavar="SEV.TARGET=DURATION",
                       help="A tighter or looser target to price, e.g. sev2.acknowledge=30m (repeatable).")] = None,
    mapping: Annotated[Optional[str], typer.Option("--mapping", metavar="NAME|FILE", help="Export mapping.")] = None,
    input_format: Annotated[Optional[RecordFormat], typer.Option("--input-format", help="csv or jsonl.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", metavar="ZONE", help="Zone of timestamps without one.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="DATE", help="Only tickets created from then on.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", metavar="DATE", help="Only tickets created before then.")] = None,
    output_format: Annotated[AuditFormat, typer.Option("--format", "-f", help="text, markdown, json or html.")] = AuditFormat.text,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE, atomically.")] = None,
) -> None:
    """Can the roster keep the matrix's targets? A queueing estimate and a replay of the demand, side by side."""
    with reported():
        from triage.capacity import analysis as cap
        from triage.render import capacity as capacity_render
        from triage.matrix.calendars import zone
        from triage.errors import InputError

        if files and rate:
            raise UsageError("give either history files or --rate, not both")
        if not files and not rate:
            raise UsageError("no demand: give ticket-history files, or --rate SEV=N/d for each severity")
        share = _goal(goal)
        the_matrix = load_matrix(matrix)
        the_roster = _roster(roster, the_matrix, effort or [])
        changes = []
        for item in what_if or []:
            try:
                changes.append(cap.parse_what_if(item, the_matrix))
            except ValueError as exc:
                raise UsageError(f"--what-if: {exc}") from None
        if rate:
            rates: dict[int, float] = {}
            for item in rate:
                try:
                    level, per_hour = cap.parse_rate(item, the_matrix)
                except ValueError as exc:
                    raise UsageError(f"--rate: {exc}") from None
                rates[level] = per_hour
            from triage.capacity.roster import week_start

            expected = sum(rates.values()) * weeks * 168
            if expected > MAX_GENERATED:
                raise UsageError(f"--rate: that is about {expected:,.0f} tickets over {weeks} weeks; at most "
                                 f"{MAX_GENERATED:,} can be replayed (use fewer --weeks or a lower rate)")
            start = datetime.now(UTC).astimezone(the_roster.zone).date()
            monday = datetime.combine(week_start(start), datetime.min.time(), the_roster.zone)
            demand = cap.demand_from_rates(the_matrix, rates, start=monday, weeks=weeks, seed=seed)
        else:
            home = zone(the_matrix.model.matrix.timezone)
            demand = cap.demand_from_tickets(the_matrix, _audit_input(files or [], the_matrix, mapping, input_format, timezone),
                                             since=_moment_option(since, "--since", home),
                                             until=_moment_option(until, "--until", home))
        if not demand.arrivals:
            if files:
                raise InputError("no tickets to measure: the files hold none that can be read"
                                 + (" in --since/--until" if since or until else ""))
            raise UsageError("--rate: every rate is zero")
        data = cap.analyse(the_matrix, the_roster, demand, goal=share, what_ifs=changes,
                           vary=seed if vary_effort else None, measure_effort=not effort)
        if output_format is AuditFormat.json:
            import orjson

            from triage.sanitize import json_text

            body: str | None = json_text(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode())
        else:
            body = None
        _report(data, body, output_format, output, capacity_render)
        if demand.unreadable:
            _stderr(f"{demand.unreadable:,} unreadable row{'s' * (demand.unreadable != 1)} were counted, not used")
