"""`triage review`: the guide's maintenance checklist as a filled-in Markdown document."""

from __future__ import annotations

from datetime import date, timedelta

from triage.audit import measure as audit_mod
from triage.exports.tickets import Ticket
from triage.matrix.loader import Matrix
from triage.render.audit import NAMES, mins, pct, rows
from triage.sanitize import markdown as md
from triage.sanitize import one_line


def review(matrix: Matrix, report: audit_mod.Audit, *, today: date, sample: int) -> str:
    info = matrix.model.matrix
    data = audit_mod.to_json(report)
    due = info.revised + timedelta(days=info.review_every_days)
    tickets: list[Ticket] = report.escalated_tickets[:sample]
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
           "", f"## The last {len(tickets)} escalated tickets", ""]
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
        out.append("No escalated tickets in the export.")
    crit = data["criteria"]
    out += ["", "## Severity definitions against real tickets", ""]
    if crit["with_answers"]:
        out.append(f"{len(crit['disagreements'])} of {crit['with_answers']} tickets with recorded answers got a "
                   "severity other than the matrix gives.")
        out += [f"- {md(one_line(d['ticket']))}: recorded {d['recorded']}, matrix {d['computed']}"
                + (f" (override: {md(one_line(d['override_reason']))})" if d["override_reason"] else " (no reason)")
                for d in crit["disagreements"][:20]]
    else:
        out.append("The export carries no triage answers; compare the sample above with the definitions by hand.")
    out += ["", "## Targets and update cadences", "", "| Severity | Target | Met | Share | Median | p90 | Target |",
            "|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows(data)]
    weak = [f"{level} {NAMES[name].lower()} ({pct(t['share_met'])})" for level, sev in data["severities"].items()
            for name, t in sev["targets"].items() if t["share_met"] is not None and t["share_met"] < 0.9]
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
    out += ["", "## Maintenance checklist", ""] + [f"- [ ] {md(item)}" for item in info.maintenance_checklist]
    out += ["", "## Review triggers seen since the last revision",
            ""] + [f"- [ ] {md(t)}" for t in info.review_triggers]
    return "\n".join(out) + "\n"
