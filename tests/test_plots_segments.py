"""The segment figures of journey_lib.plots.segments drawn against their data twins: one
panel per segment whose bars are the block's shares, titled with the segment and its
entrants, on one y axis; a heatmap whose cells are the comparison's values, coloured by the
gap to the rest and muted where it is not significant; clear errors."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import Normalize, to_rgba

import journey_lib as jl
from journey_lib.analytics.compare import RESULT_COLUMNS, compare_segments, format_value
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.plots._style import GREY, event_colour
from journey_lib.plots.segments import (
    DIVERGING,
    segment_churn,
    segment_heatmap,
    segment_retention,
    segment_stage_funnels,
)

matplotlib.use("Agg")

BASE = pd.Timestamp("2024-01-01", tz="UTC")


def _log() -> pd.DataFrame:
    """Web: 1 buys (ad, visit, purchase), 2 visits after an ad, 3 sees an ad. App: 4 buys
    after a visit, 5 only visits."""
    rows = [
        (1, 0, "ad_view", "web"),
        (1, 1, "site_visit", "web"),
        (1, 2, "purchase", "web"),
        (2, 0, "ad_view", "web"),
        (2, 3, "site_visit", "web"),
        (3, 1, "ad_view", "web"),
        (4, 0, "site_visit", "app"),
        (4, 1, "purchase", "app"),
        (5, 2, "site_visit", "app"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event", "platform"])
    frame["timestamp"] = (BASE + pd.to_timedelta(frame.pop("day"), unit="D")).astype(
        "datetime64[us, UTC]"
    )
    return frame.astype({"event": "str", "platform": "str"})


def test_one_panel_per_segment_with_the_blocks_shares():
    twin = jl.stage_funnel(_log(), by="platform")
    figure = segment_stage_funnels(twin)
    assert len(figure.axes) == 2
    assert [ax.get_title() for ax in figure.axes] == ["app (2 entrants)", "web (3 entrants)"]
    assert figure._suptitle.get_text() == "Journey stages reached by platform"
    stages = list(jl.FRAMEWORKS["customer_journey"].stages)
    for ax, platform in zip(figure.axes, ["app", "web"], strict=True):
        block = twin[twin["platform"] == platform]
        heights = [bar.get_height() for bar in ax.patches]
        np.testing.assert_allclose(heights, block["conversion_rate"].to_numpy(), equal_nan=True)
        colours = [bar.get_facecolor() for bar in ax.patches]
        assert colours == [to_rgba(event_colour(s)) for s in stages]
        labels = [t.get_text() for t in ax.texts]
        shares = block["conversion_rate"]
        want = [f"{n:,}\n{r:.0%}" for n, r in zip(block["customers"], shares, strict=True)]
        assert labels == want
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            s.replace("Investigation & Consideration", "Investigation &\nConsideration")
            for s in stages
        ]
    # One scale: the panels share their y axis.
    assert figure.axes[0].get_shared_y_axes().joined(figure.axes[0], figure.axes[1])
    assert figure.axes[0].get_ylim() == figure.axes[1].get_ylim() == (0, 1.2)
    plt.close(figure)


def test_a_funnel_broken_down_by_segment_draws_its_steps():
    twin = jl.funnel(_log(), ["ad_view", "site_visit", "purchase"], by="platform")
    figure = segment_stage_funnels(twin)
    # App's customers never saw an ad, so its funnel has no step-1 customer.
    assert [ax.get_title() for ax in figure.axes] == ["app (0 at step 1)", "web (3 at step 1)"]
    web = figure.axes[1]
    np.testing.assert_allclose([b.get_height() for b in web.patches], [1, 2 / 3, 1 / 3])
    assert [t.get_text() for t in web.get_xticklabels()] == ["ad_view", "site_visit", "purchase"]
    assert figure._suptitle.get_text() == "Funnel conversion by platform"
    plt.close(figure)


def test_panels_drawn_into_given_axes():
    twin = jl.stage_funnel(_log(), by="platform")
    figure, axes = plt.subplots(1, 3)
    assert segment_stage_funnels(twin, axes=axes) is figure
    assert len(axes[2].patches) == 0 and len(axes[0].patches) == 5
    with pytest.raises(JourneyParameterError, match="2 segments but 1 axes"):
        segment_stage_funnels(twin, axes=axes[:1])
    plt.close("all")


def test_stage_funnels_refuse_what_is_not_a_breakdown():
    with pytest.raises(JourneyParameterError, match="no segment columns"):
        segment_stage_funnels(jl.stage_funnel(_log()))
    with pytest.raises(JourneyDataError, match="stage_funnel"):
        segment_stage_funnels(pd.DataFrame({"platform": ["a"], "step": [1]}))


def _comparison() -> pd.DataFrame:
    """A compare_segments twin: two plans, a count, a significant share above the rest,
    a share that is not significant, and money significantly below."""
    rows = [
        ("basic", "customers", "count", 120, np.nan, 80, False),
        ("basic", "churn rate", "share", 0.25, 0.10, 0.001, True),
        ("basic", "reached Purchase", "share", 0.30, 0.33, 0.4, False),
        ("basic", "revenue per customer", "money", 40.0, 80.0, 0.001, True),
        ("plus", "customers", "count", 80, np.nan, 120, False),
        ("plus", "churn rate", "share", 0.10, 0.25, 0.001, True),
        ("plus", "reached Purchase", "share", 0.33, 0.30, 0.4, False),
        ("plus", "revenue per customer", "money", 80.0, 40.0, 0.001, True),
    ]
    frame = pd.DataFrame(
        rows, columns=["plan", "metric", "kind", "value", "rest", "p_adjusted", "significant"]
    )
    frame.loc[frame["kind"] == "count", "rest"] = np.nan
    return frame.assign(
        lower=np.nan,
        upper=np.nan,
        n=100,
        difference=frame["value"] - frame["rest"],
        p_value=frame["p_adjusted"],
    )[["plan", *RESULT_COLUMNS]]


def test_the_heatmap_cells_are_the_comparison():
    twin = _comparison()
    figure = segment_heatmap(twin)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "customers",
        "churn rate",
        "reached Purchase",
        "revenue per customer",
    ]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["basic", "plus"]
    # One text per cell, row by row: the value as compare_segments formats it.
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    metrics, plans = (
        ["customers", "churn rate", "reached Purchase", "revenue per customer"],
        [
            "basic",
            "plus",
        ],
    )
    for i, metric in enumerate(metrics):
        for j, plan in enumerate(plans):
            row = twin[(twin["metric"] == metric) & (twin["plan"] == plan)].iloc[0]
            text = texts[(i, j)]
            assert text.get_text() == format_value(row["value"], row["kind"])
            assert text.get_fontweight() == ("bold" if row["significant"] else "normal")
            assert text.get_color() == ("black" if row["significant"] else GREY)
    assert texts[(1, 0)].get_text() == "25.0%" and texts[(3, 1)].get_text() == "80.00"
    # Colours: the relative gap on one symmetric scale (here +150% caps it at 100%).
    image = ax.images[0].get_array()
    norm, cmap = Normalize(-1.0, 1.0), plt.get_cmap(DIVERGING)
    np.testing.assert_allclose(image[1, 0], cmap(norm(1.0)))  # 0.25 / 0.10 - 1, capped
    np.testing.assert_allclose(image[1, 1], cmap(norm(0.10 / 0.25 - 1)))
    np.testing.assert_allclose(image[3, 0], cmap(norm(-0.5)))
    muted = np.array(cmap(norm(0.30 / 0.33 - 1))) * 0.25 + 0.75  # not significant
    np.testing.assert_allclose(image[2, 0], muted)
    np.testing.assert_allclose(image[0, 0], (0.94, 0.94, 0.94, 1.0))  # customers: no gap
    assert figure.axes[1].get_ylabel() == "gap to the rest (value / rest − 1)"
    assert ax.get_title() == "Segments by plan against the rest (faded: not significant)"
    plt.close(figure)


def test_the_heatmap_of_a_real_comparison():
    sim = jl.simulate(500, seed=2)
    table = compare_segments(sim.events, jl.Segments("segment", customers=sim.customers))
    figure = segment_heatmap(table)
    ax = figure.axes[0]
    assert len(ax.texts) == len(table)
    metrics = list(dict.fromkeys(table["metric"]))
    assert ax.images[0].get_array().shape == (len(metrics), 3, 4)
    sizes = table[table["metric"] == "customers"]["value"]
    assert [t.get_text() for t in ax.texts[:3]] == [f"{v:,.0f}" for v in sizes]
    plt.close(figure)


def test_the_heatmap_refuses_another_table():
    with pytest.raises(JourneyDataError, match="compare_segments"):
        segment_heatmap(pd.DataFrame({"plan": ["a"], "metric": ["customers"]}))
    with pytest.raises(JourneyDataError, match="no rows"):
        segment_heatmap(_comparison().iloc[:0])
    with pytest.raises(JourneyDataError, match="no segment columns"):
        segment_heatmap(_comparison().drop(columns="plan"))


def test_segment_retention_draws_each_segments_curve_largest_first():
    sim = jl.simulate(400, seed=2)
    by = jl.Segments("segment", customers=sim.customers)
    curve = jl.retention_curve(jl.retention(sim.events, period="month", by=by))
    figure = segment_retention(curve)
    lines = figure.axes[0].get_lines()
    sizes = curve[curve["period"] == 0].set_index("segment")["cohort_size"]
    expected = sizes.sort_values(ascending=False, kind="stable").index.tolist()
    assert [line.get_label() for line in lines] == expected
    for line in lines:
        rows = curve[curve["segment"] == line.get_label()].sort_values("period")
        assert line.get_xdata().tolist() == rows["period"].tolist()
        np.testing.assert_allclose(line.get_ydata(), rows["rate"])
    assert figure.axes[0].get_title() == "Retention by segment"
    plt.close(figure)
    # Only the largest two: the title says how many are left out.
    figure = segment_retention(curve, top=2)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == expected[:2]
    assert "the 2 largest of 3 segments" in figure.axes[0].get_title()
    plt.close(figure)


def test_segment_retention_refuses_a_curve_without_segments():
    sim = jl.simulate(100, seed=2)
    with pytest.raises(JourneyParameterError, match="no segment columns"):
        segment_retention(jl.retention_curve(jl.retention(sim.events)))


def test_segment_retention_refuses_a_raw_retention_result_and_a_curve_without_sizes():
    sim = jl.simulate(100, seed=2)
    by = jl.Segments("segment", customers=sim.customers)
    raw = jl.retention(sim.events, period="month", by=by)
    with pytest.raises(JourneyParameterError, match=r"'cohort' column.*jl\.retention_curve"):
        segment_retention(raw)
    curve = jl.retention_curve(raw).drop(columns="cohort_size")
    with pytest.raises(JourneyDataError, match="cohort_size"):
        segment_retention(curve)


def _spend(rows) -> pd.DataFrame:
    customer, day, value = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": list(customer),
            "timestamp": pd.to_datetime(list(day), utc=True),
            "event": "purchase",
            "value": list(value),
        }
    )


def test_retention_curve_pools_revenue_of_cohorts_with_a_base_only():
    # Jan's cohort (customer 1) spends 0 then 100: no base, its rate is missing; Feb's
    # (customer 2) spends 100 then 50. A May event ends April, so every cell is complete.
    log = _spend(
        [
            (1, "2024-01-10", 0.0),
            (1, "2024-02-10", 100.0),
            (2, "2024-02-12", 100.0),
            (2, "2024-03-12", 50.0),
            (3, "2024-05-01", 0.0),
        ]
    )
    result = jl.retention(log, period="month", measure="revenue", max_periods=1)
    curve = jl.retention_curve(result).set_index("period")
    assert curve.loc[1, "rate"] == 0.5  # 50 / 100, not (100 + 50) / 100
    assert curve.loc[1, "cohorts"] == 1
    assert curve.loc[1, ["cohort_revenue", "revenue"]].tolist() == [100.0, 50.0]
    assert curve.loc[0, "rate"] == 1.0


def test_retention_curve_counts_every_complete_cell_of_customers():
    log = _spend([(1, "2024-01-10", 0.0), (2, "2024-02-12", 0.0), (2, "2024-03-12", 0.0)])
    log = pd.concat([log, _spend([(3, "2024-05-01", 0.0)])], ignore_index=True)
    curve = jl.retention_curve(jl.retention(log, period="month", max_periods=1))
    assert curve.set_index("period").loc[1, ["cohorts", "cohort_size", "customers"]].tolist() == [
        2,
        2,
        1,
    ]


def test_retention_curve_names_what_a_frame_lacks():
    sim = jl.simulate(100, seed=2)
    raw = jl.retention(sim.events, period="month").drop(columns="cohort_size")
    with pytest.raises(JourneyDataError, match="cohort_size"):
        jl.retention_curve(raw)


def test_segment_churn_draws_each_segments_rates_largest_first():
    # By hand: two segments over three months; b has no one active in February (a gap).
    table = pd.DataFrame(
        {
            "plan": ["a"] * 3 + ["b"] * 3,
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"] * 2, utc=True),
            "active_start": [10, 8, 6, 4, 0, 2],
            "lost": [2, 2, 1, 1, 0, 1],
            "churn_rate": [0.2, 0.25, 1 / 6, 0.25, np.nan, 0.5],
        }
    )
    figure = segment_churn(table)
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]  # 24 active against 6
    np.testing.assert_allclose(lines[1].get_ydata(), [0.25, np.nan, 0.5])
    assert figure.axes[0].get_title() == "Churn rate by plan"
    plt.close(figure)
    figure = segment_churn(table, top=1)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["a"]
    assert "the 1 largest of 2 segments" in figure.axes[0].get_title()
    plt.close(figure)
    # The data twin of a real breakdown: every segment's line is its block.
    sim = jl.simulate(300, seed=1)
    churn = jl.churn_rate(
        sim.events, period="month", by=jl.Segments("segment", customers=sim.customers)
    )
    figure = segment_churn(churn)
    for line in figure.axes[0].get_lines():
        block = churn[churn["segment"] == line.get_label()].sort_values("period")
        np.testing.assert_allclose(line.get_ydata(), block["churn_rate"].to_numpy(float))
    plt.close(figure)
    with pytest.raises(JourneyParameterError, match="no segment columns"):
        segment_churn(jl.churn_rate(sim.events, period="month"))
    with pytest.raises(JourneyDataError, match="no period has a churn rate"):
        segment_churn(table.assign(churn_rate=np.nan))
