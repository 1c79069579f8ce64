"""The per-period journey series that change detection scans, on any engine.

Every series is one metric of one place (the whole log, or the customers of one segment
value) over consecutive calendar periods (UTC days, or weeks from Monday). Each period
carries a ``count`` and, where the metric is a share or an amount per customer, the
``base`` it is taken of, so a later test can weigh a rate by the customers behind it.

The metrics (``W`` is the inactivity window, ``w`` the conversion window)
---------------------------------------------------------------------------
``active customers`` (count)
    Distinct customers with at least one event in the period.
``new customers`` (count)
    Customers whose first event in the log falls in the period.
``events`` (count; ``detail`` is the event)
    Rows of that event in the period, one series per event name.
``conversion`` (rate; ``detail`` is ``"a → b"``)
    For each consecutive pair of funnel steps: of the customers doing ``a`` in the period
    (``base``), those doing ``b`` within ``w`` after it (``count``), whatever came before
    ``a``: :func:`journey_lib.funnel_trend` on the two steps.
``churn rate`` (rate)
    Of the customers active at the period's start (an event in the ``W`` before it), those
    not active at its end: :func:`journey_lib.churn_rate`.
``retention`` (rate)
    Of the customers new in the period (``base``), those with an event in the next period.
``revenue per customer`` (money)
    The sum of the log's ``value`` in the period (``count``) over its active customers
    (``base``).

Which periods are used
----------------------
A log is taken to cover whole days, from the day of its first event to the day of its last
(exports are cut by date). A period is **used** when it lies wholly inside that span, and,
for metrics that wait on later data or need memory of earlier data:

* ``conversion``: its end plus ``w`` is inside the span (later data can no longer raise it);
* ``retention``: the next period is used too;
* ``new customers``, ``retention`` and ``churn rate``: it starts at least ``W`` after the
  log's first day. Before that, the log cannot tell a new customer from one returning after
  a gap, and nobody can yet have been inactive for ``W``, so these series would show the
  log's own start as a change;
* ``churn rate``: it ended by the log's last event (as :func:`journey_lib.churn_rate` has it).

Other periods are listed with ``used`` False, so a figure can still draw them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import in_utc, lazy_events, money, with_microseconds
from .._time import DAY_US, duration_us, first_day, period_number
from ..analytics.activity import churn_rate
from ..analytics.funnels import funnel_trend
from ..analytics.segments import Segments, segment_table, segments_of
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile

__all__ = [
    "FAMILY",
    "METRICS",
    "METRIC_WORDS",
    "MONITOR_PERIODS",
    "SERIES_COLUMNS",
    "monitor_series",
    "period_index",
    "series_words",
]

#: The metrics scanned, in the order they are listed.
METRICS: tuple[str, ...] = (
    "active customers",
    "new customers",
    "events",
    "conversion",
    "churn rate",
    "retention",
    "revenue per customer",
)
#: How each metric varies by chance: counts (Poisson), shares of a base (binomial), money.
FAMILY: dict[str, str] = {
    "active customers": "count",
    "new customers": "count",
    "events": "count",
    "conversion": "rate",
    "churn rate": "rate",
    "retention": "rate",
    "revenue per customer": "money",
}
#: The periods a change is looked for in.
MONITOR_PERIODS: tuple[str, ...] = ("day", "week")
#: The columns of :func:`monitor_series`.
SERIES_COLUMNS: tuple[str, ...] = (
    "metric",
    "detail",
    "column",
    "value",
    "period",
    "count",
    "base",
    "used",
)
_ALL = ""  # the place "whole log" while series are assembled (None in the result)
#: The metrics named by themselves, in words (events and conversions name their detail).
METRIC_WORDS: dict[str, str] = {
    "active customers": "Active customers",
    "new customers": "New customers",
    "churn rate": "The churn rate",
    "retention": "First-period retention",
    "revenue per customer": "Revenue per active customer",
}


def series_words(metric: str, detail: Any = None, period: str | None = None) -> str:
    """A series' metric and detail in words, capitalised, as figures and readings name it;
    with ``period`` ("day" or "week"), the churn rate and retention say their period.

    Examples
    --------
    >>> series_words("events", "payment_error"), series_words("churn rate")
    ('Payment error events', 'The churn rate')
    >>> series_words("conversion", "cart → purchase")
    'Conversion from cart to purchase'
    >>> series_words("churn rate", period="week"), series_words("retention", period="day")
    ('The weekly churn rate', 'First-day retention')
    """
    if metric == "events":
        words = str(detail).replace("_", " ")
        return f"{words[:1].upper()}{words[1:]} events"
    if metric == "conversion":
        a, _, b = str(detail).partition(" → ")
        return f"Conversion from {a.replace('_', ' ')} to {b.replace('_', ' ')}"
    if period in ("day", "week") and metric == "churn rate":
        return f"The {'daily' if period == 'day' else 'weekly'} churn rate"
    if period in ("day", "week") and metric == "retention":
        return f"First-{period} retention"
    return METRIC_WORDS.get(metric, str(metric))


def monitor_series(
    events: IntoFrame,
    profile: LogProfile | None = None,
    *,
    period: str = "week",
    metrics: Sequence[str] | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 6,
    steps: Sequence[str] | None = None,
    window: Any = "14D",
    inactivity: Any = None,
) -> pd.DataFrame:
    """Every series :func:`journey_lib.changes` scans: one metric of one place per period.

    The definitions are in the module docstring of :mod:`journey_lib.monitor.series`.
    Only aggregated tables leave the engine: a lazy log is never collected whole.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``, optional ``value``) of
        any engine.
    profile : LogProfile, optional
        Gives the funnel steps and the inactivity window (:func:`journey_lib.profile`).
    period : {"day", "week"}, default "week"
        UTC days, or weeks from Monday.
    metrics : list of str, optional
        Some of :data:`METRICS`; all by default (``conversion`` needs funnel steps,
        ``revenue per customer`` a ``value`` column with money in it: without them these
        are left out).
    by : str, list of str or Segments, optional
        Segment columns: each value of each column is a place of its own (columns are not
        crossed), as defined in :mod:`journey_lib.analytics.segments`.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over time counts.
    top : int or None, default 6
        Values kept per ``by`` column by customers; the rest are ``(other)``.
    steps : list of str, optional
        Funnel steps; the profile's funnel by default.
    window : str or timedelta, default "14D"
        ``w``: how long after a step the next one counts as its conversion.
    inactivity : str or timedelta, optional
        ``W``; the profile's, else ``"90D"``.

    Returns
    -------
    pandas.DataFrame
        One row per series and period: ``metric``, ``detail`` (the event, or ``"a → b"``,
        else missing), ``column`` and ``value`` (the place: missing for the whole log),
        ``period`` (its start, UTC), ``count``, ``base`` (NaN for counts) and ``used``.
        Every series has a row for every period of the log's span, zeros included.

    Raises
    ------
    JourneyDataError
        When the log is empty or a ``by`` column is missing.
    JourneyParameterError
        For an unknown period or metric, or fewer than two funnel steps.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 10:00",
    ...                                  "2024-01-02 09:00", "2024-01-03 09:00",
    ...                                  "2024-01-03 12:00"], utc=True),
    ...     "event": ["visit", "buy", "visit", "visit", "visit"]})
    >>> s = monitor_series(log, period="day", metrics=["active customers", "conversion"],
    ...                    steps=["visit", "buy"], window="1D")
    >>> s[["metric", "detail", "period", "count", "base", "used"]]
                 metric       detail                    period  count  base   used
    0  active customers          NaN 2024-01-01 00:00:00+00:00    1.0   NaN   True
    1  active customers          NaN 2024-01-02 00:00:00+00:00    1.0   NaN   True
    2  active customers          NaN 2024-01-03 00:00:00+00:00    2.0   NaN   True
    3        conversion  visit → buy 2024-01-01 00:00:00+00:00    1.0   1.0   True
    4        conversion  visit → buy 2024-01-02 00:00:00+00:00    0.0   1.0   True
    5        conversion  visit → buy 2024-01-03 00:00:00+00:00    0.0   2.0  False
    """
    check_choice("period", period, MONITOR_PERIODS)
    chosen = _metrics(metrics)
    given, _ = lazy_events(events)
    frame = in_utc(given)
    schema = frame.collect_schema()
    inactivity = from_profile(profile, "inactivity", inactivity, "90D")
    memory_us = duration_us(inactivity, "inactivity")
    window_us = duration_us(window, "window")
    # A Segments carries its own rule and top (this function's defaults are not a second say).
    spec = by if isinstance(by, Segments) else segments_of(by, by_rule, top)
    columns = [] if spec is None else spec.columns
    log = with_microseconds(
        frame.select("customer_id", "timestamp", "event", money(schema).alias("_v")), "_us"
    ).with_columns(_p=period_number(nw.col("_us"), period))
    first_us, last_us = _span(log)
    grid = _Grid(period, first_us, last_us)

    if spec is not None:
        segments = _segments(given, spec)
        tagged = log.join(segments, on="customer_id", how="left")
        assigned: Segments | None = Segments.assigned(segments.to_native())
    else:
        tagged, assigned = log, None
    places = [None, *columns]

    parts: list[pd.DataFrame] = []
    wanted = set(chosen)
    if wanted & {"active customers", "revenue per customer", "new customers", "retention"}:
        per_customer = tagged.group_by("customer_id", *columns, "_p").agg(nw.col("_v").sum())
        if wanted & {"active customers", "revenue per customer"}:
            active = _by_place(
                per_customer, places, ["_p"], count=nw.len(), money=nw.col("_v").sum()
            )
            if "active customers" in wanted:
                parts.append(_shaped(active, "active customers", count="count"))
            if "revenue per customer" in wanted and _has_money(active):
                parts.append(_shaped(active, "revenue per customer", count="money", base="count"))
        if wanted & {"new customers", "retention"}:
            firsts = per_customer.group_by("customer_id").agg(nw.col("_p").min().alias("_f"))
            dated = per_customer.join(firsts, on="customer_id")
            back = dated.filter(nw.col("_p") == nw.col("_f") + 1).select(
                "customer_id", _back=nw.lit(1, dtype=nw.Int64())
            )
            cohorts = (
                dated.filter(nw.col("_p") == nw.col("_f"))
                .join(back, on="customer_id", how="left")
                .with_columns(nw.col("_back").fill_null(0))
            )
            new = _by_place(cohorts, places, ["_p"], count=nw.len(), kept=nw.col("_back").sum())
            if "new customers" in wanted:
                parts.append(_shaped(new, "new customers", count="count"))
            if "retention" in wanted:
                parts.append(_shaped(new, "retention", count="kept", base="count"))
    if "events" in wanted:
        volumes = _by_place(tagged, places, ["_p", "event"], count=nw.len())
        parts.append(_shaped(volumes, "events", count="count", detail="event"))
    if "conversion" in wanted:
        pairs = _pairs(steps, profile)
        for a, b in pairs:
            trend = funnel_trend(events, [a, b], period=period, window=window, by=assigned)
            table = _native(trend).rename(columns={"converted": "kept", "customers": "count"})
            table["_p"] = period_index(table["period"], period)
            summed = _sum_places(table, places, ["_p"], ["count", "kept"])
            parts.append(
                _shaped(summed, "conversion", count="kept", base="count", detail=f"{a} → {b}")
            )
    if "churn rate" in wanted:
        churn = _native(churn_rate(events, period=period, inactivity=inactivity, by=assigned))
        churn["_p"] = period_index(churn["period"], period)
        summed = _sum_places(churn, places, ["_p"], ["lost", "active_start"])
        parts.append(_shaped(summed, "churn rate", count="lost", base="active_start"))

    table = _on_grid(parts, grid)
    table["used"] = grid.used(table, memory_us=memory_us, window_us=window_us)
    return table.loc[:, list(SERIES_COLUMNS)]


def period_index(starts: pd.Series, period: str) -> np.ndarray:
    """The number of the day or week (see :func:`journey_lib._time.period_number`) starting
    at each of ``starts`` (naive times read as UTC)."""
    stamps = pd.DatetimeIndex(starts)
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    us = stamps.as_unit("us").asi8
    return np.asarray(period_number(us, period), dtype="int64")


def _segments(frame: nw.LazyFrame, spec: Segments) -> nw.LazyFrame:
    """Each customer's value of every ``by`` column, ``top`` applied to each column on its
    own (a breakdown by several columns elsewhere folds their combinations instead)."""
    if spec.as_given or len(spec.columns) == 1:
        return segment_table(frame, spec)
    tables = [segment_table(frame, dataclasses.replace(spec, by=column)) for column in spec.columns]
    joined = tables[0]
    for table in tables[1:]:
        joined = joined.join(table, on="customer_id", how="left")
    return joined


def _metrics(metrics: Sequence[str] | None) -> list[str]:
    if metrics is None:
        return list(METRICS)
    chosen = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise JourneyParameterError(f"metrics must be some of {list(METRICS)}; got {metrics!r}")
    return [m for m in METRICS if m in chosen]


def _pairs(steps: Sequence[str] | None, profile: LogProfile | None) -> list[tuple[str, str]]:
    named = list(steps) if steps is not None else list(from_profile(profile, "funnel", None, ()))
    if steps is not None and len(named) < 2:
        raise JourneyParameterError(
            f"steps must name at least two funnel steps, in order; got {steps!r}"
        )
    return list(itertools.pairwise(named))


def _span(log: nw.LazyFrame) -> tuple[int, int]:
    ends = log.select(
        nw.col("_us").min().alias("first"), nw.col("_us").max().alias("last")
    ).collect()
    first, last = ends["first"].item(), ends["last"].item()
    if first is None or first != first:  # null, or NaN from pandas' empty min
        raise JourneyDataError("the log has no events: there is no series to look at")
    return int(first), int(last)


def _native(frame: Any) -> pd.DataFrame:
    native = nw.from_native(frame)
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    return native.to_pandas()


def _by_place(
    frame: nw.LazyFrame, places: list[str | None], keys: list[str], **aggs: nw.Expr
) -> pd.DataFrame:
    """``aggs`` by ``keys`` for the whole log and for each segment column's values, as one
    pandas table with ``column`` and ``value`` (the empty text for the whole log)."""
    tables = []
    for place in places:
        grouping = keys if place is None else [place, *keys]
        out = _native(frame.group_by(*grouping).agg(**aggs).to_native())
        out.insert(0, "column", _ALL if place is None else place)
        out.insert(1, "value", _ALL if place is None else out.pop(place).astype(str))
        tables.append(out)
    return pd.concat(tables, ignore_index=True)


def _sum_places(
    table: pd.DataFrame, places: list[str | None], keys: list[str], sums: list[str]
) -> pd.DataFrame:
    """A breakdown crossed by every segment column, summed to each column's own values
    (every customer is in exactly one combination, so counts add up)."""
    tables = []
    for place in places:
        grouping = keys if place is None else [place, *keys]
        out = table.groupby(grouping, as_index=False, sort=False)[sums].sum()
        out.insert(0, "column", _ALL if place is None else place)
        out.insert(1, "value", _ALL if place is None else out.pop(place).astype(str))
        tables.append(out)
    return pd.concat(tables, ignore_index=True)


def _has_money(active: pd.DataFrame) -> bool:
    return bool((active["money"] != 0).any())


def _shaped(
    table: pd.DataFrame,
    metric: str,
    *,
    count: str,
    base: str | None = None,
    detail: str | None = None,
) -> pd.DataFrame:
    """One metric's rows in the shape of :data:`SERIES_COLUMNS` (before the grid)."""
    if detail is None or detail in table:
        details = table[detail].astype(str) if detail is not None else _ALL
    else:
        details = detail
    return pd.DataFrame(
        {
            "metric": metric,
            "detail": details,
            "column": table["column"].to_numpy(),
            "value": table["value"].to_numpy(),
            "_p": table["_p"].to_numpy(dtype="int64"),
            "count": table[count].to_numpy(dtype="float64"),
            "base": np.nan if base is None else table[base].to_numpy(dtype="float64"),
        }
    )


