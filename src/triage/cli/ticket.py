"""After the first triage: `update`, `handoff`, `retriage`, `close` and `history`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import typer

from triage.cli import complete
from triage.cli.common import (AtOption, Format, HistoryOption, MatrixOption, NoInputOption, OverrideReasonOption,
                               SeverityOption, TimezoneOption, display_zone, emit, home_zone, level, load_matrix,
                               moment, pairs, reported, stderr)
from triage.engine import followup
from triage.engine.followup import TicketState
from triage.matrix.wording import stored_title
from triage.engine.history import History
from triage.errors import MissingAnswerError, UsageError
from triage.files import history_path
from triage.matrix.loader import Matrix
from triage.render import result as render_result
from triage.render import ticket as render

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text, markdown or json.")]
TicketArgument = Annotated[str, typer.Argument(metavar="TICKET", help="The ticket reference.",
                                               autocompletion=complete.tickets)]


@contextmanager
def open_ticket(ctx: typer.Context, ticket: str, matrix: str | None, history: str | None, at: str | None,
                *, closed: bool = False) -> Iterator[tuple[Matrix, History, datetime, TicketState]]:
    """The matrix, the history, the moment and the ticket's state (open, unless `closed` asks for a closed one),
    for the follow-up commands. A moment before the ticket's latest step is refused."""
    the_matrix = load_matrix(matrix, ctx)
    when = moment(at, the_matrix)
    with History(history_path(history)) as store:
        events = store.events(ticket)
        current = followup.state(ticket, events) if closed else followup.open_state(ticket, events)
        latest = max(event.at for event in events)
        if when < latest:
            raise UsageError(f"{when.isoformat()} is before the ticket's latest step ({latest.isoformat()}): "
                             "steps are recorded in the order they happen")
        yield the_matrix, store, when, current


def terminal() -> bool:
    return sys.stdin.isatty()


def can_ask(no_input: bool) -> bool:
    return not no_input and terminal()


def prompter() -> Any:
    from triage.cli.prompts import QuestionaryPrompter

    return QuestionaryPrompter()


def ask_text(label: str, flag: str, value: str | None, *, no_input: bool, required: bool = True) -> str:
    """A flag's value, or asked in a terminal until a required one is given; without a terminal (or with
    --no-input) a missing required value is a usage error."""
    if value is not None:
        return value
    if can_ask(no_input):
        asker = prompter()
        while True:
            answer: str = asker.text(label, instruction="(required)" if required else "(Enter to skip)")
            if answer.strip() or not required:
                return answer
            asker.note([("yellow", f"{label} is required.")])
    if not required:
        return ""
    raise MissingAnswerError(f"no value for {label.lower()}: pass {flag} TEXT")


def show_context(matrix: Matrix, current: TicketState, when: datetime) -> None:
    """Before an update is written: what the ticket is, when this update is due, and what was said last."""
    from triage.engine.decide import local_time
    from triage.matrix.calendars import zone
    from triage.render.result import relative

    home = zone(matrix.model.matrix.timezone)
    severity = current.data["severity"]
    last = current.updates[-1].data.get("customer") if current.updates else None
    asker = prompter()
    asker.note([("bold", f"{current.ticket}: {stored_title(severity)}, owner "
                         f"{matrix.role_name(current.data['routing']['owner'])}")])
    if current.next_due is None:
        asker.note([("", "No update is owed: this severity promises no update cadence.")])
    else:
        asker.note([("", f"This update is due {local_time(current.next_due, home)} "
                         f"({relative(current.next_due, when)}).")])
    asker.note([("dim", "Last update to the customer: "), ("", last or "none yet")])


