"""What goes with an outcome, as a forest plot: each driver's odds ratio with its interval.

The figure draws the result of :func:`journey_lib.drivers`, its data twin, and returns the
Figure. Drivers are associations, not causes; the figure's title says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..analytics.segments import one_segment
from ..churn.drivers import feature_label
from ..errors import JourneyDataError, JourneyParameterError
from ._style import NOTE, axes_or_new, decorate, ratio_forest, twin_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["drivers_forest"]

_COLUMNS = ("feature", "value", "odds_ratio", "ci_low", "ci_high", "p_adjusted", "tested")


def drivers_forest(
    result: Any,
    *,
    n: int = 15,
    alpha: float = 0.05,
    outcome: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The strongest drivers of an outcome as a forest plot: odds ratios with intervals.

    Data twin: :func:`journey_lib.drivers` (the Drivers, or its ``.table``). One row per
    driver, strongest on top: the ``n`` tested drivers with an odds ratio whose effect, the
    distance of the odds ratio from 1 on the log scale, is largest (either way), each a
    point at its ``odds_ratio`` with a line from ``ci_low`` to ``ci_high``. The x axis is
    logarithmic, so an odds ratio of 2 and one of 1/2 lie equally far from the line at 1 (no
    association). Drivers whose ``p_adjusted`` (Benjamini-Hochberg) is below ``alpha`` are
    drawn filled in blue; the others, which could be chance, hollow in grey. Rows without
    an odds ratio (untested, everyone or no one has the feature, or hidden on a report
    page) are left out. A table broken down ``by=`` is drawn one segment at a time.

    Parameters
    ----------
    result : Drivers or DataFrame
        The drivers, or their table.
    n : int, default 15
        Most drivers drawn.
    alpha : float, default 0.05
        Threshold of ``p_adjusted`` for "beyond chance".
    outcome : str, optional
        Names the outcome in the title (default: the Drivers' own, else "the outcome").
    ax : Axes, optional
        Drawn into; by default a new figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "feature": ["event", "channel", "event"], "value": ["signup", "web", "visit"],
    ...     "odds_ratio": [4.0, 0.5, 1.1], "ci_low": [2.0, 0.3, 0.8], "ci_high": [8.0, 0.8, 1.5],
    ...     "p_adjusted": [0.001, 0.01, 0.6], "tested": [True, True, True]})
    >>> figure = drivers_forest(table, outcome="conversion")
    >>> [t.get_text() for t in figure.axes[0].get_yticklabels()]  # bottom to top
    ['visit', 'channel = web', 'signup']
    >>> figure.axes[0].get_xscale()
    'log'
    >>> plt.close(figure)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise JourneyParameterError(f"n must be a whole number of drivers, 1 or more; got {n!r}")
    table = getattr(result, "table", result)
    outcome = outcome or getattr(result, "outcome", None) or "the outcome"
    frame = twin_table(table, _COLUMNS, "drivers")
    frame = one_segment(frame, "feature", "the drivers forest plot")
    odds = pd.to_numeric(frame["odds_ratio"], errors="coerce")
    low = pd.to_numeric(frame["ci_low"], errors="coerce")
    high = pd.to_numeric(frame["ci_high"], errors="coerce")
    usable = frame["tested"].astype(bool) & (odds > 0) & np.isfinite(odds) & (low > 0)
    usable &= high.notna()
    if not usable.any():
        raise JourneyDataError(f"no tested driver of {outcome} has an odds ratio to draw")
    effect = np.abs(np.log(odds[usable]))
    # Strongest n, then drawn bottom to top so the strongest is on top.
    shown = frame[usable].assign(_effect=effect).sort_values("_effect", ascending=False)
    shown = shown.head(n).iloc[::-1]
    y = np.arange(len(shown))
    strong = (pd.to_numeric(shown["p_adjusted"], errors="coerce") < alpha).to_numpy()
    ax = axes_or_new(ax, (8, 1.6 + 0.4 * len(shown)))
    label = f"beyond chance (adjusted p < {alpha:g})"
    ratio_forest(ax, shown["odds_ratio"], shown["ci_low"], shown["ci_high"], strong, label)
    ax.set_yticks(
        y, [feature_label(f, v) for f, v in zip(shown["feature"], shown["value"], strict=True)]
    )
    ax.legend(fontsize=NOTE, frameon=False, loc="best")
    return decorate(
        ax,
        f"What goes with {outcome} (associations, not causes)",
        "odds ratio with its interval (log scale; 1 = no association)",
        "event or property value",
    )
