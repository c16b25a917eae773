"""`triage audit`: ticket history measured against the matrix, the guide's quality checks.

Definitions (the README repeats them):
- a target is measured on the calendar of the ticket's severity, from creation to the recorded time;
  it is met when that open time is not longer than the target;
- median is the middle value (mean of the two middle ones for an even count); p90 is the nearest-rank
  90th percentile (the value at rank ceil(0.9 n));
- `update`: each customer update is measured from the previous one (the first from creation) against
  the cadence in force at the previous one.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .engine import decide, resolve_answers
from .errors import TriageError
from .exports import BadRow, Ticket
from .matrix import Matrix

TARGETS = ("acknowledge", "assign_owner", "escalate", "resolution", "update")
_ATTR = {"acknowledge": "acknowledged", "assign_owner": "assigned", "escalate": "escalated", "resolution": "resolved"}
MAX_ROWS_KEPT = 1000


def median(values: list[float]) -> float | None:
    if not values:
        return None
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def p90(values: list[float]) -> float | None:
    return values[max(math.ceil(0.9 * len(values)) - 1, 0)] if values else None


@dataclass
class Options:
    since: datetime | None = None
    until: datetime | None = None
    window_days: int = 30
    repeat_threshold: int = 3
    bounce_threshold: int = 2
    today: date | None = None


@dataclass
class Audit:
    matrix: Matrix
    options: Options
    read: int = 0
    audited: int = 0
    unreadable: int = 0
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    minutes: dict[tuple[int, str], array] = field(default_factory=lambda: defaultdict(lambda: array("d")))
    met: Counter = field(default_factory=Counter)
    target_minutes: dict[tuple[int, str], float | None] = field(default_factory=dict)
    breaches: list[tuple[str, int, str, datetime, datetime, float]] = field(default_factory=list)
    with_answers: int = 0
    disagreements: list[tuple[str, int, int, tuple[str, ...], str | None]] = field(default_factory=list)
    unreadable_answers: list[tuple[str, str]] = field(default_factory=list)
    overrides: list[tuple[str, int, str]] = field(default_factory=list)
    escalated: int = 0
    escalated_with_packet: int = 0
    complete_packets: int = 0
    missing_fields: Counter = field(default_factory=Counter)
    bounced: list[tuple[str, int, int]] = field(default_factory=list)
    to_assign: array = field(default_factory=lambda: array("d"))
    assign_to_escalate: array = field(default_factory=lambda: array("d"))
    escalations_by_tag: dict[str, list[tuple[datetime, str]]] = field(default_factory=lambda: defaultdict(list))
    exceptions_used: Counter = field(default_factory=Counter)
    unknown_roles: Counter = field(default_factory=Counter)
    levels_seen: Counter = field(default_factory=Counter)
    acknowledge_all: array = field(default_factory=lambda: array("d"))
    first: datetime | None = None
    last: datetime | None = None
    escalated_tickets: list[Ticket] = field(default_factory=list)


def run(matrix: Matrix, rows: Iterable[Ticket | BadRow], options: Options, *, keep_escalated: int = 0) -> Audit:
    """Measure every ticket; `keep_escalated` keeps the latest escalated tickets for `triage review`."""
    report = Audit(matrix, options)
    calendars = {lvl: matrix.calendars[sev.spec.targets.calendar] for lvl, sev in matrix.levels.items()}
    limits: dict[int, dict[str, timedelta | None]] = {}
    cadences: dict[int, list[tuple[timedelta, timedelta | None]]] = {}
    for lvl, sev in matrix.levels.items():
        t = sev.spec.targets
        limits[lvl] = {"acknowledge": t.acknowledge, "assign_owner": t.assign_owner, "escalate": t.escalate,
                       "resolution": t.resolution.within}
        cadences[lvl] = [(step.every, step.for_) for step in t.update_every]
        for name, limit in limits[lvl].items():
            report.target_minutes[(lvl, name)] = None if limit is None else limit.total_seconds() / 60
        report.target_minutes[(lvl, "update")] = cadences[lvl][0][0].total_seconds() / 60
    limit_minutes = {lvl: {k: None if v is None else v.total_seconds() / 60 for k, v in d.items()}
                     for lvl, d in limits.items()}
    cadence_minutes = {lvl: [(e.total_seconds() / 60, None if s is None else s.total_seconds() / 60) for e, s in c]
                       for lvl, c in cadences.items()}
    point = next((p for p in matrix.model.handoff_points if p.id == "owner_to_specialist"), None)
    required = list(point.requires) if point else [f.id for f in matrix.model.handoff_packet if f.stage == "triage"]
    required = [f for f in required if not any(pf.id == f and pf.filled_from for pf in matrix.model.handoff_packet)]
    roles = set(matrix.model.roles)
    known_exceptions = {e.id for e in matrix.model.exceptions}
    since, until = options.since, options.until

    for item in rows:
        if isinstance(item, BadRow):
            report.unreadable += 1
            if len(report.bad_rows) < MAX_ROWS_KEPT:
                report.bad_rows.append((item.line, item.reason))
            continue
        report.read += 1
        t = item
        if (since is not None and t.created < since) or (until is not None and t.created >= until):
            continue
        if t.level not in matrix.levels:
            report.unreadable += 1
            if len(report.bad_rows) < MAX_ROWS_KEPT:
                report.bad_rows.append((t.line, f"ticket {t.ticket}: severity {t.level} is not in the matrix"))
            continue
        report.audited += 1
        report.levels_seen[t.level] += 1
        report.first = t.created if report.first is None or t.created < report.first else report.first
        report.last = t.created if report.last is None or t.created > report.last else report.last
        calendar = calendars[t.level]
        between = calendar.seconds_between
        created = t.created.timestamp()
        level_limits = limit_minutes[t.level]
        for name, attr in _ATTR.items():
            actual = getattr(t, attr)
            limit = level_limits[name]
            if actual is None or limit is None:
                continue
            spent = between(created, actual.timestamp()) / 60
            report.minutes[(t.level, name)].append(spent)
            if name == "acknowledge":
                report.acknowledge_all.append(spent)
            if spent <= limit:
                report.met[(t.level, name)] += 1
            else:
                report.breaches.append((t.ticket, t.level, name, calendar.add(t.created, limits[t.level][name]),
                                        actual, spent - limit))
        previous, previous_ts = t.created, created
        for moment in t.updates:
            age = between(created, previous_ts) / 60
            every, passed = cadence_minutes[t.level][-1][0], 0.0
            for interval, span in cadence_minutes[t.level]:
                if span is None or age < passed + span:
                    every = interval
                    break
                passed += span
            moment_ts = moment.timestamp()
            gap = between(previous_ts, moment_ts) / 60
            report.minutes[(t.level, "update")].append(gap)
            if gap <= every:
                report.met[(t.level, "update")] += 1
            else:
                report.breaches.append((t.ticket, t.level, "update",
                                        calendar.add(previous, timedelta(minutes=every)), moment, gap - every))
            previous, previous_ts = moment, moment_ts
        if t.answers:
            report.with_answers += 1
            try:
                answers, _ = resolve_answers(matrix, t.answers)
                decision = decide(matrix, answers)
            except TriageError as exc:
                if len(report.unreadable_answers) < MAX_ROWS_KEPT:
                    report.unreadable_answers.append((t.ticket, exc.message))
            else:
                if decision.level != t.level:
                    report.disagreements.append((t.ticket, t.level, decision.level, decision.rules, t.override_reason))
        if t.override_reason:
            report.overrides.append((t.ticket, t.level, t.override_reason))
        if t.escalated is not None:
            report.escalated += 1
            if t.packet:
                report.escalated_with_packet += 1
                gaps = [f for f in required if not t.packet.get(f)]
                if not gaps:
                    report.complete_packets += 1
                report.missing_fields.update(gaps)
            for tag in t.tags:
                report.escalations_by_tag[tag].append((t.escalated, t.ticket))
            if keep_escalated:
                report.escalated_tickets.append(t)
                if len(report.escalated_tickets) > keep_escalated * 4:
                    report.escalated_tickets.sort(key=lambda x: x.created, reverse=True)
                    del report.escalated_tickets[keep_escalated:]
        if t.reassignments >= options.bounce_threshold:
            report.bounced.append((t.ticket, t.level, t.reassignments))
        if t.assigned is not None:
            assigned = t.assigned.timestamp()
            report.to_assign.append(between(created, assigned) / 60)
            if t.escalated is not None:
                report.assign_to_escalate.append(between(assigned, t.escalated.timestamp()) / 60)
        if t.exception:
            report.exceptions_used[t.exception] += 1
        if t.escalated_to and t.escalated_to not in roles:
            report.unknown_roles[t.escalated_to] += 1
    report.known_exceptions = known_exceptions  # type: ignore[attr-defined]
    if keep_escalated:
        report.escalated_tickets.sort(key=lambda x: x.created, reverse=True)
        del report.escalated_tickets[keep_escalated:]
    return report


def repeated(report: Audit) -> list[dict[str, Any]]:
    """Tags escalated at least `repeat_threshold` times within `window_days`: knowledge-base candidates."""
    window = timedelta(days=report.options.window_days)
    out = []
    for tag, items in report.escalations_by_tag.items():
        items.sort()
        best, best_start, start = 0, 0, 0
        for end in range(len(items)):
            while items[end][0] - items[start][0] > window:
                start += 1
            if end - start + 1 > best:
                best, best_start = end - start + 1, start
        if best >= report.options.repeat_threshold:
            chosen = items[best_start:best_start + best]
            out.append({"tag": tag, "escalations": best, "from": chosen[0][0].isoformat(timespec="minutes"),
                        "to": chosen[-1][0].isoformat(timespec="minutes"), "tickets": [x[1] for x in chosen[:10]]})
    return sorted(out, key=lambda r: (-r["escalations"], r["tag"]))


def to_json(report: Audit) -> dict[str, Any]:
    """The audit result (schema_version 1); the contract keys of DESIGN.md plus the guide's other checks."""
    m, o = report.matrix, report.options
    severities: dict[str, Any] = {}
    for lvl in sorted(m.levels):
        targets = {}
        for name in TARGETS:
            values = sorted(report.minutes.get((lvl, name), array("d")))
            measured = len(values)
            met = report.met[(lvl, name)]
            targets[name] = {"measured": measured, "met": met,
                             "share_met": round(met / measured, 4) if measured else None,
                             "median_minutes": _round(median(values)), "p90_minutes": _round(p90(values)),
                             "target_minutes": report.target_minutes.get((lvl, name))}
        severities[str(lvl)] = {"id": m.levels[lvl].id, "label": m.levels[lvl].spec.label,
                                "calendar": m.levels[lvl].spec.targets.calendar,
                                "tickets": report.levels_seen[lvl], "targets": targets}
    display = lambda moment: moment.isoformat(timespec="seconds")  # noqa: E731
    today = o.today or date.today()
    matrix_exceptions = [{"id": e.id, "problem": "no approver" if e.approver is None else "no expiry date"
                          if e.expires is None else f"expired on {e.expires.isoformat()}"}
                         for e in m.model.exceptions
                         if e.approver is None or e.expires is None or e.expires < today]
    to_assign, assign_escalate = sorted(report.to_assign), sorted(report.assign_to_escalate)
    return {
        "schema_version": 1,
        "matrix": {"name": m.model.matrix.name, "version": m.model.matrix.version, "sha256": m.sha256},
        "period": {"since": o.since.isoformat() if o.since else None, "until": o.until.isoformat() if o.until else None,
                   "first_ticket": display(report.first) if report.first else None,
                   "last_ticket": display(report.last) if report.last else None},
        "tickets": {"read": report.read, "audited": report.audited, "unreadable": report.unreadable},
        "unreadable_rows": [{"line": line, "reason": reason} for line, reason in report.bad_rows],
        "severities": severities,
        "breaches": [{"ticket": ticket, "severity": lvl, "target": name, "due": display(due), "actual": display(actual),
                      "late_minutes": _round(late)} for ticket, lvl, name, due, actual, late in report.breaches],
        "criteria": {"with_answers": report.with_answers,
                     "disagreements": [{"ticket": t, "recorded": r, "computed": c, "rules": list(rules),
                                        "override_reason": why} for t, r, c, rules, why in report.disagreements],
                     "unreadable_answers": [{"ticket": t, "reason": why} for t, why in report.unreadable_answers],
                     "overrides": [{"ticket": t, "severity": lvl, "reason": why} for t, lvl, why in report.overrides]},
        "packets": {"escalated": report.escalated, "with_packet_data": report.escalated_with_packet,
                    "complete": report.complete_packets,
                    "share_complete": round(report.complete_packets / report.escalated_with_packet, 4)
                    if report.escalated_with_packet else None,
                    "missing_fields": dict(report.missing_fields.most_common())},
        "routing": {"bounced": [{"ticket": t, "severity": lvl, "reassignments": n}
                                for t, lvl, n in sorted(report.bounced, key=lambda b: -b[2])],
                    "bounce_threshold": o.bounce_threshold,
                    "to_assign_minutes": {"median": _round(median(to_assign)), "p90": _round(p90(to_assign))},
                    "assign_to_escalate_minutes": {"median": _round(median(assign_escalate)),
                                                   "p90": _round(p90(assign_escalate))},
                    "unknown_roles": dict(report.unknown_roles)},
        "repeated": {"window_days": o.window_days, "threshold": o.repeat_threshold, "candidates": repeated(report)},
        "exceptions": {"tickets": dict(report.exceptions_used),
                       "unknown": sorted(set(report.exceptions_used) - report.known_exceptions),  # type: ignore[attr-defined]
                       "matrix": matrix_exceptions},
        "acknowledge_distribution": histogram(report.acknowledge_all),
    }


BINS = (5, 15, 30, 60, 120, 240, 480, 960, 1920)


def histogram(values: Iterable[float]) -> list[dict[str, Any]]:
    """Counts of time to acknowledge in bins of minutes: under 5, 5-15, ..., 1920 and over."""
    counts = [0] * (len(BINS) + 1)
    import bisect

    for v in values:
        counts[bisect.bisect_right(BINS, v)] += 1
    edges = (0, *BINS)
    return [{"from": edges[i], "to": BINS[i] if i < len(BINS) else None, "tickets": c} for i, c in enumerate(counts)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
