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

import math
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from triage.capacity.demand import STEP_TARGETS, WEEK, Demand, SeverityPlan, Workload, calibrate, plans, workload
from triage.capacity.queueing import HourEstimate, estimate, group_shares, hour_estimate
from triage.capacity.replay import Replay, replay
from triage.capacity.roster import Roster, describe_hours, week_start
from triage.matrix.loader import Matrix

# ---------------------------------------------------------------------------------------------- goals and what-ifs

MAX_EXTRA = 500  # people: beyond this an hour is reported as out of reach
SEARCH_TICKETS = 2_500_000  # tickets replayed in all before the replay search stops: bounded by work, not by a
                            # clock, so that the same inputs give the same advice on any machine


def needed(work: Workload, plan: dict[int, SeverityPlan], people: dict[str, list[int]], goal: float,
           floor: dict[str, list[int]] | None = None) -> tuple[dict[str, list[int]], list[tuple[str, int, int, str]]]:
    """The fewest people per role and hour with whom every kind of work in that hour starts on time in at
    least `goal` of cases (queueing estimate); and the hours no number of people can fix, with the reason.
    With `floor` (what looser targets needed), the search starts there: a tighter target only adds to what
    must be met, so it never needs fewer people, even where it would reorder the work more efficiently.

    Assignment waits on acknowledgement, so receiving roles are solved first and owners' hours then use
    the receivers' waits at those numbers."""
    result: dict[str, list[int]] = {role: [0] * WEEK for role in work.roles}
    estimates: dict[tuple[str, int], HourEstimate | None] = {}
    out_of_reach: list[tuple[str, int, int, str]] = []
    owners_last = sorted(work.groups, key=lambda key: any(
        step == "assign_owner" and plan[lvl].owner != plan[lvl].receives for lvl, step, _ in work.groups[key]))
    for role, how in owners_last:
        tasks = work.count.get((role, how), 0.0)
        load = work.effort.get((role, how), 0.0) / 3600 * work.pooling.get((role, how), 1.0)
        n = max(1, math.floor(load) + 1) if tasks else 0
        n = max(n, (floor or {}).get(role, [0] * WEEK)[how])
        # no slack at all: the work could be on time only if it never waited, and no queue promises that
        short = [(lvl, st) for lvl, st, a in work.groups[(role, how)] if a <= 0]
        if short:
            level, step = short[0]
            out_of_reach.append((role, how, level, f"{plan[level].id} {step.replace('_', ' ')}: the target leaves "
                                 "no more time than the work itself takes"))
            n = max(people.get(role, [0] * WEEK)[how], n)
            estimates[(role, how)] = hour_estimate(work, role, how, n)
            result[role][how] = n
            continue
        while True:
            estimates[(role, how)] = hour_estimate(work, role, how, n)
            shares = group_shares(work, plan, role, how, estimates)
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
                  monday: date, need: dict[str, list[int]], *, rounds: int = 12, first: Replay | None = None,
                  vary: int | None = None, budget: int = SEARCH_TICKETS) -> dict[str, Any]:
    """The replay's own answer to "what would it take", in the roster's shifts.

    Each round, for every role that held up work of a target short of the goal (see `Replay.blame`: late work
    is charged to the hours it waited while it could still have started on time, and to the receiving role
    when an assignment waited on a late acknowledgement), each shift of that role with blamed hours gets as
    many more people as the queueing estimate (`need`) finds missing in those hours; blamed hours that no
    shift covers get a new block of hours, from the first to the last blamed hour of a stretch no shift
    covers. Where the estimate finds nothing missing, the one shift (or block) with the most blame per hour
    gets one more person. Then the changed roster is replayed, off on its shifts' holidays, until every
    target reaches the goal, or `rounds` replays have been run, or the next would take the tickets replayed
    past `budget`, or no role is to blame (only out-of-reach work)."""
    adds: dict[tuple[str, int], int] = {}
    new_hours: dict[str, list[int]] = {}
    rounds = min(rounds, budget // max(1, len(demand.arrivals)))
    result = first if first is not None else replay(demand, plan, roster, zone, vary=vary)
    changed, used = roster, 0
    roles = sorted({r for p in plan.values() for r in (p.receives, p.owner)})
    while True:
        short = [key for key, (good, total) in result.met.items() if total and good / total < goal]
        if not short or used >= rounds:
            break
        grew = False
        for role in roles:
            blame = [sum(result.blame[key].get(role, _QUIET)[how] for key in short) for how in range(WEEK)]
            if not any(blame):
                continue
            now, wanted = changed.week(role, monday), need.get(role, [0] * WEEK)
            covers = _covers(roster, role, blame, monday)
            # first what the queueing estimate finds missing in each blamed cover; once it finds nothing
            # missing, one more person where the blame per hour is highest
            gaps = [(index, hours, max([wanted[h] - now[h] for h in hours if blame[h] > 0] + [0]))
                    for _, index, hours in covers]
            if not any(gap > 0 for _, _, gap in gaps):
                _, index, hours = max(covers, key=lambda c: c[0])
                gaps = [(index, hours, 1)]
            for index, hours, gap in gaps:
                if gap <= 0:
                    continue
                if index is None:
                    extra = new_hours.setdefault(role, [0] * WEEK)
                    for how in hours:
                        extra[how] += gap
                else:
                    adds[(role, index)] = adds.get((role, index), 0) + gap
                grew = True
        if not grew:
            break
        used += 1
        changed = roster.with_shift_people(adds, new_hours, monday)
        result = replay(demand, plan, changed, zone, vary=vary)
    shares = _shares_after(result, plan)
    # the queueing amounts cover each shift's busiest hour, and the replay may show that fewer do: for each
    # shift, largest addition first, the fewest people that still keep every target at the goal (bisection)
    for key in sorted(adds, key=lambda k: (-adds[k], k)):
        low, high = 0, adds[key]
        while low < high and used < rounds and _all_reach(shares, goal):
            middle = (low + high) // 2
            trial = roster.with_shift_people({**adds, key: middle}, new_hours, monday)
            used += 1
            after = _shares_after(replay(demand, plan, trial, zone, vary=vary), plan)
            if _all_reach(after, goal):
                high, adds, changed, shares = middle, {**adds, key: middle}, trial, after
            else:
                low = middle + 1
    adds = {key: n for key, n in adds.items() if n}
    delta = {role: [after - before for after, before in zip(changed.week(role, monday), roster.week(role, monday),
                                                            strict=True)] for role in roles}
    return {"add": {role: hours for role, hours in delta.items() if any(hours)}, "shifts": adds,
            "new_hours": new_hours, "reached": _all_reach(shares, goal), "replays": used, "most_replays": rounds,
            "targets": shares}


_QUIET = [0.0] * WEEK


def _covers(roster: Roster, role: str, blame: list[float], monday: date
            ) -> list[tuple[tuple[float, int], int | None, list[int]]]:
    """Where more people of `role` could go: each of the roster's shifts whose hours carry blame, and each
    block of blamed hours no shift covers (from the first to the last blamed hour of such a stretch), as
    ((blame per hour, preference), shift index or None, hours). Ties prefer the roster's own shifts, in order."""
    options: list[tuple[tuple[float, int], int | None, list[int]]] = []
    covered: set[int] = set()
    for index in range(len(roster.model.roles.get(role, []))):
        hours = roster.shift_hours(role, index, monday)
        covered.update(hours)
        if hours and any(blame[h] for h in hours):
            options.append(((sum(blame[h] for h in hours) / len(hours), -index), index, hours))
    for stretch in _stretches([h for h in range(WEEK) if h not in covered]):
        blamed = [i for i, h in enumerate(stretch) if blame[h]]
        if blamed:
            block = stretch[blamed[0]:blamed[-1] + 1]
            options.append(((sum(blame[h] for h in block) / len(block), -WEEK), None, block))
    return options


def _stretches(hours: list[int]) -> list[list[int]]:
    """Runs of consecutive hours of the week (Sunday night runs on into Monday morning)."""
    runs: list[list[int]] = []
    for how in hours:
        if runs and runs[-1][-1] == how - 1:
            runs[-1].append(how)
        else:
            runs.append([how])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == WEEK - 1:
        runs[0] = runs.pop() + runs[0]
    return runs


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


def _shift_needs(roster: Roster, delta: dict[str, list[int]], monday: date
                 ) -> tuple[list[tuple[str, int, int]], dict[str, list[int]]]:
    """(role, shift index, people to add) for each shift that a change by hours touches: the most people any
    of its hours needs, to cover them all by that shift; and the hours no shift covers, with their people."""
    shifts: list[tuple[str, int, int]] = []
    uncovered: dict[str, list[int]] = {}
    for role in sorted(delta):
        values = delta[role]
        if not any(v > 0 for v in values):
            continue
        covered: set[int] = set()
        for index in range(len(roster.model.roles.get(role, []))):
            hours = roster.shift_hours(role, index, monday)
            covered.update(hours)
            need = max((values[h] for h in hours), default=0)
            if need > 0:
                shifts.append((role, index, need))
        if any(v > 0 and h not in covered for h, v in enumerate(values)):
            uncovered[role] = [v if h not in covered else 0 for h, v in enumerate(values)]
    return shifts, uncovered


def per_shift(roster: Roster, delta: dict[str, list[int]], monday: date) -> list[dict[str, Any]]:
    """A change by hours put in the roster's own terms: people to add to each shift; hours no shift covers are
    listed as new hours."""
    shifts, uncovered = _shift_needs(roster, delta, monday)
    out: list[dict[str, Any]] = []
    for role in sorted({r for r, _, _ in shifts} | set(uncovered)):
        for _, index, need in (x for x in shifts if x[0] == role):
            item = roster.model.roles[role][index]
            out.append({"role": role, "shift": f"{item.days} {item.hours}", "note": item.note,
                        "people": item.people, "add": need})
        if role in uncovered:
            rest = [h for h, v in enumerate(uncovered[role]) if v > 0]
            out.append({"role": role, "shift": None, "note": describe_hours(rest), "people": 0,
                        "add": max(uncovered[role])})
    return out


def shift_replay(demand: Demand, plan: dict[int, SeverityPlan], roster: Roster, zone: ZoneInfo, goal: float,
                 delta: dict[str, list[int]], monday: date, vary: int | None) -> dict[str, Any]:
    """The advice by shift replayed as a lead would roster it (the shifts' own days, off on their holidays):
    each target's share, and whether every one reaches the goal."""
    shifts, uncovered = _shift_needs(roster, delta, monday)
    changed = roster.with_shift_people({(role, index): need for role, index, need in shifts}, uncovered, monday)
    shares = _shares_after(replay(demand, plan, changed, zone, vary=vary), plan)
    return {"meets_goal": _all_reach(shares, goal), "targets": shares}


def _shares_after(after: Replay, plan: dict[int, SeverityPlan]) -> list[dict[str, Any]]:
    """Each target's share on time in a replay of a changed roster (None where it had no work)."""
    return [{"severity": plan[lvl].id, "target": step, "share": _share(pair)}
            for (lvl, step), pair in sorted(after.met.items()) if pair[1]]


def _all_reach(shares: list[dict[str, Any]], goal: float) -> bool:
    return all(r["share"] is None or r["share"] >= goal for r in shares)


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
        "demand": {**_demand_summary(demand, plan, zone), "warnings": short_history(
            demand, plan, {lvl: matrix.business_time(p.calendar_id) for lvl, p in plan.items()}) + ([
                f"targets differ by support plan, and capacity models every ticket on the "
                f"{matrix.plan_name(matrix.model.plans.default)} plan's: a roster that meets them may miss "
                "another plan's faster ones"] if matrix.model.plans is not None else [])},
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
        change["replay_meets_goal"] = _all_reach(change["replay_after"], goal)
        change["per_shift_replay"] = shift_replay(demand, plan, roster, zone, goal, additions, monday, vary)
    search = (
        replay_search(demand, plan, roster, zone, goal, monday, need, first=rep, rounds=search_rounds, vary=vary)
        if search_rounds
        else None
    )
    if search is not None:
        change["replay_search"] = _found(search, roster, monday)
    data["goal_change"] = change
    data["what_if"] = []
    entries: dict[int, dict[str, Any]] = {}
    looser: dict[tuple[str, str], list[tuple[float, dict[str, list[int]]]]] = {}  # what-ifs priced, by target
    # the loosest what-if of a target first: a tighter one is priced up from what the looser ones need, so of
    # two what-ifs on one target the tighter never costs less
    items = list(what_ifs or [])
    for index in sorted(range(len(items)), key=lambda i: (items[i][0], items[i][1], -items[i][2])):
        sev_id, target, seconds = items[index]
        level = matrix.model.severities[sev_id].level
        changed = plans(matrix, roster, {(sev_id, target): seconds})
        before = plan[level].targets().get(target, math.inf)  # a step not promised before is being promised
        work_w = workload(demand, changed, zone, people)
        est_w = estimate(work_w, changed, people)
        rep_w = replay(demand, changed, roster, zone, vary=vary)
        floors = [need] if seconds < before else []
        floors += [other for limit, other in looser.get((sev_id, target), []) if limit > seconds]
        need_w, unreachable_w = needed(work_w, changed, people, goal, floor=_highest(floors) if floors else None)
        looser.setdefault((sev_id, target), []).append((seconds, need_w))
        roles_w = sorted(set(need) | set(need_w))
        # an hour no number of people can fix is neither a cost nor a saving: it is out of reach
        beyond = {(r, h) for r, h, _, _ in unreachable_w} | {(r, h) for r, h, _, _ in unreachable}
        cost = {role: [0 if (role, h) in beyond else need_w.get(role, [0] * WEEK)[h] - need.get(role, [0] * WEEK)[h]
                       for h in range(WEEK)] for role in roles_w}
        rows = _target_rows(changed, est_w, rep_w, goal)
        more = {r: [max(0, v) for v in values] for r, values in cost.items()}
        entry = {
            "change": f"{sev_id}.{'update_every' if target == 'update' else target}={_minutes(seconds)}",
            "severity": sev_id, "target": target, "from_minutes": before / 60, "to_minutes": seconds / 60,
            "targets": rows,
            "cost": blocks(more),
            "cost_per_shift": per_shift(roster, more, monday),
            "saving": blocks({r: [max(0, -v) for v in values] for r, values in cost.items()}),
            "people_hours_per_week": sum(map(sum, cost.values())),
            "out_of_reach": [{"role": r, "hour_of_week": h, "severity": changed[lvl].id, "reason": why}
                             for r, h, lvl, why in unreachable_w],
            "out_of_reach_hours": describe_hours(sorted({h for _, h, _, _ in unreachable_w})),
        }
        if verify_goal and entry["cost_per_shift"]:  # the cost by shift, replayed as a lead would roster it
            entry["cost_per_shift_replay"] = shift_replay(demand, changed, roster, zone, goal, more, monday, vary)
        if search is not None and not unreachable_w:  # no search for what no number of people reaches
            found = _found(replay_search(demand, changed, roster, zone, goal, monday, need_w, first=rep_w,
                                         rounds=search_rounds, vary=vary), roster, monday)
            found["extra_over_today"] = (found["people_hours_per_week"]
                                         - change["replay_search"]["people_hours_per_week"])
            entry["replay_search"] = found
        entries[index] = entry
    data["what_if"] = [entries[i] for i in range(len(entries))]
    return data


def _highest(needs: list[dict[str, list[int]]]) -> dict[str, list[int]]:
    """The most people any of several needs asks for, per role and hour."""
    roles = sorted({role for n in needs for role in n})
    return {role: [max(n.get(role, [0] * WEEK)[h] for n in needs) for h in range(WEEK)] for role in roles}


def _found(search: dict[str, Any], roster: Roster, monday: date) -> dict[str, Any]:
    """What a replay search found, as the report shows it: the shifts it changed (with what the replay of
    them reaches), and the same change by hours of the week."""
    shifts = []
    for (role, index), add in sorted(search["shifts"].items()):
        item = roster.model.roles[role][index]
        shifts.append({"role": role, "shift": f"{item.days} {item.hours}", "note": item.note, "people": item.people,
                       "add": add})
    for role, hours in sorted(search["new_hours"].items()):
        for stretch in _stretches([h for h, v in enumerate(hours) if v]):
            shifts.append({"role": role, "shift": None, "note": describe_hours(stretch), "people": 0,
                           "add": max(hours[h] for h in stretch)})
    return {"add": blocks(search["add"]), "reached": search["reached"], "per_shift": shifts,
            "per_shift_replay": {"meets_goal": search["reached"], "targets": search["targets"]},
            "replays": search["replays"], "most_replays": search["most_replays"],
            "people_hours_per_week": sum(map(sum, search["add"].values()))}


def _minutes(seconds: float) -> str:
    """A what-if's duration as `--what-if` takes it: `20s`, `7m`, `2h`."""
    if round(seconds) % 60:
        return f"{round(seconds)}s"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}m"


