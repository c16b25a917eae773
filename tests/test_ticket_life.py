"""The ticket's life after the first triage, as agents and a lead live it: re-triage, exceptions that expire,
reopen and rename, and the follow-up commands asking (or, with --no-input, not asking) for what is missing.
Each test failed before its fix."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from triage.cli.app import app

from .conftest import MATRIX_PATH
from .test_meta import commands
from .test_prompts import ENTER

runner = CliRunner()
SEV3 = ["-a", "confirmed=yes", "-a", "scope=one_account", "-a", "impact=workflow_blocked", "-a", "workaround=available",
        "-a", "security=no", "-a", "deadline=no"]
TEXTS = ["--impact", "Exports are slow", "--actions", "Cleared the cache", "--next-step", "Watch the queue"]


def cli(*args: str, matrix: Path = MATRIX_PATH):
    return runner.invoke(app, [*args, "--matrix", str(matrix)] if args[0] != "history" else list(args))


def ok(*args: str, matrix: Path = MATRIX_PATH) -> Any:
    result = cli(*args, matrix=matrix)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "json" in args else result.stdout


def test_a_retriage_that_keeps_the_severity_moves_no_due_time():
    first = ok("ask", "--no-input", "--ticket", "INC-B", "--at", "2027-01-04T10:00", *SEV3, "-f", "json")
    update = ok("update", "INC-B", "--at", "2027-01-04T11:00", *TEXTS, "-f", "json")
    again = ok("retriage", "INC-B", "--at", "2027-01-08T15:00", "--reason", "nothing changed", "-f", "json")
    assert again["severity"]["level"] == first["severity"]["level"] == 3
    for name in ("assign_owner", "escalate", "resolution"):
        assert again["targets"][name] == first["targets"][name]
    assert again["targets"]["acknowledge"] == {**first["targets"]["acknowledge"], "met": "2027-01-04T11:00:00-05:00"}
    assert again["targets"]["next_update"]["due"] == update["next_due"]
    assert "the severity is unchanged, so no due time moves" in again["notes"]


def test_a_retriage_that_changes_the_severity_runs_the_new_targets_from_the_creation():
    ok("ask", "--no-input", "--ticket", "INC-C", "--at", "2027-01-04T10:00", *SEV3)
    ok("update", "INC-C", "--at", "2027-01-04T11:00", *TEXTS)
    text = ok("retriage", "INC-C", "--at", "2027-01-05T10:00", "--reason", "every account now", "-a", "scope=system_wide",
              "-a", "workaround=none", "-a", "impact=service_unavailable")
    assert "met Mon 04 Jan 2027 11:00" in text  # the acknowledgement is not issued again
    data = json.loads(cli("history", "INC-C", "-f", "json").stdout)["events"][-1]["data"]
    assert data["severity"]["level"] == 1 and data["previous"]["severity"]["level"] == 3
    assert data["targets"]["acknowledge"]["due"] == "2027-01-04T10:15:00-05:00"  # 15 min from the creation
    # the cadence in force an hour into the ticket's life (every 30 min for 2 h), from the last update
    assert data["targets"]["next_update"] == {"within": "PT30M", "due": "2027-01-04T11:30:00-05:00"}


def test_an_update_due_after_an_exception_expires_follows_the_matrix_cadence(tmp_path):
    path = tmp_path / "exception.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("exceptions: []\n", """exceptions:
  - id: acme_watch
    scope: {account: Acme}
    changes: {update_every: {sev3: 1h}}
    reason: Renewal under negotiation
    approver: support_lead
    expires: 2027-01-05
