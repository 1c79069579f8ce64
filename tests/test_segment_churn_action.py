"""The summary's segment churn action: which segment's churn rose most beyond chance, with
Newcombe's interval at a Bonferroni level over every segment tested, on hand-built logs
(rates and intervals computed here), with a customer table, under ``min_cell``, and on the
real clickstream against a brute-force recomputation."""

from __future__ import annotations

import warnings

import pandas as pd
from engines import shared_file

import journey_lib as jl
from journey_lib._intervals import rate_difference
from journey_lib.analytics.segments import MISSING
from journey_lib.errors import JourneyDataWarning
from journey_lib.report.actions import segment_churn_action
from journey_lib.report.data import ReportData, open_data
from journey_lib.report.summary import build_summary

# Everyone visits on the 5th of each month from February until their last month. With 30
# days of inactivity, a customer whose last visit is 5 April is active on 1 May and lost
# in May; one whose last is 5 May is active on 1 June and lost in June; one who visits
# until 5 July stays (and makes June a complete period).
VISITS = pd.date_range("2024-02-01", "2024-07-01", freq="MS") + pd.Timedelta(days=4)
MAY, JUNE = (pd.Timestamp(f"2024-0{m}-01", tz="UTC") for m in (5, 6))
CHURN = {"period": JUNE, "previous_period": MAY}


def log_of(groups: list[tuple]) -> pd.DataFrame:
    """A log of groups ``(customers, {last month: how many}, first row's columns, later
    rows' columns)``: each customer visits monthly until their last month, with the first
    columns on their first visit and the later ones (default: the same) after it."""
    rows, n = [], 0
    for count, last_months, first, *later in groups:
        assert sum(last_months.values()) == count
        for last, how_many in last_months.items():
            for _ in range(how_many):
                for k, t in enumerate(VISITS[VISITS.month <= last]):
                    columns = first if k == 0 or not later else later[0]
                    rows.append({"customer_id": f"c{n:03d}", "timestamp": t, **columns})
                n += 1
    log = pd.DataFrame(rows).assign(event="visit")
    log["timestamp"] = log["timestamp"].dt.tz_localize("UTC")
    return log


def data_of(log: pd.DataFrame, **options) -> ReportData:
    return open_data(log, jl.profile(log, period="month", inactivity="30D"), **options)


def expected(who: str, before: tuple, now: tuple, tested: int) -> str:
    """The sentence for a rise from ``before`` to ``now`` (lost, active at the start), its
    interval computed here at the Bonferroni level over ``tested`` segments."""
    low, high = rate_difference(*now, *before, 1 - 0.05 / tested)
    rate_before, rate_now = before[0] / before[1], now[0] / now[1]
    return (
        f"Look at customers {who}: their churn rose from {rate_before:.1%} to {rate_now:.1%} "
        f"in June 2024 (+{(rate_now - rate_before) * 100:.1f} points; 95% interval "
        f"+{low * 100:.1f} to +{high * 100:.1f} points, allowing for the {tested} segments "
        "compared)."
    )


def only_text(actions: list) -> str:
    ((text, _),) = actions
    return text


def test_a_property_holding_the_rise_is_named_with_its_rates_and_interval():
    # Platform (a property, by each customer's first row): ios customers lose 4 of 40 in
    # May and 16 of the 36 left in June; android 4 of 40, then 2 of 36. The ios customers
    # lost in June switch to android after their first visit, which does not move them.
    # Channels hold half of each platform: each loses 4 of 40, then 9 of 36, a rise
    # within chance. Four segments tested: the level is 1 - 0.05 / 4.
    ios = {"platform": "ios"}
    log = log_of(
        [
            (10, {4: 2, 7: 8}, {**ios, "channel": "ads"}),
            (10, {4: 2, 7: 8}, {**ios, "channel": "web"}),
            (8, {5: 8}, {**ios, "channel": "ads"}, {"platform": "android", "channel": "ads"}),
            (8, {5: 8}, {**ios, "channel": "web"}, {"platform": "android", "channel": "web"}),
            (2, {7: 2}, {**ios, "channel": "ads"}),
            (2, {7: 2}, {**ios, "channel": "web"}),
            (20, {4: 2, 5: 1, 7: 17}, {"platform": "android", "channel": "ads"}),
            (20, {4: 2, 5: 1, 7: 17}, {"platform": "android", "channel": "web"}),
        ]
    )
    data = data_of(log)
    assert data.segment_columns() == ["channel", "platform"]
    action = segment_churn_action(data, CHURN, "month", "30D", "segments.html")
    text = expected("whose first platform was ios", (4, 40), (16, 36), tested=4)
    assert action == [(text, "segments.html")]
    assert "+9.0 to +55.5 points" in text  # the interval, as worked out by hand once
    # The channel alone: its rise (4/40 to 9/36) is within chance, so nothing is said.
    channel_only = data_of(log.drop(columns="platform"))
    assert channel_only.segment_columns() == ["channel"]
    assert segment_churn_action(channel_only, CHURN, "month", "30D", None) == []


