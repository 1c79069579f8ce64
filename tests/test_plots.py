"""Every figure of journey_lib.plots draws exactly its data twin: titled, labelled, readable,
returned as a Figure, and with bar heights, line data and heatmap cells equal to the twin's
numbers."""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, roc_auc_score

import journey_lib as jl
from journey_lib import churn, plots
from journey_lib.analytics.rfm import RFM_SEGMENTS
from journey_lib.churn.evaluation import pr_points, roc_points

matplotlib.use("Agg")  # pyplot switches to it: no figure has been made yet

STEPS = ["ad_view", "site_visit", "signup", "purchase"]


@pytest.fixture(scope="module")
def events():
    return jl.simulate(800, seed=1).events


@pytest.fixture(scope="module")
def churn_model(events):
    X, y = churn.build_dataset(events, cutoff="2024-09-01", horizon="60D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = churn.train(X, y, model="logistic")
    return model, X, y


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def main_axes(figure):
    """The Axes a one-panel figure draws on, checking a Figure was returned (a heatmap's
    colour bar is the second Axes)."""
    assert isinstance(figure, Figure), f"expected a Figure, got {type(figure).__name__}"
    return figure.axes[0]


def assert_readable(ax, title=None):
    """Titled, both axes labelled, and no text smaller than 10 points."""
    assert ax.get_title(), "no title"
    assert ax.get_xlabel() and ax.get_ylabel(), "an axis is not labelled"
    if title is not None:
        assert title in ax.get_title()
    sizes = [ax.title.get_fontsize(), ax.xaxis.label.get_fontsize(), ax.yaxis.label.get_fontsize()]
    sizes += [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for t in ax.texts]
    assert min(sizes) >= 10


def lines_labelled(ax, label):
    return [line for line in ax.get_lines() if line.get_label() == label]


def heights(container):
    return np.array([patch.get_height() for patch in container.patches])


def widths(container):
    return np.array([patch.get_width() for patch in container.patches])


def heatmap_cells(ax):
    return np.ma.filled(ax.collections[0].get_array().astype(float), np.nan)


# --------------------------------------------------------------------------------------------
# touchpoints
# --------------------------------------------------------------------------------------------


def test_volumes_draws_each_stage_with_the_partial_period_apart(events):
    twin = jl.volumes(events)
    ax = main_axes(plots.volumes(twin))
    assert_readable(ax, "Touchpoints per week by stage")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == list(dict.fromkeys(twin["stage"]))  # framework order
    for stage in legend:
        rows = twin[twin["stage"] == stage]
        solid = lines_labelled(ax, stage)[0]
        np.testing.assert_array_equal(solid.get_ydata(), rows["touchpoints"][rows["complete"]])
        assert solid.get_linestyle() == "-"
    # The last week is not over: each stage ends on a dashed stretch reaching its count.
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == len(legend)
    last = twin[~twin["complete"]]["touchpoints"].to_numpy()
    np.testing.assert_array_equal([line.get_ydata()[-1] for line in dashed], last)


def test_volumes_keeps_the_largest_groups(events):
    twin = jl.volumes(events, by="channel", period="month")
    ax = main_axes(plots.volumes(twin, value="customers", top=3))
    largest = twin.groupby("channel")["touchpoints"].sum().nlargest(3).index
    shown = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(shown) == sorted(largest)
    assert "the 3 largest of 12" in ax.get_title() and ax.get_ylabel() == "distinct customers"
    rows = twin[(twin["channel"] == shown[0]) & twin["complete"]]
    np.testing.assert_array_equal(lines_labelled(ax, shown[0])[0].get_ydata(), rows["customers"])


def test_volumes_of_the_whole_log(events):
    twin = jl.volumes(events, by=None, period="month")
    ax = main_axes(plots.volumes(twin))
    assert_readable(ax, "Touchpoints per month")
    solid, dashed = ax.get_lines()
    done = twin["complete"]
    np.testing.assert_array_equal(solid.get_ydata(), twin["touchpoints"][done])
    # The dashed stretch runs from the last complete month to the one not over.
    np.testing.assert_array_equal(dashed.get_ydata(), twin["touchpoints"].iloc[-2:])
    assert ax.get_legend() is None


def test_touchpoints_per_customer_folds_the_tail_into_the_last_bar(events):
    twin = jl.touchpoints_per_customer(events)
    ax = main_axes(plots.touchpoints_per_customer(twin, cap=20))
    assert_readable(ax, "Touchpoints per customer")
    bars = heights(ax.containers[0])
    below = twin[twin["touchpoints"] < 20]
    np.testing.assert_array_equal(bars[:-1], below["customers"])
    assert bars[-1] == twin.loc[twin["touchpoints"] >= 20, "customers"].sum()
    assert bars.sum() == events["customer_id"].nunique()
    assert "20 or more" in ax.get_xlabel()
    assert ax.texts[-1].get_text() == "20+"


def test_touchpoints_per_customer_auto_cap_and_no_cap(events):
    twin = jl.touchpoints_per_customer(events)
    auto = main_axes(plots.touchpoints_per_customer(twin))
    cap = int(auto.texts[-1].get_text().rstrip("+"))
    covered = twin.loc[twin["touchpoints"] <= cap, "customers"].sum() / twin["customers"].sum()
    assert covered >= 0.95
    full = main_axes(plots.touchpoints_per_customer(twin, cap=None))
    assert len(full.containers[0].patches) == len(twin)


def test_touchpoints_per_customer_by_stage_draws_shares(events):
    twin = jl.touchpoints_per_customer(events, by="stage")
    ax = main_axes(plots.touchpoints_per_customer(twin, cap=None))
    assert_readable(ax, "by stage")
    retention = twin[twin["stage"] == "Retention"].set_index("touchpoints")["share"]
    line = lines_labelled(ax, "Retention")[0]
    every = np.arange(1, retention.index.max() + 1)
    assert len(every) > len(retention)  # some counts nobody has: drawn at 0, not bridged
    np.testing.assert_array_equal(line.get_xdata(), every)
    np.testing.assert_allclose(line.get_ydata(), retention.reindex(every, fill_value=0))


def test_timeline_places_each_touchpoint(events):
    chosen = [11, 3, 7]
    twin = jl.timeline(events, chosen)
    ax = main_axes(plots.timeline(twin))
    assert_readable(ax, "Customer journeys")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["11", "3", "7"]
    stages = [t.get_text() for t in ax.get_legend().get_texts()]
    framework = jl.get_framework("customer_journey").stages
    assert stages == [s for s in framework if s in set(twin["stage"])]
    for points, stage in zip(ax.collections[1:], stages, strict=True):
        rows = twin[twin["stage"] == stage]
        want = np.column_stack([rows["days_since_first"], rows["customer_id"].map(chosen.index)])
        np.testing.assert_allclose(points.get_offsets(), want)


# --------------------------------------------------------------------------------------------
# journeys and funnels
# --------------------------------------------------------------------------------------------


def test_transition_matrix_heatmap_holds_the_matrix(events):
    twin = jl.transition_matrix(events, of="channel")
    ax = main_axes(plots.transition_matrix(twin))
    assert_readable(ax, "transition probabilities")
    matrix = jl.as_matrix(twin)
    np.testing.assert_allclose(heatmap_cells(ax), matrix.to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == list(matrix.index)
    assert len(ax.texts) == matrix.size  # small enough to annotate, as percentages
    assert all(t.get_text().endswith("%") for t in ax.texts)
    # The pivoted matrix draws the same picture.
    again = main_axes(plots.transition_matrix(matrix))
    np.testing.assert_allclose(heatmap_cells(again), matrix.to_numpy())


def test_transition_counts_of_many_states_are_not_annotated(events):
    twin = jl.transition_matrix(events, normalize=False)
    ax = main_axes(plots.transition_matrix(twin))
    assert "transition counts" in ax.get_title()
    np.testing.assert_array_equal(heatmap_cells(ax), jl.as_matrix(twin).to_numpy())
    assert len(ax.texts) == 0  # 22 states: numbers would not fit


def test_paths_are_bars_ranked_from_the_top(events):
    twin = jl.paths(events, top=8)
    ax = main_axes(plots.paths(twin))
    assert_readable(ax, "journey openings")
    np.testing.assert_array_equal(widths(ax.containers[0]), twin["count"])
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    assert labels == twin["path"].tolist()
    assert ax.yaxis_inverted()  # the most frequent on top
    assert [t.get_text() for t in ax.texts] == [f"{s:.1%}" for s in twin["share"]]


def test_funnel_bars_carry_conversion_and_drop_off(events):
    twin = jl.funnel(events, STEPS)
    ax = main_axes(plots.funnel(twin))
    assert_readable(ax, "Conversion funnel")
    np.testing.assert_array_equal(heights(ax.containers[0]), twin["customers"])
    texts = [t.get_text() for t in ax.texts]
    for n, rate in zip(twin["customers"], twin["conversion_rate"], strict=True):
        assert f"{n:,}\n{rate:.0%} of step 1" in texts
    drops = [f"−{1 - r:.0%}" for r in twin["step_conversion_rate"].iloc[1:]]
    assert texts[-len(drops) :] == drops
    assert [t.get_text() for t in ax.get_xticklabels()] == STEPS


def test_stage_funnel_draws_stages(events):
    twin = jl.stage_funnel(events)
    ax = main_axes(plots.funnel(twin))
    assert_readable(ax, "Journey stages reached")
    np.testing.assert_array_equal(heights(ax.containers[0]), twin["customers"])
    assert any("of entrants" in t.get_text() for t in ax.texts)
    assert ax.get_xlabel() == "stage"


def test_funnel_breakdown_bars_are_conversion_per_value(events):
    twin = jl.funnel(events, STEPS[:2] + STEPS[3:], breakdown="channel")
    with pytest.raises(jl.JourneyParameterError, match="funnel_breakdown"):
        plots.funnel(twin)
    ax = main_axes(plots.funnel_breakdown(twin, top=4))
    assert_readable(ax, "Funnel conversion by channel")
    entrants = twin[twin["step"] == 1].set_index("channel")["customers"]
    largest = entrants.sort_values(ascending=False, kind="stable").head(4)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"{c} (n={n:,})" for c, n in largest.items()]
    assert "the 4 largest of" in ax.get_title()
    for container, channel in zip(ax.containers, largest.index, strict=True):
        rows = twin[twin["channel"] == channel]
        np.testing.assert_allclose(heights(container), rows["conversion_rate"])
    with pytest.raises(jl.JourneyParameterError, match="no breakdown"):
        plots.funnel_breakdown(jl.funnel(events, STEPS))


def test_funnel_trend_marks_incomplete_periods(events):
    twin = jl.funnel_trend(events, ["site_visit", "purchase"], period="month")
    ax = main_axes(plots.funnel_trend(twin))
    assert_readable(ax, "Funnel conversion by month of entry")
    done = twin["complete"]
    solid = lines_labelled(ax, "complete")[0]
    np.testing.assert_allclose(solid.get_ydata(), twin["conversion_rate"][done])
    hollow = lines_labelled(ax, "not complete: may still rise")[0]
    np.testing.assert_allclose(hollow.get_ydata()[1:], twin["conversion_rate"][~done])
    assert hollow.get_linestyle() == "--" and hollow.get_markerfacecolor() == "white"


def test_time_to_convert_bars_are_shares_of_the_used_bins(events):
    twin = jl.time_to_convert(events, ["site_visit", "purchase"])
    ax = main_axes(plots.time_to_convert(twin))
    assert_readable(ax, "Time to convert")
    used = twin.index[twin["customers"] > 0]
    shown = twin.loc[used.min() : used.max()]
    np.testing.assert_allclose(heights(ax.containers[0]), shown["share"])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), shown["cumulative_share"])
    assert [t.get_text() for t in ax.get_xticklabels()] == shown["bin"].tolist()
    assert f"{twin['customers'].sum():,} customers" in ax.get_title()


