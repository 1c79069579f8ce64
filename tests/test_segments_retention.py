"""Breakdowns (by=) of retention, churn_rate and lifecycle, and retention of revenue and
events: worked examples, the defining property against the function run on each segment's
customers alone, every engine (PySpark included), bad input."""

from __future__ import annotations

import math

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity, require_module
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from segment_logs import with_platform

import journey_lib as jl
from journey_lib.analytics.activity import LIFECYCLE_STATUSES, churn_rate, lifecycle
from journey_lib.analytics.retention import retention, retention_matrix
from journey_lib.analytics.segments import MISSING, OTHER, Segments
from journey_lib.errors import JourneyDataError, JourneyParameterError


def log(*rows, columns=("customer_id", "timestamp", "event", "platform")):
    """A touchpoint log from tuples; times are UTC, text columns pandas' str."""
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    for column in ("platform", "country"):
        if column in frame:
            frame[column] = frame[column].astype("str")
    return frame


def utc(text):
    return pd.Timestamp(text, tz="UTC")


def block(result, **segment):
    """The rows of ``result`` of one segment, without the segment columns."""
    keep = np.ones(len(result), dtype=bool)
    for column, value in segment.items():
        keep &= (result[column] == value).to_numpy()
    return result[keep].drop(columns=list(segment)).reset_index(drop=True)


# A (web, then app) and D (web) start in January, B (app) too; C has no platform and starts
# in February. The log ends on 2 March: March is incomplete.
SHOP = log(
    ("A", "2024-01-05", "visit", "web"),
    ("A", "2024-02-10", "visit", "app"),
    ("B", "2024-01-20", "visit", "app"),
    ("B", "2024-03-02", "visit", "app"),
    ("C", "2024-02-14", "visit", None),
    ("D", "2024-01-25", "visit", "web"),
)


# --------------------------------------------------------------------------------------------
# worked examples
# --------------------------------------------------------------------------------------------


def test_retention_by_platform_by_hand():
    got = retention(SHOP, by="platform")
    assert list(got.columns) == [
        "platform",
        "cohort",
        "period",
        "cohort_size",
        "customers",
        "rate",
        "complete",
    ]
    # By the first platform: A and D are web, B app, C (missing); blocks sorted by segment.
    assert got[["platform", "period", "cohort_size", "customers"]].values.tolist() == [
        [MISSING, 0, 1, 1],
        [MISSING, 1, 1, 0],
        ["app", 0, 1, 1],
        ["app", 1, 1, 0],
        ["app", 2, 1, 1],
        ["web", 0, 2, 2],
        ["web", 1, 2, 1],
        ["web", 2, 2, 0],
    ]
    assert got["cohort"].tolist() == [utc("2024-02-01")] * 2 + [utc("2024-01-01")] * 6
    # "Now" stays the log's (2 March) in every block: the web block's March is incomplete.
    assert got["complete"].tolist() == [True, False, True, True, False, True, True, False]
    # By the last platform A is app: the January cohort splits 2 (app) and 1 (web).
    last = retention(SHOP, by="platform", by_rule="last")
    assert block(last, platform="app")["customers"].tolist() == [2, 1, 1]
    assert block(last, platform="web")["customers"].tolist() == [1, 0, 0]


def test_churn_rate_by_platform_by_hand():
    got = churn_rate(SHOP, by="platform", inactivity="30D")
    assert list(got.columns)[:2] == ["platform", "period"]
    counts = ["active_start", "lost", "new", "reactivated", "active_end"]
    # January and February are complete in every block, C's included (zeros in January).
    assert got["platform"].tolist() == [MISSING] * 2 + ["app"] * 2 + ["web"] * 2
    assert got["period"].tolist() == [utc("2024-01-01"), utc("2024-02-01")] * 3
    assert got[counts].values.tolist() == [
        [0, 0, 0, 0, 0],
        [0, 0, 1, 0, 1],  # C is new in February
        [0, 0, 1, 0, 1],
        [1, 1, 0, 0, 0],  # B's last event (20 Jan) is over 30 days before 1 March: lost
        [0, 0, 2, 0, 2],
        [2, 1, 0, 0, 1],  # D lost, A kept by their 10 February visit
    ]
    assert got["churn_rate"].tolist()[3] == 1.0 and got["churn_rate"].tolist()[5] == 0.5
    assert math.isnan(got["churn_rate"].tolist()[0])


