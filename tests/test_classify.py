"""`triage classify`: streaming bulk classification, bad records, CSV, and equivalence with `ask`."""

from __future__ import annotations

import json

import jsonschema
import orjson
import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.engine.decide import parse_at, resolve_answers, triage

from .conftest import MATRIX_PATH, NEW_YORK
from .test_cli import CONTRACT
from .test_engine import every_combination

runner = CliRunner()
AT = "2026-11-27T10:00:00Z"
GOOD = {"confirmed": "yes", "scope": "system_wide", "impact": "service_unavailable", "workaround": "none",
        "security": "no", "deadline": "no"}


def classify(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, *args], input=input)


def lines(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def check_combinations(matrix, combos):
    result = classify("--full", input=lines(*combos))
    assert result.exit_code == 0, result.stderr[-500:]
    out = result.stdout.splitlines()
    assert len(out) == len(combos)
    at = parse_at(AT, NEW_YORK)
    for given, line in zip(combos, out):
        answers, skipped = resolve_answers(matrix, given)
        expected = triage(matrix, answers, skipped=skipped, at=at).to_json()
        assert orjson.loads(line) == expected, given
    short = classify(input=lines(*combos))  # without the texts
    assert short.exit_code == 0, short.stderr[-500:]
    for given, full, line in zip(combos, out, short.stdout.splitlines(), strict=True):
        expected = orjson.loads(full)
        for key in ("packet", "update"):
            expected.pop(key)
        assert orjson.loads(line) == expected, given
    for given in combos[::max(len(combos) // 8, 1)]:  # and through the `ask` command itself
        args = [x for k, v in given.items() for x in ("-a", f"{k}={','.join(v) if isinstance(v, list) else v}")]
        asked = runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", "--format", "json",
                                    "--at", AT, *args])
        assert json.loads(asked.stdout) == orjson.loads(out[combos.index(given)])


def test_a_sample_of_combinations_gives_what_ask_gives(matrix):
    check_combinations(matrix, list(every_combination(matrix))[::41])


@pytest.mark.slow
def test_every_combination_gives_what_ask_gives(matrix):
    check_combinations(matrix, list(every_combination(matrix)))


WINDOWS = """exceptions:
  - id: launch_week
    scope: {starts: 2026-11-30T00:00:00, ends: 2026-12-05T00:00:00}
    changes:
      targets: {sev3: {acknowledge: 1h}, sev2: {acknowledge: 15m}}
      update_every: {sev3: 2h}
      notify: [leadership]
    reason: Launch week
    approver: leadership
    expires: 2027-01-31
  - id: old_freeze
    scope: {starts: 2026-12-03T00:00:00}
    changes:
      notify: [leadership]
    reason: Code freeze
    approver: leadership
    expires: 2026-06-30
"""


def test_exceptions_by_time_window_apply_in_classify_as_in_ask(tmp_path, matrix):
    """An exception scoped by a time window alone covers every ticket triaged in it: classify must give
    what ask gives, its notes included, inside, at the edges of and outside the window (the second
    exception has expired: it is ignored with a note)."""
    path = tmp_path / "windows.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("exceptions: []\n", WINDOWS))
    combos = list(every_combination(matrix))[::1500]
    moments = ["2026-11-29T23:59:59-05:00", "2026-11-30T00:00:00-05:00", "2026-12-02T10:00:00Z",
               "2026-12-04T23:59:59-05:00", "2026-12-05T00:00:00-05:00", "2026-11-25T10:00:00Z"]
    records = [{**given, "ticket": f"T-{i}-{j}", "at": at} for i, given in enumerate(combos)
               for j, at in enumerate(moments)]
    result = runner.invoke(app, ["classify", "--matrix", str(path)], input=lines(*records))
    assert result.exit_code == 0, result.stderr[-500:]
    out = [orjson.loads(line) for line in result.stdout.splitlines()]
    changed = 0
    for record, got in zip(records, out):
        given = {k: v for k, v in record.items() if k not in ("ticket", "at")}
        args = [x for k, v in given.items() for x in ("-a", f"{k}={','.join(v) if isinstance(v, list) else v}")]
        asked = runner.invoke(app, ["ask", "--matrix", str(path), "--no-input", "--no-record", "--format", "json",
                                    "--at", record["at"], "--ticket", record["ticket"], *args])
        expected = json.loads(asked.stdout)
        for key in ("packet", "update"):
            expected.pop(key)
        assert got == expected, record
        changed += "exceptions" in got
    assert 0 < changed < len(out)


ACCOUNT = """exceptions:
  - id: launch_week
    scope: {account: Acme}
    changes: {notify: [leadership], update_every: {sev1: 15m}}
    reason: Launch week for the account
    approver: leadership
    expires: 2027-01-31
"""


def test_an_account_or_segment_is_never_served_a_result_kept_for_plain_answers(tmp_path):
    """The same answers at the same time, first without an account, then with one (the exception for it
    applies), with another and with a segment, then without again: each gets its own result."""
    path = tmp_path / "account.yaml"
    path.write_text(MATRIX_PATH.read_text().replace("exceptions: []\n", ACCOUNT))
    plain = {**GOOD, "ticket": "T"}
    records = [plain, {**plain, "account": "Acme"}, {**plain, "account": "Other"}, {**plain, "segment": "smb"},
               plain, {**plain, "account": "Acme"}]
    for at in ([], ["--at", AT]):
        result = runner.invoke(app, ["classify", "--matrix", str(path), *at], input=lines(*records) * 2)
        assert result.exit_code == 0, result.stderr
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(o.get("account"), o.get("segment"), [e["id"] for e in o.get("exceptions", [])]) for o in out] == [
            (None, None, []), ("Acme", None, ["launch_week"]), ("Other", None, []), (None, "smb", []),
            (None, None, []), ("Acme", None, ["launch_week"])] * 2


