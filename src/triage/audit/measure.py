"""`triage audit`: ticket history measured against the matrix, the guide's quality checks.

Definitions (the README repeats them):
- a target is measured on the calendar of the ticket's severity, from creation to the recorded time;
  it is met when that open time is not longer than the target;
- median is the middle value (mean of the two middle ones for an even count); p90 is the nearest-rank
  90th percentile (the value at rank ceil(0.9 n));
- `update`: each customer update is measured from the previous one (the first from creation) against
  the cadence in force at the previous one;
- a time before the ticket's creation is impossible: it is neither measured nor met, but counted and listed;
- a promise to acknowledge, assign or resolve that came due before the as-of time (by default the latest time
  in the export) and has no recorded time is missed: measured, not met, listed as a breach with no actual
  time. A ticket resolved before its acknowledge or assign promise came due has not missed it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

from triage.engine.decide import decide, resolve_answers
from triage.errors import TriageError
from triage.exports.measure import Clock, Measure, Part, cadence_gaps, parts, stamps, within
from triage.exports.moments import (EPOCH, MICROSECOND, MomentLists, Moments, instant, iso_texts, micros_of, update_at,
                                    zone_at, zone_of)
from triage.exports.tickets import BadRow, Batch, Ticket, batched
from triage.matrix.durations import EndOfDay, iso_moment
from triage.matrix.loader import Matrix

TARGETS = ("acknowledge", "assign_owner", "escalate", "resolution", "update")
SEVERE = 2  # the levels a review reads when the export records no escalations
PROMISES = ("acknowledge", "assign_owner", "resolution")  # owed by every ticket: unrecorded and due is missed
_ATTR = {"acknowledge": "acknowledged", "assign_owner": "assigned", "escalate": "escalated", "resolution": "resolved"}
MAX_ROWS_KEPT = 1000


def summary(parts: list[Any]) -> tuple[int, float | None, float | None]:
    """(count, median, p90) of the values in a list of NumPy arrays, found by partial sorting."""
    import numpy as np

    values = np.concatenate(parts) if parts else np.zeros(0)
    n = len(values)
    if not n:
        return 0, None, None
    mid, rank = n // 2, max(math.ceil(0.9 * n) - 1, 0)
    ranks = sorted({mid, rank, max(mid - 1, 0)})
    values = np.partition(values, ranks)
    middle = float(values[mid]) if n % 2 else (float(values[mid - 1]) + float(values[mid])) / 2
    return n, middle, float(values[rank])


@dataclass
class Options:
    since: datetime | None = None
    until: datetime | None = None
    window_days: int = 30
    repeat_threshold: int = 3
    bounce_threshold: int = 2
    today: date | None = None
    as_of: datetime | None = None  # promises due before then and never kept are missed (default: the latest time)


@dataclass
class Partial:
    """What measuring one part of an export found: counts, NumPy arrays of measured minutes and the rows worth
    listing, and no matrix objects, so that it pickles small and travels between processes. Partials of the
    parts of an export, merged in the parts' order (in any grouping), equal the partial of the whole: values are
    kept rather than summaries, so medians and 90th percentiles stay exact."""

    keep: int = 0  # escalated (or else severe) tickets kept for a review
    read: int = 0
    audited: int = 0
    unreadable: int = 0
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # the first MAX_ROWS_KEPT
    minutes: dict[tuple[int, str], list[Any]] = field(default_factory=lambda: defaultdict(list))  # NumPy arrays
    met: Counter[tuple[int, str]] = field(default_factory=Counter)
    breaches: list[tuple[str, int, str, str, str | None, float | None]] = field(default_factory=list)  # as text
    with_answers: int = 0
    disagreements: list[tuple[str, int, int, tuple[str, ...], str | None]] = field(default_factory=list)
    unreadable_answers: list[tuple[str, str]] = field(default_factory=list)
    overrides: list[tuple[str, int, str]] = field(default_factory=list)
    escalated: int = 0
    escalated_with_packet: int = 0
    complete_packets: int = 0
    missing_fields: Counter[str] = field(default_factory=Counter)
    bounced: list[tuple[str, int, int]] = field(default_factory=list)
    to_assign: list[Any] = field(default_factory=list)
    assign_to_escalate: list[Any] = field(default_factory=list)
    # each tag's escalations: (microseconds since the epoch, UTC offsets in seconds, tickets), in three lists
    escalations_by_tag: dict[str, tuple[list[int], list[int], list[str]]] = field(default_factory=dict)
    exceptions_used: Counter[str] = field(default_factory=Counter)
    unknown_roles: Counter[str] = field(default_factory=Counter)
    levels_seen: Counter[int] = field(default_factory=Counter)
    waited: int = 0  # tickets with a wait on the customer
    acknowledge_all: list[Any] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    escalated_tickets: list[Ticket] = field(default_factory=list)
    severe_tickets: list[Ticket] = field(default_factory=list)  # severity 1 and 2, for an export without escalations
    latest: float = -math.inf  # the latest time anywhere in the export, as a timestamp
    impossible: list[tuple[str, int, str, str, str]] = field(default_factory=list)  # ticket, level, target, times
    impossible_count: Counter[tuple[int, str]] = field(default_factory=Counter)
    unreadable_answer_count: int = 0
    sources: list[Any] = field(default_factory=list)  # the exports read (`exports.sources.Source`)
    # promises with no recorded time, decided at the end against the as-of time: (level, target, calendar id, due
    # timestamps, tickets, zones to write the due times in)
    pending: list[tuple[int, str, str, Any, list[str], list[Any]]] = field(default_factory=list)


@dataclass(kw_only=True)
class Audit(Partial):
    """The finished audit: the merged partial, read against the matrix and the options."""

    matrix: Matrix
    options: Options
    target_minutes: dict[tuple[int, str], float | None] = field(default_factory=dict)
    known_exceptions: set[str] = field(default_factory=set)
    as_of: datetime | None = None
    unrecorded: Counter[tuple[int, str]] = field(default_factory=Counter)


def _keep_latest(tickets: list[Ticket], keep: int) -> None:
    """Only the `keep` latest created of `tickets`, latest first (tickets created together, as they came)."""
    tickets.sort(key=lambda x: x.created, reverse=True)
    del tickets[keep:]


def run(matrix: Matrix, rows: Iterable[Ticket | Batch | BadRow], options: Options, *,
        keep_escalated: int = 0) -> Audit:
    """Measure every ticket and finish the report; `keep_escalated` keeps the latest escalated tickets for
    `triage review`."""
    return finish(matrix, measure(matrix, rows, options, keep_escalated=keep_escalated), options)


def _targets(matrix: Matrix) -> tuple[dict[tuple[int, str], float | None], dict[tuple[int, str | None], _Plan]]:
    """Each severity's targets in minutes (on the default plan, where the matrix has plans), and what its
    tickets are measured on, by (level, support plan)."""
    target_minutes: dict[tuple[int, str], float | None] = {}
    clocks: dict[str, Clock] = {}
    plans: dict[tuple[int, str | None], _Plan] = {}
    tiers: list[str | None] = list(matrix.model.plans.tiers) if matrix.model.plans is not None else [None]
    default = matrix.model.plans.default if matrix.model.plans is not None else None
    for lvl in matrix.levels:
        for tier in tiers:
            t = matrix.targets(lvl, tier)
            clock = clocks.setdefault(t.calendar, Clock(matrix.calendars[t.calendar]))
            limits = {"acknowledge": t.acknowledge, "assign_owner": t.assign_owner, "escalate": t.escalate,
                      "resolution": None if t.resolution is None else t.resolution.within}
            minutes = {name: None if limit is None else limit.total_seconds() / 60 for name, limit in limits.items()}
            if tier == default:
                target_minutes.update({(lvl, name): m for name, m in minutes.items()})
                target_minutes[(lvl, "update")] = t.update_every[0].every.total_seconds() / 60 \
                    if t.update_every else None
            plans[(lvl, tier)] = _Plan(t.calendar, clock, minutes,
                                       [(step.every.total_seconds() / 60, None if step.for_ is None
                                         else step.for_.total_seconds() / 60) for step in t.update_every],
                                       frozenset("update" if name == "next_update" else name
                                                 for name in matrix.model.matrix.pauses),
                                       {name: limit.after for name, limit in limits.items()
                                        if isinstance(limit, EndOfDay)})
    return target_minutes, plans


def measure(matrix: Matrix, rows: Iterable[Ticket | Batch | BadRow], options: Options, *,
            keep_escalated: int = 0) -> Partial:
    """The partial of one part of an export (or of all of it).

    Tickets are measured a batch at a time, target by target, as arrays; the per-ticket checks (answers,
    packets, tags) look only at the tickets that carry them."""
    report = Partial(keep=keep_escalated)
    _, plans = _targets(matrix)
    point = next((p for p in matrix.model.handoff_points if p.id == "owner_to_specialist"), None)
    required = list(point.requires) if point else [f.id for f in matrix.model.handoff_packet if f.stage == "triage"]
    required = [f for f in required if not any(pf.id == f and pf.filled_from for pf in matrix.model.handoff_packet)]
    checks = _Checks(matrix, report, options, required, keep_escalated)
    unread: list[tuple[int, str]] = []  # a stretch's unreadable rows, listed in line order with its batch's
    for item in batched(rows):
        if isinstance(item, BadRow):
            report.unreadable += 1
            if len(unread) < MAX_ROWS_KEPT:  # enough for the first MAX_ROWS_KEPT of the stretch
                unread.append((item.line, item.reason))
            continue
        unread += _measure_batch(report, options, item, plans, checks)
        report.bad_rows += sorted(unread, key=itemgetter(0))[:MAX_ROWS_KEPT - len(report.bad_rows)]
        unread = []
    report.bad_rows += unread[:MAX_ROWS_KEPT - len(report.bad_rows)]
    if keep_escalated:
        _keep_latest(report.escalated_tickets, keep_escalated)
        _keep_latest(report.severe_tickets, keep_escalated)
    return report


def measure_stretch(matrix: Matrix, options: Options, rows: list[Ticket | Batch | BadRow]) -> Partial:
    """`measure` with the rows last: the task a cluster's worker runs on one stretch of an export."""
    return measure(matrix, rows, options)


