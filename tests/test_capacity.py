"""`triage capacity`: Erlang C against published figures, the replay against cases worked out by hand and
against the queueing model on arrivals that follow its assumptions, rosters, and the command."""

from __future__ import annotations

import csv
import json
import math
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from triage.capacity import analysis as cap
from triage.capacity import demand as demand_mod
from triage.capacity import queueing
from triage.capacity import replay as replay_mod
from triage.capacity.roster import check_roster, describe_hours, read_roster
from triage.render import capacity as render_capacity
from triage.cli.app import app
from triage.matrix.calendars import AlwaysOpen

from .browser import rendered_dom
from .conftest import MATRIX_PATH, NEW_YORK, ROOT

runner = CliRunner()
ROSTER_PATH = ROOT / "roster.yaml"
ALWAYS = AlwaysOpen("around_the_clock")
MIN = 60.0


# ---------------------------------------------------------------------------------------------- Erlang C

@pytest.mark.parametrize("servers, load, expected, places", [
    # M/M/1: the probability of waiting is the utilisation.
    (1, 0.3, 0.3, 12), (1, 0.9, 0.9, 12),
    # M/M/2 in closed form: 2r^2 / (1 + r) with r the utilisation per server.
    (2, 1.0, 2 * 0.5 ** 2 / 1.5, 12), (2, 1.6, 2 * 0.8 ** 2 / 1.8, 12),
    # Three servers, two Erlangs: 4/9 (the standard textbook value).
    (3, 2.0, 4 / 9, 12),
    # Westbay Associates' worked example: 360 calls per half hour of 4 minutes = 48 Erlangs on 55 agents:
    # probability of waiting 0.2387.
    (55, 48.0, 0.2387, 4),
    # Call Centre Helper's worked example: 100 calls in 30 minutes of 180 seconds = 10 Erlangs on 11 agents:
    # probability of waiting 68.21%.
    (11, 10.0, 0.6821, 4),
])
def test_erlang_c_matches_published_figures(servers: int, load: float, expected: float, places: int) -> None:
    assert round(queueing.erlang_c(servers, load), places) == round(expected, places)


def test_westbay_worked_example_in_full() -> None:
    servers, load, handle = 55, 360 * 4 / 30, 240.0  # seconds
    assert load == 48
    assert round(load / servers * 100, 1) == 87.3  # occupancy
    assert round(queueing.mean_wait(servers, load, handle), 1) == 8.2  # average speed of answer, seconds
    assert round(queueing.service_level(servers, load, handle, 15) * 100, 1) == 84.6  # answered within 15 s


def test_erlang_c_edges_and_large_pools() -> None:
    assert queueing.erlang_c(5, 0) == 0.0 and queueing.service_level(5, 0, 60, 0) == 1.0
    assert queueing.erlang_c(0, 1.0) == 1.0 and queueing.erlang_c(4, 4.0) == 1.0  # overloaded
    assert queueing.service_level(4, 5.0, 60, 3600) == 0.0 and queueing.mean_wait(4, 5.0, 60) == math.inf
    assert queueing.service_level(4, 2.0, 60, -1) == 0.0  # a target shorter than the work
    big = queueing.erlang_c(2000, 1950.0)  # factorials of 2000 would overflow a float
    assert 0 < big < 1


def test_priorities_reduce_to_erlang_c_for_one_level() -> None:
    waits, conditional = queueing.by_priority(11, {1: 10.0}, 180.0)[1]
    assert waits == pytest.approx(queueing.erlang_c(11, 10.0))
    for allowance in (0, 20, 60, 300):
        assert queueing.within(waits, conditional, allowance) == pytest.approx(queueing.service_level(11, 10.0, 180.0,
                                                                                                      allowance))


def test_more_severe_work_waits_less() -> None:
    levels = queueing.by_priority(4, {1: 0.5, 2: 1.0, 3: 2.0}, 600.0)
    shares = [queueing.within(*levels[lvl], 900) for lvl in (1, 2, 3)]
    assert shares == sorted(shares, reverse=True) and shares[0] > queueing.service_level(4, 3.5, 600.0, 900)


@given(servers=st.integers(1, 60), load=st.floats(0.01, 80), handle=st.floats(10, 3600), allowance=st.floats(0, 7200))
def test_more_people_never_fewer_on_time(servers: int, load: float, handle: float, allowance: float) -> None:
    assert queueing.erlang_c(servers + 1, load) <= queueing.erlang_c(servers, load) + 1e-12
    assert (
        queueing.service_level(servers + 1, load, handle, allowance)
        >= queueing.service_level(servers, load, handle, allowance) - 1e-12
    )
    assert (
        queueing.service_level(servers, load * 1.1, handle, allowance)
        <= queueing.service_level(servers, load, handle, allowance) + 1e-12
    )
    assert (
        queueing.service_level(servers, load, handle, allowance + 60)
        >= queueing.service_level(servers, load, handle, allowance) - 1e-12
    )


@given(servers=st.integers(1, 30), loads=st.lists(st.floats(0.01, 10), min_size=1, max_size=4),
       allowance=st.floats(0, 7200))
def test_more_people_never_fewer_on_time_with_priorities(servers: int, loads: list[float], allowance: float) -> None:
    by_level = {i + 1: load for i, load in enumerate(loads)}
    fewer = queueing.by_priority(servers, by_level, 600.0)
    more = queueing.by_priority(servers + 1, by_level, 600.0)
    for level in by_level:
        assert queueing.within(*more[level], allowance) >= queueing.within(*fewer[level], allowance) - 1e-12


# ---------------------------------------------------------------------------------------------- rosters


def roster_of(text: str, matrix):
    return read_roster(text.encode(), "roster.yaml", matrix)


ONE_DESK = """\
roster_version: 1
name: one desk
timezone: America/New_York
roles:
  frontline:
    - {days: mon-fri, hours: "09:00-17:00", people: 1}
"""


@pytest.mark.parametrize(
    "snippet, code, needle",
    [
        ('roles:\n  frontlne:\n    - {days: mon, hours: "09:00-17:00", people: 1}\n', "C501", "frontlne"),
        ('roles:\n  frontline:\n    - {days: mon-fry, hours: "09:00-17:00", people: 1}\n', "C502", "mon-fry"),
        ('roles:\n  frontline:\n    - {days: mon, hours: "9 to 5", people: 1}\n', "C503", '"9 to 5"'),
        (
            'holidays: no_such_calendar\nroles:\n  frontline:\n    - {days: mon, hours: "09:00-17:00", people: 1}\n',
            "C504",
            "no_such_calendar",
        ),
        ("effort:\n  sev9: {update: 5m}\nroles: {}\n", "C505", "sev9"),
        ("effort:\n  default: {update: 0m}\nroles: {}\n", "C506", "0m"),
        (
            'roles:\n  frontline:\n    - {days: mon, hours: "09:00-17:00", people: 1, timezone: Mars/Base}\n',
            "R306",
            "Mars/Base",
        ),
        ('roles:\n  frontline:\n    - {days: mon, hours: "09:00-17:00", people: -2}\n', "M202", "-2"),
        ('roles:\n  frontline:\n    - {days: mon, hours: "09:00-17:00", people: 1, person: Ann}\n', "M201", "person"),
        ("rolez: {}\n", "M201", "rolez"),
    ],
)
def test_roster_errors_are_located(matrix, snippet: str, code: str, needle: str) -> None:
    text = "roster_version: 1\nname: broken\n" + snippet
    roster, problems = check_roster(text.encode(), "roster.yaml", matrix)
    errors = [p for p in problems if p.level == "error"]
    assert roster is None and errors, problems
    line = next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)
    column = text.splitlines()[line - 1].index(needle) + 1
    assert (errors[0].code, errors[0].line, errors[0].column) == (code, line, column), errors[0].format()


def test_shipped_roster_is_valid_and_describes_the_week(matrix) -> None:
    roster, problems = check_roster(ROSTER_PATH.read_bytes(), "roster.yaml", matrix)
    assert roster is not None and problems == []
    week = roster.week("frontline", datetime(2027, 1, 4).date())
    assert week[9] == 4 and week[3] == 1 and week[5 * 24 + 12] == 1  # Monday 09:00, Monday 03:00, Saturday noon


