"""The shared Narwhals helpers: time as microseconds on every engine."""

from __future__ import annotations

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from journey_lib._frames import lazy_events, with_microseconds
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
