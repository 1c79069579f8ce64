"""Point-in-time churn datasets: features from before a cutoff, labels from after it.

Definitions (``c`` is the cutoff, ``H`` the horizon, ``W`` the inactivity window)
----------------------------------------------------------------------------------
* **Before the cutoff** means ``timestamp < c``. Every feature is computed from those
  events only (and from the customer table), so changing or deleting any later event
  leaves ``X`` unchanged.
* A customer is **acquired** at ``c`` when they have an ``acquisition_event`` (any event
  when that is None) before ``c``.
* ``definition="inactivity"`` (as :func:`journey_lib.churn_rate`): a customer is *active
  at t* when they have an event in ``[t - W, t)``. Acquired customers not active at ``c``
  have **already churned**; the others are the population, and ``y = 1`` when they are
  not active at ``c + H``: no event in ``[c + H - W, c + H)``.
* ``definition="event"``: a customer with a ``churn_event`` (say ``"cancellation"``)
  before ``c`` has already churned; ``y = 1`` when the customer has one in
  ``[c, c + H)``.
* The log must reach ``c + H``: its last event (or ``data_end``) at or after it, or the
  labels of the last customers would be guesses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from .._engine import (
    EPOCH,
    check_choice,
    duration_us,
    instant_us,
    lazy_events,
    to_pandas,
    utc_datetime,
    with_microseconds,
)
from ..analytics.rfm import rfm
from ..analytics.stages import assign_stages, get_framework, profile_framework
from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from ..io.profile import LogProfile, from_profile
from ._inputs import looks_like_id

__all__ = [
    "ATTRS_KEY",
    "RECIPE_OPTIONS",
    "ChurnDataset",
    "DatasetReport",
    "build_dataset",
    "build_features",
]

#: The options of :func:`build_dataset` and :func:`build_features` that decide how the
#: features are built: recorded in ``X.attrs``, so that scoring can rebuild them alike.
RECIPE_OPTIONS = (
    "definition",
    "inactivity",
    "churn_event",
    "acquisition_event",
    "purchase_event",
    "windows",
    "framework",
    "ticket_event",
    "resolved_event",
)
#: Where :func:`build_dataset` and :func:`build_features` record, in ``X.attrs``, how the
#: features were built.
ATTRS_KEY = "journey_lib.churn"

_DAY_US = 86_400_000_000
_DEFAULT_WINDOWS = ("30D", "90D", "365D")


class _Default(str):
    """A default a profile may replace: equal to its text, yet never the same object as
    text a caller passes, so an explicit ``horizon="90D"`` still beats the profile."""


_90D, _PURCHASE, _JOURNEY = _Default("90D"), _Default("purchase"), _Default("customer_journey")


@dataclasses.dataclass(frozen=True)
class DatasetReport:
    """Who is in a churn dataset, who was left out and why.

    Attributes
    ----------
    cutoff, label_end : pandas.Timestamp
        Features use events before ``cutoff``; labels look up to ``label_end`` (c + H).
    definition : str
        ``"inactivity"`` or ``"event"``, with ``rule`` stating the label in words.
    customers_in_log : int
        Customers with any event before ``label_end``.
    not_acquired : int
        Customers without an acquisition event before the cutoff (left out).
    already_churned : int
        Acquired customers who had churned by the cutoff (left out).
    included : int
        Rows of ``X``; ``churned`` of them have ``y = 1``.
    features : tuple of str
        The columns of ``X``.
    dropped_columns : tuple of str
        Customer-table columns left out because they look like identifiers.
    notes : tuple of str
        Features left out and why (a ``channel`` column with no value before the cutoff).
    """

    cutoff: pd.Timestamp
    label_end: pd.Timestamp
    definition: str
    rule: str
    customers_in_log: int
    not_acquired: int
    already_churned: int
    included: int
    churned: int
    features: tuple[str, ...]
    dropped_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def churn_rate(self) -> float:
        """Share of the included customers who churned within the horizon."""
        return self.churned / self.included if self.included else float("nan")

    def summary(self) -> str:
        """A few lines for logs and reports."""
        lines = [
            f"churn dataset at {self.cutoff:%Y-%m-%d %H:%M} UTC, labels to "
            f"{self.label_end:%Y-%m-%d %H:%M} UTC ({self.definition}: {self.rule})",
            f"  {self.customers_in_log:,} customers in the log; left out: "
            f"{self.not_acquired:,} not yet acquired, {self.already_churned:,} already churned",
            f"  {self.included:,} customers, {self.churned:,} churned "
            f"({self.churn_rate:.1%}); {len(self.features)} features",
        ]
        if self.dropped_columns:
            lines.append(f"  identifier-like columns dropped: {list(self.dropped_columns)}")
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


class ChurnDataset(tuple):
    """``(X, y)``, which unpacks as a pair, with the :class:`DatasetReport` as ``.report``."""

    report: DatasetReport

    def __new__(cls, X: pd.DataFrame, y: pd.Series, report: DatasetReport) -> ChurnDataset:
        made = super().__new__(cls, (X, y))
        made.report = report
        return made

    @property
    def X(self) -> pd.DataFrame:
        return self[0]

    @property
    def y(self) -> pd.Series:
        return self[1]


def build_dataset(
    events: Any,
    *,
    cutoff: Any = None,
    profile: LogProfile | None = None,
    horizon: Any = _90D,
    definition: str = "inactivity",
    inactivity: Any = _90D,
    churn_event: str | None = None,
    customers: Any = None,
    acquisition_event: str | None = _PURCHASE,
    purchase_event: str = _PURCHASE,
    windows: Sequence[Any] = _DEFAULT_WINDOWS,
    framework: Any = _JOURNEY,
    ticket_event: str = "support_ticket",
    resolved_event: str = "ticket_resolved",
    data_end: Any = None,
) -> ChurnDataset:
    """Features at ``cutoff`` and churn labels over the ``horizon`` after it.

    See the module docstring for the exact definitions of the population and the label.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine (pandas, Polars, DuckDB, PySpark); the result is
        pandas either way.
    cutoff : date or time
        The moment the prediction is made (naive means UTC); the profile's when not given.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`). Its cutoff, horizon, inactivity,
        acquisition event, conversion (as ``purchase_event``), churn event and stages take
        the place of the options the caller leaves out; what the caller passes wins, even a
        value equal to the default.
    horizon : str or timedelta, default "90D"
        How far after the cutoff a churn counts.
    definition : {"inactivity", "event"}, default "inactivity"
        Churn as a lapse of ``inactivity`` without events, or as a ``churn_event``.
    inactivity : str or timedelta, default "90D"
        ``W`` for ``definition="inactivity"``.
    churn_event : str, optional
        The event that marks churn, for ``definition="event"``.
    customers : DataFrame, optional
        One row per customer (``customer_id`` and attributes, as from
        :func:`journey_lib.validate_customers`). Its columns join ``X``: dates become days
        before the cutoff (dates after it are future knowledge, made missing and counted in
        a warning) and identifier-like columns are dropped with a warning.
    acquisition_event : str or None, default "purchase"
        The event that makes someone a customer; None: any event.
    purchase_event : str, default "purchase"
        The event whose rows are transactions for the RFM features.
    windows : sequence of durations, default ("30D", "90D", "365D")
        Look-back windows for the counts, shortest first.
    framework : str, mapping or StageFramework, default "customer_journey"
        Journey stages for the per-stage counts and ``stage_reached`` (see
        :func:`journey_lib.assign_stages`).
    ticket_event, resolved_event : str
        Support tickets and their resolutions: ``unresolved_tickets`` counts tickets
        without a later resolution before the cutoff.
    data_end : date or time, optional
        Where the log's observation ends; the log's last event when None.

    Returns
    -------
    ChurnDataset
        Unpacks as ``X, y``: ``X`` one row per included customer (index ``customer_id``,
        sorted) and ``y`` the 0/1 label named ``churned``; ``.report`` says who was left out.

    Features
    --------
    ``recency_days`` (since the last event), ``tenure_days`` (since the first),
    ``events_{w}`` and ``trend_events`` (events in the last window minus the earlier
    windows' average per the last window's length: ``n_w0 - (n_w1 - n_w0) * w0 / (w1 - w0)``),
    ``event_{name}_{w}``, ``channel_{name}_{w}`` and ``stage_{name}_{w}`` counts per window,
    ``trend_stage_{name}``, ``stage_reached`` (1-based index of the furthest stage),
    ``channels_used``, ``tickets`` and ``unresolved_tickets``, ``value_total``,
    ``{column}_mean`` of other numeric event columns, lifetimes' RFM as ``rfm_frequency``,
    ``rfm_recency``, ``rfm_T`` and ``rfm_monetary_value`` (daily periods), and the customer
    table's columns. Names are cleaned to letters, digits and underscores.

    Raises
    ------
    JourneyParameterError
        For unknown options, a missing ``churn_event``, or windows that are not increasing.
    JourneyDataError
        When the cutoff lies outside the log, the log ends before ``cutoff + horizon``, or
        no customer is left.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(400, seed=3)
    >>> X, y = jl.churn.build_dataset(sim.events, cutoff="2024-09-01")
    >>> X.index.name, y.name, len(X) == len(y)
    ('customer_id', 'churned', True)
    >>> bool(set(y.unique()) <= {0, 1})
    True
    """
    options = _from_profile(_options(locals()), profile)
    cutoff = _cutoff(cutoff, profile)
    if isinstance(horizon, _Default):
        horizon = profile.horizon if profile is not None else str(horizon)
    horizon_us = duration_us(horizon, "horizon")
    X, status, cut, dropped, notes = _build(
        events, cutoff, horizon_us, data_end, customers, options
    )
    y = status.loc[X.index, "_label"].astype("int64").rename("churned")
    X.attrs[ATTRS_KEY] = _recipe(cut, horizon, customers, options)
    acquired = status["_acquired"]
    report = DatasetReport(
        cutoff=cut,
        label_end=cut + pd.Timedelta(microseconds=horizon_us),
        definition=definition,
        rule=_rule(definition, horizon, options["inactivity"], options["churn_event"]),
        customers_in_log=len(status),
        not_acquired=int((~acquired).sum()),
        already_churned=int((acquired & status["_gone"]).sum()),
        included=len(X),
        churned=int(y.sum()),
        features=tuple(X.columns),
        dropped_columns=dropped,
        notes=notes,
    )
    return ChurnDataset(X, y, report)


def build_features(
    events: Any,
    *,
    cutoff: Any = None,
    profile: LogProfile | None = None,
    definition: str = "inactivity",
    inactivity: Any = _90D,
    churn_event: str | None = None,
    customers: Any = None,
    acquisition_event: str | None = _PURCHASE,
    purchase_event: str = _PURCHASE,
    windows: Sequence[Any] = _DEFAULT_WINDOWS,
    framework: Any = _JOURNEY,
    ticket_event: str = "support_ticket",
    resolved_event: str = "ticket_resolved",
) -> pd.DataFrame:
    """The features of :func:`build_dataset` without labels: the customers to score now.

    The population is the same (acquired before ``cutoff`` and not churned by it), and so
    are the features; nothing after the cutoff is needed, so the cutoff may be the end of
    the log or later. The options are those of :func:`build_dataset`.

    Returns
    -------
    pandas.DataFrame
        One row per customer to score, indexed by ``customer_id``; ``attrs`` records how it
        was built.

    Raises
    ------
    JourneyDataError
        When the cutoff is not after the log's first event, or no customer is left.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(400, seed=3)
    >>> X = jl.churn.build_features(sim.events, cutoff="2025-01-01")
    >>> X.index.name, "recency_days" in X
    ('customer_id', True)
    """
    options = _from_profile(_options(locals()), profile)
    cutoff = _cutoff(cutoff, profile)
    X, _, cut, _, _ = _build(events, cutoff, None, None, customers, options)
    X.attrs[ATTRS_KEY] = _recipe(cut, None, customers, options)
    return X


def _options(arguments: dict[str, Any]) -> dict[str, Any]:
    """The :data:`RECIPE_OPTIONS` among a public function's arguments (its ``locals()``)."""
    return {name: arguments[name] for name in RECIPE_OPTIONS}


