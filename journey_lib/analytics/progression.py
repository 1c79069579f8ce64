"""How customers progress through the stages of a journey framework: :func:`stage_funnel`
(who reaches, leaves and returns to each stage) and :func:`stage_flows` (customers moving
between stages period by period).

Written once with Narwhals: pandas, Polars, DuckDB and PySpark frames are accepted and the
result is the kind that was given (lazy stays lazy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd
import pyarrow as pa
from narwhals.typing import IntoFrameT

from .._engine import (
    DIGIT,
    Calendar,
    count_up,
    finish,
    in_utc,
    lazy_events,
    small_range,
    unpivot,
    with_microseconds,
)
from .._time import PERIODS
from ..errors import JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from .segments import Segments, grouped, segment_table, segments_of
from .stages import StageFramework, assign_stages, resolve_framework, segment_frameworks

__all__ = ["FLOW_MOVES", "stage_flows", "stage_funnel", "stage_times"]

_SECOND_US = 1_000_000


def stage_funnel(
    events: IntoFrameT,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    *,
    profile: LogProfile | None = None,
    unmapped: Literal["warn", "raise", "ignore"] = "warn",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Customers reaching, progressing from and returning to each stage of a framework.

    Events are placed in stages by :func:`journey_lib.assign_stages` (so a customer's second
    and later purchases are Retention); events the framework does not map are reported as
    ``unmapped`` says and then ignored. A customer **entered the journey** when they have at
    least one mapped event, and **reached** a stage when they have at least one event in it;
    stages need not be reached in order (a store purchase with no recorded ad still reaches
    Purchase). For a customer who reached stage *i*, ``first_i`` is the time of their first
    event in it.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine. An
        existing ``stage`` column is replaced by the framework's stages.
    framework : str, mapping or StageFramework, optional
        As in :func:`journey_lib.assign_stages`; its stage order is the funnel's order.
        Default: the profile's stages, else ``"customer_journey"``. With ``by`` naming one
        column it may be a framework per segment (see Breakdowns below).
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the stages, and with ``by`` its
        ``segment_frameworks`` entry for that column when ``framework`` is not given.
    unmapped : {"warn", "raise", "ignore"}, default "warn"
        Passed to :func:`journey_lib.assign_stages`: how unmapped events are reported.
        On a lazy frame "warn" and "raise" compute one small count of unmapped events;
        "ignore" leaves everything lazy.
    by, by_rule, top : optional
        A breakdown (see Breakdowns): ``by`` a column of the log or, through
        :class:`journey_lib.Segments`, of a customer table, a list for a crossing; ``by_rule``
        ("first", "last" or "at_cutoff") which value of a column that changes counts; ``top``
        (default 10) the segments kept by name, as :func:`journey_lib.customer_segments`.

    Breakdowns
    ----------
    With ``by``, every customer of the log (including those with no mapped event, who
    count in no stage) is in one segment, read from the whole log. The result has the
    ``by`` columns first (text) and one block of rows per segment, each exactly the funnel
    this function gives on that segment's customers' rows alone: every stage of the
    framework, zeros where nobody in the segment reached it, rates out of the segment's
    own customers. Blocks are sorted by segment, then step. The work is one pass over the
    log whatever the number of segments.

    **A framework per segment**: with ``by`` naming one column, ``framework`` may map
    segment values (text, as :func:`journey_lib.customer_segments` writes them,
    ``"(missing)"`` and ``"(other)"`` included) to frameworks, every value a built-in
    name, a :class:`~journey_lib.StageFramework` or a ``{stage: [events]}`` mapping (see
    :func:`journey_lib.analytics.stages.segment_frameworks`; a mapping of events to stages
    has stage names as values and is one framework). Each segment's block holds its own
    framework's stages, ``step`` numbered from 1 within it. Segments the mapping does not
    name use its ``"*"`` entry, else the default framework (the profile's stages, else
    ``"customer_journey"``). Each distinct framework costs one pass over its segments'
    rows, and ``unmapped`` reports each framework's unmapped events among those rows. On
    an eager log a named segment that is not a segment (after ``top``) is an error; on a
    lazy one it names nothing.

    Returns
    -------
    DataFrame
        One row per stage of the framework, in framework order, including stages nobody
        reached (with ``by``, one such block per segment, after the ``by`` columns; no row
        for an empty log):

        ``step``
            The stage's position in the framework, from 1.
        ``stage``
            The stage name.
        ``customers``
            Customers who reached the stage.
        ``conversion_rate``
            ``customers`` divided by the customers who entered the journey, so it lies in
            [0, 1]. (An ordered funnel, :func:`journey_lib.funnel`, divides by step 1; here
            stages are reached in any order, so the first stage can have fewer customers
            than a later one.)
        ``step_conversion_rate``
            Of the customers who reached the previous stage, the share who also reached
            this one (at any time); 1 for the first stage, as in
            :func:`journey_lib.funnel`.
        ``progressed``
            Customers who reached the stage and afterwards moved beyond it: they have an
            event in a later stage at or after ``first_i``.
        ``median_time_in_stage``
            Over the ``progressed`` customers, the median in seconds from ``first_i`` to
            their first later-stage event at or after it (0 at the same instant; the mean of
            the middle two of an even count). Customers who never move on are left out, not
            counted to the end of the data, as Amplitude and Mixpanel report time to convert.
        ``regressed``
            Customers who came back to the stage after reaching a later one: they have an
            event in this stage strictly after (``>``) an event in a later stage. Events at
            the same instant are not a regression.

        Rates and the median are missing (NaN in pandas) when their denominator is 0.

    Raises
    ------
    JourneyParameterError
        For an unknown framework or ``unmapped`` value; a ``by`` column named like a result
        column; a framework per segment without ``by``, with two ``by`` columns, mixing
        frameworks with other values, or (eager logs) naming a segment there is not.
    JourneyDataError
        When a required column is missing, ``timestamp`` is not a datetime, with
        ``unmapped="raise"`` when some events have no stage, or when a ``by`` column is
        absent (or, on an eager log, holds no value).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-04",
    ...                                  "2024-01-05", "2024-01-01", "2024-01-02"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "site_visit",
    ...               "ad_view", "site_visit"]})
    >>> funnel = stage_funnel(log)
    >>> funnel[["stage", "customers", "step_conversion_rate", "regressed"]]
                               stage  customers  step_conversion_rate  regressed
    0                      Awareness          2                   1.0          0
    1  Investigation & Consideration          2                   1.0          1
    2                       Purchase          1                   0.5          0
    3                      Retention          0                   0.0          0
    4             Advocacy & Loyalty          0                   NaN          0
    >>> (funnel["median_time_in_stage"] / 86_400).tolist()[:3]  # in days
    [1.5, 1.0, nan]

    By platform, with a framework of two stages for the app's customers:

    >>> log["platform"] = ["web", "web", "web", "web", "app", "app"]
    >>> look = {"Look": ["ad_view", "site_visit"], "Buy": ["purchase"]}
    >>> stage_funnel(log, {"app": look}, by="platform")[["platform", "stage", "customers"]]
      platform                          stage  customers
    0      app                           Look          1
    1      app                            Buy          0
    2      web                      Awareness          1
    3      web  Investigation & Consideration          1
    4      web                       Purchase          1
    5      web                      Retention          0
    6      web             Advocacy & Loyalty          0
    """
    spec = segments_of(by, by_rule, top)
    raw, eager = lazy_events(events)
    if spec is None:
        fw = resolve_framework(framework, profile)
        return finish(_funnel_block(events, fw, unmapped, None, []), eager)
    table, names = _working_names(segment_table(raw, spec, reserved=_FUNNEL_COLUMNS, check=eager))
    keys = list(names)
    if framework is None and profile is not None and len(keys) == 1:
        framework = profile.segment_frameworks.get(spec.columns[0])
    blocks = []
    for fw, people in _framework_groups(framework, profile, spec, table, eager):
        # One framework for all reads the log as given; one of some segments their rows.
        rows = (
            events
            if people is None
            else raw.join(people.select("customer_id"), on="customer_id", how="semi")
        )
        blocks.append(_funnel_block(rows, fw, unmapped, table if people is None else people, keys))
    result = blocks[0] if len(blocks) == 1 else nw.concat(blocks, how="vertical")
    return finish(result.sort(*keys, "step").rename(names), eager)