"""))
    ok("ask", "--no-input", "--ticket", "X-1", "--at", "2027-01-04T10:00", *SEV3, "--account", "Acme", matrix=path)
    during = ok("update", "X-1", "--at", "2027-01-04T10:30", *TEXTS, "-f", "json", matrix=path)
    assert during["every"] == "PT1H" and during["next_due"] == "2027-01-04T11:30:00-05:00"
    # 16:30 on the last day: an hour of business time would land on the 6th, after the expiry, so 8 h it is
    last = ok("update", "X-1", "--at", "2027-01-05T16:30", *TEXTS, "-f", "json", matrix=path)
    assert last["every"] == "PT8H" and last["next_due"] == "2027-01-06T16:30:00-05:00"


def close_args(ticket: str, at: str) -> list[str]:
    return ["close", ticket, "--at", at, "--item", "resolution_note=Exports work again", "--item", "impact_ended=yes",
            "--item", "final_message=yes",
            "--item", "knowledge_article=KB-1", "--item", "trend_tags=exports"]


def test_a_closed_ticket_is_reopened_and_closed_again():
    ok("ask", "--no-input", "--ticket", "R-1", "--at", "2027-01-04T10:00", *SEV3)
    ok(*close_args("R-1", "2027-01-04T12:00"))
    refused = cli("update", "R-1", "--at", "2027-01-04T13:00", *TEXTS)
    assert refused.exit_code == 1 and "triage reopen R-1 --reason TEXT" in refused.stderr
    no_reason = cli("reopen", "R-1", "--at", "2027-01-04T13:00", "--no-input")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    opened = ok("reopen", "R-1", "--at", "2027-01-04T13:00", "--reason", "exports fail again", "-f", "json")
    assert opened["next_due"] == "2027-01-05T13:00:00-05:00" and opened["every"] == "PT8H"  # 8 business hours
    assert opened["resolution_due"] == ok("history", "R-1", "-f", "json")["events"][0]["data"]["targets"][
        "resolution"]["due"]
    assert cli("reopen", "R-1", "--at", "2027-01-04T13:30", "--reason", "twice").exit_code == 2  # it is open
    ok("update", "R-1", "--at", "2027-01-04T14:00", *TEXTS)
    ok(*close_args("R-1", "2027-01-04T15:00"))
    [row] = csv.DictReader(io.StringIO(cli("history", "--format", "csv").stdout))
    assert row["resolved_at"] == "2027-01-04T15:00:00-05:00"
    kinds = [e["kind"] for e in ok("history", "R-1", "-f", "json")["events"]]
    assert kinds == ["triage", "close", "reopen", "update", "close"]


def test_a_ticket_takes_its_help_desk_reference():
    ok("ask", "--no-input", "--ticket", "TRIAGE-1", "--at", "2027-01-04T10:00", *SEV3)
    ok("ask", "--no-input", "--ticket", "HD-2", "--at", "2027-01-04T10:00", *SEV3)
    taken = cli("rename", "TRIAGE-1", "HD-2", "--at", "2027-01-04T10:30")
    assert taken.exit_code == 2 and "`HD-2` is already in the history" in taken.stderr
    assert cli("rename", "NOPE", "HD-3").exit_code == 1  # as for any command on an unknown ticket
    assert "TRIAGE-1 is now HD-1" in ok("rename", "TRIAGE-1", "HD-1", "--at", "2027-01-04T10:30")
    assert cli("history", "TRIAGE-1").exit_code == 2
    update = ok("update", "HD-1", "--at", "2027-01-04T11:00", *TEXTS, "-f", "json")
    assert update["internal"].startswith("[HD-1]")
    assert [e["kind"] for e in ok("history", "HD-1", "-f", "json")["events"]] == ["triage", "rename", "update"]


def test_handoff_asks_for_the_missing_required_fields_in_a_terminal(terminal):
    ok("ask", "--no-input", "--ticket", "H-1", "--at", "2027-01-04T10:00", *SEV3, "--packet", "impact_summary=Slow")
    prompter = terminal(["Open Settings, then Export\r", ENTER])
    handed = ok("handoff", "H-1", "--to", "specialist", "--point", "triage_to_owner", "--at", "2027-01-04T11:00",
                "-f", "json")
    assert prompter.asked == ["Steps to reproduce", "Customer deadline"]
    assert handed["fields"]["reproduction_steps"] == "Open Settings, then Export"
    assert handed["missing"] == ["customer_deadline"]


@pytest.mark.parametrize("command", [
    ["update", "N-1"], ["handoff", "N-1", "--to", "specialist", "--point", "triage_to_owner"], ["retriage", "N-1"],
    ["close", "N-1"]])
def test_no_input_never_asks(terminal, command):
    ok("ask", "--no-input", "--ticket", "N-1", "--at", "2027-01-04T10:00", *SEV3)
    prompter = terminal([])
    result = cli(*command, "--no-input", "--at", "2027-01-04T11:00")
    assert prompter.asked == []
    if command[0] == "handoff":  # nothing required is asked; the missing fields are named
        assert result.exit_code == 0 and "Steps to reproduce" in result.stdout
    else:
        assert result.exit_code == 2, result.output


def test_close_asks_a_required_item_again_in_place(terminal):
    ok("ask", "--no-input", "--ticket", "C-1", "--at", "2027-01-04T10:00", *SEV3)
    prompter = terminal(["Exports work again\r", ENTER, ENTER, ENTER, ENTER, "KB-7\r", "exports\r", ENTER])
    closed = ok("close", "C-1", "--at", "2027-01-04T12:00", "-f", "json")
    assert prompter.asked.count("Link the workaround or the knowledge-base article.") == 2
    assert closed["checklist"]["knowledge_article"] == "KB-7"


def test_close_stops_at_a_required_confirmation_not_done(terminal):
    ok("ask", "--no-input", "--ticket", "C-2", "--at", "2027-01-04T10:00", *SEV3)
    prompter = terminal(["Fixed\r", "\x1b[B\r"])  # what was resolved, then "Not yet" for the impact
    result = cli("close", "C-2", "--at", "2027-01-04T12:00")
    assert result.exit_code == 2 and "cannot be closed yet" in result.stderr and len(prompter.asked) == 2


def test_a_confirmation_takes_yes_or_no_only():
    ok("ask", "--no-input", "--ticket", "C-3", "--at", "2027-01-04T10:00", *SEV3)
    result = cli(*close_args("C-3", "2027-01-04T12:00")[:-10], "--item", "impact_ended=maybe", "--item",
                 "final_message=yes", "--item", "knowledge_article=KB-1", "--item", "trend_tags=exports")
    assert result.exit_code == 1 and "--item impact_ended takes yes or no, not `maybe`" in result.stderr


def test_the_role_an_exception_notifies_is_listed_once(tmp_path):
    path = tmp_path / "exception.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("exceptions: []\n", """exceptions:
  - id: acme_renewal
    scope: {account: Acme}
    changes: {notify: [customer_success], update_every: {sev3: 4h}}
    reason: Renewal under negotiation
    approver: support_lead
    expires: 2099-01-05
