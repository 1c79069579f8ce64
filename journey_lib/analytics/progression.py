"""How customers progress through the stages of a journey framework: :func:`stage_funnel`
(who reaches, leaves and returns to each stage) and :func:`stage_times` (each customer's
times in each stage, which the funnel counts). Customers moving between stages period by
period are :mod:`journey_lib.analytics.stage_moves`.

Written once with Narwhals: pandas, Polars, DuckDB and PySpark frames are accepted and the
result is the kind that was given (lazy stays lazy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import (
    finish,
    lazy_events,
    unpivot,
    with_microseconds,
)
from ..errors import JourneyParameterError
from ..io.profile import LogProfile
from .segments import Segments, grouped, segment_table, segments_of, working_names
from .stages import StageFramework, assign_stages, resolve_framework, segment_frameworks

__all__ = ["stage_funnel", "stage_times"]

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
    by : str, list of str or Segments, optional
        Break the funnel down by segment (see Breakdowns): a column of the log or, through
        :class:`journey_lib.Segments`, of a customer table; a list for a crossing. The
        segments are :func:`journey_lib.customer_segments`' (``by_rule``, ``(missing)``,
        ``(other)``).
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top : int or None, default 10
        Segments kept by name; customers of the others are in ``(other)``.

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
            Over the ``progressed`` customers, the median in seconds of the time from
            ``first_i`` to their first event in any later stage at or after ``first_i``
            (0 when it happens at the same instant). Customers who never move beyond the
            stage are left out rather than counted to the end of the data, as Amplitude
            and Mixpanel report time to convert over converters only; ``progressed`` is
            how many customers the median is over. The median of an even count is the mean
            of the middle two.
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
    table, names = working_names(segment_table(raw, spec, reserved=_FUNNEL_COLUMNS, check=eager))
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
    >>> import pandas as pd
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