def ask_closure(matrix: Matrix, current: TicketState, items: dict[str, Any], *, no_input: bool) -> dict[str, Any]:
    """The closure checklist items the flags did not give, asked in a terminal: first what the final message
    quotes, then the message itself is shown, then the rest. A required item is asked again until it is given,
    and a confirmation still not done stops the closure at once."""
    if not can_ask(no_input):
        return items
    asker = prompter()
    entries = {entry.id: entry for entry in followup.closure_items(matrix)}
    quoted = followup.message_items(matrix)
    for cid in [*quoted, "\x00message", *[c for c in entries if c not in quoted]]:
        if cid == "\x00message":
            asker.note([("bold", "The final message to the customer:")])
            asker.note([("", followup.final_message(matrix, current, items))])
            continue
        if cid in items:
            continue
        entry = entries[cid]
        if entry.answer == "confirm":
            items[cid] = asker.choose(entry.item, [("Done", "yes"), ("Not yet", "no")])
            if items[cid] == "no" and not entry.optional:
                raise MissingAnswerError(f"the ticket cannot be closed yet: {entry.item}")
            continue
        hint = "(comma-separated" + (", Enter to skip)" if entry.optional else ")") if entry.answer == "list" \
            else "(Enter to skip)" if entry.optional else "(required)"
        while True:
            items[cid] = asker.text(entry.item, instruction=hint)
            if items[cid].strip() or entry.optional:
                break
            asker.note([("yellow", "This item is required to close the ticket.")])
    return items


def ask_packet(matrix: Matrix, data: dict[str, Any], *, no_input: bool) -> dict[str, str]:
    """In a terminal, the packet fields this handoff requires and nobody has filled yet (Enter leaves one
    missing, and the handoff says so)."""
    if not can_ask(no_input) or not data["missing"]:
        return {}
    asker = prompter()
    fields = {f.id: f for f in matrix.model.handoff_packet}
    given: dict[str, str] = {}
    for fid in data["missing"]:
        if fields[fid].help:
            asker.note([("dim italic", fields[fid].help)])
        value = asker.text(fields[fid].label, instruction="(needed for this handoff; Enter to leave it missing)")
        if value.strip():
            given[fid] = value.strip()
    return given


