"""Reading help-desk exports for audits: CSV or JSON Lines, one row per ticket or one row per event,
described by a mapping kept as data (`data/mappings/*.yaml`, or a file of the team's own).

Rows stream through; a row that cannot be read is counted and reported with its line, never fatal.
Event logs are folded into one record per ticket.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, tzinfo
from itertools import chain
from typing import Any


from triage.exports.moments import MomentLists, Moments, read_column, read_lists
from triage.exports.mapping import TIME_FIELDS, ExportMapping
from triage.exports.rows import CsvRows, as_columns
from triage.exports.tickets import BATCH, EMPTY, ZONE_OF, BadRow, Batch, Ticket, each_ticket


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
        self.as_columns = dict(mapping.columns)
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
        column = self.as_columns.get(name)
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
        column = self.as_columns.get(name)
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
            if None not in map(ZONE_OF, filter(None, out)):
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
            if None in map(ZONE_OF, chain.from_iterable(out)):
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
        columns = as_columns(rows, header)
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
        answers: list[dict[str, str]] = [EMPTY] * n
        for q in self.questions:
            if q in columns:
                if n and answers[0] is EMPTY:
                    answers = [{} for _ in range(n)]
                for i, raw in enumerate(self._clean(columns[q])):
                    if raw is not None:
                        answers[i][q] = raw
        return answers

    def _packets(self, columns: dict[str, Any], n: int) -> list[dict[str, bool]]:
        packets: list[dict[str, bool]] = [EMPTY] * n
        for f in self.packet_fields:
            if f"packet_{f}" in columns:
                if n and packets[0] is EMPTY:
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