def test_lifecycle_by_platform_by_hand():
    got = lifecycle(SHOP, by="platform")
    assert list(got.columns) == ["platform", "period", "status", "customers", "complete"]
    assert got["status"].tolist() == list(LIFECYCLE_STATUSES) * 9
    wide = {
        segment: block(got, platform=segment)
        .pivot(index="period", columns="status", values="customers")[list(LIFECYCLE_STATUSES)]
        .to_numpy()
        .tolist()
        for segment in (MISSING, "app", "web")
    }
    assert wide == {
        MISSING: [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1]],
        "app": [[1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]],
        "web": [[2, 0, 0, 0], [0, 1, 0, -1], [0, 0, 0, -1]],
    }
    assert got["complete"].tolist() == ([True] * 8 + [False] * 4) * 3


def test_a_crossing_gives_one_block_per_combination():
    crossed = SHOP.assign(country=pd.Series(["FR", "FR", "FR", "FR", "DE", "DE"], dtype="str"))
    got = retention(crossed, by=["platform", "country"])
    assert list(got.columns)[:3] == ["platform", "country", "cohort"]
    sizes = got[got["period"] == 0][["platform", "country", "cohort_size"]]
    assert sizes.values.tolist() == [
        [MISSING, "DE", 1],
        ["app", "FR", 1],
        ["web", "DE", 1],
        ["web", "FR", 1],
    ]
    life = lifecycle(crossed, by=["platform", "country"])
    assert len(life) == 4 * 3 * 4  # four combinations, three periods, four statuses
    churn = churn_rate(crossed, by=["country", "platform"], inactivity="30D")
    assert list(churn.columns)[:2] == ["country", "platform"]
    assert churn[["country", "platform"]].drop_duplicates().values.tolist() == [
        ["DE", MISSING],
        ["DE", "web"],
        ["FR", "app"],
        ["FR", "web"],
    ]


def test_top_folds_the_smaller_segments_into_other():
    # web has 2 customers; app and (missing) 1 each: top=1 keeps web, B and C form (other).
    got = retention(SHOP, by="platform", top=1)
    assert got["platform"].unique().tolist() == [OTHER, "web"]
    other = block(got, platform=OTHER)
    assert other["cohort"].tolist() == [utc("2024-01-01")] * 3 + [utc("2024-02-01")] * 2
    assert other["customers"].tolist() == [1, 0, 1, 1, 0]
    life = lifecycle(SHOP, by="platform", top=1)
    assert life["platform"].unique().tolist() == [OTHER, "web"]
    other = block(life, platform=OTHER)
    assert other[other["status"] == "new"]["customers"].tolist() == [1, 1, 0]  # B, then C
    churn = churn_rate(SHOP, by="platform", top=2, inactivity="30D")
    # app and (missing) tie at one customer; by value "(missing)" sorts first and is kept.
    assert churn["platform"].unique().tolist() == [MISSING, OTHER, "web"]


def test_a_column_with_more_values_than_customers_folds_into_other(sim):
    # A value on every row (an order number, say): the ten largest segments keep their
    # name and the rest of the 300 customers are (other), as the default top=10 says.
    numbered = sim.events.assign(order=sim.events.index.astype(str))
    got = churn_rate(numbered, by="order")
    assert got["order"].nunique() == 11 and OTHER in set(got["order"])
    assert_same_frame(
        got.groupby("period", as_index=False)[["active_start", "lost", "new"]].sum(),
        churn_rate(sim.events)[["period", "active_start", "lost", "new"]],
    )