def test_coverage_gaps_are_warned(matrix) -> None:
    roster, problems = check_roster(ONE_DESK.encode(), "roster.yaml", matrix)
    assert roster is not None and all(p.level == "warning" for p in problems)
    text = "\n".join(p.format() for p in problems)
    assert "role `specialist` handles sev2 assign owner, sev2 update but has nobody on the roster [C510]" in text
    assert ("`frontline` acknowledges sev1, sev2 tickets but has nobody on duty Mon-Fri 00:00-09:00, 17:00-24:00; "
            "Sat-Sun all day, while their target clock runs [C511]") in text


def test_overnight_shifts_holidays_and_daylight_saving(matrix) -> None:
    roster = roster_of(
        """\
roster_version: 1
name: nights
holidays: business_hours
roles:
  frontline:
    - {days: fri, hours: "22:00-06:00", people: 2}
    - {days: mon-fri, hours: "09:00-17:00", people: 3}
""", matrix)
    week = roster.week("frontline", datetime(2027, 1, 4).date())
    assert week[4 * 24 + 22] == 2 and week[5 * 24 + 5] == 2 and week[5 * 24 + 6] == 0
    # Sunday 14 March 2027, clocks go forward: a Monday shift is still 09:00-17:00 local, 8 hours.
    spans = roster.intervals("frontline", datetime(2027, 3, 15).date(), datetime(2027, 3, 15).date())
    assert spans == [(datetime(2027, 3, 15, 9, tzinfo=NEW_YORK).timestamp(), datetime(2027, 3, 15, 17,
                                                                                      tzinfo=NEW_YORK).timestamp(), 3)]
    # Thanksgiving (closed) has no day shift; the day after is open 09:00-13:00, so the shift is cut to that.
    spans = roster.intervals("frontline", datetime(2026, 11, 26).date(), datetime(2026, 11, 27).date())
    hours = [(datetime.fromtimestamp(s, NEW_YORK).strftime("%a %H:%M"), datetime.fromtimestamp(e, NEW_YORK).strftime("%a %H:%M"), n)
             for s, e, n in sorted(spans)]
    assert hours == [("Fri 09:00", "Fri 13:00", 3), ("Fri 22:00", "Sat 06:00", 2)]


def test_hours_are_described_in_blocks() -> None:
    assert describe_hours([0, 1, 2, 24, 25, 26, 48, 49, 50]) == "Mon-Wed 00:00-03:00"
    assert describe_hours(list(range(5 * 24, 7 * 24))) == "Sat-Sun all day"
    assert describe_hours([9, 10, 14]) == "Mon 09:00-11:00, 14:00-15:00"


# ---------------------------------------------------------------------------------------------- the replay, by hand

MONDAY = "2027-01-04"  # an ordinary Monday in New York


def at(clock: str, day: str = MONDAY) -> float:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=NEW_YORK).timestamp()


def plan_of(*levels: dict) -> dict[int, demand_mod.SeverityPlan]:
    out = {}
    for spec in levels:
        s = {"level": 1, "receives": "frontline", "owner": "frontline", "acknowledge": 15 * MIN, "assign_owner": 30 * MIN,
             "cadence": [(30 * MIN, None)], "calendar": ALWAYS, "effort": {}, **spec}
        effort = {"acknowledge": 10 * MIN, "assign_owner": 10 * MIN, "update": 5 * MIN, **s["effort"]}
        out[s["level"]] = demand_mod.SeverityPlan(f"sev{s['level']}", s["level"], "", s["calendar"], "cal", s["receives"],
                                           s["owner"], s["acknowledge"], s["assign_owner"], s["cadence"], None, effort)
    return out


def run(plan: dict, roster, *tickets: tuple) -> replay_mod.Replay:
    demand = demand_mod.Demand(sorted((t[0], t[1], t[2] if len(t) > 2 else 0.0) for t in tickets), "history")
    return replay_mod.replay(demand, plan, roster, NEW_YORK)


def test_one_person_takes_tickets_in_turn(matrix) -> None:
    # Starts at 09:00, 09:10 and 09:20: waits of 0, 9 and 18 minutes against 15.
    result = run(plan_of({}), roster_of(ONE_DESK, matrix), (at("09:00"), 1), (at("09:01"), 1), (at("09:02"), 1))
    assert result.met[(1, "acknowledge")] == [2, 3]
    assert result.met[(1, "assign_owner")] == [3, 3]  # the acknowledgement is the assignment: all within 30 minutes
    assert result.busy["frontline"][9] == 30 * MIN


def test_most_severe_first(matrix) -> None:
    # Severity 4 at 09:00 runs to 09:10. Waiting then: severity 4 (09:01) and severity 1 (09:02). Severity 1 goes
    # first, at 09:10 (8 min); the other severity 4 starts at 09:20 (19 min, late).
    plan = plan_of({"level": 1}, {"level": 4})
    result = run(plan, roster_of(ONE_DESK, matrix), (at("09:00"), 4), (at("09:01"), 4), (at("09:02"), 1))
    assert result.met[(1, "acknowledge")] == [1, 1]
    assert result.met[(4, "acknowledge")] == [1, 2]


def test_nobody_on_duty_and_business_hours(matrix) -> None:
    # 08:00, nobody until 09:00: around the clock that is 60 minutes (late); on business hours the clock only
    # starts at 09:00, so it is on time.
    plan = plan_of({"level": 1}, {"level": 3, "calendar": matrix.calendars["business_hours"]})
    result = run(plan, roster_of(ONE_DESK, matrix), (at("08:00"), 1), (at("08:00"), 3))
    assert result.met[(1, "acknowledge")] == [0, 1]
    assert result.met[(3, "acknowledge")] == [1, 1]


def test_handoff_to_a_busy_owner(matrix) -> None:
    roster = roster_of(
        ONE_DESK.replace("people: 1", "people: 2")
        + """\
  specialist:
    - {days: mon-fri, hours: "09:00-17:00", people: 1}
""", matrix)
    plan = plan_of({"level": 2, "owner": "specialist", "effort": {"assign_owner": 20 * MIN}})
    # Acknowledged at 09:00, 09:00, 09:10 (two people); handed over at 09:10, 09:10, 09:20; the specialist takes
    # them at 09:10, 09:30 and 09:50: 10, 30 and 50 minutes after arrival against 30.
    result = run(plan, roster, (at("09:00"), 2), (at("09:00"), 2), (at("09:00"), 2))
    assert result.met[(2, "acknowledge")] == [3, 3]
    assert result.met[(2, "assign_owner")] == [2, 3]


def test_updates_compete_with_the_handoff(matrix) -> None:
    roster = roster_of(
        ONE_DESK
        + """\
  support_lead:
    - {days: daily, hours: "00:00-24:00", people: 1}
""", matrix)
    plan = plan_of({"level": 1, "owner": "support_lead", "effort": {"update": 25 * MIN, "assign_owner": 15 * MIN}})
    # Open two hours, updates due every 30 minutes: at 09:30, 10:00 and 10:30 (the one at 11:00 is the resolution).
    # Update 1 (window from 09:00) runs 09:00-09:25. The handoff (ready at 09:10) runs 09:25-09:40: 25 min, on time.
    # Update 2 (window from 09:30, must start by 09:35) starts 09:40: late. Update 3 (from 10:00, start by 10:05)
    # starts at 10:05: on time.
    result = run(plan, roster, (at("09:00"), 1, 7200.0))
    assert result.met[(1, "assign_owner")] == [1, 1]
    assert result.met[(1, "update")] == [2, 3]


def test_holidays_take_day_shifts_off(matrix) -> None:
    roster = roster_of(
        """\
roster_version: 1
name: holidays
holidays: business_hours
roles:
  frontline:
    - {days: mon-fri, hours: "09:00-17:00", people: 1}
    - {days: daily, hours: "17:00-09:00", people: 1, holidays: none}
""", matrix)
    # Thanksgiving: nobody until 17:00. The day after: open 09:00-13:00 only.
    result = run(plan_of({}), roster, (at("10:00", "2026-11-26"), 1), (at("10:00", "2026-11-27"), 1),
                 (at("14:00", "2026-11-27"), 1), (at("03:00", "2026-11-28"), 1))
    assert result.met[(1, "acknowledge")] == [2, 4]
    assert result.by_hour[(1, "acknowledge")][3 * 24 + 10] == [0, 1]  # Thursday 10:00, late


