"""What changed, in words (journey_lib.report.change_readings) and on the summary page:
sentences built from hand-made series, where a change happened, which changes lead, what the
monitoring notebook records, and the alert a new change raises once."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.monitor import words
from journey_lib.report import change_readings as cr
from journey_lib.report.summary import change_alerts

WEEKS = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
DIP = (np.arange(30) >= 12) & (np.arange(30) < 15)


def _rate_rows(value, column, rate, customers):
    return pd.DataFrame(
        {
            "metric": "conversion",
            "detail": "cart → purchase",
            "column": column,
            "value": value,
            "period": WEEKS,
            "count": np.round(customers * rate),
            "base": float(customers),
            "used": True,
        }
    )


def _split(mobile_rate, web_rate, mobile=400, web=400):
    parts = [
        _rate_rows("mobile", "platform", mobile_rate, mobile),
        _rate_rows("web", "platform", web_rate, web),
    ]
    whole = parts[0].copy()
    whole["column"] = whole["value"] = None
    whole["count"] = parts[0]["count"] + parts[1]["count"]
    whole["base"] = parts[0]["base"] + parts[1]["base"]
    return jl.find_changes(pd.concat([whole, *parts], ignore_index=True))


def test_a_fall_on_every_platform_reads_so():
    found = _split(np.where(DIP, 0.3, 0.6), np.where(DIP, 0.3, 0.6))
    whole = found.table.index[found.table["column"].isna()][0]
    assert cr.change_reading(found, whole) == (
        "Conversion from cart to purchase fell from 60.0% to 30.0% from 25 Mar to "
        "14 Apr 2024, on every platform."
    )
    # The platforms' own changes belong to it and do not lead.
    assert cr.headline_changes(found) == [whole]


def test_a_fall_on_one_platform_reads_mostly_there():
    found = _split(np.where(DIP, 0.1, 0.6), np.full(30, 0.6))
    t = found.table
    whole = t.index[t["column"].isna()][0]
    text = cr.where_text(found, whole)
    assert text == "mostly for platform mobile (all of the change)"
    mobile = t.index[t["value"] == "mobile"][0]
    assert cr.where_text(found, mobile) == "for platform mobile"


def test_a_segment_carrying_only_its_share_is_not_where_it_happened():
    # Seven in ten customers on mobile, both platforms halving: mobile carries about 70% of
    # the fall, no more than its share, so the fall is "on every platform".
    found = _split(np.where(DIP, 0.3, 0.6), np.where(DIP, 0.3, 0.6), mobile=700, web=300)
    whole = found.table.index[found.table["column"].isna()][0]
    assert cr.where_text(found, whole) == "on every platform"


def test_levels_when_and_labels_in_words():
    row = pd.Series(
        {"start": WEEKS[3], "ongoing": True, "periods": 5, "end": pd.NaT, "metric": "events"}
    )
    assert words.when_words(row, "week") == "since 22 Jan 2024"
    once = pd.Series({**row.to_dict(), "ongoing": False, "periods": 1, "end": WEEKS[3]})
    assert words.when_words(once, "week") == "in the week of 22 Jan 2024"
    assert words.when_words(once, "day") == "on 22 Jan 2024"
    # Five weeks from Monday 22 January run to Sunday 25 February.
    five = pd.Series({**once.to_dict(), "periods": 5})
    assert words.when_words(five, "week") == "from 22 Jan to 25 Feb 2024"
    assert words.level_words(0.0, "events", "day") == "0 a day"
    assert words.level_words(12345.4, "new customers", "week") == "12,345 a week"
    assert words.level_words(0.43, "events", "day") == "0.4 a day"
    assert words.level_words(0.6124, "retention", "week") == "61.2%"
    assert words.level_words(12.5, "revenue per customer", "week") == "12.50"
    assert cr.change_label(pd.Series({"metric": "churn rate", "detail": None})) == (
        "The churn rate"
    )


def test_a_reading_a_figure_and_a_timeline_label_say_when_alike():
    found = _split(np.where(DIP, 0.3, 0.6), np.full(30, 0.6), mobile=700, web=300)
    i = int(found.table.index[found.table["column"].isna()][0])
    row = found.table.iloc[i]
    when = words.when_words(row, "week")
    assert when == "from 25 Mar to 14 Apr 2024"
    assert when in cr.change_reading(found, i)
    figure = jl.plots.change_series(found, i)
    assert figure.axes[0].get_title().endswith(when)
    plt.close(figure)
    move = words.move_words(row, "week")
    assert move.startswith("down from 60.0% to ")
    labels = jl.widgets.timeline.change_labels(found)
    assert labels[i] == f"Conversion from cart to purchase {move} {when}"


def test_money_levels_carry_the_currency_sign():
    weeks = WEEKS
    revenue = pd.DataFrame(
        {
            "metric": "revenue per customer",
            "detail": None,
            "column": None,
            "value": None,
            "period": weeks,
            "count": np.where(DIP, 2000.0, 1250.0) * 100,
            "base": 100.0,
            "used": True,
        }
    )
    found = jl.find_changes(revenue)
    assert cr.change_reading(found, 0, currency="EUR").startswith(
        "Revenue per active customer rose from €1,250 to €2,000 from 25 Mar"
    )


def test_headlines_lead_with_what_appeared_then_the_largest_one_per_series():
    series = []
    for name, level in (("payment_error", np.where(DIP, 40.0, 0.0)), ("search", None)):
        counts = level if level is not None else np.where(DIP, 300.0, 500.0)
        series.append(
            pd.DataFrame(
                {
                    "metric": "events",
                    "detail": name,
                    "column": None,
                    "value": None,
                    "period": WEEKS,
                    "count": counts,
                    "base": np.nan,
                    "used": True,
                }
            )
        )
    found = jl.find_changes(pd.concat(series, ignore_index=True))
    order = [found.table.at[i, "detail"] for i in cr.headline_changes(found)]
    assert order == ["payment_error", "search"]
    sentences = cr.what_changed(found)
    assert (
        sentences[0] == "Payment error events rose from 0 to 40 a week from 25 Mar to 14 Apr 2024."
    )
    assert sentences[1].startswith("Search events fell from 500 to 300 a week")
    # Under min_cell, a change resting on fewer events is not told (3 weeks x 40 = 120).
    assert [found.table.at[i, "detail"] for i in cr.headline_changes(found, min_cell=500)] == [
        "search"
    ]


def test_what_the_notebook_records_for_the_summary():
    found = _split(np.where(DIP, 0.3, 0.6), np.where(DIP, 0.3, 0.6))
    recorded = cr.recorded_changes(found)
    assert recorded["changes_found"] == len(found.table)
    assert recorded["what_changed_1"] == cr.what_changed(found)[0]
    assert recorded["change_1_key"] == "conversion|cart → purchase||"
    assert (recorded["change_1_from"], recorded["change_1_to"]) == ("2024-03-25", "2024-04-08")
    assert recorded["change_1_size"] == pytest.approx(0.5)
    assert "what_changed_2" not in recorded


def test_a_new_change_alerts_once_and_a_small_one_never():
    def change(key, size, start="2024-05-13", end="2024-06-03"):
        return {"sentence": f"{key} moved.", "key": key, "from": start, "to": end, "size": size}

    changes = [change("a", None), change("b", 0.3), change("c", 0.8)]
    assert [a["key"] for a in change_alerts(changes, [], 0.5)] == ["a", "c"]
    assert [a["key"] for a in change_alerts(changes, [change("a", None)], 0.5)] == ["c"]
    assert change_alerts(changes, [change("a", None), change("c", 0.8)], 0.5) == []
    assert [a["key"] for a in change_alerts(changes, [], 0.2)] == ["a", "b", "c"]
    # The same series whose start moved as data came in is the same change (windows overlap);
    # the same series months earlier is another one.
    moved = [change("a", None, "2024-05-20", "2024-05-27")]
    assert [a["key"] for a in change_alerts(changes, moved, 0.5)] == ["c"]
    earlier = [change("a", None, "2024-01-01", "2024-01-29")]
    assert [a["key"] for a in change_alerts(changes, earlier, 0.5)] == ["a", "c"]


def test_nothing_changed_says_how_much_was_looked_at():
    flat = _rate_rows(None, None, np.full(30, 0.5), 400)
    found = jl.find_changes(flat)
    assert len(found) == 0
    assert cr.what_changed(found) == []
    assert cr.nothing_changed(found) == (
        f"Nothing changed beyond chance: 1 weekly series scanned, {found.tests:,} windows of "
        f"time tested; a change needed a score of {found.threshold:.1f} or more (at most a 5% "
        "chance of any false alarm over them all). Each baseline follows its series' trend, "
        "which may bend every 8 weeks: a change lasting about as long or longer can read as "
        "trend."
    )
    slow = cr.scan_reading(jl.find_changes(flat, trend="182D"))
    assert slow.endswith(
        "may bend every 26 weeks: a change lasting about as long or longer can read as trend."
    )
    rounded = cr.scan_reading(jl.find_changes(flat, trend="20D"))
    assert "may bend every 3 weeks" in rounded  # 20 days are 3 whole weeks, by week
    table = cr.series_table(found)
    assert table.to_dict("records") == [
        {
            "series": "Conversion from cart to purchase",
            "where": "whole log",
            "periods used": 30,
            "best score": f"{found.series['best'].iloc[0]:.1f}",
            "changes": 0,
        }
    ]
    assert list(cr.changes_table(found).columns) == [
        "change",
        "where",
        "when",
        "before",
        "during",
        "size",
        "score",
    ]


def test_the_summary_says_when_nothing_changed_and_when_the_scan_did_not_run(tmp_path):
    from journey_lib.report.summary import build_summary
    from journey_lib.report.summary_page import summary_sections

    log = jl.simulate(300, seed=3, days=120).events
    pages = {"07_changes": "07_changes.html"}
    ran = build_summary(
        tmp_path / "20261205-060000",
        data=log,
        profile=jl.profile(log),
        pages=pages,
        recorded={"07_changes": {"changes_found": 0}},
    )
    page = summary_sections(ran)
    assert ran.changes_scanned and ran.changes == []
    assert 'id="changes"' in page and "Nothing changed beyond chance" in page
    assert 'href="07_changes.html"' in page
    # Each change told links to its own heading on the monitoring page.
    recorded = {"changes_found": 2}
    for k, key in ((1, "events|payment_error||"), (2, "active customers|||")):
        recorded |= {
            f"what_changed_{k}": f"Change {k}.",
            f"change_{k}_key": key,
            f"change_{k}_from": "2024-05-13",
            f"change_{k}_to": "2024-06-03",
            f"change_{k}_size": None,
        }
    told = build_summary(
        tmp_path / "20261205-070000",
        data=log,
        profile=jl.profile(log),
        pages=pages,
        recorded={"07_changes": recorded},
    )
    page = summary_sections(told)
    for k in (1, 2):
        assert f'Change {k}. <a href="07_changes.html#change-{k}">see it</a>' in page
    # Without the notebook's record the page says nothing about changes.
    not_run = build_summary(
        tmp_path / "20261205-060000", data=log, profile=jl.profile(log), pages=pages
    )
    assert not not_run.changes_scanned and 'id="changes"' not in summary_sections(not_run)
