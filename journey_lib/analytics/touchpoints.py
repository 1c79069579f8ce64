"""Touchpoint summaries: how many touchpoints, by whom, when, and one customer's journey.

The data twins of the touchpoint figures in :mod:`journey_lib.plots`:

:func:`volumes`
    Touchpoints and distinct customers per calendar period, overall or by journey stage,
    channel, event or any other column.
:func:`touchpoints_per_customer`
    How many customers had exactly 1, 2, 3, ... touchpoints: a histogram's bars.
:func:`timeline`
    The touchpoints of a few chosen customers with their stage and the days since each
    customer's first touchpoint.

:func:`volumes` and :func:`touchpoints_per_customer` are written once with Narwhals and
accept pandas, Polars (eager or lazy), DuckDB or PySpark frames, returning the kind they were
given (lazy stays lazy). :func:`timeline` returns pandas: it is small by construction.

Grouping (``by``)
-----------------
``by="stage"`` places every touchpoint in a stage of ``framework`` with
:func:`journey_lib.assign_stages` first (replacing any ``stage`` column), and groups are
given in the framework's stage order. Any other ``by`` names a column of the log
(``"channel"``, ``"event"`` or a property); its values are compared and returned as text,
in ascending order. Touchpoints whose value is missing (an event no stage holds, a touchpoint
without a channel) form a group of their own, given last with a missing value, so that
groups always add up to the whole log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame, IntoFrameT

from .._engine import finish, in_utc, lazy_events, to_pandas, zoned_again
from .._time import PERIODS, period_start
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from .stages import StageFramework, assign_stages, resolve_framework

__all__ = ["timeline", "touchpoints_per_customer", "volumes"]

Framework = str | Mapping[str, Any] | StageFramework | None
Unmapped = Literal["warn", "raise", "ignore"]

# Group keys that never hold a missing value, so that joins, groups and windows treat a
# missing `by` value alike on every engine: whether it was missing, and its text ("" then).
_MISSING = "_jl_missing"
_KEY = "_jl_key"
_RANK = "_jl_rank"
_NOW = "_jl_now"
_COUNTS = ("touchpoints", "customers")


def volumes(
    events: IntoFrameT,
    *,
    by: str | None = "stage",
    period: str | None = None,
    framework: Framework = None,
    profile: LogProfile | None = None,
    unmapped: Unmapped = "warn",
) -> IntoFrameT:
    """Touchpoints and distinct customers per calendar period, by stage, channel or event.

    Definitions
    -----------
    * A touchpoint falls in the UTC calendar **period** holding its timestamp
      (``"day"``, ``"week"`` starting Monday, ``"month"``, ``"quarter"``, ``"year"``).
    * ``touchpoints``: rows of the log in the period (and group); ``customers``: distinct
      customers with at least one of them. Customers are distinct within a row only: one
      customer active in two stages counts in both, so ``customers`` does not add up over
      groups (``touchpoints`` does).
    * Rows: every period in which the log has a touchpoint, times every group seen anywhere
      in the log, zeros included (a zero is a zero, never a missing row). Periods in which
      the log has no touchpoint at all are not listed (as in
      :func:`journey_lib.funnel_trend`).
    * ``complete``: whether the period ended at or before "now", the log's last timestamp.
      The period holding "now" is partial: its low counts are not a drop.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine: pandas,
        Polars (eager or lazy), DuckDB, PySpark. The result is the same kind.
    by : str or None, default "stage"
        ``"stage"`` (journey stages of ``framework``), a column such as ``"channel"`` or
        ``"event"``, or ``None`` for the whole log. See the module docstring.
    period : {"day", "week", "month", "quarter", "year"}, optional
        The profile's period, else ``"week"``.
    framework : str, mapping or StageFramework, optional
        The stages for ``by="stage"``, as in :func:`journey_lib.assign_stages`: the
        profile's stages, else ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`): the period and the stages when not
        given.
    unmapped : {"warn", "raise", "ignore"}, default "warn"
        For ``by="stage"``: how events without a stage are reported (see
        :func:`journey_lib.assign_stages`); their touchpoints are counted with a missing
        stage either way.

    Returns
    -------
    DataFrame
        ``period`` (start of the UTC period, a datetime in UTC for a zoned log), the ``by`` column
        (text; absent when ``by`` is None), ``touchpoints`` and ``customers`` (Int64) and
        ``complete`` (Boolean), sorted by period and then group.

    Raises
    ------
    JourneyDataError
        When a required column or the ``by`` column is missing, or ``timestamp`` is not a
        datetime.
    JourneyParameterError
        For an unknown ``period``, framework or ``unmapped``, or ``by`` naming the customer
        or time column.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-09",
    ...                                  "2024-01-03", "2024-01-10"], utc=True),
    ...     "event": ["ad_view", "ad_view", "purchase", "ad_view", "site_visit"],
    ...     "channel": ["tv", "search", "web", "tv", "web"]})
    >>> volumes(log, by="channel")
                         period channel  touchpoints  customers  complete
    0 2024-01-01 00:00:00+00:00  search            1          1      True
    1 2024-01-01 00:00:00+00:00      tv            2          2      True
    2 2024-01-01 00:00:00+00:00     web            0          0      True
    3 2024-01-08 00:00:00+00:00  search            0          0     False
    4 2024-01-08 00:00:00+00:00      tv            0          0     False
    5 2024-01-08 00:00:00+00:00     web            2          2     False
    >>> volumes(log, by=None, period="month")[["touchpoints", "customers"]].values.tolist()
    [[5, 2]]
    >>> volumes(log)["stage"].unique().tolist()  # the stages seen, in framework order
    ['Awareness', 'Investigation & Consideration', 'Purchase']
    """
    period = from_profile(profile, "period", period, "week")
    check_choice("period", period, PERIODS)
    lf, eager, fw = _open(events, by, resolve_framework(framework, profile), unmapped)
    stamped = in_utc(lf).with_columns(period_start(nw.col("timestamp"), period).alias("period"))
    keys = ["period"] if by is None else ["period", _MISSING, _KEY]
    counts = stamped.group_by(*keys).agg(
        nw.len().alias("touchpoints"), nw.col("customer_id").n_unique().alias("customers")
    )
    if by is not None:
        counts = (
            stamped.select("period")
            .unique()
            .join(_groups(stamped, by, fw), how="cross")
            .join(counts, on=keys, how="left")
            .with_columns(nw.col(*_COUNTS).fill_null(0))
        )
    # The start of the period holding "now", as a one-row frame (none for an empty log).
    now = (
        stamped.filter(nw.col("timestamp") == nw.col("timestamp").max())
        .select(nw.col("period").alias(_NOW))
        .head(1)
    )
    result = (
        counts.join(now, how="cross")
        .with_columns(
            nw.col(*_COUNTS).cast(nw.Int64), (nw.col("period") < nw.col(_NOW)).alias("complete")
        )
        .sort("period", *([] if by is None else [_RANK, _MISSING, _KEY]))
        .select("period", *([] if by is None else [_restored(by)]), *_COUNTS, "complete")
    )
    return finish(zoned_again(result, lf), eager)


def touchpoints_per_customer(
    events: IntoFrameT,
    *,
    by: str | None = None,
    framework: Framework = None,
    profile: LogProfile | None = None,
    unmapped: Unmapped = "warn",
) -> IntoFrameT:
    """How many customers had exactly ``n`` touchpoints, for every ``n`` that occurs.

    Definitions
    -----------
    * A customer's **touchpoints** are their rows in the log (with ``by``: their rows in
      that group, such as their email touchpoints).
    * ``customers`` at ``touchpoints = n``: customers with exactly ``n`` of them. Only
      customers with at least one are counted, so ``n`` starts at 1 and, per group,
      ``customers`` adds up to the customers who had any touchpoint in the group (without
      ``by``: every customer in the log). Counts that no customer has are not listed.
    * ``share``: ``customers`` divided by that total, so shares add up to 1 per group and
      groups of different sizes can be compared.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; the result is the same kind (lazy stays lazy).
    by : str or None, default None
        ``None``, ``"stage"``, or a column such as ``"channel"`` or ``"event"`` (see the
        module docstring).
    framework, profile, unmapped
        For ``by="stage"``, as in :func:`volumes`.

    Returns
    -------
    DataFrame
        The ``by`` column (text; absent when ``by`` is None), ``touchpoints`` and
        ``customers`` (Int64) and ``share`` (Float64), sorted by group and then
        ``touchpoints``.

    Raises
    ------
    JourneyDataError, JourneyParameterError
        As :func:`volumes`.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 3, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-01", "2024-01-05"], utc=True),
    ...     "event": ["ad_view", "site_visit", "site_visit", "ad_view", "ad_view",
    ...               "ad_view"]})
    >>> touchpoints_per_customer(log)
       touchpoints  customers     share
    0            1          1  0.333333
    1            2          1  0.333333
    2            3          1  0.333333
    >>> touchpoints_per_customer(log, by="event")[["event", "touchpoints", "customers"]]
            event  touchpoints  customers
    0     ad_view            1          2
    1     ad_view            2          1
    2  site_visit            2          1
    """
    lf, eager, fw = _open(events, by, resolve_framework(framework, profile), unmapped)
    groups = [] if by is None else [_MISSING, _KEY]
    per_customer = lf.group_by("customer_id", *groups).agg(nw.len().alias("touchpoints"))
    counts = per_customer.group_by(*groups, "touchpoints").agg(nw.len().alias("customers"))
    total = nw.col("customers").sum()
    # The share is computed before sorting: SQL engines may reorder rows to evaluate a window.
    counts = counts.with_columns(
        nw.col(*_COUNTS).cast(nw.Int64),
        (nw.col("customers") / (total.over(*groups) if groups else total))
        .cast(nw.Float64)
        .alias("share"),
    )
    if by is None:
        return finish(counts.select(*_COUNTS, "share").sort("touchpoints"), eager)
    ranked = counts.join(_groups(lf, by, fw), on=groups, how="left")
    result = ranked.sort(_RANK, _MISSING, _KEY, "touchpoints").select(
        _restored(by), *_COUNTS, "share"
    )
    return finish(result, eager)


def timeline(
    events: IntoFrame,
    customers: Any,
    *,
    framework: Framework = None,
    profile: LogProfile | None = None,
    unmapped: Unmapped = "warn",
) -> pd.DataFrame:
    """The touchpoints of the given customers, staged and timed from each one's first.

    The data twin of a customer-timeline figure. Every column of the log is kept; the
    customers' stages come from :func:`journey_lib.assign_stages` (replacing any ``stage``
    column), and ``days_since_first`` is the time from the customer's first touchpoint in
    the log, in days (a float: 0.5 is twelve hours).

    Only the chosen customers' rows are read from the engine, then the result is returned as
    **pandas** whatever the input: it holds a few customers' touchpoints, small by
    construction (a lazy frame is computed here). Pass a handful of ids, not a population.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine.
    customers : id or list of ids
        The customers to show, compared with ``customer_id`` as they are (``7`` and ``"7"``
        differ); repeats are shown once.
    framework, profile, unmapped
        As in :func:`journey_lib.assign_stages`.

    Returns
    -------
    pandas.DataFrame
        The customers' rows with ``stage`` (text) and ``days_since_first`` (float), sorted by
        the customers' order in ``customers``, then by time, then event; a RangeIndex.

    Raises
    ------
    JourneyDataError
        When a chosen customer has no touchpoint in the log (they are named), a required
        column is missing, or ``timestamp`` is not a datetime.
    JourneyParameterError
        When ``customers`` is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 2, 1, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-02 00:00",
    ...                                  "2024-01-01 12:00", "2024-01-04 00:00"], utc=True),
    ...     "event": ["ad_view", "ad_view", "site_visit", "purchase"]})
    >>> timeline(log, [1])[["event", "stage", "days_since_first"]]
            event                          stage  days_since_first
    0     ad_view                      Awareness               0.0
    1  site_visit  Investigation & Consideration               0.5
    2    purchase                       Purchase               3.0
    """
    ids = chosen_customers(customers)
    lf, _ = lazy_events(events)
    chosen = to_pandas(lf.filter(nw.col("customer_id").is_in(ids)).to_native())
    found = set(chosen["customer_id"])
    absent = [c for c in ids if c not in found]
    if absent:
        raise JourneyDataError(
            f"{len(absent)} of the {len(ids)} customers have no touchpoint in the log: "
            f"{absent[:10]!r}; ids are compared as they are (7 and '7' differ)"
        )
    staged = assign_stages(chosen, resolve_framework(framework, profile), unmapped=unmapped)
    first = staged.groupby("customer_id")["timestamp"].transform("min")
    position = staged["customer_id"].map({c: i for i, c in enumerate(ids)})
    return (
        staged.assign(
            days_since_first=(staged["timestamp"] - first) / pd.Timedelta(days=1),
            _position=position,
        )
        .sort_values(["_position", "timestamp", "event"], kind="stable")
        .drop(columns="_position")
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------------------------
# shared machinery
# --------------------------------------------------------------------------------------------


def _open(
    events: Any, by: str | None, framework: StageFramework, unmapped: Unmapped
) -> tuple[nw.LazyFrame, bool, StageFramework | None]:
    """The log as a LazyFrame of customer_id, timestamp and (with ``by``) the group keys
    ``_MISSING`` and ``_KEY``; whether it was eager; the framework when ``by="stage"``."""
    if by is not None and (not isinstance(by, str) or by in ("customer_id", "timestamp")):
        raise JourneyParameterError(
            f"by must be None, 'stage' or a touchpoint column such as 'channel' or 'event'; "
            f"got {by!r}"
        )
    lf, eager = lazy_events(events)
    fw = None
    if by == "stage":
        fw = framework
        lf, _ = lazy_events(assign_stages(lf.to_native(), fw, unmapped=unmapped))
    if by is None:
        return lf.select("customer_id", "timestamp"), eager, fw
    columns = lf.collect_schema()
    if by not in columns:
        raise JourneyDataError(f"events have no column {by!r}; they have {list(columns)}")
    value = nw.col(by)
    return (
        lf.select(
            "customer_id",
            "timestamp",
            value.is_null().alias(_MISSING),
            value.cast(nw.String()).fill_null("").alias(_KEY),
        ),
        eager,
        fw,
    )


def _groups(lf: nw.LazyFrame, by: str, fw: StageFramework | None) -> nw.LazyFrame:
    """The distinct groups of ``lf`` with their display rank: the stage's position in the
    framework for ``by="stage"``, else 0 (groups then sort by their text)."""
    groups = lf.select(_MISSING, _KEY).unique()
    if fw is None:
        return groups.with_columns(nw.lit(0, dtype=nw.Int64()).alias(_RANK))
    order = {stage: rank for rank, stage in enumerate(fw.stages)}
    rank = nw.col(_KEY).replace_strict(order, default=len(order), return_dtype=nw.Int64())
    return groups.with_columns(rank.alias(_RANK))


def _restored(by: str) -> nw.Expr:
    """The group's text from the keys, missing where the value was."""
    return (
        nw.when(~nw.col(_MISSING))
        .then(nw.col(_KEY))
        .otherwise(nw.lit(None, dtype=nw.String()))
        .alias(by)
    )


def chosen_customers(customers: Any) -> list[Any]:
    """The chosen customer ids as a list without repeats, in the order given: one id, or an
    iterable of them (text is one id, not its characters).

    Examples
    --------
    >>> chosen_customers([3, 1, 3])
    [3, 1]
    >>> chosen_customers("C-1")
    ['C-1']
    """
    if isinstance(customers, str | bytes) or not isinstance(customers, Iterable):
        customers = [customers]
    ids = list(dict.fromkeys(customers))
    if not ids:
        raise JourneyParameterError("customers must name at least one customer id")
    return ids
