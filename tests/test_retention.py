"""retention, churn_rate and lifecycle: worked examples, a brute-force reference, properties,
every engine (PySpark included) and the real public clickstream."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, SHARED_DATA, assert_same_frame, collect, missing, parity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.retention import (
    LIFECYCLE_STATUSES,
    churn_rate,
    lifecycle,
    retention,
    retention_matrix,
)

FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
RETENTION_COLUMNS = ["cohort", "period", "cohort_size", "customers", "rate", "complete"]
CHURN_COLUMNS = [
    "period",
    "active_start",
    "lost",
    "churn_rate",
    "new",
    "reactivated",
    "active_end",
]


def log(*rows):
    """A touchpoint log from (customer, time, event) triples; times are UTC."""
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601").dt.as_unit(
        "us"
    )
    return frame


def utc(text):
    return pd.Timestamp(text, tz="UTC")


def months(*texts):
    return [utc(t) for t in texts]


def as_list(value):
    return None if value is None else [value] if isinstance(value, str) else list(value)


# --------------------------------------------------------------------------------------------
# Brute-force references, written from the docstrings' definitions with pandas Periods and
# Python sets (one loop per cohort, period and customer: slow, and plainly right).
# --------------------------------------------------------------------------------------------


def _naive(events):
    return events["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)


def ref_retention(
    events, period="month", kind="on", cohort_event=None, return_event=None, max_periods=None
):
    freq = FREQ[period]
    frame = events.assign(ts=_naive(events))
    now = frame["ts"].max()
    now_period = now.to_period(freq)
    starts = frame if cohort_event is None else frame[frame["event"].isin(as_list(cohort_event))]
    first = starts.groupby("customer_id")["ts"].min()
    if first.empty:
        return pd.DataFrame(columns=RETENTION_COLUMNS)
    back = frame if return_event is None else frame[frame["event"].isin(as_list(return_event))]
    back = back[back["customer_id"].isin(first.index)]
    back = back[back["ts"] >= back["customer_id"].map(first)]
    returned = {
        customer: set(times.dt.to_period(freq))
        for customer, times in back.groupby("customer_id")["ts"]
    }
    rows = []
    cohort_of = first.dt.to_period(freq)
    for cohort, members in cohort_of.groupby(cohort_of):
        last = (now_period - cohort).n
        if max_periods is not None:
            last = min(last, max_periods)
        for k in range(last + 1):
            target = cohort + k
            if kind == "on":
                kept = sum(target in returned.get(m, ()) for m in members.index)
            else:
                kept = sum(any(p >= target for p in returned.get(m, ())) for m in members.index)
            rows.append(
                {
                    "cohort": cohort.start_time.tz_localize("UTC"),
                    "period": k,
                    "cohort_size": len(members),
                    "customers": kept,
                    "rate": kept / len(members),
                    "complete": (target + 1).start_time <= now,
                }
            )
    return pd.DataFrame(rows, columns=RETENTION_COLUMNS)


def ref_churn(events, period="month", inactivity="90D", event=None):
    freq, window = FREQ[period], pd.Timedelta(inactivity)
    frame = events.assign(ts=_naive(events))
    now = frame["ts"].max()
    p = frame["ts"].min().to_period(freq)
    if event is not None:
        frame = frame[frame["event"].isin(as_list(event))]
    times = {c: t.to_numpy() for c, t in frame.groupby("customer_id")["ts"]}
    first = frame.groupby("customer_id")["ts"].min()

    def active(t):
        lo, hi = np.datetime64(t - window), np.datetime64(t)
        return {c for c, ts in times.items() if ((ts >= lo) & (ts < hi)).any()}

    rows = []
    while (p + 1).start_time <= now:
        s, e = p.start_time, (p + 1).start_time
        at_start, at_end = active(s), active(e)
        new = {c for c in at_end - at_start if s <= first[c] < e}
        rows.append(
            {
                "period": s.tz_localize("UTC"),
                "active_start": len(at_start),
                "lost": len(at_start - at_end),
                "churn_rate": len(at_start - at_end) / len(at_start) if at_start else math.nan,
                "new": len(new),
                "reactivated": len(at_end - at_start - new),
                "active_end": len(at_end),
            }
        )
        p += 1
    return pd.DataFrame(rows, columns=CHURN_COLUMNS)


def ref_lifecycle(events, period="month", event=None):
    freq = FREQ[period]
    frame = events.assign(ts=_naive(events))
    now = frame["ts"].max()
    p, last = frame["ts"].min().to_period(freq), now.to_period(freq)
    if event is not None:
        frame = frame[frame["event"].isin(as_list(event))]
    frame = frame.assign(per=frame["ts"].dt.to_period(freq))
    active = frame.groupby("per")["customer_id"].agg(set).to_dict()
    first = frame.groupby("customer_id")["per"].min().to_dict()
    rows = []
    while p <= last:
        cur, prev = active.get(p, set()), active.get(p - 1, set())
        new = {c for c in cur if first[c] == p}
        counts = {
            "new": len(new),
            "returning": len(cur & prev),
            "resurrecting": len(cur - prev - new),
            "dormant": -len(prev - cur),
        }
        for status in LIFECYCLE_STATUSES:
            rows.append(
                {
                    "period": p.start_time.tz_localize("UTC"),
                    "status": status,
                    "customers": counts[status],
                    "complete": (p + 1).start_time <= now,
                }
            )
        p += 1
    return pd.DataFrame(rows, columns=["period", "status", "customers", "complete"])


# --------------------------------------------------------------------------------------------
# retention: worked examples
# --------------------------------------------------------------------------------------------

# A signs up on 10 Jan but bought on 5 Jan (before signing up) and again in March; B signs up
# and buys in January and buys again on 1 Feb; C signs up in February and only visits, in
# April. The log ends on 15 April, so April is incomplete and May never appears.
SHOP = log(
    ("A", "2024-01-05 09:00", "purchase"),
    ("A", "2024-01-10 09:00", "signup"),
    ("A", "2024-03-02 12:00", "purchase"),
    ("B", "2024-01-20 10:00", "signup"),
    ("B", "2024-01-25 10:00", "purchase"),
    ("B", "2024-02-01 00:00", "purchase"),
    ("C", "2024-02-03 08:00", "signup"),
    ("C", "2024-04-15 18:00", "visit"),
)


def test_retention_any_event_by_hand():
    got = retention(SHOP)
    assert list(got.columns) == RETENTION_COLUMNS
    assert got["cohort"].tolist() == months(*["2024-01-01"] * 4, *["2024-02-01"] * 3)
    assert got["period"].tolist() == [0, 1, 2, 3, 0, 1, 2]
    assert got["cohort_size"].tolist() == [2, 2, 2, 2, 1, 1, 1]
    # Offset 0 is 100% by definition: the first event is its own return.
    assert got["customers"].tolist() == [2, 1, 1, 0, 1, 0, 1]
    assert got["rate"].tolist() == [1.0, 0.5, 0.5, 0.0, 1.0, 0.0, 1.0]
    # April holds the last timestamp: not yet ended, so not a drop.
    assert got["complete"].tolist() == [True, True, True, False, True, True, False]


def test_retention_with_cohort_and_return_events_by_hand():
    got = retention(SHOP, cohort_event="signup", return_event="purchase")
    assert got["cohort_size"].tolist() == [2, 2, 2, 2, 1, 1, 1]
    # Offset 0: B bought after signing up; A's January purchase came before the signup.
    assert got["customers"].tolist() == [1, 1, 1, 0, 0, 0, 0]
    on_or_after = retention(
        SHOP, kind="on_or_after", cohort_event="signup", return_event="purchase"
    )
    assert on_or_after["customers"].tolist() == [2, 2, 1, 0, 0, 0, 0]
    # A list of events means any of them.
    both = retention(SHOP, cohort_event=["signup"], return_event=["purchase", "visit"])
    assert both["customers"].tolist() == [1, 1, 1, 0, 0, 0, 1]


def test_retention_offset_zero_counts_the_cohort_event_itself():
    buys = retention(SHOP, cohort_event="purchase", return_event="purchase")
    # Cohorts by first purchase: A and B in January. Their first purchase is offset 0.
    assert buys["cohort_size"].tolist() == [2, 2, 2, 2]
    assert buys["customers"].tolist() == [2, 1, 1, 0]


def test_retention_max_periods():
    got = retention(SHOP, max_periods=1)
    assert got["period"].tolist() == [0, 1, 0, 1]
    assert got["customers"].tolist() == [2, 1, 1, 0]
    # On-or-after still counts returns beyond the last offset shown.
    after = retention(SHOP, kind="on_or_after", max_periods=1)
    assert after["customers"].tolist() == [2, 2, 1, 1]
    assert retention(SHOP, max_periods=0)["period"].tolist() == [0, 0]


def test_retention_reports_empty_periods_as_zeros_not_gaps():
    events = log(
        (1, "2024-01-15", "visit"),
        (1, "2024-03-15", "visit"),
        (2, "2024-05-15", "visit"),
    )
    got = retention(events)
    # Nobody did anything in February or April: they are rows with zeros.
    assert got["period"].tolist() == [0, 1, 2, 3, 4, 0]
    assert got["customers"].tolist() == [1, 0, 1, 0, 0, 1]
    assert got["complete"].tolist() == [True, True, True, True, False, False]


def test_a_period_ending_exactly_at_the_last_timestamp_is_complete():
    events = log((1, "2024-01-15", "visit"), (1, "2024-03-01 00:00:00", "visit"))
    got = retention(events)
    assert got["complete"].tolist() == [True, True, False]
    assert got["customers"].tolist() == [1, 0, 1]


def test_retention_weeks_start_on_monday():
    events = log(
        (1, "2024-01-07 23:59", "visit"),  # Sunday
        (1, "2024-01-08 00:00", "visit"),  # Monday: the next week
        (2, "2024-01-08 12:00", "visit"),
        (2, "2024-01-22 12:00", "visit"),
    )
    got = retention(events, period="week")
    assert got["cohort"].tolist() == months(*["2024-01-01"] * 4, *["2024-01-08"] * 3)
    assert got["customers"].tolist() == [1, 1, 0, 0, 1, 0, 1]


@pytest.mark.parametrize("period", list(FREQ))
def test_retention_matches_the_reference_on_simulated_data(simulated, period):
    for kind in ("on", "on_or_after"):
        got = retention(simulated, period=period, kind=kind, max_periods=40)
        want = ref_retention(simulated, period=period, kind=kind, max_periods=40)
        assert_same_frame(got, want)


def test_retention_with_events_matches_the_reference(simulated):
    kwargs = {"cohort_event": "purchase", "return_event": ["purchase", "review"]}
    for kind in ("on", "on_or_after"):
        got = retention(simulated, kind=kind, **kwargs)
        assert_same_frame(got, ref_retention(simulated, kind=kind, **kwargs))


def test_retention_without_matching_cohort_events_is_empty():
    got = retention(SHOP, cohort_event="hologram")
    assert list(got.columns) == RETENTION_COLUMNS
    assert len(got) == 0


def test_retention_matrix():
    result = retention(SHOP)
    table = retention_matrix(result)
    assert table.index.tolist() == months("2024-01-01", "2024-02-01")
    assert table.columns.tolist() == [0, 1, 2, 3]
    assert table.columns.name == "period"
    # Incomplete cells and offsets a cohort has not reached are missing, never zeros.
    np.testing.assert_array_equal(
        table.to_numpy(), [[1.0, 0.5, 0.5, np.nan], [1.0, 0.0, np.nan, np.nan]]
    )
    counts = retention_matrix(result, "customers", complete_only=False)
    np.testing.assert_array_equal(counts.to_numpy(), [[2, 1, 1, 0], [1, 0, 1, np.nan]])
    import polars as pl

    lazy = retention(pl.from_pandas(SHOP).lazy())
    pd.testing.assert_frame_equal(retention_matrix(lazy), table, check_index_type=False)
    with pytest.raises(jl.JourneyDataError, match="retention\\(\\) result"):
        retention_matrix(SHOP)
    with pytest.raises(jl.JourneyParameterError, match="values"):
        retention_matrix(result, "share")


# --------------------------------------------------------------------------------------------
# churn_rate: worked examples
# --------------------------------------------------------------------------------------------


def test_churn_rate_by_hand():
    events = log(
        ("X", "2024-01-05", "purchase"),
        ("X", "2024-04-10", "purchase"),
        ("Z", "2024-02-01 00:00", "purchase"),  # exactly at a period start
        ("Y", "2024-06-15", "visit"),  # ends the log: June is incomplete
    )
    got = churn_rate(events, inactivity="30D")
    assert list(got.columns) == CHURN_COLUMNS
    assert got["period"].tolist() == months(
        "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"
    )
    # X: active at 1 Feb, lapsed by 1 Mar (lost in February), back in April (reactivated),
    # lapsed again by 1 June (lost in May). Z's event at 1 Feb 00:00 belongs to February:
    # active at 1 March, not at 1 February; lost in March.
    assert got["active_start"].tolist() == [0, 1, 1, 0, 1]
    assert got["lost"].tolist() == [0, 1, 1, 0, 1]
    assert got["new"].tolist() == [1, 1, 0, 0, 0]
    assert got["reactivated"].tolist() == [0, 0, 0, 1, 0]
    assert got["active_end"].tolist() == [1, 1, 0, 1, 0]
    np.testing.assert_array_equal(got["churn_rate"], [np.nan, 1.0, 1.0, np.nan, 1.0])


def test_churn_rate_longer_inactivity_and_event_filter():
    events = log(
        ("X", "2024-01-05", "purchase"),
        ("X", "2024-02-20", "visit"),
        ("X", "2024-04-10", "purchase"),
        ("W", "2024-01-20", "purchase"),
        ("Y", "2024-06-15", "visit"),
    )
    got = churn_rate(events, inactivity="60D")
    # 60 days: X stays active through the visit (1 Feb .. 1 Jun), W lapses by 1 April.
    assert got["active_start"].tolist() == [0, 2, 2, 1, 1]
    assert got["lost"].tolist() == [0, 0, 1, 0, 0]
    assert got["churn_rate"].tolist()[1:] == [0.0, 0.5, 0.0, 0.0]
    purchases = churn_rate(events, inactivity="60D", event="purchase")
    # Counting purchases only, X lapses by 1 April and comes back in April.
    assert purchases["active_start"].tolist() == [0, 2, 2, 0, 1]
    assert purchases["lost"].tolist() == [0, 0, 2, 0, 0]
    assert purchases["reactivated"].tolist() == [0, 0, 0, 1, 0]


def test_churn_rate_inactivity_shorter_than_the_period():
    events = log(
        (1, "2024-01-03", "visit"),  # comes and goes within January: in no count
        (2, "2024-01-30", "visit"),
        (3, "2024-03-02", "visit"),
    )
    got = churn_rate(events, inactivity="7D")
    assert got["active_start"].tolist() == [0, 1]
    assert got["new"].tolist() == [1, 0]
    assert got["lost"].tolist() == [0, 1]


def test_churn_rate_reports_complete_periods_only():
    events = log((1, "2024-01-15", "visit"), (1, "2024-01-31 23:59:59", "visit"))
    assert len(churn_rate(events)) == 0
    events = log((1, "2024-01-15", "visit"), (1, "2024-02-01 00:00:00", "visit"))
    assert churn_rate(events)["period"].tolist() == months("2024-01-01")


@pytest.mark.parametrize(
    ("period", "inactivity"),
    [("month", "90D"), ("month", "30D"), ("week", "14D"), ("day", "36h"), ("quarter", "180D")],
)
def test_churn_rate_matches_the_reference_on_simulated_data(simulated, period, inactivity):
    got = churn_rate(simulated, period=period, inactivity=inactivity)
    assert_same_frame(got, ref_churn(simulated, period=period, inactivity=inactivity))
    identity = got["active_start"] - got["lost"] + got["new"] + got["reactivated"]
    assert (identity == got["active_end"]).all()
    assert (got["active_end"].iloc[:-1].to_numpy() == got["active_start"].iloc[1:]).all()


def test_churn_rate_with_event_matches_the_reference(simulated):
    got = churn_rate(simulated, event="purchase", inactivity="60D")
    assert_same_frame(got, ref_churn(simulated, event="purchase", inactivity="60D"))


def test_churn_rate_reflects_planted_churn():
    """The simulator's churn drivers show: badly kept promises raise the churn rate."""
    good = jl.simulate(1500, seed=5, keeping_promises=0.98).events
    bad = jl.simulate(1500, seed=5, keeping_promises=0.3).events
    rate = {}
    for name, events in (("good", good), ("bad", bad)):
        c = churn_rate(events, event="purchase", inactivity="120D", period="quarter")
        rate[name] = c["lost"].sum() / c["active_start"].sum()
    assert rate["bad"] > rate["good"]


