"""Retention targeting: expected values, the choice by cost or budget, profit curves."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.churn.targeting import plan_offers, target


def _scorer(probabilities) -> SimpleNamespace:
    """A stand-in model whose churn probabilities are given, indexed as X."""
    p = np.asarray(probabilities, dtype=float)
    return SimpleNamespace(predict_proba=lambda X: pd.Series(p, index=X.index))


X5 = pd.DataFrame(
    {"value_total": [100.0, 400.0, 50.0, 1000.0, 200.0]},
    index=pd.Index([11, 12, 13, 14, 15], name="customer_id"),
)
P5 = [0.9, 0.2, 0.5, 0.01, 0.3]


def test_hand_computed_contact_list():
    # Expected value p * 0.5 * v - 10: 35, 30, 2.5, -5, 20 for customers 11..15.
    plan = target(_scorer(P5), X5, offer_cost=10, save_rate=0.5)
    contacts = plan.contacts
    assert contacts.index.tolist() == [11, 12, 15, 13, 14]
    assert contacts["expected_value"].tolist() == pytest.approx([35, 30, 20, 2.5, -5])
    assert contacts["expected_profit"].tolist() == pytest.approx([35, 65, 85, 87.5, 82.5])
    assert contacts["break_even"].tolist() == pytest.approx([0.2, 0.05, 0.1, 0.4, 0.02])
    assert contacts["contact"].tolist() == [True, True, True, True, False]
    assert plan.chosen == 4 and plan.rule == "cost"
    assert plan.expected_profit == pytest.approx(87.5)
    assert plan.threshold == pytest.approx(0.2)  # the lowest probability contacted
    curve = plan.curve
    assert curve["contacted"].tolist() == [0, 1, 2, 3, 4, 5]
    assert curve["cost"].tolist() == [0, 10, 20, 30, 40, 50]
    assert curve["expected_saved"].tolist() == pytest.approx([0, 0.45, 0.55, 0.7, 0.95, 0.955])
    assert "contact 4 of 5 customers (80.0%)" in plan.summary()


def test_a_budget_caps_the_list_but_never_buys_a_loss():
    plan = target(_scorer(P5), X5, offer_cost=10, save_rate=0.5, budget=2)
    assert plan.chosen == 2 and plan.rule == "budget"
    assert plan.contacts["contact"].sum() == 2
    assert plan.expected_profit == pytest.approx(65)
    generous = target(_scorer(P5), X5, offer_cost=10, save_rate=0.5, budget=5)
    assert generous.chosen == 4
    assert "1 contacts of the budget are left unused" in generous.summary()


def test_realised_profit_uses_the_outcomes():
    y = pd.Series([1, 0, 1, 1, 0], index=X5.index)
    plan = target(_scorer(P5), X5, offer_cost=10, save_rate=0.5, y=y)
    # Ranked 11, 12, 15, 13, 14: y * 0.5 * v - 10 = 40, -10, -10, 15, 490.
    assert plan.curve["realised_profit"].tolist() == pytest.approx([0, 40, 30, 20, 35, 525])
    assert "realised profit on the outcomes given: 35.00" in plan.summary()


def test_value_as_constant_column_or_series():
    constant = target(_scorer(P5), X5, offer_cost=10, save_rate=0.5, value=100)
    assert constant.contacts["value"].eq(100).all()
    # With one value for everyone, the list is the churn ranking and the break-even is one
    # probability.
    assert constant.contacts["churn_probability"].is_monotonic_decreasing
    assert constant.contacts["break_even"].eq(0.2).all()
    shuffled = pd.Series([5.0, 4.0, 3.0, 2.0, 1.0], index=[15, 14, 13, 12, 11])
    by_series = target(_scorer(P5), X5, offer_cost=0, save_rate=1, value=shuffled)
    assert by_series.contacts.loc[11, "value"] == 1.0  # aligned by customer, not position
    by_column = target(
        _scorer(P5), X5.assign(clv=[1.0] * 5), offer_cost=0.1, save_rate=1, value="clv"
    )
    assert by_column.contacts["value"].eq(1.0).all()


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"offer_cost": -1, "save_rate": 0.5}, jl.JourneyParameterError, "offer_cost"),
        ({"offer_cost": 1, "save_rate": 0}, jl.JourneyParameterError, "save_rate"),
        ({"offer_cost": 1, "save_rate": 1.5}, jl.JourneyParameterError, "save_rate"),
        ({"offer_cost": 1, "save_rate": 0.5, "budget": 2.5}, jl.JourneyParameterError, "budget"),
        ({"offer_cost": 1, "save_rate": 0.5, "value": "clv"}, jl.JourneyParameterError, "'clv'"),
        (
            {"offer_cost": 1, "save_rate": 0.5, "value": pd.Series([1.0], index=[11])},
            jl.JourneyDataError,
            "missing, infinite or negative for 4 customer",
        ),
        ({"offer_cost": 1, "save_rate": 0.5, "value": [1, 2]}, jl.JourneyDataError, "has 2"),
    ],
)
def test_bad_decisions_are_named(options, error, message):
    with pytest.raises(error, match=message):
        target(_scorer(P5), X5, **options)


def test_without_value_or_past_spend_the_value_must_be_given():
    with pytest.raises(jl.JourneyParameterError, match="give the value of keeping"):
        target(_scorer(P5), X5.rename(columns={"value_total": "spend"}), offer_cost=1, save_rate=1)


@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 1000)),
        min_size=1,
        max_size=40,
    ),
    st.floats(0, 50),
    st.floats(0.01, 1),
    st.one_of(st.none(), st.integers(0, 50)),
)
def test_the_choice_is_the_best_affordable_prefix(rows, cost, save_rate, budget):
    p = np.array([r[0] for r in rows])
    v = np.array([r[1] for r in rows])
    X = pd.DataFrame({"value_total": v})
    plan = target(_scorer(p), X, offer_cost=cost, save_rate=save_rate, budget=budget)
    # Brute force: the best expected profit over every set of at most `budget` customers
    # is the sum of the largest positive expected values.
    expected = np.sort(p * save_rate * v - cost)[::-1]
    limit = len(rows) if budget is None else budget
    best = expected[:limit][expected[:limit] > 0].sum()
    assert plan.expected_profit == pytest.approx(best, abs=1e-6)
    assert plan.contacts["expected_value"].is_monotonic_decreasing
    assert plan.curve["expected_profit"].iloc[-1] == pytest.approx(expected.sum(), abs=1e-6)


def test_a_real_model_targets_its_riskiest_customers():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"tickets": rng.poisson(1, 400), "value_total": rng.gamma(2, 50, 400)})
    y = (rng.random(400) < 0.1 + 0.2 * X["tickets"].clip(upper=3)).astype(int)
    model = jl.churn.train(X, y, model="logistic")
    plan = model.target(X, offer_cost=5, save_rate=0.3, y=y)
    scores = model.predict_proba(X)
    expected = scores * 0.3 * X["value_total"] - 5
    assert plan.chosen == int((expected > 0).sum())
    assert plan.contacts["churn_probability"].to_dict() == pytest.approx(scores.to_dict())


def test_the_plot_marks_the_choice():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    y = pd.Series([1, 0, 1, 1, 0], index=X5.index)
    plan = target(_scorer(P5), X5, offer_cost=10, save_rate=0.5, y=y)
    figure = plan.plot()
    assert isinstance(figure, Figure)
    expected, realised, choice = figure.axes[0].lines[:3]
    # Ranked 11, 12, 15, 13, 14: expected values 35, 30, 20, 2.5, -5; realised (outcomes
    # 1, 0, 0, 1, 1) 0.5 * v - 10 for churners, -10 for stayers: 40, -10, -10, 15, 490.
    np.testing.assert_allclose(expected.get_ydata(), [0, 35, 65, 85, 87.5, 82.5])
    np.testing.assert_allclose(realised.get_ydata(), [0, 40, 30, 20, 35, 525])
    assert choice.get_xdata()[0] == pytest.approx(0.8)  # four of the five contacted
    # The method is plots.profit_curve: same title, into given axes too.
    assert figure.axes[0].get_title() == jl.plots.profit_curve(plan).axes[0].get_title()
    host, ax = plt.subplots()
    assert plan.plot(ax=ax) is host and ax.lines[0].get_ydata()[-1] == pytest.approx(82.5)
    plt.close("all")


def test_planning_on_given_probabilities_is_targeting_without_scoring():
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"tickets": rng.integers(0, 5, 300), "value_total": rng.gamma(2, 50, 300)})
    y = (rng.random(300) < 0.1 + 0.2 * X["tickets"].clip(upper=3)).astype(int)
    model = jl.churn.train(X, y, model="logistic")
    planned = plan_offers(model.predict_proba(X), X, offer_cost=4, save_rate=0.4, budget=30, y=y)
    targeted = model.target(X, offer_cost=4, save_rate=0.4, budget=30, y=y)
    pd.testing.assert_frame_equal(planned.contacts, targeted.contacts)
    pd.testing.assert_frame_equal(planned.curve, targeted.curve)
    with pytest.raises(jl.JourneyDataError, match="X has 300 rows but 2 probabilities"):
        plan_offers([0.1, 0.2], X, offer_cost=4, save_rate=0.4)
    with pytest.raises(jl.JourneyParameterError, match="save_rate is the share"):
        plan_offers(model.predict_proba(X), X, offer_cost=4, save_rate=0)