def update(
    ctx: typer.Context,
    ticket: TicketArgument,
    impact: Annotated[str | None, typer.Option("--impact", metavar="TEXT", help="The current impact.")] = None,
    actions: Annotated[str | None, typer.Option("--actions", metavar="TEXT",
                       help="Actions taken since the last update.")] = None,
    next_step: Annotated[str | None, typer.Option("--next-step", metavar="TEXT", help="The next step.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", metavar="TEXT", help="A new one-line summary.")] = None,
    at: AtOption = None,
    no_input: NoInputOption = False,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Write the next status update from the ticket's record, and say whether it is late."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            if can_ask(no_input) and None in (impact, actions, next_step):
                show_context(the_matrix, current, when)
            plan = followup.plan_update(the_matrix, current, at=when,
                                        impact=ask_text("Current impact", "--impact", impact, no_input=no_input),
                                        actions=ask_text("Actions taken", "--actions", actions, no_input=no_input),
                                        next_step=ask_text("Next step", "--next-step", next_step, no_input=no_input),
                                        summary=summary)
            store.record(ticket, when, "update", plan.data)
        emit(render.update(ticket, plan), output_format.value)


def handoff(
    ctx: typer.Context,
    ticket: TicketArgument,
    to: Annotated[str, typer.Option("--to", metavar="ROLE", help="The role receiving the ticket.",
                                    autocompletion=complete.roles)],
    point: Annotated[str | None, typer.Option("--point", metavar="ID", autocompletion=complete.points,
                     help="The handoff point (default: the next one for this role).")] = None,
    packet: Annotated[list[str] | None, typer.Option("--packet", metavar="FIELD=VALUE",
                      autocompletion=complete.packet_fields, help="Fill a packet field; repeat for more.")] = None,
    at: AtOption = None,
    no_input: NoInputOption = False,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Hand a ticket to a role: the packet for that handoff point, with missing fields named."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            given = pairs(packet, "--packet")
            data = followup.plan_handoff(the_matrix, current, role=to, point=point, given=given)
            asked = ask_packet(the_matrix, data, no_input=no_input)
            if asked:
                data = followup.plan_handoff(the_matrix, current, role=to, point=data["point"],
                                             given={**given, **asked})
            store.record(ticket, when, "handoff", data)
        emit(render.handoff(the_matrix, ticket, to, data), output_format.value)


def retriage(
    ctx: typer.Context,
    ticket: TicketArgument,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT",
                      help="Why it is re-triaged (required).")] = None,
    answer: Annotated[list[str] | None, typer.Option("--answer", "-a", metavar="ID=VALUE",
                      autocompletion=complete.answers, help="A changed answer; repeat for more.")] = None,
    severity: SeverityOption = None,
    override_reason: OverrideReasonOption = None,
    at: AtOption = None,
    no_input: NoInputOption = False,
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
            why = ask_text("Why is it re-triaged", "--reason", reason, no_input=no_input)
            result, data = followup.plan_retriage(the_matrix, current, at=when, given=pairs(answer, "--answer"),
                                                  reason=why, override=override)
            store.record(ticket, when, "retriage", data)
        before = current.data["severity"]
        result.notes.insert(0, f"re-triaged from {stored_title(before)} to {the_matrix.level_title(result.level)}: "
                               f"{data['reason']}")
        emit(render_result.output(result), output_format.value)


def close(
    ctx: typer.Context,
    ticket: TicketArgument,
    item: Annotated[list[str] | None, typer.Option("--item", metavar="ID=VALUE", autocompletion=complete.closure_items,
                    help="A closure checklist item (yes for a confirmation, text, or a comma-separated list).")] = None,
    at: AtOption = None,
    no_input: NoInputOption = False,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Close the loop: the closure checklist, and the final customer message."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            items = ask_closure(the_matrix, current, dict(pairs(item, "--item")), no_input=no_input)
            data = followup.plan_close(the_matrix, current, at=when, items=items)
            store.record(ticket, when, "close", data)
        emit(render.close(ticket, data), output_format.value)
        if output_format is not Format.json:
            stderr(f"closed {ticket}")


def reopen(
    ctx: typer.Context,
    ticket: TicketArgument,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT",
                      help="Why it is reopened: what the customer came back with (required).")] = None,
    at: AtOption = None,
    no_input: NoInputOption = False,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Open a closed ticket again: updates are due again, the resolution target stands."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at, closed=True) as (the_matrix, store, when, current):
            if current.closed is None:
                raise UsageError(f"ticket `{ticket}` is open; only a closed ticket can be reopened")
            why = ask_text("Why is it reopened", "--reason", reason, no_input=no_input)
            plan = followup.plan_reopen(the_matrix, current, at=when, reason=why)
            store.record(ticket, when, "reopen", plan.data)
        emit(render.reopen(the_matrix, ticket, plan), output_format.value)


def pause(
    ctx: typer.Context,
    ticket: TicketArgument,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT",
                      help="What the ticket waits for from the customer (required).")] = None,
    at: AtOption = None,
    no_input: NoInputOption = False,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """The ticket waits on the customer: the targets the matrix names in `pauses` stop until `resume`."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            why = ask_text("What does it wait for from the customer", "--reason", reason, no_input=no_input)
            data = followup.plan_pause(the_matrix, current, at=when, reason=why)
            store.record(ticket, when, "pause", data)
        emit(render.pause(ticket, when, data, home_zone(the_matrix)), output_format.value)


def resume(
    ctx: typer.Context,
    ticket: TicketArgument,
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """The customer answered: paused targets run again with the time they had left."""
    with reported():
        with open_ticket(ctx, ticket, matrix, history, at) as (the_matrix, store, when, current):
            data = followup.plan_resume(the_matrix, current, at=when)
            store.record(ticket, when, "resume", data)
        emit(render.resume(ticket, data, home_zone(the_matrix)), output_format.value)


def rename(
    ctx: typer.Context,
    ticket: TicketArgument,
    new: Annotated[str, typer.Argument(metavar="NEW_REF", help="The reference it goes by from now on.")],
    at: AtOption = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Give a ticket its help-desk reference (say, for one triaged as TRIAGE-...); every step moves with it."""
    with reported():
        if not new.strip() or new != new.strip():
            raise UsageError("NEW_REF must be a reference without surrounding spaces")
        with open_ticket(ctx, ticket, matrix, history, at, closed=True) as (_, store, when, _current), \
                store.transaction():
            store.rename(ticket, new, when)
        emit(render.rename(ticket, new), output_format.value)


class HistoryFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


class QueueFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"
    csv = "csv"


def history_command(
    ctx: typer.Context,
    ticket: Annotated[str | None, typer.Argument(metavar="TICKET", autocompletion=complete.tickets,
                      help="One ticket (default: list them all).")] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="ISO-8601",
                  help="The moment against which promises are overdue (default: now).")] = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    timezone: TimezoneOption = None,
    output_format: Annotated[HistoryFormat, typer.Option(
        "--format", "-f", help="text, json, or csv (the export that `triage audit` reads).")] = HistoryFormat.text,
) -> None:
    """List recorded tickets, or show one ticket's steps with their times."""
    with reported():
        the_matrix = load_matrix(matrix, ctx)
        with History(history_path(history)) as store:
            names = [ticket] if ticket else store.tickets()
            if ticket and not store.events(ticket):
                raise UsageError(f"no ticket `{ticket}` in the history")
            loaded = [(name, store.events(name)) for name in names]
        states = [(followup.state(name, events), events) for name, events in loaded]
        emit(render.history(states, one=ticket is not None, matrix=the_matrix,
                            zone=display_zone(the_matrix, timezone), now=moment(at, the_matrix)),
             output_format.value)


def queue(
    ctx: typer.Context,
    role: Annotated[str | None, typer.Option("--role", metavar="ROLE", autocompletion=complete.roles,
                    help="Only tickets this role owns.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", metavar="N", help="Only tickets of severity N.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only tickets with a promise overdue.")] = False,
    account: Annotated[str | None, typer.Option("--account", metavar="NAME",
                       help="Only tickets of this customer account (any case).")] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="ISO-8601",
                  help="The moment the queue is seen from (default: now).")] = None,
    matrix: MatrixOption = None,
    history: HistoryOption = None,
    timezone: TimezoneOption = None,
    output_format: Annotated[QueueFormat, typer.Option("--format", "-f",
                             help="text, markdown, json or csv.")] = QueueFormat.text,
) -> None:
    """The open tickets, the next promise due first: acknowledge, owner, escalation, update or resolution."""
    with reported():
        the_matrix = load_matrix(matrix, ctx)
        wanted = level(severity)
        if role is not None and role not in the_matrix.model.roles:
            raise UsageError(f"unknown role `{role}` (roles: {', '.join(the_matrix.model.roles)})")
        now, zone = moment(at, the_matrix), display_zone(the_matrix, timezone)
        with History(history_path(history)) as store:
            loaded = [(name, store.events(name)) for name in store.tickets()]
        entries = [entry for name, events in loaded
                   if (entry := followup.queue_entry(followup.state(name, events), events, now, zone)) is not None]
        entries = [e for e in entries if (role is None or e["owner"] == role)
                   and (wanted is None or e["severity"]["level"] == wanted) and (not overdue or e["overdue"])
                   and (account is None or (e["account"] or "").casefold() == account.casefold())]
        entries.sort(key=lambda e: (e["minutes_left"] is None, e["minutes_left"] or 0, e["severity"]["level"],
                                    e["ticket"]))
        emit(render.queue(entries, the_matrix, zone, now), output_format.value)