TRICKY_TIMES = [
    "2027-03-12T16:59:59-05:00", "2027-03-14T03:30:00", "2027-03-14T07:00:00Z", "2026-11-01T01:30:00-04:00",
    "2026-11-01T01:30:00-05:00", "2026-12-24T12:59:00-05:00", "2026-12-24T13:00:00-05:00", "2026-12-25T10:00:00",
    "2026-12-31T23:59:59+05:30", "2027-01-18T08:00:00-05:00", "2027-01-16T11:00:00Z", "2026-11-27T10:00:00Z",
]


@pytest.mark.parametrize("zone", [None, "Asia/Kolkata"])
def test_each_record_with_its_own_time_gives_what_ask_gives(matrix, zone):
    """Due times worked out per record (a new triage time is the common case in a pipeline) must be the
    engine's: across daylight-saving changes, holidays, half days, weekends and offsets, shown in the
    matrix's zone or --timezone."""
    from zoneinfo import ZoneInfo

    combos = list(every_combination(matrix))[::611]
    records = [{**given, "ticket": f"T-{i}", "at": TRICKY_TIMES[i % len(TRICKY_TIMES)]} for i,
               given in enumerate(combos)]
    records += [{**combos[0], "ticket": f"U-{j}", "at": at} for j, at in enumerate(TRICKY_TIMES)]
    args = ["classify", "--matrix", str(MATRIX_PATH)] + (["--timezone", zone] if zone else [])
    result = runner.invoke(app, args, input=lines(*records))
    assert result.exit_code == 0, result.stderr[-500:]
    display = ZoneInfo(zone) if zone else NEW_YORK
    for record, line in zip(records, result.stdout.splitlines(), strict=True):
        given = {k: v for k, v in record.items() if k not in ("ticket", "at")}
        answers, skipped = resolve_answers(matrix, given)
        expected = triage(matrix, answers, skipped=skipped, at=parse_at(record["at"], NEW_YORK), display=display,
                          ticket=record["ticket"], texts=False).to_json(parts=False)
        assert orjson.loads(line) == expected, record


def test_results_follow_the_contract_in_input_order():
    records = [{**GOOD, "ticket": f"T-{i}"} for i in range(5)]
    result = classify(input=lines(*records))
    assert result.exit_code == 0
    for i, line in enumerate(result.stdout.splitlines()):
        data = json.loads(line)
        jsonschema.validate(data, CONTRACT)
        assert data["ticket"] == f"T-{i}" and "packet" not in data and "update" not in data


def test_repeated_answers_hit_the_cache_and_give_the_same_result():
    records = [{**GOOD, "ticket": "A"}, {**GOOD, "ticket": "B"}, {**GOOD, "security": "yes", "ticket": "C"},
               {**GOOD, "ticket": "D", "areas": ["billing"]}, {**GOOD, "ticket": "E", "areas": "billing"}]
    out = [json.loads(line) for line in classify(input=lines(*records)).stdout.splitlines()]
    assert [o["ticket"] for o in out] == ["A", "B", "C", "D", "E"]
    assert {k: v for k, v in out[0].items() if k != "ticket"} == {k: v for k, v in out[1].items() if k != "ticket"}
    assert out[2]["severity"]["level"] == 1 and out[2]["reasons"][0]["rule"] == "suspected_security_event"
    assert out[3]["answers"] == out[4]["answers"]


def test_a_record_time_beats_the_default():
    result = classify(input=lines({**GOOD, "at": "2026-12-01T09:00:00-05:00"}, GOOD))
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["targets"]["acknowledge"]["due"] == "2026-12-01T09:15:00-05:00"
    assert second["targets"]["acknowledge"]["due"] == "2026-11-27T05:15:00-05:00"


