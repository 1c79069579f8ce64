"""Which segment each customer is counted in (journey_lib.analytics.segments): the rules
against a per-customer loop, the other bucket, customer tables, every engine, bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import (
    ENGINES,
    assert_same_frame,
    collect,
    parity,
    require_module,
    shared_file,
    to_engine,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.segments import MISSING, OTHER, Segments
from journey_lib.errors import JourneyDataError, JourneyParameterError


def _log(rows) -> pd.DataFrame:
    customer, day, plan = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": list(customer),
            "timestamp": pd.to_datetime("2024-01-01", utc=True)
            + pd.to_timedelta(list(day), unit="D"),
            "event": "visit",
            "plan": pd.Series(list(plan), dtype="str"),
        }
    )


def _reference(log: pd.DataFrame, columns: list[str], rule: str, cutoff=None, top=None):
    """Each customer's values by a loop over customers: the definitions read literally."""
    rows = []
    for customer, rows_of in log.groupby("customer_id", sort=True):
        row = {"customer_id": customer}
        for column in columns:
            seen = rows_of[rows_of[column].notna()]
            if rule == "at_cutoff":
                seen = seen[seen["timestamp"] < pd.Timestamp(cutoff, tz="UTC")]
            if seen.empty:
                row[column] = MISSING
                continue
            at = seen["timestamp"].min() if rule == "first" else seen["timestamp"].max()
            values = seen.loc[seen["timestamp"] == at, column].astype(str)
            row[column] = values.min() if rule == "first" else values.max()
        rows.append(row)
    table = pd.DataFrame(rows, columns=["customer_id", *columns])
    if top is not None:
        sizes = table.groupby(columns).size().rename("n").reset_index()
        sizes = sizes.sort_values(["n", *columns], ascending=[False] + [True] * len(columns))
        kept = set(map(tuple, sizes.head(top)[columns].to_numpy()))
        other = [tuple(r) not in kept for r in table[columns].to_numpy()]
        table.loc[other, columns] = OTHER
    return table


def test_hand_computed_rules():
    log = _log(
        [
            (1, 0, None),
            (1, 1, "basic"),
            (1, 5, "plus"),
            (2, 2, "plus"),
            (2, 2, "basic"),  # the same instant: first takes the smallest, last the largest
            (3, 9, None),
        ]
    )
    first = jl.customer_segments(log, "plan")
    assert first["plan"].tolist() == ["basic", "basic", MISSING]
    last = jl.customer_segments(log, "plan", by_rule="last")
    assert last["plan"].tolist() == ["plus", "plus", MISSING]
    cut = jl.customer_segments(log, Segments("plan", rule="at_cutoff", cutoff="2024-01-04"))
    # Customer 1's plus comes on 6 January, after the cutoff; customer 2's rows are before.
    assert cut["plan"].tolist() == ["basic", "plus", MISSING]


def test_the_other_bucket_keeps_the_largest_segments():
    rows = [(c, 0, "a") for c in range(1, 5)] + [(c, 0, "b") for c in range(5, 8)]
    rows += [(8, 0, "c"), (9, 0, "d")]
    table = jl.customer_segments(_log(rows), "plan", top=2)
    assert table["plan"].value_counts().to_dict() == {"a": 4, "b": 3, OTHER: 2}
    # Ties are broken by value: c and d have one customer each, top=3 keeps c.
    assert set(jl.customer_segments(_log(rows), "plan", top=3)["plan"]) == {"a", "b", "c", OTHER}
    assert set(jl.customer_segments(_log(rows), "plan", top=None)["plan"]) == set("abcd")


def test_a_column_with_a_value_per_customer_folds_into_other():
    rows = [(c, 0, f"id{c}") for c in range(1, 51)]
    table = jl.customer_segments(_log(rows), "plan")
    assert (table["plan"] != OTHER).sum() == 10
    assert (table["plan"] == OTHER).sum() == 40


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 6),
            st.integers(0, 4),
            st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])),
            st.one_of(st.none(), st.sampled_from(["x", "y"])),
        ),
        min_size=1,
        max_size=40,
    ),
    rule=st.sampled_from(["first", "last", "at_cutoff"]),
    top=st.one_of(st.none(), st.integers(1, 4)),
)
def test_rules_and_crossings_match_a_loop_over_customers(rows, rule, top):
    # A column with no value at all is refused (tested below), not a segment.
    assume(any(r[2] is not None for r in rows) and any(r[3] is not None for r in rows))
    log = _log([r[:3] for r in rows]).assign(tier=pd.Series([r[3] for r in rows], dtype="str"))
    cutoff = "2024-01-03" if rule == "at_cutoff" else None
    spec = Segments(["plan", "tier"], rule=rule, top=top, cutoff=cutoff)
    got = jl.customer_segments(log, spec)
    want = _reference(log, ["plan", "tier"], rule, cutoff, top)
    assert_same_frame(got, want)


