"""Figures of customers over time and by value: cohort retention, churn rate, lifecycle,
loyalty, RFM segments and how concentrated lifetime value is.

Each function draws the result of one journey_lib function, its data twin, named in its
docstring, and returns the Figure. A figure that draws one journey refuses a result broken
down ``by=`` into several segments (their rows would be mixed) and draws one segment's rows
as that segment alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..analytics.retention import LIFECYCLE_STATUSES, retention_matrix
from ..analytics.rfm import RFM_SEGMENTS
from ..analytics.segments import one_segment
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ._style import (
    GREY,
    MARKERS,
    NOTE,
    PALETTE,
    axes_or_new,
    complete_and_not,
    date_labels,
    decorate,
    heatmap,
    naive_utc,
    percent,
    period_name,
    twin_table,
    unit_square,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "LOYALTY_RATES",
    "churn_rate",
    "customer_value",
    "lifecycle",
    "loyalty",
    "retention",
    "rfm_segments",
]


def retention(
    result: IntoFrame,
    *,
    values: Literal["rate", "customers"] = "rate",
    annotate: bool | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Cohort retention heatmap: cohorts down, periods since the cohort's start across.

    Data twin: :func:`journey_lib.retention` (pivoted with
    :func:`journey_lib.retention_matrix`, so periods not yet over are blank rather than a
    drop), or a :func:`journey_lib.retention_matrix` table. Offsets no cohort has completed
    are left out. A result broken down ``by=`` is drawn one segment at a time (pick its
    rows); :func:`journey_lib.plots.segment_retention` compares the segments' curves.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.retention(jl.retention(events, period="month"))
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()][:3]
    ['2024-01', '2024-02', '2024-03']
    >>> plt.close(figure)
    """
    check_choice("values", values, ("rate", "customers"))
    frame = to_pandas(result, what="the retention result")
    long = {"cohort", "period", "complete"} <= set(frame.columns)
    every = "plots.segment_retention(jl.retention_curve(result))"
    if long:
        frame = one_segment(frame, "cohort", "plots.retention", instead=every)
    elif frame.index.nlevels > 1:  # a retention_matrix of a breakdown: segments, then cohort
        rows = frame.index.to_frame(index=False)
        one_segment(rows, rows.columns[-1], "plots.retention", instead=every)
        frame = frame.droplevel(list(range(frame.index.nlevels - 1)))
    matrix = (retention_matrix(frame, values) if long else frame).dropna(axis=1, how="all")
    if matrix.empty:
        raise JourneyDataError(
            "no cohort has a finished period yet: nothing to draw (a longer log, or a shorter "
            "period, gives some)"
        )
    period = period_name(pd.Series(matrix.index))
    labelled = matrix.set_axis(date_labels(pd.Series(matrix.index), period), axis=0)
    rows, columns = matrix.shape
    ax = axes_or_new(ax, (max(6, 2.5 + 0.65 * columns), max(4, 1.5 + 0.4 * rows)))
    share = values == "rate"
    heatmap(ax, labelled, share=share, annotate=annotate, label="retained" if share else None)
    what = "share of the cohort" if share else "customers"
    return decorate(
        ax,
        f"Cohort retention ({what} active)",
        f"{period}s since the cohort's first {period}",
        f"cohort ({period} of first activity)",
    )


