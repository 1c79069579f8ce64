"""Figures of touchpoints, journeys and funnels: what customers do, in what order, and how
many reach each step.

Each function draws the result of one journey_lib function, its data twin, named in its
docstring, and returns the Figure. A figure that draws one journey refuses a result broken
down ``by=`` into several segments (their rows would be mixed) and draws one segment's rows
as that segment alone.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..analytics.paths import as_matrix
from ..analytics.segments import one_segment
from ..analytics.stages import get_framework
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ._style import (
    GREY,
    HATCHES,
    MARKERS,
    NOTE,
    PALETTE,
    axes_or_new,
    check_top,
    complete_and_not,
    decorate,
    display_labels,
    heatmap,
    line_style,
    naive_utc,
    pct,
    percent,
    period_name,
    point_style,
    twin_table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "funnel",
    "funnel_breakdown",
    "funnel_trend",
    "paths",
    "time_to_convert",
    "timeline",
    "touchpoints_per_customer",
    "transition_matrix",
    "volumes",
]


def volumes(
    result: IntoFrame,
    *,
    value: Literal["touchpoints", "customers"] = "touchpoints",
    top: int = 7,
    ax: Axes | None = None,
) -> Figure:
    """Touchpoints (or distinct customers) per period: one line per stage, channel or event.

    Data twin: :func:`journey_lib.volumes`. Lines follow the twin's group order (framework
    order for stages); with more than ``top`` groups only the ``top`` with the most
    touchpoints are drawn, and the title says so. The period not yet over is drawn hollow
    on a dashed line, so its partial count does not read as a drop.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.volumes(jl.volumes(events, by="channel"))
    >>> figure.axes[0].get_title()
    'Touchpoints per week by channel (the 7 largest of 12)'
    >>> plt.close(figure)
    """
    check_choice("value", value, ("touchpoints", "customers"))
    check_top(top)
    columns = ("period", "touchpoints", "customers", "complete")
    frame = twin_table(result, columns, "volumes")
    period = period_name(frame["period"])
    what = "Touchpoints" if value == "touchpoints" else "Customers"
    ax = axes_or_new(ax, (10, 5))
    groups = [c for c in frame.columns if c not in columns]
    labels = display_labels(frame[groups[0]]) if groups else pd.Series("all", index=frame.index)
    order = list(dict.fromkeys(labels))
    largest = set(frame.groupby(labels)["touchpoints"].sum().nlargest(top).index)
    shown = [g for g in order if g in largest]
    x = naive_utc(frame["period"])
    for i, group in enumerate(shown):
        part = (labels == group).to_numpy()
        complete_and_not(ax, x[part], frame[value][part], frame["complete"][part], label=group, i=i)
    title = f"{what} per {period}"
    if groups:
        ax.legend(title=groups[0], fontsize=NOTE, title_fontsize=NOTE)
        title += f" by {groups[0]}"
        if len(shown) < len(order):
            title += f" (the {len(shown)} largest of {len(order)})"
    ax.set_ylim(bottom=0)
    ylabel = "touchpoints" if value == "touchpoints" else "distinct customers"
    return decorate(ax, title, f"{period} starting (UTC; hollow: not over)", ylabel)


def touchpoints_per_customer(
    result: IntoFrame,
    *,
    cap: int | Literal["auto"] | None = "auto",
    top: int = 7,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of touchpoints per customer; by group, one line of shares per group.

    Data twin: :func:`journey_lib.touchpoints_per_customer`. Without a group, bars give the
    customers with each number of touchpoints; with one, lines give each group's shares (so
    groups of different sizes compare), the ``top`` groups with the most customers.

    ``cap`` folds the long tail into one last bar (or point): customers with ``cap`` or more
    touchpoints. ``"auto"`` caps at the count that 95% of customers do not exceed; ``None``
    draws every count. Missing customers (hidden on a report page) are gaps; the folded bar
    sums the counts shown.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.touchpoints_per_customer(jl.touchpoints_per_customer(events))
    >>> figure.axes[0].texts[-1].get_text()  # 95% of customers have fewer touchpoints
    '81+'
    >>> plt.close(figure)
    """
    check_top(top)
    frame = twin_table(result, ("touchpoints", "customers", "share"), "touchpoints_per_customer")
    limit = _cap(frame, cap)
    folded = frame.assign(touchpoints=frame["touchpoints"].clip(upper=limit))
    groups = [c for c in frame.columns if c not in ("touchpoints", "customers", "share")]
    ax = axes_or_new(ax, (10, 5))
    if not groups:
        counts = folded.groupby("touchpoints")["customers"].sum(min_count=1)
        bars = ax.bar(counts.index, counts.to_numpy(), color=PALETTE[0], width=0.85)
        if limit is not None:
            ax.bar_label(bars, labels=[""] * (len(counts) - 1) + [f"{limit}+"], fontsize=NOTE)
        title, ylabel = "Touchpoints per customer", "customers"
    else:
        by = groups[0]
        labels = display_labels(frame[by])
        largest = set(frame.groupby(labels)["customers"].sum().nlargest(top).index)
        shown = [g for g in dict.fromkeys(labels) if g in largest]
        shares = folded.assign(_g=labels).groupby(["_g", "touchpoints"])["share"].sum()
        for i, group in enumerate(shown):
            # Counts no customer of the group has are 0, drawn as such rather than bridged.
            mine = shares[group]
            mine = mine.reindex(range(1, mine.index.max() + 1), fill_value=0.0)
            ax.plot(mine.index, mine.to_numpy(), label=group, **line_style(i))
        ax.legend(title=by, fontsize=NOTE, title_fontsize=NOTE)
        percent(ax.yaxis)
        title, ylabel = f"Touchpoints per customer by {by}", "share of the group's customers"
    xlabel = "touchpoints per customer"
    if limit is not None:
        xlabel += f" (last: {limit} or more)"
    ax.set_ylim(bottom=0)
    return decorate(ax, title, xlabel, ylabel)


