"""`triage capacity`: can the team keep the matrix's promises with the people on the roster?

Two answers from the same demand (tickets per severity over time, from history or from rates):

- a queueing estimate: each role is a pool of people; in each hour of the week its work (acknowledging
  the tickets it receives, taking ownership, writing updates) arrives at random and takes the roster's
  effort on average, and Erlang C gives the probability of waiting, the share started within each
  target and the occupancy. Each hour is treated as a steady state on its own; calendars set how much
  real time a task has before its deadline.
- a replay: every ticket of the demand arrives at its real time; the people on duty (shifts, holidays)
  take the waiting work, the most severe first and the oldest first within a severity, one task at a
  time; waits are measured on each severity's calendar. It sees bursts and backlogs the estimate misses.

Steps and who does them: the role that receives a severity acknowledges (target: `acknowledge`); the
owner takes ownership once the acknowledgement is done (target: `assign_owner`; when the receiving
role is also the owner, the acknowledgement is the assignment); the owner writes each update within its
cadence interval, from the previous due time to the next (target: the cadence), until resolution.
A task is on time when it starts early enough: an update must be finished by its due time.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from triage.matrix.loader import Matrix
from triage.capacity.roster import Roster, describe_hours, week_start

STEP_TARGETS = ("acknowledge", "assign_owner", "update")
ACK, ASSIGN, UPDATE = 0, 1, 2
WEEK = 168
_MAX_UPDATES = 10_000  # per ticket: a ticket open for years is data, not a workload to replay
DRAIN_DAYS = 14


# ---------------------------------------------------------------------------------------------- Erlang C

def erlang_c(servers: int, load: float) -> float:
    """Probability that work waits, for `servers` people and `load` Erlangs (1.0 when overloaded).

    Computed through Erlang B's recurrence, which stays exact for hundreds of servers where the textbook
    form with factorials overflows."""
    if load <= 0:
        return 0.0
    if servers <= 0 or load >= servers:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return servers * b / (servers - load * (1 - b))


def service_level(servers: int, load: float, handle: float, allowance: float) -> float:
    """Share of work that starts within `allowance` seconds (same unit as `handle`, the mean effort)."""
    if load <= 0:
        return 1.0
    if servers <= 0 or load >= servers:
        return 0.0
    if allowance < 0:
        return 0.0
    return 1.0 - erlang_c(servers, load) * math.exp(-(servers - load) * allowance / handle)


def mean_wait(servers: int, load: float, handle: float) -> float:
    """Average wait before work starts, in the unit of `handle` (infinite when overloaded)."""
    if load <= 0:
        return 0.0
    if servers <= 0 or load >= servers:
        return math.inf
    return erlang_c(servers, load) * handle / (servers - load)


# ---------------------------------------------------------------------------------------------- plans

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
    assign_owner: float
    cadence: list[tuple[float, float | None]]
    resolution: float | None
    effort: dict[str, float]
    _offsets: list[float] = field(default_factory=list, repr=False)

    def targets(self) -> dict[str, float]:
        return {"acknowledge": self.acknowledge, "assign_owner": self.assign_owner, "update": self.cadence[0][0]}

    def update_offsets(self, lifetime: float) -> list[float]:
        """Due times of the updates of a ticket open for `lifetime` seconds (calendar time from triage)."""
        offsets = self._offsets
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


def cadence_seconds(targets: Any) -> list[tuple[float, float | None]]:
    """A severity's update cadence as (every, for how long) in seconds; the last step runs on."""
    return [(s.every.total_seconds(), None if s.for_ is None else s.for_.total_seconds()) for s in targets.update_every]


def plans(matrix: Matrix, roster: Roster, changes: dict[tuple[str, str], float] | None = None) -> dict[int, SeverityPlan]:
    """Severity plans from the matrix, with `changes[(severity id, target)] = seconds` applied (what-ifs)."""
    changes = changes or {}
    out = {}
    for level in sorted(matrix.levels):
        sev = matrix.levels[level]
        t = sev.spec.targets
        cadence = cadence_seconds(t)
        if (sev.id, "update") in changes:
            cadence = [(changes[(sev.id, "update")], None)]
        out[level] = SeverityPlan(
            sev.id, level, sev.spec.label, matrix.calendars[t.calendar], t.calendar, sev.spec.routing.receives,
            sev.spec.routing.owner,
            changes.get((sev.id, "acknowledge"), t.acknowledge.total_seconds()),
            changes.get((sev.id, "assign_owner"), t.assign_owner.total_seconds()),
            cadence, None if t.resolution.within is None else t.resolution.within.total_seconds(),
            {step: roster.effort(sev.id, step) for step in STEP_TARGETS})
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

    from triage.exports.readers import BadRow, batched
    from triage.exports.measure import Clock, Measure, cadence_gaps, parts, stamps, within

    clocks: dict[str, Clock] = {}
    plans = {}
    for lvl, sev in matrix.levels.items():
        t = sev.spec.targets
        plans[lvl] = (clocks.setdefault(t.calendar, Clock(matrix.calendars[t.calendar])),
                      t.acknowledge.total_seconds(), t.assign_owner.total_seconds(), cadence_seconds(t))
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
                actual = part.times[name]
                have = ~np.isnan(actual)
                count(lvl, step, measure.between(born[have], actual[have]) <= target)
            if len(part.updates):
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
        within = matrix.levels[level].spec.targets.resolution.within
        lifetime = within.total_seconds() if within is not None else -1.0
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
        steps = p.effort["acknowledge"] + (p.effort["assign_owner"] if p.owner != p.receives else 0.0)
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
    return {level: known[level] if level in known else p.resolution if p.resolution is not None else 0.0
            for level, p in plan.items()}


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


