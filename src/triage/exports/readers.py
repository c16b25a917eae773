"""Reading help-desk exports for audits, by a mapping kept as data (`data/mappings/*.yaml`, or a file of the
team's own): a table of text cells (`exports.table`) becomes Batches of tickets, column by column with polars.
An event log (one row per status change) is folded into one ticket per reference by a group-by.

A row that cannot be read is a BadRow with its line and the first reason its fields give, never fatal. A
mapping that does not fit the file (a mapped column the header lacks, activity values the file never holds)
is an error that says what the file has instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import numpy as np
import polars as pl

from triage.errors import InputError
from triage.exports.mapping import TIME_FIELDS, ExportMapping
from triage.exports.moments import MomentLists, Moments
from triage.exports.table import LINE, Table, table_of
from triage.exports.tickets import EMPTY, NO_PAUSES, BadRow, Batch, Ticket, each_ticket
from triage.exports.times import Times, read_times

BATCH_ROWS = 100_000  # tickets measured together: large enough for bulk work, small enough for flat memory


@dataclass
class Facts:
    """What reading one export showed beyond its tickets, for the report to say."""

    rows: int = 0
    repeated_references: int = 0  # ticket references found on more than one row of a one-row-per-ticket export
    repeated_rows: int = 0  # the rows those references are on
    repeated_examples: list[str] = field(default_factory=list)


class Reader:
    """Turns the table of one export into Batches of tickets (and BadRows), by a mapping."""

    def __init__(self, mapping: ExportMapping, *, levels: set[int], questions: Iterable[str],
                 packet_fields: Iterable[str], zone: tzinfo, severity: int | None = None,
                 warn: Callable[[str], None] = lambda message: None) -> None:
        self.mapping = mapping
        self.warn = warn
        self.levels = levels
        self.questions = tuple(questions)
        self.packet_fields = tuple(packet_fields)
        self.missing = [m.lower() for m in mapping.missing]
        self.tz = zone
        self.zone = str(zone)  # the IANA name polars reads times in
        self.severity = severity if severity is not None else mapping.default_severity
        self.words = {k.lower(): v for k, v in mapping.severity.items()}
        self.facts = Facts()

    # ------------------------------------------------------------------ the mapping against the file
    def check(self, table: Table) -> None:
        """Refuse a mapping that does not fit the file's header: name the column and what the header has."""
        m = self.mapping
        wanted = [(f, c) for f, cs in m.columns.items() for c in ([cs] if isinstance(cs, str) else cs)]
        wanted += [(f"offsets.{f}", o.minutes or o.hours or "") for f, o in m.offsets.items()]
        have = set(table.header)
        missing = [(f, c) for f, c in wanted if c not in have and f not in m.optional and f != "severity"]
        if table.header and missing:
            field, column = missing[0]
            close = difflib.get_close_matches(column, table.header, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise InputError(
                f"{table.name}: the mapping `{m.name}` reads `{field}` from the column `{column}`, which the header "
                f"does not have{hint}; the header's columns are: {', '.join(table.header)}")
        if self.severity is None and not self._has(table, "severity") and "severity" in m.columns:
            raise InputError(f"{table.name}: the header has no column `{m.columns['severity']}` for the severity; "
                             "give --severity N, or `default_severity` in the mapping")

    def _has(self, table: Table, name: str) -> bool:
        column = self.mapping.columns.get(name)
        if column is None:
            return False
        return any(table.has(c) for c in ([column] if isinstance(column, str) else column))

    # ------------------------------------------------------------------ cells
    def _clean(self, cells: pl.Expr) -> pl.Expr:
        """Cells stripped; empty ones and the mapping's missing-value words as None."""
        text = cells.str.strip_chars()
        return pl.when((text == "") | text.str.to_lowercase().is_in(self.missing)).then(None).otherwise(text)

    def _text(self, table: Table, name: str) -> pl.Expr | None:
        """A field's cleaned text (a list of columns joined with /); None when the export does not have it."""
        column = self.mapping.columns.get(name)
        if column is None or not self._has(table, name):
            return None
        if isinstance(column, list):
            parts = [pl.col(c).fill_null("") if table.has(c) else pl.lit("") for c in column]
            return self._clean(pl.concat_str(parts, separator="/"))
        return self._clean(pl.col(column))

    def _times(self, texts: pl.Series, name: str) -> Times:
        return read_times(texts, self.zone, name=name, pattern=self.mapping.formats.get(name),
                          day_first=self.mapping.day_first)

    def _levels(self, raw: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Severity levels of the raw cells, and for each row why it has none (None where it has one)."""
        table: dict[str, int | None] = {}
        for value in raw.drop_nulls().unique().to_list():
            table[value] = self._level(value)
        levels = raw.replace_strict(table, default=None, return_dtype=pl.Int64) if table else \
            pl.Series([None] * len(raw), dtype=pl.Int64)
        why = pl.select(pl.when(levels.is_null() & raw.is_not_null()).then(
            pl.format("severity `{}` is not one of the matrix's levels and the mapping does not name it", raw))
            .when(raw.is_null()).then(pl.lit("no severity"))).to_series()
        return levels, why

    def _level(self, raw: str) -> int | None:
        text = raw.strip().lower()
        if text in self.words:
            return self.words[text]
        digits = text.removeprefix("sev").removeprefix("p").strip()
        return int(digits) if digits.isascii() and digits.isdigit() and int(digits) in self.levels else None

    def tickets(self, rows: Table | list[tuple[int, dict[str, str | None]]]) -> Iterator[Ticket | BadRow]:
        """One Ticket (or BadRow) at a time, from a table or from rows given as (line, {column: text})."""
        return each_ticket(self.read(rows if isinstance(rows, Table) else table_of("<rows>", rows)))

    # ------------------------------------------------------------------ one row per ticket
    def read(self, table: Table, size: int = BATCH_ROWS) -> Iterator[Batch | BadRow]:
        """The tickets of the table in Batches of `size`, its unreadable rows as BadRows (in line order, first)."""
        self.check(table)
        if self.mapping.shape == "events":
            yield from self._events(table, size)
            return
        frame = table.frame
        n = len(frame)
        text = {name: self._text(table, name) for name in self.mapping.columns}
        for column in (*self.questions, *(f"packet_{f}" for f in self.packet_fields)):  # named as triage names them
            if table.has(column) and column not in text:
                text[column] = self._clean(pl.col(column))
        cells = frame.select([e.alias(k) for k, e in text.items() if e is not None] + [pl.col(LINE)])
        errors: list[pl.Series] = []
        refs = cells["ticket"] if "ticket" in cells.columns else pl.Series([None] * n, dtype=pl.String)
        self._repeated(table, refs)
        errors.append(pl.select(pl.when(refs.is_null()).then(pl.lit("no ticket reference"))).to_series())
        if "severity" in cells.columns:
            levels, why = self._levels(cells["severity"])
            if self.severity is not None:
                levels, why = levels.fill_null(self.severity), pl.Series([None] * n, dtype=pl.String)
        else:
            levels = pl.Series([self.severity or 0] * n, dtype=pl.Int64)
            why = pl.Series([None] * n, dtype=pl.String)
        errors.append(pl.select(pl.when(why == "no severity").then(why)).to_series())
        tz = self.tz
        times: dict[str, Moments | None] = {}
        for name in TIME_FIELDS:
            if name in cells.columns:
                read = self._times(cells[name], name)
                errors.append(read.errors)
                # a column with no time in it is not recorded by this export: nothing is owed against it
                times[name] = None if np.isnan(read.stamps).all() else _take(read, slice(None), tz)
            else:
                times[name] = None
        created = times["created_at"]
        no_time = (pl.Series(np.isnan(created.stamps)) if created is not None
                   else pl.Series([True] * n, dtype=pl.Boolean))
        errors.append(pl.select(pl.when(no_time).then(pl.lit("no creation time"))).to_series())
        for name, offset in self.mapping.offsets.items():
            times[name] = self._offset(frame, name, offset, times, errors)
        updates = self._updates(cells, errors)
        reassignments = self._reassignments(frame, cells, errors)
        table.frame = frame = frame.clear()  # the raw cells are not read again: their memory goes back now
        errors.append(pl.select(pl.when(why != "no severity").then(why)).to_series())
        spent = self._spent(cells, errors)
        error = pl.select(pl.coalesce(errors)).to_series() if errors else pl.Series([None] * n, dtype=pl.String)
        lines = cells[LINE]
        bad = [BadRow(line, reason) for line, reason in zip(lines.filter(error.is_not_null()).to_list(),
                                                             error.drop_nulls().to_list())]
        yield from sorted([*table.bad, *bad], key=lambda b: b.line)
        good = error.is_null().to_numpy()
        if not good.any():
            return
        cells = cells.drop(*(c for c in (*TIME_FIELDS, "updates", "severity", "reassignments", "time_spent")
                             if c in cells.columns))  # read into their own columns above: the texts go now
        if good.all():  # the usual case: no copy of the columns
            fields = {"ticket": refs, "level": levels, "line": lines, "times": times, "updates": updates,
                      "reassignments": reassignments, "spent": spent, "cells": cells}
        else:
            kept = np.flatnonzero(good)
            fields = {
                "ticket": refs.filter(good), "level": levels.filter(good), "line": lines.filter(good),
                "times": {k: None if v is None else v.take(kept) for k, v in times.items()},
                "updates": updates if updates is None else updates.take(kept),
                "reassignments": reassignments.filter(good), "spent": spent.filter(good) if spent is not None else None,
                "cells": cells.filter(good),
            }
        del frame, text, errors, error
        total = int(good.sum())
        for start in range(0, total, size):
            yield self._batch(fields, start, min(start + size, total))

    def _repeated(self, table: Table, refs: pl.Series) -> None:
        """Ticket references on more than one row: an event log read as one row per ticket, most likely."""
        self.facts.rows = len(refs)
        counts = refs.drop_nulls().value_counts(sort=True)
        repeated = counts.filter(pl.col("count") > 1)
        if not len(repeated):
            return
        f = self.facts
        f.repeated_references, f.repeated_rows = len(repeated), int(repeated["count"].sum())
        f.repeated_examples = repeated[refs.name].head(5).to_list()
        self.warn(f"{table.name}: {f.repeated_references:,} ticket references are on more than one row "
                  f"({f.repeated_rows:,} rows; for example `{f.repeated_examples[0]}`), each row audited as a "
                  f"ticket of its own; if the file has a row per event, read it with an event-log mapping "
                  f"(`shape: events`, see `triage mappings`)")

    def _batch(self, f: dict[str, Any], a: int, b: int) -> Batch:
        n = b - a
        cells: pl.DataFrame = f["cells"].slice(a, n)
        rows = np.arange(a, b)
        nothing: list[Any] = [None] * n
        times = {k: None if v is None else v.take(rows) for k, v in f["times"].items()}

        def moments(name: str) -> Any:
            return times.get(name) or nothing

        def texts(name: str) -> list[Any]:
            return cells[name].to_list() if name in cells.columns else nothing

        return Batch(
            f["ticket"].slice(a, n).to_list(), f["level"].slice(a, n).to_list(), f["line"].slice(a, n).to_list(),
            moments("created_at"), moments("acknowledged_at"), moments("assigned_at"), moments("escalated_at"),
            moments("resolved_at"),
            [[]] * n if f["updates"] is None else f["updates"].take(rows),  # the shared list is never written to
            f["reassignments"].slice(a, n).to_list(),
            self._tags(cells, n), texts("account"), texts("override_reason"), texts("exception"),
            texts("escalated_to"), self._answers(cells, n), self._packets(cells, n),
            nothing if f["spent"] is None else f["spent"].slice(a, n).to_list(), [NO_PAUSES] * n)

    def _offset(self, frame: pl.DataFrame, name: str, offset: Any, times: dict[str, Any],
                errors: list[pl.Series]) -> Moments | None:
        """A time written as minutes or hours after another (`offsets` in the mapping)."""
        base: Moments | None = times.get(offset.from_)
        column = offset.minutes or offset.hours or ""
        if base is None or column not in frame.columns:
            return times.get(name)
        raw = frame.select(self._clean(pl.col(column))).to_series()
        amount = raw.cast(pl.Float64, strict=False)
        bad = raw.is_not_null() & (amount.is_null() | amount.is_nan() | amount.is_infinite())
        errors.append(pl.select(pl.when(bad & pl.Series(~np.isnan(base.stamps))).then(
            pl.format("{}: `{}` is not a number", pl.lit(column), raw))).to_series())
        seconds = amount.fill_nan(None).to_numpy() * (60 if offset.minutes else 3600)
        micros = base.micros + np.nan_to_num(seconds * 1e6).astype(np.int64)
        stamps = base.stamps + seconds
        return Moments(micros, stamps, base.offsets, base.local, base.tz)

    def _updates(self, cells: pl.DataFrame, errors: list[pl.Series]) -> MomentLists | None:
        if "updates" not in cells.columns:
            return None
        separator = self.mapping.list_separator
        parts = (cells.select(pl.col("updates").str.split(separator).alias("u")).with_row_index("row")
                 .explode("u").with_columns(pl.col("u").str.strip_chars())
                 .filter(pl.col("u").is_not_null() & (pl.col("u") != "")))
        times = self._times(parts["u"], "updates")
        parts = parts.with_columns(micros=pl.Series(times.micros), stamps=pl.Series(times.stamps),
                                   offsets=pl.Series(times.offsets), local=pl.Series(times.local),
                                   error=times.errors)
        failed = parts.filter(pl.col("error").is_not_null()).group_by("row", maintain_order=True).agg()
        message = pl.Series([None] * len(cells), dtype=pl.String)
        if len(failed):
            whole = cells["updates"].gather(failed["row"])
            message = message.scatter(failed["row"], pl.select(
                pl.format("updates: `{}` holds something that is not a time", whole)).to_series())
        errors.append(message)
        parts = parts.sort("row", "micros", maintain_order=True)
        counts = np.bincount(parts["row"].to_numpy(), minlength=len(cells)).astype(np.int64)
        flat = Moments(parts["micros"].to_numpy(), parts["stamps"].to_numpy(), parts["offsets"].to_numpy(),
                       parts["local"].to_numpy(), self.tz)
        return MomentLists(flat, counts)

    def _reassignments(self, frame: pl.DataFrame, cells: pl.DataFrame, errors: list[pl.Series]) -> pl.Series:
        m = self.mapping
        n = len(cells)
        raw = cells["reassignments"] if "reassignments" in cells.columns else pl.Series([None] * n, dtype=pl.String)
        counted = raw.cast(pl.Float64, strict=False)
        bad = raw.is_not_null() & (counted.is_null() | counted.is_infinite() | counted.is_nan())
        if m.reassignments_from:  # a column counting the teams that held the ticket: one fewer reassignment
            column = m.columns.get(m.reassignments_from, m.reassignments_from)
            if isinstance(column, str) and column in frame.columns:
                stations = frame.select(self._clean(pl.col(column))).to_series().cast(pl.Float64, strict=False)
                stations = stations.fill_nan(None)
                counted = pl.select(pl.when(stations.is_not_null()).then((stations - 1).clip(0))
                                    .otherwise(counted)).to_series()
                bad = bad & stations.is_null()
        errors.append(pl.select(pl.when(bad).then(pl.format("reassignments: `{}` is not a number", raw))).to_series())
        return counted.fill_nan(0).fill_null(0).clip(-2**62, 2**62).cast(pl.Int64)

    def _spent(self, cells: pl.DataFrame, errors: list[pl.Series]) -> pl.Series | None:
        """Tracked time as seconds: `1:30` or `1:30:00` (hours and minutes), or a number in the mapping's unit."""
        if "time_spent" not in cells.columns:
            return None
        unit = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}[self.mapping.time_spent_unit]
        raw = cells["time_spent"]
        parts = raw.str.split(":")
        numbers = parts.list.eval(pl.element().cast(pl.Float64, strict=False))
        hours, minutes = numbers.list.get(0, null_on_oob=True), numbers.list.get(1, null_on_oob=True)
        seconds = numbers.list.get(2, null_on_oob=True).fill_null(0)
        clock = pl.when(parts.list.len().is_in([2, 3]) & (numbers.list.min() >= 0)).then(
            hours * 3600 + minutes * 60 + seconds)
        value = pl.select(pl.when(raw.str.contains(":")).then(clock)
                          .otherwise(raw.cast(pl.Float64, strict=False) * unit)).to_series()
        value = pl.select(pl.when((value >= 0) & (value < 1e9)).then(value)).to_series()
        errors.append(pl.select(pl.when(raw.is_not_null() & value.is_null())
                                .then(pl.format("time_spent: `{}` is not a duration", raw))).to_series())
        return value

    def _tags(self, cells: pl.DataFrame, n: int) -> list[list[str]]:
        if "tags" not in cells.columns:
            return [[]] * n  # the shared list is never written to
        separator = self.mapping.tag_separator or self.mapping.list_separator
        tags = cells.select(pl.col("tags").str.split(separator).list.eval(
            pl.element().str.strip_chars().filter(pl.element() != "")).fill_null([]))
        return tags.to_series().to_list()

    def _answers(self, cells: pl.DataFrame, n: int) -> list[dict[str, str]]:
        present = [q for q in self.questions if q in cells.columns]
        if not present:
            return [EMPTY] * n
        rows = cells.select(present).rows()
        return [{q: v for q, v in zip(present, row) if v is not None} or EMPTY for row in rows]

    def _packets(self, cells: pl.DataFrame, n: int) -> list[dict[str, bool]]:
        present = [f for f in self.packet_fields if f"packet_{f}" in cells.columns]
        if not present:
            return [EMPTY] * n
        rows = cells.select([f"packet_{f}" for f in present]).rows()
        return [{f: v is not None and v.lower() not in ("false", "no") for f, v in zip(present, row)} for row in rows]

    # ------------------------------------------------------------------ one row per event
    def _events(self, table: Table, size: int) -> Iterator[Batch | BadRow]:
        m = self.mapping
        frame = table.frame
        n = len(frame)
        self.facts.rows = n
        names = ("ticket", "at", "activity", "severity", "actor", "account", "tags")
        cells = frame.select([e.alias(k) for k in names if (e := self._text(table, k)) is not None] + [pl.col(LINE)])
        for name in names:
            if name not in cells.columns:
                cells = cells.with_columns(pl.lit(None, pl.String).alias(name))
        at = self._times(cells["at"], "at")
        if "severity" in m.columns and self._has(table, "severity"):
            levels, why = self._levels(cells["severity"])
            why = pl.select(pl.when(why != "no severity").then(why)).to_series()
        else:
            levels = pl.Series([None] * n, dtype=pl.Int64)
            why = pl.Series([None] * n, dtype=pl.String)
        refs = cells["ticket"]
        error = pl.select(pl.coalesce(
            pl.when(refs.is_null()).then(pl.lit("no ticket reference")),
            pl.when(cells["at"].is_null()).then(pl.lit("no time")),
            pl.when(at.errors.is_not_null()).then(pl.format("at: `{}` is not a time", cells["at"])), why)).to_series()
        self._check_activities(table, cells["activity"])
        events = cells.with_columns(level=levels, micros=at.micros, stamps=at.stamps, offsets=at.offsets,
                                    local=at.local, error=error)
        bad = [BadRow(line, reason) for line, reason in events.filter(pl.col("error").is_not_null())
               .select(LINE, "error").rows()]
        events = events.filter(pl.col("error").is_null())
        kinds = pl.DataFrame([(value.lower(), kind) for kind, values in m.activities.items() for value in values],
                             schema={"activity_key": pl.String, "kind": pl.String}, orient="row")
        events = events.with_columns(activity_key=pl.col("activity").str.to_lowercase())
        tickets = (events.group_by("ticket", maintain_order=True)
                   .agg(pl.col(LINE).first(), pl.col("level").drop_nulls().last(),
                        pl.col("account").drop_nulls().last(),
                        pl.col("tags").drop_nulls().str.split(m.tag_separator or m.list_separator).explode()
                        .alias("tag_list"))
                   .with_columns(pl.col("tag_list").list.eval(pl.element().str.strip_chars()
                                                              .filter(pl.element() != ""))))
        no_level = tickets.filter(pl.col("level").is_null())
        bad += [BadRow(line, f"ticket {ref}: no severity on any of its rows") for ref, line in
                no_level.select("ticket", LINE).rows()]
        yield from sorted([*table.bad, *bad], key=lambda b: b.line)
        tickets = tickets.filter(pl.col("level").is_not_null()).sort(LINE)
        if not len(tickets):
            return
        kinded = events.join(kinds, on="activity_key", how="inner").sort("micros", LINE, maintain_order=True)
        # created: the first `created` event, or else the ticket's first event of any kind
        created = kinded.filter(pl.col("kind") == "created").group_by("ticket").agg(
            pl.col("micros").first().alias("created"), pl.col("offsets").first().alias("created_offset"),
            pl.col("local").first().alias("created_local"))
        first = events.sort("micros", LINE, maintain_order=True).group_by("ticket").agg(
            pl.col("micros").first().alias("first"), pl.col("offsets").first().alias("first_offset"),
            pl.col("local").first().alias("first_local"))
        tickets = tickets.join(first, on="ticket", how="left").join(created, on="ticket", how="left").with_columns(
            created=pl.coalesce("created", "first"), created_offset=pl.coalesce("created_offset", "first_offset"),
            created_local=pl.coalesce("created_local", "first_local"))
        kinded = kinded.join(tickets.select("ticket", "created"), on="ticket", how="inner")
        for kind, pick in (("acknowledged", "first"), ("assigned", "first"), ("escalated", "first"),
                           ("resolved", "last")):
            chosen = kinded.filter(pl.col("kind") == kind)
            if kind == "escalated" and m.escalated_after_first:
                chosen = chosen.filter(pl.col("micros") > pl.col("created"))
            agg = getattr(pl.col("micros"), pick)(), getattr(pl.col("offsets"), pick)(), getattr(pl.col("local"),
                                                                                                 pick)()
            chosen = chosen.group_by("ticket").agg(agg[0].alias(kind), agg[1].alias(f"{kind}_offset"),
                                                   agg[2].alias(f"{kind}_local"))
            tickets = tickets.join(chosen, on="ticket", how="left")
        updates = kinded.filter(pl.col("kind") == "customer_update").select("ticket", "micros", "stamps", "offsets",
                                                                            "local")
        if m.reassignment == "events":
            moves = kinded.filter(pl.col("kind") == "reassigned").group_by("ticket").agg(pl.len().alias("moves"))
        else:  # a change of the acting group is a reassignment
            acting = events.filter(pl.col("actor").is_not_null()).sort("micros", LINE, maintain_order=True)
            moves = acting.group_by("ticket").agg((pl.col("actor") != pl.col("actor").shift(1)).sum().alias("moves"))
        tickets = tickets.join(moves, on="ticket", how="left").with_columns(pl.col("moves").fill_null(0))
        tickets = tickets.sort(LINE)
        # a kind of event no ticket has is not recorded by this export: nothing is owed against it
        recorded = {k for k in ("acknowledged", "assigned", "escalated", "resolved") if tickets[k].is_not_null().any()}
        yield from self._event_batches(tickets, updates, size, recorded | {"created"}, _pauses(kinded))

    def _check_activities(self, table: Table, activity: pl.Series) -> None:
        """Each kind of event the mapping names must be found in the file by one of its activity values: a kind
        none of whose values is there is a misspelling, or a mapping meant for another help desk. A value
        missing beside others that are there is only noted (one mapping may serve several exports)."""
        seen = {v.lower(): v for v in activity.drop_nulls().unique().sort().to_list()}
        if not seen:
            return
        listed = ", ".join(f"`{v}`" for v in list(seen.values())[:30]) + (" ..." if len(seen) > 30 else "")
        for kind, values in self.mapping.activities.items():
            absent = [v for v in values if v.lower() not in seen]
            if not absent:
                continue
            if kind in self.mapping.optional:
                continue
            if len(absent) < len(values):
                self.warn(f"{table.name}: note: no row holds the activit{'ies' if len(absent) > 1 else 'y'} "
                          f"{', '.join(f'`{v}`' for v in absent)} the mapping takes as `{kind}`")
                continue
            close = difflib.get_close_matches(absent[0].lower(), list(seen), n=1)
            hint = f" (did you mean `{seen[close[0]]}`?)" if close else ""
            raise InputError(f"{table.name}: the mapping `{self.mapping.name}` finds `{kind}` events by the "
                             f"activit{'ies' if len(values) > 1 else 'y'} {', '.join(f'`{v}`' for v in values)}, "
                             f"but no row holds {'any of them' if len(values) > 1 else 'it'}{hint}; the activities "
                             f"in the file are: {listed}")

    def _event_batches(self, tickets: pl.DataFrame, updates: pl.DataFrame, size: int,
                       recorded: set[str], pauses: dict[str, tuple[tuple[float, float], ...]]) -> Iterator[Batch]:
        tz = self.tz
        for start in range(0, len(tickets), size):
            part = tickets.slice(start, size)
            n = len(part)
            order = part.select("ticket").with_row_index("row")
            ups = updates.join(order, on="ticket", how="inner").sort("row", "micros", maintain_order=True)
            counts = np.bincount(ups["row"].to_numpy(), minlength=n).astype(np.int64)
            flat = Moments(ups["micros"].to_numpy(), ups["stamps"].to_numpy(), ups["offsets"].to_numpy(),
                           ups["local"].to_numpy(), tz)

            tags = part["tag_list"].to_list()

            def moments(kind: str, part: pl.DataFrame = part, n: int = n) -> Any:
                return _moments(part, kind, tz) if kind in recorded else [None] * n

            yield Batch(part["ticket"].to_list(), part["level"].to_list(), part[LINE].to_list(),
                        moments("created"), moments("acknowledged"), moments("assigned"), moments("escalated"),
                        moments("resolved"),
                        MomentLists(flat, counts), part["moves"].to_list(), tags, part["account"].to_list(),
                        [None] * n, [None] * n, [None] * n, [EMPTY] * n, [EMPTY] * n, [None] * n,
                        [pauses.get(ref, NO_PAUSES) for ref in part["ticket"].to_list()])


def _pauses(kinded: pl.DataFrame) -> dict[str, tuple[tuple[float, float], ...]]:
    """Each ticket's waits on the customer, from its `paused` and `resumed` events in time order: a pause runs
    to the next resume (a second pause before it changes nothing; a resume without a pause is ignored), and
    one never resumed runs on (its end is infinity)."""
    events = kinded.filter(pl.col("kind").is_in(["paused", "resumed"])).select("ticket", "kind", "stamps")
    out: dict[str, list[tuple[float, float]]] = {}
    since: dict[str, float] = {}
    for ref, kind, at in events.iter_rows():
        if kind == "paused":
            since.setdefault(ref, at)
        elif ref in since:
            out.setdefault(ref, []).append((since.pop(ref), at))
    for ref, at in since.items():
        out.setdefault(ref, []).append((at, float("inf")))
    return {ref: tuple(spans) for ref, spans in out.items()}


def _moments(tickets: pl.DataFrame, name: str, tz: tzinfo) -> Moments:
    """One time field of folded tickets (`name`, `name_offset`, `name_local`) as Moments."""
    micros = tickets[name].cast(pl.Int64)
    offsets, local = tickets[f"{name}_offset"].fill_null(0), tickets[f"{name}_local"].fill_null(False)
    return Moments(micros.fill_null(0).to_numpy(), micros.cast(pl.Float64).to_numpy() / 1e6, offsets.to_numpy(),
                   local.to_numpy(), tz)


def _take(times: Times, rows: Any, tz: Any) -> Moments:
    return Moments(times.micros[rows], times.stamps[rows], times.offsets[rows], times.local[rows], tz)
