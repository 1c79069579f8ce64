"""The campaign notebook's data and readings (issue 20): the campaign a log or a customer
table holds, else a simulated one with its truth; and, end to end, a report on a log with a
campaign whose call list and summary follow the uplift."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.report.campaigns import (
    campaign_models,
    logged_uplift,
    report_campaign,
    true_profits,
)

ROSSI = Path(__file__).parent / "reference" / "rossi.csv"


@pytest.fixture(scope="module")
def logged():
    sim = jl.simulate(20_000, seed=6, campaigns=[jl.Campaign("2024-06-03")])
    return sim, jl.report.open_data(sim.events, quiet=True)


def test_a_logged_campaign_is_read_with_the_profile(logged):
    sim, data = logged
    found = report_campaign(data)
    assert found.logged and found.truth is None
    expected = jl.uplift.campaign_dataset(sim.events, profile=data.profile)
    pd.testing.assert_frame_equal(found.data.X, expected.X)
    pd.testing.assert_series_equal(found.data.y, expected.y)
    assert found.source == "The campaign logged as 'retention_offer', from 2024-06-03."
    model = logged_uplift(data)
    assert model is not None and model.learner == "t"
    assert model.features_ == list(jl.churn._inputs.tidy_features(expected.X).columns)


def test_of_several_logged_campaigns_the_largest_is_read(logged):
    sim, _ = logged
    rows = sim.events[sim.events["treatment"].notna()]
    small = rows.head(200).assign(
        event="winback", timestamp=pd.Timestamp("2024-07-01 10:00", tz="UTC")
    )
    data = jl.report.open_data(pd.concat([sim.events, small], ignore_index=True), quiet=True)
    found = report_campaign(data)
    assert found.data.campaign == "retention_offer"
    assert report_campaign(data, campaign="winback").data.campaign == "winback"


def test_a_table_column_named_holdout_reads_its_ones_as_held_out(tmp_path):
    rossi = pd.read_csv(ROSSI)
    table = rossi.rename(columns={"arrest": "churned"}).assign(holdout=1 - rossi["fin"])
    table = table.drop(columns="fin")
    table.insert(0, "customer_id", np.arange(len(table)))
    table.to_csv(tmp_path / "t.csv", index=False)
    data = jl.report.open_data(str(tmp_path / "t.csv"), quiet=True)
    assert data.profile.column("treatment") == "holdout"
    found = report_campaign(data)
    assert found.data.treatment.tolist() == rossi["fin"].tolist()


def test_without_a_campaign_the_page_simulates_one_with_its_truth():
    data = jl.report.open_data(jl.simulate(2000, seed=1).events, quiet=True)
    assert logged_uplift(data) is None
    found = report_campaign(data, simulated_customers=15_000, seed=3)
    assert not found.logged
    assert found.truth.index.equals(found.data.X.index)
    assert found.source.startswith("The data logs no campaign")
    assert f"{len(found.data.X):,} customers active on 2024-06-03" in found.source
    models, judged, qini, curves = campaign_models(found, holdout=0.3, seed=0, n_boot=20)
    assert set(models) == {"T-learner", "S-learner", "X-learner"}
    assert list(qini.index) == ["T-learner", "S-learner", "X-learner", "the truth"]
    assert len(judged) == round(0.3 * len(found.data.X))
    # The truth ranks better than chance; on a few hundred held-out customers a model can
    # score higher by luck, so no order among them is asserted.
    assert qini.loc["the truth", "qini"] > 0
    assert qini["true_uplift_correlation"].drop("the truth").gt(0).all()
    assert set(curves) == set(qini.index)


def test_a_customer_table_with_a_treatment_column_is_a_campaign(tmp_path):
    # rossi's financial aid was randomly assigned: the table's campaign is that trial.
    rossi = pd.read_csv(ROSSI)
    table = rossi.rename(columns={"arrest": "churned", "fin": "aid_treatment"})
    table.insert(0, "customer_id", np.arange(len(table)))
    path = tmp_path / "rossi_table.csv"
    table.to_csv(path, index=False)
    data = jl.report.open_data(str(path), quiet=True)
    assert data.table is not None and data.profile.column("treatment") == "aid_treatment"
    found = report_campaign(data)
    assert found.logged and found.data.start is None
    assert "aid_treatment" not in found.data.X.columns
    effect = jl.uplift.campaign_effect(found.data.frame())
    direct = jl.uplift.campaign_effect(rossi, treatment="fin", outcome="arrest")
    pd.testing.assert_frame_equal(effect, direct)
    assert "campaign 'aid_treatment': 432 customers" in found.data.summary()


def test_the_readings_say_what_the_numbers_say():
    effect = pd.DataFrame(
        {
            "treated": [400],
            "holdout": [400],
            "treated_rate": [0.25],
            "holdout_rate": [0.2],
            "effect": [0.05],
            "low": [-0.01],
            "high": [0.11],
            "relative": [0.25],
            "p_value": [0.09],
            "test": ["chi2"],
            "to_treat_per_save": [np.nan],
        }
    )
    text = jl.report.readings.campaign_reading(effect, min_cell=500)
    assert "of the <500 offered customers" in text
    assert "within what chance gives (p = 0.09)" in text and "kept one" not in text
    pushed = effect.assign(low=0.01, p_value=0.01)
    assert "pushed customers away" in jl.report.readings.campaign_reading(pushed)
    weak = pd.DataFrame({"qini": [0.02], "low": [-0.01], "high": [0.05]}, index=["X-learner"])
    assert "may be no better than chance" in jl.report.readings.qini_reading(weak)


def test_true_profits_count_kept_and_pushed_away_customers():
    X = pd.DataFrame({"v": [100.0, 100.0, 50.0]}, index=[1, 2, 3])
    both = jl.uplift.compare_targeting(
        X, uplift=[-0.5, -0.4, 0.3], risk=[0.9, 0.2, 0.8], offer_cost=1, save_rate=0.5,
        value="v",
    )  # fmt: skip
    truth = pd.DataFrame(
        {"churned_if_held_out": [True, False, False], "churned_if_offered": [False, False, True]},
        index=[1, 2, 3],
    )
    # By uplift: 1 (kept: +100) and 2 (no change), less 2. By risk: all three (+100, 0,
    # pushed away -50), less 3.
    assert true_profits(both, truth) == {"by risk": 47.0, "by uplift": 98.0}
    assert true_profits(both, None) is None


def test_a_report_on_a_log_with_a_campaign_calls_by_uplift(tmp_path):
    sim = jl.simulate(12_000, seed=4, campaigns=[jl.Campaign("2024-06-03")])
    path = tmp_path / "campaign_log.csv"
    sim.events.to_csv(path, index=False)
    result = jl.report.run_report(
        data=str(path),
        only=["04", "08"],
        parameters={"model": "logistic", "customers_path": ""},
        out=tmp_path / "reports",
        timeout=900,
    )
    assert result.ok, result.summary()
    folder = tmp_path / "reports" / "latest"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["04_churn_model"]["ranking"] == "uplift"
    assert metrics["04_churn_model"]["save_rate"] is None
    assert metrics["08_campaigns"]["campaign_logged"] is True
    listed = pd.read_csv(folder / "at_risk.csv")
    assert listed["uplift"].notna().all() and listed["contact"].any()
    assert (listed.loc[listed["contact"], "uplift"] < 0).all()
    campaign_page = (folder / "08_campaigns.html").read_text()
    assert "The campaign logged as &#x27;retention_offer&#x27;" in campaign_page or (
        "The campaign logged as 'retention_offer'" in campaign_page
    )
    summary = (folder / "index.html").read_text()
    assert "chosen by what the offer changed for customers like them" in summary