def merge(*partials: Partial) -> Partial:
    """The partial of consecutive parts of an export, given in the parts' order: counts added, values and
    listed rows put one after another."""
    out = Partial(keep=max((p.keep for p in partials), default=0))
    for p in partials:
        for name in ("read", "audited", "unreadable", "with_answers", "escalated", "escalated_with_packet",
                     "complete_packets", "unreadable_answer_count", "waited"):
            setattr(out, name, getattr(out, name) + getattr(p, name))
        for name in ("bad_rows", "breaches", "disagreements", "unreadable_answers", "overrides", "bounced",
                     "to_assign", "assign_to_escalate", "acknowledge_all", "escalated_tickets", "severe_tickets",
                     "impossible", "pending", "sources"):
            getattr(out, name).extend(getattr(p, name))
        for name in ("met", "missing_fields", "exceptions_used", "unknown_roles", "levels_seen",
                     "impossible_count"):
            getattr(out, name).update(getattr(p, name))
        for key, values in p.minutes.items():
            out.minutes[key].extend(values)
        for tag, (micros, offsets, tickets) in p.escalations_by_tag.items():
            lists = out.escalations_by_tag.setdefault(tag, ([], [], []))
            lists[0].extend(micros)
            lists[1].extend(offsets)
            lists[2].extend(tickets)
        if p.first is not None and (out.first is None or p.first < out.first):
            out.first = p.first
        if p.last is not None and (out.last is None or p.last > out.last):
            out.last = p.last
        out.latest = max(out.latest, p.latest)
    del out.bad_rows[MAX_ROWS_KEPT:]
    del out.impossible[MAX_ROWS_KEPT:]
    del out.unreadable_answers[MAX_ROWS_KEPT:]
    if out.keep:
        _keep_latest(out.escalated_tickets, out.keep)
        _keep_latest(out.severe_tickets, out.keep)
    return out


