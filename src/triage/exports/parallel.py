"""A large CSV export read in parts by several processes at once.

The file is cut at line starts into parts of about equal size, a few for each process. This process and
forked workers take the parts one at a time as they come free, measure each with the same function, and the
workers hand back what they made (pickled through a pipe). The results are merged in file order, so what is
merged is what one pass over the file would have made. A cut can fall inside a quoted cell that spans lines:
the part before the cut notices (its reader is not between rows at its end), the parts after it are
dropped, and the rest of the file is read here from the row that was cut.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from triage.errors import TriageError
from triage.exports.readers import BadRow, CsvRows
from triage.files import MAX_RECORD, count_lines, line_blocks, part_starts

PART_BYTES = 16 << 20  # a file is split only into parts at least this large
MAX_JOBS = 8
PARTS_PER_JOB = 4  # parts are handed out as processes come free, so a slow process holds up no one for long


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
    """What was made of one part: the measured result, the part's unreadable rows (the first `shown` of them,
    for the error stream), the part's newlines (where the next part's line numbers begin) and, when the part
    ended inside a row, where to read on from. Line numbers count from the part's first line."""

    result: Any
    errors: list[BadRow] = field(default_factory=list)
    error_count: int = 0
    lines: int = 0
    resume: tuple[int, int] | None = None  # (line, byte offset) of the row that the cut went through

    def shift(self, lines: int) -> None:
        """Number the part's lines from `lines` + 1 on: its place in the file."""
        self.errors = [BadRow(bad.line + lines, bad.reason) for bad in self.errors]
        self.result.shift_lines(lines)
        if self.resume is not None:
            self.resume = self.resume[0] + lines, self.resume[1]


class Workers:
    """Forked processes that take part numbers from a shared counter (as this process does) and hand back
    a Portion for each part they take, which a thread of this process receives as it comes."""

    def __init__(self, count: int, part: Callable[[int], Portion], parts: int) -> None:
        import multiprocessing
        import threading

        context = multiprocessing.get_context("fork")
        self.counter = context.Value("i", 0)
        self.parts = parts
        self.portions: dict[int, Portion] = {}
        self.failures: list[TriageError] = []
        self.processes = []
        pipes = []
        for _ in range(count):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_serve, args=(send, part, self), daemon=True)
            process.start()
            send.close()
            self.processes.append(process)
            pipes.append(receive)
        self.threads = [threading.Thread(target=self._collect, args=(receive, process), daemon=True)
                        for receive, process in zip(pipes, self.processes)]  # started after every fork
        for thread in self.threads:
            thread.start()

    def take(self) -> int | None:
        """The next part nobody has taken, or None."""
        with self.counter.get_lock():
            number = self.counter.value
            self.counter.value = number + 1
        return number if number < self.parts else None

    def _collect(self, receive: Any, process: Any) -> None:
        try:
            while True:
                kind, number, value = receive.recv()
                if kind == "part":
                    self.portions[number] = value
                    continue
                if kind == "error":
                    self.failures.append(value)
                break
        except (EOFError, OSError):
            process.join()
            self.failures.append(TriageError(f"a worker process stopped without finishing its part "
                                             f"(exit code {process.exitcode})"))
        finally:
            receive.close()

    def finish(self) -> dict[int, Portion]:
        """Every worker's portions, once all have stopped; a worker's failure is raised here."""
        for thread in self.threads:
            thread.join()
        for process in self.processes:
            process.join()
        if self.failures:
            raise self.failures[0]
        return self.portions

    def cancel(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join()


def _serve(send: Any, part: Callable[[int], Portion], workers: Workers) -> None:
    """In a worker: parts as long as there are any, each handed back as it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends the workers
    try:
        while (number := workers.take()) is not None:
            send.send(("part", number, part(number)))
        outcome: tuple[str, Any, Any] = ("done", None, None)
    except TriageError as exc:
        outcome = ("error", None, exc)
    except BaseException as exc:  # noqa: BLE001 - reported by the parent as one line, never a traceback here
        outcome = ("error", None, TriageError(f"a worker process failed: {type(exc).__name__}: {exc}"))
    try:
        send.send(outcome)
    except Exception:  # noqa: BLE001 - a result that cannot be sent, or the parent is gone
        try:
            send.send(("error", None, TriageError("a worker process could not hand back its part")))
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
    """The Portions of a CSV file (a seekable `handle` on `path`) cut into parts, in file order, each holding
    `measure` of its part's items (from `batches`), measured by `jobs` processes at once (this one and
    forked workers); after a cut inside a row, the rest of the file's items. None when the file is better read
    in one pass (too small, one job, or no one-line header). `measure`'s result must have `shift_lines`."""
    if jobs < 2 or not can_fork():
        return None
    try:
        size = os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None
    jobs = min(jobs, MAX_JOBS)
    parts = min(jobs * PARTS_PER_JOB, size // PART_BYTES)
    if parts < 2:
        return None
    found = csv_header(handle)
    starts = [] if found is None else part_starts(handle, parts, skip=found[1])
    if found is None or len(starts) < 2:
        handle.seek(0)  # read in one pass, from the start
        return None
    header = found[0]
    starts[0] = 0  # the first part reads the header too
    return _parts(path, handle, batches, measure, header, starts, min(jobs, len(starts)), shown)


def _parts(path: str, handle: Any, batches: Callable[[CsvRows], Iterator[Any]], measure: Callable[[Iterator[Any]], Any],
           header: list[str], starts: list[int], jobs: int, shown: int) -> Iterator[Any]:
    ends: list[int | None] = [*starts[1:], None]

    def part(number: int) -> Portion:
        return _part(path, starts[number], ends[number], header if number else None, batches, measure, shown)

    workers = Workers(jobs - 1, part, len(starts))
    try:
        mine = {}
        while (number := workers.take()) is not None:
            mine[number] = part(number)
        portions = {**workers.finish(), **mine}
        lines = 0
        for number in range(len(starts)):
            portion = portions[number]
            if lines:
                portion.shift(lines)
            yield portion
            if portion.resume is not None:  # a cut inside a row: the rest of the file in one pass from that row
                line, offset = portion.resume
                handle.seek(offset)
                yield from batches(CsvRows(blocks=line_blocks(handle), header=header, first_line=line))
                return
            lines += portion.lines
    finally:
        workers.cancel()


def _part(path: str, start: int, end: int | None, header: list[str] | None,
          batches: Callable[[CsvRows], Iterator[Any]], measure: Callable[[Iterator[Any]], Any], shown: int) -> Portion:
    """One part of the file, from `start` to `end` (byte offsets at line starts; the first part, with no
    `header` given, reads it), its lines numbered from 1."""
    from triage.files import open_input

    with open_input(path) as handle:
        handle.seek(start)
        rows = CsvRows(blocks=line_blocks(handle, end=end), header=header, part=end is not None)
        portion = Portion(None)

        def items() -> Iterator[Any]:
            for item in batches(rows):
                if isinstance(item, BadRow):
                    portion.error_count += 1
                    if len(portion.errors) < shown:
                        portion.errors.append(item)
                yield item

        portion.result = measure(items())
        if end is not None:
            portion.lines = rows.lines_read  # every line of a part but the file's last ends with a newline
            if rows.unfinished is not None:
                portion.resume = rows.unfinished, count_lines(handle, start, end, stop=rows.unfinished - 1)[1]
    return portion
