"""Cohort retention, churn rate and lifecycle, on any engine.

Three views of whether customers stay, each computed once with Narwhals expressions and
returned as a tidy (long) frame of the kind it was given (pandas, Polars eager or lazy,
DuckDB, PySpark; lazy stays lazy):

:func:`retention`
    Cohort x period retention: one row per (cohort, offset) with counts, rates and whether
    the period has ended. :func:`retention_matrix` pivots a collected result for display.
:func:`churn_rate`
    Per calendar period, customers active at its start, lost by its end, and the churn rate
    (lost / active at start), with activity defined by an inactivity window.
:func:`lifecycle`
    Per calendar period, customers who are new, returning, resurrecting or dormant.

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
* Counts are distinct customers (``Int64``), never events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd
import pyarrow as pa
from narwhals.typing import IntoFrame, IntoFrameT

from .._engine import (
    DIGIT,
    Calendar,
    count_up,
    finish,
    in_utc,
    lazy_events,
    small_range,
    to_pandas,
    unpivot,
)
from .._time import PERIODS, duration_us
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile

__all__ = [
    "LIFECYCLE_STATUSES",
    "RETENTION_KINDS",
    "churn_rate",
    "lifecycle",
    "retention",
    "retention_matrix",
]

#: The ``kind`` values of :func:`retention`.
RETENTION_KINDS: tuple[str, ...] = ("on", "on_or_after")
#: The statuses of :func:`lifecycle`, in the order rows are given.
LIFECYCLE_STATUSES: tuple[str, ...] = ("new", "returning", "resurrecting", "dormant")


# --------------------------------------------------------------------------------------------
# retention
# --------------------------------------------------------------------------------------------


def retention(
    events: IntoFrameT,
    *,
    period: str | None = None,
    profile: LogProfile | None = None,
    kind: Literal["on", "on_or_after"] = "on",
    cohort_event: str | Iterable[str] | None = None,
    return_event: str | Iterable[str] | None = None,
    max_periods: int | None = None,
) -> IntoFrameT:
    """Cohort retention: the share of each cohort that comes back, period by period.

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

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine: pandas,
        Polars (eager or lazy), DuckDB, PySpark. The result is the same kind; lazy stays lazy.
    period : {"day", "week", "month", "quarter", "year"}, optional
        Calendar period of cohorts and offsets; weeks start on Monday. The profile's
        period, else ``"month"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the period when not given.
    kind : {"on", "on_or_after"}, default "on"
        Retention *on* the period, or *on or after* it (see above).
    cohort_event, return_event : str or list of str, optional
        The event (or any of the events) that places a customer in a cohort, and that counts
        as coming back. Any event when ``None``.
    max_periods : int, optional
        The largest offset reported (so offsets ``0 .. max_periods``); all available when
        ``None``. With ``"on_or_after"``, returns after it still count at it.

    Returns
    -------
    DataFrame
        One row per cohort and offset, sorted by both:

        ============  =====================================================================
        cohort        start of the cohort period (datetime, the log's time zone)
        period        offset ``k`` (Int64), 0 = the cohort period
        cohort_size   customers in the cohort (Int64)
        customers     of them, customers retained at offset ``k`` (Int64; 0, not missing)
        rate          ``customers / cohort_size`` (Float64)
        complete      whether the offset's period ended by "now" (Boolean)
        ============  =====================================================================

        Use :func:`retention_matrix` on the collected result for a cohort x offset table.

    Raises
    ------
    JourneyDataError
        When a required column is missing or ``timestamp`` is not a datetime.
    JourneyParameterError
        For an unknown ``period`` or ``kind``, a bad event list or ``max_periods``.

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
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    check_choice("kind", kind, RETENTION_KINDS)
    cohort_names = _event_names(cohort_event, "cohort_event")
    return_names = _event_names(return_event, "return_event")
    if max_periods is not None and (
        isinstance(max_periods, bool) or not isinstance(max_periods, int) or max_periods < 0
    ):
        raise JourneyParameterError(
            f"max_periods must be a non-negative integer or None, got {max_periods!r}"
        )
    lf, eager, cal = _open(events, period)
    span = _span(lf, cal)

    firsts = (
        _only(lf, cohort_names)
        .group_by("customer_id")
        .agg(nw.col("timestamp").min().alias("_first"))
        .with_columns(cal.index(nw.col("_first")).alias("_cohort_idx"))
    )
    returns = (
        _only(lf, return_names)
        .select("customer_id", "timestamp")
        .join(firsts, on="customer_id", how="inner")
        .filter(nw.col("timestamp") >= nw.col("_first"))
        .select(
            "customer_id",
            "_cohort_idx",
            (cal.index(nw.col("timestamp")) - nw.col("_cohort_idx")).alias("period"),
        )
    )
    if kind == "on":
        if max_periods is not None:
            returns = returns.filter(nw.col("period") <= max_periods)
        counts = returns.group_by("_cohort_idx", "period").agg(
            nw.col("customer_id").n_unique().alias("_n")
        )
    else:
        latest = returns.group_by("customer_id", "_cohort_idx").agg(
            nw.col("period").max().alias("period")
        )
        if max_periods is not None:
            latest = latest.with_columns(nw.min_horizontal("period", nw.lit(max_periods)))
        # _n = customers whose latest return is at this offset; a reverse running sum of it
        # over offsets is the customers with a return on or after each offset.
        counts = latest.group_by("_cohort_idx", "period").agg(nw.len().alias("_n"))

    upper = nw.col("_now_idx") - nw.col("_cohort_idx")
    if max_periods is not None:
        upper = nw.min_horizontal(upper, nw.lit(max_periods, dtype=nw.Int64()))
    cohorts = (
        firsts.group_by("_cohort_idx")
        .agg(nw.len().alias("cohort_size"))
        .with_columns(nw.col("cohort_size").cast(nw.Int64))
        .join(span.select("_now_idx"), how="cross")
        .with_columns(upper.alias("_upper"))
    )
    grid = count_up(cohorts, "_upper", "period", lf).join(
        counts, on=["_cohort_idx", "period"], how="left"
    )
    grid = grid.with_columns(nw.col("_n").fill_null(0).cast(nw.Int64))
    if kind == "on":
        customers = nw.col("_n")
    else:
        total = nw.col("_n").sum().over("_cohort_idx")
        before = nw.col("_n").cum_sum().over("_cohort_idx", order_by="period") - nw.col("_n")
        customers = total - before
    result = (
        grid.with_columns(customers.cast(nw.Int64).alias("customers"))
        .with_columns(
            cal.start(nw.col("_cohort_idx")).alias("cohort"),
            (nw.col("customers") / nw.col("cohort_size")).cast(nw.Float64).alias("rate"),
            (nw.col("_cohort_idx") + nw.col("period") < nw.col("_now_idx")).alias("complete"),
        )
        .select("cohort", "period", "cohort_size", "customers", "rate", "complete")
        .sort("cohort", "period")
    )
    return _finish(result, eager)


def retention_matrix(
    result: IntoFrame, values: str = "rate", *, complete_only: bool = True
) -> pd.DataFrame:
    """Pivot a :func:`retention` result to a cohort x offset table (pandas).

    A thin display helper: rows are ``cohort``, columns are offsets (``period``), cells are
    ``values`` (``"rate"``, ``"customers"`` or ``"cohort_size"``). Offsets a cohort has not
    reached are missing (NaN), never 0. With ``complete_only=True`` (the default) cells whose
    period has not ended are missing too, so a partial period never looks like a drop; pass
    ``False`` to show them. A lazy or non-pandas result is collected first.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20",
    ...                                  "2024-03-02", "2024-02-14"], utc=True),
    ...     "event": "visit"})
    >>> m = retention_matrix(retention(log))
    >>> m.round(2).to_numpy().tolist()
    [[1.0, 0.5, nan], [1.0, nan, nan]]
    >>> retention_matrix(retention(log), "customers", complete_only=False).to_numpy().tolist()
    [[2.0, 1.0, 1.0], [1.0, 0.0, nan]]
    """
    check_choice("values", values, ("rate", "customers", "cohort_size"))
    frame = to_pandas(result, what="retention result")
    missing = [c for c in ("cohort", "period", values, "complete") if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"retention_matrix needs a retention() result; the frame lacks {missing}"
        )
    cells = frame[values].astype("float64")
    if complete_only:
        cells = cells.where(frame["complete"].astype(bool))
    table = frame.assign(_cell=cells).pivot(index="cohort", columns="period", values="_cell")
    table.columns.name = "period"
    return table


# --------------------------------------------------------------------------------------------
# churn rate
# --------------------------------------------------------------------------------------------


def churn_rate(
    events: IntoFrameT,
    *,
    period: str | None = None,
    profile: LogProfile | None = None,
    inactivity: Any = None,
    event: str | Iterable[str] | None = None,
) -> IntoFrameT:
    """Customers active at the start of each period, lost by its end, and the churn rate.

    Definitions (``W`` is ``inactivity``)
    -------------------------------------
    * A customer is **active at time t** when they have an event in the window ``[t - W, t)``:
      at least one event within ``W`` before ``t`` (an event exactly at ``t`` belongs to what
      comes after ``t``, so a period's own events never count at its start and always count
      at its end).
    * For the calendar period ``[s, e)``: ``active_start`` = customers active at ``s``;
      ``lost`` = those of them **not active at e** (no event in ``[e - W, e)``);
      ``churn_rate = lost / active_start`` (missing when ``active_start`` is 0).
    * ``new`` = customers whose first event is in ``[s, e)`` and who are active at ``e``;
      ``reactivated`` = customers active at ``e``, not at ``s``, with an event before ``s``
      (they had lapsed for at least ``W``); ``active_end`` = customers active at ``e``, so
      ``active_end = active_start - lost + new + reactivated``. A customer who appears and
      lapses within one period (possible only when ``W`` is shorter than the period) is in
      none of these.
    * **Reported periods: complete ones only**, from the period of the log's first event to
      the last period that ended at or before "now" (the log's last timestamp). Whether a
      customer is active at ``e`` depends only on events before ``e``, so ``lost`` is known
      as soon as the period ends; nothing waits for ``W`` to elapse after the data end, and a
      customer whose last event is near the data end is not yet counted as lost. A lost
      customer who comes back later is counted again as ``reactivated``.
    * The log is the only memory: customers active before the log begins are not seen, so
      ``active_start`` is 0 in the first period and understated in the first ``W`` of the
      log unless the log starts with the business.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine; the
        result is the same kind (lazy stays lazy).
    period : {"day", "week", "month", "quarter", "year"}, optional
        Calendar period; weeks start on Monday. The profile's period, else ``"month"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the period and inactivity.
    inactivity : str or timedelta, optional
        ``W``: how long without an event makes a customer inactive (``"30D"``, ``"12h"``...);
        the profile's inactivity, else ``"90D"``.
    event : str or list of str, optional
        Only these events count as activity (say ``"purchase"``); every event when ``None``.
        "Now" is still the log's last timestamp.

    Returns
    -------
    DataFrame
        One row per period, sorted: ``period`` (start, datetime), ``active_start``, ``lost``,
        ``churn_rate`` (Float64), ``new``, ``reactivated``, ``active_end`` (counts Int64).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-02-20", "2024-01-15",
    ...                                  "2024-03-31"], utc=True),
    ...     "event": "purchase"})
    >>> c = churn_rate(log, inactivity="30D")
    >>> c["period"].dt.strftime("%Y-%m").tolist()
    ['2024-01', '2024-02']
    >>> c[["active_start", "lost", "new", "reactivated", "active_end"]].values.tolist()
    [[0, 0, 2, 0, 2], [2, 1, 0, 0, 1]]
    >>> c["churn_rate"].tolist()
    [nan, 0.5]

    Customer 2's last event (15 January) is more than 30 days before 1 March, so they are
    lost in February; customer 3 (31 March) falls in March, which has not ended.
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    names = _event_names(event, "event")
    inactivity = from_profile(profile, "inactivity", inactivity, "90D")
    window = dt.timedelta(microseconds=duration_us(inactivity, "inactivity"))
    lf, eager, cal = _open(events, period)
    span = _span(lf, cal)

    # An event at x makes its customer active at the period boundaries B(j) with
    # x < B(j) <= x + W, i.e. j in [index(x) + 1, index(x + W)]: one interval per event.
    spans = (
        _only(lf, names)
        .select(
            "customer_id",
            (cal.index(nw.col("timestamp")) + 1).alias("_lo"),
            cal.index(nw.col("timestamp"), plus=window).alias("_hi"),
        )
        .group_by("customer_id", "_lo")
        .agg(nw.col("_hi").max())
        .with_columns(nw.col("_lo").min().over("customer_id").alias("_first_lo"))
        .filter(nw.col("_lo") <= nw.col("_hi"))
        .with_columns(nw.col("_hi").shift(1).over("customer_id", order_by="_lo").alias("_prev"))
    )
    # Intervals that touch or overlap merge into runs of consecutive active boundaries
    # [_L, _H]; _lo and _hi both grow with x, so comparing with the previous one suffices.
    starts_run = nw.col("_prev").is_null() | (nw.col("_lo") > nw.col("_prev") + 1)
    runs = (
        spans.with_columns(
            _flag(starts_run).cum_sum().over("customer_id", order_by="_lo").alias("_run")
        )
        .group_by("customer_id", "_run")
        .agg(
            nw.col("_lo").min().alias("_L"),
            nw.col("_hi").max().alias("_H"),
            nw.col("_first_lo").min(),
        )
    )
    # A run [_L, _H] means: gained during period _L - 1 (new when that period holds the
    # customer's first event), lost during period _H (active at B(_H), not at B(_H + 1)).
    # Each run is read once, as two rows (side 0: its gain, side 1: its loss).
    gain = nw.col(DIGIT) == 0
    flows = (
        runs.join(small_range(lf, 2), how="cross")
        .select(
            nw.when(gain).then(nw.col("_L") - 1).otherwise(nw.col("_H")).alias("_j"),
            _flag(gain).alias("_gained"),
            _flag(gain & (nw.col("_L") == nw.col("_first_lo"))).alias("new"),
            _flag(~gain).alias("lost"),
        )
        .group_by("_j")
        .agg(nw.col("_gained", "new", "lost").sum())
    )
    grid = (
        count_up(
            span.with_columns((nw.col("_now_idx") - 1 - nw.col("_first_idx")).alias("_upper")),
            "_upper",
            "_k",
            lf,
        )
        .select((nw.col("_first_idx") + nw.col("_k")).alias("_j"))
        .join(flows, on="_j", how="left")
        .with_columns(nw.col("lost", "_gained", "new").fill_null(0).cast(nw.Int64))
        .with_columns((nw.col("_gained") - nw.col("lost")).alias("_delta"))
        .with_columns(
            (nw.col("_delta").cum_sum().over(order_by="_j") - nw.col("_delta"))
            .cast(nw.Int64)
            .alias("active_start")
        )
    )
    result = (
        grid.with_columns(
            cal.start(nw.col("_j")).alias("period"),
            nw.when(nw.col("active_start") > 0)
            .then(nw.col("lost") / nw.col("active_start"))
            .cast(nw.Float64)
            .alias("churn_rate"),
            (nw.col("_gained") - nw.col("new")).alias("reactivated"),
            (nw.col("active_start") + nw.col("_delta")).cast(nw.Int64).alias("active_end"),
        )
        .select("period", "active_start", "lost", "churn_rate", "new", "reactivated", "active_end")
        .sort("period")
    )
    return _finish(result, eager)


# --------------------------------------------------------------------------------------------
# lifecycle
# --------------------------------------------------------------------------------------------


def lifecycle(
    events: IntoFrameT,
    *,
    period: str | None = None,
    profile: LogProfile | None = None,
    event: str | Iterable[str] | None = None,
) -> IntoFrameT:
    """Customers who are new, returning, resurrecting or dormant, period by period.

    A customer is **active** in a calendar period when they have an event in it (one of
    ``event`` when given). For each period:

    ========================  ========================================================
    ``new``                   active, and this is their first active period ever
    ``returning``             active in this period and in the previous one
    ``resurrecting``          active, not in the previous period, but in an earlier one
    ``dormant``               active in the previous period, not in this one
    ========================  ========================================================

    **Dormant counts are negative** (PostHog, Mixpanel and Adobe plot them below the axis).
    New, returning and resurrecting split the period's active customers; returning and
    dormant split the previous period's. So ``new + returning + resurrecting`` is the active
    customers and ``new + resurrecting + dormant`` (dormant being negative) is the change in
    active customers since the previous period.

    Every period from the log's first to "now" (its last timestamp) is reported, four rows
    each, zeros included. The period holding "now" has ``complete=False``: its dormant count
    includes customers who may still come back before it ends. The log is the only memory:
    in its first period everyone active is new, and "new" means first active *in the log*.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine; the
        result is the same kind (lazy stays lazy).
    period : {"day", "week", "month", "quarter", "year"}, optional
        Calendar period; weeks start on Monday. The profile's period, else ``"month"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the period when not given.
    event : str or list of str, optional
        Only these events make a customer active; every event when ``None``.

    Returns
    -------
    DataFrame
        Long: ``period`` (start, datetime), ``status`` (one of :data:`LIFECYCLE_STATUSES`),
        ``customers`` (Int64, negative for dormant), ``complete`` (Boolean); sorted by
        period, statuses in the order new, returning, resurrecting, dormant.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-04-01",
    ...                                  "2024-02-14"], utc=True),
    ...     "event": "visit"})
    >>> life = lifecycle(log)
    >>> wide = life.pivot(index="period", columns="status", values="customers")
    >>> wide[list(LIFECYCLE_STATUSES)].to_numpy().tolist()
    [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, -2], [0, 0, 1, 0]]
    >>> life.groupby("period")["complete"].first().tolist()
    [True, True, True, False]
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    names = _event_names(event, "event")
    lf, eager, cal = _open(events, period)
    span = _span(lf, cal)
    active = (
        _only(lf, names)
        .select("customer_id", cal.index(nw.col("timestamp")).alias("_j"))
        .unique()
        .with_columns(
            nw.col("_j").shift(1).over("customer_id", order_by="_j").alias("_prev"),
            nw.col("_j").shift(-1).over("customer_id", order_by="_j").alias("_next"),
        )
    )
    # Each active (customer, period) row is read once, as two rows: side 0 gives its status
    # in the period; side 1 makes the customer dormant in the next period unless they are
    # active in it too.
    here = nw.col(DIGIT) == 0
    gap_after = nw.col("_next").is_null() | (nw.col("_next") > nw.col("_j") + 1)
    statuses = (
        active.join(small_range(lf, 2), how="cross")
        .filter(here | gap_after)
        .select(
            nw.when(here).then(nw.col("_j")).otherwise(nw.col("_j") + 1).alias("_j"),
            _flag(here & nw.col("_prev").is_null()).alias("new"),
            _flag(here & (nw.col("_prev") == nw.col("_j") - 1)).alias("returning"),
            _flag(here & (nw.col("_prev") < nw.col("_j") - 1)).alias("resurrecting"),
            _flag(~here).alias("dormant"),
        )
        .group_by("_j")
        .agg(nw.col(*LIFECYCLE_STATUSES).sum())
    )
    counts = list(LIFECYCLE_STATUSES)
    wide = (
        count_up(
            span.with_columns((nw.col("_now_idx") - nw.col("_first_idx")).alias("_upper")),
            "_upper",
            "_k",
            lf,
        )
        .select((nw.col("_first_idx") + nw.col("_k")).alias("_j"), "_now_idx")
        .join(statuses, on="_j", how="left")
        .with_columns(nw.col(counts).fill_null(0).cast(nw.Int64))
        .with_columns(-nw.col("dormant"))
        .with_columns(
            cal.start(nw.col("_j")).alias("period"),
            (nw.col("_j") < nw.col("_now_idx")).alias("complete"),
        )
    )
    order = {status: rank for rank, status in enumerate(LIFECYCLE_STATUSES)}
    result = (
        unpivot(
            wide,
            counts,
            index=["period", "complete"],
            variable_name="status",
            value_name="customers",
        )
        .with_columns(
            nw.col("status")
            .replace_strict(order, default=len(order), return_dtype=nw.Int64())
            .alias("_rank"),
            nw.col("customers").cast(nw.Int64),
        )
        .sort("period", "_rank")
        .select("period", "status", "customers", "complete")
    )
    return _finish(result, eager)


