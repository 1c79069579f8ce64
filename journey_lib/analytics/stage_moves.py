"""Customers moving between the stages of a journey framework, period by period:
:func:`stage_flows` (the data twin of :func:`journey_lib.plots.stage_flows`).

Written once with Narwhals: pandas, Polars, DuckDB and PySpark frames are accepted and the
result is the kind that was given (lazy stays lazy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import (
    DIGIT,
    Calendar,
    count_up,
    in_utc,
    lazy_events,
    small_range,
    zoned_again,
)
from .._time import PERIODS
from ..errors import JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from ._periods import finish_numpy
from .segments import Segments, segment_table, segments_of, working_names
from .stages import StageFramework, assign_stages, resolve_framework

__all__ = ["EXIT", "FLOW_MOVES", "INACTIVE", "NEW", "stage_flows"]


#: The ``move`` values of :func:`stage_flows`.
FLOW_MOVES: tuple[str, ...] = (
    "new",
    "stay",
    "forward",
    "back",
    "pause",
    "inactive",
    "return",
    "exit",
)
#: The pseudo-stages of :func:`stage_flows`: where customers come from before their first
#: active period, where they are in a period without a mapped touchpoint, where they go
#: after their last.
NEW, INACTIVE, EXIT = "(new)", "(inactive)", "(exit)"

#: The columns of :func:`stage_flows`' result.
_FLOW_COLUMNS = ("period", "source", "target", "count", "move")
#: The position of an event without a stage, below every stage's.
_UNMAPPED = -2


def stage_flows(
    events: IntoFrameT,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    *,
    profile: LogProfile | None = None,
    period: str | None = None,
    unmapped: Literal["warn", "raise", "ignore"] = "warn",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Customers moving between the stages of a journey framework, period by period.

    The data of a Sankey or alluvial diagram of the journey: for each calendar period, how
    many customers came into it from which stage (or from nowhere) and where they are in it.

    Definitions
    -----------
    * Events are placed in stages by :func:`journey_lib.assign_stages` (so a customer's
      second and later purchases are Retention); events the framework does not map are
      reported as ``unmapped`` says and then ignored.
    * **Periods** are UTC calendar periods (weeks start on Monday), numbered consecutively.
      The log's **last period** is the period of its latest timestamp (over all events,
      mapped or not).
    * A customer is **active** in a period when they have a mapped touchpoint in it; their
      **stage in the period** is then the furthest stage, in framework order, among those
      touchpoints. In a period without one they are ``"(inactive)"``.
    * Each customer is followed from their first active period *f* to their last active
      period *l*, and one period beyond. A row counts the customers making a move **into**
      its period *p* (``source`` is where they were in *p* - 1, ``target`` where they are
      in *p*):

      - **new**: ``"(new)"`` -> their stage in *f*, in period *f*;
      - between consecutive periods *p* - 1 -> *p* with *f* < *p* <= *l*: stage or
        ``"(inactive)"`` -> stage or ``"(inactive)"``. A gap of quiet periods between two
        active ones reads stage -> ``"(inactive)"`` in its first period (a **pause**),
        ``"(inactive)"`` -> ``"(inactive)"`` in each further one, and ``"(inactive)"`` ->
        stage in the period they are active again (a **return**);
      - **exit**: the stage of *l* -> ``"(exit)"`` in period *l* + 1, only when that period
        is within the log (at or before its last period). Customers active in the log's last
        period do not exit. After ``"(exit)"`` a customer is no longer followed.

      So a customer is counted once in every period from *f* to the period they exit (or
      the log's last), and a period's targets other than ``"(exit)"`` are the same
      customers as the next period's sources other than ``"(new)"``: what flows into a
      stage flows out of it one period later.
    * Exits are read from the log alone: near its end a customer who is only pausing looks
      exited, because the log has not yet seen their pause end (a customer whose last event
      is in the period before the log's last exits in its last period, whatever comes
      later). Read the last periods' exits as "not seen since", not as churn.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine: pandas,
        Polars (eager or lazy), DuckDB, PySpark. The result is the same kind; lazy stays
        lazy. An existing ``stage`` column is replaced by the framework's stages.
    framework : str, mapping or StageFramework, optional
        As in :func:`journey_lib.assign_stages`; its stage order says which stage is
        furthest and which moves are forward. Default: the profile's stages, else
        ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the stages and the period.
    period : {"day", "week", "month", "quarter", "year"}, optional
        The calendar period. The profile's period, else ``"month"``.
    unmapped : {"warn", "raise", "ignore"}, default "warn"
        Passed to :func:`journey_lib.assign_stages`: how unmapped events are reported.
        On a lazy frame "warn" and "raise" compute one small count of unmapped events;
        "ignore" leaves everything lazy.
    by, by_rule, top : optional
        A breakdown by segment, as in :func:`stage_funnel`: the ``by`` columns come first
        and each segment's block is the flows of its customers alone, read against the
        whole log's periods (a segment that goes quiet before the log ends still exits).
        The segments are counted in the same group-by, not one pass each.

    Returns
    -------
    DataFrame
        One row per period and observed move (``count`` > 0), sorted by ``period``, then
        ``source`` and ``target`` in journey order: ``"(new)"``, the stages in framework
        order, ``"(inactive)"``, ``"(exit)"``.

        ``period``
            The start of the period moved into (datetime; UTC, or naive for a naive log).
        ``source``
            ``"(new)"``, a stage or ``"(inactive)"``: where the customers were in the
            period before.
        ``target``
            A stage, ``"(inactive)"`` or ``"(exit)"``: where they are in this period.
        ``count``
            Customers making the move (Int64).
        ``move``
            One of :data:`FLOW_MOVES`: ``"new"`` (from ``"(new)"``), ``"stay"`` (the same
            stage), ``"forward"`` (to a later stage), ``"back"`` (to an earlier stage, a
            regression), ``"pause"`` (stage -> ``"(inactive)"``), ``"inactive"``
            (``"(inactive)"`` -> ``"(inactive)"``), ``"return"`` (``"(inactive)"`` ->
            stage), ``"exit"`` (to ``"(exit)"``).

        An empty log (or one without a mapped event) gives no rows, with these columns.

    Raises
    ------
    JourneyParameterError
        For an unknown framework, ``period`` or ``unmapped`` value, a framework with a
        stage named like a pseudo-stage (``"(new)"``, ``"(inactive)"``, ``"(exit)"``), or
        a ``by`` column named like a result column.
    JourneyDataError
        When a required column is missing, ``timestamp`` is not a datetime, with
        ``unmapped="raise"`` when some events have no stage, or when a ``by`` column is
        absent (or, on an eager log, holds no value).

    Notes
    -----
    The work is linear in the log: one row per active (customer, period) is read with its
    neighbours in the customer's active periods, a gap of quiet periods adds +1 where its
    ``"(inactive)"`` -> ``"(inactive)"`` run starts and -1 where it ends, and a running sum
    over the log's periods (a small table) counts the runs; no customer is expanded over
    periods and every engine stays lazy.

    Examples
    --------
    Customer 1 sees an ad in January, visits the site in February, is quiet in March, and
    buys twice in April (the second purchase is Retention); customer 2 sees ads in January
    and March. The log ends in April.

    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-04-02",
    ...                                  "2024-04-20", "2024-01-07", "2024-03-03"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "purchase",
    ...               "ad_view", "ad_view"]})
    >>> flows = stage_flows(log)
    >>> flows.columns.tolist()
    ['period', 'source', 'target', 'count', 'move']
    >>> for row in flows.itertuples(index=False):
    ...     print(f"{row.period:%Y-%m}  {row.source} -> {row.target}: {row.count} {row.move}")
    2024-01  (new) -> Awareness: 2 new
    2024-02  Awareness -> Investigation & Consideration: 1 forward
    2024-02  Awareness -> (inactive): 1 pause
    2024-03  Investigation & Consideration -> (inactive): 1 pause
    2024-03  (inactive) -> Awareness: 1 return
    2024-04  Awareness -> (exit): 1 exit
    2024-04  (inactive) -> Retention: 1 return

    In April customer 2 has not been seen since March: an exit, as far as the log knows.
    """
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    fw = resolve_framework(framework, profile)
    clash = sorted(set(fw.stages) & {NEW, INACTIVE, EXIT})
    if clash:
        raise JourneyParameterError(
            f"stage_flows names its pseudo-stages {NEW!r}, {INACTIVE!r} and {EXIT!r}; "
            f"the framework has a stage named {clash[0]!r}: rename it"
        )
    spec = segments_of(by, by_rule, top)
    raw, eager = lazy_events(events)
    segment_names: dict[str, str] = {}
    if spec is not None:
        table, segment_names = working_names(
            segment_table(raw, spec, reserved=_FLOW_COLUMNS, check=eager)
        )
    keys = list(segment_names)
    if unmapped != "ignore":
        # assign_stages names the unmapped events; it is handed only the rows it will name,
        # so a lazy engine counts them without placing the whole log in stages.
        unknown = ~nw.col("event").is_in(list(fw.events))
        assign_stages(nw.from_native(events).filter(unknown).to_native(), fw, unmapped=unmapped)
    log = in_utc(raw.select("customer_id", "timestamp", "event"))
    cal = Calendar.of(log, period)
    k = len(fw.stages)
    ranks = {NEW: -1, **{s: i for i, s in enumerate(fw.stages)}, INACTIVE: k, EXIT: k + 1}
    span = (
        log.select(
            nw.col("timestamp").min().alias("_jl_first"),
            nw.col("timestamp").max().alias("_jl_last"),
        )
        .filter(~nw.col("_jl_last").is_null())  # an empty log has no span (and no rows)
        .select(
            cal.index(nw.col("_jl_first")).alias("_jl_first_idx"),
            cal.index(nw.col("_jl_last")).alias("_jl_last_idx"),
        )
    )
    active = _active_periods(log, cal, fw)
    if keys:
        active = active.join(table, on="customer_id", how="left")
    moves = _moves(active, span, log, k, keys)
    grid = count_up(
        span.with_columns((nw.col("_jl_last_idx") - nw.col("_jl_first_idx")).alias("_jl_upper")),
        "_jl_upper",
        "_jl_k",
        log,
    ).select(
        (nw.col("_jl_first_idx") + nw.col("_jl_k")).alias("_jl_p"),
        *(nw.lit(k, dtype=nw.Int64()).alias(c) for c in ("_jl_src", "_jl_tgt")),
        nw.lit(0, dtype=nw.Int64()).alias("_jl_w"),
    )
    if keys:  # each segment's quiet runs are summed over every period of the log
        grid = grid.join(table.select(*keys).unique(), how="cross")
    grid = grid.select("_jl_p", *keys, "_jl_src", "_jl_tgt", "_jl_w")
    src, tgt = nw.col("_jl_src"), nw.col("_jl_tgt")
    quiet = (src == k) & (tgt == k)
    counted = (
        nw.concat([moves, grid], how="vertical")
        .group_by("_jl_p", *keys, "_jl_src", "_jl_tgt")
        .agg(nw.col("_jl_w").sum())
        .with_columns(
            # (inactive) -> (inactive) rows hold +1 / -1 where gaps' quiet runs start and
            # end: their running sum over the periods is the count.
            nw.when(quiet)
            .then(nw.col("_jl_w").cum_sum().over(*keys, "_jl_src", "_jl_tgt", order_by="_jl_p"))
            .otherwise(nw.col("_jl_w"))
            .cast(nw.Int64())
            .alias("count")
        )
        .filter(nw.col("count") > 0)
    )
    names = {rank: name for name, rank in ranks.items()}
    move = (
        nw.when(src == -1)
        .then(nw.lit("new"))
        .when(tgt == k + 1)
        .then(nw.lit("exit"))
        .when(quiet)
        .then(nw.lit("inactive"))
        .when(tgt == k)
        .then(nw.lit("pause"))
        .when(src == k)
        .then(nw.lit("return"))
        .when(tgt == src)
        .then(nw.lit("stay"))
        .when(tgt > src)
        .then(nw.lit("forward"))
        .otherwise(nw.lit("back"))
    )
    result = (
        cal.with_start(counted, "_jl_p", "period")
        .with_columns(
            *(
                nw.col(rank)
                .replace_strict(
                    names, default=nw.lit(None, dtype=nw.String()), return_dtype=nw.String()
                )
                .alias(column)
                for rank, column in (("_jl_src", "source"), ("_jl_tgt", "target"))
            ),
            move.alias("move"),
        )
        .sort(*keys, "_jl_p", "_jl_src", "_jl_tgt")
        .select(*keys, *_FLOW_COLUMNS)
        .rename(segment_names)
    )
    return finish_numpy(zoned_again(result, raw), eager)