# --------------------------------------------------------------------------------------------
# retention, churn rate, lifecycle, RFM
# --------------------------------------------------------------------------------------------


def test_retention_heatmap_is_the_retention_matrix(events):
    twin = jl.retention(events)
    ax = main_axes(plots.retention(twin))
    assert_readable(ax, "Cohort retention")
    matrix = jl.retention_matrix(twin).dropna(axis=1, how="all")
    np.testing.assert_allclose(heatmap_cells(ax), matrix.to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        c.strftime("%Y-%m") for c in matrix.index
    ]
    assert ax.get_xlabel() == "months since the cohort's first month"
    counts = main_axes(plots.retention(jl.retention_matrix(twin, "customers"), values="customers"))
    want = jl.retention_matrix(twin, "customers").dropna(axis=1, how="all").to_numpy()
    np.testing.assert_allclose(heatmap_cells(counts), want)


def test_churn_rate_line_is_the_rate(events):
    twin = jl.churn_rate(events)
    ax = main_axes(plots.churn_rate(twin))
    assert_readable(ax, "Churn rate per month")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), twin["churn_rate"])


def test_lifecycle_stacks_statuses_with_dormant_below_zero(events):
    twin = jl.lifecycle(events)
    ax = main_axes(plots.lifecycle(twin))
    assert_readable(ax, "Customer lifecycle per month")
    wide = twin.pivot(index="period", columns="status", values="customers")
    bottom = np.zeros(len(wide))
    for container in ax.containers:
        status = container.get_label()
        np.testing.assert_array_equal(heights(container), wide[status])
        if status != "dormant":
            np.testing.assert_array_equal([p.get_y() for p in container.patches], bottom)
            bottom = bottom + wide[status].to_numpy()
    assert (heights(ax.containers[-1]) <= 0).all()
    hatched = [p.get_hatch() == "//" for p in ax.containers[0].patches]
    assert hatched == (~twin.groupby("period")["complete"].first()).tolist()


