"""Segment breakdowns (by=) of transition_matrix, paths, as_matrix and path_flows: a log
worked by hand, each segment's block against the function run on that segment's customers
alone (random logs), every engine, bad input.

Times in the hand-made logs are minutes after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.flows import path_flows
from journey_lib.analytics.paths import END, START, as_matrix, paths, transition_matrix
from journey_lib.analytics.segments import MISSING, OTHER, Segments
from journey_lib.errors import JourneyDataError, JourneyParameterError

BASE = pd.Timestamp("2024-01-01", tz="UTC")


def log(*rows) -> pd.DataFrame:
    """A touchpoint log from (customer, minute, event, platform) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "minute", "event", "platform"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    stamps = BASE + pd.to_timedelta(frame.pop("minute").astype("int64"), unit="min")
    frame.insert(1, "timestamp", stamps.astype("datetime64[us, UTC]"))
    return frame.astype({"event": "str", "platform": "str"})


# 1: a b c, on the web first and the app later; 2: a c on the app; 3: b on the web;
# 4: a a, no platform on any row.
HAND = log(
    (1, 0, "a", "web"),
    (1, 1, "b", None),
    (1, 2, "c", "app"),
    (2, 0, "a", "app"),
    (2, 1, "c", "app"),
    (3, 0, "b", "web"),
    (4, 0, "a", None),
    (4, 1, "a", None),
)


def rows(table, *columns) -> list[tuple]:
    frame = collect(table)
    return list(frame[list(columns)].itertuples(index=False, name=None))


# --- by hand ----------------------------------------------------------------------------


def test_transitions_by_segment_by_hand():
    # First platform: 1 web, 2 app, 3 web, 4 (missing); "(" sorts before letters.
    got = transition_matrix(HAND, normalize=False, by="platform")
    assert list(got.columns) == ["platform", "from", "to", "count"]
    assert rows(got, "platform", "from", "to", "count") == [
        (MISSING, START, "a", 1),
        (MISSING, "a", END, 1),
        (MISSING, "a", "a", 1),
        ("app", START, "a", 1),
        ("app", "a", "c", 1),
        ("app", "c", END, 1),
        ("web", START, "a", 1),
        ("web", START, "b", 1),
        ("web", "a", "b", 1),
        ("web", "b", END, 1),
        ("web", "b", "c", 1),
        ("web", "c", END, 1),
    ]
    # Normalised within the segment: the web's two customers start once each.
    web = transition_matrix(HAND, by="platform").query("platform == 'web'")
    assert rows(web, "from", "to", "probability") == [
        (START, "a", 0.5),
        (START, "b", 0.5),
        ("a", "b", 1.0),
        ("b", END, 0.5),
        ("b", "c", 0.5),
        ("c", END, 1.0),
    ]


def test_paths_by_segment_by_hand():
    got = paths(HAND, max_steps=2, by="platform")
    assert list(got.columns) == ["platform", "path", "count", "share"]
    assert rows(got, "platform", "path", "count", "share") == [
        (MISSING, "a > a", 1, 1.0),
        ("app", "a > c", 1, 1.0),
        ("web", "a > b", 1, 0.5),
        ("web", "b", 1, 0.5),
    ]
    # The last platform puts customer 1 on the app; top=1 keeps each segment's first path.
    last = paths(HAND, max_steps=2, by="platform", by_rule="last", top=1)
    assert rows(last, "platform", "path", "count", "share") == [
        (MISSING, "a > a", 1, 1.0),
        ("app", "a > b", 1, 0.5),
        ("web", "b", 1, 1.0),
    ]
    # One segment kept by name (the web's two customers); customers 2 and 4 are (other).
    folded = paths(HAND, max_steps=2, by="platform", top_segments=1)
    assert rows(folded, "platform", "path", "count") == [
        (OTHER, "a > a", 1),
        (OTHER, "a > c", 1),
        ("web", "a > b", 1),
        ("web", "b", 1),
    ]


def test_path_flows_by_segment_by_hand():
    got = path_flows(HAND, start="a", steps=2, by="platform")
    assert list(got.columns) == ["platform", "step", "source", "target", "count", "share"]
    # Customer 3 never sees "a": the web's flow holds customer 1 alone.
    assert rows(got, "platform", "source", "target", "count", "share") == [
        (MISSING, "a", "a", 1, 1.0),
        ("app", "a", "c", 1, 1.0),
        ("web", "a", "b", 1, 1.0),
    ]


