"""The simulator's retention campaign (issue 20): who is in it, what is logged, and a truth
that holds to a brute-force integration of each customer's hazard path."""

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.errors import JourneyParameterError
from journey_lib.retention_campaign import Campaign, HazardPath

DATE = pd.Timestamp("2024-06-03", tz="UTC")
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def pair():
    """The same world without and with a campaign."""
    plain = jl.simulate(6000, seed=5)
    offered = jl.simulate(6000, seed=5, campaigns=[Campaign(DATE, share=0.4)])
    return plain, offered


def _days(stamps, origin):
    return ((stamps - origin) / DAY).to_numpy(dtype=float)


def _brute_cumulative(segments, row, a, b):
    """The integral of one customer's hazard over [a, b), segment by segment."""
    own = segments[segments["row"] == row]
    total = 0.0
    for start, end, hazard in own[["start", "end", "hazard"]].itertuples(index=False):
        overlap = min(end, b) - max(start, a)
        if overlap > 0:
            total += hazard * overlap
    return total


def test_without_campaigns_nothing_changes(pair):
    plain, _ = pair
    again = jl.simulate(6000, seed=5, campaigns=[])
    pd.testing.assert_frame_equal(plain.events, again.events)
    assert "treatment" not in plain.events.columns
    assert plain.truth.offers.empty
    assert list(plain.truth.offers.columns) == list(again.truth.offers.columns)


def test_the_eligible_are_the_active_buyers_and_a_share_is_offered(pair):
    plain, sim = pair
    truth = plain.truth.customers
    active = truth[(truth["first_purchase"] < DATE) & (truth["churn_time"] > DATE)]
    offers = sim.truth.offers
    assert sorted(offers["customer_id"]) == sorted(active["customer_id"])
    assert offers["treated"].sum() == round(0.4 * len(offers))
    # Randomised: the arms' trust differs only by chance.
    gap = offers.groupby("treated")["trust"].mean().diff().iloc[-1]
    assert abs(gap) < 4 * offers["trust"].std() * np.sqrt(1 / 0.4 + 1 / 0.6) / np.sqrt(len(offers))


def test_both_arms_are_logged_on_the_day_with_a_treatment_flag(pair):
    _, sim = pair
    rows = sim.events[sim.events["event"] == "retention_offer"]
    offers = sim.truth.offers.set_index("customer_id")
    assert len(rows) == len(offers) and rows["customer_id"].is_unique
    arm = offers.loc[rows["customer_id"], "treated"].to_numpy()
    assert (rows["treatment"].to_numpy() == arm.astype(int)).all()
    assert (rows["channel"][arm] == "email").all() and rows["channel"][~arm].isna().all()
    hours = (rows["timestamp"] - DATE) / pd.Timedelta(hours=1)
    assert hours.between(9, 17).all()
    other = sim.events[sim.events["event"] != "retention_offer"]
    assert other["treatment"].isna().all()
    assert jl.validate_events(sim.events).quarantine.empty


def test_held_out_customers_keep_their_churn_and_offered_ones_take_the_offered_outcome(pair):
    plain, sim = pair
    before = plain.truth.customers.set_index("customer_id")["churn_time"]
    after = sim.truth.customers.set_index("customer_id")["churn_time"]
    offers = sim.truth.offers.set_index("customer_id")
    untouched = after.index.difference(offers.index[offers["treated"]])
    pd.testing.assert_series_equal(after[untouched], before[untouched])
    pd.testing.assert_series_equal(
        offers["churn_time_if_held_out"], before[offers.index], check_names=False
    )
    treated = offers[offers["treated"]]
    gap = (after[treated.index] - treated["churn_time_if_offered"]).abs()
    assert (gap <= pd.Timedelta(seconds=1)).all()