def test_customer_table_columns_join_on_the_customer():
    sim = jl.simulate(300, seed=3)
    spec = Segments(["segment", "channel"], customers=sim.customers, top=None)
    table = jl.customer_segments(sim.events, spec)
    expected = sim.customers.set_index("customer_id")["segment"]
    assert (table["segment"].to_numpy() == expected.loc[table["customer_id"]].to_numpy()).all()
    # A customer the table does not list is (missing); the log's own column still counts.
    few = sim.customers.iloc[:100]
    partial = jl.customer_segments(sim.events, Segments("segment", customers=few, top=None))
    unlisted = ~partial["customer_id"].isin(few["customer_id"])
    assert (partial.loc[unlisted, "segment"] == MISSING).all()
    assert (
        unlisted.sum()
        == partial["customer_id"].nunique() - few["customer_id"].isin(partial["customer_id"]).sum()
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_pandas_answer(engine):
    sim = jl.simulate(400, seed=5)
    log = sim.events.assign(
        platform=sim.events["channel"].where(sim.events["event"] == "site_visit")
    )
    for spec in (
        Segments(["platform", "channel"], top=4),
        Segments("platform", rule="last"),
        Segments("platform", rule="at_cutoff", cutoff="2024-06-01"),
        Segments(["segment", "platform"], customers=sim.customers, top=5),
    ):
        want = jl.customer_segments(log, spec)
        got = parity(jl.customer_segments, log, engine, spec)
        assert_same_frame(got.sort_values("customer_id", ignore_index=True), want)


def test_pyspark_gives_the_pandas_answer(spark):
    sim = jl.simulate(200, seed=6)
    log = sim.events
    for spec in (
        Segments("channel", top=3),
        Segments("channel", rule="at_cutoff", cutoff="2024-06-01"),
        Segments("segment", customers=sim.customers),
    ):
        want = jl.customer_segments(log, spec)
        got = parity(jl.customer_segments, log, "pyspark", spec, spark=spark)
        assert_same_frame(got.sort_values("customer_id", ignore_index=True), want)


def test_bad_input_is_named():
    log = _log([(1, 0, "a"), (2, 0, None)])
    with pytest.raises(JourneyDataError, match=r"by='tier'.*no such column"):
        jl.customer_segments(log, "tier")
    with pytest.raises(JourneyDataError, match=r"holds no value \(2 rows, all missing\)"):
        jl.customer_segments(log.assign(plan=pd.Series([None, None], dtype="str")), "plan")
    with pytest.raises(JourneyParameterError, match="segment of its own"):
        jl.customer_segments(log, "customer_id")
    with pytest.raises(JourneyParameterError, match="needs the cutoff"):
        jl.customer_segments(log, "plan", by_rule="at_cutoff")
    with pytest.raises(JourneyParameterError, match="by_rule"):
        jl.customer_segments(log, "plan", by_rule="middle")
    with pytest.raises(JourneyParameterError, match="top"):
        jl.customer_segments(log, "plan", top=0)
    with pytest.raises(JourneyParameterError, match="twice"):
        jl.customer_segments(log, ["plan", "plan"])
    with pytest.raises(JourneyParameterError, match="carries its own"):
        jl.customer_segments(log, Segments("plan"), top=3)
    with pytest.raises(JourneyDataError, match="customer_id"):
        jl.customer_segments(log, Segments("plan", customers=pd.DataFrame({"id": [1]})))


def test_a_real_clickstream_matches_the_loop():
    path = shared_file("events", "ecom_clickstream.csv.gz")
    profile = jl.profile(path)
    log = profile.read(path).clean
    # The clickstream's platform can change from session to session.
    assert "platform" in log.columns
    for rule in ("first", "last"):
        got = jl.customer_segments(log, "platform", by_rule=rule, top=None)
        want = _reference(log, ["platform"], rule)
        assert_same_frame(got, want)
    folded = jl.customer_segments(log, ["platform", "channel"], top=3)
    assert folded[["platform", "channel"]].drop_duplicates().shape[0] == 4


def _typed_log() -> pd.DataFrame:
    """Four customers, one row each, with by columns of several types."""
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "timestamp": pd.to_datetime(["2024-01-01"] * 4, utc=True),
            "event": "visit",
            "flag": pd.array([True, False, True, None], dtype="boolean"),
            "day": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01"]).date,
            "score": [1.0, float("nan"), 2.5, 2.0],
            "rank": [1, 2, 3, 1],
            "when": pd.to_datetime(["2024-01-01 10:00"] * 4, utc=True),
        }
    )


