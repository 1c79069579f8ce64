"""Point-in-time churn datasets: hand-computed features and labels, no leakage, any engine."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.churn import FeatureRecipe, build_dataset
from tests.engines import ENGINES, assert_same_frame, to_engine

T0 = pd.Timestamp("2024-01-01", tz="UTC")
CUT = T0 + pd.Timedelta(days=100)


def log(*rows):
    """A log from (customer, day, event, channel) rows; days may be fractional."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event", "channel"])
    frame["timestamp"] = T0 + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["value"] = np.where(frame["event"] == "purchase", 10.0, np.nan)
    return frame[["customer_id", "timestamp", "event", "channel", "value"]]


SMALL = log(
    # 1: bought on day 10, two tickets, one resolved, active at the cutoff and after it.
    (1, 10, "purchase", "web"),
    (1, 93, "support_ticket", "support"),
    (1, 94, "support_ticket", "support"),
    (1, 95, "ticket_resolved", "support"),
    (1, 95, "site_visit", "web"),
    (1, 110, "site_visit", "web"),
    # 2: bought on day 80; an event exactly at the cutoff is after it: no feature, label 0.
    (2, 80, "purchase", "store"),
    (2, 100, "site_visit", "web"),
    # 3: never bought: not acquired.
    (3, 90, "site_visit", "web"),
    # 4: bought on day 20, silent for 80 days before the cutoff: already churned.
    (4, 20, "purchase", "web"),
    (4, 105, "site_visit", "web"),
    # 5: buys only after the labels end: not in the population at all.
    (5, 150, "purchase", "web"),
    # 6: bought half a day before the cutoff and never came back: churned.
    (6, 99.5, "purchase", "app"),
    # Someone active to the end of the log, so that it reaches the label window's end.
    (7, 200, "site_visit", "web"),
)


def small(**options):
    options = {"cutoff": CUT, "horizon": "30D", "inactivity": "30D", "windows": ("7D", "30D")}
    return build_dataset(SMALL, **options)


def test_population_and_labels_by_inactivity():
    X, y = dataset = small()
    # Active at the cutoff = an event in [day 70, day 100); churned = none in [100, 130).
    assert X.index.tolist() == [1, 2, 6]
    assert y.tolist() == [0, 0, 1]
    assert y.name == "churned"
    report = dataset.report
    assert (report.not_acquired, report.already_churned, report.included) == (1, 1, 3)
    assert report.customers_in_log == 5  # 5 and 7 appear only after the labels end
    assert report.churned == 1
    assert report.churn_rate == pytest.approx(1 / 3)
    assert "3 customers, 1 churned" in report.summary()


def test_hand_computed_features():
    X, _ = small()
    one = X.loc[1]
    assert one["events_total"] == 5
    assert one["recency_days"] == pytest.approx(5)
    assert one["tenure_days"] == pytest.approx(90)
    # Days 93 (exactly 7 days before: inside), 94, 95, 95 are in the 7-day window.
    assert one["events_7D"] == 4 and one["events_30D"] == 4
    assert one["event_support_ticket_7D"] == 2 and one["event_purchase_30D"] == 0
    assert one["channel_support_7D"] == 3 and one["channel_web_30D"] == 1
    assert one["trend_events"] == pytest.approx(4)  # 4 - (4 - 4) * 7 / 23
    assert (one["tickets"], one["unresolved_tickets"]) == (2, 1)
    assert one["channels_used"] == 2
    assert one["stage_reached"] == 4  # support tickets are Retention, the fourth stage
    assert one["value_total"] == 10
    assert (one["rfm_frequency"], one["rfm_recency"], one["rfm_T"]) == (0, 0, 90)
    two = X.loc[2]
    # Its site visit at the cutoff itself is not a feature.
    assert two["events_total"] == 1 and two["event_site_visit_30D"] == 0
    assert two["recency_days"] == pytest.approx(20)
    assert two["events_7D"] == 0 and two["events_30D"] == 1
    assert two["trend_events"] == pytest.approx(-7 / 23)
    six = X.loc[6]
    assert six["recency_days"] == pytest.approx(0.5)
    assert six["rfm_T"] == 1  # daily periods: day 99 to day 100
    assert six["channels_used"] == 1 and six["stage_reached"] == 3


