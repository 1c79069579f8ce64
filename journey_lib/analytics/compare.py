"""Customer segments compared: :func:`compare_segments` puts every journey measure of each
segment beside the same measure over the rest of the customers, with an interval and a
test, and :func:`segment_scorecard` turns that long table into the wide one a manager
reads.

Definitions
-----------
Segments are those of :mod:`journey_lib.analytics.segments` (``by``, ``by_rule``, ``top``,
``(missing)``, ``(other)``), read once from the whole log: every customer of the log is in
exactly one, and every measure below counts the same customers in it. For a segment, **the
rest** is every other customer of the log, so a segment is compared with the business
without it. Each measure is the suite's own, computed for all segments at once with
``by=``:

``customers`` (count)
    The segment's customers. No interval and no test: a segment's size is not an estimate.
``reached <stage>`` (share)
    :func:`journey_lib.stage_funnel`'s ``conversion_rate``: customers with an event in the
    stage, of those with any mapped event (the entrants).
``<stage> -> <next stage>`` (share)
    Its ``step_conversion_rate``: of the customers who reached a stage, the share who also
    reached the next one.
``median time in <stage>`` (days)
    Its ``median_time_in_stage`` in days, for every stage but the last: over the customers
    who moved beyond the stage, the median time from their first event in it to their
    first event in a later stage.
``funnel conversion`` (share)
    :func:`journey_lib.funnel` with ``steps`` (else the profile's funnel): customers at the
    last step, of those at step 1. Left out without steps.
``first-period retention`` (share)
    :func:`journey_lib.retention` (``kind="on"``, any event) at offset 1, **pooled over
    cohorts**: customers back in the calendar period after their first one, of the
    customers of every cohort whose offset 1 has ended.
``churn rate`` (share)
    :func:`journey_lib.churn_rate` of the **buyers** (customers with a conversion event:
    prospects who never bought have no custom to lose), **pooled over its periods**: buyers
    lost over all reported periods, of the buyers active at the periods' starts. The
    periods and "now" are the whole log's (churn_rate run on the whole log with being a
    buyer as one more segment column), the same for every segment and its rest. A buyer is
    counted once per period they are active at its start, so ``n`` counts customer-periods;
    the interval and the test treat them as the independent trials of a discrete-time
    hazard (whose likelihood is that product of per-period trials). When there is no
    conversion event (a profile naming none) or no customer of the log has one, the row is
    instead the churn rate of **every customer** of the segment, over the same periods.
``repeat purchase rate`` (share)
    :func:`journey_lib.loyalty`'s ``overall`` definition: buyers with a conversion at a
    later instant than their first, of the buyers.
``advocacy rate`` (share)
    Its ``in_advocacy`` of the buyers: buyers with an event in the framework's last stage
    (its advocacy stage). Left out when no buyer has one (a log without advocacy events)
    or the framework has fewer than two stages (loyalty's last two are retention and
    advocacy).
``revenue per customer`` (money)
    The sum of ``value`` over the segment's events divided by its customers (buyers or
    not). Left out when the log has no ``value`` column.

The conversion event is the profile's (DESIGN principle 8: roles come from the profile); a
profile that names none gives no conversion. Only when no profile is given is it
:data:`FALLBACK_CONVERSION` (``"purchase"``, as :func:`journey_lib.loyalty`), which counts
only if the log has that event. Without a conversion (a profile naming none, or no customer
with one) there are no buyers: repeat purchase and advocacy are left out and the churn rate
is every customer's. The period is ``period``, else the profile's, else ``"month"``; the stage
framework is ``framework``, else the profile's, else the customer journey, the same for
every segment (a framework per segment, given as ``framework`` or by the profile's
``segment_frameworks`` for a ``by`` column, is refused: reach is compared on the same
stages); events it does not map are ignored.

Intervals, tests and corrections
--------------------------------
``lower`` and ``upper`` bound the segment's own value at ``confidence``:

* shares: Wilson's score interval;
* revenue per customer: Student's t interval of the mean, from the segment's customers'
  count, sum and sum of squares (aggregated in the engine);
* median times: the distribution-free order-statistic interval ``[x(j), x(n-j+1)]`` with
  ``j`` the largest rank such that a Binomial(n, 1/2) count is below ``j`` with probability
  at most ``(1 - confidence) / 2``; missing when ``n`` is too small for any such rank
  (fewer than 6 customers at 95%).

``difference`` is value minus rest and ``p_value`` the two-sided test of no difference:

* shares: Pearson's chi-square on the 2x2 table segment/rest x yes/no (the two-proportion
  z-test), or Fisher's exact test when an expected count is under 5;
* revenue per customer: Welch's unequal-variances t-test;
* median times: Mood's median test (segment against rest above and below their common
  median): it asks whether the medians differ, which is what the row reports;
* ``customers`` is not tested.

A row is tested only when both its ``n`` and the rest's reach ``min_customers``; a test
that cannot be computed (no spread on either side of a t-test) gives no p-value either.
``p_adjusted`` are the Benjamini-Hochberg adjusted p-values over every tested row of the
table (as :func:`scipy.stats.false_discovery_control` computes them), and a row is
``significant`` when its ``p_adjusted < 1 - confidence``. For independent or positively
dependent tests that keeps the expected share of false discoveries among the significant
rows at most ``1 - confidence``; a table's rows are not independent (a segment's reach of
two stages moves together), so a gap that is significant on one row often is on its
neighbours too.

Engines: the log may be pandas, Polars, DuckDB or PySpark; the counting runs there and only
per-segment aggregates and the per-customer times behind the medians are collected, never
the log. The result, a small table, is pandas.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame
from scipy import stats

from .._engine import lazy_events, money, to_pandas
from .._intervals import association_test, benjamini_hochberg, wilson
from ..errors import JourneyDataError, JourneyParameterError
from ..io.profile import FALLBACK_CONVERSION, LogProfile, from_profile
from .funnels import funnel
from .progression import stage_times
from .retention import churn_rate, retention
from .segments import (
    Segments,
    grouped,
    segment_keys,
    segment_labels,
    segment_table,
    segments_of,
    working_names,
)
from .stages import StageFramework, resolve_framework

__all__ = [
    "FALLBACK_CONVERSION",
    "KINDS",
    "RESULT_COLUMNS",
    "compare_segments",
    "format_value",
    "segment_scorecard",
]

#: The columns of :func:`compare_segments` after the segment columns.
RESULT_COLUMNS: tuple[str, ...] = (
    "metric",
    "kind",
    "value",
    "lower",
    "upper",
    "n",
    "rest",
    "difference",
    "p_value",
    "p_adjusted",
    "significant",
)
#: The ``kind`` values: what a row's value is and how it is written.
KINDS: tuple[str, ...] = ("count", "share", "days", "money")

_DAY_S = 86_400.0
# Working columns. The segment columns travel under working names too
# (segments.working_names), so a by column may take any name but the result's own.
_CONVERTED, _BUYER = "_jl_cmp_converted", "_jl_cmp_buyer"
_REVENUE, _SQUARE = "_jl_cmp_revenue", "_jl_cmp_revenue_sq"
_FIRST_BUY, _LAST_BUY = "_jl_cmp_first_buy", "_jl_cmp_last_buy"
_REPEAT, _ADVOCATE = "_jl_cmp_repeat", "_jl_cmp_advocate"


def compare_segments(
    events: IntoFrame,
    by: str | Sequence[str] | Segments,
    *,
    by_rule: str = "first",
    top: int | None = 10,
    profile: LogProfile | None = None,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    steps: Sequence[Any] | None = None,
    period: str | None = None,
    confidence: float = 0.95,
    min_customers: int = 30,
) -> pd.DataFrame:
    """Every journey measure per customer segment against the rest of the customers.

    The definitions of the measures, intervals and tests are in the module docstring of
    :mod:`journey_lib.analytics.compare`.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``, optional ``value``) of
        any engine: pandas, Polars (eager or lazy), DuckDB, PySpark.
    by : str, sequence of str or Segments
        The segment column(s) (a list: one segment per combination), or a
        :class:`journey_lib.Segments` for a customer table or a cutoff
        (``jl.Segments("segment", customers=sim.customers)``).
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top : int or None, default 10
        Segments kept by name; the customers of the others are compared as ``(other)``.
    profile : LogProfile, optional
        For the conversion event, the funnel's steps, the stages, the period and the
        inactivity of the churn rate.
    framework : str, mapping or StageFramework, optional
        The stage framework of the stage measures, as in :func:`journey_lib.assign_stages`
        (default: the profile's, else the customer journey).
    steps : sequence, optional
        The funnel's steps (default: the profile's funnel; without either, no funnel row).
    period : {"day", "week", "month", "quarter", "year"}, optional
        The calendar period of retention and churn rate (default: the profile's, else
        ``"month"``).
    confidence : float, default 0.95
        Of the intervals; ``1 - confidence`` is the false discovery rate of ``significant``.
    min_customers : int, default 30
        A row is tested only when its ``n`` and the rest's are at least this.

    Returns
    -------
    pandas.DataFrame
        One row per segment and measure, sorted by the segment columns and then in the
        order of the module docstring: the segment columns (text) and

        ``metric``
            The measure's name (``"reached Purchase"``, ``"churn rate"``, ...).
        ``kind``
            One of :data:`KINDS`: ``count``, ``share`` (0 to 1), ``days`` or ``money``.
        ``value``, ``lower``, ``upper``
            The segment's value and its interval (missing without customers behind it).
        ``n``
            The customers behind the value (its denominator; customer-periods for the
            churn rate, customers who moved on for a median time).
        ``rest``
            The same measure over every other customer.
        ``difference``
            ``value - rest`` (missing for ``customers``).
        ``p_value``, ``p_adjusted``
            The test of no difference and its Benjamini-Hochberg adjustment (missing when
            not tested).
        ``significant``
            ``p_adjusted < 1 - confidence``.

    Raises
    ------
    JourneyParameterError
        For no ``by``, a ``by`` column named like a result column, a ``confidence`` outside
        (0, 1), ``min_customers`` below 1, or a framework per segment (as ``framework``, or
        the profile's ``segment_frameworks`` for a ``by`` column without ``framework``).
    JourneyDataError
        When a ``by`` column is missing or (on an eager log) holds no value.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3, 3, 4],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02",
    ...                                  "2024-01-01", "2024-01-02", "2024-01-05"], utc=True),
    ...     "event": ["ad_view", "purchase", "ad_view", "ad_view", "site_visit", "purchase"],
    ...     "value": [0.0, 30.0, 0.0, 0.0, 0.0, 50.0],
    ...     "platform": ["web", "web", "web", "app", "app", "app"]})
    >>> table = compare_segments(log, "platform", min_customers=1)
    >>> shown = table["metric"].isin(["reached Purchase", "revenue per customer"])
    >>> print(table.loc[shown, ["platform", "metric", "value", "n", "rest"]].to_string(index=False))
    platform               metric  value  n  rest
         app     reached Purchase    0.5  2   0.5
         app revenue per customer   25.0  2  15.0
         web     reached Purchase    0.5  2   0.5
         web revenue per customer   15.0  2  25.0
    """
    spec = segments_of(by, by_rule, top)
    if spec is None:
        raise JourneyParameterError(
            "compare_segments needs by=: a segment column, a list of them or a journey_lib.Segments"
        )
    if isinstance(confidence, bool) or not 0 < confidence < 1:
        raise JourneyParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    if isinstance(min_customers, bool) or not isinstance(min_customers, int) or min_customers < 1:
        raise JourneyParameterError(
            f"min_customers must be a whole number >= 1; got {min_customers!r}"
        )
    _refuse_segment_frameworks(spec, framework, profile)
    frame, eager = lazy_events(events)
    fw = resolve_framework(framework, profile)
    table, names = working_names(segment_table(frame, spec, reserved=RESULT_COLUMNS, check=eager))
    keys = list(names)
    conversion = from_profile(profile, "conversion", None, None if profile else FALLBACK_CONVERSION)
    people = _people(frame, table, conversion)
    sizes = to_pandas(
        grouped(
            people,
            keys,
            nw.len().alias("customers"),
            *(nw.col(c).sum() for c in (_BUYER, _REPEAT, _REVENUE, _SQUARE)),
        )
    ).sort_values(keys, ignore_index=True)
    segments = sizes[keys]
    stage_counts, times = _stage_counts(frame, people, segments, fw)
    # The analytics below count the customers of this one segment table (handed over as
    # segments already assigned), so a segment is the same customers in each.
    shared = Segments.assigned(people.select("customer_id", *keys).to_native())
    buyers_only = conversion is not None and sizes[_BUYER].sum() > 0
    # The churn rate runs on the whole log (its periods and "now" are the log's), with
    # whether a customer is a buyer as one more segment column; only the buyers' blocks
    # are kept.
    churn_by = shared
    if buyers_only:
        churn_by = Segments.assigned(people.select("customer_id", *keys, _BUYER).to_native())

    shares = [_share(sizes, keys, "customers", "customers", "customers").assign(kind="count")]
    shares += _stage_rows(stage_counts, keys, fw.stages)
    funnel_steps = from_profile(profile, "funnel", steps, None)
    if funnel_steps is not None:
        shares.append(_funnel_row(events, funnel_steps, shared, segments))
    shares += _period_rows(events, shared, churn_by, profile, period, segments)
    if buyers_only:
        shares += _loyalty_rows(sizes, stage_counts, keys, len(fw.stages))
    rows = [
        _test_shares(pd.concat(shares, ignore_index=True), keys, confidence, min_customers),
        _median_rows(times, segments, fw.stages, confidence, min_customers),
    ]
    if "value" in frame.collect_schema():
        rows.append(_revenue_rows(sizes, keys, confidence, min_customers))
    out = _finish(pd.concat(rows, ignore_index=True), keys, confidence, _order(fw.stages))
    return out.rename(columns=names)


def _refuse_segment_frameworks(spec: Segments, framework: Any, profile: LogProfile | None) -> None:
    """Refuse a framework per segment from the profile: reach is compared on one set of
    stages. An explicit ``framework`` is that one set (as in :func:`journey_lib.stage_funnel`,
    where it overrides the profile's per-segment frameworks)."""
    if framework is not None or profile is None:
        return
    named = [c for c in spec.columns if c in profile.segment_frameworks]
    if named:
        raise JourneyParameterError(
            f"the profile's segment_frameworks gives by={named[0]!r} a framework per segment "
            f"({dict(profile.segment_frameworks[named[0]])}); compare_segments compares every "
            "segment on the same stages: pass framework= (say 'customer_journey')"
        )


def _order(stages: tuple[str, ...]) -> list[str]:
    """Every metric name in the order of the module docstring."""
    return [
        "customers",
        *(f"reached {s}" for s in stages),
        *(f"{a} -> {b}" for a, b in itertools.pairwise(stages)),
        *(f"median time in {s}" for s in stages[:-1]),
        "funnel conversion",
        "first-period retention",
        "churn rate",
        "repeat purchase rate",
        "advocacy rate",
        "revenue per customer",
    ]


def _people(frame: nw.LazyFrame, table: nw.LazyFrame, conversion: str | None) -> nw.LazyFrame:
    """One row per customer: their segment, whether they are a buyer and a repeat buyer (1
    or 0), their revenue and its square. One group-by over the log, one join.

    A repeat buyer is :func:`journey_lib.loyalty`'s: a conversion at a later instant than
    their first, i.e. their last conversion is later than their first."""
    schema = frame.collect_schema()
    converted = nw.lit(False) if conversion is None else nw.col("event") == conversion
    one, zero = nw.lit(1, dtype=nw.Int64()), nw.lit(0, dtype=nw.Int64())
    # pandas' group-by aggregates plain columns only: the flags are columns first.
    marked = frame.select(
        "customer_id",
        nw.when(converted).then(one).otherwise(zero).alias(_CONVERTED),
        nw.when(converted).then(nw.col("timestamp")).alias(_FIRST_BUY),
        nw.when(converted).then(nw.col("timestamp")).alias(_LAST_BUY),
        money(schema).alias(_REVENUE),
    )
    per_customer = marked.group_by("customer_id").agg(
        nw.col(_CONVERTED).max(),
        nw.col(_FIRST_BUY).min(),
        nw.col(_LAST_BUY).max(),
        nw.col(_REVENUE).sum(),
    )
    again = nw.col(_LAST_BUY) > nw.col(_FIRST_BUY)  # missing (not) without a conversion
    return table.join(per_customer, on="customer_id", how="left").select(
        "customer_id",
        *table.columns[1:],
        nw.col(_CONVERTED).alias(_BUYER),
        nw.when(again).then(one).otherwise(zero).alias(_REPEAT),
        nw.col(_REVENUE),
        (nw.col(_REVENUE) * nw.col(_REVENUE)).alias(_SQUARE),
    )


def _stage_flags(k: int) -> tuple[str, ...]:
    """The working columns :func:`_stage_counts` joins to the segment table for a framework
    of ``k`` stages (a ``by`` column may not take them): entered, reached and both per
    stage, and the wait in each stage but the last."""
    return (
        "_jl_cmp_entered",
        *(f"_jl_cmp_reached_{i}" for i in range(k)),
        *(f"_jl_cmp_both_{i}" for i in range(1, k)),
        *(f"_jl_cmp_wait_{i}" for i in range(k - 1)),
    )


def _stage_counts(
    frame: nw.LazyFrame, people: nw.LazyFrame, segments: pd.DataFrame, fw: StageFramework
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per segment (one row each, in the order of ``segments``): ``_jl_cmp_entered`` its
    customers with a mapped event, ``_jl_cmp_reached_i`` those who reached stage i
    (0-based), ``_jl_cmp_both_i`` those who reached it and the one before and
    ``_jl_cmp_advocate`` the buyers (of ``people``, from :func:`_people`) who reached the
    last stage; and one row per customer who moved beyond a stage but the last: their
    segment, ``step`` (from 1) and ``days`` in it.

    All from :func:`journey_lib.analytics.progression.stage_times`, the per-customer table
    stage_funnel counts, so every figure is stage_funnel's own definition: reached is
    ``first_i`` present, time in stage ``next_i - first_i``. The counts are aggregated in
    the engine; only the times (which the medians and Mood's test need) are collected."""
    keys = list(segments.columns)
    k = len(fw.stages)
    times = nw.from_native(stage_times(frame.to_native(), fw, unmapped="ignore"))
    times = times.lazy() if isinstance(times, nw.DataFrame) else times
    one = nw.lit(1, dtype=nw.Int64())
    entered, *rest = _stage_flags(k)
    reached, both, wait = rest[:k], rest[k : 2 * k - 1], rest[2 * k - 1 :]

    def first(i: int) -> nw.Expr:  # stage i, 0-based; stage_times numbers them from 1
        return nw.col(f"first_{i + 1}")

    # pandas' group-by aggregates plain columns only: each flag is a column first, missing
    # where it does not hold, so that a count of the column counts the customers it holds.
    flagged = people.join(
        times.select(
            "customer_id",
            one.alias(entered),
            *(nw.when(~first(i).is_null()).then(one).alias(reached[i]) for i in range(k)),
            *(
                nw.when(~first(i - 1).is_null() & ~first(i).is_null()).then(one).alias(both[i - 1])
                for i in range(1, k)
            ),
            *((nw.col(f"next_{i + 1}") - first(i)).alias(wait[i]) for i in range(k - 1)),
        ),
        on="customer_id",
        how="left",
    ).with_columns(
        # loyalty's advocate: an event in the framework's last stage (its advocacy stage).
        nw.when((nw.col(_BUYER) == 1) & ~nw.col(reached[-1]).is_null()).then(one).alias(_ADVOCATE)
    )
    counted = (entered, *reached, *both, _ADVOCATE)
    counts = to_pandas(grouped(flagged, keys, *(nw.col(c).count() for c in counted)))
    if not wait:  # a framework of one stage has no time in stage
        return _on_segments(counts, segments), pd.DataFrame(columns=[*keys, "step", "days"])
    moved = nw.any_horizontal(*(~nw.col(c).is_null() for c in wait), ignore_nulls=True)
    waits = to_pandas(flagged.filter(moved).select(*keys, *wait))
    long = waits.melt(id_vars=keys, value_vars=wait, var_name="step", value_name="days")
    long = long.dropna(subset=["days"])
    long["step"] = long["step"].map({c: i + 1 for i, c in enumerate(wait)}).astype("int64")
    long["days"] = long["days"].astype("float64") / 1e6 / _DAY_S
    return _on_segments(counts, segments), long.reset_index(drop=True)


def _on_segments(counts: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """``counts`` on every row of ``grid`` (each segment, with any further index such as
    the step), zeros where it has none: a segment without a cohort, a churn period or a
    funnel attempt still gets its row."""
    out = grid.merge(counts, on=list(grid.columns), how="left")
    numbers = [c for c in out.columns if c not in grid.columns]
    out[numbers] = out[numbers].fillna(0)
    return out.sort_values(list(grid.columns), ignore_index=True)


def _share(counts: pd.DataFrame, keys: list[str], metric: str, x: str, n: str) -> pd.DataFrame:
    """Share rows of ``metric``: numerator ``x`` and denominator ``n`` per segment."""
    return pd.DataFrame(
        {
            **{k: counts[k].to_numpy() for k in keys},
            "metric": metric,
            "kind": "share",
            "_x": counts[x].to_numpy(dtype="float64"),
            "n": counts[n].to_numpy(dtype="float64"),
        }
    )


def _stage_rows(counts: pd.DataFrame, keys: list[str], stages: tuple[str, ...]) -> list:
    """Stage reach (of the entrants) and conversion between consecutive stages, from the
    per-segment counts of :func:`_stage_counts`."""
    entered, *rest = _stage_flags(len(stages))
    reached, both = rest[: len(stages)], rest[len(stages) : 2 * len(stages) - 1]
    rows = [_share(counts, keys, f"reached {s}", reached[i], entered) for i, s in enumerate(stages)]
    for i in range(1, len(stages)):
        name = f"{stages[i - 1]} -> {stages[i]}"
        rows.append(_share(counts, keys, name, both[i - 1], reached[i - 1]))
    return rows


def _funnel_row(
    events: IntoFrame, steps: Sequence[Any], shared: Segments, segments: pd.DataFrame
) -> pd.DataFrame:
    """Funnel conversion: customers at the last step of :func:`journey_lib.funnel` over
    those at step 1, per segment."""
    keys = list(segments.columns)
    result = to_pandas(funnel(events, steps, by=shared))
    first = result[result["step"] == 1][[*keys, "customers"]]
    last = result[result["step"] == len(steps)][[*keys, "customers"]]
    ends = first.merge(last, on=keys, suffixes=("_first", "_last")).rename(
        columns={"customers_first": "_first", "customers_last": "_last"}
    )
    return _share(_on_segments(ends, segments), keys, "funnel conversion", "_last", "_first")


def _period_rows(
    events: IntoFrame,
    shared: Segments,
    churn_by: Segments,
    profile: LogProfile | None,
    period: str | None,
    segments: pd.DataFrame,
) -> list[pd.DataFrame]:
    """First-period retention (pooled over cohorts whose offset 1 has ended) and the churn
    rate (pooled over the reported periods) of ``events``, per segment. ``churn_by`` is
    ``shared`` or, for the buyers' churn rate, ``shared`` with the buyer flag as one more
    column, whose buyers' blocks are kept."""
    keys = list(segments.columns)
    kept = to_pandas(retention(events, period=period, profile=profile, by=shared))
    kept = kept[(kept["period"] == 1) & kept["complete"].astype(bool)]
    kept = kept.groupby(keys, as_index=False)[["cohort_size", "customers"]].sum()
    lost = to_pandas(churn_rate(events, period=period, profile=profile, by=churn_by))
    if _BUYER in churn_by.columns:
        lost = lost[lost[_BUYER] == "1"]  # segment_table's text of the flag 1
    lost = lost.groupby(keys, as_index=False)[["active_start", "lost"]].sum()
    retained = _on_segments(kept, segments)
    churned = _on_segments(lost, segments)
    return [
        _share(retained, keys, "first-period retention", "customers", "cohort_size"),
        _share(churned, keys, "churn rate", "lost", "active_start"),
    ]


def _loyalty_rows(
    sizes: pd.DataFrame, stage_counts: pd.DataFrame, keys: list[str], k: int
) -> list[pd.DataFrame]:
    """Repeat purchase and advocacy rates of the buyers, per segment, as
    :func:`journey_lib.loyalty`'s ``overall`` defines them (see :func:`_people` and
    :func:`_stage_counts`); advocacy only when some buyer has an event in the advocacy
    stage, which loyalty reads as the last of a framework of at least two stages."""
    counts = sizes.assign(**{_ADVOCATE: stage_counts[_ADVOCATE].to_numpy()})
    rows = [_share(counts, keys, "repeat purchase rate", _REPEAT, _BUYER)]
    if k >= 2 and counts[_ADVOCATE].sum() > 0:
        rows.append(_share(counts, keys, "advocacy rate", _ADVOCATE, _BUYER))
    return rows


def _test_shares(
    rows: pd.DataFrame, keys: list[str], confidence: float, min_customers: int
) -> pd.DataFrame:
    """Value, Wilson interval, rest and the 2x2 test of every share row, and the untested
    ``customers`` rows."""
    totals = rows.groupby("metric")[["_x", "n"]].transform("sum")
    x, n = rows["_x"].to_numpy(), rows["n"].to_numpy()
    rest_x, rest_n = totals["_x"].to_numpy() - x, totals["n"].to_numpy() - n
    count = (rows["kind"] == "count").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(count, x, x / n)
        rest = np.where(count, rest_x, rest_x / rest_n)
        lower, upper = wilson(x, n, confidence)
    no_interval = count | (n == 0)
    testable = ~count & (n >= min_customers) & (rest_n >= min_customers)
    p = np.full(len(rows), np.nan)
    if testable.any():
        p[testable] = association_test(
            x[testable], (n - x)[testable], rest_x[testable], (rest_n - rest_x)[testable]
        )[0]
    return rows[[*keys, "metric", "kind"]].assign(
        value=value,
        lower=np.where(no_interval, np.nan, lower),
        upper=np.where(no_interval, np.nan, upper),
        n=n,
        rest=rest,
        difference=np.where(count, np.nan, value - rest),
        p_value=p,
    )


def _median_rows(
    times: pd.DataFrame,
    segments: pd.DataFrame,
    stages: tuple[str, ...],
    confidence: float,
    min_customers: int,
) -> pd.DataFrame:
    """Median time in each stage but the last (which has no later stage) per segment, its
    order-statistic interval, the rest's median and Mood's median test."""
    keys = list(segments.columns)
    # Each time's segment as its row number in segments: a join, not a label per customer.
    numbered = segments.assign(_code=np.arange(len(segments)))
    codes = times[keys].merge(numbered, on=keys, how="left")["_code"].to_numpy()
    days = times["days"].to_numpy(dtype="float64")
    steps = times["step"].to_numpy()
    out = []
    # A small loop over (stage, segment) pairs of the collected times: at most top + 1
    # segments a stage, and no pass over the log.
    for step, stage in enumerate(stages[:-1], start=1):
        at_step = steps == step
        for code in range(len(segments)):
            mine = np.sort(days[at_step & (codes == code)])
            others = days[at_step & (codes != code)]
            value = float(np.median(mine)) if len(mine) else np.nan
            rest = float(np.median(others)) if len(others) else np.nan
            tested = len(mine) >= min_customers and len(others) >= min_customers
            out.append(
                (
                    *segments.iloc[code],
                    f"median time in {stage}",
                    "days",
                    value,
                    *_median_interval(mine, confidence),
                    float(len(mine)),
                    rest,
                    value - rest,
                    _mood(mine, others) if tested else np.nan,
                )
            )
    columns = [*keys, "metric", "kind", "value", "lower", "upper", "n", "rest", "difference"]
    return pd.DataFrame(out, columns=[*columns, "p_value"])


def _median_interval(ordered: np.ndarray, confidence: float) -> tuple[float, float]:
    """The order-statistic interval of the median of sorted ``ordered`` (see the module
    docstring), or missing bounds when too few values reach ``confidence``."""
    n = len(ordered)
    if n == 0:
        return np.nan, np.nan
    ranks = np.arange(n + 1)
    # j - 1 = the largest count r with P(Binomial(n, 1/2) <= r) <= (1 - confidence) / 2.
    below = ranks[stats.binom.cdf(ranks, n, 0.5) <= (1 - confidence) / 2]
    if len(below) == 0:
        return np.nan, np.nan
    j = int(below[-1]) + 1
    return float(ordered[j - 1]), float(ordered[n - j])


def _mood(a: np.ndarray, b: np.ndarray) -> float:
    """Mood's median test of ``a`` against ``b``; 1 when every value sits on one side of
    the common median (ties with it count below), where no difference can show."""
    try:
        return float(stats.median_test(a, b).pvalue)
    except ValueError:  # scipy refuses a table with an empty row: all below the median
        return 1.0


def _revenue_rows(
    sizes: pd.DataFrame, keys: list[str], confidence: float, min_customers: int
) -> pd.DataFrame:
    """Revenue per customer: the t interval of the mean and Welch's test against the rest,
    from each side's customers, sum and sum of squares."""
    n = sizes["customers"].to_numpy(dtype="float64")
    total, square = (sizes[c].to_numpy(dtype="float64") for c in (_REVENUE, _SQUARE))
    rest_n, rest_total, rest_square = n.sum() - n, total.sum() - total, square.sum() - square
    with np.errstate(invalid="ignore", divide="ignore"):
        mean, rest = total / n, rest_total / rest_n
        sd = np.sqrt(np.clip((square - total * mean) / (n - 1), 0, None))
        rest_sd = np.sqrt(np.clip((rest_square - rest_total * rest) / (rest_n - 1), 0, None))
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)
        p = stats.ttest_ind_from_stats(mean, sd, n, rest, rest_sd, rest_n, equal_var=False)[1]
    testable = (n >= min_customers) & (rest_n >= min_customers)
    return sizes[keys].assign(
        metric="revenue per customer",
        kind="money",
        value=mean,
        lower=mean - half,
        upper=mean + half,
        n=n,
        rest=rest,
        difference=mean - rest,
        p_value=np.where(testable, p, np.nan),
    )


def _finish(
    rows: pd.DataFrame, keys: list[str], confidence: float, order: list[str]
) -> pd.DataFrame:
    """Benjamini-Hochberg over every tested row, the flags, the order and the dtypes."""
    p = rows["p_value"].to_numpy(dtype="float64")
    adjusted = np.full(len(p), np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        adjusted[tested] = benjamini_hochberg(p[tested])
    rows = rows.assign(
        p_adjusted=adjusted,
        significant=adjusted < 1 - confidence,
        _order=rows["metric"].map({m: i for i, m in enumerate(order)}),
    )
    out = rows.sort_values([*keys, "_order"], kind="stable")[[*keys, *RESULT_COLUMNS]]
    out = out.reset_index(drop=True)
    out["n"] = out["n"].astype("int64")
    out[keys] = out[keys].astype("str")
    return out


def format_value(value: float, kind: str) -> str:
    """A value of :func:`compare_segments` as a reader writes it: shares as percentages with
    one decimal, days with one decimal, money with two and thousands separators, counts
    whole; a dash when missing.

    Examples
    --------
    >>> format_value(0.4125, "share"), format_value(3.25, "days"), format_value(1234.5, "money")
    ('41.2%', '3.2 d', '1,234.50')
    >>> format_value(12034, "count"), format_value(float("nan"), "share")
    ('12,034', '–')
    """
    if pd.isna(value):
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "days":
        return f"{value:,.1f} d"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{value:,.0f}"
    raise JourneyParameterError(f"kind must be one of {list(KINDS)}; got {kind!r}")


def segment_scorecard(result: IntoFrame) -> pd.DataFrame:
    """The wide view of :func:`compare_segments` a manager reads: one row per measure, one
    column per segment, each cell the formatted value with its interval, marked ▲ (▼) when
    the segment is significantly above (below) the rest of the customers.

    A crossing's segment is named by its values joined by `` / ``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "plan": ["basic", "basic", "plus", "plus"],
    ...     "metric": ["customers", "churn rate"] * 2, "kind": ["count", "share"] * 2,
    ...     "value": [120, 0.25, 80, 0.1], "lower": [None, 0.18, None, 0.05],
    ...     "upper": [None, 0.33, None, 0.19], "n": [120, 300, 80, 200],
    ...     "rest": [80, 0.1, 120, 0.25], "difference": [None, 0.15, None, -0.15],
    ...     "p_value": [None, 0.0001, None, 0.0001], "p_adjusted": [None, 0.0002, None, 0.0002],
    ...     "significant": [False, True, False, True]})
    >>> segment_scorecard(table).to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'customers': {'basic': '120', 'plus': '80'},
     'churn rate': {'basic': '25.0% (18.0–33.0%) ▲', 'plus': '10.0% (5.0–19.0%) ▼'}}
    """
    frame = to_pandas(result, what="the compare_segments result")
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise JourneyDataError(f"expected a compare_segments() result; the frame lacks {missing}")
    keys = segment_keys(frame, "metric")
    if not keys:
        raise JourneyDataError("expected a compare_segments() result; it has no segment columns")
    cells = []
    for row in frame.itertuples(index=False):
        text = format_value(row.value, row.kind)
        if not (pd.isna(row.lower) or pd.isna(row.upper)):
            low, high = format_value(row.lower, row.kind), format_value(row.upper, row.kind)
            unit = {"share": "%", "days": " d"}.get(row.kind, "")
            text += f" ({low.removesuffix(unit)}–{high})"
        if row.significant:
            text += " ▲" if row.difference > 0 else " ▼"
        cells.append(text)
    wide = frame.assign(_segment=segment_labels(frame, keys), _cell=cells).pivot(
        index="metric", columns="_segment", values="_cell"
    )
    wide = wide.reindex(index=list(dict.fromkeys(frame["metric"])))
    wide = wide.reindex(columns=list(dict.fromkeys(segment_labels(frame, keys))))
    wide.columns.name = " / ".join(keys)
    return wide
