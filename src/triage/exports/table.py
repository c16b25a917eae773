"""An export file as a table of text cells, read by polars: CSV with a header (by polars' multi-threaded reader),
or JSON Lines (a line at a time, so a broken line is named and the rest still read).

Each row keeps the line it starts on. Rows that cannot be read (more cells than the header, bytes that are
not UTF-8, a line that is not a JSON object) are set aside as BadRows with their line; a row with fewer cells
than the header has the missing ones empty.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl

from triage.errors import InputError
from triage.exports.tickets import BadRow

LINE = "\x00line"  # the column holding each row's line number (no export column can be named so)
EXTRA = "\x00extra"  # cells past the header's


@dataclass
class Table:
    """The text cells of an export under its header (None for an empty cell), each row's line, and the rows
    that could not be read."""

    name: str
    header: list[str]
    frame: pl.DataFrame
    bad: list[BadRow] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.frame.columns


def read_table(name: str, data: bytes, kind: str) -> Table:
    """The table of a CSV (`kind` "csv") or JSON Lines ("jsonl") export's bytes."""
    return _csv(name, data) if kind == "csv" else _jsonl(name, data)


def _csv(name: str, data: bytes) -> Table:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = data.split(b"\n", 1)[0]
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(first.decode("utf-8"))), [])]
    except UnicodeDecodeError:
        raise InputError(f"{name}:1: the header is not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{name}:1: the header cannot be read ({exc})") from None
    if not header:
        return Table(name, [], pl.DataFrame({LINE: []}, schema={LINE: pl.Int64}))
    bad_lines = _not_utf8(data)
    names = [f"\x00{i}" for i in range(len(header))] + [EXTRA]
    try:
        frame = pl.read_csv(data, has_header=False, skip_rows=1, schema=dict.fromkeys(names, pl.String),
                            missing_columns="insert", extra_columns="ignore", truncate_ragged_lines=True,
                            infer_schema=False, encoding="utf8-lossy", raise_if_empty=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{name}: cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    if b'"' in data:  # quoted cells may hold line breaks: a row starts after all the lines of the rows before it
        breaks = pl.sum_horizontal(pl.col(names).str.count_matches("\n", literal=True).fill_null(0))
    else:
        breaks = pl.lit(0, pl.Int64)
    frame = frame.with_columns(breaks.alias("\x00breaks"))
    frame = frame.with_columns(((pl.col("\x00breaks") + 1).cum_sum() - pl.col("\x00breaks") + 1).alias(LINE))
    blank = pl.all_horizontal(pl.col(names).is_null() | (pl.col(names).str.strip_chars() == ""))
    blanks = frame.select(blank).to_series()
    if blanks.any():  # filtering copies every column: only when there is something to leave out
        frame = frame.filter(~blanks)
    bad: list[BadRow] = []
    ragged = frame.filter(pl.col(EXTRA).is_not_null() & (pl.col(EXTRA) != ""))
    if len(ragged):
        bad += [BadRow(line, f"has more cells than the header's {len(header)}") for line in ragged[LINE].to_list()]
    if bad_lines:
        spans = frame.select(LINE, "\x00breaks").rows()
        bad += [BadRow(line, "not UTF-8 text") for line, extra in spans
                if any(n in bad_lines for n in range(line, line + extra + 1))]
    if bad:
        frame = frame.filter(~pl.col(LINE).is_in([b.line for b in bad]))
    frame = frame.drop(EXTRA, "\x00breaks").rename(_unique_names(header, names))
    return Table(name, header, frame, sorted(bad, key=lambda b: b.line))


def _unique_names(header: list[str], names: list[str]) -> dict[str, str]:
    """The header's names for the columns; a repeated name keeps its first column (the others stay unnamed)."""
    out: dict[str, str] = {}
    for raw, column in zip(header, names):
        if raw not in out.values() and raw:
            out[column] = raw
    return out


def _not_utf8(data: bytes) -> set[int]:
    """The numbers of the lines that are not UTF-8 text (none, in the usual case: checked whole first)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return set()
    bad = set()
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
    return bad


def _jsonl(name: str, data: bytes) -> Table:
    columns: dict[str, list[str | None]] = {}
    lines: list[int] = []
    bad: list[BadRow] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad.append(BadRow(number, f"not JSON ({exc.msg})" if "UTF-8" not in exc.msg else "not UTF-8 text"))
            continue
        if not isinstance(record, dict):
            bad.append(BadRow(number, "not a JSON object"))
            continue
        count = len(lines)
        for key, value in record.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * count
            column.append(_text(value))
        lines.append(number)
        for column in columns.values():
            if len(column) == count:
                column.append(None)
    frame = pl.DataFrame({LINE: lines, **columns}, schema={LINE: pl.Int64, **dict.fromkeys(columns, pl.String)})
    return Table(name, list(columns), frame, bad)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(t for t in map(_text, value) if t is not None)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value)


def table_of(name: str, rows: list[tuple[int, dict[str, str | None]]]) -> Table:
    """A table of rows given as (line, {column: text}), for reading records that are already in memory."""
    header = list(dict.fromkeys(k for _, row in rows for k in row))
    columns = {k: [row.get(k) for _, row in rows] for k in header}
    frame = pl.DataFrame({LINE: [line for line, _ in rows], **columns},
                         schema={LINE: pl.Int64, **dict.fromkeys(header, pl.String)})
    return Table(name, header, frame)