def test_labels_by_churn_event():
    events = pd.concat(
        [SMALL, log((1, 120, "cancellation", "web"), (2, 50, "cancellation", "web"))]
    )
    X, y = dataset = build_dataset(
        events,
        cutoff=CUT,
        horizon="30D",
        definition="event",
        churn_event="cancellation",
        windows=("7D", "30D"),
    )
    # 2 cancelled before the cutoff (already churned); 1 cancels within the horizon; with
    # no inactivity rule 4 stays in, despite its silence.
    assert X.index.tolist() == [1, 4, 6]
    assert y.tolist() == [1, 0, 0]
    assert dataset.report.already_churned == 1


def test_acquisition_by_any_event():
    X, _ = build_dataset(SMALL, cutoff=CUT, horizon="30D", inactivity="30D", acquisition_event=None)
    assert X.index.tolist() == [1, 2, 3, 6]


SIM = jl.simulate(600, seed=11)
SIM_CUT = pd.Timestamp("2024-08-15", tz="UTC")


def test_no_leakage_whatever_happens_after_the_cutoff():
    events = SIM.events
    later = events["timestamp"] >= SIM_CUT
    end = events["timestamp"].max()
    base = build_dataset(events, cutoff=SIM_CUT, data_end=end)
    rng = np.random.default_rng(0)
    changed = events.copy()
    names = events["event"].unique()
    changed.loc[later, "event"] = rng.choice(names, later.sum())
    changed.loc[later, "value"] = rng.normal(100, 50, later.sum())
    changed.loc[later, "channel"] = "somewhere_new"
    shift = pd.to_timedelta(rng.integers(0, 86_400, later.sum()), unit="s")
    changed.loc[later, "timestamp"] = events.loc[later, "timestamp"] + shift
    deleted = events[~later]
    for variant in (changed, deleted):
        X, _ = build_dataset(variant, cutoff=SIM_CUT, data_end=end)
        pd.testing.assert_frame_equal(X, base.X)
    # The labels, which are about the future, do change.
    _, y = build_dataset(deleted, cutoff=SIM_CUT, data_end=end)
    assert y.sum() > base.y.sum()


def test_customer_table_joins_without_identifiers_or_future_dates():
    with pytest.warns(jl.JourneyDataWarning, match="referrer_id"):
        X, _ = build_dataset(SIM.events, cutoff=SIM_CUT, customers=SIM.customers)
    assert "customer_referrer_id" not in X.columns
    assert {"customer_segment", "customer_plan", "customer_region"} <= set(X.columns)
    seen = SIM.customers.set_index("customer_id").loc[X.index, "first_seen"]
    expected = (SIM_CUT - seen) / pd.Timedelta(days=1)
    np.testing.assert_allclose(X["customer_first_seen_days_before"], expected)
    assert (X["customer_first_seen_days_before"] >= 0).all()


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_engines_give_the_pandas_dataset(engine):
    X, y = build_dataset(SIM.events, cutoff=SIM_CUT)
    X2, y2 = build_dataset(to_engine(SIM.events, engine), cutoff=SIM_CUT)
    assert list(X2.columns) == list(X.columns)
    # To the bit (spend is summed exactly), so that every engine trains the same model.
    assert_same_frame(X2.reset_index(), X.reset_index(), rtol=0)
    pd.testing.assert_series_equal(y2, y)


