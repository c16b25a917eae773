"""Property-based fuzzing of every reader: whatever comes in, the result is valid output or a clear error
(exit 1 or 2), never a traceback, a hang or a partly written file.

CI runs a short reproducible pass; the long run is one command (see the README):
    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_fuzz.py -q --hypothesis-show-statistics
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from triage.audit import measure as audit_mod
from triage.cli.app import app
from triage.engine.classify import Classifier, csv_records, jsonl_records
from triage.engine.decide import resolve_answers
from triage.engine.followup import state
from triage.engine.history import History
from triage.engine.lint import lint
from triage.errors import InputError, MatrixError, TriageError
from triage.exports.mapping import load_mapping
from triage.exports.readers import Reader
from triage.exports.table import read_table
from triage.files import capped_lines
from triage.matrix.loader import read_matrix
from triage.sanitize import safe_json

from .conftest import MATRIX_PATH, NEW_YORK, shipped_text

SHIPPED = shipped_text()
LINES = SHIPPED.splitlines(keepends=True)
TODAY = date(2026, 11, 27)
runner = CliRunner()

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


def check_lint(data: bytes) -> None:
    problems = lint(data, "fuzz.yaml", today=TODAY)
    assert all(p.level in ("error", "warning") and p.code for p in problems)
    if not any(p.level == "error" for p in problems):
        read_matrix(data, "fuzz.yaml")  # a clean lint means the matrix loads
    else:
        with contextlib.suppress(MatrixError, InputError):
            read_matrix(data, "fuzz.yaml")


@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_matrix_loader_random_input(data):
    check_lint(data)


@st.composite
def mutated_matrix(draw, source=None):
    lines = list(source or LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "char", "insert", "swap"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "char" and lines[i].strip():
            j = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = (
                lines[i][:j] + draw(st.sampled_from(list(":-[]{}&*!|>'\"#,? \t0aZ\x1b\u202e"))) + lines[i][j + 1 :]
            )
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=40)) + "\n")
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return "".join(lines).encode("utf-8", "surrogatepass")


@given(mutated_matrix())
def test_matrix_loader_mutated_shipped_matrix(data):
    check_lint(data)


ROSTER_LINES = (MATRIX_PATH.parent / "roster.yaml").read_text().splitlines(keepends=True)


def check_roster_file(data: bytes, matrix) -> None:
    from triage.capacity import analysis as cap
    from triage.capacity import demand as demand_mod
    from triage.capacity.roster import check_roster

    try:
        roster, problems = check_roster(data, "fuzz-roster.yaml", matrix)
    except InputError:  # not text: binary, not UTF-8
        return
    assert all(p.level in ("error", "warning") and p.code and p.line >= 0 for p in problems)
    if roster is None:
        assert any(p.level == "error" for p in problems)
        return
    # a roster that loads can be replayed
    demand = demand_mod.Demand([(datetime(2027, 1, 4, 9, tzinfo=NEW_YORK).timestamp() + 4000.0 * i, 1 + i % 4, 3600.0)
                         for i in range(12)], "history")
    data_out = cap.analyse(matrix, roster, demand, goal=0.8, search_rounds=1)
    assert all(row["replay"] is None or 0 <= row["replay"] <= 1 for row in data_out["targets"])


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_roster_loader_random_input(matrix, data):
    check_roster_file(b"roster_version: 1\n" + data, matrix)


@given(mutated_matrix(ROSTER_LINES))
def test_roster_loader_mutated_shipped_roster(matrix, data):
    check_roster_file(data, matrix)


@given(json_values, st.integers(1, 120))
def test_matrix_loader_deep_and_huge(value, depth):
    text = "a: " + "[" * depth + json.dumps(value) + "]" * depth + "\nb: " + "x" * (depth * 1000) + "\n"
    check_lint(text.encode())


QUESTION_IDS = ["confirmed", "scope", "impact", "workaround", "security", "areas", "vendor", "deadline",
                "strategic_account"]


@given(st.dictionaries(st.sampled_from(QUESTION_IDS) | st.text(max_size=10), json_values, max_size=12))
def test_answers_from_any_mapping(matrix, answers):
    with contextlib.suppress(TriageError):
        resolve_answers(matrix, answers)


@given(st.binary(max_size=300) | st.dictionaries(st.sampled_from(QUESTION_IDS), scalars).map(
    lambda d: json.dumps(d).encode()))
def test_answers_files_through_the_cli(data):
    with tempfile.TemporaryDirectory() as tmp:
        answers, out = Path(tmp) / "answers.yaml", Path(tmp) / "out.md"
        answers.write_bytes(data)
        result = runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--answers", str(answers), "--no-input",
                                     "--no-record", "--output", str(out), "--at", "2026-11-27T10:00:00Z"])
        assert result.exit_code in (0, 1, 2), result.output
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
        files = sorted(p.name for p in Path(tmp).iterdir())
        assert files == (["answers.yaml", "out.md"] if result.exit_code == 0 else ["answers.yaml"])


@given(st.lists(st.binary(max_size=120) | st.dictionaries(st.sampled_from(QUESTION_IDS + ["ticket", "at", "x"]),
                                                            scalars | st.lists(st.text(max_size=12), max_size=3),
                                                            max_size=10).map(lambda d: json.dumps(d).encode()),
                max_size=8))
def test_classify_records(matrix, records):
    classifier = Classifier(matrix, at=datetime(2026, 11, 27, 10, tzinfo=UTC), display=NEW_YORK)
    stream = io.BytesIO(b"\n".join(r.replace(b"\n", b" ") for r in records) + b"\n")
    for _number, record, _raw in jsonl_records(capped_lines(stream)):
        try:
            if hasattr(record, "reason"):
                continue
            classifier.classify(record)
        except TriageError:
            pass
    multi = frozenset({"areas"})
    csv_text = io.BytesIO(b"ticket,scope,impact,confirmed,security,areas\n" + b"\n".join(records))
    for _number, record, _raw in csv_records(capped_lines(csv_text), multi):
        try:
            if not hasattr(record, "reason"):
                classifier.classify(record)
        except TriageError:
            pass


EXPORT_HEADER = (
    "ticket,severity,created_at,acknowledged_at,assigned_at,escalated_at,resolved_at,updates,reassignments,tags"
)
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "?",
            "-",
            "N/A",
            "3",
            "sev1",
            "9",
            "2026-12-01T10:00:00Z",
            "31/12/2026 10:00",
            "2026-13-45",
            "yes",
            "a;b",
            "1e9",
            "-5",
            "\u202e",
            "=cmd",
            "2026-12-01 09:30:00.25+01:00",
            "2026-12-01T10:00:00Z;2026-12-01T09:00:00-05:00",
            "2026-12-01T10:00:00",
            " x ",
            "2027-02-29T10:00:00Z",
        ]
    ),
    st.text(max_size=12),
)


@given(st.lists(st.lists(cells, min_size=1, max_size=12).map(lambda r: ",".join(c.replace(",", " ") for c in r)),
                max_size=10))
def test_audit_export_rows(matrix, rows):
    mapping = load_mapping("generic", lambda p: b"")
    reader = Reader(mapping, levels=set(matrix.levels), questions=matrix.kinds,
                    packet_fields=[f.id for f in matrix.model.handoff_packet], zone=NEW_YORK)
    data = ("\n".join([EXPORT_HEADER, *rows]) + "\n").encode("utf-8", "surrogatepass")
    try:
        table = read_table("e.csv", data, "csv")
    except InputError as exc:  # a quote left open runs to the end of the file: the file cannot be read as CSV
        assert "cannot be read as CSV" in exc.message and '"' in data.decode("utf-8", "replace")
        return
    whole = audit_mod.to_json(audit_mod.run(matrix, reader.read(table), audit_mod.Options()))
    json.dumps(whole, default=str)
    # Measured a few tickets at a time: the same audit, row for row.
    for size in (1, 3):
        batches = reader.read(read_table("e.csv", data, "csv"), size=size)
        assert audit_mod.to_json(audit_mod.run(matrix, batches, audit_mod.Options())) == whole


@given(st.lists(st.tuples(st.sampled_from(["T1", "T2", "", "?"]), cells,
                          st.sampled_from(["created", "acknowledged", "customer_update", "resolved", "junk", ""]),
                          cells), max_size=12))
def test_audit_event_logs(matrix, events):
    mapping = load_mapping("generic-events", lambda p: b"")
    reader = Reader(mapping, levels=set(matrix.levels), questions=matrix.kinds, packet_fields=[], zone=NEW_YORK)
    lines = [json.dumps({"ticket": t, "at": at, "event": ev, "severity": sev}).encode() for t, at, ev, sev in events]
    try:
        report = audit_mod.run(matrix, reader.read(read_table("e.jsonl", b"\n".join(lines), "jsonl")),
                               audit_mod.Options())
    except InputError:  # times whose order of day and month nothing settles
        return
    audit_mod.to_json(report)


@given(st.binary(max_size=600))
def test_history_files_of_any_content(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.sqlite3"
        path.write_bytes(content)
        try:
            with History(path) as history:
                for ticket in history.tickets():
                    state(ticket, history.events(ticket))
        except InputError:
            pass


@given(st.lists(st.tuples(st.sampled_from(["triage", "update", "close", "retriage", "handoff", "weird"]), json_values),
                min_size=1, max_size=5))
def test_history_events_of_any_shape(events):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.sqlite3"
        History(path).close()
        db = sqlite3.connect(path)
        for kind, data in events:
            db.execute("INSERT INTO events (ticket, at, kind, data, recorded_at) VALUES ('F', ?, ?, ?, '')",
                       ("2026-11-27T10:00:00+00:00", kind, json.dumps(data)))
        db.commit()
        db.close()
        result = runner.invoke(app, ["history", "F", "--history", str(path), "--format", "json"])
        assert result.exit_code in (0, 1, 2) and isinstance(result.exception, (SystemExit, type(None)))
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
        result = runner.invoke(app, ["update", "F", "--history", str(path), "--matrix", str(MATRIX_PATH),
                                     "--impact", "a", "--actions", "b", "--next-step", "c"])
        assert result.exit_code in (0, 1, 2) and isinstance(result.exception, (SystemExit, type(None)))
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


ticket_tokens = st.one_of(
    st.text(max_size=12).map(json.dumps),
    st.text(max_size=12).map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(['"\\q"', "012", "null", '"a', "1.5"]),
)
answer_rests = st.sampled_from(
    [
        '"confirmed": "yes", "scope": "system_wide", "impact": "service_unavailable", "workaround": "none"}',
        '"confirmed": "no", "scope": "one_user", "impact": "none", "workaround": "available"}',
        '"confirmed": "maybe"}',
        '"scope": "one_user", "ticket": "X"}',
        '"confirmed": "yes"',
    ]
)


@given(st.lists(st.tuples(ticket_tokens, st.sampled_from([", ", ",", " , "]), answer_rests), max_size=12))
def test_classify_lines_match_the_classifier(matrix, rows):
    """`triage classify` gives, line for line, what its classifier gives each record, and reports every bad one."""
    from triage.engine import classify as bulk

    text = "".join('{"ticket": ' + token + sep + rest + "\n" for token, sep, rest in rows)
    result = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", "2026-11-27T10:00:00Z"],
                           input=text.encode("utf-8", "surrogatepass"))
    c = bulk.Classifier(matrix, at=datetime(2026, 11, 27, 10, tzinfo=UTC), display=NEW_YORK)
    expected, bad = [], 0
    for line in text.encode("utf-8", "surrogatepass").splitlines():
        try:
            expected.append(safe_json(c.classify(orjson.loads(line)), indent=False))
        except (orjson.JSONDecodeError, TriageError):
            bad += 1
    assert result.stdout_bytes.splitlines() == expected
    assert result.exit_code == (1 if bad else 0)