def test_a_customer_table_column_and_a_cutoff():
    tiers = pd.DataFrame({"customer_id": ["A", "B", "C"], "tier": ["gold", "gold", "silver"]})
    got = retention(SHOP, by=Segments("tier", customers=tiers))
    # D is not in the table: (missing).
    assert got[got["period"] == 0][["tier", "cohort_size"]].values.tolist() == [
        [MISSING, 1],
        ["gold", 2],
        ["silver", 1],
    ]
    at = Segments("platform", rule="at_cutoff", cutoff="2024-02-01")
    # Before 1 February A is web, C has no row yet: (missing).
    cut = lifecycle(SHOP, by=at)
    assert block(cut, platform="web")["customers"].tolist()[:4] == [2, 0, 0, 0]


def test_by_none_is_the_plain_result():
    for func in (retention, churn_rate, lifecycle):
        plain = func(SHOP)
        assert_same_frame(func(SHOP, by=None), plain)
        # One segment holding everyone is the plain result with a segment column.
        everyone = func(SHOP.assign(platform="all"), by="platform")
        assert_same_frame(block(everyone, platform="all"), plain)


def test_a_segment_column_named_like_a_working_column_is_read_as_data():
    # lifecycle adds up columns named new, returning, ...; churn_rate uses _j, _L, _H.
    named = SHOP.rename(columns={"platform": "new"})
    assert_same_frame(
        lifecycle(named, by="new").rename(columns={"new": "platform"}),
        lifecycle(SHOP, by="platform"),
    )
    underscored = SHOP.rename(columns={"platform": "_j"})
    assert_same_frame(
        churn_rate(underscored, by="_j").rename(columns={"_j": "platform"}),
        churn_rate(SHOP, by="platform"),
    )


def test_retention_matrix_of_a_breakdown():
    result = retention(SHOP, by="platform")
    matrix = retention_matrix(result, complete_only=False)
    assert list(matrix.index.names) == ["platform", "cohort"]
    for segment in (MISSING, "app", "web"):
        alone = retention_matrix(block(result, platform=segment), complete_only=False)
        own = matrix.loc[segment].dropna(axis=1, how="all")
        pd.testing.assert_frame_equal(own, alone, check_names=False)
    crossed = retention(SHOP.assign(country="FR"), by=["platform", "country"])
    assert list(retention_matrix(crossed).index.names) == ["platform", "country", "cohort"]


def test_pandas_breakdowns_are_numpy_backed():
    for result in (
        retention(SHOP, by="platform"),
        churn_rate(SHOP, by="platform"),
        lifecycle(SHOP, by="platform"),
    ):
        assert not any(isinstance(d, pd.ArrowDtype) for d in result.dtypes), result.dtypes
        assert result.index.equals(pd.RangeIndex(len(result)))


# --------------------------------------------------------------------------------------------
# retention of revenue and events
# --------------------------------------------------------------------------------------------

# Cohorts by signup, returns are purchases. A's purchase before signing up does not count;
# B's second January purchase has no value (0) but is an event; C signs up in February and
# never buys; the log ends on 15 April.
MONEY = log(
    ("A", "2024-01-05", "purchase", 30.0),
    ("A", "2024-01-10", "signup", 0.0),
    ("A", "2024-01-12", "purchase", 100.0),
    ("A", "2024-02-10", "purchase", 60.0),
    ("A", "2024-03-15", "purchase", 80.0),
    ("B", "2024-01-20", "signup", 0.0),
    ("B", "2024-01-25", "purchase", 50.0),
    ("B", "2024-01-26", "purchase", None),
    ("B", "2024-03-01", "purchase", 20.0),
    ("C", "2024-02-03", "signup", 0.0),
    ("C", "2024-04-15", "visit", 0.0),
    columns=("customer_id", "timestamp", "event", "value"),
)
SIGNUP_PURCHASE = {"cohort_event": "signup", "return_event": "purchase"}


