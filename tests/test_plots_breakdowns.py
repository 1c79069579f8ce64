"""Figures that draw one journey, given a result broken down by=: several segments are
refused with how to pick one (and the segment figure that draws them all, where there is
one); one segment's rows draw the picture the figure draws of that segment alone."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.errors import JourneyParameterError

matplotlib.use("Agg")

SIM = jl.simulate(200, seed=3)
BY = jl.Segments("segment", customers=SIM.customers)
STEPS = ["site_visit", "purchase"]


def _alone(segment: str) -> pd.DataFrame:
    """The log of one segment's customers."""
    members = jl.customer_segments(SIM.events, BY)
    ids = members.loc[members["segment"] == segment, "customer_id"]
    return SIM.events[SIM.events["customer_id"].isin(ids)]


def _numbers(values) -> list:
    """Numbers rounded, missing ones as a marker (NaN equals nothing, itself included)."""
    values = np.round(np.asarray(values, dtype="float64"), 6)
    return np.where(np.isnan(values), -1e300, values).tolist()


def _picture(figure) -> list:
    """What a figure shows: per Axes its title, tick labels, lines, bars and texts."""
    shown = []
    for ax in figure.axes:
        shown.append(ax.get_title())
        shown.append([t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()])
        shown.extend(_numbers(line.get_xydata()) for line in ax.get_lines())
        shown.extend(_numbers(patch.get_verts()) for patch in ax.patches)
        shown.append([t.get_text() for t in ax.texts])
    plt.close(figure)
    return shown


# (figure, its analytic of a log, the segment figure its refusal points to, if any)
FIGURES = {
    "churn_rate": (jl.plots.churn_rate, lambda e, **k: jl.churn_rate(e, **k), None),
    "lifecycle": (jl.plots.lifecycle, lambda e, **k: jl.lifecycle(e, period="month", **k), None),
    "loyalty": (jl.plots.loyalty, lambda e, **k: jl.loyalty(e, **k), None),
    "retention": (
        jl.plots.retention,
        lambda e, **k: jl.retention(e, period="month", **k),
        "segment_retention",
    ),
    "retention_matrix": (
        jl.plots.retention,
        lambda e, **k: jl.retention_matrix(jl.retention(e, period="month", **k)),
        "segment_retention",
    ),
    "paths": (jl.plots.paths, lambda e, **k: jl.paths(e, max_steps=3, top=5, **k), None),
    "time_to_convert": (
        jl.plots.time_to_convert,
        lambda e, **k: jl.time_to_convert(e, STEPS, **k),
        None,
    ),
    "funnel_trend": (
        jl.plots.funnel_trend,
        lambda e, **k: jl.funnel_trend(e, STEPS, period="month", **k),
        None,
    ),
    "stage_flows": (jl.plots.stage_flows, lambda e, **k: jl.stage_flows(e, **k), None),
    "funnel": (jl.plots.funnel, lambda e, **k: jl.funnel(e, STEPS, **k), "segment_stage_funnels"),
}


def _rows(table, segment: str):
    """One segment's rows of a by'd result (a retention_matrix: its index level)."""
    if isinstance(table, pd.DataFrame) and table.index.nlevels > 1:
        return table.loc[[segment]]
    frame = getattr(table, "by_period", table)
    return frame[frame["segment"] == segment]


@pytest.mark.parametrize("name", FIGURES)
def test_several_segments_are_refused_naming_them(name):
    draw, analytic, pointer = FIGURES[name]
    table = analytic(SIM.events, by=BY)
    with pytest.raises(JourneyParameterError, match=r"broken down by \['segment'\]") as caught:
        draw(table)
    assert "pick one" in str(caught.value) or "segment_stage_funnels" in str(caught.value)
    if pointer:
        assert pointer in str(caught.value)


@pytest.mark.parametrize("name", FIGURES)
def test_one_segments_rows_draw_that_segment_alone(name):
    draw, analytic, _ = FIGURES[name]
    table = analytic(SIM.events, by=BY)
    rows = _rows(table, "consumer")
    alone = analytic(_alone("consumer"))
    alone = getattr(alone, "by_period", alone)
    assert _picture(draw(rows)) == _picture(draw(alone))


EVENTS = SIM.events.merge(SIM.customers[["customer_id", "segment"]], on="customer_id")


def test_funnel_breakdown_draws_a_by_result_as_a_breakdown():
    by = jl.funnel(EVENTS, STEPS, by="segment")
    breakdown = jl.funnel(EVENTS, STEPS, breakdown="segment")
    assert _picture(jl.plots.funnel_breakdown(by)) == _picture(jl.plots.funnel_breakdown(breakdown))


@pytest.mark.parametrize(
    "options", [{"by": ["segment", "channel"]}, {"by": "segment", "breakdown": "channel"}]
)
def test_funnel_breakdown_refuses_two_columns_and_draws_one_segment_of_them(options):
    steps = ["ad_view", *STEPS]  # ad views come by several channels
    table = jl.funnel(EVENTS, steps, **options)
    with pytest.raises(
        JourneyParameterError, match=r"broken down by \['segment', 'channel'\].*pick one value"
    ):
        jl.plots.funnel_breakdown(table)
    with pytest.raises(JourneyParameterError, match=r"\['segment', 'channel'\]"):
        jl.plots.funnel(table)
    consumer = table[table["segment"] == "consumer"]
    # The crossing's channel is a customer's first; the breakdown's that of their step 1.
    rest = {"by": "channel"} if "breakdown" not in options else {"breakdown": "channel"}
    alone = jl.funnel(_alone("consumer"), steps, **rest)
    assert _picture(jl.plots.funnel_breakdown(consumer)) == _picture(
        jl.plots.funnel_breakdown(alone)
    )


def test_the_funnel_refuses_any_column_that_varies_not_only_the_first():
    table = jl.funnel(EVENTS.assign(one="x"), STEPS, by=["one", "segment"])
    with pytest.raises(JourneyParameterError, match=r"broken down by \['segment'\]"):
        jl.plots.funnel(table)
