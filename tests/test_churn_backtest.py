"""Backtests: each pair equals training at one cutoff and evaluating at the next by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import journey_lib as jl
from journey_lib.churn import backtest, build_dataset, train

SIM = jl.simulate(4000, seed=8, progress=False)
CUTOFFS = ["2024-04-01", "2024-07-01", "2024-10-01"]


def test_each_pair_is_train_then_evaluate_later():
    result = backtest(SIM.events, cutoffs=CUTOFFS, horizon="90D", n_bootstraps=30)
    table = result.table
    assert len(table) == 2 and len(result.evaluations) == 2
    assert table["train_cutoff"].dt.strftime("%Y-%m-%d").tolist() == CUTOFFS[:2]
    assert table["test_cutoff"].dt.strftime("%Y-%m-%d").tolist() == CUTOFFS[1:]
    # The second pair by hand: train at July, evaluate at October.
    X_train, y_train = build_dataset(SIM.events, cutoff=CUTOFFS[1])
    X_test, y_test = build_dataset(SIM.events, cutoff=CUTOFFS[2])
    model = train(X_train, y_train)
    expected = model.evaluate(
        X_test.reindex(columns=list(model.features), fill_value=0), y_test, n_bootstraps=30
    )
    row = table.iloc[1]
    assert row["train_customers"] == len(X_train) and row["test_customers"] == len(X_test)
    assert row["test_churn_rate"] == pytest.approx(y_test.mean())
    assert row["roc_auc"] == pytest.approx(expected.table().loc["roc_auc", "hgb"])
    assert row["baseline_roc_auc"] == pytest.approx(
        expected.table().loc["roc_auc", "logistic baseline"]
    )
    assert (table["roc_auc_low"] <= table["roc_auc"]).all()
    assert (table["roc_auc"] <= table["roc_auc_high"]).all()
    assert (table["roc_auc"] > 0.7).all()


@pytest.mark.parametrize(
    ("cutoffs", "message"),
    [
        (["2024-06-01"], "at least two cutoffs"),
        (["2024-06-01", "2024-07-01"], "less than the horizon"),
        (["2024-08-01", "2024-05-01"], "less than the horizon"),
    ],
)
def test_cutoffs_must_be_a_horizon_apart(cutoffs, message):
    with pytest.raises(jl.JourneyParameterError, match=message):
        backtest(SIM.events, cutoffs=cutoffs)


def test_dataset_and_model_options_pass_through():
    result = backtest(
        SIM.events,
        cutoffs=CUTOFFS[1:],
        definition="event",
        churn_event="cancellation",
        n_bootstraps=20,
        model="logistic",
        calibrate=False,
    )
    X, y = build_dataset(
        SIM.events, cutoff=CUTOFFS[2], definition="event", churn_event="cancellation"
    )
    assert result.table["test_customers"].iloc[0] == len(X)
    assert result.table["test_churn_rate"].iloc[0] == pytest.approx(y.mean())
    # The model reached: a plain logistic regression, not wrapped for calibration, trained
    # on the event-defined dataset at the first cutoff.
    (fitted,) = result.models
    assert fitted.model == "logistic" and fitted.calibration is None
    assert isinstance(fitted.pipeline, Pipeline)
    assert isinstance(fitted.pipeline[-1], LogisticRegression)
    recipe = fitted.recipe
    assert (recipe.definition, recipe.churn_event) == ("event", "cancellation")
    assert recipe.cutoff == pd.Timestamp(CUTOFFS[1], tz="UTC")
    by_hand = train(
        build_dataset(
            SIM.events, cutoff=CUTOFFS[1], definition="event", churn_event="cancellation"
        ),
        model="logistic",
        calibrate=False,
    )
    pd.testing.assert_series_equal(fitted.predict_proba(X), by_hand.predict_proba(X))
    assert list(result.evaluations[0].table().columns) == [
        "logistic",
        "logistic baseline",
        "base rate",
    ]
