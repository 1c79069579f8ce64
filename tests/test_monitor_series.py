"""The series change detection scans (journey_lib.monitor.series): hand-computed counts, the
periods each metric may use, segment places that add up, and every engine agreeing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, collect, to_engine

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError


def _log(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "value", "plan"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True))


# Three Monday-to-Sunday weeks from 2024-01-01; customer 3 is new in week 2.
SMALL = _log(
    [
        (1, "2024-01-01 09:00", "visit", 0.0, "basic"),
        (1, "2024-01-02 09:00", "buy", 10.0, "basic"),
        (2, "2024-01-03 09:00", "visit", 0.0, "plus"),
        (1, "2024-01-08 09:00", "visit", 0.0, "basic"),
        (3, "2024-01-09 09:00", "visit", 0.0, "plus"),
        (3, "2024-01-10 09:00", "buy", 30.0, "plus"),
        (2, "2024-01-15 09:00", "visit", 0.0, "plus"),
        (3, "2024-01-16 09:00", "visit", 0.0, "plus"),
        (3, "2024-01-21 23:00", "visit", 0.0, "plus"),
    ]
)


def _one(series, metric, detail=None, column=None, value=None):
    s = series[series["metric"] == metric]
    s = s[s["detail"].isna()] if detail is None else s[s["detail"] == detail]
    s = s[s["column"].isna()] if column is None else s[s["column"] == column]
    if value is not None:
        s = s[s["value"] == value]
    return s.reset_index(drop=True)


def test_hand_computed_weekly_series():
    s = jl.monitor_series(
        SMALL, period="week", steps=["visit", "buy"], window="3D", inactivity="7D"
    )
    assert list(s.columns) == list(jl.monitor.series.SERIES_COLUMNS)
    assert _one(s, "active customers")["count"].tolist() == [2, 2, 2]
    assert _one(s, "new customers")["count"].tolist() == [2, 1, 0]
    assert _one(s, "events", "visit")["count"].tolist() == [2, 2, 3]
    assert _one(s, "events", "buy")["count"].tolist() == [1, 1, 0]
    conv = _one(s, "conversion", "visit → buy")
    assert conv["base"].tolist() == [2, 2, 2] and conv["count"].tolist() == [1, 1, 0]
    # Retention: of week 1's two new customers only 1 is back in week 2 (2 returns in week
    # 3); week 2's one (3) is back in week 3.
    ret = _one(s, "retention")
    assert ret["base"].tolist() == [2, 1, 0] and ret["count"].tolist() == [1, 1, 0]
    money = _one(s, "revenue per customer")
    assert money["count"].tolist() == [10, 30, 0] and money["base"].tolist() == [2, 2, 2]
    churn = _one(s, "churn rate")
    # Active at the start of week 2 (an event in the 7 days before): 1 and 2; lost by its
    # end: customer 2 (nothing from the 8th to the 14th).
    assert churn["base"].tolist()[1] == 2 and churn["count"].tolist()[1] == 1


def test_used_periods_follow_each_metric_s_definition():
    s = jl.monitor_series(
        SMALL, period="week", steps=["visit", "buy"], window="3D", inactivity="7D"
    )
    # The log covers whole weeks 1-3 (its last event is on Sunday the 21st).
    assert _one(s, "active customers")["used"].tolist() == [True, True, True]
    # Conversion of week 3 could still be raised by a buy up to 3 days after Sunday.
    assert _one(s, "conversion", "visit → buy")["used"].tolist() == [True, True, False]
    # New customers, retention and churn need 7 days of memory: not week 1.
    assert _one(s, "new customers")["used"].tolist() == [False, True, True]
    # Retention needs the next week too.
    assert _one(s, "retention")["used"].tolist() == [False, True, False]
    # churn_rate counts a week once it ended by the last event (Sunday 23:00 is before).
    assert _one(s, "churn rate")["used"].tolist() == [False, True, False]


def test_partial_weeks_at_either_end_are_not_used():
    log = SMALL[SMALL["timestamp"] < "2024-01-17"]  # ends on Tuesday of week 3
    s = jl.monitor_series(log.iloc[2:], period="week", metrics=["active customers"])
    # Starts on Wednesday the 3rd: week 1 is partial too.
    assert _one(s, "active customers")["used"].tolist() == [False, True, False]


def test_segment_places_add_up_to_the_whole_log():
    sim = jl.simulate(1500, seed=4, days=120)
    events = sim.events.merge(sim.customers[["customer_id", "segment", "region"]])
    s = jl.monitor_series(events, jl.profile(events), period="week", by=["segment", "region"])
    keys = ["metric", "detail", "period"]
    whole = s[s["column"].isna()].set_index(keys)[["count", "base"]].fillna(0)
    for column in ("segment", "region"):
        parts = s[s["column"] == column].groupby(keys, dropna=False)[["count", "base"]].sum()
        parts = parts.reindex(whole.index).fillna(0)
        pd.testing.assert_frame_equal(parts, whole, check_dtype=False)
    # Each column keeps its own values: top applies per column, not to combinations.
    assert set(s.loc[s["column"] == "segment", "value"]) == {
        "consumer",
        "small_business",
        "enterprise",
    }


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_every_engine_gives_the_pandas_series(engine):
    sim = jl.simulate(600, seed=2, days=90)
    events = sim.events.merge(sim.customers[["customer_id", "segment"]])
    profile = jl.profile(events)
    want = jl.monitor_series(events, profile, period="week", by="segment")
    got = jl.monitor_series(to_engine(events, engine), profile, period="week", by="segment")
    assert isinstance(got, pd.DataFrame)
    pd.testing.assert_frame_equal(collect(got), want, check_dtype=False)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(JourneyParameterError, match="period must be one of"):
        jl.monitor_series(SMALL, period="month")
    with pytest.raises(JourneyParameterError, match="metrics must be some of"):
        jl.monitor_series(SMALL, metrics=["sales"])
    with pytest.raises(JourneyParameterError, match="at least two funnel steps"):
        jl.monitor_series(SMALL, steps=["visit"])
    with pytest.raises(JourneyDataError, match="no events"):
        jl.monitor_series(SMALL.iloc[:0])
    with pytest.raises(JourneyDataError, match="'region'"):
        jl.monitor_series(SMALL, by="region")


def test_no_money_no_revenue_series():
    s = jl.monitor_series(SMALL.assign(value=0.0), period="week")
    assert "revenue per customer" not in set(s["metric"])
    assert np.isnan(_one(s, "active customers")["base"]).all()


def test_spark_gives_the_pandas_series(spark):
    sim = jl.simulate(300, seed=2, days=90)
    events = sim.events[list(jl.CANONICAL_COLUMNS)].merge(sim.customers[["customer_id", "segment"]])
    profile = jl.profile(events)
    want = jl.monitor_series(events, profile, period="week", by="segment")
    got = jl.monitor_series(spark.createDataFrame(events), profile, period="week", by="segment")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
