"""Judging survival models on censored holdouts (journey_lib.survival.evaluation):
scikit-survival's figures on a fixed data set (scikit-survival 0.28.0, run once in a separate
environment: it is GPL-3 and not installed here), weights and scores by hand, a brute-force
pair count, and a classifier beside a Cox model on planted lifetimes."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from journey_lib.errors import JourneyDataError
from journey_lib.survival import (
    CoxModel,
    brier_score,
    compare_predictions,
    concordance,
    integrated_brier_score,
    simulate_lifetimes,
    time_dependent_auc,
)
from journey_lib.survival.evaluation import censoring_survival

# A fixed data set both environments build alike: 200 customers, the first 120 for training.
ROW = np.arange(200)
TIME = ((ROW * 37) % 97) + 1 + (ROW % 7) / 10
EVENT = ROW % 3 != 0
RISK = np.sin(ROW) + (TIME < 30) * 0.8
TRAIN = (TIME[:120], EVENT[:120])
TIMES = np.array([10.0, 25, 40, 55, 70, 85])
CURVES = np.exp(-0.01 * np.outer(np.exp(RISK[120:]), TIMES))


def test_time_dependent_auc_equals_scikit_survival():
    table, mean = time_dependent_auc(TIME[120:], EVENT[120:], RISK[120:], TIMES, train=TRAIN)
    np.testing.assert_allclose(
        table["auc"],
        [
            0.670215659073915,
            0.7838476619536816,
            0.7037806543382331,
            0.6363583677354119,
            0.5831032031954119,
            0.6182914879705869,
        ],
        rtol=1e-12,
    )
    assert mean == pytest.approx(0.6541628823664647, rel=1e-12)
    # One score per time (1 - S(t)): the same ranking at every time, the same AUCs.
    per_time, _ = time_dependent_auc(TIME[120:], EVENT[120:], 1 - CURVES, TIMES, train=TRAIN)
    np.testing.assert_allclose(per_time["auc"], table["auc"], rtol=1e-12)


def test_brier_scores_equal_scikit_survival():
    table = brier_score(TIME[120:], EVENT[120:], CURVES, TIMES, train=TRAIN)
    np.testing.assert_allclose(
        table["brier"],
        [
            0.0644618359594055,
            0.12861871764442437,
            0.19366660863707943,
            0.24921577842267634,
            0.2729330472502783,
            0.21876989036258995,
        ],
        rtol=1e-12,
    )
    ibs = integrated_brier_score(TIME[120:], EVENT[120:], CURVES, TIMES, train=TRAIN)
    assert ibs == pytest.approx(0.19721000302309122, rel=1e-12)
    assert concordance(TIME[120:], EVENT[120:], RISK[120:]) == pytest.approx(
        0.6065965583173997, rel=1e-12
    )


def test_censoring_curve_and_brier_by_hand():
    # Censored at 2 (3 at risk: the churn at 1 has left) and at 4 (the last one).
    np.testing.assert_allclose(
        censoring_survival([1, 2, 3, 4], [1, 0, 1, 0], [0.5, 2, 3.9, 4]), [1, 2 / 3, 2 / 3, 0]
    )
    # A churn and a censoring at 2: the churn goes first, so the censoring's risk set is 1.
    np.testing.assert_allclose(censoring_survival([2, 2, 5], [1, 0, 1], [2]), [0.5])
    # Brier at t = 3: customer 1 churned at 1 (weight 1 / G(1) = 1), customer 2 censored at
    # 2 (unknown, weight 0), customers 3 and 4 still there (weight 1 / G(3) = 3/2).
    s = np.array([[0.2], [0.9], [0.7], [0.4]])
    got = brier_score([1, 2, 4, 5], [1, 0, 1, 0], s, [3])["brier"].item()
    assert got == pytest.approx((0.2**2 + 1.5 * 0.3**2 + 1.5 * 0.6**2) / 4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 9), st.booleans(), st.integers(0, 3)), min_size=4, max_size=30
    ),
    st.integers(1, 8),
)
def test_auc_equals_counting_weighted_pairs(rows, t):
    time, event, risk = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    event = event.astype(bool)
    g = censoring_survival(time, event, time)
    num = den = 0.0
    for i in range(len(time)):
        if not (event[i] and time[i] <= t):
            continue
        for j in range(len(time)):
            if time[j] > t:
                w = 1 / g[i]
                den += w
                num += w * (1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0)
    if not time.min() <= t < time.max() or (event & (g == 0)).any():
        with pytest.raises(JourneyDataError):
            time_dependent_auc(time, event, risk, [t])
        return
    table, _ = time_dependent_auc(time, event, risk, [t])
    got = table["auc"].item()
    if den:
        assert got == pytest.approx(num / den)
    else:
        assert np.isnan(got)


def test_a_cox_model_beside_a_classifier_on_one_holdout():
    data = simulate_lifetimes(6000, seed=4)
    horizon = 90.0
    train, test = data.iloc[:4000], data.iloc[4000:]
    cox = CoxModel().fit(train, features=["x", "plan"])
    curves = cox.predict_survival(test, [30.0, 60.0, horizon, 120.0])
    # The classifier learns churn by 90 days from the customers whose outcome is known then.
    known = (train["duration"] > horizon) | (train["churned"] == 1)
    features = pd.get_dummies(train[["x", "plan"]], drop_first=True).astype(float)
    label = ((train["duration"] <= horizon) & (train["churned"] == 1)).astype(int)
    classifier = LogisticRegression().fit(features[known], label[known])
    test_features = pd.get_dummies(test[["x", "plan"]], drop_first=True).astype(float)
    chance = classifier.predict_proba(test_features)[:, 1]
    table = compare_predictions(
        test["duration"],
        test["churned"],
        {"cox": curves, "classifier": chance, "base rate": np.full(len(test), label.mean())},
        horizon,
        train=(train["duration"], train["churned"]),
    ).set_index("model")
    # The two models rank alike (both see x and plan); a constant ranks nobody.
    assert table.loc["cox", "auc"] > 0.65 and table.loc["classifier", "auc"] > 0.65
    assert abs(table.loc["cox", "concordance"] - table.loc["classifier", "concordance"]) < 0.02
    assert table.loc["base rate", "auc"] == pytest.approx(0.5)
    assert table.loc["cox", "brier"] < table.loc["base rate", "brier"]
    assert np.isfinite(table.loc["cox", "integrated_brier"])
    assert np.isnan(table.loc["classifier", "integrated_brier"])
    with pytest.raises(JourneyDataError, match="no column 45"):
        compare_predictions(test["duration"], test["churned"], {"cox": curves}, 45.0)
