"""Demand and work for `triage capacity`: severity plans from the matrix and roster, tickets per severity over
time (from history or from rates), and the work they make per role and hour of the week."""

from __future__ import annotations

import bisect
import functools
import math
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from triage.capacity.roster import Roster
from triage.matrix.durations import EndOfDay
from triage.matrix.loader import Matrix

STEP_TARGETS = ("acknowledge", "assign_owner", "update")
ACK, ASSIGN, UPDATE = 0, 1, 2
WEEK = 168
_MAX_UPDATES = 10_000  # per ticket: a ticket open for years is data, not a workload to replay
DRAIN_DAYS = 14
ALLOWANCE_STEP = 300.0  # time left of more than an hour is grouped in steps of five minutes (never rounded up)


def _grouped(allowance: float) -> float:
    """The time a task has before its deadline, as its work is grouped: to the second up to an hour (targets
    in seconds, such as 20 s, stay exact), in five-minute steps beyond (a night or a weekend of slack would
    otherwise make a group per task)."""
    step = 1.0 if allowance <= SPREAD_AFTER else ALLOWANCE_STEP
    return allowance // step * step


@dataclass
class SeverityPlan:
    """What the capacity model needs of one severity: targets, calendar, roles and efforts."""

    id: str
    level: int
    label: str
    calendar: Any
    calendar_id: str
    receives: str
    owner: str
    acknowledge: float
    assign_owner: float | None  # None: the level promises no time for it, and the model leaves the step out
    cadence: list[tuple[float, float | None]]  # empty: no updates promised
    resolution: float | None
    effort: dict[str, float]
    name: str = ""  # how the level is shown: `P1`, or `Severity 2`
    # steps due at the close of a business day (`end of next business day`: 1): their allowance is per ticket,
    # and `acknowledge` / `assign_owner` hold the most it can be
    by_day: dict[str, int] = field(default_factory=dict)
    _offsets: list[float] = field(default_factory=list, repr=False)

    def allowance(self, step: str, created: float) -> float:
        """A step's target in calendar seconds for a ticket created at `created`."""
        after = self.by_day.get(step)
        fixed = self.acknowledge if step == "acknowledge" else self.assign_owner
        if after is None or fixed is None:
            return fixed if fixed is not None else math.inf
        close = self.calendar.end_of_day(datetime.fromtimestamp(created, UTC), after).timestamp()
        return float(self.calendar.seconds_between(created, close))

    def targets(self) -> dict[str, float]:
        """The steps this level promises a time for, in calendar seconds."""
        out = {"acknowledge": self.acknowledge}
        if self.assign_owner is not None:
            out["assign_owner"] = self.assign_owner
        if self.cadence:
            out["update"] = self.cadence[0][0]
        return out

    def update_offsets(self, lifetime: float) -> list[float]:
        """Due times of the updates of a ticket open for `lifetime` seconds (calendar time from triage)."""
        offsets = self._offsets
        if not self.cadence:
            return []
        while (not offsets or offsets[-1] < lifetime) and len(offsets) < _MAX_UPDATES:
            t = offsets[-1] if offsets else 0.0
            offsets.append(t + self.every_at(t))
        return offsets[:bisect.bisect_left(offsets, lifetime)]

    def every_at(self, age: float) -> float:
        return every_at(self.cadence, age)

    def role_for(self, step: str) -> str:
        """The role whose work a step is: the receiving role acknowledges, the owner does the rest (when the
        owner is the receiving role, its acknowledgement is the assignment)."""
        return self.receives if step == "acknowledge" else self.owner


def _seconds(delta: Any) -> float | None:
    return None if delta is None else float(delta.total_seconds())


def cadence_seconds(targets: Any) -> list[tuple[float, float | None]]:
    """A severity's update cadence as (every, for how long) in seconds; the last step runs on."""
    return [(s.every.total_seconds(), None if s.for_ is None else s.for_.total_seconds()) for s in targets.update_every]


