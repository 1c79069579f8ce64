"""journey_lib._time: durations, UTC instants, period numbers and starts, by hand and
against pandas' own Period arithmetic."""

from __future__ import annotations

import datetime as dt
import re
import warnings

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_lib._time import (
    DAY_US,
    EPOCH,
    HOUR_US,
    PERIODS,
    calendar_number,
    days_from_civil,
    duration_us,
    first_day,
    fixed_period,
    instant_us,
    period_number,
    period_or_freq,
    period_start,
    period_start_us,
    utc_datetime,
    utc_timestamp,
)
from journey_lib.errors import JourneyParameterError

#: pandas' frequency of each period, for the Period references.
PANDAS = {"hour": "h", "day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def start_of(moment: str, period: str) -> str:
    """The start of the period holding ``moment`` (a time, naive meaning UTC, or zoned) by
    _time's numbering, as ISO text in UTC."""
    us = instant_us(moment, "moment")
    if period in ("hour", "day", "week"):
        start = period_start_us(period_number(us, period), period)
    else:
        stamp = utc_timestamp(moment, "moment")
        start = first_day(calendar_number(stamp.year, stamp.month, period), period) * DAY_US
    return (EPOCH + dt.timedelta(microseconds=start)).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------ hand-computed starts


@pytest.mark.parametrize(
    ("moment", "period", "start"),
    [
        # 1970-01-01 was a Thursday; its week began on Monday 1969-12-29.
        ("1970-01-01 12:00", "week", "1969-12-29 00:00"),
        ("2024-01-01 00:00", "week", "2024-01-01 00:00"),  # a Monday is its own start
        ("2023-12-31 23:59:59.999999", "week", "2023-12-25 00:00"),  # Sunday: the week before
        # DST in Paris: 03:30 CEST on 31 March 2024 (a Sunday) is 01:30 UTC; every period is
        # a UTC one, so the zone's clock change moves nothing.
        ("2024-03-31T03:30:00+02:00", "day", "2024-03-31 00:00"),
        ("2024-03-31T03:30:00+02:00", "week", "2024-03-25 00:00"),
        ("2024-03-31T03:30:00+02:00", "hour", "2024-03-31 01:00"),
        # 00:30 CET on 1 November is still 31 October 23:30 UTC.
        ("2024-11-01T00:30:00+01:00", "month", "2024-10-01 00:00"),
        ("2024-11-01T00:30:00+01:00", "day", "2024-10-31 00:00"),
        # The ambiguous hour of the autumn change, read with its offset.
        ("2024-10-27T02:30:00+01:00", "hour", "2024-10-27 01:00"),
        # Leap years: 29 February exists in 2024 and 2000, not in 1900 or 2100.
        ("2024-02-29 18:00", "month", "2024-02-01 00:00"),
        ("2024-02-29 18:00", "week", "2024-02-26 00:00"),
        ("2024-03-01 00:00", "day", "2024-03-01 00:00"),
        ("2000-02-29 23:59", "quarter", "2000-01-01 00:00"),
        ("2100-03-01 00:00", "week", "2100-03-01 00:00"),  # a Monday
        ("1900-03-01 00:00", "week", "1900-02-26 00:00"),
        ("2024-11-15 08:00", "quarter", "2024-10-01 00:00"),
        ("2024-12-31 23:59:59.999999", "year", "2024-01-01 00:00"),
        ("1969-12-31 23:00", "day", "1969-12-31 00:00"),  # before the epoch: floors down
        ("1969-07-20 20:17", "quarter", "1969-07-01 00:00"),
        ("2024-03-10 07:59:59.999999", "hour", "2024-03-10 07:00"),
    ],
)
def test_period_starts_by_hand(moment, period, start):
    assert start_of(moment, period) == start


def test_days_from_civil_counts_leap_days_by_hand():
    # 1970-01-01 is day 0; 2000-03-01 is 30 years of 365 days, 7 leap days (1972 ... 1996)
    # and 31 + 29 days of 2000 (a leap year: divisible by 400) later.
    assert days_from_civil(1970, 1) == 0
    assert days_from_civil(2000, 3) == 30 * 365 + 7 + 31 + 29
    february = {y: days_from_civil(y, 3) - days_from_civil(y, 2) for y in (1900, 2000, 2023, 2024)}
    assert february == {1900: 28, 2000: 29, 2023: 28, 2024: 29}
    assert days_from_civil(1969, 12) == -31


def test_numbers_are_consecutive_across_year_ends():
    assert calendar_number(2023, 12, "month") + 1 == calendar_number(2024, 1, "month")
    assert calendar_number(2023, 12, "quarter") + 1 == calendar_number(2024, 1, "quarter")
    assert calendar_number(2023, 7, "year") + 1 == calendar_number(2024, 2, "year")
    sunday = instant_us("2024-01-07 23:59:59.999999", "t")
    assert period_number(sunday + 1, "week") == period_number(sunday, "week") + 1


def test_every_month_start_from_1600_to_2400_matches_the_calendar():
    epoch = dt.date(1970, 1, 1)
    for year in range(1600, 2401):
        for month in range(1, 13):
            days = (dt.date(year, month, 1) - epoch).days
            assert days_from_civil(year, month) == days
            assert first_day(calendar_number(year, month, "month"), "month") == days


# ------------------------------------------------------------------ parity with pandas

# pandas Periods hold nanosecond Timestamps: 1677 to 2262.
times = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 12, 31))


