"""`triage classify`: many tickets, one result per input record, in input order, streaming."""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager
from itertools import islice
from typing import Annotated, Any, BinaryIO

import typer

from triage.cli.common import (MatrixOption, RecordFormat, TimezoneOption, display_zone, load_matrix, moment, reported,
                               stderr)
from triage.cli import cluster
from triage.cli.cluster import DaskOption, SchedulerOption
from triage.engine.classify import (Classified, Settings, classify_run, csv_header, csv_line, csv_records,
                                    error_record, jsonl_records)
from triage.errors import ExitCode
from triage.files import AtomicOutput, capped_lines, reading
from triage.matrix.loader import Matrix

RUN = 256  # records classified between writes: small, so that results stream out as records stream in
DASK_RUN = 20_000  # records a cluster's worker classifies in one task


@contextmanager
def sink(path: str | None) -> Iterator[Callable[[bytes], Any]]:
    """Where results go: stdout, in blocks of about 64 KiB whatever Python's own buffering (a result is a few
    hundred bytes, and a write per result costs a system call each under PYTHONUNBUFFERED), or a file that
    appears whole when the run ends and not at all if it fails."""
    if path is None:
        pending: list[bytes] = []
        size = 0

        def write(data: bytes) -> None:
            nonlocal size
            pending.append(data)
            size += len(data)
            if size >= 1 << 16:
                sys.stdout.buffer.write(b"".join(pending))
                pending.clear()
                size = 0

        try:
            yield write
        finally:
            sys.stdout.buffer.write(b"".join(pending))
            sys.stdout.flush()
        return
    out = AtomicOutput(path)
    try:
        yield out.write
    except BaseException:
        out.discard()
        raise
    out.close()


def records(source: BinaryIO, kind: RecordFormat, matrix: Matrix) -> Iterator[tuple[int, Any, bytes]]:
    lines = capped_lines(source)
    if kind is RecordFormat.csv:
        return csv_records(lines, frozenset(q for q, (k, _) in matrix.kinds.items() if k == "any_of"))
    return jsonl_records(lines)


def classify(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE|-",
                    help="JSON Lines or CSV of answers; - or nothing: stdin.")] = "-",
    matrix: MatrixOption = None,
    input_format: Annotated[RecordFormat | None, typer.Option(
        "--input-format", help="Input format (default: from the extension; stdin: jsonl).")] = None,
    output_format: Annotated[RecordFormat, typer.Option(
        "--format", "-f", help="jsonl (the JSON result) or csv.")] = RecordFormat.jsonl,
    at: Annotated[str | None, typer.Option("--at", metavar="ISO-8601",
                  help="Triage time for records without `at` (default: now).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Include the packet and update texts in each result.")] = False,
    errors: Annotated[str | None, typer.Option("--errors", metavar="FILE",
                      help="Also write bad records to FILE as JSON Lines.")] = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first bad record.")] = False,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                      help="Write results to FILE (atomically) instead of stdout.")] = None,
    timezone: TimezoneOption = None,
    dask: DaskOption = False,
    scheduler: SchedulerOption = None,
) -> None:
    """Classify many tickets: one result per input record, in input order, streaming."""
    with reported():
        where = cluster.chosen(dask, scheduler)
        the_matrix = load_matrix(matrix, ctx)
        settings = Settings(moment(at, the_matrix), display_zone(the_matrix, timezone), full,
                            output_format is RecordFormat.csv)
        kind = input_format or (RecordFormat.csv if file.lower().endswith(".csv") else RecordFormat.jsonl)
        name = "<stdin>" if file == "-" else file
        good = bad = 0
        with reading(file) as source, sink(output) as write, (sink(errors) if errors else _nowhere()) as write_bad:
            if settings.csv:
                write(csv_line(csv_header(the_matrix)))
            runs = chunks(records(source, kind, the_matrix), RUN if where is None else DASK_RUN)
            if where is None:
                classifier = settings.classifier(the_matrix)  # one memo across the runs
                done: Generator[Classified] = (classify_run(the_matrix, settings, run, fail_fast=fail_fast,
                                                           classifier=classifier) for run in runs)
            else:
                done = cluster.mapped(where, classify_run, runs, the_matrix, settings, fail_fast=fail_fast)
            with closing(done):  # a run stopped early lets go of the cluster now, not when collected
                for result in done:
                    write(result.data)
                    good += result.good
                    for number, message, raw in result.bad:
                        bad += 1
                        stderr(f"{name}:{number}: {message}")
                        write_bad(error_record(number, message, raw))
                    if result.stopped:
                        break
        stderr(f"{name}: {good:,} classified, {bad:,} bad record{'s' * (bad != 1)}"
               + (" (stopped at the first, --fail-fast)" if fail_fast and bad else ""))
        if bad:
            raise typer.Exit(int(ExitCode.INPUT))


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive runs of `size` items (the last may be shorter)."""
    iterator = iter(items)
    while run := list(islice(iterator, size)):
        yield run


@contextmanager
def _nowhere() -> Iterator[Callable[[bytes], Any]]:
    yield lambda data: None
