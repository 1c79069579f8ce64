"""The shared Narwhals helpers: time as microseconds and calendar periods on every engine."""

from __future__ import annotations

import math
from fractions import Fraction

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib._engine import (
    SPARK_MASTER,
    Calendar,
    exact_mean,
    exact_sum,
    exact_terms,
    lazy_events,
    spark_session,
    to_pandas,
    with_microseconds,
)
from journey_lib._time import PERIODS, calendar_number, first_day, period_number
from journey_lib.errors import JourneyParameterError
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


def _exact_sum(values: list[float | None], engine: str, spark=None) -> float:
    if engine == "pyspark":  # None as null, not NaN
        native = spark.createDataFrame([(0, v) for v in values], "g long, v double")
    else:
        native = to_engine(pd.DataFrame({"g": 0, "v": values}), engine)
    frame = nw.from_native(native).lazy()
    summed = (
        frame.with_columns(**exact_terms(nw.col("v"), "v"))
        .group_by("g")
        .agg(nw.col("v_whole", "v_parts").sum())
    )
    return float(exact_sum(collect(summed.to_native()), "v").iloc[0])


def _exact_mean(values: list[float], engine: str) -> float:
    frame = nw.from_native(to_engine(pd.DataFrame({"g": 0, "v": values}), engine)).lazy()
    averaged = (
        frame.with_columns(**exact_terms(nw.col("v"), "v"))
        .group_by("g")
        .agg(nw.col("v_whole", "v_parts").sum(), nw.len().alias("n"))
        .select(exact_mean("v", nw.col("n")).alias("mean"))
    )
    return float(collect(averaged.to_native())["mean"].iloc[0])


# Money-like values: cents, refunds, and values with more digits than a billionth holds.
CENTS = st.integers(-(10**7), 10**7)
MONEY = st.one_of(CENTS.map(lambda cents: cents / 100), st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(MONEY, min_size=1, max_size=40), order=st.randoms(use_true_random=False))
@pytest.mark.parametrize("engine", ENGINES)
def test_exact_sums_are_the_same_bits_in_any_order_and_engine(engine, values, order):
    shuffled = list(values)
    order.shuffle(shuffled)
    want = _exact_sum(values, "pandas")
    assert _exact_sum(shuffled, engine) == want
    # Each term is kept to the nearest billionth (half a billionth off at most), and the
    # total is rounded once more.
    assert abs(want - math.fsum(values)) <= 5e-10 * len(values) + math.ulp(want)


@settings(max_examples=40, deadline=None)
@given(cents=st.lists(CENTS, min_size=1, max_size=40))
def test_exact_sums_of_cents_are_the_nearest_float_to_the_true_sum(cents):
    # Whole billionths, counted exactly and divided once: refunds and all.
    assert _exact_sum([c / 100 for c in cents], "pandas") == float(Fraction(sum(cents), 100))


@settings(max_examples=30, deadline=None)
@given(cents=st.lists(CENTS, min_size=1, max_size=40))
@pytest.mark.parametrize("engine", ENGINES)
def test_exact_means_of_cents_are_the_nearest_float_on_every_engine(engine, cents):
    # Divided by a column: Polars divides by a number as a product with its reciprocal.
    want = float(Fraction(sum(cents), 100 * len(cents)))
    assert _exact_mean([c / 100 for c in cents], engine) == want


def test_exact_sums_keep_cents_as_written():
    assert _exact_sum([12.34, 0.1, 0.2], "pandas") == 12.64
    assert _exact_sum([-0.1], "pandas") == -0.1
    assert _exact_sum([0.3, -0.2], "duckdb") == 0.1
    # 2**-10 is 976,562.5 billionths: the tie rounds up on every engine (pandas' own
    # round() goes to even, DuckDB's away from zero).
    tie = [-3.25, 2**-10]
    assert {_exact_sum(tie, engine) for engine in ENGINES} == {-3.249023437}


# Kept whole, as a float sum has them: infinities, values beyond 2**52, missing values.
SPECIAL = [
    ([math.inf, 1.5], math.inf),
    ([-math.inf, 2.25], -math.inf),
    ([2.0**60, 0.25, 1.5], 2.0**60 + 1.5),
    ([None, 1.25, None], 1.25),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("values", "want"), SPECIAL)
def test_exact_sums_keep_infinities_huge_values_and_gaps(engine, values, want):
    assert _exact_sum(values, engine) == want


def test_exact_sums_on_spark(spark):
    values = [0.1] * 7 + [1e6 + 0.3, -2.675, 2**-10]
    assert _exact_sum(values, "pyspark", spark) == _exact_sum(values[::-1], "pandas")
    # Spark's floor is a 64-bit integer: values beyond it must not be clamped or overflow.
    for special, want in [*SPECIAL, ([2.0**70, 2.0**70], 2.0**71)]:
        assert _exact_sum(special, "pyspark", spark) == want, special


def test_spark_session_uses_the_running_session_once_checked(spark, monkeypatch):
    monkeypatch.delenv(SPARK_MASTER, raising=False)
    assert spark_session() is spark
    monkeypatch.setenv(SPARK_MASTER, "local[3]")
    with pytest.raises(JourneyParameterError, match=r"already running.*local\[1\]"):
        spark_session()
    monkeypatch.setenv(SPARK_MASTER, "local[1]")
    spark.conf.set("spark.sql.session.timeZone", "Europe/Paris")
    try:
        with pytest.raises(JourneyParameterError, match="reads times in Europe/Paris"):
            spark_session()
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert spark_session() is spark
