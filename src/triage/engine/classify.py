"""Bulk classification: records of answers in (JSON Lines or CSV), one result per record out, streaming.

A record is a mapping of question id to answer, with an optional `ticket`, `at`, `account`, `segment` and
`plan`.
Each result is the contract object of one triage, built by `triage()` as `triage ask` builds it. Queues
repeat themselves, so one bounded memo keeps each result by the answers it was made from (as JSON, so that
`1`, `1.0` and `true` stay apart), its time and its scope; a record that finds its result there gets a copy
with its own ticket.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import orjson

from triage.engine.decide import TARGETS, assumed, parse_at, plan_as_answer, resolve_answers, triage
from triage.errors import InputError, TriageError
from triage.files import MAX_RECORD, OVERSIZE
from triage.matrix.calendars import zone
from triage.matrix.loader import Matrix
from triage.sanitize import safe_json, visible

RESERVED = ("ticket", "at", "account", "segment", "plan")
MEMO_SIZE = 32768  # results kept; a queue drawn over the whole answer space brings tens of thousands
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class BadRecord:
    """A line that could not be read as a record, and why."""

    line: int
    reason: str


Key = tuple[bytes, datetime, str | None, str | None, str | None, str | None]


class Classifier:
    """Classifies records against one matrix at a default triage time."""

    def __init__(self, matrix: Matrix, *, at: datetime, display: tzinfo, full: bool = False,
                 memo_size: int = MEMO_SIZE) -> None:
        self.matrix = matrix
        self.at = at
        self.display = display
        self.full = full
        self.home = zone(matrix.model.matrix.timezone)
        self.questions = tuple(matrix.kinds)
        self.allowed = frozenset(self.questions) | frozenset(RESERVED)
        self.memo_size = memo_size
        self._memo: OrderedDict[Key, dict[str, Any]] = OrderedDict()

    def classify(self, record: Any) -> dict[str, Any]:
        """One record to its JSON result; raises TriageError for a bad record."""
        if type(record) is not dict:
            raise InputError(record.reason if isinstance(record, BadRecord)
                             else "a record must be a JSON object of question id to answer")
        if not self.allowed.issuperset(record):
            name = sorted(record.keys() - self.allowed)[0]
            raise InputError(f"unknown question `{name}` (questions: {', '.join(self.questions)})")
        given = dict(record)  # the answers, once the rest is taken out
        ticket, at = given.pop("ticket", None), given.pop("at", None)
        account, segment = given.pop("account", None), given.pop("segment", None)
        plan = plan_as_answer(self.matrix, given, _text(given.pop("plan", None)), named="`plan`", error=InputError)
        if ticket is not None and type(ticket) is not str:
            ticket = str(ticket)
        if account is not None or segment is not None:
            account, segment = _text(account), _text(segment)
        at = self.at if at is None or at == "" else self._moment(at)
        # --full results name the ticket in their texts, so the ticket is part of what they depend on.
        try:  # the answers as JSON, which keeps apart what equal Python values hide (1 and true, 1 and 1.0)
            key: Key | None = (orjson.dumps(given), at, account, segment, plan, ticket if self.full else None)
        except TypeError:  # a value JSON cannot hold: no record read from a file has one
            key = None
        found = self._memo.get(key) if key is not None else None
        if found is None:
            answers, skipped = resolve_answers(self.matrix, given)
            found = triage(self.matrix, answers, skipped=skipped, at=at, display=self.display, texts=self.full,
                           ticket=ticket, account=account, segment=segment, plan=plan,
                           assumed=assumed(given, answers, skipped)).to_json(parts=self.full)
            if key is not None:
                if len(self._memo) >= self.memo_size:
                    self._memo.popitem(last=False)
                self._memo[key] = found
        return {**found, "ticket": ticket}

    def _moment(self, raw: Any) -> datetime:
        if not isinstance(raw, str):
            raise InputError(f"`at` must be an ISO 8601 time, not {raw!r}")
        return parse_at(raw, self.home)


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


# ---------------------------------------------------------------------------------------------- runs of records

@dataclass(frozen=True)
class Settings:
    """How a run classifies: the default triage time, the zone due times are written in, whether results
    carry the texts (`full`), and the output format (JSON Lines, or CSV rows with `csv`)."""

    at: datetime
    display: tzinfo
    full: bool = False
    csv: bool = False

    def classifier(self, matrix: Matrix) -> Classifier:
        return Classifier(matrix, at=self.at, display=self.display, full=self.full)


@dataclass
class Classified:
    """What a run of records gave: the output lines in input order, how many records were classified, the bad
    ones as (line, message, raw line), and whether the run stopped at the first bad one."""

    data: bytes
    good: int
    bad: list[tuple[int, str, bytes]]
    stopped: bool = False


def encoder(matrix: Matrix, csv_out: bool) -> Callable[[dict[str, Any]], bytes]:
    """One result as a line of the output: JSON Lines, or a CSV row."""
    if csv_out:
        return lambda result: csv_line(csv_row(result, matrix))
    return lambda result: safe_json(result, indent=False, line=True)


def classify_run(matrix: Matrix, settings: Settings, records: Iterable[tuple[int, Any, bytes]], *,
                 fail_fast: bool = False, classifier: Classifier | None = None) -> Classified:
    """Classify a run of (line, record, raw line): the one code path of `triage classify`, in one process or
    mapped over a cluster's workers run by run."""
    classifier = classifier or settings.classifier(matrix)
    encode = encoder(matrix, settings.csv)
    out: list[bytes] = []
    bad: list[tuple[int, str, bytes]] = []
    for number, record, raw in records:
        try:
            out.append(encode(classifier.classify(record)))
        except TriageError as exc:
            bad.append((number, exc.message, raw))
            if fail_fast:
                return Classified(b"".join(out), len(out), bad, stopped=True)
    return Classified(b"".join(out), len(out), bad)