def test_a_shift_ends_after_the_task_in_hand(matrix) -> None:
    roster = roster_of(ONE_DESK.replace("09:00-17:00", "09:00-10:00"), matrix)
    plan = plan_of({"effort": {"acknowledge": 30 * MIN}})
    # 09:45 starts at once and runs to 10:15 past the shift; 09:50 waits for Tuesday 09:00.
    result = run(plan, roster, (at("09:45"), 1), (at("09:50"), 1))
    assert result.met[(1, "acknowledge")] == [1, 2] and result.never_started == 0
    assert result.busy["frontline"][9] == 30 * MIN and result.busy["frontline"][24 + 9] == 30 * MIN


def test_work_that_nobody_ever_takes_is_counted_late(matrix) -> None:
    roster = roster_of(ONE_DESK, matrix)
    plan = plan_of({"owner": "specialist"})  # nobody of that role on the roster
    result = run(plan, roster, (at("09:00"), 1))
    assert result.met[(1, "assign_owner")] == [0, 1] and result.never_started == 1


# ---------------------------------------------------------------------------------------------- replay against Erlang C


def test_replay_agrees_with_erlang_c_when_its_assumptions_hold(matrix) -> None:
    """Poisson arrivals, exponential efforts, a constant team: the replay's share within the target must match
    Erlang C within 0.02 (the stated tolerance; the sampling error at this size is about 0.003)."""
    roster = roster_of(
        'roster_version: 1\nname: flat\nroles:\n  frontline:\n    - {days: daily, hours: "00:00-24:00", people: 3}\n',
        matrix,
    )
    handle, per_hour, target = 10 * MIN, 14.4, 5 * MIN  # 2.4 Erlangs on 3 people: 80% occupancy
    rng = random.Random(7)
    t, end, tickets = at("00:00"), at("00:00") + 26 * 7 * 86400, []
    while True:
        t += rng.expovariate(per_hour / 3600)
        if t >= end:
            break
        tickets.append((t, 1))
    plan = plan_of({"acknowledge": target, "effort": {"acknowledge": handle}})
    demand = demand_mod.Demand(sorted((t, lvl, 0.0) for t, lvl in tickets), "history")
    result = replay_mod.replay(demand, plan, roster, NEW_YORK, vary=3)
    good, total = result.met[(1, "acknowledge")]
    expected = queueing.service_level(3, per_hour * handle / 3600, handle, target)
    assert total == len(tickets) > 60_000
    assert abs(good / total - expected) < 0.02, (good / total, expected)
    # and the estimate built from the same demand says the same
    people = {"frontline": roster.week("frontline", datetime(2027, 1, 4).date())}
    work = demand_mod.workload(demand, plan, NEW_YORK, people)
    estimate = queueing.estimate(work, plan, people)
    share = estimate["on_time"][(1, "acknowledge")]
    assert abs(share[0] / share[1] - expected) < 0.02


@given(extra=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_replay_more_people_never_fewer_on_time(matrix, extra: int, seed: int) -> None:
    roster = roster_of(ONE_DESK + '  support_lead:\n    - {days: daily, hours: "08:00-20:00", people: 1}\n', matrix)
    rng = random.Random(seed)
    tickets = sorted((at("08:00") + rng.uniform(0, 3 * 86400), rng.choice((1, 3)), rng.choice((0.0, 3600.0)))
                     for _ in range(rng.randint(5, 60)))
    plan = plan_of({"level": 1, "owner": "support_lead"}, {"level": 3})
    demand = demand_mod.Demand(tickets, "history")
    base = replay_mod.replay(demand, plan, roster, NEW_YORK)
    more = replay_mod.replay(demand, plan, roster.with_extra({"frontline": [extra] * 168}, datetime(2027, 1, 4).date()),
                             NEW_YORK)
    assert sum(g for g, _ in more.met.values()) >= sum(g for g, _ in base.met.values())


# ---------------------------------------------------------------------------------------------- the command


def history(path: Path, rows: int = 400, seed: int = 5) -> Path:
    rng = random.Random(seed)
    start = datetime(2027, 1, 4, tzinfo=NEW_YORK)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "severity", "created_at", "resolved_at"])
        for i in range(rows):
            created = start + timedelta(minutes=rng.uniform(0, 4 * 7 * 1440))
            level = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 4, 4))
            resolved = created + timedelta(hours=rng.uniform(1, 30)) if rng.random() < 0.9 else None
            writer.writerow([f"T-{i}", level, created.isoformat(), resolved.isoformat() if resolved else "?"])
        writer.writerow(["T-bad", "3", "not a time", ""])
    return path


def capacity(*args: str, env: dict | None = None):
    return runner.invoke(app, ["capacity", "--matrix", str(MATRIX_PATH), "--roster", str(ROSTER_PATH), *args], env=env)


def test_history_in_json_out(tmp_path: Path) -> None:
    result = capacity(str(history(tmp_path / "export.csv")), "--format", "json", "--goal", "90%",
                      "--what-if", "sev2.acknowledge=15m", "--what-if", "sev3.update_every=4h")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["demand"]["tickets"] == 400 and data["demand"]["unreadable"] == 1
    assert "export.csv:402: created_at: `not a time` is not a time" in result.stderr
    # severity 4 updates every 40 business hours, and no ticket here stays open that long: no update work
    assert {(r["severity"], r["target"]) for r in data["targets"]} == {
        (f"sev{lvl}", t) for lvl in range(1, 5) for t in ("acknowledge", "assign_owner", "update")} - {("sev4", "update")}
    for row in data["targets"]:
        assert 0 <= row["replay"] <= 1 and 0 <= row["queueing"] <= 1
    assert [w["change"] for w in data["what_if"]] == ["sev2.acknowledge=15m", "sev3.update_every=4h"]
    tighter = data["what_if"][0]
    assert tighter["from_minutes"] == 30 and tighter["to_minutes"] == 15 and tighter["people_hours_per_week"] >= 0
    assert len(data["roles"]) == 3 and all(len(r["hours"]) == 168 for r in data["roles"])
    assert data["goal_change"]["goal"] == 0.9 and "replay_search" in data["goal_change"]


