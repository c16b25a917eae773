"""Defects that gave a false green or lost a record: each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.engine.history import History
from triage.errors import UsageError

from .conftest import MATRIX_PATH, NEW_YORK

runner = CliRunner()
AT = "2026-11-27T10:00:00Z"
ANSWERS = ["-a", "confirmed=yes", "-a", "scope=one_user", "-a", "impact=none", "-a", "security=no"]


def broken_matrix(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("  revised:", "  revized:", 1))
    return path


def test_the_global_matrix_is_the_one_validated(tmp_path):
    broken = broken_matrix(tmp_path)
    result = runner.invoke(app, ["--matrix", str(broken), "validate"])
    assert result.exit_code == 1 and "broken.yaml" in result.stderr
    missing = runner.invoke(app, ["-m", str(tmp_path / "nonexistent.yaml"), "validate"])
    assert missing.exit_code == 1 and "nonexistent.yaml: no such file" in missing.stdout


def test_the_global_matrix_decides_and_a_commands_own_wins(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(MATRIX_PATH.read_text().replace('version: "2026.11"', 'version: "2099.1"', 1))
    asked = runner.invoke(app, ["-m", str(other), "ask", "--no-input", "--no-record", "-f", "json", "--at", AT,
                                *ANSWERS])
    assert asked.exit_code == 0, asked.stderr
    assert json.loads(asked.stdout)["matrix"]["sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()
    own = runner.invoke(app, ["-m", str(broken_matrix(tmp_path)), "ask", "--matrix", str(other), "--no-input",
                              "--no-record", "-f", "json", "--at", AT, *ANSWERS])
    assert own.exit_code == 0 and json.loads(own.stdout)["matrix"]["version"] == "2099.1"


def test_classify_full_names_the_ticket_in_its_texts():
    record = {"ticket": "Z1", "confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no"}
    result = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, "--full"],
                           input=json.dumps(record) + "\n")
    assert result.exit_code == 0, result.stderr
    update = json.loads(result.stdout)["update"]
    assert update["internal"].startswith("[Z1]") and "(no reference yet)" not in json.dumps(update)


def test_a_triage_whose_output_fails_is_not_recorded(tmp_path):
    history = tmp_path / "history.sqlite3"
    base = ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--at", AT, "--ticket", "INC-OUT", "--history",
            str(history), *ANSWERS]
    failed = runner.invoke(app, [*base, "--output", str(tmp_path / "nowhere" / "x.md")])
    assert failed.exit_code == 1 and "recorded" not in failed.stderr
    with History(history) as store:
        assert store.events("INC-OUT") == []
    retried = runner.invoke(app, [*base, "--output", str(tmp_path / "x.md")])
    assert retried.exit_code == 0, retried.stderr
    assert (tmp_path / "x.md").exists()


def test_two_agents_recording_one_ticket_at_once_cannot_both_succeed(tmp_path):
    """Each agent checks and records inside one write transaction; started together, one wins."""
    path = tmp_path / "history.sqlite3"
    History(path).close()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def agent(name: str) -> None:
        with History(path) as store:
            start.wait()
            try:
                with store.transaction():
                    store.record_new("INC-RACE", datetime.now(UTC),
                                     "triage", {"agent": name})
                outcomes.append("recorded")
            except UsageError as exc:
                outcomes.append(exc.message)

    threads = [threading.Thread(target=agent, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("recorded") == 1
    assert any("already in the history" in outcome for outcome in outcomes)
    with History(path) as store:
        assert len(store.events("INC-RACE")) == 1


@pytest.mark.parametrize(("at", "now", "expected"), [
    # 01:30 EST on the day clocks go forward: a 30-minute target falls due at 03:00 EDT, 30 minutes later
    ("2027-03-14T01:30:00-05:00", "2027-03-14T01:30:00-05:00", {"acknowledge": "in 15 min", "next_update": "in 30 min",
                                                                "resolution": "in 4 h"}),
    # 01:30 EDT, the first of the two 01:30s in November: due 01:00 EST, 30 minutes later, not "30 min ago"
    ("2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-04:00", {"next_update": "in 30 min"}),
    # triaged three hours ago: the acknowledgement is overdue, not "in 15 min"
    ("2027-01-05T10:00:00-05:00", "2027-01-05T13:00:00-05:00", {"acknowledge": "overdue by 2 h 45 min"}),
])
def test_how_far_a_due_time_is_counts_elapsed_time_from_now(matrix, at, now, expected):
    from rich.console import Console

    from triage.engine.decide import parse_at, resolve_answers, triage
    from triage.render.result import TARGET_LABELS, text

    answers, skipped = resolve_answers(matrix, {"confirmed": "yes", "scope": "system_wide",
                                                "impact": "service_unavailable", "workaround": "none",
                                                "security": "no", "deadline": "no"})
    zone = NEW_YORK
    result = triage(matrix, answers, skipped=skipped, at=parse_at(at, zone))
    console = Console(width=160, record=True, color_system=None)
    console.print(text(result, now=parse_at(now, zone)))
    shown = console.export_text()
    for name, words in expected.items():
        row = next(line for line in shown.splitlines() if TARGET_LABELS[name] in line or
                   (name == "resolution" and "Resolution:" in line))
        assert words in row, (name, row)


@pytest.mark.parametrize(("text", "message"), [
    ("2027-03-14T02:30", "2027-03-14T02:30:00 does not exist in America/New_York"),
    ("2027-11-07T01:30", "write 2027-11-07T01:30:00-04:00 or 2027-11-07T01:30:00-05:00"),
])
def test_a_local_time_the_zone_skips_or_repeats_is_refused(text, message):
    result = runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", "--at", text,
                                 *ANSWERS])
    assert result.exit_code == 1 and message in result.stderr


def test_a_step_before_the_tickets_latest_is_refused(tmp_path):
    history = str(tmp_path / "h.sqlite3")
    common = ["--matrix", str(MATRIX_PATH), "--history", history]
    opened = runner.invoke(app, ["ask", *common, "--no-input", "--ticket", "INC-E", "--at", "2026-12-01T10:00",
                                 *ANSWERS])
    assert opened.exit_code == 0, opened.stderr
    early = runner.invoke(app, ["close", "INC-E", *common, "--at", "2026-11-01T10:00", "--item", "impact_ended=yes",
                                "--item", "final_message=yes"])
    assert early.exit_code == 2
    assert "2026-11-01T10:00:00-05:00 is before the ticket's latest step (2026-12-01T10:00:00-05:00)" in early.stderr
    with History(history) as store:
        assert [e.kind for e in store.events("INC-E")] == ["triage"]


def test_published_files_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        page = tmp_path / "matrix.html"
        assert runner.invoke(app, ["show", "--matrix", str(MATRIX_PATH), "-f", "html", "-o", str(page)]).exit_code == 0
        results = tmp_path / "out.jsonl"
        record = json.dumps({"confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no"})
        classified = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, "-o", str(results)],
                                   input=record + "\n")
        assert classified.exit_code == 0
        assert oct(page.stat().st_mode & 0o777) == oct(results.stat().st_mode & 0o777) == "0o644"
    finally:
        os.umask(old)


@pytest.mark.parametrize(("args", "schema"), [([], "matrix.schema.json"), (["--roster"], "roster.schema.json")])
def test_init_writes_the_schema_its_first_line_names(tmp_path, args, schema):
    target = tmp_path / "new.yaml"
    result = runner.invoke(app, ["init", str(target), *args])
    assert result.exit_code == 0, result.stderr
    assert f"$schema=./{schema}" in target.read_text().splitlines()[0]
    assert json.loads((tmp_path / schema).read_text())["$id"] == schema


def test_csv_results_name_each_route_role_once():
    record = {"ticket": "R1", "confirmed": "yes", "scope": "many_accounts", "impact": "revenue_risk",
              "workaround": "none", "security": "yes", "areas": ["billing", "invoicing", "payroll", "permissions",
                                                                 "compliance"],
              "strategic_account": "yes", "deadline": "yes", "vendor": "yes"}  # two routes each to two roles
    result = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, "-f", "csv"],
                           input=json.dumps(record) + "\n")
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    import csv

    routes = next(csv.DictReader(rows))["routes"].split(";")
    assert routes == ["engineering_oncall", "finance", "security", "compliance", "customer_success", "vendor_manager"]


def test_an_unanswered_question_that_can_change_the_severity_is_never_assumed():
    base = ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", "--at", AT, "-a", "confirmed=yes",
            "-a", "scope=one_account", "-a", "impact=workflow_blocked", "-a", "security=no", "-a", "deadline=no"]
    missing = runner.invoke(app, base)
    assert missing.exit_code == 2
    assert "no answer for `workaround`" in missing.stderr and "--answer workaround=available|limited|none" in missing.stderr
    answered = runner.invoke(app, [*base, "-a", "workaround=none", "-f", "json"])
    assert answered.exit_code == 0 and json.loads(answered.stdout)["severity"]["level"] == 2
    record = {"confirmed": "yes", "scope": "one_account", "impact": "workflow_blocked", "workaround": "none",
              "security": "no"}
    classified = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT],
                               input=json.dumps(record) + "\n")
    assert classified.exit_code == 1 and "<stdin>:1: no answer for `deadline`" in classified.stderr


def test_a_routing_only_default_is_assumed_and_said():
    args = ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", "--at", AT, *ANSWERS]
    data = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    assert data["assumed"] == ["areas", "vendor", "strategic_account"]
    notes = " ".join(data["notes"])
    assert "not answered, so taken as no: Does fixing it need a third-party vendor" in notes
    assert "not answered, so taken as none: Does it touch any of these?" in notes
    full = {"confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no", "areas": [],
            "vendor": "no", "strategic_account": "no"}
    classified = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT],
                               input=json.dumps(full) + "\n")
    assert "assumed" not in json.loads(classified.stdout)


def test_the_history_export_carries_the_latest_answers_and_the_packets(tmp_path):
    """A correct retriage is no disagreement in the audit of triage's own export, and a handoff's packet is
    there for the audit's packet check."""
    args = ["--matrix", str(MATRIX_PATH)]
    steps = [
        ["ask", "--no-input", "--ticket", "H-2", "--at", "2026-12-07T14:00:00Z", "-a", "confirmed=yes",
         "-a", "scope=one_user", "-a", "impact=inconvenient", "-a", "workaround=available", "-a", "security=no",
         "-a", "deadline=no"],
        ["retriage", "H-2", "--at", "2026-12-07T15:00:00Z", "--reason", "wider now", "-a", "scope=one_account",
         "-a", "impact=workflow_blocked", "-a", "workaround=limited"],
        ["handoff", "H-2", "--to", "engineering_oncall", "--at", "2026-12-07T15:30:00Z",
         "--packet", "reproduction_steps=Open any export", "--packet", "impact_summary=Exports fail"],
    ]
    for step in steps:
        done = runner.invoke(app, [*step, *args])
        assert done.exit_code == 0, (step[0], done.stderr)
    export = tmp_path / "history.csv"
    export.write_text(runner.invoke(app, ["history", "--format", "csv"]).stdout)
    header, row = export.read_text().splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    assert cells["scope"] == "one_account" and cells["severity"] == "2"
    assert cells["packet_reproduction_steps"] == "yes" and cells["packet_logs"] == ""
    audited = json.loads(runner.invoke(app, ["audit", str(export), *args, "-f", "json"]).stdout)
    assert audited["criteria"]["with_answers"] == 1 and audited["criteria"]["disagreements"] == []


