"""Reading help-desk exports for audits: CSV or JSON Lines, one row per ticket or one row per event,
described by a mapping kept as data (`data/mappings/*.yaml`, or a file of the team's own).

Rows stream through; a row that cannot be read is counted and reported with its line, never fatal.
Event logs are folded into one record per ticket.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from importlib import resources
from itertools import chain
from operator import attrgetter
from typing import Any, Literal

import orjson
from pydantic import Field

from triage.errors import InputError, MatrixError
from triage.exports.moments import MomentLists, Moments, read_column, read_lists
from triage.matrix.model import Model

TICKET_FIELDS = ("ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
                 "updates", "reassignments", "tags", "account", "override_reason", "exception", "escalated_to",
                 "time_spent")
TIME_FIELDS = ("created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at")
EVENT_KINDS = ("created", "acknowledged", "assigned", "escalated", "customer_update", "reassigned", "resolved")
MISSING = ("", "?", "-", "n/a")  # "none" is a real answer (impact: none), so it is not one of them


class Offset(Model):
    from_: str = Field(alias="from", description="the field the offset counts from, e.g. created_at")
    minutes: str | None = Field(default=None, description="column holding minutes after `from`")
    hours: str | None = Field(default=None, description="column holding hours after `from`")


class ExportMapping(Model):
    name: str
    description: str = ""
    shape: Literal["tickets", "events"]
    columns: dict[str, str | list[str]] = Field(description="triage field -> export column (a list is joined with /)")
    offsets: dict[str, Offset] = Field(default_factory=dict,
                                       description="times given as minutes or hours after another")
    reassignments_from: str | None = Field(default=None,
                                           description="a column counting teams visited (reassignments + 1)")
    list_separator: str = ";"
    tag_separator: str | None = None
    severity: dict[str, int] = Field(default_factory=dict, description="the export's priority words -> severity level")
    day_first: bool = False
    timezone: str | None = None
    missing: list[str] = Field(default_factory=lambda: list(MISSING))
    activities: dict[str, list[str]] = Field(default_factory=dict, description="event kind -> activity values")
    escalated_after_first: bool = False
    reassignment: Literal["events", "actor_change"] = "events"
    time_spent_unit: Literal["seconds", "minutes", "hours"] = Field(
        default="minutes", description="unit of a plain number in the time_spent column (h:mm is read as such)")


@dataclass(slots=True)
class Ticket:
    """One ticket as the audit sees it; times are aware datetimes or None."""

    ticket: str
    level: int
    line: int
    created: datetime
    acknowledged: datetime | None = None
    assigned: datetime | None = None
    escalated: datetime | None = None
    resolved: datetime | None = None
    updates: list[datetime] = field(default_factory=list)
    reassignments: int = 0
    tags: list[str] = field(default_factory=list)
    account: str | None = None
    override_reason: str | None = None
    exception: str | None = None
    escalated_to: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    packet: dict[str, bool] = field(default_factory=dict)
    time_spent: float | None = None  # seconds of hands-on work the help desk tracked


_ZONE = attrgetter("tzinfo")
_NONE: dict[str, Any] = {}  # shared by tickets without answers or packet fields; never written to
BATCH = 4096  # rows read and measured together: large enough for bulk work, small enough for flat memory


@dataclass(slots=True)
class Batch:
    """Tickets of one stretch of an export, field by field: the form audits measure in bulk. Lists line up:
    index i of every list is the same ticket."""

    ticket: list[str]
    level: list[int]
    line: list[int]
    created: list[datetime] | Moments  # times read as whole columns are Moments: they index like the lists
    acknowledged: list[datetime | None] | Moments
    assigned: list[datetime | None] | Moments
    escalated: list[datetime | None] | Moments
    resolved: list[datetime | None] | Moments
    updates: list[list[datetime]] | MomentLists
    reassignments: list[int]
    tags: list[list[str]]
    account: list[str | None]
    override_reason: list[str | None]
    exception: list[str | None]
    escalated_to: list[str | None]
    answers: list[dict[str, str]]
    packet: list[dict[str, bool]]
    time_spent: list[float | None]

    def __len__(self) -> int:
        return len(self.ticket)

    def ticket_at(self, i: int) -> Ticket:
        return Ticket(*(getattr(self, name)[i] for name in _FIELDS))

    def tickets(self) -> Iterator[Ticket]:
        return map(self.ticket_at, range(len(self)))

    def without(self, rows: Iterable[int]) -> Batch:
        drop = set(rows)
        keep = [i for i in range(len(self)) if i not in drop]
        kept: dict[str, Any] = {name: values.take(keep) if isinstance(values := getattr(self, name),
                                                                      (Moments, MomentLists))
                                else [values[i] for i in keep] for name in _FIELDS}
        return Batch(**kept)

    @classmethod
    def of(cls, tickets: list[Ticket]) -> Batch:
        return cls(*([getattr(t, name) for t in tickets] for name in _FIELDS))


_FIELDS = tuple(Ticket.__dataclass_fields__)  # a Batch has the same fields, in the same order, as lists


def each_ticket(items: Iterable[Ticket | Batch | BadRow]) -> Iterator[Ticket | BadRow]:
    """Tickets one by one, out of batches."""
    for item in items:
        if isinstance(item, Batch):
            yield from item.tickets()
        else:
            yield item


def batched(items: Iterable[Ticket | Batch | BadRow], size: int = BATCH) -> Iterator[Batch | BadRow]:
    """Batches (and BadRows), out of tickets one by one: event logs fold into tickets, audits measure batches."""
    pending: list[Ticket] = []
    for item in items:
        if isinstance(item, Ticket):
            pending.append(item)
            if len(pending) >= size:
                yield Batch.of(pending)
                pending = []
        else:
            if pending and not isinstance(item, BadRow):  # whatever else comes keeps its place after them
                yield Batch.of(pending)
                pending = []
            yield item
    if pending:
        yield Batch.of(pending)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


def builtin_mappings() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("triage").joinpath("data/mappings").iterdir()
                  if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str, read: Any) -> ExportMapping:
    """A built-in mapping by name, or a mapping file; `read(path) -> bytes` reads files (the shell's reader)."""
    from triage.matrix.loader import parse_model

    if name_or_path in builtin_mappings():
        source = f"(built-in mapping {name_or_path})"
        data = resources.files("triage").joinpath(f"data/mappings/{name_or_path}.yaml").read_bytes()
    elif "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        source, data = name_or_path, read(name_or_path)
    else:
        raise InputError(f"unknown mapping `{name_or_path}` "
                         f"(built in: {', '.join(builtin_mappings())}; or a YAML file)")
    _, mapping, problems = parse_model(data, source, ExportMapping, "export mapping")
    if mapping is None:
        raise MatrixError(problems)
    return mapping


class TimeReader:
    """Timestamps in the usual shapes: ISO 8601 first (fast), then day-first or month-first free forms."""

    def __init__(self, default_zone: tzinfo, *, day_first: bool) -> None:
        self.zone = default_zone
        self.day_first = day_first

    def __call__(self, text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = self._loose(text)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.zone)

    def _loose(self, text: str) -> datetime:
        from dateutil import parser

        try:
            return parser.parse(text, dayfirst=self.day_first)
        except (ValueError, OverflowError):
            raise ValueError(f"`{text}` is not a time") from None


class Reader:
    """Turns rows of one export into Tickets (and BadRows), by a mapping."""

    def __init__(self, mapping: ExportMapping, *, levels: set[int], questions: Iterable[str],
                 packet_fields: Iterable[str], zone: tzinfo) -> None:
        self.mapping = mapping
        self.levels = levels
        self.questions = tuple(questions)
        self.packet_fields = tuple(packet_fields)
        self.missing = {m.lower() for m in mapping.missing}
        self.time = TimeReader(zone, day_first=mapping.day_first)
        self.severity = {k.lower(): v for k, v in mapping.severity.items()}
        self._columns = dict(mapping.columns)
        self._levels: dict[str, int] = {}
        # cells read straight as ISO 8601 only when no missing-value word could be read as a time itself
        self._iso_fast = "" in self.missing and not any(_is_time(w) for w in self.missing)
        self._fast = True  # columns read whole where they can be (times as arrays, clean text as it is)
        self._missing_cells = [f"\x00{w}\x00" for w in self.missing if w]  # words as whole cells, cells joined by NUL

    def level(self, raw: str) -> int:
        known = self._levels.get(raw)
        if known is not None:
            return known
        level = self._level(raw)
        self._levels[raw] = level
        return level

    def _level(self, raw: str) -> int:
        text = raw.strip().lower()
        if text in self.severity:
            return self.severity[text]
        digits = text.removeprefix("sev").removeprefix("p")
        if digits.isdigit() and int(digits) in self.levels:
            return int(digits)
        raise ValueError(f"severity `{raw}` is not one of the matrix's levels and the mapping does not name it")

    def value(self, row: dict[str, str], name: str) -> str | None:
        column = self._columns.get(name)
        if column is None:
            return None
        raw = "/".join(row.get(c, "") or "" for c in column) if isinstance(column, list) else row.get(column)
        if not raw:
            return None
        raw = raw.strip()
        return None if raw.lower() in self.missing else raw

    # ------------------------------------------------------------------ one row per ticket
    def tickets(self, rows: Iterable[tuple[int, Any]]) -> Iterator[Ticket | BadRow]:
        """One Ticket (or BadRow) per row, in the order of the export."""
        return each_ticket(self.batches(rows))

    def batches(self, rows: Iterable[tuple[int, Any]], size: int = BATCH) -> Iterator[Batch | BadRow]:
        """The rows read a stretch at a time, column by column: for each stretch, its unreadable rows in line
        order, then a Batch of the tickets read. Rows are (line, dict or BadRow) pairs, or a `CsvRows`."""
        if isinstance(rows, CsvRows):
            for lines, cells, bad in rows.chunks(size):
                yield from self._stretch(lines, cells, bad, rows.header)
            return
        pending: list[tuple[int, Any]] = []
        for item in rows:
            pending.append(item)
            if len(pending) >= size:
                yield from self._dicts(pending)
                pending = []
        if pending:
            yield from self._dicts(pending)

    def _dicts(self, items: list[tuple[int, Any]]) -> Iterator[Batch | BadRow]:
        bad = [row for _, row in items if isinstance(row, BadRow)]
        good = [(line, row) for line, row in items if not isinstance(row, BadRow)] if bad else items
        return self._stretch([line for line, _ in good], [row for _, row in good], bad, None)

    def _clean(self, cells: Any) -> list[str | None]:
        """Cells stripped, missing values as None; a column with few distinct values is cleaned per value."""
        missing = self.missing
        if self._clean_already(cells):
            return list(cells)
        distinct = set(cells)
        if len(distinct) * 4 < len(cells):
            table = {v: None if not v or (s := v.strip()).lower() in missing else s for v in distinct}
            return [table[v] for v in cells]
        return [None if not v or (s := v.strip()).lower() in missing else s for v in cells]

    def _clean_already(self, cells: Any) -> bool:
        """Whether no cell is empty, missing or has white space to strip (checked a column at a time)."""
        if not self._fast or not cells or "" in cells or list(map(str.strip, cells)) != list(cells):
            return False
        joined = "\x00" + "\x00".join(cells).lower() + "\x00"
        return not any(word in joined for word in self._missing_cells)

    def _cells(self, columns: dict[str, Any], name: str, n: int) -> Any:
        """The raw cells of a field (a list of columns joined with /); None when the export does not have it."""
        column = self._columns.get(name)
        if column is None:
            return None
        if isinstance(column, list):
            parts = [columns.get(c) or [""] * n for c in column]
            if all(c not in columns for c in column):
                return None
            return ["/".join(p or "" for p in joined) for joined in zip(*parts)]
        return columns.get(column)

    def _texts(self, columns: dict[str, Any], name: str, n: int) -> list[str | None] | None:
        cells = self._cells(columns, name, n)
        return None if cells is None else self._clean(cells)

    def _times(self, cells: Any, name: str, fail: Any) -> Moments | list[datetime | None]:
        if (
            self._fast and self._iso_fast and (column := read_column(cells)) is not None
        ):  # the usual case, as whole arrays
            return column
        parse, zone = datetime.fromisoformat, self.time.zone
        try:
            if not self._iso_fast:
                raise ValueError
            out = [parse(v) if v else None for v in cells]  # ISO 8601 or empty, some without a zone
            if None not in map(_ZONE, filter(None, out)):
                return out
        except (ValueError, TypeError):  # anything else: cell by cell, cleaned, with the looser reader
            out = []
            for i, s in enumerate(self._clean(cells)):
                try:
                    out.append(None if s is None else self.time(s))
                except ValueError:
                    fail(i, f"{name}: `{s}` is not a time")
                    out.append(None)
            return out
        return [d if d is None or d.tzinfo is not None else d.replace(tzinfo=zone) for d in out]

    def _updates(self, cells: Any, fail: Any) -> MomentLists | list[list[datetime]]:
        separator, parse = self.mapping.list_separator, datetime.fromisoformat
        if self._fast and self._iso_fast and (lists := read_lists(cells, separator)) is not None:
            return lists
        try:
            if not self._iso_fast:
                raise ValueError
            out = [list(map(parse, v.split(separator))) if v else [] for v in cells]
            if None in map(_ZONE, chain.from_iterable(out)):
                raise ValueError
        except (ValueError, TypeError):  # anything but ISO 8601 times with zones: cell by cell, cleaned
            out = []
            for i, text in enumerate(self._clean(cells)):
                try:
                    parts = [] if text is None else (u.strip() for u in text.split(separator))
                    out.append([self.time(u) for u in parts if u])
                except ValueError:
                    fail(i, f"updates: `{text}` holds something that is not a time")
                    out.append([])
        for moments in out:
            if len(moments) > 1:
                moments.sort()
        return out

    def _stretch(self, lines: list[int], rows: list[Any], bad: list[BadRow],
                 header: list[str] | None) -> Iterator[Batch | BadRow]:
        """One stretch of rows (cell lists under `header`, or dicts), field by field; a row's error is the first
        its fields give, in field order."""
        n = len(rows)
        columns = _columns(rows, header)
        errors: dict[int, str] = {}
        fail = errors.setdefault
        nothing: list[Any] = [None] * n
        refs = self._required(columns, "ticket", n, fail, "no ticket reference")
        raw_levels = self._required(columns, "severity", n, fail, "no severity")
        times = self._time_columns(columns, n, fail)
        created = times["created_at"]
        if None in created:
            missing = (
                created.missing() if isinstance(created, Moments) else [i for i, v in enumerate(created) if v is None]
            )
            for i in missing:
                fail(i, "no creation time")
        cells = self._cells(columns, "updates", n)
        updates = [[] for _ in range(n)] if cells is None else self._updates(cells, fail)
        reassignments = self._reassignments(columns, n, fail)
        levels = self._level_numbers(raw_levels, fail)
        batch = Batch(
            refs,
            levels,
            lines,
            created,
            times["acknowledged_at"],
            times["assigned_at"],
            times["escalated_at"],
            times["resolved_at"],
            updates,
            reassignments,
            self._tag_lists(columns, n),
            self._texts(columns, "account", n) or nothing,
            self._texts(columns, "override_reason", n) or nothing,
            self._texts(columns, "exception", n) or nothing,
            self._texts(columns, "escalated_to", n) or nothing,
            self._answers(columns, n),
            self._packets(columns, n),
            self._spent_column(columns, n, fail),
        )
        if errors:
            bad += [BadRow(lines[i], reason) for i, reason in errors.items()]
            batch = batch.without(errors)
        if bad:
            yield from sorted(bad, key=lambda b: b.line)
        if len(batch):
            yield batch

    def _required(self, columns: dict[str, Any], name: str, n: int, fail: Any, message: str) -> list[Any]:
        """A text field every row needs; rows without it fail with `message`."""
        texts = self._texts(columns, name, n) or [None] * n
        if None in texts:
            for i in (i for i, v in enumerate(texts) if v is None):
                fail(i, message)
        return texts

    def _time_columns(self, columns: dict[str, Any], n: int, fail: Any) -> dict[str, Any]:
        """Every time field, the ones written as an offset from another (in minutes or hours) included."""
        nothing: list[Any] = [None] * n
        times: dict[str, Any] = {}
        for name in TIME_FIELDS:
            cells = self._cells(columns, name, n)
            times[name] = nothing if cells is None else self._times(cells, name, fail)
        for name, offset in self.mapping.offsets.items():
            base = times.get(offset.from_, nothing)
            column = offset.minutes or offset.hours or ""
            unit = "minutes" if offset.minutes else "hours"
            moments = list(times.get(name, nothing))
            for i, raw in enumerate(columns.get(column) or nothing):
                raw = (raw or "").strip()
                if base[i] is None or raw.lower() in self.missing:
                    continue
                try:
                    amount = float(raw)
                    if not math.isfinite(amount):
                        raise ValueError
                    moments[i] = base[i] + timedelta(**{unit: amount})
                except (ValueError, OverflowError):
                    fail(i, f"{column}: `{raw}` is not a number")
            times[name] = moments
        return times

    def _level_numbers(self, raw_levels: list[Any], fail: Any) -> list[int]:
        levels = list(map(self._levels.get, raw_levels))
        if None in levels:
            for i, raw in enumerate(raw_levels):
                if levels[i] is None:
                    try:
                        levels[i] = 0 if raw is None else self.level(raw)
                    except ValueError as exc:
                        fail(i, str(exc))
                        levels[i] = 0
        return levels  # type: ignore[return-value]

    def _tag_lists(self, columns: dict[str, Any], n: int) -> list[list[str]]:
        separator = self.mapping.tag_separator or self.mapping.list_separator
        cells = self._cells(columns, "tags", n)
        if cells is None:
            return [[] for _ in range(n)]
        distinct = list(set(cells))  # few tag sets: each split once
        split = {
            v: [t.strip() for t in s.split(separator) if t.strip()] if s else []
            for v, s in zip(distinct, self._clean(distinct), strict=True)
        }
        return [split[v] for v in cells]

    def _spent_column(self, columns: dict[str, Any], n: int, fail: Any) -> list[float | None]:
        texts = self._texts(columns, "time_spent", n)
        if texts is None:
            return [None] * n
        spent: list[float | None] = []
        for i, text in enumerate(texts):
            try:
                spent.append(None if text is None else self._spent(text))
            except ValueError as exc:
                fail(i, str(exc))
                spent.append(None)
        return spent

    def _answers(self, columns: dict[str, Any], n: int) -> list[dict[str, str]]:
        answers: list[dict[str, str]] = [_NONE] * n
        for q in self.questions:
            if q in columns:
                if n and answers[0] is _NONE:
                    answers = [{} for _ in range(n)]
                for i, raw in enumerate(self._clean(columns[q])):
                    if raw is not None:
                        answers[i][q] = raw
        return answers

    def _packets(self, columns: dict[str, Any], n: int) -> list[dict[str, bool]]:
        packets: list[dict[str, bool]] = [_NONE] * n
        for f in self.packet_fields:
            if f"packet_{f}" in columns:
                if n and packets[0] is _NONE:
                    packets = [{} for _ in range(n)]
                for i, raw in enumerate(columns[f"packet_{f}"]):
                    if raw is not None:
                        packets[i][f] = (raw := raw.strip().lower()) not in self.missing and raw not in ("false", "no")
        return packets

    def _reassignments(self, columns: dict[str, Any], n: int, fail: Any) -> list[int]:
        m = self.mapping
        texts = self._texts(columns, "reassignments", n) or [None] * n
        if m.reassignments_from:  # a column counting the teams that held the ticket: one fewer reassignment
            column = m.columns.get(m.reassignments_from, m.reassignments_from)
            cells = columns.get(column) if isinstance(column, str) else None
            for i, stations in enumerate(self._clean(cells) if cells is not None else ()):
                if stations is not None:
                    with contextlib.suppress(ValueError):
                        texts[i] = str(max(_count(stations) - 1, 0))
        try:
            return [0 if s is None else int(s) for s in texts]
        except ValueError:
            out = []
            for i, s in enumerate(texts):
                try:
                    out.append(0 if s is None else _count(s))
                except ValueError:
                    fail(i, f"reassignments: `{s}` is not a number")
                    out.append(0)
            return out

    def _spent(self, raw: str) -> float:
        """Tracked time as seconds: `1:30` or `1:30:00` (hours and minutes), or a number in the mapping's unit."""
        unit = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}[self.mapping.time_spent_unit]
        try:
            if ":" in raw:
                parts = [float(p) for p in raw.split(":")]
                if len(parts) > 3 or any(p < 0 for p in parts):
                    raise ValueError
                value = sum(p * f for p, f in zip(parts, (3600.0, 60.0, 1.0)))
            else:
                value = float(raw) * unit
        except ValueError:
            raise ValueError(f"time_spent: `{raw}` is not a duration") from None
        if not 0 <= value < 1e9:
            raise ValueError(f"time_spent: `{raw}` is not a duration")
        return value

    # ------------------------------------------------------------------ one row per event
    def events(self, rows: Iterable[tuple[int, Any]]) -> Iterator[Ticket | BadRow]:
        m = self.mapping
        kinds: dict[str, list[str]] = {}
        for kind, values in m.activities.items():
            for value in values:
                kinds.setdefault(value.lower(), []).append(kind)
        folded: dict[str, dict[str, Any]] = {}
        for line, row in rows:
            if isinstance(row, BadRow):
                yield row
                continue
            try:
                ref = self.value(row, "ticket")
                if ref is None:
                    raise ValueError("no ticket reference")
                raw_at = self.value(row, "at")
                if raw_at is None:
                    raise ValueError("no time")
                try:
                    at = self.time(raw_at)
                except ValueError:
                    raise ValueError(f"at: `{raw_at}` is not a time") from None
                raw_level = self.value(row, "severity")
                level = self.level(raw_level) if raw_level is not None else None
            except ValueError as exc:
                yield BadRow(line, str(exc))
                continue
            activity = (self.value(row, "activity") or "").lower()
            state = folded.get(ref)
            if state is None:
                state = folded[ref] = {"line": line, "events": [], "level": None, "account": None, "tags": []}
            state["events"].append((at, kinds.get(activity, ()), self.value(row, "actor"), line))
            if level is not None:
                state["level"] = level  # the latest severity wins: a later one means it changed
            account = self.value(row, "account")
            if account:
                state["account"] = account
            tags = self.value(row, "tags")
            if tags:
                state["tags"] += [t for t in tags.split(m.tag_separator or m.list_separator) if t.strip()]
        for ref, state in folded.items():
            if state["level"] is None:
                yield BadRow(state["line"], f"ticket {ref}: no severity on any of its rows")
                continue
            yield self._fold(ref, state)

    def _fold(self, ref: str, state: dict[str, Any]) -> Ticket:
        events = sorted(state["events"], key=lambda e: e[0])
        created = next((at for at, kinds, _, _ in events if "created" in kinds), events[0][0])
        ticket = Ticket(ref, state["level"], state["line"], created, account=state["account"],
                        tags=[t.strip() for t in state["tags"]])
        previous_actor = None
        for at, kinds, actor, _ in events:
            for kind in kinds:
                if kind == "acknowledged" and ticket.acknowledged is None:
                    ticket.acknowledged = at
                elif kind == "assigned" and ticket.assigned is None:
                    ticket.assigned = at
                elif kind == "escalated" and ticket.escalated is None:
                    if not self.mapping.escalated_after_first or at > created:
                        ticket.escalated = at
                elif kind == "customer_update":
                    ticket.updates.append(at)
                elif kind == "reassigned" and self.mapping.reassignment == "events":
                    ticket.reassignments += 1
                elif kind == "resolved":
                    ticket.resolved = at
            if self.mapping.reassignment == "actor_change" and actor:
                if previous_actor is not None and actor != previous_actor:
                    ticket.reassignments += 1
                previous_actor = actor
        return ticket


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _count(text: str) -> int:
    """A count written as a number (`2`, `2.0`); ValueError for anything else, infinity included."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return int(value)


# ---------------------------------------------------------------------------------------------- rows


def _columns(rows: list[Any], header: list[str] | None) -> dict[str, Any]:
    """Rows (cell lists under `header`, or dicts) as columns."""
    if header is not None:
        return dict(zip(header, zip(*rows, strict=True), strict=False)) if rows else {}
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return {k: [row.get(k) for row in rows] for k in keys}


def _decoded(blocks: Iterable[list[bytes]], bad: set[int]) -> Iterator[Iterable[str]]:
    """Blocks of lines as text; a line that is not UTF-8 (or over the size limit) is noted in `bad` by its
    line number (and given as replacement text)."""
    from triage.files import OVERSIZE

    number = 0
    for block in blocks:
        texts: Iterable[str] | None = None
        if OVERSIZE not in block:
            with contextlib.suppress(UnicodeDecodeError):  # the usual case: the whole block at once, its lines
                texts = io.StringIO(b"".join(block).decode("utf-8"), newline="\n")  # split at \n alone as they were
        if texts is None:  # line by line, noting the lines that cannot be read
            texts = []
            for offset, line in enumerate(block, number + 1):
                if line == OVERSIZE:
                    bad.add(offset)
                    texts.append("\n")
                    continue
                try:
                    texts.append(line.decode("utf-8"))
                except UnicodeDecodeError:
                    bad.add(offset)
                    texts.append(line.decode("utf-8", "surrogateescape"))
        yield texts
        number += len(block)


class CsvRows:
    """(line, cells or BadRow) for each data row of a CSV with a header; `header` is set once iteration
    has begun. Rows whose cell count differs from the header's are BadRows, so every row lines up.
    Input is lines, or blocks of lines (`files.line_blocks`, the faster)."""

    def __init__(self, lines: Iterable[bytes] | None = None, *, blocks: Iterable[list[bytes]] | None = None) -> None:
        self.blocks = blocks if blocks is not None else ([line] for line in lines or ())
        self.header: list[str] = []

    def __iter__(self) -> Iterator[tuple[int, list[str] | BadRow]]:
        for lines, rows, bad in self.chunks():
            pairs: list[tuple[int, Any]] = list(zip(lines, rows))
            if bad:
                pairs = sorted(pairs + [(b.line, b) for b in bad], key=lambda pair: pair[0])
            yield from pairs

    def chunks(self, size: int = BATCH) -> Iterator[tuple[list[int], list[list[str]], list[BadRow]]]:
        """Rows `size` at a time: (line numbers, cell lists, unreadable rows)."""
        bad_lines: set[int] = set()
        reader = csv.reader(chain.from_iterable(_decoded(self.blocks, bad_lines)))
        try:
            self.header = header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        except StopIteration:
            return
        except csv.Error as exc:
            yield [], [], [BadRow(1, f"unreadable header ({exc})")]
            return
        lines: list[int] = []
        rows: list[list[str]] = []
        bad: list[BadRow] = []
        for line, row in self._rows(reader, len(header), bad_lines):
            if isinstance(row, BadRow):
                bad.append(row)
                continue
            lines.append(line)
            rows.append(row)
            if len(rows) >= size:
                yield lines, rows, bad
                lines, rows, bad = [], [], []
        if rows or bad:
            yield lines, rows, bad

    @staticmethod
    def _rows(reader: Any, width: int, bad_lines: set[int]) -> Iterator[tuple[int, list[str] | BadRow]]:
        """(line, cells or BadRow) of each row; blank rows are skipped."""
        start = reader.line_num + 1
        while True:
            try:
                for row in reader:
                    line, start = start, reader.line_num + 1
                    if len(row) != width or width == 1:
                        if not row or (len(row) == 1 and not row[0].strip()):
                            continue
                        if len(row) != width:
                            yield line, BadRow(line, f"has {len(row)} cells, the header has {width}")
                            continue
                    if bad_lines and any(n in bad_lines for n in range(line, start)):
                        yield line, BadRow(line, "not UTF-8 text, or longer than the size limit for one row")
                        continue
                    yield line, row
            except csv.Error as exc:
                yield start, BadRow(start, f"unreadable CSV ({exc})")
                start = reader.line_num + 1
                continue
            return


def csv_rows(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(line, row dict or BadRow) for each data row of a CSV with a header."""
    table = CsvRows(lines)
    for line, row in table:
        yield line, row if isinstance(row, BadRow) else dict(zip(table.header, row))


def jsonl_rows(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    from triage.files import MAX_RECORD, OVERSIZE

    for line, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        if raw == OVERSIZE:
            yield line, BadRow(line, f"the line is longer than the {MAX_RECORD:,}-byte limit for one row")
            continue
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield line, BadRow(line, f"not JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            yield line, BadRow(line, "not a JSON object")
            continue
        yield line, {k: _text(v) for k, v in data.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_text(v) for v in value)
    return str(value)


def sniff(header_line: bytes) -> str:
    """The built-in mapping a CSV header looks like, for `--mapping` left out."""
    names = {c.strip().lstrip("\ufeff") for c in next(csv.reader(io.StringIO(header_line.decode("utf-8", "replace"))),
                                                      [])}
    if {"ticket", "at", "event"} <= names:
        return "generic-events"
    if {"case:concept:name", "time:timestamp"} <= names:
        return "bpic2013"
    if {"Id", "Priority", "Created at"} <= names:
        return "zendesk"
    if {"Ticket ID", "Priority", "Created time"} <= names:
        return "freshdesk"
    if {"Issue key", "Priority", "Created"} <= names:
        return "jira-service-management"
    return "generic"