def test_spark_gives_the_pandas_dataset(spark):
    events = SIM.events.drop(columns=["referred_id"])
    X, y = build_dataset(events, cutoff=SIM_CUT)
    X2, y2 = build_dataset(to_engine(events, "pyspark", spark), cutoff=SIM_CUT)
    assert_same_frame(X2.reset_index(), X.reset_index(), rtol=0)
    pd.testing.assert_series_equal(y2, y)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cutoff": "2023-01-01"}, "outside the log"),
        ({"cutoff": "2030-01-01"}, "outside the log"),
        ({"cutoff": T0 + pd.Timedelta(days=180)}, "log ends at"),
        ({"cutoff": CUT, "definition": "event"}, "needs churn_event"),
        ({"cutoff": CUT, "definition": "lapse"}, "definition must be one of"),
        ({"cutoff": CUT, "horizon": "soon"}, "not a duration"),
        ({"cutoff": CUT, "windows": ("30D", "7D")}, "shortest first"),
        ({"cutoff": CUT, "acquisition_event": "order"}, "acquisition_event='order'"),
        ({"cutoff": T0 + pd.Timedelta(days=12), "inactivity": "1D"}, "no customer is acq"),
    ],
)
def test_bad_input_is_named(options, message):
    with pytest.raises(jl.JourneyError, match=message):
        build_dataset(SMALL, **{"horizon": "30D", "inactivity": "30D", **options})


def test_empty_log_is_an_error():
    with pytest.raises(jl.JourneyDataError, match="empty"):
        build_dataset(SMALL.iloc[:0], cutoff=CUT)


def test_unknown_churn_event_warns_and_labels_nobody():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(jl.JourneyDataWarning, match="never occurs"):
            build_dataset(SMALL, cutoff=CUT, horizon="30D", definition="event", churn_event="quit")


# ----------------------------------------------------------------------------- the recipe


def test_the_recipe_records_what_was_applied_and_rebuilds_the_dataset():
    events = pd.concat([SMALL, log((1, 120, "cancellation", "web"))])
    options = {"horizon": "30D", "definition": "event", "churn_event": "cancellation"}
    dataset = build_dataset(events, cutoff=CUT, windows=["7D", "30D"], **options)
    recipe = dataset.recipe
    assert recipe == FeatureRecipe(cutoff=CUT, windows=("7D", "30D"), **options)
    assert recipe.cutoff == CUT and recipe.customers is False
    assert recipe.acquisition_event == "purchase" and recipe.framework == "customer_journey"
    assert (
        dataset.report.rule == recipe.rule == "a 'cancellation' event within 30D after the cutoff"
    )
    # The recipe alone builds the same dataset; at another cutoff, what the options build.
    again = build_dataset(events, recipe=recipe)
    pd.testing.assert_frame_equal(again.X, dataset.X)
    pd.testing.assert_series_equal(again.y, dataset.y)
    later = T0 + pd.Timedelta(days=110)
    moved = build_dataset(events, cutoff=later, recipe=recipe)
    spelled = build_dataset(events, cutoff=later, windows=["7D", "30D"], **options)
    pd.testing.assert_frame_equal(moved.X, spelled.X)
    pd.testing.assert_series_equal(moved.y, spelled.y)
    assert moved.recipe == dataclasses.replace(recipe, cutoff=later)
    # Scoring features are the dataset's features, with the same recipe.
    scoring = jl.churn.build_features(events, recipe=recipe)
    pd.testing.assert_frame_equal(scoring.X, dataset.X)
    assert scoring.recipe == recipe


def test_options_passed_beside_a_recipe_win_even_at_their_default():
    recipe = small().recipe  # inactivity 30D, horizon 30D, windows 7D and 30D
    assert build_dataset(SMALL, recipe=recipe, horizon="60D").recipe.horizon == "60D"
    assert build_dataset(SMALL, recipe=recipe, inactivity="90D").recipe.inactivity == "90D"
    kept = build_dataset(SMALL, recipe=recipe)
    assert (kept.recipe.inactivity, kept.recipe.windows) == ("30D", ("7D", "30D"))


