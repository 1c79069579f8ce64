"""The simulator: reproducible, canonical, causally consistent, and true to its documented model."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import journey_lib as jl
from journey_lib.simulator import EVENTS, PLANS, SEGMENTS

START = pd.Timestamp("2024-01-01", tz="UTC")


@pytest.fixture(scope="module")
def sim():
    return jl.simulate(3000, seed=11)


@pytest.fixture(scope="module")
def counts(sim):
    return pd.crosstab(sim.events["customer_id"], sim.events["event"])


def test_same_seed_same_data_other_seed_other_data():
    a, b = jl.simulate(400, seed=5), jl.simulate(400, seed=5)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.truth.customers, b.truth.customers)
    assert not jl.simulate(400, seed=6).events.equals(a.events)


def test_events_are_a_clean_canonical_log(sim):
    report = jl.validate_events(sim.events)
    assert report.ok and report.duplicates == 0
    pd.testing.assert_frame_equal(report.clean, sim.events)
    assert sim.events["timestamp"].min() >= START
    assert sim.events["timestamp"].max() < START + pd.Timedelta(days=365)
    assert set(sim.events["event"]) <= set(EVENTS)


def test_every_journey_starts_with_a_marketing_touch_at_first_seen(sim):
    first = sim.events.groupby("customer_id").first()
    assert set(first["event"]) == {"ad_view", "referral_invite"}
    seen = sim.customers.set_index("customer_id")["first_seen"]
    assert (first["timestamp"] == seen.loc[first.index]).all()
    assert first.index.nunique() == len(sim.customers)


def test_first_purchase_follows_signup_and_matches_truth(sim):
    ev = sim.events
    first_buy = ev[ev["event"] == "purchase"].groupby("customer_id")["timestamp"].min()
    signup = ev[ev["event"] == "signup"].groupby("customer_id")["timestamp"].min()
    assert (signup.loc[first_buy.index] <= first_buy).all()
    truth = sim.truth.customers.set_index("customer_id")
    buyers = truth[truth["purchased"]]
    pd.testing.assert_series_equal(
        buyers["first_purchase"], first_buy.reindex(buyers.index), check_names=False
    )
    assert sim.customers.set_index("customer_id").loc[buyers.index, "plan"].notna().all()
    assert sim.customers.set_index("customer_id").loc[~truth["purchased"], "plan"].isna().all()


def test_nothing_is_logged_after_churn_but_the_cancellation(sim):
    ev = sim.events.merge(sim.truth.customers[["customer_id", "churn_time"]], on="customer_id")
    after = ev[ev["timestamp"] > ev["churn_time"]]
    assert after.empty
    cancels = ev[ev["event"] == "cancellation"]
    assert (cancels["timestamp"] == cancels["churn_time"].dt.round("s")).all()
    churned = sim.truth.customers.set_index("customer_id")["churned"]
    assert churned.loc[cancels["customer_id"]].all()
    share = len(cancels) / churned.sum()
    assert 0.35 < share < 0.65  # cancellation_logged = 0.5


def test_support_and_apologies_follow_their_causes(counts):
    assert (counts["ticket_resolved"] <= counts["support_ticket"]).all()
    mistakes = counts["delivery_late"] + counts["support_ticket"] - counts["ticket_resolved"]
    assert (counts["apology"] <= mistakes).all()
    deliveries = counts["delivery_on_time"] + counts["delivery_late"]
    assert (deliveries <= counts["purchase"]).all()
    assert (counts.loc[counts["purchase"] == 0, ["review", "referral", "cancellation"]] == 0).all(
        axis=None
    )


def test_reviews_carry_ratings_and_referrals_name_real_referred_customers(sim):
    ev = sim.events
    reviews = ev[ev["event"] == "review"]
    assert reviews["rating"].between(1, 5).all()
    assert ev.loc[ev["event"] != "review", "rating"].isna().all()
    referrals = ev[ev["event"] == "referral"]
    assert len(referrals) > 0
    customers = sim.customers.set_index("customer_id")
    referred = customers.loc[referrals["referred_id"].astype(int)]
    assert (referred["acquisition_channel"] == "referral").all()
    assert (referred["referrer_id"].to_numpy() == referrals["customer_id"].to_numpy()).all()
    assert (referred["first_seen"].to_numpy() > referrals["timestamp"].to_numpy()).all()
    named = customers["referrer_id"].dropna()
    assert len(named) == len(referrals)


def test_hazard_follows_the_documented_formula_exactly():
    # Every chance goes right except deliveries, which are all late and all apologised for:
    # trust is exactly 1 - weight(keeping_promises) for every buyer.
    perfect = dict(
        communication=1,
        care=1,
        fair_treatment=1,
        personalisation=1,
        owning_mistakes=1,
        respect=1,
        service_quality=1,
        keeping_promises=0,
        heterogeneity=0,
        ticket_rate_late=0,
    )
    sim = jl.simulate(4000, seed=2, **perfect)
    p = sim.params
    truth = sim.truth.customers.merge(sim.customers, on="customer_id")
    buyers = truth[truth["purchased"]]
    trust = 1 - p.weights()["keeping_promises"]
    np.testing.assert_allclose(buyers["trust"], trust)
    expected = np.exp(
        np.log(-np.log1p(-p.base_churn) / 365)
        + p.trust_effect * (1 - trust)
        + p.engagement_churn * buyers["engagement"]
        + buyers["segment"].map(p.segment_churn)
        + buyers["plan"].map(p.plan_churn)
    )
    np.testing.assert_allclose(buyers["churn_hazard"], expected, rtol=1e-12)
    # With a constant hazard from settling on, integrated hazards to churn are Exp(1).
    at_risk = buyers["first_purchase"] + pd.Timedelta(days=p.settle_days)
    spent = (buyers["churn_time"] - at_risk) / pd.Timedelta(days=1) * buyers["churn_hazard"]
    assert stats.kstest(spent, "expon").pvalue > 0.01


def test_oracle_probabilities_are_calibrated():
    sim = jl.simulate(20000, seed=4)
    cutoff = pd.Timestamp("2024-08-01", tz="UTC")
    prob = sim.truth.churn_probability(cutoff, "90D").dropna()
    churn = sim.truth.customers.set_index("customer_id")["churn_time"].loc[prob.index]
    churned = (churn <= cutoff + pd.Timedelta("90D")).to_numpy()
    assert abs(prob.mean() - churned.mean()) < 0.02
    # Calibrated within each quartile of predicted risk, and informative across them.
    quartile = pd.qcut(prob.to_numpy(), 4, labels=False)
    observed = pd.Series(churned).groupby(quartile).mean()
    predicted = pd.Series(prob.to_numpy()).groupby(quartile).mean()
    np.testing.assert_allclose(observed, predicted, atol=0.035)
    assert observed.is_monotonic_increasing


def test_churn_probability_excludes_customers_not_at_risk(sim):
    prob = sim.truth.churn_probability("2024-06-01")
    truth = sim.truth.customers.set_index("customer_id")
    cutoff = pd.Timestamp("2024-06-01", tz="UTC")
    at_risk = (truth["first_purchase"] < cutoff) & (truth["churn_time"] > cutoff)
    assert prob.notna().equals(at_risk)
    assert prob.dropna().between(0, 1).all()


def test_worse_promises_mean_more_churn_and_fewer_reviews():
    base = jl.simulate(8000, seed=9)
    worse = jl.simulate(8000, seed=9, keeping_promises=0.4)

    def rates(s):
        buyers = s.truth.customers[s.truth.customers["purchased"]]
        reviews = (s.events["event"] == "review").sum() / (s.events["event"] == "purchase").sum()
        return buyers["churned"].mean(), reviews

    (churn_base, review_base), (churn_worse, review_worse) = rates(base), rates(worse)
    assert churn_worse > churn_base + 0.05
    assert review_worse < review_base


def test_planted_effects_table_lists_every_driver():
    effects = jl.simulate(50, seed=0).truth.effects.set_index("driver")
    churn = effects[effects["outcome"] == "churn"]
    weights = jl.SimulationParameters().weights()
    for driver, weight in weights.items():
        assert churn.loc[driver, "effect"] == pytest.approx(6.0 * weight)
    assert churn.loc["region", "effect"] == 0
    assert {f"segment={s}" for s in SEGMENTS[1:]} <= set(churn.index)
    assert {f"plan={p}" for p in PLANS[1:]} <= set(churn.index)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keeping_promises": 1.5}, "keeping_promises must be a probability"),
        ({"orders_per_year": -1}, "orders_per_year must be >= 0"),
        ({"loyalty": 0.5}, "unknown simulation parameter"),
        ({"segment_churn": {"consumer": 0}}, "segment_churn must give a value for each"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(jl.JourneyParameterError, match=message):
        jl.simulate(10, **kwargs)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_customer_count_must_be_a_positive_integer(n):
    with pytest.raises(jl.JourneyParameterError, match="n_customers"):
        jl.simulate(n)


def test_tiny_and_short_simulations_work():
    one = jl.simulate(1, seed=0)
    assert len(one.customers) == 1 and len(one.events) >= 1
    short = jl.simulate(200, seed=0, days=10, start="2023-05-01")
    assert short.events["timestamp"].max() < pd.Timestamp("2023-05-11", tz="UTC")


def test_progress_bar_is_shown_on_request_and_silent_by_default(capsys):
    jl.simulate(50, seed=0, progress=True)
    assert "simulate" in capsys.readouterr().err
    jl.simulate(50, seed=0)
    assert capsys.readouterr().err == ""