def test_an_account_matches_its_exception_whatever_the_case_and_an_unknown_one_is_named(tmp_path):
    path = tmp_path / "exceptions.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("exceptions: []\n", """exceptions:
  - id: acme_renewal
    scope: {account: Acme}
    changes: {targets: {sev4: {acknowledge: 1h}}}
    reason: Renewal under negotiation
    approver: support_lead
    expires: 2099-03-31
"""))
    base = ["ask", "--matrix", str(path), "--no-input", "--no-record", "-f", "json", "--at", AT, *ANSWERS]
    lower = json.loads(runner.invoke(app, [*base, "--account", "acme"]).stdout)
    assert [e["id"] for e in lower["exceptions"]] == ["acme_renewal"]
    other = json.loads(runner.invoke(app, [*base, "--account", "Globex"]).stdout)
    assert "exceptions" not in other and "no exception of the matrix names the account Globex" in other["notes"]


@pytest.mark.parametrize(("args", "words"), [
    (["--bogus"], "triage: error: No such option: --bogus (see `triage --help`)"),
    (["ask", "--severity", "abc"], "triage: error: --severity takes a severity level number such as 2, not `abc`"),
    (["valdate"], "triage: error: No such command 'valdate'. Did you mean 'validate'"),
    (["classify", "--format", "xml"], "triage: error: Invalid value for '--format'"),
])
def test_a_usage_error_is_one_line_with_exit_2(args, words):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "triage", *args, "--matrix", str(MATRIX_PATH)] if args[0] != "--bogus"
                          and args[0] != "valdate" else [sys.executable, "-m", "triage", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(words), done.stderr
    assert done.stdout == ""