def borderline(regions: bool) -> pd.DataFrame:
    # ios: 4 of 40 lost in May, 12 of 36 in June; android flat (4 of 40, then 4 of 36).
    # Newcombe's interval on the ios rise is above zero at 1 - 0.05 / 2 (+2.1 points at
    # its low end) but not at 1 - 0.05 / 8 (-2.7 points).
    log = log_of(
        [
            (40, {4: 4, 5: 12, 7: 24}, {"platform": "ios"}),
            (40, {4: 4, 5: 4, 7: 32}, {"platform": "android"}),
        ]
    )
    if regions:  # six regions, every customer's at random: noise
        ids = log["customer_id"].str[1:].astype(int)
        log["region"] = ids.map(lambda i: "nesw-xy"[(i * 7919) % 6])
    return log


def test_the_level_is_bonferroni_over_every_segment_tested_across_columns():
    low = rate_difference(12, 36, 4, 40, 1 - 0.05 / 2)[0]
    assert 0 < low < rate_difference(12, 36, 4, 40, 0.95)[0]
    assert rate_difference(12, 36, 4, 40, 1 - 0.05 / 8)[0] < 0
    alone = data_of(borderline(regions=False))
    assert alone.segment_columns() == ["platform"]
    text = only_text(segment_churn_action(alone, CHURN, "month", "30D", None))
    assert text == expected("whose first platform was ios", (4, 40), (12, 36), tested=2)
    # One more column of six noise segments: eight tested, and the same rise is no longer
    # beyond chance.
    noisy = data_of(borderline(regions=True))
    assert noisy.segment_columns() == ["platform", "region"]
    assert noisy.events.groupby("region")["customer_id"].nunique().size == 6
    assert segment_churn_action(noisy, CHURN, "month", "30D", None) == []


def test_a_customer_table_column_is_read_from_the_table(tmp_path):
    # The log has no segment column; the customer table's plan has the rise: pro loses 4 of
    # 40 in May and 20 of 36 in June, basic 4 of 40 and 3 of 36.
    log = log_of([(40, {4: 4, 5: 20, 7: 16}, {}), (40, {4: 4, 5: 3, 7: 33}, {})])
    ids = sorted(log["customer_id"].unique())
    table = pd.DataFrame({"customer_id": ids, "plan": ["pro"] * 40 + ["basic"] * 40})
    path = tmp_path / "customers.csv"
    table.to_csv(path, index=False)
    data = data_of(log, customers_path=str(path))
    assert data.segment_columns() == ["plan"]
    text = expected("whose plan is pro", (4, 40), (20, 36), tested=2)
    assert segment_churn_action(data, CHURN, "month", "30D", None) == [(text, None)]
    # Without the table there is nothing to break customers down by.
    assert segment_churn_action(data_of(log), CHURN, "month", "30D", None) == []
    # The summary reads the customer table the run's customers_path names.
    summary = build_summary(
        tmp_path / "20261205-060000",
        data=log,
        profile=jl.profile(log, period="month", inactivity="30D"),
        parameters={"customers_path": str(path)},
    )
    assert (text, None) in summary.actions


def test_nothing_without_a_previous_period_or_a_segment_column():
    data = data_of(borderline(regions=False))
    for churn in (
        {"period": JUNE, "previous_period": pd.NaT},  # the log's first complete period
        {"period": pd.NaT, "previous_period": pd.NaT},  # no complete period
    ):
        assert segment_churn_action(data, churn, "month", "30D", None) == []
    log = log_of([(40, {4: 4, 5: 20, 7: 16}, {}), (40, {4: 4, 5: 3, 7: 33}, {})])
    plain = data_of(log)
    assert plain.segment_columns() == []
    assert segment_churn_action(plain, CHURN, "month", "30D", None) == []