def test_the_log_hazard_ratio_follows_trust_and_segment_as_planted(pair):
    plain, sim = pair
    offers = sim.truth.offers.merge(sim.customers[["customer_id", "segment", "plan"]])
    campaign = Campaign(DATE, share=0.4)
    by_segment = offers["segment"].map(campaign.segment_response)
    expected = -1.5 + 5.0 * (1 - offers["trust"]) + by_segment
    np.testing.assert_allclose(offers["log_hazard_ratio"], expected, atol=1e-12)
    # The trust is the one behind the hazard in force at the date: read it back from the
    # planted hazard of customers whose first order has settled.
    p = plain.params
    segments = plain.truth._segments
    day = _days(pd.Series([DATE]), plain.start)[0]
    engagement = plain.truth.customers.set_index("customer_id")["engagement"]
    checked = 0
    for row in offers.sample(150, random_state=0).itertuples():
        own = segments[(segments["row"] == row.customer_id - 1) & (segments["start"] <= day)]
        if own.empty:
            continue
        log_h = np.log(own["hazard"].iloc[-1])
        rest = (
            np.log(-np.log1p(-p.base_churn) / 365)
            + p.engagement_churn * engagement[row.customer_id]
            + p.segment_churn[row.segment]
            + p.plan_churn[row.plan]
        )
        assert 1 - (log_h - rest) / p.trust_effect == pytest.approx(row.trust, abs=1e-9)
        checked += 1
    assert checked > 100


def test_the_uplift_is_the_difference_of_the_two_probabilities_over_the_offer(pair):
    plain, sim = pair
    offers = sim.truth.offers.sample(200, random_state=1)
    day = _days(pd.Series([DATE]), plain.start)[0]
    for row in offers.itertuples():
        gained = _brute_cumulative(plain.truth._segments, row.customer_id - 1, day, day + 90)
        held_out = 1 - np.exp(-gained)
        offered = 1 - np.exp(-np.exp(row.log_hazard_ratio) * gained)
        assert row.uplift == pytest.approx(offered - held_out, abs=1e-12)


def test_the_truths_churn_probability_follows_the_offered_path(pair):
    plain, sim = pair
    offers = sim.truth.offers.set_index("customer_id")
    without = plain.truth.churn_probability(DATE, "90D")[offers.index]
    with_offers = sim.truth.churn_probability(DATE, "90D")[offers.index]
    arm = offers["treated"].to_numpy()
    np.testing.assert_allclose(with_offers[~arm], without[~arm], atol=1e-12)
    np.testing.assert_allclose(with_offers[arm], without[arm] + offers["uplift"][arm], atol=1e-10)


def test_one_random_number_gives_both_potential_outcomes(pair):
    _, sim = pair
    o = sim.truth.offers
    later = (o["churn_time_if_offered"] - o["churn_time_if_held_out"]) / DAY
    # An offer that lowers the hazard delays churn, one that raises it brings it forward.
    assert (later[o["log_hazard_ratio"] < 0] >= -1e-5).all()
    assert (later[o["log_hazard_ratio"] > 0] <= 1e-5).all()
    # A churn inside the window moves; one far past it, after the offer, keeps its distance
    # on the hazard scale, so the two outcomes differ only where the offer worked.
    moved = o["churned_if_offered"] != o["churned_if_held_out"]
    assert moved.any()
    helped = o["churned_if_held_out"] & ~o["churned_if_offered"]
    assert (o.loc[helped, "log_hazard_ratio"] < 0).all()


def test_the_realised_effect_matches_the_true_mean_uplift():
    sim = jl.simulate(40_000, seed=2, campaigns=[Campaign("2024-07-01")])
    o = sim.truth.offers
    realised = o["churned_if_offered"].astype(float) - o["churned_if_held_out"]
    se = realised.std() / np.sqrt(len(o))
    assert abs(realised.mean() - o["uplift"].mean()) < 4 * se
    # What an analyst sees: each arm's churn within the window, through campaign_effect.
    churned = np.where(o["treated"], o["churned_if_offered"], o["churned_if_held_out"])
    effect = jl.uplift.campaign_effect(
        pd.DataFrame({"treated": o["treated"].astype(int), "churned": churned.astype(int)}),
        treatment="treated",
        outcome="churned",
    )
    assert effect["low"].iloc[0] <= o["uplift"].mean() <= effect["high"].iloc[0]
    # The defaults push a share away, and they are the riskiest customers.
    pushed = o["uplift"] > 0
    assert 0.1 < pushed.mean() < 0.4
    assert o.loc[pushed, "trust"].mean() < o.loc[~pushed, "trust"].mean()
    assert o["uplift"].mean() < 0


