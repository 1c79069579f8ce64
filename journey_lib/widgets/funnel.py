"""Funnel builder: steps, order, window, breakdown, segments and date range; the funnel
updates."""

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
from ..io.profile import LogProfile
from .base import (
    JourneyWidget,
    by_arguments,
    by_choices,
    by_controls,
    by_settings,
    event_names,
    picker_date,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FunnelBuilder"]

#: Columns that are not properties to break a funnel down by.
_NOT_BREAKDOWNS = ("customer_id", "timestamp", "event", "value")


class FunnelBuilder(JourneyWidget):
    """Build a conversion funnel by clicking: :func:`journey_lib.funnel` as a widget.

    Controls (``.controls[name].value``): ``steps`` (event names in order, picked from the
    log's events and reordered by dragging), ``order`` ("ordered", "strict", "any"),
    ``window`` (``"30D"``; ``""`` for none), ``breakdown`` (a column, ``""`` for none: the
    property of each attempt, funnel's ``breakdown=``), ``by`` and ``by_rule`` (the customer
    segment, funnel's ``by=``: see :func:`~journey_lib.widgets.base.by_controls`),
    ``start`` and ``end`` (dates, ``None`` to leave that end open). The date range cuts the
    log first, ``within(events, start, end)`` (half-open), exactly as notebook
    ``02_funnels`` reads its ``start`` and ``end``, so a funnel explored here and the report
    written from :meth:`to_report_params` count the same attempts: steps taken after
    ``end`` do not count. Each customer's segment is read from that cut log too.

    ``.data`` is ``funnel(within(events, start, end), steps, window=..., order=...,
    breakdown=..., by=..., by_rule=...)``, drawn with :func:`journey_lib.plots.funnel`, or
    with :func:`journey_lib.plots.funnel_breakdown` when broken down (one bar series per
    breakdown value or segment; the seven with the most step-1 customers are drawn, the
    table has them all), and shown with its table. A breakdown and a segment together give
    a table (``.data``) and a message instead of the figure, which draws one at a time.

    :meth:`to_report_params` writes the settings notebook ``02_funnels`` takes, ``by`` and
    ``by_rule`` included (a customer table's column is read from its ``customers_path``);
    the notebook's segment replaces its breakdown, so a view with both is refused.

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
    by, by_rule : str
        The first segment column (``""``: none; a usable column the control would not
        list, such as a 30-value country, is added to it: see
        :func:`~journey_lib.widgets.base.by_choices`) and rule (see
        :func:`~journey_lib.widgets.base.by_controls`).
    customers : pandas.DataFrame, optional
        A customer table (``customer_id`` and properties) whose columns are offered too.
    profile : LogProfile, optional
        Its ``properties`` are the log columns offered to break down by.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(200, seed=0)
    >>> steps = ["ad_view", "site_visit", "purchase"]
    >>> builder = FunnelBuilder(sim.events, steps, customers=sim.customers)
    >>> builder.controls["by"].value = "segment"
    >>> by = jl.Segments("segment", customers=sim.customers)
    >>> builder.data.equals(jl.funnel(sim.events, steps, window="30D", by=by))
    True
    >>> builder  # doctest: +SKIP
    """

    notebook = "02_funnels.ipynb"
    report_names = ("steps", "window", "order", "breakdown", "start", "end", "by", "by_rule")

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
        by: str = "",
        by_rule: str = "first",
        customers: pd.DataFrame | None = None,
        profile: LogProfile | None = None,
    ) -> None:
        import ipywidgets as w

        self.events = events
        self.customers = customers
        names = event_names(events)
        columns = [c for c in nw.from_native(events).collect_schema() if c not in _NOT_BREAKDOWNS]
        self.log_columns, self.table_columns = by_choices(events, customers, profile, by)
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
            **by_controls(self.log_columns, self.table_columns, by, by_rule),
            "start": w.DatePicker(value=picker_date(start), description="start"),
            "end": w.DatePicker(value=picker_date(end), description="end"),
        }
        super().__init__(controls)

    @property
    def params(self) -> dict[str, Any]:
        """The current settings (see :func:`~journey_lib.widgets.base.by_settings` for ``by``
        and ``by_rule``)."""
        return by_settings(super().params, self.log_columns)

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
            **by_arguments(params, self.customers, self.table_columns),
        }

    def report_params(self) -> dict[str, Any]:
        params = super().report_params()
        if not params["window"].strip():
            raise JourneyParameterError(
                f"{self.notebook} needs a window (e.g. '30D'); the funnel without one cannot "
                f"be written as its parameters"
            )
        if params.get("by") and params.get("breakdown"):
            # The notebook's segment replaces its breakdown (its default is the channel).
            raise JourneyParameterError(
                f"{self.notebook} breaks its funnel down by a segment (by) or by a property "
                f"(breakdown), not both; clear one (by={params['by']!r}, "
                f"breakdown={params['breakdown']!r})"
            )
        return params

    def is_empty(self, data: pd.DataFrame) -> bool:
        return len(data) == 0 or not data["customers"].any()

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        by = params.get("by", "")
        if params["breakdown"] and by:
            raise JourneyParameterError(
                f"the figure draws one breakdown at a time: set breakdown "
                f"({params['breakdown']!r}) or break down by ({by!r}) to (none)"
            )
        if params["breakdown"] or by:
            column = by or params["breakdown"]
            groups = data[column].nunique(dropna=False)
            return plots.funnel_breakdown(data, top=min(groups, len(plots.PALETTE)))
        return plots.funnel(data)

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        return data.to_string(index=False, max_rows=40)