def test_a_customer_table_and_a_cutoff():
    table = pd.DataFrame({"customer_id": [1, 2, 3], "plan": ["pro", "free", "pro"]})
    got = paths(HAND, max_steps=1, by=Segments("plan", customers=table))
    assert rows(got, "plan", "path", "count") == [
        (MISSING, "a", 1),  # customer 4 is not in the table
        ("free", "a", 1),
        ("pro", "a", 1),
        ("pro", "b", 1),
    ]
    # Half a minute in, customers 1 and 3 had been on the web, 2 on the app; 4 on nothing.
    cutoff = BASE + pd.Timedelta(minutes=0.5)
    spec = Segments("platform", rule="at_cutoff", cutoff=cutoff)
    got = transition_matrix(HAND, normalize=False, by=spec)
    assert sorted(set(collect(got)["platform"])) == [MISSING, "app", "web"]
    assert rows(got.query("`from` == @START"), "platform", "to", "count") == [
        (MISSING, "a", 1),
        ("app", "a", 1),
        ("web", "a", 1),
        ("web", "b", 1),
    ]


def test_a_crossing_of_two_columns():
    crossed = HAND.assign(device=np.where(HAND["customer_id"] % 2 == 1, "phone", "desktop"))
    got = paths(crossed, max_steps=1, by=["platform", "device"])
    assert list(got.columns) == ["platform", "device", "path", "count", "share"]
    assert rows(got, "platform", "device", "path", "count") == [
        (MISSING, "desktop", "a", 1),
        ("app", "desktop", "a", 1),
        ("web", "phone", "a", 1),
        ("web", "phone", "b", 1),
    ]
    matrices = as_matrix(transition_matrix(crossed, by=["platform", "device"]))
    assert list(matrices) == [(MISSING, "desktop"), ("app", "desktop"), ("web", "phone")]


def test_as_matrix_gives_one_matrix_per_segment():
    table = transition_matrix(HAND, normalize=False, by="platform")
    matrices = as_matrix(table)
    assert list(matrices) == [MISSING, "app", "web"]
    for value, matrix in matrices.items():
        block = table[table["platform"] == value].drop(columns="platform")
        pd.testing.assert_frame_equal(matrix, as_matrix(block))
    assert matrices["app"].to_numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert (list(matrices["app"].index), list(matrices["app"].columns)) == (
        [START, "a", "c"],
        ["a", "c", END],
    )
    twice = pd.concat([table, table.iloc[:1]])
    with pytest.raises(JourneyDataError, match=r"of one segment \(platform\)"):
        as_matrix(twice)
    assert as_matrix(table.iloc[:0]) == {}


# --- each block is the function on that segment's customers -----------------------------


@st.composite
def random_logs(draw):
    n = draw(st.integers(1, 30))
    customers = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    events = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n))
    platforms = draw(st.lists(st.sampled_from(["web", "app", "tv", None]), min_size=n, max_size=n))
    return log(*zip(customers, minutes, events, platforms, strict=True))


def assert_blocks(func, events, options, by, rule, top, top_name="top"):
    """Every segment's block of ``func(events, by=...)`` is ``func`` on the log of that
    segment's customers alone (jl.customer_segments says who), in the same order."""
    columns = [by] if isinstance(by, str) else list(by)
    split = {"by": by, "by_rule": rule, top_name: top}
    try:
        members = jl.customer_segments(events, by, by_rule=rule, top=top)
    except JourneyDataError:  # a column without any value: the breakdown must refuse too
        with pytest.raises(JourneyDataError, match="holds no value"):
            func(events, **options, **split)
        return
    got = collect(func(events, **options, **split))
    assert list(got.columns[: len(columns)]) == columns
    seen = set(map(tuple, got[columns].drop_duplicates().to_numpy().tolist()))
    for value, people in members.groupby(columns, sort=True):
        value = value if isinstance(value, tuple) else (value,)
        mask = np.logical_and.reduce([got[c] == v for c, v in zip(columns, value, strict=True)])
        block = got[mask].drop(columns=columns).reset_index(drop=True)
        alone = events[events["customer_id"].isin(people["customer_id"])]
        try:
            want = collect(func(alone, **options))
        except JourneyDataError as error:  # path_flows: no sequence of the segment has the anchor
            assert "no sequence has" in str(error)
            want = block.iloc[:0]
        assert_same_frame(block, want)
        seen.discard(value)
    assert not seen  # no block for a segment nobody is in
    # Sorted by the segment columns first.
    keys = list(got[columns].itertuples(index=False, name=None))
    assert keys == sorted(keys)


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = st.sampled_from(["first", "last"])
TOPS = st.sampled_from([None, 1, 2])


