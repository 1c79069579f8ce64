"""compare_segments (journey_lib.analytics.compare): every kind of measure worked by hand,
Benjamini-Hochberg against scipy, each segment and its rest against the suite's functions
run on the segment's customers alone, every engine and PySpark, bad input, the planted
effects of the simulator, the shared clickstream, and the manager's wide view.

Times in the hand-made logs are days after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, shared_file, to_engine
from scipy import stats

import journey_lib as jl
from journey_lib._intervals import benjamini_hochberg, wilson
from journey_lib.analytics import compare
from journey_lib.analytics.compare import (
    RESULT_COLUMNS,
    compare_segments,
    format_value,
    segment_scorecard,
)
from journey_lib.analytics.segments import OTHER, Segments
from journey_lib.errors import JourneyDataError, JourneyParameterError

BASE = pd.Timestamp("2024-01-01", tz="UTC")
STAGES = list(jl.FRAMEWORKS["customer_journey"].stages)
STEPS = ["ad_view", "site_visit", "purchase"]
# Hand-made profiles map no event to a kind, so their own framework would map nothing.
JOURNEY_FRAMEWORK = jl.FRAMEWORKS["customer_journey"]


def log(*rows, platform: dict | None = None) -> pd.DataFrame:
    """A touchpoint log from (customer, day, event, value) rows, with the customer's
    ``platform`` from ``platform`` (customer -> value) on every row."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event", "value"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["timestamp"] = (
        BASE + pd.to_timedelta(frame.pop("day").astype("float64"), unit="D")
    ).astype("datetime64[us, UTC]")
    frame["event"] = frame["event"].astype("str")
    frame["value"] = frame["value"].astype("float64")
    if platform is not None:
        frame["platform"] = frame["customer_id"].map(platform).astype("str")
    return frame[["customer_id", "timestamp", "event", "value", *(["platform"] * bool(platform))]]


# Web: customer 1 goes through every stage (buys twice, reviews), 2 considers and visits
# again in March, 3 only sees an ad. App: 4 buys once, 5 buys without a recorded ad and
# reviews.
JOURNEY = log(
    (1, 0, "ad_view", 0),
    (1, 2, "site_visit", 0),
    (1, 5, "purchase", 30),
    (1, 40, "purchase", 20),
    (1, 41, "review", 0),
    (2, 0, "ad_view", 0),
    (2, 1, "site_visit", 0),
    (2, 70, "site_visit", 0),
    (3, 3, "ad_view", 0),
    (4, 0, "ad_view", 0),
    (4, 4, "site_visit", 0),
    (4, 10, "purchase", 50),
    (5, 1, "site_visit", 0),
    (5, 2, "purchase", 10),
    (5, 3, "review", 0),
    platform={1: "web", 2: "web", 3: "web", 4: "app", 5: "app"},
)


def cell(table: pd.DataFrame, segment: str, metric: str, column: str = "value") -> float:
    row = table[(table["platform"] == segment) & (table["metric"] == metric)]
    assert len(row) == 1, f"{segment} {metric}: {len(row)} rows"
    return row[column].iloc[0]


def fisher(x1, n1, x2, n2) -> float:
    return stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue


def test_the_shares_and_counts_worked_by_hand():
    table = compare_segments(JOURNEY, "platform", steps=STEPS, min_customers=1)
    assert list(table.columns) == ["platform", *RESULT_COLUMNS]
    assert table["platform"].unique().tolist() == ["app", "web"]
    # (numerator, denominator) per segment; every customer has a mapped event.
    shares = {
        "reached Awareness": {"web": (3, 3), "app": (1, 2)},
        "reached Investigation & Consideration": {"web": (2, 3), "app": (2, 2)},
        "reached Purchase": {"web": (1, 3), "app": (2, 2)},
        "reached Retention": {"web": (1, 3), "app": (0, 2)},  # 1's second purchase
        "reached Advocacy & Loyalty": {"web": (1, 3), "app": (1, 2)},
        # Of those who reached a stage, the share who reached the next one too.
        "Awareness -> Investigation & Consideration": {"web": (2, 3), "app": (1, 1)},
        "Investigation & Consideration -> Purchase": {"web": (1, 2), "app": (2, 2)},
        "Purchase -> Retention": {"web": (1, 1), "app": (0, 2)},
        "Retention -> Advocacy & Loyalty": {"web": (1, 1), "app": (0, 0)},
        # ad_view -> site_visit -> purchase: web 1, 2, 3 start, only 1 ends; app: 4 only.
        "funnel conversion": {"web": (1, 3), "app": (1, 1)},
        # Buyers: web 1 (bought again on day 40, reviewed); app 4 and 5 (5 reviewed).
        "repeat purchase rate": {"web": (1, 1), "app": (0, 2)},
        "advocacy rate": {"web": (1, 1), "app": (1, 2)},
    }
    for metric, by_segment in shares.items():
        for segment, other in (("web", "app"), ("app", "web")):
            (x, n), (rx, rn) = by_segment[segment], by_segment[other]
            value = x / n if n else np.nan
            rest = rx / rn if rn else np.nan
            np.testing.assert_allclose(cell(table, segment, metric), value, err_msg=metric)
            assert cell(table, segment, metric, "n") == n, metric
            np.testing.assert_allclose(cell(table, segment, metric, "rest"), rest)
            np.testing.assert_allclose(
                cell(table, segment, metric, "difference"), value - rest, err_msg=metric
            )
            assert cell(table, segment, metric, "kind") == "share"
            if n:
                low, high = wilson(x, n)
                assert cell(table, segment, metric, "lower") == pytest.approx(float(low))
                assert cell(table, segment, metric, "upper") == pytest.approx(float(high))
                # Every expected count is under 5: Fisher's exact test; a rest without
                # customers behind it (app's Retention) leaves nothing to test against.
                p = cell(table, segment, metric, "p_value")
                want = fisher(x, n, rx, rn) if rn else np.nan
                np.testing.assert_allclose(p, want, err_msg=metric)
            else:
                assert np.isnan(cell(table, segment, metric, "lower"))
                assert np.isnan(cell(table, segment, metric, "p_value"))
    assert cell(table, "web", "customers") == 3 and cell(table, "app", "customers") == 2
    assert cell(table, "web", "customers", "rest") == 2
    assert cell(table, "web", "customers", "kind") == "count"
    for column in ("lower", "upper", "difference", "p_value", "p_adjusted"):
        assert np.isnan(cell(table, "web", "customers", column))


def test_the_median_times_worked_by_hand():
    table = compare_segments(JOURNEY, "platform", min_customers=1)
    # Time to the first later-stage event at or after entering the stage, in days:
    # Awareness 1: 2, 2: 1, 4: 4 (3 never moves on); Consideration 1: 3, 4: 6, 5: 1;
    # Purchase 1: 35 (to day 40's repeat purchase), 5: 1 (its review); Retention 1: 1.
    medians = {
        "Awareness": {"web": [2, 1], "app": [4]},
        "Investigation & Consideration": {"web": [3], "app": [6, 1]},
        "Purchase": {"web": [35], "app": [1]},
        "Retention": {"web": [1], "app": []},
    }
    for stage, by_segment in medians.items():
        metric = f"median time in {stage}"
        for segment, other in (("web", "app"), ("app", "web")):
            mine, rest = by_segment[segment], by_segment[other]
            value = np.median(mine) if mine else np.nan
            np.testing.assert_allclose(cell(table, segment, metric), value, err_msg=metric)
            assert cell(table, segment, metric, "kind") == "days"
            assert cell(table, segment, metric, "n") == len(mine)
            np.testing.assert_allclose(
                cell(table, segment, metric, "rest"), np.median(rest) if rest else np.nan
            )
            # Fewer than six customers: no order-statistic interval reaches 95%.
            assert np.isnan(cell(table, segment, metric, "lower"))
    # The last stage has no later one, so no time in it.
    assert not table["metric"].eq("median time in Advocacy & Loyalty").any()