def test_min_cell_leaves_out_a_small_base_and_a_small_count():
    # Tablet: 8 customers, none lost in May, 6 in June: a rise beyond chance. ios and
    # android are flat.
    log = log_of(
        [
            (40, {4: 4, 5: 4, 7: 32}, {"platform": "ios"}),
            (40, {4: 4, 5: 4, 7: 32}, {"platform": "android"}),
            (8, {5: 6, 7: 2}, {"platform": "tablet"}),
        ]
    )
    data = data_of(log)
    text = expected("whose first platform was tablet", (0, 8), (6, 8), tested=3)
    assert only_text(segment_churn_action(data, CHURN, "month", "30D", None)) == text
    # Under min_cell 10 its base (8) is too small to test: two segments, both flat.
    assert segment_churn_action(data, CHURN, "month", "30D", None, min_cell=10) == []
    # Under min_cell 7 the base is tested, but its 6 customers lost would show: not named.
    assert segment_churn_action(data, CHURN, "month", "30D", None, min_cell=7) == []
    # Under min_cell 3, its 2 customers kept in June would show (75.0% of 8): not named;
    # under 2 nothing is that small, and it is.
    assert segment_churn_action(data, CHURN, "month", "30D", None, min_cell=3) == []
    named = segment_churn_action(data, CHURN, "month", "30D", None, min_cell=2)
    assert only_text(named) == text


def test_a_column_the_breakdown_refuses_is_skipped_with_a_warning():
    # "tier" holds the reserved "(missing)" as a value; "lost" is named like a column of
    # churn_rate's result. Both are left out and platform's rise is still named, the
    # segments of the columns left out not counted.
    log = log_of(
        [
            (40, {4: 4, 5: 16, 7: 20}, {"platform": "ios", "tier": MISSING, "lost": "a"}),
            (40, {4: 4, 5: 2, 7: 34}, {"platform": "android", "tier": "gold", "lost": "b"}),
        ]
    )
    data = data_of(log)
    assert set(data.segment_columns()) == {"platform", "tier", "lost"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action = segment_churn_action(data, CHURN, "month", "30D", None)
    text = expected("whose first platform was ios", (4, 40), (16, 36), tested=2)
    assert action == [(text, None)]
    (warning,) = [w for w in caught if issubclass(w.category, JourneyDataWarning)]
    assert str(warning.message).startswith("Churn was not compared across the segments of `tier`")


def first_values(log: pd.DataFrame, column: str) -> pd.Series:
    """Each customer's value at their first row with one (ties: the smallest), by hand."""
    valued = log.dropna(subset=[column])
    first = valued[
        valued["timestamp"] == valued.groupby("customer_id")["timestamp"].transform("min")
    ]
    return first.assign(text=first[column].astype(str)).groupby("customer_id")["text"].min()


def test_the_rates_on_the_real_clickstream_are_those_of_the_segments_customers():
    # In the week of 11 March 2024 (14 days of inactivity) a segment's churn rose beyond
    # chance. Recompute every segment's churn by filtering the log to its customers, rank
    # the segments and count those tested by hand, and build the sentence from that.
    data = open_data(str(shared_file("events", "ecom_clickstream.csv.gz")))
    log = data.events
    week, before = pd.Timestamp("2024-03-11", tz="UTC"), pd.Timestamp("2024-03-04", tz="UTC")
    churn = {"period": week, "previous_period": before}
    action = segment_churn_action(data, churn, "week", "14D", None)
    found = []
    for column in data.segment_columns():
        values = first_values(log, column).reindex(log["customer_id"].unique()).fillna(MISSING)
        counts = values.value_counts().rename_axis("value").reset_index()
        ranked = counts.sort_values(["count", "value"], ascending=[False, True])["value"]
        for value in ranked.head(6):
            if value == MISSING:
                continue
            ids = values.index[values == value]
            rates = jl.churn_rate(
                log[log["customer_id"].isin(ids)], period="week", inactivity="14D"
            )
            rows = rates.set_index("period").reindex([before, week])
            if rows["active_start"].fillna(0).min() >= 1:
                found.append((column, value, *rows[["lost", "active_start"]].to_numpy().ravel()))
    segments = pd.DataFrame(found, columns=["column", "value", "x0", "n0", "x1", "n1"])
    low, high = rate_difference(
        segments["x1"], segments["n1"], segments["x0"], segments["n0"], 1 - 0.05 / len(segments)
    )
    segments = segments.assign(
        rise=segments["x1"] / segments["n1"] - segments["x0"] / segments["n0"], low=low, high=high
    )
    best = segments[segments["low"] > 0].sort_values("rise", ascending=False, kind="stable").iloc[0]
    who = (
        f"who came through {best['value']}"
        if best["column"] == "channel"
        else f"whose first {best['column']} was {best['value']}"
    )
    assert only_text(action) == (
        f"Look at customers {who}: their churn rose from {best['x0'] / best['n0']:.1%} to "
        f"{best['x1'] / best['n1']:.1%} in the week of 11 Mar 2024 (+{best['rise'] * 100:.1f} "
        f"points; 95% interval +{best['low'] * 100:.1f} to +{best['high'] * 100:.1f} points, "
        f"allowing for the {len(segments)} segments compared)."
    )
    assert "whose first platform was mobile" in only_text(action)
