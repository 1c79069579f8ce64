"""The summary in real runs: `journey report` writes it, compares with the run before, raises
alerts (exit 3 with --alert-exit, as cron needs), hides small cells, says why there is none,
and renders a 1M-event log's summary in Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from journey_lib.errors import JourneyParameterError
from journey_lib.report.summary import build_summary
from journey_lib.report.summary_page import summary_html

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "events.csv.gz"
JOURNEY = [sys.executable, "-m", "journey_lib.cli"]


def journey(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [*JOURNEY, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


def _runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if re.fullmatch(r"\d{8}-\d{6}(-\d+)?", p.name))


def test_two_runs_from_cron_alert_then_compare(tmp_path):
    out = tmp_path / "reports"
    # Churn moved 4.3 points from October to November in the sample: beyond 1 point.
    first = journey(
        "report", "--only", "01", "--out", str(out), "-p", "alerts={churn_rate: 0.01}",
        "--alert-exit", cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 3, first.stderr
    alert_lines = [line for line in first.stderr.splitlines() if line.strip()]
    assert len(alert_lines) == 1 and alert_lines[0].startswith("journey: alert: churn_rate")
    (run1,) = _runs(out)
    metrics = json.loads((run1 / "metrics.json").read_text())
    assert [a["figure"] for a in metrics["summary"]["alerts"]] == ["churn_rate"]
    manifest = json.loads((run1 / "manifest.json").read_text())
    assert manifest["summary"]["status"] == "ok"
    assert manifest["status"] == "ok" and manifest["exit_code"] == 0  # the alert is no failure
    assert manifest["parameters"]["alerts"] == {"churn_rate": 0.01}
    assert (run1 / "summary.html").exists()
    index = (run1 / "index.html").read_text()
    # index.html opens on the summary; the run's details come below it.
    assert index.index("Headline figures") < index.index("Run details")

    # The same data again: nothing moved since the last run, so no alert and exit 0; the
    # first run is in the second's "since the last run".
    second = journey(
        "report", "--only", "01", "--out", str(out), "-p", "alerts={churn_rate: 0.01}",
        "--alert-exit", cwd=tmp_path,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    run1_again, run2 = _runs(out)
    assert run1_again == run1
    page = (run2 / "summary.html").read_text()
    history = page[page.index('id="history"') : page.index('id="about"')]
    stamp = pd.Timestamp(run1.name[:8] + "T" + run1.name[9:15])
    assert f"{stamp.day} {stamp:%b %Y %H:%M:%S} UTC" in history
    assert json.loads((run2 / "metrics.json").read_text())["summary"]["alerts"] == []
    # In a fresh folder the first run alerted on churn against the previous period; with
    # every figure hidden it cannot (the alert would carry the hidden values).
    fresh = tmp_path / "private"
    third = journey(
        "report", "--only", "01", "--out", str(fresh), "-p", "alerts={churn_rate: 0.01}",
        "-p", "min_cell=1000000", "--alert-exit", cwd=tmp_path,
    )  # fmt: skip
    assert third.returncode == 0, third.stderr
    (run3,) = _runs(fresh)
    recorded = json.loads((run3 / "metrics.json").read_text())["summary"]
    assert recorded["min_cell"] == 1_000_000
    assert all(f["value"] == "<1000000" and f["suppressed"] for f in recorded["figures"].values())
    # The notebook's counts too: 2,000 customers are fewer than a million.
    touchpoints = json.loads((run3 / "metrics.json").read_text())["01_touchpoints"]
    assert touchpoints["customers"] == "<1000000" and touchpoints["rows_set_aside"] == 0
    assert recorded["alerts"] == []
    cards = re.findall(r'<div class="value">([^<]*)</div>', (run3 / "summary.html").read_text())
    assert cards and set(cards) == {"&lt;1000000"}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("alerts={churn: 0.02}", "alerts: unknown figure 'churn'"),
        ("alerts=[0.02]", "alerts must be a mapping"),
        ("min_cell=-3", "min_cell must be a whole number"),
    ],
)
def test_bad_run_parameters_stop_before_anything_runs(tmp_path, pair, message):
    out = tmp_path / "reports"
    result = journey("report", "--only", "01", "--out", str(out), "-p", pair, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_a_customer_table_runs_without_a_summary_and_says_why(tmp_path):
    from engines import shared_file

    table = shared_file("churn", "telco_customer_churn.csv")
    out = tmp_path / "reports"
    result = journey(
        "report", "--only", "03", "--data", str(table), "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    (run,) = _runs(out)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["summary"]["status"] == "skipped"
    assert "customer table" in manifest["summary"]["reason"]
    assert not (run / "summary.html").exists()
    assert "No summary: the summary needs a touchpoint log" in (run / "index.html").read_text()


@pytest.mark.slow
def test_a_million_event_log_gets_a_whole_summary(tmp_path, render_page):
    """The sample's customers thirty times over (ids shifted): 999,120 simulated events."""
    sample = pd.read_csv(SAMPLE)
    big = pd.concat(
        [sample.assign(customer_id=sample["customer_id"] + k * 10_000) for k in range(30)],
        ignore_index=True,
    )
    assert len(big) > 990_000
    path = tmp_path / "events.parquet"
    big.to_parquet(path)
    folder = tmp_path / "reports" / "20261205-060000"
    folder.mkdir(parents=True)
    summary = build_summary(folder, data=str(path), profile=None)
    (folder / "summary.html").write_text(summary_html(summary), encoding="utf-8")
    # Thirty copies of the sample: thirty times its counts, the same rates.
    small = build_summary(tmp_path / "small" / "20261205-060000", data=str(SAMPLE), profile=None)
    for key, row in summary.figures.iterrows():
        factor = 30 if key in ("active_customers", "new_customers", "revenue") else 1
        assert row["value"] == pytest.approx(small.figures.loc[key, "value"] * factor), key
    page = render_page(folder / "summary.html")
    assert page.broken_images == [] and page.failed_requests == [] and page.console_errors == []
    assert "999,120 rows read from events.parquet" in page.text
    for label in summary.figures["label"]:
        assert label in page.text
    assert re.findall(r"\d\.\d{4,}", page.text) == []


