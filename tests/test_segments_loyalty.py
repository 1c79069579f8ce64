"""loyalty per customer segment (by=): a hand-counted case, each segment's tables against
loyalty run on that segment's customers alone (random and simulated logs), every engine and
PySpark, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, to_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segment_logs import by_columns, simulated

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError

MEASURES = ["repeat_buyers", "in_retention", "in_advocacy", "reviewers", "referrers"]


def log(rows, **extra) -> pd.DataFrame:
    customer, day, event = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "customer_id": list(customer),
            "timestamp": pd.to_datetime(list(day), utc=True).astype("datetime64[us, UTC]"),
            "event": pd.Series(event, dtype="str"),
        }
    )
    return frame.assign(**extra)


def with_log_span(alone: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``alone`` plus a customer of its own with a non-purchase event at the whole log's last
    instant: the log's end (which ``complete`` is read against) without a buyer."""
    end = pd.DataFrame(
        {"customer_id": [-1], "timestamp": [events["timestamp"].max()], "event": ["(end)"]}
    )
    return pd.concat(
        [alone, end.astype({"timestamp": events["timestamp"].dtype})], ignore_index=True
    )


def check_segments(events, result, *, by, by_rule="first", top=10, **options):
    """The defining property: each segment's blocks are what loyalty gives on that segment's
    customers alone (by_period over the whole log's end; a segment without a buyer has no
    period rows and 0 buyers); advocates and referrals are the whole log's rows of the
    segment's customers (referral chains cross segments)."""
    columns = by_columns(by)
    assert result.by == tuple(columns)
    segments = jl.customer_segments(events, by, by_rule=by_rule, top=top)
    whole = jl.loyalty(events, **options)
    overall = result.overall.set_index(columns)
    assert len(overall) == segments.groupby(columns).ngroups
    for values, members in segments.groupby(columns, sort=True):
        key = values if len(columns) > 1 else values[0]
        mine = np.logical_and.reduce(
            [result.by_period[c] == v for c, v in zip(columns, values, strict=True)]
        )
        block = result.by_period[mine].drop(columns=columns).reset_index(drop=True)
        alone = events[events["customer_id"].isin(members["customer_id"])]
        row = overall.loc[key]
        if not (alone["event"] == options.get("purchase_event", "purchase")).any():
            assert len(block) == 0 and row["buyers"] == 0
            assert row[["repeat_purchase_rate", "advocacy_share"]].isna().all()
        else:
            own = jl.loyalty(with_log_span(alone, events), **options)
            assert_same_frame(block, own.by_period)
            want = jl.loyalty(alone, **options).overall
            assert np.allclose(row[want.index].astype(float), want, equal_nan=True)
        adv = np.logical_and.reduce(
            [result.advocates[c] == v for c, v in zip(columns, values, strict=True)]
        )
        want_adv = whole.advocates[whole.advocates["customer_id"].isin(members["customer_id"])]
        assert_same_frame(
            result.advocates[adv].drop(columns=columns).reset_index(drop=True),
            want_adv.reset_index(drop=True),
        )
        assert row["advocates"] == len(want_adv)
    if whole.referrals is None:
        assert result.referrals is None
        return
    labelled = whole.referrals.merge(segments, on="customer_id", how="left").fillna(
        dict.fromkeys(columns, "(missing)")
    )
    want = labelled[[*columns, *whole.referrals.columns]].sort_values(
        [*columns, "referred_at", "customer_id"], ignore_index=True
    )
    assert_same_frame(result.referrals, want)


# -- by hand ---------------------------------------------------------------------------------

HAND = log(
    [
        (1, "2024-01-06", "purchase"),
        (1, "2024-01-20", "review"),
        (1, "2024-02-03", "purchase"),  # a repeat
        (2, "2024-01-10", "ad_view"),
        (2, "2024-02-10", "review"),  # an advocate who never buys
        (3, "2024-01-31", "purchase"),
        (3, "2024-02-01", "referral"),  # brings 4
        (3, "2024-03-01", "support_ticket"),  # March: the log's last month, still running
        (4, "2024-02-15", "purchase"),
        (5, "2024-01-15", "ad_view"),  # a trial customer who never buys
    ],
    plan=["basic", "basic", "basic", "plus", "plus", "plus", "basic", "basic", None, "trial"],
    referred_id=pd.array([None, None, None, None, None, None, 4, None, None, None], "Int64"),
)


