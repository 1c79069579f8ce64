"""The same report on Spark: ``journey report --engine spark --spark-master local[2]`` runs
the notebooks against Spark sessions in local mode, and every figure, reading and table
equals the pandas report's on the same log.

CI runs the touchpoints (01: the log's tables) and the summary. The funnels, retention,
the churn model and the credit and value (02, 03, 04, 05) are a slow test, for CI's time:
Spark on one machine pays about a second a query, and a page asks dozens to hundreds
(benchmarks/README.md, "On Spark"); their functions' Spark answers are held to pandas in
CI by tests/test_funnels.py, tests/test_retention.py, tests/test_churn_dataset.py (the
features of every customer at a cutoff, the heaviest of the engine's work) and
tests/test_attribution.py. The churn model's page left CI's Spark report when the browser
and database tests of issue 21 came in. The
segments and changes notebooks (06, 07) pass too and are left out, their functions held to
pandas in tests/test_segments*.py and tests/test_monitor*.py. The reports run with the small
settings (``engines.SMALL``, which says why they leave the engine's work whole)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engines import (
    SMALL,
    assert_same_figures,
    assert_same_pages,
    declared_settings,
    missing,
    recorded_figures,
    require_module,
)

from journey_lib.errors import JourneyParameterError
from journey_lib.report import prepare, run_report

MASTER = "local[2]"
ONLY = "01"
SLOW_ONLY = "02,03,04,05"
#: Figures CI's Spark report (01 and the summary) records, each held to pandas's.
FIGURES_IN_CI = 80
JVM_NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector\n"
# The Spark sessions of the notebooks and the summary compile no code, as the session of
# tests/conftest.py (which says why): on notebook 01's queries over the sample, a third less
# time once Spark had warmed up (benchmarks/README.md, "On Spark"). PYSPARK_SUBMIT_ARGS is
# how pyspark hands settings to the Java process it starts; the report's own (UTC, no web UI,
# quiet logs, partitions) are set on top of them as in any run.
NO_CODEGEN = (
    "--conf spark.sql.codegen.wholeStage=false "
    "--conf spark.sql.codegen.factoryMode=NO_CODEGEN pyspark-shell"
)


def _report(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "journey_lib.cli", "report", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PYSPARK_SUBMIT_ARGS": NO_CODEGEN},
    )


def both_reports(base: Path, only: str) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """The notebooks ``only`` on the sample in pandas (run_report) and on Spark (the
    command line): both run folders and the Spark run's console."""
    require_module("pyspark", "a report stays in Spark")
    if shutil.which("java") is None:
        missing("PySpark needs a Java runtime and none is on PATH (make test installs one)")
    given = declared_settings(SMALL, only.split(","))
    pandas = run_report(
        out=base / "pandas", engine="pandas", only=only.split(","), parameters=given
    )
    assert pandas.ok, pandas.summary()
    flags = [arg for name, value in given.items() for arg in ("-p", f"{name}={value}")]
    done = _report(
        base / "spark", "--engine", "spark", "--spark-master", MASTER, "--only", only, *flags
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "pandas" / "latest", base / "spark" / "latest", done


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return both_reports(tmp_path_factory.mktemp("spark"), ONLY)


def test_every_figure_equals_the_pandas_report(runs):
    pandas, spark, _ = runs
    assert assert_same_figures(spark, pandas) >= FIGURES_IN_CI


def test_every_reading_and_table_equals_the_pandas_report(runs):
    pandas, spark, _ = runs
    assert assert_same_pages(spark, pandas) >= 25
    summary = (spark / "summary.html").read_text()
    assert "33,304 rows read from events.csv.gz." in summary


@pytest.mark.slow
def test_funnels_retention_credit_and_value_equal_the_pandas_report(tmp_path):
    pandas, spark, _ = both_reports(tmp_path, SLOW_ONLY)
    assert assert_same_figures(spark, pandas) >= 110
    # The churn model's and customer value's among them, held to the bit.
    assert "04_churn_model.brier" in recorded_figures(spark)
    assert "05_attribution_and_value.mean_clv" in recorded_figures(spark)
    assert assert_same_pages(spark, pandas) >= 55


def test_the_engine_and_master_are_recorded_and_spark_keeps_quiet(runs):
    _, spark, done = runs
    manifest = json.loads((spark / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert manifest["parameters"]["engine"] == "spark"
    assert manifest["spark_master"] == MASTER
    for name, record in manifest["notebooks"].items():
        if "engine" in record["parameters"]:
            assert record["parameters"]["engine"] == "spark", name
    # Spark's own warnings, notices and progress bars stay out of the run's console. The
    # Java runtime's one line on the vector module Spark 4 asks for is not Spark's to hush.
    console = (done.stdout + done.stderr).replace(JVM_NOTICE, "")
    for noise in ("WARN", "log4j", "setLogLevel", "[Stage"):
        assert noise not in console, noise


def test_a_master_without_the_spark_engine_is_refused_at_once(tmp_path):
    done = _report(tmp_path, "--spark-master", MASTER)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "add --engine spark" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "latest").exists()


def test_spark_without_java_is_refused_before_the_log_is_read(tmp_path, monkeypatch):
    require_module("pyspark", "the check for Java comes after the one for pyspark")
    monkeypatch.setattr(prepare, "_java", lambda: False)
    read = []
    monkeypatch.setattr(prepare, "prepare_log", lambda *a, **k: read.append(a))
    with pytest.raises(JourneyParameterError, match="needs a Java runtime"):
        run_report(out=tmp_path, engine="spark")
    assert read == [] and not any(tmp_path.iterdir())
