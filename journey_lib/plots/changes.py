"""Figures of change detection: one change's series with the change marked, where it
happened, and the monitoring overview of every series scanned.

Each function draws a :class:`journey_lib.monitor.Changes` (the result of
:func:`journey_lib.changes`), its data twin, and returns the Figure: the levels drawn are
its ``series`` (``count`` per period for counts, ``count / base`` for rates and money, as
:mod:`journey_lib.monitor.series` defines them) and ``expected`` columns, its ``table``'s
windows and levels, and :meth:`~journey_lib.monitor.Changes.breakdown`'s parts.

Series are named in words by :func:`series_label`: ``"Delivery late events (whole
log)"``, ``"Conversion from cart to purchase (platform mobile)"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import JourneyParameterError
from ..monitor.series import FAMILY, series_words
from ..monitor.words import move_words, number_words, when_words
from ._style import (
    GREY,
    NOTE,
    PALETTE,
    axes_or_new,
    date_labels,
    decorate,
    figure_of,
    line_style,
    percent,
)
from .segments import DIVERGING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..monitor.detect import Changes

__all__ = ["change_breakdown", "change_series", "changes_heatmap", "series_label"]

# What the y axis of a series counts or measures, per metric ("{period}": day or week).
_AXIS_WORDS = {
    "active customers": "active customers a {period}",
    "new customers": "new customers a {period}",
    "events": "events a {period}",
    "conversion": "share who took the next step",
    "churn rate": "share of active customers lost",
    "retention": "share of new customers back the next {period}",
    "revenue per customer": "revenue per active customer",
}
# The colours of the levels before and during a change (the observed line is PALETTE[0]).
_BEFORE, _DURING = PALETTE[6], PALETTE[3]
# Cells of the overview without a comparison (period not scanned, no base).
_UNUSED = "0.85"
_SUM = "effect (within + mix)"


def series_label(row: Mapping[str, Any] | pd.Series) -> str:
    """A series in words: its metric and detail, then its place in parentheses.

    ``row`` is a row of :attr:`Changes.table` or of :attr:`Changes.series`, or any mapping
    with ``metric``, ``detail``, ``column`` and ``value`` (``detail``, ``column`` and
    ``value`` missing or None where they do not apply). Event names are written with spaces
    for underscores; segment columns and values as they are. The words match the report's
    readings of changes (:mod:`journey_lib.report.change_readings`).

    Examples
    --------
    >>> series_label({"metric": "events", "detail": "payment_error", "column": None,
    ...               "value": None})
    'Payment error events (whole log)'
    >>> series_label({"metric": "conversion", "detail": "cart → purchase",
    ...               "column": "platform", "value": "mobile"})
    'Conversion from cart to purchase (platform mobile)'
    >>> series_label({"metric": "churn rate", "detail": None, "column": None, "value": None})
    'The churn rate (whole log)'
    """
    return f"{_what(row)} ({_place(row)})"


def change_series(changes: Changes, change: int = 0, *, ax: Axes | None = None) -> Figure:
    """One change's series: observed against the baseline, the change's window shaded.

    Data twin: a :func:`journey_lib.changes` result, its ``table``'s row ``change`` and
    that change's series (:meth:`~journey_lib.monitor.Changes.series_of`).

    * The observed level per period (events or customers a period for counts, the share
      ``count / base`` for rates on a percent axis, money per active customer), a line
      over the periods the series uses; the periods it does not use (incomplete, or too
      early for the metric; ``used`` False) are faint hollow points.
    * The baseline (``expected``, the level the series would have without a change) as a
      dashed grey line over the same periods.
    * The change's window shaded from half a period before its first period to half a
      period after its last (``start + (periods - 1)`` periods, also for an ongoing
      change), so each affected period's point lies inside; the before window (from
      ``before_from`` to the change's start) lightly shaded the same way.
    * The levels ``before`` and ``during`` as horizontal segments across their windows,
      each with its 95% interval as a band.

    The title says the series (:func:`series_label`), then the move and when: "Delivery
    late events (whole log)" over "Up 270% from 6 May to 26 May 2024". A rate's move is
    its levels before and during ("Down from 61.0% to 33.0%"), a count's or money's its
    size relative to before ("up 270%"; from 0, "up from 0 to 30 a week").

    Parameters
    ----------
    changes : Changes
        The result of :func:`journey_lib.changes` (or :func:`journey_lib.find_changes`).
    change : int, default 0
        A row of ``changes.table`` (0: the highest score).
    ax : Axes, optional
        Drawn into; by default a new figure.

    Raises
    ------
    JourneyParameterError
        When ``change`` is not a row of the table (or no change was found).

    Examples
    --------
    Purchases halve for three weeks from the 13th week:

    >>> import matplotlib.pyplot as plt
    >>> import numpy as np, pandas as pd
    >>> import journey_lib as jl
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> count = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 150.0, 300.0)
    >>> series = pd.DataFrame({"metric": "events", "detail": "purchase", "column": None,
    ...     "value": None, "period": weeks, "count": count, "base": np.nan, "used": True})
    >>> figure = change_series(jl.find_changes(series))
    >>> print(figure.axes[0].get_title())
    Purchase events (whole log)
    Down 50% from 25 Mar to 14 Apr 2024
    >>> plt.close(figure)
    """
    row = _row(changes, change)
    family = FAMILY[row["metric"]]
    rows = changes.series_of(change)
    used = rows["used"].to_numpy(dtype=bool)
    level = _observed(rows, family)
    times = pd.DatetimeIndex(rows["period"])
    x = _naive(times)
    step = _step(changes.period)
    half = step / 2
    start = _naive(pd.DatetimeIndex([row["start"]]))[0]
    last = start + (int(row["periods"]) - 1) * step
    before_from = _naive(pd.DatetimeIndex([row["before_from"]]))[0]

    ax = axes_or_new(ax, (10, 5.5))
    ax.axvspan(
        before_from - half, start - half, color=GREY, alpha=0.12, linewidth=0, label="before"
    )
    ax.axvspan(
        start - half, last + half, color=_DURING, alpha=0.15, linewidth=0, label="the change"
    )
    if (~used).any():
        ax.plot(
            x[~used],
            level[~used],
            linestyle="none",
            marker="o",
            color=GREY,
            markerfacecolor="white",
            alpha=0.6,
            label="not scanned (incomplete or too early)",
        )
    ax.plot(x[used], level[used], label="observed", **line_style(0))
    expected = rows["expected"].to_numpy(dtype="float64")
    ax.plot(x[used], expected[used], color=GREY, linestyle="--", linewidth=1.5, label="baseline")
    windows = {
        "before": ((before_from - half, start - half), _BEFORE),
        "during": ((start - half, last + half), _DURING),
    }
    for name, (ends, colour) in windows.items():
        value, low, high = (float(row[name]), float(row[f"{name}_low"]), row[f"{name}_high"])
        ax.fill_between(ends, low, float(high), color=colour, alpha=0.25, linewidth=0)
        ax.plot(
            ends,
            [value, value],
            color=colour,
            linewidth=3,
            solid_capstyle="butt",
            label=f"level {name} (95% interval)",
        )
    if family == "rate":
        percent(ax.yaxis)
    if np.nanmin(np.r_[level, 0.0]) >= 0:
        ax.set_ylim(bottom=0)
    _date_axis(ax)
    ax.legend(fontsize=NOTE, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    move = move_words(row, changes.period)
    title = f"{series_label(row)}\n{move[:1].upper()}{move[1:]} {when_words(row, changes.period)}"
    axis = _AXIS_WORDS[row["metric"]].format(period=changes.period)
    return decorate(ax, title, f"{changes.period} starting (UTC)", axis)


def change_breakdown(
    changes: Changes, change: int = 0, *, column: str | None = None, ax: Axes | None = None
) -> Figure:
    """Where a change happened: the whole log's change split over one segment column.

    Data twin: :meth:`journey_lib.monitor.Changes.breakdown` of row ``change``, the rows of
    ``column``. One horizontal bar per value, sorted by its ``effect`` (the largest at the
    top), in two stacked parts: ``within`` (the level moved inside the value) and ``mix``
    (the base moved toward or away from the value; always 0 for counts, whose change is
    all within). Parts of the same sign stack outward from 0, a part of the other sign
    starts at 0, so every bar's width is exactly its part; a black diamond marks the
    ``effect`` (their sum). A vertical line at 0; the title names the column and the whole
    log's change, the sum of the effects.

    Parameters
    ----------
    changes : Changes
        The result of :func:`journey_lib.changes` called with ``by=``.
    change : int, default 0
        A row of ``changes.table``.
    column : str, optional
        A segment column of the breakdown; its first by default.
    ax : Axes, optional
        Drawn into; by default a new figure.

    Raises
    ------
    JourneyParameterError
        When ``change`` is not a row of the table, ``column`` is not a segment column of
        the breakdown, or the log was not split by any segment column.

    Examples
    --------
    Purchases halve for three weeks from the 13th week, on the web only:

    >>> import matplotlib.pyplot as plt
    >>> import numpy as np, pandas as pd
    >>> import journey_lib as jl
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> web = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 100.0, 200.0)
    >>> places = {(None, None): web + 100, ("platform", "web"): web,
    ...           ("platform", "app"): np.full(30, 100.0)}
    >>> series = pd.concat([pd.DataFrame({"metric": "events", "detail": "purchase",
    ...     "column": c, "value": v, "period": weeks, "count": n, "base": np.nan,
    ...     "used": True}) for (c, v), n in places.items()])
    >>> figure = change_breakdown(jl.find_changes(series))
    >>> ax = figure.axes[0]
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_title().splitlines()[0]
    (['web', 'app'], 'Where the change happened: by platform')
    >>> [round(bar.get_width()) for bar in ax.containers[0]]  # purchases a week
    [-100, 0]
    >>> plt.close(figure)
    """
    row = _row(changes, change)
    family = FAMILY[row["metric"]]
    split = changes.breakdown(change)
    if split.empty:
        raise JourneyParameterError(
            "the log was not split by any segment column, so there is no breakdown to draw: "
            "call journey_lib.changes(..., by=['platform', ...]) to see where a change happened"
        )
    columns = list(dict.fromkeys(split["column"]))
    if column is None:
        column = columns[0]
    elif column not in columns:
        raise JourneyParameterError(
            f"column must be a segment column of the breakdown, one of {columns}; got {column!r}"
        )
    bars = split[split["column"] == column].sort_values("effect", kind="stable")
    within = bars["within"].to_numpy(dtype="float64")
    mix = bars["mix"].to_numpy(dtype="float64")
    effect = bars["effect"].to_numpy(dtype="float64")
    y = np.arange(len(bars))
    ax = axes_or_new(ax, (9, max(4.0, 0.45 * len(bars) + 2.8)))
    counts = family == "count"
    inside = "change in level" if counts else "within: the level moved inside the value"
    ax.barh(y, within, height=0.6, color=PALETTE[0], label=inside)
    # A part of the same sign as within stacks beyond it; of the other sign it starts at 0.
    ax.barh(
        y,
        mix,
        left=np.where(np.sign(mix) == np.sign(within), within, 0.0),
        height=0.6,
        color=PALETTE[1],
        hatch="//",
        label="_mix" if counts else "mix: the base moved toward or away from the value",
    )
    ax.plot(effect, y, linestyle="none", marker="D", color="black", label=_SUM)
    ax.axvline(0, color=GREY, linewidth=1)
    ax.set_yticks(y, bars["value"].astype(str).tolist())
    if family == "rate":
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:+g}"))
    # Legend in reading order: the parts, then their sum.
    entries = sorted(zip(*ax.get_legend_handles_labels(), strict=True), key=lambda e: e[1] == _SUM)
    ax.legend(
        *zip(*entries, strict=True),
        fontsize=NOTE,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
    )
    total = float(effect.sum())
    title = (
        f"Where the change happened: by {column}\n"
        f"{_what(row)} (whole log): {_amount(total, family, changes)}"
    )
    unit = {
        "count": _AXIS_WORDS[row["metric"]].format(period=changes.period),
        "rate": "percentage points",
        "money": "revenue per active customer",
    }[family]
    xlabel = f"change {when_words(row, changes.period)} ({unit})"
    return decorate(ax, title, xlabel, column)


def changes_heatmap(changes: Changes, *, top: int = 20, ax: Axes | None = None) -> Figure:
    """The monitoring overview: every series scanned, period by period, against its
    baseline, with the changes found outlined.

    Data twin: a :func:`journey_lib.changes` result's ``series`` and ``table``. One row per
    series: those with a change first, each group by its ``best`` score (highest first;
    ties in the series' order), the first ``top`` drawn, labelled by
    :func:`series_label`. One column per period. Each cell is coloured by the observed
    level against the baseline, ``observed / expected - 1`` clipped to +/-100% (for counts
    ``(observed - expected) / max(expected, 1)``: a quiet period of a rare event, expected
    below one, is not a 100% fall), on a
    diverging map (orange above, purple below, white on the baseline); grey where the
    period is not scanned (``used`` False, or no ``expected``) or has no base. Each change
    of a drawn series is a black rectangle around its window's cells (an ongoing change
    runs to its last used period).

    Parameters
    ----------
    changes : Changes
        The result of :func:`journey_lib.changes`.
    top : int, default 20
        Series drawn (a whole number >= 1).
    ax : Axes, optional
        Drawn into; by default a new figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np, pandas as pd
    >>> import journey_lib as jl
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> count = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 150.0, 300.0)
    >>> series = pd.concat([pd.DataFrame({"metric": "events", "detail": event,
    ...     "column": None, "value": None, "period": weeks, "count": n, "base": np.nan,
    ...     "used": True}) for event, n in [("purchase", count), ("visit", count * 0 + 900)]])
    >>> figure = changes_heatmap(jl.find_changes(series))
    >>> [t.get_text() for t in figure.axes[0].get_yticklabels()]
    ['Purchase events (whole log)', 'Visit events (whole log)']
    >>> [(box.get_x(), box.get_width()) for box in figure.axes[0].patches]  # weeks 12-14
    [(11.5, 3)]
    >>> plt.close(figure)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    _check_changes(changes)
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise JourneyParameterError(f"top must be a whole number >= 1; got {top!r}")
    s = changes.series
    keys = ["metric", "detail", "column", "value"]
    ids = s.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
    meta = s.drop_duplicates(keys).reset_index(drop=True)
    periods = pd.DatetimeIndex(np.sort(s["period"].unique()))
    column = periods.get_indexer(pd.DatetimeIndex(s["period"]))
    family = s["metric"].map(FAMILY).to_numpy()
    observed = np.where(family == "count", s["count"], _share(s["count"], s["base"]))
    expected = s["expected"].to_numpy(dtype="float64")
    # A count expected below one event a period is set against one: a quiet period of a
    # rare event is not a 100% fall.
    scale = np.where(family == "count", np.maximum(expected, 1.0), expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (observed - expected) / scale
    gap = np.where(s["used"].to_numpy(dtype=bool), np.clip(gap, -1.0, 1.0), np.nan)
    cells = np.full((len(meta), len(periods)), np.nan)
    cells[ids, column] = gap

    places = {_key(r): i for i, r in enumerate(meta[keys].itertuples(index=False))}
    table = changes.table
    changed_rows = np.array([places[_key(r)] for r in table[keys].itertuples(index=False)])
    changed = np.zeros(len(meta), bool)
    changed[changed_rows.astype("int64")] = True
    best = meta["best"].to_numpy(dtype="float64")
    order = np.lexsort((np.arange(len(meta)), -best, ~changed))[:top]

    ax = axes_or_new(ax, (max(8.0, 4.5 + 0.12 * len(periods)), max(3.5, 1.6 + 0.32 * len(order))))
    cmap = plt.get_cmap(DIVERGING).with_extremes(bad=_UNUSED)
    image = ax.imshow(
        np.ma.masked_invalid(cells[order]),
        cmap=cmap,
        vmin=-1,
        vmax=1,
        aspect="auto",
        interpolation="nearest",
    )
    position = {series: i for i, series in enumerate(order)}
    for r, start, periods_ in zip(
        changed_rows.astype("int64"), table["start"], table["periods"], strict=True
    ):
        if r in position:
            first = periods.get_loc(pd.Timestamp(start))
            ax.add_patch(
                Rectangle(
                    (first - 0.5, position[r] - 0.5),
                    int(periods_),
                    1,
                    fill=False,
                    edgecolor="black",
                    linewidth=1.5,
                )
            )
    ax.set_yticks(np.arange(len(order)), [series_label(meta.iloc[i]) for i in order])
    every = max(1, -(-len(periods) // 12))
    ticks = np.arange(0, len(periods), every)
    ax.set_xticks(ticks, date_labels(pd.Series(periods[ticks]), changes.period))
    ax.tick_params(axis="x", labelrotation=45)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    bar = figure_of(ax).colorbar(image, ax=ax)
    bar.set_label("observed against the baseline (observed / expected − 1)", fontsize=NOTE)
    percent(bar.ax.yaxis)
    title = (
        f"Every series scanned against its baseline\nthe {len(order)} that moved most of "
        f"{len(meta)}; {len(table)} changes found (outlined)"
    )
    return decorate(ax, title, f"{changes.period} starting (UTC)", "series")


def _check_changes(changes: Any) -> None:
    # By its attributes: monitor.detect imports plots (Changes.plot), so plots cannot
    # import it back.
    if not all(hasattr(changes, a) for a in ("table", "series", "series_of", "breakdown")):
        raise JourneyParameterError(
            f"expected the result of journey_lib.changes(); got {type(changes).__name__}"
        )


def _row(changes: Changes, change: Any) -> pd.Series:
    """Row ``change`` of the table, checked as :meth:`Changes.breakdown` checks it."""
    _check_changes(changes)
    n = len(changes.table)
    if n == 0:
        raise JourneyParameterError(
            f"change must be a row of the table, but no change was found; got {change!r} "
            "(changes_heatmap draws every series scanned)"
        )
    if isinstance(change, bool) or not isinstance(change, int | np.integer) or not 0 <= change < n:
        raise JourneyParameterError(
            f"change must be a row of the table, 0 to {n - 1}; got {change!r}"
        )
    return changes.table.iloc[int(change)]


def _what(row: Mapping[str, Any] | pd.Series) -> str:
    """The metric and detail in words, capitalised."""
    return series_words(row["metric"], row.get("detail"))


def _place(row: Mapping[str, Any] | pd.Series) -> str:
    column = row.get("column")
    return "whole log" if _missing(column) else f"{column} {row.get('value')}"


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _key(values: Any) -> tuple[Any, ...]:
    """A series' key with every missing value alike (None, NaN, pd.NA)."""
    return tuple(None if _missing(v) else v for v in values)


def _share(count: pd.Series, base: pd.Series) -> np.ndarray:
    """``count / base``, missing where there is no base."""
    b = base.to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, count.to_numpy(dtype="float64") / b, np.nan)


def _observed(rows: pd.DataFrame, family: str) -> np.ndarray:
    """The observed level per period: the count, or the share of the base."""
    if family == "count":
        return rows["count"].to_numpy(dtype="float64")
    return _share(rows["count"], rows["base"])


def _amount(total: float, family: str, changes: Changes) -> str:
    """A signed change in its unit."""
    if family == "rate":
        return f"{total * 100:+.1f} percentage points"
    if family == "money":
        return f"{total:+,.2f} per active customer"
    return f"{'+' if total > 0 else ''}{number_words(total)} a {changes.period}"


def _step(period: str) -> pd.Timedelta:
    return pd.Timedelta(days=1 if period == "day" else 7)


def _naive(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """UTC times without a zone, as matplotlib places them on a date axis."""
    return times.tz_convert("UTC").tz_localize(None) if times.tz is not None else times


def _date_axis(ax: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
