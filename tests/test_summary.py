"""The summary's parts: intervals on changes, number formats, suppression of small cells,
headline figures on a hand-computed log, readings, earlier runs and alerts."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib._intervals import (
    count_difference,
    mean_difference,
    rate_difference,
    wilson,
)
from journey_lib.errors import JourneyParameterError
from journey_lib.report.formatting import change_text, figure_text, period_label
from journey_lib.report.headlines import headline
from journey_lib.report.history import check_alerts, earlier_runs, raised_alerts
from journey_lib.report.privacy import suppressed
from journey_lib.report.readings import funnel_reading, trend_reading

# --- intervals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ],
)
def test_rate_difference_matches_newcombes_published_intervals(counts, expected):
    low, high = rate_difference(*counts)
    assert (round(float(low), 4), round(float(high), 4)) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_bounds_are_where_the_score_test_is_exactly_z(case):
    # The Wilson interval inverts the score test: at each bound p, |x/n - p| equals
    # z * sqrt(p (1 - p) / n) (bounds at 0 or 1 excepted, where the interval is closed).
    x, n = case
    low, high = (float(b) for b in wilson(x, n))
    z = 1.959963984540054
    for bound in (low, high):
        if 1e-12 < bound < 1 - 1e-12:
            score = abs(x / n - bound) / math.sqrt(bound * (1 - bound) / n)
            assert score == pytest.approx(z, rel=1e-9)
    assert 0 - 1e-12 <= low <= x / n <= high <= 1 + 1e-12


def test_count_and_mean_differences_by_hand():
    low, high = count_difference(120, 100)
    assert (low, high) == pytest.approx((20 - 1.959964 * math.sqrt(220), 20 + 1.959964 * 14.832397))
    a, b = [10, 20, 30, 40], [10, 10, 20, 20]
    se = math.sqrt(np.var(a, ddof=1) / 4 + np.var(b, ddof=1) / 4)
    assert mean_difference(a, b) == pytest.approx((10 - 1.959964 * se, 10 + 1.959964 * se))
    se_total = math.sqrt(4 * np.var(a, ddof=1) + 4 * np.var(b, ddof=1))
    assert mean_difference(a, b, total=True) == pytest.approx(
        (40 - 1.959964 * se_total, 40 + 1.959964 * se_total)
    )
    assert all(math.isnan(v) for v in mean_difference([1.0], [1.0, 2.0]))


# --- formats ----------------------------------------------------------------------------


def test_figures_are_written_for_a_reader():
    assert figure_text(1234567, "count") == "1,234,567"
    assert figure_text(0.2317888446872782, "rate") == "23.2%"
    assert figure_text(0.0004, "rate") == "<0.1%"
    assert figure_text(1234.5, "money", currency="usd") == "$1,234"
    assert figure_text(12.345, "money", currency="CHF") == "12.35 CHF"
    assert figure_text(12.345, "money") == "12.35"
    assert figure_text(float("nan"), "rate") == "–"
    assert change_text(-0.0291, "rate") == "−2.9 points"
    assert change_text(0.0, "count") == "+0"
    assert change_text(-1500.0, "money", currency="EUR") == "−€1,500"
    assert period_label(pd.Timestamp("2024-07-01", tz="UTC"), "quarter") == "Q3 2024"
    with pytest.raises(ValueError, match="unknown unit"):
        figure_text(1, "percent")


def test_min_cell_hides_small_counts_and_rates_from_few_customers():
    assert figure_text(4, "count", min_cell=5) == "<5"
    assert figure_text(0, "count", min_cell=5) == "0"
    assert figure_text(5, "count", min_cell=5) == "5"
    assert figure_text(0.9, "rate", min_cell=5, base=4) == "<5"
    assert figure_text(0.9, "rate", min_cell=5, base=5) == "90.0%"
    assert figure_text(100.0, "money", min_cell=5, base=3) == "<5"


# --- suppression ------------------------------------------------------------------------


def test_suppression_by_hand():
    counts = pd.Series([120, 3, 40, 15], index=list("abcd"))
    assert suppressed(counts, 5).tolist() == [False, True, False, True]
    assert suppressed(counts, 50).tolist() == [False, True, True, True]
    # 1 + 2 is fewer than 5: a third cell joins them; the zero never does.
    assert suppressed(pd.Series([100, 1, 2, 0, 30]), 5).tolist() == [False, True, True, False, True]
    assert suppressed(pd.Series([100, 3, 0]), 5).tolist() == [True, True, False]
    assert not suppressed(counts, 0).any()
    assert suppressed(pd.Series([3]), 5).tolist() == [True]
    with pytest.raises(JourneyParameterError, match="min_cell"):
        suppressed(counts, -1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=12), st.integers(0, 30))
def test_no_hidden_cell_can_be_recovered_from_the_total(cells, k):
    counts = pd.Series(cells)
    hidden = suppressed(counts, k)
    # Every small cell is hidden; a zero never is (it singles out nobody) ...
    small = (counts > 0) & (counts < k)
    assert hidden[small].all() if k else not hidden.any()
    assert not hidden[counts == 0].any()
    # ... and the total minus the shown cells gives away neither one hidden cell nor a group
    # smaller than k: unless every non-zero cell is hidden (the total is then small itself).
    if hidden.any() and not hidden[counts > 0].all():
        assert hidden.sum() >= 2 and counts[hidden].sum() >= k
    # The complements are the fewest, smallest shown cells that do it.
    complements = counts[hidden & ~small].sort_values()
    candidates = counts[~small & (counts > 0)].sort_values(kind="stable")
    assert complements.tolist() == candidates.head(len(complements)).tolist()
    if len(complements):
        fewer = counts[small].sum() + complements.iloc[:-1].sum()
        assert small.sum() + len(complements) - 1 < 2 or fewer < k


# --- headline figures on a log computed by hand ------------------------------------------


def _hand_log() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-05", "visit", 0.0),
        ("a", "2024-02-05", "buy", 10.0),
        ("a", "2024-03-05", "buy", 30.0),
        ("b", "2024-01-10", "visit", 0.0),
        ("c", "2024-02-20", "visit", 0.0),
        ("c", "2024-03-01", "buy", 20.0),
        ("d", "2024-03-15", "visit", 0.0),
        ("e", "2024-04-02", "visit", 0.0),  # "now": March is the latest complete month
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "value"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True))


def test_headline_figures_by_hand():
    h = headline(_hand_log(), period="month", inactivity="30D", steps=["visit", "buy"])
    t = h.table.set_index("figure")
    march, feb = pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-02-01", tz="UTC")
    # Active in March: a, c, d; in February: a, c.
    assert (t.loc["active_customers", "period"], t.loc["active_customers", "value"]) == (march, 3)
    assert (
        t.loc["active_customers", "previous_period"],
        t.loc["active_customers", "previous"],
    ) == (feb, 2)
    assert t.loc["active_customers", "change"] == 1
    z = 1.959963984540054
    assert t.loc["active_customers", ["low", "high"]].tolist() == pytest.approx(
        [1 - z * math.sqrt(5), 1 + z * math.sqrt(5)]
    )
    assert bool(t.loc["active_customers", "noise"])
    # New in March: d; in February: c.
    assert t.loc["new_customers", ["value", "previous"]].tolist() == [1, 1]
    # Revenue: March 30 + 20 from a and c (d spent nothing); February 10.
    assert t.loc["revenue", ["value", "previous"]].tolist() == [50.0, 10.0]
    assert t.loc["revenue_per_customer", ["value", "previous"]].tolist() == pytest.approx(
        [50 / 3, 10 / 2]
    )
    # Each rate equals what its own function says for that period.
    churn = jl.churn_rate(_hand_log(), period="month", inactivity="30D").set_index("period")
    row = t.loc["churn_rate"]
    assert row["value"] == pytest.approx(churn.loc[row["period"], "churn_rate"])
    assert row["base"] == churn.loc[row["period"], "active_start"]
    low, high = rate_difference(
        churn.loc[row["period"], "lost"],
        churn.loc[row["period"], "active_start"],
        churn.loc[row["previous_period"], "lost"],
        churn.loc[row["previous_period"], "active_start"],
    )
    assert (row["low"], row["high"]) == pytest.approx((float(low), float(high)))


def test_headline_leaves_out_money_without_a_value_column_and_conversion_without_a_funnel():
    log = _hand_log().drop(columns="value")
    h = headline(log, period="month", inactivity="30D")
    assert h.table["figure"].tolist() == [
        "active_customers",
        "new_customers",
        "churn_rate",
        "first_period_retention",
    ]


def test_headline_on_the_simulator_matches_each_figures_function():
    sim = jl.simulate(400, seed=3)
    steps = ["ad_view", "site_visit", "signup", "purchase"]
    h = headline(sim.events, period="month", inactivity="90D", steps=steps)
    t = h.table.set_index("figure")
    trend = jl.funnel_trend(sim.events, steps, period="month", window="30D")
    latest = trend[trend["complete"]].iloc[-1]
    assert t.loc["conversion_rate", "value"] == pytest.approx(latest["conversion_rate"])
    assert t.loc["conversion_rate", "period"] == latest["period"]
    cohorts = jl.retention(sim.events, period="month")
    first = cohorts[(cohorts["period"] == 1) & cohorts["complete"]].iloc[-1]
    assert t.loc["first_period_retention", "value"] == pytest.approx(first["rate"])
    life = jl.lifecycle(sim.events, period="month")
    done = life[life["complete"] & (life["status"] != "dormant")]
    active = done.groupby("period")["customers"].sum()
    assert t.loc["active_customers", "value"] == active.iloc[-1]
    revenue = sim.events.assign(
        period=sim.events["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    )
    month = t.loc["revenue", "period"].tz_convert("UTC").tz_localize(None).to_period("M")
    assert t.loc["revenue", "value"] == pytest.approx(
        revenue.loc[revenue["period"] == month, "value"].sum()
    )


# --- readings ---------------------------------------------------------------------------


def test_readings_say_the_numbers():
    funnel = pd.DataFrame(
        {
            "event": ["visit", "signup", "buy"],
            "customers": [1000, 400, 300],
            "step_conversion_rate": [1.0, 0.4, 0.75],
        }
    )
    assert funnel_reading(funnel, what="event") == (
        "Of 1,000 customers who entered, 30.0% reached buy; the largest drop is from visit "
        "to signup, where 60.0% (600) did not go on."
    )
    # The 600 who did not go on are fewer than 700: hidden; the rates rest on 1,000.
    assert funnel_reading(funnel, what="event", min_cell=700) == (
        "Of 1,000 customers who entered, 30.0% reached buy; the largest drop is from visit "
        "to signup, where 60.0% (<700) did not go on."
    )
    h = headline(_hand_log(), period="month", inactivity="30D", steps=["visit", "buy"])
    # Largest change first; a change without an earlier period is said as a level.
    assert trend_reading(h.table, "month") == (
        "Conversion rate rose from 0.0% to 100.0% in February 2024 (+100.0 points, could be "
        "chance). First-period retention rose from 50.0% to 100.0% in February 2024 (+50.0 "
        "points, could be chance). Churn rate held at 50.0% in March 2024."
    )


# --- earlier runs and alerts ------------------------------------------------------------


def _run(folder, name, figures, source="log.csv", period="month"):
    run = folder / name
    run.mkdir(parents=True)
    values = {k: {"value": v} for k, v in figures.items()}
    recorded = {"summary": {"source": source, "period": period, "figures": values}}
    (run / "metrics.json").write_text(json.dumps(recorded), encoding="utf-8")


def test_earlier_runs_are_read_oldest_first_and_bad_ones_passed_over(tmp_path):
    _run(tmp_path, "20261201-060000", {"churn_rate": 0.15, "active_customers": 500})
    _run(tmp_path, "20261202-060000", {"churn_rate": 0.16})
    _run(tmp_path, "20261203-060000", {"churn_rate": None})  # not a number: passed over
    _run(tmp_path, "20261203-070000", {"churn_rate": "<10"})  # hidden under min_cell
    _run(tmp_path, "20261203-080000", {"churn_rate": 0.5}, source="other.csv")  # other data
    _run(tmp_path, "20261203-090000", {"churn_rate": 0.5}, period="week")  # other period
    (tmp_path / "20261204-060000").mkdir()  # no metrics.json
    bad = tmp_path / "20261204-070000"
    bad.mkdir()
    (bad / "metrics.json").write_text("{not json", encoding="utf-8")
    _run(tmp_path, "notes", {"churn_rate": 0.9})  # not a run folder
    _run(tmp_path, "20261209-060000", {"churn_rate": 0.9})  # after the current run
    history = earlier_runs(tmp_path, "20261205-060000", source="log.csv", period="month")
    assert history.fillna({"value": -1, "text": ""}).to_dict("records") == [
        {"run": "20261201-060000", "figure": "churn_rate", "value": 0.15, "text": ""},
        {"run": "20261201-060000", "figure": "active_customers", "value": 500.0, "text": ""},
        {"run": "20261202-060000", "figure": "churn_rate", "value": 0.16, "text": ""},
        {"run": "20261203-070000", "figure": "churn_rate", "value": -1, "text": "<10"},
    ]
    latest = earlier_runs(tmp_path, "20261205-060000", source="log.csv", period="month", keep=1)
    assert latest["run"].unique().tolist() == ["20261203-070000"]
    # Without a source or period to match, every run with a summary counts.
    assert len(earlier_runs(tmp_path, "20261205-060000")["run"].unique()) == 5
    assert earlier_runs(tmp_path / "absent", "20261205-060000").empty


def test_alerts_compare_with_the_last_run_else_the_previous_period():
    history = pd.DataFrame(
        {"run": ["r1", "r2"], "figure": ["churn_rate", "churn_rate"], "value": [0.10, 0.15]}
    )
    alerts = check_alerts(
        {"churn_rate": 0.02, "revenue": "10%", "active_customers": 50},
        {"churn_rate": 0, "revenue": 0, "active_customers": 0},
    )
    raised = raised_alerts(
        {"churn_rate": 0.16, "revenue": 1200.0, "active_customers": 540},
        history,
        {"revenue": 1000.0, "active_customers": 500},
        alerts,
    )
    # churn moved 1 point since the last run (0.15): below 2 points. Revenue moved 20% of
    # the previous period's 1,000 (no run recorded it): beyond 10%. Active customers moved
    # 40: below 50.
    assert [a["figure"] for a in raised] == ["revenue"]
    assert raised[0]["reference_kind"] == "previous period"
    assert raised[0]["change"] == pytest.approx(200.0)
    again = raised_alerts({"churn_rate": 0.18}, history, {}, alerts)
    assert again[0]["reference_run"] == "r2" and again[0]["change"] == pytest.approx(0.03)
    # The last run hid churn (min_cell): nothing to compare with, no alert, not an older run.
    hidden = pd.concat(
        [history, pd.DataFrame({"run": ["r3"], "figure": ["churn_rate"], "value": [math.nan]})]
    )
    assert raised_alerts({"churn_rate": 0.5}, hidden, {"churn_rate": 0.1}, alerts) == []


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ([0.02], "mapping of figure"),
        ({"churn": 0.02}, "unknown figure 'churn'"),
        ({"churn_rate": -1}, "not a positive threshold"),
        ({"churn_rate": "ten"}, "not a positive threshold"),
        ({"churn_rate": True}, "not a positive threshold"),
    ],
)
def test_bad_alerts_are_named(alerts, message):
    with pytest.raises(JourneyParameterError, match=message):
        check_alerts(alerts, {"churn_rate": 0})


# --- pages ------------------------------------------------------------------------------


def test_a_page_shows_an_error_in_one_line_without_folders_or_stderr():
    import nbformat

    from journey_lib.report.render import readable_outputs

    error = nbformat.v4.new_output(
        "error",
        ename="FileNotFoundError",
        evalue="/work/data/x/log.csv: no such file",
        traceback=["\x1b[0;31mTraceback\x1b[0m", '  File "/usr/lib/python3/x.py", line 3'],
    )
    warning = nbformat.v4.new_output("stream", name="stderr", text="/tmp/k.py:3: UserWarning")
    shown = nbformat.v4.new_output("stream", name="stdout", text="kept")
    outputs = readable_outputs([warning, error, shown])
    assert [o["output_type"] for o in outputs] == ["error", "stream"]
    assert outputs[0]["traceback"] == [
        "The notebook stopped here: FileNotFoundError: log.csv: no such file"
    ]
    assert outputs[0].output_type == "error"  # still a notebook node nbconvert can render
    assert error["traceback"][0].endswith("Traceback\x1b[0m")  # the executed copy keeps it


def test_the_readme_shows_a_picture_of_the_summary():
    from pathlib import Path

    from PIL import Image

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    (picture,) = re.findall(r"!\[[^\]]*summary[^\]]*\]\(([^)]+)\)", readme)
    with Image.open(root / picture) as image:
        assert image.format == "PNG" and image.width >= 800 and image.height >= image.width


def test_the_summary_points_at_the_segment_whose_customers_churn_more(tmp_path):
    from journey_lib.report.summary import build_summary

    # 100 customers came through web and stay (a visit on the 5th of every month); 100 came
    # through ads, and 80 of them stop after 5 May. With 30 days of inactivity, ads lose
    # none in May (all visited on 5 May) and 80 of 100 in June; web loses none.
    rows = []
    months = pd.date_range("2024-01-05", "2024-07-05", freq="MS") + pd.Timedelta(days=4)
    for i in range(200):
        channel = "web" if i < 100 else "ads"
        stops = channel == "ads" and i < 180
        for month in months:
            if stops and month > pd.Timestamp("2024-05-05"):
                break
            rows.append((f"c{i}", month, "visit", channel))
    rows.append(("c0", pd.Timestamp("2024-07-10"), "visit", "web"))  # June is complete
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "channel"])
    log["timestamp"] = log["timestamp"].dt.tz_localize("UTC")
    profile = jl.profile(log, inactivity="30D", period="month")
    retention_page = {"03_retention": "03_retention.html"}
    summary = build_summary(
        tmp_path / "20261205-060000", data=log, profile=profile, pages=retention_page
    )
    # Two segments tested (ads and web), so Newcombe's interval on 80/100 - 0/100 at 97.5%:
    # 0.6864 to 0.8743. Without a segments page, the action links to the retention page.
    sentence = (
        "Look at customers who came through ads: their churn rose from 0.0% to 80.0% in June "
        "2024 (+80.0 points; 95% interval +68.6 to +87.4 points, allowing for the 2 segments "
        "compared)."
    )
    assert (sentence, "03_retention.html") in summary.actions
    assert not any("came through web" in text for text, _ in summary.actions)
    pages = {**retention_page, "06_segments": "06_segments.html"}
    summary = build_summary(tmp_path / "20261205-060000", data=log, profile=profile, pages=pages)
    assert (sentence, "06_segments.html") in summary.actions


def test_the_call_list_on_a_page_names_no_customer():
    from journey_lib.report.readings import call_list_reading

    data = jl.report.open_data(str(Path(__file__).parents[1] / "data/sample/events.csv.gz"))
    risk = jl.churn.at_risk(data.events, profile=data.profile, model="logistic")
    page = risk.formatted(5, ids=False)
    assert page.index.tolist() == [1, 2, 3, 4, 5] and page.index.name == "rank"
    assert "customer_id" not in page.columns and "customer" not in page.columns
    assert risk.formatted(5).index.tolist() == risk.table["customer_id"].head(5).tolist()
    m = risk.metrics()
    text = call_list_reading(m)
    assert text.startswith(f"{m['customers_scored']:,} customers active on ")
    assert f"{m['at_risk_customers']:,} have a churn probability of 50% or more" in text
    hidden = call_list_reading({**m, "contacts": 3}, min_cell=5)
    assert "contacting <5 is expected" in hidden
