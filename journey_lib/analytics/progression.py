"""How customers progress through the stages of a journey framework: :func:`stage_funnel`.

Written once with Narwhals: pandas, Polars, DuckDB and PySpark frames are accepted and the
result is the kind that was given (lazy stays lazy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import finish, lazy_events, unpivot, with_microseconds
from ..io.profile import LogProfile
from .stages import StageFramework, assign_stages, resolve_framework

__all__ = ["stage_funnel"]

_SECOND_US = 1_000_000


def stage_funnel(
    events: IntoFrameT,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    *,
    profile: LogProfile | None = None,
    unmapped: Literal["warn", "raise", "ignore"] = "warn",
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
        Default: the profile's stages, else ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the stages.
    unmapped : {"warn", "raise", "ignore"}, default "warn"
        Passed to :func:`journey_lib.assign_stages`: how unmapped events are reported.
        On a lazy frame "warn" and "raise" compute one small count of unmapped events;
        "ignore" leaves everything lazy.

    Returns
    -------
    DataFrame
        One row per stage of the framework, in framework order, including stages nobody
        reached:

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
        For an unknown framework or ``unmapped`` value.
    JourneyDataError
        When a required column is missing, ``timestamp`` is not a datetime, or with
        ``unmapped="raise"`` when some events have no stage.

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
    """
    fw = resolve_framework(framework, profile)
    _, eager = lazy_events(events)
    frame, _ = lazy_events(assign_stages(events, fw, unmapped=unmapped))
    customers = _stage_times(frame, fw.stages)
    wide, cells = _stage_metrics(customers, len(fw.stages))
    return finish(_one_row_per_stage(wide, cells, fw.stages), eager)


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


def _stage_times(frame: nw.LazyFrame, stages: tuple[str, ...]) -> nw.LazyFrame:
    """One row per customer with a mapped event; for each stage i (0-based) the times in
    microseconds ``first_i`` and ``last_i`` of their first and last event in it, ``later_i``
    of their first event in any later stage and ``next_i`` of their first event in a later
    stage at or after ``first_i`` (each missing when there is none)."""
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
        *(nw.col(f"_jl_in_{i}").min().alias(f"first_{i}") for i in k),
        *(nw.col(f"_jl_in_{i}").max().alias(f"last_{i}") for i in k),
        *(nw.col(f"_jl_later_{i}").min().alias(f"later_{i}") for i in k),
        *(nw.col(f"_jl_next_{i}").min().alias(f"next_{i}") for i in k),
    )


def _stage_metrics(
    customers: nw.LazyFrame, k: int
) -> tuple[nw.LazyFrame, dict[str, tuple[str, int]]]:
    """One row holding every stage's metrics as float columns, and which (metric, step) each
    column is. An aggregation without groups gives one row even for no customers, so stages
    nobody reached still get a row."""
    one = nw.lit(1)

    def reached(i: int) -> nw.Expr:
        return ~nw.col(f"first_{i}").is_null()

    counts = customers.select(
        nw.len().alias("entered"),
        *(nw.when(reached(i)).then(one).count().alias(f"customers_{i}") for i in range(k)),
        *(
            nw.when(reached(i - 1) & reached(i)).then(one).count().alias(f"both_{i}")
            for i in range(1, k)
        ),
        *(nw.col(f"next_{i}").count().alias(f"progressed_{i}") for i in range(k)),
        *(
            (nw.col(f"next_{i}") - nw.col(f"first_{i}")).median().alias(f"median_{i}")
            for i in range(k)
        ),
        *(
            nw.when(nw.col(f"last_{i}") > nw.col(f"later_{i}"))
            .then(one)
            .count()
            .alias(f"regressed_{i}")
            for i in range(k)
        ),
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
    return counts.select(columns), cells


def _one_row_per_stage(
    wide: nw.LazyFrame, cells: dict[str, tuple[str, int]], stages: tuple[str, ...]
) -> nw.LazyFrame:
    """Reshape the one-row table of metrics into the result, one row per stage. Reshaping
    one aggregated row (rather than uniting per-stage aggregates) lets lazy engines compute
    the per-customer table once."""
    cell = nw.col("_jl_cell")
    long = (
        unpivot(wide, list(cells), index=None, variable_name="_jl_cell", value_name="_jl_value")
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
        long.group_by("step")
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
        .select("step", "stage", *_METRICS)
        .sort("step")
    )


def _ratio(numerator: str, denominator: str) -> nw.Expr:
    """numerator / denominator as a float, missing (not NaN or an error) when the
    denominator is 0."""
    return (
        nw.when(nw.col(denominator) > 0)
        .then(nw.col(numerator).cast(nw.Float64()) / nw.col(denominator).cast(nw.Float64()))
        .otherwise(nw.lit(None, dtype=nw.Float64()))
    )
