"""The shared Narwhals helpers: time as microseconds and calendar periods on every engine."""

from __future__ import annotations

import math

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib._engine import (
    Calendar,
    exact_terms,
    exact_total,
    lazy_events,
    to_pandas,
    with_microseconds,
)
from journey_lib._time import PERIODS, calendar_number, first_day, period_number
from tests.engines import ENGINES, collect, to_engine

# 2024-03-01 12:00:00.000250 UTC, and the Unix epoch itself.
STAMPS = ["2024-03-01 12:00:00.000250", "1970-01-01 00:00:00.000000"]
EXPECTED = [1_709_294_400_000_250, 0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("zone", ["UTC", None, "America/New_York"])
def test_microseconds_count_from_the_utc_epoch(engine, zone):
    stamps = pd.to_datetime(STAMPS, format="ISO8601").tz_localize("UTC")
    if zone is None:
        stamps = stamps.tz_localize(None)  # naive times are read as UTC wall clock
    elif zone != "UTC":
        stamps = stamps.tz_convert(zone)  # the same instants, shown elsewhere
    frame, _ = lazy_events(
        to_engine(pd.DataFrame({"timestamp": stamps}), engine), required=("timestamp",)
    )
    out = collect(with_microseconds(frame, "us").to_native())
    assert out["us"].tolist() == EXPECTED
    assert list(out.columns) == ["timestamp", "us"]


@pytest.mark.parametrize("engine", ENGINES)
def test_microseconds_replace_a_column_of_the_same_name(engine):
    stamps = pd.to_datetime(STAMPS, format="ISO8601").tz_localize("UTC")
    native = to_engine(pd.DataFrame({"us": ["old", "old"], "timestamp": stamps}), engine)
    out = collect(with_microseconds(nw.from_native(native).lazy(), "us").to_native())
    assert out["us"].tolist() == EXPECTED
    assert list(out.columns) == ["us", "timestamp"]


def test_microseconds_on_spark(spark):
    stamps = pd.to_datetime(STAMPS, format="ISO8601").tz_localize("UTC")
    native = to_engine(pd.DataFrame({"timestamp": stamps}), "pyspark", spark)
    out = collect(with_microseconds(nw.from_native(native), "us").to_native())
    assert out["us"].tolist() == EXPECTED


def test_pandas_zones_narwhals_cannot_name_are_read_as_utc():
    # Narwhals calls datetime64[us, America/New_York] an unknown type; the log is still
    # accepted, with the same instants.
    stamps = pd.to_datetime(STAMPS, format="ISO8601").tz_localize("UTC")
    frame, eager = lazy_events(
        pd.DataFrame({"timestamp": stamps.tz_convert("America/New_York")}),
        required=("timestamp",),
    )
    assert eager
    out = with_microseconds(frame, "us").collect().to_native()
    assert out["us"].tolist() == EXPECTED


@pytest.mark.parametrize("engine", ["pandas", "polars"])
def test_a_zoned_log_is_counted_in_utc_periods_everywhere(engine):
    """23:30 UTC on January 31 is February 1 in Paris; every period here is a UTC one."""
    import polars as pl

    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-31 23:30", "2024-02-10 00:00", "2024-02-01 00:30"], utc=True
            ),
            "event": ["purchase", "purchase", "purchase"],
        }
    )
    paris = log.assign(timestamp=log["timestamp"].dt.tz_convert("Europe/Paris"))
    if engine == "polars":
        paris = pl.from_pandas(paris)

    def months(frame):
        return to_pandas(frame)["period"].dt.strftime("%Y-%m").tolist()

    assert months(jl.volumes(paris, by=None, period="month")) == ["2024-01", "2024-02"]
    assert months(jl.funnel_trend(paris, ["purchase"], period="month")) == ["2024-01", "2024-02"]
    assert jl.loyalty(paris).by_period["period"].dt.strftime("%Y-%m").tolist() == [
        "2024-01",
        "2024-02",
    ]
    cohorts = to_pandas(jl.retention(paris, period="month"))
    assert sorted(cohorts["cohort"].dt.strftime("%Y-%m").unique()) == ["2024-01", "2024-02"]


# Across a leap day, a year end, Paris's spring DST change (03:30 CEST = 01:30 UTC), a
# Sunday night and the epoch.
CALENDAR_TIMES = [
    "2024-02-29 23:59:59.999999",
    "2024-03-01 00:00:00",
    "2023-12-31 23:00:00",
    "2024-03-31 01:30:00",
    "2024-01-07 23:59:59",
    "1970-01-01 00:00:00",
    "1969-12-31 12:00:00",
]