def finish(matrix: Matrix, partial: Partial, options: Options) -> Audit:
    """The report of a whole export from its merged partial: targets named, promises never kept settled."""
    target_minutes, _ = _targets(matrix)
    report = Audit(**{f.name: getattr(partial, f.name) for f in fields(Partial)}, matrix=matrix, options=options,
                   target_minutes=target_minutes, known_exceptions={e.id for e in matrix.model.exceptions})
    _settle(report)
    return report


@dataclass
class _Plan:
    """What one severity is measured on: its calendar, targets in minutes and update cadence."""

    calendar: str
    clock: Clock
    limits: dict[str, float | None]
    cadence: list[tuple[float, float | None]]  # (every, for how long) in minutes, the last for the rest
    pauses: frozenset[str] = frozenset()  # the targets (`update` for the cadence) whose clock a wait stops
    # targets due at the close of a business day (`end of next business day`: 1), whose limit is per ticket;
    # their `limits` hold the most they can leave
    by_day: dict[str, int] = field(default_factory=dict)

    def limit_for(self, name: str, measure: Measure, created: Any) -> Any:
        """The target's limit in minutes for tickets created at `created` (an array): one figure for all, or,
        for the close of a business day, the open time each ticket had until it."""
        import numpy as np

        after = self.by_day.get(name)
        limit = self.limits[name]
        if after is None or limit is None:
            return limit
        ends = np.array([measure.calendar.end_of_day(datetime.fromtimestamp(ts, UTC), after).timestamp()
                         for ts in created.tolist()], dtype=np.float64)
        return measure.between(created, ends) / 60


def _measure_batch(report: Partial, options: Options, batch: Batch, plans: dict[tuple[int, str | None], _Plan],
                   checks: _Checks) -> list[tuple[int, str]]:
    """Measure one batch; returns its tickets whose severity the matrix does not have, as unreadable rows."""
    import numpy as np

    report.read += len(batch)
    created = stamps(batch.created)
    report.latest = max(report.latest, _latest(batch, created))
    levels = np.array(batch.level, dtype=np.int64)
    known = np.isin(levels, list({level for level, _ in plans}))
    period = within(created, options.since, options.until)
    unknown = [(batch.line[i], f"ticket {batch.ticket[i]}: severity {batch.level[i]} is not in the matrix")
               for i in np.flatnonzero(~known & period).tolist()]
    report.unreadable += len(unknown)
    chosen = known & period
    picked = np.flatnonzero(chosen)
    if not len(picked):
        return unknown
    report.audited += len(picked)
    if any(batch.paused):  # most exports record no waits: one pass in C says so
        report.waited += sum(1 for i in picked.tolist() if batch.paused[i])
    first, last = int(picked[np.argmin(created[picked])]), int(picked[np.argmax(created[picked])])
    earliest, latest = batch.created[first], batch.created[last]
    if earliest is not None and (report.first is None or earliest < report.first):
        report.first = earliest
    if latest is not None and (report.last is None or latest > report.last):
        report.last = latest
    found = _Found()
    tiers = _tiers(checks.matrix, batch)
    for part in parts(batch, chosen, levels, created, tuple(_ATTR.values())):
        report.levels_seen[part.level] += len(part.rows)
        if tiers is None:
            _measure_part(report, batch, plans[(part.level, None)], part, found)
            continue
        for tier in np.unique(tiers[part.rows]).tolist():  # each ticket against its support plan's targets
            _measure_part(report, batch, plans[(part.level, tier)], part.subset(tiers[part.rows] == tier), found)
    found.breaches.sort(key=itemgetter(slice(0, 3)))
    report.breaches += [b[3] for b in found.breaches]
    found.impossible.sort(key=itemgetter(slice(0, 3)))
    report.impossible += [b[3] for b in found.impossible[:max(MAX_ROWS_KEPT - len(report.impossible), 0)]]
    checks.tickets(batch, picked)
    return unknown