def test_the_recipe_is_plain_values_that_read_back():
    stages = {"Aware": ["site_visit"], "Buy": ["purchase"]}
    framework = jl.StageFramework.from_mapping(stages)
    recipe = FeatureRecipe(
        horizon=dt.timedelta(days=60), windows=[pd.Timedelta("7D"), "30D"], framework=framework
    )
    values = recipe.to_dict()
    assert json.loads(json.dumps(values)) == values
    assert values["horizon"] == "60 days 00:00:00"
    assert values["windows"] == ["7 days 00:00:00", "30D"]
    assert values["framework"] == {"name": "custom", "stages": stages, "repeat": {}}
    assert values["cutoff"] is None
    assert FeatureRecipe.from_dict(values) == recipe
    applied = build_dataset(SMALL, cutoff=CUT, inactivity="30D", recipe=recipe).recipe
    assert FeatureRecipe.from_dict(json.loads(json.dumps(applied.to_dict()))) == applied
    assert applied.to_dict()["cutoff"] == "2024-04-10T00:00:00+00:00"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"definition": "lapse"}, "definition must be one of"),
        ({"definition": "event"}, "needs churn_event"),
        ({"horizon": "soon"}, "horizon='soon' is not a duration"),
        ({"inactivity": "-3D"}, "inactivity must be a positive duration"),
        ({"windows": ("30D", "7D")}, "shortest first"),
        ({"windows": "30D"}, "non-empty sequence"),
        ({"framework": "spiral"}, "unknown stage framework 'spiral'"),
        ({"cutoff": "someday"}, "cutoff='someday' is not a date"),
        ({"customers": "yes"}, "customers must be True or False"),
    ],
)
def test_a_recipe_is_checked_when_made(settings, message):
    with pytest.raises(jl.JourneyParameterError, match=message):
        FeatureRecipe(**settings)