def test_the_median_interval_and_mood_test_worked_by_hand():
    # Segment a: 8 customers moving on after 1, 2, ..., 8 days; b: 8 after 10, 20, ..., 80.
    rows = []
    for k in range(1, 9):
        rows += [(k, 0, "ad_view", 0), (k, k, "site_visit", 0)]
        rows += [(100 + k, 0, "ad_view", 0), (100 + k, 10 * k, "site_visit", 0)]
    two = log(
        *rows, platform={**{k: "a" for k in range(1, 9)}, **{100 + k: "b" for k in range(1, 9)}}
    )
    metric = "median time in Awareness"
    # n = 8 at 95%: P(Binomial(8, 1/2) <= 0) = 1/256 <= 0.025 < P(<= 1) = 9/256, so j = 1:
    # [x(1), x(8)]. At 90%: P(<= 1) = 9/256 <= 0.05 < P(<= 2) = 37/256, so j = 2: [x(2), x(7)].
    table = compare_segments(two, "platform", min_customers=8)
    assert cell(table, "a", metric) == 4.5
    assert (cell(table, "a", metric, "lower"), cell(table, "a", metric, "upper")) == (1, 8)
    assert (cell(table, "b", metric, "lower"), cell(table, "b", metric, "upper")) == (10, 80)
    wide = compare_segments(two, "platform", min_customers=8, confidence=0.9)
    assert (cell(wide, "a", metric, "lower"), cell(wide, "a", metric, "upper")) == (2, 7)
    want = stats.median_test(np.arange(1, 9), 10 * np.arange(1, 9)).pvalue
    assert cell(table, "a", metric, "p_value") == pytest.approx(want)
    # Below min_customers on either side: not tested.
    assert np.isnan(cell(compare_segments(two, "platform"), "a", metric, "p_value"))


def test_the_revenue_per_customer_worked_by_hand():
    table = compare_segments(JOURNEY, "platform", min_customers=1)
    web, app = np.array([50.0, 0.0, 0.0]), np.array([50.0, 10.0])  # value per customer
    metric = "revenue per customer"
    assert cell(table, "web", metric) == pytest.approx(50 / 3)
    assert cell(table, "web", metric, "rest") == pytest.approx(30)
    assert cell(table, "web", metric, "kind") == "money"
    assert cell(table, "web", metric, "n") == 3
    half = stats.t.ppf(0.975, 2) * web.std(ddof=1) / np.sqrt(3)
    assert cell(table, "web", metric, "lower") == pytest.approx(50 / 3 - half)
    assert cell(table, "web", metric, "upper") == pytest.approx(50 / 3 + half)
    welch = stats.ttest_ind(web, app, equal_var=False).pvalue
    assert cell(table, "web", metric, "p_value") == pytest.approx(welch)
    assert cell(table, "app", metric, "p_value") == pytest.approx(welch)


def test_retention_and_churn_rate_worked_by_hand():
    # Web: 1 buys on 10 January and 20 February, 2 on 15 January only. App: 3 buys on 31
    # March (the log's end), 4 on 20 January and 25 February. Months, 30 days' inactivity.
    periods = log(
        (1, 9, "purchase", 1),
        (1, 50, "purchase", 1),
        (2, 14, "purchase", 1),
        (3, 90, "purchase", 1),
        (4, 19, "purchase", 1),
        (4, 55, "purchase", 1),
        platform={1: "web", 2: "web", 3: "app", 4: "app"},
    )
    profile = jl.LogProfile(conversion="purchase", inactivity="30D")
    table = compare_segments(
        periods, "platform", profile=profile, framework=JOURNEY_FRAMEWORK, min_customers=1
    )
    # Retention: the January cohort's February is over (now is 31 March); March's April is
    # not. Web: 1 of 1, 2 back in February; app: 4 of 4 (3's cohort is March).
    assert cell(table, "web", "first-period retention") == 0.5
    assert cell(table, "web", "first-period retention", "n") == 2
    assert cell(table, "web", "first-period retention", "rest") == 1.0
    # Churn (January and February are reported): at 1 February 1, 2 (web) and 4 (app) were
    # active; at 1 March 2 was not (15 January is more than 30 days before): lost.
    assert cell(table, "web", "churn rate") == 0.5
    assert cell(table, "web", "churn rate", "n") == 2
    assert cell(table, "app", "churn rate") == 0.0
    assert cell(table, "app", "churn rate", "n") == 1
    assert cell(table, "web", "churn rate", "p_value") == pytest.approx(fisher(1, 2, 0, 1))
    # Every event is a purchase and none is advocacy: no advocacy row.
    assert not table["metric"].eq("advocacy rate").any()


