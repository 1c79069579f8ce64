"""volumes, touchpoints_per_customer and timeline: hand-computed logs, a brute-force pandas
reference on random logs, bad input, and parity on every engine (PySpark included).

Times in the hand-made logs are UTC; 2024-01-01 is a Monday.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity, to_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.touchpoints import timeline, touchpoints_per_customer, volumes

VOLUME_COLUMNS = ["period", "touchpoints", "customers", "complete"]


def log(*rows):
    """A log from (customer, time, event, channel) tuples; channel may be None."""
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "channel"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    return frame.astype({"event": "str", "channel": "str"})


def utc(text):
    return pd.Timestamp(text, tz="UTC")


# Customer 1: two ads in the first week (Monday and Sunday), a purchase the next Monday.
# Customer 2: an ad and a visit in week one, a visit in week two without a channel.
# Customer 3: an event no framework maps, in week two.
SHOP = log(
    (1, "2024-01-01 09:00", "ad_view", "tv"),
    (1, "2024-01-07 23:59", "ad_view", "search"),
    (1, "2024-01-08 00:00", "purchase", "web"),
    (2, "2024-01-03 12:00", "ad_view", "tv"),
    (2, "2024-01-03 13:00", "site_visit", "web"),
    (2, "2024-01-09 08:00", "site_visit", None),
    (3, "2024-01-10 10:00", "mystery", "web"),
)


# --------------------------------------------------------------------------------------------
# volumes: worked examples
# --------------------------------------------------------------------------------------------


def test_volumes_by_channel_fill_zeros_and_put_missing_last():
    got = volumes(SHOP, by="channel")
    weeks = [utc("2024-01-01")] * 4 + [utc("2024-01-08")] * 4
    want = pd.DataFrame(
        {
            "period": weeks,
            "channel": ["search", "tv", "web", None] * 2,
            # Week one: search 1 (c1), tv 2 (c1, c2), web 1 (c2); week two: web 2 (c1, c3),
            # one visit without a channel (c2).
            "touchpoints": [1, 2, 1, 0, 0, 0, 2, 1],
            "customers": [1, 2, 1, 0, 0, 0, 2, 1],
            # "Now" is 2024-01-10 10:00, inside week two.
            "complete": [True] * 4 + [False] * 4,
        }
    )
    assert_same_frame(got, want)
    assert got["channel"].isna().tolist() == [False, False, False, True] * 2


def test_volumes_count_distinct_customers_and_all_touchpoints():
    got = volumes(SHOP, by=None, period="month")
    assert got.to_dict("records") == [
        {"period": utc("2024-01-01"), "touchpoints": 7, "customers": 3, "complete": False}
    ]
    weekly = volumes(SHOP, by=None)
    # A Sunday 23:59 belongs to the week starting the Monday before; midnight opens the next.
    assert weekly["touchpoints"].tolist() == [4, 3]
    assert weekly["customers"].tolist() == [2, 3]


def test_volumes_by_stage_follow_the_framework_and_keep_unmapped_touchpoints():
    with pytest.warns(jl.JourneyDataWarning, match="mystery"):
        got = volumes(SHOP)
    week_two = got[got["period"] == utc("2024-01-08")]
    assert week_two["stage"].tolist()[:-1] == [
        "Awareness",
        "Investigation & Consideration",
        "Purchase",
    ]
    assert pd.isna(week_two["stage"].iloc[-1])  # the mystery event: no stage, still counted
    assert week_two["touchpoints"].tolist() == [0, 1, 1, 1]
    assert got["touchpoints"].sum() == len(SHOP)
    business = volumes(SHOP, framework="business", unmapped="ignore")
    assert business["stage"].dropna().unique().tolist() == ["Reach", "Acquire", "Develop & Nurture"]


def test_a_period_is_complete_once_now_reaches_its_end():
    # The log ends exactly at Monday midnight: week one has ended, week two has not.
    ends_at_midnight = SHOP[SHOP["timestamp"] <= utc("2024-01-08")]
    assert volumes(ends_at_midnight, by=None)["complete"].tolist() == [True, False]


def test_volumes_replace_an_existing_stage_column():
    assert "stage" not in SHOP.columns
    stale = SHOP.assign(stage="wrong")
    got = volumes(stale, unmapped="ignore")
    assert "wrong" not in set(got["stage"].dropna())
    # The stale column is ignored: the counts are those of the log without it.
    pd.testing.assert_frame_equal(got, volumes(SHOP, unmapped="ignore"))


def test_volumes_of_an_empty_log_are_empty():
    got = volumes(SHOP.iloc[:0], by="channel")
    assert list(got.columns) == ["period", "channel", "touchpoints", "customers", "complete"]
    assert len(got) == 0


# --------------------------------------------------------------------------------------------
# touchpoints_per_customer: worked examples
# --------------------------------------------------------------------------------------------


def test_touchpoints_per_customer_is_a_histogram_of_counts():
    got = touchpoints_per_customer(SHOP)
    # Customers 1 and 2 have three touchpoints each, customer 3 one.
    assert got[["touchpoints", "customers"]].values.tolist() == [[1, 1], [3, 2]]
    np.testing.assert_allclose(got["share"], [1 / 3, 2 / 3])


def test_touchpoints_per_customer_by_group_counts_only_customers_in_the_group():
    two_ads = pd.concat([SHOP, SHOP.iloc[[0]]], ignore_index=True)  # customer 1: tv twice
    got = touchpoints_per_customer(two_ads, by="channel")
    want = pd.DataFrame(
        {
            "channel": ["search", "tv", "tv", "web", None],
            # tv: customer 2 once, customer 1 twice; web: customers 1, 2 and 3 once each;
            # no channel: customer 2 once. Customers without a group's touchpoint are absent.
            "touchpoints": [1, 1, 2, 1, 1],
            "customers": [1, 1, 1, 3, 1],
            "share": [1.0, 0.5, 0.5, 1.0, 1.0],
        }
    )
    assert_same_frame(got, want)


def test_touchpoints_per_customer_by_stage_in_framework_order():
    got = touchpoints_per_customer(SHOP, by="stage", unmapped="ignore")
    assert got["stage"].tolist()[:3] == [
        "Awareness",
        "Awareness",
        "Investigation & Consideration",
    ]
    awareness = got[got["stage"] == "Awareness"]
    assert awareness[["touchpoints", "customers"]].values.tolist() == [[1, 1], [2, 1]]
    assert pd.isna(got["stage"].iloc[-1])


# --------------------------------------------------------------------------------------------
# timeline
# --------------------------------------------------------------------------------------------


def test_timeline_keeps_the_given_order_and_times_from_each_first_touchpoint():
    got = timeline(SHOP, [2, 1, 2], unmapped="ignore")
    assert got["customer_id"].tolist() == [2, 2, 2, 1, 1, 1]
    assert got["stage"].tolist() == [
        "Awareness",
        "Investigation & Consideration",
        "Investigation & Consideration",
        "Awareness",
        "Awareness",
        "Purchase",
    ]
    np.testing.assert_allclose(
        got["days_since_first"], [0, 1 / 24, 5 + 20 / 24, 0, 6 + 14 / 24 + 59 / 1440, 6 + 15 / 24]
    )
    assert list(got.columns) == [*SHOP.columns, "stage", "days_since_first"]
    assert isinstance(got.index, pd.RangeIndex)


def test_timeline_takes_one_id_and_names_the_missing_ones():
    assert timeline(SHOP, 3, unmapped="ignore")["event"].tolist() == ["mystery"]
    with pytest.raises(jl.JourneyDataError, match=r"1 of the 2 customers.*\[99\]"):
        timeline(SHOP, [1, 99])
    with pytest.raises(jl.JourneyDataError, match="'1'"):
        timeline(SHOP, "1")  # ids are int64 here: the text "1" is another customer
    with pytest.raises(jl.JourneyParameterError, match="at least one"):
        timeline(SHOP, [])


@pytest.mark.parametrize("engine", ENGINES)
def test_timeline_returns_pandas_from_every_engine(engine):
    got = timeline(to_engine(SHOP, engine), [1, 2], unmapped="ignore")
    want = timeline(SHOP, [1, 2], unmapped="ignore")
    assert isinstance(got, pd.DataFrame)
    assert_same_frame(collect(got), want)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: volumes(SHOP, by="customer_id"), jl.JourneyParameterError, "by must be"),
        (lambda: volumes(SHOP, by=3), jl.JourneyParameterError, "by must be"),
        (lambda: volumes(SHOP, by="plan"), jl.JourneyDataError, "no column 'plan'"),
        (lambda: volumes(SHOP, period="fortnight"), jl.JourneyParameterError, "period"),
        (lambda: volumes(SHOP, framework="nope"), jl.JourneyParameterError, "framework"),
        (
            lambda: touchpoints_per_customer(SHOP, by="stage", unmapped="raise"),
            jl.JourneyDataError,
            "mystery",
        ),
        (
            lambda: touchpoints_per_customer(SHOP.drop(columns="event")),
            jl.JourneyDataError,
            "event",
        ),
        (
            lambda: volumes(SHOP.assign(timestamp=SHOP["timestamp"].astype(str))),
            jl.JourneyDataError,
            "not a datetime",
        ),
        (lambda: timeline([1, 2], [1]), jl.JourneyParameterError, "DataFrame"),
    ],
)
def test_bad_arguments_are_explained(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------------------------
# properties against a brute-force pandas reference on random small logs
# --------------------------------------------------------------------------------------------

PANDAS_PERIOD = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}


def groups_of(events, by):
    """Each row's group as text (None when missing): the stage, or the column's value."""
    if by is None:
        return pd.Series("all", index=events.index)
    if by == "stage":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jl.JourneyDataWarning)
            values = jl.assign_stages(events)["stage"]
    else:
        values = events[by]
    return values.astype("object").where(values.notna(), None)


def group_order(groups, by):
    """Groups in the documented order: framework order or ascending text, missing last."""
    present = {g for g in groups if g is not None}
    if by == "stage":
        ordered = [s for s in jl.get_framework("customer_journey").stages if s in present]
    else:
        ordered = sorted(present)
    return ordered + [None] * (None in set(groups))


def ref_volumes(events, by, period):
    freq = PANDAS_PERIOD[period]
    naive = events["timestamp"].dt.tz_localize(None)
    periods = naive.dt.to_period(freq)
    now = naive.max()
    groups = groups_of(events, by)
    rows = []
    for p in sorted(set(periods)):
        for g in group_order(groups, by):
            here = (periods == p) & groups.map(lambda v, g=g: v == g)
            row = {"period": p.start_time.tz_localize("UTC")}
            if by is not None:
                row[by] = g
            row["touchpoints"] = int(here.sum())
            row["customers"] = events.loc[here, "customer_id"].nunique()
            row["complete"] = (p + 1).start_time <= now
            rows.append(row)
    columns = ["period", *([by] if by else []), "touchpoints", "customers", "complete"]
    return pd.DataFrame(rows, columns=columns)


def ref_touchpoints_per_customer(events, by):
    groups = groups_of(events, by)
    rows = []
    for g in group_order(groups, by):
        mine = events[groups.map(lambda v, g=g: v == g)]
        per_customer = mine.groupby("customer_id").size()
        histogram = per_customer.value_counts().sort_index()
        for n, customers in histogram.items():
            row = {} if by is None else {by: g}
            row.update(touchpoints=n, customers=customers, share=customers / len(per_customer))
            rows.append(row)
    columns = [*([by] if by else []), "touchpoints", "customers", "share"]
    return pd.DataFrame(rows, columns=columns)


START = pd.Timestamp("2024-01-01", tz="UTC")
random_logs = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(0, 120 * 24 * 3600),  # seconds into the log: about four months
        st.sampled_from(["ad_view", "site_visit", "purchase", "review", "mystery"]),
        st.sampled_from(["tv", "web", "", None]),
    ),
    min_size=1,
    max_size=40,
).map(
    lambda rows: pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": (START + pd.to_timedelta([r[1] for r in rows], unit="s")).as_unit("us"),
            "event": pd.Series([r[2] for r in rows], dtype="str"),
            "channel": pd.Series([r[3] for r in rows], dtype="str"),
        }
    )
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    events=random_logs,
    by=st.sampled_from([None, "stage", "channel", "event"]),
    period=st.sampled_from(["day", "week", "month", "quarter"]),
)
def test_volumes_property(events, by, period):
    got = volumes(events, by=by, period=period, unmapped="ignore")
    want = ref_volumes(events, by, period)
    assert_same_frame(got, want)
    per_period = got.groupby("period")["touchpoints"].sum()
    assert per_period.sum() == len(events)  # groups add up: nothing is lost


@FAST
@given(events=random_logs, by=st.sampled_from([None, "stage", "channel", "event"]))
def test_touchpoints_per_customer_property(events, by):
    got = touchpoints_per_customer(events, by=by, unmapped="ignore")
    assert_same_frame(got, ref_touchpoints_per_customer(events, by))
    total = (got["touchpoints"] * got["customers"]).sum()
    assert total == len(events)


# --------------------------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    events = jl.simulate(300, seed=21).events[list(jl.CANONICAL_COLUMNS)]
    # Some touchpoints without a channel, so missing groups cross every engine too.
    return events.assign(channel=events["channel"].where(events.index % 7 != 0))


CALLS = {
    "volumes-stage": (volumes, {}),
    "volumes-channel-month": (volumes, {"by": "channel", "period": "month"}),
    "volumes-all-days": (volumes, {"by": None, "period": "day"}),
    "per-customer": (touchpoints_per_customer, {}),
    "per-customer-stage": (touchpoints_per_customer, {"by": "stage"}),
    "per-customer-channel": (touchpoints_per_customer, {"by": "channel"}),
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


def test_timeline_on_pyspark(spark, simulated):
    chosen = simulated["customer_id"].unique()[:3].tolist()
    got = timeline(spark.createDataFrame(simulated), chosen)
    assert_same_frame(collect(got), timeline(simulated, chosen))
