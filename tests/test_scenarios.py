"""The what-if of the teaching notebook: outcomes of a simulation, and of a changed one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.scenarios import MEASURES


@pytest.fixture(scope="module")
def sim():
    return jl.simulate(1500, seed=4)


def brute_outcomes(sim) -> dict[str, float]:
    """Each measure by walking the buyers one at a time."""
    truth = sim.truth.customers.set_index("customer_id")
    rows = {"churn_rate": [], "repeat_rate": [], "advocacy_rate": [], "mean_trust": []}
    for customer, own in sim.events.groupby("customer_id"):
        bought = int((own["event"] == "purchase").sum())
        if not bought:
            continue
        rows["churn_rate"].append(float(truth.loc[customer, "churned"]))
        rows["repeat_rate"].append(float(bought >= 2))
        rows["advocacy_rate"].append(float(own["event"].isin(["review", "referral"]).any()))
        rows["mean_trust"].append(float(truth.loc[customer, "trust"]))
    return {name: (np.mean(v), np.std(v) / np.sqrt(len(v)), len(v)) for name, v in rows.items()}


def test_outcomes_agree_with_a_walk_over_the_buyers(sim):
    table = jl.outcomes(sim).set_index("measure")
    assert list(table.index) == list(MEASURES)
    for name, (value, se, n) in brute_outcomes(sim).items():
        assert table.loc[name, "value"] == pytest.approx(value)
        assert table.loc[name, "se"] == pytest.approx(se)
        assert table.loc[name, "buyers"] == n


def test_no_change_is_the_baseline_itself(sim):
    table = jl.what_if(sim)
    assert (table["change"] == 0).all()
    assert table.attrs["changes"] == {}
    assert table["meaning"].tolist() == list(MEASURES.values())


def test_the_scenario_is_the_same_customers_simulated_with_the_changes(sim):
    table = jl.what_if(sim, service_quality=0.3, respect=0.6)
    again = jl.simulate(1500, seed=4, service_quality=0.3, respect=0.6)
    pd.testing.assert_series_equal(
        table["scenario"], jl.outcomes(again)["value"], check_names=False
    )
    pd.testing.assert_series_equal(table["baseline"], jl.outcomes(sim)["value"], check_names=False)
    assert table.attrs["changes"] == {"service_quality": 0.3, "respect": 0.6}
    # Acquisition does not depend on trust: the same people reached the same way (who
    # referred them does: referrers are drawn by trust).
    same = ["customer_id", "first_seen", "acquisition_channel", "segment", "region"]
    pd.testing.assert_frame_equal(again.customers[same], sim.customers[same])


def test_a_changed_baseline_keeps_its_other_parameters():
    tough = jl.simulate(800, seed=1, days=200, trust_effect=9.0)
    table = jl.what_if(tough, care=0.1)
    again = jl.simulate(800, seed=1, days=200, trust_effect=9.0, care=0.1)
    np.testing.assert_allclose(table["scenario"], jl.outcomes(again)["value"])


def test_planted_effects_move_the_outcomes_beyond_chance():
    baseline = jl.simulate(3000, seed=11)
    broken = jl.what_if(baseline, keeping_promises=0.3).set_index("measure")
    assert broken.loc["churn_rate", "change"] > broken.loc["churn_rate", "margin"]
    assert broken.loc["mean_trust", "change"] < -broken.loc["mean_trust", "margin"]
    assert broken.loc["advocacy_rate", "change"] < 0
    better = jl.what_if(baseline, keeping_promises=1.0, service_quality=1.0).set_index("measure")
    assert better.loc["churn_rate", "change"] < -better.loc["churn_rate", "margin"]
    # trust_effect=0 cuts the link from trust to churn: trust falls, churn does not follow.
    unlinked = jl.simulate(3000, seed=11, trust_effect=0.0)
    table = jl.what_if(unlinked, keeping_promises=0.3).set_index("measure")
    assert table.loc["mean_trust", "change"] < -table.loc["mean_trust", "margin"]
    assert abs(table.loc["churn_rate", "change"]) <= table.loc["churn_rate", "margin"]


def test_bad_changes_and_buyerless_simulations_are_named(sim):
    unknown = r"unknown simulation parameter\(s\) \['kindness'\]"
    with pytest.raises(jl.JourneyParameterError, match=unknown):
        jl.what_if(sim, kindness=0.5)
    with pytest.raises(jl.JourneyParameterError, match="keeping_promises must be a probability"):
        jl.what_if(sim, keeping_promises=1.5)
    with pytest.raises(jl.JourneyDataError, match="nobody bought"):
        jl.outcomes(jl.simulate(200, seed=0, purchase_rate=0.0))