def plans(matrix: Matrix, roster: Roster, changes: dict[tuple[str, str], float] | None = None) -> dict[int,
                                                                                                       SeverityPlan]:
    """Severity plans from the matrix, with `changes[(severity id, target)] = seconds` applied (what-ifs)."""
    changes = changes or {}
    out = {}
    for level in sorted(matrix.levels):
        sev = matrix.levels[level]
        t = matrix.targets(level)  # the default plan's, where the matrix has plans
        cadence = cadence_seconds(t)
        if (sev.id, "update") in changes:
            cadence = [(changes[(sev.id, "update")], None)]
        out[level] = SeverityPlan(
            sev.id, level, sev.spec.label, matrix.calendars[t.calendar], t.calendar, sev.spec.routing.receives,
            sev.spec.routing.owner,
            changes.get((sev.id, "acknowledge"), t.acknowledge.total_seconds()),
            changes.get((sev.id, "assign_owner"), _seconds(t.assign_owner)),
            cadence, None if t.resolution is None else _seconds(t.resolution.within),
            {step: roster.effort(sev.id, step) for step in STEP_TARGETS}, matrix.level_name(level),
            {step: limit.after for step, limit in (("acknowledge", t.acknowledge), ("assign_owner", t.assign_owner))
             if isinstance(limit, EndOfDay) and (sev.id, step) not in changes})
    return out


# ---------------------------------------------------------------------------------------------- demand


@dataclass
class Demand:
    """Tickets to replay: (created timestamp, level, open seconds on the severity's calendar until
    resolution or -1 when unknown), in time order. From history also: the hands-on time the help desk
    tracked per ticket (level, lifetime, seconds), and how often the targets were really met."""

    arrivals: list[tuple[float, int, float]]
    source: str
    unreadable: int = 0
    skipped_levels: int = 0
    spent: list[tuple[int, float, float]] = field(default_factory=list)
    history: dict[tuple[int, str], list[int]] = field(default_factory=dict)

    @property
    def first(self) -> float:
        return self.arrivals[0][0]

    @functools.cached_property
    def median_lifetimes(self) -> dict[int, float]:
        """Per level, the median lifetime of the tickets whose resolution is known (worked out once: every
        workload and replay of the run asks)."""
        known: dict[int, list[float]] = {}
        for _, level, lifetime in self.arrivals:
            if lifetime >= 0:
                known.setdefault(level, []).append(lifetime)
        return {level: statistics.median(values) for level, values in known.items()}

    @property
    def last(self) -> float:
        return self.arrivals[-1][0]


def every_at(cadence: list[tuple[float, float | None]], age: float) -> float:
    """The update interval in force at `age` seconds (calendar time) after triage."""
    elapsed = 0.0
    for every, span in cadence:
        if span is None or age < elapsed + span:
            return every
        elapsed += span
    return cadence[-1][0]


def demand_from_tickets(matrix: Matrix, items: Iterable[Any], *, since: datetime | None = None,
                        until: datetime | None = None) -> Demand:
    """Demand from audit readers' tickets (BadRows are counted): creation times, severities, lifetimes,
    tracked time, and the targets as really met where the export has the times. Tickets are measured a
    batch at a time, as arrays."""
    import numpy as np

    from triage.exports.measure import Clock, Measure, cadence_gaps, parts, stamps, within
    from triage.exports.tickets import BadRow, batched

    clocks: dict[str, Clock] = {}
    plans = {}
    for lvl in matrix.levels:
        t = matrix.targets(lvl)
        plans[lvl] = (clocks.setdefault(t.calendar, Clock(matrix.calendars[t.calendar])),
                      t.acknowledge.total_seconds(), _seconds(t.assign_owner), cadence_seconds(t))
    history: dict[tuple[int, str], list[int]] = {}

    def count(level: int, step: str, ok: Any) -> None:
        if len(ok):
            pair = history.setdefault((level, step), [0, 0])
            pair[1] += len(ok)
            pair[0] += int(np.count_nonzero(ok))

    arrivals: list[tuple[float, int, float]] = []
    spent: list[tuple[int, float, float]] = []
    unreadable = skipped = 0
    for batch in batched(items):
        if isinstance(batch, BadRow):
            unreadable += 1
            continue
        levels = np.array(batch.level, dtype=np.int64)
        known = np.isin(levels, list(plans))
        skipped += int(len(levels) - np.count_nonzero(known))
        created = stamps(batch.created)
        chosen = known & within(created, since, until)
        for part in parts(batch, chosen, levels, created, ("acknowledged", "assigned", "resolved")):
            lvl, born, resolved = part.level, part.created, part.times["resolved"]
            clock, ack, assign, cadence = plans[lvl]
            measure = Measure(clock, born, part.updates, *part.times.values())
            lifetimes = np.where(np.isnan(resolved), -1.0, measure.between(born, np.nan_to_num(resolved)))
            arrivals += zip(born.tolist(), [lvl] * len(part.rows), lifetimes.tolist())
            for i, lifetime in zip(part.rows.tolist(), lifetimes.tolist()):
                if batch.time_spent[i] is not None:
                    spent.append((lvl, lifetime, batch.time_spent[i]))
            for step, name, target in (("acknowledge", "acknowledged", ack), ("assign_owner", "assigned", assign)):
                if target is None:
                    continue
                actual = part.times[name]
                have = ~np.isnan(actual)
                count(lvl, step, measure.between(born[have], actual[have]) <= target)
            if len(part.updates) and cadence:
                _, gap, every = cadence_gaps(measure, part, cadence)
                count(lvl, "update", gap <= every)
    arrivals.sort()
    return Demand(arrivals, "history", unreadable, skipped, spent, history)


