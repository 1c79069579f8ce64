"""summary.html: its figures read back and checked against the functions that compute them,
the page as headless Chromium shows it, small cells hidden, and the earlier run it compares
with."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.report.formatting import figure_text
from journey_lib.report.summary import build_summary, value_by_segment
from journey_lib.report.summary_page import summary_html

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "events.csv.gz"
RUN = "20261205-060000"
# A float written with more digits than any report figure has.
RAW_FLOAT = re.compile(r"\d\.\d{4,}")


def _write_run(folder: Path, data, profile, *, at_risk=None, alerts=None, min_cell=0):
    """A run folder as the runner leaves it: the churn notebook's list and records, then
    the summary page and metrics.json."""
    folder.mkdir(parents=True, exist_ok=True)
    recorded = {"05_attribution_and_value": {"top_channel": "web", "top_channel_share": 0.27}}
    if at_risk is not None:
        at_risk.write(folder)
        recorded["04_churn_model"] = at_risk.metrics()
    summary = build_summary(
        folder,
        data=data,
        profile=profile,
        pages={"02_funnels": "02_funnels.html", "03_retention": "03_retention.html"},
        recorded=recorded,
        alerts=alerts,
        min_cell=min_cell,
    )
    (folder / "summary.html").write_text(summary_html(summary), encoding="utf-8")
    recorded["summary"] = summary.metrics()
    (folder / "metrics.json").write_text(json.dumps(recorded), encoding="utf-8")
    return summary


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    data = jl.report.open_data(str(SAMPLE), quiet=False)
    risk = jl.churn.at_risk(data.events, profile=data.profile, seed=0)
    folder = tmp_path_factory.mktemp("reports") / RUN
    summary = _write_run(folder, str(SAMPLE), data.profile, at_risk=risk)
    return folder, summary, data, risk


def _cards(page: str) -> dict[str, dict[str, str]]:
    """Each headline card's texts, by figure key."""
    cards = {}
    for key, body in re.findall(r'id="figure-([a-z_]+)">(.*?)</div></div>', page + "</div>"):
        parts = dict(re.findall(r'<div class="(\w+)[^"]*">(.*?)</div>', body + "</div>"))
        cards[key] = {name: html.unescape(text) for name, text in parts.items()}
    return cards


