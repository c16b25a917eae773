"""Durations as matrix authors write them (`15m`, `2h`, `1d 4h`) and as ISO 8601 (`PT15M`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache

_PART = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[wdhms]\s*)+$")
_BUSINESS_DAYS = re.compile(r"^\s*(\d+)\s*bd\s*$")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class BusinessDays(timedelta):
    """`N` business days as a matrix writes them (`1bd`): N times the open hours of a business day of the
    calendar the target runs on. Read from the file it stands for N x 24 h (`day=None`) until the loader
    gives it its calendar's business day (`with_day`)."""

    count: int
    day: timedelta | None

    def __new__(cls, count: int, day: timedelta | None = None) -> BusinessDays:
        made = super().__new__(cls, seconds=count * (day or timedelta(days=1)).total_seconds())
        made.count, made.day = count, day
        return made

    def with_day(self, day: timedelta) -> BusinessDays:
        return BusinessDays(self.count, day)

    def __reduce__(self) -> tuple[type, tuple[int, timedelta | None]]:
        return (BusinessDays, (self.count, self.day))


_END_OF_DAY = re.compile(r"^\s*(?:end of (next )?business day|eod(?:\s*\+\s*(\d+))?)\s*$", re.IGNORECASE)


class EndOfDay(timedelta):
    """A target that falls at the close of a business day of its calendar rather than after a fixed time:
    `end of business day` (the close of the business day a ticket arrives in; one that arrives after the close,
    or on a closed day, arrives in the next) and `end of next business day` (`eod+1`: one business day later).

    How much open time that leaves depends on when the ticket arrives, so it is worked out per ticket
    (`for_ticket`). Read from the file, its value is `after + 1` days, the most it can leave, until the loader
    gives it its calendar's business day (`with_day`); a ticket's form carries the open time it leaves."""

    after: int
    day: timedelta | None
    ticket: bool  # the value is one ticket's open time

    def __new__(cls, after: int, day: timedelta | None = None, open_time: timedelta | None = None) -> EndOfDay:
        seconds = (open_time.total_seconds() if open_time is not None
                   else (after + 1) * (day or timedelta(days=1)).total_seconds())
        made = super().__new__(cls, seconds=seconds)
        made.after, made.day, made.ticket = after, day, open_time is not None
        return made

    def with_day(self, day: timedelta) -> EndOfDay:
        return EndOfDay(self.after, day)

    def for_ticket(self, open_time: timedelta) -> EndOfDay:
        return EndOfDay(self.after, self.day, open_time)

    def words(self) -> str:
        return ("end of business day" if self.after == 0 else "end of next business day" if self.after == 1
                else f"end of business day + {self.after}")

    def __reduce__(self) -> tuple[type, tuple[int, timedelta | None, timedelta | None]]:
        return (EndOfDay, (self.after, self.day, timedelta(seconds=self.total_seconds()) if self.ticket else None))


def parse_duration(text: str) -> timedelta:
    """Parse `90m`, `1h 30m`, `2d`, business days, `1bd`, or the close of a business day, `end of next business
    day` (`eod+1`); raise ValueError on anything else."""
    if isinstance(text, str) and (days := _BUSINESS_DAYS.match(text)):
        return BusinessDays(int(days.group(1)))
    if isinstance(text, str) and (end := _END_OF_DAY.match(text)):
        return EndOfDay(1 if end.group(1) else int(end.group(2) or 0))
    if not isinstance(text, str) or not _WHOLE.match(text):
        raise ValueError(f"not a duration: {text!r} (write it like 15m, 2h, 1d 4h, 1bd for a business day, or end of "
                         "next business day)")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    return timedelta(seconds=seconds)


@lru_cache(maxsize=1024)  # a matrix has a few dozen durations; bulk commands write them over and over
def iso_duration(delta: timedelta) -> str:
    """ISO 8601 duration with hours and minutes only (`PT1H30M`); days stay hours, so the
    figure reads the same on a business-hours calendar, where a day is not 24 hours."""
    total = int(delta.total_seconds())
    if total == 0:
        return "PT0M"
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if seconds:
        out += f"{seconds}S"
    return out


def iso_moment(moment: datetime) -> str:
    """`moment.isoformat(timespec="seconds")`, several times faster by orjson (bulk outputs write many);
    an offset with seconds, which orjson would cut to minutes, takes the slow way."""
    import orjson

    offset = moment.utcoffset()
    if offset is not None and offset.seconds % 60:
        return moment.isoformat(timespec="seconds")
    return orjson.dumps(moment, option=orjson.OPT_OMIT_MICROSECONDS)[1:-1].decode()


def human_duration(delta: timedelta, *, business: bool = False, named: bool = True) -> str:
    """Short human form: `25 min`, `2 h`, `1 h 30 min`, `3 d 2 h`; with `business`, open hours only
    (`40 h of business time`), because a business day is not 24 hours. Without `named`, the words "of business
    time" are left off, for a place that says business hours once for many durations (a table row, a message).
    Business days read as written, with their open hours: `1 business day (8 h)`."""
    if isinstance(delta, EndOfDay):
        if not delta.ticket:
            return delta.words()
        left = human_duration(timedelta(seconds=delta.total_seconds()), business=True, named=False)
        return f"{delta.words()} ({left})"
    if isinstance(delta, BusinessDays):
        written = f"{delta.count} business day{'s' if delta.count != 1 else ''}"
        if delta.day is None:
            return written
        return f"{written} ({human_duration(timedelta(seconds=delta.total_seconds()), business=True, named=False)})"
    total = round(delta.total_seconds() / 60)
    if business:
        hours, minutes = divmod(total, 60)
        return " ".join(p for p in (f"{hours} h" if hours else "", f"{minutes} min" if minutes or not hours else "")
                        if p) + (" of business time" if named else "")
    if total < 60:
        return f"{total} min"
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts)
