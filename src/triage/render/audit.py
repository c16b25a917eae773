"""The audit and review reports as terminal text (tables and bar charts), Markdown and one HTML page."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from triage.matrix.durations import human_duration
from triage.matrix.wording import short_title
from triage.render.output import Output
from triage.sanitize import markdown as md
from triage.sanitize import one_line, visible

NAMES = {"acknowledge": "Acknowledge", "assign_owner": "Assign owner", "escalate": "Escalate", "resolution": "Resolve",
         "update": "Update cadence"}


def pct(share: float | None) -> str:
    """A share as a whole percentage, or `-` when there is none (shared by the reports)."""
    return "-" if share is None else f"{share * 100:.0f}%"


def mins(value: float | None, business: bool = False, *, suffix: bool = True) -> str:
    """Minutes in triage's duration wording (`1 h 30 min`, `3 d 2 h`, or `80 h of business time` on a business
    calendar, whose day is not 24 hours), or `-` (shared by the reports). Without `suffix`, a table whose row
    says business hours leaves the words off."""
    if value is None:
        return "-"
    return human_duration(timedelta(minutes=value), business=business, named=suffix)


def business(data: dict[str, Any], level: object) -> bool:
    """Whether a severity's targets count business hours (its calendar is not around the clock)."""
    sev = data["severities"].get(str(level))
    return bool(sev and sev.get("business_time"))


def late(b: dict[str, Any], data: dict[str, Any]) -> str:
    """How late a breach was, or for a promise never kept, how long overdue by the as-of time."""
    text = mins(b["late_minutes"], business(data, b["severity"]))
    return text if b["actual"] is not None else f"{text}, never done"


def bar(share: float | None, width: int = 12) -> str:
    if share is None:
        return " " * width
    full = round(share * width)
    return "█" * full + "░" * (width - full)


def rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per severity and promise: the compliance table every format shows. Durations on a business
    calendar are business time, and the severity says so."""
    out = []
    for level, sev in data["severities"].items():
        hours = business(data, level)
        for name, t in sev["targets"].items():
            if not t["measured"]:
                continue
            title = short_title(level, sev["label"], sev.get("name"))
            out.append([title + (" (business hours)" if hours else ""), NAMES[name],
                        f"{t['met']}/{t['measured']}", pct(t["share_met"]),
                        *(mins(t[k], hours, suffix=False)
                          for k in ("median_minutes", "p90_minutes", "target_minutes"))])
    return out


HEAD = ["Severity", "Promise", "Met", "Share", "Median", "p90", "Target"]


def findings(data: dict[str, Any], *, limit: int = 10) -> list[tuple[str, list[str]]]:
    """The other checks as (title, lines), shared by every format."""
    out: list[tuple[str, list[str]]] = []
    crit = data["criteria"]
    unreadable = crit.get("unreadable", 0)
    readable = crit["with_answers"] - unreadable
    lines = [f"{len(crit['disagreements'])} of {readable} tickets with readable answers disagree with the matrix"
             if readable else "The export carries no triage answers to re-check." if not unreadable else
             "No recorded answers could be re-checked."]
    if unreadable:
        lines.append(f"{unreadable} of {crit['with_answers']} tickets have answers the matrix cannot read (a column "
                     "named like a question holds something else?)")
        lines += [f"{u['ticket']}: {u['reason']}" for u in crit["unreadable_answers"][:min(limit, 3)]]
    lines += [f"{d['ticket']}: recorded {d['recorded']}, the matrix gives {d['computed']} ({', '.join(d['rules'])})"
              + (f"; override: {d['override_reason']}" if d["override_reason"] else "; no reason recorded")
              for d in crit["disagreements"][:limit]]
    lines += [f"{o['ticket']}: severity {o['severity']} overridden: {o['reason']}" for o in crit["overrides"][:limit]]
    out.append(("Severity against the criteria", lines))
    p = data["packets"]
    if p["with_packet_data"]:
        missing = ", ".join(f"{k} ({v})" for k, v in list(p["missing_fields"].items())[:6])
        out.append(("Handoff packets", [f"{p['complete']} of {p['with_packet_data']} escalated tickets had every "
                                        f"required field ({pct(p['share_complete'])})"
                                        + (f"; most often missing: {missing}" if missing else "")]))
    else:
        out.append(("Handoff packets", [f"{p['escalated']} escalated tickets; the export carries no packet fields "
                                        "(columns packet_<field>), so completeness was not measured."]))
    r = data["routing"]
    lines = [
        f"{len(r['bounced'])} tickets were reassigned {r['bounce_threshold']} times or more",
        f"time to assign: median {mins(r['to_assign_minutes']['median'])}, "
        f"p90 {mins(r['to_assign_minutes']['p90'])}; "
        f"assigned to escalated: median {mins(r['assign_to_escalate_minutes']['median'])}, "
        f"p90 {mins(r['assign_to_escalate_minutes']['p90'])}",
    ]
    lines += [
        f"{b['ticket']} (severity {b['severity']}): {b['reassignments']} reassignments" for b in r["bounced"][:limit]
    ]
    lines += [
        f"escalated to `{role}`, which is not a role of the matrix ({n} tickets)"
        for role, n in r["unknown_roles"].items()
    ]
    out.append(("Routing", lines))
    rep = data["repeated"]
    lines = [
        f"{c['tag']}: {c['escalations']} escalations between {c['from']} and {c['to']} ({', '.join(c['tickets'][:5])})"
        for c in rep["candidates"][:limit]
    ]
    out.append(
        (
            f"Repeated escalations (knowledge-base candidates, {rep['threshold']}+ in {rep['window_days']} days)",
            lines or ["None."],
        )
    )
    e = data["exceptions"]
    lines = [f"{k}: {v} tickets handled under it" for k, v in e["tickets"].items()]
    lines += [f"{k}: not an exception of the matrix" for k in e["unknown"]]
    lines += [f"{x['id']}: {x['problem']}" for x in e["matrix"]]
    out.append(("Exceptions", lines or ["No tickets under an exception; no exception of the matrix is expired."]))
    impossible = data.get("impossible_times", {})
    if impossible.get("count"):
        out.append((f"Impossible times ({impossible['count']}, not measured)",
                    [f"{i['ticket']} (severity {i['severity']}): {NAMES[i['target']].lower()} recorded at "
                     f"{i['recorded']}, before its creation at {i['created']}" for i in impossible["tickets"][:limit]]))
    for source in data.get("exports", []):
        repeated = source["repeated_references"]
        if repeated["references"]:
            out.append((f"Repeated ticket references in {source['file']}", [
                f"{repeated['references']:,} references are on more than one row ({repeated['rows']:,} rows, for "
                f"example {', '.join(repeated['examples'])}); each row was audited as a ticket. If the file has a "
                "row per event, read it with an event-log mapping."]))
    if data["unreadable_rows"]:
        out.append((f"Unreadable rows ({data['tickets']['unreadable']})",
                    [f"line {r['line']}: {r['reason']}" for r in data["unreadable_rows"][:limit]]))
    return out


def sources(data: dict[str, Any]) -> str:
    """Which mapping read each export, and why it was chosen."""
    return " ".join(f"{s['file']} was read with the mapping `{s['mapping']}` ({s['why']})."
                    for s in data.get("exports", []))


def summary(data: dict[str, Any]) -> str:
    t = data["tickets"]
    p = data["period"]
    span = f", created {p['first_ticket'][:10]} to {p['last_ticket'][:10]}" if p["first_ticket"] else ""
    as_of = f" Promises never kept count as missed once due before {p['as_of']}." if p.get("as_of") else ""
    return (f"{t['audited']:,} tickets audited{span} ({t['read']:,} read, {t['unreadable']:,} unreadable rows); "
            f"{len(data['breaches']):,} breaches, against {data['matrix']['name']} {data['matrix']['version']}."
            + as_of + (" " + sources(data) if data.get("exports") else ""))


def plans_note(plans: dict[str, Any]) -> str:
    where = f"the column `{plans['chosen_by']}`" if plans["chosen_by"] else "no column (the plan is given by flag)"
    return (f"Targets differ by support plan: each ticket is measured against its plan's, read from {where}, or "
            f"the {plans['default']} plan's where the export does not say; the Target column shows the "
            f"{plans['default']} plan's.")


def pauses_note(pauses: dict[str, Any]) -> str:
    names = ", ".join(NAMES.get("update" if t == "next_update" else t, t).lower() for t in pauses["targets"])
    waited = pauses["tickets_with_waits"]
    if waited:
        return (f"The matrix stops {names} while a ticket waits on the customer: {waited:,} ticket"
                f"{'s' if waited != 1 else ''} waited, and that time is not counted against them.")
    return (f"The matrix stops {names} while a ticket waits on the customer, but the export records no waits "
            "(`paused` and `resumed` activities of an event log): time spent waiting counts against those targets.")


def text(data: dict[str, Any], *, limit: int = 10) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text(visible(summary(data)), style="bold")]
    table = Table(box=box.SIMPLE_HEAD, title="Targets against actuals", title_justify="left", title_style="bold",
                  padding=(0, 1))
    for h, justify in (("Sev", "left"), ("Promise", "left"), ("Met", "right"), ("Share", "left"), ("Median", "right"),
                       ("p90", "right"), ("Target", "right")):
        table.add_column(h, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    short = {"Acknowledge": "Acknowledge", "Assign owner": "Assign", "Escalate": "Escalate", "Resolve": "Resolve",
             "Update cadence": "Updates"}
    for row in rows(data):
        share = None if row[3] == "-" else float(row[3].rstrip("%")) / 100
        colour = "green" if (share or 0) >= 0.9 else "yellow" if (share or 0) >= 0.7 else "red"
        table.add_row(
            Text(row[0].split()[0]),
            Text(short[row[1]]),
            Text(row[2]),
            Text.assemble((f"{row[3]:>4} ", ""), (bar(share, 8), colour)),
            *(Text(c) for c in row[4:]),
        )
    parts.append(table)
    counted = [level for level in data["severities"] if business(data, level)]
    if counted:
        parts.append(Text(f"Severit{'ies' if len(counted) > 1 else 'y'} {', '.join(counted)}: durations are "
                          "business time (open hours of the severity's calendar)."))
    if data.get("plans"):
        parts.append(Text(plans_note(data["plans"])))
    if data.get("pauses"):
        parts.append(Text(pauses_note(data["pauses"]), style="yellow"))
    if data["breaches"]:
        worst = sorted(data["breaches"], key=lambda b: -(b["late_minutes"] or 0))[:limit]
        breaches = Table(box=box.SIMPLE_HEAD, title=f"Worst breaches (of {len(data['breaches']):,})",
                         title_justify="left", title_style="bold")
        for h in ("Ticket", "Sev", "Target", "Late"):
            breaches.add_column(h)
        for b in worst:
            breaches.add_row(Text(visible(one_line(b["ticket"]))), Text(str(b["severity"])), Text(NAMES[b["target"]]),
                             Text(late(b, data)))
        parts.append(breaches)
    dist = data["acknowledge_distribution"]
    if any(d["tickets"] for d in dist):
        most = max(d["tickets"] for d in dist) or 1
        parts.append(Text("Time to acknowledge, all severities", style="bold"))
        for d in dist:
            label = f"{mins(d['from'])}+" if d["to"] is None else f"{mins(d['from'])} to {mins(d['to'])}"
            parts.append(Text(f"  {label:>16} {'█' * round(40 * d['tickets'] / most):<40} {d['tickets']:,}"))
    for title, lines in findings(data, limit=limit):
        parts.append(Text(""))
        parts.append(Text(visible(title), style="bold"))
        parts += [Text("  • " + visible(one_line(line))) for line in lines]
    return Group(*parts)


def markdown(data: dict[str, Any], *, limit: int = 20) -> str:
    out = ["# Escalation audit", "", md(summary(data)), "", "## Targets against actuals", "",
           "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(md(c, line_start=False) for c in row) + " |" for row in rows(data)]
    if data.get("plans"):
        out += ["", md(plans_note(data["plans"]))]
    if data.get("pauses"):
        out += ["", md(pauses_note(data["pauses"]))]
    if data["breaches"]:
        out += ["", f"## Worst breaches (of {len(data['breaches']):,})", "",
                "| Ticket | Severity | Target | Due | Actual | Late |", "|---|---|---|---|---|---|"]
        for b in sorted(data["breaches"], key=lambda b: -(b["late_minutes"] or 0))[:limit]:
            out.append(f"| {md(one_line(b['ticket']))} | {b['severity']} | {NAMES[b['target']]} | {b['due']} | "
                       f"{b['actual'] or 'never'} | {late(b, data)} |")
    for title, lines in findings(data, limit=limit):
        out += ["", f"## {md(title)}", ""] + [f"- {md(one_line(line))}" for line in lines]
    return "\n".join(out) + "\n"


def _svg_bars(items: Sequence[tuple[str, float | None]], *, width: int = 560, unit: str = "%") -> str:
    """A horizontal bar chart as inline SVG (no scripts, no external files)."""
    if not items:
        return "<p>Nothing measured.</p>"
    row_h, label_w = 26, 190
    height = row_h * len(items) + 10
    most = max((v or 0) for _, v in items) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        scale = 1.0 if unit == "%" else most
        w = 0 if value is None else (width - label_w - 70) * (value / scale)
        colour = "#2e7d32" if unit != "%" or (value or 0) >= 0.9 else "#f9a825" if (value or 0) >= 0.7 else "#c62828"
        shown = "-" if value is None else (f"{value * 100:.0f}%" if unit == "%" else f"{value:,.0f}")
        parts.append(f'<text x="0" y="{y + 17}" font-size="13">{html.escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16" fill="{colour}"/>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="13">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def page(data: dict[str, Any], *, limit: int = 50) -> str:
    from triage.render.publish import _CSS

    def e(s: object) -> str:
        return html.escape(visible(str(s)), quote=True)
    compliance = [
        (f"{short_title(level, sev['label'], sev.get('name'))} · {NAMES[name]}", t["share_met"])
        for level, sev in data["severities"].items()
        for name, t in sev["targets"].items()
        if t["measured"]
    ]
    dist = [
        (
            ("under " + mins(d["to"]))
            if d["from"] == 0
            else (f"{mins(d['from'])}+" if d["to"] is None else f"{mins(d['from'])}–{mins(d['to'])}"),
            float(d["tickets"]),
        )
        for d in data["acknowledge_distribution"]
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Escalation audit</title><style>{_CSS}</style></head><body>",
        "<h1>Escalation audit</h1>",
        f"<p>{e(summary(data))}</p>",
        "<h2>Share of targets met</h2>",
        f'<figure id="compliance">{_svg_bars(compliance)}</figure>',
        "<h2>Time to acknowledge</h2>",
        f'<figure id="acknowledge">{_svg_bars(dist, unit="tickets")}</figure>',
        "<h2>Targets against actuals</h2><table><thead><tr>"
        + "".join(f"<th>{e(h)}</th>" for h in HEAD)
        + "</tr></thead><tbody>",
    ]
    out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows(data)]
    out.append("</tbody></table>")
    if data["breaches"]:
        out.append(f"<h2>Worst breaches (of {len(data['breaches']):,})</h2><table><thead><tr><th>Ticket</th>"
                   "<th>Severity</th><th>Target</th><th>Due</th><th>Actual</th><th>Late</th></tr></thead><tbody>")
        for b in sorted(data["breaches"], key=lambda b: -(b["late_minutes"] or 0))[:limit]:
            out.append(f"<tr><td>{e(b['ticket'])}</td><td>{b['severity']}</td><td>{e(NAMES[b['target']])}</td>"
                       f"<td>{e(b['due'])}</td><td>{e(b['actual'] or 'never')}</td><td>{e(late(b, data))}</td></tr>")
        out.append("</tbody></table>")
    for title, lines in findings(data, limit=limit):
        out.append(f"<h2>{e(title)}</h2><ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def output(data: dict[str, Any]) -> Output:
    """The audit report in every format `triage audit` offers."""
    return Output(data, text=lambda: text(data), bodies={"markdown": lambda: markdown(data),
                                                         "html": lambda: page(data)})