def test_revenue_retention_by_hand():
    got = retention(MONEY, measure="revenue", **SIGNUP_PURCHASE)
    assert list(got.columns) == [
        "cohort",
        "period",
        "cohort_size",
        "customers",
        "cohort_revenue",
        "revenue",
        "rate",
        "complete",
    ]
    january = got[got["cohort"] == utc("2024-01-01")]
    assert january["cohort_revenue"].tolist() == [150.0] * 4
    assert january["revenue"].tolist() == [150.0, 60.0, 100.0, 0.0]
    assert january["rate"].tolist() == pytest.approx([1.0, 0.4, 100 / 150, 0.0])
    assert january["customers"].tolist() == [2, 1, 2, 0]
    assert january["complete"].tolist() == [True, True, True, False]
    # C's cohort spent nothing at offset 0: no base, so no rate (never 0 or infinite).
    february = got[got["cohort"] == utc("2024-02-01")]
    assert february["revenue"].tolist() == [0.0, 0.0, 0.0]
    assert february["rate"].isna().all()


def test_event_retention_by_hand():
    got = retention(MONEY, measure="events", **SIGNUP_PURCHASE)
    assert list(got.columns)[4:6] == ["cohort_events", "events"]
    january = got[got["cohort"] == utc("2024-01-01")]
    # A's 12 Jan and B's two January purchases at offset 0; one in February, two in March.
    assert january["cohort_events"].tolist() == [3] * 4
    assert january["events"].tolist() == [3, 1, 2, 0]
    assert january["rate"].tolist() == pytest.approx([1.0, 1 / 3, 2 / 3, 0.0])
    assert got[got["cohort"] == utc("2024-02-01")]["rate"].isna().all()
    # With any event returning, the signups themselves count at offset 0.
    any_return = retention(MONEY, measure="events", cohort_event="signup")
    assert any_return["events"].tolist()[:4] == [5, 1, 2, 0]


def test_a_negative_base_gives_no_rate_and_missing_values_are_zero():
    refunds = pd.concat(
        [
            MONEY,
            log(
                ("D", "2024-02-05", "signup", 0.0),
                ("D", "2024-02-06", "purchase", -10.0),
                ("D", "2024-03-10", "purchase", float("nan")),
                columns=("customer_id", "timestamp", "event", "value"),
            ),
        ],
        ignore_index=True,
    )
    got = retention(refunds, measure="revenue", **SIGNUP_PURCHASE)
    february = got[got["cohort"] == utc("2024-02-01")]
    assert february["cohort_revenue"].tolist() == [-10.0] * 3
    assert february["revenue"].tolist() == [-10.0, 0.0, 0.0]  # NaN is no money
    assert february["rate"].isna().all()


def test_measures_with_a_breakdown_and_a_maximum_offset():
    plans = MONEY.assign(plan=MONEY["customer_id"].map({"A": "pro", "B": "free", "C": "free"}))
    got = retention(plans, measure="revenue", by="plan", max_periods=1, **SIGNUP_PURCHASE)
    assert block(got, plan="pro")[["cohort_revenue", "revenue"]].values.tolist() == [
        [100.0, 100.0],
        [100.0, 60.0],
    ]
    free = block(got, plan="free")
    assert free["revenue"].tolist() == [50.0, 0.0, 0.0, 0.0]
    assert free["rate"].tolist()[:2] == [1.0, 0.0] and free["rate"][2:].isna().all()
    matrix = retention_matrix(got, "revenue", complete_only=False)
    assert matrix.loc[("pro", utc("2024-01-01"))].tolist() == [100.0, 60.0]


def test_the_customers_measure_is_the_default_and_unchanged():
    assert_same_frame(retention(MONEY, measure="customers"), retention(MONEY))
    revenue = retention(MONEY, measure="revenue")
    plain = retention(MONEY)
    assert_same_frame(revenue[plain.columns.drop("rate")], plain.drop(columns="rate"))


