"""`triage audit` and `triage review`: ticket history measured against the matrix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from triage.audit import measure as audit_mod
from triage.audit.review import review as build_review
from triage.cli import cluster
from triage.cli.cluster import DaskOption, SchedulerOption
from triage.cli.common import (AtOption, MatrixOption, OutputOption, RecordFormat, ReportFormat, day_or_moment, emit,
                               home_zone, load_matrix, moment, period, reported, stderr)
from triage.errors import ExitCode, InputError, UsageError
from triage.exports.tickets import BadRow
from triage.matrix.loader import Matrix
from triage.render import audit as audit_render
from triage.render.output import Output

DASK_BATCH = 20_000  # tickets a cluster's worker measures in one task

FilesArgument = Annotated[list[str], typer.Argument(metavar="FILE",
                                                    help="Ticket-history exports (CSV or JSON Lines).")]
MappingOption = Annotated[str | None, typer.Option(
    "--mapping", metavar="NAME|FILE",
    help="Export mapping: a built-in name or a YAML file (default: recognised from the header).")]
InputFormatOption = Annotated[RecordFormat | None, typer.Option("--input-format",
                                                                help="csv or jsonl (default: by extension).")]
SinceOption = Annotated[str | None, typer.Option("--since", metavar="DATE", help="Only tickets created from then on.")]
UntilOption = Annotated[str | None, typer.Option("--until", metavar="DATE", help="Only tickets created before then.")]
ZoneOption = Annotated[str | None, typer.Option(
    "--timezone", metavar="ZONE",
    help="Zone of timestamps written without one (default: the mapping's, else the matrix's).")]
SeverityOption = Annotated[int | None, typer.Option(
    "--severity", metavar="N", min=0,
    help="Severity of tickets whose export has no priority (default: the mapping's default_severity).")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", metavar="TIME",
    help="Promises due before then and never kept count as missed (default: the latest time in the export).")]


def items(files: list[str], matrix: Matrix, mapping: str | None, input_format: RecordFormat | None,
          timezone: str | None, **more: Any) -> Any:
    from triage.exports.sources import export_items  # polars, loaded only by the commands that read exports

    return export_items(files, matrix, mapping=mapping, input_format=input_format.value if input_format else None,
                        timezone=timezone, warn=stderr, **more)


def stretches(read: Iterable[Any]) -> Iterator[list[Any]]:
    """The unreadable rows and tickets of the exports as stretches, each ending with a batch of tickets: the
    parts a cluster measures one by one, whose partials merge into the partial of the whole."""
    stretch: list[Any] = []
    for item in read:
        stretch.append(item)
        if not isinstance(item, BadRow):
            yield stretch
            stretch = []
    if stretch:
        yield stretch


def checked_severity(severity: int | None, matrix: Matrix) -> int | None:
    if severity is not None and severity not in matrix.levels:
        raise UsageError(f"--severity: {severity} is not a level of the matrix (it has "
                         f"{', '.join(map(str, sorted(matrix.levels)))})")
    return severity


def nothing_audited(report: audit_mod.Audit) -> str | None:
    """Why a run audited no ticket, or None when it audited some."""
    if report.audited:
        return None
    if not report.read and not report.unreadable:
        return "no ticket was audited: the exports hold no rows"
    if not report.read:
        return f"no ticket was audited: all {report.unreadable:,} rows were unreadable (see the messages above)"
    options = report.options
    picked = " in --since/--until" if options.since or options.until else ""
    unknown = f", {report.unreadable:,} unreadable" if report.unreadable else ""
    return f"no ticket was audited: of {report.read:,} tickets read{unknown}, none was created{picked or ' in range'}"


def audit(
    ctx: typer.Context,
    files: FilesArgument,
    matrix: MatrixOption = None,
    mapping: MappingOption = None,
    input_format: InputFormatOption = None,
    timezone: ZoneOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    window: Annotated[int, typer.Option("--window", metavar="DAYS", min=1,
                                        help="Days within which repeated escalations count.")] = 30,
    repeat: Annotated[int, typer.Option("--repeat", metavar="N", min=2,
                      help="Escalations of one tag within the window that flag it.")] = 3,
    bounce: Annotated[int, typer.Option("--bounce", metavar="N", min=1,
                                        help="Reassignments that make a ticket a bounce.")] = 2,
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f",
                             help="text, markdown, json or html.")] = ReportFormat.text,
    output: OutputOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row was unreadable.")] = False,
    severity: SeverityOption = None,
    as_of: AsOfOption = None,
    dask: DaskOption = False,
    scheduler: SchedulerOption = None,
) -> None:
    """Audit ticket history against the matrix: targets, cadence, criteria, packets, routing, repeats."""
    with reported():
        the_matrix = load_matrix(matrix, ctx)
        home = home_zone(the_matrix)
        start, end = period(since, until, home)
        options = audit_mod.Options(since=start, until=end, window_days=window,
                                    repeat_threshold=repeat, bounce_threshold=bounce, today=datetime.now(UTC).date(),
                                    as_of=day_or_moment(as_of, "--as-of", home))
        from triage.exports.sources import Sources

        sources = Sources()
        where = cluster.chosen(dask, scheduler)
        size = {} if where is None else {"size": DASK_BATCH}
        read = items(files, the_matrix, mapping, input_format, timezone, sources=sources,
                     severity=checked_severity(severity, the_matrix), **size)
        if where is None:
            partial = audit_mod.measure(the_matrix, read, options)
        else:
            parts = cluster.mapped(where, audit_mod.measure_stretch, stretches(read), the_matrix, options)
            partial = audit_mod.merge(*parts)
        partial.sources = sources.read
        report = audit_mod.finish(the_matrix, partial, options)
        data = audit_mod.to_json(report)
        emit(audit_render.output(data), output_format.value, output)
        if why := nothing_audited(report):
            raise InputError(why)
        unreadable = data["tickets"]["unreadable"]
        if unreadable:
            stderr(f"{unreadable:,} unreadable row{'s' * (unreadable != 1)} were counted, not audited")
            if strict:
                raise typer.Exit(int(ExitCode.INPUT))


def review(
    ctx: typer.Context,
    files: FilesArgument,
    matrix: MatrixOption = None,
    mapping: MappingOption = None,
    input_format: InputFormatOption = None,
    timezone: ZoneOption = None,
    sample: Annotated[int, typer.Option("--sample", metavar="N", min=20, max=50,
                      help="How many recent escalated tickets to review.")] = 30,
    output: OutputOption = None,
    at: AtOption = None,
    severity: SeverityOption = None,
    as_of: AsOfOption = None,
) -> None:
    """The maintenance checklist as a filled-in Markdown document, ready to attach to the review."""
    with reported():
        the_matrix = load_matrix(matrix, ctx)
        home = home_zone(the_matrix)
        today = moment(at, the_matrix).astimezone(home).date()
        options = audit_mod.Options(today=today, as_of=day_or_moment(as_of, "--as-of", home))
        from triage.exports.sources import Sources

        sources = Sources()
        report = audit_mod.run(the_matrix, items(files, the_matrix, mapping, input_format, timezone, sources=sources,
                                                 severity=checked_severity(severity, the_matrix)), options,
                               keep_escalated=sample)
        report.sources = sources.read
        if why := nothing_audited(report):
            raise InputError(why.replace("audited", "reviewed", 1))
        body = build_review(the_matrix, report, today=today, sample=sample)
        emit(Output(None, bodies={"markdown": lambda: body}), "markdown", output)
