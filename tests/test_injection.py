"""Hostile text from customers and matrix authors is neutralised in every output format."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from triage.cli.app import app

from .conftest import MATRIX_PATH, shipped_text

runner = CliRunner()
HOSTILE = ("[bold red]loud[/] \x1b]0;owned\x07 \x1b[2J \x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ "
           "\u202eevil\u202c <script>alert(1)</script> <img src=x onerror=alert(1)> [md](javascript:alert) "
           "=HYPERLINK(\"http://evil.example\")")
RAW_DANGER = ("\x1b", "\x07", "\u202e", "\u202c")
OUTAGE = ["-a", "confirmed=yes", "-a", "scope=system_wide", "-a", "impact=service_unavailable", "-a", "workaround=none",
          "-a", "security=no", "-a", "deadline=no"]


def no_raw_controls(text: str) -> None:
    for ch in RAW_DANGER:
        assert ch not in text, repr(ch)


def ask(*args: str):
    return runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record",
                               "--at", "2026-11-27T10:00:00Z", "--ticket", HOSTILE, "--packet", f"logs={HOSTILE}",
                               *OUTAGE, *args])


def test_terminal_text():
    out = ask().stdout
    no_raw_controls(out)
    assert "[bold red]loud[/]" in out  # markup shown, not applied
    assert "\\x1b]0;owned\\x07" in out and "\\u202e" in out


def test_unsafe_bytes_are_found_in_ascii_and_in_any_other_text():
    from triage.sanitize import has_unsafe_bytes

    cases = {"plain": False, "caf\u00e9 \u4e2d": False, "tab\tnew\nline": False, "": False, "\u00a0": False,
             "\x7f": True, "a\x7f": True, "\u202e": True, "x\u0085y": True, "\u2066": True, "\u061c": True,
             "\u200e": True, "caf\u00e9\x7f": True}
    for text, unsafe in cases.items():
        assert has_unsafe_bytes(json.dumps(text, ensure_ascii=False).encode()) is unsafe, text


def test_markdown():
    out = ask("--format", "markdown").stdout
    no_raw_controls(out)
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script>" in out and "\\[md\\](javascript:alert)" in out


def test_json():
    out = ask("--format", "json").stdout
    no_raw_controls(out)
    data = json.loads(out)
    assert data["ticket"] == HOSTILE and data["packet"]["fields"]["logs"] == HOSTILE  # the value itself is kept


def test_csv_from_classify_and_history():
    records = json.dumps({"ticket": HOSTILE, **{a.split("=")[0]: a.split("=")[1] for a in OUTAGE[1::2]}}) + "\n"
    out = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--format", "csv", "--at",
                              "2026-11-27T10:00:00Z"], input=records).stdout
    no_raw_controls(out)
    [row] = list(csv.DictReader(out.splitlines()))
    assert not row["ticket"].startswith(("=", "+", "-", "@"))
    formula = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--format", "csv"],
                            input=records.replace(json.dumps(HOSTILE), json.dumps("=1+2"))).stdout
    assert next(iter(csv.DictReader(formula.splitlines())))["ticket"] == "'=1+2"
    runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--ticket", "=cmd|' /C calc'!A0", *OUTAGE])
    exported = runner.invoke(app, ["history", "--format", "csv"]).stdout
    assert "\n'=cmd|" in exported


def test_html_pages(tmp_path):
    hostile_matrix = tmp_path / "m.yaml"
    hostile_matrix.write_text(shipped_text().replace("label: Critical", f"label: {json.dumps(HOSTILE)}"))
    show = tmp_path / "show.html"
    assert (
        runner.invoke(app, ["show", "--matrix", str(hostile_matrix), "--format", "html", "-o", str(show)]).exit_code
        == 0
    )
    export = tmp_path / "e.csv"
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "severity", "created_at", "acknowledged_at", "tags"])
        writer.writerow([HOSTILE, "1", "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z", HOSTILE])
    report = tmp_path / "audit.html"
    assert (
        runner.invoke(
            app, ["audit", str(export), "--matrix", str(MATRIX_PATH), "--format", "html", "-o", str(report)]
        ).exit_code
        == 0
    )
    for page in (show, report):
        text = page.read_text()
        no_raw_controls(text)
        assert "<script" not in text and "<img" not in text and "&lt;script&gt;" in text
        assert "default-src 'none'" in text  # and nothing could load or run even if it got through


def test_github_annotations(tmp_path):
    path = tmp_path / "m.yaml"
    key = json.dumps("x\n::error::forged " + HOSTILE)
    path.write_text(shipped_text().replace("  review_every_days: 90\n", f"  review_every_days: 90\n  {key}: 1\n"))
    out = runner.invoke(app, ["validate", str(path), "--format", "github"]).stdout
    no_raw_controls(out)
    lines = out.splitlines()
    assert all(line.startswith("::error ") or line.startswith("::warning ") for line in lines)
    assert "%0A::error::forged" in out


def test_audit_text_and_markdown(tmp_path):
    export = tmp_path / "e.csv"
    export.write_text("ticket,severity,created_at,acknowledged_at,reassignments\n"
                      f"{json.dumps(HOSTILE)},1,2026-12-01T10:00:00Z,2026-12-01T12:00:00Z,5\n")
    for fmt in ("text", "markdown"):
        out = runner.invoke(app, ["audit", str(export), "--matrix", str(MATRIX_PATH), "--format", fmt]).stdout
        no_raw_controls(out)
        if fmt == "markdown":  # in a terminal a tag is only text; in Markdown it must not become one
            assert "<script>" not in out and "&lt;script>" in out


def test_error_messages_on_stderr():
    result = runner.invoke(app, ["update", HOSTILE, "--matrix", str(MATRIX_PATH), "--impact", "a", "--actions", "b",
                                 "--next-step", "c"])
    assert result.exit_code == 1
    no_raw_controls(result.stderr)
    assert result.stderr.count("\n") == 1


def test_matrix_text_with_markup_is_refused_by_validate(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(shipped_text().replace("label: Critical", f"label: {json.dumps(HOSTILE)}"))
    out = runner.invoke(app, ["validate", str(path)]).stdout
    assert re.search(r"m\.yaml:\d+:\d+: error: .* \[L413\]", out)
    assert Path(path).exists()
