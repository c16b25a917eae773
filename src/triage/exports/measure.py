"""Open time on a calendar for whole arrays of timestamps (NumPy): what audits and capacity demand measure
a batch of tickets at a time, instead of one by one."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any, cast

from triage.exports.moments import MomentLists, Moments
from triage.matrix.calendars import AlwaysOpen

_MAX_SPAN_DAYS = 366 * 30  # a batch whose times spread wider is measured one ticket at a time
_SLACK = timedelta(days=45)  # the least a compiled span reaches past the data


class Clock:
    """Open time on one calendar for whole arrays of timestamps: the calendar's intervals compiled over the
    span of the data (widened as batches arrive), searched by bisection; the calendar's own walk for data
    spread too wide to compile."""

    def __init__(self, calendar: Any) -> None:
        self.calendar = calendar
        self.timeline: Any = None
        self.span: tuple[date, date] | None = None

    def cover(self, *columns: Any) -> Any:
        """The timeline to use for timestamps in `columns` (NaN ignored), or None: measure one by one."""
        import numpy as np

        if isinstance(self.calendar, AlwaysOpen):
            return self.calendar
        values = np.concatenate(columns)
        values = values[~np.isnan(values)]
        if not len(values):
            return self.timeline or self.calendar.compiled(date(2000, 1, 1), date(2000, 1, 1))
        lo, hi = float(values.min()), float(values.max())
        try:
            tz = self.calendar.timezone
            first = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
            last = datetime.fromtimestamp(hi, tz).date() + timedelta(days=1)
        except (OverflowError, OSError, ValueError):
            return None
        if self.span is not None and self.span[0] <= first and last <= self.span[1]:
            return self.timeline
        if (last - first).days > _MAX_SPAN_DAYS:
            return None
        if self.span is not None and (max(last, self.span[1]) - min(first, self.span[0])).days <= _MAX_SPAN_DAYS:
            first, last = min(first, self.span[0]), max(last, self.span[1])
        # reach past the data by as much again as it spans, so an export in time order recompiles a few times,
        # not once a batch
        slack = max(_SLACK, min(last - first, timedelta(days=_MAX_SPAN_DAYS)))
        try:
            first, last = first - slack, last + slack
        except OverflowError:
            return None
        self.span, self.timeline = (first, last), self.calendar.compiled(first, last)
        return self.timeline


class Measure:
    """Open time between timestamps of one batch on one calendar, as arrays."""

    def __init__(self, clock: Clock, *columns: Any) -> None:
        self.calendar = clock.calendar
        self.timeline = clock.cover(*columns)

    def between(self, start: Any, end: Any) -> Any:
        """Open seconds from each start to its end; zero when the end is not after the start."""
        import numpy as np

        if self.timeline is None:
            return np.array([self.calendar.seconds_between(a, b) for a, b in zip(start.tolist(), end.tolist())])
        spent = self.timeline.open_until_many(end) - self.timeline.open_until_many(start)
        return np.where(end > start, spent, 0.0)

    def due(self, start: Any, seconds: Any) -> Any:
        """The moments `seconds` of open time after each start."""
        import numpy as np

        if self.timeline is None:
            return self._walk(start, seconds)
        due = self.timeline.moment_many(start, self.timeline.open_until_many(start) + seconds)
        past = np.flatnonzero(~np.isfinite(due))  # beyond the compiled span: the calendar's own walk
        if len(past):
            due[past] = self._walk(start[past], seconds[past])
        return due

    def _walk(self, start: Any, seconds: Any) -> Any:
        import numpy as np

        return np.array([self.calendar.add(datetime.fromtimestamp(a, UTC), timedelta(seconds=b)).timestamp()
                         for a, b in zip(start.tolist(), seconds.tolist())], dtype=np.float64)


def stamps(moments: Sequence[datetime | None] | Moments) -> Any:
    """Epoch seconds of times (NaN for None), as `datetime.timestamp` gives them."""
    import numpy as np

    if isinstance(moments, Moments):
        return moments.stamps
    if None not in moments:
        return np.fromiter(map(datetime.timestamp, cast(Sequence[datetime], moments)), dtype=np.float64,
                           count=len(moments))
    nan = math.nan
    return np.array([nan if d is None else d.timestamp() for d in moments], dtype=np.float64)


def within(created: Any, since: datetime | None, until: datetime | None) -> Any:
    """Which creation times (a NumPy array of timestamps) fall in since..until (until excluded)."""
    import numpy as np

    chosen = np.ones(len(created), dtype=bool)
    if since is not None:
        chosen &= created >= since.timestamp()
    if until is not None:
        chosen &= created < until.timestamp()
    return chosen


@dataclass
class Part:
    """The tickets of one severity in a batch, as arrays: their rows in the batch, creation and other times,
    and their customer updates flat, ticket after ticket (`counts` of them each)."""

    level: int
    rows: Any
    created: Any
    times: dict[str, Any]
    counts: Any
    updates: Any

    @property
    def owner(self) -> Any:
        """For each update, the index (among these tickets) of the ticket it belongs to."""
        import numpy as np

        return np.repeat(np.arange(len(self.rows)), self.counts)

    def subset(self, keep: Any) -> Part:
        """These tickets where `keep` (a mask over them) holds, with their updates."""
        return Part(self.level, self.rows[keep], self.created[keep], {k: v[keep] for k, v in self.times.items()},
                    self.counts[keep], self.updates[keep[self.owner]])

    def previous(self) -> Any:
        """For each update, the moment it is measured from: the update before it, or the ticket's creation."""
        import numpy as np

        previous = np.empty_like(self.updates)
        previous[1:] = self.updates[:-1]
        firsts = (np.cumsum(self.counts) - self.counts)[self.counts > 0]
        previous[firsts] = self.created[self.counts > 0]
        return previous


