"""After the first triage: `update`, `handoff`, `retriage`, `close` and `history`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import typer

from triage.cli.common import (AtOption, Format, HistoryOption, MatrixOption, emit, level, load_matrix, moment, pairs,
                               reported, stderr)
from triage.engine import followup
from triage.engine.followup import TicketState
from triage.engine.history import History
from triage.errors import MissingAnswerError, UsageError
from triage.files import history_path
from triage.matrix.loader import Matrix
from triage.render import result as render_result
from triage.render import ticket as render

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text, markdown or json.")]
TicketArgument = Annotated[str, typer.Argument(metavar="TICKET", help="The ticket reference.")]


@contextmanager
def open_ticket(ctx: typer.Context, ticket: str, matrix: str | None, history: str | None, at: str | None
                ) -> Iterator[tuple[Matrix, History, datetime, TicketState]]:
    """The matrix, the history, the moment and the ticket's open state, for the follow-up commands."""
    the_matrix = load_matrix(matrix, ctx)
    when = moment(at, the_matrix)
    with History(history_path(history)) as store:
        events = store.events(ticket)
        current = followup.open_state(ticket, events)
        latest = max(event.at for event in events)
        if when < latest:
            raise UsageError(f"{when.isoformat()} is before the ticket's latest step ({latest.isoformat()}): "
                             "steps are recorded in the order they happen")
        yield the_matrix, store, when, current


def ask_text(label: str, flag: str, value: str | None, *, required: bool = True) -> str:
    """A flag's value, or asked in a terminal; with no terminal a missing required value is a usage error."""
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


def ask_closure(matrix: Matrix, items: dict[str, Any]) -> dict[str, Any]:
    """The closure checklist items the flags did not give, asked in a terminal."""
    if not sys.stdin.isatty():
        return items
    from triage.cli.prompts import QuestionaryPrompter

    prompter = QuestionaryPrompter()
    for entry in followup.closure_items(matrix):
        if entry.id in items:
            continue
        if entry.answer == "confirm":
            items[entry.id] = prompter.choose(entry.item, [("Done", "yes"), ("Not yet", "no")])
        else:
            hint = "(comma-separated" + (", Enter to skip)" if entry.optional else ")") \
                if entry.answer == "list" else ("(Enter to skip)" if entry.optional else "")
            items[entry.id] = prompter.text(entry.item, instruction=hint)
    return items


def update(
    ctx: typer.Context,
    ticket: TicketArgument,
    impact: Annotated[str | None, typer.Option("--impact", metavar="TEXT", help="The current impact.")] = None,
    actions: Annotated[str | None, typer.Option("--actions", metavar="TEXT",
                       help="Actions taken since the last update.")] = None,
    next_step: Annotated[str | None, typer.Option("--next-step", metavar="TEXT", help="The next step.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", metavar="TEXT", help="A new one-line summary.")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Write the next status update from the ticket's record, and say whether it is late."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            plan = followup.plan_update(the_matrix, current, at=when,
                                        impact=ask_text("Current impact", "--impact", impact),
                                        actions=ask_text("Actions taken", "--actions", actions),
                                        next_step=ask_text("Next step", "--next-step", next_step), summary=summary)
            store.record(ticket, when, "update", plan.data)
        emit(render.update(ticket, plan), output_format.value)


def handoff(
    ctx: typer.Context,
    ticket: TicketArgument,
    to: Annotated[str, typer.Option("--to", metavar="ROLE", help="The role receiving the ticket.")],
    point: Annotated[str | None, typer.Option("--point", metavar="ID",
                     help="The handoff point (default: the next one for this role).")] = None,
    packet: Annotated[list[str] | None, typer.Option("--packet", metavar="FIELD=VALUE",
                      help="Fill a packet field; repeat for more.")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Hand a ticket to a role: the packet for that handoff point, with missing fields named."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            data = followup.plan_handoff(the_matrix, current, role=to, point=point, given=pairs(packet, "--packet"))
            store.record(ticket, when, "handoff", data)
        emit(render.handoff(the_matrix, ticket, to, data), output_format.value)


def retriage(
    ctx: typer.Context,
    ticket: TicketArgument,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT",
                      help="Why it is re-triaged (required).")] = None,
    answer: Annotated[list[str] | None, typer.Option("--answer", "-a", metavar="ID=VALUE",
                      help="A changed answer; repeat for more.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", metavar="N",
                        help="Override the new severity with level N.")] = None,
    override_reason: Annotated[str | None, typer.Option("--override-reason", metavar="TEXT",
                               help="Why the new severity is overridden.")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Change answers, recompute the severity and move the targets; both decisions are kept."""
    with reported():
        chosen = level(severity)
        if chosen is not None and not (override_reason or "").strip():
            raise UsageError("--severity needs --override-reason TEXT")
        override = (chosen, override_reason or "") if chosen is not None else None
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            why = ask_text("Why is it re-triaged", "--reason", reason)
            result, data = followup.plan_retriage(the_matrix, current, at=when, given=pairs(answer, "--answer"),
                                                  reason=why, override=override)
            store.record(ticket, when, "retriage", data)
        before = current.data["severity"]
        result.notes.insert(0, f"re-triaged from severity {before['level']} ({before['label']}) to "
                               f"{result.level}: {data['reason']}")
        emit(render_result.output(result), output_format.value)


def close(
    ctx: typer.Context,
    ticket: TicketArgument,
    item: Annotated[list[str] | None, typer.Option("--item", metavar="ID=VALUE",
                    help="A closure checklist item (yes for a confirmation, text, or a comma-separated list).")] = None,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Close the loop: the closure checklist, and the final customer message."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            items = ask_closure(the_matrix, dict(pairs(item, "--item")))
            data = followup.plan_close(the_matrix, current, at=when, items=items)
            store.record(ticket, when, "close", data)
        emit(render.close(ticket, data), output_format.value)
        if output_format is not Format.json:
            stderr(f"closed {ticket}")


class HistoryFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


def history_command(
    ticket: Annotated[str | None, typer.Argument(metavar="[TICKET]",
                      help="One ticket (default: list them all).")] = None,
    history: HistoryOption = None,
    output_format: Annotated[HistoryFormat, typer.Option(
        "--format", "-f", help="text, json, or csv (the export that `triage audit` reads).")] = HistoryFormat.text,
) -> None:
    """List recorded tickets, or show one ticket's steps with their times."""
    with reported():
        with History(history_path(history)) as store:
            names = [ticket] if ticket else store.tickets()
            if ticket and not store.events(ticket):
                raise UsageError(f"no ticket `{ticket}` in the history")
            loaded = [(name, store.events(name)) for name in names]
        states = [(followup.state(name, events), events) for name, events in loaded]
        emit(render.history(states, one=ticket is not None), output_format.value)
