"""Activity over calendar periods, on any engine: the churn rate and the lifecycle.

:func:`churn_rate`
    Per calendar period, customers active at its start, lost by its end, and the churn rate
    (lost / active at start), with activity defined by an inactivity window.
:func:`lifecycle`
    Per calendar period, customers who are new, returning, resurrecting or dormant.

Both follow the conventions of :mod:`journey_lib.analytics.retention` (UTC calendar periods,
"now" is the log's last timestamp, every period reported, zeros included, counts of distinct
customers) and its **breakdowns**: ``by=`` gives one block per segment, the segment columns
first, each block what the function gives on the log restricted to the segment's customers
over the whole log's periods (so every segment reports the same periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import DIGIT, count_up, small_range, unpivot
from .._time import PERIODS, duration_us
from ..errors import check_choice
from ..io.profile import LogProfile, from_profile
from ._periods import (
    event_names,
    flag,
    key_names,
    only,
    open_log,
    segment_grid,
    span,
)
from .segments import Segments

__all__ = ["CHURN_COLUMNS", "LIFECYCLE_COLUMNS", "LIFECYCLE_STATUSES", "churn_rate", "lifecycle"]

#: The statuses of :func:`lifecycle`, in the order rows are given.
LIFECYCLE_STATUSES: tuple[str, ...] = ("new", "returning", "resurrecting", "dormant")
#: The columns of :func:`churn_rate` (after any segment columns).
CHURN_COLUMNS: tuple[str, ...] = (
    "period",
    "active_start",
    "lost",
    "churn_rate",
    "new",
    "reactivated",
    "active_end",
)
#: The columns of :func:`lifecycle` (after any segment columns).
LIFECYCLE_COLUMNS: tuple[str, ...] = ("period", "status", "customers", "complete")


def churn_rate(
    events: IntoFrameT,
    *,
    period: str | None = None,
    profile: LogProfile | None = None,
    inactivity: Any = None,
    event: str | Iterable[str] | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
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
    by : str, list of str or Segments, optional
        A breakdown: one block of periods per segment (see :mod:`journey_lib.analytics.segments`
        for which segment a customer is in). Each segment's block is the churn of its own
        customers over the whole log's periods.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over time counts.
    top : int or None, default 10
        Segments kept by name; customers of the others are in ``(other)``.

    Returns
    -------
    DataFrame
        One row per period, sorted: ``period`` (start, datetime), ``active_start``, ``lost``,
        ``churn_rate`` (Float64), ``new``, ``reactivated``, ``active_end`` (counts Int64).
        With ``by``, the segment columns (text) come first and the rows are sorted by them,
        every segment having a row for every period.

    Raises
    ------
    JourneyDataError
        When a required or ``by`` column is missing, ``timestamp`` is not a datetime, or (on
        an eager log) a ``by`` column holds no value.
    JourneyParameterError
        For an unknown ``period``, a bad ``inactivity`` or event list, a ``by`` column
        named like a result column.

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
    lost in February; customer 3 (31 March) falls in March, which has not ended. By plan
    (customer 3 is in the ``(other)`` bucket beyond ``top=2``):

    >>> plans = log.assign(plan=["pro", "pro", "free", "team"])
    >>> c = churn_rate(plans, inactivity="30D", by="plan", top=2)
    >>> c["plan"].unique().tolist()
    ['(other)', 'free', 'pro']
    >>> c[["plan", "active_start", "lost", "new"]].values.tolist()[2:]
    [['free', 0, 0, 1], ['free', 1, 1, 0], ['pro', 0, 0, 1], ['pro', 1, 0, 0]]
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    names = event_names(event, "event")
    inactivity = from_profile(profile, "inactivity", inactivity, "90D")
    window = dt.timedelta(microseconds=duration_us(inactivity, "inactivity"))
    opened = open_log(events, period, by=by, by_rule=by_rule, top=top, reserved=CHURN_COLUMNS)
    lf, cal, keys = opened.log, opened.calendar, opened.keys

    # An event at x makes its customer active at the period boundaries B(j) with
    # x < B(j) <= x + W, i.e. j in [index(x) + 1, index(x + W)]: one interval per event.
    spans = (
        only(lf, names)
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
            flag(starts_run).cum_sum().over("customer_id", order_by="_lo").alias("_run")
        )
        .group_by("customer_id", "_run")
        .agg(
            nw.col("_lo").min().alias("_L"),
            nw.col("_hi").max().alias("_H"),
            nw.col("_first_lo").min(),
        )
    )
    # Segments join the runs (a few per customer), the smallest frame that still knows them.
    runs = opened.with_segments(runs)
    # A run [_L, _H] means: gained during period _L - 1 (new when that period holds the
    # customer's first event), lost during period _H (active at B(_H), not at B(_H + 1)).
    # Each run is read once, as two rows (side 0: its gain, side 1: its loss).
    gain = nw.col(DIGIT) == 0
    flows = (
        runs.join(small_range(lf, 2), how="cross")
        .select(
            *keys,
            nw.when(gain).then(nw.col("_L") - 1).otherwise(nw.col("_H")).alias("_j"),
            flag(gain).alias("_gained"),
            flag(gain & (nw.col("_L") == nw.col("_first_lo"))).alias("new"),
            flag(~gain).alias("lost"),
        )
        .group_by(*keys, "_j")
        .agg(nw.col("_gained", "new", "lost").sum())
    )
    periods = count_up(
        span(lf, cal).with_columns((nw.col("_now_idx") - 1 - nw.col("_first_idx")).alias("_upper")),
        "_upper",
        "_k",
        lf,
    ).select((nw.col("_first_idx") + nw.col("_k")).alias("_j"))
    grid = (
        segment_grid(opened, periods)
        .join(flows, on=[*keys, "_j"], how="left")
        .with_columns(nw.col("lost", "_gained", "new").fill_null(0).cast(nw.Int64))
        .with_columns((nw.col("_gained") - nw.col("lost")).alias("_delta"))
        .with_columns(
            (nw.col("_delta").cum_sum().over(*keys, order_by="_j") - nw.col("_delta"))
            .cast(nw.Int64)
            .alias("active_start")
        )
    )
    result = (
        cal.with_start(grid, "_j", "period")
        .with_columns(
            nw.when(nw.col("active_start") > 0)
            .then(nw.col("lost") / nw.col("active_start"))
            .cast(nw.Float64)
            .alias("churn_rate"),
            (nw.col("_gained") - nw.col("new")).alias("reactivated"),
            (nw.col("active_start") + nw.col("_delta")).cast(nw.Int64).alias("active_end"),
        )
        .select(*key_names(opened), *CHURN_COLUMNS)
        .sort(*opened.columns, "period")
    )
    return opened.finish(result)


# --------------------------------------------------------------------------------------------
# lifecycle
# --------------------------------------------------------------------------------------------


def lifecycle(
    events: IntoFrameT,
    *,
    period: str | None = None,
    profile: LogProfile | None = None,
    event: str | Iterable[str] | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
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
    by : str, list of str or Segments, optional
        A breakdown: one block per segment (see :mod:`journey_lib.analytics.segments` for
        which segment a customer is in), each the lifecycle of the segment's own customers
        over the whole log's periods.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over time counts.
    top : int or None, default 10
        Segments kept by name; customers of the others are in ``(other)``.

    Returns
    -------
    DataFrame
        Long: ``period`` (start, datetime), ``status`` (one of :data:`LIFECYCLE_STATUSES`),
        ``customers`` (Int64, negative for dormant), ``complete`` (Boolean); sorted by
        period, statuses in the order new, returning, resurrecting, dormant. With ``by``,
        the segment columns (text) come first and the rows are sorted by them, every
        segment having four rows for every period.

    Raises
    ------
    JourneyDataError
        When a required or ``by`` column is missing, ``timestamp`` is not a datetime, or (on
        an eager log) a ``by`` column holds no value.
    JourneyParameterError
        For an unknown ``period``, a bad event list, a ``by`` column named like a result
        column.

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

    One block per segment, each with every period's four rows (customer 2, on the free
    plan, is new in February and dormant in March; January and April are zeros):

    >>> by_plan = lifecycle(log.assign(plan=["pro", "pro", "pro", "free"]), by="plan")
    >>> free = by_plan[by_plan["plan"] == "free"]
    >>> wide = free.pivot(index="period", columns="status", values="customers")
    >>> wide[list(LIFECYCLE_STATUSES)].to_numpy().tolist()
    [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 0, 0]]
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    names = event_names(event, "event")
    opened = open_log(events, period, by=by, by_rule=by_rule, top=top, reserved=LIFECYCLE_COLUMNS)
    lf, cal, keys = opened.log, opened.calendar, opened.keys
    active = (
        only(lf, names)
        .select("customer_id", cal.index(nw.col("timestamp")).alias("_j"))
        .unique()
        .with_columns(
            nw.col("_j").shift(1).over("customer_id", order_by="_j").alias("_prev"),
            nw.col("_j").shift(-1).over("customer_id", order_by="_j").alias("_next"),
        )
    )
    # Segments join the active (customer, period) rows, far fewer than the log's.
    active = opened.with_segments(active)
    # Each active (customer, period) row is read once, as two rows: side 0 gives its status
    # in the period; side 1 makes the customer dormant in the next period unless they are
    # active in it too.
    here = nw.col(DIGIT) == 0
    gap_after = nw.col("_next").is_null() | (nw.col("_next") > nw.col("_j") + 1)
    statuses = (
        active.join(small_range(lf, 2), how="cross")
        .filter(here | gap_after)
        .select(
            *keys,
            nw.when(here).then(nw.col("_j")).otherwise(nw.col("_j") + 1).alias("_j"),
            flag(here & nw.col("_prev").is_null()).alias("new"),
            flag(here & (nw.col("_prev") == nw.col("_j") - 1)).alias("returning"),
            flag(here & (nw.col("_prev") < nw.col("_j") - 1)).alias("resurrecting"),
            flag(~here).alias("dormant"),
        )
        .group_by(*keys, "_j")
        .agg(nw.col(*LIFECYCLE_STATUSES).sum())
    )
    counts = list(LIFECYCLE_STATUSES)
    periods = count_up(
        span(lf, cal).with_columns((nw.col("_now_idx") - nw.col("_first_idx")).alias("_upper")),
        "_upper",
        "_k",
        lf,
    ).select((nw.col("_first_idx") + nw.col("_k")).alias("_j"), "_now_idx")
    wide = (
        segment_grid(opened, periods)
        .join(statuses, on=[*keys, "_j"], how="left")
        .with_columns(nw.col(counts).fill_null(0).cast(nw.Int64))
        .with_columns(-nw.col("dormant"), (nw.col("_j") < nw.col("_now_idx")).alias("complete"))
    )
    wide = cal.with_start(wide, "_j", "period")
    order = {status: rank for rank, status in enumerate(LIFECYCLE_STATUSES)}
    result = (
        unpivot(
            wide,
            counts,
            index=[*keys, "period", "complete"],
            variable_name="status",
            value_name="customers",
        )
        .with_columns(
            nw.col("status")
            .replace_strict(order, default=len(order), return_dtype=nw.Int64())
            .alias("_rank"),
            nw.col("customers").cast(nw.Int64),
        )
        .sort(*keys, "period", "_rank")
        .select(*key_names(opened), *LIFECYCLE_COLUMNS)
    )
    return opened.finish(result)