def _working_names(table: nw.LazyFrame) -> tuple[nw.LazyFrame, dict[str, str]]:
    """The segment table with its segment columns under working names (``_jl_by_0``, ...),
    so that no column of the computation can clash with them, and the names to give back."""
    names = {f"_jl_by_{i}": c for i, c in enumerate(table.columns[1:])}
    return table.rename({c: k for k, c in names.items()}), names


def _funnel_block(
    events: Any,
    fw: StageFramework,
    unmapped: str,
    people: nw.LazyFrame | None,
    keys: list[str],
) -> nw.LazyFrame:
    """The funnel of ``events`` (a native log, or a LazyFrame of its rows) in ``fw``: one
    block of stage rows, or with ``keys`` one per segment of ``people`` (the segment table
    of the customers counted, so customers without a mapped event are counted too)."""
    customers = _stage_times(events, fw, unmapped)
    if people is not None:
        customers = people.join(customers, on="customer_id", how="left")
    wide, cells = _stage_metrics(customers, len(fw.stages), keys)
    return _one_row_per_stage(wide, cells, fw.stages, keys)


def _framework_groups(
    framework: Any, profile: LogProfile | None, spec: Segments, table: nw.LazyFrame, eager: bool
) -> list[tuple[StageFramework, nw.LazyFrame | None]]:
    """Each distinct framework of a breakdown with the rows of ``table`` (the segment table)
    it counts: None for all of them (one framework for every segment)."""
    per_segment = segment_frameworks(framework, profile)
    if per_segment is None:
        return [(resolve_framework(framework, profile), None)]
    if len(spec.columns) != 1:
        raise JourneyParameterError(
            f"a framework per segment needs one by column; by is {spec.columns}"
        )
    column = table.columns[1]  # the segment column's working name
    default = per_segment.pop("*", None) or resolve_framework(None, profile)
    if eager:
        present = set(table.select(column).unique().collect()[column].to_list())
        unknown = sorted(set(per_segment) - present)
        if unknown:
            raise JourneyParameterError(
                f"framework names segment {unknown[0]!r}, which is not a segment of "
                f"by={spec.columns[0]!r} (top={spec.top}): {sorted(present)[:12]}"
            )
    distinct: list[StageFramework] = [default]
    for fw in per_segment.values():
        if fw not in distinct:
            distinct.append(fw)
    if len(distinct) == 1:
        return [(default, None)]
    groups = []
    for fw in distinct:
        others = [s for s, f in per_segment.items() if f != fw]
        own = [s for s, f in per_segment.items() if f == fw]
        # The default framework counts every segment not named for another one.
        chosen = ~nw.col(column).is_in(others) if fw == default else nw.col(column).is_in(own)
        groups.append((fw, table.filter(chosen)))
    return groups


