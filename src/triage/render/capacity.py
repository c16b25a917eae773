"""`triage capacity` reports: terminal text with week heatmaps, Markdown, and one HTML page."""

from __future__ import annotations

import html
from typing import Any

from triage.matrix.wording import short_title
from triage.render.audit import pct
from triage.render.output import Output
from triage.sanitize import markdown as md
from triage.sanitize import visible

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
STEPS = {"acknowledge": "acknowledge", "assign_owner": "ownership", "update": "update"}


def _target(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.0f} h" if minutes % 60 == 0 else f"{minutes / 60:.1f} h"


def summary(data: dict[str, Any]) -> list[str]:
    """The lead's answer in a few sentences: can the team keep the targets, and what would it take."""
    d = data["demand"]
    per = ", ".join(f"{s['severity']} {s['tickets']:,}" for s in d["per_severity"] if s["tickets"])
    source = ("history" if d["source"] == "history" else
              f"rates given on the command line, from the week of {d['from'][:10]} (--start)" if d["from"] else
              "rates given on the command line")
    lines = [f"{data['matrix']['name']} {data['matrix']['version']} against roster {data['roster']['name']}: "
             f"{d['tickets']:,} tickets from {source} over {d['weeks']:g} week{'s' * (d['weeks'] != 1)} ({per})."]
    lines += [f"Warning: {w}." for w in d.get("warnings", [])]
    measured = [e for e in data["effort"] if e["source"] == "history"]
    if measured:
        lines.append("Efforts scaled to the time the help desk tracked on "
                     f"{sum(e['tracked_tickets'] for e in measured):,} tickets: " + ", ".join(
                         f"{e['severity']} x{e['factor']:.2f}" for e in measured) + " the roster's.")
    goal = data["goal"]
    short = [r for r in data["targets"] if not r["meets_goal"]]
    if not short:
        lines.append(f"Replay: every target is met for at least {pct(goal)} of the work with today's roster.")
    else:
        names = "; ".join(f"{r['severity']} {STEPS[r['target']]} {pct(r['replay'])}" for r in short)
        lines.append(f"Replay: {len(short)} of {len(data['targets'])} targets fall short of {pct(goal)} with today's "
                     f"roster: {names}.")
    missed = [r for r in data["targets"] if r.get("history") is not None and r["history"] < goal]
    process = [r for r in missed if r["meets_goal"]]
    staffing = [r for r in missed if not r["meets_goal"]]
    if process:
        lines.append("Missed in the export but kept in the replay, so not a matter of headcount (look at routing, "
                     "handoffs, habits): " + "; ".join(f"{r['severity']} {STEPS[r['target']]} {pct(r['history'])} "
                                                      f"against {pct(r['replay'])}" for r in process) + ".")
    if staffing:
        lines.append("Missed in the export and in the replay, so short of people: " + "; ".join(
            f"{r['severity']} {STEPS[r['target']]} {pct(r['history'])}" for r in staffing) + ".")
    low = [r for r in data["targets"] if r["queueing"] is not None and r["queueing"] < goal]
    if low:
        lines.append(f"Queueing estimate (each hour on its own): {len(low)} below {pct(goal)}: " + "; ".join(
            f"{r['severity']} {STEPS[r['target']]} {pct(r['queueing'])}" for r in low) + ".")
    else:
        lines.append(f"Queueing estimate (each hour on its own): every target at {pct(goal)} or more.")
    apart = [r for r in data["targets"] if r.get("believe")]
    if firm := [r for r in apart if r["believe"] == "replay"]:
        lines.append("Estimate and replay differ by more than 10 points on " + "; ".join(
            f"{r['severity']} {STEPS[r['target']]} ({pct(r['queueing'])} against {pct(r['replay'])})" for r in firm)
            + ": believe the replay, which follows each ticket through shifts, holidays, handoffs and bursts, where "
              "the estimate takes each hour alone as if its load were steady.")
    if thin := [r for r in apart if r["believe"] == "neither"]:
        lines.append("Estimate and replay differ by more than 10 points on " + "; ".join(
            f"{r['severity']} {STEPS[r['target']]} ({pct(r['queueing'])} against {pct(r['replay'])}, "
            f"{r['tasks']:,} tasks)" for r in thin) + ": too few tasks for either figure to be firm; give more "
            "history or --weeks.")
    change = data["goal_change"]
    if change["add"]:
        people = change["people_hours_per_week"]
        checked = ""
        if "replay_meets_goal" in change:
            checked = (" Replayed with them, every target reaches the goal." if change["replay_meets_goal"]
                       else " Replayed with them, some targets still fall short: " + "; ".join(
                           f"{r['severity']} {STEPS[r['target']]} {pct(r['share'])}" for r in change["replay_after"]
                           if r["share"] is not None and r["share"] < goal) + " (bursts the estimate averages out).")
        lines.append(f"Smallest change for {pct(goal)} in every hour: {people:,} more people-hours a week "
                     f"(listed below).{checked}")
    elif short:
        lines.append("The queueing estimate finds no hour short of people: the misses come from bursts, holidays "
                     "or shift edges that only the replay sees" + (" (see the worst hours)." if worst_lines(data)
                                                                   else "."))
    found = change.get("replay_search")
    if found and found["add"]:
        lines.append(f"Replay search: {found['people_hours_per_week']:,} more people-hours a week "
                     + ("reach the goal for every target" if found["reached"]
                        else f"still leave targets short after {found['replays']} replays (the search stops after "
                             f"{found['most_replays']} on this much demand)") + " (listed below).")
    if change["out_of_reach"]:
        reasons = sorted({r["reason"] for r in change["out_of_reach"]})
        lines.append("No number of people reaches the goal where " + "; ".join(reasons) + ".")
    return lines