BAD = [
    ("not json", "not JSON"),
    ('{"confirmed": "yes"', "not JSON"),
    ('["a", "list"]', "a record must be a JSON object"),
    (json.dumps({**GOOD, "colour": "red"}), "unknown question `colour`"),
    (json.dumps({**GOOD, "scope": "galaxy"}), "`scope` takes one of"),
    (json.dumps({"confirmed": "yes"}), "no answer for `scope`"),
    (json.dumps({**GOOD, "at": "yesterday"}), "not an ISO 8601 time"),
    (json.dumps({**GOOD, "areas": [["billing"]]}), "`areas` takes any of"),
]


def test_bad_records_are_reported_and_the_rest_classified(tmp_path):
    errors = tmp_path / "errors.jsonl"
    stream = lines(GOOD, *(text for text, _ in BAD), {**GOOD, "ticket": "last"})
    result = classify("--errors", str(errors), input=stream)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2 and json.loads(result.stdout.splitlines()[1])["ticket"] == "last"
    reported = result.stderr.splitlines()
    for number, (_, reason) in enumerate(BAD, start=2):
        assert any(line.startswith(f"triage: <stdin>:{number}: ") and reason in line for line in reported), reason
    assert reported[-1] == "triage: <stdin>: 2 classified, 8 bad records"
    logged = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [e["line"] for e in logged] == list(range(2, 10))
    assert logged[0] == {"line": 2, "error": logged[0]["error"], "record": "not json"}


def test_fail_fast_stops_at_the_first_bad_record():
    result = classify("--fail-fast", input=lines(GOOD, "oops", GOOD))
    assert result.exit_code == 1 and len(result.stdout.splitlines()) == 1
    assert "stopped at the first" in result.stderr


def test_not_utf8_line_is_named():
    result = classify(input=b'{"ticket": "caf\xe9"}\n' + lines(GOOD).encode())
    assert result.exit_code == 1 and "<stdin>:1: not UTF-8 text" in result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_csv_in_and_out_with_formulas_neutralised(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "ticket,confirmed,scope,impact,workaround,security,areas,deadline\n"
        '=HYPERLINK("http://x"),yes,one_user,none,,no,,\n'
        'T-2,yes,one_account,workflow_blocked,limited,no,"billing,payroll",no\n'
        "T-3,yes,one_user\n"
    )
    result = runner.invoke(app, ["classify", str(source), "--matrix", str(MATRIX_PATH), "--at", AT, "--format", "csv"])
    assert result.exit_code == 1 and "in.csv:4: has 3 cells, the header has 8" in result.stderr
    import csv

    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert rows[0]["ticket"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["severity"] == "4" and rows[0]["answer_areas"] == ""
    assert rows[1]["severity"] == "2" and rows[1]["routes"] == "engineering_oncall;finance"
    assert rows[1]["answer_areas"] == "billing;payroll"


def test_output_file_appears_whole(tmp_path):
    target = tmp_path / "out.jsonl"
    result = classify("--output", str(target), input=lines(GOOD, GOOD))
    assert result.exit_code == 0 and result.stdout == ""
    assert len(target.read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_missing_input_file():
    result = runner.invoke(app, ["classify", "nope.jsonl", "--matrix", str(MATRIX_PATH)])
    assert result.exit_code == 1 and "nope.jsonl: no such file" in result.stderr


def test_interrupted_run_leaves_no_output(tmp_path, monkeypatch):
    from triage.engine import classify as bulk

    calls = {"n": 0}
    original = bulk.Classifier.classify

    def interrupt_later(self, record):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, record)

    monkeypatch.setattr(bulk.Classifier, "classify", interrupt_later)
    target, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    result = classify("--output", str(target), "--errors", str(errors), input=lines(GOOD, GOOD, GOOD, GOOD))
    assert result.exit_code == 130
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_empty_input(fmt):
    result = classify("--input-format", fmt, input="")
    assert result.exit_code == 0 and "0 classified, 0 bad records" in result.stderr


def test_the_memo_stays_bounded(matrix):
    from triage.engine import classify as bulk

    c = bulk.Classifier(matrix, at=parse_at(AT, NEW_YORK), display=NEW_YORK, memo_size=10)
    for minute in range(50):
        c.classify({**GOOD, "at": f"2026-11-27T10:{minute:02d}:00Z", "strategic_account": minute % 2 == 0})
    assert len(c._memo) == 10


def test_a_result_from_the_memo_is_what_a_fresh_classifier_gives(matrix):
    """Spellings of the same answers, other tickets, times and accounts: whatever the memo already holds, each
    record gets the result a classifier that has seen nothing gives it."""
    from triage.engine import classify as bulk

    quiet = {**GOOD, "impact": "none"}  # workaround and deadline are not asked
    records = [
        {**GOOD, "ticket": "A", "areas": ["billing", "payroll"]}, {**GOOD, "ticket": 7, "areas": "payroll, billing"},
        {**GOOD, "confirmed": "Y", "security": False, "areas": ["payroll", "billing", "payroll"]},
        quiet, {**quiet, "workaround": "limited"}, {**quiet, "workaround": "none", "deadline": "yes", "ticket": "Q"},
        {**GOOD, "at": "2026-11-27T15:00:00Z"}, {**GOOD, "at": "2026-11-27T10:00:00-05:00", "ticket": "Z"},
        {**GOOD, "account": "acme"}, {**GOOD, "segment": "enterprise"}, GOOD,
    ]
    for full in (False, True):
        c = bulk.Classifier(matrix, at=parse_at(AT, NEW_YORK), display=NEW_YORK, full=full)
        for record in records + records:
            fresh = bulk.Classifier(matrix, at=parse_at(AT, NEW_YORK), display=NEW_YORK, full=full)
            assert c.classify(record) == fresh.classify(record), record


def test_a_later_ticket_key_wins_even_spelt_with_escapes():
    """In JSON the last of two equal keys wins, and `ticke\\u0074` is `ticket`: a line whose rest holds such a
    key is never matched by its rest, so the next line with that rest gets the later key's ticket too."""
    rest = json.dumps(GOOD)[1:-1]
    raw = [f'{{"ticket": "{t}", {rest}, "ticke\\u0074": "Z"}}' for t in ("A", "B")]
    raw += [f'{{"ticket": "{t}", {rest}, "ticket": "Y"}}' for t in ("C", "D")]
    result = classify(input="\n".join(raw) + "\n")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["ticket"] for line in result.stdout.splitlines()] == ["Z", "Z", "Y", "Y"]