# --------------------------------------------------------------------------------------------
# the defining property: a segment's block is the function on the segment's customers alone
# --------------------------------------------------------------------------------------------


def alone(events, members, names):
    """The log restricted to ``members``, keeping the whole log's first and last instants
    (a breakdown reads "now" and the first period from the whole log) by two rows of an
    outsider whose event, ``(span)``, is outside every event filter in ``names``."""
    own = events[events["customer_id"].isin(members)]
    outsider = -1 if pd.api.types.is_integer_dtype(events["customer_id"]) else "(outsider)"
    span = pd.DataFrame(
        {
            "customer_id": [outsider, outsider],
            "timestamp": [events["timestamp"].min(), events["timestamp"].max()],
            "event": ["(span)", "(span)"],
        }
    ).astype({"timestamp": events["timestamp"].dtype})
    assert "(span)" not in names
    return pd.concat([own, span], ignore_index=True)


def only_real(kwargs, names, keys):
    """``kwargs`` with each event filter in ``keys`` that is None made the log's own events,
    which is the same on the log and leaves the outsider's rows out."""
    return {**kwargs, **{k: names for k in keys if kwargs.get(k) is None}}


FILTERS = {
    retention: ("cohort_event", "return_event"),
    churn_rate: ("event",),
    lifecycle: ("event",),
}


def assert_blocks_are_the_segments_alone(func, events, by, kwargs):
    """For every segment of ``by``: its block equals ``func`` without ``by`` on the log
    restricted to its customers (from jl.customer_segments) over the log's span."""
    spec = by if isinstance(by, Segments) else Segments(by, top=kwargs.pop("top", 10))
    columns = spec.columns
    got = func(events, by=spec, **kwargs)
    assert list(got.columns[: len(columns)]) == columns
    table = jl.customer_segments(events, spec)
    names = sorted(events["event"].unique())
    plain_kwargs = only_real(kwargs, names, FILTERS[func])
    segments = table[columns].drop_duplicates().sort_values(columns)
    seen = 0
    for values in segments.itertuples(index=False):
        segment = dict(zip(columns, values, strict=True))
        members = table.loc[(table[columns] == pd.Series(segment)).all(axis=1), "customer_id"]
        want = func(alone(events, members, names), **plain_kwargs)
        mine = block(got, **segment)
        assert_same_frame(mine, want)
        seen += len(mine)
    assert seen == len(got)  # no rows of a segment nobody is in
    if func is not retention and len(got):  # every segment reports every period
        assert got[columns].drop_duplicates().shape[0] == len(segments)


START = pd.Timestamp("2024-01-01", tz="UTC")
random_logs = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.integers(0, 200 * 24 * 3600),  # seconds into the log: about 6.5 months
        st.sampled_from(["a", "b"]),
        st.sampled_from(["web", "app", "tv", None]),
        st.sampled_from([0.0, 5.0, 12.5, -3.0, None]),
    ),
    min_size=1,
    max_size=40,
).map(
    lambda rows: pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": (START + pd.to_timedelta([r[1] for r in rows], unit="s")).as_unit("us"),
            "event": [r[2] for r in rows],
            "platform": pd.Series([r[3] for r in rows], dtype="str"),
            "value": pd.Series([r[4] for r in rows], dtype="float64"),
        }
    )
)
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPLITS = st.sampled_from(
    [
        {"by": "platform"},
        {"by": "platform", "by_rule": "last"},
        {"by": "platform", "top": 1},
        {"by": ["platform", "event"], "top": 3},
    ]
)


def _split(split):
    split = dict(split)
    by = split.pop("by")
    if "by_rule" in split:
        return Segments(by, rule=split["by_rule"]), {}
    return by, {"top": split.get("top", 10)}