def test_every_headline_figure_on_the_page_is_the_library_s(sample_run):
    folder, _, data, risk = sample_run
    events, p = data.events, data.profile
    cards = _cards((folder / "summary.html").read_text(encoding="utf-8"))
    assert set(cards) == {
        "active_customers",
        "new_customers",
        "conversion_rate",
        "churn_rate",
        "first_period_retention",
        "revenue",
        "revenue_per_customer",
        "at_risk_customers",
        "value_at_risk",
    }
    life = jl.lifecycle(events, period="month")
    done = life[life["complete"]]
    active = done[done["status"] != "dormant"].groupby("period")["customers"].sum()
    new = done[done["status"] == "new"].set_index("period")["customers"]
    churn = jl.churn_rate(events, period="month", inactivity=p.inactivity)
    trend = jl.funnel_trend(events, list(p.funnel), period="month", window="30D")
    conversion = trend[trend["complete"]].iloc[-1]
    cohorts = jl.retention(events, period="month")
    first = cohorts[(cohorts["period"] == 1) & cohorts["complete"]].iloc[-1]
    month = active.index[-1]
    spent = events.loc[
        events["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
        == month.tz_convert("UTC").tz_localize(None).to_period("M"),
        "value",
    ].sum()
    metrics = risk.metrics()
    expected = {
        "active_customers": figure_text(active.iloc[-1], "count"),
        "new_customers": figure_text(new.loc[month], "count"),
        "conversion_rate": figure_text(conversion["conversion_rate"], "rate"),
        "churn_rate": figure_text(churn["churn_rate"].iloc[-1], "rate"),
        "first_period_retention": figure_text(first["rate"], "rate"),
        "revenue": figure_text(spent, "money"),
        "revenue_per_customer": figure_text(spent / active.iloc[-1], "money"),
        "at_risk_customers": figure_text(metrics["at_risk_customers"], "count"),
        "value_at_risk": figure_text(metrics["value_at_risk"], "money"),
    }
    assert {key: card["value"] for key, card in cards.items()} == expected
    # The period each is for: November 2024 (the sample ends on 30 December), October for
    # the rates whose window or next period reaches past the log's end.
    assert cards["active_customers"]["period"] == "November 2024"
    assert cards["conversion_rate"]["period"] == conversion["period"].strftime("%B %Y")
    # The previous period and the change, in words, with the interval.
    previous = churn["churn_rate"].iloc[-2]
    assert f"from {figure_text(previous, 'rate')} in October 2024" in cards["churn_rate"]["change"]
    assert "95% interval" in cards["churn_rate"]["noise"]
    assert cards["at_risk_customers"]["change"] == "the first run to record it"
    assert cards["at_risk_customers"]["period"] == "active on 30 Dec 2024"


def test_the_page_says_what_to_do_and_about_the_data(sample_run):
    folder, summary, data, risk = sample_run
    text = html.unescape(re.sub(r"<[^>]+>", " ", (folder / "summary.html").read_text()))
    funnel = jl.funnel(data.events, list(data.profile.funnel), window="30D")
    lost = (funnel["customers"].shift() - funnel["customers"]).iloc[1:]
    worst = int(lost.to_numpy().argmax())
    step = f"{funnel['event'].iloc[worst]} to {funnel['event'].iloc[worst + 1]}"
    assert f"Work on the step from {step}" in text
    assert f"Contact the {risk.metrics()['contacts']:,} customers marked for contact" in text
    assert "Keep investing in web" in text and "27.0% of the conversion credit" in text
    assert "33,304 rows read from events.csv.gz" in text
    assert "The log runs from 1 Jan 2024 to 30 Dec 2024" in text
    assert "a customer counts as lost after 90 days" in text
    # One definition per headline figure.
    assert len(summary.definitions) == 9
    # Links go to pages of the run, never elsewhere.
    links = re.findall(r'href="([^"]+)"', (folder / "summary.html").read_text())
    assert set(links) <= {"02_funnels.html", "03_retention.html", "at_risk.csv"}


def test_the_summary_renders_whole_in_chromium(sample_run, render_page, print_pdf):
    folder, summary, *_ = sample_run
    page = render_page(folder / "summary.html")
    assert page.broken_images == []
    assert page.failed_requests == []  # self-contained: nothing to fetch
    assert page.console_errors == []
    for label in summary.figures["label"]:
        assert label in page.text
    for section in ("Headline figures", "What the figures show", "What to do", "About this data"):
        assert section in page.text
    assert RAW_FLOAT.findall(page.text) == []
    for leak in ("Warning", "Traceback", str(ROOT), "/tmp/", "site-packages"):
        assert leak not in page.text
    source = (folder / "summary.html").read_text()
    assert source.count("<img ") == len(summary.panels) == 4
    assert page.screenshot.stat().st_size > 10_000
    assert 1 <= print_pdf(folder / "summary.html") <= 6


def test_value_at_risk_by_segment_is_the_list_s(sample_run):
    *_, risk = sample_run
    table = risk.table
    by_segment = value_by_segment(table)
    assert by_segment["customers"].sum() == len(table)
    assert by_segment["value_at_risk"].sum() == pytest.approx(risk.metrics()["value_at_risk"])
    assert by_segment["at_risk_customers"].sum() == risk.metrics()["at_risk_customers"]
    hidden = value_by_segment(table, min_cell=by_segment["customers"].min() + 1)
    assert hidden["customers"].isna().sum() >= 2  # never one hidden alone


def test_min_cell_hides_small_figures_in_the_page_and_metrics(sample_run, tmp_path):
    _, _, data, risk = sample_run
    folder = tmp_path / RUN
    summary = _write_run(folder, str(SAMPLE), data.profile, at_risk=risk, min_cell=10**6)
    page = (folder / "summary.html").read_text(encoding="utf-8")
    cards = _cards(page)
    assert {card["value"] for card in cards.values()} == {"<1000000"}
    recorded = json.loads((folder / "metrics.json").read_text())["summary"]["figures"]
    assert all(f["value"] == "<1000000" and f["suppressed"] for f in recorded.values())
    assert "hidden: fewer than 1000000 customers behind it" in page
    assert summary.min_cell == 10**6
    # Nothing is left to draw or to act on: no figure, no action with a hidden number.
    assert summary.panels == [] and summary.actions[:1] == [
        a for a in summary.actions if a[0].startswith("Keep investing")
    ]


def test_min_cell_hides_the_small_figures_and_keeps_the_rest(sample_run, tmp_path):
    """min_cell = 200 on the sample: 505 active customers stay, 173 new ones hide; the
    conversion rate of 185 entrants hides, and so does the churn rate of 736 customers, as
    its 125 lost customers are fewer; revenue over 505 customers stays; 175 contacts hide,
    so their action goes."""
    _, shown, data, risk = sample_run
    folder = tmp_path / RUN
    summary = _write_run(folder, str(SAMPLE), data.profile, at_risk=risk, min_cell=200)
    cards = _cards((folder / "summary.html").read_text(encoding="utf-8"))
    assert cards["active_customers"]["value"] == "505"
    assert cards["new_customers"]["value"] == "<200"
    assert cards["conversion_rate"]["value"] == "<200"
    assert cards["churn_rate"]["value"] == "<200"
    assert cards["revenue"]["value"] == shown.text("revenue") == "34,296"
    texts = " ".join(text for text, _ in summary.actions)
    assert "Contact the" not in texts
    # Every number of a panel's reading is 200 or more, a rate, money, or a date.
    for panel in summary.panels:
        for number in re.findall(r"(?<![\d.,€$£%])(\d[\d,]*)(?![\d.,%])", panel.reading):
            value = int(number.replace(",", ""))
            assert value >= 200 or 1 <= value <= 31 or value >= 2000, (number, panel.reading)
    recorded = json.loads((folder / "metrics.json").read_text())["summary"]["figures"]
    assert recorded["new_customers"]["value"] == "<200"
    assert recorded["active_customers"]["value"] == 505


def test_customer_ids_never_reach_the_summary(tmp_path):
    sim = jl.simulate(400, seed=5)
    events = sim.events.assign(customer_id="cust-" + sim.events["customer_id"].astype(str))
    path = tmp_path / "events.csv"
    events.to_csv(path, index=False)
    profile = jl.profile(str(path))
    risk = jl.churn.at_risk(jl.report.open_data(str(path), profile).events, profile=profile)
    folder = tmp_path / "reports" / RUN
    _write_run(folder, str(path), profile, at_risk=risk)
    assert "cust-" in (folder / "at_risk.csv").read_text()
    assert "cust-" not in (folder / "summary.html").read_text()
    assert "cust-" not in (folder / "metrics.json").read_text()


def test_the_second_run_shows_the_first_since_the_last_run(sample_run, tmp_path):
    first, summary, data, risk = sample_run
    reports = tmp_path / "reports"
    shutil.copytree(first, reports / RUN)
    later = "20261212-060000"
    second = _write_run(
        reports / later, str(SAMPLE), data.profile, at_risk=risk, alerts={"churn_rate": 0.001}
    )
    assert second.history["run"].unique().tolist() == [RUN]
    page = (reports / later / "summary.html").read_text(encoding="utf-8")
    history = page[page.index('id="history"') : page.index('id="about"')]
    assert "5 Dec 2026 06:00:00 UTC" in history  # the first run's column, to the second
    churn = figure_text(summary.figures.loc["churn_rate", "value"], "rate")
    assert history.count(churn) == 2  # the first run's value, and this run's
    # The same data: nothing moved since the last run, so no alert although churn moved
    # since the previous period.
    assert second.alerts == []
    assert "at_risk_customers" in second.figures.index
    assert second.figures.loc["at_risk_customers", "change"] == 0
    assert _cards(page)["at_risk_customers"]["change"].startswith("+0 from")


def test_an_alert_is_flagged_on_the_page_and_in_metrics(sample_run, tmp_path):
    _, _, data, _ = sample_run
    folder = tmp_path / "reports" / RUN
    # No earlier run: compared with the previous period, where churn moved 4.3 points.
    _write_run(folder, str(SAMPLE), data.profile, alerts={"churn_rate": 0.01, "revenue": "50%"})
    recorded = json.loads((folder / "metrics.json").read_text())["summary"]
    assert [a["figure"] for a in recorded["alerts"]] == ["churn_rate"]
    assert recorded["alerts"][0]["reference_kind"] == "previous period"
    page = (folder / "summary.html").read_text(encoding="utf-8")
    assert 'class="card alert" id="figure-churn_rate"' in page
    assert "beyond the alert threshold of 1.0 points" in html.unescape(page)


def test_the_shared_clickstream_gets_a_summary(tmp_path, render_page):
    from engines import shared_file

    path = shared_file("events", "ecom_clickstream.csv.gz")
    profile = jl.profile(str(path))
    folder = tmp_path / "reports" / RUN
    summary = _write_run(folder, str(path), profile)
    assert {"active_customers", "churn_rate", "first_period_retention"} <= set(
        summary.figures.index
    )
    page = render_page(folder / "summary.html")
    assert page.broken_images == [] and page.failed_requests == []
    assert RAW_FLOAT.findall(page.text) == []
    assert "ecom_clickstream.csv.gz" in page.text


def test_a_customer_table_gets_no_summary_but_a_clear_error(tmp_path):
    from engines import shared_file

    path = shared_file("churn", "telco_customer_churn.csv")
    with pytest.raises(jl.errors.JourneyError, match="customer table"):
        build_summary(tmp_path / RUN, data=str(path), profile=None)


def test_summary_metrics_are_plain_json(sample_run):
    _, summary, _, risk = sample_run
    recorded = summary.metrics()
    text = json.dumps(recorded)
    assert "NaN" not in text
    churn = recorded["figures"]["churn_rate"]
    assert churn["period"] == "2024-11-01" and churn["previous_period"] == "2024-10-01"
    assert churn["low"] < churn["change"] < churn["high"]
    # The at-risk figures are of the customers active at the log's end (midnight after its
    # last day, 30 December 2024).
    assert recorded["figures"]["at_risk_customers"]["period"] == "2024-12-31"
    assert risk.scored_at == pd.Timestamp("2024-12-31", tz="UTC")


def test_awkward_logs_read_right(tmp_path):
    """A log without awareness events, one shorter than a period, and a funnel step the log
    never has: each says what it is instead of a wrong sentence."""
    from engines import shared_file

    clicks = shared_file("events", "ecom_clickstream.csv.gz")
    summary = build_summary(tmp_path / "a" / RUN, data=str(clicks), profile=None)
    journey = next(panel for panel in summary.panels if panel.title == "The journey")
    # Nobody in the clickstream has an awareness event: the journey starts where they do.
    assert journey.reading.startswith("Of 600 customers who entered, ")
    assert "the week of" in " ".join(summary.about)

    store = shared_file("events", "rees46_ecommerce_sample.csv")
    short = build_summary(tmp_path / "b" / RUN, data=str(store), profile=None)
    assert any("less than one complete" in line for line in short.about)
    assert not any("latest complete one being –" in line for line in short.about)

    given = {"steps": ["site_visit", "checkout"]}
    missing = build_summary(tmp_path / "c" / RUN, data=str(SAMPLE), profile=None, parameters=given)
    assert "conversion_rate" not in missing.figures.index
    assert any("`checkout` never occurs in the log" in line for line in missing.about)
    assert any("funnel none" in line for line in missing.about)


def test_runs_of_other_data_are_not_compared(sample_run, tmp_path):
    first, *_ = sample_run
    reports = tmp_path / "reports"
    shutil.copytree(first, reports / RUN)
    other = tmp_path / "other.csv"
    pd.read_csv(SAMPLE).to_csv(other, index=False)
    summary = build_summary(reports / "20261212-060000", data=str(other), profile=None)
    assert summary.history.empty  # events.csv.gz before, other.csv now
    weekly = build_summary(
        reports / "20261213-060000", data=str(SAMPLE), profile=None, parameters={"period": "week"}
    )
    assert weekly.history.empty  # the same data by month before, by week now


def test_value_at_risk_worth_nothing_draws_an_axis_without_a_warning():
    """Customers at risk worth 0 (a log without money): the axis runs 0 to 1, silently."""
    import warnings

    import matplotlib.pyplot as plt

    from journey_lib.plots.summary import value_at_risk

    table = pd.DataFrame({"segment": ["all"], "value_at_risk": [0.0], "at_risk_customers": [1]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = value_at_risk(table)
    assert figure.axes[0].get_xlim() == (0.0, 1.0)
    plt.close(figure)