# --------------------------------------------------------------------------------------------
# lifecycle: worked examples
# --------------------------------------------------------------------------------------------


def test_lifecycle_by_hand():
    events = log(
        (1, "2024-01-05", "visit"),
        (1, "2024-02-10", "visit"),
        (1, "2024-04-01", "purchase"),
        (2, "2024-02-14", "visit"),
        (3, "2024-02-20", "purchase"),
        (3, "2024-03-20", "purchase"),
        (3, "2024-05-02", "visit"),
    )
    got = lifecycle(events)
    assert list(got.columns) == ["period", "status", "customers", "complete"]
    assert got["status"].tolist() == list(LIFECYCLE_STATUSES) * 5
    wide = got.pivot(index="period", columns="status", values="customers")
    assert wide.index.tolist() == months(
        "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"
    )
    assert wide[list(LIFECYCLE_STATUSES)].to_numpy().tolist() == [
        [1, 0, 0, 0],  # January: 1 new
        [2, 1, 0, 0],  # February: 2 and 3 new, 1 returning
        [0, 1, 0, -2],  # March: 3 returning, 1 and 2 dormant (negative)
        [0, 0, 1, -1],  # April: 1 resurrecting, 3 dormant
        [0, 0, 1, -1],  # May (incomplete): 3 resurrecting, 1 dormant
    ]
    assert got.groupby("period")["complete"].first().tolist() == [True] * 4 + [False]

    purchases = lifecycle(events, event="purchase")
    wide = purchases.pivot(index="period", columns="status", values="customers")
    # Only purchases make a customer active; January and May have none (zeros, not gaps).
    assert wide[list(LIFECYCLE_STATUSES)].to_numpy().tolist() == [
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [1, 0, 0, -1],
        [0, 0, 0, -1],
    ]


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_lifecycle_matches_the_reference_on_simulated_data(simulated, period):
    got = lifecycle(simulated, period=period)
    assert_same_frame(got, ref_lifecycle(simulated, period=period))
    wide = got.pivot(index="period", columns="status", values="customers")
    active = wide["new"] + wide["returning"] + wide["resurrecting"]
    # New + resurrecting + dormant (negative) is the change in active customers.
    change = wide["new"] + wide["resurrecting"] + wide["dormant"]
    assert (change.iloc[1:].to_numpy() == active.diff().iloc[1:].to_numpy()).all()
    # Dormant now = active last period - returning now.
    previous = active.shift(1).iloc[1:]
    assert (-wide["dormant"].iloc[1:] == previous - wide["returning"].iloc[1:]).all()


