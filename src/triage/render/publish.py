"""`triage show`: the matrix as the team's readable operating procedure, built once as blocks and
rendered as terminal text, Markdown or one self-contained HTML page."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from triage.matrix.durations import human_duration
from triage.matrix.calendars import WeeklyHours, hours_text
from triage.matrix.loader import Matrix
from triage.matrix.wording import describe_cadence, describe_condition, short_title
from triage.render.output import Output
from triage.sanitize import markdown as md
from triage.sanitize import one_line, visible


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Bullets:
    items: list[str]
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Pre:
    text: str


Block = Heading | Para | Bullets | Table | Pre


NOT_PROMISED = "-"  # a target the level does not promise


def _targets_table(matrix: Matrix, plan: str | None) -> Table:
    """Every level's targets on a plan (None: a matrix without plans)."""
    rows = []
    for lvl in sorted(matrix.levels.values(), key=lambda s: s.level):
        t = matrix.targets(lvl.level, plan)
        business = matrix.business_time(t.calendar)
        def span(d: Any, business: bool = business) -> str:
            return human_duration(d, business=business, named=False)

        res = NOT_PROMISED if t.resolution is None else (
            t.resolution.expect + (f" within {span(t.resolution.within)}" if t.resolution.within else ""))
        rows.append([short_title(lvl.level, lvl.spec.label, lvl.spec.name), matrix.calendar_name(t.calendar)
                     + (" (open hours count)" if business else ""),
                     span(t.acknowledge),
                     *(NOT_PROMISED if d is None else span(d) for d in (t.assign_owner, t.escalate)),
                     describe_cadence(t.update_every, span) or NOT_PROMISED, res])
    return Table(["Severity", "Calendar", "Acknowledge", "Assign owner", "Escalate by", "Updates", "Resolution"], rows)


def _heading(matrix: Matrix, lvl: Any) -> str:
    name = matrix.level_name(lvl.level)
    return name if name.casefold() == lvl.spec.label.casefold() else f"{name}: {lvl.spec.label}"


def business_calendar(matrix: Matrix, spec: Any) -> bool:
    return matrix.business_time(spec.targets.calendar)