@PROPERTY
@given(
    events=random_logs(),
    rule=RULES,
    top=TOPS,
    normalize=st.booleans(),
    within=st.sampled_from(["customer", "session"]),
)
def test_transition_blocks_are_each_segment_alone(events, rule, top, normalize, within):
    events = jl.sessionize(events, "3min")
    options = {"normalize": normalize, "within": within}
    assert_blocks(transition_matrix, events, options, "platform", rule, top)


@PROPERTY
@given(
    events=random_logs(),
    rule=RULES,
    top=TOPS,
    paths_top=st.sampled_from([None, 1, 2]),
    max_steps=st.integers(1, 3),
    collapse=st.booleans(),
)
def test_path_blocks_are_each_segment_alone(events, rule, top, paths_top, max_steps, collapse):
    options = {"max_steps": max_steps, "top": paths_top, "collapse_repeats": collapse}
    assert_blocks(paths, events, options, "platform", rule, top, top_name="top_segments")


@PROPERTY
@given(
    events=random_logs(),
    rule=RULES,
    top=TOPS,
    anchor=st.sampled_from([{}, {"start": "a"}, {"end": "c"}, {"start": "a", "end": "c"}]),
    steps=st.integers(2, 4),
    fold=st.sampled_from([{}, {"top": 1}, {"min_share": 0.4}]),
    split=st.sampled_from([{}, {"split": "converted", "conversion": "d"}]),
)
def test_flow_blocks_are_each_segment_alone(events, rule, top, anchor, steps, fold, split):
    if "a" not in set(events["event"]) and "start" in anchor:
        anchor = {}
    if "c" not in set(events["event"]) and "end" in anchor:
        anchor = {}
    options = {**anchor, "steps": steps, **fold, **split}
    assert_blocks(path_flows, events, options, "platform", rule, top, top_name="top_segments")


@pytest.fixture(scope="module")
def simulated():
    """A simulated log with a platform that changes over a customer's life (a row's
    platform depends on its day), and the simulator's customer table."""
    sim = jl.simulate(120, seed=11)
    events = sim.events[["customer_id", "timestamp", "event", "channel"]].copy()
    day = events["timestamp"].dt.day
    platform = np.select([day % 3 == 0, day % 3 == 1], ["web", "app"], None)
    events["platform"] = pd.array(platform, dtype="str")
    return events, sim.customers[["customer_id", "segment", "plan"]]


CASES = [
    (transition_matrix, {"by": "platform"}, "top"),
    (
        transition_matrix,
        {"of": "channel", "normalize": False, "by": ["platform", "channel"]},
        "top",
    ),
    (paths, {"max_steps": 3, "top": 5, "by": "platform", "by_rule": "last"}, "top_segments"),
    (paths, {"of": "channel", "by": "channel"}, "top_segments"),
    (path_flows, {"start": "site_visit", "steps": 3, "top": 3, "by": "platform"}, "top_segments"),
    (
        path_flows,
        {"end": "purchase", "steps": 3, "split": "channel", "by": "platform"},
        "top_segments",
    ),
]


@pytest.mark.parametrize(("func", "options", "top_name"), CASES)
def test_simulated_blocks_are_each_segment_alone(simulated, func, options, top_name):
    events, _ = simulated
    options = dict(options)
    by, rule = options.pop("by"), options.pop("by_rule", "first")
    assert_blocks(func, events, options, by, rule, 2, top_name=top_name)


def test_simulated_blocks_of_a_customer_table(simulated):
    events, customers = simulated
    spec = Segments("segment", customers=customers)
    members = jl.customer_segments(events, spec)
    for func, options in [
        (transition_matrix, {}),
        (paths, {"max_steps": 4}),
        (path_flows, {"end": "purchase", "steps": 3}),
    ]:
        got = collect(func(events, by=spec, **options))
        assert len(got) > 0
        for value, people in members.groupby("segment"):
            block = got[got["segment"] == value].drop(columns="segment").reset_index(drop=True)
            alone = events[events["customer_id"].isin(people["customer_id"])]
            assert_same_frame(block, collect(func(alone, **options)))


# --- every engine -----------------------------------------------------------------------


