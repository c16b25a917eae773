"""Columns of times read as whole arrays: ISO 8601 times with a zone parsed by NumPy, a column at a time,
and kept as exact microseconds since the epoch; a datetime is made only where one is looked at.

The cell-by-cell reader (`datetime.fromisoformat`, then a looser one) stays the judge: a column holding
anything this reader does not take whole (another shape, an impossible date, a time without a zone) is
handed back to it, so every value read here is the one `fromisoformat` gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@lru_cache(maxsize=256)
def zone_of(offset: int) -> timezone:
    """The fixed zone of a UTC offset in seconds (UTC itself for 0, as `fromisoformat` gives it)."""
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))


class Moments:
    """One time field of a batch: `micros` (int64 microseconds since the epoch), `stamps` (the same as float
    seconds, NaN where the cell was empty) and `offsets` (each time's UTC offset in seconds). Indexing gives
    the datetime (or None), as a list of datetimes would."""

    __slots__ = ("_lists", "micros", "offsets", "stamps")

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

    __slots__ = ("counts", "flat", "starts")

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


_YEAR_1000, _YEAR_10000 = -30_610_224_000_000_000, 253_402_300_800_000_000  # microseconds since the epoch


def micros_of(stamps: Any) -> Any | None:
    """Microseconds since the epoch of float timestamps, rounded as `datetime.fromtimestamp` rounds them (the
    fraction of a second, half to even); None when any is negative or not finite."""
    import numpy as np

    if not (np.isfinite(stamps).all() and (stamps >= 0).all()):
        return None
    fraction, whole = np.modf(stamps)
    return whole.astype(np.int64) * 1_000_000 + np.round(fraction * 1e6).astype(np.int64)


def iso_texts(micros: Any, offsets: Any) -> list[str] | None:
    """`durations.iso_moment` of each time (microseconds since the epoch) in the zone of its UTC offset
    (seconds), for whole arrays at once; None when any falls outside the years 1000 to 9999."""
    import numpy as np

    local = micros + offsets * 1_000_000
    if len(local) and (local.min() < _YEAR_1000 or local.max() >= _YEAR_10000):
        return None
    texts = np.datetime_as_string(local.astype("datetime64[us]"), unit="s").tolist()
    return [text + _offset_text(offset) for text, offset in zip(texts, offsets.tolist())]


@lru_cache(maxsize=256)
def _offset_text(offset: int) -> str:
    """A UTC offset in seconds as ISO 8601 writes it: +HH:MM, with :SS when it has seconds."""
    sign, size = ("-", -offset) if offset < 0 else ("+", offset)
    hours, rest = divmod(size, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def instant(times: Moments | Sequence[datetime | None], i: int) -> tuple[int, int]:
    """(microseconds since the epoch, UTC offset in seconds) of the i-th time of a column."""
    if isinstance(times, Moments):
        micros, offsets, _ = times._values()
        return micros[i], offsets[i]
    moment = times[i]
    if moment is None:
        raise ValueError(f"no time in row {i}")
    offset = moment.utcoffset()
    return (moment - EPOCH) // MICROSECOND, int(offset.total_seconds()) if offset is not None else 0


def zone_at(times: Moments | list[datetime], i: int) -> Any:
    """The zone of the i-th time of a column (Moments or a list of datetimes)."""
    return times.zone(i) if isinstance(times, Moments) else times[i].tzinfo


def update_at(updates: MomentLists | list[list[datetime]], i: int, k: int) -> datetime:
    """The k-th update of the i-th ticket (MomentLists or lists of datetimes)."""
    return updates.at(i, k) if isinstance(updates, MomentLists) else updates[i][k]


def read_column(texts: list[str]) -> Moments | None:
    """The times of a column of ISO 8601 cells with a zone (`2026-11-27T10:00:00Z`, `...+01:00`, seconds
    with up to six decimals, `T` or a space between date and time), an empty cell giving no time; None when
    any cell is anything else."""
    import numpy as np

    n = len(texts)
    width = len(texts[0]) if n else 0
    if width:  # the usual case, one width and no empty cell: the cells joined by NUL, a row of width + 1 bytes each
        try:
            joined = ("\x00".join(texts) + "\x00").encode("ascii")
        except UnicodeEncodeError:
            return None
        if len(joined) == n * (width + 1):
            # a cell of another width puts a NUL inside some row, which no time has: such rows are not read
            cells = np.frombuffer(joined, dtype=np.uint8).reshape(n, width + 1)[:, :width]
            parsed = _fixed_width(cells, width)
            if parsed is not None:
                return Moments(parsed[0], parsed[0] / 1e6, parsed[1])
    lengths: Any = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    try:
        raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    if n and lengths[0] and (lengths == lengths[0]).all():  # one width, already found not to be times
        return None
    micros = np.zeros(n, dtype=np.int64)
    stamps = np.full(n, np.nan)
    offsets = np.zeros(n, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    for width in np.unique(lengths).tolist():
        if width == 0:
            continue
        rows = np.flatnonzero(lengths == width)
        parsed = _fixed_width(raw[starts[rows][:, None] + np.arange(width)], width)
        if parsed is None:
            return None
        micros[rows], offsets[rows] = parsed
        stamps[rows] = parsed[0] / 1e6  # the division `datetime.timestamp` makes, to the same float
    return Moments(micros, stamps, offsets)


def read_lists(texts: list[str], separator: str) -> MomentLists | None:
    """Cells that each hold times joined by `separator` (an empty cell, none), as `read_column` reads them."""
    import numpy as np

    if not separator:
        return None
    items = separator.join(texts).split(separator) if texts else []
    counts: Any
    if len(items) == len(texts):  # at most one time a cell
        counts = np.fromiter(map(bool, texts), dtype=np.int64, count=len(texts))
        times = [t for t in items if t] if "" in items else items
    else:
        times = [t for t in items if t]
        counts = _counts(texts, times, len(items) - len(times), separator)
        if counts is None:  # an empty time between separators: the cell-by-cell reader decides
            return None
    flat = read_column(times)
    if flat is None:
        return None
    if len(times) > 1:
        owner = np.repeat(np.arange(len(texts)), counts)
        step = np.diff(flat.micros)
        if ((step < 0) & (np.diff(owner) == 0)).any():  # each ticket's times in time order, ties as they came
            flat = flat.take(np.lexsort((flat.micros, owner)))
    return MomentLists(flat, counts)


def _counts(texts: list[str], times: list[str], blanks: int, separator: str) -> Any | None:
    """How many times each text holds, `times` being all of them and `blanks` the empty strings its split
    gave; None when a text has an empty one between separators. From the lengths alone when every time is
    as long as the others, else by counting separators."""
    import numpy as np

    n = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    if blanks != int(np.count_nonzero(lengths == 0)):  # empty strings other than the empty cells'
        return None
    width = len(times[0]) if times else 0
    if width and (np.fromiter(map(len, times), dtype=np.int64, count=len(times)) == width).all():
        counts, rest = np.divmod(lengths + len(separator), width + len(separator))
        if not rest[lengths > 0].any():
            return counts
    counts = np.fromiter((t.count(separator) + 1 if t else 0 for t in texts), dtype=np.int64, count=n)
    return counts if int(counts.sum()) == len(times) else None


_FIRST_YEAR, _LAST_YEAR = 1686, 2254  # times outside are left to datetime: their microseconds outgrow a float's


def _fixed_width(cells: Any, width: int) -> tuple[Any, Any] | None:
    """(microseconds since the epoch, UTC offsets in seconds) of rows of `width` ASCII bytes, or None."""
    import numpy as np

    shape = _shape(width, bool((cells[:, -1] == ord("Z")).all()))
    if shape is None:
        return None
    marks, expected, alternative, places, paired, low, high, scale = shape
    chars = cells[:, marks]
    if not ((chars == expected) | (chars == alternative)).all():
        return None
    digits = cells[:, places] - np.uint8(ord("0"))  # wraps round below "0": one test for both ends
    if (digits > 9).any():
        return None
    digits = np.ascontiguousarray(digits.T)  # a row for each place: arithmetic a place at a time
    # two-digit numbers: century, year, month, day, hour, minute, second, and an offset's hours and minutes
    pairs = digits[0:paired:2] * np.uint8(10) + digits[1:paired:2]  # at most 99: bytes still
    if ((pairs < low) | (pairs > high)).any():
        return None
    pairs = pairs.astype(np.int64)
    year = pairs[0] * 100 + pairs[1]
    if ((year < _FIRST_YEAR) | (year > _LAST_YEAR)).any():
        return None
    days_before, month_days = _calendar()
    month = (year - _FIRST_YEAR) * 12 + pairs[2] - 1
    if (pairs[3] > month_days[month]).any():
        return None
    offset = ((pairs[7] * 3600 + pairs[8] * 60) * np.where(cells[:, -6] == ord("-"), -1, 1) if paired > 14
              else np.zeros(len(year), dtype=np.int64))
    seconds = (days_before[month] + pairs[3] - 1) * 86400 + pairs[4] * 3600 + pairs[5] * 60 + pairs[6] - offset
    micros = seconds * 1_000_000
    if len(scale):
        micros += (digits[paired:].astype(np.int64) * scale).sum(axis=0)
    return micros, offset


@lru_cache(maxsize=1)
def _calendar() -> tuple[Any, Any]:
    """For each month from January of the first year read whole to December of the last: the days from
    1970-01-01 to its first day, and its length."""
    import numpy as np

    firsts = [date(year, month, 1).toordinal() for year in range(_FIRST_YEAR, _LAST_YEAR + 2) for month in range(1, 13)]
    ordinals = np.array(firsts, dtype=np.int64)
    return ordinals[:-12] - date(1970, 1, 1).toordinal(), np.diff(ordinals)[:-11]


@lru_cache(maxsize=64)
def _shape(width: int, zulu: bool) -> tuple[Any, ...] | None:
    """For times `width` characters long ending in Z (`zulu`) or in an offset: the places of fixed characters
    with the character expected there and the one other allowed (a space between date and time, a minus
    before an offset); the places of the digits, those read in pairs first and how many they are; the
    pairs' lowest and highest values; the microseconds each decimal of a second is worth."""
    import numpy as np

    zone = 1 if zulu else 6
    body = width - zone
    decimals = body - 20 if body > 19 else 0
    if body < 19 or (body > 19 and not 1 <= decimals <= 6) or (not zulu and width < 25):
        return None
    marks = {4: "--", 7: "--", 10: "T ", 13: "::", 16: "::"}
    if decimals:
        marks[19] = ".."
    if zulu:
        marks[width - 1] = "ZZ"
    else:
        marks[width - 6], marks[width - 3] = "+-", "::"
    places = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    low, high = [0, 0, 1, 1, 0, 0, 0], [99, 99, 12, 31, 23, 59, 59]
    if not zulu:
        places += [width - 5, width - 4, width - 2, width - 1]
        low, high = [*low, 0, 0], [*high, 23, 59]
    paired = len(places)
    places += range(20, 20 + decimals)
    expected = np.array([ord(pair[0]) for pair in marks.values()], dtype=np.uint8)
    alternative = np.array([ord(pair[1]) for pair in marks.values()], dtype=np.uint8)
    scale = np.array([10 ** (5 - k) for k in range(decimals)], dtype=np.int64)[:, None]
    return (list(marks), expected, alternative, places, paired, np.array(low, dtype=np.uint8)[:, None],
            np.array(high, dtype=np.uint8)[:, None], scale)
