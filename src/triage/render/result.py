"""One triage result as text (rich), Markdown or JSON; results go to stdout, the rest to stderr. Like every
renderer, it imports rich in the functions that draw, so that a command pays for rich only when it prints to a
terminal (the interactive triage shows its first question sooner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from triage.engine.decide import Result, Target, local_time
from triage.matrix.durations import human_duration
from triage.render.output import Output
from triage.sanitize import markdown as md
from triage.sanitize import one_line, visible

if TYPE_CHECKING:
    from rich.console import Group
    from rich.text import Text

SEVERITY_STYLE = {1: "bold white on red", 2: "bold black on dark_orange", 3: "bold black on yellow",
                  4: "bold black on green"}
TARGET_LABELS = {
    "acknowledge": "Acknowledge the customer",
    "assign_owner": "Assign an owner",
    "escalate": "Escalate if not solved",
    "next_update": "Next update",
    "resolution": "Resolution",
}


def T(text: Any, style: str = "") -> Text:
    """Literal text: never parsed as markup, control characters shown escaped."""
    from rich.text import Text

    return Text(visible(str(text)), style=style)


def relative(moment: datetime, now: datetime) -> str:
    """How long until `moment`, or how long it is overdue, in elapsed time (times in one zone subtract as wall
    clocks, which is an hour off across a DST change: both are taken to UTC first)."""
    delta = moment.astimezone(UTC) - now.astimezone(UTC)
    if abs(delta) < timedelta(minutes=1):
        return "now"
    return f"in {human_duration(delta)}" if delta > timedelta(0) else f"overdue by {human_duration(-delta)}"


def promised(result: Result) -> list[tuple[str, Target]]:
    """The targets the level promises; one it leaves out is not shown."""
    return [(name, target) for name, target in result.targets.items() if target.promised]


def span(result: Result, target: Target) -> str:
    """A target's time allowed, in business time on a business calendar, with the closed days its due time
    skips: `8 h of business time; skips the weekend and Christmas Day`."""
    if target.within is None:
        return "-"
    calendar_id = result.terms_spec.calendar
    business = result.matrix.business_time(calendar_id)
    text = human_duration(target.within, business=business)
    skipped = result.matrix.calendars[calendar_id].skipped(result.at, target.due) if target.due else []
    return text + (f"; skips {words(skipped)}" if skipped else "")


def words(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def text(result: Result, *, now: datetime | None = None) -> Group:
    """The readable result for a terminal."""
    from rich import box
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    m, sev = result.matrix, result.severity.spec
    def when(moment: datetime) -> str:
        return local_time(moment, result.display)
    rules = {r.id: r for r, _ in m.severity_rules}

    head = Text()
    name = m.level_name(result.level)
    head.append_text(T(f" {name.upper()} ", SEVERITY_STYLE.get(result.level, "bold reverse")))
    if sev.label.casefold() != name.casefold():
        head.append(" ")
        head.append_text(T(sev.label, "bold"))
    if result.ticket:
        head.append("   ticket ")
        head.append_text(T(result.ticket, "bold"))
    body = [head, T(sev.definition), Text("")]
    if result.override_reason is not None:
        body.append(T(f"Changed from {m.level_name(result.computed.level)} by the agent: {result.override_reason}",
                      "bold"))
    body.append(Text("Why:", style="bold"))
    for rid in result.computed.rules:
        body.append(Text.assemble("  • ", T(rules[rid].because), T(f"  [{rid}]", "dim")))
    parts: list[Any] = [Panel(Group(*body), title=T(m.model.matrix.name),
                              subtitle=T(f"version {m.model.matrix.version}"), box=box.ROUNDED)]

    targets = Table(title="Deadlines", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    targets.add_column("Target")
    targets.add_column("Within")
    targets.add_column("Due")
    targets.add_column("")
    calendar = m.calendars[result.terms_spec.calendar]
    for name, target in promised(result):
        within = span(result, target)
        due_text = when(target.due) if target.due else "-"
        rel = relative(target.due, now or datetime.now(UTC)) if target.due else ""
        if target.met is not None:
            rel = f"met {when(target.met)}"
        label = TARGET_LABELS[name] if name != "resolution" or result.terms_spec.resolution is None \
            else f"Resolution: {result.terms_spec.resolution.expect}"
        targets.add_row(T(label), T(within), T(due_text), T(rel, "dim"))
    plan = f"{m.plan_name(result.plan)} plan; " if result.plan is not None else ""
    targets.caption = visible(f"{plan}measured on {m.calendar_name(result.terms_spec.calendar)}: "
                              f"{calendar.describe()}")
    parts.append(targets)

    steps = Table(title="Escalation path", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    steps.add_column("By")
    steps.add_column("Role")
    steps.add_column("Action")
    for role, action, due in result.steps:
        steps.add_row(T(when(due)), T(m.role_name(role)), T(action))
    parts.append(steps)
    parts.append(Text.assemble(("Owner of the next step: ", "bold"), T(m.role_name(result.owner)),
                               T(f" ({m.model.roles[result.owner].where})", "dim")))
    if result.routes:
        parts.append(Text("Bring in:", style="bold"))
        for _, role, reason in result.routes:
            parts.append(Text.assemble("  • ", T(m.role_name(role), "bold"), " - ", T(reason)))
    if result.notices:
        parts.append(Text("Tell:", style="bold"))
        for role, when_text in result.notices:
            parts.append(Text.assemble("  • ", T(m.role_name(role), "bold"), " - ", T(when_text)))
    packet = Table(title="Handoff packet", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold",
                   show_header=False)
    packet.add_column("Field")
    packet.add_column("Value")
    labels = {f.id: f.label for f in m.model.handoff_packet}
    for fid, value in result.packet.items():
        packet.add_row(T(labels[fid]), T(value) if value is not None else T("missing", "bold red"))
    parts.append(packet)
    parts.append(Panel(T(result.update["customer"]), title="Update for the customer", title_align="left"))
    parts.append(Panel(T(result.update["internal"]), title="Internal update", title_align="left"))
    for note in result.notes:
        parts.append(T(f"Note: {note}", "yellow"))
    return Group(*parts)


def markdown(result: Result) -> str:
    """The same result as a Markdown document (for `--output` and `--format markdown`)."""
    m, sev = result.matrix, result.severity.spec
    def when(moment: datetime) -> str:
        return local_time(moment, result.display)
    rules = {r.id: r for r, _ in m.severity_rules}
    def cell(s: object) -> str:
        return md(one_line(str(s)))
    lines = [
        f"# Triage: {md(result.ticket) if result.ticket else 'ticket without a reference'}",
        "",
        f"**{md(m.level_title(result.level))}**: {md(sev.definition)}",
        "",
        f"Triaged {md(when(result.at))} with {md(m.model.matrix.name)}, version {md(m.model.matrix.version)}.",
        "",
    ]
    if result.override_reason is not None:
        lines += [f"Changed from {md(m.level_name(result.computed.level))} by the agent: {md(result.override_reason)}",
                  ""]
    lines += ["## Why", ""]
    lines += [f"- {md(rules[rid].because)} (`{rid}`)" for rid in result.computed.rules]
    lines += ["", "## Deadlines", "", "| Target | Within | Due |", "|---|---|---|"]
    for name, target in promised(result):
        within = cell(span(result, target))
        due = cell(when(target.due)) if target.due else "-"
        if target.met is not None:
            due += f" (met {cell(when(target.met))})"
        lines.append(f"| {cell(TARGET_LABELS[name])} | {within} | {due} |")
    plan = f" ({md(m.plan_name(result.plan))} plan)" if result.plan is not None else ""
    lines += ["", f"Measured on the {md(m.calendar_name(result.terms_spec.calendar))} calendar{plan}.", "",
              "## Escalation path", "",
              "| By | Role | Action |", "|---|---|---|"]
    lines += [f"| {cell(when(due))} | {cell(m.role_name(role))} | {cell(action)} |" for role, action,
              due in result.steps]
    lines += ["", f"Owner of the next step: **{md(m.role_name(result.owner))}**", ""]
    if result.routes:
        lines += (
            ["## Bring in", ""] + [f"- **{md(m.role_name(r))}**: {md(reason)}" for _, r, reason in result.routes] + [""]
        )
    if result.notices:
        lines += ["## Tell", ""] + [f"- **{md(m.role_name(r))}**: {md(w)}" for r, w in result.notices] + [""]
    labels = {f.id: f.label for f in m.model.handoff_packet}
    lines += ["## Handoff packet", "", "| Field | Value |", "|---|---|"]
    lines += [f"| {cell(labels[k])} | {cell(v) if v is not None else '**missing**'} |" for k,
              v in result.packet.items()]
    lines += ["", "## Update for the customer", "", *blockquote(result.update["customer"])]
    lines += ["", "## Internal update", "", *blockquote(result.update["internal"])]
    lines += [f"\n_Note: {md(n)}_" for n in result.notes]
    return "\n".join(lines) + "\n"


def blockquote(text: str) -> list[str]:
    """A message as a Markdown block quote, its line breaks kept."""
    return [f"> {md(line)}  " for line in text.splitlines()]


def output(result: Result, *, now: datetime | None = None) -> Output:
    """The result in every format `triage ask` offers; in text, due times also say how far they are from `now`
    (default: the moment it is shown)."""
    return Output(result.to_json(), text=lambda: text(result, now=now), bodies={"markdown": lambda: markdown(result)})
