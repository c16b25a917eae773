"""`triage review`: the guide's maintenance checklist as a filled-in Markdown document."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from triage.audit import measure as audit_mod
from triage.exports.tickets import Ticket
from triage.matrix.loader import Matrix
from triage.render.audit import HEAD, NAMES, mins, pct, rows
from triage.sanitize import markdown as md
from triage.sanitize import one_line


def review(matrix: Matrix, report: audit_mod.Audit, *, today: date, sample: int) -> str:
    info = matrix.model.matrix
    data = audit_mod.to_json(report)
    due = info.revised + timedelta(days=info.review_every_days)
    tickets: list[Ticket] = report.escalated_tickets[:sample]
    what = "escalated tickets"
    if not report.escalated and report.severe_tickets:  # the export records no escalations: read the severest
        tickets, what = report.severe_tickets[:sample], (f"severity 1 to {audit_mod.SEVERE} tickets (the export "
                                                          "records no escalations)")
    sample_report = audit_mod.run(matrix, tickets, audit_mod.Options(today=today))
    breached: dict[str, list[str]] = {}
    for ticket, _, name, *_ in sample_report.breaches:
        breached.setdefault(ticket, []).append(NAMES[name].lower())
    disagreements = {d[0]: d for d in sample_report.disagreements}
    role = matrix.role_name
    out = [f"# Matrix review: {md(info.name)}, version {md(info.version, line_start=False)}", "",
           f"Prepared {today.isoformat()} from {data['tickets']['audited']:,} audited tickets.", "",
           "## Ownership and revision", "",
           f"- Owner: {md(role(info.owner))}",
           f"- Last revised: {info.revised.isoformat()}; reviewed every {info.review_every_days} days",
           f"- Next review due: {due.isoformat()}" + (f" (**overdue by {(today - due).days} days**)" if due < today
                                                        else " (not yet due)"),
           "", f"## The last {len(tickets)} {what}", ""]
    if tickets:
        out += ["| Ticket | Created | Severity | Matrix says | Targets missed | Reassignments | Tags |",
                "|---|---|---|---|---|---|---|"]
        for t in tickets:
            says = "-" if not t.answers else (f"**{disagreements[t.ticket][2]}**" if t.ticket in disagreements
                                               else str(t.level))
            out.append(f"| {md(one_line(t.ticket))} | {t.created.date().isoformat()} | {t.level} | {says} | "
                       f"{md(', '.join(breached.get(t.ticket, [])) or 'none')} | {t.reassignments} | "
                       f"{md(one_line(', '.join(t.tags)))} |")
    else:
        out.append("No escalated or severity 1 to 2 tickets in the export.")
    crit = data["criteria"]
    out += ["", "## Severity definitions against real tickets", ""]
    readable = crit["with_answers"] - crit["unreadable"]
    if readable:
        out.append(f"{len(crit['disagreements'])} of {readable} tickets with readable answers got a "
                   "severity other than the matrix gives.")
        out += [f"- {md(one_line(d['ticket']))}: recorded {d['recorded']}, matrix {d['computed']}"
                + (f" (override: {md(one_line(d['override_reason']))})" if d["override_reason"] else " (no reason)")
                for d in crit["disagreements"][:20]]
    else:
        out.append("The export carries no answers the matrix can read; compare the sample above with the "
                   "definitions by hand.")
    if crit["unreadable"]:
        out.append(f"{crit['unreadable']} of {crit['with_answers']} tickets have answers the matrix cannot read "
                   "(listed under Rows and values not audited).")
    out += ["", "## Targets and update cadences", "", "| " + " | ".join(HEAD) + " |",
            "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(md(c, line_start=False) for c in row) + " |" for row in rows(data)]
    weak = [f"severity {level} {NAMES[name].lower()} ({pct(t['share_met'])})"
            for level, sev in data["severities"].items() for name, t in sev["targets"].items()
            if t["share_met"] is not None and t["share_met"] < 0.9]
    out += ["", "Below 90%: " + (md(", ".join(weak)) if weak else "none.")]
    r = data["routing"]
    out += [
        "",
        "## Routing mistakes and handoff delays",
        "",
        f"- {len(r['bounced'])} tickets reassigned {r['bounce_threshold']} times or more",
        f"- Time to assign: median {mins(r['to_assign_minutes']['median'])}, "
        f"p90 {mins(r['to_assign_minutes']['p90'])}",
        f"- Assigned to escalated: median {mins(r['assign_to_escalate_minutes']['median'])}, "
        f"p90 {mins(r['assign_to_escalate_minutes']['p90'])}",
    ]
    out += [f"- {md(one_line(b['ticket']))}: {b['reassignments']} reassignments" for b in r["bounced"][:10]]
    out += ["", "## Escalation paths and roles", ""]
    named = sorted({s.role for lvl in matrix.levels.values() for s in lvl.spec.routing.steps}
                   | {rt.role for rt, _ in matrix.routes})
    out += [f"- {md(role(rid))} (`{rid}`), reached at {md(matrix.model.roles[rid].where)}" for rid in named]
    out += [f"- **`{md(rid)}`** is named in {n} tickets but is not a role of the matrix"
            for rid, n in r["unknown_roles"].items()] or []
    out += ["", "Confirm each role above is still staffed.", "", "## Repeated escalations", ""]
    out += [f"- {md(c['tag'])}: {c['escalations']} escalations from {c['from'][:10]} to {c['to'][:10]}: "
            "a knowledge-base article?" for c in data["repeated"]["candidates"][:15]] or ["None."]
    e = data["exceptions"]
    out += ["", "## Exceptions", ""]
    out += [f"- {md(x['id'])}: {md(x['problem'])}" for x in e["matrix"]] or ["- No exception is expired or unapproved."]
    out += [f"- {md(k)}: {v} tickets" for k, v in e["tickets"].items()]
    out += not_audited(data)
    done = done_here(data)
    out += ["", "## Maintenance checklist", ""] + [tick(item, done) for item in info.maintenance_checklist]
    out += ["", "## Review triggers seen since the last revision",
            ""] + [f"- [ ] {md(t)}" for t in info.review_triggers]
    return "\n".join(out) + "\n"


def not_audited(data: dict[str, Any]) -> list[str]:
    """What the audit read but could not measure: unreadable rows and answers, impossible times, repeated
    references; each listed, so the review can follow them up."""
    out = ["", "## Rows and values not audited", ""]
    out += [f"- line {r['line']}: {md(one_line(r['reason']))}" for r in data["unreadable_rows"]]
    if data["tickets"]["unreadable"] > len(data["unreadable_rows"]):
        out.append(f"- and {data['tickets']['unreadable'] - len(data['unreadable_rows']):,} more unreadable rows")
    out += [f"- {md(one_line(u['ticket']))}: answers not readable: {md(one_line(u['reason']))}"
            for u in data["criteria"]["unreadable_answers"]]
    out += [f"- {md(one_line(i['ticket']))}: {NAMES[i['target']].lower()} recorded at {i['recorded']}, before its "
            f"creation at {i['created']} (not measured)" for i in data["impossible_times"]["tickets"]]
    for source in data["exports"]:
        repeated = source["repeated_references"]
        if repeated["references"]:
            out.append(f"- {md(one_line(source['file']))}: {repeated['references']:,} ticket references are on more "
                       f"than one row ({repeated['rows']:,} rows, e.g. "
                       f"{md(one_line(', '.join(repeated['examples'])))}): an event log read as tickets?")
    return out if len(out) > 3 else [*out, "None: every row was read and every time was possible."]


# A checklist item triage has done in this document, by the words that name it: the section that shows it and
# whether the export gave it anything to measure. Items a person must do (read, confirm staffing, refresh texts)
# stay open.
DONE_BY = (
    (("response target", "update cadence"), "Targets and update cadences",
     lambda d: any(t["measured"] for s in d["severities"].values() for t in s["targets"].values())),
    (("severity definition",), "Severity definitions against real tickets",
     lambda d: d["criteria"]["with_answers"] > d["criteria"]["unreadable"]),
    (("routing mistake", "handoff delay"), "Routing mistakes and handoff delays",
     lambda d: d["tickets"]["audited"] > 0),
)


def done_here(data: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    return [(words, section) for words, section, measured in DONE_BY if measured(data)]


def tick(item: str, done: list[tuple[tuple[str, ...], str]]) -> str:
    text = item.lower()
    for words, section in done:
        if any(w in text for w in words):
            return f"- [x] {md(item)} (done above: {section})"
    return f"- [ ] {md(item)}"