def parts(batch: Any, chosen: Any, levels: Any, created: Any, names: tuple[str, ...]) -> Iterator[Part]:
    """The `chosen` tickets of a batch (a mask), a severity at a time, with the times `names` as arrays."""
    import numpy as np

    if isinstance(batch.updates, MomentLists):
        counts, moments = batch.updates.counts, batch.updates.flat.stamps
    else:
        counts = np.fromiter(map(len, batch.updates), dtype=np.int64, count=len(batch))
        moments = stamps(list(chain.from_iterable(batch.updates)))
    owners = np.repeat(np.arange(len(batch)), counts)  # the row of each update
    times = {name: stamps(getattr(batch, name)) for name in names}
    for level in np.unique(levels[chosen]).tolist():
        mask = chosen & (levels == level)
        rows = np.flatnonzero(mask)
        yield Part(level, rows, created[rows], {k: v[rows] for k, v in times.items()}, counts[rows],
                   moments[mask[owners]])


def cadence_gaps(measure: Measure, part: Part, cadence: list[tuple[float, float | None]], scale: float = 1.0
                 ) -> tuple[Any, Any, Any]:
    """Each customer update measured from the moment before it, against the cadence in force at that moment:
    (the moments measured from, the gaps, the intervals in force), in seconds divided by `scale`."""
    import numpy as np

    previous = part.previous()
    age = measure.between(np.repeat(part.created, part.counts), previous) / scale
    return previous, measure.between(previous, part.updates) / scale, interval_at(cadence, age)


def interval_at(cadence: list[tuple[float, float | None]], ages: Any) -> Any:
    """The update interval in force at each age (a NumPy array), for a cadence of (every, for how long)
    steps whose last runs on; ages and cadence in the same unit."""
    import numpy as np

    every = np.full(len(ages), cadence[-1][0])
    decided = np.zeros(len(ages), dtype=bool)
    passed = 0.0
    for interval, span in cadence:
        now = ~decided if span is None else ~decided & (ages < passed + span)
        every[now] = interval
        decided |= now
        if span is None:
            break
        passed += span
    return every