def stage_times(
    events: IntoFrameT,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    *,
    profile: LogProfile | None = None,
    unmapped: Literal["warn", "raise", "ignore"] = "warn",
) -> IntoFrameT:
    """Each customer's first and last time in each stage, which :func:`stage_funnel` counts.

    Parameters
    ----------
    events, framework, profile, unmapped
        As in :func:`stage_funnel`; the result is the kind of ``events`` (lazy stays lazy).

    Returns
    -------
    DataFrame
        A row per customer with a mapped event (no set order): ``customer_id``, ``mapped_events``,
        and for stage *i* (its ``step``) ``first_<i>`` and ``last_<i>`` (their first and last
        event in it), ``later_<i>`` (first in a later stage), ``next_<i>`` (first in a later stage
        at or after ``first_<i>``): Int64 microseconds since 1970 UTC, missing where there is none.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "event": ["ad_view", "purchase", "purchase"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-04", "2024-01-02"], utc=True)})
    >>> times = stage_times(log, {"A": ["ad_view"], "B": ["purchase"]}).sort_values("customer_id")
    >>> print((times[["first_1", "next_1", "first_2"]] / 86_400e6 - 19_723).to_string(index=False))
     first_1  next_1  first_2
         0.0     3.0      3.0
         NaN     NaN      1.0
    """
    _, eager = lazy_events(events)
    return finish(_stage_times(events, resolve_framework(framework, profile), unmapped), eager)


#: The result's columns after ``step`` and ``stage``, in order; _COUNTS are whole numbers.
_METRICS = (
    "customers",
    "conversion_rate",
    "step_conversion_rate",
    "progressed",
    "median_time_in_stage",
    "regressed",
)
_COUNTS = ("customers", "progressed", "regressed")
_FUNNEL_COLUMNS = ("step", "stage", *_METRICS)