def target_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[f"{r['severity']} {r['label']}" if r["name"] == f"Severity {r['level']}" else
             short_title(r["level"], r["label"], r["name"]), STEPS[r["target"]], _target(r["minutes"]), r["role"],
             f"{r['tasks']:,}", pct(r["queueing"]), pct(r["replay"]), pct(r.get("history")),
             "yes" if r["meets_goal"] else "no"] for r in rows]


HEAD = ["Severity", "Work", "Target", "Role", "Tasks", "Queueing", "Replay", "History", "Meets goal"]


def worst_lines(data: dict[str, Any]) -> list[str]:
    """Per target, the hours of the week below the goal: the replay's (with the tickets behind each figure)
    and the queueing estimate's."""
    out = []
    for r in data["targets"]:
        bad = [w for w in r["worst_hours"] if w["replay"] < data["goal"]]
        low = [w for w in r.get("worst_hours_queueing", []) if w["queueing"] < data["goal"]]
        if bad or low:
            parts = []
            if bad:
                parts.append("replay " + ", ".join(f"{w['when']} {pct(w['replay'])} of {w['tasks']:,}" for w in bad))
            if low:
                parts.append("queueing " + ", ".join(f"{w['when']} {pct(w['queueing'])}" for w in low))
            out.append(f"{r['severity']} {STEPS[r['target']]}: " + "; ".join(parts))
    return out


def change_lines(items: list[dict[str, Any]], sign: str = "+") -> list[str]:
    return [f"{sign}{c['change']} {c['role']}: {c['hours']}" for c in items]


