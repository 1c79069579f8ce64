"""sessionize, transition_matrix, paths and as_matrix: hand-worked logs, a brute-force
reference on random logs, bad input, and parity on every engine (PySpark on a simulated log).

Times in the hand-made logs are minutes after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity, to_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.paths import END, START, as_matrix, paths, sessionize, transition_matrix
from journey_lib.errors import JourneyDataError, JourneyParameterError

BASE = pd.Timestamp("2024-01-01", tz="UTC")
ROW_KEY = ["customer_id", "timestamp", "event", "channel"]


def log(*rows) -> pd.DataFrame:
    """A touchpoint log from (customer, minute, event[, channel]) tuples."""
    rows = [(*r, None) if len(r) == 3 else r for r in rows]
    frame = pd.DataFrame(rows, columns=["customer_id", "minute", "event", "channel"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    stamps = BASE + pd.to_timedelta(frame.pop("minute").astype("int64"), unit="min")
    return frame.assign(timestamp=stamps.astype("datetime64[us, UTC]"))[
        ["customer_id", "timestamp", "event", "channel"]
    ].astype({"event": "str", "channel": "str"})


DAY = 24 * 60

# Customer 1: ad_view, site_visit, site_visit, purchase; 2: ad_view, purchase; 3: site_visit.
JOURNEYS = log(
    (1, 0, "ad_view", "tv"),
    (1, DAY, "site_visit", "web"),
    (1, 2 * DAY, "site_visit", "web"),
    (1, 3 * DAY, "purchase", "web"),
    (2, 0, "ad_view", "search"),
    (2, 5 * DAY, "purchase", "store"),
    (3, 7, "site_visit", "web"),
)


def shuffled(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


def as_dict(table: pd.DataFrame, value: str) -> dict:
    return {(f, t): v for f, t, v in zip(table["from"], table["to"], table[value], strict=True)}


# --------------------------------------------------------------------------- sessionize


def test_sessionize_by_hand_gap_is_strict_and_ties_share_a_session():
    events = log(
        (1, 0, "ad_view"),
        (1, 30, "site_visit"),  # exactly 30 min after: not more than the gap, same session
        (1, 61, "site_visit"),  # 31 min after: session 2
        (1, 61, "purchase"),  # same instant: session 2
        (1, 200, "review"),  # 139 min after: session 3
        (2, 5, "ad_view"),  # another customer starts at session 1
    )
    result = sessionize(events)
    assert result["session"].tolist() == [1, 1, 2, 2, 3, 1]
    assert result.columns.tolist() == [*events.columns, "session"]
    assert str(result["session"].dtype) == "int64"
    # A one-hour gap merges 0, 30, 61 (gaps 30 and 31 min); 200 is 139 min later.
    assert sessionize(events, "1h")["session"].tolist() == [1, 1, 1, 1, 2, 1]
    assert sessionize(events, dt.timedelta(minutes=10))["session"].tolist() == [1, 2, 3, 3, 4, 1]


def test_sessionize_ignores_row_order_and_keeps_pandas_rows_in_place():
    events = log((1, 0, "a"), (1, 30, "b"), (1, 61, "c"), (1, 61, "d"), (1, 200, "e"))
    mixed = shuffled(events, seed=3)
    result = sessionize(mixed)
    assert result["event"].tolist() == mixed["event"].tolist()
    expected = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3}
    assert dict(zip(result["event"], result["session"], strict=True)) == expected


def test_sessionize_replaces_an_existing_session_column():
    events = log((1, 0, "a"), (1, 100, "b")).assign(session=[7, 7])
    result = sessionize(events)
    assert result["session"].tolist() == [1, 2]
    assert result.columns.tolist() == events.columns.tolist()


def test_sessionize_empty_log_and_one_event_customers():
    empty = sessionize(JOURNEYS.iloc[:0])
    assert len(empty) == 0 and "session" in empty.columns
    singles = log((1, 0, "a"), (2, 0, "a"), (3, 99, "b"))
    assert sessionize(singles)["session"].tolist() == [1, 1, 1]


@pytest.mark.parametrize("gap", ["-5min", "0s", "soon", 0, None])
def test_sessionize_rejects_gaps_that_are_not_positive_durations(gap):
    with pytest.raises(JourneyParameterError, match="gap"):
        sessionize(JOURNEYS, gap)


def test_sessionize_needs_the_log_columns():
    with pytest.raises(JourneyDataError, match="timestamp"):
        sessionize(JOURNEYS.drop(columns="timestamp"))
    with pytest.raises(JourneyDataError, match="not a datetime"):
        sessionize(JOURNEYS.assign(timestamp=JOURNEYS["timestamp"].astype("str")))


# --------------------------------------------------------------------------- transitions


def test_transition_counts_by_hand():
    counts = transition_matrix(shuffled(JOURNEYS), normalize=False)
    assert counts.columns.tolist() == ["from", "to", "count"]
    # 3 sequences of 4, 2 and 1 events: 4 + 2 + 1 events plus one end each = 10 transitions.
    assert as_dict(counts, "count") == {
        (START, "ad_view"): 2,  # customers 1 and 2
        (START, "site_visit"): 1,  # customer 3
        ("ad_view", "site_visit"): 1,
        ("site_visit", "site_visit"): 1,
        ("site_visit", "purchase"): 1,
        ("ad_view", "purchase"): 1,
        ("purchase", END): 2,
        ("site_visit", END): 1,  # customer 3's only event is also their last
    }
    assert counts["count"].sum() == 10
    # Sorted by from, then to ("(" sorts before letters).
    pairs = list(zip(counts["from"], counts["to"], strict=True))
    assert pairs == sorted(pairs)


def test_a_touchpoint_named_like_the_start_state_still_ends_once_per_sequence_it_ends():
    """Transitions into the end are worked out from the counted moves (entries less
    departures); a touchpoint valued "(start)" is a state like any other there, not the
    start of a sequence (its departures were once taken for openings)."""
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"], utc=True),
            "event": [START, "b", START],
        }
    )
    counts = as_dict(transition_matrix(log, normalize=False), "count")
    # Customer 1: (start) -> "(start)" -> b -> (end); customer 2: (start) -> "(start)" -> (end).
    assert counts == {(START, START): 2, (START, "b"): 1, ("b", END): 1, (START, END): 1}


def test_transition_probabilities_by_hand():
    probabilities = transition_matrix(JOURNEYS)
    assert probabilities.columns.tolist() == ["from", "to", "probability"]
    got = as_dict(probabilities, "probability")
    # Out of (start): 2 of 3 go to ad_view. Out of site_visit: site_visit, purchase, (end).
    assert got[(START, "ad_view")] == pytest.approx(2 / 3)
    assert got[(START, "site_visit")] == pytest.approx(1 / 3)
    assert got[("ad_view", "purchase")] == pytest.approx(1 / 2)
    assert got[("site_visit", "site_visit")] == pytest.approx(1 / 3)
    assert got[("site_visit", END)] == pytest.approx(1 / 3)
    assert got[("purchase", END)] == 1.0
    assert probabilities.groupby("from")["probability"].sum().tolist() == pytest.approx([1] * 4)


def test_transitions_order_ties_by_value_and_skip_missing_values():
    # Both at minute 0: ordered ad_view then site_visit whatever the input order.
    tied = log((1, 0, "site_visit"), (1, 0, "ad_view"))
    assert as_dict(transition_matrix(tied, normalize=False), "count") == {
        (START, "ad_view"): 1,
        ("ad_view", "site_visit"): 1,
        ("site_visit", END): 1,
    }
    # of="channel": the row without a channel is left out, so tv -> web directly.
    channels = log((1, 0, "ad_view", "tv"), (1, 5, "signup"), (1, 9, "purchase", "web"))
    assert as_dict(transition_matrix(channels, normalize=False, of="channel"), "count") == {
        (START, "tv"): 1,
        ("tv", "web"): 1,
        ("web", END): 1,
    }


def test_transitions_within_sessions():
    events = sessionize(
        log((1, 0, "ad_view"), (1, 10, "site_visit"), (1, 500, "site_visit"), (1, 505, "buy"))
    )
    # Sessions: [ad_view, site_visit] and [site_visit, buy]: each has its own start and end.
    assert as_dict(transition_matrix(events, normalize=False, within="session"), "count") == {
        (START, "ad_view"): 1,
        ("ad_view", "site_visit"): 1,
        ("site_visit", END): 1,
        (START, "site_visit"): 1,
        ("site_visit", "buy"): 1,
        ("buy", END): 1,
    }
    # Over the whole customer the two site visits follow each other.
    whole = as_dict(transition_matrix(events, normalize=False), "count")
    assert whole[("site_visit", "site_visit")] == 1 and sum(whole.values()) == 5


def test_transitions_by_stage_after_assign_stages():
    staged = jl.assign_stages(JOURNEYS)
    got = as_dict(transition_matrix(staged, normalize=False, of="stage"), "count")
    consideration = "Investigation & Consideration"
    assert got[("Awareness", consideration)] == 1
    assert got[(consideration, consideration)] == 1
    assert got[("Awareness", "Purchase")] == 1
    with pytest.raises(JourneyDataError, match="assign_stages"):
        transition_matrix(JOURNEYS, of="stage")


def test_transitions_empty_log():
    empty = transition_matrix(JOURNEYS.iloc[:0], normalize=False)
    assert empty.columns.tolist() == ["from", "to", "count"] and len(empty) == 0
    assert len(transition_matrix(JOURNEYS.iloc[:0])) == 0


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"within": "visit"}, JourneyParameterError, "within must be one of"),
        ({"normalize": "yes"}, JourneyParameterError, "normalize must be one of"),
        ({"of": "customer_id"}, JourneyParameterError, "touchpoint column"),
        ({"of": "colour"}, JourneyDataError, "no column 'colour'"),
        ({"within": "session"}, JourneyDataError, "sessionize"),
    ],
)
def test_transition_options_are_checked(options, error, message):
    with pytest.raises(error, match=message):
        transition_matrix(JOURNEYS, **options)


def test_as_matrix_pivots_with_start_first_and_end_last():
    matrix = as_matrix(transition_matrix(JOURNEYS, normalize=False))
    assert matrix.index.tolist() == [START, "ad_view", "purchase", "site_visit"]
    assert matrix.columns.tolist() == ["ad_view", "purchase", "site_visit", END]
    assert matrix.loc[START].tolist() == [2, 0, 1, 0]
    assert matrix.loc["site_visit"].tolist() == [0, 1, 1, 1]
    assert int(matrix.to_numpy().sum()) == 10
    lazy = transition_matrix(to_engine(JOURNEYS, "polars-lazy"))
    assert as_matrix(lazy).sum(axis=1).tolist() == pytest.approx([1, 1, 1, 1])
    with pytest.raises(JourneyDataError, match="transition_matrix result"):
        as_matrix(JOURNEYS)
    twice = pd.DataFrame({"from": ["a", "a"], "to": ["b", "b"], "count": [1, 2]})
    with pytest.raises(JourneyDataError, match="more than once"):
        as_matrix(twice)
    assert as_matrix(transition_matrix(JOURNEYS.iloc[:0])).shape == (0, 0)


# --------------------------------------------------------------------------- paths

PATH_LOG = log(
    (1, 0, "ad_view"),
    (1, 1, "site_visit"),
    (1, 2, "site_visit"),
    (1, 3, "purchase"),
    (2, 0, "ad_view"),
    (2, 1, "site_visit"),
    (2, 2, "purchase"),
    (3, 0, "ad_view"),
    (3, 4, "site_visit"),
    (3, 9, "purchase"),
    (4, 0, "site_visit"),
    (5, 0, "ad_view"),
    (5, 8, "ad_view"),
)


def test_paths_by_hand():
    got = paths(shuffled(PATH_LOG), max_steps=3)
    assert got.columns.tolist() == ["path", "count", "share"]
    # 5 customers; ties in count are ranked by path text ascending.
    assert got["path"].tolist() == [
        "ad_view > site_visit > purchase",  # customers 2 and 3
        "ad_view > ad_view",  # 5
        "ad_view > site_visit > site_visit",  # 1 (purchase is its 4th step)
        "site_visit",  # 4
    ]
    assert got["count"].tolist() == [2, 1, 1, 1]
    assert got["share"].tolist() == pytest.approx([0.4, 0.2, 0.2, 0.2])


def test_paths_collapse_repeats_top_and_separator():
    collapsed = paths(PATH_LOG, max_steps=3, collapse_repeats=True)
    # Customer 1 becomes ad_view > site_visit > purchase, customer 5 just ad_view.
    assert collapsed["path"].tolist() == [
        "ad_view > site_visit > purchase",
        "ad_view",
        "site_visit",
    ]
    assert collapsed["count"].tolist() == [3, 1, 1]
    assert collapsed["share"].tolist() == pytest.approx([0.6, 0.2, 0.2])
    top = paths(PATH_LOG, max_steps=3, top=2)
    assert top["path"].tolist() == ["ad_view > site_visit > purchase", "ad_view > ad_view"]
    # Shares stay shares of all 5 customers after the cut.
    assert top["share"].tolist() == pytest.approx([0.4, 0.2])
    numpy_ints = paths(PATH_LOG, max_steps=np.int64(3), top=np.int64(2))
    assert numpy_ints["path"].tolist() == top["path"].tolist()
    first = paths(PATH_LOG, max_steps=1, separator=" → ")
    assert first[["path", "count"]].values.tolist() == [["ad_view", 4], ["site_visit", 1]]
    assert paths(PATH_LOG, max_steps=2, separator=" → ")["path"].iloc[0] == "ad_view → site_visit"


def test_paths_ties_in_time_missing_values_and_sessions():
    # Same instant: ordered by value, so b then c; the row without a channel is skipped.
    events = log((1, 0, "c", "web"), (1, 0, "b", "tv"), (1, 3, "a"), (1, 500, "d", "web"))
    assert paths(events)["path"].tolist() == ["b > c > a > d"]
    assert paths(events, of="channel")["path"].tolist() == ["tv > web > web"]
    sessions = sessionize(events)
    got = paths(sessions, within="session")
    assert got[["path", "count"]].values.tolist() == [["b > c > a", 1], ["d", 1]]
    assert got["share"].tolist() == [0.5, 0.5]


def test_paths_empty_log():
    empty = paths(PATH_LOG.iloc[:0])
    assert empty.columns.tolist() == ["path", "count", "share"] and len(empty) == 0


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_steps": 0}, JourneyParameterError, "max_steps"),
        ({"max_steps": 2.5}, JourneyParameterError, "max_steps"),
        ({"max_steps": True}, JourneyParameterError, "max_steps"),
        ({"top": 0}, JourneyParameterError, "top"),
        ({"collapse_repeats": "no"}, JourneyParameterError, "collapse_repeats"),
        ({"separator": 1}, JourneyParameterError, "separator"),
        ({"within": "day"}, JourneyParameterError, "within"),
        ({"of": "timestamp"}, JourneyParameterError, "touchpoint column"),
        ({"of": "stage"}, JourneyDataError, "assign_stages"),
        ({"within": "session"}, JourneyDataError, "sessionize"),
    ],
)
def test_path_options_are_checked(options, error, message):
    with pytest.raises(error, match=message):
        paths(PATH_LOG, **options)


def test_not_a_frame():
    with pytest.raises(JourneyParameterError, match="DataFrame"):
        paths([1, 2, 3])


# --------------------------------------------------------------------------- brute force


def sequences(events: pd.DataFrame, of: str, within: str) -> list[list[str]]:
    """Each customer's (or session's) values of ``of``, sorted of time then value."""
    keys = ["customer_id"] if within == "customer" else ["customer_id", "session"]
    out = []
    for _, group in events.groupby(keys, sort=True):
        rows = [(t, str(v)) for t, v in zip(group["timestamp"], group[of], strict=True)]
        rows = [(t, v) for t, v in rows if v not in ("nan", "None", "<NA>")]
        if rows:
            out.append([v for _, v in sorted(rows)])
    return out


def reference_sessions(events: pd.DataFrame, gap: dt.timedelta) -> list[int]:
    session = {}
    for _, group in events.groupby("customer_id"):
        number, previous = 0, None
        for label, t in sorted(group["timestamp"].items(), key=lambda item: item[1]):
            if previous is None or t - previous > gap:
                number += 1
            session[label] = number
            previous = t
    return [session[label] for label in events.index]


def reference_transitions(events, of, within) -> Counter:
    counts = Counter()
    for seq in sequences(events, of, within):
        chain = [START, *seq, END]
        counts.update(itertools.pairwise(chain))
    return counts


def reference_paths(events, max_steps, collapse, top, within) -> list[tuple[str, int, float]]:
    found = []
    for seq in sequences(events, "event", within):
        if collapse:
            seq = [v for i, v in enumerate(seq) if i == 0 or v != seq[i - 1]]
        found.append(" > ".join(seq[:max_steps]))
    counts = Counter(found)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ranked = ranked if top is None else ranked[:top]
    return [(p, n, n / len(found)) for p, n in ranked]


@st.composite
def random_logs(draw, max_rows=30):
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(1, 4),
                st.integers(0, 120),
                st.sampled_from(["a", "b", "c"]),
                st.sampled_from(["tv", "web", None]),
            ),
            max_size=max_rows,
        )
    )
    return log(*rows) if rows else JOURNEYS.iloc[:0]


GAPS = st.sampled_from([dt.timedelta(minutes=m) for m in (1, 5, 30)])
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(events=random_logs(), gap=GAPS)
def test_sessionize_matches_brute_force_and_engines(events, gap):
    result = sessionize(events, gap)
    assert result["session"].tolist() == reference_sessions(events, gap)
    want = collect(result)
    for engine in ("polars", "duckdb"):
        got = parity(sessionize, events, engine, gap)
        assert_same_frame(got, want, sort_by=[*ROW_KEY, "session"])


@PROPERTY
@given(
    events=random_logs(),
    of=st.sampled_from(["event", "channel"]),
    within=st.sampled_from(["customer", "session"]),
)
def test_transitions_match_brute_force_and_engines(events, of, within):
    events = sessionize(events, "20min")
    expected = reference_transitions(events, of, within)
    counts = transition_matrix(events, normalize=False, of=of, within=within)
    assert as_dict(counts, "count") == dict(expected)
    leaving = Counter()
    for (origin, _), n in expected.items():
        leaving[origin] += n
    probabilities = transition_matrix(events, of=of, within=within)
    got = as_dict(probabilities, "probability")
    assert got.keys() == expected.keys()
    for (origin, target), p in got.items():
        assert p == pytest.approx(expected[(origin, target)] / leaving[origin])
    want = collect(probabilities)
    for engine in ("polars", "duckdb"):
        assert_same_frame(parity(transition_matrix, events, engine, of=of, within=within), want)


@PROPERTY
@given(
    events=random_logs(),
    max_steps=st.integers(1, 4),
    collapse=st.booleans(),
    top=st.sampled_from([None, 1, 3]),
    within=st.sampled_from(["customer", "session"]),
)
def test_paths_match_brute_force_and_engines(events, max_steps, collapse, top, within):
    events = sessionize(events, "20min")
    options = dict(max_steps=max_steps, collapse_repeats=collapse, top=top, within=within)
    got = paths(events, **options)
    want = reference_paths(events, max_steps, collapse, top, within)
    assert got["path"].tolist() == [p for p, _, _ in want]
    assert got["count"].tolist() == [n for _, n, _ in want]
    assert got["share"].tolist() == pytest.approx([s for _, _, s in want])
    for engine in ("polars", "duckdb"):
        assert_same_frame(parity(paths, events, engine, **options), collect(got))


# --------------------------------------------------------------------------- engines


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(60, seed=5).events[list(jl.CANONICAL_COLUMNS)]


CASES = [
    (sessionize, {}),
    (sessionize, {"gap": "1D"}),
    (transition_matrix, {}),
    (transition_matrix, {"normalize": False, "of": "channel"}),
    (paths, {}),
    (paths, {"max_steps": 3, "collapse_repeats": True, "top": None}),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("func", "options"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_engines_match_pandas(engine, func, options, simulated):
    want = collect(func(simulated, **options))
    got = parity(func, simulated, engine, **options)
    sort_by = [*ROW_KEY, "session"] if func is sessionize else None
    assert_same_frame(got, want, sort_by=sort_by)
    assert len(want) > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_match_pandas_on_hand_cases(engine):
    events = sessionize(PATH_LOG, "2min")
    for func, options in [
        (sessionize, {"gap": "3min"}),
        (transition_matrix, {"within": "session", "normalize": False}),
        (paths, {"within": "session", "max_steps": 2}),
    ]:
        want = collect(func(events, **options))
        sort_by = [*ROW_KEY, "session"] if func is sessionize else None
        assert_same_frame(parity(func, events, engine, **options), want, sort_by=sort_by)


def test_pyspark_matches_pandas(spark, simulated):
    events = sessionize(simulated, "1D")
    spark_sessions = parity(sessionize, simulated, "pyspark", "1D", spark=spark)
    assert_same_frame(spark_sessions, collect(events), sort_by=[*ROW_KEY, "session"])
    options = {"within": "session", "of": "channel"}
    assert_same_frame(
        parity(transition_matrix, events, "pyspark", spark=spark, **options),
        collect(transition_matrix(events, **options)),
    )
    options = {"collapse_repeats": True, "max_steps": 4, "top": 10}
    assert_same_frame(
        parity(paths, events, "pyspark", spark=spark, **options),
        collect(paths(events, **options)),
    )


def test_simulated_paths_are_consistent_with_transitions(simulated):
    # The first step of each path is the (start) transition: their counts agree.
    firsts = paths(simulated, max_steps=1, top=None).set_index("path")["count"]
    starts = transition_matrix(simulated, normalize=False).query("`from` == @START")
    assert starts.set_index("to")["count"].sort_index().to_dict() == firsts.sort_index().to_dict()
    assert firsts.sum() == simulated["customer_id"].nunique()
    assert statistics.fsum(paths(simulated, top=None)["share"]) == pytest.approx(1)
