"""The replay: every ticket of the demand, in time order, against the people the roster has on duty."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from triage.capacity.roster import Roster
from triage.capacity.demand import horizon, ACK, ASSIGN, STEP_TARGETS, UPDATE, WEEK, SeverityPlan, Demand, WeekHours, typical_lifetimes


@dataclass
class Replay:
    met: dict[tuple[int, str], list[int]]  # (level, step) -> [on time, total]
    by_hour: dict[tuple[int, str], dict[int, list[int]]]  # ... per hour of the week the work appeared
    busy: dict[str, list[float]]  # role -> effort seconds started in each hour of the week
    staffed: dict[str, list[float]]  # role -> people-seconds on duty in each hour of the week
    never_started: int
    tasks: int


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
