"""Customer timeline: pick or type a customer; their touchpoints along a line, by stage,
marked where they fall inside a detected change (:func:`mark_changes`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from ..analytics.segments import MISSING, OTHER, Segments, customer_segments
from ..analytics.stages import resolve_framework
from ..analytics.touchpoints import chosen_customers, timeline
from ..errors import JourneyParameterError
from ..io.profile import LogProfile
from ..monitor.detect import Changes
from ..monitor.series import series_words
from ..monitor.words import move_words, when_words
from .base import JourneyWidget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..churn.dataset import ChurnFeatures
    from ..churn.model import ChurnModel

__all__ = ["WINDOW_COLUMNS", "CustomerTimeline", "change_labels", "mark_changes"]

#: Most customer ids offered in the search box's list; any id in the log can be typed.
MAX_OPTIONS = 1000
#: The columns of :func:`mark_changes`' windows (the widget's ``.windows``).
WINDOW_COLUMNS: tuple[str, ...] = ("customer_id", "change", "label", "start", "end")


class CustomerTimeline(JourneyWidget):
    """One customer's touchpoints on a time line: :func:`journey_lib.timeline` as a widget.

    Control (``.controls["customer"].value``): the customer id as text, typed or picked from
    a search box offering the log's first :data:`MAX_OPTIONS` ids (any id in the log may be
    typed). The text is read as the log's id type: ``"7"`` is the customer ``7`` when the
    log's ids are whole numbers. ``.data`` is ``timeline(events, [customer],
    framework=...)``, drawn with :func:`journey_lib.plots.timeline`; an id not in the log is
    shown as a message.

    With a ``model`` and its features ``X`` (indexed by ``customer_id``), the churn
    probabilities are computed once, when the widget is made; ``.score`` is the chosen
    customer's (None without a model or for a customer not in ``X``) and the title and
    caption show it with the customer's top three reasons
    (:meth:`~journey_lib.churn.ChurnModel.reasons`, ``.reasons``).

    With ``changes`` (:func:`journey_lib.changes`' result), the customer's touchpoints
    inside a detected change are marked. A touchpoint is **inside** a change when its time
    falls in the change's window (from ``start`` to the end of its last period, ``start +
    periods`` days or weeks; an ongoing change to the last period its series uses), the
    change concerns its event (an ``events`` change of that event; a ``conversion`` change
    ``"a → b"`` when the event is ``a`` or ``b``; any other metric: every event), and the
    change's place is the customer's (the whole log: everyone; a segment: its customers).
    :func:`mark_changes` gives the details. ``.marked`` is ``.data`` with a boolean ``in_change``
    column and a text ``change`` column (the changes' short labels, missing outside every
    change), ``.windows`` the changes' windows that mark at least one of the customer's
    touchpoints (:data:`WINDOW_COLUMNS`); the figure rings the marked touchpoints and
    shades those windows (:func:`journey_lib.plots.timeline`'s ``marks``), and the caption
    names them. A segment change needs the customer's value of its column: from
    ``segments`` when that table has the column, else from the log's column of that name
    (the value on the customer's first touchpoint that has one, the ``by_rule="first"``
    of :func:`journey_lib.changes`); where neither has the column, that change marks
    nobody. Without ``changes`` nothing is marked (``in_change`` False everywhere) and the
    figure is the one it always was.

    Notebook ``01_touchpoints`` takes a number of customers (``timelines``), not a chosen
    one, so :meth:`to_report_params` writes no setting (an empty mapping).

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine journey_lib accepts.
    customers : id or list of ids, optional
        The customers offered first; the first is shown. By default the log's first
        customer.
    model : ChurnModel, optional
        A trained churn model, to show the customer's score.
    X : DataFrame, optional
        The model's features, indexed by ``customer_id`` (needed with ``model``).
    framework : str, mapping or StageFramework, optional
        The stage framework, as in :func:`journey_lib.timeline`: the profile's stages, else
        ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the stages.
    changes : Changes, optional
        Detected changes (:func:`journey_lib.changes`) to mark the touchpoints inside.
    segments : pandas.DataFrame, optional
        Each customer's segment values: ``customer_id`` and one column per segment column
        (such as :func:`journey_lib.customer_segments`' output or a customer table), read
        for the segment changes of ``changes``.

    Examples
    --------
    >>> view = CustomerTimeline(events, [42], model=model, X=X)  # doctest: +SKIP
    >>> view.controls["customer"].value = "7"  # doctest: +SKIP
    >>> view.score, view.data  # doctest: +SKIP
    >>> found = jl.changes(events, jl.profile(events), by="platform")  # doctest: +SKIP
    >>> view = CustomerTimeline(events, [42], changes=found)  # doctest: +SKIP
    >>> view.marked[view.marked["in_change"]]  # doctest: +SKIP
    """

    notebook = "01_touchpoints.ipynb"
    report_names = ()

    def __init__(
        self,
        events: IntoFrame,
        customers: Any = None,
        *,
        model: ChurnModel | None = None,
        X: IntoFrame | ChurnFeatures | None = None,
        framework: Any = None,
        profile: LogProfile | None = None,
        changes: Changes | None = None,
        segments: pd.DataFrame | None = None,
    ) -> None:
        import ipywidgets as w

        if (model is None) != (X is None):
            raise JourneyParameterError("model and X go together: pass both or neither")
        if changes is not None and not isinstance(changes, Changes):
            raise JourneyParameterError(
                f"changes must be a Changes (journey_lib.changes' result); got "
                f"{type(changes).__name__}"
            )
        _check_segments(segments)
        self.events = events
        self.changes, self.segments = changes, segments
        self.marked = pd.DataFrame()
        self.windows = _no_windows()
        self.framework = resolve_framework(framework, profile)
        # A profile lists the events it leaves without a stage once; no warning per click.
        self.unmapped = "ignore" if profile is not None else "warn"
        self.model, self.X = model, X
        self.probabilities: pd.Series | None = None if model is None else model.predict_proba(X)
        self.score: float | None = None
        self.reasons: pd.DataFrame | None = None
        self.customer: Any = None
        ids, self._kind = _describe_ids(events)
        chosen = chosen_customers(customers) if customers is not None else ids[:1]
        options = list(dict.fromkeys(str(c) for c in [*chosen, *ids]))[:MAX_OPTIONS]
        controls = {
            "customer": w.Combobox(
                value=str(chosen[0]) if chosen else "",
                options=options,
                ensure_option=False,
                placeholder="customer id",
                description="customer",
                continuous_update=False,
            ),
        }
        super().__init__(controls)

    def customer_id(self, text: Any) -> Any:
        """The typed text as a customer id of the log's type (``"7"`` -> ``7`` for whole
        number ids).

        Raises
        ------
        JourneyParameterError
            Empty text, or text that cannot be an id of the log's type.
        """
        if not isinstance(text, str):
            return text
        text = text.strip()
        if not text:
            raise JourneyParameterError("type or pick a customer id")
        try:
            if self._kind == "int":
                return int(text)
            if self._kind == "float":
                return float(text)
        except ValueError:
            kind = "whole numbers" if self._kind == "int" else "numbers"
            raise JourneyParameterError(
                f"{text!r} is not a customer id: the log's customer ids are {kind}"
            ) from None
        return text

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        self.customer, self.score, self.reasons = None, None, None
        self.marked, self.windows = pd.DataFrame(), _no_windows()
        customer = self.customer_id(params["customer"])
        data = timeline(self.events, [customer], framework=self.framework, unmapped=self.unmapped)
        if self.changes is None:
            nothing = pd.Series(pd.NA, index=data.index, dtype="str")
            self.marked = data.assign(in_change=False, change=nothing)
        else:
            self.marked, self.windows = mark_changes(data, self.changes, segments=self.segments)
        self.customer = customer
        if self.probabilities is not None and customer in self.probabilities.index:
            self.score = float(self.probabilities.loc[customer])
            assert self.model is not None
            self.reasons = self.model.reasons(self.X.loc[[customer]], top=3)
        return data

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        if self.changes is None:
            figure = plots.timeline(data, framework=self.framework)
        else:
            figure = plots.timeline(self.marked, framework=self.framework, marks=self.windows)
        title = f"Customer {self.customer}: touchpoints by stage"
        if self.score is not None:
            title += f" (churn score {self.score:.1%})"
        figure.axes[0].set_title(title)
        return figure

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        if data.empty:
            return ""
        span = data["days_since_first"].max()
        lines = [
            f"customer {self.customer}: {len(data)} touchpoints over {span:.1f} days, "
            f"from {data['timestamp'].min():%Y-%m-%d} to {data['timestamp'].max():%Y-%m-%d}; "
            f"last stage: {data['stage'].iloc[-1]}"
        ]
        if self.changes is not None:
            inside = int(self.marked["in_change"].sum()) if len(self.marked) else 0
            if inside:
                labels = "; ".join(dict.fromkeys(self.windows["label"]))
                lines.append(f"  inside detected changes: {inside} touchpoints ({labels})")
            else:
                lines.append("  inside detected changes: none of its touchpoints")
        if self.probabilities is None:
            return "\n".join(lines)
        if self.score is None:
            lines.append("  churn score: none, the customer is not among the scored customers")
            return "\n".join(lines)
        lines.append(f"  churn score: {self.score:.1%}")
        if self.reasons is not None and len(self.reasons):
            reasons = "; ".join(
                f"{row.feature} (+{row.effect * 100:.1f} pts)"
                for row in self.reasons.itertuples(index=False)
            )
            lines.append(f"  top reasons: {reasons}")
        else:
            lines.append("  top reasons: none raise the score above a typical customer's")
        return "\n".join(lines)


def _describe_ids(events: Any) -> tuple[list[Any], str]:
    """The log's first :data:`MAX_OPTIONS` customer ids in log order and their kind
    ("int", "float" or "str")."""
    frame = nw.from_native(events)
    dtype = frame.collect_schema()["customer_id"]
    kind = "int" if dtype.is_integer() else "float" if dtype.is_float() else "str"
    if isinstance(frame, nw.LazyFrame):  # no row order: a sample of the first rows read
        ids = frame.select("customer_id").head(100 * MAX_OPTIONS).collect()["customer_id"]
    else:
        ids = frame["customer_id"]
    ids = ids.drop_nulls().unique(maintain_order=True).head(MAX_OPTIONS)
    return ids.to_list(), kind


def mark_changes(
    rows: pd.DataFrame, changes: Changes, *, segments: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which touchpoints fall inside a detected change, and the windows that mark them.

    A touchpoint is **inside** a change (a row of ``changes.table``) when all three hold:

    - **time**: its timestamp (naive times are UTC) lies in the change's window, from its
      ``start`` to the end of its last period: ``start + periods`` periods (days or weeks,
      ``changes.period``), the end excluded. An ongoing change's ``periods`` already run to
      the last period its series uses, so it ends there too;
    - **what**: the change concerns the touchpoint: a change of metric ``events`` when its
      ``detail`` is the touchpoint's event; a ``conversion`` change ``"a → b"`` when the
      event is ``a`` or ``b``; a change of any other metric (active or new customers, churn
      rate, retention, revenue per customer) concerns every touchpoint;
    - **where**: a change of the whole log (``column`` missing) concerns every customer; a
      segment change (``column``, ``value``) only the customers whose value of ``column``
      is ``value``. That value comes from ``segments`` when it has the column, else from
      the touchpoints' own column (the value on the customer's first touchpoint that has
      one: :func:`journey_lib.changes`' default ``by_rule="first"``), written as text as
      :mod:`journey_lib.analytics.segments` writes it (no value: ``(missing)``). A value the
      change's series do not list counts as ``(other)`` when they list ``(other)`` (values
      folded beyond ``top``). Where neither has the column, the change marks nobody.

    Parameters
    ----------
    rows : pandas.DataFrame
        Touchpoints (``customer_id``, ``timestamp``, ``event``): :func:`journey_lib.timeline`'s
        rows, of one customer or a few.
    changes : Changes
        :func:`journey_lib.changes`' result.
    segments : pandas.DataFrame, optional
        ``customer_id`` and segment columns, one row per customer (such as
        :func:`journey_lib.customer_segments`' output or a customer table).

    Returns
    -------
    marked : pandas.DataFrame
        ``rows`` with ``in_change`` (bool) and ``change`` (text: the labels of the changes
        it is inside, by score, joined by ``"; "``; missing outside every change): each
        change's :func:`change_labels`.
    windows : pandas.DataFrame
        One row per customer and change that marks at least one of its touchpoints, in the
        table's order: :data:`WINDOW_COLUMNS` (``change`` is the row of ``changes.table``;
        ``end`` excluded), the ``marks`` of :func:`journey_lib.plots.timeline`.

    Examples
    --------
    A cart → purchase conversion halved for the three weeks from 25 March 2024:

    >>> import numpy as np, pandas as pd
    >>> from journey_lib.monitor import find_changes
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> rate = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 0.3, 0.6)
    >>> series = pd.DataFrame({"metric": "conversion", "detail": "cart → purchase",
    ...     "column": None, "value": None, "period": weeks, "count": 400 * rate,
    ...     "base": 400.0, "used": True})
    >>> found = find_changes(series)
    >>> rows = pd.DataFrame({"customer_id": 7, "event": ["cart", "visit", "purchase"],
    ...     "timestamp": pd.to_datetime(["2024-03-26", "2024-03-27", "2024-04-20"], utc=True)})
    >>> marked, windows = mark_changes(rows, found)
    >>> marked["in_change"].tolist()  # the cart is step a; the visit is no step
    [True, False, False]
    >>> marked["change"].iloc[0]  # the purchase on 20 April is after the window
    'Conversion from cart to purchase down from 60.0% to 30.0% from 25 Mar to 14 Apr 2024'
    >>> windows[["customer_id", "start", "end"]]
       customer_id                     start                       end
    0            7 2024-03-25 00:00:00+00:00 2024-04-15 00:00:00+00:00
    """
    _check_segments(segments)
    missing = [c for c in ("customer_id", "timestamp", "event") if c not in rows.columns]
    if missing:
        raise JourneyParameterError(
            f"rows must be touchpoints with customer_id, timestamp and event; they lack {missing}"
        )
    table = changes.table.reset_index(drop=True)
    stamps = pd.to_datetime(rows["timestamp"])
    stamps = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    when = stamps.to_numpy(dtype="datetime64[us]")
    event = rows["event"].astype("str").to_numpy()
    places = _places(rows, table, changes.series, segments)
    starts, ends = _window(table, changes.period)
    labels = change_labels(changes)
    inside = np.zeros(len(rows), bool)
    text = np.full(len(rows), "", dtype=object)
    windows = []
    for i, change in enumerate(table.itertuples(index=False)):  # a few changes, not per row
        hit = (when >= starts[i]) & (when < ends[i])
        if change.metric == "events":
            hit &= event == str(change.detail)
        elif change.metric == "conversion":
            hit &= np.isin(event, str(change.detail).split(" → "))
        if not pd.isna(change.column):
            hit &= places[change.column].to_numpy() == change.value
        if not hit.any():
            continue
        text = np.where(hit, np.where(inside, text + "; ", text) + labels[i], text)
        inside |= hit
        for customer in pd.unique(rows["customer_id"].to_numpy()[hit]):
            windows.append((customer, i, labels[i], table.at[i, "start"], ends[i]))
    change_text = pd.Series(np.where(inside, text, None), index=rows.index, dtype="str")
    marked = rows.assign(in_change=inside, change=change_text)
    found = pd.DataFrame(windows, columns=list(WINDOW_COLUMNS)) if windows else _no_windows()
    if windows:
        found["end"] = pd.to_datetime(found["end"]).dt.tz_localize("UTC")
    return marked, found


def _window(table: pd.DataFrame, period: str) -> tuple[np.ndarray, np.ndarray]:
    """Each change's first instant and the instant after its last period (naive UTC)."""
    step = np.timedelta64(1 if period == "day" else 7, "D")
    start = pd.to_datetime(table["start"], utc=True).dt.tz_localize(None)
    starts = start.to_numpy(dtype="datetime64[us]")
    return starts, starts + table["periods"].to_numpy(dtype="int64") * step


def change_labels(changes: Changes) -> list[str]:
    """Each change of ``changes.table`` in a few words, as the timeline marks it: the series
    (:func:`journey_lib.monitor.series.series_words`), the move and when
    (:mod:`journey_lib.monitor.words`, as the report's figures say them) and, for a
    segment's change, its place: ``"Delivery late events up 270% from 6 May to 26 May 2024
    (platform mobile)"``.

    Examples
    --------
    >>> import numpy as np
    >>> import journey_lib as jl
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> count = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 150.0, 300.0)
    >>> series = pd.DataFrame({"metric": "events", "detail": "purchase", "column": None,
    ...     "value": None, "period": weeks, "count": count, "base": np.nan, "used": True})
    >>> change_labels(jl.find_changes(series))
    ['Purchase events down 50% from 25 Mar to 14 Apr 2024']
    """
    period = changes.period
    labels = []
    for _, change in changes.table.iterrows():  # a handful of changes
        where = "" if pd.isna(change["column"]) else f" ({change['column']} {change['value']})"
        what = series_words(change["metric"], change["detail"], period)
        labels.append(f"{what} {move_words(change, period)} {when_words(change, period)}{where}")
    return labels


def _places(
    rows: pd.DataFrame, table: pd.DataFrame, series: pd.DataFrame, segments: pd.DataFrame | None
) -> pd.DataFrame:
    """Each touchpoint's customer's value (as text) of every segment column the changes
    name; missing where neither ``segments`` nor the rows have the column."""
    columns = [str(c) for c in pd.unique(table["column"].dropna())]
    given = [c for c in columns if segments is not None and c in segments.columns]
    logged = [c for c in columns if c not in given and c in rows.columns]
    # customer_segments refuses a column without any value; here it just means (missing).
    empty = [c for c in logged if rows[c].isna().all()]
    logged = [c for c in logged if c not in empty]
    values = pd.DataFrame({"customer_id": pd.unique(rows["customer_id"])})
    values[empty] = MISSING
    if given:
        assert segments is not None
        mine = segments[segments["customer_id"].isin(values["customer_id"])]
        read = customer_segments(rows, Segments.assigned(mine[["customer_id", *given]], given))
        values = values.merge(read, on="customer_id", how="left")
    if logged:
        read = customer_segments(rows, logged, by_rule="first", top=None)
        values = values.merge(read, on="customer_id", how="left")
    for column in columns:
        if column not in values.columns:
            values[column] = pd.Series(pd.NA, index=values.index, dtype="str")
            continue
        listed = set(series.loc[series["column"] == column, "value"].dropna())
        if OTHER in listed:  # values folded beyond the changes' top are counted in (other)
            values[column] = values[column].where(values[column].isin(listed), OTHER)
    return rows[["customer_id"]].merge(values, on="customer_id", how="left")


def _check_segments(segments: pd.DataFrame | None) -> None:
    if segments is None:
        return
    if not isinstance(segments, pd.DataFrame) or "customer_id" not in segments.columns:
        raise JourneyParameterError(
            "segments must be a pandas DataFrame with customer_id and segment columns "
            f"(such as journey_lib.customer_segments' output); got {type(segments).__name__}"
            + (f" with columns {list(segments.columns)}" if hasattr(segments, "columns") else "")
        )
    if segments["customer_id"].duplicated().any():
        repeated = segments.loc[segments["customer_id"].duplicated(), "customer_id"].iloc[0]
        raise JourneyParameterError(
            f"segments must list each customer once; customer {repeated!r} is listed again"
        )


def _no_windows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="object"),
            "change": pd.Series(dtype="int64"),
            "label": pd.Series(dtype="str"),
            "start": pd.Series(dtype="datetime64[us, UTC]"),
            "end": pd.Series(dtype="datetime64[us, UTC]"),
        }
    )