def _tiers(matrix: Matrix, batch: Batch) -> Any:
    """Each ticket's support plan, from the export's column for the plan question (the default plan where it is
    empty or names no plan); None for a matrix without plans."""
    import numpy as np

    plans = matrix.model.plans
    if plans is None:
        return None
    question = plans.chosen_by
    def tier(answers: dict[str, str]) -> str:
        value = answers.get(question, "") if question else ""
        return value if value in plans.tiers else plans.default
    return np.array([tier(a) for a in batch.answers], dtype=object)


@dataclass
class _Found:
    """A batch's breaches and impossible times, each with (row, target, update) to list them in row order
    whichever severity's tickets are measured first."""

    breaches: list[tuple[int, int, int, tuple[str, int, str, str, str, float | None]]] = field(default_factory=list)
    impossible: list[tuple[int, int, int, tuple[str, int, str, str, str]]] = field(default_factory=list)


def _measure_part(report: Partial, batch: Batch, plan: _Plan, part: Part, found: _Found) -> None:
    """The tickets of one severity in a batch: every target, the update cadence, handoff delays."""
    import numpy as np

    lvl, rows, created, times = part.level, part.rows, part.created, part.times
    measure = Measure(plan.clock, created, part.updates, *times.values())
    for order, name in enumerate(_ATTR):
        _measure_target(report, batch, plan, part, measure, order, name, found)
    if len(part.updates) and plan.cadence:  # a level that promises no updates has none to be late
        previous, gap, every = cadence_gaps(measure, part, plan.cadence, 60)
        waits = _waits(batch, rows[part.owner]) if "update" in plan.pauses else []
        if any(waits):
            gap = gap - paused_seconds(measure, previous, part.updates, waits) / 60
        early = part.updates < np.repeat(created, part.counts)  # an update before the ticket was created
        if early.any():
            _impossible_updates(report, batch, part, early, found)
        report.minutes[(lvl, "update")].append(gap[~early])
        late = (gap > every) & ~early
        report.met[(lvl, "update")] += int(len(gap) - np.count_nonzero(early) - np.count_nonzero(late))
        if late.any():
            positions = np.flatnonzero(late)
            due = measure.due(previous[positions], every[positions] * 60)
            owner = part.owner
            sequence = np.arange(len(owner)) - np.repeat(np.cumsum(part.counts) - part.counts, part.counts)
            late_rows, ks = rows[owner[positions]], sequence[positions]
            texts = None
            if isinstance(batch.updates, MomentLists) and isinstance(batch.created, Moments):
                updates = batch.updates.flat
                flat = batch.updates.starts[late_rows] + ks  # each late update, and the one before it
                zones = np.where(ks > 0, updates.offsets[np.maximum(flat - 1, 0)], batch.created.offsets[late_rows])
                texts = _texts(due, zones, updates.micros[flat], updates.offsets[flat])
            if texts is None:  # times kept as datetimes: one by one
                texts = ([iso_moment(datetime.fromtimestamp(d, update_at(batch.updates, i, k - 1).tzinfo if k
                                                            else zone_at(batch.created, i)))
                          for d, i, k in zip(due.tolist(), late_rows.tolist(), ks.tolist())],
                         [iso_moment(update_at(batch.updates, i, k)) for i, k in zip(late_rows.tolist(), ks.tolist())])
            for i, k, due_text, actual_text, minutes in zip(late_rows.tolist(), ks.tolist(), *texts,
                                                            (gap[late] - every[late]).tolist()):
                found.breaches.append((i, len(_ATTR), k, (batch.ticket[i], lvl, "update", due_text, actual_text,
                                                    _round(minutes))))
    assigned = times["assigned"]
    where = np.flatnonzero(~np.isnan(assigned) & (assigned >= created))
    if len(where):
        report.to_assign.append(measure.between(created[where], assigned[where]) / 60)
        escalated = times["escalated"][where]
        both = ~np.isnan(escalated) & (escalated >= created[where])
        if both.any():
            report.assign_to_escalate.append(measure.between(assigned[where][both], escalated[both]) / 60)


def _waits(batch: Batch, rows: Any) -> list[tuple[tuple[float, float], ...]]:
    """The waits on the customer of these rows of a batch; none at all (an empty list) for a batch without any,
    which is most of them, without a pass over its rows."""
    return [batch.paused[r] for r in rows.tolist()] if any(batch.paused) else []


def paused_seconds(measure: Measure, starts: Any, ends: Any, waits: list[tuple[tuple[float, float], ...]]) -> Any:
    """For each span from starts[k] to ends[k], the open seconds of it that fall in waits[k] (the ticket's waits
    on the customer)."""
    import numpy as np

    owners, a, b = [], [], []
    for k, spans in enumerate(waits):
        for begin, end in spans:
            owners.append(k)
            a.append(max(begin, float(starts[k])))
            b.append(min(end, float(ends[k])))
    out = np.zeros(len(waits))
    if owners:
        np.add.at(out, owners, measure.between(np.array(a), np.array(b)))
    return out