def test_hazard_path_inverts_its_cumulative_hazard():
    # Two customers: rows 0 (segments [1, 3) at 0.5 and [3, inf) at 2) and 2 (from 0 at 1).
    path = HazardPath(
        np.array([0, 0, 2]),
        np.array([1.0, 3.0, 0.0]),
        np.array([3.0, np.inf, np.inf]),
        np.array([0.5, 2.0, 1.0]),
        3,
    )
    rows = np.array([0, 0, 0, 0, 2, 1])
    t = np.array([0.5, 2.0, 3.0, 4.0, 2.5, 5.0])
    np.testing.assert_allclose(path.cumulative(rows, t), [0.0, 0.5, 1.0, 3.0, 2.5, 0.0])
    np.testing.assert_allclose(
        path.inverse(rows[[1, 2, 3, 4]], np.array([0.5, 1.0, 3.0, 2.5])), [2.0, 3.0, 4.0, 2.5]
    )
    assert path.inverse(np.array([1]), np.array([1.0]))[0] == np.inf
    assert path.cumulative(np.array([0]), np.array([np.inf]))[0] == np.inf


@pytest.mark.parametrize(
    ("campaigns", "message"),
    [
        ([Campaign("2023-06-01")], "not inside the simulated window"),
        (
            [Campaign("2024-03-01"), Campaign("2024-04-01", name="winback")],
            "campaigns may not overlap",
        ),
        ([Campaign("2024-03-01"), Campaign("2024-08-01")], "'retention_offer' is taken"),
        ([Campaign("2024-03-01", name="purchase")], "'purchase' is taken"),
        (Campaign("2024-03-01"), "must be a sequence"),
        (["2024-03-01"], "campaign 1 is '2024-03-01'"),
    ],
)
def test_bad_campaigns_are_refused_with_the_reason(campaigns, message):
    with pytest.raises(JourneyParameterError, match=message):
        jl.simulate(200, seed=0, campaigns=campaigns)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"share": 0.0}, "strictly between 0 and 1"),
        ({"segment_response": {"consumer": 0.0}}, "for each of"),
        ({"lasts": 0}, "positive number of days"),
        ({"channel": "tv"}, "channel"),
        ({"effect": np.nan}, "effect must be a finite number"),
        ({"name": " "}, "must be an event name"),
    ],
)
def test_a_campaign_checks_its_settings(kwargs, message):
    with pytest.raises(JourneyParameterError, match=message):
        Campaign("2024-06-01", **kwargs)


def test_two_campaigns_each_keep_their_own_truth():
    sim = jl.simulate(
        4000,
        seed=9,
        campaigns=[Campaign("2024-03-04"), Campaign("2024-07-01", share=0.3, name="winback")],
    )
    o = sim.truth.offers
    assert set(o["campaign"]) == {"retention_offer", "winback"}
    logged = sim.events[sim.events["treatment"].notna()].groupby("event")["treatment"]
    assert logged.size().to_dict() == o.groupby("campaign").size().to_dict()
    second = o[o["campaign"] == "winback"]
    assert second["treated"].sum() == round(0.3 * len(second))
    # Eligible for the second: customers still there after the first, on the path drawn.
    truth = sim.truth.customers.set_index("customer_id")
    still = truth[(truth["first_purchase"] < pd.Timestamp("2024-07-01", tz="UTC"))]
    still = still[still["churn_time"] > pd.Timestamp("2024-07-01", tz="UTC")]
    assert sorted(second["customer_id"]) == sorted(still.index)


def test_the_campaigns_names_for_segments_and_channels_are_the_simulators():
    from journey_lib import retention_campaign, simulator

    assert retention_campaign._SEGMENTS == simulator.SEGMENTS
    assert set(retention_campaign._CHANNELS) <= set(simulator.CHANNELS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"share": "0.5"}, "share must be a number"),
        ({"lasts": "90"}, "lasts must be a number"),
        ({"segment_response": None}, "must map each segment"),
    ],
)
def test_a_campaign_refuses_settings_of_the_wrong_type(kwargs, message):
    with pytest.raises(JourneyParameterError, match=message):
        Campaign("2024-06-01", **kwargs)