def test_lifecycle_with_event_matches_the_reference(simulated):
    got = lifecycle(simulated, event=["purchase", "renewal"])
    assert_same_frame(got, ref_lifecycle(simulated, event=["purchase", "renewal"]))


# --------------------------------------------------------------------------------------------
# properties against the reference on random small logs
# --------------------------------------------------------------------------------------------

START = pd.Timestamp("2024-01-01", tz="UTC")
random_logs = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.integers(0, 200 * 24 * 3600),  # seconds into the log: about 6.5 months
        st.sampled_from(["a", "b"]),
    ),
    min_size=1,
    max_size=40,
).map(
    lambda rows: pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": (START + pd.to_timedelta([r[1] for r in rows], unit="s")).as_unit("us"),
            "event": [r[2] for r in rows],
        }
    )
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    events=random_logs,
    period=st.sampled_from(["week", "month", "quarter"]),
    kind=st.sampled_from(["on", "on_or_after"]),
    cohort_event=st.sampled_from([None, "a"]),
    return_event=st.sampled_from([None, "b"]),
    max_periods=st.sampled_from([None, 0, 2]),
)
def test_retention_property(events, period, kind, cohort_event, return_event, max_periods):
    kwargs = {
        "period": period,
        "kind": kind,
        "cohort_event": cohort_event,
        "return_event": return_event,
        "max_periods": max_periods,
    }
    got = retention(events, **kwargs)
    assert_same_frame(got, ref_retention(events, **kwargs))
    assert (got["customers"] <= got["cohort_size"]).all()
    if kind == "on_or_after":
        steps = got.groupby("cohort")["customers"].diff().dropna()
        assert (steps <= 0).all()


