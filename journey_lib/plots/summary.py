"""Figures of a report's summary page: the headline rates over time and the value at risk
by segment.

Each function draws a small table (its data twin, named in its docstring) and returns the
Figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from narwhals.typing import IntoFrame

from ._style import (
    NOTE,
    PALETTE,
    axes_or_new,
    decorate,
    line_style,
    naive_utc,
    pct,
    percent,
    period_name,
    twin_table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["rate_trends", "value_at_risk"]


def rate_trends(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Rates over time, one line each, the latest value written at its end.

    Data twin: the ``trend`` of :func:`journey_lib.report.headline` (``period``,
    ``label``, ``value``), or any long table of rates by period.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> trend = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-01-01", "2024-02-01"] * 2, utc=True),
    ...     "label": ["Churn rate"] * 2 + ["Conversion rate"] * 2,
    ...     "value": [0.20, 0.18, 0.25, 0.21]})
    >>> figure = rate_trends(trend)
    >>> [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    ['Churn rate', 'Conversion rate']
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("period", "label", "value"), "headline trend")
    ax = axes_or_new(ax, (8, 3.6))
    for i, (label, rates) in enumerate(frame.groupby("label", sort=False)):
        rates = rates.sort_values("period")
        times = naive_utc(rates["period"])
        ax.plot(times, rates["value"], label=label, **line_style(i))
        if len(rates):
            ax.annotate(
                pct(rates["value"].iloc[-1]),
                (times.iloc[-1], rates["value"].iloc[-1]),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=NOTE,
                color=PALETTE[i % len(PALETTE)],
            )
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    # Concise dates: "Jan, Feb, ..." with the year once, which fits a half-page figure.
    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    percent(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=NOTE, frameon=False, loc="upper left", bbox_to_anchor=(1.06, 1))
    period = period_name(frame["period"])
    return decorate(ax, f"Headline rates per {period}", f"{period} starting (UTC)", "rate")


def value_at_risk(
    result: IntoFrame, *, currency: str | None = None, ax: Axes | None = None
) -> Figure:
    """Value at risk of each customer segment as horizontal bars, largest on top, with the
    customers at risk written beside each bar ("hidden" where the count is missing, as a
    report's ``min_cell`` leaves it). ``currency`` names the axis' unit.

    Data twin: a table with ``segment``, ``value_at_risk`` and ``at_risk_customers``
    (:func:`journey_lib.report.value_by_segment` of an at-risk list).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> table = pd.DataFrame({"segment": ["loyal", "new"], "value_at_risk": [900.0, 300.0],
    ...                       "at_risk_customers": [12, 30]})
    >>> figure = value_at_risk(table)
    >>> [t.get_text() for t in figure.axes[0].get_yticklabels()]
    ['new', 'loyal']
    >>> [t.get_text() for t in figure.axes[0].texts]
    [' 30 at risk', ' 12 at risk']
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("segment", "value_at_risk", "at_risk_customers"), "segment")
    frame = frame.sort_values("value_at_risk", kind="stable")
    ax = axes_or_new(ax, (8, max(2.4, 0.45 * len(frame) + 1.2)))
    labels = frame["segment"].astype(str)
    ax.barh(labels, frame["value_at_risk"], color=PALETTE[3])
    pairs = zip(frame["value_at_risk"], frame["at_risk_customers"], strict=True)
    for y, (value, customers) in enumerate(pairs):
        count = "hidden" if pd.isna(customers) else f"{round(customers):,}"
        ax.annotate(f" {count} at risk", (value, y), va="center", fontsize=NOTE)
    # Room for the labels; customers at risk worth nothing still get an axis, not 0 to 0.
    top = frame["value_at_risk"].max() if len(frame) else 0
    ax.set_xlim(0, top * 1.3 if top > 0 else 1)
    unit = f" ({currency.upper()})" if currency else ""
    return decorate(ax, "Value at risk by segment", f"expected value lost to churn{unit}", "")
