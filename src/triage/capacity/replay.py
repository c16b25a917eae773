"""The replay: every ticket of the demand, in time order, against the people the roster has on duty."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from triage.capacity.demand import (ACK, ASSIGN, STEP_TARGETS, UPDATE, WEEK, Demand, SeverityPlan, WeekHours, horizon,
                                    typical_lifetimes)
from triage.capacity.roster import Roster


@dataclass
class Replay:
    met: dict[tuple[int, str], list[int]]  # (level, step) -> [on time, total]
    by_hour: dict[tuple[int, str], dict[int, list[int]]]  # ... per hour of the week the work appeared
    # (level, step) -> role -> per hour of the week: the late work of that target, one per task, spread over
    # the hours it waited while it could still have started on time, and charged to the role that held it up
    blame: dict[tuple[int, str], dict[str, list[float]]]
    busy: dict[str, list[float]]  # role -> effort seconds started in each hour of the week
    staffed: dict[str, list[float]]  # role -> people-seconds on duty in each hour of the week
    never_started: int
    tasks: int


class Task(NamedTuple):
    """One piece of work waiting for, or taken by, someone of a role."""

    level: int
    appeared: float  # when it could first be taken (seconds since the epoch)
    seq: int  # order of appearance, for ties
    role: int  # index of the role that does it
    step: int  # ACK, ASSIGN or UPDATE
    due: float  # its deadline, in seconds of the severity's calendar
    effort: float  # seconds of work (the average; drawn around it with `vary`)
    base: float  # the ticket's start, in seconds of the severity's calendar
    hour: int  # hour of the week it appeared in
    since: float  # an assignment: when its acknowledgement appeared (else: as `appeared`)


class LevelSpec(NamedTuple):
    """What the replay needs of one severity, worked out once."""

    receives: int  # index of the role that acknowledges
    owner: int  # index of the role that owns the ticket
    owner_receives: bool  # acknowledging is taking ownership
    acknowledge: float  # targets in calendar seconds
    assign_owner: float | None  # None: not promised, not replayed
    ack_effort: float
    assign_effort: float
    update_effort: float
    position: Any  # calendar seconds of a moment (None: around the clock, where calendar time is time)
    moment: Any  # the moment a calendar position falls on (None: around the clock)
    cells: int  # first row of this severity's steps in the per-hour counts


def replay(demand: Demand, plan: dict[int, SeverityPlan], roster: Roster, zone: ZoneInfo, *,
           vary: int | None = None) -> Replay:
    """Replay every ticket of the demand against the roster (a discrete-event simulation).

    Tickets arrive from the sorted demand; shifts change from the roster's timeline; other events (an
    assignment once the acknowledgement is done, an update window opening, someone finishing while work
    waits) come from one heap. Each role takes its waiting work most severe first, oldest first within a
    severity; nobody is interrupted, and someone whose shift ends finishes the task in hand.

    With `vary` (a seed), each task's effort is drawn at random, exponentially around its average, as the
    queueing model assumes; without it every task takes exactly the roster's effort."""
    return Replayer(demand, plan, roster, zone, vary=vary).run()


FINISHED, APPEARS, UPDATE_OPENS = 0, 1, 2  # kinds of event on the heap