_TYPED_WANT = {
    "flag": ["True", "False", "True", MISSING],
    "day": ["2024-01-01", "2024-02-01", MISSING, "2024-03-01"],
    "score": ["1.0", MISSING, "2.5", "2.0"],
    "rank": ["1", "2", "3", "1"],
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("column", list(_TYPED_WANT))
def test_values_are_spelled_the_same_on_every_engine(engine, column):
    log = _typed_log()
    got = parity(jl.customer_segments, log, engine, column, top=None)
    assert got[column].tolist() == _TYPED_WANT[column]
    # The same column from a customer table of the log's engine.
    table = to_engine(log[["customer_id", column]], engine)
    spec = Segments(column, customers=table, top=None)
    got = parity(jl.customer_segments, log[["customer_id", "timestamp", "event"]], engine, spec)
    assert got[column].tolist() == _TYPED_WANT[column]


@pytest.mark.parametrize("lazy", [False, True])
def test_a_polars_nan_is_no_value(lazy):
    # pl.from_pandas turns NaN into null; a native Polars NaN must count as (missing) too.
    pl = require_module("polars", "the Polars NaN case")
    log = pl.from_pandas(_typed_log()[["customer_id", "timestamp", "event"]]).with_columns(
        score=pl.Series([1.0, float("nan"), 2.5, 2.0])
    )
    got = collect(jl.customer_segments(log.lazy() if lazy else log, "score", top=None))
    assert got["score"].tolist() == _TYPED_WANT["score"]
    nan_only = log.with_columns(score=pl.Series([float("nan")] * 4))
    with pytest.raises(JourneyDataError, match="holds no value"):
        jl.customer_segments(nan_only, "score")
    table = log.select("customer_id", "score")
    spec = Segments("score", customers=table, top=None)
    assert (
        collect(jl.customer_segments(log.drop("score"), spec))["score"].tolist()
        == (_TYPED_WANT["score"])
    )


def test_pyspark_spells_values_as_pandas(spark):
    log = _typed_log()
    for column, want in _TYPED_WANT.items():
        got = parity(jl.customer_segments, log, "pyspark", column, top=None, spark=spark)
        assert got[column].tolist() == want, column


@pytest.mark.parametrize("engine", ENGINES)
def test_datetime_by_columns_are_refused(engine):
    with pytest.raises(JourneyDataError, match=r"by='when' holds datetimes.*derive a period"):
        jl.customer_segments(to_engine(_typed_log(), engine), "when")


def test_a_customer_listed_twice_is_refused():
    log = _typed_log()[["customer_id", "timestamp", "event"]]
    table = pd.DataFrame({"customer_id": [1, 2, 2, 3, 3, 3], "plan": list("abcdef")})
    for engine in ENGINES:
        spec = Segments("plan", customers=to_engine(table, engine))
        with pytest.raises(JourneyDataError, match=r"2 customer_id\(s\) more than once.*\[2, 3\]"):
            jl.customer_segments(to_engine(log, engine), spec)


def test_customer_ids_of_another_type_are_refused():
    log = _typed_log()[["customer_id", "timestamp", "event"]]
    table = pd.DataFrame({"customer_id": ["1", "2"], "plan": ["a", "b"]})
    for engine in ENGINES:
        spec = Segments("plan", customers=to_engine(table, engine))
        with pytest.raises(JourneyDataError, match=r"customer_id is String but the log's is Int64"):
            jl.customer_segments(to_engine(log, engine), spec)
    # Integers of another width join as they are.
    narrow = pd.DataFrame({"customer_id": pd.array([1, 2], dtype="int32"), "plan": ["a", "b"]})
    got = jl.customer_segments(log, Segments("plan", customers=narrow, top=None))
    assert got["plan"].tolist() == ["a", "b", MISSING, MISSING]


def test_reserved_names_as_values_are_refused():
    log = _log([(1, 0, "(other)"), (2, 0, "a")])
    with pytest.raises(JourneyDataError, match=r"by='plan'.*'\(other\)'.*1 rows.*reserved"):
        jl.customer_segments(log, "plan")
    table = pd.DataFrame({"customer_id": [1, 2], "tier": ["(missing)", "x"]})
    with pytest.raises(JourneyDataError, match=r"customer table's column.*reserved"):
        jl.customer_segments(log.assign(plan="a"), Segments("tier", customers=table))
