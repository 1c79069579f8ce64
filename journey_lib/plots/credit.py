"""Figures of attribution: which channels get the credit for conversions, under one model
and under several side by side.

Each function draws the result of one journey_lib function, its data twin, named in its
docstring, and returns the Figure.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..errors import JourneyDataError
from ._style import (
    NOTE,
    PALETTE,
    axes_or_new,
    decorate,
    display_labels,
    heatmap,
    pct,
    twin_table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["attribution", "attribution_models"]


def attribution(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Each channel's credit for the conversions, largest first, with its interval.

    Data twin: :func:`journey_lib.attribute` (one row per channel or event, its column
    first; ``conversions`` credit and, with ``n_boot``, ``conversions_lower`` and
    ``conversions_upper`` drawn as error bars). A missing credit (hidden on a report page)
    is a gap, and the title counts the conversions shown.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> figure = jl.plots.attribution(jl.attribute(events, n_boot=20, seed=0))
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()][:3]
    ['web', 'email', 'app']
    >>> plt.close(figure)
    """
    frame = twin_table(result, ("conversions", "share"), "attribute")
    if "stage" in frame.columns:
        raise JourneyDataError(
            "plots.attribution draws one goal; for attribute_stages() pick a stage first, "
            "e.g. table[table['stage'] == 'Purchase'].drop(columns='stage')"
        )
    label = frame.columns[0]
    frame = frame.sort_values("conversions", ascending=False, kind="stable")
    rows = np.arange(len(frame))
    ax = axes_or_new(ax, (9, max(3.5, 0.45 * len(frame) + 1.5)))
    error = None
    if {"conversions_lower", "conversions_upper"} <= set(frame.columns):
        error = np.vstack(
            [
                frame["conversions"] - frame["conversions_lower"],
                frame["conversions_upper"] - frame["conversions"],
            ]
        ).clip(min=0)
    bars = ax.barh(rows, frame["conversions"], xerr=error, color=PALETTE[0], capsize=3)
    ax.bar_label(bars, labels=[pct(s) for s in frame["share"]], padding=4, fontsize=NOTE)
    ax.set_yticks(rows, display_labels(frame[label]))
    ax.invert_yaxis()
    ax.margins(x=0.12)
    total = frame["conversions"].sum()
    title = f"Credit for {total:,.0f} conversions by {label}"
    if frame["conversions"].isna().any():
        title = f"Credit for {total:,.0f} conversions by {label} shown (the rest hidden)"
    if error is not None:
        title += " (bars: bootstrap interval)"
    return decorate(ax, textwrap.fill(title, 60), "conversions credited", label)


def attribution_models(result: IntoFrame, *, ax: Axes | None = None) -> Figure:
    """Every model's split of the credit, as shares of each model's total (a heatmap).

    Data twin: :func:`journey_lib.compare_attribution` (one row per channel, one column per
    model); each column is divided by its sum, so models that agree look alike whatever
    the measure compared.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> events = jl.simulate(300, seed=0).events
    >>> twin = jl.compare_attribution(events, ["first_touch", "last_touch", "markov"])
    >>> figure = jl.plots.attribution_models(twin)
    >>> [label.get_text() for label in figure.axes[0].get_xticklabels()]
    ['first touch', 'last touch', 'markov']
    >>> plt.close(figure)
    """
    frame = to_pandas(result, what="the compare_attribution result")
    label = frame.columns[0]
    models = [c for c in frame.columns[1:] if pd.api.types.is_numeric_dtype(frame[c])]
    if not models:
        raise JourneyDataError(
            f"expected a compare_attribution() result: one label column, then one numeric "
            f"column per model; got {list(frame.columns)}"
        )
    matrix = frame.set_index(display_labels(frame[label]))[models]
    matrix = matrix / matrix.sum().replace(0, np.nan)
    ax = axes_or_new(ax, (1.3 * len(models) + 4, 0.45 * len(matrix) + 2))
    heatmap(ax, matrix, share=True, annotate=None, label="share of the model's credit")
    ax.set_xticks(ax.get_xticks(), [m.replace("_", " ") for m in models])
    return decorate(ax, "Attribution models side by side", "model", label)
