"""Bulk classification: records of answers in (JSON Lines or CSV), one result per record out, streaming.

A record is a mapping of question id to answer, with an optional `ticket` and `at`. Results are the
contract object of one triage. The answer space is finite, so work is cached by what it depends on:
what the answers alone decide (their JSON, the decision, the routes) once per distinct set of answers as
read (two spellings of the same answers share it), due times once per decision and time, and a whole JSON
Lines result once per distinct line (ticket aside) on the default time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from operator import itemgetter
from typing import Any

import orjson

from triage.matrix.calendars import zone
from triage.matrix.answers import parse_answer, to_json
from triage.matrix.conditions import matches
from triage.engine import decide as engine
from triage.engine.decide import decide, decision_table, parse_at, resolve_answers, triage
from triage.errors import InputError, TriageError
from triage.files import MAX_RECORD, OVERSIZE
from triage.matrix.loader import Matrix

RESERVED = ("ticket", "at", "account", "segment")
# Entries per cache; each empties itself when full, so memory stays flat on any input. What depends on the
# answers alone gets more room: a queue with answers spread over the whole answer space (61,440 raw
# combinations in the default matrix) brings tens of thousands of them, and such an entry is a few short
# fragments or references to fragments that many results share; due times, which depend on the time, do not.
_CACHE_LIMIT = 8192
_ANSWERS_LIMIT = 32768
_NUMBERS = frozenset((int, float))  # types that answer no question (see `split`)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEAD = b'{"schema_version":1,"ticket":'  # every result starts so; the ticket follows
BATCH_PIECES = 4096  # results leave in batches of this many pieces, joined once: one write per record is slow


@dataclass
class BadRecord:
    line: int
    reason: str
    text: str


class _Bounded(dict):  # type: ignore[type-arg]
    """A cache that empties itself when full, so memory stays flat on any input."""

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self.limit = limit or _CACHE_LIMIT

    def put(self, key: Any, value: Any) -> Any:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class _Slow(Exception):
    """The fast path met something unusual; the general path decides (and words any error)."""


class Classifier:
    """Classifies records against one matrix at a default triage time.

    Results are assembled from fragments of the contract object, each cached on what it depends on: the
    answers and skipped questions, the decision and the routes on the answers as read; the severity, reasons
    and steps on the decision and time; the targets on the level and time; the stamp on the time. Every
    fragment is built by the engine's own functions (the schedule, the routing, the JSON of each part) or
    cut from a result `triage()` computed, so a classified record is what `triage ask` gives for the same
    answers and time (tests compare both over every answer combination and many times).
    """

    def __init__(self, matrix: Matrix, *, at: datetime, display: tzinfo, full: bool = False) -> None:
        self.matrix = matrix
        self.at = at
        self.display = display
        self.home = zone(matrix.model.matrix.timezone)
        self.full = full
        self.questions = tuple(matrix.kinds)
        self.allowed = frozenset(self.questions) | set(RESERVED)
        self.inputs = matrix.severity_inputs
        self.route_inputs = tuple(q for q in self.questions if any(q in cond for _, cond in matrix.routes))
        # Per question: the test of when it is asked, its default and the default's JSON, and a cache of raw
        # answer -> (canonical value, the value's JSON as `"id":value`).
        self._plan = [(q, _test(matrix.applies.get(q)), matrix.defaults.get(q),
                       _fragment(q, matrix.defaults[q]) if q in matrix.defaults else None, {})
                      for q in self.questions]
        self._inputs_of, self._route_inputs_of = _getter(self.inputs), _getter(self.route_inputs)
        self._table = decision_table(matrix)
        self._multi = [i for i, q in enumerate(self.questions) if matrix.kinds[q][0] == "any_of"]
        self._times = _Bounded()
        self._skipped = _Bounded()  # skipped questions -> their JSON
        self._head = _Bounded()  # (decision, at) -> severity .. routing.steps
        self._routes = _Bounded()  # (level, answers routes read) -> routing.notify, routing.routes
        self._route_tests = [_test(condition) for _, condition in matrix.routes]
        self._called = _Bounded()  # (level, whether each route is called for) -> the same
        self._tail = _Bounded()  # (level, at) -> targets, calendar
        self._stamp = _Bounded()  # at -> "at", "matrix"
        self._parts = _Bounded(_ANSWERS_LIMIT)  # the answers as read -> what they alone decide (see `_answered`)
        self._windowed = _Bounded()  # at -> whether an exception by time window covers it
        self._prefix = _Bounded()  # decision -> severity .. routing.owner
        self._terms: dict[int, Any] = {}  # level -> its targets and cadence (one entry per severity)
        self._matrix = _dumps(engine.matrix_json(matrix))
        # Exceptions scoped by a time window alone cover every ticket triaged within it (and say so in the
        # result); those tickets take the general path, which applies them.
        self._windows = any(exc.scope.account is None and exc.scope.segment is None
                            for exc in matrix.model.exceptions)

    def _moment(self, raw: Any) -> datetime:
        if raw is None or raw == "":
            return self.at
        if not isinstance(raw, str):
            raise InputError(f"`at` must be an ISO 8601 time, not {raw!r}")
        moment = self._times.get(raw)
        if moment is None:
            moment = self._times.put(raw, parse_at(raw, self.home))
        return moment

    def _scheduled(self, decision: Any, at: datetime, head_key: Any, tail_key: Any) -> tuple[bytes, bytes]:
        """The parts of the result that depend on the triage time (due times of steps and targets), from the
        engine's own schedule; the rest of the head is the same for every time, so kept per decision. No
        exception applies on this path (see `split`), so the severity's own targets are the terms."""
        level = decision.level
        spec = self.matrix.severity(level).spec
        deal = self._terms.get(level)
        if deal is None:  # no exception is in force on this path: the same terms at every time
            deal = self._terms[level] = engine.terms(self.matrix, level, at=at)
        targets, steps = engine.schedule(spec.routing, deal, self.matrix.calendars[spec.targets.calendar], at)
        stamp = engine.stamper(self.display)
        prefix = self._prefix.get(decision)
        if prefix is None:
            severity = orjson.dumps(engine.severity_json(self.matrix, level))
            prefix = self._prefix.put(decision, b"".join([
                b'"severity":', severity, b',"computed_severity":', severity,
                b',"override":null,"reasons":', orjson.dumps(engine.reasons_json(self.matrix, decision.rules)),
                b',"routing":{"owner":', orjson.dumps(spec.routing.owner), b',"steps":']))
        head = self._head.put(head_key, prefix + orjson.dumps(engine.steps_json(steps, stamp)))
        tail = self._tail.put(tail_key, b"".join([
            b'"targets":', orjson.dumps(engine.targets_json(targets, stamp)),
            b',"calendar":', orjson.dumps(spec.targets.calendar), b"}"]))
        return head, tail

    def _in_window(self, at_raw: Any, at: datetime) -> bool:
        """Whether an exception covers a ticket with no account or segment triaged at `at` (the engine's rule)."""
        found = self._windowed.get(at_raw)
        if found is None:
            in_force, ignored = engine.exceptions_for(self.matrix, account=None, segment=None, at=at)
            found = self._windowed.put(at_raw, bool(in_force or ignored))
        return found

    def _canonical(self, record: dict[str, Any], values: list[Any]) -> tuple[dict[str, Any], list[bytes], list[str]]:
        """The answers exactly as `resolve_answers` makes them, each with its JSON, from per-value caches; and
        the questions skipped. _Slow when the general path must decide (and word any error)."""
        answers: dict[str, Any] = {}
        fragments: list[bytes] = []
        skipped: list[str] = []
        for (q, asked, default, default_json, table), raw in zip(self._plan, values):
            if asked is not None and not asked(answers):
                if default_json is None:
                    raise _Slow
                answers[q] = default
                fragments.append(default_json)
                skipped.append(q)
                continue
            if raw is None:
                if default_json is None or q in record:
                    raise _Slow
                answers[q] = default
                fragments.append(default_json)
                continue
            try:
                answers[q], fragment = table[raw]
            except KeyError:
                try:
                    value = parse_answer(q, *self.matrix.kinds[q], record[q])
                except (TriageError, TypeError):
                    raise _Slow from None
                fragment = _fragment(q, value)
                if len(table) < 4096:
                    table[raw] = value, fragment
                answers[q] = value
            except TypeError:  # unhashable, such as a list holding a list
                raise _Slow from None
            fragments.append(fragment)
        return answers, fragments, skipped

    def _general(self, record: dict[str, Any], at: datetime) -> tuple[bytes]:
        """The whole triage, for what the fast path does not cover; the result after its ticket."""
        given = {q: record[q] for q in self.questions if q in record}
        answers, skipped = resolve_answers(self.matrix, given)
        scope = {k: str(record[k]) for k in ("account", "segment") if record.get(k) is not None}
        data = triage(self.matrix, answers, skipped=skipped, at=at, display=self.display, texts=self.full,
                      **scope).to_json(parts=self.full)
        data["ticket"] = None  # the result's second key: the ticket is written apart
        whole = orjson.dumps(data)
        return (whole[len(HEAD) + 4:],)  # after `{"schema_version":1,"ticket":null`

    def result(self, record: Any) -> bytes:
        """One record to its JSON result (bytes, no newline); raises TriageError for a bad record."""
        ticket, body, _ = self.split(record)
        return b"".join((HEAD, ticket, *body))

    def split(self, record: Any) -> tuple[bytes, tuple[bytes, ...], bool]:
        """One record's result in two: its ticket as JSON, and the rest as fragments that many results share
        (written joined, kept unjoined: a cached result costs a few references, not a copy of its bytes);
        and whether the record has no time of its own, so that the same answers give the same rest."""
        if not isinstance(record, dict):  # a line that could not be read says why; anything else is no record
            raise InputError(record.reason if type(record) is BadRecord
                             else "a record must be a JSON object of question id to answer")
        if not self.allowed.issuperset(record):
            name = sorted(record.keys() - self.allowed)[0]
            raise InputError(f"unknown question `{name}` (questions: {', '.join(self.questions)})")
        ticket = record.get("ticket")
        if ticket is not None and type(ticket) is not str:
            ticket = str(ticket)
        ticket_json = _dumps(ticket)
        at_raw = record.get("at")
        untimed = at_raw is None or at_raw == ""
        at = self._moment(at_raw)
        if self.full or record.get("account") is not None or record.get("segment") is not None or \
                (self._windows and self._in_window(at_raw, at)):  # exceptions may apply: the whole triage
            return ticket_json, self._general(record, at), untimed
        values = list(map(record.get, self.questions))
        for i in self._multi:
            if type(values[i]) is list:
                values[i] = tuple(values[i])
        if not _NUMBERS.isdisjoint(map(type, values)):  # no question takes a number, but 1 would find the
            return ticket_json, self._general(record, at), untimed  # cached True: the general path reports it
        try:
            answers, fragments, skipped = self._canonical(record, values)
        except _Slow:
            return ticket_json, self._general(record, at), untimed  # words a bad record's error
        key = tuple(answers.values())
        part = self._parts.get(key)
        if part is None:
            part = self._parts.put(key, self._answered(answers, fragments, skipped))
        given, decision, routes, known = part
        if untimed and known is not None:
            return ticket_json, known, True
        head_key, tail_key = (decision, at_raw), (decision.level, at_raw)
        head, tail, stamp = self._head.get(head_key), self._tail.get(tail_key), self._stamp.get(at_raw)
        if head is None or tail is None:  # a new triage time: only the due times are worked out
            head, tail = self._scheduled(decision, at, head_key, tail_key)
        if stamp is None:
            stamp = self._stamp.put(at_raw, b"".join([
                b',"at":', orjson.dumps(engine.stamp(at, self.display)), b',"matrix":', self._matrix, b","]))
        body = (stamp, given, head, routes, tail)
        if untimed:
            part[3] = body
        return ticket_json, body, untimed

    def _answered(self, answers: dict[str, Any], fragments: list[bytes], skipped: list[str]) -> list[Any]:
        """What the answers alone decide: the answers and skipped questions as JSON, the decision, and the
        routing's notify list and routes as JSON (no exception applies on this path, see `split`); and a
        slot for the rest of the result on the default time, filled when first needed."""
        decision = self._table[self._inputs_of(answers)]
        if decision is None:
            decide(self.matrix, answers)  # raises the engine's own error
        routes_key = (decision.level, self._route_inputs_of(answers))
        routes = self._routes.get(routes_key)
        if routes is None:  # the routing depends on the level and which routes the answers call for
            called = (decision.level, tuple([test(answers) for test in self._route_tests]))
            routes = self._called.get(called)
            if routes is None:
                found, notify, _ = engine.route(self.matrix, self.matrix.severity(decision.level).spec.routing,
                                                answers)
                routes = self._called.put(called, b"".join([
                    b',"notify":', orjson.dumps(notify), b',"routes":', orjson.dumps(engine.routes_json(found)),
                    b"},"]))
            self._routes.put(routes_key, routes)
        skipped_key = tuple(skipped)
        skipped_json = self._skipped.get(skipped_key)
        if skipped_json is None:
            skipped_json = self._skipped.put(skipped_key, _dumps(skipped))
        given = b"".join([b'"answers":{', b",".join(fragments), b'},"skipped":', skipped_json, b","])
        return [given, decision, routes, None]


