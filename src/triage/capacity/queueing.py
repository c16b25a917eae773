"""The queueing estimate: Erlang C for each role and hour of the week, with priorities between severities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from triage.capacity.demand import WEEK, SeverityPlan, Workload

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


def within_both(first: tuple[float, float], second: tuple[float, float], allowance: float) -> float:
    """Share of work that starts within `allowance` after waiting twice, one wait after the other (an
    assignment waits for its acknowledgement to be taken, then for its owner): each wait is (probability of
    waiting, mean wait of those who wait), exponential as in Erlang C, and the two are independent."""
    if allowance < 0:
        return 0.0
    (w1, c1), (w2, c2) = first, second
    if w1 <= 0 or c1 <= 0:
        return within(w2, c2, allowance)
    if w2 <= 0 or c2 <= 0:
        return within(w1, c1, allowance)
    one, two = within(1.0, c1, allowance), within(1.0, c2, allowance)  # each wait alone, when it happens
    if math.isinf(c1) or math.isinf(c2):
        both = 0.0
    elif abs(c1 - c2) <= 1e-9 * max(c1, c2):
        both = 1.0 - math.exp(-allowance / c1) * (1.0 + allowance / c1)
    else:  # the sum of two exponential waits (hypoexponential)
        both = 1.0 - (c1 * math.exp(-allowance / c1) - c2 * math.exp(-allowance / c2)) / (c1 - c2)
    return ((1 - w1) * (1 - w2) + (1 - w1) * w2 * two + w1 * (1 - w2) * one + w1 * w2 * max(0.0, both))


@dataclass
class HourEstimate:
    people: int
    load: float  # Erlangs
    handle: float  # mean effort, seconds
    waits: float  # probability of waiting
    occupancy: float
    levels: dict[int, tuple[float, float]]  # level -> (probability of waiting, mean wait when waiting)


def hour_estimate(work: Workload, role: str, how: int, people: int) -> HourEstimate | None:
    tasks = work.count.get((role, how))
    if not tasks:
        return None
    handle = work.effort[(role, how)] / tasks
    scale = work.pooling.get((role, how), 1.0)  # the rate of a thinly measured hour, as its neighbours have it
    load = tasks * handle / 3600 * scale
    levels = {lvl: 0.0 for lvl, _, _ in work.groups[(role, how)]}  # deadlines without work of their own
    levels.update({lvl: n * handle / 3600 * scale for lvl, n in work.by_level[(role, how)].items()})
    return HourEstimate(people, load, handle, erlang_c(people, load), load / people if people else math.inf,
                        by_priority(people, levels, handle))


def group_shares(work: Workload, plan: dict[int, SeverityPlan], role: str, how: int,
                  estimates: dict[tuple[str, int], HourEstimate | None]) -> list[tuple[int, str, float, float]]:
    """(level, step, tasks, share on time) for each kind of work of one role in one hour."""
    h = estimates.get((role, how))
    out = []
    for (level, step, allowance), tasks in work.groups[(role, how)].items():
        if h is None:
            out.append((level, step, tasks, 1.0))
            continue
        waits, conditional = h.levels.get(level, (h.waits, 0.0))
        if step == "assign_owner" and plan[level].owner != plan[level].receives:
            # the owner's wait comes on top of the acknowledgement's: the two waits' sum must fit the allowance
            # (taking the acknowledgement's mean wait off the allowance whole gave 0% whenever that mean was
            # longer, though most acknowledgements do not wait at all)
            receiver = estimates.get((plan[level].receives, how))
            first = receiver.levels.get(level, (receiver.waits, 0.0)) if receiver is not None else (0.0, 0.0)
            out.append((level, step, tasks, within_both(first, (waits, conditional), allowance)))
            continue
        out.append((level, step, tasks, within(waits, conditional, allowance)))
    return out


def estimate(work: Workload, plan: dict[int, SeverityPlan], people: dict[str, list[int]]) -> dict[str, Any]:
    """The queueing estimate per role and hour; shares on time per (level, step), overall and per hour."""
    hours = {(role, how): hour_estimate(work, role, how, people.get(role, [0] * WEEK)[how]) for role,
             how in work.groups}
    on_time: dict[tuple[int, str], list[float]] = {}
    by_hour: dict[tuple[int, str], dict[int, list[float]]] = {}
    for role, how in work.groups:
        for level, step, tasks, share in group_shares(work, plan, role, how, hours):
            total = on_time.setdefault((level, step), [0.0, 0.0])
            total[0] += share * tasks
            total[1] += tasks
            cell = by_hour.setdefault((level, step), {}).setdefault(how, [0.0, 0.0])
            cell[0] += share * tasks
            cell[1] += tasks
    return {"hours": {k: v for k, v in hours.items() if v is not None}, "on_time": on_time, "by_hour": by_hour}


# ---------------------------------------------------------------------------------------------- replay
