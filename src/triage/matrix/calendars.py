"""Calendars on which targets are measured: around the clock, or weekly hours in a time zone with holidays."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MAX_DAYS = 3660  # a target further away than ten years of calendar days is a matrix mistake

Interval = tuple[time, time | None]  # None as the end means midnight at the end of the day


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long, or a folder such as "America"
        import difflib
        from zoneinfo import available_timezones

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.8)
        hint = f"did you mean `{close[0]}`?" if close else "use an IANA name such as Europe/Berlin"
        raise ValueError(f"unknown time zone `{name}` ({hint})") from None


def parse_days(spec: str) -> list[int]:
    """`mon-fri`, `sat`, `mon,wed` -> weekday numbers (Monday is 0)."""
    days: list[int] = []
    for part in spec.lower().split(","):
        part = part.strip()
        if "-" in part:
            first, _, last = part.partition("-")
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"`{spec}` is not a day or day range (write mon-fri, sat, mon,wed)")
            a, b = DAYS.index(first), DAYS.index(last)
            days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in DAYS:
            days.append(DAYS.index(part))
        else:
            raise ValueError(f"`{spec}` is not a day or day range (write mon-fri, sat, mon,wed)")
    return days


def clock_range(text: str) -> tuple[int, int, int, int] | None:
    """`09:00-17:30` -> (9, 0, 17, 30); None when it is not that shape; ValueError for a time of day that
    does not exist (24:00 is allowed as an end)."""
    m = _RANGE.match(text)
    if not m:
        return None
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"`{text.strip()}` is not a valid time of day")
    return h1, m1, h2, m2


def parse_hours(spec: str) -> list[Interval]:
    """`09:00-17:00`, `08:00-12:00, 13:00-17:00`, `closed` -> ordered, non-overlapping intervals."""
    if spec.strip().lower() == "closed":
        return []
    out: list[Interval] = []
    for part in spec.split(","):
        found = clock_range(part)
        if found is None:
            raise ValueError(f'`{spec}` is not a time range (write "09:00-17:00" or "closed")')
        h1, m1, h2, m2 = found
        start = time(h1, m1)
        end = None if h2 == 24 else time(h2, m2)
        if end is not None and end <= start:
            raise ValueError(f"`{part.strip()}` ends before it starts")
        if out and (out[-1][1] is None or start < out[-1][1]):
            raise ValueError(f"`{spec}`: ranges overlap or are out of order")
        out.append((start, end))
    return out


class Calendar(Protocol):
    name: str
    timezone: ZoneInfo | None

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def add_many(self, start: datetime, durations: list[timedelta]) -> list[datetime]: ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...

    def end_of_day(self, start: datetime, after: int) -> datetime:
        """The close of the business day a ticket arriving at `start` arrives in, or of the `after`-th after it."""

    def seconds_between(self, start: float, end: float) -> float: ...

    def compiled(self, first: date, last: date) -> Any:
        """A form with `open_until(ts)` and its inverse `moment(hint, total)` for bulk work over first..last."""

    def describe(self) -> str: ...

    def skipped(self, start: datetime, end: datetime) -> list[str]: ...


@dataclass(frozen=True)
class AlwaysOpen:
    """Around the clock: a duration is elapsed real time."""

    name: str
    timezone: ZoneInfo | None = None

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return (start.astimezone(UTC) + duration).astimezone(start.tzinfo)

    def add_many(self, start: datetime, durations: list[timedelta]) -> list[datetime]:
        base = start.astimezone(UTC)
        return [(base + d).astimezone(start.tzinfo) for d in durations]

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def end_of_day(self, start: datetime, after: int) -> datetime:
        """Around the clock a business day is a calendar day, closing at midnight (in the calendar's zone)."""
        where = self.timezone or start.tzinfo or UTC
        day = start.astimezone(where).date() + timedelta(days=after + 1)
        return datetime.combine(day, time(0), where).astimezone(start.tzinfo)

    def seconds_between(self, start: float, end: float) -> float:
        return end - start if end > start else 0.0

    def compiled(self, first: date, last: date) -> AlwaysOpen:
        return self  # its own compiled form: open time is time

    def open_until(self, ts: float) -> float:
        return ts

    def moment(self, hint: float, total: float) -> float:
        return total

    def open_until_many(self, ts: Any) -> Any:
        return ts

    def moment_many(self, hints: Any, totals: Any) -> Any:
        import numpy as np

        return np.maximum(hints, totals)

    def describe(self) -> str:
        return "around the clock, every day"

    def business_day(self) -> timedelta:
        return timedelta(days=1)

    def skipped(self, start: datetime, end: datetime) -> list[str]:
        return []


def _utc(day: date, start: time, end: time | None, where: ZoneInfo) -> tuple[datetime, datetime]:
    """One interval of a local day (an end of None is the next midnight), in UTC."""
    s = datetime.combine(day, start, where)
    e = datetime.combine(day + timedelta(days=1), time(0), where) if end is None else datetime.combine(day, end, where)
    return s.astimezone(UTC), e.astimezone(UTC)


def _union(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def hours_text(hours: Iterable[Interval]) -> str:
    """Open hours as written in a matrix: `08:00-12:00, 13:00-24:00`."""
    return ", ".join(f"{s:%H:%M}-" + ("24:00" if e is None else f"{e:%H:%M}") for s, e in hours)


def _day_names(days: list[int]) -> str:
    """`Mon`, `Mon-Thu`, `Mon, Wed`."""
    if len(days) > 1 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAYS[days[0]].capitalize()}-{DAYS[days[-1]].capitalize()}"
    return ", ".join(DAYS[d].capitalize() for d in days)


def split_zone(text: str) -> tuple[str, str | None]:
    """`"10:00-24:00 Australia/Sydney"` -> the hours and the time zone they are written in (None: the
    calendar's own)."""
    hours, _, last = text.strip().rpartition(" ")
    if hours and ("/" in last or last.upper() == "UTC"):
        return hours.strip(), last
    return text, None


@dataclass
class WeeklyHours:
    """Opening hours per weekday in one time zone, with closed and partial holidays."""

    name: str
    timezone: ZoneInfo
    week: dict[int, list[Interval]]
    holidays: dict[date, list[Interval]] = field(default_factory=dict)
    holiday_names: dict[date, str] = field(default_factory=dict)
    public: Any = None  # a `holidays.HolidayBase`, or None
    # Hours written in a time zone of their own: (weekdays in that zone, intervals, zone). The calendar is
    # open whenever its own hours or any of these are (so a window can run from Friday 17:00 in one zone to
    # Monday 10:00 in another); a holiday of the calendar closes them too.
    elsewhere: tuple[tuple[frozenset[int], tuple[Interval, ...], ZoneInfo], ...] = ()
    _days: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict, repr=False)
    _cumulative: dict[date, float] = field(default_factory=dict, repr=False)
    _local_day: dict[int, date] = field(default_factory=dict, repr=False)
    _last_start: tuple[float, float] = field(default=(float("nan"), 0.0), repr=False)
    _day_stamps: dict[date, list[tuple[float, float]]] = field(default_factory=dict, repr=False)

    def business_day(self) -> timedelta:
        """The open time of a business day: the most common length of an open day of the week (8 h on a
        09:00-17:00 week; the longer one where two lengths are as common)."""
        lengths = [sum((1440 if e is None else e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for s, e in hours)
                   for hours in self.week.values()]
        counts = Counter(length for length in lengths if length > 0)
        if not counts:
            return timedelta(0)
        return timedelta(minutes=max(counts, key=lambda length: (counts[length], length)))

    def closed_days(self, first: date, last: date) -> list[tuple[date, str, list[Interval]]]:
        """Holidays from `first` to `last` (both included), the calendar's own and public ones, in date order: (day,
        name, the hours open that day; none for a day closed throughout)."""
        days = {d: (self.holiday_names.get(d, ""), hours) for d, hours in self.holidays.items() if first <= d <= last}
        if self.public is not None:
            for d in self.public[first:last + timedelta(days=1)]:
                if d not in days and d <= last:
                    days[d] = (self.public.get(d) or "", [])
        return [(d, name, hours) for d, (name, hours) in sorted(days.items())]

    def open_on(self, day: date) -> list[Interval]:
        if day in self.holidays:
            return self.holidays[day]
        if self.public is not None and day in self.public:
            return []
        return self.week.get(day.weekday(), [])

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Open intervals of a local day, in UTC (cached: bulk runs ask for the same days again and again)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        out = [_utc(day, start, end, self.timezone) for start, end in self.open_on(day)]
        if self.elsewhere and day not in self.holidays and not (self.public is not None and day in self.public):
            out = _union(out + self._elsewhere(day))
        if len(self._days) > 20_000:
            self._days.clear()
        self._days[day] = out
        return out

    def _elsewhere(self, day: date) -> list[tuple[datetime, datetime]]:
        """The hours kept in other time zones that fall within this local day, in UTC."""
        first = datetime.combine(day, time(0), self.timezone).astimezone(UTC)
        last = datetime.combine(day + timedelta(days=1), time(0), self.timezone).astimezone(UTC)
        out = []
        for weekdays, hours, where in self.elsewhere:
            for there in (day - timedelta(days=1), day, day + timedelta(days=1)):
                if there.weekday() not in weekdays:
                    continue
                for start, end in hours:
                    s, e = _utc(there, start, end, where)
                    if s < last and e > first:
                        out.append((max(s, first), min(e, last)))
        return out

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return self.add_many(start, [duration])[0]

    def add_many(self, start: datetime, durations: list[timedelta]) -> list[datetime]:
        """`start` plus each duration of open time, walking the calendar once for all of them."""
        order = sorted(range(len(durations)), key=durations.__getitem__)
        out: list[datetime] = [start] * len(durations)
        pending = [i for i in order if durations[i] > timedelta(0)]
        if not pending:
            return out
        used = timedelta(0)  # open time between start and `now`
        now = start.astimezone(UTC)
        day = now.astimezone(self.timezone).date()
        for _ in range(_MAX_DAYS):
            for s, e in self._intervals(day):
                if e <= now:
                    continue
                begin = max(now, s)
                available = e - begin
                while pending and durations[pending[0]] - used <= available:
                    i = pending.pop(0)
                    out[i] = (begin + (durations[i] - used)).astimezone(start.tzinfo)
                if not pending:
                    return out
                used += available
                now = e
            day += timedelta(days=1)
        raise ValueError(f"calendar `{self.name}` has no open hours within ten years of {start.isoformat()}")

    def end_of_day(self, start: datetime, after: int) -> datetime:
        """The close of the business day a ticket arriving at `start` arrives in (the day's last open hour; one
        arriving after the close, or on a day the calendar is closed, arrives in the next open day), or of the
        `after`-th open day after that one."""
        now = start.astimezone(UTC)
        day = now.astimezone(self.timezone).date()
        for _ in range(_MAX_DAYS):
            hours = self._intervals(day)
            if hours and hours[-1][1] > now:
                if after == 0:
                    return hours[-1][1].astimezone(start.tzinfo)
                after -= 1
                now = hours[-1][1]
            day += timedelta(days=1)
        raise ValueError(f"calendar `{self.name}` has no open hours within ten years of {start.isoformat()}")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two moments (zero if `end` is not after `start`)."""
        return timedelta(seconds=self.seconds_between(start.timestamp(), end.timestamp()))

    def seconds_between(self, start: float, end: float) -> float:
        """Open seconds between two POSIX timestamps: the fast form that bulk audits use."""
        if end <= start:
            return 0.0
        last = self._last_start
        if last[0] == start:  # one ticket measures several targets from the same creation time
            begin = last[1]
        else:
            begin = self._open_until(start)
            self._last_start = (start, begin)
        return self._open_until(end) - begin

    def compiled(self, first: date, last: date) -> OpenTimeline:
        """The open intervals of local days first..last as arrays, for bulk work (capacity replays)."""
        return OpenTimeline(self, first, last)

    def _open_until(self, ts: float) -> float:
        """Seconds of open time from a fixed origin day to the timestamp, from cached per-day totals."""
        bucket = int(ts // 900)  # local midnight falls on a quarter hour in every time zone
        day = self._local_day.get(bucket)
        if day is None:
            day = datetime.fromtimestamp(ts, self.timezone).date()
            if len(self._local_day) > 200_000:
                self._local_day.clear()
            self._local_day[bucket] = day
        total = self._before(day)
        for s, e in self._stamps(day):
            if ts <= s:
                break
            total += (ts if ts < e else e) - s
        return total

    def _stamps(self, day: date) -> list[tuple[float, float]]:
        cached = self._day_stamps.get(day)
        if cached is None:
            cached = [(s.timestamp(), e.timestamp()) for s, e in self._intervals(day)]
            if len(self._day_stamps) > 50_000:
                self._day_stamps.clear()
            self._day_stamps[day] = cached
        return cached

    def _before(self, day: date) -> float:
        """Seconds of open time from the origin to the start of `day` (negative before the origin)."""
        cached = self._cumulative.get(day)
        if cached is not None:
            return cached
        if not self._cumulative:
            self._cumulative[day] = 0.0
            return 0.0
        # walk from the nearest cached day; bulk audits move through days in small steps
        nearest = min(self._cumulative, key=lambda d: abs((d - day).days))
        total = self._cumulative[nearest]
        current = nearest
        while current < day:
            total += self._day_seconds(current)
            current += timedelta(days=1)
        while current > day:
            current -= timedelta(days=1)
            total -= self._day_seconds(current)
        if len(self._cumulative) > 50_000:
            self._cumulative.clear()  # totals stay relative to the same origin, so comparable
        self._cumulative[day] = total
        return total

    def _day_seconds(self, day: date) -> float:
        return sum(e - s for s, e in self._stamps(day))

    def describe(self) -> str:
        """The weekly hours as a person writes them: `Mon-Fri 09:00-17:00`, `Sun 17:00 - Fri 17:00`."""
        week = 7 * 1440
        spans = sorted((d * 1440 + s.hour * 60 + s.minute, d * 1440 + (1440 if e is None else e.hour * 60 + e.minute))
                       for d, hours in self.week.items() for s, e in hours)
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and merged[-1][1] == start:
                merged[-1][1] = end
            else:
                merged.append([start, end])
        if len(merged) > 1 and merged[0][0] == 0 and merged[-1][1] == week:  # open across Sunday midnight
            merged[0] = [merged[-1][0], merged[0][1] + week]
            merged.pop()
        if merged == [[0, week]]:
            return f"every day, around the clock ({self.timezone.key})"

        def clock(minute: int) -> str:
            return f"{minute % 1440 // 60:02d}:{minute % 60:02d}" if minute % 1440 or not minute else "24:00"

        by_day: dict[int, list[str]] = {}
        parts: list[tuple[int, str]] = []
        for start, end in merged:
            if end - start > 1440 or start // 1440 != (end - 1) // 1440:
                parts.append((start, f"{DAYS[start // 1440 % 7].capitalize()} {clock(start)} - "
                                     f"{DAYS[end // 1440 % 7].capitalize()} {clock(end % week)}"))
            else:
                by_day.setdefault(start // 1440, []).append(f"{clock(start)}-{clock(end)}")
        days = sorted(by_day)
        while days:  # consecutive days with the same hours become one range of days
            run = [days.pop(0)]
            while days and days[0] == run[-1] + 1 and by_day[days[0]] == by_day[run[0]]:
                run.append(days.pop(0))
            parts.append((run[0] * 1440, f"{_day_names(run)} {', '.join(by_day[run[0]])}"))
        own = f"{'; '.join(text for _, text in sorted(parts)) or 'never open'} ({self.timezone.key})"
        return "; ".join([own, *(f"{_day_names(sorted(days))} {hours_text(hours)} ({where.key})"
                                 for days, hours, where in self.elsewhere)])

    def skipped(self, start: datetime, end: datetime) -> list[str]:
        """The closed days between two moments, as a due time's reader wants them named: `the weekend`, a
        holiday by its name, a weekday the calendar never opens; a day with short hours is named too."""
        names: list[str] = []
        weekends = 0
        day = start.astimezone(self.timezone).date() + timedelta(days=1)
        last = end.astimezone(self.timezone).date()
        while day < last and len(names) < 12:
            hours = self.open_on(day)
            normal = self.week.get(day.weekday(), [])
            holiday = self.holiday_names.get(day) or (self.public.get(day) if self.public is not None and day in
                                                      self.public else None)
            if holiday and hours != normal:
                names.append(holiday if not hours else f"{holiday} (short hours)")
            elif not hours:
                if day.weekday() == 5 and not self.open_on(day + timedelta(days=1)) and day + timedelta(days=1) < last:
                    weekends += 1
                    day += timedelta(days=1)
                elif day.weekday() != 6 or self.week.get(5):
                    names.append(DAYS[day.weekday()].capitalize())
                else:
                    weekends += 1
            day += timedelta(days=1)
        if weekends:
            names.insert(0, "the weekend" if weekends == 1 else f"{weekends} weekends")
        return names


class OpenTimeline:
    """A weekly calendar's open intervals over a fixed span, searched by bisection: `open_until` and its
    inverse `moment` in well under a microsecond. Totals count from the start of the span; outside the
    span the calendar counts as closed (`moment` answers infinity past the end)."""

    def __init__(self, calendar: WeeklyHours, first: date, last: date) -> None:
        import array

        self.name = calendar.name
        starts, ends, before, after = array.array("d"), array.array("d"), array.array("d"), array.array("d")
        total = 0.0
        day = first
        while day <= last:
            for s, e in calendar._stamps(day):
                starts.append(s)
                ends.append(e)
                before.append(total)
                total += e - s
                after.append(total)
            day += timedelta(days=1)
        self.starts, self.ends, self.before, self.after = starts, ends, before, after

    def open_until(self, ts: float) -> float:
        i = bisect_right(self.starts, ts) - 1
        if i < 0:
            return 0.0
        end = self.ends[i]
        return self.before[i] + ((ts if ts < end else end) - self.starts[i])

    def moment(self, hint: float, total: float) -> float:
        if total <= self.open_until(hint):
            return hint
        i = bisect_left(self.after, total)
        if i >= len(self.after):
            return float("inf")
        return self.starts[i] + (total - self.before[i])

    def _arrays(self) -> tuple[Any, ...]:
        import numpy as np

        return tuple(np.frombuffer(a, dtype=np.float64) for a in (self.starts, self.ends, self.before, self.after))

    def open_until_many(self, ts: Any) -> Any:
        """`open_until` of every timestamp of a NumPy array."""
        import numpy as np

        starts, ends, before, _ = self._arrays()
        if not len(starts):
            return np.zeros_like(ts)
        i = np.searchsorted(starts, ts, side="right") - 1
        j = np.maximum(i, 0)
        return np.where(i < 0, 0.0, before[j] + (np.minimum(ts, ends[j]) - starts[j]))

    def moment_many(self, hints: Any, totals: Any) -> Any:
        """`moment` of every pair of NumPy arrays (infinity past the end of the span)."""
        import numpy as np

        starts, _, before, after = self._arrays()
        if not len(starts):
            return np.where(totals <= 0, hints, np.inf)
        i = np.searchsorted(after, totals, side="left")
        k = np.minimum(i, len(after) - 1)
        return np.maximum(hints, np.where(i < len(after), starts[k] + (totals - before[k]), np.inf))


def public_holidays(country: str, subdivision: str | None) -> Any:
    """Public holidays from the `holidays` package (imported only for calendars that use it)."""
    import holidays

    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        raise ValueError(f"no public holidays known for country `{country}`"
                         + (f" subdivision `{subdivision}`" if subdivision else "")) from None