class _Grid:
    """The periods of the log's span, and which of them a series may use."""

    def __init__(self, period: str, first_us: int, last_us: int) -> None:
        self.period = period
        self.first_day, self.last_day = first_us // DAY_US, last_us // DAY_US
        lo, hi = period_number(first_us, period), period_number(last_us, period)
        self.index = np.arange(lo, hi + 1, dtype="int64")

    def start_day(self, p: np.ndarray) -> np.ndarray:
        return np.asarray(first_day(p, self.period), dtype="int64")

    def complete(self, p: np.ndarray) -> np.ndarray:
        """Periods wholly inside the days from the first event's to the last event's."""
        return (self.start_day(p) >= self.first_day) & (self.start_day(p + 1) - 1 <= self.last_day)

    def used(self, table: pd.DataFrame, *, memory_us: int, window_us: int) -> np.ndarray:
        p = table["_p"].to_numpy()
        metric = table["metric"].to_numpy()
        used = self.complete(p)
        end_us = self.start_day(p + 1) * DAY_US
        span_end_us = (self.last_day + 1) * DAY_US
        conversion = metric == "conversion"
        used &= ~conversion | (end_us + window_us <= span_end_us)
        used &= (metric != "retention") | self.complete(p + 1)
        remembers = np.isin(metric, ["new customers", "retention", "churn rate"])
        used &= ~remembers | (self.start_day(p) * DAY_US >= self.first_day * DAY_US + memory_us)
        # churn_rate reports periods that ended by the log's last event only.
        used &= (metric != "churn rate") | table["_seen"].fillna(False).to_numpy(dtype=bool)
        return used


