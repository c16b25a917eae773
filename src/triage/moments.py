"""Columns of times read as whole arrays: ISO 8601 times with a zone parsed by NumPy, a column at a time,
and kept as exact microseconds since the epoch; a datetime is made only where one is looked at.

The cell-by-cell reader (`datetime.fromisoformat`, then a looser one) stays the judge: a column holding
anything this reader does not take whole (another shape, an impossible date, a time without a zone) is
handed back to it, so every value read here is the one `fromisoformat` gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@lru_cache(maxsize=256)
def zone_of(offset: int) -> timezone:
    """The fixed zone of a UTC offset in seconds (UTC itself for 0, as `fromisoformat` gives it)."""
    return timezone.utc if offset == 0 else timezone(timedelta(seconds=offset))


class Moments:
    """One time field of a batch: `micros` (int64 microseconds since the epoch), `stamps` (the same as float
    seconds, NaN where the cell was empty) and `offsets` (each time's UTC offset in seconds). Indexing gives
    the datetime (or None), as a list of datetimes would."""

    __slots__ = ("micros", "stamps", "offsets", "_lists")

    def __init__(self, micros: Any, stamps: Any, offsets: Any) -> None:
        self.micros, self.stamps, self.offsets = micros, stamps, offsets
        self._lists: tuple[list[int], list[int], list[bool]] | None = None

    def __len__(self) -> int:
        return len(self.stamps)

    def _values(self) -> tuple[list[int], list[int], list[bool]]:
        """The arrays as Python lists, made when a first datetime is asked for: cheaper to index one by one."""
        if self._lists is None:
            import numpy as np

            self._lists = self.micros.tolist(), self.offsets.tolist(), np.isnan(self.stamps).tolist()
        return self._lists

    def __getitem__(self, i: int) -> datetime | None:
        micros, offsets, empty = self._values()
        if empty[i]:
            return None
        return (EPOCH + timedelta(microseconds=micros[i])).astimezone(zone_of(offsets[i]))

    def zone(self, i: int) -> timezone:
        """The zone the i-th time was written in."""
        return zone_of(self._values()[1][i])

    def __iter__(self) -> Iterator[datetime | None]:
        return map(self.__getitem__, range(len(self)))

    def __contains__(self, item: object) -> bool:
        import numpy as np

        if item is None:
            return bool(np.isnan(self.stamps).any())
        return any(m == item for m in self)

    def missing(self) -> list[int]:
        """The rows without a time."""
        import numpy as np

        return np.flatnonzero(np.isnan(self.stamps)).tolist()

    def take(self, rows: Any) -> Moments:
        return Moments(self.micros[rows], self.stamps[rows], self.offsets[rows])


class MomentLists:
    """A list of times per ticket (customer updates), flat: `flat` holds every ticket's times in turn, each
    ticket's in time order, `counts` how many each ticket has. Indexing gives a ticket's list of datetimes."""

    __slots__ = ("flat", "counts", "starts")

    def __init__(self, flat: Moments, counts: Any) -> None:
        import numpy as np

        self.flat, self.counts = flat, counts
        self.starts = np.cumsum(counts) - counts

    def __len__(self) -> int:
        return len(self.counts)

    def __getitem__(self, i: int) -> list[datetime]:
        start = int(self.starts[i])
        return [self.flat[j] for j in range(start, start + int(self.counts[i]))]  # type: ignore[misc]

    def at(self, i: int, k: int) -> datetime:
        """The k-th time of the i-th ticket."""
        return self.flat[int(self.starts[i]) + k]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[list[datetime]]:
        return map(self.__getitem__, range(len(self)))

    def take(self, rows: Any) -> MomentLists:
        import numpy as np

        counts = self.counts[rows]
        picked = np.repeat(self.starts[rows], counts) + (np.arange(int(counts.sum())) -
                                                        np.repeat(np.cumsum(counts) - counts, counts))
        return MomentLists(self.flat.take(picked), counts)


def instant(times: Moments | list[datetime], i: int) -> tuple[int, int]:
    """(microseconds since the epoch, UTC offset in seconds) of the i-th time of a column."""
    if isinstance(times, Moments):
        micros, offsets, _ = times._values()
        return micros[i], offsets[i]
    moment = times[i]
    return (moment - EPOCH) // MICROSECOND, int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]


def zone_at(times: Moments | list[datetime], i: int) -> Any:
    """The zone of the i-th time of a column (Moments or a list of datetimes)."""
    return times.zone(i) if isinstance(times, Moments) else times[i].tzinfo  # type: ignore[union-attr]


def update_at(updates: MomentLists | list[list[datetime]], i: int, k: int) -> datetime:
    """The k-th update of the i-th ticket (MomentLists or lists of datetimes)."""
    return updates.at(i, k) if isinstance(updates, MomentLists) else updates[i][k]



def read_column(texts: list[str]) -> Moments | None:
    """The times of a column of ISO 8601 cells with a zone (`2026-11-27T10:00:00Z`, `...+01:00`, seconds
    with up to six decimals, `T` or a space between date and time), an empty cell giving no time; None when
    any cell is anything else."""
    import numpy as np

    n = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    try:
        raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    micros = np.zeros(n, dtype=np.int64)
    stamps = np.full(n, np.nan)
    offsets = np.zeros(n, dtype=np.int64)
    widths = np.unique(lengths).tolist()
    for width in widths:
        if width == 0:
            continue
        if len(widths) == 1:
            rows: Any = slice(None)
            cells = raw.reshape(n, width)
        else:
            rows = np.flatnonzero(lengths == width)
            cells = raw[(np.cumsum(lengths) - lengths)[rows][:, None] + np.arange(width)]
        parsed = _fixed_width(cells, width)
        if parsed is None:
            return None
        micros[rows], offsets[rows] = parsed
        if (np.abs(micros[rows]) >= 1 << 53).any():  # before 1685 or after 2255: not exact as float microseconds
            return None
        stamps[rows] = micros[rows] / 1e6  # the division `datetime.timestamp` makes, to the same float
    return Moments(micros, stamps, offsets)


def read_lists(texts: list[str], separator: str) -> MomentLists | None:
    """Cells that each hold times joined by `separator` (an empty cell, none), as `read_column` reads them."""
    import numpy as np

    if not separator:
        return None
    items = separator.join(texts).split(separator)
    if len(items) == len(texts):  # at most one time a cell
        counts = np.fromiter(map(bool, texts), dtype=np.int64, count=len(texts))
    else:
        counts = np.fromiter((t.count(separator) + 1 if t else 0 for t in texts), dtype=np.int64, count=len(texts))
    if "" in items:
        items = [t for t in items if t]
        if len(items) != int(counts.sum()):  # an empty time between separators: the cell-by-cell reader decides
            return None
    flat = read_column(items)
    if flat is None:
        return None
    if len(items) > 1:
        owner = np.repeat(np.arange(len(texts)), counts)
        step = np.diff(flat.micros)
        if ((step < 0) & (np.diff(owner) == 0)).any():  # each ticket's times in time order, ties as they came
            flat = flat.take(np.lexsort((flat.micros, owner)))
    return MomentLists(flat, counts)


def _fixed_width(cells: Any, width: int) -> tuple[Any, Any] | None:
    """(microseconds since the epoch, UTC offsets in seconds) of rows of `width` ASCII bytes, or None."""
    import numpy as np

    if width < 20:
        return None
    if (cells[:, -1] == ord("Z")).all():
        zone = 1
    elif width >= 25 and np.isin(cells[:, -6], (ord("+"), ord("-"))).all() and (cells[:, -3] == ord(":")).all():
        zone = 6
    else:
        return None
    body = width - zone
    decimals = body - 20 if body > 19 else 0
    if body != 19 and not (1 <= decimals <= 6 and (cells[:, 19] == ord(".")).all()):
        return None
    for position, char in ((4, "-"), (7, "-"), (13, ":"), (16, ":")):
        if not (cells[:, position] == ord(char)).all():
            return None
    if not np.isin(cells[:, 10], (ord("T"), ord(" "))).all():
        return None
    places = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, *range(20, 20 + decimals)]
    if zone == 6:
        places += [width - 5, width - 4, width - 2, width - 1]
    digits = cells[:, places].astype(np.int64) - ord("0")
    if ((digits < 0) | (digits > 9)).any():
        return None
    d = digits.T
    year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
    month, day = d[4] * 10 + d[5], d[6] * 10 + d[7]
    hour, minute, second = d[8] * 10 + d[9], d[10] * 10 + d[11], d[12] * 10 + d[13]
    fraction = np.zeros(len(year), dtype=np.int64)
    for k in range(decimals):
        fraction += d[14 + k] * 10 ** (5 - k)
    if zone == 6:
        sign = np.where(cells[:, -6] == ord("-"), -1, 1)
        zone_hours, zone_minutes = d[-4] * 10 + d[-3], d[-2] * 10 + d[-1]
        if (zone_hours > 23).any() or (zone_minutes > 59).any():
            return None
        offset = sign * (zone_hours * 3600 + zone_minutes * 60)
    else:
        offset = np.zeros(len(year), dtype=np.int64)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if ((year < 2) | (year > 9998) | (month < 1) | (month > 12) | (day < 1) | (hour > 23) | (minute > 59)
            | (second > 59)).any():  # the first and last years are left to datetime, which knows its limits
        return None
    if (day > np.asarray(_MONTH_DAYS)[np.clip(month, 0, 12)] + (leap & (month == 2))).any():
        return None
    # days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year eras from 1 March
    y = year - (month <= 2)
    era = y // 400
    years = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + years * 365 + years // 4 - years // 100 + day_of_year - 719468
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    return seconds * 1_000_000 + fraction, offset
