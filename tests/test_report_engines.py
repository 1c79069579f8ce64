"""The same report in every engine: ``journey report --engine`` keeps the log in pandas,
Polars or DuckDB, and every figure, reading and table of every page equals the pandas
report's on the same log.

The reports run with small settings (``engines.SMALL``, which says why they leave the
engines' work whole); the pandas report is the session's ``sample_report``, whose pages
tests/test_report_pages.py reads. CI holds DuckDB's whole report and its segmented pages to
pandas; Polars' whole report is a slow test (its functions' Polars answers are held to
pandas in every library test's engine parity)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from engines import SMALL, assert_same_figures, assert_same_pages, require_module

from journey_lib.report import run_report


def _runs(base: Path, engine: str, cli: bool, *args: str) -> Path:
    out = base / engine
    if cli:
        # The command line, as a cron job runs it: exit 0 and the engine in the manifest.
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "journey_lib.cli",
                "report",
                "--engine",
                engine,
                "--out",
                str(out),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "reading events.csv.gz once for every notebook" in done.stdout
    else:
        only = [a for a in args if not a.startswith("-")]
        pairs = dict(a.split("=", 1) for a in args if "=" in a)
        result = run_report(
            out=out,
            engine=engine,
            only=only[0].split(",") if only else None,
            parameters={k: int(v) if v.isdigit() else v for k, v in pairs.items()},
        )
        assert result.ok, result.summary()
    return out / "latest"


#: Every notebook with the small settings.
DEFAULT = tuple(arg for name, value in SMALL.items() for arg in ("-p", f"{name}={value}"))
#: Segments and the privacy threshold, where the pages take other paths.
SEGMENTED = ("--only", "02,03,06", "-p", "by=channel", "-p", "min_cell=5")


@pytest.fixture(scope="module")
def reports(tmp_path_factory, sample_report):
    """Run folders by (engine, case), each made when first asked for: pandas and Polars
    through run_report, DuckDB through the command line."""
    base = tmp_path_factory.mktemp("engines")
    found: dict[tuple[str, str], Path] = {("pandas", "default"): sample_report}

    def report(engine: str, case: str) -> Path:
        if engine != "pandas":
            require_module(engine, "a report stays in this engine")
        if (engine, case) not in found:
            args = DEFAULT if case == "default" else SEGMENTED
            found[engine, case] = _runs(base / case, engine, engine == "duckdb", *args)
        return found[engine, case]

    return report


CASES = [
    pytest.param("polars", "default", marks=pytest.mark.slow),
    ("duckdb", "default"),
    ("duckdb", "segments"),
]


@pytest.mark.parametrize(("engine", "case"), CASES)
def test_every_figure_equals_the_pandas_reports(reports, engine, case):
    compared = assert_same_figures(reports(engine, case), reports("pandas", case))
    assert compared > 80 if case == "default" else compared > 40


@pytest.mark.parametrize(("engine", "case"), CASES)
def test_every_reading_and_table_equals_the_pandas_reports(reports, engine, case):
    compared = assert_same_pages(reports(engine, case), reports("pandas", case))
    # The pages say something: no section was left out on every engine alike.
    assert compared >= (140 if case == "default" else 35)


def test_the_engine_is_recorded_and_the_log_read_once(reports):
    for engine, case in [("pandas", "default"), ("duckdb", "default"), ("duckdb", "segments")]:
        manifest = json.loads((reports(engine, case) / "manifest.json").read_text())
        assert manifest["parameters"]["engine"] == engine
        for name, record in manifest["notebooks"].items():
            if "engine" in record["parameters"]:
                assert record["parameters"]["engine"] == engine, name
                assert record["parameters"]["prepared"].endswith("prepared"), name
    # Pages and summary name the file given, not the Parquet file the log was kept in.
    summary = (reports("duckdb", "default") / "summary.html").read_text()
    assert "33,304 rows read from events.csv.gz." in summary
    page = (reports("duckdb", "default") / "01_touchpoints.html").read_text()
    assert "33,304 rows read from events.csv.gz." in page and "events.parquet" not in page