@FAST
@given(
    events=random_logs,
    split=SPLITS,
    period=st.sampled_from(["week", "month"]),
    kind=st.sampled_from(["on", "on_or_after"]),
    measure=st.sampled_from(["customers", "revenue", "events"]),
    cohort_event=st.sampled_from([None, "a"]),
    return_event=st.sampled_from([None, "b"]),
    max_periods=st.sampled_from([None, 2]),
)
def test_retention_blocks_are_the_segments_alone(
    events, split, period, kind, measure, cohort_event, return_event, max_periods
):
    assume(events["platform"].notna().any())
    assume(measure == "customers" or kind == "on")
    by, extra = _split(split)
    kwargs = {
        "period": period,
        "kind": kind,
        "measure": measure,
        "cohort_event": cohort_event,
        "return_event": return_event,
        "max_periods": max_periods,
        **extra,
    }
    assert_blocks_are_the_segments_alone(retention, events, by, kwargs)


@FAST
@given(
    events=random_logs,
    split=SPLITS,
    period=st.sampled_from(["week", "month"]),
    inactivity=st.sampled_from(["10D", "45D"]),
    event=st.sampled_from([None, "a"]),
)
def test_churn_rate_blocks_are_the_segments_alone(events, split, period, inactivity, event):
    assume(events["platform"].notna().any())
    by, extra = _split(split)
    kwargs = {"period": period, "inactivity": inactivity, "event": event, **extra}
    assert_blocks_are_the_segments_alone(churn_rate, events, by, kwargs)


@FAST
@given(
    events=random_logs,
    split=SPLITS,
    period=st.sampled_from(["day", "week", "month"]),
    event=st.sampled_from([None, "b"]),
)
def test_lifecycle_blocks_are_the_segments_alone(events, split, period, event):
    assume(events["platform"].notna().any())
    by, extra = _split(split)
    kwargs = {"period": period, "event": event, **extra}
    assert_blocks_are_the_segments_alone(lifecycle, events, by, kwargs)


@pytest.fixture(scope="module")
def sim():
    return jl.simulate(300, seed=21)


#: The platforms a simulated row may be on here (or on none).
PLATFORMS = ("web", "app", "tv")


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (retention, {"period": "month"}),
        (retention, {"measure": "revenue", "return_event": "purchase"}),
        (retention, {"kind": "on_or_after", "cohort_event": "signup"}),
        (churn_rate, {"inactivity": "60D"}),
        (churn_rate, {"period": "week", "inactivity": "21D", "event": "purchase"}),
        (lifecycle, {"period": "month"}),
        (lifecycle, {"period": "week", "event": ["purchase", "site_visit"]}),
    ],
)
def test_simulated_blocks_are_the_segments_alone(sim, func, kwargs):
    events = with_platform(sim.events, platforms=PLATFORMS)
    assert_blocks_are_the_segments_alone(
        func, events, Segments("segment", customers=sim.customers), dict(kwargs)
    )
    assert_blocks_are_the_segments_alone(
        func, events, Segments("platform", rule="last"), dict(kwargs)
    )


def test_segments_add_up_to_the_whole(sim):
    events = with_platform(sim.events, platforms=PLATFORMS)
    whole = retention(events, measure="revenue")
    parts = retention(events, measure="revenue", by="platform", top=None)
    summed = parts.groupby(["cohort", "period"], as_index=False)[
        ["cohort_size", "customers", "revenue"]
    ].sum()
    assert_same_frame(summed, whole[["cohort", "period", "cohort_size", "customers", "revenue"]])
    life = lifecycle(events, by="platform").groupby(["period", "status"], sort=False)
    assert life["customers"].sum().tolist() == lifecycle(events)["customers"].tolist()


# --------------------------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_log(sim):
    return with_platform(sim.events, 1, PLATFORMS)


