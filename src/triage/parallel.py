"""A large CSV export read in parts by several processes at once.

The file is cut at line starts into parts of about equal size. This process reads the first part itself;
a forked worker reads each other part, measures it with the same function and hands back what it made
(pickled through a pipe). The results come back in file order, so what is merged is what one pass over the
file would have made. A cut can fall inside a quoted cell that spans lines: the part before the cut notices
(its reader is not between rows at its end), the parts after it are dropped, and the rest of the file is
read here from the row that was cut.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import TriageError
from .exports import BadRow, CsvRows
from .files import MAX_RECORD, count_lines, line_blocks, part_starts

PART_BYTES = 16 << 20  # a file is split only into parts at least this large
MAX_JOBS = 8
FIRST_SHARE = 1.1  # this process's part against a worker's: a worker also packs its result to hand it back


def default_jobs() -> int:
    """One process for each CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Workers are forked, which is safe and cheap on Linux; elsewhere the file is read in this process."""
    return sys.platform.startswith("linux")


@dataclass
class Portion:
    """What a worker made of its part: the measured result, the part's unreadable rows (the first `shown`
    of them, for the error stream) and, when the part ended inside a row, where to read on from."""

    result: Any
    errors: list[BadRow] = field(default_factory=list)
    error_count: int = 0
    resume: tuple[int, int] | None = None  # (line, byte offset) of the row that the cut went through


class Forked:
    """`fn(*args)` run in a forked child process; `result()` gives its return value or raises its error."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self.process = context.Process(target=_child, args=(send, fn, args), daemon=True)
        self.process.start()
        send.close()

    def result(self) -> Any:
        try:
            kind, value = self._receive.recv()
        except (EOFError, OSError):
            self.process.join()
            raise TriageError(f"a worker process stopped without finishing its part "
                              f"(exit code {self.process.exitcode})") from None
        finally:
            self._receive.close()
        self.process.join()
        if kind == "error":
            raise value
        return value

    def cancel(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self._receive.close()


def _child(send: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends the workers
    try:
        outcome: tuple[str, Any] = ("ok", fn(*args))
    except TriageError as exc:
        outcome = ("error", exc)
    except BaseException as exc:  # noqa: BLE001 - reported by the parent as one line, never a traceback here
        outcome = ("error", TriageError(f"a worker process failed: {type(exc).__name__}: {exc}"))
    try:
        send.send(outcome)
    except Exception:  # noqa: BLE001 - a result that cannot be sent, or the parent is gone
        try:
            send.send(("error", TriageError("a worker process could not hand back its part")))
        except Exception:  # noqa: BLE001
            pass
    finally:
        send.close()


def csv_header(handle: Any) -> tuple[list[str], int] | None:
    """The header of a CSV file and the byte offset after it, when it is one line; None otherwise."""
    import csv

    handle.seek(0)
    first = handle.readline(MAX_RECORD)
    if not first.endswith(b"\n") or first.count(b'"') % 2:
        return None
    try:
        cells = next(csv.reader([first.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    return [h.strip().lstrip("\ufeff") for h in cells], len(first)


def read_parts(path: str, handle: Any, batches: Callable[[CsvRows], Iterator[Any]],
               measure: Callable[[Iterator[Any]], Any], *, jobs: int, shown: int) -> Iterator[Any] | None:
    """The items of a CSV file (a seekable `handle` on `path`) read in up to `jobs` parts: this process's own
    part item by item (from `batches`), then each worker's Portion, whose result is `measure` of its
    part's items; None when the file is better read in one pass (too small, one job, or no one-line header)."""
    if jobs < 2 or not can_fork():
        return None
    try:
        size = os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None
    parts = min(jobs, MAX_JOBS, size // PART_BYTES)
    if parts < 2:
        return None
    found = csv_header(handle)
    if found is None:
        return None
    header, header_end = found
    starts = part_starts(handle, parts, skip=header_end, first=FIRST_SHARE)
    if len(starts) < 2:
        handle.seek(0)
        return None
    return _parts(path, handle, batches, measure, header, starts, shown)


def _parts(path: str, handle: Any, batches: Callable[[CsvRows], Iterator[Any]], measure: Callable[[Iterator[Any]], Any],
           header: list[str], starts: list[int], shown: int) -> Iterator[Any]:
    ends: list[int | None] = [*starts[1:], None]
    workers = [Forked(_part, path, start, end, header, batches, measure, shown)
               for start, end in zip(starts[1:], ends[1:])]
    try:
        handle.seek(0)
        rows = CsvRows(blocks=line_blocks(handle, end=starts[1]), part=True)
        yield from batches(rows)
        resume = None
        if rows.unfinished is not None:
            resume = rows.unfinished, count_lines(handle, 0, starts[1], stop=rows.unfinished - 1)[1]
        for worker in workers:
            if resume is not None:
                break
            portion = worker.result()
            yield portion
            resume = portion.resume
        if resume is not None:  # a cut inside a row: the rest of the file in one pass from that row
            for worker in workers:
                worker.cancel()
            line, offset = resume
            handle.seek(offset)
            yield from batches(CsvRows(blocks=line_blocks(handle), header=header, first_line=line))
    finally:
        for worker in workers:
            worker.cancel()


def _part(path: str, start: int, end: int | None, header: list[str], batches: Callable[[CsvRows], Iterator[Any]],
          measure: Callable[[Iterator[Any]], Any], shown: int) -> Portion:
    """In a worker: one part of the file, from `start` to `end` (byte offsets at line starts)."""
    from .files import open_input

    with open_input(path) as handle:
        first_line = count_lines(handle, 0, start)[0] + 1
        handle.seek(start)
        rows = CsvRows(blocks=line_blocks(handle, end=end), header=header, first_line=first_line,
                       part=end is not None)
        portion = Portion(None)

        def items() -> Iterator[Any]:
            for item in batches(rows):
                if isinstance(item, BadRow):
                    portion.error_count += 1
                    if len(portion.errors) < shown:
                        portion.errors.append(item)
                yield item

        portion.result = measure(items())
        if rows.unfinished is not None and end is not None:
            line = rows.unfinished
            portion.resume = line, count_lines(handle, start, end, stop=line - first_line)[1]
    return portion