@settings(max_examples=300, deadline=None)
@given(times, st.sampled_from(list(PANDAS)))
def test_starts_equal_pandas_period_starts(moment, period):
    stamp = pd.Timestamp(moment)
    assert start_of(stamp.isoformat(), period) == (
        pd.Period(stamp, PANDAS[period]).start_time.strftime("%Y-%m-%d %H:%M")
    )


@settings(max_examples=300, deadline=None)
@given(times, times, st.sampled_from(["hour", "day", "week"]))
def test_period_numbers_differ_as_pandas_ordinals_do(first, second, period):
    us = [instant_us(t, "t") for t in (first, second)]
    ours = period_number(us[1], period) - period_number(us[0], period)
    ordinals = [pd.Period(t, PANDAS[period]).ordinal for t in (first, second)]
    assert ours == ordinals[1] - ordinals[0]
    # pandas numbers hours and days from the epoch too, and its weeks from the next one
    assert period_number(us[0], period) == ordinals[0] - (period == "week")


@settings(max_examples=100, deadline=None)
@given(st.lists(times, min_size=1, max_size=20), st.sampled_from(PERIODS))
def test_the_period_start_expression_equals_pandas_periods(moments, period):
    frame = pd.DataFrame({"t": pd.to_datetime(moments).as_unit("us")})
    got = nw.from_native(frame).select(period_start(nw.col("t"), period)).to_native()["t"]
    want = frame["t"].dt.to_period(PANDAS[period]).dt.start_time.dt.as_unit("us")
    pd.testing.assert_series_equal(got, want, check_freq=False)
    # and the same as numbering the period and turning the number back into its start
    aware = frame["t"].dt.tz_localize("UTC")
    assert got.dt.tz_localize("UTC").tolist() == [
        pd.Timestamp(start_of(t.isoformat(), period), tz="UTC") for t in aware
    ]


def test_numbers_work_on_expressions_as_on_ints():
    us = [-1, 0, 4 * DAY_US - 1, 4 * DAY_US, 400 * DAY_US + 5 * HOUR_US]
    frame = nw.from_native(pd.DataFrame({"us": us}))
    for period in ("hour", "day", "week"):
        got = frame.select(
            n=period_number(nw.col("us"), period),
            start=period_start_us(period_number(nw.col("us"), period), period),
        )
        assert got["n"].to_list() == [period_number(u, period) for u in us]
        assert got["start"].to_list() == [
            period_start_us(period_number(u, period), period) for u in us
        ]
    months = nw.from_native(
        pd.DataFrame({"n": [calendar_number(2024, m, "month") for m in (1, 2, 3, 12)]})
    )
    assert months.select(first_day(nw.col("n"), "month"))["n"].to_list() == [
        days_from_civil(2024, m) for m in (1, 2, 3, 12)
    ]


# ------------------------------------------------------------------ durations and instants


def test_durations_in_microseconds():
    assert duration_us("90min", "gap") == 90 * 60 * 1_000_000
    assert duration_us(dt.timedelta(days=14), "window") == 14 * DAY_US
    assert duration_us(pd.Timedelta(microseconds=1), "window") == 1
    assert duration_us(None, "lookback") is None  # unlimited


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "gap='soon' is not a duration; use e.g. '30min'"),
        ("0s", "gap must be a positive duration, got '0s'"),
        ("-1h", "gap must be a positive duration, got '-1h'"),
        (pd.NaT, "gap must be a positive duration"),
    ],
)
def test_bad_durations_name_the_argument(value, message):
    with pytest.raises(JourneyParameterError, match=re.escape(message)):
        duration_us(value, "gap")


def test_instants_are_utc_and_naive_means_utc():
    assert instant_us("1970-01-01", "t") == 0
    assert instant_us("1970-01-01T01:00:00+01:00", "t") == 0  # the same instant
    assert instant_us(dt.datetime(1969, 12, 31, 23, 0), "t") == -HOUR_US
    assert instant_us(pd.Timestamp("2024-06-01 02:00", tz="Europe/Paris"), "t") == instant_us(
        "2024-06-01 00:00", "t"
    )
    stamp = utc_timestamp("2024-06-01T02:00:00+02:00", "as_of")
    assert stamp == pd.Timestamp("2024-06-01 00:00", tz="UTC") and str(stamp.tz) == "UTC"
    assert utc_datetime("2024-06-01", "start") == dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "message"),
    [("garbage", "as_of='garbage' is not a date or time"), (None, "as_of must be a date")],
)
def test_bad_instants_name_the_argument(value, message):
    for convert in (utc_timestamp, utc_datetime, instant_us):
        with pytest.raises(JourneyParameterError, match=re.escape(message)):
            convert(value, "as_of")


# ------------------------------------------------------------------ the word "period"


def test_fixed_periods_by_word_or_pandas_code():
    names = {"hour": "hour", "day": "day", "week": "week", "h": "hour", "H": "hour"}
    names |= {"D": "day", "W": "week"}
    assert {name: fixed_period(name) for name in names} == names
    for bad in ("month", "M", "1D", "d", None, 7):
        with pytest.raises(JourneyParameterError, match=f"period must be one of .* got {bad!r}"):
            fixed_period(bad)


def test_freq_is_read_as_period_with_a_warning_that_says_what_to_write():
    def caller(period="day", freq=None):
        return period_or_freq(period, freq, default="day")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert caller("week") == "week"  # no freq, no warning
    with pytest.warns(DeprecationWarning) as caught:
        assert caller(freq="W") == "W"
    assert str(caught[0].message) == (
        "freq= is deprecated (removed in the next release): write period='week' instead of freq='W'"
    )
    assert caught[0].filename == __file__  # it points at the line that passed freq
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(JourneyParameterError, match="both given; freq is the former name"),
    ):
        caller("hour", freq="W")
