"""Explanations: feature groups, permutation importance, partial dependence, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.churn import feature_groups, train


def _linear(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Churn driven strongly by ``late``, weakly by ``fees``, not at all by ``noise``."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "late": rng.poisson(1.0, n).astype(float),
            "fees": rng.poisson(1.0, n).astype(float),
            "noise": rng.normal(size=n),
            "plan": rng.choice(["basic", "plus", "premium"], n),
        }
    )
    logit = -2.5 + 1.5 * X["late"] + 0.5 * X["fees"] + (X["plan"] == "basic") * 0.8
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    return X, y


@pytest.fixture(scope="module")
def linear():
    X, y = _linear()
    return train(X, y, model="logistic", calibrate=False), X, y


def test_windows_and_trends_of_a_count_form_one_group():
    columns = [
        "recency_days",
        "events_30D",
        "events_90D",
        "events_365D",
        "trend_events",
        "event_apology_30D",
        "event_apology_365D",
        "customer_plan",
        "value_30D",  # a single window is a feature of its own
        "trend_orphan",
    ]
    groups = feature_groups(columns)
    assert groups == {
        "recency_days": ("recency_days",),
        "events": ("events_365D", "events_90D", "events_30D", "trend_events"),
        "event_apology": ("event_apology_365D", "event_apology_30D"),
        "customer_plan": ("customer_plan",),
        "value_30D": ("value_30D",),
        "trend_orphan": ("trend_orphan",),
    }


@given(st.lists(st.sampled_from(["a_7D", "a_30D", "trend_a", "b", "b_1W", "b_2W", "c_x1"])))
def test_every_column_lands_in_exactly_one_group(columns):
    columns = list(dict.fromkeys(columns))
    groups = feature_groups(columns)
    grouped = [c for members in groups.values() for c in members]
    assert sorted(grouped) == sorted(columns)
    if {"b", "b_1W", "b_2W"} <= set(columns):
        assert groups["b"] == ("b",) and groups["b*"] == ("b_2W", "b_1W")


def test_importance_ranks_drivers_and_gives_noise_an_interval_around_zero(linear):
    model, X, y = linear
    importance = model.importance(X, y, n_repeats=20, max_rows=None)
    # Planted effects: late 1.5 per unit (sd 1), fees 0.5 (sd 1), basic plan 0.8 (sd 0.47).
    assert importance.top() == ["late", "fees", "plan", "noise"]
    table = importance.table.set_index("feature")
    assert table.loc["late", "low"] > table.loc["fees", "high"]
    assert table.loc["noise", "low"] <= 0 <= table.loc["noise", "high"]
    assert (table["low"] <= table["importance"]).all()
    assert (table["importance"] <= table["high"]).all()
    assert importance.rows == len(X) and importance.n_repeats == 20
    assert "20 bootstrap resamples" in importance.method


@pytest.mark.parametrize("scoring", ["brier", "log_loss"])
def test_losses_rise_when_a_driver_is_shuffled(linear, scoring):
    model, X, y = linear
    table = model.importance(X, y, scoring=scoring, n_repeats=5).table.set_index("feature")
    assert table.loc["late", "low"] > 0
    assert table["importance"].idxmax() == "late"


def test_grouping_copies_restores_their_importance():
    # Two copies of one driver: shuffled alone, each is covered by the other.
    X, y = _linear()
    X = X.assign(late_copy=X["late"])
    model = train(X, y, model="logistic", calibrate=False)
    alone = model.importance(X, y, groups=None, n_repeats=5).table.set_index("feature")
    together = model.importance(X, y, groups={"late": ["late", "late_copy"]}, n_repeats=5)
    grouped = together.table.set_index("feature")
    assert grouped.loc["late", "importance"] > alone.loc["late", "importance"]
    assert grouped.loc["late", "importance"] > alone.loc["late_copy", "importance"]
    assert grouped.loc["late", "columns"] == 2 and "late_copy" not in grouped.index


def test_importance_is_repeatable_and_checks_its_arguments(linear):
    model, X, y = linear
    first = model.importance(X, y, n_repeats=3, max_rows=500, random_state=4)
    again = model.importance(X, y, n_repeats=3, max_rows=500, random_state=4)
    pd.testing.assert_frame_equal(first.table, again.table)
    with pytest.raises(jl.JourneyParameterError, match="scoring must be one of"):
        model.importance(X, y, scoring="accuracy")
    with pytest.raises(jl.JourneyParameterError, match="n_repeats must be at least 2"):
        model.importance(X, y, n_repeats=1)
    with pytest.raises(jl.JourneyParameterError, match="does not use"):
        model.importance(X, y, groups={"g": ["late", "tenure"]})
    with pytest.raises(jl.JourneyParameterError, match="must not share"):
        model.importance(X, y, groups={"g": ["late"], "h": ["late", "fees"]})
    with pytest.raises(jl.JourneyDataError, match="1500 rows but y has 3"):
        model.importance(X, [0, 1, 0])


def test_partial_dependence_matches_a_brute_force_average(linear):
    model, X, _ = linear
    result = model.partial_dependence(X, ["late", "plan"], max_rows=None)
    table = result.table
    for row in table.itertuples():
        brute = X.copy()
        brute[row.column] = row.value
        expected = model.pipeline.predict_proba(brute)[:, 1].mean()
        assert row.churn_probability == pytest.approx(expected)
    late = table[table["feature"] == "late"]
    assert late["value"].tolist() == sorted(X["late"].unique().tolist())  # few values: all
    assert late["churn_probability"].is_monotonic_increasing
    assert late["share"].iloc[-1] == pytest.approx(1.0)
    plan = table[table["feature"] == "plan"].set_index("value")
    assert plan["churn_probability"].idxmax() == "basic"
    assert plan["share"].sum() == pytest.approx(1.0)
    assert result.categorical == ("plan",)
    assert result.method.startswith("Partial dependence: the mean churn probability of 1,500")


def test_partial_dependence_grid_of_a_continuous_column_spans_its_middle(linear):
    model, X, _ = linear
    noise = model.partial_dependence(X, ["noise"], grid=7, max_rows=None).table
    assert len(noise) == 7
    expected = np.quantile(X["noise"], [0.05, 0.95])
    assert noise["value"].iloc[[0, -1]].astype(float).tolist() == pytest.approx(expected)
    with pytest.raises(jl.JourneyParameterError, match="neither a feature"):
        model.partial_dependence(X, ["tenure"])


def test_a_group_is_represented_by_its_widest_window():
    X, y = _linear()
    X = X.assign(event_late_30D=X["late"], event_late_90D=X["late"] * 2)
    model = train(X, y, model="logistic", calibrate=False)
    table = model.partial_dependence(X, ["event_late"], max_rows=200).table
    assert set(table["column"]) == {"event_late_90D"}


def test_reasons_compare_each_customer_with_the_typical_one(linear):
    model, X, _ = linear
    assert model.reference["late"] == X["late"].median()
    assert model.reference["plan"] == X["plan"].mode()[0]
    customers = X.head(200)
    reasons = model.reasons(customers, top=2)
    # Brute force for each reason row: the score minus the score with the group typical.
    full = model.predict_proba(customers)
    for row in reasons.itertuples():
        typical = customers.loc[[row.customer]].copy()
        typical[row.feature] = model.reference[row.feature]
        expected = full[row.customer] - model.predict_proba(typical).iloc[0]
        assert row.effect == pytest.approx(expected)
        assert row.effect > 0
    assert reasons.groupby("customer")["rank"].apply(list).map(lambda r: r in ([1], [1, 2])).all()
    ordered = reasons.pivot(index="customer", columns="rank", values="effect").dropna()
    assert (ordered[1] >= ordered[2]).all()
    assert "not a Shapley value" in reasons.attrs["method"]


def test_the_reasons_are_each_customers_largest_effects(linear):
    model, X, _ = linear
    customers = X.head(300)
    reasons = model.reasons(customers, top=2)
    # Brute force: every customer's effect of every group, one group set typical at a time.
    full = model.predict_proba(customers)
    effects = pd.DataFrame(
        {
            name: full - model.predict_proba(customers.assign(**{name: model.reference[name]}))
            for name in ["late", "fees", "noise", "plan"]
        }
    )
    listed = 0
    for customer, row in effects.iterrows():
        expected = row[row > 0].sort_values(ascending=False, kind="stable").head(2)
        got = reasons[reasons["customer"] == customer].sort_values("rank")
        assert got["feature"].tolist() == expected.index.tolist()
        np.testing.assert_allclose(got["effect"], expected.to_numpy(), rtol=1e-12, atol=1e-15)
        listed += len(expected)
    assert listed == len(reasons)  # and no customer has a reason the brute force lacks


def test_reason_values_say_what_is_unusual(linear):
    model, _, _ = linear
    typical_late = model.reference["late"]
    odd = pd.DataFrame(
        {
            "late": [typical_late + 4],
            "fees": [typical_late],
            "noise": [0.0],
            "plan": [model.reference["plan"]],
        },
        index=pd.Index([7], name="customer_id"),
    )
    reasons = model.reasons(odd, top=3)
    assert reasons.columns.tolist() == [
        "customer_id",
        "rank",
        "feature",
        "effect",
        "values",
        "churn_probability",
    ]
    first = reasons.iloc[0]
    assert first["feature"] == "late"
    assert first["values"] == f"late={typical_late + 4:g} (typical {typical_late:g})"
    # A perfectly typical customer has no reason at all.
    plain = pd.DataFrame({name: [value] for name, value in model.reference.items()})
    assert model.reasons(plain).empty


def test_plots_draw_what_the_tables_hold(linear):
    import matplotlib

    matplotlib.use("Agg")
    model, X, y = linear
    importance = model.importance(X, y, n_repeats=3)
    figure = importance.plot(n=3)
    ax = figure.axes[0]
    assert len(ax.patches) == 3
    assert (
        ax.get_xlabel()
        == "drop in ROC AUC when shuffled"
        == f"{importance.loss_word} when shuffled"
    )
    shown = [label.get_text() for label in ax.get_yticklabels()]
    assert shown == importance.top(3)[::-1]  # most important on top
    result = model.partial_dependence(X, ["late", "plan"], max_rows=300)
    axes = result.plot().axes
    late = result.table[result.table["feature"] == "late"]
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), late["churn_probability"])
    assert axes[1].get_xlabel() == "plan"
    matplotlib.pyplot.close("all")
