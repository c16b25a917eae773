"""`triage capacity`: can the roster keep the matrix's targets?"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from triage.capacity import analysis as cap
from triage.capacity.demand import demand_from_rates, demand_from_tickets
from triage.capacity.roster import Roster, read_roster, week_start, with_efforts
from triage.cli.audit import (InputFormatOption, MappingOption, SeverityOption, SinceOption, UntilOption,
                              checked_severity, items)
from triage.cli.common import (MatrixOption, OutputOption, ReportFormat, day_or_moment, emit, home_zone, load_matrix,
                               period, reported, stderr)
from triage.errors import InputError, UsageError
from triage.files import read_bytes
from triage.matrix.loader import Matrix
from triage.render import capacity as capacity_render

MAX_GENERATED = 5_000_000  # tickets made from --rate: a year at ten times the benchmark's volume


def parse_goal(text: str) -> float:
    raw = text.strip()
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") or float(raw.rstrip("%")) > 1 else 1)
    except ValueError:
        raise UsageError(f"--goal: `{text}` is not a share (write 90% or 0.9)") from None
    if not 0 < value < 1:
        raise UsageError(f"--goal: `{text}` must lie between 0% and 100% (exclusive)")
    return value


def load_roster(path: str | None, matrix: Matrix, efforts: list[str]) -> Roster:
    """The roster of --roster ($TRIAGE_ROSTER reaches it through Typer), else ./roster.yaml."""
    path = path or ("roster.yaml" if os.path.exists("roster.yaml") else None)
    if path is None:
        raise UsageError("no roster: pass --roster FILE (or set $TRIAGE_ROSTER, or keep roster.yaml here)")
    roster = read_roster(read_bytes(path), path, matrix)
    try:
        return with_efforts(roster, matrix, efforts)
    except ValueError as exc:
        raise UsageError(f"--effort: {exc}") from None


def parsed(flag: str, values: list[str] | None, parse: Any) -> list[Any]:
    """Each value of a repeatable option through `parse`; a ValueError names the option."""
    out = []
    for item in values or []:
        try:
            out.append(parse(item))
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None
    return out


def rate_demand(matrix: Matrix, roster: Roster, rate: list[str], *, weeks: int, seed: int,
                start: date | None = None) -> Any:
    """Random arrivals at the --rate of each severity, from the Monday of the week of `start` (default: this
    week); the report states the week, and `--start` repeats it."""
    rates = dict(parsed("--rate", rate, lambda item: cap.parse_rate(item, matrix)))
    expected = sum(rates.values()) * weeks * 168
    if expected > MAX_GENERATED:
        raise UsageError(f"--rate: that is about {expected:,.0f} tickets over {weeks} weeks; at most "
                         f"{MAX_GENERATED:,} can be replayed (use fewer --weeks or a lower rate)")
    start = start or datetime.now(UTC).astimezone(roster.zone).date()
    monday = datetime.combine(week_start(start), datetime.min.time(), roster.zone)
    demand = demand_from_rates(matrix, rates, start=monday, weeks=weeks, seed=seed)
    if not demand.arrivals:
        raise UsageError("--rate: every rate is zero")
    return demand


def capacity(
    ctx: typer.Context,
    files: Annotated[list[str] | None, typer.Argument(metavar="FILE",
                     help="Ticket-history exports (CSV or JSON Lines) for the demand; or use --rate.")] = None,
    roster: Annotated[str | None, typer.Option("--roster", "-r", metavar="FILE", envvar="TRIAGE_ROSTER",
                      help="Roster file. Default: $TRIAGE_ROSTER, else ./roster.yaml.")] = None,
    matrix: MatrixOption = None,
    rate: Annotated[list[str] | None, typer.Option("--rate", metavar="SEV=N/h|d|w",
                    help="Demand without history: tickets per hour, day or week, e.g. sev3=40/d (repeatable).")] = None,
    weeks: Annotated[int, typer.Option("--weeks", metavar="N", min=1, max=104,
                                       help="Weeks of random arrivals made from --rate.")] = 52,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the random arrivals made from --rate.")] = 1,
    start: Annotated[str | None, typer.Option("--start", metavar="DATE",
                     help="The week the arrivals made from --rate start (its Monday); default: this week.")] = None,
    effort: Annotated[list[str] | None, typer.Option("--effort", metavar="[SEV.]STEP=DURATION",
                      help="Override the roster's effort, e.g. update=15m or sev1.acknowledge=20m (repeatable); "
                           "efforts are then not measured from the export's tracked time.")] = None,
    vary_effort: Annotated[bool, typer.Option("--vary-effort", help="Replay with efforts drawn at random around "
                           "the average (as the queueing model assumes) instead of exactly the average.")] = False,
    goal: Annotated[str, typer.Option("--goal", metavar="SHARE",
                                      help="Share of work to start on time, e.g. 90%.")] = "80%",
    what_if: Annotated[list[str] | None, typer.Option("--what-if", metavar="SEV.TARGET=DURATION",
                       help="A tighter or looser target to price, e.g. sev2.acknowledge=30m (repeatable).")] = None,
    mapping: MappingOption = None,
    input_format: InputFormatOption = None,
    timezone: Annotated[str | None, typer.Option("--timezone", metavar="ZONE",
                        help="Zone of timestamps without one.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f",
                             help="text, markdown, json or html.")] = ReportFormat.text,
    output: OutputOption = None,
    severity: SeverityOption = None,
) -> None:
    """Can the roster keep the matrix's targets? A queueing estimate and a replay of the demand, side by side."""
    with reported():
        if start and not rate:
            raise UsageError("--start sets the week of arrivals made from --rate; with history files it has no use")
        if files and rate:
            raise UsageError("give either history files or --rate, not both")
        if not files and not rate:
            raise UsageError("no demand: give ticket-history files, or --rate SEV=N/d for each severity")
        share = parse_goal(goal)
        the_matrix = load_matrix(matrix, ctx)
        the_roster = load_roster(roster, the_matrix, effort or [])
        changes = parsed("--what-if", what_if, lambda item: cap.parse_what_if(item, the_matrix))
        if rate:
            begin = day_or_moment(start, "--start", the_roster.zone)
            demand = rate_demand(the_matrix, the_roster, rate, weeks=weeks, seed=seed,
                                 start=begin.astimezone(the_roster.zone).date() if begin else None)
        else:
            start_at, end_at = period(since, until, home_zone(the_matrix))
            demand = demand_from_tickets(the_matrix, items(files or [], the_matrix, mapping, input_format, timezone,
                                                           severity=checked_severity(severity, the_matrix)),
                                         since=start_at, until=end_at)
            if not demand.arrivals:
                raise InputError("no tickets to measure: the files hold none that can be read"
                                 + (" in --since/--until" if since or until else ""))
        data = cap.analyse(the_matrix, the_roster, demand, goal=share, what_ifs=changes,
                           vary=seed if vary_effort else None, measure_effort=not effort)
        emit(capacity_render.output(data), output_format.value, output)
        if demand.unreadable:
            stderr(f"{demand.unreadable:,} unreadable row{'s' * (demand.unreadable != 1)} were counted, not used")