def test_lines_seen_before_in_csv_output_and_full_results():
    rest = json.dumps(GOOD)[1:]
    data = "".join(f'{{"ticket": "T-{i}", {rest}\n' for i in range(5))
    plain = classify("--format", "csv", input=data)
    assert plain.exit_code == 0 and len(plain.stdout.splitlines()) == 6
    assert [line.split(",")[0] for line in plain.stdout.splitlines()[1:]] == [f"T-{i}" for i in range(5)]
    full = classify("--full", input=data)
    tickets = [json.loads(line)["ticket"] for line in full.stdout.splitlines()]
    assert tickets == [f"T-{i}" for i in range(5)]
    assert all(f"T-{i}" in line for i, line in enumerate(full.stdout.splitlines()))


def test_the_program_writes_everything_before_it_ends(tmp_path):
    """Every result, every bad record and every file is whole when the `triage` process ends."""
    import subprocess
    import sys

    records = [{**GOOD, "ticket": f"T-{n}", "vendor": n % 2 == 0} for n in range(3000)]
    text = lines(*records[:1500], "not json", *records[1500:], {"nope": 1})
    source = tmp_path / "in.jsonl"
    source.write_text(text)
    base = [sys.executable, "-m", "triage", "classify", str(source), "--matrix", str(MATRIX_PATH), "--at", AT]
    piped = subprocess.run(base, capture_output=True)
    assert piped.returncode == 1 and piped.stdout.count(b"\n") == 3000
    assert piped.stderr.decode().splitlines()[-1].endswith("3,000 classified, 2 bad records")
    out, errors = tmp_path / "out.csv", tmp_path / "errors.jsonl"
    written = subprocess.run([*base, "--format", "csv", "--output", str(out), "--errors", str(errors)],
                             capture_output=True)
    assert written.returncode == 1 and written.stdout == b""
    assert len(out.read_text().splitlines()) == 3001 and len(errors.read_text().splitlines()) == 2
    assert [json.loads(line)["line"] for line in errors.read_text().splitlines()] == [1501, 3002]


@pytest.mark.parametrize("number", [1, 0, 1.0, 0.0])
def test_a_number_for_yes_or_no_is_bad_even_after_true_and_false(number):
    """1 and 0 equal True and False as dictionary keys; a result kept for True must not make 1 valid."""
    seen = [{**GOOD, "ticket": "T-1", "vendor": True}, {**GOOD, "ticket": "T-2", "vendor": False}]
    result = classify(input=lines(*seen, {**GOOD, "ticket": "T-3", "vendor": number}))
    alone = classify(input=lines({**GOOD, "ticket": "T-3", "vendor": number}))
    assert result.exit_code == alone.exit_code == 1
    assert len(result.stdout.splitlines()) == 2 and alone.stdout == ""
    assert f"<stdin>:3: `vendor` takes yes or no, not {number}" in result.stderr