def document(matrix: Matrix, *, today: date) -> list[Block]:
    m = matrix.model
    info = m.matrix
    role = matrix.role_name
    due = info.revised + timedelta(days=info.review_every_days)
    blocks: list[Block] = [
        Heading(1, info.name),
        Para(f"Version {info.version}, revised {info.revised.isoformat()}, owned by {role(info.owner)}. "
             f"Next review due {due.isoformat()}" + (" (overdue)." if due < today else ".")),
        Heading(2, "When to start a severity review"),
        Bullets(list(m.triggers)),
        Heading(2, "Severity levels"),
    ]
    if info.severity_fixed:
        blocks.append(Para("A ticket keeps the severity it was opened with: a re-triage may correct its answers, "
                           "never its severity."))
    for lvl in sorted(matrix.levels.values(), key=lambda s: s.level):
        blocks += [Heading(3, _heading(matrix, lvl)), Para(lvl.spec.definition)]
        if lvl.spec.examples:
            blocks.append(Bullets([f"Example: {e}" for e in lvl.spec.examples]))
    blocks.append(Heading(2, "Response targets"))
    plans = m.plans
    if plans is None:
        blocks.append(_targets_table(matrix, None))
    else:
        chosen = (f"the answer to \u201c{matrix.question(plans.chosen_by).ask}\u201d (or --plan)" if plans.chosen_by
                  else "--plan")
        blocks.append(Para(f"Targets depend on the customer's support plan, chosen by {chosen}; a ticket without one "
                           f"is on {matrix.plan_name(plans.default)}."))
        for pid in plans.tiers:
            blocks += [Heading(3, f"Plan: {matrix.plan_name(pid)}"), _targets_table(matrix, pid)]
    if info.pauses:
        from triage.engine.followup import PROMISES

        blocks.append(Para("While a ticket waits on the customer (from triage pause to triage resume), these "
                           "targets stop and keep the time they had left: "
                           + ", ".join(PROMISES[name] for name in info.pauses) + "."))
    blocks += [
               Heading(3, "Calendars")]
    blocks.append(Bullets(_calendar_items(matrix, today)))

    qrows = []
    for q in m.questions:
        kind, _choices = matrix.kinds[q.id]
        answers = (
            "yes / no"
            if kind == "yes_no"
            else (" / ".join(q.choices.values()) + (" (any number)" if kind == "any_of" else ""))
        )
        when = describe_condition(matrix, matrix.applies[q.id]) if q.id in matrix.applies else "always"
        note = {"routing": " Routing only; never changes severity.",
                "record": " Recorded with the ticket; decides nothing."}.get(q.affects, "")
        qrows.append([q.id, q.ask, answers, when, q.help + note])
    blocks += [Heading(2, "Triage questions"), Table(["Id", "Question", "Answers", "Asked when", "Help"], qrows),
               Heading(2, "How severity is decided"),
               Para("Each rule sets a minimum severity; the most severe rule that matches wins."),
               Table(["Rule", "When", "At least", "Why"],
                     [[r.id, describe_condition(matrix, c), str(r.at_least),
                       r.because + (f" A deliberate dip: {r.intended_dip}" if r.intended_dip else "")]
                      for r, c in matrix.severity_rules]),
               Heading(2, "Routing and escalation")]
    for lvl in sorted(matrix.levels.values(), key=lambda s: s.level):
        r = lvl.spec.routing
        blocks += [Heading(3, _heading(matrix, lvl)),
                   Para(f"Received by {role(r.receives)}; severity approved by {role(r.approves)}; "
                        f"owned after the handoff by {role(r.owner)}."),
                   Table(["After", "Role", "Action"],
                         [[human_duration(s.after, business=business_calendar(matrix, lvl.spec)), role(s.role),
                           s.action] for s in r.steps])]
        if r.notify:
            blocks.append(Bullets([f"Tell {role(n.role)}: {n.when}" for n in r.notify]))
    blocks += [Heading(2, "Cross-functional routes"),
               Table(["Route", "When", "Brings in", "Why"],
                     [[rt.id, describe_condition(matrix, c), role(rt.role) + (" (told)" if rt.notify else ""),
                       rt.reason] for rt, c in matrix.routes]),
               Heading(2, "Roles"),
               Table(["Id", "Role", "Reached at"], [[rid, r.name, r.where] for rid, r in m.roles.items()]),
               Heading(2, "Communication"),
               Para(f"Internal updates are posted by {role(m.communication.internal_updates.posted_by)} in "
                    f"{m.communication.internal_updates.where}.")]
    titles = {"under_review": "While the severity is under review", "escalated": "When the ticket is escalated",
              "update": "Each customer update", "internal_update": "Each internal update", "resolved": "At resolution"}
    for stage, text in m.communication.templates.items():
        blocks += [Heading(3, titles.get(stage, stage)), Pre(text)]
    blocks += [Heading(2, "Handoff packet")]
    if m.handoff_packet:
        blocks.append(Para("Every handoff carries these fields; missing ones are named."))
    blocks += [Bullets([f.label + (" (at closure)" if f.stage == "resolution" else "")
                        + (f": {f.help}" if f.help else "") for f in m.handoff_packet])]
    if m.handoff_points:
        labels = {f.id: f.label for f in m.handoff_packet}
        blocks += [Heading(3, "Handoff points"),
                   Table(["Handoff", "To", "Must carry"],
                         [[p.label, ", ".join(role(r) for r in p.to), ", ".join(labels[f] for f in p.requires)]
                          for p in m.handoff_points])]
    blocks += [Heading(2, "Closing the loop"),
               Bullets([c.item + (" (if known)" if c.optional else "") for c in m.closure_checklist], numbered=True),
               Heading(2, "Exceptions in force")]
    live = [e for e in m.exceptions if e.expires is None or e.expires >= today]
    if live:
        blocks.append(Table(["Exception", "Scope", "Changes", "Reason", "Approver", "Expires"],
                            [[e.id, _scope(e), _changes(e), e.reason, role(e.approver) if e.approver else "none",
                              e.expires.isoformat() if e.expires else "never"] for e in live]))
    else:
        blocks.append(Para("None."))
    blocks += [Heading(2, "Keeping this matrix current"),
               Para(f"{role(info.owner)} owns this document and reviews it every {info.review_every_days} days."),
               Heading(3, "Review it early when"), Bullets(list(info.review_triggers)),
               Heading(3, "Maintenance checklist"), Bullets(list(info.maintenance_checklist), numbered=True)]
    return _without_empty_sections(blocks)


def _calendar_items(matrix: Matrix, today: date) -> list[str]:
    """Each calendar: its hours, and its holidays from today on (public ones for the coming year)."""
    cal_items = []
    for cid, spec in matrix.model.calendars.items():
        text = f"{matrix.calendar_name(cid)}: {matrix.calendars[cid].describe()}"
        if spec.public_holidays:
            text += f"; public holidays of {spec.public_holidays.country}" + (
                f"-{spec.public_holidays.subdivision}" if spec.public_holidays.subdivision else "")
        built = matrix.calendars[cid]
        ahead = built.closed_days(today, max([today + timedelta(days=365)] + [h.date for h in spec.holidays])) \
            if isinstance(built, WeeklyHours) else []
        if ahead:
            text += ". Holidays ahead: " + "; ".join(
                f"{d.isoformat()} {name}".rstrip() + (f" (open {hours_text(hours)})" if hours else " (closed)")
                for d, name, hours in ahead)
        cal_items.append(text)
    return cal_items


