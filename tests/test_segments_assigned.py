"""Segments already assigned (journey_lib.Segments.assigned): a table of one row per
customer taken as it is, with no rule and no fold, on every engine; bad tables refused."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity, to_engine

import journey_lib as jl
from journey_lib.analytics.segments import MISSING, OTHER, Segments
from journey_lib.errors import JourneyDataError, JourneyParameterError

#: Five customers; customer 5 is not in the table below.
LOG = pd.DataFrame(
    {
        "customer_id": [1, 1, 2, 3, 3, 4, 5],
        "timestamp": pd.to_datetime(
            [
                "2024-01-03",
                "2024-02-05",
                "2024-01-10",
                "2024-01-20",
                "2024-02-01",
                "2024-02-10",
                "2024-02-11",
            ],
            utc=True,
        ),
        "event": ["visit", "visit", "visit", "visit", "visit", "visit", "visit"],
    }
)
#: Customer 1 is assigned the bucket name (other) and customer 4 (missing), as a table
#: computed with a top fold holds them; customer 2 has no value.
TABLE = pd.DataFrame(
    {"customer_id": [1, 2, 3, 4], "tier": [OTHER, None, "gold", MISSING]},
)


@pytest.mark.parametrize("engine", ENGINES)
def test_values_are_taken_as_they_are(engine):
    got = parity(jl.customer_segments, LOG, engine, Segments.assigned(TABLE))
    got = got.sort_values("customer_id", ignore_index=True)
    # 2: no value, 5: not in the table, 4: assigned (missing) -- all three in (missing).
    assert got["tier"].tolist() == [OTHER, MISSING, "gold", MISSING, MISSING]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_customer_assigned_other_is_counted_in_that_block(engine):
    got = parity(jl.retention, LOG, engine, by=Segments.assigned(TABLE))
    cells = {
        (row.tier, row.cohort.strftime("%Y-%m"), row.period): (row.cohort_size, row.customers)
        for row in got.itertuples()
    }
    # Customer 1 alone is (other): January cohort, back in February.
    assert {k: v for k, v in cells.items() if k[0] == OTHER} == {
        (OTHER, "2024-01", 0): (1, 1),
        (OTHER, "2024-01", 1): (1, 1),
    }
    # (missing): customer 2 (January, never back), 4 and 5 (February).
    assert cells[(MISSING, "2024-01", 0)] == (1, 1)
    assert cells[(MISSING, "2024-01", 1)] == (1, 0)
    assert cells[(MISSING, "2024-02", 0)] == (2, 2)
    assert cells[("gold", "2024-01", 1)] == (1, 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_computed_table_splits_like_the_breakdown_it_came_from(engine):
    log = LOG.assign(
        plan=["a", "a", "b", "c", "c", "b", "d"],
        event=["ad_view", "purchase", "ad_view", "site_visit", "purchase", "ad_view", "signup"],
    )
    table = collect(jl.customer_segments(to_engine(log, engine), "plan", top=2))
    assert (table["plan"] == OTHER).any()  # the fold happened, so (other) is handed on
    for func in (jl.retention, jl.stage_funnel):
        want = parity(func, log, engine, by="plan", top=2)
        got = parity(func, log, engine, by=Segments.assigned(table))
        assert_same_frame(got, want)


def test_whole_numbers_are_written_as_text_and_columns_can_be_chosen():
    table = TABLE.assign(flag=[1, 0, 1, 1])
    got = jl.customer_segments(LOG, Segments.assigned(table, by="flag"))
    assert got.columns.tolist() == ["customer_id", "flag"]
    assert got["flag"].tolist() == ["1", "0", "1", "1", MISSING]
    both = jl.customer_segments(LOG, Segments.assigned(table))
    assert both.columns.tolist() == ["customer_id", "tier", "flag"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_customer_listed_twice_is_refused(engine):
    twice = pd.concat([TABLE, TABLE.iloc[[2]]], ignore_index=True)
    with pytest.raises(JourneyDataError, match=r"lists 1 customer_id\(s\) more than once.*\[3\]"):
        collect(jl.retention(to_engine(LOG, engine), by=Segments.assigned(twice)))


def test_a_column_the_table_lacks_is_refused():
    with pytest.raises(JourneyDataError, match="assigned segments has no such column"):
        jl.customer_segments(LOG.assign(plan="a"), Segments.assigned(TABLE, by="plan"))


def test_assigned_segments_take_no_rule_and_no_top():
    with pytest.raises(JourneyParameterError, match=r"Segments.assigned\(table\)"):
        Segments("tier", customers=TABLE, as_given=True)  # top is 10 by default
    with pytest.raises(JourneyParameterError, match=r"Segments.assigned\(table\)"):
        Segments("tier", rule="last", top=None, customers=TABLE, as_given=True)
    with pytest.raises(JourneyParameterError, match=r"Segments.assigned\(table\)"):
        Segments("tier", top=None, as_given=True)  # no table
    with pytest.raises(JourneyParameterError, match="carries its own rule and top"):
        jl.retention(LOG, by=Segments.assigned(TABLE), top=3)


def test_pyspark_takes_the_values_as_they_are(spark):
    got = parity(jl.customer_segments, LOG, "pyspark", Segments.assigned(TABLE), spark=spark)
    got = got.sort_values("customer_id", ignore_index=True)
    assert got["tier"].tolist() == [OTHER, MISSING, "gold", MISSING, MISSING]
