"""End to end in a real pseudo-terminal: the agent's experience, keystroke by keystroke."""

from __future__ import annotations

import os
import sys

import pexpect
import pytest

from .conftest import MATRIX_PATH

DOWN, ENTER = "\x1b[B", "\r"


def spawn(*args: str, tmp_path) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "100", "LINES": "40"}
    env.pop("NO_COLOR", None)
    return pexpect.spawn(sys.executable, ["-m", "triage", *args], env=env, encoding="utf-8", timeout=20,
                         dimensions=(40, 100), cwd=str(tmp_path))


def answer(child: pexpect.spawn, prompt: str, keys: str) -> None:
    child.expect_exact(prompt)
    child.send(keys)


def test_interactive_triage_end_to_end(tmp_path):
    out = tmp_path / "triage.md"
    child = spawn("ask", "--matrix", str(MATRIX_PATH), "--at", "2026-11-27T10:00:00Z", "--output", str(out),
                  tmp_path=tmp_path)
    answer(child, "Ticket reference", "INC-42" + ENTER)
    answer(child, "Is the problem confirmed?", DOWN + ENTER)
    answer(child, "Who is affected?", DOWN * 4 + ENTER)
    answer(child, "What does it do to their business?", DOWN * 5 + ENTER)
    answer(child, "Can they get the work done another way?", DOWN * 3 + ENTER)
    answer(child, "Could this be a security event", DOWN * 2 + ENTER)
    answer(child, "Does it touch any of these?", ENTER)
    answer(child, "third-party vendor", ENTER)
    answer(child, "Is a dated event at risk?", DOWN * 2 + ENTER)
    answer(child, "strategic account", ENTER)
    answer(child, "Use this severity?", ENTER)
    answer(child, "Impact summary", "Nobody can sign in" + ENTER)
    for _ in range(6):
        answer(child, "(Enter to skip", ENTER)
    child.expect_exact("Internal update")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = out.read_text()
    assert "**Severity 1 (Critical)**" in text and "INC-42" in text and "Nobody can sign in" in text


def test_ctrl_c_exits_130_and_writes_nothing(tmp_path):
    out = tmp_path / "triage.md"
    child = spawn("ask", "--matrix", str(MATRIX_PATH), "--output", str(out), tmp_path=tmp_path)
    answer(child, "Ticket reference", ENTER)
    child.expect_exact("Is the problem confirmed?")
    child.sendintr()
    child.expect_exact("interrupted")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [[], ["ask"]])
def test_bare_triage_opens_the_questionnaire(tmp_path, command):
    child = spawn(*command, "--matrix", str(MATRIX_PATH), tmp_path=tmp_path) if command else \
        spawn("--matrix", str(MATRIX_PATH), tmp_path=tmp_path)
    child.expect_exact("Support escalation matrix")
    child.expect_exact("Ticket reference")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_update_asks_for_what_the_flags_did_not_give(tmp_path):
    history = tmp_path / "h.sqlite3"
    setup = [sys.executable, "-m", "triage", "ask", "--no-input", "--ticket", "P-1", "--matrix", str(MATRIX_PATH),
             "--history", str(history), "-a", "confirmed=yes", "-a", "scope=one_user", "-a", "impact=inconvenient",
             "-a", "workaround=available", "-a", "security=no", "-a", "deadline=no"]
    import subprocess

    subprocess.run(setup, check=True, capture_output=True)
    child = spawn("update", "P-1", "--impact", "Slow reports", "--matrix", str(MATRIX_PATH), "--history",
                  str(history), tmp_path=tmp_path)
    answer(child, "Actions taken", "Cleared the cache" + ENTER)
    answer(child, "Next step", "Watch load times" + ENTER)
    child.expect_exact("Update for the customer")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Actions taken: Cleared the cache" in child.before or "Cleared the cache" in (child.before or "")


def test_a_ticket_already_triaged_is_refused_before_the_questions(tmp_path):
    import subprocess

    history = tmp_path / "h.sqlite3"
    subprocess.run([sys.executable, "-m", "triage", "ask", "--no-input", "--ticket", "DUP-1", "--matrix",
                    str(MATRIX_PATH), "--history", str(history), "-a", "confirmed=yes", "-a", "scope=one_user",
                    "-a", "impact=none", "-a", "security=no"], check=True, capture_output=True)
    child = spawn("ask", "--matrix", str(MATRIX_PATH), "--history", str(history), tmp_path=tmp_path)
    answer(child, "Ticket reference", "DUP-1" + ENTER)
    child.expect_exact("use `triage retriage DUP-1`")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "Is the problem confirmed?" not in (child.before or "")


@pytest.mark.parametrize("command", [["classify"], ["ask", "--answers", "-", "--no-input"]])
def test_stdin_from_a_terminal_is_refused_at_once(tmp_path, command):
    child = spawn(*command, "--matrix", str(MATRIX_PATH), tmp_path=tmp_path)
    child.expect_exact("stdin is a terminal")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