CALLS = {
    "retention-by": (retention, {"by": "platform"}),
    "retention-crossing": (
        retention,
        {"by": ["platform", "channel"], "top": 5, "kind": "on_or_after", "period": "week"},
    ),
    "retention-revenue": (retention, {"measure": "revenue", "return_event": "purchase"}),
    "retention-revenue-by": (
        retention,
        {"measure": "revenue", "by": "platform", "by_rule": "last", "max_periods": 4},
    ),
    "retention-events-by": (retention, {"measure": "events", "by": "platform"}),
    "churn_rate-by": (churn_rate, {"by": "platform", "inactivity": "60D"}),
    "churn_rate-crossing": (
        churn_rate,
        {"by": ["channel", "platform"], "top": 4, "period": "week", "inactivity": "10D"},
    ),
    "lifecycle-by": (lifecycle, {"by": "platform", "event": "purchase"}),
    "lifecycle-crossing": (lifecycle, {"by": ["platform", "channel"], "top": 3}),
}


def _customer_table_call(sim):
    return {
        "retention-customers": (
            retention,
            {"by": Segments("segment", customers=sim.customers), "measure": "events"},
        ),
        "churn_rate-customers": (churn_rate, {"by": Segments("segment", customers=sim.customers)}),
        "lifecycle-customers": (
            lifecycle,
            {"by": Segments(["segment", "platform"], customers=sim.customers, top=4)},
        ),
    }


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("call", list(CALLS))
def test_every_engine_matches_pandas(engine_log, engine, call):
    func, kwargs = CALLS[call]
    want = collect(func(engine_log, **kwargs))
    assert_same_frame(parity(func, engine_log, engine, **kwargs), want)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_reads_a_customer_table(sim, engine_log, engine):
    for func, kwargs in _customer_table_call(sim).values():
        want = collect(func(engine_log, **kwargs))
        assert_same_frame(parity(func, engine_log, engine, **kwargs), want)


#: PySpark is slow to plan: the calls that cover its paths (crossings, measures, a table).
SPARK_CALLS = (
    "retention-crossing",
    "retention-revenue-by",
    "retention-events-by",
    "churn_rate-crossing",
    "lifecycle-crossing",
    "churn_rate-customers",
)


@pytest.mark.parametrize("name", SPARK_CALLS)
def test_pyspark_matches_pandas_and_stays_lazy(spark, sim, engine_log, name):
    func, kwargs = {**CALLS, **_customer_table_call(sim)}[name]
    want = collect(func(engine_log, **kwargs))
    assert_same_frame(parity(func, engine_log, "pyspark", spark=spark, **kwargs), want)


@pytest.mark.parametrize("func", [retention, churn_rate, lifecycle])
def test_a_duckdb_relation_of_its_own_connection(engine_log, func):
    duckdb = require_module("duckdb", "the DuckDB parity tests need the 'scale' extra")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    relation = con.from_arrow(nw.from_native(engine_log).to_arrow())
    got = func(relation, by=["platform", "channel"], top=4)
    assert isinstance(got, duckdb.DuckDBPyRelation)
    assert_same_frame(collect(got), collect(func(engine_log, by=["platform", "channel"], top=4)))
    con.close()


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [retention, churn_rate, lifecycle])
def test_a_by_column_that_is_absent_or_empty_is_refused(func):
    with pytest.raises(JourneyDataError, match=r"by='plan'.*no such column"):
        func(SHOP, by="plan")
    empty = SHOP.assign(platform=pd.Series([None] * len(SHOP), dtype="str"))
    with pytest.raises(JourneyDataError, match=r"by='platform'.*holds no value \(6 rows"):
        func(empty, by="platform")
    with pytest.raises(JourneyParameterError, match="segment of its own"):
        func(SHOP, by="customer_id")
    with pytest.raises(JourneyParameterError, match="carries its own"):
        func(SHOP, by=Segments("platform"), top=3)


