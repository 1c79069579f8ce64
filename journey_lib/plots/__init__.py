"""One function per figure, each a thin view of a data twin.

Every function draws a DataFrame (or result object) that a journey_lib function returns, its
*data twin*, named in each docstring, and computes nothing beyond reshaping it for display:
pivoting, ordering, keeping the largest groups, folding a long tail into one bar. What a
figure shows can so always be read, tested and exported as a table.

Conventions
-----------
* Functions are named after their twin: ``plots.funnel(jl.funnel(events, steps))``,
  ``plots.retention(jl.retention(events))``, ``plots.roc(roc_points(y, scores))``.
* Each returns the matplotlib Figure. Each takes ``ax=None`` (``axes=`` for the panels of
  :func:`partial_dependence`): a new figure is made when None, else the figure is drawn
  into the given Axes and the Figure they belong to is returned.
* Every figure is titled and its axes labelled; fonts are at least 10 pt; colours come from
  Okabe and Ito's colour-blind-safe palette (:data:`PALETTE`), and lines also differ by
  marker (:data:`MARKERS`) and bars of a breakdown by hatch, so figures survive grayscale
  print; shares are shown as percentages.
* Frames of any engine are accepted and collected to pandas: results are small.
* Time axes are in UTC, as every journey_lib period is.

The figures live in one module per domain: ``journeys`` (touchpoints, paths, funnels),
``flows`` (journey maps: path flows as a Sankey diagram, customers moving between stages,
the touchpoint graph), ``cohorts`` (retention, churn rate, lifecycle, loyalty, RFM, customer
value), ``models`` (churn model evaluation, explanation and targeting), ``credit``
(attribution), ``drivers`` (what goes with an outcome: odds ratios as a
forest plot), ``lifetimes`` (time to churn: survival curves, hazard ratios),
``segments`` (segment journeys side by side, the segment heatmap),
``summary`` (a report's summary page) and ``teaching``; the house style is
in ``_style``, the geometry of flow diagrams in ``_sankey``.
matplotlib (and seaborn, for heatmaps) are imported when a figure is drawn, not when
journey_lib is imported.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> import journey_lib as jl
>>> events = jl.simulate(300, seed=0).events
>>> figure = jl.plots.funnel(jl.funnel(events, ["ad_view", "site_visit", "purchase"]))
>>> figure.axes[0].get_title()
'Conversion funnel (red: drop-off from the previous step)'
>>> plt.close(figure)
"""

from __future__ import annotations

import warnings
from typing import Any

from ._style import MARKERS, PALETTE
from .campaigns import campaign_arms, qini_curves, targeting_comparison
from .changes import change_breakdown, change_series, changes_heatmap
from .cohorts import (
    LOYALTY_RATES,
    churn_rate,
    customer_value,
    lifecycle,
    loyalty,
    retention,
    rfm_segments,
)
from .credit import attribution, attribution_models
from .drivers import drivers_forest
from .flows import path_flows, stage_flows, transition_graph
from .journeys import (
    funnel,
    funnel_breakdown,
    funnel_trend,
    paths,
    time_to_convert,
    timeline,
    touchpoints_per_customer,
    transition_matrix,
    volumes,
)
from .lifetimes import hazard_ratios, survival_curves
from .models import (
    calibration,
    gains,
    importance,
    lift,
    partial_dependence,
    precision_recall,
    profit_curve,
    roc,
)
from .segments import segment_churn, segment_heatmap, segment_retention, segment_stage_funnels
from .summary import rate_trends, value_at_risk
from .teaching import what_if

__all__ = [
    "LOYALTY_RATES",
    "MARKERS",
    "PALETTE",
    "attribution",
    "attribution_models",
    "calibration",
    "campaign_arms",
    "change_breakdown",
    "change_series",
    "changes_heatmap",
    "churn_rate",
    "customer_value",
    "drivers_forest",
    "funnel",
    "funnel_breakdown",
    "funnel_trend",
    "gains",
    "hazard_ratios",
    "importance",
    "lifecycle",
    "lift",
    "loyalty",
    "partial_dependence",
    "path_flows",
    "paths",
    "precision_recall",
    "profit_curve",
    "qini_curves",
    "rate_trends",
    "retention",
    "rfm_segments",
    "roc",
    "segment_churn",
    "segment_heatmap",
    "segment_retention",
    "segment_stage_funnels",
    "stage_flows",
    "survival_curves",
    "targeting_comparison",
    "time_to_convert",
    "timeline",
    "touchpoints_per_customer",
    "transition_graph",
    "transition_matrix",
    "value_at_risk",
    "volumes",
    "what_if",
]

# The curve points compute data, so they moved to journey_lib.churn.evaluation; the old
# names keep working, with a warning, for one release.
_MOVED = {"roc_points", "pr_points"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from ..churn import evaluation

        warnings.warn(
            f"journey_lib.plots.{name} moved to journey_lib.churn.evaluation.{name}; the old "
            f"name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(evaluation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
