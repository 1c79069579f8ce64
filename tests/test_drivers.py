"""Drivers of conversion, churn and advocacy (journey_lib.churn.drivers): a table worked by
hand against SciPy, the windows that keep the outcome out of the features, the churn
dataset's population and label, the simulator's planted drivers and no-effect control,
breakdowns against each segment run alone, every engine, a real log, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, shared_file, to_engine
from scipy.stats import chi2_contingency, false_discovery_control, fisher_exact
from scipy.stats.contingency import odds_ratio as scipy_odds_ratio

import journey_lib as jl
from journey_lib._intervals import benjamini_hochberg
from journey_lib.analytics.segments import OTHER, Segments
from journey_lib.churn import FeatureRecipe, build_dataset
from journey_lib.churn.drivers import COLUMNS, drivers
from journey_lib.errors import JourneyDataError, JourneyParameterError

DAY0 = pd.Timestamp("2024-01-01", tz="UTC")


def _rows(customer, day, event, channel="web"):
    return {
        "customer_id": customer,
        "timestamp": DAY0 + pd.Timedelta(days=day),
        "event": event,
        "channel": channel,
    }


def _hand_log() -> pd.DataFrame:
    """120 customers, all visiting on day 0. A promo (day 1, by email): customers 1-50, of
    whom 1-30 buy; 51-75 buy without one (their promo on day 5 comes after the purchase);
    76-120 never buy. A chat on day 1: 1-3 (buyers) and 80. Buyers' deliveries and reviews
    follow their purchase on day 2."""
    rows = [_rows(c, 0, "visit") for c in range(1, 121)]
    rows += [_rows(c, 1, "promo", "email") for c in range(1, 51)]
    rows += [_rows(c, 1, "chat", "support") for c in (1, 2, 3, 80)]
    buyers = [*range(1, 31), *range(51, 76)]
    rows += [_rows(c, 2, "purchase") for c in buyers]
    rows += [_rows(c, 3, "delivery", "delivery") for c in buyers]
    rows += [_rows(c, 5, "promo", "email") for c in range(51, 76)]
    return pd.DataFrame(rows)


def _row(table: pd.DataFrame, feature: str, value: str) -> pd.Series:
    found = table[(table["feature"] == feature) & (table["value"] == value)]
    assert len(found) == 1, (feature, value, len(found))
    return found.iloc[0]


def test_a_table_worked_by_hand_against_scipy():
    found = drivers(_hand_log(), "conversion", window=None, min_customers=4)
    table = found.table
    assert list(table.columns) == list(COLUMNS)
    assert (found.customers, found.with_outcome) == (120, 55)
    # Nothing at or after a purchase is a feature: not the purchase, the delivery, nor the
    # promo that customers 51-75 got after buying.
    assert set(table["value"]) == {"visit", "promo", "chat", "web", "email", "support"}

    promo = _row(table, "event", "promo")
    a, b, c, d = 30, 20, 25, 45
    assert (promo["customers_with"], promo["customers_without"]) == (50, 70)
    assert promo["rate_with"] == pytest.approx(30 / 50)
    assert promo["rate_without"] == pytest.approx(25 / 70)
    assert promo["lift"] == pytest.approx((30 / 50) / (25 / 70))
    reference = scipy_odds_ratio([[a, b], [c, d]], kind="sample")
    low, high = reference.confidence_interval(0.95)
    assert promo["odds_ratio"] == pytest.approx(a * d / (b * c))
    assert promo["odds_ratio"] == pytest.approx(reference.statistic)
    assert (promo["ci_low"], promo["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    chi2 = chi2_contingency([[a, b], [c, d]], correction=False).pvalue
    assert promo["test"] == "chi2" and promo["p_value"] == pytest.approx(chi2)
    # The promo came by email: the same customers, the same table.
    assert _row(table, "channel", "email")["p_value"] == pytest.approx(chi2)

    chat = _row(table, "event", "chat")  # 3 of 4 bought: expected count 4 * 55 / 120 < 5
    assert chat["test"] == "fisher"
    assert chat["p_value"] == pytest.approx(fisher_exact([[3, 1], [52, 64]]).pvalue)
    # No zero cell: no correction.
    assert chat["odds_ratio"] == pytest.approx(3 * 64 / (1 * 52))

    tested = table[table["tested"]]
    assert set(tested["value"]) == {"promo", "chat", "email", "support"}
    want = false_discovery_control(tested["p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(tested["p_adjusted"].to_numpy(), want)
    # Everyone visited on the web: no second group, so no odds ratio and no test.
    visit = _row(table, "event", "visit")
    assert not visit["tested"] and np.isnan(visit["odds_ratio"]) and np.isnan(visit["p_value"])
    assert list(table["tested"]) == sorted(table["tested"], reverse=True)
    effects = np.abs(np.log(tested["odds_ratio"].to_numpy()))
    assert list(effects) == sorted(effects, reverse=True)


def test_the_floor_keeps_small_groups_out_of_the_correction():
    table = drivers(_hand_log(), "conversion", window=None, min_customers=5).table
    chat = _row(table, "event", "chat")  # 4 customers: under the floor
    assert not chat["tested"] and np.isnan(chat["p_adjusted"]) and pd.isna(chat["test"])
    assert chat["odds_ratio"] == pytest.approx(3 * 64 / 52)  # still described
    tested = table[table["tested"]]
    want = false_discovery_control(tested["p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(tested["p_adjusted"].to_numpy(), want)
    assert table.index[~table["tested"]].min() > table.index[table["tested"]].max()


def test_a_zero_cell_gets_the_haldane_anscombe_half():
    log = _hand_log()
    # Every chatter bought: a = 3, b = 0.
    log = log[~((log["customer_id"] == 80) & (log["event"] == "chat"))]
    chat = _row(drivers(log, "conversion", window=None, min_customers=3).table, "event", "chat")
    a, b, c, d = 3.5, 0.5, 52.5, 65.5
    assert chat["odds_ratio"] == pytest.approx(a * d / (b * c))
    half = 1.959963984540054 * np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert chat["ci_low"] == pytest.approx(a * d / (b * c) * np.exp(-half))
    assert chat["ci_high"] == pytest.approx(a * d / (b * c) * np.exp(half))
    assert chat["p_value"] == pytest.approx(fisher_exact([[3, 0], [52, 65]]).pvalue)


def test_benjamini_hochberg_is_scipys_within_each_family():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, 60) ** 2
    families = rng.integers(0, 4, 60)
    got = benjamini_hochberg(p, families)
    for family in range(4):
        mine = families == family
        np.testing.assert_allclose(got[mine], false_discovery_control(p[mine], method="bh"))
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p, method="bh"))
    assert benjamini_hochberg([]).size == 0


def test_the_conversion_window():
    rows = [_rows(c, 0, "visit") for c in range(1, 6)]
    rows += [
        _rows(1, 1, "promo"),
        _rows(1, 2, "purchase"),  # inside 10 days
        _rows(2, 3, "promo"),
        _rows(2, 10, "purchase"),  # at the window's close: converted
        _rows(3, 4, "promo"),
        _rows(3, 10, "chat"),  # at the close: a feature
        _rows(3, 12, "purchase"),  # after it: not converted, and the row is no feature
        _rows(4, 11, "chat"),  # after the close
        _rows(5, 25, "visit"),  # the log ends on day 25
        _rows(6, 20, "visit"),  # window open past the end of the log: not counted
    ]
    found = drivers(pd.DataFrame(rows), "conversion", window="10D", min_customers=1)
    assert (found.customers, found.with_outcome) == (5, 2)
    table = found.table
    assert _row(table, "event", "promo")[["customers_with", "rate_with"]].tolist() == [3, 2 / 3]
    chat = _row(table, "event", "chat")
    assert (chat["customers_with"], chat["rate_with"]) == (1, 0)
    # Observed for longer than the last event: customer 6's window closes in time.
    later = drivers(pd.DataFrame(rows), "conversion", window="10D", data_end="2024-02-01")
    assert later.customers == 6


def test_nothing_after_the_outcome_window_opens_changes_the_features():
    sim = jl.simulate(1500, seed=4)
    log = sim.events
    cut = pd.Timestamp("2024-09-01", tz="UTC")
    # What happens after the cutoff, renamed, re-channelled: the churn label (inactivity)
    # reads only times after it, the features only rows before it.
    after = log["timestamp"] >= cut
    renamed = log.assign(
        event=log["event"].where(~after, "future_" + log["event"]),
        channel=log["channel"].where(~after, "future"),
    )
    for outcome in ("churn",):
        want = drivers(log, outcome, cutoff=cut).table
        assert_same_frame(drivers(renamed, outcome, cutoff=cut).table, want)
    # After each customer's first purchase: only the outcome may know of it.
    first = log[log["event"] == "purchase"].groupby("customer_id")["timestamp"].min()
    later = log["timestamp"] > log["customer_id"].map(first)
    renamed = log.assign(
        event=log["event"].where(~later, "after_" + log["event"]),
        channel=log["channel"].where(~later, "after"),
    )
    want = drivers(log, "conversion").table
    assert_same_frame(drivers(renamed, "conversion").table, want)


def _presence(log: pd.DataFrame, before: pd.Timestamp, people: pd.Index) -> pd.DataFrame:
    """Customers x events, 1 when done before ``before``: the features read literally."""
    rows = log[(log["timestamp"] < before) & log["customer_id"].isin(people)]
    return pd.crosstab(rows["customer_id"], rows["event"]).clip(upper=1).reindex(people).fillna(0)


@pytest.mark.parametrize(
    ("settings", "recipe"),
    [
        ({"cutoff": "2024-09-01", "horizon": "60D"}, None),
        ({}, FeatureRecipe(definition="event", churn_event="cancellation", cutoff="2024-08-01")),
    ],
)
def test_churn_is_the_churn_datasets_population_and_label(settings, recipe):
    sim = jl.simulate(1500, seed=2)
    dataset = build_dataset(sim.events, recipe=recipe, **settings)
    found = drivers(sim.events, "churn", recipe=recipe, properties=[], **settings)
    y = dataset.y
    assert (found.customers, found.with_outcome) == (len(y), int(y.sum()))
    assert found.rule.startswith(dataset.recipe.rule)
    presence = _presence(sim.events, dataset.report.cutoff, y.index)
    table = found.table.set_index("value")
    for event in presence.columns:
        has = presence[event].to_numpy() == 1
        assert table.loc[event, "customers_with"] == has.sum()
        assert table.loc[event, "rate_with"] == pytest.approx(y[has].mean())


def test_a_profile_and_a_models_recipe_give_the_churn_datasets_settings():
    sim = jl.simulate(1500, seed=2)
    profile = jl.profile(sim.events)
    dataset = build_dataset(sim.events, profile=profile)
    found = drivers(sim.events, "churn", profile=profile)
    assert (found.customers, found.with_outcome) == (len(dataset.y), int(dataset.y.sum()))
    # The recipe wins; the profile then gives only the cutoff and the properties.
    again = drivers(sim.events, "churn", profile=profile, recipe=dataset.recipe)
    assert_same_frame(again.table, found.table)
    # The profile's property (the review's rating) is a feature, with the channel.
    assert {"event", "channel", "rating"} <= set(found.table["feature"])


@pytest.fixture(scope="module")
def planted():
    """Enough simulated customers for the planted effects to show (seed fixed)."""
    sim = jl.simulate(40_000, seed=1)
    later = {"cutoff": "2024-10-01", "customer_columns": ["segment", "plan", "region"]}
    settings = {
        "conversion": {"customer_columns": ["segment", "region", "acquisition_channel"]},
        "churn": later,
        "advocacy": later,
    }
    tables = {
        outcome: drivers(sim.events, outcome, customers=sim.customers, **given).table
        for outcome, given in settings.items()
    }
    return sim, {k: v.set_index(["feature", "value"]) for k, v in tables.items()}


def _direction(table: pd.DataFrame, feature: str, value: str) -> str:
    row = table.loc[(feature, value)]
    if row["p_adjusted"] >= 0.05:
        return "none"
    return "up" if row["odds_ratio"] > 1 else "down"


def test_the_planted_drivers_of_conversion_come_out(planted):
    sim, tables = planted
    table = tables["conversion"]
    lifts = sim.params.channel_lift
    for channel in ("referral", "search", "store", "email"):
        assert _direction(table, "channel", channel) == "up", channel
    # The seven marketing channels line up as their planted lifts do.
    ratios = pd.Series({c: table.loc[("channel", c), "odds_ratio"] for c in lifts})
    assert ratios.rank().corr(pd.Series(lifts).rank(), method="spearman") > 0.9


def test_the_planted_drivers_of_churn_come_out(planted):
    _, tables = planted
    table = tables["churn"]
    # Experiences that erode trust, and the segment and plan effects (log hazard ratios).
    for feature, value in [
        ("event", "delivery_late"),
        ("event", "support_ticket"),
        ("event", "surprise_fee"),
        ("segment", "consumer"),
        ("plan", "basic"),
    ]:
        assert _direction(table, feature, value) == "up", value
    for feature, value in [
        ("event", "thank_you"),
        ("event", "personalised_offer"),
        ("segment", "enterprise"),
        ("plan", "premium"),
    ]:
        assert _direction(table, feature, value) == "down", value
    # Not asserted, and why (associations, not causes): an unwanted contact costs little
    # trust yet comes with ordering more, which goes with staying; a resolved ticket
    # implies a ticket, which a late delivery brought.


def test_the_planted_drivers_of_advocacy_come_out(planted):
    _, tables = planted
    table = tables["advocacy"]
    for value in ("delivery_late", "surprise_fee", "support_ticket"):
        assert _direction(table, "event", value) == "down", value
    assert _direction(table, "event", "thank_you") == "up"
    assert (
        table.loc[("event", "personalised_offer"), "odds_ratio"]
        > table.loc[("event", "generic_offer"), "odds_ratio"]
    )


def test_region_has_no_planted_effect_and_passes_no_corrected_threshold(planted):
    _, tables = planted
    for outcome, table in tables.items():
        regions = table.loc["region"]
        assert len(regions) == 4 and regions["tested"].all(), outcome
        assert (regions["p_adjusted"] >= 0.05).all(), (outcome, regions["p_adjusted"])


def _platform_log(n: int, seed: int) -> tuple[jl.Simulation, pd.DataFrame]:
    """A simulated log with a platform that changes over a customer's life (web or app on
    site visits)."""
    sim = jl.simulate(n, seed=seed)
    events = sim.events
    platform = events["channel"].where(events["channel"].isin(["web", "app"]))
    events = events.assign(platform=platform)
    return sim, events


@pytest.mark.parametrize(
    ("outcome", "settings"),
    [
        ("conversion", {}),
        ("churn", {"cutoff": "2024-09-01"}),
        ("advocacy", {"cutoff": "2024-09-01"}),
    ],
)
def test_each_segments_block_is_that_segment_run_alone(outcome, settings):
    sim, events = _platform_log(3000, 7)
    settings = {**settings, "min_customers": 20, "data_end": events["timestamp"].max()}
    if outcome == "conversion":
        # Named, so that a segment alone without a purchase is the data error below (the
        # fallback without a profile would ask for the event instead).
        settings = {**settings, "conversion": "purchase"}
    for by in ("platform", Segments("segment", customers=sim.customers)):
        found = drivers(events, outcome, by=by, **settings).table
        column = "platform" if by == "platform" else "segment"
        assert list(found.columns) == [column, *COLUMNS]
        people = jl.customer_segments(events, by)
        for value, block in found.groupby(column, sort=True):
            alone = events[
                events["customer_id"].isin(people["customer_id"][people[column] == value])
            ]
            try:
                want = drivers(alone, outcome, **settings).table
            except JourneyDataError:
                # Alone, the segment has nothing to compare (customers who never visited
                # never bought): in a breakdown its block is there, untested.
                assert not block["tested"].any()
                continue
            assert_same_frame(block.drop(columns=column).reset_index(drop=True), want)


def test_a_crossing_and_the_other_bucket():
    sim, events = _platform_log(2000, 8)
    by = Segments(("platform", "segment"), customers=sim.customers, top=3)
    found = drivers(events, "conversion", by=by, min_customers=10).table
    assert list(found.columns[:2]) == ["platform", "segment"]
    blocks = found[["platform", "segment"]].drop_duplicates()
    assert len(blocks) == 4 and (OTHER, OTHER) in set(map(tuple, blocks.to_numpy()))
    people = jl.customer_segments(events, by)
    others = people.loc[people["platform"] == OTHER, "customer_id"]
    want = drivers(
        events[events["customer_id"].isin(others)],
        "conversion",
        min_customers=10,
        data_end=events["timestamp"].max(),
    ).table
    got = found[found["platform"] == OTHER].drop(columns=["platform", "segment"])
    assert_same_frame(got.reset_index(drop=True), want)
    # Sorted by the segment columns, then tested first within each block.
    keys = list(map(tuple, found[["platform", "segment"]].to_numpy()))
    assert keys == sorted(keys)


def test_at_cutoff_reads_the_segment_when_the_outcome_window_opens():
    _, events = _platform_log(1500, 9)
    settings = {"cutoff": "2024-09-01", "min_customers": 20}
    found = drivers(events, "churn", by="platform", by_rule="at_cutoff", **settings)
    spec = Segments("platform", rule="at_cutoff", cutoff="2024-09-01")
    assert_same_frame(found.table, drivers(events, "churn", by=spec, **settings).table)
    assert found.by == ("platform",)
    assert "[platform=" in found.summary(alpha=1.0)
    # Conversion has no cutoff to read at: the rule needs one.
    with pytest.raises(JourneyParameterError, match="needs the cutoff"):
        drivers(events, "conversion", by="platform", by_rule="at_cutoff")


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_pandas_answer(engine):
    sim, events = _platform_log(400, 5)
    customers = sim.customers[["customer_id", "segment", "region", "plan"]]
    for outcome, settings in [
        ("conversion", {}),
        ("churn", {"cutoff": "2024-09-01"}),
        ("advocacy", {"cutoff": "2024-09-01"}),
    ]:
        settings = {**settings, "customers": customers, "by": "platform", "min_customers": 5}
        want = drivers(events, outcome, **settings)
        got = drivers(to_engine(events, engine), outcome, **{**settings, "customers": customers})
        assert_same_frame(got.table, want.table)
        assert (got.customers, got.with_outcome, got.rule) == (
            want.customers,
            want.with_outcome,
            want.rule,
        )
    # A customer table of the log's own engine.
    native = to_engine(customers, engine)
    got = drivers(to_engine(events, engine), "conversion", customers=native, min_customers=5)
    want = drivers(events, "conversion", customers=customers, min_customers=5)
    assert_same_frame(got.table, want.table)


def test_pyspark_gives_the_pandas_answer(spark):
    sim, events = _platform_log(300, 5)
    customers = sim.customers[["customer_id", "segment", "region"]]
    for outcome, settings in [("conversion", {}), ("churn", {"cutoff": "2024-09-01"})]:
        settings = {**settings, "customers": customers, "by": "platform", "min_customers": 5}
        want = drivers(events, outcome, **settings).table
        got = drivers(to_engine(events, "pyspark", spark), outcome, **settings).table
        assert_same_frame(got, want)


def test_a_real_clickstream():
    path = shared_file("events", "ecom_clickstream.csv.gz")
    profile = jl.profile(path)
    log = profile.read(path).clean
    found = drivers(log, "conversion", profile=profile)
    table = found.table
    assert found.with_outcome > 0 and found.customers <= log["customer_id"].nunique()
    assert "purchase" not in set(table.loc[table["feature"] == "event", "value"])
    assert {"platform", "user_lifecycle"} <= set(table["feature"])
    tested = table[table["tested"]]
    assert len(tested) and tested["p_adjusted"].between(0, 1).all()
    assert (tested["ci_low"] <= tested["odds_ratio"]).all()
    assert (tested["odds_ratio"] <= tested["ci_high"]).all()
    churn = drivers(log, "churn", profile=profile)
    dataset = build_dataset(log, profile=profile)
    assert (churn.customers, churn.with_outcome) == (len(dataset.y), int(dataset.y.sum()))
    # The clickstream has no review or referral: advocacy cannot be read from it.
    with pytest.raises(JourneyParameterError, match="no advocacy events"):
        drivers(log, "advocacy", profile=profile)
    assert "associations, not causes" in found.summary()


def _only_with_signup() -> pd.DataFrame:
    """40 visitors on day 0: 1-20 sign up on day 1 and 1-10 of them buy on day 2; 21-30
    chat on day 1 and none of them buys. Only signed-up customers buy: signup's lift is
    infinite, chat's is 0, and visit (everyone's) has no rate without it."""
    rows = [_rows(c, 0, "visit") for c in range(1, 41)]
    rows += [_rows(c, 1, "signup") for c in range(1, 21)]
    rows += [_rows(c, 1, "chat") for c in range(21, 31)]
    rows += [_rows(c, 2, "purchase") for c in range(1, 11)]
    return pd.DataFrame(rows)


def test_an_infinite_lift_is_documented_and_never_shown_raw():
    found = drivers(_only_with_signup(), "conversion", window=None, min_customers=5)
    table = found.table
    signup, chat, visit = (_row(table, "event", e) for e in ("signup", "chat", "visit"))
    assert (signup["rate_with"], signup["rate_without"]) == (0.5, 0.0)
    assert signup["lift"] == np.inf
    assert chat["lift"] == 0 and chat["rate_without"] == pytest.approx(10 / 30)
    assert np.isnan(visit["lift"]) and np.isnan(visit["rate_without"])
    # The odds ratio stays finite (Haldane-Anscombe): 10.5 * 20.5 / (10.5 * 0.5).
    assert signup["odds_ratio"] == pytest.approx(41.0)

    shown = found.formatted()
    assert list(shown.columns) == [
        "driver",
        "customers with",
        "customers without",
        "rate with",
        "rate without",
        "lift",
        "odds ratio",
        "adjusted p",
    ]
    lifts = dict(zip(shown["driver"], shown["lift"], strict=True))
    assert lifts["signup"] == "only with it"
    assert lifts["chat"] == "only without it"
    assert lifts["visit"] == "–"
    assert lifts["channel = web"] == "–"  # everyone came on the web
    row = shown.set_index("driver").loc["signup"]
    assert row.tolist() == [
        "20",
        "20",
        "50.0%",
        "0.0%",
        "only with it",
        row["odds ratio"],
        row["adjusted p"],
    ]
    assert row["odds ratio"].startswith("41.0 (")
    assert shown.set_index("driver").loc["visit", "odds ratio"] == "–"
    summary = found.summary()
    assert "signup: 50.0% of 20 customers with it, 0.0% without (lift only with it;" in summary
    for text in (shown.to_string(), summary):
        assert "inf" not in text and "nan" not in text.lower()
    # A finite lift is written as a multiple; the first rows of each segment with n.
    hand = drivers(_hand_log(), "conversion", window=None, min_customers=4)
    whole = hand.formatted()
    assert whole.set_index("driver").loc["promo", "lift"] == f"{(30 / 50) / (25 / 70):.2f}×"
    assert_same_frame(hand.formatted(n=3), whole.head(3))
    by = drivers(
        _only_with_signup().assign(plan=lambda t: np.where(t["customer_id"] % 2, "a", "b")),
        "conversion",
        window=None,
        min_customers=2,
        by="plan",
    )
    shown = by.formatted(n=2)
    assert shown.columns[0] == "plan" and shown.groupby("plan").size().to_dict() == {"a": 2, "b": 2}


def test_formatted_with_min_cell_leaves_out_rows_with_a_small_cell():
    # The hand log's 2x2 tables (with it: outcome / none; without it: outcome / none):
    # visit and channel = web, everyone's: 55 / 65, 0 / 0; promo and channel = email:
    # 30 / 20, 25 / 45; chat and channel = support: 3 / 1, 52 / 64.
    found = drivers(_hand_log(), "conversion", window=None, min_customers=4)
    whole = found.formatted()
    assert set(whole["driver"]) == {
        "visit",
        "promo",
        "chat",
        "channel = web",
        "channel = email",
        "channel = support",
    }
    named = {"visit", "channel = web", "promo", "channel = email"}
    for k, kept in (
        (0, set(whole["driver"])),
        (2, named),  # chat's one customer without the outcome is a cell from 1 to k - 1
        (21, {"visit", "channel = web"}),  # promo's 20 without the outcome
        (55, {"visit", "channel = web"}),
        (56, set()),  # visit's 55 buyers
    ):
        shown = found.formatted(min_cell=k)
        assert set(shown["driver"]) == kept, k
        # The rows kept keep the table's order and their text.
        assert_same_frame(
            shown.reset_index(drop=True),
            whole[whole["driver"].isin(kept)].reset_index(drop=True),
        )
        assert found.without_small_cells(k).table["value"].tolist() == [
            v
            for f, v in zip(found.table["feature"], found.table["value"], strict=True)
            if (v if f == "event" else f"{f} = {v}") in kept
        ]
    # n counts the rows shown, after those left out.
    first = found.formatted(min_cell=5).head(2).reset_index(drop=True)
    assert_same_frame(found.formatted(2, min_cell=5), first)
    # A row hidden is left out, not masked: its place among rows sorted by effect would
    # bound its odds ratio. Nothing of chat remains in the text.
    text = found.formatted(min_cell=5).to_string()
    assert "chat" not in text and "support" not in text
    assert found.without_small_cells(0) is found


def test_the_conversion_event_without_a_profile():
    log = _hand_log()
    # No profile and no conversion=: "purchase", the documented fallback, when the log has it.
    found = drivers(log, "conversion", window=None, min_customers=4)
    assert found.rule.startswith("a 'purchase' at any time")
    # A log that calls it something else is refused, naming what to pass...
    ordered = log.assign(event=log["event"].replace({"purchase": "order"}))
    with pytest.raises(
        JourneyParameterError,
        match=r"pass conversion='<event>' or profile=jl.profile\(events\).*no 'purchase' event; "
        r"its events are \['chat', 'delivery', 'order', 'promo', 'visit'\]",
    ):
        drivers(ordered, "conversion", window=None, min_customers=4)
    # ... and either way of naming it gives the same table as "purchase" did.
    for named in (
        {"conversion": "order"},
        {"profile": jl.LogProfile(conversion="order", properties=())},
    ):
        again = drivers(ordered, "conversion", window=None, min_customers=4, **named)
        assert_same_frame(again.table, found.table)
        assert again.rule == found.rule.replace("'purchase'", "'order'")
    # A profile is never second-guessed: without a conversion event it is refused, though
    # the log has "purchase".
    with pytest.raises(JourneyParameterError, match="profile names no conversion event"):
        drivers(log, "conversion", profile=jl.LogProfile(conversion=None))


def test_bad_input_is_named():
    log = _hand_log()
    with pytest.raises(JourneyParameterError, match="outcome must be one of"):
        drivers(log, "loyalty")
    with pytest.raises(JourneyParameterError, match="profile names no conversion event"):
        drivers(log, "conversion", profile=jl.LogProfile(conversion=None))
    with pytest.raises(JourneyDataError, match=r"conversion='order' never occurs.*'chat'"):
        drivers(log, "conversion", conversion="order")
    with pytest.raises(JourneyParameterError, match="cutoff= does not apply"):
        drivers(log, "conversion", cutoff="2024-01-02")
    with pytest.raises(JourneyParameterError, match="window= does not apply"):
        drivers(log, "churn", cutoff="2024-01-02", window="7D")
    with pytest.raises(JourneyParameterError, match="advocacy_events= does not apply"):
        drivers(log, "churn", cutoff="2024-01-02", advocacy_events=["review"])
    with pytest.raises(JourneyParameterError, match="give a cutoff"):
        drivers(log, "churn")
    with pytest.raises(JourneyDataError, match="cutoff 2025-03-01 00:00 lies outside the log"):
        drivers(log, "churn", cutoff="2025-03-01")
    with pytest.raises(JourneyDataError, match="horizon runs to"):
        drivers(log, "churn", cutoff="2024-01-02", horizon="30D")
    with pytest.raises(JourneyParameterError, match="recipe must be a FeatureRecipe"):
        drivers(log, "churn", cutoff="2024-01-02", recipe={"horizon": "1D"})
    with pytest.raises(JourneyDataError, match="advocacy_events names"):
        drivers(log, "advocacy", cutoff="2024-01-04", horizon="1D", advocacy_events="review")
    with pytest.raises(JourneyDataError, match="none of the default advocacy events"):
        drivers(log, "advocacy", cutoff="2024-01-04", horizon="1D")
    with pytest.raises(JourneyDataError, match=r"properties names 'platform'.*has \["):
        drivers(log, "conversion", properties=["platform"])
    with pytest.raises(JourneyParameterError, match="properties names 'event', a key"):
        drivers(log, "conversion", properties=["event"])
    with pytest.raises(JourneyDataError, match="'tier', whose column holds no value"):
        drivers(log.assign(tier=None), "conversion", properties=["tier"])
    with pytest.raises(JourneyParameterError, match="customer_columns needs a customer table"):
        drivers(log, "conversion", customer_columns=["segment"])
    with pytest.raises(JourneyDataError, match=r"every one of the 5 customers"):
        drivers(log[log["customer_id"] <= 5], "conversion", window=None)
    with pytest.raises(JourneyDataError, match=r"none of the 70 customers"):
        drivers(log[log["customer_id"] > 50], "conversion", window="1D")
    with pytest.raises(JourneyDataError, match="every customer's window ends after the log"):
        drivers(log, "conversion", window="30D")
    with pytest.raises(JourneyParameterError, match="min_customers must be a whole number"):
        drivers(log, "conversion", min_customers=0)
    with pytest.raises(JourneyParameterError, match="confidence must be between 0 and 1"):
        drivers(log, "conversion", confidence=95)
    with pytest.raises(JourneyDataError, match="data_end 2024-01-02 00:00 is before"):
        drivers(log, "conversion", data_end="2024-01-02")


def test_bad_breakdowns_are_named():
    log = _hand_log().assign(tier=None, plan="basic")
    with pytest.raises(JourneyDataError, match=r"by='platform': the log has no such column"):
        drivers(log, "conversion", window=None, by="platform")
    with pytest.raises(JourneyDataError, match=r"by='tier'.*holds no value"):
        drivers(log, "conversion", window=None, by="tier")
    with pytest.raises(JourneyParameterError, match=r"by='feature' would clash"):
        drivers(log.assign(feature="x"), "conversion", window=None, by="feature")
    with pytest.raises(JourneyParameterError, match="by_rule must be one of"):
        drivers(log, "conversion", window=None, by="plan", by_rule="middle")
    crossed = drivers(log, "conversion", window=None, by=["plan", "channel"], min_customers=4)
    assert set(crossed.table["plan"]) == {"basic"} and set(crossed.table["channel"]) == {"web"}