def test_an_all_null_column_on_a_lazy_engine_is_one_missing_block():
    # Lazy engines are not read ahead of time: everyone is (missing), the plain numbers.
    empty = SHOP.assign(platform=pd.Series([None] * len(SHOP), dtype="str"))
    got = parity(lifecycle, empty, "polars-lazy", by="platform")
    assert got["platform"].unique().tolist() == [MISSING]
    assert_same_frame(block(got, platform=MISSING), collect(lifecycle(SHOP)))


@pytest.mark.parametrize(
    ("func", "kwargs", "column"),
    [
        (retention, {}, "cohort"),
        (retention, {}, "rate"),
        (retention, {"measure": "revenue"}, "revenue"),
        (retention, {"measure": "events"}, "cohort_events"),
        (churn_rate, {}, "lost"),
        (churn_rate, {}, "period"),
        (lifecycle, {}, "status"),
        (lifecycle, {}, "complete"),
    ],
)
def test_a_by_column_named_like_a_result_column_is_refused(func, kwargs, column):
    clash = MONEY.assign(**{column: "x"})
    with pytest.raises(JourneyParameterError, match=f"by='{column}' would clash"):
        func(clash, by=column, **kwargs)


def test_bad_measures_are_explained():
    with pytest.raises(JourneyParameterError, match="measure"):
        retention(MONEY, measure="sessions")
    with pytest.raises(JourneyParameterError, match=r"kind='on_or_after'.*measure='revenue'"):
        retention(MONEY, measure="revenue", kind="on_or_after")
    with pytest.raises(JourneyParameterError, match="measure='events'"):
        retention(MONEY, measure="events", kind="on_or_after")
    with pytest.raises(JourneyDataError, match="'value' column"):
        retention(SHOP, measure="revenue")
    with pytest.raises(JourneyDataError, match="not numeric"):
        retention(MONEY.assign(value="12"), measure="revenue")
    with pytest.raises(JourneyDataError, match="measure='revenue'"):
        retention_matrix(retention(MONEY), "revenue")
    with pytest.raises(JourneyParameterError, match="values"):
        retention_matrix(retention(MONEY), "money")


def test_retention_curve_pools_complete_cohorts_by_hand_and_per_segment():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 4],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-05",
                    "2024-02-10",
                    "2024-01-20",
                    "2024-04-02",
                    "2024-02-14",
                    "2024-03-01",
                ],
                utc=True,
            ),
            "event": "visit",
            "plan": ["pro", "pro", "free", "free", "pro", "free"],
        }
    )
    # Offset 1: January (2 customers, 1 back in February) and February (1, none in March)
    # are over, March's is not: 1 of 3. Offset 2: January only, nobody back in March.
    curve = jl.retention_curve(jl.retention(log))
    assert curve[["period", "cohorts", "cohort_size", "customers"]].to_numpy().tolist() == [
        [0, 3, 4, 4],
        [1, 2, 3, 1],
        [2, 1, 2, 0],
    ]
    np.testing.assert_allclose(curve["rate"], [1, 1 / 3, 0])
    by_plan = jl.retention_curve(jl.retention(log, by="plan"))
    assert list(by_plan.columns[:2]) == ["plan", "period"]
    # The segments' curves add up to the whole one (completeness is the whole log's).
    summed = by_plan.groupby("period")[["cohort_size", "customers"]].sum().reset_index()
    assert (
        summed.to_numpy().tolist()
        == curve[["period", "cohort_size", "customers"]].to_numpy().tolist()
    )
    pro = by_plan[by_plan["plan"] == "pro"]
    assert pro["rate"].tolist() == [1.0, 0.5, 0.0]


def test_retention_curve_of_revenue_pools_money():
    sim = jl.simulate(300, seed=4)
    result = jl.retention(sim.events, period="month", measure="revenue", return_event="purchase")
    curve = jl.retention_curve(result)
    done = result[result["complete"]]
    want = done.groupby("period")["revenue"].sum() / done.groupby("period")["cohort_revenue"].sum()
    np.testing.assert_allclose(curve.set_index("period")["rate"], want)
    assert "cohort_revenue" in curve.columns
