"""Cohort explorer: period, kind, cohort and return events, and a customer segment; the
retention heatmap (or, per segment, the first-period retention lines) updates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from .._engine import to_pandas
from ..analytics.retention import retention
from ..errors import JourneyDataError
from ..io.profile import LogProfile
from .base import JourneyWidget, by_arguments, by_choices, by_controls, by_settings, event_names

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MAX_LINES", "CohortExplorer", "first_period_lines"]

#: Periods offered: those notebook ``03_retention`` takes.
PERIODS: Sequence[str] = ("day", "week", "month", "quarter")
#: Most segments drawn as lines, those with the most customers: more would not read.
MAX_LINES = 5


class CohortExplorer(JourneyWidget):
    """Explore cohort retention by clicking: :func:`journey_lib.retention` as a widget.

    Controls (``.controls[name].value``): ``period`` ("day" ... "quarter"), ``kind``
    ("on" or "on_or_after"), ``cohort_event`` and ``return_event`` (event names, ``""`` for
    any event), ``by`` and ``by_rule`` (the customer segment, retention's ``by=``: see
    :func:`journey_lib.widgets.base.by_controls`). ``.data`` is ``retention(events,
    period=..., kind=..., cohort_event=..., return_event=..., max_periods=..., by=...,
    by_rule=...)``.

    Without a segment it is drawn with :func:`journey_lib.plots.retention` (the cohort
    heatmap). With one, with :func:`journey_lib.plots.rate_trends` of
    :func:`first_period_lines`: one line per segment, each cohort's first-period retention
    (``rate`` at period 1 of the cohorts whose first period is over), for the
    :data:`MAX_LINES` segments with the most customers; ``.data`` holds every segment's
    whole block. :meth:`to_report_params` writes ``period``, ``by`` and (for a log column)
    ``by_rule``, which notebook ``03_retention`` takes (a customer table's column is read
    from its ``customers_path``).

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine journey_lib accepts.
    period, kind, cohort_event, return_event : str
        The first settings (``""``: any event).
    max_periods : int, optional
        The largest offset shown (fixed).
    by, by_rule : str
        The first segment column (``""``: none; a usable column the control would not
        list, such as a 30-value country, is added to it: see
        :func:`~journey_lib.widgets.base.by_choices`) and rule.
    customers : pandas.DataFrame, optional
        A customer table (``customer_id`` and properties) whose columns are offered too.
    profile : LogProfile, optional
        Its ``properties`` are the log columns offered to break down by.

    Examples
    --------
    >>> import journey_lib as jl
    >>> events = jl.simulate(200, seed=0).events
    >>> explorer = CohortExplorer(events, by="channel", by_rule="last")
    >>> explorer.data.equals(jl.retention(events, by="channel", by_rule="last"))
    True
    >>> explorer  # doctest: +SKIP
    """

    notebook = "03_retention.ipynb"
    report_names = ("period", "by", "by_rule")

    def __init__(
        self,
        events: IntoFrame,
        *,
        period: str = "month",
        kind: str = "on",
        cohort_event: str = "",
        return_event: str = "",
        max_periods: int | None = None,
        by: str = "",
        by_rule: str = "first",
        customers: pd.DataFrame | None = None,
        profile: LogProfile | None = None,
    ) -> None:
        import ipywidgets as w

        self.events = events
        self.max_periods = max_periods
        self.customers = customers
        self.log_columns, self.table_columns = by_choices(events, customers, profile, by)
        names = [("(any event)", ""), *[(n, n) for n in event_names(events)]]
        controls = {
            "period": w.Dropdown(options=list(PERIODS), value=period, description="period"),
            "kind": w.Dropdown(options=["on", "on_or_after"], value=kind, description="kind"),
            "cohort_event": w.Dropdown(options=names, value=cohort_event, description="cohort"),
            "return_event": w.Dropdown(options=names, value=return_event, description="return"),
            **by_controls(self.log_columns, self.table_columns, by, by_rule),
        }
        super().__init__(controls)

    @property
    def params(self) -> dict[str, Any]:
        """The current settings (``by`` and ``by_rule`` only when they mean something: see
        :func:`journey_lib.widgets.base.by_settings`)."""
        return by_settings(super().params, self.log_columns)

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        result = retention(
            self.events,
            period=params["period"],
            kind=params["kind"],
            cohort_event=params["cohort_event"] or None,
            return_event=params["return_event"] or None,
            max_periods=self.max_periods,
            **by_arguments(params, self.customers, self.table_columns),
        )
        return to_pandas(result, what="retention")

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        by = params.get("by")
        if not by:
            return plots.retention(data)
        lines = first_period_lines(data, by)
        figure = plots.rate_trends(lines)
        # rate_trends titles headline rates; these lines are cohorts' retention.
        ax = figure.axes[0]
        ax.set_title(
            f"First-{params['period']} retention by {by}",
            fontsize=ax.title.get_fontsize(),
        )
        ax.set_xlabel(f"cohort ({params['period']} of first activity, UTC)")
        ax.set_ylabel("retained (share of the cohort)")
        return figure

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        cohorts = data["cohort"].nunique()
        text = f"{cohorts} {params['period']}ly cohorts, {params['kind']} retention"
        by = params.get("by")
        if by:
            segments = data[by].nunique()
            drawn = first_period_lines(data, by)["label"].unique()
            text += (
                f", {segments} segments by {by}; lines: {', '.join(drawn)} "
                f"(the {len(drawn)} largest with a finished first period)"
            )
        return text


def first_period_lines(data: pd.DataFrame, by: str, top: int = MAX_LINES) -> pd.DataFrame:
    """The lines the cohort explorer draws for a retention result broken down ``by`` a
    column: ``period`` (the cohort's start), ``label`` (the segment) and ``value`` (its
    ``rate`` at period 1), one row per cohort whose period 1 is over (``complete``), for
    the ``top`` segments with the most customers (cohort sizes at period 0 summed; ties by
    segment) among those with such a cohort, largest first.

    Raises
    ------
    JourneyDataError
        No segment has a cohort whose first period is over (shown as a message).
    """
    first = data[(data["period"] == 1) & data["complete"]]
    if first.empty:
        raise JourneyDataError("no cohort's first period is over yet: nothing to draw per segment")
    sizes = data[data["period"] == 0].groupby(by)["cohort_size"].sum()
    sizes = sizes[sizes.index.isin(first[by])].reset_index()
    ranked = sizes.sort_values(["cohort_size", by], ascending=[False, True], kind="stable")
    order = ranked[by].head(top).tolist()
    kept = first[first[by].isin(order)].assign(_rank=lambda t: t[by].map(order.index))
    lines = kept.sort_values(["_rank", "cohort"], kind="stable")
    return pd.DataFrame(
        {"period": lines["cohort"], "label": lines[by], "value": lines["rate"]}
    ).reset_index(drop=True)