# --------------------------------------------------------------------------------------------
# shared machinery
# --------------------------------------------------------------------------------------------


def _open(events: Any, period: str) -> tuple[nw.LazyFrame, bool, Calendar]:
    """The log as a LazyFrame of customer_id, timestamp, event (timestamps in UTC unless
    naive), whether it was eager, and its :class:`~journey_lib._engine.Calendar`."""
    lf, eager = lazy_events(events)
    lf = in_utc(lf.select("customer_id", "timestamp", "event"))
    return lf, eager, Calendar.of(lf, period)


def _finish(result: nw.LazyFrame, eager: bool) -> Any:
    """:func:`journey_lib._engine.finish`, with pandas results NumPy-backed throughout: the
    period grid is exploded from a list literal, which pandas holds in Arrow."""
    out = finish(result, eager)
    if isinstance(out, pd.DataFrame):
        for column, dtype in out.dtypes.items():
            if isinstance(dtype, pd.ArrowDtype):
                arrow = dtype.pyarrow_dtype
                if pa.types.is_timestamp(arrow):
                    target = (
                        pd.DatetimeTZDtype(arrow.unit, arrow.tz)
                        if arrow.tz
                        else f"datetime64[{arrow.unit}]"
                    )
                else:
                    target = dtype.numpy_dtype
                out[column] = out[column].astype(target)
    return out


