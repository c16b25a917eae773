"""Rows of a CSV with a header, as text cells with their line numbers, streamed as they arrive: how `classify`
reads records of answers (an export for an audit is read whole, by polars: `exports.table`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from triage.exports.tickets import BadRow
from triage.files import OVERSIZE


def _texts(lines: Iterable[bytes], bad: set[int]) -> Iterator[str]:
    """Lines as text; a line that is not UTF-8 (or over the size limit) is noted in `bad` by its number."""
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
    """(line, {column: cell} or BadRow) for each data row; a row whose cell count differs from the header's, or
    that holds a line that cannot be read, is a BadRow. Blank rows are skipped."""
    bad_lines: set[int] = set()
    reader = csv.reader(_texts(lines, bad_lines))
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, BadRow(1, f"unreadable header ({exc})")
        return
    start = reader.line_num + 1
    while True:
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if not row or (len(row) == 1 and not row[0].strip() and len(header) != 1):
                    continue
                if len(row) != len(header):
                    yield line, BadRow(line, f"has {len(row)} cells, the header has {len(header)}")
                elif any(n in bad_lines for n in range(line, start)):
                    yield line, BadRow(line, "not UTF-8 text, or longer than the size limit for one row")
                else:
                    yield line, dict(zip(header, row))
        except csv.Error as exc:
            yield start, BadRow(start, f"unreadable CSV ({exc})")
            start = reader.line_num + 1
            continue
        return
