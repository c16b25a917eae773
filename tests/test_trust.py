"""Defects that gave a false green or lost a record: each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from triage.cli.app import app
from triage.engine.history import History
from triage.errors import UsageError

from .conftest import MATRIX_PATH

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