def persons(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


def net_hours(n: int) -> str:
    """A change in people-hours a week, never `-18 more`."""
    if n == 0:
        return "no change in people-hours a week"
    return f"{abs(n):,} {'more' if n > 0 else 'fewer'} people-hour{'s' * (abs(n) != 1)} a week"


def shift_lines(items: list[dict[str, Any]], replayed: dict[str, Any] | None = None, goal: float = 0.0
                ) -> list[str]:
    """The same change in the roster's shifts: people to add to each shift to cover all its hours; and, when
    the advice was replayed as shifts, what it reaches."""
    out = []
    for c in items:
        if c["shift"] is None:
            out.append(f"{c['role']}, hours no shift covers ({c['note']}): {persons(c['add'])}")
        else:
            note = f", {c['note']}" if c["note"] else ""
            out.append(f"{c['role']} {c['shift']} ({c['people']} now{note}): +{c['add']}")
    if replayed is not None:
        short = [r for r in replayed["targets"] if r["share"] is not None and r["share"] < goal]
        out.append("replayed as these shifts (off on their holidays): every target reaches the goal" if not short
                   else "replayed as these shifts (off on their holidays), still short: " + "; ".join(
                       f"{r['severity']} {STEPS[r['target']]} {pct(r['share'])}" for r in short))
    return out


def what_if_lines(w: dict[str, Any], goal: float) -> list[str]:
    rows = [r for r in w["targets"] if r["severity"] == w["severity"] and r["target"] == w["target"]]
    lines = [f"{r['severity']} {STEPS[r['target']]} within {_target(r['minutes'])}: queueing {pct(r['queueing'])}, "
             f"replay {pct(r['replay'])} with today's roster" for r in rows]
    if w.get("out_of_reach"):
        reasons = sorted({r["reason"] for r in w["out_of_reach"]})
        lines.append(f"out of reach: no number of people keeps the goal where {'; '.join(reasons)} "
                     f"({w['out_of_reach_hours']})")
    if w["cost"]:
        lines.append(f"queueing estimate, to keep the goal in every hour: {net_hours(w['people_hours_per_week'])}"
                     + (" overall (more people in some hours, fewer in others)" if w.get("saving") else ""))
        lines += ["  " + line for line in change_lines(w["cost"])]
        lines += ["  " + line for line in change_lines(w.get("saving", []), "-")]
        shifts = w.get("cost_per_shift", [])
        lines += ["  by shift: " + line for line in shift_lines(shifts)]
        if w.get("cost_per_shift_replay") is not None:
            lines += ["  " + line for line in shift_lines([], w["cost_per_shift_replay"], goal)]
    elif w["people_hours_per_week"] < 0:
        lines.append(f"queueing estimate: a looser target frees {-w['people_hours_per_week']:,} people-hours a week")
        lines += ["  " + line for line in change_lines(w["saving"], "-")]
    elif not w.get("out_of_reach"):
        lines.append("queueing estimate: no extra people needed to keep the goal")
    found = w.get("replay_search")
    if found is not None:
        extra = found["extra_over_today"]
        lines.append(f"replay: {extra:,} more people-hours a week than today's targets need" if extra > 0 else
                     "replay: no more people than today's targets need" if extra == 0 else
                     f"replay: {-extra:,} fewer people-hours a week than today's targets need")
        lines += ["  " + line for line in shift_lines(found["per_shift"])]
        if not found["reached"]:
            lines.append(f"replay: still short of the goal after {found['replays']} replays")
    return lines


def change_sections(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The smallest changes that reach the goal, by each model."""
    goal = pct(data["goal"])
    change = data["goal_change"]
    out = []
    if change["add"]:
        out.append((f"Smallest change for {goal} in every hour (queueing estimate)", change_lines(change["add"])))
        out.append(("The same, by shift", shift_lines(change["per_shift"], change.get("per_shift_replay"),
                                                      data["goal"])))
    found = change.get("replay_search")
    if found and found["add"]:
        out.append(("Change found by replaying (people added to the shifts where late work waited)",
                    shift_lines(found["per_shift"], found.get("per_shift_replay"), data["goal"])))
        out.append(("The same, by hours of the week", change_lines(found["add"])))
    return out


def heat(share: float | None, goal: float) -> str:
    if share is None:
        return "dim"
    if share >= goal:
        return "black on green"
    if share >= goal - 0.1:
        return "black on yellow"
    return "white on red"


def heatmap_rows(role: dict[str, Any]) -> list[tuple[str, list[tuple[str, float | None]]]]:
    """Seven rows of 24 cells: (people on duty as text, share on time in the queueing estimate or None)."""
    out = []
    for day in range(7):
        cells = []
        for hour in range(24):
            c = role["hours"][day * 24 + hour]
            people = c["people"]
            cells.append((f"{people:>2}" if people < 100 else "99", c["queueing"] if c["tasks_per_week"] else None))
        out.append((DAYS[day], cells))
    return out


def text(data: dict[str, Any]) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    goal = data["goal"]
    parts: list[Any] = [Text(visible(line), style="bold" if i == 0 else "") for i, line in enumerate(summary(data))]
    table = Table(box=box.SIMPLE_HEAD, title=f"Share of work on time (goal {pct(goal)}; history: as the export "
                  "shows it)", title_justify="left",
                  title_style="bold", padding=(0, 1), pad_edge=False)
    for h, justify in (("Sev", "left"), ("Work", "left"), ("Target", "right"), ("Role", "left"), ("Tasks", "right"),
                       ("Queue", "right"), ("Replay", "right"), ("History", "right")):
        table.add_column(h, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in data["targets"]:
        style = "" if r["meets_goal"] else "bold red"
        table.add_row(Text(r["severity"]), Text(STEPS[r["target"]]), Text(_target(r["minutes"])),
                      Text(visible(r["role"])), Text(f"{r['tasks']:,}"), Text(pct(r["queueing"])),
                      Text(pct(r["replay"]), style=style), Text(pct(r.get("history"))))
    parts.append(table)
    worst = worst_lines(data)
    if worst:
        parts.append(Text("Worst hours of the week (hour the work appeared)", style="bold"))
        parts += [indented("• " + visible(line), 2) for line in worst]
    for role in data["roles"]:
        if not any(c["tasks_per_week"] for c in role["hours"]):
            continue
        parts.append(Text(""))
        peak = pct(role["peak_occupancy"]) if role["peak_occupancy"] is not None else "-"
        parts.append(Text(visible(f"{role['role']}: {role['people_hours_per_week']:,} people-hours a week, "
                                  f"peak occupancy {peak}"), style="bold"))
        if role["overloaded_hours"]:
            parts.append(indented(visible(f"more work than people: {role['overloaded_hours']}"), 2, style="red"))
        header = Text("     ")
        for hour in range(0, 24, 3):
            header.append(f"{hour:02d}".ljust(9))
        parts.append(header)
        for day, cells in heatmap_rows(role):
            line = Text(f"{day}  ")
            for people, share in cells:
                line.append(f"{people}{mark(share, goal)}", style=heat(share, goal))
            parts.append(line)
    parts.append(Text("  digits: people on duty; `!` after an hour whose work is below the goal in the queueing "
                      "estimate, `~` within 10 points of it (in colour also: green met, yellow within 10 points, "
                      "red below, grey no work)", style="dim"))
    for title, items in change_sections(data):
        parts.append(Text(""))
        parts.append(Text(visible(title), style="bold"))
        parts += [indented(visible(line), 2) for line in items]
    for w in data["what_if"]:
        parts.append(Text(""))
        parts.append(Text(visible(f"What if {w['change']} (now {_target(w['from_minutes'])})"), style="bold"))
        parts += [indented(visible(line), 2) for line in what_if_lines(w, data["goal"])]
    return Group(*parts)


def indented(text: str, left: int, *, hang: int = 2, style: str = "") -> Any:
    """A line set in from the left whose wrapped continuation lines sit `hang` further in, under its words (a
    line with leading spaces of its own keeps them)."""
    body = text.lstrip(" ")
    return Hanging(body, left + len(text) - len(body), hang, style)


class Hanging:
    """Text wrapped to the console's width with a hanging indent (rich wraps continuation lines to the edge)."""

    def __init__(self, text: str, left: int, hang: int, style: str) -> None:
        self.text, self.left, self.hang, self.style = text, left, hang, style

    def __rich_console__(self, console: Any, options: Any) -> Any:
        import textwrap

        from rich.text import Text

        lines = textwrap.wrap(self.text, width=max(20, options.max_width), initial_indent=" " * self.left,
                              subsequent_indent=" " * (self.left + self.hang), break_on_hyphens=False,
                              break_long_words=False) or [""]
        for line in lines:
            yield Text(line, style=self.style)


def mark(share: float | None, goal: float) -> str:
    """What an hour of the heatmap reads as without colour: `!` below the goal, `~` within 10 points."""
    return " " if share is None or share >= goal else "~" if share >= goal - 0.1 else "!"


def _grid(role: dict[str, Any], goal: float) -> list[str]:
    """The heatmap as plain text: people on duty, `!` after hours below the goal, `~` within 10 points."""
    lines = ["     " + "".join(f"{h:02d}".ljust(12) for h in range(0, 24, 4))]
    for day, cells in heatmap_rows(role):
        row = []
        for people, share in cells:
            row.append(f"{people}{mark(share, goal)}")
        lines.append(f"{day}  " + "".join(row))
    return lines


def markdown(data: dict[str, Any]) -> str:
    goal = data["goal"]
    out = ["# Capacity against the matrix's targets", ""] + [md(line) for line in summary(data)]
    out += ["", f"## Share of work on time (goal {pct(goal)})", "",
            "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(md(c, line_start=False) for c in row) + " |" for row in target_rows(data["targets"])]
    worst = worst_lines(data)
    if worst:
        out += ["", "## Worst hours of the week", ""] + [f"- {md(line, line_start=False)}" for line in worst]
    out += ["", "## Week by role", "",
            "People on duty in each hour (Monday first); `!` marks an hour whose work falls below the goal in the "
            "queueing estimate, `~` one within 10 points of it."]
    for role in data["roles"]:
        if not any(c["tasks_per_week"] for c in role["hours"]):
            continue
        peak = pct(role["peak_occupancy"]) if role["peak_occupancy"] is not None else "-"
        out += ["", f"### {md(role['role'])}", "",
                md(f"{role['people_hours_per_week']:,} people-hours a week, peak occupancy {peak}."
                   + (f" More work than people: {role['overloaded_hours']}." if role["overloaded_hours"] else "")),
                "", "```"]
        out += [visible(line) for line in _grid(role, goal)] + ["```"]
    for title, items in change_sections(data):
        out += ["", f"## {md(title)}", ""] + [f"- {md(line, line_start=False)}" for line in items]
    for w in data["what_if"]:
        out += ["", f"## What if {md(w['change'], line_start=False)} (now {_target(w['from_minutes'])})", ""]
        out += [f"- {md(line, line_start=False)}" for line in what_if_lines(w, data["goal"])]
    return "\n".join(out) + "\n"


_COLOURS = {"black on green": "#a5d6a7", "black on yellow": "#fff59d", "white on red": "#ef9a9a", "dim": "#eeeeee"}


def page(data: dict[str, Any]) -> str:
    from triage.render.publish import _CSS

    def e(s: object) -> str:
        return html.escape(visible(str(s)), quote=True)
    goal = data["goal"]
    css = _CSS + ("table.heat td{width:1.6em;text-align:center;font-size:12px;padding:2px}"
                  "table.heat th{font-size:12px;padding:2px}")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
           f"<title>Capacity against the matrix's targets</title><style>{css}</style></head><body>",
           "<h1>Capacity against the matrix's targets</h1>"]
    out += [f"<p>{e(line)}</p>" for line in summary(data)]
    out.append(f"<h2>Share of work on time (goal {e(pct(goal))})</h2><table id=\"targets\"><thead><tr>"
               + "".join(f"<th>{e(h)}</th>" for h in HEAD) + "</tr></thead><tbody>")
    out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in target_rows(data["targets"])]
    out.append("</tbody></table>")
    out.append("<h2>Week by role</h2><p>Each cell: people on duty; colour: share of that hour's work on time in "
               "the queueing estimate (green: goal met, yellow: within 10 points, red: below, grey: no work).</p>")
    for role in data["roles"]:
        if not any(c["tasks_per_week"] for c in role["hours"]):
            continue
        out.append(
            f'<h3>{e(role["role"])}</h3><table class="heat" data-role="{e(role["role"])}"><thead><tr><th></th>'
            + "".join(f"<th>{h:02d}</th>" for h in range(24))
            + "</tr></thead><tbody>"
        )
        for day, cells in heatmap_rows(role):
            out.append(
                f"<tr><th>{day}</th>"
                + "".join(
                    f'<td style="background:{_COLOURS[heat(share, goal)]}" title="{e(pct(share))}">'
                    f"{e(people.strip())}</td>"
                    for people, share in cells
                )
                + "</tr>"
            )
        out.append("</tbody></table>")
    for title, items in change_sections(data):
        out.append(f"<h2>{e(title)}</h2><ul>" + "".join(f"<li>{e(line)}</li>" for line in items) + "</ul>")
    if data["what_if"]:
        out.append(
            '<h2>What if</h2><table id="what-if"><thead><tr><th>Change</th><th>Now</th><th>Queueing</th>'
            "<th>Replay</th><th>People-hours a week to keep the goal</th></tr></thead><tbody>"
        )
        for w in data["what_if"]:
            row = next((r for r in w["targets"] if r["severity"] == w["severity"] and r["target"] == w["target"]), None)
            out.append(
                f"<tr><td>{e(w['change'])}</td><td>{e(_target(w['from_minutes']))}</td>"
                f"<td>{e(pct(row['queueing'] if row else None))}</td>"
                f"<td>{e(pct(row['replay'] if row else None))}</td>"
                + ("<td>out of reach</td></tr>" if w.get("out_of_reach") else
                   f"<td>{w['people_hours_per_week']:+,}</td></tr>")
            )
        out.append("</tbody></table>")
        for w in data["what_if"]:
            out.append(f"<h3>{e(w['change'])}</h3><ul>"
                       + "".join(f"<li>{e(line)}</li>" for line in what_if_lines(w, data["goal"]))
                       + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def output(data: dict[str, Any]) -> Output:
    """The capacity report in every format `triage capacity` offers."""
    return Output(data, text=lambda: text(data), bodies={"markdown": lambda: markdown(data),
                                                         "html": lambda: page(data)})