def churn_rate(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """The churn rate of each period as a line.

    Data twin: :func:`journey_lib.churn_rate` (lost during the period over active at its
    start; periods with nobody active at their start are gaps).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.churn_rate(jl.churn_rate(events))
    >>> figure.axes[0].get_title()
    'Churn rate per month'
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("period", "active_start", "lost", "churn_rate"), "churn_rate")
    frame = one_segment(frame, "period", "plots.churn_rate")
    period = period_name(frame["period"])
    ax = axes_or_new(ax, (10, 5))
    ax.plot(naive_utc(frame["period"]), frame["churn_rate"], marker=MARKERS[0], color=PALETTE[3])
    percent(ax.yaxis)
    ax.set_ylim(bottom=0)
    return decorate(
        ax,
        f"Churn rate per {period}",
        f"{period} starting (UTC)",
        "churned (lost / active at start)",
    )


_LIFECYCLE_COLOURS = {
    "new": PALETTE[0],
    "returning": PALETTE[2],
    "resurrecting": PALETTE[1],
    "dormant": PALETTE[3],
}


def lifecycle(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Stacked bars of new, returning and resurrecting customers, dormant ones below zero.

    Data twin: :func:`journey_lib.lifecycle` (dormant counts are negative there). Periods
    not yet complete are hatched; a missing count (hidden on a report page) is a gap.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.lifecycle(jl.lifecycle(events, period="month"))
    >>> [bars.get_label() for bars in figure.axes[0].containers]
    ['new', 'returning', 'resurrecting', 'dormant']
    >>> int(figure.axes[0].containers[-1].patches[1].get_height())  # February's dormant
    -18
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("period", "status", "customers", "complete"), "lifecycle")
    frame = one_segment(frame, "period", "plots.lifecycle")
    wide = frame.pivot(index="period", columns="status", values="customers")
    complete = frame.groupby("period")["complete"].first().astype(bool).to_numpy()
    period = period_name(frame["period"])
    x = np.arange(len(wide))
    ax = axes_or_new(ax, (max(8, 0.35 * len(wide) + 3), 5.5))
    bottom = np.zeros(len(wide))
    for status in LIFECYCLE_STATUSES:
        heights = wide[status].to_numpy(dtype="float64")
        bars = ax.bar(
            x,
            heights,
            bottom=0 if status == "dormant" else bottom,
            label=status,
            color=_LIFECYCLE_COLOURS[status],
            edgecolor="white",
            width=0.8,
        )
        for patch, over in zip(bars.patches, complete, strict=True):
            if not over:
                patch.set_hatch("//")
                patch.set_alpha(0.6)
        if status != "dormant":
            bottom = bottom + np.nan_to_num(heights)  # a hidden count stacks as a gap
    ax.axhline(0, color="black", linewidth=0.8)
    step = max(1, len(wide) // 12)
    labels = date_labels(pd.Series(wide.index), period)
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    ax.legend(fontsize=NOTE, title="hatched: period not over", title_fontsize=NOTE)
    return decorate(
        ax, f"Customer lifecycle per {period}", period, "customers (dormant below zero)"
    )


#: The rates :func:`loyalty` draws, in legend order, with their labels.
LOYALTY_RATES: dict[str, str] = {
    "retention_share": "in retention",
    "repeat_purchase_rate": "bought again",
    "advocacy_share": "in advocacy",
    "review_rate": "reviewed",
    "referral_rate": "referred someone",
}


def loyalty(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Loyalty and advocacy rates of the active customers, period by period.

    Data twin: ``jl.loyalty(events).by_period`` (a :class:`journey_lib.Loyalty` is accepted
    too). Each rate of :data:`LOYALTY_RATES` is a line over the share of that period's active
    customers; the period still running is drawn hollow on a dashed line.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.loyalty(jl.loyalty(events))
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['in retention', 'bought again', 'in advocacy', 'reviewed', 'referred someone']
    >>> plt.close(figure)
    """
    table = getattr(result, "by_period", result)
    frame = twin_table(table, ("period", "customers", "complete", *LOYALTY_RATES), "loyalty")
    frame = one_segment(frame, "period", "plots.loyalty")
    x = naive_utc(frame["period"])
    ax = axes_or_new(ax, (10, 5.5))
    for i, (rate, label) in enumerate(LOYALTY_RATES.items()):
        complete_and_not(ax, x, frame[rate], frame["complete"], label=label, i=i)
    percent(ax.yaxis)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=NOTE, loc="upper left", bbox_to_anchor=(1.01, 1))
    period = period_name(frame["period"])
    return decorate(
        ax,
        f"Loyalty and advocacy per {period} (share of active customers; dashed: not over)",
        f"{period} starting (UTC)",
        "share of active customers",
    )


