"""An audit a lead can trust on a first export: a mapping that does not fit, an impossible time, a repeated
reference, an unreadable answer or a promise never kept is said, never passed over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli.app import app

from .conftest import MATRIX_PATH
from .test_audit import HEADER, KNOWN, write_csv

runner = CliRunner()
MATRIX = ["--matrix", str(MATRIX_PATH)]


def row(ticket: str, severity: str, created: str, ack: str = "", resolved: str = "", **extra: str) -> list[str]:
    values = dict(zip(HEADER, [ticket, severity, created, ack, "", "", resolved, "", "0", "", ""]))
    values.update(extra)
    return [values[h] for h in HEADER]


def audit(*args: str, input: str | None = None):
    return runner.invoke(app, ["audit", *args, *MATRIX], input=input)


def audit_json(*args: str) -> dict:
    result = audit(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


EVENTS = ["ticket,at,event,severity",
          "T1,2026-12-07T10:00:00Z,created,1",
          "T1,2026-12-07T10:05:00Z,acknowledged,1",
          "T1,2026-12-07T12:00:00Z,resolved,1"]


@pytest.mark.parametrize(("mapping", "header", "needle"), [
    # a misspelt field, with the likely one
    ("name: m\nshape: tickets\ncolumns: {ticket: id, created_at: opened, resolve_at: closed}\n", "id,opened,closed",
     "m.yaml:3:43: error: columns: unknown field `resolve_at` (did you mean `resolved_at`?)"),
    # the export's column first
    ("name: m\nshape: tickets\ncolumns: {ticket: id, opened: created_at}\n", "id,opened",
     "`opened: created_at` is written the wrong way round; write `created_at: opened`"),
    # a column the header lacks: named, with the header's columns listed
    ("name: m\nshape: tickets\ncolumns: {ticket: id, created_at: Opened}\n", "id,opened_on",
     "reads `created_at` from the column `Opened`, which the header does not have (did you mean `opened_on`?); "
     "the header's columns are: id, opened_on"),
    # activity values the file never holds: the values it does hold are listed
    ("name: m\nshape: events\ncolumns: {ticket: ticket, at: at, activity: event}\n"
     "activities: {created: [Opened], resolved: [Closed]}\n", None,
     "by the activity `Opened`, but no row holds it; the activities in the file are: `acknowledged`, `created`, "
     "`resolved`"),
    # an unknown top-level key
    ("name: m\nshape: tickets\ncolumns: {ticket: id}\nday_frist: true\n", "id",
     "day_frist"),
])
def test_a_mapping_that_does_not_fit_the_file_is_a_located_error(tmp_path, mapping, header, needle):
    (tmp_path / "m.yaml").write_text(mapping)
    path = tmp_path / "e.csv"
    path.write_text("\n".join(EVENTS) + "\n" if header is None else header + "\nT1,2026-12-07T10:00:00Z,x\n")
    result = audit(str(path), "--mapping", str(tmp_path / "m.yaml"))
    assert result.exit_code == 1, result.output
    assert needle in result.stderr.replace("\n", " ")


def test_ambiguous_dates_are_refused_not_guessed_and_settled_by_the_mapping(tmp_path):
    rows = [row("A", "1", "02-03-2016 10:15", "02-03-2016 10:20"), row("B", "1", "04-05-2016 09:00")]
    path = str(write_csv(tmp_path / "d.csv", rows))
    refused = audit(path, "--timezone", "UTC")
    assert refused.exit_code == 1 and "day_first" in refused.stderr and "created_at" in refused.stderr
    mapping = tmp_path / "m.yaml"
    generic = (Path(__file__).resolve().parents[1] / "src/triage/data/mappings/generic.yaml").read_text()
    mapping.write_text(generic + "day_first: true\n")
    data = audit_json(path, "--timezone", "UTC", "--mapping", str(mapping))
    assert data["period"]["first_ticket"] == "2016-03-02T10:15:00+00:00"  # 2 March, day first


def test_times_before_creation_are_data_errors_not_successes(tmp_path):
    rows = [row("OK", "1", "2026-12-07T10:00:00Z", "2026-12-07T10:10:00Z", "2026-12-07T12:00:00Z"),
            row("BACK", "1", "2026-12-07T10:00:00Z", "2026-12-07T09:00:00Z", "2026-12-07T12:00:00Z")]
    path = str(write_csv(tmp_path / "i.csv", rows))
    data = audit_json(path)
    ack = data["severities"]["1"]["targets"]["acknowledge"]
    assert (ack["measured"], ack["met"], ack["impossible"]) == (1, 1, 1)
    assert data["impossible_times"]["count"] == 1
    assert data["impossible_times"]["tickets"] == [{
        "ticket": "BACK", "severity": 1, "target": "acknowledge",
        "created": "2026-12-07T10:00:00+00:00", "recorded": "2026-12-07T09:00:00+00:00"}]
    text = audit(path).stdout
    assert "before its creation" in text and "BACK" in text


def test_repeated_references_in_a_ticket_export_are_reported_with_the_hint(tmp_path):
    rows = [row("INC1", "2", "2026-12-07T10:00:00Z"), row("INC1", "2", "2026-12-07T11:00:00Z"),
            row("INC1", "2", "2026-12-07T12:00:00Z"), row("INC2", "2", "2026-12-07T10:00:00Z")]
    path = str(write_csv(tmp_path / "r.csv", rows))
    result = audit(path, "--format", "json")
    assert result.exit_code == 0
    assert "event-log mapping" in result.stderr
    repeated = json.loads(result.stdout)["exports"][0]["repeated_references"]
    assert repeated == {"references": 1, "rows": 3, "examples": ["INC1"]}
    assert "event-log" in " ".join(audit(path).stdout.split())


def test_a_column_named_like_a_question_but_holding_other_words_is_unreadable(tmp_path):
    header = [*HEADER, "impact"]
    rows = [[*row(f"I{i}", "2", "2026-12-07T10:00:00Z"), "2 - Medium"] for i in range(3)]
    path = str(write_csv(tmp_path / "q.csv", rows, header))
    data = audit_json(path)
    assert data["criteria"]["with_answers"] == 3 and data["criteria"]["unreadable"] == 3
    text = audit(path).stdout
    assert "0 of 3" not in text and "3 of 3 tickets have answers the matrix cannot read" in " ".join(text.split())
    md = audit(path, "--format", "markdown").stdout
    assert "3 of 3 tickets have answers the matrix cannot read" in " ".join(md.split())


def test_a_promise_never_kept_by_the_as_of_time_is_missed(tmp_path):
    # S1 was created weeks before the export's last time and never acknowledged nor resolved
    rows = [row("S1", "1", "2026-11-01T10:00:00Z"),
            row("LAST", "1", "2026-12-07T10:00:00Z", "2026-12-07T10:05:00Z", "2026-12-07T11:00:00Z")]
    path = str(write_csv(tmp_path / "a.csv", rows))
    data = audit_json(path)
    assert data["period"]["as_of"] == "2026-12-07T06:00:00-05:00"  # the latest time, in the matrix's zone
    ack = data["severities"]["1"]["targets"]["acknowledge"]
    assert (ack["measured"], ack["met"], ack["missed_unrecorded"]) == (2, 1, 1)
    missed = [b for b in data["breaches"] if b["ticket"] == "S1"]
    assert {b["target"] for b in missed} == {"acknowledge", "resolution"} and all(b["actual"] is None for b in missed)
    # as of a moment before the promise came due, nothing is missed yet
    early = audit_json(path, "--as-of", "2026-11-01T10:05:00Z")
    assert early["severities"]["1"]["targets"]["acknowledge"]["missed_unrecorded"] == 0
    # an export without the column records no acknowledgements at all: none can be missed
    header = [h for h in HEADER if h != "acknowledged_at"]
    bare = [[v for h, v in zip(HEADER, r) if h != "acknowledged_at"] for r in rows]
    none = audit_json(str(write_csv(tmp_path / "b.csv", bare, header)))
    assert none["severities"]["1"]["targets"]["acknowledge"]["measured"] == 0


def test_the_report_names_the_mapping_and_why(tmp_path):
    path = str(write_csv(tmp_path / "k.csv", KNOWN))
    data = audit_json(path)
    assert data["exports"][0]["mapping"] == "generic" and data["exports"][0]["rows"] == 8
    assert data["exports"][0]["why"]
    events = tmp_path / "ev.csv"
    events.write_text("\n".join(EVENTS) + "\n")
    source = audit_json(str(events))["exports"][0]
    assert source["mapping"] == "generic-events" and "`ticket`, `at`, `event`" in source["why"]
    assert "generic-events" in audit(str(events)).stdout


def test_an_audit_of_no_tickets_exits_1_with_the_reason(tmp_path):
    path = str(write_csv(tmp_path / "n.csv", [row("X", "9", "2026-12-07T10:00:00Z")]))
    result = audit(path)
    assert result.exit_code == 1 and "no ticket" in result.stderr.lower()
    review = runner.invoke(app, ["review", path, *MATRIX])
    assert review.exit_code == 1


def test_an_export_without_a_priority_takes_a_severity(tmp_path):
    header = [h for h in HEADER if h != "severity"]
    rows = [[v for h, v in zip(HEADER, r) if h != "severity"]
            for r in [row("P1", "", "2026-12-07T10:00:00Z", "2026-12-07T10:30:00Z")]]
    path = str(write_csv(tmp_path / "p.csv", rows, header))
    refused = audit(path)
    assert refused.exit_code == 1 and "--severity" in refused.stderr
    data = audit_json(path, "--severity", "2")
    assert data["severities"]["2"]["targets"]["acknowledge"]["measured"] == 1
    assert audit(path, "--severity", "9").exit_code == 2


@pytest.mark.parametrize("command", ["audit", "review", "capacity"])
def test_standard_input_is_read_from_a_pipe(tmp_path, command):
    """A real pipe, as `cat export.csv | triage audit -` gives: it cannot be sought back to its start."""
    import subprocess
    import sys

    text = "\n".join([",".join(HEADER), *(",".join(r) for r in KNOWN)]) + "\n"
    extra = ["--roster", str(MATRIX_PATH.parent / "roster.yaml")] if command == "capacity" else []
    done = subprocess.run([sys.executable, "-m", "triage", command, "-", *MATRIX, *extra], input=text.encode(),
                          capture_output=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr and done.stdout


def test_business_time_is_written_as_business_time(tmp_path):
    # severity 3 runs on business hours: acknowledged 8.5 months late
    rows = [row("L", "3", "2026-03-02T10:00:00-05:00", "2026-11-16T10:00:00-05:00")]
    out = " ".join(audit(str(write_csv(tmp_path / "l.csv", rows))).stdout.split())
    assert "of business time" in out
    assert "Late 62 d" not in out and " 3 d " not in out


def test_a_review_reads_what_the_export_has_and_lists_what_it_could_not_read(tmp_path):
    header = ["ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "resolved_at", "impact"]
    rows = [["A1", "1", "2026-11-01T10:00:00Z", "2026-11-01T10:05:00Z", "2026-11-01T10:40:00Z", "2026-11-01T12:00:00Z",
             "2 - Medium"],
            ["A2", "2", "2026-11-02T10:00:00Z", "2026-11-02T09:05:00Z", "", "2026-11-02T12:00:00Z", ""],
            ["A3", "3", "2026-11-03T10:00:00Z", "2026-11-03T10:05:00Z", "", "", ""],
            ["A4", "2", "2026-11-04T10:00:00Z", "bad", "", "", ""]]
    path = str(write_csv(tmp_path / "r.csv", rows, header))
    result = runner.invoke(app, ["review", path, *MATRIX, "--sample", "20", "--at", "2026-12-01T12:00:00Z"])
    assert result.exit_code == 0, result.output
    doc = result.stdout
    # no escalation column: the severity 1 and 2 tickets are the sample
    assert "## The last 2 severity 1 to 2 tickets (the export records no escalations)" in doc
    assert "| A2 |" in doc and "| A3 |" not in doc
    # what could not be read is listed, not only counted
    listed = doc[doc.index("## Rows and values not audited"):]
    assert "line 5:" in listed and "A1: answers not readable" in listed and "A2: acknowledge recorded at" in listed
    # one header per column, and a share names its severity
    assert "| Severity | Promise | Met | Share | Median | p90 | Target |" in doc
    assert "Below 90%: severity 1 assign owner (0%)" in doc
    # what the document itself did is ticked; what a person must do is not
    assert "- [x] Check whether response targets and update cadences were met." in doc
    assert "- [ ] Read through the most recent 20 to 50 escalated tickets." in doc
    assert "- [ ] Compare what actually happened with the severity definitions below." in doc  # no readable answers


def test_mappings_are_listed_printed_validated_and_described_by_a_schema(tmp_path):
    listed = runner.invoke(app, ["mappings"])
    assert listed.exit_code == 0 and "zendesk" in listed.stdout and "generic-events" in listed.stdout
    printed = runner.invoke(app, ["mappings", "zendesk"])
    copy = tmp_path / "ours.yaml"
    copy.write_text(printed.stdout)
    assert runner.invoke(app, ["validate", str(copy)]).exit_code == 0  # a starting point that validates as printed
    assert "did you mean `zendesk`?" in runner.invoke(app, ["mappings", "zendsk"]).stderr
    schema = json.loads(runner.invoke(app, ["schema", "--mapping"]).stdout)
    assert schema["title"] == "triage export mapping" and "day_first" in schema["properties"]
    assert "shape" in schema["required"] and "columns" in schema["required"]
    # checked as a mapping, not as a matrix: every problem located
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: b\nshape: tickets\ncolumns:\n  ticket: id\n  created_at: opened\n  resolve_at: closed\n"
                      "  opened: assigned_at\n")
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert "broken.yaml:6:3: error: columns: unknown field `resolve_at` (did you mean `resolved_at`?)" in result.stdout
    assert "broken.yaml:7:3: error: columns: `opened: assigned_at` is written the wrong way round" in result.stdout
    assert "matrix" not in result.stdout


@pytest.mark.parametrize("name", ["bpic2013", "freshdesk", "generic", "generic-events", "jira-service-management",
                                  "zendesk"])
def test_every_built_in_mapping_validates(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(runner.invoke(app, ["mappings", name]).stdout)
    result = runner.invoke(app, ["validate", str(path), "--strict"])
    assert result.exit_code == 0, result.output


def test_the_readme_mapping_examples_validate(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("#### Export mappings", 1)[1].split("\n### ", 1)[0]
    blocks = [b for b in section.split("```yaml\n")[1:]]
    assert len(blocks) == 2
    for n, block in enumerate(blocks):
        path = tmp_path / f"m{n}.yaml"
        path.write_text(block.split("```", 1)[0])
        result = runner.invoke(app, ["validate", str(path), "--strict"])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["audit", "capacity"])
def test_a_period_that_ends_before_it_starts_is_named_as_the_mistake(tmp_path, command):
    path = str(write_csv(tmp_path / "k.csv", KNOWN))
    extra = ["--roster", str(MATRIX_PATH.parent / "roster.yaml")] if command == "capacity" else []
    result = runner.invoke(app, [command, path, *MATRIX, *extra, "--since", "2027-02-01", "--until", "2027-01-01"])
    assert result.exit_code == 2
    assert "--since 2027-02-01 is not before --until 2027-01-01" in result.stderr
