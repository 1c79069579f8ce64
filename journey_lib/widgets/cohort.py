"""Cohort explorer: period, kind, cohort and return events; the retention heatmap updates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from .._engine import to_pandas
from ..analytics.retention import retention
from .base import JourneyWidget
from .funnel import describe_log

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CohortExplorer"]

#: Periods offered: those notebook ``03_retention`` takes.
PERIODS: Sequence[str] = ("day", "week", "month", "quarter")


class CohortExplorer(JourneyWidget):
    """Explore cohort retention by clicking: :func:`journey_lib.retention` as a widget.

    Controls (``.controls[name].value``): ``period`` ("day" ... "quarter"), ``kind``
    ("on" or "on_or_after"), ``cohort_event`` and ``return_event`` (event names, ``""`` for
    any event). ``.data`` is ``retention(events, period=..., kind=..., cohort_event=...,
    return_event=..., max_periods=...)``, drawn with :func:`journey_lib.plots.retention`.
    Notebook ``03_retention`` takes only ``period``, so :meth:`to_report_params` writes only
    that.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine journey_lib accepts.
    period, kind, cohort_event, return_event : str
        The first settings (``""``: any event).
    max_periods : int, optional
        The largest offset shown (fixed).

    Examples
    --------
    >>> explorer = CohortExplorer(events, cohort_event="signup")  # doctest: +SKIP
    >>> explorer.controls["return_event"].value = "purchase"  # doctest: +SKIP
    >>> explorer  # doctest: +SKIP
    """

    notebook = "03_retention.ipynb"
    report_names = ("period",)

    def __init__(
        self,
        events: IntoFrame,
        *,
        period: str = "month",
        kind: str = "on",
        cohort_event: str = "",
        return_event: str = "",
        max_periods: int | None = None,
    ) -> None:
        import ipywidgets as w

        self.events = events
        self.max_periods = max_periods
        names = [("(any event)", ""), *[(n, n) for n in describe_log(events)[0]]]
        controls = {
            "period": w.Dropdown(options=list(PERIODS), value=period, description="period"),
            "kind": w.Dropdown(options=["on", "on_or_after"], value=kind, description="kind"),
            "cohort_event": w.Dropdown(options=names, value=cohort_event, description="cohort"),
            "return_event": w.Dropdown(options=names, value=return_event, description="return"),
        }
        super().__init__(controls)

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        result = retention(
            self.events,
            period=params["period"],
            kind=params["kind"],
            cohort_event=params["cohort_event"] or None,
            return_event=params["return_event"] or None,
            max_periods=self.max_periods,
        )
        return to_pandas(result, what="retention")

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        return plots.retention(data)

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        cohorts = data["cohort"].nunique()
        return f"{cohorts} {params['period']}ly cohorts, {params['kind']} retention"
