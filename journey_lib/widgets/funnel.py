"""Funnel builder: steps, order, window, breakdown, segments and date range; the funnel
updates. Also the "break down by" control the funnel builder and the cohort explorer share."""

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
from ..analytics.segments import Segments
from ..errors import JourneyParameterError
from ..io.profile import LogProfile
from .base import JourneyWidget, picker_date
from .journey_map import MAX_SEGMENT_VALUES
from .journey_map import describe_log as map_choices

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "BY_RULES",
    "FunnelBuilder",
    "by_arguments",
    "by_choices",
    "by_controls",
    "by_settings",
]

#: Columns that are not properties to break a funnel down by.
_NOT_BREAKDOWNS = ("customer_id", "timestamp", "event", "value")
#: The rules the "rule" control offers for a log column (``at_cutoff`` needs a cutoff).
BY_RULES = ("first", "last")


class FunnelBuilder(JourneyWidget):
    """Build a conversion funnel by clicking: :func:`journey_lib.funnel` as a widget.

    Controls (``.controls[name].value``): ``steps`` (event names in order, picked from the
    log's events and reordered by dragging), ``order`` ("ordered", "strict", "any"),
    ``window`` (``"30D"``; ``""`` for none), ``breakdown`` (a column, ``""`` for none: the
    property of each attempt, funnel's ``breakdown=``), ``by`` and ``by_rule`` (the customer
    segment, funnel's ``by=``: see :func:`by_controls`), ``start`` and ``end`` (dates,
    ``None`` to leave that end open). The date range cuts the log first, ``within(events,
    start, end)`` (half-open), exactly as notebook ``02_funnels`` reads its ``start`` and
    ``end``, so a funnel explored here and the report written from :meth:`to_report_params`
    count the same attempts: steps taken after ``end`` do not count. Each customer's segment
    is read from that cut log too.

    ``.data`` is ``funnel(within(events, start, end), steps, window=..., order=...,
    breakdown=..., by=..., by_rule=...)``, drawn with :func:`journey_lib.plots.funnel`, or
    with :func:`journey_lib.plots.funnel_breakdown` when broken down (one bar series per
    breakdown value or segment; the seven with the most step-1 customers are drawn, the
    table has them all), and shown with its table. A breakdown and a segment together give
    a table (``.data``) and a message instead of the figure, which draws one at a time.

    Notebook ``02_funnels`` takes no segment: :meth:`to_report_params` writes the other
    settings and leaves ``by`` and ``by_rule`` out.

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
        The first segment column (``""``: none) and rule (see :func:`by_controls`).
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
        by: str = "",
        by_rule: str = "first",
        customers: pd.DataFrame | None = None,
        profile: LogProfile | None = None,
    ) -> None:
        import ipywidgets as w

        self.events = events
        self.customers = customers
        names, columns = describe_log(events)
        self.log_columns, self.table_columns = by_choices(events, customers, profile)
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
        """The current settings (see :func:`by_settings` for ``by`` and ``by_rule``)."""
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


def describe_log(events: IntoFrame) -> tuple[list[str], list[str]]:
    """The log's event names and its breakdown columns."""
    frame = nw.from_native(events)
    # A frame method, not an expression: lazy engines (DuckDB, Spark) refuse a length-changing
    # expression in a select.
    names = frame.select("event").drop_nulls().unique()
    if isinstance(frame, nw.LazyFrame):
        names = names.collect()
    columns = [c for c in frame.columns if c not in _NOT_BREAKDOWNS]
    return sorted(str(n) for n in names["event"].to_list()), columns