def _without_empty_sections(blocks: list[Block]) -> list[Block]:
    """The document without empty lists and tables, and without headings left with nothing under them (a matrix
    with no routes, no handoff points or no review triggers shows no heading for them)."""
    kept: list[Block] = []
    for block in reversed(blocks):
        if (isinstance(block, Bullets) and not block.items) or (isinstance(block, Table) and not block.rows):
            continue
        if isinstance(block, Heading) and (not kept or (isinstance(kept[-1], Heading)
                                                        and kept[-1].level <= block.level)):
            continue
        kept.append(block)
    return kept[::-1]


def _scope(e: Any) -> str:
    s = e.scope
    parts = [f"account {s.account}" if s.account else "", f"segment {s.segment}" if s.segment else "",
             f"from {s.starts.isoformat()}" if s.starts else "", f"until {s.ends.isoformat()}" if s.ends else ""]
    return ", ".join(p for p in parts if p) or "everyone"


def _changes(e: Any) -> str:
    c = e.changes
    parts = [f"{sid} {name} {human_duration(d)}" for sid, t in c.targets.items() for name, d in t.items()]
    parts += [f"{sid} updates every {human_duration(d)}" for sid, d in c.update_every.items()]
    if c.notify:
        parts.append("also tell " + ", ".join(c.notify))
    return "; ".join(parts) or "nothing"


# ---------------------------------------------------------------------------------------------- renderers


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    def cell(s: str) -> str:
        return md(one_line(s), line_start=False)  # inside a table row nothing starts a line
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + md(b.text), ""]
        elif isinstance(b, Para):
            out += [md(b.text), ""]
        elif isinstance(b, Bullets):
            out += [(f"{i}. " if b.numbered else "- ") + md(item) for i, item in enumerate(b.items, 1)] + [""]
        elif isinstance(b, Table):
            out += ["| " + " | ".join(cell(h) for h in b.headers) + " |", "|" + "---|" * len(b.headers)]
            out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in b.rows] + [""]
        else:
            fence = "~~~~" if "```" in b.text else "```"
            out += [fence + "text", visible(b.text).replace("~~~~", "~ ~~~"), fence, ""]
    return "\n".join(out)


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#1b1f24}
h1{border-bottom:3px solid #1b1f24;padding-bottom:.3rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:14px}
th,td{border:1px solid #ccd;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#eef1f5}
pre{background:#f6f8fa;border:1px solid #ddd;padding:.75rem;white-space:pre-wrap}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}table,pre{break-inside:avoid}}
"""


def to_html(blocks: list[Block], title: str) -> str:
    def e(s: str) -> str:
        return html.escape(visible(s), quote=True)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            tag = "ol" if b.numbered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + f"</{tag}>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            out.append(f"<pre>{e(b.text)}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def to_rich(blocks: list[Block]) -> Any:
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table as RichTable
    from rich.text import Text

    parts: list[Any] = []
    for b in blocks:
        if isinstance(b, Heading):
            style = {1: "bold reverse", 2: "bold underline", 3: "bold"}.get(b.level, "bold")
            parts += [Text(""), Text(visible(b.text), style=style)]
        elif isinstance(b, Para):
            parts.append(Text(visible(b.text)))
        elif isinstance(b, Bullets):
            parts += [Text((f"{i}. " if b.numbered else "• ") + visible(item)) for i, item in enumerate(b.items, 1)]
        elif isinstance(b, Table):
            table = RichTable(box=box.SIMPLE_HEAD, show_lines=False)
            for h in b.headers:  # a narrow terminal wraps a long word rather than cut it
                table.add_column(Text(h, overflow="fold"), overflow="fold")
            for row in b.rows:
                table.add_row(*(Text(visible(c), overflow="fold") for c in row))
            parts.append(table)
        else:
            parts.append(Padding(Text(visible(b.text), style="cyan"), (0, 0, 0, 2)))
    return Group(*parts)


def output(matrix: Matrix, *, today: date) -> Output:
    """The published matrix in every format `triage show` offers."""
    blocks = document(matrix, today=today)
    return Output(None, text=lambda: to_rich(blocks), bodies={
        "markdown": lambda: to_markdown(blocks), "html": lambda: to_html(blocks, matrix.model.matrix.name)})
