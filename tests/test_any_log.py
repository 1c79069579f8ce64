"""`journey report --data FILE` with no hint, on logs other tools export: the shared real
logs and customer tables, and logs made here in awkward shapes. Each must give a complete
report (no failed notebook), with figures that match a hand computation of the profile's
definitions, and pages a reader can take: no traceback, warning text, path or repr.

A report runs its notebooks in kernels of their own (about 50 to 90 s a log for all
seven). The real logs and the first customer table run all seven; a second table (labels
True and False) runs the three pages a table fills (01, 03, 04), and the two tables with 0
and 1 labels do so in a slow test; the awkward logs run the pages whose figures
are checked here (01, 02, 03, 05, and 04 where the log is made to have a churn model), and
their other pages (04, 06, 07) in a slow test. The churn model is the logistic one and the
credit has no bootstrap, to keep the suite's time down (the default model and intervals run
in tests/test_notebooks.py on the sample)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from awkward_logs import EXPECT, MAKERS, reference_funnel
from engines import SHARED_DATA, declared_settings, missing, shared_file

import journey_lib as jl
from journey_lib.errors import JourneyDataWarning, JourneyParameterError
from journey_lib.report import run_report
from journey_lib.report.run_profile import run_profile

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SUITE = ["01", "02", "03", "04", "05", "06", "07"]
FAST = {"n_boot": 0, "model": "logistic"}
# A customer table's figures come from 01, 03 and 04; the other pages say once that they do
# not apply, which the first table's whole report checks. The other tables (other labels,
# columns and types) run those three, for CI's time.
TABLE_PAGES = ["01", "03", "04"]
# Tables whose report runs in a slow test: labels 0 and 1, as the sample's customers.csv has.
SLOW_TABLES = ("bank", "ecommerce")
# An awkward log's checked pages: the touchpoints, funnel, retention and credit of every
# log, and the pages EXPECT names for it (awkward_logs.py).
CHECKED = {"01", "02", "03", "05"}


def checked_pages(name: str) -> list[str]:
    return sorted(CHECKED | {notebook[:2] for notebook in EXPECT[name]})


# What must never reach a page: tracebacks, raw warnings, reprs, kernel file paths.
LEAKS = re.compile(
    r"Traceback|Warning:|warnings\.warn|<journey_lib\.|object at 0x|site-packages|/tmp/|/work/"
)


REAL = {
    "clickstream": ("events", "ecom_clickstream.csv.gz"),
    "rees46": ("events", "rees46_ecommerce_sample.csv"),
    "process": ("events", "pm4py_receipt.csv.gz"),
    "telco": ("churn", "telco_customer_churn.csv"),
    "bigml": ("churn", "telecom_churn_bigml_80.csv"),
    "bank": ("churn", "bank_customer_churn.csv"),
    "ecommerce": ("churn", "ecommerce_churn.csv"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every log's report, two at a time: each notebook runs in a process of its own, so
    the two cores both work. Name -> (made log or path, metrics, run folder, result)."""
    folder = tmp_path_factory.mktemp("logs")
    jobs: dict[str, tuple[object, Path]] = {}
    for name, make in MAKERS.items():
        made = make(folder)
        jobs[name] = (made, made.path)
    for name, parts in REAL.items():
        path = SHARED_DATA.joinpath(*parts)
        if path.exists() and name not in SLOW_TABLES:
            jobs[name] = (path, path)

    def run(name: str):
        out = folder / f"reports-{name}"
        if name == "bigml":
            return table_report(jobs[name][1], out)
        only = checked_pages(name) if name in MAKERS else SUITE
        return run_report(
            NOTEBOOKS,
            data=jobs[name][1],
            out=out,
            only=only,
            parameters=declared_settings(FAST, only),
        )

    # The reader's note on a Windows-1252 file is expected here; the page's copy is checked.
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=2) as pool:
        warnings.simplefilter("ignore", JourneyDataWarning)
        results = dict(zip(jobs, pool.map(run, jobs), strict=True))
    done = {}
    for name, result in results.items():
        metrics = json.loads((result.folder / "metrics.json").read_text())
        done[name] = (jobs[name][0], metrics, result.folder, result)
    return done


def table_report(path: Path, out: Path):
    """The three pages a customer table fills."""
    given = declared_settings(FAST, TABLE_PAGES)
    return run_report(NOTEBOOKS, data=path, out=out, only=TABLE_PAGES, parameters=given)


def ran(reports: dict, name: str) -> tuple:
    if name not in reports:
        parts = REAL[name]
        missing(
            f"real data {SHARED_DATA.joinpath(*parts)} is absent (the shared data folder is "
            "not next to the repo)"
        )
    made, metrics, folder, result = reports[name]
    assert result.ok, result.summary()
    return made, metrics, folder