def by_choices(
    events: IntoFrame, customers: pd.DataFrame | None = None, profile: LogProfile | None = None
) -> tuple[list[str], list[str]]:
    """The columns a widget offers to break down by: the log's and the customer table's.

    Log columns: the profile's ``properties`` that the log has, when a profile is given;
    else the columns the journey map offers as segments
    (:func:`journey_lib.widgets.journey_map.describe_log`: not an id, time, event or value,
    2 to :data:`MAX_SEGMENT_VALUES` values, repeated). Table columns: the customer table's
    columns but ``customer_id`` that are not times and hold 2 to :data:`MAX_SEGMENT_VALUES`
    values, fewer than half its filled rows. A column in both is offered once, as the
    table's, which :class:`journey_lib.Segments` reads first.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(200, seed=0)
    >>> by_choices(sim.events, sim.customers)
    (['channel', 'rating'], ['acquisition_channel', 'segment', 'region', 'plan'])
    """
    table: list[str] = []
    if customers is not None:
        if "customer_id" not in customers.columns:
            raise JourneyParameterError(
                f"customers must be a customer table with a customer_id column; it has "
                f"{list(customers.columns)}"
            )
        for column in customers.columns.drop("customer_id"):
            values = customers[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                continue
            distinct = values.nunique()
            if 2 <= distinct <= MAX_SEGMENT_VALUES and distinct < 0.5 * values.count():
                table.append(str(column))
    if profile is not None:
        present = set(nw.from_native(events).collect_schema())
        found = [c for c in profile.properties if c in present]
    else:
        found = list(dict.fromkeys(column for column, _ in map_choices(events)[1].values()))
    return [c for c in found if c not in table], table


def by_controls(
    log_columns: Sequence[str], table_columns: Sequence[str], by: str, by_rule: str
) -> dict[str, Any]:
    """The "break down by" controls: ``by`` (``"(none)"``, then the log's columns, then the
    customer table's, marked ``(customers)``; values are the column names, ``""`` for
    none) and ``by_rule`` (``"first"`` or ``"last"``: which value of a log column that
    changes over a customer's life counts; shown only while ``by`` is a log column).

    Raises
    ------
    JourneyParameterError
        ``by`` or ``by_rule`` that the controls do not offer.
    """
    import ipywidgets as w

    options = [
        ("(none)", ""),
        *[(c, c) for c in log_columns],
        *[(f"{c} (customers)", c) for c in table_columns],
    ]
    offered = [value for _, value in options]
    if by not in offered:
        raise JourneyParameterError(
            f"by={by!r} is not a column to break down by here; choose from {offered}"
        )
    if by_rule not in BY_RULES:
        raise JourneyParameterError(f"by_rule must be one of {list(BY_RULES)}; got {by_rule!r}")
    column = w.Dropdown(options=options, value=by, description="break down by")
    rule = w.Dropdown(options=list(BY_RULES), value=by_rule, description="rule")

    def show_rule(change: dict[str, Any] | None = None) -> None:
        # The rule means something only for a log column: a table has one value a customer.
        rule.layout.display = None if column.value in log_columns else "none"

    show_rule()
    column.observe(show_rule, names="value")
    return {"by": column, "by_rule": rule}


def by_arguments(
    params: dict[str, Any], customers: pd.DataFrame | None, table_columns: Sequence[str]
) -> dict[str, Any]:
    """The ``by=`` (and ``by_rule=``) arguments of an analytic for the controls of
    :func:`by_controls`: none for ``""``, ``Segments(column, customers=customers)`` for a
    customer table's column, else the log column and the rule."""
    if not params.get("by"):
        return {}
    if params["by"] in table_columns:
        return {"by": Segments(params["by"], customers=customers)}
    return {"by": params["by"], "by_rule": params["by_rule"]}


def by_settings(params: dict[str, Any], log_columns: Sequence[str]) -> dict[str, Any]:
    """A widget's settings with only the "break down by" settings that mean something:
    ``by`` when a segment is chosen, and ``by_rule`` when it is a log column. Without a
    segment the settings are what they were before the control existed.

    Examples
    --------
    >>> by_settings({"period": "month", "by": "", "by_rule": "first"}, ["channel"])
    {'period': 'month'}
    >>> by_settings({"by": "plan", "by_rule": "first"}, ["channel"])
    {'by': 'plan'}
    """
    chosen = dict(params)
    if not chosen.get("by"):
        chosen.pop("by", None)
    if chosen.get("by") not in log_columns:
        chosen.pop("by_rule", None)
    return chosen