def test_rates_and_a_goal_the_roster_misses(tmp_path: Path) -> None:
    result = capacity("--rate", "sev1=1/d", "--rate", "sev2=6/d", "--rate", "sev3=80/d", "--rate", "sev4=40/d",
                      "--weeks", "6", "--goal", "95%", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    change = data["goal_change"]
    assert data["demand"]["source"] == "rates" and change["add"], change
    assert change["people_hours_per_week"] == sum(b["people_hours_per_week"] for b in change["add"])
    # the replay search adds people until the goal is met (or says it is not)
    found = change["replay_search"]
    assert found["reached"] or found["replays"] == 12


def test_text_report_fits_80_columns_and_names_the_decision(tmp_path: Path) -> None:
    result = capacity(str(history(tmp_path / "export.csv")), "--what-if", "sev1.acknowledge=10m", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("Support escalation matrix")
    assert any(line.startswith("Replay: ") for line in lines)
    assert sum(bool(re.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)  ", line)) for line in lines) == 21  # 3 roles x 7 days
    assert "What if sev1.acknowledge=10m (now 15 min)" in result.stdout


def test_markdown_and_html_reports(tmp_path: Path) -> None:
    export = str(history(tmp_path / "export.csv"))
    md = capacity(export, "--format", "markdown", "--what-if", "sev2.acknowledge=15m")
    assert md.exit_code == 0 and md.stdout.startswith("# Capacity against the matrix's targets")
    assert "| sev1 Critical | acknowledge | 15 min | frontline |" in md.stdout
    page = tmp_path / "capacity.html"
    done = capacity(export, "--format", "html", "--output", str(page), "--what-if", "sev2.acknowledge=15m")
    assert done.exit_code == 0, done.output
    dom = rendered_dom(page, tmp_path)
    assert dom.count('class="heat"') == 3 and 'id="what-if"' in dom and "sev2.acknowledge=15m" in dom
    assert dom.count('<td style="background:') == 3 * 7 * 24


@pytest.mark.parametrize("args, message", [
    ([], "no demand: give ticket-history files, or --rate"),
    (["x.csv", "--rate", "sev3=1/d"], "either history files or --rate"),
    (["--rate", "sev3=lots"], "--rate: `sev3=lots`: write the rate as tickets per hour, day or week"),
    (["--rate", "sev7=1/d"], "--rate: `sev7=1/d` is not a rate"),
    (["--rate", "sev3=1/d", "--goal", "150%"], "--goal: `150%` must lie between 0% and 100%"),
    (["--rate", "sev3=1/d", "--goal", "most"], "--goal: `most` is not a share"),
    (["--rate", "sev3=1/d", "--what-if", "sev3.resolve=1h"], "--what-if: `resolve` is not a target"),
    (["--rate", "sev3=1/d", "--what-if", "sev3.acknowledge"], "--what-if: `sev3.acknowledge` is not a what-if"),
    (["--rate", "sev3=1/d", "--effort", "lunch=1h"], "--effort: `lunch=1h` is not an effort"),
    (["--rate", "sev3=0/d"], "--rate: every rate is zero"),
    (["--rate", "sev3=900000/h"], "--rate: that is about 7,862,400,000 tickets over 52 weeks; at most 5,000,000"),
])
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = capacity(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and isinstance(result.exception, (SystemExit, type(None)))


def test_an_export_without_readable_tickets_exits_1(tmp_path: Path) -> None:
    export = tmp_path / "empty.csv"
    export.write_text("ticket,severity,created_at\nT-1,3,yesterday-ish\n")
    result = capacity(str(export))
    assert result.exit_code == 1
    assert "empty.csv:2: created_at: `yesterday-ish` is not a time" in result.stderr
    assert "no tickets to measure: the files hold none that can be read" in result.stderr


def test_roster_problems_exit_1_with_a_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad-roster.yaml"
    bad.write_text(ONE_DESK.replace("frontline", "frontdesk"))
    result = runner.invoke(app, ["capacity", "--matrix", str(MATRIX_PATH), "--roster", str(bad), "--rate", "sev3=1/d"])
    assert result.exit_code == 1
    assert f"{bad}:5:3: error: unknown role `frontdesk`" in result.stderr
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x00\x01\x02roster")
    result = runner.invoke(app, ["capacity", "--roster", str(binary), "--rate", "sev3=1/d"])
    assert (
        result.exit_code == 1
        and str(binary) in result.stderr
        and isinstance(result.exception, (SystemExit, type(None)))
    )
    missing = runner.invoke(app, ["capacity", "--roster", str(tmp_path / "nope.yaml"), "--rate", "sev3=1/d"])
    assert missing.exit_code == 1 and "nope.yaml" in missing.stderr
    none = runner.invoke(app, ["capacity", "--rate", "sev3=1/d"])
    assert none.exit_code == 2 and "no roster: pass --roster FILE" in none.stderr


def test_validate_checks_rosters_against_the_matrix(tmp_path: Path) -> None:
    good = runner.invoke(app, ["validate", str(ROSTER_PATH), str(MATRIX_PATH), "--matrix", str(MATRIX_PATH)])
    assert good.exit_code == 0, good.output
    gaps = tmp_path / "gaps.yaml"
    gaps.write_text(ONE_DESK)
    warned = runner.invoke(app, ["validate", str(gaps), "--matrix", str(MATRIX_PATH), "--format", "json"])
    assert warned.exit_code == 0
    codes = [p["code"] for p in json.loads(warned.stdout)["files"][0]["problems"]]
    assert set(codes) == {"C510", "C511"}
    strict = runner.invoke(app, ["validate", str(gaps), "--matrix", str(MATRIX_PATH), "--strict"])
    assert strict.exit_code == 1


def test_text_from_files_is_shown_escaped(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile-roster.yaml"
    hostile.write_text(ROSTER_PATH.read_text().replace("name: Support desk, winter 2026-27",
                                                       'name: "[bold red]desk\\e[2J\\u202e"'))
    for fmt in ("text", "markdown", "html", "json"):
        result = runner.invoke(app, ["capacity", "--matrix", str(MATRIX_PATH), "--roster", str(hostile),
                                     "--rate", "sev3=5/d", "--weeks", "2", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    text = runner.invoke(app, ["capacity", "--matrix", str(MATRIX_PATH), "--roster", str(hostile), "--rate", "sev3=5/d",
                               "--weeks", "2"])
    assert "[bold red]desk\\x1b[2J\\u202e" in text.stdout


def test_init_writes_a_starter_roster_once(tmp_path: Path) -> None:
    first = runner.invoke(app, ["init", "--roster"])
    assert first.exit_code == 0 and (tmp_path / "roster.yaml").read_bytes() == ROSTER_PATH.read_bytes()
    again = runner.invoke(app, ["init", "--roster"])
    assert again.exit_code == 1 and "already exists" in again.stderr


# ---------------------------------------------------------------------------------------------- measured from history


def test_tracked_time_sets_the_efforts_and_the_export_shows_what_really_happened(matrix, tmp_path: Path) -> None:
    # 25 severity-3 tickets, each open one business hour (no update due) and tracked at 15, 20 or 25 minutes:
    # the model gives them 10 minutes of work (the acknowledgement), so the median ratio is 2.0.
    rows, spent = [], [15, 20, 25] * 8 + [20]
    for i, minutes in enumerate(spent):
        created = datetime(2027, 1, 5, 10, tzinfo=NEW_YORK) + timedelta(minutes=7 * i)
        acknowledged = created + timedelta(hours=5 if i % 5 == 0 else 1)  # one in five late against 4 hours
        rows.append([f"T{i}", "3", created.isoformat(), acknowledged.isoformat(),
                     (created + timedelta(hours=1)).isoformat(), f"0:{minutes:02d}" if i % 2 else str(minutes)])
    export = tmp_path / "tracked.csv"
    with export.open("w", newline="") as handle:
        csv.writer(handle).writerows([["ticket", "severity", "created_at", "acknowledged_at", "resolved_at",
                                       "time_spent"], *rows])
    result = capacity(str(export), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    sev3 = next(e for e in data["effort"] if e["severity"] == "sev3")
    assert sev3 == {"severity": "sev3", "tracked_tickets": 25, "factor": 2.0, "source": "history",
                    "minutes": {"acknowledge": 20.0, "assign_owner": 30.0, "update": 20.0}}
    assert next(e for e in data["effort"] if e["severity"] == "sev1")["source"] == "roster"
    row = next(r for r in data["targets"] if (r["severity"], r["target"]) == ("sev3", "acknowledge"))
    assert row["history"] == 0.8 and row["replay"] == 1.0
    text = " ".join(capacity(str(export), "--goal", "90%", env={"COLUMNS": "80"}).stdout.split())
    assert "sev3 x2.00 the roster's" in text
    assert "not a matter of headcount" in text and "sev3 acknowledge 80% against 100%" in text
    # --effort on the command line wins over the tracked time
    forced = json.loads(capacity(str(export), "--format", "json", "--effort", "acknowledge=5m").stdout)
    assert next(e for e in forced["effort"] if e["severity"] == "sev3")["minutes"]["acknowledge"] == 5.0


@pytest.mark.parametrize("mapping, column, raw, seconds", [
    ("generic", "time_spent", "45", 2700.0),
    ("generic", "time_spent", "1:30", 5400.0),
    ("generic", "time_spent", "0:01:30", 90.0),
    ("jira-service-management", "Time Spent", "3600", 3600.0),
])
def test_time_spent_is_read_in_the_mappings_unit(mapping: str, column: str, raw: str, seconds: float) -> None:
    from triage.exports.mapping import load_mapping
    from triage.exports.readers import Reader

    chosen = load_mapping(mapping, lambda path: b"")
    reader = Reader(chosen, levels={1, 2, 3, 4}, questions=(), packet_fields=(), zone=NEW_YORK)
    names = {v: k for k, v in chosen.columns.items() if isinstance(v, str)}
    row = {names_k: "" for names_k in names}
    row.update({chosen.columns["ticket"]: "T-1", chosen.columns["severity"]: "3" if mapping == "generic" else "Medium",
                chosen.columns["created_at"]: "2027-01-05T10:00:00-05:00" if mapping == "generic" else "05/Jan/27 10:00 AM",
                column: raw})
    ticket = next(iter(reader.tickets([(2, row)])))
    assert ticket.time_spent == seconds


@pytest.mark.parametrize("raw", ["soon", "-5", "1:2:3:4", "nan", "inf"])
def test_unreadable_time_spent_is_a_reported_row(raw: str) -> None:
    from triage.exports.mapping import load_mapping
    from triage.exports.readers import Reader
    from triage.exports.tickets import BadRow

    reader = Reader(load_mapping("generic", lambda path: b""), levels={3}, questions=(), packet_fields=(),
                    zone=NEW_YORK)
    item = next(iter(reader.tickets([(7, {"ticket": "T", "severity": "3", "created_at": "2027-01-05T10:00:00Z",
                                           "time_spent": raw})])))
    assert isinstance(item, BadRow) and item.line == 7 and item.reason == f"time_spent: `{raw}` is not a duration"


def test_event_logs_and_the_period_select_the_demand(tmp_path: Path) -> None:
    log = tmp_path / "events.csv"
    rows = [["ticket", "at", "event", "severity"]]
    for i in range(30):
        created = datetime(2027, 1, 5, 10, tzinfo=NEW_YORK) + timedelta(days=i)
        rows += [[f"E{i}", created.isoformat(), "created", "2"],
                 [f"E{i}", (created + timedelta(minutes=20 + i)).isoformat(), "acknowledged", ""],
                 [f"E{i}", (created + timedelta(hours=3)).isoformat(), "resolved", ""]]
    with log.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    data = json.loads(capacity(str(log), "--format", "json").stdout)
    assert data["demand"]["tickets"] == 30 and data["demand"]["per_severity"][1]["tickets"] == 30
    ack = next(r for r in data["targets"] if (r["severity"], r["target"]) == ("sev2", "acknowledge"))
    assert ack["history"] == 11 / 30  # acknowledged 20..49 minutes after creation against 30
    # three hours open, updates every hour for the first four: two updates (the third falls at resolution)
    assert next(r for r in data["targets"] if (r["severity"], r["target"]) == ("sev2", "update"))["tasks"] == 60
    period = json.loads(capacity(str(log), "--format", "json", "--since", "2027-01-10", "--until", "2027-01-20").stdout)
    assert period["demand"]["tickets"] == 10


def test_changes_are_put_in_the_rosters_shifts(matrix) -> None:
    roster = roster_of(
        """\
roster_version: 1
name: shifts
roles:
  frontline:
    - {days: mon-fri, hours: "09:00-17:00", people: 3, note: day desk}
    - {days: daily, hours: "22:00-06:00", people: 1}
""", matrix)
    delta = [0] * 168
    delta[10] = 2  # Monday 10:00
    delta[24 + 23] = 1  # Tuesday 23:00, the night shift
    delta[5 * 24 + 12] = 1  # Saturday noon: no shift covers it
    rows = cap.per_shift(roster, {"frontline": delta}, datetime(2027, 1, 4).date())
    assert rows == [
        {"role": "frontline", "shift": "mon-fri 09:00-17:00", "note": "day desk", "people": 3, "add": 2},
        {"role": "frontline", "shift": "daily 22:00-06:00", "note": "", "people": 1, "add": 1},
        {"role": "frontline", "shift": None, "note": "Sat 12:00-13:00", "people": 0, "add": 1},
    ]


def test_random_arrivals_and_random_efforts_are_independent(matrix) -> None:
    """Arrivals made from --rate and efforts drawn with --vary-effort from one seed: two streams that do not
    correlate, so the replay still lands on Erlang C (with one shared stream it came out far above)."""
    roster = roster_of(
        'roster_version: 1\nname: flat\nroles:\n  frontline:\n    - {days: daily, hours: "00:00-24:00", people: 3}\n',
        matrix,
    )
    handle, per_hour, target = 10 * MIN, 14.4, 5 * MIN
    demand = demand_mod.demand_from_rates(matrix, {1: per_hour}, start=datetime(2027, 1, 4, tzinfo=NEW_YORK),
                                          weeks=26, seed=1)
    demand = demand_mod.Demand([(t, level, 0.0) for t, level, _ in demand.arrivals], "rates")  # no updates owed
    plan = plan_of({"acknowledge": target, "effort": {"acknowledge": handle}})
    result = replay_mod.replay(demand, plan, roster, NEW_YORK, vary=1)
    good, total = result.met[(1, "acknowledge")]
    expected = queueing.service_level(3, per_hour * handle / 3600, handle, target)
    assert abs(good / total - expected) < 0.02, (good / total, expected)


def test_the_same_inputs_give_the_same_advice_bounded_by_work_not_time(matrix) -> None:
    """The replay search stops after an amount of work fixed by the demand, never after a time on the clock,
    and arrivals made from rates start in a stated week: two runs give the same bytes."""
    args = ["--rate", "sev1=6/h", "--weeks", "2", "--start", "2027-01-06", "--format", "json"]
    first, second = capacity(*args), capacity(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["demand"]["from"].startswith("2027-01-04")  # the Monday of the week named
    search = data["goal_change"]["replay_search"]
    assert search["replays"] <= search["most_replays"] == 12
    # on a demand large enough that twelve replays would pass the work budget, fewer are allowed: by count
    roster = roster_of(ONE_DESK, matrix)
    demand = demand_mod.Demand([(at("08:00") + 60.0 * i, 1, 0.0) for i in range(1000)], "history")
    plan = plan_of({"level": 1})
    found = cap.replay_search(demand, plan, roster, NEW_YORK, 0.99, datetime(2027, 1, 4).date(), {}, budget=3500)
    assert found["most_replays"] == 3 and found["replays"] <= 3
    assert "--start" in capacity("--rate", "sev1=1/h", "--start", "someday").stderr


FLAT_ONE = ('roster_version: 1\nname: flat\ntimezone: America/New_York\nroles:\n  frontline:\n'
            '    - {days: daily, hours: "00:00-24:00", people: 1}\n')


def search(plan: dict, roster, demand, goal: float, vary: int | None = None) -> dict:
    """The replay search as `triage capacity` runs it: from the queueing estimate's needs, reported."""
    monday = datetime(2027, 1, 4).date()
    people = {role: roster.week(role, monday) for role in roster.roles}
    need, _ = cap.needed(demand_mod.workload(demand, plan, NEW_YORK, people), plan, people, goal)
    return cap._found(cap.replay_search(demand, plan, roster, NEW_YORK, goal, monday, need, vary=vary), roster, monday)


def steady(matrix, per_hour: float, weeks: int = 4) -> demand_mod.Demand:
    made = demand_mod.demand_from_rates(matrix, {1: per_hour}, start=datetime(2027, 1, 4, tzinfo=NEW_YORK),
                                        weeks=weeks, seed=1)
    return demand_mod.Demand([(t, level, 0.0) for t, level, _ in made.arrivals], "rates")  # no updates owed


def test_the_replay_search_adds_whole_shifts_in_amounts_erlang_c_supports(matrix) -> None:
    """One person at 2.5 Erlangs (15 tickets an hour of 10 minutes each, around the clock): Erlang C needs 4
    people for 80% within 15 minutes (.966; 3 give .668). The search used to pile people into single hours
    ("+21 frontline Tue 17:00-18:00", "+20 ... Fri 20:00-21:00") and still missed the goal after 12 replays."""
    assert queueing.service_level(4, 2.5, 600, 900) > 0.8 > queueing.service_level(3, 2.5, 600, 900)
    roster = roster_of(FLAT_ONE, matrix)
    plan = plan_of({"acknowledge": 15 * MIN, "assign_owner": 60 * MIN, "effort": {"acknowledge": 10 * MIN}})
    found = search(plan, roster, steady(matrix, 15.0), 0.8, vary=1)
    assert found["reached"] and found["per_shift_replay"]["meets_goal"]
    assert found["per_shift"] == [{"role": "frontline", "shift": "daily 00:00-24:00", "note": "", "people": 1,
                                   "add": 3}]
    assert [(b["change"], b["hours"]) for b in found["add"]] == [(3, "Mon-Sun all day")]
    assert found["people_hours_per_week"] == 3 * 168


def test_a_late_acknowledgement_is_blamed_on_the_role_that_receives_it(matrix) -> None:
    """An assignment that waits on a late acknowledgement misses its target through no fault of its owner:
    the search used to add owners (the role of the step that was missed), here specialists who sit idle."""
    roster = roster_of(FLAT_ONE + '  specialist:\n    - {days: daily, hours: "00:00-24:00", people: 3}\n', matrix)
    plan = plan_of({"acknowledge": 30 * MIN, "assign_owner": 45 * MIN, "owner": "specialist",
                    "effort": {"acknowledge": 10 * MIN, "assign_owner": 5 * MIN}})
    demand = steady(matrix, 5.0)
    today = replay_mod.replay(demand, plan, roster, NEW_YORK, vary=1)
    good, total = today.met[(1, "assign_owner")]
    assert good / total < 0.8 and set(today.blame[(1, "assign_owner")]) == {"frontline"}
    found = search(plan, roster, demand, 0.8, vary=1)
    assert found["reached"] and {row["role"] for row in found["per_shift"]} == {"frontline"}


def test_late_work_is_blamed_on_the_hours_it_waited_not_the_hour_it_appeared(matrix) -> None:
    """A ticket at 06:30 with two hours to be acknowledged, on a desk that opens at 09:00: adding someone at
    any time from 06:30 to 08:30 saves it. The blame is spread over those hours (it was all put on 06:00), and
    the search proposes a block of new hours that no shift covers, not one hour."""
    roster = roster_of(ONE_DESK, matrix)
    plan = plan_of({"acknowledge": 120 * MIN, "assign_owner": 180 * MIN})
    demand = demand_mod.Demand([(at("06:30"), 1, 0.0)], "history")
    blame = replay_mod.replay(demand, plan, roster, NEW_YORK).blame[(1, "acknowledge")]["frontline"]
    assert {how: round(v, 3) for how, v in enumerate(blame) if v} == {6: 0.25, 7: 0.5, 8: 0.25}
    found = search(plan, roster, demand, 0.8)
    assert found["reached"]
    assert found["per_shift"] == [{"role": "frontline", "shift": None, "note": "Mon 06:00-09:00", "people": 0,
                                   "add": 1}]


def test_counts_read_as_english() -> None:
    from triage.render import capacity as render

    block = {"role": "frontline", "change": 2, "hours": "Mon 09:00-12:00"}
    what_if = {"severity": "sev4", "target": "acknowledge", "targets": [], "cost": [block],
               "saving": [{**block, "change": 5, "hours": "Tue 09:00-14:00"}], "people_hours_per_week": -18}
    text = "\n".join(render.what_if_lines(what_if, 0.8))
    assert "-18 more" not in text and "18 fewer people-hours a week overall" in text
    assert "+2 frontline: Mon 09:00-12:00" in text and "-5 frontline: Tue 09:00-14:00" in text  # savings listed
    assert render.shift_lines([{"shift": None, "role": "frontline", "note": "Sun 03:00", "add": 1}]) == [
        "frontline, hours no shift covers (Sun 03:00): 1 person"]
    assert render.net_hours(1) == "1 more people-hour a week" and render.net_hours(0).startswith("no change")


def test_a_history_too_short_to_stand_for_a_week_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("ticket,severity,created_at,resolved_at\n"
                    "A,3,2027-01-04T10:00:00-05:00,2027-01-20T10:00:00-05:00\n"
                    "B,3,2027-01-05T11:00:00-05:00,2027-01-21T10:00:00-05:00\n"
                    "C,2,2027-01-06T12:00:00-05:00,2027-01-08T10:00:00-05:00\n")
    warnings = json.loads(capacity(str(path), "--format", "json").stdout)["demand"]["warnings"]
    assert len(warnings) == 2 and "2 d 2 h" in warnings[0] and "sev3" in warnings[1] and "sev2" not in warnings[1]
    assert "Warning: the history covers only" in " ".join(capacity(str(path)).stdout.split())
    long = history(tmp_path / "long.csv")  # four weeks, tickets open a day or so
    assert json.loads(capacity(str(long), "--format", "json").stdout)["demand"]["warnings"] == []


def test_the_text_heatmap_reads_without_colour() -> None:
    result = capacity("--rate", "sev1=6/h", "--weeks", "2", "--start", "2027-01-06", env={"NO_COLOR": "1"})
    rows = [line for line in result.stdout.splitlines() if line[:3] in ("Mon", "Tue", "Sun")]
    assert rows and any(re.search(r"\d!", row) for row in rows)  # hours below the goal are marked, not only coloured
    assert "`!` after an hour whose work is below the goal" in " ".join(result.stdout.split())


def test_the_summary_points_at_worst_hours_only_when_it_lists_some(tmp_path: Path) -> None:
    from triage.render import capacity as render

    data = json.loads(capacity(str(history(tmp_path / "h.csv")), "--format", "json").stdout)
    data["goal_change"]["add"] = []  # the estimate finds no hour short
    data["targets"][0]["meets_goal"] = False  # while the replay misses one target
    for row in data["targets"]:
        row["worst_hours"], row["worst_hours_queueing"] = [], []
    text = " ".join(render.summary(data))
    assert "only the replay sees." in text and "see the worst hours" not in text


@pytest.mark.parametrize("change", ["sev1.assign_owner=15m", "sev1.update_every=15m"])
def test_a_what_if_no_number_of_people_reaches_says_so_in_every_format(change: str) -> None:
    args = ["--rate", "sev1=2/h", "--weeks", "2", "--start", "2027-01-06", "--what-if", change]
    data = json.loads(capacity(*args, "--format", "json").stdout)
    w = data["what_if"][0]
    assert w["out_of_reach"] and w["people_hours_per_week"] == 0 and w["saving"] == []
    text = " ".join(capacity(*args).stdout.split())
    assert "out of reach: no number of people keeps the goal" in text
    assert "no extra people needed" not in text and "no more people than today's targets need" not in text
    assert "out of reach" in capacity(*args, "--format", "markdown").stdout
    assert "<td>out of reach</td>" in capacity(*args, "--format", "html").stdout


def test_every_mistake_of_a_shift_and_overlapping_shifts_are_reported(matrix) -> None:
    text = ('roster_version: 1\nname: r\nroles:\n  frontline:\n'
            '    - {days: mon-fry, hours: "9-17", people: 1}\n')
    _, problems = check_roster(text.encode(), "roster.yaml", matrix)
    assert {p.code for p in problems if p.level == "error"} == {"C502", "C503"}  # both, not the first only
    text = ('roster_version: 1\nname: r\nroles:\n  frontline:\n'
            '    - {days: mon-fri, hours: "08:00-18:00", people: 4}\n'
            '    - {days: mon-fri, hours: "09:00-17:00", people: 4}\n'
            '    - {days: sat, hours: "09:00-17:00", people: 1}\n')
    roster, problems = check_roster(text.encode(), "roster.yaml", matrix)
    overlaps = [p for p in problems if p.code == "C512"]
    assert roster is not None and len(overlaps) == 1 and overlaps[0].level == "warning"
    assert overlaps[0].line == 6 and "overlaps shift 1 (Mon-Fri 09:00-17:00)" in overlaps[0].message


def test_wrapped_lines_sit_under_their_first_line() -> None:
    result = capacity("--rate", "sev1=2/h", "--weeks", "2", "--start", "2027-01-06", "--what-if",
                      "sev1.assign_owner=15m", env={"COLUMNS": "80", "NO_COLOR": "1"})
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    first = next(i for i, line in enumerate(lines) if line.startswith("  out of reach:"))
    assert lines[first + 1].startswith("    ") and lines[first + 1].strip()
    bullets = [i for i, line in enumerate(lines) if line.startswith("  • ")]
    assert bullets and all(lines[i + 1].startswith(("    ", "  • ")) or not lines[i + 1] for i in bullets)


QUEUE = ["--rate", "sev1=0.2/h", "--rate", "sev2=1/h", "--rate", "sev3=3/h", "--rate", "sev4=4/h", "--weeks", "2",
         "--start", "2027-01-06"]


def test_a_tighter_target_never_costs_fewer_people() -> None:
    """Tightening sev4's acknowledgement from 8 business hours to 1 h once priced as 5 people-hours saved: work
    with less slack is no longer spread over the hours of its window, and fewer hours round up to a person."""
    data = json.loads(capacity(*QUEUE, "--goal", "90%", "--what-if", "sev4.acknowledge=1h", "--format",
                               "json").stdout)
    w = data["what_if"][0]
    assert w["to_minutes"] < w["from_minutes"]
    assert w["people_hours_per_week"] >= 0 and w["saving"] == []


def test_work_that_can_wait_is_not_put_in_an_hour_the_urgent_work_overloads(matrix) -> None:
    """Monday 10:00: fifteen urgent tickets of ten minutes each (2.5 Erlangs) on two people, and four that may
    wait eight hours. The second kind was spread over the staffed hours of its window by the people on duty,
    so a seventh of it fell in the overloaded hour and counted 0%, though the afternoon is idle."""
    roster = roster_of(ONE_DESK.replace("people: 1", "people: 2"), matrix)
    plan = plan_of({"level": 1, "acknowledge": 15 * MIN, "assign_owner": 15 * MIN},
                   {"level": 3, "acknowledge": 8 * 60 * MIN, "assign_owner": 8 * 60 * MIN})
    tickets = [(at(f"10:{4 * i:02d}"), 1, 0.0) for i in range(15)] + [(at(f"10:{15 * i:02d}"), 3, 0.0)
                                                                       for i in range(4)]
    demand = demand_mod.Demand(sorted(tickets), "history")
    people = {"frontline": roster.week("frontline", datetime(2027, 1, 4).date())}
    on_time = cap.estimate(demand_mod.workload(demand, plan, NEW_YORK, people), plan, people)["on_time"]
    good, total = on_time[(3, "acknowledge")]
    assert good / total > 0.99, good / total
    good, total = on_time[(1, "acknowledge")]
    assert good / total < 0.5  # the urgent work itself is still short of people


@pytest.mark.parametrize(("first", "second", "allowance"), [
    ((0.3, 5143.0), (0.025, 308.0), 1200.0), ((0.5, 600.0), (0.5, 600.0), 900.0), ((1.0, 100.0), (1.0, 300.0), 50.0),
    ((0.0, 0.0), (0.4, 200.0), 300.0), ((0.4, 200.0), (0.0, 0.0), 300.0), ((0.2, math.inf), (0.1, 60.0), 600.0)])
def test_two_waits_one_after_the_other(first, second, allowance) -> None:
    """The share whose two waits together fit the allowance, against a direct sum over a fine grid."""
    got = queueing.within_both(first, second, allowance)
    (w1, c1), (w2, c2) = first, second
    steps, total = 20000, 0.0
    if w1 and not math.isinf(c1):  # the first wait's density, times the chance the second fits what is left
        for i in range(steps):
            x = (i + 0.5) * allowance / steps
            total += w1 * math.exp(-x / c1) / c1 * queueing.within(w2, c2, allowance - x) * allowance / steps
    total += (1 - w1) * queueing.within(w2, c2, allowance)
    assert got == pytest.approx(total, abs=1e-4)


def test_ownership_is_not_zero_because_the_acknowledgements_mean_wait_is_long(matrix) -> None:
    """One frontline person 30% busy with hour-long acknowledgements waits 26 minutes on average, but 70% of
    tickets do not wait at all; the owner is 2.5% busy. With 20 minutes for the handoff the estimate took the
    26-minute mean off the allowance whole and showed ownership at 0%."""
    roster = roster_of(FLAT_ONE + '  specialist:\n    - {days: daily, hours: "00:00-24:00", people: 1}\n', matrix)
    plan = plan_of({"acknowledge": 4 * 60 * MIN, "assign_owner": 80 * MIN, "owner": "specialist",
                    "effort": {"acknowledge": 60 * MIN, "assign_owner": 5 * MIN}})
    people = {role: roster.week(role, datetime(2027, 1, 4).date()) for role in roster.roles}
    work = demand_mod.workload(steady(matrix, 0.3, weeks=26), plan, NEW_YORK, people)
    good, total = cap.estimate(work, plan, people)["on_time"][(1, "assign_owner")]
    assert 0.7 < good / total < 0.85, good / total


@pytest.mark.parametrize("seed", [1, 2])
def test_thin_hours_are_pooled_so_noise_does_not_pull_the_estimate_down(matrix, seed: int) -> None:
    """10 Erlangs on 13 people, start within 20 s at 180 s a task: .7956. From one week of 20 tickets an hour
    (each task ten times as long, so the same load), every hour's rate is measured from about 20 tickets, and
    Erlang C averaged over the noise read .62-.64; pooled with like neighbours it lands near the truth."""
    made = demand_mod.demand_from_rates(matrix, {1: 20.0}, start=datetime(2027, 1, 4, tzinfo=NEW_YORK), weeks=1,
                                        seed=seed)
    demand = demand_mod.Demand([(t, level, 0.0) for t, level, _ in made.arrivals], "rates")
    plan = plan_of({"acknowledge": 200.0, "assign_owner": 36000.0, "effort": {"acknowledge": 1800.0}})
    people = {"frontline": [13] * 168}
    good, total = cap.estimate(demand_mod.workload(demand, plan, NEW_YORK, people), plan, people)["on_time"][
        (1, "acknowledge")]
    assert abs(good / total - 0.7956) < 0.03, good / total


@pytest.mark.parametrize(("counts", "hour", "expected"), [
    ({9: 20.0, 10: 20.0, 11: 20.0, 8: 20.0}, 9, None),  # like neighbours: nothing to change
    ({9: 14.0, 10: 26.0, 8: 20.0, 11: 20.0, 7: 20.0, 12: 20.0, 6: 20.0}, 9, 140 / 7 / 14),  # noise: pooled
    ({9: 60.0, 10: 20.0, 8: 20.0, 11: 20.0, 7: 20.0, 12: 20.0, 6: 20.0}, 9, None),  # a real peak stands alone
    ({9: 500.0, 10: 100.0}, 9, None),  # counted well enough on its own
])
def test_which_hours_are_pooled(counts: dict, hour: int, expected: float | None) -> None:
    count = {("frontline", h): n for h, n in counts.items()}
    effort = {key: n * 600.0 for key, n in count.items()}
    factors = demand_mod.pooled(count, effort, [1.0] * 168)
    got = factors.get(("frontline", hour))
    assert got == (pytest.approx(expected) if expected is not None else None), factors


def test_a_what_ifs_cost_by_shift_is_replayed_before_it_is_reported() -> None:
    """The people a what-if costs, put in the roster's shifts, were reported without being replayed: a lead
    could not tell whether rostering them keeps the tighter target."""
    args = [*QUEUE, "--goal", "90%", "--what-if", "sev4.acknowledge=1h"]
    w = json.loads(capacity(*args, "--format", "json").stdout)["what_if"][0]
    assert w["cost_per_shift"] and isinstance(w["cost_per_shift_replay"]["meets_goal"], bool)
    replayed = {(r["severity"], r["target"]): r["share"] for r in w["cost_per_shift_replay"]["targets"]}
    assert 0 <= replayed[("sev4", "acknowledge")] <= 1
    text = " ".join(capacity(*args, env={"COLUMNS": "200"}).stdout.split())
    assert "by shift: frontline mon-fri 08:00-18:00 (4 now): +" in text
    assert "What if sev4.acknowledge=1h" in text and text.count("replayed as these shifts") >= 2


@pytest.mark.parametrize("order", [("68m", "55m"), ("55m", "68m")])
def test_of_two_what_ifs_on_one_target_the_tighter_never_costs_less(order: tuple[str, str]) -> None:
    """Found by the property below: sev3 acknowledged within 55 minutes was priced at 20 people-hours a week and
    within 68 minutes at 21, each only floored on what today's targets need."""
    args = [*QUEUE[:-4], "--weeks", "1", "--start", "2027-01-06", "--seed", "31", "--goal", "90%", "--format", "json"]
    data = json.loads(capacity(*args, *(x for m in order for x in ("--what-if", f"sev3.acknowledge={m}"))).stdout)
    cost = {w["change"]: w["people_hours_per_week"] for w in data["what_if"]}
    assert [w["change"] for w in data["what_if"]] == [f"sev3.acknowledge={m}" for m in order]  # as given
    assert cost["sev3.acknowledge=55m"] >= cost["sev3.acknowledge=68m"] > 0


def scaled_run(tmp_path_factory, scale: int, goal: str, seed: int, severity: str, target: str
               ) -> tuple[list[str], float]:
    """The capacity command's arguments on the shipped roster with `scale` times its people, and the minutes
    of the target a what-if will change, as today's run reports them."""
    roster = tmp_path_factory.mktemp("roster") / "roster.yaml"
    roster.write_text(re.sub(r"people: (\d+)", lambda m: f"people: {int(m.group(1)) * scale}",
                             ROSTER_PATH.read_text()))
    args = ["capacity", "--matrix", str(MATRIX_PATH), "--roster", str(roster), *QUEUE[:-4], "--weeks", "1",
            "--start", "2027-01-06", "--seed", str(seed), "--goal", goal, "--format", "json"]
    today = json.loads(runner.invoke(app, args).stdout)
    step = {"update_every": "update"}.get(target, target)
    return args, next(r["minutes"] for r in today["targets"] if (r["severity"], r["target"]) == (severity, step))


@pytest.mark.slow
@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000))
def test_the_replay_lands_on_erlang_c_at_ten_erlangs_over_two_years(matrix, seed: int) -> None:
    """10 Erlangs on 13 people, each task exponential around its mean: Erlang C's .7956 within 20 s (here in
    tenfold units: 200 s at 1800 s a task, 20 tickets an hour), and the replay of two years of generated
    arrivals with efforts drawn at random lands within 0.03 of it."""
    roster = roster_of(FLAT_ONE.replace("people: 1", "people: 13"), matrix)
    made = demand_mod.demand_from_rates(matrix, {1: 20.0}, start=datetime(2027, 1, 4, tzinfo=NEW_YORK), weeks=104,
                                        seed=seed)
    demand = demand_mod.Demand([(t, level, 0.0) for t, level, _ in made.arrivals], "rates")
    plan = plan_of({"acknowledge": 200.0, "assign_owner": 36000.0, "effort": {"acknowledge": 1800.0}})
    good, total = replay_mod.replay(demand, plan, roster, NEW_YORK, vary=seed).met[(1, "acknowledge")]
    assert round(queueing.service_level(13, 10.0, 1800.0, 200.0), 4) == 0.7956
    assert abs(good / total - 0.7956) < 0.03, good / total


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.sampled_from(["80%", "90%"]), st.sampled_from(["sev2", "sev3", "sev4"]),
       st.sampled_from(["acknowledge", "assign_owner", "update_every"]), st.floats(0.2, 0.9), st.floats(0.2, 0.9),
       st.integers(0, 1000))
def test_the_tighter_of_two_what_ifs_never_costs_less(tmp_path_factory, scale: int, goal: str, severity: str,
                                                      target: str, first: float, second: float, seed: int) -> None:
    """Two what-ifs that tighten the same target, priced in one run: the tighter one needs at least as many
    people-hours a week as the looser one."""
    args, today_minutes = scaled_run(tmp_path_factory, scale, goal, seed, severity, target)
    minutes = sorted({max(1, int(today_minutes * f)) for f in (first, second)})
    if len(minutes) < 2:
        return
    tighter, looser = minutes
    result = runner.invoke(app, [*args, "--what-if", f"{severity}.{target}={looser}m",
                                 "--what-if", f"{severity}.{target}={tighter}m"])
    loose, tight = json.loads(result.stdout)["what_if"]
    if loose["out_of_reach"] or tight["out_of_reach"]:
        assert tight["out_of_reach"] or not loose["out_of_reach"]  # reach is lost by tightening, never won
        return
    assert tight["people_hours_per_week"] >= loose["people_hours_per_week"], (loose["change"], tight["change"])


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.sampled_from(["80%", "90%"]), st.sampled_from(["sev2", "sev3", "sev4"]),
       st.sampled_from(["acknowledge", "assign_owner", "update_every"]), st.floats(0.1, 0.9),
       st.integers(0, 1000))
def test_tighter_targets_never_cost_fewer_people_property(tmp_path_factory, scale: int, goal: str, severity: str,
                                                           target: str, fraction: float, seed: int) -> None:
    args, today_minutes = scaled_run(tmp_path_factory, scale, goal, seed, severity, target)
    minutes = max(1, int(today_minutes * fraction))
    result = runner.invoke(app, [*args, "--what-if", f"{severity}.{target}={minutes}m"])
    w = json.loads(result.stdout)["what_if"][0]
    assert w["people_hours_per_week"] >= 0 and w["saving"] == [], w["change"]


@pytest.mark.parametrize(("seconds", "expected"), [(20, 0.7956), (7 * 60, None)])
def test_targets_in_seconds_are_measured_exactly(seconds: int, expected: float | None) -> None:
    """10 Erlangs on 13 people at 180 s a task: .7956 start within 20 s (the textbook figure). Targets were
    floored to five-minute steps, so 20 s counted as 0 s (.7147, the share that never waits) and 7 min as 5."""
    start = at("00:00")
    demand = demand_mod.Demand([(start + 18.0 * i, 1, 0.0) for i in range(200 * 24 * 14)], "history")  # 200 an hour
    plan = plan_of({"acknowledge": float(seconds), "assign_owner": 3600.0, "effort": {"acknowledge": 180.0}})
    people = {"frontline": [13] * 168}
    work = demand_mod.workload(demand, plan, NEW_YORK, people)
    good, total = cap.estimate(work, plan, people)["on_time"][(1, "acknowledge")]
    wanted = queueing.service_level(13, 10.0, 180.0, float(seconds))
    assert good / total == pytest.approx(wanted, abs=1e-6)
    if expected is not None:
        assert round(wanted, 4) == expected
    data = json.loads(capacity("--rate", "sev1=4/h", "--weeks", "1", "--start", "2027-01-06", "--what-if",
                               f"sev1.acknowledge={seconds}s", "--format", "json").stdout)
    assert data["what_if"][0]["change"] == ("sev1.acknowledge=20s" if seconds == 20 else "sev1.acknowledge=7m")


def test_advice_by_shift_is_replayed_as_shifts_that_are_off_on_holidays(matrix) -> None:
    """On a public holiday a weekday shift is off: advice to add people to it does not cover that day. Advice
    by shift is replayed as those shifts, and the report says what it reaches (it used to report only the
    advice by hours, replayed as one-hour shifts that work on holidays)."""
    roster = roster_of(
        'roster_version: 1\nname: weekdays\ntimezone: America/New_York\nholidays: business_hours\nroles:\n'
        '  frontline:\n    - {days: mon-fri, hours: "09:00-17:00", people: 1}\n', matrix)
    holiday = "2027-01-18"  # Martin Luther King Jr. Day, a holiday of the business_hours calendar
    demand = demand_mod.Demand([(at(f"{10 + i // 6}:{i % 6 * 10:02d}", holiday), 1, 0.0) for i in range(12)],
                               "history")
    plan = plan_of({"acknowledge": 30 * MIN, "assign_owner": 60 * MIN, "effort": {"acknowledge": 5 * MIN}})
    monday = datetime(2027, 1, 18).date()
    delta = {"frontline": [1 if how in (10, 11) else 0 for how in range(168)]}
    by_hours = replay_mod.replay(demand, plan, roster.with_extra(delta, monday), NEW_YORK)
    assert by_hours.met[(1, "acknowledge")] == [12, 12]  # one-hour additions work on the holiday
    assert cap.per_shift(roster, delta, monday) == [
        {"role": "frontline", "shift": "mon-fri 09:00-17:00", "note": "", "people": 1, "add": 1}]
    replayed = cap.shift_replay(demand, plan, roster, NEW_YORK, 0.8, delta, monday, None)
    assert not replayed["meets_goal"]
    assert {r["target"]: r["share"] for r in replayed["targets"]}["acknowledge"] == 0.0
    lines = render_capacity.shift_lines(cap.per_shift(roster, delta, monday), replayed, 0.8)
    assert lines[-1] == ("replayed as these shifts (off on their holidays), still short: sev1 acknowledge 0%; "
                         "sev1 ownership 0%")


@pytest.mark.parametrize(("queueing", "replayed", "tasks", "believe"), [
    (0.62, 0.80, 5000, "replay"), (0.80, 0.62, 5000, "replay"), (0.62, 0.80, 150, "neither"),
    (0.75, 0.80, 150, None), (0.70, 0.80, 5000, None), (None, 0.8, 5000, None), (0.8, None, 5000, None)])
def test_which_model_to_believe_when_they_differ(queueing, replayed, tasks, believe) -> None:
    assert cap._believe(queueing, replayed, tasks) == believe


def test_the_report_says_which_model_to_believe_when_they_differ() -> None:
    args = ["--rate", "sev2=0.3/h", "--weeks", "1", "--start", "2027-01-13"]
    data = json.loads(capacity(*args, "--format", "json").stdout)
    row = next(r for r in data["targets"] if (r["severity"], r["target"]) == ("sev2", "assign_owner"))
    assert abs(row["queueing"] - row["replay"]) > 0.10 and row["tasks"] < 200 and row["believe"] == "neither"
    text = " ".join(capacity(*args, env={"COLUMNS": "200"}).stdout.split())
    assert "Estimate and replay differ by more than 10 points on sev2 ownership" in text
    assert "too few tasks for either figure to be firm" in text