def assert_readable(folder: Path) -> None:
    for page in sorted(folder.glob("0*.html")):
        text = re.sub(r"<style.*?</style>|<script.*?</script>", "", page.read_text(), flags=re.S)
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
        leak = LEAKS.search(text)
        assert leak is None, f"{page.name}: {text[max(leak.start() - 80, 0) : leak.end() + 80]}"


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_awkward_log_gives_a_complete_report(reports, name):
    made, metrics, folder = ran(reports, name)
    profile = jl.LogProfile.from_yaml(folder / "journey.yaml")
    truth = made.truth
    assert profile.conversion == made.conversion
    assert profile.funnel == made.funnel

    # The log as the profile reads it is the log as made: ids, times (zones, epochs, day
    # first), events.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyDataWarning)  # the page's note is checked
        read = profile.load(made.path)[["customer_id", "timestamp", "event"]]
    key = ["customer_id", "timestamp", "event"]
    got = read.astype({"customer_id": str}).sort_values(key).reset_index(drop=True)
    want = truth[key].astype({"customer_id": str}).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)

    touch = metrics["01_touchpoints"]
    assert touch["customers"] == truth["customer_id"].nunique()
    assert touch["touchpoints"] == len(truth) == touch["rows_read"]
    assert touch["rows_set_aside"] == 0

    funnel = metrics["02_funnels"]
    counts = reference_funnel(truth, made.funnel, pd.Timedelta("30D"))
    assert (funnel["entered"], funnel["converted"]) == (counts[0], counts[-1])

    if name == "latin_crm_export":  # the reader's note, without the file's folder
        page = (folder / "01_touchpoints.html").read_text()
        assert "crm.csv is not valid UTF-8; read it as Windows-1252" in page
    for notebook, keys in EXPECT[name].items():
        assert keys <= set(metrics[notebook]), (notebook, sorted(metrics[notebook]))
    credit = metrics["05_attribution_and_value"]
    if "channel" in truth and truth["channel"].notna().any():
        assert credit["conversions"] == pytest.approx((truth["event"] == made.conversion).sum())
    else:
        assert "conversions" not in credit  # attribution said why it does not apply
        page = (folder / "05_attribution_and_value.html").read_text()
        assert "Attribution does not apply to this data" in page
    assert_readable(folder)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_awkward_log_gives_its_other_pages(tmp_path, name):
    """The pages test_awkward_log_gives_a_complete_report leaves out run on each log, and
    read as well."""
    made = MAKERS[name](tmp_path)
    rest = [page for page in SUITE if page not in checked_pages(name)]
    assert rest
    given = declared_settings(FAST, rest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyDataWarning)
        result = run_report(
            NOTEBOOKS, data=made.path, out=tmp_path / "reports", only=rest, parameters=given
        )
    assert result.ok, result.summary()
    assert sorted(p.stem[:2] for p in result.folder.glob("0*.html")) == rest
    assert_readable(result.folder)


