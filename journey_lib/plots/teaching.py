"""Figures of the teaching notebooks: what the simulated journey does when a driver changes.

Each function draws the result of one journey_lib function, its data twin, named in its
docstring, and returns the Figure.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
from narwhals.typing import IntoFrame

from ._style import GREY, NOTE, PALETTE, axes_or_new, decorate, percent, twin_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["what_if"]


def what_if(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Each outcome of the baseline beside the scenario's, with the change and its margin.

    Data twin: :func:`journey_lib.what_if`. Bars are percentages (every measure is a share
    or a level from 0 to 1); the label of a scenario bar gives the change in points, and
    ``±`` the margin within which chance alone would put it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> figure = jl.plots.what_if(jl.what_if(jl.simulate(300, seed=0), keeping_promises=0.6))
    >>> figure.axes[0].get_title()
    'What if: keeping_promises 0.6'
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("measure", "baseline", "scenario", "change", "margin"), "what_if")
    rows = np.arange(len(frame))
    ax = axes_or_new(ax, (9, 5))
    height = 0.38
    ax.barh(rows - height / 2, frame["baseline"], height, color=GREY, label="baseline")
    bars = ax.barh(rows + height / 2, frame["scenario"], height, color=PALETTE[0], label="scenario")
    labels = [
        f"{change * 100:+.1f} pts (±{margin * 100:.1f})"
        for change, margin in zip(frame["change"], frame["margin"], strict=True)
    ]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=NOTE)
    ax.set_yticks(rows, frame["measure"].str.replace("_", " "))
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25)
    percent(ax.xaxis)
    ax.legend(loc="lower right", fontsize=NOTE)
    changes = getattr(result, "attrs", {}).get("changes") or {}
    scenario = ", ".join(f"{name} {value:g}" for name, value in changes.items()) or "no change"
    title = textwrap.fill(f"What if: {scenario}", 70)
    return decorate(ax, title, "share of buyers (trust: its level)", "outcome")