def demand_from_rates(matrix: Matrix, rates: dict[int, float], *, start: datetime, weeks: int, seed: int = 1) -> Demand:
    """Random arrivals at constant rates (tickets per hour per level) over `weeks`: the demand when there
    is no history. Lifetimes are the severities' resolution targets."""
    rng = random.Random(seed)
    arrivals = []
    begin = start.timestamp()
    end = begin + weeks * 604800
    for level, per_hour in rates.items():
        if per_hour <= 0:
            continue
        within = _seconds(getattr(matrix.targets(level).resolution, "within", None))
        lifetime = within if within is not None else -1.0
        t = begin
        while True:
            t += rng.expovariate(per_hour / 3600)
            if t >= end:
                break
            arrivals.append((t, level, lifetime))
    arrivals.sort()
    return Demand(arrivals, "rates")


MIN_TRACKED = 20  # tickets with tracked time a severity needs before its efforts come from history


def calibrate(matrix: Matrix, roster: Roster, demand: Demand) -> tuple[Roster, list[dict[str, Any]]]:
    """Efforts from the history's tracked time: per severity, the median of (time tracked on a ticket /
    the time the roster's efforts give its steps) scales the roster's efforts, so their proportions stay
    the team's estimate and their level comes from what the help desk measured."""
    plan = plans(matrix, roster)
    lifetimes = typical_lifetimes(demand, plan)
    ratios: dict[int, list[float]] = {}
    for level, lifetime, seconds in demand.spent:
        p = plan.get(level)
        if p is None:
            continue
        steps = p.effort["acknowledge"] + (p.effort["assign_owner"] if p.owner != p.receives
                                           and p.assign_owner is not None else 0.0)
        steps += len(p.update_offsets(lifetime if lifetime >= 0 else lifetimes[level])) * p.effort["update"]
        ratios.setdefault(level, []).append(seconds / steps)
    efforts = {sid: dict(steps) for sid, steps in roster.efforts.items()}
    report = []
    for level in sorted(plan):
        p = plan[level]
        found = ratios.get(level, [])
        factor = statistics.median(found) if len(found) >= MIN_TRACKED else None
        if factor is not None and factor > 0:
            efforts[p.id] = {step: max(p.effort[step] * factor, 1.0) for step in STEP_TARGETS}
        report.append({"severity": p.id, "tracked_tickets": len(found), "factor": factor,
                       "source": "history" if factor else "roster",
                       "minutes": {step: round(efforts.get(p.id, efforts["default"])[step] / 60, 1)
                                   for step in STEP_TARGETS}})
    return replace(roster, efforts=efforts), report


def typical_lifetimes(demand: Demand, plan: dict[int, SeverityPlan]) -> dict[int, float]:
    """Per level: the median known lifetime, else the resolution target, else 0 (no updates)."""
    known = demand.median_lifetimes
    return {level: known.get(level, p.resolution if p.resolution is not None else 0.0) for level, p in plan.items()}


# ---------------------------------------------------------------------------------------------- hours of the week


