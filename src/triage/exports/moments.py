"""Times of a batch of tickets as whole arrays: exact microseconds since the epoch, with the UTC offset each
was written at, and the export's zone for those written without one; a datetime is made only where one is
looked at (a breach listed, a ticket kept for the review)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
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

    __slots__ = ("_lists", "local", "micros", "offsets", "stamps", "tz")

    def __init__(self, micros: Any, stamps: Any, offsets: Any, local: Any = None, tz: tzinfo | None = None) -> None:
        self.micros, self.stamps, self.offsets = micros, stamps, offsets
        self.local, self.tz = local, tz  # which times were written without an offset, in the zone `tz`
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
        micros, _, empty = self._values()
        if empty[i]:
            return None
        return (EPOCH + timedelta(microseconds=micros[i])).astimezone(self.zone(i))

    def zone(self, i: int) -> tzinfo:
        """The zone the i-th time was written in: its UTC offset, or the export's zone for a time written
        without one."""
        if self.tz is not None and self.local is not None and self.local[i]:
            return self.tz
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
        local = None if self.local is None else self.local[rows]
        return Moments(self.micros[rows], self.stamps[rows], self.offsets[rows], local, self.tz)


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