def pushed(measure: Measure, starts: Any, dues: Any, waits: list[tuple[tuple[float, float], ...]]) -> Any:
    """Due times moved on by the waits that began before them, each by the open time it lasted (up to the due
    time as it then stood: a wait still open leaves the target with no due time, infinity)."""
    import numpy as np

    out = np.array(dues, dtype=np.float64)
    for k, spans in enumerate(waits):
        for begin, end in sorted(spans):
            if begin >= out[k] or end <= float(starts[k]):
                continue
            if not np.isfinite(end):
                out[k] = np.inf
                break
            lasted = float(measure.between(np.array([max(begin, float(starts[k]))]), np.array([end]))[0])
            out[k] = float(measure.due(np.array([out[k]]), np.array([lasted]))[0])
    return out


def _measure_target(report: Partial, batch: Batch, plan: _Plan, part: Part, measure: Measure, order: int, name: str,
                    found: _Found) -> None:
    """One target (acknowledge, assign, escalate, resolve) of the tickets of one severity in a batch."""
    import numpy as np

    lvl, rows, created, attr = part.level, part.rows, part.created, _ATTR[name]
    limit = plan.limits[name]
    actual = part.times[attr]
    have = ~np.isnan(actual)
    impossible = have & (actual < created)
    if impossible.any():
        _impossible(report, batch, lvl, order, name, attr, rows[impossible], found)
        have &= ~impossible
    if limit is not None and name in PROMISES and _recorded(getattr(batch, attr)):
        _unkept(report, batch, plan, part, measure, name, limit, ~have & ~impossible)
    if limit is None or not have.any():
        return
    where = np.flatnonzero(have)
    limit = plan.limit_for(name, measure, created[where])
    spent = measure.between(created[where], actual[where]) / 60
    waits = _waits(batch, rows[where]) if name in plan.pauses else []
    if any(waits):
        spent -= paused_seconds(measure, created[where], actual[where], waits) / 60
    report.minutes[(lvl, name)].append(spent)
    if name == "acknowledge":
        report.acknowledge_all.append(spent)
    late = spent > limit
    report.met[(lvl, name)] += int(len(spent) - np.count_nonzero(late))
    if late.any():
        positions = where[late]
        due = measure.due(created[positions], np.broadcast_to(limit * 60, spent.shape)[late].astype(np.float64))
        if any(waits):  # each wait that began before a due time moves it on by the open time it lasted
            due = pushed(measure, created[positions], due, [waits[k] for k in np.flatnonzero(late).tolist()])
        late_rows, moments = rows[positions], getattr(batch, attr)
        texts = None
        if isinstance(batch.created, Moments) and isinstance(moments, Moments):
            texts = _texts(due, batch.created.offsets[late_rows], moments.micros[late_rows],
                           moments.offsets[late_rows])
        if texts is None:  # times kept as datetimes: one by one
            texts = ([iso_moment(datetime.fromtimestamp(d, zone_at(batch.created, i)))
                      for d, i in zip(due.tolist(), late_rows.tolist())],
                     [iso_moment(moments[i]) for i in late_rows.tolist()])
        over = spent[late] - np.broadcast_to(limit, spent.shape)[late]
        for i, due_text, actual_text, minutes in zip(late_rows.tolist(), *texts, over.tolist()):
            found.breaches.append((i, order, 0, (batch.ticket[i], lvl, name, due_text, actual_text,
                                                 _round(minutes))))


def _latest(batch: Batch, created: Any) -> float:
    """The latest time of any kind in a batch, as a timestamp (-inf when it has none)."""
    import numpy as np

    columns = [created, *(stamps(getattr(batch, attr)) for attr in _ATTR.values())]
    if isinstance(batch.updates, MomentLists):
        columns.append(batch.updates.flat.stamps)
    else:
        columns.append(stamps([u for ups in batch.updates for u in ups]))
    found = [float(np.nanmax(c)) for c in columns if len(c) and not np.isnan(c).all()]
    return max(found, default=-math.inf)


def _recorded(times: Moments | list[datetime | None]) -> bool:
    """Whether the export records a time field at all: a column it has (even empty), or any time in a list."""
    return isinstance(times, Moments) or any(t is not None for t in times)


def _impossible(report: Partial, batch: Batch, lvl: int, order: int, name: str, attr: str, rows: Any,
                found: _Found) -> None:
    """Tickets whose time for a target is before their creation: counted and listed, never measured."""
    report.impossible_count[(lvl, name)] += len(rows)
    moments = getattr(batch, attr)
    for i in rows.tolist()[:MAX_ROWS_KEPT]:
        found.impossible.append((i, order, 0, (batch.ticket[i], lvl, name, _iso(batch.created[i]),
                                               _iso(moments[i]))))


def _impossible_updates(report: Partial, batch: Batch, part: Part, early: Any, found: _Found) -> None:
    import numpy as np

    report.impossible_count[(part.level, "update")] += int(np.count_nonzero(early))
    owner = part.owner
    starts = np.cumsum(part.counts) - part.counts
    for position in np.flatnonzero(early).tolist()[:MAX_ROWS_KEPT]:
        i = int(part.rows[owner[position]])
        k = position - int(starts[owner[position]])
        found.impossible.append((i, len(_ATTR), k, (batch.ticket[i], part.level, "update", _iso(batch.created[i]),
                                                    _iso(update_at(batch.updates, i, k)))))


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else iso_moment(moment)