def test_clickstream_report(reports):
    path, metrics, folder = ran(reports, "clickstream")
    raw = pd.read_csv(path)
    distinct = raw.drop_duplicates()
    assert metrics["01_touchpoints"]["rows_read"] == 31_106
    assert metrics["01_touchpoints"]["touchpoints"] == len(distinct) == 31_076
    assert metrics["01_touchpoints"]["customers"] == raw["user_id"].nunique() == 600
    profile = jl.LogProfile.from_yaml(folder / "journey.yaml")
    truth = distinct.rename(columns={"user_id": "customer_id"}).assign(
        timestamp=pd.to_datetime(distinct["timestamp"], utc=True)
    )
    counts = reference_funnel(truth, profile.funnel, pd.Timedelta("30D"))
    funnel = metrics["02_funnels"]
    assert (funnel["entered"], funnel["converted"]) == (counts[0], counts[-1])
    assert metrics["05_attribution_and_value"]["conversions"] == pytest.approx(
        (distinct["event"] == "purchase").sum()
    )
    assert {"roc_auc", "contacts"} <= set(metrics["04_churn_model"])
    # The segments page compares the log's own segment columns (the channel, then the
    # profile's properties), platform among them, and counts the gaps beyond chance as
    # compare_segments does, column by column.
    segments = metrics["06_segments"]
    assert segments["segment_columns"] == "channel, platform, user_cohort"
    assert {"channel", "platform", "user_cohort"} <= set(profile.properties) | {"channel"}
    log = profile.read(path).clean
    gaps = sum(
        int(jl.compare_segments(log, jl.Segments(c, top=6), profile=profile)["significant"].sum())
        for c in ("channel", "platform", "user_cohort")
    )
    assert segments["gaps_beyond_chance"] == gaps
    page = (folder / "06_segments.html").read_text()
    for name in ["platform", *sorted(raw["platform"].unique())]:
        assert f"<th>{name}</th>" in page, name  # the scorecard: a column per platform
    assert "segment by platform" in page.lower()  # its reading
    # What changed: the authors' payment outage and checkout loop bug lead, both appearing
    # from nothing. payment_error events exist only from 19 May to 8 June (by week, Mondays:
    # the weeks of 13 May to the week ending 9 June, 119 events in 4 weeks); checkout_bug
    # events from 13 April to 9 May (the weeks of 8 April to the week ending 12 May, 44
    # events in 5 weeks).
    changed = metrics["07_changes"]
    told = [changed[f"what_changed_{k}"] for k in (1, 2, 3) if f"what_changed_{k}" in changed]
    for event, words in (("payment_error", "Payment error"), ("checkout_bug", "Checkout bug")):
        times = pd.to_datetime(raw.loc[raw["event"] == event, "timestamp"])
        weeks = times.dt.to_period("W-SUN")
        first, last = weeks.min().start_time, weeks.max().end_time
        per_week = len(times) / weeks.nunique()
        level = f"{per_week:.0f}" if per_week >= 10 else f"{per_week:.1f}"
        sentence = (
            f"{words} events rose from 0 to {level} a week from {first.day} "
            f"{first:%b} to {last.day} {last:%b %Y}, on every channel."
        )
        assert sentence in told[:2], (sentence, told)
        k = told.index(sentence) + 1
        assert changed[f"change_{k}_size"] is None  # from nothing: always news
    assert (first.date(), last.date()) == (dt.date(2024, 4, 8), dt.date(2024, 5, 12))
    summary = (folder / "summary.html").read_text()
    assert summary.index('id="changes"') < summary.index('id="headline"')
    assert all(sentence in summary for sentence in told)
    # Each sentence links to its change's heading on the monitoring page.
    changes_page = (folder / "07_changes.html").read_text()
    for k in range(1, len(told) + 1):
        assert f'href="07_changes.html#change-{k}"' in summary
        assert f'id="change-{k}"' in changes_page
    assert "associations, not causes" in page
    assert_readable(folder)


def test_rees46_report(reports):
    path, metrics, folder = ran(reports, "rees46")
    raw = pd.read_csv(path)
    assert metrics["01_touchpoints"]["customers"] == raw["user_id"].nunique() == 330
    # A few minutes of October 2019: a funnel, but no span for trends, churn or value.
    buyers = raw.loc[raw["event_type"] == "purchase", "user_id"].nunique()
    assert metrics["02_funnels"]["converted"] == buyers
    assert metrics["04_churn_model"] == {}
    page = (folder / "04_churn_model.html").read_text()
    assert "A churn model on this log does not apply to this data" in page
    assert_readable(folder)


def test_process_log_report(reports):
    path, metrics, folder = ran(reports, "process")
    raw = pd.read_csv(path)
    assert metrics["01_touchpoints"]["customers"] == raw["case:concept:name"].nunique() == 1434
    assert metrics["01_touchpoints"]["touchpoints"] == 8577
    assert metrics["02_funnels"]["entered"] == 1434  # every case starts with its receipt
    profile = jl.LogProfile.from_yaml(folder / "journey.yaml")
    assert profile.shape == "process"
    assert metrics["05_attribution_and_value"]["conversions"] == pytest.approx(
        (raw["concept:name"] == profile.conversion).sum()
    )
    assert_readable(folder)


@pytest.mark.parametrize(
    ("name", "label", "churned"),
    [
        ("telco", "Churn", "Yes"),
        ("bigml", "Churn", True),
        pytest.param("bank", "Exited", 1, marks=pytest.mark.slow),
        pytest.param("ecommerce", "Churn", 1, marks=pytest.mark.slow),
    ],
)
def test_customer_table_report(request, tmp_path, name, label, churned):
    if name in SLOW_TABLES:
        path = shared_file(*REAL[name])
        result = table_report(path, tmp_path / "reports")
        assert result.ok, result.summary()
        metrics = json.loads((result.folder / "metrics.json").read_text())
        folder = result.folder
    else:
        path, metrics, folder = ran(request.getfixturevalue("reports"), name)
    raw = pd.read_csv(path)
    assert metrics["01_touchpoints"]["customers"] == len(raw)
    rate = (raw[label].astype(str).str.lower() == str(churned).lower()).mean()
    assert metrics["03_retention"]["churn_rate"] == pytest.approx(rate)
    assert 0.5 < metrics["04_churn_model"]["roc_auc"] <= 1
    if name == "telco":  # the whole suite ran on this table only
        assert metrics["02_funnels"] == {} and metrics["05_attribution_and_value"] == {}
        assert metrics["06_segments"] == {} and metrics["07_changes"] == {}
        for page_name in ("02_funnels", "06_segments"):
            page = (folder / f"{page_name}.html").read_text()
            assert "does not apply to this data: it is a customer table" in page
            assert page.count("does not apply") == 1  # said once, not under every section
    else:
        assert sorted(p.stem[:2] for p in folder.glob("0*.html")) == TABLE_PAGES
    assert_readable(folder)


