"""Reading help-desk exports for audits: CSV or JSON Lines, one row per ticket or one row per event,
described by a mapping kept as data (`data/mappings/*.yaml`, or a file of the team's own).

Rows stream through; a row that cannot be read is counted and reported with its line, never fatal.
Event logs are folded into one record per ticket.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from importlib import resources
from typing import Any, Literal

import orjson
from pydantic import Field

from .errors import InputError, MatrixError
from .model import Model

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
    offsets: dict[str, Offset] = Field(default_factory=dict, description="times given as minutes or hours after another")
    reassignments_from: str | None = Field(default=None, description="a column counting teams visited (reassignments + 1)")
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


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


def builtin_mappings() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("triage").joinpath("data/mappings").iterdir()
                  if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str, read: Any) -> ExportMapping:
    """A built-in mapping by name, or a mapping file; `read(path) -> bytes` reads files (the shell's reader)."""
    from .matrix import parse_model

    if name_or_path in builtin_mappings():
        source = f"(built-in mapping {name_or_path})"
        data = resources.files("triage").joinpath(f"data/mappings/{name_or_path}.yaml").read_bytes()
    elif "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        source, data = name_or_path, read(name_or_path)
    else:
        raise InputError(f"unknown mapping `{name_or_path}` (built in: {', '.join(builtin_mappings())}; or a YAML file)")
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
        raw = "/".join(row.get(c, "") or "" for c in column) if type(column) is list else row.get(column)
        if not raw:
            return None
        raw = raw.strip()
        return None if raw.lower() in self.missing else raw

    # ------------------------------------------------------------------ one row per ticket
    def tickets(self, rows: Iterable[tuple[int, Any]]) -> Iterator[Ticket | BadRow]:
        for line, row in rows:
            if isinstance(row, BadRow):
                yield row
                continue
            try:
                yield self._ticket(line, row)
            except ValueError as exc:
                yield BadRow(line, str(exc))

    def _ticket(self, line: int, row: dict[str, str]) -> Ticket:
        m = self.mapping
        ref = self.value(row, "ticket")
        if ref is None:
            raise ValueError("no ticket reference")
        raw_level = self.value(row, "severity")
        if raw_level is None:
            raise ValueError("no severity")
        times: dict[str, datetime | None] = {}
        for name in TIME_FIELDS:
            raw = self.value(row, name)
            try:
                times[name] = None if raw is None else self.time(raw)
            except ValueError:
                raise ValueError(f"{name}: `{raw}` is not a time") from None
        for name, offset in m.offsets.items():
            base = times.get(offset.from_)
            column = offset.minutes or offset.hours
            raw = row.get(column or "", "").strip()
            if base is None or raw.lower() in self.missing:
                continue
            try:
                amount = float(raw)
            except ValueError:
                raise ValueError(f"{column}: `{raw}` is not a number") from None
            times[name] = base + (timedelta(minutes=amount) if offset.minutes else timedelta(hours=amount))
        created = times["created_at"]
        if created is None:
            raise ValueError("no creation time")
        updates_raw = self.value(row, "updates")
        try:
            updates = sorted(self.time(u.strip()) for u in updates_raw.split(m.list_separator) if u.strip()) \
                if updates_raw else []
        except ValueError:
            raise ValueError(f"updates: `{updates_raw}` holds something that is not a time") from None
        reassign_raw = self.value(row, "reassignments")
        reassignments = 0
        if m.reassignments_from:
            column = m.columns.get(m.reassignments_from, m.reassignments_from)
            stations = (row.get(column) or "").strip() if isinstance(column, str) else ""
            if stations and stations.lower() not in self.missing:
                reassign_raw = str(max(int(float(stations)) - 1, 0)) if _number(stations) else reassign_raw
        if reassign_raw is not None:
            if not _number(reassign_raw):
                raise ValueError(f"reassignments: `{reassign_raw}` is not a number")
            reassignments = int(float(reassign_raw))
        tags_raw = self.value(row, "tags")
        separator = m.tag_separator or m.list_separator
        ticket = Ticket(ref, self.level(raw_level), line, created, times["acknowledged_at"], times["assigned_at"],
                        times["escalated_at"], times["resolved_at"], updates, reassignments,
                        [t.strip() for t in tags_raw.split(separator) if t.strip()] if tags_raw else [],
                        self.value(row, "account"), self.value(row, "override_reason"), self.value(row, "exception"),
                        self.value(row, "escalated_to"))
        spent = self.value(row, "time_spent")
        if spent is not None:
            ticket.time_spent = self._spent(spent)
        for q in self.questions:
            raw = row.get(q)
            if raw is not None and raw.strip().lower() not in self.missing:
                ticket.answers[q] = raw.strip()
        for f in self.packet_fields:
            raw = row.get(f"packet_{f}")
            if raw is not None:
                ticket.packet[f] = raw.strip().lower() not in self.missing and raw.strip().lower() not in ("false", "no")
        return ticket

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


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- rows

def _decoded(lines: Iterable[bytes], bad: set[int]) -> Iterator[str]:
    """Lines as text; a line that is not UTF-8 (or over the size limit) is noted in `bad` by line number."""
    from .files import OVERSIZE

    for number, line in enumerate(lines, 1):
        if line == OVERSIZE:
            bad.add(number)
            yield "\n"
            continue
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
            yield line.decode("utf-8", "surrogateescape")


def csv_rows(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(line, row dict or BadRow) for each data row of a CSV with a header."""
    bad: set[int] = set()
    reader = csv.reader(_decoded(lines, bad))
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, BadRow(1, f"unreadable header ({exc})")
        return
    width = len(header)
    start = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, BadRow(start, f"unreadable CSV ({exc})")
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            yield line, BadRow(line, f"has {len(row)} cells, the header has {width}")
            continue
        if bad and any(n in bad for n in range(line, start)):
            yield line, BadRow(line, "not UTF-8 text, or longer than the size limit for one row")
            continue
        yield line, dict(zip(header, row))


def jsonl_rows(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    from .files import MAX_RECORD, OVERSIZE

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
    names = {c.strip().lstrip("\ufeff") for c in next(csv.reader(io.StringIO(header_line.decode("utf-8", "replace"))), [])}
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
