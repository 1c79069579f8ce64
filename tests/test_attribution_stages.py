"""Credit for moving customers into journey stages: by hand, against stage_funnel's
counts, bad input and engine parity."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import assert_same_frame, to_engine
from test_attribution import DAY, NONE, assert_credit, log

import journey_lib as jl
from journey_lib.attribution import attribute_stages
from journey_lib.errors import JourneyDataError, JourneyParameterError

FRAMEWORK = {"Aware": ["ad_view"], "Consider": ["site_visit"], "Buy": ["purchase"]}

# Customer 1: tv ad, web visit, social ad, buys for 40 on day 3 and for 60 on day 4.
# Customer 2: a search visit, buys in store for 20. Customer 3: a social ad only.
STAGED = log(
    (1, 0, "ad_view", "tv"),
    (1, DAY, "site_visit", "web"),
    (1, 2 * DAY, "ad_view", "social"),
    (1, 3 * DAY, "purchase", "web", 40.0),
    (1, 4 * DAY, "purchase", "web", 60.0),
    (2, 0, "site_visit", "search"),
    (2, DAY, "purchase", "store", 20.0),
    (3, 0, "ad_view", "social"),
)


def stage(result: pd.DataFrame, name: str) -> pd.DataFrame:
    return result[result["stage"] == name]


def test_stage_credit_by_hand():
    result = attribute_stages(STAGED, FRAMEWORK, model="last_touch")
    assert result.columns.tolist() == ["stage", "channel", "conversions", "value", "share"]
    assert list(dict.fromkeys(result["stage"])) == ["Aware", "Consider", "Buy"]
    # Aware: customers 1 and 3 start with an ad: nothing before it.
    assert_credit(stage(result, "Aware"), {NONE: 2})
    # Consider: customer 1's visit after the tv ad; customer 2 starts with a visit.
    assert_credit(stage(result, "Consider"), {"tv": 1, NONE: 1})
    # Buy: customer 1's first purchase (day 3; day 4 is no new entry) after tv, web,
    # social; customer 2's after search. Each counts once, with the entry's value.
    buy = stage(result, "Buy")
    assert_credit(buy, {"social": 1, "search": 1})
    assert_credit(buy, {"social": 40, "search": 20}, "value")
    assert buy["share"].sum() == pytest.approx(1)
    first = stage(attribute_stages(STAGED, FRAMEWORK, model="first_touch"), "Buy")
    assert_credit(first, {"tv": 1, "search": 1})


def test_stage_markov_by_hand():
    result = attribute_stages(STAGED, FRAMEWORK)
    # Consider: tv -> conversion, and customer 3 (who never visited) social -> null:
    # removing tv loses everything, social nothing.
    assert_credit(stage(result, "Consider"), {"tv": 1, NONE: 1})
    # Buy: converting tv > web > social and search; customer 3's social never buys
    # (customers who bought have no non-converting path toward Buy).
    # start: tv, search, social 1/3 each; social converts half the time. P = 2/3.
    # Without tv or web: P = 1/2 (effect 1/4 each); without social or search: P = 1/3
    # (effect 1/2 each). Shares 1/6, 1/6, 1/3, 1/3 of 2 entries worth 60.
    buy = stage(result, "Buy")
    assert_credit(buy, {"tv": 1 / 3, "web": 1 / 3, "social": 2 / 3, "search": 2 / 3})
    assert_credit(buy, {"tv": 10, "web": 10, "social": 20, "search": 20}, "value")
    # Aware: nobody had a touch before their first ad; customer 2's touches (a search
    # visit, a store purchase) form the only non-converting path.
    assert_credit(stage(result, "Aware"), {NONE: 2, "search": 0, "store": 0})


def test_an_entry_instant_converts_once_with_the_touches_at_or_before_it():
    # Customer 1 enters Consider at day 1 with two visits at once (worth 5 and 7), beside an
    # email at that instant; the social ad after the entry lies on no path into Consider.
    # Customer 2's tv ad is 40 days before their visit, outside a 30-day lookback.
    at_once = log(
        (1, 0, "ad_view", "tv"),
        (1, DAY, "ad_view", "email"),
        (1, DAY, "site_visit", "web", 5.0),
        (1, DAY, "site_visit", "search", 7.0),
        (1, 2 * DAY, "ad_view", "social"),
        (2, 0, "ad_view", "tv"),
        (2, 40 * DAY, "site_visit", "web", 3.0),
    )
    for model, expected in [
        ("last_touch", {"email": 1, NONE: 1}),
        ("first_touch", {"tv": 1, NONE: 1}),
        ("linear", {"tv": 0.5, "email": 0.5, NONE: 1}),
    ]:
        consider = stage(attribute_stages(at_once, FRAMEWORK, model=model), "Consider")
        assert_credit(consider, expected)
        assert consider["conversions"].sum() == 2 and consider["value"].sum() == 15
        assert "social" not in set(consider["channel"])
    # Markov: both paths convert and only customer 1's has touches: each is needed.
    markov = stage(attribute_stages(at_once, FRAMEWORK), "Consider")
    assert_credit(markov, {"tv": 0.5, "email": 0.5, NONE: 1})
    assert_credit(markov, {"tv": 6, "email": 6, NONE: 3}, "value")


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_path_that_never_enters_keeps_the_lookback_before_its_last_touch(engine):
    # Into Consider: customer 1 after social, 2 after tv, 4 after email then social.
    # Customer 3 never enters: a social ad on day 0, then email and tv on day 50 (and an
    # unmapped review after), so with a 30-day lookback their path is email, tv -> null.
    # Markov: start -> social 1/4, tv 1/4, email 1/2; social -> entry; tv -> entry or null
    # and email -> social or tv, half each. P = 1/4 + 1/8 + 3/8 = 3/4; without social 1/4,
    # without tv 1/2, without email 3/8: effects 2/3, 1/3, 1/2 share the 3 entries.
    never = log(
        (1, 0, "ad_view", "social"),
        (1, DAY, "site_visit", "web"),
        (2, 0, "ad_view", "tv"),
        (2, DAY, "site_visit", "web"),
        (4, 0, "ad_view", "email"),
        (4, 10, "ad_view", "social"),
        (4, DAY, "site_visit", "web"),
        (3, 0, "ad_view", "social"),
        (3, 50 * DAY, "ad_view", "email"),
        (3, 50 * DAY + 10, "ad_view", "tv"),
        (3, 51 * DAY, "review", None),
    )
    frame = to_engine(never, engine)
    result = attribute_stages(frame, FRAMEWORK, unmapped="ignore")
    assert_credit(stage(result, "Consider"), {"social": 4 / 3, "tv": 2 / 3, "email": 1})
    # Neither customer 3's whole history (no lookback) nor no path for them gives that.
    # Whole: social -> entry 2/3 or email 1/3, email -> social or tv; P = 3/4 again, and
    # without social 3/16, tv 1/2, email 11/24: effects 27, 12 and 14 in 36ths.
    whole = stage(attribute_stages(frame, FRAMEWORK, lookback=None, unmapped="ignore"), "Consider")
    assert_credit(whole, {"social": 81 / 53, "tv": 36 / 53, "email": 42 / 53})
    # No path: every path enters, P = 1; without social 1/3, tv or email 2/3.
    without = to_engine(never[never["customer_id"] != 3], engine)
    alone = stage(attribute_stages(without, FRAMEWORK, unmapped="ignore"), "Consider")
    assert_credit(alone, {"social": 1.5, "tv": 0.75, "email": 0.75})


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_rows_within_the_entry_s_microsecond_are_at_its_instant(engine):
    # Nanosecond times (pandas keeps them; DuckDB and Spark hold microseconds): the email
    # 500 ns after the visit is a touch at the entry's instant, and the second visit 700 ns
    # after it enters too, with its value, as on an engine that holds microseconds.
    day = pd.Timestamp("2024-01-02", tz="UTC")
    nanos = log(
        (1, 0, "ad_view", "tv"),
        (1, DAY, "site_visit", "web", 5.0),
        (1, DAY, "ad_view", "email"),
        (1, DAY, "site_visit", "search", 7.0),
        (2, 0, "ad_view", "social"),
    ).astype({"timestamp": "datetime64[ns, UTC]"})
    nanos.loc[2, "timestamp"] = day + pd.Timedelta(500, unit="ns")
    nanos.loc[3, "timestamp"] = day + pd.Timedelta(700, unit="ns")
    assert nanos.loc[1, "timestamp"] == day
    if engine != "pandas":  # DuckDB's frames hold the times cut to microseconds
        nanos = to_engine(nanos.astype({"timestamp": "datetime64[us, UTC]"}), engine)
    result = attribute_stages(nanos, FRAMEWORK, model="last_touch")
    consider = stage(result, "Consider")
    assert_credit(consider, {"email": 1})
    assert_credit(consider, {"email": 12}, "value")


def test_repeat_purchases_enter_retention_in_the_built_in_framework():
    result = attribute_stages(STAGED, model="last_touch", stages=["Purchase", "Retention"])
    assert list(dict.fromkeys(result["stage"])) == ["Purchase", "Retention"]
    # Customer 1's second purchase is Retention; the first purchase (web) is its last touch.
    assert_credit(stage(result, "Retention"), {"web": 1})
    assert_credit(stage(result, "Retention"), {"web": 60}, "value")


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(60, seed=4).events[list(jl.CANONICAL_COLUMNS)]


def test_each_stage_credits_the_customers_who_reached_it(simulated):
    reached = jl.stage_funnel(simulated).set_index("stage")["customers"]
    for model in ("markov", "time_decay"):
        result = attribute_stages(simulated, model=model, lookback="60D")
        totals = result.groupby("stage", sort=False)["conversions"].sum()
        assert totals.to_dict() == pytest.approx(reached[reached > 0].to_dict())
        assert (result["conversions"] >= 0).all() and not result.isna().any().any()


def test_stage_bootstrap_and_bad_input():
    result = attribute_stages(STAGED, FRAMEWORK, model="linear", n_boot=20, seed=1)
    assert result.columns[-4:].tolist() == [
        "conversions_lower",
        "conversions_upper",
        "value_lower",
        "value_upper",
    ]
    assert (result["conversions_lower"] <= result["conversions_upper"]).all()
    with pytest.raises(JourneyParameterError, match="among the framework"):
        attribute_stages(STAGED, FRAMEWORK, stages=["Purchase"])
    with pytest.raises(JourneyParameterError, match="model must be one of"):
        attribute_stages(STAGED, FRAMEWORK, model="shapley")
    with pytest.raises(JourneyDataError, match="no customer reached"):
        attribute_stages(STAGED, stages=["Advocacy & Loyalty"])
    with pytest.raises(JourneyParameterError, match="by='stage'"):
        attribute_stages(STAGED, FRAMEWORK, by="stage")
    with pytest.raises(
        JourneyParameterError, match=r"^n_boot must be a whole number >= 0, got -2$"
    ):
        attribute_stages(STAGED, FRAMEWORK, n_boot=-2)
    with pytest.raises(JourneyDataError, match="'campaign'"):
        attribute_stages(STAGED, FRAMEWORK, by="campaign")


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
def test_stage_engines_match_pandas(engine, simulated):
    for model in ("markov", "position_based"):
        want = attribute_stages(simulated, model=model, unmapped="ignore")
        got = attribute_stages(to_engine(simulated, engine), model=model, unmapped="ignore")
        assert_same_frame(got, want)