def test_a_recipe_is_used_as_it_says():
    with pytest.raises(jl.JourneyParameterError, match="no setting 'colour'"):
        FeatureRecipe.from_dict({"colour": "red"})
    with pytest.raises(jl.JourneyParameterError, match="recipe must be a FeatureRecipe"):
        build_dataset(SMALL, cutoff=CUT, recipe={"horizon": "30D"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.JourneyDataWarning)  # referrer_id is dropped
        joined = build_dataset(SIM.events, cutoff=SIM_CUT, customers=SIM.customers).recipe
    assert joined.customers is True
    with pytest.raises(jl.JourneyParameterError, match="built with a customer table"):
        jl.churn.build_features(SIM.events, recipe=joined)
    with pytest.raises(jl.JourneyParameterError, match="give a cutoff"):
        build_dataset(SMALL, recipe=FeatureRecipe())


# ------------------------------------------------- logs with nothing to count in a window


CHANNEL_FEATURES = ["channels_used", "channel_web_7D", "channel_support_30D"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_channel_column_leaves_channel_features_out(engine):
    # An export whose channel column is empty (from_transactions, a CRM without channels)
    # once crashed in numpy ("cannot reshape array of size 0").
    events = SMALL.assign(
        channel=pd.Series([None] * len(SMALL), dtype="str"),
        # DuckDB's nanosecond zoned times are opaque to Narwhals; loaded logs are in us.
        timestamp=SMALL["timestamp"].dt.as_unit("us"),
    )
    options = {"cutoff": CUT, "horizon": "30D", "inactivity": "30D", "windows": ("7D", "30D")}
    X, y = dataset = build_dataset(to_engine(events, engine), **options)
    assert not [c for c in X.columns if c.startswith("channel")]
    assert dataset.report.notes == (
        "no channel features: the log's channel column has no value before the cutoff",
    )
    assert dataset.report.summary().endswith(dataset.report.notes[0])
    # Everything else is what the log with channels gives, counted by hand in
    # test_hand_computed_features.
    with_channels, y_with = small()
    assert set(CHANNEL_FEATURES) <= set(with_channels.columns)
    expected = with_channels.drop(columns=[c for c in with_channels if c.startswith("channel")])
    assert_same_frame(X.reset_index(), expected.reset_index())
    assert y.tolist() == y_with.tolist() == [0, 0, 1]
    one = X.loc[1]
    assert (one["events_7D"], one["event_support_ticket_7D"], one["tickets"]) == (4, 2, 2)
    assert (one["unresolved_tickets"], one["stage_reached"]) == (1, 4)


def test_transactions_without_channels_make_a_dataset(tmp_path):
    # The path from the bug report: a shop's transactions read from CSV with an empty
    # channel column, then turned into a log.
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer,date,amount,channel\n"
        "1,2024-01-11,10.0,\n"
        "1,2024-03-31,25.0,\n"
        "1,2024-04-20,5.0,\n"
        "2,2024-03-21,40.0,\n"
        "2,2024-04-15,-40.0,\n"
        "3,2024-06-01,1.0,\n"
    )
    table, malformed = jl.read_table(path)
    assert malformed == [] and table["channel"].isna().all()
    events = jl.load_events(
        jl.from_transactions(
            table, customer="customer", timestamp="date", amount="amount", channel="channel"
        )
    )
    assert events["channel"].isna().all()
    X, y = dataset = build_dataset(
        events, cutoff=CUT, horizon="30D", inactivity="30D", windows=("7D", "30D")
    )
    # Cutoff day 100 (2024-04-10): 1 bought on days 10 and 90 (and 110: not churned); 2 on
    # day 80 and returned on day 105 (an event in the horizon: not churned).
    assert X.index.tolist() == [1, 2] and y.tolist() == [0, 0]
    assert "no channel features" in dataset.report.summary()
    assert X.loc[1, "events_total"] == 2 and X.loc[1, "value_total"] == 35
    assert X.loc[1, "events_7D"] == 0 and X.loc[1, "events_30D"] == 1
    assert X.loc[1, "recency_days"] == 10 and X.loc[1, "tenure_days"] == 90
    assert X.loc[2, "rfm_frequency"] == 0 and X.loc[2, "rfm_T"] == 20


def test_a_numeric_empty_channel_column_is_not_a_property():
    # pandas reads an empty CSV column as float NaN; it is still the channel, not a number
    # to average.
    events = SMALL.assign(channel=np.nan)
    X, _ = build_dataset(events, cutoff=CUT, horizon="30D", inactivity="30D", windows=("7D", "30D"))
    assert not [c for c in X.columns if c.startswith("channel")]


def test_no_event_within_the_windows():
    # 1's events are 20 and 15 days old at the cutoff, older than the only window.
    events = log((1, 80, "purchase", "web"), (1, 85, "site_visit", "web"), (2, 200, "a", "web"))
    X, y = build_dataset(events, cutoff=CUT, horizon="30D", inactivity="30D", windows=("7D",))
    assert X.index.tolist() == [1] and y.tolist() == [1]
    one = X.loc[1]
    assert (one["events_total"], one["events_7D"], one["trend_events"]) == (2, 0, 0)
    assert (one["recency_days"], one["tenure_days"], one["stage_reached"]) == (15, 20, 3)
    assert one["stage_Purchase_7D"] == 0
    # Counts per event and channel have a column per value seen within the windows: none.
    assert not [c for c in X.columns if c.startswith(("event_", "channel_"))]


def test_no_event_mapped_to_a_stage():
    events = log((1, 80, "zzz_custom", "web"), (1, 95, "zzz_custom", "web"), (2, 200, "x", "web"))
    X, _ = build_dataset(
        events,
        cutoff=CUT,
        horizon="30D",
        inactivity="30D",
        windows=("7D", "30D"),
        acquisition_event=None,
    )
    one = X.loc[1]
    stages = [c for c in X.columns if c.startswith(("stage_", "trend_stage_"))]
    assert len(stages) == 1 + 3 * 5  # stage_reached, 2 windows and a trend per stage
    assert (one[stages] == 0).all()
    assert (one["events_7D"], one["events_30D"], one["event_zzz_custom_30D"]) == (1, 2, 2)
    assert one["trend_events"] == pytest.approx(1 - (2 - 1) * 7 / 23)


def test_the_functions_take_every_setting_of_the_recipe_with_its_default():
    # The settings are spelled in the recipe and in both signatures: they must not drift.
    import dataclasses
    import inspect

    settings = {
        field.name: field.default
        for field in dataclasses.fields(jl.churn.FeatureRecipe)
        if field.name not in ("cutoff", "customers")  # arguments of their own
    }
    for function, without in (
        (jl.churn.build_dataset, set()),
        (jl.churn.build_features, {"horizon"}),
    ):
        parameters = inspect.signature(function).parameters
        for name, default in settings.items():
            if name in without:  # scoring has no label, so no horizon
                assert name not in parameters
                continue
            assert name in parameters, f"{function.__name__} lacks {name}"
            given = parameters[name].default
            assert (tuple(given) if isinstance(given, list) else given) == default, name
        assert {"recipe", "cutoff", "customers", "profile"} <= set(parameters)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 6),  # customer
            st.integers(0, 199),  # day
            st.sampled_from(["visit", "purchase", "support_ticket", "review"]),
            st.sampled_from(["web", "app", None]),
        ),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_window_counts_equal_a_brute_force_count(rows, text_ids):
    """Every windowed count is the number of the customer's events (of that name or
    channel) strictly before the cutoff and at most the window's length before it."""
    # Customer 9 spans the log, so that the cutoff and its horizon lie inside it.
    rows = [*rows, (9, 0, "visit", "web"), (9, 212, "visit", "web")]
    log = pd.DataFrame(rows, columns=["customer_id", "day", "event", "channel"])
    log["timestamp"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(log.pop("day"), "D")
    if text_ids:
        log["customer_id"] = "c" + log["customer_id"].astype("str")
    cut = pd.Timestamp("2024-04-10", tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.JourneyDataWarning)
        try:
            X, _ = build_dataset(
                log,
                cutoff=cut,
                horizon="30D",
                inactivity="60D",
                windows=["7D", "30D", "90D"],
                acquisition_event=None,
            )
        except jl.JourneyDataError as exc:
            assume("no customer is acquired and still active" not in str(exc))
            raise
    before = log[log["timestamp"] < cut]
    for customer in X.index:
        mine = before[before["customer_id"] == customer]
        for days in (7, 30, 90):
            inside = mine[cut - mine["timestamp"] <= pd.Timedelta(days=days)]
            assert X.loc[customer, f"events_{days}D"] == len(inside)
            for name, count in inside["event"].value_counts().items():
                assert X.loc[customer, f"event_{name}_{days}D"] == count
            for name in set(log["event"]) - set(inside["event"]):
                column = f"event_{name}_{days}D"
                assert column not in X or X.loc[customer, column] == 0
            for name in ("web", "app"):
                column = f"channel_{name}_{days}D"
                count = int((inside["channel"] == name).sum())
                assert X.loc[customer, column] == count if column in X else count == 0


@pytest.mark.parametrize(
    ("churned", "stayed", "n", "kept"),
    [
        (40, 99_960, 20_000, 40),  # rare churn: every churned customer stays in the sample
        (500, 99_500, 20_000, 100),  # the churn share, 0.5%
        (300, 20_001 - 300, 20_000, 300),  # one customer too many: no split error
        (1, 30, 30, 1),  # a label with one customer
    ],
)
def test_a_sample_keeps_the_churn_share_and_enough_of_each_label(churned, stayed, n, kept):
    from journey_lib.churn.dataset import SAMPLE_MIN_CLASS, ChurnDataset

    ids = pd.Index(np.arange(churned + stayed) * 7, name="customer_id")
    y = pd.Series([1] * churned + [0] * stayed, index=ids, name="churned")
    X = pd.DataFrame({"f": np.arange(len(y))}, index=ids)
    part = ChurnDataset(X, y, None, None).sample(n, random_state=3)
    assert len(part.X) == len(part.y) == n
    assert int(part.y.sum()) == max(kept, min(churned, SAMPLE_MIN_CLASS))
    assert part.X.index.is_monotonic_increasing and part.X.index.is_unique
    assert (part.y.index == part.X.index).all() and part.X.index.isin(X.index).all()
    # The same seed, the same customers.
    assert part.X.index.equals(ChurnDataset(X, y, None, None).sample(n, random_state=3).X.index)