def _from_profile(options: dict[str, Any], profile: LogProfile | None) -> dict[str, Any]:
    """The options with the profile's roles where the caller left the defaults (even an
    explicit value equal to a default wins): what the caller says, then the profile (a
    profile without an acquisition event means any event, as a process log's case begins
    with its first)."""
    # Plain text from here on: the options travel into X.attrs and the model card.
    out = {k: str(v) if isinstance(v, _Default) else v for k, v in options.items()}
    if profile is None:
        return out
    if isinstance(options["inactivity"], _Default):
        out["inactivity"] = profile.inactivity
    if isinstance(options["acquisition_event"], _Default):
        out["acquisition_event"] = profile.acquisition
    if isinstance(options["purchase_event"], _Default) and profile.conversion is not None:
        out["purchase_event"] = profile.conversion
    if options["churn_event"] is None:
        out["churn_event"] = profile.churn_event
    if isinstance(options["framework"], _Default):
        out["framework"] = profile_framework(profile).to_dict()
    return out


def _cutoff(cutoff: Any, profile: LogProfile | None) -> Any:
    chosen = from_profile(profile, "cutoff", cutoff, None)
    if chosen is None:
        raise JourneyParameterError("give a cutoff (or a profile with one)")
    return chosen


def _build(
    events: Any,
    cutoff: Any,
    horizon_us: int | None,
    data_end: Any,
    customers: Any,
    options: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp, tuple[str, ...], tuple[str, ...]]:
    """Features of the population at the cutoff, the status of every customer (labels over
    ``horizon_us`` when given), the cutoff, the customer-table columns dropped and notes on
    features left out.

    ``options`` holds the :data:`RECIPE_OPTIONS` of the public functions.
    """
    definition = options["definition"]
    churn_event = options["churn_event"]
    acquisition_event = options["acquisition_event"]
    purchase_event = options["purchase_event"]
    check_choice("definition", definition, ("inactivity", "event"))
    inactivity_us = duration_us(options["inactivity"], "inactivity")
    window_us = _windows(options["windows"])
    if definition == "event" and not churn_event:
        raise JourneyParameterError(
            'definition="event" needs churn_event, the event that marks churn '
            '(e.g. churn_event="cancellation")'
        )
    cut = utc_datetime(cutoff, "cutoff")
    c = instant_us(cut, "cutoff")
    end = c + (horizon_us or 0)

    frame, _ = lazy_events(events)
    schema = frame.collect_schema()
    frame = with_microseconds(frame, "_us")
    first_us, last_us, names = _extent(frame, end)
    observed_to = last_us
    if data_end is not None:
        observed_to = instant_us(data_end, "data_end")
    _check_span(c, end, first_us, observed_to, labelled=horizon_us is not None)
    if acquisition_event is not None and acquisition_event not in names:
        raise JourneyDataError(
            f"acquisition_event={acquisition_event!r} never occurs before the labels end; "
            f"pass the event that makes someone a customer, or acquisition_event=None to "
            f"count any event"
        )
    if horizon_us is not None and definition == "event" and churn_event not in names:
        warnings.warn(
            f"churn_event={churn_event!r} never occurs in the log: every label is 0",
            JourneyDataWarning,
            stacklevel=3,
        )

    status = _status(frame, c, end, definition, inactivity_us, churn_event, acquisition_event)
    population = status.index[status["_acquired"] & ~status["_gone"]]
    if population.empty:
        raise JourneyDataError(
            f"no customer is acquired and still active at the cutoff {cut:%Y-%m-%d %H:%M}; "
            f"choose a later cutoff"
        )

    before = frame.filter(nw.col("_us") < c)
    notes: tuple[str, ...] = ()
    channel = "channel" in schema
    if channel and _all_null(before, "channel"):
        # An export with an empty channel column: no channel to count, and a column of zeros
        # would only look like information.
        channel = False
        notes = ("no channel features: the log's channel column has no value before the cutoff",)
    X = _features(
        before,
        schema,
        channel,
        c,
        window_us,
        options["framework"],
        options["ticket_event"],
        options["resolved_event"],
    )
    X = X.reindex(population)
    if purchase_event in names:
        X = X.join(_rfm_features(before, c, purchase_event))
    dropped: tuple[str, ...] = ()
    if customers is not None:
        table, dropped = _customer_features(customers, cut, X.index)
        X = X.join(table)
    X = _fill_counts(X)
    X.columns = _clean_names(X.columns)
    X = X.sort_index()
    return X, status, pd.Timestamp(cut), dropped, notes


