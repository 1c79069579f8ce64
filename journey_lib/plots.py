"""One function per figure, each a thin view of a data twin.

Every function draws a DataFrame (or result object) that a journey_lib function returns, its
*data twin*, named in each docstring, and computes nothing beyond reshaping it for display:
pivoting, ordering, keeping the largest groups, folding a long tail into one bar. What a
figure shows can so always be read, tested and exported as a table.

Conventions
-----------
* Functions are named after their twin: ``plots.funnel(jl.funnel(events, steps))``,
  ``plots.retention(jl.retention(events))``.
* Each takes ``ax=None`` (a new figure is made when None) and returns the Axes it drew on;
  multi-panel figures return the Figure.
* Every figure is titled and its axes labelled; fonts are at least 10 pt; colours come from
  Okabe and Ito's colour-blind-safe palette (:data:`PALETTE`), and lines also differ by
  marker and bars of a breakdown by hatch, so figures survive grayscale print; shares are
  shown as percentages.
* Frames of any engine are accepted and collected to pandas: results are small.
* Time axes are in UTC, as every journey_lib period is.

matplotlib (and seaborn, for heatmaps) are imported when a figure is drawn, not when
journey_lib is imported.

Examples
--------
>>> import journey_lib as jl
>>> events = jl.simulate(500, seed=0).events
>>> ax = jl.plots.funnel(jl.funnel(events, ["ad_view", "site_visit", "purchase"]))
... # doctest: +SKIP
>>> ax.figure.savefig("funnel.png")  # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from ._engine import check_choice, to_pandas
from .analytics.paths import as_matrix
from .analytics.retention import LIFECYCLE_STATUSES, retention_matrix
from .analytics.rfm import RFM_SEGMENTS
from .analytics.stages import get_framework
from .churn._inputs import binary_labels
from .churn.evaluation import Evaluation
from .errors import JourneyDataError, JourneyParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .churn.explain import Importance, PartialDependence
    from .churn.targeting import Targeting

__all__ = [
    "MARKERS",
    "PALETTE",
    "calibration",
    "churn_rate",
    "funnel",
    "funnel_breakdown",
    "funnel_trend",
    "gains",
    "importance",
    "lifecycle",
    "lift",
    "partial_dependence",
    "paths",
    "pr_points",
    "precision_recall",
    "profit_curve",
    "retention",
    "rfm_segments",
    "roc",
    "roc_points",
    "time_to_convert",
    "timeline",
    "touchpoints_per_customer",
    "transition_matrix",
    "volumes",
]

#: Okabe and Ito's colour-blind-safe palette, without its yellow (faint on white paper).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
)
#: One marker per palette colour, so lines differ in grayscale too.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo")
#: Sequential colour map of heatmaps: colour-blind-safe and monotone in lightness.
SEQUENTIAL = "YlGnBu"
_GREY = "0.55"
_TITLE, _LABEL, _TICK, _NOTE = 14, 12, 11, 10
# Heatmaps larger than this (rows or columns) are not annotated: the numbers would not fit
# at a readable size.
_ANNOTATE_UP_TO = 14
_MISSING_LABEL = "(missing)"


# --------------------------------------------------------------------------------------------
# touchpoints
# --------------------------------------------------------------------------------------------


def volumes(
    result: Any,
    *,
    value: Literal["touchpoints", "customers"] = "touchpoints",
    top: int = 7,
    ax: Axes | None = None,
) -> Axes:
    """Touchpoints (or distinct customers) per period: one line per stage, channel or event.

    Data twin: :func:`journey_lib.volumes`. Lines follow the twin's group order (framework
    order for stages); with more than ``top`` groups only the ``top`` with the most
    touchpoints are drawn, and the title says so. The period not yet over is drawn hollow
    on a dashed line, so its partial count does not read as a drop.

    Examples
    --------
    >>> ax = plots.volumes(jl.volumes(events, by="channel"))  # doctest: +SKIP
    """
    check_choice("value", value, ("touchpoints", "customers"))
    _check_top(top)
    columns = ("period", "touchpoints", "customers", "complete")
    frame = _table(result, columns, "volumes")
    period = _period_name(frame["period"])
    what = "Touchpoints" if value == "touchpoints" else "Customers"
    ax = _axes(ax, (10, 5))
    groups = [c for c in frame.columns if c not in columns]
    labels = _labels(frame[groups[0]]) if groups else pd.Series("all", index=frame.index)
    order = list(dict.fromkeys(labels))
    largest = set(frame.groupby(labels)["touchpoints"].sum().nlargest(top).index)
    shown = [g for g in order if g in largest]
    x = _naive_utc(frame["period"])
    for i, group in enumerate(shown):
        part = (labels == group).to_numpy()
        _complete_and_not(
            ax, x[part], frame[value][part], frame["complete"][part], label=group, i=i
        )
    title = f"{what} per {period}"
    if groups:
        ax.legend(title=groups[0], fontsize=_NOTE, title_fontsize=_NOTE)
        title += f" by {groups[0]}"
        if len(shown) < len(order):
            title += f" (the {len(shown)} largest of {len(order)})"
    ax.set_ylim(bottom=0)
    ylabel = "touchpoints" if value == "touchpoints" else "distinct customers"
    return _decorate(ax, title, f"{period} starting (UTC; hollow: not over)", ylabel)


def touchpoints_per_customer(
    result: Any,
    *,
    cap: int | Literal["auto"] | None = "auto",
    top: int = 7,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of touchpoints per customer; by group, one line of shares per group.

    Data twin: :func:`journey_lib.touchpoints_per_customer`. Without a group, bars give the
    customers with each number of touchpoints; with one, lines give each group's shares (so
    groups of different sizes compare), the ``top`` groups with the most customers.

    ``cap`` folds the long tail into one last bar (or point): customers with ``cap`` or more
    touchpoints. ``"auto"`` caps at the count that 95% of customers do not exceed; ``None``
    draws every count.

    Examples
    --------
    >>> ax = plots.touchpoints_per_customer(jl.touchpoints_per_customer(events))
    ... # doctest: +SKIP
    """
    _check_top(top)
    frame = _table(result, ("touchpoints", "customers", "share"), "touchpoints_per_customer")
    limit = _cap(frame, cap)
    folded = frame.assign(touchpoints=frame["touchpoints"].clip(upper=limit))
    groups = [c for c in frame.columns if c not in ("touchpoints", "customers", "share")]
    ax = _axes(ax, (10, 5))
    if not groups:
        counts = folded.groupby("touchpoints")["customers"].sum()
        bars = ax.bar(counts.index, counts.to_numpy(), color=PALETTE[0], width=0.85)
        if limit is not None:
            ax.bar_label(bars, labels=[""] * (len(counts) - 1) + [f"{limit}+"], fontsize=_NOTE)
        title, ylabel = "Touchpoints per customer", "customers"
    else:
        by = groups[0]
        labels = _labels(frame[by])
        largest = set(frame.groupby(labels)["customers"].sum().nlargest(top).index)
        shown = [g for g in dict.fromkeys(labels) if g in largest]
        shares = folded.assign(_g=labels).groupby(["_g", "touchpoints"])["share"].sum()
        for i, group in enumerate(shown):
            # Counts no customer of the group has are 0, drawn as such rather than bridged.
            mine = shares[group]
            mine = mine.reindex(range(1, mine.index.max() + 1), fill_value=0.0)
            ax.plot(mine.index, mine.to_numpy(), label=group, **_line_style(i))
        ax.legend(title=by, fontsize=_NOTE, title_fontsize=_NOTE)
        _percent(ax.yaxis)
        title, ylabel = f"Touchpoints per customer by {by}", "share of the group's customers"
    xlabel = "touchpoints per customer"
    if limit is not None:
        xlabel += f" (last: {limit} or more)"
    ax.set_ylim(bottom=0)
    return _decorate(ax, title, xlabel, ylabel)


