"""The shell, through CliRunner: exit codes, exact messages, formats, the JSON contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from triage.cli.app import app

from .conftest import MATRIX_PATH, ROOT

runner = CliRunner()
CONTRACT = json.loads((Path(__file__).parent / "contract" / "triage-result.schema.json").read_text())
AT = "2026-11-27T10:00:00Z"
OUTAGE = ["-a", "confirmed=yes", "-a", "scope=system_wide", "-a", "impact=service_unavailable",
          "-a", "workaround=none", "-a", "security=no", "-a", "deadline=no"]


def triage(*args: str, input: str | None = None):
    return runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), *args], input=input)


def test_json_result_follows_the_contract():
    result = triage("--no-input", "--format", "json", "--at", AT, "--ticket", "T-1", *OUTAGE)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, CONTRACT)
    assert data["severity"] == {"level": 1, "id": "sev1", "label": "Critical", "name": "Severity 1"}
    assert data["answers"]["confirmed"] is True and data["answers"]["areas"] == []
    assert data["targets"]["acknowledge"] == {"within": "PT15M", "due": "2026-11-27T05:15:00-05:00"}
    assert data["routing"]["owner"] == "support_lead"
    assert data["ticket"] == "T-1"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--no-input", "-a", "confirmed=yes"], 2, "no answer for `scope`"),
    (["-a", "confirmed=yes"], 2, "stdin is not a terminal"),
    (["--no-input", *OUTAGE[:-2], "-a", "security=perhaps"], 1, "`security` takes yes or no, not 'perhaps'"),
    (["--no-input", *OUTAGE, "-a", "colour=red"], 1, "unknown question `colour`"),
    (["--no-input", *OUTAGE, "-a", "scope"], 2, "--answer takes NAME=VALUE"),
    (["--no-input", *OUTAGE, "--severity", "2"], 2, "--severity needs --override-reason"),
    (["--no-input", *OUTAGE, "--at", "tomorrow"], 1, "not an ISO 8601 time"),
    (["--no-input", *OUTAGE, "--timezone", "Mars/Base"], 2, "unknown time zone"),
    (["--no-input", *OUTAGE, "--answers", "missing.yaml"], 1, "missing.yaml: no such file"),
])
def test_errors_are_one_line_with_the_documented_exit_code(args, code, message):
    result = triage(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("triage: error: ")
    assert isinstance(result.exception, (SystemExit, type(None)))


def test_unknown_option_is_a_usage_error():
    assert triage("--frobnicate").exit_code == 2


def test_answers_from_stdin_and_flags_override_the_file():
    answers = "confirmed: yes\nscope: one_user\nimpact: none\nsecurity: no\nticket: T-9\npacket: {logs: req-42}\n"
    result = triage("--answers", "-", "--no-input", "--format", "json", "--at", AT, "-a", "scope=one_account",
                    input=answers)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answers"]["scope"] == "one_account" and data["ticket"] == "T-9"
    assert data["packet"]["fields"]["logs"] == "req-42"


def test_json_answers_file(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"confirmed": True, "scope": "one_user", "impact": "none", "security": False,
                                "areas": ["billing"]}))
    result = triage("--answers", str(path), "--no-input", "--format", "json", "--at", AT)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["routing"]["routes"][0]["role"] == "finance"


def test_override_from_flags():
    result = triage("--no-input", "--format", "json", "--at", AT, *OUTAGE, "--severity", "2", "--override-reason",
                    "Only a staging tenant")
    data = json.loads(result.stdout)
    jsonschema.validate(data, CONTRACT)
    assert data["severity"]["level"] == 2 and data["computed_severity"]["level"] == 1
    assert data["override"] == {"level": 2, "reason": "Only a staging tenant"}


def test_text_output_has_every_part():
    result = triage("--no-input", "--at", AT, *OUTAGE)
    assert result.exit_code == 0
    out = result.stdout
    for part in ("SEVERITY 1", "Critical", "Why:", "Deadlines", "overdue by", "Escalation path",
                 "Owner of the next step", "Bring in:", "Tell:", "Handoff packet", "Update for the customer",
                 "Internal update", "Fri 27 Nov 2026 05:15 EST"):
        assert part in out, part


def test_output_file_is_markdown_and_written_whole(tmp_path):
    target = tmp_path / "t.md"
    result = triage("--no-input", "--at", AT, *OUTAGE, "--output", str(target))
    assert result.exit_code == 0
    text = target.read_text()
    assert text.startswith("# Triage") and "## Deadlines" in text
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_unwritable_output_leaves_nothing(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "t.md"
    result = triage("--no-input", "--at", AT, *OUTAGE, "--output", str(target))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr


def test_markup_and_escapes_from_input_are_shown_literally():
    ticket = "[bold red]T-1[/] \x1b]0;pwned\x07 \x1b[2J \u202eevil"
    result = triage("--no-input", "--at", AT, *OUTAGE, "--ticket", ticket, "--packet", "logs=[link=http://x]y[/link]")
    assert result.exit_code == 0
    assert "[bold red]T-1[/]" in result.stdout
    assert "[link=http://x]y[/link]" in result.stdout
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b]0;pwned\\x07" in result.stdout and "\\u202e" in result.stdout


def test_markdown_escapes_input():
    result = triage("--no-input", "--at", AT, *OUTAGE, "--format", "markdown", "--ticket", "<script>x</script> *T*")
    assert "<script>" not in result.stdout
    assert "&lt;script>x&lt;/script>" in result.stdout and "\\*T\\*" in result.stdout


def test_json_escapes_control_characters():
    result = triage("--no-input", "--at", AT, *OUTAGE, "--format", "json", "--ticket", "a\x1b[2J\u202eb")
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert json.loads(result.stdout)["ticket"] == "a\x1b[2J\u202eb"


def test_bare_triage_without_a_terminal_fails_at_once():
    result = runner.invoke(app, ["--matrix", str(MATRIX_PATH)])
    assert result.exit_code == 2
    assert "--answer confirmed=yes|no" in result.stderr


def test_matrix_from_the_environment_and_the_built_in_fallback(monkeypatch, tmp_path):
    result = runner.invoke(app, ["ask", "--no-input", "--format", "json", *OUTAGE])
    assert json.loads(result.stdout)["matrix"]["name"] == "Support escalation matrix"  # built-in copy
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema_version: 1\nmatrix: [\n")
    monkeypatch.setenv("TRIAGE_MATRIX", str(broken))
    result = runner.invoke(app, ["ask", "--no-input", *OUTAGE])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"triage: error: {broken}:3:1: error: YAML syntax")


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary", b"\xff\xfe\xfa", b"- just\n- a list\n"])
def test_unusable_matrix_files(tmp_path, content):
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    result = runner.invoke(app, ["ask", "--matrix", str(path), "--no-input", *OUTAGE])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("triage ")


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "triage", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("triage ")
    assert os.path.exists(ROOT / "src" / "triage" / "__main__.py")


def test_a_bad_choice_is_worded_by_typer():
    result = runner.invoke(app, ["classify", "--format", "xml", "-"], input="")
    assert result.exit_code == 2
    assert "'xml' is not one of 'jsonl', 'csv'" in result.output