def test_benjamini_hochberg_over_every_tested_row(monkeypatch):
    # One implementation serves compare and drivers: the suite's own, checked here against
    # scipy's, an independent one.
    calls = []

    def counted(p, groups=None):
        calls.append(len(p))
        return benjamini_hochberg(p, groups)

    monkeypatch.setattr(compare, "benjamini_hochberg", counted)
    sim = jl.simulate(1500, seed=3)
    table = compare_segments(sim.events, Segments("segment", customers=sim.customers), steps=STEPS)
    tested = table["p_value"].notna()
    assert tested.sum() > 30
    assert calls == [tested.sum()]
    want = stats.false_discovery_control(table.loc[tested, "p_value"], method="bh")
    np.testing.assert_allclose(table.loc[tested, "p_adjusted"], want)
    assert table.loc[~tested, "p_adjusted"].isna().all()
    assert (table["significant"] == (table["p_adjusted"] < 0.05)).all()
    loose = compare_segments(
        sim.events, Segments("segment", customers=sim.customers), steps=STEPS, confidence=0.8
    )
    assert (loose["significant"] == (loose["p_adjusted"] < 0.2)).all()
    # The intervals hold their values.
    bounded = table["lower"].notna()
    assert (table.loc[bounded, "lower"] <= table.loc[bounded, "value"] + 1e-12).all()
    assert (table.loc[bounded, "value"] <= table.loc[bounded, "upper"] + 1e-12).all()