def _unkept(report: Partial, batch: Batch, plan: _Plan, part: Part, measure: Measure, name: str, limit: float,
            missing: Any) -> None:
    """Tickets with no recorded time for a promise: when it came due, kept until the as-of time is known. A
    ticket resolved before its acknowledge or assign promise came due owed nothing more."""
    import numpy as np

    where = np.flatnonzero(missing)
    if not len(where):
        return
    limits = plan.limit_for(name, measure, part.created[where])
    due = measure.due(part.created[where], np.broadcast_to(limits * 60, where.shape).astype(np.float64))
    waits = _waits(batch, part.rows[where]) if name in plan.pauses else []
    if any(waits):  # waiting on the customer moves the due time on; a wait still open: not due at all
        due = pushed(measure, part.created[where], due, waits)
    if name != "resolution":
        resolved = part.times["resolved"][where]
        owed = ~(resolved <= due)  # NaN (not resolved) compares False: still owed
        where, due = where[owed], due[owed]
    if not len(where):
        return
    rows = part.rows[where].tolist()
    report.pending.append((part.level, name, plan.calendar, due, [batch.ticket[i] for i in rows],
                           [zone_at(batch.created, i) for i in rows]))


def _settle(report: Audit) -> None:
    """Promises never kept that came due before the as-of time: missed, and listed as breaches."""
    import numpy as np

    as_of = report.options.as_of
    if as_of is None and math.isfinite(report.latest):
        from triage.matrix.calendars import zone

        as_of = datetime.fromtimestamp(report.latest, zone(report.matrix.model.matrix.timezone))
    report.as_of = as_of
    if as_of is None:
        return
    end = as_of.timestamp()
    order = {name: k for k, name in enumerate(TARGETS)}
    missed = []
    clocks = {name: Clock(calendar) for name, calendar in report.matrix.calendars.items()}
    for lvl, name, calendar, due, tickets, zones in report.pending:
        clock = clocks[calendar]
        late = np.flatnonzero(due < end)
        if not len(late):
            continue
        report.unrecorded[(lvl, name)] += len(late)
        overdue = Measure(clock, due[late], np.array([end])).between(due[late], np.full(len(late), end)) / 60
        for j, minutes in zip(late.tolist(), overdue.tolist()):
            missed.append((order[name], tickets[j], lvl, name,
                           iso_moment(datetime.fromtimestamp(float(due[j]), zones[j])), minutes))
    missed.sort(key=lambda m: (m[0], m[1]))
    report.breaches += [(ticket, lvl, name, due_text, None, _round(minutes))
                        for _, ticket, lvl, name, due_text, minutes in missed]
    report.pending = []


def _texts(due: Any, zones: Any, micros: Any, offsets: Any) -> tuple[list[str], list[str]] | None:
    """Breaches' due times (timestamps, shown at the UTC offsets `zones`) and actual times (`micros` at
    `offsets`) as text, whole arrays at once; None when some cannot be (the caller goes one by one)."""
    due_micros = micros_of(due)
    due_texts = None if due_micros is None else iso_texts(due_micros, zones)
    actual_texts = None if due_texts is None else iso_texts(micros, offsets)
    return None if actual_texts is None else (due_texts, actual_texts)  # type: ignore[return-value]


