"""DuckDB relations of any connection, not only the default one.

Narwhals runs some DuckDB operations (as-of joins, unpivots) through the default
connection, which cannot read relations of another; every analytics function must still
answer on a user's own connection, and give the pandas answer there.
"""

from __future__ import annotations

import duckdb
import narwhals.stable.v2 as nw
import pytest

import journey_lib as jl
from tests.engines import assert_same_frame, collect

EVENTS = jl.simulate(150, seed=4).events
STEPS = ["ad_view", "site_visit", "signup", "purchase"]
STAGED = jl.assign_stages(EVENTS)

CALLS = {
    "funnel": (EVENTS, lambda e: jl.funnel(e, STEPS, window="14D")),
    "funnel breakdown": (
        EVENTS,
        lambda e: jl.funnel(e, STEPS, breakdown="channel", breakdown_attribution="last"),
    ),
    "funnel any order": (EVENTS, lambda e: jl.funnel(e, STEPS[:3], order="any")),
    "funnel_trend": (EVENTS, lambda e: jl.funnel_trend(e, STEPS[:2], period="month")),
    "time_to_convert": (EVENTS, lambda e: jl.time_to_convert(e, STEPS[:2])),
    "stage_funnel": (STAGED, jl.stage_funnel),
    "transition_matrix": (EVENTS, jl.transition_matrix),
    "paths": (EVENTS, lambda e: jl.paths(e, max_steps=3)),
    "sessionize": (EVENTS, jl.sessionize),
    "retention": (EVENTS, jl.retention),
    "churn_rate": (EVENTS, jl.churn_rate),
    "lifecycle": (EVENTS, jl.lifecycle),
    "rfm": (EVENTS, lambda e: jl.rfm(e, observation_end="2024-06-30")),
}


CUTOFF = jl.Segments("channel", rule="at_cutoff", cutoff="2024-06-01")
# Analytics over calendar periods, which a connection's time zone must not move.
CALLS |= {
    "retention by week": (EVENTS, lambda e: jl.retention(e, period="week")),
    "churn_rate by day, segments at a cutoff": (
        EVENTS,
        lambda e: jl.churn_rate(e, period="day", inactivity="30D", by=CUTOFF),
    ),
    "funnel_trend by week, segments at a cutoff": (
        EVENTS,
        lambda e: jl.funnel_trend(e, STEPS[:2], period="week", by=CUTOFF),
    ),
    "stage_flows": (EVENTS, lambda e: jl.stage_flows(e, unmapped="ignore")),
    "volumes": (EVENTS, lambda e: jl.volumes(e, period="month", unmapped="ignore")),
}
#: DuckDB reads a timestamp with time zone in the connection's zone, the machine's unless
#: set: UTC, and zones behind and ahead of it (half an hour off, as Kolkata).
ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]


def connection(zone: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    return con


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", list(CALLS))
def test_relations_of_another_connection_give_the_pandas_answer(name, zone):
    """On a connection of its own, in any time zone: periods are UTC periods, as pandas'
    (before, a zone other than UTC was an error from Narwhals or moved the periods)."""
    events, call = CALLS[name]
    con = connection(zone)
    relation = con.from_arrow(nw.from_native(events).to_arrow())
    got = call(relation)
    assert isinstance(got, duckdb.DuckDBPyRelation)
    want = collect(call(events))
    columns = list(want.columns)
    assert_same_frame(collect(got), want, sort_by=columns[: min(3, len(columns))])
    con.close()


@pytest.mark.parametrize("zone", ZONES[1:])
def test_eager_answers_from_a_relation_in_another_zone_are_the_pandas_answers(zone):
    """Functions that answer in pandas whatever the log: loyalty's tables, the report's
    headline and the monitor's series, on a relation of a connection in another zone."""
    con = connection(zone)
    relation = con.from_arrow(nw.from_native(EVENTS).to_arrow())

    def utc(frame):
        return collect(frame)

    got, want = jl.loyalty(relation, period="month"), jl.loyalty(EVENTS, period="month")
    assert_same_frame(utc(got.by_period), utc(want.by_period))
    assert_same_frame(utc(got.advocates), utc(want.advocates), sort_by=["customer_id"])
    assert_same_frame(utc(got.referrals), utc(want.referrals))
    got, want = jl.monitor_series(relation), jl.monitor_series(EVENTS)
    assert_same_frame(utc(got), utc(want), sort_by=list(want.columns[:3]))
    got = jl.report.headline(relation, period="month")
    want = jl.report.headline(EVENTS, period="month")
    assert_same_frame(utc(got.table), utc(want.table))
    assert_same_frame(utc(got.trend), utc(want.trend))
    con.close()


def test_ordered_funnels_follow_chains_with_as_of_joins_on_any_connection(monkeypatch):
    """The fast path, not a fallback: with the window-function chain disabled, an ordered
    funnel on a relation of a user's own connection still gives the pandas answer."""
    from journey_lib.analytics import funnels

    def no_fallback(*args, **kwargs):
        raise AssertionError("followed chains with window functions")

    want = collect(jl.funnel(EVENTS, STEPS, window="14D", entry="first"))
    monkeypatch.setattr(funnels, "_sequence_attempts", no_fallback)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    relation = con.from_arrow(nw.from_native(EVENTS).to_arrow())
    got = jl.funnel(relation, STEPS, window="14D", entry="first")
    assert_same_frame(collect(got), want, sort_by=["step"])
    con.close()


def test_a_pandas_customer_table_joins_a_log_of_another_connection():
    """Segments from a customer table given as pandas are read onto the log's own
    connection, so a user's connection needs no table of its own."""
    sim = jl.simulate(150, seed=4, progress=False)
    by = jl.Segments("segment", customers=sim.customers)
    want = collect(jl.churn_rate(sim.events, by=by))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    relation = con.from_arrow(nw.from_native(sim.events).to_arrow())
    got = jl.churn_rate(relation, by=by)
    assert isinstance(got, duckdb.DuckDBPyRelation)
    assert_same_frame(collect(got), want, sort_by=list(want.columns[:2]))
    con.close()


def test_a_relation_with_query_parameters_gives_the_pandas_answer():
    """Its query cannot be inlined into the as-of join, so its chains are followed with
    window functions."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("ev", nw.from_native(EVENTS).to_arrow())
    relation = con.sql("SELECT * FROM ev WHERE customer_id > ?", params=[3])
    want = collect(jl.funnel(EVENTS[EVENTS["customer_id"] > 3], STEPS, window="14D"))
    got = jl.funnel(relation, STEPS, window="14D")
    assert_same_frame(collect(got), want, sort_by=["step"])
    con.close()


def test_a_customer_table_that_cannot_be_read_onto_the_connection_is_a_clear_error():
    """A table of the scan's name on the connection would be read instead of the customer
    table (wrong segments), and replacement scans can be switched off: both refused."""
    sim = jl.simulate(150, seed=4, progress=False)
    by = jl.Segments("segment", customers=sim.customers)
    setups = ("CREATE TABLE _jl_table AS SELECT 1 AS x", "SET python_enable_replacements = false")
    for setup in setups:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(setup)
        relation = con.from_arrow(nw.from_native(sim.events).to_arrow())
        with pytest.raises(jl.JourneyParameterError, match=r"con.from_df\(table\)"):
            jl.churn_rate(relation, by=by)
        con.close()
