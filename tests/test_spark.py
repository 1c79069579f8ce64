"""PySpark (local mode) gets the same answers as pandas: stages stay lazy, validation collects."""

import pandas as pd
import pytest
from engines import is_kind

import journey_lib as jl


@pytest.fixture(scope="module")
def events():
    return jl.simulate(150, seed=12).events[list(jl.CANONICAL_COLUMNS)]


def test_assign_stages_on_spark_matches_pandas_and_stays_lazy(spark, events):
    result = jl.assign_stages(spark.createDataFrame(events))
    assert is_kind(result, "pyspark")
    key = ["customer_id", "timestamp", "event"]
    got = result.toPandas().sort_values(key, kind="stable")["stage"].tolist()
    want = jl.assign_stages(events).sort_values(key, kind="stable")["stage"].tolist()
    assert got == want


def test_validate_events_collects_a_spark_frame(spark, events):
    raw = events.assign(customer_id=events["customer_id"].astype("str"))
    raw.loc[raw.index[:3], "customer_id"] = None
    report = jl.validate_events(spark.createDataFrame(raw))
    assert len(report.quarantine) == 3
    assert set(report.quarantine["reason"]) == {"missing customer id"}
    expected = jl.validate_events(raw)
    pd.testing.assert_frame_equal(report.clean, expected.clean)