class _Checks:
    """The checks made ticket by ticket, over only the tickets that carry what they look at."""

    def __init__(self, matrix: Matrix, report: Partial, options: Options, required: list[str],
                 keep_escalated: int) -> None:
        self.matrix, self.report, self.options, self.required = matrix, report, options, required
        self.keep = keep_escalated
        self.roles = set(matrix.model.roles)
        self.decisions: dict[Any, tuple[int, tuple[str, ...]] | str] = {}

    def decided(self, answers: dict[str, str]) -> tuple[int, tuple[str, ...]] | str:
        """(level, rules) the matrix gives for recorded answers, or why they cannot be read; cached, since
        exports repeat the same answers."""
        key = tuple(answers.items())
        known = self.decisions.get(key)
        if known is None:
            try:
                resolved, _ = resolve_answers(self.matrix, answers, assume_severity=True)
                decision = decide(self.matrix, resolved)
                known = (decision.level, decision.rules)
            except TriageError as exc:
                known = exc.message
            if len(self.decisions) > 50_000:
                self.decisions.clear()
            self.decisions[key] = known
        return known

    def tickets(self, batch: Batch, rows: Any) -> None:
        """The chosen tickets of a batch (`rows`, a NumPy array of their indexes, in order)."""
        import numpy as np

        picked = rows.tolist()
        self.criteria(batch, picked)
        chosen = rows[~np.isnan(stamps(batch.escalated)[rows])].tolist()  # the escalated ones
        self.report.escalated += len(chosen)
        self.packets(batch, chosen)
        self.tags(batch, chosen)
        for i in chosen if self.keep else ():
            self.report.escalated_tickets.append(batch.ticket_at(i))
            if len(self.report.escalated_tickets) > self.keep * 4:
                _keep_latest(self.report.escalated_tickets, self.keep)
        for i in picked if self.keep and not self.report.escalated_tickets else ():
            if batch.level[i] <= SEVERE:
                self.report.severe_tickets.append(batch.ticket_at(i))
                if len(self.report.severe_tickets) > self.keep * 4:
                    _keep_latest(self.report.severe_tickets, self.keep)
        reassignments = batch.reassignments
        counts = np.fromiter(reassignments, dtype=np.int64, count=len(reassignments))
        self.report.bounced += [
            (batch.ticket[i], batch.level[i], reassignments[i])
            for i in rows[counts[rows] >= self.options.bounce_threshold].tolist()
        ]
        for i in picked if any(batch.exception) or any(batch.escalated_to) else ():
            if batch.exception[i]:
                self.report.exceptions_used[batch.exception[i]] += 1
            role = batch.escalated_to[i]
            if role and role not in self.roles:
                self.report.unknown_roles[role] += 1

    def criteria(self, batch: Batch, picked: list[int]) -> None:
        """Recorded answers against what the matrix decides for them; overrides."""
        report = self.report
        answers, overrides = batch.answers, batch.override_reason
        for i in picked if any(answers) or any(overrides) else ():
            if answers[i]:
                report.with_answers += 1
                known = self.decided(answers[i])
                if isinstance(known, str):
                    report.unreadable_answer_count += 1
                    if len(report.unreadable_answers) < MAX_ROWS_KEPT:
                        report.unreadable_answers.append((batch.ticket[i], known))
                elif known[0] != batch.level[i]:
                    report.disagreements.append((batch.ticket[i], batch.level[i], known[0], known[1], overrides[i]))
            if reason := overrides[i]:
                report.overrides.append((batch.ticket[i], batch.level[i], reason))

    def packets(self, batch: Batch, chosen: list[int]) -> None:
        """The handoff packets of escalated tickets: complete, or which fields were missing."""
        report = self.report
        for i in chosen if any(batch.packet) else ():
            packet = batch.packet[i]
            if packet:
                report.escalated_with_packet += 1
                gaps = [f for f in self.required if not packet.get(f)]
                if not gaps:
                    report.complete_packets += 1
                report.missing_fields.update(gaps)

    def tags(self, batch: Batch, chosen: list[int]) -> None:
        """Each tag's escalations, for the repeated-escalation check."""
        by_tag = self.report.escalations_by_tag
        for i in chosen if any(batch.tags) else ():
            if batch.tags[i]:
                micros, offset = instant(batch.escalated, i)
                for tag in batch.tags[i]:
                    lists = by_tag.get(tag) or by_tag.setdefault(tag, ([], [], []))
                    lists[0].append(micros)
                    lists[1].append(offset)
                    lists[2].append(batch.ticket[i])


def repeated(report: Audit) -> list[dict[str, Any]]:
    """Tags escalated at least `repeat_threshold` times within `window_days`: knowledge-base candidates. Of the
    windows holding the most escalations of a tag, the earliest; escalations at the same moment by ticket."""
    import numpy as np

    window = timedelta(days=report.options.window_days) // MICROSECOND
    out = []
    for tag, (micros, offsets, tickets) in report.escalations_by_tag.items():
        moments = np.array(micros, dtype=np.int64)
        order = np.argsort(moments, kind="stable")
        moments = moments[order]
        ties = np.flatnonzero(moments[1:] == moments[:-1])
        if len(ties):  # escalations at the same moment: by ticket, each run of them sorted on its own
            order = order.tolist()
            run_starts = ties[np.r_[True, ties[1:] != ties[:-1] + 1]].tolist()
            run_ends = (ties[np.r_[ties[1:] != ties[:-1] + 1, True]] + 2).tolist()
            for a, b in zip(run_starts, run_ends):
                order[a:b] = sorted(order[a:b], key=tickets.__getitem__)
            order = np.array(order)
        # for each escalation, the earliest one within the window before it: the count of the window it closes
        starts = np.searchsorted(moments, moments - window, side="left")
        counts = np.arange(len(moments)) - starts + 1
        if not len(counts) or counts.max() < report.options.repeat_threshold:
            continue
        end = int(np.argmax(counts))  # the first window with the most
        best, first = int(counts[end]), int(starts[end])
        chosen = order[first:first + best].tolist()
        out.append({"tag": tag, "escalations": best, "from": _minutes(micros[chosen[0]], offsets[chosen[0]]),
                    "to": _minutes(micros[chosen[-1]], offsets[chosen[-1]]),
                    "tickets": [tickets[i] for i in chosen[:10]]})
    return sorted(out, key=lambda r: (-r["escalations"], r["tag"]))


def _minutes(micros: int, offset: int) -> str:
    """An escalation's time as written in the export's zone, to the minute."""
    return (EPOCH + micros * MICROSECOND).astimezone(zone_of(offset)).isoformat(timespec="minutes")


def _breach_items(breaches: list[tuple[str, int, str, str, str | None, float | None]]) -> list[dict[str, Any]]:
    return [{"ticket": ticket, "severity": lvl, "target": name, "due": due, "actual": actual, "late_minutes": late}
            for ticket, lvl, name, due, actual, late in breaches]