@FAST
@given(
    events=random_logs,
    period=st.sampled_from(["week", "month"]),
    inactivity=st.sampled_from(["1D", "10D", "30D", "45D", "90D"]),
    event=st.sampled_from([None, "a"]),
)
def test_churn_rate_property(events, period, inactivity, event):
    got = churn_rate(events, period=period, inactivity=inactivity, event=event)
    assert_same_frame(got, ref_churn(events, period=period, inactivity=inactivity, event=event))


@FAST
@given(
    events=random_logs,
    period=st.sampled_from(["day", "week", "month"]),
    event=st.sampled_from([None, "b"]),
)
def test_lifecycle_property(events, period, event):
    got = lifecycle(events, period=period, event=event)
    assert_same_frame(got, ref_lifecycle(events, period=period, event=event))


# --------------------------------------------------------------------------------------------
# time zones, inputs and arguments
# --------------------------------------------------------------------------------------------


def test_non_utc_times_are_read_in_utc():
    # 23:30 on 31 January in UTC is 00:30 on 1 February in Berlin: January, read in UTC.
    utc_log = log(
        (1, "2024-01-10", "visit"), (1, "2024-01-31 23:30", "visit"), (2, "2024-03-05", "visit")
    )
    local = utc_log.assign(timestamp=utc_log["timestamp"].dt.tz_convert("Europe/Berlin"))
    got = retention(local)
    assert got["customers"].tolist() == [1, 0, 0, 1]
    assert str(got["cohort"].dt.tz) == "UTC"
    assert_same_frame(got, retention(utc_log))
    assert_same_frame(lifecycle(local), lifecycle(utc_log))
    assert_same_frame(churn_rate(local, inactivity="30D"), churn_rate(utc_log, inactivity="30D"))


