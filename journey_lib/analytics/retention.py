"""Cohort retention, churn rate and lifecycle, on any engine.

Three views of whether customers stay, each computed once with Narwhals expressions and
returned as a tidy (long) frame of the kind it was given (pandas, Polars eager or lazy,
DuckDB, PySpark; lazy stays lazy):

:func:`retention`
    Cohort x period retention of customers, revenue or events: one row per (cohort, offset)
    with totals, rates and whether the period has ended. :func:`retention_matrix` pivots a
    collected result for display.
:func:`~journey_lib.analytics.activity.churn_rate`
    Per calendar period, customers active at its start, lost by its end, and the churn rate
    (lost / active at start), with activity defined by an inactivity window.
:func:`~journey_lib.analytics.activity.lifecycle`
    Per calendar period, customers who are new, returning, resurrecting or dormant.

The last two live in :mod:`journey_lib.analytics.activity` and are importable from here too.

Shared conventions
------------------
* **Periods** are UTC calendar periods: ``"day"``, ``"week"`` (starting Monday),
  ``"month"``, ``"quarter"``, ``"year"``. Logs from :func:`journey_lib.load_events` are UTC;
  times in another zone are converted to UTC first, and naive times are taken as UTC (the
  period starts returned are then naive too).
* **"Now" is the last timestamp in the log** (over all events, whatever event filter is
  applied). A period has *ended* when its end (the start of the next period) is at or before
  "now"; the period holding "now" is incomplete, and later periods are never reported.
* **Every period between the log's first and "now" is reported**, including periods in which
  nobody did anything: a zero is a zero, never a missing row.
* Counts are distinct customers (``Int64``), except retention's ``events`` measure.

Breakdowns
----------
Each of the three takes ``by=`` (a column of the log, a list of columns for a crossing, or a
:class:`journey_lib.Segments` for a customer table or a cutoff), ``by_rule`` and ``top``.
Which segment a customer is in is defined once, in :mod:`journey_lib.analytics.segments`, and
read from the whole log given (before any event filter), so a segment means the same thing in
every analytic. The result gets the segment columns first (text; ``(missing)``, ``(other)``)
and one block per segment, sorted by the segment columns and then as without ``by``.

**A segment's block is the function on the log restricted to that segment's customers, over
the whole log's periods**: "now" and the first period stay the log's. So every segment of a
churn rate or lifecycle reports the same periods (zeros included, even for a segment with no
activity), a segment whose customers left early shows them lost or dormant instead of
stopping when they did, and blocks line up for comparison. Retention reports the cohorts a
segment has (a cohort nobody is in has no rows, as without ``by``). The segments cost one
group-by over the log and one join, whatever their number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame, IntoFrameT

from .._engine import count_up, to_pandas
from .._time import PERIODS
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from ._periods import VALUE, event_names, key_names, only, open_log, span

# churn_rate and lifecycle live in .activity; importing them here keeps the import path
# journey_lib.analytics.retention.churn_rate (and LIFECYCLE_STATUSES) that modules use.
from .activity import LIFECYCLE_STATUSES, churn_rate, lifecycle
from .segments import Segments

__all__ = [
    "LIFECYCLE_STATUSES",
    "RETENTION_KINDS",
    "RETENTION_MEASURES",
    "churn_rate",
    "lifecycle",
    "retention",
    "retention_curve",
    "retention_matrix",
]

#: The ``kind`` values of :func:`retention`.
RETENTION_KINDS: tuple[str, ...] = ("on", "on_or_after")
#: The ``measure`` values of :func:`retention`.
RETENTION_MEASURES: tuple[str, ...] = ("customers", "revenue", "events")
#: Per measure, the columns of :func:`retention` (after any segment columns).
_COLUMNS = {
    "customers": ("cohort", "period", "cohort_size", "customers", "rate", "complete"),
    "revenue": (
        "cohort",
        "period",
        "cohort_size",
        "customers",
        "cohort_revenue",
        "revenue",
        "rate",
        "complete",
    ),
    "events": (
        "cohort",
        "period",
        "cohort_size",
        "customers",
        "cohort_events",
        "events",
        "rate",
        "complete",
    ),
}
#: The numeric columns :func:`retention_matrix` can show.
_MATRIX_VALUES = (
    "rate",
    "customers",
    "cohort_size",
    "revenue",
    "cohort_revenue",
    "events",
    "cohort_events",
)


def retention(
    events: IntoFrameT,
    *,
    period: str | None = None,
    profile: LogProfile | None = None,
    kind: Literal["on", "on_or_after"] = "on",
    cohort_event: str | Iterable[str] | None = None,
    return_event: str | Iterable[str] | None = None,
    max_periods: int | None = None,
    measure: Literal["customers", "revenue", "events"] = "customers",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Cohort retention: the share of each cohort that comes back, period by period, or the
    share of its first period's revenue or events that later periods bring.

    Definitions
    -----------
    * A customer's **cohort** is the calendar period of their first ``cohort_event`` (first
      event of any kind when ``None``). Customers who never did it are in no cohort.
    * **Offset** ``k`` (column ``period``) is the ``k``-th calendar period after the cohort
      period; offset 0 is the cohort period itself.
    * A **return** is a ``return_event`` (any event when ``None``) at or after the customer's
      first cohort event. Returns before it, even in the cohort period, do not count.
    * ``kind="on"`` (Amplitude's *N-day*, PostHog's *recurring* retention): a customer counts
      at offset ``k`` when they have a return in that period.
      ``kind="on_or_after"`` (Amplitude's *unbounded* retention): when they have a return in
      that period or any later one (up to "now"), so counts never rise with ``k``.
    * **Offset 0 counts the cohort event itself** when it is also a return event, so with
      ``return_event=None`` (or equal to ``cohort_event``) offset 0 is 100% by definition,
      as in Amplitude. When the return event differs (say cohort ``"signup"``, return
      ``"purchase"``), offset 0 is the share who did the return event in the cohort period at
      or after their first cohort event.
    * **"Now"** is the log's last timestamp (over all events). Offset ``k`` of a cohort is
      ``complete`` when its period ended at or before "now"; the period holding "now" is
      reported with ``complete=False`` (a partial count, not a drop), and offsets whose
      period starts after "now" are not reported at all. With ``"on_or_after"``, every cell
      is as of "now": a later return can still raise it, ended period or not.

    Measures
    --------
    * ``measure="customers"`` (default): ``rate = customers / cohort_size``, as above.
    * ``measure="revenue"``: **net revenue retention** as Amplitude and ChartMogul define it.
      ``revenue`` is the money (the log's ``value``, missing read as 0) of the cohort's
      returns in offset ``k``'s period, ``cohort_revenue`` that of its returns at offset 0,
      and ``rate = revenue / cohort_revenue``: it can pass 1 when customers spend more
      later. Only returns count, so with ``return_event="purchase"`` it is purchase revenue,
      and money spent before a customer's first cohort event is left out. A cohort whose
      offset-0 revenue is 0 (or negative, after refunds) has no base: its ``rate`` is
      missing at every offset, never 0 or infinite. The log needs a ``value`` column.
    * ``measure="events"``: the same with the cohort's number of returns (rows, duplicates
      included) in ``events`` and ``cohort_events``; the rate is missing when offset 0 has
      no return event.
    * ``kind="on_or_after"`` counts customers with a return in or after a period; a sum of
      money or events "in or after" a period is no retention measure (it would be compared
      with one period's base), so it is refused for the revenue and events measures.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``; ``value`` for revenue)
        of any engine: pandas, Polars (eager or lazy), DuckDB, PySpark. The result is the
        same kind; lazy stays lazy.
    period : {"day", "week", "month", "quarter", "year"}, optional
        Calendar period of cohorts and offsets; weeks start on Monday. The profile's
        period, else ``"month"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the period when not given.
    kind : {"on", "on_or_after"}, default "on"
        Retention *on* the period, or *on or after* it (see above; customers only).
    cohort_event, return_event : str or list of str, optional
        The event (or any of the events) that places a customer in a cohort, and that counts
        as coming back. Any event when ``None``.
    max_periods : int, optional
        The largest offset reported (so offsets ``0 .. max_periods``); all available when
        ``None``. With ``"on_or_after"``, returns after it still count at it.
    measure : {"customers", "revenue", "events"}, default "customers"
        What is retained (see Measures).
    by : str, list of str or Segments, optional
        A breakdown: one block of cohorts per segment (see the module docstring and
        :mod:`journey_lib.analytics.segments`). A customer's cohort stays theirs; the
        segment only says which block they are counted in.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over time counts.
    top : int or None, default 10
        Segments kept by name; customers of the others are in ``(other)``.

    Returns
    -------
    DataFrame
        One row per cohort and offset, sorted by both (after the segment columns, text,
        that come first with ``by``):

        ==============  ===================================================================
        cohort          start of the cohort period (datetime, the log's time zone)
        period          offset ``k`` (Int64), 0 = the cohort period
        cohort_size     customers in the cohort (Int64)
        customers       of them, customers retained at offset ``k`` (Int64; 0, not missing)
        cohort_revenue  revenue measure: the cohort's revenue at offset 0 (Float64)
        revenue         revenue measure: its revenue at offset ``k`` (Float64)
        cohort_events   events measure: the cohort's return events at offset 0 (Int64)
        events          events measure: its return events at offset ``k`` (Int64)
        rate            ``customers / cohort_size``, ``revenue / cohort_revenue`` or
                        ``events / cohort_events`` (Float64)
        complete        whether the offset's period ended by "now" (Boolean)
        ==============  ===================================================================

        Use :func:`retention_matrix` on the collected result for a cohort x offset table.

    Raises
    ------
    JourneyDataError
        When a required or ``by`` column is missing (``value`` for revenue), ``timestamp``
        is not a datetime, or (on an eager log) a ``by`` column holds no value.
    JourneyParameterError
        For an unknown ``period``, ``kind`` or ``measure``, ``"on_or_after"`` with another
        measure than customers, a bad event list or ``max_periods``, or a ``by`` column
        named like a result column.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20",
    ...                                  "2024-03-02", "2024-02-14"], utc=True),
    ...     "event": "visit"})
    >>> r = retention(log)
    >>> r[["period", "cohort_size", "customers", "complete"]].values.tolist()
    [[0, 2, 2, True], [1, 2, 1, True], [2, 2, 1, False], [0, 1, 1, True], [1, 1, 0, False]]
    >>> r["cohort"].dt.strftime("%Y-%m").unique().tolist()
    ['2024-01', '2024-02']
    >>> retention(log, kind="on_or_after")["customers"].tolist()
    [2, 2, 1, 1, 0]

    Net revenue retention: the January cohort spent 200 in January, 50 in February and 90
    in March (customer 3, who came in February, is another cohort).

    >>> shop = log.assign(event="purchase", value=[100.0, 50.0, 100.0, 90.0, 30.0])
    >>> nrr = retention(shop, measure="revenue")
    >>> nrr[["cohort_revenue", "revenue", "rate"]].values.tolist()[:3]
    [[200.0, 200.0, 1.0], [200.0, 50.0, 0.25], [200.0, 90.0, 0.45]]

    By segment: one block of cohorts per plan.

    >>> plans = retention(log.assign(plan=["pro", "pro", "free", "free", "pro"]), by="plan")
    >>> plans[["plan", "period", "cohort_size", "customers"]].values.tolist()[:3]
    [['free', 0, 1, 1], ['free', 1, 1, 0], ['free', 2, 1, 1]]
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    check_choice("kind", kind, RETENTION_KINDS)
    check_choice("measure", measure, RETENTION_MEASURES)
    if measure != "customers" and kind != "on":
        raise JourneyParameterError(
            f"kind={kind!r} counts customers who come back in a period or later; it has no "
            f"meaning for measure={measure!r} (a period's {measure} against offset 0's): "
            "use kind='on'"
        )
    cohort_names = event_names(cohort_event, "cohort_event")
    return_names = event_names(return_event, "return_event")
    if max_periods is not None and (
        isinstance(max_periods, bool) or not isinstance(max_periods, int) or max_periods < 0
    ):
        raise JourneyParameterError(
            f"max_periods must be a non-negative integer or None, got {max_periods!r}"
        )
    columns = _COLUMNS[measure]
    opened = open_log(
        events,
        period,
        by=by,
        by_rule=by_rule,
        top=top,
        reserved=columns,
        value=measure == "revenue",
    )
    lf, cal, keys = opened.log, opened.calendar, opened.keys
    cohort_keys = [*keys, "_cohort_idx"]

    # One row per customer in a cohort: the smallest frame the segments can join.
    firsts = opened.with_segments(
        only(lf, cohort_names)
        .group_by("customer_id")
        .agg(nw.col("timestamp").min().alias("_first"))
    ).with_columns(cal.index(nw.col("_first")).alias("_cohort_idx"))
    values = [VALUE] if measure == "revenue" else []
    returns = (
        only(lf, return_names)
        .select("customer_id", "timestamp", *values)
        .join(firsts, on="customer_id", how="inner")
        .filter(nw.col("timestamp") >= nw.col("_first"))
        .select(
            "customer_id",
            *cohort_keys,
            (cal.index(nw.col("timestamp")) - nw.col("_cohort_idx")).alias("period"),
            *values,
        )
    )
    if kind == "on":
        if max_periods is not None:
            returns = returns.filter(nw.col("period") <= max_periods)
        totals = {"revenue": nw.col(VALUE).sum(), "events": nw.len()}
        counts = returns.group_by(*cohort_keys, "period").agg(
            nw.col("customer_id").n_unique().alias("_n"),
            *([totals[measure].alias("_m")] if measure in totals else []),
        )
    else:
        latest = returns.group_by("customer_id", *cohort_keys).agg(
            nw.col("period").max().alias("period")
        )
        if max_periods is not None:
            latest = latest.with_columns(nw.min_horizontal("period", nw.lit(max_periods)))
        # _n = customers whose latest return is at this offset; a reverse running sum of it
        # over offsets is the customers with a return on or after each offset.
        counts = latest.group_by(*cohort_keys, "period").agg(nw.len().alias("_n"))

    upper = nw.col("_now_idx") - nw.col("_cohort_idx")
    if max_periods is not None:
        upper = nw.min_horizontal(upper, nw.lit(max_periods, dtype=nw.Int64()))
    cohorts = (
        firsts.group_by(*cohort_keys)
        .agg(nw.len().alias("cohort_size"))
        .with_columns(nw.col("cohort_size").cast(nw.Int64))
        .join(span(lf, cal).select("_now_idx"), how="cross")
        .with_columns(upper.alias("_upper"))
    )
    grid = count_up(cohorts, "_upper", "period", lf).join(
        counts, on=[*cohort_keys, "period"], how="left"
    )
    grid = grid.with_columns(nw.col("_n").fill_null(0).cast(nw.Int64))
    if kind == "on":
        customers = nw.col("_n")
    else:
        total = nw.col("_n").sum().over(*cohort_keys)
        before = nw.col("_n").cum_sum().over(*cohort_keys, order_by="period") - nw.col("_n")
        customers = total - before
    grid = grid.with_columns(customers.cast(nw.Int64).alias("customers"))
    if measure == "customers":
        rate = nw.col("customers") / nw.col("cohort_size")
    else:
        grid = _measured(grid, measure, cohort_keys)
        base = nw.col(f"cohort_{measure}")
        rate = nw.when(base > 0).then(nw.col(measure) / base)
    result = (
        cal.with_start(grid, "_cohort_idx", "cohort")
        .with_columns(
            rate.cast(nw.Float64).alias("rate"),
            (nw.col("_cohort_idx") + nw.col("period") < nw.col("_now_idx")).alias("complete"),
        )
        .select(*key_names(opened), *columns)
        .sort(*opened.columns, "cohort", "period")
    )
    return opened.finish(result)


def _measured(grid: nw.LazyFrame, measure: str, cohort_keys: list[str]) -> nw.LazyFrame:
    """``grid`` with the measure's total at each offset (``revenue``/``events``, 0 where
    nothing came back) and at offset 0 (``cohort_revenue``/``cohort_events``)."""
    dtype = nw.Float64() if measure == "revenue" else nw.Int64()
    at_zero = nw.when(nw.col("period") == 0).then(nw.col(measure)).otherwise(nw.lit(0, dtype))
    return grid.with_columns(nw.col("_m").fill_null(0).cast(dtype).alias(measure)).with_columns(
        at_zero.sum().over(*cohort_keys).cast(dtype).alias(f"cohort_{measure}")
    )


def retention_matrix(
    result: IntoFrame, values: str = "rate", *, complete_only: bool = True
) -> pd.DataFrame:
    """Pivot a :func:`retention` result to a cohort x offset table (pandas).

    A thin display helper: rows are ``cohort``, columns are offsets (``period``), cells are
    ``values`` (``"rate"``, ``"customers"``, ``"cohort_size"``, or with the revenue and
    events measures ``"revenue"``, ``"cohort_revenue"``, ``"events"``, ``"cohort_events"``).
    Offsets a cohort has not reached are missing (NaN), never 0. With ``complete_only=True``
    (the default) cells whose period has not ended are missing too, so a partial period
    never looks like a drop; pass ``False`` to show them. A lazy or non-pandas result is
    collected first.

    A breakdown (``retention(..., by=...)``, whose segment columns come before ``cohort``)
    gives one table whose rows are indexed by the segment columns and then the cohort:
    ``matrix.loc["web"]`` is the web segment's cohort x offset table. Offsets are the columns
    any segment reaches; a segment's cohorts are the rows it has.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20",
    ...                                  "2024-03-02", "2024-02-14"], utc=True),
    ...     "event": "visit", "plan": ["pro", "pro", "free", "free", "pro"]})
    >>> m = retention_matrix(retention(log))
    >>> m.round(2).to_numpy().tolist()
    [[1.0, 0.5, nan], [1.0, nan, nan]]
    >>> retention_matrix(retention(log), "customers", complete_only=False).to_numpy().tolist()
    [[2.0, 1.0, 1.0], [1.0, 0.0, nan]]
    >>> by_plan = retention_matrix(retention(log, by="plan"), complete_only=False)
    >>> by_plan.index.names
    FrozenList(['plan', 'cohort'])
    >>> by_plan.loc["pro"].to_numpy().tolist()
    [[1.0, 1.0, 0.0], [1.0, 0.0, nan]]
    """
    check_choice("values", values, _MATRIX_VALUES)
    frame = to_pandas(result, what="retention result")
    missing = [c for c in ("cohort", "period", values, "complete") if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"retention_matrix needs a retention() result with {values!r} (the revenue and "
            f"events columns come with measure='revenue' or 'events'); the frame lacks {missing}"
        )
    segments = list(frame.columns[: list(frame.columns).index("cohort")])
    cells = frame[values].astype("float64")
    if complete_only:
        cells = cells.where(frame["complete"].astype(bool))
    rows = [*segments, "cohort"] if segments else "cohort"
    table = frame.assign(_cell=cells).pivot(index=rows, columns="period", values="_cell")
    table.columns.name = "period"
    return table


def retention_curve(result: IntoFrame) -> pd.DataFrame:
    """A :func:`retention` result pooled over its cohorts: the retention curve (pandas).

    For each offset ``period`` (per segment, with a breakdown), over the cohorts whose cell
    at that offset is complete: ``cohorts`` (how many), the sum of their base (``cohort_size``;
    ``cohort_revenue`` or ``cohort_events`` with those measures) and of what returned
    (``customers``, ``revenue`` or ``events``), and ``rate``, the second sum over the first: the
    share of a cohort still active that many periods on, each customer counted once (cohorts
    weighted by their size, as Amplitude's and Mixpanel's retention curves pool them). A
    cohort whose offset has not ended yet is left out of that offset, not counted as lost, so
    late offsets rest on the older cohorts only. With ``measure="revenue"`` or ``"events"``, a
    cohort without a base (its offset-0 revenue or events 0 or less, so its ``rate`` is
    missing at every offset) is left out of every offset too: its later revenue would
    otherwise be counted over the other cohorts' base. With customers every complete cell
    counts. ``rate`` is missing when the base is 0.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3, 4],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20",
    ...                                  "2024-04-02", "2024-02-14", "2024-03-01"], utc=True),
    ...     "event": "visit"})
    >>> retention_curve(retention(log)).round(3)
       period  cohorts  cohort_size  customers   rate
    0       0        3            4          4  1.000
    1       1        2            3          1  0.333
    2       2        1            2          0  0.000
    """
    frame = to_pandas(result, what="retention result")
    missing = [c for c in ("cohort", "period", "complete", "rate") if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"retention_curve needs a retention() result; the frame lacks {missing}"
        )
    segments = list(frame.columns[: list(frame.columns).index("cohort")])
    measures = [(b, c) for b, c in _CURVE_COLUMNS if b in frame.columns and c in frame.columns]
    if not measures:
        raise JourneyDataError(
            "retention_curve needs a retention() result with a base and what returned "
            f"(one of {[list(pair) for pair in _CURVE_COLUMNS]}); got {list(frame.columns)}"
        )
    base, count = measures[0]
    pooled = frame["complete"].astype(bool)
    if base != "cohort_size":  # money or events: only cohorts with a base (see above)
        pooled &= frame["rate"].notna()
    done = frame[pooled]
    curve = (
        done.groupby([*segments, "period"], sort=True)
        .agg(cohorts=("cohort", "size"), **{base: (base, "sum"), count: (count, "sum")})
        .reset_index()
    )
    totals = curve[base].astype("float64")
    curve["rate"] = (curve[count] / totals.where(totals > 0)).astype("float64")
    return curve


#: The base and the returned amount of each measure, as retention names them.
_CURVE_COLUMNS = (
    ("cohort_revenue", "revenue"),
    ("cohort_events", "events"),
    ("cohort_size", "customers"),
)
