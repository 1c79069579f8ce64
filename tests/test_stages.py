"""Stage frameworks and assign_stages: hand-made logs, every built-in, user mappings, engines."""

import warnings

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pytest
from engines import ENGINES, collect, require_module, to_engine
from hypothesis import given, settings

import journey_lib as jl


def log(*rows):
    """A touchpoint log from (customer, day, event) triples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event"])
    stamps = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(frame.pop("day"), unit="D")
    return frame.assign(timestamp=stamps)[["customer_id", "timestamp", "event"]]


JOURNEY = log(
    (1, 0, "ad_view"),
    (1, 1, "site_visit"),
    (1, 2, "signup"),
    (1, 3, "purchase"),
    (1, 5, "delivery_late"),
    (1, 9, "purchase"),
    (1, 9, "referral"),
    (2, 0, "referral_invite"),
    (2, 4, "purchase"),
    (2, 4, "purchase"),
)


@pytest.mark.parametrize(
    ("framework", "expected"),
    [
        (
            "customer_journey",
            [
                "Awareness",
                "Investigation & Consideration",
                "Investigation & Consideration",
                "Purchase",
                "Retention",
                "Retention",
                "Advocacy & Loyalty",
                "Awareness",
                "Purchase",
                "Purchase",
            ],
        ),
        (
            "business",
            [
                "Reach",
                "Acquire",
                "Acquire",
                "Develop & Nurture",
                "Retention & Service",
                "Retention & Service",
                "Advocacy & Loyalty",
                "Reach",
                "Develop & Nurture",
                "Develop & Nurture",
            ],
        ),
        (
            "decision_journey",
            [
                "Identification of need",
                "Discovery",
                "Discovery",
                "Trial or purchase",
                "Confirmation & reassurance",
                "Assignment of loyalty",
                "Assignment of loyalty",
                "Identification of need",
                "Trial or purchase",
                "Trial or purchase",
            ],
        ),
    ],
)
def test_builtin_frameworks_by_hand(framework, expected):
    staged = jl.assign_stages(JOURNEY, framework)
    assert staged["stage"].tolist() == expected
    # Two purchases at the customer's first purchase time are both first purchases.
    assert staged.columns.tolist() == [*JOURNEY.columns, "stage"]


def test_builtin_stage_names_and_order():
    assert jl.FRAMEWORKS["customer_journey"].stages == (
        "Awareness",
        "Investigation & Consideration",
        "Purchase",
        "Retention",
        "Advocacy & Loyalty",
    )
    assert jl.FRAMEWORKS["business"].stages == (
        "Reach",
        "Acquire",
        "Develop & Nurture",
        "Retention & Service",
        "Advocacy & Loyalty",
    )
    assert jl.FRAMEWORKS["decision_journey"].stages == (
        "Identification of need",
        "Discovery",
        "Evaluation",
        "Trial or purchase",
        "Confirmation & reassurance",
        "Assignment of loyalty",
    )


def test_every_simulated_event_has_a_stage_in_every_framework():
    events = jl.simulate(300, seed=3).events
    for name in jl.FRAMEWORKS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            staged = jl.assign_stages(events, name)
        assert staged["stage"].notna().all(), name


def test_unmapped_events_are_reported_not_guessed():
    odd = log((1, 0, "ad_view"), (1, 1, "hologram"), (2, 0, "hologram"), (2, 1, "smoke"))
    with pytest.warns(jl.JourneyDataWarning, match=r"'hologram' \(2 rows\), 'smoke' \(1 rows\)"):
        staged = jl.assign_stages(odd)
    assert staged["stage"].isna().tolist() == [False, True, True, True]
    with pytest.raises(jl.JourneyDataError, match="2 event type"):
        jl.assign_stages(odd, unmapped="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jl.assign_stages(odd, unmapped="ignore")


def test_user_mappings_stage_to_events_and_event_to_stage():
    by_stage = {"Look": ["ad_view", "site_visit"], "Buy": "purchase"}
    staged = jl.assign_stages(JOURNEY, by_stage, unmapped="ignore")
    assert staged["stage"].fillna("-").tolist()[:4] == ["Look", "Look", "-", "Buy"]
    by_event = {"purchase": "Buy", "ad_view": "Look"}
    assert jl.get_framework(by_event).stages == ("Buy", "Look")
    custom = jl.StageFramework.from_mapping(by_stage, repeat={"purchase": "Look"})
    assert jl.assign_stages(JOURNEY, custom, unmapped="ignore")["stage"].tolist()[5] == "Look"


@pytest.mark.parametrize(
    ("framework", "message"),
    [
        ("journey", "unknown stage framework 'journey'"),
        ({"A": ["x"], "B": ["x"]}, "listed under both 'A' and 'B'"),
        ({}, "at least one stage"),
        (42, "must be a name, a mapping or a StageFramework"),
    ],
)
def test_bad_frameworks_are_explained(framework, message):
    with pytest.raises(jl.JourneyParameterError, match=message):
        jl.assign_stages(JOURNEY, framework)


def test_framework_must_map_to_its_own_stages():
    with pytest.raises(jl.JourneyParameterError, match="not among the stages"):
        jl.StageFramework("x", ("A",), {"e": "B"})


def test_missing_columns_are_named():
    with pytest.raises(jl.JourneyDataError, match=r"\['timestamp'\]"):
        jl.assign_stages(JOURNEY.drop(columns="timestamp"))


def test_polars_and_duckdb_match_pandas_and_stay_their_kind():
    duckdb = require_module("duckdb", "the 'scale' extra")
    events = jl.simulate(200, seed=8).events
    expected = jl.assign_stages(events)
    key = ["customer_id", "timestamp", "event", "stage"]

    def same(result):
        ordered = result[key].sort_values(key[:3], kind="stable").reset_index(drop=True)
        want = expected[key].sort_values(key[:3], kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(ordered, want, check_dtype=False)

    polars_result = jl.assign_stages(pl.from_pandas(events))
    assert isinstance(polars_result, pl.DataFrame)
    same(polars_result.to_pandas())
    lazy = jl.assign_stages(pl.from_pandas(events).lazy())
    assert isinstance(lazy, pl.LazyFrame)
    same(lazy.collect().to_pandas())
    relation = jl.assign_stages(duckdb.from_df(events))
    assert isinstance(relation, duckdb.DuckDBPyRelation)
    same(relation.df())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_framework_that_maps_no_event_places_nothing(engine):
    # A profile that found no roles gives a framework without events: every event unmapped,
    # every stage unreached, on every engine (pandas' replace_strict failed on it).
    sim = jl.simulate(60, seed=2)
    empty = jl.LogProfile()
    staged = collect(
        jl.assign_stages(to_engine(sim.events, engine), profile=empty, unmapped="ignore")
    )
    assert staged["stage"].isna().all() and len(staged) == len(sim.events)
    funnel = collect(
        jl.stage_funnel(to_engine(sim.events, engine), profile=empty, unmapped="ignore")
    )
    assert funnel["customers"].tolist() == [0] * 5
    with pytest.warns(jl.JourneyDataWarning, match="site_visit"):
        jl.assign_stages(sim.events, profile=empty)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([1, 2, 3]),
            st.integers(0, 3),
            st.sampled_from(["ad_view", "purchase", "order", "review", "unknown_event", None]),
        ),
        min_size=1,
        max_size=25,
    ),
    engine=st.sampled_from(ENGINES),
)
def test_every_engine_places_repeats_as_a_hand_rule_does(rows, engine):
    # A lazy log finds each customer's first time per repeated event by a join, an eager
    # one by a window: both are held to the rule worked by hand, ties and gaps included.
    events = log(*rows).assign(value=range(len(rows)))
    fw = jl.get_framework("customer_journey")
    first = {}
    for c, t, e in zip(events["customer_id"], events["timestamp"], events["event"], strict=True):
        if e in fw.repeat:
            first[c, e] = min(first.get((c, e), t), t)
    expected = [
        fw.repeat[e] if e in fw.repeat and t > first[c, e] else fw.events.get(e)
        for c, t, e in zip(events["customer_id"], events["timestamp"], events["event"], strict=True)
    ]
    result = collect(jl.assign_stages(to_engine(events, engine), fw, unmapped="ignore"))
    assert list(result.columns) == [*events.columns, "stage"]
    got = result.sort_values("value")["stage"]
    assert [None if pd.isna(s) else s for s in got] == expected
