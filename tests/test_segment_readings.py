"""The readings of the segments notebook: exact sentences from hand-built tables, small cells
never named, one segment alone and nothing beyond chance said plainly; and the comparison as
a page may show it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.analytics.compare import RESULT_COLUMNS
from journey_lib.churn.drivers import Drivers
from journey_lib.errors import JourneyDataError
from journey_lib.report import segment_readings as sr


def comparison(rows: list[tuple]) -> pd.DataFrame:
    """A compare_segments table from (plan, metric, kind, value, n, rest, p_adjusted)
    rows; significant where p_adjusted < 0.05, the interval left out."""
    frame = pd.DataFrame(rows, columns=["plan", "metric", "kind", "value", "n", "rest", "p"])
    tested = frame["kind"] != "count"
    return pd.DataFrame(
        {
            "plan": frame["plan"],
            "metric": frame["metric"],
            "kind": frame["kind"],
            "value": frame["value"].astype(float),
            "lower": np.nan,
            "upper": np.nan,
            "n": frame["n"].astype("int64"),
            "rest": frame["rest"].astype(float),
            "difference": (frame["value"] - frame["rest"]).where(tested),
            "p_value": frame["p"].where(tested),
            "p_adjusted": frame["p"].where(tested),
            "significant": (frame["p"] < 0.05) & tested,
        }
    )


THREE = comparison(
    [
        ("basic", "customers", "count", 600, 600, 400, np.nan),
        ("basic", "churn rate", "share", 0.30, 900, 0.10, 0.001),
        ("basic", "revenue per customer", "money", 50.0, 600, 75.0, 0.01),
        ("basic", "median time in Awareness", "days", 2.0, 300, 2.1, 0.8),
        ("plus", "customers", "count", 392, 392, 608, np.nan),
        ("plus", "churn rate", "share", 0.12, 500, 0.25, 0.02),
        ("plus", "revenue per customer", "money", 80.0, 392, 60.0, 0.3),
        ("plus", "median time in Awareness", "days", 4.0, 200, 2.0, 0.004),
        ("tiny", "customers", "count", 8, 8, 992, np.nan),
        ("tiny", "churn rate", "share", 0.9, 8, 0.2, np.nan),
        ("tiny", "revenue per customer", "money", 500.0, 8, 60.0, np.nan),
        ("tiny", "median time in Awareness", "days", 9.0, 5, 2.0, np.nan),
    ]
)


def test_the_comparison_names_the_largest_gaps_beyond_chance_in_words():
    assert sr.comparison_reading(THREE, currency="EUR") == (
        "By plan, 4 of the 6 gaps to the rest of the customers are beyond chance (after the "
        "Benjamini-Hochberg correction); the largest: basic: churn rate 30.0% against 10.0% "
        "for the rest; plus: median time in Awareness 4.0 days against 2.0 days for the rest; "
        "plus: churn rate 12.0% against 25.0% for the rest; and 1 more."
    )
    # Relative gaps: basic's churn 30% vs 10% is +200%, plus's time +100%, plus's churn -52%,
    # basic's revenue -33% (the one left over).
    assert sr.comparison_reading(THREE, most=4).endswith(
        "basic: revenue per customer 50.00 against 75.00 for the rest."
    )


def test_nothing_beyond_chance_and_nothing_tested_are_said_plainly():
    one = THREE.assign(significant=THREE.index == 1)
    assert sr.comparison_reading(one) == (
        "By plan, 1 of the 6 gaps to the rest of the customers is beyond chance (after the "
        "Benjamini-Hochberg correction); the largest: basic: churn rate 30.0% against 10.0% "
        "for the rest."
    )
    calm = THREE.assign(significant=False)
    assert sr.comparison_reading(calm) == (
        "No segment by plan differs from the rest of the customers beyond chance: none of "
        "the 6 gaps tested passes the Benjamini-Hochberg correction."
    )
    untested = THREE.assign(p_value=np.nan, p_adjusted=np.nan, significant=False)
    assert sr.comparison_reading(untested) == (
        "No gap between a segment by plan and the rest of the customers could be tested: too "
        "few customers stand behind each."
    )


def test_one_segment_only_has_no_rest():
    alone = THREE[THREE["plan"] == "basic"].assign(
        rest=np.nan, difference=np.nan, p_value=np.nan, p_adjusted=np.nan, significant=False
    )
    assert sr.comparison_reading(alone) == (
        "Every customer is in one segment by plan (basic): there is no rest to compare with."
    )


def test_a_real_comparison_reads_as_its_significant_rows():
    sim = jl.simulate(600, seed=0)
    found = jl.compare_segments(sim.events, jl.Segments("segment", customers=sim.customers))
    significant = found[found["significant"]]
    text = sr.comparison_reading(found, most=len(significant))
    assert f"{len(significant)} of the {found['p_adjusted'].notna().sum()} gaps" in text
    for _, row in significant.iterrows():
        assert f"{row['segment']}: {row['metric']} " in text


def test_small_cells_are_hidden_from_the_comparison_scorecard_and_reading():
    # tiny (8 customers) is hidden, and with it the next smallest segment, plus (392): the
    # segments' customers add up to the total a report shows.
    shown = sr.private_comparison(THREE, min_cell=10)
    hidden = shown["plan"].isin(["tiny", "plus"])
    assert shown.loc[hidden, ["value", "rest", "difference", "p_adjusted"]].isna().all().all()
    assert not shown.loc[hidden, "significant"].any()
    assert shown.loc[~hidden, "value"].tolist() == THREE.loc[~hidden, "value"].tolist()
    card = sr.scorecard(THREE, min_cell=10)
    assert card.loc["customers"].tolist() == ["600", "<10", "<10"]
    assert card.loc["churn rate", "basic"] == "30.0% ▲"
    assert sr.comparison_reading(THREE, min_cell=10) == (
        "By plan, 2 of the 3 gaps to the rest of the customers are beyond chance (after the "
        "Benjamini-Hochberg correction); the largest: basic: churn rate 30.0% against 10.0% "
        "for the rest; basic: revenue per customer 50.00 against 75.00 for the rest."
    )
    # A row resting on fewer customers than min_cell, in a segment shown, loses its value.
    few = THREE.copy()
    few.loc[3, "n"] = 20
    shown = sr.private_comparison(few, min_cell=25)
    assert np.isnan(shown.loc[3, "value"]) and shown.loc[1, "value"] == 0.30
    assert sr.private_comparison(THREE, 0) is THREE


def test_with_two_segments_hiding_one_hides_both():
    two = comparison(
        [
            ("all", "customers", "count", 995, 995, 5, np.nan),
            ("all", "churn rate", "share", 0.2, 990, 0.6, 0.03),
            ("few", "customers", "count", 5, 5, 995, np.nan),
            ("few", "churn rate", "share", 0.6, 5, 0.2, 0.03),
        ]
    )
    shown = sr.private_comparison(two, min_cell=10)
    # all's rest is few's value: shown, it would give few away.
    assert shown[["value", "rest"]].isna().all().all() and not shown["significant"].any()
    assert sr.comparison_reading(two, min_cell=10) == (
        "No gap between a segment by plan and the rest of the customers could be tested: too "
        "few customers stand behind each."
    )


def test_a_rest_of_fewer_than_min_cell_customers_is_hidden_with_its_gap():
    # Both segments are shown (120 and 80 customers), but plus's churn rate rests on 4
    # customers: hidden as its own value, it is also basic's rest, so basic's rest,
    # difference and test go with it.
    two = comparison(
        [
            ("basic", "customers", "count", 120, 120, 80, np.nan),
            ("basic", "churn rate", "share", 0.25, 300, 0.10, 0.0002),
            ("plus", "customers", "count", 80, 80, 120, np.nan),
            ("plus", "churn rate", "share", 0.10, 4, 0.25, 0.0002),
        ]
    )
    shown = sr.private_comparison(two, min_cell=5)
    basic = shown.iloc[1]
    assert basic["value"] == 0.25
    assert np.isnan([basic["rest"], basic["difference"], basic["p_adjusted"]]).all()
    assert not shown["significant"].any()
    text = sr.comparison_reading(two, min_cell=5)
    assert "10.0%" not in text and text.startswith("No gap between a segment by plan")
    assert sr.scorecard(two, min_cell=5).loc["churn rate"].tolist() == ["25.0%", "<5"]
    # A third segment makes basic's rest 4 + 6 = 10 customers: shown at min_cell=10, hidden
    # at 11; gold's own 6 are hidden at either.
    three = pd.concat(
        [
            two,
            comparison(
                [
                    ("gold", "customers", "count", 60, 60, 200, np.nan),
                    ("gold", "churn rate", "share", 0.5, 6, 0.2, 0.01),
                ]
            ),
        ],
        ignore_index=True,
    )
    for k, rest_shown in ((10, True), (11, False)):
        shown = sr.private_comparison(three, min_cell=k)
        assert np.isnan(shown.loc[[3, 5], "value"]).all()
        rest = shown.loc[1, "rest"]
        assert rest == 0.10 if rest_shown else np.isnan(rest)
        assert bool(shown.loc[1, "significant"]) == rest_shown


def test_the_comparison_reading_refuses_another_table():
    with pytest.raises(JourneyDataError, match="compare_segments"):
        sr.comparison_reading(pd.DataFrame({"plan": ["a"], "metric": ["customers"]}))
    assert set(RESULT_COLUMNS) <= set(THREE.columns)


STAGES = pd.DataFrame(
    {
        "plan": ["basic"] * 3 + ["plus"] * 3 + ["tiny"] * 3,
        "step": [1, 2, 3] * 3,
        "stage": ["Aware", "Consider", "Buy"] * 3,
        "customers": [400, 200, 100, 60, 40, 9, 6, 6, 3],
        "conversion_rate": [1.0, 0.5, 0.25, 1.0, 40 / 60, 0.15, 1.0, 1.0, 0.5],
    }
)


def test_segment_funnels_name_the_best_and_worst_at_the_last_stage():
    assert sr.segment_funnels_reading(STAGES) == (
        "Of the segments by plan, tiny reaches Buy most (50.0% of its 6 entrants) and plus "
        "least (15.0% of its 60 entrants)."
    )
    # tiny has too few entrants; plus's 9 buyers are fewer than 10.
    assert sr.segment_funnels_reading(STAGES, min_cell=10) == (
        "Of the segments by plan, basic reaches Buy most (25.0% of its 400 entrants) and plus "
        "least (fewer than 10 of its 60 entrants)."
    )
    assert sr.segment_funnels_reading(STAGES, min_cell=100) == (
        "Of the segments by plan, only basic has 100 entrants or more: 25.0% of its 400 reach Buy."
    )
    assert sr.segment_funnels_reading(STAGES, min_cell=1000) == (
        "Every segment by plan has fewer than 1000 entrants."
    )
    one = STAGES[STAGES["plan"] == "basic"]
    assert sr.segment_funnels_reading(one) == (
        "Every entrant is in one segment by plan, basic: 25.0% of 400 entrants reach Buy."
    )


def test_segment_funnels_of_a_real_stage_funnel():
    sim = jl.simulate(300, seed=0)
    by = jl.Segments("segment", customers=sim.customers)
    result = jl.stage_funnel(sim.events, by=by)
    last = result[result["step"] == result["step"].max()]
    best = last.loc[last["conversion_rate"].idxmax()]
    text = sr.segment_funnels_reading(result)
    assert text.startswith(f"Of the segments by segment, {best['segment']} reaches ")
    assert f"({best['conversion_rate']:.1%} of its " in text
    with pytest.raises(JourneyDataError, match="segment columns"):
        sr.segment_funnels_reading(jl.stage_funnel(sim.events))


CURVE = pd.DataFrame(
    {
        "plan": ["basic"] * 3 + ["plus"] * 3 + ["tiny"] * 2,
        "period": [0, 1, 2, 0, 1, 2, 0, 1],
        "cohorts": [4, 3, 2, 4, 3, 2, 1, 1],
        "cohort_size": [500, 400, 300, 90, 60, 40, 5, 5],
        "customers": [500, 120, 60, 90, 27, 10, 5, 4],
        "rate": [1.0, 0.3, 0.2, 1.0, 0.45, 0.25, 1.0, 0.8],
    }
)


def test_segment_retention_names_the_first_period_best_and_worst():
    assert sr.segment_retention_reading(CURVE, "month") == (
        "In the month after their first, tiny's customers came back most (80.0% of 5) and "
        "basic's least (30.0% of 400)."
    )
    assert sr.segment_retention_reading(CURVE, "month", min_cell=10) == (
        "In the month after their first, plus's customers came back most (45.0% of 60) and "
        "basic's least (30.0% of 400)."
    )
    assert sr.segment_retention_reading(CURVE, "week", min_cell=100) == (
        "In the week after their first, 30.0% of 400 customers came back."
    )
    one = CURVE[CURVE["plan"] == "plus"]
    assert sr.segment_retention_reading(one, "month") == (
        "In the month after their first, 45.0% of 60 customers came back, all in one segment "
        "by plan (plus)."
    )
    assert sr.segment_retention_reading(CURVE[CURVE["period"] == 0], "month") == (
        "No cohort has a complete second month yet."
    )
    with pytest.raises(JourneyDataError, match="cohort_size"):
        sr.segment_retention_reading(CURVE.rename(columns={"cohort_size": "cohort_revenue"}), "m")


CHURN = pd.DataFrame(
    {
        "plan": ["basic", "basic", "plus", "plus", "tiny", "tiny"],
        "period": pd.to_datetime(["2024-10-01", "2024-11-01"] * 3, utc=True),
        "active_start": [390, 400, 240, 250, 7, 6],
        "lost": [25, 20, 20, 8, 1, 3],
        "churn_rate": [25 / 390, 0.05, 20 / 240, 8 / 250, 1 / 7, 0.5],
    }
)


def test_a_segment_that_lost_or_kept_few_customers_is_never_named_with_its_rate():
    # Two months, so the period reads as a month; the reading is of November's.
    churn = pd.DataFrame(
        {
            "plan": ["lost 3", "kept 3", "many", "more"] * 2,
            "period": pd.to_datetime(["2024-10-01"] * 4 + ["2024-11-01"] * 4, utc=True),
            "active_start": [400, 50, 300, 200] * 2,
            "lost": [3, 47, 60, 20] * 2,
        }
    ).assign(churn_rate=lambda t: t["lost"] / t["active_start"])
    text = sr.segment_churn_reading(churn, min_cell=5)
    assert text == (
        "In November 2024, churn was highest for many (20.0%: 60 of the 300 customers active "
        "at its start) and lowest for more (10.0%: 20 of 200). 2 other segments are not "
        "named: each lost or kept fewer than 5 customers, or had fewer than 5 active."
    )
    # 0.8% of 400 gives 3 lost; 94.0% of 50 gives 3 kept: neither rate, count nor name.
    for leak in ("0.8%", "94.0%", "lost 3", "kept 3", "400", " 50"):
        assert leak not in text
    alone = churn[churn["plan"].isin(["lost 3", "kept 3"])]
    assert sr.segment_churn_reading(alone, min_cell=5) == (
        "In November 2024, no segment by plan can be named: each lost or kept fewer than 5 "
        "customers, or had fewer than 5 active."
    )
    # A segment that lost none, or all, singles out nobody.
    none_lost = churn.assign(lost=[0, 50, 60, 20] * 2).assign(
        churn_rate=lambda t: t["lost"] / t["active_start"]
    )
    assert sr.segment_churn_reading(none_lost, min_cell=5) == (
        "In November 2024, churn was highest for kept 3 (100.0%: 50 of the 50 customers "
        "active at its start) and lowest for lost 3 (0.0%: 0 of 400)."
    )


def test_segment_churn_names_the_highest_and_lowest_in_the_latest_period():
    assert sr.segment_churn_reading(CHURN) == (
        "In November 2024, churn was highest for tiny (50.0%: 3 of the 6 customers active at "
        "its start) and lowest for plus (3.2%: 8 of 250)."
    )
    # plus lost 8 and tiny had 6 active: with min_cell=10 neither is named, nor their rates.
    assert sr.segment_churn_reading(CHURN, min_cell=10) == (
        "In November 2024, of the segments by plan, only basic can be named: churn was 5.0%: "
        "20 of the 400 customers active at its start. The 2 others lost or kept fewer than 10 "
        "customers, or had fewer than 10 active."
    )
    # tiny lost 3 of 6: "fewer than 5 of 6" beside its 50.0% would give the 3 away.
    assert sr.segment_churn_reading(CHURN, min_cell=5) == (
        "In November 2024, churn was highest for basic (5.0%: 20 of the 400 customers active "
        "at its start) and lowest for plus (3.2%: 8 of 250). 1 other segment is not named: it "
        "lost or kept fewer than 5 customers, or had fewer than 5 active."
    )
    assert sr.segment_churn_reading(CHURN, min_cell=1000) == (
        "In November 2024, every segment by plan had fewer than 1000 active customers."
    )
    one = CHURN[CHURN["plan"] == "basic"]
    assert sr.segment_churn_reading(one) == (
        "In November 2024, churn was 5.0%: 20 of the 400 customers active at its start (plan "
        "basic)."
    )


TABLE = pd.DataFrame(
    {
        "feature": ["event", "channel", "event", "region"],
        "value": ["signup", "web", "visit", "north"],
        "customers_with": [300, 500, 900, 8],
        "customers_without": [700, 500, 100, 992],
        "rate_with": [0.6, 0.2, 0.31, 0.9],
        "rate_without": [0.2, 0.4, 0.29, 0.3],
        "lift": [3.0, 0.5, 1.07, 3.0],
        "odds_ratio": [6.0, 0.375, 1.1, 21.0],
        "ci_low": [4.4, 0.28, 0.7, 2.6],
        "ci_high": [8.1, 0.5, 1.7, 170.0],
        "p_value": [1e-9, 1e-6, 0.7, 0.001],
        "p_adjusted": [4e-9, 2e-6, 0.7, 0.002],
        "test": ["chi2", "chi2", "chi2", "fisher"],
        "tested": [True, True, True, True],
    }
)


def test_drivers_reading_says_associations_and_names_the_strongest():
    found = Drivers(TABLE, "churn", "rule", customers=1000, with_outcome=320)
    caveat = (
        "These are associations, not causes: a driver may go with churn only because both "
        "follow from something else, so test one before acting on it. 320 of 1,000 "
        "customers (32.0%) churned."
    )
    assert sr.drivers_reading(found, most=2) == (
        f"{caveat} Beyond chance (after the Benjamini-Hochberg correction), the strongest: "
        "signup (odds ratio 6.00, 95% interval 4.40 to 8.10; 60.0% with it, 20.0% without); "
        "channel = web (odds ratio 0.38, 95% interval 0.28 to 0.50; 20.0% with it, 40.0% "
        "without)."
    )
    # With min_cell, a driver only 8 customers have (7 churned, 1 did not) is not named,
    # and the reading says a driver beyond chance was withheld; without min_cell, it is.
    assert "region = north" in sr.drivers_reading(found)
    assert sr.drivers_reading(found, min_cell=10).endswith(
        "40.0% without). (1 driver beyond chance rests on fewer than 10 customers in a cell "
        "and is not named.)"
    )
    assert "region = north" not in sr.drivers_reading(found, min_cell=10)
    assert sr.strong_drivers(found, min_cell=10)["driver"].tolist() == ["signup", "channel = web"]
    # 5 customers churned of the 25 without a signup (20.0%): signup's table has a cell of
    # 5, below 10. Named with its odds ratio and rate with it, the 5 would follow
    # (rate_without = c / (c + d) from the odds ratio, rate with and the 25), so signup is
    # not named at all.
    few = Drivers(TABLE.assign(customers_without=[25, 500, 100, 992]), "churn", "r", 1000, 9)
    text = sr.drivers_reading(few, most=1, min_cell=10)
    assert text.endswith(
        "Fewer than 10 of 1,000 customers (<10) churned. Beyond chance (after the "
        "Benjamini-Hochberg correction), the strongest: channel = web (odds ratio 0.38, 95% "
        "interval 0.28 to 0.50; 20.0% with it, 40.0% without). (2 drivers beyond chance rest "
        "on fewer than 10 customers in a cell and are not named.)"
    )
    assert "signup" not in text and "6.00" not in text
    # Every strong driver withheld: the reading does not say that none goes with churn.
    alone = Drivers(TABLE.iloc[[3]], "churn", "r", 1000, 320)
    assert sr.drivers_reading(alone, min_cell=10).endswith(
        "320 of 1,000 customers (32.0%) churned. No event or property value that can be named "
        "goes with churn beyond chance (after the Benjamini-Hochberg correction; 1 tested): 1 "
        "driver beyond chance rests on fewer than 10 customers in a cell and is not named."
    )
    # The few without the outcome are as telling as the few with it.
    most = Drivers(TABLE, "churn", "r", 1000, 997)
    assert "All but fewer than 10 of 1,000 customers churned." in sr.drivers_reading(
        most, min_cell=10
    )
    calm = Drivers(TABLE.assign(p_adjusted=0.5), "conversion", "rule", 1000, 320)
    assert sr.drivers_reading(calm).endswith(
        "320 of 1,000 customers (32.0%) converted. No event or property value goes with "
        "conversion beyond chance (after the Benjamini-Hochberg correction; 4 tested)."
    )


def test_drivers_reading_of_a_simulated_log_names_its_planted_drivers():
    sim = jl.simulate(3000, seed=1)
    found = jl.drivers(
        sim.events, "conversion", customers=sim.customers, customer_columns=["region"]
    )
    strong = sr.strong_drivers(found)
    # The table's order, strongest effect first, among the significant rows.
    wanted = found.table[found.table["tested"] & (found.table["p_adjusted"] < 0.05)]
    assert strong["odds_ratio"].tolist() == wanted["odds_ratio"].tolist()
    assert not strong["driver"].str.startswith("region").any()  # the planted no-effect control
    first = strong.iloc[0]
    assert f"the strongest: {first['driver']} (odds ratio " in sr.drivers_reading(found)


def test_the_segments_section_says_why_it_does_not_apply():
    log = pd.DataFrame(
        {
            "user": ["a", "a", "b"],
            "event": ["visit", "buy", "visit"],
            "ts": ["2024-01-01", "2024-01-02", "2024-01-03"],
        }
    )
    data = jl.report.open_data(log, quiet=False)
    assert data.why_not("segments") == (
        "no column of the log or of a customer table divides the customers into segments (a "
        "channel, a plan, a region, ...)"
    )
    assert data.why_not("segments", by=["plan"]) == (
        "the segment column 'plan' is in neither the log nor the customer table, or holds no value"
    )
    with_plan = jl.report.open_data(log.assign(plan=["x", "x", "y"]), quiet=False)
    assert with_plan.why_not("segments", by="plan") is None
    table = pd.DataFrame({"customer_id": ["a", "b"], "churned": [1, 0], "plan": ["x", "y"]})
    as_table = jl.report.open_data(table, quiet=False)
    assert as_table.profile.shape == "customers"
    assert as_table.why_not("segments").startswith("it is a customer table")