def timeline(
    result: pd.DataFrame,
    *,
    framework: Any = "customer_journey",
    marks: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Each chosen customer's touchpoints along a line, coloured and shaped by stage.

    Data twin: :func:`journey_lib.timeline`. One row per customer, in the twin's order (the
    first on top), at the days since the customer's first touchpoint; ``framework`` (the one
    the twin used) orders the legend.

    With ``marks`` (the change windows of :class:`journey_lib.widgets.CustomerTimeline`'s
    ``.windows``: ``customer_id``, ``start``, ``end``, instants, the end excluded), the twin
    needs a boolean ``in_change`` column (the widget's ``.marked``): its touchpoints where
    ``in_change`` is True are ringed in black, and each window is shaded on its customer's
    row from ``start`` to ``end`` in days since that customer's first touchpoint, cut to
    the drawn x range so that a long window does not squeeze the customer's touchpoints.
    The legend adds "inside a detected change" and "detected change window". Windows of
    customers not in the twin are left out. Without ``marks`` nothing of this is drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.timeline(jl.timeline(events, [3, 7, 11]))
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()]
    ['3', '7', '11']
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("customer_id", "stage", "days_since_first"), "timeline")
    customers = list(dict.fromkeys(frame["customer_id"]))
    row = frame["customer_id"].map({c: i for i, c in enumerate(customers)})
    ax = axes_or_new(ax, (10, 1.5 + 0.6 * len(customers)))
    ends = frame.groupby(row)["days_since_first"].max()
    ax.hlines(ends.index, 0, ends.to_numpy(), color=GREY, linewidth=1.5, zorder=1)
    stages = display_labels(frame["stage"])
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
            **point_style(i),
        )
    if marks is not None:
        _change_marks(ax, frame, row, marks)
    ax.set_yticks(range(len(customers)), [str(c) for c in customers])
    ax.set_ylim(len(customers) - 0.5, -0.5)  # the first customer on top
    ax.legend(
        title="stage",
        fontsize=NOTE,
        title_fontsize=NOTE,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    return decorate(
        ax,
        "Customer journeys: touchpoints by stage",
        "days since the customer's first touchpoint",
        "customer",
    )


def _change_marks(ax: Axes, frame: pd.DataFrame, row: pd.Series, marks: pd.DataFrame) -> None:
    """Ring the touchpoints inside a change and shade the change windows (see
    :func:`timeline`)."""
    if "in_change" not in frame.columns or "timestamp" not in frame.columns:
        raise JourneyDataError(
            "marks need the touchpoints' in_change and timestamp columns (CustomerTimeline's "
            f".marked); the frame has {list(frame.columns)}"
        )
    missing = [c for c in ("customer_id", "start", "end") if c not in marks.columns]
    if missing:
        raise JourneyDataError(
            f"marks must be change windows with customer_id, start and end; they lack {missing}"
        )
    inside = frame["in_change"].to_numpy(dtype=bool)
    if inside.any():
        ax.scatter(
            frame["days_since_first"][inside],
            row[inside],
            s=170,
            zorder=3,
            facecolors="none",
            edgecolors=PALETTE[6],
            linewidths=1.6,
            label="inside a detected change",
        )
    # Each customer's own origin: a window in days since that customer's first touchpoint.
    first = naive_utc(frame["timestamp"]).groupby(frame["customer_id"]).min()
    shown = marks[marks["customer_id"].isin(first.index)]
    if shown.empty:
        return
    origin = first.reindex(shown["customer_id"]).to_numpy()
    day = np.timedelta64(1, "D")
    left, right = ax.get_xlim()  # the touchpoints' range, before the windows widen it
    start = np.maximum((naive_utc(shown["start"]).to_numpy() - origin) / day, left)
    end = np.minimum((naive_utc(shown["end"]).to_numpy() - origin) / day, right)
    rows = shown["customer_id"].map(dict(zip(frame["customer_id"], row, strict=False)))
    ax.barh(
        rows.to_numpy(),
        np.maximum(end - start, 0.0),
        left=start,
        height=0.8,
        color=PALETTE[3],
        alpha=0.15,
        zorder=0,
        label="detected change window",
    )
    ax.set_xlim(left, right)


# --------------------------------------------------------------------------------------------
# journeys and funnels
# --------------------------------------------------------------------------------------------


def transition_matrix(
    result: IntoFrame, *, annotate: bool | None = None, ax: Axes | None = None
) -> Figure:
    """Heatmap of next-touchpoint probabilities (or counts): rows ``from``, columns ``to``.

    Data twin: :func:`journey_lib.transition_matrix`, long, or pivoted by
    :func:`journey_lib.as_matrix`. Cells are annotated (as percentages for probabilities)
    when the matrix is at most 14 states wide and high, unless ``annotate`` says otherwise.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> staged = jl.assign_stages(events)
    >>> figure = jl.plots.transition_matrix(jl.transition_matrix(staged, of="stage"))
    >>> figure.axes[0].get_title()
    'Next touchpoint: transition probabilities'
    >>> plt.close(figure)
    """
    frame = to_pandas(result, what="the transition_matrix result")
    if {"from", "to"} <= set(frame.columns):
        matrix = as_matrix(one_segment(frame, "from", "the transition heatmap"))
    else:
        matrix = frame
    if matrix.size == 0:
        raise JourneyDataError(
            "no transition to draw: the table is empty (a `by` column without values?)"
        )
    share = all(pd.api.types.is_float_dtype(t) for t in matrix.dtypes)
    rows, columns = matrix.shape
    ax = axes_or_new(ax, (max(6, 2 + 0.6 * columns), max(4.5, 1.5 + 0.45 * rows)))
    heatmap(ax, matrix, share=share, annotate=annotate, label="probability" if share else None)
    what = "transition probabilities" if share else "transition counts"
    return decorate(ax, f"Next touchpoint: {what}", "to (next touchpoint)", "from")


def paths(result: IntoFrame, *, wrap: int = 50, ax: Axes | None = None) -> Figure:
    """The most frequent journey openings as horizontal bars, most frequent on top.

    Data twin: :func:`journey_lib.paths`. Bars are counts, labelled with their share of all
    sequences; long paths wrap at ``wrap`` characters.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> twin = jl.paths(events, max_steps=4, top=5)
    >>> figure = jl.plots.paths(twin)
    >>> [bar.get_width() for bar in figure.axes[0].patches] == twin["count"].tolist()
    True
    >>> plt.close(figure)
    """
    frame = one_segment(
        twin_table(result, ("path", "count", "share"), "paths"), "path", "plots.paths"
    )
    labels = [textwrap.fill(p, wrap, break_long_words=False) for p in frame["path"]]
    lines = sum(label.count("\n") + 1 for label in labels)
    ax = axes_or_new(ax, (11, 1.5 + 0.3 * lines + 0.15 * len(frame)))
    bars = ax.barh(np.arange(len(frame)), frame["count"], color=PALETTE[0])
    ax.bar_label(bars, labels=[pct(s, 1) for s in frame["share"]], padding=3, fontsize=NOTE)
    ax.set_yticks(np.arange(len(frame)), labels)
    ax.invert_yaxis()
    ax.margins(x=0.12)
    return decorate(
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


def funnel(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Customers at each step as bars, with conversion and the drop-off between steps.

    Data twin: :func:`journey_lib.funnel` (without a breakdown: see
    :func:`funnel_breakdown`) or :func:`journey_lib.stage_funnel`. Each bar is labelled
    with its customers and ``conversion_rate`` (of step 1; for stages, of the customers who
    entered the journey); between bars, the drop-off is ``1 - step_conversion_rate``. A
    step whose customers are missing (hidden on a report page, see
    :func:`journey_lib.report.tables.private`) is left blank, without labels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.funnel(jl.funnel(events, ["ad_view", "site_visit", "purchase"]))
    >>> [int(bar.get_height()) for bar in figure.axes[0].patches]
    [296, 218, 74]
    >>> [text.get_text() for text in figure.axes[0].texts[-2:]]  # drop-off between bars
    ['−26%', '−66%']
    >>> plt.close(figure)
    """
    frame = twin_table(result, _FUNNEL, "funnel or stage_funnel")
    varying = [c for c in _extra(frame) if frame[c].nunique(dropna=False) > 1]
    if varying:
        raise JourneyParameterError(
            f"this funnel is broken down by {varying}; draw it with plots.funnel_breakdown "
            "(one column) or plots.segment_stage_funnels (a panel per segment)"
        )
    staged = "stage" in frame.columns
    names = frame["stage"] if staged else frame.get("event", frame["step"])
    x = np.arange(len(frame))
    ax = axes_or_new(ax, (max(6, 2 * len(frame)), 5.5))
    bars = ax.bar(x, frame["customers"], color=PALETTE[0], width=0.6)
    base = "of entrants" if staged else "of step 1"
    ax.bar_label(
        bars,
        labels=[
            "" if pd.isna(n) else f"{n:,.0f}\n{pct(r)} {base}"
            for n, r in zip(frame["customers"], frame["conversion_rate"], strict=True)
        ],
        padding=3,
        fontsize=NOTE,
    )
    for i in range(1, len(frame)):
        drop = 1 - frame["step_conversion_rate"].iloc[i]
        if pd.isna(drop) or pd.isna(frame["customers"].iloc[i]):
            continue  # a hidden step (a page's min_cell): no drop to write
        ax.annotate(
            f"−{pct(drop)}",
            xy=(i - 0.5, frame["customers"].iloc[i] / 2),
            ha="center",
            va="center",
            color=PALETTE[3],
            fontsize=NOTE,
            fontweight="bold",
        )
    ax.set_xticks(x, [textwrap.fill(str(n), 16) for n in names])
    ax.margins(y=0.22)
    title = "Journey stages reached" if staged else "Conversion funnel"
    return decorate(
        ax,
        f"{title} (red: drop-off from the previous {'stage' if staged else 'step'})",
        "stage" if staged else "step",
        "customers",
    )


def funnel_breakdown(result: IntoFrame, *, top: int = 7, ax: Axes | None = None) -> Figure:
    """Conversion at each step, one bar per breakdown value side by side.

    Data twin: :func:`journey_lib.funnel` with ``breakdown=`` or ``by=`` one column (a
    crossing, or ``by=`` with ``breakdown=``, is refused unless one segment is picked from
    it, all its columns but one then holding a single value). Bars are ``conversion_rate``
    (share of the value's step-1 customers); the legend gives each value's step-1 customers.
    Only the ``top`` values with the most step-1 customers are drawn. Missing cells (hidden
    on a report page) are gaps, and a value whose step-1 customers are hidden reads
    ``n=hidden``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> steps = ["ad_view", "site_visit", "purchase"]
    >>> figure = jl.plots.funnel_breakdown(jl.funnel(events, steps, breakdown="channel"), top=3)
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['social (n=67)', 'online_ads (n=66)', 'search (n=63)']
    >>> plt.close(figure)
    """
    check_top(top)
    frame = twin_table(result, _FUNNEL, "funnel")
    by = _breakdown(frame, "plots.funnel_breakdown")
    if by is None:
        raise JourneyParameterError(
            "this funnel has no breakdown column; draw it with plots.funnel, or call "
            "journey_lib.funnel(..., breakdown='channel')"
        )
    labels = display_labels(frame[by])
    entrants = frame[frame["step"] == 1].groupby(labels)["customers"].sum(min_count=1)
    shown = entrants.sort_values(ascending=False, kind="stable", na_position="last").head(top)
    if shown.empty:
        raise JourneyDataError(f"no {by!r} group has a customer at the first step: nothing to draw")
    wide = frame.assign(_g=labels).pivot(index="step", columns="_g", values="conversion_rate")
    names = frame.drop_duplicates("step").set_index("step").get("event", wide.index.to_series())
    ax = axes_or_new(ax, (max(7, 1.2 * len(wide) * (1 + len(shown) / 3)), 5.5))
    x = np.arange(len(wide))
    width = 0.8 / len(shown)
    for i, group in enumerate(shown.index):
        ax.bar(
            x + (i - (len(shown) - 1) / 2) * width,
            wide[group].to_numpy(),
            width,
            label=f"{group} (n={_count(shown[group])})",
            color=PALETTE[i % len(PALETTE)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="white",
        )
    ax.set_xticks(x, [textwrap.fill(str(names[s]), 16) for s in wide.index])
    percent(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.legend(title=f"{by} (step-1 customers)", fontsize=NOTE, title_fontsize=NOTE)
    title = f"Funnel conversion by {by}"
    if len(shown) < len(entrants):
        title += f" (the {len(shown)} largest of {len(entrants)})"
    return decorate(ax, title, "step", "reached the step (share of step 1)")


def funnel_trend(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Whole-funnel conversion by the period attempts started in.

    Data twin: :func:`journey_lib.funnel_trend`. Periods not yet complete (later data may
    still raise them) are drawn hollow on a dashed line.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> trend = jl.funnel_trend(events, ["site_visit", "purchase"], period="month")
    >>> figure = jl.plots.funnel_trend(trend)
    >>> figure.axes[0].get_title()
    'Funnel conversion by month of entry'
    >>> plt.close(figure)
    """
    frame = twin_table(
        result, ("period", "customers", "converted", "conversion_rate", "complete"), "funnel_trend"
    )
    frame = one_segment(frame, "period", "plots.funnel_trend")
    period = period_name(frame["period"])
    ax = axes_or_new(ax, (10, 5))
    complete_and_not(
        ax,
        naive_utc(frame["period"]),
        frame["conversion_rate"],
        frame["complete"],
        label="complete",
        open_label="not complete: may still rise",
    )
    percent(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=NOTE)
    return decorate(
        ax,
        f"Funnel conversion by {period} of entry",
        f"{period} the attempt started (UTC)",
        "converted (share of entrants)",
    )


def time_to_convert(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Histogram of the time customers took to convert, with the cumulative share.

    Data twin: :func:`journey_lib.time_to_convert`. Bars are each bin's share of the
    converting customers; the line is the cumulative share. Empty bins before the first
    and after the last conversion are left out; bins with missing customers (hidden on a
    report page) are gaps, and the title says so.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.time_to_convert(jl.time_to_convert(events, ["site_visit", "purchase"]))
    >>> figure.axes[0].get_title()
    'Time to convert (75 customers)'
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("bin", "customers", "share", "cumulative_share"), "time_to_convert")
    frame = one_segment(frame, "bin", "plots.time_to_convert")
    # Hidden bins (missing) are kept as gaps: only empty ones at the ends are left out.
    used = np.flatnonzero(frame["customers"].to_numpy() != 0)
    shown = frame.iloc[used[0] : used[-1] + 1] if len(used) else frame
    x = np.arange(len(shown))
    ax = axes_or_new(ax, (max(7, 0.8 * len(shown) + 2), 5))
    ax.bar(x, shown["share"], color=PALETTE[0], width=0.8, label="converted in the bin")
    ax.plot(x, shown["cumulative_share"], color=PALETTE[1], marker=MARKERS[1], label="cumulative")
    ax.set_xticks(x, shown["bin"], rotation=45, ha="right")
    percent(ax.yaxis)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=NOTE)
    total = int(frame["customers"].sum())
    what = f"{total:,} customers"
    if frame["customers"].isna().any():
        what = f"{total:,} customers shown; bins of few hidden"
    return decorate(
        ax,
        f"Time to convert ({what})",
        "time between the steps",
        "share of the converting customers",
    )


def _count(value: Any) -> str:
    """A count for a label; ``hidden`` when it is missing."""
    return "hidden" if pd.isna(value) else f"{value:,.0f}"


def _extra(frame: pd.DataFrame) -> list[str]:
    """The columns of a funnel result that are not the funnel's own: its breakdown and
    segment columns."""
    return [c for c in frame.columns if c not in _FUNNEL_COLUMNS]


def _breakdown(frame: pd.DataFrame, what: str) -> str | None:
    """The one column a funnel result is broken down by, if any.

    A table with several such columns (``by=`` a crossing, or ``by=`` with ``breakdown=``)
    is refused unless all but one hold a single value (one segment picked from it): one bar
    per value of a crossing would be unreadable.
    """
    extra = _extra(frame)
    if len(extra) <= 1:
        return extra[0] if extra else None
    varying = [c for c in extra if frame[c].nunique(dropna=False) > 1]
    if len(varying) > 1:
        first = frame[varying[0]].iloc[0]
        raise JourneyParameterError(
            f"{what} draws one breakdown column, but this funnel is broken down by {varying} "
            f"(a crossing, or by= with breakdown=); pick one value of all but one first, e.g. "
            f"table[table[{varying[0]!r}] == {first!r}], or draw each segment's funnel with "
            "plots.segment_stage_funnels"
        )
    return varying[0] if varying else extra[-1]


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
