"""The same report on Spark: ``journey report --engine spark --spark-master local[2]`` runs
the notebooks against Spark sessions in local mode, and every figure, reading and table
equals the pandas report's on the same log.

CI runs the notebooks 01 to 05 (touchpoints, funnels, retention, the churn model,
attribution and customer value) and the summary. The segments and changes notebooks (06,
07) pass too but are left out for CI's time: on Spark they ask a few hundred small queries
at about a second each (185 s of a whole report's 460 s of notebook time; see
benchmarks/README.md, "On Spark"); their functions' Spark answers are held to pandas in
tests/test_segments*.py and tests/test_monitor*.py. Both reports run with the small settings
(``engines.SMALL``, which says why they leave the engine's work whole)."""

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
    missing,
    recorded_figures,
    require_module,
)

from journey_lib.errors import JourneyParameterError
from journey_lib.report import prepare, run_report

MASTER = "local[2]"
ONLY = "01,02,03,04,05"
# The small settings of every whole-report test, without the primer's (00 does not run here).
QUICK = {name: value for name, value in SMALL.items() if name != "customers"}
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    require_module("pyspark", "a report stays in Spark")
    if shutil.which("java") is None:
        missing("PySpark needs a Java runtime and none is on PATH (make test installs one)")
    base = tmp_path_factory.mktemp("spark")
    pandas = run_report(
        out=base / "pandas", engine="pandas", only=ONLY.split(","), parameters=QUICK
    )
    assert pandas.ok, pandas.summary()
    given = [arg for name, value in QUICK.items() for arg in ("-p", f"{name}={value}")]
    done = _report(
        base / "spark", "--engine", "spark", "--spark-master", MASTER, "--only", ONLY, *given
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "pandas" / "latest", base / "spark" / "latest", done


def test_every_figure_equals_the_pandas_report(runs):
    pandas, spark, _ = runs
    assert assert_same_figures(spark, pandas) > 120
    # The churn model's figures and customer value among them, held to the bit.
    recorded = recorded_figures(spark)
    assert {"04_churn_model.brier", "05_attribution_and_value.mean_clv"} <= set(recorded)


def test_every_reading_and_table_equals_the_pandas_report(runs):
    pandas, spark, _ = runs
    assert assert_same_pages(spark, pandas) >= 80
    summary = (spark / "summary.html").read_text()
    assert "33,304 rows read from events.csv.gz." in summary


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
