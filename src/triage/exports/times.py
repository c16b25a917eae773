"""Time columns of an export, read by polars a column at a time.

ISO 8601 is read whatever its details (`T` or a space, seconds and fractions or not, `Z`, `+01:00` or `+0100`).
Other shapes are read by the strftime pattern the mapping declares for the column, or else by the order of day
and month that the data itself settles: a value such as `29/02/2016` can only be day-first, `02/29/2016` only
month-first. A column where no value settles it is refused, never guessed. A time written without an offset is
in the export's zone; one that does not exist there (the hour skipped when clocks go forward) is an error, and
one that happens twice (the hour repeated when they go back) is taken as the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from triage.errors import InputError

ISO_OFFSET = r"([Zz]|[+-]\d{2}:?\d{2})$"  # hours and minutes: a date's `-05` is never taken for one
TIMES = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S%.f", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p", " %I:%M:%S%p")
# two-digit years first: %Y would take `26` as the year 26
NUMERIC = {"day_first": [f"%d{s}%m{s}{y}" for s in "/-." for y in ("%y", "%Y")],
           "month_first": [f"%m{s}%d{s}{y}" for s in "/-." for y in ("%y", "%Y")]}
NAMED = ["%d/%b/%y", "%d/%b/%Y", "%d-%b-%y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%b %d, %Y",
         "%B %d %Y", "%B %d, %Y", "%a %b %d %Y", "%a, %d %b %Y"]
OFFSET = r"([Zz]|[+-]\d{2}(?::?\d{2})?)$"


class TimeOrderError(InputError):
    """A column whose times could be day-first or month-first, with no value to settle it."""


@dataclass
class Times:
    """One column of times: `micros` since the epoch (0 where there is none), `stamps` in seconds (NaN where there
    is none), the UTC `offsets` they were written at (seconds), which were written without an offset (`local`),
    and for each row the reason it could not be read, or None."""

    micros: Any
    stamps: Any
    offsets: Any
    local: Any
    errors: pl.Series


def read_times(texts: pl.Series, zone: str, *, name: str, pattern: str | None = None,
               day_first: bool | None = None) -> Times:
    """Read a column of cleaned texts (None where the cell is empty or a missing-value word). Each step works
    on whole columns, and only on the rows the steps before it left unread."""
    text = texts.cast(pl.String)
    if pattern is not None:
        naive, offsets = _declared(text, pattern)
    else:
        offset_text = text.str.extract(ISO_OFFSET, 1)
        body = text.str.slice(0, text.str.len_chars() - offset_text.str.len_chars().fill_null(0))
        body = body.str.strip_chars_end().str.replace("T", " ", literal=True)
        naive = body.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
        for shape in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            naive = _fill(naive, text, lambda rows, shape=shape: body.gather(rows).str.replace(",", ".")
                          .str.to_datetime(shape, strict=False, time_unit="us"))
        distinct = offset_text.drop_nulls().unique()  # exports use a few offsets: each read once
        seconds = pl.select(_offset_of(pl.lit(distinct))).to_series()
        offsets = offset_text.replace_strict(distinct, seconds, default=None, return_dtype=pl.Int64)
        rest = _unread(naive, text)
        if len(rest):
            other = _other_shapes(text.gather(rest).unique().sort(), name, day_first)
            if other is not None:
                found = pl.DataFrame({"text": text.gather(rest)}).join(other, on="text", how="left")
                naive = naive.scatter(rest, found["other"])
                offsets = offsets.scatter(rest, found["other_offset"])
    local = (offsets.is_null() & naive.is_not_null()).to_numpy()
    micros = (naive.dt.epoch("us") - offsets.fill_null(0) * 1_000_000).to_numpy().astype("float64")
    offset_array = offsets.fill_null(0).to_numpy().astype("int64")
    if local.any():  # written without an offset: the export's zone, its offset at that moment
        rows = np.flatnonzero(local)
        there = naive.gather(rows).dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        micros[rows] = there.dt.epoch("us").cast(pl.Float64).to_numpy()
        offset_array[rows] = (there.dt.base_utc_offset() + there.dt.dst_offset()).dt.total_seconds().fill_null(0)\
            .to_numpy()
    stamps = micros / 1e6  # NaN where there is no time
    present = text.is_not_null().to_numpy()
    errors = pl.repeat(None, len(text), dtype=pl.String, eager=True)
    failed = np.flatnonzero(present & np.isnan(micros))
    if len(failed):
        skipped = naive.gather(failed).is_not_null()
        cells = text.gather(failed)
        errors = errors.scatter(failed, pl.select(
            pl.when(skipped).then(pl.format(f"{name}: `{{}}` does not exist in {zone} (the clocks skip that hour)",
                                            cells))
            .otherwise(pl.format(f"{name}: `{{}}` is not a time", cells))).to_series())
    return Times(np.nan_to_num(micros).astype("int64"), stamps, offset_array, local, errors)


def _declared(text: pl.Series, pattern: str) -> tuple[pl.Series, pl.Series]:
    """Times by the strftime pattern the mapping declares: (wall-clock times as written, their offsets)."""
    text = text.str.replace_all(r"\s+", " ")
    if not any(z in pattern for z in ("%z", "%:z", "%#z", "%::z")):
        return (text.str.to_datetime(pattern, strict=False, time_unit="us"),
                pl.repeat(None, len(text), dtype=pl.Int64, eager=True))
    utc = text.str.to_datetime(pattern, strict=False, time_unit="us", time_zone="UTC").dt.replace_time_zone(None)
    offsets = pl.select(_offset_of(pl.lit(text.str.extract(OFFSET, 1)))).to_series()
    return pl.select(utc + offsets * pl.duration(seconds=1)).to_series(), offsets


def _unread(naive: pl.Series, text: pl.Series) -> pl.Series:
    """The rows with text that no step has read yet."""
    return (naive.is_null() & text.is_not_null()).arg_true()


def _fill(naive: pl.Series, text: pl.Series, read: Any) -> pl.Series:
    rows = _unread(naive, text)
    return naive.scatter(rows, read(rows)) if len(rows) else naive


def _offset_of(text: pl.Expr) -> pl.Expr:
    """A UTC offset written as `Z`, `+01`, `+0100` or `+01:00`, in seconds (None where there is none)."""
    digits = text.str.replace(":", "")
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    sign = pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
    seconds = sign * (hours * 3600 + minutes * 60)
    return (pl.when(text.str.to_uppercase() == "Z").then(0)
            .when((hours < 24) & (minutes < 60)).then(seconds)
            .otherwise(None)).cast(pl.Int64)


def _parse_all(texts: pl.Expr, dates: list[str]) -> pl.Expr:
    return pl.coalesce(texts.str.to_datetime(d + t, strict=False, time_unit="us") for d in dates for t in TIMES)


def _other_shapes(values: pl.Series, name: str, day_first: bool | None) -> pl.DataFrame | None:
    """The values that are not ISO 8601 (distinct ones) read by the day-first or month-first shapes, and
    shapes with month names; None when no shape reads any of them. Which order applies is settled by the
    data, or by `day_first`; a column the data cannot settle is refused."""
    body = pl.col("text").str.replace_all(r"\s+", " ").str.replace(r"\s*" + OFFSET[:-1] + r"$", "")
    frame = pl.DataFrame({"text": values}).with_columns(
        day=_parse_all(body, NUMERIC["day_first"]), month=_parse_all(body, NUMERIC["month_first"]),
        named=_parse_all(body, NAMED), other_offset=_offset_of(pl.col("text").str.extract(r"\s" + OFFSET, 1)))
    day, month = frame["day"].is_not_null(), frame["month"].is_not_null()
    if day_first is None:
        only_day, only_month = bool((day & ~month).any()), bool((month & ~day).any())
        if only_day != only_month:
            day_first = only_day
        elif only_day:  # both orders are shown by some value: the one that reads more of them
            day_first = int(day.sum()) >= int(month.sum())
        elif bool(day.any()):
            example = frame.filter(day)["text"][0]
            raise TimeOrderError(
                f"{name}: times like `{example}` could be day-first or month-first, and no value in the export "
                "settles which; set `day_first: true` or `false` in the mapping, or give the column's format "
                "under `formats`")
    numeric = "day" if day_first else "month"
    frame = frame.with_columns(other=pl.coalesce(numeric, "named"))
    if frame["other"].null_count() == len(frame):
        return None
    return frame.select("text", "other", "other_offset")
