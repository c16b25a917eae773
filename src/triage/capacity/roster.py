"""The staffing roster: how many people of each role are on duty in each part of the week.

A roster names roles, never people, like the matrix. Shifts are weekly (`days` + `hours`, an overnight
shift ends the next morning) in a time zone, and are off on the holidays of a matrix calendar unless
they say `holidays: none`. `effort` is the hands-on time each step takes, used by `triage capacity`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from triage.errors import MatrixError, Problem
from triage.matrix import calendars as cal
from triage.matrix.loader import Matrix
from triage.matrix.model import Interval, Model

STEPS = ("acknowledge", "assign_owner", "update")
DEFAULT_EFFORT = {"acknowledge": 600.0, "assign_owner": 600.0, "update": 600.0}
NO_HOLIDAYS = "none"


class ShiftModel(Model):
    days: str = Field(description="day or day range the shift starts on: mon-fri, sat,sun, daily")
    hours: str = Field(description='"HH:MM-HH:MM"; an end at or before the start means the next morning')
    people: int = Field(ge=0, le=100_000, description="how many people of the role are on duty")
    timezone: str | None = Field(default=None, description="IANA zone of the hours (default: the roster's)")
    holidays: str | None = Field(default=None, description="matrix calendar whose holidays take the shift off, "
                                                              "or `none` to work through holidays")
    note: str = ""


class EffortModel(Model):
    acknowledge: Interval | None = None
    assign_owner: Interval | None = None
    update: Interval | None = None


class RosterModel(Model):
    roster_version: Literal[1]
    name: str
    timezone: str | None = Field(default=None, description="zone of shifts that name none (default: the matrix's)")
    holidays: str | None = Field(default=None, description="matrix calendar whose holidays apply to every shift "
                                                             "that names none")
    effort: dict[str, EffortModel] = Field(default_factory=dict,
                                           description="`default` or a severity id -> hands-on time per step")
    roles: dict[str, list[ShiftModel]]


@dataclass(frozen=True)
class Shift:
    role: str
    days: frozenset[int]
    start: time
    length: timedelta  # from the start; an overnight shift runs past midnight
    people: int
    zone: ZoneInfo
    holidays: Any  # a WeeklyHours calendar whose holidays apply, or None


@dataclass
class Roster:
    """A checked roster, ready to expand into people on duty over time."""

    model: RosterModel
    source: str
    zone: ZoneInfo
    shifts: dict[str, list[Shift]]
    efforts: dict[str, dict[str, float]]  # severity id -> step -> seconds
    _weeks: dict[tuple[str, date], list[int]] = field(default_factory=dict, repr=False)

    @property
    def roles(self) -> list[str]:
        return list(self.shifts)

    def effort(self, severity_id: str, step: str) -> float:
        return self.efforts.get(severity_id, self.efforts["default"])[step]

    def with_extra(self, extra: dict[str, list[int]], monday: date) -> Roster:
        """This roster plus `extra[role][hour_of_week]` people, as one-hour weekly shifts (for what-ifs)."""
        shifts = {role: list(items) for role, items in self.shifts.items()}
        for role, hours in extra.items():
            for how, add in enumerate(hours):
                if add > 0:
                    shifts.setdefault(role, []).append(Shift(role, frozenset({how // 24}), time(how % 24),
                                                             timedelta(hours=1), add, self.zone, None))
        return replace(self, shifts=shifts, _weeks={})

    def with_shift_people(self, adds: dict[tuple[str, int], int], new_hours: dict[str, list[int]],
                          monday: date) -> Roster:
        """This roster with `adds[(role, shift index)]` more people on its own shifts (off on the same holidays),
        and `new_hours` as in `with_extra` for hours no shift covers."""
        shifts = {role: list(items) for role, items in self.shifts.items()}
        for (role, index), add in adds.items():
            shifts[role][index] = replace(shifts[role][index], people=shifts[role][index].people + add)
        return replace(self, shifts=shifts, _weeks={}).with_extra(new_hours, monday)

    def intervals(self, role: str, first: date, last: date, *, holidays: bool = True) -> list[tuple[float, float, int]]:
        """(start, end, people) as POSIX timestamps for shifts starting on local days first..last."""
        out: list[tuple[float, float, int]] = []
        for shift in self.shifts.get(role, ()):
            if shift.people == 0:
                continue
            day = first
            while day <= last:
                if day.weekday() in shift.days:
                    start = datetime.combine(day, shift.start, shift.zone)
                    # wall-clock end: an 8-hour shift across a DST change still ends at its written time
                    wall_end = datetime.combine(day, shift.start) + shift.length
                    end = wall_end.replace(tzinfo=shift.zone)
                    pieces = [(start.timestamp(), end.timestamp())]
                    if holidays and shift.holidays is not None:
                        pieces = _minus_holiday(pieces, shift.holidays, day)
                    out.extend((s, e, shift.people) for s, e in pieces if e > s)
                day += timedelta(days=1)
        return out

    def timeline(self, role: str, first: date, last: date, *, holidays: bool = True) -> list[tuple[float, int]]:
        """Change points (time, people on duty from then on) of one role, in time order."""
        deltas: dict[float, int] = {}
        for s, e, people in self.intervals(role, first - timedelta(days=1), last, holidays=holidays):
            deltas[s] = deltas.get(s, 0) + people
            deltas[e] = deltas.get(e, 0) - people
        out: list[tuple[float, int]] = []
        level = 0
        for ts in sorted(deltas):
            if deltas[ts]:
                level += deltas[ts]
                out.append((ts, level))
        return out

    def shift_hours(self, role: str, index: int, monday: date) -> list[int]:
        """Hours of a regular week that the roster's shift `index` of `role` covers."""
        shift = self.shifts[role][index]
        alone = replace(self, shifts={role: [replace(shift, people=1)]}, _weeks={})
        return [how for how, people in enumerate(alone.week(role, monday)) if people]

    def week(self, role: str, monday: date) -> list[int]:
        """People on duty in each hour of a regular week (no holidays), hour 0 = Monday 00:00-01:00 local."""
        key = (role, monday)
        cached = self._weeks.get(key)
        if cached is not None:
            return cached
        points = self.timeline(role, monday - timedelta(days=1), monday + timedelta(days=7), holidays=False)
        out = []
        index, level = 0, 0
        for how in range(168):
            middle = datetime.combine(monday + timedelta(days=how // 24), time(how % 24, 30), self.zone).timestamp()
            while index < len(points) and points[index][0] <= middle:
                level = points[index][1]
                index += 1
            out.append(level)
        self._weeks[key] = out
        return out


def _minus_holiday(pieces: list[tuple[float, float]], calendar: Any, day: date) -> list[tuple[float, float]]:
    """A shift starting on `day`, less the calendar's holiday: all of it on a closed day; on a partial day,
    the part of the usual opening hours that the holiday closes (a day shift ends early, a night shift runs)."""
    if day in calendar.holidays:
        hours = calendar.holidays[day]
        if not hours:
            return []
        usual = _stamps(calendar, day, calendar.week.get(day.weekday(), []))
        kept = _stamps(calendar, day, hours)
        closed = _subtract(usual, kept)
    elif calendar.public is not None and day in calendar.public:
        return []
    else:
        return pieces
    return _subtract(pieces, closed)


def _stamps(calendar: Any, day: date, hours: list[Any]) -> list[tuple[float, float]]:
    out = []
    for start, end in hours:
        s = datetime.combine(day, start, calendar.timezone)
        e = (datetime.combine(day + timedelta(days=1), time(0), calendar.timezone) if end is None
             else datetime.combine(day, end, calendar.timezone))
        out.append((s.timestamp(), e.timestamp()))
    return out


def _subtract(pieces: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    for a, b in holes:
        cut = []
        for s, e in pieces:
            if b <= s or a >= e:
                cut.append((s, e))
                continue
            if s < a:
                cut.append((s, a))
            if b < e:
                cut.append((b, e))
        pieces = cut
    return pieces


def parse_shift_hours(spec: str) -> tuple[time, timedelta]:
    found = cal.clock_range(spec)
    if found is None:
        raise ValueError(f'`{spec}` is not a shift (write "09:00-17:00", or "22:00-06:00" for a night shift)')
    h1, m1, h2, m2 = found
    start, end = h1 * 60 + m1, h2 * 60 + m2
    length = end - start if end > start else end + 1440 - start
    return time(h1, m1), timedelta(minutes=length)


def _week_hours(shift: Shift) -> set[int]:
    """The hours of the week (0 = Monday 00:00) a shift covers, in its own zone, to the whole hour."""
    first = shift.start.hour * 60 + shift.start.minute
    minutes = int(shift.length.total_seconds() // 60)
    return {(day * 1440 + first + m) // 60 % (7 * 24) for day in shift.days for m in range(0, minutes, 60)}


def parse_roster_days(spec: str) -> frozenset[int]:
    if spec.strip().lower() in ("daily", "every day", "mon-sun"):
        return frozenset(range(7))
    return frozenset(cal.parse_days(spec))


# ---------------------------------------------------------------------------------------------- loading


def read_roster(data: bytes, source: str, matrix: Matrix) -> Roster:
    roster, problems = check_roster(data, source, matrix)
    errors = [p for p in problems if p.level == "error"]
    if roster is None or errors:
        raise MatrixError(errors or problems)
    return roster


def check_roster(data: bytes, source: str, matrix: Matrix) -> tuple[Roster | None, list[Problem]]:
    """Parse, check structure and references against the matrix, then the coverage lints."""
    from triage.matrix.loader import parse_model

    doc, model, problems = parse_model(data, source, RosterModel, "roster")
    if model is None or doc is None:
        return None, problems
    check = _RosterCheck(doc, matrix, problems)
    home = check.zone_of(("timezone",), model.timezone, cal.zone(matrix.model.matrix.timezone))
    shifts = check.shifts(model, home)
    efforts = check.efforts(model)
    if any(p.level == "error" for p in problems):
        return None, sorted(problems, key=lambda p: (p.line, p.column))
    roster = Roster(model, source, home, shifts, efforts)
    problems.extend(coverage_problems(roster, matrix, doc))
    return roster, sorted(problems, key=lambda p: (p.line, p.column))


class _RosterCheck:
    """The checks of one roster against the matrix, collecting every problem found."""

    def __init__(self, doc: Any, matrix: Matrix, problems: list[Problem]) -> None:
        self.doc, self.matrix, self.problems = doc, matrix, problems

    def problem(self, path: tuple[Any, ...], message: str, code: str, **kw: Any) -> None:
        self.problems.append(self.doc.problem(path, message, code, **kw))

    def zone_of(self, path: tuple[Any, ...], name: str | None, fallback: ZoneInfo) -> ZoneInfo:
        if name is None:
            return fallback
        try:
            return cal.zone(name)
        except ValueError as exc:
            self.problem(path, str(exc), "R306")
            return fallback

    def holidays_of(self, path: tuple[Any, ...], name: str | None) -> Any:
        calendars = self.matrix.calendars
        if name is None or name == NO_HOLIDAYS:
            return None
        calendar = calendars.get(name)
        if calendar is None:
            hint = difflib.get_close_matches(name, sorted(calendars), n=1)
            self.problem(
                path,
                f"unknown calendar `{name}`"
                + (f"; did you mean `{hint[0]}`?" if hint else "")
                + f" (the matrix has {', '.join(sorted(calendars))}; or `none`)",
                "C504",
            )
            return None
        if not isinstance(calendar, cal.WeeklyHours):
            self.problem(
                path,
                f"calendar `{name}` is open around the clock and has no holidays; write `none`",
                "C504",
                level="warning",
            )
            return None
        return calendar

    def shifts(self, model: Any, home: ZoneInfo) -> dict[str, list[Shift]]:
        default_holidays = self.holidays_of(("holidays",), model.holidays)
        roles = set(self.matrix.model.roles)
        shifts: dict[str, list[Shift]] = {}
        for role, items in model.roles.items():
            if role not in roles:
                hint = difflib.get_close_matches(role, sorted(roles), n=1)
                self.problem(
                    ("roles", role),
                    f"unknown role `{role}`"
                    + (f"; did you mean `{hint[0]}`?" if hint else "")
                    + " (a roster names the matrix's roles, never people)",
                    "C501",
                    key=True,
                )
                continue
            kept = [(i, shift) for i, item in enumerate(items)
                    if (shift := self.shift(("roles", role, i), role, item, home, default_holidays))]
            shifts[role] = [shift for _, shift in kept]
            self.overlaps(role, kept)
        return shifts

    def overlaps(self, role: str, kept: list[tuple[int, Shift]]) -> None:
        """Two shifts of a role that cover the same hours add their people together: say so, in case one was
        meant to replace the other."""
        covered = [(i, shift, _week_hours(shift)) for i, shift in kept]
        for n, (i, a, hours_a) in enumerate(covered):
            for j, b, hours_b in covered[n + 1:]:
                both = hours_a & hours_b
                if both and a.zone == b.zone:
                    self.problem(("roles", role, j), f"this shift of `{role}` overlaps shift {i + 1} "
                                 f"({describe_hours(sorted(both))}): their people are added together there",
                                 "C512", level="warning")

    def shift(self, base: tuple[Any, ...], role: str, item: Any, home: ZoneInfo, default_holidays: Any) -> Shift | None:
        days: frozenset[int] | None = None
        hours: tuple[time, timedelta] | None = None
        try:
            days = parse_roster_days(item.days)
        except ValueError as exc:
            self.problem(base + ("days",), str(exc), "C502")
        try:  # checked even when the days are wrong: every mistake of a shift at once
            hours = parse_shift_hours(item.hours)
        except ValueError as exc:
            self.problem(base + ("hours",), str(exc), "C503")
        if days is None or hours is None:
            return None
        start, length = hours
        zone = self.zone_of(base + ("timezone",), item.timezone, home)
        holidays = default_holidays if item.holidays is None else self.holidays_of(base + ("holidays",), item.holidays)
        return Shift(role, days, start, length, item.people, zone, holidays)

    def efforts(self, model: Any) -> dict[str, dict[str, float]]:
        severities = self.matrix.model.severities
        for key, spec in model.effort.items():
            if key != "default" and key not in severities:
                self.problem(
                    ("effort", key),
                    f"`{key}` is neither `default` nor a severity of the matrix ({', '.join(severities)})",
                    "C505",
                    key=True,
                )
                continue
            for step in STEPS:
                value = getattr(spec, step)
                if value is not None and value.total_seconds() <= 0:
                    self.problem(("effort", key, step), "an effort must be longer than zero", "C506")
        efforts: dict[str, dict[str, float]] = {"default": dict(DEFAULT_EFFORT)}
        defaults = model.effort.get("default")
        if defaults is not None:
            for step in STEPS:
                if getattr(defaults, step) is not None:
                    efforts["default"][step] = max(getattr(defaults, step).total_seconds(), 1.0)
        for sid in severities:
            spec = model.effort.get(sid)
            if spec is not None:
                efforts[sid] = {
                    step: max(getattr(spec, step).total_seconds(), 1.0)
                    if getattr(spec, step) is not None
                    else efforts["default"][step]
                    for step in STEPS
                }
        return efforts


def handlers(matrix: Matrix) -> dict[str, list[tuple[str, str]]]:
    """Role -> (severity id, step) pairs it handles: the receiving role acknowledges, the owner takes
    ownership (when it is another role) and writes the updates."""
    out: dict[str, list[tuple[str, str]]] = {}
    for level in sorted(matrix.levels):
        sev = matrix.levels[level]
        routing = sev.spec.routing
        out.setdefault(routing.receives, []).append((sev.id, "acknowledge"))
        if routing.owner != routing.receives:
            out.setdefault(routing.owner, []).append((sev.id, "assign_owner"))
        out.setdefault(routing.owner, []).append((sev.id, "update"))
    return out


def coverage_problems(roster: Roster, matrix: Matrix, doc: Any) -> list[Problem]:
    """Warnings a lead wants before publishing: roles that handle steps with nobody on the roster, and
    hours in which a severity's calendar is open but its receiving role has nobody on duty."""
    out: list[Problem] = []
    monday = week_start(datetime.now(UTC).date())
    for role, work in handlers(matrix).items():
        listed = sum(s.people for s in roster.shifts.get(role, ()))
        if not listed:
            what = ", ".join(f"{sev} {step.replace('_', ' ')}" for sev, step in work)
            out.append(doc.problem(("roles",), f"role `{role}` handles {what} but has nobody on the roster", "C510",
                                   level="warning", key=True))
    found: dict[tuple[str, str, str], list[str]] = {}
    for level in sorted(matrix.levels):
        sev = matrix.levels[level]
        calendar = matrix.calendars[sev.spec.targets.calendar]
        duties = [(sev.spec.routing.receives, "acknowledges")]
        if sev.spec.routing.owner != sev.spec.routing.receives:
            duties.append((sev.spec.routing.owner, "owns"))
        for role, duty in duties:
            if not sum(s.people for s in roster.shifts.get(role, ())):
                continue  # reported above
            week = roster.week(role, monday)
            gaps = []
            for how in range(168):
                if week[how]:
                    continue
                moment = datetime.combine(monday + timedelta(days=how // 24), time(how % 24, 30), roster.zone)
                if calendar.seconds_between(moment.timestamp(), moment.timestamp() + 60) > 0:
                    gaps.append(how)
            if gaps:
                found.setdefault((role, duty, describe_hours(gaps)), []).append(sev.id)
    for (role, duty, hours), severities in found.items():
        out.append(doc.problem(("roles", role), f"`{role}` {duty} {', '.join(severities)} tickets but has nobody on "
                               f"duty {hours}, while their target clock runs", "C511", level="warning", key=True))
    return out


def week_start(day: date) -> date:
    """The Monday of the week `day` falls in: the reference week of rosters and hours of the week."""
    return day - timedelta(days=day.weekday())


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def describe_hours(hours: list[int]) -> str:
    """Hours of the week as readable blocks: `Mon-Fri 00:00-08:00, Sat-Sun all day`."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for how in sorted(hours):
        day, hour = divmod(how, 24)
        ranges = by_day.setdefault(day, [])
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + 1)
        else:
            ranges.append((hour, hour + 1))
    groups: list[tuple[list[int], list[tuple[int, int]]]] = []
    for day in sorted(by_day):
        if groups and groups[-1][1] == by_day[day] and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], by_day[day]))
    parts = []
    for days, ranges in groups:
        names = DAY_NAMES[days[0]] if len(days) == 1 else f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
        text = ", ".join("all day" if (a, b) == (0, 24) else f"{a:02d}:00-{b:02d}:00" for a, b in ranges)
        parts.append(f"{names} {text}")
    return "; ".join(parts)


def with_efforts(roster: Roster, matrix: Matrix, items: list[str]) -> Roster:
    """The roster with efforts from the command line: `update=15m` (every severity) or `sev1.update=20m`."""
    from triage.matrix.durations import parse_duration

    if not items:
        return roster
    efforts = {sid: dict(steps) for sid, steps in roster.efforts.items()}
    for sid in matrix.model.severities:
        efforts.setdefault(sid, dict(efforts["default"]))
    for item in items:
        name, sep, value = item.partition("=")
        sev, dot, step = name.strip().rpartition(".")
        if not sep or step not in STEPS or (dot and sev not in matrix.model.severities):
            raise ValueError(
                f"`{item}` is not an effort (write update=15m or sev1.acknowledge=20m; steps: {', '.join(STEPS)})"
            )
        seconds = parse_duration(value.strip()).total_seconds()
        if seconds <= 0:
            raise ValueError(f"`{item}`: an effort must be longer than zero")
        for sid in [sev] if dot else list(matrix.model.severities):
            efforts[sid][step] = seconds
    return replace(roster, efforts=efforts)


def roster_schema_json() -> str:
    from triage.matrix.schema import schema_json

    return schema_json(RosterModel, "roster.schema.json", "triage staffing roster",
                       "Who is on duty, by role, for `triage capacity`; `triage validate` checks it against the "
                       "matrix.")
