"""The readings under the report's figures, each held to a sentence computed by hand from a
small table, with and without small cells hidden (``min_cell``); and the page views they
sit beside (journey_lib.report.views) and the table fixes they rely on."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import journey_lib as jl
from journey_lib.analytics.rfm import RFM_SEGMENTS
from journey_lib.report import formatted, private, readings, views

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def utc(*days: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(days), utc=True))


# --------------------------------------------------------------------------------------------
# touchpoints and paths
# --------------------------------------------------------------------------------------------

MONTHS = pd.DataFrame(
    {
        "period": utc(*["2024-01-01"] * 2, *["2024-02-01"] * 2, *["2024-03-01"] * 2),
        "stage": ["A", "B"] * 3,
        "touchpoints": [50, 30, 40, 60, 10, 5],
        "customers": [20, 10, 15, 25, 5, 3],
        "complete": [True] * 4 + [False] * 2,
    }
)


def test_volumes_reading_names_the_largest_group_and_the_last_complete_period():
    # 195 touchpoints; A has 50 + 40 + 10 = 100 (100 / 195 = 51.3%); the complete months
    # hold 80 and 100 touchpoints.
    assert readings.volumes_reading(MONTHS) == (
        "Of 195 touchpoints, A has the most: 100 (51.3%); February 2024, the last complete "
        "month, had 100, against 80 in January 2024."
    )
    assert readings.volumes_reading(MONTHS, min_cell=90) == (
        "Of 195 touchpoints, A has the most: 100 (51.3%); February 2024, the last complete "
        "month, had 100, against <90 in January 2024."
    )
    # Without a breakdown, and before any period is over.
    alone = MONTHS.drop(columns="stage").assign(complete=False)
    assert readings.volumes_reading(alone) == "Of 195 touchpoints; no month is complete yet."


def test_touchpoints_reading_gives_mean_median_and_single_touchpoint_customers():
    table = pd.DataFrame(
        {"touchpoints": [1, 2, 4], "customers": [2, 5, 3], "share": [0.2, 0.5, 0.3]}
    )
    # (1*2 + 2*5 + 4*3) / 10 = 2.4; the 5th and 6th customers have 2.
    assert readings.touchpoints_reading(table) == (
        "10 customers have 2.4 touchpoints on average (median 2); 2 (20.0%) have only one."
    )
    assert readings.touchpoints_reading(table, min_cell=5) == (
        "10 customers have 2.4 touchpoints on average (median 2); <5 (<5) have only one."
    )
    assert readings.touchpoints_reading(table, min_cell=20) == (
        "<20 customers have <20 touchpoints on average (median <20); <20 (<20) have only one."
    )
    none = pd.DataFrame({"touchpoints": [2, 3], "customers": [1, 1], "share": [0.5, 0.5]})
    assert readings.touchpoints_reading(none) == (
        "2 customers have 2.5 touchpoints on average (median 2); none has only one."
    )


def test_timeline_reading_of_several_customers_and_of_one():
    timeline = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c", "c"],
            "stage": ["Awareness", "Purchase", "Awareness", "Awareness", None, "Awareness", "Buy"],
            "days_since_first": [0.0, 12.0, 0.0, 0.0, 0.5, 1.0, 3.25],
        }
    )
    assert readings.timeline_reading(timeline) == (
        "The 3 customers shown have 1 to 4 touchpoints over 0.0 to 12 days; the stage they "
        "end in: Purchase (1), Awareness (1), Buy (1)."
    )
    one = pd.DataFrame({"customer_id": ["z"], "stage": [None], "days_since_first": [0.0]})
    assert readings.timeline_reading(one) == (
        "Customer z has 1 touchpoint over 0.0 days; they end in (no stage)."
    )
    assert readings.timeline_reading(pd.DataFrame()) == "No touchpoint to show."
    # Spans that read the same at their precision are one figure.
    same = pd.DataFrame(
        {"customer_id": [1, 2], "stage": ["Awareness"] * 2, "days_since_first": [0.0, 0.01]}
    )
    assert readings.timeline_reading(same) == (
        "The 2 customers shown have 1 touchpoint over 0.0 days; the stage they end in: "
        "Awareness (2)."
    )


def test_transition_reading_gives_the_likeliest_move_and_end():
    matrix = pd.DataFrame(
        {
            "from": ["(start)", "visit", "visit", "visit", "buy", "buy"],
            "to": ["visit", "visit", "buy", "(end)", "visit", "(end)"],
            "probability": [1.0, 0.2, 0.5, 0.3, 0.1, 0.9],
        }
    )
    assert readings.transition_reading(matrix, what="event") == (
        "The likeliest move to another event is from visit to buy (50.0% of what follows "
        "visit); journeys most often end after buy (90.0%)."
    )
    loops = pd.DataFrame({"from": ["a"], "to": ["a"], "probability": [1.0]})
    assert readings.transition_reading(loops) == "No customer moves from one stage to another."


def test_transition_reading_from_counts_hides_a_rate_on_few_moves():
    counts = pd.DataFrame(
        {
            "from": ["(start)", "Aware", "Aware", "Buy", "Buy"],
            "to": ["Aware", "Buy", "(end)", "Aware", "(end)"],
            "count": [10, 6, 4, 1, 5],
        }
    )
    assert readings.transition_reading(counts) == (
        "The likeliest move to another stage is from Aware to Buy (60.0% of what follows "
        "Aware); journeys most often end after Buy (83.3%)."
    )
    # Buy -> (end) rests on 5 moves: under min_cell 6 it is not given.
    assert readings.transition_reading(counts, min_cell=6).endswith("after Buy (<6).")


def test_paths_reading():
    paths = pd.DataFrame(
        {"path": ["a > b", "a", "b > c"], "count": [50, 30, 20], "share": [0.25, 0.15, 0.1]}
    )
    assert readings.paths_reading(paths) == (
        "The most frequent opening is a > b (50 journeys, 25.0%); the 3 shown are 50.0% of "
        "all journeys."
    )
    # 50 journeys are too few to show; the 100 shown together are not.
    assert readings.paths_reading(paths, min_cell=60) == (
        "The most frequent opening is a > b (<60 journeys, <60); the 3 shown are 50.0% of "
        "all journeys."
    )


# --------------------------------------------------------------------------------------------
# journey maps
# --------------------------------------------------------------------------------------------

# 100 journeys from cart: 55 pay, 30 stop, 15 go home; then the 55 payers stop.
FROM_CART = pd.DataFrame(
    {
        "step": [1, 1, 1, 2, 2],
        "source": ["cart", "cart", "cart", "pay", "home"],
        "target": ["pay", "(end)", "home", "(end)", "(end)"],
        "count": [55, 30, 15, 55, 15],
        "share": [0.55, 0.30, 0.15, 0.55, 0.15],
    }
)


def test_flow_reading_forwards_backwards_and_from_the_first_touchpoint():
    assert readings.flow_reading(FROM_CART) == (
        "Of 100 journeys from cart, the most common next step is pay (55.0%); 30.0% have no "
        "further touchpoint."
    )
    # Under min_cell the links beside cart are one table with its total shown: home (15) is
    # hidden, and (end) (30) with it, so neither can be worked out from 100 - 55.
    for min_cell in (20, 40):
        assert readings.flow_reading(FROM_CART, min_cell=min_cell) == (
            "Of 100 journeys from cart, the most common next step is pay (55.0%)."
        )
    assert readings.flow_reading(FROM_CART, min_cell=60) == (
        "Of 100 journeys from cart, the next steps are not named: some are taken by fewer "
        "than 60 customers."
    )
    # The direction given overrides the guess.
    assert readings.flow_reading(FROM_CART, direction="forwards").startswith("Of 100 journeys")
    into = pd.DataFrame(
        {
            "step": [1, 1, 2, 2],
            "source": ["(start)", "ad", "visit", "ad"],
            "target": ["visit", "visit", "buy", "buy"],
            "count": [10, 30, 40, 20],
            "share": [1 / 6, 0.5, 2 / 3, 1 / 3],
        }
    )
    assert readings.flow_reading(into) == (
        "Of 60 journeys to buy, the most common step just before it is visit (66.7%)."
    )
    opening = pd.DataFrame(
        {
            "step": [1, 1, 1],
            "source": ["ad", "ad", "visit"],
            "target": ["visit", "(end)", "(end)"],
            "count": [60, 20, 20],
            "share": [0.6, 0.2, 0.2],
        }
    )
    # After ad, 60 of the 80 who opened with it went to visit.
    assert readings.flow_reading(opening) == (
        "Journeys most often open with ad (80.0% of 100); after it, the most common next step "
        "is visit (75.0%); 25.0% have no further touchpoint."
    )
    assert readings.flow_reading(FROM_CART.iloc[:0]) == "No journey to show."
    # Backwards, every journey short: column 1 is empty, the last holds the anchor alone.
    short = pd.DataFrame(
        {"step": [4], "source": ["(start)"], "target": ["buy"], "count": [2], "share": [1.0]}
    )
    assert readings.flow_reading(short) == (
        "Of 2 journeys to buy, none has a step just before it in the log."
    )


def test_a_split_flow_reads_as_its_comparison():
    split = pd.concat([FROM_CART.assign(converted=True), FROM_CART.assign(converted=False)])[
        ["converted", *FROM_CART.columns]
    ]
    converted = split["converted"] & (split["step"] == 1)
    for target, count in (("pay", 90), ("(end)", 0), ("home", 10)):
        split.loc[converted & (split["target"] == target), "count"] = count
    text = readings.flow_reading(split)
    assert text.startswith("The largest difference is cart to pay at step 1")
    assert (
        "55.0% of journeys for customers who did not convert, 90.0% for customers who converted"
        in text
    )
    assert text.endswith("(beyond chance).")


def test_dropoff_reading_and_the_comparison_of_its_two_groups():
    dropoffs = pd.concat(
        [
            FROM_CART.assign(outcome="dropped off"),
            pd.DataFrame(
                {
                    "outcome": ["went on"],
                    "step": [1],
                    "source": ["cart"],
                    "target": ["checkout"],
                    "count": [40],
                    "share": [1.0],
                }
            ),
        ]
    )[["outcome", *FROM_CART.columns]]
    assert readings.dropoff_reading(dropoffs) == (
        "Of 100 customers who reached cart and did not go on, most did pay next (55.0%) and "
        "30.0% have no further touchpoint; the 40 who went on mostly did checkout (100.0%). "
        "The largest difference is cart to checkout at step 1: 0.0% of journeys for customers "
        "who dropped off, 100.0% for customers who went on (beyond chance)."
    )
    # Nobody went on (a step nobody passes): no comparison, no error.
    alone = dropoffs[dropoffs["outcome"] == "dropped off"]
    assert readings.dropoff_reading(alone).endswith("have no further touchpoint.")
    # Under 50 every link is hidden in its table (a link of 40 alone for those who went on).
    private_reading = readings.dropoff_reading(dropoffs, min_cell=50)
    assert "the next steps are not named: some are taken by fewer than 50" in private_reading
    assert "who went on mostly did" not in private_reading
    table = jl.compare_flows(dropoffs, groups=("dropped off", "went on"))
    assert readings.comparison_reading(table) == (
        "The largest difference is cart to checkout at step 1: 0.0% of journeys for "
        "outcome=dropped off, 100.0% for outcome=went on (beyond chance)."
    )
    # Links taken by fewer than min_cell customers are not named.
    assert "cart to checkout" not in readings.comparison_reading(table, min_cell=50)


def test_stage_flow_reading_of_the_latest_period():
    moves = pd.DataFrame(
        {
            "period": utc("2024-02-01", "2024-03-01", "2024-03-01", "2024-03-01"),
            "source": ["Aware", "Aware", "Buy", "Buy"],
            "target": ["Buy", "Buy", "Aware", "(exit)"],
            "count": [500, 12, 3, 40],
            "move": ["forward", "forward", "back", "exit"],
        }
    )
    assert readings.stage_flow_reading(moves, "month") == (
        "In March 2024, 12 customers moved forward a stage, 3 moved back and 40 left the "
        "journey; the largest move is from Aware to Buy (12)."
    )
    assert "<5 moved back" in readings.stage_flow_reading(moves, "month", min_cell=5)


def test_a_journey_map_under_min_cell_leaves_out_small_paths_and_every_number():
    figure = views.show_figure(jl.plots.path_flows, FROM_CART, min_cell=20, numbers=False)
    ax = figure.axes[0]
    bands = {p.get_gid() for p in ax.patches if p.get_gid().startswith("link:")}
    # Both links of 15 are hidden (together 30, at least 20: no complement needed).
    assert bands == {"link:1:cart:pay", "link:1:cart:(end)", "link:2:pay:(end)"}
    texts = [t.get_text() for t in figure.findobj(plt.Text)]
    assert not any(ch.isdigit() for text in texts for ch in text if "step" not in text)
    assert "Journey paths: where journeys go, step by step" in texts


def test_a_flag_named_like_a_count_is_no_count():
    flags = pd.DataFrame({"converted": [True, False], "count": [30, 2]})
    assert private(flags, 5)["converted"].tolist() == [True, False]
    assert formatted(flags)["converted"].tolist() == ["yes", "no"]


# --------------------------------------------------------------------------------------------
# funnels
# --------------------------------------------------------------------------------------------

BREAKDOWN = pd.DataFrame(
    {
        "channel": ["web"] * 3 + ["tv"] * 3 + ["mail"] * 3,
        "step": [1, 2, 3] * 3,
        "event": ["visit", "signup", "buy"] * 3,
        "customers": [200, 100, 50, 100, 40, 10, 4, 3, 2],
        "conversion_rate": [1.0, 0.5, 0.25, 1.0, 0.4, 0.1, 1.0, 0.75, 0.5],
        "step_conversion_rate": [1.0, 0.5, 0.5, 1.0, 0.4, 0.25, 1.0, 0.75, 2 / 3],
    }
)


def test_breakdown_reading_best_and_worst_group_leaving_out_small_ones():
    assert readings.breakdown_reading(BREAKDOWN) == (
        "From visit to buy, mail converts best (50.0% of 4) and tv worst (10.0% of 100)."
    )
    assert readings.breakdown_reading(BREAKDOWN, min_cell=5) == (
        "From visit to buy, web converts best (25.0% of 200) and tv worst (10.0% of 100)."
    )
    assert readings.breakdown_reading(BREAKDOWN, min_cell=500) == (
        "Every channel has fewer than 500 customers at the first step."
    )
    # Without a breakdown it is the funnel's reading.
    web = BREAKDOWN[BREAKDOWN["channel"] == "web"].drop(columns="channel")
    assert readings.breakdown_reading(web) == readings.funnel_reading(web, what="event")
    assert readings.breakdown_reading(pd.DataFrame()) == "No customer took the first step."


def ttc(customers: list[int]) -> pd.DataFrame:
    total = sum(customers)
    return pd.DataFrame(
        {
            "bin": ["0s to 1h", "1h to 1D", "1D to 7D", "7D or more"],
            "lower_seconds": [0.0, 3600.0, 86400.0, 604800.0],
            "upper_seconds": [3600.0, 86400.0, 604800.0, np.inf],
            "customers": customers,
            "share": [c / total for c in customers],
            "cumulative_share": np.cumsum(customers) / total,
        }
    )


def test_time_to_convert_reading_gives_the_half_and_the_most_common_time():
    assert readings.time_to_convert_reading(ttc([10, 30, 40, 20])) == (
        "Of 100 customers who converted, half did so within 7 days; the most common time is "
        "1D to 7D (40, 40.0%)."
    )
    assert readings.time_to_convert_reading(ttc([5, 5, 10, 80])) == (
        "Of 100 customers who converted, half did so after more than 7 days; the most "
        "common time is 7D or more (80, 80.0%)."
    )
    assert readings.time_to_convert_reading(ttc([10, 30, 40, 20]), min_cell=50) == (
        "Of 100 customers who converted, half did so within 7 days; the most common time is "
        "1D to 7D (<50, <50)."
    )
    empty = ttc([1, 0, 0, 0]).assign(customers=0)
    assert readings.time_to_convert_reading(empty) == "No customer converted within the window."


def test_funnel_trend_reading_last_complete_period_against_all_complete():
    trend = pd.DataFrame(
        {
            "period": utc("2024-01-01", "2024-02-01", "2024-03-01"),
            "customers": [200, 100, 50],
            "converted": [40, 30, 5],
            "conversion_rate": [0.2, 0.3, 0.1],
            "complete": [True, True, False],
        }
    )
    # (40 + 30) / (200 + 100) = 23.3%
    assert readings.funnel_trend_reading(trend) == (
        "Of the customers who entered in February 2024, the last complete month, 30.0% "
        "converted (of 100), against 23.3% over the 2 complete months."
    )
    assert readings.funnel_trend_reading(trend, min_cell=150) == (
        "Of the customers who entered in February 2024, the last complete month, <150 "
        "converted (of <150), against 23.3% over the 2 complete months."
    )
    assert readings.funnel_trend_reading(trend.assign(complete=False)) == (
        "No month is complete yet: conversion may still rise."
    )


# --------------------------------------------------------------------------------------------
# retention
# --------------------------------------------------------------------------------------------


def test_churn_rate_reading_latest_against_the_period_before():
    churn = pd.DataFrame(
        {
            "period": utc("2024-01-01", "2024-04-01", "2024-07-01"),
            "active_start": [0, 200, 300],
            "lost": [0, 50, 30],
            "churn_rate": [np.nan, 0.25, 0.1],
        }
    )
    assert readings.churn_rate_reading(churn) == (
        "Churn was 10.0% in Q3 2024 (30 of the 300 customers active at its start), against "
        "25.0% in Q2 2024."
    )
    assert readings.churn_rate_reading(churn, min_cell=40) == (
        "Churn was 10.0% in Q3 2024 (<40 of the 300 customers active at its start), against "
        "25.0% in Q2 2024."
    )
    assert readings.churn_rate_reading(churn.iloc[:1]) == (
        "No period has customers active at its start yet."
    )
    days = churn.assign(period=utc("2024-01-13", "2024-01-14", "2024-01-15"))
    assert readings.churn_rate_reading(days) == (
        "Churn was 10.0% on 15 Jan 2024 (30 of the 300 customers active at its start), against "
        "25.0% on 14 Jan 2024."
    )


def test_lifecycle_reading_of_the_last_complete_period():
    lifecycle = pd.DataFrame(
        {
            "period": utc(*["2024-01-01"] * 4, *["2024-02-01"] * 4),
            "status": ["new", "returning", "resurrecting", "dormant"] * 2,
            "customers": [10, 0, 2, -5, 8, 6, 1, -2],
            "complete": [True] * 4 + [False] * 4,
        }
    )
    assert readings.lifecycle_reading(lifecycle) == (
        "In January 2024, the last complete month, 10 customers were new, 0 returning and 2 "
        "resurrecting; 5 went dormant."
    )
    # A zero singles out nobody and is shown; 2 is hidden.
    assert readings.lifecycle_reading(lifecycle, min_cell=3) == (
        "In January 2024, the last complete month, 10 customers were new, 0 returning and <3 "
        "resurrecting; 5 went dormant."
    )
    assert readings.lifecycle_reading(lifecycle.assign(complete=False)) == (
        "No month is complete yet."
    )


def test_rfm_reading_from_counts_and_from_customers():
    counts = pd.DataFrame(
        {"segment": ["champions", "loyal", "lost", "at risk"], "customers": [5, 0, 15, 10]}
    )
    assert readings.rfm_reading(counts) == (
        "Of 30 customers, most are lost (15, 50.0%), then at risk (10, 33.3%)."
    )
    assert readings.rfm_reading(counts, min_cell=12) == (
        "Of 30 customers, most are lost (15, 50.0%), then at risk (<12, <12)."
    )
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "segment": ["loyal"] * 3})
    assert readings.rfm_reading(customers) == "Of 3 customers, most are loyal (3, 100.0%)."


# --------------------------------------------------------------------------------------------
# attribution, value, loyalty, the primer's what-if
# --------------------------------------------------------------------------------------------


def test_attribution_models_reading_agreement_and_the_largest_disagreement():
    table = pd.DataFrame(
        {
            "channel": ["a", "b", "c"],
            "first_touch": [30.0, 10.0, 0.0],
            "last_touch": [10.0, 20.0, 10.0],
            "markov": [20.0, 15.0, 5.0],
        }
    )
    # Shares: first touch 75/25/0%, last touch 25/50/25%, markov 50/37.5/12.5%; a spreads
    # most (50 points).
    assert readings.attribution_models_reading(table) == (
        "2 of 3 models give a the most credit; they disagree most on a, from 25.0% of the "
        "credit (last touch) to 75.0% (first touch)."
    )
    same = pd.DataFrame({"channel": ["a", "b"], "linear": [3.0, 1.0], "markov": [6.0, 2.0]})
    assert readings.attribution_models_reading(same) == (
        "Every model gives a the most credit, and the models agree on every channel."
    )
    # Shares that differ beyond what a page writes (75.0% either way) agree too.
    close = same.assign(markov=[6.0 + 1e-9, 2.0])
    assert readings.attribution_models_reading(close) == readings.attribution_models_reading(same)


def test_credit_reading():
    credit = pd.DataFrame(
        {"channel": ["tv", "web"], "conversions": [12.4, 87.6], "share": [0.124, 0.876]}
    )
    assert readings.credit_reading(credit) == (
        "web earns the most credit: 88 of 100 conversions (87.6%)."
    )
    assert readings.credit_reading(credit, min_cell=90) == (
        "web earns the most credit: <90 of 100 conversions (<90)."
    )


def test_value_reading():
    value = pd.DataFrame({"customer_id": [1, 2, 3, 4], "clv": [100.0, 50.0, 30.0, 20.0]})
    # Cumulative shares 50, 75, 90, 100% at a quarter of the customers each: the top 20%
    # hold 0.2 / 0.25 * 50% = 40%; the median of 100, 50, 30, 20 is 40.
    assert readings.value_reading(value, currency="USD") == (
        "The 4 customers are worth $200 together; the most valuable 20% hold 40.0% of it, "
        "and the median customer is worth $40.00."
    )
    assert readings.value_reading(value, min_cell=5) == (
        "The <5 customers are worth <5 together; the most valuable 20% hold <5 of it, and "
        "the median customer is worth <5."
    )


def test_loyalty_reading_of_the_last_complete_period():
    by_period = pd.DataFrame(
        {
            "period": utc("2024-01-01", "2024-02-01"),
            "customers": [50, 20],
            "repeat_purchase_rate": [0.2, 0.5],
            "retention_share": [0.6, 0.5],
            "advocacy_share": [0.1, 0.0],
            "review_rate": [0.04, 0.0],
            "referral_rate": [0.02, 0.0],
            "complete": [True, False],
        }
    )
    assert readings.loyalty_reading(SimpleNamespace(by_period=by_period)) == (
        "Of the 50 customers active in January 2024, the last complete month, 20.0% bought "
        "again, 60.0% were in retention and 10.0% in advocacy; 4.0% reviewed and 2.0% "
        "referred someone."
    )
    one = by_period.assign(customers=[1, 20], repeat_purchase_rate=[1.0, 0.5])
    assert readings.loyalty_reading(one).startswith(
        "Of the 1 customer active in January 2024, the last complete month, 100.0% bought"
    )
    assert readings.loyalty_reading(by_period, min_cell=60) == (
        "Of the <60 customers active in January 2024, the last complete month, <60 bought "
        "again, <60 were in retention and <60 in advocacy; <60 reviewed and <60 referred "
        "someone."
    )


def test_what_if_reading_beyond_chance():
    result = pd.DataFrame(
        {
            "measure": ["churn_rate", "repeat_rate"],
            "baseline": [0.4, 0.5],
            "scenario": [0.2, 0.5],
            "change": [-0.2, 0.0],
            "margin": [0.05, 0.04],
        }
    )
    assert readings.what_if_reading(result) == (
        "Churn among buyers: 40.0% as simulated, 20.0% in the scenario (\N{MINUS SIGN}20.0 "
        "points, beyond the ±5.0 points chance alone could make)."
    )


# --------------------------------------------------------------------------------------------
# churn models
# --------------------------------------------------------------------------------------------


def metrics(metric: str, rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["scorer", "value", "low", "high"]).assign(metric=metric)


def test_roc_and_pr_readings_against_the_other_scorers():
    evaluation = SimpleNamespace(
        metrics=metrics("roc_auc", [("hgb", 0.812, 0.751, 0.868), ("base rate", 0.5, 0.5, 0.5)]),
        confidence=0.9,
    )
    assert readings.roc_reading(evaluation) == (
        "ROC AUC 0.81 (90% interval 0.75 to 0.87), against 0.50 for the base rate."
    )
    pr = metrics(
        "pr_auc",
        [
            ("hgb", 0.6, 0.5, 0.7),
            ("logistic baseline", 0.55, 0.4, 0.6),
            ("base rate", 0.3, 0.3, 0.3),
        ],
    )
    assert readings.pr_reading(pr) == (
        "Average precision 0.60 (95% interval 0.50 to 0.70), against 0.55 for the logistic "
        "baseline and 0.30 for the base rate."
    )
    alone = metrics("roc_auc", [("hgb", 0.7, 0.6, 0.8)])
    assert readings.roc_reading(alone) == "ROC AUC 0.70 (95% interval 0.60 to 0.80)."
    undefined = metrics("roc_auc", [("hgb", np.nan, np.nan, np.nan)])
    assert readings.roc_reading(undefined) == "ROC AUC could not be computed on these customers."


def test_calibration_gains_and_lift_readings():
    evaluation = SimpleNamespace(
        metrics=metrics("ece", [("hgb", 0.031, 0.02, 0.05), ("base rate", 0.0, 0.0, 0.0)]),
        calibration=pd.DataFrame(
            {"bin": [1, 2, 3], "mean_score": [0.1, 0.3, 0.7], "churn_rate": [0.12, 0.2, 0.75]}
        ),
        gains=pd.DataFrame(
            {
                "decile": range(10, 0, -1),
                "capture": [0.25, 0.45, 0.6, 0.7, 0.78, 0.85, 0.9, 0.95, 0.98, 1.0],
                "capture_low": [0.2, 0.4] + [0.0] * 8,
                "capture_high": [0.3, 0.5] + [1.0] * 8,
                "lift": [3.04, 2.25] + [1.0] * 8,
                "lift_low": [2.51, 2.0] + [1.0] * 8,
                "lift_high": [3.6, 2.5] + [1.0] * 8,
            }
        ),
        confidence=0.95,
    )
    # Gaps 2, 10 and 5 points: the second bin's is widest.
    assert readings.calibration_reading(evaluation) == (
        "Predicted and observed churn differ by 3.1 points on average (expected calibration "
        "error); the widest gap is where the model predicts 30.0% and 20.0% churned."
    )
    assert readings.gains_reading(evaluation) == (
        "Contacting the top 20% of customers by score reaches 45.0% of the churners (95% "
        "interval 40.0% to 50.0%); the top half, 78.0%."
    )
    assert readings.lift_reading(evaluation) == (
        "The top 10% by score churn at 3.0 times the overall rate (95% interval 2.5 to 3.6)."
    )


def test_importance_and_partial_dependence_readings():
    importance = SimpleNamespace(
        table=pd.DataFrame(
            {
                "feature": ["x", "y"],
                "importance": [0.05, -0.001],
                "low": [0.03, -0.004],
                "high": [0.07, 0.002],
            }
        ),
        loss_word="rise in Brier score",
        confidence=0.9,
    )
    assert readings.importance_reading(importance) == (
        "The model leans most on x: shuffling it costs 0.05 (rise in Brier score; 90% "
        "interval 0.03 to 0.07); 1 of 2 feature groups have an interval above zero."
    )
    dependence = SimpleNamespace(
        table=pd.DataFrame(
            {
                "feature": ["age", "age", "plan", "plan", "plan"],
                "value": [18, 60, "basic", "plus", "premium"],
                "churn_probability": [0.15, 0.2, 0.3, 0.2, 0.1],
            }
        )
    )
    assert readings.partial_dependence_reading(dependence) == (
        "The mean churn probability moves most with plan: from 30.0% at basic to 10.0% at premium."
    )


def test_profit_reading():
    curve = pd.DataFrame(
        {
            "contacted": [0, 1, 2, 3, 4],
            "share": [0.0, 0.25, 0.5, 0.75, 1.0],
            "expected_profit": [0.0, 40.0, 55.0, 50.0, 20.0],
        }
    )
    assert readings.profit_reading(SimpleNamespace(curve=curve, chosen=2)) == (
        "Offers to the best 2 customers (50.0%) are expected to make 55.00."
    )
    assert readings.profit_reading(SimpleNamespace(curve=curve, chosen=0)) == (
        "No offer is expected to pay: nobody is worth contacting at this cost."
    )
    assert readings.profit_reading(None) == "No offer plan to show."


def test_every_reading_is_listed_and_documented_with_an_example():
    names = [n for n in readings.__all__ if n.endswith("_reading")]
    assert len(names) >= 27
    for name in names:
        doc = getattr(readings, name).__doc__
        assert "Examples" in doc and ">>>" in doc, name


# --------------------------------------------------------------------------------------------
# the page views beside the readings, and the table fixes they rely on
# --------------------------------------------------------------------------------------------

FUNNEL = pd.DataFrame(
    {
        "step": [1, 2, 3],
        "event": ["visit", "signup", "buy"],
        "customers": [900, 300, 4],
        "conversion_rate": [1.0, 1 / 3, 4 / 900],
        "step_conversion_rate": [1.0, 1 / 3, 4 / 300],
    }
)


def test_show_figure_draws_what_may_be_shown_or_says_it_is_hidden(capsys):
    whole = views.show_figure(jl.plots.funnel, FUNNEL)
    assert isinstance(whole, Figure)
    assert [p.get_height() for p in whole.axes[0].patches] == [900, 300, 4]
    # 4 is hidden, and 300 with it (the next smallest); the first step is drawn.
    part = views.show_figure(jl.plots.funnel, FUNNEL, min_cell=5)
    drawn = [p.get_height() for p in part.axes[0].patches]
    assert drawn[0] == 900 and np.isnan(drawn[1:]).all()
    assert views.show_figure(jl.plots.funnel, FUNNEL, min_cell=10**6) is None
    assert capsys.readouterr().out == "*Hidden: fewer than 1000000 customers.*\n"
    # A column that names rows (touchpoints per customer) is kept whole.
    per_customer = pd.DataFrame(
        {"touchpoints": [1, 2, 3], "customers": [50, 2, 40], "share": [0.54, 0.02, 0.44]}
    )
    figure = views.show_figure(
        jl.plots.touchpoints_per_customer,
        per_customer,
        min_cell=5,
        labels=["touchpoints"],
        cap=None,
    )
    heights = [p.get_height() for p in figure.axes[0].patches]
    assert heights[0] == 50 and np.isnan(heights[1]) and np.isnan(heights[2])


def test_spread_keeps_first_appearance_order_and_fills_dashes():
    long = pd.DataFrame(
        {
            "stage": ["Buy", "Buy", "Keep", "Aware"],
            "channel": ["web", "tv", "web", "(none)"],
            "share": ["60.0%", "40.0%", "100.0%", "100.0%"],
        }
    )
    grid = views.spread(long, "channel", "stage", "share")
    assert grid.columns.tolist() == ["Buy", "Keep", "Aware"]
    assert grid.index.tolist() == ["web", "tv", "(none)"]
    assert grid.loc["tv"].tolist() == ["40.0%", "–", "–"]


def test_segment_counts_lists_every_segment():
    segments = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["lost"] * 3 + ["loyal"]})
    counts = views.segment_counts(segments)
    assert counts["segment"].tolist() == list(RFM_SEGMENTS)
    assert counts.set_index("segment")["customers"].to_dict() == {
        s: {"lost": 3, "loyal": 1}.get(s, 0) for s in RFM_SEGMENTS
    }
    assert counts["share"].sum() == pytest.approx(1.0)


def test_value_bands_by_hand():
    value = pd.DataFrame({"customer_id": [9, 8, 7, 6], "clv": [10.0, 40.0, 20.0, 30.0]})
    # Four customers: the top tenth ends at ceil(0.4) = 1, the next at ceil(0.8) = 1 (empty),
    # the next three tenths at ceil(2.0) = 2, the bottom half at 4.
    bands = views.value_bands(value)
    assert bands.index.tolist() == ["top 10%", "next 30%", "bottom 50%"]
    assert bands["customers"].tolist() == [1, 1, 2]
    assert bands["clv"].tolist() == [40.0, 30.0, 30.0]
    assert bands["share"].tolist() == [0.4, 0.3, 0.3]
    assert bands["mean_value"].tolist() == [40.0, 30.0, 15.0]
    # No row names a customer.
    assert "customer_id" not in bands.columns


def test_figures_row_hides_each_figure_by_its_kind():
    overall = pd.Series({"buyers": 40.0, "referrers": 3.0, "referral_rate": 0.075})
    row = views.figures_row(overall, "all buyers")
    assert formatted(row).T["all buyers"].tolist() == ["40", "3", "7.5%"]
    # 3 referrers are too few to show, and so is their rate.
    assert formatted(row, min_cell=5).T["all buyers"].tolist() == ["40", "<5", "<5"]


def test_evaluation_table_names_the_metrics_for_a_reader():
    table = views.evaluation_table(
        pd.DataFrame(
            {
                "scorer": ["hgb", "base rate"] * 3,
                "metric": ["roc_auc"] * 2 + ["capture_top_10%"] * 2 + ["lift_top_10%"] * 2,
                "value": [0.8123, 0.5, 0.31, 0.1, 3.1, 1.0],
            }
        )
    )
    shown = formatted(table).T
    assert shown.to_dict("index") == {
        "ROC AUC": {"hgb": "0.812", "base rate": "0.5"},
        "share of churners in the top 10%": {"hgb": "31.0%", "base rate": "10.0%"},
        "lift in the top 10%": {"hgb": "3.1", "base rate": "1"},
    }


def test_column_summary_and_framework_table():
    table = pd.DataFrame(
        {"customer_id": ["a", "b"], "churned": [True, False], "spend": [1.0, None]}
    )
    summary = views.column_summary(table)
    assert summary.to_dict("index") == {
        "customer_id": {"type": "text", "filled_share": 1.0, "distinct": "2"},
        "churned": {"type": "yes/no", "filled_share": 1.0, "distinct": "2"},
        "spend": {"type": "number", "filled_share": 0.5, "distinct": "1"},
    }
    frameworks = views.framework_table()
    assert frameworks.columns.tolist() == list(jl.FRAMEWORKS)
    assert frameworks.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert frameworks["customer_journey"].iloc[-1] == "–"


def test_tables_write_ids_as_labels_text_as_text_and_hide_negative_counts_by_size():
    frame = pd.DataFrame(
        {
            "customer_id": [1747, 3],
            "value": ["2024-10-01", "141 (33.4%)"],
            "referred_id": pd.array([pd.NA, 5], dtype="Int64"),
        }
    )
    assert formatted(frame, min_cell=10).to_dict("list") == {
        "customer_id": ["1747", "3"],
        "value": ["2024-10-01", "141 (33.4%)"],
        "referred_id": ["–", "<10"],
    }
    dormant = pd.DataFrame({"status": ["new", "dormant", "lost"], "customers": [40, -3, -50]})
    assert private(dormant, 5)["customers"].isna().tolist() == [True, True, False]


def test_flow_anchor_turns_notebook_01_s_parameters_into_path_flows_arguments():
    from journey_lib.errors import JourneyParameterError
    from journey_lib.report.parameters import flow_anchor

    assert flow_anchor("cart", "forwards") == {"start": "cart"}
    assert flow_anchor("cart", "backwards") == {"end": "cart"}
    assert flow_anchor("", "forwards") == {"start": None}
    with pytest.raises(JourneyParameterError, match="needs a flow_anchor"):
        flow_anchor("", "backwards")
    with pytest.raises(JourneyParameterError, match="flow_direction must be one of"):
        flow_anchor("cart", "sideways")


def test_credit_equal_but_for_rounding_is_a_tie_the_channels_order_settles():
    # Two channels with the same credit, one model's sums added in another order (as
    # another engine adds them): the reading is the same whichever way the rounding fell.
    from journey_lib.report.readings import attribution_models_reading

    def table(markov_organic: float, markov_paid: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "channel": ["organic", "paid_search", "email"],
                "first_touch": [161.0, 161.0, 75.0],
                "markov": [markov_organic, markov_paid, 75.0],
            }
        )

    here = attribution_models_reading(table(161.00000000000011, 160.99999999999989))
    there = attribution_models_reading(table(160.99999999999989, 161.00000000000011))
    assert here == there
    assert here.startswith("Every model gives organic the most credit")
