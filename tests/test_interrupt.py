"""Interruption and resources: Ctrl-C anywhere, full disks, read-only paths, size caps, bad encodings."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli.app import app

from .conftest import MATRIX_PATH
from .test_prompts import CTRL_C, DOWN, ENTER, interact

runner = CliRunner()
ANSWERS = ["-a", "confirmed=yes", "-a", "scope=one_user", "-a", "impact=none", "-a", "security=no"]
# ticket, confirmed, scope, impact, security, areas, vendor, strategic, decision, then seven packet fields
PROMPTS = 16
PATH = [ENTER, DOWN + ENTER, DOWN + ENTER, DOWN + ENTER, DOWN * 2 + ENTER, *[ENTER] * 11]  # a choice on each


@pytest.mark.parametrize("position", range(PROMPTS))
def test_ctrl_c_at_every_prompt(matrix, position):
    keys = PATH[:position] + [CTRL_C]
    with pytest.raises(KeyboardInterrupt):
        interact(matrix, keys)


def test_ctrl_c_after_the_last_prompt_is_not_needed(matrix):
    _result, prompter, _ = interact(matrix, PATH)
    assert len(prompter.asked) == PROMPTS


def test_ctrl_c_during_a_long_audit_writes_nothing(tmp_path, monkeypatch):
    from triage.audit import measure as audit

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "measure", interrupted)
    export = tmp_path / "e.csv"
    export.write_text("ticket,severity,created_at\nT,3,2026-12-01T10:00:00Z\n")
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["audit", str(export), "--matrix", str(MATRIX_PATH), "-f", "html", "-o", str(out)])
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv"]


def test_a_full_disk_gives_one_line_and_no_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "t.md"
    result = runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", *ANSWERS,
                                 "--output", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"triage: error: {out}: cannot write (No space left on device)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["/sys/triage-test.md", "/proc/triage-test.md"])
def test_a_read_only_output_path_gives_one_line(target):
    result = runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", *ANSWERS,
                                 "--output", target])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"triage: error: {target}: cannot write (") and result.stderr.count("\n") == 1


def test_a_classify_output_that_cannot_be_finished_leaves_nothing(tmp_path, monkeypatch):
    from triage import files

    original = files.AtomicOutput.close

    def failing_close(self):
        self.discard()
        raise files.InputError(f"{self.path}: cannot write (No space left on device)")

    monkeypatch.setattr(files.AtomicOutput, "close", failing_close)
    out = tmp_path / "r.jsonl"
    record = json.dumps({"confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no"}) + "\n"
    result = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "-o", str(out)], input=record * 3)
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert original is not None


@pytest.mark.parametrize(("command", "content", "message"), [
    ("answers", b"x" * 1_100_000, "larger than the 1,048,576-byte limit for this kind of file"),
    ("answers", b"confirmed: caf\xe9\n", "not UTF-8 text (invalid byte at offset 14)"),
    ("matrix", b"a" * 1_100_000, "larger than the 1,048,576-byte limit for this kind of file"),
    ("matrix", b"name: caf\xe9\n", "not UTF-8 text (invalid byte at offset 9)"),
])
def test_caps_and_encodings_are_named(tmp_path, command, content, message):
    path = tmp_path / "input.yaml"
    path.write_bytes(content)
    flag = ["--answers", str(path), "--matrix", str(MATRIX_PATH)] if command == "answers" else ["--matrix", str(path)]
    result = runner.invoke(app, ["ask", "--no-input", "--no-record", *flag, *ANSWERS])
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_an_endless_line_in_a_stream_is_cut_and_reported(tmp_path):
    path = tmp_path / "records.jsonl"
    good = json.dumps({"confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no"})
    with path.open("w") as handle:
        handle.write(good + "\n" + "{" + "x" * 3_000_000 + "\n" + good + "\n")
    result = runner.invoke(app, ["classify", str(path), "--matrix", str(MATRIX_PATH)])
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert "records.jsonl:2: the line is longer than the 1,048,576-byte limit for one record" in result.stderr
    assert Path(path).exists()


def test_ctrl_c_while_a_real_classify_reads_its_input_writes_nothing(tmp_path):
    """A real process reading records from a pipe: once it has taken a megabyte (a blocking write into a pipe
    returns only when the reader has drained it), Ctrl-C ends it with one line, exit 130 and no output file."""
    import signal
    import subprocess
    import sys

    out = tmp_path / "results.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "triage", "classify", "-", "--matrix", str(MATRIX_PATH),
                                "--at", "2026-11-27T10:00:00Z", "--output", str(out)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    record = json.dumps({"confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no"}) + "\n"
    assert process.stdin is not None
    process.stdin.write(record.encode() * (1_000_000 // len(record)))
    process.stdin.flush()  # returns once the process has read all but the pipe's last 64 KB
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.decode().strip() == "triage: interrupted; nothing was written"
    assert list(tmp_path.iterdir()) == []