def calendar_reference(period):
    """Each time's period number and start (naive UTC) by _time's integer arithmetic."""
    numbers, starts = [], []
    for text in CALENDAR_TIMES:
        stamp = pd.Timestamp(text)
        if period in ("day", "week"):
            us = (stamp - pd.Timestamp("1970-01-01")) // pd.Timedelta(microseconds=1)
            number = period_number(us, period)
        else:
            number = calendar_number(stamp.year, stamp.month, period)
        numbers.append(number)
        starts.append(pd.Timestamp("1970-01-01") + pd.Timedelta(days=first_day(number, period)))
    return numbers, starts


def calendar_frame(native, period, plus=None):
    frame = nw.from_native(native).lazy()
    cal = Calendar.of(frame, period)
    numbered = frame.select(n=cal.index(nw.col("timestamp"), plus=plus))
    return collect(cal.with_start(numbered, "n", "start").to_native())


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("zone", ["UTC", None])
def test_calendar_numbers_periods_alike_on_every_engine(engine, period, zone):
    stamps = pd.to_datetime(CALENDAR_TIMES, format="ISO8601").as_unit("us").tz_localize(zone)
    out = calendar_frame(to_engine(pd.DataFrame({"timestamp": stamps}), engine), period)
    numbers, starts = calendar_reference(period)
    assert out["n"].tolist() == numbers
    # Starts are UTC when the times are zoned, naive otherwise.
    assert out["start"].tolist() == [s.tz_localize(zone) for s in starts]
    # by hand: the leap day's week began on Monday 26 February 2024
    if period == "week":
        assert str(starts[0].date()) == "2024-02-26"


def test_calendar_on_spark(spark):
    stamps = pd.to_datetime(CALENDAR_TIMES, format="ISO8601").as_unit("us").tz_localize("UTC")
    native = to_engine(pd.DataFrame({"timestamp": stamps}), "pyspark", spark)
    for period in PERIODS:
        out = calendar_frame(native, period)
        numbers, starts = calendar_reference(period)
        assert out["n"].tolist() == numbers, period
        assert out["start"].tolist() == [s.tz_localize("UTC") for s in starts], period


@pytest.mark.parametrize("engine", ENGINES)
def test_calendar_index_shifts_by_a_duration_first(engine):
    stamps = pd.to_datetime(["2024-02-28 12:00"]).as_unit("us").tz_localize("UTC")
    native = to_engine(pd.DataFrame({"timestamp": stamps}), engine)
    shifted = calendar_frame(native, "day", plus=pd.Timedelta(hours=36).to_pytimedelta())
    # 12:00 on 28 February plus 36 hours is 00:00 on 1 March 2024 (a leap year)
    assert shifted["n"].tolist() == [(pd.Timestamp("2024-03-01") - pd.Timestamp("1970-01-01")).days]
    assert shifted["start"].tolist() == [pd.Timestamp("2024-03-01", tz="UTC")]


def _exact_sum(values: list[float], engine: str, spark=None) -> float:
    frame = nw.from_native(to_engine(pd.DataFrame({"g": 0, "v": values}), engine, spark)).lazy()
    summed = (
        frame.with_columns(**exact_terms(nw.col("v"), "v"))
        .group_by("g")
        .agg(nw.col("v_whole", "v_parts").sum())
        .select(exact_total("v"))
    )
    return float(collect(summed.to_native())["v"].iloc[0])


# Money-like values: cents, refunds, and values with more digits than a billionth holds.
MONEY = st.one_of(
    st.integers(-(10**8), 10**8).map(lambda cents: cents / 100),
    st.floats(-1e6, 1e6, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(MONEY, min_size=1, max_size=40), order=st.randoms(use_true_random=False))
@pytest.mark.parametrize("engine", ENGINES)
def test_exact_sums_are_the_same_bits_in_any_order_and_engine(engine, values, order):
    shuffled = list(values)
    order.shuffle(shuffled)
    want = _exact_sum(values, "pandas")
    assert _exact_sum(shuffled, engine) == want
    # Each term is kept to the nearest billionth (half a billionth off at most), and the
    # last two additions round once each.
    assert abs(want - math.fsum(values)) <= 5e-10 * len(values) + 4 * math.ulp(abs(want) + 1)


def test_exact_sums_keep_cents_as_written():
    assert _exact_sum([12.34, 0.1, 0.2], "pandas") == 12.64
    # 2**-10 is 976,562.5 billionths: the tie rounds up on every engine (pandas' own
    # round() goes to even, DuckDB's away from zero).
    tie = [-3.25, 2**-10]
    assert {_exact_sum(tie, engine) for engine in ENGINES} == {-4 + 0.750976563}


def test_exact_sums_on_spark(spark):
    values = [0.1] * 7 + [1e6 + 0.3, -2.675]
    assert _exact_sum(values, "pyspark", spark) == _exact_sum(values[::-1], "pandas")