def test_naive_times_give_naive_periods():
    naive = SHOP.assign(timestamp=SHOP["timestamp"].dt.tz_localize(None))
    got = retention(naive)
    assert got["cohort"].dt.tz is None
    expected = retention(SHOP)
    assert got["cohort"].tolist() == [t.tz_localize(None) for t in expected["cohort"]]
    assert got.drop(columns="cohort").equals(expected.drop(columns="cohort"))
    assert churn_rate(naive, inactivity="30D")["period"].dt.tz is None
    assert lifecycle(naive)["period"].dt.tz is None


def test_pandas_results_are_numpy_backed():
    for result in (retention(SHOP), churn_rate(SHOP), lifecycle(SHOP)):
        assert not any(isinstance(d, pd.ArrowDtype) for d in result.dtypes), result.dtypes
        assert result.index.equals(pd.RangeIndex(len(result)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: retention(SHOP, period="fortnight"), jl.JourneyParameterError, "period"),
        (lambda: retention(SHOP, kind="rolling"), jl.JourneyParameterError, "kind"),
        (lambda: retention(SHOP, max_periods=-1), jl.JourneyParameterError, "max_periods"),
        (lambda: retention(SHOP, max_periods=2.5), jl.JourneyParameterError, "max_periods"),
        (lambda: retention(SHOP, max_periods=True), jl.JourneyParameterError, "max_periods"),
        (lambda: retention(SHOP, cohort_event=[]), jl.JourneyParameterError, "cohort_event"),
        (lambda: retention(SHOP, return_event=3), jl.JourneyParameterError, "return_event"),
        (lambda: churn_rate(SHOP, inactivity="soon"), jl.JourneyParameterError, "inactivity"),
        (lambda: churn_rate(SHOP, inactivity="-3D"), jl.JourneyParameterError, "inactivity"),
        (lambda: lifecycle(SHOP, period="hour"), jl.JourneyParameterError, "period"),
        (lambda: lifecycle(SHOP, event=[1]), jl.JourneyParameterError, "event"),
        (lambda: retention(SHOP.drop(columns="event")), jl.JourneyDataError, "event"),
        (
            lambda: churn_rate(SHOP.assign(timestamp=SHOP["timestamp"].astype(str))),
            jl.JourneyDataError,
            "not a datetime",
        ),
        (lambda: lifecycle([1, 2]), jl.JourneyParameterError, "DataFrame"),
    ],
)
def test_bad_arguments_are_explained(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_log_gives_empty_frames():
    empty = SHOP.iloc[:0]
    assert list(retention(empty).columns) == RETENTION_COLUMNS
    assert len(retention(empty)) == len(churn_rate(empty)) == len(lifecycle(empty)) == 0


def test_extra_columns_and_duplicate_events_do_not_matter():
    noisy = pd.concat([SHOP, SHOP]).assign(channel="web", value=1.0)
    assert_same_frame(retention(noisy), retention(SHOP))
    assert_same_frame(churn_rate(noisy), churn_rate(SHOP))
    assert_same_frame(lifecycle(noisy), lifecycle(SHOP))


# --------------------------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(300, seed=21).events[list(jl.CANONICAL_COLUMNS)]


CALLS = {
    "retention": (retention, {"period": "month"}),
    "retention-events": (
        retention,
        {"kind": "on_or_after", "cohort_event": "purchase", "return_event": "purchase"},
    ),
    "retention-weeks": (retention, {"period": "week", "max_periods": 10}),
    "churn_rate": (churn_rate, {"inactivity": "60D"}),
    "churn_rate-weeks": (churn_rate, {"period": "week", "inactivity": "10D"}),
    "lifecycle": (lifecycle, {"period": "month"}),
    "lifecycle-days": (lifecycle, {"period": "day", "event": "site_visit"}),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("call", list(CALLS))
def test_every_engine_matches_pandas(simulated, engine, call):
    func, kwargs = CALLS[call]
    want = collect(func(simulated, **kwargs))
    assert_same_frame(parity(func, simulated, engine, **kwargs), want)


@pytest.mark.parametrize("call", list(CALLS))
def test_pyspark_matches_pandas_and_stays_lazy(spark, simulated, call):
    func, kwargs = CALLS[call]
    want = collect(func(simulated, **kwargs))
    assert_same_frame(parity(func, simulated, "pyspark", spark=spark, **kwargs), want)


# --------------------------------------------------------------------------------------------
# real public data
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clickstream():
    path = SHARED_DATA / "events" / "ecom_clickstream.csv.gz"
    if not path.exists():
        missing(f"shared data not present: {path} (expected next to the project)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return jl.load_events(path, columns={"user_id": "customer_id"})


def test_real_clickstream_against_the_reference(clickstream):
    got = retention(clickstream, period="week")
    assert_same_frame(got, ref_retention(clickstream, period="week"))
    first_week = got[got["period"] == 0]
    assert first_week["cohort_size"].sum() == 600
    assert (first_week["rate"] == 1.0).all()
    bought = retention(clickstream, cohort_event="product_view", return_event="purchase")
    assert_same_frame(
        bought, ref_retention(clickstream, cohort_event="product_view", return_event="purchase")
    )
    assert_same_frame(
        churn_rate(clickstream, inactivity="30D"), ref_churn(clickstream, "month", "30D")
    )
    assert_same_frame(lifecycle(clickstream, period="week"), ref_lifecycle(clickstream, "week"))
    # The log runs 4 Jan - 29 Jun 2024: January to May are complete, June is not.
    life = lifecycle(clickstream)
    assert life.groupby("period")["complete"].first().tolist() == [True] * 5 + [False]