def test_loyalty_by_hand():
    result = jl.loyalty(HAND, by="plan")
    assert result.by == ("plan",)
    table = result.by_period.assign(month=result.by_period["period"].dt.strftime("%m"))
    assert table.columns.tolist()[:3] == ["plan", "period", "customers"]
    got = {
        (r.plan, r.month): (r.customers, r.repeat_buyers, r.in_retention, r.in_advocacy)
        for r in table.itertuples()
    }
    # By first plan: 1 basic, 2 and 3 plus, 4 (missing), 5 trial. 2 and 5 never buy.
    assert got == {
        ("(missing)", "02"): (1, 0, 0, 0),
        ("basic", "01"): (1, 0, 0, 1),  # 1's review
        ("basic", "02"): (1, 1, 1, 0),  # 1's repeat purchase is Retention
        ("plus", "01"): (1, 0, 0, 0),
        ("plus", "02"): (1, 0, 0, 1),  # 3's referral
        ("plus", "03"): (1, 0, 1, 0),  # 3's support ticket
    }
    # complete is read against the whole log (March): basic's February is over, though
    # basic's own last event is in February.
    assert table.set_index(["plan", "month"])["complete"].to_dict() == {
        ("(missing)", "02"): True,
        ("basic", "01"): True,
        ("basic", "02"): True,
        ("plus", "01"): True,
        ("plus", "02"): True,
        ("plus", "03"): False,
    }
    overall = result.overall.set_index("plan")
    assert overall.index.tolist() == ["(missing)", "basic", "plus", "trial"]
    assert overall["buyers"].tolist() == [1, 1, 1, 0]
    assert overall["repeat_purchase_rate"].tolist()[:3] == [0.0, 1.0, 0.0]
    assert np.isnan(overall.loc["trial", "repeat_purchase_rate"])  # no buyer, no rate
    # plus: 2 reviewed without buying and 3 referred: two advocates, one of them a buyer.
    assert overall.loc["plus", ["in_advocacy", "advocates"]].tolist() == [1, 2]
    assert str(overall["advocates"].dtype) == "int64"
    assert result.advocates[["plan", "customer_id"]].values.tolist() == [
        ["basic", 1],
        ["plus", 3],  # referrers first within a segment
        ["plus", 2],
    ]
    # 4 was referred by 3 (plus) and is in the (missing) segment: the row is 4's.
    assert result.referrals[["plan", "customer_id", "referred_by"]].values.tolist() == [
        ["(missing)", 4, 3]
    ]
    assert result.summary().splitlines()[1] == (
        "basic: 1 buyers, 100.0% bought again, 100.0% advocacy, 1 advocates"
    )
    check_segments(HAND, result, by="plan")


def test_loyalty_by_the_last_value_top_and_crossings():
    last = jl.loyalty(HAND, by="plan", by_rule="last")
    # 3's last plan is basic.
    assert last.overall.set_index("plan")["buyers"].to_dict() == {
        "(missing)": 1,
        "basic": 2,
        "plus": 0,
        "trial": 0,
    }
    check_segments(HAND, last, by="plan", by_rule="last")
    # plus has 2 customers, the others 1: top=1 keeps plus, the rest are (other).
    folded = jl.loyalty(HAND, by="plan", top=1)
    assert folded.overall["plan"].tolist() == ["(other)", "plus"]
    check_segments(HAND, folded, by="plan", top=1)
    crossed = HAND.assign(region=["n", "n", "n", "s", "s", "n", "n", "n", "s", "s"])
    both = jl.loyalty(crossed, by=["plan", "region"])
    assert both.overall.columns.tolist()[:3] == ["plan", "region", "buyers"]
    assert both.advocates.columns.tolist()[:3] == ["plan", "region", "customer_id"]
    check_segments(crossed, both, by=["plan", "region"])


# -- each segment alone ----------------------------------------------------------------------

EVENTS = ["purchase", "site_visit", "review", "referral", "support_ticket", "unknown_event"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 6),
            st.integers(0, 120),
            st.sampled_from(EVENTS),
            st.sampled_from(["basic", "plus", None]),
        ),
        min_size=1,
        max_size=40,
    ).filter(lambda rows: any(e == "purchase" for _, _, e, _ in rows)),
    segmentation=st.sampled_from(
        [{"by": "plan"}, {"by": "plan", "by_rule": "last"}, {"by": "plan", "top": 1}]
    ),
)
def test_property_each_segment_is_loyalty_of_its_customers(rows, segmentation):
    origin = pd.Timestamp("2024-01-01", tz="UTC")
    events = pd.DataFrame(
        {
            "customer_id": [c for c, *_ in rows],
            "timestamp": [origin + pd.Timedelta(days=d / 2) for _, d, _, _ in rows],
            "event": pd.Series([e for _, _, e, _ in rows], dtype="str"),
            "plan": pd.Series([p for *_, p in rows], dtype="str"),
        }
    ).astype({"timestamp": "datetime64[us, UTC]"})
    if events["plan"].isna().all():
        return  # refused, tested below
    check_segments(events, jl.loyalty(events, **segmentation), **segmentation)


