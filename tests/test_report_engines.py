"""The same report in every engine: ``journey report --engine`` keeps the log in pandas,
Polars or DuckDB, and every figure, reading and table of every page equals the pandas
report's on the same log.

The reports run with the session's settings (``report_settings`` in tests/conftest.py: the
small ones of ``engines.SMALL``, which says why they leave the engines' work whole, and the
widgets' saved exploration); the pandas report is the session's ``sample_report``, whose
pages tests/test_report_pages.py reads. CI holds DuckDB's whole report to pandas; DuckDB's
segmented pages and Polars' whole report are slow tests (their functions' answers on those
engines are held to pandas in the library tests' engine parity)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from engines import assert_same_figures, assert_same_pages, require_module

from journey_lib.report import read_parameters, run_report


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
        # The command line's arguments (option, value), as the command reads them.
        pairs = list(zip(args[::2], args[1::2], strict=True))
        options = dict(pairs)
        result = run_report(
            out=out,
            engine=engine,
            only=options["--only"].split(",") if "--only" in options else None,
            parameters=read_parameters(
                params_file=options.get("--params"),
                pairs=[value for option, value in pairs if option == "-p"],
            ),
        )
        assert result.ok, result.summary()
    return out / "latest"


#: Segments and the privacy threshold, where the pages take other paths.
SEGMENTED = ("--only", "02,03,06", "-p", "by=channel", "-p", "min_cell=5")


@pytest.fixture(scope="module")
def reports(tmp_path_factory, sample_report, report_settings):
    """Run folders by (engine, case), each made when first asked for: pandas and Polars
    through run_report, DuckDB through the command line. The default case is every notebook
    with the sample report's settings, given as the file `journey report --params` reads."""
    base = tmp_path_factory.mktemp("engines")
    found: dict[tuple[str, str], Path] = {("pandas", "default"): sample_report.folder}
    settings = base / "settings.yaml"
    settings.write_text(yaml.safe_dump(report_settings))

    def report(engine: str, case: str) -> Path:
        if engine != "pandas":
            require_module(engine, "a report stays in this engine")
        if (engine, case) not in found:
            args = ("--params", str(settings)) if case == "default" else SEGMENTED
            found[engine, case] = _runs(base / case, engine, engine == "duckdb", *args)
        return found[engine, case]

    return report


CASES = [
    pytest.param("polars", "default", marks=pytest.mark.slow),
    ("duckdb", "default"),
    # Six more notebook runs (three on each engine); the segmented functions' DuckDB answers
    # are held to pandas in CI's library tests (tests/test_segments_*.py).
    pytest.param("duckdb", "segments", marks=pytest.mark.slow),
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
    for engine, case in [("pandas", "default"), ("duckdb", "default")]:
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
