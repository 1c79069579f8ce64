"""PySpark (local mode) gets the same answers as pandas: stages stay lazy, validation collects."""

import shutil

import pandas as pd
import pytest

import journey_lib as jl

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'scale')")
if shutil.which("java") is None:
    pytest.skip("PySpark needs a Java runtime and none is on PATH", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("journey-lab tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def events():
    return jl.simulate(150, seed=12).events[list(jl.CANONICAL_COLUMNS)]


def test_assign_stages_on_spark_matches_pandas_and_stays_lazy(spark, events):
    result = jl.assign_stages(spark.createDataFrame(events))
    assert isinstance(result, pyspark.sql.DataFrame)
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
