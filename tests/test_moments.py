"""Times read a column at a time are exactly the times `datetime.fromisoformat` reads one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.exports.measure import stamps
from triage.exports.moments import MomentLists, Moments, read_column, read_lists

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1686, 1, 1), max_value=datetime(2254, 12, 31), timezones=offsets)


def written(moment: datetime, style: int) -> str:
    """One of the ways exports write a time with a zone."""
    text = moment.isoformat(sep="T" if style % 2 else " ", timespec=("seconds", "milliseconds",
                                                                     "microseconds")[style % 3])
    if style % 5 == 0 and moment.utcoffset() == timedelta(0):
        text = text.removesuffix("+00:00") + "Z"
    return text


def one_by_one(texts: list[str]) -> list[datetime | None]:
    return [datetime.fromisoformat(t) if t else None for t in texts]


@given(st.lists(st.tuples(moments, st.integers(0, 29)), max_size=30), st.lists(st.integers(0, 29), max_size=5))
def test_a_column_is_what_fromisoformat_reads(values, blanks):
    texts = [written(m, s) for m, s in values]
    for at in blanks:
        texts.insert(at % (len(texts) + 1), "")
    column = read_column(texts)
    assert column is not None
    expected = one_by_one(texts)
    got = list(column)
    assert got == expected
    assert [d.utcoffset() if d else None for d in got] == [d.utcoffset() if d else None for d in expected]
    assert [d.isoformat() if d else None for d in got] == [d.isoformat() if d else None for d in expected]
    assert stamps(column).tolist() == pytest.approx(stamps(expected).tolist(), nan_ok=True, rel=0, abs=0)
    assert (None in column) == (None in expected) and column.missing() == [i for i,
                                                                           d in enumerate(expected) if d is None]


@pytest.mark.parametrize("text", [
    "2026-02-29T10:00:00Z", "2026-13-01T10:00:00Z", "2026-11-31T10:00:00Z", "2026-11-27T24:00:00Z",
    "2026-11-27T10:60:00Z", "2026-11-27T10:00:60Z", "2026-11-27T10:00:00+24:00", "2026-11-27T10:00:00+01:60",
    "2026-11-27T10:00:00", "2026-11-27", "27/11/2026 10:00:00Z", "2026-11-27T10:00:00.1234567Z",
    "2026-11-27T10:00:00+0100", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-27X10:00:00Z",
    "1600-01-01T00:00:00Z", "2300-01-01T00:00:00Z",
    "2026-11-27T10:00:0aZ", "２026-11-27T10:00:00Z", " 2026-11-27T10:00:00Z", "?", "-",
])
def test_anything_else_goes_back_to_the_cell_by_cell_reader(text):
    assert read_column(["2026-11-27T10:00:00Z", text]) is None


@given(st.lists(st.lists(st.tuples(moments, st.integers(0, 29)), max_size=4), max_size=12))
def test_lists_of_times_are_sorted_per_ticket_as_one_by_one(cells):
    texts = [";".join(written(m, s) for m, s in cell) for cell in cells]
    lists = read_lists(texts, ";")
    assert lists is not None
    expected = [sorted(datetime.fromisoformat(t) for t in text.split(";")) if text else [] for text in texts]
    assert list(lists) == expected
    assert [[d.isoformat() for d in ticket] for ticket in lists] == [[d.isoformat() for d in ticket] for ticket in expected]
    keep = list(range(0, len(texts), 2))
    assert list(lists.take(keep)) == [expected[i] for i in keep]


def test_lists_with_an_empty_time_go_back_to_the_cell_by_cell_reader():
    assert read_lists(["2026-11-27T10:00:00Z;", ""], ";") is None
    assert read_lists(["2026-11-27T10:00:00Z;;2026-11-27T11:00:00Z"], ";") is None
    assert read_lists(["2026-11-27T10:00:00Z"], "") is None


def test_moments_index_like_a_list_of_datetimes():
    column = read_column(["2026-11-27T10:00:00+01:00", "", "2026-11-27T10:00:00.5Z"])
    assert isinstance(column, Moments) and len(column) == 3
    assert column[0] == datetime(2026, 11, 27, 9, tzinfo=UTC) and column[0].utcoffset() == timedelta(hours=1)
    assert column[1] is None and column[2] == datetime(2026, 11, 27, 10, 0, 0, 500000, tzinfo=UTC)
    assert column[2].tzinfo is UTC and column.zone(0) == timezone(timedelta(hours=1))
    assert list(column.take([2, 0])) == [column[2], column[0]]
    assert isinstance(read_lists(["2026-11-27T10:00:00Z"], ";"), MomentLists)


@given(st.lists(st.tuples(st.integers(-8_000_000_000_000_000, 8_000_000_000_000_000),
                          st.integers(-86_399, 86_399)), max_size=20))
def test_times_as_text_whole_are_iso_moment_one_by_one(values):
    from triage.exports.moments import EPOCH, iso_texts, zone_of
    from triage.matrix.durations import iso_moment

    micros = np.array([m for m, _ in values], dtype=np.int64)
    offsets = np.array([o for _, o in values], dtype=np.int64)
    assert iso_texts(micros, offsets) == [iso_moment((EPOCH + timedelta(microseconds=m)).astimezone(zone_of(o)))
                                          for m, o in values]


@given(st.lists(st.floats(0, 2e10, allow_nan=False) | st.integers(0, 2 * 10**16).map(lambda u: u / 1e6)
                | st.integers(0, 2 * 10**10).map(lambda s: s + 0.0000005), max_size=20))
def test_microseconds_of_timestamps_are_those_fromtimestamp_gives(stamps):
    from triage.exports.moments import EPOCH, MICROSECOND, micros_of

    got = micros_of(np.array(stamps, dtype=np.float64))
    assert got.tolist() == [(datetime.fromtimestamp(s, UTC) - EPOCH) // MICROSECOND for s in stamps]
    assert micros_of(np.array([-1.0])) is None and micros_of(np.array([np.inf])) is None


@given(st.lists(st.lists(moments, max_size=4), max_size=12), st.integers(0, 29), st.sampled_from([";", " | "]))
def test_lists_of_times_of_one_width_are_counted_from_lengths_alike(cells, style, separator):
    texts = [separator.join(written(m, style) for m in cell) for cell in cells]
    lists = read_lists(texts, separator)
    assert lists is not None
    assert list(lists) == [
        sorted(datetime.fromisoformat(t) for t in text.split(separator)) if text else [] for text in texts
    ]
    assert (
        read_lists(
            [*texts, separator.join([written(cells[0][0], style)] * 2) + separator]
            if cells and cells[0]
            else texts + [separator],
            separator,
        )
        is None
    )  # a trailing separator: an empty time
