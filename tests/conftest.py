"""Fixtures shared by the tests; the engine helpers live in tests/engines.py."""

import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    """A local PySpark session in UTC; skipped where pyspark or Java is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'scale')")
    if shutil.which("java") is None:
        pytest.skip("PySpark needs a Java runtime and none is on PATH")
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
