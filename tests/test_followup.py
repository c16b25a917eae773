"""After the first triage: history, updates on a cadence, handoffs, re-triage, closure, exceptions."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.engine.history import MIGRATIONS, SCHEMA_VERSION, History
from triage.errors import InputError

from .conftest import MATRIX_PATH, shipped_text

runner = CliRunner()
OUTAGE = ["-a", "confirmed=yes", "-a", "scope=many_accounts", "-a", "impact=workflow_blocked", "-a", "workaround=limited",
          "-a", "security=no", "-a", "deadline=no"]


def cli(*args: str, matrix: Path = MATRIX_PATH):
    extra = [] if args[0] == "history" else ["--matrix", str(matrix)]  # history reads no matrix
    return runner.invoke(app, [*args, *extra])


def ok(*args: str, matrix: Path = MATRIX_PATH):
    result = cli(*args, matrix=matrix)
    assert result.exit_code == 0, result.output
    return result


def update(ticket: str, at: str):
    return json.loads(
        ok(
            "update",
            ticket,
            "--at",
            at,
            "--impact",
            "Exports fail",
            "--actions",
            "Restarted workers",
            "--next-step",
            "Watch the queue",
            "--format",
            "json",
        ).stdout
    )


def test_a_ticket_from_triage_to_closure():
    ok("ask", "--no-input", "--ticket", "INC-7", "--at", "2026-11-27T10:00:00Z", *OUTAGE, "--packet", "logs=req-1")
    first = update("INC-7", "2026-11-27T10:45:00Z")  # severity 2: the first update is due within 1 h
    assert first["late_minutes"] is None and first["next_due"] == "2026-11-27T06:45:00-05:00"
    second = update("INC-7", "2026-11-27T12:10:00Z")  # due 11:45: 25 min late
    assert second["late_minutes"] == 25 and second["due"] == "2026-11-27T06:45:00-05:00"
    third = update("INC-7", "2026-11-27T13:05:00Z")
    assert third["late_minutes"] is None
    late = cli("update", "INC-7", "--at", "2026-11-27T15:00:00Z", "--impact", "a", "--actions", "b", "--next-step", "c")
    assert "The update due Fri 27 Nov 2026 09:05 EST is late by 55 min" in late.stdout  # written 10:00 EST
    handed = json.loads(ok("handoff", "INC-7", "--to", "engineering_oncall", "--packet", "reproduction_steps=Export any report",
                           "--at", "2026-11-27T15:10:00Z", "--format", "json").stdout)
    assert handed["point"] == "owner_to_specialist"
    assert handed["fields"]["logs"] == "req-1" and handed["fields"]["reproduction_steps"] == "Export any report"
    assert "recent_changes" in handed["missing"] and "logs" not in handed["missing"]
    re = json.loads(ok("retriage", "INC-7", "--reason", "Every customer is affected now", "-a", "scope=system_wide",
                       "-a", "workaround=none", "--at", "2026-11-27T16:00:00Z", "--format", "json").stdout)
    assert re["severity"]["level"] == 1
    # severity 1's targets run from the creation (05:00 EST); promises kept stay kept, the next update runs from the last
    assert re["targets"]["acknowledge"] == {"within": "PT15M", "due": "2026-11-27T05:15:00-05:00",
                                            "met": "2026-11-27T05:45:00-05:00"}
    assert re["targets"]["escalate"]["met"] == "2026-11-27T10:10:00-05:00" and "met" not in re["targets"]["resolution"]
    assert re["targets"]["next_update"] == {"within": "PT1H", "due": "2026-11-27T11:00:00-05:00"}
    closed = json.loads(ok("close", "INC-7", "--item", "resolution_note=Exports run again", "--item",
                           "impact_ended=yes", "--item", "final_message=yes",
                           "--item", "knowledge_article=KB-41", "--item", "trend_tags=exports, workers",
                           "--at", "2026-11-27T18:00:00Z", "--format", "json").stdout)
    assert closed["message"].startswith("Ticket INC-7 is resolved: Exports run again. If anything still looks wrong")
    story = json.loads(ok("history", "INC-7", "--format", "json").stdout)
    assert [(e["kind"], e["at"]) for e in story["events"]] == [
        ("triage", "2026-11-27T10:00:00+00:00"), ("update", "2026-11-27T10:45:00+00:00"),
        ("update", "2026-11-27T12:10:00+00:00"), ("update", "2026-11-27T13:05:00+00:00"),
        ("update", "2026-11-27T15:00:00+00:00"), ("handoff", "2026-11-27T15:10:00+00:00"),
        ("retriage", "2026-11-27T16:00:00+00:00"), ("close", "2026-11-27T18:00:00+00:00")]
    retriaged = story["events"][6]["data"]
    assert retriaged["previous"]["severity"]["level"] == 2 and retriaged["severity"]["level"] == 1  # both kept
    assert story["closed"] is True
    after = cli("update", "INC-7", "--impact", "a", "--actions", "b", "--next-step", "c")
    assert after.exit_code == 1 and "was closed" in after.stderr


def test_update_as_markdown():
    ok("ask", "--no-input", "--ticket", "MD-1", "--at", "2026-11-27T10:00:00Z", *OUTAGE)
    out = ok("update", "MD-1", "--at", "2026-11-27T10:30:00Z", "--impact", "Exports *fail*", "--actions", "b",
             "--next-step", "c", "--format", "markdown").stdout
    assert out.startswith("# Update for MD-1\n\nThe update due ")
    assert "## For the customer\n\n> Summary: " in out and "> Current impact: Exports \\*fail\\*  " in out
    assert "## Internal\n\n> \\[MD-1\\] Severity 2 (High)  " in out


def test_the_cadence_changes_over_the_life_of_a_ticket():
    ok("ask", "--no-input", "--ticket", "S1", "--at", "2026-11-27T10:00:00Z", "-a", "confirmed=yes",
       "-a", "scope=system_wide", "-a", "impact=service_unavailable", "-a", "workaround=none", "-a", "security=no",
       "-a", "deadline=no")
    assert update("S1", "2026-11-27T10:25:00Z")["every"] == "PT30M"  # every 30 min for the first 2 h
    late = update("S1", "2026-11-27T12:30:00Z")
    assert late["every"] == "PT1H" and late["next_due"] == "2026-11-27T08:30:00-05:00"  # then hourly
    assert late["late_minutes"] == 95  # it was due at 10:55


def test_ask_records_and_refuses_a_second_triage_of_the_same_ticket():
    result = ok("ask", "--no-input", "--at", "2026-11-27T10:00:00Z", *OUTAGE)
    assert "recorded TRIAGE-20261127-050000-" in result.stderr
    ok("ask", "--no-input", "--ticket", "A-1", *OUTAGE)
    again = cli("ask", "--no-input", "--ticket", "A-1", *OUTAGE)
    assert again.exit_code == 2 and "triage retriage A-1" in again.stderr
    ok("ask", "--no-input", "--ticket", "A-1", "--no-record", *OUTAGE)
    assert len(json.loads(ok("history", "--format", "json").stdout)) == 2


@pytest.mark.parametrize(("args", "code", "text"), [
    (["update", "NOPE", "--impact", "a", "--actions", "b", "--next-step", "c"], 1,
     "no triage recorded for ticket `NOPE`"),
    (["update", "B-1", "--impact", "a", "--actions", "b"], 2, "pass --next-step TEXT"),
    (["retriage", "B-1", "-a", "scope=one_user"], 2, "pass --reason TEXT"),
    (["retriage", "B-1", "--reason", "x", "-a", "scope=galaxy"], 1, "`scope` takes one of"),
    (["handoff", "B-1", "--to", "wizard"], 1, "unknown role `wizard`"),
    (["handoff", "B-1", "--to", "finance", "--point", "intake_to_triage"], 1, "does not receive tickets"),
    (["close", "B-1", "--item", "resolution_note=Fixed", "--item", "impact_ended=yes"], 2,
     "pass --item final_message=yes"),
    (["close", "B-1", "--item", "mood=good"], 1, "unknown closure item `mood`"),
    (["history", "NOPE"], 2, "no ticket `NOPE`"),
])
def test_follow_up_errors(args, code, text):
    ok("ask", "--no-input", "--ticket", "B-1", *OUTAGE)
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert text in result.stderr and result.stderr.count("\n") == 1


def test_history_csv_is_the_generic_export():
    ok("ask", "--no-input", "--ticket", "C-1", "--at", "2026-11-27T10:00:00Z", *OUTAGE)
    update("C-1", "2026-11-27T10:30:00Z")
    ok("handoff", "C-1", "--to", "specialist", "--at", "2026-11-27T10:40:00Z")
    import csv

    [row] = list(csv.DictReader(ok("history", "--format", "csv").stdout.splitlines()))
    assert row["ticket"] == "C-1" and row["severity"] == "2"
    assert row["created_at"] == "2026-11-27T10:00:00+00:00" and row["acknowledged_at"] == "2026-11-27T10:30:00+00:00"
    assert row["assigned_at"] == "2026-11-27T10:40:00+00:00" and row["scope"] == "many_accounts"


def test_two_processes_recording_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite3"
    code = ("import sys\nfrom datetime import datetime, UTC\nfrom triage.engine.history import History\n"
            "with History(sys.argv[1]) as h:\n"
            "    for i in range(1000):\n"
            "        h.record(f'{sys.argv[2]}-{i}', datetime.now(UTC), 'triage', {'n': i, 'who': sys.argv[2]})\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), who]) for who in ("A", "B")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with History(path) as h:
        assert h.count() == 2000
        assert len(h.tickets()) == 2000
        assert h.events("B-999")[0].data == {"n": 999, "who": "B"}
        assert h.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_interrupted_write_leaves_the_history_intact(tmp_path):
    path = tmp_path / "h.sqlite3"
    with History(path) as h:
        h.record("K-1", datetime(2026, 11, 27, tzinfo=UTC), "triage", {"ok": True})
    code = ("import os, sys, sqlite3\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('BEGIN IMMEDIATE')\n"
            "db.execute(\"INSERT INTO events (ticket, at, kind, data) VALUES ('K-2', 'x', 'triage', '{}')\")\n"
            "os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code, str(path)]).returncode == 9
    with History(path) as h:
        assert h.count() == 1 and h.tickets() == ["K-1"]
        assert h.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_older_history_is_migrated_and_keeps_its_events(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:
        db.execute(statement)
    db.execute("INSERT INTO events (ticket, at, kind, data) VALUES ('OLD-1', '2025-01-01T00:00:00+00:00', 'triage', '{}')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with History(path) as h:
        assert h.version() == SCHEMA_VERSION == 4
        [event] = h.events("OLD-1")
        assert event.recorded_at == "2025-01-01T00:00:00+00:00"


@pytest.mark.parametrize(("prepare", "text"), [
    (lambda p: sqlite3.connect(p).execute("PRAGMA user_version = 99"), "written by a newer triage"),
    (lambda p: p.write_bytes(b"this is not a database at all" * 100), "not a usable triage history"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE other (x)"), "not a triage history"),
    (lambda p: p.mkdir(), "is a directory"),
])
def test_unusable_history_files(tmp_path, prepare, text):
    path = tmp_path / "h.sqlite3"
    prepare(path)
    with pytest.raises(InputError, match=text):
        History(path)
    result = runner.invoke(app, ["history", "--history", str(path)])
    assert result.exit_code == 1 and text in result.stderr


EXCEPTIONS = """exceptions:
  - id: acme_renewal
    scope: {account: Acme}
    changes:
      targets: {sev2: {acknowledge: 10m}}
      update_every: {sev2: 30m}
      notify: [leadership]
    reason: Renewal under negotiation
    approver: support_lead
    expires: 2027-03-31
  - id: launch_day
    scope: {starts: 2026-12-01T00:00:00, ends: 2026-12-02T00:00:00}
    changes: {notify: [customer_success]}
    reason: Launch day
    approver: support_lead
    expires: 2026-12-02
