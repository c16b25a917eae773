"""The follow-up commands' results (update, handoff, close, history) as terminal text, Markdown, JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from triage.engine.classify import csv_safe
from triage.engine.decide import local_time
from triage.engine.followup import (EXPORT_COLUMNS, ReopenPlan, TicketState, UpdatePlan, export_row, lateness,
                                    timeline)
from triage.engine.history import Event
from triage.matrix.durations import human_duration
from triage.matrix.loader import Matrix
from triage.render.output import Output
from triage.render.result import T, blockquote
from triage.sanitize import markdown as md

if TYPE_CHECKING:
    from rich.panel import Panel
    from rich.table import Table

SCHEMA_VERSION = 1


def panel(title: str, body: str) -> Panel:
    from rich.panel import Panel

    return Panel(T(body), title=title, title_align="left")


def update(ticket: str, plan: UpdatePlan) -> Output:
    verdict = (f"{lateness(plan)}; the next one is due "
               f"{local_time(datetime.fromisoformat(plan.data['next_due']), plan.result.display)}.")
    markdown = "\n".join([f"# Update for {md(ticket)}", "", md(verdict), "", "## For the customer", "",
                          *blockquote(plan.data["customer"]), "", "## Internal", "",
                          *blockquote(plan.data["internal"])]) + "\n"
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **plan.data},
                  text=lambda: update_panels(plan, verdict),
                  bodies={"markdown": lambda: markdown})


def update_panels(plan: UpdatePlan, verdict: str) -> Any:
    from rich.console import Group

    return Group(panel("Update for the customer", plan.data["customer"]),
                 panel("Internal update", plan.data["internal"]), T(verdict, "bold red" if plan.late else "bold"))


def handoff(matrix: Matrix, ticket: str, role: str, data: dict[str, Any]) -> Output:
    labels = {f.id: f.label for f in matrix.model.handoff_packet}
    lines = [f"{data['label']}: {ticket} to {matrix.role_name(role)}"]
    if data.get("where"):
        lines.append(f"Reach them at: {data['where']}")
    lines += [f"{labels[k]}: {v if v else 'MISSING'}" for k, v in data["fields"].items()]
    if data["missing"]:
        lines.append("Missing: " + ", ".join(labels[k] for k in data["missing"]))
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **data},
                  text=lambda: panel("Handoff packet", "\n".join(lines)),
                  bodies={"markdown": lambda: "\n".join(f"- {md(x)}" for x in lines) + "\n"})


def close(ticket: str, data: dict[str, Any]) -> Output:
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **data},
                  text=lambda: panel("Final message to the customer", data["message"]),
                  bodies={"markdown": lambda: f"# Final message for {md(ticket)}\n\n"
                          + "\n".join(blockquote(data["message"])) + "\n"})


def reopen(matrix: Matrix, ticket: str, plan: ReopenPlan) -> Output:
    data, zone = plan.data, plan.display
    resolution = data["resolution_due"]
    lines = [f"Ticket {ticket} is open again: {data['reason']}",
             f"Severity {data['severity']['level']} ({data['severity']['label']}), owner "
             f"{matrix.role_name(data['owner'])}.",
             f"Next update due {local_time(datetime.fromisoformat(data['next_due']), zone)} "
             f"(every {human_duration(plan.every)}).",
             f"Resolution due {local_time(datetime.fromisoformat(resolution), zone)}." if resolution else ""]
    body = "\n".join(line for line in lines if line)
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **data},
                  text=lambda: panel("Reopened", body),
                  bodies={"markdown": lambda: f"# {md(ticket)} reopened\n\n" + "\n".join(blockquote(body)) + "\n"})


def rename(old: str, new: str) -> Output:
    return Output({"schema_version": SCHEMA_VERSION, "ticket": new, "renamed_from": old},
                  text=lambda: T(f"{old} is now {new}"),
                  bodies={"markdown": lambda: f"{md(old)} is now {md(new)}\n"})


def history(states: list[tuple[TicketState, list[Event]]], *, one: bool) -> Output:
    """Every recorded ticket (or, with `one`, the only one's steps)."""
    data: Any = timeline(*states[0]) if one else [timeline(st, ev) for st, ev in states]
    return Output(data, text=lambda: history_table(states, one=one), bodies={"csv": lambda: export_csv(states)})


def history_table(states: list[tuple[TicketState, list[Event]]], *, one: bool) -> Table:
    from rich.table import Table

    if one:
        st, events = states[0]
        table = Table(title=f"{st.ticket}", title_justify="left")
        for col in ("When", "What", "Details"):
            table.add_column(col)
        for entry in timeline(st, events)["events"]:
            table.add_row(T(entry["at"]), T(entry["kind"]), T(entry["summary"]))
        return table
    table = Table(title="Recorded tickets", title_justify="left")
    for col in ("Ticket", "Severity", "Owner", "Opened", "State"):
        table.add_column(col)
    for st, _ in states:
        state = "closed" if st.closed else f"open, next update due {st.next_due.isoformat(timespec='minutes')}"
        table.add_row(T(st.ticket), T(f"{st.level} {st.data['severity']['label']}"), T(st.data["routing"]["owner"]),
                      T(st.created.isoformat(timespec="minutes")), T(state))
    return table


def export_csv(states: list[tuple[TicketState, list[Event]]]) -> str:
    """The history in the generic export shape that `triage audit` reads."""
    rows = [export_row(None, st) for st, _ in states]
    columns = list(EXPORT_COLUMNS) + sorted({k for r in rows for k in r} - set(EXPORT_COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_safe(str(v)) for k, v in row.items()})
    return buffer.getvalue()
