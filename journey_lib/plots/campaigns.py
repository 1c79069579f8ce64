"""Figures of retention campaigns: what the offer did to each arm, how well uplift models
rank customers (Qini curves), and what targeting by uplift earns beside targeting by risk.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import JourneyDataError
from ._style import GREY, NOTE, PALETTE, axes_or_new, decorate, line_style, percent, twin_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..uplift.targeting import TargetingComparison

__all__ = ["campaign_arms", "qini_curves", "targeting_comparison"]


def campaign_arms(effect: Any, *, ax: Axes | None = None) -> Figure:
    """Each arm's churn within the campaign's window, the effect and its interval in the
    title.

    Data twin: :func:`journey_lib.uplift.campaign_effect`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd, journey_lib as jl
    >>> arms = pd.DataFrame({"treated": [1] * 100 + [0] * 100,
    ...                      "churned": [1] * 20 + [0] * 80 + [1] * 30 + [0] * 70})
    >>> figure = jl.plots.campaign_arms(jl.uplift.campaign_effect(arms))
    >>> [round(float(b.get_height()), 2) for b in figure.axes[0].patches]
    [0.3, 0.2]
    >>> plt.close(figure)
    """
    table = twin_table(effect, ("treated_rate", "holdout_rate", "effect"), "campaign_effect")
    row = table.iloc[0]
    ax = axes_or_new(ax, (6, 4))
    labels = [f"held out\n({row['holdout']:,} customers)", f"offered\n({row['treated']:,})"]
    rates = [row["holdout_rate"], row["treated_rate"]]
    bars = ax.bar(labels, rates, color=[GREY, PALETTE[0]], width=0.55)
    for bar, rate in zip(bars, rates, strict=True):
        ax.annotate(
            f"{rate:.1%}",
            (bar.get_x() + bar.get_width() / 2, rate),
            ha="center",
            va="bottom",
            fontsize=NOTE,
        )
    percent(ax.yaxis)
    title = (
        f"Churn in each arm: the offer changed it by {row['effect'] * 100:+.1f} points "
        f"({row['low'] * 100:+.1f} to {row['high'] * 100:+.1f})"
    )
    return decorate(ax, textwrap.fill(title, 55), "", "churned within the window")


def qini_curves(curves: Mapping[str, Any], *, ax: Axes | None = None) -> Figure:
    """Qini curves of several rankings of the same customers, with the random ranking's
    straight line: the higher above it, the better a ranking finds whom the offer keeps.

    Data twin: :func:`journey_lib.uplift.qini_curve`, one per ranking (name -> curve).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, journey_lib as jl
    >>> curve = jl.uplift.qini_curve([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2], [1, 1, 0, 0])
    >>> figure = jl.plots.qini_curves({"model": curve})
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['model', 'random']
    >>> plt.close(figure)
    """
    if not curves:
        raise JourneyDataError("no Qini curve to draw")
    ax = axes_or_new(ax, (8, 4.5))
    for i, (name, curve) in enumerate(curves.items()):
        frame = twin_table(curve, ("customers", "qini"), "qini_curve")
        share = frame["customers"] / frame["customers"].iloc[-1]
        ax.plot(share, frame["qini"], label=str(name), **line_style(i, markers=False))
    last = twin_table(next(iter(curves.values())), ("customers", "qini"), "qini_curve")
    ax.plot([0, 1], [0, last["qini"].iloc[-1]], color=GREY, linestyle="--", label="random")
    ax.axhline(0, color="black", linewidth=0.8)
    percent(ax.xaxis)
    ax.legend(fontsize=NOTE)
    return decorate(
        ax,
        "Qini curves: extra customers with the outcome among those ranked first",
        "share of customers, ranked by predicted uplift",
        "extra outcomes (Qini)",
    )


def targeting_comparison(result: TargetingComparison, *, ax: Axes | None = None) -> Figure:
    """The profit of contacting the top customers by risk and by uplift, each plan's choice
    marked: realised on the campaign's customers when the comparison has outcomes, else as
    each ranking expects.

    Data twin: :func:`journey_lib.uplift.compare_targeting`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd, journey_lib as jl
    >>> X = pd.DataFrame({"kind": ["a", "a", "b", "b"]})
    >>> both = jl.uplift.compare_targeting(X, uplift=[0.1, 0.1, -0.2, -0.2],
    ...     risk=[0.6, 0.6, 0.3, 0.3], offer_cost=5, save_rate=0.3, value=100)
    >>> figure = jl.plots.targeting_comparison(both)
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['by risk (expected)', 'by uplift (expected)']
    >>> plt.close(figure)
    """
    ax = axes_or_new(ax, (9, 5))
    for i, (name, plan) in enumerate(result.plans.items()):
        curve = plan.curve
        column = "realised_profit" if "realised_profit" in curve else "expected_profit"
        what = "realised" if column == "realised_profit" else "expected"
        style = line_style(i, markers=False)
        ax.plot(curve["share"], curve[column], label=f"{name} ({what})", **style)
        chosen = plan.chosen
        ax.plot(
            [curve["share"].iloc[chosen]],
            [curve[column].iloc[chosen]],
            marker="o",
            color=style.get("color", PALETTE[i]),
            linestyle="none",
        )
    ax.axhline(0, color="black", linewidth=0.8)
    percent(ax.xaxis)
    ax.legend(fontsize=NOTE)
    offer = next(iter(result.plans.values())).offer_cost
    title = (
        f"Whom to offer (cost {offer:,.2f} each): profit by share contacted, best first; "
        "dots: each plan's choice"
    )
    return decorate(ax, textwrap.fill(title, 60), "share of customers contacted", "profit")