def _active_periods(log: nw.LazyFrame, cal: Calendar, fw: StageFramework) -> nw.LazyFrame:
    """One row per customer and period with a mapped touchpoint: ``_jl_j`` the period's
    number, ``_jl_s`` the furthest stage's position (0-based), and the same of the
    customer's previous active period (``_jl_prev_j``, ``_jl_prev_s``) and the number of
    their next one (``_jl_next_j``), missing when there is none.

    Stages are :func:`journey_lib.assign_stages`' placed straight from the event as
    positions, per period rather than per touchpoint: an event of ``fw.repeat`` is in its
    own stage at the customer's earliest time for it and in its repeat stage after, so a
    period holds the first stage when its earliest such event is the customer's earliest,
    and the repeat stage when its latest is later (a window over the periods, not the log).
    """
    position = {name: i for i, name in enumerate(fw.stages)}
    repeats = list(fw.repeat)
    once = {e: position.get(s, -1) for e, s in fw.events.items() if e not in fw.repeat}
    event, ts, j = nw.col("event"), nw.col("timestamp"), nw.col("_jl_j")
    periods = (
        log.select(
            "customer_id",
            cal.index(ts).alias("_jl_j"),
            # Unmapped events (and repeat events, placed below) get _UNMAPPED, below every
            # stage; a stage name outside the framework -1, as the staged log's did.
            (
                event.replace_strict(
                    once, default=nw.lit(_UNMAPPED, dtype=nw.Int64()), return_dtype=nw.Int64()
                )
                # Narwhals' pandas replace_strict fails on an empty mapping: a log whose
                # only mapped event is the repeat one (every purchase, say) has none.
                if once
                else nw.lit(_UNMAPPED, dtype=nw.Int64())
            ).alias("_jl_s"),
            *(nw.when(event == e).then(ts).alias(f"_jl_r{i}") for i, e in enumerate(repeats)),
        )
        .group_by("customer_id", "_jl_j")
        .agg(
            nw.col("_jl_s").max(),
            *(nw.col(f"_jl_r{i}").min().alias(f"_jl_lo{i}") for i in range(len(repeats))),
            *(nw.col(f"_jl_r{i}").max().alias(f"_jl_hi{i}") for i in range(len(repeats))),
        )
    )
    if repeats:
        furthest = [nw.col("_jl_s")]
        for i, e in enumerate(repeats):
            first = nw.col(f"_jl_lo{i}").min().over("customer_id")
            if e in fw.events:
                own = nw.lit(position.get(fw.events[e], -1), dtype=nw.Int64())
                furthest.append(nw.when(nw.col(f"_jl_lo{i}") == first).then(own))
            later = nw.lit(position.get(fw.repeat[e], -1), dtype=nw.Int64())
            furthest.append(nw.when(nw.col(f"_jl_hi{i}") > first).then(later))
        periods = periods.select(
            "customer_id", "_jl_j", nw.max_horizontal(*furthest).cast(nw.Int64()).alias("_jl_s")
        )
    active = ~nw.col("_jl_s").is_null() & (nw.col("_jl_s") > _UNMAPPED)
    return periods.filter(active).with_columns(
        j.shift(1).over("customer_id", order_by="_jl_j").alias("_jl_prev_j"),
        nw.col("_jl_s").shift(1).over("customer_id", order_by="_jl_j").alias("_jl_prev_s"),
        j.shift(-1).over("customer_id", order_by="_jl_j").alias("_jl_next_j"),
    )