def _stage_times(events: Any, fw: StageFramework, unmapped: str) -> nw.LazyFrame:
    """:func:`stage_times` of ``events``: a native log, or a LazyFrame of its rows."""
    native = events.to_native() if isinstance(events, nw.LazyFrame) else events
    frame = lazy_events(assign_stages(native, fw, unmapped=unmapped))[0]
    stages = fw.stages
    t, idx = nw.col("_jl_t"), nw.col("_jl_idx")
    mapped = with_microseconds(frame.filter(~nw.col("stage").is_null()), "_jl_t").select(
        "customer_id",
        "_jl_t",
        # Every remaining stage is one of the framework's (assign_stages names no other); the
        # default is only there because DuckDB insists on one.
        nw.col("stage")
        .replace_strict(
            {name: i for i, name in enumerate(stages)},
            default=nw.lit(-1, dtype=nw.Int64()),
            return_dtype=nw.Int64(),
        )
        .alias("_jl_idx"),
    )
    k = range(len(stages))
    marked = (
        mapped.with_columns(nw.when(idx == i).then(t).alias(f"_jl_in_{i}") for i in k)
        .with_columns(
            nw.col(f"_jl_in_{i}").min().over("customer_id").alias(f"_jl_first_{i}") for i in k
        )
        .with_columns(
            *(nw.when(idx > i).then(t).alias(f"_jl_later_{i}") for i in k),
            *(
                nw.when((idx > i) & (t >= nw.col(f"_jl_first_{i}"))).then(t).alias(f"_jl_next_{i}")
                for i in k
            ),
        )
    )
    return marked.group_by("customer_id").agg(
        nw.len().alias("mapped_events"),
        *(nw.col(f"_jl_in_{i}").min().alias(f"first_{i + 1}") for i in k),
        *(nw.col(f"_jl_in_{i}").max().alias(f"last_{i + 1}") for i in k),
        *(nw.col(f"_jl_later_{i}").min().alias(f"later_{i + 1}") for i in k),
        *(nw.col(f"_jl_next_{i}").min().alias(f"next_{i + 1}") for i in k),
    )


def _stage_metrics(
    customers: nw.LazyFrame, k: int, keys: list[str]
) -> tuple[nw.LazyFrame, dict[str, tuple[str, int]]]:
    """One row per segment (``keys``; one row in all without) holding every stage's metrics
    as float columns, and which (metric, step) each column is. An aggregation without
    groups gives one row even for no customers, so stages nobody reached still get a row;
    a segment's row exists because the segment has customers."""
    one = nw.lit(1)

    def at(name: str, i: int) -> nw.Expr:  # stage_times numbers the stages from 1
        return nw.col(f"{name}_{i + 1}")

    def reached(i: int) -> nw.Expr:
        return ~at("first", i).is_null()

    # pandas' group-by aggregates plain columns only: each condition becomes a column first.
    flagged = customers.with_columns(
        *(nw.when(reached(i)).then(one).alias(f"_jl_reached_{i}") for i in range(k)),
        *(
            nw.when(reached(i - 1) & reached(i)).then(one).alias(f"_jl_both_{i}")
            for i in range(1, k)
        ),
        *((at("next", i) - at("first", i)).alias(f"_jl_wait_{i}") for i in range(k)),
        *(
            nw.when(at("last", i) > at("later", i)).then(one).alias(f"_jl_back_{i}")
            for i in range(k)
        ),
    )
    counts = grouped(
        flagged,
        keys,
        # Customers without a mapped event (in a segment's table) have no mapped_events.
        nw.col("mapped_events").count().alias("entered"),
        *(nw.col(f"_jl_reached_{i}").count().alias(f"customers_{i}") for i in range(k)),
        *(nw.col(f"_jl_both_{i}").count().alias(f"both_{i}") for i in range(1, k)),
        *(at("next", i).count().alias(f"progressed_{i}") for i in range(k)),
        *(nw.col(f"_jl_wait_{i}").median().alias(f"median_{i}") for i in range(k)),
        *(nw.col(f"_jl_back_{i}").count().alias(f"regressed_{i}") for i in range(k)),
    )
    cells: dict[str, tuple[str, int]] = {}
    columns: list[nw.Expr] = []
    for i in range(k):
        per_stage = {
            "customers": nw.col(f"customers_{i}").cast(nw.Float64()),
            "conversion_rate": _ratio(f"customers_{i}", "entered"),
            # The first stage has no previous one: its own customers are the base, giving 1.
            "step_conversion_rate": (
                _ratio(f"both_{i}", f"customers_{i - 1}")
                if i
                else _ratio("customers_0", "customers_0")
            ),
            "progressed": nw.col(f"progressed_{i}").cast(nw.Float64()),
            "median_time_in_stage": nw.col(f"median_{i}").cast(nw.Float64()) / _SECOND_US,
            "regressed": nw.col(f"regressed_{i}").cast(nw.Float64()),
        }
        for metric, expr in per_stage.items():
            cells[f"{metric}_{i}"] = (metric, i + 1)
            columns.append(expr.alias(f"{metric}_{i}"))
    return counts.select(*keys, *columns), cells


