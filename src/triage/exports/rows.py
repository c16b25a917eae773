"""Rows of an export: CSV with a header, or JSON Lines, as text cells with their line numbers."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

import orjson

from triage.exports.tickets import BATCH, BadRow


# ---------------------------------------------------------------------------------------------- rows


def as_columns(rows: list[Any], header: list[str] | None) -> dict[str, Any]:
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