def _all_null(frame: nw.LazyFrame, column: str) -> bool:
    """Whether ``column`` is missing in every row of ``frame``."""
    present = frame.filter(~nw.col(column).is_null()).select(nw.len().alias("n")).collect()
    return present["n"].item() == 0


def _recipe(
    cutoff: pd.Timestamp, horizon: Any, customers: Any, options: dict[str, Any]
) -> dict[str, Any]:
    """How a feature table was built, in plain values (``X.attrs``; a model card keeps it,
    and the CLI rebuilds features for scoring from it)."""

    def plain(value: Any) -> Any:
        if value is None or isinstance(value, str | int | float | bool):
            return value
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, dt.timedelta | pd.Timedelta):
            return str(pd.Timedelta(value))
        return repr(value)

    recipe = {"cutoff": cutoff.isoformat(), "horizon": plain(horizon)}
    recipe |= {name: plain(value) for name, value in options.items()}
    recipe["customers"] = customers is not None
    return recipe


def _windows(windows: Sequence[Any]) -> list[int]:
    if isinstance(windows, str) or not windows:
        raise JourneyParameterError(
            f"windows must be a non-empty sequence of durations, got {windows!r}"
        )
    spans = [duration_us(w, "windows") for w in windows]
    if any(b <= a for a, b in itertools.pairwise(spans)):
        raise JourneyParameterError(f"windows must grow, shortest first; got {list(windows)}")
    return spans