def workload(demand: Demand, plan: dict[int, SeverityPlan], zone: ZoneInfo, people: dict[str, list[int]]) -> Workload:
    """Tasks per role and hour of the week, each with the real time it has before its deadline (on a
    business-hours calendar a task that appears at night has until the next day).

    Work due within the hour counts in the hour it appears. Work with more slack (updates on long
    cadences, business-hours tickets that arrive at night) is spread over the hours of its window in
    proportion to the people on duty: the team does it when it is there, not all in the hour it appears."""
    hours = WeekHours(zone)
    exposure = hours.exposure(demand.first, demand.last) if demand.arrivals else [1.0] * WEEK
    lifetimes = typical_lifetimes(demand, plan)
    raw: dict[tuple[str, int, int, str, float, float, bool], float] = {}
    step_size = ALLOWANCE_STEP
    if demand.arrivals:
        first_day, last_day = horizon(demand, zone)
        lines = {lvl: p.calendar.compiled(first_day, last_day) for lvl, p in plan.items()}

    for created, level, lifetime in demand.arrivals:
        p = plan[level]
        calendar = lines[level]
        base = calendar.open_until(created)
        how = hours(created)
        e_ack = p.effort["acknowledge"]
        key = (p.receives, how, level, "acknowledge", (calendar.moment(created, base + p.acknowledge) - created)
               // step_size * step_size, e_ack, True)
        raw[key] = raw.get(key, 0.0) + 1.0
        assign_left = calendar.moment(created, base + p.assign_owner) - created
        if p.owner != p.receives:
            key = (p.owner, hours(created + e_ack), level, "assign_owner", (assign_left - e_ack) // step_size * step_size,
                   p.effort["assign_owner"], True)
        else:  # the acknowledgement is the assignment: no more work, a second deadline
            key = (p.owner, how, level, "assign_owner", assign_left // step_size * step_size, e_ack, False)
        raw[key] = raw.get(key, 0.0) + 1.0
        offsets = p.update_offsets(lifetime if lifetime >= 0 else lifetimes[level])
        release = created
        e_update = p.effort["update"]
        for offset in offsets:
            due = calendar.moment(release, base + offset)
            if due == math.inf:
                break
            key = (p.owner, hours(release), level, "update", (due - release - e_update) // step_size * step_size,
                   e_update, True)
            raw[key] = raw.get(key, 0.0) + 1.0
            release = due

    count: dict[tuple[str, int], float] = {}
    effort: dict[tuple[str, int], float] = {}
    by_level: dict[tuple[str, int], dict[int, float]] = {}
    groups: dict[tuple[str, int], dict[tuple[int, str, float], float]] = {}
    for (role, how, level, step, allowance, seconds, loads), n in raw.items():
        for at, share, left in _spread(people.get(role, [0] * WEEK), how, allowance):
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
    return Workload(roles, exposure, count, effort, by_level, groups)


SPREAD_AFTER = 3600.0  # work with more slack than this is spread over the staffed hours of its window


def _spread(week: list[int], how: int, allowance: float) -> list[tuple[int, float, float]]:
    """(hour of the week, share of the work, slack left from that hour) for work appearing in `how`."""
    if allowance <= SPREAD_AFTER:
        return [(how, 1.0, allowance)]
    span = min(int(allowance // 3600), WEEK)
    weights = [(week[(how + d) % WEEK], d) for d in range(span)]
    total = sum(w for w, _ in weights)
    if not total:
        return [(how, 1.0, allowance)]
    return [((how + d) % WEEK, w / total, allowance - d * 3600) for w, d in weights if w]


ALLOWANCE_STEP = 300.0


def by_priority(servers: int, loads: dict[int, float], handle: float) -> dict[int, tuple[float, float]]:
    """Per severity level: (probability of waiting, mean wait of those who wait), when the most severe
    work is taken first (non-preemptive priority, same mean effort for all: Cobham's formula on Erlang C).
    With one level this is plain Erlang C."""
    total = sum(loads.values())
    waits = erlang_c(servers, total) if servers > 0 else 1.0
    out = {}
    before = 0.0
    for level in sorted(loads):
        if servers <= 0:
            out[level] = (1.0, math.inf)
            continue
        upto = before + loads[level] / servers
        if upto >= 1 or before >= 1:
            out[level] = (1.0, math.inf)
        elif waits <= 0:
            out[level] = (0.0, 0.0)
        else:
            mean = waits * handle / servers / ((1 - before) * (1 - upto))
            out[level] = (waits, mean / waits)
        before = upto
    return out


def within(waits: float, conditional: float, allowance: float) -> float:
    """Share started within `allowance` when a share `waits` waits, exponentially, `conditional` on average."""
    if allowance < 0:
        return 0.0
    if waits <= 0 or conditional <= 0:
        return 1.0
    if math.isinf(conditional):
        return 0.0
    return 1.0 - waits * math.exp(-allowance / conditional)


@dataclass
class HourEstimate:
    people: int
    load: float  # Erlangs
    handle: float  # mean effort, seconds
    waits: float  # probability of waiting
    occupancy: float
    levels: dict[int, tuple[float, float]]  # level -> (probability of waiting, mean wait when waiting)

    def mean_wait(self, level: int) -> float:
        waits, conditional = self.levels.get(level, (0.0, 0.0))
        return waits * conditional if waits else 0.0


def hour_estimate(work: Workload, role: str, how: int, people: int) -> HourEstimate | None:
    tasks = work.count.get((role, how))
    if not tasks:
        return None
    handle = work.effort[(role, how)] / tasks
    load = tasks * handle / 3600
    levels = {lvl: 0.0 for lvl, _, _ in work.groups[(role, how)]}  # deadlines without work of their own
    levels.update({lvl: n * handle / 3600 for lvl, n in work.by_level[(role, how)].items()})
    return HourEstimate(people, load, handle, erlang_c(people, load), load / people if people else math.inf,
                        by_priority(people, levels, handle))


def _group_shares(work: Workload, plan: dict[int, SeverityPlan], role: str, how: int,
                  estimates: dict[tuple[str, int], HourEstimate | None]) -> list[tuple[int, str, float, float]]:
    """(level, step, tasks, share on time) for each kind of work of one role in one hour."""
    h = estimates.get((role, how))
    out = []
    for (level, step, allowance), tasks in work.groups[(role, how)].items():
        if h is None:
            out.append((level, step, tasks, 1.0))
            continue
        if step == "assign_owner" and plan[level].owner != plan[level].receives:
            receiver = estimates.get((plan[level].receives, how))
            allowance -= receiver.mean_wait(level) if receiver is not None else 0.0
        waits, conditional = h.levels.get(level, (h.waits, 0.0))
        out.append((level, step, tasks, within(waits, conditional, allowance)))
    return out


def estimate(work: Workload, plan: dict[int, SeverityPlan], people: dict[str, list[int]]) -> dict[str, Any]:
    """The queueing estimate per role and hour; shares on time per (level, step), overall and per hour."""
    hours = {(role, how): hour_estimate(work, role, how, people.get(role, [0] * WEEK)[how]) for role, how in work.groups}
    on_time: dict[tuple[int, str], list[float]] = {}
    by_hour: dict[tuple[int, str], dict[int, list[float]]] = {}
    for role, how in work.groups:
        for level, step, tasks, share in _group_shares(work, plan, role, how, hours):
            total = on_time.setdefault((level, step), [0.0, 0.0])
            total[0] += share * tasks
            total[1] += tasks
            cell = by_hour.setdefault((level, step), {}).setdefault(how, [0.0, 0.0])
            cell[0] += share * tasks
            cell[1] += tasks
    return {"hours": {k: v for k, v in hours.items() if v is not None}, "on_time": on_time, "by_hour": by_hour}


# ---------------------------------------------------------------------------------------------- replay

@dataclass
class Replay:
    met: dict[tuple[int, str], list[int]]  # (level, step) -> [on time, total]
    by_hour: dict[tuple[int, str], dict[int, list[int]]]  # ... per hour of the week the work appeared
    busy: dict[str, list[float]]  # role -> effort seconds started in each hour of the week
    staffed: dict[str, list[float]]  # role -> people-seconds on duty in each hour of the week
    never_started: int
    tasks: int


def horizon(demand: Demand, zone: ZoneInfo) -> tuple[date, date]:
    """Local days the replay covers: from the day before the first ticket to a fortnight after the last
    ticket's typical end (updates of tickets open longer than that are not replayed)."""
    longest = max((life for _, _, life in demand.arrivals[-2000:]), default=0.0)
    first = datetime.fromtimestamp(demand.first, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(demand.last, zone).date() + timedelta(days=DRAIN_DAYS + min(int(longest // 86400), 366))
    return first, last


def replay(demand: Demand, plan: dict[int, SeverityPlan], roster: Roster, zone: ZoneInfo, *,
           vary: int | None = None) -> Replay:
    """Replay every ticket of the demand against the roster (a discrete-event simulation).

    Tickets arrive from the sorted demand; shifts change from the roster's timeline; other events (an
    assignment once the acknowledgement is done, an update window opening, someone finishing while work
    waits) come from one heap. Each role takes its waiting work most severe first, oldest first within a
    severity; nobody is interrupted, and someone whose shift ends finishes the task in hand.

    With `vary` (a seed), each task's effort is drawn at random, exponentially around its average, as the
    queueing model assumes; without it every task takes exactly the roster's effort."""
    hours = WeekHours(zone)
    draw = random.Random(vary).expovariate if vary is not None else None
    roles = sorted({r for p in plan.values() for r in (p.receives, p.owner)})
    index = {r: i for i, r in enumerate(roles)}
    lifetimes = typical_lifetimes(demand, plan)
    met: dict[tuple[int, str], list[int]] = {(lvl, s): [0, 0] for lvl in plan for s in STEP_TARGETS}
    by_hour: dict[tuple[int, str], dict[int, list[int]]] = {key: {} for key in met}
    busy = {r: [0.0] * WEEK for r in roles}
    staffed = {r: [0.0] * WEEK for r in roles}
    if not demand.arrivals:
        return Replay(met, by_hour, busy, staffed, 0, 0)

    first_day, last_day = horizon(demand, zone)
    staff: list[tuple[float, int, int]] = []
    for role in roles:
        points = roster.timeline(role, first_day, last_day)
        staff.extend((ts, index[role], n) for ts, n in points)
        _staffed_hours(points, staffed[role], hours, demand.first, demand.last)
    staff.sort()

    levels = sorted(plan)
    slot = {lvl: i for i, lvl in enumerate(levels)}
    lines = {lvl: plan[lvl].calendar.compiled(first_day, last_day) for lvl in plan}
    always = {lvl: lines[lvl] is plan[lvl].calendar for lvl in plan}  # around the clock: calendar time is time
    spec = {lvl: (index[p.receives], index[p.owner], p.owner == p.receives, p.acknowledge, p.assign_owner,
                  p.effort["acknowledge"], p.effort["assign_owner"], p.effort["update"],
                  None if always[lvl] else lines[lvl].open_until, None if always[lvl] else lines[lvl].moment,
                  slot[lvl] * 3) for lvl, p in plan.items()}
    # on-time and total counts per (level, step, hour of the week) in flat lists
    good = [0] * (len(levels) * 3 * WEEK)
    total = [0] * (len(levels) * 3 * WEEK)
    busy_rows = [busy[r] for r in roles]
    working: list[list[float]] = [[] for _ in roles]  # per role: when each busy person finishes (a heap)
    cap = [0] * len(roles)
    queues: list[list[Any]] = [[] for _ in roles]
    waking = [False] * len(roles)
    events: list[Any] = []  # (time, seq, kind, payload): 0 someone finishes while work waits, 1 a task appears,
    #                         2 an update window opens
    push, pop = heapq.heappush, heapq.heappop
    inf = math.inf
    hour_of = hours._cache
    seq = 0
    started = 0

    def start(task: tuple[Any, ...], now: float) -> None:
        # task: (level, appeared, seq, role, step, due on the calendar, effort, ticket's start on the calendar, hour)
        nonlocal seq, started
        level, _, _, r, step, due, effort, base, how = task
        if draw is not None:
            effort = draw(1.0 / effort)
        push(working[r], now + effort)
        bucket = int(now // 900)
        now_how = hour_of.get(bucket)
        if now_how is None:
            now_how = hours(now)
        busy_rows[r][now_how] += effort
        started += 1
        s = spec[level]
        position = now if s[8] is None else s[8](now)
        cell = (s[10] + step) * WEEK + how
        total[cell] += 1
        if position <= due:
            good[cell] += 1
        if step == ACK:
            if s[2]:  # acknowledging is taking ownership
                cell += WEEK
                total[cell] += 1
                if position <= base + s[4]:
                    good[cell] += 1
            else:
                seq += 1
                push(events, (now + effort, seq, 1, (level, now + effort, seq, s[1], ASSIGN, base + s[4], s[6], base, how)))

    def drain(r: int, now: float) -> None:
        """Whoever of role `r` is free takes waiting work; wake again when the next person finishes."""
        nonlocal seq
        busy_r, q = working[r], queues[r]
        while busy_r and busy_r[0] <= now:
            pop(busy_r)
        while q and len(busy_r) < cap[r]:
            start(pop(q)[3], now)
            while busy_r and busy_r[0] <= now:
                pop(busy_r)
        if q and busy_r and not waking[r]:
            waking[r] = True
            seq += 1
            push(events, (busy_r[0], seq, 0, r))

    def offer(task: tuple[Any, ...], now: float) -> None:
        nonlocal seq
        r = task[3]
        busy_r = working[r]
        while busy_r and busy_r[0] <= now:
            pop(busy_r)
        q = queues[r]
        if len(busy_r) < cap[r]:
            if not q:
                start(task, now)
                return
            push(q, (task[0], task[1], task[2], task))
            drain(r, now)
            return
        push(q, (task[0], task[1], task[2], task))
        if busy_r and not waking[r]:
            waking[r] = True
            seq += 1
            push(events, (busy_r[0], seq, 0, r))

    def open_update(level: int, base: float, offsets: list[float], k: int, now: float) -> float:
        """Offer update `k` of a ticket; the moment the next one's window opens (infinity: no more)."""
        nonlocal seq
        s = spec[level]
        total_due = base + offsets[k]
        due = total_due if s[9] is None else s[9](now, total_due)
        if due == inf:
            return inf  # beyond the replayed span
        seq += 1
        how = hour_of.get(int(now // 900))
        if how is None:
            how = hours(now)
        offer((level, now, seq, s[1], UPDATE, total_due - s[7], s[7], base, how), now)
        return due if k + 1 < len(offsets) else inf

    arrivals = demand.arrivals
    n_arrivals = len(arrivals)
    a = s_i = 0
    n_staff = len(staff)
    t_arrival = arrivals[0][0]
    t_staff = staff[0][0] if staff else inf
    while True:
        t_event = events[0][0] if events else inf
        if t_staff <= t_event and t_staff <= t_arrival:
            if t_staff == inf:
                break
            ts, r, n = staff[s_i]
            s_i += 1
            t_staff = staff[s_i][0] if s_i < n_staff else inf
            cap[r] = n
            if queues[r]:
                drain(r, ts)
            if t_arrival == inf and not events and not any(queues):
                break
        elif t_event <= t_arrival:
            now, _, kind, payload = events[0]
            if kind == 2:
                level, base, offsets, k = payload
                due = open_update(level, base, offsets, k, now)
                if due == inf:
                    pop(events)
                else:
                    seq += 1
                    heapq.heapreplace(events, (due, seq, 2, (level, base, offsets, k + 1)))
                continue
            pop(events)
            if kind == 1:
                offer(payload, now)
            else:
                waking[payload] = False
                drain(payload, now)
        else:
            created, level, lifetime = arrivals[a]
            a += 1
            t_arrival = arrivals[a][0] if a < n_arrivals else inf
            s = spec[level]
            base = created if s[8] is None else s[8](created)
            seq += 1
            bucket = int(created // 900)
            how = hour_of.get(bucket)
            if how is None:
                how = hours(created)
            offer((level, created, seq, s[0], ACK, base + s[3], s[5], base, how), created)
            offsets = plan[level].update_offsets(lifetime if lifetime >= 0 else lifetimes[level])
            if offsets:
                due = open_update(level, base, offsets, 0, created)
                if due != inf:
                    seq += 1
                    push(events, (due, seq, 2, (level, base, offsets, 1)))
    never = 0
    for q in queues:
        for entry in q:
            task = entry[3]
            total[(spec[task[0]][10] + task[4]) * WEEK + task[8]] += 1
            never += 1
    for lvl in levels:
        for k, name in enumerate(STEP_TARGETS):
            offset = (slot[lvl] * 3 + k) * WEEK
            pair = met[(lvl, name)]
            table = by_hour[(lvl, name)]
            for how in range(WEEK):
                if total[offset + how]:
                    table[how] = [good[offset + how], total[offset + how]]
                    pair[0] += good[offset + how]
                    pair[1] += total[offset + how]
    return Replay(met, by_hour, busy, staffed, never, started + never)



def _staffed_hours(points: list[tuple[float, int]], out: list[float], hours: WeekHours, first: float,
                   last: float) -> None:
    """People-seconds on duty per hour of the week between two moments, from change points."""
    for (ts, n), (nxt, _) in zip(points, points[1:]):
        if not n or nxt <= first or ts >= last:
            continue
        t, nxt = max(ts, first), min(nxt, last)
        while t < nxt:
            edge = min(nxt, (t // 900 + 1) * 900)
            out[hours(t)] += n * (edge - t)
            t = edge


# ---------------------------------------------------------------------------------------------- goals and what-ifs

MAX_EXTRA = 500  # people: beyond this an hour is reported as out of reach
SEARCH_SECONDS = 15.0  # the replay search stops after this long, and says how many replays it ran


def needed(work: Workload, plan: dict[int, SeverityPlan], people: dict[str, list[int]], goal: float
           ) -> tuple[dict[str, list[int]], list[tuple[str, int, int, str]]]:
    """The fewest people per role and hour with whom every kind of work in that hour starts on time in at
    least `goal` of cases (queueing estimate); and the hours no number of people can fix, with the reason.

    Assignment waits on acknowledgement, so receiving roles are solved first and owners' hours then use
    the receivers' waits at those numbers."""
    result: dict[str, list[int]] = {role: [0] * WEEK for role in work.roles}
    estimates: dict[tuple[str, int], HourEstimate | None] = {}
    out_of_reach: list[tuple[str, int, int, str]] = []
    owners_last = sorted(work.groups, key=lambda key: any(step == "assign_owner" and plan[lvl].owner != plan[lvl].receives
                                                          for lvl, step, _ in work.groups[key]))
    for role, how in owners_last:
        tasks = work.count.get((role, how), 0.0)
        load = work.effort.get((role, how), 0.0) / 3600
        n = max(1, math.floor(load) + 1) if tasks else 0
        short = [(lvl, st) for lvl, st, a in work.groups[(role, how)] if a < 0]
        if short:
            level, step = short[0]
            out_of_reach.append((role, how, level, f"{plan[level].id} {step.replace('_', ' ')}: the target leaves "
                                 "less time than the work itself takes"))
            n = max(people.get(role, [0] * WEEK)[how], n)
            estimates[(role, how)] = hour_estimate(work, role, how, n)
            result[role][how] = n
            continue
        while True:
            estimates[(role, how)] = hour_estimate(work, role, how, n)
            shares = _group_shares(work, plan, role, how, estimates)
            if all(share >= goal for _, _, _, share in shares):
                break
            if n > math.floor(load) + MAX_EXTRA:
                level, step = next((lvl, st) for lvl, st, _, share in shares if share < goal)
                out_of_reach.append((role, how, level, f"{plan[level].id} {step.replace('_', ' ')}: more than "
                                     f"{MAX_EXTRA} extra people would be needed (the acknowledgement waits too long)"))
                n = max(people.get(role, [0] * WEEK)[how], math.floor(load) + 1)
                estimates[(role, how)] = hour_estimate(work, role, how, n)
                break
            n += 1
        result[role][how] = n
    return result, out_of_reach


def replay_search(demand: Demand, plan: dict[int, SeverityPlan], roster: Roster, zone: ZoneInfo, goal: float,
                  monday: date, *, rounds: int = 12, first: Replay | None = None, vary: int | None = None,
                  budget: float = SEARCH_SECONDS) -> dict[str, Any]:
    """The replay's own answer to "what would it take": add one person of the role that does the work, in
    the hours of the week where the replay misses most, and replay again, until every target reaches the
    goal, or `rounds` replays or `budget` seconds have been spent."""
    import time

    extra: dict[str, list[int]] = {}
    began = time.monotonic()
    result = first if first is not None else replay(demand, plan, roster, zone, vary=vary)
    used = 0
    while True:
        short = [(lvl, step) for (lvl, step), (good, total) in result.met.items() if total and good / total < goal]
        if not short or used >= rounds or time.monotonic() - began > budget:
            break
        for level, step in short:
            p = plan[level]
            role = p.role_for(step)
            misses = sorted(((c[1] - c[0], how) for how, c in result.by_hour[(level, step)].items() if c[1] > c[0]),
                            reverse=True)
            if not misses:
                continue
            hours = extra.setdefault(role, [0] * WEEK)
            for _, how in misses[:max(1, min(8, len(misses) // 4))]:
                hours[how] += 1
        used += 1
        result = replay(demand, plan, roster.with_extra(extra, monday), zone, vary=vary)
    shares = {f"{plan[lvl].id}.{step}": _share(pair) for (lvl, step), pair in result.met.items() if pair[1]}
    return {"add": extra, "reached": all(v is None or v >= goal for v in shares.values()), "replays": used,
            "shares": shares}


def blocks(delta: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Per role, the hours of the week that change by the same number of people, readable."""
    out = []
    for role in sorted(delta):
        values = delta[role]
        for change in sorted({v for v in values if v}, reverse=True):
            hours = [how for how, v in enumerate(values) if v == change]
            out.append({"role": role, "change": change, "hours": describe_hours(hours), "hours_of_week": hours,
                        "people_hours_per_week": change * len(hours)})
    return out


def per_shift(roster: Roster, delta: dict[str, list[int]], monday: date) -> list[dict[str, Any]]:
    """A change by hours put in the roster's own terms: for each shift, the most people any of its hours
    needs (to cover them all by that shift); hours no shift covers are listed as new hours."""
    out: list[dict[str, Any]] = []
    for role in sorted(delta):
        values = delta[role]
        if not any(v > 0 for v in values):
            continue
        covered: set[int] = set()
        for index, item in enumerate(roster.model.roles.get(role, [])):
            hours = roster.shift_hours(role, index, monday)
            covered.update(hours)
            need = max((values[h] for h in hours), default=0)
            if need > 0:
                out.append({"role": role, "shift": f"{item.days} {item.hours}", "note": item.note,
                            "people": item.people, "add": need})
        rest = [h for h, v in enumerate(values) if v > 0 and h not in covered]
        if rest:
            out.append({"role": role, "shift": None, "note": describe_hours(rest), "people": 0,
                        "add": max(values[h] for h in rest)})
    return out


def parse_what_if(text: str, matrix: Matrix) -> tuple[str, str, float]:
    """`sev2.acknowledge=30m` -> (severity id, target, seconds); ValueError with the reason."""
    from triage.matrix.durations import parse_duration

    name, sep, value = text.partition("=")
    sev_id, dot, target = name.strip().partition(".")
    if not sep or not dot:
        raise ValueError(f"`{text}` is not a what-if (write it like sev2.acknowledge=30m)")
    if sev_id not in matrix.model.severities:
        raise ValueError(f"`{sev_id}` is not a severity of the matrix ({', '.join(matrix.model.severities)})")
    target = {"update_every": "update", "ack": "acknowledge", "assign": "assign_owner"}.get(target, target)
    if target not in STEP_TARGETS:
        raise ValueError(f"`{target}` is not a target capacity can change (acknowledge, assign_owner, update_every)")
    seconds = parse_duration(value.strip()).total_seconds()
    if seconds <= 0:
        raise ValueError(f"`{text}`: a target must be longer than zero")
    return sev_id, target, seconds


def parse_rate(text: str, matrix: Matrix) -> tuple[int, float]:
    """`sev3=40/d` -> (level 3, tickets per hour); ValueError with the reason."""
    name, sep, value = text.partition("=")
    sev = matrix.model.severities.get(name.strip())
    if not sep or sev is None:
        raise ValueError(f"`{text}` is not a rate (write it like sev3=40/d, with a severity of the matrix: "
                         f"{', '.join(matrix.model.severities)})")
    number, slash, unit = value.strip().partition("/")
    per = {"h": 1.0, "d": 24.0, "w": 168.0}.get(unit.strip().lower())
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if not slash or per is None or not (0 <= amount < 1e7) or math.isnan(amount):
        raise ValueError(f"`{text}`: write the rate as tickets per hour, day or week, like sev3=40/d")
    return sev.level, amount / per


def _share(pair: list[float] | list[int]) -> float | None:
    return None if not pair or not pair[1] else pair[0] / pair[1]


def analyse(matrix: Matrix, roster: Roster, demand: Demand, *, goal: float,
            what_ifs: list[tuple[str, str, float]] | None = None, verify_goal: bool = True,
            search_rounds: int = 12, vary: int | None = None, measure_effort: bool = True) -> dict[str, Any]:
    """Everything `triage capacity` reports, as plain data (the JSON output)."""
    zone = roster.zone
    efforts: list[dict[str, Any]] = []
    if measure_effort and demand.spent:
        roster, efforts = calibrate(matrix, roster, demand)
    start = datetime.fromtimestamp(demand.first, zone).date() if demand.arrivals else datetime.now(UTC).date()
    monday = week_start(start)
    plan = plans(matrix, roster)
    role_set = sorted({r for p in plan.values() for r in (p.receives, p.owner)})
    people = {role: roster.week(role, monday) for role in role_set}
    work = workload(demand, plan, zone, people)
    est = estimate(work, plan, people)
    rep = replay(demand, plan, roster, zone, vary=vary)
    need, unreachable = needed(work, plan, people, goal)
    targets = _target_rows(plan, est, rep, goal)
    for row in targets:
        pair = demand.history.get((row["level"], row["target"]))
        row["history"] = _share(pair) if pair else None
    if not efforts:
        efforts = [{"severity": p.id, "tracked_tickets": 0, "factor": None, "source": "roster",
                    "minutes": {step: round(p.effort[step] / 60, 1) for step in STEP_TARGETS}} for p in plan.values()]
    data: dict[str, Any] = {
        "schema_version": 1,
        "matrix": {"name": matrix.model.matrix.name, "version": matrix.model.matrix.version, "path": matrix.source},
        "roster": {"name": roster.model.name, "path": roster.source, "timezone": zone.key},
        "goal": goal,
        "demand": _demand_summary(demand, plan, zone),
        "targets": targets,
        "roles": _role_rows(role_set, plan, work, est, rep, people),
        "effort": efforts,
        "replay": {"tasks": rep.tasks, "never_started": rep.never_started},
    }
    additions = {role: [max(0, need.get(role, [0] * WEEK)[h] - people[role][h]) for h in range(WEEK)]
                 for role in role_set}
    change: dict[str, Any] = {"goal": goal, "add": blocks(additions), "per_shift": per_shift(roster, additions, monday),
                              "people_hours_per_week": sum(map(sum, additions.values())),
                              "out_of_reach": [{"role": r, "hour_of_week": h, "severity": plan[lvl].id, "reason": why}
                                               for r, h, lvl, why in unreachable]}
    if verify_goal and change["add"]:
        after = replay(demand, plan, roster.with_extra(additions, monday), zone, vary=vary)
        change["replay_after"] = [{"severity": row["severity"], "target": row["target"],
                                   "share": _share(after.met[(row["level"], row["target"])])} for row in targets]
        change["replay_meets_goal"] = all(r["share"] is None or r["share"] >= goal for r in change["replay_after"])
    search = replay_search(demand, plan, roster, zone, goal, monday, first=rep, rounds=search_rounds, vary=vary) \
        if search_rounds else None
    if search is not None:
        change["replay_search"] = _found(search, roster, monday)
    data["goal_change"] = change
    data["what_if"] = []
    for sev_id, target, seconds in what_ifs or []:
        level = matrix.model.severities[sev_id].level
        changed = plans(matrix, roster, {(sev_id, target): seconds})
        work_w = workload(demand, changed, zone, people)
        est_w = estimate(work_w, changed, people)
        rep_w = replay(demand, changed, roster, zone, vary=vary)
        need_w, _ = needed(work_w, changed, people, goal)
        roles_w = sorted(set(need) | set(need_w))
        cost = {role: [need_w.get(role, [0] * WEEK)[h] - need.get(role, [0] * WEEK)[h] for h in range(WEEK)]
                for role in roles_w}
        rows = _target_rows(changed, est_w, rep_w, goal)
        before = plan[level].targets()[target]
        more = {r: [max(0, v) for v in values] for r, values in cost.items()}
        entry = {
            "change": f"{sev_id}.{'update_every' if target == 'update' else target}={_minutes(seconds)}",
            "severity": sev_id, "target": target, "from_minutes": before / 60, "to_minutes": seconds / 60,
            "targets": rows,
            "cost": blocks(more),
            "cost_per_shift": per_shift(roster, more, monday),
            "saving": blocks({r: [max(0, -v) for v in values] for r, values in cost.items()}),
            "people_hours_per_week": sum(map(sum, cost.values())),
        }
        if search is not None:
            found = _found(replay_search(demand, changed, roster, zone, goal, monday, first=rep_w, rounds=search_rounds,
                                         vary=vary), roster, monday)
            found["extra_over_today"] = (found["people_hours_per_week"]
                                         - change["replay_search"]["people_hours_per_week"])
            entry["replay_search"] = found
        data["what_if"].append(entry)
    return data


def _found(search: dict[str, Any], roster: Roster, monday: date) -> dict[str, Any]:
    """What a replay search found, as the report shows it."""
    return {"add": blocks(search["add"]), "reached": search["reached"], "per_shift": per_shift(roster, search["add"], monday),
            "replays": search["replays"], "people_hours_per_week": sum(map(sum, search["add"].values()))}


def _minutes(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}m"


def _target_rows(plan: dict[int, SeverityPlan], est: dict[str, Any], rep: Replay, goal: float) -> list[dict[str, Any]]:
    rows = []
    for level in sorted(plan):
        p = plan[level]
        for step in STEP_TARGETS:
            counted = rep.met[(level, step)][1]
            if not counted and (level, step) not in est["on_time"]:
                continue
            queueing = _share(est["on_time"].get((level, step), [0.0, 0.0]))
            replayed = _share(rep.met[(level, step)])
            cells = rep.by_hour[(level, step)]
            floor = max(3, counted // 1000)
            worst = sorted(((c[0] / c[1], how, c[1]) for how, c in cells.items() if c[1] >= floor))[:3]
            q_cells = est["by_hour"].get((level, step), {})
            total_q = sum(c[1] for c in q_cells.values())
            q_worst = sorted((c[0] / c[1], how) for how, c in q_cells.items() if c[1] >= total_q / 1000 and c[1] > 0)[:3]
            target_seconds = p.targets()[step]
            rows.append({
                "severity": p.id, "level": level, "label": p.label, "target": step,
                "role": p.role_for(step),
                "minutes": target_seconds / 60, "calendar": p.calendar_id,
                "tasks": counted, "queueing": queueing, "replay": replayed,
                "meets_goal": (replayed if replayed is not None else queueing or 0.0) >= goal,
                "worst_hours": [{"hour_of_week": how, "when": describe_hours([how]), "replay": share, "tasks": n,
                                 "queueing": _share(q_cells.get(how, [0.0, 0.0]))} for share, how, n in worst],
                "worst_hours_queueing": [{"hour_of_week": how, "when": describe_hours([how]), "queueing": share,
                                          "tasks_per_week": round(q_cells[how][1], 3)} for share, how in q_worst],
            })
    return rows


def _demand_summary(demand: Demand, plan: dict[int, SeverityPlan], zone: ZoneInfo) -> dict[str, Any]:
    counts: dict[int, int] = {}
    for _, level, _ in demand.arrivals:
        counts[level] = counts.get(level, 0) + 1
    span = (demand.last - demand.first) / 604800 if demand.arrivals else 0.0
    return {
        "source": demand.source, "tickets": len(demand.arrivals), "unreadable": demand.unreadable,
        "unknown_severity": demand.skipped_levels,
        "from": datetime.fromtimestamp(demand.first, zone).isoformat() if demand.arrivals else None,
        "to": datetime.fromtimestamp(demand.last, zone).isoformat() if demand.arrivals else None,
        "weeks": round(span, 2),
        "per_severity": [{"severity": plan[lvl].id, "tickets": counts.get(lvl, 0),
                          "per_week": counts.get(lvl, 0) / span if span >= 1 else None} for lvl in sorted(plan)],
    }


def _role_rows(roles: list[str], plan: dict[int, SeverityPlan], work: Workload, est: dict[str, Any], rep: Replay,
               people: dict[str, list[int]]) -> list[dict[str, Any]]:
    handled: dict[str, list[tuple[int, str]]] = {}
    for level, p in plan.items():
        for step in STEP_TARGETS:
            handled.setdefault(p.role_for(step), []).append((level, step))
    rows = []
    for role in roles:
        cells = []
        for how in range(WEEK):
            h: HourEstimate | None = est["hours"].get((role, how))
            q_total = [0.0, 0.0]
            r_total = [0, 0]
            for key in handled.get(role, ()):
                q = est["by_hour"].get(key, {}).get(how)
                if q:
                    q_total[0] += q[0]
                    q_total[1] += q[1]
                r = rep.by_hour.get(key, {}).get(how)
                if r:
                    r_total[0] += r[0]
                    r_total[1] += r[1]
            staffed = rep.staffed.get(role, [0.0] * WEEK)[how]
            cells.append({
                "people": people[role][how],
                "tasks_per_week": round(work.count.get((role, how), 0.0), 3),
                "occupancy": None if h is None or not h.people else round(h.occupancy, 4),
                "waits": None if h is None else round(h.waits, 4),
                "queueing": _share(q_total), "replay": _share(r_total),
                "replay_occupancy": round(rep.busy.get(role, [0.0] * WEEK)[how] / staffed, 4) if staffed else None,
            })
        loads = [c["occupancy"] for c in cells if c["occupancy"] is not None]
        rows.append({"role": role, "people_hours_per_week": sum(people[role]),
                     "overloaded_hours": describe_hours([how for how, c in enumerate(cells)
                                                         if c["tasks_per_week"] and (c["occupancy"] is None
                                                                                     or c["occupancy"] >= 1)]),
                     "peak_occupancy": max(loads) if loads else None, "hours": cells})
    return rows