class WeekHours:
    """Hour of the week (0 = Monday 00:00-01:00) of a timestamp in the home zone, cached per quarter hour."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._cache: dict[int, int] = {}

    def __call__(self, ts: float) -> int:
        bucket = int(ts // 900)
        how = self._cache.get(bucket)
        if how is None:
            local = datetime.fromtimestamp(ts, self.zone)
            how = local.weekday() * 24 + local.hour
            self._cache[bucket] = how
        return how

    def exposure(self, first: float, last: float) -> list[float]:
        """How many times each hour of the week occurs between two moments (at least once each)."""
        counts = [0.0] * WEEK
        start = datetime.fromtimestamp(first, self.zone).replace(minute=0, second=0, microsecond=0)
        ts = start.timestamp()
        while ts <= last:
            counts[self(ts)] += 1
            ts += 3600
        return [max(c, 1.0) for c in counts]


# ---------------------------------------------------------------------------------------------- workload


@dataclass
class Workload:
    """Work per role and hour of the week, averaged over the weeks of the demand."""

    roles: list[str]
    exposure: list[float]
    count: dict[tuple[str, int], float]  # tasks per week in that hour
    effort: dict[tuple[str, int], float]  # total effort seconds per week in that hour
    by_level: dict[tuple[str, int], dict[int, float]]  # tasks per week per severity level
    groups: dict[tuple[str, int], dict[tuple[int, str, float], float]]  # -> (level, step, allowance) -> tasks
    # (role, hour) -> the hour's load as its pooled neighbourhood has it, over its own (see `pooled`)
    pooling: dict[tuple[str, int], float] = field(default_factory=dict)


def workload(demand: Demand, plan: dict[int, SeverityPlan], zone: ZoneInfo, people: dict[str, list[int]]) -> Workload:
    """Tasks per role and hour of the week, each with the real time it has before its deadline (on a
    business-hours calendar a task that appears at night has until the next day).

    Work due within the hour counts in the hour it appears. Work with more slack (updates on long
    cadences, business-hours tickets that arrive at night) is spread over the hours of its window in
    proportion to the people that work leaves free: the team does it when it is there and has time, not all
    in the hour it appears (an 8-hour target in an hour the urgent work overloads read 0%)."""
    hours = WeekHours(zone)
    exposure = hours.exposure(demand.first, demand.last) if demand.arrivals else [1.0] * WEEK
    lifetimes = typical_lifetimes(demand, plan)
    raw: dict[tuple[str, int, int, str, float, float, bool], float] = {}
    if demand.arrivals:
        first_day, last_day = horizon(demand, zone)
        lines = {lvl: p.calendar.compiled(first_day, last_day) for lvl, p in plan.items()}

    for created, level, lifetime in demand.arrivals:
        p = plan[level]
        calendar = lines[level]
        base = calendar.open_until(created)
        how = hours(created)
        e_ack = p.effort["acknowledge"]
        ack_left = calendar.moment(created, base + (p.allowance("acknowledge", created) if p.by_day
                                                    else p.acknowledge)) - created
        key = (p.receives, how, level, "acknowledge", _grouped(ack_left), e_ack, True)
        raw[key] = raw.get(key, 0.0) + 1.0
        if p.assign_owner is not None:
            assign_left = calendar.moment(created, base + (p.allowance("assign_owner", created) if p.by_day
                                                           else p.assign_owner)) - created
            if p.owner != p.receives:
                key = (p.owner, hours(created + e_ack), level, "assign_owner",
                       _grouped(assign_left - e_ack), p.effort["assign_owner"], True)
            else:  # the acknowledgement is the assignment: no more work, a second deadline
                key = (p.owner, how, level, "assign_owner", _grouped(assign_left), e_ack, False)
            raw[key] = raw.get(key, 0.0) + 1.0
        offsets = p.update_offsets(lifetime if lifetime >= 0 else lifetimes[level])
        release = created
        e_update = p.effort["update"]
        for offset in offsets:
            due = calendar.moment(release, base + offset)
            if due == math.inf:
                break
            key = (p.owner, hours(release), level, "update", _grouped(due - release - e_update), e_update, True)
            raw[key] = raw.get(key, 0.0) + 1.0
            release = due

    count: dict[tuple[str, int], float] = {}
    effort: dict[tuple[str, int], float] = {}
    by_level: dict[tuple[str, int], dict[int, float]] = {}
    groups: dict[tuple[str, int], dict[tuple[int, str, float], float]] = {}
    # work due within the hour first, where it appears; then work with hours of slack, spread over its window in
    # proportion to the people the first leaves free (and to the people on duty where none are free), so that an
    # hour the urgent work overloads does not take work that can wait for a quieter one
    free: dict[str, list[float]] = {}
    for (role, how, level, step, allowance, seconds, loads), n in sorted(raw.items(),
                                                                         key=lambda kv: kv[0][4] > SPREAD_AFTER):
        week: list[float] | list[int] = people.get(role, [0] * WEEK)
        if allowance > SPREAD_AFTER:
            if role not in free:
                free[role] = [max(0.0, on - effort.get((role, h), 0.0) / 3600) + 1e-6 * on
                              for h, on in enumerate(week)]
            week = free[role]
        for at, share, left in _spread(week, how, allowance):
            weight = n * share / exposure[at]
            cell = (role, at)
            if loads:
                count[cell] = count.get(cell, 0.0) + weight
                effort[cell] = effort.get(cell, 0.0) + seconds * weight
                levels = by_level.setdefault(cell, {})
                levels[level] = levels.get(level, 0.0) + weight
            bucket = groups.setdefault(cell, {})
            bucket[(level, step, left)] = bucket.get((level, step, left), 0.0) + weight
    roles = sorted({role for role, _ in groups})
    return Workload(roles, exposure, count, effort, by_level, groups, pooled(count, effort, exposure))


POOL_TASKS = 400  # hours measured from fewer tasks than this, typically, borrow their rate from like neighbours
POOL_REACH = (1, -1, 2, -2, 3, -3, 24, -24, 48, -48, 72, -72)  # neighbours, nearest first: hours, then days


def pooled(count: dict[tuple[str, int], float], effort: dict[tuple[str, int], float],
           exposure: list[float]) -> dict[tuple[str, int], float]:
    """Per role and hour of the week, how much its load should be scaled to the rate of its pooled
    neighbourhood (1.0 is left out).

    A few dozen tickets in an hour measure its rate only roughly, and Erlang C is so steep near full load
    that averaging it over noisy hours comes out well below the truth (10 Erlangs on 13 people read as .64
    from one week of 20 tickets an hour, where .80 is right). So where a role's hours typically hold fewer
    than POOL_TASKS tasks, each of its hours takes in as many neighbours as make up that many, the next
    hours first and then the same hour on the next days; a neighbour whose count is more than three
    standard deviations from what the rate pooled so far predicts for it (both counted as Poisson, compared
    on the square-root scale) is left out, so a real peak stands on its own while noise is averaged out.
    Every hour of a role takes in the same number of neighbours: choosing by an hour's own count would pool
    only the hours that came out low."""
    out: dict[tuple[str, int], float] = {}
    for role in {r for r, _ in count}:
        own = {how: count[(r, how)] * exposure[how] for r, how in count if r == role and effort.get((r, how))}
        if not own:
            continue
        typical = sorted(own.values())[len(own) // 2]
        reach = POOL_REACH[:max(0, min(len(POOL_REACH), math.ceil(POOL_TASKS / max(typical, 1e-9)) - 1))]
        for how, tasks in own.items():
            weeks, work = exposure[how], effort[(role, how)] * exposure[how]
            for step in reach:
                near = (how + step) % WEEK
                seen = count.get((role, near), 0.0) * exposure[near]
                expected = tasks / weeks * exposure[near]
                # counts compared on the square-root scale, where a Poisson count's spread is about 1/2 whatever
                # its size (a normal test on the counts themselves lets 19 against 1 pass as noise)
                if abs(math.sqrt(seen) - math.sqrt(expected)) > 3 * math.sqrt(0.25 + 0.25 * exposure[near] / weeks):
                    continue
                tasks += seen
                weeks += exposure[near]
                work += effort.get((role, near), 0.0) * exposure[near]
            factor = (work / weeks) / effort[(role, how)]
            if abs(factor - 1.0) > 1e-12:
                out[(role, how)] = factor
    return out


SPREAD_AFTER = 3600.0  # work with more slack than this is spread over the staffed hours of its window


def _spread(week: list[float] | list[int], how: int, allowance: float) -> list[tuple[int, float, float]]:
    """(hour of the week, share of the work, slack left from that hour) for work appearing in `how`."""
    if allowance <= SPREAD_AFTER:
        return [(how, 1.0, allowance)]
    span = min(int(allowance // 3600), WEEK)
    weights = [(week[(how + d) % WEEK], d) for d in range(span)]
    total = sum(w for w, _ in weights)
    if not total:
        return [(how, 1.0, allowance)]
    return [((how + d) % WEEK, w / total, allowance - d * 3600) for w, d in weights if w]


def horizon(demand: Demand, zone: ZoneInfo) -> tuple[date, date]:
    """Local days the replay covers: from the day before the first ticket to a fortnight after the last
    ticket's typical end (updates of tickets open longer than that are not replayed)."""
    longest = max((life for _, _, life in demand.arrivals[-2000:]), default=0.0)
    first = datetime.fromtimestamp(demand.first, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(demand.last, zone).date() + timedelta(days=DRAIN_DAYS + min(int(longest // 86400),
                                                                                              366))
    return first, last
