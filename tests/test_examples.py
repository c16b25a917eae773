"""The example matrices under examples/: each validates clean, and its due times match ones worked out by hand."""

from __future__ import annotations

import json
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
