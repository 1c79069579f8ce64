"""The house style every figure shares: palette, markers, font sizes and the axis helpers.

A private module with plain names: the figure modules of :mod:`journey_lib.plots` import
from it, nothing outside the package does. matplotlib and seaborn are imported inside the
helpers that draw, so importing journey_lib does not import them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..errors import JourneyDataError, JourneyParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
#: One hatch per palette colour, so the bars of a breakdown differ in grayscale too.
HATCHES: tuple[str, ...] = ("", "//", "..", "xx", "\\\\", "++", "oo")
#: Colours of events (any node label) in flow figures, indexed by :func:`event_colour`: Okabe
#: and Ito's six hues of :data:`PALETTE`, eight of Paul Tol's muted palette (its pale cyan is
#: too near sky blue) and a brown: fifteen hues a reader tells apart.
EVENT_PALETTE: tuple[str, ...] = (
    *PALETTE[:6],
    "#332288",  # indigo
    "#117733",  # green
    "#44AA99",  # teal
    "#999933",  # olive
    "#DDCC77",  # sand
    "#CC6677",  # rose
    "#882255",  # wine
    "#AA4499",  # purple
    "#8C564B",  # brown
)
#: Nodes that stand for no one event or stage: labels in parentheses such as ``(start)``,
#: ``(end)``, ``(other)``, ``(new)``, ``(inactive)``, ``(exit)`` and ``(missing)``.
FOLDED = "#A0A0A0"
#: Sequential colour map of heatmaps: colour-blind-safe and monotone in lightness.
SEQUENTIAL = "YlGnBu"
#: Reference lines (chance, the diagonal, a baseline) and the axis of a timeline.
GREY = "0.55"
#: Font sizes in points: titles, axis labels, tick labels, notes (legends, bar labels).
TITLE, LABEL, TICK, NOTE = 14, 12, 11, 10
# Heatmaps larger than this (rows or columns) are not annotated: the numbers would not fit
# at a readable size.
ANNOTATE_UP_TO = 14
MISSING_LABEL = "(missing)"


def event_colour(label: Any) -> str:
    """The colour of an event (or any node label) in every flow figure, whatever the log.

    A fixed hash of the label's text (CRC-32, not Python's salted ``hash``) picks a colour of
    :data:`EVENT_PALETTE`, so an event keeps its colour across figures, logs and sessions.
    Labels in parentheses (``(start)``, ``(end)``, ``(other)``, ...) are grey (:data:`FOLDED`).
    The stages of the built-in frameworks take :data:`PALETTE` in journey order instead (the
    first stage the first colour, ...), so a stage has one colour in a stage graph, a stage
    flow and a flow of stages, and no two stages of a framework share one. Fifteen colours
    cannot keep apart every pair of a dozen events: two events may share a
    colour, which is why every node of a flow figure is also labelled.

    Examples
    --------
    >>> event_colour("purchase") == event_colour("purchase") != event_colour("site_visit")
    True
    >>> event_colour("(end)")
    '#A0A0A0'
    >>> event_colour("Awareness") == event_colour("Reach") == PALETTE[0]
    True
    """
    import zlib

    text = str(label)
    if text.startswith("(") and text.endswith(")"):
        return FOLDED
    return (
        stage_colour(text) or EVENT_PALETTE[zlib.crc32(text.encode("utf-8")) % len(EVENT_PALETTE)]
    )


def stage_colour(name: str) -> str | None:
    """The colour of a built-in framework's stage (:data:`PALETTE` in journey order), or
    None for a name that is no such stage.

    Examples
    --------
    >>> stage_colour("Purchase") == PALETTE[2], stage_colour("purchase")
    (True, None)
    """
    from ..analytics.stages import FRAMEWORKS

    for framework in FRAMEWORKS.values():
        if name in framework.stages:
            return PALETTE[framework.stages.index(name) % len(PALETTE)]
    return None


def axes_or_new(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax``, or the Axes of a new figure of ``size`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, layout="constrained")[1]


def figure_of(ax: Axes) -> Figure:
    """The Figure an Axes belongs to (the top one when the Axes is in a subfigure)."""
    return ax.get_figure(root=True)


def panels(n: int) -> list[Axes]:
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
    drawn = list(grid.ravel())
    for spare in drawn[n:]:
        figure.delaxes(spare)
    return drawn[:n]


def decorate(ax: Axes, title: str, xlabel: str, ylabel: str) -> Figure:
    """Title, axis labels and readable font sizes; returns the Axes' figure."""
    ax.set_title(title, fontsize=TITLE)
    ax.set_xlabel(xlabel, fontsize=LABEL)
    ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    return figure_of(ax)


def percent(axis: Any) -> None:
    """Format an axis' ticks (shares from 0 to 1) as percentages."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1))


def unit_square(ax: Axes) -> None:
    """Both axes from 0 to 100%, square."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_aspect("equal")
    percent(ax.xaxis)
    percent(ax.yaxis)


def line_style(i: int, *, markers: bool = True) -> dict[str, Any]:
    """The ``i``-th series' colour, marker (or dash pattern) and width."""
    style: dict[str, Any] = {"color": PALETTE[i % len(PALETTE)], "linewidth": 2}
    if markers:
        style["marker"] = MARKERS[i % len(MARKERS)]
    else:
        style["linestyle"] = ("-", "--", "-.", (0, (5, 1, 1, 1)))[i % 4]
    return style