def _on_grid(parts: list[pd.DataFrame], grid: _Grid) -> pd.DataFrame:
    """Every series on every period of the span, with zeros where nothing happened."""
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[rows["_p"].between(grid.index[0], grid.index[-1])]
    keys = ["metric", "detail", "column", "value"]
    series = rows[keys].drop_duplicates().reset_index(drop=True)
    n, t = len(series), len(grid.index)
    full = series.loc[np.repeat(np.arange(n), t)].reset_index(drop=True)
    full["_p"] = np.tile(grid.index, n)
    full = full.merge(rows.assign(_seen=True), on=[*keys, "_p"], how="left")
    counts = full["metric"].map(FAMILY).to_numpy() != "count"
    full["count"] = full["count"].fillna(0.0)
    full["base"] = np.where(counts, full["base"].fillna(0.0), np.nan)
    order = pd.Categorical(full["metric"], categories=list(METRICS), ordered=True)
    full = full.assign(_m=order).sort_values(["_m", "detail", "column", "value", "_p"])
    full = full.drop(columns="_m").reset_index(drop=True)
    days = grid.start_day(full["_p"].to_numpy())
    full["period"] = pd.to_datetime(days * DAY_US, unit="us", utc=True)
    for key in ("detail", "column", "value"):
        full[key] = full[key].where(full[key] != _ALL, None)
    return full