def engine_cases(customers):
    table = Segments(["segment", "platform"], customers=customers, top=4)
    cutoff = Segments("platform", rule="at_cutoff", cutoff="2024-03-01")
    return [
        (transition_matrix, {"by": "platform"}),
        (transition_matrix, {"normalize": False, "by": cutoff}),
        (transition_matrix, {"of": "channel", "by": table}),
        (paths, {"max_steps": 3, "top": 4, "by": "platform", "by_rule": "last"}),
        (paths, {"by": table, "collapse_repeats": True}),
        (path_flows, {"start": "site_visit", "steps": 3, "top": 3, "by": "platform"}),
        (path_flows, {"end": "purchase", "steps": 3, "by": table}),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_pandas_answer(simulated, engine):
    events, customers = simulated
    for func, options in engine_cases(customers):
        want = collect(func(events, **options))
        assert len(want) > 0
        assert_same_frame(parity(func, events, engine, **options), want)


def test_pyspark_gives_the_pandas_answer(spark, simulated):
    events, customers = simulated
    # One case of each function (Spark is slow to plan): a cutoff, a crossing of the
    # customer table with the log, a flow.
    cases = engine_cases(customers)
    for func, options in (cases[1], cases[4], cases[5]):
        want = collect(func(events, **options))
        assert_same_frame(parity(func, events, "pyspark", spark=spark, **options), want)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "options"),
    [
        (transition_matrix, {}),
        (paths, {}),
        (path_flows, {"start": "a"}),
    ],
)
def test_bad_segment_columns_are_named(func, options):
    with pytest.raises(JourneyDataError, match="by='plan': the log has no such column"):
        func(HAND, by="plan", **options)
    empty = HAND.assign(platform=pd.Series([None] * len(HAND), dtype="str"))
    with pytest.raises(JourneyDataError, match=r"by='platform'.*holds no value \(8 rows"):
        func(empty, by="platform", **options)
    with pytest.raises(JourneyParameterError, match="by='customer_id'"):
        func(HAND, by="customer_id", **options)
    with pytest.raises(JourneyParameterError, match="by_rule must be one of"):
        func(HAND, by="platform", by_rule="middle", **options)
    with pytest.raises(JourneyParameterError, match="carries its own rule and top"):
        func(HAND, by=Segments("platform"), by_rule="last", **options)


@pytest.mark.parametrize(
    ("func", "column", "options"),
    [
        (transition_matrix, "from", {}),
        (transition_matrix, "probability", {}),
        (paths, "path", {}),
        (paths, "share", {}),
        (path_flows, "source", {"start": "a"}),
        (path_flows, "converted", {"split": "converted", "conversion": "c"}),
        (path_flows, "platform", {"split": "platform"}),
        (transition_matrix, "session", {"within": "session"}),
    ],
)
def test_a_segment_named_like_a_result_column_is_refused(func, column, options):
    events = jl.sessionize(HAND, "1h").assign(**{column: HAND["platform"]})
    with pytest.raises(JourneyParameterError, match=f"by='{column}' would clash"):
        func(events, by=column, **options)


def test_segment_top_is_checked():
    with pytest.raises(JourneyParameterError, match="top must be"):
        transition_matrix(HAND, by="platform", top=0)
    with pytest.raises(JourneyParameterError, match="top must be"):
        paths(HAND, by="platform", top_segments=0)
    with pytest.raises(JourneyParameterError, match="top must be"):
        path_flows(HAND, by="platform", top_segments=-1)


def test_top_folds_the_smaller_segments_into_other():
    many = pd.concat(
        [HAND.assign(customer_id=HAND["customer_id"] + 10 * k) for k in range(3)],
        ignore_index=True,
    )
    many.loc[many["customer_id"] > 20, "platform"] = "tv"  # tv: 4 customers, web: 4, app: 2
    got = transition_matrix(many, normalize=False, by="platform", top=2)
    assert sorted(set(got["platform"])) == [OTHER, "tv", "web"]
    other = got[got["platform"] == OTHER]
    # (other): customers 4 and 14 ((missing)) and 2 and 12 (app) start 4 sequences.
    assert other.loc[other["from"] == START, "count"].sum() == 4
    assert got.loc[got["from"] == START, "count"].sum() == many["customer_id"].nunique()


def test_one_journey_figures_and_readings_refuse_several_segments_and_take_one():
    sim = jl.simulate(300, seed=1)
    table = jl.transition_matrix(sim.events, by=jl.Segments("segment", customers=sim.customers))
    drawers = (
        jl.plots.transition_matrix,
        jl.plots.transition_graph,
        jl.report.readings.transition_reading,
    )
    for draw in drawers:
        with pytest.raises(JourneyParameterError, match=r"broken down by \['segment'\]"):
            draw(table)
    # The hint works: one segment's rows are one journey, the same as the log of its customers.
    consumer = table[table["segment"] == "consumer"]
    alone = sim.events[
        sim.events["customer_id"].isin(
            sim.customers.loc[sim.customers["segment"] == "consumer", "customer_id"]
        )
    ]
    assert jl.report.readings.transition_reading(consumer) == (
        jl.report.readings.transition_reading(jl.transition_matrix(alone))
    )
    figure = jl.plots.transition_matrix(consumer)
    plt.close(figure)