def _dumps(value: Any) -> bytes:
    """JSON of a value, as a bytes object of its own size: what orjson.dumps returns holds a buffer of about
    4 KB for as long as it lives, which costs memory and time when many are kept (in caches, in an output
    batch). Joined or concatenated results are new objects already."""
    return b"%b" % orjson.dumps(value)


def _fragment(qid: str, value: Any) -> bytes:
    """An answer as it appears in the result's `answers` object: `"id":value`."""
    return orjson.dumps(qid) + b":" + orjson.dumps(to_json(value))


def _test(condition: Any) -> Callable[[dict[str, Any]], bool] | None:
    """A question's `applies_when` as a test of the answers so far (None: always asked); the usual one-clause
    conditions are tested directly, the others by `matches`."""
    if condition is None:
        return None
    if len(condition) == 1:
        ((qid, expected),) = condition.items()
        if isinstance(expected, bool):
            return lambda answers: answers[qid] is expected
        if isinstance(expected, frozenset):
            return lambda answers: answers[qid] in expected
    return lambda answers: matches(condition, answers)


def _getter(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function giving the values of `keys` in a mapping, as a tuple (itemgetter gives a bare value for one key)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda mapping: tuple(mapping[k] for k in keys)


# ---------------------------------------------------------------------------------------------- readers

_TICKET_FIRST = re.compile(rb'^\s*\{\s*"ticket"\s*:\s*("(?:[^"\\\x00-\x1f]|\\.)*"|-?(?:0|[1-9][0-9]{0,17}))\s*,(.*)', re.S)
_PLAIN_TICKET_FIRST = re.compile(rb'\{"ticket": ?("[^"\\\x00-\x1f]*"), ?(.*)', re.S)  # the usual shape, matched faster


def classify_lines(classifier: Classifier, lines: Iterable[bytes], out: list[bytes], flush: Callable[[], None],
                   bad: Callable[[int, str, bytes], bool], *, rows: Callable[[bytes], bytes] | None = None) -> int:
    """Classify JSON Lines records, results in input order into `out` (in pieces, JSON Lines; or, with `rows`,
    one CSV line per result), calling `flush` when a batch is full. A bad record goes to `bad(line number,
    reason, raw line)`, which says whether to stop. Returns the number of records classified.

    Results are also found by the raw bytes of a line, ticket aside: help desks send the same answers over
    and over, and a line that repeats another one except for its `ticket` gives the same result except for
    the ticket. Only lines that begin with `{"ticket": ...,`, have no time of their own and whose rest holds
    no other `ticket` key (no backslash either, so no key spelt with escapes) are kept; a line that was a bad
    record never is, so it is parsed and reported every time."""
    plain, general = _PLAIN_TICKET_FIRST.match, _TICKET_FIRST.match
    results = _Bounded(_ANSWERS_LIMIT)  # rest of a line -> the result's fragments after the ticket, and a newline
    found, keep, split = results.get, results.put, classifier.split
    good = 0
    for number, raw in enumerate(lines, 1):
        m = plain(raw)
        if m is not None:  # a quoted ticket without escapes: written as it came, if ASCII
            token, rest = m.groups()
            ticket = token if token.isascii() else _ticket_json(token)
        else:
            m = general(raw)
            ticket, rest = (_ticket_json(m.group(1)), m.group(2)) if m is not None else (None, b"")
        body = found(rest) if ticket is not None else None
        if body is None:
            if not raw.strip():
                continue
            try:
                own, body, untimed = split(_parsed(number, raw)[1])
            except TriageError as exc:
                if bad(number, exc.message, raw):
                    break
                continue
            body += (b"\n",)
            if untimed and own == ticket and b'"ticket"' not in rest and b"\\" not in rest:
                keep(rest, body)
            ticket = own
        if rows is None:
            out += (HEAD, ticket)
            out += body
        else:
            out.append(rows(b"".join((HEAD, ticket, *body))))
        good += 1
        if len(out) >= BATCH_PIECES:
            flush()
    return good


def classify_records(classifier: Classifier, records: Iterable[tuple[int, Any, bytes]], out: list[bytes],
                     flush: Callable[[], None], bad: Callable[[int, str, bytes], bool], *,
                     rows: Callable[[bytes], bytes] | None = None) -> int:
    """As `classify_lines`, for records already read (CSV rows, or JSON Lines for results with their texts)."""
    good = 0
    for number, record, raw in records:
        try:
            ticket, body, _ = classifier.split(record)
        except TriageError as exc:
            if bad(number, exc.message, raw):
                break
            continue
        if rows is None:
            out += (HEAD, ticket, *body, b"\n")
        else:
            out.append(rows(b"".join((HEAD, ticket, *body))))
        good += 1
        if len(out) >= BATCH_PIECES:
            flush()
    return good


def _ticket_json(token: bytes) -> bytes | None:
    """The ticket as the result writes it (a JSON string), from its token in the line; None if the token is
    not valid JSON (the general path reports the line)."""
    if token[0] == 34 and token.isascii() and b"\\" not in token:  # a plain string: written as it came
        return token
    try:
        ticket = orjson.loads(token)
    except orjson.JSONDecodeError:
        return None
    return _dumps(ticket if type(ticket) is str else str(ticket))


def jsonl_records(lines: Iterable[bytes]) -> Iterator[tuple[int, Any, bytes]]:
    """(line number, parsed record or BadRecord, raw line) for each non-blank line."""
    for number, raw in enumerate(lines, 1):
        if raw.strip():
            yield _parsed(number, raw)


def _parsed(number: int, raw: bytes) -> tuple[int, Any, bytes]:
    """(line number, the record or a BadRecord, the raw line) for one non-blank line."""
    if raw == OVERSIZE:
        return number, BadRecord(number, f"the line is longer than the {MAX_RECORD:,}-byte limit for one record",
                                 b""), b""
    try:
        return number, orjson.loads(raw), raw
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return number, BadRecord(number, f"not UTF-8 text (invalid byte at offset {bad.start} of the line)",
                                     raw), raw
        return number, BadRecord(number, f"not JSON: {exc.msg} (column {exc.colno})", raw), raw


def csv_records(lines: Iterable[bytes], multi: frozenset[str]) -> Iterator[tuple[int, Any, bytes]]:
    """CSV with a header row. Empty cells are unanswered, except for multi-selects, where empty means none."""
    from triage.exports.readers import BadRow, csv_rows

    for number, row in csv_rows(lines):
        if isinstance(row, BadRow):
            yield number, BadRecord(number, row.reason, b""), b""
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
    from triage.sanitize import visible

    value = visible(value)
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