def _with_platform(events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A ``platform`` that changes over a customer's life: the channel of their site visits
    and a random app or web on their purchases, missing on other rows."""
    rng = np.random.default_rng(seed)
    platform = events["channel"].where(events["event"] == "site_visit")
    bought = events["event"] == "purchase"
    platform[bought] = rng.choice(["app", "web"], bought.sum())
    return events.assign(platform=platform.astype("str"))


def _padded(events: pd.DataFrame, segments: pd.DataFrame, column: str) -> pd.DataFrame:
    """The log with a customer of every segment (a buyer where it has one) given a visit at
    the log's first and last instants (no platform), so that each segment's own log, and
    its rest's, start and end when the whole log does, for buyers and for everyone
    (retention and the churn rate read "now" and the first period from the log they are
    given)."""
    buyers = set(events.loc[events["event"] == "purchase", "customer_id"])
    first, last = events["timestamp"].min(), events["timestamp"].max()
    pads = []
    for _, members in segments.groupby(column):
        bought = members["customer_id"].isin(buyers)
        who = members.loc[bought if bought.any() else members.index, "customer_id"].iloc[0]
        for at in (first, last):
            pads.append({"customer_id": who, "timestamp": at, "event": "site_visit"})
    padded = pd.concat([events, pd.DataFrame(pads)], ignore_index=True)
    padded["value"] = padded["value"].fillna(0.0)
    return padded.sort_values(["customer_id", "timestamp"], ignore_index=True)


def _reference(events: pd.DataFrame, steps: list[str]) -> dict[str, tuple[float, float]]:
    """Every measure of the customers of ``events`` by the suite's functions without by=:
    metric -> (value, n)."""
    out: dict[str, tuple[float, float]] = {"customers": (events["customer_id"].nunique(),) * 2}
    stages = jl.stage_funnel(events, unmapped="ignore")
    entered = stages["customers"] / stages["conversion_rate"]
    for i, row in stages.iterrows():
        out[f"reached {row['stage']}"] = (row["conversion_rate"], entered.dropna().iloc[0])
        if i:
            out[f"{STAGES[i - 1]} -> {row['stage']}"] = (
                row["step_conversion_rate"],
                stages["customers"].iloc[i - 1],
            )
        if i < len(STAGES) - 1:
            out[f"median time in {row['stage']}"] = (
                row["median_time_in_stage"] / 86_400,
                row["progressed"],
            )
    result = jl.funnel(events, steps)
    out["funnel conversion"] = (result["conversion_rate"].iloc[-1], result["customers"].iloc[0])
    kept = jl.retention(events)
    kept = kept[(kept["period"] == 1) & kept["complete"]]
    out["first-period retention"] = (
        kept["customers"].sum() / kept["cohort_size"].sum(),
        kept["cohort_size"].sum(),
    )
    buyers = events.loc[events["event"] == "purchase", "customer_id"].unique()
    if len(buyers) == 0:  # the functions refuse a log without a buyer: nothing to measure
        for metric in ("churn rate", "repeat purchase rate", "advocacy rate"):
            out[metric] = (np.nan, 0)
    else:
        churn = jl.churn_rate(events[events["customer_id"].isin(buyers)])
        out["churn rate"] = (
            churn["lost"].sum() / churn["active_start"].sum(),
            churn["active_start"].sum(),
        )
        overall = jl.loyalty(events).overall
        out["repeat purchase rate"] = (overall["repeat_purchase_rate"], overall["buyers"])
        out["advocacy rate"] = (overall["advocacy_share"], overall["buyers"])
    revenue = events["value"].sum() / events["customer_id"].nunique()
    out["revenue per customer"] = (revenue, events["customer_id"].nunique())
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_each_segment_and_its_rest_are_the_suite_on_their_own_customers(seed):
    sim = jl.simulate(700, seed=seed)
    events = _with_platform(sim.events, seed)
    for by in (
        Segments("platform", top=3),
        Segments("platform", rule="last", top=None),
        Segments("segment", customers=sim.customers),
    ):
        segments = jl.customer_segments(events, by)
        padded = _padded(events, segments, by.columns[0])
        table = compare_segments(padded, by, steps=STEPS)
        assert set(table[by.columns[0]]) == set(segments[by.columns[0]])
        for value, members in segments.groupby(by.columns[0]):
            inside = padded["customer_id"].isin(members["customer_id"])
            mine, rest = _reference(padded[inside], STEPS), _reference(padded[~inside], STEPS)
            block = table[table[by.columns[0]] == value].set_index("metric")
            assert sorted(block.index) == sorted(mine), value
            for metric, (want, n) in mine.items():
                got = block.loc[metric]
                np.testing.assert_allclose(got["value"], want, rtol=1e-9, err_msg=metric)
                assert got["n"] == n, f"{value} {metric}"
                np.testing.assert_allclose(
                    got["rest"], rest[metric][0], rtol=1e-9, err_msg=f"{value} {metric} rest"
                )


def _engine_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    sim = jl.simulate(250, seed=21)
    return _with_platform(sim.events, 21), sim.customers


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_pandas_answer(engine):
    events, customers = _engine_log()
    for by, kwargs in (
        ("platform", {"steps": STEPS, "top": 3}),
        (Segments("segment", customers=customers), {"min_customers": 10}),
    ):
        want = compare_segments(events, by, **kwargs)
        got = compare_segments(to_engine(events, engine), by, **kwargs)
        assert isinstance(got, pd.DataFrame)
        assert_same_frame(got, want)


def test_pyspark_gives_the_pandas_answer(spark):
    # One breakdown (Spark runs every analytic's plan as jobs of its own: minutes, not
    # seconds); the log's platform crossed with the customer table's segment covers both.
    # A small log keeps it short; it still has buyers, advocates and every stage.
    sim = jl.simulate(40, seed=21)
    events, customers = _with_platform(sim.events, 21), sim.customers
    by = Segments(["platform", "segment"], customers=customers, top=4)
    want = compare_segments(events, by, steps=STEPS, min_customers=5)
    got = compare_segments(spark.createDataFrame(events), by, steps=STEPS, min_customers=5)
    assert_same_frame(got, want)


def test_crossings_and_the_other_bucket():
    sim = jl.simulate(600, seed=8)
    events = _with_platform(sim.events, 8)
    crossed = compare_segments(
        events, Segments(["segment", "region"], customers=sim.customers, top=4)
    )
    assert list(crossed.columns[:2]) == ["segment", "region"]
    pairs = crossed[["segment", "region"]].drop_duplicates()
    assert len(pairs) == 5 and (OTHER, OTHER) in set(map(tuple, pairs.to_numpy()))
    sizes = crossed[crossed["metric"] == "customers"]
    assert sizes["value"].sum() == events["customer_id"].nunique()
    assert (sizes["value"] + sizes["rest"] == events["customer_id"].nunique()).all()
    folded = compare_segments(events, "platform", top=1)
    assert folded["platform"].unique().tolist().count(OTHER) == 1
    assert folded["platform"].nunique() == 2
    wide = segment_scorecard(crossed)
    assert wide.columns.name == "segment / region"
    assert f"{OTHER} / {OTHER}" in wide.columns


def test_bad_input_is_named():
    with pytest.raises(JourneyDataError, match=r"by='tier'.*no such column"):
        compare_segments(JOURNEY, "tier")
    empty = JOURNEY.assign(platform=pd.Series([None] * len(JOURNEY), dtype="str"))
    with pytest.raises(JourneyDataError, match=r"holds no value \(15 rows, all missing\)"):
        compare_segments(empty, "platform")
    for clash in ("metric", "value", "p_adjusted"):
        with pytest.raises(JourneyParameterError, match=f"by='{clash}' would clash"):
            compare_segments(JOURNEY.assign(**{"metric": "x", "p_adjusted": "y"}), clash)
    with pytest.raises(JourneyParameterError, match="needs by="):
        compare_segments(JOURNEY, None)
    with pytest.raises(JourneyParameterError, match="confidence"):
        compare_segments(JOURNEY, "platform", confidence=95)
    with pytest.raises(JourneyParameterError, match="min_customers"):
        compare_segments(JOURNEY, "platform", min_customers=0)
    with pytest.raises(JourneyParameterError, match=r"framework per segment|mapping"):
        compare_segments(JOURNEY, "platform", framework={"web": "business", "app": "business"})


def test_measures_whose_roles_are_missing_are_left_out():
    everything = set(compare_segments(JOURNEY, "platform", steps=STEPS)["metric"])
    assert {"funnel conversion", "repeat purchase rate", "advocacy rate"} <= everything
    assert "revenue per customer" in everything
    bare = compare_segments(JOURNEY.drop(columns="value"), "platform")
    assert "revenue per customer" not in set(bare["metric"])
    assert "funnel conversion" not in set(bare["metric"])  # no steps, no profile
    no_conversion = compare_segments(
        JOURNEY, "platform", profile=jl.LogProfile(), framework=JOURNEY_FRAMEWORK
    )
    assert not {"repeat purchase rate", "advocacy rate"} & set(no_conversion["metric"])
    assert "churn rate" in set(no_conversion["metric"])  # of every customer then
    with_funnel = compare_segments(
        JOURNEY, "platform", profile=jl.LogProfile(funnel=STEPS), framework=JOURNEY_FRAMEWORK
    )
    assert "funnel conversion" in set(with_funnel["metric"])


def test_the_planted_effects_of_the_simulator_show():
    # Enterprise customers are planted with a churn hazard e^2 times the others'; their
    # orders are planted ten times as large. Region is planted with no effect at all.
    sim = jl.simulate(
        5000, seed=4, segment_churn={"consumer": 0.0, "small_business": 0.0, "enterprise": 2.0}
    )
    by_segment = compare_segments(sim.events, Segments("segment", customers=sim.customers))
    churn = by_segment[by_segment["metric"] == "churn rate"].set_index("segment")
    assert churn.loc["enterprise", "value"] > churn.loc["enterprise", "rest"]
    assert churn.loc["enterprise", "significant"]
    revenue = by_segment[by_segment["metric"] == "revenue per customer"].set_index("segment")
    assert revenue.loc["enterprise", "difference"] > 0 and revenue.loc["enterprise", "significant"]
    by_region = compare_segments(sim.events, Segments("region", customers=sim.customers))
    tested = by_region["p_value"].notna()
    assert tested.sum() > 50
    assert by_region.loc[tested, "significant"].mean() <= 0.1


def test_the_shared_clickstream_by_platform():
    path = shared_file("events", "ecom_clickstream.csv.gz")
    profile = jl.profile(path)
    events = profile.read(path).clean
    table = compare_segments(events, "platform", profile=profile)
    platforms = jl.customer_segments(events, "platform")["platform"]
    assert set(table["platform"]) == set(platforms)
    sizes = table[table["metric"] == "customers"].set_index("platform")["value"]
    assert sizes.to_dict() == platforms.value_counts().to_dict()
    # Stage reach is stage_funnel's by= block of the same segment.
    stages = jl.stage_funnel(events, profile=profile, by="platform", unmapped="ignore")
    for row in stages.itertuples():
        got = cell(table, row.platform, f"reached {row.stage}")
        np.testing.assert_allclose(got, row.conversion_rate, rtol=1e-12)
    shares = table[table["kind"] == "share"]
    assert shares["value"].dropna().between(0, 1).all()
    tested = table["p_value"].notna()
    want = stats.false_discovery_control(table.loc[tested, "p_value"], method="bh")
    np.testing.assert_allclose(table.loc[tested, "p_adjusted"], want)


def test_the_scorecard_a_manager_reads():
    table = compare_segments(JOURNEY, "platform", steps=STEPS, min_customers=1)
    wide = segment_scorecard(table)
    assert list(wide.columns) == ["app", "web"]
    assert list(wide.index) == list(dict.fromkeys(table["metric"]))
    assert wide.loc["customers", "web"] == "3"
    low, high = wilson(1, 3)
    assert wide.loc["reached Purchase", "web"] == f"33.3% ({low * 100:.1f}–{high:.1%})"
    assert wide.loc["revenue per customer", "app"].startswith("30.00 (")
    marked = table.assign(significant=table["metric"] == "reached Awareness")
    marks = segment_scorecard(marked).loc["reached Awareness"]
    assert marks["web"].endswith("▲") and marks["app"].endswith("▼")
    with pytest.raises(JourneyDataError, match="compare_segments"):
        segment_scorecard(table.drop(columns="p_adjusted"))
    with pytest.raises(JourneyDataError, match="no segment columns"):
        segment_scorecard(table.drop(columns="platform"))


def test_format_value():
    assert format_value(0.4125, "share") == "41.2%"
    assert format_value(2.0, "days") == "2.0 d"
    assert format_value(-1234.5, "money") == "-1,234.50"
    assert format_value(3, "count") == "3"
    assert format_value(np.nan, "money") == "–"
    with pytest.raises(JourneyParameterError, match="kind"):
        format_value(1.0, "ratio")


def test_the_churn_rate_reads_the_whole_logs_periods():
    # Customer 1 (plan a) buys on 5 January, 2 (plan b) on 6 January and 10 February; 3
    # and 4 only see ads in late April, so the log, and its months, run to late April
    # although the last purchase is in February. Months, 30 days' inactivity.
    late = log(
        (1, 4, "purchase", 1),
        (2, 5, "purchase", 1),
        (2, 40, "purchase", 1),
        (3, 115, "ad_view", 0),
        (4, 118, "ad_view", 0),
        platform={1: "a", 2: "b", 3: "a", 4: "b"},
    )
    profile = jl.LogProfile(conversion="purchase", inactivity="30D")
    table = compare_segments(
        late, "platform", profile=profile, framework=JOURNEY_FRAMEWORK, min_customers=1
    )
    # January, February and March are reported. a: 1 active at 1 February, lost by 1
    # March. b: 2 active at 1 February (6 January) and at 1 March (10 February), lost by 1
    # April. So a 1 of 1, b 1 of 2 customer-periods.
    assert (cell(table, "a", "churn rate"), cell(table, "a", "churn rate", "n")) == (1.0, 1)
    assert (cell(table, "b", "churn rate"), cell(table, "b", "churn rate", "n")) == (0.5, 2)
    assert cell(table, "a", "churn rate", "rest") == 0.5
    # The same counts as churn_rate on the whole log (3 and 4 are never active at a
    # reported period's start, so every customer's counts are the buyers').
    whole = jl.churn_rate(late, inactivity="30D", by="platform")
    pooled = whole.groupby("platform")[["lost", "active_start"]].sum()
    assert pooled.loc["a"].tolist() == [1, 1] and pooled.loc["b"].tolist() == [1, 2]


def _churn_by_hand(events: pd.DataFrame, who: pd.Series, inactivity: str = "90D") -> tuple:
    """Buyers of ``who`` lost over the whole log's complete months, and those active at the
    months' starts, from the definition (an event in ``[t - W, t)`` makes active at t)."""
    buyers = set(events.loc[events["event"] == "purchase", "customer_id"]) & set(who)
    window, now = pd.Timedelta(inactivity), events["timestamp"].max()
    start = events["timestamp"].min().tz_convert(None).to_period("M").to_timestamp()
    bounds = [b.tz_localize("UTC") for b in pd.date_range(start, now.tz_convert(None), freq="MS")]

    def active(t):
        at = events[(events["timestamp"] >= t - window) & (events["timestamp"] < t)]
        return set(at["customer_id"]) & buyers

    lost = at_start = 0
    for s, e in itertools.pairwise(bounds):  # e <= now: the complete months
        before = active(s)
        at_start += len(before)
        lost += len(before - active(e))
    return lost, at_start


def test_each_segments_churn_rate_on_an_unpadded_log_is_the_definitions():
    # No padding: the buyers' last event is well before the log's, and segments end at
    # different times; each block still counts over the whole log's months.
    sim = jl.simulate(400, seed=31)
    events = _with_platform(sim.events, 31)
    last_buy = events.loc[events["event"] == "purchase", "timestamp"].max()
    events = events[
        (events["event"] != "purchase") | (events["timestamp"] < last_buy - pd.Timedelta("120D"))
    ]
    segments = jl.customer_segments(events, Segments("platform", top=None))
    table = compare_segments(events, Segments("platform", top=None))
    for value, members in segments.groupby("platform"):
        lost, n = _churn_by_hand(events, members["customer_id"])
        assert cell(table, value, "churn rate", "n") == n, value
        np.testing.assert_allclose(cell(table, value, "churn rate"), lost / n if n else np.nan)


def test_any_by_name_but_the_results_own_columns_works():
    for name in ("period", "cohort", "lost", "step", "buyers", "churn_rate"):
        renamed = JOURNEY.rename(columns={"platform": name})
        table = compare_segments(renamed, name, steps=STEPS, min_customers=1)
        want = compare_segments(JOURNEY, "platform", steps=STEPS, min_customers=1)
        assert list(table.columns) == [name, *RESULT_COLUMNS]
        assert_same_frame(table.rename(columns={name: "platform"}), want)


def test_no_warning_on_a_simulated_log():
    sim = jl.simulate(300, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = compare_segments(sim.events, Segments("segment", customers=sim.customers))
    assert {"repeat purchase rate", "advocacy rate"} <= set(table["metric"])


def test_a_profiles_framework_per_segment_is_refused():
    profile = dataclasses.replace(
        jl.LogProfile(conversion="purchase"),
        segment_frameworks={"platform": {"web": "business", "app": "customer_journey"}},
    )
    with pytest.raises(JourneyParameterError, match=r"segment_frameworks.*by='platform'"):
        compare_segments(JOURNEY, "platform", profile=profile)
    # One framework given for every segment is what it asks for.
    table = compare_segments(JOURNEY, "platform", profile=profile, framework=JOURNEY_FRAMEWORK)
    assert "reached Purchase" in set(table["metric"])


def test_without_a_conversion_event_the_churn_rate_is_every_customers():
    table = compare_segments(
        JOURNEY, "platform", profile=jl.LogProfile(inactivity="30D"), framework=JOURNEY_FRAMEWORK
    )
    whole = jl.churn_rate(JOURNEY, inactivity="30D", by="platform")
    pooled = whole.groupby("platform")[["lost", "active_start"]].sum()
    for value in ("app", "web"):
        assert cell(table, value, "churn rate", "n") == pooled.loc[value, "active_start"]
        lost = pooled.loc[value, "lost"]
        n = pooled.loc[value, "active_start"]
        np.testing.assert_allclose(cell(table, value, "churn rate"), lost / n if n else np.nan)