DISAGREE = 0.10  # estimate and replay this far apart: the report says which one to believe
FIRM_TASKS = 200  # tasks a replay needs before its share is firmer than the estimate's


def _believe(queueing: float | None, replayed: float | None, tasks: int) -> str | None:
    """When the two models differ by more than DISAGREE: "replay" (it follows each ticket through shifts,
    holidays, handoffs and bursts, where the estimate takes each hour alone as if its load were steady), or
    "neither" when the replay saw too few tasks for its share to be firm either."""
    if queueing is None or replayed is None or round(abs(queueing - replayed), 9) <= DISAGREE:
        return None
    return "replay" if tasks >= FIRM_TASKS else "neither"


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
            q_worst = sorted((c[0] / c[1], how) for how,
                             c in q_cells.items() if c[1] >= total_q / 1000 and c[1] > 0)[:3]
            target_seconds = p.targets()[step]
            rows.append({
                "severity": p.id, "level": level, "label": p.label, "name": p.name, "target": step,
                "role": p.role_for(step),
                "minutes": target_seconds / 60, "calendar": p.calendar_id,
                "tasks": counted, "queueing": queueing, "replay": replayed,
                "believe": _believe(queueing, replayed, counted),
                "meets_goal": (replayed if replayed is not None else queueing or 0.0) >= goal,
                "worst_hours": [{"hour_of_week": how, "when": describe_hours([how]), "replay": share, "tasks": n,
                                 "queueing": _share(q_cells.get(how, [0.0, 0.0]))} for share, how, n in worst],
                "worst_hours_queueing": [{"hour_of_week": how, "when": describe_hours([how]), "queueing": share,
                                          "tasks_per_week": round(q_cells[how][1], 3)} for share, how in q_worst],
            })
    return rows


def short_history(demand: Demand, plan: dict[int, SeverityPlan], business: dict[int, bool]) -> list[str]:
    """Why a history may be too short to stand for a typical week: it covers less than a week, or less than
    the time its tickets typically stay open (so their later updates fall outside it)."""
    if demand.source != "history" or not demand.arrivals:
        return []
    from datetime import timedelta

    from triage.matrix.durations import human_duration

    span = demand.last - demand.first
    out = []
    if span < 604800:
        out.append(f"the history covers only {human_duration(timedelta(seconds=span))} of arrivals: every hour of "
                   "the week it does not cover counts as quiet, and the hours it does as typical")
    lifetimes = {lvl: t for lvl, t in demand.median_lifetimes.items() if t > span}
    if lifetimes:
        out.append("tickets stay open longer than the history is long (median " + ", ".join(
            f"{plan[lvl].id} {human_duration(timedelta(seconds=t), business=business[lvl])}"
            for lvl, t in sorted(lifetimes.items()))
            + f", against {human_duration(timedelta(seconds=span))}): the updates they owe are under-counted "
            "near its ends; use a longer history")
    return out


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