def _extent(frame: nw.LazyFrame, end: int) -> tuple[int | None, int | None, set[str]]:
    """The first and last event times, and the event names before ``end``."""
    bounds = frame.select(nw.col("_us").min().alias("lo"), nw.col("_us").max().alias("hi"))
    lo, hi = (None if pd.isna(v) else int(v) for v in bounds.collect().row(0))
    names = frame.filter(nw.col("_us") < end).select("event").unique().collect()
    return lo, hi, set(names["event"].to_list())


def _check_span(c: int, end: int, first: int | None, last: int | None, *, labelled: bool) -> None:
    def stamp(us: int) -> str:
        return f"{EPOCH + dt.timedelta(microseconds=us):%Y-%m-%d %H:%M}"

    if first is None:
        raise JourneyDataError("the log is empty: there is nothing to learn churn from")
    if not first < c or (labelled and c > last):
        raise JourneyDataError(
            f"cutoff {stamp(c)} lies outside the log, which runs from {stamp(first)} to "
            f"{stamp(last)}; choose a cutoff inside it"
        )
    if labelled and last < end:
        raise JourneyDataError(
            f"the horizon runs to {stamp(end)} but the log ends at {stamp(last)}: labels "
            f"there would be guesses. Choose a cutoff at least the horizon before the end "
            f"(at or before {stamp(last - (end - c))}), a shorter horizon, or pass data_end "
            f"if the log was observed for longer than its last event"
        )


