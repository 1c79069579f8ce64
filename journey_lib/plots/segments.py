"""Figures of customer segments side by side: each segment's journey through the stages
(small multiples of a stage funnel broken down ``by=``), each segment's retention curve, and
a heatmap of :func:`journey_lib.compare_segments`' table.

Each function draws the result of one journey_lib function, its data twin, named in its
docstring, and returns the Figure.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from ..analytics.compare import RESULT_COLUMNS, format_value
from ..analytics.segments import segment_keys, segment_labels
from ..errors import JourneyDataError, JourneyParameterError
from ._style import (
    GREY,
    LABEL,
    NOTE,
    TICK,
    TITLE,
    axes_or_new,
    check_top,
    decorate,
    event_colour,
    figure_of,
    line_style,
    panels,
    pct,
    percent,
    twin_table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DIVERGING",
    "segment_churn",
    "segment_heatmap",
    "segment_retention",
    "segment_stage_funnels",
]

#: Colour map of gaps to the rest: orange above, purple below, white at no gap. Colour-blind
#: safe, and neither end reads as good or bad (a higher churn rate and a higher revenue are
#: both orange).
DIVERGING = "PuOr_r"
# Share of white mixed into a cell whose gap is not significant (or not tested).
_MUTED = 0.75
# The face of rows without a gap to show (the customers row, a segment without value).
_BLANK = (0.94, 0.94, 0.94, 1.0)


def segment_stage_funnels(result: IntoFrame, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Each segment's journey through the stages, one panel per segment on one scale.

    Data twin: :func:`journey_lib.stage_funnel` with ``by=`` (or :func:`journey_lib.funnel`
    with ``by=``). Each panel is one segment's block: a bar per stage (step) whose height
    is ``conversion_rate`` (the share of the segment's entrants who reached the stage; for
    a funnel, of its step-1 customers), labelled with the customers and that share, in the
    stage's colour. Panels share the y axis, so the segments' journeys compare at a glance;
    each is titled with the segment and its entrants (step-1 customers). Panels run three
    to a row, in the result's order.

    Parameters
    ----------
    result : DataFrame
        A stage funnel (or funnel) broken down by segment: the segment columns first.
    axes : sequence of Axes, optional
        One per segment, drawn into; by default a new figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> from journey_lib.plots.segments import segment_stage_funnels
    >>> sim = jl.simulate(300, seed=0)
    >>> by = jl.Segments("segment", customers=sim.customers)
    >>> figure = segment_stage_funnels(jl.stage_funnel(sim.events, by=by))
    >>> [ax.get_title() for ax in figure.axes]
    ['consumer (204 entrants)', 'enterprise (23 entrants)', 'small_business (73 entrants)']
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("step", "customers", "conversion_rate"), "stage_funnel")
    keys = segment_keys(frame, "step")
    if not keys:
        raise JourneyParameterError(
            "this funnel has no segment columns; draw it with plots.funnel, or call "
            "journey_lib.stage_funnel(..., by='segment')"
        )
    staged = "stage" in frame.columns
    names = "stage" if staged else "event" if "event" in frame.columns else "step"
    labels = segment_labels(frame, keys)
    segments = list(dict.fromkeys(labels))
    if axes is None:
        axes = panels(len(segments))
    elif len(axes) < len(segments):
        raise JourneyParameterError(
            f"the result has {len(segments)} segments but {len(axes)} axes were given"
        )
    base = "entrants" if staged else "at step 1"
    blocks = frame.assign(_segment=labels).groupby("_segment", sort=False)
    for ax, segment in zip(axes, segments, strict=False):
        block = blocks.get_group(segment).sort_values("step")
        x = np.arange(len(block))
        bars = ax.bar(
            x,
            block["conversion_rate"].to_numpy(dtype="float64"),
            color=[event_colour(n) for n in block[names]],
            width=0.7,
        )
        ax.bar_label(
            bars,
            labels=[
                "" if pd.isna(r) else f"{n:,.0f}\n{pct(r)}"
                for n, r in zip(block["customers"], block["conversion_rate"], strict=True)
            ],
            padding=2,
            fontsize=NOTE,
        )
        ax.set_xticks(
            x,
            [textwrap.fill(str(n), 20) for n in block[names]],
            fontsize=TICK,
            rotation=35,
            ha="right",
            rotation_mode="anchor",
        )
        percent(ax.yaxis)
        ax.set_ylim(0, 1.2)
        ax.set_title(f"{segment} ({_base(block):,} {base})", fontsize=LABEL)
    axes[0].set_ylabel(f"reached (share of {'entrants' if staged else 'step 1'})", fontsize=LABEL)
    figure = figure_of(axes[0])
    what = "Journey stages reached" if staged else "Funnel conversion"
    figure.suptitle(f"{what} by {' / '.join(keys)}", fontsize=TITLE)
    return figure


def _base(block: pd.DataFrame) -> int:
    """The customers a block's rates are shares of (entrants, or step 1): a bar's
    customers over its rate, 0 when no rate is above 0."""
    rated = block[block["conversion_rate"] > 0]
    if rated.empty:
        return 0
    first = rated.iloc[0]
    return round(first["customers"] / first["conversion_rate"])


def segment_heatmap(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Every measure of every segment against the rest of the customers, as a heatmap.

    Data twin: :func:`journey_lib.compare_segments`. Rows are the measures (in the table's
    order), columns the segments; each cell is written with the segment's value
    (:func:`journey_lib.analytics.compare.format_value`) and coloured by its gap to the rest
    relative to the rest, ``value / rest - 1`` (:data:`DIVERGING`: orange above, purple
    below, the scale symmetric around no gap and at most +/-100%). A cell whose gap is not
    significant (or not tested) is muted, mixed three parts in four with white, and
    written in grey; significant cells are written in bold. The ``customers`` row, and
    cells without a gap (no rest, a rest of 0), are light grey.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> from journey_lib.analytics.compare import compare_segments
    >>> from journey_lib.plots.segments import segment_heatmap
    >>> sim = jl.simulate(600, seed=0)
    >>> figure = segment_heatmap(compare_segments(sim.events, jl.Segments("segment",
    ...                                                             customers=sim.customers)))
    >>> [t.get_text() for t in figure.axes[0].texts[:3]]  # customers of each segment
    ['423', '70', '107']
    >>> plt.close(figure)
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    frame = twin_table(result, RESULT_COLUMNS, "compare_segments")
    if frame.empty:
        raise JourneyDataError("the comparison has no rows: nothing to draw")
    keys = segment_keys(frame, "metric")
    if not keys:
        raise JourneyDataError("expected a compare_segments() result; it has no segment columns")
    labels = segment_labels(frame, keys)
    frame = frame.assign(_segment=labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = frame["value"] / frame["rest"] - 1
    frame["_gap"] = gap.where(np.isfinite(gap) & (frame["kind"] != "count"))
    metrics = list(dict.fromkeys(frame["metric"]))
    segments = list(dict.fromkeys(frame["_segment"]))
    cells = frame.set_index(["metric", "_segment"])
    limit = (
        float(np.clip(frame["_gap"].abs().max(), 0.05, 1.0)) if frame["_gap"].notna().any() else 1.0
    )
    norm, cmap = Normalize(-limit, limit), plt.get_cmap(DIVERGING)
    colours = np.empty((len(metrics), len(segments), 4))
    ax = axes_or_new(ax, (max(6.0, 3.5 + 1.7 * len(segments)), max(4.0, 1.5 + 0.42 * len(metrics))))
    for i, metric in enumerate(metrics):
        for j, segment in enumerate(segments):
            if (metric, segment) not in cells.index:
                colours[i, j] = _BLANK
                continue
            row = cells.loc[(metric, segment)]
            strong = bool(row["significant"])
            if pd.isna(row["_gap"]):
                colours[i, j] = _BLANK
            else:
                colour = np.array(cmap(norm(float(np.clip(row["_gap"], -limit, limit)))))
                colours[i, j] = colour if strong else colour * (1 - _MUTED) + _MUTED
            ax.text(
                j,
                i,
                format_value(row["value"], row["kind"]),
                ha="center",
                va="center",
                fontsize=NOTE,
                fontweight="bold" if strong else "normal",
                color="black" if strong else GREY,
            )
    ax.imshow(colours, aspect="auto", interpolation="nearest")
    ax.set_xticks(np.arange(len(segments)), segments)
    ax.set_yticks(np.arange(len(metrics)), metrics)
    if max(len(s) for s in segments) > 10:  # long names would overlap
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    bar = figure_of(ax).colorbar(ScalarMappable(norm, cmap), ax=ax)
    bar.set_label("gap to the rest (value / rest − 1)", fontsize=NOTE)
    percent(bar.ax.yaxis)
    by = " / ".join(keys)
    return decorate(
        ax,
        f"Segments by {by} against the rest (faded: not significant)",
        by,
        "",
    )


def segment_retention(result: IntoFrame, *, top: int = 7, ax: Axes | None = None) -> Figure:
    """Each segment's retention curve: the share of a cohort still active *k* periods on.

    Data twin: :func:`journey_lib.retention_curve` of a :func:`journey_lib.retention` broken
    down ``by=`` (the segment columns first): one line per segment, ``rate`` against
    ``period``, each line in its own colour and marker. The ``top`` segments with the
    largest cohorts are drawn (the legend says how many more the table holds), largest first.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> from journey_lib.plots.segments import segment_retention
    >>> sim = jl.simulate(300, seed=0)
    >>> by = jl.Segments("segment", customers=sim.customers)
    >>> curve = jl.retention_curve(jl.retention(sim.events, period="month", by=by))
    >>> figure = segment_retention(curve)
    >>> [line.get_label() for line in figure.axes[0].get_lines()]
    ['consumer', 'small_business', 'enterprise']
    >>> plt.close(figure)
    """
    check_top(top)
    frame = twin_table(result, ("period", "rate"), "retention_curve")
    if "cohort" in frame.columns:
        raise JourneyParameterError(
            "segment_retention draws a retention curve, but this table has a 'cohort' column "
            "(a retention() result); pool its cohorts first: "
            "segment_retention(jl.retention_curve(result))"
        )
    sizes = [c for c in frame.columns if c.startswith("cohort_")]
    if not sizes:
        raise JourneyDataError(
            "segment_retention needs a retention_curve() result, whose cohort_size (or "
            f"cohort_revenue, cohort_events) sizes the segments; got {list(frame.columns)}"
        )
    keys = segment_keys(frame, "period")
    if not keys:
        raise JourneyParameterError(
            "this retention curve has no segment columns; call journey_lib.retention(..., "
            "by='segment') first"
        )
    if frame.empty:
        raise JourneyDataError("no cohort has a finished period yet: nothing to draw")
    ax, title = _segment_lines(frame, keys, "rate", frame[sizes[0]], "first", top, ax)
    return decorate(
        ax, f"Retention {title}", "periods since the cohort's first", "retained (complete cohorts)"
    )


def segment_churn(result: IntoFrame, *, top: int = 7, ax: Axes | None = None) -> Figure:
    """Each segment's churn rate, period by period.

    Data twin: :func:`journey_lib.churn_rate` broken down ``by=`` (the segment columns
    first): one line per segment, ``churn_rate`` against ``period``, each in its own colour
    and marker; periods without a rate (no customer active at their start) are gaps. The
    ``top`` segments with the most customers active over the periods are drawn (the title
    says how many more the table holds), largest first.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> from journey_lib.plots.segments import segment_churn
    >>> sim = jl.simulate(300, seed=0)
    >>> by = jl.Segments("segment", customers=sim.customers)
    >>> figure = segment_churn(jl.churn_rate(sim.events, period="month", by=by))
    >>> [line.get_label() for line in figure.axes[0].get_lines()]
    ['consumer', 'small_business', 'enterprise']
    >>> plt.close(figure)
    """
    check_top(top)
    frame = twin_table(result, ("period", "active_start", "churn_rate"), "churn_rate")
    keys = segment_keys(frame, "period")
    if not keys:
        raise JourneyParameterError(
            "this churn rate table has no segment columns; call journey_lib.churn_rate(..., "
            "by='segment') first, or draw it with journey_lib.plots.churn_rate"
        )
    if frame["churn_rate"].isna().all():
        raise JourneyDataError("no period has a churn rate yet: nothing to draw")
    ax, title = _segment_lines(frame, keys, "churn_rate", frame["active_start"], "sum", top, ax)
    return decorate(ax, f"Churn rate {title}", "period", "churn rate")


def _segment_lines(
    frame: pd.DataFrame,
    keys: list[str],
    rate: str,
    size: pd.Series,
    sized_by: str,
    top: int,
    ax: Axes | None,
) -> tuple[Axes, str]:
    """One line of ``rate`` against ``period`` per segment (``keys``), for the ``top``
    largest by ``size`` (its value at the first period, or its sum over them), largest
    first; the Axes and the end of the title ("by plan (the 2 largest of 5 segments)")."""
    labels = segment_labels(frame, keys)
    frame = frame.assign(_segment=labels, _size=size.to_numpy())
    if sized_by == "first":
        frame = frame.sort_values("period", kind="stable")
    sizes = frame.groupby("_segment", sort=False)["_size"].agg(sized_by)
    order = sizes.sort_values(ascending=False, kind="stable").index.tolist()
    shown = order[:top]
    ax = axes_or_new(ax, (8, 4.5))
    for i, segment in enumerate(shown):
        line = frame[frame["_segment"] == segment].sort_values("period")
        ax.plot(line["period"], line[rate], label=segment, **line_style(i))
    percent(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=NOTE, frameon=False)
    title = f"by {' / '.join(keys)}"
    if len(order) > len(shown):
        title += f" (the {len(shown)} largest of {len(order)} segments)"
    return ax, title
