"""The same report in every engine: ``journey report --engine`` keeps the log in pandas,
Polars or DuckDB, and every figure, reading and table of every page equals the pandas
report's on the same log."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from engines import require_module

from journey_lib.report import run_report

# Gamma-Gamma's likelihood on the sample is flat along a ridge (p grows as v shrinks, their
# product fixed): sums added in another order stop the fit at another point of it, so its
# parameters differ and customer value agrees to about 1e-5 (the page rounds it).
RIDGE = ("GammaGamma", "customers are worth", "probability_alive")
CLV_TOLERANCE = 1e-4


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


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("engines")
    for name in ("polars", "duckdb"):
        require_module(name, "a report stays in this engine")
    found = {}
    # Every notebook with its defaults; pandas and Polars through run_report, DuckDB
    # through the command line.
    for engine in ("pandas", "polars", "duckdb"):
        found[engine, "default"] = _runs(base / "default", engine, engine == "duckdb")
    # Segments and the privacy threshold, where the pages take other paths.
    segmented = ("--only", "02,03,06", "-p", "by=channel", "-p", "min_cell=5")
    for engine in ("pandas", "duckdb"):
        found[engine, "segments"] = _runs(base / "segments", engine, True, *segmented)
    return found


def _flat(mapping: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _outputs(run: Path) -> dict[str, list[str]]:
    """Each page's text outputs (readings, tables, notes), in order."""
    pages = {}
    for notebook in sorted(run.glob("0*.ipynb")):
        texts = []
        for cell in json.loads(notebook.read_text())["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                for kind in ("text/markdown", "text/plain"):
                    text = "".join(data.get(kind, ""))
                    if text and "Widget" not in text and "<Figure" not in text:
                        texts.append(text)
                if output.get("output_type") == "stream":
                    texts.append("".join(output["text"]))
        pages[notebook.stem] = texts
    return pages


@pytest.mark.parametrize(
    ("engine", "case"), [("polars", "default"), ("duckdb", "default"), ("duckdb", "segments")]
)
def test_every_figure_equals_the_pandas_reports(reports, engine, case):
    want = _flat(json.loads((reports["pandas", case] / "metrics.json").read_text()))
    got = _flat(json.loads((reports[engine, case] / "metrics.json").read_text()))
    assert set(got) == set(want)
    assert len(want) > 80 if case == "default" else len(want) > 40
    for key, value in want.items():
        if key.endswith("mean_clv"):
            assert got[key] == pytest.approx(value, rel=CLV_TOLERANCE), key
        elif isinstance(value, float) and isinstance(got[key], float):
            assert math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-12), key
        else:
            assert got[key] == value, key


@pytest.mark.parametrize(
    ("engine", "case"), [("polars", "default"), ("duckdb", "default"), ("duckdb", "segments")]
)
def test_every_reading_and_table_equals_the_pandas_reports(reports, engine, case):
    want, got = _outputs(reports["pandas", case]), _outputs(reports[engine, case])
    assert list(got) == list(want)
    for page, texts in want.items():
        assert len(got[page]) == len(texts), page
        for ours, theirs in zip(got[page], texts, strict=True):
            if any(mark in theirs for mark in RIDGE):
                continue
            assert ours == theirs, page
    # The pages say something: no section was left out on every engine alike.
    assert sum(len(t) for t in want.values()) >= (140 if case == "default" else 35)


def test_the_engine_is_recorded_and_the_log_read_once(reports):
    for (engine, _), run in reports.items():
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["parameters"]["engine"] == engine
        for name, record in manifest["notebooks"].items():
            if "engine" in record["parameters"]:
                assert record["parameters"]["engine"] == engine, name
                assert record["parameters"]["prepared"].endswith("prepared"), name
    # Pages and summary name the file given, not the Parquet file the log was kept in.
    summary = (reports["duckdb", "default"] / "summary.html").read_text()
    assert "33,304 rows read from events.csv.gz." in summary
    page = (reports["duckdb", "default"] / "01_touchpoints.html").read_text()
    assert "33,304 rows read from events.csv.gz." in page and "events.parquet" not in page