#: The simulated log's columns the loyalty tests read, and its platforms.
SIM_COLUMNS = (*jl.CANONICAL_COLUMNS, "rating", "referred_id")
SIM_PLATFORMS = ("web", "app", "tv")


def test_simulated_segments_are_loyalty_of_their_customers():
    events, customers = simulated(300, 13, columns=SIM_COLUMNS, platforms=SIM_PLATFORMS)
    for segmentation, options in (
        ({"by": jl.Segments("segment", customers=customers)}, {"period": "quarter"}),
        ({"by": "platform", "by_rule": "last"}, {}),
        ({"by": ["platform", "channel"], "top": 5}, {"framework": "business"}),
    ):
        result = jl.loyalty(events, **segmentation, **options)
        check_segments(events, result, **segmentation, **options)
    assert result.referrals is not None and len(result.referrals) > 0


# -- engines ---------------------------------------------------------------------------------


def same_loyalty(got, want):
    assert got.by == want.by
    assert_same_frame(got.by_period, want.by_period)
    assert_same_frame(got.overall, want.overall)
    assert_same_frame(got.advocates, want.advocates)
    assert_same_frame(got.referrals, want.referrals)


@pytest.fixture(scope="module")
def sim():
    return simulated(200, 4, columns=SIM_COLUMNS, platforms=SIM_PLATFORMS)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_matches_pandas(engine, sim):
    events, customers = sim
    for options in (
        {"by": jl.Segments("segment", customers=customers), "period": "quarter"},
        {"by": ["platform", "channel"], "by_rule": "last", "top": 4},
    ):
        same_loyalty(
            jl.loyalty(to_engine(events, engine), **options), jl.loyalty(events, **options)
        )
    same_loyalty(jl.loyalty(to_engine(HAND, engine), by="plan"), jl.loyalty(HAND, by="plan"))


def test_pyspark_matches_pandas(spark, sim):
    events, customers = sim
    options = {"by": jl.Segments("segment", customers=customers), "period": "quarter"}
    same_loyalty(
        jl.loyalty(to_engine(events, "pyspark", spark), **options), jl.loyalty(events, **options)
    )


# -- bad input -------------------------------------------------------------------------------


def test_bad_by_is_named():
    with pytest.raises(JourneyDataError, match=r"by='tier'.*no such column"):
        jl.loyalty(HAND, by="tier")
    with pytest.raises(JourneyDataError, match=r"by='device'.*holds no value.*10 rows"):
        jl.loyalty(HAND.assign(device=None), by="device")
    for clash in ("rating", "period", "referred_by"):
        with pytest.raises(JourneyParameterError, match=f"by='{clash}' would clash"):
            jl.loyalty(HAND.assign(**{clash: "x"}), by=clash)
    with pytest.raises(JourneyParameterError, match="carries its own rule"):
        jl.loyalty(HAND, by=jl.Segments("plan"), top=3)
    # The log as a whole still needs a purchase.
    with pytest.raises(JourneyDataError, match="no 'purchase' events"):
        jl.loyalty(HAND[HAND["event"] != "purchase"], by="plan")


@pytest.mark.parametrize("name", ["_repeat", "_buyer", "_first_buy", "stage", "_jl_by_0"])
def test_a_by_column_named_like_a_working_column(name):
    events = HAND.assign(**{name: HAND["plan"]})
    want, got = jl.loyalty(HAND, by="plan"), jl.loyalty(events, by=name)
    assert got.by == (name,)
    for table in ("by_period", "overall", "advocates", "referrals"):
        expected = getattr(want, table).rename(columns={"plan": name})
        assert_same_frame(getattr(got, table), expected)


def test_more_values_than_customers_fold_into_other():
    events = HAND.assign(tag=[f"t{i}" for i in range(len(HAND))])
    result = jl.loyalty(events, by="tag", top=2)
    # Each customer's first tag: 1 t0, 2 t3, 3 t5, 4 t8, 5 t9; one customer each.
    assert result.overall["tag"].tolist() == ["(other)", "t0", "t3"]
    check_segments(events, result, by="tag", top=2)
