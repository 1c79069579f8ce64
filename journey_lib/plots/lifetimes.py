"""Figures of time to churn: survival curves with their bands, hazard ratios as a forest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import JourneyDataError
from ._style import NOTE, axes_or_new, decorate, line_style, percent, ratio_forest

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["hazard_ratios", "survival_curves"]


def survival_curves(curves: Any, *, unit: str = "days", ax: Axes | None = None) -> Figure:
    """Kaplan-Meier curves as steps from 100% at time 0, one per segment, each with its
    interval as a band and the share still there at the end in the legend.

    Data twin: :func:`journey_lib.survival.kaplan_meier` (the SurvivalCurves).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd, journey_lib as jl
    >>> c = pd.DataFrame({"duration": [2, 3, 3, 5, 4, 9], "churned": [1, 1, 0, 1, 1, 0],
    ...                   "plan": ["a", "a", "a", "b", "b", "b"]})
    >>> figure = jl.survival.kaplan_meier(c, by="plan").plot()
    >>> [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    ['a (3 customers)', 'b (3 customers)']
    >>> plt.close(figure)
    """
    blocks = curves._blocks()
    if curves.table.empty:
        raise JourneyDataError("no survival curve to draw")
    ax = axes_or_new(ax, (8, 4.5))
    for i, (keys, rows) in enumerate(blocks):
        # A step from (0, 100%) through each time; the band follows the same steps.
        time = np.concatenate(([0.0], rows["time"].to_numpy(float)))
        s = np.concatenate(([1.0], rows["survival"].to_numpy(float)))
        low = np.concatenate(([1.0], rows["survival_low"].to_numpy(float)))
        high = np.concatenate(([1.0], rows["survival_high"].to_numpy(float)))
        name = " | ".join(str(v) for v in keys.values()) or "all customers"
        style = line_style(i, markers=False)
        ax.step(
            time,
            s,
            where="post",
            label=f"{name} ({int(rows['at_risk'].iloc[0]):,} customers)",
            **style,
        )
        ax.fill_between(time, low, high, step="post", color=style["color"], alpha=0.15, linewidth=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    percent(ax.yaxis)
    ax.legend(fontsize=NOTE, frameon=False, loc="best")
    level = f"{curves.confidence:.0%}"
    return decorate(
        ax,
        "How long customers stay",
        f"time since acquisition ({unit})",
        f"still a customer (band: {level} interval)",
    )


def hazard_ratios(model: Any, *, alpha: float = 0.05, ax: Axes | None = None) -> Figure:
    """A Cox model's hazard ratios with their intervals, largest effect on top, on a log
    axis: right of 1 shortens lifetimes, left of 1 lengthens them. Features whose p-value
    is below ``alpha`` are filled; the others, which could be chance, hollow in grey.

    Data twin: :class:`journey_lib.survival.CoxModel` (the fitted model, or its
    ``summary_``).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> table = pd.DataFrame({"hazard_ratio": [2.0, 0.8], "low": [1.5, 0.5], "high": [2.6, 1.3],
    ...                       "p": [0.001, 0.4]}, index=["plan=basic", "age"])
    >>> figure = hazard_ratios(table)
    >>> [t.get_text() for t in figure.axes[0].get_yticklabels()]  # bottom to top
    ['age', 'plan=basic']
    >>> plt.close(figure)
    """
    table = getattr(model, "summary_", model)
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise JourneyDataError("no hazard ratio to draw: fit the Cox model first")
    shown = table.assign(_effect=np.abs(np.log(table["hazard_ratio"])))
    shown = shown.sort_values("_effect").reset_index(names="feature")
    y = np.arange(len(shown))
    strong = (shown["p"] < alpha).to_numpy()
    ax = axes_or_new(ax, (8, 1.6 + 0.4 * len(shown)))
    label = f"beyond chance (p < {alpha:g})"
    ratio_forest(ax, shown["hazard_ratio"], shown["low"], shown["high"], strong, label)
    ax.set_yticks(y, shown["feature"].astype(str).tolist())
    ax.legend(fontsize=NOTE, frameon=False, loc="best")
    return decorate(
        ax,
        "What shortens or lengthens a customer's life (hazard ratios)",
        "hazard ratio with its interval (log scale; above 1 = leaves sooner)",
        "feature",
    )
