"""The example matrices under examples/: each validates clean, and its due times match ones worked out by hand."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from triage.cli.app import app

EXAMPLES = Path(__file__).parent.parent / "examples"
CONTRACT = json.loads((Path(__file__).parent / "contract" / "triage-result.schema.json").read_text())
FIRST_RESPONSE = EXAMPLES / "first-response-24x5.yaml"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_validates_clean(path):
    result = invoke("validate", str(path), "--strict")
    assert result.exit_code == 0, result.output


def ask(path: Path, at: str, *answers: str) -> dict:
    args = [x for a in answers for x in ("-a", a)]
    result = invoke("ask", "--matrix", str(path), "--no-input", "--format", "json", "--at", at, *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, CONTRACT)
    return data


# Worked out by hand on the 24x5 week (Sunday 17:00 to Friday 17:00, New York) with Christmas Day closed.
@pytest.mark.parametrize(("at", "answers", "level", "due"), [
    # Urgent runs around the clock: Friday 15:30 plus 1 h.
    ("2026-12-18T15:30:00-05:00", ("production=yes", "effect=down"), "Urgent", "2026-12-18T16:30:00-05:00"),
    # High, 4 open hours: 1.5 h left on Friday, then 2.5 h from Sunday 17:00.
    ("2026-12-18T15:30:00-05:00", ("production=yes", "effect=degraded"), "High", "2026-12-20T19:30:00-05:00"),
    # Normal, 12 open hours: 1.5 h on Friday, 7 h on Sunday evening, 3.5 h into Monday.
    ("2026-12-18T15:30:00-05:00", ("production=no", "effect=degraded"), "Normal", "2026-12-21T03:30:00-05:00"),
    # Low, 24 open hours: 1.5 h on Friday, 7 h on Sunday, 15.5 h on Monday.
    ("2026-12-18T15:30:00-05:00", ("production=no", "effect=question"), "Low", "2026-12-21T15:30:00-05:00"),
    # High on Christmas Eve at 22:00: 2 h that Thursday, Christmas Day (a Friday) closed, the weekend closed
    # until Sunday 17:00, then 2 h more.
    ("2026-12-24T22:00:00-05:00", ("production=no", "effect=down"), "High", "2026-12-27T19:00:00-05:00"),
])
def test_first_response_due_times_worked_out_by_hand(at, answers, level, due):
    data = ask(FIRST_RESPONSE, at, *answers)
    assert data["severity"]["name"] == level
    assert data["targets"]["acknowledge"]["due"] == due


def test_a_level_promises_only_what_it_says():
    data = ask(FIRST_RESPONSE, "2026-12-18T15:30:00-05:00", "production=yes", "effect=degraded")
    for name in ("assign_owner", "escalate", "next_update", "resolution"):
        assert data["targets"][name] == {"within": None, "due": None, "promised": False}, name
    urgent = ask(FIRST_RESPONSE, "2026-12-18T15:30:00-05:00", "production=yes", "effect=down")
    assert urgent["targets"]["next_update"] == {"within": "PT2H", "due": "2026-12-18T17:30:00-05:00"}
    assert "Next update: when there is news." in data["update"]["customer"]
    shown = invoke("ask", "--matrix", str(FIRST_RESPONSE), "--no-input", "--at", "2026-12-18T15:30:00-05:00",
                   "-a", "production=yes", "-a", "effect=degraded").stdout
    assert "Acknowledge the customer" in shown
    for absent in ("Assign an owner", "Escalate if not solved", "Next update  ", "Resolution"):
        assert absent not in shown, absent
    published = invoke("show", "--matrix", str(FIRST_RESPONSE), "--format", "markdown").stdout
    assert "| High | 24x5 (Sunday 17:00 to Friday 17:00) (open hours count) | 4 h | - | - | - | - |" in published
    assert "| Urgent | Around the clock | 1 h | - | - | every 2 h | - |" in published


def test_a_ticket_without_an_update_cadence_owes_no_update():
    M = ("--matrix", str(FIRST_RESPONSE))
    at = "2026-12-18T15:30:00-05:00"
    assert invoke("ask", *M, "--no-input", "--at", at, "--ticket", "C-1", "-a", "production=yes",
                  "-a", "effect=degraded").exit_code == 0
    queue = json.loads(invoke("queue", *M, "--at", "2026-12-18T16:00:00-05:00", "--format", "json").stdout)
    assert [(t["ticket"], t["promise"]) for t in queue["tickets"]] == [("C-1", "acknowledge")]
    updated = invoke("update", *M, "C-1", "--no-input", "--impact", "Slow pages", "--actions", "Checked the logs",
                     "--next-step", "A fix", "--at", "2026-12-18T16:00:00-05:00", "--format", "json")
    assert updated.exit_code == 0, updated.output
    data = json.loads(updated.stdout)
    assert data["next_due"] is None and data["due"] is None and data["late"] is None
    queue = json.loads(invoke("queue", *M, "--at", "2026-12-18T16:10:00-05:00", "--format", "json").stdout)
    assert queue["tickets"] == []  # acknowledged by the update; nothing else is promised
    history = invoke("history", *M, "C-1").stdout
    assert "no further update owed" in history
    assert invoke("close", *M, "C-1", "--no-input", "--item", "confirmed_resolved=yes",
                  "--at", "2026-12-18T17:00:00-05:00").exit_code == 0
    reopened = invoke("reopen", *M, "C-1", "--reason", "It came back", "--at", "2026-12-18T18:00:00-05:00")
    assert reopened.exit_code == 0 and "No update cadence is promised." in reopened.stdout


def test_the_audit_measures_only_what_a_level_promises(tmp_path):
    export = tmp_path / "cases.csv"
    export.write_text("ticket,severity,created_at,acknowledged_at,assigned_at,resolved_at,updates\n"
                      "A,1,2026-12-18T15:30:00-05:00,2026-12-18T16:00:00-05:00,,2026-12-18T20:00:00-05:00,"
                      "2026-12-18T18:30:00-05:00\n"
                      "B,2,2026-12-18T15:30:00-05:00,2026-12-20T20:00:00-05:00,,,2026-12-21T09:00:00-05:00\n")
    result = invoke("audit", str(export), "--matrix", str(FIRST_RESPONSE), "--as-of", "2026-12-30T00:00:00Z",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    measured = {(level, name) for level, sev in data["severities"].items()
                for name, t in sev["targets"].items() if t["measured"]}
    assert measured == {("1", "acknowledge"), ("1", "update"), ("2", "acknowledge")}
    # High's 4 open hours from Friday 15:30 end on Sunday 19:30: acknowledged at 20:00, 30 minutes late
    late = {(b["ticket"], b["target"]): b["late_minutes"] for b in data["breaches"]}
    assert late == {("A", "update"): 60, ("B", "acknowledge"): 30}


PLANS = EXAMPLES / "plan-tiered-first-response.yaml"


# Worked out by hand: Berlin business hours are Mon-Fri 08:00-18:00, Christmas Eve 08:00-12:00, Christmas Day
# closed; Premium answers P1 around the clock.
@pytest.mark.parametrize(("at", "plan", "impact", "due"), [
    # Standard P1, 30 open minutes from Friday 17:30: the last half hour of Friday.
    ("2026-12-18T17:30:00+01:00", "standard", "all", "2026-12-18T18:00:00+01:00"),
    # Standard P1 at 17:45: 15 minutes on Friday, 15 more from Monday 08:00.
    ("2026-12-18T17:45:00+01:00", "standard", "all", "2026-12-21T08:15:00+01:00"),
    # Premium P1 at 17:45: 15 minutes of the clock.
    ("2026-12-18T17:45:00+01:00", "premium", "all", "2026-12-18T18:00:00+01:00"),
    # Premium P1 on Christmas Day, when the office is closed: still 15 minutes.
    ("2026-12-25T03:00:00+01:00", "premium", "all", "2026-12-25T03:15:00+01:00"),
    # Premium P2, 1 open hour from Friday 17:30: 30 minutes on Friday, 30 from Monday 08:00.
    ("2026-12-18T17:30:00+01:00", "premium", "major", "2026-12-21T08:30:00+01:00"),
    # Standard P2, 4 open hours from Christmas Eve 10:00: 2 h until noon, Christmas Day and the weekend
    # closed, 2 h from Monday 08:00.
    ("2026-12-24T10:00:00+01:00", "standard", "major", "2026-12-28T10:00:00+01:00"),
    # Premium P4, 8 open hours from Thursday 31 December 11:00: 1 h until noon (New Year's Eve), New Year's
    # Day and the weekend closed, 7 h from Monday 08:00.
    ("2026-12-31T11:00:00+01:00", "premium", "question", "2027-01-04T15:00:00+01:00"),
    # Standard P4, by the end of the next business day: from Thursday 10:00, Friday's close.
    ("2026-12-17T10:00:00+01:00", "standard", "question", "2026-12-18T18:00:00+01:00"),
    # Friday 19:00 is after the close: the ticket arrives on Monday, and the next business day is Tuesday.
    ("2026-12-18T19:00:00+01:00", "standard", "question", "2026-12-22T18:00:00+01:00"),
    # Wednesday 23rd: the next business day is Christmas Eve, which closes at noon.
    ("2026-12-23T11:00:00+01:00", "standard", "question", "2026-12-24T12:00:00+01:00"),
    # Christmas Day is closed: the ticket arrives on Monday 28th, due at Tuesday's close.
    ("2026-12-25T03:00:00+01:00", "standard", "question", "2026-12-29T18:00:00+01:00"),
])
def test_plan_due_times_worked_out_by_hand(at, plan, impact, due):
    data = ask(PLANS, at, f"support_plan={plan}", f"impact={impact}")
    assert data["plan"]["id"] == plan
    assert data["targets"]["acknowledge"]["due"] == due


def test_the_plan_is_given_once_and_never_silently():
    at = ("--at", "2026-12-18T17:45:00+01:00")
    base = ("ask", "--matrix", str(PLANS), "--no-input", "--no-record", "--format", "json", *at, "-a", "impact=all")
    by_flag = json.loads(invoke(*base, "--plan", "premium").stdout)
    assert by_flag["plan"] == {"id": "premium", "name": "Premium"} and by_flag["answers"]["support_plan"] == "premium"
    assert by_flag["targets"]["acknowledge"]["due"] == "2026-12-18T18:00:00+01:00"
    clash = invoke(*base, "--plan", "premium", "-a", "support_plan=standard")
    assert clash.exit_code == 2 and "--plan premium contradicts --answer support_plan=standard" in clash.stderr
    unknown = invoke(*base, "--plan", "gold")
    assert unknown.exit_code != 0 and "gold" in unknown.stderr and "premium" in unknown.stderr
    assumed = json.loads(invoke(*base).stdout)
    assert assumed["plan"]["id"] == "standard" and assumed["assumed"] == ["support_plan"]
    assert any("taken as Standard" in note for note in assumed["notes"])
    plain = invoke("ask", "--no-input", "--no-record", *at, "-a", "confirmed=yes", "--plan", "premium")
    assert plain.exit_code != 0 and "this matrix has no plans" in plain.stderr


def test_a_ticket_keeps_its_plan_through_its_life():
    M = ("--matrix", str(PLANS))
    assert invoke("ask", *M, "--no-input", "--at", "2026-12-18T17:45:00+01:00", "--ticket", "P-1",
                  "-a", "support_plan=premium", "-a", "impact=all").exit_code == 0
    updated = json.loads(invoke("update", *M, "P-1", "--no-input", "--impact", "Down", "--actions", "Restarted",
                                "--next-step", "Watch", "--at", "2026-12-18T19:00:00+01:00", "--format", "json").stdout)
    assert updated["due"] == "2026-12-18T18:45:00+01:00" and updated["late"] == "15 min"  # hourly, on the clock
    assert updated["next_due"] == "2026-12-18T20:00:00+01:00"
    moved = json.loads(invoke("retriage", *M, "P-1", "--no-input", "-a", "impact=major", "--reason", "Partly back",
                              "--at", "2026-12-18T19:30:00+01:00", "--format", "json").stdout)
    assert moved["plan"]["id"] == "premium" and moved["targets"]["acknowledge"]["within"] == "PT1H"


def test_classify_reads_the_plan_from_the_answers_or_a_plan_field(tmp_path):
    records = tmp_path / "in.jsonl"
    records.write_text('{"ticket": "a", "impact": "all", "support_plan": "premium"}\n'
                       '{"ticket": "b", "impact": "all", "plan": "premium"}\n'
                       '{"ticket": "c", "impact": "all"}\n'
                       '{"ticket": "d", "impact": "all", "plan": "premium", "support_plan": "standard"}\n')
    result = invoke("classify", str(records), "--matrix", str(PLANS), "--at", "2026-12-18T17:45:00+01:00")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["ticket"], (x.get("plan") or {}).get("id")) for x in lines if "error" not in x] == [
        ("a", "premium"), ("b", "premium"), ("c", "standard")]
    assert len(lines) == 3 and result.exit_code == 1
    assert "in.jsonl:4: `plan` premium contradicts the answer support_plan=standard" in result.stderr


def test_the_audit_measures_each_ticket_against_its_plan(tmp_path):
    export = tmp_path / "tickets.csv"
    # P1 tickets created Friday 17:45. Premium's, acknowledged at 18:10, took 25 minutes of the clock against
    # its 15; Standard's (and the one whose plan the export leaves empty), acknowledged on Monday at 08:10,
    # took 15 open minutes on Friday and 10 on Monday: 25 against its 30.
    export.write_text("ticket,severity,created_at,acknowledged_at,support_plan\n"
                      "A,1,2026-12-18T17:45:00+01:00,2026-12-18T18:10:00+01:00,premium\n"
                      "B,1,2026-12-18T17:45:00+01:00,2026-12-21T08:10:00+01:00,standard\n"
                      "C,1,2026-12-18T17:45:00+01:00,2026-12-21T08:10:00+01:00,\n")
    result = invoke("audit", str(export), "--matrix", str(PLANS), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(b["ticket"], b["late_minutes"]) for b in data["breaches"]] == [("A", 10)]
    assert data["severities"]["1"]["targets"]["acknowledge"]["met"] == 2
    assert data["plans"]["chosen_by"] == "support_plan"
    shown = invoke("audit", str(export), "--matrix", str(PLANS)).stdout
    assert "each ticket is measured against its plan's" in " ".join(shown.split())


def test_the_end_of_the_next_business_day_is_a_due_time_per_ticket(tmp_path):
    """`end of next business day` leaves each ticket the open time until a close (18 h from Thursday 10:00, 11 h
    from Wednesday 11:00 before Christmas Eve's noon close), where `1bd` or `20h` would leave every ticket the
    same; text and JSON give the close and the open time it leaves."""
    data = ask(PLANS, "2026-12-23T11:00:00+01:00", "support_plan=standard", "impact=question")
    assert data["targets"]["acknowledge"] == {"within": "PT11H", "due": "2026-12-24T12:00:00+01:00"}
    shown = invoke("ask", "--matrix", str(PLANS), "--no-input", "--no-record", "--at", "2026-12-17T10:00:00+01:00",
                   "-a", "support_plan=standard", "-a", "impact=question", "--format", "markdown").stdout
    assert "end of next business day (18 h)" in shown
    published = invoke("show", "--matrix", str(PLANS), "--format", "markdown").stdout
    assert "| end of next business day |" in published
    twenty = tmp_path / "twenty.yaml"  # as many open hours as the close can leave, but the same for every ticket
    twenty.write_text(PLANS.read_text().replace("acknowledge: end of next business day}", "acknowledge: 20h}"))
    assert "acknowledge target changed from 20 h to end of next business day" in invoke("diff", str(twenty),
                                                                                       str(PLANS)).stdout
    # an audit measures each ticket against its own close
    export = tmp_path / "p4.csv"
    export.write_text("ticket,severity,created_at,acknowledged_at,resolved_at\n"
                      "A,4,2026-12-17T10:00:00+01:00,2026-12-18T17:30:00+01:00,2026-12-19T10:00:00+01:00\n"
                      "B,4,2026-12-18T19:00:00+01:00,2026-12-23T09:00:00+01:00,\n"
                      "C,4,2026-12-23T11:00:00+01:00,,\n"
                      "D,4,2026-12-23T11:00:00+01:00,2026-12-24T11:00:00+01:00,\n")
    audit = json.loads(invoke("audit", str(export), "--matrix", str(PLANS), "--as-of", "2026-12-30T00:00:00Z",
                              "--format", "json").stdout)
    # B was due at Tuesday's close and answered at Wednesday 09:00, one open hour late; C, due at Christmas
    # Eve's noon close, was never answered: Monday and Tuesday's 20 open hours late by the as-of time
    assert [(b["ticket"], b["due"], b["late_minutes"]) for b in audit["breaches"]] == [
        ("B", "2026-12-22T18:00:00+01:00", 60), ("C", "2026-12-24T12:00:00+01:00", 1200)]
    assert audit["severities"]["4"]["targets"]["acknowledge"]["met"] == 2


def test_capacity_replays_the_end_of_the_next_business_day_per_ticket(tmp_path):
    """From Thursday 09:00 the next business day closes on Friday at 18:00; a desk that first works on Monday
    at 08:30 is late, though it is within 20 open hours (the most the target can leave)."""
    from triage.capacity import demand as demand_mod
    from triage.capacity import replay as replay_mod
    from triage.capacity.roster import read_roster
    from triage.matrix.loader import read_matrix

    matrix = read_matrix(PLANS.read_bytes(), str(PLANS))
    roster = read_roster(b'roster_version: 1\nname: Monday mornings\ntimezone: Europe/Berlin\nroles:\n'
                         b'  help_desk:\n    - {days: mon, hours: "08:30-09:30", people: 1}\n', "r.yaml", matrix)
    plan = {4: demand_mod.plans(matrix, roster)[4]}
    assert plan[4].by_day == {"acknowledge": 1} and plan[4].acknowledge == 20 * 3600
    thursday = datetime.fromisoformat("2026-11-05T09:00:00+01:00").timestamp()
    assert plan[4].allowance("acknowledge", thursday) == 19 * 3600
    result = replay_mod.replay(demand_mod.Demand([(thursday, 4, 0.0)], "history"), plan, roster,
                               roster.zone)
    assert result.met[(4, "acknowledge")] == [0, 1]
    sunday = thursday + 3 * 86400  # a closed day: the ticket arrives on Monday, due at Tuesday's close
    in_time = replay_mod.replay(demand_mod.Demand([(sunday, 4, 0.0)], "history"), plan, roster, roster.zone)
    assert in_time.met[(4, "acknowledge")] == [1, 1]


def test_a_cadence_cannot_be_the_end_of_a_business_day(tmp_path):
    bad = tmp_path / "cadence.yaml"
    bad.write_text(PLANS.read_text().replace("update_every: [{every: 1h}]", "update_every: [{every: eod}]"))
    result = invoke("validate", str(bad))
    assert result.exit_code == 1
    assert "cadence.yaml:104:" in result.stdout and "`end of business day` is a due time, not an interval" in result.stdout


def test_capacity_says_it_models_the_default_plan(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text("roster_version: 1\nname: Plans desk\ntimezone: Europe/Berlin\nholidays: office\n"
                      "effort:\n  default: {acknowledge: 10m, assign_owner: 15m, update: 10m}\nroles:\n"
                      "  help_desk:\n    - {days: mon-fri, hours: \"08:00-18:00\", people: 2}\n"
                      "  product_experts:\n    - {days: daily, hours: \"00:00-24:00\", people: 1, holidays: none}\n"
                      "  support_lead:\n    - {days: daily, hours: \"00:00-24:00\", people: 1, holidays: none}\n")
    result = invoke("capacity", "--matrix", str(PLANS), "--roster", str(roster), "--rate", "p1=0.1/h",
                    "--rate", "p4=1/h", "--weeks", "2", "--start", "2026-11-02T00:00:00+01:00", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any("capacity models every ticket on the Standard plan's" in w for w in data["demand"]["warnings"])
    rows = {(r["severity"], r["target"]): r["minutes"] for r in data["targets"]}
    assert rows[("p1", "acknowledge")] == 30  # the Standard plan's target, on business hours
    assert ("p1", "update") not in rows  # Standard promises P1 no updates


GRID = EXAMPLES / "impact-urgency-grid.yaml"


# Worked out by hand on the desk's hours (Mon-Fri 07:00-19:00, Sat 09:00-13:00, Sydney summer time +11:00),
# Christmas Eve 07:00-12:00, Christmas Day and Monday 28 December (Boxing Day observed) closed.
@pytest.mark.parametrize(("at", "impact", "urgency", "level", "due"), [
    # P1 runs around the clock: Saturday night 22:00 plus 15 minutes.
    ("2026-12-19T22:00:00+11:00", "high", "high", "P1", "2026-12-19T22:15:00+11:00"),
    # P2, 30 open minutes from Friday 18:45: 15 on Friday, 15 from Saturday 09:00.
    ("2026-12-18T18:45:00+11:00", "low", "high", "P2", "2026-12-19T09:15:00+11:00"),
    # P3, 2 open hours from Saturday 12:00: 1 h on Saturday, Sunday closed, 1 h from Monday 07:00.
    ("2026-12-19T12:00:00+11:00", "medium", "medium", "P3", "2026-12-21T08:00:00+11:00"),
    # The grid's deliberate dip: organisation-wide but able to wait is P4, 4 open hours from Christmas Eve 10:00:
    # 2 h until noon, Christmas Day closed, 2 h from Saturday 09:00.
    ("2026-12-24T10:00:00+11:00", "high", "low", "P4", "2026-12-26T11:00:00+11:00"),
    # P3 from Saturday 26 December 12:00: 1 h that Saturday, Sunday and Monday (Boxing Day observed) closed,
    # 1 h from Tuesday 07:00.
    ("2026-12-26T12:00:00+11:00", "medium", "medium", "P3", "2026-12-29T08:00:00+11:00"),
])
def test_grid_due_times_worked_out_by_hand(at, impact, urgency, level, due):
    data = ask(GRID, at, f"impact={impact}", f"urgency={urgency}")
    assert data["severity"]["name"] == level
    assert data["targets"]["acknowledge"]["due"] == due


def test_the_grids_dip_is_published_with_its_reason():
    published = invoke("show", "--matrix", str(GRID), "--format", "markdown").stdout
    assert "A deliberate dip: Organisation-wide requests that can wait go to the change board" in published