def test_a_signal_during_the_summary_step_records_the_run_as_interrupted(tmp_path):
    """The summary runs in the runner's own process: a signal then is acted on once it is
    written, and the run is recorded as interrupted, not as a clean one."""
    import signal

    from journey_lib.errors import ReportInterrupted
    from journey_lib.report import run_report

    def interrupt(line: str) -> None:
        if line.startswith("summary:"):
            signal.raise_signal(signal.SIGTERM)

    with pytest.raises(ReportInterrupted) as caught:
        run_report(only=["01"], out=tmp_path / "reports", progress=interrupt)
    result = caught.value.result
    assert (caught.value.signal, result.exit_code) == ("SIGTERM", 143)
    assert result.statuses == {"01_touchpoints": "ok"}
    assert result.manifest["summary"]["status"] == "ok"
    assert (result.folder / "summary.html").exists()
    assert not (tmp_path / "reports" / "latest").exists()


def test_report_kernels_run_one_openmp_thread_unless_told(tmp_path, monkeypatch):
    from journey_lib.report.execute import child_env

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert child_env(tmp_path / "a")["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert child_env(tmp_path / "b")["OMP_NUM_THREADS"] == "4"


def test_report_kernels_keep_duckdb_to_a_share_of_memory_unless_told(tmp_path, monkeypatch):
    """Each notebook's DuckDB connections are capped and spill into the run's scratch
    folder; a user's own settings win."""
    from journey_lib import _engine
    from journey_lib.report.execute import KERNEL_DUCKDB_MEMORY, child_env

    monkeypatch.delenv("JOURNEY_DUCKDB_MEMORY", raising=False)
    monkeypatch.delenv("JOURNEY_DUCKDB_SPILL", raising=False)
    env = child_env(tmp_path / "a")
    assert env["JOURNEY_DUCKDB_MEMORY"] == KERNEL_DUCKDB_MEMORY
    assert env["JOURNEY_DUCKDB_SPILL"] == str(tmp_path / "a" / "duckdb")
    monkeypatch.setenv("JOURNEY_DUCKDB_MEMORY", "700MB")
    assert child_env(tmp_path / "b")["JOURNEY_DUCKDB_MEMORY"] == "700MB"

    def settings():
        con = _engine._duckdb_connection()
        query = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        return con.sql(query).fetchall()[0]

    monkeypatch.setenv("JOURNEY_DUCKDB_SPILL", str(tmp_path / "spill"))
    (limit, spill), (_, other) = settings(), settings()
    assert limit in ("667.5 MiB", "700.0 MB")
    # Each connection spills into a folder of its own inside it: DuckDB names its spill
    # files alike in every instance, and removes them on closing.
    assert Path(spill).parent == Path(other).parent == tmp_path / "spill" and spill != other
    monkeypatch.setenv("JOURNEY_DUCKDB_MEMORY", "lots")
    with pytest.raises(JourneyParameterError, match="JOURNEY_DUCKDB_MEMORY='lots'"):
        settings()
    monkeypatch.setenv("JOURNEY_DUCKDB_MEMORY", "700MB")
    # Outside a report nothing is capped: DuckDB's own defaults.
    monkeypatch.delenv("JOURNEY_DUCKDB_MEMORY")
    monkeypatch.delenv("JOURNEY_DUCKDB_SPILL")
    import duckdb

    default = duckdb.connect().sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert settings()[0] == default


def test_a_new_change_alerts_once_from_cron(tmp_path):
    """The simulator's planted incidents, run as cron would: the first run finds the late
    deliveries and the burst, opens its summary with them and exits 3 naming the changes;
    the second, on the same data, has nothing new to say and exits 0."""
    import journey_lib as jl

    sim = jl.simulate(5000, seed=1, incidents=jl.example_incidents())
    data = tmp_path / "incidents.csv"
    sim.events.to_csv(data, index=False)
    out = tmp_path / "reports"
    args = ("report", "--data", str(data), "--only", "07", "--out", str(out),
            "-p", "alerts={changes: 0.5}", "--alert-exit")  # fmt: skip
    first = journey(*args, cwd=tmp_path)
    assert first.returncode == 3, first.stderr
    (line,) = [line for line in first.stderr.splitlines() if line.strip()]
    assert line.startswith("journey: alert: new change: ")
    (run1,) = _runs(out)
    summary = json.loads((run1 / "metrics.json").read_text())["summary"]
    told = [change["sentence"] for change in summary["changes"]]
    assert told and all(f"new change: {sentence}" in line for sentence in told)
    assert [a["figure"] for a in summary["alerts"]] == ["changes"] * len(told)
    assert any(s.startswith("Delivery late events rose") for s in told), told
    page = (run1 / "summary.html").read_text()
    assert page.index('id="changes"') < page.index('id="headline"')
    assert all(sentence in page for sentence in told)
    # The same data again: the same changes, none new, so no alert.
    second = journey(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads((_runs(out)[-1] / "metrics.json").read_text())["summary"]["alerts"] == []