def _event_names(value: str | Iterable[str] | None, name: str) -> list[str] | None:
    """None, or the event names as a non-empty list of strings."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    try:
        names = list(names)
    except TypeError:
        raise JourneyParameterError(
            f"{name} must be an event name, a list of event names or None; got {value!r}"
        ) from None
    if not names or not all(isinstance(n, str) for n in names):
        raise JourneyParameterError(
            f"{name} must be an event name, a list of event names or None; got {value!r}"
        )
    return names


def _only(lf: nw.LazyFrame, names: list[str] | None) -> nw.LazyFrame:
    return lf if names is None else lf.filter(nw.col("event").is_in(names))


def _span(lf: nw.LazyFrame, cal: Calendar) -> nw.LazyFrame:
    """One row: the period index of the log's first event and of "now" (its last)."""
    return (
        lf.select(
            nw.col("timestamp").min().alias("_first"), nw.col("timestamp").max().alias("_now")
        )
        .filter(~nw.col("_now").is_null())  # an empty log has no span (and no rows out)
        .select(
            cal.index(nw.col("_first")).alias("_first_idx"),
            cal.index(nw.col("_now")).alias("_now_idx"),
        )
    )


def _flag(condition: nw.Expr) -> nw.Expr:
    """1 where ``condition`` holds, else 0 (Int64), for sums."""
    return (
        nw.when(condition).then(nw.lit(1, dtype=nw.Int64())).otherwise(nw.lit(0, dtype=nw.Int64()))
    )
