"""Every row of the exports an audit, review or capacity run is given: the mapping of each file chosen (named,
or recognised by its header, and the choice said), its rows read into tickets, and unreadable rows reported as
they come."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from triage.errors import InputError, UsageError
from triage.exports.mapping import ExportMapping, load_mapping, sniff
from triage.exports.readers import BATCH_ROWS, Facts, Reader
from triage.exports.table import Table, read_table
from triage.exports.tickets import BadRow
from triage.files import open_input
from triage.matrix.calendars import zone
from triage.matrix.loader import Matrix

JSON_ENDINGS = (".jsonl", ".ndjson", ".json")


@dataclass
class Source:
    """What was read from one export: its name, the mapping used and why."""

    path: str
    mapping: str
    why: str
    facts: Facts

    def to_json(self) -> dict[str, Any]:
        f = self.facts
        return {"file": self.path, "mapping": self.mapping, "why": self.why, "rows": f.rows,
                "repeated_references": {"references": f.repeated_references, "rows": f.repeated_rows,
                                        "examples": f.repeated_examples}}


@dataclass
class Sources:
    """The exports read so far, for the report to say what was done."""

    read: list[Source] = field(default_factory=list)


def choose_mapping(table: Table, kind: str, mapping: str | None) -> tuple[ExportMapping, str]:
    """The mapping named, or the one the file's columns show; and why it was chosen."""
    from triage.files import read_bytes

    if mapping:
        return load_mapping(mapping, read_bytes), "named with --mapping"
    name, columns = sniff(table.header) if kind == "csv" else _json_kind(table.header)
    why = f"recognised by the columns {', '.join(f'`{c}`' for c in columns)}" if columns else \
        "no other built-in mapping's columns are in the header"
    return load_mapping(name, read_bytes), why


def _json_kind(keys: list[str]) -> tuple[str, list[str]]:
    if {"ticket", "at", "event"} <= set(keys):
        return "generic-events", ["ticket", "at", "event"]
    return "generic", []


def read_export(path: str) -> bytes:
    """The whole export (a file, or stdin for `-`): a pipe can be read only once and never sought."""
    handle = open_input(path)
    try:
        return handle.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        import sys

        if handle is not sys.stdin.buffer:
            handle.close()


def export_items(files: list[str], matrix: Matrix, *, mapping: str | None, input_format: str | None,
                 timezone: str | None, warn: Callable[[str], None], limit_errors: int = 20,
                 severity: int | None = None, sources: Sources | None = None,
                 size: int = BATCH_ROWS) -> Iterator[Any]:
    """Tickets (in batches of `size`) and unreadable rows from every file; the first `limit_errors` unreadable
    rows are passed to `warn` as they come."""
    reported = 0
    for path in files:
        name = "<stdin>" if path == "-" else path
        source, items = read_part(name, read_export(path), matrix, mapping=mapping, kind=input_format,
                                  timezone=timezone, warn=warn, severity=severity, size=size)
        if sources is not None:
            sources.read.append(source)
        for item in items:
            if isinstance(item, BadRow):
                reported += 1
                if reported <= limit_errors:
                    warn(f"{name}:{item.line}: {item.reason}")
            yield item
    if reported > limit_errors:
        warn(f"... and {reported - limit_errors:,} more unreadable rows (listed in the JSON report)")


def read_part(name: str, data: bytes, matrix: Matrix, *, mapping: str | None, kind: str | None,
              timezone: str | None, warn: Callable[[str], None], severity: int | None = None,
              size: int = BATCH_ROWS) -> tuple[Source, Iterator[Any]]:
    """One export (or one part of one, with its header) given as bytes: what was read and by which mapping, and
    its tickets (in batches of `size`) and unreadable rows. The mapping is checked against the file here."""
    kind = kind or ("jsonl" if name.lower().endswith(JSON_ENDINGS) or _looks_json(data) else "csv")
    table = read_table(name, data, kind)
    del data
    chosen, why = choose_mapping(table, kind, mapping)
    try:
        tz = zone(timezone or chosen.timezone or matrix.model.matrix.timezone)
    except ValueError as exc:
        raise UsageError(f"--timezone: {exc}") from None
    reader = Reader(chosen, levels=set(matrix.levels), questions=matrix.kinds,
                    packet_fields=[f.id for f in matrix.model.handoff_packet], zone=tz, severity=severity, warn=warn)
    return Source(name, chosen.name, why, reader.facts), reader.read(table, size)


def _looks_json(data: bytes) -> bool:
    """Whether an export with no telling name (stdin, say) is JSON Lines: its first line is a JSON object."""
    first = data.lstrip()[:1]
    if first != b"{":
        return False
    try:
        return isinstance(orjson.loads(data.lstrip().split(b"\n", 1)[0]), dict)
    except orjson.JSONDecodeError:
        return False