def _status(
    frame: nw.LazyFrame,
    c: int,
    end: int,
    definition: str,
    inactivity_us: int | None,
    churn_event: str | None,
    acquisition_event: str | None,
) -> pd.DataFrame:
    """Per customer: ``_acquired``, ``_gone`` (churned by the cutoff) and ``_label``."""
    t = nw.col("_us")
    acquiring = t < c
    if acquisition_event is not None:
        acquiring = acquiring & (nw.col("event") == acquisition_event)
    if definition == "inactivity":
        active_at_cut = (t >= c - inactivity_us) & (t < c)
        active_at_end = (t >= end - inactivity_us) & (t < end)
        flags = {"_acq": acquiring, "_was": active_at_cut, "_stays": active_at_end}
    else:
        is_churn = nw.col("event") == churn_event
        flags = {
            "_acq": acquiring,
            "_quit": is_churn & (t < c),
            "_leaves": is_churn & (t >= c) & (t < end),
        }
    # Conditions become columns before grouping: Narwhals' pandas backend mishandles
    # conditional expressions inside a group-by aggregation.
    per_customer = (
        frame.filter(t < end)
        .with_columns(**{k: v.cast(nw.Int64) for k, v in flags.items()})
        .group_by("customer_id")
        .agg(*(nw.col(k).max() for k in flags))
    )
    table = to_pandas(per_customer.collect()).set_index("customer_id")
    table = table.fillna(0).astype(bool)
    if definition == "inactivity":
        gone, label = ~table["_was"], ~table["_stays"]
    else:
        gone, label = table["_quit"], table["_leaves"]
    return pd.DataFrame({"_acquired": table["_acq"], "_gone": gone, "_label": label})