# --- the command line --------------------------------------------------------------------


def journey(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "journey_lib.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_journey_profile_prints_and_writes_the_profile(tmp_path):
    made = MAKERS["shop_camel_case"](tmp_path)
    result = journey("profile", made.path, "--out", "journey.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Log profile: a touchpoint log (events)")
    assert "funnel       catalog -> cart -> payment_done" in result.stdout
    written = jl.LogProfile.from_yaml(tmp_path / "journey.yaml")
    assert written == jl.profile(made.path)


def test_journey_profile_without_a_customer_or_time_column(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("a,b\n1.5,0.1\n2.5,0.2\n")
    result = journey("profile", path, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no column can be the customer or the time: the columns are ['a', 'b']" in lines[0]
    assert "--columns a=customer_id,b=timestamp" in lines[0]


def test_journey_report_without_a_customer_column_exits_2(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("a,b\n1.5,0.1\n2.5,0.2\n")
    result = journey("report", "--data", path, "--only", "01", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--columns" in lines[0]
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_hints_and_a_given_profile_reach_the_notebooks(tmp_path):
    made = MAKERS["shop_camel_case"](tmp_path)
    # The conversion named on the command line, not the one the rules find.
    result = journey(
        "report",
        "--data",
        made.path,
        "--only",
        "02",
        "--conversion",
        "cart",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    run = next(p for p in (tmp_path / "reports").iterdir() if p.name != "latest")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["profile"] == {"source": "inferred from the data", "file": "journey.yaml"}
    inferred = jl.LogProfile.from_yaml(run / "journey.yaml")
    assert inferred.conversion == "cart" and inferred.funnel == ("catalog", "cart")

    # A profile edited by hand and given back wins over inference.
    edited = tmp_path / "mine.yaml"
    edited.write_text(inferred.to_yaml().replace("- catalog\n- cart", "- catalog\n- payment_done"))
    again = journey(
        "report",
        "--data",
        made.path,
        "--only",
        "02",
        "--profile",
        edited,
        "--out",
        "again",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    run = next(p for p in (tmp_path / "again").iterdir() if p.name != "latest")
    metrics = json.loads((run / "metrics.json").read_text())["02_funnels"]
    counts = reference_funnel(made.truth, ("catalog", "payment_done"), pd.Timedelta("30D"))
    assert (metrics["entered"], metrics["converted"]) == (counts[0], counts[-1])
    assert json.loads((run / "manifest.json").read_text())["profile"]["source"] == (
        "given: mine.yaml"
    )


def test_a_given_log_does_not_get_the_samples_customer_table(tmp_path):
    made = MAKERS["shop_camel_case"](tmp_path)
    given: dict = {}
    run_profile({"profile", "customers_path"}, given, made.path, None, {}, data_given=True)
    assert given["customers_path"] == ""
    assert jl.LogProfile.from_dict(given["profile"]) == jl.profile(made.path)
    # The notebooks' own default log keeps its customer table (their customers_path default).
    default: dict = {}
    run_profile({"profile", "customers_path"}, default, made.path, None, {}, data_given=False)
    assert "customers_path" not in default


def test_a_given_profile_with_new_hints_is_worked_out_anew(tmp_path):
    made = MAKERS["shop_camel_case"](tmp_path)
    file = tmp_path / "journey.yaml"
    jl.profile(made.path).to_yaml(file)
    given: dict = {}
    found, record = run_profile(
        {"profile"}, given, made.path, file, {"conversion": "cart"}, data_given=True
    )
    assert record["source"] == "given: journey.yaml, with the command line's hints"
    assert found.conversion == "cart" and found.funnel == ("catalog", "cart")
    assert found.kinds["cart"] == "conversion"
    assert found.kinds["payment_done"] == "conversion"  # by its own name, as the rules read it
    assert given["profile"] == found.to_dict()
    with pytest.raises(JourneyParameterError, match=r"conversion names \['refund'\]"):
        run_profile({"profile"}, {}, made.path, file, {"conversion": "refund"}, data_given=True)