def _moves(
    active: nw.LazyFrame, span: nw.LazyFrame, log: nw.LazyFrame, k: int, keys: list[str]
) -> nw.LazyFrame:
    """The moves each active (customer, period) row makes, as rows ``_jl_p`` (period
    number), ``_jl_src``, ``_jl_tgt`` (ranks: -1 (new), stages 0 .. k - 1, k (inactive),
    k + 1 (exit)) and ``_jl_w`` (+1, or -1 where a quiet run ends). Each row is read once,
    as four sides: 0 the move into its period; 1 the move out of it into the next period
    when the customer is not active there (a pause, or an exit within the log); 2 and 3
    the start (+1) and end (-1) of the quiet run of a gap of two or more periods. The
    segment columns ``keys`` of ``active`` are kept."""
    j, s = nw.col("_jl_j"), nw.col("_jl_s")
    prev_j, next_j = nw.col("_jl_prev_j"), nw.col("_jl_next_j")
    side = nw.col(DIGIT)
    inactive = nw.lit(k, dtype=nw.Int64())
    leaves = next_j.is_null() & (j < nw.col("_jl_last_idx"))
    pauses = ~next_j.is_null() & (next_j > j + 1)
    long_gap = ~next_j.is_null() & (next_j > j + 2)
    into = (
        nw.when(prev_j.is_null())
        .then(nw.lit(-1, dtype=nw.Int64()))
        .when(prev_j == j - 1)
        .then(nw.col("_jl_prev_s"))
        .otherwise(inactive)
    )
    return (
        active.join(span.select("_jl_last_idx"), how="cross")
        .join(small_range(log, 4), how="cross")
        .filter((side == 0) | ((side == 1) & (leaves | pauses)) | ((side >= 2) & long_gap))
        .select(
            nw.when(side == 0)
            .then(j)
            .when(side == 1)
            .then(j + 1)
            .when(side == 2)
            .then(j + 2)
            .otherwise(next_j)
            .cast(nw.Int64())
            .alias("_jl_p"),
            *keys,
            nw.when(side == 0)
            .then(into)
            .when(side == 1)
            .then(s)
            .otherwise(inactive)
            .cast(nw.Int64())
            .alias("_jl_src"),
            nw.when(side == 0)
            .then(s)
            .when((side == 1) & next_j.is_null())
            .then(nw.lit(k + 1, dtype=nw.Int64()))
            .otherwise(inactive)
            .cast(nw.Int64())
            .alias("_jl_tgt"),
            nw.when(side == 3)
            .then(nw.lit(-1, dtype=nw.Int64()))
            .otherwise(nw.lit(1, dtype=nw.Int64()))
            .alias("_jl_w"),
        )
    )
