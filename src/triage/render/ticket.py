"""The follow-up commands' results (update, handoff, close, history) as terminal text, Markdown, JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from triage.engine.classify import csv_safe
from triage.engine.decide import local_time
from triage.engine.followup import (EXPORT_COLUMNS, PROMISES, ReopenPlan, TicketState, UpdatePlan, export_row,
                                    lateness, promises, timeline)
from triage.engine.history import Event
from triage.matrix.loader import Matrix
from triage.matrix.wording import stored_title
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


def _level(severity: dict[str, Any]) -> str:
    """A level in a narrow column: its number, or its own name (`P1`, `Urgent`)."""
    name = severity.get("name")
    return str(severity["level"]) if not name or name == f"Severity {severity['level']}" else name


def update(ticket: str, plan: UpdatePlan) -> Output:
    following = plan.data["next_due"]
    verdict = lateness(plan) + (
        f"; the next one is due {local_time(datetime.fromisoformat(following), plan.result.display)}." if following
        else "; the next one falls due a full interval after `triage resume`." if plan.data.get("waiting_on_customer")
        else "; no further update is owed.")
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


def pause(ticket: str, at: datetime, data: dict[str, Any], zone: Any) -> Output:
    from triage.engine.followup import PROMISES

    lines = [f"Ticket {ticket} waits on the customer from {local_time(at, zone)}: {data['reason']}",
             "Stopped until `triage resume`: " + ", ".join(PROMISES[name] for name in data["targets"]) + "."]
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **data},
                  text=lambda: panel("Paused", "\n".join(lines)),
                  bodies={"markdown": lambda: "\n".join(f"- {md(x)}" for x in lines) + "\n"})


def resume(ticket: str, data: dict[str, Any], zone: Any) -> Output:
    from triage.engine.followup import PROMISES
    from triage.matrix.durations import human_duration

    waited = human_duration(timedelta(minutes=data["paused_minutes"]), business=data["business_time"])
    lines = [f"Ticket {ticket} runs again after waiting {waited} on the customer ({data['reason']})."]
    lines += [f"{PROMISES[name].capitalize()} now due {local_time(datetime.fromisoformat(due), zone)}."
              for name, due in data["moved"].items()]
    if not data["moved"]:
        lines.append("No due time moves: the paused targets were met or already overdue.")
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **data},
                  text=lambda: panel("Resumed", "\n".join(lines)),
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
             f"{stored_title(data['severity'])}, owner "
             f"{matrix.role_name(data['owner'])}.",
             f"Next update due {local_time(datetime.fromisoformat(data['next_due']), zone)} "
             f"(every {plan.every})." if data["next_due"] else "No update cadence is promised.",
             f"Resolution due {local_time(datetime.fromisoformat(resolution), zone)}." if resolution else ""]
    body = "\n".join(line for line in lines if line)
    return Output({"schema_version": SCHEMA_VERSION, "ticket": ticket, **data},
                  text=lambda: panel("Reopened", body),
                  bodies={"markdown": lambda: f"# {md(ticket)} reopened\n\n" + "\n".join(blockquote(body)) + "\n"})


def rename(old: str, new: str) -> Output:
    return Output({"schema_version": SCHEMA_VERSION, "ticket": new, "renamed_from": old},
                  text=lambda: T(f"{old} is now {new}"),
                  bodies={"markdown": lambda: f"{md(old)} is now {md(new)}\n"})


def short_time(stamp: datetime | str, zone: Any, now: datetime) -> str:
    """`04 Jan 10:00` in `zone` (the year too when it is not the current one): queue and history tables name the
    zone once, in their title, so that they fit 80 columns."""
    moment = (datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp).astimezone(zone)
    return moment.strftime("%d %b %H:%M" if moment.year == now.astimezone(zone).year else "%d %b %Y %H:%M")


def zone_title(zone: Any, now: datetime) -> str:
    return f"times in {getattr(zone, 'key', str(zone))} ({now.astimezone(zone).strftime('%Z')})"


def queue(entries: list[dict[str, Any]], matrix: Matrix, zone: Any, now: datetime) -> Output:
    """The open tickets, the next promise due first."""
    from triage.render.result import relative

    def when(entry: dict[str, Any]) -> str:
        if entry["promise"] == "waiting_on_customer":
            return "since then"
        return relative(datetime.fromisoformat(entry["due"]), now)

    def rows() -> list[list[str]]:
        return [[e["ticket"], _level(e["severity"]), e["promise_label"], short_time(e["due"], zone, now),
                 when(e), e["owner"], f"{e['last_step']['kind']} {short_time(e['last_step']['at'], zone, now)}"]
                for e in entries]

    headers = ["Ticket", "Sev", "Next promise", "Due", "", "Owner", "Last step"]

    def text() -> Any:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        if not entries:
            return T("No open tickets.")
        table = Table(title=f"Open tickets, next promise first; {zone_title(zone, now)}", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for header in ("Ticket", "Sev", "Next promise", "Due", "Owner", "Last step"):
            # a reference is never cut and a time keeps its line (12 characters); the rest wraps
            table.add_column(header, no_wrap=header == "Ticket", overflow="fold",
                             min_width=12 if header == "Due" else None)
        for entry, row in zip(entries, rows()):
            due = Text.assemble(T(row[3]), "\n", T(row[4], "bold red" if entry["overdue"] else "dim"))
            table.add_row(T(row[0]), T(row[1]), T(row[2]), due, T(row[5]), T(row[6]))
        return table

    def markdown() -> str:
        lines = [f"# Open tickets ({md(zone_title(zone, now))})", "", "| " + " | ".join(headers[:4]) + " | When | "
                 + " | ".join(headers[5:]) + " |", "|---" * len(headers) + "|"]
        lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows()]
        return "\n".join(lines) + "\n"

    def csv_text() -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["ticket", "severity", "promise", "due", "minutes_left", "overdue", "owner", "account",
                         "last_step", "last_step_at"])
        for e in entries:
            left = "" if e["promise"] == "waiting_on_customer" else e["minutes_left"]
            writer.writerow([csv_safe(e["ticket"]), e["severity"]["level"], e["promise"], e["due"], left,
                             "yes" if e["overdue"] else "no", e["owner"], csv_safe(e["account"] or ""),
                             e["last_step"]["kind"], e["last_step"]["at"]])
        return buffer.getvalue()

    return Output({"schema_version": SCHEMA_VERSION, "at": now.astimezone(zone).isoformat(timespec="seconds"),
                   "tickets": entries}, text=text, bodies={"markdown": markdown, "csv": csv_text})


def history(states: list[tuple[TicketState, list[Event]]], *, one: bool, matrix: Matrix, zone: Any,
            now: datetime) -> Output:
    """Every recorded ticket (or, with `one`, the only one's steps)."""
    data: Any = timeline(*states[0]) if one else [timeline(st, ev) for st, ev in states]
    return Output(data, text=lambda: history_table(states, one=one, matrix=matrix, zone=zone, now=now),
                  bodies={"csv": lambda: export_csv(states)})


def history_table(states: list[tuple[TicketState, list[Event]]], *, one: bool, matrix: Matrix, zone: Any,
                  now: datetime) -> Table:
    from rich import box
    from rich.table import Table

    from triage.render.result import relative

    def when(moment: datetime | str) -> str:
        return short_time(moment, zone, now)

    if one:
        st, events = states[0]
        table = Table(title=f"{st.ticket}; {zone_title(zone, now)}", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, collapse_padding=True)
        table.add_column("When", no_wrap=True)
        table.add_column("What", no_wrap=True)
        table.add_column("Details", overflow="fold")
        for entry in timeline(st, events)["events"]:
            table.add_row(T(when(entry["at"])), T(entry["kind"]), T(entry["summary"]))
        return table
    table = Table(title=f"Recorded tickets; {zone_title(zone, now)}", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    table.add_column("Ticket", no_wrap=True)
    table.add_column("Severity", overflow="fold")
    table.add_column("Owner", overflow="fold")
    table.add_column("Opened", no_wrap=True)
    table.add_column("State", overflow="fold")
    for st, _ in states:
        pending = promises(st)
        if st.closed is not None:
            state = T(f"closed {when(st.closed.at)}")
        else:
            name, due = pending[0]
            late = due < now
            state = T(f"{PROMISES[name]} due {when(due)}, {relative(due, now)}", "bold red" if late else "")
        table.add_row(T(st.ticket), T(stored_title(st.data["severity"])),
                      T(matrix.role_name(st.data["routing"]["owner"])), T(when(st.created)), state)
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