def point_style(i: int) -> dict[str, Any]:
    """The ``i``-th group's colour and marker, for scatter points."""
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}


def heatmap(
    ax: Axes, matrix: pd.DataFrame, *, share: bool, annotate: bool | None, label: str | None
) -> None:
    """A seaborn heatmap of ``matrix``: shares as percentages from 0 to 100%, missing cells
    blank, numbers written in the cells when it has at most ``ANNOTATE_UP_TO`` rows and
    columns (or as ``annotate`` says)."""
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter

    if annotate is None:
        annotate = max(matrix.shape) <= ANNOTATE_UP_TO
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
        annot_kws={"fontsize": NOTE},
        linewidths=0.5,
        linecolor="white",
        cbar_kws=colourbar,
    )
    if max(len(str(c)) for c in matrix.columns) > 3:  # long names would overlap
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.tick_params(axis="y", labelrotation=0)


def complete_and_not(
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
    style = line_style(i)
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


def twin_table(result: IntoFrame, columns: Sequence[str], twin: str) -> pd.DataFrame:
    """``result`` as pandas, checked to hold ``columns`` (``twin`` names the function whose
    result was expected, for the error)."""
    frame = to_pandas(result, what=f"the {twin} result")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"expected a {twin}() result; the frame lacks {missing} (it has {list(frame.columns)})"
        )
    return frame


def display_labels(values: pd.Series) -> pd.Series:
    """Group values as display text, missing ones as ``(missing)``."""
    return values.astype("object").where(values.notna(), MISSING_LABEL).astype("str")


def check_top(top: Any) -> None:
    """``top`` (groups to draw) is a whole number no larger than the palette."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(PALETTE):
        raise JourneyParameterError(
            f"top must be a whole number from 1 to {len(PALETTE)} (the colours a reader can "
            f"tell apart); got {top!r}"
        )


def naive_utc(values: pd.Series) -> pd.Series:
    """Times as naive UTC, which matplotlib places on a date axis without a zone."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


PERIOD_DAYS: tuple[tuple[str, int, int], ...] = (
    ("day", 1, 1),
    ("week", 7, 7),
    ("month", 28, 31),
    ("quarter", 89, 92),
    ("year", 365, 366),
)


def period_name(starts: pd.Series) -> str:
    """The calendar period between consecutive period starts, for labels ("period" when it
    cannot be told).

    Examples
    --------
    >>> period_name(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])))
    'month'
    >>> period_name(pd.Series(pd.to_datetime(["2024-01-01"])))
    'period'
    """
    distinct = pd.Series(pd.to_datetime(starts).unique()).sort_values()
    gaps = distinct.diff().dropna().dt.days
    if gaps.empty:
        return "period"
    shortest = gaps.min()
    return next((name for name, lo, hi in PERIOD_DAYS if lo <= shortest <= hi), "period")


DATE_LABEL: dict[str, Callable[[pd.Timestamp], str]] = {
    "month": lambda t: t.strftime("%Y-%m"),
    "quarter": lambda t: f"{t.year} Q{t.quarter}",
    "year": lambda t: str(t.year),
}


def date_labels(starts: pd.Series, period: str) -> list[str]:
    """Period starts as short text: 2024-03 for months, 2024 Q1, 2024, else the date.

    Examples
    --------
    >>> date_labels(pd.Series(pd.to_datetime(["2024-01-01", "2024-04-01"])), "quarter")
    ['2024 Q1', '2024 Q2']
    """
    label = DATE_LABEL.get(period, lambda t: t.strftime("%Y-%m-%d"))
    return [label(pd.Timestamp(t)) for t in starts]


def pct(value: float, decimals: int = 0) -> str:
    """A share as a percentage, a dash when missing.

    Examples
    --------
    >>> pct(0.256), pct(0.256, 1), pct(float("nan"))
    ('26%', '25.6%', '–')
    """
    return "–" if pd.isna(value) else f"{value:.{decimals}%}"


def ratio_forest(
    ax: Axes, values: Any, low: Any, high: Any, strong: np.ndarray, strong_label: str
) -> None:
    """A forest of ratios (odds or hazard) with their intervals, one row per value from
    the bottom, on a log axis with a dashed line at 1 (no effect): the ``strong`` ones
    filled in blue under ``strong_label``, the others hollow in grey as "could be chance".
    The axis is labelled in plain numbers at 1, 2 and 5 of each power of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    values = np.asarray(values, dtype=float)
    errors = np.vstack([values - np.asarray(low, float), np.asarray(high, float) - values])
    errors = errors.clip(min=0)
    y = np.arange(len(values))
    ax.axvline(1, color=GREY, linestyle="--", linewidth=1)
    for chosen, colour, face, label in (
        (strong, PALETTE[0], PALETTE[0], strong_label),
        (~strong, GREY, "white", "could be chance"),
    ):
        if chosen.any():
            ax.errorbar(
                values[chosen],
                y[chosen],
                xerr=errors[:, chosen],
                fmt="o",
                color=colour,
                markerfacecolor=face,
                capsize=3,
                label=label,
            )
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(-0.6, len(values) - 0.4)