# ---------------------------------------------------------------------------------------------- readers

def jsonl_records(lines: Iterable[bytes]) -> Iterator[tuple[int, Any, bytes]]:
    """(line number, parsed record or BadRecord, raw line) for each non-blank line."""
    for number, raw in enumerate(lines, 1):
        if raw.strip():
            yield number, _parsed(number, raw), raw


def _parsed(number: int, raw: bytes) -> Any:
    if raw == OVERSIZE:
        return BadRecord(number, f"the line is longer than the {MAX_RECORD:,}-byte limit for one record")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return BadRecord(number, f"not UTF-8 text (invalid byte at offset {bad.start} of the line)")
        return BadRecord(number, f"not JSON: {exc.msg} (column {exc.colno})")


def csv_records(lines: Iterable[bytes], multi: frozenset[str]) -> Iterator[tuple[int, Any, bytes]]:
    """CSV with a header row. Empty cells are unanswered, except for multi-selects, where empty means none."""
    from triage.exports.rows import csv_rows
    from triage.exports.tickets import BadRow

    for number, row in csv_rows(lines):
        if isinstance(row, BadRow):
            yield number, BadRecord(number, row.reason), b""
            continue
        text = ",".join(row.values()).encode("utf-8", "surrogateescape")
        record = {}
        for name, cell in row.items():
            cell = cell.strip()
            if cell or name in multi:
                record[name] = cell
        yield number, record, text


# ---------------------------------------------------------------------------------------------- CSV out

def csv_safe(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula; control and direction-changing
    characters are written as visible escapes."""
    value = visible(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_header(matrix: Matrix) -> list[str]:
    return (["ticket", "at", "severity", "severity_id", "severity_label", "computed_severity", "override_reason",
             "reasons", "owner", "routes", "notify"] + [f"{t}_due" for t in TARGETS]
            + [f"answer_{q}" for q in matrix.kinds])


def csv_row(data: dict[str, Any], matrix: Matrix) -> list[str]:
    """One result as the cells of `csv_header`."""
    override = data["override"]

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return ";".join(map(str, value))
        return str(value)

    row = [data["ticket"], data["at"], data["severity"]["level"], data["severity"]["id"], data["severity"]["label"],
           data["computed_severity"]["level"], override["reason"] if override else None,
           [r["rule"] for r in data["reasons"]], data["routing"]["owner"],
           list(dict.fromkeys(r["role"] for r in data["routing"]["routes"])), data["routing"]["notify"]]
    row += [data["targets"][t]["due"] for t in TARGETS]
    row += [data["answers"][q] for q in matrix.kinds]
    return [csv_safe(text(v)) for v in row]


def csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


def error_record(number: int, message: str, raw: bytes) -> bytes:
    """A bad record as a line of the `--errors` file."""
    return orjson.dumps({"line": number, "error": message,
                         "record": raw.decode("utf-8", "replace")[:2000].rstrip("\r\n")}) + b"\n"


