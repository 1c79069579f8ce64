"""Targeting by uplift (issue 20): expected profit -uplift * value - cost, the campaign's
inverse-probability-weighted realised profit, and, on a held-out simulated campaign, more
profit than ranking by risk."""

import warnings

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib import widgets
from journey_lib.churn.targeting import plan_offers
from journey_lib.errors import JourneyDataError, JourneyParameterError


def test_an_uplift_plan_by_hand():
    X = pd.DataFrame({"value_total": [100.0, 50.0, 200.0, 10.0]}, index=list("abcd"))
    plan = plan_offers(None, X, offer_cost=4, uplift=[-0.1, -0.2, 0.05, -0.5])
    # Expected values: a 6, b 6, c -14, d 1; ties go in input order (no risk to break them).
    contacts = plan.contacts
    assert contacts.index.tolist() == ["a", "b", "d", "c"]
    assert contacts["expected_value"].tolist() == pytest.approx([6.0, 6.0, 1.0, -14.0])
    assert contacts["break_even"].tolist() == pytest.approx([-0.04, -0.08, -0.4, -0.02])
    assert contacts["contact"].tolist() == [True, True, True, False]
    assert plan.curve["expected_saved"].tolist() == pytest.approx([0, 0.1, 0.3, 0.8, 0.75])
    assert plan.save_rate is None and plan.expected_profit == pytest.approx(13.0)
    assert "uplift by customer" in plan.summary()
    assert plan_offers(None, X, offer_cost=4, uplift=[-0.1, -0.2, 0.05, -0.5], budget=1).chosen == 1


def test_the_realised_profit_on_a_campaign_is_its_weighted_estimate_by_hand():
    # Ranked a, b, c, d by uplift; a and c offered (e = 1/2), b and d held out.
    X = pd.DataFrame({"v": [10.0] * 4}, index=list("abcd"))
    y, t = [0, 1, 1, 0], [1, 0, 1, 0]
    plan = plan_offers(
        None, X, offer_cost=1, value="v", uplift=[-0.4, -0.3, -0.2, -0.1], y=y, treatment=t
    )
    # Saves: a 0, b +1/(1/2) = 2, c -1/(1/2) = -2, d 0; times value, less one per contact.
    assert plan.curve["realised_profit"].tolist() == pytest.approx([0, -1, 18, -3, -4])
    # A risk ranking is judged the same way when the arms are given...
    risk = plan_offers([0.9, 0.8, 0.7, 0.6], X, offer_cost=1, value="v", save_rate=0.5, y=y,
                       treatment=t)  # fmt: skip
    assert risk.curve["realised_profit"].tolist() == pytest.approx([0, -1, 18, -3, -4])
    # ...and by its save rate without them: half of each churner's value.
    risk = plan_offers([0.9, 0.8, 0.7, 0.6], X, offer_cost=1, value="v", save_rate=0.5, y=y)
    assert risk.curve["realised_profit"].tolist() == pytest.approx([0, -1, 3, 7, 6])


def test_the_weighted_estimate_is_unbiased_for_what_the_offer_saves():
    rng = np.random.default_rng(3)
    n = 400
    churn_held, churn_offered = rng.random(n) < 0.4, rng.random(n) < 0.25
    value = rng.uniform(10, 100, n)
    X = pd.DataFrame({"v": value})
    uplift = churn_offered.astype(float) - churn_held  # a perfect ranking of these customers
    truth = np.cumsum(np.sort(-uplift * value)[::-1])
    estimates = []
    for _ in range(600):
        # A share offered other than a half: the two arms' weights differ, 1/0.3 and 1/0.7.
        t = np.zeros(n, int)
        t[rng.permutation(n)[: int(0.3 * n)]] = 1
        y = np.where(t == 1, churn_offered, churn_held).astype(int)
        plan = plan_offers(None, X, offer_cost=0, value="v", uplift=uplift, y=y, treatment=t)
        estimates.append(plan.curve["realised_profit"].to_numpy()[1:])
    estimates = np.array(estimates)
    se = estimates.std(axis=0) / np.sqrt(len(estimates))
    for k in (50, 200, 399):
        assert abs(estimates[:, k].mean() - truth[k]) < 4 * se[k]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"save_rate": 0.3, "uplift": [-0.1, 0]}, JourneyParameterError, "not both"),
        ({}, JourneyParameterError, "give save_rate"),
        ({"uplift": [1.5, 0]}, JourneyDataError, "-1 to 1"),
        ({"uplift": [-0.1, 0.2, 0]}, JourneyDataError, "2 rows but 3 uplifts"),
        ({"uplift": [-0.1, 0], "y": [1, 0]}, JourneyParameterError, "needs the campaign's"),
        ({"uplift": [-0.1, 0], "y": [1, 0], "treatment": [2, 0]}, JourneyDataError, "0 or 1"),
        ({"uplift": [-0.1, 0], "y": [1, 0], "treatment": [1, 1]}, JourneyDataError, "both"),
    ],
)
def test_uplift_plans_refuse_what_they_cannot_use(kwargs, error, message):
    X = pd.DataFrame({"value_total": [10.0, 20.0]})
    with pytest.raises(error, match=message):
        plan_offers(None, X, offer_cost=1, **kwargs)