def test_rfm_segments_bars_count_customers(events):
    twin = jl.rfm_segments(jl.rfm(events, observation_end="2025-01-01"))
    ax = main_axes(plots.rfm_segments(twin))
    assert_readable(ax, "RFM segments")
    counts = twin["segment"].value_counts().reindex(list(RFM_SEGMENTS), fill_value=0)
    np.testing.assert_array_equal(widths(ax.containers[0]), counts)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(RFM_SEGMENTS)


# --------------------------------------------------------------------------------------------
# churn models
# --------------------------------------------------------------------------------------------


def test_roc_draws_each_scorers_points(churn_model):
    model, X, y = churn_model
    scores = {"model": model.predict_proba(X), "logistic baseline": model.baseline_proba(X)}
    twin = roc_points(y, scores)
    ax = main_axes(plots.roc(twin))
    assert_readable(ax, "ROC curve")
    *curves, chance = ax.get_lines()
    assert len(curves) == 2 and chance.get_label() == "chance"
    for line, (name, values) in zip(curves, scores.items(), strict=True):
        points = twin[twin["scorer"] == name]
        np.testing.assert_allclose(line.get_xdata(), points["false_positive_rate"])
        np.testing.assert_allclose(line.get_ydata(), points["true_positive_rate"])
        assert line.get_label() == f"{name} (AUC {roc_auc_score(y, values):.3f})"
    # One array of scores draws one curve, named "model".
    single = main_axes(plots.roc(roc_points(y, scores["model"])))
    assert [line.get_label() for line in single.get_lines()] == [curves[0].get_label(), "chance"]


