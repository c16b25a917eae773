"""Calendars: business hours, holidays (whole and partial days), daylight-saving changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.matrix import calendars as cal

from .conftest import NEW_YORK, run

BASE = {"confirmed": "yes", "security": "no", "scope": "one_user", "impact": "inconvenient", "workaround": "available"}


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize(("start", "hours", "due"), [
    # Friday 16:00, one hour left; Monday 18 January 2027 is a holiday, so the rest lands on Tuesday.
    (ny(2027, 1, 15, 16, 0), 4, ny(2027, 1, 19, 12, 0)),
    # Friday before the spring-forward weekend: Monday's 09:00 is EDT, not EST.
    (ny(2027, 3, 12, 16, 0), 4, ny(2027, 3, 15, 12, 0)),
    # Christmas Eve is open 09:00-13:00 only, Christmas Day is closed.
    (ny(2026, 12, 23, 16, 0), 4, ny(2026, 12, 24, 12, 0)),
    (ny(2026, 12, 23, 16, 0), 8, ny(2026, 12, 28, 12, 0)),
    # Triaged at night: the clock starts when business opens.
    (ny(2026, 12, 1, 22, 30), 4, ny(2026, 12, 2, 13, 0)),
    # Triaged on a Saturday.
    (ny(2026, 12, 5, 11, 0), 1, ny(2026, 12, 7, 10, 0)),
    # Exactly at closing time.
    (ny(2026, 12, 4, 17, 0), 1, ny(2026, 12, 7, 10, 0)),
])
def test_business_hours(matrix, start, hours, due):
    business = matrix.calendars["business_hours"]
    got = business.add(start, timedelta(hours=hours))
    assert got == due
    assert got.utcoffset() == due.utcoffset()
    assert business.elapsed(start, got) == timedelta(hours=hours)


def test_severity3_on_friday_afternoon_is_acknowledged_next_business_day_after_a_holiday(matrix):
    result = run(matrix, ny(2027, 1, 15, 15, 30), **BASE)
    assert result.level == 3
    assert result.targets["acknowledge"].due == ny(2027, 1, 19, 11, 30)
    assert result.to_json()["targets"]["acknowledge"] == {"within": "PT4H", "due": "2027-01-19T11:30:00-05:00"}


def test_due_times_across_daylight_saving(matrix):
    result = run(matrix, ny(2027, 3, 12, 16, 0), **BASE)
    assert result.to_json()["targets"]["acknowledge"]["due"] == "2027-03-15T12:00:00-04:00"
    # Around the clock, 30 minutes are 30 real minutes even when the wall clock falls back an hour.
    sev1 = run(matrix, datetime(2026, 11, 1, 5, 45, tzinfo=UTC), confirmed="yes", security="yes",
               scope="one_user", impact="none")
    assert sev1.to_json()["targets"]["assign_owner"]["due"] == "2026-11-01T01:15:00-05:00"
    assert sev1.to_json()["at"] == "2026-11-01T01:45:00-04:00"


def test_around_the_clock():
    always = cal.AlwaysOpen("always")
    start = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert always.add(start, timedelta(hours=1)) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert always.elapsed(start, start - timedelta(hours=1)) == timedelta(0)


def test_public_holidays_from_the_holidays_package():
    week = {d: cal.parse_hours("09:00-17:00") for d in range(5)}
    calendar = cal.WeeklyHours("us", NEW_YORK, week, public=cal.public_holidays("US", None))
    assert calendar.open_on(date(2027, 7, 5)) == []  # Independence Day observed
    assert calendar.add(ny(2027, 7, 2, 16, 0), timedelta(hours=2)) == ny(2027, 7, 6, 10, 0)
    with pytest.raises(ValueError, match="no public holidays"):
        cal.public_holidays("XX", None)


@pytest.mark.parametrize(("spec", "days"), [("mon-fri", [0, 1, 2, 3, 4]), ("sat", [5]), ("fri-mon", [4, 5, 6, 0]),
                                            ("mon,wed", [0, 2])])
def test_day_ranges(spec, days):
    assert cal.parse_days(spec) == days


@pytest.mark.parametrize("spec", ["17:00-09:00", "25:00-26:00", "9-5", "09:00-12:00, 11:00-13:00"])
def test_bad_hours_are_refused(spec):
    with pytest.raises(ValueError):
        cal.parse_hours(spec)


def test_split_and_all_day_hours():
    assert cal.parse_hours("08:00-12:00, 13:00-24:00")[-1][1] is None
    week = {d: cal.parse_hours("00:00-24:00") for d in range(7)}
    calendar = cal.WeeklyHours("all", NEW_YORK, week)
    start = ny(2026, 11, 1, 0, 30)  # the night the clocks go back: 25 hours long
    assert calendar.add(start,
                        timedelta(hours=2)) == start.astimezone(UTC).__add__(timedelta(hours=2)).astimezone(NEW_YORK)


def test_a_calendar_that_never_opens_fails_cleanly():
    calendar = cal.WeeklyHours("never", NEW_YORK, {})
    with pytest.raises(ValueError, match="no open hours"):
        calendar.add(ny(2026, 1, 1, 9, 0), timedelta(hours=1))


def test_elapsed_matches_a_minute_by_minute_count(matrix):
    """Open time between two moments, against counting open minutes one by one."""
    import random

    business = matrix.calendars["business_hours"]
    rng = random.Random(5)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    for _ in range(40):
        a = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        b = a + timedelta(minutes=rng.randrange(0, 60 * 24 * 6))
        count, t = 0, a
        while t < b:
            local = t.astimezone(NEW_YORK)
            if any(s <= local.time() and (e is None or local.time() < e) for s, e in business.open_on(local.date())):
                count += 1
            t += timedelta(minutes=1)
        assert business.elapsed(a, b) == timedelta(minutes=count), (a, b)
        assert business.elapsed(b, a) == timedelta(0)


@pytest.mark.parametrize("name", ["America", "America/New_York - " + "x" * 400, "../../etc/passwd", "Mars/Base", ""])
def test_impossible_time_zone_names_are_a_clear_error(name):
    with pytest.raises(ValueError, match="unknown time zone"):
        cal.zone(name)


def test_the_compiled_form_agrees_with_the_calendar(matrix):
    """The arrays capacity searches give the same open time as the calendar itself, across the Thanksgiving
    holidays (closed, then open 09:00-13:00), a weekend and the spring-forward night; `moment` inverts it."""
    import random

    business = matrix.calendars["business_hours"]
    compiled = business.compiled(date(2026, 11, 20), date(2027, 4, 10))
    rng = random.Random(3)
    start = datetime(2026, 11, 21, tzinfo=NEW_YORK).timestamp()
    moments = sorted(
        [start + rng.uniform(0, 118 * 86400) for _ in range(400)]
        + [datetime(2026, 11, 27, h, tzinfo=NEW_YORK).timestamp() for h in (8, 9, 13, 14)]
    )
    for a, b in itertools.pairwise(moments):
        assert compiled.open_until(b) - compiled.open_until(a) == pytest.approx(business.seconds_between(a, b))
    for a in moments[:-1]:
        for hours in (0.5, 4, 8, 40):
            due = compiled.moment(a, compiled.open_until(a) + hours * 3600)
            assert business.seconds_between(a, due) == pytest.approx(hours * 3600)
            assert business.add(datetime.fromtimestamp(a, NEW_YORK),
                                timedelta(hours=hours)).timestamp() == pytest.approx(due)
    assert compiled.moment(start, compiled.open_until(start) + 10**9) == float("inf")  # past the span
    always = cal.AlwaysOpen("around")
    assert always.compiled(date(2026, 1, 1), date(2026, 2, 1)) is always


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.one_of(st.none(), st.timezones(),
                                        st.integers(-86399, 86399).map(lambda s: timezone(timedelta(seconds=s))))))
def test_the_fast_moment_text_is_isoformat(moment):
    from triage.matrix.durations import iso_moment

    assert iso_moment(moment) == moment.isoformat(timespec="seconds")


def _follow_the_sun() -> cal.WeeklyHours:
    """Open from Monday 10:00 in Sydney to Friday 17:00 in Los Angeles, built as the loader builds it."""
    from triage.matrix.loader import read_matrix

    from .conftest import shipped_text

    text = shipped_text().replace(
        '''    timezone: America/New_York\n    hours:\n      mon-fri: "09:00-17:00"''',
        '''    timezone: America/Los_Angeles\n    hours:\n      mon: "10:00-24:00 Australia/Sydney"\n'''
        '''      mon-thu: "00:00-24:00"\n      fri: "00:00-17:00"''', 1)
    calendar = read_matrix(text.encode(), "m.yaml").calendars["business_hours"]
    assert isinstance(calendar, cal.WeeklyHours)
    return calendar


LA = cal.zone("America/Los_Angeles")


@pytest.mark.parametrize(("start", "hours", "due"), [
    # December: Monday 10:00 in Sydney (UTC+11) is Sunday 15:00 in Los Angeles (UTC-8).
    (datetime(2026, 12, 12, 12, 0, tzinfo=LA), 1, datetime(2026, 12, 13, 16, 0, tzinfo=LA)),
    # June: Sydney is UTC+10 and Los Angeles UTC-7, so the week opens at Sunday 17:00 there.
    (datetime(2027, 6, 19, 12, 0, tzinfo=LA), 1, datetime(2027, 6, 20, 18, 0, tzinfo=LA)),
    # Friday 16:00: one hour before the Pacific close, the rest after the Sydney opening.
    (datetime(2027, 6, 25, 16, 0, tzinfo=LA), 3, datetime(2027, 6, 27, 19, 0, tzinfo=LA)),
    # Within the week it is open around the clock.
    (datetime(2027, 6, 16, 3, 0, tzinfo=LA), 5, datetime(2027, 6, 16, 8, 0, tzinfo=LA)),
])
def test_a_window_whose_ends_lie_in_two_time_zones(start, hours, due):
    calendar = _follow_the_sun()
    assert calendar.add(start, timedelta(hours=hours)) == due
    assert calendar.elapsed(start, due) == timedelta(hours=hours)
    assert "Mon 10:00-24:00 (Australia/Sydney)" in calendar.describe()


def test_an_hours_entry_with_an_unknown_zone_is_located():
    from triage.engine.lint import lint

    from .conftest import shipped_text

    text = shipped_text().replace('      mon-fri: "09:00-17:00"', '      mon-fri: "09:00-17:00 Europe/Berln"', 1)
    [problem] = [p for p in lint(text.encode(), "m.yaml", today=date(2026, 11, 27)) if p.level == "error"]
    assert problem.code == "R306" and "did you mean `Europe/Berlin`?" in problem.message
    assert text.splitlines()[problem.line - 1].strip().startswith("mon-fri:")
