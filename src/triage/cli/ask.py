"""`triage ask` (and a bare `triage`): one ticket triaged, from flags, a file, or the interactive questionnaire."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from triage.cli import complete
from triage.cli.common import (Format, HistoryOption, MatrixOption, OverrideReasonOption, SeverityOption,
                               TimezoneOption, display_zone, emit, home_zone, level, load_matrix, pairs, reported,
                               stderr)
from triage.engine.decide import assumed, parse_at, plan_as_answer, resolve_answers, triage
from triage.engine.history import History
from triage.errors import ExitCode, InputError, TriageError, UsageError
from triage.files import history_path, read_bytes
from triage.matrix.loader import Matrix
from triage.matrix.yamlsafe import decode, load
from triage.render import result as render


@dataclass
class Given:
    """What the flags and the answers file say before anything is asked."""

    answers: dict[str, Any]
    packet: dict[str, str] = field(default_factory=dict)
    ticket: str | None = None
    at: str | None = None
    override: tuple[int, str] | None = None


def read_answers_file(path: str) -> dict[str, Any]:
    """A YAML or JSON mapping of question id -> answer (and optionally ticket, at, packet)."""
    name = "<stdin>" if path == "-" else path
    doc, problems = load(decode(read_bytes(path), name), name)
    errors = [p for p in problems if p.level == "error" and p.code != "Y106"]
    if errors or doc is None:
        raise InputError((errors or problems)[0].format())
    if not isinstance(doc.data, dict):
        raise InputError(f"{name}: expected a mapping of question id to answer")
    return doc.data


def gather(*, answer: list[str] | None, answers: str | None, ticket: str | None, at: str | None,
           packet: list[str] | None, severity: int | None, reason: str | None) -> Given:
    """Flags and the answers file, merged: a flag wins over the file."""
    from_file: dict[str, Any] = read_answers_file(answers) if answers else {}
    extra_packet = from_file.pop("packet", None) or {}
    if not isinstance(extra_packet, dict):
        raise UsageError("`packet` in the answers file must be a mapping of field to text")
    file_ticket, file_at = from_file.pop("ticket", None), from_file.pop("at", None)
    if severity is not None and not (reason or "").strip():
        raise UsageError("--severity needs --override-reason TEXT: an override is always explained")
    if reason is not None and severity is None:
        raise UsageError("--override-reason goes with --severity N")
    given = Given({**from_file, **pairs(answer, "--answer")})
    given.packet = {k: str(v) for k, v in extra_packet.items() if v is not None} | pairs(packet, "--packet")
    given.ticket = ticket if ticket is not None else (str(file_ticket) if file_ticket is not None else None)
    given.at = at if at is not None else (str(file_at) if file_at is not None else None)
    given.override = (severity, reason or "") if severity is not None else None
    return given


def plan_answer(matrix: Matrix, given: Given, plan: str | None) -> str | None:
    """`--plan` as the answer to the matrix's plan question (so the plan is given once); the plan to pass on when
    the matrix chooses plans by flag only."""
    if plan is not None and matrix.model.plans is None:
        raise UsageError(f"--plan {plan}: this matrix has no plans")
    return plan_as_answer(matrix, given.answers, plan, answer_named="--answer", error=UsageError)


def refuse_known(history: str | None, reference: str | None) -> None:
    """A ticket already in the history is re-triaged, not triaged again: say so before any question."""
    if reference is None:
        return
    with History(history_path(history)) as store:
        if store.events(reference):
            raise UsageError(f"ticket `{reference}` is already in the history; use `triage retriage "
                             f"{reference}` to change its severity")


def answer(matrix: Matrix, given: Given, *, no_input: bool, today: Any, check: Any
           ) -> tuple[dict[str, Any], list[str], list[str]]:
    """Complete answers, the questions skipped and the answers assumed: asked in a terminal, else taken from what
    was given (a missing answer that could change the severity is an error)."""
    if not no_input and sys.stdin.isatty():
        from triage.cli.prompts import QuestionaryPrompter
        from triage.cli.session import session
        from triage.render.console import console

        answers, skipped, given.ticket, given.override, given.packet = session(
            matrix, QuestionaryPrompter(), lambda: console(stderr=True), given=given.answers, ticket=given.ticket,
            override=given.override, packet=given.packet, today=today, check_ticket=check)
        return answers, skipped, []
    try:
        answers, skipped = resolve_answers(matrix, given.answers)
        return answers, skipped, assumed(given.answers, answers, skipped)
    except TriageError as exc:
        if not no_input and exc.exit_code == ExitCode.USAGE:
            exc.message += " (stdin is not a terminal, so nothing can be asked)"
        raise


def ask(
    ctx: typer.Context,
    matrix: MatrixOption = None,
    answer_: Annotated[list[str] | None, typer.Option(
        "--answer", "-a", metavar="ID=VALUE", autocompletion=complete.answers,
        help="An answer; repeat for more. A multi-select takes comma-separated values.")] = None,
    answers: Annotated[str | None, typer.Option("--answers", metavar="FILE",
                       help="YAML or JSON mapping of answers; - reads stdin.")] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt; a missing answer is an error.")] = False,
    at: Annotated[str | None, typer.Option("--at", metavar="ISO-8601",
                  help="When the triage happens (default: now). Without an offset: the matrix's time zone.")] = None,
    ticket: Annotated[str | None, typer.Option("--ticket", metavar="REF", help="Ticket reference.")] = None,
    severity: SeverityOption = None,
    reason: OverrideReasonOption = None,
    packet: Annotated[list[str] | None, typer.Option("--packet", metavar="FIELD=VALUE",
                      autocompletion=complete.packet_fields, help="A handoff packet field; repeat for more.")] = None,
    output_format: Annotated[Format, typer.Option("--format", "-f", help="Result format.")] = Format.text,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                      help="Also write the result to FILE (Markdown for text format), atomically.")] = None,
    timezone: TimezoneOption = None,
    account: Annotated[str | None, typer.Option("--account", metavar="NAME",
                       help="The customer account: exceptions for it apply while in force.")] = None,
    segment: Annotated[str | None, typer.Option("--segment", metavar="NAME",
                       help="The customer segment: exceptions for it apply while in force.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", metavar="ID", autocompletion=complete.plans,
                    help="The customer's support plan, for a matrix with plans (the same as answering its plan "
                         "question).")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record this triage in the history.")] = False,
    history: HistoryOption = None,
) -> None:
    """Triage one ticket: severity with reasons, deadlines, routing, packet and update text."""
    with reported():
        the_matrix = load_matrix(matrix, ctx)
        given = gather(answer=answer_, answers=answers, ticket=ticket, at=at, packet=packet, severity=level(severity),
                       reason=reason)
        plan = plan_answer(the_matrix, given, plan)
        home, display = home_zone(the_matrix), display_zone(the_matrix, timezone)
        when = parse_at(given.at, home) if given.at is not None else datetime.now(UTC)
        def check(reference: str | None) -> None:
            if not no_record:
                refuse_known(history, reference)

        check(given.ticket)
        chosen, skipped, defaults = answer(the_matrix, given, no_input=no_input, today=when.astimezone(home).date(),
                                           check=check)
        if given.ticket is None and not no_record:
            given.ticket = f"TRIAGE-{when.astimezone(home):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        result = triage(the_matrix, chosen, skipped=skipped, at=when, ticket=given.ticket, override=given.override,
                        packet=given.packet, display=display, account=account, segment=segment, assumed=defaults,
                        plan=plan)
        path = None if no_record else history_path(history)
        if path is None:
            emit(render.output(result), output_format.value, output, also_stdout=True)
            return
        with History(path) as store, store.transaction():  # recorded only if the output was written too
            store.record_new(given.ticket or "", when, "triage", result.to_json())
            emit(render.output(result), output_format.value, output, also_stdout=True)
        stderr(f"recorded {given.ticket} in {path}")