def test_roc_and_precision_recall_of_hand_computed_curves():
    """Four customers, two churners: ROC AUC is 3/4 (of the four churner-stayer pairs, the
    churner scores higher in three); average precision 0.5 * 1 + 0.5 * 2/3 = 5/6."""
    y, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    roc = main_axes(plots.roc(roc_points(y, scores))).get_lines()[0]
    np.testing.assert_allclose(roc.get_xdata(), [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(roc.get_ydata(), [0, 0.5, 0.5, 1, 1])
    assert roc.get_label() == "model (AUC 0.750)"
    curve, base = main_axes(plots.precision_recall(pr_points(y, scores))).get_lines()
    np.testing.assert_allclose(curve.get_xdata(), [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(curve.get_ydata(), [1, 1, 0.5, 2 / 3, 0.5])
    assert curve.get_drawstyle() == "steps-pre" and curve.get_label() == "model (AP 0.833)"
    assert base.get_ydata()[0] == 0.5 and base.get_label() == "base rate (50.0%)"


def test_precision_recall_draws_each_scorers_steps_and_the_base_rate(churn_model):
    model, X, y = churn_model
    scores = {"model": model.predict_proba(X), "logistic baseline": model.baseline_proba(X)}
    twin = pr_points(y, scores)
    ax = main_axes(plots.precision_recall(twin))
    assert_readable(ax, "Precision-recall")
    *curves, base = ax.get_lines()
    for line, (name, values) in zip(curves, scores.items(), strict=True):
        points = twin[twin["scorer"] == name]
        np.testing.assert_allclose(line.get_xdata(), points["recall"])
        np.testing.assert_allclose(line.get_ydata(), points["precision"])
        assert line.get_label() == f"{name} (AP {average_precision_score(y, values):.3f})"
    assert base.get_ydata()[0] == pytest.approx(y.mean())
    assert base.get_label() == f"base rate ({y.mean():.1%})"


def test_the_old_calls_with_outcomes_and_scores_draw_the_same_with_a_warning():
    y, scores = [0, 0, 1, 1], {"model": [0.1, 0.4, 0.35, 0.8], "coin": [0.5] * 4}
    for figure, twin in ((plots.roc, roc_points), (plots.precision_recall, pr_points)):
        with pytest.warns(DeprecationWarning, match=rf"{twin.__name__}\(y, scores\)"):
            old = main_axes(figure(y, scores))
        new = main_axes(figure(twin(y, scores)))
        assert len(old.get_lines()) == len(new.get_lines()) == 3
        for before, after in zip(old.get_lines(), new.get_lines(), strict=True):
            assert before.get_label() == after.get_label()
            np.testing.assert_array_equal(before.get_xydata(), after.get_xydata())
    # The curve points moved to churn.evaluation; the old names answer, with a warning.
    with pytest.warns(DeprecationWarning, match="moved to journey_lib.churn.evaluation"):
        assert plots.roc_points is roc_points
    with pytest.warns(DeprecationWarning, match="moved to journey_lib.churn.evaluation"):
        from journey_lib.plots import pr_points as moved
    assert moved is pr_points
    with pytest.raises(AttributeError, match="no attribute 'points'"):
        plots.points  # noqa: B018


def test_calibration_gains_and_lift_draw_the_evaluation(churn_model):
    model, X, y = churn_model
    evaluation = model.evaluate(X, y, n_bootstraps=30)
    table = evaluation.calibration
    ax = main_axes(plots.calibration(evaluation))
    assert_readable(ax, "Calibration")
    points = ax.get_lines()[0]
    np.testing.assert_allclose(points.get_xdata(), table["mean_score"])
    np.testing.assert_allclose(points.get_ydata(), table["churn_rate"])
    gains = evaluation.gains
    ax = main_axes(plots.gains(evaluation))
    assert_readable(ax, "Cumulative gains")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.r_[0, gains["capture"]])
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.linspace(0, 1, 11))
    ax = main_axes(plots.lift(gains))  # the table alone works too
    assert_readable(ax, "Cumulative lift")
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    np.testing.assert_allclose(heights(bars), gains["lift"])
    assert ax.get_xticklabels()[0].get_text() == "10%"


def test_importance_bars_are_the_table_with_its_intervals(churn_model):
    model, X, y = churn_model
    importance = model.importance(X, y, n_repeats=3, max_rows=300)
    ax = main_axes(plots.importance(importance, n=5))
    assert_readable(ax, "Permutation importance (95% intervals)")
    assert ax.get_xlabel() == "drop in ROC AUC when shuffled"
    assert ax.get_ylabel() == "feature group"
    shown = importance.table.head(5).iloc[::-1]  # bottom to top: the most important on top
    assert [t.get_text() for t in ax.get_yticklabels()] == shown["feature"].tolist()
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    np.testing.assert_allclose(widths(bars), shown["importance"])
    segments = bars.errorbar.lines[2][0].get_segments()  # the interval: low to high
    np.testing.assert_allclose([seg[0][0] for seg in segments], shown["low"])
    np.testing.assert_allclose([seg[1][0] for seg in segments], shown["high"])
    brier = model.importance(X, y, scoring="brier", n_repeats=2, max_rows=200)
    assert main_axes(plots.importance(brier)).get_xlabel() == "rise in Brier score when shuffled"


def test_partial_dependence_panels_are_the_table(churn_model):
    model, X, y = churn_model
    X = X.assign(plan=np.where(np.arange(len(X)) % 3 == 0, "basic", "premium"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = churn.train(X, y, model="logistic")
    features = ["recency_days", "plan"]
    dependence = model.partial_dependence(X, features, max_rows=200, grid=6)
    figure = plots.partial_dependence(dependence)
    assert isinstance(figure, Figure)
    assert figure.get_suptitle() == (
        f"Partial dependence: mean churn probability ({dependence.rows:,} customers)"
    )
    assert len(figure.axes) == 2
    for panel, feature in zip(figure.axes, features, strict=True):
        rows = dependence.table[dependence.table["feature"] == feature]
        assert_readable(panel, feature)
        assert panel.get_xlabel() == rows["column"].iloc[0]
        (line,) = panel.get_lines()
        np.testing.assert_allclose(line.get_ydata(), rows["churn_probability"])
    numeric, points = (panel.get_lines()[0] for panel in figure.axes)
    np.testing.assert_allclose(numeric.get_xdata(), dependence.table["value"][:6].astype(float))
    assert numeric.get_linestyle() == "-" and points.get_linestyle() == "None"
    categories = dependence.table[dependence.table["feature"] == "plan"]["value"]
    assert sorted(categories) == ["basic", "premium"]
    assert [t.get_text() for t in figure.axes[1].get_xticklabels()] == categories.tolist()


def test_profit_curve_draws_both_curves_and_marks_the_choice(churn_model):
    model, X, y = churn_model
    targeting = model.target(X, offer_cost=5, save_rate=0.3, y=y)
    ax = main_axes(plots.profit_curve(targeting))
    assert_readable(ax, "Retention offer")
    assert ax.get_xlabel() == "share of customers contacted, best first"
    expected, realised, choice, zero = ax.get_lines()
    curve = targeting.curve
    for line, column in ((expected, "expected_profit"), (realised, "realised_profit")):
        np.testing.assert_allclose(line.get_xdata(), curve["share"])
        np.testing.assert_allclose(line.get_ydata(), curve[column])
    assert choice.get_xdata()[0] == curve["share"].iloc[targeting.chosen]
    assert choice.get_linestyle() == "--" and realised.get_linestyle() == "-."
    assert list(zero.get_ydata()) == [0, 0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["expected profit", "realised profit"]
    # Without outcomes there is no realised profit to draw.
    unknown = main_axes(plots.profit_curve(model.target(X, offer_cost=5, save_rate=0.3)))
    assert [line.get_label() for line in unknown.get_lines()][:1] == ["expected profit"]
    assert len(unknown.get_lines()) == 3


def test_loyalty_draws_each_rate_with_the_running_period_apart(events):
    twin = jl.loyalty(events)
    ax = main_axes(plots.loyalty(twin))
    assert_readable(ax, "Loyalty and advocacy per month")
    done = twin.by_period["complete"].to_numpy()
    for rate, label in plots.LOYALTY_RATES.items():
        (line,) = lines_labelled(ax, label)
        np.testing.assert_allclose(line.get_ydata(), twin.by_period[rate][done])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(plots.LOYALTY_RATES.values())
    # The by_period table alone draws the same lines.
    ax = plt.subplots()[1]
    assert plots.loyalty(twin.by_period, ax=ax) is ax.figure
    for rate, label in plots.LOYALTY_RATES.items():
        (line,) = lines_labelled(ax, label)
        np.testing.assert_allclose(line.get_ydata(), twin.by_period[rate][done])


# --------------------------------------------------------------------------------------------
# attribution
# --------------------------------------------------------------------------------------------


def test_attribution_bars_are_the_credit_with_bootstrap_intervals(events):
    twin = jl.attribute(events, n_boot=30, seed=1)
    ax = main_axes(plots.attribution(twin))
    assert_readable(ax, f"Credit for {twin['conversions'].sum():,.0f} conversions by channel")
    ordered = twin.sort_values("conversions", ascending=False, kind="stable")
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    np.testing.assert_allclose(widths(bars), ordered["conversions"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ordered["channel"].tolist()
    segments = bars.errorbar.lines[2][0].get_segments()  # the interval: lower to upper
    np.testing.assert_allclose([seg[0][0] for seg in segments], ordered["conversions_lower"])
    np.testing.assert_allclose([seg[1][0] for seg in segments], ordered["conversions_upper"])
    with pytest.raises(jl.JourneyDataError, match="pick a stage first"):
        plots.attribution(jl.attribute_stages(events))


def test_attribution_models_shows_each_models_shares(events):
    twin = jl.compare_attribution(events, ["first_touch", "last_touch", "markov"])
    ax = main_axes(plots.attribution_models(twin))
    assert_readable(ax, "Attribution models side by side")
    cells = heatmap_cells(ax).reshape(len(twin), 3)
    want = twin[["first_touch", "last_touch", "markov"]]
    np.testing.assert_allclose(cells, want / want.sum(), rtol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["first touch", "last touch", "markov"]
    with pytest.raises(jl.JourneyDataError, match="expected a compare_attribution"):
        plots.attribution_models(twin[["channel"]])


def test_customer_value_draws_the_cumulative_share_of_value():
    from journey_lib import clv

    table = pd.DataFrame({"customer_id": [1, 2, 3, 4], "clv": [10.0, 60.0, 0.0, 30.0]})
    ax = main_axes(plots.customer_value(table, top=0.25))
    assert_readable(ax, "Lifetime value of 4 customers: 100 in all")
    (curve,) = lines_labelled(ax, "customers by value")
    np.testing.assert_allclose(curve.get_xdata(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(curve.get_ydata(), [0, 0.6, 0.9, 1.0, 1.0])
    assert ax.texts[0].get_text() == "top 25% hold 60%"
    with pytest.raises(jl.JourneyDataError, match="no customer has a positive"):
        plots.customer_value(table.assign(clv=0.0))
    with pytest.raises(jl.JourneyParameterError, match="top must be a share"):
        plots.customer_value(table, top=20)
    sim = clv.simulate_buyers(500, r=2.0, alpha=60.0, a=1.0, b=9.0, T=300, seed=2)
    twin = clv.value_table(
        clv.BetaGeo().fit(sim.summary), clv.GammaGamma().fit(sim.summary), sim.summary
    )
    ax = main_axes(plots.customer_value(twin))
    values = twin["clv"].to_numpy(dtype="float64")
    assert (np.diff(values) <= 0).all()  # the twin is most valuable first, as drawn
    assert_readable(ax, f"Lifetime value of {len(twin):,} customers: {values.sum():,.0f} in all")
    (curve,) = lines_labelled(ax, "customers by value")
    np.testing.assert_allclose(curve.get_xdata(), np.arange(len(twin) + 1) / len(twin))
    np.testing.assert_allclose(curve.get_ydata(), np.r_[0.0, np.cumsum(values) / values.sum()])


# --------------------------------------------------------------------------------------------
# teaching
# --------------------------------------------------------------------------------------------


def test_what_if_draws_both_runs_and_labels_the_change():
    twin = jl.what_if(jl.simulate(600, seed=2), keeping_promises=0.4)
    ax = main_axes(plots.what_if(twin))
    assert_readable(ax, "keeping_promises 0.4")
    baseline, scenario = ax.containers
    np.testing.assert_allclose(widths(baseline), twin["baseline"])
    np.testing.assert_allclose(widths(scenario), twin["scenario"])
    churn = twin.set_index("measure").loc["churn_rate"]
    label = ax.texts[0].get_text()
    assert label == f"{churn['change'] * 100:+.1f} pts (±{churn['margin'] * 100:.1f})"
    assert ax.get_yticklabels()[0].get_text() == "churn rate"


# --------------------------------------------------------------------------------------------
# input checks and drawing into given axes
# --------------------------------------------------------------------------------------------


def test_drivers_forest_draws_the_strongest_odds_ratios_with_their_intervals(events):
    found = jl.drivers(events, "conversion")
    table = found.table
    ax = main_axes(plots.drivers_forest(found, n=6))
    assert_readable(ax, "What goes with conversion (associations, not causes)")
    assert ax.get_xscale() == "log"
    assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"] == [1]
    # The 6 tested rows farthest from 1 on the log scale, strongest on top.
    tested = table[table["tested"] & table["odds_ratio"].notna()]
    effect = np.abs(np.log(tested["odds_ratio"]))
    wanted = tested.loc[effect.sort_values(ascending=False, kind="stable").index[:6]]
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    named = [
        v if f == "event" else f"{f} = {v}"
        for f, v in zip(wanted["feature"], wanted["value"], strict=True)
    ]
    assert labels == named
    points = {}
    for container in ax.containers:  # one errorbar per group: beyond chance, could be chance
        line, _, (bars,) = container
        for x, y, segment in zip(
            line.get_xdata(), line.get_ydata(), bars.get_segments(), strict=True
        ):
            points[round(y)] = (x, segment[0][0], segment[1][0])
    for y, (_, row) in enumerate(wanted.iloc[::-1].iterrows()):
        np.testing.assert_allclose(points[y], [row["odds_ratio"], row["ci_low"], row["ci_high"]])
    # A breakdown is drawn one segment at a time; an untested table has nothing to draw.
    by = jl.drivers(events, "conversion", by="channel", top=2)
    with pytest.raises(jl.JourneyParameterError, match="pick one segment"):
        plots.drivers_forest(by)
    with pytest.raises(jl.JourneyDataError, match="no tested driver of churn"):
        plots.drivers_forest(table.assign(tested=False), outcome="churn")


def test_a_frame_of_the_wrong_twin_is_named(events):
    paths = jl.paths(events)
    with pytest.raises(jl.JourneyDataError, match=r"expected a funnel or stage_funnel\(\)"):
        plots.funnel(paths)
    with pytest.raises(jl.JourneyDataError, match="lacks \\['period'"):
        plots.churn_rate(paths)
    with pytest.raises(jl.JourneyParameterError, match="top must be"):
        plots.volumes(jl.volumes(events), top=12)
    with pytest.raises(jl.JourneyParameterError, match="cap must be"):
        plots.touchpoints_per_customer(jl.touchpoints_per_customer(events), cap=0)


def test_figures_draw_into_given_axes_and_accept_any_engine(events):
    import polars as pl

    figure, (left, right) = plt.subplots(1, 2)
    twin = jl.lifecycle(pl.from_pandas(events[list(jl.CANONICAL_COLUMNS)]).lazy())
    assert plots.lifecycle(twin, ax=left) is figure
    assert plots.churn_rate(jl.churn_rate(events), ax=right) is figure
    assert len(left.containers) == 4 and figure.axes == [left, right]
    # In a subfigure, the Figure holding it is returned.
    top = plt.figure()
    (inner,) = top.subfigures(1, 2)[1].subplots(1, 1, squeeze=False)[0]
    assert plots.churn_rate(jl.churn_rate(events), ax=inner) is top
    wide = twin.collect().to_pandas().pivot(index="period", columns="status", values="customers")
    np.testing.assert_array_equal(heights(left.containers[0]), wide["new"])


def test_nothing_to_draw_is_said_plainly():
    """Empty twins (an empty channel, a first step nobody took, no finished period) get a
    JourneyDataError saying why, not numpy's or Python's own errors."""
    log = jl.load_events(
        pd.DataFrame(
            {
                "customer_id": [1, 1, 2],
                "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
                "event": ["a", "b", "a"],
                "channel": [None, None, None],
            }
        )
    )
    with pytest.raises(jl.JourneyDataError, match="no transition to draw"):
        jl.plots.transition_matrix(jl.transition_matrix(log, of="channel"))
    with pytest.raises(jl.JourneyDataError, match="no 'channel' group has a customer"):
        jl.plots.funnel_breakdown(jl.funnel(log, ["x", "b"], breakdown="channel"))
    with pytest.raises(jl.JourneyDataError, match="no cohort has a finished period yet"):
        jl.plots.retention(jl.retention(log, period="month"))


# --------------------------------------------------------------------------------------------
# cells hidden on a report page (journey_lib.report.tables.private): gaps, never zeros or "nan"
# --------------------------------------------------------------------------------------------


def texts_of(ax):
    legend = ax.get_legend()
    found = [t.get_text() for t in ax.texts] + [ax.get_title()]
    found += [t.get_text() for t in legend.get_texts()] if legend else []
    return found + [t.get_text() for t in ax.get_xticklabels()]


def test_a_funnel_step_hidden_is_a_blank_bar_without_labels():
    twin = pd.DataFrame(
        {
            "step": [1, 2, 3],
            "event": ["visit", "signup", "buy"],
            "customers": [900.0, 300.0, np.nan],
            "conversion_rate": [1.0, 1 / 3, np.nan],
            "step_conversion_rate": [1.0, 1 / 3, np.nan],
        }
    )
    ax = main_axes(plots.funnel(twin))
    bars = ax.containers[0]
    assert heights(bars)[:2].tolist() == [900.0, 300.0] and np.isnan(heights(bars)[2])
    labels = [t.get_text() for t in ax.texts]
    assert "900\n100% of step 1" in labels and "300\n33% of step 1" in labels
    assert "−67%" in labels and len([t for t in labels if t.startswith("−")]) == 1
    assert not any("nan" in t.lower() for t in texts_of(ax))


def test_a_breakdown_whose_first_step_is_hidden_says_so_in_the_legend():
    twin = pd.DataFrame(
        {
            "channel": ["web", "web", "tv", "tv"],
            "step": [1, 2, 1, 2],
            "event": ["visit", "buy"] * 2,
            "customers": [400.0, 100.0, np.nan, np.nan],
            "conversion_rate": [1.0, 0.25, np.nan, np.nan],
            "step_conversion_rate": [1.0, 0.25, np.nan, np.nan],
        }
    )
    ax = main_axes(plots.funnel_breakdown(twin))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["web (n=400)", "tv (n=hidden)"]
    assert np.isnan(heights(ax.containers[1])).all()


def test_touchpoints_per_customer_hidden_are_gaps_not_zeros():
    twin = pd.DataFrame(
        {"touchpoints": [1, 2, 3], "customers": [50.0, np.nan, 40.0], "share": [0.5, np.nan, 0.4]}
    )
    ax = main_axes(plots.touchpoints_per_customer(twin, cap=None))
    drawn = heights(ax.containers[0])
    assert drawn[0] == 50 and np.isnan(drawn[1]) and drawn[2] == 40


def test_time_to_convert_keeps_hidden_bins_as_gaps_and_says_so():
    twin = pd.DataFrame(
        {
            "bin": ["0s to 1h", "1h to 1D", "1D to 7D", "7D or more"],
            "lower_seconds": [0.0, 3600.0, 86400.0, 604800.0],
            "upper_seconds": [3600.0, 86400.0, 604800.0, np.inf],
            "customers": [np.nan, 30.0, np.nan, 0.0],
            "share": [np.nan, 0.6, np.nan, 0.0],
            "cumulative_share": [np.nan, 0.7, np.nan, 1.0],
        }
    )
    ax = main_axes(plots.time_to_convert(twin))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0s to 1h", "1h to 1D", "1D to 7D"]
    assert ax.get_title() == "Time to convert (30 customers shown; bins of few hidden)"


def test_lifecycle_stacks_over_a_hidden_count():
    twin = pd.DataFrame(
        {
            "period": pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-01"] * 4, utc=True),
            "status": ["new", "returning", "resurrecting", "dormant"] * 2,
            "customers": [100.0, 0.0, 0.0, 0.0, 80.0, np.nan, 20.0, -30.0],
            "complete": [True] * 8,
        }
    )
    ax = main_axes(plots.lifecycle(twin))
    returning, resurrecting = ax.containers[1], ax.containers[2]
    assert np.isnan(returning.patches[1].get_height())
    # Resurrecting sits on the new customers, not lost above a missing bar.
    assert resurrecting.patches[1].get_y() == 80 and resurrecting.patches[1].get_height() == 20


def test_rfm_segments_from_counts_with_a_hidden_segment():
    counts = pd.DataFrame(
        {
            "segment": ["champions", "loyal", "lost"],
            "customers": [40.0, np.nan, 60.0],
            "share": [0.4, np.nan, 0.6],
        }
    )
    ax = main_axes(plots.rfm_segments(counts))
    drawn = widths(ax.containers[0])
    assert drawn[0] == 40 and np.isnan(drawn[1]) and drawn[-1] == 60
    assert drawn[2:-1].tolist() == [0.0] * 8  # segments absent from the counts: none
    labels = [t.get_text() for t in ax.texts]
    assert "40 (40%)" in labels and "60 (60%)" in labels  # shares of all, hidden ones too
    assert ax.get_title() == "RFM segments (100 customers shown)"


def test_attribution_with_hidden_credit_counts_what_is_shown():
    credit = pd.DataFrame(
        {
            "channel": ["web", "tv", "mail"],
            "conversions": [500.0, np.nan, np.nan],
            "share": [0.8, np.nan, np.nan],
        }
    )
    ax = main_axes(plots.attribution(credit))
    title = " ".join(ax.get_title().split())  # wrapped at 60 characters
    assert title == "Credit for 500 conversions by channel shown (the rest hidden)"
    assert not any("nan" in t.lower() for t in texts_of(ax))


# --------------------------------------------------------------------------------------------
# the public surface: every figure listed, every one a Figure
# --------------------------------------------------------------------------------------------


def _lives(events):
    life = jl.survival.customer_lifetimes(events, inactivity="30D")
    first = events.sort_values("timestamp").groupby("customer_id")["channel"].first()
    return life.assign(channel=life["customer_id"].map(first))


def _curves(events):
    return jl.survival.kaplan_meier(_lives(events), by="channel")


def _cox(events):
    return jl.survival.CoxModel().fit(_lives(events), features=["channel"])


FIGURES = sorted(name for name in plots.__all__ if callable(getattr(plots, name)))


def test_all_lists_every_figure_of_every_module():
    from journey_lib.plots import (
        campaigns,
        changes,
        cohorts,
        credit,
        drivers,
        flows,
        journeys,
        lifetimes,
        models,
        segments,
        summary,
        teaching,
    )

    modules = (
        campaigns,
        changes,
        cohorts,
        credit,
        drivers,
        flows,
        journeys,
        lifetimes,
        models,
        segments,
        summary,
        teaching,
    )
    defined = {n for m in modules for n in m.__all__ if callable(getattr(m, n))}
    defined -= {"series_label"}  # a series in words, for titles and pages: not a figure
    assert set(FIGURES) == defined
    # The figures __all__ used to leave out.
    assert {"attribution", "attribution_models", "customer_value", "loyalty", "what_if"} <= set(
        FIGURES
    )
    assert "roc_points" not in plots.__all__ and "pr_points" not in plots.__all__


def _changes():
    """Changes of a hand-made weekly series: purchases on the web halve for three weeks,
    those in the app stay (the whole log and each platform scanned)."""
    weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    web = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 100.0, 200.0)
    places = {(None, None): web + 100, ("platform", "web"): web, ("platform", "app"): 100.0}
    series = [
        pd.DataFrame(
            {
                "metric": "events",
                "detail": "purchase",
                "column": column,
                "value": value,
                "period": weeks,
                "count": count,
                "base": np.nan,
                "used": True,
            }
        )
        for (column, value), count in places.items()
    ]
    return jl.find_changes(pd.concat(series))


@pytest.fixture(scope="module")
def twins(events, churn_model):
    """Each figure's arguments: its data twin or result object (computed on first use)."""
    from journey_lib import clv

    model, X, y = churn_model
    steps = ["ad_view", "site_visit", "purchase"]
    buyers = clv.simulate_buyers(300, r=2.0, alpha=60.0, a=1.0, b=9.0, T=300, seed=2).summary
    cases = {
        "attribution": lambda: (jl.attribute(events),),
        "attribution_models": lambda: (jl.compare_attribution(events),),
        "calibration": lambda: (model.evaluate(X, y, n_bootstraps=20),),
        "campaign_arms": lambda: (
            jl.uplift.campaign_effect(
                pd.DataFrame({"treated": [1, 1, 0, 0], "churned": [0, 1, 1, 1]})
            ),
        ),
        "change_breakdown": lambda: (_changes(),),
        "change_series": lambda: (_changes(),),
        "changes_heatmap": lambda: (_changes(),),
        "churn_rate": lambda: (jl.churn_rate(events),),
        "customer_value": lambda: (
            clv.value_table(clv.BetaGeo().fit(buyers), clv.GammaGamma().fit(buyers), buyers),
        ),
        "drivers_forest": lambda: (jl.drivers(events, "conversion"),),
        "funnel": lambda: (jl.funnel(events, steps),),
        "funnel_breakdown": lambda: (jl.funnel(events, steps, breakdown="channel"),),
        "funnel_trend": lambda: (jl.funnel_trend(events, steps, period="month"),),
        "gains": lambda: (model.evaluate(X, y, n_bootstraps=20),),
        "hazard_ratios": lambda: (_cox(events),),
        "importance": lambda: (model.importance(X, y, n_repeats=2, max_rows=200),),
        "lifecycle": lambda: (jl.lifecycle(events),),
        "survival_curves": lambda: (_curves(events),),
        "lift": lambda: (model.evaluate(X, y, n_bootstraps=20).gains,),
        "loyalty": lambda: (jl.loyalty(events),),
        "partial_dependence": lambda: (model.partial_dependence(X, ["recency_days"], grid=4),),
        "path_flows": lambda: (jl.path_flows(events, start="site_visit", steps=4),),
        "paths": lambda: (jl.paths(events, top=5),),
        "precision_recall": lambda: (pr_points(y, model.predict_proba(X)),),
        "profit_curve": lambda: (model.target(X, offer_cost=5, save_rate=0.3),),
        "qini_curves": lambda: (
            {
                "model": jl.uplift.qini_curve(
                    [1, 0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2, 0.5], [1, 1, 0, 0, 1]
                )
            },
        ),
        "targeting_comparison": lambda: (
            jl.uplift.compare_targeting(
                X.head(50),
                uplift=np.linspace(-0.2, 0.1, 50),
                risk=model.predict_proba(X.head(50)),
                offer_cost=5,
                save_rate=0.3,
            ),
        ),
        "rate_trends": lambda: (
            pd.DataFrame(
                {
                    "period": pd.to_datetime(["2024-01-01", "2024-02-01"] * 2, utc=True),
                    "label": ["Churn rate"] * 2 + ["Conversion rate"] * 2,
                    "value": [0.2, 0.18, 0.25, 0.21],
                }
            ),
        ),
        "retention": lambda: (jl.retention(events),),
        "rfm_segments": lambda: (jl.rfm_segments(jl.rfm(events, observation_end="2025-01-01")),),
        "roc": lambda: (roc_points(y, model.predict_proba(X)),),
        "segment_churn": lambda: (jl.churn_rate(events, period="month", by="channel", top=3),),
        "segment_heatmap": lambda: (jl.compare_segments(events, "channel", top=3),),
        "segment_retention": lambda: (
            jl.retention_curve(jl.retention(events, period="month", by="channel", top=3)),
        ),
        # One segment, so that one given Axes holds the whole figure.
        "segment_stage_funnels": lambda: (jl.stage_funnel(events.assign(tier="all"), by="tier"),),
        "stage_flows": lambda: (jl.stage_flows(events),),
        "time_to_convert": lambda: (jl.time_to_convert(events, steps),),
        "timeline": lambda: (jl.timeline(events, [3, 7]),),
        "touchpoints_per_customer": lambda: (jl.touchpoints_per_customer(events),),
        "transition_graph": lambda: (jl.transition_matrix(events),),
        "transition_matrix": lambda: (jl.transition_matrix(events),),
        "value_at_risk": lambda: (
            pd.DataFrame(
                {
                    "segment": ["a", "b"],
                    "value_at_risk": [900.0, 300.0],
                    "at_risk_customers": [12, 30],
                }
            ),
        ),
        "volumes": lambda: (jl.volumes(events),),
        "what_if": lambda: (jl.what_if(jl.simulate(300, seed=2), keeping_promises=0.4),),
    }
    assert set(cases) == set(FIGURES), "a figure without a case here"
    return cases


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_returns_a_figure_and_draws_into_given_axes(name, twins):
    args = twins[name]()
    figure = getattr(plots, name)(*args)
    assert isinstance(figure, Figure)
    assert figure.axes and figure.axes[0].has_data()
    # Drawn into an Axes of an existing figure, that figure is returned and nothing new made.
    host = plt.figure()
    ax = host.add_subplot()
    before = plt.get_fignums()
    if name in ("partial_dependence", "segment_stage_funnels"):
        assert getattr(plots, name)(*args, axes=[ax]) is host
    else:
        assert getattr(plots, name)(*args, ax=ax) is host
    assert plt.get_fignums() == before and ax.has_data()