def rfm_segments(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Customers in each RFM segment, best segments on top.

    Data twin: :func:`journey_lib.rfm_segments` (one row per customer), or its counts
    (``segment`` and ``customers``, one row per segment, as
    :func:`journey_lib.report.views.segment_counts` gives); every segment of
    :data:`journey_lib.analytics.rfm.RFM_SEGMENTS` is shown, empty ones included. A
    missing count (hidden on a report page) is a gap labelled ``hidden``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> rfm = jl.rfm(events, observation_end="2025-01-01")
    >>> figure = jl.plots.rfm_segments(jl.rfm_segments(rfm))
    >>> figure.axes[0].get_title()
    'RFM segments (75 customers)'
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("segment",), "rfm_segments")
    shares = None
    if "customers" in frame.columns:  # counts per segment
        rows = frame.set_index("segment").reindex(list(RFM_SEGMENTS))
        present = rows.index.isin(frame["segment"])
        counts = rows["customers"].where(present, 0)
        if "share" in rows.columns:  # of all customers, hidden ones included
            shares = rows["share"].where(present, 0)
    else:
        counts = frame["segment"].value_counts().reindex(list(RFM_SEGMENTS), fill_value=0)
    total = int(counts.sum())
    shares = counts / max(total, 1) if shares is None else shares
    ax = axes_or_new(ax, (9, 6))
    bars = ax.barh(np.arange(len(counts)), counts.to_numpy(dtype="float64"), color=PALETTE[0])
    labels = [
        "hidden" if pd.isna(n) else f"{n:,.0f} ({share:.0%})"
        for n, share in zip(counts, shares, strict=True)
    ]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=NOTE)
    ax.set_yticks(np.arange(len(counts)), counts.index)
    ax.invert_yaxis()
    ax.margins(x=0.15)
    what = f"{total:,} customers" + (" shown" if counts.isna().any() else "")
    return decorate(ax, f"RFM segments ({what})", "customers", "segment")


def customer_value(result: IntoFrame, *, top: float = 0.2, ax: Axes | None = None) -> Figure:
    """How concentrated customer value is: customers ranked by lifetime value against their
    cumulative share of it (a Lorenz curve), with the ``top`` share marked.

    Data twin: :func:`journey_lib.clv.value_table` (one row per customer, most valuable
    first; the ``clv`` column is drawn). The diagonal is equal value for everyone.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> table = pd.DataFrame({"customer_id": [1, 2, 3, 4], "clv": [60.0, 30.0, 10.0, 0.0]})
    >>> figure = jl.plots.customer_value(table, top=0.25)
    >>> figure.axes[0].texts[0].get_text()
    'top 25% hold 60%'
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("customer_id", "clv"), "value_table")
    if not 0 < top < 1:
        raise JourneyParameterError(f"top must be a share between 0 and 1, got {top!r}")
    values = np.sort(frame["clv"].to_numpy(dtype="float64"))[::-1]
    total = values.sum()
    if not len(values) or total <= 0:
        raise JourneyDataError("no customer has a positive lifetime value to draw")
    customers = np.arange(len(values) + 1) / len(values)
    share = np.r_[0.0, np.cumsum(values) / total]
    held = float(np.interp(top, customers, share))
    ax = axes_or_new(ax, (7, 6))
    ax.plot(customers, share, color=PALETTE[0], linewidth=2, label="customers by value")
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", label="equal value")
    ax.plot([top, top, 0], [0, held, held], color=PALETTE[3], linewidth=1, linestyle=":")
    ax.annotate(
        f"top {top:.0%} hold {held:.0%}",
        (top, held),
        xytext=(8, -16),
        textcoords="offset points",
        fontsize=NOTE,
    )
    unit_square(ax)
    ax.legend(loc="lower right", fontsize=NOTE)
    title = f"Lifetime value of {len(values):,} customers: {total:,.0f} in all"
    return decorate(ax, title, "customers, most valuable first", "share of lifetime value")