"""))
    text = ok("ask", "--no-input", "--no-record", "--at", "2027-01-04T10:00", *SEV3, "--account", "Acme", matrix=path)
    assert text.count("Customer success") == 1 and "acme_renewal" in text


@pytest.mark.parametrize("command", commands())
def test_help_shows_no_internals(command):
    text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
    for internal in ("{", "<str>", "<int", "<float", "<list", "[[", "]]", "<path>"):
        assert internal not in text, (command, internal)


def test_flags_mean_the_same_everywhere():
    ask = " ".join(runner.invoke(app, ["ask", "--help"]).stdout.split())
    retriage = " ".join(runner.invoke(app, ["retriage", "--help"]).stdout.split())
    for text in (ask, retriage):
        assert "--override-reason TEXT" in text and "1 is the most severe" in text
    assert "--reason" not in ask.replace("--override-reason", "")
    old = cli("ask", "--no-input", "--no-record", *SEV3, "--severity", "2", "--reason", "x")
    assert old.exit_code == 2 and "--override-reason" in old.stderr  # Click offers the flag it now has


def complete(words: str, tmp_path: Path) -> list[str]:
    import os
    import subprocess
    import sys

    env = {**os.environ, "_TRIAGE_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    done = subprocess.run([sys.executable, "-m", "triage"], env=env, capture_output=True, text=True, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_offers_commands_questions_answers_roles_items_and_tickets(tmp_path):
    ok("ask", "--no-input", "--ticket", "INC-41", "--at", "2027-01-04T10:00", *SEV3)
    assert "handoff" in complete("triage hand", tmp_path)
    assert "--install-completion" in complete("triage --inst", tmp_path)
    assert "--no-input" in complete("triage update INC-41 --no", tmp_path)
    assert complete("triage ask -a sc", tmp_path) == ["scope="]
    assert complete("triage ask -a scope=", tmp_path) == [
        "scope=one_user", "scope=one_account", "scope=many_accounts", "scope=system_wide"]
    assert "areas=billing,payroll" in complete("triage ask -a areas=billing,", tmp_path)
    assert "specialist" in complete("triage handoff INC-41 --to ", tmp_path)
    assert complete("triage close INC-41 --item impact_ended=", tmp_path) == ["impact_ended=yes", "impact_ended=no"]
    assert complete("triage update ", tmp_path) == ["INC-41"]
    plans = Path(__file__).parent.parent / "examples" / "plan-tiered-first-response.yaml"
    assert complete(f"triage ask --matrix {plans} --plan ", tmp_path) == ["standard", "premium"]


def test_completion_can_be_installed_for_bash_zsh_and_fish():
    for shell in ("bash", "zsh", "fish"):
        script = runner.invoke(app, ["--show-completion", shell])
        assert script.exit_code == 0 and "_TRIAGE_COMPLETE" in script.stdout, (shell, script.output, repr(script.exception))


def test_a_matrix_that_fixes_the_severity_at_opening_refuses_a_retriage_that_changes_it(tmp_path):
    path = tmp_path / "fixed.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("  review_every_days: 90\n",
                                                    "  review_every_days: 90\n  severity_fixed: true\n", 1))
    ok("ask", "--no-input", "--ticket", "INC-F", "--at", "2027-01-04T10:00", *SEV3, matrix=path)
    same = cli("retriage", "INC-F", "--at", "2027-01-05T10:00", "--reason", "a detail", "-a", "vendor=yes",
               matrix=path)
    assert same.exit_code == 0, same.output  # answers may change while the severity stays
    moved = cli("retriage", "INC-F", "--at", "2027-01-05T11:00", "--reason", "every account now", "-a",
                "scope=system_wide", "-a", "impact=service_unavailable", matrix=path)
    assert moved.exit_code == 1 and "`severity_fixed`" in moved.stderr and "from Severity 3 (Moderate) to Severity 2 (High)" in moved.stderr
    events = json.loads(cli("history", "INC-F", "-f", "json").stdout)["events"]
    assert [e["kind"] for e in events][-1] == "retriage" and events[-1]["data"]["severity"]["level"] == 3
    assert "never its severity" in " ".join(ok("show", matrix=path).split())
    assert ok("validate", str(path)) is not None


def _pausing(tmp_path, pauses: str = "[next_update, resolution]") -> list[str]:
    from .conftest import shipped_text

    path = tmp_path / "pausing.yaml"
    path.write_text(shipped_text().replace("  timezone: America/New_York\n",
                                           f"  timezone: America/New_York\n  pauses: {pauses}\n", 1))
    return ["--matrix", str(path)]


def test_waiting_on_the_customer_stops_the_paused_clocks_and_keeps_the_time_left(tmp_path):
    from typer.testing import CliRunner

    from triage.cli.app import app

    runner = CliRunner()
    M = _pausing(tmp_path)
    def run(*args: str):
        return runner.invoke(app, [*args, *M])

    assert run("ask", "--no-input", "--ticket", "W-1", "--at", "2026-12-01T10:00:00-05:00", *SEV3).exit_code == 0
    # Triaged Tuesday 10:00 (business hours 09:00-17:00): next update due Wednesday 10:00, resolution 40 open
    # hours later, Tuesday 8 December 10:00. Paused Tuesday 11:00 with 7 open hours left to the update.
    paused = run("pause", "W-1", "--reason", "Waiting for the customer's logs", "--at", "2026-12-01T11:00:00-05:00",
                 "--format", "json")
    assert paused.exit_code == 0, paused.output
    assert json.loads(paused.stdout)["targets"] == ["next_update", "resolution"]
    assert run("pause", "W-1", "--reason", "again", "--at", "2026-12-01T12:00:00-05:00").exit_code == 1
    queue = json.loads(run("queue", "--at", "2026-12-01T15:00:00-05:00", "--format", "json").stdout)["tickets"]
    assert [(e["promise"], e["paused"]["reason"]) for e in queue] == [("acknowledge", "Waiting for the customer's logs")]
    assert run("update", "W-1", "--no-input", "--impact", "x", "--actions", "Asked for logs", "--next-step", "Read them",
               "--at", "2026-12-01T15:30:00-05:00").exit_code == 0  # acknowledged; the update clock stays stopped
    queue = json.loads(run("queue", "--at", "2026-12-01T16:00:00-05:00", "--format", "json").stdout)["tickets"]
    assert [(e["promise"], e["minutes_left"]) for e in queue] == [("assign_owner", 1080)]
    moved = run("retriage", "W-1", "--no-input", "-a", "scope=many_accounts", "--reason", "More accounts",
                "--at", "2026-12-01T16:00:00-05:00")
    assert moved.exit_code == 1 and "resume it" in moved.stderr
    # Resumed Wednesday 11:00 after 8 open hours: each paused promise keeps the open time it had left.
    resumed = json.loads(run("resume", "W-1", "--at", "2026-12-02T11:00:00-05:00", "--format", "json").stdout)
    assert resumed["paused_minutes"] == 480
    assert resumed["moved"]["resolution"] == "2026-12-09T10:00:00-05:00"
    # The update sent during the pause owes the next one a full interval (8 open hours) from the resume.
    assert resumed["moved"]["next_update"] == "2026-12-03T11:00:00-05:00"
    history = run("history", "W-1", "--format", "json").stdout
    assert "resumed after 8 h of business time" in history
    queue = json.loads(run("queue", "--at", "2026-12-02T11:30:00-05:00", "--format", "json").stdout)["tickets"]
    assert queue[0]["paused"] is None


def test_a_paused_ticket_with_every_running_promise_kept_waits_at_the_end_of_the_queue(tmp_path):
    from typer.testing import CliRunner

    from triage.cli.app import app

    runner = CliRunner()
    M = _pausing(tmp_path, "[acknowledge, assign_owner, escalate, next_update, resolution]")
    assert runner.invoke(app, ["ask", "--no-input", "--ticket", "W-2", "--at", "2026-12-01T10:00:00-05:00", *SEV3,
                               *M]).exit_code == 0
    assert runner.invoke(app, ["pause", "W-2", "--reason", "Logs", "--at", "2026-12-01T10:30:00-05:00",
                               *M]).exit_code == 0
    queue = json.loads(runner.invoke(app, ["queue", "--at", "2026-12-03T10:00:00-05:00", "--format", "json",
                                           *M]).stdout)["tickets"]
    assert [(e["promise"], e["overdue"], e["minutes_left"]) for e in queue] == [("waiting_on_customer", False, None)]
    text = runner.invoke(app, ["queue", "--at", "2026-12-03T10:00:00-05:00", *M]).stdout
    assert "waiting on the customer" in text


def test_a_matrix_without_pauses_refuses_a_pause():
    from typer.testing import CliRunner

    from triage.cli.app import app

    runner = CliRunner()
    assert runner.invoke(app, ["ask", "--no-input", "--ticket", "W-3", "--at", "2026-12-01T10:00:00-05:00",
                               *SEV3]).exit_code == 0
    refused = runner.invoke(app, ["pause", "W-3", "--reason", "Logs", "--at", "2026-12-01T10:30:00-05:00"])
    assert refused.exit_code == 1 and "pauses no targets" in refused.stderr


def test_an_audit_of_a_pausing_matrix_says_that_waiting_time_counts(tmp_path):
    from typer.testing import CliRunner

    from triage.cli.app import app

    export = tmp_path / "e.csv"
    export.write_text("ticket,severity,created_at,acknowledged_at\nA,3,2026-12-01T10:00:00-05:00,"
                      "2026-12-01T11:00:00-05:00\n")
    runner = CliRunner()
    M = _pausing(tmp_path)
    data = json.loads(runner.invoke(app, ["audit", str(export), *M, "--format", "json"]).stdout)
    assert data["pauses"]["targets"] == ["next_update", "resolution"]
    text = " ".join(runner.invoke(app, ["audit", str(export), *M]).stdout.split())
    assert "stops update cadence, resolve while a ticket waits on the customer, but the export records no waits" \
        in text
    plain = json.loads(runner.invoke(app, ["audit", str(export), "--format", "json"]).stdout)
    assert plain["pauses"] is None


def test_the_audit_reads_waits_on_the_customer_from_an_event_log(tmp_path):
    from typer.testing import CliRunner

    from triage.cli.app import app

    mapping = tmp_path / "waits.yaml"
    mapping.write_text("name: waits\nshape: events\ncolumns: {ticket: id, at: time, activity: what, severity: sev}\n"
                       "timezone: America/New_York\nactivities: {created: [open], acknowledged: [ack], "
                       "resolved: [done], paused: [waiting], resumed: [answered]}\n")
    log = tmp_path / "log.csv"
    rows = ["id,time,what,sev"]
    for ref, answered, done in (("A", "2026-12-03T11:00", "2026-12-09T12:00"), ("B", "2026-12-02T11:00",
                                                                                  "2026-12-10T12:00"),
                                ("C", None, None)):
        rows += [f"{ref},2026-12-01T10:00,open,3", f"{ref},2026-12-01T10:30,ack,3", f"{ref},2026-12-01T11:00,waiting,3"]
        rows += [f"{ref},{answered},answered,3"] if answered else []
        rows += [f"{ref},{done},done,3"] if done else []
    log.write_text("\n".join(rows) + "\n")
    runner = CliRunner()
    result = runner.invoke(app, ["audit", str(log), "--mapping", str(mapping), *_pausing(tmp_path),
                                 "--as-of", "2026-12-30T00:00:00-05:00", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Business hours 09:00-17:00 New York; resolution 40 open hours. A took 50 open hours, 16 of them waiting:
    # 34, met. B took 58, 8 waiting: 50, 10 h late; its due time, Tuesday 8 December 10:00, moves on by the
    # 8 open hours of the wait to Wednesday 10:00. C still waits: its resolution is not due, so not missed.
    assert [(b["ticket"], b["target"], b["due"], b["late_minutes"]) for b in data["breaches"]] == [
        ("B", "resolution", "2026-12-09T10:00:00-05:00", 600)]
    resolution = data["severities"]["3"]["targets"]["resolution"]
    assert (resolution["met"], resolution["measured"]) == (1, 2)
    assert data["pauses"]["tickets_with_waits"] == 3