def timeline(
    result: pd.DataFrame,
    *,
    framework: Any = "customer_journey",
    ax: Axes | None = None,
) -> Axes:
    """Each chosen customer's touchpoints along a line, coloured and shaped by stage.

    Data twin: :func:`journey_lib.timeline`. One row per customer, in the twin's order (the
    first on top), at the days since the customer's first touchpoint; ``framework`` (the one
    the twin used) orders the legend.

    Examples
    --------
    >>> ax = plots.timeline(jl.timeline(events, [3, 7, 11]))  # doctest: +SKIP
    """
    frame = _table(result, ("customer_id", "stage", "days_since_first"), "timeline")
    customers = list(dict.fromkeys(frame["customer_id"]))
    row = frame["customer_id"].map({c: i for i, c in enumerate(customers)})
    ax = _axes(ax, (10, 1.5 + 0.6 * len(customers)))
    ends = frame.groupby(row)["days_since_first"].max()
    ax.hlines(ends.index, 0, ends.to_numpy(), color=_GREY, linewidth=1.5, zorder=1)
    stages = _labels(frame["stage"])
    known = get_framework(framework).stages
    order = [s for s in known if s in set(stages)] + sorted(set(stages) - set(known))
    for i, stage in enumerate(order):
        here = (stages == stage).to_numpy()
        ax.scatter(
            frame["days_since_first"][here],
            row[here],
            s=70,
            zorder=2,
            label=stage,
            edgecolors="white",
            **_point_style(i),
        )
    ax.set_yticks(range(len(customers)), [str(c) for c in customers])
    ax.set_ylim(len(customers) - 0.5, -0.5)  # the first customer on top
    ax.legend(
        title="stage",
        fontsize=_NOTE,
        title_fontsize=_NOTE,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    return _decorate(
        ax,
        "Customer journeys: touchpoints by stage",
        "days since the customer's first touchpoint",
        "customer",
    )


# --------------------------------------------------------------------------------------------
# journeys and funnels
# --------------------------------------------------------------------------------------------


def transition_matrix(result: Any, *, annotate: bool | None = None, ax: Axes | None = None) -> Axes:
    """Heatmap of next-touchpoint probabilities (or counts): rows ``from``, columns ``to``.

    Data twin: :func:`journey_lib.transition_matrix`, long, or pivoted by
    :func:`journey_lib.as_matrix`. Cells are annotated (as percentages for probabilities)
    when the matrix is at most 14 states wide and high, unless ``annotate`` says otherwise.

    Examples
    --------
    >>> ax = plots.transition_matrix(jl.transition_matrix(events, by="stage"))
    ... # doctest: +SKIP
    """
    frame = to_pandas(result, what="the transition_matrix result")
    matrix = as_matrix(frame) if {"from", "to"} <= set(frame.columns) else frame
    if matrix.size == 0:
        raise JourneyDataError(
            "no transition to draw: the table is empty (a `by` column without values?)"
        )
    share = all(pd.api.types.is_float_dtype(t) for t in matrix.dtypes)
    rows, columns = matrix.shape
    ax = _axes(ax, (max(6, 2 + 0.6 * columns), max(4.5, 1.5 + 0.45 * rows)))
    _heatmap(ax, matrix, share=share, annotate=annotate, label="probability" if share else None)
    what = "transition probabilities" if share else "transition counts"
    return _decorate(ax, f"Next touchpoint: {what}", "to (next touchpoint)", "from")


def paths(result: Any, *, wrap: int = 50, ax: Axes | None = None) -> Axes:
    """The most frequent journey openings as horizontal bars, most frequent on top.

    Data twin: :func:`journey_lib.paths`. Bars are counts, labelled with their share of all
    sequences; long paths wrap at ``wrap`` characters.

    Examples
    --------
    >>> ax = plots.paths(jl.paths(events, max_steps=4, top=10))  # doctest: +SKIP
    """
    frame = _table(result, ("path", "count", "share"), "paths")
    labels = [textwrap.fill(p, wrap, break_long_words=False) for p in frame["path"]]
    lines = sum(label.count("\n") + 1 for label in labels)
    ax = _axes(ax, (11, 1.5 + 0.3 * lines + 0.15 * len(frame)))
    bars = ax.barh(np.arange(len(frame)), frame["count"], color=PALETTE[0])
    ax.bar_label(bars, labels=[_pct(s, 1) for s in frame["share"]], padding=3, fontsize=_NOTE)
    ax.set_yticks(np.arange(len(frame)), labels)
    ax.invert_yaxis()
    ax.margins(x=0.12)
    return _decorate(
        ax, "Most frequent journey openings", "journeys (customers or sessions)", "path"
    )


_FUNNEL = ("step", "customers", "conversion_rate", "step_conversion_rate")
# Columns of funnel() and stage_funnel() results that are not a breakdown.
_FUNNEL_COLUMNS = frozenset(
    {
        *_FUNNEL,
        "event",
        "stage",
        "median_time_to_convert",
        "progressed",
        "median_time_in_stage",
        "regressed",
    }
)


def funnel(result: Any, *, ax: Axes | None = None) -> Axes:
    """Customers at each step as bars, with conversion and the drop-off between steps.

    Data twin: :func:`journey_lib.funnel` (without a breakdown: see
    :func:`funnel_breakdown`) or :func:`journey_lib.stage_funnel`. Each bar is labelled
    with its customers and ``conversion_rate`` (of step 1; for stages, of the customers who
    entered the journey); between bars, the drop-off is ``1 - step_conversion_rate``.

    Examples
    --------
    >>> ax = plots.funnel(jl.stage_funnel(events))  # doctest: +SKIP
    """
    frame = _table(result, _FUNNEL, "funnel or stage_funnel")
    by = _breakdown(frame)
    if by is not None and frame[by].nunique(dropna=False) > 1:
        raise JourneyParameterError(
            f"this funnel is broken down by {by!r}; draw it with plots.funnel_breakdown"
        )
    staged = "stage" in frame.columns
    names = frame["stage"] if staged else frame.get("event", frame["step"])
    x = np.arange(len(frame))
    ax = _axes(ax, (max(6, 2 * len(frame)), 5.5))
    bars = ax.bar(x, frame["customers"], color=PALETTE[0], width=0.6)
    base = "of entrants" if staged else "of step 1"
    ax.bar_label(
        bars,
        labels=[
            f"{n:,}\n{_pct(r)} {base}"
            for n, r in zip(frame["customers"], frame["conversion_rate"], strict=True)
        ],
        padding=3,
        fontsize=_NOTE,
    )
    for i in range(1, len(frame)):
        drop = 1 - frame["step_conversion_rate"].iloc[i]
        ax.annotate(
            f"−{_pct(drop)}",
            xy=(i - 0.5, frame["customers"].iloc[i] / 2),
            ha="center",
            va="center",
            color=PALETTE[3],
            fontsize=_NOTE,
            fontweight="bold",
        )
    ax.set_xticks(x, [textwrap.fill(str(n), 16) for n in names])
    ax.margins(y=0.22)
    title = "Journey stages reached" if staged else "Conversion funnel"
    return _decorate(
        ax,
        f"{title} (red: drop-off from the previous {'stage' if staged else 'step'})",
        "stage" if staged else "step",
        "customers",
    )


def funnel_breakdown(result: Any, *, top: int = 7, ax: Axes | None = None) -> Axes:
    """Conversion at each step, one bar per breakdown value side by side.

    Data twin: :func:`journey_lib.funnel` with ``breakdown=``. Bars are ``conversion_rate``
    (share of the value's step-1 customers); the legend gives each value's step-1 customers.
    Only the ``top`` values with the most step-1 customers are drawn.

    Examples
    --------
    >>> steps = ["ad_view", "site_visit", "purchase"]
    >>> ax = plots.funnel_breakdown(jl.funnel(events, steps, breakdown="channel"))
    ... # doctest: +SKIP
    """
    _check_top(top)
    frame = _table(result, _FUNNEL, "funnel")
    by = _breakdown(frame)
    if by is None:
        raise JourneyParameterError(
            "this funnel has no breakdown column; draw it with plots.funnel, or call "
            "journey_lib.funnel(..., breakdown='channel')"
        )
    labels = _labels(frame[by])
    entrants = frame[frame["step"] == 1].groupby(labels)["customers"].sum()
    shown = entrants.sort_values(ascending=False, kind="stable").head(top)
    if shown.empty:
        raise JourneyDataError(f"no {by!r} group has a customer at the first step: nothing to draw")
    wide = frame.assign(_g=labels).pivot(index="step", columns="_g", values="conversion_rate")
    names = frame.drop_duplicates("step").set_index("step").get("event", wide.index.to_series())
    ax = _axes(ax, (max(7, 1.2 * len(wide) * (1 + len(shown) / 3)), 5.5))
    x = np.arange(len(wide))
    width = 0.8 / len(shown)
    for i, group in enumerate(shown.index):
        ax.bar(
            x + (i - (len(shown) - 1) / 2) * width,
            wide[group].to_numpy(),
            width,
            label=f"{group} (n={shown[group]:,})",
            color=PALETTE[i % len(PALETTE)],
            hatch=_HATCHES[i % len(_HATCHES)],
            edgecolor="white",
        )
    ax.set_xticks(x, [textwrap.fill(str(names[s]), 16) for s in wide.index])
    _percent(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.legend(title=f"{by} (step-1 customers)", fontsize=_NOTE, title_fontsize=_NOTE)
    title = f"Funnel conversion by {by}"
    if len(shown) < len(entrants):
        title += f" (the {len(shown)} largest of {len(entrants)})"
    return _decorate(ax, title, "step", "reached the step (share of step 1)")


def funnel_trend(result: Any, *, ax: Axes | None = None) -> Axes:
    """Whole-funnel conversion by the period attempts started in.

    Data twin: :func:`journey_lib.funnel_trend`. Periods not yet complete (later data may
    still raise them) are drawn hollow on a dashed line.

    Examples
    --------
    >>> ax = plots.funnel_trend(jl.funnel_trend(events, ["site_visit", "purchase"]))
    ... # doctest: +SKIP
    """
    frame = _table(
        result, ("period", "customers", "converted", "conversion_rate", "complete"), "funnel_trend"
    )
    period = _period_name(frame["period"])
    ax = _axes(ax, (10, 5))
    _complete_and_not(
        ax,
        _naive_utc(frame["period"]),
        frame["conversion_rate"],
        frame["complete"],
        label="complete",
        open_label="not complete: may still rise",
    )
    _percent(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=_NOTE)
    return _decorate(
        ax,
        f"Funnel conversion by {period} of entry",
        f"{period} the attempt started (UTC)",
        "converted (share of entrants)",
    )


def time_to_convert(result: Any, *, ax: Axes | None = None) -> Axes:
    """Histogram of the time customers took to convert, with the cumulative share.

    Data twin: :func:`journey_lib.time_to_convert`. Bars are each bin's share of the
    converting customers; the line is the cumulative share. Empty bins before the first
    and after the last conversion are left out.

    Examples
    --------
    >>> ax = plots.time_to_convert(jl.time_to_convert(events, ["site_visit", "purchase"]))
    ... # doctest: +SKIP
    """
    frame = _table(result, ("bin", "customers", "share", "cumulative_share"), "time_to_convert")
    used = np.flatnonzero(frame["customers"].to_numpy() > 0)
    shown = frame.iloc[used[0] : used[-1] + 1] if len(used) else frame
    x = np.arange(len(shown))
    ax = _axes(ax, (max(7, 0.8 * len(shown) + 2), 5))
    ax.bar(x, shown["share"], color=PALETTE[0], width=0.8, label="converted in the bin")
    ax.plot(x, shown["cumulative_share"], color=PALETTE[1], marker=MARKERS[1], label="cumulative")
    ax.set_xticks(x, shown["bin"], rotation=45, ha="right")
    _percent(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=_NOTE)
    total = int(frame["customers"].sum())
    return _decorate(
        ax,
        f"Time to convert ({total:,} customers)",
        "time between the steps",
        "share of the converting customers",
    )


# --------------------------------------------------------------------------------------------
# retention, churn rate, lifecycle, RFM
# --------------------------------------------------------------------------------------------


def retention(
    result: Any,
    *,
    values: Literal["rate", "customers"] = "rate",
    annotate: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Cohort retention heatmap: cohorts down, periods since the cohort's start across.

    Data twin: :func:`journey_lib.retention` (pivoted with
    :func:`journey_lib.retention_matrix`, so periods not yet over are blank rather than a
    drop), or a :func:`journey_lib.retention_matrix` table. Offsets no cohort has completed
    are left out.

    Examples
    --------
    >>> ax = plots.retention(jl.retention(events, period="month"))  # doctest: +SKIP
    """
    check_choice("values", values, ("rate", "customers"))
    frame = to_pandas(result, what="the retention result")
    long = {"cohort", "period", "complete"} <= set(frame.columns)
    matrix = (retention_matrix(frame, values) if long else frame).dropna(axis=1, how="all")
    if matrix.empty:
        raise JourneyDataError(
            "no cohort has a finished period yet: nothing to draw (a longer log, or a shorter "
            "period, gives some)"
        )
    period = _period_name(pd.Series(matrix.index))
    labelled = matrix.set_axis(_date_labels(pd.Series(matrix.index), period), axis=0)
    rows, columns = matrix.shape
    ax = _axes(ax, (max(6, 2.5 + 0.65 * columns), max(4, 1.5 + 0.4 * rows)))
    share = values == "rate"
    _heatmap(ax, labelled, share=share, annotate=annotate, label="retained" if share else None)
    what = "share of the cohort" if share else "customers"
    return _decorate(
        ax,
        f"Cohort retention ({what} active)",
        f"{period}s since the cohort's first {period}",
        f"cohort ({period} of first activity)",
    )


def churn_rate(result: Any, *, ax: Axes | None = None) -> Axes:
    """The churn rate of each period as a line.

    Data twin: :func:`journey_lib.churn_rate` (lost during the period over active at its
    start; periods with nobody active at their start are gaps).

    Examples
    --------
    >>> ax = plots.churn_rate(jl.churn_rate(events))  # doctest: +SKIP
    """
    frame = _table(result, ("period", "active_start", "lost", "churn_rate"), "churn_rate")
    period = _period_name(frame["period"])
    ax = _axes(ax, (10, 5))
    ax.plot(_naive_utc(frame["period"]), frame["churn_rate"], marker=MARKERS[0], color=PALETTE[3])
    _percent(ax.yaxis)
    ax.set_ylim(bottom=0)
    return _decorate(
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


def lifecycle(result: Any, *, ax: Axes | None = None) -> Axes:
    """Stacked bars of new, returning and resurrecting customers, dormant ones below zero.

    Data twin: :func:`journey_lib.lifecycle` (dormant counts are negative there). Periods
    not yet complete are hatched.

    Examples
    --------
    >>> ax = plots.lifecycle(jl.lifecycle(events, period="month"))  # doctest: +SKIP
    """
    frame = _table(result, ("period", "status", "customers", "complete"), "lifecycle")
    wide = frame.pivot(index="period", columns="status", values="customers")
    complete = frame.groupby("period")["complete"].first().astype(bool).to_numpy()
    period = _period_name(frame["period"])
    x = np.arange(len(wide))
    ax = _axes(ax, (max(8, 0.35 * len(wide) + 3), 5.5))
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
            bottom = bottom + heights
    ax.axhline(0, color="black", linewidth=0.8)
    step = max(1, len(wide) // 12)
    labels = _date_labels(pd.Series(wide.index), period)
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    ax.legend(fontsize=_NOTE, title="hatched: period not over", title_fontsize=_NOTE)
    return _decorate(
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


def loyalty(result: Any, *, ax: Axes | None = None) -> Axes:
    """Loyalty and advocacy rates of the active customers, period by period.

    Data twin: ``jl.loyalty(events).by_period`` (a :class:`journey_lib.Loyalty` is accepted
    too). Each rate of :data:`LOYALTY_RATES` is a line over the share of that period's active
    customers; the period still running is drawn hollow on a dashed line.

    Examples
    --------
    >>> ax = plots.loyalty(jl.loyalty(events))  # doctest: +SKIP
    """
    table = getattr(result, "by_period", result)
    frame = _table(table, ("period", "customers", "complete", *LOYALTY_RATES), "loyalty")
    x = _naive_utc(frame["period"])
    ax = _axes(ax, (10, 5.5))
    for i, (rate, label) in enumerate(LOYALTY_RATES.items()):
        _complete_and_not(ax, x, frame[rate], frame["complete"], label=label, i=i)
    _percent(ax.yaxis)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=_NOTE, loc="upper left", bbox_to_anchor=(1.01, 1))
    period = _period_name(frame["period"])
    return _decorate(
        ax,
        f"Loyalty and advocacy per {period} (share of active customers; dashed: not over)",
        f"{period} starting (UTC)",
        "share of active customers",
    )


def rfm_segments(result: Any, *, ax: Axes | None = None) -> Axes:
    """Customers in each RFM segment, best segments on top.

    Data twin: :func:`journey_lib.rfm_segments` (one row per customer); every segment of
    :data:`journey_lib.analytics.rfm.RFM_SEGMENTS` is shown, empty ones included.

    Examples
    --------
    >>> rfm = jl.rfm(events, observation_end="2025-01-01")  # doctest: +SKIP
    >>> ax = plots.rfm_segments(jl.rfm_segments(rfm))  # doctest: +SKIP
    """
    frame = _table(result, ("segment",), "rfm_segments")
    counts = frame["segment"].value_counts().reindex(list(RFM_SEGMENTS), fill_value=0)
    total = int(counts.sum())
    ax = _axes(ax, (9, 6))
    bars = ax.barh(np.arange(len(counts)), counts.to_numpy(), color=PALETTE[0])
    labels = [f"{n:,} ({n / max(total, 1):.0%})" for n in counts]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=_NOTE)
    ax.set_yticks(np.arange(len(counts)), counts.index)
    ax.invert_yaxis()
    ax.margins(x=0.15)
    return _decorate(ax, f"RFM segments ({total:,} customers)", "customers", "segment")


# --------------------------------------------------------------------------------------------
# churn models
# --------------------------------------------------------------------------------------------


def roc_points(y: Any, scores: Any) -> pd.DataFrame:
    """The points of a ROC curve: the data twin of :func:`roc`.

    For each threshold ``t`` (the distinct scores, from the highest; scikit-learn's
    ``roc_curve``, which drops points on straight stretches), customers scoring at least
    ``t`` are flagged: ``true_positive_rate`` is the share of churners flagged,
    ``false_positive_rate`` the share of stayers flagged. The first row, threshold
    ``inf``, flags nobody.

    Parameters
    ----------
    y : array-like
        Outcomes: 0/1, booleans or text such as Yes/No (1 = churned).
    scores : array-like
        Scores, higher meaning likelier to churn, one per outcome.

    Returns
    -------
    pandas.DataFrame
        ``threshold``, ``false_positive_rate``, ``true_positive_rate``.

    Examples
    --------
    >>> roc_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
       threshold  false_positive_rate  true_positive_rate
    0        inf                  0.0                 0.0
    1       0.80                  0.0                 0.5
    2       0.40                  0.5                 0.5
    3       0.35                  0.5                 1.0
    4       0.10                  1.0                 1.0
    """
    labels, values = _scored(y, scores)
    fpr, tpr, thresholds = roc_curve(labels, values)
    return pd.DataFrame(
        {"threshold": thresholds, "false_positive_rate": fpr, "true_positive_rate": tpr}
    )


def pr_points(y: Any, scores: Any) -> pd.DataFrame:
    """The points of a precision-recall curve: the data twin of :func:`precision_recall`.

    For each threshold ``t`` (the distinct scores, from the highest; scikit-learn's
    ``precision_recall_curve``), customers scoring at least ``t`` are flagged: ``recall`` is
    the share of churners flagged, ``precision`` the share of the flagged who churned. The
    first row, threshold ``inf``, flags nobody: recall 0 and precision 1 by convention.
    Average precision is ``sum((recall[k] - recall[k-1]) * precision[k])`` over the rows.

    Parameters
    ----------
    y, scores : array-like
        As for :func:`roc_points`.

    Returns
    -------
    pandas.DataFrame
        ``threshold``, ``recall``, ``precision``, recall rising down the rows.

    Examples
    --------
    >>> pr_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).round(3)
       threshold  recall  precision
    0        inf     0.0      1.000
    1       0.80     0.5      1.000
    2       0.40     0.5      0.500
    3       0.35     1.0      0.667
    4       0.10     1.0      0.500
    """
    labels, values = _scored(y, scores)
    precision, recall, thresholds = precision_recall_curve(labels, values)
    # scikit-learn lists rising thresholds and ends with the (recall 0, precision 1) point,
    # which has no threshold; reversed, rows run from flagging nobody to flagging everyone.
    return pd.DataFrame(
        {
            "threshold": np.append(thresholds, np.inf)[::-1],
            "recall": recall[::-1],
            "precision": precision[::-1],
        }
    )


def roc(y: Any, scores: Any, *, ax: Axes | None = None) -> Axes:
    """ROC curves of one or more scorers on the same customers, with their AUC.

    Data twin: :func:`roc_points`, per scorer. ``scores`` is a mapping of scorer name to
    scores (``{"model": p, "baseline": q}``) or one array (named ``"model"``). The AUC in
    the legend is the area under the drawn points (trapezoids), which equals
    scikit-learn's ``roc_auc_score``.

    Examples
    --------
    >>> ax = plots.roc(y_test, {"model": model.predict_proba(X_test)})  # doctest: +SKIP
    """
    ax = _axes(ax, (6.5, 6))
    for i, (name, values) in enumerate(_scorers(scores).items()):
        points = roc_points(y, values)
        fpr, tpr = points["false_positive_rate"], points["true_positive_rate"]
        area = float(np.trapezoid(tpr, fpr))
        ax.plot(fpr, tpr, label=f"{name} (AUC {area:.3f})", **_line_style(i, markers=False))
    ax.plot([0, 1], [0, 1], linestyle=":", color=_GREY, label="chance")
    _unit_square(ax)
    ax.legend(loc="lower right", fontsize=_NOTE)
    return _decorate(
        ax, "ROC curve", "false positive rate (stayers flagged)", "true positive rate (churners)"
    )


def precision_recall(y: Any, scores: Any, *, ax: Axes | None = None) -> Axes:
    """Precision-recall curves of one or more scorers, with their average precision.

    Data twin: :func:`pr_points`, per scorer; ``scores`` as for :func:`roc`. Curves are
    steps, as average precision integrates them; the dotted line is the base rate, the
    precision of flagging customers at random.

    Examples
    --------
    >>> ax = plots.precision_recall(y_test, {"model": p})  # doctest: +SKIP
    """
    ax = _axes(ax, (6.5, 6))
    for i, (name, values) in enumerate(_scorers(scores).items()):
        points = pr_points(y, values)
        recall, precision = points["recall"], points["precision"]
        average = float((recall.diff().fillna(0) * precision).sum())
        ax.plot(
            recall,
            precision,
            drawstyle="steps-pre",
            label=f"{name} (AP {average:.3f})",
            **_line_style(i, markers=False),
        )
    rate = float(binary_labels(y).mean())
    ax.axhline(rate, linestyle=":", color=_GREY, label=f"base rate ({rate:.1%})")
    _unit_square(ax)
    ax.legend(loc="upper right", fontsize=_NOTE)
    return _decorate(
        ax, "Precision-recall curve", "recall (churners flagged)", "precision (flagged who churn)"
    )


def calibration(evaluation: Evaluation | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Observed churn rate against mean predicted probability, per score bin.

    Data twin: ``Evaluation.calibration`` of :mod:`journey_lib.churn` (pass the Evaluation
    or its table): ten score-quantile bins, error bars the bootstrap interval. A calibrated
    model's points lie on the diagonal.

    Examples
    --------
    >>> ax = plots.calibration(model.evaluate(X_test, y_test))  # doctest: +SKIP
    """
    table = _evaluation_table(evaluation, "calibration")
    needed = ("mean_score", "churn_rate", "churn_rate_low", "churn_rate_high")
    table = _table(table, needed, "Evaluation.calibration").astype(dict.fromkeys(needed, "float64"))
    rate = table["churn_rate"].to_numpy()
    errors = np.vstack([rate - table["churn_rate_low"], table["churn_rate_high"] - rate])
    ax = _axes(ax, (6.5, 6))
    ax.errorbar(
        table["mean_score"].to_numpy(),
        rate,
        yerr=np.nan_to_num(np.clip(errors, 0, None)),
        color=PALETTE[0],
        marker=MARKERS[0],
        capsize=3,
        label=f"score bins ({_confidence(evaluation)} interval)",
    )
    top = float(np.nanmax([*table["mean_score"], *table["churn_rate_high"], 0.05]))
    limit = min(1.0, top * 1.1)
    ax.plot([0, limit], [0, limit], linestyle=":", color=_GREY, label="perfect calibration")
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    _percent(ax.xaxis)
    _percent(ax.yaxis)
    ax.legend(loc="upper left", fontsize=_NOTE)
    return _decorate(ax, "Calibration", "mean predicted churn probability", "observed churn rate")


def gains(evaluation: Evaluation | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Cumulative gains: the share of churners captured by contacting the top customers.

    Data twin: ``Evaluation.gains`` (the Evaluation or its table), rows from the top
    decile down; the band is the bootstrap interval, the diagonal a random order.

    Examples
    --------
    >>> ax = plots.gains(model.evaluate(X_test, y_test))  # doctest: +SKIP
    """
    table = _table(
        _evaluation_table(evaluation, "gains"),
        ("decile", "capture", "capture_low", "capture_high"),
        "Evaluation.gains",
    )
    shares = np.arange(len(table) + 1) / len(table)
    ax = _axes(ax, (6.5, 6))
    ax.plot(
        shares,
        np.r_[0.0, table["capture"]],
        color=PALETTE[0],
        marker=MARKERS[0],
        label="model",
    )
    ax.fill_between(
        shares,
        np.r_[0.0, table["capture_low"]],
        np.r_[0.0, table["capture_high"]],
        color=PALETTE[0],
        alpha=0.2,
        label=f"{_confidence(evaluation)} interval",
    )
    ax.plot([0, 1], [0, 1], linestyle=":", color=_GREY, label="random order")
    _unit_square(ax)
    ax.legend(loc="lower right", fontsize=_NOTE)
    return _decorate(
        ax,
        "Cumulative gains",
        "customers contacted, highest scores first",
        "churners captured",
    )


def lift(evaluation: Evaluation | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Cumulative lift: the churn rate among the top customers over the overall rate.

    Data twin: ``Evaluation.gains`` (the Evaluation or its table); error bars are the
    bootstrap interval; 1 is no better than random.

    Examples
    --------
    >>> ax = plots.lift(model.evaluate(X_test, y_test))  # doctest: +SKIP
    """
    table = _table(
        _evaluation_table(evaluation, "gains"),
        ("decile", "lift", "lift_low", "lift_high"),
        "Evaluation.gains",
    )
    x = np.arange(len(table))
    errors = np.vstack([table["lift"] - table["lift_low"], table["lift_high"] - table["lift"]])
    ax = _axes(ax, (8, 5))
    ax.bar(
        x,
        table["lift"],
        yerr=np.nan_to_num(np.clip(errors, 0, None)),
        capsize=3,
        color=PALETTE[0],
        label=f"model ({_confidence(evaluation)} interval)",
    )
    ax.axhline(1, linestyle=":", color=_GREY, label="random order")
    ax.set_xticks(x, [f"{(i + 1) / len(table):.0%}" for i in x])
    ax.legend(fontsize=_NOTE)
    return _decorate(
        ax,
        "Cumulative lift",
        "top share of customers by score",
        "lift (churn rate in the top / overall)",
    )


def importance(result: Importance, *, n: int = 15, ax: Axes | None = None) -> Axes:
    """Permutation importance of the top ``n`` feature groups, with intervals.

    A thin wrapper of :meth:`journey_lib.churn.Importance.plot` (its data twin is
    ``Importance.table``) that adds the house fonts and axis label.

    Examples
    --------
    >>> ax = plots.importance(model.importance(X_test, y_test))  # doctest: +SKIP
    """
    shown = min(n, len(result.table))
    ax = result.plot(n=n, ax=_axes(ax, (9, 1.5 + 0.4 * shown)))
    return _decorate(ax, ax.get_title(), ax.get_xlabel(), "feature group")


def partial_dependence(result: PartialDependence, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Partial dependence panels, one per feature, titled and with percentage axes.

    A thin wrapper of :meth:`journey_lib.churn.PartialDependence.plot` (its data twin is
    ``PartialDependence.table``). Returns the Figure.

    Examples
    --------
    >>> fig = plots.partial_dependence(model.partial_dependence(X, ["recency_days"]))
    ... # doctest: +SKIP
    """
    features = list(dict.fromkeys(result.table["feature"]))
    drawn = list(result.plot(axes=_panels(len(features)) if axes is None else axes))
    for ax, feature in zip(drawn, features, strict=False):
        _percent(ax.yaxis)
        _decorate(ax, feature, ax.get_xlabel(), ax.get_ylabel())
    figure = drawn[0].figure
    figure.suptitle(
        f"Partial dependence: mean churn probability ({result.rows:,} customers)",
        fontsize=_TITLE,
    )
    return figure


def profit_curve(result: Targeting, *, ax: Axes | None = None) -> Axes:
    """Expected (and realised) profit of contacting the top customers, the choice marked.

    A thin wrapper of :meth:`journey_lib.churn.Targeting.plot` (its data twin is
    ``Targeting.curve``) that adds a title and percentage axis.

    Examples
    --------
    >>> ax = plots.profit_curve(model.target(X, offer_cost=5, save_rate=0.3))
    ... # doctest: +SKIP
    """
    ax = result.plot(ax=_axes(ax, (9, 5.5)))
    _percent(ax.xaxis)
    title = (
        f"Retention offer: profit by customers contacted (cost {result.offer_cost:,.2f}, "
        f"save rate {result.save_rate:.0%}; dashed: the choice)"
    )
    return _decorate(ax, textwrap.fill(title, 60), ax.get_xlabel(), ax.get_ylabel())


# --------------------------------------------------------------------------------------------
# attribution and value
# --------------------------------------------------------------------------------------------


def attribution(result: Any, *, ax: Axes | None = None) -> Axes:
    """Each channel's credit for the conversions, largest first, with its interval.

    Data twin: :func:`journey_lib.attribute` (one row per channel or event, its column
    first; ``conversions`` credit and, with ``n_boot``, ``conversions_lower`` and
    ``conversions_upper`` drawn as error bars).

    Examples
    --------
    >>> ax = plots.attribution(jl.attribute(events, n_boot=200))  # doctest: +SKIP
    """
    frame = _table(result, ("conversions", "share"), "attribute")
    if "stage" in frame.columns:
        raise JourneyDataError(
            "plots.attribution draws one goal; for attribute_stages() pick a stage first, "
            "e.g. table[table['stage'] == 'Purchase'].drop(columns='stage')"
        )
    label = frame.columns[0]
    frame = frame.sort_values("conversions", ascending=False, kind="stable")
    rows = np.arange(len(frame))
    ax = _axes(ax, (9, max(3.5, 0.45 * len(frame) + 1.5)))
    error = None
    if {"conversions_lower", "conversions_upper"} <= set(frame.columns):
        error = np.vstack(
            [
                frame["conversions"] - frame["conversions_lower"],
                frame["conversions_upper"] - frame["conversions"],
            ]
        ).clip(min=0)
    bars = ax.barh(rows, frame["conversions"], xerr=error, color=PALETTE[0], capsize=3)
    ax.bar_label(bars, labels=[_pct(s) for s in frame["share"]], padding=4, fontsize=_NOTE)
    ax.set_yticks(rows, _labels(frame[label]))
    ax.invert_yaxis()
    ax.margins(x=0.12)
    total = frame["conversions"].sum()
    title = f"Credit for {total:,.0f} conversions by {label}"
    if error is not None:
        title += " (bars: bootstrap interval)"
    return _decorate(ax, textwrap.fill(title, 60), "conversions credited", label)


def attribution_models(result: Any, *, ax: Axes | None = None) -> Axes:
    """Every model's split of the credit, as shares of each model's total (a heatmap).

    Data twin: :func:`journey_lib.compare_attribution` (one row per channel, one column per
    model); each column is divided by its sum, so models that agree look alike whatever
    the measure compared.

    Examples
    --------
    >>> ax = plots.attribution_models(jl.compare_attribution(events))  # doctest: +SKIP
    """
    frame = to_pandas(result, what="the compare_attribution result")
    label = frame.columns[0]
    models = [c for c in frame.columns[1:] if pd.api.types.is_numeric_dtype(frame[c])]
    if not models:
        raise JourneyDataError(
            f"expected a compare_attribution() result: one label column, then one numeric "
            f"column per model; got {list(frame.columns)}"
        )
    matrix = frame.set_index(_labels(frame[label]))[models]
    matrix = matrix / matrix.sum().replace(0, np.nan)
    ax = _axes(ax, (1.3 * len(models) + 4, 0.45 * len(matrix) + 2))
    _heatmap(ax, matrix, share=True, annotate=None, label="share of the model's credit")
    ax.set_xticks(ax.get_xticks(), [m.replace("_", " ") for m in models])
    return _decorate(ax, "Attribution models side by side", "model", label)


def customer_value(result: Any, *, top: float = 0.2, ax: Axes | None = None) -> Axes:
    """How concentrated customer value is: customers ranked by lifetime value against their
    cumulative share of it (a Lorenz curve), with the ``top`` share marked.

    Data twin: :func:`journey_lib.clv.value_table` (one row per customer, most valuable
    first; the ``clv`` column is drawn). The diagonal is equal value for everyone.

    Examples
    --------
    >>> ax = plots.customer_value(clv.value_table(bg, gg, rfm))  # doctest: +SKIP
    """
    frame = _table(result, ("customer_id", "clv"), "value_table")
    if not 0 < top < 1:
        raise JourneyParameterError(f"top must be a share between 0 and 1, got {top!r}")
    values = np.sort(frame["clv"].to_numpy(dtype="float64"))[::-1]
    total = values.sum()
    if not len(values) or total <= 0:
        raise JourneyDataError("no customer has a positive lifetime value to draw")
    customers = np.arange(len(values) + 1) / len(values)
    share = np.r_[0.0, np.cumsum(values) / total]
    held = float(np.interp(top, customers, share))
    ax = _axes(ax, (7, 6))
    ax.plot(customers, share, color=PALETTE[0], linewidth=2, label="customers by value")
    ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", label="equal value")
    ax.plot([top, top, 0], [0, held, held], color=PALETTE[3], linewidth=1, linestyle=":")
    ax.annotate(
        f"top {top:.0%} hold {held:.0%}",
        (top, held),
        xytext=(8, -16),
        textcoords="offset points",
        fontsize=_NOTE,
    )
    _unit_square(ax)
    ax.legend(loc="lower right", fontsize=_NOTE)
    title = f"Lifetime value of {len(values):,} customers: {total:,.0f} in all"
    return _decorate(ax, title, "customers, most valuable first", "share of lifetime value")


# --------------------------------------------------------------------------------------------
# teaching
# --------------------------------------------------------------------------------------------


def what_if(result: Any, *, ax: Axes | None = None) -> Axes:
    """Each outcome of the baseline beside the scenario's, with the change and its margin.

    Data twin: :func:`journey_lib.what_if`. Bars are percentages (every measure is a share
    or a level from 0 to 1); the label of a scenario bar gives the change in points, and
    ``±`` the margin within which chance alone would put it.

    Examples
    --------
    >>> ax = plots.what_if(jl.what_if(sim, keeping_promises=0.6))  # doctest: +SKIP
    """
    frame = _table(result, ("measure", "baseline", "scenario", "change", "margin"), "what_if")
    rows = np.arange(len(frame))
    ax = _axes(ax, (9, 5))
    height = 0.38
    ax.barh(rows - height / 2, frame["baseline"], height, color=_GREY, label="baseline")
    bars = ax.barh(rows + height / 2, frame["scenario"], height, color=PALETTE[0], label="scenario")
    labels = [
        f"{change * 100:+.1f} pts (±{margin * 100:.1f})"
        for change, margin in zip(frame["change"], frame["margin"], strict=True)
    ]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=_NOTE)
    ax.set_yticks(rows, frame["measure"].str.replace("_", " "))
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25)
    _percent(ax.xaxis)
    ax.legend(loc="lower right", fontsize=_NOTE)
    changes = getattr(result, "attrs", {}).get("changes") or {}
    scenario = ", ".join(f"{name} {value:g}" for name, value in changes.items()) or "no change"
    title = textwrap.fill(f"What if: {scenario}", 70)
    return _decorate(ax, title, "share of buyers (trust: its level)", "outcome")


# --------------------------------------------------------------------------------------------
# shared machinery
# --------------------------------------------------------------------------------------------


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax``, or the Axes of a new figure of ``size`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, layout="constrained")[1]


def _panels(n: int) -> list[Axes]:
    """``n`` panels sharing a y axis, three to a row, in a new laid-out figure."""
    import matplotlib.pyplot as plt

    width = min(3, n)
    height = -(-n // width)
    figure, grid = plt.subplots(
        height,
        width,
        figsize=(5 * width, 4 * height + 0.5),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    panels = list(grid.ravel())
    for spare in panels[n:]:
        figure.delaxes(spare)
    return panels[:n]


def _decorate(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    """Title, axis labels and readable font sizes."""
    ax.set_title(title, fontsize=_TITLE)
    ax.set_xlabel(xlabel, fontsize=_LABEL)
    ax.set_ylabel(ylabel, fontsize=_LABEL)
    ax.tick_params(labelsize=_TICK)
    return ax


def _percent(axis: Any) -> None:
    """Format an axis' ticks (shares from 0 to 1) as percentages."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1))


def _unit_square(ax: Axes) -> None:
    """Both axes from 0 to 100%, square."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_aspect("equal")
    _percent(ax.xaxis)
    _percent(ax.yaxis)


def _line_style(i: int, *, markers: bool = True) -> dict[str, Any]:
    """The ``i``-th series' colour, marker (or dash pattern) and width."""
    style: dict[str, Any] = {"color": PALETTE[i % len(PALETTE)], "linewidth": 2}
    if markers:
        style["marker"] = MARKERS[i % len(MARKERS)]
    else:
        style["linestyle"] = ("-", "--", "-.", (0, (5, 1, 1, 1)))[i % 4]
    return style


def _point_style(i: int) -> dict[str, Any]:
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}


def _heatmap(
    ax: Axes, matrix: pd.DataFrame, *, share: bool, annotate: bool | None, label: str | None
) -> None:
    """A seaborn heatmap of ``matrix``: shares as percentages from 0 to 100%, missing cells
    blank, numbers written in the cells when it has at most ``_ANNOTATE_UP_TO`` rows and
    columns (or as ``annotate`` says)."""
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter

    if annotate is None:
        annotate = max(matrix.shape) <= _ANNOTATE_UP_TO
    colourbar: dict[str, Any] = {"label": label or "count"}
    if share:
        colourbar["format"] = PercentFormatter(xmax=1)
    sns.heatmap(
        matrix.astype("float64"),
        ax=ax,
        cmap=SEQUENTIAL,
        vmin=0,
        vmax=1 if share else None,
        annot=annotate,
        fmt=".0%" if share else ",.0f",
        annot_kws={"fontsize": _NOTE},
        linewidths=0.5,
        linecolor="white",
        cbar_kws=colourbar,
    )
    if max(len(str(c)) for c in matrix.columns) > 3:  # long names would overlap
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.tick_params(axis="y", labelrotation=0)


def _complete_and_not(
    ax: Axes,
    x: pd.Series,
    y: pd.Series,
    complete: pd.Series,
    *,
    label: str,
    open_label: str | None = None,
    i: int = 0,
) -> None:
    """``y`` over ``x`` in the ``i``-th style: complete points solid; the rest hollow on a
    dashed line from the last complete point (in the legend only with ``open_label``)."""
    done = complete.astype(bool).to_numpy()
    style = _line_style(i)
    ax.plot(x[done], y[done], label=label, **style)
    if (~done).any():
        tail = ~done | np.r_[~done[1:], False]
        ax.plot(
            x[tail],
            y[tail],
            markerfacecolor="white",
            label=open_label or "_nolegend_",
            **{**style, "linestyle": "--"},
        )


def _table(result: Any, columns: Sequence[str], twin: str) -> pd.DataFrame:
    """``result`` as pandas, checked to hold ``columns``."""
    frame = to_pandas(result, what=f"the {twin} result")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"expected a {twin}() result; the frame lacks {missing} (it has {list(frame.columns)})"
        )
    return frame


def _evaluation_table(evaluation: Any, name: str) -> Any:
    return getattr(evaluation, name) if isinstance(evaluation, Evaluation) else evaluation


def _confidence(evaluation: Any) -> str:
    return f"{evaluation.confidence:.0%}" if isinstance(evaluation, Evaluation) else "bootstrap"


def _breakdown(frame: pd.DataFrame) -> str | None:
    """The breakdown column of a funnel result, if any."""
    extra = [c for c in frame.columns if c not in _FUNNEL_COLUMNS]
    return extra[0] if extra else None


def _labels(values: pd.Series) -> pd.Series:
    """Group values as display text, missing ones as ``(missing)``."""
    return values.astype("object").where(values.notna(), _MISSING_LABEL).astype("str")


def _check_top(top: Any) -> None:
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(PALETTE):
        raise JourneyParameterError(
            f"top must be a whole number from 1 to {len(PALETTE)} (the colours a reader can "
            f"tell apart); got {top!r}"
        )


def _cap(frame: pd.DataFrame, cap: int | str | None) -> int | None:
    """The touchpoint count at which the tail is folded, or None for no folding."""
    if cap is None:
        return None
    largest = int(frame["touchpoints"].max()) if len(frame) else 0
    if cap == "auto":
        counts = frame.groupby("touchpoints")["customers"].sum().sort_index()
        covered = counts.cumsum() / counts.sum()
        cap = int(covered.index[covered.to_numpy() >= 0.95][0]) if len(counts) else 0
    elif isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise JourneyParameterError(f"cap must be 'auto', None or a whole number >= 1; got {cap!r}")
    return cap if cap < largest else None


def _scorers(scores: Any) -> dict[str, Any]:
    """Scorer name -> scores, from a mapping or a single array."""
    if isinstance(scores, Mapping):
        if not scores:
            raise JourneyParameterError("scores must name at least one scorer")
        return dict(scores)
    return {"model": scores}


def _scored(y: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes as 0/1 and scores as floats, checked to match and to be finite."""
    labels = binary_labels(y).to_numpy()
    values = np.asarray(scores, dtype="float64")
    if values.shape != labels.shape:
        raise JourneyDataError(f"{len(labels)} outcomes but scores of shape {values.shape}")
    if not np.isfinite(values).all():
        raise JourneyDataError(
            f"{int((~np.isfinite(values)).sum())} scores are missing or infinite"
        )
    return labels, values


def _naive_utc(values: pd.Series) -> pd.Series:
    """Times as naive UTC, which matplotlib places on a date axis without a zone."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


_PERIOD_DAYS: tuple[tuple[str, int, int], ...] = (
    ("day", 1, 1),
    ("week", 7, 7),
    ("month", 28, 31),
    ("quarter", 89, 92),
    ("year", 365, 366),
)


def _period_name(starts: pd.Series) -> str:
    """The calendar period between consecutive period starts, for labels ("period" when it
    cannot be told)."""
    distinct = pd.Series(pd.to_datetime(starts).unique()).sort_values()
    gaps = distinct.diff().dropna().dt.days
    if gaps.empty:
        return "period"
    shortest = gaps.min()
    return next((name for name, lo, hi in _PERIOD_DAYS if lo <= shortest <= hi), "period")


_DATE_LABEL: dict[str, Callable[[pd.Timestamp], str]] = {
    "month": lambda t: t.strftime("%Y-%m"),
    "quarter": lambda t: f"{t.year} Q{t.quarter}",
    "year": lambda t: str(t.year),
}


def _date_labels(starts: pd.Series, period: str) -> list[str]:
    """Period starts as short text: 2024-03 for months, 2024 Q1, 2024, else the date."""
    label = _DATE_LABEL.get(period, lambda t: t.strftime("%Y-%m-%d"))
    return [label(pd.Timestamp(t)) for t in starts]


def _pct(value: float, decimals: int = 0) -> str:
    """A share as a percentage, a dash when missing."""
    return "–" if pd.isna(value) else f"{value:.{decimals}%}"