def _features(
    before: nw.LazyFrame,
    schema: Any,
    channel: bool,
    c: int,
    window_us: list[int],
    framework: Any,
    ticket_event: str,
    resolved_event: str,
) -> pd.DataFrame:
    """Everything but RFM and the customer table, one row per customer seen before ``c``;
    ``channel`` says whether to count channels."""
    t = nw.col("_us")
    # Bucket b holds events within windows[b] but not windows[b-1]; older ones are left out
    # of the windowed counts (they still count in tenure and the totals).
    age = c - t
    bucket = nw.lit(len(window_us))
    for b in range(len(window_us) - 1, -1, -1):
        bucket = nw.when(age <= window_us[b]).then(nw.lit(b)).otherwise(bucket)
    staged = assign_stages(before.to_native(), framework, unmapped="ignore")
    rows = nw.from_native(staged).lazy().with_columns(_bucket=bucket)
    stages = get_framework(framework).stages

    # A channel is a name even when a reader typed an empty channel column as numbers.
    numeric = [
        name
        for name, dtype in schema.items()
        if dtype.is_numeric() and name not in ("customer_id", "channel") and not looks_like_id(name)
    ]
    # Expressions become columns before grouping: Narwhals' pandas backend mishandles
    # anything but a plain column inside a group-by aggregation.
    prepared = rows.with_columns(
        _ticket=(nw.col("event") == ticket_event).cast(nw.Int64),
        _resolved=(nw.col("event") == resolved_event).cast(nw.Int64),
        _stage=nw.col("stage")
        .replace_strict(
            {name: i for i, name in enumerate(stages, start=1)},
            default=nw.lit(0, dtype=nw.Int64()),
            return_dtype=nw.Int64(),
        )
        .fill_null(0),
        **{f"_num_{name}": nw.col(name).cast(nw.Float64).fill_nan(None) for name in numeric},
    )
    aggregations = [
        t.min().alias("_first"),
        t.max().alias("_last"),
        nw.len().alias("events_total"),
        nw.col("_ticket").sum().alias("tickets"),
        nw.col("_resolved").sum().alias("_resolved"),
        nw.col("_stage").max().alias("stage_reached"),
    ]
    for name in numeric:
        column = nw.col(f"_num_{name}")
        if name == "value":
            aggregations.append(column.sum().alias("value_total"))
        else:
            aggregations.append(column.mean().alias(f"{name}_mean"))
    totals = to_pandas(prepared.group_by("customer_id").agg(*aggregations).collect()).set_index(
        "customer_id"
    )
    if channel:
        used = (
            rows.filter(~nw.col("channel").is_null())
            .group_by("customer_id")
            .agg(nw.col("channel").n_unique().alias("channels_used"))
        )
        totals = totals.join(to_pandas(used.collect()).set_index("customer_id"))
    totals["recency_days"] = (c - totals.pop("_last")) / _DAY_US
    totals["tenure_days"] = (c - totals.pop("_first")) / _DAY_US
    # Tickets are resolved in order, so those without a resolution are the surplus.
    totals["unresolved_tickets"] = (totals["tickets"] - totals.pop("_resolved")).clip(lower=0)

    labels = [_label(w) for w in window_us]
    parts = [totals, _windowed(rows, None, "events", labels)]
    parts.append(_windowed(rows, "event", "event", labels))
    if channel:
        parts.append(_windowed(rows, "channel", "channel", labels))
    parts.append(_windowed(rows, "stage", "stage", labels, categories=stages))
    X = pd.concat(parts, axis=1)
    trends = {"trend_events": _trend(X, "events", labels, window_us)}
    for stage in stages:
        trends[f"trend_stage_{stage}"] = _trend(X, f"stage_{stage}", labels, window_us)
    return pd.concat([X, pd.DataFrame(trends)], axis=1)