def _one_row_per_stage(
    wide: nw.LazyFrame,
    cells: dict[str, tuple[str, int]],
    stages: tuple[str, ...],
    keys: list[str],
) -> nw.LazyFrame:
    """Reshape the table of metrics (one row, or one per segment) into the result, one row
    per stage (and segment). Reshaping the aggregated rows (rather than uniting per-stage
    aggregates) lets lazy engines compute the per-customer table once."""
    cell = nw.col("_jl_cell")
    long = (
        unpivot(
            wide, list(cells), index=keys or None, variable_name="_jl_cell", value_name="_jl_value"
        )
        .with_columns(
            cell.replace_strict(
                {c: step for c, (_, step) in cells.items()},
                default=nw.lit(-1, dtype=nw.Int64()),
                return_dtype=nw.Int64(),
            ).alias("step"),
            cell.replace_strict(
                {c: metric for c, (metric, _) in cells.items()},
                default=nw.lit(None, dtype=nw.String()),
                return_dtype=nw.String(),
            ).alias("_jl_metric"),
        )
        .with_columns(
            nw.when(nw.col("_jl_metric") == m).then(nw.col("_jl_value")).alias(m) for m in _METRICS
        )
    )
    return (
        long.group_by(*keys, "step")
        .agg(nw.col(m).max() for m in _METRICS)
        .with_columns(
            nw.col("step")
            .replace_strict(
                {i + 1: s for i, s in enumerate(stages)},
                default=nw.lit(None, dtype=nw.String()),
                return_dtype=nw.String(),
            )
            .alias("stage"),
            *(nw.col(m).cast(nw.Int64()) for m in _COUNTS),
        )
        .select(*keys, "step", "stage", *_METRICS)
        .sort(*keys, "step")
    )


def _ratio(numerator: str, denominator: str) -> nw.Expr:
    """numerator / denominator as a float, missing (not NaN or an error) when the
    denominator is 0."""
    return (
        nw.when(nw.col(denominator) > 0)
        .then(nw.col(numerator).cast(nw.Float64()) / nw.col(denominator).cast(nw.Float64()))
        .otherwise(nw.lit(None, dtype=nw.Float64()))
    )


# --------------------------------------------------------------------------------------------
# stage flows
# --------------------------------------------------------------------------------------------

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
    Linear in the log and lazy on every engine: no customer is expanded over periods.

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
        table, segment_names = _working_names(
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
        counted.with_columns(
            cal.start(nw.col("_jl_p")).alias("period"),
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
    return _numpy_backed(finish(result, eager))


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


def _numpy_backed(out: Any) -> Any:
    """A pandas result with NumPy-backed columns (the period grid is exploded from a list
    literal, which pandas holds in Arrow); other results as they are."""
    if not isinstance(out, pd.DataFrame):
        return out
    for column, dtype in out.dtypes.items():
        if isinstance(dtype, pd.ArrowDtype):
            arrow = dtype.pyarrow_dtype
            if pa.types.is_timestamp(arrow):
                target: Any = (
                    pd.DatetimeTZDtype(arrow.unit, arrow.tz)
                    if arrow.tz
                    else f"datetime64[{arrow.unit}]"
                )
            elif pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
                target = "str"
            else:
                target = dtype.numpy_dtype
            out[column] = out[column].astype(target)
    return out