@pytest.fixture(scope="module")
def campaigns():
    """A campaign to learn from and another, in another simulated world, to judge on."""

    def world(seed):
        sim = jl.simulate(100_000, seed=seed, campaigns=[jl.Campaign("2024-06-03")])
        return sim, jl.uplift.campaign_dataset(sim.events, profile=jl.profile(sim.events))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm's progress bar at 100,000 customers
        (_, learn), (sim, judge) = world(11), world(12)
    model = jl.uplift.fit(learn.X, learn.treatment, learn.y, learner="t")
    return model, sim, judge


@pytest.mark.parametrize("value", [300.0, "value_total"])
def test_on_a_held_out_campaign_uplift_targeting_earns_more_than_risk_targeting(campaigns, value):
    model, sim, data = campaigns
    both = jl.uplift.compare_targeting(
        data.X,
        uplift=model.predict_uplift(data.X),
        risk=model.predict_outcome(data.X),
        offer_cost=5,
        save_rate=0.3,
        value=value,
        y=data.y,
        treatment=data.treatment,
    )
    truth = sim.truth.offers.set_index("customer_id").loc[data.X.index]
    worth = pd.Series(300.0, index=data.X.index) if value == 300.0 else data.X["value_total"]
    # What each plan really earns: the truth's two outcomes of every customer it contacts.
    earned = {}
    for name, plan in both.plans.items():
        chosen = plan.contacts.index[plan.contacts["contact"]]
        kept = truth.loc[chosen, "churned_if_held_out"].astype(int) - truth.loc[
            chosen, "churned_if_offered"
        ].astype(int)
        earned[name] = float((kept * worth[chosen]).sum() - 5 * len(chosen))
    assert earned["by uplift"] > earned["by risk"] + 0.05 * abs(earned["by risk"])
    assert earned["by uplift"] > 0
    # The campaign's own estimate, which an analyst has, says the same.
    table = both.table
    assert table.loc["by uplift", "realised_profit"] > table.loc["by risk", "realised_profit"]
    assert table.loc["by uplift", "realised_at_same_size"] > table.loc["by risk", "realised_profit"]
    assert "by uplift: contact" in both.summary()


def test_the_targeting_widget_takes_an_uplift_model(campaigns):
    model, _, data = campaigns
    whatif = widgets.TargetingWhatIf(model, data.X, y=data.y, treatment=data.treatment)
    expected = plan_offers(
        model.predict_outcome(data.X),
        data.X,
        offer_cost=5.0,
        uplift=model.predict_uplift(data.X),
        y=data.y,
        treatment=data.treatment,
    )
    pd.testing.assert_frame_equal(whatif.result.contacts, expected.contacts)
    assert whatif.controls["save_rate"].disabled
    whatif.controls["offer_cost"].value = 20.0
    assert whatif.result.chosen < expected.chosen
    assert "the offer is expected to lower their churn by" in whatif.text()


def test_who_to_call_follows_the_uplift_after_a_logged_campaign():
    sim = jl.simulate(20_000, seed=8, campaigns=[jl.Campaign("2024-06-03")])
    profile = jl.profile(sim.events)
    learn = jl.uplift.campaign_dataset(sim.events, profile=profile)
    model = jl.uplift.fit(learn.X, learn.treatment, learn.y)
    by_risk = jl.churn.at_risk(sim.events, profile=profile, model="logistic", max_reasons=0)
    by_uplift = jl.churn.at_risk(
        sim.events, profile=profile, model="logistic", max_reasons=0, uplift=model
    )
    table = by_uplift.table
    assert by_risk.table["uplift"].isna().all() and table["uplift"].notna().all()
    # The decision is the uplift plan's: -uplift x value - cost > 0, never a push away.
    expected = -table["uplift"] * table["value"] - 5.0
    np.testing.assert_allclose(table["expected_value"], expected)
    assert table["contact"].equals(expected > 0) and table["contact"].any()
    assert (table.loc[table["contact"], "uplift"] < 0).all()
    # The same customers in the same order of risk; only the decision differs.
    assert table["customer_id"].tolist() == by_risk.table["customer_id"].tolist()
    assert not table["contact"].equals(by_risk.table["contact"])
    m = by_uplift.metrics()
    assert m["ranking"] == "uplift" and m["save_rate"] is None
    assert by_risk.metrics()["ranking"] == "risk"
    assert "each customer's uplift" in by_uplift.summary()
    shown = by_uplift.formatted(5, ids=False)
    assert shown["churn change if offered"].str.fullmatch(r"[+-]?[\d.]+ pts").all()
    assert "churn change if offered" not in by_risk.formatted(5).columns