def _windowed(
    rows: nw.LazyFrame,
    column: str | None,
    prefix: str,
    labels: list[str],
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Counts per customer (and value of ``column``) within each look-back window."""
    keys = ["customer_id", "_bucket"] + ([column] if column else [])
    inside = rows.filter(nw.col("_bucket") < len(labels))
    if column:
        inside = inside.filter(~nw.col(column).is_null())
    long = to_pandas(inside.group_by(*keys).agg(nw.len().alias("_n")).collect())
    if column is None:
        values = [""]
    else:
        values = list(categories) if categories is not None else sorted(long[column].unique())
    names = [
        f"{prefix}_{value}_{label}" if value != "" else f"{prefix}_{label}"
        for value in values
        for label in labels
    ]
    if long.empty:
        # Nothing of this kind within any window (every event older than the longest window,
        # or no event mapped to a stage): no customer row here, _fill_counts makes them 0.
        empty = pd.Index([], dtype=long["customer_id"].dtype, name="customer_id")
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in names}, index=empty)
    if column:
        long[column] = pd.Categorical(long[column], categories=values)
        wide = long.pivot_table(
            index="customer_id",
            columns=[column, "_bucket"],
            values="_n",
            aggfunc="sum",
            fill_value=0,
            observed=False,
        )
    else:
        wide = long.pivot_table(
            index="customer_id", columns="_bucket", values="_n", aggfunc="sum", fill_value=0
        )
        wide.columns = pd.MultiIndex.from_arrays([["" for _ in wide.columns], wide.columns])
    # Windows are nested: a window's count is the running total over the buckets within it.
    full = pd.MultiIndex.from_product([values, range(len(labels))])
    cube = wide.reindex(columns=full, fill_value=0).to_numpy(dtype="int64")
    cube = cube.reshape(len(wide), len(values), len(labels)).cumsum(axis=2)
    return pd.DataFrame(cube.reshape(len(wide), -1), index=wide.index, columns=names)


def _trend(X: pd.DataFrame, stem: str, labels: list[str], window_us: list[int]) -> pd.Series:
    """Events in the shortest window minus the next window's earlier part, scaled to the
    shortest window's length: positive when activity is picking up."""
    if len(labels) < 2:
        return pd.Series(0.0, index=X.index)
    recent = X[f"{stem}_{labels[0]}"].astype("float64")
    earlier = X[f"{stem}_{labels[1]}"].astype("float64") - recent
    return recent - earlier * window_us[0] / (window_us[1] - window_us[0])


def _rfm_features(before: nw.LazyFrame, c: int, purchase_event: str) -> pd.DataFrame:
    """lifetimes' summary at the cutoff, in days."""
    cut = EPOCH + dt.timedelta(microseconds=c)
    native = before.drop("_us").to_native()
    summary = to_pandas(rfm(native, observation_end=cut, purchase_event=purchase_event))
    return summary.set_index("customer_id").add_prefix("rfm_")


def _customer_features(
    customers: Any, cut: dt.datetime, population: pd.Index
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The customer table's columns for ``population``: identifiers dropped, dates as days
    before the cutoff."""
    table = to_pandas(customers, what="customers")
    if "customer_id" not in table.columns:
        raise JourneyDataError(
            f"customers lack a 'customer_id' column; they have {list(table.columns)}"
        )
    duplicated = table["customer_id"].duplicated()
    if duplicated.any():
        example = table.loc[duplicated, "customer_id"].iloc[0]
        raise JourneyDataError(
            f"customers has {int(duplicated.sum())} repeated customer_id value(s), e.g. "
            f"{example!r}; give one row per customer"
        )
    table = table.set_index("customer_id")
    dropped = tuple(c for c in table.columns if looks_like_id(c, table[c]))
    if dropped:
        warnings.warn(
            f"customer columns {list(dropped)} look like identifiers and were left out of "
            f"the features (a model would memorise them)",
            JourneyDataWarning,
            stacklevel=4,
        )
    table = table.drop(columns=list(dropped)).reindex(population)
    moment = pd.Timestamp(cut)
    future = 0
    for name in table.columns:
        column = table[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
            stamps = column if column.dt.tz is not None else column.dt.tz_localize("UTC")
            days = (moment - stamps) / pd.Timedelta(days=1)
            future += int((days < 0).sum())
            table[name] = days.where(days >= 0)
            table = table.rename(columns={name: f"{name}_days_before"})
    if future:
        warnings.warn(
            f"{future} customer-table date(s) fall after the cutoff {moment:%Y-%m-%d}: future "
            f"knowledge, made missing",
            JourneyDataWarning,
            stacklevel=4,
        )
    return table.add_prefix("customer_"), dropped


def is_count(name: str) -> bool:
    """Whether a feature of :func:`build_dataset` counts touchpoints, so that its absence
    means zero (a customer without such events, or an event no one had before the cutoff)."""
    return name.startswith(("events_", "event_", "channel_", "stage_", "trend_")) or name in (
        "tickets",
        "unresolved_tickets",
        "channels_used",
    )


def _fill_counts(X: pd.DataFrame) -> pd.DataFrame:
    """Customers without rows in a count table have zero of it."""
    counts = [c for c in X.columns if is_count(c)]
    # Filling by column leaves a block per column; the copy consolidates them.
    return X.fillna(dict.fromkeys(counts, 0)).copy()


def _clean_names(columns: pd.Index) -> list[str]:
    cleaned = (
        pd.Series(columns, dtype="str")
        .str.replace(r"[^0-9A-Za-z_]+", "_", regex=True)
        .str.strip("_")
    )
    return cleaned.tolist()


def _label(us: int) -> str:
    """A window's name in a column: 30D, 12h, 90min."""
    span = pd.Timedelta(microseconds=us)
    if span % pd.Timedelta(days=1) == pd.Timedelta(0):
        return f"{span.days}D"
    if span % pd.Timedelta(hours=1) == pd.Timedelta(0):
        return f"{int(span / pd.Timedelta(hours=1))}h"
    return f"{int(span / pd.Timedelta(minutes=1))}min"


def _rule(definition: str, horizon: Any, inactivity: Any, churn_event: str | None) -> str:
    if definition == "inactivity":
        return f"no event in the last {inactivity} of the {horizon} after the cutoff"
    return f"a {churn_event!r} event within {horizon} after the cutoff"
