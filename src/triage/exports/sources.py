"""Every row of the exports an audit, review or capacity run is given: the mapping of each file chosen (named,
or recognised by its header), its rows read into tickets, and unreadable rows reported as they come."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from triage.errors import UsageError
from triage.exports.mapping import ExportMapping, load_mapping, sniff
from triage.exports.readers import Reader
from triage.exports.rows import CsvRows, csv_rows, jsonl_rows
from triage.exports.tickets import BadRow
from triage.files import capped_lines, line_blocks, read_bytes, reading
from triage.matrix.calendars import zone
from triage.matrix.loader import Matrix

JSON_ENDINGS = (".jsonl", ".ndjson", ".json")


def choose_mapping(first_line: bytes, kind: str, mapping: str | None) -> ExportMapping:
    """The mapping named, or the one the first line of the file shows."""
    if mapping:
        return load_mapping(mapping, read_bytes)
    if kind == "csv":
        return load_mapping(sniff(first_line), read_bytes)
    try:
        keys = set(orjson.loads(first_line)) if first_line.strip() else set()
    except (orjson.JSONDecodeError, TypeError):
        keys = set()
    return load_mapping("generic-events" if {"ticket", "at", "event"} <= keys else "generic", read_bytes)


def export_items(files: list[str], matrix: Matrix, *, mapping: str | None, input_format: str | None,
                 timezone: str | None, warn: Callable[[str], None], limit_errors: int = 20) -> Iterator[Any]:
    """Tickets (in batches, for ticket exports) and unreadable rows from every file; the first `limit_errors`
    unreadable rows are passed to `warn` as they come."""
    reported = 0

    def rows_of(path: str) -> Iterator[Any]:
        nonlocal reported
        with reading(path) as handle:
            kind = input_format or ("jsonl" if path.lower().endswith(JSON_ENDINGS) else "csv")
            first = handle.readline()
            handle.seek(0)
            chosen = choose_mapping(first, kind, mapping)
            try:
                tz = zone(timezone or chosen.timezone or matrix.model.matrix.timezone)
            except ValueError as exc:
                raise UsageError(f"--timezone: {exc}") from None
            reader = Reader(chosen, levels=set(matrix.levels), questions=matrix.kinds,
                            packet_fields=[f.id for f in matrix.model.handoff_packet], zone=tz)
            items: Iterator[Any]
            if chosen.shape == "events":
                lines = capped_lines(handle)
                items = reader.events(csv_rows(lines) if kind == "csv" else jsonl_rows(lines))
            elif kind == "csv":
                items = reader.batches(CsvRows(blocks=line_blocks(handle)))
            else:
                items = reader.batches(jsonl_rows(capped_lines(handle)))
            for item in items:
                if isinstance(item, BadRow):
                    reported += 1
                    if reported <= limit_errors:
                        warn(f"{path}:{item.line}: {item.reason}")
                yield item

    for path in files:
        yield from rows_of(path)
    if reported > limit_errors:
        warn(f"... and {reported - limit_errors:,} more unreadable rows (listed in the report)")
