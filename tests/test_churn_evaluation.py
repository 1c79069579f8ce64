"""Churn evaluation: metrics against scikit-learn and hand counts, bootstraps against
explicit resampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

import journey_lib as jl
from journey_lib.churn.evaluation import (
    _metrics,
    _sorted_blocks,
    evaluate_scores,
    pr_points,
    roc_points,
)


def metrics(y, p, W, top=(0.05, 0.1, 0.2)):
    return _metrics(y, p, W, top, _sorted_blocks(y, p, W))


def point(y, p):
    return {k: float(v[0]) for k, v in metrics(y, p, np.ones((1, len(y)))).items()}


def test_hand_computed_capture_and_lift():
    # Ten customers, scores falling; churners at ranks 1, 2 and 5.
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=float)
    p = np.linspace(0.9, 0.0, 10)
    got = point(y, p)
    assert got["capture_top_10%"] == pytest.approx(1 / 3)  # the top customer
    assert got["capture_top_20%"] == pytest.approx(2 / 3)
    assert got["lift_top_20%"] == pytest.approx((2 / 3) / 0.2)
    assert got["capture_top_5%"] == pytest.approx(1 / 6)  # half of the top customer


def test_ties_count_in_proportion():
    # All scores equal: the top 20% hold 20% of the churners in expectation.
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    got = point(y, np.full(10, 0.3))
    assert got["capture_top_20%"] == pytest.approx(0.2)
    assert got["lift_top_20%"] == pytest.approx(1.0)
    assert got["roc_auc"] == pytest.approx(0.5)


def test_expected_calibration_error_by_hand():
    # Bin [0.1, 0.2): scores 0.1, 0.1, outcomes 0, 1 -> |0.1 - 0.5| = 0.4, weight 2/4.
    # Bin [0.9, 1.0]: scores 0.9, 0.9, outcomes 1, 1 -> |0.9 - 1.0| = 0.1, weight 2/4.
    got = point(np.array([0, 1, 1, 1.0]), np.array([0.1, 0.1, 0.9, 0.9]))
    assert got["ece"] == pytest.approx(0.25)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 8)), min_size=2, max_size=60).filter(
        lambda rows: len({r[0] for r in rows}) == 2
    )
)
def test_point_estimates_match_scikit_learn(rows):
    y = np.array([r[0] for r in rows], dtype=float)
    p = np.array([r[1] for r in rows], dtype=float) / 8  # coarse scores: many ties
    got = point(y, p)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert got["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert got["brier"] == pytest.approx(brier_score_loss(y, p))
    assert got["log_loss"] == pytest.approx(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_resample_weights_equal_explicit_resampling(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 40).astype(float)
    y[:2] = [0, 1]
    p = rng.integers(0, 10, 40) / 10
    draws = rng.integers(0, 40, 40)
    counts = np.bincount(draws, minlength=40).astype(float)[None, :]
    weighted = {k: float(v[0]) for k, v in metrics(y, p, counts, (0.1, 0.2)).items()}
    explicit = {
        k: float(v[0]) for k, v in metrics(y[draws], p[draws], np.ones((1, 40)), (0.1, 0.2)).items()
    }
    for metric, value in explicit.items():
        assert weighted[metric] == pytest.approx(value, nan_ok=True), metric


def test_intervals_cover_and_tables_add_up():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=3000)
    y = (rng.uniform(size=3000) < p).astype(float)  # perfectly calibrated scores
    result = evaluate_scores(y, {"model": p, "noise": rng.uniform(size=3000)}, n_bootstraps=100)
    grid = result.table()
    auc = result.metrics.query("scorer == 'model' and metric == 'roc_auc'").iloc[0]
    assert auc.low < auc.value < auc.high
    assert auc.value == pytest.approx(roc_auc_score(y, p))
    assert grid.loc["roc_auc", "noise"] == pytest.approx(0.5, abs=0.04)
    assert grid.loc["ece", "model"] < 0.04
    gains = result.gains
    assert gains["capture"].iloc[-1] == pytest.approx(1.0)
    assert gains["lift"].iloc[-1] == pytest.approx(1.0)
    assert gains["customers"].tolist() == [300] * 10
    assert (gains["churn_rate"].diff().dropna() < 0.05).all()  # higher deciles churn more
    calibration = result.calibration
    assert calibration["customers"].sum() == 3000
    np.testing.assert_allclose(calibration["churn_rate"], calibration["mean_score"], atol=0.07)
    assert "roc_auc" in result.summary()


def test_bad_input():
    with pytest.raises(jl.JourneyDataError, match="churners and stayers"):
        evaluate_scores(np.zeros(5), {"m": np.zeros(5)})
    with pytest.raises(jl.JourneyDataError, match="3 scores for 2 outcomes"):
        evaluate_scores(np.array([0, 1]), {"m": np.zeros(3)})
    with pytest.raises(jl.JourneyParameterError, match="n_bootstraps"):
        evaluate_scores(np.array([0, 1]), {"m": np.zeros(2)}, n_bootstraps=2)


# --------------------------------------------------------------------------------------------
# the points of the ROC and precision-recall curves (the data twins of plots.roc and
# plots.precision_recall)
# --------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=40).filter(
        lambda rows: len({r[0] for r in rows}) == 2
    )
)
def test_curve_points_give_scikit_learns_areas(rows):
    y = [r[0] for r in rows]
    scores = [r[1] / 6 for r in rows]  # few distinct values: ties
    roc = roc_points(y, scores)
    area = np.trapezoid(roc["true_positive_rate"], roc["false_positive_rate"])
    assert area == pytest.approx(roc_auc_score(y, scores))
    pr = pr_points(y, scores)
    average = (pr["recall"].diff().fillna(0) * pr["precision"]).sum()
    assert average == pytest.approx(average_precision_score(y, scores))
    assert pr["recall"].is_monotonic_increasing and roc["threshold"].is_monotonic_decreasing
    # The last row flags everyone: its precision is the share of churners.
    assert pr["precision"].iloc[-1] == pytest.approx(np.mean(y))


def test_curve_points_of_several_scorers_are_each_scorers_points_stacked():
    y = ["No", "Yes", "Yes", "No", "Yes"]  # labels as text are read as churned or not
    scores = {"model": [0.1, 0.9, 0.6, 0.3, 0.4], "coin": [0.5] * 5}
    for points in (roc_points, pr_points):
        stacked = points(y, scores)
        assert stacked.columns[0] == "scorer"
        assert list(dict.fromkeys(stacked["scorer"])) == ["model", "coin"]
        for name, values in scores.items():
            alone = points([0, 1, 1, 0, 1], values)
            mine = stacked[stacked["scorer"] == name].drop(columns="scorer")
            np.testing.assert_array_equal(mine.to_numpy(), alone.to_numpy())
    # A constant scorer flags nobody, then everyone: the diagonal's two ends.
    coin = roc_points(y, scores).query("scorer == 'coin'")
    assert coin["false_positive_rate"].tolist() == [0.0, 1.0]
    assert coin["true_positive_rate"].tolist() == [0.0, 1.0]


def test_curve_points_reject_mismatched_or_missing_scores():
    with pytest.raises(jl.JourneyDataError, match="3 outcomes but scores of shape"):
        roc_points([0, 1, 1], [0.2, 0.4])
    with pytest.raises(jl.JourneyDataError, match="1 scores are missing or infinite"):
        pr_points([0, 1], [0.2, np.nan])
    with pytest.raises(jl.JourneyDataError, match="1 scores of 'coin' are missing"):
        roc_points([0, 1], {"model": [0.2, 0.4], "coin": [np.inf, 0.5]})
    with pytest.raises(jl.JourneyParameterError, match="at least one scorer"):
        pr_points([0, 1], {})