"""


@pytest.fixture()
def with_exceptions(tmp_path) -> Path:
    path = tmp_path / "exceptions.yaml"
    path.write_text(shipped_text().replace("exceptions: []\n", EXCEPTIONS))
    return path


def triaged(matrix: Path, at: str, *extra: str) -> dict:
    result = ok("ask", "--no-input", "--no-record", "--format", "json", "--at", at, *OUTAGE, *extra, matrix=matrix)
    return json.loads(result.stdout)


def test_an_account_exception_changes_targets_and_notifications_only_while_in_force(with_exceptions):
    plain = triaged(with_exceptions, "2026-12-10T10:00:00Z")
    acme = triaged(with_exceptions, "2026-12-10T10:00:00Z", "--account", "Acme")
    assert acme["severity"] == plain["severity"] and acme["computed_severity"] == plain["computed_severity"]
    assert plain["targets"]["acknowledge"]["within"] == "PT30M" and acme["targets"]["acknowledge"]["within"] == "PT10M"
    assert acme["targets"]["next_update"]["within"] == "PT30M"
    assert "leadership" in acme["routing"]["notify"] and "leadership" not in plain["routing"]["notify"]
    assert acme["exceptions"][0]["text"].startswith(
        "exception acme_renewal applies until 2027-03-31: acknowledge within 10 min; updates every 30 min"
    )
    text = ok(
        "ask",
        "--no-input",
        "--no-record",
        "--at",
        "2026-12-10T10:00:00Z",
        "--account",
        "Acme",
        *OUTAGE,
        matrix=with_exceptions,
    ).stdout
    assert "exception acme_renewal applies until 2027-03-31" in text
    expired = triaged(with_exceptions, "2027-04-02T10:00:00Z", "--account", "Acme")
    assert expired["targets"]["acknowledge"]["within"] == "PT30M" and "exceptions" not in expired
    assert "exception acme_renewal is ignored: it expired on 2027-03-31" in expired["notes"]


def test_classify_applies_exceptions_by_account(with_exceptions):
    records = [{"confirmed": "yes", "scope": "many_accounts", "impact": "workflow_blocked", "workaround": "limited",
                "deadline": "no", "security": "no", "account": account} for account in ("Acme", "Other")]
    result = runner.invoke(app, ["classify", "--matrix", str(with_exceptions), "--at", "2026-12-10T10:00:00Z"],
                           input="".join(json.dumps(r) + "\n" for r in records))
    acme, other = (json.loads(line) for line in result.stdout.splitlines())
    assert acme["targets"]["acknowledge"]["within"] == "PT10M" and acme["exceptions"][0]["id"] == "acme_renewal"
    assert other["targets"]["acknowledge"]["within"] == "PT30M" and "exceptions" not in other
    assert acme["severity"] == other["severity"]


def test_a_time_window_exception(with_exceptions):
    during = triaged(with_exceptions, "2026-12-01T15:00:00Z")
    after = triaged(with_exceptions, "2026-12-02T15:00:00Z")
    assert "customer_success" in during["routing"]["notify"] and [e["id"] for e in during["exceptions"]] == ["launch_day"]
    assert "exceptions" not in after


def test_updates_follow_the_exception_cadence(with_exceptions):
    ok("ask", "--no-input", "--ticket", "E-1", "--account", "Acme", "--at", "2026-12-10T10:00:00Z", *OUTAGE,
       matrix=with_exceptions)
    data = json.loads(ok("update", "E-1", "--at", "2026-12-10T10:20:00Z", "--impact", "a", "--actions", "b",
                         "--next-step", "c", "--format", "json", matrix=with_exceptions).stdout)
    assert data["every"] == "PT30M" and data["late_minutes"] is None


def test_default_history_location_is_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("TRIAGE_HISTORY")
    ok("ask", "--no-input", "--ticket", "X-1", *OUTAGE)
    assert (tmp_path / "xdg-data" / "triage" / "history.sqlite3").exists()
    assert os.environ["XDG_DATA_HOME"] == str(tmp_path / "xdg-data")
