"""Bulk classification: records of answers in (JSON Lines or CSV), one result per record out, streaming.

A record is a mapping of question id to answer, with an optional `ticket` and `at`. Results are the
contract object of one triage. The answer space is finite, so work is cached by answers: the
decision, routes and answer checks are computed once per distinct set of answers, and the whole
result once per distinct (answers, time).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import orjson

from .calendars import zone
from .engine import parse_at, resolve_answers, triage
from .errors import InputError, TriageError
from .matrix import Matrix

RESERVED = ("ticket", "at")
_CACHE_LIMIT = 200_000  # entries; cleared when full so memory stays flat on any input
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class BadRecord:
    line: int
    reason: str
    text: str


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class Classifier:
    """Classifies records against one matrix at a default triage time."""

    def __init__(self, matrix: Matrix, *, at: datetime, display: tzinfo, full: bool = False) -> None:
        self.matrix = matrix
        self.at = at
        self.display = display
        self.home = zone(matrix.model.matrix.timezone)
        self.full = full
        self.questions = tuple(matrix.kinds)
        self.allowed = frozenset(self.questions) | set(RESERVED)
        self._answers: dict[tuple[Any, ...], Any] = {}
        self._results: dict[tuple[Any, ...], bytes] = {}
        self._times: dict[str, datetime] = {}

    def _resolve(self, key: tuple[Any, ...], record: dict[str, Any]) -> Any:
        found = self._answers.get(key)
        if found is None:
            given = {q: record[q] for q in self.questions if q in record}
            try:
                found = resolve_answers(self.matrix, given)
            except TriageError as exc:
                found = exc
            if len(self._answers) >= _CACHE_LIMIT:
                self._answers.clear()
            self._answers[key] = found
        if isinstance(found, TriageError):
            raise found
        return found

    def _moment(self, raw: Any) -> datetime:
        if raw is None or raw == "":
            return self.at
        if not isinstance(raw, str):
            raise InputError(f"`at` must be an ISO 8601 time, not {raw!r}")
        moment = self._times.get(raw)
        if moment is None:
            moment = parse_at(raw, self.home)
            if len(self._times) >= _CACHE_LIMIT:
                self._times.clear()
            self._times[raw] = moment
        return moment

    def result(self, record: Any) -> bytes:
        """One record to its JSON result (bytes, no newline); raises TriageError for a bad record."""
        if not isinstance(record, dict):
            raise InputError("a record must be a JSON object of question id to answer")
        extra = record.keys() - self.allowed
        if extra:
            name = sorted(extra)[0]
            raise InputError(f"unknown question `{name}` (questions: {', '.join(self.questions)})")
        key = tuple(_freeze(record.get(q)) for q in self.questions) + (record.get("at"),)
        body = self._results.get(key)
        if body is None:
            answers, skipped = self._resolve(key[:-1], record)
            result = triage(self.matrix, answers, skipped=skipped, at=self._moment(key[-1]), display=self.display,
                            texts=self.full)
            data = result.to_json(parts=self.full)
            del data["schema_version"], data["ticket"]
            body = orjson.dumps(data)[1:]  # `"at":...}` without the opening brace
            if len(self._results) >= _CACHE_LIMIT:
                self._results.clear()
            self._results[key] = body
        ticket = record.get("ticket")
        if ticket is not None and not isinstance(ticket, str):
            ticket = str(ticket)
        return b'{"schema_version":1,"ticket":' + orjson.dumps(ticket) + b"," + body


# ---------------------------------------------------------------------------------------------- readers

def jsonl_records(lines: Iterable[bytes]) -> Iterator[tuple[int, Any, bytes]]:
    """(line number, parsed record or BadRecord reason, raw line) for each non-blank line."""
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            yield number, orjson.loads(raw), raw
        except orjson.JSONDecodeError as exc:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                yield number, BadRecord(number, f"not UTF-8 text (invalid byte at offset {bad.start} of the line)",
                                        raw), raw
                continue
            yield number, BadRecord(number, f"not JSON: {exc.msg} (column {exc.colno})", raw), raw


def csv_records(lines: Iterable[bytes], multi: frozenset[str]) -> Iterator[tuple[int, Any, bytes]]:
    """CSV with a header row. Empty cells are unanswered, except for multi-selects, where empty means none."""
    decoded = (line.decode("utf-8", "surrogateescape") for line in lines)
    reader = csv.reader(decoded)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    start = 2
    for row in reader:
        number, start = start, reader.line_num + 1
        text = ",".join(row).encode("utf-8", "surrogateescape")
        if not any(cell.strip() for cell in row):
            continue
        if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
            yield number, BadRecord(number, "not UTF-8 text", text), text
            continue
        if len(row) != len(header):
            yield number, BadRecord(number, f"has {len(row)} cells, the header has {len(header)}", text), text
            continue
        record = {}
        for name, cell in zip(header, row):
            cell = cell.strip()
            if cell or name in multi:
                record[name] = cell
        yield number, record, text


# ---------------------------------------------------------------------------------------------- CSV out

def csv_safe(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_header(matrix: Matrix) -> list[str]:
    targets = ["acknowledge", "assign_owner", "escalate", "next_update", "resolution"]
    return (["ticket", "at", "severity", "severity_id", "severity_label", "computed_severity", "override_reason",
             "reasons", "owner", "routes", "notify"] + [f"{t}_due" for t in targets]
            + [f"answer_{q}" for q in matrix.kinds])


def csv_row(result: bytes, matrix: Matrix) -> list[str]:
    data = orjson.loads(result)
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
           [r["role"] for r in data["routing"]["routes"]], data["routing"]["notify"]]
    row += [data["targets"][t]["due"] for t in ("acknowledge", "assign_owner", "escalate", "next_update", "resolution")]
    row += [data["answers"][q] for q in matrix.kinds]
    return [csv_safe(text(v)) for v in row]


def csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")