class Replayer:
    """The state of one replay: who is on duty and busy, what waits, and what was on time."""

    def __init__(self, demand: Demand, plan: dict[int, SeverityPlan], roster: Roster, zone: ZoneInfo, *,
                 vary: int | None) -> None:
        self.demand, self.plan, self.roster = demand, plan, roster
        self.hours = WeekHours(zone)
        self.zone = zone
        # a stream of its own: arrivals made from rates with the same seed must not correlate with the efforts
        self.draw = random.Random(f"efforts-{vary}").expovariate if vary is not None else None
        self.roles = sorted({r for p in plan.values() for r in (p.receives, p.owner)})
        self.lifetimes = typical_lifetimes(demand, plan)
        self.levels = sorted(plan)
        self.busy = {r: [0.0] * WEEK for r in self.roles}
        self.staffed = {r: [0.0] * WEEK for r in self.roles}
        # on-time and total counts per (level, step, hour of the week) in flat lists
        self.good = [0] * (len(self.levels) * 3 * WEEK)
        self.total = [0] * (len(self.levels) * 3 * WEEK)
        self.late = [0.0] * (len(self.levels) * 3 * len(self.roles) * WEEK)  # blame, per (level, step, role, hour)
        self.working: list[list[float]] = [[] for _ in self.roles]  # per role: when each busy person finishes
        self.on_duty = [0] * len(self.roles)
        self.queues: list[list[Any]] = [[] for _ in self.roles]  # per role: (level, appeared, seq, task), a heap
        self.waking = [False] * len(self.roles)  # a FINISHED event is on the heap for the role
        self.events: list[Any] = []  # (time, seq, kind, payload)
        self.seq = 0
        self.started = 0
        self.spec: dict[int, LevelSpec] = {}

    def run(self) -> Replay:
        met: dict[tuple[int, str], list[int]] = {(lvl, s): [0, 0] for lvl in self.plan for s in STEP_TARGETS}
        if not self.demand.arrivals:
            return Replay(met, {key: {} for key in met}, {key: {} for key in met}, self.busy, self.staffed, 0, 0)
        first_day, last_day = horizon(self.demand, self.zone)
        staff = self.staff_changes(first_day, last_day)
        self.spec = self.level_specs(first_day, last_day)
        self.simulate(staff)
        never = self.never_started()
        return Replay(met, self.counts(met), self.blames(), self.busy, self.staffed, never, self.started + never)

    def staff_changes(self, first_day: Any, last_day: Any) -> list[tuple[float, int, int]]:
        """(moment, role index, people on duty from then) for every change of the roster, in time order."""
        staff: list[tuple[float, int, int]] = []
        for r, role in enumerate(self.roles):
            points = self.roster.timeline(role, first_day, last_day)
            staff.extend((ts, r, n) for ts, n in points)
            _staffed_hours(points, self.staffed[role], self.hours, self.demand.first, self.demand.last)
        staff.sort()
        return staff

    def level_specs(self, first_day: Any, last_day: Any) -> dict[int, LevelSpec]:
        index = {r: i for i, r in enumerate(self.roles)}
        specs = {}
        for slot, lvl in enumerate(self.levels):
            p = self.plan[lvl]
            line = p.calendar.compiled(first_day, last_day)
            always = line is p.calendar
            specs[lvl] = LevelSpec(index[p.receives], index[p.owner], p.owner == p.receives, p.acknowledge,
                                   p.assign_owner, p.effort["acknowledge"], p.effort["assign_owner"],
                                   p.effort["update"], None if always else line.open_until,
                                   None if always else line.moment, slot * 3)
        return specs

    def hour(self, ts: float) -> int:
        return self.hours(ts)

    def push_event(self, when: float, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, payload))

    def start(self, task: Task, now: float) -> None:
        """Someone takes `task` at `now`: count whether it started on time, and what it leads to."""
        effort = self.draw(1.0 / task.effort) if self.draw is not None else task.effort
        heapq.heappush(self.working[task.role], now + effort)
        self.busy[self.roles[task.role]][self.hour(now)] += effort
        self.started += 1
        s = self.spec[task.level]
        position = now if s.position is None else s.position(now)
        cell = (s.cells + task.step) * WEEK + task.hour
        self.total[cell] += 1
        if position <= task.due:
            self.good[cell] += 1
        else:
            self.charge(task, now)
        if task.step != ACK or s.assign_owner is None:
            return
        p = self.plan[task.level]
        assign = p.allowance("assign_owner", task.appeared) if p.by_day else s.assign_owner
        if s.owner_receives:  # acknowledging is taking ownership
            cell += WEEK
            self.total[cell] += 1
            if position <= task.base + assign:
                self.good[cell] += 1
            else:
                self.charge(task._replace(step=ASSIGN, due=task.base + assign), now)
        else:
            self.seq += 1
            done = now + effort
            self.push_event(done, APPEARS, Task(task.level, done, self.seq, s.owner, ASSIGN,
                                                task.base + assign, s.assign_effort, task.base, task.hour,
                                                task.appeared))

    def free(self, r: int, now: float) -> list[float]:
        """The role's people still busy at `now`."""
        busy = self.working[r]
        while busy and busy[0] <= now:
            heapq.heappop(busy)
        return busy

    def wake_later(self, r: int) -> None:
        """Wake the role when its next person finishes, for the work that waits."""
        busy = self.working[r]
        if self.queues[r] and busy and not self.waking[r]:
            self.waking[r] = True
            self.push_event(busy[0], FINISHED, r)

    def drain(self, r: int, now: float) -> None:
        """Whoever of role `r` is free takes waiting work."""
        queue = self.queues[r]
        while queue and len(self.free(r, now)) < self.on_duty[r]:
            self.start(heapq.heappop(queue)[3], now)
        self.free(r, now)
        self.wake_later(r)

    def offer(self, task: Task, now: float) -> None:
        """Work appears for a role: taken at once by someone free, else it waits."""
        r = task.role
        if len(self.free(r, now)) < self.on_duty[r] and not self.queues[r]:
            self.start(task, now)
            return
        heapq.heappush(self.queues[r], (task.level, task.appeared, task.seq, task))
        if len(self.working[r]) < self.on_duty[r]:
            self.drain(r, now)
        else:
            self.wake_later(r)

    def open_update(self, level: int, base: float, offsets: list[float], k: int, now: float) -> float:
        """Offer update `k` of a ticket; the moment the next one's window opens (infinity: no more)."""
        s = self.spec[level]
        total_due = base + offsets[k]
        due = total_due if s.moment is None else s.moment(now, total_due)
        if due == math.inf:
            return math.inf  # beyond the replayed span
        self.seq += 1
        self.offer(Task(level, now, self.seq, s.owner, UPDATE, total_due - s.update_effort, s.update_effort, base,
                        self.hour(now), now), now)
        return due if k + 1 < len(offsets) else math.inf

    def arrive(self, created: float, level: int, lifetime: float) -> None:
        """A ticket is created: its acknowledgement waits, and its first update window opens."""
        s = self.spec[level]
        base = created if s.position is None else s.position(created)
        self.seq += 1
        p = self.plan[level]
        acknowledge = p.allowance("acknowledge", created) if p.by_day else s.acknowledge
        self.offer(Task(level, created, self.seq, s.receives, ACK, base + acknowledge, s.ack_effort, base,
                        self.hour(created), created), created)
        offsets = self.plan[level].update_offsets(lifetime if lifetime >= 0 else self.lifetimes[level])
        if offsets:
            due = self.open_update(level, base, offsets, 0, created)
            if due != math.inf:
                self.push_event(due, UPDATE_OPENS, (level, base, offsets, 1))

    def event(self) -> None:
        """Handle the earliest event on the heap."""
        now, _, kind, payload = self.events[0]
        if kind == UPDATE_OPENS:
            level, base, offsets, k = payload
            due = self.open_update(level, base, offsets, k, now)
            if due == math.inf:
                heapq.heappop(self.events)
            else:
                self.seq += 1
                heapq.heapreplace(self.events, (due, self.seq, UPDATE_OPENS, (level, base, offsets, k + 1)))
            return
        heapq.heappop(self.events)
        if kind == APPEARS:
            self.offer(payload, now)
        else:
            self.waking[payload] = False
            self.drain(payload, now)

    def simulate(self, staff: list[tuple[float, int, int]]) -> None:
        """Take the three streams (arrivals, roster changes, events) in time order until all are done."""
        arrivals = self.demand.arrivals
        a = s_i = 0
        inf = math.inf
        t_arrival = arrivals[0][0]
        t_staff = staff[0][0] if staff else inf
        while True:
            t_event = self.events[0][0] if self.events else inf
            if t_staff <= t_event and t_staff <= t_arrival:
                if t_staff == inf:
                    return
                ts, r, n = staff[s_i]
                s_i += 1
                t_staff = staff[s_i][0] if s_i < len(staff) else inf
                self.on_duty[r] = n
                if self.queues[r]:
                    self.drain(r, ts)
                if t_arrival == inf and not self.events and not any(self.queues):
                    return
            elif t_event <= t_arrival:
                self.event()
            else:
                self.arrive(*arrivals[a])
                a += 1
                t_arrival = arrivals[a][0] if a < len(arrivals) else inf

    def never_started(self) -> int:
        """Count what still waits when the replay ends (in the totals, never on time)."""
        never = 0
        for queue in self.queues:
            for entry in queue:
                task = entry[3]
                self.total[(self.spec[task.level].cells + task.step) * WEEK + task.hour] += 1
                self.charge(task, math.inf)
                never += 1
        return never

    def charge(self, task: Task, started: float) -> None:
        """Blame a late task on the hours it waited while it could still have started on time: adding someone
        on duty then would have saved it. An assignment that appeared already late waited on its
        acknowledgement: the receiving role's hours are blamed for it, not the owner's."""
        s = self.spec[task.level]
        due = task.due if s.moment is None else s.moment(task.appeared, task.due)  # the last on-time start
        role, start, end = task.role, task.appeared, min(started, due)
        if end <= start and task.step == ASSIGN:
            role, start, end = s.receives, task.since, min(task.appeared, due)
        if s.moment is not None and end > start:  # waiting while the calendar is closed costs nothing
            start = max(start, s.moment(start, s.position(start) + 1.0) - 1.0)
        if end <= start:
            return  # no time to start it at all: the target is shorter than the work (out of reach)
        end = min(end, start + WEEK * 3600.0)
        base = ((s.cells + task.step) * len(self.roles) + role) * WEEK
        step = 900.0 if end - start <= 21600 else 3600.0
        span, t = end - start, start
        while t < end:
            edge = min(end, (t // step + 1) * step)
            self.late[base + self.hour(t)] += (edge - t) / span
            t = edge

    def blames(self) -> dict[tuple[int, str], dict[str, list[float]]]:
        """The blame for late work, per (level, step) and role, by hour of the week (roles with none left out)."""
        out: dict[tuple[int, str], dict[str, list[float]]] = {}
        n = len(self.roles)
        for slot, lvl in enumerate(self.levels):
            for k, name in enumerate(STEP_TARGETS):
                table = out.setdefault((lvl, name), {})
                for r, role in enumerate(self.roles):
                    base = ((slot * 3 + k) * n + r) * WEEK
                    hours = self.late[base:base + WEEK]
                    if any(hours):
                        table[role] = hours
        return out

    def counts(self, met: dict[tuple[int, str], list[int]]) -> dict[tuple[int, str], dict[int, list[int]]]:
        """On time and total per (level, step), overall into `met` and by hour of the week."""
        by_hour: dict[tuple[int, str], dict[int, list[int]]] = {key: {} for key in met}
        for slot, lvl in enumerate(self.levels):
            for k, name in enumerate(STEP_TARGETS):
                offset = (slot * 3 + k) * WEEK
                pair, table = met[(lvl, name)], by_hour[(lvl, name)]
                for how in range(WEEK):
                    if self.total[offset + how]:
                        table[how] = [self.good[offset + how], self.total[offset + how]]
                        pair[0] += self.good[offset + how]
                        pair[1] += self.total[offset + how]
        return by_hour


def _staffed_hours(points: list[tuple[float, int]], out: list[float], hours: WeekHours, first: float,
                   last: float) -> None:
    """People-seconds on duty per hour of the week between two moments, from change points."""
    for (ts, n), (nxt, _) in itertools.pairwise(points):
        if not n or nxt <= first or ts >= last:
            continue
        t, nxt = max(ts, first), min(nxt, last)
        while t < nxt:
            edge = min(nxt, (t // 900 + 1) * 900)
            out[hours(t)] += n * (edge - t)
            t = edge
