"""Funnel builder: steps, order, window, breakdown and date range; the funnel updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from .._engine import to_pandas
from ..analytics.dates import within
from ..analytics.funnels import funnel
from ..errors import JourneyParameterError
from .base import JourneyWidget, picker_date

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FunnelBuilder"]

#: Columns that are not properties to break a funnel down by.
_NOT_BREAKDOWNS = ("customer_id", "timestamp", "event", "value")


class FunnelBuilder(JourneyWidget):
    """Build a conversion funnel by clicking: :func:`journey_lib.funnel` as a widget.

    Controls (``.controls[name].value``): ``steps`` (event names in order, picked from the
    log's events and reordered by dragging), ``order`` ("ordered", "strict", "any"),
    ``window`` (``"30D"``; ``""`` for none), ``breakdown`` (a column, ``""`` for none),
    ``start`` and ``end`` (dates, ``None`` to leave that end open). The date range cuts the
    log first, ``within(events, start, end)`` (half-open), exactly as notebook
    ``02_funnels`` reads its ``start`` and ``end``, so a funnel explored here and the report
    written from :meth:`to_report_params` count the same attempts: steps taken after ``end``
    do not count.

    ``.data`` is ``funnel(within(events, start, end), steps, window=..., order=...,
    breakdown=...)``, drawn with :func:`journey_lib.plots.funnel` (or
    :func:`journey_lib.plots.funnel_breakdown` with a breakdown) and shown with its table.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine journey_lib accepts.
    steps : sequence of str
        The first steps.
    window, order, breakdown : str
        The first settings; ``""`` means no window and no breakdown.
    start, end : str, date or None
        The first date range; ``None`` or ``""`` leaves that end open.

    Examples
    --------
    >>> builder = FunnelBuilder(events, ["ad_view", "site_visit", "purchase"])  # doctest: +SKIP
    >>> builder.controls["window"].value = "7D"  # doctest: +SKIP
    >>> builder  # doctest: +SKIP
    """

    notebook = "02_funnels.ipynb"
    report_names = ("steps", "window", "order", "breakdown", "start", "end")

    def __init__(
        self,
        events: IntoFrame,
        steps: Sequence[str] = ("ad_view", "site_visit", "signup", "purchase"),
        *,
        window: str = "30D",
        order: str = "ordered",
        breakdown: str = "",
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> None:
        import ipywidgets as w

        self.events = events
        names, columns = describe_log(events)
        controls = {
            "steps": w.TagsInput(
                value=list(steps), allowed_tags=names, allow_duplicates=True, description="steps"
            ),
            "order": w.Dropdown(
                options=["ordered", "strict", "any"], value=order, description="order"
            ),
            "window": w.Text(value=window, description="window", continuous_update=False),
            "breakdown": w.Dropdown(
                options=[("(none)", ""), *[(c, c) for c in columns]],
                value=breakdown,
                description="breakdown",
            ),
            "start": w.DatePicker(value=picker_date(start), description="start"),
            "end": w.DatePicker(value=picker_date(end), description="end"),
        }
        super().__init__(controls)

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        events = within(self.events, params["start"], params["end"])
        return to_pandas(funnel(events, **self.funnel_arguments(params)), what="funnel")

    def funnel_arguments(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The arguments of :func:`journey_lib.funnel` for these settings (the current ones
        by default), applied to the log cut to the date range."""
        params = self.params if params is None else params
        return {
            "steps": list(params["steps"]),
            "window": params["window"].strip() or None,
            "order": params["order"],
            "breakdown": params["breakdown"] or None,
        }

    def report_params(self) -> dict[str, Any]:
        params = super().report_params()
        if not params["window"].strip():
            raise JourneyParameterError(
                f"{self.notebook} needs a window (e.g. '30D'); the funnel without one cannot "
                f"be written as its parameters"
            )
        return params

    def is_empty(self, data: pd.DataFrame) -> bool:
        return len(data) == 0 or not data["customers"].any()

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        if params["breakdown"]:
            return plots.funnel_breakdown(data)
        return plots.funnel(data)

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        return data.to_string(index=False, max_rows=40)


def describe_log(events: IntoFrame) -> tuple[list[str], list[str]]:
    """The log's event names and its breakdown columns."""
    frame = nw.from_native(events)
    names = frame.select(nw.col("event").drop_nulls().unique())
    if isinstance(frame, nw.LazyFrame):
        names = names.collect()
    columns = [c for c in frame.columns if c not in _NOT_BREAKDOWNS]
    return sorted(str(n) for n in names["event"].to_list()), columns
