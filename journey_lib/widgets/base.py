"""The machinery every widget shares: settings -> ``.data`` -> figure, and the fallbacks.

A widget is a thin layer over one journey_lib function (its data twin) and one
:mod:`journey_lib.plots` figure. Each change of a control recomputes ``.data`` with the
function and redraws the figure into an :class:`ipywidgets.Output`, as a PNG, so the same
picture serves the live view and the static fallback: the widget's mime bundle holds the
ipywidgets view *and* ``image/png`` and ``text/plain`` of the current state, so a notebook
executed without a front end (papermill) or exported to HTML (nbconvert, which skips widget
views whose state was not saved) still shows the figure.

The "break down by" control that the funnel builder and the cohort explorer share lives
here too: :func:`by_choices` (the columns offered), :func:`by_controls` (the two
dropdowns), :func:`by_settings` (the settings that mean something) and
:func:`by_arguments` (the analytic's ``by=``), with :func:`segment_columns`, the log's
columns few-valued enough to be segments, which the journey map offers as well, and
:func:`table_segment_columns`, a customer table's, which the report notebooks offer too.

**One rule for a segment-like column**, wherever columns are offered as segments (these
controls, the journey map, :meth:`journey_lib.report.ReportData.segment_columns`): not an
id, time, event, value or session column, no dates or times (:func:`is_time`), 2 to
:data:`MAX_SEGMENT_VALUES` (50, the profile's limit for a log's ``properties``) distinct
values, fewer than half its filled rows (values repeat: an id or an amount is no segment).
A customer table's column must also hold text, booleans or whole numbers. A column given
by name (``by=``) need not be offered: any column the log or the customer table has with a
value, not a date or time, is taken, and :class:`journey_lib.Segments` folds its values
beyond ``top`` into ``(other)``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame

from ..analytics.segments import BY_RULES, Segments
from ..errors import JourneyDataError, JourneyError, JourneyParameterError
from ..io.columns import PROPERTY_LEVELS, column_stats, properties

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

    from ..io.profile import LogProfile

__all__ = [
    "MAX_SEGMENT_VALUES",
    "OFFERED_RULES",
    "JourneyWidget",
    "by_arguments",
    "by_choices",
    "by_controls",
    "by_settings",
    "event_names",
    "is_time",
    "picker_date",
    "segment_columns",
    "table_segment_columns",
]

#: Resolution of the drawn figures: readable, and small enough to redraw quickly.
DPI = 90
#: Most distinct values a column may have to be offered as a segment: the one number of the
#: segment-like rule (see the module docstring), the profile's limit for a log's properties
#: (:data:`journey_lib.io.columns.PROPERTY_LEVELS`, 50).
MAX_SEGMENT_VALUES = PROPERTY_LEVELS
#: Columns that are not customer properties to filter, split or break down by.
_NOT_PROPERTIES = ("customer_id", "timestamp", "event", "value", "session_id")
#: The rules the "rule" control offers: the rules of
#: :data:`journey_lib.analytics.segments.BY_RULES` a widget can apply, that is all but
#: ``"at_cutoff"``, which needs a cutoff no widget has.
OFFERED_RULES = tuple(rule for rule in BY_RULES if rule != "at_cutoff")


class JourneyWidget:
    """Base class: named controls, a compute step, a figure and the static fallback.

    Subclasses set :attr:`notebook` and :attr:`report_names`, build their controls and call
    ``super().__init__(controls)``, and implement :meth:`compute` (settings to DataFrame)
    and :meth:`draw` (DataFrame to a figure); :meth:`caption` is optional.

    Attributes
    ----------
    controls : dict of str to ipywidgets.ValueWidget
        One control per setting, by setting name; set ``.value`` to change a setting.
    data : pandas.DataFrame
        The table the figure shows (empty when the settings cannot be computed).
    error : str or None
        Why the current settings cannot be shown, or None.
    png : bytes or None
        The current figure as PNG (None on error).
    output : ipywidgets.Output
        Where the figure and caption (or the error message) are drawn.
    view : ipywidgets.VBox
        The controls above the output: what a notebook displays.

    Examples
    --------
    >>> class Volumes(JourneyWidget):  # doctest: +SKIP
    ...     notebook, report_names = "01_touchpoints.ipynb", ()
    ...     def __init__(self, events):
    ...         self.events = events
    ...         super().__init__({"by": ipywidgets.Dropdown(options=["stage", "channel"])})
    ...     def compute(self, params):
    ...         return jl.volumes(self.events, by=params["by"])
    ...     def draw(self, data, params):
    ...         return jl.plots.volumes(data)
    """

    #: The notebook whose parameters :meth:`to_report_params` writes (a file name).
    notebook: ClassVar[str] = ""
    #: The settings that notebook declares as parameters: only these are written.
    report_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, controls: dict[str, ipywidgets.ValueWidget]) -> None:
        import ipywidgets as w

        self.controls = controls
        self.data = pd.DataFrame()
        self.error: str | None = None
        self.png: bytes | None = None
        self.output = w.Output()
        bar = w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap"))
        self.view = w.VBox([bar, self.output])
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.refresh()

    # -- what subclasses provide ------------------------------------------------------------

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        """The data twin: the table for these settings."""
        raise NotImplementedError

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        """The figure of ``data`` (a :mod:`journey_lib.plots` function's Figure)."""
        raise NotImplementedError

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        """A line or two of text under the figure (plain text)."""
        return ""

    def is_empty(self, data: pd.DataFrame) -> bool:
        """Whether ``data`` has nothing to draw (shown as a message instead)."""
        return len(data) == 0

    # -- shared behaviour -------------------------------------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        """The current settings, as the notebooks take them: dates as ``YYYY-MM-DD`` text,
        an unset date or choice as ``""``, sequences as lists."""
        return {name: _plain(control.value) for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Recompute :attr:`data` from the controls and redraw; errors become a message (a
        table that cannot be drawn stays in :attr:`data`, with the message and no picture)."""
        params = self.params
        try:
            data = self.compute(params)
            if self.is_empty(data):
                raise JourneyDataError("nothing to show: no customers match these settings")
        except (JourneyError, ValueError) as exc:
            self.data, self.png, self.error = pd.DataFrame(), None, str(exc)
        else:
            # A table that cannot be drawn is still the answer: .data keeps it.
            try:
                png = _png(self.draw(data, params))
            except (JourneyError, ValueError) as exc:
                self.data, self.png, self.error = data, None, str(exc)
            else:
                self.data, self.png, self.error = data, png, None
        self.output.outputs = tuple(self._outputs(params))

    def to_report_params(self, path: str | os.PathLike[str]) -> Path:
        """Write the settings the notebook declares as a YAML file for ``journey report
        --params``; settings the notebook does not take are left out.

        Examples
        --------
        >>> widget.to_report_params("funnel.yaml")  # doctest: +SKIP
        PosixPath('funnel.yaml')
        """
        import yaml

        chosen = self.report_params()
        path = Path(path)
        header = f"# journey report --params {path.name}  (settings for {self.notebook})\n"
        path.write_text(header + yaml.safe_dump(chosen, sort_keys=False), encoding="utf-8")
        return path

    def report_params(self) -> dict[str, Any]:
        """The settings :meth:`to_report_params` writes: those named in :attr:`report_names`.

        Raises
        ------
        JourneyParameterError
            A setting the notebook cannot take (subclasses check their own).
        """
        params = self.params
        return {name: params[name] for name in self.report_names if name in params}

    def text(self) -> str:
        """The current state in words: settings, then the caption or the error."""
        settings = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        state = f"error: {self.error}" if self.error else self.caption(self.data, self.params)
        return f"{type(self).__name__}({settings})" + (f"\n{state}" if state else "")

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The ipywidgets view, with a PNG of the current figure and text as fallbacks."""
        bundle = dict(self.view._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = self.text()
        if self.png is not None:
            bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        return self.text()

    def _changed(self, change: dict[str, Any]) -> None:
        self.refresh()

    def _outputs(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.error is not None:
            message = f"Cannot show these settings: {self.error}"
            return [_display({"text/plain": message, "text/html": _warning(message)})]
        outputs = [
            _display(
                {
                    "image/png": base64.b64encode(self.png or b"").decode("ascii"),
                    "text/plain": f"<{type(self).__name__} figure>",
                }
            )
        ]
        caption = self.caption(self.data, params)
        if caption:
            outputs.append(_display({"text/plain": caption}))
        return outputs


def picker_date(value: str | dt.date | None) -> dt.date | None:
    """A setting's date (``"YYYY-MM-DD"``, a date, or ``""``/None for an open end) as a
    DatePicker holds it."""
    if value is None or value == "":
        return None
    return pd.Timestamp(value).date()


def _plain(value: Any) -> Any:
    """A control's value as a notebook parameter."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes; the figure is closed so notebooks do not show it twice."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _display(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _warning(message: str) -> str:
    return f'<p style="color:#a00;font-weight:bold">{html.escape(message)}</p>'


# -- what the log offers to choose from -----------------------------------------------------


def event_names(events: IntoFrame) -> list[str]:
    """The log's event names, as text, sorted (no missing name).

    Examples
    --------
    >>> event_names(pd.DataFrame({"event": ["visit", "buy", None, "visit"]}))
    ['buy', 'visit']
    """
    frame = nw.from_native(events)
    # A frame method, not an expression: lazy engines (DuckDB, Spark) refuse a length-changing
    # expression in a select.
    names = frame.select("event").drop_nulls().unique()
    if isinstance(names, nw.LazyFrame):
        names = names.collect()
    return sorted(str(n) for n in names["event"].to_list())


def segment_columns(events: IntoFrame) -> dict[str, tuple[list[Any], bool]]:
    """The log's columns that can be segments, each with its values and whether any row
    lacks one.

    A column can be a segment when it is not an id, time, event, value or session column,
    has 2 to :data:`MAX_SEGMENT_VALUES` distinct values and fewer distinct values than half
    its filled rows (values repeat: an id or an amount is no segment). Its values are listed
    most frequent first (ties by value), as they are, not as text.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 4],
    ...                     "event": ["a"] * 6,
    ...                     "plan": ["basic", "basic", "plus", "plus", "plus", None],
    ...                     "order_id": [10, 11, 12, 13, 14, 15]})
    >>> segment_columns(log)
    {'plan': (['plus', 'basic'], True)}
    """
    frame = nw.from_native(events)
    lazy = isinstance(frame, nw.LazyFrame)
    candidates = [
        c
        for c, dtype in frame.collect_schema().items()
        if c not in _NOT_PROPERTIES and not dtype.is_temporal()
    ]
    if not candidates:
        return {}
    stats = frame.select(
        *[nw.col(c).count().alias(f"_jl_rows{i}") for i, c in enumerate(candidates)],
        *[nw.col(c).null_count().alias(f"_jl_null{i}") for i, c in enumerate(candidates)],
    )
    row = (stats.collect() if lazy else stats).rows(named=True)[0]
    found: dict[str, tuple[list[Any], bool]] = {}
    for i, column in enumerate(candidates):
        values = frame.filter(~nw.col(column).is_null()).group_by(column).agg(nw.len())
        values = values.sort(["len", column], descending=[True, False])
        # One more than the most offered: enough to know a column has too many.
        values = values.head(MAX_SEGMENT_VALUES + 1)
        listed = (values.collect() if lazy else values)[column].to_list()
        distinct = len(listed)
        if 2 <= distinct <= MAX_SEGMENT_VALUES and distinct < 0.5 * row[f"_jl_rows{i}"]:
            found[column] = (listed, row[f"_jl_null{i}"] > 0)
    return found


# -- the "break down by" control ------------------------------------------------------------


def is_time(column: pd.Series | Any) -> bool:
    """Whether a column (a pandas Series or a Narwhals dtype) holds instants or durations,
    which no breakdown takes (:class:`journey_lib.Segments` refuses them: nearly every
    customer would have a value of their own); a date without a time is a value.

    Examples
    --------
    >>> is_time(pd.Series(pd.to_datetime(["2024-01-01"]))), is_time(pd.Series(["2024-01-01"]))
    (True, False)
    >>> is_time(nw.Duration())
    True
    """
    if isinstance(column, pd.Series):
        return pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(
            column
        )
    return isinstance(column, nw.Datetime | nw.Duration)


def table_segment_columns(customers: pd.DataFrame) -> list[str]:
    """A customer table's columns that can be segments, in the table's order: every column
    but ``customer_id`` that is not a date or time (:func:`is_time`), holds text, booleans
    or whole numbers (a fractional amount is no segment) and has 2 to
    :data:`MAX_SEGMENT_VALUES` distinct values, fewer than half its filled rows.

    Examples
    --------
    >>> table_segment_columns(pd.DataFrame({"customer_id": range(8),
    ...                                     "plan": ["a", "b"] * 4, "tier": [1, 2, 3, 1] * 2,
    ...                                     "score": [0.5, 1.5] * 4}))
    ['plan', 'tier']
    """
    table = customers.drop(columns="customer_id", errors="ignore")
    stats = column_stats(table)
    return [
        c
        for c in properties(stats, set(), MAX_SEGMENT_VALUES)
        if (not stats[c].numeric or stats[c].integral) and not is_time(table[c])
    ]


def by_choices(
    events: IntoFrame,
    customers: pd.DataFrame | None = None,
    profile: LogProfile | None = None,
    by: str = "",
) -> tuple[list[str], list[str]]:
    """The columns a widget offers to break down by: the log's and the customer table's.

    Log columns: the profile's ``properties`` that the log has, when a profile is given;
    else :func:`segment_columns` (the columns the journey map offers as segments). Table
    columns: :func:`table_segment_columns`. A column in both is offered once, as the
    table's, which :class:`journey_lib.Segments` reads first. A column given as ``by``
    is offered too, though the rule would leave it out (a 30-value country, say), when it
    is usable: the customer table's or the log's, not a date or time and not an id, time,
    event, value or session column (a table's column is added to the table's, else to the
    log's, at the end).

    Raises
    ------
    JourneyParameterError
        ``customers`` without a ``customer_id`` column.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(200, seed=0)
    >>> by_choices(sim.events, sim.customers)
    (['channel', 'rating'], ['acquisition_channel', 'segment', 'region', 'plan'])
    >>> by_choices(sim.events, sim.customers.assign(code=range(200)), by="code")[1][-1]
    'code'
    """
    table: list[str] = []
    if customers is not None:
        if "customer_id" not in customers.columns:
            raise JourneyParameterError(
                f"customers must be a customer table with a customer_id column; it has "
                f"{list(customers.columns)}"
            )
        table = table_segment_columns(customers)
    schema = nw.from_native(events).collect_schema()
    if profile is not None:
        found = [c for c in profile.properties if c in schema]
    else:
        found = list(segment_columns(events))
    log = [c for c in found if c not in table]
    if by and by not in log + table and by not in _NOT_PROPERTIES:
        if customers is not None and by in customers.columns and not is_time(customers[by]):
            table.append(by)
        elif (customers is None or by not in customers.columns) and by in schema:
            if not is_time(schema[by]):
                log.append(by)
    return log, table


def by_controls(
    log_columns: Sequence[str], table_columns: Sequence[str], by: str, by_rule: str
) -> dict[str, Any]:
    """The "break down by" controls: ``by`` (``"(none)"``, then the log's columns, then the
    customer table's, marked ``(customers)``; values are the column names, ``""`` for
    none) and ``by_rule`` (one of :data:`OFFERED_RULES`, ``"first"`` or ``"last"``: which
    value of a log column that changes over a customer's life counts; shown only while
    ``by`` is a log column).

    Raises
    ------
    JourneyParameterError
        ``by`` or ``by_rule`` that the controls do not offer (``by`` a column
        :func:`by_choices` was given and could not take: absent, a date or time, an id).
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
            f"by={by!r} is not a column to break down by here (the log and the customer "
            f"table have no such column, or it is an id, a time or an event); choose from "
            f"{offered}"
        )
    if by_rule not in OFFERED_RULES:
        raise JourneyParameterError(
            f"by_rule must be one of {list(OFFERED_RULES)} in a widget; got {by_rule!r}"
        )
    column = w.Dropdown(options=options, value=by, description="break down by")
    rule = w.Dropdown(options=list(OFFERED_RULES), value=by_rule, description="rule")

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
    customer table's column, else the log column and the rule.

    Examples
    --------
    >>> by_arguments({"by": "channel", "by_rule": "last"}, None, [])
    {'by': 'channel', 'by_rule': 'last'}
    >>> by_arguments({"by": ""}, None, [])
    {}
    """
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
