"""Loyalty and advocacy: hand-counted cases, a per-customer walk as reference, referral
chains against the simulator's truth, bad input, and every engine."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, to_engine
from hypothesis import given, settings
from hypothesis import strategies as st

import journey_lib as jl


def log(rows, **extra) -> pd.DataFrame:
    customer, day, event = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "customer_id": list(customer),
            "timestamp": pd.to_datetime(list(day), utc=True),
            "event": list(event),
        }
    )
    return frame.assign(**extra)


def test_a_small_log_counted_by_hand():
    events = log(
        [
            (1, "2024-01-05", "site_visit"),  # before buying, same month: counts in January
            (1, "2024-01-06", "purchase"),
            (1, "2024-01-06", "purchase"),  # same instant as the first: not a repeat
            (1, "2024-01-20", "review"),
            (1, "2024-02-03", "purchase"),  # repeat
            (2, "2024-01-10", "ad_view"),  # never buys: never in the customer base
            (2, "2024-02-10", "review"),
            (3, "2024-01-31", "purchase"),
            (3, "2024-02-01", "referral"),
            (3, "2024-03-01", "support_ticket"),  # March: the log's last month, still running
        ],
        value=[0, 10, 5, 0, 20, 0, 0, 7, 0, 0],
        rating=[None, None, None, 4, None, None, 5, None, None, None],
    )
    result = jl.loyalty(events)
    table = result.by_period.set_index(result.by_period["period"].dt.strftime("%Y-%m"))
    # January: 1 (visit, purchases, review) and 3 (purchase). February: 1 (repeat) and 3
    # (referral). March: 3 (ticket).
    assert table["customers"].tolist() == [2, 2, 1]
    assert table["repeat_buyers"].tolist() == [0, 1, 0]
    assert table["in_retention"].tolist() == [0, 1, 1]  # a repeat purchase and a ticket
    assert table["in_advocacy"].tolist() == [1, 1, 0]
    assert table["reviewers"].tolist() == [1, 0, 0]
    assert table["referrers"].tolist() == [0, 1, 0]
    assert table["advocacy_share"].tolist() == [0.5, 0.5, 0.0]
    assert table["complete"].tolist() == [True, True, False]

    overall = result.overall
    assert overall["buyers"] == 2 and overall["repeat_buyers"] == 1
    assert overall["repeat_purchase_rate"] == 0.5
    assert overall["in_advocacy"] == 2 and overall["advocates"] == 3  # 2 reviewed unbought

    advocates = result.advocates.set_index("customer_id")
    assert advocates.loc[3, "referrals"] == 1 and advocates.index[0] == 3  # referrers first
    assert advocates.loc[1].to_dict() == {
        "advocacy_events": 1,
        "reviews": 1,
        "referrals": 0,
        "first_advocacy": pd.Timestamp("2024-01-20", tz="UTC"),
        "last_advocacy": pd.Timestamp("2024-01-20", tz="UTC"),
        "purchases": 3,
        "value": 35.0,
        "rating": 4.0,
    }
    assert advocates.loc[2, "purchases"] == 0 and advocates.loc[2, "value"] == 0.0
    assert result.referrals is None  # no referred_id column: no chains
    assert "2 buyers: 50.0% bought again" in result.summary()


def test_periods_and_other_frameworks():
    events = log(
        [
            (1, "2024-01-01", "purchase"),
            (1, "2024-01-09", "purchase"),  # the next Tuesday: another week
            (1, "2024-01-10", "review"),
        ]
    )
    weekly = jl.loyalty(events, period="week").by_period
    assert weekly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]
    assert weekly["repeat_buyers"].tolist() == [0, 1]
    business = jl.loyalty(events, framework="business").overall
    assert business["retention_share"] == 1.0 and business["advocacy_share"] == 1.0
    custom = {"Buy": ["purchase"], "Again": [], "Praise": ["review"]}
    assert jl.loyalty(events, framework=custom).overall["in_advocacy"] == 1
    # The decision journey's last stage holds repeat purchases too: named stages fix that.
    decision = jl.loyalty(events.iloc[:2], framework="decision_journey")
    assert decision.overall["in_advocacy"] == 1  # the repeat purchase
    named = jl.loyalty(
        events.iloc[:2],
        framework={"Buy": ["purchase"], "Praise": ["review"], "Back": []},
        advocacy_stage="Praise",
        retention_stage="Buy",
    )
    assert named.overall["in_advocacy"] == 0 and named.overall["in_retention"] == 1
    with pytest.raises(jl.JourneyParameterError, match="advocacy_stage must be one of"):
        jl.loyalty(events, advocacy_stage="Fans")
    with pytest.raises(jl.JourneyParameterError, match="period must be one of"):
        jl.loyalty(events, period="day")
    with pytest.raises(jl.JourneyParameterError, match="needs its last two"):
        jl.loyalty(events, framework={"Only": ["purchase"]})


def test_no_purchases_and_missing_columns_are_named():
    events = log([(1, "2024-01-01", "site_visit")])
    with pytest.raises(jl.JourneyDataError, match="no 'purchase' events"):
        jl.loyalty(events)
    assert jl.loyalty(events.assign(event="order"), purchase_event="order").overall["buyers"] == 1
    with pytest.raises(jl.JourneyDataError, match=r"needs columns \['event'\]"):
        jl.loyalty(events.drop(columns="event"))


# -- referral chains --------------------------------------------------------------------------


def chain_log(edges, *, purchases=()) -> pd.DataFrame:
    """Referral events (referrer, referred, day) plus purchases by customer."""
    rows = [(c, "2024-01-01", "purchase") for c in purchases]
    rows += [(referrer, day, "referral") for referrer, _, day in edges]
    referred = [None] * len(purchases) + [r for _, r, _ in edges]
    return log(rows, referred_id=pd.array(referred, dtype="Int64"))


def test_chains_roots_depths_and_networks():
    # 1 brought 2 and 3; 2 brought 4; 4 brought 5; 6 brought 7. 8 referred 4 later: 4
    # stays 2's.
    edges = [
        (1, 2, "2024-01-02"),
        (1, 3, "2024-01-03"),
        (2, 4, "2024-01-04"),
        (4, 5, "2024-01-05"),
        (6, 7, "2024-01-06"),
        (8, 4, "2024-01-07"),
    ]
    result = jl.loyalty(chain_log(edges, purchases=range(1, 9)))
    chains = result.referrals.set_index("customer_id")
    assert chains["referred_by"].to_dict() == {2: 1, 3: 1, 4: 2, 5: 4, 7: 6}
    assert chains["root"].to_dict() == {2: 1, 3: 1, 4: 1, 5: 1, 7: 6}
    assert chains["depth"].tolist() == [1, 1, 2, 3, 1]
    assert chains.loc[5, "referred_at"] == pd.Timestamp("2024-01-05", tz="UTC")
    advocates = result.advocates.set_index("customer_id")
    assert advocates["referred"].to_dict() == {1: 2, 2: 1, 4: 1, 6: 1, 8: 0}
    assert advocates["network"].to_dict() == {1: 4, 2: 2, 4: 1, 6: 1, 8: 0}
    assert "the longest chain has 3 generations" in result.summary()


def test_a_referral_loop_is_named_and_left_without_root():
    edges = [(1, 2, "2024-01-02"), (2, 1, "2024-01-03"), (2, 3, "2024-01-04"), (5, 6, "2024-01-05")]
    with pytest.warns(jl.JourneyDataWarning, match=r"3 referred customer\(s\) are in or below"):
        result = jl.loyalty(chain_log(edges, purchases=[1, 2, 3, 5, 6]))
    chains = result.referrals.set_index("customer_id")
    assert chains["root"].isna().tolist() == [True, True, True, False]
    assert chains.loc[6, "root"] == 5 and chains.loc[6, "depth"] == 1


def test_chains_are_the_simulators_referrers():
    sim = jl.simulate(3000, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", jl.JourneyDataWarning)  # no loop in the truth
        result = jl.loyalty(sim.events)
    truth = sim.customers.set_index("customer_id")["referrer_id"].dropna().astype("int64")
    got = result.referrals.set_index("customer_id")["referred_by"]
    pd.testing.assert_series_equal(got.sort_index(), truth.sort_index(), check_names=False)
    assert result.referrals["depth"].max() >= 2  # referred customers refer in turn


# -- a walk over customers and periods as reference -------------------------------------------


def reference(events: pd.DataFrame) -> pd.DataFrame:
    """by_period counted one customer and one month at a time."""
    stages = jl.assign_stages(events, unmapped="ignore")
    stages["period"] = stages["timestamp"].dt.tz_convert(None).dt.to_period("M")
    rows = []
    for (month, customer), own in stages.groupby(["period", "customer_id"]):
        purchases = events[(events["customer_id"] == customer) & (events["event"] == "purchase")]
        if purchases.empty or purchases["timestamp"].min().tz_convert(None).to_period("M") > month:
            continue
        first = purchases["timestamp"].min()
        rows.append(
            {
                "period": month,
                "repeat": ((own["event"] == "purchase") & (own["timestamp"] > first)).any(),
                "retention": (own["stage"] == "Retention").any(),
                "advocacy": (own["stage"] == "Advocacy & Loyalty").any(),
                "review": (own["event"] == "review").any(),
                "referral": (own["event"] == "referral").any(),
            }
        )
    walked = pd.DataFrame(rows).groupby("period")
    return pd.DataFrame(
        {
            "customers": walked.size(),
            "repeat_buyers": walked["repeat"].sum(),
            "in_retention": walked["retention"].sum(),
            "in_advocacy": walked["advocacy"].sum(),
            "reviewers": walked["review"].sum(),
            "referrers": walked["referral"].sum(),
        }
    ).reset_index(drop=True)


EVENTS = ["purchase", "site_visit", "review", "referral", "support_ticket", "unknown_event"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 5), st.integers(0, 120), st.sampled_from(EVENTS)),
        min_size=1,
        max_size=40,
    ).filter(lambda rows: any(event == "purchase" for _, _, event in rows))
)
def test_by_period_matches_a_walk_over_customers(rows):
    origin = pd.Timestamp("2024-01-01", tz="UTC")
    events = pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in rows],
            "timestamp": [origin + pd.Timedelta(days=d / 2) for _, d, _ in rows],
            "event": [e for _, _, e in rows],
        }
    )
    got = jl.loyalty(events).by_period
    want = reference(events)
    columns = list(want.columns)
    np.testing.assert_array_equal(got[columns].to_numpy(), want.to_numpy())
    assert np.allclose(got["repeat_purchase_rate"], got["repeat_buyers"] / got["customers"])


# -- engines ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    events = jl.simulate(400, seed=13).events
    return events[[*jl.CANONICAL_COLUMNS, "rating", "referred_id"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_matches_pandas(simulated, engine):
    want = jl.loyalty(simulated, period="quarter")
    got = jl.loyalty(to_engine(simulated, engine), period="quarter")
    assert_same_frame(got.by_period, want.by_period)
    assert_same_frame(got.advocates, want.advocates)
    assert_same_frame(got.referrals, want.referrals)
    pd.testing.assert_series_equal(got.overall, want.overall)


def test_pyspark_matches_pandas(spark, simulated):
    want = jl.loyalty(simulated)
    got = jl.loyalty(to_engine(simulated, "pyspark", spark))
    assert_same_frame(got.by_period, want.by_period)
    assert_same_frame(got.advocates, want.advocates)
    assert_same_frame(got.referrals, want.referrals)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_purchase_value_counts_as_nothing_on_every_engine(engine):
    events = log(
        [(1, "2024-01-01", "purchase"), (1, "2024-01-05", "purchase"), (1, "2024-01-09", "review")],
        value=[float("nan"), 12.0, 0.0],
    )
    advocates = jl.loyalty(to_engine(events, engine)).advocates
    assert advocates["value"].tolist() == [12.0]
