"""Times read from export columns by polars: ISO 8601 exactly as `datetime.fromisoformat` reads it, other shapes
by the order of day and month the data settles (never guessed), and times without an offset in the export's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.errors import InputError
from triage.exports.moments import EPOCH, MICROSECOND, Moments
from triage.exports.times import read_times

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1686, 1, 1), max_value=datetime(2254, 12, 31), timezones=offsets)
NEW_YORK = ZoneInfo("America/New_York")


def written(moment: datetime, style: int) -> str:
    """One of the ways exports write a time with a zone."""
    text = moment.isoformat(sep="T" if style % 2 else " ", timespec=("seconds", "milliseconds",
                                                                     "microseconds")[style % 3])
    if style % 5 == 0 and moment.utcoffset() == timedelta(0):
        text = text.removesuffix("+00:00") + "Z"
    if style % 7 == 0:
        text = text[:-3] + text[-2:] if text[-3] == ":" else text  # +0100 rather than +01:00
    return text


@given(st.lists(st.tuples(moments, st.integers(0, 69)), max_size=30), st.lists(st.integers(0, 29), max_size=5))
def test_iso_times_are_what_fromisoformat_reads(values, blanks):
    texts: list[str | None] = [written(m, s) for m, s in values]
    for at in blanks:
        texts.insert(at % (len(texts) + 1), None)
    read = read_times(pl.Series(texts, dtype=pl.String), "UTC", name="created_at")
    assert read.errors.null_count() == len(texts)
    for i, text in enumerate(texts):
        if text is None:
            assert np.isnan(read.stamps[i])
            continue
        expected = datetime.fromisoformat(text)
        assert read.micros[i] == (expected - EPOCH) // MICROSECOND
        assert read.offsets[i] == expected.utcoffset().total_seconds()
        assert Moments(read.micros, read.stamps, read.offsets)[i] == expected


@pytest.mark.parametrize(("texts", "day_first", "expected"), [
    (["29/2/2016 01:16", "1/3/2016 09:00"], None, ["2016-02-29T01:16", "2016-03-01T09:00"]),  # 29 settles it
    (["2/29/2016 01:16", "3/1/2016 09:00"], None, ["2016-02-29T01:16", "2016-03-01T09:00"]),
    (["02-03-2016 10:15"], True, ["2016-03-02T10:15"]),
    (["02-03-2016 10:15"], False, ["2016-02-03T10:15"]),
    (["05/Dec/26 3:00 AM", "05/Dec/26 6:30 PM"], None, ["2026-12-05T03:00", "2026-12-05T18:30"]),
    (["2026-12-05 03:00:00 +0000"], None, ["2026-12-05T03:00"]),
    (["31.12.2026 23:59:59"], None, ["2026-12-31T23:59:59"]),
])
def test_other_shapes_are_read_by_the_order_the_data_settles(texts, day_first, expected):
    read = read_times(pl.Series(texts), "UTC", name="at", day_first=day_first)
    got = [(EPOCH + int(m) * MICROSECOND).isoformat(timespec="seconds" if e.count(":") == 2 else "minutes")
           for m, e in zip(read.micros, expected)]
    assert got == [e + "+00:00" for e in expected] and read.errors.null_count() == len(texts)


def test_a_column_no_value_settles_is_refused_not_guessed():
    with pytest.raises(InputError, match=r"times like `02-03-2016 10:15` could be day-first or month-first.*day_first"):
        read_times(pl.Series(["02-03-2016 10:15", "04-05-2016 11:00"]), "UTC", name="at")


def test_a_declared_format_is_used_as_written():
    read = read_times(pl.Series(["02-03-2016 10:15 +0100", "bad"]), "UTC", name="at", pattern="%d-%m-%Y %H:%M %z")
    assert read.micros[0] == (datetime(2016, 3, 2, 9, 15, tzinfo=UTC) - EPOCH) // MICROSECOND
    assert read.offsets[0] == 3600 and read.errors.to_list() == [None, "at: `bad` is not a time"]


def test_times_without_an_offset_are_in_the_export_zone_skipped_hours_refused():
    read = read_times(pl.Series(["2027-01-05 10:00", "2027-03-14 02:30", "2027-11-07 01:30", "2027-02-30 10:00"]),
                      "America/New_York", name="created_at")
    assert read.micros[0] == (datetime(2027, 1, 5, 15, tzinfo=UTC) - EPOCH) // MICROSECOND
    assert read.offsets.tolist()[0] == -18000 and read.offsets.tolist()[2] == -14400  # the first 01:30 of the two
    assert read.errors.to_list()[1:] == [
        "created_at: `2027-03-14 02:30` does not exist in America/New_York (the clocks skip that hour)", None,
        "created_at: `2027-02-30 10:00` is not a time"]
    column = Moments(read.micros, read.stamps, read.offsets, read.local, NEW_YORK)
    assert column[0] == datetime(2027, 1, 5, 10, tzinfo=NEW_YORK) and column.zone(0) is NEW_YORK


def test_moments_index_like_a_list_of_datetimes():
    read = read_times(pl.Series(["2026-11-27T10:00:00+01:00", None, "2026-11-27T10:00:00.5Z"]), "UTC", name="x")
    column = Moments(read.micros, read.stamps, read.offsets)
    assert len(column) == 3 and column[1] is None
    assert column[0] == datetime(2026, 11, 27, 9, tzinfo=UTC) and column[0].utcoffset() == timedelta(hours=1)
    assert column[2] == datetime(2026, 11, 27, 10, 0, 0, 500000, tzinfo=UTC)
    assert column.zone(0) == timezone(timedelta(hours=1))
    assert list(column.take([2, 0])) == [column[2], column[0]]