def _bounced_items(bounced: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    """Most reassigned first; tickets reassigned as often, in the order they came."""
    return [{"ticket": t, "severity": lvl, "reassignments": n} for t, lvl, n in sorted(bounced, key=itemgetter(2),
                                                                                    reverse=True)]


def to_json(report: Audit) -> dict[str, Any]:
    """The audit result (schema_version 1); the contract keys of DESIGN.md plus the guide's other checks."""
    m, o = report.matrix, report.options
    breaches, bounced = _breach_items(report.breaches), _bounced_items(report.bounced)
    severities: dict[str, Any] = {}
    for lvl in sorted(m.levels):
        targets = {}
        for name in TARGETS:
            timed, middle, high = summary(report.minutes.get((lvl, name), []))
            met, unrecorded = report.met[(lvl, name)], report.unrecorded[(lvl, name)]
            measured = timed + unrecorded
            targets[name] = {"measured": measured, "met": met,
                             "share_met": round(met / measured, 4) if measured else None,
                             "median_minutes": _round(middle), "p90_minutes": _round(high),
                             "target_minutes": report.target_minutes.get((lvl, name)),
                             "missed_unrecorded": unrecorded, "impossible": report.impossible_count[(lvl, name)]}
        calendar = m.levels[lvl].spec.targets.calendar
        severities[str(lvl)] = {"id": m.levels[lvl].id, "label": m.levels[lvl].spec.label,
                                "name": m.level_name(lvl), "calendar": calendar,
                                "business_time": m.business_time(calendar),
                                "tickets": report.levels_seen[lvl], "targets": targets}
    today = o.today or date.today()
    matrix_exceptions = [{"id": e.id, "problem": "no approver" if e.approver is None else "no expiry date"
                          if e.expires is None else f"expired on {e.expires.isoformat()}"}
                         for e in m.model.exceptions
                         if e.approver is None or e.expires is None or e.expires < today]
    _, assign_median, assign_p90 = summary(report.to_assign)
    _, escalate_median, escalate_p90 = summary(report.assign_to_escalate)
    return {
        "schema_version": 1,
        "matrix": {"name": m.model.matrix.name, "version": m.model.matrix.version, "sha256": m.sha256},
        "exports": [source.to_json() for source in report.sources],
        "period": {"since": o.since.isoformat() if o.since else None, "until": o.until.isoformat() if o.until else None,
                   "first_ticket": iso_moment(report.first) if report.first else None,
                   "last_ticket": iso_moment(report.last) if report.last else None,
                   "as_of": iso_moment(report.as_of) if report.as_of else None},
        "tickets": {"read": report.read, "audited": report.audited, "unreadable": report.unreadable},
        "unreadable_rows": [{"line": line, "reason": reason} for line, reason in report.bad_rows],
        "impossible_times": {"count": sum(report.impossible_count.values()),
                             "tickets": [{"ticket": t, "severity": lvl, "target": name, "created": created,
                                          "recorded": at} for t, lvl, name, created, at in report.impossible]},
        "severities": severities,
        "plans": None if m.model.plans is None else {
            "chosen_by": m.model.plans.chosen_by, "default": m.model.plans.default,
            "note": "each ticket is measured against its support plan's targets (the default plan's where the "
                    "export does not say); target_minutes are the default plan's"},
        "pauses": None if not m.model.matrix.pauses else {
            "targets": list(m.model.matrix.pauses), "tickets_with_waits": report.waited,
            "note": "the matrix stops these targets while a ticket waits on the customer: waits are read from an "
                    "event log's `paused` and `resumed` activities; an export without them counts waiting time"},
        "breaches": breaches,
        "criteria": {"with_answers": report.with_answers, "unreadable": report.unreadable_answer_count,
                     "disagreements": [{"ticket": t, "recorded": r, "computed": c, "rules": list(rules),
                                        "override_reason": why} for t, r, c, rules, why in report.disagreements],
                     "unreadable_answers": [{"ticket": t, "reason": why} for t, why in report.unreadable_answers],
                     "overrides": [{"ticket": t, "severity": lvl, "reason": why} for t, lvl, why in report.overrides]},
        "packets": {"escalated": report.escalated, "with_packet_data": report.escalated_with_packet,
                    "complete": report.complete_packets,
                    "share_complete": round(report.complete_packets / report.escalated_with_packet, 4)
                    if report.escalated_with_packet else None,
                    "missing_fields": dict(report.missing_fields.most_common())},
        "routing": {"bounced": bounced,
                    "bounce_threshold": o.bounce_threshold,
                    "to_assign_minutes": {"median": _round(assign_median), "p90": _round(assign_p90)},
                    "assign_to_escalate_minutes": {"median": _round(escalate_median), "p90": _round(escalate_p90)},
                    "unknown_roles": dict(report.unknown_roles)},
        "repeated": {"window_days": o.window_days, "threshold": o.repeat_threshold, "candidates": repeated(report)},
        "exceptions": {"tickets": dict(report.exceptions_used),
                       "unknown": sorted(set(report.exceptions_used) - report.known_exceptions),
                       "matrix": matrix_exceptions},
        "acknowledge_distribution": histogram(report.acknowledge_all),
    }


BINS = (5, 15, 30, 60, 120, 240, 480, 960, 1920)


def histogram(parts: list[Any]) -> list[dict[str, Any]]:
    """Counts of time to acknowledge (NumPy arrays of minutes) in bins: under 5, 5-15, ..., 1920 and over."""
    import numpy as np

    counts = [0] * (len(BINS) + 1)
    for values in parts:  # a value's bin is the number of edges at or below it
        counts = [a + b for a, b in zip(counts, np.bincount(np.searchsorted(BINS, values, side="right"),
                                                              minlength=len(BINS) + 1).tolist())]
    edges = (0, *BINS)
    return [{"from": edges[i], "to": BINS[i] if i < len(BINS) else None, "tickets": c} for i, c in enumerate(counts)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
